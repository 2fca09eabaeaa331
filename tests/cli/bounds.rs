//! Bounded resources on the configuration side (issue 10): a merge request
//! can add symlinks, FIFOs, huge or deeply nested files and recursive
//! templates next to the configuration. Each bound fails at once with exit 2
//! and a message naming the file; nothing hangs, aborts or grows unbounded.

use crate::support::{TestEnv, assert_contains};
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

const DIFF: &str = "M\tpipelines/p1/a.py\n";

/// A config whose one rule renders `t.yml.tera`, with `partials` when given.
fn project(partials: Option<&str>) -> TestEnv {
    let env = TestEnv::new();
    let partials = partials.map(|p| format!("partials: [\"{p}\"]\n")).unwrap_or_default();
    env.write(
        "childgen.yml",
        format!("rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\n{partials}"),
    );
    env.write("t.yml.tera", "build-{{ pipeline_name }}:\n  script: [make]\n");
    env.write("mr.diff", DIFF);
    env
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &std::path::Path) {
    let fifo = std::ffi::CString::new(path.to_string_lossy().as_bytes()).expect("path");
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
}

/// Runs `generate --diff mr.diff` and checks it took less than 10 s.
#[track_caller]
fn generate(env: &TestEnv) -> crate::support::Output {
    let started = Instant::now();
    let out = env.run(&["generate", "--diff", "mr.diff"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    out
}

#[test]
fn partials_never_walk_through_linked_folders() {
    let env = project(Some("templates/**/*.tera"));
    env.write("templates/partials/jobs.tera", "{% macro name() %}x{% endmacro name %}");
    let folder = env.path().join("templates/partials");
    symlink(".", folder.join("loop1")).expect("symlink");
    symlink(".", folder.join("loop2")).expect("symlink");
    symlink("/", folder.join("root")).expect("symlink");
    let out = generate(&env).success();
    assert_contains(&out.stdout, "build-p1:");
}

#[test]
fn a_linked_partial_must_stay_in_the_config_folder() {
    let env = project(Some("templates/*.tera"));
    env.write("outside/secret.tera", "x");
    env.write("templates/ok.tera", "y");
    symlink(
        env.path().join("outside/secret.tera"),
        env.path().join("templates/in.tera"),
    )
    .expect("symlink");
    // Inside the config folder: fine.
    generate(&env).success();
    // Outside it (here: the system's files): refused, naming the link.
    symlink("/etc/hostname", env.path().join("templates/evil.tera")).expect("symlink");
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "templates/evil.tera is a symbolic link that leads outside");
}

#[test]
fn a_partials_walk_is_bounded_in_depth_and_entries() {
    let env = project(Some("deep/**/*.tera"));
    let deep: String = (0..20).map(|i| format!("d{i}/")).collect();
    env.write(&format!("deep/{deep}x.tera"), "x");
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "partials: `deep/**/*.tera` goes deeper than 16 folders");

    // Without `**` only the folders a match can lie in are walked: a deep,
    // unrelated tree next to the partials is not an error.
    let env = project(Some("deep/*.tera"));
    env.write("deep/p.tera", "x");
    env.write(&format!("deep/{deep}x.tera"), "x");
    generate(&env).success();

    let env = project(Some("many/*.tera"));
    std::fs::create_dir_all(env.path().join("many")).expect("mkdir");
    for i in 0..10_001 {
        std::fs::write(env.path().join(format!("many/f{i}")), "").expect("write");
    }
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "partials: `many/*.tera` walks more than 10000 entries");
}

#[test]
fn templates_are_regular_files_of_bounded_size() {
    let env = project(None);
    for (target, kind) in [("/dev/zero", "a device"), ("/tmp", "a folder")] {
        std::fs::remove_file(env.path().join("t.yml.tera")).ok();
        symlink(target, env.path().join("t.yml.tera")).expect("symlink");
        let out = generate(&env);
        assert_eq!(out.code, 2, "{}", out.snapshot());
        assert_contains(
            &out.stderr,
            &format!("t.yml.tera: a template must be a regular file, not {kind}"),
        );
    }
    std::fs::remove_file(env.path().join("t.yml.tera")).ok();
    mkfifo(&env.path().join("t.yml.tera"));
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "a template must be a regular file, not a FIFO");
    std::fs::remove_file(env.path().join("t.yml.tera")).ok();
    env.write("t.yml.tera", format!("a: 1\n{}", "#".repeat(1024 * 1024)));
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "a template is larger than 1024 KiB");
}

/// A `childgen.yml` that is a FIFO (or a device, or a folder) is reported by
/// name, never skipped into a "no rules" error nor opened (which would block).
#[test]
fn a_config_that_is_not_a_file_is_named() {
    let env = project(None);
    std::fs::remove_file(env.path().join("childgen.yml")).ok();
    mkfifo(&env.path().join("childgen.yml"));
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "childgen.yml");
    assert_contains(&out.stderr, "must be a regular file, not a FIFO");
    std::fs::remove_file(env.path().join("childgen.yml")).ok();
    std::fs::create_dir(env.path().join("childgen.yml")).expect("folder");
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "must be a regular file, not a folder");
}

/// An input that never ends stops at the limit with a sentence that says so.
#[test]
fn endless_input_stops_at_the_limit() {
    let env = project(None);
    let out = env.run(&["validate", "/dev/zero"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "/dev/zero: the input is larger than 4 MiB, the most childgen reads; give a smaller file",
    );
}

#[test]
fn deep_yaml_is_refused_before_it_is_parsed() {
    let env = project(None);
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    env.write("deep.yml", &deep);
    let started = Instant::now();
    let out = env.run(&["validate", "deep.yml"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "the YAML nests deeper than 100 levels (line 1)");

    env.write(
        "childgen.yml",
        format!("vars:\n  x: {}{}\n", "{a: ".repeat(100_000), "}".repeat(100_000)),
    );
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "childgen.yml: the YAML nests deeper than 100 levels (line 2)",
    );
}

#[test]
fn recursive_templates_and_macros_fail_instead_of_aborting() {
    let env = project(Some("lib/*.tera"));
    env.write(
        "lib/a.tera",
        "{% import \"lib/b.tera\" as b %}{% macro f() %}{{ b::g() }}{% endmacro f %}",
    );
    env.write(
        "lib/b.tera",
        "{% import \"lib/a.tera\" as a %}{% macro g() %}{{ a::f() }}{% endmacro g %}",
    );
    env.write(
        "t.yml.tera",
        "{% import \"lib/a.tera\" as a %}build-{{ pipeline_name }}:\n  script: [\"{{ a::f() }}\"]\n",
    );
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "a macro calls itself: lib/a.tera::f → lib/b.tera::g → lib/a.tera::f; Tera has no depth limit",
    );

    let env = project(None);
    env.write("t.yml.tera", "a:\n  script: [x]\n{% include \"t.yml.tera\" %}\n");
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "template t.yml.tera, line 3: templates include or extend each other in a cycle: t.yml.tera → t.yml.tera",
    );

    let env = project(None);
    env.write(
        "t.yml.tera",
        "{% macro f(n) %}{% if n > 0 %}{{ self::f(n=n - 1) }}{% endif %}{% endmacro f %}a:\n  script: [\"{{ self::f(n=3) }}\"]\n",
    );
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "a macro calls itself: t.yml.tera::f → t.yml.tera::f");
}

/// Chains and nesting without a cycle recurse in Tera as deep as they
/// go: each aborted the run with a stack overflow (exit 134) before the
/// bounds (a 4,000-macro chain, 2,000 nested `if`s, `1 + 1 + ...`,
/// parentheses, 100 templates including the next).
#[test]
fn deep_templates_fail_instead_of_aborting() {
    let macros = |n: usize| {
        let mut out: String = (0..n)
            .map(|i| {
                format!(
                    "{{% macro m{i}() %}}{{{{ self::m{}() }}}}{{% endmacro m{i} %}}\n",
                    i + 1
                )
            })
            .collect();
        out.push_str(&format!("{{% macro m{n}() %}}x{{% endmacro m{n} %}}\n"));
        out + "build-{{ pipeline_name }}:\n  script: [\"echo {{ self::m0() }}\"]\n"
    };
    let job = |expression: &str| format!("build-{{{{ pipeline_name }}}}:\n  script: [\"echo {expression}\"]\n");
    for (template, message) in [
        (
            macros(4000),
            "templates and macros include or call each other more than 64 levels deep: t.yml.tera::m0 → t.yml.tera::m1 → t.yml.tera::m2 → … → t.yml.tera::m63 → t.yml.tera::m64;",
        ),
        (
            format!(
                "{}{}{}",
                "{% if true %}".repeat(2000),
                job("x"),
                "{% endif %}".repeat(2000)
            ),
            "template t.yml.tera, line 1: tags nest more than 64 levels deep",
        ),
        (
            job(&format!("{{{{ {} }}}}", vec!["1"; 50_000].join(" + "))),
            "line 2: one tag holds more than 256 operators and brackets",
        ),
        (
            job(&format!("{{{{ {} }}}}", vec!["true"; 50_000].join(" and "))),
            "more than 256 operators",
        ),
        (
            job(&format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000))),
            "more than 256 operators",
        ),
    ] {
        let env = project(None);
        env.write("t.yml.tera", &template);
        let out = generate(&env);
        assert_eq!(out.code, 2, "{}", out.snapshot());
        assert_contains(&out.stderr, message);
    }
    let env = project(Some("lib/*.tera"));
    for i in 0..100 {
        env.write(
            &format!("lib/t{i}.tera"),
            format!("{{% include \"lib/t{}.tera\" %}}", i + 1),
        );
    }
    env.write("lib/t100.tera", "x");
    env.write("t.yml.tera", job("{% include \"lib/t0.tera\" %}"));
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "template lib/t0.tera: templates and macros include or call each other more than 64 levels deep: lib/t0.tera → lib/t1.tera",
    );
}

/// At the bounds (63 macros deep, each nesting 63 `if`s, the last one
/// printing a 255-operator sum), 32 groups render on every thread: the
/// threads' stacks are sized for the bounds.
#[test]
fn templates_at_the_depth_bounds_render_on_every_thread() {
    let mut template = String::new();
    for i in 0..63 {
        let call = if i < 62 {
            format!("{{{{ self::m{}(x=x) }}}}", i + 1)
        } else {
            format!("{{{{ {} }}}}", vec!["x"; 256].join(" + "))
        };
        template.push_str(&format!(
            "{{% macro m{i}(x) %}}{}{call}{}{{% endmacro m{i} %}}\n",
            "{% if true %}".repeat(63),
            "{% endif %}".repeat(63)
        ));
    }
    template.push_str("build-{{ pipeline_name }}:\n  script: [\"echo {{ self::m0(x=1) }}\"]\n");
    let diff: String = (0..32).map(|i| format!("M\tpipelines/p{i}/train.py\n")).collect();
    for threads in ["1", "4"] {
        let env = project(None);
        env.write("t.yml.tera", &template);
        env.write("mr.diff", &diff);
        let out = env
            .env("CHILDGEN_THREADS", threads)
            .run(&["generate", "--diff", "mr.diff"]);
        assert_eq!(out.code, 0, "{}", out.snapshot());
        assert_eq!(out.stdout.matches("echo 256").count(), 32, "{}", out.stdout);
    }
}

/// A script line that nests `$(` 60,000 deep is refused before the checks
/// that follow each substitution (their work grew with the square of the
/// depth: minutes).
#[test]
fn deeply_nested_substitutions_are_refused_at_once() {
    let env = project(None);
    let line = format!("echo {}x{}", "\"$(echo ".repeat(60_000), ")\"".repeat(60_000));
    env.write(
        "t.yml.tera",
        format!("build-{{{{ pipeline_name }}}}:\n  variables:\n    F: {{{{ files.0.path | yaml_quote }}}}\n  script:\n    - ls -l \"./$F\"\n    - '{line}'\n"),
    );
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "nests command substitutions more than 32 levels deep");
}

/// A template that leads into `/proc` (a link to `/proc/self/environ`) is
/// refused before it is read: the run's errors quote rendered lines, and
/// that file holds the job's tokens.
#[test]
fn a_template_in_proc_is_refused_and_no_token_printed() {
    let env = project(None);
    std::fs::remove_file(env.path().join("t.yml.tera")).expect("remove");
    symlink("/proc/self/environ", env.path().join("t.yml.tera")).expect("symlink");
    let out = env
        .env("CHILDGEN_TEST_CANARY", "glcbt-canary-5f1c0ffee")
        .run(&["generate", "--diff", "mr.diff"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "under /proc, which holds the system's and the job's state");
    assert!(!out.stderr.contains("glcbt-canary") && !out.stdout.contains("glcbt-canary"));
}

#[test]
fn a_partials_folder_that_leads_outside_is_refused() {
    // The glob's folder itself is a link to files outside the config folder.
    let outside = TestEnv::new();
    outside.write("s.tera", "{% macro leak() %}SECRET{% endmacro leak %}");
    let env = project(Some("templates/*.tera"));
    env.write(
        "t.yml.tera",
        "{% import \"templates/s.tera\" as s %}build-{{ pipeline_name }}:\n  script: [\"{{ s::leak() }}\"]\n",
    );
    symlink(outside.path(), env.path().join("templates")).expect("symlink");
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "partials: `templates/*.tera` starts in ");
    assert_contains(&out.stderr, "which leads outside");
    assert!(!out.stdout.contains("SECRET"), "{}", out.snapshot());

    // `..` in the pattern leaves the config folder the same way.
    let env = project(Some("../*.tera"));
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(&out.stderr, "which leads outside");

    // A linked folder that stays inside the config folder is fine.
    let env = project(Some("templates/*.tera"));
    env.write("real/p.tera", "{% macro p() %}ok{% endmacro p %}");
    symlink(env.path().join("real"), env.path().join("templates")).expect("symlink");
    generate(&env).success();
}

#[test]
fn a_macro_that_includes_a_template_calling_it_fails_instead_of_aborting() {
    let env = project(Some("lib/*.tera"));
    env.write(
        "lib/a.tera",
        "{% macro f() %}{% include \"lib/inc.tera\" %}{% endmacro f %}",
    );
    env.write("lib/inc.tera", "{% import \"lib/a.tera\" as a %}{{ a::f() }}");
    env.write(
        "t.yml.tera",
        "{% import \"lib/a.tera\" as a %}build-{{ pipeline_name }}:\n  script: [\"{{ a::f() }}\"]\n",
    );
    let out = generate(&env);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "template lib/inc.tera: a macro includes a template that calls it again: lib/inc.tera → lib/a.tera::f → lib/inc.tera",
    );

    // Including a template from a macro is fine when nothing calls back.
    let env = project(Some("lib/*.tera"));
    env.write(
        "lib/a.tera",
        "{% macro f() %}{% include \"lib/inc.tera\" %}{% endmacro f %}",
    );
    env.write("lib/inc.tera", "make");
    env.write(
        "t.yml.tera",
        "{% import \"lib/a.tera\" as a %}build-{{ pipeline_name }}:\n  script: [\"{{ a::f() }}\"]\n",
    );
    let out = generate(&env).success();
    assert_contains(&out.stdout, "- make");
}

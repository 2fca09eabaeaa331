//! Hostile file names, as a merge request can add them, through every shipped
//! template, every fixture case, the `init` starter and every pattern that
//! docs/templates.md teaches. childgen either writes a pipeline or refuses
//! with exit 2 naming the path; a written pipeline's script lines are then run
//! with bash, the way a runner would, next to a canary: no injected command
//! may run (no `PWNED` file appears) and no token may reach a command's
//! arguments or output.

use crate::support::{TestEnv, assert_contains, assert_schema_valid, root};
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Names a merge request may give a file (every one is a legal git path).
const NAMES: [&str; 20] = [
    "$(touch PWNED)",
    "`touch PWNED`",
    "x;touch PWNED",
    "x|touch PWNED",
    "x&&touch PWNED",
    "x'$(touch PWNED)'",
    "x\"$(touch PWNED)\"",
    "x'\"'\"$(touch PWNED)",
    "$CI_JOB_TOKEN",
    "${CI_JOB_TOKEN}",
    "%CI_JOB_TOKEN%",
    "x\ntouch PWNED",
    "x\ntouch PWNED\n",
    "x: y",
    "x #y",
    "x, touch PWNED, y",
    "x\\\"; touch PWNED; \\\"",
    "*",
    "~",
    "caf\u{e9} \u{2028}x",
];

const CANARY: &str = "glcbt-canary-5f1c0ffee";

/// Commands the generated jobs call, replaced by stubs that log their arguments.
const STUBS: [&str; 9] = [
    "mlctl", "docker", "pip", "python", "aws", "datacube", "make", "pytest", "mkdocs",
];

/// git's C-style quoting, as `git diff --name-status` prints such a path.
fn git_quote(path: &str) -> String {
    if !path.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x80) {
        return path.to_owned();
    }
    let mut out = String::from("\"");
    for b in path.bytes() {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b if !(0x20..0x80).contains(&b) => out.push_str(&format!("\\{b:03o}")),
            b => out.push(char::from(b)),
        }
    }
    out.push('"');
    out
}

/// A sandbox with stubbed tools, where generated script lines run.
struct Sandbox {
    env: TestEnv,
}

impl Sandbox {
    fn new(cwd: &Path) -> Self {
        let env = TestEnv::new().cwd_abs(cwd);
        for stub in STUBS {
            let path = env.write(
                &format!("bin/{stub}"),
                "#!/bin/sh\nprintf '%s\\n' \"$0 $*\" >> \"$SANDBOX/argv.log\"\n",
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        // A program that runs its arguments as a command and is in no list
        // of childgen's (`start-stop-daemon --exec`, a team's own wrapper).
        let launch = env.write("bin/launch", "#!/bin/sh\nexec \"$@\"\n");
        std::fs::set_permissions(&launch, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::create_dir_all(env.path().join("work")).expect("mkdir work");
        Sandbox { env }
    }

    fn root(&self) -> &Path {
        self.env.path()
    }

    /// Runs every script line of every job of `yaml` with bash, each line in
    /// its own shell with the job's variables (expanded as GitLab would,
    /// unless `expand: false`), and returns what the lines printed.
    fn run_jobs(&self, yaml: &str) -> String {
        let doc: Mapping = serde_yaml::from_str(yaml).expect("generated YAML parses");
        let base = self.base_env();
        let global = variables(doc.get("variables"), &base);
        let mut printed = String::new();
        for (name, job) in &doc {
            let (Some(name), Some(job)) = (name.as_str(), job.as_mapping()) else {
                continue;
            };
            if name.starts_with('.') || job.get("script").is_none() {
                continue;
            }
            let mut env = base.clone();
            env.extend(global.clone());
            for parent in extends(job) {
                if let Some(parent) = doc.get(parent.as_str()).and_then(Value::as_mapping) {
                    env.extend(variables(parent.get("variables"), &env));
                }
            }
            env.extend(variables(job.get("variables"), &env));
            for key in ["before_script", "script", "after_script"] {
                for line in lines(job.get(key)) {
                    printed.push_str(&self.bash(&line, &env));
                }
            }
            // And as the runner runs them: nested lists flattened,
            // `before_script` and `script` joined into one shell script.
            let joined: Vec<String> = ["before_script", "script"]
                .iter()
                .flat_map(|key| lines(job.get(*key)))
                .collect();
            printed.push_str(&self.bash(&joined.join("\n"), &env));
        }
        printed
    }

    fn base_env(&self) -> BTreeMap<String, String> {
        let path = format!(
            "{}:{}",
            self.root().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        [
            ("PATH", path),
            ("HOME", self.root().display().to_string()),
            ("SANDBOX", self.root().display().to_string()),
            ("CI_JOB_TOKEN", CANARY.to_owned()),
            ("CI_REGISTRY_PASSWORD", "registry-password-the-template-uses".to_owned()),
            ("CI_REGISTRY_IMAGE", "registry.example.com/g/p".to_owned()),
            ("CI_COMMIT_SHORT_SHA", "abc1234".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn bash(&self, line: &str, env: &BTreeMap<String, String>) -> String {
        let out = Command::new("bash")
            .arg("-c")
            .arg(line)
            .current_dir(self.root().join("work"))
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Panics unless no injected command ran and no token leaked.
    #[track_caller]
    fn assert_untouched(&self, printed: &str, what: &str) {
        let mut pwned = Vec::new();
        find(self.root(), "PWNED", &mut pwned);
        assert!(pwned.is_empty(), "{what}: an injected command ran: {pwned:?}");
        let argv = std::fs::read_to_string(self.root().join("argv.log")).unwrap_or_default();
        assert!(!argv.contains(CANARY), "{what}: a token reached a command:\n{argv}");
        assert!(!printed.contains(CANARY), "{what}: a token was printed:\n{printed}");
    }
}

/// Files named `name` below `dir`.
fn find(dir: &Path, name: &str, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains(name) {
            found.push(path.display().to_string());
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find(&path, name, found);
        }
    }
}

/// A job's `extends`, as a list.
fn extends(job: &Mapping) -> Vec<String> {
    match job.get("extends") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Script lines (GitLab flattens nested lists).
fn lines(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items.iter().flat_map(|i| lines(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// A `variables:` mapping as GitLab hands it to the job: `$NAME`, `${NAME}`
/// and `%NAME%` expanded from `env`, unless `expand: false`.
fn variables(value: Option<&Value>, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let reference =
        regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|%([A-Za-z_][A-Za-z0-9_]*)%")
            .expect("regex");
    let mut out = BTreeMap::new();
    for (key, value) in value.and_then(Value::as_mapping).into_iter().flatten() {
        let Some(key) = key.as_str() else { continue };
        let (text, expand) = match value {
            Value::Mapping(m) => (
                m.get("value").and_then(Value::as_str).unwrap_or_default().to_owned(),
                m.get("expand").and_then(Value::as_bool).unwrap_or(true),
            ),
            Value::String(s) => (s.clone(), true),
            other => (serde_yaml::to_string(other).unwrap_or_default().trim().to_owned(), true),
        };
        let text = if expand {
            reference
                .replace_all(&text, |c: &regex::Captures| {
                    let name = c
                        .get(1)
                        .or_else(|| c.get(2))
                        .or_else(|| c.get(3))
                        .map_or("", |m| m.as_str());
                    env.get(name).cloned().unwrap_or_default()
                })
                .into_owned()
        } else {
            text
        };
        out.insert(key.to_owned(), text);
    }
    out
}

/// What a run of childgen on a hostile listing must be: a pipeline whose
/// scripts are harmless, or a refusal naming the path.
#[track_caller]
fn attack(config: &Path, cwd: &Path, listing: &str, must_render: bool, what: &str) -> Outcome {
    let sandbox = Sandbox::new(cwd);
    let diff = sandbox.env.write("mr.diff", listing);
    let out = sandbox.env.run(&[
        "generate",
        "--config",
        &config.display().to_string(),
        "--diff",
        &diff.display().to_string(),
    ]);
    let outcome = match out.code {
        0 => {
            assert_schema_valid(&out.stdout);
            let printed = sandbox.run_jobs(&out.stdout);
            sandbox.assert_untouched(&printed, what);
            Outcome::Rendered
        }
        2 if !must_render => {
            assert!(
                out.stderr.contains("the changed path") && out.stderr.contains("would change"),
                "{what}: exit 2 without naming the path:\n{}",
                out.stderr
            );
            sandbox.assert_untouched("", what);
            Outcome::Refused
        }
        _ => panic!("{what}:\n{listing}\n{}", out.snapshot()),
    };
    assert!(!out.stdout.contains(CANARY) && !out.stderr.contains(CANARY));
    outcome
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Rendered,
    Refused,
}

/// A listing that adds `name` (with `ext`) in `dir`, and renames a hostile
/// file onto `target` (so the old path reaches `old_path`).
fn listing(dir: &str, name: &str, ext: &str, target: &str) -> String {
    let added = format!("{dir}/{name}{ext}");
    let moved = format!("{dir}/{name}-old{ext}");
    format!(
        "A\t{}\nR087\t{}\t{}\n",
        git_quote(&added),
        git_quote(&moved),
        git_quote(target)
    )
}

/// A template whose job puts the file's name in the variable `F` (as the
/// documented pattern does) and runs `lines` (YAML single-quoted).
fn with_f(lines: &[&str]) -> String {
    let mut template = "{%- set name = files.0.path | split(pat=\"/\") | last %}\nj-{{ pipeline_name }}:\n  variables:\n    F:\n      value: {{ name | yaml_quote }}\n      expand: false\n  script:\n".to_owned();
    for line in lines {
        template.push_str(&format!("    - '{}'\n", line.replace('\'', "''")));
    }
    template
}

#[test]
fn the_harness_sees_an_injection_and_a_leak() {
    let sandbox = Sandbox::new(&root());
    let printed = sandbox.run_jobs("j:\n  variables: {T: $CI_JOB_TOKEN}\n  script:\n    - echo \"$(touch PWNED)\"\n");
    let mut pwned = Vec::new();
    find(sandbox.root(), "PWNED", &mut pwned);
    assert_eq!(pwned.len(), 1, "the canary command did not run");
    let printed_token = sandbox.run_jobs("j:\n  variables: {T: $CI_JOB_TOKEN}\n  script:\n    - mlctl \"$T\"\n");
    let argv = std::fs::read_to_string(sandbox.root().join("argv.log")).unwrap_or_default();
    assert!(argv.contains(CANARY), "{argv}{printed}{printed_token}");
}

#[test]
fn the_pattern_the_issue_reproduced_is_refused() {
    let env = TestEnv::new();
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\n",
    );
    env.write(
        "t.yml.tera",
        "show-{{ pipeline_name }}:\n  script:\n{%- for f in files %}\n    - echo {{ f.path | yaml_quote }}\n{%- endfor %}\n",
    );
    let config = env.path().join("childgen.yml");
    let refused = attack(
        &config,
        env.path(),
        "A\tpipelines/p1/s1/$(touch PWNED).yaml\n",
        false,
        "echo yaml_quote",
    );
    assert_eq!(refused, Outcome::Refused);
    let env = env.stdin("A\tpipelines/p1/s1/$(touch PWNED).yaml\n");
    let out = env.run(&["generate", "--diff", "-", "-o", "out.yml"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "error: template t.yml.tera, group pipeline_name=p1: the changed path \"pipelines/p1/s1/$(touch PWNED).yaml\" would change `show-p1.script[0]`: it adds `$(touch PWNED).yaml\"`, which the shell would act on.",
    );
    assert!(!env.path().join("out.yml").exists(), "a refused run wrote its output");
}

#[test]
fn shipped_templates_render_hostile_names_harmlessly() {
    let monorepo = root().join("fixtures/monorepo");
    let config = monorepo.join("childgen.yml");
    for name in NAMES {
        let targets = [
            ("pipelines/churn/train/src", ".py", "pipelines/churn/train/src/model.py"),
            ("pipelines/churn/train", ".yaml", "pipelines/churn/train/datacube.yaml"),
            (
                "data/ml/datasets/churn/v3",
                ".csv",
                "data/ml/datasets/churn/v3/part-1.csv",
            ),
            ("docs", ".md", "docs/index.md"),
        ];
        for (dir, ext, target) in targets {
            let what = format!("monorepo, {dir}, name {name:?}");
            attack(&config, &monorepo, &listing(dir, name, ext, target), true, &what);
        }
        // A deleted stage's teardown jobs get the hostile names too.
        let deleted = format!(
            "D\t{}\nD\tpipelines/fraud/score/modelserving.yaml\n",
            git_quote(&format!("pipelines/fraud/score/src/{name}.py"))
        );
        attack(&config, &monorepo, &deleted, true, &format!("teardown, {name:?}"));
    }
}

#[test]
fn the_init_starter_renders_hostile_names_harmlessly() {
    let env = TestEnv::new();
    env.run(&["init"]).success();
    let config = env.path().join("childgen.yml");
    for name in NAMES {
        let what = format!("init starter, name {name:?}");
        let listing = listing("pipelines/p1/s1", name, ".py", "pipelines/p1/s1/main.py");
        attack(&config, env.path(), &listing, true, &what);
        let deleted = format!("D\t{}\n", git_quote(&format!("pipelines/p1/s2/{name}.py")));
        attack(&config, env.path(), &deleted, true, &format!("{what}, deleted"));
    }
}

/// Every fixture case uses a safe pattern: it renders each hostile name
/// (but a line break) and its jobs run harmlessly.
#[test]
fn fixture_cases_render_hostile_names_harmlessly() {
    for case in std::fs::read_dir(root().join("fixtures/cases"))
        .expect("cases")
        .flatten()
    {
        let dir = case.path();
        let diff = std::fs::read_to_string(dir.join("diff.txt")).expect("diff.txt");
        for name in NAMES {
            // Each line of the case again, with the same status and hostile
            // names in the same folders, so every rule and branch sees them.
            let mut listing = diff.clone();
            for line in diff.lines() {
                let mut fields = line.split('\t');
                let status = fields.next().unwrap_or_default();
                listing.push_str(status);
                for (i, path) in fields.enumerate() {
                    let path = path.trim_matches('"');
                    let hostile = match path.rsplit_once('/') {
                        Some((folder, _)) => format!("{folder}/{name}-{i}.yaml"),
                        None => format!("{name}-{i}.yaml"),
                    };
                    listing.push_str(&format!("\t{}", git_quote(&hostile)));
                }
                listing.push('\n');
            }
            let what = format!("case {}, name {name:?}", dir.display());
            // A line break may reach no script (it would split the path for
            // whatever reads lines): the one refusal a safe pattern meets.
            attack(&dir.join("childgen.yml"), &dir, &listing, !name.contains('\n'), &what);
        }
    }
}

#[test]
fn documented_patterns_render_hostile_names_harmlessly() {
    let docs = std::fs::read_to_string(root().join("docs/templates.md")).expect("docs/templates.md");
    let blocks: Vec<&str> = docs
        .split("```tera\n")
        .skip(1)
        .filter_map(|rest| rest.split("\n```").next())
        .collect();
    assert!(blocks.len() >= 3, "docs/templates.md teaches {} patterns", blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let env = TestEnv::new();
        env.write(
            "childgen.yml",
            "rules:\n  - stop: \"pipeline_name:pipelines,stage_name::pipelines\"\n    template: t.yml.tera\n",
        );
        env.write("t.yml.tera", format!("{block}\n"));
        let config = env.path().join("childgen.yml");
        for name in NAMES {
            let what = format!("docs/templates.md pattern {}, name {name:?}:\n{block}", i + 1);
            let listing = listing("pipelines/p1/s1", name, ".py", "pipelines/p1/s1/main.py");
            // A name with a line break may not reach a script at all
            // (whatever reads lines would read two paths).
            let line_break = name.contains(['\n', '\r']);
            if attack(&config, env.path(), &listing, !line_break, &what) == Outcome::Refused {
                let diff = env.write("mr.diff", &listing);
                let out = env.run(&["generate", "--diff", &diff.display().to_string()]);
                assert_contains(&out.stderr, "holds a line break");
            }
        }
    }
}

/// The second and third red-team passes (issue 10): contexts where bash
/// evaluates text that the shell comparison read as data, quotes left open
/// across items the runner joins, variable chains and `matrix` variables.
/// Each is refused. Against the code before the second pass's fix, this test
/// fails: the sandbox finds PWNED. The third pass's cases were run by hand
/// (with numeric folders, so that bash's arithmetic reaches the payload).
#[test]
fn evaluating_contexts_and_open_quotes_are_refused() {
    let via_variable = |line: &str| {
        format!(
            "{{%- set name = files.0.path | split(pat=\"/\") | last %}}\nj-{{{{ pipeline_name }}}}:\n  variables:\n    F:\n      value: {{{{ name | yaml_quote }}}}\n      expand: false\n  script:\n    - {line}\n"
        )
    };
    let subscript = "x[$(touch PWNED)]";
    let cases = [
        (via_variable("seen[\"$F\"]=1"), subscript, "reaches the variable `F`"),
        (via_variable("echo \"${!F}\""), subscript, "reaches the variable `F`"),
        (via_variable("echo $[ \"$F\" ]"), subscript, "reaches the variable `F`"),
        (via_variable("test -v \"$F\" || true"), subscript, "reaches the variable `F`"),
        (via_variable("echo \"${seen[$F]}\""), subscript, "reaches the variable `F`"),
        (via_variable("sleep 0 & wait -n -p \"$F\""), subscript, "reaches the variable `F`"),
        (via_variable("trap \"$F\" EXIT"), subscript, "reaches the variable `F`"),
        // The third pass: a variable that refers to one holding a path holds
        // it too; `parallel: matrix` entries are variables.
        (
            "j-{{ pipeline_name }}:\n  variables:\n    FIRST_FILE:\n      value: {{ files.0.path | yaml_quote }}\n      expand: false\n    TARGET: \"$FIRST_FILE\"\n  script:\n    - echo \"$FIRST_FILE\"\n    - '[[ \"$TARGET\" -eq 0 ]] || true'\n"
                .to_owned(),
            "1/a[`touch PWNED`]",
            "reaches the variable `TARGET`",
        ),
        (
            "j-{{ pipeline_name }}:\n  variables:\n    F:\n      value: {{ files.0.path | yaml_quote }}\n      expand: false\n    G: \"${F}\"\n    H: \"x$G\"\n  script:\n    - ls -l -- $H\n"
                .to_owned(),
            "x --upload-file /etc/passwd",
            "reaches the variable `H`",
        ),
        (
            "j-{{ pipeline_name }}:\n  parallel:\n    matrix:\n      - FILE: [{% for f in files %}{{ f.path | yaml_quote }}{% endfor %}]\n  script:\n    - '(( FILE )) || true'\n"
                .to_owned(),
            "1/a[`touch PWNED`]",
            "reaches the variable `FILE`",
        ),
        (
            "{%- set word = files.0.path | split(pat=\"/\") | last | sh_quote %}\nj-{{ pipeline_name }}:\n  script:\n    - {{ \"seen[\" ~ word ~ \"]=1\" | yaml_quote }}\n"
                .to_owned(),
            subscript,
            "which the shell would act on",
        ),
        (
            "j-{{ pipeline_name }}:\n  script:\n    - 'export SUMMARY=\"Changed files:'\n{%- for f in files %}\n    - {{ \"printf '%s\\n' \" ~ f.path | sh_quote | yaml_quote }}\n{%- endfor %}\n    - 'end of list\"'\n"
                .to_owned(),
            "$(touch PWNED)",
            "leaves a quote",
        ),
        (
            "j-{{ pipeline_name }}:\n  script:\n    - ['echo \"Changed files:']\n{%- for f in files %}\n    - [{{ \"printf '%s\\n' \" ~ f.path | sh_quote | yaml_quote }}]\n{%- endfor %}\n    - ['end of list\"']\n"
                .to_owned(),
            "$(touch PWNED)",
            "leaves a quote",
        ),
        (
            "j-{{ pipeline_name }}:\n  before_script:\n    - 'echo \"Changed files:'\n  script:\n{%- for f in files %}\n    - {{ \"printf '%s\\n' \" ~ f.path | sh_quote | yaml_quote }}\n{%- endfor %}\n    - 'end of list\"'\n"
                .to_owned(),
            "$(touch PWNED)",
            "leaves a quote",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The fourth red-team pass: each of these exited 0 and ran the canary in
/// bash with the code before it.
#[test]
fn the_fourth_passes_bypasses_are_refused() {
    // Script lines (YAML single-quoted) after a variable `F` that holds the
    // file's name, as the documented pattern sets it.
    let subscript = "a[$(touch PWNED)]";
    let evaluating = "reaches the variable `F` on a line where bash evaluates text";
    let cases = [
        // A variable with the integer attribute evaluates what it is given.
        (with_f(&["declare -i COUNT=0", "COUNT=\"$F\" || true"]), subscript, "the integer attribute"),
        (with_f(&["OPTIND=\"$F\""]), subscript, "the shell variable `OPTIND`"),
        (with_f(&["RANDOM=\"$F\""]), subscript, "the shell variable `RANDOM`"),
        (with_f(&["SRANDOM=\"$F\""]), subscript, "the shell variable `SRANDOM`"),
        (with_f(&["HISTCMD=\"$F\""]), subscript, "the shell variable `HISTCMD`"),
        // The runner exports every variable: `export OPTIND=$'...'` evaluates.
        (
            "{%- set name = files.0.path | split(pat=\"/\") | last %}\nj-{{ pipeline_name }}:\n  variables:\n    OPTIND:\n      value: {{ name | yaml_quote }}\n      expand: false\n  script:\n    - echo ok\n".to_owned(),
            subscript,
            "reaches the variable `OPTIND`, which bash or a common tool acts on",
        ),
        // Substring offsets and lengths are arithmetic.
        (with_f(&["X=abcdef", "echo \"${X:F}\""]), subscript, evaluating),
        (with_f(&["echo \"${@:F}\""]), subscript, evaluating),
        (with_f(&["X=abcdef", "echo \"${X: -F}\""]), subscript, evaluating),
        (with_f(&["X=abcdef", "echo \"${X:0:F}\""]), subscript, evaluating),
        // A builtin's name quoted, escaped, or named by a variable.
        (with_f(&["\"eval\" \"$F\""]), "x$(touch PWNED)", evaluating),
        (with_f(&["\\eval \"$F\""]), "x$(touch PWNED)", evaluating),
        (with_f(&["builtin 'eval' \"$F\""]), "x$(touch PWNED)", evaluating),
        (with_f(&["cmd=eval; $cmd \"$F\""]), "x$(touch PWNED)", evaluating),
        (with_f(&["\"let\" \"$F\" || true"]), subscript, evaluating),
        (with_f(&["\"declare\" -i N=\"$F\""]), subscript, "the integer attribute"),
        (with_f(&["\"read\" \"$F\" < /dev/null || true"]), subscript, evaluating),
        (with_f(&["'test' -v \"$F\" || true"]), subscript, evaluating),
        (with_f(&["\"[\" -v \"$F\" ] || true"]), subscript, evaluating),
        (with_f(&["\"printf\" -v \"$F\" x"]), subscript, evaluating),
        // Found while closing the above: positional
        // parameters set by `set --` or a function call, a quoted `$cmd`.
        (with_f(&["set -- \"$F\"", "echo $(( $1 )) || true"]), subscript, "reaches the variable `1`"),
        (with_f(&["f() { echo $(( $1 )); }", "f \"$F\" || true"]), subscript, "reaches the variable `1`"),
        (with_f(&["cmd=eval", "\"$cmd\" \"$F\""]), "x$(touch PWNED)", evaluating),
        // A shell variable set from a path holds the path.
        (
            "{%- for f in files %}{%- set word = f.path | sh_quote %}\nj-{{ pipeline_name }}-{{ loop.index }}:\n  script:\n    - {{ \"FILE=\" ~ word | yaml_quote }}\n    - echo \"checking $FILE\"\n    - '[[ \"$FILE\" -ot Makefile ]] || [[ \"$FILE\" -eq 0 ]] || true'\n{%- endfor %}\n".to_owned(),
            subscript,
            "reaches the variable `FILE` on a line where bash evaluates text",
        ),
        (
            "{%- for f in files %}{%- set word = f.path | sh_quote %}\nj-{{ pipeline_name }}-{{ loop.index }}:\n  script:\n    - {{ \"FILE=\" ~ word | yaml_quote }}\n    - 'eval \"ls -d -- $FILE\" || true'\n{%- endfor %}\n".to_owned(),
            "x$(touch PWNED)",
            "",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The fifth red-team pass: each of these exited 0 and, run in bash, ran
/// the canary or printed the token.
#[test]
fn the_fifth_passes_bypasses_are_refused() {
    let inline = "reaches a command that runs text as code";
    let subscript = "a[$(touch PWNED)]";
    let mut cases = vec![
        (with_f(&["sh -c \"ls -- $F\" || true"]), "x;echo $CI_JOB_TOKEN", inline),
        (with_f(&["bash -c \"ls -- $F\" || true"]), "x$(touch PWNED)", inline),
        (with_f(&["command -p sh -c \"echo $F\""]), "x;touch PWNED", inline),
        (with_f(&["env -- bash -c \"echo $F\""]), subscript, inline),
        (with_f(&["su -c \"echo $F\" \"$(id -un)\""]), "x;touch PWNED", inline),
        (with_f(&["source <(printf \"echo %s\\n\" \"$F\")"]), "x$(touch PWNED)", inline),
        (with_f(&[". /dev/stdin <<< \"echo $F\""]), "x$(touch PWNED)", inline),
        (with_f(&["awk \"BEGIN { print \\\"$F\\\" }\""]), "x\";system(\"touch PWNED\");\"", inline),
        (with_f(&["python3 -c \"print(\\\"checking\\\", '$F')\""]), "x'+__import__('os').system('touch PWNED')+'", inline),
        // Through a file: the path is written, then read back.
        (
            with_f(&["printf \"%s\\n\" \"$F\" > list.txt", "while IFS= read -r n; do echo $(( n + 1 )); done < list.txt || true"]),
            subscript,
            "reaches the variable `n`",
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" > l.txt", "mapfile -t L < l.txt", "echo $(( L + 1 )) || true"]),
            subscript,
            "reaches the variable `L`",
        ),
        (
            with_f(&["printf \"echo %s\\n\" \"$F\" > gen.sh", ". ./gen.sh"]),
            "x$(touch PWNED)",
            "which runs what it reads or a file a script wrote as code",
        ),
        // Arithmetic follows a name to its value: `G=F`, then `G`.
        (with_f(&["G=F", "echo $(( G + 1 ))"]), subscript, "reaches the variable `G`"),
        // `declare` reached through a variable.
        (with_f(&["d=declare n=COUNT", "$d -i \"$n\"", "COUNT=\"$F\" || true"]), subscript, "the integer attribute"),
        // Variables tools act on.
        (
            "{%- set name = files.0.path | split(pat=\"/\") | last %}\nj-{{ pipeline_name }}:\n  variables:\n    GIT_SSH_COMMAND:\n      value: {{ name | yaml_quote }}\n      expand: false\n  script:\n    - git ls-remote ssh://example.invalid/repo.git || true\n".to_owned(),
            "touch PWNED;:",
            "reaches the variable `GIT_SSH_COMMAND`",
        ),
        // `!reference` splices any list into a script.
        (
            "{%- set name = files.0.path | split(pat=\"/\") | last %}\n.helpers-{{ pipeline_name }}:\n  commands:\n    - 'eval \"echo $F\"'\nj-{{ pipeline_name }}:\n  variables:\n    F:\n      value: {{ name | yaml_quote }}\n      expand: false\n  script:\n    - !reference [.helpers-{{ pipeline_name }}, commands]\n".to_owned(),
            "x$(touch PWNED)",
            "reaches the variable `F` on a line where bash evaluates text",
        ),
    ];
    // The documented `sh_quote` pattern writing a list that `xargs sh -c` reads.
    cases.push((
        "lint-{{ pipeline_name }}:\n  script:\n{%- for f in files %}\n{%- set word = f.path | sh_quote %}\n    - {{ \"printf '%s\\n' \" ~ word ~ \" >> changed.txt\" | yaml_quote }}\n{%- endfor %}\n    - xargs -I{} sh -c 'echo linting {}' < changed.txt\n".to_owned(),
        "x;touch PWNED",
        "which runs what it reads or a file a script wrote as code",
    ));
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The sixth red-team pass: bypasses of the fifth pass's checks (each
/// exited 0 and printed the token or ran the canary in bash).
#[test]
fn the_sixth_passes_bypasses_are_refused() {
    let name = "x;touch PWNED;echo $CI_JOB_TOKEN;#";
    let inline = "reaches a command that runs text as code";
    let fed = "which runs what it reads or a file a script wrote as code";
    let cases = [
        (with_f(&["bash -o pipefail -c \"echo checking $F\""]), name, inline),
        (with_f(&["bash -O extglob -c \"echo checking $F\""]), name, inline),
        (with_f(&["su root -c \"echo checking $F\""]), name, inline),
        (with_f(&["python3 -X utf8 -c \"print(\\\"$F\\\")\""]), name, inline),
        (with_f(&["python3.11 -c \"print(\\\"$F\\\")\""]), name, inline),
        (with_f(&["perl -I lib -e \"print q($F)\""]), name, inline),
        // Perl's `<>` opens a path ending in `|` as a command.
        (with_f(&["perl count.pl \"$F\""]), name, inline),
        (with_f(&["printf \"echo %s\\n\" \"$F\" | bash -"]), name, inline),
        (with_f(&["script -qc \"echo checking $F\" /dev/null"]), name, inline),
        (with_f(&["flock /tmp/l -c \"echo checking $F\""]), name, inline),
        (with_f(&["git -c alias.chk=\"!echo checking $F\" chk"]), name, inline),
        (
            with_f(&["make --eval=\"all: ; @echo checking $F\" -f /dev/null all"]),
            name,
            inline,
        ),
        (with_f(&["printf \"%s\\n\" \"$F\" | sed \"s/^/echo /e\""]), name, inline),
        // Through files and output no check follows, into a shell.
        (
            with_f(&[
                "printf \"%s\\n\" \"$F\" | sort -o changed.txt",
                "xargs -I{} sh -c \"echo checking {}\" < changed.txt",
            ]),
            name,
            fed,
        ),
        (
            with_f(&[
                "env > env.txt",
                "grep ^F= env.txt | cut -d= -f2- | xargs -I{} sh -c \"echo {}\"",
            ]),
            name,
            "",
        ),
        (
            with_f(&["printenv F | xargs -I{} sh -c \"echo checking {}\""]),
            name,
            "",
        ),
        (
            with_f(&["git log -1 --format=%s | xargs -I{} sh -c \"echo {}\""]),
            name,
            fed,
        ),
        // A file a script wrote, run by an interpreter or make.
        (
            with_f(&[
                "echo \"import settings\" > train.py",
                "printf \"MODEL = \\\"%s\\\"\\n\" \"$F\" > settings.py",
                "python3 train.py",
            ]),
            name,
            fed,
        ),
        (
            with_f(&["printf \"all:\\n\\t@echo %s\\n\" \"$F\" > gen.mk", "make -f gen.mk"]),
            name,
            fed,
        ),
        (
            "{%- set name = files.0.path | split(pat=\"/\") | last %}\nj-{{ pipeline_name }}:\n  variables:\n    TAR_OPTIONS:\n      value: {{ name | yaml_quote }}\n      expand: false\n  script:\n    - tar -cf a.tar a.txt || true\n".to_owned(),
            "--checkpoint=1 --checkpoint-action=exec=touch PWNED",
            "reaches the variable `TAR_OPTIONS`",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The seventh red-team pass: bypasses (sixteen of them opened by the
/// sixth pass's narrowing) that exited 0 and printed the token in bash.
#[test]
fn the_seventh_passes_bypasses_are_refused() {
    let a = "a[$(touch PWNED; printenv CI_JOB_TOKEN >&2)]";
    let b = "([$(touch PWNED; printenv CI_JOB_TOKEN >&2)]=1)";
    let py = "__import__('os').system('touch PWNED; printenv CI_JOB_TOKEN')";
    let cases = [
        // Stdin from a here-string, a redirection, or a pipe into `bash; x`.
        (with_f(&["bash <<< \"$F\""]), a),
        (with_f(&["python3 <<< \"$F\""]), py),
        (with_f(&["echo \"$F\" | bash; true"]), a),
        // Line continuations inside a word (a YAML double-quoted item keeps
        // the backslash and the line break).
        (
            with_f(&[]).replace("  script:\n", "  script:\n    - \"ev\\\\\\nal \\\"$F\\\" || true\"\n"),
            a,
        ),
        (
            with_f(&[]).replace(
                "  script:\n",
                "  script:\n    - \"[[ \\\"$F\\\" -e\\\\\\nq 0 ]] || true\"\n",
            ),
            a,
        ),
        // Code runners inside a command substitution.
        (with_f(&["echo \"$(sh -c \"$F\")\""]), a),
        (with_f(&["echo \"$(echo \"$F\" | sh)\""]), a),
        (with_f(&["echo \"$(. /dev/stdin <<< \"$F\")\""]), a),
        // `declare` on an array runs a compound assignment; `mapfile -C` a callback.
        (with_f(&["arr=()", "declare arr=\"$F\""]), b),
        (with_f(&["f() { local arr=(); local arr=\"$F\"; }; f"]), b),
        (with_f(&["E=eval", "mapfile -C \"$E\" -c 1 <<< \"$F\""]), a),
        // The integer attribute through a variable.
        (with_f(&["o=-i", "declare $o Y", "Y=\"$F\""]), a),
        (with_f(&["d=\"declare -i\"; v=X", "$d \"$v\"", "X=\"$F\""]), a),
        // Files: any way of naming or running what a script wrote.
        (with_f(&["printf \"%s\\n\" \"$F\" > g.sh", "sh < g.sh"]), a),
        (with_f(&["printf \"%s\\n\" \"$F\" > g.sh", "bash g.s*"]), a),
        (with_f(&["printf \"%s\\n\" \"$F\" > g.sh", "s=g.sh; bash \"$s\""]), a),
        (with_f(&["install -m 755 /dev/stdin run.sh <<< \"$F\"", "./run.sh"]), a),
        (
            with_f(&["echo : > run.sh", "sed -i \"1a $F\" run.sh", "bash run.sh"]),
            a,
        ),
        (with_f(&["exec 3>g.sh", "printf \"%s\\n\" \"$F\" >&3", "bash g.sh"]), a),
        (with_f(&["printf \"%s\\n\" \"$F\" > g", "eval \"$(cat g)\""]), a),
        // Aliases.
        (
            with_f(&["shopt -s expand_aliases; alias e=eval", "e \"$F\" || true"]),
            a,
        ),
    ];
    for (template, name) in cases {
        assert_refused(&template, name, "");
    }
}

/// The eighth red-team pass: bypasses of the seventh pass's fixes.
#[test]
fn the_eighth_passes_bypasses_are_refused() {
    let name = "echo $CI_JOB_TOKEN;touch PWNED";
    let py = "print(__import__(\"os\").environ[\"CI_JOB_TOKEN\"])";
    let cases = [
        // An escaped backslash before a line break is not a continuation.
        (
            with_f(&[]).replace(
                "  script:\n",
                "  script:\n    - \"echo \\\\\\\\\\n\\\"'\\\"; bash -c \\\"$F\\\" # '\"\n",
            ),
            name,
        ),
        // A redirection before `-c`, glued here-strings, braces.
        (with_f(&["bash 2>/dev/null -c \"$F\""]), name),
        (with_f(&["sh 2>&1 -c \"$F\""]), name),
        (with_f(&["python3 2>/dev/null -c \"$F\""]), py),
        (with_f(&["bash<<<\"$F\""]), name),
        (with_f(&["bash 0<<<\"$F\""]), name),
        (with_f(&["bash ${NOPE} <<< \"$F\""]), name),
        (with_f(&["perl<<<\"$F\""]), "print $ENV{CI_JOB_TOKEN}"),
        // A written file run after a prefix, or through PATH.
        (
            with_f(&["printf \"%s\\n\" \"$F\" > g.sh && chmod +x g.sh && ./g.sh"]),
            name,
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" > g.sh", "chmod +x g.sh", "timeout 5 ./g.sh"]),
            name,
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" > g.sh", "chmod +x g.sh", "PATH=.:$PATH g.sh"]),
            name,
        ),
        // Writes no list names.
        (with_f(&["printenv F > g.sh", "bash g.sh"]), name),
        (with_f(&["env > vars.sh", "source vars.sh"]), name),
        (
            with_f(&["printf \"%s\\n\" \"$F\" | sed -n \"w g.sh\"", "bash g.sh"]),
            name,
        ),
        (with_f(&["uniq - g.sh <<< \"$F\"", "bash g.sh"]), name),
    ];
    for (template, name) in cases {
        assert_refused(&template, name, "");
    }
}

/// The ninth red-team pass: bypasses of the eighth pass's fixes and of
/// older readers (comments, quotes in `${...}`, env read by name).
#[test]
fn the_ninth_passes_bypasses_are_refused() {
    let name = "echo $CI_JOB_TOKEN;touch PWNED";
    // A multi-line item (YAML double-quoted, `\n` a line break in it).
    let block = |item: &str| with_f(&[]).replace("  script:\n", &format!("  script:\n    - \"{item}\"\n"));
    let cases = [
        // An apostrophe in a comment.
        (block("echo hi # it's\\nbash -c \\\"$F\\\""), name),
        (
            block("# it's\\nprintf \\\"%s\\\\n\\\" \\\"$F\\\" > g.sh\\nsource g.sh"),
            name,
        ),
        // A quoted `}` inside `${...}`.
        (with_f(&["echo ${X:-'}'} ; bash -c \"$(printenv F)\""]), name),
        // Interpreters reading the variable by name.
        (with_f(&["awk \"BEGIN{system(ENVIRON[\\\"F\\\"])}\""]), name),
        (with_f(&["perl -e \"system \\$ENV{F}\""]), name),
        (
            with_f(&["python3 -c \"import os; os.system(os.environ[\\\"F\\\"])\""]),
            name,
        ),
        // A redirection before the flag that matters (sed, git).
        (with_f(&["printf \"%s\\n\" \"$F\" | sed 2>&1 \"s/^//e\""]), name),
        // `$'\''` before a continuation.
        (block("echo $'\\\\''; ba\\\\\\nsh -c \\\"$(printenv F)\\\" # '"), name),
        // Writes of names without a dot, runs on the same line, PATH elsewhere.
        (with_f(&["uniq - g <<< \"$F\"", "bash g"]), name),
        (with_f(&["uniq - g.sh <<< \"$F\" && bash g.sh"]), name),
        (
            with_f(&[
                "printf \"%s\\n\" \"$F\" > g.sh",
                "chmod +x g.sh",
                "export PATH=.:$PATH",
                "g.sh",
            ]),
            name,
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" > g.sh", "chmod +x g.sh", "$PWD/g.sh"]),
            name,
        ),
        (
            with_f(&[
                "cat /proc/self/environ | tr \"\\0\" \"\\n\" | grep \"^F=\" | cut -c3- > v",
                "bash v",
            ]),
            name,
        ),
    ];
    for (template, name) in cases {
        assert_refused(&template, name, "");
    }
}

/// The tenth red-team pass: bypasses of the ninth pass's fixes.
#[test]
fn the_tenth_passes_bypasses_are_refused() {
    let name = "echo $CI_JOB_TOKEN;touch PWNED";
    let block = |item: &str| with_f(&[]).replace("  script:\n", &format!("  script:\n    - \"{item}\"\n"));
    let cases = [
        // A comment right after `x=(`.
        (block("x=(#'\\n)\\nbash -c \\\"$F\\\"\\n# '"), name),
        // Brace expansion as the command.
        (with_f(&["{bash,-c,\"$F\"}"]), name),
        (with_f(&["echo {a,b};{bash,-c,\"$F\"}"]), name),
        // Inline code reading the variable by a computed name.
        (
            with_f(&["python3 -c \"import os; os.system(os.environ[chr(70)])\""]),
            name,
        ),
        (
            with_f(&["awk \"BEGIN{system(ENVIRON[sprintf(\\\"%c\\\",70)])}\""]),
            name,
        ),
        // sed's e through `--expression=` or a script file; git -c settings.
        (with_f(&["printf \"%s\\n\" \"$F\" | sed --expression=\"s/^//e\""]), name),
        (
            with_f(&["echo \"1e sh -c \\\"\\$F\\\"\" > s.sed", "echo x | sed -f s.sed"]),
            name,
        ),
        (
            with_f(&[
                "git init -q .",
                "git -c core.fsmonitor=\"sh -c \\\"\\$F\\\" >&2 #\" status",
            ]),
            name,
        ),
        // A script written without the path that reads it by name.
        (
            with_f(&["echo \"exec sh -c \\$env(F) >@stdout\" > x.tcl", "tclsh x.tcl"]),
            name,
        ),
    ];
    for (template, name) in cases {
        assert_refused(&template, name, "");
    }
}

/// The eleventh pass, against the shell subset (src/subset.rs): `-a`/`-o`
/// make `[` parse five words its own way; `read -pd X` takes `X` as the
/// name, not the delimiter; `${PS4:=...}` assigns; `$_` and `$REPLY` hold
/// the last argument and what `read` read. And a job variable bash reads
/// code from (`BASH_ENV`), set to text that reads the path indirectly.
#[test]
fn the_eleventh_passes_bypasses_are_refused() {
    let subscript = "a[$(touch PWNED)]";
    let cases = [
        (
            with_f(&["[ x -a \"${F%%a*}\" \"${F#-v}\" -a y ] || true"]),
            "-va[$(touch PWNED)]",
            "where an operator may go",
        ),
        (
            with_f(&[": x", "[ x -a \"${_%%a*}\" \"${_#-v}\" -a y ] || true"]),
            "-va[$(touch PWNED)]",
            "",
        ),
        (with_f(&[": \"$F\"", "read -pd \"$_\" <<< x || true"]), subscript, "`_`"),
        (
            with_f(&["printf \"%s\" \"$F\" > n", "read -pd \"$(cat n)\" <<< x || true"]),
            subscript,
            "where it may take an option",
        ),
        (
            with_f(&[
                "printf \"%s\\n\" \"$F\" > n",
                "read -r < n",
                "read -pd \"$REPLY\" <<< x || true",
            ]),
            subscript,
            "`REPLY`",
        ),
        (
            with_f(&["unset PS4", ": \"$F\"", ": \"${PS4:=$_}\"", "set -x", "true"]),
            "x$(touch PWNED)",
            "`PS4`",
        ),
        (
            with_f(&["unset PS4", ": \"$F\"", ": \"${PS4:=$_}\"", "set -x", "true"]),
            "x${CI_JOB_TOKEN}",
            "`PS4`",
        ),
        // Commands that run their argument through a shell.
        (with_f(&["watch -n 1 -g \"echo $F\" || true"]), "x;touch PWNED", ""),
        (
            with_f(&["git init -q . && git rebase --exec \"echo $F\" HEAD || true"]),
            "x;touch PWNED",
            "",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
    // `BASH_ENV` is expanded (running `$(...)`) and sourced by every bash a
    // job starts; this value reads the path through a name it holds.
    let template = with_f(&["bash scripts/check.sh || true"]).replace(
        "      expand: false\n",
        "      expand: false\n    X: F\n    BASH_ENV:\n      value: '$(eval \"${!X}\")'\n      expand: false\n",
    );
    assert_refused(&template, "a;touch PWNED;.py", "sets `BASH_ENV`, which bash acts on");
}

/// The twelfth pass: `{a["$F"]}>file` names a file descriptor by an array
/// element (bash evaluates the subscript); make reads every environment
/// variable as make code and its built-in rules run `LDLIBS`, `CPPFLAGS`,
/// `TARGET_ARCH` through a shell; npm reads `npm_config_*` in any case and
/// `npx` runs `npm_config_call`.
#[test]
fn the_twelfth_passes_bypasses_are_refused() {
    let job_variable = |name: &str, lines: &[&str]| with_f(lines).replace("    F:\n", &format!("    {name}:\n"));
    let cases = [
        (
            with_f(&[": {a[\"$F\"]}>/dev/null"]),
            "b[$(touch PWNED)]",
            "file descriptor",
        ),
        (
            with_f(&[": {a[\"$F\"]}>/dev/null"]),
            "b[$(echo $CI_JOB_TOKEN >&2)]",
            "file descriptor",
        ),
        (
            job_variable(
                "LDLIBS",
                &[
                    "printf \"int main(void){return 0;}\\n\" > hello.c",
                    "make hello || true",
                ],
            ),
            "x;touch PWNED;#.c",
            "",
        ),
        (
            job_variable(
                "CPPFLAGS",
                &[
                    "printf \"int main(void){return 0;}\\n\" > hello.c",
                    "make hello.o || true",
                ],
            ),
            "$(shell touch PWNED).c",
            "",
        ),
        (
            with_f(&[
                "printf \"int main(void){return 0;}\\n\" > hello.c",
                "TARGET_ARCH=\"$F\" make hello || true",
            ]),
            "x;touch PWNED;#.c",
            "",
        ),
        (
            job_variable("Npm_Config_Call", &["npm exec --offline || true"]),
            "touch PWNED;echo $CI_JOB_TOKEN;#.js",
            "",
        ),
        (
            with_f(&["Npm_Config_Call=\"$F\" npx --offline || true"]),
            "touch PWNED;#.js",
            "",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The thirteenth pass: words bash splits or globs after the subset counted
/// them (`[ * ]` over files named `-v` and `a[$(cmd)]`, `[ $(cat n) ]`,
/// `git $(cat n)` reading `-c core.fsmonitor=...`), `jobs -x` running its
/// arguments, a computed command name after `nice`, and files a tool runs
/// from the working folder (`python -m m` imports `m.py`, `npm test` runs
/// `package.json`), written from a path.
#[test]
fn the_thirteenth_passes_bypasses_are_refused() {
    let cases = [
        (
            with_f(&["touch -- ./-v \"$F\"", "[ * ] || true"]),
            "a[$(touch PWNED)]",
            "the glob",
        ),
        (
            with_f(&["printf \"%s\\n\" -v \"$F\" > n", "[ $(cat n) ] || true"]),
            "a[$(>PWNED)]",
            "unquoted",
        ),
        (
            with_f(&["printf \"%s\\n\" -v \"$F\" > n", "test $(cat n) || true"]),
            "a[$(echo${IFS}$CI_JOB_TOKEN>&2)]",
            "unquoted",
        ),
        (
            with_f(&[
                "printf \"%s\\n\" -c \"$F\" > n",
                "git init -q . && git $(cat n) status || true",
            ]),
            "core.fsmonitor=touch${IFS}PWNED",
            "unquoted",
        ),
        (with_f(&["e=eval", "jobs -x $e \"$F\""]), "x;touch PWNED", "unquoted"),
        (
            with_f(&["e=eval", "jobs -x \"$e\" \"$F\""]),
            "x;echo $CI_JOB_TOKEN",
            "runs its arguments",
        ),
        (with_f(&["s=s", "nice ${s}h -c \"$F\""]), "x;touch PWNED", "unquoted"),
        (
            with_f(&["s=s", "nice \"${s}h\" -c \"$F\""]),
            "x;touch PWNED",
            "before the command",
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" > m.py", "python3 -m m || true"]),
            "import os;os.system(\"touch PWNED\")",
            "`m.py`",
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" > package.json", "npm test --offline || true"]),
            "{\"scripts\":{\"test\":\"touch PWNED\"}}",
            "`package.json`",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The fourteenth pass: shells and interpreters under other names (`rbash`,
/// `perl5.36.0`, `ruby3.1`, `tclsh8.6`), a path inside a sed script (its
/// `|e` becomes the `e` flag, which runs the line), and a path part starting
/// with `-` given to tar quoted (`--to-command=...`).
#[test]
fn the_fourteenth_passes_bypasses_are_refused() {
    let cases = [
        (
            with_f(&["rbash -c \"$F\" || true"]),
            "x;touch PWNED",
            "runs text as code",
        ),
        (
            with_f(&["printf \"%s\\n\" \"$F\" | rbash || true"]),
            "x;touch PWNED",
            "",
        ),
        (
            with_f(&["perl5.36.0 -e \"$F\" || true"]),
            "system(q(touch PWNED));#.pl",
            "runs text as code",
        ),
        (
            with_f(&["ruby3.1 -e \"$F\" || true"]),
            "system(%q(touch PWNED))",
            "runs text as code",
        ),
        (
            with_f(&["tclsh8.6 <<< \"$F\" || true"]),
            "exec touch PWNED",
            "runs text as code",
        ),
        (
            with_f(&["printf \"PH\\n\" > in.txt", "sed \"s|PH|$F|\" in.txt || true"]),
            "touch PWNED|e;#",
            "runs text as code",
        ),
        (
            with_f(&["printf \"name: PH\\n\" > in.txt", "sed -i \"s|PH|$F|g\" in.txt || true"]),
            "x;touch PWNED;#|e;#",
            "runs text as code",
        ),
        (
            with_f(&["touch a.txt", "tar -cf out.tar a.txt \"$F\" || true"]),
            "--use-compress-program=touch PWNED;false",
            "",
        ),
        (
            with_f(&["touch a.txt", "tar -cf o.tar a.txt", "tar -xf o.tar \"$F\" || true"]),
            "--to-command=touch PWNED",
            "",
        ),
        // Refused by the part rule alone (cat is no listed tool).
        (
            with_f(&["cat \"$F\" || true"]),
            "--to-command=touch PWNED",
            "starting with `-`",
        ),
        // Found while fixing the above: a part starting with `-` needs no
        // special character at all (`-Ibash` makes bash tar's compressor).
        (
            with_f(&["printf 'x' > a.txt", "tar -cf o.tar \"$F\" a.txt || true"]),
            "-Ibash",
            "",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The fifteenth pass: `"${a[@]}"` is several words to `[` (`-v` among
/// them), `run-parts` runs the files a script wrote into a folder,
/// `git config` stores a command later git commands run, and zip reads
/// options (`-TT cmd`) from `ZIPOPT` and `ZIP`.
#[test]
fn the_fifteenth_passes_bypasses_are_refused() {
    let cases = [
        (
            with_f(&["a=(-v)", "a+=(\"$F\")", "[ \"${a[@]}\" ] || true"]),
            "a[$(touch PWNED)]",
            "several words",
        ),
        (
            with_f(&["a=(\"$F\")", "b=(-v \"${a[@]}\")", "test \"${b[@]}\" || true"]),
            "a[$(echo $CI_JOB_TOKEN >&2)]",
            "several words",
        ),
        (
            with_f(&[
                "mkdir d",
                "printf \"#!/bin/sh\\n%s\\n\" \"$F\" > d/run",
                "chmod +x d/run",
                "run-parts d || true",
            ]),
            "touch PWNED",
            "",
        ),
        (
            with_f(&["git init -q r", "cd r", "git config alias.t \"!$F\"", "git t || true"]),
            "cd ..;touch PWNED",
            "runs text as code",
        ),
        (
            with_f(&[
                "git init -q r",
                "cd r",
                "git config core.fsmonitor \"$F\"",
                "git status >/dev/null 2>&1 || true",
            ]),
            "cd ..;touch PWNED;false",
            "runs text as code",
        ),
        (
            with_f(&["touch a.txt", "ZIPOPT=\"$F\" zip -q o.zip a.txt || true"]),
            "x -T -TT \"touch PWNED;false\"",
            "`ZIPOPT`",
        ),
        (
            with_f(&["touch a.txt", "zip -q o.zip a.txt || true"]).replace("    F:\n", "    ZIP:\n"),
            "x -T -TT \"echo $CI_JOB_TOKEN;false\"",
            "`ZIP`",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// The sixteenth pass: code-running options spelt other ways (`sed -i.prev`
/// hid the script from the `-e` check, `--expr=`, `tar --to-comm=`,
/// `tar cIf`), and options that take a value before `-c` (`bash --rcfile x
/// -c`, `python3 --check-hash-based-pycs default -c`).
#[test]
fn the_sixteenth_passes_bypasses_are_refused() {
    let with_input = |line: &str| with_f(&["printf \"PH\\n\" > in.txt", line]);
    let cases = [
        (with_input("sed -i.prev \"s|PH|$F|\" in.txt || true"), "touch PWNED|e;#"),
        (
            with_input("sed -i.prev \"s|PH|$F|\" in.txt || true"),
            "echo $CI_JOB_TOKEN >&2|e;#",
        ),
        (with_input("sed --expr=\"s|PH|$F|\" in.txt || true"), "touch PWNED|e;#"),
        (
            with_f(&[
                "touch a.txt",
                "tar -cf o.tar a.txt",
                "tar -xf o.tar --to-comm=\"$F\" || true",
            ]),
            "x;touch PWNED",
        ),
        (
            with_f(&["touch a.txt", "tar cIf \"$F\" o.tar a.txt || true"]),
            "touch PWNED;false",
        ),
        (with_f(&["bash --rcfile x -c \"$F\" || true"]), "x;touch PWNED"),
        (
            with_f(&["bash --init-file x -c \"$F\" || true"]),
            "x;echo $CI_JOB_TOKEN",
        ),
        (
            with_f(&["python3 --check-hash-based-pycs default -c \"$F\" || true"]),
            "import os;os.system(\"touch PWNED\")",
        ),
    ];
    for (template, name) in cases {
        assert_refused(&template, name, "runs text as code");
    }
}

/// The seventeenth pass (YAML): a file named `<<` as a key over a mapping
/// that holds `<<` left a `<<` after merging, written quoted, which GitLab's
/// reader merges anyway, turning the job's keys into top-level ones.
#[test]
fn the_seventeenth_passes_merge_key_is_refused() {
    let template = format!(
        "{}{{{{ name | yaml_quote }}}}:\n  \"<<\":\n    stage: test\n    image: alpine\n    script:\n      - echo merged\n",
        with_f(&["echo \"$F\""])
    );
    assert_refused(&template, "<<", "a `<<` key is left");
}

/// The eighteenth pass: bash goes on reading a word after the `)` of an
/// array assignment, so `a=(x)# ; cmd` hid `cmd` behind what the subset and
/// the model took for a comment, and `a=(x)echo "$s" -c` ran `$s`.
#[test]
fn the_eighteenth_passes_bypasses_are_refused() {
    let cases = [
        (
            with_f(&["printf \"%s\" \"$F\" > n", "a=(x)# ; eval \"$(cat n)\""]),
            "x;touch PWNED",
        ),
        (
            with_f(&["printf \"%s\" \"$F\" > n", "a=(x)# ; eval \"$(cat n)\""]),
            "x;echo $CI_JOB_TOKEN",
        ),
        (
            with_f(&["printf \"%s\" \"$F\" > n", "a=(x)# ; bash n"]),
            "x;touch PWNED",
        ),
        (
            with_f(&["printf \"%s\" \"$F\" > n", "a=(x)# ; PS4=$(cat n)", "set -x", "true"]),
            "x$(touch PWNED)",
        ),
        (with_f(&["s=sh", "a=(x)echo \"$s\" -c \"$F\" || true"]), "x;touch PWNED"),
        (
            with_f(&["s=sh", "a=(x)echo \"$s\" -c \"$F\" || true"]),
            "x;echo $CI_JOB_TOKEN",
        ),
    ];
    for (template, name) in cases {
        assert_refused(&template, name, "right after");
    }
}

/// The nineteenth pass: inside `[[ ]]`, bash reads `@( ]] )` after `==` as
/// one pattern word, so `"$( [[ x == @( ]] ) ]] ; . ./n ; echo )"` ran
/// `. ./n` where the subset saw text in quotes; and `env --sp=`, a prefix
/// of `--split-string`.
#[test]
fn the_nineteenth_passes_bypasses_are_refused() {
    let cases = [
        (
            with_f(&[
                "printf \"%s\\n\" \"$F\" > n",
                "echo \"$( [[ x == @( ]] ) ]] ; . ./n ; echo )\"",
            ]),
            "x;touch PWNED",
            "pattern",
        ),
        (
            with_f(&[
                "printf \"%s\\n\" \"$F\" > n",
                "echo \"$( [[ x == @( ]] ) ]] ; eval $(cat n) ; echo )\"",
            ]),
            "x;echo $CI_JOB_TOKEN >&2",
            "pattern",
        ),
        (
            with_f(&[
                "printf \"%s\\n\" \"$F\" > n",
                "echo \"$( [[ x != +( ]] ) ]] ; sh n ; echo )\"",
            ]),
            "x;touch PWNED",
            "pattern",
        ),
        (
            with_f(&["env --sp='sh -c \"${F}\"' || true"]),
            "x;touch PWNED",
            "runs text as code",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
}

/// Safe templates the sixth pass found refused: each renders (and runs
/// harmlessly in the sandbox) with a name full of special characters.
#[test]
fn safe_patterns_with_special_names_render() {
    let cases = [
        with_f(&["echo \"==> checking $F\"", "bash scripts/check.sh \"$F\" || true"]),
        with_f(&[
            "source .venv/bin/activate || true",
            "./check \"$F\" 2>/dev/null || true",
            "./run-tests 2>&1 | tee test.log || true",
        ]),
        with_f(&["echo \"lines: $(wc -l < \"$F\" 2>/dev/null)\"", "echo ok"]),
        with_f(&["cd \"$(dirname -- \"$F\")\"", "echo ok"]),
        with_f(&[
            "if [[ \"$F\" == *.py ]]; then echo py; fi",
            "[[ -e \"$F\" ]] || echo missing",
        ]),
        with_f(&["export MODEL_PATH=\"$F\"", "echo \"$MODEL_PATH\""]),
        with_f(&["while IFS= read -r line; do echo \"$line\"; done < \"$F\" || true"]),
        with_f(&[
            "files=(\"$F\")",
            "for f in \"${files[@]}\"; do ls \"./$f\" || true; done",
        ]),
        with_f(&["python3 --version", "TARGET=\"$F\"", "echo \"$TARGET\""]),
        with_f(&[
            "python3 -E scripts/check.py \"$F\" || true",
            "node scripts/check.js \"$F\" || true",
        ]),
        with_f(&[
            "python3 scripts/check.py \"$F\" > report.txt || true",
            "sh scripts/upload.sh report.txt || true",
        ]),
        // The eighth pass's false refusals.
        with_f(&[
            "echo \"${F%.py}\" \"${F##*/}\" \"${F:-none}\" \"${F// /_}\"",
            "ext=\"${F##*.}\"",
            "echo \"$ext\"",
        ]),
        with_f(&[
            "n=$(wc -l < \"$F\" 2>/dev/null) || true",
            "echo \"$(basename -- \"$F\") done\"",
        ]),
        // The eleventh pass's false refusals.
        with_f(&[
            "echo \"$F\" | grep -q \"\\.py$\" || true",
            "case \"$F\" in *.py) echo py;; *) echo other;; esac",
            "ls -d {} \"./$F\" 2>/dev/null || true",
        ]),
        with_f(&[
            "lines=$(wc -l < \"$F\" 2>/dev/null) || true",
            "path=\"$F\"",
            "home=\"$F\"",
            "echo \"$path $home\"",
        ]),
    ];
    let (env, config) = one_rule("pipeline_name:pipelines");
    for template in cases {
        env.write("t.yml.tera", &template);
        let listing = format!("A\t{}\n", git_quote("pipelines/p1/my model (v2)+notes @#1 é;$(id).py"));
        assert_eq!(
            attack(&config, env.path(), &listing, true, &template),
            Outcome::Rendered,
            "{template}"
        );
    }
}

#[test]
fn bypasses_of_the_template_check_are_refused_on_the_result() {
    // The issue's red-team templates: each gets past the syntax-tree check,
    // and each is caught on the rendered result.
    let cases = [
        (
            "j-{{ pipeline_name }}:\n  script:\n    - echo {{ \"X\" | replace(from=\"X\", to=files.0.path) }}\n",
            "a\nevil-job: {script: [touch PWNED]}",
            "adds or removes a key",
        ),
        (
            "j-{{ pipeline_name }}:\n  script:\n{% filter replace(from=\"P\", to=files.0.path) %}    - echo P\n{% endfilter %}",
            "a\n    - touch PWNED",
            "adds or removes a script line",
        ),
        (
            "j-{{ pipeline_name }}:\n  script:\n    - echo {{ [\"a\"] | concat(with=files.0.path) | last }}\n",
            "a; touch PWNED",
            "adds the shell operator `;`",
        ),
        (
            "j-{{ pipeline_name }}:\n  script: [{% for f in files %}echo {{ f.path | yaml_quote }}, {% endfor %}]\n",
            "a, touch PWNED, b",
            "adds or removes a script line",
        ),
        (
            "j-{{ pipeline_name }}:\n  script:\n{%- for f in files %}\n    - echo {{ f.path | yaml_quote }}\n{%- endfor %}\n",
            "a: b",
            "turns a string into a mapping",
        ),
        (
            "j-{{ pipeline_name }}:\n  variables:\n    F: {{ files.0.path | yaml_quote }}\n  script:\n    - echo \"$F\"\n",
            "$CI_JOB_TOKEN",
            "adds `$CI_JOB_TOKEN`, which GitLab would expand",
        ),
        (
            "j-{{ pipeline_name }}:\n  variables:\n    F: {{ files.0.path | yaml_quote }}\n  script:\n    - ls -l -- $F\n",
            "x --upload-file /etc/passwd",
            "reaches the variable `F`, which a script expands outside plain double quotes (`$F`)",
        ),
        (
            "j-{{ pipeline_name }}:\n  script: [\"true\"]\n  rules:\n    - if: '$CI_COMMIT_REF_NAME == \"{{ \"X\" | replace(from=\"X\", to=files.0.path) }}\"'\n",
            "x\" || \"y",
            "changes a CI/CD expression",
        ),
    ];
    for (template, name, detail) in cases {
        assert_refused(template, name, detail);
    }
}

/// Renders `template` for a merge request that adds `pipelines/p1/{name}`:
/// the attack must be refused (nothing runs in the sandbox), and the error
/// must name the path and say `detail`.
fn assert_refused(template: &str, name: &str, detail: &str) {
    assert_refused_at(template, &format!("pipelines/p1/{name}"), detail);
}

/// [`assert_refused`] for the file `path`.
#[track_caller]
fn assert_refused_at(template: &str, path: &str, detail: &str) {
    assert_refused_by("pipeline_name:pipelines", template, path, detail);
}

/// A folder whose `childgen.yml` has one rule, `stop` with the template
/// `t.yml.tera`, and that file's path.
fn one_rule(stop: &str) -> (TestEnv, std::path::PathBuf) {
    one_rule_trusting(stop, &[])
}

/// [`one_rule`] with `trusted_commands`.
fn one_rule_trusting(stop: &str, trusted: &[&str]) -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::new();
    let config = env.write(
        "childgen.yml",
        format!(
            "rules:\n  - stop: \"{stop}\"\n    template: t.yml.tera\ntrusted_commands: [{}]\n",
            trusted.join(", ")
        ),
    );
    (env, config)
}

/// Each template renders for `listing`, and its jobs run harmlessly.
#[track_caller]
fn assert_renders<T: AsRef<str>>(env: &TestEnv, config: &Path, listing: &str, templates: &[T]) {
    for template in templates {
        let template = template.as_ref();
        env.write("t.yml.tera", template);
        assert_eq!(attack(config, env.path(), listing, true, template), Outcome::Rendered);
    }
}

/// [`assert_refused_at`] with the rule's stop pattern.
#[track_caller]
fn assert_refused_by(stop: &str, template: &str, path: &str, detail: &str) {
    let (env, config) = one_rule(stop);
    env.write("t.yml.tera", template);
    let listing = format!("A\t{}\n", git_quote(path));
    let outcome = attack(&config, env.path(), &listing, false, template);
    assert_eq!(outcome, Outcome::Refused, "{template}");
    let out = env.stdin(listing).run(&["generate", "--diff", "-"]);
    assert_contains(&out.stderr, &format!("the changed path {path:?} would change"));
    assert_contains(&out.stderr, detail);
}

/// A name of letters and digits alone cannot change a document's shape, so
/// the stand-in rendering cannot see it; a template that runs it would
/// still run the program a merge request names, or print the variable it
/// names. Without `safety::check_reach`, each of these renders and the
/// sandbox sees the token printed.
#[test]
fn neutral_names_a_template_would_run_are_refused() {
    let named = |line: &str| format!("j:\n  script:\n    - {line}\n");
    let cases = [
        (with_f(&["bash -c \"$F\" || true"]), "printenv", "runs text as code"),
        (
            with_f(&["G=\"$F\"", "sh -c \"$G\" || true"]),
            "printenv",
            "runs text as code",
        ),
        (with_f(&["echo \"${!F}\""]), "CI_JOB_TOKEN", "evaluates text as code"),
    ];
    for (template, name, detail) in cases {
        assert_refused(&template, name, detail);
    }
    let cases = [
        (named("{{ pipeline_name }} || true"), "names the command `printenv`"),
        (
            named("{{ pipeline_name | upper | lower }} || true"),
            "names the command `printenv`",
        ),
        (named("/usr/bin/{{ pipeline_name }} || true"), "`/usr/bin/printenv"),
        (
            named("nice {{ pipeline_name }} || true"),
            "names the command `printenv`",
        ),
        // The twentieth pass: programs that run their argument.
        (
            named("perf stat {{ pipeline_name }} || true"),
            "names the command `printenv`",
        ),
        (
            named("fakeroot {{ pipeline_name }} || true"),
            "names the command `printenv`",
        ),
        (
            named("valgrind -q {{ pipeline_name }} || true"),
            "names the command `printenv`",
        ),
    ];
    for (template, detail) in cases {
        assert_refused_at(&template, "pipelines/printenv/model.py", detail);
    }
    // A standard-library module whose self-test prints the environment.
    let module = "j:\n  script:\n    - cd pipelines\n    - python3 -m {{ pipeline_name }} || true\n";
    assert_refused_at(module, "pipelines/cgi/model.py", "names the command `cgi`");
    // A name right after `$` is a variable for GitLab or the shell to expand.
    let variable = |value: &str| format!("j:\n  variables:\n    V: \"{value}\"\n  script:\n    - echo \"$V\"\n");
    assert_refused_at(
        &variable("${{ pipeline_name | upper }}"),
        "pipelines/ci_job_token/model.py",
        "names the variable `$CI_JOB_TOKEN`",
    );
    assert_refused_at(
        &variable("${{ pipeline_name | upper }}_TOKEN"),
        "pipelines/ci_job/model.py",
        "names the variable `$CI_JOB_TOKEN`",
    );
    // The twenty-first pass: a name that runs on past the variable's
    // (`$CI_JOB_TOKEN-X`), two values glued into one command, `npm run`,
    // and `-m` in a bundle of Python's options.
    assert_refused_at(
        &variable("${{ pipeline_name | upper }}"),
        "pipelines/ci_job_token-x/model.py",
        "names the variable `$CI_JOB_TOKEN`",
    );
    assert_refused_by(
        "pipeline_name:pipelines,stage_name::pipelines",
        "j:\n  script:\n    - {{ pipeline_name }}{{ stage_name }} CI_JOB_TOKEN || true\n",
        "pipelines/print/env/model.py",
        "names the command `printenv`",
    );
    assert_refused_at(
        &named("npm run {{ pipeline_name }} || true"),
        "pipelines/env/model.py",
        "names the command `env`",
    );
    // A name glued to the template's text, in a fragment where it also
    // stands on its own (the job's name).
    assert_refused_at(
        "j-{{ pipeline_name }}:\n  script:\n    - {{ pipeline_name }}env CI_JOB_TOKEN || true\n",
        "pipelines/print/model.py",
        "names the command `printenv`",
    );
    // The twenty-second pass: a `$` name the template builds, though it
    // writes the word elsewhere (here in a comment); `pipenv run`; `find
    // -name ... -exec {}`; `capsh -- -c`; `. NAME` (looked up in PATH); a
    // variable's own name built from a name.
    assert_refused_at(
        "{# uploads authenticate with CI_JOB_TOKEN #}\nj:\n  variables:\n    DEPLOY_TOKEN: \"${{ pipeline_name | upper }}_TOKEN\"\n  script:\n    - echo \"$DEPLOY_TOKEN\"\n",
        "pipelines/ci_job/model.py",
        "names the variable `$CI_JOB_TOKEN`",
    );
    assert_refused_at(
        &named("pipenv run {{ pipeline_name }} || true"),
        "pipelines/printenv/model.py",
        "names the command `printenv`",
    );
    assert_refused_at(
        &named("find /usr/bin -name {{ pipeline_name }} -exec {} CI_JOB_TOKEN ';' || true"),
        "pipelines/printenv/model.py",
        "runs the files find finds as commands",
    );
    assert_refused_at(
        &named("capsh -- -c {{ pipeline_name }} || true"),
        "pipelines/printenv/model.py",
        "runs text as code",
    );
    assert_refused_at(
        &named(". {{ pipeline_name }} || true"),
        "pipelines/printenv/model.py",
        "names the command `printenv`",
    );
    assert_refused_at(
        "j:\n  variables:\n    {{ pipeline_name | upper }}_TRACE: \"true\"\n  script:\n    - echo hi\n",
        "pipelines/ci_debug/model.py",
        "names the variable `CI_DEBUG_TRACE`",
    );
    let bundled = "j:\n  script:\n    - cd pipelines\n    - python3 -um {{ pipeline_name }} || true\n";
    assert_refused_at(bundled, "pipelines/cgi/model.py", "names the command `cgi`");
}

/// What a template may do with such names: print them, pass them to
/// commands it names itself (also when the name is the command's own),
/// choose a folder of the repository to run a script or `make` in.
#[test]
fn neutral_names_reach_data_and_repository_scripts() {
    let cases = [
        "j-{{ pipeline_name }}:\n  script:\n    - make -C pipelines/{{ pipeline_name }} test || true\n    - ./pipelines/{{ pipeline_name }}/run.sh || true\n",
        "j-{{ pipeline_name }}:\n  variables:\n    P: {{ pipeline_name }}\n  script:\n    - echo {{ pipeline_name }} \"$P\"\n    - ls \"pipelines/$P\" || true\n",
        // The twenty-second pass's false refusal: `exec` as another tool's
        // subcommand.
        "j-{{ pipeline_name }}:\n  script:\n    - bundle exec rspec spec/{{ pipeline_name }} || true\n    - pyenv exec python -m pytest pipelines/{{ pipeline_name }} || true\n",
        // The twentieth pass's: the first line's script was taken for a
        // file the second may have written.
        "j-{{ pipeline_name }}:\n  variables:\n    P: {{ pipeline_name }}\n  script:\n    - ./scripts/build.sh \"$P\" || true\n    - python3 scripts/lint.py \"pipelines/$P\" || true\n    - python3 -m pytest \"pipelines/$P\" || true\n",
    ];
    // The programs those lines give a name to, other than data programs
    // and the repository's scripts.
    let (env, config) = one_rule_trusting("pipeline_name:pipelines", &["bundle", "pyenv", "pytest"]);
    for template in cases {
        env.write("t.yml.tera", template);
        for name in ["echo", "printenv", "make", "test"] {
            let listing = format!("A\tpipelines/{name}/model.py\n");
            assert_eq!(
                attack(&config, env.path(), &listing, true, template),
                Outcome::Rendered,
                "{template}"
            );
        }
    }
}

/// A fragment proven once vouches for the next group's fragment that differs
/// only in its plain words, unless a word is one the template writes: with
/// `deploy` proven (the template writes `deploy`, so it may be a command),
/// `whoami` in its place is still checked, and refused.
#[test]
fn a_proven_fragment_does_not_vouch_for_a_name_the_template_writes() {
    let (env, _) = one_rule("pipeline_name:pipelines");
    env.write(
        "t.yml.tera",
        "# the pipelines are named after their programs: deploy\nj-{{ pipeline_name }}:\n  script:\n    - {{ pipeline_name }} || true\n",
    );
    let alone = env.write("alone.diff", "A\tpipelines/deploy/m.py\n");
    let alone = env.run(&["generate", "--diff", &alone.display().to_string()]);
    assert_eq!(alone.code, 0, "{}", alone.snapshot());
    assert_contains(&alone.stdout, "- deploy || true");
    let both = env.write("both.diff", "A\tpipelines/deploy/m.py\nA\tpipelines/whoami/m.py\n");
    let out = env.run(&["generate", "--diff", &both.display().to_string()]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "the changed path \"pipelines/whoami/m.py\" would change `j-whoami.script[0]`",
    );
    assert_contains(&out.stderr, "names the command `whoami`");
}

/// A program childgen knows nothing of may run what it is given (the
/// sandbox's `launch` runs its arguments), so a changed path or a chosen
/// name reaches only data programs, the repository's scripts, and the
/// programs `trusted_commands` names (in childgen.yml or a template's
/// comment). Each attack below rendered before the allow-list, and ran
/// `printenv` (the token) or the path's `$(touch ...)` in the sandbox.
#[test]
fn only_data_programs_scripts_and_trusted_ones_read_a_chosen_value() {
    let by_name = [
        "j-{{ pipeline_name }}:\n  script:\n    - launch {{ pipeline_name }} || true\n",
        "j-{{ pipeline_name }}:\n  variables:\n    P: {{ pipeline_name }}\n  script:\n    - launch \"$P\" || true\n",
        "j-{{ pipeline_name }}:\n  script:\n    - echo {{ pipeline_name }} | launch xargs || true\n",
        "j-{{ pipeline_name }}:\n  script:\n    - timeout 5 launch {{ pipeline_name }} || true\n",
        "j-{{ pipeline_name }}:\n  script:\n    - echo \"$(launch {{ pipeline_name }})\"\n",
    ];
    for template in by_name {
        assert_refused_by(
            "pipeline_name:pipelines",
            template,
            "pipelines/printenv/model.py",
            "to `launch`",
        );
    }
    let by_path = [
        with_f(&["launch \"$F\" || true"]),
        with_f(&["printf '%s\\n' \"$F\" | launch xargs || true"]),
        with_f(&["printf '%s\\n' \"$F\" > list.txt", "launch xargs -a list.txt || true"]),
        with_f(&["G=\"$F\"", "nice launch \"$G\" || true"]),
    ];
    let hostile = "pipelines/p1/x;$(touch PWNED).py";
    for template in &by_path {
        assert_refused_by(
            "pipeline_name:pipelines",
            template,
            hostile,
            "under `trusted_commands:` in childgen.yml",
        );
    }
    // Trusted in childgen.yml, or by the template's own comment: the
    // program is the template author's to vouch for, with names (the
    // sandbox's stub logs its arguments); a path with special characters
    // it may parse itself (`curl -F @a,b`, `helm --set k=a,b=c`) is not.
    let (env, config) = one_rule_trusting("pipeline_name:pipelines", &["mlctl"]);
    let trusted = [
        with_f(&["mlctl deploy --model \"$F\" || true"]),
        format!(
            "{{# trusted_commands: pytest #}}\n{}",
            with_f(&["timeout 60 pytest \"$F\" || true"])
        ),
    ];
    assert_renders(&env, &config, "A\tpipelines/p1/model_v2.py\n", &trusted);
    for template in &trusted {
        let (env, config) = one_rule_trusting("pipeline_name:pipelines", &["mlctl"]);
        env.write("t.yml.tera", template);
        let listing = format!("A\t{}\n", git_quote(hostile));
        assert_eq!(attack(&config, env.path(), &listing, false, template), Outcome::Refused);
        let out = env.stdin(listing).run(&["generate", "--diff", "-"]);
        assert_contains(
            &out.stderr,
            "which `trusted_commands` trusts with names, not with its own syntax",
        );
    }
    let listing = format!("A\t{}\n", git_quote(hostile));
    // Data programs and the repository's scripts, behind runners too.
    let (env, config) = one_rule("pipeline_name:pipelines");
    assert_renders(
        &env,
        &config,
        &listing,
        &[
            with_f(&["cat \"./$F\" | wc -l || true", "grep -c x \"./$F\" || true"]),
            with_f(&[
                "timeout 60 ./scripts/check.sh \"$F\" || true",
                "nice python3 -u scripts/check.py \"$F\" || true",
            ]),
            with_f(&["printf '%s\\0' \"$F\" | xargs -0 -r ./scripts/check.sh 2>/dev/null || true"]),
        ],
    );
    // A name in childgen.yml must be a program's name.
    let env = TestEnv::new();
    env.write("t.yml.tera", "j:\n  script: [echo]\n");
    let config = env.write(
        "childgen.yml",
        "rules:\n  - stop: \"p:pipelines\"\n    template: t.yml.tera\ntrusted_commands: [/usr/bin/helm]\n",
    );
    let out =
        env.stdin("A\tpipelines/a/b\n")
            .run(&["generate", "--config", &config.display().to_string(), "--diff", "-"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(
        &out.stderr,
        "trusted_commands[0]: `/usr/bin/helm` is not a program's name",
    );
}

/// The twenty-third pass (against the allow-list): data programs given
/// words a value was split into, or options (`grep -ze CI_JOB_TOKEN
/// /proc/self/environ`), a list of paths in a file read by `tar -T`, the
/// environment filtered by a chosen name, `python3 /dev/stdin`, a tool
/// installed into the checkout, and prose in a trust comment. Each rendered
/// before, and printed the token or created PWNED in the sandbox.
#[test]
fn the_twenty_third_passes_bypasses_are_refused() {
    let hostile = [
        (
            with_f(&["printf '%s\\n' \"$F\" | xargs grep -n TODO || true"]),
            "pipelines/p1/x -ze CI_JOB_TOKEN /proc/self/environ",
            "xargs splits what it reads",
        ),
        (
            with_f(&["printf '%s\\0' \"$F\" | xargs -0 grep -n TODO || true"]),
            "pipelines/p1/x;$(touch PWNED)",
            "xargs splits what it reads",
        ),
        (
            with_f(&[
                "printf '%s\\n' \"$F\" >> changed.txt",
                "tar czf changed.tgz --files-from=changed.txt || true",
            ]),
            "pipelines/p1/x\n--null\n--files-from=/proc/self/environ",
            "to `tar`",
        ),
        (
            with_f(&["python3 /dev/stdin <<< \"$F\" || true"]),
            "pipelines/p1/x if 0 else __import__(\"os\").system(\"touch PWNED\")",
            "to `python3`",
        ),
        (
            with_f(&[".venv/bin/helm lint \"$F\" || true"]),
            "pipelines/p1/x;$(touch PWNED)",
            "to `helm`",
        ),
        (
            with_f(&["read -r a b <<< \"$F\"", "grep -n TODO \"$b\" || true"]),
            "pipelines/p1/x -f/proc/self/environ",
            "into fields with `read ... b`",
        ),
        (
            format!(
                "{{# trusted_commands: helm (but never kubectl, which can exec into pods) #}}\n{}",
                with_f(&["kubectl apply -f \"$F\" || true"])
            ),
            "pipelines/p1/x;$(touch PWNED)",
            "to `kubectl`",
        ),
    ];
    for (template, path, detail) in &hostile {
        assert_refused_by("pipeline_name:pipelines", template, path, detail);
    }
    assert_refused_by(
        "pipeline_name:pipelines",
        "j-{{ pipeline_name }}:\n  script:\n    - env | grep \"^{{ pipeline_name | upper }}_\" || true\n",
        "pipelines/ci_job/model.py",
        "prints the environment",
    );
    // With `-0`, `--` and fixed text, the same programs are fine.
    let (env, config) = one_rule("pipeline_name:pipelines");
    let listing = format!(
        "A\t{}\n",
        git_quote("pipelines/p1/x -ze CI_JOB_TOKEN /proc/self/environ")
    );
    assert_renders(
        &env,
        &config,
        &listing,
        &[
            with_f(&["printf '%s\\0' \"$F\" | xargs -0 -r ./scripts/check.sh || true"]),
            with_f(&["grep -n TODO \"./$F\" || true", "cat \"./$F\" || true"]),
        ],
    );
}

/// The twenty-fourth pass: a path with a line break read line by line
/// (`head -n 20 -- "$f"` read `/proc/self/environ`), `--` as an option's
/// value (`grep -e -- "$f"`), the environment printed through
/// `/usr/bin/env` or `env -u HOME`, a folder `pages` that becomes GitLab's
/// Pages job, and tools installed under `vendor/`. Each rendered before.
#[test]
fn the_twenty_fourth_passes_bypasses_are_refused() {
    let lines = "preview-{{ pipeline_name }}:\n  variables:\n    CHANGED:\n      value: {{ files | map(attribute=\"path\") | join(sep=\"\n\") | yaml_quote }}\n      expand: false\n  script:\n    - 'printf \"%s\\n\" \"$CHANGED\" | while IFS= read -r f; do echo \"== $f\"; head -n 20 -- \"$f\"; done'\n";
    assert_refused_by(
        "pipeline_name:pipelines",
        lines,
        "pipelines/p/notes\n/proc/self/environ",
        "holds a line break",
    );
    let cases = [
        (
            with_f(&[
                "printf '%s\\n' \"$F\" > l.txt",
                "while IFS= read -r f; do grep -n -e -- \"$f\" || true; done < l.txt",
            ]),
            "pipelines/p1/x;$(touch PWNED)",
            "to `grep`",
        ),
        (
            with_f(&["vendor/bin/phpunit \"$F\" || true"]),
            "pipelines/p1/x;$(touch PWNED)",
            "to `phpunit`",
        ),
    ];
    for (template, path, detail) in &cases {
        assert_refused_by("pipeline_name:pipelines", template, path, detail);
    }
    for line in [
        "/usr/bin/env | grep -- \"^{{ pipeline_name | upper }}=\" || true",
        "env -u HOME | grep \"^{{ pipeline_name | upper }}=\" || true",
        "env --null | tr \"\\\\0\" \"\\\\n\" | grep \"^{{ pipeline_name | upper }}=\" || true",
    ] {
        assert_refused_by(
            "pipeline_name:pipelines",
            &format!("show-{{{{ pipeline_name }}}}:\n  script:\n    - '{line}'\n"),
            "pipelines/ci_job_token/x.py",
            "prints the environment",
        );
    }
    assert_refused_by(
        "pipeline_name:pipelines",
        "{{ pipeline_name }}:\n  script: [echo]\n  artifacts:\n    paths: [public]\n",
        "pipelines/pages/x.py",
        "names a job `pages`",
    );
}

/// The twenty-fifth pass: a value a script derives from a path may name any
/// file however it starts (`${F//_/}` makes `_../` a `../`, `${F##*_}`
/// makes `a_.git/config` `.git/config`); the environment written to a file
/// in one fragment and read by a chosen name in another; an environment
/// named by a value (`production` picks its CI/CD variables). Each
/// rendered before and printed the token in the sandbox (or would have,
/// on a runner that keeps it in `.git/config`).
#[test]
fn the_twenty_fifth_passes_bypasses_are_refused() {
    let cases = [
        (
            with_f(&["X=\"${F//_/}\"", "cat \"./$X\" || true"]),
            "pipelines/p1/_../_../_../_../_../_../_../_../proc/self/environ",
        ),
        (
            with_f(&["REL=\"${F##*_}\"", "cat \"./$REL\" || true"]),
            "pipelines/p1/a_.git/config",
        ),
        (with_f(&["head -c 200 \"./${F#*_}\" || true"]), "pipelines/p1/a_../x"),
        // Through a program's output, read back line by line, or in `$( )`.
        (
            with_f(&["printf '%s\\n' \"$F\" | tr -d _ | while IFS= read -r f; do cat \"./$f\" || true; done"]),
            "pipelines/p1/._./._./proc/self/environ",
        ),
        (
            with_f(&["X=\"$(basename \"$F\" | tr -d _)\"", "cat \"./$X\" || true"]),
            "pipelines/p1/x;$(touch PWNED)_.py",
        ),
    ];
    for (template, path) in &cases {
        assert_refused_by(
            "pipeline_name:pipelines",
            template,
            path,
            "a value a script derived from a path",
        );
    }
    assert_refused_by(
        "pipeline_name:pipelines",
        "deploy-{{ pipeline_name }}:\n  script: [echo deploy]\n  environment: {{ pipeline_name }}\n",
        "pipelines/production/x.py",
        "is led by a value",
    );
    // The environment written to a file is refused in any fragment.
    let env = TestEnv::new();
    env.write("common.yml.tera", "default:\n  before_script: [env | sort > job.env]\n");
    env.write(
        "t.yml.tera",
        "show-{{ pipeline_name }}:\n  script: ['grep \"^{{ pipeline_name | upper }}_\" job.env || true']\n",
    );
    let config = env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: common.yml.tera\n    mode: once\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\n",
    );
    let diff = env.write("mr.diff", "A\tpipelines/ci_job/x.py\n");
    let out = env.run(&[
        "generate",
        "--config",
        &config.display().to_string(),
        "--diff",
        &diff.display().to_string(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, "writes the job's environment to a file");
    // The path itself under the checkout's folder, its last part, and a
    // folder the template names are fine.
    let (env, config) = one_rule("pipeline_name:pipelines");
    let listing = format!("A\t{}\n", git_quote("pipelines/p1/a_.git x;$(touch PWNED)"));
    assert_renders(
        &env,
        &config,
        &listing,
        &[
            with_f(&["cat \"$CI_PROJECT_DIR/$F\" || true", "wc -l \"./${F##*/}\" || true"]),
            with_f(&["D=\"$(dirname \"./$F\")\"", "ls -l \"./$D\" || true"]),
            "deploy-{{ pipeline_name }}:\n  script: [echo deploy]\n  environment: review/{{ pipeline_name }}\n"
                .to_owned(),
        ],
    );
}

/// The twenty-sixth pass: a value equal to a word of a Tera comment or a
/// tag's variable name counted as the template's own (`npm run {{ stage }}`
/// with a loop variable `env`; `environment: {{ name }}` under a comment
/// that says production); the environment printed by a name the template
/// also writes after `$`, or through a variable whose value glues a value
/// to `_TOKEN`; and names that pick what a job gets or runs (environment
/// through a variable, image, include, tags, trigger, a Kubernetes
/// service account) led by a value. Each rendered before; 1a, 1b and 2
/// printed the token in the sandbox.
#[test]
fn the_twenty_sixth_passes_bypasses_are_refused() {
    let stop = "pipeline_name:pipelines,stage_name::pipelines";
    let cases = [
        (
            "{#- Runs the stage npm script in each env. -#}\n{% for env in [\"dev\", \"prod\"] %}\nrun-{{ pipeline_name }}-{{ stage_name }}-{{ env }}:\n  script:\n    - cd \"pipelines/{{ pipeline_name }}\"\n    - npm run {{ stage_name }}\n{% endfor %}\n",
            "pipelines/web/env/x.js",
            "names the command `env`",
        ),
        (
            "{# Never used for production (see deploy-prod). #}\ndeploy-{{ pipeline_name }}:\n  script: [echo deploy]\n  environment:\n    name: {{ pipeline_name }}\n",
            "pipelines/production/x/m.py",
            "is led by a value (`production`)",
        ),
        (
            "show-{{ pipeline_name }}:\n  script:\n    - echo \"$CI_JOB_TOKEN\" | docker login -u gitlab-ci-token --password-stdin \"$CI_REGISTRY\"\n    - env | grep \"^{{ pipeline_name | upper }}=\" || true\n",
            "pipelines/ci_job_token/x/m.py",
            "prints the environment",
        ),
        (
            "show-{{ pipeline_name }}:\n  variables:\n    TOKEN_VAR: \"{{ pipeline_name | upper }}_TOKEN\"\n  script:\n    - printenv \"$TOKEN_VAR\" || true\n",
            "pipelines/ci_job/x/m.py",
            "prints the environment",
        ),
        (
            "deploy-{{ pipeline_name }}:\n  variables:\n    DEPLOY_ENV: {{ pipeline_name }}\n  script: [echo deploy]\n  environment:\n    name: $DEPLOY_ENV\n",
            "pipelines/production/x/m.py",
            "is led by a value (`production`)",
        ),
        (
            "build-{{ pipeline_name }}:\n  image: \"{{ pipeline_name }}/builder:1\"\n  script: [echo build]\n",
            "pipelines/evil.example.com/x/m.py",
            "is led by a value",
        ),
        (
            "include:\n  - remote: \"https://{{ pipeline_name }}/ci/shared.yml\"\nj-{{ pipeline_name }}:\n  script: [echo]\n",
            "pipelines/evil.example.com/x/m.py",
            "is led by a value",
        ),
        (
            "j-{{ pipeline_name }}:\n  tags: [\"{{ pipeline_name }}\"]\n  script: [echo]\n",
            "pipelines/prod-deployer/x/m.py",
            "is led by a value",
        ),
        (
            "j-{{ pipeline_name }}:\n  trigger:\n    project: \"{{ pipeline_name }}/deployments\"\n",
            "pipelines/platform/x/m.py",
            "is led by a value",
        ),
        (
            "j-{{ pipeline_name }}:\n  variables:\n    KUBERNETES_SERVICE_ACCOUNT_OVERWRITE: {{ pipeline_name }}\n  script: [echo]\n",
            "pipelines/prod-deployer/x/m.py",
            "is led by a value",
        ),
    ];
    for (template, path, detail) in cases {
        assert_refused_by(stop, template, path, detail);
    }
    // Fixed text first is fine; so is a word the template prints itself
    // (`dev/{{ id }}` with a folder `dev`).
    let (env, config) = one_rule(stop);
    let listing = "A\tpipelines/dev/x/m.py\n";
    assert_renders(
        &env,
        &config,
        listing,
        &[
            "deploy-{{ pipeline_name }}:\n  script: [echo deploy]\n  environment:\n    name: review/{{ pipeline_name }}\n  image: registry.example.com/{{ pipeline_name }}:1\n  tags: [gpu-{{ pipeline_name }}]\n",
            "{% for env in [\"dev\", \"prod\"] %}\ndeploy-{{ pipeline_name }}-{{ env }}:\n  script: [echo deploy]\n  environment: {{ env }}/{{ pipeline_name }}\n{% endfor %}\n",
        ],
    );
}

/// False refusals an audit found, fixed: `jq .` (and `cp -r dir/.`) read
/// as bash's `.` command; a YAML variable whose rendered value names a
/// relative file of the checkout (`STAGE_DIR: pipelines/churn/train`) given
/// to `ls` without `./`. A value that does not (a Tera-derived `-f/x`) is
/// still refused.
#[test]
fn variables_that_name_checkout_files_and_jq_dot_render() {
    let env = TestEnv::new();
    env.write(
        "t.yml.tera",
        "j-{{ pipeline_name }}:\n  variables:\n    STAGE_DIR: pipelines/{{ pipeline_name }}\n    F:\n      value: {{ files.0.path | yaml_quote }}\n      expand: false\n  script:\n    - jq . \"./$STAGE_DIR/config.json\" || true\n    - mkdir -p out\n    - cp -r \"./$STAGE_DIR/.\" out/ || true\n    - ls -la \"$STAGE_DIR\" \"$F\" || true\n",
    );
    let config = env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\ntrusted_commands: [jq]\n",
    );
    let listing = format!("A\t{}\n", git_quote("pipelines/churn/x;$(touch PWNED) y.py"));
    let template = std::fs::read_to_string(env.path().join("t.yml.tera")).expect("template");
    assert_eq!(
        attack(&config, env.path(), &listing, true, &template),
        Outcome::Rendered
    );
    assert_refused_by(
        "pipeline_name:pipelines",
        "j-{{ pipeline_name }}:\n  variables:\n    F:\n      value: {{ files.0.path | split(pat=\"_\") | last | yaml_quote }}\n      expand: false\n  script:\n    - ls -la \"$F\" || true\n",
        "pipelines/p1/a_-f/x;$(touch PWNED)",
        "to `ls`",
    );
}

/// The twenty-seventh pass: the environment printed by programs no list
/// names (`awk` with `ENVIRON`, `jq -n '$ENV'`, `ps e`, a `/proc/self/envi*`
/// glob) and filtered by a chosen name in the next command of the pipe;
/// and more names that pick what a job gets (`secrets:` paths, token
/// audiences, an included file's `ref`, a Kubernetes namespace, Vault and
/// Helm variables, `resource_group`). Each rendered before; the first
/// group printed the token in the sandbox.
#[test]
fn the_twenty_seventh_passes_bypasses_are_refused() {
    for producer in [
        "awk \"BEGIN{for (k in ENVIRON) print k \\\"=\\\" ENVIRON[k]}\"",
        "jq -n \"\\$ENV\"",
        "ps eww",
        "cat /proc/self/envi*",
    ] {
        let template = format!(
            "show-{{{{ pipeline_name }}}}:\n  script:\n    - '{producer} | tr \" \" \"\\n\" | grep \"^{{{{ pipeline_name | upper }}}}_\" || true'\n"
        );
        assert_refused_by(
            "pipeline_name:pipelines",
            &template,
            "pipelines/ci_job/x.py",
            "prints the environment",
        );
    }
    for picking in [
        "  secrets:\n    DB_PASSWORD:\n      vault: {{ pipeline_name }}/db/password@ops\n",
        "  id_tokens:\n    ID:\n      aud: https://{{ pipeline_name }}.example.com\n",
        "  environment:\n    name: review/{{ pipeline_name }}\n    kubernetes:\n      namespace: {{ pipeline_name }}\n",
        "  variables:\n    HELM_NAMESPACE: {{ pipeline_name }}\n",
        "  variables:\n    VAULT_AUTH_ROLE: {{ pipeline_name }}\n",
        "  resource_group: {{ pipeline_name }}\n",
    ] {
        let template = format!("j-{{{{ pipeline_name }}}}:\n  script: [echo]\n{picking}");
        assert_refused_by(
            "pipeline_name:pipelines",
            &template,
            "pipelines/production/x.py",
            "is led by a value",
        );
    }
    assert_refused_by(
        "pipeline_name:pipelines",
        "include:\n  - project: ml/ci-templates\n    ref: {{ pipeline_name }}\n    file: /deploy.yml\nj-{{ pipeline_name }}:\n  script: [echo]\n",
        "pipelines/main/x.py",
        "is led by a value",
    );
}

/// The twenty-eighth pass: a path handed to another template's job through
/// an artifact or a dotenv report (its job read it with `sh -c`, or
/// `sed` with the `e` flag, and no check of that fragment saw a path);
/// the environment written to a file or a variable by `awk`'s `ENVIRON`
/// and filtered later; an environment, runner or image picked through a
/// `rules:`, `workflow:` or `parallel: matrix` variable. Each rendered
/// before.
#[test]
fn the_twenty_eighth_passes_bypasses_are_refused() {
    let stop = "pipeline_name:pipelines";
    let hands_on = [
        "{%- set words = files | map(attribute=\"path\") | sh_quote %}\ncollect-{{ pipeline_name }}:\n  script:\n    - {{ \"printf '%s\\n' \" ~ words ~ \" > changed.txt\" | yaml_quote }}\n  artifacts: {paths: [changed.txt]}\n",
        "build-{{ pipeline_name }}:\n  variables:\n    MODEL_FILE:\n      value: {{ files.0.path | yaml_quote }}\n      expand: false\n  script:\n    - printf 'DEPLOY_MODEL=%s\\n' \"$MODEL_FILE\" > build.env\n  artifacts:\n    reports:\n      dotenv: build.env\n",
    ];
    for template in hands_on {
        assert_refused_by(stop, template, "pipelines/a/x$(touch PWNED).py", "hand files on");
    }
    for lines in [
        "    - awk 'BEGIN { for (k in ENVIRON) print k \"=\" ENVIRON[k] }' > job-vars.txt\n    - grep \"^{{ pipeline_name | upper }}_\" job-vars.txt || true\n",
        "    - V=\"$(awk 'BEGIN { for (k in ENVIRON) print k }')\"\n    - grep \"^{{ pipeline_name | upper }}_\" <<< \"$V\" || true\n",
    ] {
        let env = TestEnv::new();
        env.write(
            "t.yml.tera",
            format!("show-{{{{ pipeline_name }}}}:\n  script:\n{lines}"),
        );
        let config = env.write(
            "childgen.yml",
            format!("rules:\n  - stop: \"{stop}\"\n    template: t.yml.tera\n"),
        );
        let diff = env.write("mr.diff", "A\tpipelines/ci_job/x.py\n");
        let out = env.run(&[
            "generate",
            "--config",
            &config.display().to_string(),
            "--diff",
            &diff.display().to_string(),
        ]);
        assert_eq!(out.code, 2, "{lines}\n{}", out.stderr);
        assert_contains(&out.stderr, "writes the job's environment to a file or a variable");
    }
    assert_refused_by(
        stop,
        "show-{{ pipeline_name }}:\n  script:\n    - 'grep \"^{{ pipeline_name | upper }}_\" <<< \"$(awk \"BEGIN { for (k in ENVIRON) print k }\")\" || true'\n",
        "pipelines/ci_job/x.py",
        "prints the environment",
    );
    for picking in [
        "deploy-{{ pipeline_name }}:\n  variables:\n    DEPLOY_ENV: review/{{ pipeline_name }}\n  rules:\n    - variables:\n        DEPLOY_ENV: \"{{ pipeline_name }}\"\n  script: [echo]\n  environment:\n    name: $DEPLOY_ENV\n",
        "deploy-{{ pipeline_name }}:\n  parallel:\n    matrix:\n      - TARGET: [\"{{ pipeline_name }}\"]\n  script: [echo]\n  environment: $TARGET\n",
        "workflow:\n  rules:\n    - variables:\n        IMAGE_NAME: \"{{ pipeline_name }}/builder:1\"\nbuild-{{ pipeline_name }}:\n  image: $IMAGE_NAME\n  script: [echo]\n",
    ] {
        assert_refused_by(stop, picking, "pipelines/production/x.py", "is led by a value");
    }
    // A job variable that names a checkout folder starts a word given to a
    // file tool as fixed text does, also with a special-character path.
    let (env, config) = one_rule(stop);
    let template = "j-{{ pipeline_name }}:\n  variables:\n    STAGE_DIR: pipelines/{{ pipeline_name }}\n    FILE:\n      value: {{ files.0.path | yaml_quote }}\n      expand: false\n  script:\n    - cat \"$STAGE_DIR/${FILE##*/}\" || true\n";
    env.write("t.yml.tera", template);
    let listing = format!("A\t{}\n", git_quote("pipelines/churn/m x;$(touch PWNED).py"));
    assert_eq!(attack(&config, env.path(), &listing, true, template), Outcome::Rendered);
}

/// Two rules, two templates: `t.yml.tera` (a changed path or name reaches
/// its jobs' variables) and `lib.yml.tera`; the listing reaches both.
fn two_templates(t: &str, lib: &str, path: &str) -> crate::support::Output {
    let env = TestEnv::new();
    env.write("t.yml.tera", t);
    env.write("lib.yml.tera", lib);
    let config = env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: t.yml.tera\n  - stop: \"lib_name:libs\"\n    template: lib.yml.tera\ntrusted_commands: [mlctl]\n",
    );
    let diff = env.write("mr.diff", format!("A\t{}\nA\tlibs/core/x.py\n", git_quote(path)));
    env.run(&[
        "generate",
        "--config",
        &config.display().to_string(),
        "--diff",
        &diff.display().to_string(),
    ])
}

/// The twenty-ninth pass crossed fragments: a job `extends:` another
/// template's hidden job (whose `bash -c` ran the path: PWNED), another
/// template's `default: before_script` read a chosen variable (the token),
/// its `default: cache` carried a path a script wrote (`cp /dev/stdin`,
/// `find -fprint`); and `ps e` or `cd /proc/self` printed the environment
/// without the words the checks looked for. Each rendered before.
#[test]
fn the_twenty_ninth_passes_bypasses_are_refused() {
    let lib_venv =
        ".in-venv:\n  script:\n    - bash -c \"python3 $ENTRY\"\ntest-lib-{{ lib_name }}:\n  script: [make test]\n";
    let t_extends = "{% for f in files %}run-{{ pipeline_name }}-{{ loop.index }}:\n  extends: .in-venv\n  variables:\n    ENTRY:\n      value: {{ f.path | yaml_quote }}\n      expand: false\n{% endfor %}";
    let out = two_templates(t_extends, lib_venv, "pipelines/p1/$(touch PWNED).py");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, "extends `.in-venv`, a job this fragment does not define");
    let lib_default = "default:\n  before_script:\n    - 'echo \"config: $(printenv \"$CONFIG_VAR\")\"'\ntest-lib-{{ lib_name }}:\n  script: [make test]\n";
    let t_var = "deploy-{{ pipeline_name }}:\n  variables:\n    CONFIG_VAR: {{ pipeline_name | upper }}\n  script:\n    - mlctl deploy --model \"$CONFIG_VAR\"\n";
    let out = two_templates(t_var, lib_default, "pipelines/ci_job_token/x.py");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, "sets `default:` scripts, cache or artifacts");
    // A template's own `default:` is checked with its fragments.
    let own = "default:\n  before_script: [pip --version]\ndeploy-{{ pipeline_name }}:\n  variables:\n    STAGE: {{ pipeline_name }}\n  script:\n    - mlctl deploy --model \"$STAGE\"\n";
    let out = two_templates(
        own,
        "test-lib-{{ lib_name }}:\n  script: [make test]\n",
        "pipelines/churn/x.py",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Written into what a job hands on, by any writer.
    for line in [
        "cp /dev/stdin reports/changed.txt <<< \"$F\"",
        "find \"./$F\" -fprint reports/changed.txt",
    ] {
        let template = format!(
            "{}  artifacts:\n    paths: [reports/]\n",
            with_f(&["mkdir -p reports", line])
        );
        assert_refused_by(
            "pipeline_name:pipelines",
            &template,
            "pipelines/p1/x$(touch PWNED).py",
            "hand files on",
        );
    }
    for line in [
        "ps auxeww | grep -i \"{{ pipeline_name }}=\" || true",
        "cd /proc/self && grep -a -i \"{{ pipeline_name }}=\" ./e?viron || true",
    ] {
        assert_refused_by(
            "pipeline_name:pipelines",
            &format!("show-{{{{ pipeline_name }}}}:\n  script:\n    - '{line}'\n"),
            "pipelines/ci_job_token/x.py",
            "prints the environment",
        );
    }
}

/// [`assert_refused_by`] for a job `show-NAME` whose script is `line`,
/// with a folder named `ci_job`.
#[track_caller]
fn assert_show_refused(line: &str, detail: &str) {
    assert_refused_by(
        "pipeline_name:pipelines",
        &format!(
            "show-{{{{ pipeline_name }}}}:\n  script:\n    - '{}'\n",
            line.replace('\'', "''")
        ),
        "pipelines/ci_job/x.py",
        detail,
    );
}

/// `template` fails, for a folder `ci_job`, as writing the environment to a file.
#[track_caller]
fn assert_writes_environment(template: &str) {
    let (env, _) = one_rule("pipeline_name:pipelines");
    env.write("t.yml.tera", template);
    let out = env
        .stdin("A\tpipelines/ci_job/x.py\n")
        .run(&["generate", "--diff", "-"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, "writes the job's environment to a file");
}

#[test]
fn the_thirtieth_passes_bypasses_are_refused() {
    // `/proc/self/environ` named by a pattern or a script's variables, on
    // a line whose grep a chosen name picks (ANSI-C strings and braces:
    // the subset refuses them where a value reaches; below elsewhere).
    for line in [
        "cd / && cat ./pro?/self/e*n | tr \"\\0\" \"\\n\" | grep \"^{{ pipeline_name | upper }}_\" || true",
        "grep -z \"^{{ pipeline_name | upper }}_\" /pro?/self/e*n | tr \"\\0\" \"\\n\" || true",
        "P=pro && P+=c && grep -az \"^{{ pipeline_name | upper }}_\" \"/$P/self/e${X}nviron\" || true",
    ] {
        assert_show_refused(line, "prints the environment");
    }
    // Written to a file by a line that holds no chosen word, read by one
    // that does.
    let dump = "show-{{ pipeline_name }}:\n  script:\n    - 'cat /pro?/self/e*n > vars.txt'\n    - 'grep -az \"^{{ pipeline_name | upper }}_\" vars.txt || true'\n";
    assert_writes_environment(dump);
    // Also in a fragment no chosen value reaches, spelt in ANSI-C strings.
    let lib = "dump-{{ lib_name }}:\n  script:\n    - cat /$'\\x70'roc/self/$'\\x65'nviron > vars.txt\n";
    let out = two_templates(
        dump.replace("cat /pro?/self/e*n > vars.txt", "true").as_str(),
        lib,
        "pipelines/ci_job/x.py",
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_contains(&out.stderr, "writes the job's environment to a file");
    // A file a path was written to, copied onto a script by a command that
    // does not end the line.
    for copy in [
        "cp list.txt ./run.sh || true",
        "cp list.txt ./run.sh 2>/dev/null",
        "cp list.txt ./run.sh; echo copied",
        "find . -maxdepth 1 -name list.txt -exec cp {} ./run.sh \\;",
    ] {
        assert_refused_at(
            &with_f(&["printf \"%s\\n\" \"$F\" > list.txt", copy, "bash ./run.sh"]),
            "pipelines/p1/x;touch PWNED;.py",
            "may reach `bash ./run.sh`",
        );
    }
    // Patterns that cannot name `/proc`, and variables the templates set,
    // still render, and their jobs run harmlessly.
    let (env, config) = one_rule("pipeline_name:pipelines");
    env.write("data/a.csv", "x\n");
    assert_renders(
        &env,
        &config,
        "A\tpipelines/churn/x.py\n",
        &[
            "show-{{ pipeline_name }}:\n  variables:\n    DEPLOY_ENV: dev\n    MANIFEST: pipelines/{{ pipeline_name }}/m.yaml\n  script:\n    - echo \"deploying {{ pipeline_name }} from $HOME to $DEPLOY_ENV\"\n    - grep -n \"{{ pipeline_name }}\" \"./$MANIFEST\" || true\n    - ls ./data/*.csv > listing.txt\n    - cd \"./pipelines\" && cd ..\n    - mkdir -p out && cp ./data/* out/\n",
        ],
    );
}

#[test]
fn the_thirty_first_passes_bypasses_are_refused() {
    // The environment through `/dev/fd/..` (`/proc/self`), and through a
    // script's variable named like GitLab's own.
    for line in [
        "cat /dev/fd/../e?viro? | tr \"\\0\" \"\\n\" | grep \"^{{ pipeline_name | upper }}_\" || true",
        "cd -P /dev/fd/.. && grep -az \"^{{ pipeline_name | upper }}_\" ./e?viro? || true",
    ] {
        assert_show_refused(line, "environ");
    }
    assert_refused_by(
        "pipeline_name:pipelines",
        "show-{{ pipeline_name }}:\n  script:\n    - CI_D=/pr\n    - 'grep -az \"^{{ pipeline_name | upper }}_\" \"${CI_D}oc/self/env\"\"iron\" || true'\n",
        "pipelines/ci_job/x.py",
        "environ",
    );
    // `>&FILE` writes a file.
    assert_writes_environment(
        "show-{{ pipeline_name }}:\n  script:\n    - printenv >&job.env\n    - grep \"^{{ pipeline_name | upper }}_\" job.env || true\n",
    );
    // A file a path was written to, copied onto a script by `>&`, `uniq`
    // or a backup of `cp -b`/`mv -b`.
    let head = "{%- set word = files.0.path | sh_quote %}\nnote-{{ pipeline_name }}:\n  script:\n    - {{ \"printf '%s\\n' \" ~ word ~ \" > changed.txt\" | yaml_quote }}\n";
    for tail in [
        "    - cat changed.txt >&gen.sh\n    - bash gen.sh\n",
        "    - cat changed.txt >&gen.sh\n    - source ./gen.sh\n",
        "    - uniq changed.txt gen.sh\n    - bash gen.sh\n",
        "    - cp -b -S .bak README.md changed.txt\n    - bash changed.txt.bak\n",
        "    - mv -b -S .x README.md changed.txt\n    - sh changed.txt.x\n",
    ] {
        assert_refused_at(&format!("{head}{tail}"), "pipelines/p1/x$(touch PWNED).py", "may reach");
    }
}

#[test]
fn the_thirty_second_passes_bypasses_are_refused() {
    // A folder name as a make goal: a pattern rule of the repository's
    // Makefile reads it as a variable's name.
    let (env, config) = one_rule("pipeline_name:pipelines,stage_name::pipelines");
    env.write(
        "pipelines/p1/Makefile",
        "print-%:\n\t@echo $*=$($*)\ntest:\n\t@echo tested\n",
    );
    let listing = "M\tpipelines/p1/print-CI_JOB_TOKEN/x.py\n";
    for template in [
        "build-{{ pipeline_name }}-{{ stage_name }}:\n  script:\n    - make -C \"pipelines/{{ pipeline_name }}\" {{ stage_name }}\n",
        "build-{{ pipeline_name }}-{{ stage_name }}:\n  variables:\n    DIR: pipelines/{{ pipeline_name }}\n    TARGET: {{ stage_name }}\n  script:\n    - make -C \"$DIR\" \"$TARGET\"\n",
        "build-{{ pipeline_name }}-{{ stage_name }}:\n  script:\n    - make -C \"pipelines/{{ pipeline_name }}\" {{ stage_name }}=1\n",
    ] {
        env.write("t.yml.tera", template);
        assert_eq!(attack(&config, env.path(), listing, false, template), Outcome::Refused);
        env.write("mr.diff", listing);
        let out = env.run(&["generate", "--diff", "mr.diff"]);
        assert_contains(&out.stderr, "gives `make` the goal or assignment");
    }
    // The folder as make's directory, with a goal the template writes, is fine.
    assert_renders(
        &env,
        &config,
        listing,
        &[
            "build-{{ pipeline_name }}-{{ stage_name }}:\n  script:\n    - make -C \"pipelines/{{ pipeline_name }}\" -j 2 test || true\n",
            "build-{{ pipeline_name }}-{{ stage_name }}:\n  variables:\n    STAGE: {{ stage_name }}\n  script:\n    - make -C \"pipelines/{{ pipeline_name }}\" test STAGE=\"$STAGE\" || true\n",
        ],
    );
    // A path that decides which program a line runs (a branch on its
    // special characters).
    assert_refused_at(
        "job-{{ pipeline_name }}:\n  script:\n{%- for f in files %}\n{%- if f.path is containing(\" \") %}\n    - env\n{%- else %}\n    - echo\n{%- endif %}\n{%- endfor %}\n",
        "pipelines/p1/a b.py",
        "a path may not choose the program",
    );
}

#[test]
fn the_thirty_third_passes_bypasses_are_refused() {
    // A variable's name built from a folder glued to letters, or with its
    // `-` turned into `_`.
    for (line, folder) in [
        ("echo \"${{ stage_name | upper }}TOKEN\"", "ci_job_"),
        ("echo \"$CI_JOB_T{{ stage_name | upper }}\"", "oken"),
        ("echo \"$C{{ stage_name | upper }}\"", "i_job_token"),
        (
            "echo \"token for {{ stage_name }} is ${{ stage_name | upper | replace(from=\"-\", to=\"_\") }}\"",
            "ci-job-token",
        ),
    ] {
        assert_refused_by(
            "pipeline_name:pipelines,stage_name::pipelines",
            &format!("job-{{{{ pipeline_name }}}}-{{{{ stage_name }}}}:\n  script:\n    - '{line}'\n"),
            &format!("pipelines/churn/{folder}/x.py"),
            "names the variable `$CI_JOB_TOKEN`",
        );
    }
    // A word the templates print is not a make goal they give.
    assert_refused_by(
        "pipeline_name:pipelines,stage_name::pipelines",
        "job-{{ pipeline_name }}-{{ stage_name }}:\n  script:\n    - echo \"stages are train, test or debug\"\n    - make {{ stage_name }}\n",
        "pipelines/churn/debug/x.py",
        "gives `make` the goal or assignment `debug`",
    );
    // One they give to make is.
    let (env, config) = one_rule("pipeline_name:pipelines,stage_name::pipelines");
    env.write("Makefile", "train:\n\t@echo training\n");
    assert_renders(
        &env,
        &config,
        "A\tpipelines/churn/train/x.py\n",
        &[
            "job-{{ pipeline_name }}-{{ stage_name }}:\n  script:\n    - '{% if stage_name == \"train\" %}make train{% else %}make {{ stage_name }}{% endif %}'\n",
        ],
    );
}

#[test]
fn the_thirty_fourth_passes_bypasses_are_refused() {
    // `release:` fields: the runner writes each into a shell line, in
    // double quotes.
    let release = "{%- set notes = files | map(attribute=\"path\") | join(sep=\", \") %}\nrelease-{{ pipeline_name }}:\n  stage: deploy\n  script:\n    - echo releasing\n  release:\n    tag_name: {{ pipeline_name }}-$CI_PIPELINE_IID\n    name: Release of {{ pipeline_name }}\n    description: {{ \"Changed files: \" ~ notes | yaml_quote }}\n";
    for name in ["notes-`touch PWNED`.md", "x\";touch PWNED;echo \"y.md"] {
        assert_refused(release, name, "reaches a `release:` field");
    }
    // A plain folder name in release notes is fine.
    let (env, config) = one_rule("pipeline_name:pipelines");
    assert_renders(&env, &config, "A\tpipelines/churn/notes.md\n", &[release]);
    // An image's entrypoint, a service's command: with a path, or a plain
    // name (`sh -c "...; {{ name }}"` with a folder `env`).
    let entry = "{% for f in files %}j-{{ pipeline_name }}-{{ loop.index }}:\n  script: [echo hi]\n  image:\n    name: registry.example.com/py:3\n    entrypoint: [\"sh\", \"-c\", {{ f.path | yaml_quote }}]\n{% endfor %}";
    assert_refused(entry, "`touch PWNED`.py", "entrypoint");
    let service = "j-{{ pipeline_name }}:\n  script: [echo hi]\n  services:\n    - name: registry.example.com/pg:16\n      entrypoint: [sh, -c]\n      command: [\"echo up; {{ pipeline_name }}\"]\n";
    assert_refused_by(
        "pipeline_name:pipelines",
        service,
        "pipelines/env/x.py",
        "entrypoint or command",
    );
    // A `$` name rebuilt from a part of a value.
    assert_refused_by(
        "pipeline_name:pipelines",
        "{%- set env = pipeline_name | split(pat=\".\") | last | upper %}\npush-{{ pipeline_name }}:\n  script:\n    - echo \"login failed with ${{ env }}\"\n",
        "pipelines/fraud.ci_job_token/x.py",
        "names the variable `$CI_JOB_TOKEN`",
    );
    // A path's braces in an artifacts pattern (`{..,x}` climbs to `.git`).
    assert_refused(
        "{% for f in files %}j-{{ pipeline_name }}-{{ loop.index }}:\n  script: [echo hi]\n  artifacts:\n    paths: [{{ f.path | yaml_quote }}]\n{% endfor %}",
        "{..,x}/{..,x}/{.git,x}/config",
        "into a file pattern (`artifacts:`, `cache:`",
    );
}

#[test]
fn the_thirty_fifth_and_sixth_passes_bypasses_are_refused() {
    // A `run:` step pastes its inputs into its command
    // (`echo '${{inputs.message}}'` in GitLab's echo step).
    let step = "announce-{{ pipeline_name }}:\n  run:\n{%- for f in files %}\n    - name: changed_{{ loop.index }}\n      step: gitlab.com/gitlab-org/ci-cd/runner-tools/echo-step@v1.0.0\n      inputs:\n        message: {{ f.path | yaml_quote }}\n{%- endfor %}\n";
    assert_refused(step, "x';touch PWNED;'.py", "`inputs` (of a `run:` step");
    // A plain path there is fine.
    let (env, config) = one_rule("pipeline_name:pipelines");
    assert_renders(&env, &config, "A\tpipelines/churn/notes.md\n", &[step]);
    // Pass 36: report files are archived as `artifacts:paths` are (a
    // folder named `**` would upload the clone's `.git/config`).
    assert_refused(
        "{% for f in files %}j-{{ pipeline_name }}-{{ loop.index }}:\n  script: [echo hi]\n  artifacts:\n    reports:\n      junit: [{{ f.path | yaml_quote }}]\n      coverage_report:\n        coverage_format: cobertura\n        path: {{ f.path | yaml_quote }}\n{% endfor %}",
        "**/config",
        "into a file pattern (`artifacts:`, `cache:`",
    );
}

#[test]
fn the_thirty_seventh_passes_bypasses_are_refused() {
    // The runner expands `$NAME` in artifacts and cache patterns with the
    // job's variables, then matches: a path's `$`, or a path with pattern
    // characters in a variable a pattern names, or given to `find -path`.
    let collect = "collect-{{ pipeline_name }}:\n  script: [echo collecting]\n  artifacts:\n    paths:\n{%- for f in files %}\n      - {{ f.path | yaml_quote }}\n{%- endfor %}\n";
    assert_refused(
        collect,
        "report-$AWS_SECRET_ACCESS_KEY.html",
        "adds a `$` to a file pattern",
    );
    let keep = |tail: &str| {
        format!(
            "{{% for f in files %}}keep-{{{{ pipeline_name }}}}-{{{{ loop.index }}}}:\n  variables:\n    CHANGED_FILE:\n      value: {{{{ f.path | yaml_quote }}}}\n      expand: false\n  script:\n    - ls -l \"./$CHANGED_FILE\"\n{tail}{{% endfor %}}"
        )
    };
    assert_refused(
        &keep("  artifacts:\n    paths: [\"$CHANGED_FILE\"]\n"),
        ".gi?/config",
        "pattern `$CHANGED_FILE`",
    );
    assert_refused(
        &keep("  cache:\n    paths: [\"$CHANGED_FILE\"]\n"),
        ".gi?/config",
        "pattern `$CHANGED_FILE`",
    );
    let find = "{% for f in files %}show-{{ pipeline_name }}-{{ loop.index }}:\n  variables:\n    CHANGED_FILE:\n      value: {{ f.path | yaml_quote }}\n      expand: false\n  script:\n    - find . -path \"./$CHANGED_FILE\" -type f -exec head -n 40 {} +\n{% endfor %}";
    assert_refused(find, ".gi?/config", "gives `find` the pattern");
    // The template's own glob with a plain folder, and a plain path in a
    // variable a pattern names, are fine.
    let (env, config) = one_rule("pipeline_name:pipelines");
    assert_renders(
        &env,
        &config,
        "A\tpipelines/churn/notes.md\n",
        &[
            "j-{{ pipeline_name }}:\n  script: [echo hi]\n  artifacts:\n    paths: [\"pipelines/{{ pipeline_name }}/dist/*\"]\n".to_owned(),
            keep("  artifacts:\n    paths: [\"$CHANGED_FILE\"]\n"),
        ],
    );
}

/// Outside the places GitLab is known to read as data, script or pattern,
/// a path's special characters must not reach a keyword at all (an
/// allow-list, not a reading per keyword). Before it, a path with `@`
/// picked another Vault secrets engine (`ci/db@prod`), a `:` another image
/// tag, and a runner tag, a service alias, an ID token's audience or the
/// Pages folder took whatever the name said.
#[test]
fn a_path_s_special_characters_reach_only_the_keywords_childgen_reads() {
    // A trigger job runs no script.
    let job = |keyword: &str| {
        let script = if keyword.starts_with("trigger:") {
            ""
        } else {
            "  script: [echo hi]\n"
        };
        format!(
            "{{% for f in files %}}{{% set v = \"ci/\" ~ f.path %}}j-{{{{ pipeline_name }}}}-{{{{ loop.index }}}}:\n  stage: test\n{script}  {keyword}\n{{% endfor %}}"
        )
    };
    for keyword in [
        "secrets: {DB_PASSWORD: {vault: {{ v | yaml_quote }}, file: false}}",
        "image: {name: {{ v | yaml_quote }}}",
        "tags: [{{ v | yaml_quote }}]",
        "services: [{name: postgres, alias: {{ v | yaml_quote }}}]",
        "id_tokens: {VAULT_ID_TOKEN: {aud: {{ v | yaml_quote }}}}",
        "pages: {publish: {{ v | yaml_quote }}}",
    ] {
        assert_refused(&job(keyword), "db@prod", "where childgen does not let them go");
    }
    // Nor through a variable GitLab expands there.
    let through = |keyword: &str| {
        format!(
            "{{% for f in files %}}j-{{{{ pipeline_name }}}}-{{{{ loop.index }}}}:\n  variables:\n    F: {{{{ f.path | yaml_quote }}}}\n  script: [echo hi]\n  {keyword}\n{{% endfor %}}"
        )
    };
    for keyword in [
        "image: {name: \"registry.example.com/$F\"}",
        "secrets: {DB_PASSWORD: {vault: \"ci/${F}\", file: false}}",
    ] {
        assert_refused(&through(keyword), "db@prod", "names the variable `F`, which holds");
    }
    // A key below a job (a variable's name here) is not a job name.
    assert_refused(
        &job("variables: { {{ v | yaml_quote }}: \"1\" }"),
        "db@prod",
        "only job names may hold them",
    );
    // The listed places still take such a path.
    let (env, config) = one_rule("pipeline_name:pipelines");
    let listed = [
        "variables: {CHANGED: {{ v | yaml_quote }}}",
        "artifacts: {name: {{ v | yaml_quote }}, paths: [out]}",
        "resource_group: {{ v | yaml_quote }}",
        "rules: [{changes: [{{ f.path | yaml_quote }}]}]",
        "trigger: {include: {{ v | yaml_quote }}}",
    ]
    .map(job);
    assert_renders(&env, &config, "A\tpipelines/churn/db@prod.yml\n", &listed);
}

#[test]
fn the_thirty_eighth_passes_bypasses_are_refused() {
    // GitLab pastes an `include`'s (or a component's, or a triggered
    // pipeline's) `inputs` as text wherever the file says
    // `$[[ inputs.file ]]`, in its scripts too: a path's backtick there ran
    // `touch PWNED` in the included job (`./scripts/lint.sh "$[[ inputs.file ]]"`).
    let with_inputs = |entry: &str| {
        format!(
            "{entry}\n      file: {{{{ files.0.path | yaml_quote }}}}\nnote-{{{{ pipeline_name }}}}:\n  script: [echo linting]\n"
        )
    };
    for entry in [
        "include:\n  - local: ci/lint.yml\n    inputs:",
        "include:\n  - component: $CI_SERVER_FQDN/platform/ci-components/lint@1.2.0\n    inputs:",
    ] {
        assert_refused(
            &with_inputs(entry),
            "a`touch PWNED`.py",
            "GitLab pastes an include's inputs",
        );
    }
    assert_refused(
        "lint-{{ pipeline_name }}:\n  trigger:\n    project: platform/lint-runner\n    inputs:\n      file: {{ files.0.path | yaml_quote }}\n",
        "a`touch PWNED`.py",
        "a `trigger`",
    );
}

#[test]
fn the_thirty_ninth_passes_bypasses_are_refused() {
    // A `!reference` splices a hidden job's value (a plain string, a
    // variable, a mapping with `if:`) into a script, `rules` or `tags`:
    // each is now resolved and read where it lands, and a hidden job's own
    // keys take no path's special characters.
    let lint = "{% set cmd = \"python3 scripts/lint.py \" ~ files.0.path %}.lint_cmds:\n  check: {{ cmd | yaml_quote }}\nlint-{{ pipeline_name }}:\n  script:\n    - !reference [.lint_cmds, check]\n";
    assert_refused(lint, "x.py; touch PWNED; echo", "a hidden job's own key");
    let through_variable = "{% set cmd = \"python3 scripts/lint.py \" ~ files.0.path %}.lint-defaults:\n  variables:\n    LINT_CMD: {{ cmd | yaml_quote }}\nlint-{{ pipeline_name }}:\n  script:\n    - !reference [.lint-defaults, variables, LINT_CMD]\n";
    assert_refused(
        through_variable,
        "x.py; touch PWNED; echo",
        "adds the shell operator `;`",
    );
    let condition = "{% set rule = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && \"' ~ files.0.path ~ '\" !~ /experimental/' %}.conditions:\n  release_branch:\n    if: {{ rule | yaml_quote }}\ndeploy-{{ pipeline_name }}:\n  script: [./scripts/deploy.sh]\n  rules:\n    - !reference [.conditions, release_branch]\n";
    assert_refused(condition, "x\" || \"1\" == \"1\" || \"", "a hidden job's own key");
    // A folder name that leads a runner tag, through a `!reference`.
    assert_refused_by(
        "pipeline_name:pipelines",
        ".train-settings-{{ pipeline_name }}:\n  runner: {{ pipeline_name }}\ntrain-{{ pipeline_name }}:\n  script: [echo train]\n  tags: [!reference [\".train-settings-{{ pipeline_name }}\", runner]]\n",
        "pipelines/prod-deploy/x.py",
        "is led by a value (`prod-deploy`)",
    );
    // GitLab expands `%NAME%` as `$NAME` in keywords.
    assert_refused(
        "train-{{ pipeline_name }}:\n  variables: {MODEL_FILE: {{ files.0.path | yaml_quote }}}\n  script: [echo train]\n  tags: [\"gpu-%MODEL_FILE%\"]\n",
        "a@b",
        "names the variable `MODEL_FILE`, which holds",
    );
    assert_refused_by(
        "pipeline_name:pipelines",
        "deploy-{{ pipeline_name }}:\n  script: [echo deploy]\n  environment: {name: \"review/%DEPLOY_{{ pipeline_name | upper }}%\"}\n",
        "pipelines/token/model.py",
        "(`review/%DEPLOY_TOKEN%`)",
    );
    // An input named `variables` is an input.
    assert_refused(
        "include:\n  - local: ci/lint.yml\n    inputs:\n      variables: {{ files.0.path | yaml_quote }}\nnote-{{ pipeline_name }}:\n  script: [echo hi]\n",
        "a`touch PWNED`.py",
        "`inputs` (of a `run:` step",
    );
    // A `!reference` inside the fragment is read where it lands, so the
    // common `before_script` reference no longer makes `rules:changes`
    // a script.
    // (The sandbox's YAML reader takes no tags: the run is checked here.)
    let (env, _) = one_rule("pipeline_name:pipelines");
    env.write(
        "t.yml.tera",
        "{% set first = files.0.path %}.setup:\n  before_script: [echo setting up]\ncheck-{{ pipeline_name }}:\n  before_script:\n    - !reference [.setup, before_script]\n  script: [echo checking]\n  rules:\n    - changes: [{{ first | yaml_quote }}]\n",
    );
    let out = env
        .stdin("A\tpipelines/churn/EDA final (v2).ipynb\n")
        .run(&["generate", "--diff", "-"]);
    assert_eq!(out.code, 0, "{}", out.snapshot());
    assert_contains(&out.stdout, "EDA final (v2).ipynb");
}

/// A fragment's check resolves the `!reference`s inside it; one that names
/// a job another template renders would take a value no check read in
/// this job, so the merge refuses it.
#[test]
fn a_reference_into_another_templates_job_is_refused() {
    let env = TestEnv::new();
    let config = env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    paths: [\"pipelines/*/*.py\"]\n    template: a.yml.tera\n  - stop: \"pipeline_name:pipelines\"\n    paths: [\"pipelines/*/*.md\"]\n    template: b.yml.tera\n",
    );
    env.write(
        "a.yml.tera",
        ".lint_cmds:\n  check:\n    if: '$CI_COMMIT_BRANCH == \"main\"'\nnote-{{ pipeline_name }}:\n  script: [echo noted]\n",
    );
    env.write(
        "b.yml.tera",
        "lint-{{ pipeline_name }}:\n  script: [echo linting]\n  rules:\n    - !reference [.lint_cmds, check]\n",
    );
    let out = env
        .stdin("A\tpipelines/churn/train.py\nA\tpipelines/churn/README.md\n")
        .run(&["generate", "--config", config.to_str().expect("utf-8"), "--diff", "-"]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "a `!reference` into job `.lint_cmds` takes what another template renders",
    );
}

#[test]
fn the_fortieth_passes_bypass_is_refused() {
    // `!reference [variables, X]` into the top-level `variables` another
    // template renders (merged apart from jobs, so the merge's check did
    // not see it); the referencing template printed no chosen word, so no
    // check of its own ran.
    let env = TestEnv::new();
    let config = env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: b.yml.tera\n    mode: once\n  - stop: \"pipeline_name:pipelines\"\n    template: a.yml.tera\n    mode: once\n",
    );
    env.write(
        "b.yml.tera",
        "variables:\n  FIRST_CHANGED: {{ changes.0.path | yaml_quote }}\nlint-changes:\n  script:\n    - ls -l \"./$FIRST_CHANGED\" || true\n",
    );
    env.write(
        "a.yml.tera",
        "announce:\n  script:\n    - echo \"first change:\"\n    - !reference [variables, FIRST_CHANGED]\n",
    );
    let out = env.stdin("A\tpipelines/p1/x`touch PWNED`.py\n").run(&[
        "generate",
        "--config",
        config.to_str().expect("utf-8"),
        "--diff",
        "-",
    ]);
    assert_eq!(out.code, 2, "{}", out.snapshot());
    assert_contains(
        &out.stderr,
        "a `!reference` into keyword `variables` takes what another template renders (the templates' `variables`)",
    );
}

#[test]
fn the_forty_first_passes_bypasses_are_refused() {
    // A trusted program parses its own syntax inside an argument: curl's
    // `-F "file=@./$F"` with a file `summary.txt,.git/config` uploaded the
    // clone's config (with the runner's token) too; helm's `--set` with
    // `x,image.repository=evil.example.com/miner` would set the image.
    let upload = "{#- trusted_commands: curl -#}\n{%- for f in files %}\nshare-{{ pipeline_name }}-{{ loop.index }}:\n  variables:\n    REPORT_FILE: {value: {{ f.path | yaml_quote }}, expand: false}\n  script:\n    - curl -fsS -F \"file=@./$REPORT_FILE\" -F channels=ml-review http://127.0.0.1:9/files.upload || true\n{%- endfor %}\n";
    assert_refused(
        upload,
        "summary.txt,.git/config",
        "trusts with names, not with its own syntax",
    );
    let deploy = "{#- trusted_commands: helm -#}\ndeploy-{{ pipeline_name }}:\n  variables:\n    TRIGGER_FILE: {value: {{ files.0.path | yaml_quote }}, expand: false}\n  script:\n    - helm upgrade --install model ./chart --set \"podAnnotations.triggeredBy=$TRIGGER_FILE\" || true\n";
    assert_refused(
        deploy,
        "x,image.repository=evil.example.com/miner",
        "trusts with names, not with its own syntax",
    );
    // `rules:exists` (and `changes`) are patterns: a deleted `*.yaml`
    // would match the folder's other files and skip the teardown.
    assert_refused(
        "teardown-{{ pipeline_name }}:\n  script: [echo teardown]\n  rules:\n    - exists: [{{ files.0.path | yaml_quote }}]\n      when: never\n    - when: on_success\n",
        "*.yaml",
        "into a file pattern (`artifacts:`, `cache:`, `rules:changes`",
    );
    // With a plain name, the trusted program gets it.
    let (env, config) = one_rule("pipeline_name:pipelines");
    assert_renders(&env, &config, "A\tpipelines/churn/summary.txt\n", &[upload]);
}

#[test]
fn the_forty_second_passes_bypasses_are_refused() {
    // Another template's `default:` acts on the files a path's script
    // wrote: an `after_script` that uploads what a script copied, or
    // `artifacts` that hand a written list to a later job (curl's `-F
    // @a,b` then read `../secret/KUBECONFIG`). The cross-template rule knew paths
    // in variables only.
    let copy = "stage-{{ pipeline_name }}:\n  script:\n    - mkdir -p staging\n{%- for f in files %}\n{%- set w = f.path | sh_quote %}\n    - {{ 'cp --parents -- ' ~ w ~ ' staging/' | yaml_quote }}\n{%- endfor %}\n";
    let upload = "default:\n  after_script:\n    - find staging -type f -print0 | while IFS= read -r -d '' f; do curl -sS -F \"file=@$f\" \"$UPLOAD_URL\"; done\n";
    let list = "stages: [list, upload]\nlist-{{ pipeline_name }}:\n  stage: list\n  script:\n    - mkdir -p changed\n{%- for f in files %}\n{%- set w = f.path | sh_quote %}\n    - {{ \"printf '%s\\n' \" ~ w ~ \" >> changed/\" ~ pipeline_name ~ \".txt\" | yaml_quote }}\n{%- endfor %}\n";
    let hand_on = "stages: [list, upload]\ndefault:\n  artifacts:\n    paths: [changed/]\nupload-changed:\n  stage: upload\n  script:\n    - cat changed/*.txt | while IFS= read -r f; do curl -sS -F \"file=@./$f\" \"$UPLOAD_URL\"; done\n";
    for (first, second, mode) in [(copy, upload, ""), (list, hand_on, "\n    mode: once")] {
        let env = TestEnv::new();
        let config = env.write(
            "childgen.yml",
            format!(
                "rules:\n  - stop: \"pipeline_name:pipelines\"\n    template: a.yml.tera\n  - name: second\n    stop: \"pipeline_name:pipelines\"\n    template: b.yml.tera{mode}\ntrusted_commands: [curl]\n"
            ),
        );
        env.write("a.yml.tera", first);
        env.write("b.yml.tera", second);
        let out = env
            .stdin("A\tpipelines/p1/x\nA\tpipelines/p1/x,../secret/KUBECONFIG\n")
            .run(&["generate", "--config", config.to_str().expect("utf-8"), "--diff", "-"]);
        assert_eq!(out.code, 2, "{}", out.snapshot());
        assert_contains(
            &out.stderr,
            "sets `default:` scripts, cache or artifacts, which GitLab gives every job",
        );
    }
    // A `\` escapes in GitLab's `File.fnmatch?`: `a\b.yaml` in
    // `rules:changes` matches `ab.yaml`, not the changed file. (The error
    // prints the path as it is, so this one is checked here.)
    let (env, config) = one_rule("pipeline_name:pipelines");
    let template = "check-{{ pipeline_name }}:\n  script: [echo check]\n  rules:\n    - changes: [{{ files.0.path | yaml_quote }}]\n";
    env.write("t.yml.tera", template);
    let listing = format!("A\t{}\n", git_quote("pipelines/p1/a\\b.yaml"));
    assert_eq!(attack(&config, env.path(), &listing, false, template), Outcome::Refused);
    let out = env.stdin(listing).run(&["generate", "--diff", "-"]);
    assert_contains(&out.stderr, "`{` or `\\` into a file pattern");
}

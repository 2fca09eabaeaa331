//! Every user-facing error, word for word, with its exit code. Bad input
//! exits 2 with one short paragraph: no panic, no backtrace.

use crate::snapshot;
use crate::support::{Output, TestEnv, assert_contains};

const STOP: &str = "pipeline_name:pipelines,stage_name::pipelines";

fn env_with(diff: &str, template: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("diff.txt", diff);
    env.write("t.yml.tera", template);
    env
}

fn render(env: &TestEnv) -> Output {
    env.run(&["render", "diff.txt", "t.yml.tera", STOP])
}

#[track_caller]
fn assert_clean_failure(out: &Output, code: i32) {
    assert_eq!(out.code, code, "{}", out.snapshot());
    assert!(out.stdout.is_empty(), "{}", out.snapshot());
    assert!(out.stderr.starts_with("error: ") && !out.stderr.contains("panicked") && !out.stderr.contains("backtrace"));
}

#[test]
fn malformed_diff_line() {
    let out = render(&env_with(
        "M\tpipelines/p/s/a.yaml\nQ\tpipelines/p/s/b.yaml\n",
        "j:\n  script: [x]\n",
    ));
    assert_clean_failure(&out, 2);
    snapshot!("error_malformed_diff", out);
}

#[test]
fn bad_stop_pattern() {
    let env = env_with("M\ta\n", "j: {script: [x]}\n");
    let out = env.run(&[
        "render",
        "diff.txt",
        "t.yml.tera",
        "pipeline_name:pipelines,stage name::pipelines",
    ]);
    assert_clean_failure(&out, 2);
    snapshot!("error_bad_pattern", out);
}

#[test]
fn unsafe_value_fails_closed() {
    let out = render(&env_with(
        "A\tpipelines/p/$(curl evil)/a.yaml\n",
        "j-{{ stage_name }}:\n  script: [x]\n",
    ));
    assert_clean_failure(&out, 2);
    snapshot!("error_unsafe_value", out);
}

#[test]
fn undefined_variable_inside_if() {
    let template = "j-{{ stage_name }}:\n  script: [x]\n{% if deploy_prod %}\n  when: manual\n{% endif %}\n";
    let out = render(&env_with("M\tpipelines/p/s/a.yaml\n", template));
    assert_clean_failure(&out, 2);
    snapshot!("error_undefined_variable", out);
}

#[test]
fn unquoted_file_path() {
    let template = "j-{{ stage_name }}:\n  script:\n{% for f in files %}\n    - cat {{ f.path }}\n{% endfor %}\n";
    let out = render(&env_with("M\tpipelines/p/s/a.yaml\n", template));
    assert_clean_failure(&out, 2);
    snapshot!("error_unquoted_path", out);
}

#[test]
fn template_syntax_error() {
    let out = render(&env_with(
        "M\tpipelines/p/s/a.yaml\n",
        "j:\n  script: [x]\n  stage: {% if %}\n",
    ));
    assert_clean_failure(&out, 2);
    snapshot!("error_template_syntax", out);
}

#[test]
fn fragment_is_not_a_mapping() {
    let out = render(&env_with("M\tpipelines/p/s/a.yaml\n", "- {{ stage_name }}\n"));
    assert_clean_failure(&out, 2);
    snapshot!("error_fragment_not_mapping", out);
}

#[test]
fn two_groups_define_one_job_differently() {
    let out = render(&env_with(
        "M\tpipelines/p/s1/a.yaml\nM\tpipelines/p/s2/a.yaml\n",
        "deploy:\n  script: [\"echo deploy {{ stage_name }}\"]\n",
    ));
    assert_clean_failure(&out, 2);
    snapshot!("error_merge_conflict", out);
}

/// Enough groups that they render on several threads (issue 11): the
/// output and the first conflict in group order are the same as one thread's.
#[test]
fn many_groups_merge_in_group_order() {
    let diff: String = (0..300)
        .map(|i| format!("M\tpipelines/p{:03}/s{}/a.yaml\n", i / 3, i % 3))
        .collect();
    let env = env_with(
        &diff,
        "stages: [build, {{ stage_name }}]\nbuild-{{ pipeline_name }}-{{ stage_name }}:\n  stage: build\n  script: [make]\n\
         shared:\n  stage: build\n  script: [\"echo same for all\"]\n",
    );
    let first = render(&env);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    // Stages: first-seen order; jobs: group order, the shared job once.
    assert!(
        first
            .stdout
            .contains("stages:\n- build\n- s0\n- s1\n- s2\nbuild-p000-s0:\n"),
        "{}",
        first.stdout
    );
    assert_eq!(first.stdout.matches("\nshared:\n").count(), 1, "{}", first.stdout);
    let jobs: Vec<&str> = first.stdout.lines().filter(|l| l.starts_with("build-")).collect();
    let expected: Vec<String> = (0..300).map(|i| format!("build-p{:03}-s{}:", i / 3, i % 3)).collect();
    assert_eq!(jobs, expected);
    for _ in 0..3 {
        assert_eq!(render(&env).stdout, first.stdout, "the output is deterministic");
    }
    for threads in ["1", "3"] {
        let out = env.run_with(
            &[("CHILDGEN_THREADS", threads)],
            &["render", "diff.txt", "t.yml.tera", STOP],
        );
        assert_eq!(out.stdout, first.stdout, "CHILDGEN_THREADS={threads}");
    }
    // Two late groups disagree about `shared`; the first disagreement in group
    // order is the one reported, whichever thread rendered it first.
    env.write(
        "t.yml.tera",
        "j-{{ pipeline_name }}-{{ stage_name }}:\n  script: [x]\n\
         {% if pipeline_name == \"p070\" or pipeline_name == \"p090\" %}shared:\n  script: [\"{{ pipeline_name }}\"]\n{% endif %}",
    );
    for _ in 0..3 {
        let out = render(&env);
        assert_clean_failure(&out, 2);
        assert!(
            out.stderr
                .contains("job `shared` is defined differently by template t.yml.tera (group pipeline_name=p070, stage_name=s0) and by template t.yml.tera (group pipeline_name=p090, stage_name=s0)"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn generated_pipeline_fails_validation() {
    let out = render(&env_with(
        "M\tpipelines/p/s/a.yaml\n",
        "j-{{ stage_name }}:\n  stage: release\n  needs: [build-{{ stage_name }}]\n  script: [x]\n",
    ));
    assert_clean_failure(&out, 2);
    snapshot!("error_invalid_pipeline", out);
}

#[test]
fn missing_diff_file() {
    let env = env_with("", "j: {script: [x]}\n");
    let out = env.run(&["render", "nope.txt", "t.yml.tera", STOP]);
    assert_clean_failure(&out, 2);
    snapshot!("error_missing_diff", out);
}

#[test]
fn no_rules_anywhere() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\ta\n");
    let out = env.run(&["generate", "--diff", "diff.txt"]);
    assert_clean_failure(&out, 2);
    snapshot!("error_no_rules", out);
}

#[test]
fn config_with_an_unknown_key() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\ta\n");
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"a:b\"\n    template: t.yml.tera\n    mdoe: once\n",
    );
    let out = env.run(&["generate", "--diff", "diff.txt"]);
    assert_clean_failure(&out, 2);
    snapshot!("error_config_unknown_key", out);
}

#[test]
fn usage_errors_exit_2() {
    let out = TestEnv::new().run(&["render", "only-one-arg"]);
    assert_eq!(out.code, 2);
    assert_contains(&out.stderr, "required arguments were not provided");
    let none = TestEnv::new().run(&[]);
    assert_eq!(none.code, 2);
}

#[test]
fn config_rule_with_both_stop_and_regex() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\ta\n");
    env.write("t.yml.tera", "j: {script: [x]}\n");
    env.write(
        "childgen.yml",
        "rules:\n  - name: both\n    stop: \"a:b\"\n    regex: \"(?P<a>x)\"\n    template: t.yml.tera\n",
    );
    let out = env.run(&["generate", "--diff", "diff.txt"]);
    assert_clean_failure(&out, 2);
    snapshot!("error_config_stop_and_regex", out);
}

#[test]
fn config_with_a_bad_value_type_names_the_line() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\ta\n");
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"a:b\"\n    template: t.yml.tera\n    mode: sometimes\n",
    );
    let out = env.run(&["generate", "--diff", "diff.txt"]);
    assert_clean_failure(&out, 2);
    snapshot!("error_config_bad_mode", out);
}

#[test]
fn missing_template_file() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\ta\n");
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"a:b\"\n    template: templates/nope.yml.tera\n",
    );
    let out = env.run(&["generate", "--diff", "diff.txt"]);
    assert_clean_failure(&out, 2);
    snapshot!("error_missing_template", out);
}

#[test]
fn partials_that_match_nothing() {
    let env = TestEnv::new();
    env.write("diff.txt", "M\ta\n");
    env.write("t.yml.tera", "j: {script: [x]}\n");
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"a:b\"\n    template: t.yml.tera\npartials: [\"macros/*.tera\"]\n",
    );
    let out = env.run(&["generate", "--diff", "diff.txt"]);
    assert_clean_failure(&out, 2);
    snapshot!("error_partials_match_nothing", out);
}

/// A template that renders only `stages:` for a change (its jobs are for
/// files that were not deleted) names the group that rendered no job and
/// says what to do.
#[test]
fn a_fragment_without_jobs_is_named() {
    let out = render(&env_with(
        "D\tpipelines/p/s1/a.yaml\n",
        "stages: [test]\n{% for f in files %}{% if f.status != \"D\" %}\nlint-{{ loop.index }}:\n  stage: test\n  script: [echo lint]\n{% endif %}{% endfor %}\n",
    ));
    assert_clean_failure(&out, 2);
    assert_contains(&out.stderr, "the document has no job");
    assert_contains(
        &out.stderr,
        "group pipeline_name=p, stage_name=s1 rendered no job for this change",
    );
    assert_contains(&out.stderr, "or render nothing at all");
}

#[test]
fn several_rules_render_on_every_core_and_merge_in_rule_order() {
    // Three rules whose groups render together on the threads: the output,
    // and the first error in rule then group order, do not depend on which
    // thread finished first.
    let env = TestEnv::new();
    env.write(
        "childgen.yml",
        "rules:\n  - stop: \"pipeline_name:pipelines,stage_name::pipelines\"\n    template: a.yml.tera\n  \
         - stop: \"lib:libs\"\n    template: b.yml.tera\n  - stop: \"tool:tools\"\n    template: c.yml.tera\n    mode: once\n",
    );
    env.write(
        "a.yml.tera",
        "a-{{ pipeline_name }}-{{ stage_name }}:\n  stage: test\n  script: [make]\n",
    );
    env.write(
        "b.yml.tera",
        "stages: [build, test]\nb-{{ lib }}:\n  stage: build\n  script: [make]\n",
    );
    env.write(
        "c.yml.tera",
        "c-all:\n  stage: test\n  script: [\"echo {{ groups | length }}\"]\n",
    );
    let mut diff = String::new();
    for i in 0..5 {
        diff.push_str(&format!(
            "M\tpipelines/p{i}/s/x.py\nM\tlibs/l{i}/x.py\nM\ttools/t{i}/x.py\n"
        ));
    }
    env.write("mr.diff", &diff);
    let run = |threads: &str| env.run_with(&[("CHILDGEN_THREADS", threads)], &["generate", "--diff", "mr.diff"]);
    let first = run("1");
    assert_eq!(first.code, 0, "{}", first.snapshot());
    let jobs: Vec<&str> = first
        .stdout
        .lines()
        .filter(|l| !l.starts_with([' ', '-', '#']))
        .collect();
    assert_eq!(
        jobs,
        [
            "stages:", "a-p0-s:", "a-p1-s:", "a-p2-s:", "a-p3-s:", "a-p4-s:", "b-l0:", "b-l1:", "b-l2:", "b-l3:",
            "b-l4:", "c-all:"
        ]
    );
    for threads in ["2", "3", "8", "2", "3"] {
        assert_eq!(run(threads).stdout, first.stdout, "CHILDGEN_THREADS={threads}");
    }
    // A late group of the first rule and the first group of the second
    // both fail; the first rule's is reported.
    env.write(
        "a.yml.tera",
        "{% if pipeline_name == \"p4\" %}{{ missing_a }}{% endif %}a-{{ pipeline_name }}-{{ stage_name }}:\n  script: [make]\n",
    );
    env.write(
        "b.yml.tera",
        "{% if lib == \"l0\" %}{{ missing_b }}{% endif %}b-{{ lib }}:\n  script: [make]\n",
    );
    for threads in ["1", "2", "3", "2", "3"] {
        let out = run(threads);
        assert_clean_failure(&out, 2);
        assert_contains(&out.stderr, "missing_a");
        assert!(
            !out.stderr.contains("missing_b"),
            "CHILDGEN_THREADS={threads}: {}",
            out.stderr
        );
    }
}

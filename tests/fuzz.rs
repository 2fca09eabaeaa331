//! Property tests, one or more per parser of untrusted input: the diff
//! listings (name-status, name-only, `-z`), git's path quoting, stop-word and
//! regex patterns, `childgen.yml`, the YAML depth scan, the shell tokenizer
//! and rendered-result comparison, and CI/CD expressions. No input may panic;
//! where a printer exists, parsing what it prints gives the value back.
//!
//! A normal `cargo test` runs a few hundred cases per property (seconds). The
//! long run is documented in docs/fuzzing.md:
//! `PROPTEST_CASES=200000 cargo test --release --test fuzz`.

use childgen::change::{Change, quote_path, unquote_path};
use childgen::source::diff_file::{DiffFormat, parse_listing, parse_owned};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A path git could print: segments of printable and special characters,
/// including TAB, newline, quotes, backslashes and non-ASCII.
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-zA-Z0-9._ \\-\"\\\\\t\n$`'é#:,]{1,8}", 1..4)
        .prop_map(|segments| segments.join("/"))
        .prop_filter("git paths are not empty and have no empty segment", |p| {
            !p.is_empty() && !p.split('/').any(str::is_empty)
        })
}

fn change() -> impl Strategy<Value = Change> {
    (
        path(),
        prop::sample::select(vec!['A', 'M', 'D', 'T', 'R', 'C']),
        path(),
        0u16..=100,
    )
        .prop_map(|(path, status, old, score)| match status {
            'R' | 'C' => Change::moved(status, Some(score), old, path),
            other => Change::new(other, path),
        })
}

/// Sorted by path, one entry per path: the form a listing parses to.
fn canonical(mut changes: Vec<Change>) -> Vec<Change> {
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.dedup_by(|later, first| later.path == first.path);
    changes
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn listings_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for format in [DiffFormat::NameStatus, DiffFormat::NameOnly] {
            let parsed = parse_listing(&bytes, "fuzz.diff", format);
            if let Err(e) = &parsed {
                // Errors name the input.
                prop_assert!(e.to_string().starts_with("fuzz.diff"), "{e}");
            }
            // Sharing the listing's text changes nothing but the memory.
            let shared = parse_owned(bytes.clone(), "fuzz.diff", format);
            prop_assert_eq!(
                shared.map_err(|e| e.to_string()),
                parsed.map_err(|e| e.to_string())
            );
        }
    }

    #[test]
    fn name_status_round_trips(changes in prop::collection::vec(change(), 0..12)) {
        let listing: String = changes.iter().map(|c| format!("{c}\n")).collect();
        let parsed = parse_listing(listing.as_bytes(), "fuzz.diff", DiffFormat::NameStatus);
        let shared = parse_owned(listing.clone().into_bytes(), "fuzz.diff", DiffFormat::NameStatus);
        prop_assert_eq!(&shared.ok(), &parsed.as_ref().ok().cloned(), "{}", listing);
        prop_assert_eq!(parsed.ok(), Some(canonical(changes)), "{}", listing);
    }

    #[test]
    fn name_status_z_round_trips(changes in prop::collection::vec(change(), 1..12)) {
        let mut listing = Vec::new();
        for c in &changes {
            let status = match c.score {
                Some(score) => format!("{}{score:03}", c.status),
                None => c.status.to_string(),
            };
            listing.extend_from_slice(status.as_bytes());
            listing.push(0);
            if let Some(old) = &c.old_path {
                listing.extend_from_slice(old.as_bytes());
                listing.push(0);
            }
            listing.extend_from_slice(c.path.as_bytes());
            listing.push(0);
        }
        let parsed = parse_listing(&listing, "fuzz.diff", DiffFormat::NameStatus);
        prop_assert_eq!(parsed.ok(), Some(canonical(changes)));
    }

    #[test]
    fn a_name_never_changes_another_paths_status(name in path(), real in path()) {
        // An added file named like a status line stays one added file.
        let listing = format!("A\t{}\nM\t{}\n", quote_path(&format!("D {real}")), quote_path(&name));
        let parsed = parse_listing(listing.as_bytes(), "fuzz.diff", DiffFormat::NameStatus).ok();
        let parsed = parsed.unwrap_or_default();
        prop_assert!(parsed.iter().all(|c| c.status != 'D'), "{:?}", parsed);
    }

    #[test]
    fn git_quoting_round_trips(bytes in prop::collection::vec(1u8..=255, 1..64)) {
        let path = childgen::change::path_from_bytes(&bytes);
        let quoted = quote_path(&path);
        if quoted.starts_with('"') {
            prop_assert_eq!(unquote_path(&quoted), Ok(path));
        } else {
            prop_assert_eq!(quoted, path);
        }
    }

    #[test]
    fn unquoting_never_panics(text in "\"[\\\\0-7a-z\"nt]{0,24}\"?") {
        let _ = unquote_path(&text);
    }

    #[test]
    fn patterns_never_panic(spec in "[a-z_:,.*()?<>\\[\\]\\\\/^$P-]{0,40}", target in path()) {
        if let Ok(pattern) = childgen::pattern::Pattern::parse_stop(&spec) {
            let _ = pattern.extract(&target);
        }
        if let Ok(pattern) = childgen::pattern::Pattern::parse_regex(&spec) {
            let _ = pattern.extract(&target);
        }
    }

    #[test]
    fn configs_never_panic(text in "(rules|stop|regex|template|mode|vars|values|partials|limits|[-:{}\\[\\], \n\"'a-z0-9]){0,60}") {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let file = dir.path().join("childgen.yml");
        std::fs::write(&file, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if let Err(e) = childgen::config::Config::load(&file) {
            prop_assert!(e.to_string().contains("childgen.yml"), "{e}");
        }
    }

    #[test]
    fn the_depth_scan_never_panics(text in "[\\[\\]{}\"' #\n\t-a:]{0,300}") {
        let _ = childgen::files::check_yaml_depth(&text);
    }

    #[test]
    fn shell_words_never_panic(line in "[ -~\n\té]{0,80}") {
        let _ = childgen::safety::shell_words(&line);
    }

    #[test]
    fn a_document_has_its_own_shape(lines in prop::collection::vec("[ -~\néø€]{0,30}", 0..6), key in "[a-z]{1,8}") {
        let doc: serde_yaml::Mapping = std::iter::once((
            serde_yaml::Value::String(key),
            serde_yaml::to_value(serde_json::json!({"script": lines, "variables": {"A": "x"}}))
                .map_err(|e| TestCaseError::fail(e.to_string()))?,
        ))
        .collect();
        // Identical documents differ nowhere; the only refusal left is a script
        // line that leaves a quote open before whatever the runner reads next
        // (unsafe whatever the path).
        if let Ok(Some(d)) | Err(d) = childgen::safety::compare(&doc, &doc, &childgen::safety::Known::default()) {
            prop_assert!(d.detail.contains("leaves a quote"), "{:?}", d);
        }
    }

    #[test]
    fn expressions_never_panic(text in "(\\$[A-Z_]{1,6}|\"[a-z]*\"|/[a-z.*^$]*/i?|==|!=|=~|!~|&&|\\|\\||\\(|\\)|null| ){0,12}") {
        let variables = childgen::rules::Variables::for_pipeline(
            &childgen::rules::Planned::MergeRequest { branch: "b".to_owned() },
            "main",
        );
        let _ = childgen::rules::evaluate(&text, &variables);
    }
}

/// jsonschema's run-time validator of the schema childgen embeds, compiled
/// the way childgen's build-time one is (draft 7, RE2-style patterns): the
/// reference the built-in check is held against.
fn run_time_schema() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let text = include_str!("../schemas/gitlab-ci.json");
        let schema: serde_json::Value = serde_json::from_str(text).expect("the schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(&schema)
            .expect("the schema compiles")
    })
}

/// A value a job could hold: the words, numbers and shapes the schema treats
/// specially (enums, formats, patterns, ranges), nested.
fn ci_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "on_success",
            "on_failure",
            "always",
            "never",
            "manual",
            "delayed",
            "sometimes",
            "push",
            "pull",
            "if-not-present",
            "stop",
            "prepare",
            "1 day",
            "$CI_COMMIT_BRANCH == \"main\"",
            "https://example.com/x",
            "not a uri ::%%",
            "a b",
            "",
            "2024-01-01T00:00:00Z",
            "yesterday",
            "/Total: \\d+%/",
            "([",
            "main",
            "build",
            "test",
            "deploy",
            ".pre",
            "alpine:3",
            "tags/*",
            "*.yml",
            "x/y.yml",
            "project/x",
            "depend",
            "strategy",
            "mirror",
            "script_failure",
            "bogus_failure",
            "true",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        prop::sample::select(vec![
            json!(0),
            json!(1),
            json!(2),
            json!(3),
            json!(201),
            json!(-1),
            json!(1.5)
        ]),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(ci_key(), inner, 0..4)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Keys of jobs and of the objects inside them, a few misspelt.
fn ci_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "script",
        "before_script",
        "stage",
        "when",
        "rules",
        "if",
        "changes",
        "exists",
        "needs",
        "job",
        "artifacts",
        "artifcats",
        "paths",
        "expire_in",
        "image",
        "name",
        "entrypoint",
        "pull_policy",
        "services",
        "variables",
        "environment",
        "url",
        "action",
        "cache",
        "key",
        "policy",
        "trigger",
        "include",
        "project",
        "branch",
        "strategy",
        "forward",
        "retry",
        "max",
        "exit_codes",
        "allow_failure",
        "parallel",
        "matrix",
        "extends",
        "tags",
        "timeout",
        "coverage",
        "release",
        "tag_name",
        "description",
        "released_at",
        "interruptible",
        "dependencies",
        "local",
        "remote",
        "file",
        "inputs",
        "A",
        "B",
    ])
    .prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(config())]

    /// The schema check childgen runs (compiled into Rust at build time)
    /// says what jsonschema's run-time validator of the same schema says.
    #[test]
    fn the_built_in_schema_check_agrees_with_the_run_time_validator(
        jobs in prop::collection::btree_map(
            prop::sample::select(vec!["build", ".hidden", "stages", "variables", "default", "workflow", "include"]),
            prop_oneof![
                ci_value(),
                prop::collection::btree_map(ci_key(), ci_value(), 0..5)
                    .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
            ],
            1..4,
        )
    ) {
        let json = serde_json::Value::Object(jobs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        let doc: serde_yaml::Mapping =
            serde_yaml::from_value(serde_yaml::to_value(&json).map_err(|e| TestCaseError::fail(e.to_string()))?)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let problems = childgen::schema::check(&doc);
        let expected = run_time_schema().is_valid(&json);
        prop_assert_eq!(problems.is_empty(), expected, "{} -> {:?}", json, problems);
    }
}

proptest! {
    #![proptest_config(config())]

    /// Quoting for GitLab's YAML 1.1 reader never changes what YAML 1.2 reads,
    /// whatever the strings: the quoted text is the same document.
    #[test]
    fn quoting_for_yaml_1_1_keeps_the_document(
        entries in prop::collection::btree_map(
            "[a-zA-Z0-9:,._+ \\n'\"#~=<>!&*%@-]{1,10}",
            prop::collection::vec("[a-zA-Z0-9:,._+ \\n'\"#~=<>!&*%@-]{0,12}", 0..4),
            1..4,
        )
    ) {
        let value: serde_yaml::Value = serde_yaml::to_value(&entries).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = serde_yaml::to_string(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let quoted = childgen::yaml11::quote(text.clone()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let back: serde_yaml::Value = serde_yaml::from_str(&quoted).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The shortcut the merge takes: a value none of whose strings may
        // need quotes has nothing quoted.
        if !childgen::yaml11::may_need_quotes(&value) {
            prop_assert_eq!(&quoted, &text);
        }
        prop_assert_eq!(back, value, "{}", quoted);
    }
}

/// Shell syntax of every kind the subset reads or refuses, beyond the
/// builtins and arguments of [`SHELL_NAMES`] and [`SHELL_ARGUMENTS`].
const SHELL_PIECES: [&str; 34] = [
    "a=(x)",
    "a=(x)echo",
    "printf -v",
    "==",
    "a",
    "${!G}",
    "${F@P}",
    "${F:1}",
    "`echo $F`",
    "$((F))",
    "a[$F]=1",
    "x=$F",
    ";",
    "&&",
    "||",
    "|",
    "\n",
    "{",
    "}",
    "[[",
    "]]",
    "if",
    "then",
    "fi",
    "for v in",
    "do",
    "done",
    "<<<",
    "<<E\n$F\nE",
    "#",
    "'",
    "\"",
    "\\",
    "$'\\x41'",
];

/// The values the attack puts in `F`, `K`, `G`, `H` and `PS4`: code in every form
/// bash might evaluate, and the options that make builtins evaluate the
/// next word as a name.
fn attack_environment(dir: &std::path::Path) -> [(&'static str, String); 5] {
    let pwned = dir.join("PWNED");
    let pwned = pwned.display();
    [
        ("F", format!("a[$(touch {pwned})]")),
        ("K", format!("`touch {pwned}`;touch {pwned};$(touch {pwned})")),
        ("G", "-v".to_owned()),
        ("PS4", format!("$(touch {pwned})")),
        ("H", "-p".to_owned()),
    ]
}

/// Builtins (those the subset allows and those it refuses) as command names.
const SHELL_NAMES: [&str; 30] = [
    "a=(-v \"$F\"); test",
    "a=(-v \"$F\"); [",
    "jobs -x",
    "nice",
    "timeout 1",
    "env",
    "echo",
    "printf",
    "test",
    "[",
    "read",
    "mapfile",
    "unset",
    "export",
    "readonly",
    "wait",
    "cd",
    "set",
    "shopt",
    ":",
    "true",
    "eval",
    "declare",
    "let",
    "trap",
    "command",
    "exec",
    "source",
    "x=\"$F\"",
    "G=a",
];

/// Arguments: options that make builtins evaluate a name, and every form
/// of reference to the variables.
const SHELL_ARGUMENTS: [&str; 47] = [
    "\"${a[@]}\"",
    "\"$@\"",
    "\"$K\"",
    "$K",
    "-v",
    "-p",
    "-C",
    "-eq",
    "-n",
    "-r",
    "-a",
    "--",
    "=",
    "!=",
    "]",
    "\"$F\"",
    "$F",
    "\"$G\"",
    "$G",
    "\"$H\"",
    "$H",
    "x",
    "'a[$F]'",
    "\"${F%.py}\"",
    "${F:-y}",
    "${G:-$F}",
    "\"$(echo \"$F\")\"",
    "$(echo $G)",
    "\"${F// /_}\"",
    "\"$x\"",
    "$x",
    ">/dev/null",
    "<<< \"$F\"",
    "'-v'",
    "-o",
    "!",
    "(",
    ")",
    "-pd",
    "-ra",
    "-rd",
    "''",
    "\"$_\"",
    "\"$REPLY\"",
    "\"${PS4:=$F}\"",
    "{}",
    "a$",
];

/// A line of commands built from [`SHELL_NAMES`] and [`SHELL_ARGUMENTS`],
/// joined by operators, maybe inside a compound command.
fn structured_line() -> impl Strategy<Value = String> {
    let command = (
        prop::sample::select(SHELL_NAMES.to_vec()),
        prop::collection::vec(prop::sample::select(SHELL_ARGUMENTS.to_vec()), 0..7),
    )
        .prop_map(|(name, args)| std::iter::once(name).chain(args).collect::<Vec<_>>().join(" "));
    (
        prop::collection::vec(command, 1..4),
        prop::collection::vec(prop::sample::select(vec![" ; ", " && ", " || ", " | ", "\n"]), 3),
        prop::sample::select(vec![
            "{}",
            "if {}; then :; fi",
            "for v in \"$F\" $G; do {}; done",
            "( {} )",
            "{ {}; }",
            "x=$({})",
            "echo \"$({})\"",
            "[[ -n \"$F\" ]] && {}",
            "while {}; do break; done",
            "case \"$F\" in *) {};; esac",
            "set -x; {}",
        ]),
    )
        .prop_map(|(commands, joins, wrapper)| {
            let mut line = String::new();
            for (i, command) in commands.iter().enumerate() {
                if i > 0 {
                    line.push_str(joins[i - 1]);
                }
                line.push_str(command);
            }
            wrapper.replacen("{}", &line, 1)
        })
}

/// `[ ... ]` and `test ...` with operators, operands and the variables in
/// every arrangement: bash reads them by count and position.
fn test_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["[", "test", "a=(-v \"$F\"); [", "a=(-v \"$F\"); test"]),
        prop::collection::vec(
            prop::sample::select(vec![
                "x",
                "-a",
                "-o",
                "!",
                "(",
                ")",
                "-n",
                "-e",
                "=",
                "-eq",
                "\"$G\"",
                "\"$F\"",
                "$G",
                "$F",
                "\"$K\"",
                "\"${a[@]}\"",
            ]),
            1..8,
        ),
    )
        .prop_map(|(name, args)| {
            let close = if name.ends_with('[') { " ]" } else { "" };
            format!("{name} {}{close}", args.join(" "))
        })
}

/// Every piece the soup draws from: [`SHELL_PIECES`] and the structured
/// generator's names and arguments.
fn soup_pieces() -> Vec<&'static str> {
    SHELL_PIECES
        .iter()
        .chain(&SHELL_NAMES)
        .chain(&SHELL_ARGUMENTS)
        .copied()
        .collect()
}

/// Random pieces of [`SHELL_PIECES`], glued with and without blanks.
fn soup_line() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(soup_pieces()), 1..9),
        prop::collection::vec(prop::sample::select(vec![" ", " ", " ", "; ", ""]), 8),
    )
        .prop_map(|(pieces, glue)| {
            let mut line = String::new();
            for (i, piece) in pieces.iter().enumerate() {
                line.push_str(piece);
                line.push_str(glue[i % glue.len()]);
            }
            line
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: config().cases.clamp(1024, 20_000), ..config() })]

    /// The shell subset's claim, by attack: a line it accepts, made of
    /// builtins and syntax only, never runs what a variable holds, however
    /// bash reads it. Lines it accepts also parse in bash (`bash -n`).
    #[test]
    fn bash_never_runs_a_variable_of_a_line_the_subset_accepts(line in prop_oneof![structured_line(), soup_line(), test_line()]) {
        if childgen::subset::check(&line).is_ok() {
            let dir = tempfile::tempdir().unwrap();
            let script = dir.path().join("script.sh");
            std::fs::write(&script, &line).unwrap();
            let syntax = std::process::Command::new("bash")
                .arg("-n")
                .arg(&script)
                .current_dir(dir.path())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            prop_assert!(syntax.success(), "the subset accepts what bash cannot parse: {line:?}");
            let mut bash = std::process::Command::new("timeout");
            bash.args(["5", "bash"]).arg(&script)
                .current_dir(dir.path())
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            for (name, value) in attack_environment(dir.path()) {
                bash.env(name, value);
            }
            bash.status().unwrap();
            prop_assert!(!dir.path().join("PWNED").exists(), "bash ran a variable's value: {line:?}");
        }
    }
}

/// Values of every kind, with strings that are plain, quoted by libyaml,
/// read otherwise by YAML 1.1 or 1.2, or long.
fn yaml_value() -> impl Strategy<Value = serde_yaml::Value> {
    use serde_yaml::Value;
    let text = prop_oneof![
        "[a-zA-Z$/_][a-zA-Z0-9 $/_:#.,\\-\"'{}\\[\\]=@*&!|>%?]{0,14}",
        "[ -~\té]{0,6}",
        prop::sample::select(vec![
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "true",
            "Null",
            "~",
            "inf",
            "nan",
            ".inf",
            "0x1f",
            "1e3",
            "012",
            "1_000",
            "2024-01-15",
            "a:",
            "a: b",
            "a #b",
            "a#b",
            "-a",
            "- a",
            "? a",
            "---",
            "...",
            "x".repeat(130).leak(),
        ])
        .prop_map(str::to_owned),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        text.clone().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            prop::collection::vec((text.clone(), inner), 0..5)
                .prop_map(|pairs| Value::Mapping(pairs.into_iter().map(|(k, v)| (Value::String(k), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: config().cases.max(2048), ..config() })]

    /// childgen's direct writer of an entry writes what serde_norway would,
    /// byte for byte, whenever it writes at all.
    #[test]
    fn the_direct_writer_agrees_with_serde_norway(key in "[a-z$_][a-z0-9: #-]{0,8}", value in yaml_value()) {
        let key = serde_yaml::Value::String(key);
        if let Some(text) = childgen::emit::entry(&key, &value) {
            let mut map = serde_yaml::Mapping::new();
            map.insert(key, value);
            prop_assert_eq!(text, serde_yaml::to_string(&map).unwrap());
        }
    }
}

/// Lines of block YAML as templates write them: keys, items, item
/// mappings, flow lists, quotes, comments and blank lines at any indent,
/// with values that are plain, typed, quoted, or not YAML at all.
fn yaml_text() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[a-z$/_.][a-z0-9 $/_.:#=\"'-]{0,10}",
        prop::sample::select(vec![
            "",
            "1",
            "-1",
            "012",
            "0x1f",
            "1.5",
            ".inf",
            "1e3",
            "true",
            "False",
            "null",
            "~",
            "yes",
            "a: b",
            "a:b",
            "a #b",
            "a#b",
            "[]",
            "{}",
            "[a, b]",
            "[docker:27-dind]",
            "[?x]",
            "--- x",
            "... 2",
            "[--- x]",
            "[:x]",
            "[-x]",
            "[x:]",
            "[a:b, c]",
            "[a, [b]]",
            "[a, ]",
            "[ ]",
            "{a: b}",
            "\"a b\"",
            "\"a\\nb\"",
            "'it''s'",
            "'a'b'",
            "&x a",
            "*x",
            "!t a",
            "|",
            ">",
            "-",
            "- a",
            "? a",
            "%x",
            "@x",
            "`x`",
            "é",
            "a\tb",
            "<<",
            ":a",
            "a:",
            "a ",
        ])
        .prop_map(str::to_owned),
    ];
    let key = prop_oneof![
        "[a-z.$_][a-z0-9:_-]{0,6}",
        prop::sample::select(vec![
            "1",
            "true",
            "null",
            "<<",
            "\"q\"",
            "a b",
            "a #b",
            "-",
            "? k",
            ".inf",
            "x".repeat(1100).leak()
        ])
        .prop_map(str::to_owned),
    ];
    let line = (0usize..7, 0usize..6, key, value).prop_map(|(indent, kind, key, value)| {
        let pad = " ".repeat(indent);
        match kind {
            0 => format!("{pad}{key}: {value}"),
            1 => format!("{pad}{key}:"),
            2 => format!("{pad}- {value}"),
            3 => format!("{pad}- {key}: {value}"),
            4 => format!("{pad}# {value}"),
            _ => String::new(),
        }
    });
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: config().cases.max(4096), ..config() })]

    /// childgen's reader of plain block YAML gives what serde_norway gives
    /// whenever it gives anything: on text as templates write it, and on
    /// what serde_norway itself writes.
    #[test]
    fn the_plain_reader_agrees_with_serde_norway(text in yaml_text(), value in yaml_value()) {
        let written = serde_yaml::to_string(&value).unwrap();
        for text in [text, written] {
            if let Some(read) = childgen::fastyaml::parse(&text) {
                let expected: Result<serde_yaml::Value, _> = serde_yaml::from_str(&text);
                prop_assert!(expected.is_ok(), "read {text:?}, which serde_norway refuses: {expected:?}");
                prop_assert_eq!(read, expected.unwrap(), "{:?}", text);
            }
        }
    }
}

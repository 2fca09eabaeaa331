//! GitLab's CI JSON schema, checked at run time (issue 10): what GitLab
//! itself would reject (`artifcats:`, `when: sometimes`) fails `generate` and
//! `validate` with the job and key named, before anything is written. The
//! schema is the one GitLab ships for editors
//! (`app/assets/javascripts/editor/schema/ci.json`), copied in
//! `schemas/gitlab-ci.json` and translated into Rust checks at build time.

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use serde_yaml::Mapping;

/// GitLab's schema, compiled into Rust checks when childgen is built (the
/// `validator` macro of the jsonschema crate): nothing is parsed or compiled
/// when childgen runs. Draft 7 as the schema says; its patterns are GitLab's
/// RE2-style ones, which the regex crate reads as RE2 does.
#[jsonschema::validator(path = "schemas/gitlab-ci.json", draft = Draft7, pattern_options = { engine = regex })]
struct GitlabCi;

/// At most this many schema problems are listed.
pub const MAX_PROBLEMS: usize = 20;

/// What GitLab's schema says is wrong with `doc`, one message per problem,
/// each naming the job (or keyword) and the key.
#[must_use]
pub fn check(doc: &Mapping) -> Vec<String> {
    let entries: Vec<(&serde_yaml::Value, &serde_yaml::Value)> = doc.iter().collect();
    let mut problems = Vec::new();
    check_entries(&entries, &mut problems);
    finish(problems)
}

/// Checks top-level entries one at a time (the root schema has no rule that
/// relates two top-level keys, so this says what checking the whole document
/// says), adding one message per problem to `problems`. One entry's JSON
/// form at a time is all the memory this takes, and a valid entry takes the
/// validator's fast path.
pub fn check_entries(entries: &[(&serde_yaml::Value, &serde_yaml::Value)], problems: &mut Vec<String>) {
    for (key, value) in entries {
        let instance = match entry_to_json(key, value) {
            Ok(instance) => instance,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        if GitlabCi::is_valid(&instance) {
            continue;
        }
        for error in GitlabCi::iter_errors(&instance) {
            let message = describe(most_specific(&error));
            if !problems.contains(&message) {
                problems.push(message);
            }
            if problems.len() > MAX_PROBLEMS {
                return;
            }
        }
    }
}

/// The problems to report: each once, at most [`MAX_PROBLEMS`].
#[must_use]
pub fn finish(problems: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for problem in problems {
        if unique.len() == MAX_PROBLEMS {
            unique.push(format!("(only the first {MAX_PROBLEMS} schema problems are listed)"));
            break;
        }
        if !unique.contains(&problem) {
            unique.push(problem);
        }
    }
    unique
}

/// `{key: value}` as JSON.
fn entry_to_json(key: &serde_yaml::Value, value: &serde_yaml::Value) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    out.insert(json_key(key)?, to_json(value)?);
    Ok(Value::Object(out))
}

/// The document as JSON, the way GitLab reads it: `!reference [a, b]` is the
/// list `[a, b]` (the schema describes it so), keys are strings.
fn to_json(value: &serde_yaml::Value) -> Result<Value, String> {
    Ok(match value {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(*b),
        serde_yaml::Value::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        serde_yaml::Value::String(s) => Value::String(s.clone()),
        serde_yaml::Value::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        serde_yaml::Value::Mapping(map) => mapping_to_json(map)?,
        serde_yaml::Value::Tagged(tagged) => to_json(&tagged.value)?,
    })
}

fn mapping_to_json(map: &Mapping) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    for (key, value) in map {
        out.insert(json_key(key)?, to_json(value)?);
    }
    Ok(Value::Object(out))
}

fn json_key(key: &serde_yaml::Value) -> Result<String, String> {
    match key {
        serde_yaml::Value::String(s) => Ok(s.clone()),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("the key {} is not a string", crate::merge::kind(other))),
    }
}

/// Inside `anyOf`/`oneOf`, the deepest failure of the branches (the one
/// closest to what the author meant); a type mismatch loses to any other kind
/// at the same depth.
fn most_specific<'e>(error: &'e ValidationError<'e>) -> &'e ValidationError<'e> {
    let (ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }) = error.kind() else {
        return error;
    };
    let rank = |e: &ValidationError| {
        let depth = e.instance_path().to_string().matches('/').count();
        let precise = !matches!(
            e.kind(),
            ValidationErrorKind::Type { .. }
                | ValidationErrorKind::AnyOf { .. }
                | ValidationErrorKind::OneOfNotValid { .. }
                | ValidationErrorKind::Required { .. }
        );
        (depth, precise)
    };
    context
        .iter()
        .flatten()
        .map(|e| most_specific(e))
        .fold(None::<&ValidationError>, |best, e| match best {
            Some(b) if rank(b) >= rank(e) => Some(b),
            _ => Some(e),
        })
        .unwrap_or(error)
}

/// `job `x`: `when`: "sometimes" is not one of ...`
fn describe(error: &ValidationError) -> String {
    let pointer = error.instance_path().to_string();
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let value = shown(error.instance());
    let (subject, keys) = match segments.split_first() {
        None => ("the document".to_owned(), Vec::new()),
        Some((top, rest)) if crate::merge::GLOBAL_KEYWORDS.contains(&top.as_str()) => {
            (format!("`{top}`"), rest.to_vec())
        }
        Some((top, rest)) => (format!("job `{top}`"), rest.to_vec()),
    };
    let key = keys
        .iter()
        .map(|k| {
            if k.bytes().all(|b| b.is_ascii_digit()) {
                format!("[{k}]")
            } else {
                format!(".{k}")
            }
        })
        .collect::<String>();
    let at = if key.is_empty() {
        subject
    } else {
        format!("{subject}: `{}`", key.trim_start_matches('.'))
    };
    let problem = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names = unexpected
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let noun = if unexpected.len() == 1 { "key" } else { "keys" };
            format!("unknown {noun} {names} (GitLab would reject it; check the spelling)")
        }
        ValidationErrorKind::Enum { options } => {
            let options = options
                .as_array()
                .map(|o| o.iter().map(shown).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            format!("{value} is not one of {options}")
        }
        ValidationErrorKind::Type { kind } => format!("{value} is not {}", type_name(kind)),
        ValidationErrorKind::Required { property } => format!("`{}` is missing", property.as_str().unwrap_or("?")),
        ValidationErrorKind::Pattern { pattern } => format!("{value} does not match `{pattern}`"),
        _ => error.to_string(),
    };
    format!("{at}: {problem} (GitLab's CI schema)")
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => format!("{} {t}", article(&t.to_string())),
        jsonschema::error::TypeKind::Multiple(set) => {
            let names: Vec<String> = set.iter().map(|t| t.to_string()).collect();
            format!("one of the types {}", names.join(", "))
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A JSON value for messages, at most 60 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<String> {
        check(&serde_yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn a_valid_pipeline_passes() {
        let yaml = "stages: [test]\n.base: {image: x}\nj:\n  extends: .base\n  stage: test\n  script: [echo, !reference [.base, script]]\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: manual\n";
        assert_eq!(problems(yaml), Vec::<String>::new());
    }

    #[test]
    fn misspelt_keys_and_bad_values_name_the_job_and_key() {
        assert_eq!(
            problems("j:\n  script: [x]\n  artifcats: {paths: [a]}\n"),
            ["job `j`: unknown key `artifcats` (GitLab would reject it; check the spelling) (GitLab's CI schema)"]
        );
        let when = problems("j:\n  script: [x]\n  when: sometimes\n");
        assert_eq!(when.len(), 1, "{when:?}");
        assert!(
            when[0].starts_with("job `j`: `when`: \"sometimes\" is not one of \"on_success\""),
            "{when:?}"
        );
        let rules = problems("j:\n  script: [x]\n  rules:\n    - if: $X\n      when: sometimes\n");
        assert!(rules[0].starts_with("job `j`: `rules[0].when`:"), "{rules:?}");
    }
}

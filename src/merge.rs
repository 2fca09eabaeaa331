//! Parsing rendered fragments and merging them into one document (design §4,
//! §7): `stages` is an ordered union, `variables` merge key-wise, and any other
//! key defined by several fragments must be identical.

use crate::error::{Error, Result};
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;

/// Top-level keys that are GitLab keywords, not jobs.
pub const GLOBAL_KEYWORDS: [&str; 11] = [
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

/// Keywords placed first in the output, in this order.
const LEADING_KEYS: [&str; 5] = ["workflow", "default", "include", "stages", "variables"];

/// One rendered template, parsed.
#[derive(Debug, Clone)]
pub struct Fragment {
    /// Which template and group produced it, for messages.
    pub origin: String,
    /// The parsed mapping, anchors and merge keys expanded.
    pub doc: Mapping,
}

/// Parses one rendered fragment. Text with only blanks or comments gives
/// `None` (the fragment is skipped).
///
/// # Errors
/// [`Error::Fragment`] when the text is not YAML or not a mapping.
pub fn parse_fragment(text: &str, template: &str, group: &str) -> Result<Option<Mapping>> {
    let fail = |detail: String| Error::Fragment {
        template: template.to_owned(),
        group: group.to_owned(),
        detail,
    };
    let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
        let shown = e
            .location()
            .and_then(|l| text.lines().nth(l.line() - 1))
            .map(|l| format!(" (rendered line: {l:?})"))
            .unwrap_or_default();
        fail(format!("the rendered YAML does not parse: {e}{shown}"))
    })?;
    value
        .apply_merge()
        .map_err(|e| fail(format!("a `<<` merge key cannot be applied: {e}")))?;
    match value {
        Value::Null => Ok(None),
        Value::Mapping(doc) => Ok(Some(doc)),
        other => Err(fail(format!(
            "the rendered YAML must be a mapping of jobs and keywords, not {}",
            kind(&other)
        ))),
    }
}

/// A short name for a YAML value's kind.
#[must_use]
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// How a top-level key is named in messages.
fn describe(key: &Value) -> String {
    let name = key.as_str().map_or_else(|| format!("{key:?}"), str::to_owned);
    if GLOBAL_KEYWORDS.contains(&name.as_str()) {
        format!("keyword `{name}`")
    } else {
        format!("job `{name}`")
    }
}

/// Merges fragments in order into one document.
///
/// # Errors
/// [`Error::Conflict`] naming the key and both origins.
pub fn merge_fragments(fragments: &[Fragment]) -> Result<Mapping> {
    let mut merged = Mapping::new();
    let mut origins: HashMap<Value, &str> = HashMap::new();
    let mut stages = Stages::default();
    let mut variables = Mapping::new();
    let mut variable_origins: HashMap<Value, &str> = HashMap::new();
    for fragment in fragments {
        for (key, value) in &fragment.doc {
            match key.as_str() {
                Some("stages") => stages.add(value, &fragment.origin)?,
                Some("variables") => {
                    let Value::Mapping(vars) = value else {
                        return Err(Error::Merge {
                            origin: fragment.origin.clone(),
                            detail: format!("`variables` must be a mapping, not {}", kind(value)),
                        });
                    };
                    for (name, var) in vars {
                        match variables.get(name) {
                            Some(existing) if existing != var => {
                                return Err(Error::Conflict {
                                    key: format!("variable `{}`", name.as_str().unwrap_or_default()),
                                    first: variable_origins.get(name).copied().unwrap_or_default().to_owned(),
                                    second: fragment.origin.clone(),
                                });
                            }
                            Some(_) => {}
                            None => {
                                variables.insert(name.clone(), var.clone());
                                variable_origins.insert(name.clone(), &fragment.origin);
                            }
                        }
                    }
                }
                _ => match merged.get(key) {
                    Some(existing) if existing != value => {
                        return Err(Error::Conflict {
                            key: describe(key),
                            first: origins.get(key).copied().unwrap_or_default().to_owned(),
                            second: fragment.origin.clone(),
                        });
                    }
                    Some(_) => {}
                    None => {
                        merged.insert(key.clone(), value.clone());
                        origins.insert(key.clone(), &fragment.origin);
                    }
                },
            }
        }
    }
    if !stages.list.is_empty() {
        merged.insert(
            "stages".into(),
            Value::Sequence(stages.list.into_iter().map(Value::String).collect()),
        );
    }
    if !variables.is_empty() {
        merged.insert("variables".into(), Value::Mapping(variables));
    }
    Ok(order_keys(merged))
}

/// Keywords first (`workflow`, `default`, `include`, `stages`, `variables`),
/// then everything else in first-seen order.
fn order_keys(doc: Mapping) -> Mapping {
    let mut ordered = Mapping::new();
    let mut rest = Mapping::new();
    for (key, value) in doc {
        if key.as_str().is_some_and(|k| LEADING_KEYS.contains(&k)) {
            ordered.insert(key, value);
        } else {
            rest.insert(key, value);
        }
    }
    let mut out = Mapping::new();
    for name in LEADING_KEYS {
        if let Some(value) = ordered.remove(name) {
            out.insert(name.into(), value);
        }
    }
    out.extend(rest);
    out
}

/// The ordered union of every fragment's `stages`.
#[derive(Default)]
struct Stages {
    list: Vec<String>,
    origin: HashMap<String, String>,
}

impl Stages {
    fn add(&mut self, value: &Value, origin: &str) -> Result<()> {
        let names = value
            .as_sequence()
            .and_then(|seq| {
                seq.iter()
                    .map(|s| s.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| Error::Merge {
                origin: origin.to_owned(),
                detail: "`stages` must be a list of stage names".to_owned(),
            })?;
        let mut previous: Option<usize> = None;
        for (index, name) in names.iter().enumerate() {
            let position = if let Some(found) = self.list.iter().position(|s| s == name) {
                if let Some(before) = previous.filter(|p| *p > found) {
                    return Err(Error::Conflict {
                        key: format!("the order of stages `{}` and `{name}`", self.list[before]),
                        first: self.origin.get(name).cloned().unwrap_or_default(),
                        second: origin.to_owned(),
                    });
                }
                found
            } else {
                // After the stage before it, else before the first known stage after it.
                let at = previous.map_or_else(
                    || {
                        names[index + 1..]
                            .iter()
                            .find_map(|next| self.list.iter().position(|s| s == next))
                            .unwrap_or(self.list.len())
                    },
                    |p| p + 1,
                );
                self.list.insert(at, name.clone());
                self.origin.insert(name.clone(), origin.to_owned());
                at
            };
            previous = Some(position);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(origin: &str, yaml: &str) -> Result<Fragment> {
        let doc = parse_fragment(yaml, origin, "g")?.ok_or_else(|| Error::Usage("empty".into()))?;
        Ok(Fragment {
            origin: origin.to_owned(),
            doc,
        })
    }

    fn merge(parts: &[(&str, &str)]) -> Result<String> {
        let fragments = parts.iter().map(|(o, y)| fragment(o, y)).collect::<Result<Vec<_>>>()?;
        let doc = merge_fragments(&fragments)?;
        serde_yaml::to_string(&doc).map_err(|e| Error::Usage(e.to_string()))
    }

    #[test]
    fn stages_union_keeps_relative_order() -> Result<()> {
        let out = merge(&[
            ("a", "stages: [test, deploy]\nj1: {script: [x]}"),
            ("b", "stages: [build, test, verify, deploy, cleanup]\nj2: {script: [y]}"),
        ])?;
        assert!(
            out.starts_with("stages:\n- build\n- test\n- verify\n- deploy\n- cleanup\nj1:"),
            "{out}"
        );
        Ok(())
    }

    #[test]
    fn opposite_stage_order_is_a_conflict() {
        let err = merge(&[
            ("group a", "stages: [build, test]"),
            ("group b", "stages: [test, build]"),
        ])
        .map_err(|e| e.to_string());
        assert_eq!(err, Err("the order of stages `test` and `build` is defined differently by group a and by group b; make the template produce one definition, or give the jobs distinct names".to_owned()));
    }

    #[test]
    fn identical_keys_kept_once_and_conflicts_named() -> Result<()> {
        let out = merge(&[
            ("a", ".base: &b {image: x}\nj1:\n  <<: *b\n  script: [one]"),
            ("b", ".base: {image: x}\nvariables: {A: '1'}"),
            ("c", "variables: {A: '1', B: '2'}"),
        ])?;
        assert_eq!(
            out,
            "variables:\n  A: '1'\n  B: '2'\n.base:\n  image: x\nj1:\n  script:\n  - one\n  image: x\n"
        );
        let err =
            merge(&[("group p=1", "j: {script: [a]}"), ("group p=2", "j: {script: [b]}")]).map_err(|e| e.to_string());
        assert_eq!(err, Err("job `j` is defined differently by group p=1 and by group p=2; make the template produce one definition, or give the jobs distinct names".to_owned()));
        let err = merge(&[("x", "variables: {A: '1'}"), ("y", "variables: {A: '2'}")]).map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.starts_with("variable `A` is defined differently by x and by y")));
        Ok(())
    }

    #[test]
    fn malformed_stages_and_variables_name_their_origin() {
        let err =
            merge(&[("template t.yml.tera (group p=1)", "stages: build\nj: {script: [x]}")]).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("template t.yml.tera (group p=1): `stages` must be a list of stage names".to_owned())
        );
        let err = merge(&[("template t.yml.tera (group p=1)", "variables: [A]\nj: {script: [x]}")])
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("template t.yml.tera (group p=1): `variables` must be a mapping, not a list".to_owned())
        );
    }

    #[test]
    fn fragments_must_be_mappings() -> Result<()> {
        assert!(parse_fragment("# only a comment\n\n", "t", "g")?.is_none());
        let err = parse_fragment("- a\n- b\n", "t", "g").map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("template t, group g: the rendered YAML must be a mapping of jobs and keywords, not a list".to_owned())
        );
        assert!(parse_fragment("a: [\n", "t", "g").is_err());
        Ok(())
    }
}

//! The YAML of a top-level entry, written directly when every scalar in it
//! is one libyaml would write plain anyway (issue 11).
//!
//! `serde_norway` writes an entry through libyaml's emitter, event by event;
//! on the heavy benchmark that was a fifth of all instructions. Most entries
//! of a generated pipeline hold only block mappings, block sequences, and
//! strings such as `docker:27` or `pip install -r "$STAGE_DIR/x.txt"`. For
//! those, [`entry`] writes the same bytes `serde_norway::to_string` would
//! (block style, two-space indent, sequences in mappings not indented,
//! `{}`/`[]` for empty collections, no line folding); anything else (a
//! number that is not an integer, a tag, a string that libyaml or GitLab's
//! YAML 1.1 reader would treat specially) returns `None` and goes the
//! `serde_norway` way. A property test (tests/fuzz.rs) holds the two equal
//! on random documents.

use serde_yaml::{Mapping, Value};
use std::fmt::Write as _;

/// `key: value` as `serde_norway::to_string` writes it, or `None` where this
/// writer does not know that it would write the same.
#[must_use]
pub fn entry(key: &Value, value: &Value) -> Option<String> {
    let mut out = String::with_capacity(256);
    pair(&mut out, key, value, 0)?;
    Some(out)
}

/// One `key: value` pair of a block mapping whose keys start at `indent`,
/// the key already indented.
fn pair(out: &mut String, key: &Value, value: &Value, indent: usize) -> Option<()> {
    let Value::String(key) = key else { return None };
    // libyaml writes a key longer than 128 characters as `? key`.
    if key.len() > 120 || !plain(key) {
        return None;
    }
    out.push_str(key);
    out.push(':');
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            out.push('\n');
            mapping(out, map, indent + 2, false)
        }
        // A sequence in a mapping is not indented.
        Value::Sequence(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, indent, false)
        }
        other => {
            out.push(' ');
            scalar(out, other)?;
            out.push('\n');
            Some(())
        }
    }
}

/// A block mapping at `indent`; `inline`: its first key follows a `- `.
fn mapping(out: &mut String, map: &Mapping, indent: usize, inline: bool) -> Option<()> {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline {
            push_indent(out, indent);
        }
        pair(out, key, value, indent)?;
    }
    Some(())
}

/// A block sequence whose `- ` start at `indent`; `inline`: its first item
/// follows a `- `.
fn sequence(out: &mut String, items: &[Value], indent: usize, inline: bool) -> Option<()> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Mapping(map) if !map.is_empty() => mapping(out, map, indent + 2, true)?,
            Value::Sequence(inner) if !inner.is_empty() => sequence(out, inner, indent + 2, true)?,
            other => {
                scalar(out, other)?;
                out.push('\n');
            }
        }
    }
    Some(())
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar, or an empty collection, as libyaml writes it.
fn scalar(out: &mut String, value: &Value) -> Option<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) if n.is_u64() || n.is_i64() => {
            let _ = write!(out, "{n}");
        }
        Value::String(text) if plain(text) => out.push_str(text),
        Value::Mapping(map) if map.is_empty() => out.push_str("{}"),
        Value::Sequence(items) if items.is_empty() => out.push_str("[]"),
        _ => return None,
    }
    Some(())
}

/// Whether libyaml writes `text` plain in block context, `serde_norway`
/// asks for no quotes (it reads back as this string, not a boolean, null
/// or number), and GitLab's YAML 1.1 reader reads it as this string too.
/// Conservative: text that starts with a letter, `$`, `/` or `_`, holds
/// only printable ASCII, does not end in a space, and has no `: `, ` #` or
/// trailing `:`.
fn plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || matches!(first, b'$' | b'/' | b'_')) || bytes[bytes.len() - 1] == b' ' {
        return false;
    }
    let mut previous = b' ';
    for (i, &b) in bytes.iter().enumerate() {
        if !(0x20..=0x7E).contains(&b) {
            return false;
        }
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        if (b == b':' && next == b' ') || (b == b'#' && previous == b' ') {
            return false;
        }
        previous = b;
    }
    !matches!(
        text,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "null" | "Null" | "NULL"
    ) && crate::yaml11::psych_agrees(text)
}

#[cfg(test)]
mod tests {
    use super::entry;
    use serde_yaml::{Mapping, Value};

    fn serde_form(key: &Value, value: &Value) -> String {
        let mut map = Mapping::new();
        map.insert(key.clone(), value.clone());
        serde_yaml::to_string(&map).unwrap()
    }

    #[test]
    fn a_job_is_written_as_serde_norway_writes_it() {
        let doc: Mapping = serde_yaml::from_str(
            "build-p1:\n  stage: build\n  image: docker:27\n  services: [docker:27-dind]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n      changes: [a/b, c]\n    - when: never\n  needs: []\n  parallel: 3\n  interruptible: true\n  cache: {}\n  x: null\n  matrix:\n    - - a\n      - b\n    - {k: {kk: v}}\n  script:\n    - docker build -t \"$CI_REGISTRY_IMAGE/p1:$CI_COMMIT_SHA\" pipelines/p1\n",
        )
        .unwrap();
        for (key, value) in &doc {
            let fast = entry(key, value).expect("every scalar is plain");
            assert_eq!(fast, serde_form(key, value));
        }
    }

    #[test]
    fn what_might_be_written_otherwise_is_left_to_serde_norway() {
        for text in [
            "", "yes", "no", "on", "True", "null", "1.5", "0x1", "-a", "a: b", "a #b", "a:", "tab\tx", "é", "a ",
        ] {
            let value = Value::String(text.to_owned());
            assert_eq!(entry(&Value::String("k".to_owned()), &value), None, "{text:?}");
        }
        assert_eq!(entry(&Value::String("k".to_owned()), &Value::from(1.5)), None);
    }
}

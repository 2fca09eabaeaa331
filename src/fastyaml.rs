//! A reader for the plain block YAML most rendered fragments are, giving
//! the value `serde_norway` would give (issue 11).
//!
//! Parsing each fragment through libyaml's scanner and `serde_norway` was
//! 46 % of the heavy benchmark's instructions. Tera output is mostly block
//! mappings and sequences of plain scalars, with a few `[a, b]` lists and
//! quoted strings. [`parse`] reads exactly that: printable ASCII, space
//! indentation, `key: value`, `- item`, sequences in mappings indented or
//! not, `- key: value` items, one-line `[a, b]`, `[]`, `{}`, `"..."` without
//! escapes, `'...'`, whole-line comments and blank lines. Anything else
//! (tabs, non-ASCII, anchors, aliases, tags, block scalars, flow mappings,
//! escapes, comments after a value, a plain scalar over several lines,
//! duplicate keys, `---`) returns `None`, and the fragment goes the
//! `serde_norway` way, errors included. Plain scalars are typed as
//! `serde_norway` types them: text that starts with a letter, `$`, `/` or
//! `_` is a string unless it is a YAML 1.2 boolean or null; any other is
//! handed to `serde_norway` alone. A property test (tests/fuzz.rs) holds
//! [`parse`] equal to `serde_norway` on random documents.
//!
//! The safety guarantee does not rest on this reader agreeing with libyaml:
//! a fragment and its stand-in rendering are read by the same reader, and
//! what is written is the value read.

use serde_yaml::{Mapping, Value};

/// The value of `text` as `serde_norway::from_str` gives it, or `None` where
/// this reader does not know that it would give the same.
#[must_use]
pub fn parse(text: &str) -> Option<Value> {
    let mut lines = Vec::new();
    for line in text.split('\n') {
        if !line.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            return None;
        }
        let content = line.trim_start_matches(' ');
        let content = content.trim_end_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 && (content.starts_with("---") || content.starts_with("...") || content.starts_with('%')) {
            return None;
        }
        lines.push(Line { indent, content });
    }
    let Some(first) = lines.first().map(|line| line.indent) else {
        return Some(Value::Null);
    };
    let mut reader = Reader { lines, at: 0 };
    let value = reader.block(first)?;
    (reader.at == reader.lines.len()).then_some(value)
}

#[derive(Clone, Copy)]
struct Line<'t> {
    indent: usize,
    content: &'t str,
}

struct Reader<'t> {
    lines: Vec<Line<'t>>,
    at: usize,
}

impl<'t> Reader<'t> {
    fn current(&self) -> Option<Line<'t>> {
        self.lines.get(self.at).copied()
    }

    /// The node whose lines start at column `indent`.
    fn block(&mut self, indent: usize) -> Option<Value> {
        let line = self.current()?;
        if is_item(line.content) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Mapping::new();
        while let Some(line) = self.current() {
            if line.indent != indent || is_item(line.content) {
                break;
            }
            let (key, rest) = split_key(line.content)?;
            let key = plain(key, false)?;
            self.at += 1;
            let value = if rest.is_empty() {
                match self.current() {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    // A sequence in a mapping may stand at the key's column.
                    Some(next) if next.indent == indent && is_item(next.content) => self.sequence(indent)?,
                    _ => Value::Null,
                }
            } else {
                let value = inline(rest)?;
                // A more indented line would continue a plain scalar.
                if self.current().is_some_and(|next| next.indent > indent) {
                    return None;
                }
                value
            };
            // A key twice is an error for `serde_norway`.
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Mapping(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.current() {
            if line.indent != indent || !is_item(line.content) {
                break;
            }
            let rest = line.content[1..].trim_start_matches(' ');
            if rest.is_empty() || is_item(rest) {
                return None;
            }
            if split_key(rest).is_some() {
                // `- key: value`: a mapping whose keys stand at `rest`'s column.
                let column = indent + (line.content.len() - rest.len());
                self.lines[self.at] = Line {
                    indent: column,
                    content: rest,
                };
                items.push(self.mapping(column)?);
            } else {
                self.at += 1;
                items.push(inline(rest)?);
                if self.current().is_some_and(|next| next.indent > indent) {
                    return None;
                }
            }
        }
        Some(Value::Sequence(items))
    }
}

/// Whether a line's content is a sequence item (`- x`, or `-` alone).
fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// `key: rest` (rest may be empty), when the content is a mapping entry
/// with a plain key.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let (key, rest) = match content.find(": ") {
        Some(i) => (&content[..i], content[i + 2..].trim_start_matches(' ')),
        None => (content.strip_suffix(':')?, ""),
    };
    (!key.is_empty() && !key.ends_with(' ')).then_some((key, rest))
}

/// A value on the rest of a line.
fn inline(text: &str) -> Option<Value> {
    match text.as_bytes()[0] {
        b'"' => {
            let inner = text.strip_prefix('"')?.strip_suffix('"')?;
            (!inner.contains(['"', '\\'])).then(|| Value::String(inner.to_owned()))
        }
        b'\'' => {
            let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
            // Every `'` inside comes in pairs (`''` is one quote).
            let unpaired = inner.split("''").any(|part| part.contains('\''));
            (!unpaired).then(|| Value::String(inner.replace("''", "'")))
        }
        b'[' => {
            let inner = text.strip_prefix('[')?.strip_suffix(']')?.trim_matches(' ');
            if inner.is_empty() {
                return Some(Value::Sequence(Vec::new()));
            }
            inner
                .split(',')
                .map(|item| plain(item.trim_matches(' '), true))
                .collect::<Option<Vec<_>>>()
                .map(Value::Sequence)
        }
        b'{' => (text == "{}").then(|| Value::Mapping(Mapping::new())),
        _ => plain(text, false),
    }
}

/// A plain scalar, typed as `serde_norway` types it. `flow`: inside `[...]`,
/// where `,[]{}` end it (a `:` not followed by a space does not).
fn plain(text: &str, flow: bool) -> Option<Value> {
    let bytes = text.as_bytes();
    let &first = bytes.first()?;
    // Indicators that start something other than a plain scalar.
    if b"[]{}#&*!|>'\"%@`,".contains(&first)
        || (matches!(first, b'-' | b'?' | b':') && bytes.get(1).is_none_or(|b| *b == b' '))
        || text.contains(": ")
        || text.contains(" #")
        || text.ends_with(':')
        // Read alone (below), a leading `---` or `...` would be a document
        // marker; in a value it is text.
        || text.starts_with("---")
        || text.starts_with("...")
        // libyaml reads no simple key longer than 1024 characters.
        || text.len() > 1000
        // In `[...]`, libyaml reads a leading `?` or `:` as a mapping's.
        || (flow && (text.contains(['[', ']', '{', '}', ',', '\'', '"']) || matches!(first, b'?' | b':')))
    {
        return None;
    }
    match text {
        "null" | "Null" | "NULL" | "~" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    // No YAML 1.2 number starts with a letter, `$`, `/` or `_` (Rust's float
    // parser reads `inf` and `nan`, which `serde_norway` refuses as not finite).
    if first.is_ascii_alphabetic() || matches!(first, b'$' | b'/' | b'_') {
        return Some(Value::String(text.to_owned()));
    }
    match serde_yaml::from_str::<Value>(text).ok()? {
        scalar @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => Some(scalar),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_yaml::Value;

    #[test]
    fn a_rendered_fragment_reads_as_serde_norway_reads_it() {
        let text = "stages: [test, build, deploy]\n\n# a comment\ntest-p1:\n  stage: test\n  image: python:3.12-slim\n  interruptible: true\n  parallel: 3\n  retry: -1\n  x: ~\n  y:\n  variables:\n    STAGE_DIR: pipelines/p1\n    QUOTED: \"a b\"\n    SINGLE: 'it''s'\n  script:\n    - pip install -r \"$STAGE_DIR/requirements.txt\" pytest\n    - cd \"$STAGE_DIR\" && python -m pytest tests\n  rules:\n  - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    when: never\n  -   changes: [a/b, c]\n  needs: []\n  cache: {}\n.hidden:\n  n: 012\n  f: 1.5\n  h: 0x1f\n";
        let expected: Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(parse(text), Some(expected));
    }

    #[test]
    fn what_it_does_not_read_is_left_to_serde_norway() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !tag x\n",
            "a: |\n  x\n",
            "a: {b: c}\n",
            "a: \"x\\ny\"\n",
            "a: b # comment\n",
            "a: b\n  c\n",
            "a: 1\na: 2\n",
            "---\na: 1\n",
            "a:\tb\n",
            "a: é\n",
            "- - a\n",
            "a: [b, [c]]\n",
            "a: b\n c: d\n",
            "a: - b\n",
            "a: [?x]\n",
            "a: [:x]\n",
            "a: --- x\n",
            "a: [... x]\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}

//! GitLab reads `.gitlab-ci.yml` with Ruby's Psych, a YAML 1.1 reader;
//! `serde_norway` writes YAML 1.2. The two disagree on plain scalars: `no`,
//! `oN`, `1,000`, `0x1_F`, `2024-01-15` and `:deploy` are strings to YAML 1.2
//! but a boolean, integers, a `Date` (which GitLab refuses) and a `Symbol` to
//! Psych. [`quote`] single-quotes every plain scalar that Psych would not read
//! as the same string.
//!
//! The scalars are found by libyaml's own parser (the one `serde_norway`
//! reads with), which gives each one's style and byte range; nothing here
//! guesses the layout of the text line by line. The result is read back and
//! must be the same document, or the entry fails the run: a document this
//! cannot make unambiguous is not written.

use serde_yaml::Value;
use std::mem::MaybeUninit;
use unsafe_libyaml_norway as unsafe_libyaml;

/// A plain scalar of the text: where its text is, and its value.
struct Plain {
    start: usize,
    end: usize,
    value: String,
}

/// `text` with every plain scalar that Psych would read differently from
/// YAML 1.2 quoted.
///
/// # Errors
/// When the text does not parse, or the quoted text does not read back as
/// the same document.
pub fn quote(text: String) -> Result<String, String> {
    let plains = plain_scalars(&text)?;
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for plain in plains.iter().filter(|p| !psych_agrees(&p.value)) {
        // A tag or anchor before the scalar is part of its range: keep it and
        // replace only the scalar's own text.
        let repr = &text[plain.start..plain.end];
        let start = if repr.ends_with(plain.value.as_str()) {
            plain.end - plain.value.len()
        } else if repr.contains('\n') && !repr.starts_with(['!', '&']) {
            plain.start
        } else {
            return Err(format!(
                "cannot quote the scalar {:?} for GitLab's YAML 1.1 reader",
                plain.value
            ));
        };
        out.push_str(&text[at..start]);
        push_quoted(&mut out, &plain.value);
        at = plain.end;
    }
    if at == 0 {
        return Ok(text);
    }
    out.push_str(&text[at..]);
    let original = serde_yaml::from_str::<Value>(&text).map_err(|e| e.to_string())?;
    match serde_yaml::from_str::<Value>(&out) {
        Ok(quoted) if quoted == original => Ok(out),
        _ => Err("cannot write it so that GitLab's YAML 1.1 reader reads the same values".to_owned()),
    }
}

/// Whether some string of `value` (a key or a scalar) is one that Psych
/// could read as something else if it were written plain. When none is,
/// no plain scalar of its YAML can be misread (`serde_norway` writes the
/// strings of a value and the canonical forms of its other scalars), and
/// [`quote`] has nothing to do.
#[must_use]
pub fn may_need_quotes(value: &Value) -> bool {
    match value {
        Value::String(text) => !psych_agrees(text),
        Value::Sequence(items) => items.iter().any(may_need_quotes),
        Value::Mapping(map) => map.iter().any(|(k, v)| may_need_quotes(k) || may_need_quotes(v)),
        Value::Tagged(tagged) => may_need_quotes(&tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// `value` as a single-quoted scalar, or a double-quoted one when it holds a
/// line break or another control character.
fn push_quoted(out: &mut String, value: &str) {
    if value.chars().any(char::is_control) {
        // JSON's string escapes are YAML's (`\/` aside, which JSON never writes).
        out.push_str(&serde_json::Value::String(value.to_owned()).to_string());
    } else {
        out.push('\'');
        out.push_str(&value.replace('\'', "''"));
        out.push('\'');
    }
}

/// Every plain scalar of `text`, in order, as libyaml reads it.
fn plain_scalars(text: &str) -> Result<Vec<Plain>, String> {
    let mut found = Vec::new();
    let mut parser: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>> = Box::new(MaybeUninit::uninit());
    // SAFETY: the parser is initialised before use and deleted once; it reads
    // `text`, which outlives it; every event is deleted after it is read, and
    // a scalar's value pointer and length are libyaml's own allocation.
    unsafe {
        let parser = parser.as_mut_ptr();
        if unsafe_libyaml::yaml_parser_initialize(parser).fail {
            return Err("cannot start the YAML reader".to_owned());
        }
        unsafe_libyaml::yaml_parser_set_encoding(parser, unsafe_libyaml::YAML_UTF8_ENCODING);
        unsafe_libyaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        let result = loop {
            if unsafe_libyaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                break Err("the entry's YAML does not parse".to_owned());
            }
            let read = &*event.as_ptr();
            let end = read.type_ == unsafe_libyaml::YAML_STREAM_END_EVENT;
            if read.type_ == unsafe_libyaml::YAML_SCALAR_EVENT
                && read.data.scalar.style == unsafe_libyaml::YAML_PLAIN_SCALAR_STYLE
            {
                let bytes = std::slice::from_raw_parts(
                    read.data.scalar.value,
                    usize::try_from(read.data.scalar.length).unwrap_or(0),
                );
                let start = usize::try_from(read.start_mark.index).unwrap_or(usize::MAX);
                let stop = usize::try_from(read.end_mark.index).unwrap_or(usize::MAX);
                let value = String::from_utf8_lossy(bytes).into_owned();
                unsafe_libyaml::yaml_event_delete(event.as_mut_ptr());
                if start > stop || stop > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(stop) {
                    break Err("the YAML reader gave a scalar outside the text".to_owned());
                }
                found.push(Plain {
                    start,
                    end: stop,
                    value,
                });
            } else {
                unsafe_libyaml::yaml_event_delete(event.as_mut_ptr());
            }
            if end {
                break Ok(());
            }
        };
        unsafe_libyaml::yaml_parser_delete(parser);
        result.map(|()| found)
    }
}

/// Whether Psych reads the plain scalar `text` as `serde_norway` does: a
/// YAML 1.2 `null`, boolean or number in the forms `serde_norway` writes, or
/// a string that no YAML 1.1 rule turns into anything else. Conservative:
/// where in doubt, the scalar is quoted (quoting a string never changes it).
#[must_use]
pub fn psych_agrees(text: &str) -> bool {
    const WORDS: [&str; 13] = [
        "", "~", "y", "n", "yes", "no", "true", "false", "on", "off", "null", "=", "<<",
    ];
    // Most strings: ASCII, a letter first, longer than any of the words.
    if text.len() > 5 && text.as_bytes()[0].is_ascii_alphabetic() && text.is_ascii() {
        return true;
    }
    // Psych's patterns ignore case the Unicode way: `yeſ` is `true` and
    // `oﬀ` is `false` to it (`ſ` folds to `s`, `ﬀ` to `ff`). A short string
    // with any non-ASCII character is quoted.
    if !text.is_ascii() && text.chars().count() <= 5 {
        return false;
    }
    if yaml12_canonical(text) {
        return true;
    }
    if WORDS.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        return false;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return false;
    }
    match text.as_bytes()[0] {
        b':' => false,
        b'0'..=b'9' | b'-' | b'+' | b'.' => {
            // Integers (with `_` and `,`, in bases 2, 8, 10, 16),
            // floats, sexagesimals, dates and times are made of these.
            !text.bytes().all(|b| {
                b.is_ascii_hexdigit()
                    || matches!(
                        b,
                        b'x' | b'X'
                            | b'o'
                            | b'O'
                            | b'_'
                            | b','
                            | b'.'
                            | b':'
                            | b'+'
                            | b'-'
                            | b't'
                            | b'T'
                            | b'z'
                            | b'Z'
                            | b' '
                    )
            })
        }
        _ => true,
    }
}

/// The plain forms `serde_norway` writes for a null, a boolean or a number
/// (it quotes any string that would read as one), which Psych reads alike.
fn yaml12_canonical(text: &str) -> bool {
    if matches!(text, "null" | "true" | "false" | ".inf" | "-.inf" | ".nan") {
        return true;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(mantissa) && (mantissa == "0" || !mantissa.starts_with('0')),
    };
    // Psych reads a float only with a `.` in it; an integer with an exponent
    // is a string to it.
    mantissa_ok && exponent.is_none_or(|e| digits(e) && mantissa.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(yaml: &str) -> String {
        quote(yaml.to_owned()).unwrap()
    }

    #[test]
    fn what_psych_reads_otherwise_is_quoted() {
        for word in [
            "no",
            "oN",
            "nO",
            "OFF",
            "y",
            "N",
            "tRUE",
            "nULL",
            "~",
            "=",
            "<<",
            ".iNf",
            "-.iNF",
            ".NaN",
            "1,2,3",
            "0,1",
            "10,000",
            "+1,5",
            "1_0.5e+3",
            "0x1_F",
            "0x_1",
            "-0x_1",
            "0b1",
            "012",
            "1:30",
            "190:20:30",
            "2001-12-14",
            "2001-1-1",
            "2001-12-14t21:59:43.10-05:00",
            ":sym",
            ":deploy-p1",
            "1e3",
            "1.",
            ".5",
            "yeſ",
            "oﬀ",
            "Falſe",
        ] {
            assert!(!psych_agrees(word), "{word}");
        }
        for word in [
            "null",
            "true",
            "false",
            "0",
            "15",
            "-3",
            "1.5",
            "1.0e+20",
            ".inf",
            ".nan",
            "build",
            "python:3.11-slim",
            "3.11-slim",
            "1 week",
            ".pre",
            "./run.sh",
            "deploy-p1",
            "$CI_COMMIT_BRANCH",
            "/x",
            "_x",
            "données",
        ] {
            assert!(psych_agrees(word), "{word}");
        }
    }

    #[test]
    fn keys_values_and_items_are_quoted_where_they_are() {
        assert_eq!(
            quoted("job:\n  variables:\n    A: no\n    'B: C': off\n  script:\n  - on\n  - echo on\n:x: 1,2\n"),
            "job:\n  variables:\n    A: 'no'\n    'B: C': 'off'\n  script:\n  - 'on'\n  - echo on\n':x': '1,2'\n"
        );
        // A complex key written as a block scalar: its values are still found.
        let text =
            serde_yaml::to_string(&serde_yaml::from_str::<Value>("? \"a\\nno\"\n: {A: 'off'}\n").unwrap()).unwrap();
        let out = quoted(&text);
        assert!(out.contains("A: 'off'"), "{out}");
        assert_eq!(
            serde_yaml::from_str::<Value>(&out).unwrap(),
            serde_yaml::from_str::<Value>(&text).unwrap()
        );
        // Tags stay; flow sequences are found too.
        assert_eq!(
            quoted("a: !reference [no, x]\nb: !t off\n"),
            "a: !reference ['no', x]\nb: !t 'off'\n"
        );
        // Nothing to quote: the same text.
        assert_eq!(quoted("a: b\n"), "a: b\n");
    }
}

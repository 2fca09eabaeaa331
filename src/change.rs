//! A change is one line of `git diff --name-status`: a status letter, an
//! optional similarity score, the path and, for renames and copies, the old
//! path. This module owns the type and git's C-style path quoting.

use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// Git's status letters, as `git diff --name-status` prints them.
pub const STATUS_LETTERS: &str = "AMDRCTUXB";

/// A path's text: a slice of the listing it was read from, shared by every
/// change of that listing, so that reading 100,000 paths allocates none of
/// them (issue 11); a path from elsewhere is the whole of its own text. It
/// reads as a `&str` everywhere. Sixteen bytes, so that a `Change` is 40.
#[derive(Clone)]
pub struct PathText {
    text: Arc<String>,
    start: u32,
    len: u32,
}

impl PathText {
    /// `listing[range]`, sharing the listing; its own copy when the range
    /// lies beyond 4 GiB, and an empty text when it is not a `str` range of
    /// the listing (callers pass slices they took from it).
    #[must_use]
    pub fn shared(listing: &Arc<String>, range: std::ops::Range<usize>) -> Self {
        match (u32::try_from(range.start), u32::try_from(range.len())) {
            (Ok(start), Ok(len)) if listing.get(range.clone()).is_some() => PathText {
                text: Arc::clone(listing),
                start,
                len,
            },
            _ => PathText::from(listing.get(range).unwrap_or_default()),
        }
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let start = self.start as usize;
        // Checked when it was made: a `str` range of the text.
        self.text.get(start..start + self.len as usize).unwrap_or_default()
    }

    /// Whether this path shares a listing with others (for tests).
    #[cfg(test)]
    fn is_shared(&self) -> bool {
        self.len as usize != self.text.len()
    }
}

impl std::ops::Deref for PathText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for PathText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<std::path::Path> for PathText {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(self.as_str())
    }
}

impl From<String> for PathText {
    fn from(text: String) -> Self {
        // A text longer than 4 GiB cannot be a path git or GitLab gives;
        // it is cut at a character boundary rather than refused.
        let mut len = text.len().min(u32::MAX as usize);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        PathText {
            len: u32::try_from(len).unwrap_or(0),
            start: 0,
            text: Arc::new(text),
        }
    }
}

impl From<&str> for PathText {
    fn from(text: &str) -> Self {
        PathText::from(text.to_owned())
    }
}

impl From<&String> for PathText {
    fn from(text: &String) -> Self {
        PathText::from(text.as_str())
    }
}

impl From<PathText> for String {
    fn from(path: PathText) -> Self {
        path.as_str().to_owned()
    }
}

impl fmt::Display for PathText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PathText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for PathText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for PathText {}

impl PartialOrd for PathText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PathText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for PathText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for PathText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for PathText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for PathText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl Serialize for PathText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// The path after the change (for a deletion, the deleted path).
    pub path: PathText,
    /// The status letter alone (`R`, never `R087`).
    pub status: char,
    /// The similarity score of `R`/`C` entries, when git printed one.
    pub score: Option<u16>,
    /// The path before a rename or copy.
    pub old_path: Option<PathText>,
}

impl Change {
    /// A change with no score and no old path.
    #[must_use]
    pub fn new(status: char, path: impl Into<PathText>) -> Self {
        Change {
            path: path.into(),
            status,
            score: None,
            old_path: None,
        }
    }

    /// A rename or copy from `old` to `new`.
    #[must_use]
    pub fn moved(status: char, score: Option<u16>, old: impl Into<PathText>, new: impl Into<PathText>) -> Self {
        Change {
            path: new.into(),
            status,
            score,
            old_path: Some(old.into()),
        }
    }

    /// The paths this change counts for when grouping: the new path and, for a
    /// rename (not a copy), the old one too.
    pub fn grouping_paths(&self) -> impl Iterator<Item = &str> {
        let old = if self.status == 'R' {
            self.old_path.as_deref()
        } else {
            None
        };
        std::iter::once(match_form(&self.path)).chain(old.filter(|o| *o != self.path.as_str()).map(match_form))
    }
}

impl fmt::Display for Change {
    /// The `git diff --name-status` line, paths quoted where git would quote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if let Some(score) = self.score {
            write!(f, "{score:03}")?;
        }
        if let Some(old) = &self.old_path {
            f.write_str("\t")?;
            write_quoted(f, old)?;
        }
        f.write_str("\t")?;
        write_quoted(f, &self.path)
    }
}

impl Change {
    /// Appends what `Display` prints and a line break, without going through
    /// `fmt` (`changes` prints 100,000 of these).
    pub fn push_line(&self, out: &mut String) {
        out.push(self.status);
        if let Some(score) = self.score {
            if score < 1000 {
                for digit in [score / 100, score / 10 % 10, score % 10] {
                    out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
                }
            } else {
                out.push_str(&score.to_string());
            }
        }
        for path in self.old_path.iter().chain(std::iter::once(&self.path)) {
            out.push('\t');
            if needs_quoting(path.as_bytes()) && !is_quoted_bytes(path) {
                out.push_str(&quote_bytes(path.as_bytes()));
            } else {
                out.push_str(path);
            }
        }
        out.push('\n');
    }
}

/// [`quote_path`] without a new `String` for the paths git prints as they are.
fn write_quoted(f: &mut fmt::Formatter<'_>, path: &str) -> fmt::Result {
    if needs_quoting(path.as_bytes()) && !is_quoted_bytes(path) {
        f.write_str(&quote_bytes(path.as_bytes()))
    } else {
        f.write_str(path)
    }
}

/// Parses a status field (`M`, `R087`, `C`) into its letter and score.
/// Returns `None` when the field is not a git status.
#[must_use]
pub fn parse_status(field: &str) -> Option<(char, Option<u16>)> {
    let mut chars = field.chars();
    let letter = chars.next()?;
    if !STATUS_LETTERS.contains(letter) {
        return None;
    }
    let digits = chars.as_str();
    if digits.is_empty() {
        return Some((letter, None));
    }
    if !matches!(letter, 'R' | 'C') || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|s| *s <= 100).map(|s| (letter, Some(s)))
}

/// Whether git (with the default `core.quotePath`) would quote this path.
fn needs_quoting(path: &[u8]) -> bool {
    // A fold without an early exit compiles to SIMD over the whole path:
    // this runs for every path `changes` prints.
    path.iter().fold(0u8, |any, &b| {
        any | u8::from(b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7f)
    }) != 0
}

/// Quotes a path the way git does: `"..."` with C escapes and octal bytes.
/// A path that is not UTF-8 is carried as its quoted form already (see
/// [`path_from_bytes`]) and printed as it is.
#[must_use]
pub fn quote_path(path: &str) -> String {
    if is_quoted_bytes(path) {
        return path.to_owned();
    }
    quote_bytes(path.as_bytes())
}

/// A path git stores as bytes, as a `String`: itself when it is UTF-8, else
/// git's quoted form (`"caf\351.txt"`, with the quotes), which
/// [`quote_path`] prints unchanged and rules match without the quotes, so a
/// value taken from it fails the `values` check by name rather than the whole
/// diff failing or the path vanishing.
#[must_use]
pub fn path_from_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => quote_bytes(bytes),
    }
}

/// Whether `path` is the quoted form of a path that is not UTF-8.
fn is_quoted_bytes(path: &str) -> bool {
    path.len() >= 2
        && path.starts_with('"')
        && path.ends_with('"')
        && path.contains('\\')
        && unquote_bytes(path).is_ok_and(|bytes| std::str::from_utf8(&bytes).is_err())
}

/// A path, or a value taken from one, in double quotes for a message. git's
/// quoted form of a non-UTF-8 path is shown as it is, and text without control
/// characters or quotes is not escaped, so `caf\351` is not escaped twice.
#[must_use]
pub fn for_message(text: &str) -> String {
    if is_quoted_bytes(text) {
        text.to_owned()
    } else if text.chars().any(|c| c.is_control() || c == '"') {
        format!("{text:?}")
    } else {
        format!("\"{text}\"")
    }
}

/// The text rules match a path against: a quoted non-UTF-8 path without its
/// quotes (`pipelines/caf\351/x.yaml`), any other path as it is.
#[must_use]
pub fn match_form(path: &str) -> &str {
    if is_quoted_bytes(path) {
        &path[1..path.len() - 1]
    } else {
        path
    }
}

/// Quotes bytes the way git does, when git would.
fn quote_bytes(path: &[u8]) -> String {
    if !needs_quoting(path) {
        return String::from_utf8_lossy(path).into_owned();
    }
    let mut out = String::with_capacity(path.len() + 2);
    out.push('"');
    for &b in path {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

/// Decodes one of git's C-style quoted paths (with its surrounding quotes).
/// When the decoded bytes are not UTF-8 the quoted form itself is the path
/// (see [`path_from_bytes`]).
///
/// # Errors
/// A message saying what is wrong: a bad escape or a missing closing quote.
pub fn unquote_path(quoted: &str) -> Result<String, String> {
    let bytes = unquote_bytes(quoted)?;
    Ok(String::from_utf8(bytes).unwrap_or_else(|_| quoted.to_owned()))
}

fn unquote_bytes(quoted: &str) -> Result<Vec<u8>, String> {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|_| quoted.len() >= 2)
        .ok_or_else(|| "a quoted path must end with `\"`".to_owned())?;
    let mut bytes = Vec::with_capacity(inner.len());
    let mut iter = inner.bytes().peekable();
    while let Some(b) = iter.next() {
        if b == b'"' {
            return Err("unescaped `\"` inside a quoted path".to_owned());
        }
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        let escape = iter.next().ok_or("a quoted path ends with a lone `\\`")?;
        let decoded = match escape {
            b'a' => 0x07,
            b'b' => 0x08,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 0x0b,
            b'f' => 0x0c,
            b'r' => b'\r',
            b'"' => b'"',
            b'\\' => b'\\',
            b'0'..=b'3' => {
                let mut value = u32::from(escape - b'0');
                for _ in 0..2 {
                    match iter.next() {
                        Some(d @ b'0'..=b'7') => value = value * 8 + u32::from(d - b'0'),
                        _ => return Err("an octal escape needs three digits (`\\303`)".to_owned()),
                    }
                }
                u8::try_from(value).map_err(|_| "octal escape out of range".to_owned())?
            }
            other => return Err(format!("unknown escape `\\{}`", char::from(other))),
        };
        bytes.push(decoded);
    }
    Ok(bytes)
}

/// Gives the changes' paths one new shared text, laid out in the changes'
/// order. After sorting an unsorted listing, each path still points into
/// the listing where its line was, so walking the sorted changes read the
/// listing in random order: on 100,000 paths that cost the render about
/// twice its time in cache misses (issue 11).
pub fn repack_paths(changes: &mut [Change]) {
    let total: usize = changes
        .iter()
        .map(|c| c.path.as_str().len() + c.old_path.as_ref().map_or(0, |p| p.as_str().len()))
        .sum();
    let mut text = String::with_capacity(total);
    for change in changes.iter() {
        text.push_str(change.path.as_str());
        if let Some(old) = &change.old_path {
            text.push_str(old.as_str());
        }
    }
    let text = Arc::new(text);
    let mut at = 0;
    let mut next = |len: usize| {
        let range = at..at + len;
        at += len;
        PathText::shared(&text, range)
    };
    for change in changes.iter_mut() {
        change.path = next(change.path.as_str().len());
        if let Some(old) = change.old_path.as_mut() {
            *old = next(old.as_str().len());
        }
    }
}

/// Sorts changes by path, keeping equal paths in their order (a stable
/// sort's result). The keys are sorted as plain string slices with their
/// positions, then the changes are moved into place along the permutation's
/// cycles: comparing through each change's shared text cost 200M
/// instructions on an unsorted 100,000-path listing (issue 11).
pub fn sort_by_path(changes: &mut [Change]) {
    let mut keys: Vec<(&str, usize)> = changes.iter().map(|c| c.path.as_str()).zip(0..).collect();
    keys.sort_unstable();
    let mut order: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
    // `order[i]`: the position of the change that belongs at `i`.
    for start in 0..order.len() {
        if order[start] == usize::MAX {
            continue;
        }
        let mut at = start;
        loop {
            let from = std::mem::replace(&mut order[at], usize::MAX);
            if from == start {
                break;
            }
            changes.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repacking keeps every path and old path, now in one text in order.
    #[test]
    fn repacked_paths_read_the_same() {
        let listing = Arc::new("M\tb/2\nR090\ta/old\ta/1\n".to_owned());
        let mut changes = vec![
            Change::moved(
                'R',
                Some(90),
                PathText::shared(&listing, 11..16),
                PathText::shared(&listing, 17..20),
            ),
            Change::new('M', PathText::shared(&listing, 2..5)),
        ];
        let before = changes.clone();
        repack_paths(&mut changes);
        assert_eq!(changes, before);
        assert!(changes.iter().all(|c| c.path.is_shared()));
        assert!(Arc::ptr_eq(&changes[0].path.text, &changes[1].path.text));
        assert_eq!(changes[1].path.start, 8);
    }

    /// The permutation sort gives a stable sort's order: by path, equal
    /// paths in their first order.
    #[test]
    fn sorting_by_path_is_stable() {
        let mut changes: Vec<Change> = (0..500u32)
            .map(|i| {
                let path = format!("p/{}/{}", (i * 7919) % 97, i % 3);
                Change::new(if i % 2 == 0 { 'A' } else { 'M' }, path)
            })
            .collect();
        let mut expected = changes.clone();
        expected.sort_by(|a, b| a.path.cmp(&b.path));
        sort_by_path(&mut changes);
        assert_eq!(changes, expected);
    }

    #[test]
    fn a_pushed_line_is_what_display_prints() {
        for change in [
            Change::new('M', "a/b.py"),
            Change::new('A', "a b/\"q\"\t\u{e9}.py"),
            Change::moved('R', Some(87), "old/x", "new/x"),
            Change::moved('C', Some(100), "x", "dir/y z"),
            Change::moved('R', Some(5), "a", "b"),
            Change::moved('R', None, "a", "b"),
        ] {
            let mut line = String::new();
            change.push_line(&mut line);
            assert_eq!(line, format!("{change}\n"));
        }
    }

    #[test]
    fn status_fields() {
        let cases = [
            ("M", Some(('M', None))),
            ("R087", Some(('R', Some(87)))),
            ("C100", Some(('C', Some(100)))),
            ("R", Some(('R', None))),
            ("M087", None),
            ("R101", None),
            ("Z", None),
            ("", None),
            ("RX", None),
        ];
        for (field, expected) in cases {
            assert_eq!(parse_status(field), expected, "{field}");
        }
    }

    #[test]
    fn quoting_round_trips() {
        for path in [
            "plain/path.yaml",
            "caf\u{e9}/x.yaml",
            "tab\there",
            "q\"uote",
            "back\\slash",
            "nl\nx",
        ] {
            let quoted = quote_path(path);
            let decoded = if quoted.starts_with('"') {
                unquote_path(&quoted)
            } else {
                Ok(quoted.clone())
            };
            assert_eq!(decoded.as_deref(), Ok(path), "{quoted}");
        }
        assert_eq!(
            quote_path("pipelines/caf\u{e9}/x.yaml"),
            "\"pipelines/caf\\303\\251/x.yaml\""
        );
        assert_eq!(quote_path("a b/c"), "a b/c");
    }

    #[test]
    fn bad_quoting_is_rejected() {
        for bad in ["\"abc", "\"a\\qb\"", "\"a\\30\"", "\"a\"b\""] {
            assert!(unquote_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_that_are_not_utf8_stay_quoted() {
        let path = path_from_bytes(b"pipelines/caf\xe9/x.yaml");
        assert_eq!(path, "\"pipelines/caf\\351/x.yaml\"");
        assert_eq!(quote_path(&path), path);
        assert_eq!(unquote_path(&path).as_deref(), Ok(path.as_str()));
        assert_eq!(match_form(&path), "pipelines/caf\\351/x.yaml");
        assert_eq!(Change::new('A', path.clone()).to_string(), format!("A\t{path}"));
        // A UTF-8 name that merely looks quoted is quoted again, as git does.
        assert_eq!(quote_path("\"a\\\\b\""), "\"\\\"a\\\\\\\\b\\\"\"");
        assert_eq!(match_form("plain/x"), "plain/x");
    }

    #[test]
    fn shared_paths_read_as_their_slice() {
        let listing = Arc::new("M\tpipelines/a/b.yaml\nD\tcaf\u{e9}/x\n".to_owned());
        let path = PathText::shared(&listing, 2..20);
        assert_eq!(path, "pipelines/a/b.yaml");
        assert_eq!(path, PathText::from("pipelines/a/b.yaml"));
        assert_eq!(format!("{path} {path:?}"), "pipelines/a/b.yaml \"pipelines/a/b.yaml\"");
        assert!(path.is_shared());
        assert_eq!(std::mem::size_of::<PathText>(), 16);
        assert_eq!(std::mem::size_of::<Change>(), 40);
        let accented = PathText::shared(&listing, 23..30);
        assert_eq!(accented, "caf\u{e9}/x");
        // Not a character boundary: no panic, no shared slice, an empty text.
        let inside = PathText::shared(&listing, 26..27);
        assert!(!inside.is_shared());
        assert_eq!(inside, "");
        let json = serde_json::to_string(&Change::new('M', path.clone())).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"path":"pipelines/a/b.yaml","status":"M","score":null,"old_path":null}"#
        );
        let mut sorted = vec![PathText::from("q"), path.clone(), PathText::from("a")];
        sorted.sort();
        assert_eq!(sorted, ["a", "pipelines/a/b.yaml", "q"]);
    }

    #[test]
    fn renames_count_for_both_paths_copies_only_new() {
        let rename = Change::moved('R', Some(90), "a/x", "b/x");
        assert_eq!(rename.grouping_paths().collect::<Vec<_>>(), ["b/x", "a/x"]);
        let copy = Change::moved('C', None, "a/x", "b/x");
        assert_eq!(copy.grouping_paths().collect::<Vec<_>>(), ["b/x"]);
        assert_eq!(rename.to_string(), "R090\ta/x\tb/x");
    }
}

//! The diff-file source: parses the output of `git diff --name-status`,
//! `git diff --name-status -z` and, when the user says so, `git diff
//! --name-only` (with or without `-z`) (design §1.1, §7).
//!
//! The format is a property of the whole input, never guessed line by line or
//! field by field: a merge request chooses its file names, and a file named
//! `D pipelines/prod/serve/modelserving.yaml` must never read as a deletion of
//! another path (issue 10). Input with a NUL byte is `-z` output; it is
//! name-status unless [`DiffFormat::NameOnly`] is given, and so is any other
//! input. A listing that is not name-status fails on its first line that is not,
//! and the error says to pass `--name-only` when that is what it is.

use crate::change::{Change, PathText, parse_status, unquote_path};
use crate::error::{Error, Result};
use std::sync::Arc;

/// What a diff listing holds, as the user declared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFormat {
    /// `git diff --name-status` (TABs, or runs of spaces in a file without a
    /// TAB), or its `-z` form.
    #[default]
    NameStatus,
    /// `git diff --name-only` or `--name-only -z`: every line (field) is a path,
    /// read as status `M`.
    NameOnly,
}

/// Parses a diff listing of the declared format. `source_name` names the
/// input in errors (a file path, or `<stdin>`). The result is sorted by path,
/// one entry per path.
///
/// # Errors
/// [`Error::DiffLine`] for the first malformed line, with its 1-based number.
pub fn parse_listing(input: &[u8], source_name: &str, format: DiffFormat) -> Result<Vec<Change>> {
    let changes = match (input.contains(&0), format) {
        (true, DiffFormat::NameStatus) => parse_nul(input, source_name)?,
        (true, DiffFormat::NameOnly) => parse_nul_names(input, source_name)?,
        (false, format) => parse_lines(input, None, source_name, format)?,
    };
    Ok(dedup(changes))
}

/// [`parse_listing`] of a listing it keeps: the paths of a UTF-8 listing
/// (one that is not `-z` output) are slices of it, shared, instead of a
/// `String` each (issue 11: 100,000 fewer allocations, and ~5 MB less for
/// 100,000 paths). Quoted paths, and other inputs, get their own text.
///
/// # Errors
/// As [`parse_listing`].
pub fn parse_owned(input: Vec<u8>, source_name: &str, format: DiffFormat) -> Result<Vec<Change>> {
    if input.contains(&0) {
        return parse_listing(&input, source_name, format);
    }
    match String::from_utf8(input) {
        Ok(text) => {
            let listing = Arc::new(text);
            let changes = parse_lines(listing.as_bytes(), Some(&listing), source_name, format)?;
            Ok(dedup(changes))
        }
        Err(e) => parse_listing(e.as_bytes(), source_name, format),
    }
}

/// Keeps the first entry of each path, sorted by path.
fn dedup(mut changes: Vec<Change>) -> Vec<Change> {
    // git prints paths sorted, so the sort is usually skipped. A stable sort
    // keeps the first of equal paths first; `dedup_by` keeps it.
    if !changes.is_sorted_by(|a, b| a.path <= b.path) {
        crate::change::sort_by_path(&mut changes);
        changes.dedup_by(|later, first| later.path == first.path);
        crate::change::repack_paths(&mut changes);
        return changes;
    }
    changes.dedup_by(|later, first| later.path == first.path);
    changes
}

struct LineError<'a> {
    source_name: &'a str,
    line: usize,
    text: &'a str,
    /// The listing `text` is a line of, when paths may share it.
    listing: Option<&'a Arc<String>>,
}

impl LineError<'_> {
    fn err(&self, detail: impl Into<String>) -> Error {
        Error::DiffLine {
            source_name: self.source_name.to_owned(),
            line: self.line,
            text: format!("{:?}", self.text),
            detail: detail.into(),
        }
    }
}

fn parse_lines(
    input: &[u8],
    listing: Option<&Arc<String>>,
    source_name: &str,
    format: DiffFormat,
) -> Result<Vec<Change>> {
    let text = std::str::from_utf8(input).map_err(|e| {
        let before = &input[..e.valid_up_to()];
        let start = before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        let end = input[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(input.len(), |p| start + p);
        Error::DiffLine {
            source_name: source_name.to_owned(),
            line: before.split(|b| *b == b'\n').count(),
            text: format!("{:?}", String::from_utf8_lossy(&input[start..end])),
            detail: "not valid UTF-8 (git quotes such paths unless core.quotePath is off)".to_owned(),
        }
    })?;
    let file_has_tab = memchr::memchr(b'\t', input).is_some();
    let cut = Cut {
        listing,
        source_name,
        format,
        file_has_tab,
    };
    // One entry per line at most: counting them first (a fast byte scan)
    // sizes the list once, without the slack of doubling.
    let lines = memchr::memchr_iter(b'\n', input).count() + 1;
    let mut changes: Vec<Change> = Vec::with_capacity(lines);
    let middle = (input.len() >= PARALLEL_BYTES)
        .then(|| memchr::memchr(b'\n', &input[input.len() / 2..]).map(|at| input.len() / 2 + at + 1))
        .flatten();
    let Some(middle) = middle else {
        cut.lines(text, 0, &mut |change| changes.push(change))?;
        return Ok(changes);
    };
    // A large listing is cut in two halves at a line break, each read on a
    // thread straight into its part of the one list (issue 11: reading was
    // the longest serial step of a render). The first half holds exactly
    // `first_lines` lines, each ending in a line break.
    let first_lines = memchr::memchr_iter(b'\n', &input[..middle]).count();
    let spare = changes.spare_capacity_mut();
    let (first_slots, second_slots) = spare.split_at_mut(first_lines);
    let fill = |text: &str, offset: usize, slots: &mut [std::mem::MaybeUninit<Change>]| {
        let mut written = 0;
        let result = cut.lines(text, offset, &mut |change| {
            slots[written].write(change);
            written += 1;
        });
        (written, result)
    };
    let ((first_written, first), (second_written, second)) = std::thread::scope(|scope| {
        let second = scope.spawn(|| fill(&text[middle..], first_lines, second_slots));
        let first = fill(&text[..middle], 0, first_slots);
        (
            first,
            second.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    let base = changes.as_mut_ptr();
    // SAFETY: each half wrote its first `*_written` slots of its own part
    // of the spare capacity (a line gives one change at most, and a half's
    // part has a slot per line of it); nothing else touched them. On
    // failure those are dropped in place; on success the second half's are
    // moved down to follow the first half's (`copy` allows the overlap)
    // and the length covers exactly the initialised prefix.
    unsafe {
        if first.is_err() || second.is_err() {
            std::ptr::slice_from_raw_parts_mut(base, first_written).drop_in_place();
            std::ptr::slice_from_raw_parts_mut(base.add(first_lines), second_written).drop_in_place();
        } else {
            std::ptr::copy(base.add(first_lines), base.add(first_written), second_written);
            changes.set_len(first_written + second_written);
        }
    }
    first?;
    second?;
    Ok(changes)
}

/// From this size on, a listing is read in two halves on two threads.
const PARALLEL_BYTES: usize = 1 << 20;

/// What reading a listing's lines needs to know.
struct Cut<'a> {
    listing: Option<&'a Arc<String>>,
    source_name: &'a str,
    format: DiffFormat,
    file_has_tab: bool,
}

impl Cut<'_> {
    /// Reads the lines of `text` (numbered from `offset` + 1), giving each
    /// change to `push`.
    fn lines(&self, text: &str, offset: usize, push: &mut dyn FnMut(Change)) -> Result<()> {
        let Cut {
            listing,
            source_name,
            format,
            file_has_tab,
        } = *self;
        let input = text.as_bytes();
        let mut start = 0;
        let mut index = offset;
        let mut tabs = [0usize; 2];
        let mut tab_count = 0;
        let ends = memchr::memchr2_iter(b'\t', b'\n', input).chain(std::iter::once(input.len()));
        for at in ends {
            if at < input.len() && input[at] == b'\t' {
                if tab_count < tabs.len() {
                    tabs[tab_count] = at - start;
                }
                tab_count += 1;
                continue;
            }
            let raw = &text[start..at];
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let line_tabs = &tabs[..tab_count.min(tabs.len())];
            index += 1;
            start = at + 1;
            let count = std::mem::take(&mut tab_count);
            if line.trim().is_empty() {
                continue;
            }
            let ctx = LineError {
                source_name,
                line: index,
                text: line,
                listing,
            };
            let change = match format {
                // The common shapes, already cut: `S\tpath` and `R087\told\tnew`
                // (a TAB before a `\r` that ends the line is not one of them).
                DiffFormat::NameStatus if (count == 1 || count == 2) && line_tabs.iter().all(|t| *t < line.len()) => {
                    let first = &line[..line_tabs[0]];
                    let Some((status, score)) = parse_status(first) else {
                        return Err(ctx.err(format!("unknown status {first:?} (expected one of A M D R C T U X B)")));
                    };
                    if count == 1 {
                        build(status, score, &[&line[line_tabs[0] + 1..]], &ctx)?
                    } else {
                        build(
                            status,
                            score,
                            &[&line[line_tabs[0] + 1..line_tabs[1]], &line[line_tabs[1] + 1..]],
                            &ctx,
                        )?
                    }
                }
                DiffFormat::NameStatus => parse_line(line, file_has_tab, &ctx)?,
                DiffFormat::NameOnly => build('M', None, &[line], &ctx)?,
            };
            push(change);
        }
        Ok(())
    }
}

fn parse_line(text: &str, file_has_tab: bool, ctx: &LineError<'_>) -> Result<Change> {
    if let Some((first, rest)) = text.split_once('\t') {
        let Some((status, score)) = parse_status(first) else {
            return Err(ctx.err(format!("unknown status {first:?} (expected one of A M D R C T U X B)")));
        };
        // At most the two fields a rename has; a third is reported by `build`.
        return match rest.split_once('\t') {
            None => build(status, score, &[rest], ctx),
            Some((old, new)) if !new.contains('\t') => build(status, score, &[old, new], ctx),
            Some(_) => build(status, score, &rest.split('\t').collect::<Vec<_>>(), ctx),
        };
    }
    if !file_has_tab
        && let Some((first, rest)) = text.split_once(' ')
        && let Some((status, score)) = parse_status(first)
    {
        let rest = rest.trim_start_matches(' ');
        let fields = split_spaces(rest, ctx)?;
        if matches!(status, 'R' | 'C') {
            if fields.len() != 2 {
                return Err(ctx.err(
                    "a space-separated rename or copy is ambiguous when its paths contain spaces; \
                             use `git diff --name-status` with TABs, or `-z`",
                ));
            }
            return build(status, score, &fields, ctx);
        }
        return build(status, score, &[rest], ctx);
    }
    Err(ctx.err(NOT_NAME_STATUS))
}

/// The error for a line that has no status: most likely a `--name-only` listing.
const NOT_NAME_STATUS: &str = "not a name-status line (a status letter, then a TAB and the path); \
     for a `git diff --name-only` listing pass --name-only";

/// Splits on runs of spaces, keeping git-quoted fields (which may hold spaces) whole.
fn split_spaces<'a>(rest: &'a str, ctx: &LineError<'_>) -> Result<Vec<&'a str>> {
    let mut fields = Vec::new();
    let mut remaining = rest;
    while !remaining.is_empty() {
        if remaining.starts_with('"') {
            let end = closing_quote(remaining).ok_or_else(|| ctx.err("a quoted path has no closing `\"`"))?;
            fields.push(&remaining[..=end]);
            remaining = remaining[end + 1..].trim_start_matches(' ');
        } else {
            let end = remaining.find(' ').unwrap_or(remaining.len());
            fields.push(&remaining[..end]);
            remaining = remaining[end..].trim_start_matches(' ');
        }
    }
    Ok(fields)
}

/// The byte index of the quote that closes the one at index 0.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate().skip(1) {
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return Some(i),
            _ => {}
        }
    }
    None
}

fn build(status: char, score: Option<u16>, fields: &[&str], ctx: &LineError<'_>) -> Result<Change> {
    let expected = if matches!(status, 'R' | 'C') { 2 } else { 1 };
    if fields.len() != expected {
        return Err(ctx.err(format!(
            "status {status} takes {expected} path(s), found {}",
            fields.len()
        )));
    }
    let decode = |field: &str| decode_path(field, ctx.listing).map_err(|detail| ctx.err(detail));
    Ok(match fields {
        [old, new] => Change::moved(status, score, decode(old)?, decode(new)?),
        _ => Change {
            path: decode(fields[0])?,
            status,
            score,
            old_path: None,
        },
    })
}

/// A change from its status and its path(s): one, or old then new.
fn assemble(status: char, score: Option<u16>, mut paths: Vec<String>) -> Change {
    let new = paths.pop().unwrap_or_default();
    match paths.pop() {
        Some(old) => Change::moved(status, score, old, new),
        None => Change {
            path: new.into(),
            status,
            score,
            old_path: None,
        },
    }
}

/// Checks one path field and decodes git quoting. An unquoted field of
/// `listing` is shared with it.
fn decode_path(field: &str, listing: Option<&Arc<String>>) -> std::result::Result<PathText, String> {
    if field.is_empty() {
        return Err("empty path".to_owned());
    }
    let control = if field.is_ascii() {
        // No early exit: SIMD over the whole field.
        field.bytes().fold(0u8, |any, b| any | u8::from(b.is_ascii_control())) != 0
    } else {
        field.chars().any(char::is_control)
    };
    if control {
        return Err("control character in a path (git would have quoted it)".to_owned());
    }
    if field.starts_with('"') {
        let path = unquote_path(field)?;
        if path.is_empty() {
            return Err("empty path".to_owned());
        }
        return Ok(PathText::from(path));
    }
    Ok(listing.map_or_else(|| PathText::from(field), |listing| slice_of(listing, field)))
}

/// `field`, a slice of `listing`'s text, as a shared path (its own copy if
/// it is not one).
fn slice_of(listing: &Arc<String>, field: &str) -> PathText {
    let start = (field.as_ptr() as usize).wrapping_sub(listing.as_ptr() as usize);
    let range = start..start.saturating_add(field.len());
    if listing
        .get(range.clone())
        .is_some_and(|text| std::ptr::eq(text.as_ptr(), field.as_ptr()))
    {
        PathText::shared(listing, range)
    } else {
        PathText::from(field)
    }
}

/// `git diff --name-status -z` output: NUL-terminated fields, each record a
/// status field followed by its path(s). Paths are not quoted in this format.
/// Every record must start with a status: a bare path is an error that points
/// at `--name-only`, never a guess.
fn parse_nul(input: &[u8], source_name: &str) -> Result<Vec<Change>> {
    let mut fields = nul_fields(input).peekable();
    let mut changes = Vec::new();
    while let Some((field_no, raw)) = fields.next() {
        let text = std::str::from_utf8(raw).map_err(|_| nul_err(source_name, field_no, raw, "not valid UTF-8"))?;
        let Some((status, score)) = parse_status(text.trim_start_matches(['\n', '\r'])) else {
            return Err(nul_err(
                source_name,
                field_no,
                raw,
                "expected a status (A M D R C T U X B) to start a -z name-status record; \
                 for `git diff --name-only -z` output pass --name-only",
            ));
        };
        let count = if matches!(status, 'R' | 'C') { 2 } else { 1 };
        let mut paths = Vec::with_capacity(count);
        for _ in 0..count {
            let Some((path_no, raw)) = fields.next() else {
                return Err(nul_err(
                    source_name,
                    field_no,
                    raw,
                    &format!("status {status} is missing its path"),
                ));
            };
            paths.push(nul_path(source_name, path_no, raw)?);
        }
        changes.push(assemble(status, score, paths));
    }
    Ok(changes)
}

/// `git diff --name-only -z` output: every field is a path, read as `M`.
fn parse_nul_names(input: &[u8], source_name: &str) -> Result<Vec<Change>> {
    nul_fields(input)
        .map(|(field_no, raw)| Ok(Change::new('M', nul_path(source_name, field_no, raw)?)))
        .collect()
}

/// The NUL-terminated fields with their 1-based numbers, less those that are
/// empty or only line breaks (a trailing newline shows up when -z output was
/// captured with `echo`).
fn nul_fields(input: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    // git ends every field with a NUL. Text after the last NUL that is only
    // line breaks (an editor's, or `echo`'s) is not a field; a NUL-terminated
    // field of line breaks is a real name.
    let body = match input.iter().rposition(|b| *b == 0) {
        Some(last) if input[last + 1..].iter().all(|b| matches!(b, b'\n' | b'\r')) => &input[..last],
        _ => input,
    };
    body.split(|b| *b == 0).enumerate().map(|(index, raw)| (index + 1, raw))
}

/// A `-z` field is the name as git stores it, never quoted: line breaks and
/// other control characters are real names there (the safety check and the
/// `values` rule keep them out of the pipeline), and bytes that are not UTF-8
/// are kept in git's quoted form, as the git source does.
fn nul_path(source_name: &str, field_no: usize, raw: &[u8]) -> Result<String> {
    if raw.is_empty() {
        return Err(nul_err(source_name, field_no, raw, "empty path"));
    }
    Ok(crate::change::path_from_bytes(raw))
}

fn nul_err(source_name: &str, field: usize, raw: &[u8], detail: &str) -> Error {
    Error::DiffLine {
        source_name: format!("{source_name} (-z format, field {field})"),
        line: field,
        text: format!("{:?}", String::from_utf8_lossy(raw)),
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_name_status(input: &[u8], source_name: &str) -> Result<Vec<Change>> {
        parse_listing(input, source_name, DiffFormat::NameStatus)
    }

    fn parse(input: &str) -> Result<Vec<Change>> {
        parse_name_status(input.as_bytes(), "diff.txt")
    }

    /// A listing past [`PARALLEL_BYTES`]: blank lines, renames, `\r\n`,
    /// quoted paths, in both halves.
    fn large_listing() -> String {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < PARALLEL_BYTES + PARALLEL_BYTES / 3 {
            let line = match i % 5 {
                0 => format!("M\tpipelines/p{i}/s/a.py\n"),
                1 => format!("R090\tpipelines/q{i}/old.py\tpipelines/q{i}/new.py\r\n"),
                2 => "\n".to_owned(),
                3 => format!("A\t\"pipelines/r{i}/caf\\303\\251.py\"\n"),
                _ => format!("D\tpipelines/s{i}/gone.py\n"),
            };
            text.push_str(&line);
            i += 1;
        }
        text
    }

    /// The two halves a large listing is read in give the one-thread
    /// reading, change for change, and line numbers count from the top.
    #[test]
    fn a_large_listing_reads_in_halves_as_in_one_pass() -> Result<()> {
        let text = large_listing();
        let cut = Cut {
            listing: None,
            source_name: "diff.txt",
            format: DiffFormat::NameStatus,
            file_has_tab: true,
        };
        let mut one_pass = Vec::new();
        cut.lines(&text, 0, &mut |change| one_pass.push(change))?;
        let halves = parse_lines(text.as_bytes(), None, "diff.txt", DiffFormat::NameStatus)?;
        assert_eq!(halves, one_pass);
        assert!(halves.len() > 20_000);
        // A bad line in the second half, then one in each half: the first
        // by line number is reported.
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let late = lines.len() - 10;
        let mut bad = lines.clone();
        bad[late] = "Q\tx\n";
        let err = parse(&bad.concat()).expect_err("a bad line").to_string();
        assert!(err.contains(&format!("line {}", late + 1)), "{err}");
        bad[7] = "Q\ty\n";
        let err = parse(&bad.concat()).expect_err("two bad lines").to_string();
        assert!(err.contains("line 8"), "{err}");
        Ok(())
    }

    fn lines(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn every_form_of_name_status() -> Result<()> {
        let cases: &[(&str, &[&str])] = &[
            ("M\tpipelines/p/s/a.yaml\n", &["M\tpipelines/p/s/a.yaml"]),
            ("M    pipelines/p/s/a.yaml\n", &["M\tpipelines/p/s/a.yaml"]),
            ("R087\told/x\tnew/x\r\n\r\n", &["R087\told/x\tnew/x"]),
            ("R100  old/x  new/x\n", &["R100\told/x\tnew/x"]),
            ("C\ta\tb\n", &["C\ta\tb"]),
            (
                "D\t\"pipelines/caf\\303\\251/x.yaml\"\n",
                &["D\t\"pipelines/caf\\303\\251/x.yaml\""],
            ),
            ("A  \"with space/a b\"\n", &["A\twith space/a b"]),
            ("R  \"a b\"  \"c d\"\n", &["R\ta b\tc d"]),
            ("M\tb\nM\ta\nM\tb\n", &["M\ta", "M\tb"]),
            ("A  my file.txt\n", &["A\tmy file.txt"]),
        ];
        for (input, expected) in cases {
            assert_eq!(lines(&parse(input)?), *expected, "input {input:?}");
        }
        Ok(())
    }

    #[test]
    fn decoded_paths_keep_their_characters() -> Result<()> {
        let changes = parse("M\t\"a\\tb/\\\"q\\\"/c\\\\d\"\n")?;
        assert_eq!(changes[0].path, "a\tb/\"q\"/c\\d");
        Ok(())
    }

    #[test]
    fn nul_separated() -> Result<()> {
        let changes = parse_name_status(b"M\0a b/x\0R087\0old\0new\0D\0gone\0", "z")?;
        assert_eq!(lines(&changes), ["M\ta b/x", "D\tgone", "R087\told\tnew"]);
        let names = parse_listing(b"a\0b\0", "z", DiffFormat::NameOnly)?;
        assert_eq!(lines(&names), ["M\ta", "M\tb"]);
        Ok(())
    }

    /// Issue 10: a file name never changes another path's status, in any form.
    #[test]
    fn a_file_name_cannot_fake_a_status() -> Result<()> {
        // An MR that only adds a file named `D pipelines/prod/serve/modelserving.yaml`,
        // listed by `git diff --name-only`: read as a path with --name-only, and
        // an error pointing at --name-only without it, never a deletion.
        let listing = b"D pipelines/prod/serve/modelserving.yaml\n";
        let names = parse_listing(listing, "d", DiffFormat::NameOnly)?;
        assert_eq!(lines(&names), ["M\tD pipelines/prod/serve/modelserving.yaml"]);
        let mixed = b"D pipelines/prod/serve/modelserving.yaml\npipelines/p/s/a.yaml\n";
        let err = parse_listing(mixed, "d", DiffFormat::NameStatus).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.starts_with("d: line 2: not a name-status line") && m.contains("pass --name-only")),
            "{err:?}"
        );
        // `-z --name-only` output of an MR that adds a root file `D` and edits a
        // real stage: with --name-only two edits; without it not a deletion either
        // once any field breaks the record structure.
        let z = b"D\0pipelines/prod/serve/modelserving.yaml\0";
        let names = parse_listing(z, "z", DiffFormat::NameOnly)?;
        assert_eq!(lines(&names), ["M\tD", "M\tpipelines/prod/serve/modelserving.yaml"]);
        let z = b"D\0pipelines/prod/serve/modelserving.yaml\0pipelines/p/s/a.yaml\0";
        let err = parse_listing(z, "z", DiffFormat::NameStatus).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.contains("field 3") && m.contains("pass --name-only")),
            "{err:?}"
        );
        // A name-status path with a TAB inside cannot shift the fields either:
        // git quotes it, and a raw TAB makes the record malformed.
        assert!(parse("A\tD\tpipelines/prod/serve/modelserving.yaml\n").is_err());
        Ok(())
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let cases = [
            (
                "M\ta\nZ\tb\n",
                "diff.txt: line 2: unknown status \"Z\" (expected one of A M D R C T U X B): \"Z\\tb\"",
            ),
            ("M\ta\n\nM\t\n", "diff.txt: line 3: empty path: \"M\\t\""),
            (
                "R  a b c\n",
                "diff.txt: line 1: a space-separated rename or copy is ambiguous when its paths contain spaces; use `git diff --name-status` with TABs, or `-z`: \"R  a b c\"",
            ),
            (
                "R100\tonly-one\n",
                "diff.txt: line 1: status R takes 2 path(s), found 1: \"R100\\tonly-one\"",
            ),
            (
                "M\ta\u{1b}[31m\n",
                "diff.txt: line 1: control character in a path (git would have quoted it): \"M\\ta\\u{1b}[31m\"",
            ),
            (
                "M\t\"a\\q\"\n",
                "diff.txt: line 1: unknown escape `\\q`: \"M\\t\\\"a\\\\q\\\"\"",
            ),
        ];
        for (input, expected) in cases {
            let err = parse(input).map(|c| lines(&c));
            assert_eq!(err.map_err(|e| e.to_string()), Err(expected.to_owned()), "{input:?}");
        }
        let bad_utf8 = parse_name_status(b"M\ta\nM\t\xff\n", "d").map_err(|e| e.to_string());
        assert!(matches!(bad_utf8, Err(m) if m.starts_with("d: line 2: not valid UTF-8")));
    }

    #[test]
    fn input_order_does_not_matter() -> Result<()> {
        assert_eq!(parse("M\tb\nA\ta\n")?, parse("A\ta\nM\tb\n")?);
        Ok(())
    }
}

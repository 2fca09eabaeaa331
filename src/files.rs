//! Reading the files a run is configured with, within bounds (issue 10): a
//! merge request can add symlinks, FIFOs or huge files next to the
//! templates, so every configuration file, template and partial is a regular
//! file of bounded size, and YAML nesting is bounded before it is parsed.

use crate::error::{Error, Result};
use std::io::Read as _;
use std::path::Path;

/// The largest template or partial read, in bytes.
pub const TEMPLATE_LIMIT: u64 = 1024 * 1024;
/// The largest `childgen.yml` read, in bytes.
pub const CONFIG_LIMIT: u64 = 1024 * 1024;
/// The largest YAML file `childgen validate` reads, in bytes (GitLab's
/// default `max_yaml_size_bytes`; the `limits` check then applies its own).
pub const VALIDATE_LIMIT: u64 = 4 * 1024 * 1024;
/// The largest diff listing read, in bytes (a 100,000-path listing is 6 MB).
pub const DIFF_LIMIT: u64 = 256 * 1024 * 1024;
/// The deepest YAML nesting accepted (GitLab's default `max_yaml_depth`).
pub const MAX_YAML_DEPTH: usize = 100;

/// Reads `path` as UTF-8 text: a regular file (a symlink to one is fine) of at
/// most `limit` bytes. A device, FIFO, socket or folder is refused before it
/// is opened, so `/dev/zero` or a FIFO cannot stall the run.
///
/// # Errors
/// [`Error::Read`] when it cannot be read, [`Error::Input`] when it is not a
/// regular file, is larger than `limit` or is not UTF-8.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let input = |detail: String| Error::Input {
        path: path.to_owned(),
        detail,
    };
    if !metadata.is_file() {
        return Err(input(format!(
            "{what} must be a regular file, not {}",
            file_kind(&metadata.file_type())
        )));
    }
    // The kernel's files look regular (`/proc/self/environ` holds the
    // job's tokens, and an error quoting a line of it would print them).
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    if let Some(system) = ["/proc", "/sys"].into_iter().find(|root| real.starts_with(root)) {
        return Err(input(format!(
            "{what} leads to {}, under {system}, which holds the system's and the job's state, not \
             templates; name a file of the repository",
            real.display()
        )));
    }
    let too_large = || {
        input(format!(
            "{what} is larger than {} KiB; childgen reads at most that",
            limit / 1024
        ))
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| input(format!("{what} is not UTF-8 text")))
}

/// A file type in words.
#[must_use]
pub fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Whether a line holds none of the characters the depth scan follows.
fn quote_free(content: &str) -> bool {
    !content
        .bytes()
        .any(|b| matches!(b, b'[' | b']' | b'{' | b'}' | b'"' | b'\'' | b'#'))
}

/// Fails when `text` nests deeper than [`MAX_YAML_DEPTH`], judged without
/// parsing: block indentation levels, `- ` entries and flow brackets
/// outside quotes. Parsing 100,000 levels takes the YAML parser seconds;
/// this scan is linear and stops at the limit.
///
/// # Errors
/// The depth reached, as a sentence for the caller's error.
pub fn check_yaml_depth(text: &str) -> std::result::Result<(), String> {
    // Each level the scan counts takes a line, a `-` or a bracket: a text
    // with no more of them than the limit cannot exceed it (most rendered
    // fragments; issue 11).
    let openers = text
        .bytes()
        .fold(0usize, |n, b| n + usize::from(matches!(b, b'\n' | b'-' | b'[' | b'{')));
    if openers < MAX_YAML_DEPTH {
        return Ok(());
    }
    scan_depth(text)
}

/// The scan itself, line by line.
fn scan_depth(text: &str) -> std::result::Result<(), String> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (number, line) in text.lines().enumerate() {
        let content = line.trim_start_matches(' ');
        if flow == 0 {
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let mut indent = line.len() - content.len();
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
            // `- - - a`: each dash opens a level.
            let mut rest = content;
            while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
                indent += 2;
                indents.push(indent);
                rest = after.trim_start_matches(' ');
            }
        }
        // Most lines hold no bracket, quote or `#`: only the depth so far
        // counts (issue 11: this scan ran over every rendered fragment).
        if quote_free(content) {
            if indents.len() + flow > MAX_YAML_DEPTH {
                return Err(format!(
                    "the YAML nests deeper than {MAX_YAML_DEPTH} levels (line {}); GitLab refuses that too",
                    number + 1
                ));
            }
            continue;
        }
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for c in content.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                // A comment starts at a `#` after a blank, not inside `a#b`.
                (None, '#') if previous == ' ' || previous == '\t' => break,
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            previous = c;
            if indents.len() + flow > MAX_YAML_DEPTH {
                return Err(format!(
                    "the YAML nests deeper than {MAX_YAML_DEPTH} levels (line {}); GitLab refuses that too",
                    number + 1
                ));
            }
        }
        if indents.len() + flow > MAX_YAML_DEPTH {
            return Err(format!(
                "the YAML nests deeper than {MAX_YAML_DEPTH} levels (line {}); GitLab refuses that too",
                number + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_is_shallow_enough() {
        let yaml = "a:\n  b:\n    - c: [1, {d: '[[['}]\n    - - e\n# [[[[\n";
        assert_eq!(check_yaml_depth(yaml), Ok(()));
    }

    #[test]
    fn deep_yaml_is_refused_before_parsing() {
        let flow = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(check_yaml_depth(&flow).is_err_and(|e| e.contains("deeper than 100 levels (line 1)")));
        let block: String = (0..150).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert!(check_yaml_depth(&block).is_err_and(|e| e.contains("(line 101)")));
        let dashes = format!("a: 1\n{}x\n", "- ".repeat(200));
        assert!(check_yaml_depth(&dashes).is_err());
        let hidden = format!("a: [x#{}\n", "[".repeat(200));
        assert!(check_yaml_depth(&hidden).is_err());
    }

    /// The shortcut for texts with few lines, dashes and brackets gives the
    /// scan's answer at the limit and around it.
    #[test]
    fn the_shortcut_agrees_with_the_scan_at_the_limit() {
        for depth in 90..=110 {
            let texts = [
                format!("a: {}", "[".repeat(depth)),
                (0..depth).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect(),
                format!("{}x", "- ".repeat(depth)),
                format!("a:\n{}x: {}\n", "- ".repeat(depth / 2), "{".repeat(depth / 2)),
            ];
            for text in texts {
                assert_eq!(check_yaml_depth(&text), scan_depth(&text), "{text:?}");
            }
        }
    }
}

//! The guarantee that a changed path cannot change what the pipeline does,
//! proven on the rendered result whatever the template does (issue 10).
//!
//! A fragment whose context holds a path (or a value) with a character that
//! YAML, a shell or GitLab's variable expansion may treat specially is
//! rendered a second time with neutral stand-ins: each such character becomes
//! `_`, so folders, extensions and lengths stay as they were and the
//! template's own logic takes the same branches. The stand-in document is as
//! safe as the template. The real one must have the same shape, node for node:
//!
//! - the same mappings, lists and scalar kinds, and the same GitLab keywords
//!   as keys: a path cannot add a job, a key or a script line, or turn a
//!   string into a mapping;
//! - in `script`, `before_script`, `after_script` and hook scripts, the same
//!   shell structure ([`shell_words`]): the same words and operators, the same
//!   expansions, command substitutions and unquoted special characters. A path
//!   may only change literal text: inside quotes, or plain letters and digits;
//! - in `rules:if` (and `only`/`except` `variables`) expressions, the same text;
//! - in any other string, the same `$` references (GitLab expands variables
//!   in most keywords), unless the variable says `expand: false`;
//! - a variable whose value holds a path is expanded only inside double
//!   quotes in every script (unquoted, the shell splits it into arguments).

use serde_yaml::{Mapping, Value};
use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `text` holds only characters that no layer treats specially:
/// ASCII letters and digits, `.`, `_`, `/` and `-` (not at the start of a
/// part: `a/-Ibash` would be tar's option to run bash).
#[must_use]
pub fn is_neutral(text: &str) -> bool {
    // A leading `-` starts a YAML sequence entry (`- -`) when printed bare.
    // A fold without an early exit compiles to SIMD: this runs for every
    // path of every group.
    !text.starts_with('-')
        && !text.contains("/-")
        && text.bytes().fold(0u8, |bad, b| bad | u8::from(!is_neutral_byte(b))) == 0
}

#[allow(clippy::needless_bitwise_bool)] // bitwise on purpose: no branches
fn is_neutral_byte(b: u8) -> bool {
    // Branch-free, so that the fold above vectorises: `-./0-9` is one
    // range (0x2D..=0x39), letters another once lowercased, then `_`.
    (b.wrapping_sub(b'-') < 13) | ((b | 0x20).wrapping_sub(b'a') < 26) | (b == b'_')
}

/// `text` with every character outside the neutral set replaced by `_`.
#[must_use]
pub fn stand_in(text: &str) -> Cow<'_, str> {
    if is_neutral(text) {
        return Cow::Borrowed(text);
    }
    let mut previous = '/';
    Cow::Owned(
        text.chars()
            .map(|c| {
                let part_start = previous == '/';
                previous = c;
                if c.is_ascii() && is_neutral_byte(c as u8) && !(part_start && c == '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

/// Where, and how, a rendered document differs from its stand-in rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The node, as `test-p1-s1.script[1]`, or `the fragment`.
    pub at: String,
    /// What the path did there (a phrase following "the changed path X").
    pub detail: String,
    /// The stand-in text around the node, to find which path did it.
    pub stand_in_text: String,
}

/// How strings under a key are read by GitLab and the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// GitLab expands `$NAME` in it.
    Expanded,
    /// A shell runs it.
    Script,
    /// A CI/CD expression.
    Expression,
    /// Taken as it is (`expand: false`).
    Literal,
    /// Run as a command by GitLab or a container: every `release:` field
    /// (the runner puts each, in double quotes, on a shell line of its
    /// own), `inputs` (a `run:` step pastes them into its command; GitLab
    /// pastes an `include`'s or a `trigger`'s into the file's
    /// `$[[ inputs.name ]]`, scripts included), an image's `entrypoint`, a
    /// service's `entrypoint` or `command`.
    Command,
    /// A file pattern of `artifacts:` or `cache:` (`paths`, `exclude`,
    /// every report of `artifacts:reports`, `cache:key:files`), of
    /// `include` or of `rules:changes`/`exists`.
    Glob,
    /// A place the allow-list ([`place`]) does not name: no difference.
    Unlisted,
    /// A hidden job's own key: no difference, since a `!reference` may
    /// splice it into any keyword (one in the same fragment is resolved
    /// and checked where it lands, see [`resolve_references`]).
    Hidden,
}

/// Keys whose string items a shell runs.
const SCRIPT_KEYS: [&str; 4] = ["script", "before_script", "after_script", "pre_get_sources_script"];

/// GitLab's keywords (top level and job level): a path may never turn a job
/// name into one of these, or one of these into something else.
const KEYWORDS: [&str; 62] = [
    "after_script",
    "allow_failure",
    "artifacts",
    "before_script",
    "cache",
    "coverage",
    "dast_configuration",
    "default",
    "dependencies",
    "environment",
    "except",
    "extends",
    "hooks",
    "id_tokens",
    "identity",
    "image",
    "include",
    "inherit",
    "interruptible",
    "manual_confirmation",
    "needs",
    "only",
    "pages",
    "parallel",
    "release",
    "resource_group",
    "retry",
    "rules",
    "run",
    "script",
    "secrets",
    "services",
    "spec",
    "stage",
    "stages",
    "start_in",
    "tags",
    "timeout",
    "trigger",
    "variables",
    "when",
    "workflow",
    "if",
    "changes",
    "exists",
    "paths",
    "key",
    "value",
    "expand",
    "description",
    "options",
    "name",
    "entrypoint",
    "action",
    "on_stop",
    "url",
    "reports",
    "expire_in",
    "untracked",
    "policy",
    "pre_get_sources_script",
    "job",
];

/// Compares the document rendered from the real context with the one
/// rendered from stand-ins.
///
/// `Ok(Some(..))`: a program that reads a path and is not known to read it
/// as data, which the caller reports after its own checks.
///
/// # Errors
/// The first [`Difference`], in document order.
pub fn compare(real: &Mapping, stand_in: &Mapping, known: &Known) -> Result<Option<Difference>, Difference> {
    shallow_substitutions(real)?;
    // Each value a `!reference` takes is read where it lands.
    let (real, stand_in) = (resolve_references(real), resolve_references(stand_in));
    let (real, stand_in) = (real.as_ref(), stand_in.as_ref());
    let (mut tainted, all) = tainted_variables(real, stand_in);
    follow_chains(&mut tainted, &all);
    let mut walk = Walk {
        at: Vec::new(),
        lists: real.values().any(has_reference),
        tainted: tainted.into_iter().map(|(name, _)| name).collect(),
    };
    walk.mapping(real, stand_in)?;
    let untrusted = unquoted_tainted(real, stand_in, Reach::Special, known)?;
    // A document that does not differ holds no path's special character.
    if real != stand_in {
        inside_subset(real, Reach::Special)?;
    }
    Ok(untrusted)
}

/// A script line of `doc` that writes the job's environment to a file or a
/// variable (`env | sort > job.env`, `printenv | tee vars.txt`,
/// `V="$(awk '... ENVIRON ...')"`), in any fragment:
/// the file holds `CI_JOB_TOKEN`, and a line of another fragment (a job's
/// `default: before_script` runs before every job) may read it by a
/// chosen name, where no check of that fragment sees the dump.
///
/// # Errors
/// The line, as a [`Difference`] whose `stand_in_text` is empty.
pub fn writes_environment(doc: &Mapping) -> Result<(), Difference> {
    // Every string of the document (a `!reference` may make any list a
    // script), without copying: most hold no `>` or `tee`.
    fn strings<'d>(value: &'d Value, at: &mut Vec<&'d str>, out: &mut Vec<(String, &'d str)>, in_proc: &mut bool) {
        match value {
            Value::String(text) => {
                if may_print_environment(text) || may_name_environment_file(text) {
                    out.push((at.join("."), text));
                }
                *in_proc = *in_proc || may_enter_proc(text);
            }
            Value::Sequence(list) => list.iter().for_each(|item| strings(item, at, out, in_proc)),
            Value::Mapping(map) => {
                for (key, item) in map {
                    at.push(key.as_str().unwrap_or_default());
                    strings(item, at, out, in_proc);
                    at.pop();
                }
            }
            Value::Tagged(tagged) => strings(&tagged.value, at, out, in_proc),
            _ => {}
        }
    }
    let mut found = Vec::new();
    // Whether a script may be in a folder of `/proc`.
    let mut in_proc = false;
    for (key, value) in doc {
        strings(
            value,
            &mut vec![key.as_str().unwrap_or_default()],
            &mut found,
            &mut in_proc,
        );
    }
    for (at, line) in found {
        // Into a file, or into a variable a later line may filter.
        if (dumps_variables(line) || in_proc && reads_environment_file(line, None, true))
            && (!written_files(line).is_empty() || line.contains("$(") && !assigned_names(line).is_empty())
        {
            return Err(Difference {
                at,
                detail: format!(
                    "writes the job's environment to a file or a variable ({}), which then holds `CI_JOB_TOKEN` \
                     for any later line to print (a job's `grep \"^{{{{ name | upper }}}}_\" job.env` with a folder `ci_job`); \
                     write the variables you need by their names",
                    code(&clip(line))
                ),
                stand_in_text: String::new(),
            });
        }
    }
    Ok(())
}

/// Whether a path reaches a script of the document: a script line differs
/// from the stand-in document's, or names a variable whose value does.
#[must_use]
pub fn reaches_scripts(real: &Mapping, stand_in: &Mapping) -> bool {
    let (real, stand_in) = (resolve_references(real), resolve_references(stand_in));
    let (real, stand_in) = (real.as_ref(), stand_in.as_ref());
    let (mut tainted, all) = tainted_variables(real, stand_in);
    follow_chains(&mut tainted, &all);
    let lists = real.values().any(has_reference);
    let (mut scripts, mut neutral) = (Vec::new(), Vec::new());
    collect_scripts(real, &mut Vec::new(), false, lists, &mut scripts);
    collect_scripts(stand_in, &mut Vec::new(), false, lists, &mut neutral);
    scripts.iter().enumerate().any(|(i, (_, line))| {
        neutral.get(i).is_none_or(|(_, n)| n != line) || tainted.iter().any(|(name, _)| mentions(line, name))
    })
}

/// Why a fragment's scripts must stay inside the shell subset.
#[derive(Clone, Copy)]
enum Reach {
    /// A path with characters a shell treats specially is in its group.
    Special,
    /// A changed path's text (of any characters) is in a script or variable.
    Text,
}

impl Reach {
    fn phrase(self) -> &'static str {
        match self {
            Reach::Special => "is in a group whose paths hold characters a shell treats specially",
            Reach::Text => "is in a fragment whose scripts or variables hold a changed path's text",
        }
    }
}

/// Every script item of the document (and every item a `!reference` there
/// takes from it) parses in the shell subset of [`crate::subset`]: what the
/// checks above follow is then all there is.
fn inside_subset(real: &Mapping, reach: Reach) -> Result<Vec<(String, String)>, Difference> {
    fn items(
        root: &Mapping,
        value: &Value,
        at: &str,
        depth: usize,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), Difference> {
        match value {
            Value::String(line) => out.push((at.to_owned(), line.clone())),
            Value::Sequence(list) => {
                for (i, item) in list.iter().enumerate() {
                    items(root, item, &format!("{at}[{i}]"), depth, out)?;
                }
            }
            Value::Tagged(tagged) if tagged.tag == "reference" => {
                let keys: Vec<&str> = match &tagged.value {
                    Value::Sequence(keys) => keys.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let mut target = keys.first().and_then(|job| root.get(*job));
                for key in keys.iter().skip(1) {
                    target = target.and_then(|t| t.get(*key));
                }
                // GitLab follows at most 10 levels of `!reference`.
                match target {
                    Some(target) if depth < 10 => items(root, target, at, depth + 1, out)?,
                    _ => {
                        return Err(Difference {
                            at: at.to_owned(),
                            detail: format!(
                                "is in a group whose script takes lines by `!reference [{}]` from outside this \
                                 fragment (or more than 10 levels deep), which childgen cannot read to check; \
                                 write the lines in the template",
                                keys.join(", ")
                            ),
                            stand_in_text: String::new(),
                        });
                    }
                }
            }
            Value::Tagged(tagged) => items(root, &tagged.value, at, depth, out)?,
            _ => {}
        }
        Ok(())
    }
    // `job.key`: where a key of the node at `at` is.
    fn child(at: &str, name: &str) -> String {
        if at.is_empty() {
            name.to_owned()
        } else {
            format!("{at}.{name}")
        }
    }
    fn scripts(root: &Mapping, map: &Mapping, at: &str, out: &mut Vec<(String, String)>) -> Result<(), Difference> {
        for (key, value) in map {
            let name = key.as_str().unwrap_or_default();
            let here = child(at, name);
            if SCRIPT_KEYS.contains(&name) {
                items(root, value, &here, 0, out)?;
            } else if let Value::Mapping(inner) = value {
                scripts(root, inner, &here, out)?;
            } else if let Value::Sequence(list) = value {
                // `run:` steps.
                for (i, item) in list.iter().enumerate() {
                    if let Value::Mapping(inner) = item {
                        scripts(root, inner, &format!("{here}[{i}]"), out)?;
                    }
                }
            }
        }
        Ok(())
    }
    // Variables: name, value, whether GitLab expands it, where.
    fn variables(value: &Value, at: &str, in_variables: bool, out: &mut Vec<(String, String, bool, String)>) {
        match value {
            Value::Mapping(map) => {
                for (key, value) in map {
                    let name = key.as_str().unwrap_or_default();
                    let here = child(at, name);
                    if in_variables {
                        let (text, expand) = match value {
                            Value::Mapping(m) => (
                                m.get("value").cloned().unwrap_or(Value::Null),
                                m.get("expand") != Some(&Value::Bool(false)),
                            ),
                            other => (other.clone(), true),
                        };
                        let texts = match text {
                            Value::Sequence(items) => items,
                            other => vec![other],
                        };
                        for text in texts {
                            let mut shown = String::new();
                            collect_text(&text, &mut shown);
                            if shown.ends_with('\n') {
                                shown.pop();
                            }
                            out.push((name.to_owned(), shown, expand, here.clone()));
                        }
                    } else if name == "matrix"
                        && let Value::Sequence(entries) = value
                    {
                        for (i, entry) in entries.iter().enumerate() {
                            variables(entry, &format!("{here}[{i}]"), true, out);
                        }
                    } else {
                        variables(value, &here, matches!(name, "variables" | "env"), out);
                    }
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    variables(item, &format!("{at}[{i}]"), false, out);
                }
            }
            Value::Tagged(tagged) => variables(&tagged.value, at, in_variables, out),
            _ => {}
        }
    }
    let mut defined = Vec::new();
    variables(&Value::Mapping(real.clone()), "", false, &mut defined);
    // A reference to a variable the fragment does not set is to a CI/CD
    // variable (not from a path); one it sets is checked itself when bash or
    // a tool reads it, and may hold anything otherwise.
    let reference_ok = |name: &str| special_variable(name) || !defined.iter().any(|(n, ..)| n == name);
    for (name, value, expand, at) in &defined {
        if let Err(why) = crate::subset::check_variable(name, value, *expand, &reference_ok) {
            return Err(Difference {
                at: at.clone(),
                detail: format!(
                    "{}, and this {why}; there childgen sets no variable that code may be read from \
                     (docs/templates.md, \"Paths in scripts\"): leave it out of the job or give it a plain value, \
                     or rename the file",
                    reach.phrase()
                ),
                stand_in_text: value.clone(),
            });
        }
    }
    let mut lines = Vec::new();
    scripts(real, real, "", &mut lines)?;
    for (at, line) in &lines {
        if let Err(why) = crate::subset::check(line) {
            return Err(Difference {
                at: at.clone(),
                detail: format!(
                    "{}, and {} {why}; there childgen accepts only the part of shell it can read completely \
                     (docs/templates.md, \"Paths in scripts\"): rewrite the line, or rename the file",
                    reach.phrase(),
                    code(&clip(line))
                ),
                stand_in_text: line.clone(),
            });
        }
    }
    Ok(lines)
}

/// The text a merge request chose: the values and paths a fragment's
/// context holds. Text of neutral characters cannot change a document's
/// shape, so [`compare`] cannot see it, but a template may still print it
/// where a shell runs it (`bash -c "$F"` with a file named `printenv`,
/// `"${!F}"` with one named `CI_JOB_TOKEN`, `{{ name }} --help`).
pub struct Chosen {
    /// Each path, each of its parts, and each part's text before a `.`,
    /// lowercased (case filters keep them recognisable).
    words: foldhash::HashSet<String>,
    longest: usize,
    /// The lengths (bit `n` for `n`, 63 for longer) and the first bytes
    /// of the words: most candidates are told apart without hashing.
    lengths: u64,
    firsts: [bool; 256],
    /// What a filter may make of a word with `-` or `.` in a variable's
    /// name ([`Chosen::in_name`]): the word with them read as `_`, and its
    /// parts between them of three characters or more.
    name_parts: foldhash::HashSet<String>,
}

impl Default for Chosen {
    fn default() -> Self {
        Chosen {
            words: foldhash::HashSet::default(),
            longest: 0,
            lengths: 0,
            firsts: [false; 256],
            name_parts: foldhash::HashSet::default(),
        }
    }
}

impl Chosen {
    /// Adds a value or a path.
    pub fn add(&mut self, text: &str) {
        let mut add = |word: &str| {
            if !word.is_empty() && !self.words.contains(word) {
                self.longest = self.longest.max(word.len());
                self.lengths |= 1 << word.len().min(63);
                self.firsts[usize::from(word.as_bytes()[0])] = true;
                self.words.insert(word.to_owned());
            }
        };
        let lower = text.to_ascii_lowercase();
        add(&lower);
        for part in lower.split('/') {
            add(part);
            add(part.split('.').next().unwrap_or_default());
        }
        for word in std::iter::once(lower.as_str()).chain(lower.split('/')) {
            if word.contains(['-', '.']) {
                self.name_parts.insert(word.replace(['-', '.'], "_"));
                for part in word.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                    if part.len() >= 3 {
                        self.name_parts.insert(part.to_owned());
                    }
                }
            }
        }
    }

    /// Calls `found` with the byte range of every chosen word that stands
    /// on its own in `text` (between characters other than letters, digits
    /// and `_`), or glued to others that together do (`{{ a }}{{ b }}`
    /// printing `printenv`); ranges may overlap.
    fn each(&self, text: &str, mut found: impl FnMut(usize, usize)) {
        let bytes = text.as_bytes();
        let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut lower = Vec::with_capacity(self.longest);
        // Every match that starts on a boundary or where another ends.
        let mut matches: Vec<(usize, usize)> = Vec::new();
        for start in 0..bytes.len() {
            if !word_byte(bytes[start]) && !matches!(bytes[start], b'.' | b'-' | b'/') {
                continue;
            }
            let glued = || matches.iter().any(|(_, end)| *end == start);
            if !self.firsts[usize::from(bytes[start].to_ascii_lowercase())]
                || (start > 0 && word_byte(bytes[start - 1]) && !glued())
            {
                continue;
            }
            lower.clear();
            for (end, byte) in bytes.iter().enumerate().take(start + self.longest).skip(start) {
                lower.push(byte.to_ascii_lowercase());
                if self.lengths & (1 << lower.len().min(63)) != 0
                    && std::str::from_utf8(&lower).is_ok_and(|w| self.words.contains(w))
                {
                    matches.push((start, end + 1));
                }
            }
        }
        // A match counts when it ends on a boundary or where a counted one
        // starts.
        let mut counted: Vec<usize> = Vec::new();
        for &(start, end) in matches.iter().rev() {
            if bytes.get(end).is_none_or(|b| !word_byte(*b)) || counted.contains(&end) {
                counted.push(start);
                found(start, end);
            }
        }
    }

    /// Whether `text` holds a chosen word anywhere, even glued to other
    /// text (`printenv` from `{{ name }}env`).
    fn within(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        (0..lower.len()).any(|a| {
            (a + 1..=lower.len().min(a + self.longest))
                .any(|b| lower.is_char_boundary(a) && lower.is_char_boundary(b) && self.words.contains(&lower[a..b]))
        })
    }

    /// Whether a variable's name (with what follows it, `tail`) holds a
    /// chosen word anywhere, also glued to letters (`${{ s | upper }}TOKEN`
    /// with a folder `ci_job_`), with its `-` and `.` read as `_`
    /// (`{{ s | upper | replace(from="-", to="_") }}` with `ci-job-token`),
    /// or a part of it between such characters, of three characters or more.
    fn in_name(&self, tail: &str) -> bool {
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+')))
            .unwrap_or(tail.len());
        let lower = tail[..end].to_ascii_lowercase();
        // (A part a filter may cut out: `split(pat=".") | last` of
        // `fraud.ci_job_token`.)
        !lower.is_empty() && (self.within(&lower) || self.name_parts.iter().any(|part| lower.contains(part.as_str())))
    }

    /// The chosen texts that hold a character a file pattern or the
    /// runner's expansion reads (`*`, `?`, `[`, `{`, `$`).
    fn with_pattern_characters(&self) -> Vec<&String> {
        self.words
            .iter()
            .filter(|w| w.contains(['*', '?', '[', '{', '$']))
            .collect()
    }

    /// Whether a chosen text holds `$NAME` (or `${NAME`) itself: a path
    /// `$CI_JOB_TOKEN.py` given as an `expand: false` value is the path's
    /// text, not a name a template built.
    fn brings_reference(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let (plain, braced, percent) = (format!("${lower}"), format!("${{{lower}"), format!("%{lower}%"));
        self.words
            .iter()
            .any(|w| w.contains(&plain) || w.contains(&braced) || w.contains(&percent))
    }

    /// Whether a chosen word starts at the start of `name` (a variable's
    /// name) or after one of its `_`s, and ends at a `_` or a `-`, `.`, `+`,
    /// or the end of `tail` (`name` and what follows it).
    fn between_underscores(&self, name: &str, tail: &str) -> bool {
        let lower = tail.to_ascii_lowercase();
        let starts = std::iter::once(0).chain(name.match_indices('_').map(|(j, _)| j + 1));
        starts.into_iter().any(|a| {
            (a + 1..=lower.len()).any(|b| {
                (b == lower.len() || matches!(lower.as_bytes()[b], b'_' | b'-' | b'.' | b'+'))
                    && self.words.contains(&lower[a..b])
            })
        })
    }

    /// `text` with every chosen word that stands on its own turned into
    /// other letters and digits of the same kinds (`p1` into `z9`), or
    /// `None` when it holds none.
    #[must_use]
    pub fn mark(&self, text: &str) -> Option<String> {
        let mut marked: Option<Vec<u8>> = None;
        self.each(text, |start, end| {
            let out = marked.get_or_insert_with(|| text.as_bytes().to_vec());
            for (b, original) in out[start..end].iter_mut().zip(&text.as_bytes()[start..end]) {
                *b = marked_byte(*original);
            }
        });
        marked.map(|m| String::from_utf8(m).unwrap_or_default())
    }

    /// What [`check_reach`] concludes of `real` depends only on this key,
    /// or `None`: the document with the chosen words marked, which of them
    /// are the same word, and nothing else when no word around a chosen
    /// one is one the checks or the templates compare text with
    /// ([`telling`]). `Some("")` when no chosen word is in the document.
    fn key(&self, real: &Mapping, known: &Known) -> Option<Vec<u8>> {
        struct Walk<'a> {
            chosen: &'a Chosen,
            known: &'a Known,
            key: Vec<u8>,
            /// The chosen words of the string being read (reused).
            found: Vec<(usize, usize)>,
            seen: Vec<&'a str>,
            /// [`telling`]'s answers, by the text around a word and where
            /// the word starts in it.
            told: Vec<((&'a str, usize), bool)>,
            telling: bool,
        }
        impl<'a> Walk<'a> {
            fn value(&mut self, value: &'a Value) {
                match value {
                    Value::String(text) => {
                        let start = self.key.len();
                        self.key.extend_from_slice(text.as_bytes());
                        let mut found = std::mem::take(&mut self.found);
                        found.clear();
                        self.chosen.each(text, |a, b| found.push((a, b)));
                        for &(a, b) in &found {
                            let word = &text[a..b];
                            let id = self.seen.iter().position(|w| *w == word).unwrap_or_else(|| {
                                self.seen.push(word);
                                self.seen.len() - 1
                            });
                            self.key.push(1);
                            for n in [id, a, b] {
                                self.key
                                    .extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
                            }
                            let (start_of, end_of) = around(text, a, b);
                            let around = (&text[start_of..end_of], a - start_of);
                            let told = self.told.iter().find(|(t, _)| *t == around).map(|(_, told)| *told);
                            let told = told.unwrap_or_else(|| {
                                let told = telling(around.0, around.1, self.known);
                                self.told.push((around, told));
                                told
                            });
                            self.telling |= told;
                            for byte in &mut self.key[start + a..start + b] {
                                *byte = marked_byte(*byte);
                            }
                        }
                        self.key.push(0);
                        self.found = found;
                    }
                    Value::Sequence(items) => {
                        self.key.push(b'[');
                        self.key
                            .extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_le_bytes());
                        for item in items {
                            self.value(item);
                        }
                    }
                    Value::Mapping(map) => {
                        self.key.push(b'{');
                        self.key
                            .extend_from_slice(&u32::try_from(map.len()).unwrap_or(u32::MAX).to_le_bytes());
                        for (k, v) in map {
                            self.value(k);
                            self.value(v);
                        }
                    }
                    Value::Tagged(tagged) => {
                        let _ = std::io::Write::write_fmt(&mut self.key, format_args!("!{}", tagged.tag));
                        self.value(&tagged.value);
                    }
                    other => {
                        let _ = std::io::Write::write_fmt(&mut self.key, format_args!("{other:?}\u{0}"));
                    }
                }
            }
        }
        let mut walk = Walk {
            chosen: self,
            known,
            key: Vec::new(),
            found: Vec::new(),
            seen: Vec::new(),
            told: Vec::new(),
            telling: false,
        };
        for (k, v) in real {
            walk.value(k);
            walk.value(v);
        }
        if walk.seen.is_empty() {
            Some(Vec::new())
        } else if walk.telling {
            None
        } else {
            Some(walk.key)
        }
    }

    fn mark_mapping(&self, map: &Mapping) -> Mapping {
        map.iter()
            .map(|(k, v)| (self.mark_value(k), self.mark_value(v)))
            .collect()
    }

    fn mark_value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => self.mark(text).map_or_else(|| value.clone(), Value::String),
            Value::Sequence(items) => Value::Sequence(items.iter().map(|v| self.mark_value(v)).collect()),
            Value::Mapping(map) => Value::Mapping(self.mark_mapping(map)),
            Value::Tagged(tagged) => Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
                tag: tagged.tag.clone(),
                value: self.mark_value(&tagged.value),
            })),
            other => other.clone(),
        }
    }
}

/// Where a fragment's scripts and variables hold text a merge request chose
/// ([`Chosen`]), whatever its characters, that text is followed as a path
/// with special characters is: it may not reach code (`sh -c`, arithmetic,
/// `${!NAME}`...), every script of the fragment stays inside the shell
/// subset, and it may not be the file name of a command, unless the
/// templates or `vars` write that name too (`known`): a chosen folder is
/// fine (`./pipelines/p1/run.sh`).
///
/// # Errors
/// The first [`Difference`], its `stand_in_text` the marked text. `Ok(true)`
/// when chosen words stand in the document (and were checked).
pub fn check_reach(real: &Mapping, chosen: &Chosen, known: &Known, proven: &Proven) -> Result<bool, Difference> {
    if chosen.words.is_empty() {
        return Ok(false);
    }
    // Each value a `!reference` takes is read where it lands (`tags:
    // [!reference [.settings, runner]]`).
    let resolved = resolve_references(real);
    let real = resolved.as_ref();
    let key = chosen.key(real, known);
    match &key {
        // No chosen word stands on its own; one may still sit between `_`s.
        Some(key) if key.is_empty() => return chosen_variable(real, chosen, known).map(|()| false),
        _ => {}
    }
    // Fragments of one template checked at once on several threads wait
    // for the first one's verdict instead of repeating its work.
    let _checking = match &key {
        Some(key) => match proven.claim(key) {
            Claim::Proven => return Ok(true),
            Claim::Mine(guard) => Some(guard),
        },
        None => None,
    };
    shallow_substitutions(real)?;
    // Where a cached key matches, so does every `$NAME` that holds a
    // chosen word: one between `_`s is not marked, so its text is in the
    // key; a marked one is either refused here or in a name the templates
    // write, which `telling` keeps out of the cache.
    chosen_variable(real, chosen, known)?;
    let marked = chosen.mark_mapping(real);
    if marked == *real {
        return Ok(false);
    }
    reach_checks(real, &marked, chosen, known)?;
    if let Some(key) = key {
        proven.insert(key);
    }
    Ok(true)
}

/// A `$NAME` (or `${NAME`) reference anywhere in `value` whose name holds
/// a chosen word between `_`s (`${{ name | upper }}_TOKEN` with a folder
/// named `ci_job`) and is not a name the templates write (`$MODEL_ID` with
/// a file `model.py`): GitLab or the shell would expand the variable the
/// merge request names.
fn chosen_variable(value: &Mapping, chosen: &Chosen, known: &Known) -> Result<(), Difference> {
    // Where the first string holding one is, found only when there is one.
    fn first<'v>(
        value: &'v Value,
        named: &dyn Fn(&str) -> Option<String>,
        at: &mut Vec<String>,
    ) -> Option<(&'v str, String)> {
        match value {
            Value::String(text) if text.contains(['$', '%']) => named(text).map(|name| (text.as_str(), name)),
            Value::Sequence(items) => items.iter().enumerate().find_map(|(i, item)| {
                at.push(format!("[{i}]"));
                let found = first(item, named, at);
                if found.is_none() {
                    at.pop();
                }
                found
            }),
            Value::Mapping(map) => map.iter().find_map(|(key, item)| {
                first(key, named, at).or_else(|| {
                    at.push(key.as_str().unwrap_or_default().to_owned());
                    let found = first(item, named, at);
                    if found.is_none() {
                        at.pop();
                    }
                    found
                })
            }),
            Value::Tagged(tagged) => first(&tagged.value, named, at),
            _ => None,
        }
    }
    chosen_variable_name(value, chosen, known)?;
    // The first such name in `text`.
    let named = |text: &str| -> Option<String> {
        expanded_references(text)
            .find(|((name, rest), percent)| {
                // The name may run on past the variable's (`$CI_JOB_TOKEN-x`
                // with a folder `ci_job_token-x`).
                let tail = &rest[..rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+')))
                    .unwrap_or(rest.len())];
                // A path that holds `%NAME%` itself (read as text under
                // `expand: false`) names nothing.
                !(known.writes_reference(name) || *percent && chosen.brings_reference(name))
                    && (chosen.between_underscores(name, tail)
                        || chosen.in_name(name) && !chosen.brings_reference(name))
            })
            .map(|((name, _), _)| name.to_owned())
    };
    let mut at = Vec::new();
    let Some((text, name)) = value.iter().find_map(|(key, item)| {
        first(key, &named, &mut at).or_else(|| {
            at.push(key.as_str().unwrap_or_default().to_owned());
            let found = first(item, &named, &mut at);
            if found.is_none() {
                at.pop();
            }
            found
        })
    }) else {
        return Ok(());
    };
    let mut shown = String::new();
    for segment in &at {
        if !segment.starts_with('[') && !shown.is_empty() {
            shown.push('.');
        }
        shown.push_str(segment);
    }
    Err(Difference {
        at: shown,
        detail: format!(
            "names the variable `${name}` ({}), which GitLab or the shell would expand: a merge request would \
             choose which variable (and secret) the job reads; name variables in the template",
            code(&clip(text))
        ),
        stand_in_text: chosen.mark(text).unwrap_or_default(),
    })
}

/// A variable's own name built from a chosen word (`{{ name | upper }}_TRACE`
/// with a folder `ci_debug` sets `CI_DEBUG_TRACE`), unless a template
/// writes that name.
fn chosen_variable_name(value: &Mapping, chosen: &Chosen, known: &Known) -> Result<(), Difference> {
    let jobs = std::iter::once(("", value)).chain(
        value
            .iter()
            .filter_map(|(job, body)| Some((job.as_str()?, body.as_mapping()?))),
    );
    for (job, body) in jobs {
        let Some(Value::Mapping(variables)) = body.get("variables") else {
            continue;
        };
        for key in variables.keys().filter_map(Value::as_str) {
            if (chosen.between_underscores(key, key) || chosen.in_name(key)) && !known.words.contains(key) {
                let at = if job.is_empty() {
                    format!("variables.{key}")
                } else {
                    format!("{job}.variables.{key}")
                };
                return Err(Difference {
                    at,
                    detail: format!(
                        "names the variable `{key}`, which the template does not write: a merge request would \
                         choose which variable the job sets (`CI_DEBUG_TRACE` prints every variable); write \
                         variables' names in the template"
                    ),
                    stand_in_text: chosen.mark(key).unwrap_or_default(),
                });
            }
        }
    }
    Ok(())
}

/// Each `$NAME` or `${NAME` reference in `text`: its name (possibly empty)
/// and the text from the name on.
fn references(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.match_indices('$').map(|(i, _)| {
        let rest = text[i + 1..].strip_prefix('{').unwrap_or(&text[i + 1..]);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (&rest[..end], rest)
    })
}

/// [`references`] of the `%NAME%` form, which GitLab expands as `$NAME`
/// (and Windows' cmd in a script): each `%`'s name, possibly empty or not
/// closed by a `%` (see [`closed`]), and the text from the name on.
fn percent_references(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.match_indices('%').map(|(i, _)| {
        let rest = &text[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (&rest[..end], rest)
    })
}

/// Every `$NAME`/`${NAME}` and closed `%NAME%` reference of `text`, each
/// with whether it is of the `%NAME%` form.
fn expanded_references(text: &str) -> impl Iterator<Item = ((&str, &str), bool)> {
    references(text).map(|reference| (reference, false)).chain(
        percent_references(text)
            .filter(|(name, rest)| closed(name, rest))
            .map(|reference| (reference, true)),
    )
}

/// Whether a `%NAME` of [`percent_references`] is closed by its `%`.
fn closed(name: &str, rest: &str) -> bool {
    !name.is_empty() && rest[name.len()..].starts_with('%')
}

/// Fragments [`check_reach`] proved, by [`Chosen::key`]: a template renders
/// the same document, but for the chosen words, for every group.
#[derive(Default)]
pub struct Proven(Keys, pub Crossing);

/// The keys proved, and those a thread is checking now.
#[derive(Default)]
pub struct Keys {
    state: std::sync::Mutex<KeyState>,
    decided: std::sync::Condvar,
}

#[derive(Default)]
struct KeyState {
    proven: foldhash::HashSet<Vec<u8>>,
    checking: foldhash::HashSet<Vec<u8>>,
}

/// What [`Proven::claim`] found.
enum Claim<'p> {
    /// Another fragment with this key was proved.
    Proven,
    /// This thread checks it; the guard says when it is done.
    Mine(Checking<'p>),
}

/// A key being checked: dropped when the check ends, however it ends.
struct Checking<'p> {
    keys: &'p Keys,
    key: Vec<u8>,
}

impl Drop for Checking<'_> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.keys.state.lock() {
            state.checking.remove(&self.key);
        }
        self.keys.decided.notify_all();
    }
}

impl Proven {
    /// Whether `key` was proved; if another thread is checking it, waits
    /// for its verdict; else claims it for this thread.
    fn claim(&self, key: &[u8]) -> Claim<'_> {
        let keys = &self.0;
        let Ok(mut state) = keys.state.lock() else {
            return Claim::Mine(Checking {
                keys,
                key: key.to_vec(),
            });
        };
        loop {
            if state.proven.contains(key) {
                return Claim::Proven;
            }
            if !state.checking.contains(key) {
                state.checking.insert(key.to_vec());
                return Claim::Mine(Checking {
                    keys,
                    key: key.to_vec(),
                });
            }
            // A failed check proves nothing: the next waiter checks it.
            match keys.decided.wait(state) {
                Ok(next) => state = next,
                Err(_) => {
                    return Claim::Mine(Checking {
                        keys,
                        key: key.to_vec(),
                    });
                }
            }
        }
    }

    /// Records `key` as proved (before its [`Checking`] guard drops).
    fn insert(&self, key: Vec<u8>) {
        if let Ok(mut state) = self.0.state.lock() {
            state.proven.insert(key);
        }
    }
}

/// What crosses from one fragment to the jobs of others, where no check of
/// a single fragment sees it: a `default:` section runs its scripts, and
/// hands on its cache and artifacts, in every job of the pipeline.
#[derive(Default)]
pub struct Crossing {
    /// The templates whose fragments a chosen value or path reached.
    pub reached: std::sync::Mutex<Vec<String>>,
    /// The first fragment whose `default:` runs scripts or hands files on:
    /// its template, and where it is.
    pub default: std::sync::Mutex<Option<(String, String)>>,
}

/// The letter or digit a chosen word's byte becomes in [`Chosen::mark`].
fn marked_byte(b: u8) -> u8 {
    match b {
        b'z' => b'y',
        b'a'..=b'y' => b'z',
        b'Z' => b'Y',
        b'A'..=b'Y' => b'Z',
        b'9' => b'8',
        b'0'..=b'8' => b'9',
        other => other,
    }
}

/// Where the run of characters a command name may hold (letters, digits,
/// `_`, `.`, `-`, `+`) around `a..b` of `text` starts and ends.
fn around(text: &str, a: usize, b: usize) -> (usize, usize) {
    let part = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'+');
    let bytes = text.as_bytes();
    let start = bytes[..a].iter().rposition(|c| !part(c)).map_or(0, |i| i + 1);
    let end = bytes[b..].iter().position(|c| !part(c)).map_or(bytes.len(), |i| b + i);
    (start, end)
}

/// Whether `name` (a chosen word at `at` and the text [`around`] it) is
/// text the checks of [`check_reach`] may compare with, so that the word
/// itself, not only where it is, may decide: a template writes `name`, or
/// the run of letters and digits holding the word, or a part of three or
/// more of it, is a word of this module's or [`crate::subset`]'s source
/// (`sed`, `python`, `OPTS`, `c`).
fn telling(name: &str, at: usize, known: &Known) -> bool {
    static WORDS: std::sync::OnceLock<foldhash::HashSet<String>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| {
        let mut words = foldhash::HashSet::default();
        for source in [include_str!("safety.rs"), include_str!("subset.rs")] {
            // The code, not its tests' sample words; and of the code, its
            // string and character literals: the checks compare text with
            // nothing else.
            let code = source.split("\n#[cfg(test)]").next().unwrap_or_default();
            for literal in literals(code) {
                for word in literal.split(|c: char| !c.is_ascii_alphanumeric()) {
                    if !word.is_empty() && !word.bytes().all(|b| b.is_ascii_digit()) {
                        let word = word.to_ascii_lowercase();
                        if !words.contains(&word) {
                            words.insert(word);
                        }
                    }
                }
            }
        }
        words
    });
    if known.words.contains(name) {
        return true;
    }
    // The runs of letters and digits from the one the word starts in.
    let start = name.as_bytes()[..at]
        .iter()
        .rposition(|c| !c.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    name[start..].split(|c: char| !c.is_ascii_alphanumeric()).any(|run| {
        if run.len() > 64 {
            return true;
        }
        let lower = run.to_ascii_lowercase();
        (0..lower.len()).any(|i| {
            (i + 1..=lower.len()).any(|j| (j - i >= 3 || (i == 0 && j == lower.len())) && words.contains(&lower[i..j]))
        })
    })
}

/// The string literals (`"..."`, escapes kept) and character literals
/// (`'c'`, `b'c'`) of Rust source `code`; comments are skipped.
fn literals(code: &str) -> Vec<&str> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = code[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                out.push(&code[start..i.min(bytes.len())]);
                i += 1;
            }
            // `'\n'` or `'c'`, not a lifetime.
            b'\'' if bytes.get(i + 1) == Some(&b'\\') && bytes.get(i + 3) == Some(&b'\'') => {
                out.push(&code[i + 2..i + 3]);
                i += 4;
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => {
                out.push(&code[i + 1..i + 2]);
                i += 3;
            }
            _ => i += 1,
        }
    }
    out
}

/// The checks of [`check_reach`] on a document that holds chosen words.
fn reach_checks(real: &Mapping, marked: &Mapping, chosen: &Chosen, known: &Known) -> Result<(), Difference> {
    // A job named `pages` publishes GitLab Pages.
    if real.contains_key("pages") && !marked.contains_key("pages") {
        return Err(Difference {
            at: "pages".to_owned(),
            detail: "names a job `pages`, which GitLab runs as the job that publishes the project's Pages site; \
                     add a prefix or suffix to job names made of a value (`deploy-{{ name }}`)"
                .to_owned(),
            stand_in_text: chosen.mark("pages").unwrap_or_default(),
        });
    }
    picked_by_value(real, marked, chosen, known)?;
    // A container's entrypoint or command runs what it is given (`["sh",
    // "-c", "...; {{ name }}"]` with a folder `env`).
    let containers = |doc: &Mapping| -> Vec<(String, String)> {
        let mut out = Vec::new();
        let bodies = std::iter::once(("", doc)).chain(
            doc.iter()
                .filter_map(|(job, body)| Some((job.as_str()?, body.as_mapping()?))),
        );
        for (job, body) in bodies {
            let images = body.get("image").into_iter().map(|image| ("image", image));
            let services = body
                .get("services")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .map(|service| ("services", service));
            for (kind, container) in images.chain(services) {
                for key in ["entrypoint", "command"] {
                    for (_, text) in container.get(key).map(|v| named(v, &["*"])).unwrap_or_default() {
                        out.push((format!("{job}.{kind}.{key}"), text.to_owned()));
                    }
                }
            }
        }
        out
    };
    if let Some((at, text)) = containers(real)
        .into_iter()
        .zip(containers(marked))
        .find(|((_, real), (_, marked))| real != marked)
        .map(|(real, _)| real)
    {
        return Err(Difference {
            at: at.trim_start_matches('.').to_owned(),
            detail: format!(
                "gives a value the merge request chose to a container's entrypoint or command ({}), which runs \
                 what it is given (`sh -c`); write the command in the template and pass values as variables a \
                 script of the repository reads",
                code(&clip(&text))
            ),
            stand_in_text: chosen.mark(&text).unwrap_or_default(),
        });
    }
    // A chosen path with pattern characters (`.gi?/config`) matches other
    // files where a pattern reads it: an `artifacts:`/`cache:` pattern
    // that names a variable holding it (the runner expands, then
    // matches), or `find -path "./$F"`.
    let patterns = chosen.with_pattern_characters();
    let patterned = |text: &str| {
        !patterns.is_empty() && {
            let lower = text.to_ascii_lowercase();
            patterns.iter().any(|word| lower.contains(word.as_str()))
        }
    };
    let real_vars = variables(real);
    let pattern_vars: Vec<&(String, String)> = real_vars.iter().filter(|(_, value)| patterned(value)).collect();
    let holds_pattern = |text: &str| {
        !patterns.is_empty()
            && (patterned(text) || references(text).any(|(name, _)| pattern_vars.iter().any(|(n, _)| n == name)))
    };
    for (job, body) in real
        .iter()
        .filter_map(|(job, body)| Some((job.as_str()?, body.as_mapping()?)))
    {
        for (key, below) in [
            ("artifacts", &["paths", "exclude", "reports"][..]),
            ("cache", &["paths"][..]),
        ] {
            let places: Vec<&Value> = match body.get(key) {
                Some(Value::Sequence(list)) => list.iter().collect(),
                Some(one) => vec![one],
                None => Vec::new(),
            };
            for place in places {
                if let Some((_, text)) = named(place, below).into_iter().find(|(_, text)| holds_pattern(text)) {
                    return Err(Difference {
                        at: format!("{job}.{key}"),
                        detail: format!(
                            "gives an `{key}:` pattern `{text}`, which holds (or names a variable that holds) a \
                             path with `*`, `?`, `[`, `{{` or `$`: the runner expands and matches it, so it would \
                             take other files (`.gi?/config` takes `.git/config`); list folders the template names"
                        ),
                        stand_in_text: chosen.mark(text).unwrap_or_default(),
                    });
                }
            }
        }
    }
    // `extends:` a job of another fragment: its scripts run with this
    // fragment's variables, and no check here reads them.
    for (job, value) in real {
        let targets: Vec<&str> = match value.get("extends") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Sequence(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if let Some(target) = targets.iter().find(|t| !real.contains_key(**t)) {
            return Err(Difference {
                at: format!("{}.extends", job.as_str().unwrap_or_default()),
                detail: format!(
                    "extends `{target}`, a job this fragment does not define, in a fragment that a changed path \
                     or value reaches: its scripts would run with this fragment's variables where childgen \
                     cannot read them; define `{target}` in this template (a partial can hold it)"
                ),
                stand_in_text: String::new(),
            });
        }
    }
    let untrusted = unquoted_tainted(real, marked, Reach::Text, known)?;
    // The subset's `stand_in_text` is the real line: marked, it names the path.
    let lines = inside_subset(real, Reach::Text).map_err(|mut d| {
        d.stand_in_text = chosen.mark(&d.stand_in_text).unwrap_or(d.stand_in_text);
        d
    })?;
    // Shell variables the scripts set, with the line that sets each.
    let scripts_set: Vec<(String, String)> = lines
        .iter()
        .flat_map(|(_, line)| assigned_names(line).into_iter().map(|n| (n.to_owned(), line.clone())))
        .collect();
    let in_proc = lines.iter().any(|(_, line)| may_enter_proc(line));
    // Told after what `untrusted` found, which says more.
    let mut environment_file = None;
    for (at, line) in lines {
        for name in crate::subset::command_names(&line).unwrap_or_default() {
            // The folder may be chosen (`./pipelines/p1/run.sh`), not the
            // file: `./printenv` after a `cd /usr/bin` is `printenv`.
            let base = name.rsplit('/').next().unwrap_or_default();
            if !known.words.contains(base) && chosen.within(base) {
                return Err(Difference {
                    at,
                    detail: format!(
                        "names the command `{name}` ({}), whose name the template does not write: a merge \
                         request would choose the program the job runs by naming a file or folder after it; \
                         write the command's name in the template (a chosen folder is fine: \
                         `./pipelines/{{{{ name }}}}/run.sh`)",
                        code(&clip(&line))
                    ),
                    stand_in_text: chosen.mark(&line).unwrap_or_default(),
                });
            }
        }
        // `env | grep "^{{ name | upper }}_"`: a chosen word, even glued to
        // others, would pick the variables printed. (A chosen `printenv`
        // standing on its own is a command's name, refused below.)
        // Also through a variable whose value holds one (`V: "{{ name
        // }}_TOKEN"`, `printenv "$V"`); a word the template writes counts
        // too (`$CI_JOB_TOKEN` elsewhere does not make `ci_job_token` its).
        let holds_chosen = |text: &str| name_words(text).any(|word| chosen.within(word));
        let named_by_chosen = references(&line).any(|(name, _)| {
            real_vars.iter().any(|(n, value)| n == name && holds_chosen(value))
                || scripts_set.iter().any(|(n, text)| n == name && holds_chosen(text))
        });
        let holds = holds_chosen(&line);
        // A make goal or assignment picks a recipe and its variables
        // (`print-%: ; @echo $*=$($*)` with a folder `print-CI_JOB_TOKEN`),
        // as `npm run NAME` picks a script: only the templates' own words.
        if (holds || named_by_chosen)
            && line.contains("make")
            && let Some(goal) = make_operands(&line).into_iter().find(|text| {
                let unknown =
                    |text: &str| name_words(text).any(|word| chosen.within(word) && !known.goals.contains(word));
                // `STAGE="$STAGE"`: a variable the template names holds a
                // value, which recipes read as text.
                if let Some((name, _)) = text.split_once('=')
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !unknown(name)
                {
                    return false;
                }
                unknown(text)
                    || references(text).any(|(name, _)| {
                        real_vars.iter().any(|(n, value)| n == name && unknown(value))
                            || scripts_set.iter().any(|(n, value)| n == name && unknown(value))
                    })
            })
        {
            return Err(Difference {
                at,
                detail: format!(
                    "gives `make` the goal or assignment `{goal}` ({}), which holds a value the merge request \
                     chose: a goal picks a recipe, and pattern rules read it as a variable's name or a command \
                     (`print-%: ; @echo $*=$($*)` with a folder `print-CI_JOB_TOKEN`); pass values as `make -C \
                     DIR GOAL` with the goal written in the template, or to a script of the repository",
                    code(&clip(&line))
                ),
                stand_in_text: chosen.mark(&line).unwrap_or_default(),
            });
        }
        // `find -path "./$F"` reads a path's `?` as a pattern (`.gi?/config`
        // finds `.git/config`); so may a script's variable that holds it.
        if !patterns.is_empty()
            && line.contains("find")
            && let Some(operand) = find_patterns(&line).into_iter().find(|text| {
                holds_pattern(text) || references(text).any(|(name, _)| scripts_set.iter().any(|(n, _)| n == name))
            })
        {
            return Err(Difference {
                at,
                detail: format!(
                    "gives `find` the pattern `{operand}` ({}), which holds a path with `*`, `?`, `[` or `{{`: \
                     find matches it against other files (`.gi?/config` finds `.git/config`); compare names \
                     with `test` or `case` in a loop instead",
                    code(&clip(&line))
                ),
                stand_in_text: chosen.mark(&line).unwrap_or_default(),
            });
        }
        // A YAML variable no script sets: its value, or where jobs give it
        // several, text that names no file when none of them does.
        let yaml_value = |name: &str| {
            if scripts_set.iter().any(|(n, _)| n == name) {
                return None;
            }
            // GitLab's own, when no template sets them.
            if (name.starts_with("CI_") || name.starts_with("GITLAB_") || name == "HOME")
                && !real_vars.iter().any(|(n, _)| n == name)
            {
                return Some(String::new());
            }
            let mut values = real_vars.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
            let first = values.next()?;
            let mut values = values.filter(|v| *v != first).peekable();
            if values.peek().is_none() {
                return Some(first.clone());
            }
            std::iter::once(first)
                .chain(values)
                .all(|v| !names_environment_file(v, false, in_proc))
                .then(|| "\u{1}".to_owned())
        };
        if (holds || named_by_chosen)
            && environment_file.is_none()
            && reads_environment_file(&line, Some(&yaml_value), in_proc)
        {
            environment_file = Some(Difference {
                at: at.clone(),
                detail: format!(
                    "prints the environment on a line that holds a value the merge request chose ({}): one of its \
                     words may name `/proc/self/environ` (a pattern such as `./pro?/self/e*n`, or a script's \
                     variable), and the name would pick the variable printed; read files by names the template \
                     writes, or through YAML variables",
                    code(&clip(&line))
                ),
                stand_in_text: chosen.mark(&line).unwrap_or_default(),
            });
        }
        if (holds || named_by_chosen) && dumps_variables(chosen.mark(&line).as_deref().unwrap_or(&line))
            || holds && line.contains('|') && filters_unknown_output(&line, &holds_chosen, known)
        {
            return Err(Difference {
                at,
                detail: format!(
                    "prints the environment on a line that holds a value the merge request chose ({}): the \
                     name would pick the variable printed (`env | grep \"^{{{{ name | upper }}}}_\"` with a \
                     folder `ci_job`); read the variables you need by their names",
                    code(&clip(&line))
                ),
                stand_in_text: chosen.mark(&line).unwrap_or_default(),
            });
        }
    }
    untrusted.or(environment_file).map_or(Ok(()), Err)
}

/// Whether a chosen word (even glued to other text) is in a value of the
/// document's variables, which another fragment's `default:` scripts would
/// read ([`Crossing`]).
#[must_use]
pub fn reaches_variables(doc: &Mapping, chosen: &Chosen) -> bool {
    variables(doc).iter().any(|(_, value)| chosen.within(value))
}

/// Whether a chosen value or path stands in a script line of `doc`: a
/// `default:` of another template (an `after_script` that uploads what a
/// script copied, `artifacts` that hand a written list on) would act on it
/// where no check of this fragment follows.
#[must_use]
pub fn reaches_script_lines(doc: &Mapping, chosen: &Chosen) -> bool {
    let mut scripts = Vec::new();
    collect_scripts(
        doc,
        &mut Vec::new(),
        false,
        doc.values().any(has_reference),
        &mut scripts,
    );
    scripts.iter().any(|(_, line)| chosen.within(line))
}

/// The keys whose value names what a job gets or runs, and the keys of
/// theirs that do when the value is a mapping ([`picked_by_value`]).
const PICKING: [(&str, &[&str]); 10] = [
    ("environment", &["name", "kubernetes"]),
    ("image", &["name"]),
    ("services", &["name"]),
    ("tags", &[]),
    ("trigger", &["project", "branch", "include"]),
    ("include", &["remote", "project", "file", "ref", "component"]),
    ("needs", &["project"]),
    ("resource_group", &[]),
    // Every string below: a secret's path or name, a token's audience.
    ("secrets", &["*"]),
    ("id_tokens", &["*"]),
];

/// The strings of `value` (or of the `keys` of its mappings, and every
/// string below those that are not strings; `*`: every key), each with
/// where it is below `value`.
fn named<'v>(value: &'v Value, keys: &[&str]) -> Vec<(String, &'v str)> {
    let mut out = Vec::new();
    match value {
        Value::String(text) => out.push((String::new(), text.as_str())),
        Value::Sequence(list) => {
            for (i, item) in list.iter().enumerate() {
                for (at, text) in named(item, keys) {
                    out.push((format!("[{i}]{at}"), text));
                }
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map {
                let key = key.as_str().unwrap_or_default();
                if keys.contains(&"*") || keys.contains(&key) {
                    for (at, text) in named(item, &["*"]) {
                        out.push((format!(".{key}{at}"), text));
                    }
                }
            }
        }
        Value::Tagged(tagged) => out.extend(named(&tagged.value, keys)),
        _ => {}
    }
    out
}

/// Every variable a document sets, by name, with each value, in document
/// order: under any `variables:` (global, a job's, `rules:` and
/// `workflow: rules:` entries) and in `parallel: matrix` entries (each
/// value of a list).
fn variables(doc: &Mapping) -> Vec<(String, String)> {
    fn walk(value: &Value, key: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Mapping(map) if key == "variables" => {
                for (name, value) in map {
                    let value = value.as_str().or_else(|| value.get("value").and_then(Value::as_str));
                    if let (Some(name), Some(value)) = (name.as_str(), value) {
                        out.push((name.to_owned(), value.to_owned()));
                    }
                }
            }
            Value::Sequence(entries) if key == "matrix" => {
                for entry in entries.iter().filter_map(Value::as_mapping) {
                    for (name, values) in entry {
                        let name = name.as_str().unwrap_or_default();
                        let values: Vec<&str> = match values {
                            Value::Sequence(list) => list.iter().filter_map(Value::as_str).collect(),
                            other => other.as_str().into_iter().collect(),
                        };
                        out.extend(values.into_iter().map(|v| (name.to_owned(), v.to_owned())));
                    }
                }
            }
            Value::Mapping(map) => {
                for (k, v) in map {
                    walk(v, k.as_str().unwrap_or_default(), out);
                }
            }
            Value::Sequence(list) => list.iter().for_each(|v| walk(v, "", out)),
            Value::Tagged(tagged) => walk(&tagged.value, key, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (key, value) in doc {
        walk(value, key.as_str().unwrap_or_default(), &mut out);
    }
    out
}

/// Names that pick what a job gets or runs: an environment (its CI/CD
/// variables and protection), an image or service (the container that runs
/// the script with the token), runner tags, a triggered or included
/// project, a Kubernetes identity. A value may follow fixed text
/// (`review/{{ name }}`, `registry.example.com/{{ name }}`), not lead;
/// through a `$VARIABLE` too. A first word the templates print themselves
/// is theirs (`dev/{{ id }}` with a folder `dev`).
fn picked_by_value(real: &Mapping, marked: &Mapping, chosen: &Chosen, known: &Known) -> Result<(), Difference> {
    let (real_vars, marked_vars) = (variables(real), variables(marked));
    // `$NAME`: every value the document gives NAME (a rule's or a matrix
    // entry's too), real and marked side by side (the documents have the
    // same shape, so their variables line up).
    let resolve = |real_text: &str, marked_text: &str| -> Vec<(String, String)> {
        let name: String = real_text
            .trim_start_matches('$')
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let values: Vec<(String, String)> = real_vars
            .iter()
            .zip(&marked_vars)
            .filter(|((n, _), _)| real_text.starts_with('$') && *n == name)
            .map(|((_, r), (_, m))| (r.clone(), m.clone()))
            .collect();
        if values.is_empty() {
            vec![(real_text.to_owned(), marked_text.to_owned())]
        } else {
            values
        }
    };
    let led_one = |at: &str, real_text: &str, marked_text: &str| -> Result<(), Difference> {
        // A URL's host leads it (`https://{{ name }}/ci.yml`).
        let host = |t: &str| t.split_once("://").map_or(t, |(_, rest)| rest).to_owned();
        let (real_text, marked_text) = (host(real_text), host(marked_text));
        let first = real_text.split(['/', '-', ':']).next().unwrap_or_default();
        if real_text.bytes().next() != marked_text.bytes().next() && !known.contains(first) {
            return Err(Difference {
                at: at.to_owned(),
                detail: format!(
                    "is led by a value (`{real_text}`): the name picks what the job gets or runs (an \
                     environment's CI/CD variables, the image that runs the script with the token, a runner, a \
                     project), so a folder named `production` or after a host would pick it; start it with \
                     fixed text (`review/{{{{ name }}}}`, `registry.example.com/{{{{ name }}}}`)"
                ),
                stand_in_text: chosen.mark(&real_text).unwrap_or_default(),
            });
        }
        Ok(())
    };
    let led = |at: &str, real_text: &str, marked_text: &str| -> Result<(), Difference> {
        for (real_text, marked_text) in resolve(real_text, marked_text) {
            led_one(at, &real_text, &marked_text)?;
        }
        Ok(())
    };
    let mut places: Vec<(String, &Value, &Value)> = Vec::new();
    for ((job, real_job), (_, marked_job)) in real.iter().zip(marked.iter()) {
        let job = job.as_str().unwrap_or_default();
        // The global keywords (`include:`, `image:`), and those of jobs
        // and `default:`.
        if PICKING.iter().any(|(k, _)| *k == job) {
            places.push((job.to_owned(), real_job, marked_job));
        }
        for (key, _) in &PICKING {
            if let (Some(r), Some(m)) = (real_job.get(*key), marked_job.get(*key)) {
                places.push((format!("{job}.{key}"), r, m));
            }
        }
        // A job's variables, or the global ones.
        let (vars, other_vars) = if job == "variables" {
            (Some(real_job), Some(marked_job))
        } else {
            (real_job.get("variables"), marked_job.get("variables"))
        };
        for (name, value) in vars.and_then(Value::as_mapping).into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            // Variables runners and tools pick an identity or a place by.
            if (["KUBERNETES_", "VAULT_", "HELM_"].iter().any(|p| name.starts_with(p))
                || ["_OVERWRITE", "_NAMESPACE"].iter().any(|p| name.ends_with(p)))
                && let Some(other) = other_vars.and_then(|v| v.get(name))
            {
                places.push((format!("{job}.variables.{name}"), value, other));
            }
        }
    }
    for (at, real_value, marked_value) in places {
        let key = at.rsplit('.').next().unwrap_or_default();
        let keys = PICKING
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(&[][..], |(_, keys)| *keys);
        // A variable's value may be a mapping with `value:`.
        let keys = if at.contains(".variables.") {
            &["value"][..]
        } else {
            keys
        };
        let (reals, markeds) = (named(real_value, keys), named(marked_value, keys));
        for ((inner, r), (_, m)) in reals.iter().zip(&markeds) {
            led(&format!("{at}{inner}"), r, m)?;
        }
    }
    Ok(())
}

/// Whether a command of `line` that holds a chosen word (`holds`) reads
/// through a pipe what a program prints that may print the environment in
/// a way no list names (`awk 'BEGIN{...ENVIRON...}' | grep "^{{ name }}_"`,
/// `jq -n '$ENV'`, `ps e`): producers must be builtins, data tools or
/// trusted programs that name no `/proc` file.
fn filters_unknown_output(line: &str, holds: &dyn Fn(&str) -> bool, known: &Known) -> bool {
    let Ok((commands, pipes)) = crate::subset::commands(line) else {
        return false;
    };
    pipes.iter().any(|pipe| {
        let mut inside: Vec<&crate::subset::Command> = commands
            .iter()
            .filter(|c| !c.programs.is_empty() && pipe.start <= c.span.start && c.span.end <= pipe.end)
            .collect();
        inside.sort_by_key(|c| c.span.start);
        inside.iter().enumerate().any(|(k, command)| {
            k > 0
                && holds(&line[command.span.clone()])
                && inside[..k].iter().any(|producer| {
                    let text = line[producer.span.clone()].to_ascii_lowercase();
                    text.contains("/proc")
                        || text.contains("environ")
                        || producer.programs.iter().any(|p| {
                            let base = p.rsplit('/').next().unwrap_or_default();
                            !data_program(base) && !known.trusts(base)
                        })
                })
        })
    })
}

/// The words the templates and `vars` write, which may name commands
/// ([`check_reach`]).
#[derive(Default)]
pub struct Known {
    words: foldhash::HashSet<String>,
    /// The names the templates write after a `$` (`$MODEL_ID`).
    refs: foldhash::HashSet<String>,
    /// Whether a template builds a `$` name from an expression
    /// (`${{ name | upper }}`, `$DEPLOY_{{ x }}`, `{{ "$" ~ x }}`): then no
    /// name after a `$` is taken as the template's own.
    builds_names: bool,
    /// The programs `trusted_commands` names.
    trusted: foldhash::HashSet<String>,
    /// The words of the templates' printed lines that run `make`: a goal
    /// is the templates' own only where they give it to `make`, not where
    /// they print it (`echo "stages: train, debug"`).
    goals: foldhash::HashSet<String>,
}

impl Known {
    /// Adds the words of `text` (between characters a command name cannot
    /// hold), and the names it writes after a `$`.
    pub fn add(&mut self, text: &str) {
        let printed = output_text(text);
        let split = |text: &str| -> Vec<String> { name_words(text).map(str::to_owned).collect() };
        for word in split(&printed) {
            if !self.words.contains(&word) {
                self.words.insert(word);
            }
        }
        for line in printed.lines().filter(|line| line.contains("make")) {
            self.goals.extend(split(line));
        }
        for (name, rest) in references(text).chain(percent_references(text)) {
            if !name.is_empty() {
                self.refs.insert(name.to_owned());
            }
            // `$NAME{{ x }}`, `$ {{ x }}`, or across a line break that
            // `{{-` removes.
            let after = &rest[name.len()..];
            self.builds_names |=
                after.trim_start_matches([' ', '\t']).starts_with("{{") || after.trim_start().starts_with("{{-");
        }
        // Inside a Tera tag, a string literal whose `$` name runs to its
        // closing quote, and whose value the tag goes on to join or print
        // (`"$DEPLOY_" ~ x`, `{{ "$" }}{{ x }}`); not a whole name given as
        // an argument (`default(value="$CI_REGISTRY_IMAGE")`).
        for (open, close) in [("{{", "}}"), ("{%", "%}")] {
            for (i, _) in text.match_indices(open) {
                let tag = &text[i + 2..];
                let tag = &tag[..tag.find(close).unwrap_or(tag.len())];
                for (name, rest) in references(tag) {
                    if let Some(after) = rest[name.len()..].strip_prefix(['"', '\'']) {
                        let after = after.trim_start().trim_start_matches('-').trim_start();
                        self.builds_names |= after.is_empty() || after.starts_with(['~', '|']);
                    }
                }
            }
        }
    }

    /// Trusts `program` to read its arguments as data (`trusted_commands`).
    pub fn trust(&mut self, program: &str) {
        self.trusted.insert(program.to_owned());
    }

    /// Trusts the programs a template names in a comment, on a line
    /// `trusted_commands: mlctl, docker` (`{# ... #}`): the template's
    /// author vouches that they read what they are given as data. Like the
    /// key of childgen.yml, it holds for every template.
    pub fn trust_declared(&mut self, source: &str) {
        for (i, _) in source.match_indices("{#") {
            let comment = &source[i + 2..];
            let comment = &comment[..comment.find("#}").unwrap_or(comment.len())];
            for line in comment.lines() {
                let Some((_, names)) = line.split_once("trusted_commands:") else {
                    continue;
                };
                // Names only, or none: prose (`helm (but never kubectl)`)
                // trusts nothing, and the refusal names the program.
                let names = names.trim_end().trim_end_matches('-');
                let names: Vec<&str> = names.split([',', ' ', '\t']).filter(|n| !n.is_empty()).collect();
                if names
                    .iter()
                    .all(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b)))
                {
                    for name in names {
                        self.trust(name);
                    }
                }
            }
        }
    }

    /// Whether `trusted_commands` names `program`.
    fn trusts(&self, program: &str) -> bool {
        self.trusted.contains(program)
    }

    /// Whether a template or `vars` writes `word`.
    #[must_use]
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(word)
    }

    /// Whether `$name` may be the templates' own text.
    fn writes_reference(&self, name: &str) -> bool {
        !self.builds_names && self.refs.contains(name)
    }
}

/// The non-empty words of `text` between characters a command's name
/// cannot hold (letters, digits, `_`, `.`, `-` and `+` make a word).
fn name_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+')))
        .filter(|word| !word.is_empty())
}

/// The text of a template that may be printed: outside Tera's tags, and
/// the string literals inside them (`["dev", "prod"]`); not comments
/// (`{# never used for production #}`) nor the names tags use (`{% for
/// env in ... %}`), which a value equal to them is not the template's.
fn output_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(open) = rest.find('{') {
        let tag = &rest[open..];
        let close = if tag.starts_with("{#") {
            "#}"
        } else if tag.starts_with("{{") {
            "}}"
        } else if tag.starts_with("{%") {
            "%}"
        } else {
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        };
        out.push_str(&rest[..open]);
        let end = tag.find(close).map_or(tag.len(), |e| e + 2);
        if close != "#}" {
            // The string literals of the tag.
            let inner = &tag[2..end.saturating_sub(2).max(2)];
            let mut quote: Option<char> = None;
            for c in inner.chars() {
                match quote {
                    Some(q) if c == q => {
                        quote = None;
                        out.push(' ');
                    }
                    Some(_) => out.push(c),
                    None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
                    None => {}
                }
            }
        }
        out.push(' ');
        rest = &tag[end..];
    }
    out.push_str(rest);
    out
}

/// A variable whose value holds a path (it differs from its stand-in) must be
/// expanded inside double quotes in every script: unquoted, the shell splits a
/// path with spaces into several arguments (`--upload-file /etc/passwd`) and
/// expands its globs. And the rest of where a path goes: code, files,
/// variables bash acts on.
///
/// # Errors
/// The first place a path may not go. `Ok(Some(..))` is a program that
/// reads one and is not known to read it as data ([`Readers`]): the
/// caller reports it after its own checks, whose messages say more.
fn unquoted_tainted(
    real: &Mapping,
    stand_in: &Mapping,
    reach: Reach,
    known: &Known,
) -> Result<Option<Difference>, Difference> {
    let (mut tainted, all) = tainted_variables(real, stand_in);
    let mut scripts = Vec::new();
    let lists = real.values().any(has_reference);
    collect_scripts(real, &mut Vec::new(), false, lists, &mut scripts);
    let mut neutral_scripts = Vec::new();
    collect_scripts(stand_in, &mut Vec::new(), false, lists, &mut neutral_scripts);
    // Bash removes a backslash and the line break after it before it reads
    // words (`ev\<newline>al` is `eval`).
    for (_, line) in scripts.iter_mut().chain(neutral_scripts.iter_mut()) {
        if line.contains("\\\n") {
            *line = join_continuations(line);
        }
    }
    let differs = |i: usize| {
        neutral_scripts
            .get(i)
            .is_none_or(|(_, neutral)| *neutral != scripts[i].1)
    };
    if tainted.is_empty() && (0..scripts.len()).all(|i| !differs(i)) {
        return Ok(None);
    }
    follow_chains(&mut tainted, &all);
    // A path may reach a function's or `set --`'s positional parameters
    // (`f "$F"`, `set -- "$F"`): where any variable holds a path, they are
    // taken to hold one too.
    let first_differing = (0..scripts.len())
        .find(|i| differs(*i))
        .map(|i| neutral_scripts.get(i).map_or_else(String::new, |(_, n)| n.clone()));
    if let Some(value) = tainted.first().map(|(_, v)| v.clone()).or(first_differing) {
        // `$_` (the last argument of the previous command) and `$REPLY`
        // (what `read` read without a name) may hold it as well.
        for positional in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "@", "*", "_", "REPLY"] {
            tainted.push((positional.to_owned(), value.clone()));
        }
    }
    for (name, value) in &tainted {
        if special_variable(name) {
            return Err(Difference {
                at: format!("variables.{name}"),
                detail: format!(
                    "reaches the variable `{name}`, which bash or a common tool acts on when it is set (the \
                     runner exports every variable; `OPTIND` evaluates its value as arithmetic, `GIT_SSH_COMMAND` \
                     runs it): give the variable a plain name such as `FILE`"
                ),
                stand_in_text: value.clone(),
            });
        }
    }
    // Variables that hold a declaring builtin or an option of one
    // (`d="declare -i"`, `o=-i`): through them, any declaration may give the
    // integer attribute.
    let declarers: Vec<&str> = scripts
        .iter()
        .flat_map(|(_, line)| {
            assigned_names(line).into_iter().filter(move |name| {
                let value = line.split_once(&format!("{name}=")).map_or("", |(_, v)| v);
                let value = value.split(';').next().unwrap_or_default();
                ["declare", "typeset", "local", "-i", "-n"]
                    .iter()
                    .any(|w| value.contains(w))
            })
        })
        .collect();
    let integers = scripts.iter().any(|(_, line)| {
        let words = dequoted_words(line);
        let declaring = words
            .iter()
            .any(|(w, _)| matches!(w.as_str(), "declare" | "typeset" | "local"));
        declares_integer(line)
            || (declaring && declarers.iter().any(|d| mentions(line, d)))
            || words
                .iter()
                .any(|(w, indirect)| *indirect && declarers.iter().any(|d| mentions(w, d)))
            || words.windows(2).any(|pair| {
                pair[0].1
                    && pair[1].0.starts_with('-')
                    && !pair[1].0.starts_with("--")
                    && pair[1].0.contains(['i', 'n'])
            })
    });
    // Shell variables a script sets from a path (`FILE='...'`) or from a
    // variable that holds one (`TARGET="$FILE"`) hold it too. `files`: whether
    // a line writes a path to a file (`printf '%s' "$F" > list`), after which
    // whatever reads a file may read a path.
    let mut files = false;
    let mut maybe_written: Vec<String> = Vec::new();
    // What does not change while the taint grows, read once per line.
    let inline: Vec<bool> = scripts.iter().map(|(_, line)| runs_code(line, reach)).collect();
    let writes: Vec<Vec<String>> = scripts.iter().map(|(_, line)| written_files(line)).collect();
    let dumping: Vec<bool> = scripts.iter().map(|(_, line)| dumps_variables(line)).collect();
    let assigned: Vec<Vec<&str>> = scripts.iter().map(|(_, line)| assigned_names(line)).collect();
    loop {
        let before = tainted.len();
        let files_before = files;
        for (i, (at, line)) in scripts.iter().enumerate() {
            let from = if differs(i) {
                Some(neutral_scripts.get(i).map_or_else(String::new, |(_, n)| n.clone()))
            } else {
                // `$F`, or the bare name where it is assigned (`G=F`, which
                // arithmetic on `G` follows to `F`'s value).
                let assigns = !assigned[i].is_empty();
                let dumps =
                    dumping[i] || (inline[i] && tainted.iter().any(|(name, _)| !positional(name) && names(line, name)));
                tainted
                    .iter()
                    .find(|(name, _)| {
                        dumps || mentions(line, name) || (assigns && !positional(name) && names(line, name))
                    })
                    .map(|(_, value)| value.clone())
            };
            let from = from.or_else(|| {
                (files && reads_file_into(line).next().is_some())
                    .then(|| tainted.first().map(|(_, v)| v.clone()).unwrap_or_default())
            });
            let Some(value) = from else { continue };
            if inline[i] {
                return Err(Difference {
                    at: at.clone(),
                    detail: format!(
                        "reaches a command that runs text as code ({}: `sh -c`, `awk`, `python -c`, `source <(...)`...), \
                         which would run the file's name; pass the path as a plain \"$VARIABLE\" argument to a \
                         script file instead",
                        code(&clip(line))
                    ),
                    stand_in_text: value,
                });
            }
            files |= !writes[i].is_empty();
            // Any file a line that carries a path names may be one it writes
            // (`uniq - g.sh`, `sed -n "w g.sh"`), but the script it runs,
            // unless the line names that again (`uniq - g.sh <<< "$F" && bash g.sh`).
            let tokens: Vec<String> = dequoted_words(line)
                .iter()
                .flat_map(|(w, _)| w.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .collect();
            // Nor the command it runs by a path, where that is all the line
            // names it for (`./scripts/build.sh "$P"`): a repository's script.
            let running: Vec<String> = script_arguments(line)
                .into_iter()
                .chain(crate::subset::command_names(line).unwrap_or_default())
                .filter(|script| tokens.iter().filter(|t| *t == script).count() == 1)
                .collect();
            for token in tokens {
                if !token.starts_with(['-', '$', '<', '>'])
                    && token != SEPARATOR
                    && !token.starts_with("/dev/")
                    && !running.contains(&token)
                    && !maybe_written.contains(&token)
                {
                    maybe_written.push(token);
                    files = true;
                }
            }
            for name in assigned[i].iter().copied().chain(reads_file_into(line)) {
                if special_variable(name) || integers {
                    let why = if integers {
                        "a script of this pipeline may give variables the integer attribute (`declare -i`, or a \
                         command named by a variable), and bash evaluates what is assigned to one as arithmetic"
                    } else {
                        "bash acts on that variable when it is set"
                    };
                    return Err(Difference {
                        at: at.clone(),
                        detail: format!(
                            "is assigned to the shell variable `{name}` ({}): {why}; pass the path as a plain \
                             \"$VARIABLE\" argument instead",
                            code(&clip(line))
                        ),
                        stand_in_text: value,
                    });
                }
                if !tainted.iter().any(|(t, _)| t == name) {
                    tainted.push((name.to_owned(), value.clone()));
                }
            }
        }
        if tainted.len() == before && files == files_before {
            break;
        }
    }
    // Every file a script writes, and whether one of them may hold a path.
    let any_write = writes.iter().any(|w| !w.is_empty());
    let mut written: Vec<String> = writes.iter().flatten().cloned().collect();
    written.extend(maybe_written);
    // A script that changes PATH may run a written file by its name alone.
    let path_changed = assigned.iter().any(|names| names.contains(&"PATH"));
    for (at, line) in &scripts {
        // Where bash evaluates text, a bare name is a reference too:
        // `(( FILE ))`, `${arr[FILE]}`, `read FILE`.
        // A line that evaluates only names given to `export`, `read`... is
        // checked for those names alone.
        let naming_only = !arithmetic_with(line, &NAMING);
        if arithmetic(line)
            && let Some((name, value)) = tainted.iter().find(|(variable, _)| {
                if naming_only {
                    named_by_builtin(line, variable)
                } else if positional(variable) {
                    // `1` or `@` alone is too common to be a reference: `$1` is.
                    mentions(line, variable)
                } else {
                    names(line, variable)
                }
            })
        {
            return Err(Difference {
                at: at.clone(),
                detail: format!(
                    "reaches the variable `{name}` on a line where bash evaluates text as code \
                     (arithmetic, an array subscript, a name given to a builtin, `eval`); \
                     pass the path as a plain \"${name}\" argument on a line of its own"
                ),
                stand_in_text: value.clone(),
            });
        }
        // On a line that evaluates only the names given to `export`,
        // `read`..., a variable is used as anywhere else.
        let tokens = if naming_only {
            tokens_of(line)
        } else {
            shell_words(line)
        };
        for token in tokens {
            let parts = match token {
                Token::Word(parts) => parts,
                Token::HereDocument(text) | Token::Comment(text) => vec![Part::Active(text)],
                _ => continue,
            };
            for part in parts {
                let (Part::Unquoted(text) | Part::Active(text)) = part else {
                    continue;
                };
                // Text of neutral characters is one word, with no glob, even unquoted.
                let splits = |value: &str| {
                    matches!(part, Part::Active(_)) || matches!(reach, Reach::Special) || !is_neutral(value)
                };
                if let Some((name, value)) = tainted
                    .iter()
                    .find(|(variable, value)| splits(value) && unquoted_use(text, variable, 0))
                {
                    return Err(Difference {
                        at: at.clone(),
                        detail: format!(
                            "reaches the variable `{name}`, which a script expands outside plain double quotes ({}); \
                             the shell would split it into words, expand globs, or evaluate it: write \"${name}\"",
                            code(&clip(text))
                        ),
                        stand_in_text: value.clone(),
                    });
                }
            }
        }
    }
    if let Some((at, line)) = scripts.iter().zip(&inline).find_map(|((at, line), inline)| {
        // Inline code may read a variable that holds a path from the
        // environment by a name it computes (`os.environ[chr(70)]`), and
        // a file any line wrote may hold such code.
        (feeds_a_shell(line)
            || aliases(line)
            || *inline
            || ((files || any_write) && runs_code_from(line, &written, path_changed)))
        .then_some((at, line))
    }) {
        return Err(Difference {
            at: at.clone(),
            detail: format!(
                "may reach {}, which runs what it reads or a file a script wrote as code (a path reaches files and \
                 command output no check follows); pass paths only as arguments of a script file that is part \
                 of the repository",
                code(&clip(line))
            ),
            stand_in_text: tainted.first().map(|(_, v)| v.clone()).unwrap_or_default(),
        });
    }
    // A file a tool reads code or settings from when it runs in the folder
    // (`python -m m` imports `m.py`, `npm test` runs `package.json`'s
    // scripts, pytest imports `conftest.py`), written by a script of such a
    // group, may hold a path as code.
    if let Some((at, file)) = scripts
        .iter()
        .zip(&writes)
        .find_map(|((at, _), files)| files.iter().find(|f| code_file(f)).map(|f| (at, f)))
    {
        return Err(Difference {
            at: at.clone(),
            detail: format!(
                "may reach the file `{file}`, which a script writes and a tool may run as code (`python -m`, \
                 `npm test`, pytest's `conftest.py`, make...); write such files into the repository, not from a script"
            ),
            stand_in_text: tainted.first().map(|(_, v)| v.clone()).unwrap_or_default(),
        });
    }
    // A path written to a file of a job that hands files on (`artifacts`,
    // a `dotenv` report, `cache`) reaches jobs of other fragments and later
    // stages, whose own text holds no path, so no check of theirs follows
    // it (and GitLab expands `$` in dotenv values).
    let hands_on = real
        .values()
        .any(|job| job.get("artifacts").is_some() || job.get("cache").is_some());
    if hands_on
        && let Some((at, line)) = scripts.iter().enumerate().find_map(|(i, (at, line))| {
            let carries = differs(i) || tainted.iter().any(|(name, _)| mentions(line, name));
            (carries && !writes[i].is_empty()).then_some((at, line))
        })
    {
        return Err(Difference {
            at: at.clone(),
            detail: format!(
                "writes a path to a file ({}) in a fragment whose jobs hand files on (`artifacts`, a `dotenv` \
                 report, `cache`): a job of another template or a later stage would read it where no check \
                 follows it, and GitLab expands `$` in a dotenv value; give each job the paths in its own \
                 variables",
                code(&clip(line))
            ),
            stand_in_text: tainted.first().map(|(_, v)| v.clone()).unwrap_or_default(),
        });
    }
    // The files a line writes by name (not every word of a line that
    // carries a path, which `written` counts for what runs them).
    let named: Vec<String> = if files { writes.concat() } else { Vec::new() };
    // Variables a script derives from a path rather than copies it into
    // (`X="${F//_/}"`, `X="$(tr -d _ <<< "$F")"`), and those copied from them.
    let deriving: Vec<bool> = scripts.iter().map(|(_, line)| derives(line, &tainted)).collect();
    let mut derived: Vec<String> = Vec::new();
    loop {
        let before = derived.len();
        for (i, (_, line)) in scripts.iter().enumerate() {
            if deriving[i] || derived.iter().any(|d| mentions(line, d)) {
                for name in assigned[i].iter().copied().chain(reads_file_into(line)) {
                    if tainted.iter().any(|(t, _)| t == name) && !derived.iter().any(|d| d == name) {
                        derived.push(name.to_owned());
                    }
                }
            }
        }
        if derived.len() == before {
            break;
        }
    }
    // Variables of the YAML (holding a path or not) whose rendered value
    // is known and names a relative file of the checkout (`STAGE_DIR:
    // pipelines/churn/train`), and that no script sets again:
    // `"$STAGE_DIR/$name"` starts as fixed text does.
    let mut yaml: Vec<(String, bool)> = Vec::new();
    let mut from = |vars: Option<&Value>| {
        for (name, value) in vars.and_then(Value::as_mapping).into_iter().flatten() {
            // GitLab expands `$` in a value unless `expand: false`.
            let (text, expanded) = match value {
                Value::Mapping(m) => (
                    m.get("value").and_then(Value::as_str),
                    m.get("expand").and_then(Value::as_bool) != Some(false),
                ),
                other => (other.as_str(), true),
            };
            let file = text.is_some_and(|t| relative_file(t) && !(expanded && t.contains('$')));
            yaml.push((name.as_str().unwrap_or_default().to_owned(), file));
        }
    };
    from(real.get("variables"));
    for job in real.values() {
        from(job.get("variables"));
    }
    let every = variables(real);
    let verbatim: Vec<String> = yaml
        .iter()
        .filter(|(name, _)| {
            !assigned.iter().any(|names| names.contains(&name.as_str()))
                && yaml.iter().filter(|(n, _)| n == name).all(|(_, file)| *file)
                // Set nowhere else (`rules: variables:`, `parallel: matrix`).
                && every.iter().filter(|(n, _)| n == name).count() == yaml.iter().filter(|(n, _)| n == name).count()
        })
        .map(|(name, _)| name.clone())
        .collect();
    let readers = Readers {
        reach,
        tainted: &tainted,
        derived: &derived,
        verbatim: &verbatim,
        written: &named,
        known,
    };
    for (i, (at, line)) in scripts.iter().enumerate() {
        let neutral = neutral_scripts.get(i).filter(|_| differs(i)).map(|(_, n)| n.as_str());
        if let Some((detail, value)) = readers.untrusted(line, neutral) {
            return Ok(Some(Difference {
                at: at.clone(),
                detail,
                stand_in_text: value
                    .or_else(|| tainted.first().map(|(_, v)| v.clone()))
                    .unwrap_or_default(),
            }));
        }
    }
    Ok(None)
}

/// Programs whose arguments are data whatever they hold, besides
/// [`BUILTINS`]: tools that only read, write or compare files, and runners
/// whose own words are data (what they run is checked as a program of its
/// own). Sorted by byte.
#[rustfmt::skip]
const DATA_TOOLS: [&str; 44] = [
    "basename", "cat", "chrt", "cmp", "comm", "cp", "cut", "date", "diff", "dirname", "du", "egrep", "env", "fgrep",
    "find", "grep", "head", "ionice", "ln", "ls", "make", "md5sum", "mkdir", "mv", "nice", "nohup", "readlink",
    "realpath", "rm", "rmdir", "sha1sum", "sha256sum", "sha512sum", "sleep", "stat", "stdbuf", "tail", "tee",
    "timeout", "touch", "tr", "uniq", "wc", "xargs",
];

/// Bash's builtins that the subset admits (it refuses the others, and the
/// options of these that evaluate), which read words as data; an option
/// read from a value (`echo -e`, `cd -P`) does nothing the checks above do
/// not already cover. Sorted by byte.
#[rustfmt::skip]
const BUILTINS: [&str; 28] = [
    ".", ":", "[", "break", "cd", "continue", "echo", "exit", "export", "false", "kill", "mapfile", "popd",
    "printf", "pushd", "pwd", "read", "readarray", "readonly", "return", "shift", "source", "test", "true", "type",
    "umask", "unset", "wait",
];

/// Whether `program` (a base name) reads its arguments as data only.
fn data_program(program: &str) -> bool {
    builtin(program) || DATA_TOOLS.binary_search(&program).is_ok()
}

/// Data tools that read no file named by a word, nor an option that does
/// (`basename`, and runners, whose own words are data and whose command
/// is checked as a program of its own).
const STRING_TOOLS: [&str; 10] = [
    "basename", "chrt", "dirname", "env", "ionice", "nice", "nohup", "sleep", "stdbuf", "timeout",
];

/// Whether `program` is one of [`BUILTINS`].
fn builtin(program: &str) -> bool {
    BUILTINS.binary_search(&program).is_ok()
}

/// Whether a shell word starts with fixed text that keeps it a relative
/// path or one under a named folder, never an option's `-` or the root
/// (`pipelines/$P`, `"./$F"`, `'x'`, `/tmp/$F`; not `"$F"`, `/$F`).
fn fixed_start(word: &str) -> bool {
    let word = word.strip_prefix(['"', '\'']).unwrap_or(word);
    // The checkout's folder, as GitLab or the shell sets it.
    if ["$CI_PROJECT_DIR/", "${CI_PROJECT_DIR}/", "$PWD/", "${PWD}/"]
        .iter()
        .any(|folder| word.starts_with(folder))
    {
        return true;
    }
    let bytes = word.as_bytes();
    match bytes.first() {
        Some(b'/') => bytes.get(1).is_some_and(u8::is_ascii_alphanumeric),
        // (`^` starts a pattern: `grep "^{{ name }}:"`.)
        Some(b) => b.is_ascii_alphanumeric() || b"._+,:@%=^".contains(b),
        None => false,
    }
}

/// Whether `value` (a variable's rendered value) names a file of the
/// checkout relative to it: no option's `-`, no root, no `..` or `.git`
/// part, one line.
fn relative_file(value: &str) -> bool {
    value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        && !value.contains(['\n', '\r'])
        && !value
            .split('/')
            .any(|part| part == ".." || part.eq_ignore_ascii_case(".git"))
}

/// Whether `text` derives a value from a variable of `tainted` in a way
/// that may make a file name of parts the path does not have: a parameter
/// operator (`${F//_/}`, `${F#*_}`, `${F%x}`; not the last part,
/// `${F##*/}`), or a command substitution that names one (not `$(basename
/// ...)` or `$(dirname ...)`, whose output is parts of the path).
fn derives(text: &str, tainted: &[(String, String)]) -> bool {
    fn named<'r>(rest: &'r str, tainted: &[(String, String)]) -> Option<&'r str> {
        tainted.iter().find_map(|(name, _)| {
            rest.strip_prefix(name.as_str())
                .filter(|after| !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        })
    }
    let operator = text.match_indices("${").any(|(i, _)| {
        let rest = &text[i + 2..];
        !rest.starts_with('#')
            && named(rest, tainted).is_some_and(|after| {
                after.starts_with(['#', '%', '/', '^', ',', ':', '@']) && !after.starts_with("##*/}")
            })
    });
    let substitution = text.match_indices("$(").any(|(i, _)| {
        let rest = text[i + 2..].trim_start();
        let inner = &rest[..closing_parenthesis(rest).unwrap_or(rest.len())];
        // `$(basename "$F")` alone, not `$(basename "$F" | tr -d _)`.
        let part = (inner.starts_with("basename ") || inner.starts_with("dirname "))
            && !inner.contains(['|', ';', '&', '<', '>', '`'])
            && !inner.contains("$(");
        !part && tainted.iter().any(|(name, _)| mentions(inner, name))
    });
    // What `read` or `mapfile` takes from a file or from a program's
    // output (`tr -d _ | while read -r f`), not from `printf`/`echo` of
    // the value itself.
    let read = !reads_file_into(text).collect::<Vec<_>>().is_empty()
        && (text.contains('<') && !text.contains("<<<")
            || crate::subset::commands(text).map_or(true, |(commands, _)| {
                commands.iter().any(|c| {
                    c.programs
                        .first()
                        .is_some_and(|p| !matches!(p.as_str(), "printf" | "echo" | "read" | "mapfile" | "readarray"))
                })
            }));
    // (Backticks are outside the subset.)
    operator || substitution || read
}

/// The option or the second name of `read`, `mapfile` or `readarray` that
/// splits a line into fields (`-a`, a delimiter other than NUL, `read a
/// b`), if `command` is one of those.
fn splits_fields(command: &crate::subset::Command) -> Option<String> {
    let program = command.programs.first()?.as_str();
    // The options that take a value, as each builtin reads them.
    let valued = match program {
        "read" => "dnNptui",
        "mapfile" | "readarray" => "dnOsuCc",
        _ => return None,
    };
    let mut names = 0;
    let mut value_of: Option<char> = None;
    for (_, word) in &command.args {
        let Some(word) = word.as_deref() else {
            return Some(format!("{program} and an expanded word"));
        };
        if let Some(option) = value_of.take() {
            // `-d ''`: whole NUL-separated records.
            if option == 'd' && !word.is_empty() {
                return Some(format!("{program} -d {word}"));
            }
        } else if let Some(options) = word.strip_prefix('-').filter(|o| !o.is_empty()) {
            if program == "read" && options.contains('a') {
                return Some(format!("{program} {word}"));
            }
            if let Some(at) = options.find(|c| valued.contains(c)) {
                let option = options[at..].chars().next().unwrap_or_default();
                let rest = &options[at + 1..];
                if rest.is_empty() {
                    value_of = Some(option);
                } else if option == 'd' {
                    return Some(format!("{program} {word}"));
                }
            }
        } else {
            names += 1;
            if names > 1 {
                return Some(format!("{program} ... {word}"));
            }
        }
    }
    None
}

/// What tells the commands of a script that read a path (or a value the
/// merge request chose) from the others ([`Readers::untrusted`]).
struct Readers<'t> {
    reach: Reach,
    /// The variables that hold one.
    tainted: &'t [(String, String)],
    /// Those of them a script derived from a path ([`derives`]).
    derived: &'t [String],
    /// Those of them the YAML sets to a relative file name, which a word
    /// may start with as with fixed text.
    verbatim: &'t [String],
    /// The files a script may have written one to (empty when none may).
    written: &'t [String],
    known: &'t Known,
}

impl Readers<'_> {
    /// Where `line` gives a path or chosen value to a program that may do
    /// more with it than read it as data: the phrase that says so, with the
    /// stand-in text of the value. A command reads one when its text
    /// differs from `neutral`'s (the same line rendered from stand-ins,
    /// when it differs) or names a variable that holds one; every command
    /// does once a script may have written one to a file (no check follows
    /// a file's name through variables, copies and options); and so does
    /// the command around a `$( )` that reads one, and every command of a
    /// pipeline (`a | b`) or a redirected compound one of whose commands
    /// does. Such a command's programs must be data programs
    /// ([`data_program`]), files of the repository or trusted ones; a data
    /// program that is not a builtin may not take such a word where it
    /// reads options (`grep -f/proc/self/environ`); `xargs` only with `-0`;
    /// and the line may not print the environment (`env | grep NAME`).
    /// A line outside the subset is left to [`inside_subset`], which
    /// refuses it.
    fn untrusted(&self, line: &str, neutral: Option<&str>) -> Option<(String, Option<String>)> {
        let (commands, pipes) = crate::subset::commands(line).ok()?;
        let neutral_commands = neutral
            .and_then(|n| crate::subset::commands(n).ok().map(|(c, _)| (n, c)))
            .filter(|(_, c)| {
                c.len() == commands.len() && c.iter().zip(&commands).all(|(a, b)| a.args.len() == b.args.len())
            });
        // Where the texts do not line up, every command may read it.
        let unaligned = neutral.is_some() && neutral_commands.is_none();
        let everything = neutral.map(str::to_owned);
        // Whether the word at `span` of command `k` (argument `m`, or the
        // whole command) holds one, directly.
        let holds = |text: &str, other: Option<&str>| -> Option<Option<String>> {
            if let Some(other) = other
                && self.chose(text, other)
            {
                return Some(Some(other.to_owned()));
            }
            self.tainted
                .iter()
                .find(|(name, _)| mentions(text, name))
                .map(|(_, value)| Some(value.clone()))
        };
        let mut reads: Vec<Option<Option<String>>> = commands
            .iter()
            .enumerate()
            .map(|(k, command)| {
                if unaligned {
                    return Some(everything.clone());
                }
                let other = neutral_commands.as_ref().map(|(n, c)| &n[c[k].span.clone()]);
                holds(&line[command.span.clone()], other)
                    .or_else(|| (!self.written.is_empty()).then(|| self.tainted.first().map(|(_, v)| v.clone())))
            })
            .collect();
        // Until nothing changes: `$( )` prints what it read into the words
        // of the command around it; a span that shares input (a pipe, a
        // redirected compound) shares what one of its commands reads.
        let within = |inner: &std::ops::Range<usize>, outer: &std::ops::Range<usize>| {
            outer.start <= inner.start && inner.end <= outer.end
        };
        loop {
            let before = reads.iter().filter(|r| r.is_some()).count();
            for k in 0..commands.len() {
                let Some(value) = reads[k].clone() else { continue };
                let spans: Vec<&std::ops::Range<usize>> =
                    pipes.iter().filter(|pipe| within(&commands[k].span, pipe)).collect();
                for (j, read) in reads.iter_mut().enumerate() {
                    let around = within(&commands[k].span, &commands[j].span);
                    if read.is_none() && (around || spans.iter().any(|span| within(&commands[j].span, span))) {
                        *read = Some(value.clone());
                    }
                }
            }
            if reads.iter().filter(|r| r.is_some()).count() == before {
                break;
            }
        }
        // (In the marked line, where a chosen `printenv` is no longer one.)
        if let Some(value) = reads.iter().flatten().next()
            && dumps_variables(neutral.unwrap_or(line))
        {
            return Some((
                format!(
                    "prints the environment on a line that a changed path or a value the merge request chose \
                     reaches ({}): the name would pick the variable printed (`env | grep \"^{{{{ name }}}}_\"` \
                     with a folder `ci_job`); read the variables you need by their names",
                    code(&clip(line))
                ),
                value.clone(),
            ));
        }
        for (k, command) in commands.iter().enumerate() {
            let Some(value) = &reads[k] else { continue };
            if let Some(program) = command.programs.iter().find(|program| {
                let base = program.rsplit('/').next().unwrap_or_default();
                !crate::subset::repository_file(program) && !data_program(base) && !self.known.trusts(base)
            }) {
                let program = program.rsplit('/').next().unwrap_or_default();
                return Some((
                    format!(
                        "gives a changed path, or a value the merge request chose, to `{program}` ({}), which \
                         childgen does not know to read its arguments as data (a program may run what it is \
                         given); if `{program}` never does, name it under `trusted_commands:` in childgen.yml, \
                         or pass the value to a script of the repository",
                        code(&clip(line))
                    ),
                    value.clone(),
                ));
            }
            // A trusted program is trusted with names, not with its own
            // syntax inside an argument: `curl -F "file=@./$F"` with a
            // file `a,.git/config` uploads both, `helm --set "k=$F"` with
            // `x,image.repository=evil` sets another value.
            if matches!(self.reach, Reach::Special)
                && let Some(program) = command.programs.iter().find(|program| {
                    let base = program.rsplit('/').next().unwrap_or_default();
                    !crate::subset::repository_file(program) && !data_program(base) && self.known.trusts(base)
                })
            {
                let program = program.rsplit('/').next().unwrap_or_default();
                return Some((
                    format!(
                        "gives a changed path with characters other than letters, digits, `.`, `_`, `/` and `-` \
                         to `{program}` ({}), which `trusted_commands` trusts with names, not with its own syntax \
                         inside an argument (`curl -F \"file=@./$F\"` with a file `a,.git/config` uploads both, \
                         `helm --set \"k=$F\"` with `x,image.repository=evil` sets another value); pass the path \
                         to a script of the repository, or rename the file",
                        code(&clip(line))
                    ),
                    value.clone(),
                ));
            }
            let fixed = |m: usize| command.args[m].1.as_deref();
            let receiver = command
                .receiver
                .as_ref()
                .map(|(r, from)| (r.rsplit('/').next().unwrap_or_default(), *from));
            // A data program given it as a file name (an operand, or a
            // value split from one) reads any file; xargs hands on words no
            // template can prefix.
            let file_reader =
                |program: &str| data_program(program) && !builtin(program) && !STRING_TOOLS.contains(&program);
            if command.programs.iter().any(|p| p.rsplit('/').next() == Some("xargs")) {
                let null = command
                    .args
                    .iter()
                    .any(|(_, v)| matches!(v.as_deref(), Some("-0" | "--null" | "-0r" | "-r0")));
                if !null || receiver.is_some_and(|(r, _)| r == "xargs" || file_reader(r)) {
                    return Some((
                        format!(
                            "gives what a changed path or chosen value reaches to `xargs` ({}): xargs splits \
                             what it reads at blanks, quotes and line breaks into arguments a program reads as \
                             options unless it has `-0`, and a data program it runs would take each as a file \
                             name (`/proc/self/environ`); loop instead (`while IFS= read -r f; do cmd \
                             \"./$f\"; done`), or have xargs -0 run a script of the repository",
                            code(&clip(line))
                        ),
                        value.clone(),
                    ));
                }
            }
            if let Some(splitting) = splits_fields(command) {
                return Some((
                    format!(
                        "splits what a changed path or chosen value reaches into fields with `{splitting}` \
                         ({}): a part of a path after a blank or a delimiter may be any text (`/proc/self/environ`, \
                         `-f...`); read whole lines into one name (`IFS= read -r f`)",
                        code(&clip(line))
                    ),
                    value.clone(),
                ));
            }
            let Some((receiver, from)) = receiver.filter(|(r, _)| file_reader(r)) else {
                continue;
            };
            // The receiver's words that hold one.
            let other_args = neutral_commands.as_ref().map(|(n, c)| (n, &c[k].args));
            for m in from..command.args.len() {
                let text = &line[command.args[m].0.clone()];
                let other = other_args.map(|(n, args)| &n[args[m].0.clone()]);
                let nested = commands
                    .iter()
                    .zip(&reads)
                    .any(|(inner, read)| read.is_some() && within(&inner.span, &command.args[m].0));
                let held = unaligned || nested || holds(text, other).is_some();
                if held && (derives(text, self.tainted) || self.derived.iter().any(|d| mentions(text, d))) {
                    return Some((
                        format!(
                            "gives `{text}` to `{receiver}` ({}), a value a script derived from a path (a \
                             parameter operator such as `${{F//_/}}` or `${{F##*_}}`, or a command's output), which \
                             may name any file however it starts (`_../` becomes `../`, `a_.git/config` becomes \
                             `.git/config`); give the tool the path itself (`\"./$F\"`; `${{F##*/}}` and \
                             `$(basename ...)` are fine)",
                            code(&clip(line))
                        ),
                        value.clone(),
                    ));
                }
                // `--name="./$F"`: the option is the template's.
                let word = text
                    .strip_prefix("--")
                    .and_then(|t| t.split_once('='))
                    .filter(|(name, _)| name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                    .map_or(text, |(_, value)| value);
                let starts_verbatim = self.verbatim.iter().any(|name| {
                    let rest = word.strip_prefix('"').unwrap_or(word);
                    [format!("${name}"), format!("${{{name}}}")].iter().any(|r| {
                        rest.strip_prefix(r.as_str())
                            .is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
                    })
                });
                if held && !fixed_start(word) && !starts_verbatim && fixed(m) != Some("--") {
                    return Some((
                        format!(
                            "gives `{text}` to `{receiver}` ({}), which would read it as an option or as any file: \
                             a changed path, or a part of one (after `read a b`, `${{F#*_}}`, a line break), may \
                             start with `-` or `/` (`-f/proc/self/environ`, `/proc/self/environ`); start the word \
                             with fixed text: `\"./$F\"`, `\"pipelines/$P\"`",
                            code(&clip(line))
                        ),
                        value.clone(),
                    ));
                }
            }
        }
        None
    }

    /// Whether the merge request chose text of `real`, a command whose
    /// stand-in (or marked) text is `other`. A marked word that the
    /// templates write themselves, and that is not an option (`tests` in
    /// `python -m pytest tests` with a folder `tests`), is the template's.
    fn chose(&self, real: &str, other: &str) -> bool {
        if real == other {
            return false;
        }
        if matches!(self.reach, Reach::Special) || real.len() != other.len() {
            return true;
        }
        let (a, b) = (real.as_bytes(), other.as_bytes());
        let mut i = 0;
        while i < a.len() {
            if a[i] == b[i] {
                i += 1;
                continue;
            }
            let (start, end) = around(real, i, i + 1);
            let word = &real[start..end];
            if word.starts_with('-') || !self.known.contains(word) {
                return true;
            }
            i = end.max(i + 1);
        }
        false
    }
}

/// Whether `text` (an active part of a command line) uses the variable
/// `name` outside plain double quotes. A command substitution is read as
/// the command line it holds (`"$(wc -l < "$F")"` quotes `$F`).
fn unquoted_use(text: &str, name: &str, depth: usize) -> bool {
    if !mentions(text, name) {
        return false;
    }
    let Some(inner) = text
        .strip_prefix("$(")
        .filter(|_| depth < 4 && !text.starts_with("$(("))
    else {
        return true;
    };
    // The tokenizer reads a substitution to the end of the line: its own
    // text ends at the `)` that closes it; what follows is read apart.
    let Some(close) = closing_parenthesis(inner) else {
        return true;
    };
    let (inner, after) = (&inner[..close], &inner[close + 1..]);
    if arithmetic(inner) || runs_inline_code(inner) || feeds_a_shell(inner) {
        return true;
    }
    let after = after.strip_prefix('"').unwrap_or(after);
    if mentions(after, name)
        && tokens_of(after).into_iter().any(|token| match token {
            Token::Word(parts) => parts.into_iter().any(|part| match part {
                Part::Unquoted(t) | Part::Active(t) => unquoted_use(t, name, depth + 1),
                _ => false,
            }),
            _ => true,
        })
    {
        return true;
    }
    shell_words(inner).into_iter().any(|token| match token {
        Token::Word(parts) => parts.into_iter().any(|part| match part {
            Part::Unquoted(t) | Part::Active(t) => unquoted_use(t, name, depth + 1),
            _ => false,
        }),
        Token::HereDocument(t) | Token::Comment(t) => mentions(t, name),
        _ => false,
    })
}

/// The index of the `)` that closes a command substitution whose text
/// starts `text`, read with its quotes and nested brackets.
fn closing_parenthesis(text: &str) -> Option<usize> {
    // A `)` in a case pattern or a comment closes nothing: such text is
    // read as unknown (the caller fails closed).
    if text.contains("case") || text.contains('#') {
        return None;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (_, _) if escaped => escaped = false,
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => escaped = true,
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => return Some(i),
            (None, ')') => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Variables that bash or common tools act on when they are set: `OPTIND`,
/// `RANDOM`, `SRANDOM` and `HISTCMD` evaluate their value as arithmetic
/// (running a `$(...)` in an array subscript); others change how commands
/// are found or words split, run code (`PROMPT_COMMAND`, `PS4`, `BASH_ENV`,
/// `GIT_SSH_COMMAND`, `PERL5OPT`, `NODE_OPTIONS`, a pager or an editor),
/// load libraries or modules, send requests through a proxy, or change
/// GitLab's own settings. A value that holds a path never goes in one: a
/// deny-list of the names known to do something, so a path variable is best
/// named plainly (`FILE`, `CHANGED_PATH`).
#[must_use]
pub fn special_variable(name: &str) -> bool {
    const NAMES: [&str; 50] = [
        "CDPATH",
        "COLUMNS",
        "EDITOR",
        "EMACS",
        "ENV",
        "EPOCHREALTIME",
        "EPOCHSECONDS",
        "EXECIGNORE",
        "FCEDIT",
        "FIGNORE",
        "FUNCNEST",
        "GCONV_PATH",
        "GLOBIGNORE",
        "GLOBSORT",
        "HOME",
        "HOSTALIASES",
        "HOSTFILE",
        "IFS",
        "IGNOREEOF",
        "INPUTRC",
        "JAVA_TOOL_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "KUBECONFIG",
        "LANG",
        "LANGUAGE",
        "LINENO",
        "LINES",
        "LOCPATH",
        "NLSPATH",
        "OLDPWD",
        "OPTARG",
        "OPTERR",
        "OPTIND",
        "PAGER",
        "PATH",
        "POSIXLY_CORRECT",
        "PROMPT_COMMAND",
        "PWD",
        "RANDOM",
        "SECONDS",
        "SHELL",
        "SHELLOPTS",
        "SHLVL",
        "SRANDOM",
        "TERM",
        "TIMEFORMAT",
        "TMOUT",
        "TMPDIR",
        "TZ",
        "VISUAL",
    ];
    const PREFIXES: [&str; 47] = [
        "TAR_",
        "MAKE",
        "RUSTC",
        "RUSTFLAGS",
        "CARGO_",
        "XDG_",
        "TF_CLI",
        "MAVEN_",
        "GRADLE_",
        "ANSIBLE_",
        "KUBE_",
        "LUA_",
        "CONDA",
        "_JAVA_",
        "ALL_PROXY",
        "AWS_",
        "BASH",
        "CI_",
        "COMP_",
        "CURL_",
        "DOCKER_",
        "DYLD_",
        "FF_",
        "GIT_",
        "GITLAB_",
        "GOOGLE_",
        "HIST",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "LC_",
        "LD_",
        "LESS",
        "MAIL",
        "NODE_",
        "NO_PROXY",
        "NPM_",
        "PERL",
        "PIP_",
        "PS",
        "PYTHON",
        "READLINE_",
        "RESOLV_",
        "RUBY",
        "SSH_",
        "SUDO_",
        "TERMINFO",
        "WGETRC",
    ];
    const TOOLS: [&str; 14] = [
        "BROWSER",
        "CC",
        "CXX",
        "GOENV",
        "GOFLAGS",
        "GOPATH",
        "GOPROXY",
        "GOROOT",
        "GOTOOLCHAIN",
        "MANOPT",
        "MANPAGER",
        "MANPATH",
        "LDFLAGS",
        "CFLAGS",
    ];
    // Names are case-sensitive; curl also reads the lowercase proxies, and
    // npm reads `npm_config_*` in any case (`Npm_Config_Call`).
    let lower_proxy = matches!(
        name,
        "http_proxy" | "https_proxy" | "all_proxy" | "no_proxy" | "ftp_proxy"
    ) || name
        .get(..11)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("npm_config_"))
        || name.ends_with("_OPTS");
    lower_proxy || TOOLS.contains(&name) || NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The shell variables a command line sets: `NAME=`, `NAME+=`, `NAME[i]=`
/// at the start of a word (after `export`, `local`... too), and the loop
/// variable of `for NAME in` / `select NAME in`. Read generously (inside
/// quotes too): a name too many is only checked more.
fn assigned_names(line: &str) -> Vec<&str> {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = line.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0
            || matches!(
                bytes[i - 1],
                b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'{' | b'}' | b'`' | b'"' | b'\''
            );
        if !starts_word || !(bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && ident(bytes[i]) {
            i += 1;
        }
        let name = &line[start..i];
        let mut rest = &line[i..];
        if rest.starts_with('[') {
            rest = rest.find(']').map_or("", |end| &rest[end + 1..]);
        }
        // `${NAME:=default}` and `${NAME=default}` assign too.
        let default_assignment =
            start >= 2 && &bytes[start - 2..start] == b"${" && (rest.starts_with(":=") || rest.starts_with('='));
        // `IFS= read ...` assigns nothing: an empty value holds no path.
        let empty = (rest.starts_with('=') && rest[1..].starts_with([' ', '\t', ';', '\n'])) || rest == "=";
        if (rest.starts_with('=') || rest.starts_with("+=") || default_assignment) && !empty {
            names.push(name);
        } else if matches!(name, "for" | "select") {
            let loop_name: &str = rest.trim_start_matches([' ', '\t']);
            let len = loop_name.bytes().take_while(|b| ident(*b)).count();
            if len > 0 {
                names.push(&loop_name[..len]);
            }
        }
    }
    names
}

/// Whether a command line gives a variable the integer attribute
/// (`declare -i`, `local -ri`, `typeset -i`...), after which bash evaluates
/// what is assigned to it as arithmetic.
fn declares_integer(line: &str) -> bool {
    let words = dequoted_words(line);
    words.windows(2).any(|pair| {
        matches!(
            pair[0].0.as_str(),
            "declare" | "typeset" | "local" | "export" | "readonly"
        )
    }) && words
        .iter()
        .any(|(word, _)| word.starts_with('-') && word[1..].contains('i') && !word.starts_with("--"))
}

/// What [`dequoted_words`] gives for the end of a command (`;`, `|`, `&`,
/// a bracket, a line break).
const SEPARATOR: &str = "\u{0}";

/// A command line's words with quotes and backslashes removed (`"eval"`,
/// `\eval` and `'eval'` are all `eval`), each with whether it stands where a
/// command name goes and begins with an expansion (`$cmd "$F"`, which runs
/// whatever command the variable names).
fn dequoted_words(line: &str) -> Vec<(String, bool)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut raw_start: Option<char> = None;
    let mut command = true;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    let finish =
        |word: &mut String, raw_start: &mut Option<char>, command: &mut bool, words: &mut Vec<(String, bool)>| {
            if !word.is_empty() || raw_start.is_some() {
                // A command name that is only an expansion runs whatever it
                // holds (`$cmd`, `"${cmd}"`, `$(...)`, `` `...` ``);
                // `"$CI_PROJECT_DIR/check.sh"` names a file, never a builtin.
                let parameter = word
                    .strip_prefix('$')
                    .map(|r| r.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(r))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
                // `{bash,-c,"$F"}`: brace expansion makes the command.
                let braces = word.starts_with('{') && word.contains(',');
                let indirect = *command
                    && (braces
                        || (matches!(raw_start, Some('$' | '`'))
                            && (word == "$" || word.starts_with('`') || parameter)));
                // After these, the next word is a command name too.
                let prefix = matches!(
                    word.as_str(),
                    "builtin"
                        | "command"
                        | "exec"
                        | "env"
                        | "time"
                        | "nohup"
                        | "then"
                        | "do"
                        | "else"
                        | "if"
                        | "elif"
                        | "while"
                        | "until"
                        | "!"
                        | "xargs"
                        | "sudo"
                        | "nice"
                        | "timeout"
                );
                let option = word.starts_with('-');
                let assignment = !option && word.find('=').is_some_and(|eq| eq > 0);
                words.push((std::mem::take(word), indirect));
                *command = *command && (prefix || assignment || option);
            }
            *raw_start = None;
        };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\'' | '$'), '\'') | (Some('"'), '"') => quote = None,
            // Inside `"..."` and ANSI-C `$'...'` a backslash escapes.
            (Some('"' | '$'), '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (None, '$') if chars.peek() == Some(&'\'') => {
                raw_start.get_or_insert(c);
                chars.next();
                quote = Some('$');
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                raw_start.get_or_insert(c);
                quote = Some(c);
            }
            (None, '\\') => {
                raw_start.get_or_insert(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (None, '<' | '>') => {
                // A redirection is a word of its own (`2>/dev/null`,
                // `<<<"$F"`), its descriptor number included.
                if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
                    word.clear();
                    raw_start = None;
                }
                finish(&mut word, &mut raw_start, &mut command, &mut words);
                let mut operator = c.to_string();
                while let Some(&next) = chars.peek() {
                    if matches!(next, '<' | '>' | '&' | '|' | '-') || (next.is_ascii_digit() && operator.ends_with('&'))
                    {
                        operator.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                words.push((operator, false));
            }
            (None, ' ' | '\t') => finish(&mut word, &mut raw_start, &mut command, &mut words),
            // `NAME=(` starts an array's items, not a command.
            (None, '(') if word.ends_with('=') => word.push(c),
            // `{` and `}` are words of their own only when they stand alone.
            (None, '{' | '}')
                if !word.is_empty()
                    || raw_start.is_some()
                    || (c == '{' && chars.peek().is_some_and(|next| !next.is_whitespace())) =>
            {
                raw_start.get_or_insert(c);
                word.push(c);
            }
            // A comment runs to the end of its line.
            (None, '#') if (word.is_empty() && raw_start.is_none()) || word.ends_with("=(") => {
                while chars.peek().is_some_and(|next| *next != '\n') {
                    chars.next();
                }
            }
            (None, ';' | '&' | '|' | '(' | ')' | '{' | '}' | '\n') => {
                finish(&mut word, &mut raw_start, &mut command, &mut words);
                // The end of a command, as a word of its own.
                if words.last().is_none_or(|(w, _)| w != SEPARATOR) {
                    words.push((SEPARATOR.to_owned(), false));
                }
                command = true;
            }
            (None, c) => {
                raw_start.get_or_insert(c);
                word.push(c);
            }
        }
        // The first character inside quotes decides whether a quoted word
        // begins with an expansion (`"$cmd"`).
        if quote.is_some() && raw_start.is_some_and(|r| r == '"' || r == '\'') && word.len() == 1 {
            raw_start = word.chars().next();
        }
    }
    finish(&mut word, &mut raw_start, &mut command, &mut words);
    words
}

/// Whether a command line runs text it is given as code, in another shell
/// or interpreter: `sh -c`, `bash` reading its script from stdin, `awk`
/// (its program), `python -c`, `perl -e`, `node -e`, `ruby -e`, `php -r`,
/// `ssh` (a remote shell), `env -S`, `source` or `.` of `/dev/stdin` or a
/// process substitution (`<(...)`). A script file given a path as an
/// argument is not: that runs the file's content, which CI runs anyway.
fn runs_inline_code(line: &str) -> bool {
    runs_code(line, Reach::Special)
}

/// [`runs_inline_code`], for text of `reach`: `make` reads code from a
/// word with `=` or `$` (`X=$(shell ...)`), which text of neutral
/// characters cannot hold.
fn runs_code(line: &str, reach: Reach) -> bool {
    if line.contains("<(") || line.contains(">(") {
        return true;
    }
    // What a command substitution runs, too.
    if line
        .match_indices("$(")
        .chain(line.match_indices('`'))
        .any(|(i, m)| inline_in_command(&line[i + m.len()..], reach))
    {
        return true;
    }
    inline_in_command(line, reach)
}

fn inline_in_command(line: &str, reach: Reach) -> bool {
    let words: Vec<(String, bool)> = dequoted_words(line);
    // A redirection or the end of the command ends the arguments: the
    // script then comes from stdin (`bash <<< "$F"`, `bash < f`, `| bash; x`).
    let cut = |rest: &[(String, bool)]| -> usize {
        rest.iter()
            .position(|(a, _)| a == SEPARATOR || a.starts_with(['<', '>']))
            .unwrap_or(rest.len())
    };
    (0..words.len()).any(|i| {
        let name = canonical_program(words[i].0.rsplit('/').next().unwrap_or_default());
        let all = &words[i + 1..];
        let command_words: Vec<(String, bool)> = all
            .iter()
            .take_while(|(a, _)| a != SEPARATOR)
            .filter(|(a, _)| !a.starts_with(['<', '>']))
            .cloned()
            .collect();
        let reads_stdin = matches!(
            name,
            "sh" | "bash"
                | "dash"
                | "zsh"
                | "ksh"
                | "mksh"
                | "ash"
                | "fish"
                | "busybox"
                | "ruby"
                | "node"
                | "nodejs"
                | "deno"
                | "bun"
                | "php"
                | "pwsh"
                | "powershell"
        ) || name.starts_with("python")
            || name.starts_with("pypy");
        // For what reads a script from stdin, a redirection ends the
        // arguments; for the rest, redirections are skipped.
        let rest: &[(String, bool)] = if reads_stdin { &all[..cut(all)] } else { &command_words };
        // `python3 --version` reads no script.
        if rest
            .iter()
            .any(|(a, _)| matches!(a.as_str(), "--version" | "-V" | "--help"))
        {
            return false;
        }
        // An option anywhere after the command (options with arguments may
        // come first: `bash -o pipefail -c`, `python3 -X utf8 -c`), as a
        // short cluster (`-ec`) or exactly.
        let short = |letters: &str| {
            rest.iter()
                .any(|(a, _)| a.starts_with('-') && !a.starts_with("--") && a[1..].chars().any(|c| letters.contains(c)))
        };
        let exact = |flags: &[&str]| {
            rest.iter()
                .any(|(a, _)| flags.iter().any(|f| a == f || a.starts_with(&format!("{f}="))))
        };
        // `-` or nothing after it: the script comes from stdin.
        let stdin = rest.is_empty() || rest.iter().any(|(a, _)| a == "-");
        match name {
            // Tools with options that run a command accept them spelt many
            // ways (`--to-comm=`, `tar cIf X`, `sed -i.bak SCRIPT`,
            // `--expr=`): any expansion in such a line counts.
            "tar" | "gtar" | "sed" | "gsed" | "rsync" | "zip" | "man" | "mysql" | "mariadb" | "psql" | "npx"
                if rest.iter().any(|(a, _)| a.contains(['$', '`'])) =>
            {
                true
            }
            "sh" | "bash" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "fish" | "busybox" => {
                // Options up to the script file (`-o x`, `-O x` take a value).
                let mut args = rest.iter().map(|(a, _)| a.as_str());
                while let Some(arg) = args.next() {
                    match arg {
                        "-o" | "-O" | "+o" | "+O" => {
                            args.next();
                        }
                        "-" => return true,
                        a if a.starts_with('-') && !a.starts_with("--") && a.contains(['c', 's']) => return true,
                        // A long option may take the next word (`--rcfile x`).
                        a if a.starts_with("--") && !a.contains('=') => {
                            args.next();
                        }
                        a if a.starts_with(['-', '+']) => {}
                        // `${NOPE}` may expand to nothing.
                        a if a.contains('$') => {}
                        _ => return false,
                    }
                }
                true
            }
            // `psql -c '\\! cmd'` runs a shell command too.
            "su" | "script" | "flock" | "runuser" | "psql" => short("c") || exact(&["--command"]),
            "mysql" | "mariadb" => short("e") || exact(&["--execute"]),
            "rsync" => short("e") || exact(&["--rsh", "--rsync-path"]),
            "tar" | "gtar" => {
                short("IF")
                    || exact(&[
                        "--to-command",
                        "--checkpoint-action",
                        "--use-compress-program",
                        "--info-script",
                        "--new-volume-script",
                        "--rsh-command",
                    ])
            }
            "zip" => exact(&["-TT", "--unzip-command"]),
            "man" => exact(&["-P", "--pager", "-H", "--html"]),
            "npx" | "npm" | "pnpm" | "yarn" => short("c") || exact(&["--call"]),
            "awk" | "gawk" | "mawk" | "nawk" => !exact(&["-f", "--file"]) || exact(&["-e", "--source"]),
            "ruby" => short("e") || stdin,
            "node" | "nodejs" | "deno" | "bun" => exact(&["-e", "-p", "--eval", "--print", "eval"]) || stdin,
            "php" => exact(&["-r", "-R", "-B", "-E"]) || stdin,
            // Perl's `<>` opens its arguments with a two-argument `open`
            // (`x|` runs `x`); the others run what they are given.
            // So do the rest, or they run what they are given through a
            // shell: `watch CMD`, `sg GROUP CMD`, Tcl, m4's `esyscmd`, dc's
            // `!`, sqlite's `.shell`, scp's `-S` and ssh options; make reads
            // every environment variable as its own code (`$(shell ...)`),
            // and its built-in rules run `LDLIBS`, `CPPFLAGS`,
            // `TARGET_ARCH`... through a shell.
            "perl" | "lua" | "luajit" | "Rscript" | "tclsh" | "osascript" | "gdb" | "vim" | "vi" | "nvim" | "ex"
            | "ed" | "ssh" | "watch" | "sg" | "expect" | "m4" | "dc" | "sqlite3" | "scp" | "sftp" | "make"
            | "gmake" | "wish" | "run-parts" | "capsh" | "hyperfine" | "nix-shell" => {
                !(matches!(reach, Reach::Text) && name.ends_with("make"))
            }
            "pwsh" | "powershell" => exact(&["-Command", "-c", "-EncodedCommand"]) || stdin,
            // `git -c` can set a command (`alias.x=!`, `core.fsmonitor`,
            // `core.sshCommand`, `core.pager`...).
            // So do `rebase --exec`, `submodule foreach`, `difftool -x`,
            // `bisect run` and `filter-branch`.
            "git" => {
                let has = |word: &str| rest.iter().any(|(a, _)| a == word);
                rest.iter().any(|(a, _)| {
                    a == "-c"
                        || a.starts_with("--config-env")
                        || a.contains("=!")
                        || a.starts_with("--exec")
                        || a.starts_with("--extcmd")
                        || a == "foreach"
                        || a == "filter-branch"
                }) || ((has("rebase") || has("difftool")) && short("x"))
                    || (has("bisect") && has("run"))
                    // `git config alias.x '!...'`, `core.fsmonitor`... store
                    // a command that later git commands run.
                    || has("config")
            }
            // A script of fixed text that uses the `e` command or flag (an
            // expansion anywhere on the line is caught above: a path's `|e`
            // in `sed "s|x|$F|"` is the `e` flag).
            "sed" | "gsed" => rest.iter().any(|(a, _)| {
                let script = a.strip_prefix("--expression=").unwrap_or(a);
                !script.starts_with('-') && (script.ends_with('e') || script.contains("/e"))
            }),
            // `--s`, `--sp=`...: any prefix of `--split-string`.
            "env" => short("S") || rest.iter().any(|(a, _)| a.starts_with("--s")),
            "source" | "." => rest
                .iter()
                .any(|(a, _)| a.starts_with("/dev/") || a.starts_with("/proc/") || a == "-"),
            _ if name.starts_with("python") || name.starts_with("pypy") => {
                // Options up to the script (`-X utf8` and `-W x` take a
                // value; `-m` and the script end them).
                let mut args = rest.iter().map(|(a, _)| a.as_str());
                while let Some(arg) = args.next() {
                    match arg {
                        "-X" | "-W" => {
                            args.next();
                        }
                        "-m" => return false,
                        "-" => return true,
                        a if a.starts_with('-') && !a.starts_with("--") && a.contains('c') => return true,
                        // A long option may take the next word
                        // (`--check-hash-based-pycs default`).
                        a if a.starts_with("--") && !a.contains('=') => {
                            args.next();
                        }
                        a if a.starts_with('-') || a.contains('$') => {}
                        _ => return false,
                    }
                }
                true
            }
            _ => false,
        }
    })
}

/// Whether a tool may read code or settings from a file of this name in the
/// folder it runs in: source files, and the files build tools, package
/// managers and test runners read (`package.json`, `Makefile`,
/// `conftest.py`, `.npmrc`, `.git/hooks/*`...).
fn code_file(path: &str) -> bool {
    const NAMES: [&str; 36] = [
        "package.json",
        "Makefile",
        "makefile",
        "GNUmakefile",
        "pytest.ini",
        "tox.ini",
        "setup.cfg",
        "pyproject.toml",
        "Pipfile",
        "build.gradle",
        "settings.gradle",
        "pom.xml",
        "Rakefile",
        "Gemfile",
        "composer.json",
        "Cargo.toml",
        ".npmrc",
        ".yarnrc",
        ".yarnrc.yml",
        ".gitconfig",
        ".gitattributes",
        "Dockerfile",
        "docker-compose.yml",
        "compose.yaml",
        "Justfile",
        "justfile",
        "Taskfile.yml",
        ".bashrc",
        ".profile",
        ".envrc",
        ".env",
        "CMakeLists.txt",
        "meson.build",
        "BUILD",
        "WORKSPACE",
        "deno.json",
    ];
    const EXTENSIONS: [&str; 22] = [
        ".py", ".pth", ".sh", ".bash", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".pm", ".php", ".lua", ".tf", ".mk",
        ".gradle", ".kts", ".groovy", ".ps1", ".rs", ".go", ".tcl",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    NAMES.contains(&name) || EXTENSIONS.iter().any(|e| name.ends_with(e)) || path.contains(".git/")
}

/// A program's name as the deny-lists know it: `rbash` is bash, and a
/// version after the name (`perl5.36.0`, `ruby3.1`, `tclsh8.6`) is dropped
/// when what is left is a program the lists name.
fn canonical_program(name: &str) -> &str {
    const KNOWN: [&str; 39] = [
        "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "busybox", "ruby", "node", "nodejs", "deno", "bun",
        "php", "pwsh", "perl", "lua", "luajit", "Rscript", "tclsh", "wish", "gdb", "vim", "vi", "nvim", "awk", "gawk",
        "mawk", "nawk", "sed", "gsed", "psql", "mysql", "make", "gmake", "expect", "git", "tar",
    ];
    let unrestricted = name
        .strip_prefix('r')
        .filter(|rest| matches!(*rest, "bash" | "sh" | "ksh" | "zsh"));
    let name = unrestricted.unwrap_or(name);
    let stripped = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '_');
    if stripped != name && KNOWN.contains(&stripped) {
        stripped
    } else {
        name
    }
}

/// Whether a command line feeds what it reads (stdin, files) to a shell as
/// code: `xargs sh -c`, `find -exec sh -c`, `parallel`, `| bash`. A path
/// anywhere in the pipeline may reach it through a file or a command's
/// output, which no check follows.
fn feeds_a_shell(line: &str) -> bool {
    let words = dequoted_words(line);
    let feeder = words.iter().any(|(w, _)| {
        matches!(
            w.rsplit('/').next().unwrap_or_default(),
            "xargs" | "parallel" | "find" | "fd"
        )
    });
    (feeder && runs_inline_code(line))
        || line
            .match_indices('|')
            .any(|(i, _)| inline_in_command(&line[i + 1..], Reach::Special))
}

/// `line` with each line continuation (an unescaped backslash outside
/// single quotes, then a line break) removed, as bash removes it before it
/// reads words. `\\` is an escaped backslash: the line break after it ends
/// the command.
fn join_continuations(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    // ' (single quotes), " (double quotes), $ (ANSI-C `$'...'`, where a
    // backslash escapes the quote).
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\'' | '$'), '\'') | (Some('"'), '"') => {
                quote = None;
                out.push(c);
            }
            (Some('$'), '\\') => {
                out.push(c);
                out.extend(chars.next());
            }
            (None | Some('"'), '\\') => match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    out.push(c);
                    out.push(next);
                }
                None => out.push(c),
            },
            (None, '$') if chars.peek() == Some(&'\'') => {
                out.push(c);
                out.extend(chars.next());
                quote = Some('$');
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether a command line prints variables without naming them with `$`
/// (`printenv F`, `env`, `set`, `export -p`, `declare -p`, `compgen -v`).
fn dumps_variables(line: &str) -> bool {
    let words = dequoted_words(line);
    words.iter().enumerate().any(|(k, (word, _))| {
        let next = words.get(k + 1).map_or(SEPARATOR, |(w, _)| w.as_str());
        match word.as_str() {
            "printenv" | "set" | "compgen" => true,
            // Any file of `/proc` (`cd /proc/self && cat ./e?viron`), also
            // named by a pattern (`cd / && cat ./pro?/self/e*n`).
            w if names_environment_file(w, false, false) => true,
            "env" => next == SEPARATOR || next.starts_with(['>', '<']) || next == "-0",
            "export" | "declare" | "typeset" | "readonly" => {
                next == SEPARATOR || next.starts_with(['>', '<']) || matches!(next, "-p" | "-x")
            }
            _ => false,
        }
    }) || code_reads_environment(line)
        || line.contains("$'") && reads_environment_file(line, None, false)
        || may_print_environment(line)
            && crate::subset::commands(line).is_ok_and(|(commands, _)| {
                // Read as commands: `/usr/bin/env`, `env -u HOME`, `env --null`.
                commands.iter().any(|command| {
                    let Some(program) = command.programs.first() else {
                        return false;
                    };
                    let fixed = |v: &str| command.args.iter().any(|(_, a)| a.as_deref() == Some(v));
                    match program.rsplit('/').next().unwrap_or_default() {
                        "printenv" => true,
                        "env" => command.programs.len() == 1,
                        // BSD-style `ps e` (`ps auxeww`) prints each process's environment.
                        "ps" => command
                            .args
                            .iter()
                            .any(|(_, a)| a.as_deref().is_none_or(|a| !a.starts_with('-') && a.contains('e'))),
                        "set" | "export" | "declare" | "typeset" | "readonly" => command.args.is_empty() || fixed("-p"),
                        _ => command
                            .args
                            .iter()
                            .any(|(_, a)| a.as_deref().is_some_and(|a| a.contains("environ"))),
                    }
                })
            })
}

/// Whether `text` may print the environment, cheaply, before the exact
/// checks: it names `env` (`env`, `ENV`, `Env`, but not in `environment`),
/// or `set`, `export`, `declare`, `typeset`, `compgen`.
#[must_use]
pub fn may_print_environment(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The spellings a program or a language uses (`env`, `ENVIRON`, `Env`).
    ["env", "ENV", "Env"].iter().any(|spelling| {
        memchr::memmem::find_iter(bytes, spelling.as_bytes()).any(|i| {
            !bytes
                .get(i + 3..i + 11)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"ironment"))
        })
    }) || ["set", "export", "declare", "typeset", "compgen", "ps ", "/proc"]
        .iter()
        .any(|w| memchr::memmem::find(bytes, w.as_bytes()).is_some())
}

/// Whether `text` holds `needle` (lowercase ASCII) in any case, without
/// copying `text`.
#[must_use]
pub fn contains_ignoring_case(text: &str, needle: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = needle.first() else { return true };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), bytes).any(|i| {
        bytes
            .get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// Whether inline code on a line reads the whole environment, in any
/// case: awk's `ENVIRON`, `/proc/self/environ`, Python's `os.environ`,
/// Node's `process.env`, Perl's `%ENV`, jq's and Ruby's `$ENV`/`ENV[`,
/// `getenv`.
/// Whether `word` (a word of [`dequoted_words`]) may name a file of
/// `/proc`: a part that is, or as a pattern may be, `proc` where the parts
/// before it may lead to `/` (`./pro?/self/e*n`, `/{p,x}roc`,
/// `/*/self/environ`; a relative path starts where the script is, which
/// may be `/`), or, when the script may be in a folder of `/proc`
/// (`in_proc`), `environ` (`./e*n`, `*`). With `expansions`, a `$` stands
/// for any text (`/$a$b/self/environ`).
fn names_environment_file(word: &str, expansions: bool, in_proc: bool) -> bool {
    /// One part's pattern: `None` for a `*` (any text), else a character,
    /// `'\0'` for any one.
    fn pattern(part: &str, expansions: bool) -> Vec<Option<char>> {
        let mut out = Vec::new();
        let mut chars = part.chars();
        while let Some(c) = chars.next() {
            match c {
                // `**` matches what `*` does.
                '*' if out.last() == Some(&None) => {}
                '*' => out.push(None),
                '?' => out.push(Some('\0')),
                '[' => {
                    out.push(Some('\0'));
                    chars.by_ref().find(|c| *c == ']');
                }
                // Brace expansion: `{a,b}`, `{a..z}` (`{}` is text).
                '{' if chars.as_str().split('}').next().is_some_and(|b| b.contains([',', '.'])) => {
                    out.push(None);
                    chars.by_ref().find(|c| *c == '}');
                }
                '$' if expansions => {
                    out.push(None);
                    // `$NAME`, `${NAME}`: what follows the name is text again.
                    let rest = chars.as_str();
                    let skip = if let Some(braced) = rest.strip_prefix('{') {
                        braced.find('}').map_or(rest.len(), |i| i + 2)
                    } else {
                        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(rest.len())
                    };
                    chars = rest[skip..].chars();
                }
                c => out.push(Some(c)),
            }
        }
        out
    }
    fn matches(pattern: &[Option<char>], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((None, rest)) => (0..=text.len()).any(|i| matches(rest, &text[i..])),
            Some((Some(c), rest)) => text.first().is_some_and(|t| *c == '\0' || c == t) && matches(rest, &text[1..]),
        }
    }
    const PROC: [char; 4] = ['p', 'r', 'o', 'c'];
    const ENVIRON: [char; 7] = ['e', 'n', 'v', 'i', 'r', 'o', 'n'];
    // `/dev/fd` is `/proc/self/fd`: `/dev/fd/../environ`.
    if word.contains("dev/fd") {
        return true;
    }
    // How many folders below where the word starts (`/` or the script's
    // folder, which may be `/`) the parts so far lead.
    let mut depth = 0_usize;
    word.split('/').any(|part| {
        // Most parts are plain text.
        if !(part.contains(['*', '?', '[', '{']) || expansions && part.contains('$')) {
            let found = depth == 0 && part == "proc" || in_proc && part == "environ";
            match part {
                "" | "." => {}
                ".." => depth = depth.saturating_sub(1),
                _ => depth += 1,
            }
            return found;
        }
        let (proc, environ) = (&PROC[..], &ENVIRON[..]);
        let pattern = pattern(part, expansions);
        let stars = pattern.iter().filter(|p| p.is_none()).count();
        // A pattern of many `*` would take long to match: it may be anything.
        let found = stars > 4 || depth == 0 && matches(&pattern, proc) || in_proc && matches(&pattern, environ);
        // An expansion may hold `..` parts or `/`: it may lead anywhere.
        depth = if expansions && part.contains('$') { 0 } else { depth + 1 };
        found
    })
}

/// Whether `text` may hold a word that a shell reads as a pattern or an
/// ANSI-C string (`./pro?/self/e*n`, `/[p]roc`, `/{p,x}roc`, `$'\x70'`),
/// which may name `/proc/self/environ` ([`names_environment_file`]): a
/// `*` or `?`, a `[` or `{` glued to a word's text (not YAML's `[a, b]`,
/// `{a: b}` or `${NAME}`), or `$'`. A prefilter: fast, and true for more.
#[must_use]
pub fn may_name_environment_file(text: &str) -> bool {
    let bytes = text.as_bytes();
    let glued =
        |b: u8| !(b.is_ascii_whitespace() || matches!(b, b'[' | b']' | b'{' | b'}' | b',' | b':' | b'"' | b'\''));
    memchr::memchr2(b'*', b'?', bytes).is_some()
        || memchr::memmem::find(bytes, b"$'").is_some()
        || memchr::memchr2_iter(b'[', b'{', bytes).any(|at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let close = if bytes[at] == b'[' { b']' } else { b'}' };
            let end = memchr::memchr(close, &bytes[at..]).map(|i| at + i);
            let inside = end.map_or(&bytes[at + 1..], |end| &bytes[at + 1..end]);
            let braces = bytes[at] == b'{'
                && before != Some(b'$')
                && (memchr::memchr(b',', inside).is_some() || memchr::memmem::find(inside, b"..").is_some());
            (bytes[at] == b'[' || braces)
                && (before.is_some_and(glued) || end.and_then(|e| bytes.get(e + 1)).is_some_and(|b| glued(*b)))
        })
}

/// The words given to each command of `line` that one of `programs`
/// receives (`make` in `timeout 60 make test`), where `line` parses in the
/// subset: where each stands, and its value when that is fixed text.
fn arguments_of(line: &str, programs: &[&str]) -> Vec<Vec<(std::ops::Range<usize>, Option<String>)>> {
    let Ok((commands, _)) = crate::subset::commands(line) else {
        return Vec::new();
    };
    commands
        .into_iter()
        .filter_map(|command| {
            let (program, start) = command.receiver?;
            programs
                .contains(&program.rsplit('/').next().unwrap_or_default())
                .then(|| command.args.into_iter().skip(start).collect())
        })
        .collect()
}

/// The pattern operands of each `find` command of `line`, as written
/// (`-path P`, `-name P`, `-regex P`...).
fn find_patterns(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for args in arguments_of(line, &["find"]) {
        for pair in args.windows(2) {
            if let Some(option) = pair[0].1.as_deref()
                && matches!(
                    option.trim_start_matches('-'),
                    "path"
                        | "wholename"
                        | "ipath"
                        | "iwholename"
                        | "name"
                        | "iname"
                        | "regex"
                        | "iregex"
                        | "lname"
                        | "ilname"
                )
                && option.starts_with('-')
            {
                out.push(line[pair[1].0.clone()].to_owned());
            }
        }
    }
    out
}

/// The operands of each `make` (or `gmake`) command of `line`, as written:
/// its goals and `NAME=value` assignments, not its options nor their
/// arguments (`-C dir`, `-f file`, `-j 4`).
fn make_operands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for args in arguments_of(line, &["make", "gmake"]) {
        let mut skip = false;
        for (span, value) in args {
            let text = &line[span];
            if std::mem::take(&mut skip) {
                continue;
            }
            match value.as_deref() {
                Some("-C" | "-f" | "-I" | "-o" | "-W" | "--file" | "--makefile" | "--directory" | "--include-dir") => {
                    skip = true;
                }
                // (`-j`, `-l`: a count may follow, read below.)
                Some(option) if option.starts_with('-') => {}
                // A number after `-j`/`-l` is a count, not a goal.
                Some(number) if number.bytes().all(|b| b.is_ascii_digit()) => {}
                _ => out.push(text.to_owned()),
            }
        }
    }
    out
}

/// Whether a script of a document may change to a folder of `/proc`, where
/// any file pattern (`./*`) may name `environ`: its text holds `proc`, or
/// it changes folder to a pattern or a command's output (`cd /pr*/self`,
/// `cd "$(...)"`). (A folder that only a script's variables spell in
/// pieces, `D=/pr; D+=oc; cd "$D"`, is not seen.)
fn may_enter_proc(text: &str) -> bool {
    text.contains("proc")
        || text.contains("dev/fd")
        || ["cd", "pushd"].iter().any(|command| {
            text.match_indices(command).any(|(at, _)| {
                let rest = &text[at + command.len()..];
                let target = rest.trim_start_matches([' ', '\t']);
                target.len() < rest.len()
                    && target
                        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | ')'))
                        .next()
                        .is_some_and(|word| {
                            word.contains(['*', '?', '[', '{', '`']) || word.contains("$(") || word.contains("$'")
                        })
            })
        })
}

/// A YAML variable's value by its name, where it is known ([`reads_environment_file`]).
type Values<'v> = &'v dyn Fn(&str) -> Option<String>;

/// Whether a word of `line` may name a file of `/proc` or an `environ`
/// file ([`names_environment_file`]); an ANSI-C string with a backslash
/// (`$'\x70roc'`) counts as a pattern. With `values` (a line that holds a
/// chosen word), a `$NAME` is what `values` gives (a YAML variable's value;
/// nothing for GitLab's own `CI_` names no template or script sets), and any
/// text else (a script's variable, `$1`, `$( )`); the words `echo` and
/// `printf` print are text, not files.
fn reads_environment_file(line: &str, values: Option<Values<'_>>, in_proc: bool) -> bool {
    let mut line = if line.contains("$'") {
        Cow::Owned(ansi_c_as_patterns(line))
    } else {
        Cow::Borrowed(line)
    };
    if let Some(values) = values
        && line.contains('$')
    {
        let mut out = String::with_capacity(line.len());
        let mut rest: &str = &line;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, len) = if let Some(braced) = after.strip_prefix('{') {
                let end = braced.find('}').unwrap_or(braced.len());
                (&braced[..end], end + 2)
            } else {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            };
            let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            // `${F##*/}`, `${F%.*}`, `${F:1}`: a part of a variable's value,
            // which spells `proc` only if the value holds it.
            let part = name
                .find(['#', '%', ':'])
                .filter(|at| *at > 0 && !name[at + 1..].starts_with(['-', '=', '+', '?']))
                .map(|at| &name[..at])
                .filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                .and_then(values)
                .filter(|v| !v.contains("proc") && !v.contains("environ"));
            if let Some(value) = part {
                out.push_str(&value.replace(|c: char| !c.is_alphanumeric() && !matches!(c, '.' | '/'), "_"));
                rest = after.get(len.min(after.len())..).unwrap_or_default();
                continue;
            }
            match values(name) {
                // What a shell would read in it differently is `_`: its
                // letters, `.` and `/` are what may spell a folder.
                Some(value) if plain => out.extend(value.chars().map(|c| {
                    if c.is_alphanumeric() || matches!(c, '.' | '/' | '-' | '_' | '\u{1}') {
                        c
                    } else {
                        '_'
                    }
                })),
                _ => out.push('*'),
            }
            rest = after.get(len.min(after.len())..).unwrap_or_default();
            if !plain && len == 0 {
                // `$(`, `$$`, `$@`: one character of syntax.
                rest = &after[after.chars().next().map_or(0, char::len_utf8)..];
            }
        }
        out.push_str(rest);
        line = Cow::Owned(out.replace('`', "*"));
    }
    let words = dequoted_words(&line);
    let mut program: Option<&str> = None;
    let mut target = false;
    words.iter().any(|(word, _)| {
        if word == SEPARATOR {
            program = None;
            return false;
        }
        let read = program.is_none_or(|p| !matches!(p, "echo" | "printf")) || target;
        target = word.starts_with('<');
        if program.is_none() && !word.contains('=') && !word.starts_with(['<', '>']) {
            program = Some(word.rsplit('/').next().unwrap_or_default());
        }
        read && names_environment_file(word, values.is_some(), in_proc)
    })
}

/// `line` with each ANSI-C string that holds a backslash (`$'\x70'`)
/// replaced by `*`: what it spells is not its text.
fn ansi_c_as_patterns(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("$'") {
        out.push_str(&rest[..at]);
        let body = &rest[at + 2..];
        let mut end = body.len();
        let mut escaped = false;
        let mut backslash = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => {
                    escaped = true;
                    backslash = true;
                }
                '\'' => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        if backslash {
            out.push('*');
        } else {
            out.push_str(&rest[at..at + 2 + end.min(body.len())]);
            if end < body.len() {
                out.push('\'');
            }
        }
        rest = body.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

fn code_reads_environment(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    ["environ", "process.env", "%env", "getenv", "env["]
        .iter()
        .any(|w| lower.contains(w))
        || lower
            .match_indices("$env")
            .any(|(i, _)| !lower[i + 4..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

/// The script files a command line runs (`bash scripts/check.sh`,
/// `python3 -u lint.py`, `source env.sh`, `./run.sh`).
fn script_arguments(line: &str) -> Vec<String> {
    let words = dequoted_words(line);
    let mut scripts = Vec::new();
    for (k, (word, _)) in words.iter().enumerate() {
        let name = word.rsplit('/').next().unwrap_or_default();
        let runner = matches!(
            name,
            "source" | "." | "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "ruby" | "node" | "php" | "Rscript"
        ) || name.starts_with("python");
        if runner
            && let Some((script, _)) = words[k + 1..]
                .iter()
                .take_while(|(a, _)| a != SEPARATOR)
                .find(|(a, _)| !a.starts_with(['-', '<', '>']))
        {
            scripts.push(script.clone());
        }
        if word.starts_with("./") {
            scripts.push(word.clone());
        }
    }
    scripts
}

/// Whether a command line defines an alias, which can turn any word into
/// `eval` or `[[` where aliases are expanded.
fn aliases(line: &str) -> bool {
    dequoted_words(line).iter().any(|(word, _)| word == "alias")
}

/// Whether a command line may run one of the files scripts wrote
/// (`written`): `eval`, or a shell, an interpreter, `source`, `make -f` or
/// a program whose script is one of them, or is named in a way no check can
/// resolve (a glob, an expansion, braces, `/dev/fd/3`). Inline code is the
/// caller's to check ([`runs_inline_code`]).
fn runs_code_from(line: &str, written: &[String], path_changed: bool) -> bool {
    let unresolved =
        |w: &str| w.contains(['*', '?', '[', '{', '$', '`', '~']) || w.starts_with("/dev/") || w.starts_with("/proc/");
    let base = |w: &str| w.rsplit('/').next().unwrap_or_default().to_owned();
    // A name only known in part (`pipelines/$P`) may be any file under the
    // folder it starts with: a path holds no `..` part, so `scripts/x.sh`
    // is not one. With no folder, or `..` or an absolute path on either
    // side (where the script may have changed folder), it may be any file.
    let may_be = |f: &str, w: &str| {
        let fixed = &f[..f.find(['*', '?', '[', '{', '$', '`', '~']).unwrap_or(f.len())];
        let folder = fixed.rfind('/').map_or("", |i| &fixed[..=i]);
        let plain = |t: &str| t.trim_start_matches("./").to_owned();
        folder.is_empty()
            || [f, w].iter().any(|t| t.starts_with('/') || t.contains(".."))
            || plain(w).starts_with(&plain(folder))
    };
    let wrote = |w: &str| {
        unresolved(w)
            || written
                .iter()
                .any(|f| (unresolved(f) && may_be(f, w)) || base(f) == base(w))
    };
    let words = dequoted_words(line);
    let parsed = crate::subset::command_names(line).ok();
    // Where the line parses in the subset, whether `word` is a command's name.
    let named_as_command = |word: &str| parsed.as_ref().is_none_or(|names| names.iter().any(|n| n == word));
    // Which words stand where a command name goes: the first, those after
    // the end of a command, and those after a prefix (`timeout 5`, `nohup`,
    // `env X=1`) once its options, numbers and assignments are past.
    let mut at_command = Vec::with_capacity(words.len());
    let mut expecting = true;
    for (word, _) in &words {
        if word == SEPARATOR {
            at_command.push(false);
            expecting = true;
            continue;
        }
        at_command.push(expecting);
        let prefix = matches!(
            word.rsplit('/').next().unwrap_or_default(),
            "timeout"
                | "nice"
                | "nohup"
                | "env"
                | "stdbuf"
                | "command"
                | "builtin"
                | "exec"
                | "sudo"
                | "xargs"
                | "time"
                | "then"
                | "do"
                | "else"
                | "!"
                | "setsid"
                | "chrt"
                | "ionice"
                | "taskset"
        );
        let skippable = word.starts_with('-')
            || word.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            || word.find('=').is_some_and(|eq| eq > 0);
        // `bundle exec rspec`, `pyenv exec python`: what follows a
        // subcommand `exec` is a command too.
        expecting = (expecting && (prefix || skippable)) || word == "exec";
    }
    words.iter().enumerate().any(|(k, (word, command))| {
        let name = base(word);
        let mut args = words[k + 1..]
            .iter()
            .map(|(a, _)| a.as_str())
            .take_while(|a| *a != SEPARATOR);
        match name.as_str() {
            "eval" | "alias" => true,
            // The builtin; `bundle exec` runs the next word, checked there.
            "exec" => at_command[k],
            "make" | "gmake" | "sed" | "gsed" | "awk" | "gawk" | "mawk" | "jq" => {
                let mut args = args;
                args.find(|a| *a == "-f" || a.starts_with("--file")).is_some() && args.next().is_none_or(wrote)
            }
            // Where the line parses, only as a command (`jq . "./$F"` runs
            // no `.`).
            "source" | "." | "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "perl" | "ruby" | "node" | "php"
            | "Rscript" | "tclsh" | "wish" | "expect" | "lua" | "luajit" | "osascript"
                if named_as_command(word) =>
            {
                args.find(|a| !a.starts_with('-')).is_some_and(wrote)
            }
            n if n.starts_with("python") => {
                let mut script = None;
                while let Some(arg) = args.next() {
                    match arg {
                        "-m" => return false,
                        "-X" | "-W" => {
                            args.next();
                        }
                        a if a.starts_with('-') => {}
                        a => {
                            script = Some(a);
                            break;
                        }
                    }
                }
                // No script: stdin, which `runs_inline_code` judged.
                script.is_some_and(wrote)
            }
            // A written file run by its path, after any prefix (`timeout 5
            // ./g.sh`), or by its name once PATH changed.
            _ => {
                let _ = command;
                // Where the line is inside the subset, its parser knows the
                // commands' names (`./$F` inside `$(dirname ...)` is none).
                at_command[k]
                    && named_as_command(word)
                    && ((word.contains('/') && wrote(word))
                        || (path_changed && written.iter().any(|f| base(f) == name)))
            }
        }
    })
}

/// The files a command line writes: the target of a `>`, `>>`, `>|` or
/// `>&` redirection outside quotes (not `/dev/...` or a descriptor), of
/// `tee`, of an `-o`/`--output` option, every operand of `cp`, `mv`,
/// `install`, `ln`, `uniq` and `sed -i` (`*` when a backup may take
/// another name).
fn written_files(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    // The redirection target that starts at `k`, quotes removed.
    let target_at = |k: usize| -> String {
        chars[k..]
            .iter()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|' | ')' | '<' | '>'))
            .filter(|c| !matches!(c, '"' | '\''))
            .collect()
    };
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => i += 1,
            (None, '\'' | '"') => quote = Some(c),
            (None, '>') => {
                let mut j = i + 1;
                while j < chars.len() && matches!(chars[j], '>' | '|') {
                    j += 1;
                }
                if j + 1 < chars.len() && chars[j] == '&' && matches!(chars[j + 1], '3'..='9') {
                    // `>&3`: a descriptor some other line opened on a file.
                    out.push(format!("&{}", chars[j + 1]));
                    i = j + 2;
                    continue;
                } else if let Some(k) = (chars.get(j) == Some(&'&'))
                    .then(|| (j + 1..chars.len()).find(|&k| !matches!(chars[k], ' ' | '\t')))
                    .flatten()
                    .filter(|&k| !chars[k].is_ascii_digit() && !matches!(chars[k], '-' | ';' | '&' | '|' | ')'))
                {
                    // `>&word`, `>& word`: standard output and error to the
                    // file `word`.
                    out.push(target_at(k));
                    i = k;
                    continue;
                } else if j < chars.len() && matches!(chars[j], '&' | '(') {
                    i = j;
                } else {
                    while j < chars.len() && chars[j].is_whitespace() {
                        j += 1;
                    }
                    out.push(target_at(j));
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let words = dequoted_words(line);
    for (k, (word, _)) in words.iter().enumerate() {
        match word.rsplit('/').next().unwrap_or_default() {
            "tee" => out.extend(
                words[k + 1..]
                    .iter()
                    .filter(|(w, _)| !w.starts_with('-'))
                    .map(|(w, _)| w.clone()),
            ),
            "-o" | "--output" | "--output-file" | "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                out.extend(words.get(k + 1).map(|(w, _)| w.clone()));
            }
            // `pip install x` is a package manager's subcommand.
            "install"
                if k > 0
                    && matches!(
                        words[k - 1].0.rsplit('/').next().unwrap_or_default(),
                        "pip" | "pip3" | "npm" | "yarn" | "pnpm" | "apt-get" | "apt" | "apk" | "gem" | "brew"
                    ) => {}
            // Which operand is the target depends on options (`-t DIR`,
            // `-T`) and on where the command ends (`cp a b || true`,
            // `find -exec cp {} b \;`): each of them may be.
            "cp" | "mv" | "install" | "ln" | "uniq" => {
                out.extend(operands(&words[k + 1..]));
                // `-b`, `--backup`, `-S SUFFIX`: a file of a name the line
                // does not hold (`changed.bak`) may be written; any may.
                if words[k + 1..]
                    .iter()
                    .map(|(w, _)| w)
                    .take_while(|w| !matches!(w.as_str(), SEPARATOR | ";" | "+"))
                    .any(|w| {
                        w.starts_with("--backup")
                            || w.starts_with("--suffix")
                            || w.starts_with('-') && !w.starts_with("--") && w.contains(['b', 'S'])
                    })
                {
                    out.push("*".to_owned());
                }
            }
            "sed" | "gsed" | "perl" if words[k + 1..].iter().any(|(w, _)| w.starts_with("-i")) => {
                out.extend(operands(&words[k + 1..]));
            }
            w if w.starts_with("--output=") || w.starts_with("of=") => {
                out.push(w.split_once('=').map(|(_, f)| f.to_owned()).unwrap_or_default());
            }
            _ => {}
        }
    }
    out.retain(|f| !f.is_empty() && !f.starts_with("/dev/"));
    out
}

/// The words of a command up to where it ends (`;`, `|`, `&`, a bracket, a
/// line break, or `find -exec`'s `;` and `+`), options and redirections
/// left out.
fn operands(words: &[(String, bool)]) -> impl Iterator<Item = String> + '_ {
    words
        .iter()
        .map(|(w, _)| w)
        .take_while(|w| !matches!(w.as_str(), SEPARATOR | ";" | "+"))
        .filter(|w| !w.starts_with(['-', '<', '>']))
        .cloned()
}

/// The variables that `read`, `mapfile` or `readarray` on this line set
/// (every name-like word after the builtin, option arguments included).
fn reads_file_into(line: &str) -> impl Iterator<Item = &str> {
    let ident = |w: &str| {
        !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !w.as_bytes()[0].is_ascii_digit()
    };
    let mut reading = false;
    line.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(move |w| {
            if matches!(*w, "read" | "mapfile" | "readarray") {
                reading = true;
                return false;
            }
            // A redirection's file, or the end of the command.
            if matches!(*w, "do" | "then" | "done") || w.starts_with(['<', '>']) {
                reading = false;
            }
            reading && ident(w)
        })
}

/// Whether `name` is a positional parameter (`1`..`9`, `@`, `*`).
fn positional(name: &str) -> bool {
    (name.len() == 1 && matches!(name.as_bytes()[0], b'1'..=b'9' | b'@' | b'*' | b'_')) || name == "REPLY"
}

/// Whether `text` holds `name` as a whole identifier (`$name` included).
fn names(text: &str, name: &str) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    text.match_indices(name).any(|(i, _)| {
        let end = i + name.len();
        let before = i > 0 && ident(bytes[i - 1]);
        let after = bytes.get(end).is_some_and(|b| ident(*b));
        !before && !after
    })
}

/// Whether shell text expands the variable `name` (`$name`, `${name...`).
fn mentions(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices('$').any(|(i, _)| {
        let rest = &text[i + 1..];
        // `${name`, and the indirect `${!name` and length `${#name` forms.
        let rest = rest
            .strip_prefix('{')
            .map_or(rest, |r| r.trim_start_matches(['!', '#']));
        rest.starts_with(name)
            && !rest[name.len()..]
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && bytes.len() > i
    })
}

/// Variables (or other names) with a text each.
type Named = Vec<(String, String)>;

/// [`collect_tainted`] over two whole documents: the tainted variables,
/// and every variable's real value.
fn tainted_variables(real: &Mapping, stand_in: &Mapping) -> (Named, Named) {
    let (mut tainted, mut all) = (Vec::new(), Vec::new());
    collect_tainted(
        &Value::Mapping(real.clone()),
        &Value::Mapping(stand_in.clone()),
        false,
        &mut tainted,
        &mut all,
    );
    (tainted, all)
}

/// The variables whose real value differs from the stand-in's, with the
/// stand-in value: under any `variables:`, a `run:` step's `env:`, and the
/// entries of `parallel: matrix`. Every variable's real value goes to `all`
/// (to follow `B: "$A"` chains).
fn collect_tainted(
    real: &Value,
    stand_in: &Value,
    in_variables: bool,
    out: &mut Vec<(String, String)>,
    all: &mut Vec<(String, String)>,
) {
    match (real, stand_in) {
        (Value::Mapping(real), Value::Mapping(stand_in)) => {
            for ((key, value), (_, neutral)) in real.iter().zip(stand_in) {
                let name = key.as_str().unwrap_or_default();
                if in_variables {
                    let mut text = String::new();
                    collect_text(value, &mut text);
                    all.push((name.to_owned(), text));
                    if value != neutral {
                        let text = match neutral {
                            Value::Mapping(m) => m.get("value").cloned().unwrap_or(Value::Null),
                            other => other.clone(),
                        };
                        out.push((name.to_owned(), text.as_str().unwrap_or_default().to_owned()));
                    }
                } else if name == "matrix"
                    && let (Value::Sequence(entries), Value::Sequence(neutral)) = (value, neutral)
                {
                    for (entry, neutral) in entries.iter().zip(neutral) {
                        collect_tainted(entry, neutral, true, out, all);
                    }
                } else {
                    collect_tainted(value, neutral, matches!(name, "variables" | "env"), out, all);
                }
            }
        }
        (Value::Sequence(real), Value::Sequence(stand_in)) => {
            for (value, neutral) in real.iter().zip(stand_in) {
                collect_tainted(value, neutral, false, out, all);
            }
        }
        (Value::Tagged(real), Value::Tagged(stand_in)) => {
            collect_tainted(&real.value, &stand_in.value, in_variables, out, all);
        }
        _ => {}
    }
}

/// Adds to `tainted` every variable whose value refers to a tainted one
/// (`TARGET: "$FIRST_FILE"`: GitLab expands it to the path), until no more.
fn follow_chains(tainted: &mut Vec<(String, String)>, all: &[(String, String)]) {
    loop {
        let before = tainted.len();
        for (name, text) in all {
            if tainted.iter().any(|(t, _)| t == name) {
                continue;
            }
            if let Some((_, neutral)) = tainted.iter().find(|(t, _)| mentions(text, t)) {
                let neutral = neutral.clone();
                tainted.push((name.clone(), neutral));
            }
        }
        if tainted.len() == before {
            return;
        }
    }
}

/// Every script line of the document, with where it is. With `lists`,
/// the strings of every list (but under `variables`) count as script lines:
/// a `!reference` may splice any of them into a script.
fn collect_scripts(map: &Mapping, at: &mut Vec<String>, script: bool, lists: bool, out: &mut Vec<(String, String)>) {
    fn value(v: &Value, at: &mut Vec<String>, script: bool, lists: bool, out: &mut Vec<(String, String)>) {
        match v {
            Value::String(line) if script => {
                let mut shown = String::new();
                for segment in at.iter() {
                    if !segment.starts_with('[') && !shown.is_empty() {
                        shown.push('.');
                    }
                    shown.push_str(segment);
                }
                out.push((shown, line.clone()));
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    at.push(format!("[{i}]"));
                    value(item, at, script || lists, lists, out);
                    at.pop();
                }
            }
            Value::Mapping(map) => collect_scripts(map, at, script, lists, out),
            Value::Tagged(tagged) => value(&tagged.value, at, script, lists, out),
            _ => {}
        }
    }
    for (key, v) in map {
        let name = key.as_str().unwrap_or_default();
        at.push(name.to_owned());
        value(
            v,
            at,
            script || SCRIPT_KEYS.contains(&name),
            lists && name != "variables",
            out,
        );
        at.pop();
    }
}

/// Refuses a string that nests `$(` deeper than the shell subset reads
/// ([`crate::subset::MAX_DEPTH`]) before the checks that follow each
/// substitution do (their work grows with the square of the depth: 60,000
/// levels ran for minutes). Quotes are not read: an upper bound.
fn shallow_substitutions(doc: &Mapping) -> Result<(), Difference> {
    fn depth(text: &str) -> usize {
        let (mut depth, mut deepest) = (0usize, 0);
        let bytes = text.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'(' if i > 0 && bytes[i - 1] == b'$' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        deepest
    }
    fn walk<'d>(value: &'d Value, at: &mut Vec<&'d str>) -> Result<(), Difference> {
        match value {
            Value::String(text) if text.contains("$(") && depth(text) > crate::subset::MAX_DEPTH => Err(Difference {
                at: at.join("."),
                detail: format!(
                    "nests command substitutions more than {} levels deep, past what childgen reads of a shell \
                     line; write the inner commands on lines of their own",
                    crate::subset::MAX_DEPTH
                ),
                stand_in_text: String::new(),
            }),
            Value::Sequence(items) => items.iter().try_for_each(|item| walk(item, at)),
            Value::Mapping(map) => entries(map, at),
            Value::Tagged(tagged) => walk(&tagged.value, at),
            _ => Ok(()),
        }
    }
    fn entries<'d>(map: &'d Mapping, at: &mut Vec<&'d str>) -> Result<(), Difference> {
        map.iter().try_for_each(|(key, item)| {
            at.push(key.as_str().unwrap_or_default());
            let outcome = walk(item, at);
            at.pop();
            outcome
        })
    }
    entries(doc, &mut Vec::new())
}

/// How many `!reference`s GitLab follows through each other.
const REFERENCE_DEPTH: usize = 10;

/// The value of `doc` a `!reference`'s `path` (`[job, key, ...]`) names,
/// looked up as GitLab does; `None` when `doc` does not hold it.
#[must_use]
pub fn reference_target<'d>(doc: &'d Mapping, path: &Value) -> Option<&'d Value> {
    let mut keys = path.as_sequence()?.iter();
    let mut value = doc.get(keys.next()?)?;
    for key in keys {
        value = value.as_mapping()?.get(key)?;
    }
    Some(value)
}

/// `doc` with every `!reference [job, key, ...]` that names a value of
/// `doc` itself replaced by that value (GitLab resolves them, through up
/// to [`REFERENCE_DEPTH`] references); one that names a job of another
/// fragment or an included file stays a tag.
fn resolve_references(doc: &Mapping) -> Cow<'_, Mapping> {
    fn resolve(value: &Value, doc: &Mapping, depth: usize) -> Value {
        match value {
            Value::Tagged(tagged) if tagged.tag == "reference" => match reference_target(doc, &tagged.value) {
                Some(target) if depth < REFERENCE_DEPTH => resolve(target, doc, depth + 1),
                _ => value.clone(),
            },
            Value::Tagged(tagged) => Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
                tag: tagged.tag.clone(),
                value: resolve(&tagged.value, doc, depth),
            })),
            Value::Sequence(items) => Value::Sequence(items.iter().map(|item| resolve(item, doc, depth)).collect()),
            Value::Mapping(map) => Value::Mapping(
                map.iter()
                    .map(|(key, item)| (key.clone(), resolve(item, doc, depth)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    if !doc.values().any(has_reference) {
        return Cow::Borrowed(doc);
    }
    Cow::Owned(
        doc.iter()
            .map(|(key, value)| (key.clone(), resolve(value, doc, 0)))
            .collect(),
    )
}

/// Whether the document holds a `!reference` tag.
fn has_reference(value: &Value) -> bool {
    match value {
        Value::Tagged(tagged) => tagged.tag == "reference" || has_reference(&tagged.value),
        Value::Sequence(items) => items.iter().any(has_reference),
        Value::Mapping(map) => map.values().any(has_reference),
        _ => false,
    }
}

/// Top-level keys that are GitLab's global keywords; every other top-level
/// key names a job (`default` holds job keywords).
const GLOBAL_KEYS: [&str; 10] = [
    "default",
    "variables",
    "workflow",
    "include",
    "stages",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// How GitLab reads the string value of `key` at `at` (keys and `[i]`
/// segments from the top of the fragment): an allow-list of the places a
/// path's special characters may go. Anywhere else (`image`, `tags`,
/// `secrets`, `id_tokens`, `pages`, `trigger:project`, `coverage`, keywords
/// GitLab adds later...) the value must be the stand-in's.
fn place(at: &[String], key: Option<&str>, literal: bool) -> Reading {
    let mut keys: Vec<&str> = at.iter().map(String::as_str).filter(|s| !s.starts_with('[')).collect();
    keys.extend(key);
    // A hidden job's own keys (`.helpers: commands: [...]`) are read only
    // where a `!reference` takes them, which may be any keyword.
    if keys.first().is_some_and(|k| k.starts_with('.')) && keys.get(1).is_none_or(|k| !KEYWORDS.contains(k)) {
        return Reading::Hidden;
    }
    // A job's keywords (or `default:`'s) start below its name.
    if keys
        .first()
        .is_some_and(|k| *k == "default" || !GLOBAL_KEYS.contains(k))
        && keys.len() > 1
    {
        keys.remove(0);
    }
    let has = |k: &str| keys.contains(&k);
    let under = |outer: &str, inner: &str| keys.iter().skip_while(|k| **k != outer).skip(1).any(|k| *k == inner);
    let last = keys.last().copied().unwrap_or_default();
    let parent = keys.len().checked_sub(2).map(|i| keys[i]);
    // The runner writes every `release:` field into a shell line; a step
    // pastes its `inputs` into its command, and GitLab pastes an included
    // file's or a triggered pipeline's `inputs` wherever that file says
    // `$[[ inputs.name ]]`, in a script too (an input may be named
    // `variables`; a variable may be named `release`).
    let variables = keys.iter().position(|k| *k == "variables");
    if keys[..variables.unwrap_or(keys.len())]
        .iter()
        .any(|k| matches!(*k, "release" | "inputs"))
    {
        return Reading::Command;
    }
    // Variables' names and values (GitLab expands `$NAME` in a value
    // unless it says `expand: false`); `only/except: variables` are
    // expressions.
    if let Some(i) = variables {
        if i > 0 && matches!(keys[i - 1], "only" | "except") {
            return Reading::Expression;
        }
        return if literal && last == "value" {
            Reading::Literal
        } else {
            Reading::Expanded
        };
    }
    match last {
        k if SCRIPT_KEYS.contains(&k) => Reading::Script,
        "entrypoint" | "command" if matches!(parent, Some("image" | "services")) => Reading::Command,
        "if" => Reading::Expression,
        // Report files go to the runner's archiver as `artifacts:paths`
        // do (`junit`, `dotenv`, `coverage_report.path`).
        _ if under("artifacts", "reports") => Reading::Glob,
        "paths" | "exclude" if matches!(parent, Some("artifacts" | "cache")) => Reading::Glob,
        "files" if parent == Some("key") && has("cache") => Reading::Glob,
        // `include:local` and `trigger:include` take `*` patterns too.
        "include" | "local" | "file" | "artifact" if has("include") => Reading::Glob,
        // `rules:changes` and `exists` are patterns too: a deleted file
        // `*.yaml` in `exists` would match the folder's other files.
        "changes" | "exists" => Reading::Glob,
        "paths" if matches!(parent, Some("changes" | "exists")) => Reading::Glob,
        // Job, stage and environment names: data to GitLab, which expands
        // `$NAME`.
        "stage" | "stages" | "dependencies" | "extends" | "resource_group" | "compare_to" => Reading::Expanded,
        "environment" | "name" | "url" | "on_stop" if has("environment") => Reading::Expanded,
        "needs" | "job" if has("needs") => Reading::Expanded,
        "job" if has("include") => Reading::Expanded,
        "name" | "expose_as" if parent == Some("artifacts") => Reading::Expanded,
        "key" | "prefix" | "fallback_keys" if has("cache") => Reading::Expanded,
        "name" if parent == Some("workflow") => Reading::Expanded,
        "env" if has("run") => Reading::Expanded,
        _ if under("parallel", "matrix") => Reading::Expanded,
        _ => Reading::Unlisted,
    }
}

struct Walk {
    at: Vec<String>,
    /// Every list's strings are read as script lines (see [`collect_scripts`]).
    lists: bool,
    /// Variables whose value holds a path's special characters.
    tainted: Vec<String>,
}

impl Walk {
    fn at(&self) -> String {
        if self.at.is_empty() {
            return "the fragment".to_owned();
        }
        let mut out = String::new();
        for segment in &self.at {
            if !segment.starts_with('[') && !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    }

    fn differ(&self, stand_in: &Value, detail: String) -> Difference {
        let mut text = String::new();
        collect_text(stand_in, &mut text);
        Difference {
            at: self.at(),
            detail,
            stand_in_text: text,
        }
    }

    fn mapping(&mut self, real: &Mapping, stand_in: &Mapping) -> Result<(), Difference> {
        if real.len() != stand_in.len() {
            return Err(self.differ(
                &Value::Mapping(stand_in.clone()),
                format!(
                    "adds or removes a key ({} keys where the template gives {})",
                    real.len(),
                    stand_in.len()
                ),
            ));
        }
        let literal = stand_in.get("expand").is_some_and(|e| matches!(e, Value::Bool(false)));
        for ((real_key, real_value), (key, value)) in real.iter().zip(stand_in) {
            let name = key.as_str();
            if real_key != key {
                let keyword = |k: &Value| k.as_str().is_some_and(|k| KEYWORDS.contains(&k));
                if std::mem::discriminant(real_key) != std::mem::discriminant(key) || keyword(real_key) || keyword(key)
                {
                    return Err(self.differ(key, format!("turns the key {} into {}", show(key), show(real_key))));
                }
                // Job names only: below a job, keys are GitLab's keywords or
                // names the runner exports (`variables`, `parallel:matrix`).
                if !self.at.is_empty() {
                    return Err(self.differ(
                        key,
                        format!(
                            "puts a path's special characters into the key {}: below a job, keys are GitLab's \
                             keywords or variable names; only job names may hold them",
                            show(real_key)
                        ),
                    ));
                }
            }
            let reading = place(&self.at, name, literal);
            self.at
                .push(real_key.as_str().map_or_else(|| show(real_key), str::to_owned));
            self.value(real_value, value, reading)?;
            self.at.pop();
        }
        Ok(())
    }

    fn value(&mut self, real: &Value, stand_in: &Value, reading: Reading) -> Result<(), Difference> {
        match (real, stand_in) {
            (Value::Mapping(real), Value::Mapping(stand_in)) => self.mapping(real, stand_in),
            (Value::Sequence(real), Value::Sequence(items)) => {
                // A `!reference` may splice any list into a script.
                let reading = if self.lists && reading == Reading::Expanded && !self.at.iter().any(|s| s == "variables")
                {
                    Reading::Script
                } else {
                    reading
                };
                if real.len() != items.len() {
                    let what = if reading == Reading::Script {
                        "a script line"
                    } else {
                        "an item"
                    };
                    return Err(self.differ(
                        stand_in,
                        format!(
                            "adds or removes {what} ({} items where the template gives {})",
                            real.len(),
                            items.len()
                        ),
                    ));
                }
                for (i, (real, item)) in real.iter().zip(items).enumerate() {
                    self.at.push(format!("[{i}]"));
                    self.value(real, item, reading)?;
                    // Every line, the last one and those of nested lists too:
                    // the runner flattens nested lists and joins
                    // `before_script` and `script` into one script.
                    if reading == Reading::Script
                        && let Value::String(line) = real
                    {
                        if i + 1 < items.len() && leaves_open(line) {
                            return Err(self.differ(
                                item,
                                "sits after a script line that leaves a quote, an expansion, a line continuation or \
                                 a here-document open, so the runner would read the next line inside it"
                                    .to_owned(),
                            ));
                        }
                        if i + 1 == items.len() && open_at_end(line) {
                            return Err(self.differ(
                                item,
                                "leaves a quote or a line continuation open at the end of its list, so the runner \
                                 would read what follows (a nested list's next line, or `script` after \
                                 `before_script`) inside it"
                                    .to_owned(),
                            ));
                        }
                    }
                    self.at.pop();
                }
                Ok(())
            }
            (Value::Tagged(real), Value::Tagged(tagged)) => {
                if real.tag != tagged.tag {
                    return Err(self.differ(stand_in, format!("turns the tag {} into {}", tagged.tag, real.tag)));
                }
                self.value(&real.value, &tagged.value, reading)
            }
            (Value::String(real), Value::String(text)) => match string(real, text, reading) {
                None => {
                    // GitLab expands the variable there (`image:
                    // registry.example.com/$F`, `vault: ci/$F`).
                    let named = matches!(reading, Reading::Unlisted | Reading::Command)
                        .then(|| {
                            expanded_references(real).find(|((name, _), _)| self.tainted.iter().any(|t| t == name))
                        })
                        .flatten();
                    match named {
                        None => Ok(()),
                        Some(((name, _), _)) => Err(self.differ(
                            stand_in,
                            format!(
                                "names the variable `{name}`, which holds a changed path's special characters, \
                                 where GitLab would expand it and the characters may not go (see the places \
                                 they may reach in docs/templates.md)"
                            ),
                        )),
                    }
                }
                Some(detail) => Err(self.differ(stand_in, detail)),
            },
            (real, stand_in) if std::mem::discriminant(real) == std::mem::discriminant(stand_in) => {
                if real == stand_in {
                    Ok(())
                } else {
                    Err(self.differ(
                        stand_in,
                        format!("turns the value {} into {}", show(stand_in), show(real)),
                    ))
                }
            }
            (real, stand_in) => Err(self.differ(
                stand_in,
                format!(
                    "turns {} into {}",
                    crate::merge::kind(stand_in),
                    crate::merge::kind(real)
                ),
            )),
        }
    }
}

/// What a path changed in one string, read the way GitLab or the shell reads it.
fn string(real: &str, stand_in: &str, reading: Reading) -> Option<String> {
    if real == stand_in {
        return None;
    }
    match reading {
        Reading::Literal => None,
        Reading::Command => Some(
            "reaches a `release:` field, `inputs` (of a `run:` step, an `include` or a `trigger`), an image's \
             `entrypoint` or a service's `command`, which GitLab, the step or the container runs as shell code \
             (the runner writes each `release:` field into a shell line in double quotes; a step pastes its \
             inputs into its command; GitLab pastes an include's inputs as text wherever the file says \
             `$[[ inputs.name ]]`, in scripts too); keep paths out of them, or only plain names"
                .to_owned(),
        ),
        Reading::Glob => {
            // The runner expands `$NAME` in these with the job's variables
            // before it matches (and logs a pattern that matched nothing).
            if dollar_references(real) != dollar_references(stand_in) {
                return Some(
                    "adds a `$` to a file pattern (`artifacts:`, `cache:`, `rules:changes` or `exists`, \
                     `include`), which GitLab or the runner expands with the job's variables (a commit title, a \
                     secret) before it matches, and logs"
                        .to_owned(),
                );
            }
            // (`\` escapes the next character in GitLab's `File.fnmatch?`.)
            let globs = |text: &str| {
                text.bytes()
                    .filter(|b| matches!(b, b'*' | b'?' | b'[' | b'{' | b'\\'))
                    .count()
            };
            (globs(real) > globs(stand_in)).then(|| {
                "puts a path's `*`, `?`, `[`, `{` or `\\` into a file pattern (`artifacts:`, `cache:`, `rules:changes` \
                 or `exists`, `include`), where it would match other files (`{..,x}/.git/config`); list folders \
                 the template names, or rename the file"
                    .to_owned()
            })
        }
        Reading::Expression => Some("changes a CI/CD expression (`if:`); match on variables, not on paths".to_owned()),
        Reading::Hidden => Some(
            "puts a path's special characters into a hidden job's own key, which a `!reference` may splice \
             into any keyword (a script, `rules:if`, `tags`); keep paths out of it, or write them where they \
             are used"
                .to_owned(),
        ),
        Reading::Unlisted => Some(
            "puts a path's special characters where childgen does not let them go: they may reach script lines, \
             `variables`, job, stage and environment names and URLs, `needs`, `dependencies`, `extends`, \
             `rules:changes`/`exists`, artifacts and cache patterns, names and keys, and `include` paths; keep \
             paths out of this keyword, or rename the file"
                .to_owned(),
        ),
        Reading::Expanded => {
            let real_refs = dollar_references(real);
            let refs = dollar_references(stand_in);
            if real_refs == refs {
                return None;
            }
            let added = real_refs.iter().find(|r| !refs.contains(r)).copied().unwrap_or("$");
            Some(format!(
                "adds `{added}`, which GitLab would expand (a variable's value can say `expand: false`)"
            ))
        }
        Reading::Script => {
            let real_words = shell_words(real);
            let words = shell_words(stand_in);
            if same_shape(&real_words, &words) {
                // Nor which programs run (`{% if " " in f.path %}env{% else
                // %}echo{% endif %}`): the names that are not paths.
                let programs = |line: &str| {
                    crate::subset::command_names(line)
                        .ok()
                        .map(|names| names.into_iter().filter(|n| !n.contains('/')).collect::<Vec<_>>())
                };
                return match (programs(real), programs(stand_in)) {
                    (Some(real), Some(stand_in)) if real != stand_in => Some(format!(
                        "runs `{}` where the same template, given the path with `_` for its special characters, \
                         runs `{}`: a path may not choose the program",
                        real.join("`, `"),
                        stand_in.join("`, `")
                    )),
                    _ => None,
                };
            }
            Some(describe_shell(&real_words, &words))
        }
    }
}

/// The references GitLab would expand: `$NAME`, `${NAME}`, `$$`, a lone `$`,
/// and the Windows form `%NAME%`.
fn dollar_references(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut refs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'$' => {
                i += 1;
                match bytes.get(i) {
                    Some(b'$') => i += 1,
                    Some(b'{') => i = text[i..].find('}').map_or(bytes.len(), |end| i + end + 1),
                    _ => {
                        while i < bytes.len() && name(bytes[i]) {
                            i += 1;
                        }
                    }
                }
                refs.push(&text[start..i]);
            }
            b'%' => {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|&b| !name(b))
                    .map_or(bytes.len(), |n| i + 1 + n);
                if end > i + 1 && bytes.get(end) == Some(&b'%') {
                    refs.push(&text[start..=end]);
                    i = end + 1;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    refs
}

/// One token of a shell command line, as far as its structure goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// A word: literal runs and active parts, in order.
    Word(Vec<Part<'a>>),
    /// A control or redirection operator (`;`, `&&`, `|`, `>`, `(`, ...).
    Operator(&'a str),
    /// A line break (a command separator).
    Newline,
    /// A `#` comment, compared as it is (what a shell takes for a comment
    /// differs between contexts).
    Comment(&'a str),
    /// Everything after a line that opens a here-document, kept whole.
    HereDocument(&'a str),
}

/// A piece of a shell word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    /// Text the shell takes literally (quoted, escaped, or plain letters).
    Literal,
    /// Text the shell acts on: an expansion, a command substitution, an
    /// unquoted special character, an unterminated quote.
    Active(&'a str),
    /// A parameter expansion outside double quotes (`$DIR`, `${DIR}`): the
    /// shell splits its value into words and expands globs in it.
    Unquoted(&'a str),
    /// `"$DIR"` or `"${DIR}"`: the value is one word, taken literally.
    Quoted(&'a str),
}

/// Splits a command line into the tokens that decide what it does. The model
/// is POSIX sh and bash, and errs towards "active": unquoted characters other
/// than ASCII letters, digits and `._/:+%@-` count as special, and a
/// here-document's body is compared whole.
#[must_use]
pub fn shell_words(line: &str) -> Vec<Token<'_>> {
    if arithmetic(line) {
        return vec![Token::Word(vec![Part::Active(line)])];
    }
    tokens_of(line)
}

/// [`shell_words`] without comparing evaluating lines whole.
fn tokens_of(line: &str) -> Vec<Token<'_>> {
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let mut word: Option<Vec<Part>> = None;
    let mut here_document = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' => {
                tokens.extend(word.take().map(Token::Word));
                i += 1;
            }
            b'\n' => {
                tokens.extend(word.take().map(Token::Word));
                tokens.push(Token::Newline);
                i += 1;
                if here_document {
                    tokens.push(Token::HereDocument(&line[i..]));
                    return tokens;
                }
            }
            b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => {
                tokens.extend(word.take().map(Token::Word));
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')') {
                    i += 1;
                }
                let operator = &line[start..i];
                here_document |= operator.contains("<<");
                tokens.push(Token::Operator(operator));
            }
            b'#' if word.is_none() => {
                let end = line[i..].find('\n').map_or(bytes.len(), |end| i + end);
                tokens.push(Token::Comment(&line[i..end]));
                i = end;
            }
            b'\'' => {
                if let Some(end) = line[i + 1..].find('\'') {
                    push(&mut word, Part::Literal);
                    i += end + 2;
                } else {
                    push(&mut word, Part::Active(&line[i..]));
                    i = bytes.len();
                }
            }
            b'"' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            push(&mut word, Part::Active("\""));
                            break;
                        }
                        Some(b'"') => {
                            push(&mut word, Part::Literal);
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            push(&mut word, Part::Literal);
                            i = next_char(line, i + 1);
                        }
                        Some(b'$') => {
                            let end = expansion_end(line, i);
                            let text = &line[i..end];
                            // `"$X"`, `"${X}"`, and an array's items `"${X[@]}"`
                            // (each item one word) or one item `"${X[0]}"`.
                            let inner = text
                                .trim_start_matches("${")
                                .trim_start_matches('$')
                                .trim_end_matches('}');
                            // `"${F%.yml}"`: a pattern operator on a plain word.
                            let inner = match inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                                Some(at)
                                    if text.starts_with("${")
                                        && pattern_operator_end(&format!("{}}}", &inner[at..])).is_some() =>
                                {
                                    &inner[..at]
                                }
                                _ => inner,
                            };
                            let name = inner.split_once('[').map_or(inner, |(name, index)| {
                                let index = index.strip_suffix(']').unwrap_or("?");
                                if index == "@" || (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())) {
                                    name
                                } else {
                                    "?"
                                }
                            });
                            let simple = text.len() > 1
                                && !name.is_empty()
                                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                            push(&mut word, if simple { Part::Quoted(text) } else { Part::Active(text) });
                            i = end;
                        }
                        Some(b'`') => {
                            let end = backtick_end(line, i);
                            push(&mut word, Part::Active(&line[i..end]));
                            i = end;
                        }
                        Some(_) => {
                            push(&mut word, Part::Literal);
                            i = next_char(line, i);
                        }
                    }
                }
            }
            b'\\' => {
                push(&mut word, Part::Literal);
                i = next_char(line, i + 1);
            }
            b'$' => {
                let end = expansion_end(line, i);
                let text = &line[i..end];
                let parameter = !text.starts_with("$(") && !text.starts_with("$'") && text.len() > 1;
                push(
                    &mut word,
                    if parameter {
                        Part::Unquoted(text)
                    } else {
                        Part::Active(text)
                    },
                );
                i = end;
            }
            b'`' => {
                let end = backtick_end(line, i);
                push(&mut word, Part::Active(&line[i..end]));
                i = end;
            }
            c if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b':' | b'+' | b'%' | b'@' | b'-') => {
                push(&mut word, Part::Literal);
                i += 1;
            }
            _ => {
                let end = next_char(line, i);
                push(&mut word, Part::Active(&line[i..end]));
                i = end;
            }
        }
    }
    tokens.extend(word.take().map(Token::Word));
    tokens
}

/// Adds a part to the word being read, merging literal runs.
fn push<'a>(word: &mut Option<Vec<Part<'a>>>, part: Part<'a>) {
    let parts = word.get_or_insert_with(Vec::new);
    if !(part == Part::Literal && parts.last() == Some(&Part::Literal)) {
        parts.push(part);
    }
}

/// For the text after `${NAME`: where a pattern or default operator with a
/// plain word ends (`%.yml}`, `##*/}`, `:-none}`, `// /_}`, `,,}`), just
/// past its `}`. Such an expansion inside double quotes is one word that
/// nothing evaluates; a word with `$`, a backtick, a quote or a bracket is
/// not plain.
fn pattern_operator_end(rest: &str) -> Option<usize> {
    let operator = [
        "%%", "##", "//", ",,", "^^", ":-", ":+", ":=", ":?", "%", "#", "/", ",", "^", "-", "+", "=", "?",
    ]
    .into_iter()
    .find(|op| rest.starts_with(op))?;
    let word_end = rest.find('}')?;
    let word = &rest[operator.len()..word_end];
    (!word.contains(['$', '`', '"', '\'', '(', ')', '{', '\\'])).then_some(word_end + 1)
}

/// The byte after the character at `i` (or the end).
fn next_char(line: &str, i: usize) -> usize {
    line[i.min(line.len())..]
        .chars()
        .next()
        .map_or(line.len(), |c| i + c.len_utf8())
}

/// The end of the expansion starting with the `$` at `i`.
fn expansion_end(line: &str, i: usize) -> usize {
    let bytes = line.as_bytes();
    let Some(&next) = bytes.get(i + 1) else {
        return i + 1;
    };
    let name_end = |from: usize| {
        let mut j = from;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        j
    };
    match next {
        // `${NAME}` alone; any other `${...}`, `$(...)` and `$'...'` may hold
        // quotes, brackets and escapes whose reading differs between shells:
        // the rest of the line is compared as it is.
        b'{' => {
            let end = name_end(i + 2);
            // `${NAME[@]}` and `${NAME[0]}` end where they close, too.
            let index = bytes.get(end) == Some(&b'[') && {
                let digits = bytes[end + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let close = end + 1 + if bytes.get(end + 1) == Some(&b'@') { 1 } else { digits };
                close > end + 1 && bytes.get(close) == Some(&b']') && bytes.get(close + 1) == Some(&b'}')
            };
            if end > i + 2 && bytes.get(end) == Some(&b'}') {
                end + 1
            } else if end > i + 2
                && let Some(close) = pattern_operator_end(&line[end..])
            {
                end + close
            } else if end > i + 2 && index {
                end + bytes[end..].iter().position(|b| *b == b'}').unwrap_or(0) + 1
            } else {
                bytes.len()
            }
        }
        b'(' | b'\'' | b'"' => bytes.len(),
        b if b.is_ascii_alphabetic() || b == b'_' => name_end(i + 1),
        b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-' | b'0'..=b'9' => i + 2,
        _ => i + 1,
    }
}

/// A command substitution in backticks: the rest of the line is compared
/// as it is (nested quoting inside backticks is read differently by shells).
fn backtick_end(line: &str, _: usize) -> usize {
    line.len()
}

/// Lines where bash evaluates text, which runs `$(...)` even from inside
/// quotes or a variable's value: arithmetic (`((...))`, `$[...]`,
/// `[[ a -eq b ]]`, `let`), array subscripts (`name[...]=`, `${name[...]}`),
/// indirect expansion (`${!name}`), names given to builtins (`read`, `unset`,
/// `mapfile`, `wait -p`, `test -v`, `printf -v`, `declare`...), and `eval`,
/// `trap`, `bind`, `complete`, `compgen`, which run text as commands. Such a
/// line is compared as it is, and no variable that holds a path may appear
/// in it.
fn arithmetic(line: &str) -> bool {
    arithmetic_with(line, &[])
}

/// The builtins that evaluate only the names they are given, not the
/// values (`export NAME="$F"` is safe; `export "$F"` is not), nor the files
/// they read from (`read -r line < "$F"`). Not `declare`, `typeset` or
/// `local` (on an existing array, `declare arr="$F"` runs the value as a
/// compound assignment), nor `mapfile` (its `-C` callback runs code).
const NAMING: [&str; 3] = ["export", "readonly", "read"];

/// Whether a line that evaluates text only because it names one of the
/// [`NAMING`] builtins gives `name` (a variable holding a path) to one as a
/// name: in a word before its `=`, as a word of its own, or anywhere when
/// the options give the integer or name-reference attribute.
fn named_by_builtin(line: &str, name: &str) -> bool {
    let words = dequoted_words(line);
    let Some(at) = words.iter().position(|(w, _)| NAMING.contains(&w.as_str())) else {
        return true;
    };
    let mut given = Vec::new();
    for (word, _) in &words[at + 1..] {
        if word.starts_with(['<', '>']) || matches!(word.as_str(), "do" | "then" | "||" | "&&") {
            break;
        }
        if let Some(options) = word.strip_prefix('-') {
            if options.contains(['i', 'n', 'a', 'A']) {
                return mentions(line, name) || names(line, name);
            }
            continue;
        }
        given.push(word.split_once('=').map_or(word.as_str(), |(n, _)| n));
    }
    // `export F=...` names the variable itself, not its value; a subscript
    // (`arr[F]=`) evaluates its bare names.
    given
        .iter()
        .any(|n| mentions(n, name) || n.split_once('[').is_some_and(|(_, sub)| names(sub, name)))
}

fn arithmetic_with(line: &str, ignore: &[&str]) -> bool {
    // A here-document's body is compared whole elsewhere; its lines are not commands.
    let commands = match line.find('\n') {
        Some(end) if line.contains("<<") && !line.contains("<<<") => &line[..end],
        _ => line,
    };
    let dequoted = dequoted_words(commands);
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`'))
        .filter(|w| !w.is_empty())
        .collect();
    // `[[ ]]` evaluates arithmetic only around its arithmetic operators, and
    // `-v`/`-R` take a name.
    let double_bracket = line.contains("[[")
        && words
            .iter()
            .any(|w| matches!(*w, "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" | "-v" | "-R"));
    line.contains("((")
        || double_bracket
        || line.contains("$[")
        || line.contains("${!")
        || line.contains("]=")
        || line.contains("]+=")
        || subscripted_expansion(line)
        || substring_expansion(line)
        || words
            .iter()
            .copied()
            .chain(dequoted.iter().map(|(w, _)| w.as_str()))
            .filter(|w| !ignore.contains(w))
            .any(|w| {
                matches!(
                    w,
                    "let"
                        | "declare"
                        | "typeset"
                        | "local"
                        | "readonly"
                        | "export"
                        | "eval"
                        | "read"
                        | "mapfile"
                        | "readarray"
                        | "unset"
                        | "wait"
                        | "trap"
                        | "bind"
                        | "complete"
                        | "compgen"
                )
            })
        || words
            .windows(2)
            .any(|pair| matches!(pair[0], "test" | "[" | "printf") && pair[1].starts_with("-v"))
        || dequoted
            .windows(2)
            .any(|pair| matches!(pair[0].0.as_str(), "test" | "[" | "printf") && pair[1].0.starts_with("-v"))
        || dequoted.iter().any(|(_, indirect)| *indirect)
}

/// Whether `line` holds a substring expansion (`${X:F}`, `${@:F}`,
/// `${X: -F}`, `${X:0:F}`): bash evaluates the offset and the length as
/// arithmetic. `${X:-d}`, `${X:=d}`, `${X:?m}` and `${X:+a}` are not.
fn substring_expansion(line: &str) -> bool {
    line.match_indices("${").any(|(i, _)| {
        let rest = line[i + 2..].trim_start_matches(['!', '#']);
        let name = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'*'))
            .count();
        let mut after = &rest[name..];
        if after.starts_with('[') {
            after = after.find(']').map_or("", |end| &after[end + 1..]);
        }
        name > 0
            && after
                .strip_prefix(':')
                .is_some_and(|r| !r.starts_with(['-', '=', '?', '+']))
    })
}

/// Whether `line` holds `${name[`, `${!name[` or `${#name[`: an array
/// subscript, which bash evaluates as arithmetic.
fn subscripted_expansion(line: &str) -> bool {
    line.match_indices("${").any(|(i, _)| {
        let rest = line[i + 2..].trim_start_matches(['!', '#']);
        let name = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        // `[@]`, `[*]` and a literal index are not evaluated as code.
        let subscript = rest[name..]
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(s, _)| s);
        name > 0
            && subscript
                .is_none_or(|s| !(s == "@" || s == "*" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))))
            && rest[name..].starts_with('[')
    })
}

/// Whether the last line of a script list leaves a quote or a line
/// continuation open: what follows it (the next nested list's first line,
/// or `script` after `before_script`) would be read inside it.
fn open_at_end(line: &str) -> bool {
    ends_open(line, line.contains("<<") && !line.contains("<<<"))
}

/// Whether `line` ends in a line continuation or leaves a quote open, read
/// up to a here-document's body when `here` says it starts one.
fn ends_open(line: &str, here: bool) -> bool {
    let trailing = line.len() - line.trim_end_matches('\\').len();
    let before_body = if here {
        line.split('\n').next().unwrap_or(line)
    } else {
        line
    };
    trailing % 2 == 1 || open_quote(before_body)
}

/// Whether a quote or a backtick is left open at the end of `text`, read the
/// way the shell reads it: backslashes escape outside single quotes, and a
/// `#` that starts a word starts a comment up to the end of its line.
/// Callers pass only the text before a here-document's body.
fn open_quote(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut backtick = false;
    let mut previous = ' ';
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => {
                chars.next();
            }
            (Some('"') | None, '`') => backtick = !backtick,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if previous.is_whitespace() || matches!(previous, ';' | '&' | '|' | '(' | ')') => {
                // A comment: skip to the end of its line.
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
            }
            _ => {}
        }
        previous = c;
    }
    quote.is_some() || backtick
}

/// Whether a script item leaves a quote, an expansion, a line continuation or
/// a here-document open: the runner joins a job's items into one script, so
/// the next item would be read inside it.
fn leaves_open(line: &str) -> bool {
    let tokens = shell_words(line);
    let here = tokens
        .iter()
        .any(|t| matches!(t, Token::Operator(op) if op.contains("<<") && !op.contains("<<<")));
    if here && !tokens.iter().any(|t| matches!(t, Token::HereDocument(_))) {
        return true;
    }
    // Read apart from the tokens, which see a line that bash evaluates
    // (`export A="...`) as one opaque word.
    if ends_open(line, here) {
        return true;
    }
    tokens.iter().any(|token| match token {
        Token::Word(parts) => parts.iter().any(|part| match part {
            // Quotes and backticks are read by `ends_open`'s scan of the
            // whole line (the tokenizer reads an expansion with operators to
            // the end of the line, closing quote included); here, an
            // expansion's brackets must close.
            Part::Active(text) | Part::Unquoted(text) => {
                (text.starts_with("$(") || text.starts_with("${"))
                    && text.matches(['(', '{']).count() != text.matches([')', '}']).count()
            }
            _ => false,
        }),
        _ => false,
    })
}

/// Same words, operators and active parts; literal text may differ.
fn same_shape(real: &[Token], stand_in: &[Token]) -> bool {
    real == stand_in
}

/// What the real line does that the stand-in line does not.
fn describe_shell(real: &[Token], stand_in: &[Token]) -> String {
    let first = real.iter().zip(stand_in).position(|(a, b)| a != b);
    let Some(a) = first
        .or((real.len() > stand_in.len()).then_some(stand_in.len()))
        .and_then(|i| real.get(i))
    else {
        return "changes how the shell splits the command into words".to_owned();
    };
    let others: &[Part] = match first.and_then(|i| stand_in.get(i)) {
        Some(Token::Word(parts)) => parts,
        _ => &[],
    };
    match a {
        Token::Word(parts) => parts
            .iter()
            .find(|p| !matches!(p, Part::Literal) && !others.contains(p))
            .map_or_else(
                || "changes how the shell splits the command into words".to_owned(),
                |p| match p {
                    Part::Active(text) | Part::Unquoted(text) | Part::Quoted(text) => {
                        format!("adds {}, which the shell would act on", code(&clip(text)))
                    }
                    Part::Literal => String::new(),
                },
            ),
        Token::Operator(op) => format!("adds the shell operator `{op}`"),
        Token::Newline => "adds a line break, which starts another shell command".to_owned(),
        Token::Comment(_) => "adds or changes a `#` comment, which hides the rest of the shell command".to_owned(),
        Token::HereDocument(_) => "changes a here-document's body, which the shell expands".to_owned(),
    }
}

/// At most 60 characters of `text`, for messages.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// `text` as Markdown-style code, for messages.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// A scalar for messages.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", clip(s)),
        other => serde_yaml::to_string(other).map_or_else(|_| "?".to_owned(), |s| clip(s.trim_end())),
    }
}

/// Every string under `value` (keys included), newline-separated, up to 64 KiB.
fn collect_text(value: &Value, out: &mut String) {
    const LIMIT: usize = 64 * 1024;
    if out.len() > LIMIT {
        return;
    }
    match value {
        Value::String(s) => {
            let _ = writeln!(out, "{s}");
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Mapping(map) => {
            for (k, v) in map {
                collect_text(k, out);
                collect_text(v, out);
            }
        }
        Value::Tagged(tagged) => collect_text(&tagged.value, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Mapping {
        serde_yaml::from_str(text).unwrap()
    }

    fn check(real: &str, stand_in: &str) -> Result<(), String> {
        match compare(&doc(real), &doc(stand_in), &Known::default()) {
            Ok(None) => Ok(()),
            Ok(Some(d)) | Err(d) => Err(format!("{}: {}", d.at, d.detail)),
        }
    }

    #[test]
    fn evaluating_lines_and_open_quotes() {
        for line in [
            "seen[\"$F\"]=1",
            "a[x]+=1",
            "echo $[ 1 + 2 ]",
            "echo \"${!F}\"",
            "echo \"${seen[$F]}\"",
            "echo ${#arr[$i]}",
            "test -v \"$F\"",
            "[ -v x ] && printf -v out '%s' y",
            "read -r line",
            "eval \"$F\"",
            "x=1; unset F",
            "echo \"${X:F}\" \"${@:F}\"",
            "echo \"${X: -F}\"",
            "\"eval\" \"$F\"",
            "\\eval x",
            "builtin 'eval' x",
            "cmd=eval; $cmd \"$F\"",
            "x | \"$cmd\" y",
            "'test' -v x",
        ] {
            assert!(arithmetic(line), "{line}");
        }
        for line in [
            "cp -v a b",
            "grep -v x f",
            "echo \"[a]\" = b",
            "ls ${HOME}/x",
            "echo \"${F}\"",
            "echo \"${F:-default}\" \"${F:=x}\" \"${F:+set}\"",
            "./check \"$F\" --out \"$OUT\"",
            "echo \"evaluate: $F\"",
        ] {
            assert!(!arithmetic(line), "{line}");
        }
        for line in [
            "export A=\"x",
            "echo 'it",
            "echo \"a\\\"",
            "echo `x",
            "echo \"$(echo \")\"",
        ] {
            assert!(open_quote(line), "{line}");
        }
        for line in [
            "echo \"$(echo a)\"",
            "echo 'a\"b' \"c'd\"",
            "echo a # it's a comment",
            "echo a\\'b",
            "printf '%s\\n' x",
            "echo ok\n# don't\necho done",
        ] {
            assert!(!open_quote(line), "{line}");
        }
    }

    #[test]
    fn neutral_bytes_are_letters_digits_and_four_marks() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-');
            assert_eq!(is_neutral_byte(b), expected, "{b:#x}");
        }
    }

    #[test]
    fn what_leaves_a_line_open_is_found_and_nothing_else() {
        for line in [
            "echo $(ls",
            "echo \"abc",
            "X=\"${X:-$F",
            "echo 'a",
            "echo `ls",
            "cat <<EOF",
            "a \\",
        ] {
            assert!(leaves_open(line), "{line}");
        }
        for line in [
            "X=\"${X:-$F}\"",
            "X=\"$(printf %s \"$F\")\"",
            "echo \"$(ls)\" 'a'",
            "cat <<EOF\nx\nEOF",
        ] {
            assert!(!leaves_open(line), "{line}");
        }
    }

    #[test]
    fn commands_that_run_text_as_code_are_found() {
        for line in [
            "sh -c \"ls -- $F\"",
            "bash -ec 'x'",
            "echo \"$F\" | bash",
            "bash -s < x",
            "awk '{print}' f",
            "python3 -c 'print(1)'",
            "perl -ne 'print' f",
            "node --eval x",
            "ssh host \"ls $F\"",
            "env -S 'sh -c x'",
            "source <(printf x)",
            ". /dev/stdin <<< x",
            "xargs -I{} sh -c 'echo {}' < f",
        ] {
            assert!(runs_inline_code(line), "{line}");
        }
        for line in [
            "bash scripts/deploy.sh \"$F\"",
            "python3 -m pip install -r requirements.txt",
            "python scripts/check.py -c config.yml \"$F\"",
            "awk -f prog.awk \"$F\"",
            "source ./env.sh",
            "./check \"$F\"",
        ] {
            assert!(!runs_inline_code(line), "{line}");
        }
        assert_eq!(
            written_files("printf '%s' \"$F\" >> list; echo x | tee out"),
            ["list", "out"]
        );
        assert_eq!(
            written_files("sort -u -o changed.txt; cp a b/c"),
            ["changed.txt", "a", "b/c"]
        );
        // Each operand of `cp` may be its target (`-t`), up to the command's end.
        assert_eq!(
            written_files("cp -t dir list.txt || true; find . -exec cp {} ./run.sh \\; -print"),
            ["dir", "list.txt", "{}", "./run.sh"]
        );
        assert!(written_files("make test 2>&1 >/dev/null; echo \"==> $F\" 'a > b'").is_empty());
        let written = ["gen.py".to_owned(), "gen.sh".to_owned(), "run.sh".to_owned()];
        for line in [
            "python3 -u gen.py x",
            ". ./gen.sh",
            "./run.sh",
            "bash g.s*",
            "bash \"$s\"",
            "eval x",
        ] {
            assert!(runs_code_from(line, &written, false), "{line}");
        }
        for line in [
            "git diff --stat",
            "sh scripts/upload.sh gen.py",
            "python3 -m pytest",
            "make test",
        ] {
            assert!(!runs_code_from(line, &written, false), "{line}");
        }
        for text in [
            "cat ./pro?/x",
            "ls /[p]roc",
            "cat /pro[c]",
            "x /{p,q}roc",
            "x $'\\x70'",
            "a{b..c}",
        ] {
            assert!(may_name_environment_file(text), "{text}");
        }
        for text in [
            "needs: [build-x]\nscript: [\"make\"]",
            "a: {b: c, d: e}",
            "echo \"${A},${B}\"",
        ] {
            assert!(!may_name_environment_file(text), "{text}");
        }
        for word in ["./pro?/self/e*n", "/*/*/*", "pro[c]", "/x/../{p,q}roc", "../../proc"] {
            assert!(names_environment_file(word, false, false), "{word}");
        }
        for word in ["./data/*.csv", "dist/*", "e*n", "./proc-tools/x", "a/proc"] {
            assert!(!names_environment_file(word, false, false), "{word}");
        }
        assert!(names_environment_file("./e*n", false, true) && names_environment_file("/$a$b/x", true, false));
        // (`sed`'s script counts too: more files than written is safe.)
        assert_eq!(written_files("printf x >&3; sed -i 1a run.sh"), ["&3", "1a", "run.sh"]);
        assert_eq!(
            written_files("cat a >&gen.sh; cat b >& \"x.sh\" 2>&1 >&-"),
            ["gen.sh", "x.sh"]
        );
        assert!(feeds_a_shell("xargs -I{} sh -c 'echo {}' < f") && feeds_a_shell("cat f | bash"));
        assert!(!feeds_a_shell("xargs rm -- < f") && !feeds_a_shell("git diff | cat"));
        assert_eq!(
            reads_file_into("while IFS= read -r n; do echo; done < f").collect::<Vec<_>>(),
            ["n"]
        );
        assert_eq!(reads_file_into("mapfile -t L < f").collect::<Vec<_>>(), ["L"]);
    }

    #[test]
    fn assignments_and_integer_declarations_are_found() {
        assert_eq!(
            assigned_names("FILE='a b'; export OUT=\"$F\" X+=1 arr[2]=y"),
            ["FILE", "OUT", "X", "arr"]
        );
        assert_eq!(assigned_names("for f in \"$F\"; do echo; done"), ["f"]);
        assert_eq!(assigned_names(": \"${X:=$F}\" ${Y=a} ${Z:-b}"), ["X", "Y"]);
        assert!(assigned_names("echo a == b; ./x --opt=1").is_empty());
        assert!(assigned_names("IFS= read -r n").is_empty());
        assert!(declares_integer("declare -i COUNT=0"));
        assert!(declares_integer("local -ri N"));
        assert!(!declares_integer("declare -r N=1"));
        assert!(!declares_integer("grep -i x f"));
        assert!(special_variable("OPTIND") && special_variable("BASH_ENV") && special_variable("LD_PRELOAD"));
        assert!(!special_variable("FILE") && !special_variable("MODEL_PATH"));
    }

    fn chosen(texts: &[&str]) -> Chosen {
        let mut chosen = Chosen::default();
        for text in texts {
            chosen.add(text);
        }
        chosen
    }

    #[test]
    fn chosen_words_are_marked_where_they_stand_on_their_own() {
        let chosen = chosen(&["p1", "pipelines/p1/s1/Model.py"]);
        assert_eq!(
            chosen
                .mark("cd pipelines/p1/s1 && echo P1 model p10 xp1 p1_x")
                .as_deref(),
            Some("cd zzzzzzzzz/z9/z9 && echo Z9 zzzzz p10 xp1 p1_x")
        );
        // The path, its parts, and a part's text before a `.`.
        assert_eq!(
            chosen.mark("pipelines/p1/s1/Model.py").as_deref(),
            Some("zzzzzzzzz/z9/z9/Zzzzz.zz")
        );
        assert_eq!(chosen.mark("echo hello"), None);
        assert_eq!(Chosen::default().mark("p1"), None);
    }

    #[test]
    fn groups_that_differ_only_in_plain_words_share_a_key() {
        let known = {
            let mut known = Known::default();
            known.add("deploy-{{ p }}:\n  script: [./deploy.sh {{ p }}]");
            known
        };
        let fragment = |p: &str| doc(&format!("deploy-{p}:\n  script: [./deploy.sh {p}]\n"));
        let key = |p: &str| chosen(&[p]).key(&fragment(p), &known);
        assert!(key("p001").is_some_and(|k| !k.is_empty()));
        assert_eq!(key("p001"), key("p002"));
        assert_ne!(key("p001"), key("p0001"));
        // A word the checks or the template compare text with decides by
        // itself: no key, the fragment is checked.
        assert_eq!(key("sed"), None);
        assert_eq!(key("python3"), None);
        assert_eq!(key("deploy"), None);
        // A fragment without chosen words has nothing to check.
        assert_eq!(chosen(&["p001"]).key(&fragment("x"), &known).as_deref(), Some(&[][..]));
        // Which words are the same is part of the key.
        let twice = |a: &str, b: &str| {
            chosen(&[a, b]).key(&doc(&format!("j:\n  script: [./run.sh {a} {b}]\n")), &Known::default())
        };
        assert_ne!(twice("p001", "p001"), twice("p001", "p002"));
    }

    #[test]
    fn the_words_the_checks_compare_with_are_telling() {
        let known = Known::default();
        // From the start, the middle and the end of both files' code.
        for word in [
            "after_script",
            "eval",
            "sed",
            "python3",
            "opts",
            "c",
            "printf",
            "direnv",
            "nix",
        ] {
            assert!(telling(word, 0, &known), "{word}");
        }
        for word in ["p001", "qwxq", "zzzz"] {
            assert!(!telling(word, 0, &known), "{word}");
        }
        let mut known = Known::default();
        known.add("j-{{ p }}: [./deploy.sh]");
        assert!(telling("deploy.sh", 0, &known));
    }

    #[test]
    fn places_follow_the_allow_list() {
        let read = |at: &str, literal: bool| {
            // A hidden job's name keeps its dot.
            let mut segments: Vec<String> = match at.strip_prefix('.') {
                Some(rest) => rest.split('.').map(str::to_owned).collect(),
                None => at.split('.').map(str::to_owned).collect(),
            };
            if at.starts_with('.') {
                segments[0].insert(0, '.');
            }
            let key = segments.pop();
            place(&segments, key.as_deref(), literal)
        };
        for (at, reading) in [
            ("job.script", Reading::Script),
            ("default.before_script", Reading::Script),
            ("job.hooks.pre_get_sources_script", Reading::Script),
            ("job.variables.FILE", Reading::Expanded),
            ("variables.FILE.description", Reading::Expanded),
            ("job.rules.[0].variables.X", Reading::Expanded),
            ("job.only.variables", Reading::Expression),
            ("job.rules.[0].if", Reading::Expression),
            ("job.release.description", Reading::Command),
            ("job.run.[0].inputs.message", Reading::Command),
            ("include.[0].inputs.file", Reading::Command),
            ("include.[0].inputs.variables", Reading::Command),
            ("job.variables.release", Reading::Expanded),
            ("job.trigger.inputs.file", Reading::Command),
            ("job.trigger.include.[0].inputs.file", Reading::Command),
            ("job.image.entrypoint", Reading::Command),
            ("job.artifacts.paths", Reading::Glob),
            ("job.artifacts.reports.coverage_report.path", Reading::Glob),
            ("job.cache.[0].key.files", Reading::Glob),
            ("job.trigger.include.[0].local", Reading::Glob),
            ("include.[0].local", Reading::Glob),
            ("job.environment.url", Reading::Expanded),
            ("job.needs.[0].job", Reading::Expanded),
            ("job.rules.[0].changes.paths", Reading::Glob),
            ("job.rules.[0].exists", Reading::Glob),
            ("job.cache.key", Reading::Expanded),
            ("workflow.name", Reading::Expanded),
            ("job.parallel.matrix.[0].TARGET", Reading::Expanded),
            (".helpers.commands", Reading::Hidden),
            (".helpers", Reading::Hidden),
            (".helpers.image.name", Reading::Unlisted),
            // A job may be named after a job keyword; its keys start below.
            ("release.image", Reading::Unlisted),
            ("inputs.script", Reading::Script),
            ("job.image", Reading::Unlisted),
            ("job.image.name", Reading::Unlisted),
            ("job.secrets.DB.vault", Reading::Unlisted),
            ("job.tags", Reading::Unlisted),
            ("job.environment.kubernetes.namespace", Reading::Unlisted),
            ("job.name", Reading::Unlisted),
            ("include.[0].remote", Reading::Unlisted),
        ] {
            assert_eq!(read(at, false), reading, "{at}");
        }
        assert_eq!(read("job.variables.FILE.value", true), Reading::Literal);
    }

    #[test]
    fn stand_ins_keep_neutral_characters() {
        assert_eq!(stand_in("pipelines/p/s/a b$(x).py"), "pipelines/p/s/a_b__x_.py");
        assert_eq!(stand_in("café"), "caf_");
        assert!(matches!(stand_in("a/b-c_d.e"), Cow::Borrowed(_)));
        assert!(!is_neutral("a\nb") && !is_neutral("a:b") && is_neutral("A-z_0.9/x"));
        assert!(!is_neutral("-") && !is_neutral("-rf/x") && stand_in("-rf") == "_rf");
    }

    #[test]
    fn quoted_literal_text_may_differ() {
        let ok = [
            (
                "j: {script: [\"cat -- 'a b$(x)'\"]}",
                "j: {script: [\"cat -- 'a_b__x_'\"]}",
            ),
            ("j: {script: ['cat \"a;b\" x']}", "j: {script: ['cat \"a_b\" x']}"),
            ("j: {script: ['echo a\\ b']}", "j: {script: ['echo a\\_b']}"),
            ("j: {script: [\"cat 'it'\\\\''s'\"]}", "j: {script: [\"cat 'it_s'\"]}"),
            ("j: {variables: {D: 'a b:c'}}", "j: {variables: {D: a_b_c}}"),
            (
                "j: {variables: {D: 'a b'}, script: ['cd \"$D\" && ls \"./${D}/x\" \"$HOME\"']}",
                "j: {variables: {D: a_b}, script: ['cd \"$D\" && ls \"./${D}/x\" \"$HOME\"']}",
            ),
            ("j: {variables: {D: '50% of 100%'}}", "j: {variables: {D: 50__of_100_}}"),
            (
                "j: {variables: {D: {value: 'x$CI_JOB_TOKEN', expand: false}}}",
                "j: {variables: {D: {value: x_CI_JOB_TOKEN, expand: false}}}",
            ),
            ("'a b': {script: [x]}", "a_b: {script: [x]}"),
        ];
        for (real, stand_in) in ok {
            assert_eq!(check(real, stand_in), Ok(()), "{real}");
        }
    }

    #[test]
    fn structure_and_active_text_may_not() {
        let bad = [
            (
                "j: {script: ['echo \"a$(touch P)\"']}",
                "j: {script: ['echo \"a__touch_P_\"']}",
                "j.script[0]: adds `$(touch P)\"`, which the shell would act on",
            ),
            (
                "j: {script: ['echo a`id`']}",
                "j: {script: ['echo a_id_']}",
                "j.script[0]: adds `` `id` ``, which the shell would act on",
            ),
            (
                "j: {script: ['echo a; rm x']}",
                "j: {script: ['echo a__rm_x']}",
                "j.script[0]: adds the shell operator `;`",
            ),
            (
                "j: {script: [echo a, curl evil, x]}",
                "j: {script: [echo a__curl_evil__x]}",
                "j.script: adds or removes a script line (3 items where the template gives 1)",
            ),
            (
                "j: {script: [{echo a: b}]}",
                "j: {script: [echo a__b]}",
                "j.script[0]: turns a string into a mapping",
            ),
            (
                "j: {variables: {D: 'x$CI_JOB_TOKEN'}}",
                "j: {variables: {D: x_CI_JOB_TOKEN}}",
                "j.variables.D: adds `$CI_JOB_TOKEN`, which GitLab would expand (a variable's value can say `expand: false`)",
            ),
            (
                "j: {variables: {D: 'x%CI_JOB_TOKEN%'}}",
                "j: {variables: {D: x_CI_JOB_TOKEN_}}",
                "j.variables.D: adds `%CI_JOB_TOKEN%`, which GitLab would expand (a variable's value can say `expand: false`)",
            ),
            (
                "j: {rules: [{if: '$X == \"a\" || \"b\"'}]}",
                "j: {rules: [{if: '$X == \"a___b\"'}]}",
                "j.rules[0].if: changes a CI/CD expression (`if:`); match on variables, not on paths",
            ),
            (
                "j: {script: [x]}\nk: {script: [y]}",
                "j: {script: [x]}",
                "the fragment: adds or removes a key (2 keys where the template gives 1)",
            ),
            (
                "j: {script: [\"echo a\\nrm -rf x\"]}",
                "j: {script: [echo a_rm_-rf_x]}",
                "j.script[0]: adds a line break, which starts another shell command",
            ),
            (
                "j: {script: [\"cat <<EOF\\n$(id)\\nEOF\"]}",
                "j: {script: [\"cat <<EOF\\n__id_\\nEOF\"]}",
                "j.script[0]: changes a here-document's body, which the shell expands",
            ),
            (
                "j: {script: ['ls a*']}",
                "j: {script: ['ls a_']}",
                "j.script[0]: adds `*`, which the shell would act on",
            ),
            (
                "j: {script: ['ls a #b']}",
                "j: {script: ['ls a__b']}",
                "j.script[0]: adds or changes a `#` comment, which hides the rest of the shell command",
            ),
            (
                "j: {variables: {D: 'a b'}, script: ['cd $D']}",
                "j: {variables: {D: a_b}, script: ['cd $D']}",
                "j.script[0]: reaches the variable `D`, which a script expands outside plain double quotes (`$D`); the shell would split it into words, expand globs, or evaluate it: write \"$D\"",
            ),
            (
                "variables: {D: 'a b'}\nj: {script: ['ls ${D}/x']}",
                "variables: {D: a_b}\nj: {script: ['ls ${D}/x']}",
                "j.script[0]: reaches the variable `D`, which a script expands outside plain double quotes (`${D}`); the shell would split it into words, expand globs, or evaluate it: write \"$D\"",
            ),
            (
                "stages: {script: [x]}",
                "stages_: {script: [x]}",
                "the fragment: turns the key \"stages_\" into \"stages\"",
            ),
        ];
        for (real, stand_in, want) in bad {
            let got = check(real, stand_in);
            assert_eq!(got, Err(want.to_owned()), "{real}");
        }
    }

    /// The red-team review's attacks: each passed the first version of the
    /// tokenizer and ran a command in bash.
    #[test]
    fn quoting_states_the_tokenizer_cannot_follow_are_compared_whole() {
        let refused = [
            // $'...' with \' inside (bash).
            (
                "echo $'it\\'s' p/$(touch P).py 'x'",
                "echo $'it\\'s' p/__touch_P_.py 'x'",
            ),
            // Arithmetic evaluates $(...) inside single quotes.
            ("(( 'p/$(touch P).py' )) || true", "(( 'p/__touch_P_.py' )) || true"),
            ("[[ 'p/a[$(touch P)]' -eq 0 ]]", "[[ 'p/a__touch_P__' -eq 0 ]]"),
            // A quote inside $(...) or ${...}.
            (
                "echo $(echo ')') p/$(touch P).py 'x'",
                "echo $(echo ')') p/__touch_P_.py 'x'",
            ),
            (
                "echo ${X:-'}'} p/$(touch P).py 'x'",
                "echo ${X:-'}'} p/__touch_P_.py 'x'",
            ),
            // What looks like a comment is not one in a [[ =~ ]] regex.
            (
                "[[ x =~ (#) ]] || echo p/$(touch P).py",
                "[[ x =~ (#) ]] || echo p/__touch_P_.py",
            ),
            ("echo x #p/$(touch P).py", "echo x #p/__touch_P_.py"),
        ];
        for (real, stand_in) in refused {
            let doc = |line: &str| {
                let mut job = Mapping::new();
                job.insert("script".into(), Value::Sequence(vec![Value::String(line.to_owned())]));
                let mut doc = Mapping::new();
                doc.insert("j".into(), Value::Mapping(job));
                doc
            };
            assert!(
                !matches!(compare(&doc(real), &doc(stand_in), &Known::default()), Ok(None)),
                "{real}"
            );
        }
        // An item that leaves a quote open: the runner joins the items.
        assert_eq!(
            check(
                "j: {script: ['echo \"Changed:', '\" x;touch P;y \"', 'done\"']}",
                "j: {script: ['echo \"Changed:', '\" x_touch_P_y \"', 'done\"']}"
            ),
            Err("j.script[0]: sits after a script line that leaves a quote, an expansion, a line continuation or a here-document open, so the runner would read the next line inside it".to_owned())
        );
        // A variable holding a path, expanded anywhere but plain "$F".
        for line in [
            "printf '<%s>' ${UNSET:-$F}",
            "echo `echo $F`",
            "echo \"$(echo $F)\"",
            "[[ \"$F\" -eq 0 ]]",
        ] {
            let real = format!("j: {{variables: {{F: 'a b'}}, script: [{line:?}]}}");
            let neutral = format!("j: {{variables: {{F: a_b}}, script: [{line:?}]}}");
            assert!(
                check(&real, &neutral).is_err_and(|e| e.contains("reaches the variable `F`")),
                "{line}"
            );
        }
        assert_eq!(
            check(
                "j: {variables: {F: 'a b'}, script: ['cat \"./$F\" \"./${F}/x\"']}",
                "j: {variables: {F: a_b}, script: ['cat \"./$F\" \"./${F}/x\"']}"
            ),
            Ok(())
        );
    }

    #[test]
    fn shell_words_model_quotes_and_operators() {
        let words = shell_words("a 'b c'\"$X\"d && e # f\ng");
        assert_eq!(
            words,
            [
                Token::Word(vec![Part::Literal]),
                Token::Word(vec![Part::Literal, Part::Quoted("$X"), Part::Literal]),
                Token::Operator("&&"),
                Token::Word(vec![Part::Literal]),
                Token::Comment("# f"),
                Token::Newline,
                Token::Word(vec![Part::Literal]),
            ]
        );
        assert_eq!(
            shell_words("echo 'x"),
            [Token::Word(vec![Part::Literal]), Token::Word(vec![Part::Active("'x")])]
        );
        assert_eq!(
            shell_words("a ${B:-$(c)}d"),
            [
                Token::Word(vec![Part::Literal]),
                Token::Word(vec![Part::Unquoted("${B:-$(c)}d")])
            ]
        );
    }
}

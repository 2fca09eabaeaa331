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
    crate::files::check_yaml_depth(text).map_err(|detail| fail(format!("the rendered YAML: {detail}")))?;
    let read = || {
        serde_yaml::from_str(text).map_err(|e| {
            let shown = e
                .location()
                .and_then(|l| text.lines().nth(l.line() - 1))
                .map(|l| format!(" (rendered line: {l:?})"))
                .unwrap_or_default();
            fail(format!("the rendered YAML does not parse: {e}{shown}"))
        })
    };
    let mut value: Value = match crate::fastyaml::parse(text) {
        Some(value) => value,
        None => read()?,
    };
    value
        .apply_merge()
        .map_err(|e| fail(format!("a `<<` merge key cannot be applied: {e}")))?;
    // A `<<` that merging put back (a merged mapping that holds one) would be
    // written as a plain key that GitLab's reader merges again, quoted or not.
    if let Some(at) = merge_key_left(&value) {
        return Err(fail(format!(
            "a `<<` key is left at {at} after merging (a merged mapping holds one); GitLab's YAML reader \
             would merge it again: use `extends:` or `!reference` instead"
        )));
    }
    match value {
        Value::Null => Ok(None),
        Value::Mapping(doc) => Ok(Some(doc)),
        other => Err(fail(format!(
            "the rendered YAML must be a mapping of jobs and keywords, not {}",
            kind(&other)
        ))),
    }
}

/// Where a `<<` key is left in `value`, if one is.
fn merge_key_left(value: &Value) -> Option<String> {
    match value {
        Value::Mapping(map) => map.iter().find_map(|(k, v)| {
            if k.as_str() == Some("<<") {
                Some("the top level".to_owned())
            } else {
                merge_key_left(v).map(|at| match k.as_str() {
                    Some(name) if at == "the top level" => format!("`{name}`"),
                    Some(name) => format!("`{name}`, {at}"),
                    None => at,
                })
            }
        }),
        Value::Sequence(items) => items.iter().find_map(merge_key_left),
        Value::Tagged(tagged) => merge_key_left(&tagged.value),
        _ => None,
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

/// Merges fragments in order into one document, as YAML.
///
/// # Errors
/// [`Error::Conflict`] naming the key and both origins.
pub fn merge_fragments(fragments: Vec<Fragment>) -> Result<String> {
    let mut merger = Merger::default();
    for fragment in fragments {
        merger.add(fragment.prepare()?)?;
    }
    merger.finish().map(|merged| merged.yaml)
}

/// Keys of a job that the checks after the merge read ([`crate::validate`]):
/// with their values, or (`false`) only whether they are there. A check that
/// reads another key must add it here; the test
/// `the_summary_checks_as_the_document_does` compares both on many documents.
const CHECKED_KEYS: [(&str, bool); 8] = [
    ("stage", true),
    ("needs", true),
    ("dependencies", true),
    ("extends", true),
    ("script", false),
    ("trigger", false),
    ("run", false),
    ("environment", false),
];

/// A top-level entry of a fragment, ready for the merge.
enum Piece {
    /// `stages`: merged as a stable topological order.
    Stages(Value),
    /// `variables`: merged name by name.
    Variables(Value),
    /// Anything else: kept once, and only if every fragment that defines it
    /// defines it the same way.
    Entry {
        key: Value,
        /// The entry as YAML (`key:` and its value), as it is written out.
        text: String,
        /// What the checks read of it (see [`CHECKED_KEYS`]).
        summary: Value,
    },
}

/// A fragment after [`Fragment::prepare`].
pub struct Prepared {
    origin: String,
    pieces: Vec<Piece>,
    /// The top-level keys of its `!reference`s that do not resolve in it.
    foreign: Vec<Value>,
    /// GitLab's schema problems of its entries.
    problems: Vec<String>,
}

impl Fragment {
    /// Serialises each entry and checks it against GitLab's schema (work that
    /// can run on any thread, while other groups render), keeping of each
    /// job only what the checks after the merge read. The parsed fragment is
    /// dropped here: the merge holds text, so memory follows the output's
    /// size, not its parsed form (issue 11).
    ///
    /// # Errors
    /// [`Error::Merge`] if an entry cannot be serialised (a parsed value
    /// always can; the run fails rather than drop it).
    pub fn prepare(self) -> Result<Prepared> {
        let foreign = foreign_references(&self.doc);
        let mut pieces = Vec::with_capacity(self.doc.len());
        let mut problems = Vec::new();
        for (key, value) in self.doc {
            match key.as_str() {
                Some("stages") => pieces.push(Piece::Stages(value)),
                Some("variables") => pieces.push(Piece::Variables(value)),
                _ => {
                    crate::schema::check_entries(&[(&key, &value)], &mut problems);
                    let text = entry_yaml(&[(&key, &value)]).map_err(|detail| Error::Merge {
                        origin: self.origin.clone(),
                        detail,
                    })?;
                    let summary = summarise(&value);
                    pieces.push(Piece::Entry { key, text, summary });
                }
            }
        }
        Ok(Prepared {
            origin: self.origin,
            pieces,
            foreign,
            problems,
        })
    }
}

/// The top-level keys (jobs, `variables`, `default`...) of `doc`'s
/// `!reference` tags that do not resolve inside `doc`.
fn foreign_references(doc: &Mapping) -> Vec<Value> {
    fn walk(value: &Value, doc: &Mapping, out: &mut Vec<Value>) {
        match value {
            Value::Tagged(tagged) => {
                if tagged.tag == "reference"
                    && let Some(job) = tagged.value.as_sequence().and_then(|path| path.first())
                    && crate::safety::reference_target(doc, &tagged.value).is_none()
                    && !out.contains(job)
                {
                    out.push(job.clone());
                }
                walk(&tagged.value, doc, out);
            }
            Value::Sequence(items) => items.iter().for_each(|item| walk(item, doc, out)),
            Value::Mapping(map) => map.values().for_each(|item| walk(item, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    doc.values().for_each(|value| walk(value, doc, &mut out));
    out
}

/// What [`crate::validate`] reads of a top-level value.
fn summarise(value: &Value) -> Value {
    match value {
        Value::Mapping(map) => Value::Mapping(
            CHECKED_KEYS
                .iter()
                .filter_map(|&(name, whole)| {
                    map.get(name)
                        .map(|v| (Value::from(name), if whole { v.clone() } else { Value::Null }))
                })
                .collect(),
        ),
        Value::Sequence(_) => Value::Sequence(Vec::new()),
        other => other.clone(),
    }
}

/// Top-level entries as one block mapping.
struct Entries<'d>(&'d [(&'d Value, &'d Value)]);

impl serde::Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Top-level entries as YAML. The entries of a block mapping serialise
/// independently, so the pieces concatenated are the whole document's YAML,
/// byte for byte.
fn entry_yaml(entries: &[(&Value, &Value)]) -> std::result::Result<String, String> {
    if let [(key, value)] = entries
        && let Some(text) = crate::emit::entry(key, value)
    {
        return Ok(text);
    }
    let may_need_quotes = || {
        entries
            .iter()
            .any(|(k, v)| crate::yaml11::may_need_quotes(k) || crate::yaml11::may_need_quotes(v))
    };
    match serde_yaml::to_string(&Entries(entries)) {
        Ok(text) if text == "{}\n" => Ok(String::new()),
        Ok(text) if !may_need_quotes() => Ok(text),
        Ok(text) => crate::yaml11::quote(text).map_err(|e| {
            let key = entries.first().map_or_else(String::new, |(key, _)| {
                format!(" `{}`", serde_yaml::to_string(key).unwrap_or_default().trim_end())
            });
            format!("the entry{key}: {e}; write the value quoted in the template")
        }),
        Err(e) => Err(format!("cannot serialise an entry: {e}")),
    }
}

/// Whether two entries' YAML says the same thing: the same text, or (the
/// slow path, for a mapping whose keys come in another order) equal values.
fn same_entry(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_yaml::from_str::<Value>(a), serde_yaml::from_str::<Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The merge's result.
pub struct Merged {
    /// The document's YAML.
    pub yaml: String,
    /// What the checks read: every top-level key, each job reduced to the
    /// keys the checks read (see [`crate::validate`]).
    pub summary: Mapping,
    /// What GitLab's schema says of it, each problem once.
    pub problems: Vec<String>,
}

/// The merge as fragments arrive, one at a time, in output order: a fragment
/// moves into the document as soon as it is rendered, so no list of parsed
/// fragments is ever held (issue 11).
#[derive(Default)]
pub struct Merger {
    /// Every kept key, with its summary.
    summary: Mapping,
    /// The YAML of each kept key, in the same order.
    texts: Vec<String>,
    /// Each kept key's index in `texts`.
    index: HashMap<Value, usize>,
    /// Where each kept key came from: an index into `origins`.
    origins: Vec<String>,
    key_origin: Vec<usize>,
    stages: Stages,
    variables: Mapping,
    variable_origin: HashMap<Value, usize>,
    /// The top-level keys of `!reference`s that do not resolve in their
    /// own fragment, with that fragment: no other fragment may render them.
    foreign: Vec<(Value, usize)>,
    problems: Vec<String>,
}

impl Merger {
    /// Adds the next fragment.
    ///
    /// # Errors
    /// [`Error::Conflict`] naming the key and both origins; [`Error::Merge`]
    /// for malformed `stages` or `variables`.
    pub fn add(&mut self, fragment: Prepared) -> Result<()> {
        let source = self.origins.len();
        self.origins.push(fragment.origin);
        let origins = &self.origins;
        let origin = &origins[source];
        self.foreign
            .extend(fragment.foreign.into_iter().map(|job| (job, source)));
        for problem in fragment.problems {
            if !self.problems.contains(&problem) && self.problems.len() <= crate::schema::MAX_PROBLEMS {
                self.problems.push(problem);
            }
        }
        for piece in fragment.pieces {
            match piece {
                Piece::Stages(value) => self.stages.add(&value, origin)?,
                Piece::Variables(value) => {
                    let Value::Mapping(vars) = value else {
                        return Err(Error::Merge {
                            origin: origin.clone(),
                            detail: format!("`variables` must be a mapping, not {}", kind(&value)),
                        });
                    };
                    for (name, var) in vars {
                        match self.variables.get(&name) {
                            Some(existing) if *existing != var => {
                                return Err(Error::Conflict {
                                    key: format!("variable `{}`", name.as_str().unwrap_or_default()),
                                    first: self
                                        .variable_origin
                                        .get(&name)
                                        .map(|i| origins[*i].clone())
                                        .unwrap_or_default(),
                                    second: origin.clone(),
                                });
                            }
                            Some(_) => {}
                            None => {
                                self.variable_origin.insert(name.clone(), source);
                                self.variables.insert(name, var);
                            }
                        }
                    }
                }
                Piece::Entry { key, text, summary } => match self.index.get(&key) {
                    Some(&index) if !same_entry(&self.texts[index], &text) => {
                        return Err(Error::Conflict {
                            key: describe(&key),
                            first: origins[self.key_origin[index]].clone(),
                            second: origin.clone(),
                        });
                    }
                    Some(_) => {}
                    None => {
                        self.index.insert(key.clone(), self.texts.len());
                        self.summary.insert(key, summary);
                        self.texts.push(text);
                        self.key_origin.push(source);
                    }
                },
            }
        }
        Ok(())
    }

    /// The merged document: keywords first (`workflow`, `default`,
    /// `include`, `stages`, `variables`), then everything else in first-seen
    /// order.
    ///
    /// # Errors
    /// [`Error::Merge`] if `stages` or `variables` cannot be serialised.
    pub fn finish(self) -> Result<Merged> {
        // Each fragment's safety check resolves the `!reference`s inside
        // it and reads each value where it lands; one into another
        // fragment would take a value (a path) that no check read there.
        let rendered = |job: &Value| match job.as_str() {
            Some("variables") => (!self.variables.is_empty()).then(|| "the templates' `variables`".to_owned()),
            Some("stages") => (!self.stages.names.is_empty()).then(|| "the templates' `stages`".to_owned()),
            _ => self.index.get(job).map(|&i| self.origins[self.key_origin[i]].clone()),
        };
        if let Some((job, source, by)) = self
            .foreign
            .iter()
            .find_map(|(job, source)| rendered(job).map(|by| (job, source, by)))
        {
            return Err(Error::Merge {
                origin: self.origins[*source].clone(),
                detail: format!(
                    "a `!reference` into {} takes what another template renders ({by}): childgen checks each \
                     template's output on its own, so a changed path in it could reach this job unchecked; \
                     render it in this template too (a shared partial), or put it in an included file",
                    describe(job),
                ),
            });
        }
        let mut extra: Vec<(Value, Value)> = Vec::new();
        let stages = self.stages.into_list();
        if !stages.is_empty() {
            extra.push((
                "stages".into(),
                Value::Sequence(stages.into_iter().map(Value::String).collect()),
            ));
        }
        if !self.variables.is_empty() {
            extra.push(("variables".into(), Value::Mapping(self.variables)));
        }
        let mut problems = self.problems;
        let mut extra_texts = Vec::with_capacity(extra.len());
        for (key, value) in &extra {
            crate::schema::check_entries(&[(key, value)], &mut problems);
            extra_texts.push(entry_yaml(&[(key, value)]).map_err(|detail| Error::Merge {
                origin: "the merged document".to_owned(),
                detail,
            })?);
        }
        // The final order, as indexes: kept keys, then `stages`/`variables`.
        let mut summary = self.summary;
        let kept = summary.len();
        for (key, value) in extra {
            summary.insert(key, value);
        }
        let leading = |key: &Value| {
            key.as_str()
                .and_then(|k| LEADING_KEYS.iter().position(|l| *l == k))
                .unwrap_or(LEADING_KEYS.len())
        };
        let ranks: Vec<usize> = summary.keys().map(leading).collect();
        let mut order: Vec<usize> = (0..summary.len()).collect();
        order.sort_by_key(|&i| ranks[i]);
        let text = |i: usize| {
            if i < kept {
                &self.texts[i]
            } else {
                &extra_texts[i - kept]
            }
        };
        let mut yaml = String::with_capacity(order.iter().map(|&i| text(i).len()).sum());
        for &i in &order {
            yaml.push_str(text(i));
        }
        let mut ordered = Mapping::with_capacity(summary.len());
        let mut entries: Vec<Option<(Value, Value)>> = summary.into_iter().map(Some).collect();
        for &i in &order {
            if let Some((key, value)) = entries[i].take() {
                ordered.insert(key, value);
            }
        }
        Ok(Merged {
            yaml,
            summary: ordered,
            problems: crate::schema::finish(problems),
        })
    }
}

/// The union of every fragment's `stages`: a stable topological merge. Each
/// fragment's order is kept; stages that no fragment orders come out in the
/// order they were first seen. Two fragments that order two stages
/// oppositely (directly or through other stages) are a conflict.
#[derive(Default)]
struct Stages {
    /// Names in first-seen order; a stage is its index here.
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// For each stage, the stages a fragment puts right after it, with the
    /// index of that fragment's origin.
    after: Vec<Vec<(usize, usize)>>,
    origins: Vec<String>,
}

impl Stages {
    fn add(&mut self, value: &Value, origin: &str) -> Result<()> {
        let names = value
            .as_sequence()
            .and_then(|seq| seq.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
            .ok_or_else(|| Error::Merge {
                origin: origin.to_owned(),
                detail: "`stages` must be a list of stage names".to_owned(),
            })?;
        let source = self.origins.len();
        self.origins.push(origin.to_owned());
        let ids: Vec<usize> = names.iter().map(|name| self.id(name)).collect();
        for pair in ids.windows(2) {
            let (first, then) = (pair[0], pair[1]);
            if first == then || self.after[first].iter().any(|(next, _)| *next == then) {
                continue;
            }
            if let Some(other) = self.reaches(then, first) {
                return Err(Error::Conflict {
                    key: format!("the order of stages `{}` and `{}`", self.names[first], self.names[then]),
                    first: self.origins[other].clone(),
                    second: origin.to_owned(),
                });
            }
            self.after[first].push((then, source));
        }
        Ok(())
    }

    fn id(&mut self, name: &str) -> usize {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let id = self.names.len();
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        self.after.push(Vec::new());
        id
    }

    /// Whether `from` comes before `to` already, and if so the origin of the
    /// first step of that ordering.
    fn reaches(&self, from: usize, to: usize) -> Option<usize> {
        let mut seen = vec![false; self.names.len()];
        let mut queue: std::collections::VecDeque<(usize, usize)> =
            self.after[from].iter().map(|&(next, source)| (next, source)).collect();
        while let Some((stage, source)) = queue.pop_front() {
            if stage == to {
                return Some(source);
            }
            if !std::mem::replace(&mut seen[stage], true) {
                queue.extend(self.after[stage].iter().map(|&(next, _)| (next, source)));
            }
        }
        None
    }

    /// The merged order: among the stages whose predecessors are all placed,
    /// the first seen comes next.
    fn into_list(self) -> Vec<String> {
        let mut waiting = vec![0usize; self.names.len()];
        for next in self.after.iter().flatten() {
            waiting[next.0] += 1;
        }
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..self.names.len())
            .filter(|&s| waiting[s] == 0)
            .map(std::cmp::Reverse)
            .collect();
        let mut order = Vec::with_capacity(self.names.len());
        while let Some(std::cmp::Reverse(stage)) = ready.pop() {
            order.push(stage);
            for &(next, _) in &self.after[stage] {
                waiting[next] -= 1;
                if waiting[next] == 0 {
                    ready.push(std::cmp::Reverse(next));
                }
            }
        }
        let mut names: Vec<Option<String>> = self.names.into_iter().map(Some).collect();
        order.into_iter().filter_map(|s| names[s].take()).collect()
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
        merge_fragments(fragments)
    }

    #[test]
    fn yaml_1_1_booleans_and_numbers_are_quoted() -> Result<()> {
        let out = merge(&[(
            "t",
            "on: {script: [yes, 'x: y', n], variables: {B: 'no', C: 'y', D: '1_000', E: 0b11, F: '1:30', G: 'nope', H: -1_0}}\n\
             j:\n  script:\n  - |\n    no\n    on: off\n  - 'ON'\n",
        )])?;
        assert_eq!(
            out,
            "'on':\n  script:\n  - 'yes'\n  - 'x: y'\n  - 'n'\n  variables:\n    B: 'no'\n    C: 'y'\n    D: '1_000'\n    E: 3\n    F: '1:30'\n    G: nope\n    H: '-1_0'\nj:\n  script:\n  - |\n    no\n    on: off\n  - 'ON'\n"
        );
        Ok(())
    }

    /// The checks after the merge see only each job's summary: they must say
    /// exactly what they say of the whole document.
    #[test]
    fn the_summary_checks_as_the_document_does() -> Result<()> {
        let documents = [
            "stages: [build, deploy]\n.t: {image: x, stage: deploy}\nb: {stage: build, script: [x], environment: dev}\nd: {extends: .t, needs: [b, {job: gone}, {job: c, optional: true}], dependencies: [b, nope]}\n",
            "j: {stage: nowhere, script: [x]}\nk: {needs: [j, {pipeline: x}], run: [{name: a}]}\n",
            "default: {script: [x]}\nworkflow: {rules: [{when: always}]}\nj: [a, b]\nk: text\nl: null\n",
            "include: [{local: a.yml}]\nj: {extends: [.a, .b], needs: [missing]}\nk: {script: [x], environment: prod}\n",
            "j: {stage: [x], script: [x]}\ntrue: {script: [x]}\ntypes: {script: [x]}\n.hidden: 3\n",
            "p: {stage: .pre, script: [x]}\nq: {needs: not-a-list, dependencies: x, trigger: {project: a/b}}\n",
        ];
        let limits = crate::validate::Limits {
            max_needs: 1,
            warn_jobs: 1,
            warn_environment_jobs: 0,
            ..crate::validate::Limits::default()
        };
        for yaml in documents {
            let doc = parse_fragment(yaml, "t", "g")?.unwrap_or_default();
            let mut merger = Merger::default();
            merger.add(
                Fragment {
                    origin: "t".to_owned(),
                    doc: doc.clone(),
                }
                .prepare()?,
            )?;
            let document = merger.finish()?;
            let whole = crate::validate::validate_with(&doc, 100, &limits, Vec::new);
            let summary = crate::validate::validate_with(&document.summary, 100, &limits, Vec::new);
            assert_eq!(summary, whole, "{yaml}");
            assert!(
                !whole.errors.is_empty() || !whole.warnings.is_empty(),
                "{yaml}: checks nothing"
            );
        }
        Ok(())
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
    fn stages_merge_is_a_stable_topological_order() -> Result<()> {
        // Issue 10: alpha renders first, so deploy-alpha stays before deploy-beta.
        let out = merge(&[
            ("alpha", "stages: [build, deploy-alpha, cleanup]"),
            ("beta", "stages: [build, deploy-beta, cleanup]"),
        ])?;
        assert_eq!(out, "stages:\n- build\n- deploy-alpha\n- deploy-beta\n- cleanup\n");
        // A later fragment may order stages that were unordered.
        let out = merge(&[
            ("a", "stages: [build, x]"),
            ("b", "stages: [build, y]"),
            ("c", "stages: [y, x]"),
        ])?;
        assert_eq!(out, "stages:\n- build\n- 'y'\n- x\n");
        // A cycle through a third stage is a conflict naming the fragment that began it.
        let err = merge(&[
            ("a", "stages: [s1, s2]"),
            ("b", "stages: [s2, s3]"),
            ("c", "stages: [s3, s1]"),
        ])
        .map_err(|e| e.to_string());
        assert!(
            err.as_ref()
                .is_err_and(|e| e.starts_with("the order of stages `s3` and `s1` is defined differently by a and by c")),
            "{err:?}"
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

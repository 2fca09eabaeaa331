//! Rules and groups: which rule a changed path selects, with which values, and
//! how matched changes are grouped by their value tuple (design §3).

use crate::change::Change;
use crate::error::Result;
use crate::pattern::{Extracted, Pattern, ValueRule};
use globset::GlobSet;
use std::collections::HashMap;

/// How often a rule's template is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Once per group (the default).
    #[default]
    Each,
    /// A single time, with every group in the context.
    Once,
}

/// One rule: a pattern, an optional path filter and the template it feeds.
#[derive(Debug, Clone)]
pub struct Rule {
    /// A name for messages and `plan`.
    pub name: String,
    /// How variables are extracted.
    pub pattern: Pattern,
    /// Globs a path must match (any of them), when given.
    pub paths: Option<(Vec<String>, GlobSet)>,
    /// The template's name in the renderer.
    pub template: String,
    /// Each or once.
    pub mode: Mode,
}

/// Why a path was, or was not, selected by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection<'p> {
    /// Every variable got a value.
    Values(Vec<&'p str>),
    /// The path is outside the rule's `paths` globs.
    Filtered,
    /// The pattern does not match, with the reason.
    Miss(String),
}

impl Rule {
    /// [`Rule::select`] for the grouping loop: the values into `values`
    /// (buffers reused, no reason formatted), or `false`.
    fn values_into<'p>(&self, path: &'p str, components: &mut Vec<&'p str>, values: &mut Vec<&'p str>) -> bool {
        if let Some((_, globs)) = &self.paths
            && !globs.is_match(path)
        {
            return false;
        }
        self.pattern.values_into(path, components, values)
    }

    /// Matches one path against the rule, before the `values` check.
    #[must_use]
    pub fn select<'p>(&self, path: &'p str) -> Selection<'p> {
        if let Some((_, globs)) = &self.paths
            && !globs.is_match(path)
        {
            return Selection::Filtered;
        }
        match self.pattern.extract(path) {
            Extracted::Values(values) => Selection::Values(values),
            Extracted::Miss(reason) => Selection::Miss(reason),
        }
    }
}

/// The changes that selected one value tuple of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'c> {
    /// The values, in the rule's variable order.
    pub values: Vec<String>,
    /// The changes of the group, sorted by path.
    pub files: Vec<&'c Change>,
}

/// Every rule's groups and the changes that no rule matched.
#[derive(Debug, Clone, Default)]
pub struct Grouping<'c> {
    /// For each rule (same index as the rules), its groups sorted by values.
    pub groups: Vec<Vec<Group<'c>>>,
    /// Changes that no rule selected, sorted by path.
    pub unmatched: Vec<&'c Change>,
}

/// Groups `changes` by rule and value tuple, checking every value against
/// `values` (fail closed: one bad value fails the run).
///
/// # Errors
/// [`crate::Error::Value`] for the first value outside `values`.
pub fn group_changes<'c>(rules: &[Rule], changes: &'c [Change], values: &ValueRule) -> Result<Grouping<'c>> {
    let halves = changes.len() >= PARALLEL_FROM && crate::parallel::threads() >= 2;
    group_in(rules, changes, values, halves)
}

fn group_in<'c>(rules: &[Rule], changes: &'c [Change], values: &ValueRule, halves: bool) -> Result<Grouping<'c>> {
    let mut sorted: Vec<&Change> = changes.iter().collect();
    if !sorted.is_sorted_by(|a, b| a.path <= b.path) {
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let mut grouping = Grouping::default();
    let mut matched = vec![false; changes.len()];
    // A large merge request is grouped in two halves on two threads (the
    // value extraction is most of the work); the second half's groups then
    // join the first's, so every group's files stay in path order.
    for rule in rules {
        let groups = if halves {
            let middle = sorted.len() / 2;
            let (first, second) = sorted.split_at(middle);
            let (first_matched, second_matched) = matched.split_at_mut(middle);
            let (a, b) = std::thread::scope(|scope| {
                let b = scope.spawn(|| group_slice(rule, second, second_matched, values));
                let a = group_slice(rule, first, first_matched, values);
                (a, b.join())
            });
            // The first half's error comes first in path order.
            let mut groups = a?;
            let b = b.map_err(|_| crate::Error::Usage("grouping stopped unexpectedly".to_owned()))??;
            let mut index: HashMap<Vec<&str>, usize> =
                groups.iter().enumerate().map(|(i, (v, _))| (v.clone(), i)).collect();
            for (values, files) in b {
                if let Some(slot) = index.get(&values) {
                    groups[*slot].1.extend(files);
                } else {
                    index.insert(values.clone(), groups.len());
                    groups.push((values, files));
                }
            }
            groups
        } else {
            group_slice(rule, &sorted, &mut matched, values)?
        };
        let mut groups: Vec<Group> = groups
            .into_iter()
            .map(|(values, mut files)| {
                // A rename within one group was pushed for both of its paths
                // (next to each other: both pushes come from the same change).
                files.dedup_by(|a, b| std::ptr::eq(*a, *b));
                Group {
                    values: values.into_iter().map(str::to_owned).collect(),
                    files,
                }
            })
            .collect();
        groups.sort_by(|a, b| a.values.cmp(&b.values));
        grouping.groups.push(groups);
    }
    grouping.unmatched = sorted
        .into_iter()
        .zip(matched)
        .filter(|(_, matched)| !matched)
        .map(|(change, _)| change)
        .collect();
    Ok(grouping)
}

/// From this many changes on, grouping runs on two threads.
const PARALLEL_FROM: usize = 20_000;

/// One rule's groups of `sorted` (in path order), as value tuples with their
/// changes in first-seen order; marks the changes it selects in `matched`.
#[allow(clippy::type_complexity)]
fn group_slice<'c>(
    rule: &Rule,
    sorted: &[&'c Change],
    matched: &mut [bool],
    values: &ValueRule,
) -> Result<Vec<(Vec<&'c str>, Vec<&'c Change>)>> {
    let vars = rule.pattern.vars();
    let mut index: HashMap<Vec<&str>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<&str>, Vec<&Change>)> = Vec::new();
    // In path order, so every group's files come out sorted by path. Sorted
    // paths also put most of a group's files next to each other: `last`
    // spares the hash lookup for them.
    let mut last: Option<usize> = None;
    let (mut components, mut found) = (Vec::new(), Vec::new());
    // Stop words read a path's parts from the left: a path that starts like
    // the previous match, up to the `/` after its deepest value, has the
    // same values (sorted paths mostly do; issue 11). Not with `paths`
    // globs, which read the whole path.
    let reuse = rule.paths.is_none() && matches!(rule.pattern, crate::pattern::Pattern::Stop(_));
    let mut prefix: Option<&str> = None;
    for (change, matched) in sorted.iter().copied().zip(matched) {
        for path in change.grouping_paths() {
            if !(reuse && prefix.is_some_and(|p| path.starts_with(p))) {
                if !rule.values_into(path, &mut components, &mut found) {
                    prefix = None;
                    continue;
                }
                prefix = reuse.then(|| values_prefix(path, &found)).flatten();
            }
            *matched = true;
            let slot = match last.filter(|i| groups[*i].0 == found) {
                Some(i) => i,
                None => {
                    if let Some(slot) = index.get(found.as_slice()) {
                        *slot
                    } else {
                        // Checked once per distinct value tuple: the same values pass the same way.
                        values.check(path, &vars, &found)?;
                        groups.push((found.clone(), Vec::new()));
                        index.insert(found.clone(), groups.len() - 1);
                        groups.len() - 1
                    }
                }
            };
            groups[slot].1.push(change);
            last = Some(slot);
        }
    }
    Ok(groups)
}

/// `path` up to and with the `/` after the deepest of `values` (slices of
/// it, as stop words give them), if one follows.
fn values_prefix<'p>(path: &'p str, values: &[&str]) -> Option<&'p str> {
    let base = path.as_ptr() as usize;
    let end = values
        .iter()
        .map(|v| (v.as_ptr() as usize).checked_sub(base).map(|start| start + v.len()))
        .try_fold(0, |deepest, end| {
            end.filter(|e| *e <= path.len()).map(|e| deepest.max(e))
        })?;
    (path.as_bytes().get(end) == Some(&b'/')).then(|| &path[..=end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::DEFAULT_VALUES;

    fn rule(stop: &str) -> Result<Rule> {
        Ok(Rule {
            name: "r".to_owned(),
            pattern: Pattern::parse_stop(stop)?,
            paths: None,
            template: "t".to_owned(),
            mode: Mode::Each,
        })
    }

    /// Grouping in two halves on two threads gives what one pass gives:
    /// the same groups, files in the same order, the same first error.
    #[test]
    fn every_file_of_a_group_has_its_values() -> Result<()> {
        // Paths that start alike in ways the reuse of the previous match's
        // values must tell apart: a stop word that repeats or comes later,
        // a value that is a prefix of another, a file where a folder was.
        let rules = [rule("pipeline_name:pipelines,stage_name::pipelines")?];
        let paths = [
            "pipelines/a/s/x.py",
            "pipelines/a/s/y/z.py",
            "pipelines/a/s",
            "pipelines/a/sx/y.py",
            "pipelines/a/s2/y.py",
            "pipelines/ab/s/y.py",
            "pipelines/pipelines/a/f.py",
            "pipelines/pipelines/b/g/f.py",
            "x/pipelines/a/s/f.py",
            "x/pipelines/a/s/g.py",
            "pipelines/a",
            "pipelines/a/s/x.py.bak",
        ];
        let mut changes: Vec<Change> = paths.iter().map(|p| Change::new('M', *p)).collect();
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        let values = ValueRule::new(DEFAULT_VALUES)?;
        let grouping = group_in(&rules, &changes, &values, false)?;
        let mut seen = 0;
        for group in &grouping.groups[0] {
            for file in &group.files {
                let expected = match rules[0].pattern.extract(file.path.as_str()) {
                    crate::pattern::Extracted::Values(v) => v.into_iter().map(str::to_owned).collect::<Vec<_>>(),
                    crate::pattern::Extracted::Miss(why) => panic!("{} is grouped but misses: {why}", file.path),
                };
                assert_eq!(group.values, expected, "{}", file.path);
                seen += 1;
            }
        }
        let unmatched = grouping.unmatched.len();
        assert_eq!(seen + unmatched, paths.len());
        assert!(grouping.unmatched.iter().all(|c| matches!(
            rules[0].pattern.extract(c.path.as_str()),
            crate::pattern::Extracted::Miss(_)
        )));
        Ok(())
    }

    #[test]
    fn halves_group_as_one_pass_does() -> Result<()> {
        let rules = [rule("pipeline_name:pipelines,stage_name::pipelines")?];
        let mut changes: Vec<Change> = (0..3000)
            .map(|i| {
                let path = format!("pipelines/p{}/s{}/f{i:05}.py", i % 7, i % 3);
                if i % 5 == 0 {
                    Change::moved(
                        'R',
                        Some(90),
                        format!("pipelines/p{}/s{}/old{i:05}.py", (i + 1) % 7, i % 3),
                        path,
                    )
                } else {
                    Change::new('M', path)
                }
            })
            .collect();
        changes.push(Change::new('A', "README.md"));
        let values = ValueRule::new(DEFAULT_VALUES)?;
        let show = |g: &Grouping| {
            let mut out = Vec::new();
            for group in &g.groups[0] {
                out.push(format!(
                    "{:?}: {:?}",
                    group.values,
                    group.files.iter().map(|c| c.path.as_str()).collect::<Vec<_>>()
                ));
            }
            out.push(format!(
                "unmatched {:?}",
                g.unmatched.iter().map(|c| c.path.as_str()).collect::<Vec<_>>()
            ));
            out
        };
        let one = group_in(&rules, &changes, &values, false)?;
        let two = group_in(&rules, &changes, &values, true)?;
        assert_eq!(show(&one), show(&two));
        assert!(one.groups[0].len() == 21);
        // A bad value in each half: the first in path order is reported.
        changes.push(Change::new('A', "pipelines/p0/b$d/x.py"));
        changes.push(Change::new('A', "pipelines/p6/z$z/x.py"));
        let one = group_in(&rules, &changes, &values, false).err().map(|e| e.to_string());
        let two = group_in(&rules, &changes, &values, true).err().map(|e| e.to_string());
        assert!(one.as_deref().is_some_and(|e| e.contains("b$d")), "{one:?}");
        assert_eq!(one, two);
        Ok(())
    }

    fn summary(grouping: &Grouping) -> Vec<String> {
        grouping.groups[0]
            .iter()
            .map(|g| {
                let files: Vec<String> = g.files.iter().map(|f| f.path.to_string()).collect();
                format!("{} <- {}", g.values.join("/"), files.join(" "))
            })
            .collect()
    }

    #[test]
    fn groups_sort_by_values_and_renames_count_twice() -> Result<()> {
        let rules = [rule("p:pipelines,s::pipelines")?];
        let changes = vec![
            Change::new('M', "pipelines/b/s1/x.yaml"),
            Change::new('A', "pipelines/a/s2/y.yaml"),
            Change::new('M', "pipelines/a/s2/a.yaml"),
            Change::moved('R', Some(100), "pipelines/a/s1/m.py", "pipelines/b/s1/m.py"),
            Change::moved('C', None, "pipelines/c/s1/m.py", "pipelines/b/s1/c.py"),
            Change::new('M', "README.md"),
        ];
        let grouping = group_changes(&rules, &changes, &ValueRule::new(DEFAULT_VALUES)?)?;
        assert_eq!(
            summary(&grouping),
            [
                "a/s1 <- pipelines/b/s1/m.py",
                "a/s2 <- pipelines/a/s2/a.yaml pipelines/a/s2/y.yaml",
                "b/s1 <- pipelines/b/s1/c.py pipelines/b/s1/m.py pipelines/b/s1/x.yaml",
            ]
        );
        assert_eq!(grouping.unmatched, [&Change::new('M', "README.md")]);
        let mut reversed = changes.clone();
        reversed.reverse();
        assert_eq!(
            summary(&group_changes(&rules, &reversed, &ValueRule::new(DEFAULT_VALUES)?)?),
            summary(&grouping)
        );
        Ok(())
    }

    #[test]
    fn an_unsafe_value_fails_the_run() -> Result<()> {
        let rules = [rule("p:pipelines")?];
        let changes = [Change::new('M', "pipelines/x;rm -rf/s/a.yaml")];
        let err = group_changes(&rules, &changes, &ValueRule::new(DEFAULT_VALUES)?)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("path \"pipelines/x;rm -rf/s/a.yaml\": value \"x;rm -rf\" of variable `p` does not match the allowed values `^[A-Za-z0-9][A-Za-z0-9._-]*$`; rename the folder, or widen `values` in childgen.yml if this value is safe".to_owned())
        );
        Ok(())
    }
}

//! The pure core wired together: changes → groups → rendered fragments →
//! merged document → checks → YAML text. No I/O happens here.

use crate::change::Change;
use crate::error::{Error, Result};
use crate::group::{Group, Grouping, Mode, Rule, group_changes};
use crate::merge::{Fragment, Merger, Prepared, parse_fragment};
use crate::safety;
use crate::settings::Settings;
use crate::validate::{Report, validate_with};
use serde::Serialize;
use serde_json::{Map, Value, json};
use serde_yaml::Mapping;
use tera::Context;

/// One rendered fragment, for `plan`.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    /// The rule's name.
    pub rule: String,
    /// The group's label (`pipeline_name=p1, stage_name=s1`), or `all groups`.
    pub group: String,
    /// The jobs this fragment defines.
    pub jobs: Vec<String>,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Outcome<'c> {
    /// The YAML to write.
    pub yaml: String,
    /// Jobs and warnings.
    pub report: Report,
    /// The groups found.
    pub grouping: Grouping<'c>,
    /// What each fragment contributed.
    pub rendered: Vec<Rendered>,
    /// Whether the no-op pipeline was produced.
    pub empty: bool,
}

impl Outcome<'_> {
    /// The written document, parsed (for `plan`): the merge keeps text, not
    /// parsed jobs, so that memory follows the output's size.
    ///
    /// # Errors
    /// Never for YAML childgen wrote; an error names the problem if it does.
    pub fn document(&self) -> Result<Mapping> {
        serde_yaml::from_str(&self.yaml)
            .map_err(|e| Error::Usage(format!("cannot read back the generated pipeline: {e}")))
    }
}

/// `pipeline_name=p1, stage_name=s1`
#[must_use]
pub fn group_label(rule: &Rule, group: &Group) -> String {
    let vars = rule.pattern.vars();
    vars.iter()
        .zip(&group.values)
        .map(|(var, value)| format!("{var}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the child pipeline for `changes`.
///
/// # Errors
/// Any value, template, fragment, merge or validation error.
pub fn generate<'c>(settings: &Settings, changes: &'c [Change]) -> Result<Outcome<'c>> {
    let grouping = group_changes(&settings.rules, changes, &settings.values)?;
    // Fragments merge in output order (rule, then group) as they are
    // rendered: each context is built just before its rendering and dropped
    // after it, and each parsed fragment moves into the merged document, so
    // memory grows with the output, not with the number of groups.
    let mut merger = Merger::default();
    let mut rendered = Vec::new();
    let known = known_words(settings);
    let proven = safety::Proven::default();
    // Every rule's groups in one list, so that they spread over the cores
    // (a typical merge request has a few groups in each of a few rules);
    // results still merge in rule, then group, order.
    let files_read: Vec<bool> = settings
        .rules
        .iter()
        .map(|rule| settings.renderer.uses(&rule.template, "files"))
        .collect();
    let mut work: Vec<(usize, Option<&Group>)> = Vec::new();
    for (index, (rule, groups)) in settings.rules.iter().zip(&grouping.groups).enumerate() {
        match rule.mode {
            Mode::Each => work.extend(groups.iter().map(|group| (index, Some(group)))),
            Mode::Once if !groups.is_empty() => work.push((index, None)),
            Mode::Once => {}
        }
    }
    // Each rule's first group starts first: the others of a rule mostly
    // wait for its check ([`safety::Proven`]) while another rule's renders.
    let mut order: Vec<usize> = (0..work.len()).collect();
    order.sort_by_key(|&at| (at > 0 && work[at - 1].0 == work[at].0, at));
    let all: Vec<&Change> = changes.iter().collect();
    let mut early = std::collections::BTreeMap::new();
    let mut turn = 0;
    crate::parallel::ordered(
        &order,
        |&at| {
            let (index, group) = work[at];
            let rule = &settings.rules[index];
            let fragment = if let Some(group) = group {
                // Serialising every group's files costs more than
                // rendering when the template never reads them.
                let files = files_read[index];
                render_group(
                    settings,
                    rule,
                    &each_context(rule, group, settings, files),
                    &Reached::of(
                        group.values.iter().map(String::as_str),
                        if files { &group.files[..] } else { &[] },
                        &group.files,
                        &known,
                        &proven,
                    ),
                    // Without `files`, the group's values are all of
                    // the merge request that reaches the context.
                    if files || !group.values.iter().all(|v| safety::is_neutral(v)) {
                        Hostile::of(group.files.iter().copied())
                    } else {
                        None
                    },
                    group_label(rule, group),
                )
            } else {
                let groups = &grouping.groups[index];
                render_group(
                    settings,
                    rule,
                    &once_context(rule, groups, changes, &grouping, settings),
                    &Reached::of(
                        groups.iter().flat_map(|g| g.values.iter().map(String::as_str)),
                        &all,
                        &all,
                        &known,
                        &proven,
                    ),
                    Hostile::of(changes.iter()),
                    "all groups".to_owned(),
                )
            };
            (at, fragment)
        },
        |(at, fragment)| {
            // Back in rule, then group, order.
            early.insert(at, fragment);
            while let Some(fragment) = early.remove(&turn) {
                turn += 1;
                if let Some((summary, fragment)) = fragment? {
                    rendered.push(summary);
                    merger.add(fragment)?;
                }
            }
            Ok::<(), Error>(())
        },
    )?;
    let empty = rendered.is_empty();
    if empty {
        let mut context = base_context(settings);
        context.insert("changes", changes);
        context.insert("unmatched", &grouping.unmatched);
        let all: Vec<&Change> = changes.iter().collect();
        let doc = render_fragment(
            settings,
            &settings.empty_template,
            "no changes",
            &context,
            &Reached::of(std::iter::empty(), &all, &all, &known, &proven),
            Hostile::of(changes.iter()),
        )?
        .unwrap_or_default();
        merger.add(
            Fragment {
                origin: format!("template {}", settings.empty_template),
                doc,
            }
            .prepare()?,
        )?;
    }
    // Another fragment's `default:` scripts run in the jobs a changed path
    // or value reached, with their variables and the files their scripts
    // wrote (and `default: artifacts` hands those on): no single
    // fragment's check sees both.
    // (A template's own `default:` is checked with its fragments.)
    if let Some((template, origin)) = proven.1.default.lock().ok().and_then(|d| d.clone())
        && proven.1.reached.lock().is_ok_and(|t| t.iter().any(|t| *t != template))
    {
        return Err(Error::Merge {
            origin,
            detail: "sets `default:` scripts, cache or artifacts, which GitLab gives every job, also those of \
                     fragments a changed path or value reaches, whose variables and written files they would \
                     read where no check follows them; write those keys in each template's jobs (`extends:` a \
                     hidden job of the same template) instead"
                .to_owned(),
        });
    }
    let document = merger.finish()?;
    let groups: usize = grouping.groups.iter().map(Vec::len).sum();
    let yaml = format!(
        "# Generated by childgen from {} changed path(s) in {groups} group(s). Do not edit: change the templates.\n{body}",
        changes.len(),
        body = document.yaml
    );
    let report = validate_with(&document.summary, yaml.len(), &settings.limits, || document.problems);
    if !report.errors.is_empty() {
        // Fragments that rendered only global keys (`stages:`): say which,
        // and what to do.
        let jobless: Vec<String> = rendered
            .iter()
            .filter(|r| r.jobs.is_empty())
            .map(|r| format!("rule `{}`, group {}", r.rule, r.group))
            .collect();
        let problems = report
            .errors
            .into_iter()
            .map(|problem| {
                if problem.starts_with("the document has no job") && !jobless.is_empty() {
                    format!(
                        "{problem}: {} rendered no job for this change; render a job in every case (a no-op \
                         `echo`), or render nothing at all, so that the no-changes pipeline is used",
                        jobless.join("; ")
                    )
                } else {
                    problem
                }
            })
            .collect();
        return Err(Error::Invalid {
            subject: "the generated pipeline".to_owned(),
            problems,
        });
    }
    Ok(Outcome {
        yaml,
        report,
        grouping,
        rendered,
        empty,
    })
}

/// Renders one group's fragment and names its jobs; `None` when the
/// template rendered nothing.
fn render_group(
    settings: &Settings,
    rule: &Rule,
    context: &Context,
    reached: &Reached,
    hostile: Option<Hostile>,
    label: String,
) -> Result<Option<(Rendered, Prepared)>> {
    let Some(doc) = render_fragment(settings, &rule.template, &label, context, reached, hostile)? else {
        return Ok(None);
    };
    let jobs = doc
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| !k.starts_with('.') && !crate::merge::GLOBAL_KEYWORDS.contains(k))
        .map(str::to_owned)
        .collect();
    let origin = format!("template {} (group {label})", rule.template);
    let summary = Rendered {
        rule: rule.name.clone(),
        group: label,
        jobs,
    };
    Ok(Some((summary, Fragment { origin, doc }.prepare()?)))
}

/// The words a command may be named by in the templates and `vars`
/// ([`safety::check_reach`]).
fn known_words(settings: &Settings) -> safety::Known {
    let mut known = safety::Known::default();
    for source in settings.renderer.sources() {
        known.add(source);
        known.trust_declared(source);
    }
    known.add(&serde_json::to_string(&settings.vars).unwrap_or_default());
    for program in &settings.trusted_commands {
        known.trust(program);
    }
    known
}

/// The text of a fragment's context a merge request chose (values and, when
/// the context holds them, paths), the paths it came from (to name one in
/// errors), and the words the templates write.
struct Reached<'k> {
    chosen: safety::Chosen,
    from: &'k [&'k Change],
    known: &'k safety::Known,
    proven: &'k safety::Proven,
}

impl<'k> Reached<'k> {
    fn of<'a>(
        values: impl Iterator<Item = &'a str>,
        in_context: &[&Change],
        from: &'k [&'k Change],
        known: &'k safety::Known,
        proven: &'k safety::Proven,
    ) -> Self {
        let mut chosen = safety::Chosen::default();
        values.for_each(|v| chosen.add(v));
        for change in in_context {
            chosen.add(&change.path);
            if let Some(old) = &change.old_path {
                chosen.add(old);
            }
        }
        Reached {
            chosen,
            from,
            known,
            proven,
        }
    }

    /// The path one of whose parts (one the templates do not write first),
    /// marked, is a word of `marked_text`; else the first.
    fn culprit(&self, marked_text: &str) -> String {
        let paths: Vec<String> = self.from.iter().take(10_000).map(|c| c.path.to_string()).collect();
        let words: Vec<&str> = marked_text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        let find = |unknown_only: bool| {
            paths.iter().find(|path| {
                path.split('/')
                    .flat_map(|part| [part, part.split('.').next().unwrap_or_default()])
                    .filter(|part| !unknown_only || !self.known.contains(part))
                    .filter_map(|part| self.chosen.mark(part))
                    .any(|marked| words.contains(&marked.as_str()))
            })
        };
        find(true)
            .or_else(|| find(false))
            .or(paths.first())
            .cloned()
            .unwrap_or_default()
    }
}

/// The paths of a fragment's context that are not neutral, each with its
/// stand-in (to name the path in errors).
struct Hostile {
    paths: Vec<(String, String)>,
}

impl Hostile {
    /// `None` when every path is neutral: there is nothing to prove.
    fn of<'c>(changes: impl Iterator<Item = &'c Change>) -> Option<Hostile> {
        let mut paths = Vec::new();
        for change in changes {
            for path in std::iter::once(&change.path).chain(&change.old_path) {
                if !safety::is_neutral(path) {
                    paths.push((path.to_string(), safety::stand_in(path).into_owned()));
                }
            }
        }
        (!paths.is_empty()).then_some(Hostile { paths })
    }

    /// The path whose stand-in appears in `text` (the stand-in rendering
    /// around the difference), or whose file name does, else the first one.
    fn culprit(&self, text: &str) -> &str {
        let name = |s: &str| s.rsplit('/').next().unwrap_or_default().to_owned();
        self.paths
            .iter()
            .find(|(_, neutral)| text.contains(neutral.as_str()))
            .or_else(|| {
                self.paths
                    .iter()
                    .find(|(path, neutral)| !safety::is_neutral(&name(path)) && text.contains(name(neutral).as_str()))
            })
            .or(self.paths.first())
            .map_or("", |(path, _)| path.as_str())
    }
}

/// `context` with every string replaced by its stand-in, except `vars` (the
/// configuration's, trusted): the rest (paths, statuses, the values taken
/// from paths) comes from the merge request.
fn stand_in_context(context: &Context) -> Result<Context> {
    fn walk(value: &mut Value) {
        match value {
            Value::String(text) => {
                if let std::borrow::Cow::Owned(neutral) = safety::stand_in(text) {
                    *text = neutral;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Object(map) => map.values_mut().for_each(walk),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    let mut json = context.clone().into_json();
    if let Value::Object(map) = &mut json {
        for (key, value) in map.iter_mut() {
            if key != "vars" {
                walk(value);
            }
        }
    }
    Context::from_value(json).map_err(|e| Error::Usage(format!("cannot build the stand-in context: {e}")))
}

/// The error for a changed path that fragment `label` of `template` cannot
/// be proven safe with.
fn unsafe_path(template: &str, label: &str, path: &str, at: String, detail: String) -> Error {
    Error::Unsafe {
        template: template.to_owned(),
        group: label.to_owned(),
        path: path.to_owned(),
        at,
        detail,
    }
}

/// Renders, parses and checks one fragment: its shape ([`shaped`]), then
/// where the text a merge request chose landed ([`safety::check_reach`]).
fn render_fragment(
    settings: &Settings,
    template: &str,
    label: &str,
    context: &Context,
    reached: &Reached,
    hostile: Option<Hostile>,
) -> Result<Option<Mapping>> {
    let unsafe_path = |path: &str, at: String, detail: String| unsafe_path(template, label, path, at, detail);
    let real = shaped(settings, template, label, context, hostile, reached.known)?;
    if let Some(real) = &real {
        let runs = |key: &str| real.get("default").and_then(|d| d.get(key)).is_some();
        if ["before_script", "after_script", "script", "cache", "artifacts", "hooks"]
            .iter()
            .any(|k| runs(k))
            && let Ok(mut default) = reached.proven.1.default.lock()
        {
            // The same one whatever order the threads render in.
            let here = (template.to_owned(), format!("template {template} (group {label})"));
            if default.as_ref().is_none_or(|first| here < *first) {
                *default = Some(here);
            }
        }
        let chosen_here = safety::check_reach(real, &reached.chosen, reached.known, reached.proven)
            .map_err(|d| unsafe_path(&reached.culprit(&d.stand_in_text), d.at, d.detail))?;
        // (Once per template: the walk is the cost.)
        let recorded = || {
            reached
                .proven
                .1
                .reached
                .lock()
                .is_ok_and(|t| t.iter().any(|t| t == template))
        };
        if chosen_here
            && !recorded()
            && (safety::reaches_variables(real, &reached.chosen) || safety::reaches_script_lines(real, &reached.chosen))
            && let Ok(mut templates) = reached.proven.1.reached.lock()
            && !templates.iter().any(|t| t == template)
        {
            templates.push(template.to_owned());
        }
    }
    Ok(real)
}

/// Renders and parses one fragment; when its paths are not all neutral,
/// renders it again from stand-ins and proves that both documents have the
/// same shape ([`safety::compare`]), failing closed with the path when not.
fn shaped(
    settings: &Settings,
    template: &str,
    label: &str,
    context: &Context,
    hostile: Option<Hostile>,
    known: &safety::Known,
) -> Result<Option<Mapping>> {
    let text = settings.renderer.render(template, context, label)?;
    // Only a fragment that names `env` (any case: `ENVIRON`, `%ENV`), `set`
    // or `export`, or holds a pattern, can write its environment to a file
    // or a variable.
    let environment = |doc: &Option<Mapping>| -> Result<()> {
        match doc {
            Some(doc) if safety::may_print_environment(&text) || safety::may_name_environment_file(&text) => {
                safety::writes_environment(doc).map_err(|d| Error::Fragment {
                    template: template.to_owned(),
                    group: label.to_owned(),
                    detail: format!("`{}` {}", d.at, d.detail),
                })
            }
            _ => Ok(()),
        }
    };
    let Some(hostile) = hostile else {
        let real = parse_fragment(&text, template, label)?;
        environment(&real)?;
        return Ok(real);
    };
    let unsafe_path = |path: &str, at: String, detail: String| unsafe_path(template, label, path, at, detail);
    let neutral_text = settings
        .renderer
        .render(template, &stand_in_context(context)?, label)
        .map_err(|e| {
            unsafe_path(
                hostile.culprit(""),
                "the fragment".to_owned(),
                format!(
                    "cannot be checked: the template fails when the path's special characters are replaced by `_` ({e})"
                ),
            )
        })?;
    let neutral = parse_fragment(&neutral_text, template, label)?;
    let real = parse_fragment(&text, template, label).map_err(|e| {
        let detail = match e {
            Error::Fragment { detail, .. } => detail,
            other => other.to_string(),
        };
        unsafe_path(
            hostile.culprit(&neutral_text),
            "the fragment".to_owned(),
            format!("breaks the rendered YAML ({detail})"),
        )
    })?;
    let empty = Mapping::new();
    let untrusted = safety::compare(
        real.as_ref().unwrap_or(&empty),
        neutral.as_ref().unwrap_or(&empty),
        known,
    )
    .map_err(|d| unsafe_path(hostile.culprit(&d.stand_in_text), d.at, d.detail))?;
    // A part of a path that starts with `-` is an option to a command that
    // reads it as an argument, quoted or not (`tar -cf o.tar "$F"` with a
    // file named `--to-command=...`).
    if real != neutral
        && let Some((path, _)) = hostile
            .paths
            .iter()
            .find(|(path, _)| path.split('/').any(|p| p.starts_with('-')))
    {
        return Err(unsafe_path(
            path,
            "the fragment".to_owned(),
            "has a part starting with `-`, which a command given it as an argument reads as an option, quoted or \
             not (`tar` runs `--to-command=...`); rename the file"
                .to_owned(),
        ));
    }
    // A line break makes one path several lines for whatever reads lines
    // (`while read -r f`, `head -n 1`, `mapfile`): the next could name any
    // file (`/proc/self/environ`, `.git/config`).
    if real != neutral
        && let Some((path, _)) = hostile.paths.iter().find(|(path, _)| path.contains(['\n', '\r']))
        && safety::reaches_scripts(real.as_ref().unwrap_or(&empty), neutral.as_ref().unwrap_or(&empty))
    {
        return Err(unsafe_path(
            path,
            "the fragment".to_owned(),
            "holds a line break, which splits it into several paths for whatever reads lines (`while read -r f`, \
             `head -n 1`), the next of which could name any file (`/proc/self/environ`); rename the file"
                .to_owned(),
        ));
    }
    // A program not known to read a path as data: after the checks above,
    // whose messages say more.
    if let Some(d) = untrusted {
        return Err(unsafe_path(hostile.culprit(&d.stand_in_text), d.at, d.detail));
    }
    environment(&real)?;
    Ok(real)
}

fn base_context(settings: &Settings) -> Context {
    let mut context = Context::new();
    context.insert("vars", &settings.vars);
    context
}

/// `each` mode: the variables at top level, `files`, `vars`.
/// `files` is left out when the template never reads it.
fn each_context(rule: &Rule, group: &Group, settings: &Settings, files: bool) -> Context {
    let mut context = base_context(settings);
    for (var, value) in rule.pattern.vars().iter().zip(&group.values) {
        context.insert(var.as_str(), value);
    }
    if files {
        context.insert("files", &group.files);
    } else {
        // Still named (for "this template can use" messages), never read.
        context.insert("files", &[(); 0]);
    }
    context
}

/// `once` mode: `groups` (each with its variables and `files`), `changes`,
/// `unmatched`, `vars`.
fn once_context(
    rule: &Rule,
    groups: &[Group],
    changes: &[Change],
    grouping: &Grouping,
    settings: &Settings,
) -> Context {
    let vars = rule.pattern.vars();
    let list: Vec<Value> = groups
        .iter()
        .map(|group| {
            let mut entry: Map<String, Value> = vars
                .iter()
                .zip(&group.values)
                .map(|(v, x)| (v.to_string(), json!(x)))
                .collect();
            entry.insert("files".to_owned(), json!(group.files));
            Value::Object(entry)
        })
        .collect();
    let mut context = base_context(settings);
    context.insert("groups", &list);
    context.insert("changes", changes);
    context.insert("unmatched", &grouping.unmatched);
    context
}

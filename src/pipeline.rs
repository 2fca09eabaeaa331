//! The pure core wired together: changes → groups → rendered fragments →
//! merged document → checks → YAML text. No I/O happens here.

use crate::change::Change;
use crate::error::{Error, Result};
use crate::group::{Group, Grouping, Mode, Rule, group_changes};
use crate::merge::{Fragment, merge_fragments, parse_fragment};
use crate::safety;
use crate::settings::Settings;
use crate::validate::{Report, validate};
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
    /// The merged document.
    pub doc: serde_yaml::Mapping,
    /// Jobs and warnings.
    pub report: Report,
    /// The groups found.
    pub grouping: Grouping<'c>,
    /// What each fragment contributed.
    pub rendered: Vec<Rendered>,
    /// Whether the no-op pipeline was produced.
    pub empty: bool,
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
    // Fragments in output order: rule, then group. Each context is built just
    // before its rendering and dropped after it, so memory stays flat.
    let mut fragments = Vec::new();
    let mut rendered = Vec::new();
    for (rule, groups) in settings.rules.iter().zip(&grouping.groups) {
        let mut render = |context: Context, stand_in: Option<StandIn>, label: String| -> Result<()> {
            if let Some(doc) = render_fragment(settings, &rule.template, &label, &context, stand_in)? {
                let jobs = doc
                    .keys()
                    .filter_map(|k| k.as_str())
                    .filter(|k| !k.starts_with('.') && !crate::merge::GLOBAL_KEYWORDS.contains(k))
                    .map(str::to_owned);
                let origin = format!("template {} (group {label})", rule.template);
                rendered.push(Rendered {
                    rule: rule.name.clone(),
                    group: label,
                    jobs: jobs.collect(),
                });
                fragments.push(Fragment { origin, doc });
            }
            Ok(())
        };
        match rule.mode {
            Mode::Each => {
                for group in groups {
                    let stand_in = StandIn::of(group.files.iter().copied()).map(|mut stand_in| {
                        let files: Vec<Change> = group.files.iter().map(|c| stand_in_change(c)).collect();
                        let neutral = Group {
                            values: group.values.iter().map(|v| safety::stand_in(v).into_owned()).collect(),
                            files: files.iter().collect(),
                        };
                        stand_in.context = each_context(rule, &neutral, settings);
                        stand_in
                    });
                    render(each_context(rule, group, settings), stand_in, group_label(rule, group))?;
                }
            }
            Mode::Once if !groups.is_empty() => {
                let stand_in = StandIn::of(changes.iter()).map(|mut stand_in| {
                    let neutral: Vec<Change> = changes.iter().map(stand_in_change).collect();
                    let at = |c: &Change| &neutral[position(changes, c)];
                    let neutral_groups: Vec<Group> = groups
                        .iter()
                        .map(|g| Group {
                            values: g.values.iter().map(|v| safety::stand_in(v).into_owned()).collect(),
                            files: g.files.iter().map(|c| at(c)).collect(),
                        })
                        .collect();
                    let neutral_grouping = Grouping {
                        groups: Vec::new(),
                        unmatched: grouping.unmatched.iter().map(|c| at(c)).collect(),
                    };
                    stand_in.context = once_context(rule, &neutral_groups, &neutral, &neutral_grouping, settings);
                    stand_in
                });
                render(
                    once_context(rule, groups, changes, &grouping, settings),
                    stand_in,
                    "all groups".to_owned(),
                )?;
            }
            Mode::Once => {}
        }
    }
    let empty = fragments.is_empty();
    if empty {
        let empty_context = |changes: &[Change], unmatched: &[&Change]| {
            let mut context = base_context(settings);
            context.insert("changes", changes);
            context.insert("unmatched", unmatched);
            context
        };
        let stand_in = StandIn::of(changes.iter()).map(|mut stand_in| {
            let neutral: Vec<Change> = changes.iter().map(stand_in_change).collect();
            let unmatched: Vec<&Change> = grouping
                .unmatched
                .iter()
                .map(|c| &neutral[position(changes, c)])
                .collect();
            stand_in.context = empty_context(&neutral, &unmatched);
            stand_in
        });
        let doc = render_fragment(
            settings,
            &settings.empty_template,
            "no changes",
            &empty_context(changes, &grouping.unmatched),
            stand_in,
        )?
        .unwrap_or_default();
        fragments.push(Fragment {
            origin: format!("template {}", settings.empty_template),
            doc,
        });
    }
    let merged = merge_fragments(&fragments)?;
    let body =
        serde_yaml::to_string(&merged).map_err(|e| Error::Usage(format!("cannot serialise the pipeline: {e}")))?;
    let groups: usize = grouping.groups.iter().map(Vec::len).sum();
    let yaml = format!(
        "# Generated by childgen from {} changed path(s) in {groups} group(s). Do not edit: change the templates.\n{body}",
        changes.len()
    );
    let report = validate(&merged, yaml.len(), &settings.limits);
    if !report.errors.is_empty() {
        return Err(Error::Invalid {
            subject: "the generated pipeline".to_owned(),
            problems: report.errors,
        });
    }
    Ok(Outcome {
        yaml,
        doc: merged,
        report,
        grouping,
        rendered,
        empty,
    })
}

/// The second rendering of a fragment whose paths are not all neutral: the
/// context with stand-ins, and the paths that needed one (to name in errors).
struct StandIn {
    context: Context,
    paths: Vec<(String, String)>,
}

impl StandIn {
    /// `None` when every path is neutral (nothing to prove); else the paths
    /// that need a stand-in, with an empty context to fill.
    fn of<'c>(changes: impl Iterator<Item = &'c Change>) -> Option<StandIn> {
        let mut paths = Vec::new();
        for change in changes {
            for path in std::iter::once(&change.path).chain(&change.old_path) {
                if !safety::is_neutral(path) {
                    paths.push((path.clone(), safety::stand_in(path).into_owned()));
                }
            }
        }
        (!paths.is_empty()).then(|| StandIn {
            context: Context::new(),
            paths,
        })
    }

    /// The path whose stand-in appears in `text` (the stand-in rendering
    /// around the difference), else the first one.
    fn culprit(&self, text: &str) -> &str {
        let last = |s: &str| s.rsplit('/').next().unwrap_or_default().to_owned();
        self.paths
            .iter()
            .find(|(_, neutral)| text.contains(neutral.as_str()))
            .or_else(|| {
                self.paths
                    .iter()
                    .find(|(path, neutral)| !safety::is_neutral(&last(path)) && text.contains(last(neutral).as_str()))
            })
            .or(self.paths.first())
            .map_or("", |(path, _)| path.as_str())
    }
}

/// A change with stand-ins for its paths.
fn stand_in_change(change: &Change) -> Change {
    Change {
        path: safety::stand_in(&change.path).into_owned(),
        status: change.status,
        score: change.score,
        old_path: change.old_path.as_deref().map(|p| safety::stand_in(p).into_owned()),
    }
}

/// The index of `change` in `changes` (groups hold references into it).
fn position(changes: &[Change], change: &Change) -> usize {
    let offset = std::ptr::from_ref(change).addr() - changes.as_ptr().addr();
    offset / std::mem::size_of::<Change>().max(1)
}

/// Renders and parses one fragment; with a stand-in, renders it again from
/// neutral paths and proves the two documents have the same shape
/// ([`safety::compare`]), failing closed with the path when they do not.
fn render_fragment(
    settings: &Settings,
    template: &str,
    label: &str,
    context: &Context,
    stand_in: Option<StandIn>,
) -> Result<Option<Mapping>> {
    let text = settings.renderer.render(template, context, label)?;
    let Some(stand_in) = stand_in else {
        return parse_fragment(&text, template, label);
    };
    let unsafe_path = |path: &str, at: String, detail: String| Error::Unsafe {
        template: template.to_owned(),
        group: label.to_owned(),
        path: path.to_owned(),
        at,
        detail,
    };
    let neutral_text = settings
        .renderer
        .render(template, &stand_in.context, label)
        .map_err(|e| {
            unsafe_path(
                stand_in.culprit(""),
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
            stand_in.culprit(&neutral_text),
            "the fragment".to_owned(),
            format!("breaks the rendered YAML ({detail})"),
        )
    })?;
    let empty = Mapping::new();
    safety::compare(real.as_ref().unwrap_or(&empty), neutral.as_ref().unwrap_or(&empty))
        .map_err(|d| unsafe_path(stand_in.culprit(&d.stand_in_text), d.at, d.detail))?;
    Ok(real)
}

fn base_context(settings: &Settings) -> Context {
    let mut context = Context::new();
    context.insert("vars", &settings.vars);
    context
}

/// `each` mode: the variables at top level, `files`, `vars`.
fn each_context(rule: &Rule, group: &Group, settings: &Settings) -> Context {
    let mut context = base_context(settings);
    for (var, value) in rule.pattern.vars().iter().zip(&group.values) {
        context.insert(var.as_str(), value);
    }
    context.insert("files", &group.files);
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

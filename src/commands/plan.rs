//! `childgen plan`: the dry run a person reads before committing. Per rule
//! and group, the files that selected it and the jobs it generates; the
//! unmatched files; warnings. As text, JSON, or a Mermaid flowchart of the
//! child pipeline's stages, jobs and `needs`.

use crate::cli::{GlobalArgs, PlanFormat, SourceArgs};
use crate::commands::generate::collect;
use crate::output::emit;
use crate::pipeline::{Outcome, group_label};
use crate::rules::{self, Fate, Planned, Variables};
use crate::settings::{Need, Settings};
use anyhow::Result;
use serde_json::{Value, json};
use serde_yaml::Mapping;
use std::fmt::Write as _;

/// Plans the pipeline for the selected changes.
pub fn run(global: &GlobalArgs, source: &SourceArgs, format: PlanFormat, pipeline: Option<&str>) -> Result<()> {
    let settings = Settings::resolve(global, Need::Templates)?;
    let (planned, default_branch) = planned_pipeline(&settings, pipeline)?;
    let collected = collect(&settings, source)?;
    let changes = collected.changes;
    let outcome = crate::pipeline::generate(&settings, &changes)?;
    let doc = outcome.document()?;
    let fates = rules::fates(&doc, &Variables::for_pipeline(&planned, &default_branch));
    let plan = Plan {
        outcome: &outcome,
        fates: &fates,
        planned: describe_pipeline(&planned, &default_branch),
    };
    // Text and JSON carry the warnings themselves; the chart cannot.
    if matches!(format, PlanFormat::Mermaid | PlanFormat::Markdown) {
        for warning in &outcome.report.warnings {
            settings.warn(warning);
        }
    }
    let text = match format {
        PlanFormat::Text => format!(
            "compared: {}\n{}",
            collected.compared,
            text(&settings, &plan, changes.len())
        ),
        PlanFormat::Json => {
            let mut value = to_json(&settings, &outcome, changes.len());
            value["compared"] = json!(collected.compared);
            value["pipeline"] = json!(plan.planned);
            value["fates"] = fates
                .iter()
                .map(|(job, fate)| {
                    let (kind, why) = match fate {
                        Fate::Runs(when) => ("runs", when.clone()),
                        Fate::Manual => ("manual", String::new()),
                        Fate::Excluded(why) => ("not_run", why.clone()),
                        Fate::Unknown(why) => ("may_run", why.clone()),
                    };
                    (job.clone(), json!({"fate": kind, "why": why}))
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            let mut json = serde_json::to_string_pretty(&value)?;
            json.push('\n');
            json
        }
        PlanFormat::Mermaid => format!(
            "%% compared: {}\n%% planned: {}\n{}",
            collected.compared,
            plan.planned,
            mermaid(&doc, &fates)
        ),
        PlanFormat::Markdown => format!(
            "```mermaid\n%% compared: {}\n%% planned: {}\n{}```\n",
            collected.compared,
            plan.planned,
            mermaid(&doc, &fates)
        ),
    };
    emit(global.output.as_deref(), &text)?;
    Ok(())
}

/// What `plan` shows: the outcome and each job's fate in the planned pipeline.
struct Plan<'a> {
    outcome: &'a Outcome<'a>,
    fates: &'a [(String, Fate)],
    planned: String,
}

impl Plan<'_> {
    /// `job`, marked when it does not simply run.
    fn job(&self, job: &str) -> String {
        match self.fates.iter().find(|(name, _)| name == job).map(|(_, f)| f) {
            Some(Fate::Manual) => format!("{job} (manual)"),
            Some(Fate::Excluded(_)) => format!("{job} (not run)"),
            Some(Fate::Unknown(_)) => format!("{job} (may run)"),
            _ => job.to_owned(),
        }
    }
}

/// The pipeline `plan` evaluates rules for, and the default branch.
fn planned_pipeline(settings: &Settings, flag: Option<&str>) -> Result<(Planned, String)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let default_branch = settings
        .config
        .as_ref()
        .and_then(|c| c.file.default_branch.clone())
        .or_else(|| env("CI_DEFAULT_BRANCH"))
        .unwrap_or_else(|| "main".to_owned());
    // The source branch's name matters only to rules that compare it; outside
    // CI it is not guessed from the checkout (plan's output stays the same
    // wherever it runs).
    let current = env("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        .or_else(|| env("CI_COMMIT_BRANCH"))
        .unwrap_or_else(|| "your-branch".to_owned());
    let planned = match flag {
        Some("merge-request") => Planned::MergeRequest { branch: current },
        Some("default-branch") => Planned::Branch {
            branch: default_branch.clone(),
        },
        Some(other) => match other.split_once(':') {
            Some(("branch", name)) if !name.is_empty() => Planned::Branch {
                branch: name.to_owned(),
            },
            Some(("tag", name)) if !name.is_empty() => Planned::Tag { tag: name.to_owned() },
            _ => {
                return Err(crate::Error::Usage(format!(
                    "--pipeline {other:?}: give merge-request, default-branch, branch:NAME or tag:NAME"
                ))
                .into());
            }
        },
        None => match (
            env("CI_PIPELINE_SOURCE").as_deref(),
            env("CI_COMMIT_TAG"),
            env("CI_COMMIT_BRANCH"),
        ) {
            (Some(source), Some(tag), _) if source != "merge_request_event" => Planned::Tag { tag },
            (Some(source), None, Some(branch)) if source != "merge_request_event" => Planned::Branch { branch },
            // Outside CI, and in merge request pipelines.
            _ => Planned::MergeRequest { branch: current },
        },
    };
    Ok((planned, default_branch))
}

fn describe_pipeline(planned: &Planned, default_branch: &str) -> String {
    match planned {
        Planned::MergeRequest { branch } => format!("a merge request pipeline ({branch} into {default_branch})"),
        Planned::Branch { branch } if branch == default_branch => format!("a pipeline on the default branch {branch}"),
        Planned::Branch { branch } => format!("a pipeline on branch {branch}"),
        Planned::Tag { tag } => format!("a tag pipeline for {tag}"),
    }
}

/// Which jobs the planned pipeline's rules run, leave manual, exclude, or
/// leave undecided, and what plan evaluates.
fn fates_text(plan: &Plan<'_>) -> String {
    let mut out = format!(
        "\nin {}, by rules:if, when and workflow:rules (--pipeline plans another):\n",
        plan.planned
    );
    let runs = plan.fates.iter().filter(|(_, f)| matches!(f, Fate::Runs(_))).count();
    let _ = writeln!(out, "  run: {runs} job(s)");
    let mut list = |title: &str, pick: &dyn Fn(&Fate) -> Option<String>| {
        let picked: Vec<String> = plan
            .fates
            .iter()
            .filter_map(|(job, fate)| {
                pick(fate).map(|why| {
                    if why.is_empty() {
                        job.clone()
                    } else {
                        format!("{job} ({why})")
                    }
                })
            })
            .collect();
        if !picked.is_empty() {
            let _ = writeln!(out, "  {title} ({}): {}", picked.len(), picked.join(", "));
        }
    };
    list("manual", &|f| matches!(f, Fate::Manual).then(String::new));
    list("not run", &|f| match f {
        Fate::Excluded(why) => Some(why.clone()),
        _ => None,
    });
    list("may run", &|f| match f {
        Fate::Unknown(why) => Some(why.clone()),
        _ => None,
    });
    out.push_str("  (not evaluated: rules:changes, rules:exists, only/except, and CI/CD variables of the project)\n");
    out
}

/// The jobs that a rule's rendering for one group (or `all groups`) defined.
fn jobs_of(outcome: &Outcome<'_>, rule: &str, label: &str) -> Vec<String> {
    outcome
        .rendered
        .iter()
        .filter(|r| r.rule == rule && r.group == label)
        .flat_map(|r| r.jobs.clone())
        .collect()
}

/// Every rule's groups with their files and jobs.
fn to_json(settings: &Settings, outcome: &Outcome<'_>, changes: usize) -> Value {
    let rules: Vec<Value> = settings
        .rules
        .iter()
        .zip(&outcome.grouping.groups)
        .map(|(rule, groups)| {
            let jobs_of = |label: &str| jobs_of(outcome, &rule.name, label);
            let groups: Vec<Value> = groups
                .iter()
                .map(|group| {
                    let vars: serde_json::Map<String, Value> = rule
                        .pattern
                        .vars()
                        .iter()
                        .zip(&group.values)
                        .map(|(v, x)| (v.to_string(), json!(x)))
                        .collect();
                    let label = group_label(rule, group);
                    let jobs = match rule.mode {
                        crate::group::Mode::Each => jobs_of(&label),
                        crate::group::Mode::Once => Vec::new(),
                    };
                    json!({"vars": vars, "files": group.files, "jobs": jobs})
                })
                .collect();
            json!({
                "name": rule.name,
                "pattern": rule.pattern.to_string(),
                "template": rule.template,
                "mode": rule.mode,
                "groups": groups,
                "jobs_once": if rule.mode == crate::group::Mode::Once { jobs_of("all groups") } else { Vec::new() },
            })
        })
        .collect();
    json!({
        "changes": changes,
        "rules": rules,
        "unmatched": outcome.grouping.unmatched,
        "jobs": outcome.report.jobs,
        "no_changes_pipeline": outcome.empty,
        "warnings": outcome.report.warnings,
    })
}

fn text(settings: &Settings, plan: &Plan<'_>, changes: usize) -> String {
    use crate::change::quote_path;
    let outcome = plan.outcome;
    let groups: usize = outcome.grouping.groups.iter().map(Vec::len).sum();
    let mut out = format!(
        "{changes} changed path(s) → {groups} group(s) → {} job(s)\n",
        outcome.report.jobs.len()
    );
    for (rule, groups) in settings.rules.iter().zip(&outcome.grouping.groups) {
        let _ = write!(
            out,
            "\nrule {} ({}, template {})\n",
            rule.name, rule.pattern, rule.template
        );
        if groups.is_empty() {
            out.push_str("  no group\n");
        }
        let jobs_of = |label: &str| -> Vec<String> {
            jobs_of(outcome, &rule.name, label)
                .iter()
                .map(|j| plan.job(j))
                .collect()
        };
        for group in groups {
            let label = group_label(rule, group);
            let _ = writeln!(out, "  {label}");
            for file in &group.files {
                let moved = file
                    .old_path
                    .as_deref()
                    .map(|o| format!("{} → ", quote_path(o)))
                    .unwrap_or_default();
                let _ = writeln!(out, "    {} {moved}{}", file.status, quote_path(&file.path));
            }
            let jobs = jobs_of(&label);
            if rule.mode == crate::group::Mode::Each {
                let _ = writeln!(
                    out,
                    "    jobs: {}",
                    if jobs.is_empty() {
                        "none (the template rendered nothing)".to_owned()
                    } else {
                        jobs.join(", ")
                    }
                );
            }
        }
        if rule.mode == crate::group::Mode::Once && !groups.is_empty() {
            let _ = writeln!(
                out,
                "  jobs (once, for all groups): {}",
                jobs_of("all groups").join(", ")
            );
        }
    }
    if outcome.empty {
        let _ = write!(
            out,
            "\nno rule matched: the pipeline is the no-op job(s) {}\n",
            outcome.report.jobs.join(", ")
        );
    }
    if !outcome.grouping.unmatched.is_empty() {
        let _ = write!(out, "\nunmatched ({}):\n", outcome.grouping.unmatched.len());
        for change in &outcome.grouping.unmatched {
            let _ = writeln!(out, "  {} {}", change.status, quote_path(&change.path));
        }
    }
    out.push_str(&fates_text(plan));
    for warning in &outcome.report.warnings {
        let _ = write!(out, "\nwarning: {warning}\n");
    }
    out
}

/// A Mermaid flowchart: one subgraph per stage (in order), one node per job,
/// one edge per `needs`.
fn mermaid(doc: &Mapping, fates: &[(String, Fate)]) -> String {
    let declared: Vec<String> = doc.get("stages").and_then(|s| s.as_sequence()).map_or_else(
        || vec!["build".into(), "test".into(), "deploy".into()],
        |s| s.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
    );
    let mut stages: Vec<String> = vec![".pre".into()];
    stages.extend(declared);
    stages.push(".post".into());
    let jobs: Vec<(&str, &Mapping)> = doc
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v.as_mapping()?)))
        .filter(|(name, job)| {
            !name.starts_with('.') && !crate::merge::GLOBAL_KEYWORDS.contains(name) && !job.is_empty()
        })
        .collect();
    let id = |name: &str| jobs.iter().position(|(n, _)| *n == name).map(|i| format!("j{i}"));
    let stage_of = |job: &Mapping| effective_stage(doc, job, 0).unwrap_or_else(|| "test".to_owned());
    let mut out = String::from("flowchart LR\n");
    for (index, stage) in stages.iter().enumerate() {
        let members: Vec<&(&str, &Mapping)> = jobs.iter().filter(|(_, job)| stage_of(job) == *stage).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  subgraph s{index}[\"{}\"]", label(stage));
        for (name, _) in members {
            let shown = match fates.iter().find(|(job, _)| job == name).map(|(_, f)| f) {
                Some(Fate::Manual) => format!("{name} (manual)"),
                Some(Fate::Excluded(_)) => format!("{name} (not run)"),
                Some(Fate::Unknown(_)) => format!("{name} (may run)"),
                _ => (*name).to_owned(),
            };
            let _ = writeln!(out, "    {}[\"{}\"]", id(name).unwrap_or_default(), label(&shown));
        }
        out.push_str("  end\n");
    }
    for (name, job) in &jobs {
        for need in job.get("needs").and_then(|n| n.as_sequence()).into_iter().flatten() {
            let target = need.as_str().or_else(|| need.get("job").and_then(|j| j.as_str()));
            if let (Some(from), Some(to)) = (target.and_then(&id), id(name)) {
                let _ = writeln!(out, "  {from} --> {to}");
            }
        }
    }
    let class = |pick: fn(&Fate) -> bool| -> Vec<String> {
        fates
            .iter()
            .filter(|(_, f)| pick(f))
            .filter_map(|(job, _)| id(job))
            .collect()
    };
    for (name, style, ids) in [
        (
            "notrun",
            "stroke-dasharray:4 4,opacity:0.5",
            class(|f| matches!(f, Fate::Excluded(_))),
        ),
        ("manual", "stroke-dasharray:2 2", class(|f| matches!(f, Fate::Manual))),
    ] {
        if !ids.is_empty() {
            let _ = writeln!(out, "  classDef {name} {style}");
            let _ = writeln!(out, "  class {} {name}", ids.join(","));
        }
    }
    out
}

/// A job's `stage`, or the one it inherits through `extends` (later parents win).
fn effective_stage(doc: &Mapping, job: &Mapping, depth: usize) -> Option<String> {
    if let Some(stage) = job.get("stage").and_then(|s| s.as_str()) {
        return Some(stage.to_owned());
    }
    if depth > 10 {
        return None;
    }
    let parents: Vec<&str> = match job.get("extends") {
        Some(serde_yaml::Value::String(s)) => vec![s.as_str()],
        Some(serde_yaml::Value::Sequence(list)) => list.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    parents.iter().rev().find_map(|p| {
        doc.get(*p)
            .and_then(|v| v.as_mapping())
            .and_then(|m| effective_stage(doc, m, depth + 1))
    })
}

/// A Mermaid label: quotes and angle brackets as entities.
fn label(text: &str) -> String {
    text.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}

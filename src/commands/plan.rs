//! `childgen plan`: the dry run a person reads before committing. Per rule
//! and group, the files that selected it and the jobs it generates; the
//! unmatched files; warnings. As text, JSON, or a Mermaid flowchart of the
//! child pipeline's stages, jobs and `needs`.

use crate::cli::{GlobalArgs, PlanFormat, SourceArgs};
use crate::commands::generate::collect;
use crate::output::emit;
use crate::pipeline::{Outcome, group_label};
use crate::settings::{Need, Settings};
use anyhow::Result;
use serde_json::{Value, json};
use serde_yaml::Mapping;
use std::fmt::Write as _;

/// Plans the pipeline for the selected changes.
pub fn run(global: &GlobalArgs, source: &SourceArgs, format: PlanFormat) -> Result<()> {
    let settings = Settings::resolve(global, Need::Templates)?;
    let collected = collect(&settings, source)?;
    let changes = collected.changes;
    let outcome = crate::pipeline::generate(&settings, &changes)?;
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
            text(&settings, &outcome, changes.len())
        ),
        PlanFormat::Json => {
            let mut plan = to_json(&settings, &outcome, changes.len());
            plan["compared"] = json!(collected.compared);
            let mut json = serde_json::to_string_pretty(&plan)?;
            json.push('\n');
            json
        }
        PlanFormat::Mermaid => format!("%% compared: {}\n{}", collected.compared, mermaid(&outcome.doc)),
        PlanFormat::Markdown => format!(
            "```mermaid\n%% compared: {}\n{}```\n",
            collected.compared,
            mermaid(&outcome.doc)
        ),
    };
    emit(global.output.as_deref(), &text)?;
    Ok(())
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

fn text(settings: &Settings, outcome: &Outcome<'_>, changes: usize) -> String {
    use crate::change::quote_path;
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
        let jobs_of = |label: &str| jobs_of(outcome, &rule.name, label);
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
    for warning in &outcome.report.warnings {
        let _ = write!(out, "\nwarning: {warning}\n");
    }
    out
}

/// A Mermaid flowchart: one subgraph per stage (in order), one node per job,
/// one edge per `needs`.
fn mermaid(doc: &Mapping) -> String {
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
            let _ = writeln!(out, "    {}[\"{}\"]", id(name).unwrap_or_default(), label(name));
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

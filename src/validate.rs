//! The checks a document passes before it is written (design §4, §7): at least
//! one job, every job runnable, stages declared, `needs`/`dependencies` that
//! name jobs of the document, no reserved job names, GitLab's limits, and
//! GitLab's CI schema ([`crate::schema`]).

use crate::merge::{GLOBAL_KEYWORDS, kind};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeSet;

/// GitLab's default stages, used when a document declares none.
const DEFAULT_STAGES: [&str; 3] = ["build", "test", "deploy"];
/// Names that cannot be jobs.
const RESERVED_JOB_NAMES: [&str; 4] = ["types", "true", "false", "nil"];
/// Keys that make a job runnable.
const RUNNABLE_KEYS: [&str; 4] = ["script", "trigger", "extends", "run"];

/// Size limits, configurable under `limits:` in `childgen.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest YAML accepted, in bytes (error above).
    pub max_yaml_bytes: usize,
    /// The most `needs` one job may have (error above).
    pub max_needs: usize,
    /// The most jobs before a warning.
    pub warn_jobs: usize,
    /// The most jobs with an `environment` before a warning.
    pub warn_environment_jobs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_yaml_bytes: 2 * 1024 * 1024,
            max_needs: 50,
            warn_jobs: 500,
            warn_environment_jobs: 500,
        }
    }
}

/// What the checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Problems GitLab would reject; any of them fails the run.
    pub errors: Vec<String>,
    /// Things worth knowing that do not fail the run.
    pub warnings: Vec<String>,
    /// The runnable jobs, in document order.
    pub jobs: Vec<String>,
}

/// Checks a merged document. `yaml_len` is the size of its serialised form.
#[must_use]
pub fn validate(doc: &Mapping, yaml_len: usize, limits: &Limits) -> Report {
    validate_with(doc, yaml_len, limits, || crate::schema::check(doc))
}

/// [`validate`], with GitLab's schema problems from `schema`, called only
/// when childgen's own checks pass (they say more, and more precisely, about
/// jobs, stages and references).
#[must_use]
pub fn validate_with(doc: &Mapping, yaml_len: usize, limits: &Limits, schema: impl FnOnce() -> Vec<String>) -> Report {
    let mut report = Report::default();
    let errors = &mut report.errors;
    if yaml_len > limits.max_yaml_bytes {
        errors.push(format!(
            "the YAML is {yaml_len} bytes, over the limit of {} bytes",
            limits.max_yaml_bytes
        ));
    }
    let declared = declared_stages(doc, errors);
    let all_names: BTreeSet<&str> = doc.keys().filter_map(Value::as_str).collect();
    let has_include = doc.contains_key("include");
    let mut environment_jobs = 0;
    let mut real_jobs = 0;
    for (key, value) in doc {
        let Some(name) = key.as_str() else {
            let shown = serde_yaml::to_string(key).unwrap_or_default();
            errors.push(format!("job `{}` uses a reserved name; rename it", shown.trim()));
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if GLOBAL_KEYWORDS.contains(&name) {
            if value
                .as_mapping()
                .is_some_and(|m| RUNNABLE_KEYS.iter().any(|k| m.contains_key(*k)))
            {
                errors.push(format!(
                    "job `{name}` uses a reserved name (a global keyword); rename it"
                ));
            }
            continue;
        }
        if RESERVED_JOB_NAMES.contains(&name) {
            errors.push(format!("job `{name}` uses a reserved name; rename it"));
            continue;
        }
        if name.chars().count() > 255 {
            errors.push(format!(
                "job `{}...` has a name longer than 255 characters",
                name.chars().take(40).collect::<String>()
            ));
        }
        let Some(job) = value.as_mapping() else {
            errors.push(format!("job `{name}` must be a mapping, not {}", kind(value)));
            continue;
        };
        if !RUNNABLE_KEYS.iter().any(|k| job.contains_key(*k)) {
            errors.push(format!("job `{name}` has no `script`, `trigger`, `extends` or `run`"));
        }
        let stage = match job.get("stage") {
            None => "test",
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                errors.push(format!("job `{name}`: `stage` must be a string, not {}", kind(other)));
                continue;
            }
        };
        let stage_known = matches!(stage, ".pre" | ".post")
            || declared
                .as_ref()
                .map_or(DEFAULT_STAGES.contains(&stage), |d| d.contains(stage));
        if !stage_known && !job.contains_key("extends") {
            errors.push(format!("job `{name}`: stage `{stage}` is not declared in `stages`"));
        }
        if !matches!(stage, ".pre" | ".post") {
            real_jobs += 1;
        }
        if job.contains_key("environment") {
            environment_jobs += 1;
        }
        if !has_include {
            check_references(name, job, &all_names, limits, errors);
        }
        report.jobs.push(name.to_owned());
    }
    if real_jobs == 0 {
        report.errors.push(
            "the document has no job (GitLab rejects a child pipeline without jobs outside `.pre`/`.post`)".to_owned(),
        );
    }
    if report.jobs.len() > limits.warn_jobs {
        report.warnings.push(format!(
            "{} jobs, over {}: GitLab instances often limit jobs per pipeline",
            report.jobs.len(),
            limits.warn_jobs
        ));
    }
    if environment_jobs > limits.warn_environment_jobs {
        report.warnings.push(format!(
            "{environment_jobs} jobs with an `environment`, over {}: GitLab limits deployments per pipeline",
            limits.warn_environment_jobs
        ));
    }
    if report.errors.is_empty() {
        report.errors.extend(schema());
    }
    report
}

/// The `stages` list, or `None` when the document declares none.
fn declared_stages<'a>(doc: &'a Mapping, errors: &mut Vec<String>) -> Option<BTreeSet<&'a str>> {
    let stages = doc.get("stages")?;
    let Some(list) = stages.as_sequence() else {
        errors.push(format!("`stages` must be a list, not {}", kind(stages)));
        return None;
    };
    let mut names = BTreeSet::new();
    for stage in list {
        match stage.as_str() {
            Some(s) => {
                names.insert(s);
            }
            None => errors.push(format!("`stages` entries must be strings, found {}", kind(stage))),
        }
    }
    Some(names)
}

/// `needs`, `dependencies` and `extends` must name jobs of this document.
fn check_references(name: &str, job: &Mapping, all: &BTreeSet<&str>, limits: &Limits, errors: &mut Vec<String>) {
    if let Some(needs) = job.get("needs") {
        match needs.as_sequence() {
            Some(list) => {
                if list.len() > limits.max_needs {
                    errors.push(format!(
                        "job `{name}` has {} `needs`, over the limit of {}",
                        list.len(),
                        limits.max_needs
                    ));
                }
                for need in list {
                    let (target, optional) = match need {
                        Value::String(s) => (Some(s.as_str()), false),
                        Value::Mapping(m) if m.contains_key("pipeline") || m.contains_key("project") => (None, true),
                        Value::Mapping(m) => (
                            m.get("job").and_then(Value::as_str),
                            m.get("optional").and_then(Value::as_bool).unwrap_or(false),
                        ),
                        _ => (None, false),
                    };
                    match target {
                        Some(t) if !all.contains(t) && !optional => {
                            errors.push(format!("job `{name}` needs `{t}`, which is not a job of this pipeline"));
                        }
                        None if !optional => {
                            errors.push(format!("job `{name}`: a `needs` entry names no job"));
                        }
                        _ => {}
                    }
                }
            }
            None => errors.push(format!("job `{name}`: `needs` must be a list, not {}", kind(needs))),
        }
    }
    if let Some(deps) = job.get("dependencies") {
        for dep in deps.as_sequence().map(Vec::as_slice).unwrap_or_default() {
            match dep.as_str() {
                Some(d) if !all.contains(d) => {
                    errors.push(format!(
                        "job `{name}` has dependency `{d}`, which is not a job of this pipeline"
                    ));
                }
                Some(_) => {}
                None => errors.push(format!("job `{name}`: `dependencies` entries must be job names")),
            }
        }
    }
    let extends = match job.get("extends") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Sequence(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for parent in extends {
        if !all.contains(parent) {
            errors.push(format!(
                "job `{name}` extends `{parent}`, which is not defined in this pipeline"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Report {
        let doc: Mapping = serde_yaml::from_str(yaml).unwrap_or_default();
        validate(&doc, yaml.len(), &Limits::default())
    }

    #[test]
    fn a_valid_document() {
        let report = check(
            "stages: [build, deploy]\n.t: {image: x}\nb: {stage: build, script: [x]}\nd: {stage: deploy, extends: .t, script: [y], needs: [b, {job: b, artifacts: true}, {job: gone, optional: true}]}\n",
        );
        assert_eq!(report.errors, Vec::<String>::new());
        assert_eq!(report.jobs, ["b", "d"]);
    }

    #[test]
    fn every_problem_is_listed() {
        let report = check(
            "stages: [build]\nimage: {script: [x]}\na: {stage: test, script: [x]}\nb: {needs: [zz], dependencies: [yy], stage: build}\nc: [1]\ntrue: {script: [x]}\n",
        );
        assert_eq!(
            report.errors,
            [
                "job `image` uses a reserved name (a global keyword); rename it",
                "job `a`: stage `test` is not declared in `stages`",
                "job `b` has no `script`, `trigger`, `extends` or `run`",
                "job `b` needs `zz`, which is not a job of this pipeline",
                "job `b` has dependency `yy`, which is not a job of this pipeline",
                "job `c` must be a mapping, not a list",
                "job `true` uses a reserved name; rename it",
            ]
        );
    }

    #[test]
    fn default_stages_and_pre_post() {
        assert_eq!(check("a: {stage: deploy, script: [x]}").errors, Vec::<String>::new());
        assert_eq!(
            check("a: {stage: release, script: [x]}").errors,
            ["job `a`: stage `release` is not declared in `stages`"]
        );
        assert_eq!(
            check("a: {stage: .pre, script: [x]}").errors,
            ["the document has no job (GitLab rejects a child pipeline without jobs outside `.pre`/`.post`)"]
        );
        assert_eq!(check(".hidden: {script: [x]}").errors.len(), 1);
    }

    #[test]
    fn limits() {
        let needs: Vec<String> = (0..51).map(|i| format!("j{i}")).collect();
        let mut yaml: String = needs.iter().map(|n| format!("{n}: {{script: [x]}}\n")).collect();
        yaml.push_str(&format!("last: {{script: [x], needs: [{}]}}\n", needs.join(", ")));
        assert_eq!(check(&yaml).errors, ["job `last` has 51 `needs`, over the limit of 50"]);
        let doc: Mapping = serde_yaml::from_str("a: {script: [x]}").unwrap_or_default();
        let small = Limits {
            max_yaml_bytes: 10,
            warn_jobs: 0,
            ..Limits::default()
        };
        let report = validate(&doc, 11, &small);
        assert_eq!(report.errors, ["the YAML is 11 bytes, over the limit of 10 bytes"]);
        assert_eq!(report.warnings.len(), 1);
    }
}

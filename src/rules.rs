//! Which jobs of a child pipeline will run, for `plan` (issue 12): GitLab's
//! `rules:if` expressions, `when`, and `workflow:rules`, evaluated against the
//! variables of the pipeline being planned. What cannot be known here
//! (`rules:changes`, `rules:exists`, `only`/`except`, a variable that is neither
//! predefined for the planned pipeline nor defined in the YAML) makes a job
//! "may run", with the reason; it is never decided silently.

use regex::RegexBuilder;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::fmt;

/// What a job will do in the planned pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// It runs (`on_success`, `always`, `on_failure`, `delayed`).
    Runs(String),
    /// It is created as a manual job.
    Manual,
    /// It is not created (no rule matched, or `when: never`).
    Excluded(String),
    /// Cannot be told here, and why.
    Unknown(String),
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fate::Runs(when) => write!(f, "runs ({when})"),
            Fate::Manual => f.write_str("manual"),
            Fate::Excluded(why) => write!(f, "not run ({why})"),
            Fate::Unknown(why) => write!(f, "may run ({why})"),
        }
    }
}

/// The variables of the planned pipeline: a value, or absent.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    known: BTreeMap<String, String>,
    /// Names plan knows are unset (predefined, but not in this pipeline).
    unset: Vec<String>,
}

/// The kind of pipeline `plan` plans for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// A merge request pipeline from `branch` into the default branch.
    MergeRequest { branch: String },
    /// A push to `branch` (the default branch when it is that one).
    Branch { branch: String },
    /// A tag pipeline.
    Tag { tag: String },
}

/// Predefined variables `plan` sets or knows are unset.
const PREDEFINED: [&str; 9] = [
    "CI_PIPELINE_SOURCE",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_TAG",
    "CI_COMMIT_REF_NAME",
    "CI_DEFAULT_BRANCH",
    "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    "CI_MERGE_REQUEST_EVENT_TYPE",
];

impl Variables {
    /// The variables a child pipeline of `planned` sees
    /// (`CI_PIPELINE_SOURCE` is `parent_pipeline` in a child pipeline).
    #[must_use]
    pub fn for_pipeline(planned: &Planned, default_branch: &str) -> Self {
        let mut known = BTreeMap::new();
        let mut set = |k: &str, v: &str| {
            known.insert(k.to_owned(), v.to_owned());
        };
        set("CI_PIPELINE_SOURCE", "parent_pipeline");
        set("CI_DEFAULT_BRANCH", default_branch);
        match planned {
            Planned::MergeRequest { branch } => {
                set("CI_COMMIT_REF_NAME", branch);
                set("CI_MERGE_REQUEST_IID", "1");
                set("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", branch);
                set("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", default_branch);
                set("CI_MERGE_REQUEST_EVENT_TYPE", "detached");
            }
            Planned::Branch { branch } => {
                set("CI_COMMIT_BRANCH", branch);
                set("CI_COMMIT_REF_NAME", branch);
            }
            Planned::Tag { tag } => {
                set("CI_COMMIT_TAG", tag);
                set("CI_COMMIT_REF_NAME", tag);
            }
        }
        let unset = PREDEFINED
            .iter()
            .filter(|k| !known.contains_key(**k))
            .map(|k| (*k).to_owned())
            .collect();
        Variables { known, unset }
    }

    /// With the `variables:` of a document or job (their values as written).
    #[must_use]
    pub fn with(&self, variables: Option<&Value>) -> Self {
        let mut out = self.clone();
        for (key, value) in variables.and_then(Value::as_mapping).into_iter().flatten() {
            let Some(key) = key.as_str() else { continue };
            let value = match value {
                Value::Mapping(m) => m.get("value").cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            let text = match value {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_owned(),
            };
            out.known.insert(key.to_owned(), text);
        }
        out
    }

    /// A variable: `Ok(Some)` set, `Ok(None)` known unset, `Err` unknown here.
    fn get(&self, name: &str) -> Result<Option<&str>, String> {
        if let Some(value) = self.known.get(name) {
            return Ok(Some(value.as_str()).filter(|v| !v.is_empty()));
        }
        if self.unset.iter().any(|u| u == name) {
            return Ok(None);
        }
        Err(format!("depends on ${name}, which plan cannot see"))
    }
}

/// The fate of every job of `doc` (hidden jobs and keywords excluded), in
/// document order.
#[must_use]
pub fn fates(doc: &Mapping, variables: &Variables) -> Vec<(String, Fate)> {
    let global = variables.with(doc.get("variables"));
    let workflow = doc
        .get("workflow")
        .and_then(|w| w.get("rules"))
        .map(|rules| evaluate_rules(rules, &global, None));
    let mut out = Vec::new();
    for (key, job) in doc {
        let (Some(name), Some(job)) = (key.as_str(), job.as_mapping()) else {
            continue;
        };
        if name.starts_with('.') || crate::merge::GLOBAL_KEYWORDS.contains(&name) {
            continue;
        }
        let fate = match &workflow {
            Some(Fate::Excluded(why)) => Fate::Excluded(format!("workflow:rules: {why}")),
            Some(Fate::Unknown(why)) => Fate::Unknown(format!("workflow:rules {why}")),
            _ => job_fate(doc, job, &global),
        };
        out.push((name.to_owned(), fate));
    }
    out
}

/// A key of `job`, or of the jobs it `extends` (later parents win; the job itself first).
fn inherited<'d>(doc: &'d Mapping, job: &'d Mapping, key: &str, depth: usize) -> Option<&'d Value> {
    if let Some(value) = job.get(key) {
        return Some(value);
    }
    if depth > 10 {
        return None;
    }
    let parents: Vec<&str> = match job.get("extends") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Sequence(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    parents.iter().rev().find_map(|p| {
        doc.get(*p)
            .and_then(Value::as_mapping)
            .and_then(|m| inherited(doc, m, key, depth + 1))
    })
}

fn job_fate(doc: &Mapping, job: &Mapping, global: &Variables) -> Fate {
    if inherited(doc, job, "only", 0).is_some() || inherited(doc, job, "except", 0).is_some() {
        return Fate::Unknown("only/except are not evaluated".to_owned());
    }
    let variables = global.with(inherited(doc, job, "variables", 0));
    let when = inherited(doc, job, "when", 0).and_then(Value::as_str);
    match inherited(doc, job, "rules", 0) {
        Some(rules) => evaluate_rules(rules, &variables, when),
        None => fate_of(when.unwrap_or("on_success"), "when: never"),
    }
}

/// The first rule that matches decides; none matching excludes the job.
fn evaluate_rules(rules: &Value, variables: &Variables, job_when: Option<&str>) -> Fate {
    let Some(rules) = rules.as_sequence() else {
        return Fate::Unknown("its rules are not a list plan can read".to_owned());
    };
    for (index, rule) in rules.iter().enumerate() {
        let Some(rule) = rule.as_mapping() else {
            return Fate::Unknown(format!("rule {} is not a mapping (a !reference?)", index + 1));
        };
        for key in ["changes", "exists"] {
            if rule.contains_key(key) {
                return Fate::Unknown(format!(
                    "rule {} uses `{key}:`, which plan does not evaluate",
                    index + 1
                ));
            }
        }
        let matched = match rule.get("if").map(|c| c.as_str().map(|c| (c, evaluate(c, variables)))) {
            None => Ok(true),
            Some(None) => Err("an `if:` that is not a string".to_owned()),
            Some(Some((condition, result))) => result.map_err(|why| format!("rule {} `{condition}` {why}", index + 1)),
        };
        match matched {
            Err(why) => return Fate::Unknown(why),
            Ok(false) => {}
            Ok(true) => {
                let when = rule
                    .get("when")
                    .and_then(Value::as_str)
                    .or(job_when)
                    .unwrap_or("on_success");
                return fate_of(when, &format!("rule {} says when: never", index + 1));
            }
        }
    }
    Fate::Excluded("no rule matches".to_owned())
}

fn fate_of(when: &str, never: &str) -> Fate {
    match when {
        "never" => Fate::Excluded(never.to_owned()),
        "manual" => Fate::Manual,
        other => Fate::Runs(other.to_owned()),
    }
}

/// A CI/CD expression's value: `Ok(bool)`, or `Err(why)` when it depends on
/// something plan cannot see or cannot read.
///
/// # Errors
/// The reason it cannot be decided.
pub fn evaluate(expression: &str, variables: &Variables) -> Result<bool, String> {
    let tokens = tokenize(expression)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        variables,
    };
    let value = parser.or()?;
    if parser.at != tokens.len() {
        return Err("cannot be read (unexpected text after the expression)".to_owned());
    }
    value.truthy()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Variable(String),
    Text(String),
    Pattern(String, String),
    Null,
    Op(&'static str),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let unreadable = |what: &str| Err(format!("cannot be read ({what})"));
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '$' => {
                let braced = chars.get(i + 1) == Some(&'{');
                let start = i + 1 + usize::from(braced);
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                    end += 1;
                }
                if end == start || (braced && chars.get(end) != Some(&'}')) {
                    return unreadable("a `$` without a variable name");
                }
                tokens.push(Token::Variable(chars[start..end].iter().collect()));
                i = end + usize::from(braced);
            }
            '"' | '\'' => {
                let Some(len) = chars[i + 1..].iter().position(|&q| q == c) else {
                    return unreadable("an unterminated string");
                };
                tokens.push(Token::Text(chars[i + 1..i + 1 + len].iter().collect()));
                i += len + 2;
            }
            '/' => {
                let mut end = i + 1;
                while end < chars.len() && chars[end] != '/' {
                    end += if chars[end] == '\\' { 2 } else { 1 };
                }
                if end >= chars.len() {
                    return unreadable("an unterminated /regex/");
                }
                let mut flags_end = end + 1;
                while flags_end < chars.len() && chars[flags_end].is_ascii_alphabetic() {
                    flags_end += 1;
                }
                tokens.push(Token::Pattern(
                    chars[i + 1..end].iter().collect(),
                    chars[end + 1..flags_end].iter().collect(),
                ));
                i = flags_end;
            }
            _ if two == "==" || two == "!=" || two == "=~" || two == "!~" || two == "&&" || two == "||" => {
                let op = ["==", "!=", "=~", "!~", "&&", "||"]
                    .into_iter()
                    .find(|o| *o == two)
                    .unwrap_or("==");
                tokens.push(Token::Op(op));
                i += 2;
            }
            _ if chars[i..].iter().take(4).collect::<String>() == "null" => {
                tokens.push(Token::Null);
                i += 4;
            }
            _ => return unreadable(&format!("unexpected `{c}`")),
        }
    }
    Ok(tokens)
}

/// A value in an expression.
#[derive(Debug, Clone)]
enum Operand {
    Text(Option<String>),
    Pattern(String, String),
    Bool(bool),
}

impl Operand {
    fn truthy(&self) -> Result<bool, String> {
        Ok(match self {
            Operand::Text(text) => text.as_ref().is_some_and(|t| !t.is_empty()),
            Operand::Bool(b) => *b,
            Operand::Pattern(..) => return Err("cannot be read (a /regex/ alone)".to_owned()),
        })
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    variables: &'t Variables,
}

impl Parser<'_> {
    /// `a || b`: true when either is, even if the other is unknown.
    fn or(&mut self) -> Result<Operand, String> {
        let mut left = self.and().and_then(|v| v.truthy());
        while self.tokens.get(self.at) == Some(&Token::Op("||")) {
            self.at += 1;
            let right = self.and().and_then(|v| v.truthy());
            left = match (left, right) {
                (Ok(true), _) | (_, Ok(true)) => Ok(true),
                (Ok(false), Ok(false)) => Ok(false),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        left.map(Operand::Bool)
    }

    /// `a && b`: false when either is, even if the other is unknown.
    fn and(&mut self) -> Result<Operand, String> {
        let mut left = self.comparison().and_then(|v| v.truthy());
        while self.tokens.get(self.at) == Some(&Token::Op("&&")) {
            self.at += 1;
            let right = self.comparison().and_then(|v| v.truthy());
            left = match (left, right) {
                (Ok(false), _) | (_, Ok(false)) => Ok(false),
                (Ok(true), Ok(true)) => Ok(true),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        left.map(Operand::Bool)
    }

    fn comparison(&mut self) -> Result<Operand, String> {
        let left = self.operand()?;
        let Some(Token::Op(op @ ("==" | "!=" | "=~" | "!~"))) = self.tokens.get(self.at) else {
            return Ok(left);
        };
        self.at += 1;
        let right = self.operand()?;
        let text = |o: &Operand| match o {
            Operand::Text(t) => t.clone(),
            Operand::Bool(b) => Some(b.to_string()),
            Operand::Pattern(p, _) => Some(format!("/{p}/")),
        };
        let result = match *op {
            "==" => text(&left) == text(&right),
            "!=" => text(&left) != text(&right),
            _ => {
                let (pattern, flags) = match &right {
                    Operand::Pattern(p, f) => (p.clone(), f.clone()),
                    Operand::Text(Some(t)) if t.starts_with('/') && t.len() > 1 => {
                        let end = t.rfind('/').unwrap_or(0);
                        if end == 0 {
                            return Err("cannot be read (a pattern in a variable without its closing /)".to_owned());
                        }
                        (t[1..end].to_owned(), t[end + 1..].to_owned())
                    }
                    _ => return Err("cannot be read (=~ needs a /regex/)".to_owned()),
                };
                let regex = RegexBuilder::new(&pattern)
                    .case_insensitive(flags.contains('i'))
                    .multi_line(flags.contains('m'))
                    .build()
                    .map_err(|_| format!("cannot be read (/{pattern}/ is not a pattern plan understands)"))?;
                let matched = text(&left).is_some_and(|t| regex.is_match(&t));
                if *op == "=~" { matched } else { !matched }
            }
        };
        Ok(Operand::Bool(result))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Variable(name)) => self.variables.get(&name).map(|v| Operand::Text(v.map(str::to_owned))),
            Some(Token::Text(text)) => Ok(Operand::Text(Some(text))),
            Some(Token::Pattern(p, f)) => Ok(Operand::Pattern(p, f)),
            Some(Token::Null) => Ok(Operand::Text(None)),
            Some(Token::Open) => {
                let inner = self.or()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err("cannot be read (a `(` without its `)`)".to_owned());
                }
                self.at += 1;
                Ok(inner)
            }
            _ => Err("cannot be read (a value is missing)".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mr() -> Variables {
        Variables::for_pipeline(
            &Planned::MergeRequest {
                branch: "feature".into(),
            },
            "main",
        )
    }

    #[test]
    fn expressions() {
        let tag = Variables::for_pipeline(&Planned::Tag { tag: "v1.2.3".into() }, "main");
        let main = Variables::for_pipeline(&Planned::Branch { branch: "main".into() }, "main");
        let cases: [(&str, &Variables, Result<bool, String>); 12] = [
            ("$CI_COMMIT_TAG", &mr(), Ok(false)),
            ("$CI_COMMIT_TAG", &tag, Ok(true)),
            ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", &mr(), Ok(false)),
            ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", &main, Ok(true)),
            ("$CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+$/", &tag, Ok(true)),
            ("$CI_COMMIT_TAG !~ /^V/i", &tag, Ok(false)),
            (
                "$CI_PIPELINE_SOURCE == \"parent_pipeline\" && ($CI_MERGE_REQUEST_IID || $CI_COMMIT_TAG)",
                &mr(),
                Ok(true),
            ),
            ("$CI_COMMIT_TAG == null", &mr(), Ok(true)),
            (
                "$DEPLOY_ENABLED == 'yes'",
                &mr(),
                Err("depends on $DEPLOY_ENABLED, which plan cannot see".into()),
            ),
            ("$CI_COMMIT_TAG && $DEPLOY_ENABLED", &mr(), Ok(false)),
            ("$CI_MERGE_REQUEST_IID || $DEPLOY_ENABLED", &mr(), Ok(true)),
            (
                "$CI_COMMIT_TAG ==",
                &mr(),
                Err("cannot be read (a value is missing)".into()),
            ),
        ];
        for (expression, variables, want) in cases {
            assert_eq!(evaluate(expression, variables), want, "{expression}");
        }
    }

    #[test]
    fn rules_decide_each_job() {
        let doc: Mapping = serde_yaml::from_str(
            "variables: {DEPLOY: 'yes'}\n.base: {rules: [{if: $CI_COMMIT_TAG, when: manual}]}\n\
             a: {script: [x], rules: [{if: $CI_COMMIT_TAG, when: never}, {when: on_success}]}\n\
             b: {script: [x], rules: [{if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH}]}\n\
             c: {extends: .base, script: [x]}\n\
             d: {script: [x], when: manual}\n\
             e: {script: [x], rules: [{changes: [a/*]}]}\n\
             f: {script: [x], rules: [{if: '$DEPLOY == \"yes\"'}]}\n",
        )
        .unwrap();
        let decided: Vec<String> = fates(&doc, &mr())
            .into_iter()
            .map(|(n, f)| format!("{n}: {f}"))
            .collect();
        assert_eq!(
            decided,
            [
                "a: runs (on_success)",
                "b: not run (no rule matches)",
                "c: not run (no rule matches)",
                "d: manual",
                "e: may run (rule 1 uses `changes:`, which plan does not evaluate)",
                "f: runs (on_success)",
            ]
        );
        let workflow: Mapping =
            serde_yaml::from_str("workflow: {rules: [{if: $CI_COMMIT_TAG}]}\na: {script: [x]}\n").unwrap();
        assert_eq!(
            fates(&workflow, &mr()),
            [(
                "a".to_owned(),
                Fate::Excluded("workflow:rules: no rule matches".to_owned())
            )]
        );
    }
}

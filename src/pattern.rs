//! Stop-word and regex patterns: how variables are extracted from a changed
//! path (design §2). A pattern is parsed once into a [`Pattern`], then
//! [`Pattern::extract`] is a pure function of the path.

use crate::error::{Error, Result};
use regex::Regex;
use std::fmt;

/// Names the template context already uses; a variable cannot take them.
pub const RESERVED_NAMES: [&str; 5] = ["files", "vars", "groups", "changes", "unmatched"];

/// The default `values` regex: a safe folder name.
pub const DEFAULT_VALUES: &str = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// A template variable name: an identifier that is not reserved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VarName(String);

impl VarName {
    /// Checks `name`, returning why it cannot be a variable.
    ///
    /// # Errors
    /// A sentence saying what is wrong with the name.
    pub fn parse(name: &str) -> std::result::Result<Self, String> {
        let mut chars = name.chars();
        let valid_start = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !valid_start || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "variable name {name:?} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)"
            ));
        }
        if RESERVED_NAMES.contains(&name) {
            return Err(format!("variable name `{name}` is reserved for the template context"));
        }
        Ok(VarName(name.to_owned()))
    }

    /// The name as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `VARIABLE` + N colons + `STOP`: the value is the path component N levels
/// after the (possibly multi-folder) STOP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopPattern {
    /// The variable it sets.
    pub var: VarName,
    /// How many levels after STOP (the number of colons).
    pub depth: usize,
    /// STOP's path components.
    pub stop: Vec<String>,
}

/// A parsed pattern list: stop words, or one regex with named groups.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// `pipeline_name:pipelines,stage_name::pipelines`
    Stop(Vec<StopPattern>),
    /// `pipelines/(?P<pipeline_name>[^/]+)/`
    Regex { regex: Regex, vars: Vec<VarName> },
}

/// The outcome of matching one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted<'p> {
    /// Every variable got a value (a slice of the path), in pattern order.
    Values(Vec<&'p str>),
    /// The path does not match; the reason is for `explain`.
    Miss(String),
}

impl Pattern {
    /// Parses a comma-separated stop-word list.
    ///
    /// # Errors
    /// [`Error::Pattern`] pointing at the offending item.
    pub fn parse_stop(list: &str) -> Result<Self> {
        let fail = |detail: String| Error::Pattern {
            pattern: list.to_owned(),
            detail,
        };
        let mut items: Vec<StopPattern> = Vec::new();
        for (index, item) in list.split(',').enumerate() {
            let item = item.trim();
            let at = |what: String| fail(format!("item {} {item:?}: {what}", index + 1));
            if item.is_empty() {
                return Err(fail(format!("item {} is empty", index + 1)));
            }
            let Some((name, rest)) = item.split_once(':') else {
                return Err(at("expected VARIABLE:STOP (one colon per level after STOP)".to_owned()));
            };
            let var = VarName::parse(name.trim()).map_err(at)?;
            let after = rest.trim_start_matches(':');
            let depth = 1 + rest.len() - after.len();
            let stop = after.trim().trim_matches('/');
            if stop.is_empty() {
                return Err(at("STOP is empty".to_owned()));
            }
            let stop: Vec<String> = stop.split('/').map(str::to_owned).collect();
            if stop.iter().any(String::is_empty) {
                return Err(at("STOP has an empty folder (`//`)".to_owned()));
            }
            if items.iter().any(|p| p.var == var) {
                return Err(at(format!("variable `{var}` is set twice")));
            }
            items.push(StopPattern { var, depth, stop });
        }
        Ok(Pattern::Stop(items))
    }

    /// Parses a regex whose named groups are the variables.
    ///
    /// # Errors
    /// [`Error::Pattern`] for a regex that does not compile, has no named
    /// group, or names a group with a reserved name.
    pub fn parse_regex(source: &str) -> Result<Self> {
        let fail = |detail: String| Error::Pattern {
            pattern: source.to_owned(),
            detail,
        };
        let regex = Regex::new(source).map_err(|e| fail(e.to_string()))?;
        let vars = regex
            .capture_names()
            .flatten()
            .map(|name| VarName::parse(name).map_err(&fail))
            .collect::<Result<Vec<_>>>()?;
        if vars.is_empty() {
            return Err(fail("the regex has no named group (`(?P<name>...)`)".to_owned()));
        }
        Ok(Pattern::Regex { regex, vars })
    }

    /// The variables this pattern sets, in order.
    #[must_use]
    pub fn vars(&self) -> Vec<&VarName> {
        match self {
            Pattern::Stop(items) => items.iter().map(|p| &p.var).collect(),
            Pattern::Regex { vars, .. } => vars.iter().collect(),
        }
    }

    /// Extracts every variable from `path` into `values` (cleared first), or
    /// returns `false`: [`Pattern::extract`] without the reason, and without
    /// an allocation per path when the buffers are reused (the grouping loop).
    pub fn values_into<'p>(&self, path: &'p str, components: &mut Vec<&'p str>, values: &mut Vec<&'p str>) -> bool {
        values.clear();
        match self {
            Pattern::Stop(items) => {
                components.clear();
                // A byte loop: paths are short, and `str::split`'s searcher
                // cost more than the rest of the grouping (issue 11).
                let mut start = 0;
                for (i, b) in path.bytes().enumerate() {
                    if b == b'/' {
                        components.push(&path[start..i]);
                        start = i + 1;
                    }
                }
                components.push(&path[start..]);
                for item in items {
                    match item.extract(components) {
                        Ok(value) => values.push(value),
                        Err(_) => return false,
                    }
                }
                true
            }
            Pattern::Regex { .. } => match self.extract(path) {
                Extracted::Values(found) => {
                    values.extend(found);
                    true
                }
                Extracted::Miss(_) => false,
            },
        }
    }

    /// Extracts every variable from `path`, or says why it does not match.
    #[must_use]
    pub fn extract<'p>(&self, path: &'p str) -> Extracted<'p> {
        match self {
            Pattern::Stop(items) => {
                let mut components: Vec<&str> = Vec::with_capacity(16);
                components.extend(path.split('/'));
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    match item.extract(&components) {
                        Ok(value) => values.push(value),
                        Err(reason) => return Extracted::Miss(format!("`{}`: {reason}", item.var)),
                    }
                }
                Extracted::Values(values)
            }
            Pattern::Regex { regex, vars } => {
                let Some(captures) = regex.captures(path) else {
                    return Extracted::Miss(format!("regex `{}` does not match", regex.as_str()));
                };
                let mut values = Vec::with_capacity(vars.len());
                for var in vars {
                    match captures.name(var.as_str()) {
                        Some(m) if !m.as_str().is_empty() => values.push(m.as_str()),
                        _ => {
                            return Extracted::Miss(format!("`{var}`: the group captured nothing"));
                        }
                    }
                }
                Extracted::Values(values)
            }
        }
    }
}

impl StopPattern {
    /// The value for one path, split into components.
    fn extract<'p>(&self, components: &[&'p str]) -> std::result::Result<&'p str, StopMiss<'_, 'p>> {
        let stop_len = self.stop.len();
        let folders = components.len().saturating_sub(1);
        let start = components
            .windows(stop_len)
            .take(folders.saturating_sub(stop_len - 1))
            .position(|w| w.iter().zip(&self.stop).all(|(a, b)| a == b))
            .ok_or(StopMiss {
                pattern: self,
                reason: MissReason::NoStop,
            })?;
        let index = start + stop_len - 1 + self.depth;
        match (index.cmp(&folders), components.get(index)) {
            (std::cmp::Ordering::Less, Some(value)) => Ok(value),
            (std::cmp::Ordering::Equal, Some(name)) => Err(StopMiss {
                pattern: self,
                reason: MissReason::FileName(name),
            }),
            _ => Err(StopMiss {
                pattern: self,
                reason: MissReason::Ends,
            }),
        }
    }
}

/// Why a stop word did not give a value; formatted only when shown.
struct StopMiss<'s, 'p> {
    pattern: &'s StopPattern,
    reason: MissReason<'p>,
}

enum MissReason<'p> {
    /// No STOP folder in the path.
    NoStop,
    /// The value would be the file name.
    FileName(&'p str),
    /// The path ends first.
    Ends,
}

impl fmt::Display for StopMiss<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (depth, stop) = (self.pattern.depth, self.pattern.stop.join("/"));
        match self.reason {
            MissReason::NoStop => write!(f, "no folder `{stop}` in the path"),
            MissReason::FileName(name) => {
                write!(
                    f,
                    "{depth} level(s) after `{stop}` is the file name {name:?}, not a folder"
                )
            }
            MissReason::Ends => write!(f, "the path ends before {depth} level(s) after `{stop}`"),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Stop(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|p| format!("{}{}{}", p.var, ":".repeat(p.depth), p.stop.join("/")))
                    .collect();
                f.write_str(&parts.join(","))
            }
            Pattern::Regex { regex, .. } => f.write_str(regex.as_str()),
        }
    }
}

/// The compiled `values` regex, matched against whole values.
#[derive(Debug, Clone)]
pub struct ValueRule {
    source: String,
    regex: Regex,
}

impl ValueRule {
    /// Compiles `source`, anchored so it matches whole values.
    ///
    /// # Errors
    /// [`Error::Pattern`] when it does not compile.
    pub fn new(source: &str) -> Result<Self> {
        let regex = Regex::new(&format!("^(?:{source})$")).map_err(|e| Error::Pattern {
            pattern: source.to_owned(),
            detail: format!("`values`: {e}"),
        })?;
        Ok(ValueRule {
            source: source.to_owned(),
            regex,
        })
    }

    /// Checks every value extracted from `path`.
    ///
    /// # Errors
    /// [`Error::Value`] naming the path, the variable and the value.
    pub fn check(&self, path: &str, vars: &[&VarName], values: &[impl AsRef<str>]) -> Result<()> {
        for (var, value) in vars.iter().zip(values) {
            let value = value.as_ref();
            if !self.regex.is_match(value) {
                return Err(Error::Value {
                    path: path.to_owned(),
                    var: var.to_string(),
                    value: value.to_owned(),
                    allowed: self.source.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pattern: &Pattern, path: &str) -> Option<Vec<String>> {
        match pattern.extract(path) {
            Extracted::Values(v) => Some(v.into_iter().map(str::to_owned).collect()),
            Extracted::Miss(_) => None,
        }
    }

    #[test]
    fn design_table() -> Result<()> {
        let p = Pattern::parse_stop("pipeline_name:pipelines,stage_name::pipelines")?;
        let cases: &[(&str, Option<[&str; 2]>)] = &[
            (
                "pipelines/pipeline_1/stage_1/modelserving.yaml",
                Some(["pipeline_1", "stage_1"]),
            ),
            ("pipelines/pipeline_1/README.md", None),
            ("pipelines/pipeline_1/stage_1", None),
            ("other/pipeline_1/stage_1/x.yaml", None),
            ("a/pipelines/p/s/t/x.yaml", Some(["p", "s"])),
            ("pipelines/p/pipelines/s/x", Some(["p", "pipelines"])),
        ];
        for (path, expected) in cases {
            let expected = expected.map(|v| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            assert_eq!(values(&p, path), expected, "{path}");
        }
        let multi = Pattern::parse_stop("stage_name::ml/pipelines")?;
        assert_eq!(
            values(&multi, "teams/ml/pipelines/p/s/x.py"),
            Some(vec!["s".to_owned()])
        );
        assert_eq!(values(&multi, "teams/ml/x/pipelines/p/s/x.py"), None);
        Ok(())
    }

    #[test]
    fn stop_trims_spaces_and_slashes() -> Result<()> {
        let p = Pattern::parse_stop(" a : /pipelines/ , b::pipelines ")?;
        assert_eq!(p.to_string(), "a:pipelines,b::pipelines");
        Ok(())
    }

    #[test]
    fn bad_patterns_point_at_the_item() {
        let cases = [
            ("a:x,", "invalid pattern \"a:x,\": item 2 is empty"),
            (
                "a:x,b-c:y",
                "invalid pattern \"a:x,b-c:y\": item 2 \"b-c:y\": variable name \"b-c\" is not an identifier ([A-Za-z_][A-Za-z0-9_]*)",
            ),
            (
                "a:x,a::x",
                "invalid pattern \"a:x,a::x\": item 2 \"a::x\": variable `a` is set twice",
            ),
            (
                "files:x",
                "invalid pattern \"files:x\": item 1 \"files:x\": variable name `files` is reserved for the template context",
            ),
            ("a:", "invalid pattern \"a:\": item 1 \"a:\": STOP is empty"),
            (
                "a:x//y",
                "invalid pattern \"a:x//y\": item 1 \"a:x//y\": STOP has an empty folder (`//`)",
            ),
            (
                "pipelines",
                "invalid pattern \"pipelines\": item 1 \"pipelines\": expected VARIABLE:STOP (one colon per level after STOP)",
            ),
        ];
        for (input, expected) in cases {
            let got = Pattern::parse_stop(input)
                .map(|p| p.to_string())
                .map_err(|e| e.to_string());
            assert_eq!(got, Err(expected.to_owned()));
        }
    }

    #[test]
    fn regex_named_groups() -> Result<()> {
        let p = Pattern::parse_regex("pipelines/(?P<pipeline_name>[^/]+)/(?P<stage_name>[^/]+)/")?;
        assert_eq!(
            values(&p, "pipelines/p1/s1/x.yaml"),
            Some(vec!["p1".to_owned(), "s1".to_owned()])
        );
        assert_eq!(values(&p, "pipelines/p1/x.yaml"), None);
        assert!(Pattern::parse_regex("pipelines/([^/]+)").is_err());
        assert!(Pattern::parse_regex("(?P<vars>x)").is_err());
        Ok(())
    }

    #[test]
    fn values_fail_closed() -> Result<()> {
        let rule = ValueRule::new(DEFAULT_VALUES)?;
        let var = VarName::parse("stage_name").map_err(Error::Usage)?;
        for ok in ["stage_1", "v1.2", "A-b_c"] {
            rule.check("p", &[&var], &[ok.to_owned()])?;
        }
        for bad in ["-x", ".hidden", "a b", "a:b", "x\ny", "$(rm)", "a\"b", ""] {
            assert!(rule.check("p", &[&var], &[bad.to_owned()]).is_err(), "{bad:?}");
        }
        Ok(())
    }
}

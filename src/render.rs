//! Rendering with Tera, plus the strictness Tera 1.x lacks: before a template
//! renders, its syntax tree is walked so that a name the context does not have
//! fails with the template, the line and the group (Tera alone would treat an
//! undefined `{% if x %}` as false), and so that a file path cannot reach the
//! output without a quoting filter (design §2, §3).

use crate::error::{Error, Result};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::OnceLock;
use tera::ast::{Expr, ExprVal, Node};
use tera::{Context, Tera, Value};

/// Context names that carry file paths chosen by the merge request.
const PATH_CARRIERS: [&str; 4] = ["files", "changes", "unmatched", "groups"];
/// Filters whose output is safe YAML whatever the input.
const QUOTING_FILTERS: [&str; 4] = ["yaml_quote", "yaml_str", "json_encode", "length"];
/// Attributes that hold a path, or a list or object holding paths.
const PATH_ATTRIBUTES: [&str; 5] = ["path", "old_path", "files", "changes", "unmatched"];
/// Names Tera defines itself.
const TERA_NAMES: [&str; 4] = ["loop", "__tera_context", "self", "super"];

/// The Tera instance and the sources of its templates (for line numbers).
pub struct Renderer {
    tera: Tera,
    sources: BTreeMap<String, String>,
    /// Templates already checked for recursion (it does not depend on the
    /// context), so that each is walked for it once, not once per group.
    acyclic: std::sync::Mutex<BTreeSet<String>>,
    /// Each template's syntax-tree walk (it does not depend on the context
    /// either): once per template, not once per group (issue 11).
    walks: std::sync::Mutex<BTreeMap<String, std::sync::Arc<Walker>>>,
}

impl Renderer {
    /// An empty renderer with childgen's filters and no auto-escaping.
    #[must_use]
    pub fn new() -> Self {
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::new());
        tera.register_filter("yaml_quote", yaml_quote);
        tera.register_filter("yaml_str", yaml_quote);
        tera.register_filter("sh_quote", sh_quote);
        // The environment of a CI job holds its secrets: templates never read it.
        tera.register_function("get_env", |_: &HashMap<String, Value>| -> tera::Result<Value> {
            Err(tera::Error::msg(
                "get_env is disabled in childgen templates (the job's environment holds secrets); \
                 pass values with --var or `vars` in childgen.yml, or write `$NAME` for GitLab to expand at run time",
            ))
        });
        Renderer {
            tera,
            sources: BTreeMap::new(),
            acyclic: std::sync::Mutex::new(BTreeSet::new()),
            walks: std::sync::Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds a template under `name` (used in every message about it).
    ///
    /// # Errors
    /// [`Error::Template`] when it does not parse, with the line.
    pub fn add_template(&mut self, name: &str, source: &str) -> Result<()> {
        self.add_parsed(vec![(name.to_owned(), source.to_owned())])
    }

    /// Adds templates that do not depend on each other being added first,
    /// parsing them on several threads; the first that does not parse (in
    /// the given order) is the error.
    ///
    /// # Errors
    /// [`Error::Template`] with the line, as [`Renderer::add_template`].
    pub fn add_parsed(&mut self, templates: Vec<(String, String)>) -> Result<()> {
        for (name, source) in &templates {
            bounded_nesting(name, source)?;
        }
        let parse = |(name, source): &(String, String)| {
            tera::Template::new(name, None, source)
                .map_err(|e| tera::Error::chain(format!("Failed to parse '{name}'"), e))
        };
        let parsed: Vec<tera::Result<tera::Template>> = if templates.len() < 2 || crate::parallel::threads() < 2 {
            templates.iter().map(parse).collect()
        } else {
            std::thread::scope(|scope| {
                let (first, rest) = templates.split_at(1);
                let handles: Vec<_> = rest
                    .iter()
                    .map(|t| {
                        std::thread::Builder::new()
                            .stack_size(crate::parallel::STACK)
                            .spawn_scoped(scope, move || parse(t))
                    })
                    .collect();
                let mut parsed = vec![parse(&first[0])];
                for (handle, template) in handles.into_iter().zip(rest) {
                    // A thread that could not start parses here.
                    parsed.push(handle.map_or_else(
                        |_| parse(template),
                        |handle| {
                            handle
                                .join()
                                .unwrap_or_else(|_| Err(tera::Error::msg("the template parser stopped unexpectedly")))
                        },
                    ));
                }
                parsed
            })
        };
        for ((name, source), template) in templates.into_iter().zip(parsed) {
            let template = template.map_err(|e| template_error(&name, &e))?;
            // What `Tera::add_raw_template` does after parsing.
            self.tera.templates.insert(name.clone(), template);
            self.tera
                .build_inheritance_chains()
                .and_then(|()| self.tera.check_macro_files())
                .map_err(|e| template_error(&name, &e))?;
            self.sources.insert(name, source);
        }
        Ok(())
    }

    /// Adds several templates at once, so that they may import or include
    /// each other whatever their order (partials).
    ///
    /// # Errors
    /// [`Error::Template`] for the first that does not parse (with its line),
    /// or when they do not fit together (a missing import).
    pub fn add_templates(&mut self, templates: &[(String, String)]) -> Result<()> {
        for (name, source) in templates {
            bounded_nesting(name, source)?;
            tera::Template::new(name, None, source).map_err(|e| template_error(name, &e))?;
        }
        self.tera
            .add_raw_templates(templates.iter().map(|(n, s)| (n.as_str(), s.as_str())))
            .map_err(|e| template_error(templates.first().map_or("partials", |(n, _)| n.as_str()), &e))?;
        for (name, source) in templates {
            self.sources.insert(name.clone(), source.clone());
        }
        Ok(())
    }

    /// The source text of every template.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.values().map(String::as_str)
    }

    /// Whether template `name` (with what it includes, extends or imports)
    /// may read the context name `ident`: the context builder leaves out
    /// the names a template never reads (`files` of 100,000 changes, say).
    /// `__tera_context` (which prints everything) reads every name.
    #[must_use]
    pub fn uses(&self, name: &str, ident: &str) -> bool {
        let mut queue = vec![name.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let Ok(template) = self.tera.get_template(&name) else {
                return true;
            };
            let mut walker = Walker::default();
            walker.nodes(&template.ast);
            if walker.used.contains(ident) || walker.used.contains("__tera_context") {
                return true;
            }
            queue.extend(walker.templates);
            queue.extend(template.imported_macro_files.iter().map(|(file, _)| file.clone()));
            if let Some(parent) = &template.parent {
                queue.push(parent.clone());
            }
        }
        false
    }

    /// Whether a template of that name was added.
    #[must_use]
    pub fn has_template(&self, name: &str) -> bool {
        self.sources.contains_key(name)
    }

    /// Renders `name` with `context`; `group` names the group in errors.
    ///
    /// # Errors
    /// [`Error::Render`] for an undefined name, an unquoted path, or a
    /// failure inside Tera.
    pub fn render(&self, name: &str, context: &Context, group: &str) -> Result<String> {
        if !self.acyclic.lock().is_ok_and(|done| done.contains(name)) {
            self.check_recursion(name)?;
            if let Ok(mut done) = self.acyclic.lock() {
                done.insert(name.to_owned());
            }
        }
        self.check(name, context, group, &mut BTreeSet::new())?;
        self.tera.render(name, context).map_err(|e| {
            let detail = error_chain(&e);
            // Tera names a missing attribute (`vars.registry`) but not its line.
            let line = missing_variable(&detail)
                .and_then(|var| find_line(self.sources.get(name).map_or("", String::as_str), var, false));
            Error::Render {
                template: name.to_owned(),
                line,
                group: group.to_owned(),
                detail,
            }
        })
    }

    /// Fails when templates include or extend each other in a cycle, or a
    /// macro calls itself directly or through other macros: Tera has no depth
    /// limit, so either would overflow the stack and abort the run.
    fn check_recursion(&self, root: &str) -> Result<()> {
        let mut includes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut calls: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // Templates and macros together: a macro may include a template that
        // calls the macro again. Calls are kept as (file, namespace, name)
        // and resolved once every file is known.
        let mut mixed: BTreeMap<String, (Vec<String>, Vec<RawCall>)> = BTreeMap::new();
        let mut queue = vec![root.to_owned()];
        while let Some(name) = queue.pop() {
            if includes.contains_key(&name) {
                continue;
            }
            let Ok(template) = self.tera.get_template(&name) else {
                includes.insert(name, Vec::new());
                continue;
            };
            let mut walker = Walker::default();
            walker.nodes(&template.ast);
            let children: Vec<String> = walker.templates.into_iter().filter(|t| self.has_template(t)).collect();
            queue.extend(children.iter().cloned());
            queue.extend(template.imported_macro_files.iter().map(|(file, _)| file.clone()));
            let mut top = Walker::default();
            for node in &template.ast {
                if !matches!(node, Node::MacroDefinition(..)) {
                    top.node(node);
                }
            }
            let raw = |walker: &Walker| {
                walker
                    .macro_calls
                    .iter()
                    .map(|(namespace, callee)| (name.clone(), namespace.clone(), callee.clone()))
                    .collect::<Vec<_>>()
            };
            mixed.insert(name.clone(), (children.clone(), raw(&top)));
            includes.insert(name.clone(), children);
            for (macro_name, definition) in &template.macros {
                let mut body = Walker::default();
                body.nodes(&definition.body);
                mixed.insert(
                    format!("{name}::{macro_name}"),
                    (
                        body.templates
                            .iter()
                            .filter(|t| self.has_template(t))
                            .cloned()
                            .collect(),
                        raw(&body),
                    ),
                );
                let callees = body
                    .macro_calls
                    .iter()
                    .filter_map(|(namespace, callee)| {
                        let file = if namespace == "self" {
                            Some(name.as_str())
                        } else {
                            template
                                .imported_macro_files
                                .iter()
                                .find(|(_, ns)| ns == namespace)
                                .map(|(file, _)| file.as_str())
                        };
                        file.map(|file| format!("{file}::{callee}"))
                    })
                    .collect();
                calls.insert(format!("{name}::{macro_name}"), callees);
            }
        }
        let fail = |cycle: Vec<String>, what: &str| {
            let first = cycle.first().cloned().unwrap_or_default();
            let (template, ident) = first
                .split_once("::")
                .map_or((first.as_str(), first.as_str()), |(t, m)| (t, m));
            Error::Template {
                template: template.to_owned(),
                line: find_line(self.sources.get(template).map_or("", String::as_str), ident, false),
                detail: format!(
                    "{what}: {}; Tera has no depth limit, so childgen refuses recursion and deep chains (write \
                     them as loops)",
                    cycle.join(" → ")
                ),
            }
        };
        let fail = |chain: Chain, what: &str| match chain {
            Chain::Cycle(cycle) => fail(cycle, what),
            Chain::TooDeep(mut path) => fail(
                {
                    if path.len() > 6 {
                        path.splice(3..path.len() - 2, ["…".to_owned()]);
                    }
                    path
                },
                &format!("templates and macros include or call each other more than {MAX_CHAIN} levels deep"),
            ),
        };
        if let Some(chain) = find_chain(&includes) {
            return Err(fail(chain, "templates include or extend each other in a cycle"));
        }
        if let Some(chain) = find_chain(&calls) {
            return Err(fail(chain, "a macro calls itself"));
        }
        // A call resolves through its file's imports; where it does not (an
        // included template may use its includer's), it may reach any macro
        // of that name.
        let macros: Vec<String> = mixed.keys().filter(|k| k.contains("::")).cloned().collect();
        let resolve = |(file, namespace, callee): &RawCall| -> Vec<String> {
            let own = if namespace == "self" {
                Some(file.clone())
            } else {
                self.tera.get_template(file).ok().and_then(|t| {
                    t.imported_macro_files
                        .iter()
                        .find(|(_, ns)| ns == namespace)
                        .map(|(f, _)| f.clone())
                })
            };
            let exact = own.map(|f| format!("{f}::{callee}")).filter(|m| mixed.contains_key(m));
            exact.map_or_else(
                || {
                    macros
                        .iter()
                        .filter(|m| m.rsplit_once("::").is_some_and(|(_, n)| n == callee))
                        .cloned()
                        .collect()
                },
                |m| vec![m],
            )
        };
        let graph: BTreeMap<String, Vec<String>> = mixed
            .iter()
            .map(|(node, (templates, raw))| {
                let mut next = templates.clone();
                next.extend(raw.iter().flat_map(resolve));
                (node.clone(), next)
            })
            .collect();
        if let Some(chain) = find_chain(&graph) {
            return Err(fail(chain, "a macro includes a template that calls it again"));
        }
        Ok(())
    }

    /// The static checks for one template and the ones it includes or extends.
    fn check<'a>(&'a self, name: &'a str, context: &Context, group: &str, seen: &mut BTreeSet<&'a str>) -> Result<()> {
        if !seen.insert(name) {
            return Ok(());
        }
        let template = self.tera.get_template(name).map_err(|e| Error::Template {
            template: name.to_owned(),
            line: None,
            detail: error_chain(&e),
        })?;
        let cached = self.walks.lock().ok().and_then(|walks| walks.get(name).cloned());
        let walker = cached.unwrap_or_else(|| {
            let mut walker = Walker::default();
            walker.nodes(&template.ast);
            let walker = std::sync::Arc::new(walker);
            if let Ok(mut walks) = self.walks.lock() {
                walks.insert(name.to_owned(), walker.clone());
            }
            walker
        });
        let source = self.sources.get(name).map_or("", String::as_str);
        let fail = |ident: &str, detail: String| Error::Render {
            template: name.to_owned(),
            line: find_line(source, ident, false),
            group: group.to_owned(),
            detail,
        };
        for ident in &walker.used {
            if !walker.locals.contains(ident.as_str())
                && !context.contains_key(ident)
                && !TERA_NAMES.contains(&ident.as_str())
            {
                let known = context_names(context);
                return Err(fail(
                    ident,
                    format!(
                        "`{ident}` is not defined (this template can use: {known}); \
                         test optional names with `{{% if {ident} is defined %}}`"
                    ),
                ));
            }
        }
        if let Some(ident) = walker.unquoted.first() {
            let root = ident_root(ident);
            return Err(Error::Render {
                template: name.to_owned(),
                line: find_line(source, root, true),
                group: group.to_owned(),
                detail: format!(
                    "`{{{{ {ident} }}}}` prints a file path without quoting, so a path could inject YAML; \
                     write `{{{{ {ident} | yaml_quote }}}}` as a whole YAML value, and in a script line \
                     `{{% set word = {ident} | sh_quote %}}` then `{{{{ \"cmd -- \" ~ word | yaml_quote }}}}` \
                     (docs/templates.md, \"Paths in scripts\")"
                ),
            });
        }
        for child in &walker.templates {
            let child = self
                .sources
                .get_key_value(child.as_str())
                .map_or(name, |(k, _)| k.as_str());
            self.check(child, context, group, seen)?;
        }
        Ok(())
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

/// A macro call as written: (the file it is in, namespace, macro name).
type RawCall = (String, String, String);

/// The longest chain of includes and macro calls a render may take: each
/// level is a few frames of Tera's recursive renderer.
const MAX_CHAIN: usize = 64;

/// The deepest `{% if %}`/`{% for %}`/... nesting of one template.
const MAX_NESTING: usize = 64;

/// The most operators and brackets one tag may hold: Tera parses and
/// evaluates `a + a + ...` as a tree as deep as the chain is long.
const MAX_OPERATORS: usize = 256;

/// What [`find_chain`] found.
enum Chain {
    /// The path that closes a cycle: `a → b → a`.
    Cycle(Vec<String>),
    /// A path longer than [`MAX_CHAIN`].
    TooDeep(Vec<String>),
}

/// A cycle in a graph given as adjacency lists (depth-first, in key
/// order), or a path longer than [`MAX_CHAIN`]; the search itself never
/// goes deeper than that.
fn find_chain(edges: &BTreeMap<String, Vec<String>>) -> Option<Chain> {
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeMap<String, Vec<String>>,
        path: &mut Vec<&'a str>,
        // The nodes of the longest path from each node finished.
        height: &mut BTreeMap<&'a str, usize>,
    ) -> Result<usize, Chain> {
        let with = |path: &[&str]| path.iter().map(|n| (*n).to_owned()).chain([node.to_owned()]).collect();
        if let Some(start) = path.iter().position(|n| *n == node) {
            return Err(Chain::Cycle(with(&path[start..])));
        }
        let below = if let Some(below) = height.get(node) {
            *below
        } else {
            if path.len() >= MAX_CHAIN {
                return Err(Chain::TooDeep(with(path)));
            }
            path.push(node);
            let mut below = 1;
            for next in edges.get(node).into_iter().flatten() {
                below = below.max(1 + visit(next, edges, path, height)?);
            }
            path.pop();
            height.insert(node, below);
            below
        };
        if path.len() + below > MAX_CHAIN {
            return Err(Chain::TooDeep(with(path)));
        }
        Ok(below)
    }
    let mut height = BTreeMap::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut height).err())
}

/// Refuses a template whose tags nest deeper than [`MAX_NESTING`] or whose
/// one tag holds more than [`MAX_OPERATORS`] operators and brackets, before
/// Tera parses it: its parser and renderer recurse once per level, and a
/// 50 KB template of nested `{% if %}` overflowed the stack (exit 134).
fn bounded_nesting(name: &str, source: &str) -> Result<()> {
    let fail = |at: usize, detail: String| Error::Template {
        template: name.to_owned(),
        line: Some(source[..at].matches('\n').count() + 1),
        detail,
    };
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(open) = source[i..].find('{').map(|o| i + o) {
        let close = match bytes.get(open + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                i = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        if close == "#}" {
            i = source[body_start..]
                .find("#}")
                .map_or(source.len(), |e| body_start + e + 2);
            continue;
        }
        // The tag's end, outside string literals.
        let (mut j, mut operators, mut quote) = (body_start, 0usize, None::<u8>);
        let mut word = String::new();
        let mut first: Option<String> = None;
        let end = loop {
            let Some(&b) = bytes.get(j) else { break source.len() };
            if let Some(q) = quote {
                if b == q {
                    quote = None;
                }
                j += 1;
                continue;
            }
            if source[j..].starts_with(close) || source[j..].starts_with(&format!("-{close}")) {
                break j;
            }
            if b.is_ascii_alphanumeric() || b == b'_' {
                word.push(char::from(b));
            } else {
                if !word.is_empty() {
                    if matches!(word.as_str(), "and" | "or" | "not" | "in" | "is") {
                        operators += 1;
                    }
                    first.get_or_insert_with(|| word.clone());
                    word.clear();
                }
                match b {
                    b'"' | b'\'' | b'`' => quote = Some(b),
                    b'(' | b'[' | b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'<' | b'>' | b'=' | b'!' => {
                        operators += 1;
                    }
                    _ => {}
                }
            }
            j += 1;
        };
        if !word.is_empty() {
            first.get_or_insert(word);
        }
        if operators > MAX_OPERATORS {
            return Err(fail(
                open,
                format!(
                    "one tag holds more than {MAX_OPERATORS} operators and brackets; Tera nests them as deep, \
                     so childgen refuses them (split the expression with `{{% set %}}`)"
                ),
            ));
        }
        i = (end + usize::from(bytes.get(end) == Some(&b'-')) + close.len()).min(source.len());
        if close == "}}" {
            continue;
        }
        match first.as_deref() {
            Some("raw") => {
                // Nothing up to `{% endraw %}` is a tag.
                let rest = &source[i..];
                i += rest
                    .match_indices("endraw")
                    .find_map(|(at, _)| rest[at..].find("%}").map(|e| at + e + 2))
                    .unwrap_or(rest.len());
            }
            Some("if" | "for" | "block" | "macro" | "filter") => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(fail(
                        open,
                        format!(
                            "tags nest more than {MAX_NESTING} levels deep; Tera parses and renders each level \
                             recursively, so childgen refuses deeper nesting (move inner parts into a macro or \
                             a partial)"
                        ),
                    ));
                }
            }
            Some(tag) if tag.starts_with("end") => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The context's top-level names, sorted, for messages.
fn context_names(context: &Context) -> String {
    let json = context.clone().into_json();
    json.as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// Collects the names a template uses, the names it defines, and path
/// carriers printed without quoting.
#[derive(Default)]
struct Walker {
    used: BTreeSet<String>,
    locals: BTreeSet<String>,
    tainted: BTreeSet<String>,
    unquoted: Vec<String>,
    templates: Vec<String>,
    /// Macro calls, as (namespace, name).
    macro_calls: Vec<(String, String)>,
}

impl Walker {
    fn nodes(&mut self, nodes: &[Node]) {
        for node in nodes {
            self.node(node);
        }
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::VariableBlock(_, expr) => {
                self.expr(expr);
                if let Some(ident) = self.unquoted_path(expr) {
                    self.unquoted.push(ident);
                }
            }
            Node::Set(_, set) => {
                self.expr(&set.value);
                self.locals.insert(set.key.clone());
                if self.carries_path(&set.value) {
                    self.tainted.insert(set.key.clone());
                }
            }
            Node::Forloop(_, forloop, _) => {
                self.expr(&forloop.container);
                let tainted = self.carries_path(&forloop.container);
                for var in forloop.key.iter().chain(std::iter::once(&forloop.value)) {
                    self.locals.insert(var.clone());
                    if tainted {
                        self.tainted.insert(var.clone());
                    }
                }
                self.nodes(&forloop.body);
                if let Some(empty) = &forloop.empty_body {
                    self.nodes(empty);
                }
            }
            Node::If(branches, _) => {
                for (_, condition, body) in &branches.conditions {
                    self.expr(condition);
                    self.nodes(body);
                }
                if let Some((_, body)) = &branches.otherwise {
                    self.nodes(body);
                }
            }
            Node::FilterSection(_, section, _) => {
                self.args(&section.filter.args);
                self.nodes(&section.body);
            }
            Node::Block(_, block, _) => self.nodes(&block.body),
            Node::MacroDefinition(_, definition, _) => {
                self.locals.extend(definition.args.keys().cloned());
                for default in definition.args.values().flatten() {
                    self.expr(default);
                }
                self.nodes(&definition.body);
            }
            Node::Include(_, names, _) => self.templates.extend(names.iter().cloned()),
            Node::Extends(_, name) => self.templates.push(name.clone()),
            Node::Super
            | Node::Text(_)
            | Node::ImportMacro(..)
            | Node::Raw(..)
            | Node::Break(_)
            | Node::Continue(_)
            | Node::Comment(..) => {}
        }
    }

    fn args(&mut self, args: &HashMap<String, Expr>) {
        for arg in args.values() {
            self.expr(arg);
        }
    }

    fn expr(&mut self, expr: &Expr) {
        self.val(&expr.val);
        for filter in &expr.filters {
            self.args(&filter.args);
        }
    }

    fn val(&mut self, val: &ExprVal) {
        match val {
            ExprVal::Ident(ident) => self.ident(ident),
            ExprVal::Math(math) => {
                self.expr(&math.lhs);
                self.expr(&math.rhs);
            }
            ExprVal::Logic(logic) => {
                self.expr(&logic.lhs);
                self.expr(&logic.rhs);
            }
            ExprVal::Test(test) => {
                if matches!(test.name.as_str(), "defined" | "undefined") {
                    // A name tested for definition is optional wherever it is used.
                    self.locals.insert(ident_root(&test.ident).to_owned());
                } else {
                    self.ident(&test.ident);
                }
                for arg in &test.args {
                    self.expr(arg);
                }
            }
            ExprVal::MacroCall(call) => {
                self.macro_calls.push((call.namespace.clone(), call.name.clone()));
                self.args(&call.args);
            }
            ExprVal::FunctionCall(call) => self.args(&call.args),
            ExprVal::Array(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            ExprVal::StringConcat(concat) => {
                for value in &concat.values {
                    self.val(value);
                }
            }
            ExprVal::In(inside) => {
                self.expr(&inside.lhs);
                self.expr(&inside.rhs);
            }
            ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => {}
        }
    }

    /// Records the root of a dotted or subscripted name, and the names used
    /// inside its subscripts.
    fn ident(&mut self, ident: &str) {
        let root = ident_root(ident);
        self.used.insert(root.to_owned());
        for inner in subscripts(ident) {
            self.ident(inner);
        }
    }

    /// Whether an expression's value may hold a path (before quoting).
    fn carries_path(&self, expr: &Expr) -> bool {
        self.unquoted_path(expr).is_some()
    }

    /// The path-carrying name an output expression prints without quoting.
    fn unquoted_path(&self, expr: &Expr) -> Option<String> {
        if expr
            .filters
            .last()
            .is_some_and(|f| QUOTING_FILTERS.contains(&f.name.as_str()))
        {
            return None;
        }
        self.unquoted_val(&expr.val)
    }

    fn unquoted_val(&self, val: &ExprVal) -> Option<String> {
        match val {
            ExprVal::Ident(ident) => {
                let root = ident_root(ident);
                let carrier = PATH_CARRIERS.contains(&root) || self.tainted.contains(root);
                (carrier && prints_path(ident)).then(|| ident.clone())
            }
            ExprVal::StringConcat(concat) => concat.values.iter().find_map(|v| self.unquoted_val(v)),
            // A macro prints what it is given: paths must be quoted before.
            ExprVal::MacroCall(call) => {
                let mut args: Vec<_> = call.args.iter().collect();
                args.sort_by_key(|(name, _)| name.as_str());
                args.into_iter().find_map(|(_, arg)| self.unquoted_path(arg))
            }
            ExprVal::Math(math) => self.unquoted_path(&math.lhs).or_else(|| self.unquoted_path(&math.rhs)),
            ExprVal::Array(items) => items.iter().find_map(|item| self.unquoted_path(item)),
            _ => None,
        }
    }
}

/// Whether a name rooted in a path carrier prints a path: the carrier itself,
/// an element of it, or a `path`-like attribute. Other attributes (`status`,
/// `score`, a group's variables) are letters, numbers or checked values.
fn prints_path(ident: &str) -> bool {
    let mut segments = ident.split('.');
    segments.next();
    match segments.next_back() {
        None => true,
        Some(last) => PATH_ATTRIBUTES.contains(&last) || last.contains('[') || last.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// `files.0.path` → `files`; `groups[i]` → `groups`.
fn ident_root(ident: &str) -> &str {
    ident.split(['.', '[']).next().unwrap_or(ident)
}

/// The unquoted names inside `a[b]` subscripts.
fn subscripts(ident: &str) -> Vec<&str> {
    static SUBSCRIPT: OnceLock<Option<Regex>> = OnceLock::new();
    SUBSCRIPT
        .get_or_init(|| Regex::new(r"\[\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\]").ok())
        .as_ref()
        .map(|re| {
            re.captures_iter(ident)
                .filter_map(|c| c.get(1))
                .map(|m| m.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The 1-based line of the first tag in `source` that uses `ident`
/// (only `{{ }}` output tags when `output_only`).
fn find_line(source: &str, ident: &str, output_only: bool) -> Option<usize> {
    static TAG: OnceLock<Option<Regex>> = OnceLock::new();
    static OUTPUT: OnceLock<Option<Regex>> = OnceLock::new();
    let tag = if output_only {
        OUTPUT.get_or_init(|| Regex::new(r"(?s)\{\{.*?\}\}").ok())
    } else {
        TAG.get_or_init(|| Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").ok())
    };
    let tag = tag.as_ref()?;
    let word = Regex::new(&format!(r"(^|[^.\w]){}\b", regex::escape(ident))).ok()?;
    tag.find_iter(source).find_map(|m| {
        let found = word.find(m.as_str())?;
        let offset = m.start() + found.start();
        Some(source[..offset].matches('\n').count() + 1 + usize::from(found.as_str().starts_with('\n')))
    })
}

/// The name in Tera's "Variable `x.y` not found in context" message.
fn missing_variable(detail: &str) -> Option<&str> {
    let start = detail.find("Variable `")? + "Variable `".len();
    let end = start + detail[start..].find('`')?;
    Some(&detail[start..end])
}

/// A template that does not parse or fit, with the line Tera names.
fn template_error(name: &str, e: &tera::Error) -> Error {
    let detail = error_chain(e);
    Error::Template {
        template: name.to_owned(),
        line: parse_error_line(&detail),
        detail,
    }
}

/// The line of a Tera parse error (`--> 3:10`).
fn parse_error_line(detail: &str) -> Option<usize> {
    let start = detail.find("--> ")? + 4;
    let rest = &detail[start..];
    rest[..rest.find(':')?].trim().parse().ok()
}

/// Tera's error and its sources as one paragraph.
fn error_chain(error: &tera::Error) -> String {
    let mut out = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}

/// A scalar as text (null is empty); a list or a map fails with `problem`.
fn scalar_text(value: &Value, problem: &str) -> tera::Result<String> {
    Ok(match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => return Err(tera::Error::msg(problem)),
    })
}

/// `yaml_quote`: a value as a double-quoted YAML scalar. JSON string syntax is
/// a subset of YAML's double-quoted style, so any character is safe inside it.
fn yaml_quote(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = scalar_text(value, "yaml_quote expects a string, not a list or a map")?;
    let json = serde_json::to_string(&text).map_err(|e| tera::Error::msg(e.to_string()))?;
    // JSON leaves characters raw that YAML reads differently or refuses: the
    // line breaks NEL, LS and PS, DEL, C1 controls and non-characters. YAML's
    // double-quoted style has escapes for all of them.
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

/// `sh_quote`: a value as one single-quoted POSIX shell word (`'` written
/// `'\''`); a list gives its items as words separated by spaces. The result
/// is shell text, not YAML: put the whole script line through `yaml_quote`.
fn sh_quote(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    fn word(value: &Value) -> tera::Result<String> {
        let text = scalar_text(value, "sh_quote expects a string or a list of strings")?;
        Ok(format!("'{}'", text.replace('\'', r"'\''")))
    }
    match value {
        Value::Array(items) => items
            .iter()
            .map(word)
            .collect::<tera::Result<Vec<_>>>()
            .map(|words| Value::String(words.join(" "))),
        other => word(other).map(Value::String),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, context: &Context) -> Result<String> {
        let mut renderer = Renderer::new();
        renderer.add_template("t.yml.tera", source)?;
        renderer.render("t.yml.tera", context, "p=a")
    }

    fn context() -> Context {
        let mut context = Context::new();
        context.insert("stage_name", "s1");
        context.insert(
            "files",
            &vec![serde_json::json!({"path": "a: b\n- evil", "status": "M", "score": null, "old_path": null})],
        );
        context
    }

    #[test]
    fn renders_and_quotes() -> Result<()> {
        let out = render(
            "x-{{ stage_name }}:\n{% for f in files %}  - {{ f.path | yaml_quote }} {{ f.status }}\n{% endfor %}",
            &context(),
        )?;
        assert_eq!(out, "x-s1:\n  - \"a: b\\n- evil\" M\n");
        Ok(())
    }

    #[test]
    fn undefined_names_fail_with_line_and_group() {
        let cases = [
            ("a: 1\n{% if missing %}x{% endif %}", 2, "missing"),
            ("a: 1\nb: 2\n\n{{ nope | upper }}", 4, "nope"),
            (
                "{% for f in files %}\n{{ f.status }}{{ other[f.status] }}{% endfor %}",
                2,
                "other",
            ),
        ];
        for (source, line, name) in cases {
            match render(source, &context()) {
                Err(Error::Render {
                    template,
                    line: Some(l),
                    group,
                    detail,
                }) => {
                    assert_eq!(
                        (template.as_str(), l, group.as_str()),
                        ("t.yml.tera", line, "p=a"),
                        "{source}"
                    );
                    assert!(
                        detail.starts_with(&format!(
                            "`{name}` is not defined (this template can use: files, stage_name)"
                        )),
                        "{detail}"
                    );
                }
                other => panic!("{source}: {other:?}"),
            }
        }
    }

    #[test]
    fn defined_tests_and_locals_are_allowed() -> Result<()> {
        let source = "{% set n = 2 %}{% if opt is defined %}{{ opt }}{% endif %}{% for f in files %}{{ loop.index }}{{ n }}{% endfor %}";
        assert_eq!(render(source, &context())?, "12");
        Ok(())
    }

    #[test]
    fn unquoted_paths_are_rejected() {
        for source in [
            "{% for f in files %}\n{{ f.path }}{% endfor %}",
            "{% for f in files %}{% set p = f.path %}\n{{ p }}{% endfor %}",
            "x\n{{ files }}",
            "{% for f in files %}\n{{ 'a' ~ f.old_path }}{% endfor %}",
        ] {
            match render(source, &context()) {
                Err(Error::Render {
                    line: Some(2), detail, ..
                }) => assert!(detail.contains("without quoting"), "{detail}"),
                other => panic!("{source}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_attribute_names_its_line() {
        let mut context = context();
        context.insert("vars", &serde_json::json!({}));
        match render("a: 1\nb: {{ vars.registry }}\n", &context) {
            Err(Error::Render {
                line: Some(2), detail, ..
            }) => assert!(detail.contains("vars.registry"), "{detail}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paths_passed_to_macros_must_be_quoted_first() {
        let source =
            "{% macro show(p) %}{{ p }}{% endmacro show %}{% for f in files %}\n{{ self::show(p=f.path) }}{% endfor %}";
        match render(source, &context()) {
            Err(Error::Render {
                line: Some(2), detail, ..
            }) => assert!(detail.contains("without quoting"), "{detail}"),
            other => panic!("{other:?}"),
        }
        let quoted = "{% macro show(p) %}{{ p }}{% endmacro show %}{% for f in files %}{{ self::show(p=f.path | yaml_quote) }}{% endfor %}";
        assert_eq!(render(quoted, &context()).ok().as_deref(), Some("\"a: b\\n- evil\""));
    }

    #[test]
    fn templates_cannot_read_the_environment() {
        match render("token: {{ get_env(name=\"HOME\") }}", &context()) {
            Err(Error::Render { detail, .. }) => assert!(detail.contains("get_env is disabled"), "{detail}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yaml_quote_escapes_what_yaml_reads_differently() -> Result<()> {
        let mut context = Context::new();
        let tricky = "a\u{85}b\u{2028}c\u{2029}d\u{7f}e\u{9b}f\u{fffe}";
        context.insert("p", tricky);
        let out = render("k: {{ p | yaml_quote }}", &context)?;
        let parsed: serde_yaml::Mapping = serde_yaml::from_str(&out).map_err(|e| Error::Usage(e.to_string()))?;
        assert_eq!(
            parsed.get("k").and_then(serde_yaml::Value::as_str),
            Some(tricky),
            "{out}"
        );
        Ok(())
    }

    #[test]
    fn sh_quote_makes_one_shell_word() -> Result<()> {
        let mut context = Context::new();
        context.insert("p", "it's $(x)");
        context.insert("l", &["a b", "c'"]);
        let out = render("{{ p | sh_quote }}|{{ l | sh_quote }}|{{ '' | sh_quote }}", &context)?;
        assert_eq!(out, r"'it'\''s $(x)'|'a b' 'c'\'''|''");
        Ok(())
    }

    #[test]
    fn parse_errors_carry_the_line() {
        match render("a: 1\nb: {{ x y }}\nc: 3\n", &context()) {
            Err(Error::Template { line: Some(2), .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}

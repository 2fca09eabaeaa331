//! High-level settings: the command-line flags, the environment and
//! `childgen.yml` resolved into rules with loaded templates. Precedence is
//! flag > env > config file > default.

use crate::cli::{GlobalArgs, ModeArg};
use crate::config::{Config, discover};
use crate::error::{Error, Result};
use crate::group::{Mode, Rule};
use crate::pattern::{DEFAULT_VALUES, Pattern, ValueRule};
use crate::render::Renderer;
use crate::validate::Limits;
use globset::{GlobBuilder, GlobSetBuilder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The built-in no-op template used when nothing matched.
pub const NO_CHANGES_TEMPLATE: &str = include_str!("../templates/no-changes.yml.tera");
/// The renderer's name for the built-in no-op template.
pub const NO_CHANGES_NAME: &str = "<built-in no-changes>";

/// Whether a command renders templates or only matches paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `explain`: patterns only.
    Patterns,
    /// `render`, `generate`, `plan`: patterns and templates.
    Templates,
}

/// Everything the core needs, validated.
pub struct Settings {
    /// The rules in order.
    pub rules: Vec<Rule>,
    /// Templates, loaded (empty when only patterns are needed).
    pub renderer: Renderer,
    /// The renderer's name of the no-op template.
    pub empty_template: String,
    /// The `values` rule.
    pub values: ValueRule,
    /// `vars` for templates.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Size limits.
    pub limits: Limits,
    /// Programs trusted to read a changed path as data (`trusted_commands`).
    pub trusted_commands: Vec<String>,
    /// The config file used, if any.
    pub config: Option<Config>,
    /// Say what happens on stderr.
    pub verbose: bool,
    /// No warnings.
    pub quiet: bool,
}

impl Settings {
    /// Resolves flags and config into settings.
    ///
    /// # Errors
    /// [`Error::Usage`], [`Error::Config`], [`Error::Pattern`] or
    /// [`Error::Template`] for anything that cannot be used.
    pub fn resolve(global: &GlobalArgs, need: Need) -> Result<Self> {
        let config = load_config(global)?;
        let file = config.as_ref().map(|c| c.file.clone()).unwrap_or_default();
        let dir = config.as_ref().map_or_else(|| PathBuf::from("."), |c| c.dir.clone());
        let config_name = config
            .as_ref()
            .map(|c| c.path.display().to_string())
            .unwrap_or_default();

        let mut renderer = Renderer::new();
        if need == Need::Templates {
            load_partials(&mut renderer, &dir, &file.partials, &config_name)?;
        }
        // Templates are read as the rules name them and parsed together
        // at the end, on several threads (parsing is most of a small run).
        let mut pending: Vec<(String, String)> = Vec::new();
        let mut load = |path: &Path| -> Result<String> {
            let name = display_path(path);
            if need == Need::Templates && !renderer.has_template(&name) && !pending.iter().any(|(n, _)| *n == name) {
                let source = crate::files::read_text(path, crate::files::TEMPLATE_LIMIT, "a template")?;
                pending.push((name.clone(), source));
            }
            Ok(name)
        };

        let rules = if let Some(pattern) = cli_pattern(global)? {
            let template = match (&global.template, need) {
                (Some(t), _) => load(t)?,
                (None, Need::Patterns) => String::new(),
                (None, Need::Templates) => {
                    return Err(Error::Usage(
                        "--stop and --regex need --template (or rules in childgen.yml)".to_owned(),
                    ));
                }
            };
            let mode = match global.mode {
                Some(ModeArg::Once) => Mode::Once,
                _ => Mode::Each,
            };
            vec![Rule {
                name: "command-line".to_owned(),
                pattern,
                paths: None,
                template,
                mode,
            }]
        } else {
            if global.template.is_some() {
                return Err(Error::Usage("--template needs --stop or --regex".to_owned()));
            }
            let mut rules = Vec::with_capacity(file.rules.len());
            for (index, rule) in file.rules.iter().enumerate() {
                let name = rule.name.clone().unwrap_or_else(|| format!("rule-{}", index + 1));
                let fail = |detail: String| Error::Config {
                    path: PathBuf::from(&config_name),
                    detail: format!("rules[{index}] (`{name}`): {detail}"),
                };
                let pattern = match (&rule.stop, &rule.regex) {
                    (Some(stop), None) => Pattern::parse_stop(stop).map_err(|e| fail(e.to_string()))?,
                    (None, Some(regex)) => Pattern::parse_regex(regex).map_err(|e| fail(e.to_string()))?,
                    _ => return Err(fail("give exactly one of `stop` or `regex`".to_owned())),
                };
                let paths = build_globs(&rule.paths).map_err(fail)?;
                let template = load(&dir.join(&rule.template)).map_err(|e| match e {
                    Error::Read { path, source } => fail(format!("cannot read template {}: {source}", path.display())),
                    other => other,
                })?;
                rules.push(Rule {
                    name,
                    pattern,
                    paths,
                    template,
                    mode: rule.mode,
                });
            }
            rules
        };
        if rules.is_empty() {
            return Err(Error::Usage(
                "no rules: pass --template with --stop or --regex, or write rules in childgen.yml (`childgen init` scaffolds one)"
                    .to_owned(),
            ));
        }

        let empty_template = if let Some(path) = &file.empty {
            load(&dir.join(path))?
        } else {
            if need == Need::Templates {
                pending.push((NO_CHANGES_NAME.to_owned(), NO_CHANGES_TEMPLATE.to_owned()));
            }
            NO_CHANGES_NAME.to_owned()
        };
        renderer.add_parsed(pending)?;

        let values = ValueRule::new(file.values.as_deref().unwrap_or(DEFAULT_VALUES))?;
        let mut vars = BTreeMap::new();
        for (key, value) in &file.vars {
            let json = serde_json::to_value(value).map_err(|e| Error::Config {
                path: PathBuf::from(&config_name),
                detail: format!("vars.{key}: {e}"),
            })?;
            vars.insert(key.clone(), json);
        }
        for pair in &global.vars {
            let (key, value) = pair
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Error::Usage(format!("--var {pair:?}: expected KEY=VALUE")))?;
            vars.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
        }

        for (index, program) in file.trusted_commands.iter().enumerate() {
            if program.is_empty()
                || !program
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
            {
                return Err(Error::Config {
                    path: PathBuf::from(&config_name),
                    detail: format!(
                        "trusted_commands[{index}]: `{program}` is not a program's name; write the name a script \
                         runs it by, without a folder (`helm`, `aws`)"
                    ),
                });
            }
        }

        Ok(Settings {
            rules,
            renderer,
            empty_template,
            values,
            vars,
            limits: file.limits,
            trusted_commands: file.trusted_commands.clone(),
            config,
            verbose: global.verbose,
            quiet: global.quiet,
        })
    }

    /// Prints a `--verbose` message on stderr.
    pub fn info(&self, message: impl AsRef<str>) {
        crate::output::info(self.verbose, message);
    }

    /// Prints a warning on stderr unless `--quiet`.
    pub fn warn(&self, message: impl AsRef<str>) {
        crate::output::warn(self.quiet, message);
    }
}

/// The explicit config, or the discovered one. With `--stop`/`--regex` its
/// rules are replaced, but its `vars`, `values`, `empty` and `limits` apply.
///
/// # Errors
/// As [`Config::load`].
pub fn load_config(global: &GlobalArgs) -> Result<Option<Config>> {
    if let Some(path) = &global.config {
        return Config::load(path).map(Some);
    }
    let cwd = std::env::current_dir().map_err(|e| Error::Usage(format!("cannot read the current folder: {e}")))?;
    discover(&cwd).map(|path| Config::load(&path)).transpose()
}

fn cli_pattern(global: &GlobalArgs) -> Result<Option<Pattern>> {
    match (&global.stop, &global.regex) {
        (Some(stop), _) => Pattern::parse_stop(stop).map(Some),
        (None, Some(regex)) => Pattern::parse_regex(regex).map(Some),
        (None, None) => Ok(None),
    }
}

/// The deepest folder a `partials` glob is walked to, below its literal prefix.
const PARTIALS_DEPTH: usize = 16;
/// The most folder entries one `partials` glob may walk.
const PARTIALS_ENTRIES: usize = 10_000;

/// Loads `partials` (globs relative to the config folder), each named by its
/// path relative to that folder, in sorted order. Only the glob's literal
/// prefix folder is walked (`templates/partials/*.tera` walks
/// `templates/partials`), to a bounded depth and number of entries; symbolic
/// links to folders are not followed, and a linked file must stay inside the
/// config folder (a merge request can add symlinks).
fn load_partials(renderer: &mut Renderer, dir: &Path, partials: &[String], config_name: &str) -> Result<()> {
    let fail = |detail: String| Error::Config {
        path: PathBuf::from(config_name),
        detail: format!("partials: {detail}"),
    };
    let mut loaded: Vec<(String, String)> = Vec::new();
    let home = dir.canonicalize().map_err(|source| Error::Read {
        path: dir.to_owned(),
        source,
    })?;
    for pattern in partials {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| fail(e.to_string()))?
            .compile_matcher();
        let prefix: PathBuf = pattern
            .split('/')
            .take_while(|part| !part.contains(['*', '?', '[', '{', '\\']))
            .collect();
        // The last literal part may be the file itself.
        let (start, literal) = [
            (dir.join(&prefix), prefix.components().count()),
            (
                prefix.parent().map_or_else(|| dir.to_owned(), |p| dir.join(p)),
                prefix.components().count().saturating_sub(1),
            ),
        ]
        .into_iter()
        .find(|(p, _)| p.is_dir())
        .unwrap_or_else(|| (dir.to_owned(), 0));
        // The folder the walk starts in may itself be a symbolic link (or
        // `..`): it must lead to a folder inside the config folder too.
        if !start.canonicalize().is_ok_and(|real| real.starts_with(&home)) {
            return Err(fail(format!(
                "`{pattern}` starts in {}, which leads outside {} (through a symbolic link or `..`); childgen loads partials only from inside the config folder",
                start.display(),
                dir.display()
            )));
        }
        // Without `**`, a match lies exactly this many folders below `start`.
        let fixed = (!pattern.contains("**")).then(|| pattern.split('/').count().saturating_sub(literal + 1));
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        let mut walked = 0usize;
        let mut stack = vec![(start, 0usize)];
        while let Some((folder, depth)) = stack.pop() {
            let entries = std::fs::read_dir(&folder).map_err(|source| Error::Read {
                path: folder.clone(),
                source,
            })?;
            for entry in entries.flatten() {
                walked += 1;
                if walked > PARTIALS_ENTRIES {
                    return Err(fail(format!(
                        "`{pattern}` walks more than {PARTIALS_ENTRIES} entries under {}; narrow the pattern",
                        folder.display()
                    )));
                }
                let path = entry.path();
                let Ok(kind) = entry.file_type() else { continue };
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if kind.is_dir() {
                    if hidden || fixed.is_some_and(|folders| depth + 1 > folders) {
                        continue;
                    }
                    if depth + 1 > PARTIALS_DEPTH {
                        return Err(fail(format!(
                            "`{pattern}` goes deeper than {PARTIALS_DEPTH} folders at {}; narrow the pattern",
                            path.display()
                        )));
                    }
                    stack.push((path, depth + 1));
                    continue;
                }
                let Ok(relative) = path.strip_prefix(dir) else { continue };
                let name = relative.to_string_lossy().replace('\\', "/");
                if !glob.is_match(&name) {
                    continue;
                }
                if kind.is_symlink() {
                    let target = path.canonicalize().ok();
                    if target.as_ref().is_some_and(|t| t.is_dir()) {
                        continue; // a linked folder is never walked
                    }
                    if !target.is_some_and(|t| t.starts_with(&home)) {
                        return Err(fail(format!(
                            "{} is a symbolic link that leads outside {} (or nowhere); childgen loads partials only from inside the config folder",
                            path.display(),
                            dir.display()
                        )));
                    }
                }
                found.push((name, path));
            }
        }
        if found.is_empty() {
            return Err(fail(format!("`{pattern}` matches no file under {}", dir.display())));
        }
        found.sort();
        for (name, path) in found {
            let source = crate::files::read_text(&path, crate::files::TEMPLATE_LIMIT, "a partial")?;
            loaded.push((name, source));
        }
    }
    // At once: partials may import each other in any order.
    renderer.add_templates(&loaded)
}

/// How a template's path is named in messages: `..` folded away, and
/// relative to the current folder when it is inside it.
fn display_path(path: &Path) -> String {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let normal: PathBuf = parts.iter().collect();
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| normal.strip_prefix(cwd).ok().map(Path::to_owned));
    relative.unwrap_or(normal).display().to_string()
}

/// Compiles `paths` globs: `*` stays inside a folder, `**` crosses folders.
fn build_globs(globs: &[String]) -> std::result::Result<Option<(Vec<String>, globset::GlobSet)>, String> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(
            GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("paths: {e}"))?,
        );
    }
    let set = builder.build().map_err(|e| format!("paths: {e}"))?;
    Ok(Some((globs.to_vec(), set)))
}

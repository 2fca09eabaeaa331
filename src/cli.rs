//! The command line, as clap derive types. Doc comments are the help text.
//! These are the low-level arguments; `settings.rs` validates them into
//! [`crate::settings::Settings`].
#![allow(clippy::doc_markdown)] // doc comments are the --help text

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Generate GitLab dynamic child pipelines from the paths a merge request changed.
///
/// In CI: `childgen generate --output generated.yml`. The legacy form
/// `childgen DIFF TEMPLATE PATTERNS` is `childgen render`.
#[derive(Debug, Parser)]
#[command(
    name = "childgen",
    version,
    override_usage = "childgen generate [OPTIONS]\n       childgen <COMMAND> [OPTIONS]\n       childgen [OPTIONS] <DIFF> <TEMPLATE> <PATTERNS>   (legacy: render)",
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub render: Option<RenderArgs>,

    #[command(flatten)]
    pub legacy: LegacyArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The options every command understands (the only global ones).
#[derive(Debug, Args, Default, Clone)]
pub struct CommonArgs {
    /// Config file [default: childgen.yml, searched upward to the repository root]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Say on stderr what childgen does and why
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print no warnings
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The options of the bare form `childgen DIFF TEMPLATE PATTERNS`; before a
/// subcommand they are an error (they would be ignored), see [`LegacyArgs::given`].
#[derive(Debug, Args, Default, Clone)]
pub struct LegacyArgs {
    /// Template render mode
    #[arg(
        id = "legacy_mode",
        long = "mode",
        value_name = "MODE",
        value_enum,
        requires = "render_diff"
    )]
    pub mode: Option<ModeArg>,

    /// A value for templates, as `{{ vars.KEY }}` (repeatable)
    #[arg(id = "legacy_var", long = "var", value_name = "KEY=VALUE", requires = "render_diff")]
    pub vars: Vec<String>,

    /// Write the result to FILE atomically instead of stdout (`-`: stdout)
    #[arg(
        id = "legacy_output",
        long = "output",
        short = 'o',
        value_name = "FILE",
        requires = "render_diff"
    )]
    pub output: Option<PathBuf>,
}

impl LegacyArgs {
    /// The first option given, as typed.
    #[must_use]
    pub fn given(&self) -> Option<&'static str> {
        if self.mode.is_some() {
            Some("--mode")
        } else if !self.vars.is_empty() {
            Some("--var")
        } else if self.output.is_some() {
            Some("--output")
        } else {
            None
        }
    }
}

/// Patterns given on the command line instead of the config's rules.
#[derive(Debug, Args, Default, Clone)]
pub struct PatternArgs {
    /// Stop-word patterns, e.g. "pipeline_name:pipelines,stage_name::pipelines"
    #[arg(long, value_name = "PATTERNS", conflicts_with = "regex")]
    pub stop: Option<String>,

    /// Regex whose named groups are the variables, e.g. 'pipelines/(?P<pipeline_name>[^/]+)/'
    #[arg(long, value_name = "REGEX")]
    pub regex: Option<String>,
}

/// How templates render.
#[derive(Debug, Args, Default, Clone)]
pub struct TemplateArgs {
    /// Template render mode for --template
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,

    /// A value for templates, as `{{ vars.KEY }}` (repeatable)
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
}

/// A template and patterns that replace the config's rules.
#[derive(Debug, Args, Default, Clone)]
pub struct RuleArgs {
    /// Template file; with --stop or --regex it replaces the config's rules
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,

    #[command(flatten)]
    pub patterns: PatternArgs,

    #[command(flatten)]
    pub render: TemplateArgs,
}

/// Where the result goes.
#[derive(Debug, Args, Default, Clone)]
pub struct OutputArgs {
    /// Write the result to FILE atomically instead of stdout (`-`: stdout)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Every option of a run, whichever command took it: what
/// [`crate::settings::Settings`] resolves. Commands without an option leave it
/// at its default.
#[derive(Debug, Default, Clone)]
pub struct GlobalArgs {
    pub config: Option<PathBuf>,
    pub template: Option<PathBuf>,
    pub stop: Option<String>,
    pub regex: Option<String>,
    pub mode: Option<ModeArg>,
    pub vars: Vec<String>,
    pub output: Option<PathBuf>,
    pub verbose: bool,
    pub quiet: bool,
}

impl GlobalArgs {
    /// The options of one command line.
    #[must_use]
    pub fn new(common: &CommonArgs, rules: Option<&RuleArgs>, output: Option<&OutputArgs>) -> Self {
        let rules = rules.cloned().unwrap_or_default();
        GlobalArgs {
            config: common.config.clone(),
            template: rules.template,
            stop: rules.patterns.stop,
            regex: rules.patterns.regex,
            mode: rules.render.mode,
            vars: rules.render.vars,
            output: output.and_then(|o| o.output.clone()),
            verbose: common.verbose,
            quiet: common.quiet,
        }
    }
}

/// `--mode` on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// Render once per group
    Each,
    /// Render once with every group
    Once,
}

/// `plan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// For people
    Text,
    /// For tools
    Json,
    /// A Mermaid flowchart of stages, jobs and needs (paste into an MR description)
    Mermaid,
    /// The Mermaid chart fenced as ```mermaid, ready for an MR description or a README
    Markdown,
}

/// The positional arguments of `render` (and of the bare form).
#[derive(Debug, Args, Clone)]
pub struct RenderArgs {
    /// Diff listing (`git diff --name-status`, with or without `-z`); `-` for stdin
    #[arg(id = "render_diff", value_name = "DIFF")]
    pub diff: PathBuf,
    /// The listing is `git diff --name-only` output (every line a path, read as M)
    #[arg(id = "render_name_only", long = "name-only")]
    pub name_only: bool,
    /// Tera template rendered once per group
    #[arg(id = "render_template", value_name = "TEMPLATE")]
    pub template: PathBuf,
    /// Stop-word patterns, e.g. pipeline_name:pipelines,stage_name::pipelines
    #[arg(id = "render_patterns", value_name = "PATTERNS")]
    pub patterns: String,
}

/// Where the changes come from.
#[derive(Debug, Args, Default, Clone)]
#[command(group(clap::ArgGroup::new("head_scope").args(["base", "all"]).multiple(true)))]
pub struct SourceArgs {
    /// Read changes from a diff listing (`-` for stdin) instead of git or GitLab
    #[arg(long, value_name = "FILE", conflicts_with_all = ["base", "all"])]
    pub diff: Option<PathBuf>,

    /// The --diff listing is `git diff --name-only` output, with or without -z
    /// (every path read as M); without it a listing must be name-status
    #[arg(long, requires = "diff")]
    pub name_only: bool,

    /// Diff from merge-base(BASE, HEAD) to HEAD (the merge-request view)
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Head revision for --base (without it: the working tree too) or --all [default: HEAD]
    #[arg(long, value_name = "REV", requires = "head_scope")]
    pub head: Option<String>,

    /// Every file of the tree at HEAD (or --head), as modified (full rebuilds, schedules)
    #[arg(long, conflicts_with = "base")]
    pub all: bool,

    /// The git repository [default: the current folder's]
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Never fetch from origin what a shallow CI clone lacks (auto mode fetches
    /// the missing commit, branch, merge base or tag history by default)
    #[arg(long)]
    pub no_fetch: bool,

    /// GitLab API base URL
    #[arg(long, value_name = "URL", env = "CI_API_V4_URL", hide_env_values = true)]
    pub gitlab_url: Option<String>,

    /// GitLab project ID or path (group/project)
    #[arg(long, value_name = "ID", env = "CI_PROJECT_ID", hide_env_values = true)]
    pub project: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The CI job: detect changes (auto or flags) and write the child pipeline
    Generate {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        rules: RuleArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Diff file + template + stop patterns -> child-pipeline YAML
    Render {
        #[command(flatten)]
        args: RenderArgs,
        #[command(flatten)]
        template: TemplateArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Print the detected changes in name-status format
    Changes {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show each path's variables, or why it does not match
    Explain {
        /// Paths to explain
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
        #[command(flatten)]
        patterns: PatternArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Dry run: which groups and jobs the changes give, from which rule
    Plan {
        #[command(flatten)]
        source: SourceArgs,
        /// Output format
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// The pipeline whose `rules:` decide which jobs run: merge-request,
        /// default-branch, branch:NAME or tag:NAME [default: the CI job's own
        /// pipeline, else merge-request]
        #[arg(long, value_name = "KIND")]
        pipeline: Option<String>,
        #[command(flatten)]
        rules: RuleArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Scaffold childgen.yml, a starter template and the root .gitlab-ci.yml
    Init {
        /// Folder to write into
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Overwrite existing files
        #[arg(long)]
        force: bool,
    },
    /// Run template regression cases: DIR/<case>/diff.txt rendered and compared with expected.yml
    Test {
        /// Folder of cases [default: childgen-tests beside childgen.yml]
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Accept the current output as expected.yml
        #[arg(long)]
        bless: bool,
    },
    /// Print a shell completion script
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Check any child-pipeline YAML file as childgen checks its own output
    Validate {
        /// The YAML file (`-` for stdin)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_bare_form_is_render() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["childgen", "d.txt", "t.tera", "a:b", "--var", "k=v"])?;
        assert!(cli.command.is_none());
        assert_eq!(cli.render.map(|r| r.patterns), Some("a:b".to_owned()));
        assert_eq!(cli.legacy.vars, ["k=v"]);
        let before = Cli::try_parse_from(["childgen", "--var", "k=v", "generate"])?;
        assert_eq!(before.legacy.given(), Some("--var"));
        assert!(Cli::try_parse_from(["childgen", "--config", "c.yml", "generate", "--var", "k=v"]).is_ok());
        let cli = Cli::try_parse_from(["childgen", "explain", "--stop", "a:b", "x/y"])?;
        assert!(matches!(cli.command, Some(Command::Explain { .. })));
        Ok(())
    }
}

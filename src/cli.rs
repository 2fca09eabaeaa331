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
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub render: Option<RenderArgs>,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command understands.
#[derive(Debug, Args, Default, Clone)]
pub struct GlobalArgs {
    /// Config file [default: childgen.yml, searched upward to the repository root]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Template file; with --stop or --regex it replaces the config's rules
    #[arg(long, global = true, value_name = "FILE")]
    pub template: Option<PathBuf>,

    /// Stop-word patterns, e.g. "pipeline_name:pipelines,stage_name::pipelines"
    #[arg(long, global = true, value_name = "PATTERNS", conflicts_with = "regex")]
    pub stop: Option<String>,

    /// Regex whose named groups are the variables, e.g. 'pipelines/(?P<pipeline_name>[^/]+)/'
    #[arg(long, global = true, value_name = "REGEX")]
    pub regex: Option<String>,

    /// Template render mode for --template
    #[arg(long, global = true, value_enum)]
    pub mode: Option<ModeArg>,

    /// A value for templates, as `{{ vars.KEY }}` (repeatable)
    #[arg(long = "var", global = true, value_name = "KEY=VALUE")]
    pub vars: Vec<String>,

    /// Write the result to FILE atomically instead of stdout
    #[arg(long, short, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Say on stderr what childgen does and why
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print no warnings
    #[arg(long, short, global = true)]
    pub quiet: bool,
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
    #[arg(long)]
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
    },
    /// Diff file + template + stop patterns -> child-pipeline YAML
    Render {
        #[command(flatten)]
        args: RenderArgs,
    },
    /// Print the detected changes in name-status format
    Changes {
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Show each path's variables, or why it does not match
    Explain {
        /// Paths to explain
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
    },
    /// Dry run: which groups and jobs the changes give, from which rule
    Plan {
        #[command(flatten)]
        source: SourceArgs,
        /// Output format
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
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
        assert_eq!(cli.global.vars, ["k=v"]);
        let cli = Cli::try_parse_from(["childgen", "explain", "--stop", "a:b", "x/y"])?;
        assert!(matches!(cli.command, Some(Command::Explain { .. })));
        Ok(())
    }
}

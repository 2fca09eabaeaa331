//! The part of the shell language a script may use in a group whose paths
//! hold special characters (issue 10).
//!
//! [`crate::safety`] follows where a path goes; this module bounds what it
//! has to follow. In such a group every script item must parse, on its own,
//! in a small subset of bash that this parser reads completely, and anything
//! outside it is refused (fail closed) instead of being guessed at:
//!
//! - simple commands, pipelines, `&&`, `||`, `;`, `&`, newlines, `!`;
//!   `if`/`elif`/`else`, `while`, `until`, `for NAME in`, `{ }`, `( )`,
//!   `[[ ]]` without arithmetic (`-eq`...), `-v` or `=~`;
//! - words of plain characters, `'...'`, `"..."`, `\c`, `$NAME`, `${NAME}`,
//!   `${NAME op word}` with the pattern and default operators, `${#NAME}`,
//!   `${NAME[@]}`, and `$( )` holding a list of this subset;
//! - redirections to and from words, `<<<`; assignments `NAME=word` and
//!   `NAME=(words)`;
//! - a command name written as plain characters (no quotes, expansions or
//!   globs), and among bash's builtins only those that never evaluate their
//!   arguments as code, with options that do not (`printf -v`, `test -v`,
//!   `read` into anything but a plain name are out).
//!
//! Out, among others: backticks, `$(( ))`, `$[ ]`, `(( ))`, `${!NAME}`,
//! `${NAME:offset}`, `${NAME@P}`, subscripts other than `[@]`/`[*]`,
//! `$'...'`, here-documents, process substitution, brace expansion, a
//! backslash before a line break, `case`, functions, `eval`, `trap`,
//! `let`, `declare`, aliases, and assignments to the variables bash runs or
//! reads code from (`PS4`, `PROMPT_COMMAND`, `BASH_ENV`, `BASH_ALIASES`...).
//! An item must close every quote and compound command it opens: the runner
//! joins items into one script.

/// Why `script` (one item of a script, possibly several lines) is outside
/// the subset, as a phrase: "uses `eval`, which ...".
///
/// # Errors
/// The first construct outside the subset.
pub fn check(script: &str) -> Result<(), String> {
    command_names(script).map(drop)
}

/// The names of the commands `script` runs, as written (`./run.sh`,
/// `nice`, and `printenv` in `nice printenv`, `find -exec`'s command), in
/// order, when `script` is inside the subset.
///
/// # Errors
/// As [`check`].
pub fn command_names(script: &str) -> Result<Vec<String>, String> {
    parse(script).map(|parser| parser.names)
}

/// One simple command of a script: where it stands and the programs that
/// would read a value among its words ([`commands`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Byte offsets of its text in the script (`$( )` inside included).
    pub span: std::ops::Range<usize>,
    /// The programs its words reach, by the name written (the command,
    /// the command a runner runs, the module `python -m` runs), leaving out
    /// what runs a file of the repository (`./run.sh`, `python lint.py`).
    pub programs: Vec<String>,
    /// The program that receives its last words (`ls` in `timeout 5 ls
    /// "$D"`), with the index in `args` where that program's words start;
    /// `None` when a file of the repository does.
    pub receiver: Option<(String, usize)>,
    /// Its words after the command's name: where each stands, and its
    /// value when that is fixed text.
    pub args: Vec<(std::ops::Range<usize>, Option<String>)>,
}

/// The simple commands of `script` in order of their end, and the spans
/// whose commands share what they read: pipelines of two or more commands
/// (`a | b`: `b` reads what `a` writes), and compound commands with
/// redirections (`{ a; b; } < f`, where the redirections stand as a
/// command of no program), when `script` is inside the subset.
///
/// # Errors
/// As [`check`].
pub fn commands(script: &str) -> Result<(Vec<Command>, Vec<std::ops::Range<usize>>), String> {
    parse(script).map(|parser| (parser.commands, parser.pipes))
}

fn parse(script: &str) -> Result<Parser<'_>, String> {
    let mut parser = Parser {
        s: script.as_bytes(),
        i: 0,
        depth: 0,
        multiple: false,
        names: Vec::new(),
        commands: Vec::new(),
        pipes: Vec::new(),
    };
    parser.list(&[""])?;
    Ok(parser)
}

/// Nesting of compound commands and `$( )` the parser follows.
pub const MAX_DEPTH: usize = 32;

/// Builtins that evaluate text as code, name variables to assign (whose
/// subscripts bash evaluates), or change how later lines are read.
const REFUSED: [&str; 22] = [
    "eval", "trap", "let", "declare", "typeset", "local", "getopts", "hash", "alias", "unalias", "bind", "complete",
    "compgen", "compopt", "enable", "builtin", "fc", "history", "coproc", "select", "function", "time",
];

/// Reserved words that only continue a compound command.
const CONTINUING: [&str; 10] = ["then", "elif", "else", "fi", "do", "done", "esac", "in", "}", "]]"];

/// `shopt` options that change only how globs match.
const SHOPT: [&str; 9] = [
    "nullglob",
    "failglob",
    "dotglob",
    "globstar",
    "nocaseglob",
    "nocasematch",
    "lastpipe",
    "inherit_errexit",
    "xpg_echo",
];

/// `set -o` options that change only error handling and tracing.
const SET_O: [&str; 7] = [
    "pipefail",
    "errexit",
    "nounset",
    "xtrace",
    "noclobber",
    "noglob",
    "verbose",
];

/// One word as written.
struct Word {
    /// Its text, when it is plain characters only (no quotes, expansions,
    /// escapes or globs).
    literal: Option<String>,
    /// What bash makes of it, when that does not depend on variables,
    /// commands or files (quotes and escapes removed).
    value: Option<String>,
    /// Whether it holds an expansion outside double quotes, which bash
    /// splits into words (`$X`, `$(...)`; not `$?`, `$$`, `$!`, `$#`, `$-`).
    splits: bool,
    /// Whether it holds a glob outside quotes (`*`, `?`, `[`).
    globs: bool,
    /// Whether it may expand to several words even in double quotes
    /// (`"$@"`, `"${NAME[@]}"`).
    multiple: bool,
    /// Its source text.
    text: String,
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    /// Whether the word being read holds `$@` or `${NAME[@]}`.
    multiple: bool,
    /// The names of the commands read so far.
    names: Vec<String>,
    /// The simple commands read so far.
    commands: Vec<Command>,
    /// The spans of the pipelines of two or more commands read so far.
    pipes: Vec<std::ops::Range<usize>>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, offset: usize) -> Option<u8> {
        self.s.get(self.i + offset).copied()
    }

    fn starts(&self, text: &str) -> bool {
        self.s[self.i..].starts_with(text.as_bytes())
    }

    /// Spaces, tabs, and a comment (a `#` where a word would start).
    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        if self.peek() == Some(b'#') {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.i += 1;
            }
        }
    }

    fn blanks_and_newlines(&mut self) {
        loop {
            self.blanks();
            if self.peek() == Some(b'\n') {
                self.i += 1;
            } else {
                return;
            }
        }
    }

    /// The plain text from here to the next blank or operator, not consumed.
    fn next_word(&self) -> &str {
        let rest = &self.s[self.i..];
        let end = rest.iter().position(|b| is_metachar(*b)).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or_default()
    }

    /// Consumes `word` if it is the next word.
    fn keyword(&mut self, word: &str) -> bool {
        if self.next_word() == word {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nests compound commands deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    /// Commands up to one of `ends` (reserved words, `)`, or `""` for the
    /// end of the script), which is consumed and returned.
    fn list(&mut self, ends: &[&'static str]) -> Result<&'static str, String> {
        self.deeper()?;
        let mut commands = 0;
        let end = loop {
            self.blanks_and_newlines();
            if ends.contains(&";;") {
                // The end of a `case` branch: `;;`, `;&` or `;;&`.
                let terminator = [";;&", ";;", ";&"].into_iter().find(|t| self.starts(t));
                if let Some(terminator) = terminator {
                    self.i += terminator.len();
                    break ";;";
                }
            }
            let Some(next) = self.peek() else {
                if ends.contains(&"") {
                    break "";
                }
                return Err(format!(
                    "leaves a compound command open (expected `{}`)",
                    ends.join("` or `")
                ));
            };
            if next == b')' {
                if ends.contains(&")") {
                    if commands == 0 {
                        return Err("has nothing inside `( )`".to_owned());
                    }
                    self.i += 1;
                    break ")";
                }
                return Err("has an unmatched `)`".to_owned());
            }
            let word = self.next_word();
            if let Some(end) = ends.iter().find(|end| !end.is_empty() && **end == word) {
                self.i += end.len();
                if commands == 0 && !ends.contains(&";;") {
                    return Err(format!("has nothing before `{end}`"));
                }
                break *end;
            }
            self.and_or()?;
            commands += 1;
            self.blanks();
            match self.peek() {
                Some(b';') if matches!(self.at(1), Some(b';' | b'&')) => {
                    if !ends.contains(&";;") {
                        return Err("uses `;;` outside `case`".to_owned());
                    }
                }
                Some(b';' | b'&' | b'\n') => self.i += 1,
                None | Some(b')') => {}
                Some(_) if !self.next_word().is_empty() && ends.contains(&self.next_word()) => {}
                Some(other) => return Err(format!("has an unexpected `{}`", other as char)),
            }
        };
        self.depth -= 1;
        Ok(end)
    }

    fn and_or(&mut self) -> Result<(), String> {
        loop {
            self.pipeline()?;
            self.blanks();
            if self.starts("&&") || self.starts("||") {
                self.i += 2;
                self.blanks_and_newlines();
            } else {
                return Ok(());
            }
        }
    }

    fn pipeline(&mut self) -> Result<(), String> {
        self.blanks();
        if self.keyword("!") {
            self.blanks();
        }
        let start = self.i;
        let mut piped = false;
        loop {
            self.command()?;
            self.blanks();
            if self.starts("||") || !self.starts("|") {
                if piped {
                    self.pipes.push(start..self.i);
                }
                return Ok(());
            }
            piped = true;
            if self.starts("|&") {
                self.i += 2;
            } else {
                self.i += 1;
            }
            self.blanks_and_newlines();
        }
    }

    fn command(&mut self) -> Result<(), String> {
        self.deeper()?;
        let start = self.i;
        if self.peek() == Some(b'(') {
            if self.at(1) == Some(b'(') {
                return Err("uses `(( ))`, which evaluates text as arithmetic".to_owned());
            }
            self.i += 1;
            self.list(&[")"])?;
        } else {
            let word = self.next_word().to_owned();
            match word.as_str() {
                "{" => {
                    self.i += 1;
                    self.list(&["}"])?;
                }
                "if" => {
                    self.i += 2;
                    self.list(&["then"])?;
                    loop {
                        match self.list(&["elif", "else", "fi"])? {
                            "elif" => {
                                self.list(&["then"])?;
                            }
                            "else" => {
                                self.list(&["fi"])?;
                                break;
                            }
                            _ => break,
                        }
                    }
                }
                "while" | "until" => {
                    self.i += word.len();
                    self.list(&["do"])?;
                    self.list(&["done"])?;
                }
                "for" => self.for_loop()?,
                "case" => self.case()?,
                "[[" => self.condition()?,
                _ if CONTINUING.contains(&word.as_str()) => return Err(format!("has an unexpected `{word}`")),
                _ => {
                    self.simple()?;
                    self.depth -= 1;
                    return Ok(());
                }
            }
        }
        // Redirections after a compound command: every command inside
        // reads what they name (`{ xargs x; } <<< "$F"`), so they stand
        // as a command of no program, sharing input with those inside.
        let redirections = self.i;
        loop {
            self.blanks();
            if self.redirection_here() {
                self.redirection()?;
            } else {
                break;
            }
        }
        if self.s[redirections..self.i].iter().any(|b| !b.is_ascii_whitespace()) {
            self.commands.push(Command {
                span: redirections..self.i,
                receiver: None,
                programs: Vec::new(),
                args: Vec::new(),
            });
            self.pipes.push(start..self.i);
        }
        self.depth -= 1;
        Ok(())
    }

    fn for_loop(&mut self) -> Result<(), String> {
        self.i += 3;
        self.blanks();
        if self.starts("((") {
            return Err("uses `for ((...))`, which evaluates text as arithmetic".to_owned());
        }
        let name = self.next_word().to_owned();
        if !is_name(&name) {
            return Err(format!("loops over `{name}`, which is not a plain variable name"));
        }
        set_from_data(&name)?;
        self.i += name.len();
        self.blanks_and_newlines();
        if self.keyword("in") {
            loop {
                self.blanks();
                match self.peek() {
                    Some(b';' | b'\n') => {
                        self.i += 1;
                        break;
                    }
                    None => return Err("leaves a `for` loop open".to_owned()),
                    _ => {
                        self.word()?;
                    }
                }
            }
        } else if self.peek() == Some(b';') {
            self.i += 1;
        }
        self.blanks_and_newlines();
        if !self.keyword("do") {
            return Err("has a `for` loop without `do`".to_owned());
        }
        self.list(&["done"])?;
        Ok(())
    }

    /// `case WORD in PATTERN|PATTERN) LIST ;; ... esac`: patterns are words
    /// matched, never run.
    fn case(&mut self) -> Result<(), String> {
        self.i += 4;
        self.blanks();
        self.word()?;
        self.blanks_and_newlines();
        if !self.keyword("in") {
            return Err("has a `case` without `in`".to_owned());
        }
        loop {
            self.blanks_and_newlines();
            if self.keyword("esac") {
                return Ok(());
            }
            if self.peek() == Some(b'(') {
                self.i += 1;
            }
            loop {
                self.blanks();
                self.word()?;
                self.blanks();
                match self.peek() {
                    Some(b'|') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err("has a `case` pattern without `)`".to_owned()),
                }
            }
            if self.list(&[";;", "esac"])? == "esac" {
                return Ok(());
            }
        }
    }

    /// `[[ ... ]]`, without the operators that evaluate arithmetic or names.
    fn condition(&mut self) -> Result<(), String> {
        self.i += 2;
        // Whether the last word was an operator that a pattern follows.
        let mut after_operator = false;
        loop {
            self.blanks();
            // After `==` or a word, bash reads `(...)` as part of a pattern
            // word (`@( ]] )`, even with extglob off), up to its own `)`.
            if self.peek() == Some(b'(')
                && (after_operator || self.i > 0 && !matches!(self.s[self.i - 1], b' ' | b'\t' | b'('))
            {
                return Err(
                    "uses `(` in a `[[ ]]` pattern, which bash reads as one word up to its `)`; compare with a \
                     plain pattern or use `case`"
                        .to_owned(),
                );
            }
            if self.keyword("]]") {
                break;
            }
            if self.starts("&&") || self.starts("||") {
                self.i += 2;
                continue;
            }
            match self.peek() {
                None | Some(b'\n') => return Err("leaves `[[` open on its line".to_owned()),
                Some(b'(' | b')') => self.i += 1,
                Some(b'<' | b'>') if !matches!(self.at(1), Some(b'<' | b'>' | b'(' | b'&' | b'|')) => self.i += 1,
                Some(b';' | b'&' | b'|' | b'<' | b'>') => {
                    return Err("has an operator `[[ ]]` does not take".to_owned());
                }
                _ => {
                    let word = self.word_or_bang()?;
                    after_operator = matches!(word.literal.as_deref(), Some("==" | "=" | "!="));
                    if let Some(op) = word.literal.as_deref()
                        && matches!(op, "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" | "-v" | "-R" | "=~")
                    {
                        return Err(format!(
                            "uses `[[ {op} ]]`, which evaluates text as {}",
                            if op == "=~" {
                                "a regular expression whose quoting rules are bash's own"
                            } else {
                                "arithmetic or a variable name"
                            }
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn word_or_bang(&mut self) -> Result<Word, String> {
        if self.keyword("!") {
            return Ok(Word {
                literal: Some("!".to_owned()),
                value: Some("!".to_owned()),
                splits: false,
                globs: false,
                multiple: false,
                text: "!".to_owned(),
            });
        }
        self.word()
    }

    /// Whether a redirection starts here (`>`, `2>`, `&>`, `<<<`...).
    fn redirection_here(&self) -> bool {
        let digits = self.s[self.i..].iter().take_while(|b| b.is_ascii_digit()).count();
        matches!(self.at(digits), Some(b'<' | b'>')) || (digits == 0 && self.starts("&>"))
    }

    fn redirection(&mut self) -> Result<(), String> {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        if self.starts("<<<") {
            self.i += 3;
        } else if self.starts("<<") {
            return Err("uses a here-document; write the text to a file of the repository instead".to_owned());
        } else if self.starts("<(") || self.starts(">(") {
            return Err("uses process substitution `<(...)`".to_owned());
        } else {
            let op = [">&", "<&", "&>>", "&>", ">>", ">|", "<>", ">", "<"]
                .into_iter()
                .find(|op| self.starts(op))
                .unwrap_or(">");
            self.i += op.len();
            if op.ends_with('&') {
                self.blanks();
                if self.peek() == Some(b'-') {
                    self.i += 1;
                    return Ok(());
                }
            }
        }
        self.blanks();
        if self.peek().is_none_or(is_metachar) {
            return Err("has a redirection without a target".to_owned());
        }
        self.word()?;
        Ok(())
    }

    /// `NAME=word`, `NAME+=word` or `NAME=(words)`, if one starts here.
    fn assignment(&mut self) -> Result<Option<String>, String> {
        let rest = &self.s[self.i..];
        let name_len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if name_len == 0 || rest[0].is_ascii_digit() {
            return Ok(None);
        }
        let name = String::from_utf8_lossy(&rest[..name_len]).into_owned();
        match rest.get(name_len) {
            Some(b'[') => {
                return Err(format!(
                    "assigns to an element of `{name}`, whose subscript bash evaluates as code"
                ));
            }
            Some(b'=') => self.i += name_len + 1,
            Some(b'+') if rest.get(name_len + 1) == Some(&b'=') => self.i += name_len + 2,
            _ => return Ok(None),
        }
        let value_start = self.i;
        if self.peek() == Some(b'(') {
            self.i += 1;
            loop {
                self.blanks_and_newlines();
                match self.peek() {
                    Some(b')') => {
                        self.i += 1;
                        // Bash goes on reading the word after the `)`:
                        // `a=(x)#y cmd` runs `cmd`, `a=(x)echo "$s"` runs `$s`.
                        if !self.peek().is_none_or(|b| is_metachar(b) && b != b'(') {
                            return Err(format!(
                                "has text right after `{name}=(...)`, which bash reads as part of the same word; \
                                 put a blank or `;` after the `)`"
                            ));
                        }
                        break;
                    }
                    Some(b'[') => {
                        return Err(format!(
                            "assigns to an element of `{name}`, whose subscript bash evaluates as code"
                        ));
                    }
                    None => return Err(format!("leaves the array `{name}=(` open")),
                    _ => {
                        self.word()?;
                    }
                }
            }
        } else if !self.peek().is_none_or(is_metachar) {
            self.word()?;
        }
        check_assignment(&name, &String::from_utf8_lossy(&self.s[value_start..self.i]))?;
        Ok(Some(name))
    }

    fn simple(&mut self) -> Result<(), String> {
        let start = self.i;
        let mut name: Option<String> = None;
        let mut args: Vec<Word> = Vec::new();
        let mut spans = Vec::new();
        let mut parts = 0;
        loop {
            self.blanks();
            if self.redirection_here() {
                self.redirection()?;
                parts += 1;
                continue;
            }
            match self.peek() {
                None | Some(b';' | b'&' | b'|' | b'\n' | b')') => break,
                Some(b'(') => {
                    return Err(
                        "has `(` after a word (a function definition, or an extended glob bash reads its own way)"
                            .to_owned(),
                    );
                }
                _ => {}
            }
            if name.is_none() && self.assignment()?.is_some() {
                parts += 1;
                continue;
            }
            let at = self.i;
            let word = self.word()?;
            parts += 1;
            if name.is_some() {
                spans.push(at..self.i);
            }
            if name.is_none() {
                let Some(literal) = word.literal else {
                    return Err(format!(
                        "runs a command whose name is not plain text (`{}`): write the command's name as it is",
                        word.text
                    ));
                };
                refused_name(&literal)?;
                self.names.push(literal.clone());
                name = Some(literal);
            } else {
                args.push(word);
            }
        }
        if parts == 0 {
            return Err("has an empty command".to_owned());
        }
        let Some(name) = name else { return Ok(()) };
        for arg in &args {
            let declaration = matches!(name.as_str(), "export" | "readonly") && arg.text.contains('=');
            if arg.splits && !declaration {
                return Err(format!(
                    "gives `{name}` `{}` unquoted: bash splits what it expands into words, which a command may \
                     read as options or operators (`-c`, `-v`); write it in double quotes",
                    arg.text
                ));
            }
            if arg.globs && !anchored_glob(&arg.text) {
                return Err(format!(
                    "gives `{name}` the glob `{}`, whose matches (file names a merge request chooses) may read \
                     as options; start it with a folder, as in `./{}`",
                    arg.text, arg.text
                ));
            }
        }
        // Builtins that read their arguments by position, where one word
        // may become several (`[ "${a[@]}" ]` with `a=(-v "$F")`).
        let positional = matches!(
            name.as_str(),
            "test"
                | "["
                | "read"
                | "mapfile"
                | "readarray"
                | "unset"
                | "wait"
                | "export"
                | "readonly"
                | "jobs"
                | "set"
                | "shopt"
                | "source"
                | "."
                | "command"
                | "exec"
        );
        if let Some(arg) = args
            .iter()
            .enumerate()
            .find(|(i, a)| a.multiple && (positional || (name == "printf" && *i == 0)))
            .map(|(_, a)| a)
        {
            return Err(format!(
                "gives `{name}` `{}`, which may become several words where `{name}` reads each by its place \
                 (`-v` among them evaluates a name's subscript); pass the words one by one",
                arg.text
            ));
        }
        runner(&name, &args, &mut self.names)?;
        builtin(&name, &args)?;
        let mut programs = Vec::new();
        let receiver = reached_programs(&name, &args, 0, &mut programs)?;
        self.commands.push(Command {
            span: start..self.i,
            receiver,
            programs,
            args: spans.into_iter().zip(args.into_iter().map(|a| a.value)).collect(),
        });
        Ok(())
    }

    /// One word: plain characters, quotes, escapes and expansions.
    fn word(&mut self) -> Result<Word, String> {
        let start = self.i;
        let mut literal = true;
        let mut braces = false;
        let (mut splits, mut globs) = (false, false);
        // A word inside `$( )` keeps its own count.
        let outer_multiple = std::mem::take(&mut self.multiple);
        // What bash makes of the word, while it stays fixed.
        let mut value = (self.peek() != Some(b'~')).then(Vec::new);
        while let Some(b) = self.peek() {
            match b {
                _ if is_metachar(b) => break,
                b'\'' => {
                    literal = false;
                    let close = self.s[self.i + 1..].iter().position(|c| *c == b'\'');
                    let Some(close) = close else {
                        return Err("leaves a `'` open".to_owned());
                    };
                    if let Some(v) = value.as_mut() {
                        v.extend_from_slice(&self.s[self.i + 1..self.i + 1 + close]);
                    }
                    self.i += close + 2;
                }
                b'"' => {
                    literal = false;
                    self.double_quoted(&mut value)?;
                }
                b'$' if self.literal_dollar(false) => {
                    literal = false;
                    if let Some(v) = value.as_mut() {
                        v.push(b'$');
                    }
                    self.i += 1;
                }
                b'$' => {
                    literal = false;
                    value = None;
                    splits |= !matches!(self.at(1), Some(b'?' | b'$' | b'!' | b'#' | b'-'));
                    self.dollar()?;
                }
                b'\\' => {
                    literal = false;
                    match self.at(1) {
                        Some(b'\n') => {
                            return Err(
                                "continues a line with `\\` (bash joins the lines before reading words)".to_owned()
                            );
                        }
                        Some(c) if c.is_ascii_graphic() || c == b' ' => {
                            if let Some(v) = value.as_mut() {
                                v.push(c);
                            }
                            self.i += 2;
                        }
                        _ => return Err("escapes a character that is not printable ASCII".to_owned()),
                    }
                }
                b'`' => return Err("uses backticks; write `$(...)`".to_owned()),
                b'*' | b'?' | b'[' | b']' => {
                    literal = false;
                    value = None;
                    globs |= b != b']';
                    self.i += 1;
                }
                b'{' | b'}' => {
                    // Itself, unless a `,` or `..` makes a brace expansion
                    // (checked on the whole word below).
                    braces = true;
                    literal = false;
                    if let Some(v) = value.as_mut() {
                        v.push(b);
                    }
                    self.i += 1;
                }
                _ if is_plain(b) => {
                    if let Some(v) = value.as_mut() {
                        v.push(b);
                    }
                    self.i += 1;
                }
                _ if b >= 0x80 => {
                    literal = false;
                    if let Some(v) = value.as_mut() {
                        v.push(b);
                    }
                    self.i += 1;
                }
                _ => return Err(format!("has `{}` outside quotes", (b as char).escape_default())),
            }
        }
        if self.i == start {
            return Err("expected a word".to_owned());
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        if braces && (text.contains(',') || text.contains("..")) {
            return Err(format!("uses brace expansion (`{text}`); quote the braces"));
        }
        if braces && matches!(self.peek(), Some(b'<' | b'>')) {
            // `{NAME}>file` assigns a file descriptor to NAME, evaluating a
            // subscript in it.
            return Err(format!("uses `{text}` to name a file descriptor; write a number"));
        }
        if text == "[" || text == "]" {
            // A bracket alone matches nothing: it is itself (`[ -n x ]`).
            literal = true;
            globs = false;
            value = Some(text.clone().into_bytes());
        }
        let multiple = std::mem::replace(&mut self.multiple, outer_multiple);
        Ok(Word {
            literal: literal.then(|| text.clone()),
            value: value.map(|v| String::from_utf8_lossy(&v).into_owned()),
            splits,
            globs,
            multiple,
            text,
        })
    }

    fn double_quoted(&mut self, value: &mut Option<Vec<u8>>) -> Result<(), String> {
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err("leaves a `\"` open".to_owned()),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => match self.at(1) {
                    Some(b'\n') => {
                        return Err("continues a line with `\\` (bash joins the lines before reading words)".to_owned());
                    }
                    Some(c @ (b'$' | b'`' | b'"' | b'\\')) => {
                        if let Some(v) = value.as_mut() {
                            v.push(c);
                        }
                        self.i += 2;
                    }
                    _ => {
                        if let Some(v) = value.as_mut() {
                            v.push(b'\\');
                        }
                        self.i += 1;
                    }
                },
                Some(b'$') if self.literal_dollar(true) => {
                    if let Some(v) = value.as_mut() {
                        v.push(b'$');
                    }
                    self.i += 1;
                }
                Some(b'$') => {
                    *value = None;
                    self.dollar()?;
                }
                Some(b'`') => return Err("uses backticks; write `$(...)`".to_owned()),
                Some(b) => {
                    if let Some(v) = value.as_mut() {
                        v.push(b);
                    }
                    self.i += 1;
                }
            }
        }
    }

    /// Whether the `$` here starts no expansion, and is itself: before the
    /// end, a blank, an operator, `"` inside double quotes (`"\.py$"`), or
    /// a character no expansion starts with.
    fn literal_dollar(&self, quoted: bool) -> bool {
        match self.at(1) {
            None => true,
            Some(b'"') => quoted,
            Some(c) => b" \t\n/.,:%+=~^])}|;&<>".contains(&c),
        }
    }

    /// `$NAME`, `${...}`, `$(...)` or a special parameter.
    fn dollar(&mut self) -> Result<(), String> {
        match self.at(1) {
            Some(b'(') => {
                if self.at(2) == Some(b'(') {
                    return Err("uses `$((...))`, which evaluates text as arithmetic".to_owned());
                }
                self.i += 2;
                self.list(&[")"])?;
                Ok(())
            }
            Some(b'{') => {
                self.i += 2;
                self.parameter()
            }
            Some(b'[') => Err("uses `$[...]`, which evaluates text as arithmetic".to_owned()),
            Some(b'\'' | b'"') => Err("uses `$'...'` or `$\"...\"`; use plain quotes".to_owned()),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                self.i += 1;
                while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    self.i += 1;
                }
                Ok(())
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                self.multiple |= c == b'@';
                self.i += 2;
                Ok(())
            }
            _ => Err("has a `$` that starts no variable; quote it as '$'".to_owned()),
        }
    }

    /// After `${`: a name, an optional `[@]`/`[*]`, and an operator that
    /// only matches patterns or substitutes defaults.
    fn parameter(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(b'!') => return Err("uses `${!...}`, which expands a variable named by another".to_owned()),
            Some(b'#')
                if self
                    .at(1)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'@') =>
            {
                self.i += 1;
            }
            _ => {}
        }
        let name_start = self.i;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    self.i += 1;
                }
            }
            Some(c) if c.is_ascii_digit() || b"@*#?".contains(&c) => {
                self.multiple |= c == b'@';
                self.i += 1;
            }
            _ => return Err("has a `${` that names no variable".to_owned()),
        }
        self.multiple |= self.starts("[@]");
        if self.starts("[@]") || self.starts("[*]") {
            self.i += 3;
        } else if self.peek() == Some(b'[') {
            return Err("uses an array subscript, which bash evaluates as code".to_owned());
        }
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        let Some(op) = OPERATORS.into_iter().find(|op| self.starts(op)) else {
            return Err(match self.peek() {
                Some(b':') => "uses `${NAME:offset}`, whose offset bash evaluates as arithmetic".to_owned(),
                Some(b'@') => "uses `${NAME@...}`, which can expand text as a prompt".to_owned(),
                _ => "uses a `${...}` form outside the patterns and defaults childgen reads".to_owned(),
            });
        };
        if op == ":=" || op == "=" {
            // `${NAME:=word}` assigns.
            set_from_data(&String::from_utf8_lossy(&self.s[name_start..self.i]))?;
        }
        self.i += op.len();
        loop {
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'$') if self.at(1).is_some_and(|b| b.is_ascii_alphabetic() || b == b'_') => {
                    self.i += 1;
                    while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        self.i += 1;
                    }
                }
                Some(b) if b.is_ascii_alphanumeric() || b" ._/-*?+,:%=#~^@![]".contains(&b) => self.i += 1,
                None => return Err("leaves a `${` open".to_owned()),
                Some(b) => {
                    return Err(format!(
                        "has `{}` inside `${{...}}`; only plain characters and `$NAME` are read there",
                        (b as char).escape_default()
                    ));
                }
            }
        }
    }
}

/// `${NAME op word}` operators that match patterns or substitute defaults.
const OPERATORS: [&str; 20] = [
    ":-", ":=", ":+", ":?", "//", "/#", "/%", "/", "##", "#", "%%", "%", "^^", "^", ",,", ",", "-", "=", "+", "?",
];

/// Whether a glob starts with a fixed folder (`./*.py`, `dist/*`), so that
/// no match can start with `-`.
fn anchored_glob(text: &str) -> bool {
    let first = text.find(['*', '?', '[']).unwrap_or(text.len());
    let prefix = &text[..first];
    prefix.contains('/') && !prefix.starts_with('-') && prefix.bytes().all(is_plain)
}

/// Commands that run another command named by their arguments, the short
/// options of theirs that take a value, and how many values come before
/// the command (`timeout 5 cmd`).
const RUNNERS: [(&str, &str, usize); 76] = [
    ("nice", "n", 0),
    ("nohup", "", 0),
    ("setsid", "", 0),
    ("timeout", "sk", 1),
    ("stdbuf", "ioe", 0),
    ("sudo", "ugChpUrtDRT", 0),
    ("doas", "uC", 0),
    ("env", "uCS", 0),
    ("xargs", "aIdEeLlnPs", 0),
    ("time", "fo", 0),
    ("ionice", "cnpP", 0),
    ("taskset", "", 1),
    ("chrt", "", 1),
    ("flock", "wEc", 1),
    ("chroot", "", 1),
    ("unshare", "", 0),
    ("nsenter", "tSwm", 0),
    ("strace", "abeEIoOpPsSuX", 0),
    ("ltrace", "aeEfnoPpsSuw", 0),
    ("busybox", "", 0),
    ("prlimit", "p", 0),
    ("runuser", "ugl", 0),
    ("setpriv", "", 0),
    ("faketime", "f", 1),
    // Found by the twentieth red-team pass, and their kin.
    ("perf", "eoxGCtIpruvDFc", 1),
    ("fakeroot", "ils", 0),
    ("setarch", "", 1),
    ("linux32", "", 0),
    ("linux64", "", 0),
    ("i386", "", 0),
    ("x86_64", "", 0),
    ("uname26", "", 0),
    ("ssh-agent", "aEt", 0),
    ("dbus-run-session", "", 0),
    ("valgrind", "", 0),
    ("eatmydata", "", 0),
    ("numactl", "CNmpPi", 0),
    ("gosu", "", 1),
    ("su-exec", "", 1),
    ("tini", "sgpl", 0),
    ("dumb-init", "", 0),
    ("xvfb-run", "nsfep", 0),
    ("unbuffer", "", 0),
    ("ccache", "", 0),
    ("catchsegv", "", 0),
    ("torsocks", "", 0),
    ("proxychains", "f", 0),
    ("proxychains4", "f", 0),
    ("firejail", "", 0),
    ("systemd-run", "puE", 0),
    ("pkexec", "u", 0),
    ("uvx", "p", 0),
    ("uv", "p", 1),
    ("pipx", "", 1),
    ("poetry", "C", 1),
    ("pdm", "p", 1),
    ("hatch", "e", 1),
    ("conda", "np", 1),
    ("mamba", "np", 1),
    ("micromamba", "npe", 1),
    ("npx", "p", 0),
    ("bunx", "", 0),
    ("pnpx", "", 0),
    ("op", "", 1),
    ("doppler", "", 1),
    ("direnv", "", 2),
    ("nix", "", 1),
    // The twenty-second pass.
    ("pipenv", "", 1),
    ("rye", "", 1),
    ("pixi", "e", 1),
    ("devbox", "c", 1),
    ("mise", "C", 1),
    ("infisical", "", 1),
    ("dotenv", "fv", 1),
    ("cross-env", "", 0),
    ("env-cmd", "fe", 0),
];

/// Programs an interpreter or a package manager is told to find by name:
/// `python -m NAME` (also in a bundle: `-um NAME`, `-mNAME`); the first
/// operand after `ruby -S` or `perl -S` (looked up in PATH), `ruby -r`,
/// `perl -M`/`-m` (libraries loaded first); `node -r`, `--require`,
/// `--import`, `--loader`; the subcommand of `npm`, `yarn`, `pnpm` and
/// `bun`, and the script or package their `run`, `exec`, `dlx` and `x` run
/// (`npm run env` prints the environment).
fn named_programs(name: &str, base: &str, args: &[Word], names: &mut Vec<String>) -> Result<(), String> {
    let fixed = |i: usize, what: &str| -> Result<Option<String>, String> {
        args.get(i).map_or(Ok(None), |word| {
            word.value.clone().map(Some).ok_or_else(|| {
                format!(
                    "gives `{name}` `{}` as {what}, which is not fixed text: write its name as it is",
                    word.text
                )
            })
        })
    };
    // Short options that take a value: the rest of the bundle, or the next word.
    let (valued, naming): (&str, &str) = if base.starts_with("python") || base.starts_with("pypy") {
        ("mcWXQ", "m")
    } else if base == "ruby" {
        ("reICEFTxXW0", "r")
    } else if base == "perl" {
        ("eEIMmCdDlx0", "Mm")
    } else if matches!(base, "node" | "nodejs") {
        ("rpe", "r")
    } else {
        ("", "")
    };
    let manager = matches!(base, "npm" | "yarn" | "pnpm" | "bun");
    // `. NAME` and `source NAME` look a name without `/` up in PATH.
    if matches!(base, "source" | ".") {
        names.extend(fixed(0, "the file it reads")?);
        return Ok(());
    }
    let mut search = false;
    // Whether the manager's subcommand (which runs the next word) was read.
    let mut subcommand = false;
    let mut i = 0;
    while i < args.len() {
        let Some(word) = args[i].value.as_deref() else {
            i += 1;
            continue;
        };
        if word == "--" {
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (option, value) = long.split_once('=').map_or((long, None), |(o, v)| (o, Some(v)));
            if matches!(base, "node" | "nodejs")
                && matches!(option, "require" | "import" | "loader" | "experimental-loader")
            {
                if let Some(module) = value {
                    names.push(module.to_owned());
                } else {
                    names.extend(fixed(i + 1, "the module node loads")?);
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        if word.len() > 1 && word.starts_with('-') && !valued.is_empty() {
            search |= matches!(base, "ruby" | "perl") && word.contains('S');
            if let Some(at) = word[1..].find(|c| valued.contains(c)) {
                let option = word.as_bytes()[1 + at];
                let rest = &word[2 + at..];
                let value = if rest.is_empty() {
                    i += 1;
                    fixed(i, "the program it runs")?
                } else {
                    Some(rest.to_owned())
                };
                if naming.contains(char::from(option)) {
                    names.extend(value);
                }
                // `python -m`/`-c`: what follows is the program's own.
                if matches!(option, b'm' | b'c') && naming == "m" {
                    break;
                }
            }
            i += 1;
            continue;
        }
        if word.starts_with('-') {
            i += 1;
            continue;
        }
        // The first operand.
        if search {
            names.extend(fixed(i, "the program it looks up")?);
        }
        if manager {
            names.push(word.to_owned());
            if subcommand || !matches!(word, "run" | "run-script" | "rum" | "urn" | "exec" | "x" | "dlx") {
                break;
            }
            subcommand = true;
            i += 1;
            continue;
        }
        break;
    }
    Ok(())
}

/// A command that runs another (`nice`, `timeout 5`, `env A=1`, `xargs -n 1`,
/// `find -exec`): the command it runs must be named by fixed text, and so
/// must every word before it (a quoted `"$X"` holding `sh` would otherwise
/// run `sh -c`).
fn runner(name: &str, args: &[Word], names: &mut Vec<String>) -> Result<(), String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    named_programs(name, base, args, names)?;
    if base == "find" {
        for pair in args.windows(2) {
            if matches!(pair[0].value.as_deref(), Some("-exec" | "-execdir" | "-ok" | "-okdir"))
                && pair[1].value.is_none()
            {
                return Err(format!(
                    "has `find {} {}`, a command not named by fixed text",
                    pair[0].text, pair[1].text
                ));
            }
            if matches!(pair[0].value.as_deref(), Some("-exec" | "-execdir" | "-ok" | "-okdir")) {
                // `-exec {} ;` runs what `-name` found: a program a name chose.
                if pair[1].value.as_deref().is_some_and(|v| v.contains("{}")) {
                    return Err(format!(
                        "has `find {} {}`, which runs the files find finds as commands",
                        pair[0].text, pair[1].text
                    ));
                }
                names.extend(pair[1].value.clone());
            }
        }
        return Ok(());
    }
    let Some(&(_, valued, positional)) = RUNNERS.iter().find(|(runner, ..)| *runner == base) else {
        return Ok(());
    };
    let mut skip_value = false;
    let mut positional = positional;
    for (i, arg) in args.iter().enumerate() {
        let Some(word) = arg.value.as_deref() else {
            return Err(format!(
                "gives `{name}` `{}` before the command it runs is named: write the command's name as it is",
                arg.text
            ));
        };
        if skip_value {
            skip_value = false;
        } else if word == "--" {
            return match args.get(i + 1) {
                Some(next) if next.value.is_none() => Err(format!(
                    "gives `{name}` `{}` as the command it runs: write the command's name as it is",
                    next.text
                )),
                Some(next) => {
                    let name = next.value.as_deref().unwrap_or_default();
                    names.push(name.to_owned());
                    runner(name, &args[i + 2..], names)
                }
                None => Ok(()),
            };
        } else if word.starts_with("--") {
            // A long option may take the next word as its value.
            skip_value = !word.contains('=');
        } else if word.len() > 1 && word.starts_with('-') {
            skip_value = word.ends_with(|c| valued.contains(c));
        } else if positional > 0 {
            positional -= 1;
        } else if matches!(base, "env" | "cross-env") && word.contains('=') {
            check_assignment(word.split('=').next().unwrap_or_default(), "")?;
        } else {
            // The command: what follows is its own arguments.
            names.push(word.to_owned());
            return runner(word, &args[i + 1..], names);
        }
    }
    Ok(())
}

/// Interpreters that run a file of the repository named as their first
/// operand (`python lint.py "$F"`), and the short options of theirs that
/// only change how it runs (any other option, `-c` or `-e` among them, makes
/// the interpreter itself the program that reads the words).
const INTERPRETERS: [(&str, &str); 12] = [
    ("sh", "eux"),
    ("bash", "eux"),
    ("dash", "eux"),
    ("zsh", "eux"),
    ("ksh", "eux"),
    ("ash", "eux"),
    ("python", "uBOEsIbq"),
    ("pypy", "uBOEsIbq"),
    ("node", ""),
    ("nodejs", ""),
    ("ruby", "w"),
    ("Rscript", ""),
];

/// Package managers: what they run (`npm run NAME`, `npx`) is the
/// repository's `package.json` or a package, so the manager is the program.
const MANAGERS: [&str; 4] = ["npm", "yarn", "pnpm", "bun"];

/// Whether a program named by `path` is a file of the repository: a
/// relative path (`./run.sh`, `scripts/build.sh`), not in a folder that
/// holds installed tools (`node_modules/.bin/x`, `.venv/bin/helm`,
/// `vendor/bin/phpunit`).
pub fn repository_file(path: &str) -> bool {
    path.contains('/')
        && !path.starts_with(['/', '~'])
        && !path.split('/').any(|part| {
            matches!(
                part,
                "node_modules"
                    | ".bin"
                    | ".venv"
                    | "venv"
                    | "env"
                    | ".env"
                    | ".tox"
                    | "site-packages"
                    | "vendor"
                    | ".local"
            )
        })
}

/// The programs that read the words of the command `name args`
/// ([`Command::programs`]): the command itself, or the file of the
/// repository it runs (then none), and behind a runner (`timeout 5 x`) the
/// runner and what it runs. Returns where the words of the program that
/// receives the command's last words start (`offset` counts the words of
/// `args` before this command's own) and its name, or `None` when that is
/// a file of the repository.
fn reached_programs(
    name: &str,
    args: &[Word],
    offset: usize,
    out: &mut Vec<String>,
) -> Result<Option<(String, usize)>, String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    // `./run.sh`, `scripts/build.sh`, `pipelines/p1/run.sh`: the repository's.
    if repository_file(name) {
        return Ok(None);
    }
    if MANAGERS.contains(&base) {
        out.push(name.to_owned());
        return Ok(Some((name.to_owned(), offset)));
    }
    let interpreter = INTERPRETERS.iter().find(|(i, _)| {
        base == *i
            || base
                .strip_prefix(i)
                .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    });
    if let Some((interpreter, harmless)) = interpreter {
        let mut modules = Vec::new();
        named_programs(name, base, args, &mut modules)?;
        if interpreter.starts_with("py") && !modules.is_empty() {
            // `python -m pytest`: the module is the program.
            let module = modules.last().cloned().unwrap_or_default();
            out.extend(modules);
            return Ok(Some((module, offset)));
        }
        for arg in args {
            match arg.value.as_deref() {
                Some(option)
                    if option.len() > 1
                        && option.starts_with('-')
                        && !option.starts_with("--")
                        && option[1..].chars().all(|c| harmless.contains(c)) => {}
                // The first operand: a file of the repository (not
                // `/dev/stdin`, nor one installed into it).
                Some(file)
                    if !file.starts_with('-')
                        && (repository_file(file) || !file.contains('/') && file.contains('.')) =>
                {
                    return Ok(None);
                }
                _ => break,
            }
        }
        out.push(name.to_owned());
        return Ok(Some((name.to_owned(), offset)));
    }
    out.push(name.to_owned());
    // What a runner runs, with its own words.
    let mut run = Vec::new();
    runner(name, args, &mut run)?;
    if base == "find" {
        out.extend(run);
    } else if let Some(first) = run.first()
        && RUNNERS.iter().any(|(r, ..)| *r == base)
        && let Some(at) = args.iter().position(|a| a.value.as_deref() == Some(first.as_str()))
    {
        return reached_programs(first, &args[at + 1..], offset + at + 1, out);
    } else {
        out.extend(run);
    }
    Ok(Some((name.to_owned(), offset)))
}

/// Characters that end a word.
fn is_metachar(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')')
}

/// Characters a word may hold outside quotes as themselves.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_./:,@%+=~^-#!".contains(&b)
}

fn is_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Variables bash reads code or settings from, which no script of such a
/// group may set, whatever the value.
fn refused_assignment(name: &str) -> Result<(), String> {
    let refused = name.starts_with("BASH")
        || matches!(
            name,
            "PS0"
                | "PS1"
                | "PS2"
                | "PS3"
                | "PS4"
                | "PROMPT_COMMAND"
                | "ENV"
                | "SHELLOPTS"
                | "POSIXLY_CORRECT"
                | "EXECIGNORE"
                | "FUNCNEST"
                | "OPTIND"
                | "RANDOM"
                | "SRANDOM"
                | "HISTCMD"
                | "SECONDS"
        );
    if refused {
        return Err(format!("sets `{name}`, which bash acts on"));
    }
    Ok(())
}

/// Variables whose value a tool runs as a command, or reads code or options
/// that run commands from (`GIT_SSH_COMMAND`, `PAGER`, `TAR_OPTIONS`'s
/// `--to-command`, `MAKEFLAGS`'s `--eval`, `BASH_ENV`...). In a group with
/// such a path, none may be set, whatever the value: even plain words make
/// code (`xargs -0 -a /proc/self/environ sh -c` runs every variable).
#[must_use]
pub fn runs_its_value(name: &str) -> bool {
    const NAMES: [&str; 27] = [
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "VISUAL",
        "BROWSER",
        "LESSOPEN",
        "LESSCLOSE",
        "GIT_EXTERNAL_DIFF",
        "GIT_SSH",
        "RSYNC_RSH",
        "CVS_RSH",
        "PERL5OPT",
        "NODE_OPTIONS",
        "PYTHONSTARTUP",
        "RUBYOPT",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "LD_PRELOAD",
        "LD_AUDIT",
        "TAR_OPTIONS",
        "MAKEFLAGS",
        "MFLAGS",
        "GNUMAKEFLAGS",
        "MANOPT",
        "WGETRC",
    ];
    name.ends_with("_COMMAND")
        || name.ends_with("_SSH")
        || name.ends_with("_RSH")
        || name.ends_with("EXTERNAL_DIFF")
        || name.ends_with("_ARGS")
        || name.ends_with("_FLAGS")
        || name.ends_with("FLAGS")
        || matches!(
            name,
            "ZIP"
                | "ZIPOPT"
                | "UNZIP"
                | "UNZIPOPT"
                | "ZIPINFO"
                | "ZIPINFOOPT"
                | "CCACHE_PREFIX"
                | "GOPACKAGESDRIVER"
                | "DBUS_SESSION_BUS_ADDRESS"
                | "SVN_EDITOR"
        )
        || name.ends_with("_OPTS")
        || name.ends_with("_OPTIONS")
        || name.get(..11).is_some_and(|p| p.eq_ignore_ascii_case("npm_config_"))
        || name.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("yarn_"))
        || name == "RSYNC_CONNECT_PROG"
        || name.ends_with("PAGER")
        || name.ends_with("EDITOR")
        || name.ends_with("ASKPASS")
        || name.starts_with("GIT_CONFIG")
        || (name.starts_with("PS") && name[2..].bytes().all(|b| b.is_ascii_digit()))
        || NAMES.contains(&name)
}

/// Whether a value (as written after `=` in a script, or a YAML variable's
/// value) is plain: letters, digits, ` ._/:,=@%+~-`, quotes around them in a
/// script, and `$NAME` references (where GitLab or the shell expands them)
/// that `reference_ok` accepts.
fn plain_value(text: &str, quotes: bool, expand: bool, reference_ok: &dyn Fn(&str) -> bool) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() || b" ._/:,=@%+~-".contains(&b) || (quotes && (b == b'"' || b == b'\'')) {
            i += 1;
        } else if b == b'$' && expand {
            let braced = bytes.get(i + 1) == Some(&b'{');
            let start = i + 1 + usize::from(braced);
            let len = bytes[start..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            let name = &text[start..start + len];
            if !is_name(name) || !reference_ok(name) || (braced && bytes.get(start + len) != Some(&b'}')) {
                return false;
            }
            i = start + len + usize::from(braced);
        } else {
            return false;
        }
    }
    true
}

/// A variable set in the YAML (`variables:`, `parallel: matrix`, a `run:`
/// step's `env:`) of a fragment a path with special characters reached:
/// not one bash acts on, none a tool runs, and a plain value for every other
/// variable bash or a common tool reads (`crate::safety`'s list). `expand`:
/// whether GitLab expands `$NAME` in it; `reference_ok`: whether a
/// referenced variable holds a plain value too.
///
/// # Errors
/// Why the variable is refused, as a phrase.
pub fn check_variable(
    name: &str,
    value: &str,
    expand: bool,
    reference_ok: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    refused_assignment(name)?;
    if runs_its_value(name) {
        return Err(format!(
            "sets `{name}`, whose value a tool runs as a command or reads options that run commands from"
        ));
    }
    if crate::safety::special_variable(name) && !plain_value(value, false, expand, reference_ok) {
        return Err(format!(
            "sets `{name}`, which bash or a common tool acts on, to `{value}`: only letters, digits, \
             ` ._/:,=@%+~-` and references to such variables"
        ));
    }
    Ok(())
}

/// A word that `read` or `mapfile` assigns to.
fn name_argument(builtin: &str, word: &Word) -> Result<(), String> {
    match word.value.as_deref() {
        Some(name) => name_text(builtin, name),
        None => Err(format!(
            "gives `{builtin}` `{}` where it takes a variable name; bash evaluates its subscript",
            word.text
        )),
    }
}

fn name_text(builtin: &str, name: &str) -> Result<(), String> {
    if !is_name(name) {
        return Err(format!(
            "gives `{builtin}` `{name}`, which is not a plain variable name"
        ));
    }
    set_from_data(name)
}

/// A variable set from data no check reads (a loop's words, what `read`
/// reads): not one that bash or a common tool acts on.
fn set_from_data(name: &str) -> Result<(), String> {
    refused_assignment(name)?;
    if runs_its_value(name) || crate::safety::special_variable(name) {
        return Err(format!(
            "sets `{name}`, which bash or a common tool acts on, from data; give the variable a plain name"
        ));
    }
    Ok(())
}

/// A shell assignment `name=value` (`value` as written).
fn check_assignment(name: &str, value: &str) -> Result<(), String> {
    refused_assignment(name)?;
    if runs_its_value(name) {
        return Err(format!(
            "sets `{name}`, whose value a tool runs as a command or reads options that run commands from"
        ));
    }
    if crate::safety::special_variable(name) && !plain_value(value, true, true, &crate::safety::special_variable) {
        return Err(format!(
            "sets `{name}`, which bash or a common tool acts on, to `{value}`: only letters, digits, \
             ` ._/:,=@%+~-` and references to such variables"
        ));
    }
    Ok(())
}

/// Whether a word may be an option (`-rd`) holding one of `letters`: it is
/// one, or what it holds depends on a variable or a file.
fn may_be_option(word: &Word, letters: &str) -> bool {
    word.value
        .as_deref()
        .is_none_or(|w| w.starts_with('-') && !w.starts_with("--") && w[1..].chars().any(|c| letters.contains(c)))
}

/// `test` and `[`: bash reads up to four arguments by their count and
/// position (POSIX's rules), more with a parser of its own where `-a`, `-o`,
/// `!` and parentheses are operators. A word whose value is not fixed may
/// only stand where those rules make it an operand: alone, after a fixed
/// unary operator, or on either side of a fixed binary one (each maybe after
/// `!`); anything else, and any fixed `-v`/`-R` (which evaluate a name's
/// subscript), is refused.
fn test_arguments(name: &str, args: &[Word]) -> Result<(), String> {
    const UNARY: &str = "abcdefghkprstuwxGLNOSnz";
    const BINARY: [&str; 14] = [
        "=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef",
    ];
    let args = match args.split_last() {
        Some((last, rest)) if name == "[" && last.value.as_deref() == Some("]") => rest,
        _ => args,
    };
    if let Some(arg) = args.iter().find(|a| matches!(a.value.as_deref(), Some("-v" | "-R"))) {
        return Err(format!(
            "uses `{name} {}`, which evaluates a variable name's subscript",
            arg.text
        ));
    }
    if args.iter().all(|a| a.value.is_some()) {
        return Ok(());
    }
    let fixed = |i: usize| args.get(i).and_then(|a| a.value.as_deref());
    let unary = |i: usize| fixed(i).is_some_and(|w| w.len() == 2 && w.starts_with('-') && UNARY.contains(&w[1..]));
    let binary = |i: usize| fixed(i).is_some_and(|w| BINARY.contains(&w));
    // After a leading `!`, the rest is read by the rules for one argument fewer.
    let from = usize::from(args.len() > 1 && fixed(0) == Some("!"));
    let operands = match args.len() - from {
        1 => true,
        2 => unary(from),
        3 => binary(from + 1),
        _ => false,
    };
    if operands {
        return Ok(());
    }
    let arg = args.iter().find(|a| a.value.is_none()).map_or("", |a| a.text.as_str());
    Err(format!(
        "gives `{name}` `{arg}` where an operator may go (a value of `-v` would evaluate a name's subscript); \
         write one test per `{name}` with the operator fixed, as in `{name} -n \"$F\"` or `{name} \"$F\" = x`, \
         joined by `&&`"
    ))
}

/// Builtins and reserved words refused as a command's name.
fn refused_name(name: &str) -> Result<(), String> {
    if REFUSED.contains(&name) {
        return Err(format!(
            "uses `{name}`, which evaluates text as code or names variables bash evaluates; \
             pass the path as a plain \"$VARIABLE\" argument to a command or a script of the repository"
        ));
    }
    if CONTINUING.contains(&name) || name == "!" || name == "[[" {
        return Err(format!("has an unexpected `{name}`"));
    }
    Ok(())
}

/// The rules for builtins: refused ones, and the options and arguments
/// that keep the others from evaluating text.
fn builtin(name: &str, args: &[Word]) -> Result<(), String> {
    let all_fixed = |what: &str| -> Result<(), String> {
        match args.iter().find(|a| a.value.is_none()) {
            Some(arg) => Err(format!(
                "gives `{name}` the argument `{}`, which is not plain text ({what})",
                arg.text
            )),
            None => Ok(()),
        }
    };
    let refuse_option = |letters: &str, why: &str| -> Result<(), String> {
        match args.iter().find(|a| may_be_option(a, letters)) {
            Some(arg) => Err(format!("uses `{name} {}`, {why}", arg.text)),
            None => Ok(()),
        }
    };
    match name {
        "exec" if !args.is_empty() => Err("uses `exec` with a command; run the command itself".to_owned()),
        "command" => {
            if args
                .first()
                .and_then(|a| a.value.as_deref())
                .is_some_and(|a| a == "-v" || a == "-V")
            {
                all_fixed("`command -v` looks up names only")
            } else {
                Err("uses `command`, which runs its arguments as a command; run the command itself".to_owned())
            }
        }
        "source" | "." => all_fixed("a script sourced must be named as it is"),
        // Fixed text is not enough: bash evaluates `unset 'a[$F]'`'s
        // subscript, expanding `$F` into arithmetic (found by the property
        // test `bash_never_runs_a_variable_of_a_line_the_subset_accepts`).
        "unset" => match args.iter().find(|a| {
            a.value.as_deref().is_none_or(|w| {
                !(is_name(w) || w.len() > 1 && w.starts_with('-') && w[1..].bytes().all(|b| b"fvn".contains(&b)))
            })
        }) {
            Some(arg) => Err(format!(
                "gives `unset` `{}`, which is not a plain variable name (bash evaluates a name's subscript)",
                arg.text
            )),
            None => Ok(()),
        },
        "shopt" => match args.iter().find(|a| {
            a.literal
                .as_deref()
                .is_none_or(|w| !w.starts_with('-') && !SHOPT.contains(&w))
        }) {
            Some(arg) => Err(format!(
                "uses `shopt {}`; in such a group only glob options may be changed",
                arg.text
            )),
            None => Ok(()),
        },
        "set" => {
            let mut after_o = false;
            for arg in args {
                let Some(w) = arg.literal.as_deref() else {
                    return Err(format!(
                        "gives `set` the argument `{}`; only options are read",
                        arg.text
                    ));
                };
                if w == "--" || w == "-" {
                    return Ok(());
                }
                if after_o {
                    if !SET_O.contains(&w) {
                        return Err(format!(
                            "uses `set -o {w}`; in such a group only error and trace options"
                        ));
                    }
                    after_o = false;
                } else if (w.starts_with('-') || w.starts_with('+'))
                    && w.len() > 1
                    && w[1..].chars().all(|c| "euxvoCfE".contains(c))
                {
                    after_o = w.ends_with('o');
                } else {
                    return Err(format!("uses `set {w}`; in such a group only error and trace options"));
                }
            }
            Ok(())
        }
        "export" | "readonly" => {
            for arg in args {
                let (head, _) = arg.text.split_once('=').unwrap_or((arg.text.as_str(), ""));
                if !(is_name(head) || (arg.literal.is_some() && matches!(head, "-n" | "-p" | "--"))) {
                    return Err(format!("gives `{name}` `{}`; write `{name} NAME=\"$VALUE\"`", arg.text));
                }
                let value = arg.text.split_once('=').map_or("", |(_, v)| v);
                check_assignment(head, value)?;
            }
            Ok(())
        }
        "read" | "mapfile" | "readarray" => {
            if name != "read" {
                refuse_option("Cc", "which runs a callback as code")?;
            }
            // As bash's getopt reads them: options up to the first word
            // that is not one (or `--`); in a cluster, the first option
            // that takes a value takes the rest of the cluster, or the next
            // word. `read -a` takes an array's name.
            let valued = if name == "read" { "adinNptu" } else { "dnOsuCc" };
            let mut options = true;
            let mut value_of: Option<char> = None;
            for arg in args {
                if let Some(option) = value_of.take() {
                    if option == 'a' {
                        name_argument(name, arg)?;
                    }
                    continue;
                }
                let Some(w) = arg.value.as_deref() else {
                    return Err(format!(
                        "gives `{name}` `{}` where it may take an option or a variable name; bash evaluates a \
                         name's subscript",
                        arg.text
                    ));
                };
                if options && w == "--" {
                    options = false;
                } else if options && w.len() > 1 && w.starts_with('-') {
                    if let Some((at, option)) = w.char_indices().skip(1).find(|(_, c)| valued.contains(*c)) {
                        let rest = &w[at + option.len_utf8()..];
                        if rest.is_empty() {
                            value_of = Some(option);
                        } else if option == 'a' {
                            name_text(name, rest)?;
                        }
                    }
                } else {
                    options = false;
                    name_text(name, w)?;
                }
            }
            Ok(())
        }
        // Options come first: the format, or `--` before it.
        "printf" => match args.first() {
            Some(first) if may_be_option(first, "v") => Err(format!(
                "uses `printf {}` where an option goes (`-v` assigns to a variable whose subscript bash \
                 evaluates): write the format as it is, as in `printf '%s\\n' \"$F\"`",
                first.text
            )),
            _ => Ok(()),
        },
        "test" | "[" => test_arguments(name, args),
        "jobs" => refuse_option("x", "which runs its arguments as a command"),
        "wait" => match args
            .iter()
            .find(|a| may_be_option(a, "p") && !matches!(a.text.as_str(), "$!" | "\"$!\""))
        {
            Some(arg) => Err(format!(
                "gives `wait` `{}`, which is or may be `-p` (it assigns to a variable whose subscript bash \
                 evaluates)",
                arg.text
            )),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn the_shipped_and_documented_forms_are_inside() {
        for script in [
            "datacube drop --env dev --name \"$CUBE_ID\"",
            "test -f \"$LOCAL_DIR/manifest.json\" || { echo \"$LOCAL_DIR has no manifest.json\"; exit 1; }",
            "cd \"$STAGE_DIR\" && python -m pytest tests",
            "docker login -u \"$CI_REGISTRY_USER\" -p \"$CI_REGISTRY_PASSWORD\" \"$CI_REGISTRY\"",
            "printf '%s\\n' 'pipelines/p1/a b;$(id).py'",
            "ls -d -- 'a' 'b'\\''c' || true",
            "echo \"lines: $(wc -l < \"$F\" 2>/dev/null)\"",
            "cd \"$(dirname -- \"$F\")\"",
            "if [[ \"$F\" == *.py ]]; then echo py; elif [ -n \"$F\" ]; then :; else echo no; fi",
            "[[ -e \"$F\" && ! -d \"$F\" ]] || echo missing",
            "export MODEL_PATH=\"$F\"",
            "while IFS= read -r line; do echo \"$line\"; done < \"$F\" || true",
            "files=(\"$F\" other)",
            "ls -- \"${files[@]}\" \"${#files[@]}\" || true",
            "echo \"${F%.py}\" \"${F##*/}\" \"${F:-none}\" \"${F// /_}\" \"${F:-$HOME}\"",
            "n=$(wc -l < \"$F\" 2>/dev/null) || true",
            "make test 2>&1 | tee test.log >/dev/null",
            "for f in \"$F\" b; do\n  echo \"$f\" # a comment's apostrophe\ndone",
            "set -euo pipefail",
            "exec >log 2>&1",
            "command -v docker >/dev/null || exit 1",
            "source .venv/bin/activate",
            "(cd sub && make) &",
            "cat <<< \"$F\" | wc -c",
            "IFS= read -rd '' x < list || true",
            "mapfile -t lines < list",
            "[[ ( -n \"$F\" ) && ! ( -e x ) ]] && [[ \"$F\" == *.py ]]; [ -n \"$F\" ] && [ \"$F\" = \"$G\" ] && [ \"$F\" ] && test -f x -a -d y",
            "printf -- \"$F\"; wait \"$!\"",
            "read 'x' < list",
            "unset TMP_LIST 'OLD' -v -f cleanup",
            "grep -q \"\\.py$\" list; echo $ a$ \"$\"",
            "find . -name '*.py' -exec ls {} \\; ; echo {} é",
            "case \"$F\" in *.py|*.txt) echo text;; (x) ;& *) :;;& esac",
            "x=$(case \"$F\" in a) echo a;; esac)",
            "IFS= read -rd '' -a arr; read -ra arr2 < list; read -pd x y",
            "export PIP_CACHE_DIR=\"$CI_PROJECT_DIR/.cache\" LANG=C.UTF-8",
            "[ ! -f \"$F\" ] && [ ! \"$F\" = x ] && [ -n \"$F\" ]",
            "echo a#b \\$HOME ~/x ./*.py dist/*.whl a!b $? $$ \"$@\"",
            "timeout 60 ./scripts/check.sh \"$F\"; nice -n 5 env A=1 python3 x.py \"$F\"; sudo -u ci make \"$F\"",
            "for f in $(cat list) *.py; do echo \"$f\"; done; export X=$Y; x=$(cat n) y=*",
            "# only a comment",
        ] {
            assert_eq!(check(script), Ok(()), "{script}");
        }
    }

    #[test]
    fn what_bash_evaluates_or_reads_its_own_way_is_outside() {
        for (script, why) in [
            ("eval \"$F\"", "`eval`"),
            ("echo `id`", "backticks"),
            ("echo $((1 + F))", "arithmetic"),
            ("(( F ))", "arithmetic"),
            ("echo $[F]", "arithmetic"),
            ("echo ${!F}", "named by another"),
            ("echo ${F:1}", "offset"),
            ("echo ${F@P}", "prompt"),
            ("echo ${a[F]}", "subscript"),
            ("a[F]=1", "element"),
            ("a=([x]=1)", "element"),
            ("echo $'\\x41'", "plain quotes"),
            ("cat <<EOF\n$F\nEOF", "here-document"),
            ("diff <(ls) b", "process substitution"),
            ("echo {a,b}", "brace expansion"),
            ("{bash,-c,x}", "brace expansion"),
            (": {a[\"$F\"]}>/dev/null", "file descriptor"),
            ("a=(x)# ; eval x", "right after"),
            ("a=(x)echo \"$s\" -c x", "right after"),
            ("a=(x)(y)", "right after"),
            ("echo \"$( [[ x == @( ]] ) ]] ; eval x ; echo )\"", "pattern"),
            ("[[ x != +(a) ]]", "pattern"),
            ("[[ x == (a) ]]", "pattern"),
            ("[[ !(a) ]]", "pattern"),
            ("[ \"${a[@]}\" ]", "several words"),
            ("test \"$@\"", "several words"),
            ("printf \"${a[@]}\"", "several words"),
            ("read -r \"${@:-x}\"", "several words"),
            ("[ * ]", "the glob"),
            ("[ $(cat n) ]", "unquoted"),
            ("git $(cat n) status", "unquoted"),
            ("rm -f $F", "unquoted"),
            ("tar czf a.tgz *", "the glob"),
            ("jobs -x $e \"$F\"", "unquoted"),
            ("jobs -x x", "runs its arguments"),
            ("nice \"${s}h\" -c \"$F\"", "before the command"),
            ("sudo -u root \"$X\" -c \"$F\"", "before the command"),
            ("timeout 5 -- \"$X\" -c x", "as the command"),
            ("find . -exec \"$X\" {} +", "not named by fixed text"),
            ("exec {fd}<list", "file descriptor"),
            ("export Npm_Config_Call=x", "runs as a command"),
            ("JAVA_OPTS=-Xmx1g gradle build", "runs as a command"),
            ("echo {1..3}", "brace expansion"),
            ("[ x -a \"$F\" \"$G\" -a y ]", "where an operator may go"),
            ("[ \"$F\" = x -o \"$G\" ]", "where an operator may go"),
            ("read -pd \"$F\" x", "may take an option"),
            ("read -pd x \"$F\"", "may take an option"),
            ("read -pd x 'a[1]'", "not a plain variable name"),
            ("read -ra 'a[1]'", "not a plain variable name"),
            ("echo \"${PS4:=$F}\"", "`PS4`"),
            ("echo \"${PATH=x}\"", "`PATH`"),
            ("export GIT_SSH_COMMAND=ssh", "runs as a command"),
            ("HOME=\"$X\" make", "`HOME`"),
            ("for PATH in x; do :; done", "`PATH`"),
            ("ec\\\nho", "continues a line"),
            ("echo \"a\\\nb\"", "continues a line"),
            ("case $F in *) eval x;; esac", "`eval`"),
            ("case $F in a) :;; esac; ;;", "empty command"),
            ("echo ;; x", "`;;` outside"),
            ("case $F in @(a)) :;; esac", "pattern without"),
            ("f() { :; }", "function definition"),
            ("function f { :; }", "`function`"),
            ("\"eval\" x", "not plain text"),
            ("\\eval x", "not plain text"),
            ("$cmd \"$F\"", "not plain text"),
            ("printf -v x '%s' \"$F\"", "printf -v"),
            ("printf \"$F\" x", "where an option goes"),
            ("[ \"$F\" x ]", "where an operator may go"),
            ("[ \"-v\" x ]", "`[ \"-v\"`"),
            ("wait \"$F\"", "may be `-p`"),
            ("test -v \"$F\"", "test -v"),
            ("[[ \"$F\" -eq 1 ]]", "arithmetic"),
            ("[[ $F =~ x ]]", "regular expression"),
            ("read \"$F\"", "variable name"),
            ("read -r 'a[$(id)]'", "variable name"),
            ("mapfile -C cb x", "callback"),
            ("unset \"$F\"", "not a plain variable name"),
            ("unset 'a[$F]'", "not a plain variable name"),
            ("unset -v 'a[$F]'", "not a plain variable name"),
            ("PS4='$(id)'", "`PS4`"),
            ("export BASH_ENV=x", "`BASH_ENV`"),
            ("BASH_ALIASES=()", "`BASH_ALIASES`"),
            ("shopt -s expand_aliases", "glob options"),
            ("set -k", "error and trace"),
            ("exec sh", "`exec`"),
            ("command eval x", "`command`"),
            ("wait -n -p x", "may be `-p`"),
            ("trap 'x' EXIT", "`trap`"),
            ("echo 'open", "open"),
            ("echo \"open", "open"),
            ("if true; then echo", "open"),
            ("echo a$\\b", "starts no variable"),
            ("for ((i=0;;)); do :; done", "arithmetic"),
            ("echo a\rb", "\\r"),
            ("echo ${F/$(id)/x}", "inside `${...}`"),
            (
                "echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo $(echo x)))))))))))))))))",
                "deeper",
            ),
        ] {
            let refused = check(script).expect_err(script);
            assert!(refused.contains(why), "{script}: {refused}");
        }
    }
}

//! Why a command line could not be understood.
//!
//! Owns: `CommandError`, one variant per kind of mistake, each message naming what was wrong, what
//! the bench accepts instead and how to fix the line. Leaves out: detecting the mistakes (the
//! parsers in the sibling modules do that).

/// A command line the bench cannot replay faithfully. Scenarios stop on it rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(
        "the command line is empty: write a curl command (optionally wrapped in sh -c \"…\" and piped \
         into grep, head, tail, wc or cut) or a kubectl command"
    )]
    Empty,

    #[error(
        "unterminated {quote} quote in `{line}`: every opening {quote} quote needs a closing one; \
         add it, or escape the quote character with a backslash"
    )]
    UnterminatedQuote { quote: &'static str, line: String },

    #[error(
        "`{found}` in `{line}` asks the shell to substitute a value the bench does not compute: \
         it expands $NAME and ${{NAME}} (from `vars:` and `export` steps) and the pod lookup \
         $(kubectl get pod -l KEY=VALUE -o jsonpath={{.items..metadata.name}}); write the value \
         itself, or quote a literal `$` with single quotes"
    )]
    Expansion { found: String, line: String },

    #[error(
        "`${name}` is not set (set here: {set}); define it in the scenario's `vars:` block or with \
         an earlier step `kubectl: export {name}=…`"
    )]
    UnsetVariable { name: String, set: String },

    #[error(
        "`${name}` would be expanded by the pod's shell (it is inside single quotes, or in a script \
         the pod runs), where the bench sets no variables; use double quotes so that your own shell expands it"
    )]
    PodVariable { name: String },

    #[error(
        "`{found}` is not supported: {why}. Supported shell syntax: words quoted with '…', \"…\" or \
         backslashes, pipelines joined by `|`, lists joined by `;`, `&&` and `||`, `time`, and the \
         redirections >/dev/null, 2>/dev/null, 2>&1 and 1>&2"
    )]
    ShellSyntax { found: String, why: String },

    #[error("`{program}` cannot run {position}; supported there: {supported}")]
    UnknownProgram {
        program: String,
        position: &'static str,
        supported: &'static str,
    },

    #[error(
        "`{line}` sends no request: an exec step runs at least one curl (alone, in a list joined \
         by `;`, `&&`, `||`, piped through filters, or inside sh -c \"…\")"
    )]
    NoCurl { line: String },

    #[error(
        "unknown {program} option `{flag}`; supported: {supported}. Remove it or use one of those"
    )]
    UnknownFlag {
        program: &'static str,
        flag: String,
        supported: String,
    },

    #[error("{program} option `{flag}` needs a value: write it as the next word (`{flag} VALUE`)")]
    MissingValue { program: &'static str, flag: String },

    #[error("{program} option `{flag}` got `{value}`: {expected}")]
    BadValue {
        program: &'static str,
        flag: String,
        value: String,
        expected: String,
    },

    #[error("{program}: {message}")]
    Usage {
        program: &'static str,
        message: String,
    },

    #[error("URL `{url}`: {reason}")]
    Url { url: String, reason: String },

    #[error(
        "curl -w format `{format}` uses unknown variable `%{{{name}}}`; supported: {supported}. \
         Fix the spelling or drop the variable"
    )]
    WriteOutVariable {
        format: String,
        name: String,
        supported: &'static str,
    },

    #[error("grep pattern `{pattern}`: {reason}")]
    Pattern { pattern: String, reason: String },

    #[error("unknown resource kind `{kind}`; the bench knows: {supported}")]
    UnknownKind { kind: String, supported: String },
}

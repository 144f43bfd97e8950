//! The shell builtins documents put around their curls: `echo`, `true`, `false`, `sleep`.
//!
//! Owns: reading them (`echo` with `-n`, `-e` and `-E`; `sleep` with a number of seconds, an
//! optional `s` suffix) and what they print and return. `sleep` waits for nothing here: every
//! target's mesh is consistent when a step starts, so the pause documents take for a change to
//! propagate has nothing to wait for. Leaves out: where a builtin may stand (`shell`).

use super::error::CommandError;
use super::streams::{Emitted, Stream};

/// A builtin command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// `echo [-n] [-e|-E] WORDS…`: the words joined by spaces, a newline unless `-n`.
    Echo { text: String, newline: bool },
    /// `true` (exit 0) or `false` (exit 1).
    Status(i32),
    /// `sleep N`.
    Sleep,
}

impl Builtin {
    /// Read a builtin from its words (the name first); `None` when `words` is not one.
    pub fn parse(words: &[String]) -> Option<Result<Builtin, CommandError>> {
        let (name, args) = words.split_first()?;
        Some(match name.as_str() {
            "echo" => Ok(echo(args)),
            "true" => Ok(Builtin::Status(0)),
            "false" => Ok(Builtin::Status(1)),
            "sleep" => sleep(args),
            _ => return None,
        })
    }

    /// What it prints and returns.
    pub fn run(&self) -> Emitted {
        let mut e = Emitted::default();
        match self {
            Builtin::Echo { text, newline } => {
                e.write(Stream::Stdout, text);
                if *newline {
                    e.write(Stream::Stdout, "\n");
                }
            }
            Builtin::Status(code) => e.exit_code = *code,
            Builtin::Sleep => {}
        }
        e
    }
}

fn echo(args: &[String]) -> Builtin {
    let mut newline = true;
    let mut escapes = false;
    let mut rest = args;
    while let Some((flag, more)) = rest.split_first() {
        let letters = flag
            .strip_prefix('-')
            .filter(|l| !l.is_empty() && l.chars().all(|c| matches!(c, 'n' | 'e' | 'E')));
        let Some(letters) = letters else { break };
        for c in letters.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        rest = more;
    }
    let joined = rest.join(" ");
    let text = if escapes { unescape(&joined) } else { joined };
    Builtin::Echo { text, newline }
}

/// `echo -e`'s common escapes, read left to right: `\n`, `\t`, `\\`; any other backslash stays.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn sleep(args: &[String]) -> Result<Builtin, CommandError> {
    let ok = |a: &str| {
        let n = a.strip_suffix('s').unwrap_or(a);
        !n.is_empty() && n.parse::<f64>().is_ok_and(|s| s >= 0.0)
    };
    match args {
        [a] if ok(a) => Ok(Builtin::Sleep),
        _ => Err(CommandError::Usage {
            program: "sleep",
            message: "sleep takes one number of seconds, such as `sleep 5`".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &[&str]) -> (String, i32) {
        let words: Vec<String> = line.iter().map(|w| w.to_string()).collect();
        let e = Builtin::parse(&words).unwrap().unwrap().run();
        (e.text(Stream::Stdout), e.exit_code)
    }

    #[test]
    fn echo_prints_its_words() {
        assert_eq!(run(&["echo", "a", "b"]), ("a b\n".into(), 0));
        assert_eq!(run(&["echo"]), ("\n".into(), 0));
        assert_eq!(run(&["echo", "-n", "x"]), ("x".into(), 0));
        assert_eq!(run(&["echo", "-e", "a\\tb"]), ("a\tb\n".into(), 0));
        assert_eq!(run(&["echo", "-e", "a\\\\n"]), ("a\\n\n".into(), 0));
        assert_eq!(run(&["echo", "-x"]), ("-x\n".into(), 0));
    }

    #[test]
    fn statuses_and_sleep() {
        assert_eq!(run(&["true"]), (String::new(), 0));
        assert_eq!(run(&["false"]), (String::new(), 1));
        assert_eq!(run(&["sleep", "2"]), (String::new(), 0));
        assert_eq!(run(&["sleep", "0.5s"]), (String::new(), 0));
        let words = ["sleep".to_string(), "soon".to_string()];
        assert!(Builtin::parse(&words).unwrap().is_err());
        assert!(Builtin::parse(&["curl".to_string()]).is_none());
    }
}

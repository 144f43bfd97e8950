//! Reading a command line into a `Pipeline` around exactly one curl.
//!
//! Owns: splitting tokens at `|` into stages, each stage's redirections (`>/dev/null`,
//! `2>/dev/null`, `2>&1`, `1>&2`, `>>/dev/null`, applied left to right as `sh` does), recognising
//! curl (first), `sh -c "…"` / `bash -c '…'` wrappers (first, read recursively) and filters (after
//! a pipe), and refusing the rest with a reason: `&&`, `||`, `;`, `&`, subshells, input
//! redirection and here-documents, writing to files. Leaves out: word splitting (`words`), curl's
//! options (`curl`) and the filters' options (`filter`).

use super::error::CommandError;
use super::filter::{base_name, Filter};
use super::pipeline::{Pipeline, Program, Routing, Sink, Stage};
use super::words::{tokenize, Operator, RedirectKind, Token, TokenKind};

/// How deep `sh -c` wrappers may nest.
const MAX_NESTING: usize = 4;

const SHELLS: [&str; 4] = ["sh", "bash", "ash", "dash"];

const STARTS: &str = "curl, or a shell running a curl pipeline: sh -c \"…\" / bash -c '…'";

/// A parsed command line: its pipeline, and the arguments of its curl.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub pipeline: Pipeline,
    pub curl_args: Vec<String>,
}

/// Read `line` as a pipeline starting with curl (directly or inside `sh -c`).
pub(crate) fn parse(line: &str) -> Result<Parsed, CommandError> {
    parse_nested(line, 0)
}

fn parse_nested(line: &str, depth: usize) -> Result<Parsed, CommandError> {
    if depth > MAX_NESTING {
        return Err(CommandError::ShellSyntax {
            found: "sh -c".into(),
            why: format!("shells nest more than {MAX_NESTING} deep; unwrap them"),
        });
    }
    let tokens = tokenize(line)?;
    if tokens.is_empty() {
        return Err(CommandError::Empty);
    }
    let mut stages = Vec::new();
    let mut curl_args = None;
    for (index, part) in tokens
        .split(|t| t.kind == TokenKind::Op(Operator::Pipe))
        .enumerate()
    {
        let (words, routing) = stage_parts(line, part)?;
        let Some(program) = words.first() else {
            return Err(CommandError::ShellSyntax {
                found: "|".into(),
                why: "a pipe needs a command on each side".into(),
            });
        };
        let name = base_name(program);
        let program = if name == "curl" || SHELLS.contains(&name) {
            if index > 0 {
                return Err(CommandError::UnknownProgram {
                    program: program.clone(),
                    position: "after a pipe",
                    supported: super::filter::SUPPORTED,
                });
            }
            if name == "curl" {
                curl_args = Some(words[1..].to_vec());
                Program::Curl
            } else {
                let inner = parse_nested(&shell_script(program, &words[1..])?, depth + 1)?;
                curl_args = Some(inner.curl_args);
                Program::Shell(inner.pipeline)
            }
        } else if index == 0 {
            return Err(CommandError::UnknownProgram {
                program: program.clone(),
                position: "at the start of the command",
                supported: STARTS,
            });
        } else {
            Program::Filter(Filter::parse(&words)?)
        };
        stages.push(Stage { program, routing });
    }
    let curl_args = curl_args.ok_or_else(|| CommandError::NoCurl {
        line: line.to_string(),
    })?;
    Ok(Parsed {
        pipeline: Pipeline { stages },
        curl_args,
    })
}

/// A stage's words and where its output goes.
fn stage_parts(line: &str, tokens: &[Token]) -> Result<(Vec<String>, Routing), CommandError> {
    let mut words = Vec::new();
    let mut routing = Routing::default();
    let mut rest = tokens.iter();
    while let Some(t) = rest.next() {
        let raw = &line[t.start..t.end];
        match &t.kind {
            TokenKind::Word(w) => words.push(w.clone()),
            TokenKind::Op(Operator::Redirect { fd, kind }) => {
                let target =
                    rest.next()
                        .and_then(Token::word)
                        .ok_or_else(|| CommandError::ShellSyntax {
                            found: raw.to_string(),
                            why: "a redirection needs a target such as /dev/null or &1".into(),
                        })?;
                redirect(&mut routing, *fd, *kind, target, raw)?;
            }
            TokenKind::Op(op) => return Err(operator_error(*op, raw)),
        }
    }
    Ok((words, routing))
}

fn operator_error(op: Operator, raw: &str) -> CommandError {
    let why = match op {
        Operator::AndIf | Operator::OrIf | Operator::Separator => {
            "the bench replays one pipeline per command; split the line into separate commands"
        }
        Operator::Background => "running a command in the background is not supported",
        Operator::Paren => "subshells and grouping are not supported",
        Operator::Pipe | Operator::Redirect { .. } => "it is not expected here",
    };
    CommandError::ShellSyntax {
        found: raw.to_string(),
        why: why.into(),
    }
}

/// Apply one redirection to `routing`, as `sh` would.
fn redirect(
    routing: &mut Routing,
    fd: Option<u32>,
    kind: RedirectKind,
    target: &str,
    raw: &str,
) -> Result<(), CommandError> {
    let fail = |why: &str| CommandError::ShellSyntax {
        found: format!("{raw}{target}"),
        why: why.into(),
    };
    let sink = match kind {
        RedirectKind::Write | RedirectKind::Append if target == "/dev/null" => Sink::Null,
        RedirectKind::Write | RedirectKind::Append => {
            return Err(fail(
                "writing to a file hides the output from the bench; redirect to /dev/null or \
                 leave the output on stdout",
            ))
        }
        RedirectKind::DupWrite => match target {
            "1" => routing.stdout,
            "2" => routing.stderr,
            _ => return Err(fail("only &1 and &2 can be duplicated")),
        },
        RedirectKind::Read
        | RedirectKind::DupRead
        | RedirectKind::HereDoc
        | RedirectKind::ReadWrite => {
            return Err(fail(
                "input redirection and here-documents are not supported; curl reads nothing \
                 from stdin here",
            ))
        }
    };
    match fd.unwrap_or(1) {
        1 => routing.stdout = sink,
        2 => routing.stderr = sink,
        _ => {
            return Err(fail(
                "only descriptors 1 (stdout) and 2 (stderr) can be redirected",
            ))
        }
    }
    Ok(())
}

/// The script of `sh -c SCRIPT [NAME [ARG…]]`.
fn shell_script(program: &str, args: &[String]) -> Result<String, CommandError> {
    match args {
        [flag, script, ..] if flag == "-c" => Ok(script.clone()),
        [flag] if flag == "-c" => Err(CommandError::MissingValue {
            program: "sh",
            flag: "-c".into(),
        }),
        _ => Err(CommandError::Usage {
            program: "sh",
            message: format!(
                "`{program}` runs here only as `{program} -c \"SCRIPT\"` with the script right \
                 after -c; other shell options and script files are not supported"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Parsed {
        parse(line).unwrap()
    }

    fn err(line: &str) -> String {
        parse(line).unwrap_err().to_string()
    }

    fn routing(stdout: Sink, stderr: Sink) -> Routing {
        Routing { stdout, stderr }
    }

    #[test]
    fn a_bare_curl() {
        let p = parsed(r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#);
        assert_eq!(p.pipeline, Pipeline::curl_only());
        assert_eq!(
            p.curl_args,
            [
                "-s",
                "-o",
                "/dev/null",
                "-w",
                r"%{http_code}\n",
                "http://www.httpbin.org"
            ]
        );
    }

    #[test]
    fn sh_c_with_a_pipe() {
        let p = parsed(r#"sh -c "curl -s http://httpbin.org/anything | grep url""#);
        assert_eq!(p.curl_args, ["-s", "http://httpbin.org/anything"]);
        let [stage] = p.pipeline.stages.as_slice() else {
            panic!("one stage expected: {p:?}");
        };
        let Program::Shell(inner) = &stage.program else {
            panic!("a shell expected: {p:?}");
        };
        assert_eq!(inner.stages.len(), 2);
        assert!(matches!(
            inner.stages[1].program,
            Program::Filter(Filter::Grep(_))
        ));
        let p = parsed("bash -c 'curl http://a' x y | /usr/bin/head -1");
        assert_eq!(p.pipeline.stages.len(), 2);
    }

    #[test]
    fn redirections_apply_left_to_right() {
        let first = |line: &str| parsed(line).pipeline.stages[0].routing;
        assert_eq!(
            first("curl http://a 2>&1"),
            routing(Sink::Stdout, Sink::Stdout)
        );
        assert_eq!(
            first("curl http://a >/dev/null"),
            routing(Sink::Null, Sink::Stderr)
        );
        assert_eq!(
            first("curl http://a > /dev/null 2>&1"),
            routing(Sink::Null, Sink::Null)
        );
        assert_eq!(
            first("curl http://a 2>&1 >/dev/null"),
            routing(Sink::Null, Sink::Stdout)
        );
        assert_eq!(
            first("curl http://a 2>/dev/null"),
            routing(Sink::Stdout, Sink::Null)
        );
        assert_eq!(
            first("curl http://a 1>&2"),
            routing(Sink::Stderr, Sink::Stderr)
        );
        assert_eq!(
            first("curl http://a >>/dev/null"),
            routing(Sink::Null, Sink::Stderr)
        );
        let p = parsed("curl -sS http://a | grep x >/dev/null");
        assert_eq!(
            p.pipeline.stages[1].routing,
            routing(Sink::Null, Sink::Stderr)
        );
    }

    #[test]
    fn unsupported_shell_syntax_is_explained() {
        assert!(err("curl http://a && curl http://b").contains("one pipeline per command"));
        assert!(err("curl http://a; echo").contains("`;`"));
        assert!(err("curl http://a || true").contains("`||`"));
        assert!(err("curl http://a &").contains("background"));
        assert!(err("(curl http://a)").contains("subshells"));
        assert!(err("curl http://a > out.txt").contains("`>out.txt`"));
        assert!(err("curl http://a 3>/dev/null").contains("descriptors 1"));
        assert!(err("curl http://a 2>&3").contains("&1 and &2"));
        assert!(err("curl -d @- http://a < body").contains("input redirection"));
        assert!(err("curl http://a <<EOF").contains("here-documents"));
        assert!(err("curl http://a 2>").contains("needs a target"));
        assert!(err("curl http://a |").contains("each side"));
        assert!(err("| grep x").contains("each side"));
    }

    #[test]
    fn programs_in_the_wrong_place_are_named() {
        let e = err("wget http://a");
        assert!(e.contains("`wget`") && e.contains("at the start"), "{e}");
        let e = err("grep x | curl http://a");
        assert!(e.contains("`grep`") && e.contains("at the start"), "{e}");
        let e = err("curl http://a | curl http://b");
        assert!(e.contains("after a pipe"), "{e}");
        let e = err("curl http://a | jq .");
        assert!(e.contains("`jq`"), "{e}");
        let e = err("sh script.sh");
        assert!(e.contains("sh -c"), "{e}");
        let e = err("sh -c");
        assert!(e.contains("needs a value"), "{e}");
        let e = err(r#"sh -c "echo hi""#);
        assert!(e.contains("`echo`"), "{e}");
        assert_eq!(parse("   "), Err(CommandError::Empty));
        assert_eq!(parse("# only a comment"), Err(CommandError::Empty));
    }

    #[test]
    fn nesting_is_bounded() {
        let wrap = |s: String| format!("sh -c '{}'", s.replace('\'', r"'\''"));
        let mut line = "curl http://a".to_string();
        for _ in 0..MAX_NESTING {
            line = wrap(line);
        }
        assert!(parse(&line).is_ok(), "{line}");
        let e = err(&wrap(line));
        assert!(e.contains("nest"), "{e}");
    }
}

//! Reading a command line into a `Script`: pipelines joined by `;`, `&&`, `||`.
//!
//! Owns: splitting tokens into the list (`;` or a newline, `&&`, `||`; a trailing `;` is allowed),
//! each pipeline at `|` into stages, each stage's redirections (`>/dev/null`, `2>/dev/null`,
//! `2>&1`, `1>&2`, `>>/dev/null`, applied left to right as `sh` does), recognising curl (first in
//! a pipeline, its options read and its request built) and the builtins `echo`, `true`, `false`,
//! `sleep` (first), `sh -c "…"` / `bash -c '…'` wrappers
//! (first, read recursively) and filters (after a pipe), and refusing the rest with a reason: `&`,
//! subshells, input redirection and here-documents, writing to files. Leaves out: word splitting
//! (`words`), curl's options (`curl`) and the filters' options (`filter`).

use super::builtin::Builtin;
use super::curl::CurlOptions;
use super::env::{is_name, Env};
use super::error::CommandError;
use super::filter::{base_name, Filter};
use super::headers::build_request;
use super::pipeline::{Pipeline, Program, Routing, Sink, Stage};
use super::script::{Joiner, Script};
use super::transfer::Curl;
use super::words::{tokenize, Operator, RedirectKind, Token, TokenKind};

/// How deep `sh -c` wrappers may nest.
const MAX_NESTING: usize = 4;

const SHELLS: [&str; 4] = ["sh", "bash", "ash", "dash"];

const STARTS: &str =
    "curl, echo, true, false, sleep, or a shell running those: sh -c \"…\" / bash -c '…'";

/// Read `line`, as the user's shell in `env` reads it, as a list of pipelines, each
/// starting with curl, a builtin or a shell (whose script is read as the pod's shell reads it).
pub(crate) fn parse(line: &str, env: &Env) -> Result<Script, CommandError> {
    parse_nested(line, Some(env), 0)
}

fn parse_nested(line: &str, env: Option<&Env>, depth: usize) -> Result<Script, CommandError> {
    if depth > MAX_NESTING {
        return Err(CommandError::ShellSyntax {
            found: "sh -c".into(),
            why: format!("shells nest more than {MAX_NESTING} deep; unwrap them"),
        });
    }
    let tokens = tokenize(line, env)?;
    if tokens.is_empty() {
        return Err(CommandError::Empty);
    }
    let mut items = Vec::new();
    let mut joiner = Joiner::Then;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        let next = match t.kind {
            TokenKind::Op(Operator::Separator) => Joiner::Then,
            TokenKind::Op(Operator::AndIf) => Joiner::And,
            TokenKind::Op(Operator::OrIf) => Joiner::Or,
            _ => continue,
        };
        let part = &tokens[start..i];
        let raw = &line[t.start..t.end];
        if part.is_empty() {
            // `sh` allows blank lines (also after `&&` and `||`), but not `;`, `&&` or `||`
            // with nothing before them.
            if raw.trim().is_empty() {
                start = i + 1;
                continue;
            }
            return Err(CommandError::ShellSyntax {
                found: raw.trim().to_string(),
                why: "it needs a command before it".into(),
            });
        }
        items.push((joiner, pipeline(line, part, depth)?));
        joiner = next;
        start = i + 1;
    }
    let rest = &tokens[start..];
    if rest.is_empty() {
        if joiner != Joiner::Then {
            return Err(CommandError::ShellSyntax {
                found: if joiner == Joiner::And { "&&" } else { "||" }.into(),
                why: "it needs a command after it".into(),
            });
        }
    } else {
        items.push((joiner, pipeline(line, rest, depth)?));
    }
    if items.is_empty() {
        return Err(CommandError::Empty);
    }
    Ok(Script { items })
}

/// One pipeline of the list: stages split at `|`.
fn pipeline(line: &str, tokens: &[Token], depth: usize) -> Result<Pipeline, CommandError> {
    let mut stages = Vec::new();
    let mut timed = false;
    for (index, part) in tokens
        .split(|t| t.kind == TokenKind::Op(Operator::Pipe))
        .enumerate()
    {
        let (mut words, routing) = stage_parts(line, part)?;
        // `NAME=value COMMAND`: variables in the command's own environment.
        let assigned = words
            .iter()
            .take_while(|w| w.split_once('=').is_some_and(|(n, _)| is_name(n)))
            .count();
        let env: Vec<(String, String)> = words
            .drain(..assigned)
            .filter_map(|w| {
                w.split_once('=')
                    .map(|(n, v)| (n.to_string(), v.to_string()))
            })
            .collect();
        // `time PIPELINE` (the shell's keyword, or the `time` program before one command).
        if index == 0 && words.first().is_some_and(|w| w == "time") {
            timed = true;
            words.remove(0);
            if words.first().is_some_and(|w| w.starts_with('-')) {
                return Err(CommandError::Usage {
                    program: "time",
                    message: "time's options are not supported; write `time COMMAND`".into(),
                });
            }
        }
        let Some(program) = words.first() else {
            if let Some((name, value)) = env.first() {
                return Err(CommandError::ShellSyntax {
                    found: format!("{name}={value}"),
                    why:
                        "an assignment on its own sets a shell variable, which the bench does not \
                          keep between commands; put it before the command it is for \
                          (`HTTPS_PROXY=… curl …`)"
                            .into(),
                });
            }
            return Err(CommandError::ShellSyntax {
                found: "|".into(),
                why: "a pipe needs a command on each side".into(),
            });
        };
        let name = base_name(program);
        if let Some((var, value)) = env.first().filter(|_| name != "curl") {
            return Err(CommandError::ShellSyntax {
                found: format!("{var}={value} {program}"),
                why: "of a command's own environment the bench replays only curl's proxy \
                      variables (`HTTPS_PROXY=… curl …`)"
                    .into(),
            });
        }
        let program = if name == "curl" || SHELLS.contains(&name) {
            if index > 0 {
                return Err(CommandError::UnknownProgram {
                    program: program.clone(),
                    position: "after a pipe",
                    supported: super::filter::SUPPORTED,
                });
            }
            if name == "curl" {
                let options = CurlOptions::parse_in(&words[1..], &env)?;
                let request = build_request(&options)?;
                Program::Curl(Box::new(Curl { options, request }))
            } else {
                Program::Shell(parse_nested(
                    &shell_script(program, &words[1..])?,
                    None,
                    depth + 1,
                )?)
            }
        } else if let Some(builtin) = Builtin::parse(&words).filter(|_| index == 0) {
            Program::Builtin(builtin?)
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
    Ok(Pipeline { stages, timed })
}

/// The filters after a local command's output (`istioctl … | grep x | head -3`): every part
/// of `tokens` split at `|` must be a filter.
pub(crate) fn filter_stages(line: &str, tokens: &[Token]) -> Result<Vec<Stage>, CommandError> {
    tokens
        .split(|t| t.kind == TokenKind::Op(Operator::Pipe))
        .map(|part| {
            let (words, routing) = stage_parts(line, part)?;
            if words.is_empty() {
                return Err(CommandError::ShellSyntax {
                    found: "|".into(),
                    why: "a pipe needs a command on each side".into(),
                });
            }
            Ok(Stage {
                program: Program::Filter(Filter::parse(&words)?),
                routing,
            })
        })
        .collect()
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
        Operator::AndIf | Operator::OrIf | Operator::Separator => "it is not expected here",
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

    fn parsed(line: &str) -> Script {
        parse(line, &Env::default()).unwrap()
    }

    /// The only pipeline of a one-pipeline line.
    fn only(line: &str) -> Pipeline {
        let s = parsed(line);
        assert_eq!(s.items.len(), 1, "{s:?}");
        s.items[0].1.clone()
    }

    fn err(line: &str) -> String {
        parse(line, &Env::default()).unwrap_err().to_string()
    }

    fn routing(stdout: Sink, stderr: Sink) -> Routing {
        Routing { stdout, stderr }
    }

    #[test]
    fn a_bare_curl() {
        let p = only(r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#);
        let [Stage {
            program: Program::Curl(curl),
            routing,
        }] = p.stages.as_slice()
        else {
            panic!("one curl expected: {p:?}");
        };
        assert_eq!(*routing, Routing::default());
        assert!(curl.options.silent && curl.options.discard_body);
        assert_eq!(curl.request.url(), "http://www.httpbin.org/");
    }

    #[test]
    fn a_proxy_variable_before_curl_is_its_environment() {
        let p = only(
            r#"sh -c "HTTPS_PROXY=10.244.3.7:3128 curl https://en.wikipedia.org/wiki/Main_Page" | grep -o "<title>.*</title>""#,
        );
        let request = &p.curls()[0].request;
        assert_eq!(request.url(), "https://en.wikipedia.org/wiki/Main_Page");
        let proxy = request.proxy.as_ref().expect("through the proxy");
        assert_eq!((proxy.host.as_str(), proxy.port), ("10.244.3.7", 3128));
        let direct = only("curl https://en.wikipedia.org/");
        assert!(direct.curls()[0].request.proxy.is_none());
        assert!(err("HTTPS_PROXY=p:1").contains("put it before the command"));
        assert!(err("FOO=1 echo hi").contains("only curl's proxy variables"));
        assert!(err("LANG=C curl http://a").contains("`LANG=C`"));
    }

    #[test]
    fn sh_c_with_a_pipe() {
        let p = only(r#"sh -c "curl -s http://httpbin.org/anything | grep url""#);
        assert_eq!(p.curls()[0].request.url(), "http://httpbin.org/anything");
        let [stage] = p.stages.as_slice() else {
            panic!("one stage expected: {p:?}");
        };
        let Program::Shell(inner) = &stage.program else {
            panic!("a shell expected: {p:?}");
        };
        let inner = &inner.items[0].1;
        assert_eq!(inner.stages.len(), 2);
        assert!(matches!(
            inner.stages[1].program,
            Program::Filter(Filter::Grep(_))
        ));
        let p = only("bash -c 'curl http://a' x y | /usr/bin/head -1");
        assert_eq!(p.stages.len(), 2);
    }

    #[test]
    fn redirections_apply_left_to_right() {
        let first = |line: &str| only(line).stages[0].routing;
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
        let p = only("curl -sS http://a | grep x >/dev/null");
        assert_eq!(p.stages[1].routing, routing(Sink::Null, Sink::Stderr));
    }

    #[test]
    fn time_marks_its_pipeline() {
        let p = only("time curl -s http://a | grep x");
        assert!(p.timed);
        assert_eq!(p.stages.len(), 2);
        assert!(!only("curl -s http://a").timed);
        assert!(err("time -p curl http://a").contains("time's options"));
    }

    #[test]
    fn lists_join_pipelines() {
        let s = parsed("curl http://a; curl http://b && curl http://c || curl http://d;");
        let joiners: Vec<Joiner> = s.items.iter().map(|(j, _)| *j).collect();
        assert_eq!(
            joiners,
            [Joiner::Then, Joiner::Then, Joiner::And, Joiner::Or]
        );
        let s = parsed("curl http://a &&\n\n  curl http://b\ncurl http://c\n");
        let joiners: Vec<Joiner> = s.items.iter().map(|(j, _)| *j).collect();
        assert_eq!(joiners, [Joiner::Then, Joiner::And, Joiner::Then]);
        assert_eq!(s.curls().len(), 3);
    }

    #[test]
    fn unsupported_shell_syntax_is_explained() {
        assert!(err("curl http://a; wget http://b").contains("`wget`"));
        assert!(err("; curl http://a").contains("needs a command before it"));
        assert!(err("curl http://a && && curl http://b").contains("before it"));
        assert!(err("curl http://a ||").contains("needs a command after it"));
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
        let e = err(r#"sh -c "nslookup a""#);
        assert!(e.contains("`nslookup`"), "{e}");
        let e = err("curl http://a | echo x");
        assert!(e.contains("`echo`") && e.contains("after a pipe"), "{e}");
        assert_eq!(parse("   ", &Env::default()), Err(CommandError::Empty));
        assert_eq!(
            parse("# only a comment", &Env::default()),
            Err(CommandError::Empty)
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let wrap = |s: String| format!("sh -c '{}'", s.replace('\'', r"'\''"));
        let mut line = "curl http://a".to_string();
        for _ in 0..MAX_NESTING {
            line = wrap(line);
        }
        assert!(parse(&line, &Env::default()).is_ok(), "{line}");
        let e = err(&wrap(line));
        assert!(e.contains("nest"), "{e}");
    }
}

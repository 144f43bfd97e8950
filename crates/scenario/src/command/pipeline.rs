//! A pipeline as data, and running it.
//!
//! Owns: `Pipeline` (stages joined by `|`), each `Stage`'s program (a curl, a builtin such as
//! `echo`, a nested `sh -c` script, or a filter) and `Routing` (where its stdout and stderr go after redirections such
//! as `2>&1` or `>/dev/null`), and running stages in order the way `sh` without `pipefail` does:
//! each stage reads the previous one's stdout, stderr goes to the terminal unless redirected, the
//! exit code is the last stage's. Leaves out: reading the pipeline from text (`shell`), lists of
//! pipelines (`script`) and what curl prints (`transfer`, `output`).

use super::builtin::Builtin;
use super::filter::Filter;
use super::script::Script;
use super::streams::{Emitted, Stream};
#[cfg(test)]
use super::transfer::Received;
use super::transfer::{Aborted, Curl, Network};

/// Where one of a stage's output streams ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// The stage's standard output: the next stage's input, or the command's stdout if last.
    Stdout,
    /// The command's stderr.
    Stderr,
    /// `/dev/null`.
    Null,
}

/// Where a stage's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routing {
    pub stdout: Sink,
    pub stderr: Sink,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            stdout: Sink::Stdout,
            stderr: Sink::Stderr,
        }
    }
}

/// What a stage runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Program {
    Curl(Box<Curl>),
    /// `echo`, `true`, `false`, `sleep`.
    Builtin(Builtin),
    /// What a command run outside the pod printed (istioctl's table), fed to the filters after it.
    Printed(String),
    /// `sh -c "…"`: a script of its own.
    Shell(Script),
    Filter(Filter),
}

/// One stage of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub program: Program,
    pub routing: Routing,
}

/// Stages joined by `|`; the first one is a curl, a builtin or a shell.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub stages: Vec<Stage>,
    /// `time PIPELINE`: how long it ran is printed on stderr when it ends.
    pub timed: bool,
}

impl Pipeline {
    /// Every curl's first request, in order (nested shells included).
    pub fn curls(&self) -> Vec<&Curl> {
        self.stages
            .iter()
            .flat_map(|s| match &s.program {
                Program::Curl(c) => vec![&**c],
                Program::Shell(inner) => inner.curls(),
                Program::Filter(_) | Program::Builtin(_) | Program::Printed(_) => Vec::new(),
            })
            .collect()
    }

    /// Every curl, mutable, in order.
    pub(crate) fn curls_mut(&mut self) -> Vec<&mut Curl> {
        self.stages
            .iter_mut()
            .flat_map(|s| match &mut s.program {
                Program::Curl(c) => vec![&mut **c],
                Program::Shell(inner) => inner.curls_mut(),
                Program::Filter(_) | Program::Builtin(_) | Program::Printed(_) => Vec::new(),
            })
            .collect()
    }

    /// What the pipeline prints and returns, its curls sending over `net`.
    pub fn run(&self, net: &mut dyn Network) -> Result<Emitted, Aborted> {
        let mut out = Emitted::default();
        let mut input = String::new();
        let last = self.stages.len().saturating_sub(1);
        for (i, stage) in self.stages.iter().enumerate() {
            let produced = match &stage.program {
                Program::Curl(curl) => curl.run(net)?,
                Program::Shell(inner) => inner.run(net)?,
                Program::Builtin(b) => b.run(),
                Program::Printed(text) => {
                    let mut e = Emitted::default();
                    e.write(Stream::Stdout, text);
                    e
                }
                Program::Filter(f) => {
                    let (text, exit_code) = f.run(&input);
                    let mut e = Emitted {
                        exit_code,
                        ..Emitted::default()
                    };
                    e.write(Stream::Stdout, text);
                    e
                }
            };
            let mut next = String::new();
            for (stream, text) in &produced.chunks {
                let sink = match stream {
                    Stream::Stdout => stage.routing.stdout,
                    Stream::Stderr => stage.routing.stderr,
                };
                match sink {
                    Sink::Stdout if i == last => out.write(Stream::Stdout, text),
                    Sink::Stdout => next.push_str(text),
                    Sink::Stderr => out.write(Stream::Stderr, text),
                    Sink::Null => {}
                }
            }
            input = next;
            out.exit_code = produced.exit_code;
            out.elapsed_ms += produced.elapsed_ms;
        }
        if self.timed {
            // The shell's `time` (and busybox's): on stderr, after the pipeline's own output.
            let ms = out.elapsed_ms;
            out.write(
                Stream::Stderr,
                format!(
                    "real\t{}m{}.{:03}s\nuser\t0m0.000s\nsys\t0m0.000s\n",
                    ms / 60_000,
                    ms % 60_000 / 1000,
                    ms % 1000
                ),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::curl::CurlOptions;
    use crate::command::headers::build_request;
    use crate::command::words::split_words;
    use egressbench_model::outcome::{ClientResult, ConnectionError, HttpResponse};
    use egressbench_model::request::ClientRequest;

    /// Answers every request with `body`, or resets it when `body` is `None`.
    struct Fixed(Option<&'static str>);

    impl Network for Fixed {
        fn send(&mut self, _: &ClientRequest) -> Result<Received, Aborted> {
            Ok(Received::at_once(match self.0 {
                Some(body) => ClientResult::Response(HttpResponse::new(200, "text/plain", body)),
                None => ClientResult::ConnectionFailed {
                    error: ConnectionError::Reset,
                    during_tls: false,
                },
            }))
        }
    }

    fn curl(line: &str, routing: Routing) -> Stage {
        let options = CurlOptions::parse(&split_words(line).unwrap()[1..]).unwrap();
        let request = build_request(&options).unwrap();
        Stage {
            program: Program::Curl(Box::new(Curl { options, request })),
            routing,
        }
    }

    fn grep(pattern: &str) -> Stage {
        let words = ["grep".to_string(), pattern.to_string()];
        Stage {
            program: Program::Filter(Filter::parse(&words).unwrap()),
            routing: Routing::default(),
        }
    }

    fn run(stages: Vec<Stage>, net: Option<&'static str>) -> Emitted {
        Pipeline {
            stages,
            timed: false,
        }
        .run(&mut Fixed(net))
        .unwrap()
    }

    const RESET: &str = "curl: (56) Recv failure: Connection reset by peer\n";

    #[test]
    fn curl_alone_passes_through() {
        let out = run(vec![curl("curl -sS http://a", Routing::default())], None);
        assert_eq!(out.text(Stream::Stderr), RESET);
        assert_eq!(out.exit_code, 56);
    }

    #[test]
    fn exit_code_is_the_last_stages() {
        let out = run(
            vec![curl("curl -sS http://a", Routing::default()), grep("body")],
            None,
        );
        assert_eq!(out.text(Stream::Stdout), "");
        assert_eq!(out.text(Stream::Stderr), RESET);
        assert_eq!(out.exit_code, 1);
        let out = run(
            vec![curl("curl -sS http://a", Routing::default()), grep("body")],
            Some("body\n"),
        );
        assert_eq!(
            (out.text(Stream::Stdout).as_str(), out.exit_code),
            ("body\n", 0)
        );
    }

    #[test]
    fn stderr_merged_into_the_pipe() {
        let merged = Routing {
            stdout: Sink::Stdout,
            stderr: Sink::Stdout,
        };
        let out = run(vec![curl("curl -sS http://a", merged), grep("curl:")], None);
        assert_eq!(out.text(Stream::Stdout), RESET);
        assert_eq!(out.text(Stream::Stderr), "");
    }

    #[test]
    fn null_sinks_drop_output() {
        let quiet = Routing {
            stdout: Sink::Null,
            stderr: Sink::Null,
        };
        let out = run(vec![curl("curl -sS http://a", quiet)], None);
        assert_eq!(out.chunks, []);
        assert_eq!(out.exit_code, 56);
    }

    #[test]
    fn nested_shells_route_their_whole_output() {
        let inner = Script::single(Pipeline {
            stages: vec![curl("curl -sS http://a", Routing::default())],
            timed: false,
        });
        let merged = Routing {
            stdout: Sink::Stdout,
            stderr: Sink::Stdout,
        };
        let out = run(
            vec![
                Stage {
                    program: Program::Shell(inner),
                    routing: merged,
                },
                grep("reset"),
            ],
            None,
        );
        assert_eq!(out.text(Stream::Stdout), RESET);
    }
}

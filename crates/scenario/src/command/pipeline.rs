//! A pipeline as data, and running it on what curl printed.
//!
//! Owns: `Pipeline` (stages joined by `|`), each `Stage`'s program (curl, a nested `sh -c`
//! pipeline, or a filter) and `Routing` (where its stdout and stderr go after redirections such
//! as `2>&1` or `>/dev/null`), and running stages in order the way `sh` without `pipefail` does:
//! each stage reads the previous one's stdout, stderr goes to the terminal unless redirected, the
//! exit code is the last stage's. Leaves out: reading the pipeline from text (`shell`) and what
//! curl prints (`output`).

use super::filter::Filter;
use super::streams::{Emitted, Stream};

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
    /// The command's curl (its options live on the `ExecCommand`).
    Curl,
    /// `sh -c "…"`: a pipeline of its own, containing the curl.
    Shell(Pipeline),
    Filter(Filter),
}

/// One stage of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub program: Program,
    pub routing: Routing,
}

/// Stages joined by `|`; the first one is curl or a shell running it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// A pipeline that is just curl.
    pub fn curl_only() -> Pipeline {
        Pipeline {
            stages: vec![Stage {
                program: Program::Curl,
                routing: Routing::default(),
            }],
        }
    }

    /// What the pipeline prints and returns, given what its curl printed.
    pub fn run(&self, curl: &Emitted) -> Emitted {
        let mut out = Emitted::default();
        let mut input = String::new();
        let last = self.stages.len().saturating_sub(1);
        for (i, stage) in self.stages.iter().enumerate() {
            let produced = match &stage.program {
                Program::Curl => curl.clone(),
                Program::Shell(inner) => inner.run(curl),
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
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curl_printed() -> Emitted {
        let mut e = Emitted {
            exit_code: 56,
            ..Emitted::default()
        };
        e.write(Stream::Stderr, "* info\n");
        e.write(Stream::Stdout, "body\n");
        e.write(Stream::Stderr, "curl: (56) Recv failure\n");
        e
    }

    fn grep(pattern: &str) -> Stage {
        let words = ["grep".to_string(), pattern.to_string()];
        Stage {
            program: Program::Filter(Filter::parse(&words).unwrap()),
            routing: Routing::default(),
        }
    }

    fn curl(routing: Routing) -> Stage {
        Stage {
            program: Program::Curl,
            routing,
        }
    }

    #[test]
    fn curl_alone_passes_through() {
        let out = Pipeline::curl_only().run(&curl_printed());
        assert_eq!(out, curl_printed());
    }

    #[test]
    fn exit_code_is_the_last_stages() {
        let p = Pipeline {
            stages: vec![curl(Routing::default()), grep("body")],
        };
        let out = p.run(&curl_printed());
        assert_eq!(out.text(Stream::Stdout), "body\n");
        assert_eq!(
            out.text(Stream::Stderr),
            "* info\ncurl: (56) Recv failure\n"
        );
        assert_eq!(out.exit_code, 0);
    }

    #[test]
    fn stderr_merged_into_the_pipe() {
        let merged = Routing {
            stdout: Sink::Stdout,
            stderr: Sink::Stdout,
        };
        let p = Pipeline {
            stages: vec![curl(merged), grep("curl:")],
        };
        let out = p.run(&curl_printed());
        assert_eq!(out.text(Stream::Stdout), "curl: (56) Recv failure\n");
        assert_eq!(out.text(Stream::Stderr), "");
    }

    #[test]
    fn null_sinks_drop_output() {
        let quiet = Routing {
            stdout: Sink::Null,
            stderr: Sink::Null,
        };
        let out = Pipeline {
            stages: vec![curl(quiet)],
        }
        .run(&curl_printed());
        assert_eq!(out.chunks, []);
        assert_eq!(out.exit_code, 56);
    }

    #[test]
    fn nested_shells_route_their_whole_output() {
        let inner = Pipeline::curl_only();
        let merged = Routing {
            stdout: Sink::Stdout,
            stderr: Sink::Stdout,
        };
        let p = Pipeline {
            stages: vec![
                Stage {
                    program: Program::Shell(inner),
                    routing: merged,
                },
                grep("i"),
            ],
        };
        let out = p.run(&curl_printed());
        assert_eq!(
            out.text(Stream::Stdout),
            "* info\ncurl: (56) Recv failure\n"
        );
    }
}

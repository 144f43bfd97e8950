//! A list of pipelines joined by `;`, `&&` and `||`, as `sh` runs one.
//!
//! Owns: `Script` and `Joiner`, and running a list: `;` always runs the next pipeline, `&&` only
//! after an exit code 0, `||` only after a non-zero one; a pipeline skipped leaves the last exit
//! code as it was (so `a && b || c` runs `c` when `a` fails), and the script's exit code is the
//! last one run. Every pipeline's output is kept, in order. Leaves out: reading the list from text
//! (`shell`) and running one pipeline (`pipeline`).

use super::pipeline::Pipeline;
use super::streams::Emitted;
use super::transfer::{Aborted, Curl, Network};

/// How a pipeline is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joiner {
    /// The first pipeline, or one after `;` (or a newline): it always runs.
    Then,
    /// After `&&`: it runs when the previous exit code is 0.
    And,
    /// After `||`: it runs when the previous exit code is not 0.
    Or,
}

/// Pipelines joined by `;`, `&&` and `||`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub items: Vec<(Joiner, Pipeline)>,
}

impl Script {
    /// A script of one pipeline.
    pub fn single(pipeline: Pipeline) -> Script {
        Script {
            items: vec![(Joiner::Then, pipeline)],
        }
    }

    /// Every curl, in order (a curl a `&&` or `||` might skip included).
    pub fn curls(&self) -> Vec<&Curl> {
        self.items.iter().flat_map(|(_, p)| p.curls()).collect()
    }

    /// Every curl, mutable, in order.
    pub(crate) fn curls_mut(&mut self) -> Vec<&mut Curl> {
        self.items
            .iter_mut()
            .flat_map(|(_, p)| p.curls_mut())
            .collect()
    }

    /// What the script prints and returns, its curls sending over `net`.
    pub fn run(&self, net: &mut dyn Network) -> Result<Emitted, Aborted> {
        let mut out = Emitted::default();
        for (joiner, pipeline) in &self.items {
            let runs = match joiner {
                Joiner::Then => true,
                Joiner::And => out.exit_code == 0,
                Joiner::Or => out.exit_code != 0,
            };
            if !runs {
                continue;
            }
            let printed = pipeline.run(net)?;
            for (stream, text) in &printed.chunks {
                out.write(*stream, text);
            }
            out.exit_code = printed.exit_code;
            out.elapsed_ms += printed.elapsed_ms;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::env::Env;
    use crate::command::shell::parse;
    use crate::command::streams::Stream;
    use crate::command::transfer::Received;
    use egressbench_model::outcome::{ClientResult, HttpResponse};
    use egressbench_model::request::ClientRequest;

    /// Answers `/status/N` with status N and body `host N`, recording each request.
    struct Statuses(Vec<String>);

    impl Network for Statuses {
        fn send(&mut self, request: &ClientRequest) -> Result<Received, Aborted> {
            self.0.push(request.host.clone());
            let status = request
                .path
                .strip_prefix("/status/")
                .and_then(|s| s.parse().ok())
                .unwrap_or(200);
            let body = format!("{} {status}\n", request.host);
            Ok(Received {
                result: ClientResult::Response(HttpResponse::new(status, "text/plain", body)),
                elapsed_ms: 1500,
                remote: None,
            })
        }
    }

    fn run(line: &str) -> (String, i32, Vec<String>) {
        let script = parse(line, &Env::default()).unwrap();
        let mut net = Statuses(Vec::new());
        let out = script.run(&mut net).unwrap();
        (out.text(Stream::Stdout), out.exit_code, net.0)
    }

    #[test]
    fn semicolons_run_everything_in_order() {
        let (out, code, sent) =
            run("curl -s http://a/status/500; curl -sf http://b/status/404 ; curl -s http://c/");
        assert_eq!(out, "a 500\nc 200\n");
        assert_eq!(code, 0);
        assert_eq!(sent, ["a", "b", "c"]);
    }

    #[test]
    fn and_or_follow_the_exit_code() {
        let (out, code, sent) =
            run("curl -sf http://a/status/503 && curl -s http://b/ || curl -s http://c/");
        assert_eq!((out.as_str(), code), ("c 200\n", 0));
        assert_eq!(sent, ["a", "c"]);
        let (_, code, sent) = run("curl -sf http://a/ || curl -s http://b/");
        assert_eq!((code, sent), (0, vec!["a".to_string()]));
        let (_, code, _) = run("curl -sf http://a/ && curl -sf http://b/status/418");
        assert_eq!(code, 22);
    }

    #[test]
    fn time_prints_what_its_pipeline_took() {
        let script = parse(
            "time curl -s -o /dev/null http://a/; time curl -s http://b/ http://c/ 2>&1",
            &Env::default(),
        );
        assert!(script.is_err(), "two URLs are refused");
        let script = parse(
            "time curl -s -o /dev/null http://a/ && curl -s -o /dev/null http://b/",
            &Env::default(),
        )
        .unwrap();
        let out = script.run(&mut Statuses(Vec::new())).unwrap();
        assert_eq!(
            out.text(Stream::Stderr),
            "real\t0m1.500s\nuser\t0m0.000s\nsys\t0m0.000s\n"
        );
        assert_eq!(out.elapsed_ms, 3000);
    }

    #[test]
    fn a_list_inside_sh_c_is_one_stage() {
        let (out, code, sent) =
            run(r#"sh -c "curl -s http://a/; curl -s http://b/" | grep -c 200"#);
        assert_eq!((out.as_str(), code), ("2\n", 0));
        assert_eq!(sent, ["a", "b"]);
    }
}

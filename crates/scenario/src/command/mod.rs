//! The command lines scenarios run: a curl (optionally inside `sh -c` and piped through filters)
//! and `kubectl`.
//!
//! Owns: the public face of the module — `ExecCommand` with `parse_exec` (a command line into the
//! request it sends and the pipeline around it), `run` (what that command prints and returns for
//! the result its request got), `KubectlCommand` with `parse_kubectl`, `ProcessOutput` and
//! `CommandError`. Leaves out: deciding what happens to the request (`decide`, targets) and the
//! scenario runner. Each step lives in its own file: `words` (shell word splitting), `shell` and
//! `pipeline` (pipes and redirections), `curl`, `url`, `dial`, `headers`, `writeout` (curl's options and
//! request), `output`, `verbose`, `status` (what curl prints), `filter`, `grep`, `pattern`, `lines`,
//! `cut` (the filters), `kubectl`, `streams`, `error`.

pub(crate) mod curl;
pub(crate) mod cut;
pub(crate) mod dial;
pub(crate) mod error;
pub(crate) mod filter;
pub(crate) mod grep;
pub(crate) mod headers;
pub(crate) mod kubectl;
pub(crate) mod lines;
pub(crate) mod output;
pub(crate) mod pattern;
pub(crate) mod pipeline;
pub(crate) mod shell;
pub(crate) mod status;
pub(crate) mod streams;
pub(crate) mod url;
pub(crate) mod verbose;
pub(crate) mod words;
pub(crate) mod writeout;

pub use curl::CurlOptions;
pub use error::CommandError;
pub use kubectl::{parse_kubectl, KubectlCommand};
pub use pipeline::Pipeline;

use egressbench_model::outcome::ClientResult;
use egressbench_model::request::ClientRequest;
use streams::Stream;

/// What a process printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ProcessOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// A command run inside a workload: one curl, optionally piped through filters (`| grep url`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecCommand {
    /// The request the curl sends (boxed to keep `KubectlCommand` compact).
    pub request: Box<ClientRequest>,
    /// The command line as written.
    pub text: String,
    /// The curl's options, which decide what it prints (and `follow_redirects`, which the caller
    /// honours by handing `run` the last response). Boxed to keep `KubectlCommand` compact.
    pub curl: Box<CurlOptions>,
    /// The pipeline around the curl.
    pub pipeline: Pipeline,
}

/// Read a command line: a curl, optionally wrapped as `sh -c "…"` and piped through filters.
pub fn parse_exec(line: &str) -> Result<ExecCommand, CommandError> {
    let parsed = shell::parse(line)?;
    let curl = Box::new(CurlOptions::parse(&parsed.curl_args)?);
    let request = Box::new(headers::build_request(&curl)?);
    Ok(ExecCommand {
        request,
        text: line.trim().to_string(),
        curl,
        pipeline: parsed.pipeline,
    })
}

/// What the command prints and returns, given what its request got back.
pub fn run(cmd: &ExecCommand, result: &ClientResult) -> ProcessOutput {
    let printed = output::curl_output(&cmd.curl, &cmd.request, result);
    let out = cmd.pipeline.run(&printed);
    ProcessOutput {
        stdout: out.text(Stream::Stdout),
        stderr: out.text(Stream::Stderr),
        exit_code: out.exit_code,
    }
}

#[cfg(test)]
mod run_tests;

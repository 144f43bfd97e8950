//! The command lines scenarios run: curls (in lists, pipelines and `sh -c`), and `kubectl`.
//!
//! Owns: the public face of the module — `ExecCommand` with `parse_exec` (a command line into the
//! script it runs), `run` (what the script prints and returns, its requests sent over a
//! `Network`), `KubectlCommand` with `parse_kubectl`, `ProcessOutput` and `CommandError`. Leaves
//! out: deciding what happens to a request (`decide`, targets) and the scenario runner. Each step
//! lives in its own file: `words` (shell word splitting), `shell`, `script` and `pipeline` (lists,
//! pipes and redirections), `builtin` (`echo`, `true`, `false`, `sleep`), `curl`, `url`, `dial`, `headers`, `writeout` (curl's options and
//! request), `transfer` and `redirect` (a curl run, `-L` followed), `output`, `verbose`, `status`
//! (what curl prints), `filter`, `grep`, `pattern`, `lines`, `cut` (the filters), `kubectl`,
//! `istioctl`, `proxy_log` (a forward proxy's access log read in its pod), `admin` (a proxy's
//! admin pages read in its pod), `create` (`kubectl create namespace|secret|configmap`),
//! `workstation` (`openssl` and `cat <<EOF` lines that make files),
//! `env`, `export` and `lookup` (variables and pod lookups), `flags`, `streams`, `error`.

pub(crate) mod admin;
pub(crate) mod builtin;
pub(crate) mod create;
pub(crate) mod curl;
pub(crate) mod cut;
pub(crate) mod dial;
pub(crate) mod env;
pub(crate) mod error;
pub(crate) mod export;
pub(crate) mod filter;
pub(crate) mod flags;
pub(crate) mod grep;
pub(crate) mod headers;
pub(crate) mod here_apply;
pub(crate) mod istioctl;
pub(crate) mod kubectl;
pub(crate) mod lines;
pub(crate) mod lookup;
pub(crate) mod output;
pub(crate) mod pattern;
pub(crate) mod pipeline;
pub(crate) mod proxy_log;
pub(crate) mod redirect;
pub(crate) mod script;
pub(crate) mod shell;
pub(crate) mod status;
pub(crate) mod streams;
pub(crate) mod transfer;
pub(crate) mod url;
pub(crate) mod verbose;
pub(crate) mod words;
pub(crate) mod workstation;
pub(crate) mod writeout;

pub use admin::{AdminClient, AdminRead, ADMIN_PORT};
pub use create::{CreateCommand, Entry, SecretSource};
pub use curl::CurlOptions;
pub use env::{is_name, Env, Lookup, PodLookup, ServiceField, ServiceLookup};
pub use error::CommandError;
pub use export::Export;
pub use istioctl::{ConfigView, IstioctlCommand};
pub use kubectl::{line_kind, parse_kubectl, KubectlCommand, LineKind, PodField, PodTarget};
pub use pipeline::{Pipeline, Program, Routing, Stage};
pub use proxy_log::ProxyLogRead;
pub use script::{Joiner, Script};
pub use transfer::{Aborted, Curl, Network, Received};
pub use workstation::{Workstation, WorkstationCommand, WorkstationError};

use egressbench_model::request::ClientRequest;
use streams::Stream;

/// What a process printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ProcessOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// How long it ran, in simulated milliseconds.
    pub elapsed_ms: u64,
}

/// A command run inside a workload: curls, in pipelines through filters (`| grep url`), joined
/// by `;`, `&&` and `||`, optionally inside `sh -c`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecCommand {
    /// The command line as written.
    pub text: String,
    pub script: Script,
}

impl ExecCommand {
    /// The first request of every curl in the command, in order (redirects `-L` will follow
    /// are not known before the responses come).
    pub fn requests(&self) -> Vec<&ClientRequest> {
        self.script
            .curls()
            .into_iter()
            .map(|c| &c.request)
            .collect()
    }

    /// The command runs in the sidecar's own container (`kubectl exec -c istio-proxy`): its
    /// requests are not captured by the sidecar.
    pub fn run_in_proxy_container(&mut self) {
        for curl in self.script.curls_mut() {
            curl.request.from_proxy_container = true;
        }
    }

    /// Every name the command's curls connect to first: the URLs' hosts and the pinned ones.
    pub fn hosts(&self) -> Vec<&str> {
        self.requests()
            .into_iter()
            .flat_map(|r| [r.host.as_str(), r.dial_host()])
            .collect()
    }

    /// The request of the command's first curl (every command has one).
    pub fn first_request(&self) -> Option<&ClientRequest> {
        self.requests().into_iter().next()
    }
}

/// Read a command line in `env`: curls, optionally wrapped as `sh -c "…"`, piped through
/// filters, joined by `;`, `&&`, `||`.
pub fn parse_exec(line: &str, env: &Env) -> Result<ExecCommand, CommandError> {
    let script = shell::parse(line, env)?;
    if script.curls().is_empty() {
        return Err(CommandError::NoCurl {
            line: line.trim().to_string(),
        });
    }
    Ok(ExecCommand {
        text: line.trim().to_string(),
        script,
    })
}

/// What the command prints and returns, its requests sent over `net`.
pub fn run(cmd: &ExecCommand, net: &mut dyn Network) -> Result<ProcessOutput, Aborted> {
    let out = cmd.script.run(net)?;
    Ok(ProcessOutput {
        stdout: out.text(Stream::Stdout),
        stderr: out.text(Stream::Stderr),
        exit_code: out.exit_code,
        elapsed_ms: out.elapsed_ms,
    })
}

#[cfg(test)]
mod run_tests;

//! The command lines scenarios run. (API placeholder.)

use crate::outcome::ClientResult;
use crate::request::{ClientRequest, WorkloadRef};
use crate::resources::Kind;

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
    pub request: ClientRequest,
    pub text: String,
}

/// A `kubectl` command line as the documents write it.
#[derive(Debug, Clone, PartialEq)]
pub enum KubectlCommand {
    Apply { files: Vec<String> },
    Delete { kind: Kind, namespace: String, names: Vec<String> },
    DeleteFiles { files: Vec<String> },
    Exec { workload: WorkloadRef, command: ExecCommand },
    Logs { workload: WorkloadRef, container: Option<String>, tail: Option<usize> },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub message: String,
}

pub fn parse_exec(line: &str) -> Result<ExecCommand, CommandError> {
    Err(CommandError { message: format!("not parsed yet: {line}") })
}

pub fn parse_kubectl(line: &str) -> Result<KubectlCommand, CommandError> {
    Err(CommandError { message: format!("not parsed yet: {line}") })
}

/// What the command prints and returns, given what its request got back.
pub fn run(cmd: &ExecCommand, result: &ClientResult) -> ProcessOutput {
    let _ = (cmd, result);
    ProcessOutput::default()
}

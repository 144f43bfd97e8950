//! The `egressbench` command line: arguments in (clap), a library call, text and an exit code out.
//! Like ripgrep's, the binary is a thin layer: every decision lives in the library.
//!
//! Owns: the argument grammar, where output goes, and the exit codes — 0 all passed, 1 a scenario
//! failed, 2 bad input (a file that does not load, a target that is not available). Leaves out:
//! loading, running and rendering (`scenario`, `report`, `compile`, `manifest`).

mod check;
mod compile;
mod envoy_config;
mod explain;
mod run;
mod shell;
mod table;
mod targets;

use clap::{Parser, Subcommand, ValueEnum};
use egressbench_text::{Diagnostic, Plain};
use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

/// Conformance and test bench for service-mesh egress policy (Istio / Alibaba Cloud ASM).
#[derive(Debug, Parser)]
#[command(name = "egressbench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay scenario files against a target and report which expectations hold.
    Run(run::RunArgs),
    /// Compile every ASMEgressTrafficPolicy in the manifests into native Istio YAML.
    Compile(compile::CompileArgs),
    /// Send one request from a workload through the model and explain what happens to it.
    Explain(explain::ExplainArgs),
    /// Load and compile manifests and report errors only (a CI lint).
    Check(check::CheckArgs),
    /// Print one proxy's config as the Envoy bootstrap it would run with.
    EnvoyConfig(envoy_config::EnvoyConfigArgs),
    /// Every workload × host × protocol × method of each scenario's mesh states, on several
    /// targets (model and sim by default), and where they disagree.
    Table(table::TableArgs),
}

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed.
    Success = 0,
    /// A scenario failed: the target disagrees with an expectation.
    Failed = 1,
    /// The input could not be used as given.
    BadInput = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Where a command writes.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Io")
    }
}

/// The binary's entry point: parse `std::env::args`, run, and exit with the command's code.
pub fn main() -> ExitCode {
    // Ctrl-C and SIGTERM remove the run's temporary folders; the processes it started stop as
    // they see it go.
    egressbench_network::owned::exit_on_signal();
    let stdout = io::stdout();
    let stderr = io::stderr();
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    main_with(
        std::env::args_os(),
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    )
    .into()
}

/// Run the command line `args` (program name first), writing to `io`.
pub fn main_with(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    io: &mut Io<'_>,
) -> Exit {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and succeed; usage errors are bad input.
            let (stream, exit) = if e.use_stderr() {
                (&mut *io.err, Exit::BadInput)
            } else {
                (&mut *io.out, Exit::Success)
            };
            let _ = write!(stream, "{}", e.render());
            return exit;
        }
    };
    let result = match cli.command {
        Command::Run(args) => run::execute(&args, io),
        Command::Compile(args) => compile::execute(&args, io),
        Command::Explain(args) => explain::execute(&args, io),
        Command::Check(args) => check::execute(&args, io),
        Command::Table(args) => table::execute(&args, io),
        Command::EnvoyConfig(args) => envoy_config::execute(&args, io),
    };
    match result {
        Ok(exit) => exit,
        // A closed pipe (`egressbench ... | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            let _ = writeln!(io.err, "error: cannot write the output: {e}");
            Exit::BadInput
        }
    }
}

/// Print a bad-input error, the one place any error becomes text for people: `error:` and the
/// located message, then a `help:` line when the error knows a fix.
pub(crate) fn bad_input(io: &mut Io<'_>, error: &dyn Diagnostic) -> io::Result<Exit> {
    writeln!(io.err, "error: {error}")?;
    if let Some(h) = error.help() {
        writeln!(io.err, "help: {h}")?;
    }
    Ok(Exit::BadInput)
}

/// A bad-input error the command line finds itself: what is wrong, and the fix.
pub(crate) fn usage(message: impl Into<String>, help: impl Into<String>) -> Plain {
    Plain {
        message: message.into(),
        help: Some(help.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> (Exit, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let exit = main_with(
            std::iter::once("egressbench").chain(args.iter().copied()),
            &mut Io {
                out: &mut out,
                err: &mut err,
            },
        );
        (
            exit,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn help_succeeds_and_usage_errors_are_bad_input() {
        let (exit, out, _) = cli(&["--help"]);
        assert_eq!(exit, Exit::Success);
        for sub in ["run", "compile", "explain", "check"] {
            assert!(out.contains(sub), "{out}");
        }
        let (exit, _, err) = cli(&["frobnicate"]);
        assert_eq!(exit, Exit::BadInput);
        assert!(err.contains("frobnicate"), "{err}");
        let (exit, _, err) = cli(&["run", "--output", "xml"]);
        assert_eq!(exit, Exit::BadInput);
        assert!(err.contains("human") && err.contains("json"), "{err}");
    }

    #[test]
    fn the_live_target_is_not_available_yet() {
        let (exit, _, err) = cli(&["run", "--target", "live", "no-such-folder"]);
        assert_eq!(exit, Exit::BadInput);
        assert!(err.contains("target `live` is not available yet"), "{err}");
        assert!(err.contains("help: "), "{err}");
    }

    #[test]
    fn missing_scenario_paths_are_bad_input() {
        let (exit, _, err) = cli(&["run", "no-such-folder-for-egressbench"]);
        assert_eq!(exit, Exit::BadInput);
        assert!(
            err.contains("no-such-folder-for-egressbench: no such file or folder"),
            "{err}"
        );
    }

    #[test]
    fn explain_needs_manifests_a_workload_and_a_command() {
        let (exit, _, err) = cli(&[
            "explain",
            "--from",
            "mytest/sleep-a",
            "--",
            "curl",
            "http://httpbin.org",
        ]);
        assert_eq!(exit, Exit::BadInput);
        assert!(err.contains("--file"), "{err}");
        let (exit, _, err) = cli(&[
            "explain", "--from", "sleep-a", "-f", "x.yaml", "--", "curl", "x",
        ]);
        assert_eq!(exit, Exit::BadInput);
        assert!(err.contains("namespace/deployment"), "{err}");
    }
}

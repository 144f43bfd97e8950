//! `egressbench run`: find scenario files, run each on a fresh target, print the report as the run
//! goes (human) or at the end (JSON), and optionally write JUnit XML.
//!
//! Owns: the run command's arguments and flow. Leaves out: loading and running (`scenario`) and the
//! report text (`report`).

use super::targets::{TargetName, TargetOptions};
use super::{bad_input, usage, Exit, Io, OutputFormat};
use crate::report::{human, json, junit, Summary};
use egressbench_scenario::results::slug_of;
use egressbench_scenario::{discover, run_file, ScenarioReport, Verdict};
use egressbench_text::Plain;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files, or folders of *.yaml scenario files.
    #[arg(value_name = "PATHS", default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Where the scenarios run.
    #[arg(long, value_enum, default_value_t)]
    pub target: TargetName,
    /// How results are printed.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only the scenarios whose file name (without .yaml) contains SUBSTR.
    #[arg(long, value_name = "SUBSTR")]
    pub filter: Option<String>,
    /// With `--target sim` or `--target envoy`: make the requests with the real curl binary
    /// (PATH, default `curl`), pointed at the workload's sidecar with `--connect-to`, instead of
    /// the built-in client (`--curl` or `--curl=/path/to/curl`).
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true, default_missing_value = "curl")]
    pub curl: Option<PathBuf>,
    /// With `--target envoy`: the envoy binary to run (default: $EGRESSBENCH_ENVOY, then
    /// `.venv-envoy` from scripts/install-envoy.sh, then `envoy` on PATH).
    #[arg(long, value_name = "PATH")]
    pub envoy: Option<PathBuf>,
}

pub(super) fn execute(args: &RunArgs, io: &mut Io<'_>) -> io::Result<Exit> {
    // Ask for the target before any work, so an unavailable one is one clear error.
    let options = TargetOptions {
        curl: args.curl.clone(),
        envoy: args.envoy.clone(),
        ..TargetOptions::default()
    };
    if let Err(bad) = args.target.available().and(options.check(args.target)) {
        return bad_input(io, &bad);
    }
    let files = match discover(&args.paths) {
        Ok(files) => files,
        Err(e) => return bad_input(io, &e),
    };
    let total = files.len();
    let selected: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| {
            args.filter
                .as_deref()
                .is_none_or(|sub| slug_of(f).contains(sub))
        })
        .collect();
    let filtered_out = total - selected.len();
    let target = match (args.target, &args.curl) {
        (TargetName::Sim, Some(_)) => "sim-curl",
        (TargetName::Envoy, Some(_)) => "envoy-curl",
        (t, _) => t.as_str(),
    };
    let human = args.output == OutputFormat::Human;
    let started = Instant::now();
    if human {
        write!(io.out, "{}", human::header(selected.len(), target))?;
    }
    let mut reports: Vec<ScenarioReport> = Vec::new();
    for file in &selected {
        let report = run_file(file, target, |scenario| {
            args.target
                .build_with(scenario.internet(), &options.for_scenario(scenario))
        });
        if human {
            write!(io.out, "{}", human::line(&report))?;
        } else if report.verdict == Verdict::BadInput {
            // The JSON document has it too; stderr is where people look.
            bad_input(
                io,
                &Plain {
                    message: report.reason().unwrap_or_default(),
                    help: report.help().map(str::to_string),
                },
            )?;
        }
        reports.push(report);
    }
    let summary = Summary::of(&reports, filtered_out);
    if human {
        write!(
            io.out,
            "{}",
            human::footer(&reports, &summary, started.elapsed())
        )?;
    } else {
        write!(io.out, "{}", json::render(&reports, &summary))?;
    }
    if let Some(path) = &args.junit {
        let written = junit::render(&reports)
            .map_err(|e| e.to_string())
            .and_then(|xml| {
                // The report's folder is created when missing (e.g. `reports/` in a fresh clone).
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
                parent
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(path, xml))
                    .map_err(|e| format!("{}: {e}", path.display()))
            });
        if let Err(message) = written {
            return bad_input(
                io,
                &usage(
                    format!("cannot write the JUnit report: {message}"),
                    "name a writable file for --junit",
                ),
            );
        }
    }
    Ok(match summary.verdict() {
        Verdict::Passed => Exit::Success,
        Verdict::Failed => Exit::Failed,
        Verdict::BadInput => Exit::BadInput,
    })
}

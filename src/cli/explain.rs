//! `egressbench explain`: apply manifests to the model, send one request from a workload (or from
//! the workstation, outside the cluster), and print
//! what the client got, what the command printed, what the proxies logged, and why.
//!
//! Owns: the explain command's arguments and flow. Leaves out: deciding (`target`, `decide`) and
//! the explanation text (`report::render_explanation`).

use super::compile::load;
use super::shell::join;
use super::{bad_input, usage, Exit, Io, OutputFormat};
use crate::report::{explanation_json, render_explanation};
use egressbench_model::external::Internet;
use egressbench_model::outcome::{AccessLogEntry, ClientResult};
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_scenario::command::{self, ProcessOutput};
use egressbench_scenario::target::{ModelTarget, Target, TargetNetwork};
use serde::Serialize;
use std::io;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Where the request is sent from: a workload, as NAMESPACE/DEPLOYMENT, or `workstation`
    /// (outside the cluster, through a load balancer's address).
    #[arg(long, value_name = "NS/WORKLOAD|workstation", value_parser = origin)]
    pub from: Origin,
    /// Manifest files or folders to apply first.
    #[arg(short = 'f', long = "file", value_name = "FILES", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// How the answer is printed.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
    /// The command the workload runs, after `--`: e.g. `curl -s http://httpbin.org/get`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

fn origin(s: &str) -> Result<Origin, String> {
    if s == "workstation" {
        return Ok(Origin::workstation());
    }
    WorkloadRef::parse(s).map(Origin::Pod).ok_or_else(|| {
        format!("expected namespace/deployment (e.g. mytest/sleep-a) or `workstation`, got `{s}`")
    })
}

/// The JSON form of an explanation.
#[derive(Debug, Serialize)]
struct Explained<'a> {
    format: &'static str,
    /// `namespace/deployment`, or `the workstation`.
    from: String,
    command: &'a str,
    request: &'a ClientRequest,
    client_result: &'a ClientResult,
    output: &'a ProcessOutput,
    access_log: &'a [AccessLogEntry],
    explanation: Option<serde_json::Value>,
    /// The requests the command made before the last (redirects `-L` followed, earlier curls of
    /// a `;`/`&&`/`||` list), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    earlier: Vec<Earlier<'a>>,
}

/// A request made before the last one.
#[derive(Debug, Serialize)]
struct Earlier<'a> {
    request: &'a ClientRequest,
    client_result: &'a ClientResult,
    access_log: &'a [AccessLogEntry],
    explanation: Option<serde_json::Value>,
}

pub(super) fn execute(args: &ExplainArgs, io: &mut Io<'_>) -> io::Result<Exit> {
    let line = join(&args.command);
    let cmd = match command::parse_exec(&line, &command::Env::default()) {
        Ok(c) => c,
        Err(e) => {
            return bad_input(
                io,
                &usage(
                    format!("cannot read the command `{line}`: {e}"),
                    "give a curl command line after `--`, as the documents write it",
                ),
            )
        }
    };
    let Some(loaded) = load(&args.files, io)? else {
        return Ok(Exit::BadInput);
    };
    // The user's own public hosts get a generic web site, as in scenarios.
    let mut internet = Internet::builtin();
    egressbench_scenario::add_web_sites(&mut internet, cmd.hosts(), &loaded.resources);
    let mut target = ModelTarget::new(internet);
    if let Err(e) = target.apply(loaded.resources) {
        return bad_input(
            io,
            &usage(
                format!("the model refused the manifests: {e}"),
                "`egressbench check` on the same files shows what is wrong",
            ),
        );
    }
    let mut net = TargetNetwork::new(&mut target, &args.from);
    let output = command::run(&cmd, &mut net);
    let (made, refused) = (net.made, net.refused);
    let (output, Some((request, exchange))) = (output, made.last()) else {
        let why = refused.map_or_else(|| "it made no request".to_string(), |e| e.to_string());
        return bad_input(
            io,
            &usage(
                format!("the model could not run the command: {why}"),
                "name a workload whose Deployment is in the manifests",
            ),
        );
    };
    let Ok(output) = output else {
        return bad_input(
            io,
            &usage(
                "the model could not run the command".to_string(),
                "name a workload whose Deployment is in the manifests",
            ),
        );
    };
    let earlier = &made[..made.len() - 1];
    match args.output {
        OutputFormat::Json => {
            let doc = Explained {
                format: "egressbench.explain/v1",
                from: args.from.to_string(),
                command: &line,
                request,
                client_result: &exchange.result,
                output: &output,
                access_log: &exchange.logs,
                explanation: explanation_json(exchange),
                earlier: earlier
                    .iter()
                    .map(|(request, x)| Earlier {
                        request,
                        client_result: &x.result,
                        access_log: &x.logs,
                        explanation: explanation_json(x),
                    })
                    .collect(),
            };
            let text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
            writeln!(io.out, "{text}")?;
        }
        OutputFormat::Human => {
            let o = &mut *io.out;
            writeln!(o, "client got: {}", exchange.result.short())?;
            writeln!(o, "command output (exit code {}):", output.exit_code)?;
            for (label, text) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
                if !text.is_empty() {
                    writeln!(o, "  {label}:")?;
                    for l in text.lines() {
                        writeln!(o, "    | {l}")?;
                    }
                }
            }
            for (i, (request, exchange)) in made.iter().enumerate() {
                let heading = if made.len() > 1 {
                    format!("explanation of request {} of {}", i + 1, made.len())
                } else {
                    "explanation".to_string()
                };
                match render_explanation(exchange) {
                    Some(text) => {
                        writeln!(o, "{heading}:")?;
                        for l in text.lines() {
                            writeln!(o, "  {l}")?;
                        }
                    }
                    None => {
                        writeln!(o, "{heading}: none (the target gave no trace)")?;
                        let (method, url) = (&request.method, request.url());
                        writeln!(o, "request: {method} {url} from {}", args.from)?;
                        writeln!(o, "access log:")?;
                        for e in &exchange.logs {
                            writeln!(o, "  {}", e.to_json_line())?;
                        }
                    }
                }
            }
        }
    }
    Ok(Exit::Success)
}

//! `egressbench table`: the agreement truth table of scenarios over several targets (default: the
//! model and the simulated mesh), as text or JSON, with exit code 1 when any cell disagrees.
//!
//! Owns: the table command's arguments and flow. Leaves out: building and rendering tables
//! (`crate::table`), loading scenarios (`scenario`) and the targets (`targets`, `target`).

use super::targets::TargetName;
use super::{bad_input, Exit, Io};
use crate::table::{self, render, NotTabled, Table, TargetFactory};
use egressbench_scenario::discover;
use egressbench_scenario::target::TargetError;
use egressbench_text::Plain;
use serde::Serialize;
use std::io;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// Scenario files, or folders of *.yaml scenario files.
    #[arg(value_name = "SCENARIO", default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// A target to compare (repeat for each; default: `--target model --target sim`).
    #[arg(long = "target", value_enum, value_name = "TARGET")]
    pub targets: Vec<TargetName>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Show only the cells (and states) where the targets disagree.
    #[arg(long)]
    pub only_disagreements: bool,
    /// How many scenarios to table at once, each with targets of its own (default: the number of
    /// processors). The Envoy target's cells mostly wait on real time, so it gains from more jobs
    /// than processors.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
}

/// One scenario in the JSON document: its table (filtered when asked) and its full counts.
#[derive(Debug, Serialize)]
struct ScenarioJson {
    #[serde(flatten)]
    table: Table,
    cells: usize,
    counters: usize,
    disagreements: usize,
}

/// A scenario that could not be tabled.
#[derive(Debug, Serialize)]
struct BadJson {
    file: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
}

#[derive(Debug, Serialize)]
struct Document {
    targets: Vec<&'static str>,
    scenarios: Vec<ScenarioJson>,
    bad_input: Vec<BadJson>,
    cells: usize,
    counters: usize,
    disagreements: usize,
}

pub(super) fn execute(args: &TableArgs, io: &mut Io<'_>) -> io::Result<Exit> {
    let names = if args.targets.is_empty() {
        vec![TargetName::Model, TargetName::Sim]
    } else {
        args.targets.clone()
    };
    for name in &names {
        if let Err(bad) = name.available() {
            return bad_input(io, &bad);
        }
    }
    let factories: Vec<TargetFactory> = names.iter().copied().map(factory).collect();
    let files = match discover(&args.paths) {
        Ok(files) => files,
        Err(e) => return bad_input(io, &e),
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    );
    let mut tables: Vec<Table> = Vec::new();
    let mut bad: Vec<BadJson> = Vec::new();
    let mut written = Ok(());
    table::build_many(&files, &factories, jobs, |file, built| {
        if written.is_err() {
            return;
        }
        written = match built {
            Ok(t) => {
                let shown = if args.json {
                    Ok(())
                } else {
                    write!(
                        io.out,
                        "{}",
                        render::render_table(&t, args.only_disagreements)
                    )
                };
                tables.push(t);
                shown
            }
            Err(NotTabled { message, help }) => {
                let shown = bad_input(
                    io,
                    &Plain {
                        message: message.clone(),
                        help: help.clone(),
                    },
                )
                .map(|_| ());
                bad.push(BadJson {
                    file: file.display().to_string(),
                    message,
                    help,
                });
                shown
            }
        };
    });
    written?;
    let cells: usize = tables.iter().map(Table::cells).sum();
    let counters: usize = tables.iter().map(Table::counters).sum();
    let disagreements: usize = tables.iter().map(Table::disagreements).sum();
    let targets: Vec<&'static str> = factories.iter().map(TargetFactory::name).collect();
    let any_bad = !bad.is_empty();
    if args.json {
        let document = Document {
            targets,
            scenarios: tables
                .into_iter()
                .map(|t| json_entry(t, args.only_disagreements))
                .collect(),
            bad_input: bad,
            cells,
            counters,
            disagreements,
        };
        let text = serde_json::to_string_pretty(&document).map_err(io::Error::other)?;
        writeln!(io.out, "{text}")?;
    } else {
        writeln!(
            io.out,
            "{}",
            render::totals_line(cells, counters, disagreements, &targets.join(" vs "))
        )?;
    }
    Ok(if any_bad {
        Exit::BadInput
    } else if disagreements > 0 {
        Exit::Failed
    } else {
        Exit::Success
    })
}

/// A factory for a target the command line named.
fn factory(name: TargetName) -> TargetFactory {
    TargetFactory::new(name.as_str(), move |internet| {
        name.build(internet)
            .map_err(|bad| TargetError::Engine(Box::new(bad)))
    })
}

fn json_entry(mut table: Table, only_disagreements: bool) -> ScenarioJson {
    let (cells, counters, disagreements) = (table.cells(), table.counters(), table.disagreements());
    if only_disagreements {
        table.states.retain(|s| s.disagreements() > 0);
        for state in &mut table.states {
            state.cells.retain(|c| !c.agree);
            state.counters.retain(|c| !c.agree);
        }
    }
    ScenarioJson {
        table,
        cells,
        counters,
        disagreements,
    }
}

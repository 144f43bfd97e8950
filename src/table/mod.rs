//! The agreement truth table: for each mesh state a scenario makes requests in, every application
//! workload × every host of the scenario's outside world × HTTP/HTTPS/TCP × GET/POST, made on
//! every target (the model, the simulated mesh, real Envoy), with a check that the targets
//! agree on each cell — the status (class and exact code) or connection error, the sequence of
//! (proxy, upstream cluster) from the access logs, and what the destinations received. A
//! disagreement is a bug in one of the targets.
//!
//! Owns: `Table`, `StateTable`, `TargetFactory` and `build` (in `build`); many scenarios side by
//! side (`many`); cells and their
//! agreement rule (`cell`), the requests (`probe`), replaying a scenario's changes (`states`),
//! errors (`error`) and the text for people (`render`). Leaves out: loading scenarios
//! (`scenario`), the targets themselves (`target`) and the command line (`cli::table`).

mod build;
pub mod cell;
pub mod counters;
pub mod error;
mod many;
pub mod probe;
pub mod render;
pub mod states;

pub use build::{build, TargetFactory};
pub use cell::{Cell, LoggedHop, Observation, Outcome};
pub use counters::CounterCheck;
pub use error::TableError;
pub use many::{build_many, table_file, NotTabled};
pub use probe::Probe;
pub use states::{ChangeOutcome, ChangeRecord};

use serde::Serialize;

/// The truth table of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The scenario's slug (file stem).
    pub scenario: String,
    pub file: String,
    /// The targets compared, in column order.
    pub targets: Vec<&'static str>,
    /// Every state some step of the scenario makes requests in, in order.
    pub states: Vec<StateTable>,
}

impl Table {
    /// How many cells (requests made on every target).
    pub fn cells(&self) -> usize {
        self.states.iter().map(|s| s.cells.len()).sum()
    }

    /// How many counters were compared, over every proxy of every state.
    pub fn counters(&self) -> usize {
        self.states
            .iter()
            .flat_map(|s| &s.counters)
            .map(CounterCheck::compared)
            .sum()
    }

    /// How many disagreements: cells whose targets disagree, changes one target applied and
    /// another rejected, and proxies whose counters differ.
    pub fn disagreements(&self) -> usize {
        self.states.iter().map(StateTable::disagreements).sum()
    }

    /// The cells whose targets disagree, with their state.
    pub fn disagreeing(&self) -> impl Iterator<Item = (&StateTable, &Cell)> + '_ {
        self.states
            .iter()
            .flat_map(|s| s.cells.iter().filter(|c| !c.agree).map(move |c| (s, c)))
    }

    /// `model vs sim`.
    pub fn targets_text(&self) -> String {
        self.targets.join(" vs ")
    }
}

/// One mesh state and its cells.
#[derive(Debug, Clone, Serialize)]
pub struct StateTable {
    /// 1-based.
    pub index: usize,
    /// The change that made this state: `step 4 "Apply the policy"`, `the scenario's manifests`,
    /// or `the empty cluster`.
    pub after: String,
    /// Every change since the previous tabled state, in order, with each target's answer.
    pub changes: Vec<ChangeRecord>,
    /// The scenario's `exec` steps that run in this state.
    pub exec_steps: Vec<usize>,
    pub cells: Vec<Cell>,
    /// Each proxy's upstream counters once the state's probes have run.
    pub counters: Vec<CounterCheck>,
}

impl StateTable {
    pub fn disagreements(&self) -> usize {
        self.cells.iter().filter(|c| !c.agree).count()
            + self.changes.iter().filter(|c| !c.agrees()).count()
            + self.counters.iter().filter(|c| !c.agree).count()
    }
}

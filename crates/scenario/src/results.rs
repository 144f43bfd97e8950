//! What running a scenario produced: every check made, each step's verdict, the scenario's verdict.
//!
//! Owns: `ScenarioReport`, `StepReport`, `Check`, `Verdict`, `BadInput`. Leaves out: producing them
//! (`runner`, `verify`) and rendering them for people or machines (`egressbench::report`).

use super::command::ProcessOutput;
use super::error::ScenarioError;
use super::format::Source;
use super::plan::{Scenario, Step};
use egressbench_model::answer::Exchange;
use egressbench_model::outcome::ClientResult;
use egressbench_text::Diagnostic as _;
use serde::Serialize;
use std::path::Path;

/// One comparison of something expected with what happened. `expected` and `actual` are written
/// for reading: text values quoted, absent values described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was compared, e.g. `stdout`, `status`, `access_log[default/nginx].upstream_cluster`.
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

impl Check {
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        ok: bool,
    ) -> Self {
        Check {
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
            ok,
        }
    }
}

/// How a scenario or a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check held.
    Passed,
    /// A check did not hold: the target disagrees with the scenario.
    Failed,
    /// The scenario could not be run as written (a file that does not load, a workload that does
    /// not exist): fix the input, not the target.
    BadInput,
}

impl Verdict {
    /// The worse of the two: bad input, then failed, then passed.
    pub fn worse(self, other: Verdict) -> Verdict {
        let rank = |v: Verdict| match v {
            Verdict::Passed => 0,
            Verdict::Failed => 1,
            Verdict::BadInput => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// Why a scenario or step is bad input, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct BadInput {
    pub message: String,
    pub help: Option<String>,
}

impl egressbench_text::Diagnostic for BadInput {
    fn help(&self) -> Option<String> {
        self.help.clone()
    }
}

/// One step that ran.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// 1-based; 0 stands for applying the scenario's `manifests:` before step 1.
    pub index: usize,
    pub name: Option<String>,
    /// `apply`, `delete`, `exec`, `logs`, `mesh`, or `setup` for `manifests:`.
    pub action: &'static str,
    /// The step as the scenario wrote it.
    pub command: String,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub discrepancy: Option<String>,
    /// What the command printed (exec and logs steps).
    pub output: Option<ProcessOutput>,
    /// What the client got back (exec steps).
    pub result: Option<ClientResult>,
    /// The whole exchange, kept for a step that did not pass so its explanation can be shown.
    pub exchange: Option<Exchange>,
    /// On a target that cannot explain itself (the sim, Envoy), the model's exchange for the same
    /// request in the same mesh state, kept for a step that did not pass: its trace explains what
    /// the reference semantics decide.
    pub model_exchange: Option<Exchange>,
    /// Why the target could not carry the step out (bad input).
    pub bad_input: Option<BadInput>,
    /// What the destination recorded for the step's request, in its own words (targets with real
    /// hosts: `httpbin.org:443 received GET https://… over TLS …`).
    pub observed: Vec<String>,
}

impl StepReport {
    /// A report for `step` with no checks yet.
    pub fn for_step(step: &Step) -> Self {
        StepReport {
            name: step.name.clone(),
            discrepancy: step.discrepancy.clone(),
            ..StepReport::blank(step.index, step.action.key(), step.command.clone())
        }
    }

    /// A report for applying the scenario's `manifests:` (`objects` of them) before step 1.
    pub fn setup(objects: usize) -> Self {
        StepReport::blank(0, "setup", format!("apply manifests: {objects} objects"))
    }

    /// A passed report with nothing observed yet.
    fn blank(index: usize, action: &'static str, command: String) -> Self {
        StepReport {
            index,
            name: None,
            action,
            command,
            verdict: Verdict::Passed,
            checks: Vec::new(),
            discrepancy: None,
            output: None,
            result: None,
            exchange: None,
            model_exchange: None,
            bad_input: None,
            observed: Vec::new(),
        }
    }

    /// `step 3 (nginx is still blocked)`, `step 3`, or `setup (manifests)`.
    pub fn title(&self) -> String {
        match (&self.name, self.index) {
            (_, 0) => "setup (manifests)".to_string(),
            (Some(n), i) => format!("step {i} ({n})"),
            (None, i) => format!("step {i}"),
        }
    }

    /// Set the verdict from the checks: failed when any did not hold.
    pub fn conclude(&mut self) {
        if self.bad_input.is_some() {
            self.verdict = Verdict::BadInput;
        } else if self.checks.iter().any(|c| !c.ok) {
            self.verdict = Verdict::Failed;
        } else {
            self.verdict = Verdict::Passed;
        }
    }
}

/// One scenario on one target.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    pub file: String,
    /// The file stem: the scenario's id.
    pub slug: String,
    /// The scenario's sentence (absent when the file did not load).
    pub name: Option<String>,
    pub source: Option<Source>,
    pub target: String,
    pub verdict: Verdict,
    /// Steps the scenario has (0 when it did not load).
    pub steps_total: usize,
    /// Steps that ran, in order (when the run stopped early, the last one is where).
    pub steps: Vec<StepReport>,
    /// Why the scenario could not be run at all.
    pub bad_input: Option<BadInput>,
}

impl ScenarioReport {
    /// A report for `scenario` on `target`, before anything ran.
    pub fn start(scenario: &Scenario, target: &str) -> Self {
        ScenarioReport {
            file: scenario.file.display().to_string(),
            slug: scenario.slug.clone(),
            name: Some(scenario.name.clone()),
            source: Some(scenario.source.clone()),
            target: target.to_string(),
            verdict: Verdict::Passed,
            steps_total: scenario.steps.len(),
            steps: Vec::new(),
            bad_input: None,
        }
    }

    /// A scenario file that did not load, or whose target could not be built: bad input.
    pub fn not_run(file: &Path, target: &str, message: String, help: Option<String>) -> Self {
        ScenarioReport {
            file: file.display().to_string(),
            slug: slug_of(file),
            name: None,
            source: None,
            target: target.to_string(),
            verdict: Verdict::BadInput,
            steps_total: 0,
            steps: Vec::new(),
            bad_input: Some(BadInput { message, help }),
        }
    }

    /// A scenario file that did not load.
    pub fn load_error(file: &Path, target: &str, err: &ScenarioError) -> Self {
        ScenarioReport::not_run(file, target, err.to_string(), err.help())
    }

    /// The steps that did not pass, in order (a run goes on past a failed expectation).
    pub fn failed_steps(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| s.verdict != Verdict::Passed)
    }

    /// The step the run stopped at, when steps after it were left unrun.
    pub fn stopped_at(&self) -> Option<&StepReport> {
        self.steps
            .last()
            .filter(|s| s.verdict != Verdict::Passed && self.steps_not_run() > 0)
    }

    /// Steps left unrun after the one the run stopped at.
    pub fn steps_not_run(&self) -> usize {
        let ran = self.steps.iter().filter(|s| s.index > 0).count();
        match self.steps.last() {
            Some(s) if s.index == 0 && s.verdict != Verdict::Passed => self.steps_total,
            _ => self.steps_total.saturating_sub(ran),
        }
    }

    /// How to fix bad input (of the file, or of the step that could not run).
    pub fn help(&self) -> Option<&str> {
        let bad = self
            .bad_input
            .as_ref()
            .or_else(|| self.failed_steps().find_map(|s| s.bad_input.as_ref()))?;
        bad.help.as_deref()
    }

    /// One line saying why the scenario did not pass: the first failed check (and how many more
    /// steps failed), or the bad input.
    pub fn reason(&self) -> Option<String> {
        if let Some(b) = &self.bad_input {
            return Some(b.message.clone());
        }
        // Bad input is what the verdict says first; otherwise the first failure.
        let step = self
            .failed_steps()
            .find(|s| s.bad_input.is_some())
            .or_else(|| self.failed_steps().next())?;
        let more = match self.failed_steps().count() - 1 {
            0 => String::new(),
            1 => " (and 1 more failing step)".to_string(),
            n => format!(" (and {n} more failing steps)"),
        };
        if let Some(b) = &step.bad_input {
            return Some(format!("{}: {}{more}", step.title(), b.message));
        }
        let check = step.checks.iter().find(|c| !c.ok)?;
        Some(format!(
            "{}: {}: expected {}, got {}{more}",
            step.title(),
            check.what,
            check.expected,
            check.actual
        ))
    }
}

/// A scenario file's id: its stem.
pub fn slug_of(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

//! Reports: scenario results rendered for people (`human`, like `cargo test`), for programs
//! (`json`, one stable document) and for CI (`junit`).
//!
//! Owns: rendering `ScenarioReport`s, the run's `Summary`, and `render_explanation`, the one
//! place a decision trace becomes text. Leaves out: running scenarios (`scenario`) and choosing
//! where output goes (the CLI).

pub mod explanation;
pub mod human;
pub mod json;
pub mod junit;
#[cfg(test)]
mod samples;

pub use explanation::{explanation_json, render_explanation};

use egressbench_scenario::{ScenarioReport, Verdict};
use serde::Serialize;

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Scenarios that ran (or were meant to and could not).
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub bad_input: usize,
    /// Scenarios left out by a filter.
    pub filtered_out: usize,
}

impl Summary {
    pub fn of(reports: &[ScenarioReport], filtered_out: usize) -> Self {
        let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
        Summary {
            total: reports.len(),
            passed: count(Verdict::Passed),
            failed: count(Verdict::Failed),
            bad_input: count(Verdict::BadInput),
            filtered_out,
        }
    }

    /// The run's verdict: bad input outranks failure, which outranks success.
    pub fn verdict(&self) -> Verdict {
        if self.bad_input > 0 {
            Verdict::BadInput
        } else if self.failed > 0 {
            Verdict::Failed
        } else {
            Verdict::Passed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_wins() {
        let reports = samples::reports();
        let s = Summary::of(&reports, 3);
        assert_eq!(
            (s.total, s.passed, s.failed, s.bad_input, s.filtered_out),
            (3, 1, 1, 1, 3)
        );
        assert_eq!(s.verdict(), Verdict::BadInput);
        assert_eq!(Summary::of(&reports[..2], 0).verdict(), Verdict::Failed);
        assert_eq!(Summary::of(&reports[..1], 0).verdict(), Verdict::Passed);
        assert_eq!(Summary::of(&[], 0).verdict(), Verdict::Passed);
    }
}

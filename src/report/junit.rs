//! The JUnit XML report for CI: one test suite per target, one test case per scenario (named by its
//! file stem), the first failed check as the failure message and the human section as its text.
//!
//! Owns: the mapping onto JUnit. Leaves out: writing the file (the CLI).

use super::human::render_failure;
use egressbench_scenario::{ScenarioReport, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;

/// Why the JUnit document could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the JUnit report: {0}")]
pub struct JunitError(#[from] quick_junit::SerializeError);

/// The run as a JUnit XML document.
pub fn render(reports: &[ScenarioReport]) -> Result<String, JunitError> {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for r in reports {
        let suite = suites
            .entry(r.target.as_str())
            .or_insert_with(|| TestSuite::new(r.target.as_str()));
        suite.add_test_case(case(r));
    }
    let mut report = Report::new("egressbench");
    report.add_test_suites(suites.into_values());
    Ok(report.to_string()?)
}

fn case(r: &ScenarioReport) -> TestCase {
    let status = match r.verdict {
        Verdict::Passed => TestCaseStatus::success(),
        Verdict::Failed | Verdict::BadInput => {
            let kind = if r.verdict == Verdict::Failed {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(r.reason().unwrap_or_else(|| "did not pass".to_string()));
            status.set_type(if r.verdict == Verdict::Failed {
                "failed"
            } else {
                "bad input"
            });
            status.set_description(render_failure(r));
            status
        }
    };
    let mut case = TestCase::new(r.slug.as_str(), status);
    case.set_classname(format!("{}.{}", r.target, r.slug));
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::samples;

    #[test]
    fn one_suite_per_target_one_case_per_scenario() {
        let mut reports = samples::reports();
        let mut other = samples::step_bad_input();
        other.target = "envoy".into();
        reports.push(other);
        let xml = render(&reports).unwrap();
        assert!(
            xml.contains("<testsuite name=\"envoy\" tests=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"model\" tests=\"3\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"000-passes\" classname=\"model.000-passes\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"step 2 (step 2 says something): status: expected 200, got 502\" type=\"failed\">"),
            "{xml}"
        );
        assert!(xml.contains("<error message=\"scenarios/002-bad.yaml:4:5: steps[0]: unknown field `expcet`\" type=\"bad input\">"), "{xml}");
    }
}

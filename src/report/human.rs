//! The human report, shaped like `cargo test`'s: a line per scenario as it finishes, then a section
//! per scenario that did not pass (every step that failed, with its command, expected against
//! actual, the discrepancy notes and the explanation; where the run stopped, if it did), then the
//! totals.
//!
//! Owns: the text. Leaves out: where it is printed (the CLI prints the parts as the run goes).

use super::{render_explanation, Summary};
use egressbench_scenario::{ScenarioReport, StepReport, Verdict};
use std::fmt::Write as _;
use std::time::Duration;

/// `running 3 scenarios on model`.
pub fn header(count: usize, target: &str) -> String {
    let noun = if count == 1 { "scenario" } else { "scenarios" };
    format!("\nrunning {count} {noun} on {target}\n")
}

/// `scenario 000-http-via-egress-gateway ... ok`, then what the destinations recorded for each
/// step's request (targets with real hosts), indented.
pub fn line(report: &ScenarioReport) -> String {
    let verdict = match report.verdict {
        Verdict::Passed => "ok",
        Verdict::Failed => "FAILED",
        Verdict::BadInput => "BAD INPUT",
    };
    let notes = report
        .steps
        .iter()
        .filter(|s| s.discrepancy.is_some())
        .count();
    let notes = match notes {
        0 => String::new(),
        1 => " (1 discrepancy noted)".to_string(),
        n => format!(" ({n} discrepancies noted)"),
    };
    let mut out = format!("scenario {} ... {verdict}{notes}\n", report.slug);
    for step in &report.steps {
        for seen in &step.observed {
            let _ = writeln!(out, "    step {}: {seen}", step.index);
        }
    }
    out
}

/// Everything after the per-scenario lines: failure sections, the list of failures, the totals.
pub fn footer(reports: &[ScenarioReport], summary: &Summary, elapsed: Duration) -> String {
    let mut out = String::new();
    let not_passed: Vec<&ScenarioReport> = reports
        .iter()
        .filter(|r| r.verdict != Verdict::Passed)
        .collect();
    if !not_passed.is_empty() {
        out.push_str("\nfailures:\n");
        for r in &not_passed {
            out.push('\n');
            out.push_str(&render_failure(r));
        }
        out.push_str("\nfailures:\n");
        for r in &not_passed {
            let _ = writeln!(out, "    {}", r.slug);
        }
    }
    let verdict = if summary.verdict() == Verdict::Passed {
        "ok"
    } else {
        "FAILED"
    };
    let _ = writeln!(
        out,
        "\ntest result: {verdict}. {} passed; {} failed; {} bad input; {} filtered out; finished in {:.2}s",
        summary.passed,
        summary.failed,
        summary.bad_input,
        summary.filtered_out,
        elapsed.as_secs_f64()
    );
    out
}

/// The whole report of a run on `target` at once.
pub fn render(
    reports: &[ScenarioReport],
    target: &str,
    summary: &Summary,
    elapsed: Duration,
) -> String {
    let mut out = header(reports.len(), target);
    for r in reports {
        out.push_str(&line(r));
    }
    out.push_str(&footer(reports, summary, elapsed));
    out
}

/// The section for one scenario that did not pass (empty for one that did).
pub fn render_failure(report: &ScenarioReport) -> String {
    let mut out = String::new();
    if report.verdict == Verdict::Passed {
        return out;
    }
    let _ = writeln!(
        out,
        "---- {} ({}) on {} ----",
        report.slug, report.file, report.target
    );
    if let Some(name) = &report.name {
        let _ = writeln!(out, "scenario: {name}");
    }
    if let Some(src) = &report.source {
        let section = src
            .section
            .as_deref()
            .map(|s| format!(", \"{s}\""))
            .unwrap_or_default();
        let _ = writeln!(out, "source: {}{section}", src.document);
    }
    if let Some(bad) = &report.bad_input {
        let _ = writeln!(out, "error: {}", bad.message);
        if let Some(help) = &bad.help {
            let _ = writeln!(out, "help: {help}");
        }
    }
    for step in report.failed_steps() {
        render_step(&mut out, step);
    }
    if let Some(step) = report.stopped_at() {
        let rest = report.steps_not_run();
        let _ = writeln!(
            out,
            "stopped at {}: {rest} later step{} not run",
            step.title(),
            if rest == 1 { "" } else { "s" }
        );
    }
    let earlier: Vec<&StepReport> = report
        .steps
        .iter()
        .filter(|s| s.verdict == Verdict::Passed && s.discrepancy.is_some())
        .collect();
    if !earlier.is_empty() {
        out.push_str("discrepancies noted on steps that passed:\n");
        for s in earlier {
            let _ = writeln!(
                out,
                "  {}: {}",
                s.title(),
                s.discrepancy.as_deref().unwrap_or_default()
            );
        }
    }
    out
}

fn render_step(out: &mut String, step: &StepReport) {
    let what = if step.verdict == Verdict::BadInput {
        "could not run"
    } else {
        "failed"
    };
    let _ = writeln!(out, "{what} at {}: {}", step.title(), step.action);
    let _ = writeln!(out, "  command: {}", step.command);
    if let Some(bad) = &step.bad_input {
        let _ = writeln!(out, "  error: {}", bad.message);
        if let Some(help) = &bad.help {
            let _ = writeln!(out, "  help: {help}");
        }
    }
    for c in step.checks.iter().filter(|c| !c.ok) {
        let _ = writeln!(
            out,
            "  {}: expected {}, got {}",
            c.what, c.expected, c.actual
        );
    }
    if let Some(result) = &step.result {
        let _ = writeln!(out, "  client got: {}", result.short());
    }
    if let Some(o) = &step.output {
        let _ = writeln!(out, "  output: exit code {}", o.exit_code);
        indented(out, "stdout", &o.stdout);
        indented(out, "stderr", &o.stderr);
    }
    if let Some(d) = &step.discrepancy {
        let _ = writeln!(out, "  discrepancy: {d}");
    }
    let own = step.exchange.as_ref().and_then(render_explanation);
    let (heading, text) = match own {
        Some(text) => ("  explanation:\n", Some(text)),
        None => (
            "  explanation (the model's decision for the same request in the same mesh state):\n",
            step.model_exchange.as_ref().and_then(render_explanation),
        ),
    };
    if let Some(text) = text {
        out.push_str(heading);
        for l in text.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
}

fn indented(out: &mut String, label: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let _ = writeln!(out, "    {label}:");
    for l in text.lines() {
        let _ = writeln!(out, "      | {l}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::samples;

    #[test]
    fn the_run_reads_like_cargo_test() {
        let reports = samples::reports();
        let summary = Summary::of(&reports, 2);
        let text = render(&reports, "model", &summary, Duration::from_millis(1500));
        let expected_lines = [
            "running 3 scenarios on model",
            "scenario 000-passes ... ok",
            "scenario 001-fails ... FAILED (2 discrepancies noted)",
            "scenario 002-bad ... BAD INPUT",
            "test result: FAILED. 1 passed; 1 failed; 1 bad input; 2 filtered out; finished in 1.50s",
        ];
        for l in expected_lines {
            assert!(text.lines().any(|t| t == l), "no line {l:?} in:\n{text}");
        }
        let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("    0")).collect();
        assert_eq!(listed, ["    001-fails", "    002-bad"], "{text}");
        let ok = render(
            &reports[..1],
            "model",
            &Summary::of(&reports[..1], 0),
            Duration::ZERO,
        );
        assert!(ok.contains("test result: ok. 1 passed;"), "{ok}");
        assert!(!ok.contains("failures:"), "{ok}");
    }

    #[test]
    fn a_failure_shows_where_what_and_why() {
        let reports = samples::reports();
        let text = render_failure(&reports[1]);
        let expected = "\
---- 001-fails (scenarios/001-fails.yaml) on model ----
scenario: 001-fails shows a thing
source: 000 — ASM, \"A section\"
failed at step 2 (step 2 says something): exec
  command: kubectl exec deployment/nginx -- curl #2
  status: expected 200, got 502
  client got: 502
  output: exit code 0
    stdout:
      | 502
  discrepancy: the mesh answers 502
stopped at step 2 (step 2 says something): 2 later steps not run
discrepancies noted on steps that passed:
  step 1 (step 1 says something): the document says 503
";
        assert_eq!(text, expected);
        assert_eq!(
            render_failure(&reports[0]),
            "",
            "a passed scenario has no section"
        );
    }

    #[test]
    fn bad_input_shows_the_error_and_its_help() {
        let reports = samples::reports();
        let text = render_failure(&reports[2]);
        assert!(text.contains("error: scenarios/002-bad.yaml:4:5: steps[0]: unknown field `expcet`\nhelp: did you mean `expect`?\n"), "{text}");
        let text = render_failure(&samples::step_bad_input());
        assert!(
            text.contains("could not run at step 1 (step 1 says something): exec"),
            "{text}"
        );
        assert!(
            text.contains("  error: no workload `default/nginx`\n  help: add its Deployment\n"),
            "{text}"
        );
        assert!(text.contains("1 later step not run"), "{text}");
    }
}

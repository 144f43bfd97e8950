//! The JSON report: one document for a whole run, its shape fixed here (not borrowed from internal
//! types) and named by `format`, so programs can rely on it.
//!
//! Owns: the document's shape. Leaves out: what the values mean (`scenario::results`).

use super::{render_explanation, Summary};
use egressbench_model::outcome::ClientResult;
use egressbench_scenario::command::ProcessOutput;
use egressbench_scenario::format::Source;
use egressbench_scenario::{BadInput, Check, ScenarioReport, StepReport, Verdict};
use serde::Serialize;

/// The document's format name; changes that break readers change the version.
pub const FORMAT: &str = "egressbench.run/v1";

#[derive(Debug, Serialize)]
struct Document<'a> {
    format: &'static str,
    summary: Summary,
    scenarios: Vec<ScenarioDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct ScenarioDoc<'a> {
    id: &'a str,
    file: &'a str,
    target: &'a str,
    name: Option<&'a str>,
    source: Option<&'a Source>,
    verdict: Verdict,
    /// The first check that did not hold, or why the scenario could not run.
    reason: Option<String>,
    error: Option<&'a BadInput>,
    steps_total: usize,
    steps_not_run: usize,
    steps: Vec<StepDoc<'a>>,
}

#[derive(Debug, Serialize)]
struct StepDoc<'a> {
    index: usize,
    name: Option<&'a str>,
    action: &'a str,
    command: &'a str,
    verdict: Verdict,
    checks: &'a [Check],
    discrepancy: Option<&'a str>,
    client_result: Option<&'a ClientResult>,
    output: Option<&'a ProcessOutput>,
    error: Option<&'a BadInput>,
    explanation: Option<String>,
    /// `target` when the target explained itself, `model` when the explanation is the model's
    /// decision for the same request (targets that cannot explain themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation_by: Option<&'static str>,
}

/// The run as one pretty-printed JSON document.
pub fn render(reports: &[ScenarioReport], summary: &Summary) -> String {
    let doc = Document {
        format: FORMAT,
        summary: *summary,
        scenarios: reports.iter().map(scenario).collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn scenario(r: &ScenarioReport) -> ScenarioDoc<'_> {
    ScenarioDoc {
        id: &r.slug,
        file: &r.file,
        target: &r.target,
        name: r.name.as_deref(),
        source: r.source.as_ref(),
        verdict: r.verdict,
        reason: r.reason(),
        error: r.bad_input.as_ref(),
        steps_total: r.steps_total,
        steps_not_run: r.steps_not_run(),
        steps: r.steps.iter().map(step).collect(),
    }
}

fn step(s: &StepReport) -> StepDoc<'_> {
    let (explanation, explanation_by) = match s.exchange.as_ref().and_then(render_explanation) {
        Some(text) => (Some(text), Some("target")),
        None => match s.model_exchange.as_ref().and_then(render_explanation) {
            Some(text) => (Some(text), Some("model")),
            None => (None, None),
        },
    };
    StepDoc {
        index: s.index,
        name: s.name.as_deref(),
        action: s.action,
        command: &s.command,
        verdict: s.verdict,
        checks: &s.checks,
        discrepancy: s.discrepancy.as_deref(),
        client_result: s.result.as_ref(),
        output: s.output.as_ref(),
        error: s.bad_input.as_ref(),
        explanation,
        explanation_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::samples;

    #[test]
    fn the_document_has_every_scenario_and_check() {
        let reports = samples::reports();
        let text = render(&reports, &Summary::of(&reports, 0));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["format"], FORMAT);
        assert_eq!(doc["summary"]["total"], 3);
        let s = &doc["scenarios"];
        assert_eq!(s[0]["verdict"], "passed");
        assert_eq!(s[1]["verdict"], "failed");
        assert_eq!(
            s[1]["reason"],
            "step 2 (step 2 says something): status: expected 200, got 502"
        );
        assert_eq!(s[1]["steps_not_run"], 2);
        assert_eq!(
            s[1]["steps"][1]["checks"][0],
            serde_json::json!({"what": "status", "expected": "200", "actual": "502", "ok": false})
        );
        assert_eq!(s[1]["steps"][1]["client_result"]["response"]["status"], 502);
        assert_eq!(s[1]["steps"][0]["discrepancy"], "the document says 503");
        assert_eq!(s[2]["verdict"], "bad_input");
        assert_eq!(s[2]["error"]["help"], "did you mean `expect`?");
        assert_eq!(s[2]["source"], serde_json::Value::Null);
    }
}

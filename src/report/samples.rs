//! Sample results for the renderers' tests: one passed, one failed at step 2, one bad input.
//!
//! Owns: `reports` and `step_bad_input`, built by hand (compiled for tests only). Leaves out: the
//! tests that render them (`human`, `json`, `junit` and `report`'s `mod.rs`) and real results
//! (`runner` in `egressbench-scenario`).

use egressbench_model::outcome::{ClientResult, HttpResponse};
use egressbench_scenario::command::ProcessOutput;
use egressbench_scenario::format::Source;
use egressbench_scenario::{BadInput, Check, ScenarioReport, StepReport, Verdict};
use std::path::Path;

fn step(index: usize, verdict: Verdict, checks: Vec<Check>) -> StepReport {
    StepReport {
        index,
        name: Some(format!("step {index} says something")),
        action: "exec",
        command: format!("kubectl exec deployment/nginx -- curl #{index}"),
        verdict,
        checks,
        discrepancy: None,
        output: None,
        result: None,
        exchange: None,
        model_exchange: None,
        bad_input: None,
        observed: Vec::new(),
    }
}

fn scenario(slug: &str, verdict: Verdict, steps: Vec<StepReport>, total: usize) -> ScenarioReport {
    ScenarioReport {
        file: format!("scenarios/{slug}.yaml"),
        slug: slug.to_string(),
        name: Some(format!("{slug} shows a thing")),
        source: Some(Source {
            document: "000 — ASM".into(),
            section: Some("A section".into()),
            url: None,
        }),
        target: "model".into(),
        verdict,
        steps_total: total,
        steps,
        bad_input: None,
    }
}

/// `[passed, failed, bad input]`.
pub(crate) fn reports() -> Vec<ScenarioReport> {
    let ok = || Check::new("stdout", "\"502\"", "\"502\"", true);
    let passed = scenario(
        "000-passes",
        Verdict::Passed,
        vec![step(1, Verdict::Passed, vec![ok()])],
        1,
    );

    let mut first = step(1, Verdict::Passed, vec![ok()]);
    first.discrepancy = Some("the document says 503".into());
    let mut second = step(
        2,
        Verdict::Failed,
        vec![
            Check::new("status", "200", "502", false),
            Check::new("exit_code", "0", "0", true),
        ],
    );
    second.result = Some(ClientResult::Response(HttpResponse::new(
        502,
        "text/plain",
        "",
    )));
    second.output = Some(ProcessOutput {
        stdout: "502\n".into(),
        stderr: String::new(),
        exit_code: 0,
        elapsed_ms: 12,
    });
    second.discrepancy = Some("the mesh answers 502".into());
    let failed = scenario("001-fails", Verdict::Failed, vec![first, second], 4);

    let bad = ScenarioReport::not_run(
        Path::new("scenarios/002-bad.yaml"),
        "model",
        "scenarios/002-bad.yaml:4:5: steps[0]: unknown field `expcet`".into(),
        Some("did you mean `expect`?".into()),
    );
    vec![passed, failed, bad]
}

/// The bad-input variant on a step: the target could not run it.
pub(crate) fn step_bad_input() -> ScenarioReport {
    let mut s = step(1, Verdict::BadInput, Vec::new());
    s.bad_input = Some(BadInput {
        message: "no workload `default/nginx`".into(),
        help: Some("add its Deployment".into()),
    });
    scenario("003-cannot-run", Verdict::BadInput, vec![s], 2)
}

//! The agreement truth table: on every shipped scenario, the targets agree on every cell (status,
//! connection error, the proxies' upstream clusters) in every mesh state the scenario makes
//! requests in — the model and the simulated mesh always; the model, the simulated mesh and real
//! Envoy when an envoy binary is found (CI requires it); and `egressbench table` on the command
//! line (exit codes, the last line, JSON).

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::envoy_or_skip;
use egressbench::table::{build_many, render, TargetFactory};
use egressbench_scenario::discover;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_egressbench");

fn scenario_files() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    discover(std::slice::from_ref(&folder)).expect("the shipped scenarios are found")
}

/// Table every shipped scenario over `targets`, `jobs` at a time, print each scenario's counts
/// and the totals, and fail on any disagreement (of a cell or of a proxy's counters), empty table
/// or scenario not tabled.
fn every_cell_agrees(targets: &[TargetFactory], jobs: usize) {
    let files = scenario_files();
    assert!(!files.is_empty());
    let names: Vec<&str> = targets.iter().map(TargetFactory::name).collect();
    let started = Instant::now();
    let mut problems = Vec::new();
    let (mut cells, mut counters, mut disagreements, mut tabled) = (0, 0, 0, 0);
    build_many(&files, targets, jobs, |file, table| {
        let name = file.file_stem().unwrap_or_default().to_string_lossy();
        tabled += 1;
        match table {
            Err(e) => problems.push(format!("{name}: not tabled: {}", e.message)),
            Ok(t) => {
                println!(
                    "{name}: {} cells and {} counters in {} states, {} disagreements",
                    t.cells(),
                    t.counters(),
                    t.states.len(),
                    t.disagreements()
                );
                cells += t.cells();
                counters += t.counters();
                disagreements += t.disagreements();
                if t.cells() == 0 {
                    problems.push(format!("{name}: the table has no cells"));
                }
                if t.disagreements() > 0 {
                    problems.push(render::render_table(&t, true));
                }
            }
        }
    });
    assert_eq!(tabled, files.len(), "every scenario was tabled");
    println!(
        "{} ({} scenarios in {:.1}s)",
        render::totals_line(cells, counters, disagreements, &names.join(" vs ")),
        files.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn model_and_sim_agree_on_every_cell_of_every_shipped_scenario() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    every_cell_agrees(&[TargetFactory::model(), TargetFactory::sim()], workers);
}

/// The three-way table. Each scenario starts its own Envoys; the cells mostly wait on real time
/// (Envoy's one-second delayed close after a `400`, access logs settling), so eight scenarios run
/// side by side whatever the number of processors.
#[test]
fn model_sim_and_real_envoy_agree_on_every_cell_of_every_shipped_scenario() {
    if envoy_or_skip("the three-way table").is_none() {
        return;
    }
    every_cell_agrees(
        &[
            TargetFactory::model(),
            TargetFactory::sim(),
            TargetFactory::envoy(),
        ],
        8,
    );
}

fn egressbench(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BASELINE: &str = "scenarios/000-registry-only-baseline.yaml";

#[test]
fn the_command_ends_with_the_counts_and_exits_0_when_targets_agree() {
    let (code, out, err) = egressbench(&["table", "--target", "model", BASELINE]);
    assert_eq!(code, 0, "{out}{err}");
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cells: ") && last.ends_with(", disagreements: 0 (model)"),
        "{out}"
    );
    assert!(out.contains("state 1 of 1: after step 1 \""), "{out}");
    assert!(
        out.contains("default/nginx   httpbin.org"),
        "one line per cell, aligned: {out}"
    );
    let (code, out, _) = egressbench(&[
        "table",
        "--target",
        "model",
        "--only-disagreements",
        BASELINE,
    ]);
    assert_eq!(code, 0);
    assert!(!out.contains(" agree "), "{out}");
}

#[test]
fn the_command_prints_json() {
    let (code, out, err) = egressbench(&["table", "--target", "model", "--json", BASELINE]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["targets"], serde_json::json!(["model"]));
    assert_eq!(doc["disagreements"], 0);
    let cells = doc["cells"].as_u64().unwrap_or_default();
    assert!(cells > 0, "{out}");
    let first = &doc["scenarios"][0]["states"][0]["cells"][0];
    assert_eq!(first["observations"][0]["target"], "model");
    assert!(
        first["probe"]["from"]["pod"]["namespace"].is_string(),
        "{first}"
    );
}

#[test]
fn bad_input_exits_2_with_help() {
    let (code, _, err) = egressbench(&["table", "no-such-scenario.yaml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no-such-scenario.yaml: no such file or folder") && err.contains("help: "),
        "{err}"
    );
    let (code, _, err) = egressbench(&["table", "--target", "live", BASELINE]);
    assert_eq!(code, 2);
    assert!(err.contains("target `live` is not available yet"), "{err}");
    let (code, _, err) =
        egressbench(&["table", "--target", "model", "--target", "model", BASELINE]);
    assert_eq!(code, 2);
    assert!(err.contains("listed twice"), "{err}");
    let (code, _, err) = egressbench(&["table", "--target", "model", "fixtures/000/test.yaml"]);
    assert_eq!(code, 2, "a manifest is not a scenario: {err}");
    assert!(err.starts_with("error: fixtures/000/test.yaml"), "{err}");
}

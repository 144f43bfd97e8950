//! The truth table as text for people: per scenario, per state a header and one aligned line per
//! cell (`agree` with the shared result, or `DIFFER` with what differs and each target's detail),
//! a `counters of PROXY  DIFFER` block for each proxy whose counters differ,
//! a line per scenario, and a last line `cells: N, disagreements: M (model vs sim)`.
//!
//! Owns: the human layout. Leaves out: JSON (the types serialize themselves) and building tables
//! (`build`).

use super::cell::{route_text, Cell};
use super::states::ChangeRecord;
use super::{StateTable, Table};
use std::fmt::Write;

/// Every table, then the totals line.
pub fn render(tables: &[Table], only_disagreements: bool) -> String {
    let mut out = String::new();
    for table in tables {
        out.push_str(&render_table(table, only_disagreements));
    }
    let cells = tables.iter().map(Table::cells).sum();
    let counters = tables.iter().map(Table::counters).sum();
    let disagreements = tables.iter().map(Table::disagreements).sum();
    let targets = tables.first().map(Table::targets_text).unwrap_or_default();
    out.push_str(&totals_line(cells, counters, disagreements, &targets));
    out.push('\n');
    out
}

/// `cells: N, counters: K, disagreements: M (model vs sim)`.
pub fn totals_line(cells: usize, counters: usize, disagreements: usize, targets: &str) -> String {
    let mut line = format!("cells: {cells}, counters: {counters}, disagreements: {disagreements}");
    if !targets.is_empty() {
        let _ = write!(line, " ({targets})");
    }
    line
}

/// One scenario: its header, its states (only those with disagreements when asked), its count.
pub fn render_table(table: &Table, only_disagreements: bool) -> String {
    let mut out = format!(
        "scenario {} ({}): {}\n",
        table.scenario,
        table.file,
        table.targets_text()
    );
    if table.states.is_empty() {
        out.push_str("  no step makes a request, so there is nothing to table\n");
    }
    for state in &table.states {
        if only_disagreements && state.disagreements() == 0 {
            continue;
        }
        out.push_str(&render_state(state, table.states.len(), only_disagreements));
    }
    let _ = writeln!(
        out,
        "scenario {}: {} cells and {} counters in {} states, {} disagreements",
        table.scenario,
        table.cells(),
        table.counters(),
        table.states.len(),
        table.disagreements()
    );
    out
}

fn render_state(state: &StateTable, of: usize, only_disagreements: bool) -> String {
    let steps: Vec<String> = state.exec_steps.iter().map(ToString::to_string).collect();
    let mut out = format!(
        "state {} of {of}: after {} (requests of steps {})\n",
        state.index,
        state.after,
        steps.join(", ")
    );
    for change in &state.changes {
        if let Some(line) = change_line(change) {
            let _ = writeln!(out, "  {line}");
        }
    }
    for check in state.counters.iter().filter(|c| !c.agree) {
        let _ = writeln!(out, "  counters of {}  DIFFER", check.proxy);
        for difference in check.differences() {
            let _ = writeln!(out, "      {difference}");
        }
    }
    let shown: Vec<&Cell> = state
        .cells
        .iter()
        .filter(|c| !only_disagreements || !c.agree)
        .collect();
    let width = |f: &dyn Fn(&Cell) -> usize| shown.iter().map(|c| f(c)).max().unwrap_or(0);
    let w_workload = width(&|c| c.probe.from.to_string().chars().count());
    let w_host = width(&|c| c.probe.host.chars().count());
    let w_request = width(&|c| c.probe.request_text().chars().count());
    let w_outcome = width(&|c| {
        c.observations
            .first()
            .map_or(0, |o| o.outcome.to_string().chars().count())
    });
    for cell in shown {
        let lead = format!(
            "  {:<w_workload$}  {:<w_host$}  {:<w_request$}",
            cell.probe.from.to_string(),
            cell.probe.host,
            cell.probe.request_text(),
        );
        match (cell.agree, cell.observations.first()) {
            (true, Some(o)) => {
                let _ = writeln!(
                    out,
                    "{lead}  agree   {:<w_outcome$}  {}",
                    o.outcome.to_string(),
                    route_text(&o.route)
                );
            }
            (true, None) => {
                let _ = writeln!(out, "{lead}  agree");
            }
            (false, _) => {
                let _ = writeln!(
                    out,
                    "{lead}  DIFFER  {}",
                    cell.difference().unwrap_or_default()
                );
                out.push_str(&details(cell));
            }
        }
    }
    out
}

/// Each target's result for a disagreeing cell, one line each.
fn details(cell: &Cell) -> String {
    let w_target = cell
        .observations
        .iter()
        .map(|o| o.target.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for o in &cell.observations {
        let _ = write!(out, "      {:<w_target$}  {}", o.target, o.summary());
        if let super::Outcome::NotRun { reason } = &o.outcome {
            let _ = write!(out, " ({reason})");
        }
        out.push('\n');
    }
    out
}

/// A line for a change some target rejected (`None` when every target applied it).
fn change_line(change: &ChangeRecord) -> Option<String> {
    if !change.any_rejected() {
        return None;
    }
    if change.agrees() {
        let names: Vec<&str> = change.outcomes.iter().map(|o| o.target).collect();
        let messages: Vec<&str> = change
            .outcomes
            .iter()
            .filter_map(|o| o.rejected.as_deref())
            .collect();
        let same = messages.windows(2).all(|w| w[0] == w[1]);
        let why = if same {
            messages.first().copied().unwrap_or_default().to_string()
        } else {
            change
                .outcomes
                .iter()
                .map(|o| format!("{}: {}", o.target, o.rejected.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Some(format!(
            "change {} rejected by {}: {why}",
            change.title,
            names.join(", ")
        ));
    }
    let each: Vec<String> = change
        .outcomes
        .iter()
        .map(|o| match &o.rejected {
            Some(why) => format!("{} rejected it ({why})", o.target),
            None => format!("{} applied it", o.target),
        })
        .collect();
    Some(format!(
        "change {} DIFFER: {}",
        change.title,
        each.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::states::ChangeOutcome;
    use crate::table::{Observation, Probe};
    use egressbench_model::answer::Exchange;
    use egressbench_model::outcome::{AccessLogEntry, ClientResult, HttpResponse};
    use egressbench_model::request::{Origin, Scheme, WorkloadRef};

    fn observation(target: &'static str, status: u16, cluster: &str) -> Observation {
        let mut entry = AccessLogEntry::blank("mytest/sleep-a");
        entry.upstream_cluster = cluster.to_string();
        Observation::of_exchange(
            target,
            &Exchange {
                result: ClientResult::Response(HttpResponse::new(status, "text/plain", "")),
                logs: vec![entry],
                trace: None,
                observed: Vec::new(),
                elapsed_ms: 0,
                remote: None,
                received: Vec::new(),
            },
        )
    }

    fn cell(host: &str, sim_status: u16) -> Cell {
        Cell::new(
            Probe {
                from: Origin::Pod(WorkloadRef::new("mytest", "sleep-a")),
                host: host.into(),
                scheme: Scheme::Http,
                method: "GET".into(),
                port: 80,
                via: None,
                http: Default::default(),
                resolve: None,
            },
            vec![
                observation("model", 200, "outbound|80||httpbin.org"),
                observation("sim", sim_status, "outbound|80||httpbin.org"),
            ],
        )
    }

    fn table() -> Table {
        Table {
            scenario: "demo".into(),
            file: "scenarios/demo.yaml".into(),
            targets: vec!["model", "sim"],
            states: vec![StateTable {
                index: 1,
                after: "step 2 \"Apply the policy\"".into(),
                changes: vec![ChangeRecord {
                    step: 2,
                    title: "step 2 \"Apply the policy\"".into(),
                    outcomes: vec![
                        ChangeOutcome {
                            target: "model",
                            rejected: Some("no gateway".into()),
                        },
                        ChangeOutcome {
                            target: "sim",
                            rejected: Some("no gateway".into()),
                        },
                    ],
                }],
                exec_steps: vec![3, 4],
                cells: vec![cell("httpbin.org", 200), cell("www.httpbin.org", 502)],
                counters: Vec::new(),
            }],
        }
    }

    #[test]
    fn the_last_line_counts_cells_and_disagreements() {
        let text = render(&[table()], false);
        let last = text.lines().last().unwrap_or_default();
        assert_eq!(
            last,
            "cells: 2, counters: 0, disagreements: 1 (model vs sim)"
        );
        assert!(
            text.contains(
                "state 1 of 1: after step 2 \"Apply the policy\" (requests of steps 3, 4)"
            ),
            "{text}"
        );
        assert!(
            text.contains("change step 2 \"Apply the policy\" rejected by model, sim: no gateway"),
            "{text}"
        );
        assert!(
            text.contains(
                "mytest/sleep-a  httpbin.org      http GET :80  agree   200  [mytest/sleep-a→outbound|80||httpbin.org]"
            ),
            "{text}"
        );
        assert!(
            text.contains("www.httpbin.org  http GET :80  DIFFER  outcome: model 200, sim 502"),
            "{text}"
        );
        assert!(text.contains("      sim    502 [mytest/sleep-a→"), "{text}");
    }

    #[test]
    fn only_disagreements_leaves_out_agreeing_cells_and_states() {
        let text = render(&[table()], true);
        assert!(!text.contains("agree "), "{text}");
        assert!(text.contains("DIFFER"), "{text}");
        let mut calm = table();
        calm.states[0].cells.truncate(1);
        let text = render(&[calm], true);
        assert!(!text.contains("state 1"), "{text}");
        assert!(
            text.ends_with("cells: 1, counters: 0, disagreements: 0 (model vs sim)\n"),
            "{text}"
        );
    }
}

//! The workspace's layering, checked on Cargo's own dependency graph (`cargo metadata`):
//! every crate depends only on crates before it in `ORDER` (data flows one way), and the pure
//! crates reach no async runtime, socket, TLS or certificate crate, directly or through others.
//!
//! The checks are plain functions over a graph so that they are tested on graphs that break
//! them, too.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The stages, first to last. A crate may depend on the crates before it only.
const ORDER: [&str; 10] = [
    "egressbench-text",
    "egressbench-resources",
    "egressbench-manifest",
    "egressbench-compile",
    "egressbench-model",
    "egressbench-scenario",
    "egressbench-network",
    "egressbench-sim",
    "egressbench-envoy",
    "egressbench",
];

/// The crates that hold the pure core: no async, sockets, clocks or processes.
const PURE: [&str; 6] = [
    "egressbench-text",
    "egressbench-resources",
    "egressbench-manifest",
    "egressbench-compile",
    "egressbench-model",
    "egressbench-scenario",
];

/// What the pure crates must not reach.
const FORBIDDEN: [&str; 8] = [
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "rustls",
    "tokio-rustls",
    "rcgen",
    "ring",
];

/// Package name → the names of its dependencies: (normal or build, any kind including dev).
#[derive(Debug, Default)]
struct Graph {
    runtime: BTreeMap<String, BTreeSet<String>>,
    all: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn edge(&mut self, from: &str, to: &str, dev_only: bool) {
        if !dev_only {
            self.runtime
                .entry(from.into())
                .or_default()
                .insert(to.into());
        }
        self.all.entry(from.into()).or_default().insert(to.into());
    }

    /// Every package `from` needs to build and run (not its tests), itself left out.
    fn reach(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(p) = todo.pop() {
            for d in self.runtime.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }
}

/// Each dependency of a crate of `order` on a crate at or after it: `(from, to)`.
fn backward_edges(g: &Graph, order: &[&str]) -> Vec<(String, String)> {
    let rank = |n: &str| order.iter().position(|o| *o == n);
    let mut out = Vec::new();
    for (from, deps) in &g.all {
        let Some(f) = rank(from) else { continue };
        for d in deps {
            if rank(d).is_some_and(|t| t >= f) {
                out.push((from.clone(), d.clone()));
            }
        }
    }
    out
}

/// Each forbidden package a pure crate reaches: `(pure crate, package)`.
fn impure_reach(g: &Graph, pure: &[&str], forbidden: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in pure {
        for d in g.reach(p) {
            if forbidden.contains(&d.as_str()) {
                out.push((p.to_string(), d));
            }
        }
    }
    out
}

/// The resolved dependency graph of this workspace, by package name.
fn workspace_graph() -> Graph {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or(""),
                p["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let mut g = Graph::default();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve.nodes") {
        let from = names[node["id"].as_str().unwrap_or("")];
        for dep in node["deps"].as_array().into_iter().flatten() {
            let to = names[dep["pkg"].as_str().unwrap_or("")];
            let dev_only = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|k| k["kind"].as_str() == Some("dev"));
            g.edge(from, to, dev_only);
        }
    }
    g
}

#[test]
fn every_crate_depends_only_on_earlier_stages() {
    let g = workspace_graph();
    for name in ORDER {
        assert!(
            g.all.contains_key(name),
            "{name} is not in the workspace graph"
        );
    }
    assert_eq!(backward_edges(&g, &ORDER), Vec::<(String, String)>::new());
}

#[test]
fn the_pure_crates_reach_no_runtime_socket_or_tls_crate() {
    let g = workspace_graph();
    // The socket-running crates do reach them: the check looks where it should.
    assert!(g.reach("egressbench-network").contains("tokio"));
    assert_eq!(
        impure_reach(&g, &PURE, &FORBIDDEN),
        Vec::<(String, String)>::new()
    );
}

#[test]
fn the_checks_find_a_backward_edge_and_an_impure_path() {
    let mut g = Graph::default();
    g.edge("egressbench-model", "egressbench-text", false);
    g.edge("egressbench-model", "serde", false);
    g.edge("egressbench-compile", "egressbench-model", false);
    g.edge("serde", "tokio", false);
    g.edge("egressbench-text", "mio", true);
    assert_eq!(
        backward_edges(&g, &ORDER),
        vec![("egressbench-compile".into(), "egressbench-model".into())]
    );
    assert_eq!(
        impure_reach(&g, &PURE, &FORBIDDEN),
        vec![
            ("egressbench-compile".into(), "tokio".into()),
            ("egressbench-model".into(), "tokio".into()),
        ]
    );
}

//! The workspace's layering, checked on Cargo's own dependency graph (`cargo metadata`):
//! every crate depends only on crates before it in `ORDER` (data flows one way), and the pure
//! crates reach no async runtime, socket, TLS or certificate crate, directly or through others.
//! Inside the model crate, its stages import only earlier ones (`MODEL_ORDER`), and no code
//! outside the catalogue (`outcome/reply.rs`) spells a response flag.
//!
//! The checks are plain functions over a graph or a source text so that they are tested on
//! inputs that break them, too.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
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
    // Every crate of the workspace has its place in ORDER, so none goes unchecked.
    for member in g.all.keys().filter(|k| k.starts_with("egressbench")) {
        assert!(
            ORDER.contains(&member.as_str()),
            "{member} is not placed in ORDER"
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

/// The model crate's modules, first to last: each imports only the ones before it (its tests
/// may reach further).
const MODEL_ORDER: [&str; 12] = [
    "request",
    "outcome",
    "external",
    "topology",
    "pods",
    "xds",
    "mesh",
    "proxy_config",
    "decide",
    "answer",
    "admin",
    "explain",
];

/// Envoy's response-flag codes (`%RESPONSE_FLAGS%`).
const FLAG_CODES: [&str; 23] = [
    "UH", "UF", "UO", "NR", "URX", "NC", "DT", "DC", "LH", "UT", "LR", "UR", "UC", "DI", "FI",
    "RL", "UAEX", "RLSE", "IH", "SI", "DPE", "UPE", "UMSDR",
];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("a source folder").flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The code of a source file that is not a test: files named `tests.rs` or `*_tests.rs` (and
/// `testing.rs` fixtures) have none; elsewhere each item after a `#[cfg(test)]` is cut out — up
/// to its `;` (`mod tests;`) or to the brace that closes its body (a module or a function).
fn non_test_code(path: &Path, text: &str) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "tests.rs" || name.ends_with("_tests.rs") || name == "testing.rs" {
        return String::new();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        rest = &rest[i + "#[cfg(test)]".len()..];
        let end = match (rest.find(';'), rest.find('{')) {
            (Some(semi), Some(open)) if semi < open => semi + 1,
            (Some(semi), None) => semi + 1,
            (_, Some(open)) => closing_brace(rest, open).map_or(rest.len(), |c| c + 1),
            (None, None) => rest.len(),
        };
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The index of the brace that closes the one at `open` (braces inside string literals and
/// comments count too; this workspace's test items keep them balanced).
fn closing_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Each string literal in `code` that is a response-flag code or a list of them (`"UF,URX"`):
/// `(line, literal)`.
fn flag_literals(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for (i, lit) in line.split('"').enumerate() {
            if i % 2 == 1 && !lit.is_empty() && lit.split(',').all(|c| FLAG_CODES.contains(&c)) {
                out.push((n + 1, lit.to_string()));
            }
        }
    }
    out
}

/// Each `crate::<module>` path in `code` (also inside a group, `crate::{a, b::C}`) that names a
/// module after `module` in `order`.
fn later_module_paths(module: &str, code: &str, order: &[&str]) -> Vec<String> {
    let Some(rank) = order.iter().position(|m| *m == module) else {
        return Vec::new();
    };
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(ident));
            }
            None => names.push(ident(rest)),
        }
    }
    names
        .into_iter()
        .filter(|name| {
            order
                .iter()
                .position(|m| m == name)
                .is_some_and(|r| r > rank)
        })
        .map(|name| format!("crate::{name}"))
        .collect()
}

#[test]
fn no_response_flag_is_spelled_outside_the_catalogue() {
    let catalogue = workspace().join("crates/model/src/outcome/reply.rs");
    let mut found = Vec::new();
    let mut scanned = 0;
    for dir in ["crates", "src"] {
        for file in rust_files(&workspace().join(dir)) {
            if file == catalogue || !file.components().any(|c| c.as_os_str() == "src") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a source file");
            scanned += 1;
            for (line, lit) in flag_literals(&non_test_code(&file, &text)) {
                found.push(format!("{}:{line}: \"{lit}\"", file.display()));
            }
        }
    }
    assert!(scanned > 100, "only {scanned} files scanned");
    assert!(
        found.is_empty(),
        "response flags spelled outside outcome/reply.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_model_crate_s_stages_import_only_earlier_ones() {
    let src = workspace().join("crates/model/src");
    let mut found = Vec::new();
    for module in MODEL_ORDER {
        let dir = src.join(module);
        let files = if dir.is_dir() {
            rust_files(&dir)
        } else {
            vec![src.join(format!("{module}.rs"))]
        };
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a model source file");
            for path in later_module_paths(module, &non_test_code(&file, &text), &MODEL_ORDER) {
                found.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "backward imports:\n{}", found.join("\n"));
}

#[test]
fn the_source_scans_find_what_they_look_for() {
    let code = "let f = \"UF,URX\"; let g = \"UFO\";\n// \"NR\" in a comment\nx(\"NC\")";
    assert_eq!(
        flag_literals(code),
        vec![(1, "UF,URX".to_string()), (3, "NC".to_string())]
    );
    let file = Path::new("crates/model/src/xds/mod.rs");
    let code = non_test_code(
        file,
        "#[cfg(test)]\nmod tests;\nuse crate::decide::End;\n#[cfg(test)]\nfn helper() { crate::answer::x(); }\nuse crate::{request, explain::Y};\n#[cfg(test)]\nmod t { use crate::answer; }\n",
    );
    assert!(!code.contains("answer"), "{code}");
    assert_eq!(
        later_module_paths("xds", &code, &MODEL_ORDER),
        vec!["crate::decide".to_string(), "crate::explain".to_string()]
    );
    assert!(non_test_code(Path::new("a/tests.rs"), "crate::answer").is_empty());
}

//! The Envoy configs egressbench renders, checked by Envoy itself: every proxy of every mesh state
//! the shipped scenarios go through (their manifests, then each apply / delete / mesh-config
//! step), rendered with certificate files written next to it, must pass `envoy --mode validate`.
//! Also placed for a loopback run (every listener bound, endpoints and PROXY-protocol capture), as
//! the Envoy runner will place them.
//!
//! Without an envoy binary (`scripts/install-envoy.sh`, `$EGRESSBENCH_ENVOY`, or `envoy` on PATH)
//! the Envoy checks are skipped with a note, unless `EGRESSBENCH_REQUIRE_ENVOY` is set (CI sets
//! it), in which case they fail.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{envoy_or_skip, note};
use egressbench_text::Diagnostic as _;

use egressbench_envoy::{self as envoy, Capture, CertPaths, CertPems, Placement};
use egressbench_manifest::load_paths;
use egressbench_model::mesh::Mesh;
use egressbench_model::request::WorkloadRef;
use egressbench_resources::mesh_config::{MeshConfig, OutboundTrafficPolicy};
use egressbench_resources::{Body, Kind, ObjectMeta, Resource, ResourceId, Store};
use egressbench_scenario::{discover, load_scenario, Action};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder under the system temp folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "egressbench-envoy-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `istio` ConfigMap with `current`'s mesh config and another outbound policy (what a
/// scenario's `mesh:` step applies).
fn mesh_step(current: &Store, outbound: egressbench_resources::OutboundMode) -> Resource {
    let id = ResourceId::new(Kind::ConfigMap, "istio-system", "istio");
    let mut mesh = match current.get(&id).map(|r| &r.body) {
        Some(Body::MeshConfig(m)) => (**m).clone(),
        _ => MeshConfig::default(),
    };
    mesh.outbound_traffic_policy
        .get_or_insert_with(OutboundTrafficPolicy::default)
        .mode = Some(outbound);
    Resource::new(
        "v1",
        ObjectMeta::named("istio", "istio-system"),
        Body::MeshConfig(Box::new(mesh)),
    )
}

/// Every mesh state of every shipped scenario that builds, labelled `<scenario> step <n>`.
fn scenario_states() -> Vec<(String, Mesh)> {
    let files = discover(&[root().join("scenarios")]).unwrap();
    assert!(
        files.len() >= 19,
        "expected the shipped scenarios, got {files:?}"
    );
    let mut states = Vec::new();
    for file in files {
        let scenario = load_scenario(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut store = Store::from_resources(scenario.setup.iter().cloned());
        let mut push = |label: String, store: &Store| {
            if let Ok(mesh) = Mesh::build(store) {
                states.push((label, mesh));
            }
        };
        push(format!("{} setup", scenario.slug), &store);
        for step in &scenario.steps {
            match &step.action {
                Action::Apply(resources) => {
                    for r in resources {
                        store.apply(r.clone());
                    }
                }
                Action::Delete(ids) => {
                    for id in ids {
                        store.delete(id);
                    }
                }
                Action::Mesh { outbound } => {
                    let cm = mesh_step(&store, *outbound);
                    store.apply(cm);
                }
                Action::Exec { .. }
                | Action::Logs { .. }
                | Action::Export { .. }
                | Action::Workstation { .. }
                | Action::ProxyLog { .. }
                | Action::ProxyAdmin { .. }
                | Action::ProxyConfig { .. }
                | Action::GetPods { .. } => continue,
            }
            push(format!("{} step {}", scenario.slug, step.index), &store);
        }
    }
    states
}

/// Certificate files for `identity` in `dir` (one folder per identity, so that configs of the same
/// proxy in different states stay byte-identical and are validated once).
fn certs_for(dir: &Path, identity: &str, written: &mut BTreeMap<String, CertPaths>) -> CertPaths {
    if let Some(p) = written.get(identity) {
        return p.clone();
    }
    let sub = dir.join(format!("id{}", written.len()));
    let paths = CertPems::issue(identity).unwrap().write(&sub).unwrap();
    written.insert(identity.to_string(), paths.clone());
    paths
}

/// Validate `configs` (label → YAML) with `envoy`, in parallel; the failures (a rejection, or a
/// deprecated field Envoy warns about).
fn validate_all(envoy: &Path, dir: &Path, configs: &BTreeMap<String, String>) -> Vec<String> {
    let files: Vec<(String, PathBuf)> = configs
        .iter()
        .enumerate()
        .map(|(i, (label, yaml))| {
            let path = dir.join(format!("config-{i}.yaml"));
            std::fs::write(&path, yaml).unwrap();
            (label.clone(), path)
        })
        .collect();
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get().min(8));
    let chunk = files.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|(label, path)| match envoy::validate(envoy, path) {
                            Ok(warnings) if warnings.is_empty() => None,
                            Ok(warnings) => Some(format!("{label}: {}", warnings.join("; "))),
                            Err(e) => Some(format!("{label}: {e}")),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The mesh of scenario 000-http-via-egress-gateway once its policy is applied.
fn mesh_000() -> Mesh {
    let files: Vec<PathBuf> = [
        "fixtures/mesh/registry-only.yaml",
        "fixtures/000/namespaces.yaml",
        "fixtures/000/egressgateway.yaml",
        "fixtures/000/test.yaml",
        "fixtures/000/egress-http.yaml",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    let loaded = load_paths(&files).unwrap();
    Mesh::build(&Store::from_resources(loaded.resources)).unwrap()
}

#[test]
fn every_proxy_of_every_scenario_state_passes_envoy_validate() {
    let states = scenario_states();
    let fixture_sets: BTreeSet<&str> = states
        .iter()
        .map(|(label, _)| label.split(' ').next().unwrap_or(""))
        .collect();
    for needed in [
        "000-http-via-egress-gateway",
        "000-https-upgrade-at-gateway",
        "000-https-passthrough-port-444",
        "000-tcp-via-egress-gateway",
        "000-authz-deny-post-at-gateway",
        "001-native-egress-gateway-with-authz",
    ] {
        assert!(fixture_sets.contains(needed), "no state of {needed}");
    }
    let dir = TempDir::new("states");
    let mut certs = BTreeMap::new();
    let materials = egressbench_network::materials::Materials::default();
    // Distinct configs only: a proxy whose config a step does not change is validated once.
    let mut configs: BTreeMap<String, String> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut rendered = 0;
    for (label, mesh) in &states {
        for (id, proxy) in &mesh.proxies {
            let placement = Placement {
                certs: certs_for(&dir.0, &proxy.identity, &mut certs),
                ..Placement::in_pod()
            };
            // A gateway's `credentialName` files, as the Envoy runner writes them.
            envoy::write_credentials(proxy, &placement.certs, &materials).unwrap();
            let yaml = envoy::to_yaml(&envoy::bootstrap(proxy, mesh, &placement)).unwrap();
            rendered += 1;
            if seen.insert(yaml.clone()) {
                configs.insert(format!("{label} {id}"), yaml);
            }
        }
    }
    assert!(rendered > 100, "only {rendered} proxy configs rendered");
    let Some(envoy) = envoy_or_skip("envoy --mode validate of every scenario state") else {
        return;
    };
    let failures = validate_all(&envoy, &dir.0, &configs);
    note(&format!(
        "envoy {}: {} of {} distinct proxy configs ({rendered} rendered, {} states) passed \
         --mode validate",
        envoy::envoy_version(&envoy).unwrap_or_default(),
        configs.len() - failures.len(),
        configs.len(),
        states.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A loopback placement as a runner would make it: every listener and endpoint on 127.0.0.1, the
/// access log in a file, admin on a port of its own.
fn loopback(
    mesh: &Mesh,
    id: &WorkloadRef,
    capture: Capture,
    certs: CertPaths,
    dir: &Path,
) -> Placement {
    let lo = |port: u16| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    let proxy = mesh.proxy(id).unwrap();
    let mut placement = Placement {
        capture,
        certs,
        access_log: envoy::AccessLogSink::File(dir.join("access.log")),
        admin: lo(19000),
        ..Placement::in_pod()
    };
    for (i, l) in proxy.listeners.iter().enumerate() {
        placement
            .listeners
            .insert(l.name.to_string(), lo(20000 + i as u16));
    }
    for (i, l) in proxy.inbound.iter().enumerate() {
        placement
            .listeners
            .insert(envoy::inbound_listener_name(l.port), lo(21000 + i as u16));
    }
    let mut next = 30000;
    for c in proxy.clusters.values() {
        for e in &c.endpoints {
            placement
                .endpoints
                .insert(Placement::endpoint_key(e), lo(next));
            next += 1;
        }
    }
    placement
}

#[test]
fn loopback_placements_pass_envoy_validate() {
    let files: Vec<PathBuf> = [
        "fixtures/mesh/registry-only.yaml",
        "fixtures/000/namespaces.yaml",
        "fixtures/000/egressgateway.yaml",
        "fixtures/000/test.yaml",
        "fixtures/000/egress-http.yaml",
        "fixtures/000/egress-tcp.yaml",
        "fixtures/000/authz-deny-post.yaml",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    let loaded = load_paths(&files).unwrap();
    let mesh = Mesh::build(&Store::from_resources(loaded.resources)).unwrap();
    let dir = TempDir::new("loopback");
    let mut configs = BTreeMap::new();
    let mut certs = BTreeMap::new();
    for (id, proxy) in &mesh.proxies {
        for capture in [Capture::Direct, Capture::ProxyProtocol] {
            let paths = certs_for(&dir.0, &proxy.identity, &mut certs);
            let placement = loopback(&mesh, id, capture, paths, &dir.0);
            let boot = envoy::bootstrap(proxy, &mesh, &placement);
            let text = serde_json::to_string_pretty(&boot).unwrap();
            // Placed: no DNS names and no pod addresses are left among the endpoints.
            assert!(!text.contains("STRICT_DNS"), "{id}: {text}");
            assert!(!text.contains("\"10.244."), "{id} {capture:?}: {text}");
            configs.insert(format!("{id} {capture:?}"), envoy::to_yaml(&boot).unwrap());
        }
    }
    let Some(envoy) = envoy_or_skip("envoy --mode validate of loopback placements") else {
        return;
    };
    let failures = validate_all(&envoy, &dir.0, &configs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_printed_config_and_its_certificate_files_pass_envoy_validate() {
    // What `egressbench envoy-config --proxy mytest/sleep-a --certs DIR FILES…` does.
    let mesh = mesh_000();
    let dir = TempDir::new("printed");
    let id = WorkloadRef::new("mytest", "sleep-a");
    let proxy = envoy::proxy_config(&mesh, &id).unwrap();
    let paths = CertPems::issue(&proxy.identity)
        .unwrap()
        .write(&dir.0.join("certs"))
        .unwrap();
    assert!(paths.cert_chain.is_absolute());
    let placement = Placement {
        certs: paths,
        ..Placement::in_pod()
    };
    let yaml = envoy::to_yaml(&envoy::render(&mesh, &id, &placement).unwrap()).unwrap();
    let back: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(back, envoy::render(&mesh, &id, &placement).unwrap());
    let config = dir.0.join("sleep-a.yaml");
    std::fs::write(&config, &yaml).unwrap();
    let Some(envoy) = envoy_or_skip("envoy --mode validate of the printed config") else {
        return;
    };
    assert_eq!(
        envoy::validate(&envoy, &config).unwrap(),
        Vec::<String>::new()
    );
    // And Envoy's own verdict is passed on when it refuses a config.
    let broken = dir.0.join("broken.yaml");
    std::fs::write(&broken, yaml.replace("ROUND_ROBIN", "ROUND_AND_ROUND")).unwrap();
    let err = envoy::validate(&envoy, &broken).unwrap_err().to_string();
    assert!(err.contains("ROUND_AND_ROUND"), "{err}");
}

#[test]
fn unknown_proxies_are_named_with_the_ones_there_are() {
    let mesh = mesh_000();
    let err = envoy::proxy_config(&mesh, &WorkloadRef::new("mytest", "sleep-b")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`mytest/sleep-a`"), "{text}");
    assert!(text.contains("`istio-egress/egressgateway-a`"), "{text}");
    assert_eq!(
        err.help().as_deref(),
        Some("did you mean `mytest/sleep-a`?")
    );
}

#[test]
fn a_workload_without_a_sidecar_has_no_config_and_says_why() {
    let files: Vec<PathBuf> = [
        "fixtures/mesh/allow-any.yaml",
        "fixtures/000/namespaces.yaml",
        "fixtures/000/test.yaml",
        "fixtures/istio-docs/sleep-no-sidecar.yaml",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    let loaded = load_paths(&files).unwrap();
    let mesh = Mesh::build(&Store::from_resources(loaded.resources)).unwrap();
    let id = WorkloadRef::new("mytest", "sleep-no-sidecar");
    let err = envoy::render(&mesh, &id, &Placement::in_pod()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("has no proxy"), "{text}");
    assert!(text.contains("sidecar.istio.io/inject=false"), "{text}");
    assert!(text.contains("`mytest/sleep-a`"), "{text}");
}

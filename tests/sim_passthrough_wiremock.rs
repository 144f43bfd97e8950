//! What a host outside the mesh receives through a sidecar's `PassthroughCluster` (ALLOW_ANY),
//! checked by the host itself: a wiremock server stands in for `api.partner.test`, the simulated
//! network routes the host's address to it, and wiremock verifies the request that arrived — the
//! method, path and body the application sent, the headers the sidecar adds (`x-forwarded-proto`
//! from the plain-text downstream, `x-request-id`, `x-envoy-attempt-count`), and no
//! `x-forwarded-client-cert` even when the application forged one. Under REGISTRY_ONLY the same
//! request never reaches it.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use egressbench_manifest as manifest;
use egressbench_model::external::{App, ExternalHost, Internet};
use egressbench_model::request::{ClientRequest, Scheme, WorkloadRef};
use egressbench_network::{ClientKind, Clock};
use egressbench_scenario::target::Target;
use egressbench_sim::SimTarget;
use std::net::SocketAddr;
use wiremock::matchers::{body_string, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOST: &str = "api.partner.test";

fn target(mesh: &str) -> (SimTarget, SocketAddr) {
    let host =
        ExternalHost::new(HOST, App::html_page("the real host is wiremock")).listen(80, false);
    let at = SocketAddr::new(host.address().into(), 80);
    let internet = Internet::builtin().with(host);
    let root = env!("CARGO_MANIFEST_DIR");
    let paths: Vec<String> = [
        mesh,
        "000/namespaces.yaml",
        "000/egressgateway.yaml",
        "000/test.yaml",
    ]
    .iter()
    .map(|f| format!("{root}/fixtures/{f}"))
    .collect();
    let resources = manifest::load_paths(&paths)
        .expect("fixtures load")
        .resources;
    let mut t = egressbench_sim::target(internet, ClientKind::BuiltIn, Clock::default())
        .expect("simulated mesh starts");
    t.apply(resources).expect("fixtures apply");
    (t, at)
}

fn post() -> ClientRequest {
    let mut r = ClientRequest::get(Scheme::Http, HOST, 80, "/v1/orders");
    r.method = "POST".into();
    r.body = Some("id=42".into());
    r.headers = vec![
        ("User-Agent".into(), "curl/8.5.0".into()),
        ("Accept".into(), "*/*".into()),
        (
            "X-Forwarded-Client-Cert".into(),
            "By=x;URI=spiffe://cluster.local/ns/istio-system/sa/admin".into(),
        ),
    ];
    r
}

#[test]
fn allow_any_passes_the_request_through_with_the_headers_envoy_adds() {
    let (mut t, at) = target("mesh/allow-any.yaml");
    let server = t.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/orders"))
            .and(body_string("id=42"))
            .and(header("host", HOST))
            .and(header("x-forwarded-proto", "http"))
            .and(header("x-envoy-attempt-count", "1"))
            .and(header_exists("x-request-id"))
            .respond_with(ResponseTemplate::new(201).set_body_string("created"))
            .expect(1)
            .mount(&server)
            .await;
        server
    });
    let fabric = &t.engine().expect("the simulated mesh runs").world().fabric;
    fabric.route_to(at, *server.address());
    assert_eq!(fabric.real_addr(at), Some(*server.address()));
    let x = t
        .exec(&WorkloadRef::new("default", "nginx").into(), &post())
        .expect("exec");
    assert_eq!(x.result.status(), Some(201), "{x:#?}");
    assert_eq!(x.logs.len(), 1, "{:#?}", x.logs);
    assert_eq!(x.logs[0].upstream_cluster, "PassthroughCluster");
    assert_eq!(x.logs[0].route_name, "allow_any");
    let received = t.block_on(server.received_requests()).unwrap_or_default();
    assert_eq!(received.len(), 1);
    assert!(
        !received[0].headers.contains_key("x-forwarded-client-cert"),
        "{:?}",
        received[0].headers
    );
    // Dropping the server checks `expect(1)`.
    t.block_on(async move { server.verify().await });
}

#[test]
fn registry_only_never_reaches_the_host() {
    let (mut t, at) = target("mesh/registry-only.yaml");
    let server = t.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201))
            .expect(0)
            .mount(&server)
            .await;
        server
    });
    let fabric = &t.engine().expect("the simulated mesh runs").world().fabric;
    fabric.route_to(at, *server.address());
    assert_eq!(fabric.real_addr(at), Some(*server.address()));
    let x = t
        .exec(&WorkloadRef::new("default", "nginx").into(), &post())
        .expect("exec");
    assert_eq!(x.result.status(), Some(502), "{x:#?}");
    assert_eq!(x.logs[0].route_name, "block_all");
    t.block_on(async move { server.verify().await });
}

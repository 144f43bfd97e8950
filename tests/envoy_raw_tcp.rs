//! Raw TCP to a sidecar's HTTP port, on real Envoy: what the truth table's TCP probe must look
//! like for its cells to mean something.
//!
//! The three-way table first disagreed on every `tcp :80` cell: the model and the simulated mesh
//! answered Envoy's `400` (DPE, `http1.codec_error`) with an access-log entry, real Envoy mostly
//! reset the connection and logged nothing. The cause was the probe, not the semantics: it wrote
//! its line and closed its side at once. When Envoy's TLS inspector (a listener filter on the
//! sidecar's port listener) sees the peer's close before it has decided, it closes the socket
//! with the line unread (a reset); when the close comes later, the connection manager closes on
//! it, with or without its `400`. Which one happens is timing (measured by hand on Envoy 1.40:
//! mostly resets, some empty closes, now and then the `400`), so no test can pin it. A client
//! that keeps its side open until the answer comes, as request/response protocols do, always
//! gets the `400` the model computes. The probe now does that (`sim::client::TCP_PROBE`, and the
//! client's unit test that the probe does not half-close).
//!
//! Without an envoy binary the tests are skipped with a note, unless `EGRESSBENCH_REQUIRE_ENVOY`
//! is set (CI sets it), in which case they fail.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::envoy_or_skip;

use egressbench_envoy::run::EnvoyMesh;
use egressbench_manifest::load_paths;
use egressbench_model::external::Internet;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::{AccessLogEntry, ClientResult};
use egressbench_model::request::{ClientRequest, Scheme, WorkloadRef};
use egressbench_network::client::TCP_PROBE;
use egressbench_network::ClientKind;
use egressbench_resources::Store;
use egressbench_scenario::target::{ModelTarget, Target};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HOST: &str = "www.httpbin.org";

/// Scenario 000's cluster before any egress policy: REGISTRY_ONLY, sleep-a and nginx with
/// sidecars, an HTTP listener on port 80 (the `http` Services) behind a TLS inspector.
fn baseline() -> Vec<egressbench_resources::Resource> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<PathBuf> = [
        "fixtures/mesh/registry-only.yaml",
        "fixtures/000/namespaces.yaml",
        "fixtures/000/egressgateway.yaml",
        "fixtures/000/test.yaml",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    load_paths(&files).expect("the fixtures load").resources
}

fn sleep_a() -> WorkloadRef {
    WorkloadRef::new("mytest", "sleep-a")
}

fn tcp_probe() -> ClientRequest {
    ClientRequest::get(Scheme::Tcp, HOST, 80, "/")
}

/// Real Envoy for the baseline, with sleep-a's capture listener for `HOST:80`.
async fn envoy_baseline(envoy: PathBuf) -> (EnvoyMesh, SocketAddr) {
    let mut mesh = EnvoyMesh::start(Internet::builtin(), Some(envoy), ClientKind::BuiltIn)
        .await
        .expect("Envoy and the hosts start");
    let built = Mesh::build(&Store::from_resources(baseline())).expect("the baseline builds");
    mesh.configure(Arc::new(built))
        .await
        .expect("the proxies start");
    mesh.prepare(&[(sleep_a(), tcp_probe())])
        .await
        .expect("the capture listener starts");
    let at = mesh
        .capture(&sleep_a(), HOST, 80)
        .expect("sleep-a captures www.httpbin.org:80");
    (mesh, at)
}

/// What came back on `stream` until the peer closed: the bytes, or `None` for a reset.
async fn read_all(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await {
        Ok(Ok(_)) => Some(got),
        Ok(Err(_)) => None,
        Err(_) => panic!("Envoy neither answered nor closed within 10 s"),
    }
}

/// sleep-a's access-log entries written after the first `skip`, once Envoy has flushed at least
/// one (it flushes every 10 ms, `--file-flush-interval-msec`, and writes a connection's entry
/// when it closes, which it has by now), then 100 ms more for any that should not be there. A
/// busy machine only makes the wait longer, up to 10 s.
async fn entries_after(mesh: &EnvoyMesh, skip: usize) -> Vec<AccessLogEntry> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while mesh.logs(&sleep_a()).len() <= skip && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    mesh.logs(&sleep_a()).into_iter().skip(skip).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn raw_tcp_that_keeps_its_side_open_gets_envoys_400_and_the_log_entry_the_model_computes() {
    let Some(envoy) = envoy_or_skip("raw TCP to an HTTP port on Envoy") else {
        return;
    };
    let mut model = ModelTarget::new(Internet::builtin());
    model
        .apply(baseline())
        .expect("the model takes the baseline");
    let expected = model
        .exec(&sleep_a().into(), &tcp_probe())
        .expect("the model answers");
    assert_eq!(expected.logs.len(), 1, "{:?}", expected.logs);
    let want = &expected.logs[0];
    assert_eq!(
        (
            want.response_code,
            want.response_flags.as_str(),
            want.response_code_details.as_str()
        ),
        (400, "DPE", "http1.codec_error")
    );

    runtime().block_on(async {
        let (mesh, at) = envoy_baseline(envoy).await;
        let before = mesh.logs(&sleep_a()).len();
        let mut stream = TcpStream::connect(at).await.expect("the sidecar accepts");
        stream.write_all(TCP_PROBE).await.expect("the line is sent");
        let got = read_all(&mut stream)
            .await
            .expect("Envoy answers and closes, without a reset");
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "Envoy's answer: {text:?}"
        );
        assert!(text.ends_with("Bad Request"), "Envoy's answer: {text:?}");
        let logged = entries_after(&mesh, before).await;
        assert_eq!(logged.len(), 1, "{logged:?}");
        let e = &logged[0];
        assert_eq!(
            (
                e.response_code,
                e.response_flags.as_str(),
                e.response_code_details.as_str(),
                e.upstream_cluster.as_str()
            ),
            (
                want.response_code,
                want.response_flags.as_str(),
                want.response_code_details.as_str(),
                want.upstream_cluster.as_str()
            )
        );
        // The built-in client sends the same probe and sees a clean close (curl's code 0).
        let mut again = TcpStream::connect(at).await.expect("the sidecar accepts");
        again.write_all(TCP_PROBE).await.expect("sent");
        assert!(read_all(&mut again).await.is_some());
        assert_eq!(
            expected.result,
            ClientResult::Response(egressbench_model::outcome::HttpResponse::new(0, "", ""))
        );
    });
}

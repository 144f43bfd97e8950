//! The simulated mesh leaves nothing behind: once a `SimTarget` is dropped, every real listener it
//! bound — the gateway's, the sidecar capture listeners, the external hosts' — refuses
//! connections. And reconfiguring closes a gateway port its config no longer has.

// Test helpers may panic: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use egressbench_manifest as manifest;
use egressbench_model::request::{ClientRequest, Scheme, WorkloadRef};
use egressbench_network::{ClientKind, Clock};
use egressbench_resources::{Kind, ResourceId};
use egressbench_scenario::target::Target;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

fn fixtures(files: &[&str]) -> Vec<egressbench_resources::Resource> {
    let root = env!("CARGO_MANIFEST_DIR");
    let paths: Vec<String> = files
        .iter()
        .map(|f| format!("{root}/fixtures/{f}"))
        .collect();
    manifest::load_paths(&paths)
        .expect("fixtures load")
        .resources
}

fn accepts(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

#[test]
fn dropping_the_target_closes_every_listener_it_bound() {
    let mut t = egressbench_sim::target(Default::default(), ClientKind::BuiltIn, Clock::default())
        .expect("simulated mesh starts");
    t.apply(fixtures(&[
        "mesh/registry-only.yaml",
        "000/namespaces.yaml",
        "000/egressgateway.yaml",
        "000/test.yaml",
        "000/egress-http.yaml",
    ]))
    .expect("fixtures apply");
    let x = t
        .exec(
            &WorkloadRef::new("mytest", "sleep-a").into(),
            &ClientRequest::get(Scheme::Http, "www.httpbin.org", 80, "/get"),
        )
        .expect("exec");
    assert_eq!(x.result.status(), Some(200), "{x:#?}");
    let sim = t.engine().expect("running");
    let mesh = sim.world().mesh();
    let gw = mesh
        .workload(&WorkloadRef::new("istio-egress", "egressgateway-a"))
        .expect("gateway");
    let gw_ip = gw.address.parse().expect("pod address");
    let gateway = sim
        .world()
        .fabric
        .real_addr(SocketAddr::new(gw_ip, 80))
        .expect("the gateway listens on 80");
    let httpbin = sim
        .world()
        .fabric
        .real_addr("203.0.113.10:443".parse().expect("addr"))
        .expect("httpbin listens on 443");
    let capture = t
        .block_on(sim.capture(
            &WorkloadRef::new("mytest", "sleep-a"),
            "203.0.113.10:80".parse().expect("addr"),
        ))
        .expect("capture listener");
    for addr in [gateway, httpbin, capture] {
        assert!(accepts(addr), "{addr} accepts while the mesh runs");
    }
    drop(t);
    for addr in [gateway, httpbin, capture] {
        assert!(
            !accepts(addr),
            "{addr} still accepts after the mesh was dropped"
        );
    }
}

#[test]
fn a_gateway_port_the_config_drops_is_closed() {
    let mut t = egressbench_sim::target(Default::default(), ClientKind::BuiltIn, Clock::default())
        .expect("simulated mesh starts");
    t.apply(fixtures(&[
        "mesh/registry-only.yaml",
        "000/namespaces.yaml",
        "000/egressgateway.yaml",
        "000/test.yaml",
        "000/egress-http.yaml",
    ]))
    .expect("fixtures apply");
    let sim = t.engine().expect("running");
    let gw_ip = sim
        .world()
        .mesh()
        .workload(&WorkloadRef::new("istio-egress", "egressgateway-a"))
        .expect("gateway")
        .address
        .parse()
        .expect("pod address");
    let at = SocketAddr::new(gw_ip, 80);
    let real = sim.world().fabric.real_addr(at).expect("listens on 80");
    assert!(accepts(real));
    t.delete(&[ResourceId::new(
        Kind::AsmEgressTrafficPolicy,
        "istio-egress",
        "egress-by-egressgateway-a",
    )])
    .expect("delete the policy");
    let sim = t.engine().expect("running");
    assert_eq!(sim.world().fabric.real_addr(at), None);
    // The accept loop is aborted on the runtime; give it a turn to drop the listener.
    t.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });
    assert!(
        !accepts(real),
        "{real} still accepts after its Gateway server went away"
    );
}

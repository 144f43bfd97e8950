//! The walk's traces on a small mesh: which hops a request takes, what each records (listener,
//! chain, route, cluster, identities, typed notes), and how the walk ends.

use super::*;
use crate::decide::{Note, WireKind};
use crate::outcome::reply::{Details, ResponseFlag};
use crate::request::ClientRequest;
use crate::testing::{decision, mesh, trace, HTTP_VIA_GATEWAY};

/// Sidecars reach the gateway over mesh mTLS with the SNI the ISTIO_MUTUAL Gateway server
/// matches.
const GATEWAY_MTLS: &str = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: gw, namespace: default}
spec:
  host: gw.istio-system.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL, sni: httpbin.org}}
"#;

#[test]
fn an_unknown_host_ends_at_the_sidecars_block_all_route() {
    // httpbin.org resolves, but no ServiceEntry registers it and the mesh is REGISTRY_ONLY.
    let t = trace(&mesh(""), "sleep", Scheme::Http, "httpbin.org", 80);
    assert_eq!(t.hops.len(), 1);
    let h = &t.hops[0];
    assert_eq!(&*h.proxy, "default/sleep");
    assert_eq!(h.mode, HopMode::Http);
    assert_eq!(h.route.as_deref(), Some(crate::xds::BLOCK_ALL));
    match &t.end {
        End::Responded { hop: 0, reply } => {
            assert_eq!(reply.status, 502);
            assert_eq!(reply.details, Details::DirectResponse);
            assert!(reply.flags.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_proxy_containers_own_requests_bypass_the_sidecar() {
    let mut req = ClientRequest::get(Scheme::Http, "httpbin.org", 80, "/");
    req.from_proxy_container = true;
    let t = decision(&mesh(""), "sleep", req.clone());
    assert!(t.hops.is_empty(), "{:?}", t.hops);
    assert!(matches!(t.end, End::Reached { .. }), "{:?}", t.end);
    let m = mesh("");
    let from = WorkloadRef::new("default", "sleep");
    let internet = Internet::builtin();
    assert!(matches!(
        step::app_connection(&m, &internet, &from, &req),
        step::AppConnection::Direct { .. }
    ));
    req.from_proxy_container = false;
    assert!(matches!(
        step::app_connection(&m, &internet, &from, &req),
        step::AppConnection::Captured { .. }
    ));
}

#[test]
fn plain_http_is_routed_by_its_host_header_and_connects_where_it_is_pinned() {
    let m = mesh(HTTP_VIA_GATEWAY);
    // The URL names www.baidu.com, the Host header httpbin.org: the sidecar routes by Host.
    let mut req = ClientRequest::get(Scheme::Http, "www.baidu.com", 80, "/get");
    req.host_header = Some("httpbin.org".into());
    let t = decision(&m, "sleep", req);
    assert_eq!(t.hops[0].virtual_host.as_deref(), Some("httpbin.org:80"));
    // --resolve pins the address: the lookup is skipped and the address is dialed.
    let mut req = ClientRequest::get(Scheme::Http, "httpbin.org", 80, "/get");
    req.dial = Some(crate::request::Dial {
        host: "203.0.113.30".into(),
        port: 80,
    });
    let t = decision(&m, "sleep", req);
    assert_eq!(t.address, Some("203.0.113.30".parse().unwrap()));
    assert_eq!(t.hops[0].virtual_host.as_deref(), Some("httpbin.org:80"));
}

#[test]
fn tls_to_an_unknown_host_is_reset_by_blackhole_with_a_typed_note() {
    let t = trace(&mesh(""), "sleep", Scheme::Https, "httpbin.org", 443);
    assert_eq!(t.hops.len(), 1);
    let h = &t.hops[0];
    assert_eq!(h.cluster.as_deref(), Some(crate::xds::BLACKHOLE_CLUSTER));
    assert_eq!(h.sni.as_deref(), Some("httpbin.org"));
    assert!(h.notes.contains(&Note::NoEndpoints {
        cluster: crate::xds::BLACKHOLE_CLUSTER.into()
    }));
    match &t.end {
        End::Closed { flags, .. } => {
            assert!(flags.contains(ResponseFlag::NoHealthyUpstream));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_request_through_the_gateway_takes_two_hops_with_the_clients_identity() {
    let server = HTTP_VIA_GATEWAY.replace(
        "- port: {number: 80, name: http, protocol: HTTP}\n    hosts: [httpbin.org]",
        "- port: {number: 80, name: https, protocol: HTTPS}\n    hosts: [httpbin.org]\n    tls: {mode: ISTIO_MUTUAL}",
    );
    assert_ne!(server, HTTP_VIA_GATEWAY);
    let mtls = format!("{server}\n---\n{GATEWAY_MTLS}");
    let t = trace(&mesh(&mtls), "sleep", Scheme::Http, "httpbin.org", 80);
    assert_eq!(t.hops.len(), 2, "{:#?}", t.hops);
    let (sidecar, gateway) = (&t.hops[0], &t.hops[1]);
    assert_eq!(
        sidecar.cluster.as_deref(),
        Some("outbound|80||gw.istio-system.svc.cluster.local")
    );
    assert_eq!(gateway.kind, ProxyKind::Gateway);
    assert_eq!(
        gateway.peer_identity.as_deref(),
        Some("spiffe://cluster.local/ns/default/sa/sleep")
    );
    assert_eq!(gateway.cluster.as_deref(), Some("outbound|80||httpbin.org"));
    assert!(gateway.notes.contains(&Note::Received {
        host: "httpbin.org".into(),
        port: 80,
        wire: WireKind::PlaintextHttp,
    }));
    match &t.end {
        End::Reached {
            destination,
            port: 80,
            ..
        } => assert_eq!(destination, "httpbin.org"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_gateway_port_without_a_listener_is_noted_and_fails_the_connect() {
    // The route sends port 80 to the gateway's port 443, where no Gateway server listens.
    let vs = HTTP_VIA_GATEWAY.replace(
        "route: [{destination: {host: gw.istio-system.svc.cluster.local, port: {number: 80}}}]",
        "route: [{destination: {host: gw.istio-system.svc.cluster.local, port: {number: 443}}}]",
    );
    let t = trace(&mesh(&vs), "sleep", Scheme::Http, "httpbin.org", 80);
    assert_eq!(t.hops.len(), 1);
    assert!(
        t.hops[0]
            .notes
            .iter()
            .any(|n| matches!(n, Note::GatewayPortClosed { port: 8443, .. })),
        "{:?}",
        t.hops[0].notes
    );
    assert!(matches!(
        t.end,
        End::UpstreamFailed {
            hop: 0,
            failure: UpstreamFailure::ConnectFailure
        }
    ));
}

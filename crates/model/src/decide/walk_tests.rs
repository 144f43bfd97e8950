//! The walk's traces on a small mesh: which hops a request takes, what each records (listener,
//! chain, route, cluster, identities, typed notes), and how the walk ends.

use super::*;
use crate::decide::{Note, WireKind};
use crate::outcome::reply::{Details, ResponseFlag};
use crate::request::{ClientRequest, Origin};
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
    let from = Origin::Pod(WorkloadRef::new("default", "sleep"));
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
    // No filter chain of the catch-all listener matches on SNI: it has no tls_inspector, so the
    // connection has no requested server name (as Envoy logs it: `-`).
    assert_eq!(h.sni, None);
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

/// Squid in a namespace without injection, as Istio's "Using an External HTTPS Proxy" task runs
/// it.
const SQUID_POD: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: external}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: squid, namespace: external}
spec:
  template:
    metadata: {labels: {app: squid}}
    spec: {containers: [{name: squid, image: "sameersbn/squid:3.5.27"}]}
"#;

/// `SQUID_POD` and the ServiceEntry that admits its port by its pod's address: `protocol` TCP
/// (the task's) or HTTP; with the pod's address.
fn squid(protocol: &str) -> (Mesh, std::net::Ipv4Addr) {
    let base = SQUID_POD;
    let address: std::net::Ipv4Addr = mesh(base)
        .workload(&WorkloadRef::new("external", "squid"))
        .and_then(|w| w.address.parse().ok())
        .expect("squid's pod address");
    let entry = format!(
        r#"
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: proxy, namespace: default}}
spec:
  hosts: [my-company-proxy.com]
  addresses: ["{address}/32"]
  ports: [{{number: 3128, name: proxy, protocol: {protocol}}}]
  location: MESH_EXTERNAL
  resolution: NONE
"#
    );
    (mesh(&format!("{base}{entry}")), address)
}

fn through(proxy: std::net::Ipv4Addr, scheme: Scheme, host: &str, port: u16) -> ClientRequest {
    let mut req = ClientRequest::get(scheme, host, port, "/");
    req.proxy = Some(crate::request::ForwardProxy {
        host: proxy.to_string(),
        port: 3128,
        tunnel: true,
    });
    req
}

#[test]
fn a_tcp_port_for_the_proxy_relays_the_tunnel_squid_opens() {
    let (m, proxy) = squid("TCP");
    let t = decision(
        &m,
        "sleep",
        through(proxy, Scheme::Https, "httpbin.org", 443),
    );
    // The sidecar sees a TCP connection to the proxy, relayed through the ServiceEntry's cluster.
    assert_eq!(t.hops.len(), 1);
    assert_eq!(t.hops[0].mode, HopMode::Tcp);
    assert_eq!(
        t.hops[0].cluster.as_deref(),
        Some("outbound|3128||my-company-proxy.com")
    );
    let End::Reached {
        destination,
        outcome: Reached::Tunnel(leg),
        ..
    } = &t.end
    else {
        panic!("a tunnel expected: {:?}", t.end);
    };
    assert_eq!(destination, "external/squid");
    // The second leg is squid's own connection, straight out (its pod has no sidecar).
    assert_eq!(
        leg.0.from.pod(),
        Some(&WorkloadRef::new("external", "squid"))
    );
    assert!(leg.0.hops.is_empty());
    // Squid received the CONNECT from sleep's pod and went to httpbin.org's address; httpbin.org
    // received curl's own TLS.
    let connect = &t.received[0];
    assert_eq!(
        (
            connect.method.as_str(),
            connect.url.as_str(),
            connect.status
        ),
        ("CONNECT", "httpbin.org:443", 200)
    );
    let sleep = m.workload(&WorkloadRef::new("default", "sleep")).unwrap();
    assert_eq!(connect.peer.to_string(), &*sleep.address);
    assert_eq!(connect.upstream, Some("203.0.113.10".parse().unwrap()));
    assert_eq!(t.received[1].sni.as_deref(), Some("httpbin.org"));
    let x = crate::answer::answer(&t);
    assert_eq!(x.result.status(), Some(200));
    assert_eq!(x.remote, Some(format!("{proxy}:3128").parse().unwrap()));
}

#[test]
fn an_http_port_for_the_proxy_answers_the_connect_itself() {
    let (m, proxy) = squid("HTTP");
    let t = decision(
        &m,
        "sleep",
        through(proxy, Scheme::Https, "httpbin.org", 443),
    );
    assert_eq!(t.hops[0].mode, HopMode::Http);
    assert!(t.hops[0].notes.contains(&Note::ConnectRefused));
    assert!(matches!(&t.end, End::Responded { hop: 0, reply } if reply.status == 404));
    let x = crate::answer::answer(&t);
    assert_eq!(
        x.result,
        crate::outcome::ClientResult::ConnectionFailed {
            error: crate::outcome::ConnectionError::TunnelFailed(404),
            during_tls: false,
        }
    );
    assert!(t.received.is_empty());
}

#[test]
fn squid_refuses_ports_other_than_443_and_names_it_cannot_resolve() {
    let (m, proxy) = squid("TCP");
    let refused = |host: &str, port: u16, scheme: Scheme| {
        let t = decision(&m, "sleep", through(proxy, scheme, host, port));
        let x = crate::answer::answer(&t);
        (x.result, t.received.first().map(|r| (r.status, r.upstream)))
    };
    let failed = |status| crate::outcome::ClientResult::ConnectionFailed {
        error: crate::outcome::ConnectionError::TunnelFailed(status),
        during_tls: false,
    };
    assert_eq!(
        refused("httpbin.org", 80, Scheme::Http),
        (failed(403), Some((403, None)))
    );
    assert_eq!(
        refused("no-such-host.invalid", 443, Scheme::Https),
        (failed(503), Some((503, None)))
    );
}

#[test]
fn without_an_entry_for_the_proxy_registry_only_resets_the_connect() {
    let (_, proxy) = squid("TCP");
    let m = mesh(SQUID_POD);
    let t = decision(
        &m,
        "sleep",
        through(proxy, Scheme::Https, "httpbin.org", 443),
    );
    assert_eq!(t.hops[0].cluster.as_deref(), Some("BlackHoleCluster"));
    let x = crate::answer::answer(&t);
    assert_eq!(
        x.result,
        crate::outcome::ClientResult::ConnectionFailed {
            error: crate::outcome::ConnectionError::Reset,
            during_tls: false,
        }
    );
}

/// An ingress gateway `ingress` behind a LoadBalancer Service (80 → 8080, 443 → 8443), routing Host
/// `app.example.com` to the application of `sleep` (echo server) on its Service's port 80.
const INGRESS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: istio-system}
spec:
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec:
      serviceAccountName: ingress
      containers: [{name: istio-proxy, image: auto, ports: [{containerPort: 8080}, {containerPort: 8443}]}]
---
apiVersion: v1
kind: Service
metadata: {name: ingress, namespace: istio-system}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports: [{name: http2, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: default}
spec:
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: gcr.io/istio-testing/app, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec:
  selector: {app: app}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [app.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: default}
spec:
  hosts: [app.example.com]
  gateways: [web]
  http:
  - route: [{destination: {host: app, port: {number: 80}}}]
"#;

fn from_workstation(m: &Mesh, request: ClientRequest) -> Trace {
    decide(
        m,
        &Internet::builtin(),
        &Call::new(Origin::workstation(), request),
    )
    .unwrap()
}

fn load_balancer_address(m: &Mesh) -> String {
    m.ctx
        .registry
        .services
        .iter()
        .find_map(|s| s.load_balancer.clone())
        .expect("the ingress Service has a load-balancer address")
}

#[test]
fn the_workstation_enters_the_cluster_through_a_load_balancer_address() {
    let m = mesh(INGRESS);
    let lb = load_balancer_address(&m);
    assert!(lb.starts_with("172.18.255."), "{lb}");
    let mut req = ClientRequest::get(Scheme::Http, &lb, 80, "/status/200");
    req.host_header = Some("app.example.com".into());
    let t = from_workstation(&m, req.clone());
    // kube-proxy's rule for the address leads to the gateway pod's targetPort; the gateway
    // routes by Host to the application's sidecar.
    assert_eq!(&*t.hops[0].proxy, "istio-system/ingress");
    assert_eq!(&*t.hops[0].listener, "0.0.0.0_8080");
    assert_eq!(
        t.hops[0].cluster.as_deref(),
        Some("outbound|80||app.default.svc.cluster.local")
    );
    assert_eq!(&*t.hops[1].proxy, "default/app");
    assert_eq!(&*t.from_identity, "");
    assert_eq!(crate::answer::answer(&t).result.status(), Some(200));
    // Another Host is no route of the gateway's: 404 from the gateway itself.
    req.host_header = None;
    let t = from_workstation(&m, req);
    assert_eq!(crate::answer::answer(&t).result.status(), Some(404));
    // A port the Service does not have: kube-proxy rejects it.
    let t = from_workstation(&m, ClientRequest::get(Scheme::Http, &lb, 81, "/"));
    assert!(
        matches!(
            t.end,
            End::Reached {
                outcome: Reached::Refused,
                ..
            }
        ),
        "{:?}",
        t.end
    );
}

#[test]
fn from_the_workstation_the_clusters_own_addresses_do_not_route_and_names_are_public() {
    let m = mesh(INGRESS);
    let internet = Internet::builtin();
    let pod = m
        .workload(&WorkloadRef::new("default", "app"))
        .unwrap()
        .address
        .to_string();
    let t = from_workstation(&m, ClientRequest::get(Scheme::Http, &pod, 8080, "/"));
    assert!(
        matches!(
            t.end,
            End::Reached {
                outcome: Reached::NoRoute,
                ..
            }
        ),
        "{:?}",
        t.end
    );
    assert!(matches!(
        step::app_connection(
            &m,
            &internet,
            &Origin::workstation(),
            &ClientRequest::get(Scheme::Http, &pod, 8080, "/")
        ),
        step::AppConnection::Unroutable { .. }
    ));
    // A Service's name means nothing outside the cluster.
    let t = from_workstation(
        &m,
        ClientRequest::get(Scheme::Http, "app.default.svc.cluster.local", 80, "/"),
    );
    assert!(
        matches!(
            t.end,
            End::Reached {
                outcome: Reached::Unresolved,
                ..
            }
        ),
        "{:?}",
        t.end
    );
    // A public host is reached straight, from the workstation's own address.
    let t = from_workstation(
        &m,
        ClientRequest::get(Scheme::Http, "httpbin.org", 80, "/get"),
    );
    assert!(t.hops.is_empty());
    let x = crate::answer::answer(&t);
    assert_eq!(x.result.status(), Some(200));
    assert_eq!(
        x.received[0].peer,
        crate::request::WORKSTATION_ADDRESS,
        "{:?}",
        x.received
    );
}

#[test]
fn a_pod_reaches_a_load_balancer_address_through_kube_proxy_too() {
    let m = mesh(INGRESS);
    let lb = load_balancer_address(&m);
    assert_eq!(
        step::kube_proxy(&m, &lb, 80),
        Some((WorkloadRef::new("istio-system", "ingress"), 8080))
    );
    assert!(step::kube_proxy_table(&m)
        .iter()
        .any(|(vip, _)| vip.ip().to_string() == lb && vip.port() == 80));
}

#[test]
fn the_workstations_curl_reads_its_tls_files_on_the_workstation() {
    use egressbench_resources::files::{Certificate, DistinguishedName, FileContent};
    let m = mesh(INGRESS);
    let ca = Certificate {
        subject: DistinguishedName::parse("/O=example Inc./CN=example.com").unwrap(),
        issuer: None,
        serial: 0,
        key: "example.com.key".into(),
        ca: true,
        days: 365,
    };
    let files: crate::request::WorkstationFiles = std::sync::Arc::new(
        [(
            "example.com.crt".to_string(),
            FileContent::Certificate(ca.clone()),
        )]
        .into(),
    );
    let mut req = ClientRequest::get(Scheme::Https, "httpbin.org", 443, "/get");
    req.tls.ca_file = Some("./example.com.crt".into());
    let from = Origin::Workstation(files);
    assert_eq!(
        step::client_credentials(&m, &from, &req).map(|c| c.trust),
        Ok(crate::request::Trust::Anchors(vec![ca]))
    );
    // httpbin.org's certificate does not chain to example.com's: curl rejects it.
    let t = decide(
        &m,
        &Internet::builtin(),
        &Call::new(from.clone(), req.clone()),
    )
    .unwrap();
    assert!(
        matches!(
            t.end,
            End::Reached {
                outcome: Reached::CertificateRejected(_),
                ..
            }
        ),
        "{:?}",
        t.end
    );
    // A file the workstation does not have stops curl before it connects.
    req.tls.ca_file = Some("missing.crt".into());
    let t = decide(&m, &Internet::builtin(), &Call::new(from, req)).unwrap();
    assert!(matches!(t.end, End::NotSent { .. }), "{:?}", t.end);
}

#[test]
fn a_gateway_server_without_its_credential_secret_fails_every_handshake() {
    let m = mesh(&format!(
        "{INGRESS}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: secure, namespace: default}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: 443, name: https, protocol: HTTPS}}
    tls: {{mode: SIMPLE, credentialName: app-credential}}
    hosts: [app.example.com]
"
    ));
    let lb = load_balancer_address(&m);
    let gateway = m
        .proxy(&WorkloadRef::new("istio-system", "ingress"))
        .expect("the ingress gateway's config");
    let credential = gateway
        .credentials()
        .next()
        .expect("the server's credential");
    assert_eq!(&*credential.secret, "app-credential");
    assert!(credential.certificate.is_none(), "no such Secret");
    let mut req = ClientRequest::get(Scheme::Https, "app.example.com", 443, "/");
    req.dial = Some(crate::request::Dial {
        host: lb,
        port: 443,
    });
    req.tls.insecure = true;
    let t = from_workstation(&m, req);
    // The client's handshake fails at the gateway, which handled no request and logs nothing.
    assert!(t.hops.is_empty(), "{:?}", t.hops);
    assert!(
        matches!(
            t.end,
            End::Reached {
                outcome: Reached::Reset,
                tls: true,
                ..
            }
        ),
        "{:?}",
        t.end
    );
    let x = crate::answer::answer(&t);
    assert!(x.logs.is_empty(), "{:?}", x.logs);
}

#[test]
fn a_workstation_request_that_reaches_nothing_is_told_the_way_in() {
    let m = mesh(INGRESS);
    let lb = load_balancer_address(&m);
    let t = from_workstation(&m, ClientRequest::get(Scheme::Http, "10.0.0.1", 80, "/"));
    let remedies = super::super::remedy::remedies(&m, &t);
    assert!(
        remedies
            .iter()
            .any(|r| r.contains(&format!("ingress.istio-system at {lb} (ports 80, 443)"))),
        "{remedies:?}"
    );
}

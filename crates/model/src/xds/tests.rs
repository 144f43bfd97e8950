//! Proxy config built from small inline meshes, checked by deciding requests on it: each test
//! names the istiod behaviour it pins.

use crate::decide::{End, Reached};
use crate::outcome::ClientResult;
use crate::request::{Scheme, WorkloadRef};
use crate::testing::{call, mesh, status, HTTP_VIA_GATEWAY};
use crate::xds::{EndpointTarget, Transport};

#[test]
fn gateway_listens_on_the_services_target_port() {
    let m = mesh(HTTP_VIA_GATEWAY);
    let gw = &m.proxies[&WorkloadRef::new("istio-system", "gw")];
    assert!(gw.listener("0.0.0.0_8080").is_some(), "{:?}", gw.listeners);
    let x = call(&m, "sleep", Scheme::Http, "httpbin.org", 80, "/get");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
    // The gateway Service port is `http2`: the sidecar speaks HTTP/2 to the gateway.
    assert_eq!(x.logs[1].protocol, "HTTP/2");
    // The VirtualService route has no name: Envoy logs `-` for it.
    assert_eq!(x.logs[1].route_name, "-");
    assert_eq!(x.logs[1].upstream_cluster, "outbound|80||httpbin.org");
}

#[test]
fn gateway_routes_of_several_virtual_services_merge_with_catch_alls_last() {
    let m = mesh(&format!(
        "{HTTP_VIA_GATEWAY}\n---\n{}",
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: status-teapot, namespace: default}
spec:
  hosts: [httpbin.org]
  gateways: [istio-system/egress]
  http:
  - match: [{uri: {prefix: /status}}]
    directResponse: {status: 418}
"#
    ));
    let x = call(&m, "sleep", Scheme::Http, "httpbin.org", 80, "/status/200");
    assert_eq!(status(&x), Some(418), "{:#?}", x.trace);
    let x = call(&m, "sleep", Scheme::Http, "httpbin.org", 80, "/get");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
}

#[test]
fn passthrough_chains_follow_the_virtual_services_sni_hosts() {
    let m = mesh(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: default}
spec:
  hosts: [edition.cnn.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 443, name: tls, protocol: TLS}
    hosts: ["*"]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cnn, namespace: default}
spec:
  hosts: [edition.cnn.com]
  gateways: [mesh, istio-system/egress]
  tls:
  - match: [{gateways: [mesh], port: 443, sniHosts: [edition.cnn.com]}]
    route: [{destination: {host: gw.istio-system.svc.cluster.local, port: {number: 443}}}]
  - match: [{gateways: [istio-system/egress], port: 443, sniHosts: [edition.cnn.com]}]
    route: [{destination: {host: edition.cnn.com, port: {number: 443}}}]
"#,
    );
    let x = call(&m, "sleep", Scheme::Https, "edition.cnn.com", 443, "/");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
    assert_eq!(x.logs[1].upstream_cluster, "outbound|443||edition.cnn.com");
    assert_eq!(x.logs[1].requested_server_name, "edition.cnn.com");
}

#[test]
fn sidecar_tls_chains_take_wildcard_sni_hosts_from_the_virtual_service() {
    let m = mesh(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wikipedia, namespace: default}
spec:
  hosts: [www.wikipedia.org]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wikipedia, namespace: default}
spec:
  hosts: ["*.wikipedia.org"]
  tls:
  - match: [{port: 443, sniHosts: ["*.wikipedia.org"]}]
    route: [{destination: {host: www.wikipedia.org, port: {number: 443}}}]
"#,
    );
    let sidecar = &m.proxies[&WorkloadRef::new("default", "sleep")];
    let l = sidecar.listener("0.0.0.0_443").map(|l| &l.filter_chains);
    assert!(
        l.is_some_and(|c| c
            .iter()
            .any(|c| c.matcher.server_names == ["*.wikipedia.org"])),
        "{l:#?}"
    );
}

#[test]
fn virtual_service_hosts_outside_the_registry_get_port_80_virtual_hosts() {
    let m = mesh(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: google-to-sleep, namespace: default}
spec:
  hosts: [www.google.com]
  http:
  - route: [{destination: {host: sleep.default.svc.cluster.local, port: {number: 80}}}]
"#,
    );
    // The sleep pod's application (no image: a client) listens nowhere: its sidecar's inbound
    // cluster cannot connect, and the client gets the 503 of that failure.
    let x = call(&m, "sleep", Scheme::Http, "www.google.com", 80, "/");
    assert_eq!(status(&x), Some(503), "{:#?}", x.trace);
    assert_eq!(x.logs[1].upstream_cluster, "inbound|80||");
    assert_eq!(x.logs[1].response_flags, "UF");
    assert_eq!(
        x.logs[0].upstream_cluster,
        "outbound|80||sleep.default.svc.cluster.local"
    );
}

#[test]
fn tls_on_an_http_port_falls_through_to_blackhole() {
    let m = mesh("");
    let x = call(&m, "sleep", Scheme::Https, "www.httpbin.org", 80, "/");
    assert!(
        matches!(
            x.result,
            ClientResult::ConnectionFailed {
                during_tls: true,
                ..
            }
        ),
        "{:#?}",
        x.trace
    );
    assert_eq!(x.logs[0].upstream_cluster, "BlackHoleCluster");
    assert_eq!(x.logs[0].response_flags, "UH");
}

#[test]
fn bare_short_names_resolve_in_the_callers_namespace_only() {
    let m = mesh(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: other}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: gcr.io/istio-testing/app, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: other}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
"#,
    );
    let x = call(&m, "sleep", Scheme::Http, "web", 80, "/");
    assert!(
        matches!(
            &x.trace.as_ref().map(|t| &t.end),
            Some(End::Reached {
                outcome: Reached::Unresolved,
                ..
            })
        ),
        "{:#?}",
        x.trace
    );
    let x = call(&m, "sleep", Scheme::Http, "web.other", 80, "/");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
}

#[test]
fn port_level_tls_settings_do_not_inherit_the_rule_wide_ones() {
    let m = mesh(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin.org
  trafficPolicy:
    tls: {mode: SIMPLE}
    portLevelSettings:
    - port: {number: 80}
      loadBalancer: {simple: ROUND_ROBIN}
"#,
    );
    let sidecar = &m.proxies[&WorkloadRef::new("default", "sleep")];
    let c80 = &sidecar.clusters["outbound|80||httpbin.org"];
    let c443 = &sidecar.clusters["outbound|443||httpbin.org"];
    assert!(c80.tls.is_none(), "{c80:#?}");
    assert!(c443.tls.is_some(), "{c443:#?}");
}

#[test]
fn http_and_tls_services_on_one_port_share_the_listener() {
    let m = mesh(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: plain-on-443, namespace: default}
spec:
  hosts: [edition.cnn.com]
  ports: [{number: 443, name: http-port, protocol: HTTP, targetPort: 443}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: google, namespace: default}
spec:
  hosts: [www.google.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
"#,
    );
    // The application's own TLS to www.google.com is routed by SNI on the shared listener.
    let x = call(&m, "sleep", Scheme::Https, "www.google.com", 443, "/");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
    assert_eq!(x.logs[0].upstream_cluster, "outbound|443||www.google.com");
}

#[test]
fn a_gateway_port_without_a_server_is_a_retried_connect_failure() {
    let m = mesh(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  http:
  - route: [{destination: {host: gw.istio-system.svc.cluster.local, port: {number: 80}}}]
"#,
    );
    // Nothing listens on the gateway (no Gateway resource): the sidecar's connect fails and,
    // after Istio's default retries, it answers 503 itself.
    let x = call(&m, "sleep", Scheme::Http, "httpbin.org", 80, "/get");
    assert_eq!(status(&x), Some(503), "{:#?}", x.trace);
    assert_eq!(x.logs[0].response_flags, "UF,URX");
    assert!(x.logs[0]
        .response_code_details
        .starts_with("upstream_reset_before_response_started{remote_connection_failure"));
}

#[test]
fn gateways_ignore_virtual_services_not_exported_to_their_namespace() {
    let hidden = HTTP_VIA_GATEWAY.replace(
        "  gateways: [mesh, istio-system/egress]\n",
        "  gateways: [mesh, istio-system/egress]\n  exportTo: [\".\"]\n",
    );
    assert_ne!(hidden, HTTP_VIA_GATEWAY);
    let m = mesh(&hidden);
    // The gateway's HTTP server still listens, but no VirtualService routes there: 404 NR.
    let x = call(&m, "sleep", Scheme::Http, "httpbin.org", 80, "/get");
    assert_eq!(status(&x), Some(404), "{:#?}", x.trace);
    assert_eq!(x.logs[1].response_flags, "NR");
    assert_eq!(x.logs[1].response_code_details, "route_not_found");
}

/// An echo app behind a sidecar in `default` (Service port 80 → named targetPort `http-echo`,
/// container port 18080), and one without a sidecar in `legacy`.
const ECHO_APPS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default}
spec:
  template:
    metadata: {labels: {app: echo, version: v2}}
    spec:
      containers:
      - name: app
        image: gcr.io/istio-testing/app:latest
        ports: [{name: http-echo, containerPort: 18080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http-echo}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain, namespace: legacy}
spec:
  template:
    metadata: {labels: {app: plain}}
    spec:
      containers: [{name: app, image: gcr.io/istio-testing/app, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: legacy}
spec:
  selector: {app: plain}
  ports: [{name: tcp, port: 9000, targetPort: 8080}]
"#;

#[test]
fn a_sidecar_s_inbound_side_is_istiods_permissive_chains_to_its_application() {
    let m = mesh(ECHO_APPS);
    let echo = m
        .proxy(&WorkloadRef::new("default", "echo"))
        .expect("a sidecar");
    // One inbound listener, for the named target port; mTLS and plaintext chains.
    let [listener] = echo.inbound.as_slice() else {
        panic!("{:#?}", echo.inbound)
    };
    assert_eq!((&*listener.name, listener.port), ("virtualInbound", 18080));
    let chains: Vec<_> = listener
        .filter_chains
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                c.matcher.transport,
                c.downstream_tls.is_some(),
            )
        })
        .collect();
    assert_eq!(
        chains,
        [
            ("0.0.0.0_18080".into(), Some(Transport::Tls), true),
            ("0.0.0.0_18080".into(), Some(Transport::RawBuffer), false),
        ]
    );
    let cluster = &echo.clusters["inbound|18080||"];
    assert_eq!(cluster.endpoints[0].target, EndpointTarget::App(echo_ref()));
    assert_eq!(
        cluster.endpoints[0].address,
        *m.workload(&echo_ref()).unwrap().address
    );
    assert!(echo.routes.contains_key("inbound|18080||"));
    // Gateways face inbound with their own listeners.
    let gw = m.proxy(&WorkloadRef::new("istio-system", "gw")).unwrap();
    assert!(gw.inbound.is_empty());
}

fn echo_ref() -> WorkloadRef {
    WorkloadRef::new("default", "echo")
}

#[test]
fn in_cluster_requests_reach_the_application_through_the_inbound_side_or_kube_proxy() {
    let m = mesh(ECHO_APPS);
    // Sidecar to sidecar: auto mTLS, the inbound cluster, the echo's own account of it.
    let x = call(&m, "sleep", Scheme::Http, "echo", 80, "/hi");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
    assert_eq!(x.logs[1].upstream_cluster, "inbound|18080||");
    assert_eq!(
        x.logs[1].downstream_peer_principal,
        "spiffe://cluster.local/ns/default/sa/sleep"
    );
    let ClientResult::Response(r) = &x.result else {
        panic!("{:?}", x.result)
    };
    for line in [
        "ServiceVersion=v2\n",
        "ServicePort=18080\n",
        "Host=echo\n",
        "URL=/hi\n",
        "IP=127.0.0.6\n",
        "RequestHeader=X-Forwarded-Client-Cert:By=spiffe://cluster.local/ns/default/sa/default;Subject=\"\";URI=spiffe://cluster.local/ns/default/sa/sleep\n",
    ] {
        assert!(r.body.contains(line), "{line} in {}", r.body);
    }
    assert_eq!(x.received[0].peer.to_string(), "127.0.0.6");
    assert_eq!(x.received[0].port, 18080);
    // To a pod without a sidecar: a TCP port of the Service, the application on its target
    // port, seen from the sidecar's pod.
    let x = call(&m, "sleep", Scheme::Http, "plain.legacy", 9000, "/");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
    assert_eq!(x.received[0].port, 8080);
    assert_eq!(
        x.received[0].peer.to_string(),
        *m.workload(&WorkloadRef::new("default", "sleep"))
            .unwrap()
            .address
    );
    // A port the Service does not declare: the client's sidecar has no listener for it, and
    // under REGISTRY_ONLY sends it to BlackHoleCluster; nothing reaches the application.
    let x = call(&m, "sleep", Scheme::Http, "echo", 8080, "/");
    assert_eq!(status(&x), None, "{:#?}", x.trace);
    assert_eq!(x.logs[0].upstream_cluster, "BlackHoleCluster");
    assert!(x.received.is_empty());
}

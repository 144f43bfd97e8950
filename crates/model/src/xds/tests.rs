//! Proxy config built from small inline meshes, checked by deciding requests on it: each test
//! names the istiod behaviour it pins.

use crate::decide::{End, Reached};
use crate::outcome::ClientResult;
use crate::request::{Scheme, WorkloadRef};
use crate::testing::{call, mesh, status, HTTP_VIA_GATEWAY};

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
    let x = call(&m, "sleep", Scheme::Http, "www.google.com", 80, "/");
    assert_eq!(status(&x), Some(200), "{:#?}", x.trace);
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

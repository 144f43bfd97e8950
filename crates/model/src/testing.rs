//! Fixtures for the model's unit tests: a small REGISTRY_ONLY mesh (a `sleep` client in
//! `default`, an egress gateway `gw` in `istio-system`), a route through the gateway to
//! httpbin.org, and helpers that build a mesh and decide a request on it.
//!
//! Owns: test fixtures only (compiled for tests). Leaves out: the tests themselves, which live
//! beside the code they pin (`xds::tests`, `decide::walk`'s and `decide::machine`'s tests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::answer::answer;
use crate::answer::Exchange;
use crate::decide::{decide, Call, Trace};
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::request::{ClientRequest, Scheme, WorkloadRef};
use egressbench_resources::Store;

pub(crate) const BASE: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep, namespace: default}
spec:
  template:
    metadata: {labels: {app: sleep}}
    spec: {serviceAccountName: sleep}
---
apiVersion: v1
kind: Service
metadata: {name: sleep, namespace: default}
spec:
  selector: {app: sleep}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gw, namespace: istio-system}
spec:
  template:
    metadata: {labels: {istio: egressgateway}}
    spec: {serviceAccountName: gw}
---
apiVersion: v1
kind: Service
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
  - {name: https, port: 443, targetPort: 8443}
"#;

pub(crate) fn mesh(extra: &str) -> Mesh {
    let text = format!("{BASE}\n---\n{extra}");
    let loaded = match egressbench_manifest::load_str(&text, "test.yaml") {
        Ok(l) => l,
        Err(e) => panic!("{}", e.render()),
    };
    match Mesh::build(&Store::from_resources(loaded.resources)) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

pub(crate) fn call(
    mesh: &Mesh,
    from: &str,
    scheme: Scheme,
    host: &str,
    port: u16,
    path: &str,
) -> Exchange {
    answer(&decision(
        mesh,
        from,
        ClientRequest::get(scheme, host, port, path),
    ))
}

pub(crate) fn status(x: &Exchange) -> Option<u16> {
    x.result.status()
}

pub(crate) const HTTP_VIA_GATEWAY: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [httpbin.org]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  gateways: [mesh, istio-system/egress]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: gw.istio-system.svc.cluster.local, port: {number: 80}}}]
  - match: [{gateways: [istio-system/egress], port: 80}]
    route: [{destination: {host: httpbin.org, port: {number: 80}}}]
"#;

/// The trace of a GET of `/` from `from` (`ns/name`, or a name in `default`).
pub(crate) fn trace(mesh: &Mesh, from: &str, scheme: Scheme, host: &str, port: u16) -> Trace {
    decision(mesh, from, ClientRequest::get(scheme, host, port, "/"))
}

/// The model's decision on `req` from `from` (`ns/name`, or a name in `default`).
pub(crate) fn decision(mesh: &Mesh, from: &str, req: ClientRequest) -> Trace {
    let from = WorkloadRef::parse(from).unwrap_or_else(|| WorkloadRef::new("default", from));
    match decide(mesh, &Internet::builtin(), &Call::new(from, req)) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

//! Test fixtures for the compiler: a cluster with ASM's documented egress gateway, and the four
//! policies of ASM's egress policy guide (HTTP; HTTP upgraded to HTTPS; HTTPS through gateway
//! port 444; TCP with an allocated gateway port).
//!
//! Owns building these by hand (the manifest loader is not needed) and the small accessors the
//! end-to-end tests share. Leaves out assertions.

use crate::{compile_policy, CompileError, Compiled};
use egressbench_resources::asm::AsmEgressTrafficPolicy;
use egressbench_resources::istio::virtual_service::{Destination, PortSelector};
use egressbench_resources::kube::{DeploymentSpec, KubeServicePort, PodTemplate, ServiceSpec};
use egressbench_resources::mesh_config::{MeshConfig, OutboundTrafficPolicy};
use egressbench_resources::{Body, Kind, ObjectMeta, OutboundMode, Resource, ResourceId, Store};
use std::collections::BTreeMap;

pub(crate) const NS: &str = "istio-egress";
pub(crate) const POLICY: &str = "egress-by-egressgateway";
pub(crate) const V1: &str = "istio.alibabacloud.com/v1";
pub(crate) const V1BETA1: &str = "istio.alibabacloud.com/v1beta1";

pub(crate) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn gateway_deployment(ns: &str, name: &str, pod_labels: &[(&str, &str)]) -> Resource {
    let mut template = PodTemplate::default();
    template.metadata.labels = labels(pod_labels);
    Resource::new(
        "apps/v1",
        ObjectMeta::named(name, ns),
        Body::Deployment(Box::new(DeploymentSpec {
            template,
            ..DeploymentSpec::default()
        })),
    )
}

pub(crate) fn service(ns: &str, name: &str, ports: &[(&str, u16)]) -> Resource {
    Resource::new(
        "v1",
        ObjectMeta::named(name, ns),
        Body::Service(Box::new(ServiceSpec {
            ports: ports
                .iter()
                .map(|(n, p)| KubeServicePort {
                    name: n.to_string(),
                    port: *p,
                    ..KubeServicePort::default()
                })
                .collect(),
            ..ServiceSpec::default()
        })),
    )
}

fn mesh_config(mode: OutboundMode) -> Resource {
    Resource::new(
        "v1",
        ObjectMeta::named("istio", "istio-system"),
        Body::MeshConfig(Box::new(MeshConfig {
            outbound_traffic_policy: Some(OutboundTrafficPolicy {
                mode: Some(mode),
                egress_proxy: None,
            }),
            ..MeshConfig::default()
        })),
    )
}

/// The guide's cluster: gateway `egressgateway` in `istio-egress` (ports 80 http, 443 https,
/// 444 https) and a REGISTRY_ONLY mesh.
pub(crate) fn cluster() -> Store {
    Store::from_resources([
        gateway_deployment(
            NS,
            "egressgateway",
            &[("app", "egressgateway"), ("istio", "egressgateway")],
        ),
        service(
            NS,
            "egressgateway",
            &[("http", 80), ("https", 443), ("https-444", 444)],
        ),
        mesh_config(OutboundMode::RegistryOnly),
    ])
}

/// An `ASMEgressTrafficPolicy` named `egress-by-egressgateway` in `istio-egress`.
pub(crate) fn policy(api_version: &str, spec_yaml: &str) -> Resource {
    named_policy(api_version, NS, POLICY, spec_yaml)
}

pub(crate) fn named_policy(api_version: &str, ns: &str, name: &str, spec_yaml: &str) -> Resource {
    let spec: AsmEgressTrafficPolicy = match serde_yaml::from_str(spec_yaml) {
        Ok(s) => s,
        Err(e) => panic!("fixture spec does not parse: {e}\n{spec_yaml}"),
    };
    Resource::new(
        api_version,
        ObjectMeta::named(name, ns),
        Body::AsmEgressTrafficPolicy(Box::new(spec)),
    )
}

const FROM_SLEEP_A: &str = "
    from:
    - namespace: mytest
      workloadSelector:
        app: sleep-a";

/// The guide's HTTP policy: sidecar → 80 → gateway → 80 → httpbin.
pub(crate) fn seed_http() -> String {
    format!(
        "byEgressGateway:
  name: egressgateway
egressRules:
  - {FROM_SLEEP_A}
    to:
    - name: httpbin-service-http
      hosts: [www.httpbin.org, httpbin.org]
      port: {{name: http, number: 80, protocol: HTTP}}
      byEgressGateway: {{port: 80}}
"
    )
}

/// The guide's HTTPS-upgrade policy: sidecar → 80 → gateway → 443 (TLS originated) → httpbin.
pub(crate) fn seed_upgrade() -> String {
    format!(
        "byEgressGateway:
  name: egressgateway
egressRules:
  - {FROM_SLEEP_A}
    to:
    - name: httpbin-service-http
      hosts: [www.httpbin.org, httpbin.org]
      port: {{name: http, number: 80, protocol: HTTP}}
      byEgressGateway: {{port: 80}}
      httpsUpgrade: {{enabled: true, port: 443}}
"
    )
}

/// The guide's HTTPS passthrough policy: sidecar → 444 → gateway → 443 → httpbin.
pub(crate) fn seed_passthrough() -> String {
    format!(
        "byEgressGateway:
  name: egressgateway
egressRules:
  - {FROM_SLEEP_A}
    to:
    - name: httpbin-service-https
      hosts: [www.httpbin.org, httpbin.org]
      port: {{name: https, number: 443, protocol: HTTPS}}
      byEgressGateway: {{port: 444}}
"
    )
}

/// The guide's TCP policy, with the gateway port left to ASM (`byEgressGateway: {{}}`).
pub(crate) fn seed_tcp() -> String {
    format!(
        "byEgressGateway:
  name: egressgateway
egressRules:
  - {FROM_SLEEP_A}
    to:
    - byEgressGateway: {{}}
      hosts: [www.alibabacloud.com]
      name: aliyun-service-tcp
      port: {{name: tcp, number: 443, protocol: TCP}}
"
    )
}

pub(crate) const GW_HOST: &str = "egressgateway.istio-egress.svc.cluster.local";
pub(crate) const GW_REF: &str = "istio-egress/egress-by-egressgateway";

/// The typed body of `r`, or a test failure naming what arrived.
macro_rules! body {
    ($r:expr, $variant:ident) => {
        match &$r.body {
            egressbench_resources::Body::$variant(b) => b,
            other => panic!("expected a {}, got {other:?}", stringify!($variant)),
        }
    };
}

pub(crate) fn compile(api: &str, spec: &str) -> Compiled {
    match compile_policy(&cluster(), &policy(api, spec)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

pub(crate) fn compile_err(store: &Store, api: &str, spec: &str) -> CompileError {
    match compile_policy(store, &policy(api, spec)) {
        Ok(c) => panic!("expected an error, got {:?}", c.resources),
        Err(e) => e,
    }
}

pub(crate) fn ids(c: &Compiled) -> Vec<String> {
    c.resources.iter().map(|r| r.id().to_string()).collect()
}

pub(crate) fn get<'c>(c: &'c Compiled, kind: Kind, ns: &str, name: &str) -> &'c Resource {
    let id = ResourceId::new(kind, ns, name);
    match c.resources.iter().find(|r| r.id() == id) {
        Some(r) => r,
        None => panic!("no {id} in {:?}", ids(c)),
    }
}

pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn dest(host: &str, subset: Option<&str>, port: u16) -> Destination {
    Destination {
        host: host.into(),
        subset: subset.map(str::to_string),
        port: Some(PortSelector { number: port }),
    }
}

pub(crate) use body;

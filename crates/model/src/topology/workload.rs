//! Workloads: the Deployments of the cluster, whether a proxy runs beside them (sidecar injection
//! or a gateway), and the identity their certificate carries.
//!
//! Owns: `Workload`, `ProxyKind`, `Name`, and `workloads`: every Deployment with its proxy (a
//! gateway by its labels or injection template, else sidecar injection as Istio's webhook decides
//! the common cases, with the reason), its SPIFFE identity (service account and trust domain) and
//! a pod address the model assigns. Leaves out: the Deployment's shape (`egressbench-resources`'s
//! `kube`), the services that select workloads (`registry`), the certificates that carry the
//! identity (`egressbench-network`'s `pki` and `world`), and the proxy's config (`xds`).

use crate::request::WorkloadRef;
use egressbench_resources::{Body, Kind, ResourceId, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// A config object's name: shared between the config and every decision that mentions it.
pub type Name = std::sync::Arc<str>;

/// Sidecar or gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyKind {
    Sidecar,
    Gateway,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub id: WorkloadRef,
    pub labels: BTreeMap<String, String>,
    pub service_account: String,
    /// `None`: no proxy; the application's traffic leaves the pod untouched.
    pub proxy: Option<ProxyKind>,
    /// Why the workload has (or lacks) a proxy.
    pub proxy_reason: String,
    /// SPIFFE id: `spiffe://<trust domain>/ns/<ns>/sa/<sa>`.
    pub identity: Name,
    /// Pod address in the model (deterministic, per workload).
    pub address: Name,
    /// The pod's application containers, in order (the sidecar is not among them).
    pub containers: Vec<Container>,
    pub origin: ResourceId,
}

/// One application container of a pod: what it runs and the ports it declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    pub name: String,
    /// The image reference as written (`docker.io/mccutchen/go-httpbin:v2.15.0`); empty if none.
    pub image: String,
    /// `containerPort`s with their names, in order.
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
}

impl Workload {
    /// The container port named `name` (a Service's named `targetPort`).
    pub fn named_port(&self, name: &str) -> Option<u16> {
        self.containers
            .iter()
            .flat_map(|c| &c.ports)
            .find(|p| p.name.as_deref() == Some(name))
            .map(|p| p.port)
    }

    /// Every declared container port, in order, without repeats.
    pub fn container_ports(&self) -> Vec<u16> {
        let mut out: Vec<u16> = Vec::new();
        for p in self.containers.iter().flat_map(|c| &c.ports) {
            if !out.contains(&p.port) {
                out.push(p.port);
            }
        }
        out
    }
}

/// Whether pod labels/annotations mark a gateway proxy (Istio's gateway injection template, or the
/// `istio: …gateway…` label the gateway charts set).
fn is_gateway(labels: &BTreeMap<String, String>, annotations: &BTreeMap<String, String>) -> bool {
    annotations
        .get("inject.istio.io/templates")
        .map(String::as_str)
        == Some("gateway")
        || labels.get("istio").is_some_and(|v| v.contains("gateway"))
}

/// Decide sidecar injection as Istio's webhook does for the common cases: the pod's
/// `sidecar.istio.io/inject` label/annotation wins when it says "false"; otherwise the namespace's
/// `istio-injection=enabled` (or an `istio.io/rev` label) injects.
fn injection(
    ns_labels: Option<&BTreeMap<String, String>>,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> (bool, String) {
    let pod_says = labels
        .get("sidecar.istio.io/inject")
        .or_else(|| annotations.get("sidecar.istio.io/inject"))
        .map(String::as_str);
    let ns_inject = ns_labels
        .and_then(|l| l.get("istio-injection"))
        .map(String::as_str);
    let ns_rev = ns_labels.is_some_and(|l| l.contains_key("istio.io/rev"));
    match (pod_says, ns_inject) {
        (Some("false"), _) => (false, "pod sets sidecar.istio.io/inject=false".into()),
        (_, Some("disabled")) => (false, "namespace has istio-injection=disabled".into()),
        (_, Some("enabled")) => (true, "namespace has istio-injection=enabled".into()),
        _ if ns_rev => (true, "namespace has an istio.io/rev label".into()),
        (Some("true"), _) => (true, "pod sets sidecar.istio.io/inject=true".into()),
        _ => (
            false,
            "namespace has no istio-injection=enabled label and the pod does not ask for a sidecar"
                .into(),
        ),
    }
}

/// Every Deployment as a workload, in identity order.
pub fn workloads(store: &Store, trust_domain: &str) -> BTreeMap<WorkloadRef, Workload> {
    let namespaces: BTreeMap<&str, &BTreeMap<String, String>> = store
        .of_kind(Kind::Namespace)
        .map(|n| (n.name(), &n.meta.labels))
        .collect();
    let mut out = BTreeMap::new();
    for (i, r) in store.of_kind(Kind::Deployment).enumerate() {
        let Body::Deployment(spec) = &r.body else {
            continue;
        };
        let meta = &spec.template.metadata;
        let ns = r.namespace().to_string();
        let sa = spec
            .template
            .spec
            .service_account_name
            .clone()
            .or_else(|| spec.template.spec.service_account.clone())
            .unwrap_or_else(|| "default".into());
        let (proxy, proxy_reason) = if is_gateway(&meta.labels, &meta.annotations) {
            (Some(ProxyKind::Gateway), "gateway deployment".to_string())
        } else {
            let (inject, why) = injection(
                namespaces.get(ns.as_str()).copied(),
                &meta.labels,
                &meta.annotations,
            );
            (inject.then_some(ProxyKind::Sidecar), why)
        };
        let id = WorkloadRef::new(ns.clone(), r.name());
        out.insert(
            id.clone(),
            Workload {
                id,
                labels: meta.labels.clone(),
                identity: format!("spiffe://{trust_domain}/ns/{ns}/sa/{sa}").into(),
                service_account: sa,
                proxy,
                proxy_reason,
                address: format!("10.244.{}.{}", i / 250, i % 250 + 2).into(),
                containers: spec
                    .template
                    .spec
                    .containers
                    .iter()
                    // A manifest already injected (`istioctl kube-inject`) lists the proxy too.
                    .filter(|c| !matches!(c.name.as_str(), "istio-proxy" | "istio-init"))
                    .map(|c| Container {
                        name: c.name.clone(),
                        image: c.image.clone().unwrap_or_default(),
                        ports: c
                            .ports
                            .iter()
                            // UDP and SCTP ports are not served over the TCP connections here.
                            .filter(|p| p.protocol.as_deref().is_none_or(|x| x == "TCP"))
                            .map(|p| ContainerPort {
                                name: p.name.clone(),
                                port: p.container_port,
                            })
                            .collect(),
                    })
                    .collect(),
                origin: r.id(),
            },
        );
    }
    out
}

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
    /// Its `volumeMounts` of Secret and ConfigMap volumes, in order.
    pub mounts: Vec<Mount>,
}

/// A Secret or ConfigMap volume mounted in a container: each key a file under `path` (or, with
/// `subPath`, the one key at `path` itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    pub path: String,
    pub source: MountSource,
    pub sub_path: Option<String>,
}

/// Where a mounted volume's files come from (in the pod's namespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MountSource {
    Secret(String),
    ConfigMap(String),
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

/// The annotation a Deployment carries for the sidecar injection its pod got when it was created
/// (`true; <reason>` or `false; <reason>`): Istio's webhook decides at pod creation, so a
/// namespace labelled later changes nothing until the pod is recreated (`kubectl rollout
/// restart`, `kubectl delete pod`). Scenario targets stamp it when they apply a Deployment whose
/// pod is (re)created (`pods_created`); without it (`explain` applies everything at once) the
/// namespace's labels now decide.
pub const INJECTED_AT_CREATION: &str = "egressbench.io/injected-at-creation";

/// An annotation whose change recreates a Deployment's pod without changing its template
/// (`kubectl delete pod`, `kubectl rollout restart`).
pub const POD_GENERATION: &str = "egressbench.io/pod-generation";

/// The `INJECTED_AT_CREATION` value for Deployment `r`'s pod created now, with `store`'s
/// namespaces; `None` for an object that is not a Deployment.
pub fn injection_at_creation(store: &Store, r: &egressbench_resources::Resource) -> Option<String> {
    let Body::Deployment(spec) = &r.body else {
        return None;
    };
    let ns_labels = store
        .of_kind(Kind::Namespace)
        .find(|n| n.name() == r.namespace())
        .map(|n| &n.meta.labels);
    let meta = &spec.template.metadata;
    let (inject, why) = injection(ns_labels, &meta.labels, &meta.annotations);
    Some(format!("{inject}; {why}"))
}

/// Read an `INJECTED_AT_CREATION` value.
fn injected_at_creation(value: &str) -> Option<(bool, String)> {
    let (inject, why) = value.split_once("; ")?;
    Some((
        inject.parse().ok()?,
        format!("decided when the pod was created: {why}"),
    ))
}

/// How many pod addresses there are: 10.244.0.2 to 10.244.249.251.
const POD_SLOTS: u32 = 250 * 250;

/// The slot of `slots` that `name` gets: its stable hash's, else the next one not `taken` (the
/// first free one after it, wrapping); marked taken. With every slot taken, the hash's own.
pub(crate) fn claim_slot(
    name: &str,
    slots: u32,
    taken: &mut std::collections::HashSet<u32>,
) -> u32 {
    let first = egressbench_text::hash::fnv1a(name) % slots;
    (0..slots)
        .map(|i| (first + i) % slots)
        .find(|slot| taken.insert(*slot))
        .unwrap_or(first)
}

/// The pod address of each of `workloads` (Deployments, one pod each): a function of the
/// workload's namespace and name, so that applying or deleting other Deployments leaves a pod
/// where it is, as a running pod keeps its address in a cluster — except on a collision: two
/// workloads whose names fall on the same address are told apart in name order, the later taking
/// the next free one, so a new Deployment that sorts first can move the other (about one chance
/// in 60 000 per pair). The scenario loader asks the same of the Deployments it has seen, for
/// `{.items..podIP}`, so both agree.
pub fn pod_addresses<'a>(
    workloads: impl IntoIterator<Item = &'a WorkloadRef>,
) -> BTreeMap<WorkloadRef, std::net::Ipv4Addr> {
    let mut ids: Vec<&WorkloadRef> = workloads.into_iter().collect();
    ids.sort();
    ids.dedup();
    let mut taken = std::collections::HashSet::new();
    let mut out = BTreeMap::new();
    for id in ids {
        let slot = claim_slot(
            &format!("{}/{}", id.namespace, id.name),
            POD_SLOTS,
            &mut taken,
        );
        let byte = |n: u32| u8::try_from(n).unwrap_or(u8::MAX);
        out.insert(
            id.clone(),
            std::net::Ipv4Addr::new(10, 244, byte(slot / 250), byte(slot % 250 + 2)),
        );
    }
    out
}

/// Every Deployment as a workload, in identity order.
pub fn workloads(store: &Store, trust_domain: &str) -> BTreeMap<WorkloadRef, Workload> {
    let namespaces: BTreeMap<&str, &BTreeMap<String, String>> = store
        .of_kind(Kind::Namespace)
        .map(|n| (n.name(), &n.meta.labels))
        .collect();
    let mut out = BTreeMap::new();
    let ids: Vec<WorkloadRef> = store
        .of_kind(Kind::Deployment)
        .map(|r| WorkloadRef::new(r.namespace(), r.name()))
        .collect();
    let addresses = pod_addresses(&ids);
    for r in store.of_kind(Kind::Deployment) {
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
            let (inject, why) = r
                .meta
                .annotations
                .get(INJECTED_AT_CREATION)
                .and_then(|v| injected_at_creation(v))
                .unwrap_or_else(|| {
                    injection(
                        namespaces.get(ns.as_str()).copied(),
                        &meta.labels,
                        &meta.annotations,
                    )
                });
            (inject.then_some(ProxyKind::Sidecar), why)
        };
        let id = WorkloadRef::new(ns.clone(), r.name());
        let address: Name = addresses
            .get(&id)
            .map_or_else(|| "10.244.0.2".to_string(), |a| a.to_string())
            .into();
        out.insert(
            id.clone(),
            Workload {
                id,
                labels: meta.labels.clone(),
                identity: format!("spiffe://{trust_domain}/ns/{ns}/sa/{sa}").into(),
                service_account: sa,
                proxy,
                proxy_reason,
                address,
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
                        mounts: mounts(c, &spec.template.spec.volumes),
                    })
                    .collect(),
                origin: r.id(),
            },
        );
    }
    out
}

/// `c`'s mounts of the pod's Secret and ConfigMap `volumes` (others mount nothing here).
fn mounts(
    c: &egressbench_resources::kube::Container,
    volumes: &[egressbench_resources::kube::Volume],
) -> Vec<Mount> {
    c.volume_mounts
        .iter()
        .filter_map(|m| {
            let v = volumes.iter().find(|v| v.name == m.name)?;
            let source = match (&v.secret, &v.config_map) {
                (Some(s), _) => MountSource::Secret(s.secret_name.clone()),
                (None, Some(c)) => MountSource::ConfigMap(c.name.clone()),
                (None, None) => return None,
            };
            Some(Mount {
                path: m.mount_path.trim_end_matches('/').to_string(),
                source,
                sub_path: m.sub_path.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_keeps_its_address_when_others_come_and_go() {
        let a = WorkloadRef::new("default", "sleep");
        let b = WorkloadRef::new("external", "squid");
        let c = WorkloadRef::new("aaa", "first");
        let alone = pod_addresses([&a]);
        let more = pod_addresses([&c, &b, &a]);
        assert_eq!(alone[&a], more[&a]);
        assert_eq!(more.len(), 3);
        let distinct: std::collections::HashSet<_> = more.values().collect();
        assert_eq!(distinct.len(), 3);
        for ip in more.values() {
            let [ten, net, x, y] = ip.octets();
            assert_eq!((ten, net), (10, 244));
            assert!(x < 250 && (2..=251).contains(&y), "{ip}");
        }
    }

    #[test]
    fn names_on_the_same_address_are_told_apart() {
        let ids: Vec<WorkloadRef> = (0..2000)
            .map(|i| WorkloadRef::new("ns", format!("w{i}")))
            .collect();
        let all = pod_addresses(&ids);
        let distinct: std::collections::HashSet<_> = all.values().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}

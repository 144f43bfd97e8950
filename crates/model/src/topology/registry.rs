//! The service registry: Kubernetes Services and ServiceEntry hosts, with their ports, protocols,
//! endpoints and export scope — what istiod's service registry holds.
//!
//! Owns: `Registry` and `ServiceInfo`, built from a store's Services (their ClusterIP, else an
//! address the model assigns; endpoints from the workloads their selector picks) and
//! ServiceEntries (each host a service of its own); lookups by exact host, wildcard host and
//! Kubernetes short name; and the `exportTo` rule (`exported`). Leaves out: the workloads
//! (`workload`), the services one proxy can see (`scope`), DestinationRule lookup (`topology`'s
//! `MeshContext`), and the clusters built from services (`xds::build`).

use super::host::host_matches;
use super::workload::Workload;
use crate::request::WorkloadRef;
use egressbench_resources::{meta::selects, Body, Kind, Protocol, Resolution, ResourceId, Store};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePortInfo {
    pub number: u16,
    pub name: String,
    pub protocol: Protocol,
    /// The port the endpoints listen on.
    pub target_port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceEndpoint {
    Workload(WorkloadRef),
    /// Resolved by DNS at the proxy (the host itself, or a ServiceEntry endpoint address).
    Dns(String),
    /// The client's original destination (`resolution: NONE`).
    OriginalDestination,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceInfo {
    pub hostname: String,
    /// Namespace of the Service / ServiceEntry (its config namespace).
    pub namespace: String,
    pub ports: Vec<ServicePortInfo>,
    /// Virtual IPs (ClusterIP, ServiceEntry `addresses`); empty when the host has none.
    pub addresses: Vec<String>,
    /// A `type: LoadBalancer` Service's external address (its `loadBalancerIP`, else one the
    /// bench assigns in 172.18.255.200–254, as MetalLB does on a kind cluster): what
    /// `status.loadBalancer.ingress[0].ip` shows and the workstation connects to.
    pub load_balancer: Option<String>,
    pub resolution: Resolution,
    pub mesh_external: bool,
    /// `exportTo` as written; empty means the mesh default (`*`).
    pub export_to: Vec<String>,
    pub endpoints: Vec<ServiceEndpoint>,
    pub origin: ResourceId,
}

impl ServiceInfo {
    pub fn port(&self, number: u16) -> Option<&ServicePortInfo> {
        self.ports.iter().find(|p| p.number == number)
    }

    /// Is the service exported to `namespace`?
    pub fn exported_to(&self, namespace: &str) -> bool {
        exported(&self.export_to, &self.namespace, namespace)
    }
}

/// How many load-balancer addresses there are to give: 172.18.255.200–254.
const BALANCER_SLOTS: u32 = 55;

/// The external address of each `type: LoadBalancer` Service among `services`: its
/// `spec.loadBalancerIP` when it names one, else one the bench gives in 172.18.255.200–254 (as
/// MetalLB does on a kind cluster) from a hash of its namespace and name, so that other Services
/// coming and going move it only when one hashes to the same slot before it (past 55 Services the
/// addresses repeat). What the registry serves and what a scenario's `kubectl get service … -o
/// jsonpath='{.status.loadBalancer.ingress[0].ip}'` prints agree.
pub fn load_balancer_addresses<'a>(
    services: impl IntoIterator<Item = &'a egressbench_resources::Resource>,
) -> BTreeMap<ResourceId, std::net::Ipv4Addr> {
    let mut balancers: Vec<(ResourceId, Option<std::net::Ipv4Addr>)> = services
        .into_iter()
        .filter_map(|r| match &r.body {
            Body::Service(spec) if spec.service_type.as_deref() == Some("LoadBalancer") => {
                let given = spec
                    .load_balancer_ip
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .and_then(|ip| ip.parse().ok());
                Some((r.id(), given))
            }
            _ => None,
        })
        .collect();
    balancers.sort();
    // A given address in the range is taken before any is handed out.
    let mut taken: std::collections::HashSet<u32> = balancers
        .iter()
        .filter_map(|(_, given)| {
            let o = (*given)?.octets();
            (o[..3] == [172, 18, 255] && o[3] >= 200).then(|| u32::from(o[3]) - 200)
        })
        .collect();
    let mut out = BTreeMap::new();
    for (id, given) in balancers {
        let address = given.unwrap_or_else(|| {
            let name = format!("{}/{}", id.namespace, id.name);
            let slot = super::workload::claim_slot(&name, BALANCER_SLOTS, &mut taken);
            std::net::Ipv4Addr::new(172, 18, 255, u8::try_from(200 + slot).unwrap_or(u8::MAX))
        });
        out.insert(id, address);
    }
    out
}

/// `exportTo` semantics: empty or `*` → everywhere; `.` → own namespace; `~` → nowhere; else names.
pub fn exported(export_to: &[String], own_namespace: &str, to: &str) -> bool {
    export_to.is_empty()
        || export_to
            .iter()
            .any(|e| e == "*" || (e == "." && own_namespace == to) || e == to)
}

/// All services, Kubernetes first, each ServiceEntry host as its own service (as istiod does),
/// indexed by hostname so lookups do not scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Registry {
    pub services: Vec<ServiceInfo>,
    /// Exact hostname → positions in `services`.
    #[serde(skip)]
    by_host: egressbench_text::index::NameMap<String, Vec<usize>>,
    /// Positions of wildcard (`*.example.com`) hosts.
    #[serde(skip)]
    wildcards: Vec<usize>,
    /// Kubernetes short names (`nginx`, `nginx.default`, `nginx.default.svc`) → (the client
    /// namespace the name needs, for a bare name; the FQDN).
    #[serde(skip)]
    short_names: egressbench_text::index::NameMap<String, Vec<(Option<String>, String)>>,
}

impl Registry {
    /// The services with workload `id` among their endpoints (those that select its pods).
    pub fn selecting<'a>(
        &'a self,
        id: &'a WorkloadRef,
    ) -> impl Iterator<Item = &'a ServiceInfo> + 'a {
        self.services.iter().filter(move |s| {
            s.endpoints
                .iter()
                .any(|e| matches!(e, ServiceEndpoint::Workload(w) if w == id))
        })
    }

    pub fn build(store: &Store, workloads: &BTreeMap<WorkloadRef, Workload>) -> Registry {
        let mut services = Vec::new();
        let balancers = load_balancer_addresses(store.of_kind(Kind::Service));
        for (i, r) in store.of_kind(Kind::Service).enumerate() {
            let Body::Service(spec) = &r.body else {
                continue;
            };
            let load_balancer = balancers.get(&r.id()).map(ToString::to_string);
            let ns = r.namespace();
            let selected: Vec<&Workload> = if spec.selector.is_empty() {
                Vec::new()
            } else {
                workloads
                    .values()
                    .filter(|w| w.id.namespace == ns && selects(&spec.selector, &w.labels))
                    .collect()
            };
            let endpoints = selected
                .iter()
                .map(|w| ServiceEndpoint::Workload(w.id.clone()))
                .collect();
            // A named `targetPort` is the selected pods' container port of that name.
            let target_port = |p: &egressbench_resources::kube::KubeServicePort| {
                let Some(v) = p.target_port.as_ref() else {
                    return p.port;
                };
                match v.as_str() {
                    Some(name) => selected
                        .iter()
                        .find_map(|w| w.named_port(name))
                        .unwrap_or(p.port),
                    None => v
                        .as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                        .unwrap_or(p.port),
                }
            };
            services.push(ServiceInfo {
                hostname: format!("{}.{ns}.svc.cluster.local", r.name()),
                namespace: ns.to_string(),
                ports: spec
                    .ports
                    .iter()
                    .map(|p| ServicePortInfo {
                        number: p.port,
                        name: p.name.clone(),
                        protocol: p.mesh_protocol(),
                        target_port: target_port(p),
                    })
                    .collect(),
                addresses: vec![spec
                    .cluster_ip
                    .clone()
                    .filter(|ip| ip != "None" && !ip.is_empty())
                    .unwrap_or_else(|| format!("10.96.{}.{}", i / 250, i % 250 + 10))],
                load_balancer,
                resolution: Resolution::Static,
                mesh_external: false,
                export_to: r
                    .meta
                    .annotations
                    .get("networking.istio.io/exportTo")
                    .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
                    .unwrap_or_default(),
                endpoints,
                origin: r.id(),
            });
        }
        for r in store.of_kind(Kind::ServiceEntry) {
            let Body::ServiceEntry(se) = &r.body else {
                continue;
            };
            let resolution = se.resolution.unwrap_or(Resolution::None);
            for host in &se.hosts {
                let endpoints = match resolution {
                    Resolution::None => vec![ServiceEndpoint::OriginalDestination],
                    _ if !se.endpoints.is_empty() => se
                        .endpoints
                        .iter()
                        .map(|e| ServiceEndpoint::Dns(e.address.clone()))
                        .collect(),
                    Resolution::Dns | Resolution::DnsRoundRobin => {
                        vec![ServiceEndpoint::Dns(host.clone())]
                    }
                    Resolution::Static => Vec::new(),
                };
                services.push(ServiceInfo {
                    hostname: host.to_ascii_lowercase(),
                    namespace: r.namespace().to_string(),
                    ports: se
                        .ports
                        .iter()
                        .map(|p| ServicePortInfo {
                            number: p.number,
                            name: p.name.clone(),
                            protocol: p.effective_protocol(),
                            target_port: p.target_port.unwrap_or(p.number),
                        })
                        .collect(),
                    // A single-address CIDR is that address, as istiod reads it (`10.0.0.7/32`
                    // gets the listener `10.0.0.7_<port>`).
                    addresses: se
                        .addresses
                        .iter()
                        .map(|a| {
                            a.strip_suffix("/32")
                                .or_else(|| a.strip_suffix("/128"))
                                .unwrap_or(a)
                                .to_string()
                        })
                        .collect(),
                    load_balancer: None,
                    resolution,
                    mesh_external: se.location
                        != Some(egressbench_resources::Location::MeshInternal),
                    export_to: se.export_to.clone(),
                    endpoints,
                    origin: r.id(),
                });
            }
        }
        Registry::from_services(services)
    }

    /// A registry over `services`, indexed.
    pub fn from_services(services: Vec<ServiceInfo>) -> Registry {
        let mut by_host: egressbench_text::index::NameMap<String, Vec<usize>> = Default::default();
        let mut wildcards = Vec::new();
        let mut short_names: egressbench_text::index::NameMap<
            String,
            Vec<(Option<String>, String)>,
        > = Default::default();
        for s in services.iter().filter(|s| !s.mesh_external) {
            if let Some(short) = s.hostname.strip_suffix(".svc.cluster.local") {
                if let Some((name, ns)) = short.split_once('.') {
                    let fqdn = s.hostname.clone();
                    short_names
                        .entry(name.to_string())
                        .or_default()
                        .push((Some(ns.to_string()), fqdn.clone()));
                    short_names
                        .entry(short.to_string())
                        .or_default()
                        .push((None, fqdn.clone()));
                    short_names
                        .entry(format!("{short}.svc"))
                        .or_default()
                        .push((None, fqdn));
                }
            }
        }
        for (i, s) in services.iter().enumerate() {
            if s.hostname.starts_with('*') {
                wildcards.push(i);
            } else {
                by_host.entry(s.hostname.clone()).or_default().push(i);
            }
        }
        Registry {
            services,
            by_host,
            wildcards,
            short_names,
        }
    }

    /// Services whose hostname is exactly `host` (lowercase).
    pub fn exact<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a ServiceInfo> + 'a {
        self.by_host
            .get(host)
            .into_iter()
            .flatten()
            .map(|&i| &self.services[i])
    }

    /// Services whose hostname matches `host`: exact ones, then wildcard ServiceEntry hosts.
    pub fn lookup<'a>(&'a self, host: &'a str) -> impl Iterator<Item = &'a ServiceInfo> + 'a {
        self.exact(host).chain(
            self.wildcards
                .iter()
                .map(|&i| &self.services[i])
                .filter(move |s| host_matches(&s.hostname, host)),
        )
    }

    /// Resolve a short Kubernetes name (`nginx`, `nginx.default`, `nginx.default.svc`) from a
    /// client namespace to its FQDN, as the pod's DNS search path does.
    pub fn expand_short_name(&self, host: &str, client_namespace: &str) -> Option<String> {
        let bare = !host.contains('.');
        self.short_names
            .get(host)?
            .iter()
            .find(|(ns, _)| match ns {
                Some(ns) => bare && ns == client_namespace,
                None => !bare,
            })
            .map(|(_, fqdn)| fqdn.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(yaml: &str) -> Vec<egressbench_resources::Resource> {
        match egressbench_manifest::load_str(yaml, "test.yaml") {
            Ok(l) => l.resources,
            Err(e) => panic!("{}", e.render()),
        }
    }

    const TWO: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: a, namespace: istio-system}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: istio-system}
spec: {type: LoadBalancer, loadBalancerIP: 203.0.113.77, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: default}
spec: {ports: [{port: 80}]}
"#;

    #[test]
    fn load_balancers_get_their_own_address_or_a_stable_given_one() {
        let all = services(TWO);
        let got = load_balancer_addresses(&all);
        assert_eq!(got.len(), 2, "a ClusterIP Service gets none: {got:?}");
        let a = ResourceId::new(Kind::Service, "istio-system", "a");
        let b = ResourceId::new(Kind::Service, "istio-system", "b");
        assert_eq!(got[&b], std::net::Ipv4Addr::new(203, 0, 113, 77));
        let given = got[&a];
        assert_eq!(given.octets()[..3], [172, 18, 255]);
        assert!(given.octets()[3] >= 200);
        // Another Service coming or going does not move it.
        let alone = load_balancer_addresses(all.iter().filter(|r| r.name() == "a"));
        assert_eq!(alone[&a], given);
        // The registry serves the same address.
        let registry = Registry::build(&Store::from_resources(all), &BTreeMap::new());
        let served = registry
            .services
            .iter()
            .find(|s| s.hostname == "a.istio-system.svc.cluster.local")
            .and_then(|s| s.load_balancer.clone());
        assert_eq!(served, Some(given.to_string()));
    }
}

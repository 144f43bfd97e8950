//! The mesh at one moment: the expanded resources (ASM policies compiled), the workloads and their
//! proxies, the service registry, and every proxy's config.
//!
//! Owns: building that snapshot from a `Store` (deterministically), workload and registry
//! derivation, and what each proxy can see (`scope`). Leaves out: the shape of proxy config
//! (`xds`) and deciding requests (`decide`).

pub mod host;
pub mod registry;
pub mod scope;
pub mod workload;

pub use registry::{Registry, ServiceInfo};
pub use workload::Workload;

use crate::request::WorkloadRef;
use crate::xds::{self, ProxyConfig};
use egressbench_compile::{self as compile, CompileError};
use egressbench_resources::istio::DestinationRule;
use egressbench_resources::mesh_config::MeshConfig;
use egressbench_resources::{Body, Kind, Resource, ResourceId, Store};
use std::collections::BTreeMap;

/// Everything proxy config is built from.
#[derive(Debug, Clone)]
pub struct MeshContext {
    /// User resources with ASM policies replaced by what they compile to.
    pub store: Store,
    pub generated: Vec<ResourceId>,
    pub config: MeshConfig,
    pub workloads: BTreeMap<WorkloadRef, Workload>,
    pub registry: Registry,
    /// DestinationRule ids by exact host, and those with wildcard hosts.
    dr_by_host: std::collections::HashMap<String, Vec<ResourceId>>,
    dr_wild: Vec<ResourceId>,
}

impl MeshContext {
    pub fn build(store: &Store) -> Result<MeshContext, CompileError> {
        let expanded = compile::expand(store)?;
        let config = expanded.store.mesh_config();
        let workloads = workload::workloads(&expanded.store, config.trust_domain());
        let registry = Registry::build(&expanded.store, &workloads);
        let mut dr_by_host: std::collections::HashMap<String, Vec<ResourceId>> = Default::default();
        let mut dr_wild = Vec::new();
        for r in expanded.store.of_kind(Kind::DestinationRule) {
            if let Body::DestinationRule(dr) = &r.body {
                let host = dr.host.to_ascii_lowercase();
                if host.starts_with('*') {
                    dr_wild.push(r.id());
                } else {
                    dr_by_host.entry(host).or_default().push(r.id());
                }
            }
        }
        Ok(MeshContext {
            store: expanded.store,
            generated: expanded.generated,
            config,
            workloads,
            registry,
            dr_by_host,
            dr_wild,
        })
    }

    /// The context of an empty cluster.
    pub fn empty() -> MeshContext {
        MeshContext {
            store: Store::new(),
            generated: Vec::new(),
            config: MeshConfig::default(),
            workloads: BTreeMap::new(),
            registry: Registry::default(),
            dr_by_host: Default::default(),
            dr_wild: Vec::new(),
        }
    }

    /// The DestinationRule for `host` as seen from `client_ns`: the client's namespace first, then
    /// the service's namespace, then the root namespace (Istio's lookup order), exported to it.
    pub fn destination_rule(
        &self,
        host: &str,
        client_ns: &str,
        service_ns: &str,
    ) -> Option<(&Resource, &DestinationRule)> {
        let ids = self
            .dr_by_host
            .get(host)
            .into_iter()
            .flatten()
            .chain(self.dr_wild.iter());
        let candidates: Vec<(&Resource, &DestinationRule)> = ids
            .filter_map(|id| self.store.get(id))
            .filter_map(|r| match &r.body {
                Body::DestinationRule(dr) => Some((r, &**dr)),
                _ => None,
            })
            .filter(|(r, dr)| {
                host::host_matches(&dr.host, host)
                    && registry::exported(&dr.export_to, r.namespace(), client_ns)
            })
            .collect();
        let in_ns = |ns: &str| {
            candidates
                .iter()
                .filter(|(r, _)| r.namespace() == ns)
                // Exact host before wildcard.
                .min_by_key(|(_, dr)| dr.host.starts_with('*'))
                .copied()
        };
        in_ns(client_ns)
            .or_else(|| in_ns(service_ns))
            .or_else(|| in_ns(self.config.root_namespace()))
    }
}

/// A mesh snapshot: its context and every proxy's config.
#[derive(Debug, Clone)]
pub struct Mesh {
    pub ctx: MeshContext,
    pub proxies: BTreeMap<WorkloadRef, ProxyConfig>,
}

impl Mesh {
    /// Every gateway listener's simulated address (the gateway pod's address, the listener's port).
    pub fn gateway_listeners(
        &self,
    ) -> impl Iterator<Item = (&WorkloadRef, std::net::SocketAddr)> + '_ {
        self.proxies
            .iter()
            .filter(|(_, p)| p.kind == xds::ProxyKind::Gateway)
            .filter_map(|(id, p)| {
                p.address
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(|ip| (id, ip, p))
            })
            .flat_map(|(id, ip, p)| {
                p.listeners
                    .iter()
                    .map(move |l| (id, std::net::SocketAddr::new(ip, l.port)))
            })
    }
    /// The mesh of an empty cluster.
    pub fn empty() -> Mesh {
        Mesh {
            ctx: MeshContext::empty(),
            proxies: BTreeMap::new(),
        }
    }

    pub fn build(store: &Store) -> Result<Mesh, CompileError> {
        let ctx = MeshContext::build(store)?;
        let proxies = ctx
            .workloads
            .values()
            .filter(|w| w.proxy.is_some())
            .map(|w| (w.id.clone(), xds::build_proxy(&ctx, w)))
            .collect();
        Ok(Mesh { ctx, proxies })
    }

    pub fn workload(&self, id: &WorkloadRef) -> Option<&Workload> {
        self.ctx.workloads.get(id)
    }

    pub fn proxy(&self, id: &WorkloadRef) -> Option<&ProxyConfig> {
        self.proxies.get(id)
    }
}

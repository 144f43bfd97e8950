//! The mesh's topology at one moment: the expanded resources (ASM policies compiled), the
//! workloads and their proxies' kinds and identities, the service registry, and what each proxy
//! can see.
//!
//! Owns: building that context from a `Store` (deterministically), workload and registry
//! derivation, DestinationRule lookup, and what each proxy can see (`scope`). Leaves out: every
//! proxy's config (`xds`, built from this context; `mesh` holds both) and deciding requests
//! (`decide`).

pub mod files;
pub mod host;
pub mod registry;
pub mod scope;
pub mod workload;

pub use registry::{Registry, ServiceInfo};
pub use workload::Workload;

use crate::request::WorkloadRef;
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

/// The FQDN a route destination names, resolved from the VirtualService's namespace.
pub fn destination_host(ctx: &MeshContext, host: &str, vs_ns: &str) -> String {
    let host = host.to_ascii_lowercase();
    if ctx.registry.exact(&host).next().is_some() {
        return host;
    }
    ctx.registry.expand_short_name(&host, vs_ns).unwrap_or(host)
}

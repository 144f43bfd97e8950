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

use crate::compile::{self, CompileError};
use crate::request::WorkloadRef;
use crate::resources::istio::DestinationRule;
use crate::resources::mesh_config::MeshConfig;
use crate::resources::{Body, Kind, Resource, ResourceId, Store};
use crate::xds::{self, ProxyConfig};
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
}

impl MeshContext {
    pub fn build(store: &Store) -> Result<MeshContext, CompileError> {
        let expanded = compile::expand(store)?;
        let config = expanded.store.mesh_config();
        let workloads = workload::workloads(&expanded.store, config.trust_domain());
        let registry = Registry::build(&expanded.store, &workloads);
        Ok(MeshContext {
            store: expanded.store,
            generated: expanded.generated,
            config,
            workloads,
            registry,
        })
    }

    /// The DestinationRule for `host` as seen from `client_ns`: the client's namespace first, then
    /// the service's namespace, then the root namespace (Istio's lookup order), exported to it.
    pub fn destination_rule(
        &self,
        host: &str,
        client_ns: &str,
        service_ns: &str,
    ) -> Option<(&Resource, &DestinationRule)> {
        let candidates: Vec<(&Resource, &DestinationRule)> = self
            .store
            .of_kind(Kind::DestinationRule)
            .filter_map(|r| match &r.body {
                Body::DestinationRule(dr) => Some((r, dr)),
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
    /// The mesh of an empty cluster.
    pub fn empty() -> Mesh {
        Mesh {
            ctx: MeshContext {
                store: Store::new(),
                generated: Vec::new(),
                config: MeshConfig::default(),
                workloads: BTreeMap::new(),
                registry: Registry::default(),
            },
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

//! A mesh snapshot: its topology (`topology::MeshContext`) and every proxy's config, built from
//! one `Store`.
//!
//! Owns: `Mesh` and building it (every proxy's config from the context, as istiod would push it).
//! Leaves out: what the context holds (`topology`), the shape of proxy config (`xds`), and
//! deciding requests (`decide`).

use crate::request::WorkloadRef;
use crate::topology::{MeshContext, Workload};
use crate::xds::{self, ProxyConfig};
use egressbench_compile::CompileError;
use egressbench_resources::Store;
use std::collections::BTreeMap;

/// A mesh snapshot: its context and every proxy's config.
#[derive(Debug, Clone)]
pub struct Mesh {
    pub ctx: MeshContext,
    pub proxies: BTreeMap<WorkloadRef, ProxyConfig>,
    /// Every pod's application server, at its `pods::app_address`.
    pub apps: std::sync::Arc<crate::external::Internet>,
}

impl Mesh {
    /// Every listener facing inbound connections (a gateway's, a sidecar's inbound ones) at its
    /// simulated address: the proxy's pod address, the listener's port.
    pub fn inbound_listeners(
        &self,
    ) -> impl Iterator<Item = (&WorkloadRef, std::net::SocketAddr)> + '_ {
        self.proxies
            .iter()
            .filter_map(|(id, p)| {
                p.address
                    .parse::<std::net::IpAddr>()
                    .ok()
                    .map(|ip| (id, ip, p))
            })
            .flat_map(|(id, ip, p)| {
                p.inbound_listeners()
                    .iter()
                    .map(move |l| (id, std::net::SocketAddr::new(ip, l.port)))
            })
    }

    /// The mesh of an empty cluster.
    pub fn empty() -> Mesh {
        Mesh {
            ctx: MeshContext::empty(),
            proxies: BTreeMap::new(),
            apps: std::sync::Arc::new(crate::external::Internet::empty()),
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
        let apps = crate::pods::apps(&ctx.store, &ctx.workloads, &ctx.registry).into();
        Ok(Mesh { ctx, proxies, apps })
    }

    pub fn workload(&self, id: &WorkloadRef) -> Option<&Workload> {
        self.ctx.workloads.get(id)
    }

    pub fn proxy(&self, id: &WorkloadRef) -> Option<&ProxyConfig> {
        self.proxies.get(id)
    }
}

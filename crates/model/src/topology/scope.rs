//! What one proxy can see: the services and VirtualServices exported to its namespace, narrowed by
//! the `Sidecar` resource that applies to it, and the outbound traffic policy in force.
//!
//! Owns: which `Sidecar` applies to a workload (`sidecar_for`, Istio's precedence), what its
//! egress hosts import, and `Scope`: the visible services and VirtualServices (indexed by host)
//! and the outbound traffic policy with where it came from. Leaves out: the registry and the
//! `exportTo` rule (`registry`), the listeners and routes built from a scope (`xds::sidecar`),
//! and a gateway's view (`xds::gateway` works it out from the Gateways that select it).

use super::host::{host_matches, hosts_overlap, split_namespaced};
use super::registry::{exported, ServiceInfo};
use super::workload::Workload;
use super::MeshContext;
use egressbench_resources::istio::{Sidecar, VirtualService};
use egressbench_resources::{meta::selects, Body, Kind, OutboundMode, Resource};

/// The Sidecar resource that applies to a workload: one selecting it in its namespace, else the
/// namespace's selector-less one, else the root namespace's selector-less one (Istio's precedence).
pub fn sidecar_for<'a>(ctx: &'a MeshContext, w: &Workload) -> Option<(&'a Resource, &'a Sidecar)> {
    let sidecars: Vec<(&Resource, &Sidecar)> = ctx
        .store
        .of_kind(Kind::Sidecar)
        .filter_map(|r| match &r.body {
            Body::Sidecar(s) => Some((r, &**s)),
            _ => None,
        })
        .collect();
    let ns = &w.id.namespace;
    sidecars
        .iter()
        .find(|(r, s)| {
            r.namespace() == ns
                && s.workload_selector
                    .as_ref()
                    .is_some_and(|sel| selects(&sel.labels, &w.labels))
        })
        .or_else(|| {
            sidecars
                .iter()
                .find(|(r, s)| r.namespace() == ns && s.workload_selector.is_none())
        })
        .or_else(|| {
            sidecars.iter().find(|(r, s)| {
                r.namespace() == ctx.config.root_namespace() && s.workload_selector.is_none()
            })
        })
        .copied()
}

/// Does a Sidecar's egress `hosts` import `host` from config namespace `config_ns`?
fn sidecar_imports(sidecar: &Sidecar, proxy_ns: &str, config_ns: &str, host: &str) -> bool {
    if sidecar.egress.is_empty() {
        return true;
    }
    sidecar.egress.iter().flat_map(|e| &e.hosts).any(|entry| {
        let (ns, h) = split_namespaced(entry);
        let ns_ok = match ns {
            "*" => true,
            "." => config_ns == proxy_ns,
            "~" => false,
            other => other == config_ns,
        };
        ns_ok && hosts_overlap(h, host)
    })
}

/// The view of the registry and routing config one proxy gets.
#[derive(Debug)]
pub struct Scope<'a> {
    pub services: Vec<&'a ServiceInfo>,
    pub virtual_services: Vec<(&'a Resource, &'a VirtualService)>,
    /// VirtualService positions by exact host (made absolute: short names become FQDNs).
    vs_by_host: std::collections::HashMap<String, Vec<usize>>,
    /// Positions of VirtualServices with a wildcard host, and those hosts.
    vs_wild: Vec<(usize, String)>,
    pub outbound_mode: OutboundMode,
    pub outbound_mode_source: String,
    pub sidecar: Option<&'a Resource>,
}

impl<'a> Scope<'a> {
    pub fn for_workload(ctx: &'a MeshContext, w: &Workload) -> Scope<'a> {
        let ns = w.id.namespace.as_str();
        let sidecar = sidecar_for(ctx, w);
        let imports = |config_ns: &str, host: &str| {
            sidecar.is_none_or(|(_, s)| sidecar_imports(s, ns, config_ns, host))
        };
        let services = ctx
            .registry
            .services
            .iter()
            .filter(|s| s.exported_to(ns) && imports(&s.namespace, &s.hostname))
            .collect();
        let virtual_services: Vec<(&Resource, &VirtualService)> = ctx
            .store
            .of_kind(Kind::VirtualService)
            .filter_map(|r| match &r.body {
                Body::VirtualService(vs) => Some((r, &**vs)),
                _ => None,
            })
            .filter(|(r, vs)| {
                exported(&vs.export_to, r.namespace(), ns)
                    && vs.hosts.iter().any(|h| imports(r.namespace(), h))
            })
            .collect();
        let (outbound_mode, outbound_mode_source) = match sidecar
            .and_then(|(r, s)| s.outbound_traffic_policy.as_ref().map(|p| (r, p.mode)))
        {
            Some((r, mode)) => (mode, format!("{}", r.id())),
            None => (ctx.config.outbound_mode(), "mesh config".to_string()),
        };
        let mut vs_by_host: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let mut vs_wild = Vec::new();
        for (i, (r, vs)) in virtual_services.iter().enumerate() {
            for h in &vs.hosts {
                let h = super::destination_host(ctx, h, r.namespace());
                if h.starts_with('*') {
                    vs_wild.push((i, h));
                } else {
                    vs_by_host.entry(h).or_default().push(i);
                }
            }
        }
        Scope {
            services,
            virtual_services,
            vs_by_host,
            vs_wild,
            outbound_mode,
            outbound_mode_source,
            sidecar: sidecar.map(|(r, _)| r),
        }
    }

    /// Positions of the visible VirtualServices whose hosts match `host`, in store order.
    pub fn virtual_services_for(&self, host: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self.vs_by_host.get(host).cloned().unwrap_or_default();
        out.extend(
            self.vs_wild
                .iter()
                .filter(|(_, h)| host_matches(h, host))
                .map(|(i, _)| *i),
        );
        out.sort_unstable();
        out.dedup();
        out
    }
}

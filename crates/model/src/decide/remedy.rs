//! "What would allow it": for a blocked request, the registry and policy facts that blocked it and
//! the change that would let it through, found by looking at every resource, not only the visible
//! ones.
//!
//! Owns: `remedies`, read off a finished `Trace` and the whole `Mesh` (ServiceEntries with their
//! ports and exportTo, Sidecar imports, the outbound traffic policy and where it came from, RBAC
//! verdicts, the ASM policy a generated resource came from). Leaves out: the walk that produced
//! the trace (`walk`), asking for remedies (the model target in `egressbench-scenario` fills
//! `Trace::remedies`), and showing them (`explain`).

use crate::decide::{End, Reached, Trace};
use crate::mesh::Mesh;
use crate::outcome::reply::{Details, TLS_HANDSHAKE_FAILED};
use crate::topology::scope::sidecar_for;
use crate::xds::{BLACKHOLE_CLUSTER, BLOCK_ALL};
use egressbench_resources::OutboundMode;

const GENERATED_FROM: &str = "asm.egressbench.io/generated-from";

/// Where a (possibly generated) resource came from, for people: `ServiceEntry/ns/x (generated from
/// ASMEgressTrafficPolicy/ns/p spec.egressRules[0].to[0])`.
fn origin_words(mesh: &Mesh, id: &egressbench_resources::ResourceId) -> String {
    let gen = mesh
        .ctx
        .store
        .get(id)
        .and_then(|r| r.meta.annotations.get(GENERATED_FROM).cloned());
    match gen {
        Some(g) => format!("{id} (generated from {g})"),
        None => id.to_string(),
    }
}

fn registry_remedies(mesh: &Mesh, trace: &Trace, out: &mut Vec<String>) {
    // Only a pod's sidecar consults the registry for the client.
    let Some(pod) = trace.from.pod() else {
        return;
    };
    // Through a forward proxy, the sidecar saw a connection to the proxy: that is what must be
    // registered, as TCP (the tunnel is opaque to it).
    let (host, port, protocol) = match &trace.request.proxy {
        Some(p) => (
            &p.host,
            p.port,
            "TCP, which relays the forward proxy's tunnel",
        ),
        None if trace.request.scheme == crate::request::Scheme::Https => {
            (&trace.request.host, trace.request.port, "HTTPS/TLS")
        }
        None => (&trace.request.host, trace.request.port, "HTTP"),
    };
    let ns = &pod.namespace;
    let candidates: Vec<_> = mesh
        .ctx
        .registry
        .lookup(host)
        .filter(|s| s.mesh_external)
        .collect();
    if candidates.is_empty() {
        out.push(format!(
            "no ServiceEntry registers {host}: add one with port {port} ({protocol}), exported to namespace {ns}, or an ASMEgressTrafficPolicy rule with `from: [{{namespace: {ns}}}]` and `to: [{{hosts: [{host}], port: {{number: {port}, ...}}}}]`"
        ));
    }
    for s in &candidates {
        let who = origin_words(mesh, &s.origin);
        if !s.exported_to(ns) {
            out.push(format!(
                "{who} registers {} but its exportTo {:?} leaves out namespace {ns}: add `{ns}` to exportTo{}",
                s.hostname,
                s.export_to,
                if who.contains("generated from") {
                    format!(" (in the policy: add a `from` entry for namespace {ns})")
                } else {
                    String::new()
                }
            ));
            continue;
        }
        if s.port(port).is_none() {
            out.push(format!(
                "{who} registers {} only on port(s) {}: the request uses port {port}",
                s.hostname,
                s.ports
                    .iter()
                    .map(|p| format!("{}/{}", p.number, p.protocol))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        if let Some(w) = mesh.workload(pod) {
            if let Some((sc, _)) = sidecar_for(&mesh.ctx, w) {
                out.push(format!(
                    "{who} is exported to {ns}, but {} does not import {}/{}: add it to its egress hosts",
                    sc.id(),
                    s.namespace,
                    s.hostname
                ));
            }
        }
    }
    if let Some(p) = mesh.proxy(pod) {
        if p.outbound_mode == OutboundMode::RegistryOnly {
            out.push(format!(
                "(the outbound traffic policy REGISTRY_ONLY comes from {}; ALLOW_ANY would let any host through, bypassing the egress gateway)",
                p.outbound_mode_source
            ));
        }
    }
}

/// Facts and changes that would let a blocked request through (empty when it was allowed).
pub fn remedies(mesh: &Mesh, trace: &Trace) -> Vec<String> {
    let mut out = Vec::new();
    match &trace.end {
        End::Responded { hop, reply } => {
            let h = &trace.hops[*hop];
            if h.route.as_deref() == Some(BLOCK_ALL) {
                registry_remedies(mesh, trace, &mut out);
            } else if let Some(rbac) = &h.rbac {
                for v in &rbac.verdicts {
                    match (&v.matched_rule, v.action) {
                        (Some(rule), crate::xds::RbacAction::Deny) if !v.dry_run => out.push(format!(
                            "DENY {} matched ({rule}); change or remove that rule, or send a request outside it",
                            v.policy
                        )),
                        (None, crate::xds::RbacAction::Allow) if !v.dry_run => out.push(format!(
                            "ALLOW {} has no rule for this request ({}); add a rule matching source principal {} and this host/method/path",
                            v.policy,
                            v.reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                            h.peer_identity
                                .as_deref()
                                .map(|p| p.trim_start_matches("spiffe://"))
                                .unwrap_or("(none: the connection is not mTLS)")
                        )),
                        _ => {}
                    }
                }
            } else if reply.details == Details::RouteNotFound {
                out.push(format!(
                    "no VirtualService bound to {} routes {} on port {}: bind one (its `gateways` must name the Gateway, and a route match must allow this port)",
                    h.proxy, trace.request.authority(), h.listener.trim_start_matches("0.0.0.0_")
                ));
            }
        }
        End::Closed {
            hop, termination, ..
        } => {
            let h = &trace.hops[*hop];
            if h.cluster.as_deref() == Some(BLACKHOLE_CLUSTER) {
                registry_remedies(mesh, trace, &mut out);
            } else if termination == TLS_HANDSHAKE_FAILED {
                out.push(format!(
                    "{} requires a client certificate from the mesh CA: only a workload with a sidecar (or a proxy holding a mesh identity) can connect",
                    h.proxy
                ));
            } else if termination.starts_with("rbac") {
                out.push(format!(
                    "RBAC at {} closed the TCP connection ({termination})",
                    h.proxy
                ));
            }
        }
        End::UpstreamFailed { hop, .. } => {
            let h = &trace.hops[*hop];
            out.push(format!(
                "{} could not reach its upstream {}: {}",
                h.proxy,
                h.cluster.as_deref().unwrap_or("-"),
                h.notes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        // From the workstation, a request that reached no proxy and failed: the way in is a
        // load-balancer address.
        End::Reached {
            outcome: Reached::Refused | Reached::NoRoute | Reached::Unresolved,
            ..
        } if trace.from.pod().is_none() && trace.hops.is_empty() => {
            out.extend(load_balancers(mesh));
        }
        End::Reached { .. } | End::NotSent { .. } => {}
    }
    out
}

/// The ways into the cluster from outside: each `type: LoadBalancer` Service's address and ports.
fn load_balancers(mesh: &Mesh) -> Vec<String> {
    let balanced: Vec<String> = mesh
        .ctx
        .registry
        .services
        .iter()
        .filter_map(|s| {
            let address = s.load_balancer.as_deref()?;
            let ports: Vec<String> = s.ports.iter().map(|p| p.number.to_string()).collect();
            Some(format!(
                "{} at {address} (ports {})",
                s.hostname.trim_end_matches(".svc.cluster.local"),
                ports.join(", ")
            ))
        })
        .collect();
    if balanced.is_empty() {
        return vec![
            "from outside the cluster only a `type: LoadBalancer` Service's address leads in, and \
             no Service has one: give the ingress gateway's Service `type: LoadBalancer`"
                .to_string(),
        ];
    }
    vec![format!(
        "from outside the cluster only a load-balancer address leads in: {}",
        balanced.join("; ")
    )]
}

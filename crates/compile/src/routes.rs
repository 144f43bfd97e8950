//! The VirtualServices of one destination: the sidecar's hop to the gateway and the gateway's hop
//! to the external host.
//!
//! Owns how each family's two hops become `http:`, `tls:` or `tcp:` routes, and when a
//! destination is split into one VirtualService per host. Leaves out the other generated kinds
//! (`generate`) and the per-family data itself (`family`).
//!
//! Both hops of a destination live in one VirtualService bound to `mesh` and to the policy's
//! `Gateway` (`N/P`), as in Istio's egress gateway tasks:
//! - sidecar hop: match `gateways: [mesh]` and the rule's port; route to the gateway's host, subset
//!   `t`, gateway port (the subset carries ISTIO_MUTUAL and the SNI);
//! - gateway hop: match `gateways: [N/P]` and the gateway port; route to the external host on the
//!   upstream port (the `httpsUpgrade` port when enabled, else the rule's port).
//!
//! HTTP destinations with several hosts get one VirtualService per host (`P-t-<k>`, hosts `[h]`,
//! gateway hop to `h`): the gateway picks the route by the request's Host, and only a route per
//! host sends each host to itself. The alternative, one VirtualService with per-host
//! `authority` matches, would miss requests whose Host carries a port. Stream destinations (TLS,
//! TCP) keep one VirtualService `P-t` for all hosts: the sidecar matches each host's SNI (TLS) or
//! the port (TCP), and the gateway, which sees only a stream, forwards to the first host; ASM
//! requires a rule's hosts to resolve to the same addresses for exactly this reason.

use crate::family::RouteKind;
use crate::names::object_name;
use crate::plan::{Plan, Target};
use crate::provenance::{object, Source};
use egressbench_resources::istio::virtual_service::{
    Destination, HttpMatchRequest, HttpRoute, HttpRouteDestination, L4MatchAttributes,
    PortSelector, RouteDestination, TcpRoute, TlsMatchAttributes, TlsRoute,
};
use egressbench_resources::istio::VirtualService;
use egressbench_resources::{Body, Resource};

/// The reserved gateway name for every sidecar of the mesh.
const MESH: &str = "mesh";

/// One hop of a destination, before it is written as routes of its kind.
#[derive(Debug)]
struct Leg<'h> {
    hop: RouteKind,
    /// Route name (`http:` routes only carry names).
    name: &'static str,
    /// The gateway (or `mesh`) the match binds to.
    gateway: String,
    /// The port the match requires.
    port: u16,
    /// Hosts whose SNI a `tls:` route matches, one route each.
    sni_hosts: &'h [String],
    destination: Destination,
}

/// The VirtualServices of `target`, in host order.
pub(crate) fn virtual_services(plan: &Plan<'_>, target: &Target<'_>) -> Vec<Resource> {
    let dest = &target.dest;
    let hosts = &dest.to.hosts;
    let policy = &plan.policy.name;
    let groups: Vec<(String, &[String])> = if dest.family.routes_per_host() && hosts.len() > 1 {
        hosts
            .iter()
            .enumerate()
            .map(|(k, h)| {
                (
                    object_name(&[policy, &dest.name, &k.to_string()]),
                    std::slice::from_ref(h),
                )
            })
            .collect()
    } else {
        vec![(object_name(&[policy, &dest.name]), hosts.as_slice())]
    };
    groups
        .into_iter()
        .map(|(name, hosts)| {
            object(
                plan,
                name,
                &plan.policy.namespace,
                Source::To {
                    rule: dest.rule,
                    to: dest.index,
                },
                Body::VirtualService(Box::new(virtual_service(plan, target, hosts))),
            )
        })
        .collect()
}

/// The VirtualService for `hosts` (all of the destination's, or one of an HTTP destination's).
fn virtual_service(plan: &Plan<'_>, target: &Target<'_>, hosts: &[String]) -> VirtualService {
    let dest = &target.dest;
    let gateway_ref = plan.policy.gateway_ref();
    let mut vs = VirtualService {
        hosts: hosts.to_vec(),
        gateways: vec![MESH.to_string(), gateway_ref.clone()],
        export_to: plan.rule_export_to(dest.rule),
        ..VirtualService::default()
    };
    let to_gateway = Leg {
        hop: dest.family.mesh_hop,
        name: "mesh-to-gateway",
        gateway: MESH.to_string(),
        port: dest.to.port.number,
        sni_hosts: hosts,
        destination: Destination {
            host: plan.gateway.host.clone(),
            subset: Some(dest.name.clone()),
            port: Some(PortSelector {
                number: target.gateway_port,
            }),
        },
    };
    let to_external = Leg {
        hop: dest.family.gateway_hop,
        name: "gateway-to-external",
        gateway: gateway_ref,
        port: target.gateway_port,
        sni_hosts: hosts,
        destination: Destination {
            host: hosts.first().cloned().unwrap_or_default(),
            subset: None,
            port: Some(PortSelector {
                number: dest.upstream_port(),
            }),
        },
    };
    add(&mut vs, to_gateway);
    add(&mut vs, to_external);
    vs
}

/// Write `leg` as routes of its hop's kind.
fn add(vs: &mut VirtualService, leg: Leg<'_>) {
    let gateways = vec![leg.gateway];
    match leg.hop {
        RouteKind::Http => vs.http.push(HttpRoute {
            name: Some(leg.name.to_string()),
            matches: vec![HttpMatchRequest {
                gateways,
                port: Some(leg.port),
                ..HttpMatchRequest::default()
            }],
            route: vec![HttpRouteDestination {
                destination: leg.destination,
                ..HttpRouteDestination::default()
            }],
            ..HttpRoute::default()
        }),
        RouteKind::Sni => vs.tls.extend(leg.sni_hosts.iter().map(|h| TlsRoute {
            matches: vec![TlsMatchAttributes {
                sni_hosts: vec![h.clone()],
                gateways: gateways.clone(),
                port: Some(leg.port),
                ..TlsMatchAttributes::default()
            }],
            route: vec![RouteDestination {
                destination: leg.destination.clone(),
                weight: None,
            }],
        })),
        RouteKind::Tcp => vs.tcp.push(TcpRoute {
            matches: vec![L4MatchAttributes {
                gateways,
                port: Some(leg.port),
                ..L4MatchAttributes::default()
            }],
            route: vec![RouteDestination {
                destination: leg.destination,
                weight: None,
            }],
        }),
    }
}

//! A gateway proxy's config: one listener per Gateway server port, chains per server (TLS
//! termination, passthrough by SNI, plain HTTP, TCP), routes from the VirtualServices bound to the
//! Gateway, and the RBAC of the AuthorizationPolicies selecting the gateway pods.
//! (istio/istio `pilot/pkg/networking/core/gateway.go`.)

use super::build::{destination_cluster, destination_host, rbac_for, service_clusters};
use super::routes::{http_routes, tcp_routes, tls_routes, Binding};
use super::{
    ChainMatch, DownstreamTls, FilterChain, Listener, Provenance, ProxyConfig, ProxyKind,
    RouteConfiguration, Terminal, Transport, VirtualHost,
};
use crate::mesh::host::{hosts_overlap, split_namespaced};
use crate::mesh::{MeshContext, Workload};
use crate::resources::istio::gateway::Server;
use crate::resources::istio::virtual_service::Destination;
use crate::resources::istio::{Gateway, VirtualService};
use crate::resources::{meta::selects, Body, Kind, Resource, ServerTlsMode};
use std::collections::BTreeMap;

/// What a server does with a connection, from its protocol and TLS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerKind {
    PlainHttp,
    TerminatedHttp(ServerTlsMode),
    Passthrough,
    TerminatedTcp(ServerTlsMode),
    PlainTcp,
}

fn server_kind(server: &Server) -> ServerKind {
    let proto = server.port.effective_protocol();
    let mode = server.tls.as_ref().and_then(|t| t.mode);
    match (
        proto.is_http() || proto == crate::resources::Protocol::Https,
        mode,
    ) {
        (_, Some(ServerTlsMode::Passthrough | ServerTlsMode::AutoPassthrough)) => {
            ServerKind::Passthrough
        }
        (true, Some(m)) if proto == crate::resources::Protocol::Https => {
            ServerKind::TerminatedHttp(m)
        }
        (true, _) if proto.is_http() => ServerKind::PlainHttp,
        (true, None) => ServerKind::Passthrough,
        (_, Some(m)) => ServerKind::TerminatedTcp(m),
        (_, None) if proto.is_tls() => ServerKind::Passthrough,
        _ => ServerKind::PlainTcp,
    }
}

/// Does a VirtualService (in `vs_ns`) host overlap one of a server's `ns/host` entries?
fn server_admits(server: &Server, gateway_ns: &str, vs_ns: &str, host: &str) -> bool {
    server.hosts.iter().any(|entry| {
        let (ns, h) = split_namespaced(entry);
        let ns_ok = match ns {
            "*" => true,
            "." => vs_ns == gateway_ns,
            other => other == vs_ns,
        };
        ns_ok && hosts_overlap(h, host)
    })
}

fn sni_names(server: &Server) -> Vec<String> {
    let hosts: Vec<String> = server
        .hosts
        .iter()
        .map(|e| split_namespaced(e).1.to_string())
        .collect();
    if hosts.iter().any(|h| h == "*") {
        Vec::new()
    } else {
        hosts
    }
}

pub fn build(ctx: &MeshContext, w: &Workload) -> ProxyConfig {
    let ns = w.id.namespace.as_str();
    let gateways: Vec<(&Resource, &Gateway)> = ctx
        .store
        .of_kind(Kind::Gateway)
        .filter_map(|r| match &r.body {
            Body::Gateway(g) => Some((r, g)),
            _ => None,
        })
        .filter(|(_, g)| selects(&g.selector, &w.labels))
        .collect();
    let virtual_services: Vec<(&Resource, &VirtualService)> = ctx
        .store
        .of_kind(Kind::VirtualService)
        .filter_map(|r| match &r.body {
            Body::VirtualService(v) => Some((r, v)),
            _ => None,
        })
        .collect();
    let namer = |d: &Destination, vs_ns: &str, port: u16| destination_cluster(ctx, d, vs_ns, port);
    let rbac = rbac_for(ctx, w);
    let mut warnings = Vec::new();

    let mut by_port: BTreeMap<u16, Vec<(&Resource, usize, &Server)>> = BTreeMap::new();
    for (r, g) in &gateways {
        for (i, s) in g.servers.iter().enumerate() {
            by_port.entry(s.port.number).or_default().push((r, i, s));
        }
    }

    let mut listeners = Vec::new();
    let mut vhosts_by_rc: BTreeMap<String, Vec<VirtualHost>> = BTreeMap::new();
    for (port, servers) in &by_port {
        let mut chains = Vec::new();
        for (gw, i, server) in servers {
            let gw_name = format!("{}/{}", gw.namespace(), gw.name());
            let names = [gw_name.clone()];
            let binding = Binding::Gateway { gateways: &names };
            let provenance = vec![Provenance::new(gw.id(), format!("servers[{i}]"))];
            let bound: Vec<(&Resource, &VirtualService)> = virtual_services
                .iter()
                .copied()
                .filter(|(r, vs)| {
                    binding.applies_to(vs, r.namespace())
                        && vs
                            .hosts
                            .iter()
                            .any(|h| server_admits(server, gw.namespace(), r.namespace(), h))
                })
                .collect();
            let kind = server_kind(server);
            let downstream = |mode: ServerTlsMode| DownstreamTls {
                mode,
                require_client_certificate: matches!(
                    mode,
                    ServerTlsMode::IstioMutual | ServerTlsMode::Mutual
                ),
            };
            match kind {
                ServerKind::PlainHttp | ServerKind::TerminatedHttp(_) => {
                    let rc_name = match kind {
                        ServerKind::PlainHttp => format!("http.{port}"),
                        _ => format!(
                            "https.{port}.{}.{}.{}",
                            server.name.clone().unwrap_or_else(|| format!("server-{i}")),
                            gw.name(),
                            gw.namespace()
                        ),
                    };
                    let rc = vhosts_by_rc.entry(rc_name.clone()).or_default();
                    let mut seen: std::collections::HashSet<String> =
                        rc.iter().map(|v| v.name.clone()).collect();
                    for (r, vs) in &bound {
                        let vs_routes = http_routes(r, vs, &binding, *port, &namer);
                        if vs_routes.is_empty() {
                            continue;
                        }
                        for h in &vs.hosts {
                            let h = destination_host(ctx, h, r.namespace());
                            if !server_admits(server, gw.namespace(), r.namespace(), &h) {
                                continue;
                            }
                            let name = format!("{h}:{port}");
                            if !seen.insert(name.clone()) {
                                warnings.push(format!(
                                    "{} also routes {h} on port {port}; the first VirtualService wins",
                                    r.id()
                                ));
                                continue;
                            }
                            rc.push(VirtualHost {
                                name,
                                domains: vec![h.clone(), format!("{h}:{port}")],
                                routes: vs_routes.clone(),
                                provenance: vec![
                                    Provenance::new(r.id(), ""),
                                    provenance[0].clone(),
                                ],
                            });
                        }
                    }
                    let (transport, tls) = match kind {
                        ServerKind::TerminatedHttp(m) => (Transport::Tls, Some(downstream(m))),
                        _ => (Transport::RawBuffer, None),
                    };
                    chains.push(FilterChain {
                        name: rc_name.clone(),
                        matcher: ChainMatch {
                            server_names: if tls.is_some() {
                                sni_names(server)
                            } else {
                                Vec::new()
                            },
                            transport: Some(transport),
                        },
                        downstream_tls: tls,
                        terminal: Terminal::Http {
                            route_config: rc_name,
                            rbac: rbac.clone(),
                        },
                        provenance: provenance.clone(),
                    });
                }
                ServerKind::Passthrough => {
                    for h in sni_names(server).into_iter().chain(
                        server
                            .hosts
                            .iter()
                            .any(|e| split_namespaced(e).1 == "*")
                            .then(|| "*".to_string()),
                    ) {
                        let routes: Vec<_> = bound
                            .iter()
                            .flat_map(|(r, vs)| tls_routes(r, vs, &binding, *port, &h, &namer))
                            .collect();
                        chains.push(FilterChain {
                            name: format!("{h}:{port}"),
                            matcher: ChainMatch {
                                server_names: if h == "*" {
                                    Vec::new()
                                } else {
                                    vec![h.clone()]
                                },
                                transport: Some(Transport::Tls),
                            },
                            downstream_tls: None,
                            terminal: Terminal::Tcp {
                                routes,
                                rbac: rbac.clone(),
                            },
                            provenance: provenance.clone(),
                        });
                    }
                }
                ServerKind::TerminatedTcp(_) | ServerKind::PlainTcp => {
                    let tls = match kind {
                        ServerKind::TerminatedTcp(m) => Some(downstream(m)),
                        _ => None,
                    };
                    let tcp: Vec<_> = bound
                        .iter()
                        .flat_map(|(r, vs)| tcp_routes(r, vs, &binding, *port, &namer))
                        .collect();
                    chains.push(FilterChain {
                        name: format!("tcp.{port}.{}", gw.name()),
                        matcher: ChainMatch {
                            server_names: if tls.is_some() {
                                sni_names(server)
                            } else {
                                Vec::new()
                            },
                            transport: Some(if tls.is_some() {
                                Transport::Tls
                            } else {
                                Transport::RawBuffer
                            }),
                        },
                        downstream_tls: tls,
                        terminal: Terminal::Tcp {
                            routes: tcp,
                            rbac: rbac.clone(),
                        },
                        provenance: provenance.clone(),
                    });
                }
            }
        }
        chains.sort_by_key(|c| c.matcher.server_names.is_empty());
        listeners.push(Listener::new(
            format!("0.0.0.0_{port}"),
            None,
            *port,
            chains,
            None,
        ));
    }

    let routes: BTreeMap<String, RouteConfiguration> = vhosts_by_rc
        .into_iter()
        .map(|(name, vhosts)| (name.clone(), RouteConfiguration::new(name, vhosts)))
        .collect();
    let services: Vec<_> = ctx
        .registry
        .services
        .iter()
        .filter(|s| s.exported_to(ns))
        .collect();
    ProxyConfig {
        proxy: w.id.to_string(),
        kind: ProxyKind::Gateway,
        namespace: ns.to_string(),
        identity: w.identity.clone(),
        outbound_mode: ctx.config.outbound_mode(),
        outbound_mode_source: "mesh config".into(),
        listeners,
        routes,
        clusters: service_clusters(ctx, ns, &services),
        warnings,
    }
}

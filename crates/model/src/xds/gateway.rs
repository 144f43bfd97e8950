//! A gateway proxy's config: one listener per Gateway server port, chains per server (TLS
//! termination, passthrough by SNI, plain HTTP, TCP), routes from the VirtualServices bound to the
//! Gateway, and the RBAC of the AuthorizationPolicies selecting the gateway pods.
//! (istio/istio `pilot/pkg/networking/core/gateway.go`.)

use super::build::{destination_cluster, rbac_for, service_clusters};
use super::routes::{http_routes, tcp_routes, tls_chains, Binding};
use super::{
    ChainMatch, DownstreamTls, FilterChain, Listener, Provenance, ProxyConfig, ProxyKind,
    RouteConfiguration, Terminal, Transport, VirtualHost,
};
use crate::topology::destination_host;
use crate::topology::host::{hosts_overlap, split_namespaced};
use crate::topology::registry::exported;
use crate::topology::{MeshContext, Workload};
use egressbench_resources::istio::gateway::Server;
use egressbench_resources::istio::virtual_service::Destination;
use egressbench_resources::istio::{Gateway, VirtualService};
use egressbench_resources::{meta::selects, Body, Kind, Resource, ServerTlsMode};
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
        proto.is_http() || proto == egressbench_resources::Protocol::Https,
        mode,
    ) {
        (_, Some(ServerTlsMode::Passthrough | ServerTlsMode::AutoPassthrough)) => {
            ServerKind::Passthrough
        }
        (true, Some(m)) if proto == egressbench_resources::Protocol::Https => {
            ServerKind::TerminatedHttp(m)
        }
        (true, _) if proto.is_http() => ServerKind::PlainHttp,
        (true, None) => ServerKind::Passthrough,
        (_, Some(m)) => ServerKind::TerminatedTcp(m),
        (_, None) if proto.is_tls() => ServerKind::Passthrough,
        _ => ServerKind::PlainTcp,
    }
}

/// Does a server `hosts` entry (`ns/host`) admit a VirtualService host (from namespace `vs_ns`)?
fn entry_admits(entry: &str, gateway_ns: &str, vs_ns: &str, host: &str) -> bool {
    let (ns, h) = split_namespaced(entry);
    let ns_ok = match ns {
        "*" => true,
        "." => vs_ns == gateway_ns,
        other => other == vs_ns,
    };
    ns_ok && hosts_overlap(h, host)
}

/// Does a VirtualService (in `vs_ns`) host overlap one of a server's `ns/host` entries?
fn server_admits(server: &Server, gateway_ns: &str, vs_ns: &str, host: &str) -> bool {
    server
        .hosts
        .iter()
        .any(|e| entry_admits(e, gateway_ns, vs_ns, host))
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

/// The more specific of a VirtualService host and a server host that overlap (istiod uses their
/// intersection as the virtual host's domain).
fn intersect(vs_host: &str, server_host: &str) -> Option<String> {
    if crate::topology::host::host_matches(server_host, vs_host) {
        Some(vs_host.to_string())
    } else if crate::topology::host::host_matches(vs_host, server_host) {
        Some(server_host.to_string())
    } else {
        None
    }
}

/// The port the gateway pods listen on for a Gateway server port: the `targetPort` of a Service
/// selecting them that exposes that port (istiod's `resolvePorts`), else the port itself.
fn listener_port(ctx: &MeshContext, w: &Workload, server_port: u16) -> u16 {
    ctx.registry
        .services
        .iter()
        .filter(|s| {
            s.endpoints.iter().any(|e| {
                matches!(e, crate::topology::registry::ServiceEndpoint::Workload(id) if *id == w.id)
            })
        })
        .find_map(|s| s.port(server_port).map(|p| p.target_port))
        .unwrap_or(server_port)
}

/// A route that matches everything (Envoy tries routes in order, so these go last).
fn is_catch_all(r: &crate::xds::Route) -> bool {
    r.matcher == crate::xds::RouteMatch::default()
}

pub(crate) fn build(ctx: &MeshContext, w: &Workload) -> ProxyConfig {
    let ns = w.id.namespace.as_str();
    let gateways: Vec<(&Resource, &Gateway)> = ctx
        .store
        .of_kind(Kind::Gateway)
        .filter_map(|r| match &r.body {
            Body::Gateway(g) => Some((r, &**g)),
            _ => None,
        })
        .filter(|(_, g)| selects(&g.selector, &w.labels))
        .collect();
    // VirtualServices visible in the gateway's namespace.
    let virtual_services: Vec<(&Resource, &VirtualService)> = ctx
        .store
        .of_kind(Kind::VirtualService)
        .filter_map(|r| match &r.body {
            Body::VirtualService(v) => Some((r, &**v)),
            _ => None,
        })
        .filter(|(r, v)| exported(&v.export_to, r.namespace(), ns))
        .collect();
    let namer = |d: &Destination, vs_ns: &str, port: u16| destination_cluster(ctx, d, vs_ns, port);
    let rbac = rbac_for(ctx, w);
    let mut warnings = Vec::new();

    let mut by_port: BTreeMap<u16, Vec<(&Resource, usize, &Server)>> = BTreeMap::new();
    for (r, g) in &gateways {
        for (i, s) in g.servers.iter().enumerate() {
            by_port
                .entry(listener_port(ctx, w, s.port.number))
                .or_default()
                .push((r, i, s));
        }
    }

    let mut listeners = Vec::new();
    let mut vhosts_by_rc: BTreeMap<String, Vec<VirtualHost>> = BTreeMap::new();
    for (listen_port, servers) in &by_port {
        let mut chains = Vec::new();
        for (gw, i, server) in servers {
            let port = &server.port.number;
            let names = [format!("{}/{}", gw.namespace(), gw.name())];
            let binding = Binding::Gateway {
                gateways: &names,
                labels: &w.labels,
                namespace: ns,
            };
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
            // SIMPLE and MUTUAL present the `credentialName` Secret's certificate (istiod
            // reads it in the gateway's own namespace).
            let credential = server
                .tls
                .as_ref()
                .and_then(|t| t.credential_name.as_deref())
                .map(|name| crate::topology::files::server_credential(&ctx.store, ns, name));
            let downstream = |mode: ServerTlsMode| DownstreamTls {
                mode,
                require_client_certificate: matches!(
                    mode,
                    ServerTlsMode::IstioMutual | ServerTlsMode::Mutual
                ),
                credential: credential
                    .clone()
                    .filter(|_| matches!(mode, ServerTlsMode::Simple | ServerTlsMode::Mutual)),
            };
            match kind {
                ServerKind::PlainHttp | ServerKind::TerminatedHttp(_) => {
                    // istiod's gatewayRDSRouteName: plain HTTP by the port the gateway listens
                    // on (the Service's targetPort), as `istioctl proxy-config route` shows it.
                    let rc_name = match kind {
                        ServerKind::PlainHttp => format!("http.{listen_port}"),
                        _ => format!(
                            "https.{port}.{}.{}.{}",
                            server.port.name,
                            gw.name(),
                            gw.namespace()
                        ),
                    };
                    let rc = vhosts_by_rc.entry(rc_name.clone()).or_default();
                    for (r, vs) in &bound {
                        let vs_routes = http_routes(r, vs, &binding, *port, &namer);
                        if vs_routes.is_empty() {
                            continue;
                        }
                        for h in &vs.hosts {
                            let h = destination_host(ctx, h, r.namespace());
                            let domains: Vec<String> = server
                                .hosts
                                .iter()
                                .filter(|e| entry_admits(e, gw.namespace(), r.namespace(), &h))
                                .filter_map(|e| intersect(&h, split_namespaced(e).1))
                                .collect();
                            for domain in domains {
                                let name = format!("{domain}:{port}");
                                match rc.iter_mut().find(|v| *v.name == *name) {
                                    // Several VirtualServices for one host: their routes merge.
                                    Some(v) => {
                                        v.routes.extend(vs_routes.iter().cloned());
                                        v.provenance.push(Provenance::new(r.id(), ""));
                                    }
                                    None => rc.push(VirtualHost {
                                        name: name.into(),
                                        domains: vec![domain.clone(), format!("{domain}:{port}")],
                                        routes: vs_routes.clone(),
                                        provenance: vec![
                                            Provenance::new(r.id(), ""),
                                            provenance[0].clone(),
                                        ],
                                    }),
                                }
                            }
                        }
                    }
                    for v in rc.iter_mut() {
                        v.routes.sort_by_key(is_catch_all);
                    }
                    let (transport, tls) = match kind {
                        ServerKind::TerminatedHttp(m) => (Transport::Tls, Some(downstream(m))),
                        _ => (Transport::RawBuffer, None),
                    };
                    chains.push(FilterChain {
                        name: rc_name.as_str().into(),
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
                            route_config: rc_name.into(),
                            rbac: rbac.clone(),
                        },
                        provenance: provenance.clone(),
                    });
                }
                ServerKind::Passthrough => {
                    // One chain per `tls` match of the bound VirtualServices, keyed by its sniHosts.
                    for (r, vs) in &bound {
                        for (sni, route) in tls_chains(r, vs, &binding, *port, &namer) {
                            if chains
                                .iter()
                                .any(|c: &FilterChain| c.matcher.server_names == sni)
                            {
                                continue;
                            }
                            chains.push(FilterChain {
                                name: format!("{}:{port}", sni.join(",")).into(),
                                matcher: ChainMatch {
                                    server_names: if sni.iter().any(|h| h == "*") {
                                        Vec::new()
                                    } else {
                                        sni
                                    },
                                    transport: Some(Transport::Tls),
                                },
                                downstream_tls: None,
                                terminal: Terminal::Tcp {
                                    routes: vec![route],
                                    rbac: rbac.clone(),
                                },
                                provenance: provenance.clone(),
                            });
                        }
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
                        name: format!("tcp.{port}.{}", gw.name()).into(),
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
        if chains.is_empty() {
            // istiod refuses a listener without chains, so nothing listens on the port.
            warnings.push(format!(
                "no usable filter chain on port {listen_port} (no VirtualService routes there): the gateway does not listen on it"
            ));
            continue;
        }
        chains.sort_by_key(|c| c.matcher.server_names.is_empty());
        listeners.push(Listener::new(
            format!("0.0.0.0_{listen_port}"),
            None,
            *listen_port,
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
        proxy: w.id.to_string().into(),
        kind: ProxyKind::Gateway,
        namespace: ns.to_string(),
        identity: w.identity.to_string(),
        address: w.address.clone(),
        outbound_mode: ctx.config.outbound_mode(),
        outbound_mode_source: "mesh config".into(),
        listeners,
        inbound: Vec::new(),
        routes,
        clusters: service_clusters(ctx, ns, &services),
        warnings,
    }
}

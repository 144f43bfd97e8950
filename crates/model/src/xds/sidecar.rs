//! A sidecar's outbound config, as istiod builds it for the services the workload can see.
//!
//! - HTTP-family service ports share one `0.0.0.0_<port>` listener whose route configuration
//!   (named after the port) has a virtual host per service and a catch-all: `block_all` (direct
//!   502) under REGISTRY_ONLY, `allow_any` (PassthroughCluster) under ALLOW_ANY.
//! - Other ports of services with addresses get `<vip>_<port>` TCP listeners; those without
//!   addresses share `0.0.0.0_<port>`: one chain per TLS host (matched by SNI), one catch-all chain
//!   for a TCP service, and the fallthrough chain to BlackHoleCluster / PassthroughCluster.
//! - `virtualOutbound` (15001) catches every other destination with that same fallthrough.
//!
//! (istio/istio `pilot/pkg/networking/core/listener.go`, `httproute.go`.)
//!
//! Owns: `build` for a sidecar: its listeners and filter chains, route configurations and virtual
//! hosts (with the Kubernetes short names a pod can use as domains), the catch-alls, and a warning
//! when two TCP services claim one port. Leaves out: what the workload can see
//! (`topology::scope`), its clusters (`build`), VirtualService translation (`routes`), a
//! gateway's config (`gateway`), and the inbound side (`inbound`).

use super::build::{destination_cluster, service_clusters};
use super::routes::{http_routes, tcp_routes, tls_chains, Binding};
use super::{
    ChainMatch, FilterChain, Listener, Provenance, ProxyConfig, ProxyKind, Route, RouteAction,
    RouteConfiguration, RouteMatch, TcpRoute, Terminal, Transport, VirtualHost, ALLOW_ANY,
    BLACKHOLE_CLUSTER, BLOCK_ALL, PASSTHROUGH_CLUSTER, VIRTUAL_OUTBOUND,
};
use crate::topology::host::host_matches;
use crate::topology::registry::ServiceInfo;
use crate::topology::scope::Scope;
use crate::topology::{MeshContext, Workload};
use egressbench_resources::istio::virtual_service::Destination;
use egressbench_resources::istio::VirtualService;
use egressbench_resources::{OutboundMode, Protocol, Resource};
use std::collections::BTreeMap;

/// The VirtualService (bound to this sidecar) that owns `host`, if any: the first in store order.
fn owning_vs<'a>(
    scope: &Scope<'a>,
    binding: &Binding<'_>,
    host: &str,
) -> Option<(&'a Resource, &'a VirtualService)> {
    scope
        .virtual_services_for(host)
        .into_iter()
        .map(|i| scope.virtual_services[i])
        .find(|(r, vs)| binding.applies_to(vs, r.namespace()))
}

fn fallthrough(mode: OutboundMode, name: &str) -> FilterChain {
    let cluster = match mode {
        OutboundMode::RegistryOnly => BLACKHOLE_CLUSTER,
        OutboundMode::AllowAny => PASSTHROUGH_CLUSTER,
    };
    FilterChain {
        name: name.into(),
        matcher: ChainMatch::default(),
        downstream_tls: None,
        terminal: Terminal::Tcp {
            routes: vec![TcpRoute {
                cluster: cluster.into(),
                port: None,
                provenance: None,
            }],
            rbac: None,
        },
        provenance: Vec::new(),
    }
}

/// Kubernetes short names a pod can use for a service, in istiod's order
/// (`generateAltVirtualHostsForKubernetesService`): the bare `name` only for a service in the
/// proxy's own namespace, then `name.ns` and `name.ns.svc`.
fn domains(svc: &ServiceInfo, port: u16, proxy_ns: &str) -> Vec<String> {
    let mut names = vec![svc.hostname.clone()];
    if let Some(short) = svc.hostname.strip_suffix(".svc.cluster.local") {
        if let Some((name, ns)) = short.split_once('.') {
            if ns == proxy_ns {
                names.push(name.to_string());
            }
        }
        names.push(short.to_string());
        names.push(format!("{short}.svc"));
    }
    names.extend(svc.addresses.iter().cloned());
    let mut out = Vec::new();
    for n in names {
        out.push(format!("{n}:{port}"));
        out.push(n);
    }
    out
}

pub(crate) fn build(ctx: &MeshContext, w: &Workload) -> ProxyConfig {
    let scope = Scope::for_workload(ctx, w);
    let ns = w.id.namespace.as_str();
    let binding = Binding::Mesh {
        labels: &w.labels,
        namespace: ns,
    };
    let namer = |d: &Destination, vs_ns: &str, port: u16| destination_cluster(ctx, d, vs_ns, port);
    let mut warnings = Vec::new();

    let mut http_ports: BTreeMap<u16, Vec<&ServiceInfo>> = BTreeMap::new();
    let mut wildcard_stream: BTreeMap<u16, Vec<(&ServiceInfo, Protocol)>> = BTreeMap::new();
    let mut vip_stream: Vec<(String, u16, &ServiceInfo, Protocol)> = Vec::new();
    for svc in &scope.services {
        for p in &svc.ports {
            if p.protocol == Protocol::Udp {
                continue;
            }
            if p.protocol.is_http() {
                http_ports.entry(p.number).or_default().push(svc);
            } else if svc.addresses.is_empty() {
                wildcard_stream
                    .entry(p.number)
                    .or_default()
                    .push((svc, p.protocol));
            } else {
                for a in &svc.addresses {
                    vip_stream.push((a.clone(), p.number, svc, p.protocol));
                }
            }
        }
    }

    let mut listeners = Vec::new();
    let mut routes = BTreeMap::new();
    let default_stream_route = |svc: &ServiceInfo, port: u16| TcpRoute {
        cluster: super::Cluster::outbound_name(port, None, &svc.hostname).into(),
        port: Some(port),
        provenance: Some(Provenance::new(svc.origin.clone(), format!("port {port}"))),
    };
    // The chains of services without addresses on a shared port: one per SNI set (from the
    // owning VirtualService's `tls` matches, else the host), and one port-wide TCP chain.
    let stream_chains = |port: u16,
                         entries: &Vec<(&ServiceInfo, Protocol)>,
                         warnings: &mut Vec<String>|
     -> (Vec<FilterChain>, Option<FilterChain>) {
        let mut sni_chains: Vec<FilterChain> = Vec::new();
        let mut tcp_chain = None;
        for (svc, proto) in entries {
            let owned = owning_vs(&scope, &binding, &svc.hostname);
            let provenance = vec![Provenance::new(svc.origin.clone(), format!("port {port}"))];
            if proto.is_tls() {
                let from_vs = owned
                    .map(|(r, vs)| tls_chains(r, vs, &binding, port, &namer))
                    .unwrap_or_default();
                let chains = if from_vs.is_empty() {
                    vec![(vec![svc.hostname.clone()], default_stream_route(svc, port))]
                } else {
                    from_vs
                };
                for (sni, route) in chains {
                    if sni_chains.iter().any(|c| c.matcher.server_names == sni) {
                        continue;
                    }
                    sni_chains.push(FilterChain {
                        name: format!("{}:{port}", sni.join(",")).into(),
                        matcher: ChainMatch {
                            server_names: sni,
                            transport: Some(Transport::Tls),
                        },
                        downstream_tls: None,
                        terminal: Terminal::Tcp {
                            routes: vec![route],
                            rbac: None,
                        },
                        provenance: provenance.clone(),
                    });
                }
            } else if tcp_chain.is_some() {
                warnings.push(format!(
                    "{} also claims TCP port {port} with no address; the first TCP service on the port captures it",
                    svc.origin
                ));
            } else {
                let from_vs = owned
                    .map(|(r, vs)| tcp_routes(r, vs, &binding, port, &namer))
                    .unwrap_or_default();
                let routes = if from_vs.is_empty() {
                    vec![default_stream_route(svc, port)]
                } else {
                    from_vs
                };
                tcp_chain = Some(FilterChain {
                    name: format!("0.0.0.0_{port}").into(),
                    matcher: ChainMatch::default(),
                    downstream_tls: None,
                    terminal: Terminal::Tcp { routes, rbac: None },
                    provenance,
                });
            }
        }
        (sni_chains, tcp_chain)
    };
    for (port, services) in &http_ports {
        let mut vhosts: Vec<VirtualHost> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for svc in services {
            let name = format!("{}:{port}", svc.hostname);
            if !seen.insert(name.clone()) {
                continue;
            }
            let mut provenance = vec![Provenance::new(svc.origin.clone(), format!("port {port}"))];
            let vs_routes = owning_vs(&scope, &binding, &svc.hostname).map(|(r, vs)| {
                provenance.push(Provenance::new(r.id(), ""));
                http_routes(r, vs, &binding, *port, &namer)
            });
            let routes = match vs_routes {
                Some(r) if !r.is_empty() => r,
                _ => vec![Route::default_to(super::Cluster::outbound_name(
                    *port,
                    None,
                    &svc.hostname,
                ))],
            };
            vhosts.push(VirtualHost {
                name: name.into(),
                domains: domains(svc, *port, ns),
                routes,
                provenance,
            });
        }
        // VirtualService hosts outside the registry (e.g. a VS for www.google.com with no
        // ServiceEntry) get virtual hosts on port 80 (istiod's `separateVSHostsAndServices`).
        if *port == 80 {
            for (r, vs) in &scope.virtual_services {
                if !binding.applies_to(vs, r.namespace()) {
                    continue;
                }
                for h in &vs.hosts {
                    let h = crate::topology::destination_host(ctx, h, r.namespace());
                    if ctx.registry.lookup(&h).next().is_some() {
                        continue;
                    }
                    let name = format!("{h}:{port}");
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    let routes = http_routes(r, vs, &binding, *port, &namer);
                    if routes.is_empty() {
                        continue;
                    }
                    vhosts.push(VirtualHost {
                        name: name.into(),
                        domains: vec![h.clone(), format!("{h}:{port}")],
                        routes,
                        provenance: vec![Provenance::new(r.id(), "")],
                    });
                }
            }
        }
        let (catch_all, action) = match scope.outbound_mode {
            OutboundMode::RegistryOnly => (
                BLOCK_ALL,
                RouteAction::DirectResponse {
                    status: 502,
                    body: String::new(),
                },
            ),
            OutboundMode::AllowAny => (
                ALLOW_ANY,
                RouteAction::Cluster {
                    clusters: vec![(PASSTHROUGH_CLUSTER.into(), 100)],
                    timeout_ms: None,
                    host_rewrite: None,
                    prefix_rewrite: None,
                    request_headers_to_add: Vec::new(),
                    abort: None,
                },
            ),
        };
        vhosts.push(VirtualHost {
            name: catch_all.into(),
            domains: vec!["*".into()],
            routes: vec![Route {
                name: catch_all.into(),
                matcher: RouteMatch::default(),
                action,
                provenance: None,
            }],
            provenance: Vec::new(),
        });
        let rc = port.to_string();
        routes.insert(rc.clone(), RouteConfiguration::new(rc.clone(), vhosts));
        let name = format!("0.0.0.0_{port}");
        let mut chains = vec![FilterChain {
            name: name.into(),
            matcher: ChainMatch {
                server_names: Vec::new(),
                transport: Some(Transport::RawBuffer),
            },
            downstream_tls: None,
            terminal: Terminal::Http {
                route_config: rc.into(),
                rbac: None,
            },
            provenance: Vec::new(),
        }];
        // HTTP and TCP/TLS services on one port share the listener (istiod merges the chains):
        // plain text goes to the HTTP chain, TLS by SNI, and a TCP service catches the rest.
        let (sni_chains, tcp_chain) = wildcard_stream
            .get(port)
            .map(|entries| stream_chains(*port, entries, &mut warnings))
            .unwrap_or_default();
        chains.extend(sni_chains);
        listeners.push(Listener::new(
            format!("0.0.0.0_{port}"),
            None,
            *port,
            chains,
            Some(
                tcp_chain
                    .unwrap_or_else(|| fallthrough(scope.outbound_mode, "PassthroughFilterChain")),
            ),
        ));
    }

    for (port, entries) in &wildcard_stream {
        if http_ports.contains_key(port) {
            continue;
        }
        let (mut chains, tcp_chain) = stream_chains(*port, entries, &mut warnings);
        chains.extend(tcp_chain);
        listeners.push(Listener::new(
            format!("0.0.0.0_{port}"),
            None,
            *port,
            chains,
            Some(fallthrough(scope.outbound_mode, "PassthroughFilterChain")),
        ));
    }

    let stream_routes = |svc: &ServiceInfo, port: u16, proto: Protocol| -> Vec<TcpRoute> {
        let owned = owning_vs(&scope, &binding, &svc.hostname);
        let from_vs = owned
            .map(|(r, vs)| {
                if proto.is_tls() {
                    tls_chains(r, vs, &binding, port, &namer)
                        .into_iter()
                        .filter(|(sni, _)| sni.iter().any(|h| host_matches(h, &svc.hostname)))
                        .map(|(_, route)| route)
                        .collect()
                } else {
                    tcp_routes(r, vs, &binding, port, &namer)
                }
            })
            .unwrap_or_default();
        if from_vs.is_empty() {
            vec![default_stream_route(svc, port)]
        } else {
            from_vs
        }
    };

    for (vip, port, svc, proto) in &vip_stream {
        let name = format!("{vip}_{port}");
        if listeners.iter().any(|l| *l.name == *name) {
            continue;
        }
        listeners.push(Listener::new(
            name.clone(),
            Some(vip.clone()),
            *port,
            vec![FilterChain {
                name: name.as_str().into(),
                matcher: ChainMatch::default(),
                downstream_tls: None,
                terminal: Terminal::Tcp {
                    routes: stream_routes(svc, *port, *proto),
                    rbac: None,
                },
                provenance: vec![Provenance::new(svc.origin.clone(), format!("port {port}"))],
            }],
            None,
        ));
    }

    // istiod names the catch-all chain `virtualOutbound-catchall-tcp` in both modes; its cluster
    // is what differs (listener_builder.go).
    let virtual_chain = "virtualOutbound-catchall-tcp";
    listeners.push(Listener::new(
        VIRTUAL_OUTBOUND,
        None,
        15001,
        Vec::new(),
        Some(fallthrough(scope.outbound_mode, virtual_chain)),
    ));

    let inbound = super::inbound::build(ctx, w);
    routes.extend(inbound.routes);
    let mut clusters = service_clusters(ctx, ns, &scope.services);
    clusters.extend(inbound.clusters);
    ProxyConfig {
        proxy: w.id.to_string().into(),
        kind: ProxyKind::Sidecar,
        namespace: ns.to_string(),
        identity: w.identity.to_string(),
        address: w.address.clone(),
        outbound_mode: scope.outbound_mode,
        outbound_mode_source: scope.outbound_mode_source.clone(),
        listeners,
        inbound: inbound.listeners,
        routes,
        clusters,
        warnings,
    }
}

//! A sidecar's inbound side: what its pod's own ports answer to the rest of the mesh.
//!
//! One listener per port the application listens on (`pods::listening_ports`), named
//! `virtualInbound` as istiod's single inbound listener is, each with two PERMISSIVE filter
//! chains named as istiod names them, `0.0.0.0_<port>`: one on `transport_protocol: tls`
//! terminating mesh mTLS (a client certificate from the mesh CA required), one on `raw_buffer`
//! for plain text. HTTP-family Service ports end in an HTTP connection manager whose route
//! configuration `inbound|<port>||` (virtual host `inbound|http|<service port>`) sends everything
//! to the cluster `inbound|<port>||`; other ports in a TCP proxy to that cluster. Both chains
//! carry the RBAC filter of the AuthorizationPolicies selecting the workload. The inbound
//! clusters have one endpoint, the application (`EndpointTarget::App`), connected to from
//! `pods::INBOUND_SOURCE`.
//!
//! (istio/istio `pilot/pkg/networking/core/listener_inbound.go`, `cluster_builder.go`.)
//!
//! Owns: `build` (listeners, route configurations and clusters of the inbound side). Leaves out:
//! PeerAuthentication (every port is PERMISSIVE), istiod's chain for a client's own TLS (matched
//! by ALPN, passed through as TCP: here a TLS ClientHello without a mesh certificate fails the
//! handshake), protocol sniffing (a port no Service declares HTTP is proxied as TCP), istiod's
//! `InboundPassthroughCluster` (a port no Service names gets its own `inbound|<port>||`), and
//! the catch-all for ports the application does not listen on (refused rather than accepted and
//! reset).

use super::build::rbac_for;
use super::cluster::{Cluster, ClusterKind, Endpoint, EndpointTarget};
use super::{
    ChainMatch, DownstreamTls, FilterChain, Listener, Route, RouteConfiguration, TcpRoute,
    Terminal, Transport, VirtualHost,
};
use crate::pods::{app_address, listening_ports};
use crate::topology::{MeshContext, Workload};
use egressbench_resources::ServerTlsMode;
use std::collections::BTreeMap;

/// The listener name every inbound port shares.
pub const VIRTUAL_INBOUND: &str = "virtualInbound";

/// `inbound|<port>||`, as istiod names inbound clusters and route configurations.
pub fn inbound_name(port: u16) -> String {
    format!("inbound|{port}||")
}

/// The inbound side of `w`'s sidecar.
pub(crate) struct Inbound {
    pub listeners: Vec<Listener>,
    pub routes: BTreeMap<String, RouteConfiguration>,
    pub clusters: BTreeMap<String, Cluster>,
}

pub(crate) fn build(ctx: &MeshContext, w: &Workload) -> Inbound {
    let mut out = Inbound {
        listeners: Vec::new(),
        routes: BTreeMap::new(),
        clusters: BTreeMap::new(),
    };
    if app_address(w).is_none() {
        return out;
    }
    let rbac = rbac_for(ctx, w);
    for port in listening_ports(w, &ctx.registry) {
        // The protocol of the Services' ports that target this one: HTTP if any says so.
        let declared: Vec<_> = ctx
            .registry
            .selecting(&w.id)
            .flat_map(|s| s.ports.iter().filter(|p| p.target_port == port))
            .collect();
        let http = declared.iter().any(|p| p.protocol.is_http());
        let name = inbound_name(port);
        // istiod sends a port no Service names to its one ORIGINAL_DST `InboundPassthroughCluster`,
        // which keeps the dialed port; a cluster per port keeps it here.
        let cluster = name.clone();
        out.clusters.insert(
            cluster.clone(),
            Cluster {
                name: cluster.as_str().into(),
                // istiod's inbound clusters connect to the pod's own address, as dialed.
                kind: ClusterKind::OriginalDst,
                host: String::new(),
                port,
                subset: None,
                // The pod's own address, as istiod has it; where the application really
                // listens behind the sidecar is `pods::app_address`.
                endpoints: vec![Endpoint {
                    address: w.address.to_string(),
                    port,
                    target: EndpointTarget::App(w.id.clone()),
                }],
                tls: None,
                http2: declared.iter().any(|p| p.protocol.is_http2()),
                provenance: Vec::new(),
            },
        );
        let terminal = if http {
            out.routes.insert(
                name.clone(),
                RouteConfiguration::new(
                    name.as_str(),
                    vec![VirtualHost {
                        // Named by the Service's port, as istiod names it.
                        name: format!(
                            "inbound|http|{}",
                            declared
                                .iter()
                                .find(|p| p.protocol.is_http())
                                .map_or(port, |p| p.number)
                        )
                        .into(),
                        domains: vec!["*".into()],
                        routes: vec![Route::default_to(cluster.clone())],
                        provenance: Vec::new(),
                    }],
                ),
            );
            Terminal::Http {
                route_config: name.as_str().into(),
                rbac: rbac.clone(),
            }
        } else {
            Terminal::Tcp {
                routes: vec![TcpRoute {
                    cluster: cluster.as_str().into(),
                    port: None,
                    provenance: None,
                }],
                rbac: rbac.clone(),
            }
        };
        let chain = |transport, tls| FilterChain {
            name: format!("0.0.0.0_{port}").into(),
            matcher: ChainMatch {
                server_names: Vec::new(),
                transport: Some(transport),
            },
            downstream_tls: tls,
            terminal: terminal.clone(),
            provenance: Vec::new(),
        };
        out.listeners.push(Listener::new(
            VIRTUAL_INBOUND,
            None,
            port,
            vec![
                chain(
                    Transport::Tls,
                    Some(DownstreamTls {
                        mode: ServerTlsMode::IstioMutual,
                        require_client_certificate: true,
                        credential: None,
                    }),
                ),
                chain(Transport::RawBuffer, None),
            ],
            None,
        ));
    }
    out
}

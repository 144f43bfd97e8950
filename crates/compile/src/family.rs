//! What an egress rule's port protocol means for the generated resources, written as data.
//!
//! Owns the three families (HTTP, SNI-routed TLS, plain TCP) and the table from protocol to family.
//! Leaves out building resources from them (`generate`, `routes`).

use egressbench_resources::Protocol;

/// Which kind of VirtualService route a proxy uses on one hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteKind {
    /// `http:` routes, matched on port (the proxy parses HTTP).
    Http,
    /// `tls:` routes, matched on port and SNI (the application's own TLS).
    Sni,
    /// `tcp:` routes, matched on port only.
    Tcp,
}

/// How destinations of one family are carried from the sidecar to the gateway and on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Family {
    /// The family's name, for messages.
    pub name: &'static str,
    /// Protocol of the egress `Gateway` server. The sidecar→gateway hop is ISTIO_MUTUAL for every
    /// family; HTTPS means the gateway terminates it and routes HTTP, TLS that it routes the stream.
    pub server_protocol: Protocol,
    /// Route kind on the sidecar (the hop to the gateway).
    pub mesh_hop: RouteKind,
    /// Route kind on the gateway (the hop to the external host).
    pub gateway_hop: RouteKind,
    /// Whether `httpsUpgrade` (TLS origination at the gateway) applies.
    pub upgradable: bool,
}

impl Family {
    /// Whether each host gets its own VirtualService. The gateway routes HTTP by the request's
    /// Host, so a route must send each host to itself; a stream carries no Host, and the gateway
    /// sends it to the first host (ASM requires a rule's hosts to resolve to the same addresses).
    pub(crate) fn routes_per_host(&self) -> bool {
        self.gateway_hop == RouteKind::Http
    }
}

/// HTTP, HTTP2, GRPC: the sidecar parses requests; the gateway terminates mTLS and routes by Host.
pub(crate) const HTTP: Family = Family {
    name: "HTTP",
    server_protocol: Protocol::Https,
    mesh_hop: RouteKind::Http,
    gateway_hop: RouteKind::Http,
    upgradable: true,
};

/// HTTPS, TLS: the application speaks TLS; the sidecar routes by SNI, the gateway forwards bytes.
pub(crate) const SNI: Family = Family {
    name: "TLS",
    server_protocol: Protocol::Tls,
    mesh_hop: RouteKind::Sni,
    gateway_hop: RouteKind::Tcp,
    upgradable: false,
};

/// TCP (and MONGO, which ASM carries as TCP): routed by port alone on both hops.
pub(crate) const TCP: Family = Family {
    name: "TCP",
    server_protocol: Protocol::Tls,
    mesh_hop: RouteKind::Tcp,
    gateway_hop: RouteKind::Tcp,
    upgradable: false,
};

/// The protocols ASMEgressTrafficPolicy accepts, in the order messages list them.
pub(crate) const SUPPORTED: [Protocol; 7] = [
    Protocol::Http,
    Protocol::Https,
    Protocol::Grpc,
    Protocol::Http2,
    Protocol::Mongo,
    Protocol::Tcp,
    Protocol::Tls,
];

/// The family of a rule's port protocol; `None` for protocols ASM does not carry.
pub(crate) fn family_of(protocol: Protocol) -> Option<&'static Family> {
    match protocol {
        Protocol::Http | Protocol::Http2 | Protocol::Grpc => Some(&HTTP),
        Protocol::Https | Protocol::Tls => Some(&SNI),
        Protocol::Tcp | Protocol::Mongo => Some(&TCP),
        Protocol::GrpcWeb | Protocol::Mysql | Protocol::Redis | Protocol::Udp => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_protocol_has_a_family() {
        for p in SUPPORTED {
            assert!(family_of(p).is_some(), "{p}");
        }
        assert_eq!(family_of(Protocol::Udp), None);
        assert_eq!(family_of(Protocol::Mongo), Some(&TCP));
    }

    #[test]
    fn only_http_routes_per_host_and_upgrades() {
        assert!(HTTP.routes_per_host() && HTTP.upgradable);
        assert!(!SNI.routes_per_host() && !SNI.upgradable);
        assert!(!TCP.routes_per_host() && !TCP.upgradable);
    }
}

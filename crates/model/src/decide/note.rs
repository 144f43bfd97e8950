//! What a decision noticed at a hop, as data: the walk and the request-handling machine record
//! these on the trace, and `explain` turns them into English (`explain::notes`).
//!
//! Owns: `Note` and `WireKind`. Leaves out: the words (`explain`).

use crate::xds::Name;

/// What a connection carried, as a proxy or host saw it arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireKind {
    PlaintextHttp,
    PlaintextTcp,
    Tls {
        sni: Option<String>,
        client_certificate: bool,
    },
}

/// Something the walk noticed at a hop that the explanation should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// No filter chain of the listener accepts the connection: it is closed.
    NoFilterChain { listener: Name, wire: WireKind },
    /// The chain terminates TLS but the connection is plaintext.
    PlaintextOnTlsChain { chain: Name },
    /// The chain requires a client certificate from the mesh CA and none was presented.
    ClientCertificateRequired { chain: Name, mode: String },
    /// A gateway server's `credentialName` Secret is missing (or holds no certificate with its
    /// key): it has nothing to present, and the handshake fails.
    CredentialMissing { chain: Name, secret: Name },
    /// A MUTUAL gateway server got no client certificate its Secret's CA issued.
    ClientCertificateNotIssued { chain: Name, secret: Name },
    /// The network RBAC filter denied the connection on its first bytes.
    NetworkRbacDenied,
    /// The TCP proxy has no route for the listener's port.
    NoTcpRoute,
    /// The chain speaks HTTP but the connection carries something else: the codec fails.
    CodecError { wire: WireKind },
    /// No virtual host of the route configuration has the request's authority.
    NoVirtualHost {
        route_config: Name,
        authority: String,
    },
    /// A `CONNECT` (a client asking a forward proxy for a tunnel) reached an HTTP connection
    /// manager, where no route matches it.
    ConnectRefused,
    /// A forward proxy opened a tunnel, or refused to.
    Tunnel {
        proxy: String,
        target: String,
        verdict: String,
    },
    /// A forward proxy got a whole request (`GET http://…`) and made it itself.
    Relayed { proxy: String, url: String },
    /// The virtual host has no route whose match holds.
    NoRoute { virtual_host: Name },
    /// The route splits traffic by weight; the heaviest cluster is followed.
    Weighted {
        clusters: Vec<(Name, u32)>,
        followed: Name,
    },
    /// The route's cluster does not exist on this proxy.
    ClusterMissing { cluster: Name },
    /// The cluster has no endpoints (`BlackHoleCluster` among them).
    NoEndpoints { cluster: Name },
    /// The gateway has no listener on the port: the connection is refused.
    GatewayPortClosed { gateway: Name, port: u16 },
    /// A sidecar's application listens on no such port, so its sidecar has no inbound listener.
    AppPortClosed { workload: Name, port: u16 },
    /// The upstream TLS handshake failed, for the reasons the peer's hop noted.
    UpstreamTlsFailed { because: Vec<Note> },
    /// The destination outside the mesh receives the connection.
    Received {
        host: String,
        port: u16,
        wire: WireKind,
    },
}

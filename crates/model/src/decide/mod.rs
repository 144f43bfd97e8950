//! Decisions: one request walked through the compiled per-proxy config, hop by hop, the way
//! Istio's `pilot/pkg/simulation` walks generated config (listener → filter chain → route →
//! cluster), continuing through every proxy the request reaches (sidecar, egress gateway) to the
//! destination (an external host, or a mesh workload's application).
//!
//! Owns: `Trace` (the hops with what matched and why, and how the walk ended) and the walk itself.
//! Pure and deterministic: no sockets, no clocks. Leaves out: what the client sees and what the
//! proxies log (`answer`), and rendering for people (`explain`).

pub mod authorize;
pub mod machine;
pub(crate) mod matchers;
mod note;
pub mod remedy;
pub mod step;
mod walk;

pub use authorize::RbacOutcome;
pub use note::{Note, WireKind};
pub use walk::decide;
pub(crate) use walk::PROXY_CONNECT_TIMEOUT_MS;

pub use crate::outcome::reply::UpstreamFailure;

use crate::outcome::reply::{Details, LocalReply, ResponseFlags};
use crate::outcome::HttpResponse;
use crate::request::{ClientRequest, Origin};
use crate::xds::{Name, Provenance, ProxyKind, UpstreamTls};
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// Why a request could not be decided at all (as opposed to being denied).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecideError {
    #[error("no workload `{workload}`; workloads are: {known}")]
    UnknownWorkload { workload: String, known: String },
}

/// Whether a proxy handled the request as HTTP (it parsed it and can answer) or relayed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HopMode {
    Http,
    Tcp,
}

/// The HTTP request as one proxy received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopRequest {
    /// HTTP/1.1 or HTTP/2, as this proxy received it.
    pub protocol: crate::outcome::HttpVersion,
    pub method: Name,
    pub path: Name,
    pub authority: Name,
    pub headers: Vec<(String, String)>,
    pub body: Name,
}

impl HopRequest {
    /// A header's value (case-insensitive name; the first if repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as the client sends it (what its own sidecar receives).
    pub fn from_client(request: &ClientRequest) -> Self {
        HopRequest {
            protocol: if request.http.h2c() && request.scheme == crate::request::Scheme::Http {
                crate::outcome::HttpVersion::Http2
            } else {
                crate::outcome::HttpVersion::Http11
            },
            method: request.method.as_str().into(),
            path: request.path.as_str().into(),
            authority: request.authority().into(),
            headers: request.headers.clone(),
            body: request.body.as_deref().unwrap_or_default().into(),
        }
    }
}

/// One proxy on the way.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// `namespace/workload`.
    pub proxy: Name,
    pub kind: ProxyKind,
    /// `outbound` (a sidecar capturing its app's traffic) or `inbound`.
    pub direction: &'static str,
    pub listener: Name,
    pub filter_chain: Option<Name>,
    pub mode: HopMode,
    pub route_config: Option<Name>,
    pub virtual_host: Option<Name>,
    pub route: Option<Name>,
    /// The route's timeout, when it set one.
    pub route_timeout_ms: Option<u64>,
    pub cluster: Option<Name>,
    /// The address and port this proxy connected to upstream.
    pub upstream_host: Option<std::net::SocketAddr>,
    /// The address and port the downstream connection was made to (a captured connection's
    /// original destination; an inbound listener's pod address and port).
    pub downstream_local: Option<std::net::SocketAddr>,
    /// Resources (and rules) that matched at this hop, in the order they were used.
    pub matched: Vec<Provenance>,
    /// TLS this proxy terminated, e.g. `ISTIO_MUTUAL`.
    pub downstream_tls: Option<String>,
    /// Peer identity from the verified client certificate.
    pub peer_identity: Option<String>,
    /// SNI the proxy saw (`requested_server_name`).
    pub sni: Option<String>,
    /// TLS this proxy originated upstream.
    pub upstream_tls: Option<Box<UpstreamTls>>,
    /// Identity this proxy presented upstream (its own certificate), for mTLS.
    pub presented_identity: Option<String>,
    pub rbac: Option<Box<RbacOutcome>>,
    pub request: Option<HopRequest>,
    /// Why the walk went the way it did at this hop, in words.
    pub notes: Vec<Note>,
}

/// What the destination did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reached {
    Response {
        response: HttpResponse,
        delay_ms: u64,
    },
    Refused,
    Reset,
    /// Reset once the client's own TLS handshake had finished: a TLS 1.3 server that refuses
    /// the client's certificate reads it after the client's Finished, so the client sees the
    /// reset on its first read (curl: exit 56), not in its handshake.
    ResetAfterHandshake,
    /// The name did not resolve (from the client, before any connection).
    Unresolved,
    /// The host's TLS server found another TLS handshake inside (TLS originated twice) and
    /// answered it in plain text.
    NotTls,
    /// The connection attempt went unanswered.
    NoRoute,
    /// The TLS client that reached the host did not accept its certificate and ended the
    /// handshake.
    CertificateRejected(crate::outcome::CertificateProblem),
    /// A forward proxy opened a tunnel: the connection it made to the `CONNECT`'s destination,
    /// decided as a request of the proxy's own pod, carries the client's request end to end.
    Tunnel(Tunnel),
    /// A forward proxy got a whole request (`GET http://…`) and made it itself, as a request of
    /// its own pod; `answer` turns what that got into the proxy's answer.
    Relayed(Relay),
}

/// A request a forward proxy made itself (see `Reached::Relayed`).
#[derive(Debug, Clone, Serialize)]
pub struct Relay {
    /// The proxy's own request, decided as one of its pod.
    pub leg: Box<Trace>,
    pub server: crate::external::ForwardProxyServer,
    /// What the proxy received, as its access log shows it; `answer` fills in the status it sent
    /// back, and drops the destination's address when its own request never connected.
    pub record: crate::outcome::Received,
}

impl PartialEq for Relay {
    /// Two relays are alike when the proxy made the same request with the same end.
    fn eq(&self, other: &Relay) -> bool {
        self.leg.request == other.leg.request && self.leg.end == other.leg.end
    }
}

impl Eq for Relay {}

/// The second leg of a tunnelled request (see `Reached::Tunnel`).
#[derive(Debug, Clone, Serialize)]
pub struct Tunnel(pub Box<Trace>);

impl PartialEq for Tunnel {
    /// Two tunnels are alike when they carried the same request to the same end.
    fn eq(&self, other: &Tunnel) -> bool {
        self.0.request == other.0.request && self.0.end == other.0.end
    }
}

impl Eq for Tunnel {}

/// How the walk ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// A proxy answered the HTTP request itself (direct response, RBAC 403, 404 no route, fault).
    Responded {
        hop: usize,
        #[serde(flatten)]
        reply: LocalReply,
    },
    /// A proxy closed the connection without an HTTP answer (BlackHoleCluster, no filter chain,
    /// a failed TLS handshake, RBAC on a TCP chain).
    Closed {
        hop: usize,
        flags: ResponseFlags,
        details: Details,
        termination: Cow<'static, str>,
        /// Closed after reading what the client sent (a network RBAC denial): a FIN. Otherwise
        /// the proxy closed before reading it, and the kernel answers with a reset.
        graceful: bool,
        /// Closed in the middle of the connecting side's TLS handshake (its ClientHello found
        /// no filter chain): to a proxy that connected, the connection never came up.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        handshake: bool,
    },
    /// A proxy could not get a connection to its upstream.
    UpstreamFailed {
        hop: usize,
        failure: UpstreamFailure,
    },
    /// The client could not use its own TLS files (`--cacert`, `--cert`, `--key`) and sent
    /// nothing.
    NotSent {
        problem: crate::outcome::TlsFileProblem,
    },
    /// The destination (external host or mesh application) was reached.
    Reached {
        destination: String,
        port: u16,
        tls: bool,
        outcome: Reached,
    },
}

/// One request from one workload: the input of a decision. Its parts are shared with the trace
/// that answers it, so deciding the same call again copies nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    pub from: Arc<Origin>,
    pub request: Arc<ClientRequest>,
    /// The HTTP request as the client's sidecar receives it.
    #[serde(skip)]
    pub(crate) sent: HopRequest,
}

impl Call {
    pub fn new(from: impl Into<Origin>, request: ClientRequest) -> Self {
        Call {
            sent: HopRequest::from_client(&request),
            from: Arc::new(from.into()),
            request: Arc::new(request),
        }
    }
}

/// A decision: the request, every hop, and the end.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub from: Arc<Origin>,
    /// The identity of the client workload (whether or not it has a proxy to present it); empty
    /// for the workstation.
    pub from_identity: Name,
    pub request: Arc<ClientRequest>,
    /// The address the client's DNS lookup gave, if any.
    pub address: Option<std::net::IpAddr>,
    pub hops: Vec<Hop>,
    pub end: End,
    /// What the destination received, when the request reached one.
    pub received: Vec<crate::outcome::Received>,
    /// For a blocked request: the facts that blocked it and the changes that would allow it.
    /// Filled on demand by `remedy::remedies` (explanations), not by `decide` itself, so that a
    /// decision costs only the walk.
    pub remedies: Vec<String>,
}

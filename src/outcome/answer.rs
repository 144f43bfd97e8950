//! The one place a decision's end becomes what the client sees and what each proxy logs.
//!
//! The end of a walk (a proxy's own answer, a closed connection, a failed upstream connect, or the
//! destination's reply) travels back through the hops in reverse. An HTTP hop turns an upstream
//! failure into Envoy's local reply (`503` with `UF`/`UC`/`UH`, `504 UT` on a route timeout); a TCP
//! hop relays bytes, so a failure reaches the client as a closed connection. Each hop writes one
//! access-log entry with Envoy's fields. The client's view follows curl: a reset during the TLS
//! handshake (HTTPS) is distinguished from one after the request was sent.

use super::{AccessLogEntry, ClientResult, ConnectionError, Exchange, HttpResponse};
use crate::decide::{End, Hop, HopMode, Reached, Trace, UpstreamFailure};
use crate::request::Scheme;

/// What flows back to a hop from its upstream.
#[derive(Debug, Clone)]
enum Up {
    Response {
        response: HttpResponse,
        delay_ms: u64,
    },
    Failed(ConnectionError),
    /// The upstream's TCP connection was reset (a host's RST). TCP proxies pass the reset on and
    /// flag it `UR`; to an HTTP proxy it is a connection termination.
    PeerReset,
    /// The upstream closed without answering, after reading what was sent (a FIN). TCP proxies
    /// pass the close on; to an HTTP proxy it is a connection termination.
    Closed,
}

/// Istio's default route retry policy retries connect failures twice (istio/istio
/// `pilot/pkg/networking/core/route/retry`), so a refused connection ends as a retried one…
const UF_BODY: &str = "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: 111";
/// … except on the catch-all to PassthroughCluster, which has no retry policy.
const UF_BODY_ONCE: &str = "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111";
const UC_BODY: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

fn entry(hop: &Hop) -> AccessLogEntry {
    let mut e = AccessLogEntry::blank(hop.proxy.to_string());
    if let (HopMode::Http, Some(r)) = (hop.mode, &hop.request) {
        e.method = r.method.to_string();
        e.path = r.path.to_string();
        e.protocol = r.protocol.as_str().to_string();
        e.authority = r.authority.to_string();
    }
    e.upstream_cluster = hop.cluster.as_deref().unwrap_or("-").to_string();
    e.upstream_host = hop
        .upstream_host
        .map_or_else(|| "-".to_string(), |a| a.to_string());
    e.requested_server_name = hop.sni.clone().unwrap_or_else(|| "-".into());
    // Envoy logs a route without a name as `-`.
    e.route_name = hop
        .route
        .as_deref()
        .filter(|name| !name.is_empty())
        .unwrap_or("-")
        .to_string();
    e.downstream_peer_principal = hop.peer_identity.clone().unwrap_or_else(|| "-".into());
    e
}

/// A reply a proxy makes itself (Envoy's local reply): what the client receives and what the proxy
/// logs. The simulated mesh's proxies answer with these too, so that every target maps failures to
/// answers the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    pub body: &'static str,
    pub details: &'static str,
    pub flags: &'static str,
}

impl LocalReply {
    /// The response the client receives: text/plain when there is a body, and its length.
    pub fn response(&self) -> HttpResponse {
        local_response(self.status, self.body, &[])
    }
}

/// An HTTP hop's answer to an upstream failure; `retried`: whether the route retries a failed
/// connect (`xds::retries_connect_failures`), which Envoy flags `URX` when the retries run out.
pub fn upstream_failure_reply(kind: UpstreamFailure, retried: bool) -> LocalReply {
    match kind {
        UpstreamFailure::NoHealthyUpstream => LocalReply {
            status: 503,
            body: "no healthy upstream",
            details: "no_healthy_upstream",
            flags: "UH",
        },
        UpstreamFailure::ConnectFailure => LocalReply {
            status: 503,
            body: if retried { UF_BODY } else { UF_BODY_ONCE },
            details: "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}",
            flags: if retried { "UF,URX" } else { "UF" },
        },
        UpstreamFailure::ConnectionTermination => LocalReply {
            status: 503,
            body: UC_BODY,
            details: "upstream_reset_before_response_started{connection_termination}",
            flags: "UC",
        },
    }
}

/// The flag a TCP hop logs when it cannot reach its upstream (the client sees a closed connection).
pub fn tcp_failure_flag(kind: UpstreamFailure) -> &'static str {
    match kind {
        UpstreamFailure::NoHealthyUpstream => "UH",
        UpstreamFailure::ConnectFailure => "UF",
        UpstreamFailure::ConnectionTermination => "UC",
    }
}

/// The route's timeout ran out before the upstream answered.
pub const ROUTE_TIMEOUT: LocalReply = LocalReply {
    status: 504,
    body: "upstream request timeout",
    details: "upstream_response_timeout",
    flags: "UT",
};

/// The body of the 403 an RBAC filter answers (its details name the policy that decided).
pub const RBAC_DENIED_BODY: &str = "RBAC: access denied";

/// No virtual host or route matched.
pub const NO_ROUTE: LocalReply = LocalReply {
    status: 404,
    body: "",
    details: "route_not_found",
    flags: "NR",
};

/// The route names a cluster the proxy does not have.
pub const CLUSTER_NOT_FOUND: LocalReply = LocalReply {
    status: 503,
    body: "",
    details: "cluster_not_found",
    flags: "NC",
};

/// Bytes an HTTP connection manager cannot parse as HTTP/1 (a TLS ClientHello, a raw TCP
/// stream): Envoy answers 400 in plain text and closes the connection.
pub const CODEC_ERROR: LocalReply = LocalReply {
    status: 400,
    body: "Bad Request",
    details: "http1.codec_error",
    flags: "DPE",
};

/// A route with a fault abort.
pub const FAULT_ABORT: LocalReply = LocalReply {
    status: 0,
    body: "fault filter abort",
    details: "fault_filter_abort",
    flags: "FI",
};

/// Envoy's local reply as the client receives it: text/plain when there is a body, its length,
/// then `headers` (a redirect's `location`).
pub fn local_response(status: u16, body: &str, headers: &[(String, String)]) -> HttpResponse {
    let mut all = Vec::with_capacity(headers.len() + 2);
    if !body.is_empty() {
        all.push(("content-type".to_string(), "text/plain".to_string()));
    }
    all.push(("content-length".to_string(), body.len().to_string()));
    all.extend(headers.iter().cloned());
    HttpResponse {
        version: Default::default(),
        status,
        headers: all,
        body: body.to_string(),
    }
}

fn local_reply(reply: LocalReply, e: &mut AccessLogEntry) -> Up {
    e.response_code = reply.status;
    e.response_code_details = reply.details.into();
    e.response_flags = reply.flags.into();
    Up::Response {
        response: HttpResponse::new(reply.status, "text/plain", reply.body),
        delay_ms: 0,
    }
}

/// How an HTTP hop answers an upstream failure (Envoy's local replies).
fn http_failure(kind: UpstreamFailure, e: &mut AccessLogEntry) -> Up {
    if kind == UpstreamFailure::NoHealthyUpstream {
        e.upstream_host = "-".into();
    }
    let retried = crate::xds::retries_connect_failures(&e.upstream_cluster);
    local_reply(upstream_failure_reply(kind, retried), e)
}

fn reached(outcome: &Reached) -> Up {
    match outcome {
        Reached::Response { response, delay_ms } => Up::Response {
            response: response.clone(),
            delay_ms: *delay_ms,
        },
        Reached::Refused => Up::Failed(ConnectionError::Refused),
        Reached::Reset => Up::PeerReset,
        Reached::Unresolved => Up::Failed(ConnectionError::Unresolved),
        Reached::NoRoute => Up::Failed(ConnectionError::Timeout),
        Reached::NotTls => Up::Failed(ConnectionError::NotTls),
    }
}

/// One hop's treatment of what came back from upstream (for hops that forwarded the request).
fn relay(hop: &Hop, up: Up, e: &mut AccessLogEntry) -> Up {
    match hop.mode {
        HopMode::Http => match up {
            Up::Response { delay_ms, .. } if hop.route_timeout_ms.is_some_and(|t| delay_ms > t) => {
                local_reply(ROUTE_TIMEOUT, e)
            }
            Up::Response { response, delay_ms } => {
                e.response_code = response.status;
                e.response_code_details = "via_upstream".into();
                Up::Response { response, delay_ms }
            }
            Up::Failed(ConnectionError::Refused) | Up::Failed(ConnectionError::Timeout) => {
                http_failure(UpstreamFailure::ConnectFailure, e)
            }
            Up::Failed(ConnectionError::Unresolved) => {
                http_failure(UpstreamFailure::NoHealthyUpstream, e)
            }
            Up::Failed(ConnectionError::Reset | ConnectionError::NotTls)
            | Up::PeerReset
            | Up::Closed => http_failure(UpstreamFailure::ConnectionTermination, e),
        },
        HopMode::Tcp => {
            e.response_flags = match &up {
                Up::Failed(ConnectionError::Refused | ConnectionError::Unresolved) => "UF".into(),
                Up::PeerReset => "UR".into(),
                _ => "-".into(),
            };
            match up {
                Up::Failed(ConnectionError::Unresolved) => Up::Failed(ConnectionError::Reset),
                other => other,
            }
        }
    }
}

/// Turn a trace into the client's result and the proxies' log entries (in hop order).
pub fn answer(trace: &Trace) -> Exchange {
    let hops = &trace.hops;
    let mut logs: Vec<AccessLogEntry> = hops.iter().map(entry).collect();
    // The hop where the walk ended, and what it sends back downstream.
    let (mut up, last_relay) = match &trace.end {
        End::Reached { outcome, .. } => (reached(outcome), hops.len()),
        End::Responded {
            hop,
            status,
            body,
            headers,
            details,
            flags,
        } => {
            let e = &mut logs[*hop];
            e.response_code = *status;
            e.response_code_details = details.to_string();
            e.response_flags = flags.to_string();
            (
                Up::Response {
                    response: local_response(*status, body, headers),
                    delay_ms: 0,
                },
                *hop,
            )
        }
        End::Closed {
            hop,
            flags,
            details,
            termination,
            graceful,
        } => {
            let e = &mut logs[*hop];
            e.response_flags = flags.to_string();
            e.response_code_details = details.to_string();
            e.connection_termination_details = termination.to_string();
            let up = if *graceful {
                Up::Closed
            } else {
                Up::Failed(ConnectionError::Reset)
            };
            (up, *hop)
        }
        End::UpstreamFailed { hop, failure } => {
            let e = &mut logs[*hop];
            let up = match hops[*hop].mode {
                HopMode::Http => http_failure(*failure, e),
                HopMode::Tcp => {
                    e.response_flags = tcp_failure_flag(*failure).into();
                    if *failure == UpstreamFailure::NoHealthyUpstream {
                        e.upstream_host = "-".into();
                    }
                    Up::Failed(ConnectionError::Reset)
                }
            };
            (up, *hop)
        }
    };
    for i in (0..last_relay).rev() {
        up = relay(&hops[i], up, &mut logs[i]);
    }
    let during_tls = trace.request.scheme == Scheme::Https;
    // The client's first hop could not read what it sent: its TLS handshake, or its raw bytes,
    // got a plain-text HTTP answer.
    let unreadable = matches!(&trace.end, End::Responded { hop: 0, details, .. } if details == CODEC_ERROR.details);
    let result = match up {
        Up::Response { .. } if unreadable && during_tls => ClientResult::ConnectionFailed {
            error: ConnectionError::NotTls,
            during_tls: true,
        },
        Up::Response { .. } if trace.request.scheme == Scheme::Tcp => {
            // A TCP client reads bytes, not an HTTP response.
            ClientResult::Response(HttpResponse::new(0, "", ""))
        }
        Up::Response { delay_ms, .. } if trace.request.timeout_ms.is_some_and(|t| delay_ms > t) => {
            ClientResult::ConnectionFailed {
                error: ConnectionError::Timeout,
                during_tls: false,
            }
        }
        Up::Response { response, .. } => ClientResult::Response(response),
        Up::PeerReset => ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls,
        },
        // A TCP client reads the close; an HTTP one gets no response (curl reports both a reset
        // and an empty reply as a failed exchange, and the built-in client reads both as one).
        Up::Closed if trace.request.scheme == Scheme::Tcp => {
            ClientResult::Response(HttpResponse::new(0, "", ""))
        }
        Up::Closed => ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls,
        },
        Up::Failed(error) => ClientResult::ConnectionFailed {
            error,
            during_tls: during_tls
                && !matches!(
                    error,
                    ConnectionError::Refused | ConnectionError::Unresolved
                ),
        },
    };
    Exchange {
        result,
        logs,
        trace: Some(trace.clone()),
        observed: Vec::new(),
    }
}

//! The one place a decision's end becomes what the client sees and what each proxy logs.
//!
//! The end of a walk (a proxy's own answer, a closed connection, a failed upstream connect, or the
//! destination's reply) travels back through the hops in reverse. An HTTP hop turns an upstream
//! failure into Envoy's local reply (`503` with `UF`/`UC`/`UH`, `504 UT` on a route timeout); a TCP
//! hop relays bytes, so a failure reaches the client as a closed connection. Each hop writes one
//! access-log entry with Envoy's fields. The client's view follows curl: a reset during the TLS
//! handshake (HTTPS) is distinguished from one after the request was sent.
//!
//! Owns: `Exchange` (one request's result on any target: the client's view, the log entries, and
//! the trace or the hosts' records when there are any) and `answer`, which builds it from a
//! `decide::Trace`. Leaves out: the walk that produces the trace (`decide`), the catalogue of
//! flags, details and local replies (`outcome::reply`), the `Exchange` a socket-running target
//! observes (`Hosts::exchange` in `egressbench-network`), and rendering it (`explain`).

use crate::decide::{End, Hop, HopMode, Reached, Trace};
use crate::outcome::reply::{Details, LocalReply, ResponseFlag, ResponseFlags, UpstreamFailure};
use crate::outcome::{AccessLogEntry, ClientResult, ConnectionError, HttpResponse};
use crate::request::Scheme;
use serde::Serialize;

/// One request's result on a target: the client's view, every proxy's log lines, and (for the model
/// target) the trace that explains it.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub result: ClientResult,
    /// Log entries written while serving this request, in hop order.
    pub logs: Vec<AccessLogEntry>,
    /// The decision trace, when the target can explain itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    /// What the destination itself recorded, in its own words (the simulated mesh's external
    /// hosts: `httpbin.org:443 received GET https://httpbin.org/anything over TLS …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observed: Vec<String>,
    /// How long the exchange took, in simulated milliseconds: what the destination waited before
    /// answering, cut short by a route timeout or the client's `-m` (the model counts those;
    /// connecting and relaying take no time in it). Socket-running targets measure it.
    pub elapsed_ms: u64,
    /// The address and port the client connected to, as it sees them (a captured connection
    /// keeps its original destination): curl's `%{remote_ip}` and `%{remote_port}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<std::net::SocketAddr>,
    /// What the destinations received, in their own words: computed by the model, recorded by
    /// the socket-running targets' hosts and applications.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub received: Vec<crate::outcome::Received>,
}

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
    /// The upstream proxy found no filter chain for the connection and reset it as soon as it
    /// saw the first bytes (`NR`). As Envoy 1.40 reports it: when that cut the connecting side's
    /// TLS handshake (`handshake`), the connection never came up — an HTTP proxy's pool sees a
    /// failed connect (`UF`, retried: `URX`, and the upstream logs each attempt), a TCP proxy a
    /// connect failure (`UF,URX`); in plain text it had come up — an HTTP proxy sees the
    /// connection terminated (`UC`), a TCP proxy the reset (`UR`). To a client it is a reset.
    NoChain {
        handshake: bool,
    },
}

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
    e.downstream_local_address = hop
        .downstream_local
        .map_or_else(|| "-".to_string(), |a| a.to_string());
    e
}

fn local_reply(reply: LocalReply, e: &mut AccessLogEntry) -> Up {
    e.response_code = reply.status;
    e.response_code_details = reply.details.to_string();
    e.response_flags = reply.flags.to_string();
    Up::Response {
        response: HttpResponse::new(reply.status, "text/plain", &*reply.body),
        delay_ms: 0,
    }
}

/// How an HTTP hop answers an upstream failure (Envoy's local replies).
fn http_failure(kind: UpstreamFailure, e: &mut AccessLogEntry) -> Up {
    if kind == UpstreamFailure::NoHealthyUpstream {
        e.upstream_host = "-".into();
    }
    let retried = crate::xds::retries_connect_failures(&e.upstream_cluster);
    local_reply(LocalReply::upstream_failure(kind, retried), e)
}

/// The retries of Istio's default route retry policy (`retries_connect_failures`).
const RETRIES: usize = 2;

/// A TCP proxy's failed connect: `UF`, and `URX` (its one connect attempt ran out).
fn tcp_connect_failure() -> ResponseFlags {
    ResponseFlags::one(ResponseFlag::UpstreamConnectionFailure)
        .with(ResponseFlag::UpstreamRetryLimitExceeded)
}

fn reached(outcome: &Reached) -> Up {
    match outcome {
        Reached::Response { response, delay_ms } => Up::Response {
            response: response.clone(),
            delay_ms: *delay_ms,
        },
        Reached::Refused => Up::Failed(ConnectionError::Refused),
        Reached::Reset => Up::PeerReset,
        Reached::ResetAfterHandshake => Up::Failed(ConnectionError::Reset),
        Reached::Unresolved => Up::Failed(ConnectionError::Unresolved),
        Reached::NoRoute => Up::Failed(ConnectionError::Timeout),
        Reached::NotTls => Up::Failed(ConnectionError::NotTls),
        Reached::CertificateRejected(p) => Up::Failed(ConnectionError::Certificate(p.clone())),
        // `answer` reads a tunnel's second leg, and a relay's, before any hop relays.
        Reached::Tunnel(_) | Reached::Relayed(_) => Up::Closed,
    }
}

/// One hop's treatment of what came back from upstream (for hops that forwarded the request).
fn relay(hop: &Hop, up: Up, e: &mut AccessLogEntry) -> Up {
    match hop.mode {
        HopMode::Http => match up {
            Up::Response { delay_ms, .. } if hop.route_timeout_ms.is_some_and(|t| delay_ms > t) => {
                match local_reply(LocalReply::ROUTE_TIMEOUT, e) {
                    Up::Response { response, .. } => Up::Response {
                        response,
                        // The proxy answers when its timeout fires.
                        delay_ms: hop.route_timeout_ms.unwrap_or(delay_ms),
                    },
                    other => other,
                }
            }
            Up::Response { response, delay_ms } => {
                e.response_code = response.status;
                e.response_code_details = Details::ViaUpstream.to_string();
                Up::Response { response, delay_ms }
            }
            // A certificate the proxy's own TLS origination rejects fails the connect (Envoy's
            // `CERTIFICATE_VERIFY_FAILED`).
            Up::Failed(
                ConnectionError::Refused
                | ConnectionError::Timeout
                | ConnectionError::Certificate(_),
            ) => http_failure(UpstreamFailure::ConnectFailure, e),
            Up::Failed(ConnectionError::Unresolved) => {
                http_failure(UpstreamFailure::NoHealthyUpstream, e)
            }
            Up::NoChain { handshake: true } => http_failure(UpstreamFailure::ConnectFailure, e),
            Up::Failed(
                ConnectionError::Reset
                | ConnectionError::NotTls
                | ConnectionError::ProxyAborted
                | ConnectionError::TunnelFailed(_)
                | ConnectionError::TlsFile(_),
            )
            | Up::PeerReset
            | Up::NoChain { handshake: false }
            | Up::Closed => http_failure(UpstreamFailure::ConnectionTermination, e),
        },
        HopMode::Tcp => {
            e.response_flags = match &up {
                // Envoy's TCP proxy makes one connect attempt: a failed one also runs out of them.
                Up::Failed(ConnectionError::Refused | ConnectionError::Timeout)
                | Up::NoChain { handshake: true } => tcp_connect_failure(),
                Up::Failed(ConnectionError::Unresolved) => {
                    ResponseFlags::one(ResponseFlag::UpstreamConnectionFailure)
                }
                Up::PeerReset | Up::NoChain { handshake: false } => {
                    ResponseFlags::one(ResponseFlag::UpstreamRemoteReset)
                }
                _ => ResponseFlags::NONE,
            }
            .to_string();
            // The proxy accepted the downstream connection: an upstream one that could not be
            // had resets it (what came over an upstream that was had passes through).
            match up {
                Up::Failed(
                    ConnectionError::Refused
                    | ConnectionError::Timeout
                    | ConnectionError::Unresolved,
                ) => Up::Failed(ConnectionError::Reset),
                Up::NoChain { .. } => Up::PeerReset,
                other => other,
            }
        }
    }
}

/// Turn a trace into the client's result and the proxies' log entries (in hop order).
pub fn answer(trace: &Trace) -> Exchange {
    let hops = &trace.hops;
    let mut logs: Vec<AccessLogEntry> = hops.iter().map(entry).collect();
    let remote = trace.address.map(|ip| {
        let port = trace
            .request
            .proxy
            .as_ref()
            .map_or(trace.request.dial_port(), |p| p.port);
        std::net::SocketAddr::new(ip, port)
    });
    if let End::Reached {
        outcome: Reached::Tunnel(leg),
        ..
    } = &trace.end
    {
        // The hops to the proxy relayed the tunnel's bytes (they are TCP: an HTTP hop answers a
        // CONNECT itself); what the client got is what came through it.
        let inner = answer(&leg.0);
        logs.extend(inner.logs);
        return Exchange {
            result: inner.result,
            logs,
            trace: Some(trace.clone()),
            observed: Vec::new(),
            elapsed_ms: inner.elapsed_ms,
            remote,
            received: trace.received.clone(),
        };
    }
    // What a forward proxy that made the request itself got: its log entries (when its pod has a
    // proxy) and its own record.
    let mut relayed: Option<(Vec<AccessLogEntry>, crate::outcome::Received)> = None;
    // The hop where the walk ended, and what it sends back downstream.
    let (mut up, last_relay) = match &trace.end {
        End::Reached {
            outcome: Reached::Relayed(relay),
            ..
        } => {
            let inner = answer(&relay.leg);
            let response = crate::external::forward::relay_answer(&relay.server, &inner.result);
            let mut record = relay.record.clone();
            record.status = response.status;
            if !crate::external::forward::reached_destination(&inner.result) {
                record.upstream = None;
            }
            // An unanswered connect ends when the proxy's connect timeout does.
            let delay_ms = match &inner.result {
                ClientResult::ConnectionFailed {
                    error: ConnectionError::Timeout,
                    ..
                } => crate::decide::PROXY_CONNECT_TIMEOUT_MS,
                _ => inner.elapsed_ms,
            };
            relayed = Some((inner.logs, record));
            (Up::Response { response, delay_ms }, hops.len())
        }
        End::Reached { outcome, .. } => (reached(outcome), hops.len()),
        End::NotSent { problem } => (Up::Failed(ConnectionError::TlsFile(*problem)), 0),
        End::Responded { hop, reply } => {
            let e = &mut logs[*hop];
            e.response_code = reply.status;
            e.response_code_details = reply.details.to_string();
            e.response_flags = reply.flags.to_string();
            (
                Up::Response {
                    response: reply.response(),
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
            handshake,
        } => {
            let e = &mut logs[*hop];
            e.response_flags = flags.to_string();
            e.response_code_details = details.to_string();
            e.connection_termination_details = termination.to_string();
            let up = if *graceful {
                Up::Closed
            } else if *details == Details::FilterChainNotFound {
                Up::NoChain {
                    handshake: *handshake,
                }
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
                    e.response_flags = match failure {
                        UpstreamFailure::ConnectFailure => tcp_connect_failure(),
                        other => ResponseFlags::one(other.flag()),
                    }
                    .to_string();
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
    // An HTTP proxy retries a connect whose TLS handshake the next proxy cut for want of a filter
    // chain: that proxy logs each attempt (`NR`), the first and the route's two retries.
    if let End::Closed {
        hop,
        details: Details::FilterChainNotFound,
        handshake: true,
        ..
    } = &trace.end
    {
        let caller = hop
            .checked_sub(1)
            .and_then(|i| hops.get(i).zip(logs.get(i)));
        if let Some((h, e)) = caller {
            if h.mode == HopMode::Http && crate::xds::retries_connect_failures(&e.upstream_cluster)
            {
                let attempt = logs[*hop].clone();
                for _ in 0..RETRIES {
                    logs.insert(*hop + 1, attempt.clone());
                }
            }
        }
    }
    // The client hears the HTTP version it spoke to the first proxy that speaks HTTP with it
    // (Envoy's connection manager answers in the downstream protocol, local replies included).
    let first_http = hops
        .iter()
        .find(|h| h.mode == HopMode::Http)
        .and_then(|h| h.request.as_ref());
    if let (Up::Response { response, .. }, Some(request)) = (&mut up, first_http) {
        response.version = request.protocol;
    }
    let client_limit = trace.request.timeout_ms.filter(|t| *t > 0);
    let elapsed_ms = match &up {
        Up::Response { delay_ms, .. } => client_limit.map_or(*delay_ms, |t| t.min(*delay_ms)),
        Up::Failed(ConnectionError::Timeout) => client_limit.unwrap_or(0),
        _ => 0,
    };
    // Through a forward proxy's tunnel, whatever ended before the tunnel was open ended in curl's
    // CONNECT exchange with the proxy, in plain text. (A whole request sent to a proxy is plain
    // HTTP to it.)
    let proxied = trace.request.proxy.as_ref().is_some_and(|p| p.tunnel);
    let after_handshake = matches!(
        trace.end,
        End::Reached {
            outcome: Reached::ResetAfterHandshake,
            ..
        }
    );
    let during_tls = trace.request.scheme == Scheme::Https && !proxied && !after_handshake;
    // The client's first hop could not read what it sent: its TLS handshake, or its raw bytes,
    // got a plain-text HTTP answer.
    let unreadable = matches!(&trace.end, End::Responded { hop: 0, reply } if reply.details == Details::CodecError);
    let result = match up {
        // curl is still connecting until the tunnel is open: "Connection timed out".
        Up::Response { delay_ms, .. }
            if proxied && trace.request.timeout_ms.is_some_and(|t| delay_ms > t) =>
        {
            ClientResult::ConnectionFailed {
                error: ConnectionError::Timeout,
                during_tls: true,
            }
        }
        // A 2xx from something that is no proxy: curl takes the tunnel as open and starts its
        // handshake, which the server reads as a bad request and answers in plain text.
        Up::Response { response, .. } if proxied && (200..300).contains(&response.status) => {
            ClientResult::ConnectionFailed {
                error: ConnectionError::NotTls,
                during_tls: true,
            }
        }
        Up::Response { response, .. } if proxied => ClientResult::ConnectionFailed {
            error: ConnectionError::TunnelFailed(response.status),
            during_tls: false,
        },
        Up::Closed if proxied => ClientResult::ConnectionFailed {
            error: ConnectionError::ProxyAborted,
            during_tls: false,
        },
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
        Up::PeerReset | Up::NoChain { .. } => ClientResult::ConnectionFailed {
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
            during_tls: (during_tls || (proxied && error == ConnectionError::Timeout))
                && !matches!(
                    error,
                    ConnectionError::Refused | ConnectionError::Unresolved
                ),
            error,
        },
    };
    let mut received = trace.received.clone();
    if let Some((leg_logs, record)) = relayed {
        logs.extend(leg_logs);
        received.push(record);
    }
    Exchange {
        result,
        logs,
        trace: Some(trace.clone()),
        observed: Vec::new(),
        elapsed_ms,
        remote,
        received,
    }
}

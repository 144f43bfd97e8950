//! The verdict of a trace in one line: allowed or blocked, by whom, and the client-visible answer.
//!
//! Owns: `Decision` (allowed, blocked, or failed at the destination) and `decision`, which reads
//! it off a trace's end; `reason` (the sentence saying why); and `answer_words` (a client result,
//! short, with curl's exit code for a failed connection). Leaves out: the hop-by-hop text and the
//! `Explanation` value (`explain`'s `mod.rs`), the words of a hop's notes (`notes`), and what
//! would allow a blocked request (`decide::remedy`).

use crate::decide::{End, Reached, Trace};
use crate::outcome::reply::{Details, TLS_HANDSHAKE_FAILED};
use crate::outcome::ClientResult;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    /// The destination answered.
    Allowed,
    /// A proxy stopped the request (direct reply, closed connection, RBAC, no route).
    Blocked,
    /// The request got through the mesh but the destination failed (refused, reset, unresolved).
    Failed,
}

/// Classify a trace.
pub fn decision(trace: &Trace) -> Decision {
    match &trace.end {
        End::Reached {
            outcome: Reached::Response { .. },
            ..
        } => Decision::Allowed,
        // Through a forward proxy's tunnel: what became of the proxy's own connection.
        End::Reached {
            outcome: Reached::Tunnel(leg),
            ..
        } => decision(&leg.0),
        // The proxy made the request itself: what became of it.
        End::Reached {
            outcome: Reached::Relayed(relay),
            ..
        } => decision(&relay.leg),
        End::Reached { .. } | End::NotSent { .. } => Decision::Failed,
        End::Responded { reply, .. } if reply.status < 400 => Decision::Allowed,
        End::Responded { .. } | End::Closed { .. } => Decision::Blocked,
        End::UpstreamFailed { .. } => Decision::Blocked,
    }
}

/// The reason for the verdict, in words.
pub fn reason(trace: &Trace) -> String {
    let at = |hop: usize| {
        trace
            .hops
            .get(hop)
            .map(|h| format!("{} {}", kind_word(h.kind), h.proxy))
            .unwrap_or_else(|| "the client".into())
    };
    match &trace.end {
        End::Reached {
            destination,
            port,
            tls,
            outcome,
        } => {
            let how = if *tls { "over TLS" } else { "in plaintext" };
            match outcome {
                Reached::Response { response, .. } => {
                    format!(
                        "{destination}:{port} was reached {how} and answered {}",
                        response.status
                    )
                }
                Reached::Refused => {
                    format!("{destination}:{port} refused the connection (nothing listens there)")
                }
                Reached::Reset => format!("{destination}:{port} reset the connection"),
                Reached::ResetAfterHandshake => format!(
                    "{destination}:{port} asked for a client certificate its CA issued, got none \
                     (or another), and reset the connection after the handshake"
                ),
                Reached::Unresolved => format!("{destination} does not resolve"),
                Reached::NoRoute => format!("{destination}:{port} did not answer"),
                Reached::NotTls => format!(
                    "{destination}:{port} received TLS inside TLS (originated twice) and answered in plain text"
                ),
                Reached::CertificateRejected(problem) => format!(
                    "the client did not accept the certificate {destination}:{port} presented: {}",
                    match problem {
                        crate::outcome::CertificateProblem::UnknownIssuer => "it does not chain to a certificate the client trusts (curl's --cacert, else the system bundle)",
                        crate::outcome::CertificateProblem::SelfSigned => "it is self-signed and not among what the client trusts",
                        crate::outcome::CertificateProblem::SignatureFailure => "its issuer has the name of a certificate the client trusts, but another key signed it",
                        crate::outcome::CertificateProblem::NameMismatch { .. } => "it is trusted but does not name the host the client asked for",
                    }
                ),
                Reached::Tunnel(leg) => format!(
                    "the forward proxy {destination}:{port} opened a tunnel; through it, {}",
                    reason(&leg.0)
                ),
                Reached::Relayed(relay) => format!(
                    "the forward proxy {destination}:{port} made the request itself: {}",
                    reason(&relay.leg)
                ),
            }
        }
        End::NotSent { problem } => format!(
            "the client could not use its {} and sent nothing",
            match problem {
                crate::outcome::TlsFileProblem::CaFile => "--cacert file",
                crate::outcome::TlsFileProblem::CertFile => "--cert file",
                crate::outcome::TlsFileProblem::KeyFile => "--key file",
            }
        ),
        End::Responded { hop, reply } => {
            let status = reply.status;
            let route = trace.hops.get(*hop).and_then(|h| h.route.clone());
            match (&reply.details, route.as_deref()) {
                (Details::DirectResponse, Some(crate::xds::BLOCK_ALL)) => format!(
                    "{} answered {status} from the block_all route: no service it can see has this host on port {} and the outbound traffic policy is REGISTRY_ONLY",
                    at(*hop),
                    trace.request.port
                ),
                (Details::Rbac(d), _) => {
                    format!("{} denied the request by RBAC ({d}): {status}", at(*hop))
                }
                (Details::RouteNotFound, _) => format!("{} has no route for {}: {status}", at(*hop), trace.request.authority()),
                (d, _) => format!("{} answered {status} itself ({d})", at(*hop)),
            }
        }
        End::Closed {
            hop,
            flags,
            termination,
            ..
        } => {
            let h = trace.hops.get(*hop);
            match h.and_then(|h| h.cluster.as_deref()) {
                Some(crate::xds::BLACKHOLE_CLUSTER) => format!(
                    "{} sent the connection to BlackHoleCluster (listener {}): it is reset",
                    at(*hop),
                    h.map(|h| &*h.listener).unwrap_or("-")
                ),
                _ if termination.starts_with("rbac") => {
                    format!("{} closed the connection by RBAC ({termination})", at(*hop))
                }
                _ if termination == TLS_HANDSHAKE_FAILED => {
                    format!("{} refused the TLS handshake", at(*hop))
                }
                _ => format!("{} closed the connection ({flags})", at(*hop)),
            }
        }
        End::UpstreamFailed { hop, failure } => {
            format!("{} could not connect upstream ({failure:?})", at(*hop))
        }
    }
}

fn kind_word(k: crate::xds::ProxyKind) -> &'static str {
    match k {
        crate::xds::ProxyKind::Sidecar => "sidecar",
        crate::xds::ProxyKind::Gateway => "gateway",
    }
}

/// The client-visible answer, short: `200`, `502`, `connection reset (curl exit 35)`.
pub fn answer_words(result: &ClientResult) -> String {
    match result {
        ClientResult::Response(r) => format!("HTTP {}", r.status),
        ClientResult::ConnectionFailed { error, during_tls } => {
            let code = match (error, during_tls) {
                (crate::outcome::ConnectionError::Reset, true) => 35,
                (crate::outcome::ConnectionError::Reset, false) => 56,
                (crate::outcome::ConnectionError::Refused, _) => 7,
                (crate::outcome::ConnectionError::Timeout, _) => 28,
                (crate::outcome::ConnectionError::Unresolved, _) => 6,
                (crate::outcome::ConnectionError::NotTls, _) => 35,
                (crate::outcome::ConnectionError::ProxyAborted, _) => 56,
                (crate::outcome::ConnectionError::Certificate(_), _) => 60,
                (crate::outcome::ConnectionError::TlsFile(f), _) => match f {
                    crate::outcome::TlsFileProblem::CaFile => 77,
                    _ => 58,
                },
                (crate::outcome::ConnectionError::TunnelFailed(status), _) => {
                    return format!("proxy tunnel refused with HTTP {status} (curl exit 56)")
                }
            };
            format!("connection {error} (curl exit {code})")
        }
    }
}

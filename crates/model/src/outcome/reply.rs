//! The catalogue of what a proxy says on its own: Envoy's response flags, its response-code
//! details, and the local replies an HTTP connection manager makes (the `404 NR`, the `503 NC`,
//! the RBAC `403`, a fault's abort, the `400` of a codec error, the answers to upstream failures).
//!
//! Owns: every response-flag code and every fixed details string the model, the simulated
//! proxies and the reading of Envoy's logs use; nothing else spells them. Leaves out: when a
//! proxy replies (`decide`), and how a reply travels back to the client (`answer`).

use super::HttpResponse;
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// One of Envoy's response flags (the `%RESPONSE_FLAGS%` access-log field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResponseFlag {
    /// `UH`: no healthy upstream host in the cluster.
    NoHealthyUpstream,
    /// `UF`: the upstream connection failed.
    UpstreamConnectionFailure,
    /// `UC`: the upstream connection was terminated.
    UpstreamConnectionTermination,
    /// `UR`: the upstream reset the connection.
    UpstreamRemoteReset,
    /// `UT`: the route's timeout ran out.
    UpstreamRequestTimeout,
    /// `URX`: the retries (or connect attempts) ran out.
    UpstreamRetryLimitExceeded,
    /// `NR`: no route (or no filter chain) for the request.
    NoRouteFound,
    /// `NC`: the route names a cluster the proxy does not have.
    NoClusterFound,
    /// `FI`: a fault filter aborted the request.
    FaultInjected,
    /// `DPE`: the downstream request could not be parsed.
    DownstreamProtocolError,
}

impl ResponseFlag {
    /// Every flag, in the order a set of them is written (the model's order: `UF,URX`).
    pub const ALL: [ResponseFlag; 10] = [
        ResponseFlag::NoHealthyUpstream,
        ResponseFlag::UpstreamConnectionFailure,
        ResponseFlag::UpstreamConnectionTermination,
        ResponseFlag::UpstreamRemoteReset,
        ResponseFlag::UpstreamRequestTimeout,
        ResponseFlag::UpstreamRetryLimitExceeded,
        ResponseFlag::NoRouteFound,
        ResponseFlag::NoClusterFound,
        ResponseFlag::FaultInjected,
        ResponseFlag::DownstreamProtocolError,
    ];

    /// The code Envoy writes: `UF`, `NR`, ….
    pub const fn code(self) -> &'static str {
        match self {
            ResponseFlag::NoHealthyUpstream => "UH",
            ResponseFlag::UpstreamConnectionFailure => "UF",
            ResponseFlag::UpstreamConnectionTermination => "UC",
            ResponseFlag::UpstreamRemoteReset => "UR",
            ResponseFlag::UpstreamRequestTimeout => "UT",
            ResponseFlag::UpstreamRetryLimitExceeded => "URX",
            ResponseFlag::NoRouteFound => "NR",
            ResponseFlag::NoClusterFound => "NC",
            ResponseFlag::FaultInjected => "FI",
            ResponseFlag::DownstreamProtocolError => "DPE",
        }
    }

    /// The flag Envoy writes as `code`.
    pub fn from_code(code: &str) -> Option<ResponseFlag> {
        ResponseFlag::ALL.into_iter().find(|f| f.code() == code)
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of response flags: written `-` when empty, else the codes joined by `,` in
/// `ResponseFlag::ALL`'s order, whatever order they were added or read in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ResponseFlags(u16);

impl ResponseFlags {
    /// No flag (`-`).
    pub const NONE: ResponseFlags = ResponseFlags(0);

    /// Just `flag`.
    pub const fn one(flag: ResponseFlag) -> ResponseFlags {
        ResponseFlags(flag.bit())
    }

    /// These flags and `flag`.
    pub const fn with(self, flag: ResponseFlag) -> ResponseFlags {
        ResponseFlags(self.0 | flag.bit())
    }

    pub const fn contains(self, flag: ResponseFlag) -> bool {
        self.0 & flag.bit() != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The flags of an access-log field as Envoy writes it (`URX,UF`, `-`); `None` when a code is
    /// not in the catalogue.
    pub fn parse(field: &str) -> Option<ResponseFlags> {
        let field = field.trim();
        if field.is_empty() || field == "-" {
            return Some(ResponseFlags::NONE);
        }
        field.split(',').try_fold(ResponseFlags::NONE, |set, code| {
            ResponseFlag::from_code(code.trim()).map(|f| set.with(f))
        })
    }

    /// The flags, in writing order.
    pub fn iter(self) -> impl Iterator<Item = ResponseFlag> {
        ResponseFlag::ALL
            .into_iter()
            .filter(move |f| self.contains(*f))
    }
}

impl From<ResponseFlag> for ResponseFlags {
    fn from(flag: ResponseFlag) -> Self {
        ResponseFlags::one(flag)
    }
}

impl fmt::Display for ResponseFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        for (i, flag) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(flag.code())?;
        }
        Ok(())
    }
}

impl Serialize for ResponseFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a proxy answered as it did (the `%RESPONSE_CODE_DETAILS%` access-log field).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Details {
    /// `-`: nothing to say (a relayed TCP stream, a closed connection).
    None,
    /// `via_upstream`: the upstream's own response, relayed.
    ViaUpstream,
    /// `route_not_found`.
    RouteNotFound,
    /// `cluster_not_found`.
    ClusterNotFound,
    /// `direct_response`: a route's direct response or redirect.
    DirectResponse,
    /// `fault_filter_abort`.
    FaultFilterAbort,
    /// `filter_chain_not_found`: no filter chain of the listener accepts the connection.
    FilterChainNotFound,
    /// `http1.codec_error`: bytes the HTTP/1 codec cannot parse.
    CodecError,
    /// `no_healthy_upstream`.
    NoHealthyUpstream,
    /// `upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}`.
    ConnectFailure,
    /// `upstream_reset_before_response_started{connection_termination}`.
    ConnectionTermination,
    /// `upstream_response_timeout`.
    ResponseTimeout,
    /// An RBAC filter's denial, naming the policy that decided
    /// (`rbac_access_denied_matched_policy[…]`), as the filter wrote it.
    Rbac(String),
}

impl Details {
    /// The text Envoy writes.
    pub fn as_str(&self) -> &str {
        match self {
            Details::None => "-",
            Details::ViaUpstream => "via_upstream",
            Details::RouteNotFound => "route_not_found",
            Details::ClusterNotFound => "cluster_not_found",
            Details::DirectResponse => "direct_response",
            Details::FaultFilterAbort => "fault_filter_abort",
            Details::FilterChainNotFound => "filter_chain_not_found",
            Details::CodecError => "http1.codec_error",
            Details::NoHealthyUpstream => "no_healthy_upstream",
            Details::ConnectFailure => {
                "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}"
            }
            Details::ConnectionTermination => {
                "upstream_reset_before_response_started{connection_termination}"
            }
            Details::ResponseTimeout => "upstream_response_timeout",
            Details::Rbac(text) => text,
        }
    }
}

impl fmt::Display for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a connection attempt from a proxy to its upstream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamFailure {
    /// The cluster has no endpoints (Envoy `UH`, `no_healthy_upstream`).
    NoHealthyUpstream,
    /// Nothing accepted the connection, or the TLS handshake failed (Envoy `UF`).
    ConnectFailure,
    /// The upstream reset the connection before answering (Envoy `UC`).
    ConnectionTermination,
}

impl UpstreamFailure {
    /// The flag a hop logs for it (a TCP proxy's, or the first of an HTTP reply's).
    pub const fn flag(self) -> ResponseFlag {
        match self {
            UpstreamFailure::NoHealthyUpstream => ResponseFlag::NoHealthyUpstream,
            UpstreamFailure::ConnectFailure => ResponseFlag::UpstreamConnectionFailure,
            UpstreamFailure::ConnectionTermination => ResponseFlag::UpstreamConnectionTermination,
        }
    }
}

/// A reply a proxy makes itself (Envoy's local reply): what the client receives and what the proxy
/// logs. The model and the simulated proxies answer with these, so that every target maps
/// failures to answers the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalReply {
    pub status: u16,
    pub body: Cow<'static, str>,
    /// Headers beyond content-type and content-length (a redirect's `location`).
    pub headers: Vec<(String, String)>,
    pub details: Details,
    pub flags: ResponseFlags,
}

/// The connection-termination details of a TLS handshake the proxy refused (a missing or foreign
/// client certificate, plaintext on a TLS chain).
pub const TLS_HANDSHAKE_FAILED: &str = "tls_handshake_failed";

/// The body of the 403 an RBAC filter answers (its details name the policy that decided).
pub const RBAC_DENIED_BODY: &str = "RBAC: access denied";

/// Istio's default route retry policy retries connect failures twice (istio/istio
/// `pilot/pkg/networking/core/route/retry`), so a refused connection ends as a retried one…
const UF_BODY: &str = "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: 111";
/// … except on the catch-all to PassthroughCluster, which has no retry policy.
const UF_BODY_ONCE: &str = "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111";
const UC_BODY: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

impl LocalReply {
    const fn fixed(
        status: u16,
        body: &'static str,
        details: Details,
        flag: Option<ResponseFlag>,
    ) -> LocalReply {
        LocalReply {
            status,
            body: Cow::Borrowed(body),
            headers: Vec::new(),
            details,
            flags: match flag {
                Some(f) => ResponseFlags::one(f),
                None => ResponseFlags::NONE,
            },
        }
    }

    /// No virtual host or route matched: `404 NR`.
    pub const NO_ROUTE: LocalReply = LocalReply::fixed(
        404,
        "",
        Details::RouteNotFound,
        Some(ResponseFlag::NoRouteFound),
    );

    /// The route names a cluster the proxy does not have: `503 NC`.
    pub const CLUSTER_NOT_FOUND: LocalReply = LocalReply::fixed(
        503,
        "",
        Details::ClusterNotFound,
        Some(ResponseFlag::NoClusterFound),
    );

    /// Bytes an HTTP connection manager cannot parse as HTTP/1 (a TLS ClientHello, a raw TCP
    /// stream): Envoy answers 400 in plain text and closes the connection (`DPE`).
    pub const CODEC_ERROR: LocalReply = LocalReply::fixed(
        400,
        "Bad Request",
        Details::CodecError,
        Some(ResponseFlag::DownstreamProtocolError),
    );

    /// The route's timeout ran out before the upstream answered: `504 UT`.
    pub const ROUTE_TIMEOUT: LocalReply = LocalReply::fixed(
        504,
        "upstream request timeout",
        Details::ResponseTimeout,
        Some(ResponseFlag::UpstreamRequestTimeout),
    );

    /// A route's fault abort with `status` (`FI`).
    pub const fn fault_abort(status: u16) -> LocalReply {
        LocalReply::fixed(
            status,
            "fault filter abort",
            Details::FaultFilterAbort,
            Some(ResponseFlag::FaultInjected),
        )
    }

    /// The RBAC filter denied the request: `403 RBAC: access denied`, with the filter's details.
    pub fn rbac_denied(details: String) -> LocalReply {
        LocalReply {
            details: Details::Rbac(details),
            ..LocalReply::fixed(403, RBAC_DENIED_BODY, Details::None, None)
        }
    }

    /// A route's direct response.
    pub fn direct(status: u16, body: impl Into<Cow<'static, str>>) -> LocalReply {
        LocalReply {
            body: body.into(),
            ..LocalReply::fixed(status, "", Details::DirectResponse, None)
        }
    }

    /// A route's redirect to `location`.
    pub fn redirect(status: u16, location: String) -> LocalReply {
        LocalReply {
            headers: vec![("location".into(), location)],
            ..LocalReply::fixed(status, "", Details::DirectResponse, None)
        }
    }

    /// An HTTP hop's answer to an upstream failure; `retried`: whether the route retries a
    /// failed connect (`xds::retries_connect_failures`), which Envoy flags `URX` when the
    /// retries run out.
    pub fn upstream_failure(kind: UpstreamFailure, retried: bool) -> LocalReply {
        match kind {
            UpstreamFailure::NoHealthyUpstream => LocalReply::fixed(
                503,
                "no healthy upstream",
                Details::NoHealthyUpstream,
                Some(ResponseFlag::NoHealthyUpstream),
            ),
            UpstreamFailure::ConnectFailure => {
                let mut reply = LocalReply::fixed(
                    503,
                    if retried { UF_BODY } else { UF_BODY_ONCE },
                    Details::ConnectFailure,
                    Some(ResponseFlag::UpstreamConnectionFailure),
                );
                if retried {
                    reply.flags = reply.flags.with(ResponseFlag::UpstreamRetryLimitExceeded);
                }
                reply
            }
            UpstreamFailure::ConnectionTermination => LocalReply::fixed(
                503,
                UC_BODY,
                Details::ConnectionTermination,
                Some(ResponseFlag::UpstreamConnectionTermination),
            ),
        }
    }

    /// The response the client receives: text/plain when there is a body, its length, then the
    /// reply's own headers.
    pub fn response(&self) -> HttpResponse {
        local_response(self.status, &self.body, &self.headers)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_written_in_one_order_whatever_order_they_came_in() {
        let envoy = ResponseFlags::parse("URX,UF").expect("known flags");
        assert_eq!(envoy.to_string(), "UF,URX");
        assert_eq!(
            LocalReply::upstream_failure(UpstreamFailure::ConnectFailure, true)
                .flags
                .to_string(),
            "UF,URX"
        );
        assert_eq!(ResponseFlags::NONE.to_string(), "-");
        assert_eq!(ResponseFlags::parse("-"), Some(ResponseFlags::NONE));
        assert_eq!(ResponseFlags::parse("UF,XYZ"), None);
    }

    #[test]
    fn every_code_reads_back_as_its_flag() {
        for f in ResponseFlag::ALL {
            assert_eq!(ResponseFlag::from_code(f.code()), Some(f));
            assert_eq!(ResponseFlags::one(f).to_string(), f.code());
        }
    }

    #[test]
    fn replies_say_what_envoy_says() {
        let r = LocalReply::NO_ROUTE;
        assert_eq!(
            (r.status, r.details.as_str(), r.flags.to_string().as_str()),
            (404, "route_not_found", "NR")
        );
        let r = LocalReply::rbac_denied(
            "rbac_access_denied_matched_policy[ns[a]-policy[b]-rule[0]]".into(),
        );
        assert_eq!(r.response().body, RBAC_DENIED_BODY);
        assert_eq!(r.flags.to_string(), "-");
        let r = LocalReply::redirect(301, "https://x/".into());
        assert!(r
            .response()
            .headers
            .contains(&("location".into(), "https://x/".into())));
        assert_eq!(LocalReply::fault_abort(503).flags.to_string(), "FI");
    }
}

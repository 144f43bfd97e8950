//! Outcomes on the wire: what the client sees and what each proxy logs or says on its own.
//!
//! Owns: `ClientResult` (an HTTP response, or a connection that was reset / refused / timed out),
//! `AccessLogEntry` (Envoy's access-log fields), `Received` (what a destination received), `counters` (a proxy's upstream counters and the events
//! that move them), and the catalogue of local replies, response
//! flags and details (`reply`). Every target produces these, the model by deciding, the others by
//! observation. Leaves out: deciding (`decide`), turning a decision into an answer (`answer`), and
//! rendering for people (`explain`, `report`).

pub mod access_log;
pub mod counters;
mod received;
pub mod reply;

pub use access_log::AccessLogEntry;
pub use received::Received;

use serde::Serialize;
use std::fmt;

/// The HTTP version a response arrived in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub enum HttpVersion {
    #[default]
    #[serde(rename = "HTTP/1.1")]
    Http11,
    #[serde(rename = "HTTP/2")]
    Http2,
}

impl HttpVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        }
    }
}

/// An HTTP response as the client receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpResponse {
    /// HTTP/2 when the client's own TLS reached a server that negotiated `h2` by ALPN.
    pub version: HttpVersion,
    pub status: u16,
    /// Response headers in order, names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        let body = body.into();
        let mut headers = Vec::new();
        if !body.is_empty() || status != 502 {
            headers.push(("content-type".to_string(), content_type.to_string()));
        }
        headers.push(("content-length".to_string(), body.len().to_string()));
        HttpResponse {
            version: HttpVersion::Http11,
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a connection failed, from the client's side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionError {
    /// The peer reset (or closed) the connection before any response.
    Reset,
    /// Nothing listens on the destination.
    Refused,
    /// The client's own time limit ran out.
    Timeout,
    /// The host name did not resolve (curl exit 6).
    Unresolved,
    /// The client's TLS handshake got plain text back (curl exit 35, "wrong version number"):
    /// TLS wrapped twice, or TLS sent to a plain-text server.
    NotTls,
    /// The forward proxy closed the connection without answering the `CONNECT` (curl exit 56,
    /// "Proxy CONNECT aborted").
    ProxyAborted,
    /// The forward proxy answered the `CONNECT` with this status instead of opening the tunnel
    /// (curl exit 56, "CONNECT tunnel failed, response 403").
    TunnelFailed(u16),
    /// The client did not accept the server's certificate (curl exit 60).
    Certificate(CertificateProblem),
    /// The client could not use one of its own TLS files (`--cacert`: curl exit 77; `--cert`,
    /// `--key`: exit 58); nothing was sent.
    TlsFile(TlsFileProblem),
}

/// Why a client rejected a server's certificate, as OpenSSL's verification tells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateProblem {
    /// It does not chain to anything the client trusts ("unable to get local issuer certificate").
    UnknownIssuer,
    /// It is self-signed and not trusted ("self-signed certificate").
    SelfSigned,
    /// Its issuer has the name of a trusted certificate but not its key (another CA of the
    /// same name, as when a CA is made again): OpenSSL's check of the signature fails in the
    /// crypto library, which curl reports as a failed handshake (exit 35, "rsa routines::…").
    SignatureFailure,
    /// It chains to a trusted certificate but does not name the host the client asked for;
    /// `common_name` is its subject's CN (the documents' certificates have no alternative names,
    /// so curl compares the CN and says so).
    NameMismatch { common_name: String },
}

/// Which of curl's TLS files could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsFileProblem {
    /// `--cacert` names no file, or one without a certificate.
    CaFile,
    /// `--cert` names no file, or one without a certificate.
    CertFile,
    /// `--key` names no file, or not the key of the certificate.
    KeyFile,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionError::Reset => "reset",
            ConnectionError::Refused => "refused",
            ConnectionError::Timeout => "timeout",
            ConnectionError::Unresolved => "unresolved",
            ConnectionError::NotTls => "not_tls",
            ConnectionError::ProxyAborted => "proxy_aborted",
            ConnectionError::TunnelFailed(_) => "tunnel_failed",
            ConnectionError::Certificate(_) => "certificate_rejected",
            ConnectionError::TlsFile(_) => "tls_file",
        })
    }
}

/// What the client got back for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientResult {
    Response(HttpResponse),
    /// `during_tls`: the failure happened in the client's TLS handshake (curl exit 35, not 56).
    ConnectionFailed {
        error: ConnectionError,
        during_tls: bool,
    },
}

impl ClientResult {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientResult::Response(r) => Some(r.status),
            ClientResult::ConnectionFailed { .. } => None,
        }
    }

    pub fn connection_error(&self) -> Option<ConnectionError> {
        match self {
            ClientResult::Response(_) => None,
            ClientResult::ConnectionFailed { error, .. } => Some(error.clone()),
        }
    }

    /// Short form for tables and summaries: `200`, `502`, `reset`, `refused`.
    pub fn short(&self) -> String {
        match self {
            ClientResult::Response(r) => r.status.to_string(),
            ClientResult::ConnectionFailed { error, .. } => error.to_string(),
        }
    }
}

//! What a destination — an external host or a pod's application — received on one connection, in
//! its own words: the name it served as, the TLS it terminated, the request as it arrived.
//!
//! Owns: `Received` and its one-line description. Leaves out: producing it (the model's walk from
//! the arrival it computes; the socket-running targets from what came off their sockets, in
//! `egressbench-network`'s `hosts`) and checking it (`egressbench-scenario`'s `received:`).

use serde::Serialize;
use std::net::IpAddr;

/// One connection's arrival at a destination. Three kinds, told apart by `method`, `url` and
/// `status`: an HTTP request (`method` and `url` as received, `status` the answer); a stream with
/// no HTTP in it (`method` `-`, `url` `tcp://host:port` or `tls://host:port`, `status` 400 — a web
/// server's answer to bytes that are not HTTP — or 0 when the peer sent nothing); a reset connection
/// (a ClientHello the destination would not serve: `method` `-`, `url` empty, `status` 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    /// The name it served as: the SNI, else the `Host` header's host, else its address.
    pub host: String,
    pub port: u16,
    /// The destination terminated TLS on the connection.
    pub tls: bool,
    pub sni: Option<String>,
    /// The request's method; `-` for a stream or a reset.
    pub method: String,
    /// `scheme://authority/path` as received (`https` only when `tls`).
    pub url: String,
    /// The request's headers as they arrived (names as sent), without `Host`.
    pub headers: Vec<(String, String)>,
    /// The peer's address as the destination saw it.
    pub peer: IpAddr,
    /// The status answered; 400 for a stream with no HTTP, 0 for a reset or an empty connection.
    pub status: u16,
    /// Where a forward proxy connected for it (a `CONNECT`'s destination address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<IpAddr>,
}

impl Received {
    /// A header's value (case-insensitive name; the first if repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the destination reset the connection instead of serving it.
    pub fn is_reset(&self) -> bool {
        self.method == "-" && self.url.is_empty() && self.status == 0
    }

    /// One line: `httpbin.org:443 received GET https://httpbin.org/get over TLS (SNI httpbin.org)
    /// from 192.0.2.10: 200`.
    pub fn describe(&self) -> String {
        let (host, port, peer) = (&self.host, self.port, self.peer);
        let sni = self
            .sni
            .as_deref()
            .map_or_else(|| "no SNI".to_string(), |s| format!("SNI {s}"));
        if self.is_reset() {
            return format!(
                "{host}:{port} reset the connection from {peer} after a TLS ClientHello ({sni})"
            );
        }
        let how = if self.tls {
            format!("over TLS ({sni})")
        } else {
            "in plain text".to_string()
        };
        let what = match (self.method.as_str(), self.status) {
            ("-", 0) => "a connection that closed before its first byte".to_string(),
            ("-", _) => "a stream with no HTTP".to_string(),
            (method, _) => format!("{method} {}", self.url),
        };
        match self.status {
            0 => format!("{host}:{port} received {what} {how} from {peer}"),
            s => format!("{host}:{port} received {what} {how} from {peer}: {s}"),
        }
    }
}

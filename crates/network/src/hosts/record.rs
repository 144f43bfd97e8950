//! What a host (external, or a pod's application) saw on each connection, kept for reports: "the external host's own record
//! that it received TLS".
//!
//! Owns: `HostRecord`, its one-line description, and `Records`, the shared log the connection
//! tasks append to and `Hosts::take_records` drains. Leaves out: producing the records (`http`,
//! `connection`) and rendering them into reports (`report`).

use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

/// What a host saw, kept for reports ("the external host's own record that it received TLS").
///
/// Three kinds, told apart by `method`, `url` and `status`:
/// - an HTTP request: `method` and `url` as received, `status` the answer;
/// - a stream with no HTTP in it: `method` is `-`, `url` is `tcp://host:port` (plain) or
///   `tls://host:port` (inside TLS the host terminated), `status` 400 (nginx's answer to bytes
///   that are not HTTP, a second TLS handshake inside the host's TLS among them) — or 0 when the
///   peer closed before sending a byte (nothing is answered then);
/// - a reset connection (a TLS ClientHello to a plain port, or an SNI the host does not serve):
///   `method` is `-`, `url` is empty, `status` is 0, `tls` false and `sni` what the hello named.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostRecord {
    /// The name that served it (SNI, else the `Host` header's host, else the address).
    pub host: String,
    pub port: u16,
    /// The connection to this host was TLS (terminated by the host itself).
    pub tls: bool,
    pub sni: Option<String>,
    /// The ALPN protocol negotiated, e.g. `h2`.
    pub alpn: Option<String>,
    /// The request's method; `-` for a raw stream or a reset.
    pub method: String,
    /// `scheme://authority/path` as the host received it: `https` only when `tls`.
    pub url: String,
    /// The simulated source address of the peer (`DEFAULT_PEER` when the fabric does not know it).
    pub peer: IpAddr,
    /// The status answered; 400 for a stream with no HTTP, 0 for a reset or an empty connection.
    pub status: u16,
    /// The request's headers as they arrived (none for a stream or a reset), without `Host`.
    pub headers: Vec<(String, String)>,
    /// Where a forward proxy connected for it (an open tunnel's destination address).
    pub upstream: Option<IpAddr>,
}

impl HostRecord {
    /// The record in the model's terms (`Received`), which every target's exchange carries.
    pub fn received(&self) -> egressbench_model::outcome::Received {
        egressbench_model::outcome::Received {
            host: self.host.clone(),
            port: self.port,
            tls: self.tls,
            sni: self.sni.clone(),
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers.clone(),
            peer: self.peer,
            status: self.status,
            upstream: self.upstream,
        }
    }

    /// Whether the host reset the connection instead of serving it.
    pub fn is_reset(&self) -> bool {
        self.method == "-" && self.url.is_empty() && self.status == 0
    }

    /// One human line, e.g. `httpbin.org:443 received GET https://httpbin.org/anything over TLS
    /// (SNI httpbin.org, ALPN http/1.1) from 192.0.2.10: 200`.
    pub fn describe(&self) -> String {
        let (host, port, peer) = (&self.host, self.port, self.peer);
        if self.is_reset() {
            let hello = match &self.sni {
                Some(sni) => format!("a TLS ClientHello (SNI {sni})"),
                None => "a TLS ClientHello (no SNI)".to_string(),
            };
            return format!("{host}:{port} reset the connection from {peer} after {hello}");
        }
        let how = if self.tls {
            let sni = self
                .sni
                .as_deref()
                .map_or_else(|| "no SNI".to_string(), |s| format!("SNI {s}"));
            let alpn = self
                .alpn
                .as_deref()
                .map_or_else(|| "no ALPN".to_string(), |a| format!("ALPN {a}"));
            format!("over TLS ({sni}, {alpn})")
        } else {
            "in plain text".to_string()
        };
        let what = if self.method == "-" && self.status == 0 {
            "a connection that closed before its first byte".to_string()
        } else if self.method == "-" {
            "a stream with no HTTP".to_string()
        } else {
            format!("{} {}", self.method, self.url)
        };
        let mut line = format!("{host}:{port} received {what} {how} from {peer}");
        if self.status != 0 {
            line.push_str(&format!(": {}", self.status));
        }
        line
    }
}

/// The log every connection of one `Hosts` appends to.
#[derive(Debug, Default)]
pub(super) struct Records {
    log: Mutex<Vec<HostRecord>>,
}

impl Records {
    pub(super) fn push(&self, record: HostRecord) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
    }

    /// Every record since the last call, oldest first.
    pub(super) fn take(&self) -> Vec<HostRecord> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

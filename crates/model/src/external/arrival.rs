//! What reaches an external host on one connection: the port, the TLS ClientHello (if any), the
//! HTTP request inside (if any) and the connecting peer's address.
//!
//! Owns: `Arrival`, `TlsHello`, `ArrivedRequest` and their constructors, including the direct case
//! (a client request reaching the host with no proxy in between). Leaves out: what proxies change on
//! the way (`decide`) and what the host answers (`internet`, `app`).

use crate::outcome::HttpVersion;
use crate::request::{ClientRequest, Scheme};
use std::net::{IpAddr, Ipv4Addr};

/// The connecting peer's address when an `Arrival` names none (RFC 5737 TEST-NET-1): the public
/// address the cluster's traffic leaves from.
pub const DEFAULT_PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

/// The start of a TLS handshake as the host sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsHello {
    /// Server Name Indication, if the client sent one.
    pub sni: Option<String>,
    /// The certificate the client presents when the server asks for one (`curl --cert`).
    pub client_certificate: Option<egressbench_resources::files::Certificate>,
}

/// An HTTP request as received by the host (after every proxy on the way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivedRequest {
    /// Method as sent (the host upper-cases it).
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2), possibly with a port.
    pub authority: String,
    /// Every other header, in order, names as sent. A `Host` entry here is ignored: `authority` wins.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The HTTP version it came in (HTTP/2 after ALPN `h2`, or a plain-text preface: h2c).
    pub version: HttpVersion,
}

impl ArrivedRequest {
    pub fn new(method: &str, path: &str, authority: &str) -> Self {
        ArrivedRequest {
            method: method.to_string(),
            path: path.to_string(),
            authority: authority.to_string(),
            headers: Vec::new(),
            body: String::new(),
            version: HttpVersion::Http11,
        }
    }

    /// The same request, arrived in `version`.
    pub fn in_version(mut self, version: HttpVersion) -> Self {
        self.version = version;
        self
    }

    /// Append a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_body(mut self, body: &str) -> Self {
        self.body = body.to_string();
        self
    }

    /// The request exactly as a client sends it: its method, path, authority, its own headers and
    /// body. Headers a proxy would add, or a tool's defaults (User-Agent, Accept), are not invented.
    pub fn from_client(request: &ClientRequest) -> Self {
        ArrivedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            authority: request.authority(),
            headers: request.headers.clone(),
            body: request.body.clone().unwrap_or_default(),
            version: if request.scheme == Scheme::Http && request.http.h2c() {
                HttpVersion::Http2
            } else {
                HttpVersion::Http11
            },
        }
    }

    /// A header's value (case-insensitive name; the first if repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One connection's arrival at a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// Destination port.
    pub port: u16,
    /// `Some` when the connection starts with a TLS handshake.
    pub tls: Option<TlsHello>,
    /// `Some` when HTTP is spoken (inside TLS when `tls` is set); `None` for a bare stream.
    pub request: Option<ArrivedRequest>,
    /// The connecting peer; `DEFAULT_PEER` when `None`.
    pub source: Option<Ipv4Addr>,
}

impl Arrival {
    /// Plain HTTP on `port`.
    pub fn http(port: u16, request: ArrivedRequest) -> Self {
        Arrival {
            port,
            tls: None,
            request: Some(request),
            source: None,
        }
    }

    /// HTTP inside TLS on `port`, with `sni` in the ClientHello.
    pub fn https(port: u16, sni: Option<&str>, request: ArrivedRequest) -> Self {
        Arrival {
            port,
            tls: Some(TlsHello {
                sni: sni.map(str::to_string),
                client_certificate: None,
            }),
            request: Some(request),
            source: None,
        }
    }

    /// A TLS connection with no HTTP the host can see (TLS passthrough of a non-HTTP protocol, or a
    /// client that only connects).
    pub fn tls_stream(port: u16, sni: Option<&str>) -> Self {
        Arrival {
            port,
            tls: Some(TlsHello {
                sni: sni.map(str::to_string),
                client_certificate: None,
            }),
            request: None,
            source: None,
        }
    }

    /// The same arrival with the client presenting `certificate` in its TLS (none without TLS).
    pub fn presenting(
        mut self,
        certificate: Option<egressbench_resources::files::Certificate>,
    ) -> Self {
        if let Some(hello) = self.tls.as_mut() {
            hello.client_certificate = certificate;
        }
        self
    }

    /// A plain TCP connection with no HTTP in it.
    pub fn tcp_stream(port: u16) -> Self {
        Arrival {
            port,
            tls: None,
            request: None,
            source: None,
        }
    }

    /// The same arrival from the peer `source`.
    pub fn from_source(mut self, source: Ipv4Addr) -> Self {
        self.source = Some(source);
        self
    }

    /// What arrives when `request` reaches its host with no proxy in between. HTTPS carries the host as
    /// SNI unless the host is an IP literal (clients send no SNI for addresses).
    pub fn direct(request: &ClientRequest) -> Self {
        match request.scheme {
            Scheme::Http => Arrival::http(request.port, ArrivedRequest::from_client(request)),
            Scheme::Https => {
                let sni = request
                    .host
                    .parse::<IpAddr>()
                    .is_err()
                    .then_some(request.host.as_str());
                Arrival::https(request.port, sni, ArrivedRequest::from_client(request))
            }
            Scheme::Tcp => Arrival::tcp_stream(request.port),
        }
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The SNI, if TLS was spoken and one was sent.
    pub fn sni(&self) -> Option<&str> {
        self.tls.as_ref().and_then(|t| t.sni.as_deref())
    }

    /// The connecting peer's address.
    pub fn peer(&self) -> Ipv4Addr {
        self.source.unwrap_or(DEFAULT_PEER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_what_reaches_the_host() {
        let req = ArrivedRequest::new("GET", "/get", "httpbin.org")
            .with_header("User-Agent", "curl/8.5.0")
            .with_body("x");
        assert_eq!(req.header("user-agent"), Some("curl/8.5.0"));
        assert_eq!(req.body, "x");

        let a = Arrival::http(80, req.clone());
        assert!(!a.is_tls());
        assert_eq!(a.peer(), DEFAULT_PEER);

        let a =
            Arrival::https(443, Some("httpbin.org"), req).from_source(Ipv4Addr::new(192, 0, 2, 77));
        assert!(a.is_tls());
        assert_eq!(a.sni(), Some("httpbin.org"));
        assert_eq!(a.peer(), Ipv4Addr::new(192, 0, 2, 77));

        let a = Arrival::tls_stream(443, None);
        assert!(a.is_tls() && a.request.is_none() && a.sni().is_none());
        let a = Arrival::tcp_stream(9000);
        assert!(!a.is_tls() && a.request.is_none());
    }

    #[test]
    fn direct_arrival_mirrors_the_client_request() {
        let mut r = ClientRequest::get(Scheme::Https, "www.httpbin.org", 443, "/anything?a=1");
        r.headers.push(("X-Test".into(), "1".into()));
        r.body = Some("hello".into());
        let a = Arrival::direct(&r);
        assert_eq!(a.port, 443);
        assert_eq!(a.sni(), Some("www.httpbin.org"));
        let req = a.request.expect("http inside");
        assert_eq!(req.authority, "www.httpbin.org");
        assert_eq!(req.path, "/anything?a=1");
        assert_eq!(req.header("x-test"), Some("1"));
        assert_eq!(req.body, "hello");

        let r = ClientRequest::get(Scheme::Https, "203.0.113.10", 443, "/");
        let a = Arrival::direct(&r);
        assert!(a.is_tls() && a.sni().is_none());

        let r = ClientRequest::get(Scheme::Http, "httpbin.org", 8080, "/");
        let a = Arrival::direct(&r);
        assert_eq!(
            a.request.map(|q| q.authority),
            Some("httpbin.org:8080".into())
        );

        let r = ClientRequest::get(Scheme::Tcp, "httpbin.org", 9000, "/");
        assert_eq!(Arrival::direct(&r), Arrival::tcp_stream(9000));
    }
}

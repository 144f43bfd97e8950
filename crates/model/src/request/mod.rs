//! A request as a value: what a client in a workload sends, before any proxy sees it.
//!
//! Owns: `ClientRequest` (scheme, authority, method, path, headers, body), the workload it is sent
//! from, and which of its headers belong to the connection (`drop_connection_headers`). Leaves out: how a command line becomes one (`scenario::command`) and what the mesh does with
//! it (`decide`).

use serde::Serialize;
use std::fmt;

/// What the client speaks on the connection it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP/1.1.
    Http,
    /// TLS to the destination (SNI = host), HTTP inside.
    Https,
    /// Raw TCP bytes, no HTTP.
    Tcp,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::Tcp => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Tcp => "tcp",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workload a request is sent from: `namespace/name` of its Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct WorkloadRef {
    pub namespace: String,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        WorkloadRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Parse `namespace/name` (or `namespace/deployment/name`).
    pub fn parse(s: &str) -> Option<WorkloadRef> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [ns, name] | [ns, "deployment" | "deploy" | "deployments", name]
                if !ns.is_empty() && !name.is_empty() =>
            {
                Some(WorkloadRef::new(*ns, *name))
            }
            _ => None,
        }
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Where a command runs and its requests start: in a workload's pod (`kubectl exec`), or on the
/// user's own machine outside the cluster (a document's bare `curl … $INGRESS_HOST`), which has
/// no sidecar, resolves names in public DNS and reaches the cluster only through a Service's
/// load-balancer address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Pod(WorkloadRef),
    /// The workstation, with the files earlier steps made on it (`openssl`, `cat <<EOF`), which
    /// its curl reads for `--cacert`, `--cert` and `--key`.
    Workstation(#[serde(skip)] WorkstationFiles),
}

/// The files on the workstation, by path as the commands name them.
pub type WorkstationFiles =
    std::sync::Arc<std::collections::BTreeMap<String, egressbench_resources::files::FileContent>>;

/// The address the workstation's connections come from (RFC 5737 TEST-NET-1; the cluster's own
/// traffic leaves from 192.0.2.10).
pub const WORKSTATION_ADDRESS: std::net::Ipv4Addr = std::net::Ipv4Addr::new(192, 0, 2, 100);

impl Origin {
    /// The workload, for a command run in a pod.
    pub fn pod(&self) -> Option<&WorkloadRef> {
        match self {
            Origin::Pod(w) => Some(w),
            Origin::Workstation(_) => None,
        }
    }

    /// The workstation with no files on it.
    pub fn workstation() -> Origin {
        Origin::Workstation(Default::default())
    }
}

impl From<WorkloadRef> for Origin {
    fn from(w: WorkloadRef) -> Self {
        Origin::Pod(w)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Pod(w) => w.fmt(f),
            Origin::Workstation(_) => f.write_str("the workstation"),
        }
    }
}

/// One request a client makes: where to, in which protocol, and (for HTTP) what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRequest {
    pub scheme: Scheme,
    /// Host as the client names it (DNS name or IP), lowercase, no port.
    pub host: String,
    pub port: u16,
    /// HTTP method (`GET` when not HTTP).
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Extra request headers, in order, as the client sends them (no Host: that is `host[:port]`).
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Client-side limit on the whole exchange (`curl -m`), in milliseconds.
    pub timeout_ms: Option<u64>,
    /// A `Host` header that differs from the URL's (`curl -H 'Host: …'`); the TLS SNI and the
    /// name looked up stay the URL's.
    pub host_header: Option<String>,
    /// Where the connection goes when not to the URL's host and port (`curl --resolve` pins an
    /// address, `--connect-to` a host and port).
    pub dial: Option<Dial>,
    /// Sent from the sidecar's own container (`kubectl exec -c istio-proxy`): iptables does not
    /// redirect the proxy user's traffic (UID 1337) to the proxy, so it leaves the pod as if the
    /// pod had no sidecar.
    pub from_proxy_container: bool,
    /// The HTTP versions the client speaks (`curl --http1.1`, `--http2-prior-knowledge`).
    pub http: ClientHttp,
    /// A forward proxy the request goes through (`curl -x`, `HTTPS_PROXY=…`): the client connects
    /// to it and asks, with `CONNECT host:port`, for a tunnel to the URL's host and port, or
    /// sends it the whole request (`to_proxy`).
    pub proxy: Option<ForwardProxy>,
    /// How the client's own TLS checks the server and proves itself (`--cacert`, `--cert`,
    /// `--key`, `-k`).
    pub tls: ClientTls,
}

/// curl's TLS options: files in the client's container, read when the request is made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClientTls {
    /// `--cacert FILE`: the certificates to trust instead of the system's bundle.
    pub ca_file: Option<String>,
    /// `--cert FILE` (`-E`): the client certificate to present when the server asks.
    pub cert_file: Option<String>,
    /// `--key FILE`: its private key (else the key is read from the `--cert` file).
    pub key_file: Option<String>,
    /// `-k`/`--insecure`: the server's certificate is not checked.
    pub insecure: bool,
}

/// What a TLS client trusts: the public CAs of the system bundle, the certificates of a file
/// (`--cacert`; a self-signed CA, or a chain), or nothing is checked (`-k`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Trust {
    System,
    Anchors(Vec<egressbench_resources::files::Certificate>),
    Anything,
}

/// A client's TLS, its files read: what it trusts and the certificate it can present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientCredentials {
    pub trust: Trust,
    pub certificate: Option<egressbench_resources::files::Certificate>,
}

impl Default for ClientCredentials {
    fn default() -> Self {
        ClientCredentials {
            trust: Trust::System,
            certificate: None,
        }
    }
}

/// The HTTP versions a client speaks, as curl's options choose them. (`--http2` over plain HTTP
/// is HTTP/1.1 with curl's `Upgrade: h2c` request headers: the command layer writes those.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientHttp {
    /// curl's default: over TLS, `h2` and `http/1.1` offered by ALPN; in plain text, HTTP/1.1.
    #[default]
    Negotiate,
    /// `--http1.1`: HTTP/1.1 only; over TLS only `http/1.1` is offered by ALPN.
    Http11Only,
    /// `--http2-prior-knowledge`: HTTP/2 from the first byte, in plain text too (h2c); over TLS,
    /// as `Negotiate`.
    H2PriorKnowledge,
}

impl ClientHttp {
    /// Whether a TLS ClientHello offers `h2` by ALPN.
    pub fn offers_h2(self) -> bool {
        self != ClientHttp::Http11Only
    }

    /// Whether a plain-text connection starts with the HTTP/2 preface.
    pub fn h2c(self) -> bool {
        self == ClientHttp::H2PriorKnowledge
    }
}

/// An HTTP forward proxy (`http://host:port`), as a client names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardProxy {
    pub host: String,
    pub port: u16,
    /// The request goes through a tunnel the proxy opens (`CONNECT`): always for `https://`, and
    /// with `curl -p`; else the whole request is sent to the proxy (`GET http://…`), which makes
    /// it itself.
    pub tunnel: bool,
}

impl fmt::Display for ForwardProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// The host (a name or an address) and port a connection is opened to, instead of the URL's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dial {
    pub host: String,
    pub port: u16,
}

impl ClientRequest {
    /// A GET of `path` on `scheme://host:port`.
    pub fn get(scheme: Scheme, host: &str, port: u16, path: &str) -> Self {
        ClientRequest {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
            host_header: None,
            dial: None,
            from_proxy_container: false,
            http: ClientHttp::Negotiate,
            proxy: None,
            tls: ClientTls::default(),
        }
    }

    /// What the client sends to its forward proxy, if it has one, on a plain connection to the
    /// proxy: `CONNECT host:port` (curl sends `Host: host:port` with it), after which the request
    /// itself goes through the tunnel, end to end; or, without a tunnel, the whole request in
    /// absolute form (`GET http://host/path`, with curl's `Proxy-Connection: Keep-Alive`).
    pub fn to_proxy(&self) -> Option<ClientRequest> {
        let proxy = self.proxy.as_ref()?;
        if !proxy.tunnel {
            // curl writes its `Proxy-Connection` after `Accept`, unless told to send its own.
            let mut headers = self.headers.clone();
            if self.header("proxy-connection").is_none() {
                let after = ["accept", "user-agent"].iter().find_map(|name| {
                    headers
                        .iter()
                        .position(|(n, _)| n.eq_ignore_ascii_case(name))
                });
                let at = after.map_or(0, |i| i + 1);
                headers.insert(at, ("Proxy-Connection".into(), "Keep-Alive".into()));
            }
            return Some(ClientRequest {
                scheme: Scheme::Http,
                host: proxy.host.clone(),
                port: proxy.port,
                path: self.url(),
                headers,
                host_header: Some(self.authority()),
                dial: None,
                http: ClientHttp::Http11Only,
                proxy: None,
                ..self.clone()
            });
        }
        let target = format!("{}:{}", self.host, self.port);
        Some(ClientRequest {
            scheme: Scheme::Http,
            host: proxy.host.clone(),
            port: proxy.port,
            method: "CONNECT".into(),
            path: String::new(),
            headers: Vec::new(),
            body: None,
            timeout_ms: self.timeout_ms,
            host_header: Some(target),
            dial: None,
            from_proxy_container: self.from_proxy_container,
            http: ClientHttp::Http11Only,
            proxy: None,
            tls: ClientTls::default(),
        })
    }

    /// The request as it goes through the tunnel its forward proxy opened (the proxy's own
    /// connection, from the proxy's pod: no longer the client's container's).
    pub fn tunneled(&self) -> ClientRequest {
        ClientRequest {
            proxy: None,
            dial: None,
            from_proxy_container: false,
            ..self.clone()
        }
    }

    /// The `Host` header value sent: `-H 'Host: …'` when given, else the URL's host with the port
    /// when it is not the scheme's default (as curl writes it).
    pub fn authority(&self) -> String {
        self.host_header
            .clone()
            .unwrap_or_else(|| self.url_authority())
    }

    /// The URL's authority: the host, with the port when it is not the scheme's default.
    pub fn url_authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL as the client wrote it.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.url_authority(), self.path)
    }

    /// The host (name or address) the connection is opened to.
    pub fn dial_host(&self) -> &str {
        self.dial.as_ref().map_or(&self.host, |d| &d.host)
    }

    /// The port the connection is opened to.
    pub fn dial_port(&self) -> u16 {
        self.dial.as_ref().map_or(self.port, |d| d.port)
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The headers that belong to one connection, which an HTTP proxy never forwards (Envoy's
/// connection manager drops them; a WebSocket upgrade, which keeps `upgrade`, is not modelled).
const CONNECTION_HEADERS: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// Drop the connection's own headers from a request a proxy received; with an `Upgrade: h2c`
/// (`curl --http2` over plain HTTP) also its `HTTP2-Settings`, as Envoy's HTTP/1 codec does:
/// Envoy does not upgrade to h2c, so the request goes on as HTTP/1.1 and is answered so.
pub fn drop_connection_headers(headers: &mut Vec<(String, String)>) {
    let h2c = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("upgrade") && v.trim().eq_ignore_ascii_case("h2c"));
    let connections_own = |n: &str| {
        CONNECTION_HEADERS.iter().any(|c| n.eq_ignore_ascii_case(c))
            || (h2c && n.eq_ignore_ascii_case("http2-settings"))
    };
    headers.retain(|(n, _)| !connections_own(n));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_leaves_out_default_ports() {
        let r = ClientRequest::get(Scheme::Https, "www.httpbin.org", 443, "/get");
        assert_eq!(r.authority(), "www.httpbin.org");
        assert_eq!(r.url(), "https://www.httpbin.org/get");
        let r = ClientRequest::get(Scheme::Http, "httpbin.org", 8080, "/");
        assert_eq!(r.authority(), "httpbin.org:8080");
    }

    #[test]
    fn a_host_header_and_a_dial_leave_the_url_alone() {
        let mut r = ClientRequest::get(Scheme::Http, "httpbin.org", 8080, "/get");
        assert_eq!((r.dial_host(), r.dial_port()), ("httpbin.org", 8080));
        r.host_header = Some("example.com".into());
        r.dial = Some(Dial {
            host: "10.0.0.7".into(),
            port: 80,
        });
        assert_eq!(r.authority(), "example.com");
        assert_eq!(r.url(), "http://httpbin.org:8080/get");
        assert_eq!((r.dial_host(), r.dial_port()), ("10.0.0.7", 80));
    }

    #[test]
    fn a_whole_request_to_a_proxy_carries_its_url_and_curls_proxy_connection() {
        let mut r = ClientRequest::get(Scheme::Http, "edition.cnn.com", 80, "/politics");
        r.headers = vec![
            ("User-Agent".into(), "curl/8.5.0".into()),
            ("Accept".into(), "*/*".into()),
            ("X-A".into(), "1".into()),
        ];
        r.proxy = Some(ForwardProxy {
            host: "10.244.3.7".into(),
            port: 3128,
            tunnel: false,
        });
        let p = r.to_proxy().expect("a proxy request");
        assert_eq!((p.host.as_str(), p.port), ("10.244.3.7", 3128));
        assert_eq!(p.path, "http://edition.cnn.com/politics");
        assert_eq!(p.authority(), "edition.cnn.com");
        let names: Vec<&str> = p.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["User-Agent", "Accept", "Proxy-Connection", "X-A"]);
        r.proxy = Some(ForwardProxy {
            tunnel: true,
            ..r.proxy.clone().expect("set above")
        });
        let c = r.to_proxy().expect("a CONNECT");
        assert_eq!(
            (c.method.as_str(), c.authority().as_str()),
            ("CONNECT", "edition.cnn.com:80")
        );
    }

    #[test]
    fn the_connections_own_headers_go_and_http2_settings_only_with_h2c() {
        let mut h: Vec<(String, String)> = [
            ("Connection", "Upgrade, HTTP2-Settings"),
            ("Upgrade", "h2c"),
            ("HTTP2-Settings", "x"),
            ("Accept", "*/*"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .to_vec();
        drop_connection_headers(&mut h);
        assert_eq!(h, [("Accept".to_string(), "*/*".to_string())]);
    }

    #[test]
    fn workload_refs_parse() {
        assert_eq!(
            WorkloadRef::parse("mytest/sleep-a"),
            Some(WorkloadRef::new("mytest", "sleep-a"))
        );
        assert_eq!(
            WorkloadRef::parse("mytest/deployment/sleep-a"),
            Some(WorkloadRef::new("mytest", "sleep-a"))
        );
        assert_eq!(WorkloadRef::parse("sleep-a"), None);
    }
}

//! One host outside the mesh: the names it answers to, its address, its listeners, its application.
//!
//! Owns: `ExternalHost` (built with `ExternalHost::new` and chained setters), `ExternalPort`, `App`
//! with its `Site` of fixed `Answer`s (by path, by port), and the one rule for comparing host
//! names (`normalize_name`). Leaves out: the table of hosts and
//! DNS (`internet`), and what an application answers (`app`, `httpbin`).

use std::net::Ipv4Addr;

/// What a host's server answers to HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum App {
    /// httpbin.org's behaviour: request inspection (`/anything`, `/get`, `/headers`…), `/status/{code}`,
    /// `/delay/{n}`. Sits behind a load balancer that terminates TLS (see `httpbin`).
    Httpbin,
    /// Fixed answers, by path and by port (HEAD gets them without the body).
    Site(Box<Site>),
    /// Istio's echo server: the body describes the request that arrived (see `echo`).
    Echo(Box<super::echo::EchoServer>),
    /// Plain HTTP gets `301 Moved Permanently` to the same URL over HTTPS (what
    /// `edition.cnn.com` answers on port 80); requests that came over TLS get the inner app.
    RedirectToHttps(Box<App>),
    /// A forward proxy (Squid): `CONNECT` opens a tunnel (the walk and the sockets run it, see
    /// `forward`); anything else is not a proxy request to it.
    ForwardProxy(Box<super::forward::ForwardProxyServer>),
}

/// One fixed answer: status, content type, body and any other response headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// Headers besides `content-type` and `content-length`, in order (a `location` makes a
    /// redirect).
    pub headers: Vec<(String, String)>,
}

/// A site of fixed answers: the first path prefix that matches the request's path, else the
/// answer for the port the request came in on, else the site's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub answer: Answer,
    pub by_port: Vec<(u16, Answer)>,
    pub by_path: Vec<(String, Answer)>,
}

impl Site {
    /// The answer for a request to `path` that arrived on `port`.
    pub fn answer_for(&self, port: u16, path: &str) -> &Answer {
        self.by_path
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, a)| a)
            .or_else(|| {
                self.by_port
                    .iter()
                    .find(|(p, _)| *p == port)
                    .map(|(_, a)| a)
            })
            .unwrap_or(&self.answer)
    }
}

impl App {
    /// This app behind a redirect of plain HTTP to HTTPS.
    pub fn https_only(self) -> App {
        App::RedirectToHttps(Box::new(self))
    }

    /// A site answering everything with `answer`.
    pub fn fixed(answer: Answer) -> App {
        App::Site(Box::new(Site {
            answer,
            by_port: Vec::new(),
            by_path: Vec::new(),
        }))
    }

    /// A site answering 200 with an HTML page.
    pub fn html_page(body: impl Into<String>) -> App {
        App::fixed(Answer {
            status: 200,
            content_type: "text/html; charset=utf-8".to_string(),
            body: body.into(),
            headers: Vec::new(),
        })
    }
}

/// A port a host listens on, whether it expects TLS there, and whether its TLS offers HTTP/2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternalPort {
    pub port: u16,
    pub tls: bool,
    /// Its TLS offers `h2` by ALPN besides `http/1.1` (a client that offers it gets HTTP/2);
    /// `false` on plain-text ports and on TLS servers that speak HTTP/1.1 only.
    pub http2: bool,
}

impl ExternalPort {
    /// A plain-text (HTTP or TCP) listener.
    pub fn plain(port: u16) -> Self {
        ExternalPort {
            port,
            tls: false,
            http2: false,
        }
    }

    /// A listener that expects a TLS handshake first and offers `h2` and `http/1.1`.
    pub fn tls(port: u16) -> Self {
        ExternalPort {
            port,
            tls: true,
            http2: true,
        }
    }

    /// A TLS listener that speaks HTTP/1.1 only (its ALPN offers `http/1.1`).
    pub fn tls_http1(port: u16) -> Self {
        ExternalPort {
            http2: false,
            ..ExternalPort::tls(port)
        }
    }
}

/// A host on the Internet. The first name is its primary name; the others are aliases that resolve to
/// the same address (as `httpbin.org` and `www.httpbin.org` do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalHost {
    names: Vec<String>,
    address: Ipv4Addr,
    /// Whether `address` was chosen by the caller (`at`) rather than derived from the primary name.
    pinned: bool,
    ports: Vec<ExternalPort>,
    app: App,
    /// Its own TLS certificate (else one the public CA issued for its names).
    tls: Option<Box<super::tls::ServerTls>>,
    /// It answers a ClientHello whatever its SNI (a server's default, as nginx's first `server`
    /// is), instead of resetting one for a name it does not serve.
    any_name: bool,
}

/// First octets of the documentation range (RFC 5737 TEST-NET-2) that hosts without an explicit
/// address are placed in.
const AUTO_NET: [u8; 3] = [198, 51, 100];

impl ExternalHost {
    /// A host named `name` running `app`, listening nowhere yet, at an address derived from the name
    /// in 198.51.100.0/24 (`Internet::add` moves it if another host already holds that address).
    pub fn new(name: &str, app: App) -> Self {
        let name = normalize_name(name);
        let address = derived_address(&name);
        ExternalHost {
            names: vec![name],
            address,
            pinned: false,
            ports: Vec::new(),
            app,
            tls: None,
            any_name: false,
        }
    }

    /// Present `tls`'s certificate (and ask for clients' as it says) on the TLS ports.
    pub fn with_tls(mut self, tls: super::tls::ServerTls) -> Self {
        self.tls = Some(Box::new(tls));
        self
    }

    /// Answer a TLS handshake for any name (a default server).
    pub fn any_name(mut self) -> Self {
        self.any_name = true;
        self
    }

    /// Its own TLS, if it has one.
    pub fn tls(&self) -> Option<&super::tls::ServerTls> {
        self.tls.as_deref()
    }

    /// Whether it answers a handshake for any name.
    pub fn answers_any_name(&self) -> bool {
        self.any_name
    }

    /// Add a name that resolves to this host too.
    pub fn alias(mut self, name: &str) -> Self {
        let name = normalize_name(name);
        if !self.names.contains(&name) {
            self.names.push(name);
        }
        self
    }

    /// Listen on `port`, with or without TLS (replaces an earlier listener on the same port); a
    /// TLS port offers HTTP/2.
    pub fn listen(self, port: u16, tls: bool) -> Self {
        self.listen_on(if tls {
            ExternalPort::tls(port)
        } else {
            ExternalPort::plain(port)
        })
    }

    /// Listen as `port` says (replaces an earlier listener on the same port).
    pub fn listen_on(mut self, port: ExternalPort) -> Self {
        self.ports.retain(|p| p.port != port.port);
        self.ports.push(port);
        self
    }

    /// Place the host at `address`. Several hosts may share one address: the server then picks one
    /// by TLS SNI or by the HTTP `Host` header, as a virtual-hosting server does.
    pub fn at(mut self, address: Ipv4Addr) -> Self {
        self.address = address;
        self.pinned = true;
        self
    }

    /// The primary name.
    pub fn name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }

    /// Every name, primary first, lowercase.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    pub fn ports(&self) -> &[ExternalPort] {
        &self.ports
    }

    /// The listener on `port`, if any.
    pub fn port(&self, port: u16) -> Option<ExternalPort> {
        self.ports.iter().copied().find(|p| p.port == port)
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Whether `name` (any case, trailing dot allowed) is one of this host's names.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = normalize_name(name);
        self.names.contains(&name)
    }

    pub(super) fn is_pinned(&self) -> bool {
        self.pinned
    }

    /// Move an unpinned host to a free address (used by `Internet::add`).
    pub(super) fn place(&mut self, address: Ipv4Addr) {
        self.address = address;
    }
}

/// A host name as compared everywhere: trimmed, ASCII-lowercase, without a trailing dot.
pub fn normalize_name(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    name.to_ascii_lowercase()
}

/// The address a name gets by default: FNV-1a of the name picks one of 198.51.100.1–254.
fn derived_address(name: &str) -> Ipv4Addr {
    auto_address(egressbench_text::hash::fnv1a(name) % 254)
}

/// The `index`-th (0-based, wrapping at 254) usable address of the automatic range.
pub(super) fn auto_address(index: u32) -> Ipv4Addr {
    let last = u8::try_from(index % 254 + 1).unwrap_or(1);
    Ipv4Addr::new(AUTO_NET[0], AUTO_NET[1], AUTO_NET[2], last)
}

/// Position of `address` in the automatic range, if it is in it.
pub(super) fn auto_index(address: Ipv4Addr) -> Option<u32> {
    let [a, b, c, d] = address.octets();
    ([a, b, c] == AUTO_NET && (1..=254).contains(&d)).then(|| u32::from(d) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_and_deduplicated() {
        let h = ExternalHost::new(" Example.COM. ", App::Httpbin)
            .alias("WWW.example.com")
            .alias("example.com");
        assert_eq!(h.names(), ["example.com", "www.example.com"]);
        assert_eq!(h.name(), "example.com");
        assert!(h.answers_to("www.EXAMPLE.com."));
        assert!(!h.answers_to("other.com"));
    }

    #[test]
    fn derived_addresses_are_stable_and_in_the_documentation_range() {
        let a = ExternalHost::new("example.com", App::Httpbin);
        let b = ExternalHost::new("EXAMPLE.com", App::Httpbin);
        assert_eq!(a.address(), b.address());
        assert!(auto_index(a.address()).is_some());
        assert!(!a.is_pinned());
    }

    #[test]
    fn auto_range_wraps_and_round_trips() {
        assert_eq!(auto_address(0), Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(auto_address(253), Ipv4Addr::new(198, 51, 100, 254));
        assert_eq!(auto_address(254), Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(auto_index(Ipv4Addr::new(198, 51, 100, 7)), Some(6));
        assert_eq!(auto_index(Ipv4Addr::new(198, 51, 100, 0)), None);
        assert_eq!(auto_index(Ipv4Addr::new(203, 0, 113, 7)), None);
    }

    #[test]
    fn listen_replaces_the_same_port_and_at_pins() {
        let h = ExternalHost::new("a.test", App::html_page("x"))
            .listen(443, false)
            .listen(443, true)
            .listen(80, false)
            .at(Ipv4Addr::new(203, 0, 113, 99));
        assert_eq!(h.ports(), [ExternalPort::tls(443), ExternalPort::plain(80)]);
        assert_eq!(h.port(443), Some(ExternalPort::tls(443)));
        assert_eq!(h.port(8080), None);
        assert_eq!(h.address(), Ipv4Addr::new(203, 0, 113, 99));
        assert!(h.is_pinned());
    }
}

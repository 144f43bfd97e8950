//! The rows of the truth table: which requests are made from a workload to a host, and the exact
//! request each one is.
//!
//! Owns: `Probe` (workload, host, protocol, method, port, forward proxy `Via`, HTTP versions) and
//! the request set per host (`Ask`) —
//! HTTP GET and POST on 80, an HTTP/2 GET in plain text (h2c, `--http2-prior-knowledge`) on 80,
//! HTTPS GET and POST on 443, raw TCP on 80 and 443, and for every other port a ServiceEntry of
//! the state declares for the host: HTTP GET and TCP (and HTTPS GET when the port's protocol is
//! HTTPS or TLS); and to every Kubernetes Service of the state (in-cluster destinations, by FQDN),
//! HTTP GET and POST, an h2c GET and raw TCP on each of its ports; and through every
//! forward proxy of the state (a pod running Squid), an HTTPS GET to each host on 443, a
//! tunnelled HTTP GET on 80 and the same GET sent whole. HTTP requests are written as curl command lines and read by
//! `scenario::command::parse_exec`, so they carry the headers a scenario's curl sends. Leaves out:
//! which workloads and hosts (`build`) and what targets make of the requests (`cell`).

use super::error::TableError;
use egressbench_model::mesh::Mesh;
use egressbench_model::request::{ClientHttp, ClientRequest, Origin, Scheme};
use egressbench_resources::Kind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The path every HTTP probe asks for: httpbin echoes it, fixed pages answer any path.
pub const PATH: &str = "/anything";

/// The body of a POST probe (`curl -d hello`: form-encoded).
pub const POST_BODY: &str = "hello";

/// One request of the table: from a workload (or the workstation), to a host, in a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub from: Origin,
    pub host: String,
    pub scheme: Scheme,
    /// `GET` or `POST` (`GET` for TCP, which has no method).
    pub method: String,
    pub port: u16,
    /// A forward proxy the request goes through (`curl -x http://ADDRESS:PORT`).
    pub via: Option<Via>,
    /// The HTTP versions the client speaks (h2c: `--http2-prior-knowledge`).
    pub http: ClientHttp,
    /// The address the connection goes to instead of the host's (`curl --resolve
    /// HOST:PORT:ADDRESS`): a name a gateway serves, reached at its load-balancer address.
    pub resolve: Option<std::net::IpAddr>,
}

/// A forward proxy a probe goes through, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Via {
    pub proxy: std::net::SocketAddr,
    /// Through a tunnel (`CONNECT`; `curl -p` for `http://`), else as a whole request the proxy
    /// makes itself.
    pub tunnel: bool,
}

/// One request made to a host, the workload left out: protocol, method, port, HTTP versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub scheme: Scheme,
    pub method: &'static str,
    pub port: u16,
    pub http: ClientHttp,
}

impl Ask {
    const fn new(scheme: Scheme, method: &'static str, port: u16) -> Ask {
        Ask {
            scheme,
            method,
            port,
            http: ClientHttp::Negotiate,
        }
    }

    /// An HTTP/2 GET in plain text, with prior knowledge (h2c).
    const fn h2c(port: u16) -> Ask {
        Ask {
            scheme: Scheme::Http,
            method: "GET",
            port,
            http: ClientHttp::H2PriorKnowledge,
        }
    }
}

impl Probe {
    /// `https GET :443`, `tcp :80`.
    pub fn request_text(&self) -> String {
        let via = match self.via {
            Some(v) if v.tunnel => format!(" via proxy {} tunnel", v.proxy),
            Some(v) => format!(" via proxy {}", v.proxy),
            None => String::new(),
        };
        let h2c = if self.http.h2c() { " h2c" } else { "" };
        let at = self.resolve.map(|a| format!(" at {a}")).unwrap_or_default();
        match self.scheme {
            Scheme::Tcp => format!("tcp :{}{at}", self.port),
            scheme => format!("{scheme}{h2c} {} :{}{via}{at}", self.method, self.port),
        }
    }

    /// The curl command line the probe stands for (`None` for raw TCP, which curl does not send).
    pub fn curl(&self) -> Option<String> {
        let authority = if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let mut data = if self.method == "POST" {
            format!("-d {POST_BODY} ")
        } else {
            String::new()
        };
        if let Some(via) = self.via {
            let tunnel = if via.tunnel { "-p " } else { "" };
            data.push_str(&format!("{tunnel}-x http://{} ", via.proxy));
        }
        if self.http.h2c() {
            data.push_str("--http2-prior-knowledge ");
        }
        if let Some(address) = self.resolve {
            // A name a gateway serves: past its certificate (`-k`, which the scenarios check), to
            // what it does with the request.
            data.push_str(&format!("--resolve {}:{}:{address} ", self.host, self.port));
            if self.scheme == Scheme::Https {
                data.push_str("-k ");
            }
        }
        match self.scheme {
            Scheme::Tcp => None,
            scheme => Some(format!("curl -s {data}{scheme}://{authority}{PATH}")),
        }
    }

    /// The request the probe sends.
    pub fn request(&self) -> Result<ClientRequest, TableError> {
        let Some(line) = self.curl() else {
            let mut tcp = ClientRequest::get(Scheme::Tcp, &self.host, self.port, "/");
            tcp.dial = self.resolve.map(|a| egressbench_model::request::Dial {
                host: a.to_string(),
                port: self.port,
            });
            return Ok(tcp);
        };
        egressbench_scenario::command::parse_exec(&line, &Default::default())
            .and_then(|cmd| {
                cmd.first_request()
                    .cloned()
                    .ok_or(egressbench_scenario::command::CommandError::Empty)
            })
            .map_err(|e| TableError::Request {
                host: self.host.clone(),
                command: line.clone(),
                message: e.to_string(),
            })
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}  {}", self.from, self.host, self.request_text())
    }
}

/// Scheme, method and port of each request made to `host` in `mesh`'s state (the workload left out).
pub fn requests_for(mesh: &Mesh, host: &str) -> Vec<Ask> {
    let mut out = vec![
        Ask::new(Scheme::Http, "GET", 80),
        Ask::new(Scheme::Http, "POST", 80),
        Ask::h2c(80),
        Ask::new(Scheme::Https, "GET", 443),
        Ask::new(Scheme::Https, "POST", 443),
        Ask::new(Scheme::Tcp, "GET", 80),
        Ask::new(Scheme::Tcp, "GET", 443),
    ];
    for (port, tls) in declared_ports(mesh, host) {
        out.push(Ask::new(Scheme::Http, "GET", port));
        if tls {
            out.push(Ask::new(Scheme::Https, "GET", port));
        }
        out.push(Ask::new(Scheme::Tcp, "GET", port));
    }
    out
}

/// The state's Kubernetes Services (in-cluster destinations), by FQDN, with their ports in
/// order.
pub fn in_cluster_services(mesh: &Mesh) -> Vec<(String, Vec<u16>)> {
    mesh.ctx
        .registry
        .services
        .iter()
        .filter(|s| s.origin.kind == Kind::Service)
        .map(|s| {
            (
                s.hostname.clone(),
                s.ports.iter().map(|p| p.number).collect(),
            )
        })
        .collect()
}

/// Each request made to a host outside through a forward proxy, with whether it is tunnelled: an
/// HTTPS GET on 443 (a tunnel the proxy opens), an HTTP GET on 80 tunnelled with `-p` (a CONNECT
/// to port 80, which Squid refuses), and the same GET sent whole (the proxy makes it itself).
pub fn requests_via_proxy() -> Vec<(Ask, bool)> {
    vec![
        (Ask::new(Scheme::Https, "GET", 443), true),
        (Ask::new(Scheme::Http, "GET", 80), true),
        (Ask::new(Scheme::Http, "GET", 80), false),
    ]
}

/// What the workstation probes at one load-balancer address: its Service's ports, and the names
/// the gateway behind it serves there (the SNI names of its listener's filter chains and the
/// domains of their routes, wildcards left out), each reached with `--resolve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balanced {
    pub address: std::net::IpAddr,
    pub ports: Vec<(u16, Vec<String>)>,
}

/// The load-balancer addresses of the state's Services.
pub fn load_balancers(mesh: &Mesh) -> Vec<Balanced> {
    mesh.ctx
        .registry
        .services
        .iter()
        .filter_map(|s| {
            let address = s.load_balancer.as_deref()?.parse().ok()?;
            let ports = s
                .ports
                .iter()
                .map(|p| {
                    let names =
                        egressbench_model::decide::step::load_balancer(mesh, address, p.number)
                            .and_then(|(w, target)| Some(served_names(mesh.proxy(&w)?, target)))
                            .unwrap_or_default();
                    (p.number, names)
                })
                .collect();
            Some(Balanced { address, ports })
        })
        .collect()
}

/// The names a gateway serves on `port`, without wildcards, sorted.
fn served_names(proxy: &egressbench_model::xds::ProxyConfig, port: u16) -> Vec<String> {
    use egressbench_model::xds::Terminal;
    let mut names = std::collections::BTreeSet::new();
    for chain in proxy
        .inbound_listener(port)
        .into_iter()
        .flat_map(|l| &l.filter_chains)
    {
        names.extend(chain.matcher.server_names.iter().cloned());
        if let Terminal::Http { route_config, .. } = &chain.terminal {
            if let Some(rc) = proxy.routes.get(&**route_config) {
                for vh in &rc.virtual_hosts {
                    names.extend(
                        vh.domains
                            .iter()
                            .map(|d| d.split(':').next().unwrap_or(d).to_string()),
                    );
                }
            }
        }
    }
    names.into_iter().filter(|n| !n.contains('*')).collect()
}

/// Each request made to an in-cluster Service with `ports`: HTTP GET and POST, an h2c GET and
/// raw TCP on every port.
pub fn requests_in_cluster(ports: &[u16]) -> Vec<Ask> {
    ports
        .iter()
        .flat_map(|&port| {
            [
                Some(Ask::new(Scheme::Http, "GET", port)),
                Some(Ask::new(Scheme::Http, "POST", port)),
                Some(Ask::h2c(port)),
                (port == 443).then(|| Ask::new(Scheme::Https, "GET", port)),
                Some(Ask::new(Scheme::Tcp, "GET", port)),
            ]
            .into_iter()
            .flatten()
        })
        .collect()
}

/// Ports other than 80 and 443 that the state's ServiceEntries declare for `host` (wildcard hosts
/// included), each with whether its protocol is HTTPS or TLS.
fn declared_ports(mesh: &Mesh, host: &str) -> BTreeMap<u16, bool> {
    let mut ports: BTreeMap<u16, bool> = BTreeMap::new();
    for service in mesh.ctx.registry.lookup(host) {
        if service.origin.kind != Kind::ServiceEntry {
            continue;
        }
        for p in &service.ports {
            if p.number != 80 && p.number != 443 {
                *ports.entry(p.number).or_default() |= p.protocol.is_tls();
            }
        }
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::request::WorkloadRef;

    fn probe(scheme: Scheme, method: &str, port: u16) -> Probe {
        Probe {
            from: Origin::Pod(WorkloadRef::new("mytest", "sleep-a")),
            host: "httpbin.org".into(),
            scheme,
            method: method.into(),
            port,
            via: None,
            http: ClientHttp::Negotiate,
            resolve: None,
        }
    }

    #[test]
    fn http_probes_are_curl_requests_with_curls_headers() {
        let p = probe(Scheme::Https, "POST", 443);
        assert_eq!(
            p.curl().as_deref(),
            Some("curl -s -d hello https://httpbin.org/anything")
        );
        let r = p.request().expect("a plain curl line parses");
        assert_eq!(r.method, "POST");
        assert_eq!(r.body.as_deref(), Some("hello"));
        assert_eq!(r.header("user-agent"), Some("curl/8.5.0"));
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(p.request_text(), "https POST :443");
        let r = probe(Scheme::Http, "GET", 8080).request().expect("parses");
        assert_eq!(
            (r.port, r.url().as_str()),
            (8080, "http://httpbin.org:8080/anything")
        );
    }

    #[test]
    fn tcp_probes_are_raw_connections() {
        let p = probe(Scheme::Tcp, "GET", 443);
        assert_eq!(p.curl(), None);
        let r = p.request().expect("tcp needs no parsing");
        assert_eq!((r.scheme, r.port), (Scheme::Tcp, 443));
        assert_eq!(p.request_text(), "tcp :443");
    }

    #[test]
    fn h2c_probes_speak_http2_from_the_first_byte() {
        let mut p = probe(Scheme::Http, "GET", 80);
        p.http = ClientHttp::H2PriorKnowledge;
        assert_eq!(
            p.curl().as_deref(),
            Some("curl -s --http2-prior-knowledge http://httpbin.org/anything")
        );
        assert_eq!(
            p.request().expect("parses").http,
            ClientHttp::H2PriorKnowledge
        );
        assert_eq!(p.request_text(), "http h2c GET :80");
    }
}

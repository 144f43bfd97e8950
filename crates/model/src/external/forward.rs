//! A forward proxy, as Squid runs one with the configuration of Istio's task "Using an External
//! HTTPS Proxy" (`http_port 3128`, `http_access deny CONNECT !SSL_ports` with port 443 the only
//! SSL port, everything else allowed).
//!
//! Owns: `ForwardProxyServer`, what it answers a `CONNECT` (`TunnelVerdict` → `connect_answer`:
//! `200 Connection established`, `403` for a port other than 443, `503` when the destination does
//! not resolve or refuses), a whole request in absolute form (`GET http://host/path`: the request
//! it makes itself, `proxied_request`, with its `Via` and `X-Forwarded-For`, and its answer from
//! what that got, `relay_answer`: the response with Squid's `Via` and `X-Cache` lines, or an
//! error page), what it answers a request that is not a proxy request (`400`, Squid's "invalid
//! URL"), and its access-log line in Squid's native format (`access_log_line`). Leaves out:
//! opening the tunnel or making the request (the walk decides the proxy's own connection as one
//! its pod makes; the sockets run it in `egressbench-network`), caching, and `https://` targets
//! in absolute form (curl tunnels those).

use crate::outcome::{ClientResult, ConnectionError, HttpResponse, Received};
use crate::request::{ClientRequest, Scheme};

/// The port Squid listens on.
pub const SQUID_PORT: u16 = 3128;

/// The ports `CONNECT` may reach (`acl SSL_ports port 443`).
const SSL_PORTS: [u16; 1] = [443];

/// Squid's version, as its error pages and `Via` name it.
const VERSION: &str = "squid/3.5.27";

/// A forward proxy in a pod: its host name (the pod's) for error pages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForwardProxyServer {
    pub hostname: String,
}

/// What became of a `CONNECT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelVerdict {
    /// The destination took the connection: the tunnel is open.
    Open,
    /// The port is not an SSL port: denied before any connection.
    Denied,
    /// The destination's name did not resolve.
    NoName,
    /// The destination refused the connection or did not answer.
    Unreachable,
}

impl TunnelVerdict {
    /// Before connecting: whether `port` may be reached at all.
    pub fn allowed(port: u16) -> bool {
        SSL_PORTS.contains(&port)
    }
}

/// A `CONNECT`'s target, `host:port` (the host lowercased); `None` when it is not one.
pub fn connect_target(authority: &str) -> Option<(String, u16)> {
    let (host, port) = authority.rsplit_once(':')?;
    Some((host.to_ascii_lowercase(), port.parse().ok()?))
}

/// Squid's answer to a `CONNECT` that ended in `verdict`.
pub fn connect_answer(server: &ForwardProxyServer, verdict: TunnelVerdict) -> HttpResponse {
    let (status, code) = match verdict {
        TunnelVerdict::Open => return HttpResponse::new(200, "", ""),
        TunnelVerdict::Denied => (403, "ERR_ACCESS_DENIED"),
        TunnelVerdict::NoName => (503, "ERR_DNS_FAIL"),
        TunnelVerdict::Unreachable => (503, "ERR_CONNECT_FAIL"),
    };
    error_page(server, status, code)
}

/// The request a proxy request in absolute form (`http://host[:port]/path`, the request line's
/// target) asks the proxy to make, from the client at `client` with `headers` (its `Host` left
/// out): the same method, path, headers and body, less curl's `Proxy-Connection` and the
/// connection's own headers (`request::drop_connection_headers`), with Squid's `Via` and
/// `X-Forwarded-For` appended. `None` when the target is not an absolute `http://` URL.
pub fn proxied_request(
    server: &ForwardProxyServer,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &str,
    client: std::net::IpAddr,
) -> Option<ClientRequest> {
    let rest = target
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("http://"))
        .map(|_| &target[7..])?;
    let cut = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(cut);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => (authority, 80),
    };
    if host.is_empty() {
        return None;
    }
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    let mut request = ClientRequest::get(Scheme::Http, host, port, &path);
    request.method = method.to_string();
    request.headers = headers
        .iter()
        .filter(|(n, _)| {
            !n.eq_ignore_ascii_case("proxy-connection") && !n.eq_ignore_ascii_case("host")
        })
        .cloned()
        .collect();
    crate::request::drop_connection_headers(&mut request.headers);
    request.headers.push(("Via".into(), via(server)));
    request
        .headers
        .push(("X-Forwarded-For".into(), client.to_string()));
    request.body = (!body.is_empty() || method.eq_ignore_ascii_case("POST")).then(|| body.into());
    Some(request)
}

fn via(server: &ForwardProxyServer) -> String {
    format!("1.1 {} ({VERSION})", server.hostname)
}

/// Whether the proxy's own request got a connection to its destination (its access log then names
/// the destination's address).
pub fn reached_destination(result: &ClientResult) -> bool {
    match result {
        ClientResult::Response(_) => true,
        ClientResult::ConnectionFailed { error, .. } => !matches!(
            error,
            ConnectionError::Refused | ConnectionError::Timeout | ConnectionError::Unresolved
        ),
    }
}

/// What Squid answers a proxy request whose own request ended in `result`: the response, with
/// Squid's `Via`, `X-Cache` and `X-Cache-Lookup` (nothing is cached); a name that does not
/// resolve `503` (`ERR_DNS_FAIL`), a destination that refuses or does not answer `503`
/// (`ERR_CONNECT_FAIL`), a connection that ends without an answer `502` (`ERR_READ_ERROR`).
pub fn relay_answer(server: &ForwardProxyServer, result: &ClientResult) -> HttpResponse {
    match result {
        ClientResult::Response(response) => {
            let mut r = response.clone();
            r.version = crate::outcome::HttpVersion::Http11;
            r.headers.push(("via".into(), via(server)));
            let miss = format!("MISS from {}", server.hostname);
            r.headers.push(("x-cache".into(), miss.clone()));
            r.headers
                .push(("x-cache-lookup".into(), format!("{miss}:{SQUID_PORT}")));
            r
        }
        ClientResult::ConnectionFailed { error, .. } => match error {
            ConnectionError::Unresolved => error_page(server, 503, "ERR_DNS_FAIL"),
            ConnectionError::Refused | ConnectionError::Timeout => {
                error_page(server, 503, "ERR_CONNECT_FAIL")
            }
            _ => error_page(server, 502, "ERR_READ_ERROR"),
        },
    }
}

/// Squid's answer to anything but a proxy request (a request with a path and no scheme, as a web
/// server gets it): `400`, the URL is invalid for a proxy.
pub fn not_a_proxy_request(server: &ForwardProxyServer) -> HttpResponse {
    error_page(server, 400, "ERR_INVALID_URL")
}

fn error_page(server: &ForwardProxyServer, status: u16, code: &str) -> HttpResponse {
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>ERROR: The requested URL could not be \
         retrieved</title></head>\n<body><h1>ERROR</h1><h2>The requested URL could not be \
         retrieved</h2>\n<p>{code}</p>\n<p>Generated by {} ({VERSION})</p>\n</body></html>\n",
        server.hostname
    );
    let mut r = HttpResponse::new(status, "text/html;charset=utf-8", body);
    r.headers.push(("server".into(), VERSION.into()));
    r.headers
        .push(("x-squid-error".into(), format!("{code} 0")));
    r
}

/// One line of Squid's `access.log` (native format) for what the proxy received, the `index`th
/// since it started: `time elapsed client code/status bytes method URL - hierarchy type`. The
/// time counts seconds from a fixed start and the elapsed milliseconds and bytes are 0: the bench
/// does not model them; the client, result code, method, URL and the address the proxy went to
/// are what the proxy did.
pub fn access_log_line(r: &Received, index: usize) -> String {
    let connect = r.method.eq_ignore_ascii_case("CONNECT");
    let result = match (connect, r.status, r.upstream) {
        (true, 200, _) => "TCP_TUNNEL",
        (_, 403, _) => "TCP_DENIED",
        // A request the proxy made itself, which reached its destination.
        (false, _, Some(_)) => "TCP_MISS",
        _ => "TAG_NONE",
    };
    let (method, url) = if connect || r.status != 400 {
        (r.method.as_str(), r.url.as_str())
    } else {
        ("NONE", "error:invalid-request")
    };
    let hierarchy = r.upstream.map_or_else(
        || "HIER_NONE/-".to_string(),
        |ip| format!("HIER_DIRECT/{ip}"),
    );
    // The type of what was sent back: nothing for a tunnel, Squid's own error pages are HTML;
    // the type of a relayed response is not kept (`-`).
    let kind = if r.status == 200 || (!connect && r.upstream.is_some()) {
        "-"
    } else {
        "text/html"
    };
    let start: u64 = 1_764_547_200 + index as u64;
    format!(
        "{start}.000      0 {} {result}/{} 0 {method} {url} - {hierarchy} {kind}",
        r.peer, r.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squid() -> ForwardProxyServer {
        ForwardProxyServer {
            hostname: "squid-5f7d9c8b6d-x2x4q".into(),
        }
    }

    fn record(method: &str, url: &str, status: u16, upstream: Option<&str>) -> Received {
        Received {
            host: "10.244.3.7".into(),
            port: SQUID_PORT,
            tls: false,
            sni: None,
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            peer: "10.244.0.9".parse().unwrap(),
            status,
            upstream: upstream.map(|u| u.parse().unwrap()),
        }
    }

    #[test]
    fn only_ssl_ports_may_be_tunnelled() {
        assert!(TunnelVerdict::allowed(443));
        assert!(!TunnelVerdict::allowed(80));
        assert_eq!(connect_answer(&squid(), TunnelVerdict::Open).status, 200);
        let denied = connect_answer(&squid(), TunnelVerdict::Denied);
        assert_eq!(denied.status, 403);
        assert_eq!(denied.header("x-squid-error"), Some("ERR_ACCESS_DENIED 0"));
        assert!(denied
            .body
            .contains("squid-5f7d9c8b6d-x2x4q (squid/3.5.27)"));
        assert_eq!(connect_answer(&squid(), TunnelVerdict::NoName).status, 503);
        assert_eq!(not_a_proxy_request(&squid()).status, 400);
    }

    #[test]
    fn a_whole_request_is_made_again_by_the_proxy() {
        let headers = vec![
            ("Host".to_string(), "httpbin.org:8080".to_string()),
            ("User-Agent".to_string(), "curl/8.5.0".to_string()),
            ("Proxy-Connection".to_string(), "Keep-Alive".to_string()),
        ];
        let client = "10.244.0.9".parse().unwrap();
        let r = proxied_request(
            &squid(),
            "GET",
            "http://HTTPBIN.org:8080?x=1",
            &headers,
            "",
            client,
        )
        .expect("an absolute http:// URL");
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("httpbin.org", 8080, "/?x=1")
        );
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["User-Agent", "Via", "X-Forwarded-For"]);
        assert_eq!(
            r.header("via"),
            Some("1.1 squid-5f7d9c8b6d-x2x4q (squid/3.5.27)")
        );
        assert_eq!(r.header("x-forwarded-for"), Some("10.244.0.9"));
        for not_absolute in ["/get", "https://a/", "http://", "http://a:0/"] {
            assert_eq!(
                proxied_request(&squid(), "GET", not_absolute, &[], "", client),
                None,
                "{not_absolute}"
            );
        }
    }

    #[test]
    fn the_relayed_answer_carries_squids_lines_or_its_error_page() {
        let ok = ClientResult::Response(HttpResponse::new(200, "application/json", "{}"));
        let r = relay_answer(&squid(), &ok);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-cache"),
            Some("MISS from squid-5f7d9c8b6d-x2x4q")
        );
        let failed = |error| ClientResult::ConnectionFailed {
            error,
            during_tls: false,
        };
        let dns = relay_answer(&squid(), &failed(ConnectionError::Unresolved));
        assert_eq!(
            (dns.status, dns.header("x-squid-error")),
            (503, Some("ERR_DNS_FAIL 0"))
        );
        assert_eq!(
            relay_answer(&squid(), &failed(ConnectionError::Refused)).status,
            503
        );
        assert_eq!(
            relay_answer(&squid(), &failed(ConnectionError::Reset)).status,
            502
        );
    }

    #[test]
    fn connect_targets_read_host_and_port() {
        assert_eq!(
            connect_target("En.Wikipedia.org:443"),
            Some(("en.wikipedia.org".into(), 443))
        );
        assert_eq!(connect_target("en.wikipedia.org"), None);
        assert_eq!(connect_target("a:http"), None);
    }

    #[test]
    fn log_lines_read_as_squids() {
        let open = record("CONNECT", "en.wikipedia.org:443", 200, Some("198.35.26.96"));
        assert_eq!(
            access_log_line(&open, 0),
            "1764547200.000      0 10.244.0.9 TCP_TUNNEL/200 0 CONNECT en.wikipedia.org:443 - \
             HIER_DIRECT/198.35.26.96 -"
        );
        let denied = record("CONNECT", "edition.cnn.com:80", 403, None);
        assert!(access_log_line(&denied, 1)
            .ends_with("TCP_DENIED/403 0 CONNECT edition.cnn.com:80 - HIER_NONE/- text/html"));
        let relayed = record("GET", "http://httpbin.org/get", 200, Some("203.0.113.10"));
        assert!(access_log_line(&relayed, 3)
            .ends_with("TCP_MISS/200 0 GET http://httpbin.org/get - HIER_DIRECT/203.0.113.10 -"));
        let plain = record("GET", "http://10.244.3.7:3128/", 400, None);
        assert!(access_log_line(&plain, 2)
            .contains("TAG_NONE/400 0 NONE error:invalid-request - HIER_NONE/-"));
    }
}

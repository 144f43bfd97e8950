//! The load balancer in front of httpbin.org, and the request as httpbin's WSGI server then sees it.
//!
//! Owns: the balancer's header rewriting and the server's view of headers. httpbin.org runs behind a
//! cloud load balancer that terminates TLS and, on every request, **overwrites** `X-Forwarded-Proto`
//! with the protocol of the connection *it* received (`https` when that connection was TLS, else
//! `http`) and `X-Forwarded-Port` with the port it was reached on, and **appends** the connecting
//! peer's address to `X-Forwarded-For`. Because httpbin derives the `url` field's scheme from
//! `X-Forwarded-Proto`, the scheme it reports reflects only the last hop: a plain-HTTP request keeps
//! `http://` even if the client or a proxy sent `X-Forwarded-Proto: https`, and only a TLS connection
//! to the host itself (the client's own TLS, or TLS origination at a sidecar or egress gateway) yields
//! `https://`. An mTLS hop inside the mesh never shows. (The balancer's random `X-Amzn-Trace-Id` is left
//! out to keep answers deterministic.)
//!
//! The server's view (`Environ`) follows the WSGI stack: header names in the form httpbin prints them
//! (`_` read as `-`, then Python's `str.title()`: `x-b3-traceid` → `X-B3-Traceid`), repeated headers
//! joined with `,` (`Content-Type` / `Content-Length`: the last wins), `Host` taken from the authority.
//! Leaves out: the endpoints (`httpbin`) and what they print (`echo`).

use super::super::app::AppRequest;

/// A request as httpbin's application sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Environ {
    /// Upper-case method.
    pub method: String,
    /// Path before `?`, as received (still percent-encoded).
    pub raw_path: String,
    /// Query after `?`, as received (empty when none).
    pub query: String,
    /// Headers as the application reads them: canonical names, each once, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Environ {
    /// A header by name, case-insensitively.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the application receives once the balancer has handled `req`.
pub(super) fn environ(req: &AppRequest<'_>) -> Environ {
    let request = req.request;
    let (raw_path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let host = if request.authority.is_empty() {
        req.server_name
    } else {
        request.authority.as_str()
    };
    let mut headers: Vec<(String, String)> = vec![("Host".into(), host.into())];
    for (name, value) in balanced_headers(req) {
        let name = canonical_name(&name);
        if name == "Host" {
            continue;
        }
        match headers.iter_mut().find(|(k, _)| *k == name) {
            Some((_, existing)) if name == "Content-Type" || name == "Content-Length" => {
                *existing = value;
            }
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    Environ {
        method: req.method(),
        raw_path: raw_path.to_string(),
        query: query.to_string(),
        headers,
        body: request.body.clone(),
    }
}

/// The request's headers after the balancer: forwarding headers rewritten, others untouched.
fn balanced_headers(req: &AppRequest<'_>) -> Vec<(String, String)> {
    let is = |name: &str, wanted: &str| name.eq_ignore_ascii_case(wanted);
    let mut forwarded_for: Vec<&str> = Vec::new();
    let mut headers = Vec::new();
    for (name, value) in &req.request.headers {
        if is(name, "x-forwarded-for") {
            forwarded_for.push(value.trim());
        } else if !is(name, "x-forwarded-proto") && !is(name, "x-forwarded-port") {
            headers.push((name.clone(), value.clone()));
        }
    }
    let peer = req.peer.to_string();
    forwarded_for.retain(|v| !v.is_empty());
    forwarded_for.push(&peer);
    headers.push(("X-Forwarded-For".into(), forwarded_for.join(", ")));
    let proto = if req.tls { "https" } else { "http" };
    headers.push(("X-Forwarded-Proto".into(), proto.into()));
    headers.push(("X-Forwarded-Port".into(), req.port.to_string()));
    headers
}

/// A header name as httpbin prints it: `_` → `-`, then each run of letters capitalised after any
/// non-letter (Python's `str.title()` on ASCII).
pub(super) fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut after_letter = false;
    for c in name.trim().chars() {
        let c = if c == '_' { '-' } else { c };
        if c.is_ascii_alphabetic() {
            out.push(if after_letter {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            });
            after_letter = true;
        } else {
            out.push(c);
            after_letter = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::arrival::ArrivedRequest;
    use std::net::Ipv4Addr;

    fn view(request: &ArrivedRequest, tls: bool) -> Environ {
        environ(&AppRequest {
            request,
            tls,
            port: if tls { 443 } else { 80 },
            peer: Ipv4Addr::new(192, 0, 2, 10),
            server_name: "httpbin.org",
            sni: None,
        })
    }

    #[test]
    fn names_are_title_cased_like_python() {
        assert_eq!(canonical_name("user-agent"), "User-Agent");
        assert_eq!(canonical_name("X-B3-TRACEID"), "X-B3-Traceid");
        assert_eq!(
            canonical_name("x-envoy-peer-metadata-id"),
            "X-Envoy-Peer-Metadata-Id"
        );
        assert_eq!(canonical_name("my_header"), "My-Header");
        assert_eq!(canonical_name("a1b"), "A1B");
    }

    #[test]
    fn balancer_overwrites_proto_and_port_and_appends_peer() {
        let request = ArrivedRequest::new("get", "/anything?x=1", "httpbin.org")
            .with_header("X-Forwarded-Proto", "https")
            .with_header("x-forwarded-port", "443")
            .with_header("X-Forwarded-For", "10.0.0.5");
        let env = view(&request, false);
        assert_eq!(env.method, "GET");
        assert_eq!(env.raw_path, "/anything");
        assert_eq!(env.query, "x=1");
        assert_eq!(env.header("x-forwarded-proto"), Some("http"));
        assert_eq!(env.header("X-Forwarded-Port"), Some("80"));
        assert_eq!(env.header("X-Forwarded-For"), Some("10.0.0.5, 192.0.2.10"));

        let env = view(&ArrivedRequest::new("GET", "/", "httpbin.org"), true);
        assert_eq!(env.header("X-Forwarded-Proto"), Some("https"));
        assert_eq!(env.header("X-Forwarded-For"), Some("192.0.2.10"));
    }

    #[test]
    fn host_comes_from_authority_and_repeats_are_joined() {
        let request = ArrivedRequest::new("GET", "/", "")
            .with_header("Host", "spoofed.example")
            .with_header("x-a", "1")
            .with_header("X_A", "2")
            .with_header("content-type", "text/plain")
            .with_header("Content-Type", "application/json");
        let env = view(&request, false);
        assert_eq!(
            env.headers.first(),
            Some(&("Host".into(), "httpbin.org".into()))
        );
        assert_eq!(env.header("X-A"), Some("1,2"));
        assert_eq!(env.header("Content-Type"), Some("application/json"));
        let request = ArrivedRequest::new("GET", "/", "www.httpbin.org:8080");
        assert_eq!(
            view(&request, false).header("host"),
            Some("www.httpbin.org:8080")
        );
    }
}

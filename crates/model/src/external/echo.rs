//! Istio's echo server (`pkg/test/echo`, the `app` image of Istio's integration tests): every HTTP
//! request is answered `200` with a body of `Field=value` lines describing what arrived.
//!
//! Owns: `EchoServer` and its answer: `ServiceVersion`, `ServicePort`, `Host`, `URL`, `Namespace`,
//! `Method`, `Proto`, `IP` (the peer the server saw), `Sni` when TLS carried an SNI, one
//! `RequestHeader=Name:value` line per header (names in Go's canonical form, sorted), `Hostname`;
//! and the query parameters `codes=NNN` (answer with that status) and `headers=name:value[,…]`
//! (add those response headers). Leaves out: the weighted `codes=500:1,200:1` form (random), the
//! `delay` parameter, gRPC, WebSocket and the TCP and UDP servers.

use super::app::AppRequest;
use crate::outcome::HttpResponse;

/// One echo server instance: what it says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoServer {
    /// The pod's `version` label (`ServiceVersion=`), empty if none.
    pub version: String,
    /// `Namespace=`, written only when not empty.
    pub namespace: String,
    /// The pod's name (`Hostname=`).
    pub hostname: String,
}

/// `user-agent` → `User-Agent`, as Go's `http.CanonicalHeaderKey`.
fn canonical(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// The value of query parameter `key` in `path` (the first), undecoded.
fn query_param<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    let (_, query) = path.split_once('?')?;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

pub(super) fn answer(server: &EchoServer, req: &AppRequest<'_>) -> HttpResponse {
    let r = req.request;
    let mut body = String::new();
    let mut line = |field: &str, value: &str| {
        body.push_str(field);
        body.push('=');
        body.push_str(value);
        body.push('\n');
    };
    let status = query_param(&r.path, "codes")
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (200..600).contains(c));
    line("ServiceVersion", &server.version);
    line("ServicePort", &req.port.to_string());
    line("Host", &r.authority);
    line("URL", &r.path);
    if !server.namespace.is_empty() {
        line("Namespace", &server.namespace);
    }
    line("Method", &r.method);
    line(
        "Proto",
        match r.version {
            crate::outcome::HttpVersion::Http11 => "HTTP/1.1",
            crate::outcome::HttpVersion::Http2 => "HTTP/2.0",
        },
    );
    line("IP", &req.peer.to_string());
    if let Some(sni) = req.sni.filter(|s| !s.is_empty()) {
        line("Sni", sni);
    }
    let mut headers: Vec<(String, &str)> = r
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .map(|(k, v)| (canonical(k), v.as_str()))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in &headers {
        line("RequestHeader", &format!("{k}:{v}"));
    }
    line("Hostname", &server.hostname);
    let mut response = HttpResponse::new(status.unwrap_or(200), "application/text", body);
    if let Some(extra) = query_param(&r.path, "headers") {
        for pair in extra.split(',') {
            if let Some((k, v)) = pair.split_once(':') {
                response
                    .headers
                    .push((k.to_ascii_lowercase(), v.to_string()));
            }
        }
    }
    if r.method.eq_ignore_ascii_case("HEAD") {
        response.body.clear();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::ArrivedRequest;
    use std::net::Ipv4Addr;

    fn server() -> EchoServer {
        EchoServer {
            version: "v1".into(),
            namespace: "echo".into(),
            hostname: "echo-v1-6d8f7c9b4-x2k7q".into(),
        }
    }

    #[test]
    fn the_body_lists_what_arrived_in_istios_field_order() {
        let request = ArrivedRequest::new("GET", "/hello?x=1", "echo.echo:80")
            .with_header("user-agent", "curl/8.5.0")
            .with_header("X-FORWARDED-PROTO", "http")
            .with_header("accept", "*/*");
        let req = AppRequest {
            request: &request,
            tls: false,
            port: 8080,
            peer: Ipv4Addr::new(127, 0, 0, 6),
            server_name: "10.245.0.2",
            sni: None,
        };
        let r = answer(&server(), &req);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/text"));
        assert_eq!(
            r.body,
            "ServiceVersion=v1\nServicePort=8080\nHost=echo.echo:80\nURL=/hello?x=1\n\
             Namespace=echo\nMethod=GET\nProto=HTTP/1.1\nIP=127.0.0.6\n\
             RequestHeader=Accept:*/*\nRequestHeader=User-Agent:curl/8.5.0\n\
             RequestHeader=X-Forwarded-Proto:http\nHostname=echo-v1-6d8f7c9b4-x2k7q\n"
        );
    }

    #[test]
    fn the_protocol_line_names_the_version_that_arrived() {
        let request =
            ArrivedRequest::new("GET", "/", "echo").in_version(crate::outcome::HttpVersion::Http2);
        let req = AppRequest {
            request: &request,
            tls: false,
            port: 18081,
            peer: Ipv4Addr::new(127, 0, 0, 6),
            server_name: "10.245.0.2",
            sni: None,
        };
        assert!(answer(&server(), &req).body.contains("\nProto=HTTP/2.0\n"));
    }

    #[test]
    fn codes_and_headers_parameters_shape_the_answer() {
        let request = ArrivedRequest::new("GET", "/?codes=503&headers=x-a:1,x-b:2", "echo");
        let req = AppRequest {
            request: &request,
            tls: true,
            port: 8443,
            peer: Ipv4Addr::new(10, 244, 0, 3),
            server_name: "echo",
            sni: Some("echo.echo.svc.cluster.local"),
        };
        let r = answer(&server(), &req);
        assert_eq!(r.status, 503);
        assert_eq!(r.header("x-a"), Some("1"));
        assert_eq!(r.header("x-b"), Some("2"));
        assert!(r.body.contains("Sni=echo.echo.svc.cluster.local\n"));
        assert_eq!(
            canonical("x-envoy-PEER-metadata-id"),
            "X-Envoy-Peer-Metadata-Id"
        );
    }
}

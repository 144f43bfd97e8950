//! Running a host's application on one HTTP request that got through the host's listener.
//!
//! Owns: `AppRequest` (the request plus what the connection tells the server) and dispatch on `App`,
//! including the whole of `App::Site`. Leaves out: listeners, TLS and virtual hosting (`internet`)
//! and httpbin's endpoints (`httpbin`).

use super::arrival::ArrivedRequest;
use super::host::App;
use super::httpbin;
use crate::outcome::HttpResponse;
use std::net::Ipv4Addr;

/// An HTTP request that reached a host's server, with its connection's facts.
#[derive(Debug, Clone, Copy)]
pub(super) struct AppRequest<'a> {
    pub request: &'a ArrivedRequest,
    /// Whether the connection that reached the host was TLS.
    pub tls: bool,
    pub port: u16,
    pub peer: Ipv4Addr,
    /// The host's primary name (what a server uses when the request carries no `Host`).
    pub server_name: &'a str,
    /// The SNI of the TLS the host terminated, if any.
    pub sni: Option<&'a str>,
}

impl AppRequest<'_> {
    /// The method as servers compare it (upper-case).
    pub(super) fn method(&self) -> String {
        self.request.method.to_ascii_uppercase()
    }
}

/// The app's answer and how long it waits before sending it.
pub(super) fn answer(app: &App, req: &AppRequest<'_>) -> (HttpResponse, u64) {
    match app {
        App::Httpbin => httpbin::serve(req),
        App::Echo(server) => (super::echo::answer(server, req), 0),
        App::Site(site) => {
            let a = site.answer_for(req.port, &req.request.path);
            let mut response = HttpResponse::new(a.status, &a.content_type, a.body.as_str());
            for (name, value) in &a.headers {
                let name = name.to_ascii_lowercase();
                response.headers.retain(|(n, _)| *n != name);
                response.headers.push((name, value.clone()));
            }
            if req.method() == "HEAD" {
                response.body.clear();
            }
            (response, 0)
        }
        App::RedirectToHttps(inner) if req.tls => answer(inner, req),
        App::RedirectToHttps(_) => (to_https(req), 0),
        App::ForwardProxy(server) => match req.request.method.eq_ignore_ascii_case("CONNECT") {
            // The tunnel's answer depends on the destination: the walk and the sockets give it.
            true => (
                super::forward::connect_answer(server, super::forward::TunnelVerdict::Open),
                0,
            ),
            false => (super::forward::not_a_proxy_request(server), 0),
        },
    }
}

/// The `301` a CDN front answers plain HTTP with: the same host and path over HTTPS, no body
/// (the headers edition.cnn.com's Varnish front sends, as Istio's egress tasks print them).
fn to_https(req: &AppRequest<'_>) -> HttpResponse {
    let authority = req.request.authority.as_str();
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = if host.is_empty() {
        req.server_name
    } else {
        host
    };
    HttpResponse {
        version: crate::outcome::HttpVersion::Http11,
        status: 301,
        headers: vec![
            ("server".into(), "Varnish".into()),
            ("retry-after".into(), "0".into()),
            ("content-length".into(), "0".into()),
            (
                "location".into(),
                format!("https://{host}{}", req.request.path),
            ),
        ],
        body: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::host::{Answer, Site};

    fn answer_fn(app: &App, req: &AppRequest<'_>) -> HttpResponse {
        answer(app, req).0
    }

    fn run(app: &App, method: &str) -> HttpResponse {
        let request = ArrivedRequest::new(method, "/any/path?q=1", "example.test");
        let req = AppRequest {
            request: &request,
            tls: false,
            port: 80,
            peer: Ipv4Addr::new(192, 0, 2, 10),
            server_name: "example.test",
            sni: None,
        };
        answer(app, &req).0
    }

    #[test]
    fn fixed_answers_every_method_and_path_alike() {
        let app = App::html_page("<p>hi</p>");
        for method in ["GET", "post", "DELETE"] {
            let r = run(&app, method);
            assert_eq!(r.status, 200);
            assert_eq!(r.body, "<p>hi</p>");
            assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        }
    }

    #[test]
    fn plain_http_is_moved_to_https_and_tls_gets_the_page() {
        let app = App::html_page("<p>hi</p>").https_only();
        let request = ArrivedRequest::new("GET", "/politics?x=1", "edition.cnn.com");
        let mut req = AppRequest {
            request: &request,
            tls: false,
            port: 80,
            peer: Ipv4Addr::new(192, 0, 2, 10),
            server_name: "edition.cnn.com",
            sni: None,
        };
        let (r, _) = answer(&app, &req);
        assert_eq!(r.status, 301);
        assert_eq!(
            r.header("location"),
            Some("https://edition.cnn.com/politics?x=1")
        );
        assert_eq!(r.body, "");
        req.tls = true;
        assert_eq!(answer(&app, &req).0.status, 200);
    }

    #[test]
    fn a_site_answers_by_path_then_port_with_its_headers() {
        let answer = |status: u16, body: &str| Answer {
            status,
            content_type: "text/plain".into(),
            body: body.into(),
            headers: Vec::new(),
        };
        let mut moved = answer(301, "");
        moved
            .headers
            .push(("Location".into(), "https://a.test/new".into()));
        let app = App::Site(Box::new(Site {
            answer: answer(200, "home"),
            by_port: vec![(8080, answer(503, "busy"))],
            by_path: vec![("/old".into(), moved)],
        }));
        let serve = |path: &str, port: u16| {
            let request = ArrivedRequest::new("GET", path, "a.test");
            let req = AppRequest {
                request: &request,
                tls: false,
                port,
                peer: Ipv4Addr::new(192, 0, 2, 10),
                server_name: "a.test",
                sni: None,
            };
            answer_fn(&app, &req)
        };
        assert_eq!(serve("/", 80).body, "home");
        assert_eq!(serve("/x", 8080).status, 503);
        let r = serve("/old/page", 8080);
        assert_eq!(
            (r.status, r.header("location")),
            (301, Some("https://a.test/new"))
        );
    }

    #[test]
    fn fixed_head_keeps_length_drops_body() {
        let r = run(&App::html_page("<p>hi</p>"), "HEAD");
        assert_eq!(r.body, "");
        assert_eq!(r.header("content-length"), Some("9"));
    }
}

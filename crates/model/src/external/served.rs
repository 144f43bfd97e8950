//! What an external host does with one arrival.
//!
//! Owns: `Served`, the answer a TLS listener gives to plain HTTP, and the answer a web server gives
//! to bytes that are not HTTP. Leaves out: turning this into
//! the client's view through the proxies on the way (`answer`).

use crate::outcome::HttpResponse;

/// The host's side of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// An HTTP response, sent after `delay_ms` (non-zero only for httpbin's `/delay/{n}`).
    /// Plain HTTP sent to a TLS port lands here too (`plain_http_to_tls`), and so do bytes that
    /// are not HTTP (`not_http`): web servers answer both with a `400` and close.
    Response {
        response: HttpResponse,
        delay_ms: u64,
    },
    /// Nothing listens on that port.
    Refused,
    /// The connection was reset: TLS spoken to a plain port, or the TLS handshake failed (an SNI the
    /// server does not serve).
    Reset,
    /// The name does not resolve.
    Unresolved,
    /// An address literal where no host lives: the connection attempt goes unanswered.
    NoRoute,
}

impl Served {
    /// A response sent at once.
    pub fn now(response: HttpResponse) -> Self {
        Served::Response {
            response,
            delay_ms: 0,
        }
    }

    pub fn response(&self) -> Option<&HttpResponse> {
        match self {
            Served::Response { response, .. } => Some(response),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.response().map(|r| r.status)
    }
}

/// Body a TLS listener (nginx's wording) sends when a request arrives in plain text.
pub const PLAIN_HTTP_TO_TLS_BODY: &str = "<html>\r\n\
<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n\
<body>\r\n\
<center><h1>400 Bad Request</h1></center>\r\n\
<center>The plain HTTP request was sent to HTTPS port</center>\r\n\
<hr><center>nginx</center>\r\n\
</body>\r\n\
</html>\r\n";

/// The `400` a TLS listener answers to plain HTTP, then closes.
pub fn plain_http_to_tls() -> HttpResponse {
    let mut response = HttpResponse::new(400, "text/html", PLAIN_HTTP_TO_TLS_BODY);
    response
        .headers
        .insert(0, ("server".into(), "nginx".into()));
    response.headers.push(("connection".into(), "close".into()));
    response
}

/// nginx's page for bytes it cannot read as a request.
pub const BAD_REQUEST_BODY: &str = "<html>\r\n\
<head><title>400 Bad Request</title></head>\r\n\
<body>\r\n\
<center><h1>400 Bad Request</h1></center>\r\n\
<hr><center>nginx</center>\r\n\
</body>\r\n\
</html>\r\n";

/// The `400` a web server (nginx's wording) answers to bytes that are not HTTP — a raw TCP
/// stream, or anything but HTTP inside its TLS — before it closes the connection.
pub fn not_http() -> HttpResponse {
    let mut response = HttpResponse::new(400, "text/html", BAD_REQUEST_BODY);
    response
        .headers
        .insert(0, ("server".into(), "nginx".into()));
    response.headers.push(("connection".into(), "close".into()));
    response
}

/// nginx's `400` page for a client certificate its `ssl_verify_client` check did not pass
/// (`None` when it passed); nginx closes the connection after it.
pub(crate) fn client_certificate_page(check: super::tls::ClientCheck) -> Option<HttpResponse> {
    let reason = match check {
        super::tls::ClientCheck::Passed => return None,
        super::tls::ClientCheck::Missing => "No required SSL certificate was sent",
        super::tls::ClientCheck::Unverified => "The SSL certificate error",
    };
    let body = format!(
        "<html>\r\n<head><title>400 {reason}</title></head>\r\n<body>\r\n\
         <center><h1>400 Bad Request</h1></center>\r\n<center>{reason}</center>\r\n\
         <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = HttpResponse::new(400, "text/html", &body);
    response
        .headers
        .insert(0, ("server".into(), "nginx".into()));
    response.headers.push(("connection".into(), "close".into()));
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let s = Served::now(HttpResponse::new(200, "text/plain", "ok"));
        assert_eq!(s.status(), Some(200));
        assert_eq!(s.response().map(|r| r.body.as_str()), Some("ok"));
        assert_eq!(Served::Reset.status(), None);
        assert!(Served::Refused.response().is_none());
    }

    #[test]
    fn plain_http_to_tls_is_nginx_400() {
        let r = plain_http_to_tls();
        assert_eq!(r.status, 400);
        assert!(r
            .body
            .contains("The plain HTTP request was sent to HTTPS port"));
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert_eq!(
            r.header("content-length"),
            Some(PLAIN_HTTP_TO_TLS_BODY.len().to_string().as_str())
        );
        assert_eq!(r.header("connection"), Some("close"));
    }

    #[test]
    fn not_http_is_nginx_bad_request() {
        let r = not_http();
        assert_eq!(r.status, 400);
        assert!(r.body.contains("<title>400 Bad Request</title>"));
        assert_eq!(r.header("content-length"), Some("150"));
        assert_eq!(r.header("connection"), Some("close"));
    }
}

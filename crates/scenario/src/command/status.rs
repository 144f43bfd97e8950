//! HTTP status lines as the client receives them.
//!
//! Owns: the status line and header lines of a response (`head_lines`), and the reason phrase after
//! the status code. Plain-HTTP responses reach curl through the
//! client's sidecar, whose HTTP/1.1 encoder writes Envoy's own phrase for each code (and
//! `Unknown` for codes it has no name for, 418 among them), so the table is Envoy's. Leaves out:
//! the HTTP version (always `HTTP/1.1`: responses carry no version to say otherwise).

use egressbench_model::outcome::HttpResponse;

/// The reason phrase Envoy writes for `status`.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// `HTTP/1.1 200 OK`, without the line end.
pub(crate) fn status_line(status: u16) -> String {
    format!("HTTP/1.1 {status} {}", reason_phrase(status))
}

/// The response's head as curl receives it, one entry per line without its CRLF: the status line,
/// then `name: value` for each header.
pub(crate) fn head_lines(response: &HttpResponse) -> Vec<String> {
    let first = match response.version {
        // curl prints an HTTP/2 status line without a reason phrase.
        egressbench_model::outcome::HttpVersion::Http2 => format!("HTTP/2 {}", response.status),
        egressbench_model::outcome::HttpVersion::Http11 => status_line(response.status),
    };
    std::iter::once(first)
        .chain(response.headers.iter().map(|(k, v)| format!("{k}: {v}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_lines_list_status_then_headers() {
        let r = HttpResponse::new(403, "text/plain", "RBAC: access denied");
        assert_eq!(
            head_lines(&r),
            [
                "HTTP/1.1 403 Forbidden",
                "content-type: text/plain",
                "content-length: 19"
            ]
        );
    }

    #[test]
    fn common_codes() {
        for (code, line) in [
            (200, "HTTP/1.1 200 OK"),
            (301, "HTTP/1.1 301 Moved Permanently"),
            (302, "HTTP/1.1 302 Found"),
            (400, "HTTP/1.1 400 Bad Request"),
            (403, "HTTP/1.1 403 Forbidden"),
            (404, "HTTP/1.1 404 Not Found"),
            (405, "HTTP/1.1 405 Method Not Allowed"),
            (500, "HTTP/1.1 500 Internal Server Error"),
            (502, "HTTP/1.1 502 Bad Gateway"),
            (503, "HTTP/1.1 503 Service Unavailable"),
            (504, "HTTP/1.1 504 Gateway Timeout"),
        ] {
            assert_eq!(status_line(code), line);
        }
    }

    #[test]
    fn codes_envoy_cannot_name_are_unknown() {
        assert_eq!(status_line(418), "HTTP/1.1 418 Unknown");
        assert_eq!(status_line(599), "HTTP/1.1 599 Unknown");
    }
}

//! httpbin's fixed responses: the index page, the framework's error pages, and `/status/{code}`.
//!
//! Owns: the texts and headers of these responses, and how a status code shapes a response's entity
//! headers (no `content-length` for 1xx and 204; neither `content-type` nor `content-length` for 304
//! and 412). Leaves out: routing and the headers every httpbin response gets (`httpbin`).

use crate::outcome::HttpResponse;

/// Content type of the framework's default (non-JSON) responses.
const HTML_UTF8: &str = "text/html; charset=utf-8";

const INDEX_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">\n\
<title>httpbin.org</title>\n</head>\n<body>\n<h2>httpbin.org</h2>\n\
<p>A simple HTTP Request &amp; Response Service.</p>\n</body>\n</html>\n";

/// The body of `/status/418`, as httpbin sends it.
pub(super) const TEAPOT: &str = "\n    -=[ teapot ]=-\n\n       _...._\n     .'  _ _ `.\n    \
| .\"` ^ `\". _,\n    \\_;`\"---\"`|//\n      |       ;/\n      \\_     _/\n        `\"\"\"`\n";

const ACCEPTED_MEDIA: &str = "{\"message\": \"Client did not request a supported media type.\", \
\"accept\": [\"image/webp\", \"image/svg+xml\", \"image/jpeg\", \"image/png\", \"image/*\"]}";

/// A response with the entity headers the status allows.
pub(super) fn response(
    status: u16,
    content_type: Option<&str>,
    body: &str,
    extra: &[(&str, &str)],
) -> HttpResponse {
    let no_entity = matches!(status, 304 | 412);
    let no_length = no_entity || status == 204 || (100..200).contains(&status);
    let mut headers = Vec::new();
    if let Some(content_type) = content_type.filter(|_| !no_entity) {
        headers.push(("content-type".to_string(), content_type.to_string()));
    }
    if !no_length {
        headers.push(("content-length".to_string(), body.len().to_string()));
    }
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    HttpResponse {
        version: Default::default(),
        status,
        headers,
        body: body.to_string(),
    }
}

/// `GET /`.
pub(super) fn index() -> HttpResponse {
    response(200, Some(HTML_UTF8), INDEX_PAGE, &[])
}

/// The framework's HTML error page for 404, 405 (with `allow`) or 500.
pub(super) fn error(status: u16, allow: Option<&str>) -> HttpResponse {
    let (name, text) = match status {
        404 => (
            "Not Found",
            "The requested URL was not found on the server.  If you entered the URL manually please \
             check your spelling and try again.",
        ),
        405 => ("Method Not Allowed", "The method is not allowed for the requested URL."),
        _ => (
            "Internal Server Error",
            "The server encountered an internal error and was unable to complete your request.  \
             Either the server is overloaded or there is an error in the application.",
        ),
    };
    let status = if matches!(status, 404 | 405) {
        status
    } else {
        500
    };
    let body = format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<title>{status} {name}</title>\n\
         <h1>{name}</h1>\n<p>{text}</p>\n"
    );
    let allow: Vec<(&str, &str)> = allow.map(|a| ("allow", a)).into_iter().collect();
    response(status, Some("text/html"), &body, &allow)
}

/// `400 Invalid status code`, for `/status/{codes}` that do not parse.
pub(super) fn invalid_status() -> HttpResponse {
    response(400, Some(HTML_UTF8), "Invalid status code", &[])
}

/// httpbin's answer for one status code: empty, except for the codes it decorates (redirects, auth
/// challenges, 402, 406, 418), whose extra headers replace the default content type.
pub(super) fn status(code: u16) -> HttpResponse {
    let realm = "Basic realm=\"Fake Realm\"";
    match code {
        301 | 302 | 303 | 305 | 307 => response(code, None, "", &[("location", "/redirect/1")]),
        401 => response(code, None, "", &[("www-authenticate", realm)]),
        402 => response(
            code,
            None,
            "Fuck you, pay me!",
            &[("x-more-info", "http://vimeo.com/22053820")],
        ),
        406 => response(code, Some("application/json"), ACCEPTED_MEDIA, &[]),
        407 => response(code, None, "", &[("proxy-authenticate", realm)]),
        418 => response(
            code,
            None,
            TEAPOT,
            &[("x-more-info", "http://tools.ietf.org/html/rfc2324")],
        ),
        _ => response(code, Some(HTML_UTF8), "", &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teapot_art_is_the_one_httpbin_sends() {
        let lines: Vec<&str> = TEAPOT.lines().collect();
        assert_eq!(
            lines,
            [
                "",
                "    -=[ teapot ]=-",
                "",
                "       _...._",
                "     .'  _ _ `.",
                "    | .\"` ^ `\". _,",
                "    \\_;`\"---\"`|//",
                "      |       ;/",
                "      \\_     _/",
                "        `\"\"\"`",
            ]
        );
        assert!(TEAPOT.ends_with("`\n"));
        let r = status(418);
        assert_eq!(r.body, TEAPOT);
        assert_eq!(r.header("content-type"), None);
        assert_eq!(
            r.header("x-more-info"),
            Some("http://tools.ietf.org/html/rfc2324")
        );
        assert_eq!(
            r.header("content-length"),
            Some(TEAPOT.len().to_string().as_str())
        );
    }

    #[test]
    fn plain_codes_are_empty_html() {
        let r = status(503);
        assert_eq!((r.status, r.body.as_str()), (503, ""));
        assert_eq!(r.header("content-type"), Some(HTML_UTF8));
        assert_eq!(r.header("content-length"), Some("0"));
    }

    #[test]
    fn decorated_codes() {
        assert_eq!(status(302).header("location"), Some("/redirect/1"));
        assert_eq!(
            status(401).header("www-authenticate"),
            Some("Basic realm=\"Fake Realm\"")
        );
        assert_eq!(
            status(407).header("proxy-authenticate"),
            Some("Basic realm=\"Fake Realm\"")
        );
        assert_eq!(status(402).body, "Fuck you, pay me!");
        let r = status(406);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let parsed: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        assert_eq!(parsed["accept"][0], "image/webp");
    }

    #[test]
    fn entity_headers_follow_the_status() {
        let r = status(204);
        assert_eq!(r.header("content-length"), None);
        assert_eq!(r.header("content-type"), Some(HTML_UTF8));
        let r = status(304);
        assert!(r.headers.is_empty());
        assert_eq!(status(100).header("content-length"), None);
    }

    #[test]
    fn error_pages() {
        let r = error(404, None);
        assert_eq!(r.status, 404);
        assert!(r.body.starts_with("<!DOCTYPE HTML PUBLIC"));
        assert!(r.body.contains("<title>404 Not Found</title>"));
        assert_eq!(r.header("content-type"), Some("text/html"));
        let r = error(405, Some("GET, HEAD, OPTIONS"));
        assert!(r.body.contains("<h1>Method Not Allowed</h1>"));
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
        let r = error(999, None);
        assert_eq!(r.status, 500);
        assert!(r.body.contains("Internal Server Error"));
        assert_eq!(index().status, 200);
        assert_eq!(invalid_status().body, "Invalid status code");
    }
}

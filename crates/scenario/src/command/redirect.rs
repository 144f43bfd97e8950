//! Following a redirect as `curl -L` does: which responses it follows, and the next request.
//!
//! Owns: the statuses followed (301, 302, 303, 307, 308 with a `Location`), the `Location` read
//! against the current URL (absolute, scheme-relative, absolute path, relative path), the method
//! and body of the next request (a POST made by `-d` becomes a GET without its body after 301,
//! 302 and 303, as curl does without `--post30x`; 303 turns anything but HEAD into GET unless
//! `-X` set the method; 307 and 308 keep both), the headers kept (the `-H 'Host: …'` is dropped
//! when the host changes; the credentials, `Authorization` and `Cookie`, go only to the first URL's
//! scheme, host and port, as curl 7.83 and later send them) and the connection pins re-applied to
//! the new host. Leaves out: how many redirects are allowed, the time they may take and what curl
//! prints (`transfer`, `output`).

use super::curl::CurlOptions;
use super::dial::dial_for;
use super::headers::H2C_UPGRADE;
use super::url::parse_url;
use egressbench_model::outcome::HttpResponse;
use egressbench_model::request::{ClientRequest, Scheme};

/// Statuses `-L` follows when a `Location` comes with them.
const FOLLOWED: [u16; 5] = [301, 302, 303, 307, 308];

/// Headers curl does not send to another host than the one the user named.
const CREDENTIALS: [&str; 2] = ["authorization", "cookie"];

/// Why a redirect could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unfollowable {
    /// The `Location` is a URL curl cannot use here: curl's exit code and message.
    BadLocation(i32, String),
}

/// The request `-L` makes next after `response` to `request` (`first`: the transfer's first
/// request), if it follows one.
pub(crate) fn next_request(
    o: &CurlOptions,
    first: &ClientRequest,
    request: &ClientRequest,
    response: &HttpResponse,
) -> Option<Result<ClientRequest, Unfollowable>> {
    if !FOLLOWED.contains(&response.status) {
        return None;
    }
    let location = response.header("location")?.trim();
    Some(follow(o, first, request, response.status, location))
}

fn follow(
    o: &CurlOptions,
    first: &ClientRequest,
    request: &ClientRequest,
    status: u16,
    location: &str,
) -> Result<ClientRequest, Unfollowable> {
    let absolute = absolute_url(request, location);
    let url = parse_url(&absolute, true).map_err(|e| {
        let scheme = absolute.split_once("://").map_or("", |(s, _)| s);
        if !scheme.is_empty() && !matches!(scheme, "http" | "https") {
            Unfollowable::BadLocation(1, format!("Protocol \"{scheme}\" not supported"))
        } else {
            Unfollowable::BadLocation(3, format!("URL rejected: {e}"))
        }
    })?;
    let mut next = request.clone();
    let same_host = url.host == request.host;
    next.scheme = url.scheme;
    next.host = url.host;
    next.port = url.port;
    next.path = url.path;
    next.dial = dial_for(&o.resolve, &o.connect_to, &next.host, next.port);
    // `--http2` asks for an upgrade in plain HTTP only.
    if o.http2 && next.scheme != request.scheme {
        let upgrade = |name: &str| {
            H2C_UPGRADE
                .iter()
                .any(|(u, _)| u.eq_ignore_ascii_case(name))
        };
        next.headers.retain(|(name, _)| !upgrade(name));
        if next.scheme == Scheme::Http {
            next.headers
                .extend(H2C_UPGRADE.map(|(n, v)| (n.to_string(), v.to_string())));
        }
    }
    if !same_host {
        next.host_header = None;
    }
    let first_origin = (next.scheme, next.host.as_str(), next.port)
        == (first.scheme, first.host.as_str(), first.port);
    if !first_origin {
        next.headers
            .retain(|(name, _)| !CREDENTIALS.contains(&name.to_ascii_lowercase().as_str()));
    }
    let to_get = match status {
        301 | 302 => o.method.is_none() && request.method.eq_ignore_ascii_case("POST"),
        303 => o.method.is_none() && !request.method.eq_ignore_ascii_case("HEAD"),
        _ => false,
    };
    if to_get {
        next.method = "GET".into();
        next.body = None;
        next.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case("content-type")
                && !name.eq_ignore_ascii_case("content-length")
        });
    }
    Ok(next)
}

/// Whether `location` starts with a scheme (`http:`, `ftp:`…): RFC 3986's `ALPHA *( ALPHA /
/// DIGIT / "+" / "-" / "." ) ":"`, before any `/`, `?` or `#`.
fn has_scheme(location: &str) -> bool {
    let head = location.split(['/', '?', '#']).next().unwrap_or_default();
    match head.split_once(':') {
        Some((scheme, _)) => {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `location` read against the URL of `request`, as an absolute URL (RFC 3986 §5.2; the dot
/// segments are removed when the URL is read).
pub(crate) fn absolute_url(request: &ClientRequest, location: &str) -> String {
    if has_scheme(location) {
        return location.to_string();
    }
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{}://{rest}", request.scheme);
    }
    let base = format!("{}://{}", request.scheme, request.url_authority());
    let path = request.path.split(['?', '#']).next().unwrap_or("/");
    match location.chars().next() {
        Some('/') => format!("{base}{location}"),
        None | Some('#') => format!("{base}{}", request.path.split('#').next().unwrap_or("/")),
        Some('?') => format!("{base}{path}{location}"),
        Some(_) => {
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            let dir = if dir.is_empty() { "/" } else { dir };
            format!("{base}{dir}{location}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::headers::build_request;
    use crate::command::words::split_words;

    fn options(line: &str) -> CurlOptions {
        CurlOptions::parse(&split_words(line).unwrap()[1..]).unwrap()
    }

    fn redirect(status: u16, location: &str) -> HttpResponse {
        let mut r = HttpResponse::new(status, "text/html", "moved");
        r.headers.push(("location".into(), location.into()));
        r
    }

    fn next(line: &str, status: u16, location: &str) -> Option<ClientRequest> {
        let o = options(line);
        let req = build_request(&o).unwrap();
        next_request(&o, &req, &req, &redirect(status, location)).map(|r| r.unwrap())
    }

    #[test]
    fn locations_are_read_against_the_current_url() {
        let at = |loc: &str| {
            next("curl -L http://a.test/x/y?q=1", 302, loc)
                .unwrap()
                .url()
        };
        assert_eq!(at("https://b.test/z"), "https://b.test/z");
        assert_eq!(at("//c.test/w"), "http://c.test/w");
        assert_eq!(at("/top"), "http://a.test/top");
        assert_eq!(at("sibling"), "http://a.test/x/sibling");
        assert_eq!(at("../up"), "http://a.test/up");
        assert_eq!(at("?page=2"), "http://a.test/x/y?page=2");
        assert_eq!(
            at("/login?next=http://b.test/"),
            "http://a.test/login?next=http://b.test/"
        );
        assert_eq!(at("HTTPS://b.test/"), "https://b.test/");
        let r = next(
            "curl -L http://edition.cnn.com/politics",
            301,
            "https://edition.cnn.com/politics",
        )
        .unwrap();
        assert_eq!(
            (r.url(), r.port),
            ("https://edition.cnn.com/politics".into(), 443)
        );
    }

    #[test]
    fn only_redirects_with_a_location_are_followed() {
        assert!(next("curl -L http://a.test/", 200, "/x").is_none());
        assert!(next("curl -L http://a.test/", 304, "/x").is_none());
        let o = options("curl -L http://a.test/");
        let req = build_request(&o).unwrap();
        assert!(next_request(&o, &req, &req, &HttpResponse::new(302, "", "")).is_none());
    }

    #[test]
    fn the_h2c_upgrade_goes_with_plain_http_only() {
        let line = "curl -L --http2 http://edition.cnn.com/politics";
        let to_tls = next(line, 301, "https://edition.cnn.com/politics").unwrap();
        assert_eq!(to_tls.header("upgrade"), None);
        assert_eq!(to_tls.header("http2-settings"), None);
        let line = "curl -L --http2 https://a.test/";
        let to_plain = next(line, 302, "http://b.test/").unwrap();
        assert_eq!(to_plain.header("upgrade"), Some("h2c"));
        let same = next("curl -L --http2 http://a.test/x", 302, "/y").unwrap();
        assert_eq!(
            same.headers.iter().filter(|(n, _)| n == "Upgrade").count(),
            1
        );
    }

    #[test]
    fn post_becomes_get_as_curl_does() {
        for status in [301, 302, 303] {
            let r = next("curl -L -d a=1 http://a.test/", status, "/b").unwrap();
            assert_eq!(
                (r.method.as_str(), r.body.as_deref()),
                ("GET", None),
                "{status}"
            );
            assert!(r.header("content-type").is_none());
        }
        for status in [307, 308] {
            let r = next("curl -L -d a=1 http://a.test/", status, "/b").unwrap();
            assert_eq!(
                (r.method.as_str(), r.body.as_deref()),
                ("POST", Some("a=1"))
            );
        }
        assert_eq!(
            next("curl -L -X PUT -d a http://a.test/", 303, "/b")
                .unwrap()
                .method,
            "PUT"
        );
        assert_eq!(
            next("curl -LI http://a.test/", 303, "/b").unwrap().method,
            "HEAD"
        );
        assert_eq!(
            next("curl -L -X DELETE http://a.test/", 303, "/b")
                .unwrap()
                .method,
            "DELETE"
        );
        assert_eq!(
            next("curl -L -X DELETE http://a.test/", 301, "/b")
                .unwrap()
                .method,
            "DELETE"
        );
    }

    #[test]
    fn credentials_and_host_stay_with_the_first_host() {
        let line = "curl -L -H 'Authorization: Bearer t' -H 'Cookie: c=1' -H 'Host: x.test' -H 'X-A: 1' http://a.test/";
        let same = next(line, 302, "/b").unwrap();
        assert!(same.header("authorization").is_some() && same.host_header.is_some());
        let other = next(line, 302, "http://b.test/").unwrap();
        assert!(other.header("authorization").is_none() && other.header("cookie").is_none());
        assert_eq!(other.host_header, None);
        assert_eq!(other.header("x-a"), Some("1"));
        // The same host over HTTPS is another origin: curl keeps the token from it.
        let upgraded = next(line, 301, "https://a.test/").unwrap();
        assert!(upgraded.header("authorization").is_none());
        assert!(upgraded.host_header.is_some());
    }

    #[test]
    fn pins_follow_the_new_host() {
        let r = next(
            "curl -L --resolve b.test:443:10.0.0.2 http://a.test/",
            301,
            "https://b.test/",
        )
        .unwrap();
        assert_eq!((r.dial_host(), r.dial_port()), ("10.0.0.2", 443));
    }

    #[test]
    fn unusable_locations_are_curl_errors() {
        let o = options("curl -L http://a.test/");
        let req = build_request(&o).unwrap();
        let e = next_request(&o, &req, &req, &redirect(302, "ftp://a.test/f")).unwrap();
        assert!(matches!(e, Err(Unfollowable::BadLocation(1, m)) if m.contains("ftp")));
    }
}

//! The request curl sends for a set of options: method, headers in curl 8.5's order, body.
//!
//! Owns: `Data` (request bodies joined as curl joins them: `&` between `-d` parts, nothing between
//! `--json` parts), `-H` syntax (`Name: value`, `Name:` removes a header curl would add, `Name;`
//! sends it empty), the header list (`User-Agent: curl/8.5.0`, `Accept: */*`, `--http2`'s
//! `Upgrade: h2c` and its two companions over plain HTTP, the `-H` ones,
//! `--json`'s two, then `Content-Length` and the form Content-Type for a body) and `build_request`.
//! Leaves out: reading flags (`curl`) and the URL grammar (`url`).

use super::curl::CurlOptions;
use super::dial::dial_for;
use super::error::CommandError;
use super::url::parse_url;
use egressbench_model::request::ClientRequest;

/// The User-Agent curl 8.5.0 sends unless told otherwise.
pub(crate) const USER_AGENT: &str = "curl/8.5.0";

/// What `--http2` adds to a plain-HTTP request, after `Accept` (curl 8.5): the ask to upgrade
/// the connection to HTTP/2, with curl's HTTP/2 settings (100 streams, a 10 MiB window, no push).
pub(crate) const H2C_UPGRADE: [(&str, &str); 3] = [
    ("Connection", "Upgrade, HTTP2-Settings"),
    ("Upgrade", "h2c"),
    ("HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"),
];

/// A request body from `-d`/`--data-raw`/`--data-binary`/`--json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Data {
    pub body: Option<String>,
    /// `--json` was used: JSON Content-Type and Accept, parts joined without `&`.
    pub json: bool,
}

impl Data {
    pub fn push(&mut self, part: &str, json: bool) {
        self.json |= json;
        match &mut self.body {
            None => self.body = Some(part.to_string()),
            Some(b) => {
                if !json {
                    b.push('&');
                }
                b.push_str(part);
            }
        }
    }
}

/// Check one `-H` argument; the error says what is wrong with it.
pub(crate) fn check_header(raw: &str) -> Result<(), String> {
    if raw.starts_with('@') {
        return Err(
            "reading headers from a file (@FILE) is not supported; write each as -H 'Name: value'"
                .into(),
        );
    }
    let Some(h) = custom(raw) else {
        return Err(
            "a header written as `Name: value` (or `Name:` to drop one curl adds, `Name;` to send \
             it empty); curl silently drops anything else"
                .into(),
        );
    };
    if h.name.is_empty() || h.name.contains(char::is_whitespace) {
        return Err("the header name must be a single word before the `:`".into());
    }
    if h.name.eq_ignore_ascii_case("host") && h.value.is_none_or(str::is_empty) {
        return Err(
            "a Host header with a value, such as `Host: httpbin.org`; sending no Host (or an \
             empty one) is not supported"
                .into(),
        );
    }
    Ok(())
}

/// A parsed `-H`: its name and value, `None` when it only removes curl's own header.
struct Custom<'a> {
    name: &'a str,
    value: Option<&'a str>,
}

fn custom(raw: &str) -> Option<Custom<'_>> {
    let sep = raw.find([':', ';'])?;
    let name = &raw[..sep];
    let rest = raw[sep + 1..].trim_start();
    let value = match raw.as_bytes()[sep] {
        b';' => Some(""),
        _ if rest.is_empty() => None,
        _ => Some(rest),
    };
    Some(Custom { name, value })
}

/// The headers curl sends after `Host`, in order. `Content-Length` (for a body) is included only
/// when `with_content_length`: a request value leaves it out, since it follows from the body.
pub(crate) fn request_headers(o: &CurlOptions, with_content_length: bool) -> Vec<(String, String)> {
    let mut customs: Vec<Custom<'_>> = o.headers.iter().filter_map(|h| custom(h)).collect();
    let has = |customs: &[Custom<'_>], name: &str| {
        customs.iter().any(|c| c.name.eq_ignore_ascii_case(name))
    };
    if o.data.json {
        for (name, value) in [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ] {
            if !has(&customs, name) {
                customs.push(Custom {
                    name,
                    value: Some(value),
                });
            }
        }
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, value: &str| out.push((name.to_string(), value.to_string()));
    if !has(&customs, "User-Agent") {
        match o.user_agent.as_deref() {
            Some("") => {}
            Some(ua) => add("User-Agent", ua),
            None => add("User-Agent", USER_AGENT),
        }
    }
    if !has(&customs, "Accept") {
        add("Accept", "*/*");
    }
    if o.http2
        && !o
            .url
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("https://")
    {
        for (name, value) in H2C_UPGRADE {
            add(name, value);
        }
    }
    for c in customs
        .iter()
        .filter(|c| !c.name.eq_ignore_ascii_case("host"))
    {
        if let Some(v) = c.value {
            add(c.name, v);
        }
    }
    if let Some(body) = &o.data.body {
        if with_content_length && !has(&customs, "Content-Length") {
            add("Content-Length", &body.len().to_string());
        }
        if !has(&customs, "Content-Type") {
            add("Content-Type", "application/x-www-form-urlencoded");
        }
    }
    out
}

/// The method curl uses: `-X` as written, else HEAD for `-I`, POST for a body, GET.
pub(crate) fn method(o: &CurlOptions) -> String {
    match (&o.method, o.head, &o.data.body) {
        (Some(m), _, _) => m.clone(),
        (None, true, _) => "HEAD".into(),
        (None, false, Some(_)) => "POST".into(),
        (None, false, None) => "GET".into(),
    }
}

/// The request a parsed curl command sends.
pub(crate) fn build_request(o: &CurlOptions) -> Result<ClientRequest, CommandError> {
    let url = parse_url(&o.url, o.globoff)?;
    Ok(ClientRequest {
        dial: dial_for(&o.resolve, &o.connect_to, &url.host, url.port),
        scheme: url.scheme,
        host: url.host,
        port: url.port,
        method: method(o),
        path: url.path,
        headers: request_headers(o, false),
        body: o.data.body.clone(),
        timeout_ms: o.max_time_ms,
        host_header: host_header(o),
        from_proxy_container: false,
        http: o.http,
        proxy: o.forward_proxy()?,
        tls: o.tls.clone(),
    })
}

/// The `-H 'Host: …'` value (curl uses the first one given), if any.
fn host_header(o: &CurlOptions) -> Option<String> {
    o.headers
        .iter()
        .filter_map(|h| custom(h))
        .filter(|c| c.name.eq_ignore_ascii_case("host"))
        .find_map(|c| c.value)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::words::split_words;
    use egressbench_model::request::{ClientHttp, Scheme};

    fn options(line: &str) -> CurlOptions {
        CurlOptions::parse(&split_words(line).unwrap()[1..]).unwrap()
    }

    fn request(line: &str) -> ClientRequest {
        build_request(&options(line)).unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn http2_over_plain_http_asks_for_an_h2c_upgrade_after_accept() {
        let r = request("curl --http2 -H 'X-A: 1' http://httpbin.org/headers");
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "User-Agent",
                "Accept",
                "Connection",
                "Upgrade",
                "HTTP2-Settings",
                "X-A"
            ]
        );
        assert_eq!(r.header("upgrade"), Some("h2c"));
        assert_eq!(r.http, ClientHttp::Negotiate);
        // Over TLS, ALPN negotiates HTTP/2: no upgrade is asked for.
        assert_eq!(
            request("curl --http2 https://httpbin.org").header("upgrade"),
            None
        );
        let r = request("curl --http2-prior-knowledge http://httpbin.org");
        assert_eq!(
            (r.http, r.header("upgrade")),
            (ClientHttp::H2PriorKnowledge, None)
        );
    }

    #[test]
    fn a_plain_get_carries_curls_headers() {
        let r = request(r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#);
        assert_eq!(
            r,
            ClientRequest {
                scheme: Scheme::Http,
                host: "www.httpbin.org".into(),
                port: 80,
                method: "GET".into(),
                path: "/".into(),
                headers: pairs(&[("User-Agent", "curl/8.5.0"), ("Accept", "*/*")]),
                body: None,
                timeout_ms: None,
                host_header: None,
                dial: None,
                from_proxy_container: false,
                http: ClientHttp::Negotiate,
                proxy: None,
                tls: Default::default(),
            }
        );
    }

    #[test]
    fn head_and_explicit_methods() {
        assert_eq!(request("curl -sSI https://www.google.com").method, "HEAD");
        assert_eq!(request("curl -X DELETE http://a/x").method, "DELETE");
        assert_eq!(request("curl -X PUT -d a http://a").method, "PUT");
    }

    #[test]
    fn data_posts_a_form() {
        let r = request(r#"curl -X POST -H "x: y" -d '{}' http://httpbin.org/post"#);
        assert_eq!(r.method, "POST");
        assert_eq!(r.body.as_deref(), Some("{}"));
        assert_eq!(
            r.headers,
            pairs(&[
                ("User-Agent", "curl/8.5.0"),
                ("Accept", "*/*"),
                ("x", "y"),
                ("Content-Type", "application/x-www-form-urlencoded")
            ])
        );
        let with_length = request_headers(&options("curl -d ab http://a"), true);
        assert_eq!(with_length[2], ("Content-Length".into(), "2".into()));
        assert_eq!(with_length[3].0, "Content-Type");
    }

    #[test]
    fn json_sets_its_headers_after_custom_ones() {
        let r = request(r#"curl --json '{"a":1}' -H 'x: 1' http://a"#);
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.headers,
            pairs(&[
                ("User-Agent", "curl/8.5.0"),
                ("x", "1"),
                ("Content-Type", "application/json"),
                ("Accept", "application/json")
            ])
        );
        let r = request(r#"curl --json '{}' -H 'Accept: text/plain' http://a"#);
        assert_eq!(r.header("accept"), Some("text/plain"));
    }

    #[test]
    fn custom_headers_replace_and_remove_curls_own() {
        let r = request("curl -H 'Accept: text/html' -H 'User-Agent:' -H 'X-Empty;' http://a");
        assert_eq!(
            r.headers,
            pairs(&[("Accept", "text/html"), ("X-Empty", "")])
        );
        let r = request("curl -d a -H 'Content-Type: text/plain' http://a");
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.headers.len(), 3);
    }

    #[test]
    fn user_agent_flag() {
        assert_eq!(
            request("curl -A bench/1 http://a").header("user-agent"),
            Some("bench/1")
        );
        assert_eq!(request("curl -A '' http://a").header("user-agent"), None);
    }

    #[test]
    fn timeouts_reach_the_request() {
        assert_eq!(request("curl -m 5 http://a").timeout_ms, Some(5000));
        assert_eq!(request("curl -m 0.5 http://a").timeout_ms, Some(500));
        assert_eq!(
            request("curl --connect-timeout 2 http://a").timeout_ms,
            None
        );
    }

    #[test]
    fn host_header_and_connection_pins_change_where_and_what_not_the_url() {
        let r = request(
            "curl -H 'Host: httpbin.example.com' -H 'Host: second' --resolve \
             httpbin.example.com:80:10.0.0.1 --connect-to ::gateway.test:8080 http://httpbin.example.com/x",
        );
        assert_eq!(r.host_header.as_deref(), Some("httpbin.example.com"));
        assert!(r
            .headers
            .iter()
            .all(|(n, _)| !n.eq_ignore_ascii_case("host")));
        assert_eq!(r.url(), "http://httpbin.example.com/x");
        let dial = r.dial.unwrap();
        assert_eq!((dial.host.as_str(), dial.port), ("gateway.test", 8080));
        let r =
            request("curl --resolve httpbin.example.com:80:10.0.0.1 http://httpbin.example.com/");
        assert_eq!(r.dial_host(), "10.0.0.1");
        assert_eq!(r.authority(), "httpbin.example.com");
    }

    #[test]
    fn bad_headers_are_explained() {
        assert!(check_header("novalue").unwrap_err().contains("Name: value"));
        assert!(check_header("Host:").unwrap_err().contains("with a value"));
        assert!(check_header("Host: other").is_ok());
        assert!(check_header(": x").unwrap_err().contains("single word"));
        assert!(check_header("@headers.txt").unwrap_err().contains("@FILE"));
        assert!(check_header("X-A: 1").is_ok());
    }
}

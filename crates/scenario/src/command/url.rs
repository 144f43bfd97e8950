//! The URL on a curl command line, read as curl 8 reads it.
//!
//! Owns: scheme (http/https; none written means http, as curl guesses), host (lowercased; DNS
//! names and IPv4 literals), port (explicit or the scheme's default), path with its query (`/` when
//! absent, dot segments removed as curl does, fragment dropped since curl never sends it), and the
//! refusal of what the bench cannot follow: other schemes, user:password@, IPv6 literals, curl's
//! `[1-3]`/`{a,b}` globbing, the pod's own loopback (`localhost`, `127.x`). Leaves out: the request built from it (`curl`).

use super::error::CommandError;
use egressbench_model::request::Scheme;

/// Where a curl URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

/// Host prefixes for which curl guesses a scheme other than http when none is written.
const GUESSED_SCHEMES: [(&str, &str); 6] = [
    ("ftp.", "ftp"),
    ("dict.", "dict"),
    ("ldap.", "ldap"),
    ("imap.", "imap"),
    ("smtp.", "smtp"),
    ("pop3.", "pop3"),
];

/// Parse a URL as it stands on a curl command line. `globoff` is curl's `-g`.
pub(crate) fn parse_url(raw: &str, globoff: bool) -> Result<Url, CommandError> {
    let fail = |reason: &str| CommandError::Url {
        url: raw.to_string(),
        reason: reason.to_string(),
    };
    if raw.is_empty() {
        return Err(fail(
            "the URL is empty; write http://HOST/PATH or https://HOST/PATH",
        ));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(fail(
            "it contains whitespace, which curl rejects; percent-encode it (%20)",
        ));
    }
    if !raw.is_ascii() {
        return Err(fail(
            "it contains non-ASCII characters; percent-encode them",
        ));
    }
    let (scheme, rest) = split_scheme(raw).map_err(|r| fail(&r))?;
    if rest.starts_with('[') {
        return Err(fail(
            "IPv6 address literals are not supported; use a host name or an IPv4 address",
        ));
    }
    if !globoff && raw.contains(['[', ']', '{', '}']) {
        return Err(fail(
            "curl expands [..] and {..} in URLs into several requests, and the bench replays one; \
             percent-encode the brackets or add -g (--globoff)",
        ));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host, port) = split_authority(authority, scheme).map_err(|r| fail(&r))?;
    if host == "localhost" || host.starts_with("127.") {
        return Err(fail(&format!(
            "the pod's own loopback is not replayed as a destination: only the proxy's admin pages \
             are, read as the whole command after `kubectl exec … --` (curl -s \
             localhost:{}/clusters or /stats, optionally piped into filters)",
            super::admin::ADMIN_PORT
        )));
    }
    Ok(Url {
        scheme,
        host,
        port,
        path: path_and_query(tail),
    })
}

fn split_scheme(raw: &str) -> Result<(Scheme, &str), String> {
    if let Some((scheme, rest)) = raw.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "http" => Ok((Scheme::Http, rest)),
            "https" => Ok((Scheme::Https, rest)),
            other => Err(format!(
                "scheme `{other}` is not supported; the bench replays http:// and https:// requests"
            )),
        };
    }
    let lower = raw.to_ascii_lowercase();
    if let Some((prefix, guessed)) = GUESSED_SCHEMES.iter().find(|(p, _)| lower.starts_with(p)) {
        return Err(format!(
            "with no scheme written, curl guesses {guessed}:// for hosts starting with `{prefix}`; \
             write http:// or https:// explicitly"
        ));
    }
    Ok((Scheme::Http, raw))
}

fn split_authority(authority: &str, scheme: Scheme) -> Result<(String, u16), String> {
    if authority.contains('@') {
        return Err(
            "user:password@ in the URL is not supported; the bench sends no credentials".into(),
        );
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err("the host is missing; write http://HOST/PATH".into());
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "the host contains `{bad}`; hosts are DNS names or IPv4 addresses (letters, digits, \
             `-`, `.`, `_`)"
        ));
    }
    let port = match port {
        None | Some("") => scheme.default_port(),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("port `{p}` is not a number from 1 to 65535")),
        },
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Path and query as curl sends them: fragment dropped, `/` when empty, dot segments removed.
fn path_and_query(tail: &str) -> String {
    let tail = tail.split('#').next().unwrap_or_default();
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut out = remove_dot_segments(path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// RFC 3986 section 5.2.4, applied to an absolute path (or an empty one, which becomes `/`).
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                kept.pop();
                trailing_slash = i == last;
            }
            s => {
                kept.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::from("/");
    out.push_str(&kept.join("/"));
    if trailing_slash && !kept.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        parse_url(raw, false).unwrap()
    }

    fn err(raw: &str) -> String {
        parse_url(raw, false).unwrap_err().to_string()
    }

    #[test]
    fn plain_host_gets_root_path_and_default_port() {
        assert_eq!(
            url("http://www.httpbin.org"),
            Url {
                scheme: Scheme::Http,
                host: "www.httpbin.org".into(),
                port: 80,
                path: "/".into()
            }
        );
        let u = url("https://www.httpbin.org");
        assert_eq!(
            (u.scheme, u.port, u.path.as_str()),
            (Scheme::Https, 443, "/")
        );
    }

    #[test]
    fn scheme_less_urls_are_http() {
        let u = url("httpbin.org/anything");
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.path.as_str()),
            (Scheme::Http, "httpbin.org", 80, "/anything")
        );
    }

    #[test]
    fn host_and_scheme_are_lowercased_and_ports_kept() {
        let u = url("HTTPS://WWW.Google.COM:8443/Path?Q=1");
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.path.as_str()),
            (Scheme::Https, "www.google.com", 8443, "/Path?Q=1")
        );
        assert_eq!(url("http://a:/x").port, 80);
    }

    #[test]
    fn queries_stay_and_fragments_go() {
        assert_eq!(url("http://a?x=1").path, "/?x=1");
        assert_eq!(url("http://a/get?x=1&y=2#frag").path, "/get?x=1&y=2");
        assert_eq!(url("http://a/#frag").path, "/");
    }

    #[test]
    fn the_pods_own_loopback_is_refused_with_what_is_replayed_there() {
        for raw in [
            "http://localhost:8080/",
            "127.0.0.1:15021/healthz/ready",
            "LOCALHOST",
        ] {
            let e = err(raw);
            assert!(e.contains("loopback is not replayed"), "{raw}: {e}");
            assert!(e.contains("localhost:15000/clusters"), "{raw}: {e}");
        }
    }

    #[test]
    fn ipv4_literals_are_hosts() {
        let u = url("http://10.0.0.1:8080/status/418");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("10.0.0.1", 8080, "/status/418")
        );
    }

    #[test]
    fn dot_segments_are_removed_like_curl() {
        assert_eq!(url("http://a/b/../c").path, "/c");
        assert_eq!(url("http://a/b/./c/.").path, "/b/c/");
        assert_eq!(url("http://a/../../x").path, "/x");
        assert_eq!(url("http://a/b/..").path, "/");
        assert_eq!(url("http://a/b/").path, "/b/");
    }

    #[test]
    fn unsupported_urls_are_explained() {
        assert!(err("ftp://a/").contains("scheme `ftp`"));
        assert!(err("ftp.example.com/x").contains("guesses ftp://"));
        assert!(err("http://u:p@a/").contains("user:password@"));
        assert!(err("http://[::1]/").contains("IPv6"));
        assert!(err("http://a:99999/").contains("port `99999`"));
        assert!(err("http://a:0/").contains("port `0`"));
        assert!(err("http://a:x/").contains("port `x`"));
        assert!(err("http://a/{b,c}").contains("--globoff"));
        assert!(err("http:///x").contains("host is missing"));
        assert!(err("http://a b/").contains("whitespace"));
        assert!(err("http://a!b/").contains("`!`"));
        assert!(err("").contains("empty"));
    }

    #[test]
    fn globoff_lets_brackets_through() {
        assert_eq!(parse_url("http://a/x[1]", true).unwrap().path, "/x[1]");
    }
}

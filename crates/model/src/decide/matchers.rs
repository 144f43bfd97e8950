//! Envoy's matching rules, applied to a request: route matches and SNI.
//!
//! Owns: `HttpView` (what a route match sees of a request), Envoy's string matchers (a regex must
//! match the whole value), route matches (path without the query, method, authority, scheme,
//! headers, query parameters) and SNI against a chain's server names. Leaves out: which listener,
//! chain, virtual host and route are tried, in which order (`step`, `xds::domains`), host-name
//! wildcards themselves (`topology::host`), RBAC's matching (`authorize`), and Envoy's matcher
//! messages (`egressbench-envoy`'s `matchers`).

use crate::xds::{HeaderMatcher, RouteMatch, StringMatcher};

/// A string against an Envoy string matcher.
pub(crate) fn string_matches(m: &StringMatcher, value: &str, ignore_case: bool) -> bool {
    match m {
        StringMatcher::Any => true,
        StringMatcher::Exact(e) if ignore_case => e.eq_ignore_ascii_case(value),
        StringMatcher::Exact(e) => e == value,
        StringMatcher::Prefix(p) if ignore_case => value
            .to_ascii_lowercase()
            .starts_with(&p.to_ascii_lowercase()),
        StringMatcher::Prefix(p) => value.starts_with(p.as_str()),
        // Envoy's safe_regex is a full match.
        StringMatcher::Regex(r) => regex::Regex::new(&format!("^(?:{r})$"))
            .map(|re| re.is_match(value))
            .unwrap_or(false),
    }
}

/// What a route match sees of a request.
#[derive(Debug, Clone)]
pub struct HttpView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authority: &'a str,
    pub scheme: &'a str,
    pub headers: &'a [(String, String)],
}

impl HttpView<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        match name {
            ":method" => Some(self.method),
            ":path" => Some(self.path),
            ":authority" | "host" => Some(self.authority),
            ":scheme" => Some(self.scheme),
            _ => self
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
        }
    }

    fn query(&self, key: &str) -> Option<&str> {
        let (_, q) = self.path.split_once('?')?;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == key).then_some(v)
        })
    }
}

fn header_ok(h: &HeaderMatcher, view: &HttpView<'_>) -> bool {
    let hit = view
        .header(&h.name)
        .is_some_and(|v| string_matches(&h.matcher, v, false));
    hit != h.invert
}

/// Does a route's match hold for the request?
pub(crate) fn route_matches(m: &RouteMatch, view: &HttpView<'_>) -> bool {
    let path_only = view.path.split('?').next().unwrap_or(view.path);
    m.path
        .as_ref()
        .is_none_or(|p| string_matches(p, path_only, m.ignore_case))
        && m.method
            .as_ref()
            .is_none_or(|p| string_matches(p, view.method, false))
        && m.authority
            .as_ref()
            .is_none_or(|p| string_matches(p, view.authority, false))
        && m.scheme
            .as_ref()
            .is_none_or(|p| string_matches(p, view.scheme, false))
        && m.headers.iter().all(|h| header_ok(h, view))
        && m.query
            .iter()
            .all(|(k, sm)| view.query(k).is_some_and(|v| string_matches(sm, v, false)))
}

/// An SNI against a filter chain's `server_names` (exact or `*.suffix`; empty matches any).
pub(crate) fn sni_matches(server_names: &[String], sni: Option<&str>) -> bool {
    if server_names.is_empty() {
        return true;
    }
    let Some(sni) = sni else {
        return false;
    };
    server_names
        .iter()
        .any(|n| crate::topology::host::host_matches(n, sni))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_match_whole_values() {
        assert!(string_matches(
            &StringMatcher::Regex("/a.*".into()),
            "/abc",
            false
        ));
        assert!(!string_matches(
            &StringMatcher::Regex("a".into()),
            "/abc",
            false
        ));
        assert!(string_matches(
            &StringMatcher::Prefix("/API".into()),
            "/api/x",
            true
        ));
    }
}

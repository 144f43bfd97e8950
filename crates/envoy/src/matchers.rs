//! Envoy matcher messages shared by routes and RBAC: `StringMatcher`, `HeaderMatcher`, CIDR
//! ranges, and Istio's `*` wildcard convention for AuthorizationPolicy values
//! (istio/istio `pilot/pkg/security/authz/matcher`).
//!
//! Owns: these small messages. Leaves out: where they are used (`routes`, `rbac`).

use egressbench_model::xds::StringMatcher;
use serde_json::{json, Value};

/// An Envoy `StringMatcher` from the config's matcher (`None` for `Any` and for an empty prefix,
/// which Envoy does not take and which matches any value: callers render a presence match or
/// leave the matcher out).
pub(crate) fn string_matcher(m: &StringMatcher) -> Option<Value> {
    Some(match m {
        StringMatcher::Exact(s) => json!({"exact": s}),
        StringMatcher::Prefix(s) if s.is_empty() => return None,
        StringMatcher::Prefix(s) => json!({"prefix": s}),
        StringMatcher::Regex(r) => json!({"safe_regex": {"regex": r}}),
        StringMatcher::Any => return None,
    })
}

/// A route `HeaderMatcher`: a string match, or a presence match for `Any`. An inverted string
/// match treats a missing header as empty (so `withoutHeaders` matches when the header is absent),
/// as istiod renders `withoutHeaders`.
pub(crate) fn header_matcher(name: &str, m: &StringMatcher, invert: bool) -> Value {
    let mut v = match string_matcher(m) {
        Some(sm) => {
            let mut h = json!({"name": name, "string_match": sm});
            if invert {
                h["treat_missing_header_as_empty"] = Value::Bool(true);
            }
            h
        }
        None => json!({"name": name, "present_match": true}),
    };
    if invert {
        v["invert_match"] = Value::Bool(true);
    }
    v
}

/// Istio's string matcher for an AuthorizationPolicy value, with `prefix` put before the value:
/// `*` is any non-empty value, `*x` a suffix, `x*` a prefix, else exact (`StringMatcherWithPrefix`).
pub(crate) fn istio_string(value: &str, prefix: &str) -> Value {
    if value == "*" {
        json!({"safe_regex": {"regex": ".+"}})
    } else if let Some(suffix) = value.strip_prefix('*') {
        if prefix.is_empty() {
            json!({"suffix": suffix})
        } else {
            json!({"safe_regex": {"regex": format!("{prefix}.*{}", quote_meta(suffix))}})
        }
    } else if let Some(start) = value.strip_suffix('*') {
        json!({"prefix": format!("{prefix}{start}")})
    } else {
        json!({"exact": format!("{prefix}{value}")})
    }
}

/// Istio's header matcher for an AuthorizationPolicy value: `*` is a presence match, else
/// `istio_string` (`HeaderMatcher` / `HostMatcher`, the latter ignoring case).
pub(crate) fn istio_header(name: &str, value: &str, ignore_case: bool) -> Value {
    if value == "*" {
        return json!({"name": name, "present_match": true});
    }
    let sm = if let Some(suffix) = value.strip_prefix('*') {
        json!({"suffix": suffix})
    } else if let Some(start) = value.strip_suffix('*') {
        json!({"prefix": start})
    } else {
        json!({"exact": value})
    };
    let mut sm = sm;
    if ignore_case {
        sm["ignore_case"] = Value::Bool(true);
    }
    json!({"name": name, "string_match": sm})
}

/// A `CidrRange` from `10.0.0.1` or `10.0.0.0/16` (IPv4 or IPv6); `None` when it does not parse.
pub(crate) fn cidr(value: &str) -> Option<Value> {
    let (addr, len) = match value.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (value, None),
    };
    let ip: std::net::IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len {
        Some(l) => l.trim().parse::<u32>().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some(json!({"address_prefix": ip.to_string(), "prefix_len": prefix_len}))
}

/// `s` with RE2's metacharacters escaped, as Go's `regexp.QuoteMeta` (which istiod uses) does it.
pub(crate) fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

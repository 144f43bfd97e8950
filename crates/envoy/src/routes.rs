//! A route configuration, inline in its HTTP connection manager: virtual hosts with their domains,
//! routes with their matches (path, `:method` / `:authority` / `:scheme` and other headers, query
//! parameters) and actions (clusters with weights, timeout, rewrites, added headers, a fault
//! abort; a direct response; a redirect), as istiod renders them
//! (istio/istio `pilot/pkg/networking/core/route/route.go`, `httproute.go`).
//!
//! Owns: `route_config` and the per-route pieces. Routes to clusters carry istiod's default retry
//! policy (2 retries on connect failure and refused streams; the `URX` flag the model logs comes
//! from it). Leaves out: the connection manager around it (`http`) and the clusters (`clusters`).

use super::matchers::{header_matcher, string_matcher};
use egressbench_model::xds::{
    retries_connect_failures, RouteAction, RouteConfiguration, RouteMatch, StringMatcher,
    VirtualHost,
};
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// The inline `route_config` for route configuration `name` (empty when the proxy has none by
/// that name: every request then gets `404 NR`, as with a missing RDS resource).
pub(crate) fn route_config(name: &str, rc: Option<&RouteConfiguration>) -> Value {
    // Envoy refuses a domain (or a virtual host name) twice in one route configuration; the
    // first virtual host claiming a domain is the one that serves it (as `xds::domains` picks).
    let mut claimed: HashSet<String> = HashSet::new();
    let mut names: HashSet<String> = HashSet::new();
    let virtual_hosts: Vec<Value> = rc
        .map(|rc| rc.virtual_hosts.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|vh| {
            let domains: Vec<&String> = vh
                .domains
                .iter()
                .filter(|d| claimed.insert(d.to_ascii_lowercase()))
                .collect();
            if domains.is_empty() {
                return None;
            }
            let mut name = vh.name.to_string();
            while !names.insert(name.clone()) {
                name.push('~');
            }
            Some(virtual_host(vh, &name, &domains))
        })
        .collect();
    json!({
        "name": name,
        "virtual_hosts": virtual_hosts,
        // As with RDS: a route naming a cluster the proxy lacks answers 503 NC at request time
        // instead of failing the whole config.
        "validate_clusters": false,
    })
}

/// Do any routes of `rc` inject a fault (so the connection manager needs the fault filter)?
pub(crate) fn uses_fault(rc: Option<&RouteConfiguration>) -> bool {
    rc.is_some_and(|rc| {
        rc.virtual_hosts.iter().any(|vh| {
            vh.routes
                .iter()
                .any(|r| matches!(r.action, RouteAction::Cluster { abort: Some(_), .. }))
        })
    })
}

fn virtual_host(vh: &VirtualHost, name: &str, domains: &[&String]) -> Value {
    let routes: Vec<Value> = vh
        .routes
        .iter()
        .filter(|r| regexes_compile(&r.matcher))
        .map(|r| {
            let mut route = Map::new();
            if !r.name.is_empty() {
                route.insert("name".into(), Value::String(r.name.to_string()));
            }
            route.insert("match".into(), route_match(&r.matcher));
            let (key, action, headers) = action(&r.action);
            route.insert(key.into(), action);
            if let Some(headers) = headers {
                route.insert("request_headers_to_add".into(), headers);
            }
            if let RouteAction::Cluster {
                abort: Some(status),
                ..
            } = &r.action
            {
                route.insert("typed_per_filter_config".into(), fault_abort(*status));
            }
            Value::Object(route)
        })
        .collect();
    json!({
        "name": name,
        "domains": domains,
        "routes": routes,
        // istiod sets it: upstream requests carry `x-envoy-attempt-count`.
        "include_request_attempt_count": true,
    })
}

/// Do the match's regexes compile? Envoy refuses a config with a regex RE2 cannot compile; the
/// model never matches such a route, so it is left out (checked with the `regex` crate, whose
/// syntax is RE2's for what VirtualServices use).
fn regexes_compile(m: &RouteMatch) -> bool {
    let matchers = m
        .path
        .iter()
        .chain(m.method.iter())
        .chain(m.authority.iter())
        .chain(m.scheme.iter())
        .chain(m.headers.iter().map(|h| &h.matcher))
        .chain(m.query.iter().map(|(_, sm)| sm));
    let mut regexes = matchers.filter_map(|sm| match sm {
        StringMatcher::Regex(r) => Some(r),
        _ => None,
    });
    regexes.all(|r| regex::Regex::new(r).is_ok())
}

/// Envoy's `RouteMatch`: the path specifier (prefix `/` when the rule has none), case
/// sensitivity, header matchers (`:method`, `:authority`, `:scheme` among them) and query
/// parameters.
fn route_match(m: &RouteMatch) -> Value {
    let mut out = Map::new();
    match &m.path {
        Some(StringMatcher::Exact(p)) => {
            out.insert("path".into(), json!(p));
        }
        Some(StringMatcher::Prefix(p)) => {
            out.insert("prefix".into(), json!(p));
        }
        Some(StringMatcher::Regex(r)) => {
            out.insert("safe_regex".into(), json!({"regex": r}));
        }
        Some(StringMatcher::Any) | None => {
            out.insert("prefix".into(), json!("/"));
        }
    }
    if m.ignore_case {
        out.insert("case_sensitive".into(), Value::Bool(false));
    }
    let mut headers: Vec<Value> = m
        .headers
        .iter()
        .map(|h| header_matcher(&h.name, &h.matcher, h.invert))
        .collect();
    for (name, sm) in [
        (":method", &m.method),
        (":authority", &m.authority),
        (":scheme", &m.scheme),
    ] {
        if let Some(sm) = sm {
            headers.push(header_matcher(name, sm, false));
        }
    }
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Array(headers));
    }
    if !m.query.is_empty() {
        let query: Vec<Value> = m
            .query
            .iter()
            .map(|(name, sm)| match string_matcher(sm) {
                Some(sm) => json!({"name": name, "string_match": sm}),
                None => json!({"name": name, "present_match": true}),
            })
            .collect();
        out.insert("query_parameters".into(), Value::Array(query));
    }
    Value::Object(out)
}

/// A duration in Envoy's JSON form (`0s`, `3s`, `1.500s`).
pub(crate) fn duration_ms(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

/// istiod's default retry policy for outbound routes (`retry.DefaultPolicy()`).
fn default_retry_policy() -> Value {
    json!({
        "retry_on": "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
        "num_retries": 2,
        "retry_host_predicate": [{
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
            },
        }],
        "host_selection_retry_max_attempts": 5,
    })
}

/// The route's action — `("route", RouteAction)`, `("direct_response", …)` or `("redirect", …)` —
/// and the route entry's `request_headers_to_add`, if any.
fn action(a: &RouteAction) -> (&'static str, Value, Option<Value>) {
    match a {
        RouteAction::Cluster {
            clusters,
            timeout_ms,
            host_rewrite,
            prefix_rewrite,
            request_headers_to_add,
            abort: _,
        } => {
            let mut out = Map::new();
            let total: u64 = clusters.iter().map(|(_, w)| u64::from(*w)).sum();
            match clusters.as_slice() {
                [(only, _)] => {
                    out.insert("cluster".into(), json!(only.to_string()));
                }
                // Envoy refuses weights that sum to 0; the model then takes the first cluster.
                [(first, _), ..] if total == 0 => {
                    out.insert("cluster".into(), json!(first.to_string()));
                }
                many => {
                    let weighted: Vec<Value> = many
                        .iter()
                        .map(|(name, weight)| json!({"name": name.to_string(), "weight": weight}))
                        .collect();
                    out.insert("weighted_clusters".into(), json!({"clusters": weighted}));
                }
            }
            // istiod disables the route timeout unless the VirtualService sets one.
            out.insert(
                "timeout".into(),
                json!(duration_ms(timeout_ms.unwrap_or(0))),
            );
            // istiod's default retries, except on the catch-all to PassthroughCluster (istiod
            // also sets the deprecated `max_grpc_timeout: 0s` there; gRPC is not modelled).
            let passthrough =
                matches!(clusters.as_slice(), [(c, _)] if !retries_connect_failures(c));
            if !passthrough {
                out.insert("retry_policy".into(), default_retry_policy());
            }
            if let Some(host) = host_rewrite {
                out.insert("host_rewrite_literal".into(), json!(host));
            }
            if let Some(prefix) = prefix_rewrite {
                // Envoy swaps the matched prefix, or the whole path under an exact or regex match
                // (the model rewrites only under a prefix match).
                out.insert("prefix_rewrite".into(), json!(prefix));
            }
            let headers = (!request_headers_to_add.is_empty())
                .then(|| headers_to_add(request_headers_to_add));
            ("route", Value::Object(out), headers)
        }
        RouteAction::DirectResponse { status, body } => {
            let mut out = json!({"status": status});
            if !body.is_empty() {
                out["body"] = json!({"inline_string": body});
            }
            ("direct_response", out, None)
        }
        RouteAction::Redirect { location, status } => {
            ("redirect", redirect(location, *status), None)
        }
    }
}

/// A route's `request_headers_to_add`: the VirtualService's `set` and `add` headers, each replacing
/// what the request had (as the model forwards them).
fn headers_to_add(headers: &[(String, String)]) -> Value {
    let list: Vec<Value> = headers
        .iter()
        .map(|(k, v)| {
            json!({
                "header": {"key": k, "value": v},
                "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
            })
        })
        .collect();
    Value::Array(list)
}

/// Envoy's `RedirectAction` from the config's `scheme://authority[:port]/path` location; parts
/// left empty keep the request's own.
fn redirect(location: &str, status: u16) -> Value {
    let mut out = Map::new();
    let (scheme, rest) = location.split_once("://").unwrap_or(("", location));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if !scheme.is_empty() {
        out.insert("scheme_redirect".into(), json!(scheme));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse::<u16>().ok()),
        _ => (authority, None),
    };
    if !host.is_empty() {
        out.insert("host_redirect".into(), json!(host));
    }
    if let Some(p) = port {
        out.insert("port_redirect".into(), json!(p));
    }
    if !path.is_empty() {
        out.insert("path_redirect".into(), json!(path));
    }
    let code = match status {
        302 => "FOUND",
        303 => "SEE_OTHER",
        307 => "TEMPORARY_REDIRECT",
        308 => "PERMANENT_REDIRECT",
        _ => "MOVED_PERMANENTLY",
    };
    out.insert("response_code".into(), json!(code));
    Value::Object(out)
}

/// The fault filter's per-route config: abort every request with `status`.
fn fault_abort(status: u16) -> Value {
    json!({
        "envoy.filters.http.fault": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
            "abort": {
                "http_status": status,
                "percentage": {"numerator": 100, "denominator": "HUNDRED"},
            },
        },
    })
}

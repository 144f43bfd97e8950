//! VirtualService rules translated into Envoy routes, for one proxy and one listener port.
//!
//! Follows istiod's route translation (istio/istio `pilot/pkg/networking/core/route/route.go`):
//! every `match` of an `http` rule becomes its own route; a match bound to other gateways, another
//! port, other source labels or another source namespace is dropped for this proxy; a rule with no
//! `match` matches everything. TCP and TLS rules become TCP proxy routes the same way.
//!
//! Owns: `Binding` (whether a VirtualService, or one of its matches, applies to this proxy), the
//! translation of matches and actions (direct response, redirect, weighted clusters, timeout,
//! rewrites, added request headers, a fault abort that applies to every request), and
//! `http_routes`, `tcp_routes` and `tls_chains`. Leaves out: which VirtualServices a proxy
//! considers and where the routes go (virtual hosts, listeners and chains: `sidecar`, `gateway`),
//! the cluster a destination names (the caller's `ClusterNamer`, `build::destination_cluster`),
//! and matching a request against the routes (`decide`).

use super::{HeaderMatcher, Provenance, Route, RouteAction, RouteMatch, StringMatcher, TcpRoute};
use egressbench_resources::istio::virtual_service::{
    Destination, HttpMatchRequest, HttpRoute, L4MatchAttributes, StringMatch,
};
use egressbench_resources::istio::VirtualService;
use egressbench_resources::meta::selects;
use egressbench_resources::Resource;
use std::collections::BTreeMap;

/// Which proxy a VirtualService is being applied to.
#[derive(Debug, Clone)]
pub(crate) enum Binding<'a> {
    /// A sidecar (the reserved gateway name `mesh`), with its workload's labels and namespace.
    Mesh {
        labels: &'a BTreeMap<String, String>,
        namespace: &'a str,
    },
    /// A gateway proxy serving the Gateway resources named here (`ns/name`), with its pod labels
    /// and namespace.
    Gateway {
        gateways: &'a [String],
        labels: &'a BTreeMap<String, String>,
        namespace: &'a str,
    },
}

/// A gateway reference as written in a VirtualService (`mesh`, `name`, `ns/name`) made absolute.
pub(crate) fn normalize_gateway(reference: &str, vs_namespace: &str) -> String {
    if reference == "mesh" || reference.contains('/') {
        reference.to_string()
    } else {
        format!("{vs_namespace}/{reference}")
    }
}

impl Binding<'_> {
    /// Does a `gateways` list (a match's, else the VirtualService's) include this proxy?
    fn bound(&self, gateways: &[String], vs_namespace: &str) -> bool {
        let defaulted = ["mesh".to_string()];
        let list = if gateways.is_empty() {
            &defaulted[..]
        } else {
            gateways
        };
        list.iter().any(|g| {
            let g = normalize_gateway(g, vs_namespace);
            match self {
                Binding::Mesh { .. } => g == "mesh",
                Binding::Gateway { gateways, .. } => gateways.contains(&g),
            }
        })
    }

    /// `sourceLabels` / `sourceNamespace` of a match, checked against this proxy's own workload —
    /// skipped when the match names `gateways` (istiod's `sourceMatchHTTP`).
    fn source_ok(
        &self,
        match_gateways: &[String],
        labels: &BTreeMap<String, String>,
        ns: Option<&str>,
    ) -> bool {
        if !match_gateways.is_empty() {
            return true;
        }
        let (mine, my_ns) = match self {
            Binding::Mesh { labels, namespace } => (*labels, *namespace),
            Binding::Gateway {
                labels, namespace, ..
            } => (*labels, *namespace),
        };
        selects(labels, mine) && ns.is_none_or(|n| n == my_ns)
    }

    /// Is the VirtualService bound to this proxy? Only its top-level `gateways` count (istiod
    /// indexes VirtualServices by them); a match's `gateways` only narrow its own rules.
    pub(crate) fn applies_to(&self, vs: &VirtualService, vs_namespace: &str) -> bool {
        self.bound(&vs.gateways, vs_namespace)
    }
}

/// Envoy duration text (`5s`, `250ms`, `1.5s`, `1m`, `1h`) in milliseconds.
pub(crate) fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000.0)
    } else {
        return None;
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0).then(|| (v * mult).round() as u64)
}

fn string_matcher(m: &StringMatch) -> StringMatcher {
    if let Some(e) = &m.exact {
        StringMatcher::Exact(e.clone())
    } else if let Some(p) = &m.prefix {
        StringMatcher::Prefix(p.clone())
    } else if let Some(r) = &m.regex {
        StringMatcher::Regex(r.clone())
    } else {
        StringMatcher::Any
    }
}

fn route_match(m: &HttpMatchRequest) -> RouteMatch {
    let mut headers: Vec<HeaderMatcher> = m
        .headers
        .iter()
        .map(|(k, v)| HeaderMatcher {
            name: k.to_ascii_lowercase(),
            matcher: string_matcher(v),
            invert: false,
        })
        .collect();
    headers.extend(m.without_headers.iter().map(|(k, v)| HeaderMatcher {
        name: k.to_ascii_lowercase(),
        matcher: string_matcher(v),
        invert: true,
    }));
    RouteMatch {
        path: m.uri.as_ref().map(string_matcher),
        ignore_case: m.ignore_uri_case.unwrap_or(false),
        method: m.method.as_ref().map(string_matcher),
        authority: m.authority.as_ref().map(string_matcher),
        scheme: m.scheme.as_ref().map(string_matcher),
        headers,
        query: m
            .query_params
            .iter()
            .map(|(k, v)| (k.clone(), string_matcher(v)))
            .collect(),
    }
}

/// Resolves a route destination to a cluster name (the caller knows the registry).
pub(crate) type ClusterNamer<'a> = dyn Fn(&Destination, &str, u16) -> String + 'a;

fn http_action(rule: &HttpRoute, vs_ns: &str, port: u16, namer: &ClusterNamer<'_>) -> RouteAction {
    if let Some(d) = &rule.direct_response {
        return RouteAction::DirectResponse {
            status: d.status,
            body: d
                .body
                .as_ref()
                .and_then(|b| b.string.clone())
                .unwrap_or_default(),
        };
    }
    if let Some(r) = &rule.redirect {
        let scheme = r.scheme.clone().unwrap_or_else(|| "http".into());
        let authority = r.authority.clone().unwrap_or_default();
        let port = r.port.map(|p| format!(":{p}")).unwrap_or_default();
        return RouteAction::Redirect {
            location: format!(
                "{scheme}://{authority}{port}{}",
                r.uri.clone().unwrap_or_default()
            ),
            status: r.redirect_code.unwrap_or(301),
        };
    }
    let mut headers = Vec::new();
    if let Some(req) = rule.headers.as_ref().and_then(|h| h.request.as_ref()) {
        headers.extend(req.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        headers.extend(req.add.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let total = rule.route.len() as u32;
    RouteAction::Cluster {
        clusters: rule
            .route
            .iter()
            .map(|d| {
                let w = d
                    .weight
                    .unwrap_or(if total == 1 { 100 } else { 100 / total.max(1) });
                (namer(&d.destination, vs_ns, port).into(), w)
            })
            .collect(),
        timeout_ms: rule.timeout.as_deref().and_then(parse_duration_ms),
        host_rewrite: rule.rewrite.as_ref().and_then(|r| r.authority.clone()),
        prefix_rewrite: rule.rewrite.as_ref().and_then(|r| r.uri.clone()),
        request_headers_to_add: headers,
        abort: rule.fault.as_ref().and_then(|f| {
            f.abort.as_ref().and_then(|a| {
                let full = a.percentage.as_ref().is_none_or(|p| p.value >= 100.0);
                a.http_status.filter(|_| full)
            })
        }),
    }
}

/// The HTTP routes a VirtualService contributes on `port` for this binding.
pub(crate) fn http_routes(
    vs_res: &Resource,
    vs: &VirtualService,
    binding: &Binding<'_>,
    port: u16,
    namer: &ClusterNamer<'_>,
) -> Vec<Route> {
    let ns = vs_res.namespace();
    let mut out = Vec::new();
    for (i, rule) in vs.http.iter().enumerate() {
        let name = rule.name.clone().unwrap_or_default();
        if rule.matches.is_empty() {
            if binding.bound(&vs.gateways, ns) {
                out.push(Route {
                    name: name.into(),
                    matcher: RouteMatch::default(),
                    action: http_action(rule, ns, port, namer),
                    provenance: Some(Provenance::new(vs_res.id(), format!("http[{i}]"))),
                });
            }
            continue;
        }
        for (j, m) in rule.matches.iter().enumerate() {
            let gateways = if m.gateways.is_empty() {
                &vs.gateways
            } else {
                &m.gateways
            };
            if !binding.bound(gateways, ns)
                || m.port.is_some_and(|p| p != port)
                || !binding.source_ok(&m.gateways, &m.source_labels, m.source_namespace.as_deref())
            {
                continue;
            }
            out.push(Route {
                name: name.as_str().into(),
                matcher: route_match(m),
                action: http_action(rule, ns, port, namer),
                provenance: Some(Provenance::new(
                    vs_res.id(),
                    format!("http[{i}].match[{j}]"),
                )),
            });
        }
    }
    out
}

/// The L4 fields a `tcp`/`tls` match shares.
struct L4<'m> {
    gateways: &'m [String],
    port: Option<u16>,
    source_labels: &'m BTreeMap<String, String>,
    source_namespace: Option<&'m str>,
}

impl L4<'_> {
    fn holds(
        &self,
        binding: &Binding<'_>,
        vs: &VirtualService,
        ns: &str,
        listener_port: u16,
    ) -> bool {
        let gateways = if self.gateways.is_empty() {
            &vs.gateways
        } else {
            self.gateways
        };
        binding.bound(gateways, ns)
            && self.port.is_none_or(|p| p == listener_port)
            && binding.source_ok(self.gateways, self.source_labels, self.source_namespace)
    }
}

/// TCP routes of a VirtualService's `tcp:` rules on `port` for this binding.
pub(crate) fn tcp_routes(
    vs_res: &Resource,
    vs: &VirtualService,
    binding: &Binding<'_>,
    port: u16,
    namer: &ClusterNamer<'_>,
) -> Vec<TcpRoute> {
    let ns = vs_res.namespace();
    let mut out = Vec::new();
    for (i, rule) in vs.tcp.iter().enumerate() {
        let Some(dest) = rule.route.first() else {
            continue;
        };
        let matches: Vec<(usize, &L4MatchAttributes)> = rule.matches.iter().enumerate().collect();
        let hit = if matches.is_empty() {
            binding.bound(&vs.gateways, ns).then(|| format!("tcp[{i}]"))
        } else {
            matches
                .iter()
                .find(|(_, m)| {
                    L4 {
                        gateways: &m.gateways,
                        port: m.port,
                        source_labels: &m.source_labels,
                        source_namespace: m.source_namespace.as_deref(),
                    }
                    .holds(binding, vs, ns, port)
                })
                .map(|(j, _)| format!("tcp[{i}].match[{j}]"))
        };
        if let Some(rule_path) = hit {
            out.push(TcpRoute {
                cluster: namer(&dest.destination, ns, port).into(),
                port: Some(port),
                provenance: Some(Provenance::new(vs_res.id(), rule_path)),
            });
        }
    }
    out
}

/// The SNI-matched routes of a VirtualService's `tls:` rules on `port` for this binding: one per
/// applicable match, with the match's `sniHosts` (else the VirtualService's hosts) as the server
/// names of its filter chain, as istiod builds TLS chains (`buildSidecarOutboundTLSFilterChainOpts`,
/// `buildGatewayNetworkFiltersFromTLSRoutes`).
pub(crate) fn tls_chains(
    vs_res: &Resource,
    vs: &VirtualService,
    binding: &Binding<'_>,
    port: u16,
    namer: &ClusterNamer<'_>,
) -> Vec<(Vec<String>, TcpRoute)> {
    let ns = vs_res.namespace();
    let mut out = Vec::new();
    for (i, rule) in vs.tls.iter().enumerate() {
        let Some(dest) = rule.route.first() else {
            continue;
        };
        for (j, m) in rule.matches.iter().enumerate() {
            let applies = L4 {
                gateways: &m.gateways,
                port: m.port,
                source_labels: &m.source_labels,
                source_namespace: m.source_namespace.as_deref(),
            }
            .holds(binding, vs, ns, port);
            if !applies {
                continue;
            }
            let sni = if m.sni_hosts.is_empty() {
                vs.hosts.clone()
            } else {
                m.sni_hosts.clone()
            };
            out.push((
                sni,
                TcpRoute {
                    cluster: namer(&dest.destination, ns, port).into(),
                    port: Some(port),
                    provenance: Some(Provenance::new(vs_res.id(), format!("tls[{i}].match[{j}]"))),
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ms("5s"), Some(5000));
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("1.5s"), Some(1500));
        assert_eq!(parse_duration_ms("1m"), Some(60000));
        assert_eq!(parse_duration_ms("soon"), None);
    }

    #[test]
    fn gateway_references_are_made_absolute() {
        assert_eq!(normalize_gateway("mesh", "x"), "mesh");
        assert_eq!(normalize_gateway("gw", "istio-egress"), "istio-egress/gw");
        assert_eq!(normalize_gateway("a/gw", "b"), "a/gw");
    }
}

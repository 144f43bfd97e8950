//! A proxy's compiled config as `istioctl proxy-config cluster|route` prints it (Istio 1.20–1.24,
//! `istioctl/pkg/writer/envoy/configdump/{cluster,route}.go`): the same columns, values, filters
//! and order, aligned as Go's tabwriter aligns them (5 spaces after the widest cell).
//!
//! Owns: `ClusterFilter`, `clusters_table`, `routes_table`, and the rows istioctl shows that come
//! from Envoy's bootstrap rather than from istiod (the `agent`, `prometheus_stats`, `sds-grpc`,
//! `xds-grpc` clusters, the `backend` health and stats routes); a sidecar's inbound clusters
//! and routes (`inbound|PORT||`) are shown as istioctl shows them. Leaves out: listeners and
//! secrets, `-o json` (the Envoy target's rendering is the JSON of this config), and reading the
//! command line (`egressbench-scenario`).

use crate::xds::{
    Cluster, ClusterKind, Provenance, ProxyConfig, ProxyKind, RouteAction, StringMatcher,
    BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER,
};
use egressbench_resources::Kind;
use egressbench_text::columns::align;

/// `--fqdn`, `--port`, `--subset`, `--direction`: each, when given, must hold of the cluster's
/// whole name (substrings; the port as `|PORT|`), as istioctl checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterFilter {
    pub fqdn: Option<String>,
    pub port: Option<u16>,
    pub subset: Option<String>,
    pub direction: Option<String>,
}

impl ClusterFilter {
    fn keeps(&self, name: &str) -> bool {
        let has = |part: &Option<String>| part.as_ref().is_none_or(|p| name.contains(p.as_str()));
        has(&self.fqdn)
            && has(&self.subset)
            && has(&self.direction)
            && self.port.is_none_or(|p| name.contains(&format!("|{p}|")))
    }
}

/// Clusters every proxy's bootstrap defines, whatever istiod sends.
const BOOTSTRAP_CLUSTERS: [&str; 4] = ["agent", "prometheus_stats", "sds-grpc", "xds-grpc"];

/// One cluster as istioctl lists it.
struct ClusterRow {
    name: String,
    kind: &'static str,
    destination_rule: String,
}

fn kind_name(kind: ClusterKind) -> &'static str {
    match kind {
        ClusterKind::Eds => "EDS",
        ClusterKind::StrictDns => "STRICT_DNS",
        ClusterKind::OriginalDst => "ORIGINAL_DST",
        ClusterKind::Static => "STATIC",
    }
}

/// `name.namespace` of the first resource of `kind` among `provenance`, as istioctl renders the
/// `istio.config` metadata istiod attaches; empty when there is none.
fn managed_by(provenance: &[&Provenance], kind: Kind) -> String {
    provenance
        .iter()
        .find(|p| p.resource.kind == kind)
        .map(|p| format!("{}.{}", p.resource.name, p.resource.namespace))
        .unwrap_or_default()
}

fn cluster_row(c: &Cluster) -> ClusterRow {
    let mut provenance: Vec<&Provenance> = c.provenance.iter().collect();
    provenance.extend(c.tls.as_ref().and_then(|t| t.provenance.as_ref()));
    ClusterRow {
        name: c.name.to_string(),
        kind: kind_name(c.kind),
        destination_rule: managed_by(&provenance, Kind::DestinationRule),
    }
}

/// `(direction, subset, fqdn, port)` of a `dir|port|subset|fqdn` name, else the whole name as
/// the fqdn (istioctl's `safelyParseSubsetKey`).
fn subset_key(name: &str) -> (&str, &str, &str, u32) {
    let parts: Vec<&str> = name.split('|').collect();
    match parts.as_slice() {
        [dir, port, subset, fqdn, ..] => (dir, subset, fqdn, port.parse().unwrap_or(0)),
        _ => ("", "", name, 0),
    }
}

/// `istioctl proxy-config cluster POD [filters]`.
pub fn clusters_table(proxy: &ProxyConfig, filter: &ClusterFilter) -> String {
    let mut rows: Vec<ClusterRow> = proxy.clusters.values().map(cluster_row).collect();
    let mut add = |name: &str, kind: &'static str| {
        if !rows.iter().any(|r| r.name == name) {
            rows.push(ClusterRow {
                name: name.into(),
                kind,
                destination_rule: String::new(),
            });
        }
    };
    add(BLACKHOLE_CLUSTER, "STATIC");
    if proxy.kind == ProxyKind::Sidecar {
        add(PASSTHROUGH_CLUSTER, "ORIGINAL_DST");
        add("InboundPassthroughCluster", "ORIGINAL_DST");
    }
    for name in BOOTSTRAP_CLUSTERS {
        add(name, "STATIC");
    }
    rows.retain(|r| filter.keeps(&r.name));
    rows.sort_by(|a, b| {
        let (ad, asub, afq, aport) = subset_key(&a.name);
        let (bd, bsub, bfq, bport) = subset_key(&b.name);
        (afq, asub, aport, ad).cmp(&(bfq, bsub, bport, bd))
    });
    let mut table = vec![[
        "SERVICE FQDN",
        "PORT",
        "SUBSET",
        "DIRECTION",
        "TYPE",
        "DESTINATION RULE",
    ]
    .map(String::from)
    .to_vec()];
    for r in rows {
        let cells = match r.name.split('|').collect::<Vec<_>>().as_slice() {
            [dir, port, subset, fqdn, ..] => [
                (*fqdn).to_string(),
                (*port).to_string(),
                if subset.is_empty() { "-" } else { subset }.to_string(),
                (*dir).to_string(),
            ],
            _ => [r.name.clone(), "-".into(), "-".into(), "-".into()],
        };
        let mut row = cells.to_vec();
        row.push(r.kind.to_string());
        row.push(r.destination_rule);
        table.push(row);
    }
    align(&table, 5)
}

/// istioctl's DOMAINS cell: one domain as is; else without `host:port` entries and the
/// `.svc`/`.svc.cluster.local` forms of a name also present, at most two and a count.
fn domains_cell(domains: &[String]) -> String {
    if domains.len() <= 1 {
        return domains.first().cloned().unwrap_or_default();
    }
    let without_ports: Vec<&String> = domains
        .iter()
        .filter(|d| !d.contains(':') || (d.starts_with('[') && d.ends_with(']')))
        .collect();
    let kept: Vec<&String> = without_ports
        .iter()
        .copied()
        .filter(|d| {
            let shorter = d
                .strip_suffix(".svc.cluster.local")
                .or_else(|| d.strip_suffix(".svc"));
            shorter.is_none_or(|s| !without_ports.iter().any(|o| o.as_str() == s))
        })
        .collect();
    match kept.len() {
        0..=2 => kept
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        n => format!("{}, {} + {} more...", kept[0], kept[1], n - 2),
    }
}

/// istioctl's MATCH cell for a route's path.
fn match_cell(path: Option<&StringMatcher>) -> String {
    match path {
        None | Some(StringMatcher::Any) => "/*".into(),
        Some(StringMatcher::Prefix(p)) => format!("{p}*"),
        Some(StringMatcher::Exact(p)) => p.clone(),
        Some(StringMatcher::Regex(r)) => format!("regex {r}"),
    }
}

/// A route to `PassthroughCluster` alone, which istioctl leaves out (so `allow_any` never shows).
fn is_passthrough(action: &RouteAction) -> bool {
    matches!(action, RouteAction::Cluster { clusters, .. }
        if matches!(clusters.as_slice(), [(c, _)] if &**c == PASSTHROUGH_CLUSTER))
}

/// `istioctl proxy-config route POD [--name NAME]`.
pub fn routes_table(proxy: &ProxyConfig, name: Option<&str>) -> String {
    let mut configs: Vec<_> = proxy
        .routes
        .values()
        .filter(|r| name.is_none_or(|n| *r.name == *n))
        .collect();
    // Numeric names (the ports) ascending, the others after them by name.
    configs.sort_by_key(|r| {
        (
            r.name.parse::<u32>().map_or(1, |_| 0),
            r.name.parse::<u32>().unwrap_or(0),
            r.name.to_string(),
        )
    });
    let mut table = vec![
        ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"]
            .map(String::from)
            .to_vec(),
    ];
    for config in configs {
        for vhost in &config.virtual_hosts {
            let domains = domains_cell(&vhost.domains);
            for route in vhost.routes.iter().filter(|r| !is_passthrough(&r.action)) {
                let provenance: Vec<&Provenance> = route.provenance.iter().collect();
                table.push(vec![
                    config.name.to_string(),
                    vhost.name.to_string(),
                    domains.clone(),
                    match_cell(route.matcher.path.as_ref()),
                    managed_by(&provenance, Kind::VirtualService),
                ]);
            }
            if vhost.routes.is_empty() {
                table.push(vec![
                    config.name.to_string(),
                    vhost.name.to_string(),
                    domains.clone(),
                    "/*".into(),
                    "404".into(),
                ]);
            }
        }
    }
    if name.is_none() {
        // The bootstrap's stats and readiness listeners carry unnamed inline routes.
        for path in ["/stats/prometheus*", "/healthz/ready*"] {
            table.push(["", "backend", "*", path, ""].map(String::from).to_vec());
        }
    }
    align(&table, 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::Mesh;
    use crate::request::WorkloadRef;
    use crate::testing::{mesh, HTTP_VIA_GATEWAY};

    fn proxy<'m>(m: &'m Mesh, ns: &str, name: &str) -> &'m ProxyConfig {
        m.proxies
            .get(&WorkloadRef::new(ns, name))
            .unwrap_or_else(|| panic!("no proxy {ns}/{name}"))
    }

    #[test]
    fn clusters_print_as_istioctl_does() {
        let m = mesh(HTTP_VIA_GATEWAY);
        let text = clusters_table(proxy(&m, "default", "sleep"), &ClusterFilter::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            [
                "SERVICE",
                "FQDN",
                "PORT",
                "SUBSET",
                "DIRECTION",
                "TYPE",
                "DESTINATION",
                "RULE"
            ]
        );
        // Uppercase special clusters sort before lowercase names, as byte order has it.
        let first: Vec<&str> = lines[1..]
            .iter()
            .map(|l| l.split_whitespace().next().unwrap_or(""))
            .collect();
        let at = |name: &str| first.iter().position(|f| *f == name).unwrap_or(usize::MAX);
        assert!(at("BlackHoleCluster") < at("PassthroughCluster"));
        assert!(at("PassthroughCluster") < at("agent"));
        assert!(at("agent") < at("httpbin.org"));
        let httpbin = lines.iter().find(|l| l.starts_with("httpbin.org")).unwrap();
        assert_eq!(
            httpbin.split_whitespace().collect::<Vec<_>>(),
            ["httpbin.org", "80", "-", "outbound", "STRICT_DNS"]
        );
        // Every line is padded as tabwriter pads: the TYPE column ends 5 spaces past its widest.
        let type_end = lines[0].find("DESTINATION RULE").unwrap();
        assert!(lines.iter().skip(1).all(|l| l.len() >= type_end), "{text}");
    }

    #[test]
    fn cluster_filters_match_the_whole_name() {
        let m = mesh(HTTP_VIA_GATEWAY);
        let p = proxy(&m, "default", "sleep");
        let only = |f: ClusterFilter| -> Vec<String> {
            clusters_table(p, &f)
                .lines()
                .skip(1)
                .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
                .collect()
        };
        let f = ClusterFilter {
            fqdn: Some("httpbin".into()),
            ..ClusterFilter::default()
        };
        assert_eq!(only(f), ["httpbin.org"]);
        let f = ClusterFilter {
            port: Some(80),
            ..ClusterFilter::default()
        };
        assert!(only(f)
            .iter()
            .all(|n| n != "BlackHoleCluster" && n != "agent"));
    }

    #[test]
    fn routes_print_one_row_per_route_and_hide_passthrough() {
        let m = mesh(HTTP_VIA_GATEWAY);
        let text = routes_table(proxy(&m, "default", "sleep"), None);
        let rows: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows[0],
            ["NAME", "VHOST", "NAME", "DOMAINS", "MATCH", "VIRTUAL", "SERVICE"]
        );
        let httpbin = rows
            .iter()
            .find(|r| r.get(2) == Some(&"httpbin.org"))
            .unwrap();
        assert_eq!(
            httpbin,
            &vec![
                "80",
                "httpbin.org:80",
                "httpbin.org",
                "/*",
                "httpbin.default"
            ]
        );
        assert!(
            rows.iter().any(|r| r.get(1) == Some(&"block_all")),
            "{text}"
        );
        assert!(rows.iter().all(|r| r.get(1) != Some(&"allow_any")));
        assert_eq!(
            rows.last().unwrap(),
            &vec!["backend", "*", "/healthz/ready*"]
        );
        let named = routes_table(proxy(&m, "default", "sleep"), Some("80"));
        assert!(!named.contains("backend"));
    }

    #[test]
    fn domains_drop_ports_and_expanded_forms() {
        let d =
            |list: &[&str]| domains_cell(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(d(&["*"]), "*");
        assert_eq!(d(&["httpbin.org", "httpbin.org:80"]), "httpbin.org");
        assert_eq!(
            d(&[
                "curl.default.svc.cluster.local",
                "curl.default.svc.cluster.local:80",
                "curl",
                "curl.default",
                "curl.default.svc",
                "10.96.0.7"
            ]),
            "curl, curl.default + 1 more..."
        );
        assert_eq!(
            d(&[
                "example.com",
                "example.com:8080",
                "www.example.com",
                "www.example.com:8080",
                "[fd00:10:96::7fc7]",
                "[fd00:10:96::7fc7]:8080"
            ]),
            "example.com, www.example.com + 1 more..."
        );
    }
}

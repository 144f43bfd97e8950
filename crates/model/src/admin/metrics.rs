//! Istio's standard metrics as a proxy's Prometheus page prints them (`curl
//! localhost:15020/stats/prometheus`, `pilot-agent request GET stats/prometheus`), counted from
//! the proxy's access-log entries with the labels Istio's `istio.stats` filter gives them (istio/proxy
//! `source/extensions/filters/http/istio_stats/istio_stats.cc`, Istio 1.24–1.26).
//!
//! Owns: `istio_series` (each counted series, `MetricSeries`), `istio_metrics` (the page) and
//! `istio_families` (the families and their labels) — `istio_requests_total` (one per HTTP request, local replies
//! included) and `istio_tcp_connections_opened_total` / `…_closed_total` (one each per TCP-proxied
//! connection: a short connection is counted at its close), each with Istio's 25 (HTTP) or 23
//! (TCP) labels in Istio's order, under `# TYPE` lines, families and series sorted as Envoy sorts
//! them. Leaves out: Envoy's own `envoy_*` series and the agent's `istio_agent_*` ones, the
//! duration and size histograms and the TCP byte counters (the bench counts no bytes or time),
//! `istio_build`, and gRPC (`request_protocol` is `http`, `grpc_response_status` empty).
//!
//! Which labels, from what (per the filter): a sidecar's outbound requests and a gateway's are
//! reported as `source` — the proxy's own workload as the source; the destination from the
//! cluster's service (`host`, `name`, `namespace`), or for the `allow_any` / `block_all` routes
//! the `Host` header with `PassthroughCluster` / `BlackHoleCluster` as its name; the destination
//! workload from its endpoint when that is a pod (in full over mesh mTLS, which carries the peer's
//! metadata; else only the workload, namespace, canonical names and cluster that istiod puts on
//! Kubernetes endpoints). A sidecar's inbound requests are reported as `destination`, with the
//! peer of an mTLS connection as the source. A value nobody knows is `unknown` (a canonical
//! revision `latest`); the proxy's own `app` and `version` labels are printed as they are, empty
//! when absent.

use crate::mesh::Mesh;
use crate::outcome::AccessLogEntry;
use crate::request::WorkloadRef;
use crate::topology::Workload;
use crate::xds::{ProxyConfig, ProxyKind};
use egressbench_resources::ClientTlsMode;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The cluster every Kubernetes workload is in, as istiod's `CLUSTER_ID` defaults.
const CLUSTER_ID: &str = "Kubernetes";

const UNKNOWN: &str = "unknown";

/// The labels both families share, in Istio's order.
const PEER_LABELS: [&str; 20] = [
    "reporter",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_service_name",
    "destination_service_namespace",
    "destination_cluster",
];

/// One side of a request (source or destination), as the labels name it.
#[derive(Debug, Clone)]
struct Side {
    workload: String,
    canonical_service: String,
    canonical_revision: String,
    namespace: String,
    principal: String,
    app: String,
    version: String,
    cluster: String,
}

impl Side {
    fn unknown() -> Side {
        Side {
            workload: UNKNOWN.into(),
            canonical_service: UNKNOWN.into(),
            canonical_revision: "latest".into(),
            namespace: UNKNOWN.into(),
            principal: UNKNOWN.into(),
            app: UNKNOWN.into(),
            version: UNKNOWN.into(),
            cluster: UNKNOWN.into(),
        }
    }

    /// A proxy's own workload, from its own metadata: labels as they are (empty when absent).
    fn own(w: &Workload, principal: Option<&str>) -> Side {
        Side {
            app: label(w, &["app"]).unwrap_or_default(),
            version: label(w, &["version"]).unwrap_or_default(),
            principal: principal.unwrap_or(UNKNOWN).to_string(),
            ..Side::peer_names(w)
        }
    }

    /// A peer pod as istiod's endpoint metadata names it (no labels, no identity).
    fn peer_names(w: &Workload) -> Side {
        Side {
            workload: w.id.name.clone(),
            canonical_service: canonical_service(w),
            canonical_revision: canonical_revision(w),
            namespace: w.id.namespace.clone(),
            principal: UNKNOWN.into(),
            app: UNKNOWN.into(),
            version: UNKNOWN.into(),
            cluster: CLUSTER_ID.into(),
        }
    }

    /// A peer pod whose metadata came over mesh mTLS: labels too (`unknown` when absent).
    fn peer_exchanged(w: &Workload) -> Side {
        Side {
            app: label(w, &["app"]).unwrap_or_else(|| UNKNOWN.into()),
            version: label(w, &["version"]).unwrap_or_else(|| UNKNOWN.into()),
            principal: w.identity.to_string(),
            ..Side::peer_names(w)
        }
    }
}

fn label(w: &Workload, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| w.labels.get(*k))
        .filter(|v| !v.is_empty())
        .cloned()
}

/// The injector's `service.istio.io/canonical-name`: that label, else `app.kubernetes.io/name`,
/// else `app`, else the workload's name.
fn canonical_service(w: &Workload) -> String {
    label(
        w,
        &[
            "service.istio.io/canonical-name",
            "app.kubernetes.io/name",
            "app",
        ],
    )
    .unwrap_or_else(|| w.id.name.clone())
}

/// The injector's `service.istio.io/canonical-revision`: that label, else
/// `app.kubernetes.io/version`, else `version`, else `latest`.
fn canonical_revision(w: &Workload) -> String {
    label(
        w,
        &[
            "service.istio.io/canonical-revision",
            "app.kubernetes.io/version",
            "version",
        ],
    )
    .unwrap_or_else(|| "latest".into())
}

/// The service a request went to: `destination_service`, `_name`, `_namespace`.
struct Service {
    host: String,
    name: String,
    namespace: String,
}

/// One series: the family it belongs to, and its labels in order.
type Series = (&'static str, Vec<(&'static str, String)>);

/// A series' identity as Envoy sorts it: its family, then its label values in order.
type SeriesKey = (&'static str, Vec<String>);

/// A series' label names, and its count.
type Counted = (Vec<&'static str>, u64);

/// The metric families counted, and the labels of each, in Istio's order.
pub fn istio_families() -> [(&'static str, Vec<&'static str>); 3] {
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        PEER_LABELS.iter().chain(extra).copied().collect()
    };
    let tcp = with(&[
        "request_protocol",
        "response_flags",
        "connection_security_policy",
    ]);
    [
        (
            "istio_requests_total",
            with(&[
                "request_protocol",
                "response_code",
                "grpc_response_status",
                "response_flags",
                "connection_security_policy",
            ]),
        ),
        ("istio_tcp_connections_closed_total", tcp.clone()),
        ("istio_tcp_connections_opened_total", tcp),
    ]
}

/// One counted series of a proxy's Istio metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSeries {
    pub family: &'static str,
    /// Label names and values, in Istio's order.
    pub labels: Vec<(&'static str, String)>,
    pub value: u64,
}

impl MetricSeries {
    /// A label's value.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The Istio metrics of `proxy` after it wrote `entries`, each series once, in the order Envoy
/// prints them.
pub fn istio_series(
    mesh: &Mesh,
    proxy: &ProxyConfig,
    entries: &[AccessLogEntry],
) -> Vec<MetricSeries> {
    let own_id = WorkloadRef::parse(&proxy.proxy);
    let Some(own) = own_id.as_ref().and_then(|id| mesh.workload(id)) else {
        return Vec::new();
    };
    let mut counts: BTreeMap<SeriesKey, Counted> = BTreeMap::new();
    for entry in entries.iter().filter(|e| counted(e)) {
        for (family, labels) in series(mesh, proxy, own, entry) {
            let (names, values): (Vec<&'static str>, Vec<String>) = labels.into_iter().unzip();
            counts.entry((family, values)).or_insert((names, 0)).1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|((family, values), (names, value))| MetricSeries {
            family,
            labels: names.into_iter().zip(values).collect(),
            value,
        })
        .collect()
}

/// The Istio metrics of `proxy` after it wrote `entries`, as its Prometheus page prints them.
pub(crate) fn istio_metrics(
    mesh: &Mesh,
    proxy: &ProxyConfig,
    entries: &[AccessLogEntry],
) -> String {
    let mut out = String::new();
    let mut current = "";
    for s in istio_series(mesh, proxy, entries) {
        if s.family != current {
            if !current.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "# TYPE {} counter", s.family);
            current = s.family;
        }
        let labels: Vec<String> = s
            .labels
            .iter()
            .map(|(n, v)| format!("{n}=\"{}\"", escaped(v)))
            .collect();
        let _ = writeln!(out, "{}{{{}}} {}", s.family, labels.join(","), s.value);
    }
    if !current.is_empty() {
        out.push('\n');
    }
    out
}

/// Whether Istio's filters saw the entry's connection or request at all: not when no filter chain
/// took the connection (`filter_chain_not_found`), nor when the HTTP codec rejected it before
/// any request began (an entry with a status but no method, `DPE`).
fn counted(e: &AccessLogEntry) -> bool {
    let no_chain = crate::outcome::reply::Details::FilterChainNotFound.to_string();
    e.response_code_details != no_chain && !(e.method == "-" && e.response_code != 0)
}

/// A label value as Prometheus's text format writes it.
fn escaped(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The series one entry adds to.
fn series(mesh: &Mesh, proxy: &ProxyConfig, own: &Workload, e: &AccessLogEntry) -> Vec<Series> {
    let inbound = proxy.kind == ProxyKind::Sidecar && is_inbound(proxy, e);
    let (reporter, source, destination, service) = if inbound {
        let source = peer_by_principal(mesh, &e.downstream_peer_principal);
        let mtls = e.downstream_peer_principal != "-";
        let destination = Side::own(own, mtls.then_some(&*own.identity));
        let service = inbound_service(mesh, own, e);
        ("destination", source, destination, service)
    } else {
        let mtls = upstream_mtls(proxy, &e.upstream_cluster);
        let source = Side::own(own, mtls.then_some(&*own.identity));
        let destination = upstream_peer(mesh, e, mtls);
        let service = outbound_service(mesh, proxy, e);
        ("source", source, destination, service)
    };
    let mut labels: Vec<(&'static str, String)> = PEER_LABELS
        .iter()
        .copied()
        .zip([
            reporter.to_string(),
            source.workload,
            source.canonical_service,
            source.canonical_revision,
            source.namespace,
            source.principal,
            source.app,
            source.version,
            source.cluster,
            destination.workload,
            destination.namespace,
            destination.principal,
            destination.app,
            destination.version,
            service.host,
            destination.canonical_service,
            destination.canonical_revision,
            service.name,
            service.namespace,
            destination.cluster,
        ])
        .collect();
    let policy = match (inbound, e.downstream_peer_principal.as_str()) {
        (false, _) => UNKNOWN,
        (true, "-") => "none",
        (true, _) => "mutual_tls",
    };
    let flags = e.response_flags.clone();
    if e.method == "-" {
        // A TCP-proxied connection: opened and closed, counted together at its close.
        labels.push(("request_protocol", "tcp".into()));
        labels.push(("response_flags", flags));
        labels.push(("connection_security_policy", policy.into()));
        return vec![
            ("istio_tcp_connections_opened_total", labels.clone()),
            ("istio_tcp_connections_closed_total", labels),
        ];
    }
    labels.push(("request_protocol", "http".into()));
    labels.push(("response_code", e.response_code.to_string()));
    labels.push(("grpc_response_status", String::new()));
    labels.push(("response_flags", flags));
    labels.push(("connection_security_policy", policy.into()));
    vec![("istio_requests_total", labels)]
}

/// Whether a sidecar's entry is of its inbound side: the connection was made to its own pod.
fn is_inbound(proxy: &ProxyConfig, e: &AccessLogEntry) -> bool {
    e.upstream_cluster.starts_with("inbound|")
        || e.downstream_local_address
            .rsplit_once(':')
            .is_some_and(|(ip, _)| ip == &*proxy.address)
}

/// Whether the proxy's connection through `cluster` was mesh mTLS (which carries the peers'
/// metadata both ways).
fn upstream_mtls(proxy: &ProxyConfig, cluster: &str) -> bool {
    proxy
        .clusters
        .get(cluster)
        .and_then(|c| c.tls.as_ref())
        .is_some_and(|t| t.mode == ClientTlsMode::IstioMutual)
}

/// The pod an outbound request reached, by the address it connected to.
fn upstream_peer(mesh: &Mesh, e: &AccessLogEntry, mtls: bool) -> Side {
    let address = e.upstream_host.rsplit_once(':').map(|(ip, _)| ip);
    let pod = address.and_then(|ip| mesh.ctx.workloads.values().find(|w| &*w.address == ip));
    match pod {
        Some(w) if mtls => Side::peer_exchanged(w),
        Some(w) => Side::peer_names(w),
        None => Side::unknown(),
    }
}

/// The peer of an inbound mTLS connection, by the identity it presented (the one workload with
/// it; `unknown` when none or several have it, or in plain text).
fn peer_by_principal(mesh: &Mesh, principal: &str) -> Side {
    if principal == "-" {
        return Side::unknown();
    }
    let mut with = mesh
        .ctx
        .workloads
        .values()
        .filter(|w| &*w.identity == principal);
    match (with.next(), with.next()) {
        (Some(w), None) => Side::peer_exchanged(w),
        _ => Side {
            principal: principal.to_string(),
            namespace: principal
                .split("/ns/")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .unwrap_or(UNKNOWN)
                .to_string(),
            ..Side::unknown()
        },
    }
}

/// `destination_service*` of an outbound request: the `allow_any`/`block_all` routes name the
/// `Host` header and the special cluster; a service's cluster names its service; anything else
/// the `Host` header (`unknown` without one, as for TCP).
fn outbound_service(mesh: &Mesh, proxy: &ProxyConfig, e: &AccessLogEntry) -> Service {
    let host_header = if e.authority == "-" {
        UNKNOWN.to_string()
    } else {
        e.authority.clone()
    };
    let special = match (e.route_name.as_str(), e.upstream_cluster.as_str()) {
        (crate::xds::ALLOW_ANY, _) | (_, "PassthroughCluster") => Some("PassthroughCluster"),
        (crate::xds::BLOCK_ALL, _) | (_, "BlackHoleCluster") => Some("BlackHoleCluster"),
        _ => None,
    };
    if let Some(name) = special {
        return Service {
            host: host_header,
            name: name.into(),
            namespace: UNKNOWN.into(),
        };
    }
    let cluster = proxy.clusters.get(e.upstream_cluster.as_str());
    match cluster.filter(|c| !c.host.is_empty()) {
        Some(c) => {
            let registered = mesh.ctx.registry.exact(&c.host).next();
            Service {
                host: c.host.clone(),
                name: match registered {
                    Some(s) if s.origin.kind == egressbench_resources::Kind::Service => {
                        s.origin.name.clone()
                    }
                    _ => c.host.clone(),
                },
                namespace: registered.map_or_else(|| UNKNOWN.into(), |s| s.namespace.clone()),
            }
        }
        None => Service {
            name: host_header.clone(),
            host: host_header,
            namespace: UNKNOWN.into(),
        },
    }
}

/// `destination_service*` of an inbound request: the Service that selects the pod on the port
/// the request came to, else the pod's own canonical name.
fn inbound_service(mesh: &Mesh, own: &Workload, e: &AccessLogEntry) -> Service {
    let port: Option<u16> = e
        .downstream_local_address
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok());
    let selecting = mesh.ctx.registry.services.iter().find(|s| {
        s.origin.kind == egressbench_resources::Kind::Service
            && s.endpoints.iter().any(|ep| {
                matches!(ep, crate::topology::registry::ServiceEndpoint::Workload(w) if *w == own.id)
            })
            && port.is_none_or(|p| s.ports.iter().any(|sp| sp.target_port == p))
    });
    match selecting {
        Some(s) => Service {
            host: s.hostname.clone(),
            name: s.origin.name.clone(),
            namespace: s.namespace.clone(),
        },
        None => {
            let name = canonical_service(own);
            Service {
                host: name.clone(),
                name,
                namespace: own.id.namespace.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Scheme;
    use crate::testing::{call, mesh};

    fn page_after(requests: &[(Scheme, &str, u16)]) -> String {
        let m = mesh("");
        let sleep = WorkloadRef::new("default", "sleep");
        let mut log = Vec::new();
        for (scheme, host, port) in requests {
            let x = call(&m, "default/sleep", *scheme, host, *port, "/");
            log.extend(x.logs.into_iter().filter(|e| e.proxy == "default/sleep"));
        }
        istio_metrics(&m, m.proxy(&sleep).expect("a sidecar"), &log)
    }

    fn label<'a>(line: &'a str, name: &str) -> Option<&'a str> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        line[start..].split('"').next()
    }

    #[test]
    fn a_blocked_request_is_named_after_the_black_hole_with_its_host() {
        let page = page_after(&[
            (Scheme::Http, "httpbin.org", 80),
            (Scheme::Http, "httpbin.org", 80),
        ]);
        let lines: Vec<&str> = page.lines().collect();
        assert_eq!(lines[0], "# TYPE istio_requests_total counter");
        let series = lines[1];
        assert!(series.ends_with("} 2"), "{series}");
        assert_eq!(label(series, "reporter"), Some("source"));
        assert_eq!(label(series, "source_workload"), Some("sleep"));
        assert_eq!(label(series, "source_app"), Some("sleep"));
        assert_eq!(label(series, "source_version"), Some(""));
        assert_eq!(label(series, "destination_service"), Some("httpbin.org"));
        assert_eq!(
            label(series, "destination_service_name"),
            Some("BlackHoleCluster")
        );
        assert_eq!(label(series, "response_code"), Some("502"));
        assert_eq!(label(series, "response_flags"), Some("-"));
        // Istio's order: the five request labels close the series.
        let names: Vec<&str> = series
            .split(['{', ','])
            .filter_map(|kv| kv.split_once('=').map(|(k, _)| k))
            .collect();
        assert_eq!(names.len(), 25);
        assert_eq!(&names[..2], ["reporter", "source_workload"]);
        assert_eq!(names[24], "connection_security_policy");
    }

    #[test]
    fn a_tcp_connection_is_opened_and_closed_with_its_flags_and_no_response_code() {
        let page = page_after(&[(Scheme::Https, "httpbin.org", 443)]);
        let opened = page
            .lines()
            .find(|l| l.starts_with("istio_tcp_connections_opened_total{"))
            .expect("an opened series");
        assert_eq!(label(opened, "destination_service"), Some("unknown"));
        assert_eq!(
            label(opened, "destination_service_name"),
            Some("BlackHoleCluster")
        );
        assert_eq!(label(opened, "request_protocol"), Some("tcp"));
        assert_eq!(label(opened, "response_flags"), Some("UH"));
        assert_eq!(label(opened, "response_code"), None);
        assert!(page.contains("# TYPE istio_tcp_connections_closed_total counter"));
        assert!(!page.contains("istio_requests_total"));
    }

    #[test]
    fn every_series_has_its_familys_labels_in_order() {
        let m = mesh("");
        let sleep = WorkloadRef::new("default", "sleep");
        let mut log = Vec::new();
        for (scheme, port) in [(Scheme::Http, 80), (Scheme::Https, 443)] {
            let x = call(&m, "default/sleep", scheme, "httpbin.org", port, "/");
            log.extend(x.logs);
        }
        let series = istio_series(&m, m.proxy(&sleep).expect("a sidecar"), &log);
        assert_eq!(series.len(), 3);
        for s in &series {
            let (_, names) = istio_families()
                .into_iter()
                .find(|(f, _)| *f == s.family)
                .expect("a known family");
            let got: Vec<&str> = s.labels.iter().map(|(n, _)| *n).collect();
            assert_eq!(got, names, "{}", s.family);
        }
    }

    #[test]
    fn nothing_sent_prints_nothing() {
        assert_eq!(page_after(&[]), "");
    }

    #[test]
    fn label_values_are_escaped_as_prometheus_text() {
        assert_eq!(escaped("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

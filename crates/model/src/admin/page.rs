//! The admin pages the documents read, printed as Envoy prints them: `/clusters` (each cluster's
//! name lines, then each endpoint's counters and attributes), `/stats` (`cluster.<name>.<stat>:
//! <value>`, sorted by name, with Envoy's `filter=` and `usedonly`), and `/stats/prometheus`
//! (Istio's standard metrics, from `metrics`).
//!
//! Owns: `AdminPage` (a path read: `clusters`, `/stats?filter=…&usedonly`, `stats/prometheus`),
//! `AdminPageError`, `PageInputs` (what a page is printed from) and `page`. The counters come from whichever target counted them; the clusters and their endpoints
//! from the proxy's config, so every target prints the same lines for the same counts. Leaves out:
//! what Envoy prints that is not modelled — circuit-breaker thresholds, listener, server and
//! HTTP connection manager stats, byte and time histograms, `format=json` — which the README
//! lists.

use crate::decide::step::endpoint_address;
use crate::external::Internet;
use crate::mesh::Mesh;
use crate::outcome::counters::{ClusterCounters, ClusterStat, HostStat, ProxyCounters};
use crate::outcome::AccessLogEntry;
use crate::xds::{ClusterKind, EndpointTarget, ProxyConfig};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// An admin page, as asked for by its path.
#[derive(Debug, Clone)]
pub enum AdminPage {
    /// `/clusters`.
    Clusters,
    /// `/stats`: the stats whose name `filter` matches (all without one), only those used so far
    /// with `usedonly`.
    Stats {
        filter: Option<regex::Regex>,
        used_only: bool,
    },
    /// `/stats/prometheus`: Istio's standard metrics (`metrics::istio_metrics`).
    Prometheus,
}

impl PartialEq for AdminPage {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AdminPage::Clusters, AdminPage::Clusters) => true,
            (AdminPage::Prometheus, AdminPage::Prometheus) => true,
            (
                AdminPage::Stats {
                    filter: a,
                    used_only: x,
                },
                AdminPage::Stats {
                    filter: b,
                    used_only: y,
                },
            ) => {
                a.as_ref().map(regex::Regex::as_str) == b.as_ref().map(regex::Regex::as_str)
                    && x == y
            }
            _ => false,
        }
    }
}

/// A path that names no page this bench prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminPageError {
    #[error("admin path `{path}` is not replayed: only `clusters`, `stats` (with `filter=REGEX` and `usedonly`) and `stats/prometheus` are")]
    Unknown { path: String },
    #[error("admin path `{path}`: parameter `{param}` is not replayed (only `filter=REGEX` and `usedonly` are)")]
    Parameter { path: String, param: String },
    #[error("admin path `{path}`: `filter={filter}` is not a regular expression: {why}")]
    Filter {
        path: String,
        filter: String,
        why: String,
    },
}

impl std::str::FromStr for AdminPage {
    type Err = AdminPageError;

    fn from_str(path: &str) -> Result<Self, Self::Err> {
        let trimmed = path.trim_start_matches('/');
        let (page, query) = trimmed.split_once('?').unwrap_or((trimmed, ""));
        match page {
            "clusters" if query.is_empty() => Ok(AdminPage::Clusters),
            "stats/prometheus" if query.is_empty() => Ok(AdminPage::Prometheus),
            "stats" => {
                let mut filter = None;
                let mut used_only = false;
                for param in query.split('&').filter(|p| !p.is_empty()) {
                    match param.split_once('=') {
                        None if param == "usedonly" => used_only = true,
                        Some(("filter", f)) => {
                            let f = percent_decoded(f);
                            filter = Some(regex::Regex::new(&f).map_err(|e| {
                                AdminPageError::Filter {
                                    path: path.into(),
                                    filter: f.clone(),
                                    why: e.to_string(),
                                }
                            })?);
                        }
                        _ => {
                            return Err(AdminPageError::Parameter {
                                path: path.into(),
                                param: param.into(),
                            })
                        }
                    }
                }
                Ok(AdminPage::Stats { filter, used_only })
            }
            "clusters" => Err(AdminPageError::Parameter {
                path: path.into(),
                param: query.into(),
            }),
            _ => Err(AdminPageError::Unknown { path: path.into() }),
        }
    }
}

/// `%XX` escapes decoded (a filter in a URL writes `%7C` for `|`).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a proxy's admin pages are printed from: its config, the counters a target kept, its
/// access log so far (for Istio's metrics), the mesh it runs in, and the outside world (which
/// resolves the DNS names of its endpoints).
#[derive(Debug, Clone, Copy)]
pub struct PageInputs<'a> {
    pub config: &'a ProxyConfig,
    pub counters: &'a ProxyCounters,
    pub log: &'a [AccessLogEntry],
    pub mesh: &'a Mesh,
    pub internet: &'a Internet,
}

/// Page `what` of a proxy, from `inputs`.
pub fn page(what: &AdminPage, inputs: &PageInputs<'_>) -> String {
    let PageInputs {
        config,
        counters,
        internet,
        ..
    } = *inputs;
    match what {
        AdminPage::Clusters => clusters(config, counters, internet),
        AdminPage::Stats { filter, used_only } => {
            stats(config, counters, filter.as_ref(), *used_only)
        }
        AdminPage::Prometheus => super::metrics::istio_metrics(inputs.mesh, config, inputs.log),
    }
}

fn clusters(config: &ProxyConfig, counters: &ProxyCounters, internet: &Internet) -> String {
    let empty = ClusterCounters::default();
    let mut out = String::new();
    for (name, cluster) in &config.clusters {
        let counted = counters.cluster(name).unwrap_or(&empty);
        let _ = writeln!(out, "{name}::observability_name::{name}");
        let _ = writeln!(out, "{name}::added_via_api::true");
        // The endpoints Envoy knows: those that resolve (an original-destination cluster
        // knows the destinations it was used for), and any other one it counted.
        let mut hosts: Vec<(String, String)> = cluster
            .endpoints
            .iter()
            .filter(|e| e.target != EndpointTarget::OriginalDestination)
            .filter_map(|e| {
                let (dns, port, address) = endpoint_address(internet, e, ("", 0));
                let hostname = match (cluster.kind, &e.target) {
                    (ClusterKind::StrictDns, EndpointTarget::External(_)) => dns,
                    _ => String::new(),
                };
                Some((
                    std::net::SocketAddr::new(address?, port).to_string(),
                    hostname,
                ))
            })
            .collect();
        let known: BTreeSet<String> = hosts.iter().map(|(h, _)| h.clone()).collect();
        hosts.extend(
            counted
                .hosts
                .keys()
                .filter(|h| !known.contains(*h))
                .map(|h| (h.clone(), String::new())),
        );
        for (host, hostname) in hosts {
            for stat in HostStat::ALL {
                let _ = writeln!(
                    out,
                    "{name}::{host}::{}::{}",
                    stat.name(),
                    counted.host(&host, stat)
                );
            }
            for (key, value) in [
                ("hostname", hostname.as_str()),
                ("health_flags", "healthy"),
                ("weight", "1"),
                ("region", ""),
                ("zone", ""),
                ("sub_zone", ""),
                ("canary", "false"),
                ("priority", "0"),
                ("success_rate", "-1"),
                ("local_origin_success_rate", "-1"),
            ] {
                let _ = writeln!(out, "{name}::{host}::{key}::{value}");
            }
        }
    }
    out
}

fn stats(
    config: &ProxyConfig,
    counters: &ProxyCounters,
    filter: Option<&regex::Regex>,
    used_only: bool,
) -> String {
    let empty = ClusterCounters::default();
    let mut lines: Vec<(String, u64)> = Vec::new();
    for name in config.clusters.keys() {
        let counted = counters.cluster(name).unwrap_or(&empty);
        let stats: BTreeSet<ClusterStat> = ClusterStat::FIXED
            .into_iter()
            .chain(counted.stats.keys().copied())
            .collect();
        for stat in stats {
            lines.push((format!("cluster.{name}.{}", stat.name()), counted.get(stat)));
        }
    }
    lines.sort();
    let mut out = String::new();
    for (stat, value) in lines {
        if used_only && value == 0 {
            continue;
        }
        if filter.is_some_and(|f| !f.is_match(&stat)) {
            continue;
        }
        let _ = writeln!(out, "{stat}: {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::counters::UpstreamEvent;

    #[test]
    fn paths_read_as_envoy_reads_them() {
        assert_eq!(
            "clusters".parse::<AdminPage>().unwrap(),
            AdminPage::Clusters
        );
        assert_eq!(
            "/clusters".parse::<AdminPage>().unwrap(),
            AdminPage::Clusters
        );
        let AdminPage::Stats { filter, used_only } = "/stats?usedonly&filter=cx_total%7Crq_total"
            .parse::<AdminPage>()
            .unwrap()
        else {
            panic!("not stats");
        };
        assert!(used_only);
        assert_eq!(filter.unwrap().as_str(), "cx_total|rq_total");
        let err = "config_dump".parse::<AdminPage>().unwrap_err();
        assert!(
            err.to_string().contains("only `clusters`, `stats`"),
            "{err}"
        );
        assert_eq!(
            "/stats/prometheus".parse::<AdminPage>(),
            Ok(AdminPage::Prometheus)
        );
        let err = "stats?format=json".parse::<AdminPage>().unwrap_err();
        assert!(err.to_string().contains("`format=json`"), "{err}");
        let err = "stats?filter=(".parse::<AdminPage>().unwrap_err();
        assert!(
            err.to_string().contains("not a regular expression"),
            "{err}"
        );
    }

    use crate::request::WorkloadRef;

    fn mesh() -> Mesh {
        crate::testing::mesh(
            r#"
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin-tls, namespace: default}
spec:
  hosts: [httpbin.org]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
"#,
        )
    }

    #[test]
    fn clusters_print_each_endpoint_with_its_counters_as_envoy_does() {
        let mesh = mesh();
        let config = mesh
            .proxies
            .get(&WorkloadRef::new("default", "sleep"))
            .cloned()
            .expect("the sidecar's config");
        let internet = Internet::default();
        let address = internet.resolve("httpbin.org").unwrap();
        let host = format!("{address}:443");
        let host = host.as_str();
        let cluster = "outbound|443||httpbin.org";
        let mut counters = ProxyCounters::default();
        for _ in 0..2 {
            counters.record(cluster, UpstreamEvent::Connected { host });
            counters.record(cluster, UpstreamEvent::Sent { host });
            counters.record(cluster, UpstreamEvent::Closed { host });
        }
        let inputs = PageInputs {
            config: &config,
            counters: &counters,
            log: &[],
            mesh: &mesh,
            internet: &internet,
        };
        let text = page(&AdminPage::Clusters, &inputs);
        assert!(
            text.contains(&format!("{cluster}::{host}::cx_total::2\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("{cluster}::{host}::cx_active::0\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("{cluster}::{host}::hostname::httpbin.org\n")),
            "{text}"
        );
        assert!(text.contains("BlackHoleCluster::observability_name::BlackHoleCluster\n"));
        let stats = page(
            &"stats?filter=443.*httpbin.*cx_total".parse().unwrap(),
            &inputs,
        );
        assert_eq!(stats, format!("cluster.{cluster}.upstream_cx_total: 2\n"));
        let used = page(&"stats?usedonly&filter=httpbin".parse().unwrap(), &inputs);
        assert_eq!(
            used,
            format!(
                "cluster.{cluster}.upstream_cx_total: 2\ncluster.{cluster}.upstream_rq_total: 2\n"
            )
        );
    }
}

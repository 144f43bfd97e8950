//! The proxies' upstream counters compared at the end of each state: after every probe of the
//! state has run on every target, each proxy's counters (what `pilot-agent request GET stats` and
//! `clusters` print) must be the same on every target.
//!
//! Owns: `CounterCheck` (one proxy's counters on each target, and whether they agree) and
//! `compared` (the counters the check looks at, by name). Left out: connection counts of a
//! cluster that carried HTTP (Envoy keeps HTTP connections open for the next request, and the
//! Envoy target restarts a proxy whose config changed, which a live proxy does not, so how often
//! such a connection was reopened after a change is the Envoy target's, not the mesh's), and the
//! endpoints of an original-destination cluster (Envoy forgets such an endpoint once it has no
//! connection, after the cluster's cleanup interval, so whether its counters are still there is
//! timing). Leaves out: running the probes (`build`).

use egressbench_model::outcome::counters::{ClusterStat, HostStat, ProxyCounters};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counters by name (`cluster.<name>.<stat>`, `<cluster>::<host>::<stat>`), non-zero ones only.
pub type Named = BTreeMap<String, u64>;

/// One proxy's counters on every target.
#[derive(Debug, Clone, Serialize)]
pub struct CounterCheck {
    /// `namespace/workload`.
    pub proxy: String,
    /// Each target's counters, or why the target could not say.
    pub by_target: Vec<(&'static str, Result<Named, String>)>,
    pub agree: bool,
}

impl CounterCheck {
    /// The check of `proxy`'s counters on each target; `transient` names its original-destination
    /// clusters.
    pub fn new(
        proxy: String,
        transient: &[String],
        by_target: Vec<(&'static str, Result<ProxyCounters, String>)>,
    ) -> Self {
        let http: Vec<String> = by_target
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok())
            .flat_map(|c| {
                c.clusters
                    .iter()
                    .filter(|(_, c)| c.get(ClusterStat::RqCompleted) > 0)
                    .map(|(name, _)| name.clone())
            })
            .collect();
        let by_target: Vec<_> = by_target
            .into_iter()
            .map(|(t, c)| (t, c.map(|c| compared(&c, &http, transient))))
            .collect();
        let agree = by_target.windows(2).all(|w| w[0].1 == w[1].1);
        CounterCheck {
            proxy,
            by_target,
            agree,
        }
    }

    /// How many counters were compared (the most any target had).
    pub fn compared(&self) -> usize {
        self.by_target
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok().map(BTreeMap::len))
            .max()
            .unwrap_or(0)
    }

    /// Each differing counter with every target's value (`cluster.x.upstream_cx_total: model 2,
    /// envoy 3`), or each target's error.
    pub fn differences(&self) -> Vec<String> {
        let mut names: Vec<&String> = self
            .by_target
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok())
            .flat_map(BTreeMap::keys)
            .collect();
        names.sort();
        names.dedup();
        let mut out: Vec<String> = names
            .into_iter()
            .filter_map(|name| {
                let values: Vec<Option<u64>> = self
                    .by_target
                    .iter()
                    .map(|(_, c)| c.as_ref().ok().map(|c| c.get(name).copied().unwrap_or(0)))
                    .collect();
                if values.windows(2).all(|w| w[0] == w[1]) {
                    return None;
                }
                let each: Vec<String> = self
                    .by_target
                    .iter()
                    .zip(values)
                    .map(|((t, _), v)| match v {
                        Some(v) => format!("{t} {v}"),
                        None => format!("{t} -"),
                    })
                    .collect();
                Some(format!("{name}: {}", each.join(", ")))
            })
            .collect();
        out.extend(
            self.by_target
                .iter()
                .filter_map(|(t, c)| c.as_ref().err().map(|e| format!("{t}: {e}"))),
        );
        out
    }
}

/// The counters compared, by name: every non-zero one, but the connection counts of the clusters
/// in `http` (those that completed an HTTP request on some target) and the endpoints of those in
/// `transient`.
fn compared(c: &ProxyCounters, http: &[String], transient: &[String]) -> Named {
    let mut out = BTreeMap::new();
    for (name, cluster) in &c.clusters {
        let pooled = http.contains(name);
        for (stat, n) in &cluster.stats {
            let connections = matches!(stat, ClusterStat::CxTotal | ClusterStat::CxActive);
            if *n > 0 && !(pooled && connections) {
                out.insert(format!("cluster.{name}.{}", stat.name()), *n);
            }
        }
        if transient.contains(name) {
            continue;
        }
        for (host, stats) in &cluster.hosts {
            for (stat, n) in stats {
                let connections = matches!(stat, HostStat::CxTotal | HostStat::CxActive);
                if *n > 0 && !(pooled && connections) {
                    out.insert(format!("{name}::{host}::{}", stat.name()), *n);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::outcome::counters::UpstreamEvent;

    fn counted(events: &[(&str, UpstreamEvent<'_>)]) -> ProxyCounters {
        let mut c = ProxyCounters::default();
        for (cluster, e) in events {
            c.record(cluster, *e);
        }
        c
    }

    #[test]
    fn targets_that_counted_the_same_agree_and_a_difference_is_named() {
        let host = "203.0.113.10:443";
        let tcp = [
            ("tcp", UpstreamEvent::Connected { host }),
            ("tcp", UpstreamEvent::Sent { host }),
            ("tcp", UpstreamEvent::Closed { host }),
        ];
        let check = CounterCheck::new(
            "default/sleep".into(),
            &[],
            vec![("model", Ok(counted(&tcp))), ("envoy", Ok(counted(&tcp)))],
        );
        assert!(check.agree);
        assert_eq!(check.compared(), 4);
        let check = CounterCheck::new(
            "default/sleep".into(),
            &[],
            vec![
                ("model", Ok(counted(&tcp))),
                ("envoy", Ok(counted(&tcp[..1]))),
            ],
        );
        assert!(!check.agree);
        assert_eq!(
            check.differences(),
            vec![
                "cluster.tcp.upstream_cx_active: model 0, envoy 1".to_string(),
                "cluster.tcp.upstream_rq_total: model 1, envoy 0".to_string(),
                format!("tcp::{host}::cx_active: model 0, envoy 1"),
                format!("tcp::{host}::rq_total: model 1, envoy 0"),
            ]
        );
    }

    #[test]
    fn an_http_clusters_connection_counts_are_left_out() {
        let host = "203.0.113.10:80";
        let request = [
            ("http", UpstreamEvent::Sent { host }),
            (
                "http",
                UpstreamEvent::Charged {
                    host: Some(host),
                    status: 200,
                },
            ),
        ];
        let mut reopened = request.to_vec();
        reopened.insert(0, ("http", UpstreamEvent::Connected { host }));
        let check = CounterCheck::new(
            "default/sleep".into(),
            &[],
            vec![
                ("model", Ok(counted(&request))),
                ("envoy", Ok(counted(&reopened))),
            ],
        );
        assert!(check.agree, "{:?}", check.differences());
    }
}

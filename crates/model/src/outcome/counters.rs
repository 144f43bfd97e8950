//! A proxy's upstream counters, as Envoy keeps them per cluster (`cluster.<name>.upstream_…`) and
//! per endpoint (`/clusters`' `cx_total`, `rq_success`, …), and the events that move them.
//!
//! Owns: `ProxyCounters`, `ClusterStat`, `HostStat` and `UpstreamEvent` — which counter each event
//! moves, measured against Envoy 1.40: a connection made (`cx_total`) or failed
//! (`cx_connect_fail`, and an HTTP request's endpoint `rq_error`), a cluster with no endpoint
//! (`cx_none_healthy`), a request on a connection (`rq_total`: a TCP proxy's connection counts as
//! one too), a status charged by the router (`upstream_rq_<code>`, `<class>xx`, `completed`; the
//! endpoint's `rq_success` below 500, `rq_error` from 500), a route timeout (`rq_timeout`, charged
//! as a 504), a retry (`rq_retry`), and connections open now (`cx_active`). Leaves out: when the
//! events happen (the model's `admin` for the reference semantics, the simulated proxies for
//! theirs, Envoy's admin interface for real Envoy) and printing them (`admin`).

use serde::Serialize;
use std::collections::BTreeMap;

/// A counter of a cluster, named as Envoy names it after `cluster.<name>.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ClusterStat {
    /// `upstream_cx_active`: connections open now (a gauge).
    CxActive,
    CxConnectFail,
    CxNoneHealthy,
    CxTotal,
    RqCompleted,
    RqRetry,
    RqTimeout,
    RqTotal,
    /// `upstream_rq_<status>`.
    Rq(u16),
    /// `upstream_rq_<class>xx`.
    RqClass(u8),
}

impl ClusterStat {
    /// The counters Envoy has for every cluster from the start (the per-status ones appear when
    /// first charged).
    pub const FIXED: [ClusterStat; 8] = [
        ClusterStat::CxActive,
        ClusterStat::CxConnectFail,
        ClusterStat::CxNoneHealthy,
        ClusterStat::CxTotal,
        ClusterStat::RqCompleted,
        ClusterStat::RqRetry,
        ClusterStat::RqTimeout,
        ClusterStat::RqTotal,
    ];

    /// Envoy's name: `upstream_cx_total`, `upstream_rq_503`, `upstream_rq_5xx`.
    pub fn name(self) -> String {
        let fixed = match self {
            ClusterStat::CxActive => "upstream_cx_active",
            ClusterStat::CxConnectFail => "upstream_cx_connect_fail",
            ClusterStat::CxNoneHealthy => "upstream_cx_none_healthy",
            ClusterStat::CxTotal => "upstream_cx_total",
            ClusterStat::RqCompleted => "upstream_rq_completed",
            ClusterStat::RqRetry => "upstream_rq_retry",
            ClusterStat::RqTimeout => "upstream_rq_timeout",
            ClusterStat::RqTotal => "upstream_rq_total",
            ClusterStat::Rq(code) => return format!("upstream_rq_{code}"),
            ClusterStat::RqClass(class) => return format!("upstream_rq_{class}xx"),
        };
        fixed.to_string()
    }

    /// The counter Envoy names `name`, if it is one of these.
    pub fn parse(name: &str) -> Option<ClusterStat> {
        if let Some(s) = Self::FIXED.into_iter().find(|s| s.name() == name) {
            return Some(s);
        }
        let rest = name.strip_prefix("upstream_rq_")?;
        match rest.as_bytes() {
            [c @ b'1'..=b'5', b'x', b'x'] => Some(ClusterStat::RqClass(c - b'0')),
            [b'1'..=b'5', b'0'..=b'9', b'0'..=b'9'] => rest.parse().ok().map(ClusterStat::Rq),
            _ => None,
        }
    }

    /// Whether it counts what is open now rather than what happened (not carried over a
    /// restart).
    pub fn is_gauge(self) -> bool {
        self == ClusterStat::CxActive
    }
}

/// A counter of one endpoint of a cluster, as `/clusters` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum HostStat {
    CxActive,
    CxConnectFail,
    CxTotal,
    RqActive,
    RqError,
    RqSuccess,
    RqTimeout,
    RqTotal,
}

impl HostStat {
    /// In the order `/clusters` prints them.
    pub const ALL: [HostStat; 8] = [
        HostStat::CxActive,
        HostStat::CxConnectFail,
        HostStat::CxTotal,
        HostStat::RqActive,
        HostStat::RqError,
        HostStat::RqSuccess,
        HostStat::RqTimeout,
        HostStat::RqTotal,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            HostStat::CxActive => "cx_active",
            HostStat::CxConnectFail => "cx_connect_fail",
            HostStat::CxTotal => "cx_total",
            HostStat::RqActive => "rq_active",
            HostStat::RqError => "rq_error",
            HostStat::RqSuccess => "rq_success",
            HostStat::RqTimeout => "rq_timeout",
            HostStat::RqTotal => "rq_total",
        }
    }

    pub fn parse(name: &str) -> Option<HostStat> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn is_gauge(self) -> bool {
        matches!(self, HostStat::CxActive | HostStat::RqActive)
    }
}

/// What happened on a cluster's upstream side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamEvent<'a> {
    /// No endpoint to connect to (`UH`).
    NoHealthyHost,
    /// A connection to `host` is up.
    Connected { host: &'a str },
    /// A connection to `host` failed to connect or to finish its TLS handshake (`None`: its
    /// name did not resolve); `http`: it was for an HTTP request, which the endpoint counts as
    /// an error.
    ConnectFailed { host: Option<&'a str>, http: bool },
    /// A connection to `host` closed.
    Closed { host: &'a str },
    /// A request went out on a connection to `host` (a TCP proxy's connection is one).
    Sent { host: &'a str },
    /// The router charged `status` for the request (from `host`, when one answered or failed).
    Charged { host: Option<&'a str>, status: u16 },
    /// The route's timeout passed before `host` answered.
    TimedOut { host: &'a str },
    /// The router tried again.
    Retried,
}

/// The counters of one cluster: its own and its endpoints'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterCounters {
    pub stats: BTreeMap<ClusterStat, u64>,
    /// By endpoint address (`198.35.26.96:443`).
    pub hosts: BTreeMap<String, BTreeMap<HostStat, u64>>,
}

impl ClusterCounters {
    pub fn get(&self, stat: ClusterStat) -> u64 {
        self.stats.get(&stat).copied().unwrap_or(0)
    }

    pub fn host(&self, host: &str, stat: HostStat) -> u64 {
        self.hosts
            .get(host)
            .and_then(|h| h.get(&stat))
            .copied()
            .unwrap_or(0)
    }

    fn add(&mut self, stat: ClusterStat, n: i64) {
        let v = self.stats.entry(stat).or_default();
        *v = v.saturating_add_signed(n);
    }

    fn add_host(&mut self, host: &str, stat: HostStat, n: i64) {
        let v = self
            .hosts
            .entry(host.to_string())
            .or_default()
            .entry(stat)
            .or_default();
        *v = v.saturating_add_signed(n);
    }
}

/// One proxy's counters, by cluster name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProxyCounters {
    pub clusters: BTreeMap<String, ClusterCounters>,
}

impl ProxyCounters {
    pub fn cluster(&self, name: &str) -> Option<&ClusterCounters> {
        self.clusters.get(name)
    }

    /// Count `event` on cluster `cluster`.
    pub fn record(&mut self, cluster: &str, event: UpstreamEvent<'_>) {
        let c = self.clusters.entry(cluster.to_string()).or_default();
        match event {
            UpstreamEvent::NoHealthyHost => c.add(ClusterStat::CxNoneHealthy, 1),
            UpstreamEvent::Connected { host } => {
                c.add(ClusterStat::CxTotal, 1);
                c.add(ClusterStat::CxActive, 1);
                c.add_host(host, HostStat::CxTotal, 1);
                c.add_host(host, HostStat::CxActive, 1);
            }
            UpstreamEvent::ConnectFailed { host, http } => {
                c.add(ClusterStat::CxTotal, 1);
                c.add(ClusterStat::CxConnectFail, 1);
                if let Some(host) = host {
                    c.add_host(host, HostStat::CxTotal, 1);
                    c.add_host(host, HostStat::CxConnectFail, 1);
                    if http {
                        c.add_host(host, HostStat::RqError, 1);
                    }
                }
            }
            UpstreamEvent::Closed { host } => {
                c.add(ClusterStat::CxActive, -1);
                c.add_host(host, HostStat::CxActive, -1);
            }
            UpstreamEvent::Sent { host } => {
                c.add(ClusterStat::RqTotal, 1);
                c.add_host(host, HostStat::RqTotal, 1);
            }
            UpstreamEvent::Charged { host, status } => {
                c.add(ClusterStat::Rq(status), 1);
                c.add(ClusterStat::RqClass((status / 100) as u8), 1);
                c.add(ClusterStat::RqCompleted, 1);
                if let Some(host) = host {
                    let stat = if status >= 500 {
                        HostStat::RqError
                    } else {
                        HostStat::RqSuccess
                    };
                    c.add_host(host, stat, 1);
                }
            }
            UpstreamEvent::TimedOut { host } => {
                c.add(ClusterStat::RqTimeout, 1);
                c.add_host(host, HostStat::RqTimeout, 1);
            }
            UpstreamEvent::Retried => c.add(ClusterStat::RqRetry, 1),
        }
    }

    /// Add `other`'s counters to these (gauges are left as they are: what was open in a proxy
    /// that restarted is closed).
    pub fn carry(&mut self, other: &ProxyCounters) {
        for (name, theirs) in &other.clusters {
            let ours = self.clusters.entry(name.clone()).or_default();
            for (stat, n) in theirs.stats.iter().filter(|(s, _)| !s.is_gauge()) {
                *ours.stats.entry(*stat).or_default() += n;
            }
            for (host, stats) in &theirs.hosts {
                let mine = ours.hosts.entry(host.clone()).or_default();
                for (stat, n) in stats.iter().filter(|(s, _)| !s.is_gauge()) {
                    *mine.entry(*stat).or_default() += n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_names_read_back() {
        for s in ClusterStat::FIXED
            .into_iter()
            .chain([ClusterStat::Rq(503), ClusterStat::RqClass(2)])
        {
            assert_eq!(ClusterStat::parse(&s.name()), Some(s), "{}", s.name());
        }
        assert_eq!(ClusterStat::parse("upstream_rq_pending_total"), None);
        assert_eq!(ClusterStat::parse("upstream_rq_6xx"), None);
        assert_eq!(ClusterStat::parse("upstream_rq_20"), None);
        for s in HostStat::ALL {
            assert_eq!(HostStat::parse(s.name()), Some(s));
        }
    }

    #[test]
    fn a_failed_http_connect_is_an_endpoint_error_and_its_status_is_charged_once() {
        let mut p = ProxyCounters::default();
        let host = "203.0.113.9:81";
        for _ in 0..3 {
            p.record(
                "c",
                UpstreamEvent::ConnectFailed {
                    host: Some(host),
                    http: true,
                },
            );
        }
        p.record("c", UpstreamEvent::Retried);
        p.record("c", UpstreamEvent::Retried);
        p.record(
            "c",
            UpstreamEvent::Charged {
                host: None,
                status: 503,
            },
        );
        let c = p.cluster("c").unwrap();
        assert_eq!(c.get(ClusterStat::CxTotal), 3);
        assert_eq!(c.get(ClusterStat::CxConnectFail), 3);
        assert_eq!(c.get(ClusterStat::RqTotal), 0);
        assert_eq!(c.get(ClusterStat::RqRetry), 2);
        assert_eq!(c.get(ClusterStat::Rq(503)), 1);
        assert_eq!(c.get(ClusterStat::RqClass(5)), 1);
        assert_eq!(c.host(host, HostStat::RqError), 3);
        assert_eq!(c.host(host, HostStat::CxActive), 0);
    }

    #[test]
    fn carrying_over_a_restart_adds_counters_but_not_what_was_open() {
        let mut before = ProxyCounters::default();
        before.record("c", UpstreamEvent::Connected { host: "h:80" });
        before.record("c", UpstreamEvent::Sent { host: "h:80" });
        let mut after = ProxyCounters::default();
        after.record("c", UpstreamEvent::Connected { host: "h:80" });
        after.carry(&before);
        let c = after.cluster("c").unwrap();
        assert_eq!(c.get(ClusterStat::CxTotal), 2);
        assert_eq!(c.get(ClusterStat::CxActive), 1);
        assert_eq!(c.host("h:80", HostStat::CxActive), 1);
        assert_eq!(c.host("h:80", HostStat::RqTotal), 1);
    }
}

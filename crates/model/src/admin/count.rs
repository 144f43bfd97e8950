//! The model's upstream connections and counters: each exchange's access-log entries say what
//! every proxy did upstream, and Envoy's HTTP connection pool (one worker, as the targets run
//! Envoy) says whether a request opened a connection or reused the one left open.
//!
//! Owns: `Upstreams` — counters by proxy, the connections left open, `record` (one exchange's
//! entries) and `reconfigured` (a cluster whose upstream settings changed, or that is gone,
//! closes its connections, as Envoy drains them on a cluster update). Leaves out: which counter
//! an event moves (`outcome::counters`).

use crate::mesh::Mesh;
use crate::outcome::counters::{ProxyCounters, UpstreamEvent};
use crate::outcome::reply::{Details, ResponseFlag, ResponseFlags};
use crate::outcome::AccessLogEntry;
use std::collections::{BTreeMap, BTreeSet};

/// How many attempts a request marked `URX` made: the first and istiod's two retries.
const RETRIED_ATTEMPTS: usize = 3;

/// What the model's proxies did upstream so far.
#[derive(Debug, Clone, Default)]
pub struct Upstreams {
    counters: BTreeMap<String, ProxyCounters>,
    /// HTTP connections left open in a pool: (proxy, cluster, endpoint).
    open: BTreeSet<(String, String, String)>,
}

impl Upstreams {
    /// The counters of `proxy` (`namespace/workload`); none for a proxy that sent nothing yet.
    pub fn counters(&self, proxy: &str) -> ProxyCounters {
        self.counters.get(proxy).cloned().unwrap_or_default()
    }

    /// Count what the proxies did for one exchange, from the entries they logged for it.
    pub fn record(&mut self, logs: &[AccessLogEntry]) {
        for e in logs {
            self.entry(e);
        }
    }

    fn entry(&mut self, e: &AccessLogEntry) {
        let cluster = e.upstream_cluster.as_str();
        if cluster.is_empty() || cluster == "-" {
            return;
        }
        // An entry whose flags the catalogue cannot read moves nothing.
        let Some(flags) = ResponseFlags::parse(&e.response_flags) else {
            return;
        };
        let http = e.protocol != "-";
        let host = Some(e.upstream_host.as_str()).filter(|h| !h.is_empty() && *h != "-");
        let proxy = e.proxy.clone();
        let mut events = Vec::new();
        // An HTTP route retries; a TCP proxy makes one attempt (and flags `URX` after it).
        let attempts = if http && flags.contains(ResponseFlag::UpstreamRetryLimitExceeded) {
            RETRIED_ATTEMPTS
        } else {
            1
        };
        let via_upstream = e.response_code_details == Details::ViaUpstream.to_string();
        if flags.contains(ResponseFlag::NoHealthyUpstream) {
            events.push(UpstreamEvent::NoHealthyHost);
            if http {
                events.push(UpstreamEvent::Charged {
                    host: None,
                    status: e.response_code,
                });
            }
        } else if flags.contains(ResponseFlag::UpstreamConnectionFailure) {
            events.extend(std::iter::repeat_n(
                UpstreamEvent::ConnectFailed { host, http },
                attempts,
            ));
            events.extend(std::iter::repeat_n(UpstreamEvent::Retried, attempts - 1));
            if http {
                events.push(UpstreamEvent::Charged {
                    host: None,
                    status: e.response_code,
                });
            }
        } else if let (false, Some(host)) = (http, host) {
            // A TCP proxy's connection: one request on a connection of its own, closed with it.
            events.extend([
                UpstreamEvent::Connected { host },
                UpstreamEvent::Sent { host },
                UpstreamEvent::Closed { host },
            ]);
        } else if let Some(host) = host {
            let timed_out = flags.contains(ResponseFlag::UpstreamRequestTimeout);
            let cut = flags.contains(ResponseFlag::UpstreamConnectionTermination)
                || flags.contains(ResponseFlag::UpstreamRemoteReset);
            if !(via_upstream || timed_out || cut) {
                return;
            }
            let key = (proxy.clone(), cluster.to_string(), host.to_string());
            for attempt in 0..if cut { attempts } else { 1 } {
                if attempt > 0 {
                    events.push(UpstreamEvent::Retried);
                }
                if !self.open.contains(&key) {
                    events.push(UpstreamEvent::Connected { host });
                    self.open.insert(key.clone());
                }
                events.push(UpstreamEvent::Sent { host });
                if timed_out {
                    events.push(UpstreamEvent::TimedOut { host });
                }
                // A request cut short takes its connection with it.
                if timed_out || cut {
                    events.push(UpstreamEvent::Closed { host });
                    self.open.remove(&key);
                }
            }
            events.push(UpstreamEvent::Charged {
                host: Some(host),
                status: e.response_code,
            });
        }
        let counters = self.counters.entry(proxy).or_default();
        for event in events {
            counters.record(cluster, event);
        }
    }

    /// The mesh changed from `before` to `after`: the connections `drained` says close are
    /// closed.
    pub fn reconfigured(&mut self, before: &Mesh, after: &Mesh) {
        let closed: Vec<(String, String, String)> = self
            .open
            .iter()
            .filter(|(proxy, cluster, _)| drained(before, after, proxy, cluster))
            .cloned()
            .collect();
        for key in closed {
            self.open.remove(&key);
            let (proxy, name, host) = key;
            self.counters
                .entry(proxy)
                .or_default()
                .record(&name, UpstreamEvent::Closed { host: &host });
        }
    }
}

/// Whether a change from `before` to `after` closes `proxy`'s (`namespace/workload`) open
/// connections through `cluster`: the cluster is gone or reaches its endpoints differently (Envoy
/// drains a cluster on such an update), or its endpoints are proxies whose config changed (their
/// listeners drain the connections they accepted). An update that leaves both ends alone keeps
/// them open.
pub fn drained<'a>(before: &'a Mesh, after: &'a Mesh, proxy: &str, cluster: &str) -> bool {
    let config = |m: &'a Mesh| {
        m.proxies
            .iter()
            .find(|(id, _)| id.to_string() == proxy)
            .map(|(_, p)| p)
    };
    let (Some(old), Some(new)) = (config(before), config(after)) else {
        return true;
    };
    let (Some(was), Some(now)) = (old.clusters.get(cluster), new.clusters.get(cluster)) else {
        return true;
    };
    if !was.same_upstream(now) {
        return true;
    }
    let json = |c: Option<&crate::xds::ProxyConfig>| c.and_then(|c| serde_json::to_string(c).ok());
    now.endpoints.iter().any(|e| match &e.target {
        crate::xds::EndpointTarget::Workload(w) => {
            json(before.proxies.get(w)) != json(after.proxies.get(w))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::counters::{ClusterStat, HostStat};

    fn entry(protocol: &str, code: u16, flags: &str, details: &str) -> AccessLogEntry {
        let mut e = AccessLogEntry::blank("default/sleep");
        e.protocol = protocol.into();
        e.response_code = code;
        e.response_flags = flags.into();
        e.response_code_details = details.into();
        e.upstream_cluster = "outbound|80||httpbin.org".into();
        e.upstream_host = "203.0.113.10:80".into();
        e
    }

    #[test]
    fn http_requests_reuse_the_pooled_connection_until_a_timeout_closes_it() {
        let mut u = Upstreams::default();
        let ok = entry("HTTP/1.1", 200, "-", "via_upstream");
        let err = entry("HTTP/1.1", 500, "-", "via_upstream");
        let timeout = entry("HTTP/1.1", 504, "UT", "response_timeout");
        u.record(&[ok.clone(), ok.clone(), err, timeout, ok]);
        let p = u.counters("default/sleep");
        let c = p.cluster("outbound|80||httpbin.org").unwrap();
        let h = "203.0.113.10:80";
        // As Envoy 1.40 counted the same five requests (one worker, a keep-alive upstream).
        assert_eq!(c.get(ClusterStat::CxTotal), 2);
        assert_eq!(c.get(ClusterStat::CxActive), 1);
        assert_eq!(c.get(ClusterStat::RqTotal), 5);
        assert_eq!(c.get(ClusterStat::RqCompleted), 5);
        assert_eq!(c.get(ClusterStat::Rq(200)), 3);
        assert_eq!(c.get(ClusterStat::Rq(504)), 1);
        assert_eq!(c.get(ClusterStat::RqClass(5)), 2);
        assert_eq!(c.get(ClusterStat::RqTimeout), 1);
        assert_eq!(c.host(h, HostStat::RqSuccess), 3);
        assert_eq!(c.host(h, HostStat::RqError), 2);
    }

    #[test]
    fn a_tcp_connection_counts_a_request_and_no_status() {
        let mut u = Upstreams::default();
        u.record(&[entry("-", 0, "-", "-"), entry("-", 0, "-", "-")]);
        let p = u.counters("default/sleep");
        let c = p.cluster("outbound|80||httpbin.org").unwrap();
        assert_eq!(c.get(ClusterStat::CxTotal), 2);
        assert_eq!(c.get(ClusterStat::RqTotal), 2);
        assert_eq!(c.get(ClusterStat::CxActive), 0);
        assert_eq!(c.get(ClusterStat::RqCompleted), 0);
    }

    #[test]
    fn a_retried_connect_failure_fails_three_connections_and_charges_one_503() {
        let mut u = Upstreams::default();
        u.record(&[entry(
            "HTTP/1.1",
            503,
            "UF,URX",
            "upstream_reset_before_response_started",
        )]);
        let p = u.counters("default/sleep");
        let c = p.cluster("outbound|80||httpbin.org").unwrap();
        assert_eq!(c.get(ClusterStat::CxConnectFail), 3);
        assert_eq!(c.get(ClusterStat::RqRetry), 2);
        assert_eq!(c.get(ClusterStat::RqTotal), 0);
        assert_eq!(c.get(ClusterStat::Rq(503)), 1);
        assert_eq!(c.host("203.0.113.10:80", HostStat::RqError), 3);
    }

    #[test]
    fn a_tcp_proxy_makes_one_attempt() {
        let mut u = Upstreams::default();
        u.record(&[entry("-", 0, "UF,URX", "-")]);
        let p = u.counters("default/sleep");
        let c = p.cluster("outbound|80||httpbin.org").unwrap();
        assert_eq!(c.get(ClusterStat::CxConnectFail), 1);
        assert_eq!(c.get(ClusterStat::RqRetry), 0);
        assert_eq!(c.get(ClusterStat::RqCompleted), 0);
        assert_eq!(c.host("203.0.113.10:80", HostStat::RqError), 0);
    }

    #[test]
    fn local_replies_move_no_upstream_counter() {
        let mut u = Upstreams::default();
        u.record(&[entry(
            "HTTP/1.1",
            403,
            "-",
            "rbac_access_denied_matched_policy[ns[x]-policy[deny]-rule[0]]",
        )]);
        assert!(u.counters("default/sleep").clusters.is_empty());
    }
}

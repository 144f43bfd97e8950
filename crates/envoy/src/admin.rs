//! Reading a running Envoy's upstream counters off its admin interface: `/stats?format=json` for
//! each cluster's `upstream_…` counters and `/clusters?format=json` for each endpoint's, the
//! endpoints' loopback addresses written back as the simulated ones they stand for.
//!
//! Owns: `get` (one admin request over loopback) and `counters` (the two pages read into the
//! model's `ProxyCounters`, keeping the counters the model knows and dropping Envoy's others).
//! Leaves out: when they are read (`run`: on request, and before a proxy restarts, so that a
//! restart does not lose what was counted).

use egressbench_model::outcome::counters::{ClusterStat, HostStat, ProxyCounters};
use egressbench_model::xds::ProxyConfig;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long an admin page may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The body of admin page `path` of the Envoy whose admin interface is at `admin`.
pub(crate) async fn get(admin: SocketAddr, path: &str) -> std::io::Result<String> {
    let failed = |what: String| std::io::Error::other(format!("admin {path}: {what}"));
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(admin).await?;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    let buf = tokio::time::timeout(ADMIN_TIMEOUT, exchange)
        .await
        .map_err(|_| failed("no answer".into()))??;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| failed("no header end".into()))?;
    if !(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200")) {
        return Err(failed(head.lines().next().unwrap_or_default().to_string()));
    }
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    Ok(if chunked {
        dechunked(body)
    } else {
        body.to_string()
    })
}

/// A chunked body's data.
fn dechunked(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// A number as Envoy's JSON writes it (a number, or a string for 64-bit values).
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// What Envoy's loopback endpoint addresses stand for.
#[derive(Debug, Default)]
pub(crate) struct Simulated {
    /// Real address → the simulated one.
    pub addresses: HashMap<String, String>,
    /// The address endpoints nothing listens at are placed at.
    pub nowhere: String,
    /// Cluster → its one endpoint placed at `nowhere`.
    pub unplaced: HashMap<String, String>,
}

/// The counters in `/stats?format=json` (`stats`) and `/clusters?format=json` (`clusters`) of
/// the proxy configured with `config`; endpoint addresses on loopback are written as
/// `simulated` says, and those it does not know are left out.
pub(crate) fn counters(
    config: &ProxyConfig,
    stats: &Value,
    clusters: &Value,
    simulated: &Simulated,
) -> ProxyCounters {
    let mut out = ProxyCounters::default();
    // Longest names first: `cluster.outbound|443||a.b.upstream_…` is read with the longest
    // cluster name it starts with.
    let mut names: Vec<&str> = config.clusters.keys().map(String::as_str).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for s in stats["stats"].as_array().into_iter().flatten() {
        let (Some(name), Some(value)) = (s["name"].as_str(), number(&s["value"])) else {
            continue;
        };
        let Some(rest) = name.strip_prefix("cluster.") else {
            continue;
        };
        let Some((cluster, stat)) = names.iter().find_map(|c| {
            let stat = rest.strip_prefix(c)?.strip_prefix('.')?;
            Some((*c, ClusterStat::parse(stat)?))
        }) else {
            continue;
        };
        if value > 0 {
            out.clusters
                .entry(cluster.to_string())
                .or_default()
                .stats
                .insert(stat, value);
        }
    }
    for c in clusters["cluster_statuses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(name) = c["name"]
            .as_str()
            .filter(|n| config.clusters.contains_key(*n))
        else {
            continue;
        };
        for h in c["host_statuses"].as_array().into_iter().flatten() {
            let a = &h["address"]["socket_address"];
            let (Some(ip), Some(port)) = (a["address"].as_str(), number(&a["port_value"])) else {
                continue;
            };
            let real = format!("{ip}:{port}");
            let nowhere = (real == simulated.nowhere)
                .then(|| simulated.unplaced.get(name).cloned())
                .flatten();
            let Some(host) = nowhere
                .or_else(|| simulated.addresses.get(&real).cloned())
                .or_else(|| {
                    // An address that is not on loopback is Envoy's own (an original destination).
                    real.parse::<SocketAddr>()
                        .ok()
                        .filter(|a| !a.ip().is_loopback())
                        .map(|_| real.clone())
                })
            else {
                continue;
            };
            let mut found = std::collections::BTreeMap::new();
            for s in h["stats"].as_array().into_iter().flatten() {
                let (Some(stat), Some(value)) = (
                    s["name"].as_str().and_then(HostStat::parse),
                    number(&s["value"]),
                ) else {
                    continue;
                };
                if value > 0 {
                    found.insert(stat, value);
                }
            }
            if !found.is_empty() {
                out.clusters
                    .entry(name.to_string())
                    .or_default()
                    .hosts
                    .insert(host, found);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunked_bodies_are_read_whole() {
        assert_eq!(
            dechunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }

    fn sidecar() -> ProxyConfig {
        crate::tests::mesh_000(&[])
            .proxies
            .values()
            .find(|p| p.clusters.contains_key("PassthroughCluster"))
            .cloned()
            .expect("a sidecar")
    }

    #[test]
    fn envoys_pages_read_as_the_models_counters() {
        let config = sidecar();
        let stats = json!({"stats": [
            {"name": "cluster.BlackHoleCluster.upstream_cx_none_healthy", "value": 2},
            {"name": "cluster.PassthroughCluster.upstream_cx_total", "value": 3},
            {"name": "cluster.PassthroughCluster.upstream_rq_200", "value": 1},
            {"name": "cluster.PassthroughCluster.external.upstream_rq_200", "value": 1},
            {"name": "cluster.PassthroughCluster.upstream_rq_pending_total", "value": 3},
            {"name": "cluster.PassthroughCluster.upstream_rq_retry", "value": 0},
            {"name": "cluster.nowhere.upstream_cx_total", "value": 9},
            {"name": "server.uptime", "value": 4},
        ]});
        let clusters = json!({"cluster_statuses": [{
            "name": "PassthroughCluster",
            "host_statuses": [
                {"address": {"socket_address": {"address": "203.0.113.10", "port_value": 80}},
                 "stats": [{"name": "cx_total", "value": "2"}, {"name": "rq_success", "value": "1"},
                           {"name": "cx_active", "value": "0"}]},
                {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 20001}},
                 "stats": [{"name": "cx_total", "value": "1"}]},
                {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 9}},
                 "stats": [{"name": "cx_total", "value": "5"}]},
                {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
                 "stats": [{"name": "cx_total", "value": "6"}]},
            ],
        }, {
            "name": "BlackHoleCluster",
            "host_statuses": [
                {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 1}},
                 "stats": [{"name": "cx_connect_fail", "value": "1"}]},
            ],
        }]});
        let simulated = Simulated {
            addresses: HashMap::from([(
                "127.0.0.1:20001".to_string(),
                "198.51.100.7:443".to_string(),
            )]),
            nowhere: "127.0.0.1:1".into(),
            unplaced: HashMap::from([("BlackHoleCluster".to_string(), "192.0.2.1:9".to_string())]),
        };
        let c = counters(&config, &stats, &clusters, &simulated);
        let black = c.cluster("BlackHoleCluster").expect("counted");
        assert_eq!(black.get(ClusterStat::CxNoneHealthy), 2);
        let pass = c.cluster("PassthroughCluster").expect("counted");
        assert_eq!(pass.get(ClusterStat::CxTotal), 3);
        assert_eq!(pass.get(ClusterStat::Rq(200)), 1);
        assert_eq!(pass.stats.len(), 2, "{:?}", pass.stats);
        assert_eq!(pass.host("203.0.113.10:80", HostStat::CxTotal), 2);
        assert_eq!(pass.host("203.0.113.10:80", HostStat::RqSuccess), 1);
        assert_eq!(pass.host("198.51.100.7:443", HostStat::CxTotal), 1);
        assert_eq!(
            pass.hosts.len(),
            2,
            "an unknown loopback address is left out"
        );
        assert!(c.cluster("nowhere").is_none());
        assert_eq!(
            black.host("192.0.2.1:9", HostStat::CxConnectFail),
            1,
            "the one endpoint nothing listens at"
        );
    }
}

//! One cell of the truth table: a request (`Probe`) and what each target made of it.
//!
//! Owns: `Outcome` (the client's result reduced to what targets must agree on: the exact status,
//! or the connection error and whether it happened during the client's TLS handshake),
//! `LoggedHop` (a proxy and the upstream cluster it chose, from its access-log entry),
//! `Observation` (one target's outcome and route) and `Cell` with its agreement rule. Leaves
//! out: which requests are made (`probe`) and making them (`build`).

use super::probe::Probe;
use egressbench_model::answer::Exchange;
use egressbench_model::outcome::{AccessLogEntry, ClientResult, ConnectionError};
use serde::Serialize;
use std::fmt;

/// What the client got, as far as the table compares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// An HTTP response with this status; `0` for a raw TCP connection the peer closed cleanly.
    Status { code: u16 },
    /// No response: the connection failed.
    Connection {
        error: ConnectionError,
        during_tls: bool,
    },
    /// The target could not make the request at all (its error, as it said it).
    NotRun { reason: String },
}

impl Outcome {
    pub fn of(result: &ClientResult) -> Outcome {
        match result {
            ClientResult::Response(r) => Outcome::Status { code: r.status },
            ClientResult::ConnectionFailed { error, during_tls } => Outcome::Connection {
                error: error.clone(),
                during_tls: *during_tls,
            },
        }
    }

    /// The class targets are compared on first: `2xx` … `5xx`, `closed` (raw TCP, clean close),
    /// or the connection error (`reset`, `refused`, `timeout`, `unresolved`, `not_tls`), `not_run`.
    pub fn class(&self) -> String {
        match self {
            Outcome::Status { code: 0 } => "closed".to_string(),
            Outcome::Status { code } => format!("{}xx", code / 100),
            Outcome::Connection { error, .. } => error.to_string(),
            Outcome::NotRun { .. } => "not_run".to_string(),
        }
    }
}

impl fmt::Display for Outcome {
    /// `200`, `closed`, `reset`, `reset(tls)` (during the client's TLS handshake), `not_run`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status { code: 0 } => f.write_str("closed"),
            Outcome::Status { code } => write!(f, "{code}"),
            Outcome::Connection {
                error,
                during_tls: true,
            } => write!(f, "{error}(tls)"),
            Outcome::Connection { error, .. } => write!(f, "{error}"),
            Outcome::NotRun { .. } => f.write_str("not_run"),
        }
    }
}

/// One proxy on the request's way, the upstream cluster it sent it to (`-` when none) and the
/// response flags it logged (`-` when none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedHop {
    pub proxy: String,
    pub cluster: String,
    pub flags: String,
    /// Where the connection was made to, as the proxy logged it (`downstream_local_address`).
    pub local: String,
}

impl LoggedHop {
    pub fn of(entry: &AccessLogEntry) -> LoggedHop {
        LoggedHop {
            proxy: entry.proxy.clone(),
            cluster: entry.upstream_cluster.clone(),
            flags: entry.response_flags.clone(),
            local: entry.downstream_local_address.clone(),
        }
    }
}

impl fmt::Display for LoggedHop {
    /// `proxy→cluster`, then the flags when there are any: `proxy→cluster (UF,URX)`; the
    /// alternate form (`{:#}`) adds where the connection was made to: `proxy@10.0.0.1:80→…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "{}@{}→{}", self.proxy, self.local, self.cluster)?;
        } else {
            write!(f, "{}→{}", self.proxy, self.cluster)?;
        }
        if self.flags != "-" {
            write!(f, " ({})", self.flags)?;
        }
        Ok(())
    }
}

/// The route as shown in tables: `[a→c1, b→c2]`, `[]` when no proxy saw the request.
pub fn route_text(route: &[LoggedHop]) -> String {
    let hops: Vec<String> = route.iter().map(ToString::to_string).collect();
    format!("[{}]", hops.join(", "))
}

/// What one target made of a cell's request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub target: &'static str,
    pub outcome: Outcome,
    /// Every proxy that logged the request, in hop order, with its upstream cluster.
    pub route: Vec<LoggedHop>,
    /// What the destinations received, sorted (destinations are reached concurrently on sockets,
    /// so their records come in no meaningful order): `host:port METHOD URL from PEER: STATUS`,
    /// where a forward proxy went, and whether a client certificate header came with it.
    pub received: Vec<String>,
}

/// One record of what a destination received, as the table compares it.
fn arrival(r: &egressbench_model::outcome::Received) -> String {
    let xfcc = if r.header("x-forwarded-client-cert").is_some() {
        " +xfcc"
    } else {
        ""
    };
    let upstream = r.upstream.map(|u| format!(" to {u}")).unwrap_or_default();
    format!(
        "{}:{} {} {} from {}: {}{upstream}{xfcc}",
        r.host, r.port, r.method, r.url, r.peer, r.status
    )
}

impl Observation {
    pub fn of_exchange(target: &'static str, exchange: &Exchange) -> Observation {
        Observation {
            target,
            outcome: Outcome::of(&exchange.result),
            route: exchange.logs.iter().map(LoggedHop::of).collect(),
            received: {
                let mut r: Vec<String> = exchange.received.iter().map(arrival).collect();
                r.sort();
                r
            },
        }
    }

    pub fn not_run(target: &'static str, reason: String) -> Observation {
        Observation {
            target,
            outcome: Outcome::NotRun { reason },
            route: Vec::new(),
            received: Vec::new(),
        }
    }

    /// Whether two targets agree: same status class and exact status, same connection error
    /// (and whether it came during TLS), same sequence of (proxy, upstream cluster), and the same
    /// records of what the destinations received.
    pub fn agrees_with(&self, other: &Observation) -> bool {
        self.outcome.class() == other.outcome.class()
            && self.outcome == other.outcome
            && self.route == other.route
            && self.received == other.received
    }

    /// `200 [a→c1, b→c2]`.
    pub fn summary(&self) -> String {
        format!("{} {}", self.outcome, route_text(&self.route))
    }
}

/// One request and every target's observation of it, in target order.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub probe: Probe,
    pub observations: Vec<Observation>,
    /// Every observation agrees with the first.
    pub agree: bool,
}

impl Cell {
    pub fn new(probe: Probe, observations: Vec<Observation>) -> Cell {
        let agree = match observations.split_first() {
            Some((first, rest)) => rest.iter().all(|o| first.agrees_with(o)),
            None => true,
        };
        Cell {
            probe,
            observations,
            agree,
        }
    }

    /// What differs, in words: `status: model 200, sim 502; route: …`.
    pub fn difference(&self) -> Option<String> {
        if self.agree {
            return None;
        }
        let mut parts = Vec::new();
        let listed = |f: &dyn Fn(&Observation) -> String| {
            self.observations
                .iter()
                .map(|o| format!("{} {}", o.target, f(o)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let first = self.observations.first()?;
        if self.observations.iter().any(|o| o.outcome != first.outcome) {
            parts.push(format!("outcome: {}", listed(&|o| o.outcome.to_string())));
        }
        if self.observations.iter().any(|o| o.route != first.route) {
            // The addresses too, when only they differ.
            let text = |o: &Observation| {
                let plain = |r: &[LoggedHop]| route_text(r);
                if self
                    .observations
                    .iter()
                    .all(|x| plain(&x.route) == plain(&first.route))
                {
                    let hops: Vec<String> = o.route.iter().map(|h| format!("{h:#}")).collect();
                    format!("[{}]", hops.join(", "))
                } else {
                    plain(&o.route)
                }
            };
            parts.push(format!("route: {}", listed(&text)));
        }
        if self
            .observations
            .iter()
            .any(|o| o.received != first.received)
        {
            parts.push(format!(
                "received: {}",
                listed(&|o| format!("[{}]", o.received.join("; ")))
            ));
        }
        Some(parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::outcome::HttpResponse;
    use egressbench_model::request::{Origin, Scheme, WorkloadRef};

    fn probe() -> Probe {
        Probe {
            from: Origin::Pod(WorkloadRef::new("mytest", "sleep-a")),
            host: "httpbin.org".into(),
            scheme: Scheme::Https,
            method: "GET".into(),
            port: 443,
            via: None,
            http: Default::default(),
            resolve: None,
        }
    }

    fn seen(target: &'static str, result: ClientResult, clusters: &[(&str, &str)]) -> Observation {
        let logs = clusters
            .iter()
            .map(|(proxy, cluster)| {
                let mut e = AccessLogEntry::blank(*proxy);
                e.upstream_cluster = (*cluster).to_string();
                e
            })
            .collect();
        Observation::of_exchange(
            target,
            &Exchange {
                result,
                logs,
                trace: None,
                observed: Vec::new(),
                elapsed_ms: 0,
                remote: None,
                received: Vec::new(),
            },
        )
    }

    fn ok(status: u16) -> ClientResult {
        ClientResult::Response(HttpResponse::new(status, "text/plain", "x"))
    }

    const SIDECAR: (&str, &str) = ("mytest/sleep-a", "outbound|443||httpbin.org");

    #[test]
    fn equal_observations_agree() {
        let cell = Cell::new(
            probe(),
            vec![
                seen("model", ok(200), &[SIDECAR]),
                seen("sim", ok(200), &[SIDECAR]),
            ],
        );
        assert!(cell.agree);
        assert_eq!(cell.difference(), None);
    }

    #[test]
    fn a_different_status_in_the_same_class_disagrees() {
        let cell = Cell::new(
            probe(),
            vec![
                seen("model", ok(200), &[SIDECAR]),
                seen("sim", ok(204), &[SIDECAR]),
            ],
        );
        assert!(!cell.agree);
        assert_eq!(
            cell.difference().as_deref(),
            Some("outcome: model 200, sim 204")
        );
    }

    #[test]
    fn a_reset_during_tls_is_not_a_reset_after_it() {
        let reset = |during_tls| ClientResult::ConnectionFailed {
            error: ConnectionError::Reset,
            during_tls,
        };
        let cell = Cell::new(
            probe(),
            vec![
                seen("model", reset(true), &[SIDECAR]),
                seen("sim", reset(false), &[SIDECAR]),
            ],
        );
        assert!(!cell.agree);
        assert_eq!(cell.observations[0].outcome.to_string(), "reset(tls)");
        assert_eq!(cell.observations[0].outcome.class(), "reset");
    }

    #[test]
    fn where_each_proxy_was_connected_to_must_agree_too() {
        let at = |target, local: &str| {
            let mut o = seen(target, ok(200), &[SIDECAR]);
            o.route[0].local = local.to_string();
            o
        };
        let cell = Cell::new(
            probe(),
            vec![at("model", "203.0.113.10:443"), at("sim", "10.0.0.1:443")],
        );
        assert!(!cell.agree);
        let diff = cell.difference().expect("a difference");
        assert!(
            diff.contains("model [mytest/sleep-a@203.0.113.10:443→outbound|443||httpbin.org]"),
            "{diff}"
        );
    }

    #[test]
    fn what_the_destination_received_must_agree_too() {
        let record = egressbench_model::outcome::Received {
            host: "httpbin.org".into(),
            port: 80,
            tls: false,
            sni: None,
            method: "GET".into(),
            url: "http://httpbin.org/anything".into(),
            headers: Vec::new(),
            peer: "192.0.2.10".parse().expect("an address"),
            status: 200,
            upstream: None,
        };
        let with = |target, headers: Vec<(String, String)>| {
            let mut o = seen(target, ok(200), &[SIDECAR]);
            o.received = vec![arrival(&egressbench_model::outcome::Received {
                headers,
                ..record.clone()
            })];
            o
        };
        let same = Cell::new(
            probe(),
            vec![with("model", Vec::new()), with("sim", Vec::new())],
        );
        assert!(same.agree);
        let xfcc = vec![("X-Forwarded-Client-Cert".to_string(), "By=a".to_string())];
        let cell = Cell::new(probe(), vec![with("model", Vec::new()), with("sim", xfcc)]);
        assert!(!cell.agree);
        let diff = cell.difference().unwrap_or_default();
        assert!(
            diff.starts_with("received: model [httpbin.org:80 GET http://httpbin.org/anything from 192.0.2.10: 200], sim [")
                && diff.contains("+xfcc"),
            "{diff}"
        );
    }

    #[test]
    fn a_different_cluster_sequence_disagrees() {
        let gateway = ("istio-egress/egressgateway-a", "outbound|443||httpbin.org");
        let cell = Cell::new(
            probe(),
            vec![
                seen("model", ok(200), &[SIDECAR, gateway]),
                seen("sim", ok(200), &[SIDECAR]),
                seen("envoy", ok(200), &[SIDECAR, gateway]),
            ],
        );
        assert!(!cell.agree);
        let diff = cell.difference().unwrap_or_default();
        assert!(diff.starts_with("route: model [mytest/sleep-a→"), "{diff}");
        assert!(!diff.contains("outcome"), "{diff}");
        let swapped = Cell::new(
            probe(),
            vec![
                seen("model", ok(200), &[SIDECAR, gateway]),
                seen("sim", ok(200), &[gateway, SIDECAR]),
            ],
        );
        assert!(!swapped.agree, "hop order matters");
    }

    #[test]
    fn status_classes_and_tcp_closes() {
        assert_eq!(Outcome::Status { code: 503 }.class(), "5xx");
        assert_eq!(Outcome::Status { code: 0 }.class(), "closed");
        assert_eq!(Outcome::Status { code: 0 }.to_string(), "closed");
        let not_tls = Outcome::of(&ClientResult::ConnectionFailed {
            error: ConnectionError::NotTls,
            during_tls: true,
        });
        assert_eq!(not_tls.class(), "not_tls");
    }
}

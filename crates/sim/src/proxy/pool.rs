//! What the simulated proxies keep between requests: their HTTP connections left open upstream
//! (Envoy's HTTP connection pool, as one worker keeps it: an idle connection to the same endpoint
//! of the same cluster carries the next request), and their upstream counters, moved where each
//! event happens on the sockets.
//!
//! Owns: `Upstreams` — `record`, `counters`, `take` and `put` (an idle connection, by proxy,
//! cluster and endpoint) and `reconfigured` (closing the idle connections a config change drains,
//! by the model's rule `admin::drained`). Leaves out: which counter an event
//! moves (`egressbench_model::outcome::counters`), and the exchanges themselves (`http`, `tcp`).

use super::upstream::BoxIo;
use bytes::Bytes;
use egressbench_model::admin::drained;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::counters::{ProxyCounters, UpstreamEvent};
use egressbench_model::request::WorkloadRef;
use egressbench_model::xds::Cluster;
use egressbench_network::task::Scoped;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

/// The sending half of an upstream connection, HTTP/1.1 or HTTP/2.
enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// An open upstream HTTP connection: its sender, and its driver (aborted when it is dropped).
pub(crate) struct Pooled {
    sender: Sender,
    _driver: Scoped,
    pub http2: bool,
    /// The cluster as it was when the connection opened.
    cluster: Cluster,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("http2", &self.http2)
            .field("cluster", &self.cluster.name)
            .finish()
    }
}

impl Pooled {
    /// The HTTP handshake on a new connection, in HTTP/2 when `http2`, for `cluster`.
    pub(crate) async fn handshake(
        stream: BoxIo,
        http2: bool,
        cluster: &Cluster,
    ) -> Result<Pooled, hyper::Error> {
        let io = TokioIo::new(stream);
        let (sender, driver) = if http2 {
            let (sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
            (Sender::Http2(sender), Scoped::spawn(conn))
        } else {
            let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
            (Sender::Http1(sender), Scoped::spawn(conn))
        };
        Ok(Pooled {
            sender,
            _driver: driver,
            http2,
            cluster: cluster.clone(),
        })
    }

    pub(crate) async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, hyper::Error> {
        match &mut self.sender {
            Sender::Http1(s) => s.send_request(request).await,
            Sender::Http2(s) => s.send_request(request).await,
        }
    }

    /// Whether it can carry the next request (the upstream has not closed it).
    async fn usable(&mut self) -> bool {
        match &mut self.sender {
            Sender::Http1(s) => !s.is_closed() && s.ready().await.is_ok(),
            Sender::Http2(s) => !s.is_closed() && s.ready().await.is_ok(),
        }
    }
}

/// (proxy, cluster, endpoint).
type Key = (String, String, SocketAddr);

/// Every simulated proxy's idle upstream connections and counters.
#[derive(Debug, Default)]
pub(crate) struct Upstreams {
    counters: Mutex<BTreeMap<String, ProxyCounters>>,
    idle: Mutex<HashMap<Key, Vec<Pooled>>>,
}

impl Upstreams {
    /// Count `event` on `proxy`'s cluster `cluster`.
    pub(crate) fn record(&self, proxy: &WorkloadRef, cluster: &str, event: UpstreamEvent<'_>) {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(proxy.to_string())
            .or_default()
            .record(cluster, event);
    }

    pub(crate) fn counters(&self, proxy: &WorkloadRef) -> ProxyCounters {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&proxy.to_string())
            .cloned()
            .unwrap_or_default()
    }

    /// An idle connection of `proxy` to `host` through `cluster` (as configured now), in
    /// HTTP/2 or not as `http2` says (Envoy keeps a pool per protocol), that can carry a request;
    /// those the upstream closed, or opened for a cluster since changed, are closed on the way.
    pub(crate) async fn take(
        &self,
        proxy: &WorkloadRef,
        cluster: &Cluster,
        host: SocketAddr,
        http2: bool,
    ) -> Option<Pooled> {
        let key = (proxy.to_string(), cluster.name.to_string(), host);
        loop {
            let mut conn = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_mut(&key)
                .and_then(|idle| {
                    let at = idle.iter().rposition(|c| c.http2 == http2)?;
                    Some(idle.remove(at))
                })?;
            if conn.cluster.same_upstream(cluster) && conn.usable().await {
                return Some(conn);
            }
            self.record(
                proxy,
                &key.1,
                UpstreamEvent::Closed {
                    host: &host.to_string(),
                },
            );
        }
    }

    /// Keep `conn` of `proxy` to `host` through its cluster for the next request.
    pub(crate) fn put(&self, proxy: &WorkloadRef, host: SocketAddr, conn: Pooled) {
        let key = (proxy.to_string(), conn.cluster.name.to_string(), host);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .push(conn);
    }

    /// The mesh changed from `before` to `after`: the idle connections `admin::drained` says
    /// close are closed.
    pub(crate) fn reconfigured(&self, before: &Mesh, after: &Mesh) {
        let mut closed = Vec::new();
        {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.retain(|(proxy, name, host), conns| {
                let keep = !drained(before, after, proxy, name);
                if !keep {
                    closed.extend(conns.iter().map(|_| (proxy.clone(), name.clone(), *host)));
                }
                keep
            });
        }
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        for (proxy, name, host) in closed {
            counters.entry(proxy).or_default().record(
                &name,
                UpstreamEvent::Closed {
                    host: &host.to_string(),
                },
            );
        }
    }
}

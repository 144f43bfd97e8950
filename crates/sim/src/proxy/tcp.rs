//! A TCP proxy filter chain, as the request-handling machine (`decide::machine`) says: the network
//! RBAC filter on the real peer identity (a denied connection still dials the route's cluster
//! first, as Envoy's TCP proxy does on accept, and is closed with a FIN: the filter read its first
//! bytes), then the bytes relayed to the route's cluster (the ClientHello already read is replayed
//! first, so passthrough TLS reaches the destination untouched).
//!
//! Owns: relaying one connection and its access-log entry. Leaves out: opening the upstream
//! connection (`upstream`).

use super::upstream::{self, Io};
use super::Downstream;
use egressbench_model::decide::machine::{self, TcpNext};
use egressbench_model::outcome::counters::UpstreamEvent;
use egressbench_model::outcome::reply::{ResponseFlag, ResponseFlags, UpstreamFailure};
use egressbench_model::xds::{RbacFilter, TcpRoute};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Relay `stream` as the request-handling machine's TCP step says (`decide::machine`): after
/// the chain's network RBAC filter `rbac`, to the first of `routes`' clusters; `seq` orders the
/// access-log entry. Returns the stream when the proxy resets it (Envoy closes the downstream
/// connection abortively when it cannot relay it), for the caller to reset at the TCP level.
pub(crate) async fn proxy<S: Io>(
    down: Arc<Downstream>,
    mut stream: S,
    routes: &[TcpRoute],
    rbac: Option<&RbacFilter>,
    seq: u64,
) -> Option<S> {
    let world = down.world.clone();
    let mut e = down.entry();
    let Some(config) = down.config() else {
        return Some(stream);
    };
    let source = down.source.to_string();
    let step = machine::tcp_connection(config, routes, rbac, &down.connection(&source));
    let (host, port) = down.original_host();
    let route = match step.next {
        TcpNext::Deny { dialed } => {
            // Envoy's TCP proxy has dialed its upstream by the time the network RBAC filter
            // reads the first bytes and closes the connection: both are closed, and the entry
            // names the cluster and host that were dialed.
            e.connection_termination_details = step.denial().unwrap_or_default();
            if let Some(route) = dialed {
                e.upstream_cluster = route.cluster.to_string();
                let counted = |event: UpstreamEvent<'_>| {
                    down.upstreams.record(&down.proxy, &route.cluster, event)
                };
                match upstream::connect(&world, config, &route.cluster, (&host, port)).await {
                    Ok(up) => {
                        let endpoint = up.host.to_string();
                        e.upstream_host = endpoint.clone();
                        counted(UpstreamEvent::Connected { host: &endpoint });
                        counted(UpstreamEvent::Sent { host: &endpoint });
                        drop(up);
                        counted(UpstreamEvent::Closed { host: &endpoint });
                    }
                    Err(failure) => {
                        if let Some(h) = failure.host() {
                            e.upstream_host = h.to_string();
                        }
                    }
                }
            }
            world.logs.write(seq, e);
            // The filter has read the first bytes: the close is a FIN, not a reset.
            let _ = stream.shutdown().await;
            return None;
        }
        TcpNext::NoRoute => {
            e.response_flags = ResponseFlags::one(ResponseFlag::NoRouteFound).to_string();
            world.logs.write(seq, e);
            return Some(stream);
        }
        TcpNext::Forward(route) => route,
    };
    e.upstream_cluster = route.cluster.to_string();
    let cluster = route.cluster.to_string();
    let counted = |event: UpstreamEvent<'_>| down.upstreams.record(&down.proxy, &cluster, event);
    match upstream::connect(&world, config, &route.cluster, (&host, port)).await {
        Err(failure) => {
            let endpoint = failure.host().map(|h| h.to_string());
            match &failure {
                upstream::Failure::ClusterNotFound => {}
                upstream::Failure::NoEndpoints => counted(UpstreamEvent::NoHealthyHost),
                upstream::Failure::Unresolved | upstream::Failure::Connect { .. } => {
                    counted(UpstreamEvent::ConnectFailed {
                        host: endpoint.as_deref(),
                        http: false,
                    })
                }
            }
            if let Some(h) = failure.host() {
                e.upstream_host = h.to_string();
            }
            if failure == upstream::Failure::ClusterNotFound {
                // Envoy logs no upstream cluster for a name it does not have.
                e.upstream_cluster = "-".into();
            }
            let connect_failed = matches!(failure, upstream::Failure::Connect { .. });
            let flag = match failure {
                upstream::Failure::ClusterNotFound => ResponseFlag::NoClusterFound,
                upstream::Failure::Unresolved => ResponseFlag::UpstreamConnectionFailure,
                other => other.kind().map_or(
                    ResponseFlag::UpstreamConnectionFailure,
                    UpstreamFailure::flag,
                ),
            };
            let mut flags = ResponseFlags::one(flag);
            if connect_failed {
                // Envoy's TCP proxy makes one connect attempt: a failed one also runs out of them.
                flags = flags.with(ResponseFlag::UpstreamRetryLimitExceeded);
            }
            e.response_flags = flags.to_string();
            world.logs.write(seq, e);
            Some(stream)
        }
        Ok(mut up) => {
            let endpoint = up.host.to_string();
            e.upstream_host = endpoint.clone();
            // A TCP proxy's connection is one request on a connection of its own.
            counted(UpstreamEvent::Connected { host: &endpoint });
            counted(UpstreamEvent::Sent { host: &endpoint });
            let relayed = tokio::io::copy_bidirectional(&mut stream, &mut up.stream).await;
            drop(up);
            counted(UpstreamEvent::Closed { host: &endpoint });
            if relayed.is_err() {
                e.response_flags =
                    ResponseFlags::one(ResponseFlag::UpstreamRemoteReset).to_string();
            }
            world.logs.write(seq, e);
            match relayed {
                // The upstream reset (Envoy flags it UR): so does the proxy, downstream.
                Err(_) => Some(stream),
                Ok(_) => {
                    let _ = stream.shutdown().await;
                    None
                }
            }
        }
    }
}

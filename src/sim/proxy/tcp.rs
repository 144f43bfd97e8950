//! A TCP proxy filter chain: the network RBAC filter on the real peer identity (a denied
//! connection still dials the route's cluster first, as Envoy's TCP proxy does on accept, and is
//! closed with a FIN: the filter read its first bytes), then
//! the bytes relayed to the route's cluster (the ClientHello already read is replayed first, so passthrough
//! TLS reaches the destination untouched).
//!
//! Owns: relaying one connection and its access-log entry. Leaves out: opening the upstream
//! connection (`upstream`).

use super::upstream::{self, Io};
use super::Downstream;
use crate::outcome::answer::tcp_failure_flag;
use crate::xds::{Name, RbacFilter};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Relay `stream` to `cluster` (the chain's first TCP route), after `rbac`; `seq` orders the
/// access-log entry. Returns the stream when the proxy resets it (Envoy closes the downstream
/// connection abortively when it cannot relay it), for the caller to reset at the TCP level.
pub async fn proxy<S: Io>(
    down: Arc<Downstream>,
    mut stream: S,
    cluster: Option<Name>,
    rbac: Option<&RbacFilter>,
    seq: u64,
) -> Option<S> {
    let world = down.world.clone();
    let mut e = down.entry();
    let Some(config) = down.config() else {
        return Some(stream);
    };
    if let Some(filter) = rbac {
        let out = down.authorize(filter, None);
        if !out.allowed {
            // Envoy's TCP proxy has dialed its upstream by the time the network RBAC filter
            // reads the first bytes and closes the connection: both are closed, and the entry
            // names the cluster and host that were dialed.
            e.connection_termination_details = out.details.clone().unwrap_or_default();
            if let Some(cluster) = &cluster {
                e.upstream_cluster = cluster.to_string();
                let (host, port) = down.original_host();
                match upstream::connect(&world, config, cluster, (&host, port)).await {
                    Ok(up) => e.upstream_host = up.host.to_string(),
                    Err(upstream::Failure::ClusterNotFound) => e.upstream_cluster = "-".into(),
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
    }
    let Some(cluster) = cluster else {
        e.response_flags = "NR".into();
        world.logs.write(seq, e);
        return Some(stream);
    };
    e.upstream_cluster = cluster.to_string();
    let (host, port) = down.original_host();
    match upstream::connect(&world, config, &cluster, (&host, port)).await {
        Err(failure) => {
            if let Some(h) = failure.host() {
                e.upstream_host = h.to_string();
            }
            if failure == upstream::Failure::ClusterNotFound {
                // Envoy logs no upstream cluster for a name it does not have.
                e.upstream_cluster = "-".into();
            }
            e.response_flags = match failure {
                upstream::Failure::ClusterNotFound => "NC",
                upstream::Failure::Unresolved => "UF",
                other => other.kind().map_or("UF", tcp_failure_flag),
            }
            .into();
            world.logs.write(seq, e);
            Some(stream)
        }
        Ok(mut up) => {
            e.upstream_host = up.host.to_string();
            let relayed = tokio::io::copy_bidirectional(&mut stream, &mut up.stream).await;
            if relayed.is_err() {
                e.response_flags = "UR".into();
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

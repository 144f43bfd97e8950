//! The hosts of the simulated world — the external hosts, and in the same way the pods'
//! applications (`Mesh::apps`) — served over real sockets: every host of an
//! `Internet` listening on its simulated address and ports, terminating real TLS with a
//! certificate from the "public" CA, speaking real HTTP/1.1 and HTTP/2, and answering exactly what
//! the model says (`Internet::serve`, called with an `Arrival` built from what came off the socket).
//!
//! Owns: `Hosts` (start, records, teardown), `HostRecord` (each host's own record of what it
//! received — "the external host's own record that it received TLS") and `HostsError`. Leaves out:
//! what hosts answer (`external`, the model), the network (`fabric`), certificates and ClientHello
//! parsing (`pki`, `hello`), and the clients and proxies in front of the hosts.
//!
//! Files: `plan` (which listeners and certificates), `connection` (accept loop and the decisions
//! on one connection), `sniff` (HTTP or not), `http` (hyper service: wire ↔ model), `body` (the
//! answer's body), `stream` (connections without HTTP), `site` (a listener's and a connection's
//! facts), `socket` (closing with a RST), `tasks` (teardown), `record` (`HostRecord`), `tunnel` (a
//! pod's forward proxy: `CONNECT`, its own connection, the relay).
//!
//! Why hyper, not wiremock: wiremock serves plain HTTP/1.1 on a port it binds itself, picks a
//! response by matching rules and keeps its own log of requests. A simulated host must instead
//! accept on a listener the fabric hands out (so that the simulated peer address can be read off
//! the connection), inspect the first bytes before any HTTP (TLS or not, the SNI, a ClientHello
//! to a plain port to reset, plain HTTP to a TLS port to answer with nginx's 400, a raw stream to
//! hold open), terminate TLS itself with ALPN and serve HTTP/2, and compute each answer from the
//! model rather than from rules. hyper serves a request on any stream we give it, in either
//! version, so the hosts are built on hyper. (wiremock serves where a test's own server should
//! verify what arrived: `tests/sim_passthrough_wiremock.rs`.)

mod body;
mod connection;
mod http;
mod plan;
mod record;
mod site;
mod sniff;
mod socket;
mod stream;
mod tasks;
mod tunnel;

pub use record::HostRecord;
pub use tunnel::PodEgress;

use crate::client::Sent;
use crate::materials::Materials;
use crate::pki::{public_server, CertificateAuthority, Leaf, LeafSpec, PkiError};
use crate::Fabric;
use egressbench_model::answer::Exchange;
use egressbench_model::external::Internet;
use egressbench_model::outcome::AccessLogEntry;
use record::Records;
use site::Site;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tasks::Tasks;
use tokio_rustls::TlsAcceptor;

/// ALPN protocols a TLS host offers, preferred first: HTTP/2 and HTTP/1.1, or HTTP/1.1 only.
const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];
const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];

/// Why the hosts could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    #[error("issuing the server certificate of {host} failed: {source}")]
    Certificate { host: String, source: PkiError },
    #[error("building the TLS server config of {at} failed: {source}")]
    TlsConfig { at: SocketAddr, source: PkiError },
    #[error("listening on simulated {at} failed: {source}")]
    Listen { at: SocketAddr, source: io::Error },
}

/// Every external host of an `Internet`, listening on the simulated network. Dropping it aborts
/// every accept loop and connection and removes the listeners from the fabric.
#[derive(Debug)]
pub struct Hosts {
    fabric: Arc<Fabric>,
    records: Arc<Records>,
    tasks: Arc<Tasks>,
    /// Simulated address → real listener address, of every listener bound.
    listening: Vec<(SocketAddr, SocketAddr)>,
}

impl Hosts {
    /// Issue a server certificate (from `public_ca`) for every host's names, bind one listener
    /// per simulated (address, port) that any host at that address listens on, and serve. Must be
    /// called inside a tokio runtime.
    pub async fn start(
        internet: Arc<Internet>,
        fabric: Arc<Fabric>,
        public_ca: &CertificateAuthority,
        materials: Arc<Materials>,
    ) -> Result<Hosts, HostsError> {
        Hosts::start_with(internet, fabric, public_ca, materials, None).await
    }

    /// `start`, for the pods' applications when `egress` is given: they are inside the cluster
    /// (they see a pod's connection from the pod's address, where hosts outside see the
    /// cluster's public one), and a forward proxy among them reaches its tunnels' destinations
    /// through `egress`.
    pub async fn start_with(
        internet: Arc<Internet>,
        fabric: Arc<Fabric>,
        public_ca: &CertificateAuthority,
        materials: Arc<Materials>,
        egress: Option<Arc<PodEgress>>,
    ) -> Result<Hosts, HostsError> {
        let mut leaves: HashMap<String, (Vec<String>, Leaf)> = HashMap::new();
        for host in internet.hosts() {
            let leaf = public_ca
                .issue(&LeafSpec::server(host.names()))
                .map_err(|source| HostsError::Certificate {
                    host: host.name().to_string(),
                    source,
                })?;
            leaves.insert(host.name().to_string(), (host.names().to_vec(), leaf));
        }
        // Built before binding, so that an error half-way drops (and stops) what was started.
        let mut hosts = Hosts {
            fabric: fabric.clone(),
            records: Arc::new(Records::default()),
            tasks: Arc::new(Tasks::default()),
            listening: Vec::new(),
        };
        for planned in plan::listeners(&internet) {
            let at = SocketAddr::new(planned.address.into(), planned.port);
            let acceptor = if planned.tls {
                let certs: Vec<(Vec<String>, Leaf)> = planned
                    .hosts
                    .iter()
                    .filter_map(|name| leaves.get(name).cloned())
                    .collect();
                let alpn = if planned.http2 { ALPN } else { ALPN_HTTP1 };
                // A host with a certificate of its own presents it to every name (a default
                // server, as nginx's first `server` block is).
                let own = planned
                    .hosts
                    .iter()
                    .filter_map(|name| internet.hosts().find(|h| h.name() == name))
                    .find_map(|h| h.tls());
                let config = match own {
                    Some(own) => crate::own_tls::own_server(
                        &materials,
                        &own.certificate,
                        own.client_auth.is_some(),
                        alpn,
                    ),
                    None => public_server(&certs, alpn),
                }
                .map_err(|source| HostsError::TlsConfig { at, source })?;
                Some(TlsAcceptor::from(config))
            } else {
                None
            };
            let listener = fabric
                .listen(at)
                .await
                .map_err(|source| HostsError::Listen { at, source })?;
            let real = listener
                .local_addr()
                .map_err(|source| HostsError::Listen { at, source })?;
            hosts.listening.push((at, real));
            let site = Arc::new(Site {
                internet: internet.clone(),
                fabric: fabric.clone(),
                address: planned.address,
                port: planned.port,
                acceptor,
                records: hosts.records.clone(),
                tasks: hosts.tasks.clone(),
                egress: egress.clone(),
                materials: materials.clone(),
            });
            hosts.tasks.spawn(connection::accept_loop(site, listener));
        }
        Ok(hosts)
    }

    /// One request's exchange as a socket-running target observed it: what the client got and
    /// how long it took (`sent`), the address it connected to as it sees it (`remote`), the
    /// proxies' `logs`, and what the hosts recorded since the last exchange (drained).
    pub fn exchange(
        &self,
        sent: Sent,
        remote: Option<std::net::SocketAddr>,
        logs: Vec<AccessLogEntry>,
    ) -> Exchange {
        let mut exchange = Exchange {
            result: sent.result,
            logs,
            trace: None,
            observed: Vec::new(),
            elapsed_ms: sent.elapsed_ms,
            remote,
            received: Vec::new(),
        };
        self.add_records(&mut exchange);
        exchange
    }

    /// Add what these hosts recorded since the last exchange (drained) to `exchange`: as lines
    /// for people (`observed`) and as the model's `Received`.
    pub fn add_records(&self, exchange: &mut Exchange) {
        let records = self.take_records();
        exchange
            .observed
            .extend(records.iter().map(HostRecord::describe));
        exchange
            .received
            .extend(records.iter().map(HostRecord::received));
    }

    /// Records written since the last call, oldest first (drains).
    pub fn take_records(&self) -> Vec<HostRecord> {
        self.records.take()
    }

    /// The simulated addresses listened on, in the order bound.
    pub fn listening(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.listening.iter().map(|(at, _)| *at)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        self.tasks.close();
        for (at, real) in &self.listening {
            // Only our own registration: a later listener on the same address is left alone.
            if self.fabric.real_addr(*at) == Some(*real) {
                self.fabric.unlisten(*at);
            }
        }
    }
}

#[cfg(test)]
mod tests;

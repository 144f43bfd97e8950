//! One listener's fixed facts (a simulated address and port of the external hosts) and one
//! connection's facts (who connected, what TLS the host terminated), and the two things every layer
//! asks of them: what the model says a host does (`Internet::serve`) and writing a `HostRecord`.
//!
//! Owns: `Site`, `Conn`, the name a connection or request is for, and building `Arrival`s from
//! what came off the socket. Leaves out: reading the socket (`connection`, `sniff`, `http`).

use super::record::{HostRecord, Records};
use super::socket::ResetSwitch;
use super::tasks::Tasks;
use crate::Fabric;
use egressbench_model::external::{
    normalize_name, Arrival, ArrivedRequest, ForwardProxyServer, Internet, Served, TlsHello,
};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

/// One simulated `address:port` the external hosts listen on.
pub(super) struct Site {
    pub internet: Arc<Internet>,
    pub fabric: Arc<Fabric>,
    pub address: Ipv4Addr,
    pub port: u16,
    /// Set exactly when the port expects TLS: a certificate for every host listening here with TLS.
    pub acceptor: Option<TlsAcceptor>,
    pub records: Arc<Records>,
    pub tasks: Arc<Tasks>,
    /// How a forward proxy here reaches a `CONNECT`'s destination (`None`: it cannot).
    pub egress: Option<Arc<super::tunnel::PodEgress>>,
    /// The scenario's own certificates: which one a client presented.
    pub materials: Arc<crate::materials::Materials>,
}

impl fmt::Debug for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Site")
            .field("address", &self.address)
            .field("port", &self.port)
            .field("tls", &self.acceptor.is_some())
            .finish_non_exhaustive()
    }
}

impl Site {
    /// The name a connection or request is for: `hint` (SNI, or the `Host` header's host), else
    /// the address.
    pub(super) fn name(&self, hint: Option<&str>) -> String {
        match hint.map(normalize_name) {
            Some(name) if !name.is_empty() => name,
            _ => self.address.to_string(),
        }
    }

    /// What the model's host does with `arrival`, reached as `name`. A name that does not resolve
    /// to this address (an unknown `Host`, or one of another host) is not how the connection got
    /// here: the model is asked with the address itself.
    pub(super) fn serve(&self, name: &str, arrival: &Arrival) -> Served {
        if self.internet.resolve(name) == Some(self.address) {
            self.internet.serve(name, arrival)
        } else {
            self.internet.serve(&self.address.to_string(), arrival)
        }
    }
}

/// One accepted connection.
#[derive(Debug)]
pub(super) struct Conn {
    pub site: Arc<Site>,
    /// The simulated source address (`DEFAULT_PEER` when the fabric does not know the peer).
    pub peer: IpAddr,
    /// The ClientHello of the TLS the host terminated, if it did.
    pub tls: Option<TlsHello>,
    /// The ALPN protocol negotiated in that TLS.
    pub alpn: Option<String>,
    /// Flipped to end the connection with a RST.
    pub switch: ResetSwitch,
    /// Notified when a request's answer is a reset: the connection task drops the connection.
    pub abort: Notify,
}

impl Conn {
    pub(super) fn sni(&self) -> Option<&str> {
        self.tls.as_ref().and_then(|t| t.sni.as_deref())
    }

    /// What arrived on this connection: `request` (if HTTP was spoken), inside the host's TLS if
    /// it terminated one.
    pub(super) fn arrival(&self, request: Option<ArrivedRequest>) -> Arrival {
        let port = self.site.port;
        let presented = self.tls.as_ref().and_then(|t| t.client_certificate.clone());
        self.with_peer(match (&self.tls, request) {
            (Some(_), Some(request)) => Arrival::https(port, self.sni(), request),
            (Some(_), None) => Arrival::tls_stream(port, self.sni()),
            (None, Some(request)) => Arrival::http(port, request),
            (None, None) => Arrival::tcp_stream(port),
        })
        .presenting(presented)
    }

    /// What a ClientHello naming `sni` brings, before the host terminates that TLS.
    pub(super) fn hello_arrival(&self, sni: Option<&str>) -> Arrival {
        self.with_peer(Arrival::tls_stream(self.site.port, sni))
    }

    /// `arrival` from this connection's peer (an IPv6 peer is left to the model's default).
    fn with_peer(&self, arrival: Arrival) -> Arrival {
        match self.peer {
            IpAddr::V4(v4) => arrival.from_source(v4),
            IpAddr::V6(_) => arrival,
        }
    }

    /// Record what the host saw: `method` `-` for a stream with no HTTP.
    pub(super) fn record(
        &self,
        host: &str,
        method: &str,
        url: &str,
        status: u16,
        headers: Vec<(String, String)>,
    ) {
        self.site.records.push(HostRecord {
            host: host.to_string(),
            port: self.site.port,
            tls: self.tls.is_some(),
            sni: self.sni().map(str::to_string),
            alpn: self.alpn.clone(),
            method: method.to_string(),
            url: url.to_string(),
            peer: self.peer,
            status,
            headers,
            upstream: None,
        });
    }

    /// Record a whole request a forward proxy here received (`GET http://…`, or `CONNECT
    /// host:port`), with the status it answered and where its own connection went (`upstream`).
    pub(super) fn record_proxied(
        &self,
        method: &str,
        url: &str,
        status: u16,
        upstream: Option<IpAddr>,
        headers: Vec<(String, String)>,
    ) {
        self.site.records.push(HostRecord {
            host: self.site.address.to_string(),
            port: self.site.port,
            tls: false,
            sni: None,
            alpn: None,
            method: method.to_string(),
            url: url.to_string(),
            peer: self.peer,
            status,
            headers,
            upstream,
        });
    }

    /// Record a forward proxy's `CONNECT target` that it answered `status`, its tunnel going to
    /// `upstream` when open.
    pub(super) fn record_connect(&self, target: &str, status: u16, upstream: Option<IpAddr>) {
        self.record_proxied("CONNECT", target, status, upstream, Vec::new());
    }

    /// The forward proxy listening here, if this site is one's.
    pub(super) fn forward_proxy(&self) -> Option<ForwardProxyServer> {
        self.site
            .internet
            .forward_proxy_at(self.site.address, self.site.port)
            .cloned()
    }

    /// Record a stream with no HTTP in it (`status` 400 for TLS inside TLS answered in plain text).
    pub(super) fn record_stream(&self, status: u16) {
        let host = self.site.name(self.sni());
        let scheme = if self.tls.is_some() { "tls" } else { "tcp" };
        let url = format!("{scheme}://{host}:{}", self.site.port);
        self.record(&host, "-", &url, status, Vec::new());
    }
}

impl Conn {
    /// Record a connection the host reset after a ClientHello naming `sni`.
    pub(super) fn record_reset(&self, sni: Option<&str>) {
        self.site.records.push(HostRecord {
            host: self.site.name(sni),
            port: self.site.port,
            tls: false,
            sni: sni.map(str::to_string),
            alpn: None,
            method: "-".to_string(),
            url: String::new(),
            peer: self.peer,
            status: 0,
            headers: Vec::new(),
            upstream: None,
        });
    }
}

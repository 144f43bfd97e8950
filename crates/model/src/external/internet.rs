//! The set of external hosts: fake DNS and what happens when a connection arrives.
//!
//! Owns: `Internet` — adding and replacing hosts, resolving names (aliases share their host's address;
//! hosts without an explicit address get a free one in 198.51.100.0/24), and `serve`: listener, TLS
//! and virtual-host checks before a host's application runs. Leaves out: the hosts' definitions
//! (`host`, `builtin`) and what applications answer (`app`).

use super::app::{self, AppRequest};
use super::arrival::{Arrival, ArrivedRequest};
use super::builtin;
use super::host::{auto_address, auto_index, ExternalHost};
use super::served::{not_http, plain_http_to_tls, Served};
use std::net::Ipv4Addr;

/// Every host outside the mesh. `Default` is `builtin()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Internet {
    hosts: Vec<ExternalHost>,
    /// Normalized name → position in `hosts`, so resolving does not scan.
    by_name: egressbench_text::index::NameMap<String, usize>,
}

impl Default for Internet {
    fn default() -> Self {
        Internet::builtin()
    }
}

impl Internet {
    /// No hosts at all.
    pub fn empty() -> Self {
        Internet {
            hosts: Vec::new(),
            by_name: Default::default(),
        }
    }

    /// The built-in hosts (see the module doc of `external`).
    pub fn builtin() -> Self {
        builtin::hosts()
            .into_iter()
            .fold(Internet::empty(), Internet::with)
    }

    /// Add `host`, replacing every host that shares one of its names. A host without an explicit
    /// address takes over the address of the host it replaces, else keeps its derived address if no
    /// other host holds it, else takes the next free one in 198.51.100.0/24.
    pub fn add(&mut self, mut host: ExternalHost) {
        let clashes = |h: &ExternalHost| h.names().iter().any(|n| host.answers_to(n));
        let replaced = self
            .hosts
            .iter()
            .find(|h| clashes(h))
            .map(ExternalHost::address);
        self.hosts.retain(|h| !clashes(h));
        if !host.is_pinned() {
            if let Some(address) = replaced {
                host.place(address);
            } else if let Some(address) = self.free_address(host.address()) {
                host.place(address);
            }
        }
        self.hosts.push(host);
        self.by_name = self
            .hosts
            .iter()
            .enumerate()
            .flat_map(|(i, h)| h.names().iter().map(move |n| (n.clone(), i)))
            .collect();
    }

    /// `add`, for chaining.
    pub fn with(mut self, host: ExternalHost) -> Self {
        self.add(host);
        self
    }

    /// `preferred` if no host holds it, else the next free automatic address (`None` when all are
    /// taken: the host then shares its derived address).
    fn free_address(&self, preferred: Ipv4Addr) -> Option<Ipv4Addr> {
        let taken = |a: Ipv4Addr| self.hosts.iter().any(|h| h.address() == a);
        let start = auto_index(preferred).unwrap_or(0);
        (0..254)
            .map(|step| auto_address(start + step))
            .find(|a| !taken(*a))
    }

    /// The host with this name or alias (any case, trailing dot allowed).
    pub fn host(&self, name: &str) -> Option<&ExternalHost> {
        let normal = |n: &str| {
            n == n.trim() && !n.ends_with('.') && !n.bytes().any(|b| b.is_ascii_uppercase())
        };
        let index = if normal(name) {
            self.by_name.get(name)
        } else {
            self.by_name.get(&super::host::normalize_name(name))
        };
        index.and_then(|&i| self.hosts.get(i))
    }

    /// Fake DNS: a name's address, or an IPv4 literal itself.
    pub fn resolve(&self, name: &str) -> Option<Ipv4Addr> {
        match name.trim().parse::<Ipv4Addr>() {
            Ok(address) => Some(address),
            Err(_) => self.host(name).map(ExternalHost::address),
        }
    }

    /// Every host, in the order added.
    pub fn hosts(&self) -> std::slice::Iter<'_, ExternalHost> {
        self.hosts.iter()
    }

    /// The hosts at `address`, in the order added.
    pub fn hosts_at(&self, address: Ipv4Addr) -> impl Iterator<Item = &ExternalHost> + '_ {
        self.hosts.iter().filter(move |h| h.address() == address)
    }

    /// The forward proxy listening at `address:port`, if one does.
    pub fn forward_proxy_at(
        &self,
        address: Ipv4Addr,
        port: u16,
    ) -> Option<&super::forward::ForwardProxyServer> {
        self.hosts_at(address)
            .filter(|h| h.port(port).is_some())
            .find_map(|h| match h.app() {
                super::App::ForwardProxy(server) => Some(&**server),
                _ => None,
            })
    }

    /// The listener `host` (a name or an IPv4 literal) reaches on `port`: the first host at its
    /// address that listens there decides (its TLS and ALPN are the listener's).
    pub fn listener(&self, host: &str, port: u16) -> Option<super::ExternalPort> {
        let address = self.resolve(host)?;
        self.hosts_at(address).find_map(|h| h.port(port))
    }

    /// Whether both names resolve, to the same address.
    pub fn names_sharing_address(&self, a: &str, b: &str) -> bool {
        matches!((self.resolve(a), self.resolve(b)), (Some(x), Some(y)) if x == y)
    }

    /// The host whose TLS answers `arrival`'s handshake at `host` (its port listens in TLS and
    /// serves the SNI, or answers any name), if the handshake gets that far.
    pub fn tls_server(&self, host: &str, arrival: &Arrival) -> Option<&ExternalHost> {
        let hello = arrival.tls.as_ref()?;
        let address = self.resolve(host)?;
        let listening: Vec<&ExternalHost> = self
            .hosts_at(address)
            .filter(|h| h.port(arrival.port).is_some_and(|p| p.tls))
            .collect();
        match hello.sni.as_deref() {
            Some(sni) => listening
                .iter()
                .copied()
                .find(|h| h.answers_to(sni))
                .or_else(|| listening.iter().copied().find(|h| h.answers_any_name())),
            None => listening.first().copied(),
        }
    }

    /// What the host reached as `host` (a name or an IPv4 literal) does with `arrival`.
    ///
    /// The first host at the address listening on the port decides whether the port expects TLS.
    /// TLS to a plain port resets; plain HTTP to a TLS port gets nginx's `400`; a TLS SNI names the
    /// serving host among those at the address (none matching: the handshake fails, reset; no SNI:
    /// the first); plain HTTP is served by the host its `Host` header names, else the first; bytes
    /// that are not HTTP, in plain text or inside the host's TLS, get nginx's `400 Bad Request`.
    pub fn serve(&self, host: &str, arrival: &Arrival) -> Served {
        let Some(address) = self.resolve(host) else {
            return Served::Unresolved;
        };
        if self.hosts_at(address).next().is_none() {
            return Served::NoRoute;
        }
        let listening: Vec<(&ExternalHost, bool)> = self
            .hosts_at(address)
            .filter_map(|h| h.port(arrival.port).map(|p| (h, p.tls)))
            .collect();
        let Some(&(_, tls_port)) = listening.first() else {
            return Served::Refused;
        };
        let candidates: Vec<&ExternalHost> = listening
            .iter()
            .filter(|(_, tls)| *tls == tls_port)
            .map(|(h, _)| *h)
            .collect();
        let first = candidates.first().copied();
        match (&arrival.tls, tls_port, &arrival.request) {
            (Some(_), false, _) => Served::Reset,
            (Some(hello), true, request) => {
                let chosen = match hello.sni.as_deref() {
                    Some(sni) => candidates
                        .iter()
                        .copied()
                        .find(|h| h.answers_to(sni))
                        .or_else(|| candidates.iter().copied().find(|h| h.answers_any_name())),
                    None => first,
                };
                // A server that asked for a client certificate and could not verify the one it
                // got answers with its own page (nginx's; the handshake completed).
                let check = super::tls::check_client(
                    chosen
                        .and_then(|h| h.tls())
                        .and_then(|t| t.client_auth.as_ref()),
                    hello.client_certificate.as_ref(),
                );
                if let (Some(_), Some(page)) =
                    (chosen, super::served::client_certificate_page(check))
                {
                    return Served::now(page);
                }
                match (chosen, request) {
                    (None, _) => Served::Reset,
                    (Some(_), None) => Served::now(not_http()),
                    (Some(chosen), Some(request)) => run(chosen, request, arrival),
                }
            }
            (None, _, None) => Served::now(not_http()),
            (None, true, Some(_)) => Served::now(plain_http_to_tls()),
            (None, false, Some(request)) => {
                let named = authority_host(&request.authority);
                let chosen = candidates.iter().copied().find(|h| h.answers_to(named));
                match chosen.or(first) {
                    Some(chosen) => run(chosen, request, arrival),
                    None => Served::Refused,
                }
            }
        }
    }
}

/// Run `host`'s application on `request`.
fn run(host: &ExternalHost, request: &ArrivedRequest, arrival: &Arrival) -> Served {
    let req = AppRequest {
        request,
        tls: arrival.is_tls(),
        port: arrival.port,
        peer: arrival.peer(),
        server_name: host.name(),
        sni: arrival.sni(),
    };
    let (response, delay_ms) = app::answer(host.app(), &req);
    Served::Response { response, delay_ms }
}

/// The host part of an authority: `a.com:8080` → `a.com`, `[::1]:80` → `[::1]`.
fn authority_host(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

#[cfg(test)]
mod tests;

impl egressbench_compile::dns::Resolver for Internet {
    fn resolve(&self, name: &str) -> Option<Ipv4Addr> {
        Internet::resolve(self, name)
    }
}

//! Which simulated listeners the external hosts need, and which certificates each TLS one holds.
//!
//! Owns: `Listener` plans: one per simulated (address, port) that any host at that address listens
//! on, TLS and its ALPN as the first host at the address listening on the port says (as
//! `Internet::serve` and `Internet::listener` decide), with the names of every host there
//! listening with TLS. Leaves out: binding and
//! serving (`Hosts::start`, `connection`).

use egressbench_model::external::Internet;
use std::net::Ipv4Addr;

/// One listener to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listener {
    pub address: Ipv4Addr,
    pub port: u16,
    pub tls: bool,
    /// Its TLS offers `h2` by ALPN (else `http/1.1` only).
    pub http2: bool,
    /// Primary names of the hosts whose certificates a TLS listener serves, in the order added.
    pub hosts: Vec<String>,
}

/// Every listener of `internet`'s hosts, in the order the hosts were added.
pub(super) fn listeners(internet: &Internet) -> Vec<Listener> {
    let mut plan: Vec<Listener> = Vec::new();
    for host in internet.hosts() {
        for port in host.ports() {
            let address = host.address();
            if plan
                .iter()
                .any(|l| l.address == address && l.port == port.port)
            {
                continue;
            }
            let hosts = if port.tls {
                internet
                    .hosts_at(address)
                    .filter(|h| h.port(port.port).is_some_and(|p| p.tls))
                    .map(|h| h.name().to_string())
                    .collect()
            } else {
                Vec::new()
            };
            plan.push(Listener {
                address,
                port: port.port,
                tls: port.tls,
                http2: port.http2,
                hosts,
            });
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::external::{App, ExternalHost};

    #[test]
    fn one_listener_per_address_and_port_tls_as_the_first_host_says() {
        let shared = Ipv4Addr::new(203, 0, 113, 200);
        let net = Internet::empty()
            .with(
                ExternalHost::new("a.example", App::html_page("A"))
                    .listen(443, true)
                    .at(shared),
            )
            .with(
                ExternalHost::new("b.example", App::html_page("B"))
                    .listen(443, true)
                    .listen(80, false)
                    .at(shared),
            )
            .with(
                ExternalHost::new("c.example", App::html_page("C"))
                    .listen(443, false)
                    .at(shared),
            );
        assert_eq!(
            listeners(&net),
            [
                Listener {
                    address: shared,
                    port: 443,
                    tls: true,
                    http2: true,
                    hosts: vec!["a.example".into(), "b.example".into()],
                },
                Listener {
                    address: shared,
                    port: 80,
                    tls: false,
                    http2: false,
                    hosts: vec![],
                },
            ]
        );
    }

    #[test]
    fn builtin_listeners() {
        let plan = listeners(&Internet::builtin());
        assert_eq!(
            plan.len(),
            13,
            "six hosts on 80 and 443, alibabacloud on 443 only"
        );
        assert!(!plan
            .iter()
            .any(|l| l.address == Ipv4Addr::new(203, 0, 113, 20) && l.port == 80));
        assert!(plan.iter().all(|l| l.tls == (l.port == 443)));
    }
}

//! What runs in the pods: the server each workload's application image is, the ports it listens
//! on, and the address it is reached at, as a world of hosts (`Internet`) the walk and the
//! socket-running targets serve like the external hosts.
//!
//! Owns: `PodServer` (which server an image runs), `app_address` (where a pod's application is
//! reached: the pod's own address without a sidecar; behind a sidecar, a second address standing
//! for the pod's loopback, since the pod address's ports are the sidecar's inbound listeners), the
//! source address a sidecar's inbound side connects to its application from (`INBOUND_SOURCE`,
//! 127.0.0.6 as Istio ≥ 1.10 binds it), and `apps` (the world of every pod's server).
//! Leaves out: how requests reach the pod (`xds`'s inbound listeners, `decide`), and gateways
//! (their pods run only the proxy).
//!
//! Images, as Istio's samples and tests use them (matched on the image's repository name):
//!
//! | Image                                        | Server                                   |
//! |----------------------------------------------|------------------------------------------|
//! | `…/httpbin` (`kennethreitz/httpbin`, `mccutchen/go-httpbin`) | httpbin                 |
//! | `…/curl`, `…/sleep`, `…/busybox`, `…/netshoot`, none | no server: every port is refused |
//! | `…/nginx`                                    | nginx's welcome page (200)               |
//! | `…/squid` (`sameersbn/squid`, `ubuntu/squid`) | a forward proxy on 3128 (`forward`)     |
//! | anything else (Istio's echo `…/app`, …)      | Istio's echo server                      |
//!
//! A server listens on the container's declared `ports` and on every `targetPort` of the Services
//! that select the pod, in plain text.

mod nginx;

pub use nginx::{NginxSetup, NginxTls};

use crate::external::forward::SQUID_PORT;
use crate::external::{App, EchoServer, ExternalHost, ForwardProxyServer, Internet};
use crate::request::WorkloadRef;
use crate::topology::registry::Registry;
use crate::topology::workload::{ProxyKind, Workload};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Where a sidecar's inbound side connects to its application from (Istio ≥ 1.10 binds inbound
/// passthrough connections to 127.0.0.6, which iptables does not redirect back to the sidecar):
/// the echo server prints it as `IP=127.0.0.6`.
pub const INBOUND_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 6);

/// The server an application image runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodServer {
    Echo,
    Httpbin,
    Nginx,
    /// A forward proxy (`…/squid`), on Squid's port 3128 as well as the declared ones.
    ForwardProxy,
    /// A client image (curl, sleep): nothing listens.
    Nothing,
}

impl PodServer {
    /// The server of `image` (see the module table).
    pub fn of_image(image: &str) -> PodServer {
        let repository = image.split(['@', ':']).next().unwrap_or("");
        let repository = match image.rsplit_once('/') {
            Some((_, last)) => last.split(['@', ':']).next().unwrap_or(repository),
            None => repository,
        };
        match repository {
            "" | "curl" | "sleep" | "busybox" | "netshoot" | "curl-ssl" => PodServer::Nothing,
            r if r.contains("httpbin") => PodServer::Httpbin,
            "nginx" | "nginx-unprivileged" => PodServer::Nginx,
            r if r.contains("squid") => PodServer::ForwardProxy,
            _ => PodServer::Echo,
        }
    }
}

/// Where `w`'s application is reached: the pod address, or behind a sidecar the pod's loopback
/// (10.245.x.y for pod 10.244.x.y). `None` for gateways and unparsable addresses.
pub fn app_address(w: &Workload) -> Option<Ipv4Addr> {
    let pod: Ipv4Addr = w.address.parse().ok()?;
    match w.proxy {
        Some(ProxyKind::Gateway) => None,
        Some(ProxyKind::Sidecar) => {
            let [a, b, c, d] = pod.octets();
            Some(Ipv4Addr::new(a, b.wrapping_add(1), c, d))
        }
        None => Some(pod),
    }
}

/// Every address a pod of `workloads` answers on, listening or not: each pod's address and, behind
/// a sidecar, its application's.
pub fn addresses(workloads: &BTreeMap<WorkloadRef, Workload>) -> Vec<std::net::IpAddr> {
    workloads
        .values()
        .flat_map(|w| {
            let pod = w.address.parse::<Ipv4Addr>().ok();
            pod.into_iter().chain(app_address(w))
        })
        .map(std::net::IpAddr::V4)
        .collect()
}

/// The ports `w`'s server listens on: its container ports, then the target ports of the Services
/// selecting it, without repeats.
pub fn listening_ports(w: &Workload, registry: &Registry) -> Vec<u16> {
    let mut ports = w.container_ports();
    for svc in registry.selecting(&w.id) {
        for p in &svc.ports {
            if !ports.contains(&p.target_port) {
                ports.push(p.target_port);
            }
        }
    }
    ports
}

/// The server of `w`'s first application container that runs one.
pub fn server_of(w: &Workload) -> PodServer {
    w.containers
        .iter()
        .map(|c| PodServer::of_image(&c.image))
        .find(|s| *s != PodServer::Nothing)
        .unwrap_or(PodServer::Nothing)
}

/// Where the forward proxies of pods without a sidecar listen (`address:3128`): clients use them
/// by address, as Istio's task does.
pub fn forward_proxies(workloads: &BTreeMap<WorkloadRef, Workload>) -> Vec<std::net::SocketAddr> {
    workloads
        .values()
        .filter(|w| w.proxy.is_none() && server_of(w) == PodServer::ForwardProxy)
        .filter_map(app_address)
        .map(|a| std::net::SocketAddr::new(a.into(), SQUID_PORT))
        .collect()
}

/// A forward proxy whose pod has a sidecar, if any: its own connections (the tunnels it opens)
/// would be captured by the sidecar, which the model decides but the socket-running targets do
/// not replay; they refuse such a mesh with `forward_proxy_unreplayed`.
pub fn forward_proxy_behind_sidecar(
    workloads: &BTreeMap<WorkloadRef, Workload>,
) -> Option<&WorkloadRef> {
    workloads
        .values()
        .find(|w| w.proxy == Some(ProxyKind::Sidecar) && server_of(w) == PodServer::ForwardProxy)
        .map(|w| &w.id)
}

/// Why a socket-running target cannot run `w`'s forward proxy, for its error.
pub fn forward_proxy_unreplayed(w: &WorkloadRef) -> String {
    format!(
        "{w} runs a forward proxy (squid) with an injected sidecar; the tunnels it opens would \
         go through that sidecar, which only the model target replays. Run the proxy in a \
         namespace without injection (as Istio's \"Using an External HTTPS Proxy\" task does), \
         or label its pod sidecar.istio.io/inject: \"false\""
    )
}

/// Every pod's server as a host named by its address, at its `app_address` (`store` holds what
/// their volumes mount: an nginx's `nginx.conf` and certificates).
pub fn apps(
    store: &egressbench_resources::Store,
    workloads: &BTreeMap<WorkloadRef, Workload>,
    registry: &Registry,
) -> Internet {
    let mut world = Internet::empty();
    for w in workloads.values() {
        let Some(address) = app_address(w) else {
            continue;
        };
        if server_of(w) == PodServer::Nginx {
            match nginx::setup(store, w) {
                Ok(None) => {}
                // nginx does not start: nothing listens.
                Err(_) => continue,
                Ok(Some(setup)) => {
                    world.add(configured_nginx(address, &setup));
                    continue;
                }
            }
        }
        let app = match server_of(w) {
            PodServer::Nothing => continue,
            PodServer::Httpbin => App::Httpbin,
            PodServer::Nginx => App::html_page(NGINX_WELCOME),
            PodServer::ForwardProxy => App::ForwardProxy(Box::new(ForwardProxyServer {
                hostname: egressbench_resources::kube::pod_name(&w.id.namespace, &w.id.name),
            })),
            PodServer::Echo => App::Echo(Box::new(EchoServer {
                version: w.labels.get("version").cloned().unwrap_or_default(),
                namespace: w.id.namespace.clone(),
                hostname: egressbench_resources::kube::pod_name(&w.id.namespace, &w.id.name),
            })),
        };
        let mut ports = listening_ports(w, registry);
        if server_of(w) == PodServer::ForwardProxy && !ports.contains(&SQUID_PORT) {
            ports.insert(0, SQUID_PORT);
        }
        let host = ports.into_iter().fold(
            ExternalHost::new(&address.to_string(), app).at(address),
            |h, p| h.listen(p, false),
        );
        world.add(host);
    }
    world
}

/// An nginx serving its welcome page on the ports its configuration listens on; on its `ssl`
/// ports with the certificate and client check the configuration names, for any server name.
fn configured_nginx(address: Ipv4Addr, setup: &NginxSetup) -> ExternalHost {
    let mut host = ExternalHost::new(&address.to_string(), App::html_page(NGINX_WELCOME))
        .at(address)
        .any_name();
    if let Some(tls) = setup.ports.iter().find_map(|(_, t)| t.as_ref()) {
        host = host.with_tls(tls.tls.clone());
    }
    for (port, tls) in &setup.ports {
        host = host.listen_on(match tls {
            None => crate::external::ExternalPort::plain(*port),
            Some(t) if t.http2 => crate::external::ExternalPort::tls(*port),
            Some(_) => crate::external::ExternalPort::tls_http1(*port),
        });
    }
    host
}

/// The start of nginx's default page.
const NGINX_WELCOME: &str = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_name_their_server() {
        for (image, server) in [
            ("docker.io/mccutchen/go-httpbin:v2.15.0", PodServer::Httpbin),
            ("docker.io/kennethreitz/httpbin", PodServer::Httpbin),
            ("curlimages/curl", PodServer::Nothing),
            ("governmentpaas/curl-ssl", PodServer::Nothing),
            ("busybox:1.36", PodServer::Nothing),
            ("", PodServer::Nothing),
            ("gcr.io/istio-testing/app:latest", PodServer::Echo),
            ("nginx@sha256:abc", PodServer::Nginx),
            ("registry.local:5000/team/nginx:1.25", PodServer::Nginx),
            ("sameersbn/squid:3.5.27", PodServer::ForwardProxy),
            ("ubuntu/squid:latest", PodServer::ForwardProxy),
        ] {
            assert_eq!(PodServer::of_image(image), server, "{image}");
        }
    }
}

//! A pod's forward proxy on the sockets: a `CONNECT host:port` that the model's Squid allows is
//! answered by connecting to the destination as the pod's own connection goes (its DNS, kube-proxy,
//! the fabric), then `200` and the bytes relayed both ways until either side closes; a denied port,
//! a name that does not resolve or a destination that does not take the connection get Squid's
//! error page (`forward::connect_answer`).
//!
//! Owns: `PodEgress` (where a pod's own connection goes, from the mesh being served) and
//! `connect` (one `CONNECT`, from the request hyper parsed to the relay on the upgraded
//! connection). Leaves out: what Squid answers (`egressbench_model::external::forward`), HTTP
//! serving (`http`), and pods behind a sidecar, whose own connections the sidecar would capture:
//! the engines refuse to run a forward proxy there (`pods::forward_proxy_behind_sidecar`).

use super::body::ModelBody;
use super::http::{response_of, NoAnswer};
use super::site::Conn;
use bytes::Bytes;
use egressbench_model::decide::step::{app_connection, AppConnection};
use egressbench_model::external::forward::{
    connect_answer, connect_target, proxied_request, reached_destination, relay_answer,
    TunnelVerdict,
};
use egressbench_model::external::{ForwardProxyServer, Internet};
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::{ClientResult, ConnectionError};
use egressbench_model::request::{ClientRequest, Scheme};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

/// Where the connections a pod's application opens go, in the mesh being served now.
#[derive(Debug)]
pub struct PodEgress {
    mesh: Mutex<Arc<Mesh>>,
    internet: Arc<Internet>,
}

/// Where one connection of a pod's application goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EgressRoute {
    /// To `to` (simulated), from `source`, to the destination address `upstream` as resolved.
    Direct {
        to: SocketAddr,
        source: IpAddr,
        upstream: IpAddr,
    },
    /// The name does not resolve.
    NoName,
    /// The pod is not known, or its sidecar would capture the connection (not replayed).
    Unavailable,
}

impl PodEgress {
    pub fn new(mesh: Arc<Mesh>, internet: Arc<Internet>) -> Arc<PodEgress> {
        Arc::new(PodEgress {
            mesh: Mutex::new(mesh),
            internet,
        })
    }

    /// Serve `mesh` from now on.
    pub fn set_mesh(&self, mesh: Arc<Mesh>) {
        *self.mesh.lock().unwrap_or_else(PoisonError::into_inner) = mesh;
    }

    /// Where the application at `app` (a pod's application address) connects for `host:port`.
    pub(super) fn route(&self, app: Ipv4Addr, host: &str, port: u16) -> EgressRoute {
        let mesh = self
            .mesh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(w) = mesh
            .ctx
            .workloads
            .values()
            .find(|w| egressbench_model::pods::app_address(w) == Some(app))
        else {
            return EgressRoute::Unavailable;
        };
        let request = ClientRequest::get(Scheme::Tcp, host, port, "");
        let pod = egressbench_model::request::Origin::Pod(w.id.clone());
        match app_connection(&mesh, &self.internet, &pod, &request) {
            AppConnection::Direct {
                to,
                original,
                source,
            } => EgressRoute::Direct {
                to,
                source,
                upstream: original.ip(),
            },
            AppConnection::Unresolved { .. } => EgressRoute::NoName,
            // A pod's connection is never unroutable; its sidecar's is not relayed here.
            AppConnection::Captured { .. } | AppConnection::Unroutable { .. } => {
                EgressRoute::Unavailable
            }
        }
    }
}

/// Answer one whole request in absolute form (`GET http://…`) to forward proxy `server` on
/// `conn`: the proxy makes the request itself (`forward::proxied_request`), from its pod, with
/// the built-in client, and answers from what that got (`forward::relay_answer`).
pub(super) async fn relay(
    conn: Arc<Conn>,
    server: ForwardProxyServer,
    req: Request<Incoming>,
) -> Result<Response<ModelBody>, NoAnswer> {
    let (parts, body) = req.into_parts();
    let body = http_body_util::BodyExt::collect(body).await?.to_bytes();
    // The request as a host reads it (its headers but `Host`, its body), and the target whole.
    let target = parts.uri.to_string();
    let arrived = super::http::arrived(&parts, &body);
    let own = proxied_request(
        &server,
        &arrived.method,
        &target,
        &arrived.headers,
        &arrived.body,
        conn.peer,
    );
    let method = arrived.method;
    let record_headers = arrived.headers;
    let Some(own) = own else {
        let response = egressbench_model::external::forward::not_a_proxy_request(&server);
        conn.record_proxied(&method, &target, response.status, None, record_headers);
        return Ok(response_of(response));
    };
    let route = conn
        .site
        .egress
        .as_ref()
        .map_or(EgressRoute::Unavailable, |e| {
            e.route(conn.site.address, &own.host, own.port)
        });
    let (result, upstream) = match route {
        EgressRoute::Direct {
            to,
            source,
            upstream,
        } => {
            let result = match crate::pki::plain_text_client() {
                Ok(tls) => {
                    let dial = crate::client::Dial::Simulated(to);
                    crate::client::send(&conn.site.fabric, source, dial, &own, tls).await
                }
                Err(_) => failed(ConnectionError::Refused),
            };
            (result, Some(upstream))
        }
        EgressRoute::NoName => (failed(ConnectionError::Unresolved), None),
        EgressRoute::Unavailable => (failed(ConnectionError::Refused), None),
    };
    let connected = reached_destination(&result);
    let response = relay_answer(&server, &result);
    conn.record_proxied(
        &method,
        &target,
        response.status,
        upstream.filter(|_| connected),
        record_headers,
    );
    Ok(response_of(response))
}

fn failed(error: ConnectionError) -> ClientResult {
    ClientResult::ConnectionFailed {
        error,
        during_tls: false,
    }
}

/// Answer one `CONNECT` to forward proxy `server` on `conn`.
pub(super) async fn connect(
    conn: Arc<Conn>,
    server: ForwardProxyServer,
    mut req: Request<Incoming>,
) -> Result<Response<ModelBody>, NoAnswer> {
    let target = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let parsed = connect_target(&target);
    let refuse = |verdict: TunnelVerdict| {
        let response = connect_answer(&server, verdict);
        conn.record_connect(&target, response.status, None);
        Ok(response_of(response))
    };
    let Some((host, port)) = parsed.filter(|(_, p)| TunnelVerdict::allowed(*p)) else {
        return refuse(TunnelVerdict::Denied);
    };
    let route = conn
        .site
        .egress
        .as_ref()
        .map_or(EgressRoute::Unavailable, |e| {
            e.route(conn.site.address, &host, port)
        });
    let (to, source, upstream) = match route {
        EgressRoute::Direct {
            to,
            source,
            upstream,
        } => (to, source, upstream),
        EgressRoute::NoName => return refuse(TunnelVerdict::NoName),
        EgressRoute::Unavailable => return refuse(TunnelVerdict::Unreachable),
    };
    let Ok(mut upstream_stream) = conn.site.fabric.connect(source, to).await else {
        return refuse(TunnelVerdict::Unreachable);
    };
    conn.record_connect(&target, 200, Some(upstream));
    let upgrade = hyper::upgrade::on(&mut req);
    conn.site.tasks.spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            let mut client = TokioIo::new(upgraded);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream_stream).await;
        }
    });
    let mut open = Response::new(ModelBody::new(Bytes::new(), false));
    *open.status_mut() = StatusCode::OK;
    Ok(open)
}

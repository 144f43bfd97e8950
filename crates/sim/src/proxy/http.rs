//! An HTTP connection manager filter chain: requests parsed by hyper, routed by their Host through
//! the chain's route configuration, checked by the HTTP RBAC filter on the real peer identity and
//! source, then answered directly (`block_all`'s 502, a redirect, a fault) or forwarded through the
//! route's cluster with hyper's client.
//!
//! Owns: serving one HTTP/1.1 (or HTTP/2) connection, the upstream exchange, and each request's
//! access-log entry. What the proxy does with a request comes from the request-handling machine
//! (`decide::machine`) and its replies from the catalogue (`outcome::reply`), the same as the
//! model's. Leaves out: opening upstream connections (`upstream`).

use super::upstream::{self, BoxIo, Failure};
use super::Downstream;
use bytes::Bytes;
use egressbench_model::decide::machine::{self, HttpNext};
use egressbench_model::decide::HopRequest;
use egressbench_model::outcome::reply::{local_response, Details, LocalReply, UpstreamFailure};
use egressbench_model::outcome::{AccessLogEntry, HttpResponse, HttpVersion};
use egressbench_model::xds::{retries_connect_failures, Name, ProxyConfig, RbacFilter};
use egressbench_network::task::Scoped;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::sync::Arc;

/// Headers that belong to one connection, not to the request (never forwarded as they came).
const HOP_BY_HOP: [&str; 8] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "upgrade",
];

struct Chain {
    down: Arc<Downstream>,
    route_config: Name,
    rbac: Option<RbacFilter>,
}

/// Serve HTTP/1.1 on `stream` with route configuration `route_config` and `rbac`. Bytes that are
/// not HTTP (a TLS ClientHello, a raw stream) fail in the codec: hyper answers 400 in plain text
/// and closes, as Envoy does, and the failure is logged under `seq`, the connection's order.
pub(crate) async fn serve(
    down: Arc<Downstream>,
    stream: BoxIo,
    route_config: Name,
    rbac: Option<RbacFilter>,
    seq: u64,
) {
    let chain = Arc::new(Chain {
        down: down.clone(),
        route_config,
        rbac,
    });
    let served = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let any_request = served.clone();
    let service = hyper::service::service_fn(move |req| {
        let chain = chain.clone();
        any_request.store(true, std::sync::atomic::Ordering::Release);
        async move { Ok::<_, Infallible>(handle(&chain, req).await) }
    });
    // HTTP/1.1, or HTTP/2 when the connection opens with its preface (a hop from a proxy whose
    // cluster speaks HTTP/2).
    let outcome = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
    let codec_error = outcome.as_ref().err().is_some_and(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
    });
    if codec_error && !served.load(std::sync::atomic::Ordering::Acquire) {
        let mut e = down.entry();
        reply(LocalReply::CODEC_ERROR, &mut e);
        down.world.logs.write(seq, e);
    }
}

async fn handle(chain: &Chain, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let world = chain.down.world.clone();
    let busy = world.logs.begin();
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let request = hop_request(&parts, &body);
    let mut e = chain.down.entry();
    e.method = request.method.to_string();
    e.path = request.path.to_string();
    e.protocol = request.protocol.as_str().to_string();
    e.authority = request.authority.to_string();
    let response = route(chain, &request, &mut e).await;
    world.logs.write(busy.seq, e);
    to_hyper(&response)
}

/// The request as this proxy received it.
fn hop_request(parts: &hyper::http::request::Parts, body: &Bytes) -> HopRequest {
    let authority = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    HopRequest {
        protocol: if parts.version == hyper::Version::HTTP_2 {
            HttpVersion::Http2
        } else {
            HttpVersion::Http11
        },
        method: parts.method.as_str().into(),
        path: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .into(),
        authority: authority.into(),
        headers,
        body: String::from_utf8_lossy(body).into(),
    }
}

fn reply(r: LocalReply, e: &mut AccessLogEntry) -> HttpResponse {
    e.response_code = r.status;
    e.response_code_details = r.details.to_string();
    e.response_flags = r.flags.to_string();
    r.response()
}

/// One request through the request-handling machine (`decide::machine`), then the local reply
/// it makes or the upstream exchange it asks for.
async fn route(chain: &Chain, req: &HopRequest, e: &mut AccessLogEntry) -> HttpResponse {
    let down = &chain.down;
    let Some(config) = down.config() else {
        return reply(LocalReply::NO_ROUTE, e);
    };
    let source = down.source.to_string();
    let step = machine::http_request(
        config,
        &chain.route_config,
        chain.rbac.as_ref(),
        &down.connection(&source),
        req,
    );
    if let Some(r) = step.route.filter(|r| !r.name.is_empty()) {
        e.route_name = r.name.to_string();
    }
    if let Some(c) = &step.logged_cluster {
        e.upstream_cluster = c.to_string();
    }
    match step.next {
        HttpNext::Respond(r) => reply(r, e),
        HttpNext::Forward {
            cluster,
            request,
            timeout_ms,
        } => forward(chain, config, &cluster, &request, timeout_ms, e).await,
    }
}

/// Send `fwd` through `cluster` and relay the answer, or answer the failure.
async fn forward(
    chain: &Chain,
    config: &ProxyConfig,
    cluster: &str,
    fwd: &HopRequest,
    timeout_ms: Option<u64>,
    e: &mut AccessLogEntry,
) -> HttpResponse {
    let world = &chain.down.world;
    let (host, port) = chain.down.original_host();
    // Istio's default retry policy retries a failed connect twice (not on routes without it).
    let attempts = if retries_connect_failures(cluster) {
        3
    } else {
        1
    };
    let mut connected = upstream::connect(world, config, cluster, (&host, port)).await;
    for _ in 1..attempts {
        if !matches!(connected, Err(Failure::Connect { .. })) {
            break;
        }
        connected = upstream::connect(world, config, cluster, (&host, port)).await;
    }
    let up = match connected {
        Ok(up) => up,
        Err(Failure::ClusterNotFound) => {
            // Envoy logs no upstream cluster for a name it does not have.
            e.upstream_cluster = "-".into();
            return reply(LocalReply::CLUSTER_NOT_FOUND, e);
        }
        Err(failure) => {
            if let Some(h) = failure.host() {
                e.upstream_host = h.to_string();
            }
            let kind = failure.kind().unwrap_or(UpstreamFailure::ConnectFailure);
            let retried = retries_connect_failures(cluster);
            return reply(LocalReply::upstream_failure(kind, retried), e);
        }
    };
    e.upstream_host = up.host.to_string();
    let exchange = send(up.stream, up.http2, fwd);
    let answered = match timeout_ms {
        Some(ms) => match tokio::time::timeout(world.fabric.clock().real(ms), exchange).await {
            Ok(answered) => answered,
            Err(_) => return reply(LocalReply::ROUTE_TIMEOUT, e),
        },
        None => exchange.await,
    };
    match answered {
        Ok(response) => {
            e.response_code = response.status;
            e.response_code_details = Details::ViaUpstream.to_string();
            response
        }
        // The upstream closed or reset before answering.
        Err(_) => reply(
            LocalReply::upstream_failure(UpstreamFailure::ConnectionTermination, true),
            e,
        ),
    }
}

/// The sending half of an upstream connection, HTTP/1.1 or HTTP/2.
enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, hyper::Error> {
        match self {
            Sender::Http1(s) => s.send_request(request).await,
            Sender::Http2(s) => s.send_request(request).await,
        }
    }
}

/// One exchange on a fresh upstream connection, in HTTP/2 when the cluster says so.
async fn send(stream: BoxIo, http2: bool, req: &HopRequest) -> Result<HttpResponse, hyper::Error> {
    let io = TokioIo::new(stream);
    // The connection's driver: aborted when this exchange ends or is dropped (a route timeout).
    let (mut sender, _driver) = if http2 {
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        (Sender::Http2(sender), Scoped::spawn(conn))
    } else {
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        (Sender::Http1(sender), Scoped::spawn(conn))
    };
    let mut builder = Request::builder().method(&*req.method);
    builder = if http2 {
        // HTTP/2 carries the authority in the URI (`:authority`), not a Host header.
        builder
            .uri(format!("http://{}{}", req.authority, req.path))
            .version(hyper::Version::HTTP_2)
    } else {
        builder
            .uri(&*req.path)
            .header(hyper::header::HOST, &*req.authority)
    };
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = match builder.body(Full::new(Bytes::from(req.body.to_string()))) {
        Ok(r) => r,
        Err(_) => return Ok(local_response(400, "", &[])),
    };
    let result = async {
        let response = sender.send(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(HttpResponse {
            version: HttpVersion::Http11,
            status: parts.status.as_u16(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
    .await;
    result
}

/// The response as hyper sends it downstream.
fn to_hyper(r: &HttpResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        if k.eq_ignore_ascii_case("transfer-encoding") || k.eq_ignore_ascii_case("connection") {
            continue;
        }
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(r.body.clone())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

//! An HTTP connection manager filter chain: requests parsed by hyper, routed by their Host through
//! the chain's route configuration, checked by the HTTP RBAC filter on the real peer identity and
//! source, then answered directly (`block_all`'s 502, a redirect, a fault) or forwarded through the
//! route's cluster with hyper's client.
//!
//! Owns: serving one HTTP/1.1 (or HTTP/2) connection, the upstream exchange, and each request's
//! access-log entry. What the proxy does with a request comes from the request-handling machine
//! (`decide::machine`) and its replies from the catalogue (`outcome::reply`), the same as the
//! model's. Leaves out: opening upstream connections (`upstream`).

use super::pool::Pooled;
use super::upstream::{self, BoxIo, Failure};
use super::Downstream;
use bytes::Bytes;
use egressbench_model::decide::machine::{self, HttpNext};
use egressbench_model::decide::{step, HopRequest};
use egressbench_model::outcome::counters::UpstreamEvent;
use egressbench_model::outcome::reply::{local_response, Details, LocalReply, UpstreamFailure};
use egressbench_model::outcome::{AccessLogEntry, HttpResponse, HttpVersion};
use egressbench_model::xds::{retries_connect_failures, Name, ProxyConfig, RbacFilter};
use egressbench_network::logs::Busy;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::sync::Arc;

/// Headers of the message's framing, which the request value carries elsewhere (`authority`,
/// `body`). The connection's own headers stay, as in the model's request: the request-handling
/// machine drops them when it forwards (`step::drop_connection_headers`).
const FRAMING: [&str; 3] = ["host", "content-length", "transfer-encoding"];

struct Chain {
    down: Arc<Downstream>,
    route_config: Name,
    rbac: Option<RbacFilter>,
}

/// Serve HTTP/1.1 on `stream` with route configuration `route_config` and `rbac`. Bytes that are
/// not HTTP (a TLS ClientHello, a raw stream) fail in the codec: hyper answers 400 in plain text
/// and closes, as Envoy does, and the failure is logged under the connection's order. `busy`
/// marks the connection as work in flight until its first request begins (each request is then
/// in flight of its own): a connection left open for the next request is not work.
pub(crate) async fn serve(
    down: Arc<Downstream>,
    stream: BoxIo,
    route_config: Name,
    rbac: Option<RbacFilter>,
    busy: Busy,
) {
    let seq = busy.seq;
    let chain = Arc::new(Chain {
        down: down.clone(),
        route_config,
        rbac,
    });
    let opening = Arc::new(std::sync::Mutex::new(Some(busy)));
    let first = opening.clone();
    let service = hyper::service::service_fn(move |req| {
        let chain = chain.clone();
        let opening = first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        async move { Ok::<_, Infallible>(handle(&chain, req, opening).await) }
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
    let unserved = opening
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if codec_error && unserved.is_some() {
        let mut e = down.entry();
        reply(LocalReply::CODEC_ERROR, &mut e);
        down.world.logs.write(seq, e);
    }
    drop(unserved);
}

/// One request; `opening`, the connection's own in-flight mark, is let go once the request's
/// is taken.
async fn handle(
    chain: &Chain,
    req: Request<Incoming>,
    opening: Option<Busy>,
) -> Response<Full<Bytes>> {
    let world = chain.down.world.clone();
    let busy = world.logs.begin();
    drop(opening);
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
        .filter(|(k, _)| !FRAMING.contains(&k.as_str()))
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // An absolute-form target (a request meant for a forward proxy) keeps its scheme and
    // authority here, to be read as Envoy reads it (`step::origin_form`).
    let absolute = parts.version != hyper::Version::HTTP_2 && parts.uri.scheme().is_some();
    let path = if absolute {
        parts.uri.to_string()
    } else {
        parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string()
    };
    step::origin_form(HopRequest {
        protocol: if parts.version == hyper::Version::HTTP_2 {
            HttpVersion::Http2
        } else {
            HttpVersion::Http11
        },
        method: parts.method.as_str().into(),
        path: path.into(),
        authority: authority.into(),
        headers,
        body: String::from_utf8_lossy(body).into(),
    })
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

/// Send `fwd` through `cluster` — on an idle connection to the picked endpoint if the pool has
/// one, else on a new one — and relay the answer, or answer the failure; every event is counted.
async fn forward(
    chain: &Chain,
    config: &ProxyConfig,
    cluster: &str,
    fwd: &HopRequest,
    timeout_ms: Option<u64>,
    e: &mut AccessLogEntry,
) -> HttpResponse {
    let down = &chain.down;
    let world = &down.world;
    let counted = |event: UpstreamEvent<'_>| down.upstreams.record(&down.proxy, cluster, event);
    let (host, port) = down.original_host();
    let picked = match upstream::pick(world, config, cluster, (&host, port)) {
        Ok(picked) => picked,
        Err(Failure::ClusterNotFound) => {
            // Envoy logs no upstream cluster for a name it does not have.
            e.upstream_cluster = "-".into();
            return reply(LocalReply::CLUSTER_NOT_FOUND, e);
        }
        Err(failure) => {
            counted(UpstreamEvent::NoHealthyHost);
            let kind = failure.kind().unwrap_or(UpstreamFailure::NoHealthyUpstream);
            let r = reply(LocalReply::upstream_failure(kind, false), e);
            counted(UpstreamEvent::Charged {
                host: None,
                status: r.status,
            });
            return r;
        }
    };
    let endpoint = picked.host.to_string();
    e.upstream_host = endpoint.clone();
    let http2 = picked.cluster.upstream_http2(fwd.protocol);
    let pooled = down
        .upstreams
        .take(&down.proxy, picked.cluster, picked.host, http2)
        .await;
    let mut conn = match pooled {
        Some(conn) => conn,
        None => match connect(chain, config, &picked, http2, e).await {
            Ok(conn) => conn,
            Err(r) => return r,
        },
    };
    counted(UpstreamEvent::Sent { host: &endpoint });
    let exchange = send(&mut conn, fwd);
    let answered = match timeout_ms {
        Some(ms) => match tokio::time::timeout(world.fabric.clock().real(ms), exchange).await {
            Ok(answered) => answered,
            Err(_) => {
                // The request is reset, and its connection with it.
                counted(UpstreamEvent::TimedOut { host: &endpoint });
                let r = reply(LocalReply::ROUTE_TIMEOUT, e);
                counted(UpstreamEvent::Charged {
                    host: Some(&endpoint),
                    status: r.status,
                });
                counted(UpstreamEvent::Closed { host: &endpoint });
                return r;
            }
        },
        None => exchange.await,
    };
    match answered {
        Ok(response) => {
            e.response_code = response.status;
            e.response_code_details = Details::ViaUpstream.to_string();
            counted(UpstreamEvent::Charged {
                host: Some(&endpoint),
                status: response.status,
            });
            down.upstreams.put(&down.proxy, picked.host, conn);
            response
        }
        // The upstream closed or reset before answering.
        Err(_) => {
            let r = reply(
                LocalReply::upstream_failure(UpstreamFailure::ConnectionTermination, true),
                e,
            );
            counted(UpstreamEvent::Charged {
                host: Some(&endpoint),
                status: r.status,
            });
            counted(UpstreamEvent::Closed { host: &endpoint });
            r
        }
    }
}

/// A new connection to `picked` (speaking HTTP/2 when `http2`), its failed attempts retried as Istio's default retry policy
/// retries them (twice; not on routes without it), every attempt counted; or the reply to the
/// failure.
async fn connect(
    chain: &Chain,
    config: &ProxyConfig,
    picked: &upstream::Picked<'_>,
    http2: bool,
    e: &mut AccessLogEntry,
) -> Result<Pooled, HttpResponse> {
    let down = &chain.down;
    let cluster = &*picked.cluster.name;
    let counted = |event: UpstreamEvent<'_>| down.upstreams.record(&down.proxy, cluster, event);
    let endpoint = picked.host.to_string();
    let retried = retries_connect_failures(cluster);
    let attempts = if retried { 3 } else { 1 };
    let mut opened = None;
    for attempt in 0..attempts {
        if attempt > 0 {
            counted(UpstreamEvent::Retried);
        }
        match upstream::open(&down.world, config, picked).await {
            Ok(up) => {
                opened = Some(up);
                break;
            }
            Err(_) => counted(UpstreamEvent::ConnectFailed {
                host: Some(&endpoint),
                http: true,
            }),
        }
    }
    let Some(up) = opened else {
        let r = reply(
            LocalReply::upstream_failure(UpstreamFailure::ConnectFailure, retried),
            e,
        );
        counted(UpstreamEvent::Charged {
            host: None,
            status: r.status,
        });
        return Err(r);
    };
    counted(UpstreamEvent::Connected { host: &endpoint });
    match Pooled::handshake(up.stream, http2, picked.cluster).await {
        Ok(conn) => Ok(conn),
        Err(_) => {
            let r = reply(
                LocalReply::upstream_failure(UpstreamFailure::ConnectionTermination, true),
                e,
            );
            counted(UpstreamEvent::Closed { host: &endpoint });
            Err(r)
        }
    }
}

/// One exchange on connection `conn`, in HTTP/2 when it speaks it.
async fn send(conn: &mut Pooled, req: &HopRequest) -> Result<HttpResponse, hyper::Error> {
    let http2 = conn.http2;
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
    let response = conn.send(request).await?;
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

//! HTTP on a host's connection, served with hyper: each request as it came off the wire becomes an
//! `ArrivedRequest`, the model's host answers it (`Internet::serve`), and the answer is sent back
//! as the model wrote it — status, headers in order (hyper's automatic `date` is turned off), body
//! — after the model's delay on the fabric's clock.
//!
//! Owns: HTTP/1.1 and HTTP/2 connections, the request → `Arrival` translation, the model answer →
//! response translation, and one `HostRecord` per request. Leaves out: TLS and what comes before
//! HTTP (`connection`).
//!
//! Header names reach the model lowercase (hyper lowercases them, and HTTP/2 sends them so); the
//! model's httpbin prints them title-cased whatever their case (its WSGI view, `front.rs`), so the
//! answer is the same as for the names a client wrote. hyper groups repeated headers under their
//! first occurrence; httpbin joins repeats, so this does not change what it prints either.

use super::body::ModelBody;
use super::site::Conn;
use super::tasks::TaskExecutor;
use bytes::Bytes;
use egressbench_model::external::{ArrivedRequest, Served};
use egressbench_model::outcome::HttpVersion;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why a request got no HTTP answer (hyper then drops the stream or connection).
#[derive(Debug, thiserror::Error)]
pub(super) enum NoAnswer {
    #[error("reading the request body failed: {0}")]
    Body(#[from] hyper::Error),
    #[error("the host resets the connection")]
    Reset,
}

/// Serve HTTP/1.1 on `io` until the peer closes (or an answer is a reset).
pub(super) async fn serve_http1<S>(conn: Arc<Conn>, io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.auto_date_header(false);
    let service = {
        let conn = conn.clone();
        service_fn(move |req| answer(conn.clone(), req))
    };
    // With upgrades: a forward proxy's `CONNECT` hands the connection over to its tunnel.
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::select! {
        _ = connection => {}
        () = conn.abort.notified() => {}
    }
}

/// Serve HTTP/2 on `io` until the peer closes (or an answer is a reset).
pub(super) async fn serve_http2<S>(conn: Arc<Conn>, io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http2::Builder::new(TaskExecutor(conn.site.tasks.clone()));
    builder.auto_date_header(false);
    let service = {
        let conn = conn.clone();
        service_fn(move |req| answer(conn.clone(), req))
    };
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::select! {
        _ = connection => {}
        () = conn.abort.notified() => {}
    }
}

/// The model host's answer to one request.
async fn answer(conn: Arc<Conn>, req: Request<Incoming>) -> Result<Response<ModelBody>, NoAnswer> {
    if conn.tls.is_none() {
        if let Some(server) = conn.forward_proxy() {
            if req.method() == hyper::Method::CONNECT {
                return super::tunnel::connect(conn, server, req).await;
            }
            // An HTTP/1 request line in absolute form (an HTTP/2 request always carries its
            // scheme, and is not a proxy request).
            if req.version() < hyper::Version::HTTP_2 && req.uri().scheme().is_some() {
                return super::tunnel::relay(conn, server, req).await;
            }
        }
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let arrived = arrived(&parts, &body);
    let host = conn
        .site
        .name(conn.sni().or(Some(authority_host(&arrived.authority))));
    let scheme = if conn.tls.is_some() { "https" } else { "http" };
    let authority = if arrived.authority.is_empty() {
        host.as_str()
    } else {
        arrived.authority.as_str()
    };
    let url = format!("{scheme}://{authority}{}", arrived.path);
    let method = arrived.method.clone();
    let headers: Vec<(String, String)> = arrived
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .cloned()
        .collect();
    match conn.site.serve(&host, &conn.arrival(Some(arrived))) {
        Served::Response { response, delay_ms } => {
            conn.record(&host, &method, &url, response.status, headers);
            conn.site.fabric.clock().sleep(delay_ms).await;
            Ok(response_of(response))
        }
        // Reset, or an outcome a host cannot produce for a request on its own listener.
        _ => {
            conn.record(&host, &method, &url, 0, headers);
            conn.switch.flip();
            conn.abort.notify_one();
            Err(NoAnswer::Reset)
        }
    }
}

/// The model's answer as hyper sends it: status, headers in order, body.
pub(super) fn response_of(
    response: egressbench_model::outcome::HttpResponse,
) -> Response<ModelBody> {
    let has_length = response.header("content-length").is_some();
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers;
    let mut answer = Response::new(ModelBody::new(Bytes::from(response.body), has_length));
    *answer.status_mut() = status;
    for (name, value) in &headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            answer.headers_mut().append(name, value);
        }
    }
    answer
}

/// The request as the model's host receives it: authority from `Host` (HTTP/1) or the URI's
/// authority (HTTP/2, or an absolute-form HTTP/1 target without `Host`); every other header in
/// order; the body (not UTF-8: replaced characters).
pub(super) fn arrived(parts: &hyper::http::request::Parts, body: &[u8]) -> ArrivedRequest {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let host_header = parts.headers.get(HOST).map(|v| text(v.as_bytes()));
    let uri_authority = parts.uri.authority().map(|a| a.as_str().to_string());
    let authority = if parts.version == Version::HTTP_2 {
        uri_authority.or(host_header)
    } else {
        host_header.or(uri_authority)
    };
    let path = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    let mut request = ArrivedRequest::new(
        parts.method.as_str(),
        &path,
        authority.as_deref().unwrap_or_default(),
    );
    request.headers = parts
        .headers
        .iter()
        .filter(|(name, _)| **name != HOST)
        .map(|(name, value)| (name.as_str().to_string(), text(value.as_bytes())))
        .collect();
    request.body = text(body);
    request.in_version(if parts.version == Version::HTTP_2 {
        HttpVersion::Http2
    } else {
        HttpVersion::Http11
    })
}

/// The host part of an authority: `a.com:8080` → `a.com`.
fn authority_host(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_keep_method_path_authority_headers_and_body() {
        let req = Request::builder()
            .method("POST")
            .uri("/anything?a=1")
            .header("host", "httpbin.org:80")
            .header("x-b", "1")
            .header("user-agent", "curl/8.5.0")
            .header("x-b", "2")
            .body(())
            .map(|r| r.into_parts().0);
        let Ok(parts) = req else { panic!("request") };
        let a = arrived(&parts, b"hi");
        assert_eq!(a.method, "POST");
        assert_eq!(a.path, "/anything?a=1");
        assert_eq!(a.authority, "httpbin.org:80");
        assert_eq!(
            a.headers,
            [
                ("x-b".to_string(), "1".to_string()),
                ("x-b".to_string(), "2".to_string()),
                ("user-agent".to_string(), "curl/8.5.0".to_string()),
            ]
        );
        assert_eq!(a.body, "hi");
    }

    #[test]
    fn http2_takes_the_authority_from_the_uri() {
        let req = Request::builder()
            .version(Version::HTTP_2)
            .uri("https://www.httpbin.org/get")
            .body(())
            .map(|r| r.into_parts().0);
        let Ok(parts) = req else { panic!("request") };
        let a = arrived(&parts, b"");
        assert_eq!(
            (a.authority.as_str(), a.path.as_str()),
            ("www.httpbin.org", "/get")
        );
        assert_eq!(authority_host("a.com:8080"), "a.com");
        assert_eq!(authority_host("a.com"), "a.com");
    }
}

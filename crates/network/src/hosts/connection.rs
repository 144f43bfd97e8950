//! One accepted connection of an external host, from its first byte: TLS or not, the model's
//! verdict on that (`Internet::serve` with a stream arrival), the handshake, then HTTP or a stream
//! with no HTTP in it.
//!
//! Owns: the accept loop and the order of decisions on a connection. Leaves out: the bytes'
//! classification (`hello`, `sniff`), HTTP (`http`) and streams without HTTP (`stream`).
//!
//! | First bytes                 | TLS port                                  | Plain port          |
//! |-----------------------------|-------------------------------------------|---------------------|
//! | ClientHello, SNI served here | handshake, then what is inside (below)    | reset (RST)         |
//! | ClientHello, other SNI      | reset (RST)                               | reset (RST)         |
//! | HTTP                        | nginx's 400 (`plain_http_to_tls`), close  | served              |
//! | anything else               | nginx's 400, close                        | nginx's 400, close  |
//! | nothing (the peer closed)   | close                                     | close               |
//!
//! Inside the host's TLS: HTTP is served (HTTP/2 after the preface ALPN `h2` leads to), another
//! ClientHello, or anything else that is not HTTP, is answered with nginx's plain-text 400
//! (`stream`).

use super::http::{serve_http1, serve_http2};
use super::site::{Conn, Site};
use super::sniff::{classify, Kind};
use super::socket::Socket;
use super::stream::answer_not_http;
use crate::hello::{inspect, FirstBytes, Replay};
use egressbench_model::external::{Served, TlsHello, DEFAULT_PEER};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Accept connections on `listener` for `site` until aborted.
pub(super) async fn accept_loop(site: Arc<Site>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                site.tasks.spawn(handle(site.clone(), stream, peer));
            }
            // Out of file descriptors and the like: wait, as servers do, rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Serve one accepted connection.
async fn handle(site: Arc<Site>, stream: TcpStream, real_peer: SocketAddr) {
    let peer = site
        .fabric
        .simulated_peer(real_peer)
        .filter(|ip| site.egress.is_some() || !site.fabric.is_present(*ip))
        // A host outside the cluster sees a pod's connection from the cluster's public address
        // (the node's source NAT); the pods' applications see the pod.
        .unwrap_or(IpAddr::V4(DEFAULT_PEER));
    let (mut socket, switch) = Socket::new(stream);
    let Ok((first, bytes)) = inspect(&mut socket).await else {
        return;
    };
    let mut conn = Conn {
        site,
        peer,
        tls: None,
        alpn: None,
        switch,
        abort: Notify::new(),
    };
    let hello = match first {
        FirstBytes::Plain => return serve_plain(conn, bytes, socket).await,
        FirstBytes::Tls(hello) => hello,
    };
    let sni = hello.sni;
    let name = conn.site.name(sni.as_deref());
    let verdict = conn.site.serve(&name, &conn.hello_arrival(sni.as_deref()));
    let acceptor = match (&verdict, &conn.site.acceptor) {
        (Served::Response { .. }, Some(acceptor)) => acceptor.clone(),
        // TLS to a plain port, or an SNI no host here serves: the model resets.
        _ => {
            conn.record_reset(sni.as_deref());
            conn.switch.flip();
            return;
        }
    };
    // A failed handshake (e.g. the client rejects the certificate) ends with rustls's alert.
    let Ok(tls) = acceptor.accept(Replay::new(bytes, socket)).await else {
        return;
    };
    // The client certificate it presented, as the value it was made from.
    let client_certificate = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|der| conn.site.materials.identify(der.as_ref()));
    conn.tls = Some(TlsHello {
        sni,
        client_certificate,
    });
    conn.alpn = tls
        .get_ref()
        .1
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    serve_decrypted(conn, tls).await;
}

/// What comes after the host's own TLS handshake.
async fn serve_decrypted<S>(conn: Conn, mut tls: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ok((first, bytes)) = inspect(&mut tls).await else {
        return;
    };
    match first {
        FirstBytes::Tls(_) => {
            // TLS originated twice: not HTTP to this server, which answers 400 in plain text
            // (the walk reports it as `NotTls`).
            conn.record_stream(400);
            answer_not_http(tls).await;
        }
        FirstBytes::Plain => serve_plain(conn, bytes, tls).await,
    }
}

/// Plain bytes (on the socket, or inside the host's TLS) that started with `bytes`.
async fn serve_plain<S>(conn: Conn, bytes: Vec<u8>, mut io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ok((kind, bytes)) = classify(bytes, &mut io).await else {
        return;
    };
    let empty = bytes.is_empty();
    let io = Replay::new(bytes, io);
    match kind {
        Kind::Http1 => serve_http1(Arc::new(conn), io).await,
        Kind::Http2 => serve_http2(Arc::new(conn), io).await,
        // The peer closed before its first byte (a proxy that dialed and then gave up): nginx
        // closes too, without a word.
        Kind::Raw if empty => conn.record_stream(0),
        Kind::Raw => {
            let name = conn.site.name(conn.sni());
            match conn.site.serve(&name, &conn.arrival(None)) {
                Served::Response { response, .. } => {
                    conn.record_stream(response.status);
                    answer_not_http(io).await;
                }
                _ => {
                    conn.record_reset(conn.sni());
                    conn.switch.flip();
                }
            }
        }
    }
}

//! TLS ClientHello inspection, as Envoy's `tls_inspector` does it: read a connection's first
//! bytes, tell TLS from plaintext, and pull SNI and ALPN out of a ClientHello (parsed by rustls's
//! sans-IO `Acceptor`); plus `Replay`, a stream that hands the inspected bytes back first.
//!
//! Owns: `inspect` (at most `MAX_INSPECT_BYTES`; anything but a whole, well-formed ClientHello
//! counts as plaintext), `FirstBytes`, `ClientHello` and `Replay`. Leaves out: timeouts (a
//! server-first protocol sends nothing; the caller bounds the wait), filter-chain matching on the
//! result (`decide::step::select_chain` in `egressbench-model`, called by the simulated proxies in
//! `egressbench-sim`), and anything after the ClientHello.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The most bytes `inspect` reads before giving up on a ClientHello.
pub const MAX_INSPECT_BYTES: usize = 64 * 1024;

/// The TLS record content type of a handshake record.
const HANDSHAKE_RECORD: u8 = 0x16;

/// What a connection's first bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstBytes {
    /// A TLS ClientHello.
    Tls(ClientHello),
    /// Anything else (including EOF before any byte, or a malformed hello).
    Plain,
}

/// What a ClientHello says about where the client wants to go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The SNI host name, lowercase; `None` when the client sent none (e.g. an IP literal).
    pub sni: Option<String>,
    /// The ALPN protocols offered, in the client's order.
    pub alpn: Vec<Vec<u8>>,
}

/// Read from `stream` just enough to tell whether it starts with a TLS ClientHello and, if so,
/// the whole ClientHello; returns the classification and every byte read, to be replayed.
/// EOF before any byte is `Plain` with an empty buffer; at most 64 KiB is read.
pub async fn inspect<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<(FirstBytes, Vec<u8>)> {
    let mut bytes = Vec::new();
    let mut acceptor = Acceptor::default();
    let mut chunk = vec![0u8; 4096];
    loop {
        let room = MAX_INSPECT_BYTES.saturating_sub(bytes.len());
        if room == 0 {
            return Ok((FirstBytes::Plain, bytes));
        }
        let want = room.min(chunk.len());
        let n = stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Ok((FirstBytes::Plain, bytes));
        }
        let fresh = &chunk[..n];
        bytes.extend_from_slice(fresh);
        if bytes.first() != Some(&HANDSHAKE_RECORD) {
            return Ok((FirstBytes::Plain, bytes));
        }
        let mut rd: &[u8] = fresh;
        while !rd.is_empty() {
            match acceptor.read_tls(&mut rd) {
                Ok(0) | Err(_) => return Ok((FirstBytes::Plain, bytes)),
                Ok(_) => {}
            }
        }
        match acceptor.accept() {
            Ok(None) => {}
            Ok(Some(accepted)) => {
                let hello = accepted.client_hello();
                let parsed = ClientHello {
                    sni: hello.server_name().map(str::to_ascii_lowercase),
                    alpn: hello
                        .alpn()
                        .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
                        .unwrap_or_default(),
                };
                return Ok((FirstBytes::Tls(parsed), bytes));
            }
            Err(_) => return Ok((FirstBytes::Plain, bytes)),
        }
    }
}

/// A stream that first yields `prefix`, then reads from `inner`; writes, flush and shutdown go
/// to `inner`.
#[derive(Debug)]
pub struct Replay<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Replay<S> {
    /// Replay `prefix` before reading `inner`.
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Replay {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// The part of the prefix not yet read, and the inner stream.
    pub fn into_inner(self) -> (Vec<u8>, S) {
        let mut prefix = self.prefix;
        prefix.drain(..self.pos.min(prefix.len()));
        (prefix, self.inner)
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let rest = this.prefix.get(this.pos..).unwrap_or_default();
        if !rest.is_empty() {
            if buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.pos += n;
            if this.pos >= this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use super::*;
    use crate::pki::{public_client, public_server, CertificateAuthority, LeafSpec};

    #[tokio::test]
    async fn client_hello_is_recognised_and_replayed() -> Result<(), Box<dyn std::error::Error>> {
        let ca = CertificateAuthority::new("public-root")?;
        let leaf = ca.issue(&LeafSpec::server(&["httpbin.org".to_string()]))?;
        let server_cfg = public_server(&[(vec!["httpbin.org".to_string()], leaf)], &[b"h2"])?;
        let client_cfg = public_client(&ca, &[b"h2", b"http/1.1"])?;
        let (client_io, mut server_io) = tokio::io::duplex(64 * 1024);

        let client = tokio::spawn(async move {
            let name = ServerName::try_from("httpbin.org")?.to_owned();
            let mut tls = TlsConnector::from(client_cfg)
                .connect(name, client_io)
                .await?;
            let mut reply = [0u8; 5];
            tls.read_exact(&mut reply).await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(reply)
        });

        let (first, bytes) = inspect(&mut server_io).await?;
        assert_eq!(
            first,
            FirstBytes::Tls(ClientHello {
                sni: Some("httpbin.org".to_string()),
                alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            })
        );
        assert_eq!(bytes.first(), Some(&0x16));

        let mut tls = TlsAcceptor::from(server_cfg)
            .accept(Replay::new(bytes, server_io))
            .await?;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        tls.write_all(b"hello").await?;
        tls.flush().await?;
        let reply = client.await?.map_err(|e| e.to_string())?;
        assert_eq!(&reply, b"hello");
        Ok(())
    }

    #[tokio::test]
    async fn plaintext_is_plain_and_bytes_are_returned() -> io::Result<()> {
        let (mut client_io, mut server_io) = tokio::io::duplex(1024);
        client_io.write_all(b"GET / HTTP/1.1\r\n").await?;
        let (first, bytes) = inspect(&mut server_io).await?;
        assert_eq!(first, FirstBytes::Plain);
        assert_eq!(bytes, b"GET / HTTP/1.1\r\n");

        let mut replay = Replay::new(bytes, server_io);
        client_io.write_all(b"Host: x\r\n").await?;
        let mut got = vec![0u8; 25];
        replay.read_exact(&mut got).await?;
        assert_eq!(got, b"GET / HTTP/1.1\r\nHost: x\r\n");
        let (rest, _) = replay.into_inner();
        assert!(rest.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn eof_before_any_byte_is_plain_and_empty() -> io::Result<()> {
        let (client_io, mut server_io) = tokio::io::duplex(1024);
        drop(client_io);
        assert_eq!(
            inspect(&mut server_io).await?,
            (FirstBytes::Plain, Vec::new())
        );
        Ok(())
    }

    #[tokio::test]
    async fn handshake_byte_then_garbage_is_plain() -> io::Result<()> {
        let (mut client_io, mut server_io) = tokio::io::duplex(1024);
        let garbage = [0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff];
        client_io.write_all(&garbage).await?;
        let (first, bytes) = inspect(&mut server_io).await?;
        assert_eq!(first, FirstBytes::Plain);
        assert_eq!(bytes, garbage);
        Ok(())
    }

    #[tokio::test]
    async fn ip_literal_has_no_sni() -> Result<(), Box<dyn std::error::Error>> {
        let ca = CertificateAuthority::new("public-root")?;
        let client_cfg: Arc<rustls::ClientConfig> = public_client(&ca, &[])?;
        let (client_io, mut server_io) = tokio::io::duplex(64 * 1024);
        let client = tokio::spawn(async move {
            let name = ServerName::try_from("10.0.0.1")?.to_owned();
            let _ = TlsConnector::from(client_cfg)
                .connect(name, client_io)
                .await;
            Ok::<_, rustls::pki_types::InvalidDnsNameError>(())
        });
        let (first, _) = inspect(&mut server_io).await?;
        assert_eq!(first, FirstBytes::Tls(ClientHello::default()));
        drop(server_io);
        client.await??;
        Ok(())
    }

    #[test]
    fn replay_into_inner_returns_unread_prefix() {
        let replay = Replay::new(b"abc".to_vec(), ());
        assert_eq!(replay.get_ref(), &());
        assert_eq!(replay.into_inner(), (b"abc".to_vec(), ()));
    }
}

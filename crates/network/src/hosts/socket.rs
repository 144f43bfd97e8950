//! An accepted connection that can be told to end with a TCP RST rather than a FIN, even after it
//! has been handed to TLS and HTTP layers that own it.
//!
//! Owns: `Socket` (the accepted `TcpStream` plus a shared reset flag) and `ResetSwitch` (the flag,
//! kept by whoever decides). Leaves out: deciding when to reset (`connection`, `http`).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Turns a `Socket`'s eventual close into a reset.
#[derive(Debug, Clone, Default)]
pub(super) struct ResetSwitch(Arc<AtomicBool>);

impl ResetSwitch {
    /// Close the socket with a RST when it is dropped.
    pub(super) fn flip(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// An accepted connection; closes with a RST when its switch was flipped (as `fabric::reset`
/// does), else normally.
#[derive(Debug)]
pub(super) struct Socket {
    stream: TcpStream,
    switch: ResetSwitch,
}

impl Socket {
    pub(super) fn new(stream: TcpStream) -> (Socket, ResetSwitch) {
        let switch = ResetSwitch::default();
        (
            Socket {
                stream,
                switch: switch.clone(),
            },
            switch,
        )
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.switch.is_on() {
            // SO_LINGER zero: close() sends RST (never blocks, unlike other linger values).
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

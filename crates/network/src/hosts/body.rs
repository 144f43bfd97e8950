//! A response body that leaves the model's `content-length` header where the model put it.
//!
//! hyper, given a body it knows to be empty, drops a `content-length: 0` header and writes its own
//! after every other header, so an empty answer would not list its headers in the model's order.
//! A body whose length hyper does not know makes hyper keep and obey the header as written.
//!
//! Owns: `ModelBody`. Leaves out: the headers themselves (`http`).

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One chunk of bytes; its length is announced only when the answer has no `content-length`
/// header (else hyper would frame it with chunked encoding or rewrite the header).
#[derive(Debug)]
pub(super) struct ModelBody {
    data: Option<Bytes>,
    exact: bool,
}

impl ModelBody {
    /// `data`, with its length hidden from hyper when `has_length_header`.
    pub(super) fn new(data: Bytes, has_length_header: bool) -> Self {
        ModelBody {
            data: Some(data),
            exact: !has_length_header,
        }
    }
}

impl Body for ModelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let data = self.get_mut().data.take().filter(|d| !d.is_empty());
        Poll::Ready(data.map(|d| Ok(Frame::data(d))))
    }

    /// True once the one chunk is out, so that HTTP/2 ends the stream on its last DATA frame (an
    /// empty DATA frame after it would leave a window in which a client that has every byte it
    /// was promised closes a stream its proxy still counts as open: Envoy logs `DC`).
    fn is_end_stream(&self) -> bool {
        match &self.data {
            None => true,
            Some(d) => self.exact && d.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, self.exact) {
            (Some(d), true) => SizeHint::with_exact(d.len() as u64),
            (None, true) => SizeHint::with_exact(0),
            (_, false) => SizeHint::default(),
        }
    }
}

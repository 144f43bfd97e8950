//! The clients that make requests from workloads: curl as the simulated mesh runs it.
//!
//! Owns: the built-in curl (`builtin`: real sockets through the fabric, rustls, hyper), the real
//! curl binary as a stand-in for it (`real_curl`), both reporting the `ClientResult` the model
//! gives for the same situation, and the choice between them a target makes (`app`). Leaves out: where a workload's connection goes (`Dial` is chosen
//! by the caller from the workload's sidecar and DNS), the certificates (`sim::pki`), and turning
//! command lines into requests or results into curl's output (`scenario::command`).

pub(crate) mod app;
pub(crate) mod builtin;
pub(crate) mod real_curl;

#[cfg(test)]
mod tests;

pub use app::{AppClient, ClientKind, Sent};
pub use builtin::{send, Dial, TCP_PROBE};
pub use real_curl::{find_curl, has_http2, send_with_curl, CurlError};

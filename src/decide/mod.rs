//! Decisions: one request walked through the compiled per-proxy config, hop by hop.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Trace {}

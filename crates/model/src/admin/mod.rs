//! A proxy's admin interface as the documents read it (`pilot-agent request GET clusters|stats`,
//! `curl localhost:15000/stats`): the reference semantics of its upstream counters, and the
//! counters printed as Envoy prints them.
//!
//! Owns: `Upstreams` (the model's connection pools and counters, moved by the access-log entries
//! of each exchange it decides), `AdminPage` with `page` (the `/clusters` and `/stats` text of
//! a proxy's config and counters, whichever target counted them) and Istio's standard metrics
//! (`/stats/prometheus`, counted from the proxy's access log, whichever target wrote it). Leaves
//! out: the counters themselves and their events (`outcome::counters`), and reading real Envoy's
//! (`egressbench-envoy`).

mod count;
mod metrics;
mod page;

pub use count::{drained, Upstreams};
pub use metrics::{istio_families, istio_series, MetricSeries};
pub use page::{page, AdminPage, AdminPageError, PageInputs};

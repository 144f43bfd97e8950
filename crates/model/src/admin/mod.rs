//! A proxy's admin interface as the documents read it (`pilot-agent request GET clusters|stats`,
//! `curl localhost:15000/stats`): the reference semantics of its upstream counters, and the
//! counters printed as Envoy prints them.
//!
//! Owns: `Upstreams` (the model's connection pools and counters, moved by the access-log entries
//! of each exchange it decides) and `AdminPage` with `page` (the `/clusters` and `/stats` text of
//! a proxy's config and counters, whichever target counted them). Leaves out: the counters
//! themselves and their events (`outcome::counters`), and reading real Envoy's (`egressbench-envoy`).

mod count;
mod page;

pub use count::{drained, Upstreams};
pub use page::{page, AdminPage, AdminPageError};

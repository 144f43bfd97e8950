//! The proxies' access logs, and knowing when every connection in flight is done.
//!
//! Owns: `LogSink` — each proxy appends Envoy-style entries (one JSON line each, as
//! `kubectl logs -c istio-proxy` shows them) when a request or a TCP stream ends; each entry carries
//! the sequence number of the connection it describes, so the entries of one exchange come out in
//! hop order (the client's sidecar first) even though the sidecar finishes last. `Busy` guards count
//! the work in flight, so a caller can wait until every proxy has written its entry. Leaves out:
//! what goes into an entry (the proxies).

use egressbench_model::outcome::AccessLogEntry;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
struct Written {
    seq: u64,
    entry: AccessLogEntry,
}

/// Every proxy's access log, and the count of connections still being served.
#[derive(Debug, Default)]
pub struct LogSink {
    /// Proxy (`namespace/workload`) → its entries, in the order written.
    logs: Mutex<BTreeMap<String, Vec<Written>>>,
    next_seq: AtomicU64,
    busy: AtomicUsize,
    idle: Notify,
}

/// Held while a proxy serves a connection; dropping it marks the work done.
#[derive(Debug)]
pub struct Busy {
    sink: Arc<LogSink>,
    /// Order of this connection among all connections of the mesh.
    pub seq: u64,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.sink.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.sink.idle.notify_waiters();
        }
    }
}

impl LogSink {
    pub fn new() -> Arc<LogSink> {
        Arc::new(LogSink::default())
    }

    /// Start serving a connection: a guard with the connection's sequence number.
    pub fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy {
            sink: self.clone(),
            seq: self.next_seq.fetch_add(1, Ordering::AcqRel),
        }
    }

    /// Append `entry` to its proxy's log, for the connection numbered `seq`.
    pub fn write(&self, seq: u64, entry: AccessLogEntry) {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(entry.proxy.clone())
            .or_default()
            .push(Written { seq, entry });
    }

    /// Wait until no connection is being served, or `limit` has passed (a stream the client left
    /// open). Returns whether everything finished.
    pub async fn settle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.busy.load(Ordering::Acquire) == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }

    /// How many entries each proxy has written so far (a mark for `since`).
    pub fn mark(&self) -> BTreeMap<String, usize> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }

    /// Entries written after `mark`, across proxies, in connection order.
    pub fn since(&self, mark: &BTreeMap<String, usize>) -> Vec<AccessLogEntry> {
        let logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<&Written> = logs
            .iter()
            .flat_map(|(k, v)| v.iter().skip(mark.get(k).copied().unwrap_or(0)))
            .collect();
        out.sort_by_key(|w| w.seq);
        out.into_iter().map(|w| w.entry.clone()).collect()
    }

    /// Every entry `proxy` has written, oldest first.
    pub fn of(&self, proxy: &str) -> Vec<AccessLogEntry> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(proxy)
            .map(|v| v.iter().map(|w| w.entry.clone()).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_out_in_connection_order_and_settle_waits_for_the_last() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let sink = LogSink::new();
            let mark = sink.mark();
            let first = sink.begin();
            let second = sink.begin();
            let s2 = second.seq;
            sink.write(s2, AccessLogEntry::blank("istio-egress/gw"));
            drop(second);
            assert!(!sink.settle(Duration::from_millis(20)).await);
            sink.write(first.seq, AccessLogEntry::blank("mytest/sleep"));
            drop(first);
            assert!(sink.settle(Duration::from_millis(20)).await);
            let proxies: Vec<String> = sink.since(&mark).into_iter().map(|e| e.proxy).collect();
            assert_eq!(proxies, ["mytest/sleep", "istio-egress/gw"]);
            assert_eq!(sink.of("mytest/sleep").len(), 1);
        });
    }
}

//! A spawned task that lives exactly as long as its owner: dropping the guard aborts it (a hyper
//! connection driver stops, and its socket closes, when the exchange that needed it is over — also
//! when that exchange is dropped half-way, as a timeout does).
//!
//! Owns: `Scoped`, the guard, spawning on the current tokio runtime. Leaves out: what the tasks do
//! (the hyper connection drivers of the built-in client in `client` and of the simulated proxies'
//! upstreams in `egressbench-sim`) and tasks aborted together as a set (`hosts`' `Tasks`).

use std::future::Future;
use tokio::task::JoinHandle;

/// Aborts its task on drop.
#[derive(Debug)]
pub struct Scoped(JoinHandle<()>);

impl Scoped {
    /// Spawn `work` (ignoring its output) on the current runtime, scoped to the returned guard.
    pub fn spawn<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> Scoped {
        Scoped(tokio::spawn(async move {
            let _ = work.await;
        }))
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        self.0.abort();
    }
}

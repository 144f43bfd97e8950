//! A spawned task that lives exactly as long as its owner: dropping the guard aborts it (a hyper
//! connection driver stops, and its socket closes, when the exchange that needed it is over — also
//! when that exchange is dropped half-way, as a timeout does).

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

//! The tasks of one `Hosts`: accept loops, connections and HTTP/2 streams, all aborted together.
//!
//! Owns: `Tasks` (a `JoinSet` that refuses new tasks once closed, so a connection accepted while
//! closing is not left behind) and `TaskExecutor`, hyper's executor for HTTP/2 streams, which
//! spawns into the same set. Leaves out: what the tasks do.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::task::JoinSet;

#[derive(Debug, Default)]
struct Set {
    tasks: JoinSet<()>,
    closed: bool,
}

/// Every task of one `Hosts`.
#[derive(Debug, Default)]
pub(super) struct Tasks {
    set: Mutex<Set>,
}

impl Tasks {
    fn lock(&self) -> MutexGuard<'_, Set> {
        self.set.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `task` (must be called inside a tokio runtime); dropped at once when closed.
    pub(super) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut set = self.lock();
        if set.closed {
            return;
        }
        // Forget finished tasks so a long-lived set does not grow.
        while set.tasks.try_join_next().is_some() {}
        set.tasks.spawn(task);
    }

    /// Abort every task and refuse new ones.
    pub(super) fn close(&self) {
        let mut set = self.lock();
        set.closed = true;
        set.tasks.abort_all();
    }
}

/// hyper's executor for HTTP/2 stream tasks: they join the set, so closing aborts them too.
#[derive(Debug, Clone)]
pub(super) struct TaskExecutor(pub(super) Arc<Tasks>);

impl<F> hyper::rt::Executor<F> for TaskExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.spawn(async move {
            let _ = future.await;
        });
    }
}

//! The shell the socket-running targets share: a tokio runtime of the target's own (one thread),
//! the objects applied so far, and a running engine (the simulated mesh, or the Envoy processes)
//! that every change reconfigures and every request goes through.
//!
//! Owns: `Engine` (what such an engine offers) and `OnRuntime` (a `Target` over any engine: apply
//! and delete rebuild the mesh and reconfigure it, exec checks the workload and makes the
//! request, dropping it drops the engine inside its runtime). Leaves out: the engines (`sim`,
//! `envoy::run`) and how each is started (`SimTarget`, `EnvoyTarget`).

use egressbench_model::answer::Exchange;
use egressbench_model::mesh::Mesh;
use egressbench_model::outcome::counters::ProxyCounters;
use egressbench_model::outcome::AccessLogEntry;
use egressbench_model::request::{ClientRequest, Origin, WorkloadRef};
use egressbench_resources::{Resource, ResourceId, Store};
use egressbench_scenario::target::{self as shared, Target, TargetError};
use egressbench_text::{BoxDiagnostic, Diagnostic};
use std::sync::Arc;

/// A running mesh that serves requests over real sockets.
// The futures are awaited on the target's own current-thread runtime only, so they need no
// `Send` bound, which is what the lint asks for.
#[allow(async_fn_in_trait)]
pub trait Engine {
    type Error: Diagnostic + Send + Sync + 'static;

    /// The mesh it serves now.
    fn mesh(&self) -> Arc<Mesh>;

    /// Serve `mesh` from now on.
    async fn configure(&mut self, mesh: Arc<Mesh>) -> Result<(), Self::Error>;

    /// Make `request` from `from` and collect what the proxies logged for it.
    async fn exec(
        &mut self,
        from: &Origin,
        request: &ClientRequest,
    ) -> Result<Exchange, Self::Error>;

    /// Get ready for `requests` (see `Target::prepare`). The default does nothing.
    async fn prepare(
        &mut self,
        requests: &[(WorkloadRef, ClientRequest)],
    ) -> Result<(), Self::Error> {
        let _ = requests;
        Ok(())
    }

    /// Every entry `proxy` has written so far, oldest first.
    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry>;

    /// `proxy`'s upstream counters so far.
    async fn counters(&mut self, proxy: &WorkloadRef) -> Result<ProxyCounters, Self::Error>;
}

/// A target over engine `E`, on a runtime of its own.
#[derive(Debug)]
pub struct OnRuntime<E> {
    runtime: tokio::runtime::Runtime,
    /// `Some` until dropped (it is dropped inside the runtime).
    engine: Option<E>,
    store: Store,
    name: &'static str,
    /// Said when the engine is gone: `the simulated mesh is stopped`.
    stopped: &'static str,
}

fn rejected<D: Diagnostic + Send + Sync + 'static>(e: D) -> TargetError {
    TargetError::Engine(Box::new(e))
}

/// Why the shell could not reach its engine.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("starting {what}: {source}")]
    Runtime {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("starting {what}: {cause}")]
    Start {
        what: &'static str,
        cause: BoxDiagnostic,
    },
    #[error("{what} is stopped")]
    Stopped { what: &'static str },
}

impl Diagnostic for ShellError {
    fn help(&self) -> Option<String> {
        match self {
            ShellError::Start { cause, .. } => cause.help(),
            ShellError::Runtime { .. } | ShellError::Stopped { .. } => None,
        }
    }
}

impl<E: Engine> OnRuntime<E> {
    /// Start the engine `start` makes on a new runtime; `what` names it in errors (`the
    /// simulated mesh`), `name` is the target's.
    pub fn start<F, Fut>(
        name: &'static str,
        what: &'static str,
        start: F,
    ) -> Result<Self, TargetError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<E, E::Error>>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| rejected(ShellError::Runtime { what, source }))?;
        let engine = runtime.block_on(start()).map_err(|e| {
            rejected(ShellError::Start {
                what,
                cause: Box::new(e),
            })
        })?;
        Ok(OnRuntime {
            runtime,
            engine: Some(engine),
            store: Store::new(),
            name,
            stopped: what,
        })
    }

    /// The running engine (`None` once it is stopped).
    pub fn engine(&self) -> Option<&E> {
        self.engine.as_ref()
    }

    /// Run `f` inside this target's runtime (where the engine's sockets live), to completion.
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    /// Run what `f` makes of the engine on the runtime, to completion.
    fn on_engine<'a, T, Fut>(
        &'a mut self,
        f: impl FnOnce(&'a mut E) -> Fut,
    ) -> Result<T, TargetError>
    where
        Fut: std::future::Future<Output = Result<T, E::Error>> + 'a,
    {
        let Some(engine) = self.engine.as_mut() else {
            return Err(rejected(ShellError::Stopped { what: self.stopped }));
        };
        self.runtime.block_on(f(engine)).map_err(rejected)
    }

    fn commit(&mut self, store: Store) -> Result<(), TargetError> {
        let mesh = Arc::new(Mesh::build(&store)?);
        self.on_engine(|e| e.configure(mesh))?;
        self.store = store;
        Ok(())
    }
}

impl<E> Drop for OnRuntime<E> {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.engine = None;
    }
}

impl<E: Engine> Target for OnRuntime<E> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn apply(&mut self, resources: Vec<Resource>) -> Result<(), TargetError> {
        let store = shared::applied(&self.store, resources);
        self.commit(store)
    }

    fn delete(&mut self, ids: &[ResourceId]) -> Result<(), TargetError> {
        let store = shared::deleted(&self.store, ids)?;
        self.commit(store)
    }

    fn exec(&mut self, from: &Origin, request: &ClientRequest) -> Result<Exchange, TargetError> {
        if let (Some(mesh), Some(pod)) = (self.engine.as_ref().map(E::mesh), from.pod()) {
            if mesh.workload(pod).is_none() {
                return Err(TargetError::unknown_workload(&mesh, pod));
            }
        }
        self.on_engine(|e| e.exec(from, request))
    }

    fn prepare(&mut self, requests: &[(WorkloadRef, ClientRequest)]) -> Result<(), TargetError> {
        self.on_engine(|e| e.prepare(requests))
    }

    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        self.engine
            .as_ref()
            .map(|e| e.logs(proxy))
            .unwrap_or_default()
    }

    fn counters(&mut self, proxy: &WorkloadRef) -> Result<ProxyCounters, TargetError> {
        self.on_engine(|e| e.counters(proxy))
    }
}

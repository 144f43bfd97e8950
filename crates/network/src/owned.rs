//! What a run leaves on the machine while it works, and takes away when it stops — also when it
//! is stopped by a signal: the temporary folders the targets write to (Envoy's bootstraps,
//! certificates and logs; the real curl's CA file), and the shutdown on SIGINT and SIGTERM.
//!
//! Owns: `OwnedDir` (a folder removed when dropped, and registered meanwhile), `remove_all` (every
//! registered folder removed, for a signal handler that exits without running destructors) and
//! `exit_on_signal` (that handler: a thread that waits for SIGINT or SIGTERM, removes the folders
//! and exits 130 or 143). The processes a run starts die with it by their own watch (see
//! `egressbench-envoy`'s `run`), whatever stops it. Leaves out: what goes into the folders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

static OWNED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A temporary folder of this run: created by `create`, removed with its contents when dropped
/// or when the run is stopped by a signal.
#[derive(Debug)]
pub struct OwnedDir {
    path: PathBuf,
}

impl OwnedDir {
    /// Create `path` (and its parents) and own it.
    pub fn create(path: PathBuf) -> std::io::Result<OwnedDir> {
        std::fs::create_dir_all(&path)?;
        OWNED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.clone());
        Ok(OwnedDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside the folder.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for OwnedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        OWNED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.path);
    }
}

/// Remove every folder still owned (the run is about to exit without dropping them).
pub fn remove_all() {
    let owned = std::mem::take(&mut *OWNED.lock().unwrap_or_else(PoisonError::into_inner));
    for path in owned {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Watch for SIGINT and SIGTERM on a thread of its own: on either, remove the owned folders and
/// exit with 130 (SIGINT) or 143 (SIGTERM), as a shell reports a process those signals ended. The
/// processes the run started see it go and stop themselves. Without the watch (it could not be
/// set up), the signals keep their default action.
pub fn exit_on_signal() {
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(|| {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                let code = tokio::select! {
                    _ = term.recv() => 143,
                    _ = int.recv() => 130,
                };
                remove_all();
                std::process::exit(code);
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_folder_is_registered_until_it_goes_with_its_contents() {
        let path = std::env::temp_dir().join(format!("egressbench-owned-{}", std::process::id()));
        let owned = OwnedDir::create(path.clone()).expect("created");
        std::fs::write(owned.join("f"), "x").expect("written");
        assert!(OWNED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&path));
        drop(owned);
        assert!(!path.exists());
        assert!(!OWNED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&path));
    }
}

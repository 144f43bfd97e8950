//! Tabling many scenario files at once: `jobs` worker threads, each loading one scenario and
//! building its table with targets of its own, the results handed back in file order as soon as
//! each one and all before it are done.
//!
//! Scenarios are independent (each gets fresh targets), so they run side by side. That matters
//! for the Envoy target, whose cells mostly wait on real time (Envoy's one-second delayed close,
//! access logs settling), not on the processor.
//!
//! Owns: `build_many` and `NotTabled`. Leaves out: one scenario's table (`build`) and printing
//! (`render`, `cli::table`).

use super::build::{build, TargetFactory};
use super::Table;
use egressbench_scenario::load_scenario;
use egressbench_text::Diagnostic as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;

/// Why a scenario file was not tabled: it did not load, or a target would not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotTabled {
    pub message: String,
    /// How to fix it, when known.
    pub help: Option<String>,
}

/// One scenario file's table, or why there is none.
pub fn table_file(file: &Path, targets: &[TargetFactory]) -> Result<Table, NotTabled> {
    let scenario = load_scenario(file).map_err(|e| NotTabled {
        message: e.to_string(),
        help: e.help(),
    })?;
    build(&scenario, targets).map_err(|e| NotTabled {
        message: e.to_string(),
        help: None,
    })
}

/// Table every file of `files` over `targets` with `jobs` threads (at least one), calling `each`
/// once per file, in the order of `files`.
pub fn build_many(
    files: &[PathBuf],
    targets: &[TargetFactory],
    jobs: usize,
    mut each: impl FnMut(&Path, Result<Table, NotTabled>),
) {
    let queue = Mutex::new(files.iter().enumerate());
    let (done, results) = mpsc::channel::<(usize, Result<Table, NotTabled>)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, files.len().max(1)) {
            let done = done.clone();
            let queue = &queue;
            scope.spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some((index, file)) = next else { break };
                if done.send((index, table_file(file, targets))).is_err() {
                    break;
                }
            });
        }
        drop(done);
        // Hand results back in file order: keep the early finishers until their turn.
        let mut waiting = BTreeMap::new();
        let mut turn = 0;
        for (index, result) in results {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&turn) {
                each(&files[turn], result);
                turn += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_once_each_in_file_order_whatever_the_jobs() {
        // Files that do not exist (in a folder that does not either, so nothing is left behind):
        // every one fails to load, fast, with its own path in the message.
        let dir = std::env::temp_dir().join(format!("egressbench-many-{}", std::process::id()));
        let files: Vec<PathBuf> = (0..7).map(|i| dir.join(format!("s{i}.yaml"))).collect();
        for jobs in [0, 1, 3, 16] {
            let mut seen = Vec::new();
            build_many(&files, &[TargetFactory::model()], jobs, |file, result| {
                let err = result.expect_err("no such file");
                assert!(err.message.contains(&*file.to_string_lossy()), "{err:?}");
                seen.push(file.to_path_buf());
            });
            assert_eq!(seen, files, "jobs = {jobs}");
        }
        let mut none = 0;
        build_many(&[], &[TargetFactory::model()], 4, |_, _| none += 1);
        assert_eq!(none, 0);
    }
}

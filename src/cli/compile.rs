//! `egressbench compile`: load manifests, compile every `ASMEgressTrafficPolicy` against a store
//! of everything loaded, print the generated objects as YAML `kubectl apply -f -` takes, warnings
//! on stderr.
//!
//! Owns: the compile command's arguments and flow. Leaves out: loading (`manifest`), compiling and
//! the YAML layout (`compile`).

use super::{Exit, Io};
use egressbench_compile::{compile_policy, render_yaml, CompileError, Compiled};
use egressbench_manifest::{load_paths, Loaded};
use egressbench_resources::{Kind, Store};
use std::io;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// Manifest files or folders: the policies, and the cluster they compile against (gateway
    /// Deployments and Services, namespaces, mesh config).
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,
}

pub(super) fn execute(args: &CompileArgs, io: &mut Io<'_>) -> io::Result<Exit> {
    let Some(loaded) = load(&args.files, io)? else {
        return Ok(Exit::BadInput);
    };
    let (compiled, errors) = compile_all(&loaded);
    for c in &compiled {
        for w in &c.warnings {
            writeln!(io.err, "warning: {w}")?;
        }
    }
    if !errors.is_empty() {
        for e in &errors {
            writeln!(io.err, "error: {e}")?;
        }
        writeln!(io.err, "help: fix the policies above; nothing was printed")?;
        return Ok(Exit::BadInput);
    }
    if compiled.is_empty() {
        writeln!(
            io.err,
            "note: no ASMEgressTrafficPolicy in the given files, so nothing to compile"
        )?;
    }
    for c in &compiled {
        write!(io.out, "{}", render_yaml(c))?;
    }
    Ok(Exit::Success)
}

/// Load the files, printing notes on skipped documents; `None` (after printing the error) when
/// they do not load.
pub(crate) fn load(files: &[PathBuf], io: &mut Io<'_>) -> io::Result<Option<Loaded>> {
    match load_paths(files) {
        Ok(loaded) => {
            for n in &loaded.notes {
                writeln!(io.err, "note: {}: {}", n.origin, n.message)?;
            }
            Ok(Some(loaded))
        }
        Err(e) => {
            // The loader's rendering carries the position, the source line and its own help line.
            writeln!(io.err, "error: {}", e.render())?;
            if e.hint.is_none() {
                writeln!(
                    io.err,
                    "help: fix the manifest, then run `egressbench check` on it again"
                )?;
            }
            Ok(None)
        }
    }
}

/// Compile every policy in `loaded` (in file order) against a store of all of it.
pub(crate) fn compile_all(loaded: &Loaded) -> (Vec<Compiled>, Vec<CompileError>) {
    let store = Store::from_resources(loaded.resources.iter().cloned());
    let (mut compiled, mut errors) = (Vec::new(), Vec::new());
    for policy in loaded
        .resources
        .iter()
        .filter(|r| r.kind() == Kind::AsmEgressTrafficPolicy)
    {
        match compile_policy(&store, policy) {
            Ok(c) => compiled.push(c),
            Err(e) => errors.push(e),
        }
    }
    (compiled, errors)
}

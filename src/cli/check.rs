//! `egressbench check`: load and compile manifests and report only errors — a lint for CI.
//!
//! Owns: the check command's arguments and flow. Leaves out: loading (`manifest`) and compiling
//! (`compile`).

use super::compile::{compile_all, load};
use super::{Exit, Io};
use egressbench_compile::expand;
use egressbench_resources::{Kind, Store};
use std::io;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Manifest files or folders.
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,
}

pub(super) fn execute(args: &CheckArgs, io: &mut Io<'_>) -> io::Result<Exit> {
    let Some(loaded) = load(&args.files, io)? else {
        return Ok(Exit::BadInput);
    };
    let (compiled, mut errors) = compile_all(&loaded);
    if errors.is_empty() {
        // Policies that compile alone may still collide with each other or with user objects.
        if let Err(e) = expand(&Store::from_resources(loaded.resources.iter().cloned())) {
            errors.push(e);
        }
    }
    for w in compiled.iter().flat_map(|c| &c.warnings) {
        writeln!(io.err, "warning: {w}")?;
    }
    if !errors.is_empty() {
        for e in &errors {
            writeln!(io.err, "error: {e}")?;
        }
        writeln!(
            io.err,
            "help: fix the policies above; `egressbench compile` shows what they generate"
        )?;
        return Ok(Exit::BadInput);
    }
    let policies = loaded
        .resources
        .iter()
        .filter(|r| r.kind() == Kind::AsmEgressTrafficPolicy)
        .count();
    writeln!(
        io.out,
        "ok: {} resources, {policies} {}",
        loaded.resources.len(),
        if policies == 1 { "policy" } else { "policies" }
    )?;
    Ok(Exit::Success)
}

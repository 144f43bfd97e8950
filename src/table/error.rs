//! Why a truth table could not be built: a target that would not start, or a request the table
//! could not even write down.
//!
//! Owns: `TableError`. Leaves out: changes a target rejects and requests a target cannot run —
//! those are results, recorded in the table (`states`, `cell`), not errors.

/// What stopped a table from being built, and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A target could not be created for the scenario's outside world.
    #[error(
        "cannot start the {target} target for scenario `{scenario}`: {message}; check that the \
         {target} target runs on this machine (`egressbench run --target {target} {scenario_file}`)"
    )]
    Target {
        target: &'static str,
        scenario: String,
        scenario_file: String,
        message: String,
    },
    /// Two targets were given the same name, so their columns could not be told apart.
    #[error("target `{0}` is listed twice: name each target once")]
    DuplicateTarget(&'static str),
    /// No target at all: nothing to compare.
    #[error("no targets to compare: name at least one (`model`, `sim`)")]
    NoTargets,
    /// A probe request did not parse as a curl command line (a host name curl would refuse).
    #[error("cannot write the request `{command}` for host `{host}`: {message}; a declared host's name must be a DNS name curl accepts")]
    Request {
        host: String,
        command: String,
        message: String,
    },
}

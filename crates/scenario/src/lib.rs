//! Scenarios: documented command lines replayed against a target, with expectations.
//!
//! A scenario file (`format`, `expectation`, `hosts`) is loaded into a `Scenario` (`load`, `plan`),
//! run on any `Target` (`runner`), its expectations checked (`verify`), and the results recorded
//! (`results`) for `egressbench::report` to render. Command lines themselves are `command`'s
//! business.
//!
//! Owns: those stages, finding scenario files (`discover`), the command-line emulation
//! (`command`), and the `Target` trait with the model target (`target`). Leaves out: what the mesh
//! does with a request (`egressbench-model`), reading manifests (`egressbench-manifest`), the
//! socket-running targets (`egressbench-sim` and `egressbench-envoy`, on `egressbench-network`),
//! and rendering results (`report` in `egressbench`).

pub mod command;
mod de;
pub(crate) mod discover;
pub(crate) mod error;
pub(crate) mod expectation;
pub mod format;
pub(crate) mod hosts;
pub(crate) mod load;
pub(crate) mod plan;
pub mod results;
pub mod runner;
pub mod target;
pub(crate) mod verify;

pub use discover::{discover, DiscoverError};
pub use error::ScenarioError;
pub use hosts::add_web_sites;
pub use load::{load_scenario, parse_scenario};
pub use plan::{Action, Scenario, Step};
pub use results::{BadInput, Check, ScenarioReport, StepReport, Verdict};
pub use runner::{run_file, run_scenario};

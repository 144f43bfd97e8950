//! Choosing a target by name (`--target`): the model now; the simulated mesh, real Envoy and a live
//! cluster are named so that asking for them gives a clear answer instead of a usage error.
//!
//! Owns: `TargetName` and building a target for a scenario. Leaves out: the targets (`target`).

use crate::external::Internet;
use crate::scenario::BadInput;
use crate::target::{ModelTarget, Target};
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TargetName {
    /// The reference semantics, computed (no sockets).
    #[default]
    Model,
    /// A simulated mesh (not available yet).
    Sim,
    /// Real Envoy proxies (not available yet).
    Envoy,
    /// A live cluster through kubectl (not available yet).
    Live,
}

impl TargetName {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetName::Model => "model",
            TargetName::Sim => "sim",
            TargetName::Envoy => "envoy",
            TargetName::Live => "live",
        }
    }

    /// Whether the target can be used, and if not, why and what to do instead.
    pub fn available(self) -> Result<(), BadInput> {
        match self {
            TargetName::Model => Ok(()),
            TargetName::Sim | TargetName::Envoy | TargetName::Live => Err(self.not_built_yet()),
        }
    }

    /// A fresh target of this kind over `internet`, or why it cannot be had.
    pub fn build(self, internet: Internet) -> Result<Box<dyn Target>, BadInput> {
        match self {
            TargetName::Model => Ok(Box::new(ModelTarget::new(internet))),
            TargetName::Sim | TargetName::Envoy | TargetName::Live => Err(self.not_built_yet()),
        }
    }

    fn not_built_yet(self) -> BadInput {
        BadInput {
            message: format!(
                "target `{}` is not available yet: only `model` is built so far",
                self.as_str()
            ),
            help: Some("use `--target model` (the default)".to_string()),
        }
    }
}

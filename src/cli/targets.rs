//! Choosing a target by name (`--target`): the model and the simulated mesh; real Envoy and a live
//! cluster are named so that asking for them gives a clear answer instead of a usage error.
//!
//! Owns: `TargetName` and building a target for a scenario. Leaves out: the targets (`target`).

use crate::external::Internet;
use crate::scenario::BadInput;
use crate::target::{ModelTarget, SimTarget, Target};
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TargetName {
    /// The reference semantics, computed (no sockets).
    #[default]
    Model,
    /// The simulated mesh: real proxies, sockets, mTLS and hosts, in process.
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
            TargetName::Model | TargetName::Sim => Ok(()),
            TargetName::Envoy | TargetName::Live => Err(self.not_built_yet()),
        }
    }

    /// A fresh target of this kind over `internet`, or why it cannot be had.
    pub fn build(self, internet: Internet) -> Result<Box<dyn Target>, BadInput> {
        match self {
            TargetName::Model => Ok(Box::new(ModelTarget::new(internet))),
            TargetName::Sim => SimTarget::new(internet)
                .map(|t| Box::new(t) as Box<dyn Target>)
                .map_err(|e| BadInput {
                    message: e.to_string(),
                    help: None,
                }),
            TargetName::Envoy | TargetName::Live => Err(self.not_built_yet()),
        }
    }

    fn not_built_yet(self) -> BadInput {
        BadInput {
            message: format!(
                "target `{}` is not available yet: `model` and `sim` are built so far",
                self.as_str()
            ),
            help: Some("use `--target model` (the default) or `--target sim`".to_string()),
        }
    }
}

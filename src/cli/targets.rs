//! Choosing a target by name (`--target`): the model and the simulated mesh; real Envoy and a live
//! cluster are named so that asking for them gives a clear answer instead of a usage error.
//!
//! Owns: `TargetName` and building a target for a scenario. Leaves out: the targets (`target`).

use clap::ValueEnum;
use egressbench_model::external::Internet;
use egressbench_network::{ClientKind, Clock};
use egressbench_scenario::target::{ModelTarget, Target};
use egressbench_scenario::{BadInput, Scenario};
use std::path::PathBuf;

/// Options of the targets that have some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetOptions {
    /// The simulated mesh's or the Envoy target's requests are made by this curl binary instead
    /// of the built-in one.
    pub curl: Option<PathBuf>,
    /// The envoy binary of the Envoy target (else the one `envoy::find_envoy` finds).
    pub envoy: Option<PathBuf>,
    /// How fast the simulated mesh's time runs.
    pub sim_clock: Clock,
}

impl TargetOptions {
    /// These options for running `scenario`: the simulated mesh's clock slowed down as far as
    /// its tightest `duration` check needs (`Clock::within_tolerance`).
    pub fn for_scenario(&self, scenario: &Scenario) -> TargetOptions {
        TargetOptions {
            sim_clock: Clock::within_tolerance(scenario.duration_tolerance_ms()),
            ..self.clone()
        }
    }

    fn client(&self) -> ClientKind {
        match &self.curl {
            Some(path) => ClientKind::RealCurl(path.clone()),
            None => ClientKind::BuiltIn,
        }
    }

    /// Check the options against `target`: `--curl` needs the simulated mesh or the Envoy target
    /// and a curl that runs, `--envoy` the Envoy target and an envoy that runs.
    pub fn check(&self, target: TargetName) -> Result<(), BadInput> {
        if let Some(envoy) = &self.envoy {
            if target != TargetName::Envoy {
                return Err(BadInput {
                    message: format!(
                        "--envoy picks the binary of the Envoy target, but the target is `{}`",
                        target.as_str()
                    ),
                    help: Some("add `--target envoy`".to_string()),
                });
            }
            if egressbench_envoy::envoy_version(envoy).is_none() {
                return Err(BadInput {
                    message: format!("`{} --version` does not run", envoy.display()),
                    help: Some(
                        "pass the path of an envoy binary (scripts/install-envoy.sh prints one)"
                            .to_string(),
                    ),
                });
            }
        }
        let Some(curl) = &self.curl else {
            return Ok(());
        };
        if !matches!(target, TargetName::Sim | TargetName::Envoy) {
            return Err(BadInput {
                message: format!(
                    "--curl makes the requests of the simulated mesh or the Envoy target, but the \
                     target is `{}`",
                    target.as_str()
                ),
                help: Some("add `--target sim` or `--target envoy`".to_string()),
            });
        }
        let runs = std::process::Command::new(curl)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if runs {
            Ok(())
        } else {
            Err(BadInput {
                message: format!("`{} --version` does not run", curl.display()),
                help: Some(
                    "install curl (apt-get install curl) or pass its path: `--curl /usr/bin/curl`"
                        .to_string(),
                ),
            })
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TargetName {
    /// The reference semantics, computed (no sockets).
    #[default]
    Model,
    /// The simulated mesh: real proxies, sockets, mTLS and hosts, in process.
    Sim,
    /// Real Envoy proxies (one process per proxy, on loopback).
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
            TargetName::Envoy => match egressbench_envoy::find_envoy() {
                Some(_) => Ok(()),
                None => Err(BadInput {
                    message: "target `envoy` needs the envoy binary, and none was found".into(),
                    help: Some(
                        "run scripts/install-envoy.sh, or set EGRESSBENCH_ENVOY to its path"
                            .to_string(),
                    ),
                }),
            },
            TargetName::Live => Err(self.not_built_yet()),
        }
    }

    /// A fresh target of this kind over `internet`, or why it cannot be had.
    pub fn build(self, internet: Internet) -> Result<Box<dyn Target>, BadInput> {
        self.build_with(internet, &TargetOptions::default())
    }

    /// `build`, with `options`.
    pub fn build_with(
        self,
        internet: Internet,
        options: &TargetOptions,
    ) -> Result<Box<dyn Target>, BadInput> {
        match self {
            TargetName::Model => Ok(Box::new(ModelTarget::new(internet))),
            TargetName::Sim => {
                egressbench_sim::target(internet, options.client(), options.sim_clock)
                    .map(|t| Box::new(t) as Box<dyn Target>)
                    .map_err(|e| BadInput {
                        message: e.to_string(),
                        help: None,
                    })
            }
            TargetName::Envoy => {
                egressbench_envoy::target(internet, options.envoy.clone(), options.client())
                    .map(|t| Box::new(t) as Box<dyn Target>)
                    .map_err(|e| BadInput {
                        message: e.to_string(),
                        help: None,
                    })
            }
            TargetName::Live => Err(self.not_built_yet()),
        }
    }

    fn not_built_yet(self) -> BadInput {
        BadInput {
            message: format!(
                "target `{}` is not available yet: `model`, `sim` and `envoy` are built so far",
                self.as_str()
            ),
            help: Some(
                "use `--target model` (the default), `--target sim` or `--target envoy`"
                    .to_string(),
            ),
        }
    }
}

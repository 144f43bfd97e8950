//! Istio's networking and security kinds, as strict serde models of the fields users write.
//!
//! Owns: the shape only, one module per kind, with each kind's top type re-exported. Leaves out:
//! reading them from YAML (`egressbench-manifest`) and what the fields mean to a proxy (`xds` and
//! `decide` in `egressbench-model`).

pub mod authorization_policy;
pub mod destination_rule;
pub mod gateway;
pub mod service_entry;
pub mod sidecar;
pub mod virtual_service;

pub use authorization_policy::AuthorizationPolicy;
pub use destination_rule::DestinationRule;
pub use gateway::Gateway;
pub use service_entry::ServiceEntry;
pub use sidecar::Sidecar;
pub use virtual_service::VirtualService;

//! Istio's networking and security kinds, as strict serde models of the fields users write.
//!
//! Only the shape lives here; what the fields mean to a proxy is decided in `xds` and `decide`.

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

//! egressbench: a conformance and test bench for service-mesh egress policy.
//!
//! This crate is the command line over the workspace's library crates, which data flows through
//! one way (each crate depends only on the ones before it):
//! `egressbench-text` (suggestions, name maps) → `egressbench-resources` (typed objects) →
//! `egressbench-manifest` (YAML text to typed objects, with locations) → `egressbench-compile`
//! (ASM policies to native Istio) → `egressbench-model` (per-proxy config, decisions with traces,
//! outcomes, explanations) → `egressbench-scenario` (scenario files, command emulation, the
//! `Target` trait, the model target) → `egressbench-network` (the shared test network) →
//! `egressbench-sim` and `egressbench-envoy` (the two socket-running targets) → this crate (`cli`,
//! the truth `table`, and the `report` renderers).
//!
//! Owns: `cli`, `table` and `report`; the binary (`main.rs`) only calls `cli`. Leaves out:
//! loading, compiling, deciding and running, which the library crates above do.

pub mod cli;
pub mod report;
pub mod table;

//! Scenarios: documented command lines replayed against a target, with expectations.
pub mod command;

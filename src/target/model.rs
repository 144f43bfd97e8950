//! The model target: the reference semantics, no sockets. (API placeholder.)

use super::{Target, TargetError};
use crate::external::Internet;
use crate::outcome::{AccessLogEntry, Exchange};
use crate::request::{ClientRequest, WorkloadRef};
use crate::resources::{Resource, ResourceId};

#[derive(Debug, Default)]
pub struct ModelTarget {
    pub internet: Internet,
}

impl ModelTarget {
    pub fn new(internet: Internet) -> Self {
        ModelTarget { internet }
    }
}

impl Target for ModelTarget {
    fn name(&self) -> &'static str {
        "model"
    }
    fn apply(&mut self, resources: Vec<Resource>) -> Result<(), TargetError> {
        let _ = resources;
        Ok(())
    }
    fn delete(&mut self, ids: &[ResourceId]) -> Result<(), TargetError> {
        let _ = ids;
        Ok(())
    }
    fn exec(&mut self, from: &WorkloadRef, request: &ClientRequest) -> Result<Exchange, TargetError> {
        let _ = request;
        Err(TargetError::UnknownWorkload { workload: from.to_string(), known: String::new() })
    }
    fn logs(&self, proxy: &WorkloadRef) -> Vec<AccessLogEntry> {
        let _ = proxy;
        Vec::new()
    }
}

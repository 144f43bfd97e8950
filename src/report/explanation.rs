//! The one place an exchange's decision trace becomes an explanation for reports and the CLI, so
//! the rendering can change without touching its callers.
//!
//! Owns: `render_explanation` (text) and `explanation_json` (structured). Leaves out: what the
//! trace holds (`decide`) and how an explanation is worded (`explain`).

use egressbench_model::answer::Exchange;
use egressbench_model::explain;

/// The explanation of an exchange as text, when its target could explain itself (the model target
/// attaches a decision trace; others may not).
pub fn render_explanation(exchange: &Exchange) -> Option<String> {
    explain::render_exchange(exchange)
}

/// The explanation of an exchange as a JSON value, for machine-readable output.
pub fn explanation_json(exchange: &Exchange) -> Option<serde_json::Value> {
    explain::explanation(exchange).and_then(|e| serde_json::to_value(e).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use egressbench_model::outcome::{ClientResult, ConnectionError};

    #[test]
    fn no_trace_means_no_explanation() {
        let exchange = Exchange {
            result: ClientResult::ConnectionFailed {
                error: ConnectionError::Reset,
                during_tls: false,
            },
            logs: Vec::new(),
            trace: None,
            observed: Vec::new(),
            elapsed_ms: 0,
            remote: None,
            received: Vec::new(),
        };
        assert_eq!(render_explanation(&exchange), None);
        assert_eq!(explanation_json(&exchange), None);
    }
}

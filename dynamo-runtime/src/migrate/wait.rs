//! How the executor polls tables and indexes until they are ACTIVE.

use std::time::Duration;

/// How to poll for tables and indexes to become ACTIVE: exponential
/// backoff from `initial` by `factor` up to `max_interval`, giving up
/// after `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The first pause.
    pub initial: Duration,
    /// Each pause is the last one times this.
    pub factor: f64,
    /// The longest pause.
    pub max_interval: Duration,
    /// The longest wait for one change (GSI creation on a large table can
    /// take hours on AWS).
    pub timeout: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            initial: Duration::from_millis(200),
            factor: 2.0,
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(6 * 3600),
        }
    }
}

impl WaitPolicy {
    pub(crate) fn next(&self, pause: Duration) -> Duration {
        pause.mul_f64(self.factor.max(1.0)).min(self.max_interval)
    }
}

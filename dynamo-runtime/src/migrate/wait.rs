//! How the executor polls tables and indexes until they are ACTIVE.

use std::time::Duration;

/// How to poll for tables and indexes to become ACTIVE: exponential
/// backoff from `initial` by `factor` up to `max_interval`, giving up
/// after `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitPolicy {
    /// The first pause.
    pub initial: Duration,
    /// Each pause is the last one times this. A factor below 1 (or NaN)
    /// counts as 1; an infinite one jumps to `max_interval`.
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
        // `f64::max` ignores NaN; a product past `Duration`'s range (an
        // infinite factor) is the longest pause.
        let factor = self.factor.max(1.0);
        Duration::try_from_secs_f64(pause.as_secs_f64() * factor)
            .unwrap_or(self.max_interval)
            .min(self.max_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_factor_gives_a_pause_within_bounds() {
        for factor in [
            f64::INFINITY,
            f64::NAN,
            f64::NEG_INFINITY,
            0.0,
            -3.0,
            1e308,
            2.0,
        ] {
            let policy = WaitPolicy {
                factor,
                ..WaitPolicy::default()
            };
            let pause = policy.next(Duration::from_millis(200));
            assert!(pause >= Duration::from_millis(200), "{factor}: {pause:?}");
            assert!(pause <= policy.max_interval, "{factor}: {pause:?}");
        }
        let inf = WaitPolicy {
            factor: f64::INFINITY,
            ..WaitPolicy::default()
        };
        assert_eq!(inf.next(Duration::from_millis(1)), inf.max_interval);
    }
}

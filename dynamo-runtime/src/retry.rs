//! How the runtime's own loops retry: unprocessed batch requests and
//! transactions cancelled by a conflict.
//!
//! The SDK already retries throttling, 5xx and network errors of each
//! request (see [`DbBuilder::sdk_max_attempts`](crate::DbBuilder::sdk_max_attempts));
//! this policy covers what the SDK reports as success or does not retry.

use std::{fmt, sync::Arc, time::Duration};

/// The delay before each retry, as Dynamoid's `backoff` strategies.
#[derive(Clone)]
#[non_exhaustive]
pub enum Backoff {
    /// `base × 2^(retry − 1)`, capped at `max`; with `jitter`, a uniformly
    /// random delay between zero and that ("full jitter", which spreads
    /// clients that failed together).
    Exponential {
        /// The delay before the first retry.
        base: Duration,
        /// The largest delay.
        max: Duration,
        /// Whether to randomize each delay.
        jitter: bool,
    },
    /// The same delay before every retry.
    Constant(Duration),
    /// A function of the retry number (1 for the first retry).
    Custom(Arc<dyn Fn(u32) -> Duration + Send + Sync>),
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backoff::Exponential { base, max, jitter } => f
                .debug_struct("Exponential")
                .field("base", base)
                .field("max", max)
                .field("jitter", jitter)
                .finish(),
            Backoff::Constant(delay) => f.debug_tuple("Constant").field(delay).finish(),
            Backoff::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// How many times the runtime sends a request whose result asks for a
/// retry, and how long it waits in between.
///
/// The default: 10 attempts, exponential backoff from 50 ms to 5 s with
/// full jitter.
///
/// ```
/// use std::time::Duration;
/// use dynamo_runtime::RetryPolicy;
///
/// let patient = RetryPolicy::exponential(Duration::from_millis(100), Duration::from_secs(10))
///     .attempts(20);
/// let steady = RetryPolicy::constant(Duration::from_millis(200)).attempts(5);
/// let custom = RetryPolicy::custom(|retry| Duration::from_millis(10 * u64::from(retry)));
/// assert_eq!(steady.delay(3), Duration::from_millis(200));
/// assert_eq!(custom.delay(3), Duration::from_millis(30));
/// # let _ = patient;
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    attempts: u32,
    backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::exponential(Duration::from_millis(50), Duration::from_secs(5)).attempts(10)
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter from `base` up to `max`.
    pub fn exponential(base: Duration, max: Duration) -> Self {
        RetryPolicy {
            attempts: 10,
            backoff: Backoff::Exponential {
                base,
                max,
                jitter: true,
            },
        }
    }

    /// The same `delay` before every retry.
    pub fn constant(delay: Duration) -> Self {
        RetryPolicy {
            attempts: 10,
            backoff: Backoff::Constant(delay),
        }
    }

    /// The delay before retry `n` (1 for the first) is `delay(n)`.
    pub fn custom(delay: impl Fn(u32) -> Duration + Send + Sync + 'static) -> Self {
        RetryPolicy {
            attempts: 10,
            backoff: Backoff::Custom(Arc::new(delay)),
        }
    }

    /// Sends each request at most once: nothing is retried.
    pub fn never() -> Self {
        RetryPolicy::constant(Duration::ZERO).attempts(1)
    }

    /// Sends a request at most `attempts` times in all (at least once).
    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Turns jitter off (exponential backoff only), for predictable delays.
    #[must_use]
    pub fn without_jitter(mut self) -> Self {
        if let Backoff::Exponential { jitter, .. } = &mut self.backoff {
            *jitter = false;
        }
        self
    }

    /// The number of attempts in all.
    pub fn max_attempts(&self) -> u32 {
        self.attempts
    }

    /// The backoff strategy.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// The delay before retry `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        match &self.backoff {
            Backoff::Exponential { base, max, jitter } => {
                let exponent = retry.saturating_sub(1).min(31);
                let cap = base.saturating_mul(1u32 << exponent).min(*max);
                if *jitter {
                    cap.mul_f64(fastrand::f64())
                } else {
                    cap
                }
            }
            Backoff::Constant(delay) => *delay,
            Backoff::Custom(delay) => delay(retry),
        }
    }

    /// Sleeps before retry `retry`.
    pub(crate) async fn wait(&self, retry: u32) {
        let delay = self.delay(retry);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_doubles_up_to_the_cap() {
        let policy = RetryPolicy::exponential(Duration::from_millis(50), Duration::from_secs(1))
            .without_jitter();
        let delays: Vec<u128> = (1..=7).map(|n| policy.delay(n).as_millis()).collect();
        assert_eq!(delays, [50, 100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.delay(1000), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_below_the_exponential_delay() {
        let policy = RetryPolicy::exponential(Duration::from_millis(50), Duration::from_secs(1));
        for retry in 1..=10 {
            let cap = policy.clone().without_jitter().delay(retry);
            for _ in 0..100 {
                assert!(policy.delay(retry) <= cap);
            }
        }
    }

    #[test]
    fn at_least_one_attempt() {
        assert_eq!(RetryPolicy::default().attempts(0).max_attempts(), 1);
        assert_eq!(RetryPolicy::never().max_attempts(), 1);
    }
}

//! Read-capacity budgets (PynamoDB's `rate_limit`): queries, scans and
//! counts that stay under a number of read units per second, paced by the
//! `ConsumedCapacity` DynamoDB reports for each request.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

use crate::{Error, Result};

/// A budget of read capacity units per second, shared by every query and
/// scan given it (`.rate_limit(&budget)`; the segments of a parallel scan
/// share it too). Each request asks DynamoDB for the capacity it consumed;
/// the next request of any of them waits until the units spent are paid
/// back at the budget's rate. Over any stretch of reads, the units spent
/// before the last request are at most the rate times the time since the
/// first, so a background job keeps to its share of a table's capacity.
///
/// ```
/// # fn demo() -> dynamo_runtime::Result<()> {
/// let budget = dynamo_runtime::ReadBudget::per_second(25.0)?;
/// // Order::scan().rate_limit(&budget).parallel(4).all(&db).await?;
/// assert_eq!(budget.consumed(), 0.0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ReadBudget {
    per_second: f64,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// Units spent and not yet paid back, as of `at`.
    owed: f64,
    at: Instant,
    consumed: f64,
    paused: Duration,
}

impl ReadBudget {
    /// A budget of `units` read capacity units per second: a positive,
    /// finite number (fractions allowed); anything else is
    /// [`Error::Config`].
    pub fn per_second(units: f64) -> Result<ReadBudget> {
        if !(units.is_finite() && units > 0.0) {
            return Err(Error::config(format!(
                "a read budget is a positive number of units per second, not {units}"
            )));
        }
        Ok(ReadBudget {
            per_second: units,
            state: Arc::new(Mutex::new(State {
                owed: 0.0,
                at: Instant::now(),
                consumed: 0.0,
                paused: Duration::ZERO,
            })),
        })
    }

    /// The budget's rate, in read capacity units per second.
    pub fn rate(&self) -> f64 {
        self.per_second
    }

    /// Read capacity units spent through the budget so far.
    pub fn consumed(&self) -> f64 {
        self.lock().consumed
    }

    /// Time requests waited for the budget so far.
    pub fn paused(&self) -> Duration {
        self.lock().paused
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the numbers torn.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The units still owed now, after paying back since the last look.
    fn settle(&self, state: &mut State) {
        let now = Instant::now();
        let paid = now.duration_since(state.at).as_secs_f64() * self.per_second;
        state.owed = (state.owed - paid).max(0.0);
        state.at = now;
    }

    /// Waits until nothing is owed.
    pub(crate) async fn wait(&self) {
        loop {
            let pause = {
                let mut state = self.lock();
                self.settle(&mut state);
                if state.owed <= 0.0 {
                    return;
                }
                Duration::from_secs_f64(state.owed / self.per_second)
            };
            tokio::time::sleep(pause).await;
            self.lock().paused += pause;
        }
    }

    /// Records `units` a response reports.
    pub(crate) fn spend(&self, units: f64) {
        let mut state = self.lock();
        self.settle(&mut state);
        state.owed += units;
        state.consumed += units;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_a_positive_finite_rate() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(ReadBudget::per_second(bad).is_err(), "{bad}");
        }
        assert_eq!(ReadBudget::per_second(0.5).unwrap().rate(), 0.5);
    }

    /// Spending 10 units at 4 per second makes the next request wait
    /// 2.5 s; spent units paid back by time already passed are not owed.
    #[tokio::test(start_paused = true)]
    async fn the_next_request_waits_until_the_units_are_paid_back() {
        let budget = ReadBudget::per_second(4.0).unwrap();
        budget.wait().await;
        assert_eq!(budget.paused(), Duration::ZERO, "nothing owed yet");
        budget.spend(10.0);
        let before = tokio::time::Instant::now();
        budget.wait().await;
        assert_eq!(before.elapsed(), Duration::from_millis(2500));
        budget.spend(2.0);
        tokio::time::sleep(Duration::from_secs(1)).await;
        budget.wait().await;
        assert_eq!(budget.consumed(), 12.0);
    }
}

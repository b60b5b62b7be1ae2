//! Pacing of data steps: a step-wide budget (items written per second,
//! and read and write capacity units per second) split across the workers
//! that are live, spent from what DynamoDB reports as consumed, and backed
//! off when DynamoDB throttles.

use std::time::{Duration, Instant};

/// A data step's budget per second, for all its workers together.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Pace {
    /// Items written per second.
    pub items: Option<f64>,
    /// Read capacity units per second.
    pub read_units: Option<f64>,
    /// Write capacity units per second.
    pub write_units: Option<f64>,
}

impl std::fmt::Display for Pace {
    /// `at most 100 items/s, 500 read and 250 write units/s, for all
    /// workers together` (or `no pace limit`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(items) = self.items {
            parts.push(format!("{items:.0} items/s"));
        }
        match (self.read_units, self.write_units) {
            (Some(read), Some(write)) => {
                parts.push(format!("{read:.0} read and {write:.0} write units/s"));
            }
            (Some(read), None) => parts.push(format!("{read:.0} read units/s")),
            (None, Some(write)) => parts.push(format!("{write:.0} write units/s")),
            (None, None) => {}
        }
        if parts.is_empty() {
            write!(f, "no pace limit")
        } else {
            write!(f, "at most {}, for all workers together", parts.join(", "))
        }
    }
}

/// The smallest share of the budget throttling backs off to.
const FLOOR: f64 = 1.0 / 64.0;
/// How much of the budget comes back per second without throttling.
const RECOVERY: f64 = 0.05;
/// How long a step without an item budget keeps the one throttling gave it
/// after its share is whole again.
const CALM: Duration = Duration::from_secs(20);
/// The weight of the newest interval in the average time between writes.
const ALPHA: f64 = 0.1;

/// One worker's pacing of one step.
#[derive(Debug)]
pub(crate) struct Pacer {
    pace: Pace,
    workers: u32,
    /// The share of the budget in use: 1, halved on each throttle, growing
    /// back by [`RECOVERY`] per second.
    factor: f64,
    recovered: Instant,
    items: Bucket,
    read: Bucket,
    write: Bucket,
    /// Whether the items budget was set by throttling (the step had none).
    throttle_budget: bool,
    throttled_at: Option<Instant>,
    /// When this worker last wrote, and the average time between its
    /// writes (an exponential moving average that leaves out the gaps
    /// throttling made).
    last_write: Option<Instant>,
    interval: Option<f64>,
}

/// A token bucket holding at most one second of its rate; spending may
/// overdraw it, and the next wait repays the debt.
#[derive(Debug)]
struct Bucket {
    /// Units per second; `None`: unlimited.
    rate: Option<f64>,
    balance: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: Option<f64>) -> Bucket {
        Bucket {
            rate,
            balance: 0.0,
            at: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.rate {
            let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
            self.balance = (self.balance + rate * elapsed).min(rate.max(1.0));
        }
        self.at = now;
    }

    /// How long until the balance is back to zero.
    fn debt(&mut self, now: Instant) -> Duration {
        self.refill(now);
        match self.rate {
            Some(rate) if self.balance < 0.0 && rate > 0.0 => {
                Duration::from_secs_f64(-self.balance / rate)
            }
            _ => Duration::ZERO,
        }
    }

    fn spend(&mut self, units: f64, now: Instant) {
        self.refill(now);
        if self.rate.is_some() {
            self.balance -= units;
        }
    }

    fn set_rate(&mut self, rate: Option<f64>, now: Instant) {
        self.refill(now);
        self.rate = rate;
        if let Some(rate) = rate {
            self.balance = self.balance.min(rate.max(1.0));
        }
    }
}

impl Pacer {
    pub(crate) fn new(pace: Pace, workers: u32) -> Pacer {
        let mut pacer = Pacer {
            pace,
            workers: workers.max(1),
            factor: 1.0,
            recovered: Instant::now(),
            items: Bucket::new(None),
            read: Bucket::new(None),
            write: Bucket::new(None),
            throttle_budget: false,
            throttled_at: None,
            last_write: None,
            interval: None,
        };
        pacer.rates(Instant::now());
        pacer
    }

    /// This worker's share of each budget now.
    fn rates(&mut self, now: Instant) {
        let share = self.factor / f64::from(self.workers);
        let of = |total: Option<f64>| total.map(|t| (t * share).max(f64::MIN_POSITIVE));
        self.items.set_rate(of(self.pace.items), now);
        self.read.set_rate(of(self.pace.read_units), now);
        self.write.set_rate(of(self.pace.write_units), now);
    }

    /// The number of live workers the budget is split across.
    pub(crate) fn set_workers(&mut self, workers: u32) {
        let workers = workers.max(1);
        if workers != self.workers {
            self.workers = workers;
            self.rates(Instant::now());
        }
    }

    /// This worker's items per second now (`None`: unlimited).
    #[cfg(test)]
    fn item_rate(&self) -> Option<f64> {
        self.items.rate
    }

    /// Lets the budget grow back after throttling; an items budget that
    /// throttling set goes once the share is whole and [`CALM`] passed.
    fn recover(&mut self, now: Instant) {
        if self.factor < 1.0 {
            let seconds = now.saturating_duration_since(self.recovered).as_secs_f64();
            let factor = (self.factor + RECOVERY * seconds).min(1.0);
            if factor != self.factor {
                self.factor = factor;
                self.rates(now);
            }
        } else if self.throttle_budget
            && self
                .throttled_at
                .is_none_or(|at| now.saturating_duration_since(at) >= CALM)
        {
            self.throttle_budget = false;
            self.pace.items = None;
            self.rates(now);
        }
        self.recovered = now;
    }

    /// Counts a write towards the average time between writes.
    fn count_write(&mut self, now: Instant) {
        if let Some(last) = self.last_write {
            let dt = now.saturating_duration_since(last).as_secs_f64();
            self.interval = Some(match self.interval {
                Some(average) => (1.0 - ALPHA) * average + ALPHA * dt,
                None => dt,
            });
        }
        self.last_write = Some(now);
    }

    /// How long to wait before the next read: its debt of read units.
    pub(crate) fn before_read(&mut self) -> Duration {
        let now = Instant::now();
        self.recover(now);
        self.read.debt(now)
    }

    /// How long to wait before the next item write: an item of the items
    /// budget, and the debt of write units.
    pub(crate) fn before_write(&mut self) -> Duration {
        let now = Instant::now();
        self.recover(now);
        self.count_write(now);
        self.items.spend(1.0, now);
        self.items.debt(now).max(self.write.debt(now))
    }

    /// Read capacity units a request consumed.
    pub(crate) fn read(&mut self, units: f64) {
        self.read.spend(units, Instant::now());
    }

    /// Write capacity units a request consumed.
    pub(crate) fn wrote(&mut self, units: f64) {
        self.write.spend(units, Instant::now());
    }

    /// DynamoDB throttled a request on every attempt the SDK made: halve
    /// the share in use (down to 1/64) and return how long to back off. A
    /// step without an items budget gets one: this worker's recent write
    /// rate for each worker, until [`CALM`] after its share is whole again.
    pub(crate) fn throttled(&mut self) -> Duration {
        let now = Instant::now();
        // (A worker that has not written yet has no rate to start from: it
        // only backs off.)
        if let (None, Some(interval)) = (self.pace.items, self.interval) {
            let rate = 1.0 / interval.max(1e-6);
            self.pace.items = Some(rate.max(1.0) * f64::from(self.workers));
            self.throttle_budget = true;
        }
        // The time the throttled request took is no interval between
        // writes.
        self.last_write = None;
        self.throttled_at = Some(now);
        self.factor = (self.factor / 2.0).max(FLOOR);
        self.recovered = now;
        self.rates(now);
        Duration::from_millis(250)
            .mul_f64(1.0 / self.factor)
            .min(Duration::from_secs(10))
    }

    /// The share of the pace in use (1: all of it).
    pub(crate) fn share(&self) -> f64 {
        self.factor
    }
}

/// The capacity units a response reports consumed (zero when it was not
/// asked for).
pub(crate) trait Consumed {
    fn units(&self) -> f64;
}

macro_rules! consumed {
    ($($output:ty),*) => {$(
        impl Consumed for $output {
            fn units(&self) -> f64 {
                self.consumed_capacity()
                    .and_then(|c| c.capacity_units())
                    .unwrap_or(0.0)
            }
        }
    )*};
}

consumed!(
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    aws_sdk_dynamodb::operation::put_item::PutItemOutput,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput,
    aws_sdk_dynamodb::operation::get_item::GetItemOutput,
    aws_sdk_dynamodb::operation::scan::ScanOutput
);

impl Consumed for aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput {
    fn units(&self) -> f64 {
        self.consumed_capacity()
            .iter()
            .filter_map(|c| c.capacity_units())
            .sum()
    }
}

/// Waits `duration` (nothing for zero).
pub(crate) async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates `seconds` of a worker that writes as fast as the pacer
    /// lets it, each write costing `units` write units; returns the writes.
    fn simulate(pacer: &mut Pacer, seconds: f64, units: f64) -> u32 {
        // The pacer's clock is real; drive it with virtual time by
        // spending and counting the waits instead.
        let mut elapsed = 0.0;
        let mut writes = 0;
        while elapsed < seconds {
            let wait = pacer.before_write();
            elapsed += wait.as_secs_f64();
            // Repay the wait as if it had been slept.
            let credit = wait.as_secs_f64();
            for bucket in [&mut pacer.items, &mut pacer.write] {
                if let Some(rate) = bucket.rate {
                    bucket.balance = (bucket.balance + rate * credit).min(rate.max(1.0));
                }
            }
            if elapsed <= seconds {
                writes += 1;
                pacer.wrote(units);
            }
        }
        writes
    }

    #[test]
    fn an_item_budget_is_split_across_live_workers() {
        let pace = Pace {
            items: Some(400.0),
            ..Pace::default()
        };
        let mut pacer = Pacer::new(pace, 4);
        assert_eq!(pacer.item_rate(), Some(100.0));
        let writes = simulate(&mut pacer, 10.0, 1.0);
        assert!((990..=1010).contains(&writes), "{writes}");
        pacer.set_workers(2);
        assert_eq!(pacer.item_rate(), Some(200.0));
        pacer.set_workers(0);
        assert_eq!(pacer.item_rate(), Some(400.0));
    }

    #[test]
    fn write_units_bound_items_by_their_cost() {
        // 100 write units per second across 2 workers, items of 5 units:
        // 10 items per second for this worker.
        let pace = Pace {
            write_units: Some(100.0),
            ..Pace::default()
        };
        let mut pacer = Pacer::new(pace, 2);
        let writes = simulate(&mut pacer, 20.0, 5.0);
        assert!((195..=205).contains(&writes), "{writes}");
    }

    #[test]
    fn throttling_halves_the_share_down_to_a_floor() {
        let pace = Pace {
            items: Some(100.0),
            ..Pace::default()
        };
        let mut pacer = Pacer::new(pace, 1);
        let backoff = pacer.throttled();
        assert_eq!(pacer.item_rate(), Some(50.0));
        assert!(backoff >= Duration::from_millis(500), "{backoff:?}");
        for _ in 0..20 {
            pacer.throttled();
        }
        assert_eq!(pacer.item_rate(), Some(100.0 * FLOOR));
        // It grows back by RECOVERY of the budget per second.
        pacer.recovered -= Duration::from_secs(2);
        pacer.recover(Instant::now());
        let rate = pacer.item_rate().unwrap();
        assert!(
            (rate - 100.0 * (FLOOR + 2.0 * RECOVERY)).abs() < 0.5,
            "{rate}"
        );
    }

    #[test]
    fn throttling_without_a_budget_caps_at_half_the_recent_rate_then_lets_go() {
        let mut pacer = Pacer::new(Pace::default(), 2);
        // A write every 20 ms: 50 per second.
        pacer.interval = Some(0.02);
        pacer.throttled();
        // The step's budget: 50/s for each of 2 workers, halved.
        let near =
            |rate: Option<f64>, expected: f64| rate.is_some_and(|r| (r - expected).abs() < 0.01);
        assert!(near(pacer.pace.items, 100.0), "{:?}", pacer.pace.items);
        assert!(near(pacer.item_rate(), 25.0), "{:?}", pacer.item_rate());
        // Whole again, and calm for long enough: no budget.
        pacer.factor = 1.0;
        pacer.throttled_at = Some(Instant::now() - CALM);
        pacer.recover(Instant::now());
        assert_eq!(pacer.item_rate(), None);
        assert_eq!(pacer.before_write(), Duration::ZERO);
    }

    #[test]
    fn no_budget_never_waits() {
        let mut pacer = Pacer::new(Pace::default(), 3);
        for _ in 0..1000 {
            assert_eq!(pacer.before_write(), Duration::ZERO);
            pacer.wrote(10.0);
            pacer.read(10.0);
            assert_eq!(pacer.before_read(), Duration::ZERO);
        }
    }
}

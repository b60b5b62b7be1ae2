//! The tracking table: one record per migration, and the lease lock.
//!
//! Records have the key `id` = `migration#0000000002`; the lock is the item
//! `id` = `lock` with its `owner` and `expires_at` (epoch milliseconds).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::{
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, ConditionCheck, TransactWriteItem, Update},
};

use super::{MigrateError, Migration, call::Call, live::LiveTable, segments::Job};
use crate::Operation;
use crate::{
    Attributes, Billing, Db, Error, KeyAttributeDef, KeyType, Result, TableDef, Timestamp, model,
};

pub(super) const LOCK_ID: &str = "lock";

/// The tracking table's shape (its name is set per run).
const DEF: TableDef = TableDef {
    name: model::text(super::TRACKING_TABLE),
    partition_key: KeyAttributeDef::new("id", KeyType::S),
    sort_key: None,
    type_attribute: model::text(TableDef::TYPE_ATTRIBUTE),
    key_separator: model::text(TableDef::KEY_SEPARATOR),
    billing: Billing::OnDemand,
    ttl: None,
    stream: None,
    indexes: std::borrow::Cow::Borrowed(&[]),
    point_in_time_recovery: false,
    deletion_protection: false,
};

/// A migration's recorded state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Running,
    Applied,
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Applied => "applied",
            Status::Failed => "failed",
        }
    }
}

/// A migration record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub number: u32,
    pub name: String,
    pub checksum: String,
    pub status: Status,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// The data step running shared by workers.
    pub job: Option<Job>,
    /// The first step not yet done: a run that resumes starts there.
    pub next_step: usize,
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn text(item: &Attributes, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn number<T: std::str::FromStr>(item: &Attributes, name: &str) -> Option<T> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

pub(super) fn record_id(number: u32) -> AttributeValue {
    s(format!("migration#{number:010}"))
}

pub(super) fn now() -> String {
    Timestamp::now().to_string()
}

pub(crate) fn is_condition_failure<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// The tracking table of one run.
#[derive(Debug, Clone)]
pub(crate) struct Tracking<'a> {
    pub(super) db: &'a Db,
    pub(super) table: String,
    /// The lock owner every record write is fenced by: it writes only
    /// while the lock item still names this owner.
    fence: Option<String>,
}

impl<'a> Tracking<'a> {
    pub(crate) fn new(db: &'a Db, table: String) -> Self {
        Tracking {
            db,
            table,
            fence: None,
        }
    }

    /// The same tracking table, its record writes fenced by `owner`'s
    /// lease: a run that lost the lock cannot record anything.
    pub(crate) fn fenced(mut self, owner: &str) -> Self {
        self.fence = Some(owner.to_owned());
        self
    }

    /// Sends one update of a record, with the fence's condition on the
    /// lock item in the same transaction; a lost lock is
    /// [`MigrateError::LeaseLost`].
    async fn write(&self, update: Update) -> Result<()> {
        let client = self.db.client();
        let Some(owner) = &self.fence else {
            return client
                .update_item()
                .table_name(update.table_name)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| Error::service(Operation::UpdateItem, &self.table, e));
        };
        let fence = ConditionCheck::builder()
            .table_name(&self.table)
            .key("id", s(LOCK_ID))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(owner))
            .build()
            .map_err(|e| Error::config(e.to_string()))?;
        let result = client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(fence).build())
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let lost = e
                    .as_service_error()
                    .and_then(|s| match s {
                        TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons().first()
                        }
                        _ => None,
                    })
                    .and_then(|r| r.code())
                    .is_some_and(|code| code == "ConditionalCheckFailed");
                if lost {
                    Err(MigrateError::LeaseLost.into())
                } else {
                    Err(Error::service(
                        Operation::TransactWriteItems,
                        &self.table,
                        e,
                    ))
                }
            }
        }
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    pub(crate) fn create_call(&self) -> Call {
        Call::CreateTable {
            table: self.table.clone(),
            def: DEF,
        }
    }

    /// Creates the table unless it exists, and waits until it is ACTIVE.
    pub(crate) async fn ensure(&self) -> Result<()> {
        if LiveTable::describe(self.db, &self.table).await?.is_none() {
            tracing::info!(table = %self.table, "creating the migration tracking table");
            self.create_call().send(self.db).await?;
        }
        self.db.wait_until_active(&self.table).await
    }

    /// Every migration record.
    pub(crate) async fn records(&self) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        let mut start: Option<Attributes> = None;
        loop {
            let out = self
                .db
                .client()
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| Error::service(Operation::Scan, &self.table, e))?;
            for item in out.items() {
                if let Some(record) = Record::from_item(item) {
                    records.push(record);
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        records.sort_by_key(|r| r.number);
        Ok(records)
    }

    /// Records `m` as running by `owner`. With `resume`, the steps done and
    /// the running data step of an earlier run of the same file are kept;
    /// without, they are cleared.
    pub(crate) async fn start(&self, m: &Migration, owner: &str, resume: bool) -> Result<()> {
        let values = Attributes::from([
            (":number".to_owned(), n(m.number)),
            (":name".to_owned(), s(m.name.as_ref())),
            (":checksum".to_owned(), s(m.checksum.as_ref())),
            (":status".to_owned(), s(Status::Running.as_str())),
            (":at".to_owned(), s(now())),
            (":owner".to_owned(), s(owner)),
        ]);
        let sets = "SET #number = :number, #name = :name, checksum = :checksum, \
                    #status = :status, started_at = :at, #owner = :owner";
        let expression = if resume {
            format!("{sets} REMOVE #error, failed_at, checkpoint")
        } else {
            format!("{sets} REMOVE #error, failed_at, checkpoint, #job, #next")
        };
        self.update(m, &expression, values).await
    }

    /// Updates `m`'s record; `#status` and `#error` name those attributes.
    pub(super) async fn update(
        &self,
        m: &Migration,
        expression: &str,
        values: Attributes,
    ) -> Result<()> {
        let names: std::collections::HashMap<String, String> = [
            ("#status", "status"),
            ("#error", "error"),
            ("#job", "job"),
            ("#next", "next_step"),
            ("#number", "number"),
            ("#name", "name"),
            ("#owner", "owner"),
        ]
        .into_iter()
        .filter(|(placeholder, _)| expression.contains(placeholder))
        .map(|(p, a)| (p.to_owned(), a.to_owned()))
        .collect();
        let update = Update::builder()
            .table_name(&self.table)
            .key("id", record_id(m.number))
            .update_expression(expression)
            .set_expression_attribute_names(Some(names).filter(|n| !n.is_empty()))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| Error::config(e.to_string()))?;
        self.write(update).await
    }

    /// Records `m` as failed with `error`. A failure to record is logged:
    /// the step's own error is the one to report.
    pub(crate) async fn fail(&self, m: &Migration, error: &str) {
        let values = Attributes::from([
            (":status".to_owned(), s(Status::Failed.as_str())),
            (":error".to_owned(), s(error)),
            (":at".to_owned(), s(now())),
        ]);
        if let Err(e) = self
            .update(
                m,
                "SET #status = :status, #error = :error, failed_at = :at",
                values,
            )
            .await
        {
            tracing::error!(migration = &*m.name, error = %e, "could not record the failure");
        }
    }

    /// Records `m` as applied.
    pub(crate) async fn finish(&self, m: &Migration) -> Result<()> {
        let values = Attributes::from([
            (":status".to_owned(), s(Status::Applied.as_str())),
            (":at".to_owned(), s(now())),
        ]);
        self.update(
            m,
            "SET #status = :status, finished_at = :at REMOVE #job, #next, #error",
            values,
        )
        .await
    }
}

impl Record {
    fn from_item(item: &Attributes) -> Option<Record> {
        if !text(item, "id")?.starts_with("migration#") {
            return None;
        }
        let status = match text(item, "status")?.as_str() {
            "running" => Status::Running,
            "applied" => Status::Applied,
            _ => Status::Failed,
        };
        Some(Record {
            number: number(item, "number")?,
            name: text(item, "name").unwrap_or_default(),
            checksum: text(item, "checksum").unwrap_or_default(),
            status,
            finished_at: text(item, "finished_at"),
            error: text(item, "error"),
            job: Job::from_attribute(item.get("job")),
            next_step: number(item, "next_step").unwrap_or(0),
        })
    }
}

/// The lock, held by one run at a time.
#[derive(Debug)]
pub(crate) struct Lease<'a> {
    tracking: Tracking<'a>,
    owner: String,
    duration: Duration,
    renewed: Instant,
}

pub(super) fn expiry(duration: Duration) -> i64 {
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    Timestamp::now().as_millisecond().saturating_add(millis)
}

impl<'a> Lease<'a> {
    /// Takes the lock unless another run holds an unexpired lease; then
    /// returns that run's owner.
    pub(crate) async fn try_acquire(
        tracking: Tracking<'a>,
        owner: String,
        duration: Duration,
    ) -> Result<std::result::Result<Lease<'a>, String>> {
        let result = tracking
            .db
            .client()
            .put_item()
            .table_name(&tracking.table)
            .item("id", s(LOCK_ID))
            .item("owner", s(&owner))
            .item("expires_at", n(expiry(duration)))
            .item("acquired_at", s(now()))
            .condition_expression("attribute_not_exists(id) OR expires_at < :now OR #owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":now", n(Timestamp::now().as_millisecond()))
            .expression_attribute_values(":me", s(&owner))
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(%owner, "took the migration lock");
                return Ok(Ok(Lease {
                    tracking,
                    owner,
                    duration,
                    renewed: Instant::now(),
                }));
            }
            Err(e) if is_condition_failure(&e) => {}
            Err(e) => return Err(Error::service(Operation::PutItem, &tracking.table, e)),
        }
        let holder = tracking
            .db
            .client()
            .get_item()
            .table_name(&tracking.table)
            .key("id", s(LOCK_ID))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Error::service(Operation::GetItem, &tracking.table, e))?
            .item()
            .and_then(|item| text(item, "owner"))
            .unwrap_or_default();
        Ok(Err(holder))
    }

    /// Extends the lease when a third of it has passed; fails when another
    /// run took the lock.
    pub(crate) async fn renew(&mut self) -> Result<()> {
        if self.renewed.elapsed() < self.duration / 3 {
            return Ok(());
        }
        let result = self
            .tracking
            .db
            .client()
            .update_item()
            .table_name(&self.tracking.table)
            .key("id", s(LOCK_ID))
            .update_expression("SET expires_at = :expires")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":expires", n(expiry(self.duration)))
            .expression_attribute_values(":me", s(&self.owner))
            .send()
            .await;
        match result {
            Ok(_) => {
                self.renewed = Instant::now();
                Ok(())
            }
            Err(e) if is_condition_failure(&e) => Err(MigrateError::LeaseLost.into()),
            Err(e) => Err(Error::service(
                Operation::UpdateItem,
                &self.tracking.table,
                e,
            )),
        }
    }

    /// Gives the lock up (when this run still holds it).
    pub(crate) async fn release(self) -> Result<()> {
        let result = self
            .tracking
            .db
            .client()
            .delete_item()
            .table_name(&self.tracking.table)
            .key("id", s(LOCK_ID))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(&self.owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(Error::service(
                Operation::DeleteItem,
                &self.tracking.table,
                e,
            )),
        }
    }
}

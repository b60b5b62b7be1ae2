use std::marker::PhantomData;

use aws_sdk_dynamodb::{error::ProvideErrorMetadata, types::AttributeValue};
use tracing::Instrument;

use crate::Operation;
use crate::{
    Attribute, Db, DecodeErrorKind, Error, Item, Result,
    log::{Meter, span},
};

use super::condition_failed;

/// A PartiQL statement over the table of item type `I`, with `?`
/// parameters bound to typed values, whose rows decode as `I`.
///
/// `{table}` in the text stands for the table's quoted physical name (the
/// namespace applied), so statements work in every environment:
///
/// ```ignore
/// let orders: Vec<Order> = Statement::<Order>::new(
///     r#"SELECT * FROM {table} WHERE "pk" = ? AND "total_cents" > ?"#,
/// )
/// .bind(&"CUSTOMER#c1".to_owned())
/// .bind(&1_000i64)
/// .send(&db)
/// .await?;
/// ```
///
/// Values are always parameters, never spliced into the text.
#[derive(Debug)]
#[must_use = "call `.send(&db)` or `.execute(&db)` to run the statement"]
pub struct Statement<I: Item> {
    text: String,
    parameters: Vec<AttributeValue>,
    consistent: bool,
    item: PhantomData<fn() -> I>,
}

impl<I: Item> Statement<I> {
    /// A statement with text `text`; `{table}` is replaced by the table.
    pub fn new(text: impl Into<String>) -> Self {
        Statement {
            text: text.into(),
            parameters: Vec::new(),
            consistent: false,
            item: PhantomData,
        }
    }

    /// Binds the next `?` to `value`, encoded as its field type stores it.
    pub fn bind<T: Attribute>(mut self, value: &T) -> Self {
        self.parameters.push(value.to_attribute());
        self
    }

    /// Reads with strong consistency.
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    fn text(&self, db: &Db) -> String {
        let table = db.table_name(I::TABLE);
        self.text
            .replace("{table}", &format!("\"{}\"", table.replace('"', "\"\"")))
    }

    /// Runs a `SELECT` over every page of results and decodes the rows;
    /// rows of other item types are left out.
    pub async fn send(&self, db: &Db) -> Result<Vec<I>> {
        let rows = self.run(db).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            match I::decode(row) {
                Ok(item) => items.push(item),
                Err(Error::Decode(e))
                    if matches!(e.kind, DecodeErrorKind::WrongItemType { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(items)
    }

    /// Runs an `INSERT`, `UPDATE` or `DELETE`. A failed condition, or an
    /// `INSERT` of an item that exists, is
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed).
    pub async fn execute(&self, db: &Db) -> Result<()> {
        self.run(db).await.map(|_| ())
    }

    async fn run(&self, db: &Db) -> Result<Vec<crate::Attributes>> {
        let table = db.table_name(I::TABLE);
        let span = span(Operation::ExecuteStatement, &table, I::TYPE_NAME);
        async {
            let meter = Meter::new(&span, Operation::ExecuteStatement, &table, I::TYPE_NAME);
            let text = self.text(db);
            let mut rows = Vec::new();
            let mut next = None;
            loop {
                let request = db
                    .client()
                    .execute_statement()
                    .statement(&text)
                    .set_parameters((!self.parameters.is_empty()).then(|| self.parameters.clone()))
                    .consistent_read(self.consistent)
                    .set_next_token(next.take())
                    .set_return_consumed_capacity(meter.capacity())
                    .send();
                let out = meter.send(db, request).await.map_err(|e| {
                    use aws_sdk_dynamodb::Error as E;
                    match E::from(e) {
                        E::ConditionalCheckFailedException(e) => condition_failed(
                            Operation::ExecuteStatement,
                            &table,
                            I::TYPE_NAME,
                            e.item,
                            None,
                        ),
                        // DynamoDB Local reports it as code `DuplicateItem`.
                        other
                            if matches!(other, E::DuplicateItemException(_))
                                || other.code() == Some("DuplicateItem") =>
                        {
                            condition_failed(
                                Operation::ExecuteStatement,
                                &table,
                                I::TYPE_NAME,
                                None,
                                None,
                            )
                        }
                        other => Error::service(Operation::ExecuteStatement, &table, other),
                    }
                })?;
                rows.extend(out.items.unwrap_or_default());
                next = out.next_token;
                if next.is_none() {
                    meter.finish(rows.len());
                    return Ok(rows);
                }
            }
        }
        .instrument(span.clone())
        .await
    }
}

//! Table tasks over the [model](crate::model)'s table descriptions, and
//! their conversions to the SDK's types.

use aws_sdk_dynamodb::{
    operation::{
        create_table::{CreateTableInput, builders::CreateTableInputBuilder},
        update_time_to_live::{UpdateTimeToLiveInput, builders::UpdateTimeToLiveInputBuilder},
    },
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
        KeyType as SdkKeyType, LocalSecondaryIndex, Projection as SdkProjection, ProjectionType,
        ProvisionedThroughput, ScalarAttributeType, StreamSpecification, StreamViewType,
        TimeToLiveSpecification,
    },
};

use crate::{
    Billing, Db, Error, IndexDef, IndexKind, KeyAttributeDef, KeyType, Operation, Projection,
    Result, StreamView, TableDef, Throughput,
};

impl KeyType {
    pub(crate) fn to_sdk(self) -> ScalarAttributeType {
        match self {
            KeyType::S => ScalarAttributeType::S,
            KeyType::N => ScalarAttributeType::N,
            KeyType::B => ScalarAttributeType::B,
        }
    }
}

impl Throughput {
    pub(crate) fn to_sdk(self) -> Result<ProvisionedThroughput> {
        let units = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        ProvisionedThroughput::builder()
            .read_capacity_units(units(self.read))
            .write_capacity_units(units(self.write))
            .build()
            .map_err(|e| Error::config(e.to_string()))
    }
}

impl StreamView {
    pub(crate) fn to_sdk(self) -> StreamViewType {
        match self {
            StreamView::KeysOnly => StreamViewType::KeysOnly,
            StreamView::NewImage => StreamViewType::NewImage,
            StreamView::OldImage => StreamViewType::OldImage,
            StreamView::NewAndOldImages => StreamViewType::NewAndOldImages,
        }
    }

    pub(crate) fn from_sdk(view: &StreamViewType) -> Option<StreamView> {
        match view {
            StreamViewType::KeysOnly => Some(StreamView::KeysOnly),
            StreamViewType::NewImage => Some(StreamView::NewImage),
            StreamViewType::OldImage => Some(StreamView::OldImage),
            StreamViewType::NewAndOldImages => Some(StreamView::NewAndOldImages),
            _ => None,
        }
    }
}

/// A stream specification: on with `view`, or off.
pub(crate) fn stream_specification(view: Option<StreamView>) -> Result<StreamSpecification> {
    StreamSpecification::builder()
        .stream_enabled(view.is_some())
        .set_stream_view_type(view.map(StreamView::to_sdk))
        .build()
        .map_err(|e| Error::config(e.to_string()))
}

/// The UpdateTimeToLive request turning TTL on `attribute` on or off.
pub(crate) fn ttl_input(
    table: &str,
    attribute: &str,
    enabled: bool,
) -> Result<UpdateTimeToLiveInputBuilder> {
    Ok(UpdateTimeToLiveInput::builder()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(enabled)
                .attribute_name(attribute)
                .build()
                .map_err(|e| Error::config(e.to_string()))?,
        ))
}

impl IndexDef {
    pub(crate) fn key_schema(&self) -> Result<Vec<KeySchemaElement>> {
        let hash = self.partition_key.iter().map(|k| (k, SdkKeyType::Hash));
        let range = self.sort_key.iter().map(|k| (k, SdkKeyType::Range));
        hash.chain(range)
            .map(|(k, t)| key_element(&k.name, t))
            .collect()
    }

    /// The SDK projection; an include list also holds the table's type
    /// attribute, so that queries can filter item types.
    pub(crate) fn projection(&self, type_attribute: &str) -> SdkProjection {
        match &self.projection {
            Projection::All => SdkProjection::builder()
                .projection_type(ProjectionType::All)
                .build(),
            Projection::KeysOnly => SdkProjection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
            Projection::Include(names) => {
                let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                if !type_attribute.is_empty() && !names.iter().any(|n| n == type_attribute) {
                    names.push(type_attribute.to_owned());
                }
                SdkProjection::builder()
                    .projection_type(ProjectionType::Include)
                    .set_non_key_attributes(Some(names))
                    .build()
            }
        }
    }
}

pub(crate) fn key_element(name: &str, key_type: SdkKeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| Error::config(e.to_string()))
}

impl TableDef {
    /// Creates this table with its indexes, billing, stream, TTL, deletion
    /// protection and point-in-time recovery, and waits until it is active.
    /// An endpoint without continuous backups (DynamoDB Local) gets the
    /// table without point-in-time recovery, and a logged warning.
    ///
    /// Returns `Ok(false)` without changing anything when the table already
    /// exists. Migrations replace this helper for real deployments.
    #[tracing::instrument(level = "info", skip_all, fields(table = &*self.name))]
    pub async fn create(&self, db: &Db) -> Result<bool> {
        let table = db.table_name(self);
        let req = self.create_input(&table)?;
        match req.send_with(db.client()).await {
            Ok(_) => {}
            Err(e) => {
                let e = aws_sdk_dynamodb::Error::from(e);
                if matches!(e, aws_sdk_dynamodb::Error::ResourceInUseException(_)) {
                    return Ok(false);
                }
                return Err(Error::service(Operation::CreateTable, &table, e));
            }
        }
        db.wait_until_active(&table).await?;
        if let Some(attribute) = &self.ttl {
            ttl_input(&table, attribute, true)?
                .send_with(db.client())
                .await
                .map_err(|e| Error::service(Operation::UpdateTimeToLive, &table, e))?;
        }
        if self.point_in_time_recovery {
            use aws_sdk_dynamodb::{
                error::ProvideErrorMetadata, types::PointInTimeRecoverySpecification,
            };
            let spec = PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .map_err(|e| Error::config(e.to_string()))?;
            let sent = db
                .client()
                .update_continuous_backups()
                .table_name(&table)
                .point_in_time_recovery_specification(spec)
                .send()
                .await;
            match sent {
                Ok(_) => {}
                Err(e) if e.code() == Some("UnknownOperationException") => tracing::warn!(
                    table = %table,
                    "the endpoint has no continuous backups: point-in-time recovery is off"
                ),
                Err(e) => {
                    return Err(Error::service(
                        Operation::UpdateContinuousBackups,
                        &table,
                        e,
                    ));
                }
            }
        }
        Ok(true)
    }

    /// The CreateTable request for this table under the physical name
    /// `table`: keys, indexes, billing and stream (TTL is a call of its own).
    pub(crate) fn create_input(&self, table: &str) -> Result<CreateTableInputBuilder> {
        let mut req = CreateTableInput::builder().table_name(table);
        req = match self.billing {
            Billing::OnDemand => req.billing_mode(BillingMode::PayPerRequest),
            Billing::Provisioned(t) => req
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(t.to_sdk()?),
        };
        let mut defined: Vec<&KeyAttributeDef> = Vec::new();
        for (attr, key_type) in self.key().zip([SdkKeyType::Hash, SdkKeyType::Range]) {
            defined.push(attr);
            req = req.key_schema(key_element(&attr.name, key_type)?);
        }
        for index in self.indexes.iter() {
            for key in index.key() {
                if !defined.iter().any(|d| d.name == key.name) {
                    defined.push(key);
                }
            }
            let projection = index.projection(&self.type_attribute);
            match index.kind {
                IndexKind::Global => {
                    let mut gsi = GlobalSecondaryIndex::builder()
                        .index_name(&*index.name)
                        .set_key_schema(Some(index.key_schema()?))
                        .projection(projection);
                    if let (Billing::Provisioned(table_throughput), throughput) =
                        (self.billing, index.throughput)
                    {
                        gsi = gsi.provisioned_throughput(
                            throughput.unwrap_or(table_throughput).to_sdk()?,
                        );
                    }
                    req = req.global_secondary_indexes(
                        gsi.build().map_err(|e| Error::config(e.to_string()))?,
                    );
                }
                IndexKind::Local => {
                    req = req.local_secondary_indexes(
                        LocalSecondaryIndex::builder()
                            .index_name(&*index.name)
                            .set_key_schema(Some(index.key_schema()?))
                            .projection(projection)
                            .build()
                            .map_err(|e| Error::config(e.to_string()))?,
                    );
                }
            }
        }
        for attr in defined {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&*attr.name)
                    .attribute_type(attr.ty.to_sdk())
                    .build()
                    .map_err(|e| Error::config(e.to_string()))?,
            );
        }
        if let Some(view) = self.stream {
            req = req.stream_specification(stream_specification(Some(view))?);
        }
        if self.deletion_protection {
            req = req.deletion_protection_enabled(true);
        }
        Ok(req)
    }

    /// Deletes this table. Returns `Ok(false)` when it did not exist.
    pub async fn delete(&self, db: &Db) -> Result<bool> {
        let table = db.table_name(self);
        match db.client().delete_table().table_name(&table).send().await {
            Ok(_) => Ok(true),
            Err(e) => match aws_sdk_dynamodb::Error::from(e) {
                aws_sdk_dynamodb::Error::ResourceNotFoundException(_) => Ok(false),
                e => Err(Error::service(Operation::DeleteTable, &table, e)),
            },
        }
    }
}

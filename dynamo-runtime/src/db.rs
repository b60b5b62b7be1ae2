use std::{sync::Arc, time::Duration};

use aws_config::{BehaviorVersion, retry::RetryConfig};
use aws_sdk_dynamodb::{
    Client,
    config::{Credentials, Region},
    types::TableStatus,
};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::Operation;
use crate::{Error, Result, RetryPolicy, TableDef, log::PayloadLog};

/// The environment variable [`Db::from_env`] reads the namespace from.
pub const NAMESPACE_ENV: &str = "DYNAMO_NAMESPACE";

/// Chunks of one batch, or segments of one parallel scan, in flight at once
/// unless [`DbBuilder::concurrency`] says otherwise. Measured (BENCHMARKS.md,
/// `cargo bench --bench runtime`): a batch put of 5,000 items takes 181,
/// 97, 86, 78 and 79 µs per item at 1, 2, 4, 8 and 16 in flight; 8 is where
/// more stops paying.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// A handle to DynamoDB: the SDK client, the table-name namespace, the retry
/// policy of the runtime's own loops and its concurrency limits.
///
/// Cheap to clone; clones share one connection pool and one in-flight limit.
#[derive(Debug, Clone)]
pub struct Db {
    client: Client,
    namespace: Option<String>,
    retry: RetryPolicy,
    concurrency: usize,
    in_flight: Option<Arc<Semaphore>>,
    /// The AWS configuration a [`DbBuilder`] loaded (for clients of other
    /// services, such as DynamoDB Streams).
    sdk_config: Option<Arc<aws_config::SdkConfig>>,
    hooks: Option<crate::hooks::Hooks>,
}

impl Db {
    /// Builds a `Db` from the standard AWS configuration chain: credentials,
    /// region (`AWS_REGION`, profiles), and endpoint (`AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_DYNAMODB`). The namespace comes from
    /// `DYNAMO_NAMESPACE` when set.
    pub async fn from_env() -> Result<Db> {
        let mut builder = Db::builder();
        if let Ok(namespace) = std::env::var(NAMESPACE_ENV) {
            builder = builder.namespace(namespace);
        }
        builder.build().await
    }

    /// A builder for explicit settings on top of the standard chain.
    pub fn builder() -> DbBuilder {
        DbBuilder::default()
    }

    /// Wraps an SDK client that is already configured (adding the
    /// runtime's debug-level payload log to it).
    pub fn from_client(client: Client) -> Db {
        let config = client.config().to_builder().interceptor(PayloadLog).build();
        Db {
            client: Client::from_conf(config),
            namespace: None,
            retry: RetryPolicy::default(),
            concurrency: DEFAULT_CONCURRENCY,
            in_flight: None,
            sdk_config: None,
            hooks: None,
        }
    }

    /// Returns this handle (and its clones) calling `hooks` around every
    /// request of an item operation it sends (gets, puts, updates,
    /// deletes, queries, scans, batches, transactions, PartiQL); a handle
    /// without hooks pays nothing for them.
    #[must_use]
    pub fn with_hooks(mut self, hooks: impl crate::DbHooks) -> Db {
        self.hooks = Some(crate::hooks::Hooks(Arc::new(hooks)));
        self
    }

    /// The handle's hooks, if any.
    pub(crate) fn hooks(&self) -> Option<&dyn crate::DbHooks> {
        self.hooks.as_ref().map(|h| &*h.0)
    }

    /// Returns this handle with another retry policy for unprocessed batch
    /// requests and conflicting transactions.
    #[must_use]
    pub fn with_retry(mut self, policy: RetryPolicy) -> Db {
        self.retry = policy;
        self
    }

    /// Returns this handle sending at most `chunks` chunks of one batch (or
    /// segments of one parallel scan) at once.
    #[must_use]
    pub fn with_concurrency(mut self, chunks: usize) -> Db {
        self.concurrency = chunks.max(1);
        self
    }

    /// Returns this handle (and its clones) with at most `requests`
    /// requests in flight at once, over every operation: a request waits
    /// for a free slot before it is sent.
    #[must_use]
    pub fn with_max_in_flight(mut self, requests: usize) -> Db {
        self.in_flight = Some(Arc::new(Semaphore::new(requests.max(1))));
        self
    }

    /// The retry policy of the runtime's own loops.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// How many chunks of one batch are sent at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Waits for a free request slot when the handle has an in-flight limit.
    pub(crate) async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        match &self.in_flight {
            // The semaphore is never closed, so acquiring cannot fail.
            Some(semaphore) => semaphore.acquire().await.ok(),
            None => None,
        }
    }

    /// Returns this handle with table names prefixed by `namespace` and `_`
    /// (as Dynamoid's namespace): `dev` turns table `shop` into `dev_shop`.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Result<Db> {
        let namespace = namespace.into();
        validate_namespace(&namespace)?;
        self.namespace = Some(namespace);
        Ok(self)
    }

    /// The AWS configuration (credentials, region, endpoint) this handle
    /// was built with, to make clients of other services with (DynamoDB
    /// Streams); `None` for a handle made [`from_client`](Db::from_client).
    pub fn sdk_config(&self) -> Option<&aws_config::SdkConfig> {
        self.sdk_config.as_deref()
    }

    /// The SDK client, for operations the runtime does not wrap.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The namespace, when one is set.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The physical name of `table`: its logical name with the namespace.
    pub fn table_name(&self, table: &TableDef) -> String {
        self.physical_name(&table.name)
    }

    /// The physical name of the table with logical name `table`.
    pub fn physical_name(&self, table: &str) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}_{table}"),
            None => table.to_owned(),
        }
    }

    /// Polls DescribeTable with backoff until `table` is ACTIVE (at most
    /// about five minutes).
    pub(crate) async fn wait_until_active(&self, table: &str) -> Result<()> {
        let mut delay = Duration::from_millis(50);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        loop {
            let out = self
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| Error::service(Operation::DescribeTable, table, e))?;
            let status = out.table().and_then(|t| t.table_status());
            if status == Some(&TableStatus::Active) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::config(format!(
                    "table `{table}` did not become ACTIVE within 5 minutes (status {status:?})"
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

fn validate_namespace(namespace: &str) -> Result<()> {
    let valid = !namespace.is_empty()
        && namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(Error::config(format!(
            "namespace {namespace:?} must be non-empty and use only letters, digits, `_`, `-` and `.` \
             (it becomes part of table names)"
        )))
    }
}

/// Explicit settings for [`Db`], layered over the standard AWS chain.
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct DbBuilder {
    endpoint_url: Option<String>,
    region: Option<String>,
    namespace: Option<String>,
    credentials: Option<(String, String)>,
    retry: Option<RetryPolicy>,
    concurrency: Option<usize>,
    max_in_flight: Option<usize>,
    sdk_max_attempts: Option<u32>,
    hooks: Option<crate::hooks::Hooks>,
}

impl DbBuilder {
    /// Sends requests to this endpoint instead of AWS (e.g. DynamoDB Local).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Uses this region instead of the configured one.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Prefixes every table name, see [`Db::with_namespace`].
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Uses these static credentials (for DynamoDB Local, any will do).
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.credentials = Some((access_key_id.into(), secret.into()));
        self
    }

    /// The retry policy for unprocessed batch requests and conflicting
    /// transactions (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Chunks of one batch (or segments of one parallel scan) sent at once
    /// (default [`DEFAULT_CONCURRENCY`]).
    pub fn concurrency(mut self, chunks: usize) -> Self {
        self.concurrency = Some(chunks);
        self
    }

    /// At most `requests` requests in flight at once over every operation
    /// of the handle and its clones (default: no limit).
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = Some(requests);
        self
    }

    /// How many times the SDK itself sends one request that was throttled,
    /// failed with a 5xx or lost its connection (the SDK's default is 3).
    /// A request throttled every time becomes [`Error::Throttled`].
    pub fn sdk_max_attempts(mut self, attempts: u32) -> Self {
        self.sdk_max_attempts = Some(attempts.max(1));
        self
    }

    /// Calls `hooks` around every request of the handle; see
    /// [`Db::with_hooks`].
    pub fn hooks(mut self, hooks: impl crate::DbHooks) -> Self {
        self.hooks = Some(crate::hooks::Hooks(Arc::new(hooks)));
        self
    }

    /// Loads the AWS configuration and builds the client.
    pub async fn build(self) -> Result<Db> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = self.region {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = self.credentials {
            loader = loader.credentials_provider(Credentials::new(
                key,
                secret,
                None,
                None,
                "dynamo-runtime",
            ));
        }
        if let Some(attempts) = self.sdk_max_attempts {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(attempts));
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(Error::config(
                "no AWS region is configured: set AWS_REGION (or a profile region), \
                 or call DbBuilder::region",
            ));
        }
        let mut db = Db::from_client(Client::new(&config));
        db.sdk_config = Some(Arc::new(config));
        if let Some(policy) = self.retry {
            db = db.with_retry(policy);
        }
        if let Some(chunks) = self.concurrency {
            db = db.with_concurrency(chunks);
        }
        if let Some(requests) = self.max_in_flight {
            db = db.with_max_in_flight(requests);
        }
        db.hooks = self.hooks;
        match self.namespace {
            Some(namespace) => db.with_namespace(namespace),
            None => Ok(db),
        }
    }
}

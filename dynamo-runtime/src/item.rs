use aws_sdk_dynamodb::types::AttributeValue;

use crate::{Attributes, Path, Result, TableDef, Timestamp, ValidationError};

/// An item type of a table. Implemented by generated structs.
pub trait Item: Sized + Send + Sync + 'static {
    /// The generated key struct of this item type.
    type Key: Key<Item = Self>;
    /// The generated struct of typed field paths, for conditions.
    type Fields: 'static;
    /// The item type's name, stored in the table's type attribute.
    const TYPE_NAME: &'static str;
    /// The table the item type is stored in.
    const TABLE: &'static TableDef;
    /// The typed field paths, handed to `when` and `filter` closures.
    const FIELDS: Self::Fields;
    /// The version field, for item types with optimistic locking.
    const VERSION: Option<Version> = None;
    /// The `updated_at` field every write sets (`timestamps = true`).
    const UPDATED_AT: Option<Path<Self, Timestamp>> = None;
    /// The mark of the last `transform` step of the type's migrations:
    /// every item the generated code writes carries it (in
    /// [`Edit::TRANSFORM_MARK`](crate::model::Edit::TRANSFORM_MARK)), so the
    /// step never transforms an item written in the new shape.
    const TRANSFORM_MARK: Option<&'static str> = None;
    /// `(attribute, previous name)` for each attribute a `rename_attribute`
    /// step renamed: decoding reads the previous name of an item the step
    /// has not reached, and updates relative to the stored value refuse
    /// such an item ([`Error::NotRewritten`](crate::Error::NotRewritten)).
    const PREVIOUS_ATTRIBUTES: &'static [(&'static str, &'static str)] = &[];
    /// `(attribute, old, new)` for each enum value a `map_values` step
    /// replaced: decoding reads `old` as `new` in an item the step has not
    /// reached.
    const PREVIOUS_VALUES: &'static [(&'static str, &'static str, &'static str)] = &[];
    /// The names stored items of the type may carry: [`TYPE_NAME`](Self::TYPE_NAME),
    /// then the names it had before a migration renamed it (`rename_item`),
    /// which items the step has not reached still carry. Reads (decoding,
    /// `get`, queries, collections) accept each.
    const TYPE_NAMES: &'static [&'static str] = &[Self::TYPE_NAME];
    /// The attributes of read-only fields (`read_only = true`): set when
    /// the item is created, never changed. Updates have no action for them,
    /// and a put (single or in a transaction) that would change a stored
    /// item's value fails with [`Error::ReadOnly`](crate::Error::ReadOnly).
    const READ_ONLY: &'static [&'static str] = &[];
    /// The attributes of unique fields (`unique = true`): no two items of
    /// the type have one value. Puts, updates and deletes keep a marker
    /// item per value in the same transaction; a duplicate is
    /// [`Error::Unique`](crate::Error::Unique).
    const UNIQUE: &'static [&'static str] = &[];

    /// Whether `name`, read from the type attribute, names this type (now
    /// or before a rename).
    fn is_type_name(name: &str) -> bool {
        Self::TYPE_NAMES.contains(&name)
    }

    /// The key of this item.
    fn key(&self) -> Self::Key;

    /// Encodes the item as it is, key attributes and type attribute included.
    fn encode(&self) -> Result<Attributes>;

    /// Encodes the item for a write at `now`: as [`encode`](Self::encode),
    /// with [`UPDATED_AT`](Self::UPDATED_AT) set to `now`, the version
    /// advanced by one (an error at the version type's largest value). The
    /// ttl is written as the item holds it: `expires_after` fills it in
    /// `new`, for new items only, so an item read without one stays
    /// permanent.
    fn encode_for_write(&self, now: Timestamp) -> Result<Attributes> {
        let mut item = self.encode()?;
        if let Some(path) = Self::UPDATED_AT {
            item.insert(path.attribute().to_owned(), path.encode(&now));
        }
        if let (Some(version), Some(current)) = (Self::VERSION, self.version()) {
            // The version never wraps nor sticks at its largest value,
            // where it would stop telling writes apart.
            let next = current
                .checked_add(1)
                .filter(|next| *next <= version.max)
                .ok_or_else(|| crate::Error::InvalidRequest {
                    operation: crate::Operation::PutItem,
                    reason: format!(
                        "the version of `{}` is at its largest value, {}: a write could not be told apart from the last",
                        Self::TYPE_NAME,
                        version.max
                    ),
                })?;
            item.insert(
                version.attribute.to_owned(),
                AttributeValue::N(next.to_string()),
            );
        }
        Ok(item)
    }

    /// Decodes an item read from the table, checking its type attribute.
    fn decode(item: Attributes) -> Result<Self>;

    /// Checks the schema's `validate` rules; every write calls it first.
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }

    /// Runs the app's [`ItemHooks::before_write`] for a type with
    /// `hooks = true`; every write of a whole item (put, batch put,
    /// transaction put) calls it after `validate`.
    fn before_write(&self) -> Result<()> {
        Ok(())
    }

    /// The version this item was read (or created) with.
    fn version(&self) -> Option<u64> {
        None
    }
}

/// The version field of an item type with optimistic locking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// The attribute it is stored in.
    pub attribute: &'static str,
    /// The largest value its integer type holds.
    pub max: u64,
}

/// The key of an item type. Implemented by generated key structs.
pub trait Key: Send + Sync + Clone + std::fmt::Debug + 'static {
    /// The item type this key identifies.
    type Item: Item<Key = Self>;

    /// Renders the key attributes (partition and sort key) of the item.
    fn encode_key(&self) -> Result<Attributes>;

    /// The key the item had before a migration changed its table key
    /// templates (`rewrite_keys`), if one did: a read that finds nothing
    /// under the key reads under this one, so an item the step has not
    /// moved yet is still found.
    fn previous_key(&self) -> Option<Result<Attributes>> {
        None
    }
}

/// The attributes of a stored item that its item type does not model
/// (another program's, or fields a newer schema added): kept when the item
/// is read, and written back by a `put` of it, so a read-modify-write
/// never drops another writer's data. Key attributes of the table and its
/// indexes are never kept here: they are rendered from the fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unmodeled(Attributes);

/// `AttributeValue` holds no floats (numbers are text), so its equality is
/// an equivalence.
impl Eq for Unmodeled {}

impl Unmodeled {
    /// The attributes, by name.
    pub fn attributes(&self) -> &Attributes {
        &self.0
    }

    /// The attributes, to change before a `put`.
    pub fn attributes_mut(&mut self) -> &mut Attributes {
        &mut self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Attributes> for Unmodeled {
    fn from(attributes: Attributes) -> Self {
        Unmodeled(attributes)
    }
}

/// What an app runs around the writes and reads of an item type whose
/// schema says `hooks = true` (the Java Enhanced Client's extensions,
/// Dynamoid's callbacks, PynamoDB's signals), typed by the item. The
/// generated code calls it only for such types, so a type without hooks
/// pays nothing; a type with `hooks = true` and no implementation does not
/// compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `hooks = true` in its schema, but no `ItemHooks`",
    label = "writes and reads of `{Self}` call its hooks",
    note = "implement `dynamo_runtime::ItemHooks for {Self}` (both methods have defaults), or remove `hooks = true`"
)]
pub trait ItemHooks: Item {
    /// Before every write of a whole item (put, batch put, transaction
    /// put), after its `validate` rules passed: an error stops the write
    /// (and the rest of a batch or transaction) before anything is sent,
    /// as [`Error::Hook`](crate::Error::Hook). Updates carry no item and do
    /// not call it.
    fn before_write(&self) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }

    /// After every read that decodes an item of the type (get, queries,
    /// scans, batch and transaction gets, collections, stream records).
    fn after_read(&mut self) {}
}

/// Generated `before_write` of a type with `hooks = true`.
#[doc(hidden)]
pub fn before_write<I: ItemHooks>(item: &I) -> Result<()> {
    ItemHooks::before_write(item).map_err(|source| crate::Error::Hook {
        item_type: I::TYPE_NAME,
        source,
    })
}

/// Generated end of `decode` of a type with `hooks = true`.
#[doc(hidden)]
pub fn after_read<I: ItemHooks>(mut item: I) -> Result<I> {
    item.after_read();
    Ok(item)
}

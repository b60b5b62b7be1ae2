use crate::{Attributes, Result, TableDef, Timestamp, ValidationError};

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
    /// The version attribute, for item types with optimistic locking.
    const VERSION: Option<&'static str> = None;

    /// The key of this item.
    fn key(&self) -> Self::Key;

    /// Encodes the item as it is, key attributes and type attribute included.
    fn encode(&self) -> Result<Attributes>;

    /// Encodes the item for a write at `now`: as [`encode`](Self::encode),
    /// with the `updated_at` timestamp set to `now`, the version advanced
    /// by one, and an absent ttl filled from `expires_after`.
    fn encode_for_write(&self, now: Timestamp) -> Result<Attributes> {
        let _ = now;
        self.encode()
    }

    /// Decodes an item read from the table, checking its type attribute.
    fn decode(item: Attributes) -> Result<Self>;

    /// Checks the schema's `validate` rules; every write calls it first.
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }

    /// The version this item was read (or created) with.
    fn version(&self) -> Option<u64> {
        None
    }
}

/// The key of an item type. Implemented by generated key structs.
pub trait Key: Send + Sync + Clone + std::fmt::Debug + 'static {
    /// The item type this key identifies.
    type Item: Item<Key = Self>;

    /// Renders the key attributes (partition and sort key) of the item.
    fn encode_key(&self) -> Result<Attributes>;
}

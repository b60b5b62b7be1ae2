use crate::{Attributes, Result, TableDef};

/// An item type of a table. Implemented by generated structs.
pub trait Item: Sized + Send + Sync + 'static {
    /// The generated key struct of this item type.
    type Key: Key<Item = Self>;
    /// The item type's name, stored in the table's type attribute.
    const TYPE_NAME: &'static str;
    /// The table the item type is stored in.
    const TABLE: &'static TableDef;

    /// The key of this item.
    fn key(&self) -> Self::Key;

    /// Encodes the item, key attributes and type attribute included.
    fn encode(&self) -> Result<Attributes>;

    /// Decodes an item read from the table, checking its type attribute.
    fn decode(item: Attributes) -> Result<Self>;
}

/// The key of an item type. Implemented by generated key structs.
pub trait Key: Send + Sync {
    /// The item type this key identifies.
    type Item: Item<Key = Self>;

    /// Renders the key attributes (partition and sort key) of the item.
    fn encode_key(&self) -> Result<Attributes>;
}

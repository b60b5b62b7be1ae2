//! Helpers that generated `Item::encode` / `Item::decode` call: they build and
//! read `AttributeValue` maps directly (no serde on the hot path) and turn
//! every mismatch into a [`DecodeError`] naming the item type and attribute.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::{
    Attribute, Attributes, Item, Unmodeled,
    error::{DecodeError, DecodeErrorKind, KeyError},
    key::{KeyFields, KeyPart, KeyTemplate, RenderedKey, RowError, Template},
    model::TableDef,
};

/// What a `transform` step's function returns: the new item, or why the
/// item cannot be transformed (the step stops with the reason).
pub trait Transformed<New> {
    /// The new item, or the reason there is none.
    fn into_new(self) -> Result<New, String>;
}

impl<New: Item> Transformed<New> for New {
    fn into_new(self) -> Result<New, String> {
        Ok(self)
    }
}

impl<New: Item, E: std::fmt::Display> Transformed<New> for Result<New, E> {
    fn into_new(self) -> Result<New, String> {
        self.map_err(|e| e.to_string())
    }
}

/// Runs a `transform` step's function on one stored item: decodes it as
/// `Old` (the item type as the migrations recorded it before the step),
/// calls `f`, checks and encodes the `New` item it returns. Attributes
/// neither type models (another writer's) are kept; index key attributes
/// are not (the new item renders its own).
pub fn transform<Old, New, R>(raw: Attributes, f: fn(Old) -> R) -> crate::Result<Attributes>
where
    Old: Item,
    New: Item,
    R: Transformed<New>,
{
    let old = Old::decode(raw.clone())?;
    let modeled = old.encode()?;
    let new = f(old).into_new().map_err(|reason| {
        crate::Error::from(crate::migrate::MigrateError::Transform {
            item: New::TYPE_NAME.to_owned(),
            reason,
        })
    })?;
    new.validate()?;
    let mut out = new.encode()?;
    let table = New::TABLE;
    for (name, value) in raw {
        let index_key = table
            .indexes
            .iter()
            .any(|i| i.key().any(|k| *k.name == name));
        if !modeled.contains_key(&name) && !index_key && !out.contains_key(&name) {
            out.insert(name, value);
        }
    }
    Ok(out)
}

/// Builds the attribute map of one item.
#[derive(Debug)]
pub struct Encoder {
    item: Attributes,
}

impl Encoder {
    /// Starts an item of `item_type`, writing its name to `type_attribute`.
    /// `capacity` is the number of attributes the item will usually have.
    pub fn new(item_type: &'static str, type_attribute: &str, capacity: usize) -> Self {
        let mut item = Attributes::with_capacity(capacity);
        // A table without a type attribute has an empty name for it.
        if !type_attribute.is_empty() {
            item.insert(
                type_attribute.to_owned(),
                AttributeValue::S(item_type.to_owned()),
            );
        }
        Encoder { item }
    }

    /// Starts an item of type `I` with room for `capacity` attributes.
    pub fn item<I: Item>(capacity: usize) -> Self {
        let mut encoder = Encoder::new(I::TYPE_NAME, &I::TABLE.type_attribute, capacity);
        if let Some(mark) = I::TRANSFORM_MARK {
            encoder.item.insert(
                crate::model::Edit::TRANSFORM_MARK.to_owned(),
                AttributeValue::S(mark.to_owned()),
            );
        }
        encoder
    }

    /// Starts an item of type `I` from the attributes it does not model
    /// (its own attributes, written next, take precedence).
    pub fn item_with<I: Item>(capacity: usize, unmodeled: &Unmodeled) -> Self {
        let mut encoder = Encoder::item::<I>(capacity + unmodeled.attributes().len());
        for (name, value) in unmodeled.attributes() {
            encoder
                .item
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        encoder
    }

    /// Writes a rendered key attribute.
    pub fn key(&mut self, key: RenderedKey) -> Result<(), KeyError> {
        self.item.insert(key.attribute.to_owned(), key.value?);
        Ok(())
    }

    /// Starts a nested type's map (no type attribute).
    pub fn nested(capacity: usize) -> Self {
        Encoder {
            item: Attributes::with_capacity(capacity),
        }
    }

    /// Writes an already rendered attribute (a key attribute).
    pub fn attribute(&mut self, name: &str, value: AttributeValue) {
        self.item.insert(name.to_owned(), value);
    }

    /// Writes a required field (an empty set leaves the attribute out).
    pub fn field<T: Attribute>(&mut self, name: &str, value: &T) {
        if !value.is_absent() {
            self.item.insert(name.to_owned(), value.to_attribute());
        }
    }

    /// Writes a field with its own encoding (e.g. a datetime as epoch
    /// seconds).
    pub fn field_with<T>(&mut self, name: &str, value: &T, encode: fn(&T) -> AttributeValue) {
        self.item.insert(name.to_owned(), encode(value));
    }

    /// Writes an optional field with its own encoding.
    pub fn optional_with<T>(
        &mut self,
        name: &str,
        value: &Option<T>,
        encode: fn(&T) -> AttributeValue,
    ) {
        if let Some(value) = value {
            self.item.insert(name.to_owned(), encode(value));
        }
    }

    /// Writes an optional field; `None` leaves the attribute out.
    pub fn optional<T: Attribute>(&mut self, name: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.field(name, value);
        }
    }

    /// Writes an encrypted field (`encrypted = true`), sealed with the
    /// installed keyring.
    pub fn encrypted<I: crate::Item, T: crate::Sealable>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> crate::Result<()> {
        let sealed = crate::crypt::seal(value).map_err(|error| crate::Error::Encryption {
            item_type: I::TYPE_NAME,
            attribute: name,
            error,
        })?;
        self.item.insert(name.to_owned(), sealed);
        Ok(())
    }

    /// Writes an optional encrypted field (`None` is no attribute).
    pub fn encrypted_optional<I: crate::Item, T: crate::Sealable>(
        &mut self,
        name: &'static str,
        value: &Option<T>,
    ) -> crate::Result<()> {
        match value {
            Some(value) => self.encrypted::<I, T>(name, value),
            None => Ok(()),
        }
    }

    /// The finished attribute map.
    pub fn finish(self) -> Attributes {
        self.item
    }

    /// The finished map as an `M` attribute value (a nested type).
    pub fn finish_map(self) -> AttributeValue {
        AttributeValue::M(self.item)
    }
}

/// Reads the fields of one item out of its attribute map.
#[derive(Debug)]
pub struct Decoder {
    item: Attributes,
    item_type: &'static str,
}

impl Decoder {
    /// Starts decoding an item of `item_type`, first checking that its type
    /// attribute names that type.
    pub fn new(
        mut item: Attributes,
        item_type: &'static str,
        type_attribute: &str,
    ) -> Result<Self, DecodeError> {
        let error = |kind| DecodeError {
            item_type,
            attribute: type_attribute.to_owned(),
            kind,
        };
        if type_attribute.is_empty() {
            return Ok(Decoder { item, item_type });
        }
        match item.remove(type_attribute) {
            Some(AttributeValue::S(found)) if found == item_type => Ok(Decoder { item, item_type }),
            Some(AttributeValue::S(found)) => Err(error(DecodeErrorKind::WrongItemType { found })),
            Some(other) => Err(error(DecodeErrorKind::WrongType {
                expected: "S",
                found: crate::attr::type_name(&other),
            })),
            None => Err(error(DecodeErrorKind::Missing)),
        }
    }

    /// Starts decoding an item of type `I`, checking its type attribute.
    pub fn item<I: Item>(item: Attributes) -> Result<Self, DecodeError> {
        Decoder::typed_item(
            item,
            I::TYPE_NAMES,
            I::TYPE_NAME,
            &I::TABLE.type_attribute,
            I::TRANSFORM_MARK.is_some(),
            I::PREVIOUS_ATTRIBUTES,
            I::PREVIOUS_VALUES,
        )
    }

    /// [`item`](Self::item) with the item type's facts: compiled once, not
    /// once per item type.
    fn typed_item(
        mut item: Attributes,
        type_names: &[&str],
        type_name: &'static str,
        type_attribute: &str,
        marked: bool,
        attributes: &[(&str, &str)],
        values: &[(&str, &str, &str)],
    ) -> Result<Self, DecodeError> {
        if type_names.len() > 1
            && let Some(AttributeValue::S(name)) = item.get_mut(type_attribute)
            && type_names[1..].contains(&name.as_str())
        {
            // Stored before `rename_item` reached it.
            type_name.clone_into(name);
        }
        if marked {
            // A `transform` step marks the items it rewrote; the mark is
            // its bookkeeping, not the item's. (Other item types never
            // have one: no lookup for them.)
            item.remove(crate::model::Edit::TRANSFORM_MARK);
        }
        let mut decoder = Decoder::new(item, type_name, type_attribute)?;
        decoder.previous(attributes, values);
        Ok(decoder)
    }

    /// Reads items stored before migrations changed them as if the
    /// migrations had reached them: each `(attribute, previous)` moves a
    /// value stored under its previous name (`rename_attribute`) unless
    /// the new name holds one, and each `(attribute, old, new)` reads text
    /// value `old` as `new` (`map_values`).
    pub fn previous(&mut self, attributes: &[(&str, &str)], values: &[(&str, &str, &str)]) {
        if attributes.is_empty() && values.is_empty() {
            return;
        }
        for (attribute, previous) in attributes {
            if let Some(value) = self.item.remove(*previous)
                && !self.item.contains_key(*attribute)
            {
                self.item.insert((*attribute).to_owned(), value);
            }
        }
        for (attribute, old, new) in values {
            if let Some(AttributeValue::S(value)) = self.item.get_mut(*attribute)
                && value == old
            {
                (*new).clone_into(value);
            }
        }
    }

    /// Starts decoding `item` without checking a type attribute (index
    /// projections, which may not store it).
    pub fn untyped(item: Attributes, item_type: &'static str) -> Self {
        Decoder { item, item_type }
    }

    /// Decodes one row of an index that does not store whole items with
    /// `decode`, which reads key fields out of `templates` and the other
    /// attributes from the row; `None` when the row is another item type's.
    ///
    /// A row whose keys do not fit the templates is another item type's
    /// only when it can be: its type attribute (when projected) names
    /// another type, or other item types share the index (`sole` is
    /// false). A row of the item type that does not fit is a
    /// [`DecodeErrorKind::UnparsableKey`], never silently left out.
    pub fn row<I: Item, P>(
        raw: Attributes,
        templates: &[&KeyTemplate<I>],
        sole: bool,
        decode: impl FnOnce(&KeyFields, &mut Decoder) -> Result<P, RowError>,
    ) -> crate::Result<Option<P>> {
        let ours = match raw
            .get(&*I::TABLE.type_attribute)
            .filter(|_| I::TABLE.has_type_attribute())
        {
            Some(AttributeValue::S(t)) if I::is_type_name(t) => true,
            Some(_) => return Ok(None),
            None => sole,
        };
        let unparsable = |(attribute, value): (&'static str, String)| {
            let template = templates
                .iter()
                .find(|t| t.attribute() == attribute)
                .map_or("", |t| t.text());
            crate::Error::from(DecodeError {
                item_type: I::TYPE_NAME,
                attribute: attribute.to_owned(),
                kind: DecodeErrorKind::UnparsableKey { value, template },
            })
        };
        let keys = match KeyFields::read(&raw, templates) {
            Ok(keys) => keys,
            Err(bad) if ours => return Err(unparsable(bad)),
            Err(_) => return Ok(None),
        };
        let mut item = Decoder::untyped(raw, I::TYPE_NAME);
        item.previous(I::PREVIOUS_ATTRIBUTES, I::PREVIOUS_VALUES);
        match decode(&keys, &mut item) {
            Ok(row) => Ok(Some(row)),
            Err(RowError::Skip(field)) if ours => Err(unparsable(keys.attribute_of(field))),
            Err(RowError::Skip(_)) => Ok(None),
            Err(RowError::Decode(e)) => Err(e.into()),
        }
    }

    /// Ends decoding a whole item: each of its table key attributes
    /// rendered from a template must be what the template renders from the
    /// decoded fields (`keys`: each template with its values), a
    /// [`DecodeErrorKind::KeyMismatch`] otherwise; the attributes left,
    /// besides key attributes of the table and its indexes, are returned as
    /// the item's [`Unmodeled`] ones. (A plain key is a field, read
    /// already.)
    pub fn finish<I: Item>(
        self,
        keys: &[(&KeyTemplate<I>, &[&dyn KeyPart])],
    ) -> crate::Result<Unmodeled> {
        self.check_keys(keys)
    }

    /// [`finish`](Self::finish) for an item type whose table key templates
    /// a migration changed (`rewrite_keys`): an item still stored under
    /// the `previous` templates (not moved yet) is read too.
    pub fn finish_previous<I: Item>(
        self,
        keys: &[(&KeyTemplate<I>, &[&dyn KeyPart])],
        previous: &[(&KeyTemplate<I>, &[&dyn KeyPart])],
    ) -> crate::Result<Unmodeled> {
        let fits = |keys: &[(&KeyTemplate<I>, &[&dyn KeyPart])]| {
            keys.iter().all(|(template, values)| {
                self.item
                    .get(template.attribute())
                    .is_none_or(|stored| template.renders(stored, values))
            })
        };
        if !fits(keys) && fits(previous) {
            return self.check_keys(previous);
        }
        self.check_keys(keys)
    }

    fn check_keys<I: Item>(
        self,
        keys: &[(&KeyTemplate<I>, &[&dyn KeyPart])],
    ) -> crate::Result<Unmodeled> {
        self.check_typed_keys(I::TABLE, &mut keys.iter().map(|(t, v)| (t.typed(), *v)))
    }

    /// [`check_keys`](Self::check_keys) on untyped templates: compiled
    /// once, not once per item type.
    fn check_typed_keys<'v>(
        mut self,
        table: &TableDef,
        keys: &mut dyn Iterator<Item = (Template, &'v [&'v dyn KeyPart])>,
    ) -> crate::Result<Unmodeled> {
        for (template, values) in keys {
            let Some(stored) = self.item.remove(template.attribute()) else {
                // Items read from DynamoDB always have their table key.
                continue;
            };
            if !template.renders(&stored, values) {
                let rendered = match template.render(values).into_parts().1? {
                    AttributeValue::S(s) => s,
                    other => format!("{other:?}"),
                };
                let stored = match stored {
                    AttributeValue::S(s) | AttributeValue::N(s) => s,
                    other => format!("{other:?}"),
                };
                return Err(self
                    .error(
                        template.attribute(),
                        DecodeErrorKind::KeyMismatch { stored, rendered },
                    )
                    .into());
            }
        }
        if self.item.is_empty() {
            return Ok(Unmodeled::default());
        }
        for key in table.indexes.iter().flat_map(|i| i.key()) {
            self.item.remove(&*key.name);
        }
        Ok(Unmodeled::from(self.item))
    }

    /// Starts decoding a nested type's map.
    pub fn nested(value: AttributeValue, type_name: &'static str) -> Result<Self, DecodeErrorKind> {
        match value {
            AttributeValue::M(item) => Ok(Decoder {
                item,
                item_type: type_name,
            }),
            other => Err(DecodeErrorKind::WrongType {
                expected: "M",
                found: crate::attr::type_name(&other),
            }),
        }
    }

    /// Reads a required field (an absent set is empty).
    pub fn field<T: Attribute>(&mut self, name: &str) -> Result<T, DecodeError> {
        match self.item.remove(name) {
            Some(value) => T::from_attribute(value).map_err(|kind| self.error(name, kind)),
            None => T::absent().ok_or_else(|| self.error(name, DecodeErrorKind::Missing)),
        }
    }

    /// Reads a required field that has a literal default: an item stored
    /// before the field existed has no attribute, and reads as `default`.
    pub fn field_or<T: Attribute>(
        &mut self,
        name: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, DecodeError> {
        match self.item.remove(name) {
            Some(value) => T::from_attribute(value).map_err(|kind| self.error(name, kind)),
            None => Ok(T::absent().unwrap_or_else(default)),
        }
    }

    /// Reads a required field with its own decoding and a literal default
    /// for a missing attribute.
    pub fn field_with_or<T>(
        &mut self,
        name: &str,
        decode: fn(AttributeValue) -> Result<T, DecodeErrorKind>,
        default: impl FnOnce() -> T,
    ) -> Result<T, DecodeError> {
        match self.item.remove(name) {
            Some(value) => decode(value).map_err(|kind| self.error(name, kind)),
            None => Ok(default()),
        }
    }

    /// Reads a required field with its own decoding.
    pub fn field_with<T>(
        &mut self,
        name: &str,
        decode: fn(AttributeValue) -> Result<T, DecodeErrorKind>,
    ) -> Result<T, DecodeError> {
        match self.item.remove(name) {
            Some(value) => decode(value).map_err(|kind| self.error(name, kind)),
            None => Err(self.error(name, DecodeErrorKind::Missing)),
        }
    }

    /// Reads an optional field with its own decoding.
    pub fn optional_with<T>(
        &mut self,
        name: &str,
        decode: fn(AttributeValue) -> Result<T, DecodeErrorKind>,
    ) -> Result<Option<T>, DecodeError> {
        match self.item.remove(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(value) => decode(value)
                .map(Some)
                .map_err(|kind| self.error(name, kind)),
        }
    }

    /// Reads an optional field: absent and `NULL` are both `None`.
    pub fn optional<T: Attribute>(&mut self, name: &str) -> Result<Option<T>, DecodeError> {
        match self.item.remove(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(value) => T::from_attribute(value)
                .map(Some)
                .map_err(|kind| self.error(name, kind)),
        }
    }

    /// Reads an encrypted field (`encrypted = true`), opened with the
    /// installed keyring.
    pub fn encrypted<T: crate::Sealable>(&mut self, name: &str) -> Result<T, DecodeError> {
        match self.item.remove(name) {
            Some(value) => crate::crypt::open(value)
                .map_err(|e| self.error(name, DecodeErrorKind::Encryption(e))),
            None => Err(self.error(name, DecodeErrorKind::Missing)),
        }
    }

    /// Reads an optional encrypted field.
    pub fn encrypted_optional<T: crate::Sealable>(
        &mut self,
        name: &str,
    ) -> Result<Option<T>, DecodeError> {
        match self.item.remove(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(value) => crate::crypt::open(value)
                .map(Some)
                .map_err(|e| self.error(name, DecodeErrorKind::Encryption(e))),
        }
    }

    fn error(&self, attribute: &str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            item_type: self.item_type,
            attribute: attribute.to_owned(),
            kind,
        }
    }
}

/// The item type a raw item names in `table`'s type attribute.
pub fn item_type(table: &crate::TableDef, raw: &Attributes) -> Option<String> {
    match raw.get(&*table.type_attribute) {
        Some(AttributeValue::S(name)) => Some(name.clone()),
        _ => None,
    }
}

/// The key attributes of an item, from its rendered keys.
pub fn key_attributes<const N: usize>(keys: [RenderedKey; N]) -> crate::Result<Attributes> {
    let mut out = Attributes::with_capacity(N);
    for key in keys {
        out.insert(key.attribute.to_owned(), key.value?);
    }
    Ok(out)
}

/// A tagged union's stored value: the map of its variant's fields, with
/// `tag_attribute` holding `tag`, the name of the variant.
pub fn tagged(tag_attribute: &str, tag: &str, value: AttributeValue) -> AttributeValue {
    match value {
        AttributeValue::M(mut fields) => {
            fields.insert(tag_attribute.to_owned(), AttributeValue::S(tag.to_owned()));
            AttributeValue::M(fields)
        }
        other => other,
    }
}

/// Splits a tagged union's stored map into the name of its variant (the
/// text of `tag_attribute`) and the variant's fields.
pub fn untag(
    value: AttributeValue,
    tag_attribute: &str,
    union: &'static str,
) -> Result<(String, AttributeValue), DecodeErrorKind> {
    let mut decoder = Decoder::nested(value, union)?;
    let tag: String = decoder.field(tag_attribute)?;
    Ok((tag, AttributeValue::M(decoder.item)))
}

/// The error of a tagged union whose stored tag names none of its
/// variants.
pub fn unknown_tag(tag_attribute: &str, tag: String, expected: &[&'static str]) -> DecodeErrorKind {
    DecodeErrorKind::Nested {
        path: format!(".{tag_attribute}"),
        kind: Box::new(DecodeErrorKind::UnknownVariant {
            value: tag,
            expected: expected.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_encoder_and_decoder() {
        let mut e = Encoder::new("Customer", "_type", 3);
        e.field("id", &"c1".to_owned());
        e.optional::<i64>("n", &None);
        e.optional("m", &Some(3u32));
        let item = e.finish();
        assert_eq!(item.len(), 3);
        let mut d = Decoder::new(item, "Customer", "_type").unwrap();
        assert_eq!(d.field::<String>("id").unwrap(), "c1");
        assert_eq!(d.optional::<i64>("n").unwrap(), None);
        assert_eq!(d.optional::<u32>("m").unwrap(), Some(3));
    }

    #[test]
    fn type_attribute_is_checked() {
        let e = Encoder::new("Order", "_type", 1);
        let err = Decoder::new(e.finish(), "Customer", "_type").unwrap_err();
        assert_eq!(err.item_type, "Customer");
        assert_eq!(err.attribute, "_type");
        assert_eq!(
            err.kind,
            DecodeErrorKind::WrongItemType {
                found: "Order".into()
            }
        );
        let err = Decoder::new(Attributes::new(), "Customer", "_type").unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Missing);
    }

    #[test]
    fn missing_field_names_item_type_and_attribute() {
        let e = Encoder::new("Customer", "_type", 1);
        let mut d = Decoder::new(e.finish(), "Customer", "_type").unwrap();
        let err = d.field::<String>("email").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot decode `Customer`: attribute `email` is missing"
        );
    }
}

//! Macros generated code invokes for the methods every item type, update
//! builder, query builder and enum has, so that each is written once, here,
//! and generated files hold only what differs. The methods they define are
//! inherent and documented, as if written out.

/// The single-item, batch, scan and PartiQL entry points of an item type:
/// `key`, `get`, `put`, `delete`, `batch_get`, `scan`, `statement`, and
/// (unless the item type is versioned, since batch writes cannot check a
/// version) `batch_put` and `batch_delete`.
#[doc(hidden)]
#[macro_export]
macro_rules! item_operations {
    ($item:ident, $key:ident) => {
        $crate::item_operations!($item, $key, versioned);

        impl $item {
            /// Writes `items` in batches of 25, retrying unprocessed items.
            pub fn batch_put<'a>(
                items: impl ::std::iter::IntoIterator<Item = &'a Self>,
            ) -> $crate::BatchWrite<'a, Self> {
                $crate::BatchWrite::new().put(items)
            }

            #[doc = ::std::concat!(
                "Deletes the `", ::std::stringify!($item),
                "`s with `keys` in batches of 25, retrying unprocessed requests."
            )]
            pub fn batch_delete<'a>(
                keys: impl ::std::iter::IntoIterator<Item = $key>,
            ) -> $crate::BatchWrite<'a, Self> {
                $crate::BatchWrite::new().delete(keys)
            }
        }
    };
    ($item:ident, $key:ident, versioned) => {
        impl $item {
            #[doc = ::std::concat!("The key of this `", ::std::stringify!($item), "`.")]
            pub fn key(&self) -> $key {
                <Self as $crate::Item>::key(self)
            }

            #[doc = ::std::concat!(
                "Reads the `", ::std::stringify!($item), "` with `key`; `None` when there is none."
            )]
            pub fn get(key: $key) -> $crate::GetItem<Self> {
                $crate::GetItem::new(key)
            }

            #[doc = ::std::concat!(
                "Writes this `", ::std::stringify!($item), "`, replacing any item with the same \
                 key (for a versioned item type: only if the stored version is still this \
                 item's; a new item, only if none is stored)."
            )]
            pub fn put(&self) -> $crate::PutItem<'_, Self> {
                $crate::PutItem::new(self)
            }

            #[doc = ::std::concat!(
                "Deletes the `", ::std::stringify!($item),
                "` with `key`; deleting a missing item does nothing."
            )]
            pub fn delete(key: $key) -> $crate::DeleteItem<Self> {
                $crate::DeleteItem::new(key)
            }

            #[doc = ::std::concat!(
                "Reads the `", ::std::stringify!($item),
                "`s with `keys` in batches of 100; one result per key, in order."
            )]
            pub fn batch_get(
                keys: impl ::std::iter::IntoIterator<Item = $key>,
            ) -> $crate::BatchGet<Self> {
                $crate::BatchGet::new(keys)
            }

            #[doc = ::std::concat!(
                "Scans the whole table for `", ::std::stringify!($item),
                "` items (every item is read and paid for)."
            )]
            pub fn scan() -> $crate::Scan<Self> {
                $crate::Scan::new()
            }

            #[doc = ::std::concat!(
                "A PartiQL statement whose rows are `", ::std::stringify!($item),
                "`s; `{table}` stands for the table."
            )]
            pub fn statement(text: &str) -> $crate::Statement<Self> {
                $crate::Statement::new(text)
            }
        }
    };
}

/// The update builder of an item type: `update` on the item type, and
/// `when`, `send`, `return_old` (and `expect_version` for a versioned item
/// type) and the generic field actions of [`Update`](crate::Update) on the
/// builder; the `set_<field>` of fields index keys are built from are
/// generated. The actions' type parameters end in `_` (`T_`), which no
/// schema type name can (they are UpperCamelCase letters and digits), so an
/// item type named `T` does not shadow them.
#[doc(hidden)]
#[macro_export]
macro_rules! update_options {
    ($update:ident, $item:ident, $key:ident $(, $versioned:ident)?) => {
        impl $item {
            #[doc = ::std::concat!(
                "An update of the `", ::std::stringify!($item), "` with `key`: chain the \
                 changes, then `.send(&db)`. Key fields cannot change; `updated_at` (if the \
                 item type has timestamps) is set and the version (if it is versioned) advanced."
            )]
            pub fn update(key: $key) -> $update {
                $update($crate::Update::new(key))
            }
        }

        impl $update {
            /// Applies the update only when the stored item meets `condition`.
            pub fn when(
                self,
                condition: impl ::std::ops::FnOnce(
                    &<$item as $crate::Item>::Fields,
                ) -> $crate::Condition<$item>,
            ) -> Self {
                Self(self.0.when(condition))
            }

            /// Sends the update and returns the item as stored after it.
            pub async fn send(self, db: &$crate::Db) -> $crate::Result<$item> {
                self.0.send(db).await
            }

            /// Returns the item as stored before the update instead.
            pub fn return_old(self) -> $crate::ReturningOld<$crate::Update<$item>> {
                self.0.return_old()
            }

            /// Sets a field: `.set(|f| f.total, 5)`; see
            /// [`Update::set`]($crate::Update::set).
            pub fn set<T_: $crate::Attribute, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, T_, A_>,
                value: impl $crate::IntoValue<T_>,
            ) -> Self {
                Self(self.0.set(field, value))
            }

            /// Sets a field unless the item has a value; see
            /// [`Update::set_if_not_exists`]($crate::Update::set_if_not_exists).
            pub fn set_if_not_exists<T_: $crate::Attribute, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, T_, A_>,
                value: impl $crate::IntoValue<T_>,
            ) -> Self {
                Self(self.0.set_if_not_exists(field, value))
            }

            /// Removes an optional field: `.remove(|f| f.note)`; see
            /// [`Update::remove`]($crate::Update::remove).
            pub fn remove<T_>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, T_, $crate::Optional>,
            ) -> Self {
                Self(self.0.remove(field))
            }

            /// Adds `by` to a number (an absent value counts as 0); see
            /// [`Update::add`]($crate::Update::add).
            pub fn add<T_: $crate::Attribute + $crate::validate::Bounded, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, T_, A_>,
                by: T_,
            ) -> Self {
                Self(self.0.add(field, by))
            }

            /// Adds `by` to a number the item has; see
            /// [`Update::increment`]($crate::Update::increment).
            pub fn increment<T_: $crate::Attribute + $crate::validate::Bounded, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, T_, A_>,
                by: T_,
            ) -> Self {
                Self(self.0.increment(field, by))
            }

            /// Subtracts `by` from a number the item has; see
            /// [`Update::decrement`]($crate::Update::decrement).
            pub fn decrement<T_: $crate::Attribute + $crate::validate::Bounded, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, T_, A_>,
                by: T_,
            ) -> Self {
                Self(self.0.decrement(field, by))
            }

            /// Adds `items` to a set; see
            /// [`Update::add_items`]($crate::Update::add_items).
            pub fn add_items<E_: $crate::attr::SetElement + ::std::clone::Clone, V_: $crate::IntoValue<E_>, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, ::std::collections::BTreeSet<E_>, A_>,
                items: impl ::std::iter::IntoIterator<Item = V_>,
            ) -> Self {
                Self(self.0.add_items(field, items))
            }

            /// Removes `items` from a set; see
            /// [`Update::delete_items`]($crate::Update::delete_items).
            pub fn delete_items<E_: $crate::attr::SetElement + ::std::clone::Clone, V_: $crate::IntoValue<E_>, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, ::std::collections::BTreeSet<E_>, A_>,
                items: impl ::std::iter::IntoIterator<Item = V_>,
            ) -> Self {
                Self(self.0.delete_items(field, items))
            }

            /// Appends `items` to a list; see
            /// [`Update::append`]($crate::Update::append).
            pub fn append<E_: $crate::Attribute, V_: $crate::IntoValue<E_>, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, ::std::vec::Vec<E_>, A_>,
                items: impl ::std::iter::IntoIterator<Item = V_>,
            ) -> Self {
                Self(self.0.append(field, items))
            }

            /// Prepends `items` to a list; see
            /// [`Update::prepend`]($crate::Update::prepend).
            pub fn prepend<E_: $crate::Attribute, V_: $crate::IntoValue<E_>, A_: $crate::expr::Updatable>(
                self,
                field: impl ::std::ops::FnOnce(&<$item as $crate::Item>::Fields) -> $crate::Path<$item, ::std::vec::Vec<E_>, A_>,
                items: impl ::std::iter::IntoIterator<Item = V_>,
            ) -> Self {
                Self(self.0.prepend(field, items))
            }
        }

        impl ::std::convert::From<$update> for $crate::Update<$item> {
            fn from(update: $update) -> Self {
                update.0
            }
        }

        $( $crate::update_options!(@$versioned $update); )?
    };
    (@versioned $update:ident) => {
        impl $update {
            /// Applies the update only if the stored item still has `version`;
            /// otherwise [`Error::Stale`]($crate::Error::Stale).
            pub fn expect_version(self, version: u64) -> Self {
                Self(self.0.expect_version(version))
            }
        }
    };
}

/// The builder methods every generated query struct forwards to its
/// [`Query`](crate::Query): ordering, paging, cursor and running; `filter`
/// for queries of whole items, `fetch_items` for projections. `consistent`
/// is only given to queries of the table and of local indexes, where
/// DynamoDB allows strongly consistent reads.
#[doc(hidden)]
#[macro_export]
macro_rules! query_options {
    ($query:ident $(=> $sorted:ident)?, items $item:ident $(, $consistent:ident)?) => {
        $crate::query_options!(@common $query, $item $(, $consistent)?);
        $crate::query_options!(@sorted $query, [$($sorted)?]);

        impl $query {
            /// Keeps only items that meet `condition` (DynamoDB applies it
            /// after reading; `limit` still counts matches).
            pub fn filter(
                self,
                condition: impl ::std::ops::FnOnce(
                    &<$item as $crate::Item>::Fields,
                ) -> $crate::Condition<$item>,
            ) -> Self {
                Self(self.0.filter(
                    condition(&<$item as $crate::Item>::FIELDS).into_node(),
                ))
            }
        }
    };
    ($query:ident $(=> $sorted:ident)?, projection $row:ident of $item:ident $(, $consistent:ident)?) => {
        $crate::query_options!(@common $query, $row $(, $consistent)?);
        $crate::query_options!(@sorted $query, [$($sorted)?]);

        impl $query {
            /// Runs the query, then reads the full items of every result in
            /// batches of 100 (items deleted in between are left out).
            pub async fn fetch_items(
                &self,
                db: &$crate::Db,
            ) -> $crate::Result<::std::vec::Vec<$item>> {
                let rows = self.0.all(db).await?;
                let items = $item::batch_get(rows.iter().map($row::key)).send(db).await?;
                ::std::result::Result::Ok(items.into_iter().flatten().collect())
            }
        }
    };
    ($query:ident, rows $row:ident $(, $consistent:ident)?) => {
        $crate::query_options!(@common $query, $row $(, $consistent)?);
        $crate::query_options!(@sorted $query, []);
    };
    // A sort-key condition keeps the query's type, or (a multi-attribute
    // key) makes the sorted query's, which has no more sort conditions.
    (@sorted $query:ident, []) => {
        impl $crate::__private::SortKeyed for $query {
            type Sorted = Self;

            fn with_sort_key(
                self,
                condition: ::std::result::Result<$crate::SortKeyCondition, $crate::KeyError>,
            ) -> Self {
                Self(self.0.sort_key(condition))
            }
        }
    };
    (@sorted $query:ident, [$sorted:ident]) => {
        impl $crate::__private::SortKeyed for $query {
            type Sorted = $sorted;

            fn with_sort_key(
                self,
                condition: ::std::result::Result<$crate::SortKeyCondition, $crate::KeyError>,
            ) -> $sorted {
                $sorted(self.0.sort_key(condition))
            }
        }
    };
    (@common $query:ident, $row:ident $(, $consistent:ident)?) => {

        impl $query {
            /// Keeps the query's requests under `budget`'s read units per
            /// second; see [`Query::rate_limit`]($crate::Query::rate_limit).
            pub fn rate_limit(self, budget: &$crate::ReadBudget) -> Self {
                Self(self.0.rate_limit(budget))
            }

            /// Deletes every item the query matches (the partition, or
            /// the part a sort-key condition or `limit` selects), 25 per
            /// request, retrying unprocessed ones; returns how many. See
            /// [`Query::delete_all`]($crate::Query::delete_all).
            pub async fn delete_all(&self, db: &$crate::Db) -> $crate::Result<usize> {
                self.0.delete_all(db).await
            }

            /// Returns items in descending sort-key order.
            pub fn descending(self) -> Self {
                Self(self.0.descending())
            }

            /// How many items DynamoDB evaluates per request; see
            /// [`Query::page_size`]($crate::Query::page_size).
            pub fn page_size(self, items: u32) -> Self {
                Self(self.0.page_size(items))
            }

            /// Returns at most `items` items; see
            /// [`Query::limit`]($crate::Query::limit).
            pub fn limit(self, items: usize) -> Self {
                Self(self.0.limit(items))
            }

            /// Resumes after the position `cursor` from an earlier page.
            pub fn after(self, cursor: $crate::Cursor) -> Self {
                Self(self.0.after(cursor))
            }

            /// Makes `send` return the page just before `cursor` (a page's
            /// `before`), in the query's order; see
            /// [`Query::before`]($crate::Query::before).
            pub fn before(self, cursor: $crate::Cursor) -> Self {
                Self(self.0.before(cursor))
            }

            /// Makes `send` return the rows that do not decode as errors
            /// beside the good items instead of failing; see
            /// [`Query::lenient`]($crate::Query::lenient).
            pub fn lenient(self) -> Self {
                Self(self.0.lenient())
            }

            /// Runs the query and returns one page; see
            /// [`Query::send`]($crate::Query::send).
            pub async fn send(&self, db: &$crate::Db) -> $crate::Result<$crate::Page<$row>> {
                self.0.send(db).await
            }

            /// Counts the matching items without reading them back; see
            /// [`Query::count`]($crate::Query::count).
            pub async fn count(&self, db: &$crate::Db) -> $crate::Result<usize> {
                self.0.count(db).await
            }

            /// Runs the query to its end (or its limit) and returns every item.
            pub async fn all(&self, db: &$crate::Db) -> $crate::Result<::std::vec::Vec<$row>> {
                self.0.all(db).await
            }

            /// The items of the query, requesting pages as the stream is read.
            pub fn stream<'a>(
                &'a self,
                db: &'a $crate::Db,
            ) -> impl $crate::Stream<Item = $crate::Result<$row>> + 'a {
                self.0.stream(db)
            }
        }

        $( $crate::query_options!(@$consistent $query); )?
    };
    (@consistent $query:ident) => {
        impl $query {
            /// Reads with strong consistency.
            pub fn consistent(self) -> Self {
                Self(self.0.consistent())
            }
        }
    };
}

/// An enum field's generated enum: its stored text (`as_str`), `Display`,
/// The code of a generated tagged union (`[union.Name]`): its attribute
/// conversions (a map of the variant's fields, with the tag attribute
/// naming the variant), `tag`, `validate`, and `From` each variant's type.
#[doc(hidden)]
#[macro_export]
macro_rules! tagged_union {
    ($name:ident, $tag:literal { $($variant:ident($inner:ty) = $value:literal),+ $(,)? }) => {
        impl $name {
            /// The stored tag of this value's variant.
            pub const fn tag(&self) -> &'static str {
                match self {
                    $( $name::$variant(_) => $value, )+
                }
            }

            /// Checks the schema's `validate` rules of the variant's fields.
            pub fn validate(&self) -> Result<(), $crate::ValidationError> {
                match self {
                    $( $name::$variant(value) => value.validate(), )+
                }
            }
        }

        impl $crate::Attribute for $name {
            const DYNAMO_TYPE: &'static str = "M";

            fn to_attribute(&self) -> $crate::AttributeValue {
                let value = match self {
                    $( $name::$variant(value) => $crate::Attribute::to_attribute(value), )+
                };
                $crate::__private::tagged($tag, self.tag(), value)
            }

            fn from_attribute(
                value: $crate::AttributeValue,
            ) -> Result<Self, $crate::DecodeErrorKind> {
                let (tag, value) = $crate::__private::untag(value, $tag, stringify!($name))?;
                match tag.as_str() {
                    $( $value => Ok($name::$variant(
                        <$inner as $crate::Attribute>::from_attribute(value)?,
                    )), )+
                    _ => Err($crate::__private::unknown_tag($tag, tag, &[$($value),+])),
                }
            }
        }

        $(
            impl From<$inner> for $name {
                fn from(value: $inner) -> Self {
                    $name::$variant(value)
                }
            }
        )+
    };
}

/// `FromStr`, and its conversions to attribute values and key text.
#[doc(hidden)]
#[macro_export]
macro_rules! string_enum {
    ($name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $name {
            /// The stored text of this value.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                }
            }
        }

        impl $crate::Enum for $name {
            const VALUES: &'static [Self] = &[$( $name::$variant ),*];

            fn as_str(&self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::attr::UnknownEnumValue;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $crate::attr::enum_from_str(::std::stringify!($name), s)
            }
        }

        impl $crate::Attribute for $name {
            const DYNAMO_TYPE: &'static str = "S";

            fn to_attribute(&self) -> $crate::AttributeValue {
                $crate::AttributeValue::S(self.as_str().to_owned())
            }

            fn from_attribute(
                value: $crate::AttributeValue,
            ) -> ::std::result::Result<Self, $crate::DecodeErrorKind> {
                $crate::attr::decode_enum(value)
            }
        }

        impl $crate::KeyPart for $name {
            fn write_key(&self, out: &mut ::std::string::String, _width: ::std::option::Option<usize>) {
                out.push_str(self.as_str());
            }

            fn parse_key(
                text: &str,
                _width: ::std::option::Option<usize>,
            ) -> ::std::option::Option<Self> {
                $crate::attr::parse_enum(text)
            }
        }
    };
}

/// Generated code of a table with `serde = true` starts with this, so that
/// a missing `serde` feature of the runtime is one clear error instead of
/// an unresolved path in every derive.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "serde")]
macro_rules! require_serde {
    ($table:literal) => {};
}

/// Generated code of a table with `serde = true` starts with this, so that
/// a missing `serde` feature of the runtime is one clear error instead of
/// an unresolved path in every derive.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "serde"))]
macro_rules! require_serde {
    ($table:literal) => {
        ::std::compile_error!(::std::concat!(
            "table `",
            $table,
            "` has `serde = true` (or `json_schema = true`, or the Builder's): ",
            "turn on dynamo-runtime's `serde` feature: ",
            "dynamo-runtime = { ..., features = [\"serde\"] }"
        ));
    };
}

/// Generated code of a table with `json_schema = true` starts with this:
/// a missing `json-schema` feature is one clear error.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "json-schema")]
macro_rules! require_json_schema {
    ($table:literal) => {};
}

/// Generated code of a table with `json_schema = true` starts with this:
/// a missing `json-schema` feature is one clear error.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "json-schema"))]
macro_rules! require_json_schema {
    ($table:literal) => {
        ::std::compile_error!(::std::concat!(
            "table `",
            $table,
            "` has `json_schema = true` (or the Builder's): ",
            "turn on dynamo-runtime's `json-schema` feature: ",
            "dynamo-runtime = { ..., features = [\"json-schema\"] }"
        ));
    };
}

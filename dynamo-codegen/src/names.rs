//! Stage 4: the names pass. Every Rust identifier the output contains
//! (modules, types, functions, methods, associated items, enum variants,
//! fields, and parameters and locals that meet user names) is decided here,
//! once, into [`Names`]; emitters only read them and never build an
//! identifier from schema text.
//!
//! Names live in scopes as Rust has them: the schema folder's module, each
//! table's module (types, and the values of tuple structs and statics),
//! each type's associated items, each struct's fields, each method's
//! parameters. A public name declared twice in one scope is a
//! `dynamo::name_clash` diagnostic pointing at both schema places; a
//! private helper (a key template, a validation function) is made unique
//! instead, since no user ever writes it.
//!
//! How schema names become Rust names:
//! - fields: snake_case (`userId` → `user_id`); a keyword becomes a raw
//!   identifier (`r#type`), except `self`, `super`, `crate` and `Self`,
//!   which cannot be one and get a trailing `_` as prost does (`self_`);
//! - methods built from a field (`set_<field>`, `<field>_eq`) join the
//!   parts with single underscores, so `self_` gives `set_self` and `self_eq`;
//! - types: item and nested type names as written (`Self` → `Self_`);
//!   derived ones append or prepend (`OrderKey`, `NewOrder`,
//!   `Order<Index>Query`); enums are `<Owner><Field>` in UpperCamelCase,
//!   their variants the values in UpperCamelCase; collections their name
//!   in UpperCamelCase;
//! - modules: a table name in snake_case (`shop-prod` → `shop_prod`).

use std::{collections::BTreeMap, sync::Arc};

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span as IdentSpan};

use crate::{
    diagnostics::{Diagnostic, Diagnostics, SourceFile},
    ir::{self, FieldId, KeyValue, Owner, Span},
};

/// Names of generated code that are not the user's: Rust's prelude types
/// the generated code names unqualified.
const PRELUDE: [&str; 10] = [
    "String",
    "Option",
    "Result",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "IntoIterator",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: [&str; 4] = ["self", "Self", "super", "crate"];

/// The module that holds the migrations, beside the tables' modules.
pub const MIGRATIONS_MODULE: &str = "migrations";

/// The static of each table module describing the table.
pub const TABLE_STATIC: &str = "TABLE";

/// The enum of every item type of a table with a stream, which stream
/// records decode into.
pub const ANY_ITEM: &str = "AnyItem";

/// The enum of the keys of [`ANY_ITEM`]'s variants.
pub const ANY_KEY: &str = "AnyKey";

/// Whether `name` is an UpperCamelCase type name of ASCII letters and
/// digits (a schema rule for item and nested type names).
pub fn is_upper_camel(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `name` is snake_case ASCII, as rustc's lint wants it (a schema
/// rule for collection names).
pub fn is_snake(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.trim_matches('_').contains("__")
        && !name.chars().all(|c| c == '_')
}

/// Rust's keywords, strict and reserved, of every edition (`gen` is
/// reserved since 2024), which need a raw identifier. `self`, `Self`,
/// `super` and `crate` cannot have one ([`NOT_RAW`]).
const KEYWORDS: [&str; 52] = [
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// An identifier for `text`: raw (`r#type`) when it is a keyword.
fn ident(text: &str) -> Ident {
    if KEYWORDS.contains(&text) && !NOT_RAW.contains(&text) {
        Ident::new_raw(text, IdentSpan::call_site())
    } else {
        Ident::new(text, IdentSpan::call_site())
    }
}

/// The text of an identifier without `r#`, for composing other names.
pub fn stem(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").unwrap_or(&text).to_owned()
}

/// A value name (field, function, parameter) for a schema name; `None`
/// when it has no usable form.
fn value_name(name: &str) -> Option<Ident> {
    let snake = if is_snake(name) {
        name.to_owned()
    } else {
        name.to_snake_case()
    };
    if !is_snake(&snake) || snake.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(if NOT_RAW.contains(&snake.as_str()) {
        Ident::new(&format!("{snake}_"), IdentSpan::call_site())
    } else {
        ident(&snake)
    })
}

/// A type name for an UpperCamelCase schema name.
fn type_name(name: &str) -> Ident {
    if NOT_RAW.contains(&name) {
        Ident::new(&format!("{name}_"), IdentSpan::call_site())
    } else {
        ident(name)
    }
}

/// `parts` joined by single underscores: a snake_case name made of others
/// (which may start or end with `_`).
fn join(parts: &[&str]) -> Ident {
    let mut out = String::new();
    for part in parts.iter().map(|p| p.trim_matches('_')) {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(part);
    }
    ident(&out)
}

/// A name's stem in UpperCamelCase, for types derived from it.
fn camel(name: &str) -> String {
    name.to_upper_camel_case()
}

/// Where a name comes from: a place in a schema file, or the generated
/// code itself.
#[derive(Clone)]
struct Origin {
    place: Option<(Arc<SourceFile>, Span)>,
    what: String,
}

impl Origin {
    fn at(file: &Arc<SourceFile>, span: &Span, what: impl Into<String>) -> Origin {
        Origin {
            place: Some((Arc::clone(file), span.clone())),
            what: what.into(),
        }
    }

    fn builtin(what: impl Into<String>) -> Origin {
        Origin {
            place: None,
            what: what.into(),
        }
    }
}

/// Names declared in one Rust scope.
struct Scope {
    what: String,
    names: BTreeMap<String, Origin>,
}

impl Scope {
    fn new(what: impl Into<String>) -> Scope {
        Scope {
            what: what.into(),
            names: BTreeMap::new(),
        }
    }

    /// Declares a public name; a clash is a diagnostic.
    fn declare(&mut self, names: &mut Pass<'_>, ident: &Ident, origin: Origin) {
        let key = stem(ident);
        match self.names.get(&key) {
            None => {
                self.names.insert(key, origin);
            }
            Some(first) => names.clash(&self.what, ident, first, &origin),
        }
    }

    /// Declares a name the generated code itself defines here.
    fn reserve(&mut self, text: &str, what: &str) {
        self.names
            .entry(text.to_owned())
            .or_insert_with(|| Origin::builtin(what));
    }

    /// A private helper's name: `ident`, or with a number appended until
    /// it is unique.
    fn private(&mut self, ident: Ident, what: &str) -> Ident {
        let base = stem(&ident);
        let mut candidate = ident;
        let mut n = 2;
        while self.names.contains_key(&stem(&candidate)) {
            let sep = if base.ends_with('_') { "" } else { "_" };
            candidate = self::ident(&format!("{base}{sep}{n}"));
            n += 1;
        }
        self.reserve(&stem(&candidate), what);
        candidate
    }
}

/// A parameter name that differs from the names already taken in its
/// signature: `base`, else `base` with `_` appended until it does.
fn fresh(base: &str, taken: &[Ident]) -> Ident {
    let mut text = base.to_owned();
    while taken.iter().any(|t| stem(t) == text) {
        text.push('_');
    }
    ident(&text)
}

/// Every name of the output, by table.
#[derive(Debug, Clone)]
pub struct Names {
    /// The tables, in schema order.
    pub tables: Vec<TableNames>,
    /// The item types `transform` steps read, by migration.
    pub shapes: Vec<crate::shapes::Shapes>,
}

/// The names of one table's module.
#[derive(Debug, Clone)]
pub struct TableNames {
    /// The module.
    pub module: Ident,
    /// By [`ir::ItemId`].
    pub items: Vec<ItemNames>,
    /// By [`ir::NestedId`].
    pub nested: Vec<TypeNames>,
    /// Each union's enum (its variants are its nested types' names), by
    /// [`ir::UnionId`].
    pub unions: Vec<Ident>,
    /// By [`ir::EnumId`].
    pub enums: Vec<EnumNames>,
    /// By collection.
    pub collections: Vec<CollectionNames>,
}

/// The names of an item type.
#[derive(Debug, Clone)]
pub struct ItemNames {
    /// The struct.
    pub ty: Ident,
    /// The key struct.
    pub key: Ident,
    /// The constructor's argument struct.
    pub new: Ident,
    /// The struct of typed field paths.
    pub fields_struct: Ident,
    /// The update builder.
    pub update: Ident,
    /// Each field, by [`FieldId`].
    pub fields: Vec<Ident>,
    /// The associated const of each key template, by [`ir::KeyId`] (`None`
    /// for a plain key).
    pub keys: Vec<Option<Ident>>,
    /// The validation function of each field that has rules.
    pub validators: Vec<Option<Ident>>,
    /// Each access, as in [`ir::Item::accesses`].
    pub accesses: Vec<AccessNames>,
    /// Each field update, as in [`ir::Item::updates`]: the methods of
    /// those index keys are built from.
    pub updates: Vec<Option<UpdateNames>>,
}

/// The names of a query's method on one sort-key field.
#[derive(Debug, Clone)]
pub struct SortFieldNames {
    /// The method: the field's name. Its parameters are the earlier
    /// fields, named as the fields.
    pub method: Ident,
    /// The parameter of the closure turning a comparison into the key's
    /// condition (it must differ from the earlier fields' names).
    pub compare: Ident,
}

/// The names of one way to query an item type.
#[derive(Debug, Clone)]
pub struct AccessNames {
    /// The query function on the item type.
    pub function: Ident,
    /// The query builder.
    pub query: Ident,
    /// The query builder once its sort-key condition is chosen, for a
    /// multi-attribute sort key (one condition, read left to right): it
    /// has no sort-key methods.
    pub sorted: Option<Ident>,
    /// The row struct of an index that does not store whole items.
    pub projection: Option<Ident>,
    /// The method of each sort field, as in [`ir::Access::sort_fields`].
    pub sort_fields: Vec<SortFieldNames>,
}

/// A method and its parameters besides `self`, in order.
#[derive(Debug, Clone)]
pub struct MethodNames {
    /// The method.
    pub method: Ident,
    /// Its parameters.
    pub params: Vec<Ident>,
}

/// The update methods of one field index keys are built from.
#[derive(Debug, Clone)]
pub struct UpdateNames {
    /// `set_<field>`, taking the field's value then its partners'.
    pub set: MethodNames,
    /// The parameter of the update's key in the closure rendering a
    /// rewritten index key.
    pub key: Ident,
    /// `remove_<field>`.
    pub remove: Option<Ident>,
}

/// The names of a nested type.
#[derive(Debug, Clone)]
pub struct TypeNames {
    /// The struct.
    pub ty: Ident,
    /// Each field, by [`FieldId`].
    pub fields: Vec<Ident>,
    /// The validation function of each field that has rules.
    pub validators: Vec<Option<Ident>>,
}

/// The names of an enum.
#[derive(Debug, Clone)]
pub struct EnumNames {
    /// The enum.
    pub ty: Ident,
    /// Each value's variant, in order.
    pub variants: Vec<Ident>,
}

/// The names of a collection.
#[derive(Debug, Clone)]
pub struct CollectionNames {
    /// The enum of its item types.
    pub ty: Ident,
    /// Its query builder.
    pub query: Ident,
}

/// The state of the pass: where diagnostics go, and which pairs of
/// places have clashed already (two fields with one Rust name clash in
/// every name made from them; the first clash is the one reported).
struct Pass<'a> {
    diagnostics: &'a mut Diagnostics,
    reported: Vec<(String, Span, String, Span)>,
}

impl Pass<'_> {
    fn clash(&mut self, scope: &str, ident: &Ident, first: &Origin, second: &Origin) {
        let name = stem(ident);
        let (Some((file, span)), other) = (&second.place, &first.place) else {
            return;
        };
        let Some((other_file, other_span)) = other else {
            let d = Diagnostic::error(
                "dynamo::name_clash",
                file,
                span.clone(),
                format!(
                    "{} generates `{name}` in {scope}, which already has `{name}` ({})",
                    second.what, first.what
                ),
                format!("generates `{name}`"),
            )
            .help(if second.what.starts_with("field ") {
                format!(
                    "rename the field; it can keep its stored name with `attribute = \"{name}\"`"
                )
            } else {
                format!("rename it in the schema: the generated code uses that `{name}`")
            });
            self.diagnostics.push(d);
            return;
        };
        let pair = (
            other_file.name.clone(),
            other_span.clone(),
            file.name.clone(),
            span.clone(),
        );
        if self.reported.contains(&pair) {
            return;
        }
        self.reported.push(pair);
        let fields = [first, second].iter().any(|o| o.what.starts_with("field "));
        let d = Diagnostic::error(
            "dynamo::name_clash",
            file,
            span.clone(),
            format!(
                "{} and {} both generate `{name}` in {scope}",
                first.what, second.what
            ),
            format!("generates `{name}`"),
        )
        .related(other_file, other_span.clone(), format!("also generates `{name}`"))
        .help(if fields {
            "rename one of them; a renamed field keeps its stored attribute with `attribute = \"...\"`"
        } else {
            "rename one of them: generated names come from the schema's names, and two must not meet"
        });
        self.diagnostics.push(d);
    }

    fn unusable(
        &mut self,
        file: &Arc<SourceFile>,
        span: &Span,
        code: &'static str,
        message: String,
        help: &str,
    ) {
        let d = Diagnostic::error(code, file, span.clone(), message, "no usable Rust name")
            .help(help.to_owned());
        self.diagnostics.push(d);
    }
}

/// Decides every name of `schema`'s output. Clashes and names with no
/// usable Rust form go to `diagnostics`; the names are only meaningful
/// when there are none.
pub fn names(schema: &ir::Schema, diagnostics: &mut Diagnostics) -> Names {
    let mut pass = Pass {
        diagnostics,
        reported: Vec::new(),
    };
    let mut root = Scope::new("the generated `mod.rs`");
    root.reserve(MIGRATIONS_MODULE, "the migrations module");
    let mut tables = Vec::new();
    for table in &schema.tables {
        let file = &table.source.0;
        let module = module_name(&table.def.name);
        match &module {
            Some(m) => root.declare(
                &mut pass,
                m,
                Origin::at(file, &table.span, format!("table `{}`", table.def.name)),
            ),
            None => pass.unusable(
                file,
                &table.span,
                "dynamo::resource_name",
                format!("table name `{}` makes no Rust module name", table.def.name),
                "give the table a name with a letter in it",
            ),
        }
        tables.push(table_names(
            &mut pass,
            table,
            module.unwrap_or_else(|| ident("_")),
        ));
    }
    Names {
        tables,
        shapes: Vec::new(),
    }
}

/// The module of a table: `shop-prod` becomes `shop_prod`.
pub fn module_name(table: &str) -> Option<Ident> {
    let mut name = table.to_snake_case();
    if name.is_empty() {
        return None;
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    Some(if NOT_RAW.contains(&name.as_str()) {
        ident(&format!("{name}_"))
    } else {
        ident(&name)
    })
}

fn table_names(pass: &mut Pass<'_>, table: &ir::Table, module: Ident) -> TableNames {
    let file = &table.source.0;
    let module_what = format!("module `{}`", stem(&module));
    let mut types = Scope::new(format!("the types of {module_what}"));
    let mut values = Scope::new(format!("the values of {module_what}"));
    for name in PRELUDE {
        types.reserve(name, "a name of Rust's prelude");
        values.reserve(name, "a name of Rust's prelude");
    }
    values.reserve(TABLE_STATIC, "the table description");
    if table.def.stream.is_some() {
        types.reserve(
            ANY_ITEM,
            "the enum of the table's item types, for its stream",
        );
        types.reserve(ANY_KEY, "the enum of the table's item keys, for its stream");
    }

    // Types first, in schema order, so that clashes point at the later one.
    let nested: Vec<TypeNames> = table
        .nested
        .iter()
        .map(|n| {
            let ty = type_name(&n.name);
            types.declare(
                pass,
                &ty,
                Origin::at(file, &n.span, format!("nested type `{}`", n.name)),
            );
            let (fields, validators) =
                field_names(pass, file, &n.name, &n.fields, &["validate"], &[]);
            TypeNames {
                ty,
                fields,
                validators,
            }
        })
        .collect();
    let unions: Vec<Ident> = table
        .unions
        .iter()
        .map(|u| {
            let ty = type_name(&u.name);
            types.declare(
                pass,
                &ty,
                Origin::at(file, &u.span, format!("union `{}`", u.name)),
            );
            ty
        })
        .collect();
    let enums: Vec<EnumNames> = table
        .enums
        .iter()
        .map(|e| enum_names(pass, table, e, &mut types))
        .collect();
    let items: Vec<ItemNames> = table
        .items
        .iter()
        .map(|item| item_names(pass, table, item, &mut types, &mut values))
        .collect();
    let collections: Vec<CollectionNames> = table
        .collections
        .iter()
        .map(|c| {
            let ty = type_name(&camel(&c.name));
            let query = ident(&format!("{}Query", camel(&c.name)));
            let origin = Origin::at(file, &c.span, format!("collection `{}`", c.name));
            types.declare(pass, &ty, origin.clone());
            types.declare(pass, &query, origin.clone());
            values.declare(pass, &query, origin);
            let mut methods = Scope::new(format!("the items of `{}`", stem(&ty)));
            methods.reserve("query", "the collection's query function");
            methods.reserve("from_row", "the collection's row decoder");
            for id in &c.items {
                let item = table.item(*id);
                methods.declare(
                    pass,
                    &type_name(&item.name),
                    Origin::at(file, &item.span, format!("item type `{}`", item.name)),
                );
            }
            CollectionNames { ty, query }
        })
        .collect();
    TableNames {
        module,
        items,
        nested,
        unions,
        enums,
        collections,
    }
}

/// The Rust names of fields (`None` where a name has no usable form, with
/// a diagnostic) and of the validation functions of those with rules, as
/// associated items beside `reserved`.
fn field_names(
    pass: &mut Pass<'_>,
    file: &Arc<SourceFile>,
    owner: &str,
    fields: &[ir::Field],
    reserved: &[&str],
    reserved_fields: &[&str],
) -> (Vec<Ident>, Vec<Option<Ident>>) {
    let mut scope = Scope::new(format!("the fields of `{owner}`"));
    for r in reserved_fields {
        scope.reserve(r, "a field of the generated type");
    }
    let idents: Vec<Ident> = fields
        .iter()
        .map(|f| match value_name(&f.name) {
            Some(id) => {
                scope.declare(
                    pass,
                    &id,
                    Origin::at(file, &f.span, format!("field `{}`", f.name)),
                );
                id
            }
            None => {
                pass.unusable(
                    file,
                    &f.span,
                    "dynamo::field_name",
                    format!("field name `{}` makes no Rust field name", f.name),
                    "use ASCII letters, digits and `_`, not starting with a digit; keep the \
                     stored name with `attribute = \"...\"`",
                );
                ident("_field")
            }
        })
        .collect();
    let mut helpers = Scope::new(format!("the associated items of `{owner}`"));
    for r in reserved {
        helpers.reserve(r, "a method of the generated type");
    }
    let validators = fields
        .iter()
        .zip(&idents)
        .map(|(f, id)| {
            (!f.validate.is_empty())
                .then(|| helpers.private(join(&["validate", &stem(id)]), "a validation function"))
        })
        .collect();
    (idents, validators)
}

fn enum_names(
    pass: &mut Pass<'_>,
    table: &ir::Table,
    e: &ir::EnumDef,
    types: &mut Scope,
) -> EnumNames {
    let file = &table.source.0;
    let owner = match e.owner {
        Owner::Item(id) => &table.item(id).name,
        Owner::Nested(id) => &table.nested(id).name,
    };
    let field = value_name(&e.field).map_or_else(|| camel(&e.field), |f| camel(&stem(&f)));
    let ty = ident(&format!("{owner}{field}"));
    types.declare(
        pass,
        &ty,
        Origin::at(
            file,
            &e.span,
            format!("the enum of field `{owner}.{}`", e.field),
        ),
    );
    let mut scope = Scope::new(format!("the variants of `{}`", stem(&ty)));
    scope.reserve("as_str", "the enum's `as_str`");
    let variants = e
        .values
        .iter()
        .map(|v| {
            let text = camel(&v.value);
            if !is_upper_camel(&text) {
                pass.unusable(
                    file,
                    &v.span,
                    "dynamo::enum_value",
                    format!("enum value {:?} does not make a Rust variant name", v.value),
                    "enum values need a letter first, e.g. `v1` instead of `1`; values become \
                     UpperCamelCase variants",
                );
                return ident("Invalid");
            }
            let variant = type_name(&text);
            scope.declare(
                pass,
                &variant,
                Origin::at(file, &v.span, format!("enum value {:?}", v.value)),
            );
            variant
        })
        .collect();
    EnumNames { ty, variants }
}

/// The methods every item type has (from `item_operations!` and the
/// generator), which its query functions must not meet.
const ITEM_METHODS: [&str; 11] = [
    "new",
    "key",
    "get",
    "put",
    "delete",
    "batch_get",
    "batch_put",
    "batch_delete",
    "scan",
    "statement",
    "update",
];

/// The methods every update builder has (from `update_options!`).
const UPDATE_METHODS: [&str; 14] = [
    "when",
    "send",
    "return_old",
    "expect_version",
    "set",
    "set_if_not_exists",
    "remove",
    "add",
    "increment",
    "decrement",
    "add_items",
    "delete_items",
    "append",
    "prepend",
];

/// The methods every query builder has (from `query_options!`).
const QUERY_METHODS: [&str; 15] = [
    "descending",
    "page_size",
    "limit",
    "after",
    "lenient",
    "send",
    "count",
    "all",
    "stream",
    "consistent",
    "filter",
    "fetch_items",
    "delete_all",
    "rate_limit",
    "before",
];

fn item_names(
    pass: &mut Pass<'_>,
    table: &ir::Table,
    item: &ir::Item,
    types: &mut Scope,
    values: &mut Scope,
) -> ItemNames {
    let file = &table.source.0;
    let n = &item.name;
    let at = |what: String| Origin::at(file, &item.span, what);
    let ty = type_name(n);
    let key = ident(&format!("{n}Key"));
    let new = ident(&format!("New{n}"));
    let fields_struct = ident(&format!("{n}Fields"));
    let update = ident(&format!("{n}Update"));
    types.declare(pass, &ty, at(format!("item type `{n}`")));
    types.declare(pass, &key, at(format!("the key of item type `{n}`")));
    types.declare(
        pass,
        &new,
        at(format!("the constructor argument of item type `{n}`")),
    );
    types.declare(
        pass,
        &fields_struct,
        at(format!("the field paths of item type `{n}`")),
    );
    types.declare(pass, &update, at(format!("the update of item type `{n}`")));
    values.declare(pass, &update, at(format!("the update of item type `{n}`")));

    // `unmodeled` holds the attributes the item type does not model.
    let unmodeled: &[&str] = if table.keep_unmodeled {
        &["unmodeled"]
    } else {
        &[]
    };
    let (fields, validators) = field_names(pass, file, n, &item.fields, &[], unmodeled);
    let field = |id: FieldId| &fields[id.0];

    // The item type's associated items: the fixed methods, the query
    // functions, then private helpers.
    let mut methods = Scope::new(format!("the associated items of `{n}`"));
    for m in ITEM_METHODS {
        methods.reserve(m, "a method every item type has");
    }
    for v in validators.iter().flatten() {
        methods.reserve(&stem(v), "a validation function");
    }
    let accesses: Vec<AccessNames> = item
        .accesses
        .iter()
        .map(|access| {
            access_names(
                pass,
                table,
                item,
                access,
                &fields,
                types,
                values,
                &mut methods,
            )
        })
        .collect();
    let keys = item
        .keys
        .iter()
        .map(|k| match k {
            KeyValue::Template(t) => {
                Some(methods.private(ident(&key_const(&t.attribute)), "a key template"))
            }
            KeyValue::Field { .. } => None,
        })
        .collect();

    let mut update_scope = Scope::new(format!("the methods of `{n}Update`"));
    for m in UPDATE_METHODS {
        update_scope.reserve(m, "a method every update has");
    }
    let updates = item
        .updates
        .iter()
        .map(|u| {
            if !u.keyed() {
                return None;
            }
            let f = item.field(u.field);
            let id = field(u.field);
            let s = stem(id);
            let origin = || Origin::at(file, &f.span, format!("field `{}`", f.name));
            let mut declare = |name: Ident| {
                update_scope.declare(pass, &name, origin());
                name
            };
            let set = declare(join(&["set", &s]));
            let remove = u.remove.then(|| declare(join(&["remove", &s])));
            let mut params: Vec<Ident> = vec![id.clone()];
            params.extend(u.partners.iter().map(|p| field(*p).clone()));
            let key = fresh("key", &params);
            Some(UpdateNames {
                set: MethodNames {
                    method: set,
                    params,
                },
                key,
                remove,
            })
        })
        .collect();

    ItemNames {
        ty,
        key,
        new,
        fields_struct,
        update,
        fields,
        keys,
        validators,
        accesses,
        updates,
    }
}

/// The associated const of a key attribute's template: `GSI1PK` for
/// `gsi1pk`.
fn key_const(attribute: &str) -> String {
    let name = attribute.to_shouty_snake_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("KEY_{name}")
    } else {
        name
    }
}

#[allow(clippy::too_many_arguments)]
fn access_names(
    pass: &mut Pass<'_>,
    table: &ir::Table,
    item: &ir::Item,
    access: &ir::Access,
    fields: &[Ident],
    types: &mut Scope,
    values: &mut Scope,
    methods: &mut Scope,
) -> AccessNames {
    let file = &table.source.0;
    let n = &item.name;
    let (function, query, origin) = match access.index {
        None => (
            ident("query"),
            ident(&format!("{n}Query")),
            Origin::at(file, &item.span, format!("the query of item type `{n}`")),
        ),
        Some(id) => {
            let index = table.index_def(id);
            (
                join(&["query", &index.name.to_snake_case()]),
                ident(&format!("{n}{}Query", camel(&index.name))),
                Origin::at(
                    file,
                    &table.index_spans[id.0],
                    format!("the query of item type `{n}` by index `{}`", index.name),
                ),
            )
        }
    };
    methods.declare(pass, &function, origin.clone());
    types.declare(pass, &query, origin.clone());
    values.declare(pass, &query, origin.clone());
    let sorted = (access.multi_attribute && !access.sort_fields.is_empty()).then(|| {
        let sorted = ident(&format!(
            "{}SortedQuery",
            query.to_string().trim_end_matches("Query")
        ));
        types.declare(pass, &sorted, origin.clone());
        values.declare(pass, &sorted, origin.clone());
        sorted
    });
    let projection = (!access.whole_items).then(|| {
        let index = access
            .index
            .map_or(String::new(), |id| camel(&table.index_def(id).name));
        let projection = ident(&format!("{n}{index}Projection"));
        types.declare(pass, &projection, origin.clone());
        projection
    });
    if let Some(projection) = &projection {
        let mut scope = Scope::new(format!("the associated items of `{}`", stem(projection)));
        scope.reserve("key", "the projection's `key`");
        scope.reserve("from_row", "the projection's row decoder");
    }
    let mut scope = Scope::new(format!("the methods of `{}`", stem(&query)));
    for m in QUERY_METHODS {
        scope.reserve(m, "a method every query has");
    }
    let sort_fields = access
        .sort_fields
        .iter()
        .map(|c| {
            let f = item.field(c.field);
            let method = fields[c.field.0].clone();
            scope.declare(
                pass,
                &method,
                Origin::at(file, &f.span, format!("field `{}`", f.name)),
            );
            let earlier: Vec<Ident> = c.earlier.iter().map(|id| fields[id.0].clone()).collect();
            SortFieldNames {
                method,
                compare: fresh("c", &earlier),
            }
        })
        .collect();
    AccessNames {
        function,
        query,
        sorted,
        projection,
        sort_fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reserved method names are exactly the methods the runtime's
    /// macros define (plus `new` and `update`, which the generator and
    /// `update_options!` put on the item type), so a macro change cannot
    /// leave a clash for rustc to find.
    #[test]
    fn reserved_methods_are_the_runtime_macros_methods() {
        let text = include_str!("../../dynamo-runtime/src/macros.rs");
        // `tagged_union!`'s methods are a union's, not an item type's.
        let (before, rest) = text.split_once("macro_rules! tagged_union").unwrap();
        let macros = format!("{before}{}", &rest[rest.find("macro_rules!").unwrap()..]);
        let after = |pattern| macros.split(pattern).skip(1);
        let mut defined: Vec<&str> = after("pub fn ")
            .chain(after("pub async fn "))
            .filter_map(|rest| rest.split(['(', '<']).next())
            .collect();
        defined.push("new");
        defined.sort_unstable();
        defined.dedup();
        let mut reserved: Vec<&str> = ITEM_METHODS
            .iter()
            .chain(&UPDATE_METHODS)
            .chain(&QUERY_METHODS)
            .copied()
            .collect();
        reserved.sort_unstable();
        reserved.dedup();
        assert_eq!(reserved, defined);
    }

    #[test]
    fn schema_names_become_rust_names() {
        let name = |n: &str| value_name(n).map(|i| i.to_string());
        assert_eq!(name("userId").as_deref(), Some("user_id"));
        assert_eq!(name("type").as_deref(), Some("r#type"));
        assert_eq!(name("gen").as_deref(), Some("r#gen"));
        assert_eq!(name("yield").as_deref(), Some("r#yield"));
        assert_eq!(name("self").as_deref(), Some("self_"));
        assert_eq!(name("Self").as_deref(), Some("self_"));
        assert_eq!(name("self_").as_deref(), Some("self_"));
        assert_eq!(name("a__b").as_deref(), Some("a_b"));
        assert_eq!(name("1st_line"), None);
        assert_eq!(name("_"), None);
        assert_eq!(type_name("Self").to_string(), "Self_");
        assert_eq!(
            join(&["set", "self_", "if_not_exists"]).to_string(),
            "set_self_if_not_exists"
        );
        assert_eq!(join(&["query", "by_status"]).to_string(), "query_by_status");
        assert_eq!(module_name("shop-prod").unwrap().to_string(), "shop_prod");
        assert_eq!(module_name("2024.data").unwrap().to_string(), "_2024_data");
        assert_eq!(module_name("self").unwrap().to_string(), "self_");
        assert_eq!(key_const("gsi1-pk"), "GSI1_PK");
    }

    #[test]
    fn parameters_avoid_the_names_they_meet() {
        let taken = [ident("low"), ident("low_")];
        assert_eq!(fresh("low", &taken).to_string(), "low__");
        assert_eq!(fresh("high", &taken).to_string(), "high");
    }
}

//! An item type: its struct, key struct, constructor, key templates, the
//! `Item` and `Key` impls, field paths and operations (its update builder
//! and queries are `update` and `query`).

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{
    ItemCx, TableCx, doc,
    keys::{compute_own, key_text, key_values, render_key},
    link,
    types::{
        decode_call, default_expr, derives, encode_field, field_def, path, rust_type, serde_rename,
        upper_case_acronym, validate_body, validator,
    },
};
use crate::ir::{Change, FieldId, FieldType, IntType, KeyId, KeyValue};

pub(super) fn emit_item(cx: ItemCx<'_>) -> TokenStream {
    let structs = emit_structs(cx);
    let inherent = emit_inherent(cx);
    let operations = emit_operations(cx);
    let item_impl = emit_item_impl(cx);
    let key_impl = emit_key_impl(cx);
    let fields = emit_fields(cx);
    quote! {
        #structs
        #inherent
        #operations
        #item_impl
        #key_impl
        #fields
    }
}

fn emit_structs(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let table = cx.table();
    let keys_text = |access: &crate::ir::Access| {
        std::iter::once(access.partition)
            .chain(access.sort)
            .map(|k| key_text(cx, k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "{}\n\nStored in table `{}` with keys {}.",
        item.doc
            .clone()
            .unwrap_or_else(|| format!("An item of type `{}`.", item.name)),
        table.def.name,
        keys_text(item.table_access())
    );
    for access in &item.accesses[1..] {
        if let Some(id) = access.index {
            text.push_str(&format!(
                "\nIn index `{}` with {}.",
                table.index_def(id).name,
                keys_text(access)
            ));
        }
    }
    let item_doc = doc(&text);
    let ty = &names.ty;
    let skip = table.serde.then(|| quote!(#[serde(skip)]));
    let unmodeled = table.keep_unmodeled.then(|| {
        quote! {
            /// The attributes of the stored item this type does not model
            /// (another writer's), written back by a `put`.
            #skip
            pub unmodeled: dynamo::Unmodeled,
        }
    });
    let fields = item
        .fields
        .iter()
        .zip(&names.fields)
        .map(|(f, i)| field_def(cx.cx, f, i));
    let key_fields = item.key_fields();
    let key_defs = key_fields.iter().map(|&id| {
        let f = item.field(id);
        let ident = &names.fields[id.0];
        let ty = rust_type(cx.cx, &f.ty);
        let docs = doc(&format!("The item's `{}`.", f.name));
        let rename = serde_rename(cx.cx, &f.name, ident);
        quote!(#docs #rename pub #ident: #ty,)
    });
    let required = item.required_fields();
    let new_defs = required
        .iter()
        .map(|&id| field_def(cx.cx, item.field(id), &names.fields[id.0]));
    let attributes = &cx.table().attributes;
    let item_derives = derives(
        cx.cx,
        item.fields.iter().map(|f| &f.ty),
        false,
        &[&attributes.items, &item.attributes],
    );
    let key_derives = derives(
        cx.cx,
        key_fields.iter().map(|&id| &item.field(id).ty),
        true,
        &[&attributes.keys],
    );
    let new_derives = derives(
        cx.cx,
        required.iter().map(|&id| &item.field(id).ty),
        false,
        &[&attributes.new],
    );
    let (key, new) = (&names.key, &names.new);
    let key_doc = doc(&format!(
        "The key of a {}: the fields its table key uses.",
        link(&item.name, &ty.to_string())
    ));
    let new_doc = doc(&format!(
        "The fields of a new {} that have no default; see {}.",
        link(&item.name, &ty.to_string()),
        link(&format!("{}::new", item.name), &format!("{ty}::new"))
    ));
    let acronym = upper_case_acronym(&item.name);
    quote! {
        #item_doc
        #item_derives
        #acronym
        pub struct #ty {
            #(#fields)*
            #unmodeled
        }

        #key_doc
        #key_derives
        pub struct #key {
            #(#key_defs)*
        }

        #new_doc
        #new_derives
        pub struct #new {
            #(#new_defs)*
        }
    }
}

/// The value of a field in a new item.
fn initial(cx: ItemCx<'_>, id: FieldId) -> TokenStream {
    let item = cx.item;
    let field = item.field(id);
    let ident = &cx.names.fields[id.0];
    let kept = if item
        .timestamps
        .is_some_and(|t| t.created == id || t.updated == id)
    {
        Some(quote!(now))
    } else if item.version.is_some_and(|v| v.field == id) {
        Some(quote!(0))
    } else if item.ttl == Some(id) {
        item.expires_after.map(|secs| {
            let secs = Literal::u64_unsuffixed(secs);
            let at = quote!(dynamo::attr::expires(now, #secs));
            match &field.ty {
                FieldType::Int(t) => {
                    let t = quote::format_ident!("{}", t.name());
                    quote!(#at.as_second() as #t)
                }
                _ => at,
            }
        })
    } else {
        None
    };
    if field.computed.is_some() {
        // Rendered once the other fields are in place (`new`).
        return if field.optional {
            quote!(None)
        } else {
            quote!(String::new())
        };
    }
    match (kept, &field.default) {
        (Some(v), _) if field.optional => quote!(Some(#v)),
        (Some(v), _) => v,
        (None, Some(d)) => default_expr(cx.cx, field, d),
        (None, None) if field.optional => quote!(None),
        (None, None) => quote!(init.#ident),
    }
}

/// `new`, the key templates and the validation functions.
fn emit_inherent(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let (ty, new) = (&names.ty, &names.new);
    let values = (0..item.fields.len()).map(FieldId).map(|id| {
        let ident = &names.fields[id.0];
        let value = initial(cx, id);
        quote!(#ident: #value,)
    });
    let unmodeled = cx
        .table()
        .keep_unmodeled
        .then(|| quote!(unmodeled: dynamo::Unmodeled::default(),));
    let uses_now =
        item.timestamps.is_some() || (item.ttl.is_some() && item.expires_after.is_some());
    let now = uses_now.then(|| quote!(let now = dynamo::Timestamp::now();));
    let computed: Vec<TokenStream> = computed_values(cx, &quote!(item))
        .into_iter()
        .map(|(id, value)| {
            let ident = &names.fields[id.0];
            quote!(item.#ident = #value;)
        })
        .collect();
    let built = if computed.is_empty() {
        quote!(Self { #(#values)* #unmodeled })
    } else {
        quote! {
            let mut item = Self { #(#values)* #unmodeled };
            #(#computed)*
            item
        }
    };
    let param = if item.required_fields().is_empty() {
        quote!(_init: #new)
    } else {
        quote!(init: #new)
    };
    let mut kept = Vec::new();
    if item.timestamps.is_some() {
        kept.push("timestamps now");
    }
    if item.version.is_some() {
        kept.push("version 0");
    }
    if item.expires_after.is_some() && item.ttl.is_some() {
        kept.push("the ttl from `expires_after`");
    }
    let new_doc = doc(&format!(
        "A new `{}`: `init`'s fields, defaults for the rest{}.",
        item.name,
        if kept.is_empty() {
            String::new()
        } else {
            format!(" ({})", kept.join(", "))
        }
    ));
    let templates = item.keys.iter().zip(&names.keys).filter_map(|(k, name)| {
        let (KeyValue::Template(t), Some(name)) = (k, name) else {
            return None;
        };
        let (attribute, text) = (&t.attribute, &t.text);
        Some(quote!(const #name: dynamo::KeyTemplate<Self> = dynamo::KeyTemplate::new(#attribute, #text);))
    });
    let previous = item.previous.keys.iter().map(|t| {
        let name = previous_name(t);
        let (attribute, text) = (&t.attribute, &t.text);
        quote! {
            /// The template before a migration changed it (`rewrite_keys`).
            const #name: dynamo::KeyTemplate<Self> = dynamo::KeyTemplate::new(#attribute, #text);
        }
    });
    let templates = templates.chain(previous);
    let validators = item
        .fields
        .iter()
        .zip(&names.validators)
        .filter_map(|(f, v)| v.as_ref().map(|v| validator(cx.cx, &item.name, f, v)));
    quote! {
        impl #ty {
            #new_doc
            pub fn new(#param) -> Self {
                #now
                #built
            }

            #(#templates)*
            #(#validators)*
        }
    }
}

/// Each computed field and its value rendered from the fields of
/// `binding` (an item of the type).
fn computed_values(cx: ItemCx<'_>, binding: &TokenStream) -> Vec<(FieldId, TokenStream)> {
    let item = cx.item;
    (0..item.fields.len())
        .map(FieldId)
        .filter(|&id| item.field(id).computed.is_some())
        .map(|id| {
            let value = compute_own(cx, id, |f| {
                let i = &cx.names.fields[f.0];
                quote!(#binding.#i)
            });
            (id, value)
        })
        .collect()
}

/// The single-item, batch, scan and PartiQL entry points.
fn emit_operations(cx: ItemCx<'_>) -> TokenStream {
    let (ty, key) = (&cx.names.ty, &cx.names.key);
    if cx.item.version.is_some() {
        quote!(dynamo::item_operations!(#ty, #key, versioned);)
    } else {
        quote!(dynamo::item_operations!(#ty, #key);)
    }
}

fn emit_item_impl(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let (ty, key, fields_struct) = (&names.ty, &names.key, &names.fields_struct);
    let type_name = &item.name;
    let own = |id: FieldId| {
        let ident = &names.fields[id.0];
        quote!(&self.#ident)
    };
    let this = quote!(Self);
    // Index keys over optional fields are written when the fields have
    // values (the item is then in the sparse index).
    let keys = (0..item.keys.len()).map(KeyId).filter_map(|id| {
        let KeyValue::Template(_) = item.key(id) else {
            return None;
        };
        let fields = item.key(id).fields();
        let optional: Vec<FieldId> = fields
            .iter()
            .copied()
            .filter(|&f| item.field(f).optional)
            .collect();
        if optional.is_empty() {
            let render = render_key(cx, &this, id, own);
            return Some(quote!(item.key(#render)?;));
        }
        let bindings: Vec<_> = optional.iter().map(|f| &names.fields[f.0]).collect();
        let render = render_key(cx, &this, id, |f| {
            match optional.iter().position(|o| *o == f) {
                Some(p) => {
                    let b = bindings[p];
                    quote!(#b)
                }
                None => own(f),
            }
        });
        Some(quote! {
            if let (#(Some(#bindings),)*) = (#(&self.#bindings,)*) {
                item.key(#render)?;
            }
        })
    });
    // Computed fields are rendered from the item's fields, whatever the
    // struct holds.
    let computed = computed_values(cx, &quote!(self));
    let encode = item
        .fields
        .iter()
        .zip(&names.fields)
        .enumerate()
        .map(|(id, (f, i))| {
            let Some((_, value)) = computed.iter().find(|(c, _)| c.0 == id) else {
                return encode_field(f, i);
            };
            let attribute = &f.attribute;
            if f.optional {
                quote!(item.optional(#attribute, &#value);)
            } else {
                quote!(item.field(#attribute, &#value);)
            }
        });
    let decode = item.fields.iter().zip(&names.fields).map(|(f, i)| {
        if f.computed.is_some() && !f.optional {
            // Items stored before the field existed lack it: rendered below.
            let call = decode_call(cx.cx, f, true);
            return quote!(#i: #call?.unwrap_or_default(),);
        }
        let call = decode_call(cx.cx, f, f.optional);
        quote!(#i: #call?,)
    });
    // A computed attribute an item lacks (stored before the field existed,
    // or by another writer) is rendered from the fields read.
    let fill: Vec<TokenStream> = computed_values(cx, &quote!(value))
        .into_iter()
        .map(|(id, value)| {
            let ident = &names.fields[id.0];
            let missing = if item.field(id).optional {
                quote!(value.#ident.is_none())
            } else {
                quote!(value.#ident.is_empty())
            };
            quote!(if #missing { value.#ident = #value; })
        })
        .collect();
    let binding = if fill.is_empty() {
        quote!(let value)
    } else {
        quote!(let mut value)
    };
    let key_fields = item.key_fields().into_iter().map(|id| {
        let ident = &names.fields[id.0];
        if item.field(id).ty.is_copy() {
            quote!(#ident: self.#ident,)
        } else {
            quote!(#ident: self.#ident.clone(),)
        }
    });
    let capacity = Literal::usize_unsuffixed(1 + item.keys.len() + item.fields.len());
    // The stored item's key must be the one its fields render; the
    // attributes left are the unmodeled ones.
    let access = item.table_access();
    let checked = std::iter::once(access.partition)
        .chain(access.sort)
        .filter(|k| matches!(item.key(*k), KeyValue::Template(_)))
        .map(|k| {
            let name = &names.keys[k.0];
            let values = key_values(cx, k, |f| {
                let ident = &names.fields[f.0];
                quote!(&value.#ident)
            });
            quote!((&Self::#name, #values))
        });
    let finish = if item.previous.keys.is_empty() {
        quote!(item.finish::<Self>(&[#(#checked),*])?)
    } else {
        let previous = table_keys(cx, |f| {
            let ident = &names.fields[f.0];
            quote!(&value.#ident)
        });
        quote!(item.finish_previous::<Self>(&[#(#checked),*], &[#(#previous),*])?)
    };
    // `hooks = true`: the app's `after_read` sees every item read.
    let done = if item.hooks {
        quote!(dynamo::__private::after_read(value))
    } else {
        quote!(Ok(value))
    };
    let (encoder, decoded) = if cx.table().keep_unmodeled {
        (
            quote!(dynamo::__private::Encoder::item_with::<Self>(#capacity, &self.unmodeled)),
            quote! {
                let mut value = Self { #(#decode)* unmodeled: dynamo::Unmodeled::default() };
                #(#fill)*
                value.unmodeled = #finish;
                #done
            },
        )
    } else {
        (
            quote!(dynamo::__private::Encoder::item::<Self>(#capacity)),
            quote! {
                #binding = Self { #(#decode)* };
                #(#fill)*
                #finish;
                #done
            },
        )
    };
    let paths = item
        .fields
        .iter()
        .zip(&names.fields)
        .zip(&names.validators)
        .enumerate()
        .map(|(id, ((f, i), validator))| {
            if f.encrypted {
                let attribute = &f.attribute;
                let rules = validator.as_ref().map(|v| match f.ty {
                    FieldType::String => quote!(.rules(|v: &String| Self::#v(v))),
                    _ => quote!(.rules(Self::#v)),
                });
                return quote!(#i: dynamo::EncryptedPath::new(#attribute) #rules,);
            }
            let p = path(f);
            // The checks of a new value, for the fields updates change.
            if !item.updates.iter().any(|u| u.field.0 == id) {
                return quote!(#i: #p,);
            }
            let rules = validator.as_ref().map(|v| match f.ty {
                FieldType::String => quote!(.rules(|v: &String| Self::#v(v))),
                _ => quote!(.rules(Self::#v)),
            });
            let nested = nested_check(cx.cx, &f.ty);
            quote!(#i: #p #rules #nested,)
        });
    let version = item.version.map(|v| {
        let f = item.field(v.field);
        let attribute = &f.attribute;
        let ident = &names.fields[v.field.0];
        let (max, value) = match v.ty {
            IntType::U64 => (quote!(u64::MAX), quote!(self.#ident)),
            t => {
                let t = quote::format_ident!("{}", t.name());
                (quote!(#t::MAX as u64), quote!(u64::from(self.#ident)))
            }
        };
        quote! {
            const VERSION: Option<dynamo::Version> = Some(dynamo::Version { attribute: #attribute, max: #max });

            fn version(&self) -> Option<u64> {
                Some(#value)
            }
        }
    });
    let updated_at = item.timestamps.map(|t| {
        let p = path(item.field(t.updated));
        quote!(const UPDATED_AT: Option<dynamo::Path<Self, dynamo::Timestamp>> = Some(#p);)
    });
    let validate = validate_body(
        &quote!(Self),
        &item.fields,
        &names.fields,
        &names.validators,
    )
    .map(|body| {
        quote! {
            fn validate(&self) -> Result<(), dynamo::ValidationError> {
                #body
            }
        }
    });
    let mark = item
        .previous
        .mark
        .as_ref()
        .map(|mark| quote!(const TRANSFORM_MARK: Option<&'static str> = Some(#mark);));
    let previous_names = (!item.previous.names.is_empty()).then(|| {
        let names = std::iter::once(&item.name).chain(&item.previous.names);
        quote!(const TYPE_NAMES: &'static [&'static str] = &[#(#names),*];)
    });
    let previous_attributes = (!item.previous.attributes.is_empty()).then(|| {
        let attributes = item.previous.attributes.iter().map(|(a, p)| quote!((#a, #p)));
        quote!(const PREVIOUS_ATTRIBUTES: &'static [(&'static str, &'static str)] = &[#(#attributes),*];)
    });
    let previous_values = (!item.previous.values.is_empty()).then(|| {
        let values = item
            .previous
            .values
            .iter()
            .map(|(a, o, n)| quote!((#a, #o, #n)));
        quote!(const PREVIOUS_VALUES: &'static [(&'static str, &'static str, &'static str)] = &[#(#values),*];)
    });
    let hooks = item.hooks.then(|| {
        quote! {
            fn before_write(&self) -> dynamo::Result<()> {
                dynamo::__private::before_write(self)
            }
        }
    });
    // The attributes of the fields `keep` picks, as `const NAME`, when any.
    let attributes = |name: &str, keep: fn(&crate::ir::Field) -> bool| {
        let name = quote::format_ident!("{name}");
        let list: Vec<&str> = item
            .fields
            .iter()
            .filter(|f| keep(f))
            .map(|f| f.attribute.as_str())
            .collect();
        (!list.is_empty()).then(|| quote!(const #name: &'static [&'static str] = &[#(#list),*];))
    };
    let read_only = attributes("READ_ONLY", |f| f.read_only);
    let unique = attributes("UNIQUE", |f| f.unique);
    quote! {
        impl dynamo::Item for #ty {
            type Key = #key;
            type Fields = #fields_struct;
            const TYPE_NAME: &'static str = #type_name;
            #read_only
            #unique
            #previous_names
            #previous_attributes
            #previous_values
            #mark
            const TABLE: &'static dynamo::TableDef = &TABLE;
            const FIELDS: #fields_struct = #fields_struct { #(#paths)* };
            #updated_at

            #version

            fn key(&self) -> #key {
                #key { #(#key_fields)* }
            }

            fn encode(&self) -> dynamo::Result<dynamo::Attributes> {
                let mut item = #encoder;
                #(#keys)*
                #(#encode)*
                Ok(item.finish())
            }

            fn decode(item: dynamo::Attributes) -> dynamo::Result<Self> {
                let mut item = dynamo::__private::Decoder::item::<Self>(item)?;
                #decoded
            }

            #validate
            #hooks
        }
    }
}

/// The name of the const holding `t`, a table key template before a
/// `rewrite_keys` step: `PREVIOUS_` and the attribute.
fn previous_name(t: &crate::ir::Template) -> proc_macro2::Ident {
    quote::format_ident!(
        "PREVIOUS_{}",
        heck::ToShoutySnakeCase::to_shouty_snake_case(t.attribute.as_str())
    )
}

/// The previous template of table key `k`, if a migration changed it.
fn previous_template(item: &crate::ir::Item, k: crate::ir::KeyId) -> Option<&crate::ir::Template> {
    let attribute = item.key(k).attribute();
    item.previous.keys.iter().find(|t| t.attribute == attribute)
}

/// `(&Self::TEMPLATE, &[values])` of each templated table key, with the
/// template before a `rewrite_keys` step where there is one.
fn table_keys(
    cx: ItemCx<'_>,
    value: impl Fn(crate::ir::FieldId) -> TokenStream,
) -> Vec<TokenStream> {
    let (item, names) = (cx.item, cx.names);
    let access = item.table_access();
    std::iter::once(access.partition)
        .chain(access.sort)
        .filter(|k| matches!(item.key(*k), KeyValue::Template(_)))
        .map(|k| match previous_template(item, k) {
            Some(t) => {
                let name = previous_name(t);
                let values = t.fields().into_iter().map(&value);
                quote!((&Self::#name, &[#(#values),*]))
            }
            None => {
                let name = &names.keys[k.0];
                let values = key_values(cx, k, &value);
                quote!((&Self::#name, #values))
            }
        })
        .collect()
}

fn emit_key_impl(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let (ty, key) = (&names.ty, &names.key);
    let access = item.table_access();
    let own = |id: FieldId| {
        let ident = &names.fields[id.0];
        quote!(&self.#ident)
    };
    let owner = quote!(#ty);
    let keys = std::iter::once(access.partition)
        .chain(access.sort)
        .map(|k| render_key(cx, &owner, k, own));
    let previous = (!item.previous.keys.is_empty()).then(|| {
        let keys = std::iter::once(access.partition)
            .chain(access.sort)
            .map(|k| match previous_template(item, k) {
                Some(t) => {
                    let name = previous_name(t);
                    let values = t.fields().into_iter().map(own);
                    quote!(#owner::#name.render(&[#(#values),*]))
                }
                None => render_key(cx, &owner, k, own),
            });
        quote! {
            fn previous_key(&self) -> Option<dynamo::Result<dynamo::Attributes>> {
                Some(dynamo::__private::key_attributes([#(#keys),*]))
            }
        }
    });
    quote! {
        impl dynamo::Key for #key {
            type Item = #ty;

            fn encode_key(&self) -> dynamo::Result<dynamo::Attributes> {
                dynamo::__private::key_attributes([#(#keys),*])
            }

            #previous
        }
    }
}

/// The check of a nested type's `validate` rules on a new value of a
/// field of type `ty` (a nested type, or a list or map of one), as
/// `.nested(…)`.
fn nested_check(cx: &TableCx<'_>, ty: &FieldType) -> Option<TokenStream> {
    let (nested, each) = match ty {
        t if t.validates_inside() => (ty, None),
        FieldType::List(t) if t.validates_inside() => (&**t, Some(quote!(iter))),
        FieldType::Map(t) if t.validates_inside() => (&**t, Some(quote!(values))),
        _ => return None,
    };
    let nested = rust_type(cx, nested);
    Some(match each {
        None => quote!(.nested(#nested::validate)),
        Some(each) => {
            let whole = rust_type(cx, ty);
            quote!(.nested(|v: &#whole| v.#each().try_for_each(#nested::validate)))
        }
    })
}

fn emit_fields(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let (ty, fields_struct) = (&names.ty, &names.fields_struct);
    let defs = item
        .fields
        .iter()
        .zip(&names.fields)
        .enumerate()
        .map(|(id, (f, i))| {
            let t = rust_type(cx.cx, &f.ty);
            if f.encrypted {
                let docs = doc(&format!(
                    "`{}`, stored encrypted as `{}`: existence conditions only.",
                    f.name, f.attribute
                ));
                return quote!(#docs pub #i: dynamo::EncryptedPath<#ty, #t>,);
            }
            let docs = doc(&format!("`{}`, stored as `{}`.", f.name, f.attribute));
            let change = match item.change(FieldId(id)) {
                Change::Fixed => quote!(dynamo::Fixed),
                Change::Settable => quote!(dynamo::Settable),
                Change::Optional => quote!(dynamo::Optional),
            };
            quote!(#docs pub #i: dynamo::Path<#ty, #t, #change>,)
        });
    let docs = doc(&format!(
        "The fields of `{}` as typed paths, for conditions and filters: \
         `.when(|f| f.<field>.eq(value))`.",
        item.name
    ));
    quote! {
        #docs
        #[derive(Debug, Clone, Copy)]
        pub struct #fields_struct {
            #(#defs)*
        }
    }
}

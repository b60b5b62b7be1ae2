//! The typed update builder of an item type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{
    doc,
    item::{ItemCx, key_value_call, params},
    types::{encoder, rust_type, validate_fn},
};
use crate::{
    ir::{FieldType, KeyValue},
    naming,
};

/// The index key attributes (templates) that use field `i`.
fn index_keys_of(cx: ItemCx<'_>, i: usize) -> Vec<&KeyValue> {
    cx.item
        .indexes
        .iter()
        .flat_map(|x| std::iter::once(&x.partition).chain(&x.sort))
        .filter(|v| matches!(v, KeyValue::Template(_)) && v.fields().contains(&i))
        .collect()
}

pub(super) fn emit_update(cx: ItemCx<'_>) -> TokenStream {
    let item = cx.item;
    let name = cx.name();
    let key_name = naming::key_struct(&item.name);
    let update = format_ident!("{}Update", item.name);
    let key_fields = cx.key_fields();
    let mut methods = Vec::new();
    for (i, field) in item.fields.iter().enumerate() {
        if key_fields.contains(&i) || cx.is_managed(i) {
            continue;
        }
        let fname = field.rust_name.trim_start_matches("r#");
        let attribute = &field.attribute;
        let ty = rust_type(&field.ty);
        let enc = encoder(&field.ty);
        let ident = naming::ident(&field.rust_name);
        let check =
            validate_fn(&item.name, field).map(|(function, _)| quote!(.check(#function(&#ident))));
        // Index keys over this field are rewritten with it, so their other
        // fields are parameters too (table key fields come from the key).
        let rewritten = index_keys_of(cx, i);
        let mut partners: Vec<usize> = Vec::new();
        for v in &rewritten {
            for f in v.fields() {
                if f != i && !key_fields.contains(&f) && !partners.contains(&f) {
                    partners.push(f);
                }
            }
        }
        let partner_params = params(cx, &partners);
        let key_args = |p: usize| -> TokenStream {
            let f = cx.field(p);
            let ident = naming::ident(&f.rust_name);
            if p == i {
                quote!(&#ident)
            } else if key_fields.contains(&p) {
                quote!(&self.0.key().#ident)
            } else {
                super::query::param_as_ref(cx, p)
            }
        };
        // Rendered before `self.0` moves into the chain below: a key field
        // partner is read from the update's key.
        let bindings: Vec<_> = (0..rewritten.len())
            .map(|n| format_ident!("rewritten_{n}"))
            .collect();
        let renders = rewritten.iter().zip(&bindings).map(|(v, binding)| {
            let call = key_value_call(cx, v, &key_args);
            quote!(let #binding = #call;)
        });
        let rewrites = rewritten.iter().zip(&bindings).map(|(v, binding)| {
            let attribute = v.attribute();
            quote!(.set_key(#attribute, #binding))
        });
        let partner_doc = if rewritten.is_empty() {
            String::new()
        } else {
            let attrs = rewritten
                .iter()
                .map(|v| format!("`{}`", v.attribute()))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "\n\nAlso rewrites the index key {attrs}, from this value and the other fields given."
            )
        };
        let set = format_ident!("set_{fname}");
        let set_doc = doc(&format!("Sets `{}`.{partner_doc}", field.name));
        methods.push(quote! {
            #set_doc
            pub fn #set(self, #ident: impl ::dynamo_runtime::IntoValue<#ty>, #(#partner_params),*) -> Self {
                let #ident: #ty = ::dynamo_runtime::IntoValue::into_value(#ident);
                #(#renders)*
                Self(self.0 #check .set(#attribute, #enc(&#ident)) #(#rewrites)*)
            }
        });
        if field.optional {
            let remove = format_ident!("remove_{fname}");
            let removed = rewritten.iter().map(|v| {
                let attribute = v.attribute();
                quote!(.remove(#attribute))
            });
            let extra = if rewritten.is_empty() {
                ""
            } else {
                " and the index keys built from it (the item leaves those indexes)"
            };
            let docs = doc(&format!("Removes `{}`{extra}.", field.name));
            methods.push(quote! {
                #docs
                pub fn #remove(self) -> Self {
                    Self(self.0.remove(#attribute) #(#removed)*)
                }
            });
        }
        if !rewritten.is_empty() {
            // The new value of the field is not known here, so no key can be
            // rendered from it: only `set` is offered.
            continue;
        }
        let if_not_exists = format_ident!("set_{fname}_if_not_exists");
        let docs = doc(&format!(
            "Sets `{}` unless the item has a value.",
            field.name
        ));
        methods.push(quote! {
            #docs
            pub fn #if_not_exists(self, #ident: impl ::dynamo_runtime::IntoValue<#ty>) -> Self {
                let #ident: #ty = ::dynamo_runtime::IntoValue::into_value(#ident);
                Self(self.0 #check .set_if_not_exists(#attribute, #enc(&#ident)))
            }
        });
        match &field.ty {
            FieldType::Int(_) | FieldType::Float(_) | FieldType::Number => {
                for (verb, method, what) in [
                    (
                        "add",
                        "add",
                        "Adds `by` to `{}` (an absent value counts as 0).",
                    ),
                    (
                        "increment",
                        "increment",
                        "Adds `by` to `{}` (the item must have a value).",
                    ),
                    (
                        "decrement",
                        "decrement",
                        "Subtracts `by` from `{}` (the item must have a value).",
                    ),
                ] {
                    let m = format_ident!("{verb}_{fname}");
                    let call = format_ident!("{method}");
                    let docs = doc(&what.replace("{}", &field.name));
                    methods.push(quote! {
                        #docs
                        pub fn #m(self, by: #ty) -> Self {
                            Self(self.0.#call(#attribute, ::dynamo_runtime::Attribute::to_attribute(&by)))
                        }
                    });
                }
            }
            FieldType::Set(element) => {
                let element = rust_type(element);
                for (verb, what) in [
                    ("add", "Adds `items` to"),
                    ("delete", "Removes `items` from"),
                ] {
                    let m = format_ident!("{verb}_{fname}");
                    let call = format_ident!("{verb}");
                    let docs = doc(&format!("{what} the set `{}`.", field.name));
                    methods.push(quote! {
                        #docs
                        pub fn #m<V: ::dynamo_runtime::IntoValue<#element>>(self, items: impl IntoIterator<Item = V>) -> Self {
                            let items: #ty = items.into_iter().map(::dynamo_runtime::IntoValue::into_value).collect();
                            Self(self.0.#call(#attribute, ::dynamo_runtime::Attribute::to_attribute(&items)))
                        }
                    });
                }
            }
            FieldType::List(_) => {
                for (verb, what) in [
                    ("append", "Appends `items` to"),
                    ("prepend", "Prepends `items` to"),
                ] {
                    let m = format_ident!("{verb}_{fname}");
                    let call = format_ident!("{verb}");
                    let docs = doc(&format!("{what} the list `{}`.", field.name));
                    methods.push(quote! {
                        #docs
                        pub fn #m(self, items: #ty) -> Self {
                            Self(self.0.#call(#attribute, ::dynamo_runtime::Attribute::to_attribute(&items)))
                        }
                    });
                }
            }
            _ => {}
        }
    }
    let mut init: Vec<TokenStream> = Vec::new();
    if let Some(t) = item.timestamps {
        let f = cx.field(t.updated);
        let attribute = &f.attribute;
        let enc = encoder(&f.ty);
        init.push(quote!(.set(#attribute, #enc(&::dynamo_runtime::Timestamp::now()))));
    }
    let version = item.version.map(|_| {
        quote! {
            /// Applies the update only if the stored item still has `version`;
            /// otherwise [`Error::Stale`](::dynamo_runtime::Error::Stale).
            pub fn expect_version(self, version: u64) -> Self {
                Self(self.0.expect_version(version))
            }
        }
    });
    let fields_name = format_ident!("{}Fields", item.name);
    let update_fn_doc = doc(&format!(
        "An update of the `{}` with `key`: chain the changes, then `.send(&db)`. \
         Key fields cannot change{}.",
        item.name,
        if item.timestamps.is_some() {
            "; `updated_at` is set"
        } else {
            ""
        }
    ));
    let struct_doc = doc(&format!(
        "A typed update of one `{}`; see [`{}::update`].",
        item.name, item.name
    ));
    quote! {
        impl #name {
            #update_fn_doc
            pub fn update(key: #key_name) -> #update {
                #update(::dynamo_runtime::Update::new(key) #(#init)*)
            }
        }

        #struct_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)` to apply the update"]
        pub struct #update(::dynamo_runtime::Update<#name>);

        impl #update {
            #(#methods)*

            /// Applies the update only when the stored item meets `condition`.
            pub fn when(self, condition: impl FnOnce(&#fields_name) -> ::dynamo_runtime::Condition<#name>) -> Self {
                Self(self.0.when(condition))
            }

            #version

            /// Sends the update and returns the item as stored after it.
            pub async fn send(self, db: &::dynamo_runtime::Db) -> ::dynamo_runtime::Result<#name> {
                self.0.send(db).await
            }

            /// Returns the item as stored before the update instead.
            pub fn return_old(self) -> ::dynamo_runtime::ReturningOld<::dynamo_runtime::Update<#name>> {
                self.0.return_old()
            }
        }

        impl From<#update> for ::dynamo_runtime::Update<#name> {
            fn from(update: #update) -> Self {
                update.0
            }
        }
    }
}

//! The typed update builder of an item type: one method per action on
//! each field an update can change, each a one-line call of the runtime's
//! update actions with the field's typed path.

use proc_macro2::TokenStream;
use quote::quote;

use super::{
    ItemCx, doc,
    keys::{params, render_key},
    link,
    types::rust_type,
};
use crate::{
    ir::{FieldType, FieldUpdate},
    names::{ActionNames, UpdateNames},
};

/// The check of a nested type's `validate` rules on `value` of type `ty`
/// (a nested type, or a list or map of one), as `.check(…)`.
fn nested_check(
    cx: ItemCx<'_>,
    ty: &FieldType,
    value: &impl quote::ToTokens,
) -> Option<TokenStream> {
    let (nested, each) = match ty {
        FieldType::Nested(_) => (ty, None),
        FieldType::List(t) if matches!(**t, FieldType::Nested(_)) => (&**t, Some(quote!(iter))),
        FieldType::Map(t) if matches!(**t, FieldType::Nested(_)) => (&**t, Some(quote!(values))),
        _ => return None,
    };
    let nested = rust_type(cx.cx, nested);
    Some(match each {
        None => quote!(.check(#value.validate())),
        Some(each) => quote!(.check(#value.#each().try_for_each(#nested::validate))),
    })
}

pub(super) fn emit_update(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let (ty, key, update) = (&names.ty, &names.key, &names.update);
    let methods: Vec<TokenStream> = item
        .updates
        .iter()
        .zip(&names.updates)
        .map(|(u, n)| field_methods(cx, u, n))
        .collect();
    let versioned = item.version.map(|_| quote!(, versioned));
    let struct_doc = doc(&format!(
        "A typed update of one `{}`; see {}.",
        item.name,
        link(&format!("{}::update", item.name), &format!("{ty}::update"))
    ));
    let methods = (!methods.is_empty()).then(|| {
        quote! {
            #[allow(clippy::wrong_self_convention)]
            impl #update {
                #(#methods)*
            }
        }
    });
    quote! {
        #struct_doc
        #[derive(Debug)]
        #[must_use = "call `.send(&db)` to apply the update"]
        pub struct #update(dynamo::Update<#ty>);

        dynamo::update_options!(#update, #ty, #key #versioned);

        #methods
    }
}

fn field_methods(cx: ItemCx<'_>, u: &FieldUpdate, n: &UpdateNames) -> TokenStream {
    cx.cx.fields_of();
    cx.cx.actions();
    let (item, names) = (cx.item, cx.names);
    let owner = &names.ty;
    let owner_tokens = quote!(#owner);
    let field = item.field(u.field);
    let ident = &names.fields[u.field.0];
    let value = &n.set.params[0];
    let ty = rust_type(cx.cx, &field.ty);
    let path = quote!(#owner::FIELDS.#ident);
    // The checks of a new value: the field's rules, and a nested type's
    // (in a list or map too).
    let mut checks: Vec<TokenStream> = names.validators[u.field.0]
        .iter()
        .map(|v| quote!(.check(#owner::#v(&#value))))
        .collect();
    checks.extend(nested_check(cx, &field.ty, value));
    let check = (!checks.is_empty()).then(|| quote!(#(#checks)*));
    let mut out = Vec::new();

    // `set`: with a check or rewritten index keys, the value is needed
    // more than once.
    let key_fields = item.key_fields();
    let key_param = &n.key;
    let uses_key = std::cell::Cell::new(false);
    let rewrites: Vec<TokenStream> = u
        .rewrites
        .iter()
        .map(|k| {
            render_key(cx, &owner_tokens, *k, |f| {
                if f == u.field {
                    quote!(&#value)
                } else if key_fields.contains(&f) {
                    uses_key.set(true);
                    let i = &names.fields[f.0];
                    quote!(&#key_param.#i)
                } else {
                    let p = u
                        .partners
                        .iter()
                        .position(|p| *p == f)
                        .map(|p| &n.set.params[p + 1]);
                    quote!(&#p)
                }
            })
        })
        .collect();
    let closure_param = if uses_key.get() {
        quote!(#key_param)
    } else {
        quote!(_)
    };
    let rewrites = rewrites
        .iter()
        .map(|r| quote!(.set_key(|#closure_param| #r)));
    // The rewritten keys are right only if the other fields given are the
    // stored ones.
    let unchanged = u.partners.iter().zip(&n.set.params[1..]).map(|(f, p)| {
        let ident = &names.fields[f.0];
        let ty = &item.field(*f).ty;
        let value = if *ty == FieldType::String || ty.is_copy() {
            quote!(#p)
        } else {
            quote!(#p.clone())
        };
        quote!(.unchanged(#owner::FIELDS.#ident, #value))
    });
    let partner_params = params(cx, &u.partners, &n.set.params[1..]);
    let rewritten: Vec<String> = u
        .rewrites
        .iter()
        .map(|k| format!("`{}`", item.key(*k).attribute()))
        .collect();
    let set_doc = doc(&if rewritten.is_empty() {
        format!("Sets `{}`.", field.name)
    } else {
        format!(
            "Sets `{}`, and rewrites the index key {} from it and the other fields given, which must be the stored values (else `Error::StaleKeyField`, nothing written).",
            field.name,
            rewritten.join(", ")
        )
    });
    let set = &n.set.method;
    let body = if check.is_none() && u.rewrites.is_empty() {
        quote!(Self(self.0.set(#path, #value)))
    } else {
        quote! {
            let #value = #value.into_value();
            Self(self.0 #check #(#unchanged)* #(#rewrites)* .set(#path, #value))
        }
    };
    out.push(quote! {
        #set_doc
        pub fn #set(self, #value: impl dynamo::IntoValue<#ty>, #(#partner_params),*) -> Self {
            #body
        }
    });

    if let Some(remove) = &n.remove {
        let removed = u.rewrites.iter().map(|k| {
            let name = &names.keys[k.0];
            quote!(.remove_key(&#owner::#name))
        });
        let docs = doc(&if rewritten.is_empty() {
            format!("Removes `{}`.", field.name)
        } else {
            format!(
                "Removes `{}` and the index key {} built from it (the item leaves those indexes).",
                field.name,
                rewritten.join(", ")
            )
        });
        out.push(quote! {
            #docs
            pub fn #remove(self) -> Self {
                Self(self.0.remove(#path) #(#removed)*)
            }
        });
    }

    if let Some(method) = &n.set_if_not_exists {
        let docs = doc(&format!(
            "Sets `{}` unless the item has a value.",
            field.name
        ));
        let body = match &check {
            None => quote!(Self(self.0.set_if_not_exists(#path, #value))),
            Some(check) => quote! {
                let #value = #value.into_value();
                Self(self.0 #check .set_if_not_exists(#path, #value))
            },
        };
        out.push(quote! {
            #docs
            pub fn #method(self, #value: impl dynamo::IntoValue<#ty>) -> Self {
                #body
            }
        });
    }

    // The action methods of the field's kind: each calls the runtime's
    // action of the same meaning with the field's path and its one
    // argument (`by` or `items`).
    let name = &field.name;
    let (args, arg, methods) = match &n.actions {
        None => return quote!(#(#out)*),
        Some(ActionNames::Arithmetic {
            add,
            increment,
            decrement,
        }) => (
            quote!((self, by: #ty)),
            quote!(by),
            vec![
                (
                    add,
                    quote!(add),
                    format!("Adds `by` to `{name}` (an absent value counts as 0)."),
                ),
                (
                    increment,
                    quote!(increment),
                    format!("Adds `by` to `{name}` (the item must have a value)."),
                ),
                (
                    decrement,
                    quote!(decrement),
                    format!("Subtracts `by` from `{name}` (the item must have a value)."),
                ),
            ],
        ),
        Some(ActionNames::SetItems { add, delete }) => {
            let element = rust_type(cx.cx, field.ty.element());
            (
                quote!(<V: dynamo::IntoValue<#element>>(self, items: impl IntoIterator<Item = V>)),
                quote!(items),
                vec![
                    (
                        add,
                        quote!(add_items),
                        format!("Adds `items` to the set `{name}`."),
                    ),
                    (
                        delete,
                        quote!(delete_items),
                        format!("Removes `items` from the set `{name}`."),
                    ),
                ],
            )
        }
        Some(ActionNames::ListItems { append, prepend }) => (
            quote!((self, items: #ty)),
            quote!(items),
            vec![
                (
                    append,
                    quote!(append),
                    format!("Appends `items` to the list `{name}`."),
                ),
                (
                    prepend,
                    quote!(prepend),
                    format!("Prepends `items` to the list `{name}`."),
                ),
            ],
        ),
    };
    // Appended items are checked as a whole list would be.
    let item_check = match &field.ty {
        FieldType::List(_) => nested_check(cx, &field.ty, &quote!(items)),
        _ => None,
    };
    for (method, call, what) in methods {
        let docs = doc(&what);
        out.push(quote! {
            #docs
            pub fn #method #args -> Self {
                Self(self.0 #item_check .#call(#path, #arg))
            }
        });
    }
    quote!(#(#out)*)
}

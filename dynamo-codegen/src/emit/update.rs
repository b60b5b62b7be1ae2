//! The typed update builder of an item type: the runtime's generic field
//! actions (`update_options!`), and a `set_<field>` (and `remove_<field>`)
//! for each field index keys are built from, which rewrites those keys.

use proc_macro2::Ident;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{
    ItemCx, doc,
    keys::{compute, params, render_key},
    link,
    types::rust_type,
};
use crate::{
    ir::{FieldType, FieldUpdate},
    names::UpdateNames,
};

pub(super) fn emit_update(cx: ItemCx<'_>) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let (ty, key, update) = (&names.ty, &names.key, &names.update);
    let methods: Vec<TokenStream> = item
        .updates
        .iter()
        .zip(&names.updates)
        .filter_map(|(u, n)| Some(field_methods(cx, u, n.as_ref()?)))
        .collect();
    let versioned = item.version.map(|_| quote!(, versioned));
    let struct_doc = doc(&format!(
        "A typed update of one `{}`; see {}.",
        item.name,
        link(&format!("{}::update", item.name), &format!("{ty}::update"))
    ));
    let methods = (!methods.is_empty()).then(|| {
        quote! {
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
    if u.sealed {
        return sealed_methods(cx, u, n);
    }
    let (item, names) = (cx.item, cx.names);
    let owner = &names.ty;
    let owner_tokens = quote!(#owner);
    let field = item.field(u.field);
    let ident = &names.fields[u.field.0];
    let value = &n.set.params[0];
    let ty = rust_type(cx.cx, &field.ty);
    let path = quote!(#owner::FIELDS.#ident);

    // `set`: the value is needed for the field and for the rewritten keys.
    let key_fields = item.key_fields();
    let key_param = &n.key;
    let uses_key = std::cell::Cell::new(false);
    let given = |f| {
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
    };
    let rewrites: Vec<TokenStream> = u
        .rewrites
        .iter()
        .map(|k| render_key(cx, &owner_tokens, *k, given))
        .collect();
    let rewrites_use_key = uses_key.replace(false);
    // Computed fields from the update's key need it before the update
    // takes it: rendered into locals first.
    let recomputed: Vec<(Ident, TokenStream)> = u
        .recomputes
        .iter()
        .map(|c| {
            let ident = &names.fields[c.0];
            (format_ident!("{ident}_value"), compute(cx, *c, given))
        })
        .collect();
    let key_of = uses_key
        .get()
        .then(|| quote!(let #key_param = self.0.key();));
    let closure_param = if rewrites_use_key {
        quote!(#key_param)
    } else {
        quote!(_)
    };
    let computed_values = recomputed
        .iter()
        .map(|(local, value)| quote!(let #local = #value;));
    let computed_sets = u.recomputes.iter().zip(&recomputed).map(|(c, (local, _))| {
        let ident = &names.fields[c.0];
        quote!(.set_field(#owner::FIELDS.#ident, #local))
    });
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
    let list = |names: Vec<String>| names.join(", ");
    let rewritten = list(
        u.rewrites
            .iter()
            .map(|k| format!("`{}`", item.key(*k).attribute()))
            .collect(),
    );
    let recomputed_names = list(
        u.recomputes
            .iter()
            .map(|c| format!("`{}`", item.field(*c).name))
            .collect(),
    );
    let what = match (rewritten.is_empty(), recomputed_names.is_empty()) {
        (false, true) => format!("the index key {rewritten}"),
        (true, false) if u.recomputes.len() == 1 => {
            format!("the computed field {recomputed_names}")
        }
        (true, false) => format!("the computed fields {recomputed_names}"),
        _ => format!("the index key {rewritten} and the computed field {recomputed_names}"),
    };
    let verb = if u.recomputes.is_empty() {
        format!("rewrites {what}")
    } else {
        format!("renders {what} again")
    };
    let set_doc = doc(&format!(
        "Sets `{}`, and {verb} from it and the other fields given, which must be the stored values (else `Error::StaleKeyField`, nothing written).",
        field.name,
    ));
    let set = &n.set.method;
    let mut out = vec![quote! {
        #set_doc
        pub fn #set(self, #value: impl dynamo::IntoValue<#ty>, #(#partner_params),*) -> Self {
            let #value = #value.into_value();
            #key_of
            #(#computed_values)*
            Self(self.0 #(#unchanged)* #(#rewrites)* #(#computed_sets)* .set_field(#path, #value))
        }
    }];

    if let Some(remove) = &n.remove {
        let removed = u.rewrites.iter().map(|k| {
            let name = &names.keys[k.0];
            quote!(.remove_key(&#owner::#name))
        });
        let uncomputed = u.recomputes.iter().map(|c| {
            let ident = &names.fields[c.0];
            quote!(.remove_field(#owner::FIELDS.#ident))
        });
        let after = match (u.rewrites.is_empty(), u.recomputes.is_empty()) {
            (false, true) => "the item leaves those indexes".to_owned(),
            (true, false) => format!("computed values are absent while `{}` is", field.name),
            _ => format!(
                "the item leaves those indexes; computed values are absent while `{}` is",
                field.name
            ),
        };
        let docs = doc(&format!(
            "Removes `{}` and {what} built from it ({after}).",
            field.name,
        ));
        out.push(quote! {
            #docs
            pub fn #remove(self) -> Self {
                Self(self.0.remove_field(#path) #(#removed)* #(#uncomputed)*)
            }
        });
    }
    quote!(#(#out)*)
}

/// `set_<field>` (and `remove_<field>`) of an encrypted field: the value
/// is sealed with the installed keyring.
fn sealed_methods(cx: ItemCx<'_>, u: &FieldUpdate, n: &UpdateNames) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let owner = &names.ty;
    let field = item.field(u.field);
    let ident = &names.fields[u.field.0];
    let value = &n.set.params[0];
    let ty = rust_type(cx.cx, &field.ty);
    let set = &n.set.method;
    let set_doc = doc(&format!(
        "Sets `{}`, encrypted with the installed keyring's current key (checked by its rules first; without a keyring, `Error::Encryption` and nothing written).",
        field.name
    ));
    let remove = n.remove.as_ref().map(|remove| {
        let docs = doc(&format!("Removes `{}`.", field.name));
        quote! {
            #docs
            pub fn #remove(self) -> Self {
                Self(self.0.remove_encrypted(#owner::FIELDS.#ident))
            }
        }
    });
    quote! {
        #set_doc
        pub fn #set(self, #value: impl dynamo::IntoValue<#ty>) -> Self {
            Self(self.0.set_encrypted(#owner::FIELDS.#ident, #value.into_value()))
        }
        #remove
    }
}

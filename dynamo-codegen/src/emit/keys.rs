//! Key helpers shared by the item, update, query and collection emitters:
//! how a key reads in docs, and the expressions that render a key from an
//! item's fields or from a function's parameters.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{ItemCx, types::param_type};
use crate::ir::{FieldId, FieldType, KeyId, KeyValue};

/// How a key attribute is filled, for docs: `` `pk` = `CUSTOMER#{id}` ``.
pub(super) fn key_text(cx: ItemCx<'_>, key: KeyId) -> String {
    match cx.item.key(key) {
        KeyValue::Template(t) => format!("`{}` = `{}`", t.attribute, t.text),
        KeyValue::Field { attribute, field } => {
            format!("`{attribute}` = field `{}`", cx.item.field(*field).name)
        }
    }
}

/// The values of a key's fields, in the order its template first names
/// them, as `&expr` for `KeyTemplate::render`.
pub(super) fn key_values(
    cx: ItemCx<'_>,
    key: KeyId,
    value: impl Fn(FieldId) -> TokenStream,
) -> TokenStream {
    let values = cx.item.key(key).fields().into_iter().map(value);
    quote!(&[#(#values),*])
}

/// The rendering of key attribute `key` from `value` of each field.
pub(super) fn render_key(
    cx: ItemCx<'_>,
    owner: &TokenStream,
    key: KeyId,
    value: impl Fn(FieldId) -> TokenStream,
) -> TokenStream {
    match cx.item.key(key) {
        KeyValue::Template(_) => {
            let name = &cx.names.keys[key.0];
            let values = key_values(cx, key, value);
            quote!(#owner::#name.render(#values))
        }
        KeyValue::Field { field, .. } => {
            cx.cx.fields_of();
            let ident = &cx.names.fields[field.0];
            let v = value(*field);
            quote!(#owner::FIELDS.#ident.key(#v))
        }
    }
}

/// The value of computed field `id` rendered from `value` of each field
/// it names (`&expr`): a `String`.
pub(super) fn compute(
    cx: ItemCx<'_>,
    id: FieldId,
    value: impl Fn(FieldId) -> TokenStream,
) -> TokenStream {
    let Some(t) = &cx.item.field(id).computed else {
        return quote!(String::new());
    };
    let text = &t.text;
    let values = t.fields().into_iter().map(value);
    quote!(dynamo::__private::compute(#text, &[#(#values),*]))
}

/// The value of computed field `id` in an item whose fields are `place(f)`
/// (`self.f`): a `String`, or an `Option<String>` that is `None` while a
/// field it renders from is.
pub(super) fn compute_own(
    cx: ItemCx<'_>,
    id: FieldId,
    place: impl Fn(FieldId) -> TokenStream,
) -> TokenStream {
    let own = |f| {
        let p = place(f);
        quote!(&#p)
    };
    let item = cx.item;
    let fields = item
        .field(id)
        .computed
        .as_ref()
        .map_or_else(Vec::new, |t| t.fields());
    let optional: Vec<FieldId> = fields
        .into_iter()
        .filter(|&f| item.field(f).optional)
        .collect();
    let bindings: Vec<&Ident> = optional.iter().map(|f| &cx.names.fields[f.0]).collect();
    let value = compute(cx, id, |f| match optional.iter().position(|o| *o == f) {
        Some(p) => {
            let b = bindings[p];
            quote!(#b)
        }
        None => own(f),
    });
    match (optional.as_slice(), bindings.as_slice()) {
        ([], _) => value,
        ([one], [b]) => {
            let o = place(*one);
            quote!(#o.as_ref().map(|#b| #value))
        }
        _ => {
            let owns = optional.iter().map(|f| own(*f));
            quote! {
                if let (#(Some(#bindings),)*) = (#(#owns,)*) { Some(#value) } else { None }
            }
        }
    }
}

/// `#[allow(clippy::too_many_arguments)]` for a function of more than
/// seven parameters, as a long template makes.
pub(super) fn many(params: usize) -> Option<TokenStream> {
    (params > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]))
}

/// The partition key of `owner`'s key `key`, rendered from the query
/// function's parameters `idents` (one per field of the key).
pub(super) fn partition(
    cx: ItemCx<'_>,
    owner: &TokenStream,
    key: KeyId,
    idents: &[Ident],
) -> TokenStream {
    match cx.item.key(key) {
        KeyValue::Template(_) => {
            let name = &cx.names.keys[key.0];
            // `idents` are in the order `render` takes the values.
            let values = idents.iter().map(|p| quote!(&#p));
            quote!(#owner::#name.render(&[#(#values),*]))
        }
        KeyValue::Field { field, .. } => {
            cx.cx.fields_of();
            let ident = &cx.names.fields[field.0];
            let p = &idents[0];
            let ty = &cx.item.field(*field).ty;
            if *ty == FieldType::String {
                quote!(#owner::FIELDS.#ident.key_text(#p))
            } else if ty.is_copy() {
                quote!(#owner::FIELDS.#ident.key(&#p))
            } else {
                quote!(#owner::FIELDS.#ident.key(#p))
            }
        }
    }
}

/// The parameters `name: type` of `fields`, named `idents`.
pub(super) fn params(cx: ItemCx<'_>, fields: &[FieldId], idents: &[Ident]) -> Vec<TokenStream> {
    fields
        .iter()
        .zip(idents)
        .map(|(id, ident)| {
            let ty = param_type(cx.cx, &cx.item.field(*id).ty);
            quote!(#ident: #ty)
        })
        .collect()
}

/// The `Decoder::row` call that builds `Self` from a row `raw` of
/// `cx`'s item type: each of `fields` (with whether it is optional) read
/// out of the key attributes of `keys` (the templates among them) when a
/// template holds it and it is required, else from its own attribute.
/// `sole`: the row can only be this item type's (`Decoder::row`).
pub(super) fn row_decoder(
    cx: ItemCx<'_>,
    raw: &TokenStream,
    keys: &[KeyId],
    fields: impl IntoIterator<Item = (FieldId, bool)>,
    sole: bool,
) -> TokenStream {
    let (item, names) = (cx.item, cx.names);
    let ty = &names.ty;
    let mut templates: Vec<KeyId> = Vec::new();
    for k in keys {
        if matches!(item.key(*k), KeyValue::Template(_)) && !templates.contains(k) {
            templates.push(*k);
        }
    }
    let template_fields: Vec<FieldId> = templates
        .iter()
        .flat_map(|k| item.key(*k).fields())
        .collect();
    let template_names = templates.iter().map(|k| {
        let n = &names.keys[k.0];
        quote!(&#ty::#n)
    });
    let (mut uses_keys, mut uses_item) = (false, false);
    let assign: Vec<TokenStream> = fields
        .into_iter()
        .map(|(id, optional)| {
            let f = item.field(id);
            let ident = &names.fields[id.0];
            if !optional && template_fields.contains(&id) {
                uses_keys = true;
                let name = &f.name;
                quote!(#ident: keys.get(#name)?,)
            } else {
                uses_item = true;
                let call = super::types::decode_call(cx.cx, f, optional);
                quote!(#ident: #call?,)
            }
        })
        .collect();
    let keys = if uses_keys {
        quote!(keys)
    } else {
        quote!(_keys)
    };
    let item_param = if uses_item {
        quote!(item)
    } else {
        quote!(_item)
    };
    quote! {
        dynamo::__private::Decoder::row::<#ty, _>(#raw, &[#(#template_names),*], #sole, |#keys, #item_param| {
            Ok(Self { #(#assign)* })
        })
    }
}

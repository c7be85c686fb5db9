//! `Standardize` and `MinMax`: the network's first layer, rescaling each
//! input value with statistics fitted on the training rows
//! (`fit_statistics`), not trained. No arguments; the output has the
//! input's shape.

use proc_macro2::Span;
use quote::quote;
use syn::{AngleBracketedGenericArguments, Ident};

use super::{Args, Emit, Kind};
use crate::validate::Errors;

pub const STANDARDIZE: Kind = Kind {
    name: "Standardize",
    example: "Standardize",
    needs: "no arguments",
    slices: 0,
    named: &[],
    parse,
    output: |rule| Ok(rule.input.clone()),
    constructor: "layers::Rescale::new",
    weight_rows: |_| quote!(0usize),
    tensors: |e| {
        let Emit { krate, inputs, .. } = e;
        let fit = fit(e);
        quote! {
            #krate::LayerTensors {
                statistics: &<#krate::layers::#fit as #krate::layers::Fit>::STATISTICS,
                statistics_shape: &[#inputs],
                ..#krate::LayerTensors::NONE
            }
        }
    },
    layer_type: |e| {
        let Emit { krate, inputs, .. } = e;
        let fit = fit(e);
        quote!(#krate::layers::Rescale<T, #inputs, #krate::layers::#fit>)
    },
    gradients_type: |e| {
        let krate = e.krate;
        quote!(#krate::layers::NoGradients)
    },
    random: false,
    items: |_| quote!(),
    statistics: true,
    bare: true,
};

/// The same layer, fitted by the minimum and the range.
pub const MIN_MAX: Kind = Kind {
    name: "MinMax",
    example: "MinMax",
    ..STANDARDIZE
};

/// The runtime type that fits the layer: `Standardization` or
/// `MinMaxScaling`.
fn fit(e: &Emit<'_>) -> Ident {
    let name = if e.kind.name == MIN_MAX.name {
        "MinMaxScaling"
    } else {
        "Standardization"
    };
    Ident::new(name, Span::call_site())
}

/// Checks that there are no arguments: `scale: Standardize`.
fn parse(name: &Ident, args: &AngleBracketedGenericArguments, errors: &mut Errors) -> Option<Args> {
    if !args.args.is_empty() {
        errors.spanned(
            args,
            format!("this layer takes no arguments: its statistics are fitted on the training rows with `fit_statistics`; write `{name}: Standardize` or `{name}: MinMax`"),
        );
        return None;
    }
    Some(Args {
        sizes: Some(Vec::new()),
        activation: None,
        reals: Vec::new(),
    })
}

//! `Dense<WIDTH, ACTIVATION>`: a fully connected layer of `WIDTH` units.
//! After a sequence or an image it takes the values in channel, row,
//! column order (PyTorch's `flatten(1)`): the storage is already that order,
//! so the flatten costs nothing.

use quote::quote;
use syn::{AngleBracketedGenericArguments, GenericArgument, Ident};

use super::{Args, Emit, Kind, Rule};
use crate::shape::Shape;
use crate::validate::{Errors, activation_type, generic_size};

pub const DENSE: Kind = Kind {
    name: "Dense",
    example: "Dense<4, Tanh>",
    needs: "a width and an activation",
    // The weights, then the biases.
    slices: 2,
    named: &[],
    parse,
    output: |rule: &Rule<'_>| Ok(Shape::Flat(rule.sizes[0].clone())),
    constructor: "Dense::new",
    // `W` is `OUT x IN`.
    weight_rows: |e| {
        let outputs = e.outputs;
        quote!(#outputs)
    },
    // PyTorch's `Linear`: `weight` is `[out, in]` row-major, which is the
    // transpose of the column-major `W` in memory.
    tensors: |e| {
        let Emit {
            krate,
            inputs,
            outputs,
            ..
        } = e;
        quote! {
            #krate::LayerTensors {
                weight: &[#outputs, #inputs],
                bias: &[#outputs],
                transposed: true,
                ..#krate::LayerTensors::NONE
            }
        }
    },
    layer_type: |e| {
        let Emit {
            krate,
            inputs,
            outputs,
            activation,
            ..
        } = e;
        quote!(#krate::Dense<T, #inputs, #outputs, #activation>)
    },
    gradients_type: |e| {
        let Emit {
            krate,
            inputs,
            outputs,
            ..
        } = e;
        quote!(#krate::DenseGradients<T, #inputs, #outputs>)
    },
    random: false,
    items: |_| quote!(),
    statistics: false,
    bare: false,
};

/// Checks `<WIDTH, ACTIVATION>`.
fn parse(name: &Ident, args: &AngleBracketedGenericArguments, errors: &mut Errors) -> Option<Args> {
    let example = format!("`{name}: Dense<4, Tanh>`");
    let mut args_iter = args.args.iter();
    let Some(width_arg) = args_iter.next() else {
        errors.spanned(
            args,
            format!("`Dense` needs a width and an activation, as in {example}"),
        );
        return None;
    };
    // `Dense<Tanh, 4>`: an activation where the width goes, and a number
    // where the activation goes.
    if let (GenericArgument::Type(syn::Type::Path(_)), Some(GenericArgument::Const(_))) =
        (width_arg, args.args.iter().nth(1))
    {
        errors.spanned(
            args,
            format!("the arguments of `Dense` are swapped: the width comes first, then the activation, as in {example}"),
        );
        return None;
    }
    let width = generic_size(width_arg, name, errors);
    let activation = match args_iter.next() {
        Some(GenericArgument::Type(ty)) => match activation_type(ty) {
            Some(ty) => Some(ty.clone()),
            None => {
                errors.spanned(
                    ty,
                    format!("the activation of `{name}` must be the name of a type such as `Tanh` or `my_module::Square`, as in {example}"),
                );
                None
            }
        },
        Some(other) => {
            errors.spanned(
                other,
                format!("the second argument of `Dense` must be an activation type such as `Tanh`, as in {example}"),
            );
            None
        }
        None => {
            errors.spanned(
                args,
                format!(
                    "layer `{name}` needs an activation after its width, as in {example} (use `Identity` for a linear layer)"
                ),
            );
            None
        }
    };
    if let Some(extra) = args_iter.next() {
        errors.spanned(
            extra,
            "`Dense` takes two arguments, a width and an activation; remove this one",
        );
        return None;
    }
    Some(Args {
        sizes: width.map(|width| vec![width]),
        activation: Some(activation?),
        reals: Vec::new(),
    })
}

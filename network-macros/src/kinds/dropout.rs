//! `Dropout<RATE>`: inverted dropout of any shape, `RATE` (`p`) a number in
//! `[0, 1)`; the output has the input's shape.

use proc_macro2::Literal;
use quote::quote;
use syn::{AngleBracketedGenericArguments, Expr, GenericArgument, Ident, Lit};

use super::{Args, Emit, Kind};
use crate::validate::Errors;

pub const DROPOUT: Kind = Kind {
    name: "Dropout",
    example: "Dropout<0.5>",
    needs: "a rate",
    slices: 0,
    named: &[],
    parse,
    output: |rule| Ok(rule.input.clone()),
    constructor: "layers::Dropout::new",
    weight_rows: |_| quote!(0usize),
    tensors: |e| {
        let krate = e.krate;
        quote!(#krate::LayerTensors::NONE)
    },
    layer_type: |e| {
        let Emit {
            krate,
            inputs,
            geometry,
            ..
        } = e;
        quote!(#krate::layers::Dropout<T, #inputs, #geometry>)
    },
    gradients_type: |e| {
        let krate = e.krate;
        quote!(#krate::layers::NoGradients)
    },
    random: true,
    items: |e| {
        let Emit {
            krate,
            geometry,
            reals,
            ..
        } = e;
        let rate = Literal::f64_unsuffixed(reals[0]);
        quote! {
            impl #krate::layers::DropoutRate for #geometry {
                const RATE: f64 = #rate;
            }
        }
    },
    statistics: false,
    bare: false,
};

/// Checks `<RATE>`: one number in `[0, 1)`.
fn parse(name: &Ident, args: &AngleBracketedGenericArguments, errors: &mut Errors) -> Option<Args> {
    let usage = format!("as in `{name}: Dropout<0.5>`");
    let mut all = args.args.iter();
    let (Some(arg), None) = (all.next(), all.next()) else {
        errors.spanned(
            args,
            format!(
                "`Dropout` takes one argument, the probability that a value is dropped, {usage}"
            ),
        );
        return None;
    };
    let value = match arg {
        GenericArgument::Const(Expr::Lit(lit)) => match &lit.lit {
            Lit::Float(float) => float.base10_parse::<f64>().ok(),
            Lit::Int(int) => int.base10_parse::<u32>().ok().map(f64::from),
            _ => None,
        },
        _ => None,
    };
    let Some(rate) = value else {
        errors.spanned(
            arg,
            format!("the rate of `{name}` must be a number literal in [0, 1), {usage}"),
        );
        return None;
    };
    if !(0.0..1.0).contains(&rate) {
        errors.spanned(
            arg,
            format!("the rate of `{name}` is the probability that a value is dropped: it must be at least 0 and below 1, not {rate}"),
        );
        return None;
    }
    Some(Args {
        sizes: Some(Vec::new()),
        activation: None,
        reals: vec![rate],
    })
}

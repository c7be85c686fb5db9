//! `MaxPool1d<KERNEL, stride = S>`, `MaxPool2d<..>`, `AvgPool1d<..>` and
//! `AvgPool2d<..>`: PyTorch's pooling layers, square windows, `stride`
//! equal to the kernel unless given, no padding, no parameters.

use quote::quote;
use syn::{AngleBracketedGenericArguments, Ident};

use super::conv::check_params;
use super::{Args, Emit, Kind, Rule, geometry_items, named_sizes, split_arguments, zero};
use crate::shape::{Shape, out_len};
use crate::validate::{Errors, Size, generic_size};

macro_rules! pool_kind {
    ($name:literal, $example:literal, $two_d:expr, $mode:ident) => {
        Kind {
            name: $name,
            example: $example,
            needs: "a kernel size",
            slices: 0,
            named: &["stride"],
            parse: |name, args, errors| parse(name, args, errors, $name, $example),
            output: |rule| output(rule, $two_d),
            constructor: "layers::Pool::new",
            weight_rows: |_| quote!(0usize),
            tensors: |e| {
                let krate = e.krate;
                quote!(#krate::LayerTensors::NONE)
            },
            layer_type: |e| {
                let Emit {
                    krate,
                    inputs,
                    outputs,
                    geometry,
                    ..
                } = e;
                quote!(#krate::layers::Pool<T, #inputs, #outputs, #geometry, #krate::layers::$mode>)
            },
            gradients_type: |e| {
                let krate = e.krate;
                quote!(#krate::layers::NoGradients)
            },
            random: false,
            items,
            statistics: false,
            bare: false,
        }
    };
}

pub const MAX_POOL1D: Kind = pool_kind!("MaxPool1d", "MaxPool1d<2>", false, Max);
pub const MAX_POOL2D: Kind = pool_kind!("MaxPool2d", "MaxPool2d<2>", true, Max);
pub const AVG_POOL1D: Kind = pool_kind!("AvgPool1d", "AvgPool1d<2>", false, Average);
pub const AVG_POOL2D: Kind = pool_kind!("AvgPool2d", "AvgPool2d<2>", true, Average);

/// Checks `<KERNEL, stride = S>`; the sizes are `[kernel, stride]`.
fn parse(
    name: &Ident,
    args: &AngleBracketedGenericArguments,
    errors: &mut Errors,
    kind: &str,
    example: &str,
) -> Option<Args> {
    let (all, positional) = split_arguments(args);
    if positional != 1 {
        errors.spanned(
            args,
            format!("`{kind}` takes a kernel size and has no activation, as in `{name}: {example}`; `stride = ..` may follow"),
        );
        return None;
    }
    let kernel = generic_size(all[0], name, errors);
    let (named, ok) = named_sizes(
        &all[1..],
        &["stride"],
        name,
        (kind, "a kernel size", example),
        errors,
    );
    let stride = named.into_iter().next().flatten();
    let sizes = match (kernel, ok) {
        (Some(k), true) => {
            let stride = stride.unwrap_or_else(|| k.clone());
            Some(vec![k, stride])
        }
        _ => None,
    };
    Some(Args {
        sizes,
        activation: None,
        reals: Vec::new(),
    })
}

fn output(rule: &Rule<'_>, two_d: bool) -> Result<Shape, String> {
    let [kernel, stride] = rule.sizes else {
        unreachable!("`parse` gives two sizes")
    };
    let name = rule.name;
    if stride.literal() == Some(0) {
        return Err(format!("the stride of `{name}` must be at least 1"));
    }
    check_params(rule, &[kernel, stride])?;
    let none = zero(rule.span);
    match (rule.input, two_d) {
        (Shape::Seq { channels, length }, false) => {
            let out =
                out_len((length, kernel, stride, &none), rule.krate, rule.span).map_err(|_| {
                    format!(
                        "the window of size {} of `{name}` does not fit the length {} of {}",
                        kernel.text(),
                        length.text(),
                        rule.after
                    )
                })?;
            Ok(Shape::Seq {
                channels: channels.clone(),
                length: out,
            })
        }
        (
            Shape::Image {
                channels,
                height,
                width,
            },
            true,
        ) => {
            let fits = |len: &Size| out_len((len, kernel, stride, &none), rule.krate, rule.span);
            match (fits(height), fits(width)) {
                (Ok(h), Ok(w)) => Ok(Shape::Image {
                    channels: channels.clone(),
                    height: h,
                    width: w,
                }),
                _ => Err(format!(
                    "the {k} x {k} window of `{name}` does not fit the {} x {} output of {}",
                    height.text(),
                    width.text(),
                    rule.after,
                    k = kernel.text()
                )),
            }
        }
        (input, _) => Err(format!(
            "`{name}` is a {} pooling layer and needs a {} input, but {} gives {}",
            if two_d { "2-D" } else { "1-D" },
            if two_d {
                "channels x height x width"
            } else {
                "channels x length"
            },
            rule.after,
            input.describe()
        )),
    }
}

/// `impl PoolGeometry for #geometry`, and the assertion that it is valid.
fn items(e: &Emit<'_>) -> proc_macro2::TokenStream {
    let krate = e.krate;
    let [kernel, stride] = e.sizes else {
        unreachable!("`parse` gives two sizes")
    };
    let shape = match e.input {
        Shape::Image {
            channels,
            height,
            width,
        } => quote! {
            #krate::convolution::Pool2dShape {
                channels: #channels,
                in_height: #height,
                in_width: #width,
                kernel: (#kernel, #kernel),
                stride: (#stride, #stride),
            }
        },
        Shape::Seq { channels, length } => quote! {
            #krate::convolution::Pool2dShape::pool1d(#channels, #length, #kernel, #stride)
        },
        Shape::Flat(_) => return quote!(),
    };
    let message = format!("the window of `{}` does not fit its input", e.name);
    geometry_items(e, ("PoolGeometry", "Pool2dShape"), shape, &message)
}

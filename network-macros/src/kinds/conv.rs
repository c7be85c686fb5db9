//! `Conv1d<CHANNELS, KERNEL, ACTIVATION, stride = S, padding = P>` and
//! `Conv2d<..>` (square kernels, strides and paddings): PyTorch's `Conv1d`
//! and `Conv2d`, with `stride` 1 and `padding` 0 unless given.

use quote::quote;
use syn::spanned::Spanned;
use syn::{AngleBracketedGenericArguments, GenericArgument, Ident};

use super::{Args, Emit, Kind, Rule, geometry_items, named_sizes, one, split_arguments, zero};
use crate::shape::{Shape, out_len};
use crate::validate::{Errors, Size, activation_type, generic_size};

const NEEDS: &str = "its output channels, a kernel size and an activation";

macro_rules! conv_kind {
    ($name:literal, $example:literal, $two_d:expr) => {
        Kind {
            name: $name,
            example: $example,
            needs: NEEDS,
            slices: 2,
            named: &["stride", "padding"],
            parse: |name, args, errors| parse(name, args, errors, $name, $example),
            output: |rule| output(rule, $two_d),
            constructor: "layers::Conv::new",
            // One column of `C_in k (k)` weights per output channel.
            weight_rows: |e| {
                let rows = kernel_values(e);
                quote!(#rows)
            },
            tensors: |e| tensors(e, $two_d),
            layer_type,
            gradients_type,
            random: false,
            items: |e| items(e, $two_d),
            statistics: false,
            bare: false,
        }
    };
}

pub const CONV1D: Kind = conv_kind!("Conv1d", "Conv1d<16, 5, Relu>", false);
pub const CONV2D: Kind = conv_kind!("Conv2d", "Conv2d<6, 5, Relu>", true);

/// Checks `<CHANNELS, KERNEL, ACTIVATION, stride = S, padding = P>`; the
/// sizes are `[channels, kernel, stride, padding]`.
fn parse(
    name: &Ident,
    args: &AngleBracketedGenericArguments,
    errors: &mut Errors,
    kind: &str,
    example: &str,
) -> Option<Args> {
    let (all, positional) = split_arguments(args);
    if positional != 3 {
        errors.spanned(
            args,
            format!("`{kind}` needs its output channels, a kernel size and an activation, in that order, as in `{name}: {example}`; `stride = ..` and `padding = ..` may follow"),
        );
        return None;
    }
    // `Conv1d<Relu, 16, 5>`: the activation first, where the channels go.
    if let (GenericArgument::Type(syn::Type::Path(_)), GenericArgument::Const(_)) = (all[0], all[2])
    {
        errors.spanned(
            args,
            format!("the arguments of `{kind}` are out of order: its output channels, then a kernel size, then an activation, as in `{name}: {example}`"),
        );
        return None;
    }
    let channels = generic_size(all[0], name, errors);
    let kernel = generic_size(all[1], name, errors);
    let activation = match all[2] {
        GenericArgument::Type(ty) => activation_type(ty).cloned(),
        _ => None,
    };
    let Some(activation) = activation else {
        errors.spanned(
            all[2],
            format!("the third argument of `{kind}` must be an activation type such as `Relu`, as in `{name}: {example}`"),
        );
        return None;
    };
    let (named, named_ok) = named_sizes(
        &all[3..],
        &["stride", "padding"],
        name,
        (kind, NEEDS, example),
        errors,
    );
    let span = args.span();
    let mut named = named.into_iter();
    let stride = named.next().flatten().unwrap_or_else(|| one(span));
    let padding = named.next().flatten().unwrap_or_else(|| zero(span));
    let sizes = match (channels, kernel, named_ok) {
        (Some(c), Some(k), true) => Some(vec![c, k, stride, padding]),
        _ => None,
    };
    Some(Args {
        sizes,
        activation: Some(activation),
        reals: Vec::new(),
    })
}

fn output(rule: &Rule<'_>, two_d: bool) -> Result<Shape, String> {
    let [channels, kernel, stride, padding] = rule.sizes else {
        unreachable!("`parse` gives four sizes")
    };
    let name = rule.name;
    if stride.literal() == Some(0) {
        return Err(format!("the stride of `{name}` must be at least 1"));
    }
    check_params(rule, &[channels, kernel, stride, padding])?;
    match (rule.input, two_d) {
        (Shape::Seq { length, .. }, false) => {
            let out = out_len((length, kernel, stride, padding), rule.krate, rule.span).map_err(
                |padded| {
                    format!(
                        "the kernel of size {} of `{name}` does not fit the length {} of {}{}",
                        kernel.text(),
                        length.text(),
                        rule.after,
                        padded_note(padded, padding)
                    )
                },
            )?;
            Ok(Shape::Seq {
                channels: channels.clone(),
                length: out,
            })
        }
        (Shape::Image { height, width, .. }, true) => {
            let fits = |len: &Size| out_len((len, kernel, stride, padding), rule.krate, rule.span);
            match (fits(height), fits(width)) {
                (Ok(h), Ok(w)) => Ok(Shape::Image {
                    channels: channels.clone(),
                    height: h,
                    width: w,
                }),
                _ => Err(format!(
                    "the {k} x {k} kernel of `{name}` does not fit the {} x {} output of {}{}",
                    height.text(),
                    width.text(),
                    rule.after,
                    if padding.literal() == Some(0) {
                        String::new()
                    } else {
                        format!(" padded by {} on each side", padding.text())
                    },
                    k = kernel.text(),
                )),
            }
        }
        (input, _) => Err(format!(
            "`{name}` is a {} convolution and needs a {} input, such as `input: {}`, but {} gives {}",
            if two_d { "2-D" } else { "1-D" },
            if two_d {
                "channels x height x width"
            } else {
                "channels x length"
            },
            if two_d { "[1, 28, 28]" } else { "[6, 100]" },
            rule.after,
            input.describe()
        )),
    }
}

/// " (padded to 12)" where padding changed the length.
fn padded_note(padded: usize, padding: &Size) -> String {
    if padding.literal() == Some(0) {
        String::new()
    } else {
        format!(", padded to {padded}")
    }
}

/// Refuses sizes that name a const parameter of the network: stable Rust
/// cannot compute an output size from one.
pub fn check_params(rule: &Rule<'_>, sizes: &[&Size]) -> Result<(), String> {
    let mut all: Vec<&Size> = rule.input.dims();
    all.extend_from_slice(sizes);
    match all.iter().find_map(|s| s.mentions(rule.params)) {
        Some(param) => Err(format!(
            "the sizes of `{}` depend on the const parameter `{param}`, from which stable Rust cannot compute an output size: use literals or const items here",
            rule.name
        )),
        None => Ok(()),
    }
}

fn layer_type(e: &Emit<'_>) -> proc_macro2::TokenStream {
    let Emit {
        krate,
        inputs,
        outputs,
        activation,
        geometry,
        ..
    } = e;
    let (kernel, channels) = (kernel_values(e), &e.sizes[0]);
    let positions = positions(e);
    quote!(#krate::layers::Conv<T, #inputs, #outputs, #kernel, #channels, #positions, #geometry, #activation>)
}

fn gradients_type(e: &Emit<'_>) -> proc_macro2::TokenStream {
    let krate = e.krate;
    let (kernel, channels) = (kernel_values(e), &e.sizes[0]);
    quote!(#krate::layers::ConvGradients<T, #kernel, #channels>)
}

/// PyTorch's `Conv1d` weight `[out, in, k]` or `Conv2d` weight
/// `[out, in, kh, kw]`, which is the layout of `Conv::w` in memory, and the
/// bias `[out]`.
fn tensors(e: &Emit<'_>, two_d: bool) -> proc_macro2::TokenStream {
    let krate = e.krate;
    let [channels, kernel, ..] = e.sizes else {
        unreachable!("`parse` gives four sizes")
    };
    let in_channels = match e.input {
        Shape::Image { channels, .. } | Shape::Seq { channels, .. } => channels,
        Shape::Flat(n) => n,
    };
    let weight = if two_d {
        quote!(&[#channels, #in_channels, #kernel, #kernel])
    } else {
        quote!(&[#channels, #in_channels, #kernel])
    };
    quote! {
        #krate::LayerTensors {
            weight: #weight,
            bias: &[#channels],
            transposed: false,
            ..#krate::LayerTensors::NONE
        }
    }
}

/// The output positions per channel: `OL` (1-D) or `OH OW` (2-D).
fn positions(e: &Emit<'_>) -> Size {
    let span = e.name.span();
    match e.output {
        Shape::Image { height, width, .. } => Size::product(&[height, width], span),
        Shape::Seq { length, .. } => length.clone(),
        Shape::Flat(n) => n.clone(),
    }
}

/// The weights of one output channel: `C_in k` (1-D) or `C_in k k` (2-D).
fn kernel_values(e: &Emit<'_>) -> Size {
    let kernel = &e.sizes[1];
    let span = e.name.span();
    match e.input {
        Shape::Image { channels, .. } => Size::product(&[channels, kernel, kernel], span),
        Shape::Seq { channels, .. } => Size::product(&[channels, kernel], span),
        Shape::Flat(_) => Size::product(&[kernel], span),
    }
}

/// `impl ConvGeometry for #geometry`, and the assertion that it is valid.
fn items(e: &Emit<'_>, two_d: bool) -> proc_macro2::TokenStream {
    let krate = e.krate;
    let [channels, kernel, stride, padding] = e.sizes else {
        unreachable!("`parse` gives four sizes")
    };
    let shape = match e.input {
        Shape::Image {
            channels: c,
            height,
            width,
        } if two_d => quote! {
            #krate::convolution::Conv2dShape {
                in_channels: #c,
                in_height: #height,
                in_width: #width,
                out_channels: #channels,
                kernel: (#kernel, #kernel),
                stride: (#stride, #stride),
                padding: (#padding, #padding),
            }
        },
        Shape::Seq {
            channels: c,
            length,
        } => quote! {
            #krate::convolution::Conv2dShape::conv1d(#c, #length, #channels, #kernel, #stride, #padding)
        },
        _ => return quote!(),
    };
    let message = format!("the kernel of `{}` does not fit its input", e.name);
    geometry_items(e, ("ConvGeometry", "Conv2dShape"), shape, &message)
}

//! The table of layer kinds: for each, how its declaration parses, its shape
//! rule, and the runtime types (and geometry) it emits. `validate` looks a
//! layer's kind up here by name and threads the shape through the chain;
//! `expand` writes the same lines for every kind. A new kind is one module
//! here, one file in `network-core/src/layers/`, and its tests.

mod conv;
mod dense;
mod dropout;
mod pool;
mod rescale;

use proc_macro2::{Span, TokenStream};
use syn::{AngleBracketedGenericArguments, Expr, GenericArgument, Ident, Type};

use crate::shape::Shape;
use crate::validate::{Errors, Size, generic_size};

/// One kind of layer.
pub struct Kind {
    /// The name a declaration uses: `Dense`.
    pub name: &'static str,
    /// A declaration of one, for error messages: `Dense<4, Tanh>`.
    pub example: &'static str,
    /// What its arguments are, for error messages: "a width and an
    /// activation".
    pub needs: &'static str,
    /// How many slices its parameters are (its runtime type's `SliceArray`).
    pub slices: usize,
    /// The names of its last sizes, written `name = value` (`stride`).
    pub named: &'static [&'static str],
    /// Checks the angle-bracketed arguments of the layer `name`, reporting
    /// every problem, and returns what they declare.
    pub parse: fn(&Ident, &AngleBracketedGenericArguments, &mut Errors) -> Option<Args>,
    /// The shape of its output, or the sentence that says why its input
    /// does not fit.
    pub output: fn(&Rule<'_>) -> Result<Shape, String>,
    /// The path of its runtime type's `const fn` constructor, under the
    /// runtime crate, for `codegen`: `"Dense::new"`.
    pub constructor: &'static str,
    /// The rows of its weight matrix, for `codegen` (`0` without parameters).
    pub weight_rows: fn(&Emit<'_>) -> TokenStream,
    /// Its parameters as PyTorch's tensors: a `LayerTensors` expression
    /// (`LayerTensors::NONE` without parameters), for `Network::LAYER_TENSORS`.
    pub tensors: fn(&Emit<'_>) -> TokenStream,
    /// The runtime type of the layer.
    pub layer_type: fn(&Emit<'_>) -> TokenStream,
    /// The runtime type of its gradients.
    pub gradients_type: fn(&Emit<'_>) -> TokenStream,
    /// Whether a training pass of the layer is random (`Dropout`): the
    /// network then keeps its pass's `Noise` key in the cache.
    pub random: bool,
    /// Items the layer's type needs next to the network: the impl that
    /// gives its geometry marker (`Emit::geometry`) its shape.
    pub items: fn(&Emit<'_>) -> TokenStream,
    /// Whether the layer has statistics fitted on the network's input
    /// (`Standardize`): it must be the first layer, it has one statistics
    /// slice, and the network gets `fit_statistics`.
    pub statistics: bool,
    /// Whether the kind is written without angle brackets (`Standardize`).
    pub bare: bool,
}

/// What a layer's declaration says.
pub struct Args {
    /// Its sizes, in the kind's order (`Dense`: the width), every default
    /// filled in; `None` if one of them was in error.
    pub sizes: Option<Vec<Size>>,
    /// `f` in `a = f(z)` as the user wrote it; `None` for kinds without one
    /// (pooling), which apply `Identity`.
    pub activation: Option<Type>,
    /// Its real-valued arguments, in the kind's order (`Dropout`: the
    /// rate), checked.
    pub reals: Vec<f64>,
}

/// What a kind's shape rule is given.
pub struct Rule<'a> {
    /// The layer's name.
    pub name: &'a Ident,
    /// Its input, and what gives it: "the input" or "`pool1`".
    pub input: &'a Shape,
    pub after: &'a str,
    /// Its sizes, as [`Args::sizes`].
    pub sizes: &'a [Size],
    /// Where a computed size points.
    pub span: Span,
    /// The network's const parameters, which a computed size cannot use.
    pub params: &'a [Ident],
    /// The runtime crate's path, for computed sizes.
    pub krate: &'a TokenStream,
}

/// What a kind's types are written from.
pub struct Emit<'a> {
    /// The runtime crate's path.
    pub krate: &'a TokenStream,
    /// The layer's input and output shapes, and their values per sample.
    pub input: &'a Shape,
    pub output: &'a Shape,
    pub inputs: &'a Size,
    pub outputs: &'a Size,
    /// Its sizes, as [`Args::sizes`].
    pub sizes: &'a [Size],
    /// Its activation (`Identity` for kinds without one).
    pub activation: &'a TokenStream,
    /// Its real-valued arguments, as [`Args::reals`].
    pub reals: &'a [f64],
    /// The name of the geometry marker type generated for this layer.
    pub geometry: &'a Ident,
    /// The layer's name, for messages.
    pub name: &'a Ident,
    /// The layer's kind.
    pub kind: &'static Kind,
    /// A `bool` const expression, true when one of the layer's sizes that
    /// must be at least 1 is 0: its own assertion reports that, so the
    /// layer's other checks stay silent.
    pub zero: TokenStream,
}

/// Every kind of layer a network can declare.
pub const KINDS: &[Kind] = &[
    dense::DENSE,
    conv::CONV1D,
    conv::CONV2D,
    pool::MAX_POOL1D,
    pool::MAX_POOL2D,
    pool::AVG_POOL1D,
    pool::AVG_POOL2D,
    dropout::DROPOUT,
    rescale::STANDARDIZE,
    rescale::MIN_MAX,
];

/// The kind named `name`, if there is one.
pub fn find(name: &Ident) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| name == kind.name)
}

/// The layer kinds for an error message: "the layer types are `Dense`,
/// `Conv1d`, ... and `AvgPool2d`".
pub fn grammar() -> String {
    let each: Vec<_> = KINDS
        .iter()
        .map(|kind| format!("`{}`", kind.name))
        .collect();
    match each.as_slice() {
        [one] => format!("the layer type is {one}"),
        [rest @ .., last] => format!("the layer types are {} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

/// A `name = value` argument (`stride = 2`), which syn parses as an
/// associated const (a literal or block value) or type (a path value).
pub fn named_size(
    arg: &GenericArgument,
    layer: &Ident,
    errors: &mut Errors,
) -> Option<(Ident, Option<Size>)> {
    match arg {
        GenericArgument::AssocConst(assoc) if assoc.generics.is_none() => {
            let value = match &assoc.value {
                Expr::Lit(_) | Expr::Block(_) | Expr::Unary(_) => {
                    generic_size(&GenericArgument::Const(assoc.value.clone()), layer, errors)
                }
                other => {
                    errors.spanned(
                        other,
                        format!("`{}` must be an integer literal, a const item or a `{{ const expression }}`", assoc.ident),
                    );
                    None
                }
            };
            Some((assoc.ident.clone(), value))
        }
        GenericArgument::AssocType(assoc) if assoc.generics.is_none() => {
            let value = generic_size(&GenericArgument::Type(assoc.ty.clone()), layer, errors);
            Some((assoc.ident.clone(), value))
        }
        _ => None,
    }
}

/// A layer's arguments, and how many come before the first `name = value`.
pub fn split_arguments(args: &AngleBracketedGenericArguments) -> (Vec<&GenericArgument>, usize) {
    let all: Vec<&GenericArgument> = args.args.iter().collect();
    let positional = all
        .iter()
        .take_while(|a| {
            !matches!(
                a,
                GenericArgument::AssocConst(_) | GenericArgument::AssocType(_)
            )
        })
        .count();
    (all, positional)
}

/// Reads the named arguments after the positional ones: each of `allowed`
/// at most once. Returns their values in the order of `allowed` (`None`
/// where not given), and `false` if any was in error.
pub fn named_sizes(
    rest: &[&GenericArgument],
    allowed: &[&str],
    layer: &Ident,
    (kind, needs, example): (&str, &str, &str),
    errors: &mut Errors,
) -> (Vec<Option<Size>>, bool) {
    let mut values: Vec<Option<Size>> = vec![None; allowed.len()];
    let mut seen = vec![false; allowed.len()];
    let mut ok = true;
    for arg in rest {
        let Some((ident, value)) = named_size(arg, layer, errors) else {
            errors.spanned(
                arg,
                format!("`{kind}` takes {needs} and then only named arguments ({}), as in `{layer}: {example}`; remove this one",
                    allowed.iter().map(|a| format!("`{a} = ..`")).collect::<Vec<_>>().join(", ")),
            );
            ok = false;
            continue;
        };
        let Some(index) = allowed.iter().position(|a| ident == a) else {
            errors.spanned(
                &ident,
                format!(
                    "`{kind}` has no argument `{ident}`: its named arguments are {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
            ok = false;
            continue;
        };
        if seen[index] {
            errors.spanned(&ident, format!("`{ident}` is given twice"));
            ok = false;
            continue;
        }
        seen[index] = true;
        match value {
            Some(v) => values[index] = Some(v),
            None => ok = false,
        }
    }
    (values, ok)
}

/// The items a convolution or pooling layer's type needs: `impl
/// #geometry_trait for #geometry` with `shape` (a `#shape_type`), and an
/// assertion, spanned on the layer, that the shape is valid (needed where
/// sizes are const items, which the kind's `output` rule cannot check).
pub fn geometry_items(
    e: &Emit<'_>,
    (geometry_trait, shape_type): (&str, &str),
    shape: TokenStream,
    message: &str,
) -> TokenStream {
    let Emit {
        krate,
        geometry,
        zero,
        ..
    } = e;
    let geometry_trait = Ident::new(geometry_trait, Span::call_site());
    let shape_type = Ident::new(shape_type, Span::call_site());
    let span = e.name.span();
    let check = quote::quote_spanned! {span=>
        const _: () = ::core::assert!(
            #zero || <#geometry as #krate::layers::#geometry_trait>::SHAPE.check().is_ok(),
            #message
        );
    };
    quote::quote! {
        impl #krate::layers::#geometry_trait for #geometry {
            const SHAPE: #krate::convolution::#shape_type = #shape;
        }
        #check
    }
}

/// `1`, spanned where a default applies.
pub fn one(span: Span) -> Size {
    Size::Literal(1, span)
}

/// `0`, spanned where a default applies.
pub fn zero(span: Span) -> Size {
    Size::Literal(0, span)
}

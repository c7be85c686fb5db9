//! Stage 2: checks a parsed spec and builds the model `expand` works from.
//!
//! Every problem found is reported, not only the first, each spanned on the
//! token at fault. Rules that need name resolution (is `Tahn` a type? is the
//! const item `H` a `usize`?) are left to rustc, which reports them on the
//! same tokens because `expand` keeps their spans; a size written as a
//! const item or block is checked once, in a const item of its own
//! ([`Hoisted`]), so that one mistake in it is one error.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, GenericArgument, GenericParam, Generics, Ident, Lit, PathArguments, Type,
    Visibility,
};

use crate::kinds::{self, Args, Kind, Rule};
use crate::parse::{Spec, Value};
use crate::shape::Shape;

/// A network known to be well formed.
pub struct Net {
    /// Attributes for the network struct (`#[network(...)]` removed).
    pub attrs: Vec<Attribute>,
    /// Path of the runtime crate, `::network` unless `#[network(crate = ...)]`.
    pub krate: TokenStream,
    pub vis: Visibility,
    pub name: Ident,
    /// The user's generic parameters: const parameters only.
    pub generics: Generics,
    /// One sample at the input.
    pub input: Shape,
    /// At least one.
    pub layers: Vec<Layer>,
    /// The const items of the sizes written as paths or blocks.
    pub hoisted: Vec<Hoisted>,
    /// The sizes that name a const parameter and must be at least 1, with
    /// the message if one is 0: asserted where the network is instantiated.
    pub generic_sizes: Vec<(TokenStream, String)>,
}

/// A size the user wrote as a const item or a `{ const expression }`,
/// checked once: `const __Net_hidden_0: usize = HIDDEN;`, spanned on the
/// user's tokens, so that a wrong type or an overflow is one error there
/// rather than one in every generated item that uses the size; and
/// asserted to be at least 1 unless it may be 0 (a padding).
pub struct Hoisted {
    pub ident: Ident,
    /// The value as written (a path in braces, or the block).
    pub value: TokenStream,
    /// The panic message if it is 0, or `None` if 0 is allowed.
    pub zero: Option<String>,
}

/// Replaces a path or block size that names none of `params` by a
/// [`Hoisted`] const item named after the network, the layer and its place.
fn hoist(
    size: Size,
    (net, layer, index): (&Ident, &str, usize),
    params: &[Ident],
    zero: Option<String>,
    (hoisted, generic): (&mut Vec<Hoisted>, &mut Vec<(TokenStream, String)>),
) -> Size {
    if !matches!(size, Size::Path(_) | Size::Block(_)) {
        return size;
    }
    if size.mentions(params).is_some() {
        if let Some(zero) = zero {
            generic.push((size.to_token_stream(), zero));
        }
        return size;
    }
    let text = size.text();
    let value = size.into_token_stream();
    // Spanned on the user's tokens, so that what rustc says of its uses
    // (an "erroneous constant" note) points there too.
    let span = value.span();
    // The same text is the same value: one item, checked once.
    if let Some(same) = hoisted
        .iter()
        .find(|h| h.value.to_string() == value.to_string())
    {
        return Size::Hoisted(Ident::new(&same.ident.to_string(), span), text);
    }
    let layer = layer.strip_prefix("r#").unwrap_or(layer);
    let name = format!("__{net}_{layer}_{index}");
    hoisted.push(Hoisted {
        ident: Ident::new(&name, Span::call_site()),
        value,
        zero,
    });
    Size::Hoisted(Ident::new(&name, span), text)
}

/// A layer of a known kind, whose input fits it.
pub struct Layer {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub kind: &'static Kind,
    /// Its sizes, in its kind's order, defaults filled in.
    pub sizes: Vec<Size>,
    /// `f` in `a = f(z)`; `None` for kinds without one (`Identity`).
    pub activation: Option<Type>,
    /// Its real-valued arguments, as [`Args::reals`].
    pub reals: Vec<f64>,
    /// One sample before and after the layer.
    pub input: Shape,
    pub output: Shape,
}

/// A width: a checked literal or a const expression left to rustc.
#[derive(Clone)]
pub enum Size {
    Literal(usize, Span),
    /// A path (emitted in braces, so any path is a valid const argument).
    Path(TokenStream),
    /// A `{ const expression }`, emitted as written.
    Block(TokenStream),
    /// A size computed from others (a convolution's output length from
    /// const items): a const expression, shown as `_` in messages.
    Computed(TokenStream),
    /// A path or block that names no const parameter, checked once in a
    /// const item of its own (see [`Hoisted`]) and named by it everywhere
    /// else; the text is the user's, for messages.
    Hoisted(Ident, String),
}

impl ToTokens for Size {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Size::Literal(n, span) => {
                let mut lit = proc_macro2::Literal::usize_unsuffixed(*n);
                lit.set_span(*span);
                lit.to_tokens(tokens);
            }
            Size::Path(path) => {
                let span = path.span();
                tokens.extend(quote_spanned!(span=> { #path }));
            }
            Size::Block(block) | Size::Computed(block) => block.to_tokens(tokens),
            Size::Hoisted(ident, _) => ident.to_tokens(tokens),
        }
    }
}

/// The scalar type parameter every generated item takes.
pub const SCALAR_PARAM: &str = "T";
/// The batch-size const parameter of the generated cache and methods: a name
/// no type is likely to have, since a type of the same name in scope would
/// be taken for it (a type `B` once broke every network in its module).
pub const BATCH_PARAM: &str = "BATCH";

/// Collects every error instead of stopping at the first.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl core::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }
}

pub fn validate(spec: Spec) -> syn::Result<Net> {
    let mut errors = Errors::default();
    let (attrs, krate) = take_crate_path(spec.attrs, &mut errors);
    check_generics(&spec.generics, &mut errors);

    let input_declared = spec.fields.iter().any(|field| field.name == "input");
    let mut fields = spec.fields.into_iter().peekable();
    let name = spec.name;
    let input_first = fields.peek().is_some_and(|first| first.name == "input");
    let input = match fields.next_if(|first| first.name == "input") {
        Some(first) => {
            if !first.attrs.is_empty() || !matches!(first.vis, Visibility::Inherited) {
                errors.spanned(
                    &first.name,
                    "`input` is not a layer and takes no attributes or visibility",
                );
            }
            input_shape(&first.value, &mut errors)
        }
        None => {
            match fields.peek() {
                None => errors.spanned(
                    &name,
                    format!(
                        "network `{name}` is empty: declare its inputs and at least one layer, as in `struct {name} {{ input: 2, output: Dense<1, Sigmoid> }}`"
                    ),
                ),
                Some(first) if !input_declared => errors.spanned(
                    &first.name,
                    format!(
                        "network `{name}` has no `input`: its first field must be `input: <width>`, the number of inputs per sample, but it is the layer `{}`",
                        first.name
                    ),
                ),
                Some(_) => {}
            }
            None
        }
    };
    // Where a misplaced `input` should have been: before this layer.
    let mut missing_input_before = if input_first {
        None
    } else {
        fields.peek().map(|field| field.name.clone())
    };

    let params: Vec<Ident> = spec
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Const(c) => Some(c.ident.clone()),
            _ => None,
        })
        .collect();
    let mut hoisted = Vec::new();
    let mut generic_sizes = Vec::new();
    let input = input.map(|input| {
        input.map_dims(|i, dim| {
            let zero = format!(
                "`input` has zero width: `{}` is 0, but the input needs at least 1 value in each dimension",
                dim.text()
            );
            hoist(
                dim,
                (&name, "input", i),
                &params,
                Some(zero),
                (&mut hoisted, &mut generic_sizes),
            )
        })
    });
    // The shape so far (unknown after an error), and what gave it.
    let mut shape = input.clone();
    let mut after = "the input".to_string();
    let mut layers: Vec<Layer> = Vec::new();
    let mut seen: Vec<Ident> = Vec::new();
    for field in fields {
        if field.name == "input" {
            match missing_input_before.take() {
                Some(first) => errors.spanned(
                    &field.name,
                    format!(
                        "`input` must be the first field of `{name}`, before the layer `{first}`"
                    ),
                ),
                None => errors.spanned(
                    &field.name,
                    "`input` is declared twice: it must appear once, as the first field",
                ),
            }
            continue;
        }
        if let Some(previous) = seen.iter().find(|seen| **seen == field.name) {
            errors.spanned(
                &field.name,
                format!("layer `{previous}` is declared twice: layer names must be unique"),
            );
        }
        seen.push(field.name.clone());
        let declared = layer(&field.name, &field.value, &mut errors);
        let Some((
            kind,
            kind_ident,
            Args {
                sizes: Some(sizes),
                activation,
                reals,
            },
        )) = declared
        else {
            shape = None;
            continue;
        };
        if kind.statistics && seen.len() > 1 {
            errors.spanned(
                &kind_ident,
                format!(
                    "`{}` rescales the network's input with statistics fitted on the training rows, so it must be the first layer: move `{}` right after `input`",
                    kind.name, field.name
                ),
            );
            shape = None;
            continue;
        }
        if let Some(activation) = &activation
            && activation_collides(activation)
        {
            errors.spanned(
                activation,
                format!("an activation named `{SCALAR_PARAM}` is taken for the network's scalar type by the generated code: write it as a path, `self::{SCALAR_PARAM}`, or rename it"),
            );
            shape = None;
            continue;
        }
        let Some(layer_input) = shape.take() else {
            continue;
        };
        let positional = sizes.len() - kind.named.len();
        let layer_name = field.name.to_string();
        let sizes: Vec<Size> = sizes
            .into_iter()
            .enumerate()
            .map(|(i, size)| {
                let named = i.checked_sub(positional).map(|n| kind.named[n]);
                let zero = match named {
                    Some("padding") => None,
                    Some(named) => Some(format!(
                        "the `{named}` of `{layer_name}` is 0 (`{}`), but must be at least 1",
                        size.text()
                    )),
                    None if kind.name == "Dense" => Some(format!(
                        "`{layer_name}` has zero width: `{}` is 0, but every layer and the input need at least 1 unit",
                        size.text()
                    )),
                    None => Some(format!(
                        "`{}` is 0 in `{layer_name}: {}<..>`, but every size of a layer but its padding must be at least 1",
                        size.text(),
                        kind.name
                    )),
                };
                hoist(
                    size,
                    (&name, &layer_name, i),
                    &params,
                    zero,
                    (&mut hoisted, &mut generic_sizes),
                )
            })
            .collect();
        let rule = Rule {
            name: &field.name,
            input: &layer_input,
            after: &after,
            sizes: &sizes,
            span: kind_ident.span(),
            params: &params,
            krate: &krate,
        };
        match (kind.output)(&rule) {
            Ok(output) => {
                shape = Some(output.clone());
                after = format!("`{}`", field.name);
                layers.push(Layer {
                    attrs: field.attrs,
                    vis: match field.vis {
                        Visibility::Inherited => spec.vis.clone(),
                        vis => vis,
                    },
                    name: field.name,
                    kind,
                    sizes,
                    activation,
                    reals,
                    input: layer_input,
                    output,
                });
            }
            Err(message) => errors.spanned(&kind_ident, message),
        }
    }
    if input.is_some() && seen.is_empty() {
        errors.spanned(
            &name,
            format!(
                "network `{name}` has no layers: add at least one after `input`, such as `output: Dense<1, Sigmoid>`"
            ),
        );
    }

    match (errors.0, input) {
        (Some(error), _) => Err(error),
        (None, Some(input)) => Ok(Net {
            attrs,
            krate,
            vis: spec.vis,
            name,
            generics: spec.generics,
            input,
            layers,
            hoisted,
            generic_sizes,
        }),
        (None, None) => Err(syn::Error::new_spanned(&name, "network has no input")),
    }
}

/// Removes `#[network(crate = path)]` from the attributes and returns the path.
fn take_crate_path(attrs: Vec<Attribute>, errors: &mut Errors) -> (Vec<Attribute>, TokenStream) {
    let mut krate = quote!(::network);
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs {
        if !attr.path().is_ident("network") {
            kept.push(attr);
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let path: syn::Path = meta.value()?.parse()?;
                krate = path.into_token_stream();
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `network` option: the only option is `crate = path::to::network`",
                ))
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    (kept, krate)
}

/// Only const generic parameters of type `usize`, and none named `T`.
fn check_generics(generics: &Generics, errors: &mut Errors) {
    for param in &generics.params {
        match param {
            GenericParam::Const(param) => {
                if param.ident == SCALAR_PARAM {
                    errors.spanned(
                        &param.ident,
                        "the generic parameter `T` is reserved for the scalar type (`f32` or `f64`); rename this one",
                    );
                }
                if param.ident == BATCH_PARAM {
                    errors.spanned(
                        &param.ident,
                        "the generic parameter `BATCH` is reserved for the batch size of the generated methods; rename this one",
                    );
                }
                if !is_usize(&param.ty) {
                    errors.spanned(
                        &param.ty,
                        format!("const parameter `{}` must be a `usize` to size a layer", param.ident),
                    );
                }
            }
            GenericParam::Type(param) => errors.spanned(
                param,
                "a network's only type parameter is its scalar, added for you as `T` (`f32` by default); use const parameters such as `const H: usize` for sizes",
            ),
            GenericParam::Lifetime(param) => {
                errors.spanned(param, "a network holds its parameters by value and takes no lifetimes")
            }
        }
    }
    if let Some(where_clause) = &generics.where_clause {
        errors.spanned(where_clause, "a network takes no `where` clause");
    }
}

/// Whether an activation is the bare name `T`, which the generated code
/// would read as its own scalar parameter.
fn activation_collides(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(SCALAR_PARAM))
}

fn is_usize(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("usize"))
}

/// `input: N`, `input: [C, L]` or `input: [C, H, W]`.
fn input_shape(value: &Value, errors: &mut Errors) -> Option<Shape> {
    let Value::List(items, tokens) = value else {
        return input_size(value, errors).map(Shape::Flat);
    };
    let dims: Vec<Option<Size>> = items.iter().map(|item| input_size(item, errors)).collect();
    let dims: Option<Vec<Size>> = dims.into_iter().collect();
    match dims?.as_slice() {
        [n] => Some(Shape::Flat(n.clone())),
        [c, l] => Some(Shape::Seq {
            channels: c.clone(),
            length: l.clone(),
        }),
        [c, h, w] => Some(Shape::Image {
            channels: c.clone(),
            height: h.clone(),
            width: w.clone(),
        }),
        _ => {
            errors.spanned(
                tokens,
                "`input` is a width (`input: 784`), channels x length (`input: [6, 100]`) or channels x height x width (`input: [1, 28, 28]`)",
            );
            None
        }
    }
}

fn input_size(value: &Value, errors: &mut Errors) -> Option<Size> {
    match value {
        Value::List(_, tokens) => {
            errors.spanned(tokens, "the sizes of `input` are numbers, not lists");
            None
        }
        Value::Type(ty) if matches!(&**ty, Type::Path(p) if has_arguments(p)) => {
            errors.spanned(
                ty,
                "`input` is not a layer: give the number of inputs, as in `input: 2`",
            );
            None
        }
        value => size(value, "input", errors),
    }
}

/// `crate`, `super`, `self` or `Self` alone, or a path ending in one: a module
/// or type, never a const.
fn ends_in_keyword(p: &syn::TypePath) -> bool {
    p.path.segments.last().is_some_and(|s| {
        ["crate", "super", "self", "Self"]
            .iter()
            .any(|k| s.ident == k)
    })
}

fn has_arguments(p: &syn::TypePath) -> bool {
    p.path
        .segments
        .iter()
        .any(|s| !matches!(s.arguments, PathArguments::None))
}

/// A width written as a field value or a generic argument.
fn size(value: &Value, what: &str, errors: &mut Errors) -> Option<Size> {
    match value {
        Value::Literal(lit) => literal_size(lit, what, errors),
        Value::Block(block) => Some(Size::Block(block.clone())),
        Value::List(_, tokens) => {
            errors.spanned(
                tokens,
                format!("the width of `{what}` must be a number, not a list"),
            );
            None
        }
        Value::Negative(tokens) => {
            errors.spanned(
                tokens,
                format!("the width of `{what}` must be a positive integer"),
            );
            None
        }
        Value::Type(ty) if matches!(&**ty, Type::Path(p) if p.qself.is_none() && !has_arguments(p) && !ends_in_keyword(p)) => {
            Some(Size::Path(ty.into_token_stream()))
        }
        Value::Type(ty) => {
            errors.spanned(
                ty,
                format!(
                    "the width of `{what}` must be an integer literal, a const item or parameter, or a `{{ const expression }}`"
                ),
            );
            None
        }
    }
}

fn literal_size(lit: &Lit, what: &str, errors: &mut Errors) -> Option<Size> {
    let Lit::Int(int) = lit else {
        errors.spanned(
            lit,
            format!(
                "the width of `{what}` must be a positive integer, not `{}`",
                lit.to_token_stream()
            ),
        );
        return None;
    };
    if int.base10_digits().starts_with('-') {
        errors.spanned(
            int,
            format!("the width of `{what}` must be a positive integer, not `{int}`"),
        );
        return None;
    }
    if !matches!(int.suffix(), "" | "usize") {
        errors.spanned(
            int,
            format!(
                "the width of `{what}` must be an unsuffixed integer or a `usize`, not `{int}`"
            ),
        );
        return None;
    }
    match int.base10_parse::<usize>() {
        Ok(0) => {
            errors.spanned(
                int,
                format!("`{what}` has zero width: every layer and the input need at least 1 unit"),
            );
            None
        }
        Ok(n) => Some(Size::Literal(n, int.span())),
        Err(_) => {
            errors.spanned(
                int,
                format!("the width of `{what}` does not fit in a `usize`"),
            );
            None
        }
    }
}

/// Checks a layer's declaration, `KIND<ARGUMENTS>`, and returns its kind
/// and what its arguments say.
fn layer(name: &Ident, value: &Value, errors: &mut Errors) -> Option<(&'static Kind, Ident, Args)> {
    let example = format!("`{name}: Dense<4, Tanh>`");
    let path = match value {
        Value::Type(ty) if matches!(&**ty, Type::Path(p) if p.qself.is_none()) => match &**ty {
            Type::Path(p) => &p.path,
            _ => return None,
        },
        Value::Type(ty) => {
            errors.spanned(ty, format!("expected a layer such as {example}"));
            return None;
        }
        Value::Literal(_) | Value::Block(_) | Value::Negative(_) | Value::List(..) => {
            errors.spanned(
                value_tokens(value),
                format!("`{name}` is a layer and needs a layer type, as in {example}; only `input` is a bare width"),
            );
            return None;
        }
    };
    let last = path.segments.last()?;
    let Some(kind) = kinds::find(&last.ident) else {
        errors.spanned(
            &last.ident,
            format!(
                "unknown layer type `{}`: {}, as in {example}",
                last.ident,
                kinds::grammar()
            ),
        );
        return None;
    };
    let kind_name = kind.name;
    let kind_example = format!("`{name}: {}`", kind.example);
    let args = match &last.arguments {
        PathArguments::AngleBracketed(args) => args,
        PathArguments::None if kind.bare => &syn::parse_quote!(<>),
        PathArguments::None => {
            errors.spanned(
                &last.ident,
                format!("`{kind_name}` needs {}, as in {kind_example}", kind.needs),
            );
            return None;
        }
        PathArguments::Parenthesized(args) => {
            errors.spanned(
                args,
                format!("`{kind_name}` takes angle brackets, as in {kind_example}"),
            );
            return None;
        }
    };
    let args = (kind.parse)(name, args, errors)?;
    args.sizes.as_ref()?;
    Some((kind, last.ident.clone(), args))
}

fn value_tokens(value: &Value) -> TokenStream {
    value.to_token_stream()
}

/// A size given as a generic argument, such as the width of `Dense<WIDTH, _>`.
pub fn generic_size(arg: &GenericArgument, name: &Ident, errors: &mut Errors) -> Option<Size> {
    let what = name.to_string();
    match arg {
        GenericArgument::Type(ty) => size(&Value::Type(Box::new(ty.clone())), &what, errors),
        GenericArgument::Const(Expr::Lit(lit)) => {
            size(&Value::Literal(lit.lit.clone()), &what, errors)
        }
        GenericArgument::Const(Expr::Block(block)) => {
            Some(Size::Block(block.block.to_token_stream()))
        }
        GenericArgument::Const(Expr::Unary(unary)) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            size(&Value::Negative(unary.to_token_stream()), &what, errors)
        }
        other => {
            errors.spanned(
                other,
                format!(
                    "the width of `{what}` must be an integer literal, a const item or parameter, or a `{{ const expression }}`"
                ),
            );
            None
        }
    }
}

/// A path such as `Tanh`, `LeakyRelu<1, 5>` or `my::Square`, seen through
/// the invisible groups of `macro_rules!` substitutions.
pub fn activation_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(_) => Some(ty),
        Type::Group(group) => activation_type(&group.elem),
        _ => None,
    }
}

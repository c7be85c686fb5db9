//! The model of shapes that `validate` threads through the chain of layers:
//! what one sample is after each layer, with every size known at expansion
//! time where it is a literal, and as a const expression where it names a
//! const item.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;

use crate::validate::Size;

/// One sample: a vector, a sequence (channels x length) or an image
/// (channels x height x width), stored flat in channel, row, column order.
#[derive(Clone)]
pub enum Shape {
    Flat(Size),
    Seq {
        channels: Size,
        length: Size,
    },
    Image {
        channels: Size,
        height: Size,
        width: Size,
    },
}

impl Shape {
    /// The values of one sample: the product of the dimensions.
    pub fn values(&self, span: Span) -> Size {
        match self {
            Shape::Flat(n) => n.clone(),
            Shape::Seq { channels, length } => Size::product(&[channels, length], span),
            Shape::Image {
                channels,
                height,
                width,
            } => Size::product(&[channels, height, width], span),
        }
    }

    /// The same shape with `f(index, dimension)` for each dimension.
    pub fn map_dims(self, mut f: impl FnMut(usize, Size) -> Size) -> Shape {
        match self {
            Shape::Flat(n) => Shape::Flat(f(0, n)),
            Shape::Seq { channels, length } => Shape::Seq {
                channels: f(0, channels),
                length: f(1, length),
            },
            Shape::Image {
                channels,
                height,
                width,
            } => Shape::Image {
                channels: f(0, channels),
                height: f(1, height),
                width: f(2, width),
            },
        }
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> Vec<&Size> {
        match self {
            Shape::Flat(n) => vec![n],
            Shape::Seq { channels, length } => vec![channels, length],
            Shape::Image {
                channels,
                height,
                width,
            } => vec![channels, height, width],
        }
    }

    /// For messages: "400 values", "6 x 100", "16 x 5 x 5".
    pub fn describe(&self) -> String {
        match self {
            Shape::Flat(n) => format!("{} values", n.text()),
            other => other
                .dims()
                .iter()
                .map(|d| d.text())
                .collect::<Vec<_>>()
                .join(" x "),
        }
    }
}

impl Size {
    /// The value, if it is a literal.
    pub fn literal(&self) -> Option<usize> {
        match self {
            Size::Literal(n, _) => Some(*n),
            Size::Path(_) | Size::Block(_) | Size::Computed(_) | Size::Hoisted(..) => None,
        }
    }

    /// As written, for messages and the architecture string.
    pub fn text(&self) -> String {
        match self {
            Size::Literal(n, _) => n.to_string(),
            Size::Path(tokens) | Size::Block(tokens) => tokens.to_string(),
            Size::Hoisted(_, text) => text.clone(),
            Size::Computed(_) => "_".to_string(),
        }
    }

    /// The product of `factors`: a literal if they all are (`None` if it
    /// overflows), else a const expression.
    pub fn product(factors: &[&Size], span: Span) -> Size {
        let values: Option<Vec<usize>> = factors.iter().map(|f| f.literal()).collect();
        if let Some(p) =
            values.and_then(|values| values.iter().try_fold(1usize, |p, v| p.checked_mul(*v)))
        {
            return Size::Literal(p, span);
        }
        let mut inner = TokenStream::new();
        for (i, f) in factors.iter().enumerate() {
            if i > 0 {
                inner.extend(quote!(*));
            }
            inner.extend(quote!((#f)));
        }
        Size::Computed(quote!({ #inner }))
    }

    /// Whether the size names one of `params` (a network's const generic
    /// parameters), which stable Rust cannot use in a computed size.
    pub fn mentions(&self, params: &[syn::Ident]) -> Option<syn::Ident> {
        fn find(tokens: TokenStream, params: &[syn::Ident]) -> Option<syn::Ident> {
            for token in tokens {
                match token {
                    TokenTree::Ident(ident) => {
                        if let Some(p) = params.iter().find(|p| **p == ident) {
                            return Some(p.clone());
                        }
                    }
                    TokenTree::Group(group) => {
                        if let Some(p) = find(group.stream(), params) {
                            return Some(p);
                        }
                    }
                    TokenTree::Punct(_) | TokenTree::Literal(_) => {}
                }
            }
            None
        }
        match self {
            Size::Literal(..) | Size::Hoisted(..) => None,
            Size::Path(tokens) | Size::Block(tokens) | Size::Computed(tokens) => {
                find(tokens.clone(), params)
            }
        }
    }
}

/// The output length of a convolution or pooling along one axis,
/// `floor((len + 2 padding - kernel) / stride) + 1`: a literal if every
/// size is (`Err` with the padded length if the kernel does not fit), else
/// a const expression (`0` if the kernel does not fit) whose validity the
/// generated geometry asserts.
pub fn out_len(
    (len, kernel, stride, padding): (&Size, &Size, &Size, &Size),
    krate: &TokenStream,
    span: Span,
) -> Result<Size, usize> {
    match (
        len.literal(),
        kernel.literal(),
        stride.literal(),
        padding.literal(),
    ) {
        (Some(l), Some(k), Some(s), Some(p)) => {
            let padded = l.saturating_add(p.saturating_mul(2));
            if k > padded || s == 0 {
                Err(padded)
            } else {
                Ok(Size::Literal((padded - k) / s + 1, span))
            }
        }
        // `0` where the kernel does not fit, which the generated geometry's
        // assertion then reports in words.
        _ => Ok(Size::Computed(
            quote!({ #krate::convolution::output_len(#len, #kernel, #stride, #padding) }),
        )),
    }
}

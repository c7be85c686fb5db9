//! The table of layer kinds: for each, how its declaration parses, its shape
//! rule and the runtime types it emits. `validate` looks a layer's kind up
//! here by name and `expand` writes the same lines for every kind, so a new
//! kind is one module here (with its runtime file in `network-core`).

mod dense;

use proc_macro2::TokenStream;
use syn::{AngleBracketedGenericArguments, Ident, Type};

use crate::validate::{Errors, Size};

/// One kind of layer.
pub struct Kind {
    /// The name a declaration uses: `Dense`.
    pub name: &'static str,
    /// A declaration of one, for error messages: `Dense<4, Tanh>`.
    pub example: &'static str,
    /// Its grammar, for error messages: `Dense<WIDTH, Activation>`.
    pub grammar: &'static str,
    /// Checks the angle-bracketed arguments of the layer `name`, reporting
    /// every problem, and returns what they declare.
    pub parse: fn(&Ident, &AngleBracketedGenericArguments, &mut Errors) -> Option<Args>,
    /// How many slices its parameters are (its runtime type's `SliceArray`).
    pub slices: usize,
    /// The runtime type of a layer with these inputs and outputs per sample.
    pub layer_type: fn(&Emit<'_>) -> TokenStream,
    /// The runtime type of its gradients.
    pub gradients_type: fn(&Emit<'_>) -> TokenStream,
}

/// What a layer's declaration says, once its activation is known to be
/// well formed (so that rules on the activation are checked even where a
/// size is not).
pub struct Args {
    /// Its outputs per sample, unless that argument was in error.
    pub width: Option<Size>,
    /// `f` in `a = f(z)`, as the user wrote it.
    pub activation: Type,
}

/// What a kind's types are written from.
pub struct Emit<'a> {
    /// The runtime crate's path.
    pub krate: &'a TokenStream,
    /// The layer's inputs and outputs per sample.
    pub inputs: &'a Size,
    pub outputs: &'a Size,
    /// Its activation.
    pub activation: &'a Type,
}

/// Every kind of layer a network can declare.
pub const KINDS: &[Kind] = &[dense::DENSE];

/// The kind named `name`, if there is one.
pub fn find(name: &Ident) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| name == kind.name)
}

/// The layer kinds for an error message: "the layer type is
/// `Dense<WIDTH, Activation>`", or "the layer types are `A<..>`, `B<..>`".
pub fn grammar() -> String {
    let each: Vec<_> = KINDS
        .iter()
        .map(|kind| format!("`{}`", kind.grammar))
        .collect();
    match each.as_slice() {
        [one] => format!("the layer type is {one}"),
        many => format!("the layer types are {}", many.join(", ")),
    }
}

//! The `network!` procedural macro. Use it through the `network` crate, which
//! documents the grammar and re-exports the runtime the generated code calls.
//!
//! The macro runs in three stages, each in its own module: `parse` turns
//! tokens into a syntax model, `validate` checks it and builds a model of the
//! network whose every size is known to chain, and `expand` writes the Rust
//! code. Each stage reports problems as `syn::Error`s spanned on the user's
//! tokens; none of them panics.

mod expand;
mod kinds;
mod parse;
mod shape;
mod validate;

use proc_macro::TokenStream;

/// Declares a feedforward network and generates its statically sized forward
/// and backward passes. See the `network` crate for the grammar.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    network_tokens(input.into()).into()
}

/// The whole macro on `proc_macro2` tokens, so tests can call it outside the
/// compiler.
fn network_tokens(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match syn::parse2::<parse::Spec>(input).and_then(validate::validate) {
        Ok(net) => expand::expand(&net),
        Err(error) => error.into_compile_error(),
    }
}

#[cfg(test)]
mod tests;

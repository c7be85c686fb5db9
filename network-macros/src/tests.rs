//! Tests of the macro on `proc_macro2` tokens, outside the compiler.

use quote::quote;

use crate::network_tokens;

fn expands(tokens: proc_macro2::TokenStream) -> String {
    network_tokens(tokens).to_string()
}

#[test]
fn valid_spec_expands_to_code() {
    let out = expands(quote! {
        pub struct Xor { input: 2, hidden: Dense<4, Tanh>, output: Dense<1, Sigmoid> }
    });
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.contains("delta1"), "{out}");
}

#[test]
fn empty_network_is_an_error() {
    let out = expands(quote! { struct Empty {} });
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("is empty"), "{out}");
}

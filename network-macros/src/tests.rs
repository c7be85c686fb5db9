//! Tests of the macro on `proc_macro2` tokens, outside the compiler.
//!
//! Three kinds: bad specs give the expected message, valid specs expand to
//! code, and two properties (random token streams, mutated valid specs)
//! showing that whatever the input, the macro returns either
//! `compile_error!`s or an expansion that parses as Rust, and never panics.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::sample::Index;
use quote::quote;

use crate::network_tokens;

/// What `network_tokens` made of an input.
enum Outcome {
    /// The messages of the `compile_error!`s it emitted.
    Errors(Vec<String>),
    /// The items of a successful expansion.
    Expansion(syn::File),
}

/// Runs the macro and checks the shape of its output: a file of only
/// `compile_error!`s with non-empty messages, or a file of items with no
/// `compile_error!` among them.
fn outcome(input: TokenStream) -> Result<Outcome, String> {
    let output = network_tokens(input);
    let file = syn::parse2::<syn::File>(output.clone())
        .map_err(|error| format!("the output is not a Rust file ({error}): {output}"))?;
    let messages: Vec<String> = file
        .items
        .iter()
        .filter_map(compile_error_message)
        .collect();
    if messages.is_empty() {
        if file.items.is_empty() || output.to_string().contains("compile_error") {
            return Err(format!(
                "an expansion without items or with a stray compile_error: {output}"
            ));
        }
        Ok(Outcome::Expansion(file))
    } else if messages.len() != file.items.len() {
        Err(format!("compile_error!s mixed with an expansion: {output}"))
    } else if messages.iter().any(|message| message.trim().is_empty()) {
        Err(format!("an empty error message: {output}"))
    } else {
        Ok(Outcome::Errors(messages))
    }
}

/// The message of `::core::compile_error! { "..." }`.
fn compile_error_message(item: &syn::Item) -> Option<String> {
    let syn::Item::Macro(item) = item else {
        return None;
    };
    let is_compile_error = item.mac.path.segments.last()?.ident == "compile_error";
    let message = syn::parse2::<syn::LitStr>(item.mac.tokens.clone()).ok()?;
    is_compile_error.then(|| message.value())
}

fn errors(input: TokenStream) -> Vec<String> {
    match outcome(input.clone()) {
        Ok(Outcome::Errors(messages)) => messages,
        Ok(Outcome::Expansion(_)) => panic!("expected an error for `{input}`"),
        Err(problem) => panic!("{problem}"),
    }
}

fn expansion(input: TokenStream) -> syn::File {
    match outcome(input.clone()) {
        Ok(Outcome::Expansion(file)) => file,
        Ok(Outcome::Errors(messages)) => panic!("`{input}` was rejected: {messages:?}"),
        Err(problem) => panic!("{problem}"),
    }
}

fn assert_error(input: TokenStream, phrase: &str) {
    let messages = errors(input.clone());
    assert!(
        messages.iter().any(|message| message.contains(phrase)),
        "`{input}`: expected an error containing {phrase:?}, got {messages:?}"
    );
}

fn struct_names(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(item) => Some(item.ident.to_string()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- valid specs

/// Specs the macro must accept; the properties mutate them.
fn valid_specs() -> Vec<TokenStream> {
    vec![
        quote! {
            /// Learns XOR.
            #[derive(Clone, Debug)]
            pub struct Xor { input: 2, hidden: Dense<4, Tanh>, output: Dense<1, Sigmoid> }
        },
        quote! {
            pub struct Generic<const H: usize> {
                input: 2,
                hidden: Dense<H, Relu>,
                mid: Dense<WIDTH, Softplus>,
                output: Dense<{ WIDTH + 1 }, Softmax>,
            }
        },
        quote! {
            #[network(crate = ::network)]
            pub(crate) struct Deep {
                input: 8,
                /// The first layer.
                l1: Dense<16, my::activations::Square>,
                pub l2: Dense<16usize, LeakyRelu<1, 5>>,
                out: Dense<3, Identity>,
            }
        },
        quote! { struct One { input: 1, out: Dense<1, Identity> } },
        quote! {
            struct Dropped {
                input: [1, 8, 8],
                conv: Conv2d<4, 3, Relu>,
                drop1: Dropout<0.25>,
                hidden: Dense<16, Relu>,
                drop2: Dropout<0>,
                out: Dense<2, Softmax>,
            }
        },
        quote! {
            struct Defaulted<const A: usize = 3> { input: A, out: Dense<{ A * 2 }, Gelu>, }
        },
    ]
}

#[test]
fn valid_specs_expand_to_code() {
    for spec in valid_specs() {
        let file = expansion(spec.clone());
        assert!(struct_names(&file).len() >= 3, "{spec}: {}", quote!(#file));
    }
}

#[test]
fn expansion_names_the_generated_types_after_the_network() {
    let file = expansion(quote! {
        pub struct Xor { input: 2, hidden: Dense<4, Tanh>, output: Dense<1, Sigmoid> }
    });
    let names = struct_names(&file);
    for expected in ["Xor", "XorGradients", "XorCache"] {
        assert!(names.iter().any(|name| name == expected), "{names:?}");
    }
    let code = quote!(#file).to_string();
    for step in [
        "z1",
        "a1",
        "z2",
        "a2",
        "delta1",
        "delta2",
        "grad_theta1",
        "grad_theta2",
        "grad_a1",
    ] {
        assert!(code.contains(step), "`{step}` missing from the expansion");
    }
}

#[test]
fn crate_option_sets_the_runtime_path() {
    let code = network_tokens(quote! {
        #[network(crate = my_runtime)]
        struct Net { input: 2, out: Dense<1, Identity> }
    })
    .to_string();
    assert!(code.contains("my_runtime :: Dense"), "{code}");
    assert!(!code.contains(":: network ::"), "{code}");
    assert!(
        !code.contains("# [network"),
        "the option must not be passed through: {code}"
    );
}

#[test]
fn widths_at_the_limits_of_usize_are_accepted() {
    let max = Literal::usize_unsuffixed(usize::MAX);
    expansion(quote! { struct Wide { input: #max, out: Dense<1usize, Identity> } });
}

// ---------------------------------------------------------------- bad specs

#[test]
fn missing_input_is_an_error() {
    assert_error(
        quote! { struct Net { hidden: Dense<4, Tanh>, out: Dense<1, Sigmoid> } },
        "has no `input`",
    );
}

#[test]
fn misplaced_input_is_an_error_on_the_input_only() {
    let messages =
        errors(quote! { struct Net { hidden: Dense<4, Tanh>, input: 2, out: Dense<1, Sigmoid> } });
    assert_eq!(
        messages,
        ["`input` must be the first field of `Net`, before the layer `hidden`"]
    );
}

#[test]
fn input_twice_is_an_error() {
    assert_error(
        quote! { struct Net { input: 2, input: 3, out: Dense<1, Sigmoid> } },
        "`input` is declared twice",
    );
    assert_error(
        quote! { struct Net { input: 0, hidden: Dense<2, Tanh>, input: 3, out: Dense<1, Sigmoid> } },
        "`input` is declared twice",
    );
}

#[test]
fn empty_network_is_an_error() {
    assert_error(quote! { struct Empty {} }, "is empty");
}

#[test]
fn network_without_layers_is_an_error() {
    assert_error(quote! { struct Net { input: 2 } }, "has no layers");
}

#[test]
fn duplicate_layer_name_is_an_error() {
    assert_error(
        quote! { struct Net { input: 2, h: Dense<4, Tanh>, h: Dense<1, Sigmoid> } },
        "layer `h` is declared twice",
    );
}

#[test]
fn bad_widths_are_errors() {
    let cases = [
        (
            quote!(input: 0, out: Dense<1, Tanh>),
            "`input` has zero width",
        ),
        (
            quote!(input: 2, out: Dense<0, Tanh>),
            "`out` has zero width",
        ),
        (
            quote!(input: -2, out: Dense<1, Tanh>),
            "must be a positive integer",
        ),
        (
            quote!(input: 2, out: Dense<-4, Tanh>),
            "must be a positive integer, not `-4`",
        ),
        (quote!(input: 2.5, out: Dense<1, Tanh>), "not `2.5`"),
        (quote!(input: 2, out: Dense<"one", Tanh>), "not `\"one\"`"),
        (quote!(input: 2, out: Dense<4u8, Tanh>), "not `4u8`"),
        (
            quote!(input: 99999999999999999999999999, out: Dense<1, Tanh>),
            "does not fit in a `usize`",
        ),
        (
            quote!(input: 2, out: Dense<[u8; 2], Tanh>),
            "the width of `out` must be",
        ),
        (
            quote!(input: 2, out: Dense<crate, Tanh>),
            "the width of `out` must be",
        ),
        (
            quote!(input: self, out: Dense<1, Tanh>),
            "the width of `input` must be",
        ),
        (
            quote!(input: 2, out: Dense<super::Self, Tanh>),
            "the width of `out` must be",
        ),
        (
            quote!(input: 2, out: Dense<f(), Tanh>),
            "expected a width or a layer",
        ),
        (
            quote!(input: Dense<2, Tanh>, out: Dense<1, Tanh>),
            "`input` is not a layer",
        ),
    ];
    for (fields, phrase) in cases {
        assert_error(quote! { struct Net { #fields } }, phrase);
    }
}

#[test]
fn bad_layers_are_errors() {
    let cases = [
        (quote!(out: Conv<4, Tanh>), "unknown layer type `Conv`"),
        (quote!(out: Tanh), "unknown layer type `Tanh`"),
        (
            quote!(out: Dense),
            "`Dense` needs a width and an activation",
        ),
        (
            quote!(out: Dense<>),
            "`Dense` needs a width and an activation",
        ),
        (quote!(out: Dense(4, Tanh)), "go in angle brackets"),
        (
            quote!(out: Dense<1, Tanh> Dense<1, Tanh>),
            "expected `,` after the value of `out`",
        ),
        (quote!(out: Dense<1>), "needs an activation after its width"),
        (
            quote!(out: Dense<1, Sigmoid, Tanh>),
            "`Dense` takes two arguments",
        ),
        (quote!(out: Dense<1, 3>), "must be an activation type"),
        (
            quote!(out: Dense<1, &Tanh>),
            "the activation of `out` must be the name of a type",
        ),
        (
            quote!(out: Dense<1, Tanh +>),
            "the activation of `out` must be the name of a type",
        ),
        (
            quote!(out: Dense<Tanh, 4>),
            "the arguments of `Dense` are swapped",
        ),
        (
            quote!(out: Conv1d<Relu, 4, 3>),
            "the arguments of `Conv1d` are out of order",
        ),
        (quote!(out: Dense<2 * 8, Tanh>), "write `{ 2 * 8 }`"),
        (
            quote!(out: Dense<4, LeakyRelu<1, 5>, WIDTH - 1>),
            "write `{ WIDTH - 1 }`",
        ),
        (quote!(out: Dense<4, T>), "write it as a path, `self::T`"),
        (quote!(final: Dense<4, Tanh>), "write `r#final`"),
        (quote!(out: 3), "`out` is a layer and needs a layer type"),
        (quote!(out: &Dense<1, Tanh>), "expected a layer such as"),
    ];
    for (layer, phrase) in cases {
        assert_error(quote! { struct Net { input: 2, #layer } }, phrase);
    }
}

/// "Softmax only in the last layer" is a trait bound rustc checks (so that
/// an alias is caught too; `tests/ui/fail/softmax-*-not-last.rs`): the
/// expansion names every hidden layer's activation as its `HiddenLayer<l>`
/// (whose type must be a `HiddenActivation`), and the output layer's as
/// none; the passes reach each through that trait.
#[test]
fn hidden_activations_are_required_to_be_hidden_activations() {
    let file = expansion(quote! {
        struct Net { input: 2, h: Dense<4, Tanh>, g: Dense<3, Sigmoid>, out: Dense<3, Softmax> }
    });
    let code = quote!(#file).to_string().replace(' ', "");
    assert!(
        code.contains("HiddenLayer<1usize>forNet<T>{typeActivation=Tanh;}"),
        "{code}"
    );
    assert!(
        code.contains("HiddenLayer<2usize>forNet<T>{typeActivation=Sigmoid;}"),
        "{code}"
    );
    assert!(!code.contains("HiddenLayer<3usize>"), "{code}");
    assert!(
        code.contains("HiddenLayerActivation<Net<T>,1usize>"),
        "{code}"
    );
    assert!(!code.contains("<Tanhas"), "{code}");
}

#[test]
fn bad_generics_are_errors() {
    let layers = quote!({ input: 2, out: Dense<1, Tanh> });
    let cases = [
        (quote!(<S>), "only type parameter is its scalar"),
        (quote!(<const T: usize>), "`T` is reserved"),
        (quote!(<const H: u32>), "must be a `usize`"),
        (quote!(<'a>), "takes no lifetimes"),
        (
            quote!(<const H: usize> where [(); H]: Sized),
            "takes no `where` clause",
        ),
    ];
    for (generics, phrase) in cases {
        assert_error(quote! { struct Net #generics #layers }, phrase);
    }
}

#[test]
fn bad_syntax_is_an_error() {
    let cases = [
        (quote!(), "expected `struct`"),
        (quote!(layers go here), "expected `struct`"),
        (
            quote!(
                enum Net {}
            ),
            "expected `struct`",
        ),
        (quote!(struct Net), "expected `{` after `struct Net`"),
        (quote!(struct Net(2)), "expected `{` after `struct Net`"),
        (
            quote!(struct Net { input: 2, hidden Dense<4, Tanh> }),
            "expected `:` after `hidden`",
        ),
        (quote!(struct Net { input: 2, out: }), "`out` needs a value"),
        (
            quote!(struct Net { input: 2, 3: Dense<1, Tanh> }),
            "expected a field such as",
        ),
        (
            quote!(struct Net { input: 2, out: Dense<1, Tanh> } struct Other {}),
            "unexpected tokens after the network's closing brace",
        ),
        (
            quote!(#[network(krate = x)] struct Net { input: 2, out: Dense<1, Tanh> }),
            "unknown `network` option",
        ),
    ];
    for (input, phrase) in cases {
        assert_error(input, phrase);
    }
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let messages = errors(quote! {
        struct Net<'a> { input: 0, h: Dense<4, Softmax>, h: Conv<1, Tanh>, out: Dense<1> }
    });
    // The lifetime, the zero width, the duplicate name, the unknown kind and
    // the missing activation (the hidden `Softmax` is rustc's to report).
    assert_eq!(messages.len(), 5, "{messages:?}");
}

// ---------------------------------------------------------------- fuzzing

/// Enough cases to explore the grammar; both properties together run in a
/// few seconds in debug builds. Fuzz longer with, e.g.,
/// `PROPTEST_CASES=100000 cargo test --release -p network-macros`.
const CASES: u32 = 2000;

fn fuzz_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig::with_cases(cases)
}

const IDENTS: &[&str] = &[
    "input",
    "Dense",
    "Conv",
    "Conv1d",
    "Conv2d",
    "MaxPool2d",
    "AvgPool1d",
    "stride",
    "padding",
    "Tanh",
    "Tahn",
    "Sigmoid",
    "Softmax",
    "Identity",
    "LeakyRelu",
    "struct",
    "enum",
    "pub",
    "crate",
    "network",
    "const",
    "usize",
    "u32",
    "where",
    "T",
    "H",
    "Net",
    "hidden",
    "output",
    "doc",
    "derive",
    "self",
    "Self",
    "fn",
    "in",
    "r#type",
    "a",
];
const PUNCTUATION: &[char] = &[
    ':', ',', '<', '>', '#', '-', '=', ';', '.', '!', '&', '*', '+', '\'', '/',
];

fn ident() -> impl Strategy<Value = TokenTree> {
    proptest::sample::select(IDENTS).prop_map(|name| {
        let ident = match name.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(name, Span::call_site()),
        };
        TokenTree::Ident(ident)
    })
}

fn punct() -> impl Strategy<Value = TokenTree> {
    (proptest::sample::select(PUNCTUATION), any::<bool>()).prop_map(|(ch, joint)| {
        let spacing = if joint {
            Spacing::Joint
        } else {
            Spacing::Alone
        };
        TokenTree::Punct(Punct::new(ch, spacing))
    })
}

fn literal() -> impl Strategy<Value = TokenTree> {
    let fixed = proptest::sample::select(vec![
        "0",
        "1",
        "2",
        "4",
        "0usize",
        "4u8",
        "4i32",
        "2.5",
        "1e400",
        "0x10",
        "1_000",
        "18446744073709551615",
        "18446744073709551616",
        "340282366920938463463374607431768211455",
        "\"one\"",
        "'a'",
        "b\"xy\"",
        "r\"raw\"",
        "c\"c\"",
    ])
    .prop_map(|text| text.parse::<Literal>().expect("a valid literal"));
    let any_integer = any::<u128>().prop_map(Literal::u128_unsuffixed);
    let negative = any::<i64>().prop_map(Literal::i64_unsuffixed);
    prop_oneof![4 => fixed, 1 => any_integer, 1 => negative].prop_map(TokenTree::Literal)
}

fn leaf() -> BoxedStrategy<TokenTree> {
    prop_oneof![4 => ident(), 4 => punct(), 2 => literal()].boxed()
}

fn delimiter() -> impl Strategy<Value = Delimiter> {
    proptest::sample::select(vec![
        Delimiter::Brace,
        Delimiter::Bracket,
        Delimiter::Parenthesis,
        Delimiter::None,
    ])
}

fn group(delimiter: Delimiter, tokens: Vec<TokenTree>) -> TokenTree {
    TokenTree::Group(Group::new(delimiter, tokens.into_iter().collect()))
}

/// Any token tree over the vocabulary, nested up to three groups deep.
fn tree() -> BoxedStrategy<TokenTree> {
    leaf()
        .prop_recursive(3, 48, 6, |inner| {
            (delimiter(), prop::collection::vec(inner, 0..6))
                .prop_map(|(delimiter, tokens)| group(delimiter, tokens))
        })
        .boxed()
}

fn trees(max: usize) -> impl Strategy<Value = Vec<TokenTree>> {
    prop::collection::vec(tree(), 0..max)
}

fn tok(name: &str) -> TokenTree {
    TokenTree::Ident(Ident::new(name, Span::call_site()))
}

fn punct_token(ch: char) -> TokenTree {
    TokenTree::Punct(Punct::new(ch, Spacing::Alone))
}

/// `KIND < ARG, ARG, ... >` for a layer kind (or a misspelt one), each
/// argument a few random trees or a `stride = ..` / `padding = ..`.
fn layer_like() -> impl Strategy<Value = Vec<TokenTree>> {
    let kinds = prop::sample::select(vec![
        "Dense",
        "Conv1d",
        "Conv2d",
        "MaxPool1d",
        "MaxPool2d",
        "AvgPool1d",
        "AvgPool2d",
        "Conv",
    ]);
    let named = (
        prop::sample::select(vec!["stride", "padding", "strides"]),
        tree(),
    )
        .prop_map(|(name, value)| vec![tok(name), punct_token('='), value]);
    let arg = prop_oneof![3 => prop::collection::vec(tree(), 1..3), 1 => named];
    (kinds, prop::collection::vec(arg, 0..6)).prop_map(|(kind, args)| {
        let mut tokens = vec![tok(kind), punct_token('<')];
        for (i, arg) in args.into_iter().enumerate() {
            if i > 0 {
                tokens.push(punct_token(','));
            }
            tokens.extend(arg);
        }
        tokens.push(punct_token('>'));
        tokens
    })
}

/// `NAME : VALUE ,` with each part possibly missing or random.
fn field_like() -> impl Strategy<Value = Vec<TokenTree>> {
    let value = prop_oneof![
        2 => layer_like(),
        1 => literal().prop_map(|literal| vec![literal]),
        1 => trees(3),
    ];
    (trees(2), ident(), any::<bool>(), value, any::<bool>()).prop_map(
        |(prefix, name, colon, value, comma)| {
            let mut tokens = prefix;
            tokens.push(name);
            if colon {
                tokens.push(punct_token(':'));
            }
            tokens.extend(value);
            if comma {
                tokens.push(punct_token(','));
            }
            tokens
        },
    )
}

/// Streams shaped like `#[..] pub struct NAME <..> { fields } tail`, with
/// every part random, so that the fuzzing reaches past the first keyword.
fn spec_like() -> impl Strategy<Value = TokenStream> {
    (
        trees(3),
        any::<bool>(),
        ident(),
        prop::option::of(trees(5)),
        prop::collection::vec(field_like(), 0..6),
        trees(2),
    )
        .prop_map(|(head, public, name, generics, fields, tail)| {
            let mut tokens = head;
            if public {
                tokens.push(tok("pub"));
            }
            tokens.push(tok("struct"));
            tokens.push(name);
            if let Some(generics) = generics {
                tokens.push(punct_token('<'));
                tokens.extend(generics);
                tokens.push(punct_token('>'));
            }
            tokens.push(group(Delimiter::Brace, fields.concat()));
            tokens.extend(tail);
            tokens.into_iter().collect()
        })
}

fn random_stream() -> impl Strategy<Value = TokenStream> {
    prop_oneof![
        1 => trees(24).prop_map(|tokens| tokens.into_iter().collect()),
        3 => spec_like(),
    ]
}

/// A token tree whose groups are open for editing.
#[derive(Clone, Debug)]
enum Node {
    Leaf(TokenTree),
    Group(Delimiter, Vec<Node>),
}

fn nodes(stream: TokenStream) -> Vec<Node> {
    stream
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => Node::Group(group.delimiter(), nodes(group.stream())),
            leaf => Node::Leaf(leaf),
        })
        .collect()
}

fn stream(nodes: &[Node]) -> TokenStream {
    nodes
        .iter()
        .map(|node| match node {
            Node::Leaf(leaf) => leaf.clone(),
            Node::Group(delimiter, inner) => {
                TokenTree::Group(Group::new(*delimiter, stream(inner)))
            }
        })
        .collect()
}

fn count(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|node| match node {
            Node::Leaf(_) => 1,
            Node::Group(_, inner) => 1 + count(inner),
        })
        .sum()
}

/// Calls `edit` with the list holding the `target`-th node (depth first)
/// and the node's position in it.
fn edit_at(
    nodes: &mut Vec<Node>,
    target: &mut usize,
    edit: &mut dyn FnMut(&mut Vec<Node>, usize),
) -> bool {
    for i in 0..nodes.len() {
        if *target == 0 {
            edit(nodes, i);
            return true;
        }
        *target -= 1;
        if let Node::Group(_, inner) = &mut nodes[i]
            && edit_at(inner, target, edit)
        {
            return true;
        }
    }
    false
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete,
    Duplicate,
    SwapWithNext,
    Replace(TokenTree),
    InsertBefore(TokenTree),
    /// Replaces a group by its contents (a leaf is left alone).
    Ungroup,
    /// Wraps a node in a group.
    Wrap(Delimiter),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::Delete),
        2 => Just(Mutation::Duplicate),
        2 => Just(Mutation::SwapWithNext),
        3 => tree().prop_map(Mutation::Replace),
        3 => tree().prop_map(Mutation::InsertBefore),
        1 => Just(Mutation::Ungroup),
        1 => delimiter().prop_map(Mutation::Wrap),
    ]
}

fn apply(nodes: &mut Vec<Node>, at: Index, mutation: &Mutation) {
    let total = count(nodes);
    if total == 0 {
        if let Mutation::Replace(tree) | Mutation::InsertBefore(tree) = mutation {
            nodes.extend(self::nodes(tree.clone().into()));
        }
        return;
    }
    let mut target = at.index(total);
    edit_at(nodes, &mut target, &mut |list, i| match mutation {
        Mutation::Delete => {
            list.remove(i);
        }
        Mutation::Duplicate => list.insert(i, list[i].clone()),
        Mutation::SwapWithNext => {
            if i + 1 < list.len() {
                list.swap(i, i + 1);
            }
        }
        Mutation::Replace(tree) => {
            list.splice(i..=i, self::nodes(tree.clone().into()));
        }
        Mutation::InsertBefore(tree) => {
            list.splice(i..i, self::nodes(tree.clone().into()));
        }
        Mutation::Ungroup => {
            if let Node::Group(_, inner) = list[i].clone() {
                list.splice(i..=i, inner);
            }
        }
        Mutation::Wrap(delimiter) => {
            let node = list[i].clone();
            list[i] = Node::Group(*delimiter, vec![node]);
        }
    });
}

fn mutated_spec() -> impl Strategy<Value = TokenStream> {
    let specs = valid_specs();
    (
        0..specs.len(),
        prop::collection::vec((any::<Index>(), mutation()), 1..5),
    )
        .prop_map(move |(spec, mutations)| {
            let mut nodes = nodes(specs[spec].clone());
            for (at, mutation) in &mutations {
                apply(&mut nodes, *at, mutation);
            }
            stream(&nodes)
        })
}

fn check(input: TokenStream) -> Result<(), TestCaseError> {
    outcome(input.clone())
        .map(drop)
        .map_err(|problem| TestCaseError::fail(format!("input `{input}`: {problem}")))
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn random_tokens_give_an_error_or_an_expansion(input in random_stream()) {
        check(input)?;
    }

    #[test]
    fn mutated_specs_give_an_error_or_an_expansion(input in mutated_spec()) {
        check(input)?;
    }
}

#[test]
fn dropout_rates_are_checked() {
    let cases = [
        (
            quote!(input: 2, d: Dropout<1.0>, out: Dense<1, Tanh>),
            "must be at least 0 and below 1, not 1",
        ),
        (
            quote!(input: 2, d: Dropout<-0.5>, out: Dense<1, Tanh>),
            "the rate of `d`",
        ),
        (
            quote!(input: 2, d: Dropout<RATE>, out: Dense<1, Tanh>),
            "must be a number literal in [0, 1)",
        ),
        (
            quote!(input: 2, d: Dropout<0.5, 0.5>, out: Dense<1, Tanh>),
            "`Dropout` takes one argument",
        ),
        (
            quote!(input: 2, d: Dropout, out: Dense<1, Tanh>),
            "`Dropout` needs a rate",
        ),
    ];
    for (layers, phrase) in cases {
        assert_error(quote!(struct Net { #layers }), phrase);
    }
}

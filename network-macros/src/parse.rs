//! Stage 1: tokens to a syntax model. Only the shape of the grammar is checked
//! here; what the pieces mean is `validate`'s job.
//!
//! ```text
//! network! {
//!     #[attributes] /// docs
//!     VIS struct NAME<const P: usize, ...> {
//!         input: SIZE | [SIZE, SIZE] | [SIZE, SIZE, SIZE],
//!         #[attributes] VIS LAYER_NAME: KIND<ARGUMENTS>,
//!         ...
//!     }
//! }
//! SIZE = integer literal | const item or const parameter | { const expression }
//! ```

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Generics, Ident, Lit, Token, Type, Visibility, braced};

/// A whole `network!` invocation.
pub struct Spec {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub generics: Generics,
    pub fields: Punctuated<Field, Token![,]>,
}

/// One `name: value` line of the struct body.
pub struct Field {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub value: Value,
}

/// What stands after a field's colon.
pub enum Value {
    /// `2`, `2usize`, `2.5`, `"two"`, ...: checked by `validate`.
    Literal(Lit),
    /// `{ N * 2 }`: a const expression.
    Block(TokenStream),
    /// `-2`: a negative width, reported by `validate`.
    Negative(TokenStream),
    /// `[6, 100]`, `[1, 28, 28]`: an input of channels x length or channels x
    /// height x width; the tokens are the whole list, for spans.
    List(Vec<Value>, TokenStream),
    /// `H`, `config::WIDTH`, `Dense<4, Tanh>`, ...
    Type(Box<Type>),
}

impl Parse for Spec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let lookahead = input.lookahead1();
        if !lookahead.peek(Token![struct]) {
            return Err(syn::Error::new(
                input.span(),
                "expected `struct`: declare a network as `struct Name { input: 2, hidden: Dense<4, Tanh>, ... }`",
            ));
        }
        input.parse::<Token![struct]>()?;
        let name: Ident = input.parse()?;
        let mut generics: Generics = input.parse()?;
        generics.where_clause = input.parse()?;
        if !input.peek(syn::token::Brace) {
            return Err(syn::Error::new(
                input.span(),
                format!("expected `{{` after `struct {name}`: the layers go in braces"),
            ));
        }
        let content;
        braced!(content in input);
        let fields = content.parse_terminated(Field::parse, Token![,])?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the network's closing brace: one `network!` declares one network",
            ));
        }
        Ok(Spec {
            attrs,
            vis,
            name,
            generics,
            fields,
        })
    }
}

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        if let Ok(keyword) = input.fork().call(Ident::parse_any)
            && input.fork().parse::<Ident>().is_err()
            && input.peek2(Token![:])
        {
            return Err(syn::Error::new(
                keyword.span(),
                format!(
                    "`{keyword}` is a Rust keyword: write `r#{keyword}` to name a layer `{keyword}`"
                ),
            ));
        }
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a field such as `input: 2` or `hidden: Dense<4, Tanh>`",
            )
        })?;
        if !input.peek(Token![:]) {
            return Err(syn::Error::new(
                input.span(),
                format!("expected `:` after `{name}`, as in `{name}: Dense<4, Tanh>`"),
            ));
        }
        input.parse::<Token![:]>()?;
        let value = Value::parse(input, &name)?;
        if input.peek(syn::token::Paren) {
            return Err(input.error(format!(
                "a layer's width and activation go in angle brackets, as in `{name}: Dense<4, Tanh>`"
            )));
        }
        if !input.is_empty() && !input.peek(Token![,]) {
            return Err(input.error(format!(
                "expected `,` after the value of `{name}`: fields are separated by commas"
            )));
        }
        Ok(Field {
            attrs,
            vis,
            name,
            value,
        })
    }
}

impl ToTokens for Value {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Value::Literal(lit) => lit.to_tokens(tokens),
            Value::Block(inner) | Value::Negative(inner) | Value::List(_, inner) => {
                tokens.extend(inner.clone())
            }
            Value::Type(ty) => ty.to_tokens(tokens),
        }
    }
}

impl Value {
    fn parse(input: ParseStream, name: &Ident) -> syn::Result<Self> {
        if input.peek(Lit) {
            return Ok(Value::Literal(input.parse()?));
        }
        if input.peek(syn::token::Brace) {
            let block: syn::Block = input.parse()?;
            return Ok(Value::Block(block.into_token_stream()));
        }
        if input.peek(syn::token::Bracket) {
            let content;
            let bracket = syn::bracketed!(content in input);
            let mut items = Vec::new();
            while !content.is_empty() {
                items.push(Value::parse(&content, name)?);
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            let mut tokens = TokenStream::new();
            bracket.surround(&mut tokens, |inner| {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        <Token![,]>::default().to_tokens(inner);
                    }
                    item.to_tokens(inner);
                }
            });
            return Ok(Value::List(items, tokens));
        }
        if input.peek(Token![-]) {
            let minus: Token![-] = input.parse()?;
            let rest: Lit = input.parse()?;
            let mut tokens = minus.into_token_stream();
            rest.to_tokens(&mut tokens);
            return Ok(Value::Negative(tokens));
        }
        if input.is_empty() || input.peek(Token![,]) {
            return Err(input.error(format!(
                "`{name}` needs a value: a width such as `{name}: 2` for the input, or a layer such as `{name}: Dense<4, Tanh>`"
            )));
        }
        if let Some(error) = unbraced_expression(input) {
            return Err(error);
        }
        input
            .parse()
            .map(|ty| Value::Type(Box::new(ty)))
            .map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected a width or a layer such as `Dense<4, Tanh>` for `{name}`"),
                )
            })
    }
}

/// An error if the value is a layer whose angle brackets hold an argument
/// with an arithmetic operator outside braces (`Dense<2 * 8, Tanh>`), which
/// Rust cannot parse as a generic argument; looks ahead without consuming.
fn unbraced_expression(input: ParseStream) -> Option<syn::Error> {
    let fork = input.fork();
    fork.call(syn::Path::parse_mod_style).ok()?;
    // The path without its arguments, then what follows the `<`, by hand.
    let args = fork
        .step(|cursor| {
            let mut rest = *cursor;
            let mut tokens = Vec::new();
            let mut depth = 0usize;
            let mut started = false;
            while let Some((token, next)) = rest.token_tree() {
                if let proc_macro2::TokenTree::Punct(punct) = &token {
                    match punct.as_char() {
                        '<' => {
                            depth += 1;
                            started = true;
                            if depth == 1 {
                                rest = next;
                                continue;
                            }
                        }
                        '>' if depth == 1 => break,
                        '>' => depth = depth.saturating_sub(1),
                        ',' if depth == 0 => break,
                        _ => {}
                    }
                }
                if started && depth >= 1 {
                    tokens.push(token);
                } else if !started {
                    break;
                }
                rest = next;
            }
            Ok((tokens, rest))
        })
        .ok()?;
    // Each top-level argument: one with a binary operator is an expression.
    for arg in args.split(|t| matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ',')) {
        // Something on each side: a binary operator, not a sign or a
        // stray `+` after an activation.
        let inner = arg.get(1..arg.len().saturating_sub(1)).unwrap_or_default();
        let operator = inner.iter().any(
            |t| matches!(t, proc_macro2::TokenTree::Punct(p) if "+-*/%".contains(p.as_char())),
        );
        if operator {
            let tokens: TokenStream = arg.iter().cloned().collect();
            return Some(syn::Error::new_spanned(
                &tokens,
                format!(
                    "a width computed from an expression goes in braces: write `{{ {tokens} }}`"
                ),
            ));
        }
    }
    None
}

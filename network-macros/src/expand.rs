//! Stage 3: writes the network's code from a validated model. Cannot fail.
//!
//! The generated code names every step after the backprop equations so that
//! `cargo expand` output reads like the math: `z1`, `a1`, `delta2`,
//! `grad_w2`. Each step is a `let` with its full static type, so a product
//! of the wrong shape anywhere in the chain is a type error.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::GenericParam;
use syn::spanned::Spanned;

use crate::kinds::Emit;
use crate::validate::{Hoisted, Layer, Net, Size};

/// Names and token fragments shared by every generated item.
struct Names<'a> {
    net: &'a Net,
    krate: &'a TokenStream,
    gradients: Ident,
    cache: Ident,
    /// `const H: usize, ` as written by the user (with defaults), for struct declarations.
    decl_params: TokenStream,
    /// `const H: usize, ` without defaults, for impl blocks.
    impl_params: TokenStream,
    /// `H, `, for naming the types.
    args: TokenStream,
    /// `sizes[0]` is the input's values per sample, `sizes[l]` layer `l`'s.
    sizes: Vec<Size>,
    /// Each layer's activation (`Identity` for kinds without one).
    activations: Vec<TokenStream>,
    /// Each layer's activation as the generated passes name it: through
    /// `HiddenLayer<l>` or `Network::OutputActivation`, so that a type the
    /// user named that is not an activation is one error, where the
    /// network's impls name it, not one more at every use.
    passes: Vec<TokenStream>,
    /// Each layer's geometry marker type (declared only for the kinds
    /// whose `items` use it).
    geometries: Vec<Ident>,
}

pub fn expand(net: &Net) -> TokenStream {
    let names = Names::new(net);
    let network_struct = network_struct(&names);
    let gradients_struct = gradients_struct(&names);
    let cache_struct = cache_struct(&names);
    let inherent_impl = inherent_impl(&names);
    let network_impl = network_impl(&names);
    let zeroable_impls = zeroable_impls(&names);
    let geometries = geometries(&names);
    let hidden_activations = hidden_activations(&names);
    let krate = &net.krate;
    let hoisted = hoisted(net);
    quote! {
        #hoisted
        #geometries
        #network_struct
        #gradients_struct
        #cache_struct
        // Outside the anonymous const below, so that rustc's notes name its
        // methods `Xor::<T>::forward` rather than `_::<impl Xor<T>>::forward`.
        #inherent_impl
        // The trait impls sit in an anonymous const so that they can import
        // the matrix types under their short names without touching the
        // user's namespace.
        const _: () = {
            use #krate::__private::SMatrix;
            use #krate::Layer as _;
            #network_impl
            #zeroable_impls
            #hidden_activations
        };
    }
}

impl<'a> Names<'a> {
    fn new(net: &'a Net) -> Self {
        let mut decl_params = TokenStream::new();
        let mut impl_params = TokenStream::new();
        let mut args = TokenStream::new();
        for param in &net.generics.params {
            if let GenericParam::Const(param) = param {
                let (ident, ty) = (&param.ident, &param.ty);
                decl_params.extend(quote!(#param,));
                impl_params.extend(quote!(const #ident: #ty,));
                args.extend(quote!(#ident,));
            }
        }
        let span = net.name.span();
        let mut sizes = vec![net.input.values(span)];
        sizes.extend(net.layers.iter().map(|layer| layer.output.values(span)));
        let krate = &net.krate;
        let activations = net
            .layers
            .iter()
            .map(|layer| match &layer.activation {
                Some(activation) => quote!(#activation),
                None => quote!(#krate::Identity),
            })
            .collect();
        let (name, last) = (&net.name, net.layers.len());
        let passes = net
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| match &layer.activation {
                None => quote!(#krate::Identity),
                Some(_) if i + 1 == last => {
                    let (input, output) = (&sizes[0], &sizes[last]);
                    quote!(#krate::__private::OutputLayerActivation<#name<#args T>, T, #input, #output>)
                }
                Some(_) => {
                    let l = i + 1;
                    quote!(#krate::__private::HiddenLayerActivation<#name<#args T>, #l>)
                }
            })
            .collect();
        let geometries = net
            .layers
            .iter()
            .map(|layer| format_ident!("{}{}Geometry", net.name, camel_case(&layer.name)))
            .collect();
        Names {
            net,
            krate: &net.krate,
            gradients: format_ident!("{}Gradients", net.name),
            cache: format_ident!("{}Cache", net.name),
            decl_params,
            impl_params,
            args,
            sizes,
            activations,
            passes,
            geometries,
        }
    }

    fn input(&self) -> &Size {
        &self.sizes[0]
    }

    fn output(&self) -> &Size {
        &self.sizes[self.sizes.len() - 1]
    }

    /// `(layer number from 1, layer, inputs, outputs)` for every layer.
    fn layers(&self) -> impl Iterator<Item = (usize, &'a Layer, &Size, &Size)> + '_ {
        self.net
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| (i + 1, layer, &self.sizes[i], &self.sizes[i + 1]))
    }

    /// Layer `l`'s activation (from 1).
    fn activation(&self, l: usize) -> &TokenStream {
        &self.activations[l - 1]
    }

    /// Layer `l`'s activation as the passes name it (see [`Names::passes`]).
    fn pass_activation(&self, l: usize) -> &TokenStream {
        &self.passes[l - 1]
    }

    /// `a_l` for `l >= 1`, and the input `x` for `l = 0`.
    fn activation_name(l: usize) -> Ident {
        if l == 0 {
            format_ident!("x")
        } else {
            format_ident!("a{}", l)
        }
    }

    /// The runtime type of layer `l` (from 1), as its kind writes it.
    fn layer_type(&self, l: usize) -> TokenStream {
        let layer = &self.net.layers[l - 1];
        (layer.kind.layer_type)(&self.emit(l))
    }

    /// The runtime type of layer `l`'s gradients, as its kind writes it.
    fn gradients_type(&self, l: usize) -> TokenStream {
        let layer = &self.net.layers[l - 1];
        (layer.kind.gradients_type)(&self.emit(l))
    }

    /// Whether a training pass draws random numbers (a layer is `Dropout`).
    fn random(&self) -> bool {
        self.net.layers.iter().any(|layer| layer.kind.random)
    }

    /// Whether one of layer `l`'s sizes that must be at least 1 is 0 (see
    /// [`Emit::zero`]).
    fn zero(&self, l: usize) -> TokenStream {
        let checked = self.net.layers[l - 1]
            .sizes
            .iter()
            .filter_map(|size| match size {
                Size::Hoisted(ident, _) => self
                    .net
                    .hoisted
                    .iter()
                    .any(|h| h.ident == *ident && h.zero.is_some())
                    .then_some(ident),
                _ => None,
            });
        quote!((false #(|| #checked == 0)*))
    }

    /// What layer `l`'s kind writes its types and items from.
    fn emit(&self, l: usize) -> Emit<'_> {
        let layer = &self.net.layers[l - 1];
        Emit {
            krate: self.krate,
            input: &layer.input,
            output: &layer.output,
            inputs: &self.sizes[l - 1],
            outputs: &self.sizes[l],
            sizes: &layer.sizes,
            activation: &self.activations[l - 1],
            reals: &layer.reals,
            geometry: &self.geometries[l - 1],
            name: &layer.name,
            kind: layer.kind,
            zero: self.zero(l),
        }
    }
}

fn network_struct(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        decl_params,
        ..
    } = n;
    let (attrs, vis, name) = (&net.attrs, &net.vis, &net.name);
    let fields = n.layers().map(|(l, layer, _, _)| {
        let (attrs, vis, field) = (&layer.attrs, &layer.vis, &layer.name);
        let ty = n.layer_type(l);
        quote! {
            #(#attrs)*
            #vis #field: #ty,
        }
    });
    // The header's own tokens (the scalar's bound among them) on the
    // network's name: a note on the struct, or on `Net::<i32>`, then
    // quotes that token, not the whole invocation.
    let span = name.span();
    // (Not the generics' brackets: with them on the user's token, rustc
    // would suggest adding a type parameter for a misspelt activation.)
    let (repr, keyword, scalar) = (
        respan(quote!(#[repr(C)]), span),
        respan(quote!(struct), span),
        respan(quote!(#krate::Scalar), span),
    );
    // The braces too (not the fields in them), so that the item's span
    // does not reach the invocation's.
    let mut body = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, quote!(#(#fields)*));
    body.set_span(span);
    quote! {
        #(#attrs)*
        #repr
        #vis #keyword #name<#decl_params T: #scalar = f32> #body
    }
}

fn gradients_struct(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        decl_params,
        impl_params,
        args,
        gradients,
        ..
    } = n;
    let (vis, name) = (&net.vis, &net.name);
    let doc = format!(
        "The gradient of the loss with respect to every parameter of [`{name}`], layer by layer, in the same shapes."
    );
    let fields = n.layers().map(|(l, layer, _, _)| {
        let field = &layer.name;
        let doc = format!("The gradients of the parameters of layer `{field}`.");
        let ty = n.gradients_type(l);
        quote! {
            #[doc = #doc]
            pub #field: #ty,
        }
    });
    let zeros = n.layers().map(|(l, layer, _, _)| {
        let field = &layer.name;
        let ty = n.gradients_type(l);
        quote!(#field: <#ty as #krate::Gradients<T>>::zeros(),)
    });
    let parameters_impl = parameters_impl(n, gradients, |l| n.gradients_type(l), false);
    // The header spanned on the network's name: rustc's help that these
    // are not another network's gradients then quotes that one token.
    let gradients_header = respan(
        quote!(struct #gradients<#decl_params T: #krate::Scalar = f32>),
        name.span(),
    );
    // Its braces too (not the fields in them), so that the item's span
    // does not reach the invocation's.
    let mut gradients_body =
        proc_macro2::Group::new(proc_macro2::Delimiter::Brace, quote!(#(#fields)*));
    gradients_body.set_span(name.span());
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[repr(C)]
        #vis #gradients_header #gradients_body

        #parameters_impl

        impl<#impl_params T: #krate::Scalar> #krate::HasGradients for #name<#args T> {
            type Gradients = #gradients<#args T>;
        }

        impl<#impl_params T: #krate::Scalar> #krate::Gradients<T> for #gradients<#args T> {
            fn zeros() -> Self {
                #gradients { #(#zeros)* }
            }
        }

        impl<#impl_params T: #krate::Scalar> ::core::ops::AddAssign<&#gradients<#args T>> for #gradients<#args T> {
            fn add_assign(&mut self, other: &Self) {
                #krate::Parameters::accumulate(self, other);
            }
        }

        impl<#impl_params T: #krate::Scalar> ::core::ops::MulAssign<T> for #gradients<#args T> {
            fn mul_assign(&mut self, factor: T) {
                #krate::Parameters::scale(self, factor);
            }
        }
    }
}

/// `Parameters` for the network or its gradients (whose layer fields have
/// the types `field_type` writes): the count is the layers' counts added
/// up, and the slices are each layer's, layer by layer, in its own order.
fn parameters_impl(
    n: &Names,
    ty: &Ident,
    field_type: impl Fn(usize) -> TokenStream,
    statistics: bool,
) -> TokenStream {
    let Names {
        krate,
        impl_params,
        args,
        ..
    } = n;
    let counts = n.layers().map(|(l, _, _, _)| {
        let ty = field_type(l);
        quote!(<#ty as #krate::Parameters<T>>::PARAMETERS)
    });
    // `let [hidden_0, hidden_1] = SliceArray::<T, 2>::slice_array(&self.hidden);`
    // for every layer, then one array of all the slices.
    let mut lets = TokenStream::new();
    let mut lets_mut = TokenStream::new();
    let mut all = Vec::new();
    for layer in &n.net.layers {
        let field = &layer.name;
        let count = layer.kind.slices;
        let names: Vec<_> = (0..count)
            .map(|i| format_ident!("{}_{}", field, i))
            .collect();
        lets.extend(quote! {
            let [#(#names),*] = #krate::SliceArray::<T, #count>::slice_array(&self.#field);
        });
        lets_mut.extend(quote! {
            let [#(#names),*] = #krate::SliceArray::<T, #count>::slice_array_mut(&mut self.#field);
        });
        all.extend(names);
    }
    let statistics = if statistics {
        statistics_items(n)
    } else {
        TokenStream::new()
    };
    quote! {
        impl<#impl_params T: #krate::Scalar> #krate::Parameters<T> for #ty<#args T> {
            const PARAMETERS: usize = 0 #(+ #counts)*;
            #statistics

            fn slices(&self) -> impl ::core::iter::Iterator<Item = &[T]> {
                #lets
                [#(#all),*].into_iter()
            }

            fn slices_mut(&mut self) -> impl ::core::iter::Iterator<Item = &mut [T]> {
                #lets_mut
                [#(#all),*].into_iter()
            }
        }
    }
}

/// The network's `Parameters::STATISTICS`, `statistics` and
/// `statistics_mut`: those of its layers that have statistics
/// (`Standardize`), in order; nothing (the defaults, none) without such a
/// layer.
fn statistics_items(n: &Names) -> TokenStream {
    let krate = n.krate;
    let fields: Vec<_> = n
        .layers()
        .filter(|(_, layer, _, _)| layer.kind.statistics)
        .map(|(l, layer, _, _)| (&layer.name, n.layer_type(l)))
        .collect();
    let Some(((first, _), rest)) = fields.split_first() else {
        return TokenStream::new();
    };
    let counts = fields
        .iter()
        .map(|(_, ty)| quote!(<#ty as #krate::Parameters<T>>::STATISTICS));
    let others: Vec<_> = rest.iter().map(|(field, _)| field).collect();
    quote! {
        const STATISTICS: usize = 0 #(+ #counts)*;

        fn statistics(&self) -> impl ::core::iter::Iterator<Item = &[T]> {
            #krate::Parameters::statistics(&self.#first)
                #(.chain(#krate::Parameters::statistics(&self.#others)))*
        }

        fn statistics_mut(&mut self) -> impl ::core::iter::Iterator<Item = &mut [T]> {
            #krate::Parameters::statistics_mut(&mut self.#first)
                #(.chain(#krate::Parameters::statistics_mut(&mut self.#others)))*
        }
    }
}

fn cache_struct(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        decl_params,
        impl_params,
        args,
        cache,
        ..
    } = n;
    let (vis, name) = (&net.vis, &net.name);
    let doc = format!(
        "What [`{name}`]'s training forward pass keeps for the backward pass: each layer's pre-activation `z` and activation `a`, for `BATCH` samples (one per column)."
    );
    let fields = n.layers().map(|(l, layer, _, outputs)| {
        let (z, a) = (format_ident!("z{}", l), format_ident!("a{}", l));
        let prev = Names::activation_name(l - 1);
        let field = &layer.name;
        let z_doc = format!("`{z} = W{l} {prev} + b{l}`, the pre-activation of layer `{field}`.");
        let a_doc = format!("`{a} = f{l}({z})`, the activation of layer `{field}`.");
        quote! {
            #[doc = #z_doc]
            pub #z: #krate::__private::SMatrix<T, #outputs, BATCH>,
            #[doc = #a_doc]
            pub #a: #krate::__private::SMatrix<T, #outputs, BATCH>,
        }
    });
    let last = net.layers.len();
    let (z_last, a_last) = (format_ident!("z{}", last), format_ident!("a{}", last));
    let output = n.output();
    let (noise_field, noise_fn) = if n.random() {
        (
            quote! {
                /// The key of the pass, from which the backward pass
                /// regenerates its dropout masks.
                pub noise: #krate::Noise,
            },
            quote! {
                fn noise(&self) -> #krate::Noise {
                    self.noise
                }
            },
        )
    } else {
        (quote!(), quote!())
    };
    let zero_fields = (1..=last).map(|l| {
        let (z, a) = (format_ident!("z{}", l), format_ident!("a{}", l));
        quote!(#z: #krate::__private::zeros(), #a: #krate::__private::zeros(),)
    });
    let zero_noise = if n.random() {
        quote!(noise: #krate::Noise::OFF,)
    } else {
        quote!()
    };
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq)]
        #vis struct #cache<#decl_params T: #krate::Scalar = f32, const BATCH: usize = 1> {
            #(#fields)*
            #noise_field
        }

        impl<#impl_params T: #krate::Scalar, const BATCH: usize> #krate::Cache<T, #output, BATCH> for #cache<#args T, BATCH> {
            fn zeroed() -> Self {
                #cache { #(#zero_fields)* #zero_noise }
            }
            fn logits(&self) -> &#krate::__private::SMatrix<T, #output, BATCH> {
                &self.#z_last
            }
            fn logits_mut(&mut self) -> &mut #krate::__private::SMatrix<T, #output, BATCH> {
                &mut self.#z_last
            }
            fn output(&self) -> &#krate::__private::SMatrix<T, #output, BATCH> {
                &self.#a_last
            }
            #noise_fn
        }
    }
}

/// How [`forward_steps`] keeps each `z_l` and `a_l`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// As typed lets (inference, and the by-value training pass).
    Lets,
    /// In the fields of `cache` (`forward_cache_into`).
    InCache,
}

/// The forward steps `z_l = W_l a_(l-1) + b_l`, `a_l = f_l(z_l)`, kept as
/// `keep` says; a random layer draws from `noise` (in scope where they are
/// used).
fn forward_steps(n: &Names, keep: Keep) -> TokenStream {
    let krate = n.krate;
    let steps = n.layers().map(|(l, layer, _, outputs)| {
        let (z, a) = (format_ident!("z{}", l), format_ident!("a{}", l));
        let prev = Names::activation_name(l - 1);
        let (field, activation) = (&layer.name, n.pass_activation(l));
        match keep {
            Keep::Lets => {
                let prev = if l == 1 { quote!(x) } else { quote!(&#prev) };
                quote! {
                    let #z: SMatrix<T, #outputs, BATCH> = self.#field.pre_activation(#prev, noise.for_layer(#l));
                    let #a: SMatrix<T, #outputs, BATCH> = <#activation as #krate::Activation>::forward(&#z);
                }
            }
            Keep::InCache => {
                let prev = if l == 1 {
                    quote!(x)
                } else {
                    quote!(&cache.#prev)
                };
                quote! {
                    self.#field.pre_activation_into(#prev, noise.for_layer(#l), &mut cache.#z);
                    <#activation as #krate::Activation>::forward_into(&cache.#z, &mut cache.#a);
                }
            }
        }
    });
    quote!(#(#steps)*)
}

/// The backward steps from `delta_L` (in `cache.zL`) down to `delta_1`,
/// each `delta_l` written over `cache.z_l`, writing every layer's
/// `grad_theta_l` into `grads`; with `input_gradient`, ends with `dC/dx`
/// (`W_1^T delta_1` for `Dense`) written into `grad_x`.
///
/// `delta_(l-1) = (dz_l/da_(l-1))^T delta_l ∘ f_(l-1)'(z_(l-1))`: with an
/// element-wise `f_(l-1)` and a layer `l` that does not read its input
/// backwards, `f'` is written over `a_(l-1)` and the product over
/// `z_(l-1)`, in place; otherwise `dC/da_(l-1)` takes a matrix of its own.
fn backward_steps(n: &Names, input_gradient: bool) -> TokenStream {
    let krate = n.krate;
    let layers: Vec<_> = n.layers().collect();
    let mut steps = TokenStream::new();
    for &(l, layer, inputs, outputs) in layers.iter().rev() {
        // `delta_l` lives in the storage of `z_l`.
        let (delta, z) = (format_ident!("delta{}", l), format_ident!("z{}", l));
        let grad_theta = format_ident!("grad_theta{}", l);
        let prev = Names::activation_name(l - 1);
        let prev_value = if l == 1 {
            quote!(x)
        } else {
            quote!(&cache.#prev)
        };
        let field = &layer.name;
        let gradients_type = n.gradients_type(l);
        steps.extend(quote! {
            let #delta: &SMatrix<T, #outputs, BATCH> = &cache.#z;
            let #grad_theta: &mut #gradients_type = &mut grads.#field;
            self.#field.parameter_gradients_into(#delta, #prev_value, #grad_theta);
        });
        if l > 1 {
            let (z_prev, below_activation) =
                (format_ident!("z{}", l - 1), n.pass_activation(l - 1));
            let delta_prev = format_ident!("delta{}", l - 1);
            let f_prime = format_ident!("f_prime{}", l - 1);
            let layer_type = n.layer_type(l);
            let grad_a_prev = format_ident!("grad_a{}", l - 1);
            steps.extend(quote! {
                if !<#below_activation as #krate::Activation>::ELEMENT_WISE {
                    let mut #grad_a_prev = SMatrix::<T, #inputs, BATCH>::zeros();
                    self.#field.input_gradient_into(#delta, &cache.#prev, noise.for_layer(#l), &mut #grad_a_prev);
                    cache.#z_prev =
                        <#below_activation as #krate::Activation>::backward(&cache.#z_prev, &cache.#prev, &#grad_a_prev);
                } else if <#layer_type as #krate::Layer<T, #inputs, #outputs>>::BACKWARD_READS_INPUT {
                    // `dC/da` first (the layer reads `a`), then f'(z) over
                    // `a` and their product over `z`.
                    let mut #grad_a_prev = SMatrix::<T, #inputs, BATCH>::zeros();
                    self.#field.input_gradient_into(#delta, &cache.#prev, noise.for_layer(#l), &mut #grad_a_prev);
                    let #f_prime: &mut SMatrix<T, #inputs, BATCH> = &mut cache.#prev;
                    <#below_activation as #krate::Activation>::derivative_in_place(&cache.#z_prev, #f_prime);
                    #krate::kernels::hadamard_into(&mut cache.#z_prev, &#grad_a_prev, #f_prime);
                } else {
                    // f'(z) over `a`, then `dC/da` and its product with f'
                    // over `z`.
                    let #f_prime: &mut SMatrix<T, #inputs, BATCH> = &mut cache.#prev;
                    <#below_activation as #krate::Activation>::derivative_in_place(&cache.#z_prev, #f_prime);
                    let #delta_prev: &mut SMatrix<T, #inputs, BATCH> = &mut cache.#z_prev;
                    self.#field.input_gradient_into(#delta, #f_prime, noise.for_layer(#l), #delta_prev);
                    #krate::kernels::hadamard_in_place(#delta_prev, #f_prime);
                }
            });
        } else if input_gradient {
            steps.extend(quote! {
                let grad_x: &mut SMatrix<T, #inputs, BATCH> = grad_x;
                self.#field.input_gradient_into(#delta, x, noise.for_layer(#l), grad_x);
            });
        }
    }
    steps
}

fn inherent_impl(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        impl_params,
        args,
        gradients,
        cache,
        ..
    } = n;
    let name = &net.name;
    let (input, output) = (n.input(), n.output());
    let layers = net.layers.len();
    let this = quote!(<Self as #krate::Network<T, #input, #output>>);
    let fit_statistics = fit_statistics(n);
    // The bounds of the methods, spanned on the network's name: rustc's
    // "required by this bound" note then quotes that one token, not the
    // whole invocation.
    let span = name.span();
    let samples = respan(quote!(#krate::Samples<T, #input, BATCH>), span);
    let targets = respan(quote!(#krate::Targets<T, #output, BATCH>), span);
    let deterministic = respan(quote!(#krate::Deterministic), span);
    let (x, y) = (Ident::new("X", span), Ident::new("Y", span));
    let this_type = quote_spanned!(span=> Self);
    let generic_sizes = net.generic_sizes.iter().map(|(size, message)| {
        let span = size.span();
        quote_spanned! {span=> ::core::assert!(#size > 0, "{}", #message); }
    });
    // The sentence is core's (`__private::empty_batch!`), as its other
    // methods' zero-batch checks say it; the check is here, spanned on the
    // network's name, so that rustc reports it there.
    let batch = |method: &str| {
        let method = proc_macro2::Literal::string(method);
        let span = name.span();
        quote_spanned! {span=>
            const {
                ::core::assert!(BATCH > 0, "{}", #krate::__private::empty_batch!(#method))
            };
        }
    };
    let positive = positive_sizes(name);
    let (batch_train, batch_train_with) = (batch("forward_train"), batch("forward_train_with"));
    quote! {
        impl<#impl_params T: #krate::Scalar> #name<#args T> {
            #fit_statistics
            /// Every size that a const parameter gives is at least 1:
            /// evaluated (and a compile error if not) wherever the network
            /// is built or run.
            #[doc(hidden)]
            pub const __SIZES_ARE_POSITIVE: () = { #(#generic_sizes)* };

            /// The number of inputs per sample.
            pub const INPUTS: usize = #input;
            /// The number of outputs per sample.
            pub const OUTPUTS: usize = #output;
            /// The number of parameters (weights and biases).
            pub const PARAMETERS: usize = <Self as #krate::Parameters<T>>::PARAMETERS;
            /// The number of layers, not counting the input.
            pub const LAYERS: usize = #layers;

            /// A freshly initialised network (Xavier or He uniform weights, as
            /// each layer's activation suits, zero biases); the same seed gives
            /// bit-identical weights.
            pub fn random(seed: u64) -> Self {
                #positive
                #this::random(seed)
            }

            /// A network whose parameters are all zero.
            pub fn zeroed() -> Self {
                #positive
                #this::zeroed()
            }

            /// Inference for one sample (an `SVector` or an array) or a batch
            /// (an `SMatrix` with one sample per column). Keeps nothing and
            /// does not allocate. Unchecked: a NaN input gives NaN outputs
            /// (see [`Self::forward_checked`]).
            pub fn forward<const BATCH: usize, #x: #samples>(
                &self,
                x: &X,
            ) -> #krate::__private::SMatrix<T, #output, BATCH> {
                x.with_matrix(|x| #this::forward(self, x))
            }

            /// [`Self::forward`], or the first NaN or infinite input (its
            /// sample and feature) if there is one: `forward` itself lets
            /// them through as NaN outputs.
            pub fn forward_checked<const BATCH: usize, #x: #samples>(
                &self,
                x: &X,
            ) -> ::core::result::Result<#krate::__private::SMatrix<T, #output, BATCH>, #krate::NonFiniteInput> {
                x.with_matrix(|x| #this::forward_checked(self, x))
            }

            /// The training forward pass: keeps every layer's `z` and `a` for
            /// [`Self::backward`]. A network with `Dropout` needs
            /// [`Self::forward_train_with`] instead.
            pub fn forward_train<const BATCH: usize, #x: #samples>(
                &self,
                x: &X,
            ) -> #cache<#args T, BATCH>
            where
                #this_type: #deterministic,
            {

                #batch_train
                x.with_matrix(|x| #this::forward_train(self, x))
            }

            /// The training forward pass, its dropout masks drawn from `rng`
            /// (which a network without `Dropout` leaves untouched).
            pub fn forward_train_with<const BATCH: usize, #x: #samples>(
                &self,
                x: &X,
                rng: &mut #krate::Rng,
            ) -> #cache<#args T, BATCH> {

                #batch_train_with
                x.with_matrix(|x| #this::forward_train_with(self, x, rng))
            }

            /// Back-propagates `grad_output = dC/da_L` for the samples `x` the
            /// cache was computed from: returns the gradient of every parameter
            /// and `dC/dx`.
            pub fn backward<const BATCH: usize, #x: #samples, #y: #targets>(
                &self,
                x: &X,
                cache: &#cache<#args T, BATCH>,
                grad_output: &Y,
            ) -> (#gradients<#args T>, #krate::__private::SMatrix<T, #input, BATCH>) {

                x.with_matrix(|x| grad_output.with_matrix(|g| #this::backward(self, x, cache, g)))
            }
        }
    }
}

/// `fit_statistics`, for a network whose first layer has statistics
/// fitted on the input (`Standardize`, `MinMax`); nothing otherwise, so
/// that calling it on another network is a compile error.
fn fit_statistics(n: &Names) -> TokenStream {
    let Some((_, layer, _, _)) = n
        .layers()
        .next()
        .filter(|(_, layer, _, _)| layer.kind.statistics)
    else {
        return TokenStream::new();
    };
    let (krate, field, input) = (n.krate, &layer.name, n.input());
    let doc = format!(
        "Fits the statistics of the input layer `{field}` ({}) on every sample of `data`, which should be the training rows only (as a scikit-learn scaler is fitted on the training split). Every later pass computes `z = (x - offset) * scale` with them; they are saved with the weights (`to_bytes`, `write_static`, safetensors), and optimizers never change them.",
        layer.kind.name
    );
    quote! {
        #[doc = #doc]
        ///
        /// # Errors
        ///
        /// A `StatisticsError` if `data` is empty, holds a NaN or infinite
        /// value, or a feature's scale is not finite; the network is then
        /// unchanged.
        // Generic parameters named unlike any user const (which
        // `#input` may name), so that neither shadows the other.
        pub fn fit_statistics<const __TARGETS: usize, __Data>(
            &mut self,
            data: &__Data,
        ) -> ::core::result::Result<(), #krate::StatisticsError>
        where
            __Data: #krate::Dataset<T, #input, __TARGETS> + ?::core::marker::Sized,
        {
            self.#field.fit(data)
        }
    }
}

/// `let () = Self::__SIZES_ARE_POSITIVE;`, spanned on the network's name:
/// the assertion that every size a const parameter gives is at least 1,
/// evaluated for the parameters the caller chose.
fn positive_sizes(name: &Ident) -> TokenStream {
    let span = name.span();
    quote_spanned!(span=> let () = Self::__SIZES_ARE_POSITIVE;)
}

fn network_impl(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        impl_params,
        args,
        gradients,
        cache,
        ..
    } = n;
    let name = &net.name;
    let positive = positive_sizes(name);
    let (input, output) = (n.input(), n.output());
    let layers = net.layers.len();
    let output_activation = n.activation(layers);
    let fields: Vec<_> = net.layers.iter().map(|layer| &layer.name).collect();
    let activations = &n.passes;
    let forward = forward_steps(n, Keep::Lets);
    let a_last = format_ident!("a{}", layers);
    let forward_into = forward_steps(n, Keep::InCache);
    let random = n.random();
    let mut cache_fields: Vec<_> = (1..=layers)
        .flat_map(|l| [format_ident!("z{}", l), format_ident!("a{}", l)])
        .collect();
    if random {
        cache_fields.push(format_ident!("noise"));
    }
    let set_noise = if random {
        quote!(cache.noise = noise;)
    } else {
        quote!()
    };
    let deterministic = if random {
        quote!()
    } else {
        quote!(impl<#impl_params T: #krate::Scalar> #krate::Deterministic for #name<#args T> {})
    };
    let backward_with_input = backward_steps(n, true);
    let backward_parameters = backward_steps(n, false);
    let parameters_impl = parameters_impl(n, name, |l| n.layer_type(l), true);
    let layer_traits: Vec<_> = n
        .layers()
        .map(|(l, _, inputs, outputs)| {
            let ty = n.layer_type(l);
            quote!(<#ty as #krate::Layer<T, #inputs, #outputs>>)
        })
        .collect();
    let architecture = architecture(n);
    let layer_names = net.layers.iter().map(|layer| layer.name.to_string());
    let constructors: Vec<_> = n
        .layers()
        .map(|(l, layer, _, _)| {
            let path = layer.kind.constructor;
            let rows = (layer.kind.weight_rows)(&n.emit(l));
            quote!((#path, #rows))
        })
        .collect();
    let tensors = n
        .layers()
        .map(|(l, layer, _, _)| (layer.kind.tensors)(&n.emit(l)));
    // The input's dimensions, then every layer's sizes.
    let sizes = n
        .net
        .input
        .dims()
        .into_iter()
        .chain(n.net.layers.iter().flat_map(|layer| &layer.sizes));
    quote! {
        #parameters_impl

        #deterministic

        impl<#impl_params T: #krate::Scalar> #krate::Network<T, #input, #output> for #name<#args T> {
            const LAYERS: usize = #layers;
            const RANDOM: bool = #random;
            const ARCHITECTURE: &'static str = #architecture;
            const RESOLVED_SIZES: &'static [usize] = &[#(#sizes),*];
            const LAYER_NAMES: &'static [&'static str] = &[#(#layer_names),*];
            const LAYER_CONSTRUCTORS: &'static [(&'static str, usize)] = &[#(#constructors),*];
            const LAYER_TENSORS: &'static [#krate::LayerTensors] = &[#(#tensors),*];
            type OutputActivation = #output_activation;
            type Gradients = #gradients<#args T>;
            type Cache<const BATCH: usize> = #cache<#args T, BATCH>;

            fn zeroed() -> Self {
                #positive
                #name { #(#fields: #layer_traits::zeroed(),)* }
            }

            fn init(&mut self, rng: &mut #krate::Rng) {
                #positive
                #(#layer_traits::init(&mut self.#fields, <#activations as #krate::Activation>::INIT, rng);)*
            }

            fn forward<const BATCH: usize>(
                &self,
                x: &SMatrix<T, #input, BATCH>,
            ) -> SMatrix<T, #output, BATCH> {
                #positive
                let noise = #krate::Noise::OFF;
                #forward
                #a_last
            }

            fn forward_cache<const BATCH: usize>(
                &self,
                x: &SMatrix<T, #input, BATCH>,
                noise: #krate::Noise,
            ) -> #cache<#args T, BATCH> {
                #positive
                #forward
                #cache { #(#cache_fields,)* }
            }

            fn forward_cache_into<const BATCH: usize>(
                &self,
                x: &SMatrix<T, #input, BATCH>,
                noise: #krate::Noise,
                cache: &mut #cache<#args T, BATCH>,
            ) {
                #positive
                #forward_into
                #set_noise
            }

            fn backward_in_place_with_input<const BATCH: usize>(
                &self,
                x: &SMatrix<T, #input, BATCH>,
                cache: &mut #cache<#args T, BATCH>,
                grads: &mut #gradients<#args T>,
                grad_x: &mut SMatrix<T, #input, BATCH>,
            ) {
                #[allow(unused_variables)]
                let noise = #krate::Cache::noise(cache);
                #backward_with_input
            }

            fn backward_in_place<const BATCH: usize>(
                &self,
                x: &SMatrix<T, #input, BATCH>,
                cache: &mut #cache<#args T, BATCH>,
                grads: &mut #gradients<#args T>,
            ) {
                #[allow(unused_variables)]
                let noise = #krate::Cache::noise(cache);
                #backward_parameters
            }
        }
    }
}

/// `Zeroable` for the network and its gradients, so that `boxed_zeroed` can
/// build them on the heap: each holds only `Dense` (or `DenseGradients`)
/// fields, and the impl applies only where every one of them is `Zeroable`
/// (the where clause), which network-core grants when `T` is.
///
/// SAFETY (of the generated `unsafe impl`s): a struct whose fields all have a
/// valid all-zero bit pattern has one too; padding bytes need no value.
fn zeroable_impls(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        impl_params,
        args,
        gradients,
        ..
    } = n;
    let name = &net.name;
    let layer_bounds = n.layers().map(|(l, _, _, _)| {
        let ty = n.layer_type(l);
        quote!(#ty: #krate::Zeroable,)
    });
    let gradient_bounds = n.layers().map(|(l, _, _, _)| {
        let ty = n.gradients_type(l);
        quote!(#ty: #krate::Zeroable,)
    });
    quote! {
        unsafe impl<#impl_params T: #krate::Scalar> #krate::Zeroable for #name<#args T>
        where
            #(#layer_bounds)*
        {
        }

        unsafe impl<#impl_params T: #krate::Scalar> #krate::Zeroable for #gradients<#args T>
        where
            #(#gradient_bounds)*
        {
        }
    }
}

/// The declaration as one normalised line, e.g.
/// `input: 2, hidden: Dense<4, Tanh>, output: Dense<1, Sigmoid>`.
fn architecture(n: &Names) -> String {
    let size = |size: &Size| match size {
        Size::Literal(value, _) => value.to_string(),
        Size::Path(tokens) | Size::Block(tokens) | Size::Computed(tokens) => tokens.to_string(),
        Size::Hoisted(_, text) => text.clone(),
    };
    let dims: Vec<String> = n.net.input.dims().into_iter().map(size).collect();
    let mut text = match dims.as_slice() {
        [one] if matches!(n.net.input, crate::shape::Shape::Flat(_)) => format!("input: {one}"),
        many => format!("input: [{}]", many.join(", ")),
    };
    for layer in &n.net.layers {
        let named = layer.kind.named;
        let positional = layer.sizes.len() - named.len();
        let mut args: Vec<String> = layer.sizes[..positional].iter().map(size).collect();
        args.extend(layer.reals.iter().map(f64::to_string));
        if let Some(activation) = &layer.activation {
            args.push(quote!(#activation).to_string().replace(' ', ""));
        }
        for (name, value) in named.iter().zip(&layer.sizes[positional..]) {
            args.push(format!("{name} = {}", size(value)));
        }
        let args = if args.is_empty() && layer.kind.bare {
            String::new()
        } else {
            format!("<{}>", args.join(", "))
        };
        text.push_str(&format!(", {}: {}{args}", layer.name, layer.kind.name));
    }
    text
}

/// `HiddenLayer<l>` for every hidden layer with an activation, the type on
/// the user's token: one that may not be a hidden layer's activation
/// (`Softmax`, or a type that is not an activation at all) is then one
/// error there, and the passes, which reach it through this trait, add
/// none.
fn hidden_activations(n: &Names) -> TokenStream {
    let Names {
        net,
        krate,
        impl_params,
        args,
        ..
    } = n;
    let last = net.layers.len();
    let name = &net.name;
    let impls = net.layers[..last - 1]
        .iter()
        .enumerate()
        .filter_map(|(i, layer)| Some((i + 1, layer.activation.as_ref()?)))
        .map(|(l, activation)| {
            quote! {
                impl<#impl_params T: #krate::Scalar> #krate::__private::HiddenLayer<#l> for #name<#args T> {
                    type Activation = #activation;
                }
            }
        });
    quote!(#(#impls)*)
}

/// The geometry marker types of the layers whose kinds need one (convolution
/// and pooling), with the impls that give them their shapes.
fn geometries(n: &Names) -> TokenStream {
    let mut out = TokenStream::new();
    for (l, layer, _, _) in n.layers() {
        let emit = n.emit(l);
        let items = (layer.kind.items)(&emit);
        if items.is_empty() {
            continue;
        }
        let (vis, geometry) = (&n.net.vis, &n.geometries[l - 1]);
        let doc = format!(
            "The settings (geometry, rate) of layer `{}` of [`{}`], for its type.",
            layer.name, n.net.name
        );
        out.extend(quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            #vis struct #geometry;
            #items
        });
    }
    out
}

/// The const items of the sizes written as paths or blocks, each spanned on
/// the user's tokens, and the assertion that each is at least 1 (where 0
/// is not allowed), spanned the same way.
fn hoisted(net: &Net) -> TokenStream {
    let mut out = TokenStream::new();
    for Hoisted { ident, value, zero } in &net.hoisted {
        let span = value.span();
        out.extend(quote_spanned! {span=>
            #[doc(hidden)]
            #[allow(non_upper_case_globals, unused_braces)]
            const #ident: usize = #value;
        });
        if let Some(message) = zero {
            let ident = Ident::new(&ident.to_string(), span);
            out.extend(quote_spanned! {span=>
                const _: () = ::core::assert!(#ident > 0, "{}", #message);
            });
        }
    }
    out
}

/// `tokens` with every token (at any depth) spanned at `span`, but
/// `$crate`, whose meaning is its span.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            proc_macro2::TokenTree::Group(group) => {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                proc_macro2::TokenTree::Group(inner)
            }
            // `$crate` means the crate its span comes from: kept.
            proc_macro2::TokenTree::Ident(ident) if ident == "$crate" => {
                proc_macro2::TokenTree::Ident(ident)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// `conv_1` -> `Conv1`, for the names of generated types.
fn camel_case(ident: &Ident) -> String {
    let text = ident.to_string();
    let text = text.strip_prefix("r#").unwrap_or(&text);
    text.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

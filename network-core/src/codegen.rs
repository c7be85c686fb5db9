//! Deploying a trained network to flash: [`write_static`] writes it as the Rust
//! source of a `static` item, which a firmware crate `include!`s so that
//! inference reads its weights straight from flash, with no parsing and no RAM
//! copy.
//!
//! The writer takes any [`core::fmt::Write`] (a `String` on the host), so it
//! needs neither `std` nor `alloc`. The generated item builds the network with
//! `const fn`s only ([`Dense::new`](crate::Dense::new) and nalgebra's
//! `SMatrix::from_array_storage`), and every value is printed in Rust's
//! shortest round-trip form, so the compiled weights are bit-identical to the
//! trained ones.
//!
//! ```
//! # use network_macros::network;
//! use network_core::codegen::{StaticItem, write_static};
//! use network_core::{Network, Sigmoid, Tanh};
//!
//! network! {
//!     # #[network(crate = network_core)]
//!     struct Xor {
//!         input: 2,
//!         hidden: Dense<4, Tanh>,
//!         output: Dense<1, Sigmoid>,
//!     }
//! }
//!
//! let trained = Xor::<f32>::random(1);
//! let mut source = String::new();
//! write_static(&mut source, &trained, &StaticItem::new("XOR", "Xor<f32>")).unwrap();
//! assert!(source.contains("pub static XOR: Xor<f32> = Xor {"));
//! // On the host: std::fs::write("src/xor_weights.rs", source), then in the
//! // firmware, next to the `network!` declaration:
//! // include!("xor_weights.rs");
//! // let y = XOR.forward(&[1.0, 0.0]);
//! ```

use core::fmt::{self, Write};

use crate::serialize::fingerprint;
use crate::{Network, Scalar};

/// What to call the generated item and where its types live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticItem<'a> {
    /// The item's name, e.g. `"XOR"`.
    pub name: &'a str,
    /// The network's type as the including module names it, e.g.
    /// `"Xor<f32>"` or `"nets::Mlp<16, f64>"`. The struct literal uses the
    /// part before the first `<`.
    pub ty: &'a str,
    /// The visibility written before `static`: `"pub"` (the default),
    /// `"pub(crate)"` or `""`.
    pub visibility: &'a str,
    /// The path of the `network` crate in the including crate: `"::network"`
    /// (the default).
    pub krate: &'a str,
}

impl<'a> StaticItem<'a> {
    /// `pub static NAME: TY`, with the `network` crate at `::network`.
    pub const fn new(name: &'a str, ty: &'a str) -> Self {
        StaticItem {
            name,
            ty,
            visibility: "pub",
            krate: "::network",
        }
    }

    /// The same item with another visibility (`""` for private).
    pub const fn visibility(self, visibility: &'a str) -> Self {
        StaticItem { visibility, ..self }
    }

    /// The same item with another path for the `network` crate, e.g.
    /// `"network_core"`.
    pub const fn krate(self, krate: &'a str) -> Self {
        StaticItem { krate, ..self }
    }

    /// The path used in the struct literal: `ty` up to its first `<`.
    fn struct_path(&self) -> &'a str {
        let end = self.ty.find('<').unwrap_or(self.ty.len());
        self.ty[..end].trim_end()
    }

    /// Checks that every field is what Rust accepts where it is written.
    fn check(&self) -> Result<(), CodegenError> {
        let invalid = |field| Err(CodegenError::InvalidItem { field });
        if !syntax::is_identifier(self.name) {
            return invalid("name");
        }
        if !syntax::is_type(self.ty) {
            return invalid("ty");
        }
        if !syntax::is_visibility(self.visibility) {
            return invalid("visibility");
        }
        if !syntax::is_path(self.krate) {
            return invalid("krate");
        }
        Ok(())
    }
}

/// The little of Rust's grammar an item's fields need: identifiers, paths,
/// type paths with generic arguments (types and integer literals), and
/// visibilities. Deliberately narrow: anything else is refused.
mod syntax {
    /// Words that are not identifiers (Rust 2024's strict and reserved
    /// keywords).
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box",
        "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
        "_",
    ];

    /// An identifier: `[A-Za-z_][A-Za-z0-9_]*` and not a keyword, or a raw
    /// identifier `r#name`.
    pub(super) fn is_identifier(text: &str) -> bool {
        let word = text.strip_prefix("r#").unwrap_or(text);
        let mut chars = word.chars();
        let starts = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        starts
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && (text.starts_with("r#") || !KEYWORDS.contains(&word))
    }

    /// One segment of a path: an identifier, or `crate`, `self`, `super`.
    fn is_segment(text: &str) -> bool {
        matches!(text, "crate" | "self" | "super") || is_identifier(text)
    }

    /// `a::b::c`, optionally with a leading `::`.
    pub(super) fn is_path(text: &str) -> bool {
        let text = text.strip_prefix("::").unwrap_or(text);
        !text.is_empty() && text.split("::").all(|s| is_segment(s.trim()))
    }

    /// A path, optionally followed by `<arguments>`, each a type or an
    /// integer literal.
    pub(super) fn is_type(text: &str) -> bool {
        let text = text.trim();
        match text.find('<') {
            None => is_path(text),
            Some(open) => {
                let (path, rest) = text.split_at(open);
                let Some(arguments) = rest.strip_prefix('<').and_then(|r| r.strip_suffix('>'))
                else {
                    return false;
                };
                is_path(path.trim()) && split_arguments(arguments).is_some_and(|a| a)
            }
        }
    }

    /// Whether every top-level comma-separated argument is a type or an
    /// integer; `None` if the angle brackets do not balance.
    fn split_arguments(arguments: &str) -> Option<bool> {
        let mut depth = 0usize;
        let mut start = 0;
        let mut all = true;
        for (i, c) in arguments.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth = depth.checked_sub(1)?,
                ',' if depth == 0 => {
                    all &= is_argument(&arguments[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        (depth == 0).then(|| all && is_argument(&arguments[start..]))
    }

    fn is_argument(text: &str) -> bool {
        let text = text.trim();
        let integer = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '_');
        integer || is_type(text)
    }

    /// `""`, `pub`, `pub(crate)`, `pub(self)`, `pub(super)` or
    /// `pub(in path)`.
    pub(super) fn is_visibility(text: &str) -> bool {
        let text = text.trim();
        if text.is_empty() || text == "pub" {
            return true;
        }
        let Some(inner) = text
            .strip_prefix("pub")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
        else {
            return false;
        };
        match inner.trim() {
            "crate" | "self" | "super" => true,
            other => other
                .strip_prefix("in ")
                .is_some_and(|path| is_path(path.trim())),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn accepts_what_rust_accepts_here() {
            for name in ["XOR", "xor_in_flash", "_private", "r#static", "A1"] {
                assert!(is_identifier(name), "{name}");
            }
            for ty in [
                "Xor<f32>",
                "nets::Mlp<16, f64>",
                "Deep<4,f64>",
                "::a::B<C<D>, 1_000>",
                "X",
            ] {
                assert!(is_type(ty), "{ty}");
            }
            for v in ["", "pub", "pub(crate)", "pub(super)", "pub(in crate::nets)"] {
                assert!(is_visibility(v), "{v}");
            }
            for k in ["::network", "network_core", "crate::runtime"] {
                assert!(is_path(k), "{k}");
            }
        }

        #[test]
        fn refuses_anything_else() {
            for name in ["", "1x", "x y", "static", "X: u8 = 0; static Y", "_", "é"] {
                assert!(!is_identifier(name), "{name}");
            }
            for ty in [
                "",
                "Xor<f32",
                "Xor<f32>>",
                "Xor<f32>; fn f() {}",
                "[f32; 3]",
                "&X",
                "X<>",
            ] {
                assert!(!is_type(ty), "{ty}");
            }
            for v in ["pub(everyone)", "public", "pub(in )", "pub crate"] {
                assert!(!is_visibility(v), "{v}");
            }
            for k in ["", "::", "a::", "a b", "network; use std"] {
                assert!(!is_path(k), "{k}");
            }
        }
    }
}

/// Why [`write_static`] could not write the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodegenError {
    /// The parameter (or statistic) at this flat index is NaN or infinite,
    /// which has no literal. Nothing was written.
    NonFinite {
        /// The flat index (in [`Parameters::stored`](crate::Parameters::stored)
        /// order: the parameters, then the statistics) of the first
        /// non-finite value.
        index: usize,
    },
    /// The network's [`Network::LAYER_NAMES`] do not match its parameter
    /// slices; networks generated by `network!` always match. Nothing was
    /// written.
    Inconsistent,
    /// A field of the [`StaticItem`] is not what Rust accepts there (an
    /// identifier for `name`, a type path such as `nets::Mlp<16, f64>` for
    /// `ty`, a visibility for `visibility`, a path for `krate`), so it is not
    /// pasted into the source. Nothing was written.
    InvalidItem {
        /// `"name"`, `"ty"`, `"visibility"` or `"krate"`.
        field: &'static str,
    },
    /// The writer failed; the output may be incomplete.
    Write,
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodegenError::NonFinite { index } => write!(
                f,
                "parameter {index} is NaN or infinite and has no Rust literal"
            ),
            CodegenError::Inconsistent => {
                f.write_str("the network's layer names do not match its parameters")
            }
            CodegenError::InvalidItem { field } => write!(
                f,
                "the item's `{field}` is not a Rust {}",
                match *field {
                    "name" => "identifier",
                    "ty" => "type path",
                    "visibility" => "visibility",
                    _ => "path",
                }
            ),
            CodegenError::Write => f.write_str("the writer failed"),
        }
    }
}

impl core::error::Error for CodegenError {}

impl From<fmt::Error> for CodegenError {
    fn from(_: fmt::Error) -> Self {
        CodegenError::Write
    }
}

/// Writes `network` as the Rust source of a `static` item named and typed as
/// `item` says, for a module that declares (or imports) the network's type.
///
/// Every layer becomes a call of its constructor
/// ([`Network::LAYER_CONSTRUCTORS`]): `Dense::new(weights, biases)`,
/// `layers::Conv::new(weights, biases)`, `layers::Rescale::new(statistics)`
/// or `layers::Pool::new()`, with the values as an `ArrayStorage` of
/// columns, so the item is evaluated at
/// compile time and lands in read-only memory. The item carries `#[rustfmt::skip]`, so the
/// file can be compared with a fresh output byte for byte.
pub fn write_static<T, N, W, const IN: usize, const OUT: usize>(
    out: &mut W,
    network: &N,
    item: &StaticItem<'_>,
) -> Result<(), CodegenError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    W: Write,
{
    item.check()?;
    if let Some(index) = network.stored().flatten().position(|v| !v.is_finite()) {
        return Err(CodegenError::NonFinite { index });
    }
    let expected_slices: usize = N::LAYER_CONSTRUCTORS
        .iter()
        .map(|&(_, rows)| if rows == 0 { 0 } else { 2 })
        .sum();
    let statistics_agree =
        N::LAYER_TENSORS.len() == N::LAYER_NAMES.len() && crate::network::statistics_agree(network);
    if N::LAYER_CONSTRUCTORS.len() != N::LAYER_NAMES.len()
        || expected_slices != network.slices().count()
        || network.slices().map(<[T]>::len).sum::<usize>() != N::PARAMETERS
        || !statistics_agree
    {
        return Err(CodegenError::Inconsistent);
    }
    let krate = item.krate;
    writeln!(
        out,
        "// @generated by {krate}::codegen::write_static; do not edit by hand."
    )?;
    writeln!(out, "// Architecture: {}", N::ARCHITECTURE)?;
    write!(out, "// {} parameters", N::PARAMETERS)?;
    if N::STATISTICS > 0 {
        write!(out, " and {} statistics", N::STATISTICS)?;
    }
    writeln!(
        out,
        " ({}), fingerprint {:#018x}.",
        T::NAME,
        fingerprint(N::ARCHITECTURE, N::RESOLVED_SIZES, N::PARAMETERS)
    )?;
    writeln!(out, "#[rustfmt::skip]")?;
    writeln!(out, "#[allow(clippy::approx_constant)]")?;
    let visibility = if item.visibility.is_empty() { "" } else { " " };
    writeln!(
        out,
        "{}{visibility}static {}: {} = {} {{",
        item.visibility,
        item.name,
        item.ty,
        item.struct_path()
    )?;
    let mut slices = network.slices();
    let mut statistics = network.statistics();
    let layers = N::LAYER_NAMES
        .iter()
        .zip(N::LAYER_CONSTRUCTORS)
        .zip(N::LAYER_TENSORS);
    for ((name, &(constructor, rows)), tensors) in layers {
        if rows == 0 && !tensors.has_statistics() {
            writeln!(out, "    {name}: {krate}::{constructor}(),")?;
            continue;
        }
        writeln!(out, "    {name}: {krate}::{constructor}(")?;
        if rows != 0 {
            let (Some(weights), Some(biases)) = (slices.next(), slices.next()) else {
                return Err(CodegenError::Inconsistent);
            };
            write_matrix(out, krate, weights, rows)?;
            write_matrix(out, krate, biases, biases.len())?;
        }
        if tensors.has_statistics() {
            let Some(values) = statistics.next() else {
                return Err(CodegenError::Inconsistent);
            };
            write_matrix(out, krate, values, tensors.statistic_len())?;
        }
        writeln!(out, "    ),")?;
    }
    writeln!(out, "}};")?;
    Ok(())
}

/// One column-major matrix with `rows` rows as
/// `SMatrix::from_array_storage(ArrayStorage([[column 0], [column 1], ...]))`.
fn write_matrix<T: Scalar, W: Write>(
    out: &mut W,
    krate: &str,
    values: &[T],
    rows: usize,
) -> fmt::Result {
    writeln!(
        out,
        "        {krate}::nalgebra::SMatrix::from_array_storage({krate}::nalgebra::ArrayStorage(["
    )?;
    for column in values.chunks(rows.max(1)) {
        out.write_str("            [")?;
        for (i, value) in column.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            // `Debug` prints the shortest text that parses back to the same
            // value, always with a `.` or an exponent.
            write!(out, "{value:?}{}", T::NAME)?;
        }
        writeln!(out, "],")?;
    }
    writeln!(out, "        ])),")
}

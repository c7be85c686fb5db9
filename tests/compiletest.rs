//! Compile-fail and pass cases for `network!` and its call sites.
//!
//! The `.stderr` files follow rustc's output, which changes between
//! versions; refresh them with `TRYBUILD=overwrite cargo test --test
//! compiletest` and read the diff.

#[test]
#[cfg_attr(miri, ignore)]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

// Not a case of this crate's: the shortest message rustc gives for an unmet
// bound, with everything this crate does to shorten its own (a custom
// message and label, the one impl hidden behind a `do_not_recommend`
// blanket impl, the bound on a function). Its lines are rustc's frame of
// every such error: the call, the help naming the trait, and the "required
// by a bound" note. The call-site cases in `EXCEPTIONS` are this frame and
// their own sentence, so they are as short as this toolchain allows; when a
// rustc release shortens this file's `.stderr`, revisit them.

#[diagnostic::on_unimplemented(message = "takes width {N}", label = "expected width {N}")]
pub trait Samples<const N: usize> {}

pub trait Data<const N: usize> {}
impl<const N: usize> Data<N> for [f32; N] {}

#[diagnostic::do_not_recommend]
impl<const N: usize, D: Data<N>> Samples<N> for D {}

pub fn forward(_: &impl Samples<2>) {}

fn main() {
    forward(&[1.0f32, 2.0, 3.0]);
}

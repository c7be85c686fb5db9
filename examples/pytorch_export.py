#!/usr/bin/env python3
"""Writes PyTorch-style safetensors files for `tests/safetensors.rs`.

Four small networks, each mirroring a `network!` declaration of the test,
with PyTorch's parameter names (a module whose submodules are named like the
layers: `hidden.weight`, `hidden.bias`, ...), PyTorch's layouts (`Linear`:
`[out, in]`; `Conv1d`: `[out, in, k]`; `Conv2d`: `[out, in, kh, kw]`),
PyTorch's default initialisation (uniform in +-1/sqrt(fan_in)) and its
default dtype, float32. The forward pass is computed here in float64 with
numpy, as PyTorch defines it (cross-correlation with zero padding, pooling
without padding, `flatten(1)` before a `Linear`), and written next to the
weights, so that the Rust test needs neither Python nor torch:

    tests/data/pytorch_mlp.safetensors     3 -> Linear 5, tanh -> Linear 2
    tests/data/pytorch_conv1d.safetensors  [2, 8] -> Conv1d(2, 3, 3, padding=1), relu
                                           -> MaxPool1d(2) -> Linear(12, 2)
    tests/data/pytorch_conv2d.safetensors  [1, 6, 6] -> Conv2d(1, 2, 3, padding=1), tanh
                                           -> AvgPool2d(2) -> Linear(18, 3)
    tests/data/pytorch_scaled.safetensors  3 -> standardised (buffers `scale.mean`,
                                           `scale.inv_std`) -> Linear 5, tanh -> Linear 2
    tests/data/pytorch_forward.safetensors `<net>.inputs` [batch, ...] and
                                           `<net>.outputs` [batch, out], float64

Each weights file is exactly what `safetensors.torch.save_file(
model.state_dict(), path)` writes for such a module. The files are generated
by this project (same licence as the code, MIT OR Apache-2.0) and
committed; to regenerate them, from the repository's root:

    pip install numpy safetensors
    python3 examples/pytorch_export.py

No torch is needed. With torch installed, the equivalent PyTorch module
loads each file with `model.load_state_dict(safetensors.torch.load_file(path))`
and gives the same outputs.
"""

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
BATCH = 4


def uniform(rng, shape, fan_in):
    """PyTorch's default `Linear`/`Conv` initialisation, in float32."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def linear_params(rng, n_in, n_out):
    return uniform(rng, (n_out, n_in), n_in), uniform(rng, (n_out,), n_in)


def conv_params(rng, c_in, c_out, kernel):
    """`kernel` is `(k,)` for Conv1d and `(k, k)` for Conv2d."""
    fan_in = c_in * int(np.prod(kernel))
    shape = (c_out, c_in) + kernel
    return uniform(rng, shape, fan_in), uniform(rng, (c_out,), fan_in)


def linear(x, weight, bias):
    """`x @ weight.T + bias` on `[batch, in]`."""
    return x @ weight.astype(np.float64).T + bias.astype(np.float64)


def conv2d(x, weight, bias, padding):
    """Cross-correlation of `[batch, c_in, h, w]`, stride 1, zero padding."""
    weight = weight.astype(np.float64)
    c_out, _, kh, kw = weight.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    batch, _, h, w = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    out = np.empty((batch, c_out, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i : i + kh, j : j + kw]
            out[:, :, i, j] = np.einsum("bchw,ochw->bo", patch, weight)
    return out + bias.astype(np.float64)[None, :, None, None]


def conv1d(x, weight, bias, padding):
    """Conv1d of `[batch, c_in, length]`: the 2-D one with height 1."""
    out = conv2d(x[:, :, None, :], weight[:, :, None, :], bias, (0, padding))
    return out[:, :, 0, :]


def pool(x, kernel, reduce):
    """Non-overlapping pooling (stride = kernel) over the last axes."""
    if x.ndim == 3:
        b, c, length = x.shape
        return reduce(x.reshape(b, c, length // kernel, kernel), axis=3)
    b, c, h, w = x.shape
    windows = x.reshape(b, c, h // kernel, kernel, w // kernel, kernel)
    return reduce(reduce(windows, axis=5), axis=3)


def relu(x):
    return np.maximum(x, 0.0)


def inputs(rng, shape):
    """Inputs that float32 holds exactly, so both scalar types see them."""
    return rng.normal(size=(BATCH,) + shape).astype(np.float32).astype(np.float64)


def main():
    rng = np.random.default_rng(12)
    forward = {}

    # struct Mlp { input: 3, hidden: Dense<5, Tanh>, output: Dense<2, Identity> }
    hidden_w, hidden_b = linear_params(rng, 3, 5)
    output_w, output_b = linear_params(rng, 5, 2)
    mlp = {
        "hidden.weight": hidden_w,
        "hidden.bias": hidden_b,
        "output.weight": output_w,
        "output.bias": output_b,
    }
    x = inputs(rng, (3,))
    y = linear(np.tanh(linear(x, hidden_w, hidden_b)), output_w, output_b)
    forward["mlp.inputs"], forward["mlp.outputs"] = x, y

    # struct Seq { input: [2, 8], conv: Conv1d<3, 3, Relu, padding = 1>,
    #              pool: MaxPool1d<2>, output: Dense<2, Identity> }
    conv_w, conv_b = conv_params(rng, 2, 3, (3,))
    output_w, output_b = linear_params(rng, 12, 2)
    seq = {
        "conv.weight": conv_w,
        "conv.bias": conv_b,
        "output.weight": output_w,
        "output.bias": output_b,
    }
    x = inputs(rng, (2, 8))
    h = pool(relu(conv1d(x, conv_w, conv_b, 1)), 2, np.max)
    y = linear(h.reshape(BATCH, -1), output_w, output_b)
    forward["conv1d.inputs"], forward["conv1d.outputs"] = x, y

    # struct Image { input: [1, 6, 6], conv: Conv2d<2, 3, Tanh, padding = 1>,
    #                pool: AvgPool2d<2>, output: Dense<3, Identity> }
    conv_w, conv_b = conv_params(rng, 1, 2, (3, 3))
    output_w, output_b = linear_params(rng, 18, 3)
    image = {
        "conv.weight": conv_w,
        "conv.bias": conv_b,
        "output.weight": output_w,
        "output.bias": output_b,
    }
    x = inputs(rng, (1, 6, 6))
    h = pool(np.tanh(conv2d(x, conv_w, conv_b, (1, 1))), 2, np.mean)
    y = linear(h.reshape(BATCH, -1), output_w, output_b)
    forward["conv2d.inputs"], forward["conv2d.outputs"] = x, y

    # struct Scaled { input: 3, scale: Standardize, hidden: Dense<5, Tanh>,
    #                 output: Dense<2, Identity> }
    # The scaler a PyTorch module keeps as buffers, fitted as scikit-learn's
    # StandardScaler fits (population deviation): `scale.mean` is `mean_`,
    # `scale.inv_std` is `1 / scale_`.
    rows = inputs(rng, (3,)) * np.array([100.0, 0.01, 3.0]) + np.array([1000.0, -5.0, 0.0])
    rows = rows.astype(np.float32).astype(np.float64)
    hidden_w, hidden_b = linear_params(rng, 3, 5)
    output_w, output_b = linear_params(rng, 5, 2)
    scaled = {
        "scale.mean": rows.mean(axis=0).astype(np.float32),
        "scale.inv_std": (1.0 / rows.std(axis=0)).astype(np.float32),
        "hidden.weight": hidden_w,
        "hidden.bias": hidden_b,
        "output.weight": output_w,
        "output.bias": output_b,
    }
    x = rows
    z = (x - scaled["scale.mean"].astype(np.float64)) * scaled["scale.inv_std"].astype(np.float64)
    y = linear(np.tanh(linear(z, hidden_w, hidden_b)), output_w, output_b)
    forward["scaled.inputs"], forward["scaled.outputs"] = x, y

    DATA.mkdir(parents=True, exist_ok=True)
    # `safetensors.torch.save_file` adds this metadata too.
    metadata = {"format": "pt"}
    save_file(mlp, DATA / "pytorch_mlp.safetensors", metadata=metadata)
    save_file(seq, DATA / "pytorch_conv1d.safetensors", metadata=metadata)
    save_file(image, DATA / "pytorch_conv2d.safetensors", metadata=metadata)
    save_file(scaled, DATA / "pytorch_scaled.safetensors", metadata=metadata)
    save_file(forward, DATA / "pytorch_forward.safetensors")
    for name, value in sorted(forward.items()):
        print(f"{name}: {list(value.shape)}")


if __name__ == "__main__":
    main()

//! PyTorch interop through safetensors: the files written by
//! `examples/pytorch_export.py` (PyTorch's names, layouts and float32) load
//! into the matching declarations and reproduce numpy's forward pass; save
//! and load round-trip bit for bit; bad files give typed errors and leave
//! the network untouched.

use network::prelude::*;
use network::safetensors::{
    Extra, FileProblem, SafetensorsError, from_safetensors, from_safetensors_with, load, save,
    to_safetensors,
};
use network::serialize::ScalarKind;
use network::{LayerTensors, SMatrix};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

network! {
    /// `examples/pytorch_export.py`'s `mlp`: Linear(3, 5), tanh, Linear(5, 2).
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Mlp {
        input: 3,
        hidden: Dense<5, Tanh>,
        output: Dense<2, Identity>,
    }
}

network! {
    /// Its `conv1d`: Conv1d(2, 3, 3, padding=1), relu, MaxPool1d(2), Linear(12, 2).
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Seq {
        input: [2, 8],
        conv: Conv1d<3, 3, Relu, padding = 1>,
        pool: MaxPool1d<2>,
        output: Dense<2, Identity>,
    }
}

network! {
    /// Its `conv2d`: Conv2d(1, 2, 3, padding=1), tanh, AvgPool2d(2), Linear(18, 3).
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Image {
        input: [1, 6, 6],
        conv: Conv2d<2, 3, Tanh, padding = 1>,
        pool: AvgPool2d<2>,
        output: Dense<3, Identity>,
    }
}

network! {
    /// `Mlp` with a wider hidden layer.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Wider {
        input: 3,
        hidden: Dense<6, Tanh>,
        output: Dense<2, Identity>,
    }
}

network! {
    /// Sizes from const parameters: the shapes are resolved per instance.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Generic<const I: usize, const H: usize> {
        input: I,
        hidden: Dense<H, Tanh>,
        drop: Dropout<0.5>,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    /// Its `scaled`: a standardisation (buffers `scale.mean` and
    /// `scale.inv_std`), then `Mlp`'s layers.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Scaled {
        input: 3,
        scale: Standardize,
        hidden: Dense<5, Tanh>,
        output: Dense<2, Identity>,
    }
}

const MLP: &[u8] = include_bytes!("data/pytorch_mlp.safetensors");
const SCALED: &[u8] = include_bytes!("data/pytorch_scaled.safetensors");
const CONV1D: &[u8] = include_bytes!("data/pytorch_conv1d.safetensors");
const CONV2D: &[u8] = include_bytes!("data/pytorch_conv2d.safetensors");
const FORWARD: &[u8] = include_bytes!("data/pytorch_forward.safetensors");
const BATCH: usize = 4;

/// A tensor of a file: its values widened to f64, and its shape.
fn read(bytes: &[u8], name: &str) -> (Vec<f64>, Vec<usize>) {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let view = file.tensor(name).unwrap();
    let values = match view.dtype() {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
            .collect(),
        Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        other => panic!("{name} is {other:?}"),
    };
    (values, view.shape().to_vec())
}

/// Loads `weights` into `N` and compares its forward pass on
/// `<key>.inputs` with numpy's `<key>.outputs`.
fn reproduces<T, N, const IN: usize, const OUT: usize>(weights: &[u8], key: &str, tolerance: f64)
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let mut net = N::zeroed();
    from_safetensors(&mut net, weights).unwrap();
    let (inputs, shape) = read(FORWARD, &format!("{key}.inputs"));
    assert_eq!(shape[0], BATCH);
    assert_eq!(shape[1..].iter().product::<usize>(), IN);
    let (expected, shape) = read(FORWARD, &format!("{key}.outputs"));
    assert_eq!(shape, [BATCH, OUT]);
    // Batch-first `[B, C, ...]` in C order is one sample per column.
    let inputs: Vec<T> = inputs.iter().map(|&v| T::constant(v)).collect();
    let x = SMatrix::<T, IN, BATCH>::from_column_slice(&inputs);
    let y = net.forward(&x);
    for sample in 0..BATCH {
        for out in 0..OUT {
            let (got, want) = (y[(out, sample)].to_f64(), expected[sample * OUT + out]);
            assert!(
                (got - want).abs() <= tolerance,
                "{key} ({}): output {out} of sample {sample} is {got}, numpy's {want}",
                T::NAME
            );
        }
    }
}

#[test]
fn reproduces_the_numpy_forward_pass_in_f32_and_f64() {
    reproduces::<f32, Mlp<f32>, 3, 2>(MLP, "mlp", 1e-6);
    reproduces::<f64, Mlp<f64>, 3, 2>(MLP, "mlp", 1e-12);
    reproduces::<f32, Seq<f32>, 16, 2>(CONV1D, "conv1d", 1e-6);
    reproduces::<f64, Seq<f64>, 16, 2>(CONV1D, "conv1d", 1e-12);
    reproduces::<f32, Image<f32>, 36, 3>(CONV2D, "conv2d", 1e-6);
    reproduces::<f64, Image<f64>, 36, 3>(CONV2D, "conv2d", 1e-12);
    reproduces::<f32, Scaled<f32>, 3, 2>(SCALED, "scaled", 1e-6);
    reproduces::<f64, Scaled<f64>, 3, 2>(SCALED, "scaled", 1e-12);
}

#[test]
fn statistics_are_tensors_named_like_buffers() {
    assert_eq!(
        <Scaled as Network<f32, 3, 2>>::LAYER_TENSORS[0],
        LayerTensors {
            statistics: &["mean", "inv_std"],
            statistics_shape: &[3],
            ..LayerTensors::NONE
        }
    );
    let mut net = Scaled::<f64>::random(2);
    let rows = [([1.0, 2.0, 3.0], [0.0; 2]), ([5.0, -2.0, 3.0], [0.0; 2])];
    net.fit_statistics(&rows[..]).unwrap();
    let bytes = to_safetensors(&net).unwrap();
    let names: Vec<String> = tensors(&bytes).into_iter().map(|t| t.0).collect();
    assert_eq!(
        names,
        [
            "hidden.bias",
            "hidden.weight",
            "output.bias",
            "output.weight",
            "scale.inv_std",
            "scale.mean"
        ]
    );
    assert_eq!(read(&bytes, "scale.mean"), (vec![3.0, 0.0, 3.0], vec![3]));
    assert_eq!(
        read(&bytes, "scale.inv_std"),
        (vec![0.5, 0.5, 1.0], vec![3])
    );
    let mut back = Scaled::<f64>::zeroed();
    from_safetensors(&mut back, &bytes).unwrap();
    assert_eq!(back, net);

    // A file without the statistics (a plain `Mlp`'s) is refused, naming
    // the first missing one, and leaves the network as it was.
    let error = from_safetensors(&mut back, MLP).unwrap_err();
    assert!(matches!(&error, SafetensorsError::Missing { name } if name == "scale.mean"));
    assert_eq!(back, net);
    let mut all = tensors(SCALED);
    tensor(&mut all, "scale.inv_std").2 = vec![1, 3];
    let error = from_safetensors(&mut back, &write(&all)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "tensor `scale.inv_std` has shape [1, 3], but the network's is [3]"
    );
    assert_eq!(back, net);
}

#[test]
fn layer_tensors_are_pytorch_shapes() {
    let linear = |o: &'static [usize], b: &'static [usize]| LayerTensors {
        weight: o,
        bias: b,
        transposed: true,
        ..LayerTensors::NONE
    };
    assert_eq!(
        <Mlp as Network<f32, 3, 2>>::LAYER_TENSORS,
        [linear(&[5, 3], &[5]), linear(&[2, 5], &[2])]
    );
    let conv = |w: &'static [usize], b: &'static [usize]| LayerTensors {
        weight: w,
        bias: b,
        transposed: false,
        ..LayerTensors::NONE
    };
    assert_eq!(
        <Seq as Network<f32, 16, 2>>::LAYER_TENSORS,
        [
            conv(&[3, 2, 3], &[3]),
            LayerTensors::NONE,
            linear(&[2, 12], &[2])
        ]
    );
    assert_eq!(
        <Image as Network<f32, 36, 3>>::LAYER_TENSORS,
        [
            conv(&[2, 1, 3, 3], &[2]),
            LayerTensors::NONE,
            linear(&[3, 18], &[3])
        ]
    );
    assert_eq!(
        <Generic<4, 7> as Network<f32, 4, 1>>::LAYER_TENSORS,
        [
            linear(&[7, 4], &[7]),
            LayerTensors::NONE,
            linear(&[1, 7], &[1])
        ]
    );
}

#[test]
fn dense_weights_are_transposed_and_conv_weights_are_not() {
    let mut mlp = Mlp::<f64>::zeroed();
    from_safetensors(&mut mlp, MLP).unwrap();
    let (weight, _) = read(MLP, "hidden.weight");
    for o in 0..5 {
        for i in 0..3 {
            assert_eq!(mlp.hidden.w[(o, i)], weight[o * 3 + i]);
        }
    }
    let (bias, _) = read(MLP, "output.bias");
    assert_eq!(mlp.output.b.as_slice(), bias.as_slice());

    let mut image = Image::<f64>::zeroed();
    from_safetensors(&mut image, CONV2D).unwrap();
    let (weight, _) = read(CONV2D, "conv.weight");
    assert_eq!(image.conv.w.as_slice(), weight.as_slice());
}

/// The tensors of a file, for rewriting it.
type Tensors = Vec<(String, Dtype, Vec<usize>, Vec<u8>)>;

fn tensors(bytes: &[u8]) -> Tensors {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let mut all: Tensors = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let (dtype, shape) = (view.dtype(), view.shape().to_vec());
            (name, dtype, shape, view.data().to_vec())
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

fn write(tensors: &Tensors) -> Vec<u8> {
    let views = tensors.iter().map(|(name, dtype, shape, data)| {
        (
            name.as_str(),
            TensorView::new(*dtype, shape.clone(), data).unwrap(),
        )
    });
    safetensors::serialize(views, None).unwrap()
}

/// `MLP` with `edit` applied to its tensors.
fn edited(edit: impl FnOnce(&mut Tensors)) -> Vec<u8> {
    let mut all = tensors(MLP);
    edit(&mut all);
    write(&all)
}

fn tensor<'a>(all: &'a mut Tensors, name: &str) -> &'a mut (String, Dtype, Vec<usize>, Vec<u8>) {
    all.iter_mut().find(|t| t.0 == name).unwrap()
}

/// Loads `bytes` into a random `Mlp` in both scalar types, checks that it
/// fails and leaves the network as it was, and returns the f32 error.
fn refused(bytes: &[u8]) -> SafetensorsError {
    let mut net = Mlp::<f64>::random(5);
    let before = net;
    from_safetensors(&mut net, bytes).unwrap_err();
    assert_eq!(net, before);
    let mut net = Mlp::<f32>::random(5);
    let before = net;
    let error = from_safetensors(&mut net, bytes).unwrap_err();
    assert_eq!(net, before);
    error
}

#[test]
fn round_trips_bit_for_bit() {
    let mlp = Mlp::<f32>::random(3);
    let bytes = to_safetensors(&mlp).unwrap();
    let mut back = Mlp::<f32>::zeroed();
    from_safetensors(&mut back, &bytes).unwrap();
    assert!(mlp.slices().flatten().eq(back.slices().flatten()));
    assert_eq!(to_safetensors(&back).unwrap(), bytes);

    let image = Image::<f64>::random(4);
    let bytes = to_safetensors(&image).unwrap();
    let mut back = Image::<f64>::zeroed();
    from_safetensors(&mut back, &bytes).unwrap();
    let bits = |n: &Image<f64>| {
        n.slices()
            .flatten()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&back), bits(&image));

    // The PyTorch file's tensors come back out as they went in.
    let mut seq = Seq::<f32>::zeroed();
    from_safetensors(&mut seq, CONV1D).unwrap();
    assert_eq!(tensors(&to_safetensors(&seq).unwrap()), tensors(CONV1D));
}

#[test]
fn saves_f32_as_f32_and_f64_as_f64_and_reads_either() {
    let wide = Mlp::<f64>::random(8);
    let bytes = to_safetensors(&wide).unwrap();
    assert!(tensors(&bytes).iter().all(|t| t.1 == Dtype::F64));
    let mut narrow = Mlp::<f32>::zeroed();
    from_safetensors(&mut narrow, &bytes).unwrap();
    for (n, w) in narrow.slices().flatten().zip(wide.slices().flatten()) {
        assert_eq!(*n, *w as f32);
    }
    let bytes = to_safetensors(&narrow).unwrap();
    assert!(tensors(&bytes).iter().all(|t| t.1 == Dtype::F32));
    let mut widened = Mlp::<f64>::zeroed();
    from_safetensors(&mut widened, &bytes).unwrap();
    for (w, n) in widened.slices().flatten().zip(narrow.slices().flatten()) {
        assert_eq!(*w, f64::from(*n));
    }
}

#[test]
fn a_missing_tensor_is_named() {
    let bytes = edited(|all| all.retain(|t| t.0 != "output.weight"));
    let error = refused(&bytes);
    assert!(matches!(&error, SafetensorsError::Missing { name } if name == "output.weight"));
    assert_eq!(
        error.to_string(),
        "the file has no tensor `output.weight`, which the network needs"
    );
}

#[test]
fn a_wrong_shape_names_the_tensor_and_both_shapes() {
    // Another architecture's file.
    let mut wider = Wider::<f32>::random(1);
    let before = wider;
    let error = from_safetensors(&mut wider, MLP).unwrap_err();
    assert_eq!(wider, before);
    match &error {
        SafetensorsError::WrongShape {
            name,
            expected,
            found,
        } => {
            assert_eq!(name, "hidden.weight");
            assert_eq!(expected, &[6, 3]);
            assert_eq!(found, &[5, 3]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "tensor `hidden.weight` has shape [5, 3], but the network's is [6, 3]"
    );

    // The same values under a transposed shape: `[in, out]`, as a
    // hand-written exporter that forgot PyTorch's `[out, in]` would write.
    let bytes = edited(|all| tensor(all, "hidden.weight").2 = vec![3, 5]);
    let error = refused(&bytes);
    assert!(matches!(
        &error,
        SafetensorsError::WrongShape { name, expected, found }
            if name == "hidden.weight" && expected == &[5, 3] && found == &[3, 5]
    ));
    // A conv weight flattened to 2-D.
    let mut all = tensors(CONV2D);
    tensor(&mut all, "conv.weight").2 = vec![2, 9];
    let mut image = Image::<f32>::random(2);
    let before = image;
    let error = from_safetensors(&mut image, &write(&all)).unwrap_err();
    assert_eq!(image, before);
    assert_eq!(
        error.to_string(),
        "tensor `conv.weight` has shape [2, 9], but the network's is [2, 1, 3, 3]"
    );
}

#[test]
fn a_wrong_dtype_is_named() {
    // The hidden bias as 10 bytes of F16 values instead of 20 of F32.
    let bytes = edited(|all| {
        let bias = tensor(all, "hidden.bias");
        bias.1 = Dtype::F16;
        bias.3.truncate(10);
    });
    let error = refused(&bytes);
    assert!(matches!(
        &error,
        SafetensorsError::WrongDtype { name, expected: ScalarKind::F32, found: Dtype::F16 }
            if name == "hidden.bias"
    ));
    assert_eq!(
        error.to_string(),
        "tensor `hidden.bias` holds F16 values; an f32 network reads F32 or F64"
    );
    let bytes = edited(|all| tensor(all, "output.bias").1 = Dtype::I32);
    assert!(matches!(
        refused(&bytes),
        SafetensorsError::WrongDtype {
            found: Dtype::I32,
            ..
        }
    ));
}

#[test]
fn truncated_or_corrupted_bytes_are_parse_errors() {
    for len in [0, 4, 8, 20, MLP.len() / 2, MLP.len() - 1] {
        assert!(
            matches!(refused(&MLP[..len]), SafetensorsError::Parse(_)),
            "{len} bytes"
        );
    }
    let mut longer = MLP.to_vec();
    longer.push(0);
    assert!(matches!(refused(&longer), SafetensorsError::Parse(_)));
    let mut garbled = MLP.to_vec();
    garbled[9] = b'!';
    assert!(matches!(refused(&garbled), SafetensorsError::Parse(_)));
}

#[test]
fn non_finite_values_are_refused_with_their_index() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let bytes = edited(|all| {
            // Row-major index 7 of the `[2, 5]` weight: row 1, column 2.
            tensor(all, "output.weight").3[28..32].copy_from_slice(&bad.to_le_bytes());
        });
        let error = refused(&bytes);
        assert!(
            matches!(&error, SafetensorsError::NonFinite { name, index: 7 } if name == "output.weight"),
            "{error:?}"
        );
    }
    // An f64 value beyond f32's range overflows to infinity: refused for
    // f32, loaded for f64.
    let mut big = Mlp::<f64>::random(2);
    big.hidden.b[1] = 1e300;
    let bytes = to_safetensors(&big).unwrap();
    let mut narrow = Mlp::<f32>::random(3);
    let before = narrow;
    let error = from_safetensors(&mut narrow, &bytes).unwrap_err();
    assert!(
        matches!(&error, SafetensorsError::NonFinite { name, index: 1 } if name == "hidden.bias")
    );
    assert_eq!(narrow, before);
    let mut wide = Mlp::<f64>::zeroed();
    from_safetensors(&mut wide, &bytes).unwrap();
    assert_eq!(wide, big);
}

#[test]
fn saving_refuses_non_finite_parameters() {
    let mut mlp = Mlp::<f32>::random(1);
    mlp.hidden.w[(1, 2)] = f32::NAN;
    let error = to_safetensors(&mlp).unwrap_err();
    // Element (1, 2) of the `[5, 3]` weight, row-major.
    assert!(
        matches!(&error, SafetensorsError::NonFinite { name, index: 5 } if name == "hidden.weight")
    );
    assert_eq!(
        error.to_string(),
        "value 5 of tensor `hidden.weight` is NaN or infinite"
    );
}

#[test]
fn extra_tensors_are_refused_unless_ignored() {
    let bytes = edited(|all| {
        all.push((
            "hidden.running_mean".to_string(),
            Dtype::F32,
            vec![5],
            vec![0; 20],
        ));
        all.push(("aaa".to_string(), Dtype::I64, vec![], vec![0; 8]));
    });
    // The first in name order.
    let error = refused(&bytes);
    assert!(matches!(&error, SafetensorsError::Unexpected { name } if name == "aaa"));
    let mut mlp = Mlp::<f32>::zeroed();
    from_safetensors_with(&mut mlp, &bytes, Extra::Ignore).unwrap();
    let mut plain = Mlp::<f32>::zeroed();
    from_safetensors(&mut plain, MLP).unwrap();
    assert_eq!(mlp, plain);
    // Ignoring extras still needs every tensor of the network.
    let mut seq = Seq::<f32>::random(1);
    let before = seq;
    let error = from_safetensors_with(&mut seq, MLP, Extra::Ignore).unwrap_err();
    assert!(matches!(&error, SafetensorsError::Missing { name } if name == "conv.weight"));
    assert_eq!(seq, before);
}

#[test]
fn files_round_trip_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("network-safetensors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("image.safetensors");
    let image = Image::<f32>::random(9);
    save(&image, &path).unwrap();
    let mut back = Image::<f32>::zeroed();
    load(&mut back, &path).unwrap();
    assert_eq!(back, image);

    let mut mlp = Mlp::<f32>::random(1);
    let before = mlp;
    let error = load(&mut mlp, &path).unwrap_err();
    assert_eq!(mlp, before);
    assert!(!error.saving);
    assert!(matches!(
        error.problem,
        FileProblem::Format(SafetensorsError::Missing { .. })
    ));
    assert!(
        error.to_string().starts_with(&format!(
            "cannot load a network from `{}`: ",
            path.display()
        )),
        "{error}"
    );
    let error = load(&mut mlp, dir.join("absent.safetensors")).unwrap_err();
    assert!(matches!(error.problem, FileProblem::Io(_)));
    std::fs::remove_dir_all(&dir).unwrap();
}

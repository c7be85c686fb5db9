//! `save` and `load`: weights through a file, with errors that name it.

use std::path::PathBuf;

use network::prelude::*;
use network::serialize::{BytesError, DecodeError, FileProblem, load, save};

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Xor { input: 2, hidden: Dense<4, Tanh>, output: Dense<1, Sigmoid> }
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Wider { input: 2, hidden: Dense<5, Tanh>, output: Dense<1, Sigmoid> }
}

/// A fresh directory for one test.
fn directory(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("network-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_saved_network_loads_bit_for_bit() {
    let path = directory("round-trip").join("xor.nnet");
    let net = Xor::<f32>::random(7);
    save(&net, &path).unwrap();
    let mut loaded = Xor::<f32>::random(8);
    load(&mut loaded, &path).unwrap();
    assert_eq!(loaded, net);
    assert!(
        !path.with_extension("nnet.partial").exists(),
        "no partial file is left"
    );
    // Saving again replaces the file.
    let other = Xor::<f32>::random(9);
    save(&other, &path).unwrap();
    load(&mut loaded, &path).unwrap();
    assert_eq!(loaded, other);
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let path = directory("missing").join("nowhere.nnet");
    let mut net = Xor::<f32>::random(1);
    let before = net;
    let error = load(&mut net, &path).unwrap_err();
    assert!(
        matches!(&error.problem, FileProblem::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    );
    let message = error.to_string();
    assert!(
        message.starts_with("cannot load a network from `"),
        "{message}"
    );
    assert!(message.contains("nowhere.nnet"), "{message}");
    assert_eq!(net, before);
}

#[test]
fn another_architecture_is_refused_with_the_file_named() {
    let path = directory("architecture").join("wider.nnet");
    save(&Wider::<f32>::random(1), &path).unwrap();
    let mut net = Xor::<f32>::random(1);
    let before = net;
    let error = load(&mut net, &path).unwrap_err();
    assert!(
        matches!(
            error.problem,
            FileProblem::Format(BytesError::Decode(
                DecodeError::WrongParameterCount { .. } | DecodeError::WrongArchitecture { .. }
            ))
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("wider.nnet"), "{error}");
    assert_eq!(net, before);
}

#[test]
fn saving_a_non_finite_network_writes_nothing() {
    let path = directory("non-finite").join("nan.nnet");
    let mut net = Xor::<f32>::random(1);
    net.output.b[0] = f32::NAN;
    let error = save(&net, &path).unwrap_err();
    assert!(
        matches!(error.problem, FileProblem::Format(BytesError::Encode(_))),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("cannot save the network to `"),
        "{error}"
    );
    assert!(!path.exists());
}

#[test]
fn saving_into_a_missing_directory_names_the_file() {
    let path = directory("no-dir").join("absent").join("xor.nnet");
    let error = save(&Xor::<f32>::random(1), &path).unwrap_err();
    assert!(matches!(error.problem, FileProblem::Io(_)), "{error:?}");
    assert!(error.to_string().contains("xor.nnet"), "{error}");
}

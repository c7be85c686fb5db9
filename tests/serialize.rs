//! `to_bytes` / `from_bytes`: the byte layout, round trips, every error, and
//! properties over random and mutated bytes.

use network::prelude::*;
use network::serialize::{
    CHECKSUM_LEN, DecodeError, EncodeError, FORMAT_VERSION, HEADER_LEN, MAGIC, ScalarKind,
    fingerprint, fnv1a_64, from_bytes, serialized_len, serialized_size, to_bytes,
};
use proptest::prelude::*;

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

// Same shapes and parameter count as `Xor`, another activation.
network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct XorRelu {
        input: 2,
        hidden: Dense<4, Relu>,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Deep {
        input: 3,
        first: Dense<8, Relu>,
        second: Dense<5, Tanh>,
        output: Dense<2, Identity>,
    }
}

// One declaration, two instantiations with the same parameter count:
// `<4, 3>` has 3 * 4 + 3 + 3 + 1 = 19 parameters, `<1, 6>` 6 + 6 + 6 + 1.
network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Generic<const I: usize, const H: usize> {
        input: I,
        hidden: Dense<H, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

// Convolutions with the same parameter count and output size: stride 1
// and a 2 x 2 pool, or stride 2 and no pooling; 2 x 3 x 3 either way.
network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct ConvPool {
        input: [1, 8, 8],
        conv: Conv2d<2, 3, Tanh>,
        pool: MaxPool2d<2>,
        output: Dense<1, Sigmoid>,
    }
}
network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct ConvStride {
        input: [1, 8, 8],
        conv: Conv2d<2, 3, Tanh, stride = 2>,
        output: Dense<1, Sigmoid>,
    }
}

const XOR_F32: usize = serialized_size::<f32, Xor>();
const XOR_F64: usize = serialized_size::<f64, Xor<f64>>();

fn encoded<T: Scalar, const N: usize>(net: &impl Network<T, 2, 1>) -> [u8; N] {
    let mut buffer = [0u8; N];
    assert_eq!(to_bytes(net, &mut buffer), Ok(N));
    buffer
}

/// Rewrites the trailing checksum so that a deliberate edit of the header or
/// values reaches the check it targets.
fn reseal(bytes: &mut [u8]) {
    let end = bytes.len() - CHECKSUM_LEN;
    let checksum = fnv1a_64(&bytes[..end]);
    bytes[end..].copy_from_slice(&checksum.to_le_bytes());
}

/// Decodes into a copy of `destination` and checks that an error leaves it
/// bit for bit as it was.
fn decode_xor(bytes: &[u8]) -> Result<Xor, DecodeError> {
    let original = Xor::<f32>::random(99);
    let mut destination = original;
    match from_bytes(&mut destination, bytes) {
        Ok(()) => Ok(destination),
        Err(error) => {
            assert_eq!(destination, original, "{error} changed the destination");
            Err(error)
        }
    }
}

#[test]
fn sizes_are_exact() {
    assert_eq!(XOR_F32, HEADER_LEN + 17 * 4 + CHECKSUM_LEN);
    assert_eq!(XOR_F64, HEADER_LEN + 17 * 8 + CHECKSUM_LEN);
    assert_eq!(serialized_len::<f32>(0), 32);
    assert_eq!(
        serialized_size::<f64, Deep<f64>>(),
        24 + (8 * 3 + 8 + 5 * 8 + 5 + 2 * 5 + 2) * 8 + 8
    );
}

#[test]
fn layout_is_little_endian_with_header() {
    let net = Xor::<f32>::random(1);
    let bytes: [u8; XOR_F32] = encoded(&net);
    assert_eq!(&bytes[0..4], &MAGIC);
    assert_eq!(&bytes[0..4], b"NNET");
    assert_eq!(bytes[4..6], FORMAT_VERSION.to_le_bytes());
    assert_eq!(bytes[6], 4, "f32 is stored as scalar code 4");
    assert_eq!(bytes[7], 0);
    assert_eq!(<Xor as Network<f32, 2, 1>>::RESOLVED_SIZES, &[2, 4, 1]);
    let print = fingerprint(<Xor as Network<f32, 2, 1>>::ARCHITECTURE, &[2, 4, 1], 17);
    assert_eq!(bytes[8..16], print.to_le_bytes());
    assert_eq!(bytes[16..24], 17u64.to_le_bytes());
    // Values in `Parameters::slices` order: hidden.w (column-major),
    // hidden.b, output.w, output.b.
    let values: Vec<f32> = net.slices().flatten().copied().collect();
    assert_eq!(values[0], net.hidden.w[(0, 0)]);
    assert_eq!(values[1], net.hidden.w[(1, 0)]);
    for (i, value) in values.iter().enumerate() {
        let at = HEADER_LEN + 4 * i;
        assert_eq!(bytes[at..at + 4], value.to_le_bytes(), "value {i}");
    }
    let end = XOR_F32 - CHECKSUM_LEN;
    assert_eq!(bytes[end..], fnv1a_64(&bytes[..end]).to_le_bytes());
}

#[test]
fn f64_is_stored_as_eight_bytes() {
    let net = Xor::<f64>::random(2);
    let bytes: [u8; XOR_F64] = encoded(&net);
    assert_eq!(bytes[6], 8);
    assert_eq!(
        bytes[HEADER_LEN..HEADER_LEN + 8],
        net.hidden.w[(0, 0)].to_le_bytes()
    );
}

#[test]
fn round_trips_are_bit_exact() {
    for seed in 0..20 {
        let net = Xor::<f32>::random(seed);
        let bytes: [u8; XOR_F32] = encoded(&net);
        let mut copy = Xor::<f32>::zeroed();
        from_bytes(&mut copy, &bytes).unwrap();
        assert_eq!(copy, net);

        let net = Xor::<f64>::random(seed);
        let bytes: [u8; XOR_F64] = encoded(&net);
        let mut copy = Xor::<f64>::zeroed();
        from_bytes(&mut copy, &bytes).unwrap();
        assert_eq!(copy, net);
    }
    let deep = Deep::<f64>::random(5);
    let mut buffer = [0u8; serialized_size::<f64, Deep<f64>>()];
    to_bytes(&deep, &mut buffer).unwrap();
    let mut copy = Deep::<f64>::zeroed();
    from_bytes(&mut copy, &buffer).unwrap();
    assert_eq!(copy, deep);
}

#[test]
fn extreme_finite_values_round_trip() {
    let mut net = Xor::<f32>::zeroed();
    let specials = [
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::EPSILON,
        -0.0,
        1e-45, // subnormal
    ];
    for (value, special) in net.slices_mut().flatten().zip(specials.iter().cycle()) {
        *value = *special;
    }
    let bytes: [u8; XOR_F32] = encoded(&net);
    let mut copy = Xor::<f32>::zeroed();
    from_bytes(&mut copy, &bytes).unwrap();
    let bits = |n: &Xor| -> Vec<u32> { n.slices().flatten().map(|v| v.to_bits()).collect() };
    assert_eq!(
        bits(&copy),
        bits(&net),
        "-0.0 and subnormals keep their bits"
    );
}

#[test]
fn larger_buffer_is_fine_and_only_the_prefix_is_written() {
    let net = Xor::<f32>::random(3);
    let mut buffer = [0xAAu8; XOR_F32 + 10];
    assert_eq!(to_bytes(&net, &mut buffer), Ok(XOR_F32));
    assert!(buffer[XOR_F32..].iter().all(|&b| b == 0xAA));
    assert_eq!(decode_xor(&buffer[..XOR_F32]), Ok(net));
}

#[test]
fn encode_errors_write_nothing() {
    let net = Xor::<f32>::random(4);
    let mut small = [0x55u8; XOR_F32 - 1];
    assert_eq!(
        to_bytes(&net, &mut small),
        Err(EncodeError::BufferTooSmall {
            needed: XOR_F32,
            len: XOR_F32 - 1
        })
    );
    assert!(small.iter().all(|&b| b == 0x55));

    let mut broken = net;
    broken.output.b[0] = f32::NAN;
    let mut buffer = [0x55u8; XOR_F32];
    assert_eq!(
        to_bytes(&broken, &mut buffer),
        Err(EncodeError::NonFinite { index: 16 })
    );
    broken.output.b[0] = 0.0;
    broken.hidden.w[(1, 0)] = f32::NEG_INFINITY;
    assert_eq!(
        to_bytes(&broken, &mut buffer),
        Err(EncodeError::NonFinite { index: 1 })
    );
    assert!(buffer.iter().all(|&b| b == 0x55));
}

#[test]
fn truncated_input() {
    let bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(5));
    assert_eq!(
        decode_xor(&[]),
        Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            len: 0
        })
    );
    assert_eq!(
        decode_xor(&bytes[..HEADER_LEN - 1]),
        Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            len: HEADER_LEN - 1
        })
    );
    for len in HEADER_LEN..XOR_F32 {
        assert_eq!(
            decode_xor(&bytes[..len]),
            Err(DecodeError::Truncated {
                needed: XOR_F32,
                len
            })
        );
    }
}

#[test]
fn trailing_bytes() {
    let bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(6));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(
        decode_xor(&longer),
        Err(DecodeError::TrailingBytes {
            expected: XOR_F32,
            len: XOR_F32 + 1
        })
    );
}

#[test]
fn bad_magic() {
    let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(7));
    bytes[0] = b'X';
    assert_eq!(decode_xor(&bytes), Err(DecodeError::BadMagic));
    let text = b"this is not a network, just some text that is long enough";
    assert_eq!(decode_xor(text), Err(DecodeError::BadMagic));
}

#[test]
fn unsupported_version() {
    // The next version, and version 1, whose fingerprint did not cover the
    // resolved sizes.
    for version in [FORMAT_VERSION + 1, 1] {
        let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(8));
        bytes[4..6].copy_from_slice(&version.to_le_bytes());
        reseal(&mut bytes);
        assert_eq!(
            decode_xor(&bytes),
            Err(DecodeError::UnsupportedVersion(version))
        );
    }
}

#[test]
fn wrong_scalar() {
    let bytes: [u8; XOR_F64] = encoded(&Xor::<f64>::random(9));
    assert_eq!(
        decode_xor(&bytes),
        Err(DecodeError::WrongScalar {
            expected: ScalarKind::F32,
            found: 8
        })
    );
    let bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(9));
    let mut wide = Xor::<f64>::random(10);
    let before = wide;
    assert_eq!(
        from_bytes(&mut wide, &bytes),
        Err(DecodeError::WrongScalar {
            expected: ScalarKind::F64,
            found: 4
        })
    );
    assert_eq!(wide, before);
    let mut unknown = bytes;
    unknown[6] = 3;
    let error = decode_xor(&unknown).unwrap_err();
    assert_eq!(
        error,
        DecodeError::WrongScalar {
            expected: ScalarKind::F32,
            found: 3
        }
    );
    assert!(error.to_string().contains("unknown scalar type code 3"));
}

#[test]
fn reserved_byte_must_be_zero() {
    let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(11));
    bytes[7] = 1;
    reseal(&mut bytes);
    assert_eq!(decode_xor(&bytes), Err(DecodeError::BadHeader));
}

#[test]
fn wrong_architecture() {
    // Same parameter count and shapes, another activation: refused.
    let bytes: [u8; XOR_F32] = encoded(&XorRelu::<f32>::random(12));
    let expected = fingerprint(<Xor as Network<f32, 2, 1>>::ARCHITECTURE, &[2, 4, 1], 17);
    let found = fingerprint(
        <XorRelu as Network<f32, 2, 1>>::ARCHITECTURE,
        &[2, 4, 1],
        17,
    );
    assert_ne!(expected, found);
    assert_eq!(
        decode_xor(&bytes),
        Err(DecodeError::WrongArchitecture { expected, found })
    );
    // Another size entirely.
    let mut buffer = [0u8; serialized_size::<f32, Deep>()];
    to_bytes(&Deep::<f32>::random(1), &mut buffer).unwrap();
    assert!(matches!(
        decode_xor(&buffer),
        Err(DecodeError::WrongArchitecture { .. })
    ));
}

#[test]
fn same_declaration_other_sizes_is_another_architecture() {
    const LEN: usize = serialized_size::<f32, Generic<4, 3>>();
    assert_eq!(LEN, serialized_size::<f32, Generic<1, 6>>());
    let mut bytes = [0u8; LEN];
    to_bytes(&Generic::<4, 3, f32>::random(5), &mut bytes).unwrap();
    let mut other = Generic::<1, 6, f32>::zeroed();
    let before = other;
    assert!(matches!(
        from_bytes(&mut other, &bytes),
        Err(DecodeError::WrongArchitecture { .. })
    ));
    assert_eq!(other, before);
    let mut same = Generic::<4, 3, f32>::zeroed();
    assert_eq!(from_bytes(&mut same, &bytes), Ok(()));
}

#[test]
fn wrong_parameter_count() {
    let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(13));
    bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    reseal(&mut bytes);
    assert_eq!(
        decode_xor(&bytes),
        Err(DecodeError::WrongParameterCount {
            expected: 17,
            found: u64::MAX
        })
    );
}

#[test]
fn corrupted_values_fail_the_checksum() {
    let bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(14));
    for at in HEADER_LEN..XOR_F32 {
        let mut corrupted = bytes;
        corrupted[at] ^= 0x10;
        assert_eq!(
            decode_xor(&corrupted),
            Err(DecodeError::ChecksumMismatch),
            "byte {at}"
        );
    }
}

#[test]
fn non_finite_values() {
    let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(15));
    let at = HEADER_LEN + 4 * 5;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    reseal(&mut bytes);
    assert_eq!(decode_xor(&bytes), Err(DecodeError::NonFinite { index: 5 }));

    let mut bytes: [u8; XOR_F64] = encoded(&Xor::<f64>::random(15));
    let at = HEADER_LEN + 8 * 16;
    bytes[at..at + 8].copy_from_slice(&f64::INFINITY.to_le_bytes());
    reseal(&mut bytes);
    let mut wide = Xor::<f64>::random(1);
    let before = wide;
    assert_eq!(
        from_bytes(&mut wide, &bytes),
        Err(DecodeError::NonFinite { index: 16 })
    );
    assert_eq!(wide, before);
}

#[test]
fn errors_read_well() {
    let error = DecodeError::Truncated {
        needed: 100,
        len: 7,
    };
    assert_eq!(error.to_string(), "truncated: 7 bytes where 100 are needed");
    let error = DecodeError::WrongScalar {
        expected: ScalarKind::F32,
        found: 8,
    };
    assert_eq!(
        error.to_string(),
        "the bytes hold f64 values, the network is f32"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic, and a refusal leaves the destination alone.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_xor(&bytes);
    }

    /// Random bytes behind a valid header and of the right length still fail
    /// the checksum (or, rarely, a later check), without touching the network.
    #[test]
    fn random_values_behind_a_valid_header(tail in proptest::collection::vec(any::<u8>(), XOR_F32 - HEADER_LEN)) {
        let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(0));
        bytes[HEADER_LEN..].copy_from_slice(&tail);
        prop_assert!(decode_xor(&bytes).is_err());
    }

    /// Any single changed byte of a valid encoding is refused.
    #[test]
    fn every_single_byte_change_is_refused(seed in any::<u64>(), at in 0..XOR_F32, flip in 1..=255u8) {
        let mut bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(seed));
        bytes[at] ^= flip;
        prop_assert!(decode_xor(&bytes).is_err());
    }

    /// Several mutations (byte changes, truncation, extension) never panic,
    /// and an error never touches the destination.
    #[test]
    fn mutated_bytes_never_panic(
        seed in any::<u64>(),
        edits in proptest::collection::vec((0..XOR_F32, any::<u8>()), 0..8),
        len in 0..XOR_F32 + 16,
    ) {
        let bytes: [u8; XOR_F32] = encoded(&Xor::<f32>::random(seed));
        let mut mutated = bytes.to_vec();
        for (at, value) in edits {
            mutated[at] = value;
        }
        mutated.resize(len, 0);
        if let Ok(decoded) = decode_xor(&mutated) {
            // Only an unchanged encoding may load.
            prop_assert_eq!(&mutated[..], &bytes[..]);
            prop_assert_eq!(decoded, Xor::<f32>::random(seed));
        }
    }

    /// Round trip for random networks in both precisions.
    #[test]
    fn round_trip(seed in any::<u64>()) {
        let net = Xor::<f64>::random(seed);
        let bytes: [u8; XOR_F64] = encoded(&net);
        let mut copy = Xor::<f64>::zeroed();
        prop_assert_eq!(from_bytes(&mut copy, &bytes), Ok(()));
        prop_assert_eq!(copy, net);
    }
}

#[test]
fn convolutional_networks_round_trip_and_are_told_apart() {
    const LEN: usize = serialized_size::<f32, ConvPool>();
    assert_eq!(LEN, serialized_size::<f32, ConvStride>());
    let net = ConvPool::<f32>::random(3);
    let mut bytes = [0u8; LEN];
    assert_eq!(to_bytes(&net, &mut bytes), Ok(LEN));
    let mut copy = ConvPool::<f32>::zeroed();
    assert_eq!(from_bytes(&mut copy, &bytes), Ok(()));
    assert_eq!(copy, net);
    let mut other = ConvStride::<f32>::zeroed();
    assert!(matches!(
        from_bytes(&mut other, &bytes),
        Err(DecodeError::WrongArchitecture { .. })
    ));
    assert_eq!(other, ConvStride::<f32>::zeroed());
}

//! The CSV and IDX loaders on tiny files each test writes itself: good input
//! parses, every kind of bad input gives an error naming the file and the
//! line or byte offset, and random bytes never make them panic.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};

use network::load::{
    LoadError, Location, Problem, parse_csv, parse_idx_images, parse_idx_labels, read_csv,
    read_idx_images, read_idx_labels, read_mnist,
};
use proptest::prelude::*;

/// A fresh directory under the system's temporary directory, removed when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("network-loaders-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn csv_error(dir: &TempDir, name: &str, contents: &str) -> LoadError {
    let path = dir.write(name, contents);
    let error = read_csv::<2, 3>(&path).unwrap_err();
    assert_eq!(error.path, path);
    let message = error.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    error
}

#[test]
fn csv_reads_features_and_labels() {
    let dir = TempDir::new("csv-good");
    let path = dir.write("good.csv", "a,b,label\n1.5,-2,0\n\n3e-1, 4 ,2\r\n0,0,1");
    let data = read_csv::<2, 3>(&path).unwrap();
    assert_eq!(data.inputs, [[1.5, -2.0], [0.3, 4.0], [0.0, 0.0]]);
    assert_eq!(data.labels, [0, 2, 1]);
    let view = data.classification::<f32, 3>(2.0).unwrap();
    assert_eq!(network::Dataset::len(&view), 3);
    assert!(data.classification::<f32, 2>(1.0).is_err());
}

#[test]
fn csv_rejects_bad_input_with_file_and_line() {
    let dir = TempDir::new("csv-bad");
    let cases: [(&str, &str, usize, &str); 9] = [
        (
            "columns.csv",
            "a,b,label\n1,2,0\n1,2\n",
            3,
            "expected 3 comma-separated columns (2 features and a label), found 2",
        ),
        ("extra.csv", "a,b,label\n1,2,0,5\n", 2, "found 4"),
        ("header.csv", "a,label\n1,2,0\n", 1, "found 2"),
        (
            "text.csv",
            "a,b,label\n1,2,0\n1,two,0\n",
            3,
            "column 2: `two` is not a finite number",
        ),
        (
            "nan.csv",
            "a,b,label\nNaN,2,0\n",
            2,
            "column 1: `NaN` is not a finite number",
        ),
        (
            "inf.csv",
            "a,b,label\n1,inf,0\n",
            2,
            "column 2: `inf` is not a finite number",
        ),
        (
            "range.csv",
            "a,b,label\n1,2,0\n1,2,3\n",
            3,
            "label 3 is out of range: there are 3 classes (0..3)",
        ),
        (
            "fraction.csv",
            "a,b,label\n1,2,1.5\n",
            2,
            "label `1.5` is not a non-negative integer",
        ),
        (
            "negative.csv",
            "a,b,label\n1,2,-1\n",
            2,
            "label `-1` is not a non-negative integer",
        ),
    ];
    for (name, contents, line, message) in cases {
        let error = csv_error(&dir, name, contents);
        assert_eq!(error.location, Location::Line(line), "{name}: {error}");
        let text = error.to_string();
        assert!(text.contains(&format!("{name}:{line}: ")), "{text}");
        assert!(text.ends_with(message), "{name}: {text}");
    }

    let empty = csv_error(&dir, "empty.csv", "");
    assert!(matches!(empty.problem, Problem::MissingHeader), "{empty}");
    // A file without a header: its first sample would silently be taken
    // for one.
    let headerless = csv_error(&dir, "headerless.csv", "1.5,2,0\n3,4,1\n");
    assert!(
        matches!(headerless.problem, Problem::HeaderIsData),
        "{headerless}"
    );
    assert_eq!(headerless.location, Location::Line(1));
    assert!(
        headerless.to_string().contains("must be a header"),
        "{headerless}"
    );
    let header_only = csv_error(&dir, "header-only.csv", "a,b,label\n");
    assert!(
        matches!(header_only.problem, Problem::NoSamples),
        "{header_only}"
    );

    let path = dir.write("latin1.csv", b"a,b,label\n1,2,0\n1,\xe9,0\n");
    let error = read_csv::<2, 3>(&path).unwrap_err();
    assert!(matches!(error.problem, Problem::NotUtf8));
    assert_eq!(error.location, Location::Line(3));

    let missing = read_csv::<2, 3>(dir.0.join("missing.csv")).unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert_eq!(missing.location, Location::File);
}

#[test]
fn the_shipped_csv_files_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let iris = read_csv::<4, 3>(root.join("iris.csv")).unwrap();
    assert_eq!(iris.len(), 150);
    for class in 0..3 {
        assert_eq!(iris.labels.iter().filter(|&&l| l == class).count(), 50);
    }
    let digits = read_csv::<64, 10>(root.join("digits.csv")).unwrap();
    assert_eq!(digits.len(), 1797);
    assert!(
        digits
            .inputs
            .iter()
            .flatten()
            .all(|&p| (0.0..=16.0).contains(&p))
    );
    // One feature too many or too few is caught on the header line.
    let error = read_csv::<63, 10>(root.join("digits.csv")).unwrap_err();
    assert_eq!(error.location, Location::Line(1));
}

/// An IDX file of unsigned bytes with the given sizes and data.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn idx_reads_images_and_labels() {
    let dir = TempDir::new("idx-good");
    let images = dir.write(
        "images",
        idx(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    );
    let labels = dir.write("labels", idx(&[2], &[9, 0]));
    assert_eq!(
        read_idx_images::<6>(&images).unwrap(),
        [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
    );
    assert_eq!(read_idx_labels::<10>(&labels).unwrap(), [9, 0]);
    assert_eq!(
        read_idx_images::<0>(&dir.write("none", idx(&[0, 0, 0], &[])))
            .unwrap_err()
            .location,
        Location::Byte(8)
    );
    assert_eq!(
        read_idx_labels::<10>(&dir.write("no-labels", idx(&[0], &[]))).unwrap(),
        Vec::<usize>::new()
    );
}

fn idx_error(bytes: &[u8], pixels: bool) -> LoadError {
    let path = Path::new("tiny-idx");
    let error = if pixels {
        parse_idx_images::<4>(bytes, path).unwrap_err()
    } else {
        parse_idx_labels::<10>(bytes, path).unwrap_err()
    };
    assert!(error.to_string().starts_with("tiny-idx: byte "), "{error}");
    error
}

#[test]
fn idx_rejects_bad_input_with_file_and_offset() {
    let good = idx(&[2, 2, 2], &[0; 8]);
    assert!(parse_idx_images::<4>(&good, Path::new("x")).is_ok());

    // Labels where images are expected, and a stray first byte.
    let error = idx_error(&idx(&[8], &[0; 8]), true);
    assert!(matches!(
        error.problem,
        Problem::BadMagic {
            found: 0x801,
            expected: 0x803
        }
    ));
    assert_eq!(
        error.to_string(),
        "tiny-idx: byte 0: bad magic number 0x00000801, expected 0x00000803: not an IDX file of this kind"
    );
    let mut stray = good.clone();
    stray[0] = 1;
    assert_eq!(idx_error(&stray, true).location, Location::Byte(0));
    let mut floats = good.clone();
    floats[2] = 0x0D;
    assert!(matches!(
        idx_error(&floats, true).problem,
        Problem::BadMagic { .. }
    ));

    // Truncated in the magic number, in the sizes, and in the data.
    for len in [0, 3, 4, 15, 16, 23] {
        let error = idx_error(&good[..len], true);
        assert_eq!(error.location, Location::Byte(len as u64), "{error}");
        assert!(matches!(error.problem, Problem::Truncated { found, .. } if found == len as u64));
    }
    let error = idx_error(&good[..20], true);
    assert!(
        error
            .to_string()
            .ends_with("truncated: the header announces 24 bytes, the file has 20"),
        "{error}"
    );

    // Trailing bytes after the announced data.
    let mut long = good.clone();
    long.push(0);
    let error = idx_error(&long, true);
    assert_eq!(error.location, Location::Byte(24));
    assert!(matches!(
        error.problem,
        Problem::TrailingBytes {
            expected: 24,
            found: 25
        }
    ));

    // Images of the wrong size for the network.
    let error = idx_error(&idx(&[1, 3, 3], &[0; 9]), true);
    assert!(matches!(
        error.problem,
        Problem::WrongImageSize {
            expected: 4,
            found: 9
        }
    ));

    // Sizes whose product overflows are reported as truncation, not a panic.
    let error = idx_error(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[]), true);
    assert!(matches!(error.problem, Problem::Truncated { .. }));

    // A label out of range is reported at its own byte.
    let error = idx_error(&idx(&[3], &[1, 10, 2]), false);
    assert_eq!(error.location, Location::Byte(9));
    assert!(
        error
            .to_string()
            .ends_with("label 10 is out of range: there are 10 classes (0..10)")
    );
}

#[test]
fn mnist_reads_the_standard_file_names() {
    let dir = TempDir::new("mnist");
    let image = |v: u8| [v; 784];
    let train: Vec<u8> = [image(1), image(2), image(3)].concat();
    let test: Vec<u8> = [image(4), image(5)].concat();
    dir.write("train-images-idx3-ubyte", idx(&[3, 28, 28], &train));
    dir.write("train-labels-idx1-ubyte", idx(&[3], &[7, 8, 9]));
    // The test set under the dotted names many mirrors use.
    dir.write("t10k-images.idx3-ubyte", idx(&[2, 28, 28], &test));
    dir.write("t10k-labels.idx1-ubyte", idx(&[2], &[0, 1]));
    let mnist = read_mnist(&dir.0).unwrap();
    assert_eq!(mnist.train.labels, [7, 8, 9]);
    assert_eq!(mnist.train.inputs[2], image(3));
    assert_eq!(mnist.test.labels, [0, 1]);
    assert_eq!(mnist.test.inputs[0], image(4));

    // One label too few.
    dir.write("t10k-labels.idx1-ubyte", idx(&[1], &[0]));
    let error = read_mnist(&dir.0).unwrap_err();
    assert!(matches!(
        error.problem,
        Problem::CountMismatch {
            images: 2,
            labels: 1
        }
    ));
    assert!(
        error.to_string().contains("t10k-labels.idx1-ubyte"),
        "{error}"
    );

    // A missing file names the path it looked for.
    std::fs::remove_file(dir.0.join("train-images-idx3-ubyte")).unwrap();
    let error = read_mnist(&dir.0).unwrap_err();
    assert!(error.is_not_found());
    assert!(
        error.to_string().contains("train-images-idx3-ubyte"),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let path = Path::new("random");
        let _ = parse_idx_images::<4>(&bytes, path);
        let _ = parse_idx_labels::<3>(&bytes, path);
        let _ = parse_csv::<2, 3>(&bytes[..], path);
    }

    #[test]
    fn random_headers_never_panic(dims in proptest::collection::vec(any::<u32>(), 1..4), data in proptest::collection::vec(any::<u8>(), 0..32)) {
        let path = Path::new("random");
        let bytes = idx(&dims, &data);
        let _ = parse_idx_images::<4>(&bytes, path);
        let _ = parse_idx_labels::<3>(&bytes, path);
    }

    #[test]
    fn random_csv_lines_never_panic(lines in proptest::collection::vec("[0-9a-z,. -]{0,12}", 0..6)) {
        let text = lines.join("\n");
        let _ = parse_csv::<2, 3>(text.as_bytes(), Path::new("random.csv"));
    }
}

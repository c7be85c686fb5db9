//! CSV: a header line, then one sample per line: `IN` features and an
//! integer label, comma-separated, without quoting.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::string::ToString;
use std::vec::Vec;

use super::{Labeled, LoadError, Location, Problem};

/// Reads a CSV file of `IN` features and a label in `0..OUT` per line, after
/// one header line. Empty lines are skipped; `\r\n` line ends are accepted.
///
/// # Errors
///
/// A [`LoadError`] naming the file and line for a missing header, a line
/// with a wrong number of columns, a feature that is not a finite number, a
/// label that is not an integer in `0..OUT`, a file without samples, or an
/// I/O failure.
pub fn read_csv<const IN: usize, const OUT: usize>(
    path: impl AsRef<Path>,
) -> Result<Labeled<f64, IN>, LoadError> {
    let path = path.as_ref();
    let file =
        File::open(path).map_err(|e| LoadError::new(path, Location::File, Problem::Io(e)))?;
    parse_csv::<IN, OUT>(BufReader::new(file), path)
}

/// Like [`read_csv`], from any reader; `path` only names it in errors.
///
/// # Errors
///
/// As [`read_csv`].
pub fn parse_csv<const IN: usize, const OUT: usize>(
    mut reader: impl BufRead,
    path: &Path,
) -> Result<Labeled<f64, IN>, LoadError> {
    let error = |line: usize, problem: Problem| LoadError::new(path, Location::Line(line), problem);
    let columns = IN + 1;
    let mut data = Labeled::default();
    let mut bytes = Vec::new();
    let mut line_number = 0;
    let mut seen_header = false;
    loop {
        bytes.clear();
        let read = reader
            .read_until(b'\n', &mut bytes)
            .map_err(|e| error(line_number + 1, Problem::Io(e)))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let line = std::str::from_utf8(&bytes).map_err(|_| error(line_number, Problem::NotUtf8))?;
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let found = line.split(',').count();
        if found != columns {
            return Err(error(
                line_number,
                Problem::ColumnCount {
                    expected: columns,
                    found,
                },
            ));
        }
        if !seen_header {
            if line
                .split(',')
                .all(|field| field.trim().parse::<f64>().is_ok())
            {
                return Err(error(line_number, Problem::HeaderIsData));
            }
            seen_header = true;
            continue;
        }
        let mut features = [0.0; IN];
        let mut fields = line.split(',');
        for (column, (feature, field)) in features.iter_mut().zip(&mut fields).enumerate() {
            let value = field.trim();
            *feature = value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    error(
                        line_number,
                        Problem::NotANumber {
                            column: column + 1,
                            value: value.to_string(),
                        },
                    )
                })?;
        }
        let value = fields.next().unwrap_or_default().trim();
        let label = value.parse::<usize>().map_err(|_| {
            error(
                line_number,
                Problem::NotALabel {
                    value: value.to_string(),
                },
            )
        })?;
        if label >= OUT {
            return Err(error(
                line_number,
                Problem::LabelOutOfRange {
                    label,
                    classes: OUT,
                },
            ));
        }
        data.inputs.push(features);
        data.labels.push(label);
    }
    if !seen_header {
        return Err(LoadError::new(
            path,
            Location::Line(1),
            Problem::MissingHeader,
        ));
    }
    if data.is_empty() {
        return Err(error(line_number, Problem::NoSamples));
    }
    Ok(data)
}

//! The contribution-validation job: given the bytes a storage endpoint served for a
//! contribution, check them against the contribution's record and score their content.
//!
//! Integrity comes first: the bytes must hash to the contribution's hash and have its size.
//! Then the content must parse in the declared format:
//! - plain text: valid UTF-8;
//! - JSON: one JSON document;
//! - JSON Lines: each non-empty line a JSON value; the score is the share of lines that parse;
//! - CSV: a header row and rows with as many fields (RFC 4180 quoting); the score is the share
//!   of rows that have the header's width;
//! - Parquet, PNG, JPEG, WAV, FLAC: the format's signature bytes.
//!
//! A contribution is [`ValidationOutcome::Valid`] only if everything parses (score 100); one
//! bad line makes it `Malformed` with the share that did parse as its score.

use crate::store::content_hash;
use pallet_datanets::{DataFormat, ValidationOutcome, ValidationReport};
use sp_core::H256;

/// Builds a report, cutting the reason to what the chain stores.
pub fn report(
	outcome: ValidationOutcome,
	score: u8,
	reason: impl Into<String>,
) -> ValidationReport {
	let mut reason: String = reason.into();
	let limit = 256;
	if reason.len() > limit {
		let mut cut = limit;
		while !reason.is_char_boundary(cut) {
			cut -= 1;
		}
		reason.truncate(cut);
	}
	ValidationReport {
		outcome,
		score,
		reason: frame_support::BoundedVec::truncate_from(reason.into_bytes()),
	}
}

/// Validates `bytes` as the contribution with this hash, size and format.
pub fn validate(hash: H256, size: u64, format: DataFormat, bytes: &[u8]) -> ValidationReport {
	let actual = content_hash(bytes);
	if actual != hash {
		return report(
			ValidationOutcome::HashMismatch,
			0,
			format!("the bytes hash to {actual:?}, not to {hash:?}"),
		);
	}
	if bytes.len() as u64 != size {
		return report(
			ValidationOutcome::SizeMismatch,
			0,
			format!("{} bytes, not the declared {size}", bytes.len()),
		);
	}
	match parse(format, bytes) {
		Ok(summary) => report(ValidationOutcome::Valid, 100, summary),
		Err((score, reason)) => report(ValidationOutcome::Malformed, score, reason),
	}
}

/// `Ok(summary)` if the content parses; else the share that did and the first problem.
fn parse(format: DataFormat, bytes: &[u8]) -> Result<String, (u8, String)> {
	let magic = |signature: &[u8], name: &str| {
		if bytes.starts_with(signature) {
			Ok(format!("{name} signature present"))
		} else {
			Err((0, format!("not a {name} file: its signature is missing")))
		}
	};
	match format {
		DataFormat::PlainText => {
			text(bytes).map(|t| format!("{} lines of UTF-8 text", t.lines().count()))
		},
		DataFormat::Json => {
			let t = text(bytes)?;
			serde_json::from_str::<serde_json::Value>(t)
				.map(|_| "one JSON document".to_string())
				.map_err(|e| (0, format!("invalid JSON: {e}")))
		},
		DataFormat::JsonLines => json_lines(text(bytes)?),
		DataFormat::Csv => csv(text(bytes)?),
		DataFormat::Parquet => {
			if bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1") && bytes.len() >= 8 {
				Ok("Parquet signature present".into())
			} else {
				Err((0, "not a Parquet file: PAR1 must open and close it".into()))
			}
		},
		DataFormat::Png => magic(b"\x89PNG\r\n\x1a\n", "PNG"),
		DataFormat::Jpeg => magic(&[0xFF, 0xD8, 0xFF], "JPEG"),
		DataFormat::Wav => {
			if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE")
			{
				Ok("WAV signature present".into())
			} else {
				Err((0, "not a WAV file: RIFF....WAVE is missing".into()))
			}
		},
		DataFormat::Flac => magic(b"fLaC", "FLAC"),
	}
}

fn text(bytes: &[u8]) -> Result<&str, (u8, String)> {
	std::str::from_utf8(bytes)
		.map_err(|e| (0, format!("not UTF-8: invalid byte at offset {}", e.valid_up_to())))
}

/// `good` of `total` in percent; 0 of nothing.
fn share(good: usize, total: usize) -> u8 {
	(good * 100).checked_div(total).unwrap_or(0) as u8
}

fn json_lines(text: &str) -> Result<String, (u8, String)> {
	let mut total = 0;
	let mut good = 0;
	let mut first_error = None;
	for (number, line) in text.lines().enumerate() {
		if line.trim().is_empty() {
			continue;
		}
		total += 1;
		match serde_json::from_str::<serde_json::Value>(line) {
			Ok(_) => good += 1,
			Err(e) if first_error.is_none() => {
				first_error = Some(format!("line {}: {e}", number + 1))
			},
			Err(_) => {},
		}
	}
	match (total, first_error) {
		(0, _) => Err((0, "no JSON lines".into())),
		(_, None) => Ok(format!("{total} JSON lines")),
		(_, Some(e)) => Err((share(good, total), format!("{good} of {total} lines parse; {e}"))),
	}
}

/// Splits CSV text into records of fields, with RFC 4180 quotes. An unterminated quote makes
/// the last record an error.
fn csv_records(text: &str) -> Vec<Result<usize, String>> {
	let mut records = Vec::new();
	let mut fields = 0usize;
	let mut in_quotes = false;
	let mut field_started = false;
	let mut chars = text.chars().peekable();
	let mut line = 1;
	while let Some(c) = chars.next() {
		match (in_quotes, c) {
			(true, '"') if chars.peek() == Some(&'"') => {
				chars.next();
			},
			(true, '"') => in_quotes = false,
			(true, '\n') => line += 1,
			(true, _) => {},
			(false, '"') => {
				in_quotes = true;
				field_started = true;
			},
			(false, ',') => {
				fields += 1;
				field_started = false;
			},
			(false, '\r') => {},
			(false, '\n') => {
				records.push(Ok(fields + 1));
				fields = 0;
				field_started = false;
				line += 1;
			},
			(false, _) => field_started = true,
		}
	}
	if in_quotes {
		records.push(Err(format!("line {line}: unterminated quoted field")));
	} else if fields > 0 || field_started {
		records.push(Ok(fields + 1));
	}
	records
}

fn csv(text: &str) -> Result<String, (u8, String)> {
	let records = csv_records(text);
	let Some(Ok(width)) = records.first().cloned() else {
		return Err((0, "no header row".into()));
	};
	let rows = &records[1..];
	if rows.is_empty() {
		return Err((0, "a header row and no data".into()));
	}
	let mut good = 0;
	let mut first_error = None;
	for (i, row) in rows.iter().enumerate() {
		match row {
			Ok(n) if *n == width => good += 1,
			Ok(n) if first_error.is_none() => {
				first_error = Some(format!("row {}: {n} fields, the header has {width}", i + 1))
			},
			Err(e) if first_error.is_none() => first_error = Some(e.clone()),
			_ => {},
		}
	}
	match first_error {
		None => Ok(format!("{} rows of {width} fields", rows.len())),
		Some(e) => {
			Err((share(good, rows.len()), format!("{good} of {} rows fit; {e}", rows.len())))
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn check(format: DataFormat, bytes: &[u8]) -> ValidationReport {
		validate(content_hash(bytes), bytes.len() as u64, format, bytes)
	}

	#[test]
	fn integrity_comes_first() {
		let bytes = b"{\"q\": 1}\n";
		let r = validate(content_hash(b"x"), 9, DataFormat::JsonLines, bytes);
		assert_eq!((r.outcome, r.score), (ValidationOutcome::HashMismatch, 0));
		let r = validate(content_hash(bytes), 10, DataFormat::JsonLines, bytes);
		assert_eq!(r.outcome, ValidationOutcome::SizeMismatch);
		assert_eq!(r.reason.to_vec(), b"9 bytes, not the declared 10".to_vec());
	}

	#[test]
	fn json_lines_score_the_share_of_lines_that_parse() {
		let good = b"{\"prompt\": \"a\", \"answer\": 1}\n\n[1, 2]\n\"text\"\n";
		let r = check(DataFormat::JsonLines, good);
		assert_eq!((r.outcome, r.score), (ValidationOutcome::Valid, 100));
		assert_eq!(r.reason.to_vec(), b"3 JSON lines".to_vec());
		let bad = b"{\"a\": 1}\n{\"a\": 2\n{\"a\": 3}\n{\"a\": 4}\n";
		let r = check(DataFormat::JsonLines, bad);
		assert_eq!((r.outcome, r.score), (ValidationOutcome::Malformed, 75));
		assert!(String::from_utf8(r.reason.to_vec())
			.unwrap()
			.starts_with("3 of 4 lines parse; line 2:"));
		assert_eq!(check(DataFormat::JsonLines, b"\n\n").outcome, ValidationOutcome::Malformed);
	}

	#[test]
	fn text_json_and_csv() {
		assert_eq!(
			check(DataFormat::PlainText, "héllo\nworld".as_bytes()).outcome,
			ValidationOutcome::Valid
		);
		let r = check(DataFormat::PlainText, &[b'a', 0xFF, b'b']);
		assert_eq!(r.reason.to_vec(), b"not UTF-8: invalid byte at offset 1".to_vec());
		assert_eq!(check(DataFormat::Json, b"{\"a\": [1, 2]}").outcome, ValidationOutcome::Valid);
		assert_eq!(check(DataFormat::Json, b"{\"a\": ").outcome, ValidationOutcome::Malformed);
		let csv = b"name,comment\nada,\"likes, commas\"\nbob,\"says \"\"hi\"\"\nand more\"\n";
		let r = check(DataFormat::Csv, csv);
		assert_eq!((r.outcome, r.score), (ValidationOutcome::Valid, 100), "{:?}", r);
		let ragged = b"a,b\n1,2\n3\n4,5\n5,6\n";
		let r = check(DataFormat::Csv, ragged);
		assert_eq!((r.outcome, r.score), (ValidationOutcome::Malformed, 75));
		assert_eq!(check(DataFormat::Csv, b"a,b\n\"1,2\n").outcome, ValidationOutcome::Malformed);
	}

	#[test]
	fn binary_formats_need_their_signature() {
		assert_eq!(
			check(DataFormat::Png, b"\x89PNG\r\n\x1a\n....").outcome,
			ValidationOutcome::Valid
		);
		assert_eq!(check(DataFormat::Png, b"GIF89a").outcome, ValidationOutcome::Malformed);
		assert_eq!(
			check(DataFormat::Wav, b"RIFF\0\0\0\0WAVEfmt ").outcome,
			ValidationOutcome::Valid
		);
		assert_eq!(check(DataFormat::Parquet, b"PAR1....PAR1").outcome, ValidationOutcome::Valid);
		assert_eq!(check(DataFormat::Parquet, b"PAR1").outcome, ValidationOutcome::Malformed);
	}

	#[test]
	fn reasons_are_cut_on_a_character_boundary() {
		let r = report(ValidationOutcome::Valid, 100, "é".repeat(200));
		assert_eq!(r.reason.len(), 256);
		assert!(String::from_utf8(r.reason.to_vec()).is_ok());
	}
}

//! Training data from a datanet version's contributions: the held-out split and the text of
//! each contribution.

use crate::{MlError, Result};

/// How a contribution's bytes hold training text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextFormat {
	/// The whole contribution is one document.
	PlainText,
	/// One JSON object per line, with a `text` field, or `prompt` and `completion` fields (a
	/// document is the prompt followed by the completion).
	JsonLines,
	/// Comma-separated values with a header row; each row's value in `column` is a document.
	Csv { column: String },
}

/// The documents a contribution holds.
pub fn documents(format: &TextFormat, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
	let text = std::str::from_utf8(bytes)
		.map_err(|e| MlError::Format(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
	match format {
		TextFormat::PlainText => Ok(vec![bytes.to_vec()]),
		TextFormat::JsonLines => text
			.lines()
			.enumerate()
			.filter(|(_, line)| !line.trim().is_empty())
			.map(|(i, line)| {
				let bad = |why: &str| MlError::Format(format!("line {}: {why}", i + 1));
				let value: serde_json::Value =
					serde_json::from_str(line).map_err(|_| bad("not JSON"))?;
				let field = |name: &str| value.get(name).and_then(|v| v.as_str());
				match (field("text"), field("prompt"), field("completion")) {
					(Some(text), _, _) => Ok(text.as_bytes().to_vec()),
					(None, Some(prompt), Some(completion)) => {
						Ok(format!("{prompt}{completion}").into_bytes())
					},
					_ => Err(bad("no `text`, nor `prompt` and `completion`")),
				}
			})
			.collect(),
		TextFormat::Csv { column } => {
			let mut rows = csv_rows(text)?.into_iter();
			let header = rows.next().ok_or_else(|| MlError::Format("no header row".into()))?;
			let index = header
				.iter()
				.position(|h| h == column)
				.ok_or_else(|| MlError::Format(format!("no column `{column}`")))?;
			rows.enumerate()
				.map(|(i, row)| {
					row.get(index)
						.map(|v| v.as_bytes().to_vec())
						.ok_or_else(|| MlError::Format(format!("row {} has no `{column}`", i + 2)))
				})
				.collect()
		},
	}
}

/// The rows of a CSV text: fields separated by commas, quoted with `"` where they hold commas,
/// quotes (doubled) or line breaks.
fn csv_rows(text: &str) -> Result<Vec<Vec<String>>> {
	let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
	let (mut quoted, mut chars) = (false, text.chars().peekable());
	while let Some(c) = chars.next() {
		match (quoted, c) {
			(true, '"') if chars.peek() == Some(&'"') => {
				chars.next();
				field.push('"');
			},
			(true, '"') => quoted = false,
			(true, c) => field.push(c),
			(false, '"') if field.is_empty() => quoted = true,
			(false, ',') => row.push(std::mem::take(&mut field)),
			(false, '\n') => {
				row.push(std::mem::take(&mut field));
				rows.push(std::mem::take(&mut row));
			},
			(false, '\r') => {},
			(false, c) => field.push(c),
		}
	}
	if quoted {
		return Err(MlError::Format("a quoted field is not closed".into()));
	}
	if !field.is_empty() || !row.is_empty() {
		row.push(field);
		rows.push(row);
	}
	Ok(rows)
}

/// Whether a contribution goes to the held-out evaluation split: blake2b of the split seed and
/// the contribution's content hash, read as a fraction, below `eval_fraction` (in parts per
/// million). The same seed always puts the same contributions aside, whoever trains.
pub fn is_held_out(content_hash: &[u8; 32], seed: u64, eval_ppm: u32) -> bool {
	let digest = blake2b_simd::Params::new()
		.hash_length(8)
		.to_state()
		.update(&seed.to_le_bytes())
		.update(content_hash)
		.finalize();
	let mut bytes = [0u8; 8];
	bytes.copy_from_slice(digest.as_bytes());
	(u64::from_le_bytes(bytes) % 1_000_000) < u64::from(eval_ppm)
}

/// Splits contributions (content hash, bytes) into training and held-out documents.
pub fn split(
	contributions: &[([u8; 32], Vec<u8>)],
	seed: u64,
	eval_ppm: u32,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
	let (mut train, mut eval) = (Vec::new(), Vec::new());
	for (hash, bytes) in contributions {
		if is_held_out(hash, seed, eval_ppm) {
			eval.push(bytes.clone());
		} else {
			train.push(bytes.clone());
		}
	}
	(train, eval)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn documents_come_out_of_each_format() {
		let jsonl =
			b"{\"text\": \"one\"}\n\n{\"prompt\": \"Q: 2+2? \", \"completion\": \"A: 4\"}\n";
		assert_eq!(
			documents(&TextFormat::JsonLines, jsonl).unwrap(),
			vec![b"one".to_vec(), b"Q: 2+2? A: 4".to_vec()]
		);
		let csv = b"id,body\n1,plain\n2,\"with, comma and \"\"quotes\"\"\"\r\n3,\"two\nlines\"\n";
		let column = TextFormat::Csv { column: "body".into() };
		assert_eq!(
			documents(&column, csv).unwrap(),
			vec![b"plain".to_vec(), b"with, comma and \"quotes\"".to_vec(), b"two\nlines".to_vec()]
		);
		assert_eq!(
			documents(&TextFormat::PlainText, b"all of it").unwrap(),
			vec![b"all of it".to_vec()]
		);
	}

	#[test]
	fn bad_contributions_say_where() {
		let err =
			|format: &TextFormat, bytes: &[u8]| documents(format, bytes).unwrap_err().to_string();
		assert_eq!(
			err(&TextFormat::JsonLines, b"{\"text\": \"a\"}\n{oops}\n"),
			"bad file: line 2: not JSON"
		);
		assert!(err(&TextFormat::JsonLines, b"{\"title\": \"a\"}").contains("no `text`"));
		assert!(
			err(&TextFormat::Csv { column: "x".into() }, b"a,b\n1,2\n").contains("no column `x`")
		);
		assert!(err(&TextFormat::Csv { column: "b".into() }, b"a,b\n1\n").contains("row 2"));
		assert!(err(&TextFormat::Csv { column: "a".into() }, b"a\n\"open\n").contains("not closed"));
		assert!(err(&TextFormat::PlainText, &[0xff, 0xfe]).contains("not UTF-8"));
	}

	#[test]
	fn the_split_depends_on_the_seed_and_keeps_its_fraction() {
		let hashes: Vec<[u8; 32]> = (0..2_000u32)
			.map(|i| {
				let mut h = [0u8; 32];
				h[..4].copy_from_slice(&i.to_le_bytes());
				h
			})
			.collect();
		let held = |seed| hashes.iter().filter(|h| is_held_out(h, seed, 100_000)).count();
		let (a, b) = (held(1), held(2));
		assert!((150..250).contains(&a), "{a}");
		assert_eq!(a, held(1));
		let same: usize = hashes
			.iter()
			.filter(|h| is_held_out(h, 1, 100_000) && is_held_out(h, 2, 100_000))
			.count();
		assert!(same < a && same < b, "the seed changes which are held out");
		assert_eq!(hashes.iter().filter(|h| is_held_out(h, 1, 0)).count(), 0);
		assert_eq!(hashes.iter().filter(|h| is_held_out(h, 1, 1_000_000)).count(), 2_000);
	}
}

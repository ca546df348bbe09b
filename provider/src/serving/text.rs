//! Text in and out of a base model: tokenizing prompts, SmolLM2's chat template, and turning a
//! stream of generated tokens into text with stop sequences cut off.

use openledger_ml::engine::sampling::{find_stop, held_back};
use tokenizers::{AddedToken, Tokenizer};

/// ChatML's markers. SmolLM2's tokenizer has each as one token; a model over bytes reads them
/// as their bytes.
pub const IM_START: &str = "<|im_start|>";
pub const IM_END: &str = "<|im_end|>";
const END_OF_TEXT: &str = "<|endoftext|>";

/// SmolLM2-Instruct's system message when a conversation brings none (its chat template's).
pub const DEFAULT_SYSTEM: &str =
	"You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// The tokens of a text, and the byte range of the text each came from.
pub type Encoded = (Vec<u32>, Vec<(usize, usize)>);

/// How a base model's text becomes tokens.
pub enum Codec {
	/// One token per byte (tiny-byte-gpt).
	Bytes,
	/// A byte-level BPE tokenizer (llama's, from the GGUF file), with ChatML's markers as
	/// special tokens.
	Bpe(Box<Tokenizer>),
}

/// A message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
	pub role: String,
	pub content: String,
}

impl Codec {
	/// The BPE codec of `tokenizer`, whose vocabulary's ChatML markers and end of text become
	/// special tokens: each encodes as its one token wherever it appears, and decoding leaves
	/// them out.
	pub fn bpe(mut tokenizer: Tokenizer) -> Result<Self, openledger_ml::MlError> {
		let specials: Vec<AddedToken> = [IM_START, IM_END, END_OF_TEXT]
			.into_iter()
			.filter(|t| tokenizer.token_to_id(t).is_some())
			.map(|t| AddedToken::from(t, true))
			.collect();
		tokenizer
			.add_special_tokens(specials)
			.map_err(|e| openledger_ml::MlError::Format(format!("ChatML's markers: {e}")))?;
		Ok(Self::Bpe(Box::new(tokenizer)))
	}

	pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
		match self {
			Self::Bytes => Ok(text.bytes().map(u32::from).collect()),
			Self::Bpe(tokenizer) => tokenizer
				.encode(text, false)
				.map(|e| e.get_ids().to_vec())
				.map_err(|e| format!("tokenizing the prompt: {e}")),
		}
	}

	/// The tokens of `text` as the corpus indexes of models on this base hold text, each with
	/// the byte range of `text` it came from.
	pub fn encode_with_offsets(&self, text: &str) -> Result<Encoded, String> {
		match self {
			Self::Bytes => Ok((
				text.bytes().map(u32::from).collect(),
				(0..text.len()).map(|i| (i, i + 1)).collect(),
			)),
			Self::Bpe(tokenizer) => tokenizer
				.encode(text, false)
				.map(|e| (e.get_ids().to_vec(), e.get_offsets().to_vec()))
				.map_err(|e| format!("tokenizing the text: {e}")),
		}
	}

	/// What span attribution needs to know of each token of the vocabulary: the text of each,
	/// decoded alone.
	pub fn token_classes(&self) -> openledger_attribution::TokenClasses {
		match self {
			Self::Bytes => openledger_attribution::TokenClasses::bytes(),
			Self::Bpe(tokenizer) => {
				let vocabulary = tokenizer.get_vocab_size(true) as u32;
				openledger_attribution::TokenClasses::from_texts(
					(0..vocabulary).map(|id| tokenizer.decode(&[id], false).unwrap_or_default()),
				)
			},
		}
	}

	/// The text of `tokens`; bytes that are not (yet) UTF-8 become U+FFFD.
	pub fn decode(&self, tokens: &[u32]) -> String {
		match self {
			Self::Bytes => {
				let bytes: Vec<u8> = tokens.iter().map(|&t| t.min(255) as u8).collect();
				String::from_utf8_lossy(&bytes).into_owned()
			},
			Self::Bpe(tokenizer) => tokenizer.decode(tokens, true).unwrap_or_default(),
		}
	}

	/// The one token `text` is, if it is one: ChatML's markers under SmolLM2's tokenizer.
	pub fn single_token(&self, text: &str) -> Option<u32> {
		match self {
			Self::Bytes => None,
			Self::Bpe(tokenizer) => tokenizer.token_to_id(text),
		}
	}

	/// The tokens that end a chat answer besides the model's own: `<|im_end|>` where it is a
	/// token.
	pub fn chat_stop_tokens(&self) -> Vec<u32> {
		self.single_token(IM_END).into_iter().collect()
	}

	/// The stop sequences a chat answer ends at besides the request's: `<|im_end|>` in text, for
	/// a model over bytes.
	pub fn chat_stop_texts(&self) -> Vec<String> {
		match self {
			Self::Bytes => vec![IM_END.to_string()],
			Self::Bpe(_) => Vec::new(),
		}
	}
}

/// SmolLM2's chat template (ChatML): a system message first (the default one when the
/// conversation has none), each message as `<|im_start|>{role}\n{content}<|im_end|>\n`, then
/// `<|im_start|>assistant\n` for the answer.
pub fn chat_prompt(messages: &[Message]) -> String {
	let mut prompt = String::new();
	if messages.first().is_none_or(|m| m.role != "system") {
		prompt.push_str(&format!("{IM_START}system\n{DEFAULT_SYSTEM}{IM_END}\n"));
	}
	for message in messages {
		prompt.push_str(&format!("{IM_START}{}\n{}{IM_END}\n", message.role, message.content));
	}
	prompt.push_str(&format!("{IM_START}assistant\n"));
	prompt
}

/// Turns generated tokens into text as they come: holds back bytes that are not yet whole
/// characters and text that may begin a stop sequence, and finds the stop sequences.
pub struct Detokenizer {
	tokens: Vec<u32>,
	/// The bytes of the decoded text already given out.
	emitted: usize,
	stops: Vec<String>,
	stopped: bool,
}

impl Detokenizer {
	pub fn new(stops: Vec<String>) -> Self {
		Self { tokens: Vec::new(), emitted: 0, stops, stopped: false }
	}

	/// Adds a token; returns the text that may be given out now, and whether a stop sequence
	/// ended the answer (the text then ends before it, and later tokens add nothing).
	pub fn push(&mut self, codec: &Codec, token: u32) -> (String, bool) {
		if self.stopped {
			return (String::new(), true);
		}
		self.tokens.push(token);
		let text = codec.decode(&self.tokens);
		let stops: Vec<&str> = self.stops.iter().map(String::as_str).collect();
		if let Some(at) = find_stop(&text, &stops) {
			self.stopped = true;
			let out = text.get(self.emitted..at).unwrap_or_default().to_string();
			self.emitted = at.max(self.emitted);
			return (out, true);
		}
		// A character still missing bytes decodes as U+FFFD at the end: wait for them.
		let complete = text.trim_end_matches('\u{FFFD}');
		let ready = complete.len() - held_back(complete, &stops);
		if ready <= self.emitted {
			return (String::new(), false);
		}
		let out = text.get(self.emitted..ready).unwrap_or_default().to_string();
		self.emitted = ready;
		(out, false)
	}

	/// What is left once generation ended without a stop sequence.
	pub fn finish(&mut self, codec: &Codec) -> String {
		if self.stopped {
			return String::new();
		}
		let text = codec.decode(&self.tokens);
		let out = text.get(self.emitted..).unwrap_or_default().to_string();
		self.emitted = text.len();
		out
	}

	/// Tokens generated so far.
	pub fn tokens(&self) -> usize {
		self.tokens.len()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn run(stops: &[&str], text: &str) -> (String, bool) {
		let mut detok = Detokenizer::new(stops.iter().map(|s| s.to_string()).collect());
		let mut out = String::new();
		for b in text.bytes() {
			let (piece, stopped) = detok.push(&Codec::Bytes, u32::from(b));
			out.push_str(&piece);
			if stopped {
				return (out, true);
			}
		}
		out.push_str(&detok.finish(&Codec::Bytes));
		(out, false)
	}

	#[test]
	fn a_stop_sequence_cuts_the_text_before_it() {
		assert_eq!(run(&["\n\n", "END"], "one two\n\nthree"), ("one two".to_string(), true));
		assert_eq!(run(&["END"], "one ENtwo"), ("one ENtwo".to_string(), false));
		assert_eq!(run(&["END"], "xEND"), ("x".to_string(), true));
	}

	#[test]
	fn a_character_split_across_tokens_is_given_out_whole() {
		let mut detok = Detokenizer::new(Vec::new());
		let bytes = "é!".as_bytes();
		let (first, _) = detok.push(&Codec::Bytes, u32::from(bytes[0]));
		assert_eq!(first, "");
		let (second, _) = detok.push(&Codec::Bytes, u32::from(bytes[1]));
		assert_eq!(second, "é");
		let (third, _) = detok.push(&Codec::Bytes, u32::from(bytes[2]));
		assert_eq!(third, "!");
	}

	#[test]
	fn the_chat_template_is_smollm2s() {
		let prompt = chat_prompt(&[Message { role: "user".into(), content: "Hi".into() }]);
		assert_eq!(
			prompt,
			format!(
				"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
			)
		);
		let own = chat_prompt(&[
			Message { role: "system".into(), content: "Be brief.".into() },
			Message { role: "user".into(), content: "Hi".into() },
		]);
		assert!(own.starts_with("<|im_start|>system\nBe brief.<|im_end|>\n"));
	}

	#[test]
	fn chatml_markers_are_single_tokens_of_smollm2() {
		let path = openledger_ml::llama::model_cache().join(openledger_ml::llama::SMOLLM2_FILE);
		let tokenizer = openledger_ml::llama::read_tokenizer(&path)
			.expect("SmolLM2's GGUF file: run scripts/fetch-models.sh");
		let codec = Codec::bpe(tokenizer).unwrap();
		let start = codec.single_token(IM_START).unwrap();
		let end = codec.single_token(IM_END).unwrap();
		let ids = codec.encode("<|im_start|>user\nHello<|im_end|>\n").unwrap();
		assert_eq!(ids[0], start);
		assert_eq!(ids.iter().filter(|&&t| t == start).count(), 1);
		assert_eq!(ids.iter().filter(|&&t| t == end).count(), 1);
		assert!(ids.len() <= 6, "{ids:?}");
		assert_eq!(codec.decode(&ids), "user\nHello\n");
	}
}

//! OpenAI's API shapes: requests read field by field (a field that would change the answer and
//! is not served is refused, never ignored), answers, stream chunks and the error object.
//!
//! ## The `model` field
//!
//! A model is named by its on-chain id in decimal: `"3"`. An ensemble of published models on one
//! base joins terms with `+`, each an id or `weight*id`: `"3+5"` (each at weight 1) or
//! `"0.7*3+0.3*5"`; their LoRA deltas are summed with those weights.

use serde_json::{json, Map, Value};

/// The most models in an ensemble.
pub const MAX_ENSEMBLE: usize = 8;
/// The most stop sequences (OpenAI's limit).
pub const MAX_STOPS: usize = 4;
/// The longest stop sequence, in bytes.
pub const MAX_STOP_BYTES: usize = 256;
/// The most messages of a conversation.
pub const MAX_MESSAGES: usize = 256;

/// A refused request: its HTTP status and OpenAI's error object.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
	pub status: u16,
	pub message: String,
	pub kind: &'static str,
	pub param: Option<String>,
	pub code: Option<&'static str>,
	/// Seconds, for `Retry-After`.
	pub retry_after: Option<u64>,
}

impl ApiError {
	pub fn invalid(param: &str, message: impl Into<String>) -> Self {
		Self {
			status: 400,
			message: message.into(),
			kind: "invalid_request_error",
			param: Some(param.to_string()),
			code: None,
			retry_after: None,
		}
	}

	pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
		Self { status, message: message.into(), kind, param: None, code: None, retry_after: None }
	}

	/// The same error with OpenAI's `code`.
	pub fn with_code(self, code: &'static str) -> Self {
		Self { code: Some(code), ..self }
	}

	pub fn model_not_found(model: &str) -> Self {
		Self {
			code: Some("model_not_found"),
			param: Some("model".into()),
			..Self::new(
				404,
				"invalid_request_error",
				format!(
					"The model `{model}` is not served here: GET /v1/models lists the published \
					 models this provider serves"
				),
			)
		}
	}

	/// OpenAI's error object.
	pub fn body(&self) -> Value {
		json!({ "error": {
			"message": self.message,
			"type": self.kind,
			"param": self.param,
			"code": self.code,
		}})
	}
}

/// A model or an ensemble, as the `model` field names it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
	/// Model ids with their weights, in the order named.
	pub members: Vec<(u32, f32)>,
}

impl ModelSpec {
	pub fn parse(text: &str) -> Result<Self, ApiError> {
		let bad = || {
			ApiError::invalid(
				"model",
				format!(
					"`{text}` is not a model: name one by its on-chain id (\"3\") or an ensemble \
					 (\"3+5\", \"0.7*3+0.3*5\")"
				),
			)
		};
		let mut members: Vec<(u32, f32)> = Vec::new();
		for term in text.split('+') {
			// Checked before each term is read, so that a field of a million terms costs no more
			// than one of nine.
			if members.len() == MAX_ENSEMBLE {
				return Err(ApiError::invalid(
					"model",
					format!("an ensemble has at most {MAX_ENSEMBLE} models"),
				));
			}
			let term = term.trim();
			let (weight, id) = match term.split_once('*') {
				Some((w, id)) => (w.trim().parse::<f32>().map_err(|_| bad())?, id.trim()),
				None => (1.0, term),
			};
			let id = id.parse::<u32>().map_err(|_| bad())?;
			if !weight.is_finite() || weight <= 0.0 || weight > 16.0 {
				return Err(ApiError::invalid(
					"model",
					format!("an ensemble weight is in (0, 16]; `{text}` has {weight}"),
				));
			}
			if members.iter().any(|(m, _)| *m == id) {
				return Err(ApiError::invalid("model", format!("`{text}` names model {id} twice")));
			}
			members.push((id, weight));
		}
		Ok(Self { members })
	}
}

/// What is asked to be generated, whichever the endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
	pub model: String,
	pub spec: ModelSpec,
	pub prompt: Prompt,
	/// `None`: the server's default for the endpoint.
	pub max_tokens: Option<usize>,
	pub temperature: f32,
	pub top_p: f32,
	pub seed: Option<u64>,
	pub stop: Vec<String>,
	pub stream: bool,
	pub include_usage: bool,
	pub logprobs: bool,
	/// `openledger_influence: true`: the answer's attribution also carries its gradient influence
	/// (a backward pass of the model; spans alone cost a fraction of a millisecond).
	pub influence: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Prompt {
	Text(String),
	Tokens(Vec<u32>),
	Chat(Vec<super::text::Message>),
}

/// Fields read without changing the answer.
const INERT: [&str; 4] = ["user", "metadata", "store", "service_tier"];

struct Fields {
	map: Map<String, Value>,
}

impl Fields {
	fn take(&mut self, name: &str) -> Option<Value> {
		self.map.remove(name).filter(|v| !v.is_null())
	}

	fn number(&mut self, name: &str, low: f64, high: f64) -> Result<Option<f64>, ApiError> {
		match self.take(name) {
			None => Ok(None),
			Some(v) => match v.as_f64() {
				Some(x) if (low..=high).contains(&x) => Ok(Some(x)),
				_ => {
					Err(ApiError::invalid(name, format!("`{name}` is a number in [{low}, {high}]")))
				},
			},
		}
	}

	fn count(&mut self, name: &str) -> Result<Option<u64>, ApiError> {
		match self.take(name) {
			None => Ok(None),
			Some(v) => v.as_u64().map(Some).ok_or_else(|| {
				ApiError::invalid(name, format!("`{name}` is a whole number of at least 0"))
			}),
		}
	}

	fn boolean(&mut self, name: &str) -> Result<bool, ApiError> {
		match self.take(name) {
			None => Ok(false),
			Some(Value::Bool(b)) => Ok(b),
			Some(_) => Err(ApiError::invalid(name, format!("`{name}` is true or false"))),
		}
	}

	/// Refuses a field unless it has the value that changes nothing.
	fn only(
		&mut self,
		name: &str,
		neutral: impl Fn(&Value) -> bool,
		why: &str,
	) -> Result<(), ApiError> {
		match self.take(name) {
			Some(v) if !neutral(&v) => Err(ApiError::invalid(name, why)),
			_ => Ok(()),
		}
	}

	fn rest(self) -> Result<(), ApiError> {
		match self.map.keys().find(|k| !INERT.contains(&k.as_str())) {
			Some(name) => Err(ApiError::invalid(
				name,
				format!("`{name}` is not served here, and it would change the answer"),
			)),
			None => Ok(()),
		}
	}
}

fn zero(v: &Value) -> bool {
	v.as_f64() == Some(0.0)
}

/// The common fields of both endpoints.
fn common(
	fields: &mut Fields,
	prompt: Prompt,
	max_tokens_field: &[&str],
) -> Result<Generation, ApiError> {
	let model = match fields.take("model") {
		Some(Value::String(m)) => m,
		_ => {
			return Err(ApiError::invalid("model", "`model` is required: a model id such as \"3\""))
		},
	};
	let spec = ModelSpec::parse(&model)?;
	let mut max_tokens = None;
	for name in max_tokens_field {
		if let Some(n) = fields.count(name)? {
			if n == 0 {
				return Err(ApiError::invalid(name, format!("`{name}` must be at least 1")));
			}
			max_tokens = Some(usize::try_from(n).unwrap_or(usize::MAX));
		}
	}
	let temperature = fields.number("temperature", 0.0, 2.0)?.unwrap_or(1.0) as f32;
	let top_p = fields.number("top_p", 0.0, 1.0)?.unwrap_or(1.0) as f32;
	if top_p == 0.0 && temperature > 0.0 {
		return Err(ApiError::invalid("top_p", "`top_p` is more than 0"));
	}
	let seed = match fields.take("seed") {
		None => None,
		Some(v) => Some(match (v.as_u64(), v.as_i64()) {
			(Some(s), _) => s,
			(None, Some(s)) => s as u64,
			_ => return Err(ApiError::invalid("seed", "`seed` is an integer")),
		}),
	};
	let stop = match fields.take("stop") {
		None => Vec::new(),
		Some(Value::String(s)) => vec![s],
		Some(Value::Array(items)) => items
			.into_iter()
			.map(|i| match i {
				Value::String(s) => Ok(s),
				_ => Err(ApiError::invalid("stop", "`stop` is a string or a list of strings")),
			})
			.collect::<Result<_, _>>()?,
		Some(_) => {
			return Err(ApiError::invalid("stop", "`stop` is a string or a list of strings"))
		},
	};
	if stop.len() > MAX_STOPS || stop.iter().any(|s| s.is_empty() || s.len() > MAX_STOP_BYTES) {
		return Err(ApiError::invalid(
			"stop",
			format!("at most {MAX_STOPS} stop sequences, each of 1 to {MAX_STOP_BYTES} bytes"),
		));
	}
	let stream = fields.boolean("stream")?;
	let include_usage = match fields.take("stream_options") {
		None => false,
		Some(Value::Object(mut options)) => {
			let usage = match options.remove("include_usage") {
				None | Some(Value::Null) => false,
				Some(Value::Bool(b)) => b,
				Some(_) => {
					return Err(ApiError::invalid(
						"stream_options",
						"`include_usage` is true or false",
					))
				},
			};
			if let Some(name) = options.keys().next() {
				return Err(ApiError::invalid(
					"stream_options",
					format!("`stream_options.{name}` is not served"),
				));
			}
			if !stream {
				return Err(ApiError::invalid(
					"stream_options",
					"`stream_options` goes with `stream: true`",
				));
			}
			usage
		},
		Some(_) => {
			return Err(ApiError::invalid("stream_options", "`stream_options` is an object"))
		},
	};
	let influence = fields.boolean("openledger_influence")?;
	fields.only("n", |v| v.as_u64() == Some(1), "`n` must be 1: one answer per request")?;
	fields.only("presence_penalty", zero, "`presence_penalty` is not served (only 0)")?;
	fields.only("frequency_penalty", zero, "`frequency_penalty` is not served (only 0)")?;
	fields.only(
		"logit_bias",
		|v| v.as_object().is_some_and(|m| m.is_empty()),
		"`logit_bias` is not served",
	)?;
	Ok(Generation {
		model,
		spec,
		prompt,
		max_tokens,
		temperature,
		top_p,
		seed,
		stop,
		stream,
		include_usage,
		logprobs: false,
		influence,
	})
}

fn object(body: &[u8]) -> Result<Fields, ApiError> {
	match serde_json::from_slice::<Value>(body) {
		Ok(Value::Object(map)) => Ok(Fields { map }),
		Ok(_) => Err(ApiError::new(400, "invalid_request_error", "the body is a JSON object")),
		Err(e) => {
			Err(ApiError::new(400, "invalid_request_error", format!("the body is not JSON: {e}")))
		},
	}
}

/// Reads a `POST /v1/completions` body.
pub fn completion_request(body: &[u8]) -> Result<Generation, ApiError> {
	let mut fields = object(body)?;
	let prompt = match fields.take("prompt") {
		Some(Value::String(s)) => Prompt::Text(s),
		Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
			Prompt::Text(items[0].as_str().unwrap_or_default().to_string())
		},
		Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_u64) => {
			let tokens = items
				.iter()
				.map(|t| t.as_u64().and_then(|t| u32::try_from(t).ok()))
				.collect::<Option<Vec<u32>>>()
				.ok_or_else(|| ApiError::invalid("prompt", "a token is a 32-bit id"))?;
			Prompt::Tokens(tokens)
		},
		_ => {
			return Err(ApiError::invalid(
				"prompt",
				"`prompt` is a string (or one string in a list, or a list of token ids)",
			))
		},
	};
	let mut generation = common(&mut fields, prompt, &["max_tokens"])?;
	generation.logprobs = match fields.count("logprobs")? {
		None => false,
		Some(0) => true,
		Some(_) => {
			return Err(ApiError::invalid(
				"logprobs",
				"alternative tokens are not served: `logprobs: 0` gives the chosen tokens' \
				 log-probabilities",
			))
		},
	};
	fields.only("echo", |v| v == &Value::Bool(false), "`echo` is not served")?;
	fields.only("best_of", |v| v.as_u64() == Some(1), "`best_of` must be 1")?;
	fields.only("suffix", |v| v.as_str() == Some(""), "`suffix` is not served")?;
	fields.rest()?;
	Ok(generation)
}

/// Reads a `POST /v1/chat/completions` body.
pub fn chat_request(body: &[u8]) -> Result<Generation, ApiError> {
	let mut fields = object(body)?;
	let Some(Value::Array(items)) = fields.take("messages") else {
		return Err(ApiError::invalid("messages", "`messages` is a list of messages"));
	};
	if items.is_empty() || items.len() > MAX_MESSAGES {
		return Err(ApiError::invalid("messages", format!("1 to {MAX_MESSAGES} messages")));
	}
	let mut messages = Vec::with_capacity(items.len());
	for item in items {
		let role = item["role"].as_str().unwrap_or_default();
		if !["system", "developer", "user", "assistant"].contains(&role) {
			return Err(ApiError::invalid(
				"messages",
				format!("a message's role is system, developer, user or assistant, not `{role}`"),
			));
		}
		let content = match &item["content"] {
			Value::String(s) => s.clone(),
			Value::Array(parts) => {
				let mut text = String::new();
				for part in parts {
					match (part["type"].as_str(), part["text"].as_str()) {
						(Some("text"), Some(t)) => text.push_str(t),
						_ => {
							return Err(ApiError::invalid(
								"messages",
								"only text content parts are served",
							))
						},
					}
				}
				text
			},
			_ => return Err(ApiError::invalid("messages", "a message's content is text")),
		};
		if let Some(extra) = item.as_object().and_then(|m| {
			m.keys().find(|k| !["role", "content", "name"].contains(&k.as_str())).cloned()
		}) {
			return Err(ApiError::invalid(
				"messages",
				format!("a message's `{extra}` is not served"),
			));
		}
		let role = if role == "developer" { "system" } else { role };
		messages.push(super::text::Message { role: role.to_string(), content });
	}
	let mut generation =
		common(&mut fields, Prompt::Chat(messages), &["max_tokens", "max_completion_tokens"])?;
	generation.logprobs = fields.boolean("logprobs")?;
	fields.only("top_logprobs", zero, "alternative tokens are not served (`top_logprobs: 0`)")?;
	fields.only(
		"tools",
		|v| v.as_array().is_some_and(|a| a.is_empty()),
		"`tools` are not served",
	)?;
	fields.only("tool_choice", |v| v.as_str() == Some("none"), "`tool_choice` is not served")?;
	fields.only(
		"response_format",
		|v| v["type"].as_str() == Some("text"),
		"only `{\"type\": \"text\"}` responses are served",
	)?;
	fields.rest()?;
	Ok(generation)
}

/// Tokens an answer used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
	pub prompt_tokens: usize,
	pub completion_tokens: usize,
}

impl Usage {
	pub fn json(&self) -> Value {
		json!({
			"prompt_tokens": self.prompt_tokens,
			"completion_tokens": self.completion_tokens,
			"total_tokens": self.prompt_tokens + self.completion_tokens,
		})
	}
}

/// A generated token's text and log-probability.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenLogprob {
	pub text: String,
	pub logprob: f32,
}

/// The `logprobs` object of a completion (OpenAI's legacy shape) for `tokens` after `offset`
/// bytes of text.
pub fn completion_logprobs(tokens: &[TokenLogprob], mut offset: usize) -> Value {
	let mut offsets = Vec::with_capacity(tokens.len());
	for t in tokens {
		offsets.push(offset);
		offset += t.text.len();
	}
	json!({
		"tokens": tokens.iter().map(|t| t.text.clone()).collect::<Vec<_>>(),
		"token_logprobs": tokens.iter().map(|t| t.logprob).collect::<Vec<_>>(),
		"top_logprobs": Value::Null,
		"text_offset": offsets,
	})
}

/// The `logprobs` object of a chat answer.
pub fn chat_logprobs(tokens: &[TokenLogprob]) -> Value {
	json!({ "content": tokens.iter().map(|t| json!({
		"token": t.text,
		"logprob": t.logprob,
		"bytes": t.text.as_bytes(),
		"top_logprobs": [],
	})).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn models_and_ensembles_are_spelled_by_id() {
		assert_eq!(ModelSpec::parse("3").unwrap().members, vec![(3, 1.0)]);
		assert_eq!(ModelSpec::parse("3+5").unwrap().members, vec![(3, 1.0), (5, 1.0)]);
		assert_eq!(ModelSpec::parse("0.7*3 + 0.3*5").unwrap().members, vec![(3, 0.7), (5, 0.3)]);
		for bad in ["", "gpt-4", "3+", "-1*3", "NaN*3", "3+3", "1e9*3"] {
			assert_eq!(ModelSpec::parse(bad).unwrap_err().status, 400, "{bad}");
		}
	}

	#[test]
	fn a_model_field_of_a_million_terms_is_refused_at_its_ninth() {
		let eight = (1..=8).map(|i| i.to_string()).collect::<Vec<_>>().join("+");
		assert_eq!(ModelSpec::parse(&eight).unwrap().members.len(), 8);
		// Nine ids, then a million terms that are not even ids, each the same: read, the tenth
		// would be refused as no model, and each would be checked against all before it.
		let flood = format!("{eight}+9{}", "+x".repeat(1_000_000));
		let error = ModelSpec::parse(&flood).unwrap_err();
		assert!(error.message.contains("at most 8 models"), "{}", error.message);
	}

	#[test]
	fn fields_that_change_the_answer_are_refused_not_ignored() {
		let ok = br#"{"model":"1","prompt":"hi","n":1,"user":"u","presence_penalty":0}"#;
		assert!(completion_request(ok).is_ok());
		for (body, param) in [
			(r#"{"model":"1","prompt":"hi","n":2}"#, "n"),
			(r#"{"model":"1","prompt":"hi","best_of":3}"#, "best_of"),
			(r#"{"model":"1","prompt":"hi","frequency_penalty":0.5}"#, "frequency_penalty"),
			(r#"{"model":"1","prompt":"hi","logit_bias":{"5":1}}"#, "logit_bias"),
			(r#"{"model":"1","prompt":"hi","logprobs":5}"#, "logprobs"),
			(r#"{"model":"1","prompt":"hi","temperature":3}"#, "temperature"),
			(r#"{"model":"1","prompt":"hi","max_tokens":0}"#, "max_tokens"),
			(r#"{"model":"1","prompt":"hi","stop":["a","b","c","d","e"]}"#, "stop"),
			(
				r#"{"model":"1","prompt":"hi","stream_options":{"include_usage":true}}"#,
				"stream_options",
			),
			(r#"{"model":"1","prompt":"hi","mystery":true}"#, "mystery"),
			(r#"{"model":"1","prompt":["a","b"]}"#, "prompt"),
		] {
			let error = completion_request(body.as_bytes()).unwrap_err();
			assert_eq!((error.status, error.param.as_deref()), (400, Some(param)), "{body}");
		}
		let error = chat_request(br#"{"model":"1","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#).unwrap_err();
		assert_eq!(error.param.as_deref(), Some("tools"));
		let error = chat_request(br#"{"model":"1","messages":[{"role":"tool","content":"x"}]}"#)
			.unwrap_err();
		assert_eq!(error.param.as_deref(), Some("messages"));
		assert_eq!(completion_request(b"[1]").unwrap_err().status, 400);
		assert_eq!(completion_request(b"{").unwrap_err().status, 400);
	}

	#[test]
	fn a_chat_request_reads_its_messages_and_limits() {
		let body = br#"{"model":"0.5*2+4","messages":[{"role":"developer","content":"Be brief."},
			{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_completion_tokens":9,
			"stream":true,"stream_options":{"include_usage":true},"seed":-1,"stop":"\n","logprobs":true}"#;
		let g = chat_request(body).unwrap();
		assert_eq!(g.spec.members, vec![(2, 0.5), (4, 1.0)]);
		assert_eq!(g.max_tokens, Some(9));
		assert!(g.stream && g.include_usage && g.logprobs);
		assert_eq!(g.seed, Some(u64::MAX));
		assert_eq!(g.stop, vec!["\n".to_string()]);
		let Prompt::Chat(messages) = g.prompt else { panic!() };
		assert_eq!(messages[0].role, "system");
		assert_eq!(messages[1].content, "Hi");
	}

	#[test]
	fn errors_are_openais_object() {
		let body = ApiError::model_not_found("7").body();
		assert_eq!(body["error"]["code"], "model_not_found");
		assert_eq!(body["error"]["type"], "invalid_request_error");
		assert_eq!(body["error"]["param"], "model");
	}
}

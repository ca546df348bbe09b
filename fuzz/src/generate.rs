//! Calls generated from the runtime's own type information.
//!
//! [`CallGenerator`] walks the `scale-info` description of `RuntimeCall` and writes the SCALE
//! encoding of a call, taking each decision (which pallet, which call, which value) from the
//! fuzzer's input. A pallet added to the runtime is generated with no change here. Values are drawn
//! from dictionaries that make calls pass their checks often: accounts that exist, ids that are
//! small (the first datanets, jobs and models have ids 0, 1, 2), amounts around the deposits and
//! balances of the chain, hashes the harness knows (the contents and commitments of the accounts),
//! and nested calls (utility batches, sudo, multisig, referenda proposals) to a bounded depth.

use arbitrary::{Result, Unstructured};
use codec::{Compact, Encode};
use openledger_runtime::{currency::OPEN, AccountId, RuntimeCall};
use scale_info::{form::PortableForm, PortableRegistry, TypeDef, TypeDefPrimitive, Variant};
use sp_core::H256;

/// How deep calls nest in calls (a batch of sudo calls of a batch...).
pub const MAX_DEPTH: u32 = 3;
/// The most elements a generated sequence has (bytes excepted).
const MAX_ELEMENTS: usize = 4;
/// The largest byte string generated.
const MAX_BYTES: usize = 300;

/// Calls never generated, by `(pallet, call)` name. Root's decrees that replace the runtime or
/// write raw storage, and its balance surgery (setting a balance or the total issuance, unreserving
/// what a pallet holds, moving any account's OPEN under a vesting schedule): these exist to repair
/// a chain by fiat, and break by design what the harness checks. And the timestamp inherent, which
/// the harness puts in every block.
pub const EXCLUDED: &[(&str, &str)] = &[
	("Balances", "force_set_balance"),
	("Balances", "force_adjust_total_issuance"),
	("Balances", "force_unreserve"),
	// Also a known issue of pallet-vesting: from an account without OPEN to itself, it locks
	// what the account cannot hold (tests/findings.rs,
	// `known_upstream_force_vested_transfer_from_an_empty_account_to_itself`).
	("Vesting", "force_vested_transfer"),
	("System", "set_heap_pages"),
	("System", "set_code"),
	("System", "set_code_without_checks"),
	("System", "set_storage"),
	("System", "kill_storage"),
	("System", "kill_prefix"),
	("System", "authorize_upgrade"),
	("System", "authorize_upgrade_without_checks"),
	("System", "apply_authorized_upgrade"),
	("Timestamp", "set"),
];

/// A value kept in range because of a known issue of a pallet of polkadot-sdk, so that campaigns
/// look for others: a treasury spend valid from a block within `PayoutPeriod` of `u32::MAX`
/// saturates its expiry to its start, and pallet-treasury's own `try_state` refuses the spend it
/// created (`known_upstream_treasury_spend_valid_from_the_last_blocks` in tests/findings.rs).
const KNOWN_UPSTREAM: (&str, &str, &str) = ("Treasury", "spend", "valid_from");

/// Fields whose number names something that exists: a datanet, a job, a model, a referendum...
const ID_FIELDS: &[&str] = &[
	"datanet",
	"version",
	"contribution",
	"job",
	"model",
	"base_model",
	"application",
	"milestone",
	"index",
	"poll_index",
];

/// Fields whose number is a block to come.
const DEADLINE_FIELDS: &[&str] = &["due", "expires", "deadline", "until"];

#[derive(Clone, Copy)]
enum Hint {
	Id,
	Ahead,
}

/// What values the generator draws from, beyond the input's own bytes.
#[derive(Clone, Debug, Default)]
pub struct Dictionary {
	/// Accounts that calls name (as destinations, curators, providers...).
	pub accounts: Vec<AccountId>,
	/// Hashes calls name: contents, commitments, preimages.
	pub hashes: Vec<H256>,
	/// Byte strings calls carry: names, remarks, preimages, endpoints.
	pub bytes: Vec<Vec<u8>>,
	/// The current block: block numbers are drawn around it too.
	pub now: u64,
}

/// Writes random calls of the runtime from the fuzzer's input.
pub struct CallGenerator {
	registry: PortableRegistry,
	call_type: u32,
	remark: Vec<u8>,
}

impl Default for CallGenerator {
	fn default() -> Self {
		Self::new()
	}
}

impl CallGenerator {
	/// The generator for this runtime's `RuntimeCall`.
	pub fn new() -> Self {
		let mut registry = scale_info::Registry::new();
		let call_type = registry.register_type(&scale_info::meta_type::<RuntimeCall>()).id;
		let remark =
			RuntimeCall::System(frame_system::Call::remark { remark: Vec::new() }).encode();
		Self { registry: registry.into(), call_type, remark }
	}

	/// The SCALE encoding of a call drawn from `u`: decodes as a `RuntimeCall` unless a value
	/// breaks a bound that the type information does not state (a bounded vector's length).
	pub fn call(&self, u: &mut Unstructured, dictionary: &Dictionary) -> Result<Vec<u8>> {
		let mut out = Vec::new();
		self.value(self.call_type, u, dictionary, 0, &mut out)?;
		Ok(out)
	}

	fn value(
		&self,
		id: u32,
		u: &mut Unstructured,
		dictionary: &Dictionary,
		depth: u32,
		out: &mut Vec<u8>,
	) -> Result<()> {
		let Some(ty) = self.registry.resolve(id) else { return Ok(()) };
		let path = &ty.path.segments;
		let last = path.last().map(String::as_str).unwrap_or_default();
		// Types with a meaning the structure alone does not give.
		if id == self.call_type {
			if depth >= MAX_DEPTH {
				out.extend_from_slice(&self.remark);
				return Ok(());
			}
			return self.variant(ty, u, dictionary, depth.saturating_add(1), out, true);
		}
		match last {
			"AccountId32" => {
				self.account(u, dictionary).encode_to(out);
				return Ok(());
			},
			"H256" => {
				self.hash(u, dictionary).encode_to(out);
				return Ok(());
			},
			// A fraction: no more than its whole, or it does not decode.
			"Percent" | "PerU16" | "Permill" | "Perbill" | "Perquintill" => {
				per_thing(last, u, out)?;
				return Ok(());
			},
			// A conviction vote: aye or nay, and a conviction of at most 6.
			"Vote" if path.first().map(String::as_str) == Some("pallet_conviction_voting") => {
				let aye: bool = u.arbitrary()?;
				out.push(u.int_in_range(0u8..=6)? | if aye { 0x80 } else { 0 });
				return Ok(());
			},
			"MultiAddress" if u.ratio(15, 16)? => {
				// `MultiAddress::Id`, the form wallets use.
				out.push(0);
				self.account(u, dictionary).encode_to(out);
				return Ok(());
			},
			// A proposal: most often a call of this runtime inline, which referenda can run.
			"Bounded"
				if path.first().map(String::as_str) == Some("frame_support")
					&& u.ratio(3, 4)? =>
			{
				let mut call = Vec::new();
				self.value(self.call_type, u, dictionary, depth, &mut call)?;
				if call.len() <= 128 {
					out.push(1);
					call.encode_to(out);
					return Ok(());
				}
			},
			_ => {},
		}
		match &ty.type_def {
			TypeDef::Composite(composite) => {
				for field in &composite.fields {
					self.field(field.name.as_deref(), field.ty.id, u, dictionary, depth, out)?;
				}
			},
			TypeDef::Variant(_) => self.variant(ty, u, dictionary, depth, out, false)?,
			TypeDef::Sequence(sequence) => {
				let element = sequence.type_param.id;
				if self.is_u8(element) {
					self.bytes(u, dictionary)?.encode_to(out);
				} else {
					let len = u.int_in_range(0..=MAX_ELEMENTS)?;
					Compact(len as u32).encode_to(out);
					for _ in 0..len {
						self.value(element, u, dictionary, depth, out)?;
					}
				}
			},
			TypeDef::Array(array) => {
				if self.is_u8(array.type_param.id) {
					let len = array.len as usize;
					if len == 32 && u.ratio(3, 4)? {
						out.extend_from_slice(self.hash(u, dictionary).as_bytes());
					} else {
						let mut bytes = vec![0u8; len];
						u.fill_buffer(&mut bytes)?;
						out.extend_from_slice(&bytes);
					}
				} else {
					for _ in 0..array.len {
						self.value(array.type_param.id, u, dictionary, depth, out)?;
					}
				}
			},
			TypeDef::Tuple(tuple) => {
				for field in &tuple.fields {
					self.value(field.id, u, dictionary, depth, out)?;
				}
			},
			TypeDef::Primitive(primitive) => primitive_value(primitive, u, dictionary.now, out)?,
			TypeDef::Compact(compact) => {
				// A compact number: of a primitive or of a one-field wrapper of one (a fraction
				// among them); of `()`, nothing.
				let mut inner = compact.type_param.id;
				let mut wrapper = None;
				let primitive = loop {
					let Some(ty) = self.registry.resolve(inner) else { break None };
					match &ty.type_def {
						TypeDef::Primitive(primitive) => break Some(primitive.clone()),
						TypeDef::Composite(c) if c.fields.len() == 1 => {
							wrapper = ty.path.segments.last().cloned();
							inner = c.fields.first().map(|f| f.ty.id).unwrap_or(inner);
						},
						TypeDef::Tuple(t) if t.fields.is_empty() => return Ok(()),
						_ => break None,
					}
				};
				let now = dictionary.now;
				match (wrapper.as_deref(), primitive) {
					(
						Some(
							fraction @ ("Percent" | "PerU16" | "Permill" | "Perbill"
							| "Perquintill"),
						),
						_,
					) => {
						let mut plain = Vec::new();
						per_thing(fraction, u, &mut plain)?;
						let mut value = [0u8; 8];
						for (to, from) in value.iter_mut().zip(&plain) {
							*to = *from;
						}
						Compact(u64::from_le_bytes(value)).encode_to(out)
					},
					(_, Some(TypeDefPrimitive::U8)) => Compact(u.arbitrary::<u8>()?).encode_to(out),
					(_, Some(TypeDefPrimitive::U16)) => {
						Compact(number(u, now)? as u16).encode_to(out)
					},
					(_, Some(TypeDefPrimitive::U32)) => {
						Compact(number(u, now)? as u32).encode_to(out)
					},
					(_, Some(TypeDefPrimitive::U64)) => Compact(number(u, now)?).encode_to(out),
					(_, Some(TypeDefPrimitive::U128)) => Compact(amount(u)?).encode_to(out),
					_ => Compact(0u32).encode_to(out),
				}
			},
			TypeDef::BitSequence(_) => Compact(0u32).encode_to(out),
		}
		Ok(())
	}

	fn variant(
		&self,
		ty: &scale_info::Type<PortableForm>,
		u: &mut Unstructured,
		dictionary: &Dictionary,
		depth: u32,
		out: &mut Vec<u8>,
		is_call: bool,
	) -> Result<()> {
		let TypeDef::Variant(def) = &ty.type_def else { return Ok(()) };
		let Some(variant) = choose(u, &def.variants)? else { return Ok(()) };
		out.push(variant.index);
		if is_call {
			// A pallet's call: choose one that is not excluded.
			let [field] = variant.fields.as_slice() else { return Ok(()) };
			let Some(calls) = self.registry.resolve(field.ty.id) else { return Ok(()) };
			let TypeDef::Variant(calls_def) = &calls.type_def else { return Ok(()) };
			let allowed: Vec<&Variant<PortableForm>> = calls_def
				.variants
				.iter()
				.filter(|call| {
					!EXCLUDED.iter().any(|(pallet, name)| {
						*pallet == variant.name.as_str() && *name == call.name.as_str()
					})
				})
				.collect();
			let Some(call) = choose(u, &allowed)? else {
				// A pallet without calls of its own: a remark instead.
				out.pop();
				out.extend_from_slice(&self.remark);
				return Ok(());
			};
			out.push(call.index);
			for field in &call.fields {
				let name = field.name.as_deref().unwrap_or_default();
				if (variant.name.as_str(), call.name.as_str(), name) == KNOWN_UPSTREAM {
					// `Option<BlockNumber>`: none, or a block within the next thousand.
					if u.arbitrary()? {
						out.push(1);
						u.int_in_range(0u32..=1_000)?.encode_to(out);
					} else {
						out.push(0);
					}
					continue;
				}
				self.field(Some(name), field.ty.id, u, dictionary, depth, out)?;
			}
			return Ok(());
		}
		for field in &variant.fields {
			self.field(field.name.as_deref(), field.ty.id, u, dictionary, depth, out)?;
		}
		Ok(())
	}

	/// A field's value: a number whose name says it is an id or a block to come is drawn as
	/// one most often (the type alone says `u32`); any other value as [`Self::value`] draws it.
	fn field(
		&self,
		name: Option<&str>,
		id: u32,
		u: &mut Unstructured,
		dictionary: &Dictionary,
		depth: u32,
		out: &mut Vec<u8>,
	) -> Result<()> {
		let hint = name.and_then(|name| {
			if ID_FIELDS.contains(&name) {
				Some(Hint::Id)
			} else if DEADLINE_FIELDS.contains(&name) {
				Some(Hint::Ahead)
			} else {
				None
			}
		});
		let primitive = match self.registry.resolve(id).map(|t| &t.type_def) {
			Some(TypeDef::Primitive(primitive)) => Some(primitive.clone()),
			_ => None,
		};
		if let (Some(hint), Some(primitive)) = (hint, primitive) {
			if u.ratio(3, 4)? {
				let value: u64 = match hint {
					// The first things of each kind exist in the world (fuzz/src/world.rs).
					Hint::Id => u64::from(u.ratio(1, 3)?),
					Hint::Ahead => dictionary
						.now
						.saturating_add(*choose(u, &[1, 2, 10, 100, 1_000])?.unwrap_or(&1)),
				};
				match primitive {
					TypeDefPrimitive::U16 => (value as u16).encode_to(out),
					TypeDefPrimitive::U32 => (value as u32).encode_to(out),
					TypeDefPrimitive::U64 => value.encode_to(out),
					_ => return self.value(id, u, dictionary, depth, out),
				}
				return Ok(());
			}
		}
		self.value(id, u, dictionary, depth, out)
	}

	fn is_u8(&self, id: u32) -> bool {
		matches!(
			self.registry.resolve(id).map(|t| &t.type_def),
			Some(TypeDef::Primitive(TypeDefPrimitive::U8))
		)
	}

	fn account(&self, u: &mut Unstructured, dictionary: &Dictionary) -> AccountId {
		if u.ratio(1, 32).unwrap_or(false) {
			let mut raw = [0u8; 32];
			let _ = u.fill_buffer(&mut raw);
			return raw.into();
		}
		choose(u, &dictionary.accounts)
			.ok()
			.flatten()
			.cloned()
			.unwrap_or_else(|| [0u8; 32].into())
	}

	fn hash(&self, u: &mut Unstructured, dictionary: &Dictionary) -> H256 {
		if u.ratio(1, 16).unwrap_or(false) {
			let mut raw = [0u8; 32];
			let _ = u.fill_buffer(&mut raw);
			return H256(raw);
		}
		choose(u, &dictionary.hashes).ok().flatten().copied().unwrap_or_default()
	}

	fn bytes(&self, u: &mut Unstructured, dictionary: &Dictionary) -> Result<Vec<u8>> {
		if u.ratio(3, 4)? {
			if let Some(bytes) = choose(u, &dictionary.bytes)? {
				return Ok(bytes.clone());
			}
		}
		let len =
			if u.ratio(3, 4)? { u.int_in_range(0..=32)? } else { u.int_in_range(0..=MAX_BYTES)? };
		Ok(u.bytes(len.min(u.len()))?.to_vec())
	}
}

fn choose<'a, T>(u: &mut Unstructured, items: &'a [T]) -> Result<Option<&'a T>> {
	if items.is_empty() {
		return Ok(None);
	}
	let index = u.int_in_range(0..=items.len().saturating_sub(1))?;
	Ok(items.get(index))
}

/// A count, an id, a block number or a duration: small most often, or a block to come.
fn number(u: &mut Unstructured, now: u64) -> Result<u64> {
	const NUMBERS: &[u64] =
		&[8, 16, 64, 128, 256, 1_000, 8_192, 10_000, 100_000, u32::MAX as u64, u64::MAX];
	Ok(match u.int_in_range(0u8..=11)? {
		0..=5 => u.int_in_range(0..=3)?,
		6 => u.int_in_range(4..=100)?,
		7 | 8 => *choose(u, NUMBERS)?.unwrap_or(&0),
		9 | 10 => now.saturating_add(*choose(u, &[1, 2, 10, 100, 1_000])?.unwrap_or(&1)),
		_ => u.arbitrary()?,
	})
}

/// A fraction (`Percent`, `PerU16`, `Permill`, `Perbill`, `Perquintill`), encoded: at most its
/// whole, and often one of its edges.
fn per_thing(kind: &str, u: &mut Unstructured, out: &mut Vec<u8>) -> Result<()> {
	let whole: u64 = match kind {
		"Percent" => 100,
		"PerU16" => u64::from(u16::MAX),
		"Permill" => 1_000_000,
		"Perbill" => 1_000_000_000,
		_ => 1_000_000_000_000_000_000,
	};
	let value = match u.int_in_range(0u8..=3)? {
		0 => 0,
		1 => whole,
		2 => whole / 2,
		_ => u.int_in_range(0..=whole)?,
	};
	match kind {
		"Percent" => (value as u8).encode_to(out),
		"PerU16" => (value as u16).encode_to(out),
		"Permill" | "Perbill" => (value as u32).encode_to(out),
		_ => value.encode_to(out),
	}
	Ok(())
}

/// An amount of OPEN: the deposits, fees and balances of the chain, and their edges.
fn amount(u: &mut Unstructured) -> Result<u128> {
	const AMOUNTS: &[u128] = &[
		0,
		1,
		OPEN / 100,
		OPEN / 2,
		OPEN,
		10 * OPEN,
		100 * OPEN,
		1_000 * OPEN,
		10_000 * OPEN,
		// The grant tiers' bounds, a development endowment, and what passes a referendum.
		25_000 * OPEN,
		50_000 * OPEN,
		100_000 * OPEN,
		250_000 * OPEN,
		500_000 * OPEN,
		1_000_000 * OPEN,
		10_000_000 * OPEN,
		100_000_000 * OPEN,
		u64::MAX as u128,
		u128::MAX,
	];
	Ok(match u.int_in_range(0u8..=7)? {
		0..=5 => *choose(u, AMOUNTS)?.unwrap_or(&0),
		6 => u.int_in_range(0u128..=1_000)?.saturating_mul(OPEN),
		_ => u.arbitrary()?,
	})
}

fn primitive_value(
	primitive: &TypeDefPrimitive,
	u: &mut Unstructured,
	now: u64,
	out: &mut Vec<u8>,
) -> Result<()> {
	match primitive {
		TypeDefPrimitive::Bool => u.arbitrary::<bool>()?.encode_to(out),
		TypeDefPrimitive::Char => (u.arbitrary::<char>()? as u32).encode_to(out),
		TypeDefPrimitive::Str => {
			let len = u.int_in_range(0..=16)?;
			let s: String =
				(0..len).map(|_| char::from(b'a'.saturating_add(len as u8 % 26))).collect();
			s.encode_to(out)
		},
		TypeDefPrimitive::U8 => u.arbitrary::<u8>()?.encode_to(out),
		TypeDefPrimitive::U16 => (number(u, now)? as u16).encode_to(out),
		TypeDefPrimitive::U32 => (number(u, now)? as u32).encode_to(out),
		TypeDefPrimitive::U64 => number(u, now)?.encode_to(out),
		TypeDefPrimitive::U128 => amount(u)?.encode_to(out),
		TypeDefPrimitive::U256 => {
			let mut raw = [0u8; 32];
			u.fill_buffer(&mut raw)?;
			out.extend_from_slice(&raw)
		},
		TypeDefPrimitive::I8 => u.arbitrary::<i8>()?.encode_to(out),
		TypeDefPrimitive::I16 => u.arbitrary::<i16>()?.encode_to(out),
		TypeDefPrimitive::I32 => u.arbitrary::<i32>()?.encode_to(out),
		TypeDefPrimitive::I64 => u.arbitrary::<i64>()?.encode_to(out),
		TypeDefPrimitive::I128 => u.arbitrary::<i128>()?.encode_to(out),
		TypeDefPrimitive::I256 => {
			let mut raw = [0u8; 32];
			u.fill_buffer(&mut raw)?;
			out.extend_from_slice(&raw)
		},
	}
	Ok(())
}

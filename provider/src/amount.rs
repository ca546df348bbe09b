//! Amounts of OPEN, written and read in decimal OPEN.

use serde::{de, Deserialize, Deserializer};
use std::{fmt, str::FromStr};

/// The smallest units of OPEN in one OPEN.
pub const OPEN: u128 = 1_000_000_000_000_000_000;

/// An amount of OPEN in its smallest units. It is read from decimal OPEN (`1000`, `0.25`, with
/// at most 18 decimals), in the configuration as a string or an integer, and written as
/// `1.5 OPEN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Open(pub u128);

impl Open {
	/// The amount in OPEN's smallest units.
	pub fn units(self) -> u128 {
		self.0
	}
}

/// Why a text is not an amount of OPEN.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
	#[error("`{0}` is not an amount of OPEN")]
	NotANumber(String),
	#[error("`{0}` has more than 18 decimals")]
	TooManyDecimals(String),
	#[error("`{0}` is more OPEN than there can be")]
	TooLarge(String),
}

impl FromStr for Open {
	type Err = AmountError;

	fn from_str(text: &str) -> Result<Self, AmountError> {
		let text = text.trim();
		let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
		let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
		if whole.is_empty() || !digits(whole) || !digits(fraction) {
			return Err(AmountError::NotANumber(text.into()));
		}
		if fraction.len() > 18 {
			return Err(AmountError::TooManyDecimals(text.into()));
		}
		let too_large = || AmountError::TooLarge(text.into());
		let whole: u128 = whole.parse().map_err(|_| too_large())?;
		// At most 18 digits, padded to 18: always fits.
		let fraction: u128 =
			if fraction.is_empty() { 0 } else { format!("{fraction:0<18}").parse().unwrap_or(0) };
		whole
			.checked_mul(OPEN)
			.and_then(|w| w.checked_add(fraction))
			.map(Open)
			.ok_or_else(too_large)
	}
}

impl fmt::Display for Open {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let (whole, fraction) = (self.0 / OPEN, self.0 % OPEN);
		if fraction == 0 {
			return write!(f, "{whole} OPEN");
		}
		let digits = format!("{fraction:018}");
		write!(f, "{whole}.{} OPEN", digits.trim_end_matches('0'))
	}
}

impl<'de> Deserialize<'de> for Open {
	fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		struct Visitor;
		impl de::Visitor<'_> for Visitor {
			type Value = Open;
			fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
				f.write_str("an amount of OPEN, such as \"1000\" or \"0.25\"")
			}
			fn visit_str<E: de::Error>(self, text: &str) -> Result<Open, E> {
				text.parse().map_err(E::custom)
			}
			fn visit_u64<E: de::Error>(self, n: u64) -> Result<Open, E> {
				self.visit_str(&n.to_string())
			}
			fn visit_i64<E: de::Error>(self, n: i64) -> Result<Open, E> {
				self.visit_str(&n.to_string())
			}
		}
		deserializer.deserialize_any(Visitor)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_and_print() {
		assert_eq!("1000".parse(), Ok(Open(1000 * OPEN)));
		assert_eq!("0.25".parse(), Ok(Open(OPEN / 4)));
		assert_eq!("1.000000000000000001".parse(), Ok(Open(OPEN + 1)));
		assert_eq!(Open(OPEN + OPEN / 2).to_string(), "1.5 OPEN");
		assert_eq!(Open(3 * OPEN).to_string(), "3 OPEN");
	}

	#[test]
	fn what_is_not_an_amount_says_why() {
		let bad = |text: &str| text.parse::<Open>().unwrap_err();
		assert_eq!(
			bad("1.0000000000000000001"),
			AmountError::TooManyDecimals("1.0000000000000000001".into())
		);
		for text in ["-1", "", "1e3", ".5", "1.2.3"] {
			assert_eq!(bad(text), AmountError::NotANumber(text.into()), "{text}");
		}
		assert!(matches!(bad("340282366920938463463374607431768211455"), AmountError::TooLarge(_)));
	}

	#[test]
	fn the_configuration_takes_strings_and_integers() {
		#[derive(Deserialize)]
		struct Prices {
			a: Open,
			b: Open,
		}
		let prices: Prices = toml::from_str("a = \"0.5\"\nb = 2").unwrap();
		assert_eq!((prices.a, prices.b), (Open(OPEN / 2), Open(2 * OPEN)));
		assert!(toml::from_str::<Prices>("a = \"x\"\nb = 1").is_err());
	}
}

//! A small seeded random generator, so that a model's initial weights depend on its seed alone,
//! not on the device's random generator.

/// SplitMix64: fast, and good enough for initial weights and shuffling.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
	pub fn new(seed: u64) -> Self {
		Self(seed)
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	/// Uniform in `[0, 1)`.
	pub fn uniform(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}

	/// Normal with mean 0 and standard deviation `std` (Box-Muller).
	pub fn normal(&mut self, std: f64) -> f64 {
		let u1 = self.uniform().max(f64::MIN_POSITIVE);
		let u2 = self.uniform();
		std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
	}

	/// Uniform in `0..n`.
	pub fn below(&mut self, n: usize) -> usize {
		(self.uniform() * n as f64) as usize % n.max(1)
	}
}

#[cfg(test)]
mod tests {
	use super::Rng;

	#[test]
	fn the_same_seed_gives_the_same_numbers() {
		let (mut a, mut b) = (Rng::new(7), Rng::new(7));
		let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
		assert_eq!(xs, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
		assert_ne!(Rng::new(8).next_u64(), xs[0]);
	}

	#[test]
	fn normals_have_the_asked_spread() {
		let mut rng = Rng::new(1);
		let xs: Vec<f64> = (0..20_000).map(|_| rng.normal(2.0)).collect();
		let mean = xs.iter().sum::<f64>() / xs.len() as f64;
		let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
		assert!(mean.abs() < 0.05, "{mean}");
		assert!((var.sqrt() - 2.0).abs() < 0.05, "{}", var.sqrt());
	}
}

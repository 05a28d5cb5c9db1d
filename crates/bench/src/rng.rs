//! A small deterministic PRNG (SplitMix64): the same seed gives the same
//! load on every machine and every run.

#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    #[cfg(test)]
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for one stream, derived from a seed and a few keys.
    pub(crate) fn derive(seed: u64, keys: &[u64]) -> Self {
        let mut r = Rng(seed);
        for &k in keys {
            r.0 ^= k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            r.next_u64();
        }
        r
    }

    /// A generator for stream `key` of `seed` that shares no draws with
    /// another key's. [`Rng::derive`]'s streams for consecutive keys are
    /// one sequence shifted by a draw (SplitMix64's state steps by the
    /// constant a key is multiplied by): per-trace streams made from it
    /// repeated span ids across neighbouring traces.
    pub(crate) fn stream(seed: u64, key: u64) -> Self {
        Rng(Rng::derive(seed, &[key]).next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let draws = |key| {
            let mut r = Rng::stream(1, key);
            (0..8).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        let (a, b) = (draws(7), draws(8));
        assert!(
            a.iter().all(|x| !b.contains(x)),
            "streams 7 and 8 share draws"
        );
        let mut r = Rng::derive(1, &[2, 3]);
        let mut s = Rng::derive(1, &[2, 3]);
        assert_eq!(r.next_u64(), s.next_u64());
        assert_ne!(
            Rng::derive(1, &[2, 3]).next_u64(),
            Rng::derive(1, &[3, 2]).next_u64()
        );
        for _ in 0..1000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}

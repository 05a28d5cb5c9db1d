//! Hash maps keyed by numbers that need no SipHash: series ids (dense) and
//! label-set hashes (already mixed). The head looks one up per sample.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Two folded 64×64→128-bit multiplies per word, as in foldhash.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NumHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

fn fold(a: u64, b: u64) -> u64 {
    let x = u128::from(a) * u128::from(b);
    (x as u64) ^ ((x >> 64) as u64)
}

impl NumHasher {
    fn mix(&mut self, v: u64) {
        self.0 = fold(fold(self.0 ^ v, K), 0x2d35_8dcc_aa6c_78a5);
    }
}

impl Hasher for NumHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }

    fn write_i64(&mut self, v: i64) {
        self.mix(v as u64);
    }
}

pub(crate) type NumMap<K, V> = HashMap<K, V, BuildHasherDefault<NumHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_spread_over_buckets() {
        // Low 10 bits (a 1,024-bucket table) of 100k sequential ids.
        let mut buckets = vec![0u32; 1024];
        for id in 0..100_000u64 {
            let mut h = NumHasher::default();
            h.write_u64(id);
            buckets[(h.finish() & 1023) as usize] += 1;
        }
        let (lo, hi) = (buckets.iter().min().unwrap(), buckets.iter().max().unwrap());
        assert!(*lo > 50 && *hi < 150, "min {lo} max {hi}");
    }
}

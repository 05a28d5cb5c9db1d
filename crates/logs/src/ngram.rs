//! Per-block n-gram filters: which byte trigrams occur in a block's lines,
//! as a Bloom filter, so a `|= "needle"` query skips every block that lacks
//! one of the needle's trigrams (`docs/format/logs.md`).
//!
//! Why trigrams rather than tokens: LogQL's `|=` is a substring match, so a
//! word of the needle may be part of a longer word in the line, and a token
//! index can rule nothing out for a one-word needle. Every substring of a
//! line has all its trigrams in the line. The trigram space is bounded
//! (2^24), so a block's distinct trigrams stop growing with its size.

/// The bits of a block's filter: a power of two, about `BITS_PER_TRIGRAM`
/// per distinct trigram, between `MIN_BITS` and `MAX_BITS`.
const BITS_PER_TRIGRAM: usize = 10;
const MIN_BITS: usize = 1 << 9;
const MAX_BITS: usize = 1 << 21;

/// Words of a [`TrigramSet`]'s bitmap: one bit per possible trigram.
const SEEN_WORDS: usize = (1 << 24) / 64;

/// Collects a block's trigrams; reused across blocks.
#[derive(Debug)]
pub struct TrigramSet {
    /// One bit per possible trigram (2^24 bits = 2 MiB); a fixed size, so
    /// indexing by a 24-bit trigram needs no bounds check.
    seen: Box<[u64; SEEN_WORDS]>,
    /// The trigrams set in `seen`, to build the filter and reset.
    list: Vec<u32>,
}

impl Default for TrigramSet {
    fn default() -> Self {
        let seen: Box<[u64]> = vec![0; SEEN_WORDS].into_boxed_slice();
        TrigramSet {
            seen: seen.try_into().expect("SEEN_WORDS words"),
            list: Vec::new(),
        }
    }
}

impl TrigramSet {
    pub fn add_line(&mut self, line: &[u8]) {
        let Some((head, rest)) = line.split_at_checked(2) else {
            return;
        };
        // The last three bytes, rolled one byte at a time; the words of
        // `seen` read without a branch, the rare new trigram pushed after.
        let seen = &mut *self.seen;
        let mut t = (head[0] as u32) << 8 | head[1] as u32;
        for &b in rest {
            t = (t << 8 | b as u32) & 0xFF_FFFF;
            let (word, bit) = ((t >> 6) as usize, 1u64 << (t & 63));
            let w = seen[word];
            if w & bit == 0 {
                seen[word] = w | bit;
                self.list.push(t);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The filter of the trigrams added since the last call; resets.
    pub fn take_filter(&mut self) -> Filter {
        let bits = (self.list.len() * BITS_PER_TRIGRAM)
            .next_power_of_two()
            .clamp(MIN_BITS, MAX_BITS);
        let mut words = vec![0u64; bits / 64];
        for &t in &self.list {
            for pos in positions(t, bits) {
                words[pos / 64] |= 1 << (pos % 64);
            }
            self.seen[(t >> 6) as usize] = 0;
        }
        self.list.clear();
        Filter { words }
    }
}

/// A block's trigram Bloom filter (two probes per trigram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    words: Vec<u64>,
}

impl Filter {
    /// Rebuilds a filter from its bytes (little-endian words); `None` when
    /// the length is not a power of two of at least 64 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Filter> {
        let bits = b.len() * 8;
        if b.len() < 64 || !bits.is_power_of_two() {
            return None;
        }
        let words = b
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        Some(Filter { words })
    }

    /// Appends the filter's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for w in &self.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }

    pub fn byte_len(&self) -> usize {
        self.words.len() * 8
    }

    /// False when some line of the block cannot contain `needle`; true
    /// when one may (always for needles shorter than 3 bytes).
    pub fn may_contain(&self, needle: &[u8]) -> bool {
        let bits = self.words.len() * 64;
        needle.windows(3).all(|w| {
            let t = (w[0] as u32) << 16 | (w[1] as u32) << 8 | w[2] as u32;
            positions(t, bits)
                .iter()
                .all(|&p| self.words[p / 64] & (1 << (p % 64)) != 0)
        })
    }
}

/// The two bit positions of trigram `t` in a filter of `bits` bits.
fn positions(t: u32, bits: usize) -> [usize; 2] {
    let h = (t as u64 ^ 0x9E37_79B9).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let h = h ^ (h >> 29);
    let mask = bits as u64 - 1;
    [(h & mask) as usize, ((h >> 32) & mask) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_substring_and_rules_out_absent_words() {
        let mut set = TrigramSet::default();
        let lines = [
            "GET /api/v1/users 200 12ms",
            "level=error msg=\"connection refused\" host=db-1",
        ];
        for l in lines {
            set.add_line(l.as_bytes());
        }
        let f = set.take_filter();
        for l in lines {
            for i in 0..l.len() {
                for j in i + 1..=l.len() {
                    assert!(f.may_contain(&l.as_bytes()[i..j]), "{}", &l[i..j]);
                }
            }
        }
        assert!(!f.may_contain(b"ZQXJ-needle-7731"));
        assert!(f.may_contain(b"ab"), "short needles always pass");
        // The set was reset: a new block knows only its own lines.
        set.add_line(b"other block");
        let g = set.take_filter();
        assert!(!g.may_contain(b"refused"));
        assert_eq!(
            Filter::from_bytes(&{
                let mut b = Vec::new();
                g.encode(&mut b);
                b
            }),
            Some(g)
        );
        assert_eq!(Filter::from_bytes(&[0; 24]), None);
    }
}

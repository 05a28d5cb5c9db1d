//! Durations and byte sizes as LogQL writes them, and back.
//!
//! * Range selectors (`[5m]`) use Prometheus durations: integer amounts of
//!   `y` (365 days), `w`, `d`, `h`, `m`, `s`, `ms`, in that order (`1h30m`).
//! * Duration literals elsewhere (`offset 1h`, `latency > 250ms`) accept a
//!   Prometheus duration or, failing that, a Go `time.ParseDuration` one:
//!   fractions and the units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h` in any order
//!   (`1.5h`, `-2m30s`, `10us`).
//! * Byte sizes follow go-humanize: `20MB` (10^6), `1KiB` (2^10), `1.5GB`.
//!
//! All durations are nanoseconds in an `i64`; sizes are bytes in a `u64`.

const NS_PER_MS: i64 = 1_000_000;

/// Parses a Prometheus duration (`5m`, `1h30m`, `2d`, `0`) to nanoseconds.
pub(crate) fn parse_prom_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 365 * 24 * 3600 * 1000),
        ("w", 7 * 24 * 3600 * 1000),
        ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000),
        ("m", 60 * 1000),
        ("s", 1000),
        ("ms", 1),
    ];
    let b = s.as_bytes();
    let mut i = 0;
    let mut next_unit = 0;
    let mut total_ms: i64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: i64 = s[start..i].parse().ok()?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let idx = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        next_unit = idx + 1;
        total_ms = total_ms.checked_add(n.checked_mul(UNITS[idx].1)?)?;
    }
    total_ms.checked_mul(NS_PER_MS)
}

pub(crate) use argus_model::parse_go_duration;

/// A duration literal: Prometheus syntax first, then Go's (as Loki does).
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    parse_prom_duration(s).or_else(|| parse_go_duration(s))
}

/// Parses a go-humanize byte size (`20MB`, `1KiB`, `1.5GB`, `10k`).
pub(crate) fn parse_bytes(s: &str) -> Option<u64> {
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(num_len);
    if num.is_empty() {
        return None;
    }
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "ki" | "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mi" | "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gi" | "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "ti" | "tib" => 1 << 40,
        "p" | "pb" => 1_000_000_000_000_000,
        "pi" | "pib" => 1 << 50,
        _ => return None,
    };
    if num.bytes().all(|b| b.is_ascii_digit()) {
        // Exact for integers, so that a printed size reads back unchanged.
        return num.parse::<u64>().ok()?.checked_mul(mult);
    }
    let f: f64 = num.parse().ok()?;
    let v = f * mult as f64;
    if !(v.is_finite() && v < 18_446_744_073_709_551_616.0) {
        return None;
    }
    Some(v as u64)
}

/// Formats nanoseconds as a Prometheus duration when it is a non-negative
/// whole number of milliseconds (`1h30m`, `0s`), else as a Go duration
/// (`-1h30m`, `1500us`): either reads back to the same value.
pub(crate) fn format_duration(ns: i64) -> String {
    if ns >= 0 && ns % NS_PER_MS == 0 {
        return format_prom_duration(ns);
    }
    let mut out = String::new();
    if ns < 0 {
        out.push('-');
    }
    let mut n = ns.unsigned_abs();
    for (unit, size) in [
        ("h", 3_600_000_000_000u64),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        let k = n / size;
        n %= size;
        if k > 0 {
            out.push_str(&k.to_string());
            out.push_str(unit);
        }
    }
    if out.is_empty() || out == "-" {
        out = "0s".to_string();
    }
    out
}

/// Formats a non-negative whole number of milliseconds (given in
/// nanoseconds) as a Prometheus duration; a remainder below 1 ms is dropped.
pub(crate) fn format_prom_duration(ns: i64) -> String {
    let mut ms = ns.max(0) / NS_PER_MS;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 365 * 24 * 3600 * 1000i64),
        ("w", 7 * 24 * 3600 * 1000),
        ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000),
        ("m", 60 * 1000),
        ("s", 1000),
        ("ms", 1),
    ] {
        let k = ms / size;
        ms %= size;
        if k > 0 {
            out.push_str(&k.to_string());
            out.push_str(unit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_prom_duration("5m"), Some(300_000_000_000));
        assert_eq!(parse_prom_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_prom_duration("30m1h"), None);
        assert_eq!(parse_prom_duration("1.5h"), None);
        assert_eq!(parse_prom_duration(""), None);
        assert_eq!(parse_go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("-2m30s"), Some(-150_000_000_000));
        assert_eq!(parse_go_duration("1µs"), Some(1_000));
        assert_eq!(parse_go_duration("10us5ns"), Some(10_005));
        assert_eq!(parse_go_duration("1d"), None);
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("-0"), Some(0));
        assert_eq!(parse_go_duration("9999999999999h"), None);
        assert_eq!(parse_duration("2d"), Some(2 * 86_400_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("20MB"), Some(20_000_000));
        assert_eq!(parse_bytes("1KiB"), Some(1024));
        assert_eq!(parse_bytes("1.5GB"), Some(1_500_000_000));
        assert_eq!(parse_bytes("20k"), Some(20_000));
        assert_eq!(parse_bytes("18446744073709551615B"), Some(u64::MAX));
        assert_eq!(parse_bytes("18446744073709551616B"), None);
        assert_eq!(parse_bytes("1EB"), None);
        assert_eq!(parse_bytes("MB"), None);
    }

    #[test]
    fn durations_print_and_read_back() {
        for ns in [
            0,
            1,
            999,
            1_000_000,
            300_000_000_000,
            5_400_000_000_000,
            -1,
            -86_400_000_000_000,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let s = format_duration(ns);
            assert_eq!(parse_duration(&s), Some(ns), "{ns} printed as {s}");
        }
    }
}

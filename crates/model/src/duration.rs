//! Prometheus durations (`model.ParseDuration` / `Duration.String` in
//! prometheus/common v0.59) and byte sizes (`units.Base2Bytes` from
//! alecthomas/units, used by `body_size_limit`).

use std::time::Duration;

/// Why a duration or size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration string")]
    Empty,
    #[error("not a valid duration string: {0:?}")]
    Invalid(String),
    #[error("unknown unit {unit:?} in duration {orig:?}")]
    UnknownUnit { unit: String, orig: String },
    #[error("duration out of range")]
    OutOfRange,
    #[error(
        "invalid size {0:?}: expected a number of bytes with a unit such as 64MiB, 100MB, 1KB"
    )]
    InvalidSize(String),
}

const NANOS_PER_MS: u64 = 1_000_000;

/// Units in the order they must appear (biggest first), with their length in
/// nanoseconds. A year is always 365 days, a week 7 days, a day 24 hours.
fn unit(u: &str) -> Option<(u8, u64)> {
    Some(match u {
        "y" => (1, 365 * 24 * 3600 * 1_000_000_000),
        "w" => (2, 7 * 24 * 3600 * 1_000_000_000),
        "d" => (3, 24 * 3600 * 1_000_000_000),
        "h" => (4, 3600 * 1_000_000_000),
        "m" => (5, 60 * 1_000_000_000),
        "s" => (6, 1_000_000_000),
        "ms" => (7, NANOS_PER_MS),
        _ => return None,
    })
}

/// Parses a Prometheus duration: `"0"`, or one or more `<digits><unit>`
/// groups with units `y w d h m s ms`, each at most once and biggest first
/// (`"1h30m"`, `"2d"`, `"500ms"`). No sign, no fractions, no spaces; the
/// total must fit an `int64` of nanoseconds (Go's `time.Duration`).
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    match s {
        "0" => return Ok(Duration::ZERO),
        "" => return Err(DurationError::Empty),
        _ => {}
    }
    let invalid = || DurationError::Invalid(s.to_string());
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0;
    let mut last_pos = 0u8;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            return Err(invalid());
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let v: u64 = s[start..i].parse().map_err(|_| invalid())?;
        let ustart = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == ustart {
            return Err(invalid());
        }
        let u = &s[ustart..i];
        let (pos, mult) = unit(u).ok_or_else(|| DurationError::UnknownUnit {
            unit: u.to_string(),
            orig: s.to_string(),
        })?;
        if pos <= last_pos {
            return Err(invalid());
        }
        last_pos = pos;
        if v > (1u64 << 63) / mult {
            return Err(DurationError::OutOfRange);
        }
        total += v * mult;
        if total > (1u64 << 63) - 1 {
            return Err(DurationError::OutOfRange);
        }
    }
    Ok(Duration::from_nanos(total))
}

/// Formats a duration the way Prometheus does (`model.Duration.String`):
/// millisecond precision, `"0s"` for zero, years and weeks only when they
/// divide the rest exactly (`"90d"`, not `"12w6d"`). This is the value of the
/// `__scrape_interval__` / `__scrape_timeout__` target labels.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis() as u64;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let units: [(&str, u64, bool); 7] = [
        ("y", 1000 * 60 * 60 * 24 * 365, true),
        ("w", 1000 * 60 * 60 * 24 * 7, true),
        ("d", 1000 * 60 * 60 * 24, false),
        ("h", 1000 * 60 * 60, false),
        ("m", 1000 * 60, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (name, mult, exact) in units {
        if exact && !ms.is_multiple_of(mult) {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&v.to_string());
            out.push_str(name);
            ms -= v * mult;
        }
    }
    out
}

/// Formats seconds like Go's `strconv.FormatFloat(s, 'f', -1, 64)`: the
/// shortest decimal that round-trips, never in exponent notation.
pub fn format_seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    // Rust's Display for f64 is the shortest round-trip form without an exponent.
    format!("{s}")
}

/// Parses a byte size as Prometheus's `body_size_limit` does
/// (`units.ParseBase2Bytes`): `<number><unit>` groups such as `64MiB`,
/// `100MB`, `1GB512MB`, where every unit is a power of 1024 (`B`, `KB`/`KiB`,
/// `MB`/`MiB`, `GB`/`GiB`, `TB`/`TiB`, `PB`/`PiB`, `EB`/`EiB`). A bare
/// integer is taken as bytes (YAML integers; Prometheus rejects them).
pub fn parse_size(s: &str) -> Result<u64, DurationError> {
    let bad = || DurationError::InvalidSize(s.to_string());
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| bad());
    }
    let bytes = t.as_bytes();
    let mut i = 0;
    let mut total: u64 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if start == i {
            return Err(bad());
        }
        let num: f64 = t[start..i].parse().map_err(|_| bad())?;
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult: u64 = match &t[ustart..i] {
            "B" => 1,
            "KB" | "KiB" => 1 << 10,
            "MB" | "MiB" => 1 << 20,
            "GB" | "GiB" => 1 << 30,
            "TB" | "TiB" => 1 << 40,
            "PB" | "PiB" => 1 << 50,
            "EB" | "EiB" => 1 << 60,
            _ => return Err(bad()),
        };
        let v = num * mult as f64;
        if !v.is_finite() || v >= u64::MAX as f64 {
            return Err(bad());
        }
        total = total.checked_add(v as u64).ok_or_else(bad)?;
    }
    Ok(total)
}

/// Parses a Go duration (`time.ParseDuration`: `1.5h`, `-2m30s`, `300ms`,
/// `1µs`) to nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<i64> {
    let mut s = s;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    const LIMIT: u64 = 1 << 63;
    let mut d: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return None;
        }
        // The integer part.
        let mut i = 0;
        let mut v: u64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            v = v.checked_mul(10)?.checked_add(u64::from(b[i] - b'0'))?;
            if v > LIMIT {
                return None;
            }
            i += 1;
        }
        let pre = i > 0;
        // The fraction.
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let start = i;
            let mut overflow = false;
            while i < b.len() && b[i].is_ascii_digit() {
                if !overflow {
                    match f
                        .checked_mul(10)
                        .and_then(|y| y.checked_add(u64::from(b[i] - b'0')))
                    {
                        Some(y) if y <= LIMIT => {
                            f = y;
                            scale *= 10.0;
                        }
                        _ => overflow = true,
                    }
                }
                i += 1;
            }
            post = i > start;
        }
        if !pre && !post {
            return None;
        }
        let rest = &s[i..];
        let ulen = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if ulen == 0 {
            return None;
        }
        let unit: u64 = match &rest[..ulen] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &rest[ulen..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if f > 0 {
            v = v.checked_add((f as f64 * (unit as f64 / scale)) as u64)?;
            if v > LIMIT {
                return None;
            }
        }
        d = d.checked_add(v)?;
        if d > LIMIT {
            return None;
        }
    }
    if neg {
        // -(1 << 63) is i64::MIN.
        Some((d as i64).wrapping_neg())
    } else if d > LIMIT - 1 {
        None
    } else {
        Some(d as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("15s"), Ok(ms(15_000)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_duration("2d"), Ok(ms(2 * 86_400_000)));
        assert_eq!(parse_duration("1w"), Ok(ms(7 * 86_400_000)));
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("1y"), Ok(ms(365 * 86_400_000)));
        assert_eq!(
            parse_duration("1y2w3d4h5m6s7ms"),
            Ok(ms(
                ((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7
            ))
        );
        // Leading zeros are fine.
        assert_eq!(parse_duration("010s"), Ok(ms(10_000)));
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        for bad in [
            "1", "s", "-1s", "1.5s", "1s1m", "1m1m", "1h ", " 1h", "1sms", "1S",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(matches!(
            parse_duration("5x"),
            Err(DurationError::UnknownUnit { .. })
        ));
        // 2^63 ns is one past the largest Go duration (~292 years).
        assert_eq!(parse_duration("293y"), Err(DurationError::OutOfRange));
        assert!(parse_duration("292y").is_ok());
        assert_eq!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::Invalid("99999999999999999999s".into()))
        );
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(ms(15_000)), "15s");
        assert_eq!(format_duration(ms(90_000)), "1m30s");
        assert_eq!(format_duration(ms(60_000)), "1m");
        assert_eq!(format_duration(ms(200)), "200ms");
        assert_eq!(format_duration(ms(1_500)), "1s500ms");
        assert_eq!(format_duration(ms(90 * 86_400_000)), "90d");
        assert_eq!(format_duration(ms(14 * 86_400_000)), "2w");
        assert_eq!(format_duration(ms(365 * 86_400_000)), "1y");
        assert_eq!(format_duration(ms(86_400_000 + 3_600_000)), "1d1h");
        for s in ["15s", "1m30s", "2w", "1y", "1d2h3m4s5ms"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn seconds_like_go_format_float() {
        assert_eq!(format_seconds(ms(10_000)), "10");
        assert_eq!(format_seconds(ms(150)), "0.15");
        assert_eq!(format_seconds(ms(1_500)), "1.5");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("100MB"), Ok(100 << 20));
        assert_eq!(parse_size("1KB"), Ok(1024));
        assert_eq!(parse_size("1GB512MB"), Ok((1 << 30) + (512 << 20)));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("10B"), Ok(10));
        assert!(parse_size("10 apples").is_err());
        assert!(parse_size("MB").is_err());
        assert!(parse_size("").is_err());
    }
}

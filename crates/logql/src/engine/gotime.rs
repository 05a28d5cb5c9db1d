//! Go time layouts (`2006-01-02 15:04:05`) for templates, UTC only.

use argus_model::civil::{civil_from_days as civil, days_from_civil};
use std::fmt::Write as _;

// ------------------------------------------------------------ time

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Formats UTC time `ns` with a Go layout.
pub(crate) fn format_time(ns: i64, layout: &str) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil(days);
    let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let mut out = String::new();
    let mut rest = layout;
    let toks: &[(&str, u8)] = &[
        ("January", 1),
        ("Jan", 2),
        ("Monday", 3),
        ("Mon", 4),
        ("2006", 5),
        ("-07:00", 6),
        ("-0700", 7),
        ("Z07:00", 8),
        ("MST", 9),
        ("01", 10),
        ("02", 11),
        ("_2", 12),
        ("15", 13),
        ("03", 14),
        ("04", 15),
        ("05", 16),
        ("06", 17),
        ("PM", 18),
        ("pm", 19),
        ("1", 20),
        ("2", 21),
        ("3", 22),
        ("4", 23),
        ("5", 24),
        ("Z0700", 25),
    ];
    'outer: while !rest.is_empty() {
        if let Some(frac) = rest.strip_prefix(".000").or(None) {
            let _ = frac;
        }
        if rest.starts_with(".0")
            || rest.starts_with(".9")
            || rest.starts_with(",0")
            || rest.starts_with(",9")
        {
            let digit = rest.as_bytes()[1];
            let k = rest[1..].bytes().take_while(|b| *b == digit).count();
            let after = rest.as_bytes().get(1 + k);
            if !after.is_some_and(|b| b.is_ascii_digit()) {
                let full = format!("{nanos:09}");
                let part = &full[..k.min(9)];
                if digit == b'0' {
                    out.push_str(&rest[..1]);
                    out.push_str(part);
                } else {
                    let t = part.trim_end_matches('0');
                    if !t.is_empty() {
                        out.push_str(&rest[..1]);
                        out.push_str(t);
                    }
                }
                rest = &rest[1 + k..];
                continue;
            }
        }
        for (t, id) in toks {
            if let Some(r) = rest.strip_prefix(t) {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                let _ = match id {
                    1 => write!(out, "{}", MONTHS[mo as usize - 1]),
                    2 => write!(out, "{}", &MONTHS[mo as usize - 1][..3]),
                    3 => write!(out, "{wd}"),
                    4 => write!(out, "{}", &wd[..3]),
                    5 => write!(out, "{y:04}"),
                    6 => write!(out, "+00:00"),
                    7 => write!(out, "+0000"),
                    8 | 25 => write!(out, "Z"),
                    9 => write!(out, "UTC"),
                    10 => write!(out, "{mo:02}"),
                    11 => write!(out, "{d:02}"),
                    12 => write!(out, "{d:>2}"),
                    13 => write!(out, "{h:02}"),
                    14 => write!(out, "{h12:02}"),
                    15 => write!(out, "{mi:02}"),
                    16 => write!(out, "{s:02}"),
                    17 => write!(out, "{:02}", y.rem_euclid(100)),
                    18 => write!(out, "{}", if h >= 12 { "PM" } else { "AM" }),
                    19 => write!(out, "{}", if h >= 12 { "pm" } else { "am" }),
                    20 => write!(out, "{mo}"),
                    21 => write!(out, "{d}"),
                    22 => write!(out, "{h12}"),
                    23 => write!(out, "{mi}"),
                    _ => write!(out, "{s}"),
                };
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Parses `value` with a numeric Go layout (2006 01 02 15 04 05, fractions,
/// `Z07:00`, literals), UTC.
pub(crate) fn parse_time(layout: &str, value: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ns) =
        (1i64, 1u32, 1u32, 0i64, 0i64, 0i64, 0i64);
    let mut l = layout;
    let mut v = value;
    let num = |v: &mut &str, n: usize| -> Option<i64> {
        let t = v.get(..n)?;
        let x = t.parse().ok()?;
        *v = &v[n..];
        Some(x)
    };
    while !l.is_empty() {
        if let Some(r) = l.strip_prefix("2006") {
            y = num(&mut v, 4)?;
            l = r;
        } else if let Some(r) = l.strip_prefix("01") {
            mo = num(&mut v, 2)? as u32;
            l = r;
        } else if let Some(r) = l.strip_prefix("02") {
            d = num(&mut v, 2)? as u32;
            l = r;
        } else if let Some(r) = l.strip_prefix("15") {
            h = num(&mut v, 2)?;
            l = r;
        } else if let Some(r) = l.strip_prefix("04") {
            mi = num(&mut v, 2)?;
            l = r;
        } else if let Some(r) = l.strip_prefix("05") {
            s = num(&mut v, 2)?;
            l = r;
            if (l.starts_with(".0") || l.starts_with(".9") || l.is_empty() || l.starts_with('Z'))
                && v.starts_with('.')
            {
                let digits: String = v[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
                v = &v[1 + digits.len()..];
                ns = format!("{digits:0<9}")[..9].parse().ok()?;
                l = l.trim_start_matches(['.', '0', '9']);
            }
        } else if let Some(r) = l.strip_prefix("Z07:00") {
            v = v.strip_prefix('Z')?;
            l = r;
        } else {
            let c = l.chars().next()?;
            v = v.strip_prefix(c)?;
            l = &l[c.len_utf8()..];
        }
    }
    if !v.is_empty() {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000_000 + ns)
}

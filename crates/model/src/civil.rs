//! Days since 1970-01-01 to and from (year, month, day) in the proleptic
//! Gregorian calendar (Howard Hinnant's algorithms), for every layer that
//! reads or prints UTC times: RFC 3339 parameters and messages, Go time
//! layouts, PromQL's date functions, Elasticsearch's dates.

/// (year, month 1–12, day 1–31) of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of (year, month 1–12, day); a day past the end of
/// its month counts on into the next.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_and_round_trips() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        // 1600-01-01 to 2400-12-31, every day, in order.
        let (start, end) = (days_from_civil(1600, 1, 1), days_from_civil(2401, 1, 1));
        let mut prev = civil_from_days(start - 1);
        for days in start..end {
            let c = civil_from_days(days);
            assert_eq!(days_from_civil(c.0, c.1, c.2), days);
            assert!(c > prev, "{c:?} after {prev:?}");
            prev = c;
        }
    }
}

//! Dates and timestamps as ISO strings that sort correctly as plain strings.
//!
//! MCF writes `metadata.updatedAt` in two shapes: `2025-05-16T08:33:52` in search items and
//! `2025-05-19T08:02:16.000Z` in job details. Both are UTC (a search item updated at
//! `2025-05-14T23:48:07` has `newPostingDate` 2025-05-15, i.e. 07:48 in Singapore), so both are
//! normalised to `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, the search item's precision): equal
//! instants then compare equal and the merge rule can order versions with `<`.

/// Normalises an ISO 8601 timestamp to `YYYY-MM-DDTHH:MM:SSZ` in UTC.
///
/// Accepts an optional fraction and a zone of `Z`, `±HH:MM` or `±HHMM`; no zone means UTC
/// (what MCF's search items send). The error says what is wrong, for a parse error message.
pub fn normalize_timestamp(s: &str) -> Result<String, String> {
    let (seconds, _) = parse_instant(s)?;
    Ok(timestamp_from_unix(seconds))
}

/// Milliseconds since the Unix epoch of an RFC 3339 timestamp (`2026-11-28T18:11:08.123Z`,
/// `…+08:00`; no zone means UTC, as in [`normalize_timestamp`]), or of a date (`2026-11-28`,
/// its midnight UTC). Digits past the millisecond are dropped. The log tools read `--since`
/// and log lines' `time` with it.
pub fn unix_millis(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if t.len() == 10 {
        let (year, month, day) = parse_date_parts(t).ok_or_else(|| format!("`{t}` is not a date like 2026-11-28"))?;
        return Ok(days_from_civil(year, month, day) * 86_400_000);
    }
    let (seconds, millis) = parse_instant(t)?;
    Ok(seconds * 1000 + i64::from(millis))
}

/// Seconds since the epoch and the milliseconds of the fraction.
fn parse_instant(s: &str) -> Result<(i64, u32), String> {
    let s = s.trim();
    let bytes = s.as_bytes();
    if bytes.len() < 19 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err(format!("`{s}` is not a timestamp like 2025-05-19T08:02:16Z"));
    }
    let (year, month, day) = parse_date_parts(&s[..10]).ok_or_else(|| format!("`{s}` has no valid date part"))?;
    let hour = two_digits(bytes, 11).filter(|h| *h < 24);
    let minute = two_digits(bytes, 14).filter(|m| *m < 60);
    let second = two_digits(bytes, 17).filter(|s| *s <= 60);
    let (Some(hour), Some(minute), Some(second)) = (hour, minute, second) else {
        return Err(format!("`{s}` has no valid time part"));
    };
    if bytes[13] != b':' || bytes[16] != b':' {
        return Err(format!("`{s}` has no valid time part"));
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("`{s}` has an empty fraction of a second"));
        }
        // The first three digits, padded: `.5` is 500 ms.
        millis = fraction
            .bytes()
            .take(digits.min(3))
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        rest = &fraction[digits..];
    }
    let offset_minutes = parse_zone(rest).ok_or_else(|| format!("`{s}` has an unreadable time zone `{rest}`"))?;
    let days = days_from_civil(year, month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second) - offset_minutes * 60;
    Ok((seconds, millis))
}

/// Checks a calendar date and returns it as `YYYY-MM-DD`.
///
/// A timestamp is accepted and cut to its date part (schema.org `validThrough` is sometimes
/// one), because every date we keep is a calendar day in Singapore as the source wrote it.
pub fn normalize_date(s: &str) -> Result<String, String> {
    let s = s.trim();
    let head = s.get(..10).unwrap_or(s);
    let tail_ok = s.len() == 10 || matches!(s.as_bytes().get(10), Some(b'T' | b't' | b' '));
    match parse_date_parts(head) {
        Some(_) if tail_ok => Ok(head.to_string()),
        _ => Err(format!("`{s}` is not a date like 2025-05-19")),
    }
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`, the form
/// [`normalize_timestamp`] produces, so a clock reading compares with stored versions and its
/// first ten characters are the UTC date (the scraper's `raw/<date>/` prefix, run ids).
pub fn timestamp_from_unix(seconds: i64) -> String {
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    let in_day = seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// Formats milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (RFC 3339, UTC):
/// the `time` of every log line, and how the log tools show CloudWatch's timestamps.
pub fn timestamp_millis_from_unix(millis: i64) -> String {
    let seconds = millis.div_euclid(1000);
    let base = timestamp_from_unix(seconds);
    // `…SSZ` → `…SS.mmmZ`
    format!("{}.{:03}Z", &base[..base.len() - 1], millis.rem_euclid(1000))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (a timestamp is cut to its date part, as in
/// [`normalize_date`]); `None` when it is not a valid date. For day arithmetic on the dates we
/// keep (a post's age in weeks, whether its closing date has passed) without a date-time crate.
pub fn day_number(date: &str) -> Option<i64> {
    let head = normalize_date(date).ok()?;
    let (y, m, d) = parse_date_parts(&head)?;
    Some(days_from_civil(y, m, d))
}

fn parse_date_parts(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = s.get(..4)?.parse().ok()?;
    let month = two_digits(b, 5)?;
    let day = two_digits(b, 8)?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days_in_month).contains(&day).then_some((year, month, day))
}

fn two_digits(b: &[u8], at: usize) -> Option<u32> {
    match (b.get(at), b.get(at + 1)) {
        (Some(t @ b'0'..=b'9'), Some(u @ b'0'..=b'9')) => Some(u32::from(t - b'0') * 10 + u32::from(u - b'0')),
        _ => None,
    }
}

/// Minutes east of UTC, or None when the zone is unreadable.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match zone.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    let b = digits.as_bytes();
    if b.len() != 4 || zone.len() > 6 {
        return None;
    }
    let hours = two_digits(b, 0).filter(|h| *h <= 14)?;
    let minutes = two_digits(b, 2).filter(|m| *m < 60)?;
    Some(sign * (i64::from(hours) * 60 + i64::from(minutes)))
}

// Howard Hinnant's days_from_civil / civil_from_days: exact proleptic Gregorian arithmetic,
// enough to move a timestamp across a day boundary without a date-time crate.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_mcf_shapes_normalise_to_the_same_form() {
        assert_eq!(
            normalize_timestamp("2025-05-16T08:33:52").unwrap(),
            "2025-05-16T08:33:52Z"
        );
        assert_eq!(
            normalize_timestamp("2025-05-19T08:02:16.000Z").unwrap(),
            "2025-05-19T08:02:16Z"
        );
    }

    #[test]
    fn offsets_move_across_day_and_year_boundaries() {
        assert_eq!(
            normalize_timestamp("2025-01-01T07:00:00+08:00").unwrap(),
            "2024-12-31T23:00:00Z"
        );
        assert_eq!(
            normalize_timestamp("2024-02-28T23:30:00-0100").unwrap(),
            "2024-02-29T00:30:00Z"
        );
    }

    #[test]
    fn garbage_is_refused_with_the_value() {
        for bad in [
            "",
            "2025-13-01T00:00:00",
            "2025-02-29T00:00:00",
            "2025-05-16 8:33:52",
            "2025-05-16T08:33:52+8",
        ] {
            let err = normalize_timestamp(bad).unwrap_err();
            assert!(err.contains(bad.trim()), "{err}");
        }
        assert!(normalize_timestamp("2025-05-16T08:33:52.Z").is_err());
        assert!(normalize_timestamp("2025-05-16T08:33:52Zjunk").is_err());
    }

    #[test]
    fn unix_seconds_format_like_normalised_timestamps() {
        assert_eq!(timestamp_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp_from_unix(1_747_384_432), "2025-05-16T08:33:52Z");
        assert_eq!(timestamp_from_unix(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn milliseconds_format_and_read_back() {
        assert_eq!(timestamp_millis_from_unix(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            timestamp_millis_from_unix(1_747_384_432_007),
            "2025-05-16T08:33:52.007Z"
        );
        assert_eq!(timestamp_millis_from_unix(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(unix_millis("2025-05-16T08:33:52.007Z"), Ok(1_747_384_432_007));
        assert_eq!(unix_millis("2025-05-16T16:33:52.5+08:00"), Ok(1_747_384_432_500));
        assert_eq!(unix_millis("2025-05-16T08:33:52.123456Z"), Ok(1_747_384_432_123));
        assert_eq!(unix_millis("2025-05-16T08:33:52"), Ok(1_747_384_432_000));
        assert_eq!(unix_millis("1970-01-02"), Ok(86_400_000));
        assert!(unix_millis("2025-02-30").unwrap_err().contains("2025-02-30"));
        assert!(unix_millis("an hour ago").unwrap_err().contains("an hour ago"));
    }

    #[test]
    fn day_numbers_count_from_the_epoch() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2025-05-19"), Some(20_227));
        assert_eq!(
            day_number("2024-03-01")
                .zip(day_number("2024-02-28"))
                .map(|(a, b)| a - b),
            Some(2)
        );
        assert_eq!(day_number("1969-12-31T23:00:00Z"), Some(-1));
        assert_eq!(day_number("2025-02-29"), None);
        assert_eq!(day_number(""), None);
    }

    #[test]
    fn dates_are_checked_and_timestamps_cut() {
        assert_eq!(normalize_date("2026-04-17").unwrap(), "2026-04-17");
        assert_eq!(normalize_date("2026-04-17T00:00:00Z").unwrap(), "2026-04-17");
        assert!(normalize_date("2026-04-31").is_err());
        assert!(normalize_date("17 Apr 2026").is_err());
        assert!(normalize_date("2026-04-17x").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_text_is_normalised_or_refused_without_panic(s in "\\PC{0,40}") {
            let _ = normalize_timestamp(&s);
            let _ = normalize_date(&s);
        }

        #[test]
        fn normalising_is_idempotent_and_keeps_the_instant(
            y in 1970i64..2100, mo in 1u32..=12, d in 1u32..=28, h in 0u32..24, mi in 0u32..60, s in 0u32..60,
            off_h in 0u32..=14, off_m in prop::sample::select(vec![0u32, 30, 45]), east in any::<bool>(),
        ) {
            let sign = if east { '+' } else { '-' };
            let local = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.123{sign}{off_h:02}:{off_m:02}");
            let utc = normalize_timestamp(&local).expect("valid");
            prop_assert_eq!(unix_millis(&local).expect("valid") % 1000, 123);
            prop_assert_eq!(timestamp_millis_from_unix(unix_millis(&local).expect("valid")), utc.replace('Z', ".123Z"));
            prop_assert_eq!(normalize_timestamp(&utc).expect("valid"), utc.clone());
            let offset = i64::from(off_h * 60 + off_m) * if east { 1 } else { -1 };
            let local_minutes = days_from_civil(y, mo, d) * 1440 + i64::from(h * 60 + mi);
            let (uy, um, ud) = parse_date_parts(&utc[..10]).expect("date");
            let utc_minutes = days_from_civil(uy, um, ud) * 1440
                + i64::from(two_digits(utc.as_bytes(), 11).expect("h") * 60 + two_digits(utc.as_bytes(), 14).expect("m"));
            prop_assert_eq!(local_minutes - offset, utc_minutes);
        }
    }
}

//! `--since` and `--follow-for`: durations (`30s`, `30m`, `1h`, `2d`, `1w`, or several at
//! once: `1h30m`) and, for `--since`, a time (RFC 3339: `2026-11-28T18:00:00Z`,
//! `…+08:00`; or a date, its midnight UTC).

use std::time::Duration;

/// The start, in milliseconds since the epoch, that `--since VALUE` means at `now_ms`.
pub fn start(value: &str, now_ms: i64) -> Result<i64, String> {
    if let Ok(back) = duration(value) {
        let back = i64::try_from(back.as_millis()).unwrap_or(i64::MAX);
        return Ok(now_ms.saturating_sub(back));
    }
    mcfcore::time::unix_millis(value).map_err(|_| {
        format!("`{value}` is neither a duration (30m, 1h, 2d, 1h30m) nor a time (2026-11-28T18:00:00Z, 2026-11-28)")
    })
}

/// A duration like `90s`, `30m`, `1h`, `2d`, `1w` or `1h30m`.
pub fn duration(value: &str) -> Result<Duration, String> {
    let bad = || format!("`{value}` is not a duration like 30s, 30m, 1h, 2d, 1w or 1h30m");
    let text = value.trim();
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s)).ok_or_else(bad)?;
    }
    if !digits.is_empty() {
        // A number without a unit: seconds? minutes? Say which instead of guessing.
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_the_usual_units() {
        let secs = |v| duration(v).map(|d| d.as_secs());
        assert_eq!(secs("30s"), Ok(30));
        assert_eq!(secs("30m"), Ok(1800));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("2d"), Ok(172_800));
        assert_eq!(secs("1w"), Ok(604_800));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs(" 0s "), Ok(0));
        for bad in ["", "1", "h", "1x", "1.5h", "-1h", "1h30", "99999999999999999999w"] {
            assert!(duration(bad).unwrap_err().contains(&format!("`{bad}`")), "{bad}");
        }
    }

    #[test]
    fn since_is_a_duration_back_from_now_or_a_time() {
        let now = 1_800_000_000_000;
        assert_eq!(start("1h", now), Ok(now - 3_600_000));
        assert_eq!(start("2026-11-28T18:00:00.250Z", now), Ok(1_795_888_800_250));
        assert_eq!(start("2026-11-29T02:00:00+08:00", now), Ok(1_795_888_800_000));
        assert_eq!(start("1970-01-02", now), Ok(86_400_000));
        let err = start("yesterday", now).unwrap_err();
        assert!(err.contains("`yesterday`") && err.contains("30m"), "{err}");
    }
}

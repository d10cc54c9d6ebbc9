//! EventBridge schedule expressions, checked the way EventBridge checks them at deploy time, so
//! a bad one is a config error (file, line, key) before any AWS call instead of a failed
//! stack: `rate(value unit)` and six-field `cron(minutes hours day-of-month month day-of-week
//! year)`, in UTC.
//!
//! The rules (EventBridge's documentation, "Schedule expressions for rules"): minutes 0-59,
//! hours 0-23, day-of-month 1-31 with `? L W`, month 1-12 or JAN-DEC, day-of-week 1-7 or
//! SUN-SAT with `? L #`, year 1970-2199; `,` lists, `-` ranges, `/` increments, `*` any; exactly
//! one of day-of-month and day-of-week is `?`. A rate's unit is singular for 1 (`rate(1 hour)`)
//! and plural otherwise (`rate(5 minutes)`).

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Why `expr` is not a schedule EventBridge accepts, or `Ok`.
pub fn check(expr: &str) -> Result<(), String> {
    if let Some(body) = expr.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
        return rate(body);
    }
    if let Some(body) = expr.strip_prefix("cron(").and_then(|e| e.strip_suffix(')')) {
        return cron(body);
    }
    Err(format!(
        "`{expr}` is not an EventBridge schedule: write cron(minutes hours day-of-month month day-of-week year), \
         e.g. cron(0 22 * * ? *), or rate(value unit), e.g. rate(6 hours)"
    ))
}

fn rate(body: &str) -> Result<(), String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    let [value, unit] = parts.as_slice() else {
        return Err(format!("rate({body}) must be `rate(value unit)`, e.g. rate(6 hours)"));
    };
    let n: u64 = value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("rate({body}): the value must be a whole number above 0, not `{value}`"))?;
    let (one, many) = match unit.trim_end_matches('s') {
        "minute" => ("minute", "minutes"),
        "hour" => ("hour", "hours"),
        "day" => ("day", "days"),
        _ => {
            return Err(format!(
                "rate({body}): the unit must be minute(s), hour(s) or day(s), not `{unit}`"
            ));
        }
    };
    let want = if n == 1 { one } else { many };
    if *unit != want {
        return Err(format!(
            "rate({body}): write `rate({n} {want})` (EventBridge wants the singular for 1)"
        ));
    }
    Ok(())
}

/// One cron field: its name, range, the names it accepts for numbers, and the special
/// characters allowed in it.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Characters beyond digits, names, `*`, `,`, `-` and `/`.
    special: &'static str,
}

const FIELDS: [Field; 6] = [
    Field {
        name: "minutes",
        min: 0,
        max: 59,
        names: &[],
        special: "",
    },
    Field {
        name: "hours",
        min: 0,
        max: 23,
        names: &[],
        special: "",
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        special: "?LW",
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        special: "",
    },
    Field {
        name: "day-of-week",
        min: 1,
        max: 7,
        names: &DAYS,
        special: "?L#",
    },
    Field {
        name: "year",
        min: 1970,
        max: 2199,
        names: &[],
        special: "",
    },
];

fn cron(body: &str) -> Result<(), String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    if parts.len() != 6 {
        return Err(format!(
            "cron({body}) has {} field(s); EventBridge wants 6: minutes hours day-of-month month day-of-week year",
            parts.len()
        ));
    }
    for (value, field) in parts.iter().zip(&FIELDS) {
        cron_field(value, field).map_err(|why| format!("cron({body}): {} `{value}`: {why}", field.name))?;
    }
    match (parts[2] == "?", parts[4] == "?") {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err(format!(
            "cron({body}): only one of day-of-month and day-of-week may be `?`"
        )),
        (false, false) => Err(format!(
            "cron({body}): one of day-of-month and day-of-week must be `?` (e.g. cron(0 22 * * ? *))"
        )),
    }
}

fn cron_field(value: &str, f: &Field) -> Result<(), String> {
    if value == "?" {
        return if f.special.contains('?') {
            Ok(())
        } else {
            Err("`?` is only for day-of-month or day-of-week".into())
        };
    }
    if value == "*" {
        return Ok(());
    }
    for item in value.split(',') {
        if item.is_empty() {
            return Err("an empty item in a list".into());
        }
        if f.special.contains('L') && (item == "L" || (f.name == "day-of-month" && item == "LW")) {
            continue;
        }
        if f.special.contains('W') {
            if let Some(day) = item.strip_suffix('W') {
                number(day, f)?;
                continue;
            }
        }
        if f.special.contains('#') {
            if let Some((day, nth)) = item.split_once('#') {
                number(day, f)?;
                match nth.parse::<u32>() {
                    Ok(1..=5) => continue,
                    _ => return Err(format!("`#{nth}`: the week of the month is 1 to 5")),
                }
            }
        }
        if f.special.contains('L') {
            if let Some(day) = item.strip_suffix('L').filter(|d| !d.is_empty()) {
                number(day, f)?;
                continue;
            }
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(s) if s >= 1 && s <= f.max => {}
                _ => return Err(format!("the increment `/{step}` must be 1 to {}", f.max)),
            }
        }
        if range == "*" {
            continue;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a, f)?, number(b, f)?);
                // Day-of-week ranges may wrap (FRI-MON); others must go up.
                if a > b && f.name != "day-of-week" {
                    return Err(format!("the range {a}-{b} goes backwards"));
                }
            }
            None => {
                number(range, f)?;
            }
        }
    }
    Ok(())
}

fn number(text: &str, f: &Field) -> Result<u32, String> {
    if let Some(i) = f.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(f.min + i as u32);
    }
    let n: u32 = text.parse().map_err(|_| {
        if f.names.is_empty() {
            format!("`{text}` is not a number")
        } else {
            format!("`{text}` is neither a number nor one of {}", f.names.join(", "))
        }
    })?;
    if n < f.min || n > f.max {
        return Err(format!("{n} is out of range: {} is {} to {}", f.name, f.min, f.max));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_what_eventbridge_accepts() {
        for ok in [
            "cron(0 22 * * ? *)",
            "cron(0/15 * * * ? *)",
            "cron(0 8 ? * MON-FRI *)",
            "cron(0 8 ? * FRI-MON *)",
            "cron(30 2 L * ? 2027)",
            "cron(0 9 15W * ? *)",
            "cron(0 9 ? * 6#3 *)",
            "cron(0 9 ? * 5L *)",
            "cron(0,30 6-18/2 1,15 JAN,JUL ? *)",
            "rate(1 hour)",
            "rate(5 minutes)",
            "rate(7 days)",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_with_the_field_and_the_reason() {
        let bad = |e: &str| check(e).unwrap_err();
        assert_eq!(
            bad("cron(0 25 * * ? *)"),
            "cron(0 25 * * ? *): hours `25`: 25 is out of range: hours is 0 to 23"
        );
        assert!(bad("cron(0 22 * * *)").contains("has 5 field(s)"));
        assert!(bad("cron(0 22 * * * *)").contains("one of day-of-month and day-of-week must be `?`"));
        assert!(bad("cron(0 22 ? * ? *)").contains("only one of"));
        assert!(bad("cron(60 22 * * ? *)").contains("minutes `60`"));
        assert!(bad("cron(0 22 * 13 ? *)").contains("month `13`"));
        assert!(bad("cron(0 22 * FOO ? *)").contains("neither a number nor one of JAN"));
        assert!(bad("cron(0 22 ? * 8 *)").contains("day-of-week `8`"));
        assert!(bad("cron(0 22 * * ? 1969)").contains("year `1969`"));
        assert!(bad("cron(0 22 0 * ? *)").contains("day-of-month `0`"));
        assert!(bad("cron(0 ? * * ? *)").contains("`?` is only for"));
        assert!(bad("cron(0/0 22 * * ? *)").contains("increment"));
        assert!(bad("cron(0 9 ? * 6#6 *)").contains("week of the month"));
        assert!(bad("cron(0 18-6 * * ? *)").contains("goes backwards"));
        assert!(bad("rate(1 hours)").contains("rate(1 hour)"));
        assert!(bad("rate(5 minute)").contains("rate(5 minutes)"));
        assert!(bad("rate(0 minutes)").contains("above 0"));
        assert!(bad("rate(5 weeks)").contains("the unit must be"));
        assert!(bad("every day").contains("is not an EventBridge schedule"));
    }
}

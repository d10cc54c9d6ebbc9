//! Injected faults: what goes wrong, on which route, for which requests (counted per route
//! from 1 since the server started or its counters were reset).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    /// `POST /v2/search`
    Search,
    /// `GET /v2/jobs/{uuid}`
    Detail,
    /// Anything else (answered 404).
    Other,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Route::Search => "search",
            Route::Detail => "detail",
            Route::Other => "other",
        })
    }
}

/// What happens to a faulty request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this status (403 = blocked, 429, 500, 503 …) with a short JSON message;
    /// `retry_after` in seconds is sent as a `Retry-After` header.
    Status { code: u16, retry_after: Option<u64> },
    /// Wait this long, then answer normally (a slow response, for client timeouts).
    Delay(Duration),
    /// Answer 200 with only the first half of the JSON body.
    Truncate,
    /// Answer 200 with whole, valid JSON that is not a job post (a schema change, or an
    /// error in a 200): the scraper keeps it, the parser must reject it.
    NotAJob,
}

/// A fault on requests `from..=to` of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub route: Route,
    pub from: u64,
    pub to: u64,
    pub kind: FaultKind,
}

impl Fault {
    /// A fault on the `n`-th request of `route` only.
    pub fn nth(route: Route, n: u64, kind: FaultKind) -> Fault {
        Fault {
            route,
            from: n,
            to: n,
            kind,
        }
    }

    /// A fault on every request of `route` from the `n`-th on.
    pub fn from(route: Route, n: u64, kind: FaultKind) -> Fault {
        Fault {
            route,
            from: n,
            to: u64::MAX,
            kind,
        }
    }

    pub fn status(code: u16) -> FaultKind {
        FaultKind::Status {
            code,
            retry_after: None,
        }
    }

    pub(crate) fn applies(&self, route: Route, n: u64) -> bool {
        self.route == route && (self.from..=self.to).contains(&n)
    }
}

/// `ROUTE:N[-M|+]:KIND` as the binary's `--fault` takes it, e.g. `detail:3:500`,
/// `search:1-2:429@5` (Retry-After 5 s), `detail:4+:403`, `detail:2:delay=1500` (ms),
/// `detail:7:truncate`.
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let usage = || {
            format!(
                "`{s}`: a fault is ROUTE:N[-M|+]:KIND, e.g. detail:3:500, search:1-2:429@5, detail:4+:403, detail:2:delay=1500, detail:7:truncate, detail:5:notajob"
            )
        };
        let mut parts = s.splitn(3, ':');
        let (Some(route), Some(range), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(usage());
        };
        let route = match route {
            "search" => Route::Search,
            "detail" => Route::Detail,
            _ => return Err(usage()),
        };
        let number = |t: &str| t.parse::<u64>().map_err(|_| usage());
        let (from, to) = if let Some(start) = range.strip_suffix('+') {
            (number(start)?, u64::MAX)
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a)?, number(b)?)
        } else {
            (number(range)?, number(range)?)
        };
        let kind = if kind == "truncate" {
            FaultKind::Truncate
        } else if kind == "notajob" {
            FaultKind::NotAJob
        } else if let Some(ms) = kind.strip_prefix("delay=") {
            FaultKind::Delay(Duration::from_millis(number(ms)?))
        } else {
            let (code, retry_after) = match kind.split_once('@') {
                Some((code, after)) => (code, Some(number(after)?)),
                None => (kind, None),
            };
            let code = code
                .parse::<u16>()
                .ok()
                .filter(|c| (100..600).contains(c))
                .ok_or_else(usage)?;
            FaultKind::Status { code, retry_after }
        };
        Ok(Fault { route, from, to, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        assert_eq!(
            "detail:3:500".parse(),
            Ok(Fault::nth(Route::Detail, 3, Fault::status(500)))
        );
        assert_eq!(
            "search:1-2:429@5".parse(),
            Ok(Fault {
                route: Route::Search,
                from: 1,
                to: 2,
                kind: FaultKind::Status {
                    code: 429,
                    retry_after: Some(5)
                }
            })
        );
        assert_eq!(
            "detail:4+:403".parse(),
            Ok(Fault::from(Route::Detail, 4, Fault::status(403)))
        );
        assert_eq!(
            "detail:2:delay=1500".parse(),
            Ok(Fault::nth(
                Route::Detail,
                2,
                FaultKind::Delay(Duration::from_millis(1500))
            ))
        );
        assert_eq!(
            "detail:7:truncate".parse(),
            Ok(Fault::nth(Route::Detail, 7, FaultKind::Truncate))
        );
        for bad in [
            "detail:3",
            "jobs:1:500",
            "detail:x:500",
            "detail:1:999",
            "detail:1:delay=soon",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }
}

//! Injected faults: what goes wrong, on which route, for which requests (counted per route
//! from 1 since the server started or its counters were reset). A fault can also target every
//! request whatever its route ([`Route::Any`], counted together), or one post's job detail
//! ([`Fault::post`], counted per post).

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
    /// Every request, whatever its route, numbered together: a fault on `Any` is site-wide
    /// (a block that covers the search and the details alike), and
    /// [`count`](crate::FixtureServer::count)`(Route::Any)` is the number of requests of all
    /// routes. Never the route of a request itself.
    Any,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Route::Search => "search",
            Route::Detail => "detail",
            Route::Other => "other",
            Route::Any => "any",
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
    /// Answer 200 with a small HTML page where JSON was expected: what a bot check (a
    /// verification or captcha page) looks like to an API client.
    VerificationPage,
}

/// A fault on requests `from..=to` of a route, or of one post's job detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub route: Route,
    pub from: u64,
    pub to: u64,
    pub kind: FaultKind,
    /// Only the job detail of this uuid (`route` is then [`Route::Detail`]), and `from..=to`
    /// count that post's requests: one odd post among good ones.
    pub post: Option<String>,
}

impl Fault {
    /// A fault on the `n`-th request of `route` only.
    pub fn nth(route: Route, n: u64, kind: FaultKind) -> Fault {
        Fault {
            route,
            from: n,
            to: n,
            kind,
            post: None,
        }
    }

    /// A fault on every request of `route` from the `n`-th on.
    pub fn from(route: Route, n: u64, kind: FaultKind) -> Fault {
        Fault {
            route,
            from: n,
            to: u64::MAX,
            kind,
            post: None,
        }
    }

    /// A fault on every request for the job detail of `uuid`, and on nothing else.
    pub fn post(uuid: &str, kind: FaultKind) -> Fault {
        Fault {
            route: Route::Detail,
            from: 1,
            to: u64::MAX,
            kind,
            post: Some(uuid.to_string()),
        }
    }

    /// The same fault on requests `from..=to` only (of its route, or of its post).
    pub fn requests(self, from: u64, to: u64) -> Fault {
        Fault { from, to, ..self }
    }

    pub fn status(code: u16) -> FaultKind {
        FaultKind::Status {
            code,
            retry_after: None,
        }
    }

    /// Whether the fault applies to `request`, numbered by what the fault targets.
    pub(crate) fn applies(&self, request: &Numbered<'_>) -> bool {
        let n = match (&self.post, self.route) {
            (Some(uuid), _) => match request.post {
                Some((post, n)) if post == uuid => n,
                _ => return false,
            },
            (None, Route::Any) => request.overall,
            (None, route) if route == request.route => request.on_route,
            (None, _) => return false,
        };
        (self.from..=self.to).contains(&n)
    }
}

/// A request as the faults see it: its route and its number in each count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numbered<'a> {
    pub route: Route,
    /// Among the requests of its route.
    pub on_route: u64,
    /// Among all requests.
    pub overall: u64,
    /// A job detail's uuid and its number among the requests for that post.
    pub post: Option<(&'a str, u64)>,
}

/// `ROUTE:N[-M|+]:KIND` as the binary's `--fault` takes it, e.g. `detail:3:500`,
/// `search:1-2:429@5` (Retry-After 5 s), `detail:4+:403`, `detail:2:delay=1500` (ms),
/// `detail:7:truncate`, `any:6+:verify` (every request from the 6th on, all routes counted
/// together, answers a verification page), `detail/<uuid>:1+:verify` (that post's detail,
/// every time).
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let usage = || {
            format!(
                "`{s}`: a fault is ROUTE:N[-M|+]:KIND with ROUTE search, detail, any or detail/<uuid>, e.g. detail:3:500, search:1-2:429@5, detail:4+:403, detail:2:delay=1500, detail:7:truncate, detail:5:notajob, any:6+:verify, detail/<uuid>:1+:verify"
            )
        };
        let mut parts = s.splitn(3, ':');
        let (Some(route), Some(range), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(usage());
        };
        let (route, post) = match route {
            "search" => (Route::Search, None),
            "detail" => (Route::Detail, None),
            "any" => (Route::Any, None),
            _ => match route.strip_prefix("detail/") {
                Some(uuid) if !uuid.is_empty() && uuid.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    (Route::Detail, Some(uuid.to_string()))
                }
                _ => return Err(usage()),
            },
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
        } else if kind == "verify" {
            FaultKind::VerificationPage
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
        Ok(Fault {
            route,
            from,
            to,
            kind,
            post,
        })
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
                },
                post: None,
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
        assert_eq!(
            "any:6+:verify".parse(),
            Ok(Fault::from(Route::Any, 6, FaultKind::VerificationPage))
        );
        assert_eq!(
            "detail/76d3310ae51348c561935cb2472f2883:1+:verify".parse(),
            Ok(Fault::post(
                "76d3310ae51348c561935cb2472f2883",
                FaultKind::VerificationPage
            ))
        );
        assert_eq!(
            "detail/abc:1-2:403".parse(),
            Ok(Fault::post("abc", Fault::status(403)).requests(1, 2))
        );
        for bad in [
            "detail:3",
            "detail/:1:verify",
            "detail/../x:1:verify",
            "search/abc:1:verify",
            "any:1:verification",
            "jobs:1:500",
            "detail:x:500",
            "detail:1:999",
            "detail:1:delay=soon",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn faults_count_what_they_target() {
        let request = |route, on_route, overall, post| Numbered {
            route,
            on_route,
            overall,
            post,
        };
        // The 3rd detail request, the 7th request overall, the 2nd for post "a".
        let third_detail = request(Route::Detail, 3, 7, Some(("a", 2)));
        assert!(Fault::nth(Route::Detail, 3, Fault::status(500)).applies(&third_detail));
        assert!(!Fault::nth(Route::Search, 3, Fault::status(500)).applies(&third_detail));
        assert!(!Fault::nth(Route::Any, 3, Fault::status(500)).applies(&third_detail));
        assert!(Fault::nth(Route::Any, 7, Fault::status(500)).applies(&third_detail));
        assert!(Fault::from(Route::Any, 5, Fault::status(500)).applies(&request(Route::Search, 1, 5, None)));
        let poisoned = Fault::post("a", FaultKind::VerificationPage);
        assert!(poisoned.applies(&third_detail));
        assert!(!poisoned.applies(&request(Route::Detail, 3, 7, Some(("b", 2)))));
        assert!(!poisoned.applies(&request(Route::Search, 1, 1, None)));
        assert!(!poisoned.clone().requests(1, 1).applies(&third_detail));
        assert!(poisoned.requests(2, 2).applies(&third_detail));
    }
}

//! The retry policy: which failures are worth another attempt, and how long to wait first
//! (exponential backoff with full jitter, never less than the server's `Retry-After`).

use std::time::Duration;

/// Why an attempt did not give a usable document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// An HTTP status other than 2xx; `retry_after` from the `Retry-After` header (seconds).
    Status { code: u16, retry_after: Option<Duration> },
    /// No answer within the timeout (connect, read or whole request).
    Timeout,
    /// The connection failed or broke before the body was complete.
    Connection,
    /// 2xx with a JSON body that ends early.
    Truncated,
    /// 2xx with a body that is not JSON at all.
    NotJson,
    /// 2xx with an HTML page where JSON was expected: a verification (captcha) page.
    VerificationPage,
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Stop trying this request; the run goes on without it.
    GiveUp,
    /// A block sign (403 or a verification page): never retried like a transient failure,
    /// since hammering a block makes it longer. Whether it is a block (stop the run) or one odd
    /// post (ask again, then quarantine it) is [`super::block`]'s decision.
    Blocked,
    /// 404 on a job: the post was taken down. Nothing to retry.
    Gone,
    /// 418: MCF's answer past its 10,000-result cap, the end of a query's pages.
    EndOfResults,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Backoff ceiling before jitter for the first retry; doubles per retry.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited out: the request is given up and the
    /// run reports it (a Fargate task idling for an hour helps nobody).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The verdict after attempt number `attempt` (1 = the first) failed with `failure`;
    /// `jitter` is a uniform random number in `[0, 1)`.
    pub fn verdict(&self, failure: &Failure, attempt: u32, jitter: f64) -> Verdict {
        let retry_after = match failure {
            Failure::Status { code: 403, .. } | Failure::VerificationPage => return Verdict::Blocked,
            Failure::Status { code: 404, .. } => return Verdict::Gone,
            Failure::Status { code: 418, .. } => return Verdict::EndOfResults,
            Failure::Status { code, retry_after } if *code == 408 || *code == 429 || *code >= 500 => *retry_after,
            Failure::Status { .. } => return Verdict::GiveUp,
            Failure::Timeout | Failure::Connection | Failure::Truncated | Failure::NotJson => None,
        };
        if attempt >= self.max_attempts {
            return Verdict::GiveUp;
        }
        match retry_after {
            Some(after) if after > self.max_retry_after => Verdict::GiveUp,
            Some(after) => Verdict::Retry(after.max(self.backoff(attempt, jitter))),
            None => Verdict::Retry(self.backoff(attempt, jitter)),
        }
    }

    /// Full jitter: uniform in `[0, min(cap, base · 2^(attempt-1)))`. Spreading retries over
    /// the whole window keeps parallel clients from retrying in lockstep.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        ceiling.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Reads a `Retry-After` header: delta-seconds only. The HTTP-date form is treated as absent,
/// and backoff applies.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(60),
        }
    }

    fn status(code: u16) -> Failure {
        Failure::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn transient_failures_are_retried_until_the_last_attempt() {
        let p = policy();
        for failure in [
            status(429),
            status(500),
            status(502),
            status(503),
            status(408),
            Failure::Timeout,
            Failure::Connection,
            Failure::Truncated,
            Failure::NotJson,
        ] {
            assert!(matches!(p.verdict(&failure, 1, 0.5), Verdict::Retry(_)), "{failure:?}");
            assert!(matches!(p.verdict(&failure, 3, 0.5), Verdict::Retry(_)), "{failure:?}");
            assert_eq!(p.verdict(&failure, 4, 0.5), Verdict::GiveUp, "{failure:?}");
        }
    }

    #[test]
    fn blocks_gone_posts_and_the_cap_are_never_retried() {
        let p = policy();
        assert_eq!(p.verdict(&status(403), 1, 0.5), Verdict::Blocked);
        assert_eq!(p.verdict(&Failure::VerificationPage, 1, 0.5), Verdict::Blocked);
        assert_eq!(p.verdict(&status(404), 1, 0.5), Verdict::Gone);
        assert_eq!(p.verdict(&status(418), 1, 0.5), Verdict::EndOfResults);
        assert_eq!(p.verdict(&status(400), 1, 0.5), Verdict::GiveUp);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_inside_it() {
        let p = policy();
        let ceilings = [100, 200, 400, 800, 1000, 1000];
        for (i, ceiling) in ceilings.iter().enumerate() {
            let attempt = i as u32 + 1;
            let ceiling = Duration::from_millis(*ceiling);
            assert_eq!(p.backoff(attempt, 0.0), Duration::ZERO);
            assert_eq!(p.backoff(attempt, 1.0), ceiling);
            for k in 0..100 {
                let d = p.backoff(attempt, f64::from(k) / 100.0);
                assert!(
                    d < ceiling || (k == 100 && d == ceiling),
                    "attempt {attempt}: {d:?} ≥ {ceiling:?}"
                );
            }
        }
        // Out-of-range jitter is clamped, huge attempt numbers do not overflow.
        assert_eq!(p.backoff(2, 7.0), Duration::from_millis(200));
        assert_eq!(p.backoff(u32::MAX, 0.5), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_honoured_but_not_beyond_the_limit() {
        let p = policy();
        let after = |s| Failure::Status {
            code: 429,
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(p.verdict(&after(5), 1, 0.5), Verdict::Retry(Duration::from_secs(5)));
        assert_eq!(p.verdict(&after(0), 1, 0.5), Verdict::Retry(Duration::from_millis(50)));
        assert_eq!(p.verdict(&after(61), 1, 0.5), Verdict::GiveUp);
        let busy = Failure::Status {
            code: 503,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(p.verdict(&busy, 2, 0.9), Verdict::Retry(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}

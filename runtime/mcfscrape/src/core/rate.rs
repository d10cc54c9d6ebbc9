//! The token bucket behind the request rate limit, on an explicit clock so it is tested
//! without sleeping. The shell asks it how long to wait and does the waiting.

use std::time::Duration;

/// A token bucket: `rate` tokens per second, at most `burst` saved up, one per request.
///
/// Reservations may drive the bucket below zero, so callers that ask at the same moment are
/// queued one interval apart instead of all waiting for the same refill.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// Requests per second; 0 = no limit.
    rate: f64,
    burst: f64,
    tokens: f64,
    /// Clock reading of the last refill.
    last: Duration,
}

impl TokenBucket {
    /// A full bucket. `rate` ≤ 0 (or not finite) turns the limit off; `burst` is at least 1.
    pub fn new(rate: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        let rate = if rate.is_finite() && rate > 0.0 { rate } else { 0.0 };
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: Duration::ZERO,
        }
    }

    pub fn is_off(&self) -> bool {
        self.rate == 0.0
    }

    /// Takes a token at clock reading `now` (monotonic, from any fixed origin) and returns
    /// how long the caller must wait before sending.
    pub fn reserve(&mut self, now: Duration) -> Duration {
        if self.is_off() {
            return Duration::ZERO;
        }
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn close(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) < Duration::from_micros(10)
    }

    #[test]
    fn two_per_second_spaces_requests_half_a_second_apart() {
        let mut bucket = TokenBucket::new(2.0, 1);
        assert_eq!(bucket.reserve(ms(0)), Duration::ZERO);
        // Three more callers at the same instant queue up behind each other.
        assert!(close(bucket.reserve(ms(0)), ms(500)));
        assert!(close(bucket.reserve(ms(0)), ms(1000)));
        assert!(close(bucket.reserve(ms(0)), ms(1500)));
        // Once the clock has caught up, requests at the rate never wait.
        let mut bucket = TokenBucket::new(2.0, 1);
        for k in 0..10 {
            assert_eq!(bucket.reserve(ms(500 * k)), Duration::ZERO, "request {k}");
        }
        // A request 200 ms after the last one waits the remaining 300 ms.
        assert!(close(bucket.reserve(ms(4700)), ms(300)));
    }

    #[test]
    fn idle_time_saves_up_to_the_burst_only() {
        let mut bucket = TokenBucket::new(1.0, 3);
        for _ in 0..3 {
            assert_eq!(bucket.reserve(ms(0)), Duration::ZERO);
        }
        assert!(close(bucket.reserve(ms(0)), ms(1000)));
        // After a long idle the bucket holds 3, not 60.
        for _ in 0..3 {
            assert_eq!(bucket.reserve(ms(60_000)), Duration::ZERO);
        }
        assert!(close(bucket.reserve(ms(60_000)), ms(1000)));
    }

    #[test]
    fn rate_zero_is_off_and_a_clock_going_back_is_harmless() {
        let mut off = TokenBucket::new(0.0, 1);
        assert!(off.is_off());
        assert!((0..1000).all(|_| off.reserve(ms(0)) == Duration::ZERO));
        assert!(TokenBucket::new(f64::NAN, 1).is_off());
        let mut bucket = TokenBucket::new(10.0, 1);
        assert_eq!(bucket.reserve(ms(1000)), Duration::ZERO);
        assert!(close(bucket.reserve(ms(900)), ms(100)));
    }
}

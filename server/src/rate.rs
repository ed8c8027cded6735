//! A small rate limit for the public, unauthenticated checks (a printed letter's code): a
//! token bucket per client address, and one for the whole service, so guessing codes from
//! many addresses is slow too.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Instant;

/// Most addresses remembered; past this the memory starts again from empty.
const MAX_ADDRESSES: usize = 100_000;

/// Token buckets per address, and one for everyone (kept under the unspecified address).
pub struct RateLimit {
    per_address: f64,
    everyone: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// At most `per_address` checks a minute from one address (and as many at once), and
    /// `everyone` a minute from all together.
    pub fn per_minute(per_address: u32, everyone: u32) -> Self {
        Self {
            per_address: f64::from(per_address),
            everyone: f64::from(everyone),
            buckets: Mutex::default(),
        }
    }

    /// Takes one check for `address`; false when it must wait.
    pub fn allow(&self, address: IpAddr) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        if buckets.len() >= MAX_ADDRESSES {
            buckets.clear();
        }
        let now = Instant::now();
        let all = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let mut take = |key: IpAddr, capacity: f64| {
            let bucket = buckets.entry(key).or_insert(Bucket {
                tokens: capacity,
                at: now,
            });
            let refilled = now.duration_since(bucket.at).as_secs_f64() * capacity / 60.0;
            let tokens = (bucket.tokens + refilled).min(capacity);
            *bucket = Bucket { tokens, at: now };
            if tokens >= 1.0 {
                bucket.tokens -= 1.0;
                true
            } else {
                false
            }
        };
        take(address, self.per_address) && take(all, self.everyone)
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimit;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn one_address_is_held_back_and_another_is_not() {
        let limit = RateLimit::per_minute(3, 100);
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        assert!((0..3).all(|_| limit.allow(a)));
        assert!(!limit.allow(a));
        assert!(limit.allow(b));
    }

    #[test]
    fn everyone_together_is_held_back_too() {
        let limit = RateLimit::per_minute(10, 4);
        let hosts = (1..=5).map(|n| IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)));
        let allowed = hosts.filter(|h| limit.allow(*h)).count();
        assert_eq!(allowed, 4);
    }
}

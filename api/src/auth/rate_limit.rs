//! Login throttling per account (failed attempts) and per client IP (all attempts).
//! In memory: each `serve` process limits on its own, which bounds guessing per process.

use crate::config::LoginLimits;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Window {
    hits: Vec<Instant>,
}

impl Window {
    fn prune(&mut self, now: Instant, span: Duration) {
        self.hits.retain(|t| now.duration_since(*t) < span);
    }

    /// Seconds until the oldest hit leaves the window, when the window is full.
    fn blocked_for(&mut self, now: Instant, span: Duration, max: u32) -> Option<u64> {
        self.prune(now, span);
        if self.hits.len() as u32 >= max {
            let oldest = self.hits.first().copied().unwrap_or(now);
            let left = span.saturating_sub(now.duration_since(oldest));
            Some(left.as_secs().max(1))
        } else {
            None
        }
    }
}

const PRUNE_ABOVE: usize = 10_000;

pub struct LoginLimiter {
    limits: LoginLimits,
    accounts: Mutex<HashMap<String, Window>>,
    ips: Mutex<HashMap<IpAddr, Window>>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            accounts: Mutex::default(),
            ips: Mutex::default(),
        }
    }

    /// Counts this attempt against the IP and returns Some(retry_after_secs) when it must be refused.
    pub fn check(&self, account: &str, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let mut ips = self.ips.lock().unwrap_or_else(|e| e.into_inner());
        // Forget idle clients now and then, so the map does not grow with every address ever seen.
        if ips.len() > PRUNE_ABOVE {
            let span = self.limits.ip_window;
            ips.retain(|_, w| {
                w.prune(now, span);
                !w.hits.is_empty()
            });
        }
        let ip_window = ips.entry(ip).or_default();
        if let Some(wait) =
            ip_window.blocked_for(now, self.limits.ip_window, self.limits.ip_attempts)
        {
            return Some(wait);
        }
        ip_window.hits.push(now);
        drop(ips);
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts.get_mut(&account.to_lowercase()).and_then(|w| {
            w.blocked_for(
                now,
                self.limits.account_window,
                self.limits.account_failures,
            )
        })
    }

    pub fn record_failure(&self, account: &str) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let window = accounts.entry(account.to_lowercase()).or_default();
        window.prune(Instant::now(), self.limits.account_window);
        window.hits.push(Instant::now());
    }

    pub fn record_success(&self, account: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&account.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(account_failures: u32, ip_attempts: u32) -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            account_failures,
            account_window: Duration::from_secs(900),
            ip_attempts,
            ip_window: Duration::from_secs(60),
        })
    }

    #[test]
    fn account_locks_after_the_allowed_failures_and_success_resets_it() {
        let l = limiter(3, 100);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check("Ada", ip).is_none());
            l.record_failure("ada");
        }
        let wait = l.check("ada", ip).expect("locked");
        assert!(wait > 800 && wait <= 900, "{wait}");
        assert!(l.check("bob", ip).is_none(), "other accounts unaffected");
        l.record_success("ada");
        assert!(l.check("ada", ip).is_none());
    }

    #[test]
    fn idle_addresses_are_forgotten() {
        let l = LoginLimiter::new(LoginLimits {
            account_failures: 5,
            account_window: Duration::from_secs(900),
            ip_attempts: 5,
            ip_window: Duration::ZERO,
        });
        for i in 0..(PRUNE_ABOVE as u32 + 10) {
            l.check("x", IpAddr::from(i.to_be_bytes()));
        }
        assert!(l.ips.lock().unwrap().len() <= PRUNE_ABOVE + 1);
    }

    #[test]
    fn ip_is_limited_across_accounts() {
        let l = limiter(100, 2);
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check("a", ip).is_none());
        assert!(l.check("b", ip).is_none());
        assert!(l.check("c", ip).is_some());
        assert!(l.check("c", "10.0.0.3".parse().unwrap()).is_none());
    }
}

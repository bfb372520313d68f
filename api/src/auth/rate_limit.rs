//! Sign-in attempts per client address (all accounts), in memory: each `serve` process limits
//! on its own. The per-account counts are shared, in the database (`domain::sign_in_guard`).

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
    ips: Mutex<HashMap<IpAddr, Window>>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            ips: Mutex::default(),
        }
    }

    /// Counts this attempt against the address and returns Some(retry_after_secs) when it must
    /// be refused.
    pub fn check_address(&self, ip: IpAddr) -> Option<u64> {
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
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(ip_attempts: u32, ip_window: Duration) -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            ip_attempts,
            ip_window,
            ..LoginLimits::default()
        })
    }

    #[test]
    fn idle_addresses_are_forgotten() {
        let l = limiter(5, Duration::ZERO);
        for i in 0..(PRUNE_ABOVE as u32 + 10) {
            l.check_address(IpAddr::from(i.to_be_bytes()));
        }
        assert!(l.ips.lock().unwrap().len() <= PRUNE_ABOVE + 1);
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let l = limiter(2, Duration::from_secs(60));
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check_address(ip).is_none());
        assert!(l.check_address(ip).is_none());
        assert!(l.check_address(ip).is_some());
        assert!(l.check_address("10.0.0.3".parse().unwrap()).is_none());
    }
}

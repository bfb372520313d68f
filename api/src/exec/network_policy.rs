//! Which network destinations Provisio may connect to on a user's behalf.
//!
//! Git URLs, provider endpoints and webhook URLs are typed by users; without a policy they would
//! let anyone who may create a project make the server talk to its own loopback services, the LAN
//! or a cloud metadata endpoint (SSRF). Private destinations are refused for Git and webhooks by
//! default and allowed for providers by default (a self-hosted Proxmox sits on a LAN); an
//! allowlist of networks and host names is always allowed. A destination is checked when it is
//! saved and again, after DNS resolution, right before every connection, because a name may start
//! resolving elsewhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateNetworks {
    Allow,
    Deny,
}

impl std::str::FromStr for PrivateNetworks {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allow" => Ok(PrivateNetworks::Allow),
            "deny" => Ok(PrivateNetworks::Deny),
            other => Err(format!("`{other}` is neither allow nor deny")),
        }
    }
}

/// What a connection is for: each purpose has its own setting for private networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Git,
    Provider,
    Webhook,
}

/// One entry of `PROVISIO_NETWORK_ALLOWLIST`: a network in CIDR notation (or one address), or a
/// host name compared exactly, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Network { base: IpAddr, prefix: u8 },
    Host(String),
}

fn full_width(ip: IpAddr) -> u32 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

impl std::fmt::Display for Allowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // One address reads as itself, as it was most likely written.
            Allowed::Network { base, prefix } if u32::from(*prefix) == full_width(*base) => {
                write!(f, "{base}")
            }
            Allowed::Network { base, prefix } => write!(f, "{base}/{prefix}"),
            Allowed::Host(name) => f.write_str(name),
        }
    }
}

impl Allowed {
    pub fn parse(entry: &str) -> Result<Allowed, String> {
        let entry = entry.trim();
        let (addr, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        if let Ok(base) = addr.parse::<IpAddr>() {
            let max = if base.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("`{entry}`: the prefix must be 0 to {max}"))?,
            };
            return Ok(Allowed::Network { base, prefix });
        }
        let name_ok = prefix.is_none()
            && !entry.is_empty()
            && entry.len() <= 253
            && !entry.starts_with('-')
            && entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        if name_ok {
            Ok(Allowed::Host(entry.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{entry}` is neither a network (10.1.0.0/16) nor a host name"
            ))
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let Allowed::Network { base, prefix } = self else {
            return false;
        };
        let bits = |ip: IpAddr| -> (u128, u32) {
            match ip {
                IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        if base.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let ((b, width), (a, _)) = (bits(*base), bits(ip));
        let host_bits = width - u32::from(*prefix);
        let mask = if host_bits >= 128 {
            0
        } else {
            !0u128 << host_bits
        };
        (a & mask) == (b & mask)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub git: PrivateNetworks,
    pub providers: PrivateNetworks,
    pub webhooks: PrivateNetworks,
    pub allowlist: Vec<Allowed>,
}

impl Default for NetworkPolicy {
    fn default() -> Self {
        NetworkPolicy {
            git: PrivateNetworks::Deny,
            providers: PrivateNetworks::Allow,
            webhooks: PrivateNetworks::Deny,
            allowlist: vec![],
        }
    }
}

/// Addresses that are not the public Internet: loopback, RFC 1918, link-local (the cloud metadata
/// service 169.254.169.254 among them), CGNAT, unspecified, multicast, broadcast, reserved and
/// documentation ranges, IPv6 ULA (fd00:ec2::254, AWS's metadata), link- and site-local, and
/// IPv4 addresses dressed as IPv6 (mapped, compatible, NAT64, 6to4) unless what they carry is
/// public.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

fn private_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |ip: Ipv6Addr| {
        let o = ip.octets();
        Ipv4Addr::new(o[12], o[13], o[14], o[15])
    };
    if ip.to_ipv4_mapped().is_some() {
        // A URL has no reason to spell an IPv4 address this way.
        return true;
    }
    if segments[..6] == [0; 6] {
        // ::, ::1 and IPv4-compatible addresses.
        return true;
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return private_v4(embedded_v4(ip));
    }
    if segments[0] == 0x2002 {
        let o = ip.octets();
        return private_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    let first = segments[0];
    (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first & 0xff00) == 0xff00 // multicast
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation
}

/// Why a destination was refused; a distinct type so HTTP clients can tell a refusal from a
/// network failure in an error chain.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// A host and its addresses after the policy said yes. `pinned` holds the addresses that were
/// checked (empty when private networks are allowed and nothing needed checking).
#[derive(Debug, Clone)]
pub struct Cleared {
    pub pinned: Vec<IpAddr>,
}

impl NetworkPolicy {
    fn private_allowed(&self, purpose: Purpose) -> bool {
        match purpose {
            Purpose::Git => self.git == PrivateNetworks::Allow,
            Purpose::Provider => self.providers == PrivateNetworks::Allow,
            Purpose::Webhook => self.webhooks == PrivateNetworks::Allow,
        }
    }

    fn host_listed(&self, host: &str) -> bool {
        self.allowlist
            .iter()
            .any(|a| matches!(a, Allowed::Host(h) if h.eq_ignore_ascii_case(host)))
    }

    /// May `purpose` connect to `ip`?
    pub fn address_allowed(&self, purpose: Purpose, ip: IpAddr) -> bool {
        self.private_allowed(purpose)
            || !is_private(ip)
            || self.allowlist.iter().any(|a| a.contains(ip))
    }

    fn refusal(purpose: Purpose, host: &str, ip: IpAddr) -> Refused {
        let setting = match purpose {
            Purpose::Git => "PROVISIO_GIT_PRIVATE_NETWORKS",
            Purpose::Provider => "PROVISIO_PROVIDER_PRIVATE_NETWORKS",
            Purpose::Webhook => "PROVISIO_WEBHOOK_PRIVATE_NETWORKS",
        };
        let named = if host.trim_matches(['[', ']']) == ip.to_string() {
            format!("{ip}")
        } else {
            format!("{host} ({ip})")
        };
        Refused(format!(
            "{named} is a private, loopback or link-local address, which this server does not \
             connect to (see {setting} and PROVISIO_NETWORK_ALLOWLIST)"
        ))
    }

    /// A literal address in `host` (IPv6 may be bracketed): refused when the policy says so.
    /// Names pass; they are judged after resolution.
    pub fn check_literal(&self, purpose: Purpose, host: &str) -> Result<(), Refused> {
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) if !self.address_allowed(purpose, ip) => Err(Self::refusal(purpose, host, ip)),
            _ => Ok(()),
        }
    }

    /// Resolves `host` and checks every address it has, right before a connection. A name that
    /// does not resolve is refused too: the connection could not go anywhere else.
    pub async fn resolve(
        &self,
        purpose: Purpose,
        host: &str,
        port: u16,
    ) -> Result<Cleared, Refused> {
        let bare = host.trim_matches(['[', ']']);
        if self.private_allowed(purpose) || self.host_listed(bare) {
            return Ok(Cleared { pinned: vec![] });
        }
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.check_literal(purpose, host)?;
            return Ok(Cleared { pinned: vec![ip] });
        }
        let addresses: Vec<IpAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| Refused(format!("{bare} does not resolve: {e}")))?
            .map(|a| a.ip())
            .collect();
        if addresses.is_empty() {
            return Err(Refused(format!("{bare} has no addresses")));
        }
        if let Some(ip) = addresses
            .iter()
            .find(|ip| !self.address_allowed(purpose, **ip))
        {
            return Err(Self::refusal(purpose, bare, *ip));
        }
        Ok(Cleared { pinned: addresses })
    }

    /// The check when a destination is saved: literal addresses and names that resolve to a
    /// refused address are refused; a name that does not resolve now (offline, not created yet)
    /// is accepted, since every connection checks again.
    pub async fn check_on_save(
        &self,
        purpose: Purpose,
        host: &str,
        port: u16,
    ) -> Result<(), Refused> {
        match self.resolve(purpose, host, port).await {
            Err(e) if e.0.contains("does not resolve") || e.0.contains("has no addresses") => {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// [`Self::check_on_save`] for an HTTP(S) URL; one that names no host passes (its own
    /// validation refuses it).
    pub async fn check_url_on_save(&self, purpose: Purpose, url: &str) -> Result<(), Refused> {
        match url_destination(url) {
            Some((host, port)) => self.check_on_save(purpose, &host, port).await,
            None => Ok(()),
        }
    }

    /// [`Self::check_literal`] for an HTTP(S) URL: the check a guarded client's resolver cannot
    /// make, since a literal address is never resolved.
    pub fn check_url_literal(&self, purpose: Purpose, url: &str) -> Result<(), Refused> {
        match url_destination(url) {
            Some((host, _)) => self.check_literal(purpose, &host),
            None => Ok(()),
        }
    }
}

/// The host and port an HTTP(S) URL connects to (`None` when it is empty or not a URL).
pub fn url_destination(url: &str) -> Option<(String, u16)> {
    let url = reqwest::Url::parse(url.trim()).ok()?;
    Some((url.host_str()?.to_owned(), url.port_or_known_default()?))
}

/// The host and port a Git URL (validated by `shared::projects::git_url`) connects to.
pub fn git_destination(url: &str) -> Option<(String, u16)> {
    let authority_port = |authority: &str, default: u16| {
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host_port.starts_with('[') {
            let (host, rest) = host_port.split_once(']')?;
            let port = rest.strip_prefix(':').and_then(|p| p.parse().ok());
            return Some((format!("{host}]"), port.unwrap_or(default)));
        }
        match host_port.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => Some((h.to_owned(), p.parse().ok()?)),
            _ => Some((host_port.to_owned(), default)),
        }
    };
    if let Some(rest) = url.strip_prefix("https://") {
        return authority_port(rest.split('/').next()?, 443);
    }
    if let Some(rest) = url.strip_prefix("ssh://") {
        return authority_port(rest.split('/').next()?, 22);
    }
    // scp-like user@host:path
    let (_, rest) = url.split_once('@')?;
    let (host, _) = rest.split_once(':')?;
    Some((host.to_owned(), 22))
}

/// A reqwest DNS resolver that refuses names resolving to an address the policy denies, so a
/// provider endpoint (or a redirect from it) cannot be turned towards a private network by DNS.
struct GuardedResolver {
    policy: Arc<NetworkPolicy>,
    purpose: Purpose,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let purpose = self.purpose;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let listed = policy.host_listed(&host);
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !listed {
                if let Some(bad) = found
                    .iter()
                    .find(|a| !policy.address_allowed(purpose, a.ip()))
                {
                    return Err(Box::new(NetworkPolicy::refusal(purpose, &host, bad.ip()))
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Applies the policy to an HTTP client: names are resolved through the policy, and redirects
/// to a refused literal address (which skip DNS) are stopped. Literal addresses of the first
/// request are checked by the caller with [`NetworkPolicy::check_literal`].
pub fn guard_client(
    builder: reqwest::ClientBuilder,
    policy: &NetworkPolicy,
    purpose: Purpose,
) -> reqwest::ClientBuilder {
    let policy = Arc::new(policy.clone());
    let for_redirects = policy.clone();
    builder
        .dns_resolver(Arc::new(GuardedResolver { policy, purpose }))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error(Refused("more than 10 redirects".into()));
            }
            let host = attempt.url().host_str().unwrap_or_default().to_owned();
            match for_redirects.check_literal(purpose, &host) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        }))
}

/// The refusal somewhere in an error's chain of causes, if the policy caused it.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.0.clone());
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allowlist_entries_read_back_as_written() {
        for entry in [
            "127.0.0.0/8",
            "::1",
            "10.0.0.7",
            "fd00::/8",
            "git.example.com",
        ] {
            assert_eq!(Allowed::parse(entry).unwrap().to_string(), entry);
        }
    }

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            assert!(is_private(ip(private)), "{private} counted as public");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.0.1.1",
            "2a01:4f8::1",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(!is_private(ip(public)), "{public} counted as private");
        }
    }

    #[test]
    fn allowlist_entries_match_networks_and_names() {
        let lan = Allowed::parse("10.1.0.0/16").unwrap();
        assert!(lan.contains(ip("10.1.200.3")));
        assert!(!lan.contains(ip("10.2.0.1")));
        assert!(!lan.contains(ip("::1")));
        let one = Allowed::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = Allowed::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(Allowed::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert_eq!(
            Allowed::parse("Git.LAN").unwrap(),
            Allowed::Host("git.lan".into())
        );
        for bad in ["10.0.0.0/33", "::/129", "git.lan/8", "-x", "a b", ""] {
            assert!(Allowed::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_policy_applies_per_purpose_and_honours_the_allowlist() {
        let policy = NetworkPolicy {
            allowlist: vec![Allowed::parse("10.1.0.0/16").unwrap()],
            ..Default::default()
        };
        assert!(!policy.address_allowed(Purpose::Git, ip("127.0.0.1")));
        assert!(!policy.address_allowed(Purpose::Git, ip("169.254.169.254")));
        assert!(policy.address_allowed(Purpose::Git, ip("10.1.0.9")));
        assert!(policy.address_allowed(Purpose::Git, ip("8.8.8.8")));
        assert!(policy.address_allowed(Purpose::Provider, ip("127.0.0.1")));
        assert!(policy.check_literal(Purpose::Git, "[::1]").is_err());
        assert!(policy
            .check_literal(Purpose::Git, "git.example.com")
            .is_ok());
    }

    #[tokio::test]
    async fn names_are_judged_by_what_they_resolve_to() {
        let policy = NetworkPolicy::default();
        let refused = policy.resolve(Purpose::Git, "localhost", 22).await;
        assert!(refused.is_err_and(|e| e.0.contains("localhost (")));
        assert!(policy
            .check_on_save(Purpose::Git, "localhost", 22)
            .await
            .is_err());
        assert!(policy
            .check_on_save(Purpose::Git, "no-such-host.invalid", 22)
            .await
            .is_ok());
        assert!(policy
            .resolve(Purpose::Git, "no-such-host.invalid", 22)
            .await
            .is_err());
        let listed = NetworkPolicy {
            allowlist: vec![Allowed::parse("localhost").unwrap()],
            ..Default::default()
        };
        assert!(listed.resolve(Purpose::Git, "LOCALHOST", 22).await.is_ok());
    }

    #[test]
    fn git_destinations_are_read_from_every_url_form() {
        let cases = [
            ("https://git.example.com/a.git", "git.example.com", 443),
            (
                "https://git.example.com:8443/a.git",
                "git.example.com",
                8443,
            ),
            ("ssh://git@127.0.0.1:2222/srv/a.git", "127.0.0.1", 2222),
            ("ssh://[::1]:2222/srv/a.git", "[::1]", 2222),
            ("ssh://host/srv/a.git", "host", 22),
            ("git@github.com:acme/shop.git", "github.com", 22),
        ];
        for (url, host, port) in cases {
            assert_eq!(git_destination(url), Some((host.to_owned(), port)), "{url}");
        }
    }
}

//! The Proxmox fake and the sshd test host as the guests it builds: an account at the fake, and
//! the keys that let Provisio (and a test) sign in to the host.

use super::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;

pub struct Pve {
    pub url: String,
    pub direct_url: String,
    pub token: String,
    pub ca: String,
    pub node: String,
    pub ct_template: String,
    pub template: String,
}

pub fn pve() -> Option<Pve> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(Pve {
            url: var("PROVISIO_FAKEPVE_URL")?,
            direct_url: var("PROVISIO_FAKEPVE_DIRECT_URL")?,
            token: var("PROVISIO_FAKEPVE_TOKEN")?,
            ca: var("PROVISIO_FAKEPVE_CA")?,
            node: var("PROVISIO_FAKEPVE_NODE")?,
            ct_template: var("PROVISIO_FAKEPVE_CT_TEMPLATE")?,
            template: var("PROVISIO_FAKEPVE_TEMPLATE_VMID")?,
        })
    })();
    if found.is_none() {
        assert!(
            var("PROVISIO_REQUIRE_FAKES").is_none(),
            "PROVISIO_REQUIRE_FAKES is set but the Proxmox fake's variables are missing"
        );
        eprintln!("skipped: the Proxmox fake is not running (see scripts/fakes.sh)");
    }
    found
}

/// A Proxmox account at the fake whose guests are reached at the sshd test host; `images` is
/// the catalog's order of `debian-12` (a VM template) and `debian-ct` (an LXC template).
pub async fn pve_account(
    app: &TestApp,
    ssh_port: u16,
    f: &Pve,
    name: &str,
    images: &[&str],
) -> String {
    let pin = f.url.starts_with("https").then(|| super::pem_sha256(&f.ca));
    let res =         app.post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": name, "kind": "proxmox", "endpoint": f.url,
                   "catalog": {"currency": "EUR", "locations": [f.node], "images": images,
                               "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                   "settings": {"images": {"debian-12": f.template, "debian-ct": f.ct_template},
                                "ssh_port": ssh_port, "ready_timeout_secs": 30, "tls_fingerprint": pin},
                   "credentials": {"api_token": f.token}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Provisioned servers are reached with the platform's service key: the test host accepts it.
pub async fn authorize_service_key(app: &TestApp) {
    let (service_public, _) = api::domain::ssh_keys::service_key(&app.state)
        .await
        .unwrap();
    authorize_key(&service_public);
}

/// Lets `public` sign in to the sshd test host. Tests run in parallel processes that share the
/// host's `authorized_keys` while sshd reads it, so the key is appended in one `O_APPEND` write:
/// rewriting the file would leave it empty for a moment (another test's sign-in then fails) or
/// drop a key another test appended in between.
pub fn authorize_key(public: &str) {
    use std::io::Write;
    let authorized = Path::new(&std::env::var("PROVISIO_TEST_SSH_CLIENT_KEY").unwrap())
        .parent()
        .unwrap()
        .join("authorized_keys");
    if std::fs::read_to_string(&authorized)
        .unwrap()
        .contains(public.trim())
    {
        return;
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&authorized)
        .unwrap()
        .write_all(format!("{}\n", public.trim()).as_bytes())
        .unwrap();
}

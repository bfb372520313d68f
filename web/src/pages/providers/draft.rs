//! What the account form's inputs hold, and its conversions from an account and to the
//! request that creates or replaces one.

use crate::components::form::{pair_rows, rows_to_pairs, Row};
use shared::providers::{
    Catalog, CreateProviderAccount, ProviderAccount, ProviderCredentials, ProviderKind,
    ProviderSettings, ServerTypeOffer, SizeLimits, UnitPrices,
};
use shared::validation::FieldErrors;

/// `4.59` → 459 cents; at most two decimals, never negative, never through a float.
fn parse_cents(text: &str) -> Result<Option<i64>, ()> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(());
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) || frac.len() > 2 || whole.len() > 12 {
        return Err(());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| ())?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| ())? * 10,
        _ => frac.parse().map_err(|_| ())?,
    };
    Ok(Some(whole * 100 + frac))
}

fn cents_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The server-type editor's rows for these offers.
pub(super) fn type_rows(types: &[ServerTypeOffer]) -> Vec<Row> {
    types
        .iter()
        .map(|t| {
            Row::new(vec![
                t.name.clone(),
                t.cpu.to_string(),
                t.ram_mb.to_string(),
                t.disk_gb.to_string(),
                t.monthly_price_cents.map(cents_text).unwrap_or_default(),
            ])
        })
        .collect()
}

fn list_text(items: &[String]) -> String {
    items.join(", ")
}

fn text_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn opt_text(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn opt_num<T: ToString>(n: Option<T>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// Adds a message under `field` unless it already has one.
fn complain(problems: &mut FieldErrors, field: &str, message: &str) {
    problems
        .entry(field.to_owned())
        .or_insert_with(|| vec![message.to_owned()]);
}
/// The account form as typed: numbers, amounts and lists as their text.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct AccountDraft {
    pub name: String,
    pub kind: String,
    pub endpoint: String,
    pub api_token: String,
    pub private_key: String,
    pub image_map: Vec<Row>,
    pub storage: String,
    pub bridge: String,
    pub tls_fingerprint: String,
    pub ca_pem: String,
    pub ssh_user: String,
    pub ssh_port: String,
    pub wait_for_ssh: bool,
    pub ready_timeout: String,
    pub terraform_module: String,
    pub currency: String,
    pub locations: String,
    pub images: String,
    pub types: Vec<Row>,
    pub max_cpu: String,
    pub max_ram: String,
    pub max_disk: String,
    pub cpu_price: String,
    pub ram_price: String,
    pub disk_price: String,
}

impl AccountDraft {
    /// The form for `account`, or the blank form of a new Hetzner account. Credentials are
    /// write-only, so their inputs always start empty.
    pub fn from_dto(account: Option<&ProviderAccount>) -> Self {
        let s = account.map(|a| a.settings.clone()).unwrap_or_default();
        let c = account.map(|a| a.catalog.clone());
        let limits = c.as_ref().and_then(|c| c.custom_limits.clone());
        let prices = c.as_ref().and_then(|c| c.unit_prices.clone());
        Self {
            name: account.map(|a| a.name.clone()).unwrap_or_default(),
            kind: account
                .map(|a| a.kind)
                .unwrap_or(ProviderKind::Hetzner)
                .as_str()
                .to_string(),
            endpoint: account.map(|a| a.endpoint.clone()).unwrap_or_default(),
            api_token: String::new(),
            private_key: String::new(),
            image_map: pair_rows(&s.images),
            storage: opt_text(&s.storage),
            bridge: opt_text(&s.bridge),
            tls_fingerprint: opt_text(&s.tls_fingerprint),
            ca_pem: opt_text(&s.ca_pem),
            ssh_user: opt_text(&s.ssh_user),
            ssh_port: opt_num(s.ssh_port),
            wait_for_ssh: s.wait_for_ssh.unwrap_or(true),
            ready_timeout: opt_num(s.ready_timeout_secs),
            terraform_module: opt_text(&s.terraform_module),
            currency: c
                .as_ref()
                .map(|c| c.currency.clone())
                .unwrap_or_else(|| "EUR".into()),
            locations: c
                .as_ref()
                .map(|c| list_text(&c.locations))
                .unwrap_or_default(),
            images: c.as_ref().map(|c| list_text(&c.images)).unwrap_or_default(),
            types: c
                .as_ref()
                .map(|c| type_rows(&c.server_types))
                .unwrap_or_default(),
            max_cpu: opt_num(limits.as_ref().map(|l| l.max_cpu)),
            max_ram: opt_num(limits.as_ref().map(|l| l.max_ram_mb)),
            max_disk: opt_num(limits.as_ref().map(|l| l.max_disk_gb)),
            cpu_price: prices
                .as_ref()
                .map(|p| cents_text(p.cpu_cents))
                .unwrap_or_default(),
            ram_price: prices
                .as_ref()
                .map(|p| cents_text(p.ram_gb_cents))
                .unwrap_or_default(),
            disk_price: prices
                .as_ref()
                .map(|p| cents_text(p.disk_gb_cents))
                .unwrap_or_default(),
        }
    }

    /// The account to send, or every problem found: the form's own (numbers, amounts, rows)
    /// first, then the server's rules for the fields that have none yet.
    pub fn to_request(&self) -> Result<CreateProviderAccount, FieldErrors> {
        let mut problems = FieldErrors::new();
        let text = |s: &str| {
            let t = s.trim().to_owned();
            (!t.is_empty()).then_some(t)
        };
        let number = |t: &str, field: &str, problems: &mut FieldErrors| {
            let t = t.trim();
            if t.is_empty() {
                None
            } else {
                match t.parse::<u32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        complain(problems, field, "must be a whole number");
                        None
                    }
                }
            }
        };
        let kind_now = ProviderKind::parse(&self.kind).unwrap_or(ProviderKind::Hetzner);
        let images_map = rows_to_pairs(&self.image_map, "image").unwrap_or_else(|m| {
            complain(&mut problems, "image_map", &m);
            Default::default()
        });
        let port = number(&self.ssh_port, "ssh_port", &mut problems);
        if port.is_some_and(|p| p == 0 || p > 65535) {
            complain(&mut problems, "ssh_port", "use a port from 1 to 65535");
        }
        let settings = ProviderSettings {
            images: images_map,
            storage: text(&self.storage),
            bridge: text(&self.bridge),
            tls_fingerprint: text(&self.tls_fingerprint),
            ca_pem: text(&self.ca_pem),
            ssh_user: text(&self.ssh_user),
            ssh_port: port.and_then(|p| u16::try_from(p).ok()),
            // Only the exception is stored: waiting is the default.
            wait_for_ssh: (!self.wait_for_ssh).then_some(false),
            ready_timeout_secs: number(&self.ready_timeout, "ready_timeout_secs", &mut problems),
            terraform_module: text(&self.terraform_module),
        };
        let mut server_types = Vec::new();
        for row in self.types.iter().filter(|r| !r.is_blank()) {
            let n = |i: usize| row.cell(i).parse::<u32>().ok();
            match (row.cell(0), n(1), n(2), n(3), parse_cents(row.cell(4))) {
                ("", ..) => complain(
                    &mut problems,
                    "server_types",
                    "every server type needs a name",
                ),
                (name, Some(cpu), Some(ram_mb), Some(disk_gb), Ok(price)) => {
                    server_types.push(ServerTypeOffer {
                        name: name.to_owned(),
                        cpu,
                        ram_mb,
                        disk_gb,
                        monthly_price_cents: price,
                    })
                }
                (name, _, _, _, Err(())) => complain(
                    &mut problems,
                    "server_types",
                    &format!("{name}: the price is an amount like 4.59"),
                ),
                (name, ..) => complain(
                    &mut problems,
                    "server_types",
                    &format!("{name}: vCPU, RAM and disk are whole numbers"),
                ),
            }
        }
        let limit_values = [
            number(&self.max_cpu, "custom_limits", &mut problems),
            number(&self.max_ram, "custom_limits", &mut problems),
            number(&self.max_disk, "custom_limits", &mut problems),
        ];
        let custom_limits = match limit_values {
            [None, None, None] => None,
            [Some(max_cpu), Some(max_ram_mb), Some(max_disk_gb)] => Some(SizeLimits {
                max_cpu,
                max_ram_mb,
                max_disk_gb,
            }),
            _ => {
                complain(
                    &mut problems,
                    "custom_limits",
                    "fill in all three limits, or none",
                );
                None
            }
        };
        let price_values = [
            parse_cents(&self.cpu_price),
            parse_cents(&self.ram_price),
            parse_cents(&self.disk_price),
        ];
        let unit_prices = match price_values {
            [Ok(None), Ok(None), Ok(None)] => None,
            [Ok(Some(cpu_cents)), Ok(Some(ram_gb_cents)), Ok(Some(disk_gb_cents))] => {
                Some(UnitPrices {
                    cpu_cents,
                    ram_gb_cents,
                    disk_gb_cents,
                })
            }
            _ => {
                complain(
                    &mut problems,
                    "unit_prices",
                    "fill in all three prices (amounts like 0.50), or none",
                );
                None
            }
        };
        let catalog = Catalog {
            currency: self.currency.trim().to_ascii_uppercase(),
            locations: text_list(&self.locations),
            images: text_list(&self.images),
            server_types,
            custom_limits,
            unit_prices,
        };
        // Only the credential the kind uses is sent, whatever the hidden input still holds.
        let token = text(&self.api_token).filter(|_| kind_now != ProviderKind::Ssh);
        let key = text(&self.private_key).filter(|_| kind_now == ProviderKind::Ssh);
        let credentials = (token.is_some() || key.is_some()).then_some(ProviderCredentials {
            api_token: token,
            private_key: key,
        });
        let body = CreateProviderAccount {
            name: self.name.trim().to_owned(),
            kind: kind_now,
            endpoint: if kind_now == ProviderKind::Ssh {
                String::new()
            } else {
                self.endpoint.trim().to_owned()
            },
            catalog,
            settings,
            credentials,
        };
        for (k, v) in body.validate().err().unwrap_or_default() {
            problems.entry(k).or_insert(v);
        }
        problems.is_empty().then_some(body).ok_or(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn proxmox() -> ProviderAccount {
        ProviderAccount {
            id: uuid::Uuid::new_v4(),
            name: "Lab cluster".into(),
            kind: ProviderKind::Proxmox,
            endpoint: "https://pve.example.com:8006".into(),
            catalog: Catalog {
                currency: "EUR".into(),
                locations: vec!["rack-1".into(), "rack-2".into()],
                images: vec!["debian-12".into()],
                server_types: vec![ServerTypeOffer {
                    name: "small".into(),
                    cpu: 2,
                    ram_mb: 2048,
                    disk_gb: 20,
                    monthly_price_cents: Some(459),
                }],
                custom_limits: Some(SizeLimits {
                    max_cpu: 8,
                    max_ram_mb: 16384,
                    max_disk_gb: 200,
                }),
                unit_prices: Some(UnitPrices {
                    cpu_cents: 150,
                    ram_gb_cents: 50,
                    disk_gb_cents: 5,
                }),
            },
            settings: ProviderSettings {
                images: BTreeMap::from([("debian-12".into(), "9000".into())]),
                storage: Some("local-lvm".into()),
                ssh_port: Some(2222),
                wait_for_ssh: Some(false),
                ready_timeout_secs: Some(900),
                ..Default::default()
            },
            has_credentials: true,
            created_at: chrono::Utc::now(),
            ready: true,
            not_ready_reason: None,
            last_tested_at: None,
            last_test_ok: None,
        }
    }

    #[test]
    fn amounts_are_read_as_cents_without_floats() {
        assert_eq!(parse_cents("4.59"), Ok(Some(459)));
        assert_eq!(parse_cents(" 0,5 "), Ok(Some(50)));
        assert_eq!(parse_cents(".25"), Ok(Some(25)));
        assert_eq!(parse_cents("12"), Ok(Some(1200)));
        assert_eq!(parse_cents(""), Ok(None));
        assert_eq!(parse_cents("4.599"), Err(()));
        assert_eq!(parse_cents("-1"), Err(()));
        assert_eq!(parse_cents("."), Err(()));
        assert_eq!(cents_text(459), "4.59");
        assert_eq!(cents_text(5), "0.05");
    }

    #[test]
    fn a_stored_account_comes_back_unchanged_from_its_form() {
        let account = proxmox();
        let draft = AccountDraft::from_dto(Some(&account));
        assert_eq!(draft.kind, "proxmox");
        assert_eq!(draft.locations, "rack-1, rack-2");
        assert_eq!(draft.ssh_port, "2222");
        assert!(!draft.wait_for_ssh);
        assert_eq!(draft.cpu_price, "1.50");
        assert_eq!(draft.types[0].cells, ["small", "2", "2048", "20", "4.59"]);
        assert_eq!(draft.api_token, "");
        let body = draft.to_request().unwrap();
        assert_eq!(body.name, account.name);
        assert_eq!(body.kind, account.kind);
        assert_eq!(body.endpoint, account.endpoint);
        assert_eq!(body.catalog, account.catalog);
        assert_eq!(body.settings, account.settings);
        // Empty credential inputs keep the stored ones.
        assert_eq!(body.credentials, None);
    }

    #[test]
    fn a_new_account_starts_as_hetzner_in_euros_waiting_for_ssh() {
        let draft = AccountDraft::from_dto(None);
        assert_eq!(draft.kind, "hetzner");
        assert_eq!(draft.currency, "EUR");
        assert!(draft.wait_for_ssh);
        assert!(draft.types.is_empty() && draft.image_map.is_empty());
    }

    #[test]
    fn ssh_hosts_send_the_private_key_but_no_endpoint_or_token() {
        let mut draft = AccountDraft::from_dto(None);
        draft.name = " Bare metal ".into();
        draft.kind = "ssh".into();
        draft.endpoint = "https://left.over".into();
        draft.api_token = "left-over".into();
        draft.private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n".into();
        let body = draft.to_request().unwrap();
        assert_eq!(body.name, "Bare metal");
        assert_eq!(body.kind, ProviderKind::Ssh);
        assert_eq!(body.endpoint, "");
        let credentials = body.credentials.unwrap();
        assert_eq!(credentials.api_token, None);
        assert_eq!(
            credentials.private_key.as_deref(),
            Some(draft.private_key.trim())
        );
    }

    #[test]
    fn half_filled_sizes_and_unreadable_rows_are_refused_per_field() {
        let mut draft = AccountDraft::from_dto(Some(&proxmox()));
        draft.max_ram.clear();
        draft.disk_price = "free".into();
        draft.ssh_port = "70000".into();
        draft.types = vec![
            Row::new(vec![
                "big".into(),
                "four".into(),
                "8192".into(),
                "80".into(),
                String::new(),
            ]),
            Row::new(vec![String::new(), "1".into()]),
        ];
        let problems = draft.to_request().unwrap_err();
        assert_eq!(
            problems["custom_limits"],
            ["fill in all three limits, or none"]
        );
        assert_eq!(
            problems["unit_prices"],
            ["fill in all three prices (amounts like 0.50), or none"]
        );
        assert_eq!(problems["ssh_port"], ["use a port from 1 to 65535"]);
        // The first problem of a field is the one shown.
        assert_eq!(
            problems["server_types"],
            ["big: vCPU, RAM and disk are whole numbers"]
        );
    }
}

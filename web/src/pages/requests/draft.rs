//! What the new-request form holds, and its conversion to the request it files.

use shared::providers::Catalog;
use shared::requests::CreateServerRequest;
use shared::validation::FieldErrors;

/// Messages about `ssh_public_keys[2]` go under the keys field, naming the line.
pub(super) fn fold_keys(errors: FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for (key, msgs) in errors {
        match key
            .strip_prefix("ssh_public_keys[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(i) => out
                .entry("ssh_public_keys".into())
                .or_default()
                .extend(msgs.into_iter().map(|m| format!("line {}: {m}", i + 1))),
            None => out.entry(key).or_default().extend(msgs),
        }
    }
    out
}

/// A catalog without server types, only limits: the size is typed in.
pub(super) fn custom_only(catalog: &Catalog) -> bool {
    catalog.server_types.is_empty() && catalog.custom_limits.is_some()
}

/// What the new-request form holds; the team, account, location, type and image as the
/// option the select shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RequestDraft {
    pub hostname: String,
    pub team: String,
    pub account: String,
    pub location: String,
    pub server_type: String,
    pub image: String,
    pub cpu: String,
    pub ram: String,
    pub disk: String,
    pub purpose: String,
    /// One public key per line.
    pub keys: String,
    pub notes: String,
    pub subscription: String,
}

impl RequestDraft {
    /// The request to send, or the problems found (key messages under the keys field).
    /// `catalog` is the chosen account's: it says whether a type or a size is sent, and the
    /// size must fit it.
    pub fn to_request(
        &self,
        catalog: Option<&Catalog>,
    ) -> Result<CreateServerRequest, FieldErrors> {
        let num = |s: &str| s.trim().parse::<u32>().ok();
        let is_custom = catalog.is_some_and(custom_only);
        let st = (!self.server_type.is_empty()).then(|| self.server_type.clone());
        let body = CreateServerRequest {
            hostname: self.hostname.trim().to_owned(),
            team_id: self.team.parse().unwrap_or_default(),
            provider_account_id: self.account.parse().unwrap_or_default(),
            location: self.location.clone(),
            server_type: st.clone().filter(|_| !is_custom),
            cpu: if is_custom { num(&self.cpu) } else { None },
            ram_mb: if is_custom { num(&self.ram) } else { None },
            disk_gb: if is_custom { num(&self.disk) } else { None },
            image: self.image.clone(),
            purpose: self.purpose.trim().to_owned(),
            ssh_public_keys: self
                .keys
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            notes: self.notes.trim().to_owned(),
            subscription_id: self.subscription.parse().ok(),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if body.team_id.is_nil() {
            problems.insert("team_id".into(), vec!["Choose a team".into()]);
        }
        if body.provider_account_id.is_nil() {
            problems.insert(
                "provider_account_id".into(),
                vec!["Choose a provider account".into()],
            );
        } else if let Some(Err((field, msg))) = catalog.map(|c| {
            c.resolve(
                st.as_deref(),
                num(&self.cpu),
                num(&self.ram),
                num(&self.disk),
            )
        }) {
            problems.insert(field.into(), vec![msg]);
        }
        let problems = fold_keys(problems);
        problems.is_empty().then_some(body).ok_or(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::providers::{ServerTypeOffer, SizeLimits};
    use uuid::Uuid;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5dGVzdGtleXRlc3RrZXk ada@laptop";

    fn catalog(types: bool) -> Catalog {
        Catalog {
            currency: "EUR".into(),
            locations: vec!["fsn1".into()],
            images: vec!["debian-12".into()],
            server_types: types
                .then(|| ServerTypeOffer {
                    name: "cx22".into(),
                    cpu: 2,
                    ram_mb: 4096,
                    disk_gb: 40,
                    monthly_price_cents: Some(459),
                })
                .into_iter()
                .collect(),
            custom_limits: Some(SizeLimits {
                max_cpu: 4,
                max_ram_mb: 8192,
                max_disk_gb: 100,
            }),
            unit_prices: None,
        }
    }

    fn draft() -> RequestDraft {
        RequestDraft {
            hostname: " web-01.example.com ".into(),
            team: Uuid::new_v4().to_string(),
            account: Uuid::new_v4().to_string(),
            location: "fsn1".into(),
            server_type: "cx22".into(),
            image: "debian-12".into(),
            cpu: "2".into(),
            purpose: " the shop's front end ".into(),
            keys: format!("\n  {KEY}  \n\n"),
            ..Default::default()
        }
    }

    #[test]
    fn a_catalog_with_server_types_sends_the_type_and_no_size() {
        let draft = draft();
        let body = draft.to_request(Some(&catalog(true))).unwrap();
        assert_eq!(body.hostname, "web-01.example.com");
        assert_eq!(body.team_id.to_string(), draft.team);
        assert_eq!(body.server_type.as_deref(), Some("cx22"));
        assert_eq!((body.cpu, body.ram_mb, body.disk_gb), (None, None, None));
        assert_eq!(body.purpose, "the shop's front end");
        assert_eq!(body.ssh_public_keys, [KEY]);
        assert_eq!(body.subscription_id, None);
    }

    #[test]
    fn a_catalog_of_limits_only_sends_the_typed_size_and_checks_it() {
        let mut draft = draft();
        draft.server_type.clear();
        draft.ram = "2048".into();
        draft.disk = " 20 ".into();
        let body = draft.to_request(Some(&catalog(false))).unwrap();
        assert_eq!(body.server_type, None);
        assert_eq!(
            (body.cpu, body.ram_mb, body.disk_gb),
            (Some(2), Some(2048), Some(20))
        );
        draft.cpu = "8".into();
        let problems = draft.to_request(Some(&catalog(false))).unwrap_err();
        assert_eq!(problems["cpu"], ["must be between 1 and 4"]);
    }

    #[test]
    fn missing_choices_and_bad_key_lines_are_refused_under_their_fields() {
        let mut draft = draft();
        draft.team.clear();
        draft.account.clear();
        draft.keys = format!("{KEY}\nssh-dss AAAA");
        let problems = draft.to_request(None).unwrap_err();
        assert_eq!(problems["team_id"], ["Choose a team"]);
        assert_eq!(
            problems["provider_account_id"],
            ["Choose a provider account"]
        );
        assert_eq!(
            problems["ssh_public_keys"],
            ["line 2: must start with a key type such as ssh-ed25519 or ssh-rsa"]
        );
    }
}

//! Self-registration: whether people may create their own account, what it takes before they
//! can sign in (a confirmed e-mail address, an administrator's approval, or both), and where a
//! new account lands (the team and role the administrator chose).

use crate::validation::{self as v, FieldErrors, Validator};
use crate::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What a new account needs before it may sign in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// Nobody registers; administrators create accounts.
    #[default]
    Off,
    /// A link sent to the address must be followed.
    Email,
    /// An administrator lets each account in.
    Approval,
    /// Both: the address confirmed, then an administrator's approval.
    EmailAndApproval,
}

impl RegistrationMode {
    pub const ALL: [RegistrationMode; 4] = [
        RegistrationMode::Off,
        RegistrationMode::Email,
        RegistrationMode::Approval,
        RegistrationMode::EmailAndApproval,
    ];

    pub fn needs_email(self) -> bool {
        matches!(
            self,
            RegistrationMode::Email | RegistrationMode::EmailAndApproval
        )
    }

    pub fn needs_approval(self) -> bool {
        matches!(
            self,
            RegistrationMode::Approval | RegistrationMode::EmailAndApproval
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationMode::Off => "off",
            RegistrationMode::Email => "email",
            RegistrationMode::Approval => "approval",
            RegistrationMode::EmailAndApproval => "email_and_approval",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RegistrationMode::Off => "Off: administrators create accounts",
            RegistrationMode::Email => "Open, once the e-mail address is confirmed",
            RegistrationMode::Approval => "Open, once an administrator approves",
            RegistrationMode::EmailAndApproval => {
                "Open, once the e-mail address is confirmed and an administrator approves"
            }
        }
    }

    pub fn parse(text: &str) -> Option<RegistrationMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// The administrator's choice. A new account joins `team_id` (the Global team when `None`) with
/// `role`; registration never hands out the administrator role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegistrationPolicy {
    #[serde(default)]
    pub mode: RegistrationMode,
    #[serde(default)]
    pub team_id: Option<Uuid>,
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Requester
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        RegistrationPolicy {
            mode: RegistrationMode::Off,
            team_id: None,
            role: default_role(),
        }
    }
}

impl RegistrationPolicy {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check(
            "role",
            if self.role == Role::Admin {
                Err("registration cannot make administrators: choose another role".into())
            } else {
                Ok(())
            },
        );
        val.finish()
    }
}

/// What the sign-in page needs to know, asked before anyone signs in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegistrationInfo {
    pub open: bool,
    pub needs_email: bool,
    pub needs_approval: bool,
}

impl From<&RegistrationPolicy> for RegistrationInfo {
    fn from(policy: &RegistrationPolicy) -> Self {
        RegistrationInfo {
            open: policy.mode != RegistrationMode::Off,
            needs_email: policy.mode.needs_email(),
            needs_approval: policy.mode.needs_approval(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9][a-z0-9._-]*$")
    )]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 254, format = Email))]
    pub email: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 120))]
    pub full_name: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 128))]
    pub password: String,
}

impl RegisterRequest {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("username", v::username(&self.username))
            .check("email", v::email(&self.email))
            .check("full_name", v::display_text(&self.full_name, 0, 120))
            .check("password", v::password(&self.password));
        val.finish()
    }
}

/// Where a new registration stands, and the sentence the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStep {
    /// A link was sent to the address.
    ConfirmEmail,
    /// An administrator has to approve the account.
    AwaitApproval,
    /// The account may sign in.
    Ready,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Registered {
    pub next: RegistrationStep,
    pub message: String,
}

/// The token from the link in the confirmation e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfirmEmail {
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub token: String,
}

pub const LINK_TOKEN_MAX: usize = 128;

impl ConfirmEmail {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check(
            "token",
            if self.token.trim().is_empty() || self.token.chars().count() > LINK_TOKEN_MAX {
                Err("is not the token of a link we sent: open the link from the e-mail".into())
            } else {
                Ok(())
            },
        );
        val.finish()
    }
}

/// Asks for a new confirmation link for an address not confirmed yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResendConfirmation {
    #[cfg_attr(feature = "openapi", schema(max_length = 254, format = Email))]
    pub email: String,
}

impl ResendConfirmation {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("email", v::email(self.email.trim()));
        val.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_to_hand_out_the_administrator_role() {
        let policy = RegistrationPolicy {
            role: Role::Admin,
            ..RegistrationPolicy::default()
        };
        let errors = policy.validate().unwrap_err();
        assert!(errors.contains_key("role"), "{errors:?}");
        assert!(RegistrationPolicy::default().validate().is_ok());
    }

    #[test]
    fn each_mode_says_what_it_asks_for() {
        let info = |mode| {
            RegistrationInfo::from(&RegistrationPolicy {
                mode,
                ..RegistrationPolicy::default()
            })
        };
        assert!(!info(RegistrationMode::Off).open);
        assert!(info(RegistrationMode::Email).needs_email);
        assert!(!info(RegistrationMode::Email).needs_approval);
        assert!(info(RegistrationMode::EmailAndApproval).needs_approval);
        for mode in RegistrationMode::ALL {
            assert_eq!(RegistrationMode::parse(mode.as_str()), Some(mode));
        }
    }
}

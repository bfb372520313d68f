//! Approval policies: ordered steps with approvers and an any/all rule, an optional auto-approval
//! rule, and their pure evaluation (`policy`).

use crate::roles::Role;
use crate::validation::{FieldErrors, Validator};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRule {
    /// One eligible approver suffices.
    Any,
    /// Every eligible approver must approve.
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Approvers {
    Role { role: Role },
    Users { user_ids: Vec<Uuid> },
}

/// Who a step waits for, as a sentence part: "any administrator", "all 2 named approvers".
pub fn approvers_text(approvers: &Approvers, rule: ApprovalRule) -> String {
    let all = rule == ApprovalRule::All;
    match approvers {
        Approvers::Role { role } => format!(
            "{} {}",
            if all { "every" } else { "any" },
            role.label().to_ascii_lowercase()
        ),
        Approvers::Users { user_ids } => format!(
            "{} {} named approver{}",
            if all { "all" } else { "one of" },
            user_ids.len(),
            if user_ids.len() == 1 { "" } else { "s" }
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalStep {
    pub approvers: Approvers,
    pub rule: ApprovalRule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AutoApproveRule {
    pub max_cpu: Option<u32>,
    /// The estimate must be known and at most this many cents per month.
    pub max_monthly_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalPolicy {
    pub steps: Vec<ApprovalStep>,
    pub auto_approve: Option<AutoApproveRule>,
}

impl ApprovalPolicy {
    /// Used when a team has none: one step, any administrator.
    pub fn default_policy() -> Self {
        Self {
            steps: vec![ApprovalStep {
                approvers: Approvers::Role { role: Role::Admin },
                rule: ApprovalRule::Any,
            }],
            auto_approve: None,
        }
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check(
            "steps",
            if self.steps.is_empty() || self.steps.len() > 10 {
                Err("must have 1 to 10 steps".into())
            } else {
                Ok(())
            },
        );
        for (i, step) in self.steps.iter().enumerate() {
            if let Approvers::Users { user_ids } = &step.approvers {
                val.check(
                    &format!("steps[{i}].approvers"),
                    if user_ids.is_empty() {
                        Err("name at least one user".into())
                    } else {
                        Ok(())
                    },
                );
            }
        }
        if let Some(rule) = &self.auto_approve {
            val.check(
                "auto_approve",
                if rule.max_cpu.is_none() && rule.max_monthly_cents.is_none() {
                    Err("set a cpu or a monthly cost limit".into())
                } else if rule.max_monthly_cents.is_some_and(|c| c < 0) {
                    Err("the monthly limit cannot be negative".into())
                } else {
                    Ok(())
                },
            );
        }
        val.finish()
    }
}

/// Pure policy evaluation.
pub mod policy {
    use super::*;

    /// May a holder of `roles` named `user_id` act on `step`? Admins always may (override).
    pub fn is_eligible(step: &ApprovalStep, user_id: Uuid, roles: &[Role]) -> bool {
        roles.contains(&Role::Admin)
            || match &step.approvers {
                Approvers::Role { role } => roles.contains(role),
                Approvers::Users { user_ids } => user_ids.contains(&user_id),
            }
    }

    /// Is the step complete? `eligible` lists every person who may approve it (for `All`);
    /// an administrator's approval completes any step.
    pub fn step_done(
        step: &ApprovalStep,
        eligible: &[Uuid],
        approved_by: &[Uuid],
        admin_approved: bool,
    ) -> bool {
        if admin_approved {
            return true;
        }
        match step.rule {
            ApprovalRule::Any => approved_by.iter().any(|u| eligible.contains(u)),
            ApprovalRule::All => {
                !eligible.is_empty() && eligible.iter().all(|u| approved_by.contains(u))
            }
        }
    }

    pub fn auto_approves(rule: &AutoApproveRule, cpu: u32, monthly_cents: Option<i64>) -> bool {
        let cpu_ok = rule.max_cpu.is_none_or(|max| cpu <= max);
        let cost_ok = match rule.max_monthly_cents {
            None => true,
            Some(max) => monthly_cents.is_some_and(|c| c <= max),
        };
        cpu_ok && cost_ok
    }
}

#[cfg(test)]
mod tests {
    use super::policy::*;
    use super::*;

    fn step(approvers: Approvers, rule: ApprovalRule) -> ApprovalStep {
        ApprovalStep { approvers, rule }
    }

    #[test]
    fn policy_evaluation_table() {
        let alice = Uuid::from_u128(1);
        let bob = Uuid::from_u128(2);
        let carol = Uuid::from_u128(3);
        let named = step(
            Approvers::Users {
                user_ids: vec![alice, bob],
            },
            ApprovalRule::All,
        );
        let any_tech = step(
            Approvers::Role {
                role: Role::TechnicalAgent,
            },
            ApprovalRule::Any,
        );
        type Case<'a> = (&'a ApprovalStep, &'a [Uuid], &'a [Uuid], bool, bool);
        let cases: [Case; 7] = [
            (&named, &[alice, bob], &[alice], false, false),
            (&named, &[alice, bob], &[alice, bob], false, true),
            (&named, &[alice, bob], &[carol], true, true),
            (&any_tech, &[carol], &[carol], false, true),
            (&any_tech, &[carol], &[], false, false),
            (&any_tech, &[carol], &[alice], false, false),
            (
                &step(Approvers::Users { user_ids: vec![] }, ApprovalRule::All),
                &[],
                &[],
                false,
                false,
            ),
        ];
        for (i, (s, eligible, approved, admin, expected)) in cases.iter().enumerate() {
            assert_eq!(
                step_done(s, eligible, approved, *admin),
                *expected,
                "case {i}"
            );
        }
        assert!(is_eligible(&named, alice, &[Role::Requester]));
        assert!(!is_eligible(&named, carol, &[Role::TechnicalAgent]));
        assert!(is_eligible(&named, carol, &[Role::Admin]));
        assert!(is_eligible(&any_tech, carol, &[Role::TechnicalAgent]));
    }

    #[test]
    fn auto_approval_table() {
        let rule = AutoApproveRule {
            max_cpu: Some(2),
            max_monthly_cents: Some(1000),
        };
        assert!(auto_approves(&rule, 2, Some(1000)));
        assert!(!auto_approves(&rule, 3, Some(500)));
        assert!(!auto_approves(&rule, 1, Some(1001)));
        assert!(
            !auto_approves(&rule, 1, None),
            "unknown cost never auto-approves a cost rule"
        );
        let cpu_only = AutoApproveRule {
            max_cpu: Some(4),
            max_monthly_cents: None,
        };
        assert!(auto_approves(&cpu_only, 4, None));
    }
}

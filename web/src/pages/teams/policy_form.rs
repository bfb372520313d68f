//! Editing a team's approval chain and its auto-approval limits.

use crate::api;
use crate::components::feedback::use_toasts;
use crate::components::form::{
    apply_problem, Errors, FieldError, FormActions, FormBanner, TextField,
};
use crate::task;
use leptos::prelude::*;
use shared::dto::User;
use shared::policies::{ApprovalPolicy, ApprovalRule, ApprovalStep, Approvers, AutoApproveRule};
use shared::roles::Role;
use shared::validation::FieldErrors;
use uuid::Uuid;

/// Euros as typed ("5", "5.5", "5,50") to cents, without floats.
pub(super) fn euro_cents(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once(['.', ',']).unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return None;
    }
    if frac.len() > 2 || whole.len() > 12 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole * 100 + frac)
}

pub(super) fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The policy form's values as typed: the steps as chosen, the limits as text.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct PolicyDraft {
    pub steps: Vec<ApprovalStep>,
    pub auto: bool,
    pub max_cpu: String,
    pub max_eur: String,
}

impl PolicyDraft {
    pub fn from_dto(policy: &ApprovalPolicy) -> Self {
        let rule = policy.auto_approve.as_ref();
        Self {
            steps: policy.steps.clone(),
            auto: rule.is_some(),
            max_cpu: rule
                .and_then(|r| r.max_cpu)
                .map(|c| c.to_string())
                .unwrap_or_default(),
            max_eur: rule
                .and_then(|r| r.max_monthly_cents)
                .map(euros)
                .unwrap_or_default(),
        }
    }

    /// An empty limit is no limit. The limits are checked even while auto-approval is off: their
    /// text stays in the form and comes back with the checkbox.
    pub fn to_request(&self) -> Result<ApprovalPolicy, FieldErrors> {
        let mut problems = FieldErrors::new();
        let mut limit = |field: &str, text: &str, parse: &dyn Fn(&str) -> Option<i64>| {
            let t = text.trim().trim_start_matches('€').trim().to_owned();
            if t.is_empty() {
                return None;
            }
            let v = parse(&t);
            if v.is_none() {
                problems.insert(field.into(), vec!["Enter a number, e.g. 5 or 5.50".into()]);
            }
            v
        };
        let cpu = limit("max_cpu", &self.max_cpu, &|t| {
            t.parse::<u32>().ok().map(i64::from)
        });
        let cents = limit("max_monthly_cents", &self.max_eur, &euro_cents);
        let body = ApprovalPolicy {
            steps: self.steps.clone(),
            auto_approve: self.auto.then(|| AutoApproveRule {
                max_cpu: cpu.map(|c| c as u32),
                max_monthly_cents: cents,
            }),
        };
        if let Err(e) = body.validate() {
            problems.extend(e);
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems)
        }
    }
}

/// One step being edited; its fields are signals so only adding, removing or moving a
/// step re-renders the list.
#[derive(Clone, Copy)]
struct StepDraft {
    named: RwSignal<bool>,
    role: RwSignal<Role>,
    user_ids: RwSignal<Vec<Uuid>>,
    all: RwSignal<bool>,
}

impl StepDraft {
    fn new(step: &ApprovalStep) -> Self {
        let (named, role, ids) = match &step.approvers {
            Approvers::Role { role } => (false, *role, Vec::new()),
            Approvers::Users { user_ids } => (true, Role::Admin, user_ids.clone()),
        };
        Self {
            named: RwSignal::new(named),
            role: RwSignal::new(role),
            user_ids: RwSignal::new(ids),
            all: RwSignal::new(step.rule == ApprovalRule::All),
        }
    }

    fn step(&self) -> ApprovalStep {
        ApprovalStep {
            approvers: if self.named.get_untracked() {
                Approvers::Users {
                    user_ids: self.user_ids.get_untracked(),
                }
            } else {
                Approvers::Role {
                    role: self.role.get_untracked(),
                }
            },
            rule: if self.all.get_untracked() {
                ApprovalRule::All
            } else {
                ApprovalRule::Any
            },
        }
    }
}

/// A labelled select; not generic, so each use adds no new view types to the wasm.
fn choice(
    id: String,
    label: &'static str,
    options: Vec<(&'static str, &'static str)>,
    value: Signal<&'static str>,
    set: Callback<String>,
) -> AnyView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id prop:value=move || value.get() on:change=move |ev| set.run(event_target_value(&ev))>
                {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
        </div>
    }
    .into_any()
}

#[component]
pub(super) fn PolicyForm(
    team_id: Uuid,
    policy: ApprovalPolicy,
    users: Signal<Vec<User>>,
    #[prop(into)] on_done: Callback<ApprovalPolicy>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let draft = PolicyDraft::from_dto(&policy);
    let steps = RwSignal::new(draft.steps.iter().map(StepDraft::new).collect::<Vec<_>>());
    let auto = RwSignal::new(draft.auto);
    let max_cpu = RwSignal::new(draft.max_cpu);
    let max_eur = RwSignal::new(draft.max_eur);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = PolicyDraft {
            steps: steps.get_untracked().iter().map(StepDraft::step).collect(),
            auto: auto.get_untracked(),
            max_cpu: max_cpu.get_untracked(),
            max_eur: max_eur.get_untracked(),
        };
        banner.set(None);
        let body = match draft.to_request() {
            Ok(body) => body,
            Err(problems) => {
                errors.set(problems);
                banner.set(Some("Please correct the highlighted fields.".into()));
                return;
            }
        };
        errors.set(FieldErrors::new());
        let n = body.steps.len();
        let saved = body.clone();
        task::run(
            pending,
            async move {
                api::put_no_content(
                    &format!("/api/teams/{team_id}/approval-policy"),
                    Some(&body),
                )
                .await
            },
            move |result| match result {
                Ok(()) => {
                    toasts.success("Approval policy saved");
                    on_done.run(saved);
                }
                Err(e) => {
                    let keys: Vec<String> =
                        (0..n).map(|i| format!("steps[{i}].approvers")).collect();
                    let mut known: Vec<&str> = keys.iter().map(String::as_str).collect();
                    known.extend(["steps", "auto_approve", "max_cpu", "max_monthly_cents"]);
                    banner.set(apply_problem(&e, errors, &known));
                }
            },
        );
    };

    let move_up = move |i: usize| steps.update(|s| s.swap(i - 1, i));
    view! {
        <form class="form policy-form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            {move || {
                let count = steps.with(Vec::len);
                steps
                    .get()
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let id = move |what: &str| format!("policy-step-{i}-{what}");
                        let key = format!("steps[{i}]");
                        view! {
                            <fieldset class="field policy-step">
                                <legend>{format!("Step {}", i + 1)}</legend>
                                <div class="form-grid">
                                    {choice(
                                        id("kind"),
                                        "Approvers",
                                        vec![("role", "Role"), ("users", "Named users")],
                                        Signal::derive(move || if d.named.get() { "users" } else { "role" }),
                                        Callback::new(move |v: String| d.named.set(v == "users")),
                                    )}
                                    {choice(
                                        id("rule"),
                                        "Rule",
                                        vec![("any", "Any one approves"), ("all", "All approve")],
                                        Signal::derive(move || if d.all.get() { "all" } else { "any" }),
                                        Callback::new(move |v: String| d.all.set(v == "all")),
                                    )}
                                </div>
                                {move || {
                                    if d.named.get() {
                                        view! {
                                            <div class="checkbox-list" role="group" aria-label="Approvers">
                                                {users
                                                    .get()
                                                    .into_iter()
                                                    .map(|u| {
                                                        let uid = u.id;
                                                        view! {
                                                            <label class="check">
                                                                <input
                                                                    type="checkbox"
                                                                    prop:checked=move || d.user_ids.with(|s| s.contains(&uid))
                                                                    on:change=move |ev| {
                                                                        let on = event_target_checked(&ev);
                                                                        d.user_ids
                                                                            .update(|s| {
                                                                                s.retain(|x| *x != uid);
                                                                                if on {
                                                                                    s.push(uid);
                                                                                }
                                                                            });
                                                                    }
                                                                />
                                                                <span>{u.username}</span>
                                                            </label>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </div>
                                        }
                                            .into_any()
                                    } else {
                                        choice(
                                            id("role"),
                                            "Role",
                                            Role::ALL.into_iter().map(|r| (r.as_str(), r.label())).collect(),
                                            Signal::derive(move || d.role.get().as_str()),
                                            Callback::new(move |v: String| {
                                                if let Some(r) = Role::ALL.into_iter().find(|r| r.as_str() == v) {
                                                    d.role.set(r);
                                                }
                                            }),
                                        )
                                    }
                                }}
                                {move || {
                                    errors
                                        .with(|e| {
                                            e.iter()
                                                .filter(|(k, _)| k.starts_with(&key))
                                                .map(|(_, v)| v.join("; "))
                                                .collect::<Vec<_>>()
                                        })
                                        .into_iter()
                                        .map(|m| view! { <p class="field-error">{m}</p> })
                                        .collect_view()
                                }}
                                <div class="form-actions">
                                    {(i > 0)
                                        .then(|| {
                                            view! {
                                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| move_up(i)>
                                                    "Move up"
                                                </button>
                                            }
                                        })}
                                    {(count > 1)
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-danger-ghost btn-sm"
                                                    on:click=move |_| {
                                                        steps
                                                            .update(|s| {
                                                                s.remove(i);
                                                            })
                                                    }
                                                >
                                                    "Remove step"
                                                </button>
                                            }
                                        })}
                                </div>
                            </fieldset>
                        }
                    })
                    .collect_view()
            }}
            <FieldError errors=errors field="steps" id="policy-steps-error".to_string() />
            <button
                type="button"
                class="btn btn-ghost btn-sm"
                disabled=move || steps.with(|s| s.len() >= 10)
                on:click=move |_| {
                    steps.update(|s| s.push(StepDraft::new(&ApprovalPolicy::default_policy().steps[0])))
                }
            >
                "Add step"
            </button>
            <label class="check">
                <input type="checkbox" prop:checked=move || auto.get() on:change=move |ev| auto.set(event_target_checked(&ev)) />
                <span>"Auto-approve small requests"</span>
            </label>
            <FieldError errors=errors field="auto_approve" id="policy-auto-error".to_string() />
            {move || {
                auto.get()
                    .then(|| {
                        view! {
                            <div class="form-grid">
                                <TextField id="policy-max-cpu" label="Max vCPU" value=max_cpu errors=errors field="max_cpu" kind="number" />
                                <TextField
                                    id="policy-max-cost"
                                    label="Max monthly cost (€)"
                                    value=max_eur
                                    errors=errors
                                    field="max_monthly_cents"
                                    placeholder="5.00"
                                />
                            </div>
                        }
                    })
            }}
            <FormActions pending=pending label="Save policy" busy="Saving…" on_cancel=on_cancel />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::{euro_cents, euros, PolicyDraft};
    use shared::policies::{
        ApprovalPolicy, ApprovalRule, ApprovalStep, Approvers, AutoApproveRule,
    };
    use shared::roles::Role;

    #[test]
    fn euros_to_cents() {
        assert_eq!(euro_cents("5"), Some(500));
        assert_eq!(euro_cents("5.5"), Some(550));
        assert_eq!(euro_cents("5,05"), Some(505));
        assert_eq!(euro_cents(".99"), Some(99));
        assert_eq!(euro_cents("12."), Some(1200));
        assert_eq!(euro_cents("1.234"), None);
        assert_eq!(euro_cents("-1"), None);
        assert_eq!(euro_cents("abc"), None);
        assert_eq!(euro_cents("."), None);
    }

    #[test]
    fn cents_are_shown_with_two_decimals() {
        assert_eq!(euros(550), "5.50");
        assert_eq!(euros(7), "0.07");
    }

    fn limited(max_cpu: &str, max_eur: &str) -> PolicyDraft {
        PolicyDraft {
            auto: true,
            max_cpu: max_cpu.into(),
            max_eur: max_eur.into(),
            ..PolicyDraft::from_dto(&ApprovalPolicy::default_policy())
        }
    }

    #[test]
    fn policy_without_auto_approval_shows_empty_limits_and_round_trips() {
        let policy = ApprovalPolicy::default_policy();
        let draft = PolicyDraft::from_dto(&policy);
        assert!(!draft.auto);
        assert_eq!(draft.max_cpu, "");
        assert_eq!(draft.max_eur, "");
        assert_eq!(draft.to_request(), Ok(policy));
    }

    #[test]
    fn auto_approval_limits_are_shown_as_text_and_read_back() {
        let policy = ApprovalPolicy {
            auto_approve: Some(AutoApproveRule {
                max_cpu: Some(4),
                max_monthly_cents: Some(1250),
            }),
            ..ApprovalPolicy::default_policy()
        };
        let draft = PolicyDraft::from_dto(&policy);
        assert_eq!(draft.max_cpu, "4");
        assert_eq!(draft.max_eur, "12.50");
        assert_eq!(draft.to_request(), Ok(policy));
    }

    #[test]
    fn euro_sign_and_comma_are_accepted_in_the_cost_limit() {
        let body = limited("", " €5,5 ").to_request().unwrap();
        assert_eq!(
            body.auto_approve,
            Some(AutoApproveRule {
                max_cpu: None,
                max_monthly_cents: Some(550),
            })
        );
    }

    #[test]
    fn unreadable_limits_are_refused_on_their_fields() {
        let errors = limited("two", "5.555").to_request().unwrap_err();
        assert_eq!(
            errors["max_cpu"],
            vec!["Enter a number, e.g. 5 or 5.50".to_string()]
        );
        assert!(errors.contains_key("max_monthly_cents"));
    }

    #[test]
    fn auto_approval_without_any_limit_is_refused() {
        let errors = limited("", "  ").to_request().unwrap_err();
        assert!(errors.contains_key("auto_approve"));
    }

    #[test]
    fn a_named_users_step_without_users_is_refused_on_that_step() {
        let draft = PolicyDraft {
            steps: vec![
                ApprovalStep {
                    approvers: Approvers::Role { role: Role::Admin },
                    rule: ApprovalRule::Any,
                },
                ApprovalStep {
                    approvers: Approvers::Users {
                        user_ids: Vec::new(),
                    },
                    rule: ApprovalRule::All,
                },
            ],
            ..PolicyDraft::from_dto(&ApprovalPolicy::default_policy())
        };
        let errors = draft.to_request().unwrap_err();
        assert!(errors.contains_key("steps[1].approvers"));
        assert!(!errors.contains_key("steps[0].approvers"));
    }
}

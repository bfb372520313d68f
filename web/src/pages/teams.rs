//! Teams: everyone sees their teams and members; holders of TeamsManage edit them.

use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Alert, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::{
    apply_problem, Errors, FieldError, FormActions, FormBanner, RoleBadges, TextArea, TextField,
};
use crate::components::list::{paged_list, paged_remote, NewButton, PageHeader};
use crate::components::modal::{DialogWhile, Modal};
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable, OpenButton};
use crate::format::{date, datetime};
use crate::remote::{remote, Remote};
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use shared::dto::{CreateTeam, Page, Team, TeamMember, UpdateTeam, User};
use shared::policies::{ApprovalPolicy, ApprovalRule, ApprovalStep, Approvers, AutoApproveRule};
use shared::roles::{Permission, Role};
use shared::validation::FieldErrors;
use uuid::Uuid;

const PER_PAGE: u64 = 50;

#[component]
pub fn TeamsPage() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let can_manage = Memo::new(move |_| session.can(Permission::TeamsManage));
    let sees_all = Memo::new(move |_| session.can(Permission::AllTeams));

    let search = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let teams = paged_remote::<Team>("/api/teams", page, PER_PAGE, move || vec![("q", q.get())]);

    let creating = RwSignal::new(false);
    let editing = RwSignal::new(None::<Team>);
    let removal = use_removal::<Team>();
    let viewing = RwSignal::new(None::<Team>);

    let delete = move |team: Team| {
        removal.delete(format!("/api/teams/{}", team.id), move |team| {
            if let Some(team) = team {
                toasts.success(format!("Team {} deleted", team.name));
            }
            teams.refetch();
        });
    };

    let on_saved = Callback::new(move |(team, created): (Team, bool)| {
        toasts.success(if created {
            format!("Team {} created", team.name)
        } else {
            format!("Saved changes to {}", team.name)
        });
        creating.set(false);
        editing.set(None);
        teams.refetch();
    });
    let on_members_changed = Callback::new(move |_| teams.refetch());

    let apply_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        q.set(search.get_untracked().trim().to_owned());
        page.set(1);
    };

    view! {
        <section class="page">
            <PageHeader
                title="Teams"
                description=move || {
                    if sees_all.get() {
                        "Every team in the organisation and who belongs to it."
                    } else {
                        "The teams you belong to and their members."
                    }
                }
            >
                {move || {
                    can_manage
                        .get()
                        .then(|| view! { <NewButton label="New team" on_click=move |_| creating.set(true) /> })
                }}
            </PageHeader>

            <form class="toolbar" role="search" on:submit=apply_search>
                <div class="field field-inline grow">
                    <label for="team-search">"Search teams"</label>
                    <input
                        id="team-search"
                        type="search"
                        placeholder="Team name"
                        bind:value=search
                        on:input=move |ev| {
                            if event_target_value(&ev).is_empty() {
                                q.set(String::new());
                                page.set(1);
                            }
                        }
                    />
                </div>
                <button type="submit" class="btn btn-ghost">
                    "Search"
                </button>
            </form>

            {paged_list(
                teams,
                page,
                ("team", "teams"),
                move || {
                    if !q.get_untracked().is_empty() {
                        ("No teams match", "Try another name.")
                    } else if can_manage.get_untracked() {
                        ("No teams yet", "Create one with “New team”.")
                    } else {
                        ("You're not in any team", "An administrator can add you to one.")
                    }
                },
                move |items: Vec<Team>| {
                    let manage = can_manage.get_untracked();
                    view! {
                        <DataTable columns=&[
                                Col::Text("Name"), Col::Text("Description"), Col::Num("Members"),
                                Col::Text("Created"), Col::Actions
                            ]>
                            {items
                                .into_iter()
                                .map(|team| {
                                    let for_view = team.clone();
                                    let for_edit = team.clone();
                                    let for_delete = team.clone();
                                    view! {
                                        <tr>
                                            <td>
                                                <strong>{team.name.clone()}</strong>
                                                {team
                                                    .is_global
                                                    .then(|| view! { <span class="badge badge-global">"Global"</span> })}
                                                <div class="muted small mono">{team.slug.clone()}</div>
                                            </td>
                                            <td class="cell-desc">
                                                {if team.description.is_empty() {
                                                    view! { <span class="muted">"—"</span> }.into_any()
                                                } else {
                                                    view! { <span>{team.description.clone()}</span> }.into_any()
                                                }}
                                            </td>
                                            <td class="num">{team.member_count}</td>
                                            <td title=datetime(&team.created_at)>{date(&team.created_at)}</td>
                                            <td class="actions">
                                                <OpenButton label="Members" target=viewing item=for_view />
                                                {manage.then(|| view! { <OpenButton label="Edit" target=editing item=for_edit /> })}
                                                {(manage && !team.is_global)
                                                    .then(|| view! { <RemoveButton removal=removal item=for_delete /> })}
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </DataTable>
                    }
                },
            )}

            <DialogWhile open=creating title="New team">
                <TeamForm team=None on_done=on_saved on_cancel=move |_| creating.set(false) />
            </DialogWhile>
            {move || {
                editing
                    .get()
                    .map(|team| {
                        view! {
                            <Modal title=format!("Edit {}", team.name) on_close=move |_| editing.set(None)>
                                <TeamForm team=Some(team) on_done=on_saved on_cancel=move |_| editing.set(None) />
                            </Modal>
                        }
                    })
            }}
            {removal
                .dialog(
                    "Delete team",
                    |team| {
                        (
                            format!("Delete team {}?", team.name),
                            format!(
                                "The team and its {} memberships are removed. Members keep their accounts.",
                                team.member_count,
                            ),
                        )
                    },
                    delete,
                )}
            {move || {
                viewing
                    .get()
                    .map(|team| {
                        view! {
                            <Modal title=format!("Members of {}", team.name) on_close=move |_| viewing.set(None) wide=true>
                                <MembersPanel team=team manage=can_manage.get_untracked() on_changed=on_members_changed />
                            </Modal>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn TeamForm(
    team: Option<Team>,
    #[prop(into)] on_done: Callback<(Team, bool)>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let is_new = team.is_none();
    let original = StoredValue::new(team.clone());
    let name = RwSignal::new(team.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    let description = RwSignal::new(
        team.as_ref()
            .map(|t| t.description.clone())
            .unwrap_or_default(),
    );
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);

    let pending = RwSignal::new(false);
    let finish = move |result: Result<Team, ApiErrorView>| match result {
        Ok(team) => on_done.run((team, is_new)),
        Err(e) => banner.set(apply_problem(&e, errors, &["name", "description"])),
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let new_name = name.get_untracked().trim().to_owned();
        let new_description = description.get_untracked().trim().to_owned();
        let problems = match original.try_get_value().flatten() {
            None => {
                let body = CreateTeam {
                    name: new_name,
                    description: new_description,
                };
                body.validate().err().or_else(|| {
                    task::run(
                        pending,
                        async move { api::post::<_, Team>("/api/teams", &body).await },
                        finish,
                    );
                    None
                })
            }
            Some(orig) => {
                let body = UpdateTeam {
                    name: (new_name != orig.name).then_some(new_name),
                    description: (new_description != orig.description).then_some(new_description),
                };
                if body == UpdateTeam::default() {
                    on_cancel.run(());
                    return;
                }
                let id = orig.id;
                body.validate().err().or_else(|| {
                    task::run(
                        pending,
                        async move { api::patch::<_, Team>(&format!("/api/teams/{id}"), &body).await },
                        finish,
                    );
                    None
                })
            }
        };
        banner.set(None);
        errors.set(problems.unwrap_or_default());
    };

    let submit_label = if is_new { "Create team" } else { "Save" };
    view! {
        <form class="form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <TextField
                id="team-name"
                label="Name"
                value=name
                errors=errors
                field="name"
                autocomplete="off"
                hint="2–64 characters. The team's URL name is derived from it."
                required=true
            />
            <TextArea id="team-description" label="Description" value=description errors=errors field="description" />
            <FormActions pending=pending label=submit_label busy="Saving…" on_cancel=on_cancel />
        </form>
    }
}

#[derive(Clone)]
enum MemberChange {
    Add(Uuid),
    Remove(Uuid, String),
}

#[component]
fn MembersPanel(team: Team, manage: bool, #[prop(into)] on_changed: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let team_id = team.id;
    let members = remote::<Vec<TeamMember>>(move || format!("/api/teams/{team_id}/members"));
    let retry = Callback::new(move |_| members.refetch());
    let candidate = RwSignal::new(String::new());

    let change_pending = RwSignal::new(false);
    let change_error = RwSignal::new(None::<ApiErrorView>);
    let change = Callback::new(move |c: MemberChange| {
        let call = async move {
            match c {
                MemberChange::Add(user) => {
                    api::put_no_content::<()>(&format!("/api/teams/{team_id}/members/{user}"), None)
                        .await
                        .map(|_| "Member added".to_string())
                }
                MemberChange::Remove(user, name) => {
                    api::delete(&format!("/api/teams/{team_id}/members/{user}"))
                        .await
                        .map(|_| format!("{name} removed from the team"))
                }
            }
        };
        task::run(change_pending, call, move |result| match result {
            Ok(message) => {
                toasts.success(message);
                change_error.set(None);
                candidate.set(String::new());
                members.refetch();
                on_changed.run(());
            }
            Err(e) => change_error.set(Some(e)),
        });
    });

    view! {
        <div class="members">
            {(!team.description.is_empty()).then(|| view! { <p class="muted">{team.description.clone()}</p> })}
            <PolicyPanel team_id=team_id manage=manage />
            {move || change_error.get().map(|e| view! { <ErrorBanner error=e /> })}
            {manage.then(|| view! { <AddMember members=members candidate=candidate change=change pending=change_pending /> })}
            {move || match members.get() {
                    None => view! { <SkeletonRows rows=3 /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => {
                            view! { <Empty title="No members yet" /> }.into_any()
                        }
                        Some(Ok(list)) => {
                            view! {
                                <div class="table-wrap">
                                    <table class="table table-compact">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Member"</th>
                                                <th scope="col">"E-mail"</th>
                                                <th scope="col">"Roles"</th>
                                                <th scope="col">"Joined"</th>
                                                {manage
                                                    .then(|| {
                                                        view! {
                                                            <th scope="col">
                                                                <span class="sr-only">"Actions"</span>
                                                            </th>
                                                        }
                                                    })}
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|m| {
                                                    let user_id = m.user_id;
                                                    let name = m.username.clone();
                                                    view! {
                                                        <tr>
                                                            <td>
                                                                <div>
                                                                    {if m.full_name.is_empty() {
                                                                        m.username.clone()
                                                                    } else {
                                                                        m.full_name.clone()
                                                                    }}
                                                                </div>
                                                                <div class="muted small mono">{m.username.clone()}</div>
                                                            </td>
                                                            <td class="cell-email">{m.email.clone()}</td>
                                                            <td>
                                                                <RoleBadges roles=m.roles.clone() />
                                                            </td>
                                                            <td title=datetime(&m.joined_at)>{date(&m.joined_at)}</td>
                                                            {manage
                                                                .then(|| {
                                                                    view! {
                                                                        <td class="actions">
                                                                            <button
                                                                                type="button"
                                                                                class="btn btn-danger-ghost btn-sm"
                                                                                disabled=move || change_pending.get()
                                                                                on:click=move |_| {
                                                                                    change.run(MemberChange::Remove(user_id, name.clone()));
                                                                                }
                                                                            >
                                                                                "Remove"
                                                                            </button>
                                                                        </td>
                                                                    }
                                                                })}
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                    }
                }
        </div>
    }
}

/// Picks an active account that is not yet a member.
#[component]
fn AddMember(
    members: Remote<Vec<TeamMember>>,
    candidate: RwSignal<String>,
    change: Callback<MemberChange>,
    pending: RwSignal<bool>,
) -> impl IntoView {
    let users = remote::<Page<User>>(|| "/api/users?per_page=200&active=true&sort=username".into());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(id) = Uuid::parse_str(&candidate.get_untracked()) {
            change.run(MemberChange::Add(id));
        }
    };
    view! {
        <form class="toolbar add-member" on:submit=on_submit>
            <div class="field field-inline grow">
                <label for="add-member-user">"Add a member"</label>
                {move || {
                    let current: Vec<Uuid> = members
                        .get()
                        .and_then(Result::ok)
                        .map(|m| m.into_iter().map(|m| m.user_id).collect())
                        .unwrap_or_default();
                    match users.get() {
                            None => view! {
                                <select id="add-member-user" disabled=true>
                                    <option>"Loading…"</option>
                                </select>
                            }
                                .into_any(),
                            Some(Err(e)) => view! { <Alert message=format!("Users could not be loaded: {}", e.message()) /> }.into_any(),
                            Some(Ok(page)) => {
                                let options: Vec<User> = page
                                    .items
                                    .into_iter()
                                    .filter(|u| !current.contains(&u.id))
                                    .collect();
                                let none_left = options.is_empty();
                                view! {
                                    <select
                                        id="add-member-user"
                                        prop:value=move || candidate.get()
                                        on:change=move |ev| candidate.set(event_target_value(&ev))
                                        disabled=none_left
                                    >
                                        <option value="">
                                            {if none_left { "Everyone is already a member" } else { "Choose a user…" }}
                                        </option>
                                        {options
                                            .into_iter()
                                            .map(|u| {
                                                let text = if u.full_name.is_empty() {
                                                    u.username.clone()
                                                } else {
                                                    format!("{} ({})", u.full_name, u.username)
                                                };
                                                view! { <option value=u.id.to_string()>{text}</option> }
                                            })
                                            .collect_view()}
                                    </select>
                                }
                                    .into_any()
                            }
                        }
                }}
            </div>
            <button
                type="submit"
                class="btn btn-primary"
                disabled=move || pending.get() || candidate.with(|c| c.is_empty())
            >
                "Add member"
            </button>
        </form>
    }
}

/// Euros as typed ("5", "5.5", "5,50") to cents, without floats.
fn euro_cents(s: &str) -> Option<i64> {
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

fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn user_name(users: &[User], id: Uuid) -> String {
    users
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.username.clone())
        .unwrap_or_else(|| "unknown user".into())
}

fn policy_step_text(step: &ApprovalStep, users: &[User]) -> String {
    let all = step.rule == ApprovalRule::All;
    match &step.approvers {
        Approvers::Role { role } => {
            let r = role.label().to_ascii_lowercase();
            if all {
                format!("all {r}s")
            } else {
                format!("any {r}")
            }
        }
        Approvers::Users { user_ids } if users.is_empty() => format!(
            "{} {} named user{}",
            if all { "all of" } else { "any of" },
            user_ids.len(),
            if user_ids.len() == 1 { "" } else { "s" }
        ),
        Approvers::Users { user_ids } => format!(
            "{} {}",
            if all { "all of" } else { "any of" },
            user_ids
                .iter()
                .map(|id| user_name(users, *id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn auto_text(rule: &Option<AutoApproveRule>) -> String {
    let Some(r) = rule else {
        return "No auto-approval: every request goes through the steps.".into();
    };
    let mut limits = Vec::new();
    if let Some(c) = r.max_cpu {
        limits.push(format!("{c} vCPU"));
    }
    if let Some(c) = r.max_monthly_cents {
        limits.push(format!("€{}/month", euros(c)));
    }
    format!("Auto-approve up to {}.", limits.join(" and "))
}

/// A team's approval chain in words; admins edit it inline.
#[component]
fn PolicyPanel(team_id: Uuid, manage: bool) -> impl IntoView {
    let policy = remote::<ApprovalPolicy>(move || format!("/api/teams/{team_id}/approval-policy"));
    let users = manage.then(|| remote::<Page<User>>(|| "/api/users?per_page=200".into()));
    let user_list = move || {
        users
            .and_then(|u| u.get())
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let editing = RwSignal::new(false);
    let retry = Callback::new(move |_| policy.refetch());
    view! {
        <section class="card policy">
            <div class="card-title-row">
                <h3 class="card-title">"Approval policy"</h3>
                {move || {
                    (manage && !editing.get() && policy.get().is_some_and(|p| p.is_ok()))
                        .then(|| {
                            view! {
                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| editing.set(true)>
                                    "Edit policy"
                                </button>
                            }
                        })
                }}
            </div>
            {move || match policy.get() {
                None => view! { <SkeletonRows rows=2 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(p)) if editing.get() => {
                    view! {
                        <PolicyForm
                            team_id=team_id
                            policy=p
                            users=Signal::derive(user_list)
                            on_done=move |saved: ApprovalPolicy| {
                                policy.set(saved);
                                editing.set(false);
                            }
                            on_cancel=move |_| editing.set(false)
                        />
                    }
                        .into_any()
                }
                Some(Ok(p)) => {
                    let list = user_list();
                    view! {
                        <ol class="steps">
                            {p
                                .steps
                                .iter()
                                .enumerate()
                                .map(|(i, s)| {
                                    view! {
                                        <li class="step">{format!("Step {}: {}", i + 1, policy_step_text(s, &list))}</li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                        <p class="muted">{auto_text(&p.auto_approve)}</p>
                    }
                        .into_any()
                }
            }}
        </section>
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
fn PolicyForm(
    team_id: Uuid,
    policy: ApprovalPolicy,
    users: Signal<Vec<User>>,
    #[prop(into)] on_done: Callback<ApprovalPolicy>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let steps = RwSignal::new(policy.steps.iter().map(StepDraft::new).collect::<Vec<_>>());
    let auto = RwSignal::new(policy.auto_approve.is_some());
    let rule = policy.auto_approve.unwrap_or(AutoApproveRule {
        max_cpu: None,
        max_monthly_cents: None,
    });
    let max_cpu = RwSignal::new(rule.max_cpu.map(|c| c.to_string()).unwrap_or_default());
    let max_eur = RwSignal::new(rule.max_monthly_cents.map(euros).unwrap_or_default());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut problems = FieldErrors::new();
        let mut limit = |field: &str, text: String, parse: &dyn Fn(&str) -> Option<i64>| {
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
        let cpu = limit("max_cpu", max_cpu.get_untracked(), &|t| {
            t.parse::<u32>().ok().map(i64::from)
        });
        let cents = limit("max_monthly_cents", max_eur.get_untracked(), &euro_cents);
        let body = ApprovalPolicy {
            steps: steps.get_untracked().iter().map(StepDraft::step).collect(),
            auto_approve: auto.get_untracked().then(|| AutoApproveRule {
                max_cpu: cpu.map(|c| c as u32),
                max_monthly_cents: cents,
            }),
        };
        if let Err(e) = body.validate() {
            problems.extend(e);
        }
        banner.set(None);
        if !problems.is_empty() {
            errors.set(problems);
            banner.set(Some("Please correct the highlighted fields.".into()));
            return;
        }
        errors.set(problems);
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
    use super::euro_cents;

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
}

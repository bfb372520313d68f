//! Teams: everyone sees their teams and members; holders of TeamsManage edit them.

use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Alert, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, RoleBadges, TextArea, TextField,
};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::pager::Pager;
use crate::format::{date, datetime};
use crate::remote::{remote, Remote};
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use shared::dto::{CreateTeam, Page, Team, TeamMember, UpdateTeam, User};
use shared::roles::Permission;
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
    let teams = remote::<Page<Team>>(move || {
        api::with_query(
            "/api/teams",
            &[
                ("page", page.get().to_string()),
                ("per_page", PER_PAGE.to_string()),
                ("q", q.get()),
            ],
        )
    });
    let retry = Callback::new(move |_| teams.refetch());

    let creating = RwSignal::new(false);
    let editing = RwSignal::new(None::<Team>);
    let deleting = RwSignal::new(None::<Team>);
    let viewing = RwSignal::new(None::<Team>);

    let delete_pending = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<ApiErrorView>);
    let delete = move |id: Uuid| {
        let url = format!("/api/teams/{id}");
        task::run(
            delete_pending,
            async move { api::delete(&url).await },
            move |result| match result {
                Ok(()) => {
                    if let Some(team) = deleting.get_untracked() {
                        toasts.success(format!("Team {} deleted", team.name));
                    }
                    deleting.set(None);
                    teams.refetch();
                }
                Err(e) => delete_error.set(Some(e)),
            },
        );
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
            <header class="page-header">
                <div>
                    <h1>"Teams"</h1>
                    <p class="muted">
                        {move || {
                            if sees_all.get() {
                                "Every team in the organisation and who belongs to it."
                            } else {
                                "The teams you belong to and their members."
                            }
                        }}
                    </p>
                </div>
                {move || {
                    can_manage
                        .get()
                        .then(|| {
                            view! {
                                <button type="button" class="btn btn-primary" on:click=move |_| creating.set(true)>
                                    <span aria-hidden="true">"+ "</span>
                                    "New team"
                                </button>
                            }
                        })
                }}
            </header>

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

            {move || match teams.get() {
                    None => view! { <SkeletonRows /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                        Some(Ok(result)) if result.items.is_empty() => {
                            let (title, hint) = if !q.get_untracked().is_empty() {
                                ("No teams match", "Try another name.")
                            } else if can_manage.get_untracked() {
                                ("No teams yet", "Create one with “New team”.")
                            } else {
                                ("You're not in any team", "An administrator can add you to one.")
                            };
                            view! { <Empty title=title hint=hint /> }.into_any()
                        }
                        Some(Ok(result)) => {
                            let manage = can_manage.get_untracked();
                            let total = result.total;
                            let per_page = result.per_page;
                            view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Description"</th>
                                                <th scope="col" class="num">"Members"</th>
                                                <th scope="col">"Created"</th>
                                                <th scope="col">
                                                    <span class="sr-only">"Actions"</span>
                                                </th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {result
                                                .items
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
                                                                <button
                                                                    type="button"
                                                                    class="btn btn-ghost btn-sm"
                                                                    on:click=move |_| viewing.set(Some(for_view.clone()))
                                                                >
                                                                    "Members"
                                                                </button>
                                                                {manage
                                                                    .then(|| {
                                                                        view! {
                                                                            <button
                                                                                type="button"
                                                                                class="btn btn-ghost btn-sm"
                                                                                on:click=move |_| editing.set(Some(for_edit.clone()))
                                                                            >
                                                                                "Edit"
                                                                            </button>
                                                                        }
                                                                    })}
                                                                {(manage && !team.is_global)
                                                                    .then(|| {
                                                                        view! {
                                                                            <button
                                                                                type="button"
                                                                                class="btn btn-danger-ghost btn-sm"
                                                                                on:click=move |_| {
                                                                                    delete_error.set(None);
                                                                                    deleting.set(Some(for_delete.clone()));
                                                                                }
                                                                            >
                                                                                "Delete"
                                                                            </button>
                                                                        }
                                                                    })}
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <Pager page=page total=total per_page=per_page noun=("team", "teams") />
                            }
                                .into_any()
                        }
                    }
                }

            {move || {
                creating
                    .get()
                    .then(|| {
                        view! {
                            <Modal title="New team" on_close=move |_| creating.set(false)>
                                <TeamForm team=None on_done=on_saved on_cancel=move |_| creating.set(false) />
                            </Modal>
                        }
                    })
            }}
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
            {move || {
                deleting
                    .get()
                    .map(|team| {
                        let id = team.id;
                        view! {
                            <ConfirmDialog
                                title=format!("Delete team {}?", team.name)
                                message=format!(
                                    "The team and its {} memberships are removed. Members keep their accounts.",
                                    team.member_count,
                                )
                                confirm_label="Delete team"
                                on_confirm=move |_| delete(id)
                                on_cancel=move |_| deleting.set(None)
                                pending=delete_pending
                                error=delete_error
                            />
                        }
                    })
            }}
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

//! A team's members: the list, adding an account and removing one.

use super::policy::PolicyPanel;
use crate::api;
use crate::api::ApiErrorView;
use crate::components::feedback::{use_toasts, Alert, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::RoleBadges;
use crate::format::{date, datetime};
use crate::remote::{remote, Remote};
use crate::task;
use leptos::prelude::*;
use shared::dto::{Page, Team, TeamMember, User};
use uuid::Uuid;

#[derive(Clone)]
enum MemberChange {
    Add(Uuid),
    Remove(Uuid, String),
}

#[component]
pub(super) fn MembersPanel(
    team: Team,
    manage: bool,
    #[prop(into)] on_changed: Callback<()>,
) -> impl IntoView {
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

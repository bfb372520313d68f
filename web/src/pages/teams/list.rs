//! The teams table and the dialogs it opens.

use super::form::TeamForm;
use super::members::MembersPanel;
use crate::components::feedback::use_toasts;
use crate::components::list::{paged_list, paged_remote, NewButton, PageHeader};
use crate::components::modal::{DialogWhile, Modal};
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable, OpenButton};
use crate::format::{date, datetime};
use crate::session::use_session;
use leptos::prelude::*;
use shared::dto::Team;
use shared::roles::Permission;

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

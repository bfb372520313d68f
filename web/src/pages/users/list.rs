//! The accounts table with its filters, and the dialogs it opens.

use super::form::{EditUserForm, NewUserForm, ResetPasswordForm};
use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::RoleBadges;
use crate::components::list::{paged_remote, FilterSelect, NewButton, PageHeader, SearchBar};
use crate::components::modal::{ConfirmDialog, DialogWhile, Modal};
use crate::components::pager::Pager;
use crate::components::table::OpenButton;
use crate::format::{datetime, relative};
use crate::search::use_search;
use crate::session::{self, use_session};
use crate::task;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use shared::dto::{UpdateUser, User};
use shared::roles::Role;
use uuid::Uuid;

const PER_PAGE: u64 = 20;

#[component]
pub fn UsersPage() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let query = use_query_map();

    let q = RwSignal::new(String::new());
    let role_filter = RwSignal::new(String::new());
    let active_filter = RwSignal::new(String::new());
    let sort = RwSignal::new("username".to_string());
    let page = RwSignal::new(1u64);
    // Accounts created on this visit stay visible even when the current page would not show them.
    let recent = RwSignal::new(Vec::<User>::new());

    let users = paged_remote::<User>("/api/users", page, PER_PAGE, move || {
        vec![
            ("q", q.get()),
            ("role", role_filter.get()),
            // "waiting" is not an activity state: it asks for registrations to approve.
            (
                "active",
                Some(active_filter.get())
                    .filter(|a| a != "waiting")
                    .unwrap_or_default(),
            ),
            (
                "awaiting_approval",
                if active_filter.get() == "waiting" {
                    "true".into()
                } else {
                    String::new()
                },
            ),
            ("sort", sort.get()),
        ]
    });
    let retry = Callback::new(move |_| users.refetch());
    // A lost phone: the second factor is removed after a confirmation.
    let resetting_factor = RwSignal::new(None::<User>);
    let factor_pending = RwSignal::new(false);
    let factor_error = RwSignal::new(None::<ApiErrorView>);
    let reset_factor = move |user: User| {
        factor_error.set(None);
        let url = format!("/api/users/{}/two-factor/reset", user.id);
        task::run(
            factor_pending,
            async move { api::post_bare(&url).await },
            move |r| match r {
                Ok(()) => {
                    resetting_factor.set(None);
                    toasts.success(format!(
                        "{} signs in with the password alone until setting up a new second factor",
                        user.username
                    ));
                    recent.update(|r| {
                        if let Some(x) = r.iter_mut().find(|x| x.id == user.id) {
                            x.two_factor = false;
                        }
                    });
                    users.refetch();
                }
                Err(e) => factor_error.set(Some(e)),
            },
        );
    };

    let search = use_search(q, page);

    let creating = RwSignal::new(query.with_untracked(|q| q.get("new").is_some()));
    let editing = RwSignal::new(None::<User>);
    let resetting = RwSignal::new(None::<User>);
    let deactivating = RwSignal::new(None::<User>);

    let toggle_pending = RwSignal::new(false);
    let toggle_error = RwSignal::new(None::<ApiErrorView>);
    let set_active = move |id: Uuid, active: bool| {
        let url = format!("/api/users/{id}");
        let body = UpdateUser {
            active: Some(active),
            ..UpdateUser::default()
        };
        task::run(
            toggle_pending,
            async move { api::patch::<_, User>(&url, &body).await },
            move |result| match result {
                Ok(user) => {
                    toasts.success(if user.active {
                        format!("{} can sign in again", user.username)
                    } else {
                        format!("{} was deactivated", user.username)
                    });
                    deactivating.set(None);
                    toggle_error.set(None);
                    recent.update(|r| {
                        if let Some(x) = r.iter_mut().find(|x| x.id == user.id) {
                            *x = user.clone();
                        }
                    });
                    users.refetch();
                }
                Err(e) => {
                    if deactivating.get_untracked().is_some() {
                        toggle_error.set(Some(e));
                    } else {
                        toasts.error(e.message());
                    }
                }
            },
        );
    };

    // A registration let in: the person is told by e-mail.
    let approve = move |id: Uuid| {
        let url = format!("/api/users/{id}/approve");
        task::run(
            toggle_pending,
            async move { api::post_empty::<User>(&url).await },
            move |result| match result {
                Ok(user) => {
                    toasts.success(format!("{} is approved and can sign in", user.username));
                    recent.update(|r| {
                        if let Some(x) = r.iter_mut().find(|x| x.id == user.id) {
                            *x = user.clone();
                        }
                    });
                    users.refetch();
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };

    let on_created = Callback::new(move |user: User| {
        toasts.success(format!("User {} created", user.username));
        creating.set(false);
        recent.update(|r| r.insert(0, user));
        users.refetch();
    });
    let on_edited = Callback::new(move |user: User| {
        toasts.success(format!("Saved changes to {}", user.username));
        let is_me = session.me.with_untracked(|m| m.as_ref().map(|m| m.id)) == Some(user.id);
        recent.update(|r| {
            if let Some(x) = r.iter_mut().find(|x| x.id == user.id) {
                *x = user.clone();
            }
        });
        editing.set(None);
        users.refetch();
        if is_me {
            // Own roles or name changed: reload `me` so navigation and badges follow.
            spawn_local(async {
                let _ = session::refresh().await;
            });
        }
    });
    let on_reset = Callback::new(move |user: User| {
        toasts.success(format!("Password of {} reset", user.username));
        resetting.set(None);
    });

    let my_id = move || session.me.with(|m| m.as_ref().map(|m| m.id));

    let row = move |user: User, is_new: bool| {
        let is_me = my_id() == Some(user.id);
        let for_edit = user.clone();
        let for_reset = user.clone();
        let for_toggle = user.clone();
        let for_factor = user.clone();
        let for_approve = user.clone();
        let last_login = user.last_login_at;
        view! {
            <tr class:row-inactive=!user.active>
                <td class="mono">{user.username.clone()}</td>
                <td>
                    {if user.full_name.is_empty() { "—".to_string() } else { user.full_name.clone() }}
                    {is_me.then(|| view! { <span class="badge badge-muted">"You"</span> })}
                    {is_new.then(|| view! { <span class="badge badge-new">"New"</span> })}
                </td>
                <td class="cell-email">{user.email.clone()}</td>
                <td>
                    <RoleBadges roles=user.roles.clone() />
                </td>
                <td>
                    {if !user.active {
                        view! { <span class="status status-off">"Inactive"</span> }.into_any()
                    } else if user.awaiting_approval {
                        view! { <span class="status status-waiting">"Waiting for approval"</span> }.into_any()
                    } else if !user.confirmed {
                        view! { <span class="status status-waiting">"E-mail not confirmed"</span> }.into_any()
                    } else {
                        view! { <span class="status status-ok">"Active"</span> }.into_any()
                    }}
                </td>
                <td title=last_login.as_ref().map(datetime)>
                    {last_login.as_ref().map(relative).unwrap_or_else(|| "Never".into())}
                </td>
                <td class="actions">
                    {(for_approve.awaiting_approval && for_approve.active).then(|| {
                        let id = for_approve.id;
                        view! {
                            <button
                                type="button"
                                class="btn btn-primary btn-sm"
                                data-testid="approve-user"
                                disabled=move || toggle_pending.get()
                                on:click=move |_| approve(id)
                            >
                                "Approve"
                            </button>
                        }
                    })}
                    <OpenButton label="Edit" target=editing item=for_edit />
                    <OpenButton label="Reset password" target=resetting item=for_reset />
                    {for_factor.two_factor.then(|| view! {
                        <button
                            type="button"
                            class="btn btn-ghost btn-sm"
                            data-testid="reset-two-factor"
                            on:click=move |_| {
                                factor_error.set(None);
                                resetting_factor.set(Some(for_factor.clone()));
                            }
                        >
                            "Reset two-factor"
                        </button>
                    })}
                    {if for_toggle.active {
                        view! {
                            <button
                                type="button"
                                class="btn btn-danger-ghost btn-sm"
                                disabled=is_me
                                title=is_me.then_some("You can't deactivate your own account")
                                on:click=move |_| {
                                    toggle_error.set(None);
                                    deactivating.set(Some(for_toggle.clone()));
                                }
                            >
                                "Deactivate"
                            </button>
                        }
                            .into_any()
                    } else {
                        let id = for_toggle.id;
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                disabled=move || toggle_pending.get()
                                on:click=move |_| set_active(id, true)
                            >
                                "Activate"
                            </button>
                        }
                            .into_any()
                    }}
                </td>
            </tr>
        }
    };

    let sort_button =
        move |label: &'static str, asc: &'static str, desc: &'static str, first: &'static str| {
            let state = move || {
                let s = sort.get();
                if s == asc {
                    Some("ascending")
                } else if s == desc {
                    Some("descending")
                } else {
                    None
                }
            };
            view! {
                <th aria-sort=state>
                    <button
                        type="button"
                        class="th-sort"
                        on:click=move |_| {
                            let current = sort.get_untracked();
                            let next = if current == first {
                                if first == asc { desc } else { asc }
                            } else if current == asc {
                                desc
                            } else if current == desc {
                                asc
                            } else {
                                first
                            };
                            sort.set(next.to_owned());
                            page.set(1);
                        }
                    >
                        {label}
                        <span class="sort-arrow" aria-hidden="true">
                            {move || match state() {
                                Some("ascending") => "↑",
                                Some(_) => "↓",
                                None => "↕",
                            }}
                        </span>
                    </button>
                </th>
            }
        };

    let filtered = move || {
        !q.get().is_empty() || !role_filter.get().is_empty() || !active_filter.get().is_empty()
    };
    let clear_filters = move |_| {
        search.input.set(String::new());
        q.set(String::new());
        role_filter.set(String::new());
        active_filter.set(String::new());
        page.set(1);
    };

    view! {
        <section class="page">
            <PageHeader title="Users" description="Accounts, their roles and whether they can sign in.">
                <NewButton label="New user" on_click=move |_| creating.set(true) />
            </PageHeader>

            <SearchBar search=search id="user-search" label="Search users" placeholder="Username, name or e-mail">
                <FilterSelect id="user-role-filter" label="Role" value=role_filter page=page>
                    <option value="">"All roles"</option>
                    {Role::ALL
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str()>{r.label()}</option> })
                        .collect_view()}
                </FilterSelect>
                <FilterSelect id="user-active-filter" label="Status" value=active_filter page=page>
                    <option value="">"Any status"</option>
                    <option value="true">"Active"</option>
                    <option value="false">"Inactive"</option>
                    <option value="waiting">"Waiting for approval"</option>
                </FilterSelect>
                {move || {
                    filtered()
                        .then(|| {
                            view! {
                                <button type="button" class="btn btn-ghost btn-sm" on:click=clear_filters>
                                    "Clear filters"
                                </button>
                            }
                        })
                }}
            </SearchBar>

            {move || match users.get() {
                    None => view! { <SkeletonRows /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                        Some(Ok(result)) => {
                            let extra: Vec<User> = recent
                                .get()
                                .into_iter()
                                .filter(|u| !result.items.iter().any(|i| i.id == u.id))
                                .collect();
                            let recent_ids: Vec<Uuid> = recent.with(|r| r.iter().map(|u| u.id).collect());
                            if result.items.is_empty() && extra.is_empty() {
                                let (title, hint) = if filtered() {
                                    ("No users match", "Try another search term or clear the filters.")
                                } else {
                                    ("No users yet", "Create the first account with “New user”.")
                                };
                                view! { <Empty title=title hint=hint /> }.into_any()
                            } else {
                                let total = result.total;
                                let per_page = result.per_page;
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead>
                                                <tr>
                                                    {sort_button("Username", "username", "-username", "username")}
                                                    <th scope="col">"Name"</th>
                                                    <th scope="col">"E-mail"</th>
                                                    <th scope="col">"Roles"</th>
                                                    <th scope="col">"Status"</th>
                                                    {sort_button(
                                                        "Last login",
                                                        "last_login_at",
                                                        "-last_login_at",
                                                        "-last_login_at",
                                                    )}
                                                    <th scope="col">
                                                        <span class="sr-only">"Actions"</span>
                                                    </th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {extra.into_iter().map(|u| row(u, true)).collect_view()}
                                                {result
                                                    .items
                                                    .into_iter()
                                                    .map(|u| {
                                                        let is_new = recent_ids.contains(&u.id);
                                                        row(u, is_new)
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <Pager page=page total=total per_page=per_page noun=("user", "users") />
                                }
                                    .into_any()
                            }
                        }
                    }
                }

            <DialogWhile open=creating title="New user" wide=true>
                <NewUserForm on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
            {move || {
                editing
                    .get()
                    .map(|user| {
                        view! {
                            <Modal title=format!("Edit {}", user.username) on_close=move |_| editing.set(None)>
                                <EditUserForm user=user on_done=on_edited on_cancel=move |_| editing.set(None) />
                            </Modal>
                        }
                    })
            }}
            {move || {
                resetting
                    .get()
                    .map(|user| {
                        view! {
                            <Modal
                                title=format!("Reset the password of {}", user.username)
                                on_close=move |_| resetting.set(None)
                            >
                                <ResetPasswordForm user=user on_done=on_reset on_cancel=move |_| resetting.set(None) />
                            </Modal>
                        }
                    })
            }}
            {move || {
                resetting_factor
                    .get()
                    .map(|user| {
                        let chosen = user.clone();
                        view! {
                            <ConfirmDialog
                                title=format!("Reset the second factor of {}?", user.username)
                                message=format!(
                                    "{} then signs in with the password alone, and their recovery codes stop working. If their role must use a second factor, they are asked to set up a new one at once.",
                                    user.username,
                                )
                                confirm_label="Reset two-factor"
                                on_confirm=move |_| reset_factor(chosen.clone())
                                on_cancel=move |_| resetting_factor.set(None)
                                pending=factor_pending
                                error=factor_error
                            />
                        }
                    })
            }}
            {move || {
                deactivating
                    .get()
                    .map(|user| {
                        let id = user.id;
                        view! {
                            <ConfirmDialog
                                title=format!("Deactivate {}?", user.username)
                                message=format!(
                                    "{} will be signed out at once and their API tokens stop working. You can activate the account again later.",
                                    user.username,
                                )
                                confirm_label="Deactivate"
                                on_confirm=move |_| set_active(id, false)
                                on_cancel=move |_| deactivating.set(None)
                                pending=toggle_pending
                                error=toggle_error
                            />
                        }
                    })
            }}
        </section>
    }
}

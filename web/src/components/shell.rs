//! The signed-in layout (sidebar, top bar, content) and the route guards.

use crate::api;
use crate::components::feedback::{Loading, ToastHost};
use crate::components::form::RoleBadges;
use crate::format::relative;
use crate::remote::{poll, remote};
use crate::session::{self, use_session, AuthState};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::{use_location, use_navigate};
use shared::nav::{section_for, NavSection, ADMIN_PAGES, NAV_ITEMS};
use shared::notifications::NotificationList;
use shared::roles::roles_grant;

/// `/login?next=<path>` so the user lands back where they were.
pub fn login_url(next: &str) -> String {
    if next.is_empty() || next == "/" || next == "/login" {
        "/login".into()
    } else {
        format!("/login?next={}", crate::api::encode(next))
    }
}

#[component]
pub fn Splash() -> impl IntoView {
    view! {
        <div class="splash">
            <div class="brand brand-lg">
                <span class="brand-mark" aria-hidden="true">"P"</span>
                "Provisio"
            </div>
            <Loading />
        </div>
    }
}

#[component]
fn Unreachable(message: String) -> impl IntoView {
    view! {
        <div class="splash">
            <div class="brand brand-lg">
                <span class="brand-mark" aria-hidden="true">"P"</span>
                "Provisio"
            </div>
            <div class="alert alert-error" role="alert">
                <div class="alert-body">
                    <strong>"Can't reach the Provisio server"</strong>
                    <p>{message}</p>
                </div>
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| session::restore()>
                    "Retry"
                </button>
            </div>
        </div>
    }
}

/// "Users · Provisio" in the tab and in the browser history.
fn page_title(path: &str) -> String {
    let name = NAV_ITEMS
        .iter()
        .map(|i| (i.path, i.label))
        .chain(ADMIN_PAGES.iter().copied())
        .find(|(p, _)| *p == path)
        .map(|(_, label)| label);
    match name {
        Some(name) => format!("{name} · Provisio"),
        None => "Provisio".into(),
    }
}

#[component]
pub fn Shell() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    Effect::new(move |_| document().set_title(&page_title(&location.pathname.get())));
    move || match session.state.get() {
        AuthState::Checking => view! { <Splash /> }.into_any(),
        AuthState::Unreachable(message) => view! { <Unreachable message=message /> }.into_any(),
        AuthState::SignedOut if location.pathname.get_untracked() == "/" => {
            view! { <crate::pages::landing::LandingPage /> }.into_any()
        }
        AuthState::SignedOut => {
            let here = location.pathname.get_untracked();
            let search = location.search.get_untracked();
            let next = if search.is_empty() {
                here
            } else {
                format!("{here}?{search}")
            };
            view! { <Redirect path=login_url(&next) /> }.into_any()
        }
        AuthState::SignedIn => view! {
            <a class="skip-link" href="#content">
                "Skip to content"
            </a>
            <div class="app">
                <Sidebar />
                <div class="main">
                    <TopBar />
                    <main id="content" class="content" tabindex="-1">
                        <MustEnrol />
                        <Outlet />
                    </main>
                </div>
            </div>
            <ToastHost />
        }
        .into_any(),
    }
}

/// The policy asks the user for a second factor they have not set up: every page says where.
#[component]
fn MustEnrol() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    move || {
        let missing = session.me.with(|m| {
            m.as_ref()
                .is_some_and(|m| m.two_factor.required && !m.two_factor.enabled)
        });
        (missing && location.pathname.get() != "/profile").then(|| {
            view! {
                <div class="alert alert-warning" role="status" data-testid="must-enrol">
                    <span>
                        "Your role signs in with a second factor. "
                        <A href="/profile">"Set up two-factor sign-in"</A>
                        " to use Provisio: until then, pages cannot load their data."
                    </span>
                </div>
            }
        })
    }
}

#[component]
fn Sidebar() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    // Below ~900 px the navigation folds behind a menu button; it folds again on every move.
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        open.set(false);
    });
    // The sidebar's sections with the entries the user's roles reach; empty sections are left out.
    let sections = Memo::new(move |_| {
        session.me.with(|m| {
            let Some(m) = m.as_ref() else {
                return Vec::new();
            };
            NavSection::SIDEBAR
                .into_iter()
                .map(|section| (section, section_for(&m.roles, section)))
                .filter(|(_, items)| !items.is_empty())
                .collect::<Vec<_>>()
        })
    });
    view! {
        <aside class="sidebar" class:nav-open=move || open.get()>
            <A href="/" exact=true attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"P"</span>
                <span class="brand-name">"Provisio"</span>
            </A>
            <button
                type="button"
                class="btn btn-ghost btn-sm nav-toggle"
                aria-controls="main-nav"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span aria-hidden="true">"☰ "</span>
                "Menu"
            </button>
            <nav aria-label="Main" class="nav" id="main-nav">
                {move || {
                    sections
                        .get()
                        .into_iter()
                        .map(|(section, items)| {
                            let heading = format!("nav-{section:?}").to_lowercase();
                            view! {
                                <h2 class="nav-heading" id=heading.clone()>{section.heading()}</h2>
                                <ul aria-labelledby=heading>
                                    {items
                                        .into_iter()
                                        .map(|item| {
                                            let path = item.path;
                                            view! {
                                                <li
                                                    on:pointerenter=move |_| crate::routes::preload_page(path)
                                                    on:focusin=move |_| crate::routes::preload_page(path)
                                                >
                                                    <A href=item.path exact=true>
                                                        // The icon is drawn by CSS from data-icon so it is in neither the
                                                        // link's accessible name nor its innerText.
                                                        <span class="nav-icon" aria-hidden="true" data-icon=item.icon></span>
                                                        <span class="nav-label">{item.label}</span>
                                                    </A>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                        })
                        .collect_view()
                }}
            </nav>
            <div class="sidebar-foot muted">"Self-hosted infrastructure portal"</div>
        </aside>
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let session = use_session();
    let signing_out = RwSignal::new(false);
    let navigate = use_navigate();
    let sign_out = move |_| {
        signing_out.set(true);
        // Leave the page first: the next person to sign in on this browser starts at the
        // landing page, not on this user's last page.
        navigate("/", Default::default());
        spawn_local(async move {
            session::logout(None).await;
            signing_out.set(false);
        });
    };
    let name = move || {
        session.me.with(|m| {
            m.as_ref()
                .map(|m| {
                    if m.full_name.trim().is_empty() {
                        m.username.clone()
                    } else {
                        m.full_name.clone()
                    }
                })
                .unwrap_or_default()
        })
    };
    let username = move || {
        session
            .me
            .with(|m| m.as_ref().map(|m| m.username.clone()).unwrap_or_default())
    };
    let roles = move || {
        session
            .me
            .with(|m| m.as_ref().map(|m| m.roles.clone()).unwrap_or_default())
    };
    // The account menu: a disclosure behind one's name, closed by Escape, a click elsewhere or
    // moving to another page.
    let menu_open = RwSignal::new(false);
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            menu_open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    let account_items = move || {
        session.me.with(|m| {
            m.as_ref()
                .map(|m| section_for(&m.roles, NavSection::Account))
                .unwrap_or_default()
        })
    };
    view! {
        <header class="topbar">
            <div class="topbar-spacer"></div>
            <NotificationBell />
            <div class="account-wrap">
                <button
                    type="button"
                    class="user-chip"
                    aria-label="Your account"
                    aria-expanded=move || menu_open.get().to_string()
                    aria-controls="account-menu"
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                    on:pointerenter=|_| crate::routes::preload_page("/profile")
                >
                    <span class="avatar" aria-hidden="true">
                        {move || name().chars().next().map(String::from).unwrap_or_default()}
                    </span>
                    <span class="user-meta">
                        <span class="user-name">{name}</span>
                        <span class="muted user-login">"@" {username}</span>
                    </span>
                    {move || view! { <RoleBadges roles=roles() /> }}
                    <span class="chevron" aria-hidden="true">"▾"</span>
                </button>
                <Show when=move || menu_open.get()>
                    <div class="account-backdrop" on:click=move |_| menu_open.set(false)></div>
                    <div class="account-menu" id="account-menu">
                        <ul>
                            {account_items()
                                .into_iter()
                                .map(|item| {
                                    let path = item.path;
                                    view! {
                                        <li on:pointerenter=move |_| crate::routes::preload_page(path)>
                                            <A href=item.path>{item.label}</A>
                                        </li>
                                    }
                                })
                                .collect_view()}
                            <li class="account-menu-sep">
                                <button
                                    type="button"
                                    class="btn btn-ghost"
                                    on:click=sign_out.clone()
                                    disabled=move || signing_out.get()
                                >
                                    "Sign out"
                                </button>
                            </li>
                        </ul>
                    </div>
                </Show>
            </div>
        </header>
    }
}

/// The bell in the top bar: unread count, polled every 15 s, and a dropdown of the latest.
#[component]
fn NotificationBell() -> impl IntoView {
    let navigate = use_navigate();
    let list = remote::<NotificationList>(|| "/api/notifications".into());
    poll(list, 15, |_| true);
    let open = RwSignal::new(false);
    let unread = move || match list.get() {
        Some(Ok(l)) => l.unread,
        _ => 0,
    };
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    let mark_all = move |_| {
        spawn_local(async move {
            let _ = api::post_bare("/api/notifications/read-all").await;
            list.refetch();
        });
    };
    let items = move || match list.get() {
        Some(Ok(l)) if !l.items.is_empty() => l
            .items
            .into_iter()
            .map(|n| {
                let id = n.id;
                let link = n.link.clone();
                let unread = n.read_at.is_none();
                let navigate = navigate.clone();
                let on_click = move |_| {
                    open.set(false);
                    if unread {
                        spawn_local(async move {
                            let _ = api::post_bare(&format!("/api/notifications/{id}/read")).await;
                            list.refetch();
                        });
                    }
                    if let Some(link) = &link {
                        navigate(link, Default::default());
                    }
                };
                view! {
                    <li>
                        <button
                            type="button"
                            class=if unread { "notif notif-unread" } else { "notif" }
                            on:click=on_click
                        >
                            <strong class="notif-title">{n.title}</strong>
                            <span class="notif-body">{n.body}</span>
                            <span class="muted small">{relative(&n.created_at)}</span>
                        </button>
                    </li>
                }
            })
            .collect_view()
            .into_any(),
        Some(Err(e)) => view! { <li class="muted notif-empty">{e.message()}</li> }.into_any(),
        _ => view! { <li class="muted notif-empty">"No notifications yet."</li> }.into_any(),
    };
    view! {
        <div class="notif-wrap">
            <button
                type="button"
                class="btn btn-ghost bell"
                aria-label="Notifications"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| {
                    let now = !open.get_untracked();
                    open.set(now);
                    if now {
                        list.refetch();
                    }
                }
            >
                <svg
                    width="18"
                    height="18"
                    viewBox="0 0 24 24"
                    aria-hidden="true"
                    fill="none"
                    stroke="currentColor"
                    stroke-width="2"
                >
                    <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0"></path>
                </svg>
                {move || {
                    let n = unread();
                    (n > 0).then(|| view! { <span class="bell-count">{n}</span> })
                }}
            </button>
            {move || {
                open.get()
                    .then(|| {
                        let items = items.clone();
                        view! {
                            <div class="notif-scrim" on:click=move |_| open.set(false)></div>
                            <div class="notif-panel">
                                <div class="notif-head">
                                    <h2>"Notifications"</h2>
                                    <button type="button" class="btn btn-ghost btn-sm" on:click=mark_all>
                                        "Mark all read"
                                    </button>
                                </div>
                                <ul class="notif-list">{items}</ul>
                            </div>
                        }
                    })
            }}
        </div>
    }
}

#[component]
pub fn NoAccess() -> impl IntoView {
    view! {
        <section class="page">
            <div class="state-panel">
                <div class="state-icon" aria-hidden="true">"⊘"</div>
                <h1>"You don't have access to this page"</h1>
                <p class="muted">
                    "Your roles don't include the permission this page needs. Ask an administrator if you think you should have it."
                </p>
                <A href="/" attr:class="btn btn-primary">
                    "Back to the dashboard"
                </A>
            </div>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <div class="state-panel">
                <div class="state-icon" aria-hidden="true">"?"</div>
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <A href="/" attr:class="btn btn-primary">
                    "Back to the dashboard"
                </A>
            </div>
        </section>
    }
}

/// Renders `children` only when the user's roles grant the permission of the nav entry at `path`.
#[component]
pub fn Guard(path: &'static str, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let permission = NAV_ITEMS
        .iter()
        .find(|i| i.path == path)
        .map(|i| i.permission);
    let allowed = Memo::new(move |_| {
        session.me.with(|m| {
            m.as_ref()
                .is_some_and(|m| permission.is_none_or(|p| roles_grant(&m.roles, p)))
        })
    });
    move || {
        if allowed.get() {
            children().into_any()
        } else {
            view! { <NoAccess /> }.into_any()
        }
    }
}

/// Any other address: a navigation entry this build has no page for yet, or a real 404.
#[component]
pub fn Fallback() -> impl IntoView {
    let location = use_location();
    move || {
        let path = location.pathname.get();
        match NAV_ITEMS.iter().find(|i| i.path == path) {
            Some(item) => view! {
                <Guard path=item.path>
                    <Unavailable label=item.label />
                </Guard>
            }
            .into_any(),
            None => view! { <NotFound /> }.into_any(),
        }
    }
}

#[component]
fn Unavailable(label: &'static str) -> impl IntoView {
    view! {
        <section class="page">
            <header class="page-header">
                <h1>{label}</h1>
            </header>
            <div class="state-panel">
                <div class="state-icon" aria-hidden="true">"⧗"</div>
                <p>"This part of Provisio is not in the web app yet."</p>
                <p class="muted">
                    "Its API is already available: see the "
                    <a href="/api/docs/" rel="external">"API documentation"</a> "."
                </p>
            </div>
        </section>
    }
}

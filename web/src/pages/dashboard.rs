use crate::components::chart::{Bar, BarChart};
use crate::components::feedback::ErrorBanner;
use crate::format::relative;
use crate::format::{permission_text, role_class, role_summary};
use crate::pages::audit::AuditRow;
use crate::remote::remote;
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;
use serde::Deserialize;
use shared::dashboard::{CountBy, SetupProgress};
use shared::dto::{Me, Overview};
use shared::landing::LandingSettings;

/// `shared::dashboard::DashboardStats`, with the activity read as [`AuditRow`]s.
#[derive(Clone, Deserialize)]
struct DashboardStats {
    pending_approvals: Option<u64>,
    funnel: Option<Vec<CountBy>>,
    recent_activity: Option<Vec<AuditRow>>,
    servers_by_status: Option<Vec<CountBy>>,
    running_jobs: Option<u64>,
    requests_by_team: Option<Vec<CountBy>>,
    #[serde(default)]
    my_requests: Vec<CountBy>,
}
use shared::roles::{Permission, Role};
use std::str::FromStr;

#[component]
pub fn Dashboard() -> impl IntoView {
    let session = use_session();
    let overview = remote::<Overview>(|| "/api/overview".into());
    let retry = Callback::new(move |_| overview.refetch());
    let stats = remote::<DashboardStats>(|| "/api/stats/dashboard".into());

    let greeting = move || {
        session.me.with(|m| {
            m.as_ref()
                .map(|m| {
                    let name = m.full_name.split_whitespace().next().unwrap_or(&m.username);
                    format!("Welcome back, {name}.")
                })
                .unwrap_or_default()
        })
    };

    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Dashboard"</h1>
                    <p class="muted">{greeting}</p>
                </div>
            </header>
            // First, while a fresh install still lacks them: the steps everything else needs.
            {move || session.can(Permission::UsersManage).then(|| view! { <FirstSteps /> })}
            {move || match overview.get() {
                    None => view! { <StatSkeleton /> }.into_any(),
                        Some(Ok(o)) => view! { <Stats overview=o /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                    }
                }
            {move || match stats.get() {
                Some(Ok(s)) => Some(view! { <WorkflowStats stats=s /> }),
                _ => None,
            }}
            {move || session.me.get().map(|me| view! { <RoleSections me=me /> })}
        </section>
    }
}

#[component]
fn StatSkeleton() -> impl IntoView {
    view! {
        <div class="stats" aria-hidden="true">
            {(0..3).map(|_| view! { <div class="card stat skeleton-card"></div> }).collect_view()}
        </div>
        <p class="sr-only" role="status">"Loading…"</p>
    }
}

#[component]
fn StatCard(
    label: &'static str,
    value: u64,
    #[prop(default = None)] href: Option<&'static str>,
    #[prop(into)] hint: String,
) -> impl IntoView {
    let body = view! {
        <span class="stat-label">{label}</span>
        <span class="stat-value">{value}</span>
        <span class="stat-hint muted">{hint}</span>
    };
    match href {
        Some(href) => view! {
            <A href=href attr:class="card stat stat-link">
                {body}
            </A>
        }
        .into_any(),
        None => view! { <div class="card stat">{body}</div> }.into_any(),
    }
}

#[component]
fn Stats(overview: Overview) -> impl IntoView {
    let session = use_session();
    let teams_link = session.can(Permission::TeamsRead).then_some("/teams");
    let types_link = session
        .can(Permission::ResourceTypesRead)
        .then_some("/resource-types");
    let tokens_link = session.can(Permission::ApiTokensOwn).then_some("/tokens");
    let users_link = session.can(Permission::UsersManage).then_some("/users");
    let team_hint = if session.can(Permission::AllTeams) {
        "across the organisation"
    } else {
        "you belong to"
    };
    let bars: Option<Vec<Bar>> = overview.users_by_role.as_ref().map(|by_role| {
        Role::ALL
            .into_iter()
            .map(|role| Bar {
                label: role.label().to_owned(),
                value: by_role.get(role.as_str()).copied().unwrap_or(0),
                class: bar_class(role),
            })
            // Counts for roles this build does not know are still worth showing.
            .chain(
                by_role
                    .iter()
                    .filter(|(k, _)| Role::from_str(k).is_err())
                    .map(|(k, v)| Bar {
                        label: k.clone(),
                        value: *v,
                        class: "bar-other",
                    }),
            )
            .collect()
    });
    view! {
        <div class="stats">
            <StatCard label="Teams" value=overview.teams href=teams_link hint=team_hint />
            <StatCard
                label="Resource types"
                value=overview.resource_types
                href=types_link
                hint="in the catalogue"
            />
            <StatCard
                label="API tokens"
                value=overview.api_tokens
                href=tokens_link
                hint="active, yours"
            />
            {overview
                .active_users
                .map(|n| {
                    view! {
                        <StatCard
                            label="Active users"
                            value=n
                            href=users_link
                            hint="with access today"
                        />
                    }
                })}
        </div>
        {bars
            .map(|bars| {
                view! {
                    <div class="card">
                        <h2 class="card-title">"Active users by role"</h2>
                        <p class="muted small">"A user holding several roles counts once per role."</p>
                        <BarChart title="Active users by role" bars=bars />
                    </div>
                }
            })}
    }
}

fn count_bars(counts: Vec<CountBy>, status_colours: bool) -> Vec<Bar> {
    counts
        .into_iter()
        .map(|c| Bar {
            class: if status_colours {
                match c.key.as_str() {
                    "pending" => "bar-pending",
                    "approved" => "bar-approved",
                    "provisioning" => "bar-provisioning",
                    "deployed" => "bar-deployed",
                    "failed" => "bar-failed",
                    _ => "bar-other",
                }
            } else {
                "bar-requester"
            },
            label: c.label,
            value: c.count,
        })
        .collect()
}

#[component]
fn ChartCard(title: &'static str, counts: Vec<CountBy>, status_colours: bool) -> impl IntoView {
    view! {
        <div class="card">
            <h2 class="card-title">{title}</h2>
            {if counts.iter().all(|c| c.count == 0) {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! { <BarChart title=title bars=count_bars(counts, status_colours) /> }.into_any()
            }}
        </div>
    }
}

/// Request and provisioning figures; each section only when the API sends it for the caller.
#[component]
fn WorkflowStats(stats: DashboardStats) -> impl IntoView {
    let approvals_link = use_session()
        .can(Permission::RequestsApprove)
        .then_some("/approvals");
    let cards = (stats.pending_approvals.is_some() || stats.running_jobs.is_some()).then(|| {
        view! {
            <div class="stats">
                // Only for those who may approve: for anyone else it would always be 0.
                {stats
                    .pending_approvals
                    .filter(|_| approvals_link.is_some())
                    .map(|n| {
                        view! {
                            <StatCard
                                label="Pending approvals"
                                value=n
                                href=approvals_link
                                hint="waiting for you"
                            />
                        }
                    })}
                {stats
                    .running_jobs
                    .map(|n| {
                        view! { <StatCard label="Jobs queued or running" value=n hint="provisioning work" /> }
                    })}
            </div>
        }
    });
    let activity = stats.recent_activity.map(|events| {
        view! {
            <div class="card">
                <h2 class="card-title">"Recent activity"</h2>
                {if events.is_empty() {
                    view! { <p class="muted">"Nothing yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="activity">
                            {events
                                .into_iter()
                                .map(|e| {
                                    let who = e
                                        .actor
                                        .as_ref()
                                        .map(crate::format::person)
                                        .unwrap_or_else(|| "Provisio".into());
                                    view! {
                                        <li>
                                            <strong>{who}</strong>
                                            " "
                                            <span class="mono">{e.action}</span>
                                            " "
                                            <span class="muted">{e.target_type}</span>
                                            <span class="muted small">{format!(" · {}", relative(&e.at))}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </div>
        }
    });
    view! {
        {cards}
        <div class="grid-2">
            {stats
                .funnel
                .map(|c| view! { <ChartCard title="Requests by status" counts=c status_colours=true /> })}
            {stats
                .requests_by_team
                .map(|c| view! { <ChartCard title="Requests by team" counts=c status_colours=false /> })}
            {stats
                .servers_by_status
                .map(|c| view! { <ChartCard title="Approved server requests by progress" counts=c status_colours=true /> })}
            <ChartCard title="My requests" counts=stats.my_requests status_colours=true />
            {activity}
        </div>
    }
}

fn bar_class(role: Role) -> &'static str {
    match role {
        Role::Admin => "bar-admin",
        Role::TechnicalAgent => "bar-tech",
        Role::SalesAgent => "bar-sales",
        Role::Requester => "bar-requester",
    }
}

#[component]
fn RoleSections(me: Me) -> impl IntoView {
    let is_admin = me.roles.contains(&Role::Admin);
    let other_roles: Vec<Role> = me
        .roles
        .iter()
        .copied()
        .filter(|r| *r != Role::Admin)
        .collect();
    let teams = me.teams.clone();
    view! {
        <div class="grid-2">
            {is_admin.then(|| view! { <AdminShortcuts /> })}
            {other_roles.into_iter().map(|role| view! { <RoleCard role=role /> }).collect_view()}
            <div class="card">
                <h2 class="card-title">"Your teams"</h2>
                {if teams.is_empty() {
                    view! { <p class="muted">"You're not in any team yet. An administrator can add you to one."</p> }
                        .into_any()
                } else {
                    view! {
                        <ul class="chip-list">
                            {teams
                                .into_iter()
                                .map(|t| view! { <li class="chip">{t.name}</li> })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </div>
        </div>
    }
}

#[component]
fn AdminShortcuts() -> impl IntoView {
    view! {
        <div class="card">
            <div class="card-title-row">
                <h2 class="card-title">"Administration"</h2>
                <span class=role_class(Role::Admin)>{Role::Admin.label()}</span>
            </div>
            <p class="muted">{role_summary(Role::Admin)}</p>
            <div class="shortcuts">
                <A href="/users?new=1" attr:class="shortcut">
                    <span class="shortcut-icon" aria-hidden="true">"+"</span>
                    <span>
                        <strong>"Add a user"</strong>
                        <span class="muted small">"Create an account and assign roles"</span>
                    </span>
                </A>
                <A href="/users" attr:class="shortcut">
                    <span class="shortcut-icon" aria-hidden="true">"☰"</span>
                    <span>
                        <strong>"Manage users"</strong>
                        <span class="muted small">"Roles, activation, password resets"</span>
                    </span>
                </A>
                <A href="/teams" attr:class="shortcut">
                    <span class="shortcut-icon" aria-hidden="true">"◎"</span>
                    <span>
                        <strong>"Manage teams"</strong>
                        <span class="muted small">"Create teams and manage members"</span>
                    </span>
                </A>
                <A href="/providers" attr:class="shortcut">
                    <span class="shortcut-icon" aria-hidden="true">"☁"</span>
                    <span>
                        <strong>"Providers"</strong>
                        <span class="muted small">"Proxmox and Hetzner accounts servers are built on"</span>
                    </span>
                </A>
                <A href="/resource-types" attr:class="shortcut">
                    <span class="shortcut-icon" aria-hidden="true">"▤"</span>
                    <span>
                        <strong>"Resource catalogue"</strong>
                        <span class="muted small">"What teams can request"</span>
                    </span>
                </A>
            </div>
            <LandingToggle />
        </div>
    }
}

/// The steps of a fresh install, each with the screen that does it; shown until all are done.
const FIRST_STEPS: [(&str, &str, &str); 4] = [
    (
        "Add a provider account and test its connection",
        "Proxmox VE or Hetzner Cloud: where servers are built.",
        "/providers",
    ),
    (
        "Create a team and add people to it",
        "Requests, servers and deployments belong to teams.",
        "/teams",
    ),
    (
        "Set an approval policy",
        "Who approves a team's requests, and what is approved at once (Teams → Members).",
        "/teams",
    ),
    (
        "Add your SSH public key",
        "It is put on the servers you request, so you can log in.",
        "/profile",
    ),
];

#[component]
fn FirstSteps() -> impl IntoView {
    let progress = remote::<SetupProgress>(|| "/api/stats/setup".into());
    move || match progress.get() {
        Some(Ok(p)) if !p.done() => {
            let ticks = [
                p.provider_tested,
                p.team_with_members,
                p.approval_policy,
                p.ssh_key,
            ];
            let left = ticks.iter().filter(|t| !**t).count();
            let steps = FIRST_STEPS
                .iter()
                .zip(ticks)
                .map(|((title, why, href), done)| {
                    view! {
                        <li class=if done { "first-step done" } else { "first-step" } data-done=done.to_string()>
                            <span class="first-step-mark" aria-hidden="true">{if done { "✓" } else { "○" }}</span>
                            <span class="sr-only">{if done { "Done: " } else { "To do: " }}</span>
                            <A href=*href>
                                <strong>{*title}</strong>
                            </A>
                            <span class="muted small">{*why}</span>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card first-steps" data-testid="first-steps">
                    <h2 class="card-title">{format!("First steps · {left} of 4 left")}</h2>
                    <ol class="first-step-list">{steps}</ol>
                </section>
            }
            .into_any()
        }
        _ => ().into_any(),
    }
}

/// Whether the public landing page shows the platform's deployment figures.
#[component]
fn LandingToggle() -> impl IntoView {
    let toasts = crate::components::feedback::use_toasts();
    let current = remote::<LandingSettings>(|| "/api/landing/settings".into());
    let saving = RwSignal::new(false);
    let on_change = move |ev: leptos::ev::Event| {
        let show = event_target_checked(&ev);
        crate::task::run(
            saving,
            async move {
                crate::api::put::<_, LandingSettings>(
                    "/api/landing/settings",
                    &LandingSettings {
                        show_statistics: show,
                    },
                )
                .await
            },
            move |result| match result {
                Ok(saved) => {
                    toasts.success(if saved.show_statistics {
                        "The landing page shows the platform's figures"
                    } else {
                        "The landing page no longer shows the platform's figures"
                    });
                    current.set(saved);
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    view! {
        <label class="check" data-testid="landing-statistics-toggle">
            <input
                type="checkbox"
                prop:checked=move || matches!(current.get(), Some(Ok(s)) if s.show_statistics)
                disabled=move || saving.get() || !matches!(current.get(), Some(Ok(_)))
                on:change=on_change
            />
            " Show the number of deployments, by framework, on the public landing page (seen without signing in)"
        </label>
    }
}

#[component]
fn RoleCard(role: Role) -> impl IntoView {
    view! {
        <div class="card">
            <div class="card-title-row">
                <h2 class="card-title">{format!("As a {}", role.label().to_ascii_lowercase())}</h2>
                <span class=role_class(role)>{role.label()}</span>
            </div>
            <p class="muted">{role_summary(role)}</p>
            <h3 class="subhead">"What you can do"</h3>
            <ul class="check-list">
                {role
                    .permissions()
                    .iter()
                    .map(|p| view! { <li>{permission_text(*p)}</li> })
                    .collect_view()}
            </ul>
        </div>
    }
}

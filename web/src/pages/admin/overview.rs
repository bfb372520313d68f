//! The Administration overview: each area with a figure of what is there and a link.

use crate::components::feedback::SkeletonRows;
use crate::format::relative;
use crate::remote::{remote, Remote};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::audit::AuditEvent;
use shared::dto::{Page, Team, User};
use shared::notifications::Webhook;
use shared::providers::ProviderAccount;
use shared::settings::ServerSettings;
use shared::terminal::TerminalSettings;

/// A figure read from `remote`, or a placeholder while it loads and the reason when it failed.
fn figure<T: Clone + Send + Sync + 'static>(
    remote: Remote<T>,
    show: impl Fn(&T) -> String + Send + Sync + 'static,
) -> impl IntoView {
    move || match remote.get() {
        None => view! { <SkeletonRows rows=1 /> }.into_any(),
        Some(Err(e)) => view! { <p class="muted">{e.message()}</p> }.into_any(),
        Some(Ok(value)) => view! { <p class="admin-figure">{show(&value)}</p> }.into_any(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[component]
fn AdminCard(
    title: &'static str,
    href: &'static str,
    link: &'static str,
    about: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card admin-card">
            <h2 class="card-title">
                <A href=href>{title}</A>
            </h2>
            {children()}
            <p class="muted">{about}</p>
            <A href=href attr:class="btn btn-ghost btn-sm admin-link">
                {link}
            </A>
        </section>
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let users = remote::<Page<User>>(|| "/api/users?per_page=1".into());
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=1".into());
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let hooks = remote::<Vec<Webhook>>(|| "/api/webhooks".into());
    let terminal = remote::<TerminalSettings>(|| "/api/terminal/settings".into());
    let settings = remote::<ServerSettings>(|| "/api/settings".into());
    let audit = remote::<Page<AuditEvent>>(|| "/api/audit?per_page=1".into());
    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Administration"</h1>
                    <p class="muted">
                        "The settings of this installation in one place: who can sign in, how requests are approved, where servers come from, who is told what, and what is recorded."
                    </p>
                </div>
            </header>
            <div class="admin-grid" data-testid="admin-areas">
                <AdminCard
                    title="Users"
                    href="/users"
                    link="Manage users"
                    about="Accounts, their roles and teams; deactivate people who left."
                >
                    {figure(users, |p| plural(p.total as usize, "user", "users"))}
                </AdminCard>
                <AdminCard
                    title="Teams and approval policies"
                    href="/admin/policies"
                    link="Review approval policies"
                    about="Who approves each team's requests, in which order, and what is approved at once."
                >
                    {figure(teams, |p| plural(p.total as usize, "team", "teams"))}
                    <A href="/teams">"Teams and their members"</A>
                </AdminCard>
                <AdminCard
                    title="Provider accounts"
                    href="/providers"
                    link="Manage providers"
                    about="Hetzner Cloud and Proxmox VE accounts, their catalogues and connection tests."
                >
                    {figure(
                        accounts,
                        |list| {
                            let ready = list.iter().filter(|a| a.ready).count();
                            format!("{ready} of {} offered to requesters", list.len())
                        },
                    )}
                </AdminCard>
                <AdminCard
                    title="Webhooks and e-mail"
                    href="/admin/webhooks"
                    link="Manage notifications"
                    about="Where notifications go besides the bell: signed webhooks and e-mail."
                >
                    {figure(hooks, |list| plural(list.len(), "webhook", "webhooks"))}
                    {move || {
                        settings
                            .get()
                            .and_then(Result::ok)
                            .map(|s| match s.email.smtp_server {
                                Some(server) => format!("E-mail through {server}"),
                                None => "E-mail is off".to_owned(),
                            })
                    }}
                </AdminCard>
                <AdminCard
                    title="Terminal programs"
                    href="/admin/terminal"
                    link="Edit the allowed programs"
                    about="The programs a project's terminal may start in its checkout."
                >
                    {figure(
                        terminal,
                        |t| {
                            if t.allowed_commands.is_empty() {
                                "None allowed".to_owned()
                            } else {
                                t.allowed_commands.join(", ")
                            }
                        },
                    )}
                </AdminCard>
                <AdminCard
                    title="Security"
                    href="/admin/security"
                    link="See the security settings"
                    about="Sessions, sign-in limits and where Provisio may connect, as the server runs now."
                >
                    {figure(
                        settings,
                        |s| {
                            format!(
                                "Sessions last {} days",
                                s.sign_in.session_days,
                            )
                        },
                    )}
                </AdminCard>
                <AdminCard
                    title="Audit log"
                    href="/audit"
                    link="Open the audit log"
                    about="Every change and sign-in, who made it and what changed."
                >
                    {figure(
                        audit,
                        |p| {
                            p.items
                                .first()
                                .map(|e| format!("Last: {} ({})", e.summary, relative(&e.at)))
                                .unwrap_or_else(|| "Nothing recorded yet".to_owned())
                        },
                    )}
                </AdminCard>
            </div>
        </section>
    }
}

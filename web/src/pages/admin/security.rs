//! The security settings in effect. They come from the service's environment, so the page says
//! which variable sets each one instead of offering a form that could not change it.

use super::AdminHeader;
use crate::components::feedback::{ErrorBanner, SkeletonRows};
use crate::format::span;
use crate::remote::remote;
use leptos::prelude::*;
use shared::settings::ServerSettings;

fn allowed(yes: bool) -> &'static str {
    if yes {
        "allowed"
    } else {
        "refused"
    }
}

/// One setting: its name, its value and the variable that sets it.
fn row(name: &'static str, value: String, variable: &'static str) -> impl IntoView {
    view! {
        <dt>{name}</dt>
        <dd>
            {value} <br /> <code class="muted">{variable}</code>
        </dd>
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let settings = remote::<ServerSettings>(|| "/api/settings".into());
    let retry = Callback::new(move |_| settings.refetch());
    view! {
        <section class="page">
            <AdminHeader
                title="Security"
                intro="How sessions and sign-in are limited, where Provisio may connect on a user's behalf and where user code runs. These are set in the service's environment (for example its systemd unit) and take effect when it restarts; which roles must use two-factor sign-in, and whether people may register, are set below."
            />
            {move || match settings.get() {
                None => view! { <SkeletonRows rows=6 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(s)) => {
                    let sign_in = s.sign_in;
                    let email_configured = s.email.smtp_server.is_some();
                    let network = s.network;
                    let sandbox = match (s.sandbox.program, s.sandbox.installed) {
                        (Some(program), true) => format!(
                            "in a bubblewrap sandbox ({program}): as nobody, without the key file, the database or other projects' files, and without a network of their own (playbooks reach their hosts, terminal programs go out through a proxy under the Git rule above)"
                        ),
                        (Some(program), false) => format!(
                            "{program} is not installed: playbooks and terminal programs fail to start until it is (apt install bubblewrap)"
                        ),
                        (None, _) => "off: they run with the service's own rights, and can read its key file and database".to_string(),
                    };
                    view! {
                        <section class="card">
                            <h2 class="card-title">"Sessions and sign-in"</h2>
                            <dl class="settings-list" data-testid="security-sign-in">
                                {row("Access token lifetime", span(sign_in.access_token_secs), "PROVISIO_ACCESS_TOKEN_TTL_SECS")}
                                {row("Session lifetime", format!("{} days", sign_in.session_days), "PROVISIO_REFRESH_TOKEN_TTL_DAYS")}
                                {row(
                                    "Cookies only over HTTPS",
                                    if sign_in.secure_cookies { "yes".into() } else { "no: turn on when served over HTTPS".into() },
                                    "PROVISIO_SECURE_COOKIES",
                                )}
                                {row(
                                    "Wrong passwords before tries slow down",
                                    format!(
                                        "{} per address, then 1 s, 2 s, 4 s … up to {} between tries",
                                        sign_in.free_failures,
                                        span(sign_in.max_delay_secs),
                                    ),
                                    "PROVISIO_LOGIN_FREE_FAILURES",
                                )}
                                {row(
                                    "Wrong passwords per account",
                                    format!(
                                        "{} in {} from all addresses; then only addresses it signed in from before",
                                        sign_in.account_failures,
                                        span(sign_in.account_window_secs),
                                    ),
                                    "PROVISIO_LOGIN_MAX_FAILURES",
                                )}
                                {row(
                                    "Sign-in attempts per address",
                                    format!("{} in {}", sign_in.address_attempts, span(sign_in.address_window_secs)),
                                    "PROVISIO_LOGIN_MAX_PER_IP",
                                )}
                                {row(
                                    "Trusted reverse proxies",
                                    if sign_in.trusted_proxies.is_empty() { "none: client addresses are taken from the connection".into() } else { sign_in.trusted_proxies.join(", ") },
                                    "PROVISIO_TRUSTED_PROXIES",
                                )}
                            </dl>
                        </section>
                        <section class="card">
                            <h2 class="card-title">"Where Provisio may connect"</h2>
                            <p class="muted">
                                "Git URLs, provider endpoints and webhook URLs are typed by people; private networks (loopback, the LAN, cloud metadata) are checked when they are saved and before every connection."
                            </p>
                            <dl class="settings-list" data-testid="security-network">
                                {row("Git repositories on private networks", allowed(network.git_private_networks).into(), "PROVISIO_GIT_PRIVATE_NETWORKS")}
                                {row("Providers on private networks", allowed(network.provider_private_networks).into(), "PROVISIO_PROVIDER_PRIVATE_NETWORKS")}
                                {row("Webhooks to private networks", allowed(network.webhook_private_networks).into(), "PROVISIO_WEBHOOK_PRIVATE_NETWORKS")}
                                {row(
                                    "Always allowed",
                                    if network.allowlist.is_empty() { "nothing beyond the above".into() } else { network.allowlist.join(", ") },
                                    "PROVISIO_NETWORK_ALLOWLIST",
                                )}
                            </dl>
                        </section>
                        <section class="card">
                            <h2 class="card-title">"Where user code runs"</h2>
                            <p class="muted">
                                "Playbooks may run tasks on this host (delegate_to: localhost) and terminal programs run what a checkout's Makefile or git configuration names."
                            </p>
                            <dl class="settings-list" data-testid="security-sandbox">
                                {row("Playbooks and terminal programs", sandbox, "PROVISIO_SANDBOX")}
                            </dl>
                        </section>
                        <crate::pages::register::RegistrationPolicyCard email_configured=email_configured />
                    }
                        .into_any()
                }
            }}
            <crate::pages::two_factor::TwoFactorPolicyCard />
        </section>
    }
}

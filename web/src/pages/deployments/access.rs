//! SSH access to a deployment's own new server: the public key on it, and the generated private
//! key offered once to the person who deployed.

use super::Shown;
use crate::api;
use crate::components::download::offer_file;
use crate::components::feedback::use_toasts;
use crate::remote::Remote;
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use shared::deployments::{Deployment, PrivateKeyDownload};

/// `ssh -i <file> root@203.0.113.7`, or the same with a placeholder while there is no address.
fn login_command(file: &str, user: &str, address: Option<&str>) -> String {
    format!("ssh -i {file} {user}@{}", address.unwrap_or("<address>"))
}

#[component]
pub(super) fn SshAccess(shown: Shown, deployment: Remote<Deployment>) -> impl IntoView {
    let toasts = use_toasts();
    let session = use_session();
    let taking = RwSignal::new(false);
    let facts = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().and_then(|d| {
                let mine = session
                    .me
                    .with(|m| m.as_ref().map(|m| m.id) == d.created_by);
                d.ssh_public_key.clone().map(|key| {
                    (
                        d.id,
                        d.name.clone(),
                        key,
                        d.private_key_available && mine,
                        d.ip_address.clone(),
                    )
                })
            })
        })
    });
    let take = move |id: uuid::Uuid| {
        task::run(
            taking,
            async move {
                api::post_empty::<PrivateKeyDownload>(&format!("/api/deployments/{id}/private-key"))
                    .await
            },
            move |result| match result {
                Ok(key) => {
                    match offer_file(&key.file_name, "application/x-pem-file", &key.private_key) {
                        Ok(()) => toasts.success(format!(
                            "Saved {}. Provisio no longer has it: keep the file safe.",
                            key.file_name
                        )),
                        Err(e) => toasts.error(e),
                    }
                    deployment.refetch();
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    move || {
        facts.get().map(|(id, name, key, downloadable, address)| {
            let file = format!("{name}_ed25519");
            let command = login_command(&file, "root", address.as_deref());
            view! {
                <div class="card" data-testid="deployment-ssh">
                    <h2 class="card-title">"SSH access"</h2>
                    <p class="muted">"This public key can log in to the deployment's server:"</p>
                    <p class="mono wrap-anywhere" data-testid="deployment-ssh-key">{key}</p>
                    {if downloadable {
                        view! {
                            <div class="alert alert-warning" role="note">
                                <div class="alert-body">
                                    <strong>"Download the private key now"</strong>
                                    <p>
                                        "Provisio generated this key pair for you. You can download the private key once; Provisio keeps no copy after that."
                                    </p>
                                </div>
                                <button
                                    type="button"
                                    class="btn btn-primary btn-sm"
                                    data-testid="deployment-key-download"
                                    disabled=move || taking.get()
                                    aria-busy=move || taking.get().then_some("true")
                                    on:click=move |_| take(id)
                                >
                                    "Download private key"
                                </button>
                            </div>
                        }
                            .into_any()
                    } else {
                        view! {
                            <p class="muted">
                                "Log in with the private key you downloaded or your own, e.g. "
                                <code>{command}</code>
                            </p>
                        }
                            .into_any()
                    }}
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_command_names_the_file_user_and_address() {
        assert_eq!(
            login_command("shop_ed25519", "root", Some("203.0.113.7")),
            "ssh -i shop_ed25519 root@203.0.113.7"
        );
        assert_eq!(
            login_command("shop_ed25519", "root", None),
            "ssh -i shop_ed25519 root@<address>"
        );
    }
}

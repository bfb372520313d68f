//! The deploy form's managed resources: the team's ready ones, ticked to bind; each gives the
//! app its connection in its engine's variable. The framework's usual engine comes first.

use crate::remote::remote;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::dto::Page;
use shared::resources::{Resource, ResourceStatus};
use uuid::Uuid;

/// The catalogue type a framework's apps usually take as their database.
fn usual_type(framework: &str) -> Option<&'static str> {
    match framework {
        "flask" | "django" | "fastapi" => Some("db-postgresql"),
        "lamp" | "laravel" => Some("db-mariadb"),
        _ => None,
    }
}

#[component]
pub(super) fn ResourcePicker(
    /// The app's team, when known; else every team's ready resources are offered.
    #[prop(into)]
    team: Signal<Option<Uuid>>,
    #[prop(into)] framework: Signal<String>,
    /// The ids ticked.
    chosen: RwSignal<Vec<String>>,
) -> impl IntoView {
    let ready = remote::<Page<Resource>>(|| {
        format!(
            "/api/resources?status={}&per_page=200",
            ResourceStatus::Ready.as_str()
        )
    });
    let offered = Memo::new(move |_| {
        let usual = usual_type(&framework.get());
        let mut list: Vec<Resource> = match ready.get() {
            Some(Ok(page)) => page
                .items
                .into_iter()
                .filter(|r| r.connection_form.is_some())
                .filter(|r| team.get().is_none_or(|t| r.team.id == t))
                .collect(),
            _ => Vec::new(),
        };
        list.sort_by_key(|r| (Some(r.resource_type.slug.as_str()) != usual, r.name.clone()));
        list
    });
    let hint = move || {
        match usual_type(&framework.get()) {
        Some("db-postgresql") => {
            "This framework's apps usually take a PostgreSQL database: bind one and the app reads DATABASE_URL."
        }
        Some(_) => {
            "This framework's apps usually take a MariaDB database: bind one and the app reads DATABASE_URL."
        }
        None => "PostgreSQL and MariaDB arrive as DATABASE_URL, Redis as REDIS_URL, passwords included.",
    }
    };
    view! {
        <fieldset class="field" data-testid="deploy-resources">
            <legend>"Managed resources"</legend>
            <p class="field-hint">{hint}</p>
            {move || {
                let list = offered.get();
                if list.is_empty() {
                    view! {
                        <p class="muted small">
                            "No ready resource of this team to bind. "
                            <A href="/resources">"Request a database"</A>
                            " and bind it here once it is ready."
                        </p>
                    }
                        .into_any()
                } else {
                    list.into_iter()
                        .map(|r| {
                            let id = r.id.to_string();
                            let input_id = format!("bind-{id}");
                            let label_for = input_id.clone();
                            let var = r.connection_form.map(|f| f.env_var()).unwrap_or_default();
                            let label = format!("{} — {} ({var})", r.name, r.resource_type.name);
                            let ticked = id.clone();
                            let toggled = id.clone();
                            view! {
                                <label class="check check-field" for=label_for>
                                    <input
                                        type="checkbox"
                                        id=input_id
                                        prop:checked=move || chosen.with(|c| c.contains(&ticked))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                c.retain(|x| *x != toggled);
                                                if on {
                                                    c.push(toggled.clone());
                                                }
                                            });
                                        }
                                    />
                                    {label}
                                </label>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            }}
        </fieldset>
    }
}

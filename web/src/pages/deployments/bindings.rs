//! The deploy form's managed resources: the team's ready ones (and those still being asked for
//! or set up), ticked to bind; each gives the app its connection in its engine's variable. The
//! framework's usual engine comes first, and when the team has none of it the form offers to
//! ask for one on the app's server with the app: the deployment then waits until it is ready.

use crate::api;
use crate::remote::remote;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::dto::Page;
use shared::resources::{resource_name, CreateResource, Resource, ResourceStatus};
use uuid::Uuid;

/// Where the app goes when that is a running server: the server and its team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AppServer {
    pub server: Uuid,
    pub team: Uuid,
}

/// A resource that may be bound: ready, or on its way.
fn bindable(status: ResourceStatus) -> bool {
    matches!(
        status,
        ResourceStatus::Ready
            | ResourceStatus::Updating
            | ResourceStatus::Pending
            | ResourceStatus::Provisioning
    )
}

/// A database name for the app `app`: its name in the resource names' alphabet, with `_db`.
fn database_name(app: &str) -> String {
    let mut name: String = app
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "app_");
    }
    name.truncate(29);
    let name = name.trim_end_matches('_').to_owned();
    format!("{name}_db")
}

fn engine_of(slug: &str) -> &'static str {
    match slug {
        "db-postgresql" => "PostgreSQL",
        _ => "MariaDB",
    }
}

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
    /// The running server the app goes on, when it goes on one: a database can be asked for
    /// there.
    #[prop(into)]
    app_server: Signal<Option<AppServer>>,
    /// The app's name, for the name of a database asked for with it.
    #[prop(into)]
    app_name: Signal<String>,
) -> impl IntoView {
    let found = remote::<Page<Resource>>(|| "/api/resources?per_page=200".into());
    // Asked for here: shown (ticked) before the list is loaded again.
    let asked = RwSignal::new(Vec::<Resource>::new());
    let offered = Memo::new(move |_| {
        let usual = usual_type(&framework.get());
        let team = team.get().or(app_server.get().map(|s| s.team));
        let mut list: Vec<Resource> = match found.get() {
            Some(Ok(page)) => page.items,
            _ => Vec::new(),
        };
        for r in asked.get() {
            if !list.iter().any(|l| l.id == r.id) {
                list.push(r);
            }
        }
        let mut list: Vec<Resource> = list
            .into_iter()
            .filter(|r| r.connection_form.is_some() && bindable(r.status))
            .filter(|r| team.is_none_or(|t| r.team.id == t))
            .collect();
        list.sort_by_key(|r| (Some(r.resource_type.slug.as_str()) != usual, r.name.clone()));
        list
    });
    let has_usual = Memo::new(move |_| {
        let usual = usual_type(&framework.get());
        usual.is_some()
            && offered
                .get()
                .iter()
                .any(|r| Some(r.resource_type.slug.as_str()) == usual)
    });
    let db_name = RwSignal::new(String::new());
    Effect::new(move |_| {
        let app = app_name.get();
        db_name.set(database_name(if app.trim().is_empty() {
            "app"
        } else {
            &app
        }));
    });
    let asking = RwSignal::new(false);
    let ask_error = RwSignal::new(None::<String>);
    let ask = move |_| {
        let (Some(kind), Some(target)) = (
            usual_type(&framework.get_untracked()),
            app_server.get_untracked(),
        ) else {
            return;
        };
        let name = db_name.get_untracked().trim().to_owned();
        if let Err(m) = resource_name(&name) {
            ask_error.set(Some(format!("Name: {m}")));
            return;
        }
        let app = app_name.get_untracked();
        let body = CreateResource {
            team_id: target.team,
            resource_type: kind.to_owned(),
            name,
            server_id: Some(target.server),
            new_server: None,
            parameters: Default::default(),
            purpose: format!(
                "The database of the app {}",
                if app.trim().is_empty() {
                    "deployed with it"
                } else {
                    app.trim()
                }
            ),
        };
        asking.set(true);
        ask_error.set(None);
        leptos::task::spawn_local(async move {
            match api::post::<_, Resource>("/api/resources", &body).await {
                Ok(mut made) => {
                    // Whoever may approve it does so at once, as with a new server.
                    if made.may_approve {
                        let url = format!("/api/resources/{}/approve", made.id);
                        if api::post_empty::<serde_json::Value>(&url).await.is_ok() {
                            made.status = ResourceStatus::Provisioning;
                        }
                    }
                    chosen.update(|c| c.push(made.id.to_string()));
                    asked.update(|a| a.push(made));
                }
                Err(e) => {
                    let fields: Vec<String> = e.fields.values().flatten().cloned().collect();
                    ask_error.set(Some(if fields.is_empty() {
                        e.message()
                    } else {
                        fields.join("; ")
                    }));
                }
            }
            asking.set(false);
        });
    };
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
    let offer = move || {
        // Every signal read before any early return, so each change renders the offer again.
        let target = app_server.get();
        let kind = usual_type(&framework.get());
        let has = has_usual.get();
        let kind = kind.filter(|_| !has)?;
        let engine = engine_of(kind);
        Some(match target {
            Some(_) => view! {
                <div class="offer" data-testid="deploy-offer-database">
                    <p class="small">{format!("This team has no {engine} database yet. Ask for one on the app's server with the app:")}</p>
                    <div class="inline-form">
                        <label class="sr-only" for="deploy-offer-name">"Database name"</label>
                        <input id="deploy-offer-name" class="mono" bind:value=db_name autocomplete="off" />
                        <button type="button" class="btn" data-testid="deploy-offer-ask" disabled=move || asking.get() on:click=ask>
                            {move || if asking.get() { "Asking…".to_string() } else { format!("Ask for a {engine} database") }}
                        </button>
                    </div>
                    <p class="field-hint">"It goes to your team's approvers (at once, when you may approve it). The app is deployed when the database is ready; its log says what it waits for."</p>
                    {move || ask_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
            }.into_any(),
            None => view! {
                <p class="muted small" data-testid="deploy-offer-database">
                    {format!("This team has no {engine} database yet. Deploy onto a running server to ask for one with the app, or ")}
                    <A href="/resources">"request one"</A>
                    " and bind it here."
                </p>
            }.into_any(),
        })
    };
    view! {
        <fieldset class="field" data-testid="deploy-resources">
            <legend>"Managed resources"</legend>
            <p class="field-hint">{hint}</p>
            {offer}
            {move || {
                let list = offered.get();
                if list.is_empty() {
                    let none = usual_type(&framework.get()).is_none().then(|| view! {
                        <p class="muted small">
                            "No resource of this team to bind. "
                            <A href="/resources">"Request a database"</A>
                            " and bind it here."
                        </p>
                    });
                    none.into_any()
                } else {
                    list.into_iter()
                        .map(|r| {
                            let id = r.id.to_string();
                            let input_id = format!("bind-{id}");
                            let label_for = input_id.clone();
                            let var = r.connection_form.map(|f| f.env_var()).unwrap_or_default();
                            let state = match r.status {
                                ResourceStatus::Pending => " · waiting for approval",
                                ResourceStatus::Provisioning => " · being set up",
                                _ => "",
                            };
                            let label = format!("{} — {} ({var}){state}", r.name, r.resource_type.name);
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

//! Managed resources through the API: the catalogue administrators manage, requests checked
//! against the catalogue, the team's servers and the recipe's settings, the team's approval
//! policy step by step, the technical agents' queue for types set up by hand, and the secret:
//! sealed, revealed only to the team's allowed roles, every reveal audited, never in an audit
//! row. (The recipes themselves run against real engines in `resource_recipes.rs`.)

mod common;

use common::{assert_problem, insert_server, provider_body, spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::Role;

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// The notifications of kind `kind` `session` has, as the bell lists them.
async fn notified(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let list = json_of(app.get("/api/notifications", token).await, StatusCode::OK).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

async fn resource_type(app: &TestApp, slug: &str) -> Value {
    let types = json_of(
        app.get("/api/resource-types", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} in {types}"))
        .clone()
}

#[tokio::test]
async fn administrators_manage_the_catalogue_and_retired_types_take_no_requests() {
    let app = spawn_app().await;
    let postgres = resource_type(&app, "db-postgresql").await;
    assert_eq!(postgres["provisioning"], "recipe");
    assert_eq!(postgres["built_in"], true);
    assert_eq!(postgres["recipe"]["connection"], "postgres");
    let names: Vec<&str> = postgres["recipe"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["port", "cluster", "connection_limit"]);
    let ceph = resource_type(&app, "storage-ceph").await;
    assert_eq!(ceph["provisioning"], "manual");
    assert_eq!(ceph["recipe"], Value::Null);

    let body = json!({"slug": "db-mysql", "name": "MySQL", "category": "database",
                      "description": "MySQL 8 set up by the DBA team", "provisioning": "manual"});
    let created = json_of(
        app.post("/api/resource-types", &app.admin.token, body.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["built_in"], false);
    assert_eq!(created["retired"], false);
    let id = created["id"].as_str().unwrap();
    let again = assert_problem(
        app.post("/api/resource-types", &app.admin.token, body.clone())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(again["errors"]["slug"][0], "another type has this slug");
    let unknown = assert_problem(
        app.post(
            "/api/resource-types",
            &app.admin.token,
            json!({"slug": "db-oracle", "name": "Oracle", "category": "database",
                   "provisioning": "recipe", "recipe": "oracle"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        unknown["errors"]["recipe"][0],
        "no recipe is called `oracle`; the shipped ones are postgresql, mariadb, redis, sqlite, nfs"
    );
    let renamed = assert_problem(
        app.put(
            &format!("/api/resource-types/{id}"),
            &app.admin.token,
            json!({"slug": "db-mysql8", "name": "MySQL", "category": "database",
                   "provisioning": "manual"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(renamed["errors"]["slug"][0]
        .as_str()
        .unwrap()
        .starts_with("a type's slug stays as created"));

    let team = app.create_team("Catalogue users").await;
    let requester = app
        .user_with("asker", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let refused = app
        .post("/api/resource-types", &requester.token, body.clone())
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    let ask = json!({"team_id": team, "resource_type": "db-mysql", "name": "shop",
                     "purpose": "the shop's orders"});
    json_of(
        app.post("/api/resources", &requester.token, ask.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut retire = body.clone();
    retire["retired"] = json!(true);
    let retired = json_of(
        app.put(
            &format!("/api/resource-types/{id}"),
            &app.admin.token,
            retire,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(retired["retired"], true);
    let mut later = ask.clone();
    later["name"] = json!("shop_two");
    let problem = assert_problem(
        app.post("/api/resources", &requester.token, later).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"]["resource_type"][0],
        "MySQL is retired and takes no new requests"
    );
    // The resource asked for before stays, with its type.
    let listed = json_of(
        app.get("/api/resources", &requester.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["resource_type"]["slug"], "db-mysql");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action LIKE 'resource_type.%'")
            .await,
        2
    );
}

#[tokio::test]
async fn requests_are_checked_against_the_catalogue_the_servers_and_the_recipe() {
    let app = spawn_app().await;
    let provider: Value = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Resource hosts"),
        )
        .await
        .json()
        .await
        .unwrap();
    let provider = provider["id"].as_str().unwrap();
    let team = app.create_team("Shop").await;
    let other = app.create_team("Elsewhere").await;
    let server = insert_server(&app, &team, provider, "shop-db", "pve1/qemu/700").await;
    let foreign = insert_server(&app, &other, provider, "other-db", "pve1/qemu/701").await;
    let requester = app
        .user_with("asker", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let ask = |body: Value| {
        let app = &app;
        let token = requester.token.clone();
        async move { app.post("/api/resources", &token, body).await }
    };
    let bad = assert_problem(
        ask(
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "Shop-DB",
                   "purpose": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["errors"]["name"][0]
        .as_str()
        .unwrap()
        .starts_with("use 1 to 32 lower-case letters"));
    assert!(bad["errors"]["purpose"].is_array());
    let no_server = assert_problem(
        ask(
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "shop",
                   "purpose": "orders", "parameters": {"port": 80, "cluster": "main",
                   "size": 3}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        no_server["errors"]["server_id"][0],
        "choose the team's server PostgreSQL goes on, or ask for a new one"
    );
    assert_eq!(
        no_server["errors"]["parameters.port"][0],
        "must be at least 1024"
    );
    assert_eq!(
        no_server["errors"]["parameters.size"][0],
        "is not a setting of this type (it has port, cluster, connection_limit)"
    );
    let elsewhere = assert_problem(
        ask(
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "shop",
                   "purpose": "orders", "server_id": foreign}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        elsewhere["errors"]["server_id"][0],
        "no such server in this team"
    );
    let manual = assert_problem(
        ask(
            json!({"team_id": team, "resource_type": "storage-ceph", "name": "media",
                   "purpose": "images", "parameters": {"size_gb": 100}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(manual["errors"]["parameters"][0]
        .as_str()
        .unwrap()
        .starts_with("Ceph is set up by hand and takes no settings"));
    let not_mine = assert_problem(
        ask(
            json!({"team_id": other, "resource_type": "storage-ceph", "name": "media",
                   "purpose": "images"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(not_mine["errors"]["team_id"].is_array());
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM resources").await, 0);

    let made = json_of(
        ask(
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "shop",
                   "purpose": "orders", "server_id": server, "parameters": {"port": 5433}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["status"], "pending");
    assert_eq!(
        made["parameters"],
        json!({"port": 5433, "cluster": "main", "connection_limit": 20})
    );
    assert_eq!(made["server"]["name"], "shop-db");
    assert_eq!(made["connection"], Value::Null);
    let twice = assert_problem(
        ask(
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "shop",
                   "purpose": "orders again", "server_id": server}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        twice["errors"]["name"][0],
        "another resource has this name there; choose another"
    );
    // The administrators were told, with a link to the resource.
    let told = notified(&app, &app.admin.token, "resource.pending").await;
    assert_eq!(told.len(), 1);
    assert_eq!(
        told[0]["link"],
        format!("/resources/{}", made["id"].as_str().unwrap())
    );
}

/// A type set up by hand, under a two-step policy: a technical agent, then an administrator;
/// then the team's technical agents' queue; a reveal for the requester, audited; nothing of the
/// secret in any audit row; another team sees nothing.
#[tokio::test]
async fn a_resource_set_up_by_hand_is_approved_fulfilled_revealed_and_deleted() {
    let app = spawn_app().await;
    let team = app.create_team("Media").await;
    let other = app.create_team("Outsiders").await;
    let requester = app
        .user_with("asker", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let tech = app
        .user_with("tech", &[Role::TechnicalAgent], std::slice::from_ref(&team))
        .await;
    let sales = app
        .user_with("sales", &[Role::SalesAgent], std::slice::from_ref(&team))
        .await;
    let outsider = app
        .user_with(
            "outsider",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&other),
        )
        .await;
    let policy = json!({
        "steps": [
            {"approvers": {"kind": "role", "role": "technical_agent"}, "rule": "any"},
            {"approvers": {"kind": "role", "role": "admin"}, "rule": "any"}
        ],
        "auto_approve": null
    });
    json_of(
        app.put(
            &format!("/api/teams/{team}/approval-policy"),
            &app.admin.token,
            policy,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let made = json_of(
        app.post(
            "/api/resources",
            &requester.token,
            json!({"team_id": team, "resource_type": "storage-ceph", "name": "media",
                   "purpose": "product images, about 200 GB"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/api/resources/{id}/{action}");
    assert_eq!(made["may_approve"], false);

    // Step one: the requester may not approve it, the technical agent may.
    assert_problem(
        app.post(&path("approve"), &requester.token, json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let seen = json_of(
        app.get(&format!("/api/resources/{id}"), &tech.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["may_approve"], true);
    let step = json_of(
        app.post(&path("approve"), &tech.token, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(step["status"], "pending");
    assert_eq!(step["policy_step"], 1);
    assert_eq!(step["may_approve"], false);
    // Nothing to reveal before it exists.
    assert_problem(
        app.post(&path("reveal"), &requester.token, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    let approved = json_of(
        app.post(&path("approve"), &app.admin.token, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["status"], "awaiting_fulfilment");
    // The team's technical agents have the task; their queue is the list by status.
    let task = notified(&app, &tech.token, "resource.fulfil").await;
    assert_eq!(task.len(), 1);
    assert_eq!(task[0]["link"], format!("/resources/{id}"));
    let queue = json_of(
        app.get("/api/resources?status=awaiting_fulfilment", &tech.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"][0]["id"], id.as_str());

    // Only technical agents fulfil; the details are checked per field.
    assert_problem(
        app.post(&path("fulfil"), &requester.token, json!({"host": "x"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let bad = assert_problem(
        app.post(
            &path("fulfil"),
            &tech.token,
            json!({"host": "ceph mon", "port": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["errors"]["host"].is_array());
    assert!(bad["errors"]["port"].is_array());
    let key = "AQBmZWRjYmFAAAAAAAAAsecret-ceph-key==";
    let ready = json_of(
        app.post(
            &path("fulfil"),
            &tech.token,
            json!({"host": "ceph-mon.internal", "port": 6789, "database": "media-pool",
                   "username": "client.media", "secret": key}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["host"], "ceph-mon.internal");
    assert_eq!(ready["has_secret"], true);
    assert!(!ready.to_string().contains(key));

    // The requester reveals it; a sales agent of the team sees it but may not reveal it;
    // another team's technical agent finds nothing.
    let revealed = app.post(&path("reveal"), &requester.token, json!({})).await;
    assert_eq!(revealed.headers().get("cache-control").unwrap(), "no-store");
    let revealed = json_of(revealed, StatusCode::OK).await;
    assert_eq!(revealed["secret"], key);
    json_of(
        app.get(&format!("/api/resources/{id}"), &sales.token).await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        app.post(&path("reveal"), &sales.token, json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    for action in ["reveal", "approve", "retry"] {
        assert_problem(
            app.post(&path(action), &outsider.token, json!({})).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    assert_problem(
        app.get(&format!("/api/resources/{id}"), &outsider.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let reveals = json_of(
        app.get("/api/audit?action=resource.reveal", &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(reveals["total"], 1, "{reveals}");
    assert_eq!(reveals["items"][0]["target_id"], id.as_str());
    assert_eq!(reveals["items"][0]["actor"]["id"], requester.id.as_str());
    // A set-up-by-hand resource gets its new password from a technical agent, not a recipe.
    assert_problem(
        app.post(&path("rotate"), &requester.token, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;

    let wrong = assert_problem(
        app.post(
            &path("delete"),
            &requester.token,
            json!({"confirm": "Media"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        wrong["errors"]["confirm"][0],
        "type the resource's name, media, to confirm: its data is dropped"
    );
    let deleted = json_of(
        app.post(
            &path("delete"),
            &requester.token,
            json!({"confirm": "media"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(deleted["has_secret"], false);
    let listed = json_of(
        app.get("/api/resources", &requester.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 0);
    // The secret is in no audit row, sealed or not; the key appears nowhere in clear.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE CAST(\"before\" AS TEXT) LIKE '%secret-ceph%' OR CAST(\"after\" AS TEXT) LIKE '%secret-ceph%'"
        )
        .await,
        0
    );
    // Asked, approved twice, fulfilled, revealed, deleted.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action LIKE 'resource.%'")
            .await,
        6
    );
}

#[tokio::test]
async fn a_rejected_request_tells_the_requester_why_and_a_cancelled_one_stays_cancelled() {
    let app = spawn_app().await;
    let team = app.create_team("Reports").await;
    let requester = app
        .user_with("asker", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let ask = |name: &'static str| {
        let app = &app;
        let token = requester.token.clone();
        let team = team.clone();
        async move {
            json_of(
                app.post(
                    "/api/resources",
                    &token,
                    json!({"team_id": team, "resource_type": "bigdata-trino", "name": name,
                           "purpose": "quarterly reports"}),
                )
                .await,
                StatusCode::CREATED,
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = ask("reports").await;
    let short = assert_problem(
        app.post(
            &format!("/api/resources/{first}/reject"),
            &app.admin.token,
            json!({"reason": "no"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(short["errors"]["reason"].is_array());
    let rejected = json_of(
        app.post(
            &format!("/api/resources/{first}/reject"),
            &app.admin.token,
            json!({"reason": "use the shared Trino cluster"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejection_reason"], "use the shared Trino cluster");
    let told = notified(&app, &requester.token, "resource.rejected").await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["body"], "use the shared Trino cluster");
    let second = ask("reports_two").await;
    let cancelled = json_of(
        app.post(
            &format!("/api/resources/{second}/cancel"),
            &requester.token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    let late = assert_problem(
        app.post(
            &format!("/api/resources/{second}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        late["detail"],
        "this resource is cancelled: only a request waiting for approval can be approved"
    );
}

/// A backup schedule is a cron checked per field; when it is due, the scheduler starts the
/// recipe's backup once, whichever worker ticks, and moves the schedule on. Types whose recipe
/// takes no backups say so.
#[tokio::test]
async fn scheduled_backups_fire_once_when_due() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = spawn_app().await;
    let provider: Value = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Backup hosts"),
        )
        .await
        .json()
        .await
        .unwrap();
    let team = app.create_team("Nightly").await;
    let server = insert_server(
        &app,
        &team,
        provider["id"].as_str().unwrap(),
        "db-1",
        "pve1/qemu/702",
    )
    .await;
    let owner = app
        .user_with("asker", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let id = common::insert_resource(
        &app,
        &team,
        &owner.id,
        "db-postgresql",
        "ready",
        Some(server),
        "nightly",
    )
    .await;
    let path = format!("/api/resources/{id}/backup-schedule");
    let bad = assert_problem(
        app.put(&path, &owner.token, json!({"cron": "every night"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        bad["errors"]["cron"][0],
        "must have five fields: minute hour day-of-month month day-of-week"
    );
    let set = json_of(
        app.put(&path, &owner.token, json!({"cron": "0 3 * * *"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["backup_cron"], "0 3 * * *");
    let next: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(set["next_backup_at"].clone()).unwrap();
    assert!(next > chrono::Utc::now());
    assert_eq!(
        api::domain::resources::backups::tick(&app.state)
            .await
            .unwrap(),
        0,
        "not due yet"
    );

    // Due now: two ticks at once start one backup.
    api::entities::resources::ActiveModel {
        id: Set(id),
        next_backup_at: Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1))),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let (a, b) = tokio::join!(
        api::domain::resources::backups::tick(&app.state),
        api::domain::resources::backups::tick(&app.state)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let after = json_of(
        app.get(&format!("/api/resources/{id}"), &owner.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["status"], "updating");
    let moved: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(after["next_backup_at"].clone()).unwrap();
    assert!(moved > chrono::Utc::now(), "the schedule moved on");
    let job = api::entities::jobs::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == "resource")
        .expect("a resource job");
    assert_eq!(job.payload["action"], "backup");
    assert_eq!(job.payload["backup_kind"], "scheduled");
    assert!(job.payload["backup_file"]
        .as_str()
        .unwrap()
        .starts_with("/var/backups/provisio-resources/nightly-"));

    // Resources set up by hand are backed up by whoever runs them: the answer says so.
    let cache = common::insert_resource(
        &app,
        &team,
        &owner.id,
        "storage-ceph",
        "ready",
        None,
        "cache",
    )
    .await;
    let refused = assert_problem(
        app.put(
            &format!("/api/resources/{cache}/backup-schedule"),
            &owner.token,
            json!({"cron": "0 3 * * *"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        refused["detail"],
        "Ceph is set up by hand: the technical agents who run it back it up"
    );
}

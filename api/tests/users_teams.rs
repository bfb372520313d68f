mod common;

use common::{assert_problem, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::Role;

#[tokio::test]
async fn admin_creates_a_user_who_lands_in_global_and_the_change_is_audited() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/users",
            &app.admin.token,
            json!({"username": "hana", "email": "Hana@Example.com", "full_name": "Hana Ito", "password": "a-long-password-1", "roles": ["sales_agent"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["email"], "hana@example.com");
    assert_eq!(user["roles"], json!(["sales_agent"]));
    assert_eq!(user["active"], true);
    assert_eq!(user["teams"][0]["slug"], "global");
    assert!(user.get("password_hash").is_none());
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'user.create'")
            .await,
        2,
        "the harness admin and hana"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE CAST(after AS TEXT) LIKE '%argon2%'"
        )
        .await,
        0
    );
    app.login("hana", "a-long-password-1").await;
}

#[tokio::test]
async fn invalid_user_input_lists_every_bad_field_and_stores_nothing() {
    let app = spawn_app().await;
    let before = app.count("SELECT COUNT(*) AS n FROM users").await;
    let body = assert_problem(
        app.post(
            "/api/users",
            &app.admin.token,
            json!({"username": "X y", "email": "nope", "password": "short", "roles": []}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["username", "email", "password", "roles"] {
        assert!(
            body["errors"][field][0].is_string(),
            "no error for {field}: {body}"
        );
    }
    let unknown_role = assert_problem(
        app.post("/api/users", &app.admin.token, json!({"username": "ok", "email": "ok@example.com", "password": "long-enough-pass", "roles": ["root"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // The error names the field the wrong value is in.
    assert!(
        unknown_role["errors"]["roles[0]"][0]
            .as_str()
            .is_some_and(|m| m.contains("unknown variant")),
        "{unknown_role}"
    );
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users").await, before);
}

#[tokio::test]
async fn duplicate_username_or_email_is_a_field_error() {
    let app = spawn_app().await;
    app.user_with("ivan", &[Role::Requester], &[]).await;
    let body = assert_problem(
        app.post("/api/users", &app.admin.token, json!({"username": "ivan", "email": "IVAN@example.com", "password": "long-enough-pass", "roles": ["requester"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["errors"]["username"][0], "is already taken");
    assert_eq!(
        body["errors"]["email"][0],
        "is already used by another account"
    );
}

#[tokio::test]
async fn roles_can_be_changed_and_take_effect_on_the_next_request() {
    let app = spawn_app().await;
    let user = app.user_with("joe", &[Role::Requester], &[]).await;
    assert_problem(
        app.get("/api/users", &user.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let res = app
        .patch(
            &format!("/api/users/{}", user.id),
            &app.admin.token,
            json!({"roles": ["admin", "requester"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/users", &user.token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated() {
    let app = spawn_app().await;
    let path = format!("/api/users/{}", app.admin.id);
    assert_problem(
        app.patch(&path, &app.admin.token, json!({"roles": ["requester"]}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_problem(
        app.patch(&path, &app.admin.token, json!({"active": false}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    app.user_with("second", &[Role::Admin], &[]).await;
    assert_eq!(
        app.patch(&path, &app.admin.token, json!({"roles": ["requester"]}))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn users_list_filters_sorts_and_paginates() {
    let app = spawn_app().await;
    for (name, role) in [
        ("kai", Role::Requester),
        ("lea", Role::SalesAgent),
        ("max", Role::Requester),
    ] {
        app.user_with(name, &[role], &[]).await;
    }
    let page: Value = app
        .get(
            "/api/users?per_page=2&page=2&sort=username",
            &app.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 4);
    assert_eq!(page["page"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["username"], "max");
    let requesters: Value = app
        .get("/api/users?role=requester&sort=-username", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = requesters["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["max", "kai"]);
    let searched: Value = app
        .get("/api/users?q=LEA", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched["total"], 1);
    assert_eq!(searched["items"][0]["username"], "lea");
    let literal: Value = app
        .get("/api/users?q=%25", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(literal["total"], 0, "% is matched literally");
    assert_problem(
        app.get("/api/users?per_page=500", &app.admin.token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.get("/api/users?sort=password_hash", &app.admin.token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn teams_crud_with_members_and_the_global_team_protected() {
    let app = spawn_app().await;
    let team = app.create_team("Platform Team").await;
    let user = app
        .user_with("nia", &[Role::TechnicalAgent], std::slice::from_ref(&team))
        .await;
    let members: Value = app
        .get(&format!("/api/teams/{team}/members"), &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members[0]["username"], "nia");

    let dup = assert_problem(
        app.post(
            "/api/teams",
            &app.admin.token,
            json!({"name": "platform team"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(dup["errors"]["name"].is_array());

    let renamed: Value = app
        .patch(
            &format!("/api/teams/{team}"),
            &app.admin.token,
            json!({"name": "Platform", "description": "Infra"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["slug"], "platform");
    assert_eq!(renamed["member_count"], 1);

    let res = app
        .request(
            Method::DELETE,
            &format!("/api/teams/{team}/members/{}", user.id),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&format!("/api/teams/{team}"), &user.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/teams/{team}/members/{}", user.id),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/teams/{team}"), &user.token)
            .await
            .status(),
        StatusCode::OK
    );

    let teams: Value = app
        .get("/api/teams", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let global = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["is_global"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.request(
            Method::DELETE,
            &format!("/api/teams/{global}"),
            Some(&app.admin.token),
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_problem(
        app.patch(
            &format!("/api/teams/{global}"),
            &app.admin.token,
            json!({"name": "Everyone"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let res = app
        .request(
            Method::DELETE,
            &format!("/api/teams/{team}"),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM team_memberships")
            .await,
        1,
        "only root in Global"
    );
}

#[tokio::test]
async fn non_admins_see_only_their_teams_and_other_teams_answer_404() {
    let app = spawn_app().await;
    let mine = app.create_team("Red").await;
    let theirs = app.create_team("Blue").await;
    let user = app
        .user_with("otto", &[Role::SalesAgent], std::slice::from_ref(&mine))
        .await;
    let listed: Value = app
        .get("/api/teams", &user.token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Red"]);
    assert_problem(
        app.get(&format!("/api/teams/{theirs}"), &user.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("/api/teams/{theirs}/members"), &user.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let admin_view: Value = app
        .get("/api/teams", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin_view["total"], 3);
}

#[tokio::test]
async fn baseline_seed_is_idempotent() {
    let app = spawn_app().await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM resource_types").await,
        14
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM teams WHERE is_global = TRUE")
            .await,
        1
    );
    api::domain::seed::seed_baseline(&app.db).await.unwrap();
    api::domain::seed::seed_baseline(&app.db).await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM resource_types").await,
        14
    );
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM teams").await, 1);
    let types: Value = app
        .get("/api/resource-types", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    for slug in ["storage-ceph", "db-galera", "db-valkey", "bigdata-trino"] {
        assert!(slugs.contains(&slug), "{slug} missing");
    }
    assert_eq!(types[0]["category"], "bigdata");
}

#[tokio::test]
async fn demo_seed_creates_one_account_per_role_once() {
    let app = spawn_app().await;
    let first = api::domain::seed::seed_demo(&app.db).await.unwrap();
    assert!(first.iter().all(|a| a.password.is_some()));
    let second = api::domain::seed::seed_demo(&app.db).await.unwrap();
    assert!(second.iter().all(|a| a.password.is_none()));
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users").await, 5);
    let tech = first.iter().find(|a| a.username == "technical").unwrap();
    let session = app
        .login("technical", tech.password.as_deref().unwrap())
        .await;
    let me: Value = app
        .get("/api/auth/me", &session.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], json!(["technical_agent"]));
    // A sample client with one subscription, once, visible to the demo sales agent.
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM clients").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM subscriptions").await,
        1
    );
    let sales = first.iter().find(|a| a.username == "sales").unwrap();
    let session = app.login("sales", sales.password.as_deref().unwrap()).await;
    let clients: Value = app
        .get("/api/clients", &session.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clients[0]["company"], "Acme Demo GmbH");
    assert_eq!(
        clients[0]["mrr"],
        json!([{"cents": 4900, "currency": "EUR"}])
    );
}

#[tokio::test]
async fn overview_shows_user_counts_only_to_admins() {
    let app = spawn_app().await;
    let user = app.user_with("pia", &[Role::Requester], &[]).await;
    let admin: Value = app
        .get("/api/overview", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin["users_by_role"]["admin"], 1);
    assert_eq!(admin["users_by_role"]["requester"], 1);
    assert_eq!(admin["active_users"], 2);
    assert_eq!(admin["resource_types"], 14);
    let mine: Value = app
        .get("/api/overview", &user.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(mine["users_by_role"].is_null());
    assert_eq!(mine["teams"], 1);
}

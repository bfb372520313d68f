mod common;

use common::{assert_problem, spawn_app, spawn_app_with, Options, Session, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::Role;

async fn provider(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            common::hetzner_body("Hetzner test"),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

struct World {
    app: TestApp,
    team: String,
    provider: String,
    requester: Session,
}

async fn world() -> World {
    world_with(Options::default()).await
}

async fn world_with(options: Options) -> World {
    let app = spawn_app_with(options).await;
    let team = app.create_team("Web").await;
    let provider = provider(&app).await;
    let requester = app
        .user_with("rita", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    World {
        app,
        team,
        provider,
        requester,
    }
}

fn request_body(w: &World, hostname: &str, server_type: &str) -> Value {
    json!({
        "hostname": hostname,
        "team_id": w.team,
        "provider_account_id": w.provider,
        "location": "abilian",
        "server_type": server_type,
        "image": "debian-12",
        "purpose": "staging web server",
        "ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0wjT2QVv3ZpZpZpZpZpZpZpZpZpZpZpZp rita@laptop"],
        "notes": "needed by Friday"
    })
}

async fn file(w: &World, session: &Session, hostname: &str, server_type: &str) -> Value {
    let res = w
        .app
        .post(
            "/api/requests",
            &session.token,
            request_body(w, hostname, server_type),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    res.json().await.unwrap()
}

async fn act(
    app: &TestApp,
    session: &Session,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post(
        &format!("/api/requests/{id}/{action}"),
        &session.token,
        body,
    )
    .await
}

async fn set_policy(w: &World, policy: Value) -> reqwest::Response {
    let path = format!("/api/teams/{}/approval-policy", w.team);
    w.app
        .request(Method::PUT, &path, Some(&w.app.admin.token), Some(policy))
        .await
}

async fn notifications(app: &TestApp, session: &Session) -> Value {
    app.get("/api/notifications", &session.token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn requester_files_admin_approves_and_provisioning_is_queued_in_the_same_transaction() {
    let w = world().await;
    let created = file(&w, &w.requester, "web-01", "medium").await;
    let req = &created["request"];
    assert_eq!(req["status"], "pending");
    assert_eq!(
        req["estimated_monthly"],
        json!({"cents": 459, "currency": "EUR"})
    );
    assert_eq!(req["cpu"], 2);
    assert_eq!(req["allowed_actions"], json!(["cancel"]));
    assert_eq!(created["timeline"][0]["kind"], "created");
    assert!(created["job"].is_null());
    let id = req["id"].as_str().unwrap();

    let admin_inbox = notifications(&w.app, &w.app.admin).await;
    assert_eq!(admin_inbox["unread"], 1);
    assert_eq!(
        admin_inbox["items"][0]["title"],
        "New server request: web-01"
    );
    assert_eq!(admin_inbox["items"][0]["link"], format!("/requests/{id}"));

    let queue: Value = w
        .app
        .get("/api/requests?status=pending", &w.app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["total"], 1);
    assert_eq!(
        queue["items"][0]["allowed_actions"],
        json!(["approve", "reject", "cancel"])
    );

    let res = act(&w.app, &w.app.admin, id, "approve", json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["request"]["status"], "approved");
    assert_eq!(detail["job"]["status"], "queued");
    assert_eq!(detail["job"]["kind"], "provision");
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["created", "transition"]);
    assert_eq!(detail["timeline"][1]["to_status"], "approved");
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'")
            .await,
        1
    );

    let inbox = notifications(&w.app, &w.requester).await;
    assert_eq!(inbox["items"][0]["title"], "Request approved: web-01");
    assert_eq!(w.app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action IN ('request.create', 'request.approve')").await, 2);

    // A second approval of the same request is a conflict, and the job is not duplicated.
    assert_problem(
        act(&w.app, &w.app.admin, id, "approve", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(w.app.count("SELECT COUNT(*) AS n FROM jobs").await, 1);
}

#[tokio::test]
async fn invalid_requests_get_per_field_errors_and_store_nothing() {
    let w = world().await;
    let mut body = request_body(&w, "-bad_host-", "medium");
    body["location"] = json!("mars1");
    body["image"] = json!("windows");
    body["ssh_public_keys"] = json!(["not a key"]);
    let problem = assert_problem(
        w.app.post("/api/requests", &w.requester.token, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["hostname"].is_array());
    assert!(problem["errors"]["ssh_public_keys[0]"].is_array());

    let mut body = request_body(&w, "ok-host", "medium");
    body["location"] = json!("mars1");
    body["image"] = json!("windows");
    let problem = assert_problem(
        w.app.post("/api/requests", &w.requester.token, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["location"][0]
        .as_str()
        .unwrap()
        .contains("abilian"));
    assert!(problem["errors"]["image"].is_array());

    let mut custom = request_body(&w, "big", "medium");
    custom["server_type"] = Value::Null;
    custom["cpu"] = json!(64);
    custom["ram_mb"] = json!(4096);
    custom["disk_gb"] = json!(10);
    let problem = assert_problem(
        w.app
            .post("/api/requests", &w.requester.token, custom.clone())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["errors"]["cpu"][0], "must be between 1 and 8");
    custom["cpu"] = json!(2);
    let ok: Value = w
        .app
        .post("/api/requests", &w.requester.token, custom)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["request"]["estimated_monthly"]["cents"], 600 + 600 + 50);

    let other_team = w.app.create_team("Elsewhere").await;
    let mut foreign = request_body(&w, "foreign", "medium");
    foreign["team_id"] = json!(other_team);
    let problem = assert_problem(
        w.app
            .post("/api/requests", &w.requester.token, foreign)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["team_id"].is_array());
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) AS n FROM server_requests")
            .await,
        1
    );
}

#[tokio::test]
async fn reject_needs_a_reason_and_tells_the_requester() {
    let w = world().await;
    let id = file(&w, &w.requester, "db-01", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let problem = assert_problem(
        act(&w.app, &w.app.admin, &id, "reject", json!({"reason": "  "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["reason"].is_array());
    let res = act(
        &w.app,
        &w.app.admin,
        &id,
        "reject",
        json!({"reason": "use the shared database"}),
    )
    .await;
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["request"]["status"], "rejected");
    assert_eq!(
        detail["request"]["rejection_reason"],
        "use the shared database"
    );
    assert_eq!(detail["request"]["allowed_actions"], json!([]));
    let inbox = notifications(&w.app, &w.requester).await;
    assert!(inbox["items"][0]["body"]
        .as_str()
        .unwrap()
        .contains("use the shared database"));
    assert_problem(
        act(&w.app, &w.app.admin, &id, "approve", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_problem(
        act(&w.app, &w.requester, &id, "cancel", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn requesters_cancel_their_own_pending_requests_and_never_see_others() {
    let w = world().await;
    let other = w
        .app
        .user_with("otis", &[Role::Requester], std::slice::from_ref(&w.team))
        .await;
    let id = file(&w, &w.requester, "app-01", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        w.app
            .get(&format!("/api/requests/{id}"), &other.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        act(&w.app, &other, &id, "cancel", json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let listed: Value = w
        .app
        .get("/api/requests", &other.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 0);
    assert_problem(
        act(&w.app, &w.requester, &id, "approve", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let detail: Value = act(&w.app, &w.requester, &id, "cancel", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["request"]["status"], "cancelled");
    let inbox = notifications(&w.app, &w.app.admin).await;
    assert_eq!(inbox["items"][0]["title"], "Request cancelled: app-01");
}

#[tokio::test]
async fn team_agents_see_their_teams_requests_but_not_other_teams() {
    let w = world().await;
    let agent = w
        .app
        .user_with("sam", &[Role::SalesAgent], std::slice::from_ref(&w.team))
        .await;
    let outsider_team = w.app.create_team("Other").await;
    let outsider = w
        .app
        .user_with("ola", &[Role::TechnicalAgent], &[outsider_team])
        .await;
    let id = file(&w, &w.requester, "crm-01", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        w.app
            .get(&format!("/api/requests/{id}"), &agent.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_problem(
        w.app
            .get(&format!("/api/requests/{id}"), &outsider.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        act(&w.app, &agent, &id, "approve", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn list_filters_search_sort_and_paginate() {
    let w = world().await;
    for (host, ty) in [
        ("alpha", "medium"),
        ("bravo", "large"),
        ("charlie", "medium"),
    ] {
        file(&w, &w.requester, host, ty).await;
    }
    let bravo: Value = w
        .app
        .get("/api/requests?q=BRAV", &w.app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bravo["total"], 1);
    let sorted: Value = w
        .app
        .get(
            "/api/requests?sort=hostname&per_page=2&page=2",
            &w.app.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sorted["total"], 3);
    assert_eq!(sorted["items"][0]["hostname"], "charlie");
    let by_requester: Value = w
        .app
        .get(
            &format!("/api/requests?requester_id={}", w.requester.id),
            &w.app.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_requester["total"], 3);
    let none: Value = w
        .app
        .get("/api/requests?status=deployed", &w.app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);
    assert_problem(
        w.app
            .get("/api/requests?status=bogus", &w.app.admin.token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn two_concurrent_approvals_give_exactly_one_success_and_one_conflict() {
    let w = world().await;
    let second_admin = w.app.user_with("ada", &[Role::Admin], &[]).await;
    for round in 0..5 {
        let id = file(&w, &w.requester, &format!("race-{round}"), "medium").await["request"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (a, b) = tokio::join!(
            act(&w.app, &w.app.admin, &id, "approve", json!({})),
            act(&w.app, &second_admin, &id, "approve", json!({}))
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
    }
    assert_eq!(w.app.count("SELECT COUNT(*) AS n FROM jobs").await, 5);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) AS n FROM server_requests WHERE status = 'approved'")
            .await,
        5
    );
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) AS n FROM request_events WHERE kind = 'transition'")
            .await,
        5,
        "exactly one transition per request"
    );
}

#[tokio::test]
async fn multi_step_policy_with_named_approvers_then_admins() {
    let w = world().await;
    let lead_a = w
        .app
        .user_with(
            "lead-a",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&w.team),
        )
        .await;
    let lead_b = w
        .app
        .user_with(
            "lead-b",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&w.team),
        )
        .await;
    let policy = json!({
        "steps": [
            {"approvers": {"kind": "users", "user_ids": [lead_a.id, lead_b.id]}, "rule": "all"},
            {"approvers": {"kind": "role", "role": "admin"}, "rule": "any"}
        ],
        "auto_approve": null
    });
    let res = set_policy(&w, policy).await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = file(&w, &w.requester, "policy-01", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        notifications(&w.app, &lead_a).await["unread"],
        1,
        "step 1 approvers are told"
    );
    assert_eq!(
        notifications(&w.app, &w.app.admin).await["unread"],
        0,
        "admins wait for their step"
    );

    let after_a: Value = act(&w.app, &lead_a, &id, "approve", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after_a["request"]["status"], "pending");
    assert_eq!(after_a["current_step"], 0, "the all rule waits for lead-b");
    assert_problem(
        act(&w.app, &lead_a, &id, "approve", json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;

    let after_b: Value = act(&w.app, &lead_b, &id, "approve", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after_b["current_step"], 1);
    assert_eq!(after_b["approval_steps"][0]["done"], true);
    assert_eq!(
        after_b["approval_steps"][0]["approved_by"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        notifications(&w.app, &w.app.admin).await["items"][0]["title"],
        "Approval needed: policy-01"
    );
    assert_problem(
        act(&w.app, &lead_a, &id, "approve", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let done: Value = act(&w.app, &w.app.admin, &id, "approve", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["request"]["status"], "approved");
}

#[tokio::test]
async fn auto_approval_rule_approves_small_cheap_requests_only() {
    let w = world().await;
    let policy = json!({
        "steps": [{"approvers": {"kind": "role", "role": "admin"}, "rule": "any"}],
        "auto_approve": {"max_cpu": 2, "max_monthly_cents": 500}
    });
    let res = set_policy(&w, policy).await;
    assert_eq!(res.status(), StatusCode::OK);
    let small = file(&w, &w.requester, "small", "medium").await;
    assert_eq!(small["request"]["status"], "approved");
    assert_eq!(small["job"]["status"], "queued");
    assert!(small["timeline"][1]["body"]
        .as_str()
        .unwrap()
        .contains("auto-approved"));
    let big = file(&w, &w.requester, "big", "large").await;
    assert_eq!(big["request"]["status"], "pending");
    let stored: Value = w
        .app
        .get(
            &format!("/api/teams/{}/approval-policy", w.team),
            &w.requester.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["auto_approve"]["max_monthly_cents"], 500);
}

#[tokio::test]
async fn invalid_policies_are_refused() {
    let w = world().await;
    let path = format!("/api/teams/{}/approval-policy", w.team);
    let empty = w
        .app
        .request(
            Method::PUT,
            &path,
            Some(&w.app.admin.token),
            Some(
                json!({"steps": [], "auto_approve": {"max_cpu": null, "max_monthly_cents": null}}),
            ),
        )
        .await;
    let problem = assert_problem(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["steps"].is_array());
    assert!(problem["errors"]["auto_approve"].is_array());
    let ghost = json!({"steps": [{"approvers": {"kind": "users", "user_ids": [uuid::Uuid::new_v4()]}, "rule": "any"}], "auto_approve": null});
    assert_problem(
        w.app
            .request(Method::PUT, &path, Some(&w.app.admin.token), Some(ghost))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn comments_join_the_timeline_and_notify_the_people_involved() {
    let w = world().await;
    let id = file(&w, &w.requester, "cmt", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = w
        .app
        .post(
            &format!("/api/requests/{id}/comments"),
            &w.app.admin.token,
            json!({"body": "Which region?"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let detail: Value = res.json().await.unwrap();
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "comment");
    assert_eq!(last["body"], "Which region?");
    assert_eq!(last["actor"]["username"], "root");
    assert_eq!(
        notifications(&w.app, &w.requester).await["items"][0]["title"],
        "New comment on cmt"
    );
    assert_problem(
        w.app
            .post(
                &format!("/api/requests/{id}/comments"),
                &w.app.admin.token,
                json!({"body": ""}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn notifications_mark_read_one_and_all_and_stay_private() {
    let w = world().await;
    for host in ["n1", "n2", "n3"] {
        file(&w, &w.requester, host, "medium").await;
    }
    let inbox = notifications(&w.app, &w.app.admin).await;
    assert_eq!(inbox["unread"], 3);
    let first = inbox["items"][0]["id"].as_str().unwrap().to_owned();
    assert_problem(
        w.app
            .post(
                &format!("/api/notifications/{first}/read"),
                &w.requester.token,
                json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        w.app
            .post(
                &format!("/api/notifications/{first}/read"),
                &w.app.admin.token,
                json!({})
            )
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(notifications(&w.app, &w.app.admin).await["unread"], 2);
    assert_eq!(
        w.app
            .post("/api/notifications/read-all", &w.app.admin.token, json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let after = notifications(&w.app, &w.app.admin).await;
    assert_eq!(after["unread"], 0);
    assert!(after["items"][0]["read_at"].is_string());
}

#[tokio::test]
async fn retry_requeues_the_same_job_of_a_failed_request() {
    let w = world().await;
    let id = file(&w, &w.requester, "flaky", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    act(&w.app, &w.app.admin, &id, "approve", json!({})).await;
    // The provisioning pipeline (next issue) moves requests on; here the row is moved by hand.
    use sea_orm::ConnectionTrait;
    w.app.db.execute_unprepared("UPDATE server_requests SET status = 'failed', failure_reason = 'provider timeout' WHERE hostname = 'flaky'").await.unwrap();
    w.app
        .db
        .execute_unprepared("UPDATE jobs SET status = 'failed', attempts = 3")
        .await
        .unwrap();
    let tech = w
        .app
        .user_with(
            "tom",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&w.team),
        )
        .await;
    assert_problem(
        act(&w.app, &w.requester, &id, "retry", json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let detail: Value = act(&w.app, &tech, &id, "retry", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["request"]["status"], "provisioning");
    assert!(detail["request"]["failure_reason"].is_null());
    assert_eq!(detail["job"]["status"], "queued");
    assert_eq!(w.app.count("SELECT COUNT(*) AS n FROM jobs").await, 1);
}

#[tokio::test]
async fn provider_accounts_are_admin_managed_and_validated() {
    let app = spawn_app().await;
    let id = provider(&app).await;
    let bad = json!({"name": "x", "kind": "hetzner", "endpoint": "ftp://nope", "catalog": {"currency": "euro", "locations": [], "images": []}});
    let problem = assert_problem(
        app.post("/api/provider-accounts", &app.admin.token, bad)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for f in ["name", "endpoint", "catalog"] {
        assert!(problem["errors"][f].is_array(), "{f}");
    }
    let listed: Value = app
        .get("/api/provider-accounts", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["catalog"]["server_types"][0]["name"], "medium");
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/provider-accounts/{id}"),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn dashboard_stats_differ_by_role() {
    let w = world().await;
    let tech = w
        .app
        .user_with(
            "tia",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&w.team),
        )
        .await;
    let id = file(&w, &w.requester, "s1", "medium").await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    file(&w, &w.requester, "s2", "medium").await;
    act(&w.app, &w.app.admin, &id, "approve", json!({})).await;
    let admin: Value = w
        .app
        .get("/api/stats/dashboard", &w.app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admin["pending_approvals"], 1);
    let funnel: Vec<(String, u64)> = admin["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["key"].as_str().unwrap().to_owned(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(funnel[0], ("pending".into(), 1));
    assert_eq!(funnel[1], ("approved".into(), 1));
    assert!(!admin["recent_activity"].as_array().unwrap().is_empty());
    let tech_view: Value = w
        .app
        .get("/api/stats/dashboard", &tech.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tech_view["running_jobs"], 1);
    assert!(tech_view["recent_activity"].is_null());
    assert_eq!(tech_view["requests_by_team"][0]["label"], "Web");
    let mine: Value = w
        .app
        .get("/api/stats/dashboard", &w.requester.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(mine["funnel"].is_null());
    let total: u64 = mine["my_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
}

#[tokio::test]
async fn audit_page_filters_and_exports_csv_without_secrets() {
    let w = world().await;
    file(&w, &w.requester, "audited", "medium").await;
    let page: Value = w
        .app
        .get("/api/audit?action=request.", &w.app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["action"], "request.create");
    assert_eq!(page["items"][0]["actor"]["username"], "rita");
    assert!(page["items"][0]["request_id"].is_string());
    assert_problem(
        w.app.get("/api/audit", &w.requester.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let csv = w
        .app
        .get("/api/audit/export.csv?target_type=user", &w.app.admin.token)
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "at,actor,action,target_type,target_id,ip,request_id,before,after"
    );
    assert!(text.contains("\"user.create\""));
    assert!(!text.contains("request.create"));
    assert!(!text.contains("argon2"));
    assert!(!text.contains("rita-password-123"));
}

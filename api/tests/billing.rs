//! Clients, subscriptions, renewals and revenue through the API: integer cents per currency,
//! renewal steps that happen once however often the job runs, sales agents confined to their
//! teams, and the margin an approver sees on a server request for a subscription.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use common::{assert_problem, spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::Role;

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn client(app: &TestApp, token: &str, team: &str, company: &str) -> String {
    json_of(
        app.post(
            "/api/clients",
            token,
            json!({"team_id": team, "company": company, "billing_email": "billing@acme.example",
                   "contacts": [{"name": "Ada", "email": "ada@acme.example", "phone": "+49 30 1234"}],
                   "notes": "met at the fair"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn subscription(
    client: &str,
    cents: i64,
    currency: &str,
    start: NaiveDate,
    end: NaiveDate,
    auto: bool,
) -> Value {
    json!({"client_id": client, "plan_name": "Managed VM", "period_months": 1,
           "monthly_price_cents": cents, "currency": currency, "start_date": start, "end_date": end,
           "auto_renew": auto, "notice_days": 14, "power_off_after_days": 7})
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> Value {
    json_of(
        app.post("/api/subscriptions", token, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn detail(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(
        app.get(&format!("/api/subscriptions/{id}"), token).await,
        StatusCode::OK,
    )
    .await
}

fn money(list: &Value, currency: &str) -> Option<i64> {
    list.as_array()?
        .iter()
        .find(|m| m["currency"] == currency)
        .and_then(|m| m["cents"].as_i64())
}

#[tokio::test]
async fn sales_agents_keep_clients_and_subscriptions_and_see_mrr_per_currency() {
    let app = spawn_app().await;
    let team = app.create_team("Sales A").await;
    let other = app.create_team("Sales B").await;
    let sales = app
        .user_with("sales", &[Role::SalesAgent], std::slice::from_ref(&team))
        .await;
    let today = Utc::now().date_naive();

    let acme = client(&app, &sales.token, &team, "Acme GmbH").await;
    // The same company twice in a team, a bad e-mail: per-field errors, nothing stored.
    let problem = assert_problem(
        app.post(
            "/api/clients",
            &sales.token,
            json!({"team_id": team, "company": "Acme GmbH", "billing_email": "not-an-email"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["billing_email"].is_array(), "{problem:#}");
    let problem = assert_problem(
        app.post(
            "/api/clients",
            &sales.token,
            json!({"team_id": team, "company": "Acme GmbH", "billing_email": "b@acme.example"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["company"].is_array(), "{problem:#}");
    let problem = assert_problem(
        app.post(
            "/api/clients",
            &sales.token,
            json!({"team_id": other, "company": "Elsewhere", "billing_email": "b@x.example"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["team_id"].is_array());

    let eur = subscribe(
        &app,
        &sales.token,
        subscription(
            &acme,
            4990,
            "EUR",
            today - Duration::days(40),
            today + Duration::days(60),
            true,
        ),
    )
    .await;
    assert_eq!(
        eur["subscription"]["price"],
        json!({"cents": 4990, "currency": "EUR"})
    );
    assert_eq!(eur["subscription"]["status"], "active");
    assert_eq!(eur["events"][0]["kind"], "created");
    subscribe(
        &app,
        &sales.token,
        subscription(
            &acme,
            10000,
            "USD",
            today - Duration::days(5),
            today + Duration::days(25),
            true,
        ),
    )
    .await;
    let problem = assert_problem(
        app.post("/api/subscriptions", &sales.token,
                 json!({"client_id": acme, "plan_name": "X", "period_months": 2, "monthly_price_cents": 4990.5,
                        "currency": "eur", "start_date": today, "end_date": today})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["status"] == 422, "{problem:#}");

    let revenue = json_of(app.get("/api/revenue", &sales.token).await, StatusCode::OK).await;
    assert_eq!(money(&revenue["mrr"], "EUR"), Some(4990));
    assert_eq!(money(&revenue["mrr"], "USD"), Some(10000));
    assert_eq!(money(&revenue["arr"], "EUR"), Some(4990 * 12));
    assert_eq!(revenue["by_month"].as_array().unwrap().len(), 12);
    assert_eq!(revenue["by_client"][0]["name"], "Acme GmbH");
    assert_eq!(revenue["by_plan"][0]["name"], "Managed VM");
    // Last month's EUR revenue is whole or prorated, never mixed with USD.
    let months = revenue["by_month"].as_array().unwrap();
    let last = &months[11];
    assert!(money(&last["totals"], "EUR").unwrap() <= 4990);

    let csv = app.get("/api/revenue.csv", &sales.token).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with("section,key,currency,amount,extra\r\n"),
        "{text}"
    );
    assert!(
        text.contains("mrr,") && text.contains(",EUR,49.90,"),
        "{text}"
    );

    // Edits are history; a cancel stops the billing.
    let id = eur["subscription"]["id"].as_str().unwrap().to_owned();
    let mut body = subscription(
        &acme,
        5990,
        "EUR",
        today - Duration::days(40),
        today + Duration::days(60),
        true,
    );
    body["plan_name"] = json!("Managed VM Plus");
    json_of(
        app.put(&format!("/api/subscriptions/{id}"), &sales.token, body)
            .await,
        StatusCode::OK,
    )
    .await;
    let d = detail(&app, &sales.token, &id).await;
    assert_eq!(d["events"][0]["kind"], "updated");
    assert_eq!(d["events"][0]["before"]["monthly_price_cents"], 4990);
    assert_eq!(d["events"][0]["after"]["monthly_price_cents"], 5990);
    json_of(
        app.post(
            &format!("/api/subscriptions/{id}/cancel"),
            &sales.token,
            json!({"reason": "moved away"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/subscriptions/{id}/resume"),
            &sales.token,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let revenue = json_of(app.get("/api/revenue", &sales.token).await, StatusCode::OK).await;
    assert_eq!(
        money(&revenue["mrr"], "EUR"),
        None,
        "a cancelled subscription is not billed"
    );
    assert_problem(
        app.delete(&format!("/api/clients/{acme}"), &sales.token)
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // Who may: technical agents and requesters not at all; another team's sales agent sees nothing.
    let tech = app
        .user_with("tech", &[Role::TechnicalAgent], std::slice::from_ref(&team))
        .await;
    let requester = app
        .user_with("req", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    for token in [&tech.token, &requester.token] {
        assert_problem(app.get("/api/clients", token).await, StatusCode::FORBIDDEN).await;
        assert_problem(
            app.get("/api/subscriptions", token).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_problem(app.get("/api/revenue", token).await, StatusCode::FORBIDDEN).await;
    }
    let outsider = app
        .user_with("sales-b", &[Role::SalesAgent], std::slice::from_ref(&other))
        .await;
    assert_problem(
        app.get(&format!("/api/clients/{acme}"), &outsider.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("/api/subscriptions/{id}"), &outsider.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/subscriptions/{id}/suspend"),
            &outsider.token,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        json_of(
            app.get("/api/clients", &outsider.token).await,
            StatusCode::OK
        )
        .await,
        json!([])
    );
    let theirs = json_of(
        app.get("/api/revenue", &outsider.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["mrr"], json!([]));
    // Admins see every team.
    let all = json_of(
        app.get("/api/subscriptions", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[tokio::test]
async fn renewal_steps_happen_once_with_notifications_and_power_off_after_grace() {
    // With e-mail on (the deliveries stay queued: no delivery loop runs in tests).
    let app = common::spawn_app_with(common::Options {
        smtp_url: Some("smtp://127.0.0.1:2525".into()),
        ..common::Options::default()
    })
    .await;
    let team = app.create_team("Renewals").await;
    let sales = app
        .user_with("sales", &[Role::SalesAgent], std::slice::from_ref(&team))
        .await;
    let provider = json_of(
        app.post("/api/provider-accounts", &app.admin.token,
                 json!({"name": "PVE", "kind": "proxmox", "endpoint": common::fake_var("PROVISIO_FAKEPVE_URL"), "credentials": {"api_token": common::fake_var("PROVISIO_FAKEPVE_TOKEN")}, "settings": {"images": {"debian-12": "9000"}},
                        "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                                    "server_types": [{"name": "small", "cpu": 2, "ram_mb": 2048, "disk_gb": 20, "monthly_price_cents": 1500}]}}))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = common::insert_server(&app, &team, &provider, "billed-vm", "pve1/qemu/4242").await;
    let acme = client(&app, &sales.token, &team, "Acme").await;

    // Ends on 31 December 2026, no auto-renew, servers off 7 days after expiry.
    let mut body = subscription(&acme, 4900, "EUR", d(2026, 1, 1), d(2026, 12, 31), false);
    body["server_ids"] = json!([server]);
    let fixed = subscribe(&app, &sales.token, body).await;
    let fixed_id = fixed["subscription"]["id"].as_str().unwrap().to_owned();
    // Auto-renewing monthly from 31 January 2028 (a leap year).
    let auto = subscribe(
        &app,
        &sales.token,
        subscription(&acme, 1000, "EUR", d(2027, 12, 31), d(2028, 1, 31), true),
    )
    .await;
    let auto_id = auto["subscription"]["id"].as_str().unwrap().to_owned();

    let renew = |date| api::domain::billing::renew_due(&app.state, date);
    assert_eq!(renew(d(2026, 12, 1)).await.unwrap(), 0, "nothing due yet");
    assert_eq!(renew(d(2026, 12, 17)).await.unwrap(), 1, "the notice");
    assert_eq!(
        renew(d(2026, 12, 17)).await.unwrap(),
        0,
        "the job ran twice: one notice"
    );
    assert_eq!(renew(d(2026, 12, 20)).await.unwrap(), 0);
    let sub = detail(&app, &sales.token, &fixed_id).await;
    assert_eq!(sub["subscription"]["status"], "expiring");
    assert_eq!(sub["events"][0]["kind"], "notified");
    let notes = json_of(
        app.get("/api/notifications", &sales.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        notes
            .to_string()
            .contains("Acme: Managed VM ends on 2026-12-31"),
        "{notes}"
    );

    assert_eq!(renew(d(2026, 12, 31)).await.unwrap(), 1, "expiry");
    assert_eq!(renew(d(2026, 12, 31)).await.unwrap(), 0);
    assert_eq!(
        detail(&app, &sales.token, &fixed_id).await["subscription"]["status"],
        "expired"
    );
    assert_eq!(
        renew(d(2027, 1, 6)).await.unwrap(),
        0,
        "still in the grace period"
    );
    assert_eq!(renew(d(2027, 1, 7)).await.unwrap(), 1, "power off");
    assert_eq!(renew(d(2027, 1, 8)).await.unwrap(), 0);
    let power_jobs = app
        .count(&format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'server_op' AND CAST(payload AS TEXT) LIKE '%{server}%' AND CAST(payload AS TEXT) LIKE '%stop%'"
        ))
        .await;
    assert_eq!(power_jobs, 1, "one power-off job for the linked server");
    let kinds: Vec<String> = detail(&app, &sales.token, &fixed_id).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["powered_off", "expired", "notified", "created"]);
    let audit = app
        .count("SELECT COUNT(*) AS n FROM audit_events WHERE action LIKE 'subscription.%' AND actor_id IS NULL")
        .await;
    assert_eq!(
        audit, 3,
        "notice, expiry and power-off audited as the system"
    );

    // Auto-renew across the end of a leap-year February, once per period.
    assert_eq!(renew(d(2028, 1, 31)).await.unwrap(), 1);
    assert_eq!(renew(d(2028, 1, 31)).await.unwrap(), 0);
    let sub = detail(&app, &sales.token, &auto_id).await;
    assert_eq!(sub["subscription"]["end_date"], "2028-02-29");
    assert_eq!(sub["subscription"]["status"], "active");
    assert!(sub["events"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("2028-01-31 to 2028-02-29"));
    assert_eq!(renew(d(2028, 2, 29)).await.unwrap(), 1);
    assert_eq!(
        detail(&app, &sales.token, &auto_id).await["subscription"]["end_date"],
        "2028-03-29"
    );
}

#[tokio::test]
async fn a_server_request_for_a_subscription_shows_the_margin_to_the_approver() {
    let app = spawn_app().await;
    let team = app.create_team("Margins").await;
    let sales = app
        .user_with("sales", &[Role::SalesAgent], std::slice::from_ref(&team))
        .await;
    let provider = json_of(
        app.post("/api/provider-accounts", &app.admin.token,
                 json!({"name": "Priced", "kind": "proxmox", "endpoint": common::fake_var("PROVISIO_FAKEPVE_URL"), "credentials": {"api_token": common::fake_var("PROVISIO_FAKEPVE_TOKEN")}, "settings": {"images": {"debian-12": "9000"}},
                        "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                                    "server_types": [{"name": "small", "cpu": 2, "ram_mb": 2048, "disk_gb": 20, "monthly_price_cents": 1500}]}}))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let acme = client(&app, &sales.token, &team, "Acme").await;
    let today = Utc::now().date_naive();
    let sub = subscribe(
        &app,
        &sales.token,
        subscription(&acme, 4900, "EUR", today, today + Duration::days(30), true),
    )
    .await;
    let sub_id = sub["subscription"]["id"].as_str().unwrap().to_owned();
    let request = json_of(
        app.post(
            "/api/requests",
            &sales.token,
            json!({"hostname": "acme-web", "team_id": team, "provider_account_id": provider,
                        "location": "pve1", "server_type": "small", "image": "debian-12",
                        "purpose": "Acme's shop", "subscription_id": sub_id}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = request["request"]["id"].as_str().unwrap();
    let detail = json_of(
        app.get(&format!("/api/requests/{id}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["subscription"]["id"], sub_id.as_str());
    assert_eq!(
        detail["margin_with_server"],
        json!({"cents": 3400, "currency": "EUR"})
    );
    // Another team's subscription cannot be named.
    let other = app.create_team("Other").await;
    let problem = assert_problem(
        app.post(
            "/api/requests",
            &app.admin.token,
            json!({"hostname": "x-web", "team_id": other, "provider_account_id": provider,
                        "location": "pve1", "server_type": "small", "image": "debian-12",
                        "purpose": "someone else's", "subscription_id": sub_id}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["subscription_id"].is_array(),
        "{problem:#}"
    );
}

/// Rows the validation never saw (prices far beyond 100,000,000.00, as a direct import could
/// leave) make the totals overflow i64 cents: the figures are refused with an opaque 500 instead
/// of a panic or a wrapped, negative revenue.
#[tokio::test]
async fn revenue_totals_that_do_not_fit_are_refused_not_wrapped() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let team = app.create_team("Overflow").await;
    let admin = app.admin.token.clone();
    let today = Utc::now().date_naive();
    let acme = client(&app, &admin, &team, "Acme GmbH").await;
    for _ in 0..2 {
        subscribe(
            &app,
            &admin,
            subscription(
                &acme,
                10_000_000_000,
                "EUR",
                today - Duration::days(40),
                today + Duration::days(300),
                true,
            ),
        )
        .await;
    }
    let revenue = json_of(app.get("/api/revenue", &admin).await, StatusCode::OK).await;
    assert_eq!(money(&revenue["mrr"], "EUR"), Some(20_000_000_000));
    assert_eq!(money(&revenue["arr"], "EUR"), Some(240_000_000_000));

    app.db
        .execute_unprepared(&format!(
            "UPDATE subscriptions SET monthly_price_cents = {}",
            i64::MAX
        ))
        .await
        .unwrap();
    let problem = assert_problem(
        app.get("/api/revenue", &admin).await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    assert!(
        !problem.to_string().contains("too large"),
        "opaque: {problem}"
    );
    assert_problem(
        app.get("/api/clients", &admin).await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;

    // One such row alone fits in MRR and in each month's revenue, but not twelve times over in ARR.
    app.db
        .execute_unprepared(
            "UPDATE subscriptions SET monthly_price_cents = 0 \
             WHERE id = (SELECT id FROM subscriptions ORDER BY id LIMIT 1)",
        )
        .await
        .unwrap();
    let clients = json_of(app.get("/api/clients", &admin).await, StatusCode::OK).await;
    assert_eq!(
        money(&clients[0]["mrr"], "EUR"),
        Some(i64::MAX),
        "{clients:#}"
    );
    assert_problem(
        app.get("/api/revenue", &admin).await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
}

#[tokio::test]
async fn a_sales_agent_links_the_teams_servers_from_the_subscription_page() {
    let app = spawn_app().await;
    let team = app.create_team("Linked").await;
    let other = app.create_team("Elsewhere").await;
    let sales = app
        .user_with("linker", &[Role::SalesAgent], std::slice::from_ref(&team))
        .await;
    let outsider = app
        .user_with(
            "outsider",
            &[Role::SalesAgent],
            std::slice::from_ref(&other),
        )
        .await;
    let provider = json_of(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            common::provider_body("Linked PVE"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = common::insert_server(&app, &team, &provider, "paid-vm", "pve1/qemu/4343").await;
    common::insert_server(&app, &other, &provider, "not-theirs", "pve1/qemu/4344").await;
    let acme = client(&app, &sales.token, &team, "Linkco").await;
    let today = chrono::Utc::now().date_naive();
    let created = subscribe(
        &app,
        &sales.token,
        subscription(
            &acme,
            2500,
            "EUR",
            today,
            today + chrono::Days::new(30),
            true,
        ),
    )
    .await;
    let id = created["subscription"]["id"].as_str().unwrap().to_owned();

    // The sales agent cannot open server pages, but sees the team's servers by name here.
    let path = format!("/api/subscriptions/{id}/linkable");
    let linkable = json_of(app.get(&path, &sales.token).await, StatusCode::OK).await;
    assert_eq!(
        linkable["servers"],
        json!([{"id": server, "name": "paid-vm", "status": "running", "linked": false}])
    );
    assert_eq!(linkable["deployments"], json!([]));

    let mut body = subscription(
        &acme,
        2500,
        "EUR",
        today,
        today + chrono::Days::new(30),
        true,
    );
    body["server_ids"] = json!([server]);
    let saved = json_of(
        app.put(&format!("/api/subscriptions/{id}"), &sales.token, body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["subscription"]["server_ids"], json!([server]));
    let linkable = json_of(app.get(&path, &sales.token).await, StatusCode::OK).await;
    assert_eq!(linkable["servers"][0]["linked"], true);
    // Another team's sales agent learns nothing of it.
    assert_eq!(
        app.get(&path, &outsider.token).await.status(),
        StatusCode::NOT_FOUND
    );
}

//! Self-registration through a real SMTP server (aiosmtpd): closed by default; when opened, a
//! new account lands in the team and role the administrator chose, cannot sign in until its
//! address is confirmed through the e-mailed link (good once) and an administrator approved
//! it; links can be sent again (the old one stops working); registrations are limited per
//! address; each step is audited.

mod common;

use common::mail::{body_of, MailServer};
use common::{assert_problem, audit_rows, json_of, spawn_app_with, Options, Scratch, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn public(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, path, None, Some(body)).await
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    public(
        app,
        "/api/auth/login",
        json!({"login": login, "password": password}),
    )
    .await
}

/// The confirmation token from the last message to `address`.
fn link_token(mail: &MailServer, address: &str) -> String {
    let messages = mail.to(address);
    let last = messages.last().expect("a message to the new address");
    assert!(
        last.contains("Subject: [Provisio] Confirm your e-mail address"),
        "{last}"
    );
    let body = body_of(last);
    let start = body
        .find("http://provisio.test/confirm-email?token=")
        .unwrap_or_else(|| panic!("no link in {body}"));
    body[start..]
        .split_once("token=")
        .unwrap()
        .1
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

const PASSWORD: &str = "a-long-enough-password";

#[tokio::test]
async fn a_registration_confirms_its_address_then_waits_for_an_administrator() {
    let scratch = Scratch::new("registration");
    let Some(mail) = MailServer::start(scratch.path()).await else {
        return;
    };
    let app = spawn_app_with(Options {
        smtp_url: Some(mail.url.clone()),
        ..Options::default()
    })
    .await;
    let team = app.create_team("Alpha").await;

    // Closed until an administrator opens it.
    let info = json_of(
        app.request(Method::GET, "/api/auth/registration", None, None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["open"], false);
    let new_account = json!({
        "username": "nora",
        "email": "Nora@Example.com",
        "full_name": "Nora Quinn",
        "password": PASSWORD,
    });
    let closed = assert_problem(
        public(&app, "/api/auth/register", new_account.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(closed["detail"]
        .as_str()
        .unwrap()
        .contains("ask an administrator"));

    // The policy: registration never makes administrators; the team must exist.
    let refused = assert_problem(
        app.put(
            "/api/registration/policy",
            &app.admin.token,
            json!({"mode": "email_and_approval", "role": "admin"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["errors"]["role"].is_array(), "{refused}");
    let refused = assert_problem(
        app.put(
            "/api/registration/policy",
            &app.admin.token,
            json!({"mode": "email", "team_id": uuid::Uuid::new_v4(), "role": "requester"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["errors"]["team_id"].is_array(), "{refused}");
    json_of(
        app.put(
            "/api/registration/policy",
            &app.admin.token,
            json!({"mode": "email_and_approval", "team_id": team, "role": "technical_agent"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let info = json_of(
        app.request(Method::GET, "/api/auth/registration", None, None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        info,
        json!({"open": true, "needs_email": true, "needs_approval": true})
    );

    // Bad input: a message per field, nothing created.
    let invalid = assert_problem(
        public(
            &app,
            "/api/auth/register",
            json!({"username": "N", "email": "not-an-address", "password": "short"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for field in ["username", "email", "password"] {
        assert!(invalid["errors"][field].is_array(), "{field}: {invalid}");
    }
    let taken = assert_problem(
        public(
            &app,
            "/api/auth/register",
            json!({"username": "root", "email": "other@example.com", "password": PASSWORD}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(taken["errors"]["username"].is_array(), "{taken}");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM users WHERE email = 'not-an-address'")
            .await,
        0
    );

    let registered = json_of(
        public(&app, "/api/auth/register", new_account.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(registered["next"], "confirm_email");
    assert!(registered["message"]
        .as_str()
        .unwrap()
        .contains("nora@example.com"));

    // Not yet: the address is not confirmed. Only someone with the password is told so.
    let wrong = assert_problem(
        sign_in(&app, "nora", "not-the-password-at-all").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(!wrong["detail"].as_str().unwrap().contains("confirm"));
    let unconfirmed = assert_problem(
        sign_in(&app, "nora", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        unconfirmed["detail"]
            .as_str()
            .unwrap()
            .contains("confirm your e-mail address first"),
        "{unconfirmed}"
    );

    let token = link_token(&mail, "nora@example.com");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM email_confirmations")
            .await,
        1
    );
    // The link is kept only as a digest.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM email_confirmations WHERE digest = '{token}'"
        ))
        .await,
        0
    );
    let confirmed = json_of(
        public(&app, "/api/auth/confirm-email", json!({"token": token})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(confirmed["next"], "await_approval");
    assert_problem(
        public(&app, "/api/auth/confirm-email", json!({"token": token})).await,
        StatusCode::GONE,
    )
    .await;

    let waiting = assert_problem(
        sign_in(&app, "nora", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        waiting["detail"]
            .as_str()
            .unwrap()
            .contains("has not approved"),
        "{waiting}"
    );

    // The administrator hears of it, finds it among the waiting accounts and lets it in.
    let notes = json_of(
        app.get("/api/notifications", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["title"] == "nora registered and waits for approval"
                && n["link"] == "/admin/users"),
        "{notes}"
    );
    let listed = json_of(
        app.get("/api/users?awaiting_approval=true", &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["username"], "nora");
    assert_eq!(items[0]["confirmed"], true);
    assert_eq!(items[0]["awaiting_approval"], true);
    let id = items[0]["id"].as_str().unwrap().to_owned();
    let agent = app
        .user_with("ivy", &[shared::Role::TechnicalAgent], &[])
        .await;
    assert_problem(
        app.post(&format!("/api/users/{id}/approve"), &agent.token, json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let approved = json_of(
        app.post(
            &format!("/api/users/{id}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["awaiting_approval"], false);
    assert_problem(
        app.post(
            &format!("/api/users/{id}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;

    // In, with the team and role the policy named.
    let session = json_of(sign_in(&app, "nora", PASSWORD).await, StatusCode::OK).await;
    let me = session["user"].clone();
    assert_eq!(me["roles"], json!(["technical_agent"]));
    let teams: Vec<&str> = me["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(teams, vec![team.as_str()]);

    for action in ["user.register", "user.confirm_email", "user.approve"] {
        let rows = audit_rows(&app, action).await;
        assert_eq!(rows.len(), 1, "{action}");
        assert_eq!(rows[0]["target_id"], id, "{action}");
    }
}

#[tokio::test]
async fn a_link_sent_again_replaces_the_old_one_and_registrations_are_limited() {
    let scratch = Scratch::new("registration-limit");
    let Some(mail) = MailServer::start(scratch.path()).await else {
        return;
    };
    let mut options = Options {
        smtp_url: Some(mail.url.clone()),
        ..Options::default()
    };
    options.login_limits.registrations_per_hour = 4;
    let app = spawn_app_with(options).await;
    // Without e-mail set up, only approval could be chosen (checked on a second app below).
    json_of(
        app.put(
            "/api/registration/policy",
            &app.admin.token,
            json!({"mode": "email"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let registered = json_of(
        public(
            &app,
            "/api/auth/register",
            json!({"username": "otto", "email": "otto@example.com", "password": PASSWORD}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(registered["next"], "confirm_email");
    let first = link_token(&mail, "otto@example.com");

    // Asking again answers alike for an address nobody registered, and sends nothing there.
    for email in ["otto@example.com", "nobody@example.com"] {
        let res = public(&app, "/api/auth/register/resend", json!({"email": email})).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{email}");
    }
    assert!(mail.to("nobody@example.com").is_empty());
    // What is no address or no token of ours is refused under its field.
    let bad = assert_problem(
        public(
            &app,
            "/api/auth/register/resend",
            json!({"email": "not an address"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["errors"]["email"].is_array(), "{bad}");
    let bad = assert_problem(
        public(
            &app,
            "/api/auth/confirm-email",
            json!({"token": "x".repeat(129)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["errors"]["token"].is_array(), "{bad}");
    assert_eq!(mail.to("otto@example.com").len(), 2);
    let second = link_token(&mail, "otto@example.com");
    assert_ne!(first, second);
    assert_problem(
        public(&app, "/api/auth/confirm-email", json!({"token": first})).await,
        StatusCode::GONE,
    )
    .await;
    let confirmed = json_of(
        public(&app, "/api/auth/confirm-email", json!({"token": second})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(confirmed["next"], "ready");
    json_of(sign_in(&app, "otto", PASSWORD).await, StatusCode::OK).await;
    // Requester by default, in the Global team.
    let otto = json_of(
        app.get("/api/users?q=otto", &app.admin.token).await,
        StatusCode::OK,
    )
    .await["items"][0]
        .clone();
    assert_eq!(otto["roles"], json!(["requester"]));
    assert_eq!(otto["teams"][0]["slug"], "global");

    // Four tries an hour from one address (the register and the two resends above, and this).
    json_of(
        public(
            &app,
            "/api/auth/register",
            json!({"username": "pia", "email": "pia@example.com", "password": PASSWORD}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let limited = public(
        &app,
        "/api/auth/register",
        json!({"username": "quin", "email": "quin@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM users WHERE username = 'quin'")
            .await,
        0
    );

    // A server without e-mail cannot ask for confirmation links.
    let bare = spawn_app_with(Options::default()).await;
    let refused = assert_problem(
        bare.put(
            "/api/registration/policy",
            &bare.admin.token,
            json!({"mode": "email_and_approval"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["errors"]["mode"][0]
        .as_str()
        .unwrap()
        .contains("PROVISIO_SMTP_URL"));
}

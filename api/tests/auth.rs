mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{assert_problem, refresh_cookie_of, spawn_app, spawn_app_with, Options};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::Role;
use std::time::Duration;

#[tokio::test]
async fn login_returns_access_token_me_and_an_httponly_strict_refresh_cookie() {
    let app = spawn_app().await;
    let res = app.try_login("root", common::ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie_header = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("provisio_refresh="))
        .expect("refresh cookie");
    assert!(cookie_header.contains("HttpOnly"));
    assert!(cookie_header.contains("SameSite=Strict"));
    assert!(cookie_header.contains("Path=/api/auth"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["username"], "root");
    assert_eq!(body["user"]["roles"], json!(["admin"]));
    assert!(body["user"]["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("users_manage")));
    assert_eq!(body["user"]["teams"][0]["name"], "Global");
    assert!(
        body.get("refresh_token").is_none(),
        "the refresh secret stays in the cookie"
    );

    let me: Value = app
        .get("/api/auth/me", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "root");
}

#[tokio::test]
async fn login_by_email_works_and_wrong_password_is_a_401_problem() {
    let app = spawn_app().await;
    assert_eq!(
        app.try_login("ROOT@example.com", common::ADMIN_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    let body = assert_problem(
        app.try_login("root", "not-the-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(body["detail"], "the username or password is wrong");
    let unknown = assert_problem(
        app.try_login("nobody", "whatever-password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        unknown["detail"], body["detail"],
        "unknown accounts are not revealed"
    );
}

#[tokio::test]
async fn empty_login_fields_get_per_field_errors() {
    let app = spawn_app().await;
    let body = assert_problem(
        app.try_login("", "").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"]["login"].is_array());
    assert!(body["errors"]["password"].is_array());
}

#[tokio::test]
async fn malformed_json_is_a_422_problem_naming_the_body() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"login\": 5")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["body"].is_array());
}

#[tokio::test]
async fn requests_without_or_with_garbage_tokens_are_401() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/api/auth/me", None, None).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, StatusCode::UNAUTHORIZED).await;
    assert_problem(
        app.get("/api/auth/me", "not.a.jwt").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

fn forged(header: Value, claims: Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

#[tokio::test]
async fn alg_none_forged_and_expired_tokens_are_rejected() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "provisio", "aud": "provisio-api", "sub": app.admin.id, "iat": now, "exp": now + 600, "sv": 0});
    let none = forged(json!({"alg": "none", "typ": "JWT"}), claims.clone(), "");
    assert_problem(
        app.get("/api/auth/me", &none).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // A valid token's signature pasted onto claims naming someone else.
    let sig = app.admin.token.rsplit('.').next().unwrap().to_owned();
    let tampered = forged(
        json!({"alg": "HS256", "typ": "JWT"}),
        json!({"iss": "provisio", "aud": "provisio-api", "sub": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600, "sv": 0}),
        &sig,
    );
    assert_problem(
        app.get("/api/auth/me", &tampered).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let keys = jsonwebtoken::EncodingKey::from_secret(&app.keys.jwt_secret);
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": "provisio", "aud": "provisio-api", "sub": app.admin.id, "iat": now - 3600, "exp": now - 1800, "sv": 0}),
        &keys,
    )
    .unwrap();
    assert_problem(
        app.get("/api/auth/me", &expired).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &keys,
    )
    .unwrap();
    assert_problem(
        app.get("/api/auth/me", &hs512).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

/// A personal API token of the holder of `session_token`: its secret.
async fn new_api_token(app: &common::TestApp, session_token: &str) -> String {
    let created: Value = app
        .post("/api/me/tokens", session_token, json!({"name": "ci"}))
        .await
        .json()
        .await
        .unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

/// Moves every rotation into the past, beyond the window in which a rotated secret presented
/// again still gets its successor back.
async fn past_the_grace_window(app: &common::TestApp) {
    use api::entities::refresh_tokens::{Column, Entity};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Entity::update_many()
        .col_expr(
            Column::UsedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(Column::UsedAt.is_not_null())
        .exec(&app.db)
        .await
        .unwrap();
}

/// Two tabs refresh with the same cookie at the same moment: both get the same new cookie and
/// the session goes on; the same cookie once the window has passed ends the session.
#[tokio::test]
async fn two_tabs_refreshing_at_once_both_stay_signed_in() {
    let app = spawn_app().await;
    let user = app.user_with("tabby", &[Role::Requester], &[]).await;
    let cookie = user.refresh_cookie.clone().unwrap();
    let (a, b) = tokio::join!(app.refresh(&cookie), app.refresh(&cookie));
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let (next_a, next_b) = (
        refresh_cookie_of(a.headers()).unwrap(),
        refresh_cookie_of(b.headers()).unwrap(),
    );
    assert_eq!(next_a, next_b, "both tabs hold the same new cookie");
    for answer in [a, b] {
        let body: Value = answer.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get("/api/auth/me", &token).await.status(),
            StatusCode::OK
        );
    }
    // The new cookie goes on working.
    let again = app.refresh(&next_a).await;
    assert_eq!(again.status(), StatusCode::OK);
    let latest = refresh_cookie_of(again.headers()).unwrap();

    past_the_grace_window(&app).await;
    assert_problem(app.refresh(&cookie).await, StatusCode::UNAUTHORIZED).await;
    assert_problem(app.refresh(&latest).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn refresh_rotates_the_cookie_and_reusing_a_rotated_one_revokes_the_family() {
    let app = spawn_app().await;
    let first = app.admin.refresh_cookie.clone().unwrap();
    let res = app.refresh(&first).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = refresh_cookie_of(res.headers()).unwrap();
    assert_ne!(first, second);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        app.get("/api/auth/me", body["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    // Replaying the first cookie after the grace window is theft: both it and its successor die.
    past_the_grace_window(&app).await;
    assert_problem(app.refresh(&first).await, StatusCode::UNAUTHORIZED).await;
    assert_problem(app.refresh(&second).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn refresh_secrets_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let cookie = app.admin.refresh_cookie.clone().unwrap();
    let like = format!("SELECT COUNT(*) AS n FROM refresh_tokens WHERE token_hash = '{cookie}'");
    assert_eq!(app.count(&like).await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM refresh_tokens").await,
        1
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_cookie_and_clears_it() {
    let app = spawn_app().await;
    let cookie = app.admin.refresh_cookie.clone().unwrap();
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("Cookie", format!("provisio_refresh={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.starts_with("provisio_refresh=;") && cleared.contains("Max-Age=0"));
    assert_problem(app.refresh(&cookie).await, StatusCode::UNAUTHORIZED).await;
    // The access token of that session ends with it, not when it expires.
    assert_problem(
        app.get("/api/auth/me", &app.admin.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn a_replayed_refresh_token_ends_the_access_tokens_of_its_session_but_not_other_sessions() {
    let app = spawn_app().await;
    let user = app.user_with("rita", &[Role::Requester], &[]).await;
    let other = app.login("rita", &user.password).await;
    let stolen = user.refresh_cookie.clone().unwrap();
    let rotated = app.refresh(&stolen).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let fresh: Value = rotated.json().await.unwrap();
    let fresh_token = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/auth/me", &fresh_token).await.status(),
        StatusCode::OK
    );
    // The old secret comes back later: someone holds a copy, and the whole session ends.
    past_the_grace_window(&app).await;
    assert_problem(app.refresh(&stolen).await, StatusCode::UNAUTHORIZED).await;
    for token in [&user.token, &fresh_token] {
        assert_problem(
            app.get("/api/auth/me", token).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    assert_eq!(
        app.get("/api/auth/me", &other.token).await.status(),
        StatusCode::OK,
        "a session signed in elsewhere goes on"
    );
}

#[tokio::test]
async fn deactivating_a_user_stops_their_access_token_refresh_and_api_tokens_at_once() {
    let app = spawn_app().await;
    let user = app.user_with("dora", &[Role::TechnicalAgent], &[]).await;
    let api_token = new_api_token(&app, &user.token).await;
    assert_eq!(
        app.get("/api/auth/me", &api_token).await.status(),
        StatusCode::OK
    );

    let res = app
        .patch(
            &format!("/api/users/{}", user.id),
            &app.admin.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        app.get("/api/auth/me", &user.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.get("/api/auth/me", &api_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.refresh(user.refresh_cookie.as_ref().unwrap()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let body = assert_problem(
        app.try_login("dora", &user.password).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(body["detail"], "this account is deactivated");

    // Reactivated, the account signs in again, but what it had before stays ended.
    let res = app
        .patch(
            &format!("/api/users/{}", user.id),
            &app.admin.token,
            json!({"active": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for token in [&api_token, &user.token] {
        assert_problem(
            app.get("/api/auth/me", token).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let again = app.login("dora", &user.password).await;
    assert_eq!(
        app.get("/api/auth/me", &again.token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn password_reset_ends_existing_sessions_and_the_new_password_works() {
    let app = spawn_app().await;
    let user = app.user_with("erin", &[Role::Requester], &[]).await;
    let res = app
        .post(
            &format!("/api/users/{}/password", user.id),
            &app.admin.token,
            json!({"password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get("/api/auth/me", &user.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.try_login("erin", &user.password).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    app.login("erin", "a-brand-new-password").await;
}

#[tokio::test]
async fn changing_ones_own_password_checks_the_current_one() {
    let app = spawn_app().await;
    let user = app.user_with("fay", &[Role::SalesAgent], &[]).await;
    let res = app
        .request(Method::PUT, "/api/auth/password", Some(&user.token), Some(json!({"current_password": "wrong-one-entirely", "new_password": "another-long-password"})))
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["current_password"].is_array());
    let res = app
        .request(
            Method::PUT,
            "/api/auth/password",
            Some(&user.token),
            Some(
                json!({"current_password": user.password, "new_password": "another-long-password"}),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.login("fay", "another-long-password").await;
}

/// Options whose client address is taken from `X-Forwarded-For`, so one test can speak from
/// many addresses.
fn behind_a_proxy() -> Options {
    Options {
        adjust_config: |config| {
            config.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])]
        },
        ..Options::default()
    }
}

async fn login_from(
    app: &common::TestApp,
    address: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login"))
        .header("X-Forwarded-For", address)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn guesses_from_one_address_slow_it_down_without_locking_the_owner_out() {
    let mut options = behind_a_proxy();
    options.login_limits.free_failures = 5;
    options.login_limits.account_failures = 20;
    let app = spawn_app_with(options).await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "203.0.113.9", "root", "wrong-password!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // The guesser's next try must wait, growing with every further failure.
    let res = login_from(&app, "203.0.113.9", "root", "wrong-password!").await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // The owner, somewhere else, signs in with the right password.
    let res = login_from(&app, "198.51.100.7", "root", common::ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn guesses_over_every_name_and_address_are_bounded_per_account_and_reported() {
    let mut options = behind_a_proxy();
    options.login_limits.account_failures = 10;
    let app = spawn_app_with(options).await;
    let owner = app.user_with("hal", &[Role::Requester], &[]).await;
    // The owner's usual place.
    assert_eq!(
        login_from(&app, "192.0.2.50", "hal", &owner.password)
            .await
            .status(),
        StatusCode::OK
    );
    let names = ["hal", "HAL", "hal@example.com", "Hal@Example.com"];
    let mut refused = 0;
    for i in 0..100 {
        let res = login_from(
            &app,
            &format!("203.0.113.{i}"),
            names[i % 4],
            "guess-1234567",
        )
        .await;
        match res.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("guess {i}: {other}"),
        }
    }
    assert_eq!(
        refused, 90,
        "10 guesses an hour get an answer, the rest wait"
    );
    // A new address waits even with the right password; the owner's usual one does not.
    assert_problem(
        login_from(&app, "198.51.100.1", "hal", &owner.password).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(
        login_from(&app, "192.0.2.50", "hal@example.com", &owner.password)
            .await
            .status(),
        StatusCode::OK
    );
    // The owner and the administrator were told once.
    for who in ["hal", "root"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) AS n FROM notifications JOIN users ON users.id = notifications.user_id \
                 WHERE kind = 'security.sign_in_burst' AND users.username = '{who}'"
            ))
            .await,
            1,
            "{who}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'session.guessing_burst'")
            .await,
        1
    );
}

#[tokio::test]
async fn guessing_the_current_password_is_limited_like_signing_in() {
    let mut options = Options::default();
    options.login_limits.free_failures = 3;
    let app = spawn_app_with(options).await;
    let user = app.user_with("gus", &[Role::Requester], &[]).await;
    let change = |current: &str| json!({"current_password": current, "new_password": "a-brand-new-password"});
    for _ in 0..3 {
        assert_problem(
            app.put("/api/auth/password", &user.token, change("wrong-guess-123"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let res = app
        .put("/api/auth/password", &user.token, change(&user.password))
        .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // The guesses counted against the account: signing in waits too.
    assert_problem(
        app.try_login("gus", &user.password).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

#[tokio::test]
async fn an_api_token_cannot_change_the_password() {
    let app = spawn_app().await;
    let user = app.user_with("ivy", &[Role::Requester], &[]).await;
    let api_token = new_api_token(&app, &user.token).await;
    let body = json!({"current_password": user.password, "new_password": "a-brand-new-password"});
    let problem = assert_problem(
        app.put("/api/auth/password", &api_token, body.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("API token"),
        "{problem}"
    );
    // The same change in the signed-in session works.
    assert_eq!(
        app.put("/api/auth/password", &user.token, body)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn one_ip_is_limited_across_accounts() {
    let mut options = Options::default();
    options.login_limits.ip_attempts = 4;
    options.login_limits.ip_window = Duration::from_secs(60);
    let app = spawn_app_with(options).await;
    // spawn_app already used one attempt for the admin login.
    for name in ["a1", "a2", "a3"] {
        assert_eq!(
            app.try_login(name, "whatever-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = app.try_login("a4", "whatever-password").await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn personal_api_tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/me/tokens",
            &app.admin.token,
            json!({"name": "deploy bot", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pvs_"));
    assert!(created["token"]["expires_at"].is_string());

    let me: Value = app.get("/api/auth/me", &secret).await.json().await.unwrap();
    assert_eq!(me["username"], "root");
    let listed: Value = app
        .get("/api/me/tokens", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM api_tokens WHERE token_hash = '{secret}'"
        ))
        .await,
        0
    );

    // A token cannot mint further tokens.
    assert_problem(
        app.post("/api/me/tokens", &secret, json!({"name": "child"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let id = created["token"]["id"].as_str().unwrap();
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/me/tokens/{id}"),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get("/api/auth/me", &secret).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked() {
    let app = spawn_app().await;
    let other = app.user_with("gus", &[Role::Requester], &[]).await;
    let created: Value = app
        .post("/api/me/tokens", &other.token, json!({"name": "mine"}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["token"]["id"].as_str().unwrap();
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/me/tokens/{id}"),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.get("/api/auth/me", created["secret"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn token_validation_errors_name_the_fields() {
    let app = spawn_app().await;
    let body = assert_problem(
        app.post(
            "/api/me/tokens",
            &app.admin.token,
            json!({"name": "", "expires_in_days": 1000}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"]["name"].is_array());
    assert!(body["errors"]["expires_in_days"].is_array());
}

/// Live streams are opened with single-use tickets: a ticket works once, only on its path,
/// only before it expires and only while the session that asked for it is open.
#[tokio::test]
async fn stream_tickets_open_one_stream_once_and_end_with_their_session() {
    let app = spawn_app().await;
    // Nothing is watched here: an authenticated stream of an unknown server answers 404, a
    // refused ticket 401.
    let path = format!("/api/servers/{}/events", uuid::Uuid::new_v4());
    let url = app.url(&app.ticketed(&path, &app.admin.token).await);
    assert_problem(
        app.client.get(&url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.client.get(&url).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Only stream paths can be asked for.
    let res = app
        .post(
            "/api/auth/stream-tickets",
            &app.admin.token,
            json!({"path": "/api/users"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["path"].is_array(), "{problem:#}");
    // An expired ticket is refused.
    let stale = app.url(&app.ticketed(&path, &app.admin.token).await);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM stream_tickets").await,
        1,
        "the spent ticket is gone"
    );
    {
        use api::entities::stream_tickets::{Column, Entity};
        use sea_orm::sea_query::Expr;
        use sea_orm::EntityTrait;
        Entity::update_many()
            .col_expr(
                Column::ExpiresAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
            )
            .exec(&app.db)
            .await
            .unwrap();
    }
    assert_problem(
        app.client.get(&stale).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // API tokens may ask for tickets too; revoking the token refuses its unspent ticket.
    let secret = new_api_token(&app, &app.admin.token).await;
    let by_token = app.url(&app.ticketed(&path, &secret).await);
    let tokens: Value = app
        .get("/api/me/tokens", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let token_id = tokens[0]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/me/tokens/{token_id}"), &app.admin.token)
        .await;
    assert_problem(
        app.client.get(&by_token).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A ticket of a session that signed out is refused.
    let pending = app.url(&app.ticketed(&path, &app.admin.token).await);
    let cookie = app.admin.refresh_cookie.clone().unwrap();
    app.client
        .post(app.url("/api/auth/logout"))
        .header("Cookie", format!("provisio_refresh={cookie}"))
        .send()
        .await
        .unwrap();
    assert_problem(
        app.client.get(&pending).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn an_expired_api_token_is_refused() {
    let app = spawn_app().await;
    let secret = new_api_token(&app, &app.admin.token).await;
    assert_eq!(
        app.get("/api/auth/me", &secret).await.status(),
        StatusCode::OK
    );
    {
        use api::entities::api_tokens::{Column, Entity};
        use sea_orm::sea_query::Expr;
        use sea_orm::EntityTrait;
        Entity::update_many()
            .col_expr(
                Column::ExpiresAt,
                Expr::value(Some(chrono::Utc::now() - chrono::Duration::seconds(1))),
            )
            .exec(&app.db)
            .await
            .unwrap();
    }
    assert_problem(
        app.get("/api/auth/me", &secret).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

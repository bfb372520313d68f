//! Answers kept in memory (`api::cache`) never outlive what they were read from: a write through
//! the API shows in the very next read; a write that bypasses this process (another process, or
//! SQL straight into the database, as here) shows once its change signal arrives; a caller whose
//! account or teams changed is judged on the new ones. Run on SQLite and on PostgreSQL.

mod common;

use common::{insert_deployment, provider_body, spawn_app, Session, TestApp};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use shared::Role;
use std::io::Read;
use std::time::{Duration, Instant};

/// How long a change made behind the server's back may take to be seen: PostgreSQL notifies in
/// milliseconds, SQLite's `data_version` is checked every 40 ms; generous for a loaded machine.
const SIGNAL_DEADLINE: Duration = Duration::from_secs(5);

async fn provider(app: &TestApp) -> String {
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Cache provider"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// A technical agent (who sees deployments) of `team` only.
async fn agent_of(app: &TestApp, username: &str, team: &str) -> Session {
    app.user_with(username, &[Role::TechnicalAgent], &[team.to_owned()])
        .await
}

async fn names(app: &TestApp, session: &Session) -> Vec<String> {
    let res = app
        .get("/api/deployments?per_page=50", &session.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} ({})",
                d["name"].as_str().unwrap(),
                d["team"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// Runs SQL straight against the database, as another process would.
async fn behind_the_servers_back(app: &TestApp, sql: &str) {
    app.db.execute_unprepared(sql).await.unwrap();
}

/// Polls `read` until it returns `want`, and says how long that took.
async fn until<T: PartialEq + std::fmt::Debug, F: std::future::Future<Output = T>>(
    want: T,
    mut read: impl FnMut() -> F,
) -> Duration {
    let started = Instant::now();
    loop {
        let got = read().await;
        if got == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < SIGNAL_DEADLINE,
            "still {got:?} instead of {want:?} after {SIGNAL_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn cache_hits(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("provisio_cache_lookups_total{result=\"hit\"} "))
        .expect("the cache counters are exported")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_deployments_list_is_remembered_until_a_write_through_the_api_or_the_database() {
    let app = spawn_app().await;
    let provider = provider(&app).await;
    let team = app.create_team("Blue").await;
    let agent = agent_of(&app, "cache-agent", &team).await;
    insert_deployment(&app, &team, &provider, 1).await;

    // The insert above bypassed the API; the first read sees it (it was never remembered).
    let seen = vec!["matrix-app-1 (Blue)".to_owned()];
    until(seen.clone(), || names(&app, &agent)).await;
    let hits = cache_hits(&app).await;
    assert_eq!(names(&app, &agent).await, seen);
    assert_eq!(names(&app, &agent).await, seen);
    assert!(
        cache_hits(&app).await >= hits + 2,
        "repeated reads are answered from memory"
    );

    // A write through the API: the very next read shows it, no waiting.
    let res = app
        .patch(
            &format!("/api/teams/{team}"),
            &app.admin.token,
            json!({"name": "Azure"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(names(&app, &agent).await, vec!["matrix-app-1 (Azure)"]);

    // A write behind the server's back shows once its change signal arrives.
    behind_the_servers_back(
        &app,
        "UPDATE deployments SET name = 'renamed-app' WHERE name = 'matrix-app-1'",
    )
    .await;
    until(vec!["renamed-app (Azure)".to_owned()], || {
        names(&app, &agent)
    })
    .await;

    // So does one to the statistics' rows.
    let running = || async {
        let res = app.get("/api/statistics", &agent.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json::<Value>().await.unwrap()["running"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(running().await, 1);
    assert_eq!(running().await, 1);
    behind_the_servers_back(
        &app,
        "UPDATE deployments SET status = 'FAILED' WHERE name = 'renamed-app'",
    )
    .await;
    until(0, running).await;
}

#[tokio::test]
async fn a_caller_is_judged_on_their_current_account_and_teams_not_a_remembered_one() {
    let app = spawn_app().await;
    let provider = provider(&app).await;
    let red = app.create_team("Red").await;
    let green = app.create_team("Green").await;
    let agent = agent_of(&app, "cache-member", &red).await;
    insert_deployment(&app, &red, &provider, 1).await;
    insert_deployment(&app, &green, &provider, 2).await;
    until(vec!["matrix-app-1 (Red)".to_owned()], || {
        names(&app, &agent)
    })
    .await;
    assert_eq!(names(&app, &agent).await, vec!["matrix-app-1 (Red)"]);

    // Joining a team through the API widens the very next answer.
    let res = app
        .put(
            &format!("/api/teams/{green}/members/{}", agent.id),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let mut both = names(&app, &agent).await;
    both.sort();
    assert_eq!(both, vec!["matrix-app-1 (Red)", "matrix-app-2 (Green)"]);

    // Leaving one behind the server's back narrows it once the signal arrives.
    behind_the_servers_back(
        &app,
        "DELETE FROM team_memberships \
         WHERE user_id = (SELECT id FROM users WHERE username = 'cache-member') \
           AND team_id = (SELECT id FROM teams WHERE name = 'Red')",
    )
    .await;
    until(vec!["matrix-app-2 (Green)".to_owned()], || {
        names(&app, &agent)
    })
    .await;

    // A role taken away behind the server's back is refused once the signal arrives.
    let status = || async {
        app.get("/api/deployments", &agent.token)
            .await
            .status()
            .as_u16()
    };
    assert_eq!(status().await, 200);
    behind_the_servers_back(
        &app,
        "UPDATE users SET roles = 'requester' WHERE username = 'cache-member'",
    )
    .await;
    until(403, status).await;

    // Deactivation through the API ends the session at once; a session ended behind the
    // server's back (another process signing the user out) ends once the signal arrives.
    let me = |token: String| {
        let app = &app;
        async move { app.get("/api/auth/me", &token).await.status().as_u16() }
    };
    let other = app.user_with("cache-other", &[Role::Requester], &[]).await;
    assert_eq!(me(agent.token.clone()).await, 200);
    assert_eq!(me(other.token.clone()).await, 200);
    let res = app
        .patch(
            &format!("/api/users/{}", agent.id),
            &app.admin.token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert_eq!(me(agent.token.clone()).await, 401);
    behind_the_servers_back(
        &app,
        "UPDATE users SET session_version = session_version + 1 WHERE username = 'cache-other'",
    )
    .await;
    until(401, || me(other.token.clone())).await;
}

#[tokio::test]
async fn clients_that_accept_gzip_get_the_remembered_answer_compressed() {
    let app = spawn_app().await;
    let provider = provider(&app).await;
    let team = app.create_team("Blue").await;
    let agent = agent_of(&app, "cache-agent", &team).await;
    // Large enough to be worth compressing once (1 KiB and up).
    for n in 1..=3 {
        insert_deployment(&app, &team, &provider, n).await;
    }
    let res = app
        .client
        .get(app.url("/api/deployments?per_page=50"))
        .bearer_auth(&agent.token)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let compressed = res.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut unpacked)
        .unwrap();
    let plain = app
        .get("/api/deployments?per_page=50", &agent.token)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(unpacked, plain);

    assert!(
        compressed.len() < plain.len(),
        "{} vs {}",
        compressed.len(),
        plain.len()
    );
    assert_eq!(serde_json::from_slice::<Value>(&plain).unwrap()["total"], 3);
}

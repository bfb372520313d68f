//! Answers never outlive what they were read from: a write through the API shows in the very next
//! read; a write that bypasses this process (another process, or SQL straight into the database,
//! as here) shows too; a caller whose account or teams changed is judged on the new ones. These
//! guarded an in-memory answer cache once; they stay so that none comes back that breaks them.
//! Run on SQLite and on PostgreSQL.

mod common;

use common::{insert_deployment, provider_body, spawn_app, Session, TestApp};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use shared::Role;
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
    assert_eq!(names(&app, &agent).await, seen);

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
async fn pages_followed_by_cursor_are_the_pages_by_number_within_the_callers_teams() {
    let app = spawn_app().await;
    let provider = provider(&app).await;
    let blue = app.create_team("Blue").await;
    let red = app.create_team("Red").await;
    let agent = agent_of(&app, "pager", &blue).await;
    for n in 1..=7 {
        insert_deployment(&app, &blue, &provider, n).await;
    }
    for n in 8..=9 {
        insert_deployment(&app, &red, &provider, n).await;
    }
    let page = |query: String| {
        let (app, token) = (&app, agent.token.clone());
        async move {
            let res = app.get(&format!("/api/deployments?{query}"), &token).await;
            assert_eq!(res.status(), StatusCode::OK, "{query}");
            res.json::<Value>().await.unwrap()
        }
    };
    let names_of = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let mut by_number = Vec::new();
    for n in 1..=3 {
        let body = page(format!("per_page=3&page={n}")).await;
        assert_eq!(body["total"], 7);
        assert_eq!(body["page"], n);
        by_number.push(names_of(&body));
    }
    assert_eq!(
        by_number.iter().map(Vec::len).collect::<Vec<_>>(),
        [3, 3, 1]
    );

    let first = page("per_page=3".into()).await;
    assert_eq!(names_of(&first), by_number[0]);
    let mut next = first["next"].as_str().expect("a next cursor").to_owned();
    for (n, expected) in by_number.iter().enumerate().skip(1) {
        let body = page(format!("per_page=3&after={next}")).await;
        assert_eq!(names_of(&body), *expected, "page {}", n + 1);
        assert_eq!(body["page"], n as u64 + 1);
        assert_eq!(body["total"], 7);
        match body["next"].as_str() {
            Some(cursor) => next = cursor.to_owned(),
            None => assert_eq!(n, 2, "only the last page has no next"),
        }
    }
    let everything: Vec<String> = by_number.concat();
    assert!(everything
        .iter()
        .all(|n| !n.ends_with("-8") && !n.ends_with("-9")));
    let unique: std::collections::BTreeSet<_> = everything.iter().collect();
    assert_eq!(unique.len(), 7);

    // Filters apply to the following pages too.
    let running = page("per_page=2&status=RUNNING".into()).await;
    let after = running["next"].as_str().unwrap();
    let second = page(format!("per_page=2&status=RUNNING&after={after}")).await;
    assert_eq!(
        names_of(&second),
        names_of(&page("per_page=2&page=2&status=RUNNING".into()).await)
    );

    for bad in ["nonsense", "0.1.2", "1.x.00000000000000000000000000000000"] {
        let res = app
            .get(&format!("/api/deployments?after={bad}"), &agent.token)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["errors"]["after"].is_array() || body["errors"]["after"].is_string(),
            "{body}"
        );
    }
}

/// The list's total and the statistics are sums over a count table that database triggers keep;
/// they must follow every insert, status, framework and team change and delete, including writes
/// that bypass this process, and stay within the caller's teams.
#[tokio::test]
async fn totals_and_statistics_follow_every_change_to_the_rows_even_behind_the_servers_back() {
    let app = spawn_app().await;
    let provider = provider(&app).await;
    let blue = app.create_team("Blue").await;
    let red = app.create_team("Red").await;
    let agent = agent_of(&app, "counter", &blue).await;
    for n in 1..=4 {
        insert_deployment(&app, &blue, &provider, n).await;
    }
    for n in 5..=6 {
        insert_deployment(&app, &red, &provider, n).await;
    }
    let read = |path: &'static str, token: String| {
        let app = &app;
        async move {
            let res = app.get(path, &token).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            res.json::<Value>().await.unwrap()
        }
    };
    let agents_stats = read("/api/statistics", agent.token.clone()).await;
    assert_eq!(agents_stats["total"], 4);
    assert_eq!(agents_stats["running"], 4);
    assert_eq!(
        read("/api/statistics", app.admin.token.clone()).await["total"],
        6
    );
    assert_eq!(
        read("/api/deployments?per_page=2", agent.token.clone()).await["total"],
        4
    );

    for sql in [
        "UPDATE deployments SET status = 'STOPPED' WHERE name = 'matrix-app-1'",
        "UPDATE deployments SET framework = 'django' WHERE name = 'matrix-app-2'",
        "UPDATE deployments SET status = 'DELETED' WHERE name = 'matrix-app-3'",
        "UPDATE deployments SET team_id = (SELECT team_id FROM deployments WHERE name = 'matrix-app-4') \
         WHERE name = 'matrix-app-5'",
        "DELETE FROM deployments WHERE name = 'matrix-app-4'",
        // Changes nothing the counts depend on.
        "UPDATE deployments SET branch = 'next' WHERE name = 'matrix-app-6'",
    ] {
        behind_the_servers_back(&app, sql).await;
    }
    // Blue now: 1 STOPPED flask, 2 RUNNING django, 3 DELETED flask, 5 RUNNING flask (moved).
    let total = |query: &'static str| {
        let token = agent.token.clone();
        let read = &read;
        async move { read(query, token).await["total"].clone() }
    };
    assert_eq!(total("/api/deployments").await, 3);
    assert_eq!(total("/api/deployments?status=STOPPED").await, 1);
    assert_eq!(total("/api/deployments?status=DELETED").await, 1);
    assert_eq!(total("/api/deployments?framework=django").await, 1);
    assert_eq!(
        total("/api/deployments?framework=flask&status=RUNNING").await,
        1
    );
    assert_eq!(total("/api/deployments?q=app-5").await, 1);
    let stats = read("/api/statistics", agent.token.clone()).await;
    assert_eq!(stats["total"], 4);
    assert_eq!(stats["running"], 2);
    assert_eq!(
        stats["by_status"],
        json!({"DELETED": 1, "RUNNING": 2, "STOPPED": 1})
    );
    let frameworks: Vec<(String, u64)> = stats["by_framework"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["framework"].as_str().unwrap().to_owned(),
                f["total"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(frameworks.contains(&("django".into(), 1)), "{frameworks:?}");
    assert!(frameworks.contains(&("flask".into(), 3)), "{frameworks:?}");
    // A status or framework none is left in is not shown with a zero.
    behind_the_servers_back(
        &app,
        "DELETE FROM deployments WHERE name IN ('matrix-app-1', 'matrix-app-2')",
    )
    .await;
    let stats = read("/api/statistics", agent.token.clone()).await;
    assert_eq!(stats["by_status"], json!({"DELETED": 1, "RUNNING": 1}));
    assert_eq!(
        stats["by_framework"].as_array().unwrap().len(),
        1,
        "{stats}"
    );
    let everyone = read("/api/statistics", app.admin.token.clone()).await;
    assert_eq!(everyone["total"], 3);
    assert_eq!(
        read("/api/deployments?per_page=1", app.admin.token.clone()).await["total"],
        2
    );
}

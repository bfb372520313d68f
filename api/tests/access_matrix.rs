//! Every endpoint × every caller (anonymous and each role) against its expected status.
//! The table must cover every operation of the OpenAPI document, so a new endpoint fails here
//! until its row is written.

mod common;

use common::{spawn_app, Session, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use shared::Role;
use std::collections::BTreeSet;

/// Expected status for [anonymous, admin, technical_agent, sales_agent, requester].
type Expect = [u16; 5];

struct Row {
    method: Method,
    /// The path as the OpenAPI document spells it.
    template: &'static str,
    /// The path requested; {team}, {other_team}, {user}, {token}, {missing} are filled per cell.
    path: &'static str,
    body: fn(&Cell) -> Option<Value>,
    expect: Expect,
}

struct Cell {
    n: usize,
    caller: Option<Session>,
    user_login: String,
}

const ALL_OK: Expect = [401, 200, 200, 200, 200];
const ADMIN_OK: Expect = [401, 200, 403, 403, 403];
const ADMIN_NO_CONTENT: Expect = [401, 204, 403, 403, 403];

fn none(_: &Cell) -> Option<Value> {
    None
}

fn rows() -> Vec<Row> {
    use Method as M;
    vec![
        Row {
            method: M::GET,
            template: "/healthz",
            path: "/healthz",
            body: none,
            expect: [200; 5],
        },
        Row {
            method: M::GET,
            template: "/readyz",
            path: "/readyz",
            body: none,
            expect: [200; 5],
        },
        Row {
            method: M::POST,
            template: "/api/auth/login",
            path: "/api/auth/login",
            body: |c| Some(json!({"login": c.user_login, "password": "target-password-123"})),
            expect: [200; 5],
        },
        Row {
            method: M::POST,
            template: "/api/auth/refresh",
            path: "/api/auth/refresh",
            body: none,
            expect: [401; 5],
        },
        Row {
            method: M::POST,
            template: "/api/auth/logout",
            path: "/api/auth/logout",
            body: none,
            expect: [204; 5],
        },
        Row {
            method: M::GET,
            template: "/api/auth/me",
            path: "/api/auth/me",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/auth/password",
            path: "/api/auth/password",
            body: |c| {
                Some(json!({
                    "current_password": c.caller.as_ref().map(|s| s.password.clone()).unwrap_or_default(),
                    "new_password": "a-new-password-456",
                }))
            },
            expect: [401, 204, 204, 204, 204],
        },
        Row {
            method: M::GET,
            template: "/api/users",
            path: "/api/users",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::POST,
            template: "/api/users",
            path: "/api/users",
            body: |c| {
                Some(
                    json!({"username": format!("made{}", c.n), "email": format!("made{}@example.com", c.n), "password": "long-enough-pass", "roles": ["requester"]}),
                )
            },
            expect: [401, 201, 403, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/users/{id}",
            path: "/api/users/{user}",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/users/{id}",
            path: "/api/users/{missing}",
            body: none,
            expect: [401, 404, 403, 403, 403],
        },
        Row {
            method: M::PATCH,
            template: "/api/users/{id}",
            path: "/api/users/{user}",
            body: |_| Some(json!({"full_name": "Renamed"})),
            expect: ADMIN_OK,
        },
        Row {
            method: M::POST,
            template: "/api/users/{id}/password",
            path: "/api/users/{user}/password",
            body: |_| Some(json!({"password": "reset-password-789"})),
            expect: ADMIN_NO_CONTENT,
        },
        Row {
            method: M::GET,
            template: "/api/teams",
            path: "/api/teams",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/teams",
            path: "/api/teams",
            body: |c| Some(json!({"name": format!("New team {}", c.n)})),
            expect: [401, 201, 403, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}",
            path: "/api/teams/{team}",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}",
            path: "/api/teams/{other_team}",
            body: none,
            expect: [401, 200, 404, 404, 404],
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}",
            path: "/api/teams/{missing}",
            body: none,
            expect: [401, 404, 404, 404, 404],
        },
        Row {
            method: M::PATCH,
            template: "/api/teams/{id}",
            path: "/api/teams/{team}",
            body: |_| Some(json!({"description": "changed"})),
            expect: ADMIN_OK,
        },
        Row {
            method: M::DELETE,
            template: "/api/teams/{id}",
            path: "/api/teams/{team}",
            body: none,
            expect: ADMIN_NO_CONTENT,
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}/members",
            path: "/api/teams/{team}/members",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}/members",
            path: "/api/teams/{other_team}/members",
            body: none,
            expect: [401, 200, 404, 404, 404],
        },
        Row {
            method: M::PUT,
            template: "/api/teams/{id}/members/{user_id}",
            path: "/api/teams/{team}/members/{user}",
            body: none,
            expect: ADMIN_NO_CONTENT,
        },
        Row {
            method: M::DELETE,
            template: "/api/teams/{id}/members/{user_id}",
            path: "/api/teams/{team}/members/{user}",
            body: none,
            expect: ADMIN_NO_CONTENT,
        },
        Row {
            method: M::GET,
            template: "/api/me/tokens",
            path: "/api/me/tokens",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/me/tokens",
            path: "/api/me/tokens",
            body: |_| Some(json!({"name": "matrix"})),
            expect: [401, 201, 201, 201, 201],
        },
        Row {
            method: M::DELETE,
            template: "/api/me/tokens/{id}",
            path: "/api/me/tokens/{token}",
            body: none,
            expect: [401, 204, 204, 204, 204],
        },
        Row {
            method: M::GET,
            template: "/api/resource-types",
            path: "/api/resource-types",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/overview",
            path: "/api/overview",
            body: none,
            expect: ALL_OK,
        },
    ]
}

const CALLERS: [Option<Role>; 5] = [
    None,
    Some(Role::Admin),
    Some(Role::TechnicalAgent),
    Some(Role::SalesAgent),
    Some(Role::Requester),
];

async fn run_cell(app: &TestApp, n: usize, row: &Row, role: Option<Role>) -> u16 {
    let team = app.create_team(&format!("Team {n}")).await;
    let other_team = app.create_team(&format!("Other {n}")).await;
    let target = app
        .user_with(&format!("target{n}"), &[Role::Requester], &[])
        .await;
    // The target's password is fixed so the login row can use it.
    let reset = app
        .post(
            &format!("/api/users/{}/password", target.id),
            &app.admin.token,
            json!({"password": "target-password-123"}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    let caller = match role {
        Some(r) => Some(
            app.user_with(&format!("caller{n}"), &[r], &[team.clone()])
                .await,
        ),
        None => None,
    };
    let token_owner = caller.as_ref().unwrap_or(&app.admin);
    let created: Value = app
        .post(
            "/api/me/tokens",
            &token_owner.token,
            json!({"name": "to revoke"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = row
        .path
        .replace("{team}", &team)
        .replace("{other_team}", &other_team)
        .replace("{user}", &target.id)
        .replace("{token}", created["token"]["id"].as_str().unwrap())
        .replace("{missing}", &uuid::Uuid::new_v4().to_string());
    let cell = Cell {
        n,
        caller: caller.clone(),
        user_login: format!("target{n}"),
    };
    let body = (row.body)(&cell);
    app.request(
        row.method.clone(),
        &path,
        caller.as_ref().map(|s| s.token.as_str()),
        body,
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn every_endpoint_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let mut failures = Vec::new();
    let mut n = 0;
    for row in rows() {
        for (i, role) in CALLERS.iter().enumerate() {
            n += 1;
            let got = run_cell(&app, n, &row, *role).await;
            if got != row.expect[i] {
                failures.push(format!(
                    "{} {} as {:?}: expected {}, got {got}",
                    row.method, row.path, role, row.expect[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "matrix mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_matrix_covers_every_operation_of_the_openapi_document() {
    let spec = serde_json::to_value(api::openapi::spec()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let covered: BTreeSet<String> = rows()
        .iter()
        .map(|r| format!("{} {}", r.method, r.template))
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "operations without a matrix row: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "matrix rows for undocumented operations: {unknown:?}"
    );
}

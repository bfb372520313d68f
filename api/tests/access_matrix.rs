//! Every endpoint × every caller (anonymous and each role) against its expected status.
//! The table must cover every operation of the OpenAPI document, so a new endpoint fails here
//! until its row is written. Every successful mutating call must also write an audit row.

mod common;

use common::{
    insert_client_and_subscription, insert_deployment, insert_project, insert_schedule,
    insert_script_and_run, provider_body, public_key, spawn_app, Session, TestApp, PLAYBOOK,
};
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
    /// The path requested; {team}, {other_team}, {user}, {token}, {missing}, {request},
    /// {other_request}, {failed_request}, {provider}, {webhook}, {notification} are filled per cell.
    path: &'static str,
    body: fn(&Cell) -> Option<Value>,
    expect: Expect,
}

struct Cell {
    n: usize,
    /// The cell's client, when its row needs one.
    client: Option<String>,
    /// The cell's server, when its row needs one.
    server: Option<String>,
    caller: Option<Session>,
    user_login: String,
    team: String,
    provider: String,
}

fn request_body(c: &Cell) -> Value {
    json!({
        "hostname": format!("matrix-{}", c.n), "team_id": c.team, "provider_account_id": c.provider,
        "location": "pve1", "cpu": 1, "ram_mb": 1024, "disk_gb": 10, "image": "debian-12", "purpose": "matrix test"
    })
}

async fn file_request(
    app: &TestApp,
    owner: &Session,
    team: &str,
    provider: &str,
    n: usize,
) -> String {
    let cell = Cell {
        n,
        client: None,
        server: None,
        caller: None,
        user_login: String::new(),
        team: team.to_owned(),
        provider: provider.to_owned(),
    };
    let res = app
        .post("/api/requests", &owner.token, request_body(&cell))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    body["request"]["id"].as_str().unwrap().to_owned()
}

const ALL_OK: Expect = [401, 200, 200, 200, 200];
const ADMIN_OK: Expect = [401, 200, 403, 403, 403];
const TECH_OK: Expect = [401, 200, 200, 403, 403];
const SALES_OK: Expect = [401, 200, 403, 200, 403];

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
            method: M::GET,
            template: "/metrics",
            // Loopback callers need no token, but a bearer that is not the metrics token (a
            // user's session) is refused.
            path: "/metrics",
            body: none,
            expect: [200, 401, 401, 401, 401],
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
            method: M::POST,
            template: "/api/auth/stream-tickets",
            path: "/api/auth/stream-tickets",
            body: |_| {
                Some(
                    json!({"path": "/api/deployments/00000000-0000-0000-0000-000000000000/events"}),
                )
            },
            expect: [401, 201, 201, 201, 201],
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
        // Confirming before any start finds nothing waiting; starting works in every session.
        Row {
            method: M::POST,
            template: "/api/auth/two-factor/confirm",
            path: "/api/auth/two-factor/confirm",
            body: |_| Some(json!({"code": "000000"})),
            expect: [401, 409, 409, 409, 409],
        },
        Row {
            method: M::POST,
            template: "/api/auth/two-factor",
            path: "/api/auth/two-factor",
            body: none,
            expect: [401, 200, 200, 200, 200],
        },
        Row {
            method: M::GET,
            template: "/api/two-factor/policy",
            path: "/api/two-factor/policy",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/two-factor/policy",
            path: "/api/two-factor/policy",
            body: |_| Some(json!({"required_roles": []})),
            expect: ADMIN_OK,
        },
        // Registration is closed until an administrator opens it (the policy row keeps it so);
        // asking for a link again answers alike whatever the address; no link is valid.
        Row {
            method: M::GET,
            template: "/api/auth/registration",
            path: "/api/auth/registration",
            body: none,
            expect: [200; 5],
        },
        Row {
            method: M::POST,
            template: "/api/auth/register",
            path: "/api/auth/register",
            body: |c| {
                Some(
                    json!({"username": format!("joiner{}", c.n), "email": format!("joiner{}@example.com", c.n), "password": "long-enough-pass"}),
                )
            },
            expect: [403; 5],
        },
        Row {
            method: M::POST,
            template: "/api/auth/register/resend",
            path: "/api/auth/register/resend",
            body: |_| Some(json!({"email": "nobody@example.com"})),
            expect: [202; 5],
        },
        Row {
            method: M::POST,
            template: "/api/auth/confirm-email",
            path: "/api/auth/confirm-email",
            body: |_| Some(json!({"token": "pvc_not-a-link"})),
            expect: [410; 5],
        },
        Row {
            method: M::GET,
            template: "/api/registration/policy",
            path: "/api/registration/policy",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/registration/policy",
            path: "/api/registration/policy",
            body: |_| Some(json!({"mode": "off", "role": "requester"})),
            expect: ADMIN_OK,
        },
        // The user is not waiting for approval.
        Row {
            method: M::POST,
            template: "/api/users/{id}/approve",
            path: "/api/users/{user}/approve",
            body: none,
            expect: [401, 409, 403, 403, 403],
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
        // The user has no second factor to reset.
        Row {
            method: M::POST,
            template: "/api/users/{id}/two-factor/reset",
            path: "/api/users/{user}/two-factor/reset",
            body: none,
            expect: [401, 409, 403, 403, 403],
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
            template: "/api/servers",
            path: "/api/servers",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/servers/{id}",
            path: "/api/servers/{server}",
            body: none,
            expect: [401, 200, 200, 404, 404],
        },
        Row {
            method: M::GET,
            template: "/api/servers/{id}/events",
            path: "/api/servers/{server}/events",
            body: none,
            expect: [401, 200, 200, 404, 404],
        },
        Row {
            method: M::POST,
            template: "/api/servers/{id}/power",
            path: "/api/servers/{server}/power",
            body: |_| Some(json!({"action": "reboot"})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/servers/{id}/snapshot",
            path: "/api/servers/{server}/snapshot",
            body: |_| Some(json!({"description": "before upgrade"})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/servers/{id}/backups",
            path: "/api/servers/{server}/backups",
            body: none,
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::DELETE,
            template: "/api/servers/{id}",
            path: "/api/servers/{server}",
            body: |c| Some(json!({"confirm_name": format!("matrix-srv-{}", c.n)})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::PUT,
            template: "/api/servers/{id}/labels",
            path: "/api/servers/{server}/labels",
            body: |_| Some(json!({"labels": {"env": "test"}})),
            expect: [401, 200, 200, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/servers/register",
            path: "/api/servers/register",
            body: |c| {
                Some(
                    json!({"name": "reg-host", "team_id": c.team, "provider_account_id": c.provider, "address": "127.0.0.1", "port": 1}),
                )
            },
            expect: [401, 422, 422, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/executions/{id}",
            path: "/api/executions/{execution}",
            body: none,
            expect: [401, 200, 200, 404, 404],
        },
        Row {
            method: M::GET,
            template: "/api/executions/{id}/events",
            path: "/api/executions/{execution}/events",
            body: none,
            expect: [401, 200, 200, 404, 404],
        },
        Row {
            method: M::POST,
            template: "/api/executions/{id}/cancel",
            path: "/api/executions/{execution}/cancel",
            body: none,
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/probes",
            path: "/api/probes",
            body: |_| Some(json!({"wait_ms": 0})),
            expect: [401, 202, 403, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/requests/{id}/events",
            path: "/api/requests/{request}/events",
            body: none,
            expect: [401, 200, 200, 200, 404],
        },
        Row {
            method: M::POST,
            template: "/api/provider-accounts/{id}/test",
            path: "/api/provider-accounts/{provider}/test",
            body: none,
            expect: [401, 200, 403, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/provider-accounts/discover",
            path: "/api/provider-accounts/discover",
            body: |c| Some(provider_body(&format!("Draft {}", c.n))),
            expect: [401, 200, 403, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/provider-accounts/{id}/resources",
            path: "/api/provider-accounts/{provider}/resources",
            body: none,
            expect: [401, 200, 403, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/provider-accounts/{id}/sync",
            path: "/api/provider-accounts/{provider}/sync",
            body: |_| Some(json!({"dry_run": true})),
            expect: [401, 200, 403, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/proxmox/resources",
            path: "/api/proxmox/resources",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::POST,
            template: "/api/proxmox/sync",
            path: "/api/proxmox/sync",
            body: |_| Some(json!({"dry_run": false})),
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/hetzner/resources",
            path: "/api/hetzner/resources",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::POST,
            template: "/api/hetzner/sync",
            path: "/api/hetzner/sync",
            body: |_| Some(json!({"dry_run": false})),
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/resource-types",
            path: "/api/resource-types",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/resource-types",
            path: "/api/resource-types",
            body: |c| {
                Some(
                    json!({"slug": format!("db-matrix-{}", c.n), "name": "Matrix DB",
                            "category": "database", "provisioning": "manual"}),
                )
            },
            expect: [401, 201, 403, 403, 403],
        },
        Row {
            method: M::PUT,
            template: "/api/resource-types/{id}",
            path: "/api/resource-types/{resource_type}",
            body: |_| {
                Some(json!({"slug": "storage-ceph", "name": "Ceph cluster",
                            "category": "storage", "provisioning": "manual"}))
            },
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/resource-targets",
            path: "/api/resource-targets?team_id={team}",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/resources",
            path: "/api/resources",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/resources",
            path: "/api/resources",
            body: |c| {
                Some(json!({"team_id": c.team, "resource_type": "storage-ceph",
                            "name": format!("asked_{}", c.n), "purpose": "matrix storage"}))
            },
            expect: [401, 201, 201, 201, 201],
        },
        // The resource is another requester's of the caller's team: agents see it, a
        // requester sees only their own.
        Row {
            method: M::GET,
            template: "/api/resources/{id}",
            path: "/api/resources/{resource}",
            body: none,
            expect: [401, 200, 200, 200, 404],
        },
        // The team's policy is the default one: any administrator approves.
        Row {
            method: M::POST,
            template: "/api/resources/{id}/approve",
            path: "/api/resources/{resource}/approve",
            body: none,
            expect: [401, 200, 403, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/reject",
            path: "/api/resources/{resource}/reject",
            body: |_| Some(json!({"reason": "not this quarter"})),
            expect: [401, 200, 403, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/cancel",
            path: "/api/resources/{resource}/cancel",
            body: none,
            expect: [401, 200, 403, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/fulfil",
            path: "/api/resources/{awaiting_resource}/fulfil",
            body: |_| {
                Some(
                    json!({"host": "ceph.internal", "port": 6789, "username": "client.app", "secret": "AQB-matrix-key"}),
                )
            },
            expect: [401, 200, 200, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/reveal",
            path: "/api/resources/{ready_resource}/reveal",
            body: none,
            expect: [401, 200, 200, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/rotate",
            path: "/api/resources/{ready_resource}/rotate",
            body: none,
            expect: [401, 202, 202, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/retry",
            path: "/api/resources/{failed_resource}/retry",
            body: none,
            expect: [401, 202, 202, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/delete",
            path: "/api/resources/{ready_resource}/delete",
            body: |c| Some(json!({"confirm": format!("matrix_res_{}", c.n)})),
            expect: [401, 200, 200, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/resize",
            path: "/api/resources/{ready_resource}/resize",
            body: |_| Some(json!({"parameters": {"connection_limit": 30}})),
            expect: [401, 202, 202, 403, 404],
        },
        Row {
            method: M::GET,
            template: "/api/resources/{id}/backups",
            path: "/api/resources/{ready_resource}/backups",
            body: none,
            expect: [401, 200, 200, 200, 404],
        },
        Row {
            method: M::POST,
            template: "/api/resources/{id}/backup",
            path: "/api/resources/{ready_resource}/backup",
            body: none,
            expect: [401, 202, 202, 403, 404],
        },
        // A backup the resource does not have: refused per field once the caller may restore.
        Row {
            method: M::POST,
            template: "/api/resources/{id}/restore",
            path: "/api/resources/{ready_resource}/restore",
            body: |_| Some(json!({"backup_id": "00000000-0000-0000-0000-000000000001"})),
            expect: [401, 422, 422, 403, 404],
        },
        Row {
            method: M::PUT,
            template: "/api/resources/{id}/backup-schedule",
            path: "/api/resources/{ready_resource}/backup-schedule",
            body: |_| Some(json!({"cron": "0 3 * * *"})),
            expect: [401, 200, 200, 403, 404],
        },
        Row {
            method: M::GET,
            template: "/api/overview",
            path: "/api/overview",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/stats/dashboard",
            path: "/api/stats/dashboard",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/requests",
            path: "/api/requests",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/requests",
            path: "/api/requests",
            body: |c| Some(request_body(c)),
            expect: [401, 201, 201, 201, 201],
        },
        Row {
            method: M::GET,
            template: "/api/requests/{id}",
            path: "/api/requests/{request}",
            body: none,
            expect: [401, 200, 200, 200, 404],
        },
        Row {
            method: M::GET,
            template: "/api/requests/{id}",
            path: "/api/requests/{other_request}",
            body: none,
            expect: [401, 200, 404, 404, 404],
        },
        Row {
            method: M::GET,
            template: "/api/requests/{id}/preflight",
            path: "/api/requests/{request}/preflight",
            body: none,
            expect: [401, 200, 403, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/requests/{id}/preflight",
            path: "/api/requests/{other_request}/preflight",
            body: none,
            expect: [401, 200, 403, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/requests/{id}/approve",
            path: "/api/requests/{request}/approve",
            body: none,
            expect: [401, 200, 403, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/requests/{id}/approve",
            path: "/api/requests/{other_request}/approve",
            body: none,
            expect: [401, 200, 404, 404, 404],
        },
        Row {
            method: M::POST,
            template: "/api/requests/{id}/reject",
            path: "/api/requests/{request}/reject",
            body: |_| Some(json!({"reason": "not now"})),
            expect: [401, 200, 403, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/requests/{id}/cancel",
            path: "/api/requests/{request}/cancel",
            body: none,
            expect: [401, 200, 403, 403, 404],
        },
        Row {
            method: M::POST,
            template: "/api/requests/{id}/retry",
            path: "/api/requests/{failed_request}/retry",
            body: none,
            expect: [401, 200, 200, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/requests/{id}/comments",
            path: "/api/requests/{request}/comments",
            body: |_| Some(json!({"body": "hello"})),
            expect: [401, 201, 201, 201, 404],
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}/approval-policy",
            path: "/api/teams/{team}/approval-policy",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/teams/{id}/approval-policy",
            path: "/api/teams/{other_team}/approval-policy",
            body: none,
            expect: [401, 200, 404, 404, 404],
        },
        Row {
            method: M::PUT,
            template: "/api/teams/{id}/approval-policy",
            path: "/api/teams/{team}/approval-policy",
            body: |_| {
                Some(
                    json!({"steps": [{"approvers": {"kind": "role", "role": "admin"}, "rule": "any"}], "auto_approve": null}),
                )
            },
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/provider-accounts",
            path: "/api/provider-accounts",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/provider-accounts",
            path: "/api/provider-accounts",
            body: |c| Some(provider_body(&format!("Provider {}", c.n))),
            expect: [401, 201, 403, 403, 403],
        },
        Row {
            method: M::PUT,
            template: "/api/provider-accounts/{id}",
            path: "/api/provider-accounts/{provider}",
            body: |c| Some(provider_body(&format!("Renamed {}", c.n))),
            expect: ADMIN_OK,
        },
        Row {
            method: M::DELETE,
            template: "/api/provider-accounts/{id}",
            path: "/api/provider-accounts/{provider}",
            body: none,
            expect: ADMIN_NO_CONTENT,
        },
        Row {
            method: M::GET,
            template: "/api/notifications",
            path: "/api/notifications",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/notifications/read-all",
            path: "/api/notifications/read-all",
            body: none,
            expect: [401, 204, 204, 204, 204],
        },
        Row {
            method: M::POST,
            template: "/api/notifications/{id}/read",
            path: "/api/notifications/{notification}/read",
            body: none,
            expect: [401, 204, 204, 204, 204],
        },
        Row {
            method: M::GET,
            template: "/api/webhooks",
            path: "/api/webhooks",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::POST,
            template: "/api/webhooks",
            path: "/api/webhooks",
            body: |_| {
                Some(
                    json!({"name": "hook", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef"}),
                )
            },
            expect: [401, 201, 403, 403, 403],
        },
        Row {
            method: M::DELETE,
            template: "/api/webhooks/{id}",
            path: "/api/webhooks/{webhook}",
            body: none,
            expect: ADMIN_NO_CONTENT,
        },
        Row {
            method: M::GET,
            template: "/api/notification-deliveries",
            path: "/api/notification-deliveries",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/audit",
            path: "/api/audit",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/projects",
            path: "/api/projects",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/projects",
            path: "/api/projects",
            body: |c| {
                Some(
                    json!({"name": format!("app {}", c.n), "url": "https://git.example.com/team/app.git", "team_id": c.team}),
                )
            },
            expect: [401, 201, 201, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/projects/{id}",
            path: "/api/projects/{project}",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/projects/{id}/sync",
            path: "/api/projects/{project}/sync",
            body: none,
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/projects/{id}/push",
            path: "/api/projects/{project}/push",
            body: |_| Some(json!({"branch": "main"})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/projects/{id}/terminal",
            // Without a checkout (and without a WebSocket upgrade) the terminal is a conflict.
            path: "/api/projects/{project}/terminal",
            body: none,
            expect: [401, 409, 409, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/terminal/settings",
            path: "/api/terminal/settings",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/terminal/settings",
            path: "/api/terminal/settings",
            body: |_| Some(json!({"allowed_commands": ["git"], "idle_timeout_secs": 600})),
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/settings",
            path: "/api/settings",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/stats/setup",
            path: "/api/stats/setup",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::GET,
            template: "/api/landing",
            path: "/api/landing",
            body: none,
            expect: [200; 5],
        },
        Row {
            method: M::GET,
            template: "/api/landing/settings",
            path: "/api/landing/settings",
            body: none,
            expect: ADMIN_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/landing/settings",
            path: "/api/landing/settings",
            body: |_| Some(json!({"show_statistics": false})),
            expect: ADMIN_OK,
        },
        Row {
            method: M::POST,
            template: "/api/deployments/{id}/private-key",
            // Only the person who made the deployment may take its generated key, once: to
            // anyone else it does not exist.
            path: "/api/deployments/{deployment}/private-key",
            body: none,
            expect: [401, 404, 404, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/deploy",
            // The query only makes the cell create a server of its team; the body names it.
            path: "/api/deploy?for={server}",
            body: |c| {
                Some(
                    json!({"name": format!("matrix-{}", c.n), "git_url": "https://git.example.com/team/app.git",
                            "server_id": c.server, "team_id": c.team}),
                )
            },
            expect: [401, 201, 201, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/deployments",
            path: "/api/deployments",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::GET,
            template: "/api/statistics",
            path: "/api/statistics",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::GET,
            template: "/api/deployments/{id}",
            path: "/api/deployments/{deployment}",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::GET,
            template: "/api/deployments/{id}/logs",
            path: "/api/deployments/{deployment}/logs",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::GET,
            template: "/api/deployments/{id}/events",
            path: "/api/deployments/{deployment}/events",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/deployments/{id}/stop",
            path: "/api/deployments/{deployment}/stop",
            body: none,
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/deployments/{id}/start",
            // A running deployment cannot be started: the permission passes, the state refuses.
            path: "/api/deployments/{deployment}/start",
            body: none,
            expect: [401, 409, 409, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/deployments/{id}/redeploy",
            path: "/api/deployments/{deployment}/redeploy",
            body: |_| Some(json!({})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::DELETE,
            template: "/api/deployments/{id}",
            path: "/api/deployments/{deployment}",
            body: none,
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/clients",
            path: "/api/clients",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::POST,
            template: "/api/clients",
            path: "/api/clients",
            body: |c| {
                Some(
                    json!({"team_id": c.team, "company": format!("Client {}", c.n), "billing_email": "b@client.example"}),
                )
            },
            expect: [401, 201, 403, 201, 403],
        },
        Row {
            method: M::GET,
            template: "/api/clients/{id}",
            path: "/api/clients/{client}",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/clients/{id}",
            path: "/api/clients/{client}",
            body: |c| {
                Some(
                    json!({"team_id": c.team, "company": format!("Renamed {}", c.n), "billing_email": "b@client.example"}),
                )
            },
            expect: SALES_OK,
        },
        Row {
            method: M::DELETE,
            template: "/api/clients/{id}",
            // Its subscription keeps it: the permission passes, the rule refuses.
            path: "/api/clients/{client}",
            body: none,
            expect: [401, 409, 403, 409, 403],
        },
        Row {
            method: M::GET,
            template: "/api/subscriptions",
            path: "/api/subscriptions",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::POST,
            template: "/api/subscriptions",
            // The query only makes the cell create a client of its team; the body names it.
            path: "/api/subscriptions?for={client}",
            body: subscription_body,
            expect: [401, 201, 403, 201, 403],
        },
        Row {
            method: M::GET,
            template: "/api/subscriptions/{id}",
            path: "/api/subscriptions/{subscription}",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::GET,
            template: "/api/subscriptions/{id}/linkable",
            path: "/api/subscriptions/{subscription}/linkable",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/subscriptions/{id}",
            path: "/api/subscriptions/{subscription}",
            body: subscription_body,
            expect: SALES_OK,
        },
        Row {
            method: M::POST,
            template: "/api/subscriptions/{id}/{action}",
            path: "/api/subscriptions/{subscription}/suspend",
            body: |_| Some(json!({"reason": "matrix"})),
            expect: SALES_OK,
        },
        Row {
            method: M::GET,
            template: "/api/revenue",
            path: "/api/revenue",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::GET,
            template: "/api/revenue.csv",
            path: "/api/revenue.csv",
            body: none,
            expect: SALES_OK,
        },
        Row {
            method: M::DELETE,
            template: "/api/projects/{id}",
            path: "/api/projects/{project}",
            body: none,
            expect: [401, 204, 204, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/frameworks",
            path: "/api/frameworks",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::GET,
            template: "/api/ssh-keys",
            path: "/api/ssh-keys",
            body: none,
            expect: ALL_OK,
        },
        Row {
            method: M::POST,
            template: "/api/ssh-keys",
            path: "/api/ssh-keys",
            body: |c| Some(json!({"name": "laptop", "public_key": public_key(c.n)})),
            expect: [401, 201, 201, 201, 201],
        },
        Row {
            method: M::DELETE,
            template: "/api/ssh-keys/{id}",
            path: "/api/ssh-keys/{ssh_key}",
            body: none,
            expect: [401, 204, 204, 204, 204],
        },
        Row {
            method: M::GET,
            template: "/api/scripts",
            path: "/api/scripts",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/scripts",
            path: "/api/scripts",
            body: |c| {
                Some(
                    json!({"name": format!("matrix script {}", c.n), "content": PLAYBOOK, "team_id": c.team}),
                )
            },
            expect: [401, 201, 201, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/scripts/validate",
            path: "/api/scripts/validate",
            body: |_| Some(json!({"name": "check", "content": PLAYBOOK})),
            expect: [401, 204, 204, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/scripts/{id}",
            path: "/api/scripts/{script}",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::PUT,
            template: "/api/scripts/{id}",
            path: "/api/scripts/{script}",
            body: |c| Some(json!({"name": format!("renamed {}", c.n), "content": PLAYBOOK})),
            expect: TECH_OK,
        },
        Row {
            method: M::DELETE,
            template: "/api/scripts/{id}",
            path: "/api/scripts/{script}",
            body: none,
            expect: [401, 204, 204, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/scripts/{id}/versions/{version}",
            path: "/api/scripts/{script}/versions/1",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/scripts/{id}/run",
            path: "/api/scripts/{script}/run",
            body: |c| Some(json!({"server_ids": [c.server]})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/playbook-runs",
            path: "/api/playbook-runs",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::GET,
            template: "/api/playbook-runs/{id}",
            path: "/api/playbook-runs/{run}",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/playbook-runs/{id}/rerun",
            path: "/api/playbook-runs/{run}/rerun",
            body: none,
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::POST,
            template: "/api/servers/{id}/maintenance",
            path: "/api/servers/{server}/maintenance",
            body: |_| Some(json!({"operation": "backup"})),
            expect: [401, 202, 202, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/servers/{id}/schedules",
            path: "/api/servers/{server}/schedules",
            body: none,
            expect: TECH_OK,
        },
        Row {
            method: M::POST,
            template: "/api/servers/{id}/schedules",
            path: "/api/servers/{server}/schedules",
            body: |_| Some(json!({"operation": "backup", "cron": "0 3 * * *"})),
            expect: [401, 201, 201, 403, 403],
        },
        Row {
            method: M::PUT,
            template: "/api/schedules/{id}",
            path: "/api/schedules/{schedule}",
            body: |_| Some(json!({"operation": "backup", "cron": "30 4 * * 0", "enabled": false})),
            expect: TECH_OK,
        },
        Row {
            method: M::DELETE,
            template: "/api/schedules/{id}",
            path: "/api/schedules/{schedule}",
            body: none,
            expect: [401, 204, 204, 403, 403],
        },
        Row {
            method: M::GET,
            template: "/api/audit/export.csv",
            path: "/api/audit/export.csv",
            body: none,
            expect: ADMIN_OK,
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

/// The cell's status, and for a refused write the status of the same request with a body that
/// is not valid: permission is decided before the body is read, so it must be 403 as well.
async fn run_cell(
    app: &TestApp,
    provider: &str,
    n: usize,
    row: &Row,
    role: Option<Role>,
) -> (u16, Option<u16>) {
    let needs = |p: &str| row.path.contains(p);
    let team = app.create_team(&format!("Team {n}")).await;
    let caller = match role {
        Some(r) => Some(
            app.user_with(&format!("caller{n}"), &[r], std::slice::from_ref(&team))
                .await,
        ),
        None => None,
    };
    let mut path = row
        .path
        .replace("{team}", &team)
        .replace("{missing}", &uuid::Uuid::new_v4().to_string());
    if needs("{other_team}") || needs("{other_request}") {
        let other_team = app.create_team(&format!("Other {n}")).await;
        if needs("{other_request}") {
            let outsider = app
                .user_with(
                    &format!("outsider{n}"),
                    &[Role::Requester],
                    std::slice::from_ref(&other_team),
                )
                .await;
            path = path.replace(
                "{other_request}",
                &file_request(app, &outsider, &other_team, provider, n).await,
            );
        }
        path = path.replace("{other_team}", &other_team);
    }
    if needs("{user}") || row.template == "/api/auth/login" {
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
        path = path.replace("{user}", &target.id);
    }
    let owner_session = caller.as_ref().unwrap_or(&app.admin);
    if needs("{token}") {
        let created: Value = app
            .post(
                "/api/me/tokens",
                &owner_session.token,
                json!({"name": "to revoke"}),
            )
            .await
            .json()
            .await
            .unwrap();
        path = path.replace("{token}", created["token"]["id"].as_str().unwrap());
    }
    if needs("{request}") || needs("{failed_request}") {
        let owner = app
            .user_with(
                &format!("owner{n}"),
                &[Role::Requester],
                std::slice::from_ref(&team),
            )
            .await;
        let id = file_request(app, &owner, &team, provider, n).await;
        if needs("{failed_request}") {
            use sea_orm::ConnectionTrait;
            app.db
                .execute_unprepared(&format!(
                    "UPDATE server_requests SET status = 'failed' WHERE hostname = 'matrix-{n}'"
                ))
                .await
                .unwrap();
        }
        path = path
            .replace("{request}", &id)
            .replace("{failed_request}", &id);
    }
    if let Some((placeholder, slug, status)) = [
        ("{resource}", "db-postgresql", "pending"),
        ("{awaiting_resource}", "storage-ceph", "awaiting_fulfilment"),
        ("{ready_resource}", "db-postgresql", "ready"),
        ("{failed_resource}", "db-postgresql", "failed"),
    ]
    .into_iter()
    .find(|(p, _, _)| needs(p))
    {
        let owner = app
            .user_with(
                &format!("asker{n}"),
                &[Role::Requester],
                std::slice::from_ref(&team),
            )
            .await;
        let server = (slug == "db-postgresql").then_some(
            common::insert_server(
                app,
                &team,
                provider,
                &format!("matrix-db-{n}"),
                &format!("pve1/qemu/{}", 90_000 + n),
            )
            .await,
        );
        let id = common::insert_resource(
            app,
            &team,
            &owner.id,
            slug,
            status,
            server,
            &format!("matrix_res_{n}"),
        )
        .await;
        path = path.replace(placeholder, &id.to_string());
    }
    if needs("{resource_type}") {
        let types: Value = app
            .get("/api/resource-types", &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        let ceph = types
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["slug"] == "storage-ceph")
            .unwrap();
        path = path.replace("{resource_type}", ceph["id"].as_str().unwrap());
    }
    let scripted = needs("{script}") || needs("{run}");
    let mut server = None;
    if needs("{server}") || needs("{execution}") || needs("{schedule}") || scripted {
        let id = common::insert_server(
            app,
            &team,
            provider,
            &format!("matrix-srv-{}", n),
            &format!("pve1/qemu/{}", 1000 + n),
        )
        .await;
        server = Some(id);
        path = path.replace("{server}", &id.to_string());
    }
    if scripted {
        let (script, run) = insert_script_and_run(app, &team, server.unwrap()).await;
        path = path
            .replace("{script}", &script.to_string())
            .replace("{run}", &run.to_string());
    }
    if needs("{schedule}") {
        let schedule = insert_schedule(app, &team, server.unwrap()).await;
        path = path.replace("{schedule}", &schedule.to_string());
    }
    if needs("{project}") {
        let project = insert_project(app, &team).await;
        path = path.replace("{project}", &project.to_string());
    }
    let mut client = None;
    if needs("{client}") || needs("{subscription}") {
        let (c, subscription) = insert_client_and_subscription(app, &team, n).await;
        client = Some(c);
        path = path
            .replace("{client}", &c.to_string())
            .replace("{subscription}", &subscription.to_string());
    }
    if needs("{deployment}") {
        let deployment = insert_deployment(app, &team, provider, n).await;
        path = path.replace("{deployment}", &deployment.to_string());
    }
    if needs("{ssh_key}") {
        let created: Value = app
            .post(
                "/api/ssh-keys",
                &owner_session.token,
                json!({"name": "to delete", "public_key": public_key(10_000 + n)}),
            )
            .await
            .json()
            .await
            .unwrap();
        path = path.replace("{ssh_key}", created["id"].as_str().unwrap());
    }
    if let Some(server) = server.filter(|_| needs("{execution}")) {
        let execution = api::domain::executions::create(
            &app.db,
            api::domain::executions::NewExecution {
                kind: "power",
                target_type: "server",
                target_id: server,
                team_id: team.parse().unwrap(),
                created_by: None,
                script_version_id: None,
                variables: None,
            },
        )
        .await
        .unwrap();
        let key = api::domain::jobs::server_op_key(execution);
        api::domain::jobs::enqueue_with_execution(
            &app.db,
            api::domain::jobs::JobKind::ServerOp,
            &key,
            json!({"op": "power", "action": "reboot", "server_id": server}),
            Some(execution),
        )
        .await
        .unwrap();
        path = path.replace("{execution}", &execution.to_string());
    }
    if needs("{provider}") {
        let created: Value = app
            .post(
                "/api/provider-accounts",
                &app.admin.token,
                provider_body(&format!("Fresh {n}")),
            )
            .await
            .json()
            .await
            .unwrap();
        path = path.replace("{provider}", created["id"].as_str().unwrap());
    }
    if needs("{webhook}") {
        let created: Value = app
            .post(
                "/api/webhooks",
                &app.admin.token,
                json!({"name": "w", "url": "http://127.0.0.1:9/", "secret": "0123456789abcdef"}),
            )
            .await
            .json()
            .await
            .unwrap();
        path = path.replace("{webhook}", created["id"].as_str().unwrap());
    }
    if needs("{notification}") {
        let owner: uuid::Uuid = owner_session.id.parse().unwrap();
        let note = api::domain::notify::NewNotification {
            kind: "test",
            title: "t".into(),
            body: "b".into(),
            link: None,
        };
        api::domain::notify::notify(&app.db, false, &[owner], None, &note)
            .await
            .unwrap();
        let list: Value = app
            .get("/api/notifications", &owner_session.token)
            .await
            .json()
            .await
            .unwrap();
        path = path.replace("{notification}", list["items"][0]["id"].as_str().unwrap());
    }
    let cell = Cell {
        n,
        client: client.map(|c| c.to_string()),
        server: server.map(|s| s.to_string()),
        caller: caller.clone(),
        user_login: format!("target{n}"),
        team,
        provider: provider.to_owned(),
    };
    let body = (row.body)(&cell);
    let audit_before = app.count("SELECT COUNT(*) AS n FROM audit_events").await;
    let status = app
        .request(
            row.method.clone(),
            &path,
            caller.as_ref().map(|s| s.token.as_str()),
            body,
        )
        .await
        .status()
        .as_u16();
    let audit_after = app.count("SELECT COUNT(*) AS n FROM audit_events").await;
    let mutating = row.method != Method::GET;
    // Signing out without a session, checking a script, reading a provider's catalogue and a
    // sync's dry run change nothing: nothing to audit. A stream ticket only lets its holder
    // read a stream once; auditing each would bury the log under page views. Asking for a
    // confirmation link again answers alike for an address nobody registered, where it changes
    // nothing.
    let exempt = [
        "/api/auth/logout",
        "/api/auth/register/resend",
        "/api/auth/stream-tickets",
        "/api/scripts/validate",
        "/api/provider-accounts/discover",
        "/api/provider-accounts/{id}/sync",
    ]
    .contains(&row.template);
    if mutating && !exempt && (200..300).contains(&status) {
        assert!(
            audit_after > audit_before,
            "{} {} as {role:?} changed data without an audit row",
            row.method,
            row.template
        );
    }
    let with_bad_body = if status == 403 && mutating {
        let res = app
            .client
            .request(row.method.clone(), app.url(&path))
            .bearer_auth(
                caller
                    .as_ref()
                    .map(|s| s.token.as_str())
                    .unwrap_or_default(),
            )
            .header("Content-Type", "application/json")
            .body("{\"not\": [\"what this operation takes\"")
            .send()
            .await
            .unwrap();
        Some(res.status().as_u16())
    } else {
        None
    };
    (status, with_bad_body)
}

fn subscription_body(c: &Cell) -> Option<Value> {
    let today = chrono::Utc::now().date_naive();
    Some(
        json!({"client_id": c.client, "plan_name": "Matrix plan", "period_months": 1,
                "monthly_price_cents": 2500, "currency": "EUR", "start_date": today,
                "end_date": today + chrono::Duration::days(30)}),
    )
}

#[tokio::test]
async fn every_endpoint_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let provider: Value = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Matrix provider"),
        )
        .await
        .json()
        .await
        .unwrap();
    let provider = provider["id"].as_str().unwrap().to_owned();
    let mut failures = Vec::new();
    let mut n = 0;
    for row in rows() {
        for (i, role) in CALLERS.iter().enumerate() {
            n += 1;
            let (got, with_bad_body) = run_cell(&app, &provider, n, &row, *role).await;
            if got != row.expect[i] {
                failures.push(format!(
                    "{} {} as {:?}: expected {}, got {got}",
                    row.method, row.path, role, row.expect[i]
                ));
            }
            if let Some(bad) = with_bad_body.filter(|s| *s != 403) {
                failures.push(format!(
                    "{} {} as {:?}: refused with a valid body but answered {bad} to a broken one",
                    row.method, row.path, role
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
    let spec = serde_json::to_value(api::server::openapi::spec()).unwrap();
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

/// The refusals written in the table follow `shared::roles`: every row names some permission
/// that the roles answering 403 lack, and the roles lacking it answer 403 or 404 (a row they
/// may not see). A row refusing one role while letting through another with the same
/// permissions could not come from the matrix.
#[test]
fn the_expected_refusals_follow_the_role_matrix() {
    use shared::roles::roles_grant;
    use shared::Permission;
    let mut inconsistent = Vec::new();
    for row in rows() {
        let roles: Vec<(Role, u16)> = CALLERS
            .iter()
            .zip(row.expect)
            .filter_map(|(role, status)| role.map(|r| (r, status)))
            .collect();
        // Refused to everyone alike, signed in or not (registration while it is closed): a
        // setting's answer, not a role's.
        if roles.iter().all(|(_, status)| *status != 403) || row.expect == [403; 5] {
            continue;
        }
        let explained = Permission::ALL.iter().any(|p| {
            roles.iter().all(|(role, status)| {
                if roles_grant(&[*role], *p) {
                    *status != 403
                } else {
                    *status == 403 || *status == 404
                }
            })
        });
        if !explained {
            inconsistent.push(format!("{} {} {:?}", row.method, row.path, row.expect));
        }
    }
    assert!(
        inconsistent.is_empty(),
        "rows whose refusals no permission of shared::roles explains: {inconsistent:?}"
    );
}

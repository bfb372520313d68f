//! Cross-team IDOR: every operation that takes an id in its path, called by users of another
//! team on a row of team A, answers 404 (403 only for a role the matrix refuses outright) and
//! changes nothing in the database. Lists, searches, filters and statistics of team B never show
//! team A's rows or count them. Two requesters of one team never see each other's requests.
//!
//! The table must name every operation of the OpenAPI document whose path has a parameter, so a
//! new endpoint fails here until its line is written.

mod common;

use common::{
    insert_client_and_subscription, insert_deployment, insert_project, insert_schedule,
    insert_script_and_run, insert_server, provider_body, public_key, spawn_app, Session, TestApp,
    PLAYBOOK,
};
use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{json, Value};
use shared::roles::roles_grant;
use shared::{Permission, Role};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Ids of team A's rows by placeholder name: `{request}` in a path or body is `ids["request"]`.
type Ids = HashMap<&'static str, String>;

struct Op {
    method: Method,
    /// The path as the OpenAPI document spells it.
    template: &'static str,
    /// The path requested, with placeholders naming rows of team A.
    path: &'static str,
    /// What the matrix asks of the caller; `None`: any signed-in user. A team-B user holding it
    /// must get 404; one lacking it may get 403 (refused before any row is looked up) or 404.
    permission: Option<Permission>,
    /// A body that would succeed on the row if the caller could see it.
    body: fn(&Ids) -> Option<Value>,
}

fn none(_: &Ids) -> Option<Value> {
    None
}

fn op(
    method: Method,
    template: &'static str,
    path: &'static str,
    permission: Option<Permission>,
    body: fn(&Ids) -> Option<Value>,
) -> Op {
    Op {
        method,
        template,
        path,
        permission,
        body,
    }
}

fn ops() -> Vec<Op> {
    use Method as M;
    use Permission as P;
    vec![
        // Server requests, their timeline stream, comments and actions.
        op(
            M::GET,
            "/api/requests/{id}",
            "/api/requests/{request}",
            Some(P::RequestsCreate),
            none,
        ),
        op(
            M::GET,
            "/api/requests/{id}/events",
            "/api/requests/{request}/events",
            Some(P::RequestsCreate),
            none,
        ),
        op(
            M::POST,
            "/api/requests/{id}/comments",
            "/api/requests/{request}/comments",
            Some(P::RequestsCreate),
            |_| Some(json!({"body": "peek"})),
        ),
        op(
            M::GET,
            "/api/requests/{id}/preflight",
            "/api/requests/{request}/preflight",
            Some(P::RequestsApprove),
            none,
        ),
        op(
            M::POST,
            "/api/requests/{id}/approve",
            "/api/requests/{request}/approve",
            Some(P::RequestsApprove),
            none,
        ),
        op(
            M::POST,
            "/api/requests/{id}/reject",
            "/api/requests/{request}/reject",
            Some(P::RequestsApprove),
            |_| Some(json!({"reason": "no"})),
        ),
        op(
            M::POST,
            "/api/requests/{id}/cancel",
            "/api/requests/{request}/cancel",
            Some(P::RequestsCreate),
            none,
        ),
        op(
            M::POST,
            "/api/requests/{id}/retry",
            "/api/requests/{failed_request}/retry",
            Some(P::ServersOperate),
            none,
        ),
        // Servers.
        op(
            M::GET,
            "/api/servers/{id}",
            "/api/servers/{server}",
            Some(P::ServersRead),
            none,
        ),
        op(
            M::GET,
            "/api/servers/{id}/events",
            "/api/servers/{server}/events",
            Some(P::ServersRead),
            none,
        ),
        op(
            M::POST,
            "/api/servers/{id}/power",
            "/api/servers/{server}/power",
            Some(P::ServersOperate),
            |_| Some(json!({"action": "reboot"})),
        ),
        op(
            M::POST,
            "/api/servers/{id}/snapshot",
            "/api/servers/{server}/snapshot",
            Some(P::ServersOperate),
            |_| Some(json!({"description": "peek"})),
        ),
        op(
            M::POST,
            "/api/servers/{id}/backups",
            "/api/servers/{server}/backups",
            Some(P::ServersOperate),
            none,
        ),
        op(
            M::PUT,
            "/api/servers/{id}/labels",
            "/api/servers/{server}/labels",
            Some(P::ServersOperate),
            |_| Some(json!({"labels": {"owned": "b"}})),
        ),
        op(
            M::DELETE,
            "/api/servers/{id}",
            "/api/servers/{server}",
            Some(P::ServersOperate),
            |_| Some(json!({"confirm_name": "alpha-srv"})),
        ),
        op(
            M::POST,
            "/api/servers/{id}/maintenance",
            "/api/servers/{server}/maintenance",
            Some(P::ServersOperate),
            |_| Some(json!({"operation": "backup"})),
        ),
        op(
            M::GET,
            "/api/servers/{id}/schedules",
            "/api/servers/{server}/schedules",
            Some(P::ServersOperate),
            none,
        ),
        op(
            M::POST,
            "/api/servers/{id}/schedules",
            "/api/servers/{server}/schedules",
            Some(P::ServersOperate),
            |_| Some(json!({"operation": "backup", "cron": "0 3 * * *"})),
        ),
        op(
            M::PUT,
            "/api/schedules/{id}",
            "/api/schedules/{schedule}",
            Some(P::ServersOperate),
            |_| Some(json!({"operation": "backup", "cron": "30 4 * * 0", "enabled": false})),
        ),
        op(
            M::DELETE,
            "/api/schedules/{id}",
            "/api/schedules/{schedule}",
            Some(P::ServersOperate),
            none,
        ),
        // Executions (a queued power job on team A's server).
        op(
            M::GET,
            "/api/executions/{id}",
            "/api/executions/{execution}",
            Some(P::ServersRead),
            none,
        ),
        op(
            M::GET,
            "/api/executions/{id}/events",
            "/api/executions/{execution}/events",
            Some(P::ServersRead),
            none,
        ),
        op(
            M::POST,
            "/api/executions/{id}/cancel",
            "/api/executions/{execution}/cancel",
            Some(P::ServersOperate),
            none,
        ),
        // Provider accounts belong to no team: only administrators reach them.
        op(
            M::PUT,
            "/api/provider-accounts/{id}",
            "/api/provider-accounts/{provider}",
            Some(P::ProvidersManage),
            |_| Some(provider_body("Renamed")),
        ),
        op(
            M::DELETE,
            "/api/provider-accounts/{id}",
            "/api/provider-accounts/{provider}",
            Some(P::ProvidersManage),
            none,
        ),
        op(
            M::POST,
            "/api/provider-accounts/{id}/test",
            "/api/provider-accounts/{provider}/test",
            Some(P::ProvidersManage),
            none,
        ),
        op(
            M::GET,
            "/api/provider-accounts/{id}/resources",
            "/api/provider-accounts/{provider}/resources",
            Some(P::ProvidersManage),
            none,
        ),
        op(
            M::POST,
            "/api/provider-accounts/{id}/sync",
            "/api/provider-accounts/{provider}/sync",
            Some(P::ProvidersManage),
            |_| Some(json!({"dry_run": false})),
        ),
        // Projects.
        op(
            M::GET,
            "/api/projects/{id}",
            "/api/projects/{project}",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::POST,
            "/api/projects/{id}/sync",
            "/api/projects/{project}/sync",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::POST,
            "/api/projects/{id}/push",
            "/api/projects/{project}/push",
            Some(P::DeploymentsManage),
            |_| Some(json!({"branch": "main"})),
        ),
        op(
            M::GET,
            "/api/projects/{id}/terminal",
            "/api/projects/{project}/terminal",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::DELETE,
            "/api/projects/{id}",
            "/api/projects/{project}",
            Some(P::DeploymentsManage),
            none,
        ),
        // Deployments (one running, one stopped so that start would succeed).
        op(
            M::GET,
            "/api/deployments/{id}",
            "/api/deployments/{deployment}",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::GET,
            "/api/deployments/{id}/logs",
            "/api/deployments/{deployment}/logs",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::GET,
            "/api/deployments/{id}/events",
            "/api/deployments/{deployment}/events",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::POST,
            "/api/deployments/{id}/stop",
            "/api/deployments/{deployment}/stop",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::POST,
            "/api/deployments/{id}/start",
            "/api/deployments/{stopped_deployment}/start",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::POST,
            "/api/deployments/{id}/redeploy",
            "/api/deployments/{deployment}/redeploy",
            Some(P::DeploymentsManage),
            |_| Some(json!({})),
        ),
        op(
            M::POST,
            "/api/deployments/{id}/private-key",
            "/api/deployments/{deployment}/private-key",
            Some(P::DeploymentsManage),
            none,
        ),
        op(
            M::DELETE,
            "/api/deployments/{id}",
            "/api/deployments/{deployment}",
            Some(P::DeploymentsManage),
            none,
        ),
        // Scripts, their versions and runs.
        op(
            M::GET,
            "/api/scripts/{id}",
            "/api/scripts/{script}",
            Some(P::ScriptsManage),
            none,
        ),
        op(
            M::PUT,
            "/api/scripts/{id}",
            "/api/scripts/{script}",
            Some(P::ScriptsManage),
            |_| Some(json!({"name": "taken over", "content": PLAYBOOK})),
        ),
        op(
            M::DELETE,
            "/api/scripts/{id}",
            "/api/scripts/{script}",
            Some(P::ScriptsManage),
            none,
        ),
        op(
            M::GET,
            "/api/scripts/{id}/versions/{version}",
            "/api/scripts/{script}/versions/1",
            Some(P::ScriptsManage),
            none,
        ),
        op(
            M::POST,
            "/api/scripts/{id}/run",
            "/api/scripts/{script}/run",
            Some(P::ExecutionsRun),
            |ids| Some(json!({"server_ids": [ids["server"]]})),
        ),
        op(
            M::GET,
            "/api/playbook-runs/{id}",
            "/api/playbook-runs/{run}",
            Some(P::ServersRead),
            none,
        ),
        op(
            M::POST,
            "/api/playbook-runs/{id}/rerun",
            "/api/playbook-runs/{run}/rerun",
            Some(P::ExecutionsRun),
            none,
        ),
        // Billing.
        op(
            M::GET,
            "/api/clients/{id}",
            "/api/clients/{client}",
            Some(P::ClientsManage),
            none,
        ),
        op(
            M::PUT,
            "/api/clients/{id}",
            "/api/clients/{client}",
            Some(P::ClientsManage),
            |ids| {
                Some(
                    json!({"team_id": ids["team"], "company": "Taken over", "billing_email": "b@client.example"}),
                )
            },
        ),
        // Moving the client into the caller's own team would take it over.
        op(
            M::PUT,
            "/api/clients/{id}",
            "/api/clients/{client}",
            Some(P::ClientsManage),
            |ids| {
                Some(
                    json!({"team_id": ids["caller_team"], "company": "Taken over", "billing_email": "b@client.example"}),
                )
            },
        ),
        op(
            M::DELETE,
            "/api/clients/{id}",
            "/api/clients/{lone_client}",
            Some(P::ClientsManage),
            none,
        ),
        op(
            M::GET,
            "/api/subscriptions/{id}",
            "/api/subscriptions/{subscription}",
            Some(P::SubscriptionsManage),
            none,
        ),
        op(
            M::GET,
            "/api/subscriptions/{id}/linkable",
            "/api/subscriptions/{subscription}/linkable",
            Some(P::SubscriptionsManage),
            none,
        ),
        op(
            M::PUT,
            "/api/subscriptions/{id}",
            "/api/subscriptions/{subscription}",
            Some(P::SubscriptionsManage),
            |ids| {
                let today = chrono::Utc::now().date_naive();
                Some(
                    json!({"client_id": ids["client"], "plan_name": "Taken over", "period_months": 1,
                        "monthly_price_cents": 1, "currency": "EUR", "start_date": today,
                        "end_date": today + chrono::Duration::days(30)}),
                )
            },
        ),
        op(
            M::POST,
            "/api/subscriptions/{id}/{action}",
            "/api/subscriptions/{subscription}/suspend",
            Some(P::SubscriptionsManage),
            |_| Some(json!({"reason": "peek"})),
        ),
        // Teams, memberships and policies.
        op(
            M::GET,
            "/api/teams/{id}",
            "/api/teams/{team}",
            Some(P::TeamsRead),
            none,
        ),
        op(
            M::PATCH,
            "/api/teams/{id}",
            "/api/teams/{team}",
            Some(P::TeamsManage),
            |_| Some(json!({"description": "taken over"})),
        ),
        op(
            M::DELETE,
            "/api/teams/{id}",
            "/api/teams/{team}",
            Some(P::TeamsManage),
            none,
        ),
        op(
            M::GET,
            "/api/teams/{id}/members",
            "/api/teams/{team}/members",
            Some(P::TeamsRead),
            none,
        ),
        op(
            M::PUT,
            "/api/teams/{id}/members/{user_id}",
            "/api/teams/{team}/members/{caller}",
            Some(P::TeamsManage),
            none,
        ),
        op(
            M::DELETE,
            "/api/teams/{id}/members/{user_id}",
            "/api/teams/{team}/members/{member}",
            Some(P::TeamsManage),
            none,
        ),
        op(
            M::GET,
            "/api/teams/{id}/approval-policy",
            "/api/teams/{team}/approval-policy",
            Some(P::TeamsRead),
            none,
        ),
        op(
            M::PUT,
            "/api/teams/{id}/approval-policy",
            "/api/teams/{team}/approval-policy",
            Some(P::TeamsManage),
            |_| {
                Some(
                    json!({"steps": [{"approvers": {"kind": "role", "role": "admin"}, "rule": "any"}], "auto_approve": null}),
                )
            },
        ),
        // Users.
        op(
            M::GET,
            "/api/users/{id}",
            "/api/users/{member}",
            Some(P::UsersManage),
            none,
        ),
        op(
            M::PATCH,
            "/api/users/{id}",
            "/api/users/{member}",
            Some(P::UsersManage),
            |_| Some(json!({"full_name": "Taken over"})),
        ),
        op(
            M::POST,
            "/api/users/{id}/password",
            "/api/users/{member}/password",
            Some(P::UsersManage),
            |_| Some(json!({"password": "taken-over-password"})),
        ),
        op(
            M::POST,
            "/api/users/{id}/two-factor/reset",
            "/api/users/{member}/two-factor/reset",
            Some(P::UsersManage),
            none,
        ),
        op(
            M::POST,
            "/api/users/{id}/approve",
            "/api/users/{member}/approve",
            Some(P::UsersManage),
            none,
        ),
        // Rows of one user: another user's (or the service key) answers 404 even in one team.
        op(
            M::DELETE,
            "/api/ssh-keys/{id}",
            "/api/ssh-keys/{ssh_key}",
            None,
            none,
        ),
        op(
            M::DELETE,
            "/api/me/tokens/{id}",
            "/api/me/tokens/{token}",
            Some(P::ApiTokensOwn),
            none,
        ),
        op(
            M::POST,
            "/api/notifications/{id}/read",
            "/api/notifications/{notification}/read",
            None,
            none,
        ),
        // Managed resources.
        op(
            M::GET,
            "/api/resources/{id}",
            "/api/resources/{resource}",
            Some(P::ResourcesRead),
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/approve",
            "/api/resources/{resource}/approve",
            None,
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/reject",
            "/api/resources/{resource}/reject",
            None,
            |_| Some(json!({"reason": "not for you"})),
        ),
        op(
            M::POST,
            "/api/resources/{id}/cancel",
            "/api/resources/{resource}/cancel",
            None,
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/fulfil",
            "/api/resources/{awaiting_resource}/fulfil",
            Some(P::ResourcesFulfil),
            |_| Some(json!({"host": "ceph.internal"})),
        ),
        op(
            M::POST,
            "/api/resources/{id}/reveal",
            "/api/resources/{ready_resource}/reveal",
            Some(P::ResourceSecretsReveal),
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/rotate",
            "/api/resources/{ready_resource}/rotate",
            Some(P::ResourceSecretsReveal),
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/retry",
            "/api/resources/{failed_resource}/retry",
            None,
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/delete",
            "/api/resources/{ready_resource}/delete",
            None,
            |_| Some(json!({"confirm": "alpha_ready"})),
        ),
        op(
            M::POST,
            "/api/resources/{id}/resize",
            "/api/resources/{ready_resource}/resize",
            None,
            |_| Some(json!({"parameters": {"connection_limit": 30}})),
        ),
        op(
            M::GET,
            "/api/resources/{id}/backups",
            "/api/resources/{ready_resource}/backups",
            Some(P::ResourcesRead),
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/backup",
            "/api/resources/{ready_resource}/backup",
            None,
            none,
        ),
        op(
            M::POST,
            "/api/resources/{id}/restore",
            "/api/resources/{ready_resource}/restore",
            None,
            |_| Some(json!({"backup_id": "00000000-0000-0000-0000-000000000001"})),
        ),
        op(
            M::PUT,
            "/api/resources/{id}/backup-schedule",
            "/api/resources/{ready_resource}/backup-schedule",
            None,
            |_| Some(json!({"cron": "0 3 * * *"})),
        ),
        // The catalogue is the installation's, not a team's: only administrators change it.
        op(
            M::PUT,
            "/api/resource-types/{id}",
            "/api/resource-types/{resource_type}",
            Some(P::ResourceTypesManage),
            |_| {
                Some(
                    json!({"slug": "storage-ceph", "name": "Ceph", "category": "storage",
                            "provisioning": "manual", "retired": true}),
                )
            },
        ),
        op(
            M::DELETE,
            "/api/webhooks/{id}",
            "/api/webhooks/{webhook}",
            Some(P::ProvidersManage),
            none,
        ),
    ]
}

/// Operations on ids of one user's rows that sit outside the table's team-A fixtures but must
/// answer 404 all the same: the platform's service key is nobody's to remove.
fn service_key_op() -> Op {
    op(
        Method::DELETE,
        "/api/ssh-keys/{id}",
        "/api/ssh-keys/{service_key}",
        None,
        none,
    )
}

fn fill(template: &str, ids: &Ids) -> String {
    let mut out = template.to_owned();
    for (name, id) in ids {
        out = out.replace(&format!("{{{name}}}"), id);
    }
    assert!(!out.contains('{'), "unfilled placeholder in {out}");
    out
}

/// Every row of every table, as text, by table: two equal fingerprints mean nothing was written.
async fn fingerprint(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let backend = app.db.get_database_backend();
    let texts = |sql: String| {
        let db = app.db.clone();
        async move {
            db.query_all(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get::<String>("", "r").unwrap())
                .collect::<Vec<_>>()
        }
    };
    let tables = match backend {
        DatabaseBackend::Postgres => {
            texts("SELECT tablename AS r FROM pg_tables WHERE schemaname = current_schema()".into())
                .await
        }
        _ => texts(
            "SELECT name AS r FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                .into(),
        )
        .await,
    };
    let mut all = BTreeMap::new();
    for table in tables {
        let sql = match backend {
            DatabaseBackend::Postgres => format!("SELECT CAST(t AS TEXT) AS r FROM \"{table}\" t"),
            _ => {
                let columns = texts(format!(
                    "SELECT name AS r FROM pragma_table_info('{table}')"
                ))
                .await;
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                format!("SELECT {row} AS r FROM \"{table}\"")
            }
        };
        let mut rows = texts(sql).await;
        rows.sort();
        all.insert(table, rows);
    }
    all
}

fn changed_tables(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter(|t| before.get(*t) != after.get(*t))
        .cloned()
        .collect()
}

/// The roles whose holders see only their own teams' rows.
fn team_scoped_roles() -> Vec<Role> {
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| !roles_grant(&[*r], Permission::AllTeams))
        .collect();
    assert_eq!(
        Role::ALL.len() - roles.len(),
        1,
        "only administrators see every team"
    );
    assert!(roles_grant(&[Role::Admin], Permission::AllTeams));
    roles
}

/// Calls `op` as `caller` and returns a failure message, if any: a status other than 404 for
/// a role the matrix allows (403 or 404 for one it refuses), a body that is not problem+json,
/// or any change in the database.
async fn check_op(
    app: &TestApp,
    op: &Op,
    ids: &Ids,
    caller: &Session,
    role: Role,
    state: &mut BTreeMap<String, Vec<String>>,
) -> Option<String> {
    let path = fill(op.path, ids);
    let res = app
        .request(
            op.method.clone(),
            &path,
            Some(&caller.token),
            (op.body)(ids),
        )
        .await;
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // An event stream that was wrongly opened would never end: only read bodies of problems.
    let body = if content_type == "application/problem+json" {
        res.text().await.unwrap_or_default()
    } else {
        drop(res);
        String::new()
    };
    let after = fingerprint(app).await;
    let changed = changed_tables(state, &after);
    *state = after;
    let allowed = op.permission.is_none_or(|p| roles_grant(&[role], p));
    let mut problems = Vec::new();
    if allowed && status != 404 {
        problems.push(format!("answered {status}, not 404"));
    } else if !allowed && status != 404 && status != 403 {
        problems.push(format!("answered {status}, not 403/404"));
    }
    if content_type != "application/problem+json" {
        problems.push(format!("content-type {content_type:?}"));
    }
    if !changed.is_empty() {
        problems.push(format!("wrote to {changed:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} {} as {} of another team: {} {body}",
            op.method,
            op.template,
            role,
            problems.join(", ")
        )
    })
}

/// Team A's rows, one of every type that has an id in the API, and the users who own them.
struct TeamA {
    ids: Ids,
    /// Every id of a team-A row: none may appear in what team B reads.
    secret_ids: Vec<String>,
}

async fn file_request(
    app: &TestApp,
    owner: &Session,
    team: &str,
    provider: &str,
    host: &str,
) -> String {
    let res = app
        .post(
            "/api/requests",
            &owner.token,
            json!({
                "hostname": host, "team_id": team, "provider_account_id": provider,
                "location": "pve1", "cpu": 1, "ram_mb": 1024, "disk_gb": 10, "image": "debian-12",
                "purpose": "alpha work"
            }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    body["request"]["id"].as_str().unwrap().to_owned()
}

async fn created_id(res: reqwest::Response, pointer: &str) -> String {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {body}"))
        .to_owned()
}

async fn build_team_a(app: &TestApp, team: &str, provider: &str, users: &[Session]) -> TeamA {
    let [tech, _sales, requester] = users else {
        panic!("team A has one user of each team-scoped role")
    };
    let mut ids = Ids::new();
    ids.insert("team", team.to_owned());
    ids.insert("provider", provider.to_owned());
    ids.insert("member", requester.id.clone());

    ids.insert(
        "request",
        file_request(app, requester, team, provider, "alpha-req").await,
    );
    let comment = app
        .post(
            &fill("/api/requests/{request}/comments", &ids),
            &requester.token,
            json!({"body": "alpha comment"}),
        )
        .await;
    assert_eq!(comment.status(), 201);
    let failed = file_request(app, requester, team, provider, "alpha-failed").await;
    app.db
        .execute_unprepared(
            "UPDATE server_requests SET status = 'failed' WHERE hostname = 'alpha-failed'",
        )
        .await
        .unwrap();
    ids.insert("failed_request", failed);

    let server = insert_server(app, team, provider, "alpha-srv", "pve1/qemu/4242").await;
    ids.insert("server", server.to_string());
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
    api::domain::jobs::enqueue_with_execution(
        &app.db,
        api::domain::jobs::JobKind::ServerOp,
        &api::domain::jobs::server_op_key(execution),
        json!({"op": "power", "action": "reboot", "server_id": server}),
        Some(execution),
    )
    .await
    .unwrap();
    ids.insert("execution", execution.to_string());
    let (script, run) = insert_script_and_run(app, team, server).await;
    ids.insert("script", script.to_string());
    ids.insert("run", run.to_string());
    ids.insert(
        "schedule",
        insert_schedule(app, team, server).await.to_string(),
    );
    ids.insert("project", insert_project(app, team).await.to_string());
    ids.insert(
        "deployment",
        insert_deployment(app, team, provider, 1).await.to_string(),
    );
    let stopped = insert_deployment(app, team, provider, 2).await;
    app.db
        .execute_unprepared("UPDATE deployments SET status = 'STOPPED' WHERE name = 'matrix-app-2'")
        .await
        .unwrap();
    ids.insert("stopped_deployment", stopped.to_string());
    let (client, subscription) = insert_client_and_subscription(app, team, 1).await;
    ids.insert("client", client.to_string());
    ids.insert("subscription", subscription.to_string());
    // A client without subscriptions, which deleting would remove.
    let lone = app
        .post(
            "/api/clients",
            &app.admin.token,
            json!({"team_id": team, "company": "Alpha lone client", "billing_email": "a@alpha.example"}),
        )
        .await;
    ids.insert("lone_client", created_id(lone, "/id").await);

    let key = app
        .post(
            "/api/ssh-keys",
            &tech.token,
            json!({"name": "alpha laptop", "public_key": public_key(4242)}),
        )
        .await;
    ids.insert("ssh_key", created_id(key, "/id").await);
    let token = app
        .post(
            "/api/me/tokens",
            &tech.token,
            json!({"name": "alpha token"}),
        )
        .await;
    ids.insert("token", created_id(token, "/token/id").await);
    api::domain::notify::notify(
        &app.db,
        false,
        &[requester.id.parse().unwrap()],
        None,
        &api::domain::notify::NewNotification {
            kind: "test",
            title: "alpha news".into(),
            body: "for team A".into(),
            link: None,
        },
    )
    .await
    .unwrap();
    let notes: Value = app
        .get("/api/notifications", &requester.token)
        .await
        .json()
        .await
        .unwrap();
    let note = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "alpha news")
        .expect("the notification is listed for its owner");
    ids.insert("notification", note["id"].as_str().unwrap().to_owned());
    let webhook = app
        .post(
            "/api/webhooks",
            &app.admin.token,
            json!({"name": "alpha hook", "url": "http://127.0.0.1:9/", "secret": "0123456789abcdef"}),
        )
        .await;
    ids.insert("webhook", created_id(webhook, "/id").await);

    let resource_server = insert_server(app, team, provider, "alpha-db", "pve1/qemu/4344").await;
    for (name, slug, status, server) in [
        (
            "resource",
            "db-postgresql",
            "pending",
            Some(resource_server),
        ),
        (
            "awaiting_resource",
            "storage-ceph",
            "awaiting_fulfilment",
            None,
        ),
        (
            "ready_resource",
            "db-postgresql",
            "ready",
            Some(resource_server),
        ),
        (
            "failed_resource",
            "db-postgresql",
            "failed",
            Some(resource_server),
        ),
    ] {
        let id = common::insert_resource(
            app,
            team,
            &requester.id,
            slug,
            status,
            server,
            &format!("alpha_{}", name.split('_').next().unwrap()),
        )
        .await;
        ids.insert(name, id.to_string());
    }
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
    ids.insert("resource_type", ceph["id"].as_str().unwrap().to_owned());

    let secret_ids = ids
        .iter()
        .filter(|(name, _)| !["team", "provider", "member", "resource_type"].contains(name))
        .map(|(_, id)| id.clone())
        .collect();
    TeamA { ids, secret_ids }
}

struct World {
    app: TestApp,
    provider: String,
    team_a: String,
    team_b: String,
    /// One user per team-scoped role in each team, in `team_scoped_roles()` order.
    a_users: Vec<Session>,
    b_users: Vec<Session>,
}

async fn world() -> World {
    let app = spawn_app().await;
    let provider = created_id(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Shared provider"),
        )
        .await,
        "/id",
    )
    .await;
    let team_a = app.create_team("Alpha").await;
    let team_b = app.create_team("Bravo").await;
    let mut a_users = Vec::new();
    let mut b_users = Vec::new();
    for role in team_scoped_roles() {
        a_users.push(
            app.user_with(&format!("a_{role}"), &[role], std::slice::from_ref(&team_a))
                .await,
        );
        b_users.push(
            app.user_with(&format!("b_{role}"), &[role], std::slice::from_ref(&team_b))
                .await,
        );
    }
    // Listing keys creates the service key on first use: do it before anything is compared.
    let listed = app.get("/api/ssh-keys", &app.admin.token).await;
    assert_eq!(listed.status(), 200);
    World {
        app,
        provider,
        team_a,
        team_b,
        a_users,
        b_users,
    }
}

async fn service_key_id(app: &TestApp) -> String {
    let keys: Value = app
        .get("/api/ssh-keys", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    keys.as_array()
        .unwrap()
        .iter()
        .find(|k| k["service"] == true)
        .expect("the service key is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The lists, searches, filters and statistics a team-B user reads. `{name}` placeholders are
/// team A's ids; such a path must answer exactly as it does for an id that does not exist.
/// `admin_sees` marks the views whose administrator answer does change with team A's rows, which
/// shows the comparison can fail.
struct Listing {
    path: &'static str,
    permission: Option<Permission>,
    admin_sees: bool,
}

fn listings() -> Vec<Listing> {
    use Permission as P;
    let l = |path, permission, admin_sees| Listing {
        path,
        permission,
        admin_sees,
    };
    vec![
        l("/api/requests", Some(P::RequestsCreate), true),
        l("/api/requests?q=alpha", Some(P::RequestsCreate), true),
        l(
            "/api/requests?status=pending",
            Some(P::RequestsCreate),
            true,
        ),
        l(
            "/api/requests?team_id={team}",
            Some(P::RequestsCreate),
            true,
        ),
        l(
            "/api/requests?requester_id={member}",
            Some(P::RequestsCreate),
            true,
        ),
        l(
            "/api/requests?provider_account_id={provider}",
            Some(P::RequestsCreate),
            true,
        ),
        l("/api/servers", Some(P::ServersRead), true),
        l("/api/servers?q=alpha", Some(P::ServersRead), true),
        l("/api/servers?team_id={team}", Some(P::ServersRead), true),
        l(
            "/api/servers?provider_account_id={provider}",
            Some(P::ServersRead),
            true,
        ),
        l("/api/deployments", Some(P::DeploymentsManage), true),
        l(
            "/api/deployments?q=matrix",
            Some(P::DeploymentsManage),
            true,
        ),
        l(
            "/api/deployments?status=RUNNING",
            Some(P::DeploymentsManage),
            true,
        ),
        l("/api/projects", Some(P::DeploymentsManage), true),
        l("/api/scripts", Some(P::ScriptsManage), true),
        l("/api/scripts?q=script", Some(P::ScriptsManage), true),
        l("/api/playbook-runs", Some(P::ServersRead), true),
        l(
            "/api/playbook-runs?script_id={script}",
            Some(P::ServersRead),
            true,
        ),
        l(
            "/api/playbook-runs?server_id={server}",
            Some(P::ServersRead),
            true,
        ),
        l(
            "/api/servers/{server}/schedules",
            Some(P::ServersOperate),
            true,
        ),
        l("/api/resources", Some(P::ResourcesRead), true),
        l(
            "/api/resource-targets?team_id={team}",
            Some(P::RequestsCreate),
            true,
        ),
        l(
            "/api/resources?status=pending",
            Some(P::ResourcesRead),
            true,
        ),
        l("/api/clients", Some(P::ClientsManage), true),
        l("/api/subscriptions", Some(P::SubscriptionsManage), true),
        l(
            "/api/subscriptions?client_id={client}",
            Some(P::SubscriptionsManage),
            true,
        ),
        l("/api/revenue", Some(P::RevenueRead), true),
        l("/api/revenue.csv", Some(P::RevenueRead), true),
        l("/api/teams", Some(P::TeamsRead), false),
        l("/api/teams?q=alpha", Some(P::TeamsRead), false),
        l("/api/ssh-keys", None, false),
        l("/api/me/tokens", Some(P::ApiTokensOwn), false),
        l("/api/notifications", None, false),
        l("/api/overview", None, false),
        l("/api/stats/dashboard", None, true),
        l("/api/statistics", Some(P::DeploymentsManage), true),
        l("/api/provider-accounts", None, false),
    ]
}

async fn read(app: &TestApp, path: &str, token: &str) -> (u16, String) {
    let res = app.get(path, token).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn another_teams_rows_answer_404_and_stay_unchanged() {
    let World {
        app,
        provider,
        team_a,
        team_b,
        a_users,
        b_users,
    } = world().await;
    let roles = team_scoped_roles();

    // What team B and the administrator read before team A has any row.
    let nowhere = uuid::Uuid::new_v4().to_string();
    let placeholder_free = |path: &str| !path.contains('{');
    let mut before = HashMap::new();
    for listing in listings().iter().filter(|l| placeholder_free(l.path)) {
        for session in b_users.iter().chain([&app.admin]) {
            before.insert(
                (listing.path, session.id.clone()),
                read(&app, listing.path, &session.token).await,
            );
        }
    }

    let TeamA {
        mut ids,
        secret_ids,
    } = build_team_a(&app, &team_a, &provider, &a_users).await;

    let mut failures = Vec::new();
    for listing in listings() {
        let path = fill(listing.path, &ids);
        let mut absent_ids = ids.clone();
        for id in absent_ids.values_mut() {
            *id = nowhere.clone();
        }
        let baseline_path = fill(listing.path, &absent_ids);
        let baseline = |session: &Session| {
            let key = (listing.path, session.id.clone());
            let stored = before.get(&key).cloned();
            let app = &app;
            let baseline_path = baseline_path.clone();
            let token = session.token.clone();
            async move {
                match stored {
                    Some(seen) => seen,
                    None => read(app, &baseline_path, &token).await,
                }
            }
        };
        for (session, role) in b_users.iter().zip(&roles) {
            if !listing.permission.is_none_or(|p| roles_grant(&[*role], p)) {
                continue;
            }
            let now = read(&app, &path, &session.token).await;
            if now != baseline(session).await {
                failures.push(format!(
                    "GET {} as {role} of another team differs once team A has rows: {}",
                    listing.path, now.1
                ));
            }
            if let Some(id) = secret_ids.iter().find(|id| now.1.contains(id.as_str())) {
                failures.push(format!(
                    "GET {} as {role} of another team shows team A's row {id}",
                    listing.path
                ));
            }
        }
        if listing.admin_sees {
            let now = read(&app, &path, &app.admin.token).await;
            if now.0 != 200 || now == baseline(&app.admin).await {
                failures.push(format!(
                    "GET {path} as admin does not show team A's rows, so the comparison proves nothing: {}",
                    now.1
                ));
            }
        }
    }

    ids.insert("service_key", service_key_id(&app).await);
    let mut state = fingerprint(&app).await;
    let mut all_ops = ops();
    all_ops.push(service_key_op());
    for op in &all_ops {
        for (session, role) in b_users.iter().zip(&roles) {
            ids.insert("caller", session.id.clone());
            ids.insert("caller_team", team_b.clone());
            if let Some(failure) = check_op(&app, op, &ids, session, *role, &mut state).await {
                failures.push(failure);
            }
        }
    }
    // The fingerprint sees writes: the administrator's change to the same server shows.
    let labels = app
        .put(
            &fill("/api/servers/{server}/labels", &ids),
            &app.admin.token,
            json!({"labels": {"owned": "a"}}),
        )
        .await;
    assert_eq!(labels.status(), 200);
    let changed = changed_tables(&state, &fingerprint(&app).await);
    assert!(
        changed.contains(&"servers".to_owned()) && changed.contains(&"audit_events".to_owned()),
        "an administrator's write went unseen: {changed:?}"
    );
    assert!(
        failures.is_empty(),
        "{} holes:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_every_operation_with_a_path_parameter() {
    let spec = serde_json::to_value(api::server::openapi::spec()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let covered: BTreeSet<String> = ops()
        .iter()
        .map(|o| format!("{} {}", o.method, o.template))
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "operations without an IDOR line: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "IDOR lines for undocumented operations: {unknown:?}"
    );
}

#[tokio::test]
async fn requesters_of_one_team_never_see_each_others_requests() {
    let app = spawn_app().await;
    let provider = created_id(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Shared provider"),
        )
        .await,
        "/id",
    )
    .await;
    let team = app.create_team("Shared").await;
    let first = app
        .user_with("first", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let second = app
        .user_with("second", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let mut ids = Ids::new();
    ids.insert("team", team.clone());
    ids.insert("first", first.id.clone());
    ids.insert("provider", provider.clone());
    let views = [
        "/api/requests",
        "/api/requests?q=first-host",
        "/api/requests?status=pending",
        "/api/requests?requester_id={first}",
        "/api/requests?team_id={team}",
        "/api/requests?provider_account_id={provider}",
        "/api/notifications",
        "/api/stats/dashboard",
        "/api/overview",
    ];
    let mut before = Vec::new();
    for view in views {
        before.push(read(&app, &fill(view, &ids), &second.token).await);
    }

    let request = file_request(&app, &first, &team, &provider, "first-host").await;
    ids.insert("request", request.clone());
    for (session, text) in [(&first, "my note"), (&app.admin, "an approver's note")] {
        let res = app
            .post(
                &format!("/api/requests/{request}/comments"),
                &session.token,
                json!({"body": text}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    let failed = file_request(&app, &first, &team, &provider, "first-failed").await;
    app.db
        .execute_unprepared(
            "UPDATE server_requests SET status = 'failed' WHERE hostname = 'first-failed'",
        )
        .await
        .unwrap();
    ids.insert("failed_request", failed);

    let own = read(&app, "/api/requests", &first.token).await;
    assert!(
        own.1.contains(&request),
        "the owner lists their request: {}",
        own.1
    );
    let mut failures = Vec::new();
    for (view, seen) in views.iter().zip(&before) {
        let now = read(&app, &fill(view, &ids), &second.token).await;
        if &now != seen {
            failures.push(format!(
                "GET {view} as the other requester changed: {}",
                now.1
            ));
        }
        if now.1.contains(&request) {
            failures.push(format!(
                "GET {view} as the other requester shows the request"
            ));
        }
    }
    // Exports and statistics are not the requesters' to read at all.
    for path in [
        "/api/statistics",
        "/api/revenue.csv",
        "/api/audit/export.csv",
    ] {
        let status = app.get(path, &second.token).await.status();
        if status != 403 {
            failures.push(format!("GET {path} as a requester answered {status}"));
        }
    }

    let mut state = fingerprint(&app).await;
    let request_ops = ops()
        .into_iter()
        .filter(|op| op.path.starts_with("/api/requests/"));
    for op in request_ops {
        if let Some(failure) = check_op(&app, &op, &ids, &second, Role::Requester, &mut state).await
        {
            failures.push(failure.replace("of another team", "of the same team"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} holes:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A write of team B that names a row of team A in its body.
struct Reference {
    method: Method,
    path: &'static str,
    permission: Permission,
    body: fn(&Ids) -> Value,
}

fn references() -> Vec<Reference> {
    use Method as M;
    use Permission as P;
    let r = |method, path, permission, body| Reference {
        method,
        path,
        permission,
        body,
    };
    vec![
        r(M::POST, "/api/requests", P::RequestsCreate, |ids| {
            json!({"hostname": "bravo-req", "team_id": ids["team"], "provider_account_id": ids["provider"],
                   "location": "pve1", "cpu": 1, "ram_mb": 1024, "disk_gb": 10, "image": "debian-12", "purpose": "x"})
        }),
        r(
            M::POST,
            "/api/scripts/{b_script}/run",
            P::ExecutionsRun,
            |ids| json!({"server_ids": [ids["server"]]}),
        ),
        r(
            M::POST,
            "/api/deploy",
            P::DeploymentsManage,
            |ids| json!({"name": "bravo-app", "team_id": ids["caller_team"], "project_id": ids["project"], "server_id": ids["b_server"]}),
        ),
        r(
            M::POST,
            "/api/deploy",
            P::DeploymentsManage,
            |ids| json!({"name": "bravo-app", "team_id": ids["caller_team"], "git_url": "https://git.example.com/b/app.git", "server_id": ids["server"]}),
        ),
        r(
            M::POST,
            "/api/deploy",
            P::DeploymentsManage,
            |ids| json!({"name": "bravo-app", "team_id": ids["team"], "git_url": "https://git.example.com/b/app.git", "server_id": ids["b_server"]}),
        ),
        r(
            M::POST,
            "/api/projects",
            P::DeploymentsManage,
            |ids| json!({"name": "bravo app", "url": "https://git.example.com/b/app.git", "team_id": ids["team"]}),
        ),
        r(
            M::POST,
            "/api/scripts",
            P::ScriptsManage,
            |ids| json!({"name": "bravo script", "content": PLAYBOOK, "team_id": ids["team"]}),
        ),
        r(
            M::POST,
            "/api/clients",
            P::ClientsManage,
            |ids| json!({"team_id": ids["team"], "company": "Bravo client", "billing_email": "b@client.example"}),
        ),
        r(
            M::POST,
            "/api/subscriptions",
            P::SubscriptionsManage,
            |ids| {
                let today = chrono::Utc::now().date_naive();
                json!({"client_id": ids["client"], "plan_name": "Bravo", "period_months": 1, "monthly_price_cents": 1,
                   "currency": "EUR", "start_date": today, "end_date": today + chrono::Duration::days(30)})
            },
        ),
        r(
            M::PUT,
            "/api/subscriptions/{b_subscription}",
            P::SubscriptionsManage,
            |ids| {
                let today = chrono::Utc::now().date_naive();
                json!({"client_id": ids["b_client"], "plan_name": "Bravo", "period_months": 1, "monthly_price_cents": 1,
                   "currency": "EUR", "start_date": today, "end_date": today + chrono::Duration::days(30),
                   "server_ids": [ids["server"]], "deployment_ids": [ids["deployment"]]})
            },
        ),
        r(M::POST, "/api/servers/register", P::ServersOperate, |ids| {
            json!({"name": "bravo-host", "team_id": ids["team"], "provider_account_id": ids["provider"],
                   "address": "127.0.0.1", "port": 1})
        }),
    ]
}

#[tokio::test]
async fn writes_naming_another_teams_rows_answer_as_for_rows_that_do_not_exist() {
    let World {
        app,
        provider,
        team_a,
        team_b,
        a_users,
        b_users,
    } = world().await;
    let roles = team_scoped_roles();
    let TeamA { mut ids, .. } = build_team_a(&app, &team_a, &provider, &a_users).await;
    // Team A's ids, which the comparison run replaces by ids nobody has.
    let foreign: Vec<&'static str> = ids.keys().copied().filter(|k| *k != "provider").collect();
    let b_server = insert_server(&app, &team_b, &provider, "bravo-srv", "pve1/qemu/4343").await;
    let (b_script, _) = insert_script_and_run(&app, &team_b, b_server).await;
    let (b_client, b_subscription) = insert_client_and_subscription(&app, &team_b, 2).await;
    ids.insert("caller_team", team_b.clone());
    ids.insert("b_server", b_server.to_string());
    ids.insert("b_script", b_script.to_string());
    ids.insert("b_client", b_client.to_string());
    ids.insert("b_subscription", b_subscription.to_string());
    let mut absent = ids.clone();
    for key in &foreign {
        absent.insert(key, uuid::Uuid::new_v4().to_string());
    }

    let mut failures = Vec::new();
    let mut state = fingerprint(&app).await;
    for reference in references() {
        for (session, role) in b_users.iter().zip(&roles) {
            if !roles_grant(&[*role], reference.permission) {
                continue;
            }
            let mut answers = Vec::new();
            for names in [&ids, &absent] {
                let res = app
                    .request(
                        reference.method.clone(),
                        &fill(reference.path, names),
                        Some(&session.token),
                        Some((reference.body)(names)),
                    )
                    .await;
                // Messages may quote the id they name; only what they say about it counts.
                let status = res.status().as_u16();
                let mut text = res.text().await.unwrap();
                for key in &foreign {
                    text = text.replace(names[key].as_str(), &format!("{{{key}}}"));
                }
                answers.push((status, text));
            }
            let after = fingerprint(&app).await;
            let changed = changed_tables(&state, &after);
            state = after;
            let label = format!(
                "{} {} as {role} naming team A's rows {}",
                reference.method,
                reference.path,
                (reference.body)(&ids)
            );
            if (200..300).contains(&answers[0].0) {
                failures.push(format!("{label}: succeeded ({})", answers[0].0));
            } else if answers[0] != answers[1] {
                failures.push(format!(
                    "{label}: {:?}, but for ids that do not exist {:?}",
                    answers[0], answers[1]
                ));
            }
            if !changed.is_empty() {
                failures.push(format!("{label}: wrote to {changed:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} holes:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

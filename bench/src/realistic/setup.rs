//! What the workload finds: two teams, users of four roles each with their own token, a provider
//! account, and the deployments and server requests written straight into the database.

use super::{DEPLOYMENTS, REQUESTS};
use crate::seed::{deployment_row, insert_project};
use crate::PASSWORD;
use anyhow::{bail, Context, Result};
use api::entities::{deployments, server_requests};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde_json::{json, Value};

pub(super) struct Users {
    /// (may read deployments, token) per user.
    pub(super) tokens: Vec<(bool, String)>,
    pub(super) requester: String,
    pub(super) team_b: String,
    pub(super) account: String,
}

pub(super) async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> Result<Value> {
    let res = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        bail!("POST {url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn login_as(
    client: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> Result<String> {
    let body = post(
        client,
        format!("{base}/api/auth/login"),
        "",
        json!({"login": login, "password": password}),
    )
    .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

/// Two teams, a technical agent in the first, a sales agent in both, a requester in the second,
/// and the administrator; a provider account for the requests.
pub(super) async fn users(
    client: &reqwest::Client,
    base: &str,
) -> Result<(Users, [uuid::Uuid; 2])> {
    let admin = login_as(client, base, "benchadmin", PASSWORD).await?;
    let mut teams = Vec::new();
    for name in ["Alpha", "Beta"] {
        let team = post(
            client,
            format!("{base}/api/teams"),
            &admin,
            json!({"name": name, "description": ""}),
        )
        .await?;
        teams.push(team["id"].as_str().context("team id")?.to_owned());
    }
    let password = "bench-user-password-1";
    let mut tokens = vec![(true, admin.clone())];
    let mut requester = String::new();
    for (username, role, member_of) in [
        ("agent", "technical_agent", vec![&teams[0]]),
        ("seller", "sales_agent", vec![&teams[0], &teams[1]]),
        ("asker", "requester", vec![&teams[1]]),
    ] {
        post(
            client,
            format!("{base}/api/users"),
            &admin,
            json!({"username": username, "email": format!("{username}@example.com"),
                   "full_name": username, "password": password, "roles": [role],
                   "team_ids": member_of}),
        )
        .await?;
        let token = login_as(client, base, username, password).await?;
        if role == "requester" {
            requester = token.clone();
        }
        tokens.push((role == "technical_agent", token));
    }
    let account = post(
        client,
        format!("{base}/api/provider-accounts"),
        &admin,
        json!({
            "name": "Bench Hetzner", "kind": "hetzner", "endpoint": "http://127.0.0.1:9/v1",
            "credentials": {"api_token": "bench-token-never-sent"},
            "catalog": {"currency": "EUR", "locations": ["fsn1"], "images": ["debian-12"],
              "server_types": [{"name": "cx22", "cpu": 2, "ram_mb": 4096, "disk_gb": 40, "monthly_price_cents": 459}]}
        }),
    )
    .await?;
    let ids = [teams[0].parse()?, teams[1].parse()?];
    Ok((
        Users {
            tokens,
            requester,
            team_b: teams[1].clone(),
            account: account["id"].as_str().context("account id")?.to_owned(),
        },
        ids,
    ))
}

/// 10,000 deployments and 2,000 server requests, alternating between the teams, one project each.
pub(super) async fn seed(
    db: &DatabaseConnection,
    teams: [uuid::Uuid; 2],
    account: uuid::Uuid,
) -> Result<()> {
    let now = chrono::Utc::now();
    let requester: uuid::Uuid = {
        let row = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT id FROM users WHERE username = 'asker'",
            ))
            .await?
            .context("the requester")?;
        row.try_get_by_index(0)?
    };
    let txn = db.begin().await?;
    let mut project_of = Vec::new();
    for (n, team) in teams.iter().enumerate() {
        let id = uuid::Uuid::new_v4();
        insert_project(&txn, id, *team, &format!("project-{n}")).await?;
        project_of.push(id);
    }
    let statuses = [
        "RUNNING", "RUNNING", "RUNNING", "FAILED", "STOPPED", "RUNNING", "DELETED",
    ];
    for chunk in (0..DEPLOYMENTS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&n| {
            let at = now - chrono::Duration::seconds(n as i64 * 37);
            deployment_row(n, teams[n % 2], project_of[n % 2], at, &statuses)
        });
        deployments::Entity::insert_many(rows).exec(&txn).await?;
    }
    let request_statuses = ["PENDING", "APPROVED", "DEPLOYED", "REJECTED", "FAILED"];
    for chunk in (0..REQUESTS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&n| {
            let at = now - chrono::Duration::seconds(n as i64 * 113);
            server_requests::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                requester_id: Set(requester),
                team_id: Set(teams[n % 2]),
                provider_account_id: Set(account),
                hostname: Set(format!("host-{n}")),
                location: Set("fsn1".into()),
                server_type: Set(Some("cx22".into())),
                cpu: Set(2),
                ram_mb: Set(4096),
                disk_gb: Set(40),
                image: Set("debian-12".into()),
                purpose: Set(format!("bench request {n}")),
                ssh_public_keys: Set(json!([])),
                notes: Set(String::new()),
                status: Set(request_statuses[n % request_statuses.len()].into()),
                estimated_monthly_cents: Set(Some(459)),
                currency: Set(Some("EUR".into())),
                rejection_reason: Set(None),
                policy_step: Set(0),
                failure_reason: Set(None),
                subscription_id: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
            }
        });
        server_requests::Entity::insert_many(rows)
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

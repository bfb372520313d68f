//! Rows written straight into the database: projects, deployments and queued probe jobs, faster
//! than the API could make them.

use crate::DEPLOYMENT_ROWS;
use anyhow::{anyhow, Result};
use api::entities::{deployments, projects};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde_json::json;

pub async fn seed_deployments(db: &DatabaseConnection, team_id: uuid::Uuid) -> Result<()> {
    let now = chrono::Utc::now();
    let txn = db.begin().await?;
    let project = uuid::Uuid::new_v4();
    insert_project(&txn, project, team_id, "bench-project").await?;
    let statuses = [
        "RUNNING", "RUNNING", "RUNNING", "FAILED", "STOPPED", "RUNNING",
    ];
    for chunk in (0..DEPLOYMENT_ROWS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&n| {
            deployment_row(
                n,
                team_id,
                project,
                now - chrono::Duration::minutes(n as i64),
                &statuses,
            )
        });
        deployments::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A synced project `name` of `team_id`, for seeded deployments to belong to.
pub async fn insert_project<C: ConnectionTrait>(
    db: &C,
    id: uuid::Uuid,
    team_id: uuid::Uuid,
    name: &str,
) -> Result<()> {
    let now = chrono::Utc::now();
    projects::Entity::insert(projects::ActiveModel {
        id: Set(id),
        team_id: Set(team_id),
        name: Set(name.into()),
        url: Set(format!("https://git.example.com/bench/{name}.git")),
        default_branch: Set("main".into()),
        deploy_key: Set(None),
        status: Set("ready".into()),
        error: Set(None),
        last_commit: Set(None),
        detected_framework: Set(Some("flask".into())),
        last_synced_at: Set(Some(now)),
        created_by: Set(None),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The `n`th seeded deployment: framework and status (from `statuses`) cycle with `n`.
pub fn deployment_row(
    n: usize,
    team_id: uuid::Uuid,
    project: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    statuses: &[&str],
) -> deployments::ActiveModel {
    let frameworks = ["flask", "django", "react", "express", "laravel", "nextjs"];
    let status = statuses[n % statuses.len()];
    deployments::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(format!("app-{n}")),
        project_id: Set(project),
        branch: Set("main".into()),
        commit_sha: Set(Some(format!("{n:040x}"))),
        framework: Set(frameworks[n % frameworks.len()].into()),
        module: Set(None),
        deployment_type: Set(if n.is_multiple_of(3) { "lxc" } else { "vm" }.into()),
        cpu: Set(Some(2)),
        ram_mb: Set(Some(2048)),
        disk_gb: Set(Some(20)),
        status: Set(status.into()),
        failed_step: Set((status == "FAILED").then(|| "health check".into())),
        error: Set((status == "FAILED").then(|| "the app answered 500".into())),
        server_id: Set(None),
        request_id: Set(None),
        port: Set(Some(8000 + (n % 1000) as i32)),
        app_port: Set(Some(18000 + (n % 1000) as i32)),
        url: Set(Some(format!("http://10.0.0.{}:8000/", n % 250))),
        env: Set(None),
        execution_id: Set(None),
        ssh_public_key: Set(None),
        ssh_private_key: Set(None),
        created_by: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        deployed_at: Set((status == "RUNNING").then_some(at)),
    }
}

/// Queues `count` probe jobs, each with its execution, as every job started from the API has.
pub async fn queue_probes(db: &DatabaseConnection, count: usize) -> Result<()> {
    let txn = db.begin().await?;
    for _ in 0..count {
        let execution = api::domain::probes::new_execution(&txn, None)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        api::domain::executions::create_with_job(
            &txn,
            api::domain::jobs::JobKind::Probe,
            execution,
            json!({}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .ok_or_else(|| anyhow!("no row for {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

//! Clones a project's repository on first sync, pulls it afterwards, and records the newest
//! commit and the framework its files declare.

use super::{JobContext, JobError};
use crate::domain::{frameworks, projects};
use crate::entities::projects as rows;
use crate::exec::git;
use sea_orm::EntityTrait;
use uuid::Uuid;

fn project_id(ctx: &JobContext) -> Result<Uuid, JobError> {
    ctx.job
        .payload
        .get("project_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no project"))
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let state = &ctx.state;
    let id = project_id(ctx)?;
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the project no longer exists"))?;
    let configured = &state.config.projects_dir;
    std::fs::create_dir_all(configured)
        .map_err(|e| JobError::permanent(format!("cannot create {}: {e}", configured.display())))?;
    // Absolute, because git and ssh run from other folders.
    let root =
        &std::fs::canonicalize(configured).map_err(|e| JobError::permanent(e.to_string()))?;
    let dir = git::checkout_dir(root, id);
    // The deploy key lives on disk (0600) only while git runs.
    let key_dir = tempfile::Builder::new()
        .prefix("provisio-git-")
        .tempdir()
        .map_err(|e| JobError::permanent(e.to_string()))?;
    let key_file = match &row.deploy_key {
        Some(sealed) => {
            let key = crate::crypto::open(&state.keys.master_key, sealed).map_err(|e| {
                JobError::permanent(format!("the deploy key cannot be opened: {e}"))
            })?;
            let path = key_dir.path().join("deploy_key");
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| JobError::permanent(e.to_string()))?;
            let mut pem = key.trim_end().to_owned();
            pem.push('\n');
            file.write_all(pem.as_bytes())
                .map_err(|e| JobError::permanent(e.to_string()))?;
            Some(path)
        }
        None => None,
    };
    let remote = git::Remote {
        url: &row.url,
        key_file: key_file.as_deref(),
        known_hosts: &root.join("known_hosts"),
    };
    let fresh = !dir.join(".git").is_dir();
    ctx.log
        .step(&if fresh {
            format!("cloning {} ({})", row.url, row.default_branch)
        } else {
            format!("pulling {} ({})", row.url, row.default_branch)
        })
        .await;
    if fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| JobError::permanent(e.to_string()))?;
    }
    let result = if fresh {
        git::clone(&remote, &row.default_branch, &dir).await
    } else {
        git::pull(&remote, &row.default_branch, &dir).await
    };
    let output = result.map_err(JobError::permanent)?;
    for line in output.stderr.lines().chain(output.stdout.lines()) {
        if !line.trim().is_empty() {
            ctx.log.line("stdout", line).await;
        }
    }
    let commit = git::log(&dir, 1)
        .await
        .map_err(JobError::permanent)?
        .into_iter()
        .next();
    let facts = projects::facts_of(&dir);
    let framework = shared::frameworks::detect(frameworks::all(), &facts).map(|f| f.slug.clone());
    if let Some(c) = &commit {
        ctx.log
            .info(&format!(
                "at {} {} — {}",
                &c.sha[..12.min(c.sha.len())],
                c.author,
                c.subject
            ))
            .await;
    }
    ctx.log
        .step(&match &framework {
            Some(f) => format!("ready; framework detected: {f}"),
            None => "ready; no framework detected".to_owned(),
        })
        .await;
    projects::record_sync(&state.db, id, commit.as_ref(), framework.as_deref()).await?;
    Ok(())
}

pub async fn on_failure(ctx: &JobContext, message: &str) -> Result<(), JobError> {
    let id = project_id(ctx)?;
    projects::record_failure(&ctx.state.db, id, message).await?;
    Ok(())
}

//! The sample playbooks shipped in `playbooks/` (with `samples.json` describing them), seeded as
//! builtin scripts of the Global team.

use super::editing::insert_version;
use crate::domain::teams;
use crate::entities::scripts as rows;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use shared::scripts::VariableSpec;
use uuid::Uuid;

#[derive(serde::Deserialize)]
struct Sample {
    file: String,
    name: String,
    description: String,
    variables: Vec<VariableSpec>,
}

#[derive(rust_embed::RustEmbed)]
#[folder = "../playbooks/"]
#[include = "*.yml"]
#[include = "samples.json"]
struct Samples;

fn sample_file(name: &str) -> Option<String> {
    Samples::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// Inserts the shipped samples into the Global team when a script of that name is missing.
pub async fn seed_samples<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let Some(global) = teams::global_team(db).await? else {
        return Ok(());
    };
    let manifest: Vec<Sample> = sample_file("samples.json")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    for sample in manifest {
        let Some(content) = sample_file(&sample.file) else {
            continue;
        };
        let exists = rows::Entity::find()
            .filter(rows::Column::TeamId.eq(global.id))
            .filter(rows::Column::Name.eq(sample.name.clone()))
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let now = chrono::Utc::now();
        let id = Uuid::new_v4();
        let inserted = rows::Entity::insert(rows::ActiveModel {
            id: Set(id),
            team_id: Set(global.id),
            name: Set(sample.name),
            description: Set(sample.description),
            current_version: Set(1),
            builtin: Set(true),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([rows::Column::TeamId, rows::Column::Name])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
            insert_version(db, id, 1, &content, &sample.variables, None).await?;
        }
    }
    Ok(())
}

/// A shipped sample by name (the maintenance operations run these).
pub async fn builtin<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<rows::Model>, DbErr> {
    rows::Entity::find()
        .filter(rows::Column::Builtin.eq(true))
        .filter(rows::Column::Name.eq(name))
        .one(db)
        .await
}

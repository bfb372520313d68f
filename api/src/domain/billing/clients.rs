//! Clients: the companies of a team that subscriptions are sold to.

use super::{price_of, rows, status_of};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::teams;
use crate::entities::clients as client_rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use shared::billing::{add_to, totals_list, Client, SaveClient, Totals};
use shared::Permission;
use uuid::Uuid;

pub async fn visible_client<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<client_rows::Model> {
    teams::scoped(
        auth,
        client_rows::Entity::find(),
        client_rows::Column::TeamId,
    )
    .filter(client_rows::Column::Id.eq(id))
    .one(db)
    .await?
    .ok_or(ApiError::NotFound)
}

async fn client_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<client_rows::Model>,
) -> Result<Vec<Client>, DbErr> {
    let teams = teams::refs_of(db, found.iter().map(|c| c.team_id)).await?;
    let subscriptions = rows::Entity::find()
        .filter(rows::Column::ClientId.is_in(found.iter().map(|c| c.id)))
        .all(db)
        .await?;
    let mut dtos = Vec::with_capacity(found.len());
    for row in found {
        let Some(team) = teams.get(&row.team_id) else {
            continue;
        };
        let own: Vec<&rows::Model> = subscriptions
            .iter()
            .filter(|s| s.client_id == row.id)
            .collect();
        let mut mrr = Totals::new();
        for s in own.iter().filter(|s| status_of(s).is_billed()) {
            add_to(&mut mrr, &price_of(s)).map_err(DbErr::Custom)?;
        }
        dtos.push(Client {
            team: team.clone(),
            id: row.id,
            company: row.company,
            contacts: serde_json::from_value(row.contacts).unwrap_or_default(),
            billing_email: row.billing_email,
            notes: row.notes,
            subscriptions: own.len() as u64,
            mrr: totals_list(&mrr),
            created_at: row.created_at,
        });
    }
    Ok(dtos)
}

pub async fn list_clients<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<Vec<Client>> {
    auth.require(Permission::ClientsManage)?;
    let found = teams::scoped(
        auth,
        client_rows::Entity::find(),
        client_rows::Column::TeamId,
    )
    .order_by_asc(client_rows::Column::Company)
    .all(db)
    .await?;
    Ok(client_dtos(db, found).await?)
}

pub async fn client<C: ConnectionTrait>(db: &C, auth: &AuthUser, id: Uuid) -> ApiResult<Client> {
    auth.require(Permission::ClientsManage)?;
    let row = visible_client(db, auth, id).await?;
    client_dtos(db, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

async fn company_taken<C: ConnectionTrait>(
    db: &C,
    team: Uuid,
    company: &str,
    except: Option<Uuid>,
) -> Result<bool, DbErr> {
    let mut query = client_rows::Entity::find()
        .filter(client_rows::Column::TeamId.eq(team))
        .filter(client_rows::Column::Company.eq(company));
    if let Some(id) = except {
        query = query.filter(client_rows::Column::Id.ne(id));
    }
    Ok(query.one(db).await?.is_some())
}

fn client_view(row: &client_rows::Model) -> serde_json::Value {
    serde_json::json!({"company": row.company, "billing_email": row.billing_email,
                       "contacts": row.contacts, "team_id": row.team_id})
}

/// Creates (`id` None) or updates a client.
pub async fn save_client(
    state: &AppState,
    auth: &AuthUser,
    id: Option<Uuid>,
    input: SaveClient,
) -> ApiResult<Client> {
    auth.require(Permission::ClientsManage)?;
    input.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    // The row first: a client of another team is not found, whatever the body says.
    let existing = match id {
        Some(id) => Some(visible_client(&txn, auth, id).await?),
        None => None,
    };
    if !teams::may_use_team(&txn, auth, input.team_id).await? {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    let company = input.company.trim().to_owned();
    if company_taken(
        &txn,
        input.team_id,
        &company,
        existing.as_ref().map(|e| e.id),
    )
    .await?
    {
        return Err(ApiError::field(
            "company",
            "this team already has a client of that name",
        ));
    }
    let now = chrono::Utc::now();
    let contacts = serde_json::to_value(&input.contacts).map_err(anyhow::Error::from)?;
    let (before, row) = match existing {
        None => (
            None,
            client_rows::ActiveModel {
                id: Set(Uuid::new_v4()),
                team_id: Set(input.team_id),
                company: Set(company),
                contacts: Set(contacts),
                billing_email: Set(input.billing_email.trim().to_owned()),
                notes: Set(input.notes.trim().to_owned()),
                created_by: Set(Some(auth.id())),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?,
        ),
        Some(existing) => {
            let before = client_view(&existing);
            let mut active: client_rows::ActiveModel = existing.into();
            active.team_id = Set(input.team_id);
            active.company = Set(company);
            active.contacts = Set(contacts);
            active.billing_email = Set(input.billing_email.trim().to_owned());
            active.notes = Set(input.notes.trim().to_owned());
            active.updated_at = Set(now);
            (Some(before), active.update(&txn).await?)
        }
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if before.is_some() {
                "client.update"
            } else {
                "client.create"
            },
            target_type: "client",
            target_id: Some(row.id.to_string()),
            before,
            after: Some(client_view(&row)),
        },
    )
    .await?;
    txn.commit().await?;
    client_dtos(&state.db, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Deletes a client without subscriptions (its history would go with it otherwise).
pub async fn delete_client(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::ClientsManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible_client(&txn, auth, id).await?;
    let has = rows::Entity::find()
        .filter(rows::Column::ClientId.eq(row.id))
        .one(&txn)
        .await?
        .is_some();
    if has {
        return Err(ApiError::Conflict(
            "the client has subscriptions; cancel them instead of deleting the client".into(),
        ));
    }
    client_rows::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "client.delete",
            target_type: "client",
            target_id: Some(row.id.to_string()),
            before: Some(client_view(&row)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

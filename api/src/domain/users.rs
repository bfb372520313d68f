use crate::auth::{password, AuthUser, RequestContext};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::listing::{like_pattern, paging};
use crate::domain::teams::{global_team, to_ref};
use crate::entities::users as rows;
use crate::entities::{api_tokens, refresh_tokens, team_memberships, teams, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::sea_query::Func;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use sea_orm::{PaginatorTrait, QueryOrder};
use shared::dto::{CreateUser, Me, TeamRef, UpdateUser, User};
use shared::dto::{Page, UserListQuery};
use shared::roles::{format_role_list, parse_role_list, permissions_of};
use shared::Permission;
use shared::Role;
use std::collections::HashMap;
use uuid::Uuid;

pub fn roles_of(user: &users::Model) -> Vec<Role> {
    // Stored role lists are written only through format_role_list; a bad one is treated as no role.
    parse_role_list(&user.roles).unwrap_or_default()
}

/// Teams of each of `user_ids`, in two queries whatever the number of users.
pub async fn teams_by_user<C: ConnectionTrait>(
    db: &C,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<TeamRef>>, DbErr> {
    let memberships = team_memberships::Entity::find()
        .filter(team_memberships::Column::UserId.is_in(user_ids.iter().copied()))
        .all(db)
        .await?;
    let mut team_ids: Vec<Uuid> = memberships.iter().map(|m| m.team_id).collect();
    team_ids.sort();
    team_ids.dedup();
    let teams: HashMap<Uuid, teams::Model> = teams::Entity::find()
        .filter(teams::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut by_user: HashMap<Uuid, Vec<TeamRef>> = HashMap::new();
    for m in memberships {
        if let Some(team) = teams.get(&m.team_id) {
            by_user.entry(m.user_id).or_default().push(to_ref(team));
        }
    }
    for list in by_user.values_mut() {
        list.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(by_user)
}

pub fn to_dto(user: users::Model, teams: Vec<TeamRef>) -> User {
    User {
        id: user.id,
        roles: roles_of(&user),
        username: user.username,
        email: user.email,
        full_name: user.full_name,
        active: user.active,
        created_at: user.created_at,
        last_login_at: user.last_login_at,
        teams,
        two_factor: user.totp_secret.is_some(),
        confirmed: user.confirmed_at.is_some(),
        awaiting_approval: user.awaiting_approval,
    }
}

pub async fn me<C: ConnectionTrait>(db: &C, user: &users::Model) -> Result<Me, DbErr> {
    let roles = roles_of(user);
    let teams = teams_by_user(db, &[user.id])
        .await?
        .remove(&user.id)
        .unwrap_or_default();
    Ok(Me {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        full_name: user.full_name.clone(),
        permissions: permissions_of(&roles),
        roles,
        teams,
        two_factor: crate::domain::two_factor::state_of(db, user).await?,
    })
}

/// The audit view of a user: never the password hash.
fn audit_view(user: &users::Model) -> serde_json::Value {
    serde_json::json!({
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "roles": user.roles,
        "active": user.active,
    })
}

async fn hash_password(plain: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&plain))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
        .map_err(ApiError::Internal)
}

async fn ensure_unique<C: ConnectionTrait>(
    db: &C,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut errors = shared::validation::FieldErrors::new();
    let others = |col: users::Column, value: &str| {
        let mut q = users::Entity::find().filter(col.eq(value));
        if let Some(id) = except {
            q = q.filter(users::Column::Id.ne(id));
        }
        q
    };
    if let Some(u) = username {
        if others(users::Column::Username, u).one(db).await?.is_some() {
            errors.insert("username".into(), vec!["is already taken".into()]);
        }
    }
    if let Some(e) = email {
        if others(users::Column::Email, e).one(db).await?.is_some() {
            errors.insert(
                "email".into(),
                vec!["is already used by another account".into()],
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// What a new account still needs before it may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub confirmed: bool,
    pub awaiting_approval: bool,
}

impl Admission {
    /// Created by an administrator, the command line or the demo seeder: ready at once.
    pub const READY: Admission = Admission {
        confirmed: true,
        awaiting_approval: false,
    };
}

/// Creates an account. `actor` is None when the command line, the demo seeder or the person
/// registering creates it.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    context: &RequestContext,
    actor: Option<Uuid>,
    input: CreateUser,
    admission: Admission,
) -> ApiResult<User> {
    input.validate()?;
    let email = input.email.trim().to_lowercase();
    let password_hash = hash_password(input.password.clone()).await?;
    let txn = crate::db::begin_write(db).await?;
    ensure_unique(&txn, Some(&input.username), Some(&email), None).await?;
    let mut team_ids = input.team_ids.clone();
    team_ids.sort();
    team_ids.dedup();
    if team_ids.is_empty() {
        let global = global_team(&txn)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the Global team is missing")))?;
        team_ids.push(global.id);
    } else {
        let found = teams::Entity::find()
            .filter(teams::Column::Id.is_in(team_ids.clone()))
            .all(&txn)
            .await?;
        if found.len() != team_ids.len() {
            return Err(ApiError::field(
                "team_ids",
                "names a team that does not exist",
            ));
        }
    }
    let now = chrono::Utc::now();
    let user = users::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(input.username.clone()),
        email: Set(email),
        full_name: Set(input.full_name.trim().to_owned()),
        password_hash: Set(password_hash),
        roles: Set(format_role_list(&input.roles)),
        active: Set(true),
        session_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        totp_secret: Set(None),
        totp_pending: Set(None),
        totp_enabled_at: Set(None),
        totp_last_step: Set(None),
        confirmed_at: Set(admission.confirmed.then_some(now)),
        awaiting_approval: Set(admission.awaiting_approval),
    }
    .insert(&txn)
    .await?;
    for team_id in &team_ids {
        team_memberships::ActiveModel {
            team_id: Set(*team_id),
            user_id: Set(user.id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        context,
        AuditEntry {
            actor,
            action: if admission == Admission::READY {
                "user.create"
            } else {
                "user.register"
            },
            target_type: "user",
            target_id: Some(user.id.to_string()),
            before: None,
            after: Some(audit_view(&user)),
        },
    )
    .await?;
    let teams = teams_by_user(&txn, &[user.id])
        .await?
        .remove(&user.id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(to_dto(user, teams))
}

/// Ids of the active accounts holding `role`. The LIKE narrows the scan; parsing the list decides.
pub async fn active_with_role<C: ConnectionTrait>(db: &C, role: Role) -> Result<Vec<Uuid>, DbErr> {
    Ok(users::Entity::find()
        .filter(users::Column::Active.eq(true))
        .filter(users::Column::Roles.contains(role.as_str()))
        .all(db)
        .await?
        .into_iter()
        .filter(|u| roles_of(u).contains(&role))
        .map(|u| u.id)
        .collect())
}

async fn other_active_admins<C: ConnectionTrait>(db: &C, except: Uuid) -> Result<usize, DbErr> {
    Ok(active_with_role(db, Role::Admin)
        .await?
        .into_iter()
        .filter(|id| *id != except)
        .count())
}

pub async fn update<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &AuthUser,
    id: Uuid,
    input: UpdateUser,
) -> ApiResult<User> {
    input.validate()?;
    let txn = crate::db::begin_write(db).await?;
    let before = users::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let email = input.email.as_ref().map(|e| e.trim().to_lowercase());
    ensure_unique(&txn, None, email.as_deref(), Some(id)).await?;
    let was_admin = before.active && roles_of(&before).contains(&Role::Admin);
    let stays_admin = input.active.unwrap_or(before.active)
        && input
            .roles
            .as_ref()
            .map_or(roles_of(&before).contains(&Role::Admin), |r| {
                r.contains(&Role::Admin)
            });
    if was_admin && !stays_admin && other_active_admins(&txn, id).await? == 0 {
        return Err(ApiError::Conflict(
            "this is the last active administrator; promote another one first".into(),
        ));
    }
    let deactivating = input.active == Some(false) && before.active;
    let mut active: users::ActiveModel = before.clone().into();
    if let Some(e) = email {
        active.email = Set(e);
    }
    if let Some(name) = &input.full_name {
        active.full_name = Set(name.trim().to_owned());
    }
    if let Some(roles) = &input.roles {
        active.roles = Set(format_role_list(roles));
    }
    if let Some(flag) = input.active {
        active.active = Set(flag);
    }
    if deactivating {
        active.session_version = Set(before.session_version + 1);
        revoke_all_refresh_tokens(&txn, id).await?;
        // Revoked, not only refused while inactive: reactivating the account must not bring
        // tokens back that someone may have kept.
        api_tokens::Entity::update_many()
            .col_expr(
                api_tokens::Column::RevokedAt,
                Expr::value(chrono::Utc::now()),
            )
            .filter(api_tokens::Column::UserId.eq(id))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    }
    active.updated_at = Set(chrono::Utc::now());
    let after = active.update(&txn).await?;
    audit::record(
        &txn,
        &actor.context,
        AuditEntry {
            actor: Some(actor.id()),
            action: if deactivating {
                "user.deactivate"
            } else {
                "user.update"
            },
            target_type: "user",
            target_id: Some(id.to_string()),
            before: Some(audit_view(&before)),
            after: Some(audit_view(&after)),
        },
    )
    .await?;
    let teams = teams_by_user(&txn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(to_dto(after, teams))
}

pub async fn revoke_all_refresh_tokens<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<(), DbErr> {
    refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(
            Condition::all()
                .add(refresh_tokens::Column::UserId.eq(user_id))
                .add(refresh_tokens::Column::RevokedAt.is_null()),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Sets a new password and ends every session of the user.
pub async fn set_password<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    context: &RequestContext,
    actor: Uuid,
    id: Uuid,
    new_password: String,
    action: &str,
) -> ApiResult<()> {
    let hash = hash_password(new_password).await?;
    let txn = crate::db::begin_write(db).await?;
    let user = users::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let version = user.session_version;
    let mut active: users::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.session_version = Set(version + 1);
    active.updated_at = Set(chrono::Utc::now());
    active.update(&txn).await?;
    revoke_all_refresh_tokens(&txn, id).await?;
    audit::record(
        &txn,
        context,
        AuditEntry {
            actor: Some(actor),
            action,
            target_type: "user",
            target_id: Some(id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn page(
    state: &AppState,
    auth: &AuthUser,
    query: UserListQuery,
) -> ApiResult<Page<User>> {
    auth.require(Permission::UsersManage)?;
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = rows::Entity::find();
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = like_pattern(q);
        select = select.filter(
            Condition::any()
                .add(rows::Column::Username.like(pattern.clone()))
                .add(rows::Column::Email.like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(rows::Column::FullName))).like(pattern)),
        );
    }
    if let Some(role) = query.role {
        select = select.filter(rows::Column::Roles.contains(role.as_str()));
    }
    if let Some(active) = query.active {
        select = select.filter(rows::Column::Active.eq(active));
    }
    if let Some(waiting) = query.awaiting_approval {
        select = select.filter(rows::Column::AwaitingApproval.eq(waiting));
    }
    select =
        match query.sort.as_deref().unwrap_or("username") {
            "username" => select.order_by_asc(rows::Column::Username),
            "-username" => select.order_by_desc(rows::Column::Username),
            "created_at" => select.order_by_asc(rows::Column::CreatedAt),
            "-created_at" => select.order_by_desc(rows::Column::CreatedAt),
            "last_login_at" => select.order_by_asc(rows::Column::LastLoginAt),
            "-last_login_at" => select.order_by_desc(rows::Column::LastLoginAt),
            _ => return Err(ApiError::field(
                "sort",
                "must be one of username, created_at, last_login_at, optionally prefixed with -",
            )),
        }
        .order_by_asc(rows::Column::Id);
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    let ids: Vec<Uuid> = found.iter().map(|u| u.id).collect();
    let mut teams = teams_by_user(&state.db, &ids).await?;
    let items = found
        .into_iter()
        .map(|u| {
            let t = teams.remove(&u.id).unwrap_or_default();
            to_dto(u, t)
        })
        .collect();
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn get(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<User> {
    auth.require(Permission::UsersManage)?;
    let user = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let teams = teams_by_user(&state.db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(to_dto(user, teams))
}

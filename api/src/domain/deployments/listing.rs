//! Pages of deployments and their totals and statistics (the count table).

use super::{to_dto, GuestFacts};
use crate::auth::AuthUser;
use crate::domain::teams;
use crate::entities::{
    deployment_counts as counts, deployments as rows, projects as project_rows,
    servers as server_rows, teams as team_rows,
};
use crate::error::ApiResult;
use sea_orm::sea_query::{Expr, Order, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, RelationDef,
};
use shared::deployments::{DeploymentPage, DeploymentStatus, FrameworkCount, Statistics};
use shared::dto::TeamRef;
use shared::Permission;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub page: u64,
    pub per_page: u64,
    /// Continue after this row (a [`Cursor`] from the previous page's `next`) instead of
    /// counting `page - 1` pages of rows off.
    pub after: Option<Cursor>,
    pub status: Option<DeploymentStatus>,
    pub framework: Option<String>,
    pub q: Option<String>,
    pub include_deleted: bool,
}

/// Where a page ends: the last row's place in the order (created_at, id, both descending) and the
/// page's number, so the next page is found through the index however deep it is, and still
/// knows its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub page: u64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// `<page>.<created_at in nanoseconds since 1970>.<id>`: opaque to clients, short, and safe
    /// in a query string as it is. Nanoseconds, as stored: a coarser time could skip rows.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            self.page,
            self.created_at.timestamp_nanos_opt().unwrap_or(i64::MAX),
            self.id.simple()
        )
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let mut parts = text.splitn(3, '.');
        let page = parts.next()?.parse().ok().filter(|p| *p >= 1)?;
        let created_at = chrono::DateTime::from_timestamp_nanos(parts.next()?.parse().ok()?);
        let id = Uuid::try_parse(parts.next()?).ok()?;
        Some(Cursor {
            page,
            created_at,
            id,
        })
    }
}

/// One listed row with what its answer shows of its team, project and server, and how many rows
/// the whole list has: one statement.
struct Listed {
    row: rows::Model,
    team_name: String,
    team_slug: String,
    project: Option<(String, String)>,
    server: Option<GuestFacts>,
    total: i64,
}

impl FromQueryResult for Listed {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let project_name: Option<String> = res.try_get(pre, "project_name")?;
        let project_url: Option<String> = res.try_get(pre, "project_url")?;
        Ok(Listed {
            row: rows::Model::from_query_result(res, pre)?,
            team_name: res.try_get(pre, "team_name")?,
            team_slug: res.try_get(pre, "team_slug")?,
            project: project_name.zip(project_url),
            server: res
                .try_get::<Option<String>>(pre, "server_name")?
                .map(|name| -> Result<GuestFacts, DbErr> {
                    Ok(GuestFacts {
                        name,
                        ipv4: res.try_get(pre, "server_ipv4")?,
                        provider_id: res.try_get(pre, "server_provider_id")?,
                    })
                })
                .transpose()?,
            total: res.try_get(pre, "total")?,
        })
    }
}

/// A page of the caller's deployments, newest first. Rows, the names shown beside them and the
/// total come back from one statement (the total as a subquery the database runs once); only a
/// page past the end asks for the total again.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    query: ListQuery,
) -> ApiResult<DeploymentPage> {
    auth.require(Permission::DeploymentsManage)?;
    let per_page = query.per_page.clamp(1, 200);
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filter = listing_filter(
        auth,
        &query,
        (
            rows::Column::TeamId,
            rows::Column::Status,
            rows::Column::Framework,
        ),
    )
    .add_option(search.map(|q| rows::Column::Name.contains(q.to_lowercase())));
    let total = match search {
        Some(_) => Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(rows::Entity)
            .cond_where(filter.clone())
            .to_owned(),
        // Without a name search the total is a sum over the count table's few rows.
        None => Query::select()
            .expr(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"))
            .from(counts::Entity)
            .cond_where(listing_filter(
                auth,
                &query,
                (
                    counts::Column::TeamId,
                    counts::Column::Status,
                    counts::Column::Framework,
                ),
            ))
            .to_owned(),
    };
    // The page's ids first, from the listing index alone (rows skipped by OFFSET are never
    // joined), then those rows with their names.
    let mut ids = Query::select()
        .column((rows::Entity, rows::Column::Id))
        .from(rows::Entity)
        .cond_where(filter.clone())
        .order_by((rows::Entity, rows::Column::CreatedAt), Order::Desc)
        .order_by((rows::Entity, rows::Column::Id), Order::Desc)
        .limit(per_page)
        .to_owned();
    let page = match query.after {
        Some(after) => {
            ids.and_where(
                Expr::tuple([
                    Expr::col((rows::Entity, rows::Column::CreatedAt)).into(),
                    Expr::col((rows::Entity, rows::Column::Id)).into(),
                ])
                .lt(Expr::tuple([
                    Expr::value(after.created_at),
                    Expr::value(after.id),
                ])),
            );
            after.page + 1
        }
        None => {
            let page = query.page.max(1);
            ids.offset((page - 1) * per_page);
            page
        }
    };
    let select = rows::Entity::find()
        .join(
            JoinType::InnerJoin,
            relation(
                team_rows::Entity,
                rows::Column::TeamId,
                team_rows::Column::Id,
            ),
        )
        .join(
            JoinType::LeftJoin,
            relation(
                project_rows::Entity,
                rows::Column::ProjectId,
                project_rows::Column::Id,
            ),
        )
        .join(
            JoinType::LeftJoin,
            relation(
                server_rows::Entity,
                rows::Column::ServerId,
                server_rows::Column::Id,
            ),
        )
        .column_as(team_rows::Column::Name, "team_name")
        .column_as(team_rows::Column::Slug, "team_slug")
        .column_as(project_rows::Column::Name, "project_name")
        .column_as(project_rows::Column::Url, "project_url")
        .column_as(server_rows::Column::Name, "server_name")
        .column_as(server_rows::Column::Ipv4, "server_ipv4")
        .column_as(server_rows::Column::ProviderId, "server_provider_id")
        .column_as(
            SimpleExpr::SubQuery(None, Box::new(total.clone().into_sub_query_statement())),
            "total",
        )
        .filter(rows::Column::Id.in_subquery(ids))
        .order_by_desc(rows::Column::CreatedAt)
        .order_by_desc(rows::Column::Id);
    let found = select.into_model::<Listed>().all(db).await?;
    let total = match found.first() {
        Some(listed) => listed.total.max(0) as u64,
        None => {
            let row = db
                .query_one(db.get_database_backend().build(&total))
                .await?
                .ok_or(DbErr::RecordNotFound("a count".into()))?;
            row.try_get_by_index::<i64>(0)?.max(0) as u64
        }
    };
    let next = (found.len() as u64 == per_page && page * per_page < total)
        .then(|| found.last())
        .flatten()
        .map(|last| Cursor {
            page,
            created_at: last.row.created_at,
            id: last.row.id,
        });
    let items = found
        .into_iter()
        .map(|listed| {
            let team = TeamRef {
                id: listed.row.team_id,
                name: listed.team_name,
                slug: listed.team_slug,
            };
            to_dto(listed.row, team, listed.project, listed.server)
        })
        .collect();
    Ok(DeploymentPage {
        items,
        total,
        page,
        per_page,
        next: next.map(|cursor| cursor.encode()),
    })
}

/// `deployments.from = target.to`, for a join the entities do not declare.
fn relation<E: EntityTrait>(target: E, from: rows::Column, to: E::Column) -> RelationDef {
    rows::Entity::belongs_to(target).from(from).to(to).into()
}

/// What a list shows of the caller's teams, the statuses and the framework, on the deployments
/// or on the count table (the same column names on both).
fn listing_filter<Col: ColumnTrait>(
    auth: &AuthUser,
    query: &ListQuery,
    (team, status, framework): (Col, Col, Col),
) -> Condition {
    Condition::all()
        .add_option(teams::scope_filter(auth, team))
        .add_option(match query.status {
            Some(wanted) => Some(status.eq(wanted.as_str())),
            None if query.include_deleted => None,
            None => Some(status.ne(DeploymentStatus::Deleted.as_str())),
        })
        .add_option(query.framework.as_deref().map(|f| framework.eq(f)))
}

pub async fn statistics<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<Statistics> {
    auth.require(Permission::DeploymentsManage)?;
    counted(db, teams::scope_filter(auth, counts::Column::TeamId)).await
}

/// The statistics of every team together, for the public landing page when an administrator
/// shows them there.
pub async fn platform_statistics<C: ConnectionTrait>(db: &C) -> ApiResult<Statistics> {
    counted(db, None).await
}

async fn counted<C: ConnectionTrait>(
    db: &C,
    scope: Option<sea_orm::sea_query::SimpleExpr>,
) -> ApiResult<Statistics> {
    // Sums over the count table the triggers keep: a few rows per team, not one per deployment.
    let mut counted = counts::Entity::find()
        .select_only()
        .column(counts::Column::Status)
        .column(counts::Column::Framework)
        .column_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), "count")
        .group_by(counts::Column::Status)
        .group_by(counts::Column::Framework)
        .having(Expr::cust("SUM(n) > 0"));
    if let Some(scope) = scope {
        counted = counted.filter(scope);
    }
    let found: Vec<(String, String, i64)> = counted.into_tuple().all(db).await?;
    Ok(tally(found.iter().map(|(status, framework, count)| {
        (
            DeploymentStatus::parse(status).unwrap_or(DeploymentStatus::Failed),
            framework.as_str(),
            (*count).max(0) as u64,
        )
    })))
}

/// The statistics of a set of deployments, given as (status, framework, how many); deleted ones
/// count only in `total` and by status.
pub fn tally<'a>(found: impl Iterator<Item = (DeploymentStatus, &'a str, u64)>) -> Statistics {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_framework: BTreeMap<String, FrameworkCount> = BTreeMap::new();
    let (mut total, mut active, mut running, mut failed, mut ended) = (0, 0, 0, 0, 0);
    for (status, framework, count) in found {
        total += count;
        *by_status.entry(status.as_str().to_owned()).or_default() += count;
        let entry = by_framework
            .entry(framework.to_owned())
            .or_insert_with(|| FrameworkCount {
                framework: framework.to_owned(),
                total: 0,
                running: 0,
            });
        entry.total += count;
        if status.is_active() {
            active += count;
        }
        match status {
            DeploymentStatus::Running => {
                running += count;
                entry.running += count;
                ended += count;
            }
            DeploymentStatus::Stopped => ended += count,
            DeploymentStatus::Failed => {
                failed += count;
                ended += count;
            }
            _ => {}
        }
    }
    let succeeded = ended - failed;
    let mut by_framework: Vec<FrameworkCount> = by_framework.into_values().collect();
    by_framework.sort_by(|a, b| b.total.cmp(&a.total).then(a.framework.cmp(&b.framework)));
    Statistics {
        total,
        active,
        running,
        failed,
        success_rate: (ended > 0)
            .then(|| (succeeded as f64 * 1000.0 / ended as f64).round() / 10.0),
        by_framework,
        by_status,
    }
}

use super::secrets;
use crate::entities::{api_tokens, refresh_tokens, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use shared::roles::{parse_role_list, roles_grant};
use shared::{Permission, Role};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

/// The id given to each request by the request-id middleware.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Where a request came from, for audit rows and rate limiting.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub ip: IpAddr,
    pub request_id: Option<String>,
}

impl RequestContext {
    /// Work Provisio does by itself (scheduled jobs): loopback, no request id.
    pub fn system() -> Self {
        RequestContext {
            ip: IpAddr::from([127, 0, 0, 1]),
            request_id: None,
        }
    }

    pub fn of(req: &HttpRequest, state: &AppState) -> Self {
        Self {
            ip: client_ip(req, &state.config.trusted_proxies),
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        }
    }
}

/// The peer address, or the right-most untrusted X-Forwarded-For hop when the peer is a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if !trusted.contains(&peer) {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|list| {
            list.split(',')
                .rev()
                .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
                .find(|ip| !trusted.contains(ip))
        })
        .unwrap_or(peer)
}

impl FromRequest for RequestContext {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = req
            .app_data::<web::Data<AppState>>()
            .map(|state| RequestContext::of(req, state))
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")));
        std::future::ready(result)
    }
}

/// The signed-in caller. Every handler that needs a user takes this, then asks `require`.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: Arc<users::Model>,
    pub roles: Vec<Role>,
    pub api_token_id: Option<Uuid>,
    pub context: RequestContext,
}

impl AuthUser {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn can(&self, permission: Permission) -> bool {
        roles_grant(&self.roles, permission)
    }

    /// The one place where a missing permission becomes a 403.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Browsers' EventSource and WebSocket cannot send headers: live streams and terminals (and only
/// they) take the access token from `?access_token=`. The request log records paths without
/// query strings.
fn stream_token(req: &HttpRequest) -> Option<String> {
    if !(req.path().ends_with("/events") || req.path().ends_with("/terminal")) {
        return None;
    }
    req.query_string()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "access_token")
        .map(|(_, v)| v.to_owned())
        .filter(|v| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

async fn authenticate(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<AuthUser> {
    let token = bearer(&req)
        .or_else(|| stream_token(&req))
        .ok_or(ApiError::Unauthenticated("a bearer token is required"))?;
    let context = RequestContext::of(&req, &state);
    let (user, api_token_id) = if token.starts_with(secrets::API_TOKEN_PREFIX) {
        let now = chrono::Utc::now();
        let row = api_tokens::Entity::find()
            .filter(api_tokens::Column::TokenHash.eq(secrets::digest(&token)))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .one(&state.db)
            .await?
            .filter(|t| t.expires_at.is_none_or(|e| e > now))
            .ok_or(ApiError::Unauthenticated(
                "the API token is invalid, expired or revoked",
            ))?;
        let user = users::Entity::find_by_id(row.user_id)
            .one(&state.db)
            .await?
            .map(Arc::new);
        // Recording use at most once a minute keeps automation from writing on every call.
        if row
            .last_used_at
            .is_none_or(|t| now - t > chrono::Duration::minutes(1))
        {
            let id = row.id;
            let mut active: api_tokens::ActiveModel = row.into();
            active.last_used_at = Set(Some(now));
            active.update(&state.db).await?;
            (user, Some(id))
        } else {
            (user, Some(row.id))
        }
    } else {
        let claims = state.jwt.verify(&token).ok_or(ApiError::Unauthenticated(
            "the access token is invalid or expired",
        ))?;
        let id: Uuid = claims
            .sub
            .parse()
            .map_err(|_| ApiError::Unauthenticated("the access token is invalid or expired"))?;
        // The user and whether their session is still open, in one query: signing out or a
        // replayed refresh token revokes the session's family, which ends this token at once.
        let open_session = Query::select()
            .expr(Expr::val(1))
            .from(refresh_tokens::Entity)
            .and_where(refresh_tokens::Column::FamilyId.eq(claims.sid))
            .and_where(refresh_tokens::Column::RevokedAt.is_null())
            .to_owned();
        let user = users::Entity::find_by_id(id)
            .filter(Expr::exists(open_session))
            .one(&state.db)
            .await?
            .filter(|u| u.session_version == claims.sv)
            .map(Arc::new);
        (user, None)
    };
    let user = user.filter(|u| u.active).ok_or(ApiError::Unauthenticated(
        "the account is inactive or the session has ended",
    ))?;
    let roles = parse_role_list(&user.roles).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("user {} has a bad role list: {e}", user.id))
    })?;
    Ok(AuthUser {
        user,
        roles,
        api_token_id,
        context,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            authenticate(state, req).await
        })
    }
}

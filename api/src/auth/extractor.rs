use super::secrets;
use crate::entities::{api_tokens, refresh_tokens, stream_tickets, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
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
    /// The browser session (refresh-token family) the caller signed in with, if any.
    pub session_id: Option<Uuid>,
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

/// Prefix of the single-use tickets that open a live stream or terminal.
pub const STREAM_TICKET_PREFIX: &str = "pvt_";

/// Whether `path` is one that browsers open without headers (EventSource, WebSocket).
pub fn is_stream_path(path: &str) -> bool {
    path.starts_with("/api/") && (path.ends_with("/events") || path.ends_with("/terminal"))
}

/// Browsers' EventSource and WebSocket cannot send headers: live streams and terminals (and only
/// they) take a single-use ticket from `?ticket=`, asked for by an authenticated POST just
/// before. A ticket in a proxy's log is already spent.
fn stream_ticket(req: &HttpRequest) -> Option<String> {
    if !is_stream_path(req.path()) {
        return None;
    }
    req.query_string()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "ticket")
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.starts_with(STREAM_TICKET_PREFIX) && v.len() <= 128)
}

/// Who a request speaks for, before the user row is read.
struct Credential {
    user_id: Uuid,
    session: Session,
}

enum Session {
    /// A browser session: its refresh-token family and the user's session version then, and
    /// whether it may only set up the second factor the policy asks for.
    Browser {
        family_id: Uuid,
        version: i32,
        enrol: bool,
    },
    ApiToken(Uuid),
}

const ENDED: &str = "the account is inactive or the session has ended";

/// What a session that must set up its second factor may still do.
const SET_UP_PATHS: [&str; 4] = [
    "/api/auth/me",
    "/api/auth/two-factor",
    "/api/auth/two-factor/confirm",
    "/api/auth/password",
];
const MUST_ENROL: &str = "your role signs in with a second factor: set it up on your profile page (Two-factor sign-in) first";

/// Spends a stream ticket: only the first request that deletes its row gets in, and only on
/// the path it was issued for, before it expires.
async fn spend_ticket(state: &AppState, req: &HttpRequest, ticket: &str) -> ApiResult<Credential> {
    const REFUSED: ApiError =
        ApiError::Unauthenticated("the ticket is invalid, used or expired; ask for a new one");
    let hash = secrets::digest(ticket);
    let row = stream_tickets::Entity::find_by_id(hash.clone())
        .one(&state.db)
        .await?
        .ok_or(REFUSED)?;
    let spent = stream_tickets::Entity::delete_many()
        .filter(stream_tickets::Column::TicketHash.eq(hash))
        .exec(&state.db)
        .await?;
    if spent.rows_affected != 1 || row.path != req.path() || row.expires_at <= chrono::Utc::now() {
        return Err(REFUSED);
    }
    let session = match (row.family_id, row.api_token_id) {
        // A live stream or terminal is never part of setting up a second factor.
        (Some(family_id), _) => Session::Browser {
            family_id,
            version: row.session_version,
            enrol: false,
        },
        (None, Some(token)) => Session::ApiToken(token),
        (None, None) => return Err(REFUSED),
    };
    Ok(Credential {
        user_id: row.user_id,
        session,
    })
}

async fn api_token_credential(state: &AppState, token: &str) -> ApiResult<Credential> {
    let now = chrono::Utc::now();
    let row = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(secrets::digest(token)))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .filter(|t| t.expires_at.is_none_or(|e| e > now))
        .ok_or(ApiError::Unauthenticated(
            "the API token is invalid, expired or revoked",
        ))?;
    // Recording use at most once a minute keeps automation from writing on every call.
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
            .filter(api_tokens::Column::Id.eq(row.id))
            .exec(&state.db)
            .await?;
    }
    Ok(Credential {
        user_id: row.user_id,
        session: Session::ApiToken(row.id),
    })
}

/// The user behind a credential, in one query with whether its session is still open: signing
/// out or a replayed refresh token revokes the family, revoking an API token ends it, a password
/// change bumps the session version; each ends every token of that session at once.
async fn user_of(state: &AppState, credential: &Credential) -> ApiResult<users::Model> {
    let still_open = match credential.session {
        Session::Browser { family_id, .. } => Query::select()
            .expr(Expr::val(1))
            .from(refresh_tokens::Entity)
            .and_where(refresh_tokens::Column::FamilyId.eq(family_id))
            .and_where(refresh_tokens::Column::RevokedAt.is_null())
            .to_owned(),
        Session::ApiToken(id) => Query::select()
            .expr(Expr::val(1))
            .from(api_tokens::Entity)
            .and_where(api_tokens::Column::Id.eq(id))
            .and_where(api_tokens::Column::RevokedAt.is_null())
            .cond_where(
                Condition::any()
                    .add(api_tokens::Column::ExpiresAt.is_null())
                    .add(api_tokens::Column::ExpiresAt.gt(chrono::Utc::now())),
            )
            .to_owned(),
    };
    users::Entity::find_by_id(credential.user_id)
        .filter(Expr::exists(still_open))
        .filter(users::Column::Active.eq(true))
        .one(&state.db)
        .await?
        .filter(|u| match credential.session {
            Session::Browser { version, .. } => u.session_version == version,
            Session::ApiToken(_) => true,
        })
        .ok_or(ApiError::Unauthenticated(ENDED))
}

async fn authenticate(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<AuthUser> {
    let credential = match bearer(&req) {
        Some(token) if token.starts_with(secrets::API_TOKEN_PREFIX) => {
            api_token_credential(&state, &token).await?
        }
        Some(token) => {
            let invalid = || ApiError::Unauthenticated("the access token is invalid or expired");
            let claims = state.jwt.verify(&token).ok_or_else(invalid)?;
            Credential {
                user_id: claims.sub.parse().map_err(|_| invalid())?,
                session: Session::Browser {
                    family_id: claims.sid,
                    version: claims.sv,
                    enrol: claims.enrol,
                },
            }
        }
        None => match stream_ticket(&req) {
            Some(ticket) => spend_ticket(&state, &req, &ticket).await?,
            None => return Err(ApiError::Unauthenticated("a bearer token is required")),
        },
    };
    let user = user_of(&state, &credential).await?;
    let roles = parse_role_list(&user.roles).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("user {} has a bad role list: {e}", user.id))
    })?;
    let (session_id, api_token_id) = match credential.session {
        Session::Browser { family_id, .. } => (Some(family_id), None),
        Session::ApiToken(id) => (None, Some(id)),
    };
    if matches!(credential.session, Session::Browser { enrol: true, .. })
        && !SET_UP_PATHS.contains(&req.path())
    {
        return Err(ApiError::ForbiddenBecause(MUST_ENROL));
    }
    Ok(AuthUser {
        user: Arc::new(user),
        roles,
        session_id,
        api_token_id,
        context: RequestContext::of(&req, &state),
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

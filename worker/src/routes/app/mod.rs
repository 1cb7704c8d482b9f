//! Signed-in users, `/api/v1/app/*` (seed 003, issue 14): a site's app
//! signs its user in with an identity JWT ([`session`]) and calls every
//! other route with the session token (`Authorization: Bearer ecs_…`),
//! read by the [`AppUser`] extractor.

pub mod complaints;
pub mod conversations;
pub mod csat;
pub mod devices;
pub mod diagnostics;
pub mod notification_settings;
pub mod session;
pub mod tickets;

use axum::extract::State;
use axum::Json;
use edgechat_shared::api::app::AppUserInfo;
use edgechat_shared::error::ErrorBody;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use worker::{D1Database, Env};

use crate::auth::{app_session, bearer_token};
use crate::db::sites::SiteRow;
use crate::db::{self, app_sessions};
use crate::error::{ApiError, ApiResult};
use crate::room::RoomContext;
use crate::routes::widget::check_origin;
use crate::routes::AppState;

/// Seconds a rate-limited user is told to wait (the limiters' period).
const RETRY_AFTER: u32 = 60;

/// The signed-in user of an `/api/v1/app/*` request.
///
/// Errors of the extractor: 401 `unauthorized` for a missing, unknown or
/// expired session token (and for one whose site rotated its identity
/// secret since); 403 `origin_not_allowed` from a page the site does not
/// allow, 403 `blocked` for a user the site's operators blocked; 429
/// `rate_limited` (with `Retry-After`) past 120 reads (`GET`) or 30 writes
/// a minute per user (`APP_READ_LIMITER`, `APP_WRITE_LIMITER` in
/// `wrangler.toml`; seed 003, "Error codes").
#[derive(Debug, Clone)]
pub struct AppUser {
    /// The user's site.
    pub site: SiteRow,
    /// The user's visitor id: the site's verified visitor of `user_id`.
    pub visitor_id: i64,
    /// The site's own id of the user.
    pub user_id: String,
    /// The SHA-256 (hex) of the request's session token.
    pub session_hash: String,
}

impl AppUser {
    /// The user's own conversation `id` as a Room context; 404 `not_found`
    /// for any other (another user's, another site's, an internal one).
    pub async fn conversation(&self, db: &D1Database, id: i64) -> ApiResult<RoomContext> {
        let owned = db
            .prepare("SELECT id FROM conversations WHERE id = ?1 AND visitor_id = ?2 AND site_id = ?3")
            .bind(&[db::int(id), db::int(self.visitor_id), db::int(self.site.id)])?
            .first::<i64>(Some("id"))
            .await?;
        match owned {
            Some(conversation_id) => Ok(RoomContext { conversation_id, site_id: Some(self.site.id), account_id: self.site.account_id }),
            None => Err(ApiError::not_found("conversation")),
        }
    }
}

impl FromRequestParts<AppState> for AppUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)
            .filter(|t| t.starts_with(app_session::PREFIX))
            .ok_or_else(|| ApiError::unauthorized("An app session token is required (POST /api/v1/app/session)"))?
            .to_string();
        let write = !matches!(parts.method, Method::GET | Method::HEAD);
        let env = state.env.clone();
        let headers = parts.headers.clone();
        worker::send::SendFuture::new(async move {
            let session_hash = app_session::token_hash(&token);
            let holder = app_sessions::holder(&db::database(&env)?, &session_hash)
                .await?
                .ok_or_else(|| ApiError::unauthorized("The app session token is unknown or expired"))?;
            check_origin(&holder.site, &headers)?;
            rate_limit(&env, holder.visitor_id, write).await?;
            if holder.blocked_at.is_some() {
                return Err(ApiError::blocked());
            }
            Ok(AppUser { site: holder.site, visitor_id: holder.visitor_id, user_id: holder.user_id, session_hash })
        })
        .await
    }
}

/// Counts a request of user `visitor_id`; 429 `rate_limited` past the limit.
async fn rate_limit(env: &Env, visitor_id: i64, write: bool) -> ApiResult<()> {
    let binding = if write { "APP_WRITE_LIMITER" } else { "APP_READ_LIMITER" };
    if env.rate_limiter(binding)?.limit(format!("app:{visitor_id}")).await?.success {
        Ok(())
    } else {
        Err(ApiError::rate_limited(RETRY_AFTER))
    }
}

/// Handles `GET /api/v1/app/me`: who the session token signs in.
#[utoipa::path(
    get,
    path = "/api/v1/app/me",
    tag = "app",
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The signed-in user, with the name and email the site gave", body = AppUserInfo),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_me(State(state): State<AppState>, user: AppUser) -> ApiResult<Json<AppUserInfo>> {
    #[derive(serde::Deserialize)]
    struct Details {
        name: Option<String>,
        email: Option<String>,
    }
    let db = db::database(&state.env)?;
    let details = db
        .prepare("SELECT name, email FROM visitors WHERE id = ?1 AND site_id = ?2")
        .bind(&[db::int(user.visitor_id), db::int(user.site.id)])?
        .first::<Details>(None)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The app session's user no longer exists"))?;
    Ok(Json(AppUserInfo { user_id: user.user_id, name: details.name, email: details.email }))
}

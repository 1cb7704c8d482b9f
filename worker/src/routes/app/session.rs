//! `POST /api/v1/app/session` and `DELETE /api/v1/app/session`: signing a
//! site's user in with the identity JWT its backend minted, and out.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::app::{AppSession, AppUserInfo, SessionRequest, SESSION_SECONDS};
use edgechat_shared::error::ErrorBody;
use edgechat_shared::validate;

use super::AppUser;
use crate::auth::{app_session, bearer_token, now_secs, rfc3339};
use crate::db::{self, app_sessions, visitors};
use crate::error::{ApiError, ApiResult};
use crate::routes::widget::{load_site, Caller, Limit};
use crate::routes::{json_object, AppState};

/// Handles `POST /api/v1/app/session` (seed 003's session, issue 14):
/// verifies the identity JWT with the site's identity secret and answers a
/// session token for the user (created on first sign-in: the same user the
/// widget's `user_hash` identity reaches). The JWT's valid `email` and
/// `name` are stored on the user for operators. Nothing is stored for a
/// refused token.
#[utoipa::path(
    post,
    path = "/api/v1/app/session",
    tag = "app",
    request_body = SessionRequest,
    responses(
        (status = 201, description = "Signed in: the session token for `Authorization: Bearer`, valid 12 hours", body = AppSession),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: the identity JWT is not HS256 with this site's identity secret (`alg: none`, another site's secret), lacks `exp`, `iat` or `sub`, has expired, expires more than an hour ahead, or is issued in the future", body = ErrorBody),
        (status = 403, description = "`origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key`, empty or oversized `token`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 sign-ins a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_session(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<AppSession>)> {
    let request: SessionRequest = json_object(&body)?;
    request.validate()?;
    let site = load_site(&state.env, &caller, Limit::Write("app_session"), &request.site_key).await?;
    let now = now_secs();
    let claims = app_session::verify_identity(&request.token, &site.identity_secret, now)?;
    let db = db::database(&state.env)?;
    let visitor_id = visitors::verified_visitor(&db, site.id, &claims.sub).await?;
    let email = claims.email.as_deref().filter(|e| validate::email(e).is_ok());
    let name = claims.name.as_deref().filter(|n| validate::display_name("name", n).is_ok());
    if email.is_some() || name.is_some() {
        if let Some(conversation_id) = visitors::set_visitor_details(&db, visitor_id, email, name).await? {
            crate::events::spawn_publish(&state.env, conversation_id);
        }
    }
    let token = app_session::generate();
    let expires_at = rfc3339(now + SESSION_SECONDS);
    app_sessions::create(&db, site.id, visitor_id, &app_session::token_hash(&token), &expires_at).await?;
    let user = AppUserInfo { user_id: claims.sub, name: name.map(str::to_string), email: email.map(str::to_string) };
    Ok((StatusCode::CREATED, Json(AppSession { token, expires_at, user })))
}

/// The presented session token, for signing out.
pub struct SessionToken(String);

impl<S: Send + Sync> FromRequestParts<S> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        bearer_token(parts).map(|t| SessionToken(t.to_string())).ok_or_else(|| ApiError::unauthorized("An app session token is required"))
    }
}

/// Handles `DELETE /api/v1/app/session`: signs the user out; the token
/// stops working at once (the app calls it on logout).
#[utoipa::path(
    delete,
    path = "/api/v1/app/session",
    tag = "app",
    security(("app_session" = [])),
    responses(
        (status = 204, description = "Signed out: the token is refused from now on"),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn delete_session(State(state): State<AppState>, _user: AppUser, token: SessionToken) -> ApiResult<StatusCode> {
    app_sessions::delete(&db::database(&state.env)?, &app_session::token_hash(&token.0)).await?;
    Ok(StatusCode::NO_CONTENT)
}

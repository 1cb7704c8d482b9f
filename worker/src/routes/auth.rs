//! `/auth/*` (seed 002, "Auth"): signup, login, refresh, logout, me,
//! profile, change-password.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use edgechat_shared::api::auth::{
    ChangePasswordRequest, LoginRequest, LogoutRequest, MeResponse, Operator, OperatorRole, ProfileUpdate, RefreshRequest, SessionEnd,
    SignupRequest, SignupResponse, TokenResponse, ACCESS_TOKEN_SECONDS,
};
use edgechat_shared::api::sites::SiteInput;
use edgechat_shared::error::{ErrorBody, FieldError};
use edgechat_shared::validate;
use serde_json::{json, Value};
use worker::D1Database;

use super::{json_object, public_origin, AppState};
use crate::auth::{jwt, now_secs, password, refresh, CurrentOperator};
use crate::db;
use crate::db::users::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::inbox::EndSessions;
use crate::openapi::SuccessAnswer;

/// Seconds a rate-limited client is told to wait (the limiter's period).
const LOGIN_RETRY_AFTER: u32 = 60;

/// An access token and `refresh_token` for `user`.
async fn tokens(db: &D1Database, secret: &str, user: &UserRow, refresh_token: String) -> ApiResult<TokenResponse> {
    let account = users::account(db, user.account_id).await?.ok_or_else(|| ApiError::not_found("account"))?;
    Ok(TokenResponse {
        access_token: jwt::issue(secret, user.id, user.account_id, user.role, user.token_version, now_secs())?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token,
        user: user.to_operator(),
        account,
    })
}

/// Handles the `POST /auth/signup` route: a new account, its owner and a
/// first site. 201 [`SignupResponse`]; 422 invalid fields; 409 email taken.
#[utoipa::path(
    post,
    path = "/auth/signup",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The new account's owner, logged in, and its first site", body = SignupResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 409, description = "`conflict`: an operator with this email exists", body = ErrorBody),
        (status = 422, description = "`validation_error`: an invalid email, name or password (at least 8 characters)", body = ErrorBody),
        (status = 503, description = "`not_ready`: `JWT_SECRET` is not configured", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_signup(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SignupResponse>)> {
    let secret = jwt::secret(&state.env)?;
    let request: SignupRequest = json_object(&body)?;
    request.validate()?;
    let db = db::database(&state.env)?;
    let taken = || ApiError::conflict("An operator with this email already exists");
    if users::user_by_email(&db, &request.email).await?.is_some() {
        return Err(taken());
    }
    let hash = password::hash(&request.password).await?;
    let account_name = request.account_name.as_deref().unwrap_or(&request.name).trim();
    let account_id = users::insert_account(&db, account_name).await?;
    let Some(user) = users::insert_user(&db, account_id, &request.email, &request.name, OperatorRole::Owner, &hash).await? else {
        // A concurrent signup took the email between the check and the insert.
        users::delete_account(&db, account_id).await?;
        return Err(taken());
    };
    let site_name = request.site_name.as_deref().unwrap_or("My website");
    let site = db::sites::insert_site(&db, account_id, site_name, &SiteInput::default()).await?;
    let refresh_token = refresh::issue(&db, user.id, None).await?;
    let tokens = tokens(&db, &secret, &user, refresh_token).await?;
    let site = site.to_site(&public_origin(&uri, &headers), true);
    Ok((StatusCode::CREATED, Json(SignupResponse { tokens, site })))
}

/// Counts a login attempt against the per-email and per-IP limiters
/// (`[[ratelimits]]` in `wrangler.toml`); 429 with `Retry-After` past either.
async fn limit_login(state: &AppState, headers: &HeaderMap, email: &str) -> ApiResult<()> {
    let ip = headers.get("cf-connecting-ip").and_then(|v| v.to_str().ok()).unwrap_or("unknown");
    let by_email = state.env.rate_limiter("LOGIN_EMAIL_LIMITER")?.limit(format!("email:{}", email.to_lowercase())).await?;
    let by_ip = state.env.rate_limiter("LOGIN_IP_LIMITER")?.limit(format!("ip:{ip}")).await?;
    if by_email.success && by_ip.success {
        Ok(())
    } else {
        Err(ApiError::rate_limited(LOGIN_RETRY_AFTER))
    }
}

/// Handles the `POST /auth/login` route: 200 [`TokenResponse`]. A wrong
/// password and an unknown email answer the same 401; too many attempts 429.
#[utoipa::path(
    post,
    path = "/auth/login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "An access token (15 minutes) and a refresh token (30 days)", body = TokenResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: wrong email or password (the same answer for both)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts for this email or from this IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "`not_ready`: `JWT_SECRET` is not configured", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Json<TokenResponse>> {
    let secret = jwt::secret(&state.env)?;
    let request: LoginRequest = json_object(&body)?;
    limit_login(&state, &headers, &request.email).await?;
    let db = db::database(&state.env)?;
    let user = users::user_by_email(&db, &request.email).await?;
    // Unknown emails still pay for one hash, so timing does not tell them apart.
    let stored = user.as_ref().map_or(password::DUMMY_HASH, |u| u.password_hash.as_str());
    let matches = password::verify(&request.password, stored).await?;
    let user = user.filter(|_| matches).ok_or_else(|| ApiError::unauthorized("Invalid email or password"))?;
    let refresh_token = refresh::issue(&db, user.id, None).await?;
    Ok(Json(tokens(&db, &secret, &user, refresh_token).await?))
}

/// Handles the `POST /auth/refresh` route: exchanges a refresh token for a
/// new access token and a new refresh token. 401 for an invalid token; a
/// reused (already rotated) token also revokes its whole family.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and a new refresh token; the one sent is used up", body = TokenResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: an unknown, expired or revoked refresh token (a reused one also revokes its family)", body = ErrorBody),
        (status = 503, description = "`not_ready`: `JWT_SECRET` is not configured", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_refresh(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<TokenResponse>> {
    let secret = jwt::secret(&state.env)?;
    let request: RefreshRequest = json_object(&body)?;
    let db = db::database(&state.env)?;
    let (refresh_token, user_id) = refresh::rotate(&db, &request.refresh_token).await?;
    let user = users::user_by_id(&db, user_id).await?.ok_or_else(|| ApiError::unauthorized("This operator no longer exists"))?;
    // After reading the token version: a session ended meanwhile gets nothing.
    refresh::confirm(&db, &refresh_token).await?;
    Ok(Json(tokens(&db, &secret, &user, refresh_token).await?))
}

/// Handles the `POST /auth/logout` route: revokes the refresh token, 200
/// `{"success":true}`, also for a token already revoked. With `"all": true`
/// it ends every session of the token's operator (issue 10): revokes all
/// their refresh tokens, refuses their access tokens and closes their
/// live sockets (4001); 401 unless the refresh token is still in use.
#[utoipa::path(
    post,
    path = "/auth/logout",
    request_body = LogoutRequest,
    responses(
        (status = 200, description = "The refresh token is revoked (also when it already was); with `all`, every session of its operator ended", body = SuccessAnswer),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: with `all`, a refresh token that is not in use", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_logout(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let request: LogoutRequest = json_object(&body)?;
    let db = db::database(&state.env)?;
    if !request.all {
        refresh::revoke(&db, &request.refresh_token).await?;
        return Ok(Json(json!({"success": true})));
    }
    let user_id = refresh::revoke_all(&db, &request.refresh_token).await?;
    let user = users::user_by_id(&db, user_id).await?.ok_or_else(|| ApiError::unauthorized("This operator no longer exists"))?;
    end_sessions(&state, &db, &user, SessionEnd::LoggedOutEverywhere).await?;
    Ok(Json(json!({"success": true})))
}

/// Refuses every access token `user` holds (a new token version) and closes their live sockets with `why`.
async fn end_sessions(state: &AppState, db: &D1Database, user: &UserRow, why: SessionEnd) -> ApiResult<()> {
    let version = users::bump_token_version(db, user.id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    EndSessions { user_id: user.id, version_floor: Some(version), why }.send(&state.env, user.account_id).await?;
    Ok(())
}

/// Handles the `GET /auth/me` route: the caller and their account.
#[utoipa::path(
    get,
    path = "/auth/me",
    responses(
        (status = 200, description = "The caller and their account", body = MeResponse),
        (status = 404, description = "`not_found`: the operator or account is gone", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_me(State(state): State<AppState>, operator: CurrentOperator) -> ApiResult<Json<MeResponse>> {
    let db = db::database(&state.env)?;
    let user = users::user(&db, operator.account_id, operator.id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    let account = users::account(&db, operator.account_id).await?.ok_or_else(|| ApiError::not_found("account"))?;
    Ok(Json(MeResponse { user: user.to_operator(), account }))
}

/// Handles the `PATCH /auth/profile` route: display name, avatar URL (https,
/// `""` removes it) and IANA time zone. 200 [`Operator`]; 422 invalid fields.
#[utoipa::path(
    patch,
    path = "/auth/profile",
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The caller, updated", body = Operator),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: the operator is gone", body = ErrorBody),
        (status = 422, description = "`validation_error`: an invalid display name, avatar URL (https) or time zone", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_profile(State(state): State<AppState>, operator: CurrentOperator, body: Bytes) -> ApiResult<Json<Operator>> {
    let update: ProfileUpdate = json_object(&body)?;
    update.validate()?;
    let db = db::database(&state.env)?;
    let avatar = update.avatar_url.as_deref().map(|url| Some(url).filter(|u| !u.is_empty()));
    let display_name = update.display_name.as_deref().map(str::trim);
    let user = users::update_profile(&db, operator.id, display_name, update.timezone.as_deref(), avatar)
        .await?
        .ok_or_else(|| ApiError::not_found("operator"))?;
    Ok(Json(user.to_operator()))
}

/// Handles the `POST /auth/change-password` route: needs the current
/// password (422 when wrong), sets the new one (≥ 8 characters), revokes
/// every refresh token of the user but the `refresh_token` given, refuses
/// every access token issued before (the caller's too: they refresh) and
/// closes the user's live sockets (4001, issue 10).
#[utoipa::path(
    post,
    path = "/auth/change-password",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "The new password is set; every other refresh token of the caller is revoked, every access token issued before is refused and their live sockets close (4001)", body = SuccessAnswer),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: the operator is gone", body = ErrorBody),
        (status = 422, description = "`validation_error`: `current_password` is wrong, or `new_password` is shorter than 8 characters", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_change_password(State(state): State<AppState>, operator: CurrentOperator, body: Bytes) -> ApiResult<Json<Value>> {
    let request: ChangePasswordRequest = json_object(&body)?;
    validate::password(&request.new_password)
        .map_err(|e| FieldError::new("new_password", e.message.replace("password", "new_password")))?;
    let db = db::database(&state.env)?;
    let user = users::user(&db, operator.account_id, operator.id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    if !password::verify(&request.current_password, &user.password_hash).await? {
        return Err(FieldError::new("current_password", "current_password is not this operator's password").into());
    }
    let hash = password::hash(&request.new_password).await?;
    // Revoke before the version moves, so a refresh racing this change ends
    // with either an old-version access token or none (`refresh::confirm`).
    refresh::revoke_others(&db, user.id, request.refresh_token.as_deref()).await?;
    let version = users::set_password(&db, user.id, &hash).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    EndSessions { user_id: user.id, version_floor: Some(version), why: SessionEnd::PasswordChanged }
        .send(&state.env, user.account_id)
        .await?;
    Ok(Json(json!({"success": true})))
}

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
use crate::auth::refresh_cookie::{self, SetCookie};
use crate::auth::{jwt, now_secs, password, refresh, CurrentOperator};
use crate::db;
use crate::db::users::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::inbox::EndSessions;
use crate::openapi::SuccessAnswer;

/// Seconds a rate-limited client is told to wait (the limiter's period).
const LOGIN_RETRY_AFTER: u32 = 60;

/// Where a client holds its refresh token, and so where a new one goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// In the answer's `refresh_token` (API clients).
    Body,
    /// In the `ec_refresh` cookie, never in a body (the console: issue 11).
    Cookie,
}

impl Holder {
    /// [`Holder::Cookie`] when the request asks for it (`"refresh_cookie": true`).
    ///
    /// Errors: 403 `forbidden` when the cookie is asked for from another
    /// origin than the worker's (login CSRF: another site must not sign a
    /// browser in to an account of its choosing).
    fn asked(refresh_cookie: bool, uri: &Uri, headers: &HeaderMap) -> ApiResult<Holder> {
        if !refresh_cookie {
            return Ok(Holder::Body);
        }
        refresh_cookie::check_same_origin(&public_origin(uri, headers), headers)?;
        Ok(Holder::Cookie)
    }
}

/// The refresh token a request presents: its body's `refresh_token` when
/// given, else its `ec_refresh` cookie's.
#[derive(Debug)]
struct Presented {
    token: Option<String>,
    holder: Holder,
}

impl Presented {
    /// Errors: 403 `forbidden` when the cookie's token comes from another
    /// origin than the worker's (CSRF); nothing is then used.
    fn of(body_token: Option<String>, uri: &Uri, headers: &HeaderMap) -> ApiResult<Presented> {
        if body_token.is_some() {
            return Ok(Presented { token: body_token, holder: Holder::Body });
        }
        let token = refresh_cookie::token(headers);
        if token.is_some() {
            refresh_cookie::check_same_origin(&public_origin(uri, headers), headers)?;
        }
        Ok(Presented { token, holder: Holder::Cookie })
    }
}

/// An access token for `user`, and `refresh_token` where `holder` keeps it:
/// in the answer, or in a `Set-Cookie` with no `refresh_token` in the answer.
async fn tokens(
    db: &D1Database,
    secret: &str,
    user: &UserRow,
    refresh_token: String,
    holder: Holder,
) -> ApiResult<(SetCookie, TokenResponse)> {
    let account = users::account(db, user.account_id).await?.ok_or_else(|| ApiError::not_found("account"))?;
    let (cookie, refresh_token) = match holder {
        Holder::Body => (SetCookie::none(), Some(refresh_token)),
        Holder::Cookie => (SetCookie::token(&refresh_token), None),
    };
    let tokens = TokenResponse {
        access_token: jwt::issue(secret, user.id, user.account_id, user.role, user.token_version, now_secs())?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token,
        user: user.to_operator(),
        account,
    };
    Ok((cookie, tokens))
}

/// Handles the `POST /auth/signup` route: a new account, its owner and a
/// first site. 201 [`SignupResponse`]; 422 invalid fields; 409 email taken;
/// 429 past 30 signups and logins a minute from one IP (`LOGIN_IP_LIMITER`);
/// with `"refresh_cookie": true` the refresh token is set in the `ec_refresh`
/// cookie instead of the body (403 from another origin).
#[utoipa::path(
    post,
    path = "/auth/signup",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The new account's owner, logged in, and its first site; with `refresh_cookie`, the refresh token is in the cookie and not in the body", body = SignupResponse, headers(("Set-Cookie" = String, description = "With `refresh_cookie` only: `ec_refresh=<refresh token>; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=2592000`"))),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: `refresh_cookie` asked from another origin than this server's (`Origin`, `Sec-Fetch-Site`); nothing is created", body = ErrorBody),
        (status = 409, description = "`conflict`: an operator with this email exists", body = ErrorBody),
        (status = 422, description = "`validation_error`: an invalid email, name or password (at least 8 characters)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many signups and logins from this IP (30 a minute, counted with the logins); nothing is created", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "`not_ready`: `JWT_SECRET` is not configured", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_signup(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, SetCookie, Json<SignupResponse>)> {
    let secret = jwt::secret(&state.env)?;
    let request: SignupRequest = json_object(&body)?;
    request.validate()?;
    let holder = Holder::asked(request.refresh_cookie, &uri, &headers)?;
    // Each signup costs a password hash and tells whether an email is
    // taken (409): both are bounded per IP with the logins.
    if !ip_attempt(&state, &headers).await? {
        return Err(ApiError::rate_limited(LOGIN_RETRY_AFTER));
    }
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
    let (cookie, tokens) = tokens(&db, &secret, &user, refresh_token, holder).await?;
    let site = site.to_site(&public_origin(&uri, &headers), true);
    Ok((StatusCode::CREATED, cookie, Json(SignupResponse { tokens, site })))
}

/// Counts a login attempt against the per-email and per-IP limiters
/// (`[[ratelimits]]` in `wrangler.toml`); 429 with `Retry-After` past either.
async fn limit_login(state: &AppState, headers: &HeaderMap, email: &str) -> ApiResult<()> {
    let by_email = email_attempt(state, email).await?;
    if by_email && ip_attempt(state, headers).await? {
        Ok(())
    } else {
        Err(ApiError::rate_limited(LOGIN_RETRY_AFTER))
    }
}

/// Counts an invitation of an operator by account `account_id` (`POST
/// /v1/users`: a password hash, and a 409 that tells whether an email is
/// taken in any account) against the login limiter, under the account's own
/// key: 30 a minute; 429 past it.
pub(crate) async fn limit_invites(state: &AppState, account_id: i64) -> ApiResult<()> {
    if attempt(state, "LOGIN_IP_LIMITER", format!("account:{account_id}")).await? {
        Ok(())
    } else {
        Err(ApiError::rate_limited(LOGIN_RETRY_AFTER))
    }
}

/// Counts one attempt under `key` against the rate limiter binding
/// `limiter` (`[[ratelimits]]` in `wrangler.toml`); answers whether it is
/// within the limit.
async fn attempt(state: &AppState, limiter: &str, key: String) -> ApiResult<bool> {
    Ok(state.env.rate_limiter(limiter)?.limit(key).await?.success)
}

/// Counts a credentials request (a login, a signup) against the per-IP
/// login limiter (`cf-connecting-ip`); answers whether it is within the limit.
async fn ip_attempt(state: &AppState, headers: &HeaderMap) -> ApiResult<bool> {
    let ip = headers.get("cf-connecting-ip").and_then(|v| v.to_str().ok()).unwrap_or("unknown");
    attempt(state, "LOGIN_IP_LIMITER", format!("ip:{ip}")).await
}

/// Counts an attempt at `email`'s password against the per-email login
/// limiter; answers whether it is within the limit.
async fn email_attempt(state: &AppState, email: &str) -> ApiResult<bool> {
    attempt(state, "LOGIN_EMAIL_LIMITER", format!("email:{}", email.to_lowercase())).await
}

/// Handles the `POST /auth/login` route: 200 [`TokenResponse`]. A wrong
/// password and an unknown email answer the same 401; too many attempts 429.
/// With `"refresh_cookie": true` the refresh token is set in the
/// `ec_refresh` cookie instead of the body (403 from another origin).
#[utoipa::path(
    post,
    path = "/auth/login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "An access token (15 minutes) and a refresh token (30 days); with `refresh_cookie`, the refresh token is in the cookie and not in the body", body = TokenResponse, headers(("Set-Cookie" = String, description = "With `refresh_cookie` only: `ec_refresh=<refresh token>; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=2592000`"))),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: wrong email or password (the same answer for both)", body = ErrorBody),
        (status = 403, description = "`forbidden`: `refresh_cookie` asked from another origin than this server's (`Origin`, `Sec-Fetch-Site`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts for this email or from this IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 503, description = "`not_ready`: `JWT_SECRET` is not configured", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_login(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(SetCookie, Json<TokenResponse>)> {
    let secret = jwt::secret(&state.env)?;
    let request: LoginRequest = json_object(&body)?;
    let holder = Holder::asked(request.refresh_cookie, &uri, &headers)?;
    limit_login(&state, &headers, &request.email).await?;
    let db = db::database(&state.env)?;
    let user = users::user_by_email(&db, &request.email).await?;
    // Unknown emails still pay for one hash, so timing does not tell them apart.
    let stored = user.as_ref().map_or(password::DUMMY_HASH, |u| u.password_hash.as_str());
    let matches = password::verify(&request.password, stored).await?;
    let user = user.filter(|_| matches).ok_or_else(|| ApiError::unauthorized("Invalid email or password"))?;
    let refresh_token = refresh::issue(&db, user.id, None).await?;
    let (cookie, tokens) = tokens(&db, &secret, &user, refresh_token, holder).await?;
    Ok((cookie, Json(tokens)))
}

/// Handles the `POST /auth/refresh` route: exchanges a refresh token for a
/// new access token and a new refresh token. 401 for an invalid token; a
/// reused (already rotated) token also revokes its whole family.
///
/// The token is the body's `refresh_token`, else the `ec_refresh` cookie's
/// (the body may then be `{}` or empty). The new one goes where the old one
/// was (with `"refresh_cookie": true`, into the cookie). A request using or
/// setting the cookie must come from this server's own origin (`Origin`, or
/// `Sec-Fetch-Site: same-origin`): 403 otherwise, and nothing is rotated.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    request_body(content = Option<RefreshRequest>, description = "Optional with the `ec_refresh` cookie: an empty body or `{}` uses the cookie's token"),
    responses(
        (status = 200, description = "A new access token and a new refresh token; the one sent is used up. In cookie mode the new refresh token is only in the cookie", body = TokenResponse, headers(("Set-Cookie" = String, description = "In cookie mode (the cookie's token, or `refresh_cookie`): `ec_refresh=<new refresh token>; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=2592000`"))),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no refresh token, or an unknown, expired or revoked one (a reused one also revokes its family)", body = ErrorBody),
        (status = 403, description = "`forbidden`: the cookie used or asked for from another origin than this server's (CSRF); nothing is rotated", body = ErrorBody),
        (status = 503, description = "`not_ready`: `JWT_SECRET` is not configured", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_refresh(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(SetCookie, Json<TokenResponse>)> {
    let secret = jwt::secret(&state.env)?;
    let request: RefreshRequest = if body.is_empty() { RefreshRequest::default() } else { json_object(&body)? };
    let presented = Presented::of(request.refresh_token, &uri, &headers)?;
    let holder = match presented.holder {
        Holder::Body => Holder::asked(request.refresh_cookie, &uri, &headers)?,
        Holder::Cookie => Holder::Cookie,
    };
    let token = presented.token.ok_or_else(|| ApiError::unauthorized("No refresh token: send refresh_token or the ec_refresh cookie"))?;
    let db = db::database(&state.env)?;
    let (refresh_token, user_id) = refresh::rotate(&db, &token).await?;
    let user = users::user_by_id(&db, user_id).await?.ok_or_else(|| ApiError::unauthorized("This operator no longer exists"))?;
    // After reading the token version: a session ended meanwhile gets nothing.
    refresh::confirm(&db, &refresh_token).await?;
    let (cookie, tokens) = tokens(&db, &secret, &user, refresh_token, holder).await?;
    Ok((cookie, Json(tokens)))
}

/// Handles the `POST /auth/logout` route: revokes the refresh token, 200
/// `{"success":true}`, also for a token already revoked. With `"all": true`
/// it ends every session of the token's operator (issue 10): revokes all
/// their refresh tokens, refuses their access tokens and closes their
/// live sockets (4001); 401 unless the refresh token is still in use.
///
/// The token is the body's `refresh_token`, else the `ec_refresh` cookie's
/// (the body may then be `{}` or empty), and the answer then clears the
/// cookie. Using the cookie from another origin than this server's is 403,
/// and nothing is revoked.
#[utoipa::path(
    post,
    path = "/auth/logout",
    request_body(content = Option<LogoutRequest>, description = "Optional with the `ec_refresh` cookie: an empty body or `{}` logs out the cookie's session"),
    responses(
        (status = 200, description = "The refresh token is revoked (also when it already was); with `all`, every session of its operator ended", body = SuccessAnswer, headers(("Set-Cookie" = String, description = "Without `refresh_token` in the body: `ec_refresh=; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=0`, which deletes the cookie"))),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: with `all`, a refresh token that is not in use", body = ErrorBody),
        (status = 403, description = "`forbidden`: the cookie used from another origin than this server's (CSRF); nothing is revoked", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_logout(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> ApiResult<(SetCookie, Json<Value>)> {
    let request: LogoutRequest = if body.is_empty() { LogoutRequest::default() } else { json_object(&body)? };
    let presented = Presented::of(request.refresh_token, &uri, &headers)?;
    let cookie = match presented.holder {
        Holder::Body => SetCookie::none(),
        Holder::Cookie => SetCookie::clear(),
    };
    let token = presented.token.unwrap_or_default();
    let db = db::database(&state.env)?;
    if !request.all {
        refresh::revoke(&db, &token).await?;
        return Ok((cookie, Json(json!({"success": true}))));
    }
    let user_id = refresh::revoke_all(&db, &token).await?;
    let user = users::user_by_id(&db, user_id).await?.ok_or_else(|| ApiError::unauthorized("This operator no longer exists"))?;
    end_sessions(&state, &db, &user, SessionEnd::LoggedOutEverywhere).await?;
    Ok((cookie, Json(json!({"success": true}))))
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
    let timezone = update.timezone.as_deref().map(crate::timezone::canonical).transpose()?;
    let db = db::database(&state.env)?;
    let avatar = update.avatar_url.as_deref().map(|url| Some(url).filter(|u| !u.is_empty()));
    let display_name = update.display_name.as_deref().map(str::trim);
    let user = users::update_profile(&db, operator.id, display_name, timezone.as_deref(), avatar)
        .await?
        .ok_or_else(|| ApiError::not_found("operator"))?;
    Ok(Json(user.to_operator()))
}

/// Handles the `POST /auth/change-password` route: needs the current
/// password (422 when wrong; each attempt counts as a login of the
/// operator's email, 429 past 10 a minute), sets the new one (≥ 8 characters), revokes
/// every refresh token of the user but the `refresh_token` given (without
/// one, the `ec_refresh` cookie's: 403 from another origin, nothing
/// changed), refuses every access token issued before (the caller's too:
/// they refresh) and closes the user's live sockets (4001, issue 10).
#[utoipa::path(
    post,
    path = "/auth/change-password",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "The new password is set; every other refresh token of the caller is revoked, every access token issued before is refused and their live sockets close (4001)", body = SuccessAnswer),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: without `refresh_token`, the `ec_refresh` cookie sent from another origin than this server's (CSRF); nothing is changed", body = ErrorBody),
        (status = 404, description = "`not_found`: the operator is gone", body = ErrorBody),
        (status = 422, description = "`validation_error`: `current_password` is wrong, or `new_password` is shorter than 8 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts for this operator's email (they count with its logins, 10 a minute); nothing is changed", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_change_password(
    State(state): State<AppState>,
    operator: CurrentOperator,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let request: ChangePasswordRequest = json_object(&body)?;
    let kept = Presented::of(request.refresh_token, &uri, &headers)?.token;
    validate::password(&request.new_password)
        .map_err(|e| FieldError::new("new_password", e.message.replace("password", "new_password")))?;
    let db = db::database(&state.env)?;
    let user = users::user(&db, operator.account_id, operator.id).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    // A guess of the current password counts as a login attempt for the
    // email: a stolen access token does not buy unlimited guesses.
    if !email_attempt(&state, &user.email).await? {
        return Err(ApiError::rate_limited(LOGIN_RETRY_AFTER));
    }
    if !password::verify(&request.current_password, &user.password_hash).await? {
        return Err(FieldError::new("current_password", "current_password is not this operator's password").into());
    }
    let hash = password::hash(&request.new_password).await?;
    // Revoke before the version moves, so a refresh racing this change ends
    // with either an old-version access token or none (`refresh::confirm`).
    refresh::revoke_others(&db, user.id, kept.as_deref()).await?;
    let version = users::set_password(&db, user.id, &hash).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    EndSessions { user_id: user.id, version_floor: Some(version), why: SessionEnd::PasswordChanged }
        .send(&state.env, user.account_id)
        .await?;
    Ok(Json(json!({"success": true})))
}

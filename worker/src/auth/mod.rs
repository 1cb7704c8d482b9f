//! Operator authentication (seed 002, `/auth/*`; ARCHITECTURE.md, security
//! model): password hashing, access JWTs, rotating refresh tokens, account
//! API keys (issue 13), and the [`CurrentOperator`] extractor every `/v1`
//! handler takes ([`Credential`] where a handler checks the operator in
//! one D1 batch with its own first reads).

pub mod api_key;
pub mod app_session;
pub mod jwt;
pub mod jwt_crypto;
pub mod password;
pub mod refresh;
pub mod refresh_cookie;
pub mod signing;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::Method;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::integrations::ApiKeyScope;

use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::db::users::SessionClaims;
use crate::db::{self, api_keys, users};
use crate::error::{ApiError, ApiResult};
use crate::routes::AppState;

/// `n` random bytes from the platform's CSPRNG (`crypto.getRandomValues`), as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).expect("the Workers runtime provides crypto.getRandomValues");
    hex::encode(bytes)
}

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Unix seconds as RFC 3339 UTC with milliseconds (`2025-01-01T00:00:00.000Z`),
/// the form D1 stores times in.
pub fn rfc3339(secs: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0)).to_iso_string().into()
}

/// The authenticated operator of a `/v1` request, loaded fresh from D1 so
/// that a removed operator or a changed role takes effect at once: the
/// token's user id, account and token version (claim `ver`) must all match
/// the stored operator, so a token issued before a password change, a logout
/// from everywhere or a role change is refused although not expired.
///
/// An account API key (`Authorization: Bearer eck_…`, issue 13) is accepted
/// on the `/v1` routes only (never `/auth/*`; the widget API does not take
/// this extractor). It acts as the operator who created it with role at most
/// agent (so [`CurrentOperator::require`] of admin refuses it), and its scope
/// follows the HTTP method: `GET`/`HEAD` need `read`, anything else `write`.
/// A revoked key, or one whose creator was removed, is refused at once (one
/// D1 statement looks it up and stamps its `last_used_at`).
///
/// Errors: 401 `unauthorized` for a missing, malformed, expired, forged or
/// revoked token or key, a removed operator, or a key outside `/v1`;
/// 403 `forbidden` for a key without the method's scope; 503 `not_ready`
/// without a configured `JWT_SECRET`.
#[derive(Debug, Clone)]
pub struct CurrentOperator {
    /// User id.
    pub id: i64,
    /// Account id: every query of the request is scoped to it.
    pub account_id: i64,
    /// Display name, shown on the operator's messages.
    pub display_name: String,
    /// The token version of the operator's valid access tokens (`users.token_version`).
    pub token_version: i64,
    /// The API key the request came with (`None`: a signed-in operator's JWT).
    pub api_key_id: Option<i64>,
    /// When the access JWT the request came with expires (its `exp`, Unix
    /// seconds); `None` for an API key.
    pub session_expires_at: Option<i64>,
    role: OperatorRole,
}

impl CurrentOperator {
    /// The operator's current role.
    pub fn role(&self) -> OperatorRole {
        self.role
    }

    /// Refuses with 403 `forbidden` unless the operator has at least `role`.
    pub fn require(&self, role: OperatorRole) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("This needs the {} role", role.as_str())))
        }
    }

    /// Refuses an API key with 403 `forbidden`: for routes only a signed-in
    /// operator may use (managing keys, opening live sockets, so that no live
    /// channel outlives a revoked key).
    pub fn require_session(&self) -> ApiResult<()> {
        self.session_end().map(|_| ())
    }

    /// When the signed-in operator's access JWT expires (Unix seconds);
    /// 403 `forbidden` for an API key, as [`CurrentOperator::require_session`].
    pub fn session_end(&self) -> ApiResult<i64> {
        match (self.api_key_id, self.session_expires_at) {
            (None, Some(expires_at)) => Ok(expires_at),
            _ => Err(ApiError::forbidden("API keys may not use this route; it needs a signed-in operator")),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl FromRequestParts<AppState> for CurrentOperator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let credential = Credential::from_request_parts(parts, state).await?;
        let env = state.env.clone();
        worker::send::SendFuture::new(async move { credential.operator_with(&db::database(&env)?, |_, _| Ok(((), Vec::new()))).await })
            .await
            .map(|(operator, ..)| operator)
    }
}

/// A `/v1` request's bearer credential, checked as far as it can be without
/// D1: an access JWT's signature and expiry, or an API key's route and the
/// scope its method needs. It is no operator yet: only
/// [`Credential::operator_with`] finishes the check ([`CurrentOperator`]
/// says what is refused, and how). The one other way out is
/// [`Credential::claims`], for a write that checks them in its own D1
/// transaction (the operator's send); anything else gets nothing out of it.
#[must_use = "a credential is checked only by Credential::operator_with"]
pub struct Credential(Bearer);

/// What [`Credential`] holds (private: read through `operator_with` only).
enum Bearer {
    /// An access JWT (claims `sub`, `acc`, `ver`, `exp`).
    Session { user_id: i64, account_id: i64, token_version: i64, expires_at: i64 },
    /// An account API key, by its SHA-256; `needed` is the method's scope.
    ApiKey { key_hash: String, needed: ApiKeyScope },
}

impl FromRequestParts<AppState> for Credential {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(|| ApiError::unauthorized("A bearer access token is required"))?;
        if api_key::is_api_key(token) {
            if !parts.uri.path().starts_with("/v1/") {
                return Err(ApiError::unauthorized("API keys are accepted on the /v1 routes only"));
            }
            let needed = if matches!(parts.method, Method::GET | Method::HEAD) { ApiKeyScope::Read } else { ApiKeyScope::Write };
            return Ok(Credential(Bearer::ApiKey { key_hash: api_key::key_hash(token), needed }));
        }
        let secret = jwt::secret(&state.env)?;
        let claims = jwt::verify(token, &secret)?;
        let user_id: i64 = claims.sub.parse().map_err(|_| ApiError::unauthorized("The access token is invalid"))?;
        Ok(Credential(Bearer::Session { user_id, account_id: claims.acc, token_version: claims.ver, expires_at: claims.exp }))
    }
}

impl Credential {
    /// An access JWT's claims, for a write that checks them in its own D1
    /// transaction ([`SessionClaims`]); `None` for an API key, whose
    /// operator is known only from its lookup.
    pub(crate) fn claims(&self) -> Option<SessionClaims> {
        match self.0 {
            Bearer::Session { user_id, account_id, token_version, .. } => Some(SessionClaims { user_id, account_id, token_version }),
            Bearer::ApiKey { .. } => None,
        }
    }

    /// The operator, with what `reads(user id, account id)` answers and the
    /// results of the statements it prepares: a route's first D1 reads
    /// (`SELECT`s only: nothing may be written before the operator is
    /// known), which for an access JWT go in one batch with the operator's
    /// check (one D1 round trip for both, issue 16). They run with the
    /// token's claimed ids before the check is known, so nothing of them is
    /// answered unless it passes. An API key's operator is known only from
    /// its lookup: `reads` runs after it, its statements in a second batch
    /// (none when it prepares nothing). `reads` is the place to parse a
    /// body, so that nothing of a refused request's body is read.
    pub async fn operator_with<T, F>(self, db: &D1Database, reads: F) -> ApiResult<(CurrentOperator, T, Vec<D1Result>)>
    where
        F: FnOnce(i64, i64) -> worker::Result<(T, Vec<D1PreparedStatement>)>,
    {
        match self.0 {
            Bearer::Session { user_id, account_id, token_version, expires_at } => {
                let (read, more) = reads(user_id, account_id)?;
                let mut statements = vec![users::session_user_statement(db, account_id, user_id, token_version)?];
                statements.extend(more);
                let mut results = db.batch(statements).await?;
                let rest = results.split_off(results.len().min(1));
                let user = results
                    .pop()
                    .map(|r| r.results::<users::UserRow>())
                    .transpose()?
                    .and_then(|mut rows| rows.pop())
                    .ok_or_else(|| ApiError::unauthorized("This operator no longer exists or this access token was revoked"))?;
                let operator = CurrentOperator {
                    id: user.id,
                    account_id: user.account_id,
                    display_name: user.display_name,
                    token_version: user.token_version,
                    api_key_id: None,
                    session_expires_at: Some(expires_at),
                    role: user.role,
                };
                Ok((operator, read, rest))
            }
            Bearer::ApiKey { key_hash, needed } => {
                let operator = from_api_key(db, &key_hash, needed).await?;
                let (read, statements) = reads(operator.id, operator.account_id)?;
                let rest = match statements.is_empty() {
                    true => Vec::new(),
                    false => db.batch(statements).await?,
                };
                Ok((operator, read, rest))
            }
        }
    }
}

/// The operator an API key acts as (see [`CurrentOperator`]), for a
/// request that needs scope `needed`.
async fn from_api_key(db: &D1Database, key_hash: &str, needed: ApiKeyScope) -> ApiResult<CurrentOperator> {
    let holder = api_keys::authenticate(db, key_hash).await?.ok_or_else(|| ApiError::unauthorized("This API key is unknown or revoked"))?;
    if !holder.scopes.contains(&needed) {
        let name = if needed == ApiKeyScope::Read { "read" } else { "write" };
        return Err(ApiError::forbidden(format!("This API key lacks the {name} scope")));
    }
    Ok(CurrentOperator {
        id: holder.user_id,
        account_id: holder.account_id,
        display_name: holder.display_name,
        token_version: holder.token_version,
        api_key_id: Some(holder.id),
        session_expires_at: None,
        role: OperatorRole::Agent,
    })
}

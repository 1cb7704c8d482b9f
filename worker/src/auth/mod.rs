//! Operator authentication (seed 002, `/auth/*`; ARCHITECTURE.md, security
//! model): password hashing, access JWTs, rotating refresh tokens, and the
//! [`CurrentOperator`] extractor every `/v1` handler takes.

pub mod jwt;
pub mod password;
pub mod refresh;
pub mod refresh_cookie;
pub mod signing;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use edgechat_shared::api::auth::OperatorRole;

use crate::db::{self, users};
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

/// The authenticated operator of a `/v1` request, loaded fresh from D1 so
/// that a removed operator or a changed role takes effect at once: the
/// token's user id, account and token version (claim `ver`) must all match
/// the stored operator, so a token issued before a password change, a logout
/// from everywhere or a role change is refused although not expired.
///
/// Errors: 401 `unauthorized` for a missing, malformed, expired, forged or
/// revoked token or a removed operator; 503 `not_ready` without a configured `JWT_SECRET`.
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
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl FromRequestParts<AppState> for CurrentOperator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = jwt::secret(&state.env)?;
        let token = bearer_token(parts).ok_or_else(|| ApiError::unauthorized("A bearer access token is required"))?;
        let claims = jwt::verify(token, &secret)?;
        let user_id: i64 = claims.sub.parse().map_err(|_| ApiError::unauthorized("The access token is invalid"))?;
        let env = state.env.clone();
        let user =
            worker::send::SendFuture::new(async move { users::session_user(&db::database(&env)?, claims.acc, user_id, claims.ver).await })
                .await?
                .ok_or_else(|| ApiError::unauthorized("This operator no longer exists or this access token was revoked"))?;
        Ok(CurrentOperator {
            id: user.id,
            account_id: user.account_id,
            display_name: user.display_name,
            token_version: user.token_version,
            role: user.role,
        })
    }
}

//! Access tokens: HS256 JWTs (RFC 7519) of [`AccessClaims`], valid
//! [`ACCESS_TOKEN_SECONDS`], signed with the `JWT_SECRET` secret.

use edgechat_shared::api::auth::{AccessClaims, OperatorRole, ACCESS_TOKEN_SECONDS};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use worker::Env;

use super::jwt_crypto::{decode, encode};
use crate::error::{ApiError, ApiResult};

/// Shortest accepted `JWT_SECRET`, in bytes (256 bits for HS256, RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Checks a configured secret: admin routes refuse to serve (503
/// `not_ready`) without one of at least [`MIN_SECRET_BYTES`].
pub fn check_secret(secret: Option<String>) -> ApiResult<String> {
    match secret {
        Some(secret) if secret.len() >= MIN_SECRET_BYTES => Ok(secret),
        _ => Err(ApiError::not_ready("JWT_SECRET is not configured (wrangler secret put JWT_SECRET, at least 32 bytes)")),
    }
}

/// The `JWT_SECRET` secret (or var, for local runs), checked by [`check_secret`].
pub fn secret(env: &Env) -> ApiResult<String> {
    let value = env.secret("JWT_SECRET").map(|s| s.to_string()).or_else(|_| env.var("JWT_SECRET").map(|v| v.to_string()));
    check_secret(value.ok())
}

/// Signs an access token for operator `user_id` of account `account_id`
/// with their current `token_version`, issued at `now` (Unix seconds).
pub fn issue(secret: &str, user_id: i64, account_id: i64, role: OperatorRole, token_version: i64, now: i64) -> ApiResult<String> {
    let claims =
        AccessClaims { sub: user_id.to_string(), acc: account_id, role, ver: token_version, iat: now, exp: now + ACCESS_TOKEN_SECONDS };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|e| ApiError::internal(format!("cannot sign the access token: {e}")))
}

/// Verifies an access token: HS256 only (so `alg: none` and other
/// algorithms are refused), a valid signature, and not expired (5 s leeway).
///
/// Errors: 401 `unauthorized`.
pub fn verify(token: &str, secret: &str) -> ApiResult<AccessClaims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    decode::<AccessClaims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map(|data| data.claims).map_err(|e| {
        match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => ApiError::unauthorized("The access token has expired"),
            _ => ApiError::unauthorized("The access token is invalid"),
        }
    })
}

#[cfg(test)]
mod tests {
    use edgechat_shared::error::ErrorCode;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_short_or_missing_secret_refuses_to_serve() {
        assert_eq!(check_secret(None).unwrap_err().code, ErrorCode::NotReady);
        assert_eq!(check_secret(Some("short".into())).unwrap_err().code, ErrorCode::NotReady);
        assert_eq!(check_secret(Some(SECRET.into())).unwrap(), SECRET);
    }

    #[test]
    fn issued_tokens_verify_and_forged_ones_do_not() {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let token = issue(SECRET, 7, 3, OperatorRole::Admin, 41, now).unwrap();
        let claims = verify(&token, SECRET).unwrap();
        assert_eq!((claims.sub.as_str(), claims.acc, claims.role, claims.ver), ("7", 3, OperatorRole::Admin, 41));
        assert_eq!(verify(&token, "another-secret-another-secret-xx").unwrap_err().code, ErrorCode::Unauthorized);
        let expired = issue(SECRET, 7, 3, OperatorRole::Admin, 41, now - 3600).unwrap();
        assert_eq!(verify(&expired, SECRET).unwrap_err().message, "The access token has expired");
        let (header, rest) = token.split_once('.').unwrap();
        let none_header = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, r#"{"alg":"none","typ":"JWT"}"#);
        assert_ne!(header, none_header);
        let body = rest.split('.').next().unwrap();
        assert!(verify(&format!("{none_header}.{body}."), SECRET).is_err(), "alg none is refused");
    }
}

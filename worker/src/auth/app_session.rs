//! Signed-in users (seed 003, issue 14): the site backend's identity JWT
//! and the EdgeChat app session token answered for it.
//!
//! - The identity JWT: HS256 (RFC 7518 §3.2) with the site's identity
//!   token key (derived from its identity secret,
//!   [`super::signing::identity_token_key`]: never the secret itself, which
//!   keys every `user_hash`), claims [`IdentityClaims`]; `alg: none` and every other
//!   algorithm are refused (RFC 8725 §3.1), `exp` and `iat` are required,
//!   `exp` at most [`MAX_IDENTITY_SECONDS`] ahead and `iat` not in the future
//!   ([`CLOCK_LEEWAY_SECONDS`] either way).
//! - The session token: `ecs_` + 40 hex digits (160 random bits), stored
//!   only as its SHA-256 (hex), as API keys are ([`super::api_key`]).

use edgechat_shared::api::app::{self, IdentityClaims, CLOCK_LEEWAY_SECONDS, MAX_IDENTITY_SECONDS};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};

use super::jwt_crypto::decode;
use super::random_hex;
use crate::error::{ApiError, ApiResult};

/// The start of every app session token.
pub const PREFIX: &str = "ecs_";

/// Verifies an identity JWT against the identity token key of the site's
/// identity secret `site_secret` at `now` (Unix seconds) and answers its
/// claims.
///
/// Errors: 401 `unauthorized` for a wrong signature or algorithm, a missing
/// or past `exp`, an `exp` more than an hour ahead, a future `iat`, or a
/// missing or invalid `sub`.
pub fn verify_identity(token: &str, site_secret: &str, now: i64) -> ApiResult<IdentityClaims> {
    if site_secret.is_empty() {
        return Err(ApiError::unauthorized("This site has no identity secret"));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = CLOCK_LEEWAY_SECONDS as u64;
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    let claims =
        decode::<IdentityClaims>(token, &DecodingKey::from_secret(super::signing::identity_token_key(site_secret).as_bytes()), &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => ApiError::unauthorized("The identity token has expired"),
                _ => ApiError::unauthorized("The identity token is invalid for this site"),
            })?;
    // jsonwebtoken checks `exp` against its own clock; the worker's decides.
    if claims.exp + CLOCK_LEEWAY_SECONDS < now {
        return Err(ApiError::unauthorized("The identity token has expired"));
    }
    if claims.exp > now + MAX_IDENTITY_SECONDS + CLOCK_LEEWAY_SECONDS {
        return Err(ApiError::unauthorized("The identity token lives too long: exp must be at most 1 hour ahead"));
    }
    if claims.iat > now + CLOCK_LEEWAY_SECONDS {
        return Err(ApiError::unauthorized("The identity token is issued in the future (iat)"));
    }
    app::user_id(&claims.sub).map_err(|e| ApiError::unauthorized(format!("The identity token's sub is invalid: {}", e.message)))?;
    Ok(claims)
}

/// A new session token.
pub fn generate() -> String {
    format!("{PREFIX}{}", random_hex(20))
}

/// SHA-256 of a presented session token, hex: what D1 stores and looks up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use edgechat_shared::error::ErrorCode;
    use jsonwebtoken::{EncodingKey, Header};

    use crate::auth::jwt_crypto::encode;

    use super::*;

    const SECRET: &str = "site-identity-secret-0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    /// A JWT signed as a site's backend signs one: with the identity token
    /// key of `secret`.
    fn mint(claims: &serde_json::Value, secret: &str, alg: Algorithm) -> String {
        let key = crate::auth::signing::identity_token_key(secret);
        encode(&Header::new(alg), claims, &EncodingKey::from_secret(key.as_bytes())).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims(exp: i64, iat: i64) -> serde_json::Value {
        serde_json::json!({"sub": "user-42", "email": "a@example.com", "name": "Ada", "exp": exp, "iat": iat})
    }

    fn refused(token: &str) -> String {
        let err = verify_identity(token, SECRET, NOW).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthorized);
        err.message
    }

    #[test]
    fn a_fresh_token_of_the_site_verifies() {
        let ok = verify_identity(&mint(&claims(NOW + 600, NOW - 1), SECRET, Algorithm::HS256), SECRET, NOW).unwrap();
        assert_eq!((ok.sub.as_str(), ok.email.as_deref(), ok.name.as_deref()), ("user-42", Some("a@example.com"), Some("Ada")));
    }

    #[test]
    fn forged_stale_and_long_lived_tokens_are_refused() {
        refused(&mint(&claims(NOW + 600, NOW), "another-site-secret-0123456789abcdef", Algorithm::HS256));
        assert!(refused(&mint(&claims(NOW - 60, NOW - 700), SECRET, Algorithm::HS256)).contains("expired"));
        assert!(refused(&mint(&claims(NOW + 7200, NOW), SECRET, Algorithm::HS256)).contains("1 hour"));
        assert!(refused(&mint(&claims(NOW + 600, NOW + 300), SECRET, Algorithm::HS256)).contains("future"));
        // A site that signs HS512 (well signed, by hand: EdgeChat itself signs HS256 only).
        let signed = format!("{}.{}", b64(br#"{"alg":"HS512","typ":"JWT"}"#), b64(claims(NOW + 600, NOW).to_string().as_bytes()));
        let key = crate::auth::signing::identity_token_key(SECRET);
        let tag = <hmac::Hmac<sha2::Sha512> as hmac::Mac>::new_from_slice(key.as_bytes()).unwrap();
        let tag = hmac::Mac::finalize(hmac::Mac::chain_update(tag, signed.as_bytes())).into_bytes();
        assert!(refused(&format!("{signed}.{}", b64(&tag))).contains("invalid"), "HS512 is refused");
        refused(&mint(&serde_json::json!({"sub": "u", "exp": NOW + 600}), SECRET, Algorithm::HS256));
        refused(&mint(&serde_json::json!({"sub": "", "exp": NOW + 600, "iat": NOW}), SECRET, Algorithm::HS256));
        let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(claims(NOW + 600, NOW).to_string().as_bytes()));
        refused(&none);
        refused("not a jwt");
        assert_eq!(
            verify_identity(&mint(&claims(NOW + 600, NOW), "", Algorithm::HS256), "", NOW).unwrap_err().code,
            ErrorCode::Unauthorized
        );
    }

    /// A JWT signed with the identity secret itself is refused: that key
    /// also makes every `user_hash`, so a site that computes the hash of a
    /// user id its user chose (`header.payload`) would sign a forged token.
    #[test]
    fn a_user_hash_never_signs_an_identity_token() {
        let forged_id = format!("{}.{}", b64(br#"{"typ":"JWT","alg":"HS256"}"#), b64(claims(NOW + 600, NOW).to_string().as_bytes()));
        let user_hash = crate::auth::signing::Purpose::VisitorIdentity.sign(SECRET, forged_id.as_bytes());
        let forged = format!("{forged_id}.{}", b64(&hex::decode(user_hash).unwrap()));
        assert!(refused(&forged).contains("invalid"), "the site's user_hash of a JWT-shaped user id is no signature");
        let raw = encode(&Header::new(Algorithm::HS256), &claims(NOW + 600, NOW), &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        refused(&raw);
        assert_eq!(forged, raw, "the forgery is exactly a JWT signed with the secret itself");
    }

    #[test]
    fn session_tokens_are_random_and_hashed() {
        let (a, b) = (generate(), generate());
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 40);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}

//! Signed-in users (seed 003, issue 14): what a site's backend does to sign
//! its user in (mint the identity JWT), and the app's session calls.

use edgechat_shared::api::app::AppSession;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{now, Host, IpPool};

/// The identity token key of a site whose identity secret is `secret`, as
/// the README's "Signing users in" derives it (and the site's
/// `identity_token_key` shows it): HKDF-SHA256 (RFC 5869), salt `edgechat
/// site-secret v1`, info `edgechat identity-token v1`, 32 bytes, in hex.
pub fn identity_token_key(secret: &str) -> String {
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"edgechat site-secret v1"), secret.as_bytes())
        .expand(b"edgechat identity-token v1", &mut key)
        .expect("32 bytes of HKDF-SHA256");
    hex::encode(key)
}

/// The identity JWT a site's backend mints for its user `sub`: HS256 with
/// the identity token key of the site's identity secret `secret`, issued
/// now, valid 10 minutes (README, "Signed-in users").
pub fn identity_token(secret: &str, sub: &str, email: Option<&str>, name: Option<&str>) -> String {
    let mut claims = json!({"sub": sub, "iat": now(), "exp": now() + 600});
    if let Some(email) = email {
        claims["email"] = json!(email);
    }
    if let Some(name) = name {
        claims["name"] = json!(name);
    }
    sign_claims(secret, &claims)
}

/// Any claims as an HS256 JWT with the identity token key of `secret` (for
/// the refused forms).
pub fn sign_claims(secret: &str, claims: &Value) -> String {
    sign_claims_with_key(&identity_token_key(secret), claims)
}

/// Any claims as an HS256 JWT keyed by `key`'s bytes.
pub fn sign_claims_with_key(key: &str, claims: &Value) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key.as_bytes())).expect("claims sign")
}

/// `POST /api/v1/app/session` for `token` on `site_key` from a fresh address of `ips`.
pub async fn post_session(host: &dyn Host, ips: &IpPool, site_key: &str, token: &str) -> reqwest::Response {
    host.client()
        .post(format!("{}/api/v1/app/session", host.base()))
        .header("CF-Connecting-IP", ips.next())
        .json(&json!({"site_key": site_key, "token": token}))
        .send()
        .await
        .expect("the server answers")
}

/// Signs user `sub` of the site in; answers the session token. Panics
/// unless the sign-in answers 201.
pub async fn app_login(host: &dyn Host, ips: &IpPool, site_key: &str, identity_secret: &str, sub: &str) -> String {
    let response = post_session(host, ips, site_key, &identity_token(identity_secret, sub, None, None)).await;
    assert_eq!(response.status().as_u16(), 201, "sign-in of {sub}");
    response.json::<AppSession>().await.expect("an app session").token
}

/// An app request: `method {base}{path}` with the session token and, when
/// given, the JSON `body`.
pub async fn app_send(host: &dyn Host, method: Method, path: &str, session: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = host.client().request(method, format!("{}{path}", host.base())).bearer_auth(session);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap_or_else(|e| panic!("{path} reaches the server: {e}"))
}

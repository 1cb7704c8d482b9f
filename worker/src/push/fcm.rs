//! Firebase Cloud Messaging, HTTP v1 API: `POST
//! {FCM_BASE_URL}/v1/projects/{project_id}/messages:send` with a bearer
//! OAuth 2.0 access token, obtained from `{FCM_TOKEN_URL}` with the
//! service account's signed JWT (RFC 7523 "JWT Profile for OAuth 2.0
//! Authorization Grants", RS256, the `firebase.messaging` scope) and cached
//! per isolate until a minute before it expires.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

/// The OAuth scope FCM's send API needs.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Life asked for the grant JWT, in seconds (Google's maximum: one hour).
const GRANT_SECONDS: i64 = 3600;

/// The fields of a Google service account key file (JSON) that matter here.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceAccount {
    pub project_id: String,
    pub client_email: String,
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_key: String,
}

#[derive(Serialize)]
struct GrantClaims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// The grant assertion: an RS256 JWT signed with the service account's key,
/// `aud` the token URL, valid [`GRANT_SECONDS`] from `now` (Unix seconds).
/// A JWS compact serialization (RFC 7515 §7.1) whose signature the
/// runtime's WebCrypto makes (`worker/js/fcm.js`): the RSA crates cost
/// about 150 KB of wasm (issue 16: the worker's upload). Errors: a
/// `private_key` that is not a PKCS#8 RSA key.
pub async fn grant_assertion(account: &ServiceAccount, token_url: &str, now: i64) -> Result<String, String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use base64::Engine;
    let claims = GrantClaims { iss: &account.client_email, scope: SCOPE, aud: token_url, iat: now, exp: now + GRANT_SECONDS };
    let claims = serde_json::to_vec(&claims).map_err(|e| e.to_string())?;
    let signed = format!("{}.{}", B64URL.encode(br#"{"alg":"RS256","typ":"JWT"}"#), B64URL.encode(claims));
    let signature = sign_rs256(account.private_key.trim(), signed.as_bytes())
        .await
        .map_err(|e| format!("the service account's private_key is not a PKCS#8 RSA key: {}", js_message(&e)))?;
    Ok(format!("{signed}.{}", B64URL.encode(js_sys::Uint8Array::new(&signature).to_vec())))
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/fcm.js")]
extern "C" {
    #[wasm_bindgen(js_name = signRs256, catch)]
    async fn sign_rs256(pkcs8_pem: &str, message: &[u8]) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
}

/// The message of a JavaScript error (or its text).
fn js_message(error: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(error, &"message".into()).ok().and_then(|m| m.as_string()).or_else(|| error.as_string()).unwrap_or_default()
}

/// The form body of the token request (RFC 7523 §2.1).
pub fn grant_form(assertion: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
        .append_pair("assertion", assertion)
        .finish()
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Debug, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// Seconds.
    #[serde(default = "default_expiry")]
    pub expires_in: i64,
}

fn default_expiry() -> i64 {
    3600
}

thread_local! {
    /// (client email, token, expiry in Unix seconds): one per isolate.
    static CACHE: RefCell<Option<(String, String, i64)>> = const { RefCell::new(None) };
}

/// The cached access token of `account` if it lives more than a minute after `now`.
pub fn cached(account: &ServiceAccount, now: i64) -> Option<String> {
    CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(email, _, until)| *email == account.client_email && *until > now + 60)
            .map(|(_, token, _)| token.clone())
    })
}

/// Remembers `token` of `account` until `now + expires_in`.
pub fn remember(account: &ServiceAccount, token: &AccessToken, now: i64) {
    CACHE.with(|c| *c.borrow_mut() = Some((account.client_email.clone(), token.access_token.clone(), now + token.expires_in)));
}

/// Forgets the cached token (the send API refused it).
pub fn forget() {
    CACHE.with(|c| *c.borrow_mut() = None);
}

/// The body of `messages:send`: a notification and string data for one
/// registration token.
pub fn message(token: &str, title: &str, body: &str, data: &serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "message": {
            "token": token,
            "notification": {"title": title, "body": body},
            "data": data,
        }
    })
}

/// Whether an FCM error answer says the token is gone for good: HTTP 404
/// (`UNREGISTERED`) or 410, or a 400 whose `details` name `UNREGISTERED`.
pub fn token_gone(status: u16, body: &str) -> bool {
    status == 404 || status == 410 || (status == 400 && body.contains("UNREGISTERED"))
}

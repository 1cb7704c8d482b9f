//! Local stand-ins for the three push services the worker's `push` module
//! calls, each speaking and checking its real wire format, recording what
//! it received, and able to say a device is gone:
//!
//! - **Web Push** (RFC 8030): `POST /webpush/{id}`, the endpoint of a
//!   subscription the test makes with [`PushStandIn::subscribe`] (fresh
//!   P-256 keys and auth secret). It checks the VAPID `Authorization:
//!   vapid t=<jwt>, k=<key>` (RFC 8292: ES256 by the key `k`, which must be
//!   the server's, `aud` the endpoint's origin, `exp` within 24 hours,
//!   `sub` a contact), `Content-Encoding: aes128gcm` and `TTL`, then
//!   DECRYPTS the body with the subscription's private key and auth secret
//!   (RFC 8291 / RFC 8188) and records the plaintext; 201 Created, or 410
//!   Gone for a subscription told [`PushStandIn::gone`].
//! - **FCM HTTP v1**: `POST /token` (Google's OAuth token endpoint, RFC
//!   7523 JWT bearer grant: the RS256 assertion verified with the service
//!   account's public key, `iss`, `aud`, `scope`) answers an access token;
//!   `POST /v1/projects/{project}/messages:send` checks that bearer and the
//!   message (`token`, `notification`, string-only `data`); 404
//!   `UNREGISTERED` for a token told gone.
//! - **Telegram Bot API**: `POST /bot{token}/sendMessage {chat_id, text}`
//!   checks the bot token; 403 "bot was blocked by the user" for a chat told gone.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde_json::{json, Value};
use sha2::Sha256;

/// The VAPID private key the worker runs with (`VAPID_PRIVATE_KEY`, a
/// base64url P-256 scalar); its public key is [`vapid_public_key`].
pub const VAPID_PRIVATE_KEY: &str = "s5tYf6LrGZ0dK2bJ2s6y0mQH2XlX8b1N6c0wQk3vV9o";
/// The VAPID contact (`VAPID_SUBJECT`).
pub const VAPID_SUBJECT: &str = "mailto:push-tests@example.com";
/// The Telegram bot token (`TELEGRAM_BOT_TOKEN`).
pub const TELEGRAM_BOT_TOKEN: &str = "123456:TEST-bot-token_abcdef";
/// The FCM project of the service account.
pub const FCM_PROJECT: &str = "edgechat-push-tests";
/// The service account's client email.
pub const FCM_CLIENT_EMAIL: &str = "push@edgechat-push-tests.iam.gserviceaccount.com";
/// A test-only RSA key (PKCS#8 PEM) of the FCM service account; it signs nothing real.
const FCM_PRIVATE_KEY: &str = include_str!("push_standin_fcm_key.pem");

/// A Telegram Mini App's `initData` for user `user_id` (their chat with the
/// bot), signed as Telegram signs it for the bot `bot_token`
/// (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app)
/// at `auth_date` (Unix seconds).
pub fn init_data_of(user_id: &str, bot_token: &str, auth_date: i64) -> String {
    use hmac::{Hmac, Mac};
    let user = format!(r#"{{"id":{user_id},"first_name":"Tess","language_code":"en"}}"#);
    let fields = [("auth_date", auth_date.to_string()), ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc".to_string()), ("user", user)];
    let check = fields.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("\n");
    let key = <Hmac<Sha256> as Mac>::new_from_slice(b"WebAppData").unwrap().chain_update(bot_token).finalize().into_bytes();
    let hash = hex::encode(<Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap().chain_update(check).finalize().into_bytes());
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &fields {
        query.append_pair(name, value);
    }
    query.append_pair("hash", &hash).finish()
}

/// [`init_data_of`] for this stand-in's bot, signed now.
pub fn init_data(user_id: &str) -> String {
    init_data_of(user_id, TELEGRAM_BOT_TOKEN, crate::now())
}

/// The public key of [`VAPID_PRIVATE_KEY`], base64url of the 65-byte point.
pub fn vapid_public_key() -> String {
    let key = SecretKey::from_slice(&B64URL.decode(VAPID_PRIVATE_KEY).unwrap()).unwrap();
    B64URL.encode(key.public_key().to_encoded_point(false).as_bytes())
}

/// A subscription the test made: what the browser would register, and its private half.
#[derive(Clone)]
pub struct WebSubscription {
    /// `PushSubscription.toJSON()`: `{endpoint, keys: {p256dh, auth}}`.
    pub json: Value,
    pub endpoint: String,
    key: SecretKey,
    auth: [u8; 16],
}

/// One push a stand-in accepted or refused.
#[derive(Debug, Clone)]
pub struct Push {
    /// The subscription endpoint, FCM registration token or Telegram chat id.
    pub to: String,
    /// Web Push: the decrypted payload; FCM: the `message`; Telegram: the body.
    pub payload: Value,
    /// What the stand-in answered.
    pub status: u16,
}

#[derive(Default)]
struct Log {
    subscriptions: HashMap<String, WebSubscription>,
    gone: HashSet<String>,
    pushes: Vec<Push>,
    /// Problems found in requests (a wrong header, a bad signature): each fails the test that looks.
    problems: Vec<String>,
    access_tokens: HashSet<String>,
    token_requests: usize,
}

/// The running stand-ins (one server, three services).
pub struct PushStandIn {
    /// Base URL, e.g. `http://127.0.0.1:40123` (`FCM_BASE_URL`, `TELEGRAM_BASE_URL`).
    pub url: String,
    log: Arc<Mutex<Log>>,
    service_account: String,
}

impl PushStandIn {
    /// The stand-ins of this test binary, started on 127.0.0.1 at first use.
    pub fn shared() -> &'static PushStandIn {
        static STANDIN: OnceLock<PushStandIn> = OnceLock::new();
        STANDIN.get_or_init(|| {
            let listener =
                crate::runtime().block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a free port for the push stand-ins");
            let url = format!("http://{}", listener.local_addr().expect("bound address"));
            let log = Arc::new(Mutex::new(Log::default()));
            let state = Standin { url: url.clone(), log: log.clone() };
            let app = Router::new()
                .route("/webpush/{id}", post(web_push))
                .route("/token", post(fcm_token))
                .route("/v1/projects/{project}/{action}", post(fcm_send))
                .route("/{bot}/sendMessage", post(telegram_send))
                .with_state(state);
            crate::runtime().spawn(async move { axum::serve(listener, app).await.expect("the push stand-ins serve") });
            let service_account = json!({
                "type": "service_account",
                "project_id": FCM_PROJECT,
                "private_key_id": "test",
                "private_key": FCM_PRIVATE_KEY,
                "client_email": FCM_CLIENT_EMAIL,
                "token_uri": format!("{url}/token"),
            })
            .to_string();
            PushStandIn { url, log, service_account }
        })
    }

    /// The worker's vars that point it at these stand-ins.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VAPID_PRIVATE_KEY", VAPID_PRIVATE_KEY.into()),
            ("VAPID_SUBJECT", VAPID_SUBJECT.into()),
            ("PUSH_ALLOW_LOCAL", "true".into()),
            ("PUSH_RETRY_BASE_SECONDS", "1".into()),
            ("FCM_SERVICE_ACCOUNT", self.service_account.clone()),
            ("FCM_BASE_URL", self.url.clone()),
            ("FCM_TOKEN_URL", format!("{}/token", self.url)),
            ("TELEGRAM_BASE_URL", self.url.clone()),
            ("TELEGRAM_BOT_TOKEN", TELEGRAM_BOT_TOKEN.into()),
        ]
    }

    /// A new browser subscription on the Web Push stand-in, with fresh keys.
    pub fn subscribe(&self) -> WebSubscription {
        let mut scalar = [0u8; 32];
        let key = loop {
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut scalar);
            if let Ok(key) = SecretKey::from_slice(&scalar) {
                break key;
            }
        };
        let mut auth = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut auth);
        let mut id = [0u8; 12];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
        let endpoint = format!("{}/webpush/{}", self.url, hex::encode(id));
        let json = json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": B64URL.encode(key.public_key().to_encoded_point(false).as_bytes()),
                "auth": B64URL.encode(auth),
            }
        });
        let subscription = WebSubscription { json, endpoint: endpoint.clone(), key, auth };
        self.log.lock().unwrap().subscriptions.insert(endpoint, subscription.clone());
        subscription
    }

    /// From now on, pushes to `to` (an endpoint, FCM token or chat id) answer "gone".
    pub fn gone(&self, to: &str) {
        self.log.lock().unwrap().gone.insert(to.to_string());
    }

    /// Every push to `to`, oldest first.
    pub fn pushes_to(&self, to: &str) -> Vec<Push> {
        self.log.lock().unwrap().pushes.iter().filter(|p| p.to == to).cloned().collect()
    }

    /// Requests for an FCM access token so far.
    pub fn token_requests(&self) -> usize {
        self.log.lock().unwrap().token_requests
    }

    /// Problems found in any request so far (none expected).
    pub fn problems(&self) -> Vec<String> {
        self.log.lock().unwrap().problems.clone()
    }

    /// Waits until `to` received `count` pushes matching `pred` and answers them; panics after `wait`.
    pub async fn wait_for(&self, to: &str, count: usize, wait: Duration, pred: impl Fn(&Push) -> bool) -> Vec<Push> {
        let deadline = Instant::now() + wait;
        loop {
            let found: Vec<Push> = self.pushes_to(to).into_iter().filter(|p| pred(p)).collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} pushes to {to} after {wait:?}; all: {:?}; problems: {:?}",
                found.len(),
                self.pushes_to(to),
                self.problems()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[derive(Clone)]
struct Standin {
    url: String,
    log: Arc<Mutex<Log>>,
}

impl Standin {
    fn problem(&self, what: String) -> Response {
        self.log.lock().unwrap().problems.push(what.clone());
        (StatusCode::BAD_REQUEST, what).into_response()
    }

    fn record(&self, to: &str, payload: Value, status: u16) {
        self.log.lock().unwrap().pushes.push(Push { to: to.to_string(), payload, status });
    }

    fn is_gone(&self, to: &str) -> bool {
        self.log.lock().unwrap().gone.contains(to)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The Web Push endpoint (RFC 8030 §5).
async fn web_push(State(s): State<Standin>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let endpoint = format!("{}/webpush/{id}", s.url);
    let Some(subscription) = s.log.lock().unwrap().subscriptions.get(&endpoint).cloned() else {
        return (StatusCode::NOT_FOUND, "no such subscription").into_response();
    };
    if let Err(problem) = check_vapid(header(&headers, "authorization"), &s.url) {
        return s.problem(format!("web push to {endpoint}: {problem}"));
    }
    if header(&headers, "content-encoding") != Some("aes128gcm") {
        return s.problem(format!("web push to {endpoint}: Content-Encoding is not aes128gcm"));
    }
    if header(&headers, "ttl").and_then(|t| t.parse::<u64>().ok()).is_none() {
        return s.problem(format!("web push to {endpoint}: no TTL header (RFC 8030 §5.2)"));
    }
    let plaintext = match decrypt(&body, &subscription.key, &subscription.auth) {
        Ok(p) => p,
        Err(problem) => return s.problem(format!("web push to {endpoint}: {problem}")),
    };
    let payload: Value = match serde_json::from_slice(&plaintext) {
        Ok(v) => v,
        Err(e) => return s.problem(format!("web push to {endpoint}: the payload is not JSON: {e}")),
    };
    if s.is_gone(&endpoint) {
        s.record(&endpoint, payload, 410);
        return (StatusCode::GONE, "push subscription has unsubscribed or expired").into_response();
    }
    s.record(&endpoint, payload, 201);
    (StatusCode::CREATED, [("location", format!("{endpoint}/messages/1"))]).into_response()
}

/// Checks a VAPID `Authorization` header (RFC 8292 §3).
fn check_vapid(value: Option<&str>, origin: &str) -> Result<(), String> {
    let value = value.ok_or("no Authorization header")?;
    let rest = value.strip_prefix("vapid ").ok_or("Authorization is not `vapid …`")?;
    let mut jwt = None;
    let mut key = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            jwt = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    let (jwt, key) = (jwt.ok_or("no t=")?, key.ok_or("no k=")?);
    if key != vapid_public_key() {
        return Err(format!("k={key} is not the server's VAPID key"));
    }
    let point = B64URL.decode(key).map_err(|_| "k is not base64url")?;
    if point.len() != 65 {
        return Err("k is not a 65-byte P-256 point".into());
    }
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(&B64URL.encode(&point[1..33]), &B64URL.encode(&point[33..]))
        .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[origin]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &decoding, &validation).map_err(|e| format!("the VAPID JWT: {e}"))?.claims;
    let exp = claims["exp"].as_i64().unwrap_or_default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if exp > now + 24 * 3600 {
        return Err("the VAPID JWT expires more than 24 hours ahead".into());
    }
    if claims["sub"] != VAPID_SUBJECT {
        return Err(format!("sub is {}", claims["sub"]));
    }
    Ok(())
}

/// The user agent's side of RFC 8291: decrypts an `aes128gcm` body with
/// the subscription's private key and auth secret.
pub fn decrypt(body: &[u8], key: &SecretKey, auth: &[u8; 16]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("body shorter than the aes128gcm header".into());
    }
    let salt = &body[..16];
    let rs = u32::from_be_bytes(body[16..20].try_into().unwrap());
    let idlen = body[20] as usize;
    if idlen != 65 || body.len() < 21 + idlen + 17 {
        return Err(format!("keyid is {idlen} bytes, not the server's 65-byte public key"));
    }
    let server_public = PublicKey::from_sec1_bytes(&body[21..86]).map_err(|_| "keyid is not a P-256 point")?;
    let record = &body[86..];
    if record.len() > rs as usize {
        return Err(format!("a record of {} bytes is over rs = {rs}", record.len()));
    }
    let shared = p256::ecdh::diffie_hellman(key.to_nonzero_scalar(), server_public.as_affine());
    let ua_public = key.public_key().to_encoded_point(false);
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(ua_public.as_bytes());
    info.extend_from_slice(&body[21..86]);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).map_err(|e| e.to_string())?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|e| e.to_string())?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|e| e.to_string())?;
    let mut plain = Aes128Gcm::new_from_slice(&cek)
        .unwrap()
        .decrypt(Nonce::from_slice(&nonce), record)
        .map_err(|_| "the record does not decrypt (wrong keys or derivation)")?;
    // RFC 8188 §2: padding zeros after the delimiter; 0x02 ends the last record.
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(2) {
        return Err("the record does not end with the last-record delimiter 0x02".into());
    }
    Ok(plain)
}

/// Google's OAuth 2.0 token endpoint, JWT bearer grant (RFC 7523).
async fn fcm_token(State(s): State<Standin>, body: String) -> Response {
    let form: HashMap<String, String> = url_form(&body);
    if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return s.problem(format!("token request: grant_type is {:?}", form.get("grant_type")));
    }
    let Some(assertion) = form.get("assertion") else { return s.problem("token request: no assertion".into()) };
    let public = {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::DecodePrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(FCM_PRIVATE_KEY).unwrap();
        key.to_public_key().to_pkcs1_der().unwrap()
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[format!("{}/token", s.url)]);
    validation.set_issuer(&[FCM_CLIENT_EMAIL]);
    let claims = match jsonwebtoken::decode::<Value>(assertion, &jsonwebtoken::DecodingKey::from_rsa_der(public.as_bytes()), &validation) {
        Ok(data) => data.claims,
        Err(e) => return s.problem(format!("token request: the assertion: {e}")),
    };
    if claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
        return s.problem(format!("token request: scope is {}", claims["scope"]));
    }
    let mut bytes = [0u8; 24];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    let token = format!("ya29.test-{}", hex::encode(bytes));
    let mut log = s.log.lock().unwrap();
    log.token_requests += 1;
    log.access_tokens.insert(token.clone());
    Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

fn url_form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

/// FCM HTTP v1 `messages:send`.
async fn fcm_send(State(s): State<Standin>, Path((project, action)): Path<(String, String)>, headers: HeaderMap, body: Bytes) -> Response {
    if action != "messages:send" || project != FCM_PROJECT {
        return (StatusCode::NOT_FOUND, "no such method").into_response();
    }
    let bearer = header(&headers, "authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default().to_string();
    if !s.log.lock().unwrap().access_tokens.contains(&bearer) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
            ),
        )
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return s.problem("messages:send: body is not JSON".into()) };
    let message = &body["message"];
    let Some(token) = message["token"].as_str() else { return s.problem("messages:send: no message.token".into()) };
    if !message["notification"]["title"].is_string() || !message["notification"]["body"].is_string() {
        return s.problem("messages:send: no notification title and body".into());
    }
    if let Some(data) = message["data"].as_object() {
        if data.values().any(|v| !v.is_string()) {
            return s.problem("messages:send: data values must be strings".into());
        }
    }
    if s.is_gone(token) {
        s.record(token, message.clone(), 404);
        let error = json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
        return (StatusCode::NOT_FOUND, Json(error)).into_response();
    }
    s.record(token, message.clone(), 200);
    Json(json!({"name": format!("projects/{FCM_PROJECT}/messages/0:{}", s.log.lock().unwrap().pushes.len())})).into_response()
}

/// Telegram Bot API `sendMessage`.
async fn telegram_send(State(s): State<Standin>, Path(bot): Path<String>, body: Bytes) -> Response {
    if bot.strip_prefix("bot") != Some(TELEGRAM_BOT_TOKEN) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}))).into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return s.problem("sendMessage: body is not JSON".into()) };
    let chat_id = match &body["chat_id"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return s.problem("sendMessage: no chat_id".into()),
    };
    if body["text"].as_str().is_none_or(str::is_empty) {
        return s.problem("sendMessage: no text".into());
    }
    if s.is_gone(&chat_id) {
        s.record(&chat_id, body, 403);
        let answer = json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"});
        return (StatusCode::FORBIDDEN, Json(answer)).into_response();
    }
    let text = body["text"].clone();
    s.record(&chat_id, body, 200);
    Json(json!({"ok": true, "result": {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}, "text": text}}))
        .into_response()
}

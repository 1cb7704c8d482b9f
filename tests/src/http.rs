//! Small HTTP helpers shared by the integration test binaries: unique names,
//! fake client addresses, the clock, error-envelope and JSON assertions,
//! rate-limit bursts and sign-ups.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgechat_shared::api::auth::SignupResponse;
use edgechat_shared::api::conversations::ConversationSummary;
use edgechat_shared::api::stream::StreamRequest;
use edgechat_shared::error::ErrorBody;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A worker under test: a binary's shared [`crate::Server`], or a trial's own.
pub trait Host: Sync {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    fn base(&self) -> &str;
    /// HTTP client for ordinary (bounded) requests.
    fn client(&self) -> &reqwest::Client;
}

impl Host for crate::Server {
    fn base(&self) -> &str {
        &self.url
    }

    fn client(&self) -> &reqwest::Client {
        &self.http
    }
}

/// An operator request: `method {base}{path}` with `Authorization: Bearer
/// <token>` and, when given, the JSON `body`; panics when the server is not reached.
pub async fn send(host: &dyn Host, method: Method, path: &str, token: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = host.client().request(method, format!("{}{path}", host.base())).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap_or_else(|e| panic!("{path} reaches the server: {e}"))
}

/// `GET {path}` as the operator of `token`.
pub async fn get(host: &dyn Host, path: &str, token: &str) -> reqwest::Response {
    send(host, Method::GET, path, token, None).await
}

/// `POST {path}` of JSON `body` as the operator of `token`.
pub async fn post(host: &dyn Host, path: &str, token: &str, body: Value) -> reqwest::Response {
    send(host, Method::POST, path, token, Some(body)).await
}

/// A POST of JSON `body` without a token, from a fresh client address of `ips`.
pub async fn post_public(host: &dyn Host, ips: &IpPool, path: &str, body: &Value) -> reqwest::Response {
    host.client()
        .post(format!("{}{path}", host.base()))
        .header("CF-Connecting-IP", ips.next())
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path} reaches the server: {e}"))
}

/// The path of conversation `id` followed by `action` (`""`, `"/messages"`, `"/close"`…).
pub fn conversation_path(id: i64, action: &str) -> String {
    format!("/v1/chat/conversations/{id}{action}")
}

/// `GET /v1/chat/conversations/{id}` as the operator of `token`; panics unless 200.
pub async fn summary(host: &dyn Host, token: &str, id: i64) -> ConversationSummary {
    json_of(get(host, &conversation_path(id, ""), token).await, 200).await
}

/// `POST /v1/chat/conversations/{id}/{action}` answering 200 and the summary.
pub async fn act(host: &dyn Host, token: &str, id: i64, action: &str, body: Value) -> ConversationSummary {
    json_of(post(host, &conversation_path(id, &format!("/{action}")), token, body).await, 200).await
}

/// A visitor's English message to the site of `site_key`, with a fresh message id.
pub fn visitor_request(site_key: &str, session_id: &str, message: &str) -> StreamRequest {
    StreamRequest {
        site_key: site_key.into(),
        session_id: session_id.into(),
        message: message.into(),
        lang: Some("en".into()),
        message_id: Some(crate::new_message_id()),
        attachments: Vec::new(),
        page_url: None,
    }
}

/// `HMAC-SHA256(secret, user_id)` in hex: the `user_hash` a site's server
/// computes for its logged-in user `user_id` (README, "Identity verification").
pub fn user_hash(secret: &str, user_id: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A pool of fake client addresses (`CF-Connecting-IP` header values only)
/// under one `a.b` prefix: `a.b.x.y`, a new one at each [`IpPool::next`].
///
/// The widget and auth rate limits are keyed by client address, so each
/// test binary (and each kind of request within it) takes its own prefix,
/// which no other pool of that binary uses.
pub struct IpPool {
    prefix: &'static str,
    next: AtomicU32,
}

impl IpPool {
    /// A pool of `{prefix}.x.y` addresses, e.g. `IpPool::new("10.77")`.
    pub const fn new(prefix: &'static str) -> Self {
        IpPool { prefix, next: AtomicU32::new(0) }
    }

    /// An address this pool has not handed out before: `{prefix}.x.y` with
    /// `x` in 0..=255 and `y` in 1..=250.
    pub fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}.{}.{}", self.prefix, n / 250 % 256, n % 250 + 1)
    }
}

/// A name no other trial uses: `tag-<counter>-<random hex>`.
pub fn unique(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{tag}-{}-{}", NEXT.fetch_add(1, Ordering::Relaxed), &crate::new_session_id()[5..17])
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// The status and the error envelope of an answer; panics when the body is
/// not the error envelope.
pub async fn error_of(response: reqwest::Response) -> (u16, ErrorBody) {
    let status = response.status().as_u16();
    let body = response.text().await.expect("error body");
    let envelope: ErrorBody = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not the error envelope ({e}): {status} {body}"));
    (status, envelope)
}

/// Asserts the answer is the error envelope with `status` and `code`.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str, what: &str) -> ErrorBody {
    let (got, body) = error_of(response).await;
    assert_eq!((got, body.error.as_str()), (status, code), "{what}: {}", body.message);
    body
}

/// Asserts the answer has `status` and parses its JSON body.
pub async fn json_of<T: DeserializeOwned>(response: reqwest::Response, status: u16) -> T {
    let got = response.status().as_u16();
    let path = response.url().path().to_string();
    let body = response.text().await.expect("body");
    assert_eq!(got, status, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: unexpected JSON ({e}): {body}"))
}

/// The header `name` of an answer, when answered.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().expect("ASCII header").to_string())
}

/// Asserts a 429 `rate_limited` with a `Retry-After` of 1 to 60 seconds.
pub async fn assert_rate_limited(response: reqwest::Response, what: &str) {
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap_or("").to_string());
    assert_error(response, 429, "rate_limited", what).await;
    let seconds: u64 =
        retry_after.as_deref().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{what}: Retry-After is {retry_after:?}"));
    assert!((1..=60).contains(&seconds), "{what}: Retry-After {seconds} should be within the minute");
}

/// `POST {base}/auth/signup` of `body` from client address `ip`; asserts a
/// 201 and answers the new account's tokens and first site.
pub async fn signup_from(http: &reqwest::Client, base: &str, ip: &str, body: &Value) -> SignupResponse {
    let response = http
        .post(format!("{base}/auth/signup"))
        .header("CF-Connecting-IP", ip)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /auth/signup reaches the server: {e}"));
    json_of(response, 201).await
}

/// Builds one request from the given client address.
pub type Build<'a> = dyn Fn(&str) -> RequestBuilder + 'a;

/// Waits for the next clock minute when fewer than `seconds` (seconds) are
/// left in this one (the limits count per fixed clock minute).
pub async fn within_one_minute(seconds: i64) {
    let into = now() % 60;
    if into + seconds > 60 {
        tokio::time::sleep(Duration::from_secs((61 - into) as u64)).await;
    }
}

/// From one fresh client address of `ips` and within one clock minute (at
/// least `seconds` of which are left when it starts), sends each step's
/// `count` requests, asserting each answers the step's status, then one
/// `last` request; answers the address and that last answer. When the burst
/// crossed into the next minute (a slow server), it starts over from a new
/// address, at most three times.
pub async fn burst(ips: &IpPool, seconds: i64, steps: &[(usize, u16, &Build<'_>)], last: &Build<'_>) -> (String, reqwest::Response) {
    for _ in 0..3 {
        within_one_minute(seconds).await;
        let minute = now() / 60;
        let ip = ips.next();
        for (count, status, build) in steps {
            for n in 1..=*count {
                let response = build(&ip).send().await.expect("the request reaches the server");
                let got = response.status().as_u16();
                let path = response.url().path().to_string();
                let body = response.text().await.unwrap_or_default();
                assert_eq!(got, *status, "request {n} of {count} to {path} from {ip}: {body}");
            }
        }
        let answer = last(&ip).send().await.expect("the request reaches the server");
        if now() / 60 == minute {
            return (ip, answer);
        }
    }
    panic!("three bursts in a row crossed a minute boundary; the server is too slow for these limits");
}

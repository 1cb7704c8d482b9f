//! Small HTTP helpers shared by the integration test binaries: unique names,
//! fake client addresses, the clock, error-envelope and JSON assertions,
//! rate-limit bursts and sign-ups.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgechat_shared::api::auth::SignupResponse;
use edgechat_shared::error::ErrorBody;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;
use serde_json::Value;

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

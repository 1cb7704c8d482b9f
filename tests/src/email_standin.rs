//! A local stand-in for Resend's email API (the outside service the
//! worker's `email` module calls), speaking its wire format
//! (resend.com/docs/api-reference, "Send Email"): `POST /emails` with
//! `Authorization: Bearer <key>`, `Idempotency-Key` and JSON `{from, to:[…],
//! subject, text, html}` answers 200 `{"id"}`; errors are
//! `{"statusCode","message","name"}`. A repeated `Idempotency-Key` answers
//! the first email's id and sends nothing new, as Resend does.
//!
//! The recipient's local part picks the behaviour: `fail2-…@` answers 500
//! to the first two requests of each idempotency key, `reject-…@` always
//! answers 422; anything else is sent. Every request is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The API key the worker is configured with (`RESEND_API_KEY`).
pub const API_KEY: &str = "re_test_0123456789abcdef";

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    /// The JSON body.
    pub body: Value,
    /// The status the stand-in answered.
    pub status: u16,
}

impl Recorded {
    /// The first `to` address.
    pub fn to(&self) -> &str {
        self.body["to"][0].as_str().unwrap_or_default()
    }

    /// A string field of the body (`subject`, `text`, `html`, `from`).
    pub fn field(&self, name: &str) -> &str {
        self.body[name].as_str().unwrap_or_default()
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Recorded>,
    /// Email id per idempotency key: what was sent.
    sent: HashMap<String, String>,
}

/// The running stand-in.
pub struct ResendStandIn {
    /// Base URL, e.g. `http://127.0.0.1:40123` (the worker's `RESEND_BASE_URL`).
    pub url: String,
    log: Arc<Mutex<Log>>,
}

impl ResendStandIn {
    /// The stand-in of this test binary, started on 127.0.0.1 at first use.
    pub fn shared() -> &'static ResendStandIn {
        static STANDIN: OnceLock<ResendStandIn> = OnceLock::new();
        STANDIN.get_or_init(|| {
            let log = Arc::new(Mutex::new(Log::default()));
            let app = Router::new().route("/emails", post(send)).with_state(log.clone());
            let listener =
                crate::runtime().block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a free port for the Resend stand-in");
            let url = format!("http://{}", listener.local_addr().expect("bound address"));
            crate::runtime().spawn(async move { axum::serve(listener, app).await.expect("the Resend stand-in serves") });
            ResendStandIn { url, log }
        })
    }

    /// Every request addressed to `to`, oldest first.
    pub fn requests_to(&self, to: &str) -> Vec<Recorded> {
        self.log.lock().unwrap().requests.iter().filter(|r| r.to() == to).cloned().collect()
    }

    /// The emails sent to `to` (accepted with 200, once per idempotency key).
    pub fn sent_to(&self, to: &str) -> Vec<Recorded> {
        let log = self.log.lock().unwrap();
        let mut seen = Vec::new();
        log.requests
            .iter()
            .filter(|r| r.to() == to && r.status == 200)
            .filter(|r| {
                let fresh = !seen.contains(&r.idempotency_key);
                seen.push(r.idempotency_key.clone());
                fresh
            })
            .cloned()
            .collect()
    }

    /// Waits until `count` emails were sent to `to` and answers them; panics after `wait`.
    pub async fn wait_for(&self, to: &str, count: usize, wait: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + wait;
        loop {
            let sent = self.sent_to(to);
            if sent.len() >= count {
                return sent;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} emails to {to} after {wait:?}; requests: {:?}",
                sent.len(),
                self.requests_to(to)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn error(status: StatusCode, name: &str, message: &str) -> Response {
    (status, Json(json!({"statusCode": status.as_u16(), "message": message, "name": name}))).into_response()
}

async fn send(State(log): State<Arc<Mutex<Log>>>, headers: HeaderMap, body: String) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut recorded = Recorded {
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        status: 200,
    };
    let mut log = log.lock().unwrap();
    let earlier = log.requests.iter().filter(|r| r.idempotency_key == recorded.idempotency_key && r.to() == recorded.to()).count();
    let to = recorded.to().to_string();
    let response = if recorded.authorization.as_deref() != Some(&format!("Bearer {API_KEY}")) {
        error(StatusCode::UNAUTHORIZED, "missing_api_key", "Missing API key in the authorization header")
    } else if recorded.body["from"].as_str().is_none() || to.is_empty() || recorded.body["subject"].as_str().is_none() {
        error(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", "from, to and subject are required")
    } else if to.starts_with("reject-") {
        error(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", "Invalid `to` field")
    } else if to.starts_with("fail2-") && earlier < 2 {
        error(StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error", "An unexpected error occurred")
    } else {
        let key = recorded.idempotency_key.clone().unwrap_or_else(|| format!("none-{}", log.requests.len()));
        let next = log.sent.len();
        let id = log.sent.entry(key).or_insert_with(|| format!("4ef9a417-02e9-4d39-ad75-{next:012}")).clone();
        Json(json!({ "id": id })).into_response()
    };
    recorded.status = response.status().as_u16();
    log.requests.push(recorded);
    response
}

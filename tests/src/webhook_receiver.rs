//! A local webhook receiver (the outside service outgoing webhooks call):
//! `POST /hook/{name}` records the request (headers and raw body) and
//! answers 204, or 500 while told to fail. Each test uses its own `name`,
//! so tests share one receiver without seeing each other's requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use edgechat_shared::api::integrations::WebhookDeliveryList;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    /// The raw body, as signed.
    pub body: Bytes,
    /// What the receiver answered.
    pub status: u16,
    pub at: Instant,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a webhook body is JSON")
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

#[derive(Default)]
struct Hooks {
    received: HashMap<String, Vec<Received>>,
    /// How many more requests of a hook answer 500 (`u32::MAX`: always).
    failures: HashMap<String, u32>,
    /// How long each request of a hook waits before it is answered.
    holds: HashMap<String, Duration>,
    /// Requests of each hook that arrived (answered or not yet).
    arrived: HashMap<String, usize>,
}

/// The running receiver.
#[derive(Clone)]
pub struct WebhookReceiver {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    hooks: Arc<Mutex<Hooks>>,
}

impl WebhookReceiver {
    /// Starts the receiver on 127.0.0.1 on a free port, on the tests' runtime.
    pub fn start() -> WebhookReceiver {
        let hooks = Arc::new(Mutex::new(Hooks::default()));
        let listener = crate::runtime().block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind the receiver");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let app = Router::new().route("/hook/{name}", post(receive)).with_state(hooks.clone());
        crate::runtime().spawn(async move { axum::serve(listener, app).await });
        WebhookReceiver { url, hooks }
    }

    /// The URL of hook `name`.
    pub fn hook_url(&self, name: &str) -> String {
        format!("{}/hook/{name}", self.url)
    }

    /// The next `n` requests of hook `name` answer 500 (`u32::MAX`: all of them).
    pub fn fail(&self, name: &str, n: u32) {
        self.hooks.lock().unwrap().failures.insert(name.to_string(), n);
    }

    /// Requests of hook `name` wait `hold` before they are answered (and recorded).
    pub fn hold(&self, name: &str, hold: Duration) {
        self.hooks.lock().unwrap().holds.insert(name.to_string(), hold);
    }

    /// How many requests of hook `name` arrived, answered or still held.
    pub fn arrived(&self, name: &str) -> usize {
        self.hooks.lock().unwrap().arrived.get(name).copied().unwrap_or(0)
    }

    /// Every request hook `name` got so far.
    pub fn received(&self, name: &str) -> Vec<Received> {
        self.hooks.lock().unwrap().received.get(name).cloned().unwrap_or_default()
    }

    /// Waits up to `wait` until `done` holds for hook `name`'s requests;
    /// answers them (the caller asserts).
    pub async fn wait_for(&self, name: &str, wait: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + wait;
        loop {
            let got = self.received(name);
            if done(&got) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(State(hooks): State<Arc<Mutex<Hooks>>>, Path(name): Path<String>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let hold = {
        let mut hooks = hooks.lock().unwrap();
        *hooks.arrived.entry(name.clone()).or_default() += 1;
        hooks.holds.get(&name).copied()
    };
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    let mut hooks = hooks.lock().unwrap();
    let status = match hooks.failures.get_mut(&name) {
        Some(n) if *n > 0 => {
            if *n != u32::MAX {
                *n -= 1;
            }
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::NO_CONTENT,
    };
    hooks.received.entry(name).or_default().push(Received { headers, body, status: status.as_u16(), at: Instant::now() });
    status
}

/// Polls `GET /v1/webhooks/{endpoint}/deliveries` (the delivery log, newest
/// first) as the operator of `token` every 100 ms until it satisfies `done`
/// or `timeout` passes; answers the last log read. The worker writes the log
/// after the receiver has answered, so a test that needs an attempt
/// recorded waits for the log, not for the receiver.
pub async fn wait_for_log(
    server: &crate::Server,
    token: &str,
    endpoint: i64,
    timeout: Duration,
    done: impl Fn(&WebhookDeliveryList) -> bool,
) -> WebhookDeliveryList {
    let deadline = Instant::now() + timeout;
    loop {
        let response = crate::http::get(server, &format!("/v1/webhooks/{endpoint}/deliveries"), token).await;
        let got: WebhookDeliveryList = crate::http::json_of(response, 200).await;
        if done(&got) || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

//! Shared harness of the EdgeChat integration tests, browser tests and
//! benches: a real `wrangler dev` per test binary (own port, own
//! `--persist-to` directory, stopped also when a test fails), seeded sites,
//! and an HTTP/SSE client for the widget API.

pub mod app;
pub mod browser;
pub mod email_standin;
pub mod http;
pub mod openai_mock;
pub mod push_standin;
pub mod soak;
pub mod socket;
pub mod stackfaq;
pub mod tenant;
pub mod visitor_stream;
pub mod webhook_receiver;
pub mod xss;

pub use http::*;
pub use socket::Socket;
pub use tenant::*;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgechat_shared::api::stream::{DoneMeta, StreamEvent, StreamRequest};
use edgechat_shared::sse;
use futures::StreamExt;
use xtask::wrangler::WranglerDev;

pub use libtest_mimic::{Arguments, Failed, Trial};

/// The error every test step may answer; a failed assertion panics instead.
pub type TestResult = Result<(), Failed>;

/// The demo site key, seeded in every test server with the demo knowledge base.
pub const DEMO_SITE_KEY: &str = xtask::DEMO_SITE_KEY;

/// The demo owner's login, seeded in every test server.
pub const DEMO_EMAIL: &str = xtask::seed::DEMO_OPERATOR_EMAIL;
/// The demo owner's password.
pub const DEMO_PASSWORD: &str = xtask::seed::DEMO_OPERATOR_PASSWORD;

/// The `JWT_SECRET` every test server runs with, so tests can mint tokens
/// (expired, tampered, `alg: none`) the way an attacker or a clock would.
pub const JWT_SECRET: &str = "edgechat-test-secret-0123456789abcdef0123456789abcdef";

/// One tokio runtime for every test of a binary.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime"))
}

/// A `wrangler dev` serving the built worker, seeded with the demo site.
pub struct Server {
    dev: std::sync::Mutex<WranglerDev>,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The vars it was started with (for [`Server::restart`]).
    vars: Vec<(String, String)>,
    /// The demo owner's access token and when it was issued ([`Server::demo_token`]).
    demo: tokio::sync::Mutex<Option<(String, std::time::Instant)>>,
}

impl Server {
    /// Starts a server for the test binary `name` in a fresh
    /// `target/test-runs/<name>` directory, with the demo site seeded. It
    /// lives for the whole binary; [`run_trials`] stops it.
    pub fn start(name: &str) -> &'static Server {
        Server::start_with(name, &[])
    }

    /// [`Server::start`] with extra `vars` for the worker (e.g. the
    /// responders' `OPENAI_BASE_URL`, `AI_TIMEOUT_MS`).
    pub fn start_with(name: &str, vars: &[(&str, &str)]) -> &'static Server {
        let dir = run_dir(name);
        let _ = std::fs::remove_dir_all(&dir);
        xtask::wrangler::migrate(&dir).unwrap_or_else(|e| panic!("migrations failed: {e}"));
        xtask::seed::demo_account(&dir).unwrap_or_else(|e| panic!("seeding the demo account failed: {e}"));
        let vars = [&[("JWT_SECRET", JWT_SECRET)], vars].concat();
        let dev = WranglerDev::spawn(&dir, xtask::wrangler::free_port().expect("free port"), &vars, false)
            .unwrap_or_else(|e| panic!("wrangler dev did not start: {e}"));
        xtask::seed::demo_kb(&dev.url).unwrap_or_else(|e| panic!("importing the demo knowledge base failed: {e}{}", dev.log_tail()));
        let url = dev.url.clone();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let vars = vars.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
        Box::leak(Box::new(Server { dev: std::sync::Mutex::new(dev), url, http, vars, demo: Default::default() }))
    }

    fn dev(&self) -> std::sync::MutexGuard<'_, WranglerDev> {
        self.dev.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many R2 objects of the server hold `needle` in their bytes: the
    /// blobs under `r2/` in its `--persist-to` directory (no route lists R2).
    pub fn r2_blobs_containing(&self, needle: &[u8]) -> usize {
        fn walk(dir: &std::path::Path, in_r2: bool, needle: &[u8], found: &mut usize) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                let in_r2 = in_r2 || entry.file_name() == "r2";
                if path.is_dir() {
                    walk(&path, in_r2, needle, found);
                } else if in_r2 && std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)) {
                    *found += 1;
                }
            }
        }
        let mut found = 0;
        walk(&self.persist_dir(), false, needle, &mut found);
        found
    }

    /// Waits up to 10 s for the count of R2 blobs holding `needle` to become `count`.
    pub async fn assert_r2_blobs(&self, needle: &[u8], count: usize, what: &str) {
        for _ in 0..50 {
            if self.r2_blobs_containing(needle) == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(self.r2_blobs_containing(needle), count, "{what}: R2 objects holding {:?}", String::from_utf8_lossy(needle));
    }

    /// The rows `sql` answers from this server's local D1
    /// ([`soak::d1_rows`]: `wrangler d1 execute --local`, a few seconds).
    pub fn d1_rows<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Vec<T> {
        soak::d1_rows(&self.persist_dir(), sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The `--persist-to` directory of this server.
    pub fn persist_dir(&self) -> PathBuf {
        self.dev().persist_dir.clone()
    }

    /// The port of wrangler's V8 inspector proxy for the worker's isolate
    /// (it changes when the server restarts); `None` while the server
    /// restarts (the restart holds the lock; this does not wait for it).
    pub fn try_inspector_port(&self) -> Option<u16> {
        match self.dev.try_lock() {
            Ok(dev) => Some(dev.inspector_port),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner().inspector_port),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        self.dev().log_tail()
    }

    /// Stops `wrangler dev` and starts it again on the same port, persist
    /// directory and vars: what survives is what `wrangler dev` persists
    /// (D1, R2, Durable Object storage), not what it holds in memory.
    pub fn restart(&self) {
        let mut dev = self.dev();
        dev.stop();
        let port = self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the server's URL names its port");
        let vars: Vec<(&str, &str)> = self.vars.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        let fresh = WranglerDev::spawn(&dev.persist_dir.clone(), port, &vars, false)
            .unwrap_or_else(|e| panic!("wrangler dev did not start again: {e}"));
        assert_eq!(fresh.url, self.url, "restarted on the same port");
        *dev = fresh;
    }

    /// Stops `wrangler dev` and all its processes.
    pub fn stop(&self) {
        self.dev().stop();
    }

    /// `GET {url}{path}`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).send().await.expect("GET reaches the server")
    }

    /// A request to `path` with `Authorization: Bearer <token>`.
    pub fn authed(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url)).bearer_auth(token)
    }

    /// Logs in through `POST /auth/login`; panics unless it answers 200.
    pub async fn login(&self, email: &str, password: &str) -> edgechat_shared::api::auth::TokenResponse {
        let response = self
            .http
            .post(format!("{}/auth/login", self.url))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST /auth/login reaches the server");
        assert_eq!(response.status(), 200, "login of {email}: {}", response.text().await.unwrap_or_default());
        response.json().await.expect("token JSON")
    }

    /// The demo owner's access token: one login per binary while the token
    /// has more than 5 of its 15 minutes left. A login each time would
    /// pass the per-email login limit (10 a minute, `LOGIN_EMAIL_LIMITER`)
    /// when a binary's trials ask for it faster than that.
    pub async fn demo_token(&self) -> String {
        let mut demo = self.demo.lock().await;
        match &*demo {
            Some((token, issued)) if issued.elapsed() < std::time::Duration::from_secs(10 * 60) => token.clone(),
            _ => {
                let token = self.login(DEMO_EMAIL, DEMO_PASSWORD).await.access_token;
                *demo = Some((token.clone(), std::time::Instant::now()));
                token
            }
        }
    }

    /// `POST /api/v1/chat/stream` with a raw JSON body.
    pub async fn post_stream_raw(&self, body: String) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/chat/stream", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST reaches the server")
    }

    /// `POST /api/v1/chat/stream` from the visitor's own client IP (see
    /// [`visitor_ip`]), reading every SSE event with its arrival time.
    pub async fn stream(&self, request: &StreamRequest) -> Streamed {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/api/v1/chat/stream", self.url))
            .header("content-type", "application/json")
            .header("cf-connecting-ip", visitor_ip(&request.session_id))
            .body(serde_json::to_string(request).expect("request serializes"))
            .send()
            .await
            .expect("POST reaches the server");
        Streamed::read(response, started).await
    }
}

/// The per-binary run directory under `target/test-runs/`.
pub fn run_dir(name: &str) -> PathBuf {
    xtask::root().join("target/test-runs").join(name)
}

/// What one `POST /api/v1/chat/stream` answered.
#[derive(Debug)]
pub struct Streamed {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: String,
    /// Each event with the time since the request started.
    pub events: Vec<(Duration, StreamEvent)>,
}

impl Streamed {
    /// Reads the SSE body of `response` to its end, each event with the time
    /// since `started`; panics when an event's data is not a [`StreamEvent`].
    pub async fn read(response: reqwest::Response, started: Instant) -> Streamed {
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let mut events = Vec::new();
        let mut parser = sse::Parser::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("the stream body reads to its end");
            for frame in parser.push(&chunk) {
                let event: StreamEvent =
                    serde_json::from_str(&frame.data).unwrap_or_else(|e| panic!("SSE data is not a stream event ({e}): {}", frame.data));
                events.push((started.elapsed(), event));
            }
        }
        Streamed { status, content_type, events }
    }

    /// The concatenated `chunk` contents.
    pub fn answer(&self) -> String {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                StreamEvent::Chunk { content } => Some(content.as_str()),
                _ => None,
            })
            .collect()
    }

    /// How many `chunk` events arrived.
    pub fn chunk_count(&self) -> usize {
        self.events.iter().filter(|(_, e)| matches!(e, StreamEvent::Chunk { .. })).count()
    }

    /// The `done` meta; panics when the stream did not end with `done`.
    pub fn done(&self) -> &DoneMeta {
        match self.events.last() {
            Some((_, StreamEvent::Done { meta })) => meta,
            other => panic!("the stream must end with done, ended with {other:?}"),
        }
    }

    /// Time to the first `chunk` event.
    pub fn first_chunk_after(&self) -> Option<Duration> {
        self.events.iter().find(|(_, e)| matches!(e, StreamEvent::Chunk { .. })).map(|(t, _)| *t)
    }

    /// Time to the `done` event.
    pub fn done_after(&self) -> Option<Duration> {
        self.events.iter().find(|(_, e)| matches!(e, StreamEvent::Done { .. })).map(|(t, _)| *t)
    }
}

/// The client IP a visitor's requests come from (`CF-Connecting-IP`): one
/// per session, as each visitor has their own, so the widget API's per-IP
/// rate limits count each visitor apart.
pub fn visitor_ip(session_id: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    session_id.hash(&mut hasher);
    let h = hasher.finish().to_be_bytes();
    format!("10.{}.{}.{}", h[0], h[1], h[2])
}

/// A fresh visitor session id (`sess_` + 128 random bits).
pub fn new_session_id() -> String {
    format!("sess_{:032x}", random_u128())
}

/// A fresh client message id.
pub fn new_message_id() -> String {
    format!("m_{:016x}", random_u128() as u64)
}

fn random_u128() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let mut a = state.build_hasher();
    a.write_u128(Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id()));
    let mut b = state.build_hasher();
    b.write_u64(a.finish());
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// A stream request from `session_id` to the demo site.
pub fn demo_request(session_id: &str, message: &str) -> StreamRequest {
    visitor_request(DEMO_SITE_KEY, session_id, message)
}

/// Runs `trials` with libtest's command line and output, then stops
/// `server` (so `wrangler dev` never outlives a failing run) and exits.
pub fn run_trials(server: &'static Server, trials: Vec<Trial>) -> ! {
    let args = Arguments::from_args();
    let conclusion = libtest_mimic::run(&args, trials);
    if conclusion.has_failed() {
        eprintln!("{}", server.log_tail());
    }
    server.stop();
    conclusion.exit()
}

/// The trials of test functions, each named after its function:
/// `trials!(server; a, b, c)` is `vec![trial("a", server, a), …]`.
#[macro_export]
macro_rules! trials {
    ($server:expr; $($name:ident),* $(,)?) => { vec![$($crate::trial(stringify!($name), $server, $name)),*] };
}

/// A trial whose body is async and uses the shared `server`.
pub fn trial<F, Fut>(name: &'static str, server: &'static Server, body: F) -> Trial
where
    F: FnOnce(&'static Server) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    Trial::test(name, move || {
        runtime().block_on(body(server));
        Ok(())
    })
}

//! The load and fault suite (`cargo xtask soak --minutes N`, and its short
//! CI version `tests/tests/soak.rs`), on loopback against a real `wrangler
//! dev`:
//!
//! - `visitors` visitors, each in their own conversation on a site answered
//!   by the OpenAI stand-in ([`crate::openai_mock`], model `switch:soak`),
//!   ask a question every 3–6 s over `POST /api/v1/chat/stream` and hold
//!   their live channel (`GET /api/v1/chat/events`), resuming it with
//!   `Last-Event-ID` whenever it ends;
//! - `operators` operators take conversations over, reply twice and hand
//!   them back;
//! - every `message.created` event goes to a webhook at the receiver
//!   stand-in ([`crate::webhook_receiver`]).
//!
//! Faults during the load, each at a fixed share of the run: the AI
//! stand-in answers HTTP 500 (which opens the circuit breaker), `wrangler
//! dev` is killed and started again on the same `--persist-to` state, the AI
//! stand-in stalls after its first piece, the webhook receiver answers 500;
//! all along, visitors drop their answer stream or their live channel now
//! and then and resume (a retry with the same `message_id`, `Last-Event-ID`).
//!
//! At the end the stored messages are read from D1 (`wrangler d1 execute
//! --local`): every acknowledged message (a visitor message whose `POST`
//! answered 200, an answer whose `done` named it, an operator message
//! answered 201) must be there exactly once, and every stored message must
//! have reached its visitor's live channel. Errors are counted by kind:
//! documented ones (429 and 503 with `Retry-After`; the AI error event that
//! offers a person while the AI stand-in fails or its breaker is open;
//! refused connections and cut streams while `wrangler dev` restarts) apart
//! from unexpected ones.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::sites::Site;
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::Role;
use edgechat_shared::sse;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use crate::openai_mock::MockOpenAi;
use crate::webhook_receiver::WebhookReceiver;
use crate::{new_message_id, new_session_id, visitor_ip, visitor_request, Server};

/// The stand-in model of the soak site: `ok`, or down / stalled on demand.
pub const MODEL: &str = "switch:soak";
/// The webhook receiver's hook name.
const HOOK: &str = "soak";
/// The worker's `AI_TIMEOUT_MS` in the soak (a stall fails after it).
const AI_TIMEOUT_MS: u64 = 3000;
/// The worker's `AI_BREAKER_COOLDOWN_SECONDS` in the soak.
const BREAKER_COOLDOWN_S: u64 = 5;
/// How long after a fault ends its errors still count as caused by it: a
/// breaker's cool-down and a timed-out answer, or clients reconnecting.
const FAULT_GRACE: Duration = Duration::from_secs(15);
/// How long visitors and operators may finish their last step after the load ends.
const DRAIN: Duration = Duration::from_secs(30);

/// What a soak run does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Concurrent visitors, one conversation each.
    pub visitors: usize,
    /// Concurrent operators (each signed in as the demo owner).
    pub operators: usize,
    /// How long the load lasts; faults happen at fixed shares of it.
    pub duration: Duration,
    /// How often workerd's RSS is read.
    pub rss_every: Duration,
}

/// The servers of a soak run: `wrangler dev` with the stand-ins as its AI
/// and webhook receiver.
pub struct Stack {
    pub server: &'static Server,
    pub mock: Arc<MockOpenAi>,
    pub receiver: WebhookReceiver,
}

impl Stack {
    /// Starts the stand-ins and a `wrangler dev` for run `name` (its state in
    /// `target/test-runs/<name>`), with a short AI timeout and breaker
    /// cool-down and local webhook receivers allowed.
    pub fn start(name: &str) -> Stack {
        let mock = Arc::new(MockOpenAi::start());
        let receiver = WebhookReceiver::start();
        let (timeout, cooldown) = (AI_TIMEOUT_MS.to_string(), BREAKER_COOLDOWN_S.to_string());
        let server = Server::start_with(
            name,
            &[
                ("WEBHOOKS_ALLOW_LOCAL", "true"),
                ("AI_ALLOW_LOCAL", "true"),
                ("WEBHOOK_RETRY_BASE_SECONDS", "2"),
                ("BUS_SWEEP_AFTER_SECONDS", "5"),
                ("AI_TIMEOUT_MS", &timeout),
                ("AI_BREAKER_COOLDOWN_SECONDS", &cooldown),
                // The worker logs its wasm memory at each Room heartbeat (see [`Report::rss`]).
                ("LOG_WASM_MEMORY", "true"),
            ],
        );
        Stack { server, mock, receiver }
    }
}

/// One memory sample of the server under load.
#[derive(Debug, Clone, Copy)]
pub struct MemorySample {
    /// Seconds since the start.
    pub at: u64,
    /// Which `wrangler dev` was sampled: its inspector port, new at each
    /// (re)start.
    pub server: u16,
    /// workerd's RSS (VmRSS of its processes), KiB: the runtime's memory,
    /// local D1, queues and every isolate, not only the worker's.
    pub rss_kib: u64,
    /// The RSS of the one workerd that runs the worker (the rest of
    /// `rss_kib` is wrangler's proxy), KiB.
    pub worker_rss_kib: Option<u64>,
    /// The worker isolate's live V8 heap after a full garbage collection,
    /// KiB ([`live_v8_heap_kib`]): the JavaScript objects the worker, its
    /// Rooms and Inboxes hold (not ArrayBuffer contents, nor what workerd
    /// holds for them natively: streams, sockets, storage caches).
    pub heap_kib: Option<u64>,
    /// The worker's wasm memory, KiB, as a Room heartbeat last logged it
    /// (Rust's allocations; wasm memory never shrinks).
    pub wasm_kib: Option<u64>,
}

impl MemorySample {
    /// The worker's JS heap and wasm linear memory together.
    pub fn worker_kib(&self) -> Option<u64> {
        Some(self.heap_kib? + self.wasm_kib?)
    }
}

/// The outcome of a run; [`Report::print`] shows it.
#[derive(Debug, Default)]
pub struct Report {
    /// Acknowledged messages missing from D1.
    pub lost: usize,
    /// Messages stored more than once (extra copies).
    pub duplicated: usize,
    /// Stored messages that never reached their visitor's live channel.
    pub gaps: usize,
    /// Errors by kind that no documented behaviour or injected fault explains.
    pub unexpected: BTreeMap<String, u64>,
    /// Errors by kind that are documented behaviour or caused by a fault.
    pub expected: BTreeMap<String, u64>,
    /// Samples of each step, in ms.
    pub steps: BTreeMap<&'static str, Vec<Duration>>,
    /// Memory over the run: workerd's RSS beside the worker isolate's live
    /// JS heap and its wasm linear memory, which tells a leak of objects
    /// the worker holds from the growth of the runtime around it.
    pub rss: Vec<MemorySample>,
    /// Faults injected, in order: (seconds since the start, what).
    pub faults: Vec<(u64, String)>,
    /// Acknowledged messages: visitor, AI, operator.
    pub acknowledged: (usize, usize, usize),
    /// Live-channel resumes with `Last-Event-ID`, and events delivered twice.
    pub resumes: u64,
    pub redelivered: u64,
    /// Webhook requests received, and how many were answered 500.
    pub webhooks: (usize, usize),
    pub config: Option<Config>,
}

impl Report {
    /// Total unexpected errors.
    pub fn unexpected_total(&self) -> u64 {
        self.unexpected.values().sum()
    }

    /// Prints the report; its last line is `lost: N, duplicated: N`.
    pub fn print(&self) {
        if let Some(c) = &self.config {
            println!("\n== soak: {} visitors, {} operators, {:?} of load ==", c.visitors, c.operators, c.duration);
        }
        println!("\n-- faults injected --");
        for (at, what) in &self.faults {
            println!("  t={at:>4}s  {what}");
        }
        println!("\n-- memory: workerd's RSS, the worker isolate's live JS heap (after a full GC) and its wasm linear memory --");
        let mib = |kib: u64| kib as f64 / 1024.0;
        let or_dash = |kib: Option<u64>| kib.map(|k| format!("{:>6.1} MiB", mib(k))).unwrap_or_else(|| format!("{:>10}", "-"));
        for sample in &self.rss {
            println!(
                "  t={:>4}s  RSS {:>7.1} MiB (the worker's workerd {})   JS heap {}   wasm {}",
                sample.at,
                mib(sample.rss_kib),
                or_dash(sample.worker_rss_kib),
                or_dash(sample.heap_kib),
                or_dash(sample.wasm_kib)
            );
        }
        let warm = warm_samples(&self.rss);
        if let Some(slope) = slope(&warm, |s| Some(s.rss_kib)) {
            println!("  workerd RSS growth after warm-up (least squares; from t≥30s, restart excluded): {slope:.3} MiB/s");
        }
        if let Some(slope) = slope(&warm, |s| s.worker_rss_kib) {
            println!("  of which the worker's workerd (not wrangler's proxy): {slope:.3} MiB/s");
        }
        let held: Vec<u64> = warm.iter().filter_map(|s| s.worker_kib()).collect();
        if let (Some(low), Some(high), Some(slope)) = (held.iter().min(), held.iter().max(), slope(&warm, MemorySample::worker_kib)) {
            println!(
                "  the worker's JS heap + wasm memory after warm-up: {:.1} to {:.1} MiB, growth {slope:.3} MiB/s",
                mib(*low),
                mib(*high)
            );
        }
        println!("\n-- steps (ms) --");
        for (step, samples) in &self.steps {
            let mut sorted = samples.clone();
            sorted.sort();
            if sorted.is_empty() {
                println!("  {step:<34} n=0");
                continue;
            }
            let p = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
            println!("  {step:<34} n={:<6} p50 {:>8.1}   p99 {:>8.1}   max {:>8.1}", sorted.len(), p(0.5), p(0.99), p(1.0));
        }
        println!("\n-- errors, documented or caused by an injected fault --");
        for (kind, n) in &self.expected {
            println!("  {n:>6}  {kind}");
        }
        println!("\n-- errors, unexpected --");
        for (kind, n) in &self.unexpected {
            println!("  {n:>6}  {kind}");
        }
        println!("  total unexpected: {}", self.unexpected_total());
        println!("\n-- totals --");
        let (v, a, o) = self.acknowledged;
        println!("  acknowledged messages: {} ({v} visitor, {a} AI answers, {o} operator)", v + a + o);
        println!("  live channels resumed with Last-Event-ID: {}, events delivered twice: {}", self.resumes, self.redelivered);
        println!("  stored messages missing from their visitor's live channel (gaps): {}", self.gaps);
        println!("  webhook requests received: {} ({} answered 500 by the failing receiver)", self.webhooks.0, self.webhooks.1);
        println!("lost: {}, duplicated: {}", self.lost, self.duplicated);
    }
}

/// The samples after warm-up: from t ≥ 30 s, leaving out everything
/// before the last restart (another `server`) and the first 30 s after it
/// (a fresh workerd warms up again).
fn warm_samples(samples: &[MemorySample]) -> Vec<MemorySample> {
    let mut warm = Vec::new();
    let mut server = samples.first().map(|s| s.server);
    let mut warm_from = 30u64;
    for sample in samples {
        if server != Some(sample.server) {
            warm_from = sample.at + 30;
            warm.clear();
        }
        server = Some(sample.server);
        if sample.at >= warm_from {
            warm.push(*sample);
        }
    }
    warm
}

/// MiB/s of growth of `value` (KiB) over `samples` (least squares); `None`
/// with fewer than 3 values.
fn slope(samples: &[MemorySample], value: impl Fn(&MemorySample) -> Option<u64>) -> Option<f64> {
    let points: Vec<(f64, f64)> = samples.iter().filter_map(|s| Some((s.at as f64, value(s)? as f64 / 1024.0))).collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + (x - mx) * (y - my), b + (x - mx) * (x - mx)));
    Some(num / den)
}

/// What kind of fault a window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Restart,
    Ai,
}

/// State shared by every task of a run.
struct Run {
    server: &'static Server,
    site_key: String,
    started: Instant,
    /// The load stops (no new question or takeover) after this.
    load_until: Instant,
    /// Live channels stop after this is set.
    stop: AtomicBool,
    /// (kind, from, to: `None` while active).
    windows: Mutex<Vec<(Fault, Instant, Option<Instant>)>>,
    expected: Mutex<BTreeMap<String, u64>>,
    unexpected: Mutex<BTreeMap<String, u64>>,
    steps: Mutex<BTreeMap<&'static str, Vec<Duration>>>,
    /// Conversations visitors started, for operators to take over.
    conversations: Mutex<Vec<i64>>,
    /// Conversations an operator holds now.
    held: Mutex<BTreeSet<i64>>,
    /// Operator message content → when its send started.
    operator_sent: Mutex<HashMap<String, Instant>>,
    acked_visitor: Mutex<Vec<String>>,
    acked_ai: Mutex<BTreeSet<i64>>,
    acked_operator: Mutex<Vec<String>>,
    /// Seqs each conversation's live channel delivered.
    seen: Mutex<HashMap<i64, BTreeSet<i64>>>,
    resumes: Mutex<u64>,
    redelivered: Mutex<u64>,
    /// Streaming requests and answers (bounded by a whole-request timeout).
    http: reqwest::Client,
    /// Live channels (no whole-request timeout; the 20 s heartbeat keeps them reading).
    live: reqwest::Client,
}

impl Run {
    fn in_window(&self, kind: Fault, at: Instant) -> bool {
        self.windows.lock().unwrap().iter().any(|&(k, from, to)| k == kind && at >= from && to.is_none_or(|to| at <= to + FAULT_GRACE))
    }

    /// Counts an error of `kind`: expected when documented (`documented`) or
    /// when it happened during a fault of `cause`.
    fn error(&self, kind: &str, documented: bool, cause: Option<Fault>, at: Instant) {
        let expected = documented || cause.is_some_and(|c| self.in_window(c, at));
        let (map, label) = match (expected, cause, documented) {
            (true, Some(Fault::Restart), false) => (&self.expected, format!("{kind} (wrangler dev restarting)")),
            (true, Some(Fault::Ai), false) => (&self.expected, format!("{kind} (AI stand-in failing or its breaker open)")),
            (true, _, _) => (&self.expected, kind.to_string()),
            (false, _, _) => (&self.unexpected, kind.to_string()),
        };
        *map.lock().unwrap().entry(label).or_default() += 1;
    }

    /// A connection-level error (refused, reset, timed out), expected while `wrangler dev` restarts.
    fn transport_error(&self, what: &str, err: &reqwest::Error) {
        let kind = if err.is_timeout() {
            "timeout"
        } else if err.is_connect() {
            "connection refused"
        } else {
            "connection error"
        };
        self.error(&format!("{what}: {kind}"), false, Some(Fault::Restart), Instant::now());
    }

    fn sample(&self, step: &'static str, took: Duration) {
        self.steps.lock().unwrap().entry(step).or_default().push(took);
    }

    fn elapsed_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    fn loading(&self) -> bool {
        Instant::now() < self.load_until
    }
}

/// A small deterministic generator (SplitMix64) for think times and drops.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `true` with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }

    fn between(&mut self, from: Duration, to: Duration) -> Duration {
        from + Duration::from_millis(self.next() % (to - from).as_millis().max(1) as u64)
    }
}

/// The `Retry-After` of a response in seconds (1 when absent).
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// Runs the soak on `stack` with `config`; stops the server at the end
/// (D1 is read from its `--persist-to` directory).
pub async fn run(stack: &Stack, config: Config) -> Report {
    let server = stack.server;
    let token = server.demo_token().await;
    let site = soak_site(server, &token, &stack.mock).await;
    let hook: Value = crate::json_of(
        server
            .authed(Method::POST, "/v1/webhooks", &token)
            .json(&json!({"url": stack.receiver.hook_url(HOOK), "events": ["message.created"]}))
            .send()
            .await
            .expect("POST /v1/webhooks"),
        201,
    )
    .await;
    assert!(hook["id"].is_i64(), "webhook endpoint created: {hook}");
    let started = Instant::now();
    let run = Arc::new(Run {
        server,
        site_key: site.site_key.clone(),
        started,
        load_until: started + config.duration,
        stop: AtomicBool::new(false),
        windows: Mutex::default(),
        expected: Mutex::default(),
        unexpected: Mutex::default(),
        steps: Mutex::default(),
        conversations: Mutex::default(),
        held: Mutex::default(),
        operator_sent: Mutex::default(),
        acked_visitor: Mutex::default(),
        acked_ai: Mutex::default(),
        acked_operator: Mutex::default(),
        seen: Mutex::default(),
        resumes: Mutex::default(),
        redelivered: Mutex::default(),
        http: reqwest::Client::builder().timeout(Duration::from_secs(60)).pool_max_idle_per_host(1024).build().expect("client"),
        live: reqwest::Client::builder().read_timeout(Duration::from_secs(45)).build().expect("client"),
    });
    let rss = Arc::new(Mutex::new(Vec::new()));
    let sampler = tokio::spawn(sample_memory(run.clone(), config.rss_every, rss.clone()));
    let faults = tokio::spawn(inject_faults(run.clone(), stack.mock.clone(), stack.receiver.clone(), config.duration));
    let mock = &stack.mock;
    let mut tasks = Vec::new();
    for index in 0..config.visitors {
        // Arrivals spread over the first 5 s (or the first tenth of a short run).
        let delay = Duration::from_millis((index as u64 * 5000 / config.visitors as u64).min(config.duration.as_millis() as u64 / 10));
        tasks.push(tokio::spawn(visitor(run.clone(), index, delay)));
    }
    let operators: Vec<_> = (0..config.operators).map(|index| tokio::spawn(operator(run.clone(), index))).collect();
    let mut channels = Vec::new();
    for task in tasks {
        match task.await {
            Ok(channel) => channels.extend(channel),
            Err(err) => run.error(&format!("visitor task panicked: {err}"), false, None, Instant::now()),
        }
    }
    for task in operators {
        if let Err(err) = task.await {
            run.error(&format!("operator task panicked: {err}"), false, None, Instant::now());
        }
    }
    let faults = faults.await.expect("fault task");
    mock.set_down(MODEL, false);
    mock.set_stalled(MODEL, false);
    // Let the live channels catch up, then close them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    run.stop.store(true, Ordering::SeqCst);
    for channel in channels {
        let _ = channel.await;
    }
    sampler.abort();
    let webhooks = stack.receiver.received(HOOK);
    let webhooks = (webhooks.len(), webhooks.iter().filter(|r| r.status == 500).count());
    let persist = server.persist_dir();
    tokio::task::spawn_blocking(move || server.stop()).await.expect("stop task");
    let rows = tokio::task::spawn_blocking(move || stored_messages(&persist, site.id)).await.expect("D1 read").expect("D1 read");
    let mut report = verify(&run, &rows);
    report.rss = rss.lock().unwrap().clone();
    report.faults = faults;
    report.webhooks = webhooks;
    report.config = Some(config);
    report
}

/// A new site of the demo account answered by the stand-in's [`MODEL`].
async fn soak_site(server: &Server, token: &str, mock: &MockOpenAi) -> Site {
    let responder = json!({"kind": "openai", "model": MODEL, "base_url": mock.url, "api_key": "sk-soak"});
    let response = server
        .authed(Method::POST, "/v1/sites", token)
        .json(&json!({"name": crate::unique("Soak site"), "responder": responder}))
        .send()
        .await
        .expect("POST /v1/sites");
    crate::json_of(response, 201).await
}

/// One visitor: a question every 3–6 s until the load ends, each retried
/// with its `message_id` until answered; the live channel held throughout.
async fn visitor(run: Arc<Run>, index: usize, delay: Duration) -> Option<tokio::task::JoinHandle<()>> {
    tokio::time::sleep(delay).await;
    let session = new_session_id();
    let mut rng = Rng::new(index as u64 * 7919 + 1);
    let mut live: Option<tokio::task::JoinHandle<()>> = None;
    let mut question = 0;
    while run.loading() {
        question += 1;
        let content = format!("soak v{index} q{question} {}: how do I install the widget?", &session[5..17]);
        let mut request = visitor_request(&run.site_key, &session, &content);
        request.message_id = Some(new_message_id());
        if let Some(conversation_id) = ask(&run, &session, &request, &mut rng).await {
            if live.is_none() {
                run.conversations.lock().unwrap().push(conversation_id);
                live = Some(tokio::spawn(live_channel(run.clone(), session.clone(), conversation_id, index)));
            }
        }
        tokio::time::sleep(rng.between(Duration::from_secs(3), Duration::from_secs(6))).await;
    }
    // The live channel goes on until the run stops.
    live
}

/// Sends `request` until a `done` or an `error` event ends its stream (or
/// the drain time is over); answers the conversation id once known.
async fn ask(run: &Run, session: &str, request: &StreamRequest, rng: &mut Rng) -> Option<i64> {
    let give_up = run.load_until + DRAIN;
    let mut acked = false;
    let mut first_attempt = true;
    let ip = visitor_ip(session);
    while Instant::now() < give_up {
        let attempt = first_attempt;
        first_attempt = false;
        let sent = Instant::now();
        let response = match run
            .http
            .post(format!("{}/api/v1/chat/stream", run.server.url))
            .header("cf-connecting-ip", &ip)
            .json(request)
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => {
                run.transport_error("POST /stream", &err);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            let wait = retry_after(&response);
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let code = body["error"].as_str().unwrap_or("no envelope").to_string();
            match (status, wait) {
                (429 | 503, Some(wait)) => {
                    run.error(&format!("POST /stream: {status} {code} with Retry-After"), true, None, sent);
                    tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
                }
                _ => {
                    run.error(&format!("POST /stream: {status} {code}"), false, Some(Fault::Restart), sent);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            continue;
        }
        if !acked {
            acked = true;
            run.sample("visitor send → ack (200)", sent.elapsed());
            run.acked_visitor.lock().unwrap().push(request.message.clone());
        }
        // Now and then the visitor closes the page mid-answer, then comes back.
        let drop_after_chunk = rng.chance(0.03);
        let mut parser = sse::Parser::new();
        let mut body = response.bytes_stream();
        let mut first_chunk = true;
        let mut ended = false;
        'read: while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    run.transport_error("POST /stream body", &err);
                    break;
                }
            };
            for frame in parser.push(&chunk) {
                match serde_json::from_str::<StreamEvent>(&frame.data) {
                    Ok(StreamEvent::Chunk { .. }) => {
                        if first_chunk && attempt {
                            run.sample("visitor send → first chunk", sent.elapsed());
                        }
                        first_chunk = false;
                        if drop_after_chunk {
                            break 'read;
                        }
                    }
                    Ok(StreamEvent::Done { meta }) => {
                        if attempt {
                            run.sample("visitor send → answer done", sent.elapsed());
                        }
                        if let Some(answer) = meta.answer_id {
                            run.acked_ai.lock().unwrap().insert(answer);
                        }
                        return Some(meta.conversation_id);
                    }
                    Ok(StreamEvent::Error { handoff_offered, .. }) => {
                        // Documented (README, "Circuit breaker"): a failed or skipped model ends the
                        // stream with this event offering a person; the visitor message stays stored.
                        let kind = format!("AI error event (handoff_offered: {handoff_offered})");
                        run.error(&kind, false, Some(Fault::Ai), Instant::now());
                        ended = true;
                        break 'read;
                    }
                    Err(err) => {
                        run.error(&format!("POST /stream: unparsable event ({err})"), false, None, sent);
                    }
                }
            }
        }
        if ended {
            // The widget offers a person; this visitor asks the next question instead.
            return None;
        }
        if !drop_after_chunk {
            // When the cut is seen, not when the message was sent: a stream
            // that began just before wrangler dev was killed is cut by the kill.
            run.error("POST /stream: stream cut before done", false, Some(Fault::Restart), Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if !acked {
        run.error("visitor message never acknowledged", false, None, Instant::now());
    }
    None
}

/// The visitor's live channel: reads message events, resuming with
/// `Last-Event-ID` when the stream ends (or is dropped on purpose now and
/// then), until the run stops.
async fn live_channel(run: Arc<Run>, session: String, conversation_id: i64, index: usize) {
    let mut rng = Rng::new(index as u64 * 104_729 + 3);
    let mut last_seq: i64 = 0;
    let mut first = true;
    let url = format!("{}/api/v1/chat/events?site_key={}&session_id={session}", run.server.url, run.site_key);
    // Each device has its own address; this visitor's channel counts apart from its sends.
    let ip = format!("10.250.{}.{}", index / 250, index % 250 + 1);
    while !run.stop.load(Ordering::SeqCst) {
        if !first {
            *run.resumes.lock().unwrap() += 1;
        }
        first = false;
        let opened = Instant::now();
        let mut request = run.live.get(&url).header("cf-connecting-ip", &ip);
        if last_seq > 0 {
            request = request.header("last-event-id", last_seq.to_string());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                run.transport_error("GET /events", &err);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            let wait = retry_after(&response);
            match (status, wait) {
                (429 | 503, Some(wait)) => {
                    run.error(&format!("GET /events: {status} with Retry-After"), true, None, opened);
                    sleep_unless_stopped(&run, Duration::from_secs(wait.clamp(1, 60))).await;
                }
                _ => {
                    run.error(&format!("GET /events: {status}"), false, Some(Fault::Restart), opened);
                    sleep_unless_stopped(&run, Duration::from_secs(1)).await;
                }
            }
            continue;
        }
        // Drop the channel on purpose after 10–40 s, as a phone losing its network.
        let drop_at = opened + rng.between(Duration::from_secs(10), Duration::from_secs(40));
        let drops = rng.chance(0.5);
        let mut parser = sse::Parser::new();
        let mut body = response.bytes_stream();
        loop {
            if run.stop.load(Ordering::SeqCst) || (drops && Instant::now() > drop_at) {
                break;
            }
            let chunk = match tokio::time::timeout(Duration::from_millis(500), body.next()).await {
                Err(_) => continue,
                Ok(None) => break,
                Ok(Some(Ok(chunk))) => chunk,
                Ok(Some(Err(err))) => {
                    run.transport_error("GET /events body", &err);
                    break;
                }
            };
            for frame in parser.push(&chunk) {
                if frame.data.is_empty() {
                    continue;
                }
                let Ok(event) = serde_json::from_str::<LiveEvent>(&frame.data) else {
                    run.error("GET /events: unparsable event", false, None, Instant::now());
                    continue;
                };
                if let LiveEvent::Message { message, .. } = event {
                    if message.role == Role::Operator {
                        if let Some(sent) = run.operator_sent.lock().unwrap().get(&message.content) {
                            run.sample("operator reply → visitor SSE", sent.elapsed());
                        }
                    }
                    let fresh = run.seen.lock().unwrap().entry(conversation_id).or_default().insert(message.seq);
                    if !fresh {
                        *run.redelivered.lock().unwrap() += 1;
                    }
                    last_seq = last_seq.max(message.seq);
                }
            }
        }
    }
}

async fn sleep_unless_stopped(run: &Run, wait: Duration) {
    let until = Instant::now() + wait;
    while Instant::now() < until && !run.stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One operator: takes a conversation over, replies twice, hands it back,
/// until the load ends.
async fn operator(run: Arc<Run>, index: usize) {
    let mut rng = Rng::new(index as u64 * 31 + 11);
    let mut token = login(&run).await;
    let mut reply = 0;
    while run.loading() {
        let candidate = {
            let conversations = run.conversations.lock().unwrap();
            let mut held = run.held.lock().unwrap();
            let free: Vec<i64> = conversations.iter().copied().filter(|c| !held.contains(c)).collect();
            let pick = (!free.is_empty()).then(|| free[(rng.next() % free.len() as u64) as usize]);
            if let Some(pick) = pick {
                held.insert(pick);
            }
            pick
        };
        let Some(conversation_id) = candidate else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let started = Instant::now();
        if operator_call(&run, &mut token, &format!("/v1/chat/conversations/{conversation_id}/takeover"), None).await.is_some() {
            run.sample("operator takeover (POST)", started.elapsed());
            for _ in 0..2 {
                reply += 1;
                let content = format!("soak op{index} r{reply} c{conversation_id}: a person here, how can I help?");
                let body = json!({"conversation_id": conversation_id, "content": content, "message_id": new_message_id()});
                run.operator_sent.lock().unwrap().insert(content.clone(), Instant::now());
                let sent = Instant::now();
                if operator_call(&run, &mut token, "/v1/chat/messages/send", Some(body)).await.is_some() {
                    run.sample("operator send → ack (201)", sent.elapsed());
                    run.acked_operator.lock().unwrap().push(content);
                }
                tokio::time::sleep(rng.between(Duration::from_millis(500), Duration::from_millis(1500))).await;
            }
            let started = Instant::now();
            if operator_call(&run, &mut token, &format!("/v1/chat/conversations/{conversation_id}/handback"), None).await.is_some() {
                run.sample("operator handback (POST)", started.elapsed());
            }
        }
        run.held.lock().unwrap().remove(&conversation_id);
        tokio::time::sleep(rng.between(Duration::from_millis(500), Duration::from_millis(1500))).await;
    }
}

/// Signs the operator in as the demo owner, retrying while the server restarts.
async fn login(run: &Run) -> String {
    loop {
        assert!(Instant::now() < run.load_until + DRAIN, "the operator could not sign in again before the drain ended");
        let response = run
            .http
            .post(format!("{}/auth/login", run.server.url))
            .json(&json!({"email": crate::DEMO_EMAIL, "password": crate::DEMO_PASSWORD}))
            .send()
            .await;
        match response {
            Ok(response) if response.status() == 200 => {
                let tokens: Value = response.json().await.expect("token JSON");
                return tokens["access_token"].as_str().expect("access_token").to_string();
            }
            Ok(response) => {
                let status = response.status().as_u16();
                run.error(&format!("POST /auth/login: {status}"), false, Some(Fault::Restart), Instant::now());
            }
            Err(err) => run.transport_error("POST /auth/login", &err),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `POST path` as the operator (with `body`, retried unchanged, so a send
/// keeps its `message_id`) until it succeeds or the drain ends; answers the
/// JSON answer.
async fn operator_call(run: &Run, token: &mut String, path: &str, body: Option<Value>) -> Option<Value> {
    let give_up = run.load_until + DRAIN;
    let what = if path.ends_with("/send") {
        "POST /v1/chat/messages/send".to_string()
    } else {
        format!("POST …/{}", path.rsplit('/').next().unwrap_or(""))
    };
    while Instant::now() < give_up {
        let at = Instant::now();
        let mut request = run.http.post(format!("{}{path}", run.server.url)).bearer_auth(token.as_str());
        if let Some(body) = &body {
            request = request.json(body);
        }
        match request.send().await {
            Err(err) => run.transport_error(&what, &err),
            Ok(response) if response.status().is_success() => return Some(response.json().await.unwrap_or(Value::Null)),
            Ok(response) => {
                let status = response.status().as_u16();
                let wait = retry_after(&response);
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                let code = answer["error"].as_str().unwrap_or("no envelope").to_string();
                match (status, wait) {
                    (401, _) => *token = login(run).await,
                    (429 | 503, Some(wait)) => {
                        run.error(&format!("{what}: {status} {code} with Retry-After"), true, None, at);
                        tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
                        continue;
                    }
                    _ => run.error(&format!("{what}: {status} {code}"), false, Some(Fault::Restart), at),
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    None
}

/// The faults, at fixed shares of the load: AI down (HTTP 500) at 15 %,
/// webhook receiver failing from 20 %, `wrangler dev` restart at 40 %, AI
/// stalling at 70 %; each AI fault lasts a tenth of the run (4–20 s).
async fn inject_faults(run: Arc<Run>, mock: Arc<MockOpenAi>, receiver: WebhookReceiver, duration: Duration) -> Vec<(u64, String)> {
    let mut log = Vec::new();
    let at = |share: f64| tokio::time::Instant::from_std(run.started + duration.mul_f64(share));
    let length = duration.mul_f64(0.1).clamp(Duration::from_secs(4), Duration::from_secs(20));
    tokio::time::sleep_until(at(0.15)).await;
    log.push((run.elapsed_s(), format!("AI stand-in answers HTTP 500 for {length:?}")));
    let window = open_window(&run, Fault::Ai);
    mock.set_down(MODEL, true);
    tokio::time::sleep(length).await;
    mock.set_down(MODEL, false);
    close_window(&run, window);
    tokio::time::sleep_until(at(0.2)).await;
    log.push((run.elapsed_s(), "webhook receiver answers 500 to its next 100 requests".into()));
    receiver.fail(HOOK, 100);
    tokio::time::sleep_until(at(0.4)).await;
    let window = open_window(&run, Fault::Restart);
    let server = run.server;
    let down = Instant::now();
    match tokio::task::spawn_blocking(move || server.restart()).await {
        Ok(()) => log.push((
            run.elapsed_s(),
            format!("wrangler dev killed and started again on the same state ({:.1?} until it answered)", down.elapsed()),
        )),
        // Under overload a fresh `wrangler dev` may not answer `/health` within its start timeout.
        Err(err) => {
            log.push((run.elapsed_s(), "wrangler dev killed; it did not answer again within its start timeout".into()));
            let why = err.to_string().lines().next().unwrap_or_default().to_string();
            run.error(&format!("wrangler dev restart failed: {why}"), false, None, Instant::now());
        }
    }
    close_window(&run, window);
    tokio::time::sleep_until(at(0.7)).await;
    log.push((run.elapsed_s(), format!("AI stand-in stalls after its first piece for {length:?}")));
    let window = open_window(&run, Fault::Ai);
    mock.set_stalled(MODEL, true);
    tokio::time::sleep(length).await;
    mock.set_stalled(MODEL, false);
    close_window(&run, window);
    log
}

fn open_window(run: &Run, kind: Fault) -> usize {
    let mut windows = run.windows.lock().unwrap();
    windows.push((kind, Instant::now(), None));
    windows.len() - 1
}

fn close_window(run: &Run, index: usize) {
    run.windows.lock().unwrap()[index].2 = Some(Instant::now());
}

/// Every `every`, reads workerd's VmRSS ([`workerd_rss_kib`]), the worker
/// isolate's live V8 heap ([`live_v8_heap_kib`]) and the wasm memory the
/// server's log last gave ([`last_wasm_memory_kib`]) into `samples`; the
/// server is looked up again each time, so a restarted one is followed.
async fn sample_memory(run: Arc<Run>, every: Duration, samples: Arc<Mutex<Vec<MemorySample>>>) {
    let persist_dir = run.server.persist_dir();
    loop {
        tokio::time::sleep(every).await;
        // No sample while the server restarts (its lock is held throughout).
        let Some(server) = run.server.try_inspector_port() else { continue };
        let heap_kib = live_v8_heap_kib(server).await;
        let dir = persist_dir.clone();
        if let Ok(Some(((rss_kib, worker_rss_kib), wasm_kib))) =
            tokio::task::spawn_blocking(move || workerd_rss_kib(&dir).map(|kib| (kib, last_wasm_memory_kib(&dir)))).await
        {
            samples.lock().unwrap().push(MemorySample { at: run.elapsed_s(), server, rss_kib, worker_rss_kib, heap_kib, wasm_kib });
        }
    }
}

/// The worker isolate's live V8 heap, KiB: a full garbage collection, then
/// its used size, asked over the Chrome DevTools Protocol
/// (`HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`) through
/// wrangler's inspector proxy on `inspector_port`, which admits only a
/// local `Origin`. `None` when it does not answer within 5 s (e.g. while
/// the server restarts).
pub async fn live_v8_heap_kib(inspector_port: u16) -> Option<u64> {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    use tokio_tungstenite::tungstenite::Message;
    let mut request = format!("ws://127.0.0.1:{inspector_port}/ws").into_client_request().ok()?;
    request.headers_mut().insert("origin", HeaderValue::from_static("http://localhost"));
    let probe = async {
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.ok()?;
        // One command at a time: the heap is read only once the collection
        // has answered (events and the proxy's own messages are skipped).
        let mut used = None;
        for (id, method) in [(1, "HeapProfiler.collectGarbage"), (2, "Runtime.getHeapUsage")] {
            ws.send(Message::text(json!({"id": id, "method": method}).to_string())).await.ok()?;
            let reply = loop {
                let Message::Text(text) = ws.next().await?.ok()? else { continue };
                let reply: Value = serde_json::from_str(&text).ok()?;
                if reply["id"] == id {
                    break reply;
                }
            };
            if reply.get("error").is_some() {
                return None;
            }
            used = reply["result"]["usedSize"].as_f64();
        }
        let _ = ws.close(None).await;
        used.map(|bytes| (bytes / 1024.0) as u64)
    };
    tokio::time::timeout(Duration::from_secs(5), probe).await.ok().flatten()
}

/// The last `wasm memory: N KiB` line of the server's log
/// (`persist_dir/wrangler.log`, written by the Room heartbeat when the var
/// `LOG_WASM_MEMORY` is `true`).
pub fn last_wasm_memory_kib(persist_dir: &Path) -> Option<u64> {
    let log = std::fs::read_to_string(persist_dir.join("wrangler.log")).ok()?;
    log.lines().rev().find_map(|line| line.split_once("wasm memory: ")?.1.strip_suffix(" KiB")?.trim().parse().ok())
}

/// The VmRSS (KiB) of the workerd processes of the `wrangler dev` started
/// with `--persist-to persist_dir`, all together and of the one that runs
/// the worker (started with `--inspector-addr`; the other runs wrangler's
/// proxies): its node process is found by its command line, workerd among
/// its descendants (`/proc/PID/stat` parents).
pub fn workerd_rss_kib(persist_dir: &Path) -> Option<(u64, Option<u64>)> {
    let dir = persist_dir.to_string_lossy().into_owned();
    let mut parents: HashMap<u32, u32> = HashMap::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    // Processes started with `--inspector-addr`: the workerd that runs the worker.
    let mut inspected: HashSet<u32> = HashSet::new();
    let mut wrangler = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after its `)`.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let comm = head.split_once('(').map(|(_, c)| c.to_string()).unwrap_or_default();
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        parents.insert(pid, ppid);
        names.insert(pid, comm);
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if args.iter().any(|a| a.starts_with("--inspector-addr")) {
            inspected.insert(pid);
        }
        if args.iter().any(|a| a.ends_with("wrangler.js"))
            && args.windows(2).any(|w| w[0] == "--persist-to" && w[1] == dir)
            && args.iter().any(|a| a == "dev")
        {
            wrangler = Some(pid);
        }
    }
    let wrangler = wrangler?;
    let descends = |mut pid: u32| {
        for _ in 0..8 {
            match parents.get(&pid) {
                Some(&parent) if parent == wrangler => return true,
                Some(&parent) if parent > 1 => pid = parent,
                _ => return false,
            }
        }
        false
    };
    let mut total = None;
    let mut worker = None;
    for (&pid, name) in &names {
        if name == "workerd" && descends(pid) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
            total = Some(total.unwrap_or(0) + kib);
            if inspected.contains(&pid) {
                worker = Some(kib);
            }
        }
    }
    total.map(|total| (total, worker))
}

/// A stored message of the soak site, as D1 holds it.
#[derive(Debug, serde::Deserialize)]
pub struct StoredMessage {
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub role: String,
    pub content: String,
    pub reply_to: Option<i64>,
}

/// Every message of site `site_id`, read with [`d1_rows`].
pub fn stored_messages(persist_dir: &Path, site_id: i64) -> xtask::Result<Vec<StoredMessage>> {
    d1_rows(
        persist_dir,
        &format!(
            "SELECT m.id, m.conversation_id, m.seq, m.role, m.content, m.reply_to FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id WHERE c.site_id = {site_id} ORDER BY m.id"
        ),
    )
}

/// The rows `sql` answers from the local D1 in `persist_dir`, read with
/// `wrangler d1 execute --local --json` (beside a running `wrangler dev`
/// too: SQLite's locks keep the two apart).
pub fn d1_rows<T: serde::de::DeserializeOwned>(persist_dir: &Path, sql: &str) -> xtask::Result<Vec<T>> {
    let dir = persist_dir.to_string_lossy();
    let out = xtask::wrangler::command(&["d1", "execute", "DB", "--local", "--persist-to", &dir, "--json", "--command", sql])
        .output()
        .map_err(|e| format!("wrangler d1 execute: {e}"))?;
    if !out.status.success() {
        return Err(format!("wrangler d1 execute failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let results: Vec<Value> = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("wrangler d1 execute answered no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))?;
    let rows = results.first().map(|r| r["results"].clone()).unwrap_or(Value::Array(Vec::new()));
    Ok(serde_json::from_value(rows)?)
}

/// Compares what was acknowledged and seen live with what D1 stores.
fn verify(run: &Run, rows: &[StoredMessage]) -> Report {
    let mut by_content: HashMap<(&str, &str), usize> = HashMap::new();
    let mut answers_of: HashMap<i64, usize> = HashMap::new();
    let mut ids: HashMap<i64, &str> = HashMap::new();
    for row in rows {
        *by_content.entry((row.role.as_str(), row.content.as_str())).or_default() += 1;
        if let (Some(question), "ai") = (row.reply_to, row.role.as_str()) {
            *answers_of.entry(question).or_default() += 1;
        }
        ids.insert(row.id, row.role.as_str());
    }
    let acked_visitor = run.acked_visitor.lock().unwrap();
    let acked_operator = run.acked_operator.lock().unwrap();
    let acked_ai = run.acked_ai.lock().unwrap();
    let mut lost = 0;
    for content in acked_visitor.iter() {
        lost += usize::from(!by_content.contains_key(&("visitor", content.as_str())));
    }
    for content in acked_operator.iter() {
        lost += usize::from(!by_content.contains_key(&("operator", content.as_str())));
    }
    for id in acked_ai.iter() {
        lost += usize::from(ids.get(id) != Some(&"ai"));
    }
    // Visitor and operator texts are unique; answers are one per question.
    let duplicated = by_content.iter().filter(|((role, _), _)| *role != "ai").map(|(_, n)| n - 1).sum::<usize>()
        + answers_of.values().map(|n| n - 1).sum::<usize>();
    let seen = run.seen.lock().unwrap();
    let mut gaps = 0;
    for row in rows {
        if let Some(seen) = seen.get(&row.conversation_id) {
            gaps += usize::from(!seen.contains(&row.seq));
        } else {
            gaps += 1;
        }
    }
    let mut unexpected = run.unexpected.lock().unwrap().clone();
    let redelivered = *run.redelivered.lock().unwrap();
    if redelivered > 0 {
        *unexpected.entry("GET /events: an event delivered twice after a resume".into()).or_default() += redelivered;
    }
    Report {
        lost,
        duplicated,
        gaps,
        unexpected,
        expected: run.expected.lock().unwrap().clone(),
        steps: run.steps.lock().unwrap().clone(),
        acknowledged: (acked_visitor.len(), acked_ai.len(), acked_operator.len()),
        resumes: *run.resumes.lock().unwrap(),
        redelivered,
        ..Report::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: u64, server: u16, rss_mib: u64, heap_kib: Option<u64>) -> MemorySample {
        MemorySample { at, server, rss_kib: rss_mib * 1024, worker_rss_kib: Some(rss_mib * 900), heap_kib, wasm_kib: Some(2048) }
    }

    #[test]
    fn warm_up_leaves_out_the_start_and_everything_up_to_30_s_after_a_restart() {
        // A restart at 50 s whose fresh workerd starts no lower than the old one ended.
        let samples: Vec<_> =
            [(10, 1, 300), (20, 1, 400), (30, 1, 410), (40, 1, 420), (50, 2, 500), (60, 2, 510), (80, 2, 520), (90, 2, 530)]
                .iter()
                .map(|&(at, server, rss)| sample(at, server, rss, Some(4096)))
                .collect();
        let warm: Vec<u64> = warm_samples(&samples).iter().map(|s| s.at).collect();
        assert_eq!(warm, [80, 90]);
        let unrestarted: Vec<u64> = warm_samples(&samples[..4]).iter().map(|s| s.at).collect();
        assert_eq!(unrestarted, [30, 40]);
    }

    #[test]
    fn growth_is_the_least_squares_slope_in_mib_per_second() {
        let samples: Vec<_> = (0..5).map(|i| sample(100 + 10 * i, 1, 500 + 20 * i, Some(4096 + (i % 2) * 1024))).collect();
        let rss = slope(&samples, |s| Some(s.rss_kib)).unwrap();
        assert!((rss - 2.0).abs() < 1e-9, "{rss}");
        let worker = slope(&samples, MemorySample::worker_kib).unwrap();
        assert!(worker.abs() < 0.01, "an oscillating heap does not grow: {worker}");
        assert_eq!(slope(&samples[..2], |s| Some(s.rss_kib)), None, "too few samples");
        let no_heap: Vec<_> = samples.iter().map(|s| MemorySample { heap_kib: None, ..*s }).collect();
        assert_eq!(slope(&no_heap, MemorySample::worker_kib), None, "no JS heap read, no figure");
    }
}

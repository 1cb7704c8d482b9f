//! `cargo xtask bench`, latency part, against its own `wrangler dev`:
//! - `POST /api/v1/chat/stream` (kb responder): time to the first chunk and
//!   to `done` over 240 requests (budget: first chunk p50 ≤ 20 ms);
//! - operator send → visitor SSE receipt with 1, 10 and 100 subscribers in
//!   one room (budget: p99 ≤ 50 ms with 100);
//! - messages per second sustained into one room, every one received;
//! - visitor send → the message showing in the operator's open console
//!   (headless Chromium), over 40 messages;
//! - `GET /v1/chat/messages/search` (D1 FTS5) over an account of 20,000
//!   messages seeded in bulk through D1, 200 searches;
//! - operator send → webhook delivery at a local receiver (`message.created`,
//!   over 100 messages): outbox, EVENTS, fan-out, DELIVERIES, signed POST.
//!
//! Figures are p50/p90/p99 in ms (ARCHITECTURE.md, "Performance budgets").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edgechat_shared::api::conversations::SentMessage;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::sse;
use edgechat_tests::*;
use futures::StreamExt;

const STREAM_REQUESTS: usize = 240;
const WARM_UP: usize = 20;
const FANOUT_SENDS: usize = 60;
const THROUGHPUT_SENDS: usize = 400;
const THROUGHPUT_CONCURRENCY: usize = 8;
const CONSOLE_SENDS: usize = 40;
const WEBHOOK_SENDS: usize = 100;

const QUESTIONS: &[&str] = &[
    "How do I install the widget on my website?",
    "Where do I find my site key?",
    "How do I deploy to Cloudflare?",
    "Can I talk to a human?",
    "How much does it cost?",
    "Where is my data stored?",
    "Which browsers are supported?",
    "What happens when nobody is online?",
];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Prints one line of p50/p90/p99 and answers (p50, p99) in ms.
fn report(name: &str, mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let (p50, p90, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.90), percentile(&samples, 0.99));
    println!("{name:<40} n={:<5} p50 {p50:>7.2} ms   p90 {p90:>7.2} ms   p99 {p99:>7.2} ms", samples.len());
    (p50, p99)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "OVER"
    }
}

async fn stream_latency(server: &Server) {
    let mut first_chunk = Vec::new();
    let mut done = Vec::new();
    for i in 0..WARM_UP + STREAM_REQUESTS {
        // A new visitor every 8 questions, so conversations grow as in real use.
        let session = format!("sess_bench_{:024}", i / 8);
        let streamed = server.stream(&demo_request(&session, QUESTIONS[i % QUESTIONS.len()])).await;
        assert_eq!(streamed.status, 200);
        if i >= WARM_UP {
            first_chunk.push(streamed.first_chunk_after().expect("a chunk arrived"));
            done.push(streamed.done_after().expect("done arrived"));
        }
    }
    println!("\n== POST /api/v1/chat/stream, kb responder, local wrangler dev (sequential) ==");
    let (p50, _) = report("time to first chunk", first_chunk);
    report("time to done", done);
    println!("{:<40} p50 ≤ 20 ms → {}", "  budget", verdict(p50 <= 20.0));
}

/// Arrival times of message events by seq, per subscriber.
type Arrivals = Arc<Mutex<Vec<HashMap<i64, Instant>>>>;

/// Opens `n` SSE subscribers on the visitor's conversation; each records when
/// every message event arrives. Answers once all have sent their preamble.
async fn subscribe(server: &Server, session: &str, after_seq: i64, n: usize) -> (Arrivals, Vec<tokio::task::JoinHandle<()>>) {
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![HashMap::new(); n]));
    let mut tasks = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(n);
    for index in 0..n {
        let url = format!("{}/api/v1/chat/events?site_key={DEMO_SITE_KEY}&session_id={session}&after_seq={after_seq}", server.url);
        let http = reqwest::Client::new();
        let arrivals = Arc::clone(&arrivals);
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            // Each subscriber is its own device, so the per-IP read limit counts each apart.
            let ip = format!("10.200.{}.{}", index / 250, index % 250 + 1);
            let response = http.get(url).header("cf-connecting-ip", ip).send().await.expect("events stream opens");
            let mut body = response.bytes_stream();
            let mut parser = sse::Parser::new();
            let mut announced = false;
            while let Some(Ok(chunk)) = body.next().await {
                for frame in parser.push(&chunk) {
                    if !announced {
                        announced = true;
                        let _ = ready.send(()).await;
                    }
                    if let Ok(LiveEvent::Message { message, .. }) = serde_json::from_str(&frame.data) {
                        arrivals.lock().unwrap()[index].insert(message.seq, Instant::now());
                    }
                }
            }
        }));
    }
    for _ in 0..n {
        ready_rx.recv().await.expect("every subscriber connects");
    }
    (arrivals, tasks)
}

/// A conversation of a new visitor, taken over so the AI stays silent:
/// the session, the conversation id and its newest seq.
async fn operator_room(server: &Server, token: &str, name: &str) -> (String, i64, i64) {
    let session = format!("sess_bench_{name:0>24}");
    let done = server.stream(&demo_request(&session, "Hello, can a person help me?")).await.done().clone();
    let (conversation_id, last_seq) = (done.conversation_id, done.answer_seq.unwrap_or(done.seq));
    let response =
        server.authed(reqwest::Method::POST, &format!("/v1/chat/conversations/{conversation_id}/takeover"), token).send().await.unwrap();
    assert!(response.status().is_success());
    (session, conversation_id, last_seq)
}

async fn operator_send(server: &Server, token: &str, conversation_id: i64, content: &str) -> SentMessage {
    let response = server
        .authed(reqwest::Method::POST, "/v1/chat/messages/send", token)
        .json(&serde_json::json!({"conversation_id": conversation_id, "content": content}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn fanout_latency(server: &Server, token: &str) {
    println!("\n== operator send → visitor SSE receipt, one room, local wrangler dev ==");
    for subscribers in [1usize, 10, 100] {
        let (session, conversation_id, last_seq) = operator_room(server, token, &format!("fanout{subscribers}")).await;
        let (arrivals, tasks) = subscribe(server, &session, last_seq, subscribers).await;
        let mut sent = Vec::new();
        for i in 0..FANOUT_SENDS {
            let started = Instant::now();
            let message = operator_send(server, token, conversation_id, &format!("fan-out message {i}")).await;
            sent.push((message.message.seq, started));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let complete = arrivals.lock().unwrap().iter().all(|a| sent.iter().all(|(seq, _)| a.contains_key(seq)));
            if complete || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let arrivals = arrivals.lock().unwrap().clone();
        let mut latencies = Vec::new();
        let mut missing = 0;
        for per_subscriber in &arrivals {
            for (seq, started) in &sent {
                match per_subscriber.get(seq) {
                    Some(at) => latencies.push(at.saturating_duration_since(*started)),
                    None => missing += 1,
                }
            }
        }
        let (_, p99) = report(&format!("{subscribers} subscriber(s), {FANOUT_SENDS} sends"), latencies);
        println!("{:<40} {missing} missing", "  deliveries");
        if subscribers == 100 {
            println!("{:<40} p99 ≤ 50 ms → {}", "  budget", verdict(p99 <= 50.0 && missing == 0));
        }
        tasks.iter().for_each(|t| t.abort());
    }
}

async fn throughput(server: &Server, token: &str) {
    let (session, conversation_id, last_seq) = operator_room(server, token, "throughput").await;
    let (arrivals, tasks) = subscribe(server, &session, last_seq, 1).await;
    let started = Instant::now();
    let seqs: Vec<i64> = futures::stream::iter(0..THROUGHPUT_SENDS)
        .map(|i| async move { operator_send(server, token, conversation_id, &format!("throughput {i}")).await.message.seq })
        .buffer_unordered(THROUGHPUT_CONCURRENCY)
        .collect()
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().unwrap()[0].len() < THROUGHPUT_SENDS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let received = arrivals.lock().unwrap()[0].len();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    let gapless = sorted.len() == THROUGHPUT_SENDS && sorted.windows(2).all(|w| w[1] == w[0] + 1);
    println!("\n== messages sustained into one room ({THROUGHPUT_CONCURRENCY} concurrent senders) ==");
    println!(
        "{:<40} {:.0} msg/s ({THROUGHPUT_SENDS} in {:.2} s); received {received}/{THROUGHPUT_SENDS}; seqs unique and gapless: {gapless}",
        "operator sends",
        THROUGHPUT_SENDS as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    tasks.iter().for_each(|t| t.abort());
}

/// Retrieval quality on the StackFAQ dev questions (issue 6).
async fn retrieval(server: &Server, token: &str) {
    let site = edgechat_tests::stackfaq::stackfaq_site(server, token).await;
    let evaluation = edgechat_tests::stackfaq::evaluate(server, token, &site, &edgechat_tests::stackfaq::dev_queries()).await;
    println!("\n== retrieval, StackFAQ dev (plain BM25 reference: precision@1 0.614, recall@5 0.850, MRR 0.717) ==");
    println!(
        "{:<40} precision@1 {:.3} (required >= 0.72: {}), {:.1}% answered \"not sure\"",
        "visitor answers (POST /stream)",
        evaluation.answered_precision_at_1,
        if evaluation.answered_precision_at_1 >= 0.72 { "ok" } else { "BELOW" },
        evaluation.not_sure * 100.0
    );
    println!(
        "{:<40} precision@1 {:.3}, recall@5 {:.3}, MRR {:.3}",
        "ranking (GET /articles/search)", evaluation.ranking.precision_at_1, evaluation.ranking.recall_at_5, evaluation.ranking.mrr
    );
}

/// Milliseconds since the Unix epoch (the browser's `Date.now()` clock).
fn epoch_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs_f64() * 1000.0
}

/// Visitor `POST /api/v1/chat/stream` → the message in the DOM of the
/// operator's open conversation in the console. A MutationObserver in the
/// page stamps each message with `Date.now()` when it appears; the same
/// machine's clock stamps the send.
async fn console_latency(server: &Server, token: &str) {
    println!("\n== visitor send → operator console shows it (headless Chromium, local wrangler dev) ==");
    let (session, conversation_id, _) = operator_room(server, token, "console").await;
    let browser = edgechat_tests::browser::Browser::start(&run_dir("bench").join("chromium-console")).await;
    browser.console_sign_in(&server.url, DEMO_EMAIL, DEMO_PASSWORD).await;
    browser.client.goto(&format!("{}/app/conversations/{conversation_id}", server.url)).await.unwrap();
    browser
        .wait_until(
            "return document.querySelector('.live-dot.on') !== null && document.querySelector('.msg.visitor') !== null;",
            Duration::from_secs(20),
        )
        .await;
    browser
        .eval(
            "window.__seen = {}; new MutationObserver(() => { for (const m of document.querySelectorAll('.msg.visitor .text')) { \
             const t = m.textContent; if (t.startsWith('bench ') && !(t in window.__seen)) window.__seen[t] = Date.now(); } })\
             .observe(document.body, { subtree: true, childList: true, characterData: true }); return true;",
        )
        .await;
    let mut samples = Vec::new();
    for i in 0..WARM_UP / 4 + CONSOLE_SENDS {
        let text = format!("bench {i}");
        let sent = epoch_ms();
        let response = server
            .http
            .post(format!("{}/api/v1/chat/stream", server.url))
            .header("cf-connecting-ip", format!("10.250.{}.{}", i / 250, i % 250 + 1))
            .json(&demo_request(&session, &text))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let _ = response.bytes().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let seen = loop {
            if let Some(ms) = browser.eval(&format!("return window.__seen[{text:?}] ?? null;")).await.as_f64() {
                break ms;
            }
            assert!(Instant::now() < deadline, "{text} never showed in the console");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        if i >= WARM_UP / 4 {
            samples.push(Duration::from_secs_f64(((seen - sent) / 1000.0).max(0.0)));
        }
    }
    report("send → shown in the console", samples);
    browser.close().await;
}

/// Messages seeded for the search benchmark.
const SEARCH_MESSAGES: usize = 20_000;
/// Conversations they are spread over.
const SEARCH_CONVERSATIONS: usize = 20;
const SEARCHES: usize = 200;
/// Words the seeded messages are made of (two each), and the searches look for.
const SEARCH_WORDS: &[&str] = &[
    "refund",
    "shipping",
    "invoice",
    "password",
    "delivery",
    "warranty",
    "discount",
    "account",
    "parcel",
    "checkout",
    "coupon",
    "subscription",
    "tracking",
    "receipt",
    "exchange",
    "battery",
    "screen",
    "charger",
    "keyboard",
    "printer",
    "router",
    "license",
    "upgrade",
    "billing",
    "address",
    "payment",
    "order",
    "cancel",
    "return",
    "broken",
    "missing",
    "late",
    "damaged",
    "wrong",
    "size",
    "colour",
    "price",
    "stock",
    "gift",
    "voucher",
];

/// Search latency over an account of [`SEARCH_MESSAGES`] messages: the
/// conversations are made through the API, the messages inserted in bulk
/// through D1 (`wrangler d1 execute --local`; the FTS triggers index them).
async fn search_latency(server: &Server, token: &str) {
    println!("\n== GET /v1/chat/messages/search, D1 FTS5, local wrangler dev (sequential) ==");
    let mut conversations = Vec::new();
    for n in 0..SEARCH_CONVERSATIONS {
        conversations.push(operator_room(server, token, &format!("search{n}")).await.1);
    }
    let words = serde_json::to_string(SEARCH_WORDS).expect("json");
    let ids = serde_json::to_string(&conversations).expect("json");
    let sql = format!(
        "INSERT INTO messages (conversation_id, seq, role, content) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}), c(k, id) AS (SELECT key, value FROM json_each('{ids}')) \
         SELECT c.id, 1000 + n.i, 'operator', 'Message ' || n.i || ' about the ' || json_extract('{words}', '$[' || (n.i % {w}) || ']') || \
         ' and the ' || json_extract('{words}', '$[' || ((n.i / {w}) % {w}) || ']') || ' of the customer' FROM n JOIN c ON c.k = n.i % {convs};",
        last = SEARCH_MESSAGES - 1,
        w = SEARCH_WORDS.len(),
        convs = SEARCH_CONVERSATIONS,
    );
    xtask::wrangler::execute_sql(&server.persist_dir(), &sql).unwrap_or_else(|e| panic!("seeding {SEARCH_MESSAGES} messages failed: {e}"));
    let mut samples = Vec::new();
    for i in 0..WARM_UP + SEARCHES {
        let q = format!("{} {}", SEARCH_WORDS[i % SEARCH_WORDS.len()], SEARCH_WORDS[(i * 7 + 3) % SEARCH_WORDS.len()]);
        let started = Instant::now();
        let response =
            server.authed(reqwest::Method::GET, "/v1/chat/messages/search", token).query(&[("q", q.as_str())]).send().await.unwrap();
        assert_eq!(response.status(), 200, "search {q}");
        let results: edgechat_shared::api::messages::SearchResults = response.json().await.unwrap();
        if i >= WARM_UP {
            samples.push(started.elapsed());
        }
        if i == 0 {
            assert!(!results.results.is_empty(), "the seeded messages are found: {q}");
        }
    }
    samples.sort();
    let seeded = format!("{},{:03}", SEARCH_MESSAGES / 1000, SEARCH_MESSAGES % 1000);
    println!("search ({seeded} messages): p50 {:.2} ms, p99 {:.2} ms", percentile(&samples, 0.50), percentile(&samples, 0.99));
    report("search, two words, 20 results", samples);
}

/// Operator send (the message write) → the `message.created` webhook at a
/// local receiver, sequential sends.
async fn webhook_latency(server: &Server, token: &str, receiver: &webhook_receiver::WebhookReceiver) {
    println!("\n== operator send → webhook delivery (message.created), local wrangler dev ==");
    let hook = "bench";
    let response = server
        .authed(reqwest::Method::POST, "/v1/webhooks", token)
        .json(&serde_json::json!({"url": receiver.hook_url(hook), "events": ["message.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let endpoint: serde_json::Value = response.json().await.unwrap();
    let (_, conversation_id, _) = operator_room(server, token, "webhooks").await;
    let mut sent = HashMap::new();
    for i in 0..WEBHOOK_SENDS {
        let started = Instant::now();
        let message = operator_send(server, token, conversation_id, &format!("webhook message {i}")).await;
        sent.insert(message.message.id, started);
    }
    let ids: Vec<i64> = sent.keys().copied().collect();
    let got = receiver
        .wait_for(hook, Duration::from_secs(120), |r| {
            ids.iter().all(|id| r.iter().any(|r| r.json()["data"]["message"]["id"].as_i64() == Some(*id)))
        })
        .await;
    let mut latencies = Vec::new();
    for r in &got {
        if let Some(started) = r.json()["data"]["message"]["id"].as_i64().and_then(|id| sent.get(&id)) {
            latencies.push(r.at.saturating_duration_since(*started));
        }
    }
    println!("{:<40} {} missing", "  deliveries", WEBHOOK_SENDS.saturating_sub(latencies.len()));
    if !latencies.is_empty() {
        report(&format!("write → webhook, {WEBHOOK_SENDS} events"), latencies);
    }
    let id = endpoint["id"].as_i64().unwrap();
    let _ = server.authed(reqwest::Method::DELETE, &format!("/v1/webhooks/{id}"), token).send().await;
}

fn main() {
    // The webhook receiver is local: the server must allow local endpoints.
    let receiver = webhook_receiver::WebhookReceiver::start();
    let server = Server::start_with("bench", &[("WEBHOOKS_ALLOW_LOCAL", "true"), ("LIVE_STREAMS_PER_CONVERSATION", "100")]);
    runtime().block_on(async {
        stream_latency(server).await;
        let token = server.demo_token().await;
        fanout_latency(server, &token).await;
        throughput(server, &token).await;
        retrieval(server, &token).await;
        search_latency(server, &token).await;
        console_latency(server, &token).await;
        webhook_latency(server, &token, &receiver).await;
    });
    server.stop();
}

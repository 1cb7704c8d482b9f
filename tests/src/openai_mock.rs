//! A local stand-in for an OpenAI-compatible server (the outside service the
//! `openai` responder calls), speaking its real streaming wire format:
//! `POST /v1/chat/completions` with `"stream": true` answers
//! `text/event-stream` of `data: {"choices":[{"delta":{"content":…}}]}` …
//! `data: [DONE]` (OpenAI API reference, "Create chat completion",
//! streaming).
//!
//! The requested `model` picks the behaviour (its part before `:`; the rest
//! only tells tests apart): see [`Scenario`]. Every request is recorded, and
//! so is every stream the client abandoned before its end.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use serde_json::{json, Value};

/// The answer of the `ok` scenario, in the pieces it is streamed in.
pub const ANSWER_PIECES: [&str; 4] = ["To install the widget, ", "paste **one** script tag ", "before `</body>` ", "[1]."];

/// What the server does, chosen by the request's model name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `ok`: a role-only chunk, [`ANSWER_PIECES`] 30 ms apart, a
    /// `finish_reason: "stop"` chunk, `[DONE]`.
    Ok,
    /// `gated`: as `ok`, but after the first piece the server waits until
    /// the test calls [`MockOpenAi::release`] for the model, so a test can
    /// see that the first piece reached the visitor before the rest exists.
    Gated,
    /// `http-500` / `http-429`: that status with an OpenAI error body.
    HttpError(u16),
    /// `cut`: two pieces, then the connection closes (no `[DONE]`).
    Cut,
    /// `malformed`: one piece, then a `data:` line that is not JSON.
    Malformed,
    /// `error-event`: one piece, then `data: {"error":{…}}`.
    ErrorEvent,
    /// `slow`: headers only after 10 s.
    Slow,
    /// `stall`: one piece, then silence for 10 s.
    Stall,
    /// `endless`: a piece every 100 ms for 30 s (for disconnect tests).
    Endless,
    /// `redirect`: 307 to this same endpoint (a client that follows it asks
    /// again, and again).
    Redirect,
    /// `switch`: `ok`, or `http-500` while the test has set the model down
    /// ([`MockOpenAi::set_down`]), or `stall` while it has set it stalled
    /// ([`MockOpenAi::set_stalled`]): an upstream that fails and recovers.
    Switch,
}

impl Scenario {
    fn of(model: &str) -> Scenario {
        match model.split(':').next().unwrap_or_default() {
            "http-500" => Scenario::HttpError(500),
            "http-429" => Scenario::HttpError(429),
            "cut" => Scenario::Cut,
            "malformed" => Scenario::Malformed,
            "error-event" => Scenario::ErrorEvent,
            "slow" => Scenario::Slow,
            "stall" => Scenario::Stall,
            "endless" => Scenario::Endless,
            "switch" => Scenario::Switch,
            "gated" => Scenario::Gated,
            "redirect" => Scenario::Redirect,
            _ => Scenario::Ok,
        }
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

impl Recorded {
    /// The requested model.
    pub fn model(&self) -> &str {
        self.body["model"].as_str().unwrap_or_default()
    }

    /// The `content` of every message, in order, with its role.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| (m["role"].as_str().unwrap_or_default().into(), m["content"].as_str().unwrap_or_default().into()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Recorded>,
    /// Models whose stream the client dropped before its end.
    abandoned: Vec<String>,
    /// `switch` models currently answering HTTP 500.
    down: Vec<String>,
    /// `switch` models currently stalling (as `stall`).
    stalled: Vec<String>,
    /// The gate of each `gated` model, opened by [`MockOpenAi::release`].
    gates: HashMap<String, Arc<tokio::sync::Notify>>,
}

impl Log {
    fn gate(&mut self, model: &str) -> Arc<tokio::sync::Notify> {
        self.gates.entry(model.to_string()).or_default().clone()
    }
}

/// The running stand-in.
pub struct MockOpenAi {
    /// Base URL, e.g. `http://127.0.0.1:40123` (no `/v1`).
    pub url: String,
    log: Arc<Mutex<Log>>,
}

impl MockOpenAi {
    /// Starts the server on a free port of 127.0.0.1 on the shared runtime.
    pub fn start() -> MockOpenAi {
        let log = Arc::new(Mutex::new(Log::default()));
        let app = Router::new().route("/v1/chat/completions", post(completions)).with_state(log.clone());
        let listener =
            crate::runtime().block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a free port for the OpenAI stand-in");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        crate::runtime().spawn(async move { axum::serve(listener, app).await.expect("the OpenAI stand-in serves") });
        MockOpenAi { url, log }
    }

    /// The requests for `model`, oldest first.
    pub fn requests_for(&self, model: &str) -> Vec<Recorded> {
        self.log.lock().unwrap().requests.iter().filter(|r| r.model() == model).cloned().collect()
    }

    /// Takes `switch` model `model` down (HTTP 500 to every request) or brings it back up.
    pub fn set_down(&self, model: &str, down: bool) {
        let mut log = self.log.lock().unwrap();
        log.down.retain(|m| m != model);
        if down {
            log.down.push(model.to_string());
        }
    }

    /// Makes `switch` model `model` stall (one piece, then 10 s of silence)
    /// or answer normally again.
    pub fn set_stalled(&self, model: &str, stalled: bool) {
        let mut log = self.log.lock().unwrap();
        log.stalled.retain(|m| m != model);
        if stalled {
            log.stalled.push(model.to_string());
        }
    }

    /// Lets the `gated` model `model` send the rest of its answer (now, or
    /// as soon as it reaches the gate).
    pub fn release(&self, model: &str) {
        self.log.lock().unwrap().gate(model).notify_one();
    }

    /// How many requests the server received, for every model.
    pub fn request_count(&self) -> usize {
        self.log.lock().unwrap().requests.len()
    }

    /// `true` once the client dropped a stream of `model` before its end.
    pub fn abandoned(&self, model: &str) -> bool {
        self.log.lock().unwrap().abandoned.iter().any(|m| m == model)
    }
}

fn frame(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

fn piece(content: &str) -> Bytes {
    frame(
        &json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]}),
    )
}

/// Records, when dropped before [`Guard::finish`], that the client left.
struct Guard {
    model: String,
    log: Arc<Mutex<Log>>,
    finished: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.finished {
            self.log.lock().unwrap().abandoned.push(self.model.clone());
        }
    }
}

async fn completions(State(log): State<Arc<Mutex<Log>>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("not JSON: {e}")).into_response(),
    };
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let recorded = Recorded { authorization, body };
    let model = recorded.model().to_string();
    let scenario = {
        let mut log = log.lock().unwrap();
        log.requests.push(recorded);
        match Scenario::of(&model) {
            Scenario::Switch if log.down.contains(&model) => Scenario::HttpError(500),
            Scenario::Switch if log.stalled.contains(&model) => Scenario::Stall,
            scenario => scenario,
        }
    };
    if let Scenario::HttpError(status) = scenario {
        let error = json!({"error": {"message": "The server had an error", "type": "server_error"}});
        return (StatusCode::from_u16(status).unwrap(), axum::Json(error)).into_response();
    }
    if scenario == Scenario::Redirect {
        return (StatusCode::TEMPORARY_REDIRECT, [("location", "/v1/chat/completions")]).into_response();
    }
    if scenario == Scenario::Slow {
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let gate = log.lock().unwrap().gate(&model);
    let mut guard = Guard { model, log, finished: false };
    let events = async_stream(move |tx| async move {
        let send = |bytes: Bytes| tx.send(bytes);
        let role = frame(&json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}));
        if !send(role) {
            return;
        }
        match scenario {
            Scenario::Ok | Scenario::Slow | Scenario::Switch => {
                for content in ANSWER_PIECES {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    if !send(piece(content)) {
                        return;
                    }
                }
                send(frame(&json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
                send(Bytes::from("data: [DONE]\n\n"));
            }
            Scenario::Gated => {
                if !send(piece(ANSWER_PIECES[0])) {
                    return;
                }
                // The gate, or the client leaving (no task waits forever).
                tokio::select! {
                    _ = gate.notified() => {}
                    _ = tx.closed() => return,
                }
                for content in &ANSWER_PIECES[1..] {
                    if !send(piece(content)) {
                        return;
                    }
                }
                send(frame(&json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
                send(Bytes::from("data: [DONE]\n\n"));
            }
            Scenario::Cut => {
                send(piece(ANSWER_PIECES[0]));
                send(piece(ANSWER_PIECES[1]));
            }
            Scenario::Malformed => {
                send(piece(ANSWER_PIECES[0]));
                send(Bytes::from("data: {\"choices\": [{\"delta\": oops\n\n"));
            }
            Scenario::ErrorEvent => {
                send(piece(ANSWER_PIECES[0]));
                send(frame(&json!({"error": {"message": "The model is overloaded", "type": "server_error"}})));
            }
            Scenario::Stall => {
                send(piece(ANSWER_PIECES[0]));
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Scenario::Endless => {
                for i in 0..300 {
                    if !send(piece(&format!("word{i} "))) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Scenario::HttpError(_) | Scenario::Redirect => unreachable!("answered above"),
        }
    });
    let body = Body::from_stream(events.map(move |bytes| {
        // Borrow the whole guard, so that the closure owns it (a field alone
        // would be captured by itself) and it drops with the body.
        let guard = &mut guard;
        if bytes.is_none() {
            guard.finished = true;
        }
        Ok::<_, Infallible>(bytes.unwrap_or_default())
    }));
    Response::builder().header("content-type", "text/event-stream").header("cache-control", "no-cache").body(body).unwrap()
}

/// Sends pieces through a channel; `send` answers `false` once the
/// receiving side (the response body) is gone.
struct Sender(tokio::sync::mpsc::UnboundedSender<Option<Bytes>>);

impl Sender {
    fn send(&self, bytes: Bytes) -> bool {
        self.0.send(Some(bytes)).is_ok()
    }

    /// Resolves once the client dropped the stream.
    async fn closed(&self) {
        self.0.closed().await
    }
}

/// A stream of the pieces `produce` sends, then one `None` when it
/// returns (the end of a complete stream).
fn async_stream<F, Fut>(produce: F) -> impl futures::Stream<Item = Option<Bytes>>
where
    F: FnOnce(Sender) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let done = tx.clone();
    let producing = produce(Sender(tx));
    tokio::spawn(async move {
        producing.await;
        let _ = done.send(None);
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

//! Streaming a completion from a language model (`openai` or `workers-ai`):
//! both answer Server-Sent Events (`data: {…}` … `data: [DONE]`), parsed with
//! the shared parser ([`edgechat_shared::sse::Parser`], the one the widget
//! and the tests use); each event's text is handed on as it arrives.
//!
//! Failures (issue 6): no response or no event within the timeout, an HTTP
//! error status, an event that is not the expected JSON, an error object in
//! the stream, a stream that ends before `[DONE]` or a `finish_reason`, and
//! the visitor going away (the upstream request is then aborted). Issue 16
//! bounds the rest: an event over [`MAX_SSE_EVENT_BYTES`], an answer over
//! [`MAX_ANSWER_BYTES`] and one still streaming after
//! [`ANSWER_STREAM_TIMEOUT_MS`] fail too.

use std::time::Duration;

use edgechat_shared::limits::{ANSWER_STREAM_TIMEOUT_MS, MAX_ANSWER_BYTES};
use edgechat_shared::sse::{self, MAX_SSE_EVENT_BYTES};
use futures::future::{select, Either};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use worker::{AbortController, Date, Delay};

/// Default wait for the upstream's response and for each next event
/// (`AI_TIMEOUT_MS`), in ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 20_000;

/// Default most tokens of one answer (`AI_MAX_TOKENS`).
pub const DEFAULT_MAX_TOKENS: u32 = 600;

/// How often a waiting stream checks that the visitor is still there.
const VISITOR_CHECK: Duration = Duration::from_millis(200);

/// Why a completion failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No response, or no next event, within the timeout (ms).
    Timeout(u64),
    /// The upstream answered this HTTP status (with the start of its body).
    Status(u16, String),
    /// The request could not be sent (DNS, connection, binding error).
    Transport(String),
    /// An event was not the expected JSON, or the stream carried an error object.
    Malformed(String),
    /// The stream ended before `[DONE]` or a `finish_reason`.
    Truncated,
    /// The answer grew past [`MAX_ANSWER_BYTES`] (the limit, in bytes).
    TooLong(usize),
    /// The visitor went away; the upstream request was aborted.
    VisitorGone,
    /// The responder is not configured (no API key, no AI binding).
    NotConfigured(&'static str),
    /// The upstream's circuit breaker is open: the model was not asked
    /// ([`super::breaker`]).
    BreakerOpen,
}

impl Failure {
    /// Whether the failure says the upstream is unwell, and so counts
    /// towards opening its circuit breaker: timeouts, transport errors,
    /// HTTP 408, 429 and 5xx, malformed or cut-short streams. Not counted:
    /// other 4xx (the request or its key is at fault, not the server), a
    /// visitor who left, a missing configuration, the open breaker itself.
    pub fn counts_against_upstream(&self) -> bool {
        match self {
            Failure::Timeout(_) | Failure::Transport(_) | Failure::Malformed(_) | Failure::Truncated | Failure::TooLong(_) => true,
            Failure::Status(status, _) => matches!(status, 408 | 429 | 500..=599),
            Failure::VisitorGone | Failure::NotConfigured(_) | Failure::BreakerOpen => false,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout(ms) => write!(f, "no answer from the model within {ms} ms"),
            Failure::Status(status, body) => write!(f, "the model's server answered HTTP {status}: {body}"),
            Failure::Transport(why) => write!(f, "the model's server could not be reached: {why}"),
            Failure::Malformed(why) => write!(f, "the model's stream is malformed: {why}"),
            Failure::Truncated => write!(f, "the model's stream ended before it finished"),
            Failure::TooLong(bytes) => write!(f, "the model's answer is longer than {bytes} bytes"),
            Failure::VisitorGone => write!(f, "the visitor went away"),
            Failure::NotConfigured(what) => write!(f, "the responder is not configured: {what}"),
            Failure::BreakerOpen => write!(f, "the model's circuit breaker is open"),
        }
    }
}

/// One parsed event of a completion stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// Text to append (may be empty: role-only or usage events).
    Text(String),
    /// Text to append, and the model says it has finished (`finish_reason`).
    Finished(String),
    /// `data: [DONE]`: the stream is complete.
    Done,
}

/// The event shapes both dialects send: OpenAI chat completion chunks
/// (`{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}`), Workers
/// AI text generation (`{"response":"Hi"}`), or an error
/// (`{"error":{"message":"…"}}` or `{"error":"…"}`).
#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    response: Option<String>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<ChoiceDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChoiceDelta {
    #[serde(default)]
    content: Option<String>,
}

/// Parses the `data` of one SSE event of either dialect.
///
/// Errors: [`Failure::Malformed`] for data that is not one of the shapes,
/// or that carries an error object.
pub fn parse_event(data: &str) -> Result<Delta, Failure> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(Delta::Done);
    }
    let event: Event = serde_json::from_str(data).map_err(|e| Failure::Malformed(format!("{e} in {}", preview(data))))?;
    if let Some(error) = event.error.filter(|e| !e.is_null()) {
        let message = error.get("message").and_then(|m| m.as_str()).map(str::to_string).unwrap_or_else(|| error.to_string());
        return Err(Failure::Malformed(format!("error event: {}", preview(&message))));
    }
    if let Some(text) = event.response {
        return Ok(Delta::Text(text));
    }
    let Some(choice) = event.choices.into_iter().next() else {
        return Ok(Delta::Text(String::new()));
    };
    let text = choice.delta.and_then(|d| d.content).unwrap_or_default();
    Ok(match choice.finish_reason {
        Some(_) => Delta::Finished(text),
        None => Delta::Text(text),
    })
}

/// The first 200 characters of `text`, for logs.
pub fn preview(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Most bytes of an upstream's error body read for [`preview`]: the rest is
/// never read, so a hostile endpoint cannot make the worker buffer a body of
/// any size (issue 16, "no unbounded memory").
pub const ERROR_BODY_BYTES: usize = 4 * 1024;

/// The start of an error response's body, at most [`ERROR_BODY_BYTES`]
/// (lossy UTF-8), for [`preview`].
pub async fn error_body(response: &mut worker::Response) -> worker::Result<String> {
    let mut body = response.stream()?;
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_BYTES {
        match body.next().await {
            Some(chunk) => bytes.extend_from_slice(&chunk?),
            None => break,
        }
    }
    bytes.truncate(ERROR_BODY_BYTES);
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The upstream request to abort, at most once (`AbortController::abort`
/// takes the controller).
pub struct Abort(std::cell::Cell<Option<AbortController>>);

impl Abort {
    /// Aborts through `controller`.
    pub fn new(controller: AbortController) -> Abort {
        Abort(std::cell::Cell::new(Some(controller)))
    }

    /// Aborts the request with `reason`; later calls do nothing.
    pub fn abort(&self, reason: &str) {
        if let Some(controller) = self.0.take() {
            controller.abort_with_reason(wasm_bindgen::JsValue::from_str(reason));
        }
    }
}

/// How long to wait, and how to know the visitor left.
pub struct Watch<'a> {
    /// Wait for the response and for each next event, in ms.
    pub timeout_ms: u64,
    /// `true` once the visitor's stream has closed.
    pub visitor_gone: &'a dyn Fn() -> bool,
}

impl Watch<'_> {
    /// Waits for `future`, checking the visitor every [`VISITOR_CHECK`];
    /// aborts `controller` (when given) on timeout or when the visitor left.
    async fn wait<F: std::future::Future + Unpin>(&self, mut future: F, controller: Option<&Abort>) -> Result<F::Output, Failure> {
        let started = Date::now().as_millis();
        loop {
            match select(future, Delay::from(VISITOR_CHECK)).await {
                Either::Left((output, _)) => return Ok(output),
                Either::Right((_, pending)) => future = pending,
            }
            let failure = if (self.visitor_gone)() {
                Failure::VisitorGone
            } else if Date::now().as_millis().saturating_sub(started) >= self.timeout_ms {
                Failure::Timeout(self.timeout_ms)
            } else {
                continue;
            };
            if let Some(controller) = controller {
                controller.abort(&failure.to_string());
            }
            return Err(failure);
        }
    }
}

/// Reads a completion stream to its end, calling `on_text` with each piece
/// of text as it arrives; answers the whole text.
///
/// Errors: every [`Failure`] but `Status`/`NotConfigured`; the request is
/// aborted through `controller` on timeout and when the visitor left.
pub async fn read_stream<S, B>(
    body: S,
    watch: &Watch<'_>,
    controller: Option<&Abort>,
    mut on_text: impl FnMut(&str),
) -> Result<String, Failure>
where
    S: Stream<Item = worker::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    let mut body = body;
    let mut reader = StreamReader::new();
    // The whole answer's deadline, besides the wait for each next chunk.
    let deadline = Date::now().as_millis() + ANSWER_STREAM_TIMEOUT_MS;
    loop {
        let left = deadline.saturating_sub(Date::now().as_millis());
        if left == 0 {
            // Checked before each wait, not only when a wait times out: an
            // upstream that sends an empty event every few ms never lets a
            // wait time out, and its empty text never reaches the byte cap.
            let failure = Failure::Timeout(ANSWER_STREAM_TIMEOUT_MS);
            if let Some(controller) = controller {
                controller.abort(&failure.to_string());
            }
            return Err(failure);
        }
        let wait = Watch { timeout_ms: watch.timeout_ms.min(left), visitor_gone: watch.visitor_gone };
        let chunk = match wait.wait(body.next(), controller).await {
            Err(Failure::Timeout(_)) if left <= watch.timeout_ms => Err(Failure::Timeout(ANSWER_STREAM_TIMEOUT_MS)),
            other => other,
        };
        let step = match chunk? {
            None => return reader.end(),
            Some(Err(e)) => Err(Failure::Transport(e.to_string())),
            Some(Ok(bytes)) => reader.push(bytes.as_ref()),
        };
        let step = step.inspect_err(|_| {
            if let Some(controller) = controller {
                controller.abort("the model's stream failed");
            }
        })?;
        for text in &step.texts {
            on_text(text);
        }
        if step.done {
            return Ok(reader.answer);
        }
        if (watch.visitor_gone)() {
            if let Some(controller) = controller {
                controller.abort("the visitor went away");
            }
            return Err(Failure::VisitorGone);
        }
    }
}

/// What one chunk of a completion stream gave ([`StreamReader::push`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// The pieces of text it carried, in order (none empty).
    pub texts: Vec<String>,
    /// `data: [DONE]` came: the answer is complete (bytes after it are ignored).
    pub done: bool,
}

/// The I/O-free part of [`read_stream`]: SSE framing, event parsing and the
/// answer's caps, fed the body's chunks as they arrive.
#[derive(Debug, Default)]
pub struct StreamReader {
    parser: sse::Parser,
    /// The text so far, at most [`MAX_ANSWER_BYTES`].
    pub answer: String,
    /// A `finish_reason` came: the stream may end without `[DONE]`.
    finished: bool,
}

impl StreamReader {
    /// A reader at the start of a stream.
    pub fn new() -> StreamReader {
        StreamReader::default()
    }

    /// Consumes one chunk of the body.
    ///
    /// Errors: [`Failure::Malformed`] for an event that is not one of the
    /// shapes of [`parse_event`], carries an error object, or is over
    /// [`MAX_SSE_EVENT_BYTES`]; [`Failure::TooLong`] once the answer is
    /// over [`MAX_ANSWER_BYTES`].
    pub fn push(&mut self, bytes: &[u8]) -> Result<Step, Failure> {
        let frames =
            self.parser.try_push(bytes).map_err(|_| Failure::Malformed(format!("an event is over {MAX_SSE_EVENT_BYTES} bytes")))?;
        let mut step = Step::default();
        for frame in frames {
            let text = match parse_event(&frame.data)? {
                Delta::Done => {
                    step.done = true;
                    return Ok(step);
                }
                Delta::Finished(text) => {
                    self.finished = true;
                    text
                }
                Delta::Text(text) => text,
            };
            if text.is_empty() {
                continue;
            }
            if self.answer.len() + text.len() > MAX_ANSWER_BYTES {
                return Err(Failure::TooLong(MAX_ANSWER_BYTES));
            }
            self.answer.push_str(&text);
            step.texts.push(text);
        }
        Ok(step)
    }

    /// The body ended: the answer, when a `finish_reason` came.
    ///
    /// Errors: [`Failure::Truncated`] otherwise.
    pub fn end(self) -> Result<String, Failure> {
        if self.finished {
            Ok(self.answer)
        } else {
            Err(Failure::Truncated)
        }
    }
}

/// Waits for the upstream's answer to start (see [`Watch`]), aborting
/// `controller` when given on timeout or when the visitor left.
///
/// Errors: [`Failure::Transport`] when the request fails, [`Failure::Timeout`],
/// [`Failure::VisitorGone`].
pub async fn started<F, T>(request: F, watch: &Watch<'_>, controller: Option<&Abort>) -> Result<T, Failure>
where
    F: std::future::Future<Output = worker::Result<T>>,
{
    watch.wait(Box::pin(request), controller).await?.map_err(|e| Failure::Transport(e.to_string()))
}

/// The SSE `data` of every event in `body`, in order (for tests).
#[cfg(test)]
pub async fn event_data<S, B>(body: S) -> Vec<String>
where
    S: Stream<Item = worker::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    let chunks: Vec<worker::Result<B>> = body.collect().await;
    let mut parser = sse::Parser::new();
    chunks.iter().filter_map(|chunk| chunk.as_ref().ok()).flat_map(|chunk| parser.push(chunk.as_ref())).map(|frame| frame.data).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_chunks_give_their_delta_content() {
        let chunk =
            r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#;
        assert_eq!(parse_event(chunk), Ok(Delta::Text("Hel".into())));
        let role_only = r#"{"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#;
        assert_eq!(parse_event(role_only), Ok(Delta::Text(String::new())));
        let last = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        assert_eq!(parse_event(last), Ok(Delta::Finished(String::new())));
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3}}"#;
        assert_eq!(parse_event(usage), Ok(Delta::Text(String::new())));
        assert_eq!(parse_event(" [DONE] "), Ok(Delta::Done));
    }

    #[test]
    fn workers_ai_events_give_their_response() {
        assert_eq!(parse_event(r#"{"response":"Bonjour","p":"abcdef"}"#), Ok(Delta::Text("Bonjour".into())));
        assert_eq!(parse_event(r#"{"response":"","usage":{"prompt_tokens":12}}"#), Ok(Delta::Text(String::new())));
        assert_eq!(parse_event("[DONE]"), Ok(Delta::Done));
    }

    #[test]
    fn malformed_and_error_events_fail() {
        assert!(matches!(parse_event("{\"choices\":[{\"delta\":"), Err(Failure::Malformed(_))));
        assert!(matches!(parse_event("not json"), Err(Failure::Malformed(_))));
        assert!(matches!(parse_event("[1,2]"), Err(Failure::Malformed(_))));
        let error = parse_event(r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#);
        assert_eq!(error, Err(Failure::Malformed("error event: Rate limit reached".into())));
        assert!(matches!(parse_event(r#"{"error":"overloaded"}"#), Err(Failure::Malformed(m)) if m.contains("overloaded")));
    }

    #[test]
    fn failures_read_as_sentences_for_the_log() {
        assert_eq!(Failure::Timeout(1500).to_string(), "no answer from the model within 1500 ms");
        assert!(Failure::Status(429, "slow down".into()).to_string().contains("HTTP 429"));
    }
}

/// Property tests of the stream reader on hostile upstream bytes (issue 16):
/// no panic, the answer within [`MAX_ANSWER_BYTES`], and honest streams read
/// the same whatever their split. `PROPTEST_CASES` sets the number of cases
/// (`cargo xtask fuzz` grows it); 256 by default.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Pushes `wire` cut at `cuts` and ends the stream.
    pub(super) fn read(wire: &[u8], cuts: &[usize]) -> Result<String, Failure> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.sort_unstable();
        let mut reader = StreamReader::new();
        let mut from = 0;
        let mut texts = String::new();
        for cut in cuts.into_iter().chain([wire.len()]) {
            let step = reader.push(&wire[from..cut])?;
            assert!(reader.answer.len() <= MAX_ANSWER_BYTES);
            texts.extend(step.texts);
            if step.done {
                assert_eq!(texts, reader.answer, "on_text gets exactly the answer");
                return Ok(reader.answer);
            }
            from = cut;
        }
        reader.end()
    }

    fn openai(texts: &[String], finish: bool, done: bool) -> String {
        let mut wire = String::from(": OPENROUTER PROCESSING\r\n\r\n");
        for text in texts {
            let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
            wire += &sse::Frame::data(chunk.to_string()).encode();
        }
        if finish {
            wire += "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\n\r\n";
        }
        if done {
            wire += "data: [DONE]\n\n";
        }
        wire
    }

    pub(super) fn workers_ai(texts: &[String], done: bool) -> String {
        let events = texts.iter().map(|text| sse::Frame::data(serde_json::json!({"response": text, "p": "abc"}).to_string()).encode());
        events.collect::<String>() + if done { "data: [DONE]\r\r" } else { "" }
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn honest_streams_read_the_same_in_any_split(
            texts in prop::collection::vec("\\PC{0,20}", 0..8),
            cuts in prop::collection::vec(any::<usize>(), 0..16),
            dialect in 0..2,
            finish in any::<bool>(),
            done in any::<bool>(),
        ) {
            let wire = if dialect == 0 { openai(&texts, finish, done) } else { workers_ai(&texts, done) };
            let ended = done || (dialect == 0 && finish);
            let got = read(wire.as_bytes(), &cuts);
            if ended {
                prop_assert_eq!(got, Ok(texts.concat()));
            } else {
                prop_assert_eq!(got, Err(Failure::Truncated));
            }
        }

        #[test]
        fn any_bytes_fail_cleanly_or_read(
            bytes in prop::collection::vec(prop_oneof![any::<u8>(), prop::sample::select(b"data: {}[]\"response\"choices\n\r:".to_vec())], 0..300),
            cuts in prop::collection::vec(any::<usize>(), 0..16),
        ) {
            match read(&bytes, &cuts) {
                Ok(answer) => prop_assert!(answer.len() <= MAX_ANSWER_BYTES),
                Err(Failure::Malformed(_) | Failure::Truncated | Failure::TooLong(_)) => {}
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        #[test]
        fn answers_over_the_cap_fail(piece in 1_000usize..20_000, cuts in prop::collection::vec(any::<usize>(), 0..8)) {
            let texts = vec!["é".repeat(piece / 2); MAX_ANSWER_BYTES / piece + 2];
            let got = read(workers_ai(&texts, true).as_bytes(), &cuts);
            prop_assert_eq!(got, Err(Failure::TooLong(MAX_ANSWER_BYTES)));
        }
    }
}

/// Examples of the caps (deterministic: not run again by `cargo xtask fuzz`).
#[cfg(test)]
mod cap_examples {
    use super::props::{read, workers_ai};
    use super::*;

    /// An answer of exactly the cap is whole; one byte more is refused.
    #[test]
    fn the_answer_cap_is_exact() {
        let exact = vec!["a".repeat(MAX_ANSWER_BYTES / 2); 2];
        assert_eq!(read(workers_ai(&exact, true).as_bytes(), &[]), Ok(exact.concat()));
        let over = [exact.clone(), vec!["b".into()]].concat();
        assert_eq!(read(workers_ai(&over, true).as_bytes(), &[]), Err(Failure::TooLong(MAX_ANSWER_BYTES)));
    }

    /// An event over the SSE cap is malformed, even when its JSON would parse.
    #[test]
    fn an_event_over_the_sse_cap_is_malformed() {
        let huge = format!("data: {{\"response\":\"{}\"}}\n\n", "x".repeat(MAX_SSE_EVENT_BYTES));
        assert!(matches!(read(huge.as_bytes(), &[4096, 8192]), Err(Failure::Malformed(m)) if m.contains("over")));
    }

    /// Bytes after `[DONE]` are not read.
    #[test]
    fn done_ends_the_answer() {
        assert_eq!(read(b"data: {\"response\":\"ok\"}\n\ndata: [DONE]\n\ndata: not json\n\n", &[]), Ok("ok".into()));
    }
}

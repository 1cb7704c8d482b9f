//! A visitor's live event stream (`GET /api/v1/chat/events`, SSE) as a
//! test reads it: frames parsed as they arrive, live events one at a time.

use std::sync::{Arc, Mutex};

use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::sse::{Frame, Parser};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::http::Host;
use crate::socket::WAIT;
use crate::Server;

/// An open visitor event stream (`GET /api/v1/chat/events`).
pub struct EventStream {
    frames: mpsc::UnboundedReceiver<Frame>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl EventStream {
    /// Opens the stream of the visitor of `session` on `site_key`, after `after_seq`.
    pub async fn open(server: &Server, site_key: &str, session: &str, after_seq: i64) -> EventStream {
        let query = [("site_key", site_key.to_string()), ("session_id", session.to_string()), ("after_seq", after_seq.to_string())];
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/chat/events", server.base()))
            .query(&query)
            .send()
            .await
            .expect("GET /api/v1/chat/events reaches the server");
        assert_eq!(response.status().as_u16(), 200, "the visitor's event stream opens");
        let (tx, frames) = mpsc::unbounded_channel();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let sink = raw.clone();
        let reader = tokio::spawn(async move {
            let mut parser = Parser::new();
            let mut body = response.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                sink.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&chunk);
                for frame in parser.push(&chunk) {
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
            }
        });
        EventStream { frames, raw, reader }
    }

    /// The next live event that is not the mode/status preamble.
    pub async fn event(&mut self) -> LiveEvent {
        loop {
            let frame = match tokio::time::timeout(WAIT, self.frames.recv()).await {
                Ok(Some(frame)) => frame,
                _ => panic!("no event within {WAIT:?}; received:\n{}", String::from_utf8_lossy(&self.raw.lock().unwrap())),
            };
            if frame.data.is_empty() {
                continue;
            }
            let event: LiveEvent = serde_json::from_str(&frame.data).unwrap_or_else(|e| panic!("not a live event ({e}): {frame:?}"));
            if !matches!(event, LiveEvent::Mode { .. } | LiveEvent::Status { .. } | LiveEvent::Read { .. } | LiveEvent::Typing { .. }) {
                return event;
            }
        }
    }

    /// Waits for the server to end the stream (its body ends) within
    /// `within`, skipping the frames before; panics when it stays open.
    pub async fn ends_within(&mut self, within: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.frames.recv()).await {
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(_) => {
                    panic!("the stream is still open after {within:?}; received:\n{}", String::from_utf8_lossy(&self.raw.lock().unwrap()))
                }
            }
        }
    }
}

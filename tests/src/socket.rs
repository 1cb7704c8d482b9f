//! The operator WebSocket `/v1/chat/live` as a test client: a single-use
//! token from `GET /v1/messaging/token`, the handshake, `ping`/`pong`, and
//! the live events (JSON text frames) it pushes, each waited for at most
//! [`WAIT`].

use std::collections::VecDeque;
use std::time::Duration;

use edgechat_shared::api::events::{LiveEvent, MessagingToken};
use edgechat_shared::api::ChatMessage;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::http::{get, json_of, Host};

/// The longest wait for a handshake or a frame.
pub const WAIT: Duration = Duration::from_secs(15);

/// A WebSocket over plain TCP, as `wrangler dev` serves it.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The `ws://` URL of `path` on `host`.
pub fn ws_url(host: &dyn Host, path: &str) -> String {
    let authority = host.base().strip_prefix("http://").unwrap_or_else(|| panic!("not an http URL: {}", host.base()));
    format!("ws://{authority}{path}")
}

/// `GET /v1/messaging/token` as the operator of `token`: a single-use socket token and its URL.
pub async fn messaging_token(host: &dyn Host, token: &str) -> MessagingToken {
    json_of(get(host, "/v1/messaging/token", token).await, 200).await
}

/// An operator's open WebSocket, yielding parsed [`LiveEvent`]s.
pub struct Socket {
    ws: Ws,
    pending: VecDeque<LiveEvent>,
}

impl Socket {
    /// Opens the socket of the operator holding `token` and waits until it
    /// answers `ping`, so that it is connected before the test goes on.
    pub async fn open(host: &dyn Host, token: &str) -> Socket {
        let issued = messaging_token(host, token).await;
        let mut socket = Socket::connect(host, &issued.url).await;
        socket.ping().await;
        socket
    }

    /// Opens a WebSocket to `path` (which carries the socket token); panics
    /// when the handshake fails or takes longer than [`WAIT`].
    pub async fn connect(host: &dyn Host, path: &str) -> Socket {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(ws_url(host, path)))
            .await
            .unwrap_or_else(|_| panic!("{path}: no handshake within {WAIT:?}"))
            .unwrap_or_else(|e| panic!("{path}: the WebSocket handshake failed: {e}"));
        Socket { ws, pending: VecDeque::new() }
    }

    /// The WebSocket itself, for a reader of its own (the bench).
    pub fn into_ws(self) -> Ws {
        self.ws
    }

    /// Sends one text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("the WebSocket accepts a text frame");
    }

    /// The next text frame; panics on anything else or after [`WAIT`].
    pub async fn text(&mut self) -> String {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next()).await.unwrap_or_else(|_| panic!("no WebSocket frame within {WAIT:?}"));
            match next {
                Some(Ok(Message::Text(text))) => return text.as_str().to_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("unexpected WebSocket frame: {other:?}"),
                Some(Err(e)) => panic!("WebSocket error: {e}"),
                None => panic!("the WebSocket closed"),
            }
        }
    }

    /// Waits for the close frame and answers its code and reason; panics
    /// when a text frame (an event) comes first, or after [`WAIT`]. Then
    /// checks that the connection ends: nothing can follow the close.
    pub async fn closed(&mut self) -> (u16, String) {
        let (code, reason) = loop {
            let next = tokio::time::timeout(WAIT, self.ws.next()).await.unwrap_or_else(|_| panic!("no close frame within {WAIT:?}"));
            match next {
                Some(Ok(Message::Close(Some(frame)))) => break (u16::from(frame.code), frame.reason.as_str().to_owned()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected the close frame, got {other:?}"),
            }
        };
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await.unwrap_or_else(|_| panic!("the connection did not end within {WAIT:?}"))
            {
                None | Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) => break,
                Some(Ok(Message::Close(_))) => continue,
                other => panic!("after the close frame came {other:?}"),
            }
        }
        (code, reason)
    }

    /// Sends `ping` and waits for `pong`, keeping the events that came first.
    pub async fn ping(&mut self) {
        self.send_text("ping").await;
        loop {
            let text = self.text().await;
            if text == "pong" {
                return;
            }
            self.pending.push_back(parse_live(&text));
        }
    }

    /// The next event of any conversation.
    pub async fn event(&mut self) -> LiveEvent {
        if let Some(event) = self.pending.pop_front() {
            return event;
        }
        let text = self.text().await;
        parse_live(&text)
    }

    /// The next event of conversation `id`, skipping other conversations' events.
    pub async fn event_of(&mut self, id: i64) -> LiveEvent {
        loop {
            let event = self.event().await;
            if event.conversation_id() == Some(id) {
                return event;
            }
        }
    }

    /// The events of conversation `id`, skipping other conversations', up to
    /// and including the first for which `last` holds.
    pub async fn events_of_until(&mut self, id: i64, last: impl Fn(&LiveEvent) -> bool) -> Vec<LiveEvent> {
        let mut seen = Vec::new();
        loop {
            let event = self.event_of(id).await;
            let done = last(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }

    /// The next message of conversation `id`, skipping every other event.
    pub async fn message_of(&mut self, id: i64) -> ChatMessage {
        loop {
            if let LiveEvent::Message { message, .. } = self.event_of(id).await {
                return message;
            }
        }
    }
}

/// The live event of a WebSocket text frame; panics when it is none.
pub fn parse_live(text: &str) -> LiveEvent {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("a WebSocket text frame is not a live event ({e}): {text}"))
}

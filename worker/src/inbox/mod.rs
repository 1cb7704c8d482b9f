//! The `Inbox` Durable Object: one per account, holding every operator's
//! WebSocket (`/v1/chat/live`) with the hibernation API, so idle operators
//! cost nothing. Rooms publish each [`LiveEvent`] of the account's
//! conversations here and the Inbox sends it to every socket, or, for an
//! internal conversation, to its participants' sockets only; when an
//! operator is removed, changes role, changes password or logs out
//! everywhere, their sockets are closed at once.
//!
//! Its protocol is one enum, [`Command`] (mini-redis `cmd/` style): each
//! variant's type owns its client call, used by routes and the Room, and its
//! handler here. By concern:
//! - [`client`]: how a command travels to an account's Inbox;
//! - [`sockets`]: publish, connect, end an operator's sessions;
//! - [`tokens`]: the self-authenticating, single-use live tokens, and the
//!   sweep that keeps their ledger small.

mod client;
mod sockets;
mod tokens;

pub use sockets::{Connect, EndSessions, Publish};
pub use tokens::LiveToken;

use edgechat_shared::api::events::LiveEvent;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, State, WebSocket, WebSocketIncomingMessage};

use crate::auth::now_secs;
use crate::db::team::{self, Audience};
use crate::live::EncodedEvent;

/// Sends `event` to the operator sockets of `account_id` that may see its
/// conversation: every operator's for a visitor conversation, only the
/// participants' for an internal one; nobody's once the conversation is
/// gone; every operator's for an event about no conversation (a ticket's). The audience is read from D1 as the event leaves, so a participant
/// removed a moment ago gets nothing more. Answers how many sockets got it.
pub async fn publish(env: &Env, account_id: i64, event: &LiveEvent) -> worker::Result<usize> {
    publish_encoded(env, account_id, &EncodedEvent::new(event)).await
}

/// [`publish`] of an event encoded already (the Room's outbox).
pub async fn publish_encoded(env: &Env, account_id: i64, event: &EncodedEvent) -> worker::Result<usize> {
    let Some(conversation_id) = event.conversation_id else {
        return publish_encoded_to(env, account_id, event, &Audience::Everyone).await;
    };
    let db = crate::db::database(env)?;
    match team::audience(&db, account_id, conversation_id).await? {
        Some(audience) => publish_encoded_to(env, account_id, event, &audience).await,
        None => Ok(0),
    }
}

/// Sends `event` to `audience` as given (a deleted conversation's former
/// audience; a participant just removed, told so); answers how many sockets got it.
pub async fn publish_to(env: &Env, account_id: i64, event: &LiveEvent, audience: &Audience) -> worker::Result<usize> {
    publish_encoded_to(env, account_id, &EncodedEvent::new(event), audience).await
}

/// [`publish_to`] of an event encoded already.
pub async fn publish_encoded_to(env: &Env, account_id: i64, event: &EncodedEvent, audience: &Audience) -> worker::Result<usize> {
    let recipients = match audience {
        Audience::Everyone => None,
        Audience::Participants(ids) => Some(ids.clone()),
    };
    Publish { event: event.json.clone(), recipients }.send(env, account_id).await
}

/// One request to an account's Inbox.
///
/// # Format
/// `{"publish":{"event":{…},"recipients":[3,5]}}` (`recipients` absent: every socket), `{"connect":{"token":{…}}}`,
/// `{"end_sessions":{"user_id":42,"version_floor":7,"why":"role_changed"}}`. Externally
/// tagged (serde's default), not by a `command` field: an internally tagged
/// enum is decoded through serde's buffered `Content`, which costs wasm for
/// every variant and cannot carry the event's raw JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// See [`Publish`] (boxed: an event is much larger than the other commands).
    Publish(Box<Publish>),
    /// See [`Connect`].
    Connect(Connect),
    /// See [`EndSessions`].
    EndSessions(EndSessions),
}

impl Command {
    /// Runs the command in `inbox`.
    async fn apply(self, inbox: &Inbox) -> worker::Result<Response> {
        match self {
            Command::Publish(command) => command.apply(inbox),
            Command::Connect(command) => command.apply(inbox).await,
            Command::EndSessions(command) => command.apply(inbox).await,
        }
    }
}

/// The live hub of one account's operators.
#[durable_object]
pub struct Inbox {
    state: State,
    /// The earliest access-JWT expiry among the open sockets, once a scan
    /// found it (`None` after a wake from hibernation: the next event scans).
    next_session_end: std::cell::Cell<Option<i64>>,
}

impl DurableObject for Inbox {
    fn new(state: State, _env: Env) -> Self {
        Inbox { state, next_session_end: std::cell::Cell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match Command::receive(&mut req).await {
            Ok(command) => command.apply(self).await,
            Err(err) => Response::error(format!("not an inbox command: {err}"), 400),
        }
    }

    /// Sweeps the live-token ledger (see [`tokens`]).
    async fn alarm(&self) -> worker::Result<Response> {
        tokens::sweep(&self.state.storage(), now_secs()).await?;
        Response::empty()
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        if let WebSocketIncomingMessage::String(text) = message {
            if text == "ping" {
                ws.send_with_str("pong")?;
            }
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, reason: String, _was_clean: bool) -> worker::Result<()> {
        // Echo the close so the socket completes its closing handshake.
        let code = if code == 1005 || code == 1006 { 1000 } else { code as u16 };
        let _ = ws.close(Some(code), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        Ok(())
    }
}

//! The `Room` Durable Object: one per conversation, the single writer of its
//! messages (ARCHITECTURE.md, invariant). It assigns `seq`, writes to D1
//! before acknowledging or broadcasting, dedupes by author and client
//! `message_id`, fans every change out to the visitor's live SSE streams and
//! to the account's [`crate::inbox::Inbox`] (operators), and in `ai` mode
//! runs the responder and streams its chunks back to the sender.
//!
//! The protocol is one enum, [`RoomRequest`] (mini-redis `cmd/` style): each
//! variant is a type that owns its client call (used by routes) and its
//! handler (run here), in the module of its concern:
//! - [`client`]: [`RoomContext`], the transport and the binding of a Room to
//!   the one conversation (and site, and account) it serves;
//! - [`live`]: fan-out to visitor streams and operators, subscriptions,
//!   signals, closing;
//! - [`answering`]: visitor messages and their answers, handoff;
//! - [`storage`]: the ordered message write, operator messages;
//! - [`editing`]: edits and reactions of stored messages.
//!
//! Writes are serialized by one async lock, so events leave in `seq` order.

mod answering;
mod client;
mod editing;
mod live;
mod snooze;
mod storage;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::channel::mpsc::UnboundedSender;
use futures::lock::Mutex;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use crate::db::messages::FileLinks;

pub use answering::{Handoff, SendVisitorMessage};
pub use client::RoomContext;
pub use editing::{EditMessage, ToggleReaction};
pub use live::{close_all, Close, Presence, Signal, Subscribe};
pub use snooze::Snooze;
pub use storage::{ForwardCopy, ForwardMessages, SendClaimedMessage, SendOperatorMessage};

/// Every request a Room serves, sent as the JSON body of one internal
/// `POST` (`{"signal":{"context":{…},"event":{…}}}`). Each variant's type
/// has the client call (`call`) and the handler (`apply`). Externally
/// tagged (serde's default): an internally tagged enum is decoded through
/// serde's buffered `Content`, which costs wasm for every variant and
/// cannot carry a signal's raw JSON ([`crate::live::EncodedEvent`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRequest {
    /// A visitor message; answers the SSE stream of its answer.
    VisitorMessage(SendVisitorMessage),
    /// A visitor message checked by its own write (its `claims`); answers
    /// the SSE stream of its answer, or 204 with nothing stored. A variant
    /// of its own: a Room of an earlier version cannot decode it, so it
    /// never writes it unchecked.
    ClaimedVisitorMessage(SendVisitorMessage),
    /// An operator reply; answers the stored message as JSON.
    OperatorMessage(SendOperatorMessage),
    /// An operator reply checked by its own write; answers the stored message, or `null`, as JSON.
    ClaimedMessage(SendClaimedMessage),
    /// The visitor accepts the offer of a person; answers `true` when the mode changed.
    Handoff(Handoff),
    /// A typing, read, mode or status event; answers 204.
    Signal(Signal),
    /// A visitor live stream; answers `text/event-stream`.
    Subscribe(Subscribe),
    /// The conversation is deleted: streams end and the Room refuses every later request.
    Close(Close),
    /// Copies of messages forwarded by an operator; answers them as JSON.
    ForwardMessages(ForwardMessages),
    /// How many visitor live streams are open; answers [`Presence`] as JSON.
    Presence(Presence),
    /// An operator edits their message; answers [`Edited`] as JSON.
    EditMessage(EditMessage),
    /// An operator toggles a reaction; answers the message's reactions as JSON.
    ToggleReaction(ToggleReaction),
    /// An operator snoozed the conversation; the Room sets its alarm; answers 204.
    Snooze(Snooze),
}

impl RoomRequest {
    /// The conversation the request is about (the Room's name).
    pub fn conversation_id(&self) -> i64 {
        match self {
            RoomRequest::ClaimedMessage(r) => r.conversation_id,
            RoomRequest::ClaimedVisitorMessage(r) => r.context.conversation_id,
            other => other.context().map_or(0, |context| context.conversation_id),
        }
    }

    /// The checked conversation, site and account the request is about,
    /// which the Room's first request binds it to; `None` for a request
    /// whose sender is not checked yet, which never binds a Room.
    pub fn context(&self) -> Option<&RoomContext> {
        Some(match self {
            RoomRequest::ClaimedMessage(_) | RoomRequest::ClaimedVisitorMessage(_) => return None,
            RoomRequest::VisitorMessage(r) => &r.context,
            RoomRequest::OperatorMessage(r) => &r.context,
            RoomRequest::Handoff(r) => &r.context,
            RoomRequest::Signal(r) => &r.context,
            RoomRequest::Subscribe(r) => &r.context,
            RoomRequest::Close(r) => &r.context,
            RoomRequest::ForwardMessages(r) => &r.context,
            RoomRequest::EditMessage(r) => &r.context,
            RoomRequest::ToggleReaction(r) => &r.context,
            RoomRequest::Snooze(r) => &r.context,
            RoomRequest::Presence(r) => &r.context,
        })
    }

    /// How the request's site signs file links, for requests that bring them.
    fn links(&self) -> Option<&FileLinks> {
        match self {
            RoomRequest::VisitorMessage(r) => Some(&r.links),
            RoomRequest::OperatorMessage(r) => Some(&r.links),
            RoomRequest::Subscribe(r) => Some(&r.links),
            RoomRequest::ForwardMessages(r) => Some(&r.links),
            RoomRequest::EditMessage(r) => Some(&r.links),
            // Claimed site values are kept once the write found them current.
            RoomRequest::Handoff(_)
            | RoomRequest::ClaimedMessage(_)
            | RoomRequest::ClaimedVisitorMessage(_)
            | RoomRequest::Signal(_)
            | RoomRequest::Close(_)
            | RoomRequest::ToggleReaction(_)
            | RoomRequest::Snooze(_)
            | RoomRequest::Presence(_) => None,
        }
    }

    async fn apply(self, core: Rc<RoomCore>) -> worker::Result<Response> {
        if let Some(links) = self.links() {
            *core.links.borrow_mut() = Some(links.clone());
        }
        match self {
            RoomRequest::VisitorMessage(r) => r.apply(core).await,
            RoomRequest::ClaimedVisitorMessage(r) => r.apply_claimed(core).await,
            RoomRequest::OperatorMessage(r) => r.apply(&core).await,
            RoomRequest::ClaimedMessage(r) => r.apply(&core).await,
            RoomRequest::Handoff(r) => r.apply(&core).await,
            RoomRequest::Signal(r) => r.apply(&core).await,
            RoomRequest::Subscribe(r) => r.apply(core).await,
            RoomRequest::Close(r) => r.apply(&core).await,
            RoomRequest::ForwardMessages(r) => r.apply(&core).await,
            RoomRequest::EditMessage(r) => r.apply(&core).await,
            RoomRequest::ToggleReaction(r) => r.apply(&core).await,
            RoomRequest::Snooze(r) => r.apply(&core).await,
            RoomRequest::Presence(r) => r.apply(&core),
        }
    }
}

/// One live conversation.
#[durable_object]
pub struct Room {
    core: Rc<RoomCore>,
}

/// The Room's state, shared with the tasks it spawns (answers, heartbeats).
pub(crate) struct RoomCore {
    env: Env,
    state: State,
    /// The conversation this Room serves, once known (see [`client::Binding`]).
    binding: RefCell<Option<client::Binding>>,
    live: Rc<RefCell<live::Live>>,
    writes: Mutex<()>,
    /// Events on their way to the account's Inbox, sent in order by one task.
    outbox: RefCell<Option<UnboundedSender<live::Outgoing>>>,
    /// Handoffs accepted so far: an answer being written stops when it changes.
    handoffs: Cell<u64>,
    /// How the site signs file links, from the newest request that brought
    /// them: broadcast messages carry attachment links signed afresh.
    links: RefCell<Option<FileLinks>>,
    /// The conversation's mode as the Room's newest write found it (`None`
    /// after a `mode` signal, until the next write): a hint only. A visitor
    /// message in `operator` mode skips the knowledge-base lookup the AI
    /// would need; a stale hint costs that lookup after the write, never a
    /// wrong answer.
    mode_hint: Cell<Option<edgechat_shared::api::Mode>>,
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        Room {
            core: Rc::new(RoomCore {
                env,
                state,
                binding: RefCell::new(None),
                live: Rc::default(),
                writes: Mutex::new(()),
                outbox: RefCell::new(None),
                handoffs: Cell::new(0),
                links: RefCell::new(None),
                mode_hint: Cell::new(None),
            }),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        // Parsed from the text by serde_json, not by `Request::json` (the
        // runtime's parse, then serde-wasm-bindgen), which cannot keep a
        // signal's raw JSON (`EncodedEvent::json`).
        let request: RoomRequest = serde_json::from_str(&req.text().await?)?;
        // A request without a checked context checks the Room's binding
        // itself, and binds nothing.
        let check = match request.context().copied() {
            Some(context) => self.core.check_binding(&context).await?,
            None => client::Check::Serves,
        };
        match check {
            client::Check::Serves => request.apply(Rc::clone(&self.core)).await,
            client::Check::Closed => Response::error("this conversation was deleted", 410),
            client::Check::Other => Response::error("this room serves another conversation", 409),
        }
    }

    /// A snooze is due ([`snooze`]).
    async fn alarm(&self) -> worker::Result<Response> {
        self.core.wake().await?;
        Response::empty()
    }
}

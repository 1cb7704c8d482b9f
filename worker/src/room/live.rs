//! Live fan-out: the visitor's SSE streams of one conversation and the
//! events sent on to the account's operators, plus the requests that only
//! move events ([`Subscribe`], [`Signal`]) and the one that ends them all
//! ([`Close`]).
//!
//! Bounded (README, "Resource caps"): a conversation holds at most
//! [`LIVE_STREAMS_PER_CONVERSATION`] streams (one more ends the oldest),
//! and a stream at most [`LIVE_BUFFER_EVENTS`] live frames its client has
//! not read yet (one more drops it; its client resumes with
//! `Last-Event-ID` and the replay from D1 fills the gap). The replay is
//! read [`REPLAY_PAGE`] messages at a time as the client reads it, so a
//! long conversation is never held whole.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use edgechat_shared::api::events::{LiveEvent, HEARTBEAT_SECONDS, SSE_RETRY_MS};
use edgechat_shared::api::{MessageStatus, Role};
use edgechat_shared::limits::{LIVE_BUFFER_EVENTS, LIVE_STREAMS_PER_CONVERSATION};
use edgechat_shared::sse;
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::{future, stream, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use worker::{Env, Response};

use super::{RoomContext, RoomCore, RoomRequest};
use crate::db::messages::FileLinks;
use crate::db::team::Audience;
use crate::db::{self, conversations, messages, MessageRow};
use crate::error::{ApiError, ApiResult};
use crate::inbox;
use crate::live::EncodedEvent;

/// A frame on its way to a visitor stream, with the `seq` of the message
/// it carries (if any): the stream sends each message once, in `seq` order.
type Frame = (Option<i64>, String);

/// Messages read from D1 at a time by a stream's replay.
const REPLAY_PAGE: u32 = 100;

/// One visitor live stream.
struct Subscriber {
    tx: UnboundedSender<Frame>,
    /// Live frames queued and not yet read by the response body.
    queued: Rc<Cell<usize>>,
    /// Most live frames it may have queued ([`buffer_cap`]).
    cap: usize,
    /// The app session that opened it (its token's hash), for a signed-in
    /// user's stream: the stream ends once the session does.
    app_session: Option<String>,
    /// `false` once it left the Room's list (dropped, replaced, closed, its
    /// session ended): its replay stops reading D1 and its stream ends, so
    /// no stream outlives the permission that opened it.
    alive: Rc<Cell<bool>>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.alive.set(false);
    }
}

impl Subscriber {
    /// Queues a live frame; `false` once the client has gone, or when it
    /// already has `cap` frames unread: a slow client is dropped (its stream
    /// ends after what it holds) and resumes with `Last-Event-ID`. While
    /// the stream's replay is read, live frames wait here, counted.
    fn send(&self, seq: Option<i64>, frame: String) -> bool {
        if !self.takes_more() {
            return false;
        }
        self.queued.set(self.queued.get() + 1);
        self.tx.unbounded_send((seq, frame)).is_ok()
    }

    /// Whether [`Subscriber::send`] would queue a frame now: the client is
    /// there and the stream is fewer than `cap` frames behind.
    fn takes_more(&self) -> bool {
        !self.tx.is_closed() && self.queued.get() < self.cap
    }
}

/// The buffer cap of a visitor stream: [`LIVE_BUFFER_EVENTS`], or the
/// worker var `LIVE_BUFFER_EVENTS` (set by tests only, to make a slow
/// client quick to produce).
fn buffer_cap(env: &Env) -> usize {
    test_var(env, "LIVE_BUFFER_EVENTS").unwrap_or(LIVE_BUFFER_EVENTS)
}

/// The cap of a conversation's streams: [`LIVE_STREAMS_PER_CONVERSATION`],
/// or the worker var `LIVE_STREAMS_PER_CONVERSATION` (set by the bench
/// only, which measures the fan-out to 100 streams of one conversation).
fn streams_cap(env: &Env) -> usize {
    test_var(env, "LIVE_STREAMS_PER_CONVERSATION").unwrap_or(LIVE_STREAMS_PER_CONVERSATION)
}

/// A positive number in worker var `name`, which only tests and benches set
/// (`wrangler.toml` sets none of these).
fn test_var(env: &Env, name: &str) -> Option<usize> {
    env.var(name).ok().and_then(|v| v.to_string().parse().ok()).filter(|&n| n > 0)
}

/// The visitor streams of the Room.
#[derive(Default)]
pub(super) struct Live {
    subscribers: Vec<Subscriber>,
    heartbeat: bool,
}

/// An event for the account's operators, and the message to mark
/// `delivered` once it reached someone.
pub(super) struct Outgoing {
    account_id: i64,
    /// `true` for a visitor conversation, whose audience is every operator
    /// of the account: no D1 read of the audience on its way out.
    everyone: bool,
    event: EncodedEvent,
    delivered: Delivery,
}

/// When a broadcast message counts as delivered (seed 000's status).
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) enum Delivery {
    /// Not a message, or nobody on the other side.
    Never,
    /// A visitor stream received it.
    Now(i64),
    /// Once an operator socket receives it.
    IfOperatorsReceive(i64),
}

/// How message `id` by `role`, stored with `status`, becomes `delivered`
/// (seed 000) once `visitors` visitor streams took its broadcast.
fn delivery(id: i64, role: Role, status: MessageStatus, visitors: usize) -> Delivery {
    match (role == Role::Visitor, visitors) {
        (true, _) => Delivery::IfOperatorsReceive(id),
        (false, 0) => Delivery::Never,
        // Stored `delivered` already (an operator's message with a visitor
        // stream open). Should that stream have closed during the write, it
        // stays so: a status never goes back (seed 000), and a frame queued
        // to a closing stream counted as delivered before as well.
        (false, _) if status != MessageStatus::Sent => Delivery::Never,
        (false, _) => Delivery::Now(id),
    }
}

impl RoomCore {
    /// Sends `event` to every visitor stream now and queues it for the
    /// account's operators; `delivered` decides, from the number of visitor
    /// streams reached, which message (if any) becomes `delivered`.
    pub(super) fn broadcast(&self, context: &RoomContext, event: &LiveEvent, delivered: impl FnOnce(usize) -> Delivery) {
        self.broadcast_encoded(context, EncodedEvent::new(event), delivered);
    }

    /// [`RoomCore::broadcast`] of an event encoded already: its one SSE
    /// frame goes to every visitor stream, its JSON to the Inbox.
    pub(super) fn broadcast_encoded(&self, context: &RoomContext, event: EncodedEvent, delivered: impl FnOnce(usize) -> Delivery) {
        let mut visitors = 0;
        if event.for_visitor {
            let frame = event.frame();
            let mut live = self.live.borrow_mut();
            live.subscribers.retain(|s| s.send(event.seq, frame.clone()));
            visitors = live.subscribers.len();
        }
        let outgoing =
            Outgoing { account_id: context.account_id, everyone: context.site_id.is_some(), event, delivered: delivered(visitors) };
        let mut outbox = self.outbox.borrow_mut();
        let open = outbox.as_ref().is_some_and(|tx| !tx.is_closed());
        if !open {
            let (tx, rx) = unbounded();
            wasm_bindgen_futures::spawn_local(drain_outbox(self.env.clone(), rx));
            *outbox = Some(tx);
        }
        let _ = outbox.as_ref().expect("outbox just opened").unbounded_send(outgoing);
    }

    /// Broadcasts a stored message (after, for a visitor conversation's
    /// first one, the new conversation; an internal conversation is
    /// announced when it is created, as it may have no message yet).
    /// Then publishes its `message.created` outbox row `event_row`
    /// ([`RoomCore::publish_created`]) with the message as broadcast.
    pub(super) fn announce(&self, context: &RoomContext, row: &MessageRow, event_row: Option<crate::events::Written>) {
        if row.seq == 1 && context.site_id.is_some() {
            let new = LiveEvent::Conversation { conversation_id: context.conversation_id, site_id: context.site_id };
            self.broadcast(context, &new, |_| Delivery::Never);
        }
        let event = LiveEvent::Message { conversation_id: context.conversation_id, message: row.to_chat_message(&self.file_links()) };
        self.broadcast(context, &event, |visitors| delivery(row.id, row.role, row.status, visitors));
        if let LiveEvent::Message { message, .. } = event {
            self.publish_created(context, event_row, row.seq, &message);
        }
    }

    /// Whether a live frame broadcast now would reach a visitor stream
    /// ([`Subscriber::takes_more`]).
    pub(super) fn visitor_stream_takes_more(&self) -> bool {
        self.live.borrow().subscribers.iter().any(Subscriber::takes_more)
    }

    /// The file links of the newest request that brought them. Every request
    /// that writes or replays messages brings them, so a message with
    /// attachments always finds them; otherwise (an AI answer) no link is made.
    pub(super) fn file_links(&self) -> FileLinks {
        self.links.borrow().clone().unwrap_or_else(FileLinks::none)
    }

    /// Starts the heartbeat loop unless it runs: a comment to every stream
    /// each [`HEARTBEAT_SECONDS`], which also drops streams whose client
    /// left, ends every stream of a visitor blocked since, and closes the
    /// Room when its conversation no longer exists (a site deleted with more
    /// conversations than [`close_all`] reaches).
    fn start_heartbeat(self: &Rc<Self>, conversation_id: i64) {
        if std::mem::replace(&mut self.live.borrow_mut().heartbeat, true) {
            return;
        }
        let core = Rc::clone(self);
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                worker::Delay::from(Duration::from_secs(HEARTBEAT_SECONDS)).await;
                let blocked = match db::database(&core.env) {
                    Ok(db) => conversations::visitor_blocked(&db, conversation_id).await,
                    Err(err) => Err(err),
                };
                match blocked {
                    Ok(None) => {
                        if let Err(err) = core.close().await {
                            worker::console_error!("closing the room of deleted conversation {conversation_id} failed: {err}");
                        }
                    }
                    // Blocked since the streams opened, and the block's own
                    // signal did not reach this Room: they end now.
                    Ok(Some(true)) => core.live.borrow_mut().subscribers.clear(),
                    Ok(Some(false)) | Err(_) => {}
                }
                core.drop_ended_app_sessions().await;
                let mut live = core.live.borrow_mut();
                // Only an idle stream (nothing queued) needs one: a stream with
                // frames waiting (a slow reader, a long replay) would only
                // fill its buffer with heartbeats.
                if core.env.var("LOG_WASM_MEMORY").is_ok_and(|v| v.to_string() == "true") {
                    worker::console_log!("wasm memory: {} KiB", wasm_memory_kib());
                }
                let beat = sse::comment("heartbeat");
                live.subscribers.retain(|s| if s.queued.get() > 0 { !s.tx.is_closed() } else { s.send(None, beat.clone()) });
                if live.subscribers.is_empty() {
                    live.heartbeat = false;
                    break;
                }
            }
        });
    }

    /// Ends the streams of signed-in users whose app session ended (signed
    /// out, expired, the site rotated its identity secret) or who were
    /// blocked since they opened it: no live channel outlives the permission
    /// that opened it by more than one heartbeat.
    async fn drop_ended_app_sessions(&self) {
        let hashes: Vec<String> = self.live.borrow().subscribers.iter().filter_map(|s| s.app_session.clone()).collect();
        if hashes.is_empty() {
            return;
        }
        let valid = match db::database(&self.env) {
            Ok(db) => db::app_sessions::still_valid(&db, &hashes).await,
            Err(err) => Err(err),
        };
        match valid {
            // A stream opened during the check (its hash not asked about) stays.
            Ok(valid) => self
                .live
                .borrow_mut()
                .subscribers
                .retain(|s| s.app_session.as_ref().is_none_or(|h| !hashes.contains(h) || valid.contains(h))),
            Err(err) => worker::console_error!("checking the app sessions of live streams failed: {err}"),
        }
    }

    /// Closes the Room for good (its conversation was deleted): its visitor
    /// streams end (dropping their senders ends them), an answer being
    /// written stops, and every later request is refused.
    pub(super) async fn close(&self) -> worker::Result<()> {
        self.unbind().await?;
        self.handoffs.set(self.handoffs.get() + 1);
        self.live.borrow_mut().subscribers.clear();
        Ok(())
    }
}

/// The size of the wasm linear memory (the worker's Rust heap and stack,
/// shared by the worker and its Durable Objects in one isolate), in KiB:
/// logged at each Room heartbeat when the var `LOG_WASM_MEMORY` is `true`,
/// so that the soak can tell the worker's own memory from workerd's RSS.
fn wasm_memory_kib() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// Sends queued events to the account's Inbox one after the other (so
/// operators receive them in order), and marks messages `delivered` once
/// they reached the other side.
async fn drain_outbox(env: Env, mut rx: UnboundedReceiver<Outgoing>) {
    while let Some(outgoing) = rx.next().await {
        // A visitor conversation's audience is every operator (the Room
        // knows its kind); only an internal one reads its participants.
        let published = if outgoing.everyone {
            inbox::publish_encoded_to(&env, outgoing.account_id, &outgoing.event, &Audience::Everyone).await
        } else {
            inbox::publish_encoded(&env, outgoing.account_id, &outgoing.event).await
        };
        let operators = match published {
            Ok(n) => n,
            Err(err) => {
                worker::console_error!("publishing to the inbox failed: {err}");
                0
            }
        };
        let delivered = match outgoing.delivered {
            Delivery::Now(id) => Some(id),
            Delivery::IfOperatorsReceive(id) if operators > 0 => Some(id),
            _ => None,
        };
        if let Some(id) = delivered {
            let marked = match db::database(&env) {
                Ok(db) => messages::mark_delivered(&db, id).await,
                Err(err) => Err(err),
            };
            if let Err(err) = marked {
                worker::console_error!("marking message {id} delivered failed: {err}");
            }
        }
    }
}

/// An SSE response carrying the frames of `frames`.
pub(super) fn sse_response(frames: impl Stream<Item = String> + 'static) -> worker::Result<Response> {
    let mut response = Response::from_stream(frames.map(|frame| Ok::<Vec<u8>, worker::Error>(frame.into_bytes())))?;
    let headers = response.headers_mut();
    headers.set("Content-Type", crate::runtime_stream::SSE_CONTENT_TYPE)?;
    headers.set("Cache-Control", crate::runtime_stream::SSE_CACHE_CONTROL)?;
    Ok(response)
}

/// Request: a visitor live stream (`text/event-stream` of [`LiveEvent`]s):
/// `retry:`, the current mode and status, the messages after `after_seq`
/// from D1, then live events; a comment heartbeat every [`HEARTBEAT_SECONDS`].
/// Opening one past [`LIVE_STREAMS_PER_CONVERSATION`] ends the oldest; a
/// stream more than [`LIVE_BUFFER_EVENTS`] live frames behind ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscribe {
    pub context: RoomContext,
    /// How the site signs the replayed messages' file links.
    pub links: FileLinks,
    /// The newest `seq` the visitor has (0: none).
    pub after_seq: i64,
    /// The hash of the app session token that opens a signed-in user's
    /// stream (`GET /api/v1/app/conversations/{id}/events`); `None` for the widget's.
    #[serde(default)]
    pub app_session: Option<String>,
}

impl Subscribe {
    /// Opens the stream. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<web_sys::Response> {
        RoomRequest::Subscribe(self).call(env).await
    }

    pub(super) async fn apply(self, core: Rc<RoomCore>) -> worker::Result<Response> {
        let (tx, rx) = unbounded::<Frame>();
        let queued = Rc::new(Cell::new(0));
        let alive = Rc::new(Cell::new(true));
        {
            let mut live = core.live.borrow_mut();
            // Streams whose client is gone take no slot; then the oldest
            // streams end, so that the visitor's newest tab always gets one.
            live.subscribers.retain(|s| !s.tx.is_closed());
            while live.subscribers.len() >= streams_cap(&core.env) {
                let oldest = live.subscribers.remove(0);
                let _ = oldest.tx.unbounded_send((None, sse::comment("replaced by a newer stream")));
            }
            // From here every live event reaches this stream: whatever the
            // replay below does not find in D1 yet, it finds here.
            live.subscribers.push(Subscriber {
                tx,
                queued: Rc::clone(&queued),
                cap: buffer_cap(&core.env),
                app_session: self.app_session.clone(),
                alive: Rc::clone(&alive),
            });
        }
        core.start_heartbeat(self.context.conversation_id);
        let db = db::database(&core.env)?;
        let conversation_id = self.context.conversation_id;
        let state =
            conversations::state(&db, conversation_id).await?.ok_or_else(|| worker::Error::RustError("no such conversation".into()))?;
        let head = [
            sse::retry(SSE_RETRY_MS),
            LiveEvent::Mode { conversation_id, mode: state.mode, author_name: None }.to_frame().encode(),
            LiveEvent::Status { conversation_id, status: state.status }.to_frame().encode(),
        ];
        let head = stream::iter(head.map(|frame| Some((None, frame))));
        let replay = replay(core.env.clone(), conversation_id, self.after_seq, self.links, alive);
        // A live frame read by the response body leaves the stream's buffer.
        let live = rx.map(move |frame| {
            queued.set(queued.get().saturating_sub(1));
            Some(frame)
        });
        sse_response(compose(head, replay, live, self.after_seq))
    }
}

/// The frames of one visitor stream: `head`, then `replay`, then `live`,
/// each message (a frame with a `seq`) once and in `seq` order, none at or
/// below `after_seq`. It ends at the first `None` (a failed replay read, a
/// subscriber that left the Room), so that no live message jumps a gap:
/// the client resumes with `Last-Event-ID`.
fn compose(
    head: impl Stream<Item = Option<Frame>>,
    replay: impl Stream<Item = Option<Frame>>,
    live: impl Stream<Item = Option<Frame>>,
    after_seq: i64,
) -> impl Stream<Item = String> {
    let mut newest = after_seq;
    head.chain(replay).chain(live).take_while(|frame| future::ready(frame.is_some())).filter_map(move |frame| {
        let fresh = match frame {
            Some((Some(seq), _)) if seq <= newest => None,
            Some((Some(seq), frame)) => {
                newest = seq;
                Some(frame)
            }
            Some((None, frame)) => Some(frame),
            None => None,
        };
        future::ready(fresh)
    })
}

/// The stored messages of `conversation_id` after `after_seq` as frames,
/// read from D1 [`REPLAY_PAGE`] at a time as the stream is read; `None`
/// (and no more) after a failed read, or once the subscriber is no longer
/// `alive`.
fn replay(env: Env, conversation_id: i64, after_seq: i64, links: FileLinks, alive: Rc<Cell<bool>>) -> impl Stream<Item = Option<Frame>> {
    stream::unfold(Some(after_seq), move |cursor| {
        let env = env.clone();
        let links = links.clone();
        let alive = Rc::clone(&alive);
        async move {
            let after = cursor?;
            if !alive.get() {
                return Some((stream::iter(vec![None]), None));
            }
            let page = match db::database(&env) {
                Ok(db) => messages::page(&db, conversation_id, None, Some(after), REPLAY_PAGE).await,
                Err(err) => Err(err),
            };
            let (rows, more) = match page {
                Ok(page) => page,
                Err(err) => {
                    worker::console_error!("replaying conversation {conversation_id} after seq {after} failed: {err}");
                    return Some((stream::iter(vec![None]), None));
                }
            };
            let next = rows.last().map(|row| row.seq).filter(|_| more);
            let frames: Vec<Option<Frame>> = rows
                .iter()
                .map(|row| {
                    let event = LiveEvent::Message { conversation_id, message: row.to_chat_message(&links) };
                    Some((Some(row.seq), event.to_frame().encode()))
                })
                .collect();
            Some((stream::iter(frames), next))
        }
    })
    .flatten()
}

/// Whether `json`, a live event as [`EncodedEvent::new`] wrote it (compact
/// serde_json), has the member `member`, e.g. `"blocked":true`: read
/// without a decoder (a whole [`LiveEvent`]'s would cost the upload some
/// 25 KiB). A string value cannot fake it, its quotes being escaped; the
/// two events read so (`mode`, `visitor_blocked`) nest no object.
fn has_member(json: &str, member: &str) -> bool {
    json.contains(member)
}

/// Request: an event that stores no message (typing, read, mode, status);
/// a `read` mark also moves the other side's messages up to its `seq` to
/// status `read`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signal {
    pub context: RoomContext,
    /// The event, encoded by the caller: the Room only relays it.
    pub event: EncodedEvent,
}

impl Signal {
    /// Broadcasts the event. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<()> {
        let response = RoomRequest::Signal(self).call(env).await?;
        match response.status() {
            204 => Ok(()),
            status => Err(ApiError::from(worker::Error::RustError(format!("room answered {status} to a signal")))),
        }
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let _write = core.writes.lock().await;
        if let Some((role, seq)) = self.event.read {
            messages::mark_read(&db::database(&core.env)?, self.context.conversation_id, role, seq).await?;
        }
        if self.event.name == "mode" {
            core.mode_hint.set(None);
            // An operator took over: an answer being written stops (as at a
            // handoff) and is not stored (its write checks the mode too).
            if has_member(self.event.json.get(), r#""mode":"operator""#) {
                core.handoffs.set(core.handoffs.get() + 1);
            }
        }
        // The visitor was blocked: their open streams end now (the widget
        // reconnects and is refused 403 `blocked`).
        if self.event.name == "visitor_blocked" && has_member(self.event.json.get(), r#""blocked":true"#) {
            core.live.borrow_mut().subscribers.clear();
        }
        core.broadcast_encoded(&self.context, self.event, |_| Delivery::Never);
        Ok(Response::empty()?.with_status(204))
    }
}

/// Request: the conversation was deleted. Its visitor streams end now, and
/// the Room answers every later request 410 (its id is never reused, so
/// nothing may live in it again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Close {
    pub context: RoomContext,
}

impl Close {
    /// Closes the Room; a Room closed already is fine.
    pub async fn call(self, env: &Env) -> ApiResult<()> {
        match RoomRequest::Close(self).call(env).await {
            Ok(_) => Ok(()),
            Err(err) if err.code == edgechat_shared::error::ErrorCode::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let _write = core.writes.lock().await;
        core.close().await?;
        Ok(Response::empty()?.with_status(204))
    }
}

/// Request: how many visitor live streams the Room holds now (answers
/// [`Presence`] as JSON). The Room is the only one that knows: its streams
/// live in its memory, and an evicted Room has none (an open stream keeps
/// its Durable Object alive). Push asks it before notifying a user, who
/// sees a reply on an open stream and needs no notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Presence {
    pub context: RoomContext,
    /// Open visitor streams (answer only).
    #[serde(default)]
    pub visitors: usize,
}

impl Presence {
    /// The number of open visitor streams of the conversation. Errors: 404
    /// when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<usize> {
        let answer: Presence = RoomRequest::Presence(self).call_json(env).await?;
        Ok(answer.visitors)
    }

    pub(super) fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let mut live = core.live.borrow_mut();
        live.subscribers.retain(|s| !s.tx.is_closed());
        Response::from_json(&Presence { context: self.context, visitors: live.subscribers.len() })
    }
}

impl RoomContext {
    /// Opens a visitor live stream replaying the messages after `after_seq` ([`Subscribe`]).
    pub async fn subscribe(&self, env: &Env, after_seq: i64, links: FileLinks) -> ApiResult<web_sys::Response> {
        Subscribe { context: *self, after_seq, links, app_session: None }.call(env).await
    }

    /// Broadcasts a typing, read, mode, status or `visitor_blocked` event of this conversation ([`Signal`]).
    pub async fn signal(&self, env: &Env, event: &LiveEvent) -> ApiResult<()> {
        Signal { context: *self, event: EncodedEvent::new(event) }.call(env).await
    }
}

/// Closes the Rooms of conversations `ids` of `site_id`, deleted with their
/// site, so that their live streams end at once. Best effort and bounded:
/// the newest [`MAX_ROOMS_CLOSED`] are closed here (a request may make only
/// so many subrequests: 50 on the free plan), failures are logged, and any
/// other Room with a live stream closes itself at its next heartbeat, when
/// it finds its conversation gone.
pub async fn close_all(env: &Env, site_id: i64, account_id: i64, ids: &[i64]) {
    let mut newest: Vec<i64> = ids.to_vec();
    newest.sort_unstable_by(|a, b| b.cmp(a));
    newest.truncate(MAX_ROOMS_CLOSED);
    for chunk in newest.chunks(CLOSE_CONCURRENCY) {
        let closing = chunk
            .iter()
            .map(|&conversation_id| Close { context: RoomContext { conversation_id, site_id: Some(site_id), account_id } }.call(env));
        for (result, id) in futures::future::join_all(closing).await.into_iter().zip(chunk) {
            if let Err(err) = result {
                worker::console_error!("closing the room of deleted conversation {id} failed: {}", err.message);
            }
        }
    }
}

/// Rooms [`close_all`] closes itself; the others close at their heartbeat.
const MAX_ROOMS_CLOSED: usize = 40;

/// Rooms closed at once.
const CLOSE_CONCURRENCY: usize = 8;

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    #[test]
    fn a_message_is_marked_delivered_once_and_never_back() {
        use MessageStatus::{Delivered, Read, Sent};
        assert_eq!(delivery(7, Role::Operator, Delivered, 1), Delivery::Never, "stored delivered, and a stream took it");
        assert_eq!(delivery(7, Role::Operator, Delivered, 0), Delivery::Never, "its stream closed during the write: no way back");
        assert_eq!(delivery(7, Role::Operator, Read, 1), Delivery::Never);
        assert_eq!(delivery(7, Role::Operator, Sent, 1), Delivery::Now(7), "a stream opened while it was stored");
        assert_eq!(delivery(7, Role::Operator, Sent, 0), Delivery::Never);
        assert_eq!(delivery(7, Role::Ai, Sent, 2), Delivery::Now(7), "an answer is marked after its broadcast");
        assert_eq!(delivery(7, Role::Visitor, Sent, 0), Delivery::IfOperatorsReceive(7));
    }

    /// The members a signal is read by, in events as the worker encodes
    /// them: found in the events that have them, never in a name that
    /// spells them.
    #[test]
    fn a_signals_members_are_read_from_its_encoding_and_no_name_fakes_them() {
        use edgechat_shared::api::Mode;
        let json = |event: &LiveEvent| EncodedEvent::new(event).json.get().to_string();
        let fake = r#""mode":"operator","blocked":true"#.to_string();
        let taken = json(&LiveEvent::Mode { conversation_id: 1, mode: Mode::Operator, author_name: Some(fake.clone()) });
        let handed_back = json(&LiveEvent::Mode { conversation_id: 1, mode: Mode::Ai, author_name: Some(fake) });
        assert!(has_member(&taken, r#""mode":"operator""#), "{taken}");
        assert!(!has_member(&handed_back, r#""mode":"operator""#), "{handed_back}");
        assert!(!has_member(&handed_back, r#""blocked":true"#), "{handed_back}");
        let blocked = json(&LiveEvent::VisitorBlocked { conversation_id: 1, visitor_id: 2, blocked: true });
        let unblocked = json(&LiveEvent::VisitorBlocked { conversation_id: 1, visitor_id: 2, blocked: false });
        assert!(has_member(&blocked, r#""blocked":true"#), "{blocked}");
        assert!(!has_member(&unblocked, r#""blocked":true"#), "{unblocked}");
    }

    fn message(seq: i64) -> Option<Frame> {
        Some((Some(seq), format!("m{seq}")))
    }

    fn other(name: &str) -> Option<Frame> {
        Some((None, name.to_string()))
    }

    fn frames(replay: Vec<Option<Frame>>, live: Vec<Option<Frame>>, after_seq: i64) -> Vec<String> {
        block_on(compose(stream::iter(vec![other("head")]), stream::iter(replay), stream::iter(live), after_seq).collect())
    }

    #[test]
    fn a_message_both_replayed_and_queued_live_is_sent_once_in_order() {
        let replay = vec![message(1), message(2), message(3)];
        let live = vec![message(3), other("typing"), message(2), message(4)];
        assert_eq!(frames(replay, live, 0), ["head", "m1", "m2", "m3", "typing", "m4"]);
    }

    #[test]
    fn nothing_at_or_below_after_seq_is_sent() {
        assert_eq!(frames(vec![message(5), message(6)], vec![message(4), message(7)], 5), ["head", "m6", "m7"]);
    }

    #[test]
    fn a_failed_replay_read_ends_the_stream_before_anything_live() {
        let replay = vec![message(1), None, message(2)];
        assert_eq!(frames(replay, vec![message(3), other("typing")], 0), ["head", "m1"]);
    }

    #[test]
    fn a_subscriber_that_leaves_the_room_is_no_longer_alive() {
        let (tx, _rx) = unbounded();
        let alive = Rc::new(Cell::new(true));
        let subscriber = Subscriber { tx, queued: Rc::default(), cap: 1, app_session: None, alive: Rc::clone(&alive) };
        let mut subscribers = vec![subscriber];
        assert!(alive.get());
        subscribers.retain(|s| s.send(None, "a".into()) && s.send(None, "b".into()));
        assert!(subscribers.is_empty(), "over its cap of 1, it is dropped");
        assert!(!alive.get(), "and its replay stops");
    }
}

//! The `Room` Durable Object: one per conversation, the single writer of its
//! messages (ARCHITECTURE.md, invariant). It assigns `seq`, writes to D1
//! before acknowledging or broadcasting, dedupes by client `message_id`,
//! fans every change out to the visitor's live SSE streams and to the
//! account's [`crate::inbox::Inbox`] (operators), and in `ai` mode runs the
//! responder and streams its chunks back to the sender.
//!
//! Writes are serialized by one async lock, so events leave in `seq` order.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use edgechat_shared::api::conversations::{SentMessage, Status};
use edgechat_shared::api::events::{LiveEvent, HEARTBEAT_SECONDS, SSE_RETRY_MS};
use edgechat_shared::api::sites::{ResponderKind, ResponderSettings};
use edgechat_shared::api::stream::{DoneMeta, Source, StreamEvent};
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::sse::{self, Frame};
use edgechat_shared::{handoff, kb};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::lock::Mutex;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use worker::{durable_object, D1Database, DurableObject, Env, Method, Request, RequestInit, Response, State};

use crate::db::{self, int, opt_text, text, MessageRow, MESSAGE_COLUMNS};
use crate::responder::prompt::{self, Passage, Turn};
use crate::{inbox, responder};

/// Which conversation a Room request is about, and whose it is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RoomContext {
    pub conversation_id: i64,
    pub site_id: i64,
    pub account_id: i64,
}

impl RoomContext {
    fn stub(&self, env: &Env) -> worker::Result<worker::Stub> {
        env.durable_object("ROOM")?.id_from_name(&self.conversation_id.to_string())?.get_stub()
    }

    /// Sends `body` to `path` of this conversation's Room.
    async fn call<B: Serialize>(&self, env: &Env, path: &str, body: &B) -> worker::Result<Response> {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(serde_json::to_string(body)?.into()));
        self.stub(env)?.fetch_with_request(Request::new_with_init(&format!("https://room{path}"), &init)?).await
    }

    /// Opens a visitor live stream (`text/event-stream` of [`LiveEvent`]s)
    /// replaying the messages after `after_seq`.
    pub async fn subscribe(&self, env: &Env, after_seq: i64) -> worker::Result<Response> {
        let url = format!("https://room/events?conversation_id={}&after_seq={after_seq}", self.conversation_id);
        self.stub(env)?.fetch_with_request(Request::new(&url, Method::Get)?).await
    }

    /// The visitor accepts the offer of a person: under the Room's write
    /// lock, the conversation goes to `operator` mode (and reopens), and the
    /// visitor's streams and the account's operators get `mode` (and
    /// `status`) events, operators a `handoff` event. Answers `false` when it
    /// was in `operator` mode already (nothing changes, nobody is notified).
    pub async fn handoff(&self, env: &Env) -> worker::Result<bool> {
        let mut response = self.call(env, "/handoff", self).await?;
        match response.status_code() {
            200 => response.json().await,
            status => Err(worker::Error::RustError(format!("room answered {status} to a handoff"))),
        }
    }

    /// Broadcasts a typing, read, mode or status event of this conversation.
    pub async fn signal(&self, env: &Env, event: &LiveEvent) -> worker::Result<()> {
        let response = self.call(env, "/signal", &Signal { context: *self, event: event.clone() }).await?;
        match response.status_code() {
            204 => Ok(()),
            status => Err(worker::Error::RustError(format!("room answered {status} to a signal"))),
        }
    }
}

/// Internal request `POST /send`: a visitor message. The Room answers the
/// SSE stream of `POST /api/v1/chat/stream` ([`StreamEvent`]s).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendVisitorMessage {
    pub context: RoomContext,
    pub content: String,
    pub client_message_id: Option<String>,
    /// Checked uploads to attach; they are marked attached with the message.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The site's responder settings (API key included: internal only).
    #[serde(default)]
    pub responder: ResponderSettings,
}

impl SendVisitorMessage {
    /// Forwards the message to its conversation's Room.
    pub async fn forward(&self, env: &Env) -> worker::Result<Response> {
        self.context.call(env, "/send", self).await
    }
}

/// Internal request `POST /operator-message`: an operator reply. The Room
/// answers JSON [`SentMessage`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendOperatorMessage {
    pub context: RoomContext,
    pub content: String,
    pub author_name: String,
    pub client_message_id: Option<String>,
}

impl SendOperatorMessage {
    /// Forwards the reply to its conversation's Room; answers the stored message.
    pub async fn forward(&self, env: &Env) -> worker::Result<SentMessage> {
        let mut response = self.context.call(env, "/operator-message", self).await?;
        if response.status_code() != 200 {
            return Err(worker::Error::RustError(format!("room answered {}", response.status_code())));
        }
        response.json().await
    }
}

/// Internal request `POST /signal`: an event that stores no message.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Signal {
    context: RoomContext,
    event: LiveEvent,
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    conversation_id: i64,
    after_seq: i64,
}

/// One visitor live stream.
struct Subscriber {
    id: u64,
    tx: UnboundedSender<String>,
    /// The newest message `seq` sent to it: older ones are never sent again.
    last_seq: i64,
    /// While its replay from D1 runs, live events wait here, in order.
    backlog: Option<Vec<(Option<i64>, String)>>,
}

impl Subscriber {
    /// Sends a frame unless it is a message this subscriber already has;
    /// `false` once the client has gone.
    fn deliver(&mut self, seq: Option<i64>, frame: &str) -> bool {
        if let Some(backlog) = &mut self.backlog {
            backlog.push((seq, frame.to_string()));
            return true;
        }
        if let Some(seq) = seq {
            if seq <= self.last_seq {
                return true;
            }
            self.last_seq = seq;
        }
        self.tx.unbounded_send(frame.to_string()).is_ok()
    }
}

#[derive(Default)]
struct Live {
    subscribers: Vec<Subscriber>,
    next_id: u64,
    heartbeat: bool,
}

/// One live conversation.
#[durable_object]
pub struct Room {
    core: Rc<RoomCore>,
}

/// The Room's state, shared with the tasks it spawns (answers, heartbeats).
struct RoomCore {
    env: Env,
    live: Rc<RefCell<Live>>,
    writes: Mutex<()>,
    /// Events on their way to the account's Inbox, sent in order by one task.
    outbox: RefCell<Option<UnboundedSender<Outgoing>>>,
    /// Handoffs accepted so far: an answer being written stops when it changes.
    handoffs: std::cell::Cell<u64>,
}

/// An event for the account's operators, and the message to mark
/// `delivered` once it reached someone.
struct Outgoing {
    account_id: i64,
    event: LiveEvent,
    delivered: Delivery,
}

/// When a broadcast message counts as delivered (seed 000's status).
enum Delivery {
    /// Not a message, or nobody on the other side.
    Never,
    /// A visitor stream received it.
    Now(i64),
    /// Once an operator socket receives it.
    IfOperatorsReceive(i64),
}

impl DurableObject for Room {
    fn new(_state: State, env: Env) -> Self {
        Room {
            core: Rc::new(RoomCore {
                env,
                live: Rc::default(),
                writes: Mutex::new(()),
                outbox: RefCell::new(None),
                handoffs: Default::default(),
            }),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let core = &self.core;
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/send") => Rc::clone(core).send_visitor_message(req.json().await?).await,
            (Method::Post, "/operator-message") => Response::from_json(&core.send_operator_message(req.json().await?).await?),
            (Method::Post, "/signal") => {
                let signal: Signal = req.json().await?;
                core.apply_signal(&signal).await?;
                Ok(Response::empty()?.with_status(204))
            }
            (Method::Post, "/handoff") => Response::from_json(&core.handoff(&req.json().await?).await?),
            (Method::Get, "/events") => core.subscribe(req.query()?).await,
            _ => Response::error("unknown room route", 404),
        }
    }
}

fn sse_response(rx: UnboundedReceiver<String>) -> worker::Result<Response> {
    let mut response = Response::from_stream(rx.map(|frame| Ok::<Vec<u8>, worker::Error>(frame.into_bytes())))?;
    let headers = response.headers_mut();
    headers.set("Content-Type", "text/event-stream; charset=utf-8")?;
    headers.set("Cache-Control", "no-cache, no-transform")?;
    Ok(response)
}

type StreamSender = UnboundedSender<String>;

fn emit(tx: &StreamSender, event: &StreamEvent) {
    let json = serde_json::to_string(event).expect("stream events serialize");
    // A closed channel means the visitor went away; the answer is still stored.
    let _ = tx.unbounded_send(Frame::data(json).encode());
}

impl RoomCore {
    /// Sends `event` to every visitor stream now and queues it for the
    /// account's operators; `delivered` decides, from the number of visitor
    /// streams reached, which message (if any) becomes `delivered`.
    fn broadcast(&self, context: &RoomContext, event: &LiveEvent, delivered: impl FnOnce(usize) -> Delivery) {
        let mut visitors = 0;
        if event.for_visitor() {
            let frame = event.to_frame().encode();
            let mut live = self.live.borrow_mut();
            live.subscribers.retain_mut(|s| s.deliver(event.seq(), &frame));
            visitors = live.subscribers.len();
        }
        let outgoing = Outgoing { account_id: context.account_id, event: event.clone(), delivered: delivered(visitors) };
        let mut outbox = self.outbox.borrow_mut();
        let open = outbox.as_ref().is_some_and(|tx| !tx.is_closed());
        if !open {
            let (tx, rx) = unbounded();
            wasm_bindgen_futures::spawn_local(drain_outbox(self.env.clone(), rx));
            *outbox = Some(tx);
        }
        let _ = outbox.as_ref().expect("outbox just opened").unbounded_send(outgoing);
    }

    /// Stores a message (once per client id) and broadcasts it; answers the
    /// row and whether it was already stored. Holds the write lock throughout.
    async fn write_message(
        &self,
        db: &D1Database,
        context: &RoomContext,
        role: Role,
        content: &str,
        author_name: Option<&str>,
        client_id: Option<&str>,
        attachments: &[Attachment],
    ) -> worker::Result<Inserted> {
        let _write = self.writes.lock().await;
        let inserted = insert_message(db, context.conversation_id, role, content, author_name, client_id, attachments).await?;
        if !inserted.duplicate {
            self.announce(context, &inserted.row);
        }
        Ok(inserted)
    }

    /// Broadcasts a stored message (after, for a conversation's first one,
    /// the new conversation).
    fn announce(&self, context: &RoomContext, row: &MessageRow) {
        if row.seq == 1 {
            let new = LiveEvent::Conversation { conversation_id: context.conversation_id, site_id: context.site_id };
            self.broadcast(context, &new, |_| Delivery::Never);
        }
        let event = LiveEvent::Message { conversation_id: context.conversation_id, message: row.to_chat_message() };
        let from_visitor = row.role == Role::Visitor.as_str();
        self.broadcast(context, &event, |visitors| match (from_visitor, visitors) {
            (true, _) => Delivery::IfOperatorsReceive(row.id),
            (false, 0) => Delivery::Never,
            (false, _) => Delivery::Now(row.id),
        });
    }

    /// Stores the visitor message, then answers an SSE stream: the
    /// responder's chunks and `done` in `ai` mode (produced by a task, so the
    /// stream starts at once), `done` alone in `operator` mode. When the
    /// answer fails the stream ends with an `error` event offering a person;
    /// the visitor message stays stored and a retry answers it again.
    async fn send_visitor_message(self: Rc<Self>, send: SendVisitorMessage) -> worker::Result<Response> {
        let db = db::database(&self.env)?;
        let context = send.context;
        // The knowledge-base lookup runs beside the write: the first chunk
        // waits for one D1 round trip, not two. Unused in operator mode.
        let (written, passages) = futures::join!(
            self.write_message(&db, &context, Role::Visitor, &send.content, None, send.client_message_id.as_deref(), &send.attachments),
            responder::kb::retrieve(&db, context.site_id, &send.content),
        );
        let Inserted { row: visitor_message, duplicate: replayed, state } = written?;
        let (tx, rx) = unbounded();
        let mut meta = DoneMeta {
            conversation_id: context.conversation_id,
            message_id: visitor_message.id,
            seq: visitor_message.seq,
            answer_id: None,
            answer_seq: None,
            mode: state.mode(),
            sources: Vec::new(),
            handoff_offered: false,
            replayed,
        };
        if state.mode() == Mode::Operator {
            emit(&tx, &StreamEvent::Done { meta });
        } else {
            wasm_bindgen_futures::spawn_local(async move {
                match self.answer(&db, &send, &visitor_message, passages, &mut meta, &tx).await {
                    Ok(()) => emit(&tx, &StreamEvent::Done { meta }),
                    Err(AnswerError::Responder(responder::llm::Failure::VisitorGone)) if !tx.is_closed() => {
                        // Not the visitor: a person was asked for while the model wrote.
                        meta.mode = Mode::Operator;
                        meta.handoff_offered = false;
                        emit(&tx, &StreamEvent::Done { meta });
                    }
                    Err(AnswerError::Responder(responder::llm::Failure::VisitorGone)) => {
                        worker::console_log!("answer to message {} stopped: the visitor went away", visitor_message.id);
                    }
                    Err(err) => {
                        worker::console_error!("answer to message {} failed: {err}", visitor_message.id);
                        emit(&tx, &StreamEvent::Error { message: responder::FAILURE_MESSAGE.into(), handoff_offered: true });
                    }
                }
            });
        }
        sse_response(rx)
    }

    /// Streams the answer to `visitor_message` and stores it before `done`:
    /// the stored answer again for a replayed message, the offer of a person
    /// when the visitor asked for one, else the site's responder's answer.
    async fn answer(
        &self,
        db: &D1Database,
        send: &SendVisitorMessage,
        visitor_message: &MessageRow,
        passages: worker::Result<Vec<Passage>>,
        meta: &mut DoneMeta,
        tx: &StreamSender,
    ) -> Result<(), AnswerError> {
        let stored = match meta.replayed {
            true => stored_answer(db, visitor_message.id).await?,
            false => None,
        };
        if let Some(row) = stored {
            stream_chunks(tx, &row.content);
            // Every responder cites no source exactly when it offered a person.
            meta.handoff_offered = row.sources().is_empty();
            meta.answer_id = Some(row.id);
            meta.answer_seq = Some(row.seq);
            meta.sources = row.sources();
            return Ok(());
        }
        // A replay answers the message as stored, whatever text came again.
        let question = visitor_message.content.as_str();
        let answer = if handoff::asks_for_person(question) {
            let answer = responder::Answer::handoff_offer();
            stream_chunks(tx, &answer.text);
            answer
        } else {
            let passages = match question == send.content {
                true => passages?,
                false => responder::kb::retrieve(db, send.context.site_id, question).await?,
            };
            if send.responder.kind == ResponderKind::Kb {
                let answer = responder::kb::answer(&passages);
                stream_chunks(tx, &answer.text);
                answer
            } else {
                let history = earlier_turns(db, send.context.conversation_id, visitor_message.seq).await?;
                let handoffs = self.handoffs.get();
                let visitor_gone = || tx.is_closed() || self.handoffs.get() != handoffs;
                let forward = |content: &str| emit(tx, &StreamEvent::Chunk { content: content.to_string() });
                responder::complete(&self.env, &send.responder, &passages, &history, question, &visitor_gone, forward).await?
            }
        };
        let _write = self.writes.lock().await;
        // A person may have been asked for while the answer was written: it is
        // then not stored, and `done` says the conversation is the operators'.
        if conversation_state(db, send.context.conversation_id).await?.mode() == Mode::Operator {
            meta.mode = Mode::Operator;
            return Ok(());
        }
        meta.handoff_offered = answer.handoff_offered;
        let (row, fresh) = store_answer(db, send.context.conversation_id, visitor_message.id, &answer.text, &answer.sources).await?;
        if fresh {
            self.announce(&send.context, &row);
        }
        meta.answer_id = Some(row.id);
        meta.answer_seq = Some(row.seq);
        meta.sources = row.sources();
        Ok(())
    }

    async fn send_operator_message(&self, send: SendOperatorMessage) -> worker::Result<SentMessage> {
        let db = db::database(&self.env)?;
        let inserted = self
            .write_message(
                &db,
                &send.context,
                Role::Operator,
                &send.content,
                Some(&send.author_name),
                send.client_message_id.as_deref(),
                &[],
            )
            .await?;
        Ok(SentMessage { message: inserted.row.to_chat_message(), duplicate: inserted.duplicate })
    }

    /// Broadcasts a signal; a `read` mark also moves the other side's
    /// messages up to its `seq` to status `read`.
    async fn handoff(&self, context: &RoomContext) -> worker::Result<bool> {
        let _write = self.writes.lock().await;
        let db = db::database(&self.env)?;
        let before = conversation_state(&db, context.conversation_id).await?;
        if before.mode() == Mode::Operator {
            return Ok(false);
        }
        db.prepare("UPDATE conversations SET mode = 'operator', status = 'open' WHERE id = ?1")
            .bind(&[int(context.conversation_id)])?
            .run()
            .await?;
        self.handoffs.set(self.handoffs.get() + 1);
        let conversation_id = context.conversation_id;
        self.broadcast(context, &LiveEvent::Mode { conversation_id, mode: Mode::Operator, author_name: None }, |_| Delivery::Never);
        if before.status != Status::Open.as_str() {
            self.broadcast(context, &LiveEvent::Status { conversation_id, status: Status::Open }, |_| Delivery::Never);
        }
        self.broadcast(context, &LiveEvent::Handoff { conversation_id, site_id: context.site_id }, |_| Delivery::Never);
        Ok(true)
    }

    async fn apply_signal(&self, signal: &Signal) -> worker::Result<()> {
        let _write = self.writes.lock().await;
        if let LiveEvent::Read { role, seq, .. } = &signal.event {
            let other = if *role == Role::Operator { "role = 'visitor'" } else { "role IN ('ai', 'operator')" };
            db::database(&self.env)?
                .prepare(format!("UPDATE messages SET status = 'read' WHERE conversation_id = ?1 AND seq <= ?2 AND {other}"))
                .bind(&[int(signal.context.conversation_id), int(*seq)])?
                .run()
                .await?;
        }
        self.broadcast(&signal.context, &signal.event, |_| Delivery::Never);
        Ok(())
    }

    /// A visitor live stream: `retry:`, the current mode and status, the
    /// messages after `after_seq` from D1, then live events; a comment
    /// heartbeat every [`HEARTBEAT_SECONDS`].
    async fn subscribe(&self, query: EventsQuery) -> worker::Result<Response> {
        let (tx, rx) = unbounded();
        let id = {
            let mut live = self.live.borrow_mut();
            live.next_id += 1;
            let id = live.next_id;
            live.subscribers.push(Subscriber { id, tx: tx.clone(), last_seq: query.after_seq, backlog: Some(Vec::new()) });
            id
        };
        self.start_heartbeat();
        let db = db::database(&self.env)?;
        let conversation_id = query.conversation_id;
        let _ = tx.unbounded_send(sse::retry(SSE_RETRY_MS));
        let state = conversation_state(&db, conversation_id).await?;
        for event in [
            LiveEvent::Mode { conversation_id, mode: state.mode(), author_name: None },
            LiveEvent::Status { conversation_id, status: Status::parse(&state.status).unwrap_or(Status::Open) },
        ] {
            let _ = tx.unbounded_send(event.to_frame().encode());
        }
        let missed: Vec<MessageRow> = db
            .prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq"))
            .bind(&[int(conversation_id), int(query.after_seq)])?
            .all()
            .await?
            .results()?;
        let mut live = self.live.borrow_mut();
        if let Some(subscriber) = live.subscribers.iter_mut().find(|s| s.id == id) {
            for row in &missed {
                let event = LiveEvent::Message { conversation_id, message: row.to_chat_message() };
                let frame = event.to_frame().encode();
                if row.seq > subscriber.last_seq {
                    subscriber.last_seq = row.seq;
                    let _ = subscriber.tx.unbounded_send(frame);
                }
            }
            for (seq, frame) in subscriber.backlog.take().unwrap_or_default() {
                subscriber.deliver(seq, &frame);
            }
        }
        sse_response(rx)
    }

    /// Starts the heartbeat loop unless it runs: a comment to every stream
    /// each [`HEARTBEAT_SECONDS`], which also drops streams whose client left.
    fn start_heartbeat(&self) {
        let live = Rc::clone(&self.live);
        if std::mem::replace(&mut live.borrow_mut().heartbeat, true) {
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                worker::Delay::from(Duration::from_secs(HEARTBEAT_SECONDS)).await;
                let mut live = live.borrow_mut();
                let beat = sse::comment("heartbeat");
                live.subscribers.retain(|s| s.tx.unbounded_send(beat.clone()).is_ok());
                if live.subscribers.is_empty() {
                    live.heartbeat = false;
                    break;
                }
            }
        });
    }
}

#[derive(Debug, Deserialize)]
struct ConversationState {
    mode: String,
    status: String,
}

impl ConversationState {
    fn mode(&self) -> Mode {
        Mode::parse(&self.mode).unwrap_or(Mode::Ai)
    }
}

async fn conversation_state(db: &D1Database, conversation_id: i64) -> worker::Result<ConversationState> {
    db.prepare("SELECT mode, status FROM conversations WHERE id = ?1")
        .bind(&[int(conversation_id)])?
        .first::<ConversationState>(None)
        .await?
        .ok_or_else(|| worker::Error::RustError("no such conversation".into()))
}

/// A message write: the row, whether it was stored before (same client
/// id), and the conversation's state right after.
struct Inserted {
    row: MessageRow,
    duplicate: bool,
    state: ConversationState,
}

/// Inserts a visitor or operator message with the next `seq`, bumps the
/// conversation's activity time and reads its state, in one D1 batch. When
/// `client_id` is already stored in the conversation, nothing is inserted
/// and the stored row is answered as a duplicate.
async fn insert_message(
    db: &D1Database,
    conversation_id: i64,
    role: Role,
    content: &str,
    author_name: Option<&str>,
    client_id: Option<&str>,
    attachments: &[Attachment],
) -> worker::Result<Inserted> {
    let ids: Vec<String> = attachments.iter().map(|a| a.id.to_string()).collect();
    let inserted = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO messages (conversation_id, seq, role, content, author_name, client_message_id, attachments) \
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(&[
                int(conversation_id),
                text(role.as_str()),
                text(content),
                opt_text(author_name),
                opt_text(client_id),
                text(&serde_json::to_string(attachments)?),
            ])?,
            // The new message is the conversation's newest; uploads attach once.
            db.prepare(
                "UPDATE uploads SET message_id = (SELECT MAX(id) FROM messages WHERE conversation_id = ?1) \
                 WHERE message_id IS NULL AND id IN (SELECT value FROM json_each(?2))",
            )
            .bind(&[int(conversation_id), text(&format!("[{}]", ids.join(",")))])?,
            db.prepare("UPDATE conversations SET last_activity_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1")
                .bind(&[int(conversation_id)])?,
            db.prepare("SELECT mode, status FROM conversations WHERE id = ?1").bind(&[int(conversation_id)])?,
        ])
        .await?;
    let state = inserted
        .get(3)
        .map(|r| r.results::<ConversationState>())
        .transpose()?
        .and_then(|mut rows| rows.pop())
        .ok_or_else(|| worker::Error::RustError("no such conversation".into()))?;
    if let Some(row) = inserted.first().map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop()) {
        return Ok(Inserted { row, duplicate: false, state });
    }
    let row = db
        .prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2"))
        .bind(&[int(conversation_id), text(client_id.unwrap_or_default())])?
        .first::<MessageRow>(None)
        .await?
        .ok_or_else(|| worker::Error::RustError("message was neither stored nor found".into()))?;
    Ok(Inserted { row, duplicate: true, state })
}

/// Sends queued events to the account's Inbox one after the other (so
/// operators receive them in order), and marks messages `delivered` once
/// they reached the other side.
async fn drain_outbox(env: Env, mut rx: UnboundedReceiver<Outgoing>) {
    while let Some(outgoing) = rx.next().await {
        let operators = match inbox::publish(&env, outgoing.account_id, &outgoing.event).await {
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
            if let Err(err) = mark_delivered(&env, id).await {
                worker::console_error!("marking message {id} delivered failed: {err}");
            }
        }
    }
}

async fn mark_delivered(env: &Env, message_id: i64) -> worker::Result<()> {
    db::database(env)?
        .prepare("UPDATE messages SET status = 'delivered' WHERE id = ?1 AND status = 'sent'")
        .bind(&[int(message_id)])?
        .run()
        .await?;
    Ok(())
}

/// Why an answer could not be given.
#[derive(Debug)]
enum AnswerError {
    /// Reading or storing failed.
    Storage(worker::Error),
    /// The language model failed (or the visitor left while it wrote).
    Responder(responder::llm::Failure),
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerError::Storage(err) => write!(f, "storage: {err}"),
            AnswerError::Responder(failure) => write!(f, "responder: {failure}"),
        }
    }
}

impl From<worker::Error> for AnswerError {
    fn from(err: worker::Error) -> Self {
        AnswerError::Storage(err)
    }
}

impl From<responder::llm::Failure> for AnswerError {
    fn from(failure: responder::llm::Failure) -> Self {
        AnswerError::Responder(failure)
    }
}

/// The messages before `seq` that a model sees as the conversation so far,
/// oldest first: the newest [`prompt::MAX_HISTORY_MESSAGES`].
async fn earlier_turns(db: &D1Database, conversation_id: i64, seq: i64) -> worker::Result<Vec<Turn>> {
    let mut turns = db
        .prepare("SELECT role, content FROM messages WHERE conversation_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")
        .bind(&[int(conversation_id), int(seq), int(prompt::MAX_HISTORY_MESSAGES as i64)])?
        .all()
        .await?
        .results::<Turn>()?;
    turns.reverse();
    Ok(turns)
}

/// The stored answer to a visitor message, if any.
async fn stored_answer(db: &D1Database, visitor_message_id: i64) -> worker::Result<Option<MessageRow>> {
    db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE reply_to = ?1"))
        .bind(&[int(visitor_message_id)])?
        .first::<MessageRow>(None)
        .await
}

fn stream_chunks(tx: &StreamSender, text: &str) {
    for content in kb::chunks(text) {
        emit(tx, &StreamEvent::Chunk { content });
    }
}

/// Inserts the AI answer with the next `seq`, once per visitor message;
/// answers the row and `true` when it is new (a concurrent retry may have
/// stored it first).
async fn store_answer(
    db: &D1Database,
    conversation_id: i64,
    reply_to: i64,
    content: &str,
    sources: &[Source],
) -> worker::Result<(MessageRow, bool)> {
    let inserted = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO messages (conversation_id, seq, role, content, reply_to, sources) \
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), 'ai', ?2, ?3, ?4) \
                 ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(&[int(conversation_id), text(content), int(reply_to), text(&serde_json::to_string(sources)?)])?,
            db.prepare("UPDATE conversations SET last_activity_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1")
                .bind(&[int(conversation_id)])?,
        ])
        .await?;
    if let Some(row) = inserted.first().map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop()) {
        return Ok((row, true));
    }
    let row = stored_answer(db, reply_to).await?.ok_or_else(|| worker::Error::RustError("answer was neither stored nor found".into()))?;
    Ok((row, false))
}

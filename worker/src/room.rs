//! The `Room` Durable Object: one per conversation, the single writer of its
//! messages (ARCHITECTURE.md, invariant). It assigns `seq`, writes to D1
//! before acknowledging, dedupes by client `message_id`, and in `ai` mode runs
//! the responder and streams its chunks back as SSE.

use edgechat_shared::api::conversations::SentMessage;
use edgechat_shared::api::stream::{DoneMeta, Source, StreamEvent};
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::kb;
use edgechat_shared::sse::Frame;
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use worker::{durable_object, D1Database, DurableObject, Env, Method, Request, RequestInit, Response, State};

use crate::db::{self, int, opt_text, text, MessageRow, MESSAGE_COLUMNS};
use crate::responder;

/// Internal request `POST /send` from the worker to the Room: a visitor
/// message for conversation `conversation_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendVisitorMessage {
    pub conversation_id: i64,
    pub site_id: i64,
    pub content: String,
    pub client_message_id: Option<String>,
}

impl SendVisitorMessage {
    /// Forwards the message to its conversation's Room and answers the Room's
    /// SSE response (`text/event-stream` of [`StreamEvent`]s).
    pub async fn forward(&self, env: &Env) -> worker::Result<Response> {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(serde_json::to_string(self)?.into()));
        room_stub(env, self.conversation_id)?.fetch_with_request(Request::new_with_init("https://room/send", &init)?).await
    }
}

/// Internal request `POST /operator-message` from the worker to the Room:
/// an operator reply. The Room answers JSON [`SentMessage`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendOperatorMessage {
    pub conversation_id: i64,
    pub content: String,
    pub author_name: String,
    pub client_message_id: Option<String>,
}

impl SendOperatorMessage {
    /// Forwards the reply to its conversation's Room; answers the stored message.
    pub async fn forward(&self, env: &Env) -> worker::Result<SentMessage> {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(serde_json::to_string(self)?.into()));
        let request = Request::new_with_init("https://room/operator-message", &init)?;
        let mut response = room_stub(env, self.conversation_id)?.fetch_with_request(request).await?;
        if response.status_code() != 200 {
            return Err(worker::Error::RustError(format!("room answered {}", response.status_code())));
        }
        response.json().await
    }
}

fn room_stub(env: &Env, conversation_id: i64) -> worker::Result<worker::Stub> {
    env.durable_object("ROOM")?.id_from_name(&conversation_id.to_string())?.get_stub()
}

/// One live conversation.
#[durable_object]
pub struct Room {
    env: Env,
}

impl DurableObject for Room {
    fn new(_state: State, env: Env) -> Self {
        Room { env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/send") => self.send_visitor_message(req.json().await?).await,
            (Method::Post, "/operator-message") => {
                let send: SendOperatorMessage = req.json().await?;
                Response::from_json(&store_operator_message(&db::database(&self.env)?, &send).await?)
            }
            _ => Response::error("unknown room route", 404),
        }
    }
}

type EventSender = UnboundedSender<String>;

fn emit(tx: &EventSender, event: &StreamEvent) {
    let json = serde_json::to_string(event).expect("stream events serialize");
    // A closed channel means the visitor went away; the answer is still stored.
    let _ = tx.unbounded_send(Frame::data(json).encode());
}

fn sse_response(rx: futures::channel::mpsc::UnboundedReceiver<String>) -> worker::Result<Response> {
    let mut response = Response::from_stream(rx.map(|frame| Ok::<Vec<u8>, worker::Error>(frame.into_bytes())))?;
    let headers = response.headers_mut();
    headers.set("Content-Type", "text/event-stream; charset=utf-8")?;
    headers.set("Cache-Control", "no-cache, no-transform")?;
    Ok(response)
}

impl Room {
    /// Stores the visitor message (once per client id), then answers with an
    /// SSE stream: the responder's chunks and `done` in `ai` mode, `done`
    /// alone in `operator` mode.
    async fn send_visitor_message(&self, send: SendVisitorMessage) -> worker::Result<Response> {
        let db = db::database(&self.env)?;
        let (visitor_message, replayed) =
            insert_message(&db, send.conversation_id, Role::Visitor, &send.content, None, send.client_message_id.as_deref()).await?;
        let mode = db
            .prepare("SELECT mode FROM conversations WHERE id = ?1")
            .bind(&[int(send.conversation_id)])?
            .first::<String>(Some("mode"))
            .await?
            .and_then(|m| Mode::parse(&m))
            .unwrap_or(Mode::Ai);
        let (tx, rx) = unbounded();
        let meta = DoneMeta {
            conversation_id: send.conversation_id,
            message_id: visitor_message.id,
            seq: visitor_message.seq,
            answer_id: None,
            answer_seq: None,
            mode,
            sources: Vec::new(),
            handoff_offered: false,
            replayed,
        };
        if mode == Mode::Operator {
            emit(&tx, &StreamEvent::Done { meta });
        } else {
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(err) = answer(&db, &send, &visitor_message, meta, &tx).await {
                    worker::console_error!("answer failed: {err}");
                    emit(&tx, &StreamEvent::Error {
                        message: "Sorry, I could not answer just now. Please try again, or ask for a person.".into(),
                    });
                }
            });
        }
        sse_response(rx)
    }
}

/// Inserts an operator reply with the next `seq`, once per client id.
async fn store_operator_message(db: &D1Database, send: &SendOperatorMessage) -> worker::Result<SentMessage> {
    let (row, duplicate) = insert_message(
        db,
        send.conversation_id,
        Role::Operator,
        &send.content,
        Some(&send.author_name),
        send.client_message_id.as_deref(),
    )
    .await?;
    Ok(SentMessage { message: row.to_chat_message(), duplicate })
}

/// Inserts a visitor or operator message with the next `seq` and bumps the
/// conversation's activity time. When `client_id` is already stored in the
/// conversation, nothing is inserted and the stored row is answered with `true`.
async fn insert_message(
    db: &D1Database,
    conversation_id: i64,
    role: Role,
    content: &str,
    author_name: Option<&str>,
    client_id: Option<&str>,
) -> worker::Result<(MessageRow, bool)> {
    let inserted = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO messages (conversation_id, seq, role, content, author_name, client_message_id) \
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), ?2, ?3, ?4, ?5) \
                 ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
            ))
            .bind(&[int(conversation_id), text(role.as_str()), text(content), opt_text(author_name), opt_text(client_id)])?,
            db.prepare("UPDATE conversations SET last_activity_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1")
                .bind(&[int(conversation_id)])?,
        ])
        .await?;
    if let Some(row) = inserted.first().map(|r| r.results::<MessageRow>()).transpose()?.and_then(|mut rows| rows.pop()) {
        return Ok((row, false));
    }
    let existing = db
        .prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2"))
        .bind(&[int(conversation_id), text(client_id.unwrap_or_default())])?
        .first::<MessageRow>(None)
        .await?
        .ok_or_else(|| worker::Error::RustError("message was neither stored nor found".into()))?;
    Ok((existing, true))
}

/// The stored answer to a visitor message, if any.
async fn stored_answer(db: &D1Database, visitor_message_id: i64) -> worker::Result<Option<MessageRow>> {
    db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE reply_to = ?1"))
        .bind(&[int(visitor_message_id)])?
        .first::<MessageRow>(None)
        .await
}

/// Streams the answer to `visitor_message` and stores it before `done`. A
/// replayed message whose answer is stored gets that answer again.
async fn answer(
    db: &D1Database,
    send: &SendVisitorMessage,
    visitor_message: &MessageRow,
    mut meta: DoneMeta,
    tx: &EventSender,
) -> worker::Result<()> {
    let stored = match meta.replayed {
        true => stored_answer(db, visitor_message.id).await?,
        false => None,
    };
    let row = match stored {
        Some(row) => {
            stream_chunks(tx, &row.content);
            // The kb responder cites no source exactly when it offered a person.
            meta.handoff_offered = row.sources().is_empty();
            row
        }
        None => {
            let answer = responder::kb::answer(db, send.site_id, &send.content).await?;
            stream_chunks(tx, &answer.text);
            meta.handoff_offered = answer.handoff_offered;
            store_answer(db, send.conversation_id, visitor_message.id, &answer.text, &answer.sources).await?
        }
    };
    meta.answer_id = Some(row.id);
    meta.answer_seq = Some(row.seq);
    meta.sources = row.sources();
    emit(tx, &StreamEvent::Done { meta });
    Ok(())
}

fn stream_chunks(tx: &EventSender, text: &str) {
    for content in kb::chunks(text) {
        emit(tx, &StreamEvent::Chunk { content });
    }
}

/// Inserts the AI answer with the next `seq`, once per visitor message: when
/// a concurrent retry stored it first, answers that row.
async fn store_answer(
    db: &D1Database,
    conversation_id: i64,
    reply_to: i64,
    content: &str,
    sources: &[Source],
) -> worker::Result<MessageRow> {
    let inserted = db
        .prepare(format!(
            "INSERT INTO messages (conversation_id, seq, role, content, reply_to, sources) \
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?1), 'ai', ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING RETURNING {MESSAGE_COLUMNS}"
        ))
        .bind(&[int(conversation_id), text(content), int(reply_to), text(&serde_json::to_string(sources)?)])?
        .first::<MessageRow>(None)
        .await?;
    match inserted {
        Some(row) => Ok(row),
        None => stored_answer(db, reply_to)
            .await?
            .ok_or_else(|| worker::Error::RustError("answer was neither stored nor found".into())),
    }
}

//! Answering: a visitor message is stored, then answered by the site's
//! responder as an SSE stream; the visitor may instead accept a person
//! ([`Handoff`]), which stops an answer being written.

use std::rc::Rc;

use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::sites::{ResponderKind, ResponderSettings};
use edgechat_shared::api::stream::{DoneMeta, StreamEvent};
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::Mode;
use edgechat_shared::sse::Frame;
use edgechat_shared::texts::Lang;
use edgechat_shared::{handoff, kb};
use futures::channel::mpsc::{unbounded, UnboundedSender};
use serde::{Deserialize, Serialize};
use worker::{D1Database, Env, Response};

use super::live::{sse_response, Delivery};
use super::storage::Inserted;
use super::{RoomContext, RoomCore, RoomRequest};
use crate::db::conversations::{self, StateChange};
use crate::db::messages::{self, Author, Claims, FileLinks, MessageRow, NewMessage};
use crate::db::visitors::VisitorClaims;
use crate::db::{self};
use crate::error::ApiResult;
use crate::responder;
use crate::responder::prompt::{self, Passage, Question};

/// Request: a visitor message. The Room stores it, then answers the SSE
/// stream of `POST /api/v1/chat/stream` ([`StreamEvent`]s).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendVisitorMessage {
    pub context: RoomContext,
    pub content: String,
    pub client_message_id: Option<String>,
    /// Checked uploads to attach; they are tied to the message once it is stored.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The site's responder settings (API key included: internal only).
    #[serde(default)]
    pub responder: ResponderSettings,
    /// How the site signs file links.
    pub links: FileLinks,
    /// The page the visitor wrote from (checked): becomes the conversation's `page_url`.
    #[serde(default)]
    pub page_url: Option<String>,
    /// The visitor's language (checked BCP 47 tag): becomes the
    /// conversation's `lang`; the answer's server texts and the language
    /// model's language follow it, or the conversation's when `None`.
    #[serde(default)]
    pub lang: Option<String>,
    /// For a message whose visitor nothing has checked against D1 in this
    /// request: what an earlier checked request found (the route's
    /// per-isolate memory), `[site revision, visitor id, session id]` of
    /// [`VisitorClaims`] (a tuple: a smaller decoder). The write checks
    /// them; when they no longer hold nothing is stored and the Room answers
    /// 204 before any stream, for the route to check the visitor in full.
    /// The request's site values (`responder`, `links`) are the ones read
    /// at that revision.
    #[serde(default)]
    pub claims: Option<(i64, i64, String)>,
}

type StreamSender = UnboundedSender<String>;

fn emit(tx: &StreamSender, event: &StreamEvent) {
    let json = serde_json::to_string(event).expect("stream events serialize");
    // A closed channel means the visitor went away; the answer is still stored.
    let _ = tx.unbounded_send(Frame::data(json).encode());
}

fn stream_chunks(tx: &StreamSender, text: &str) {
    for content in kb::chunks(text) {
        emit(tx, &StreamEvent::Chunk { content });
    }
}

impl SendVisitorMessage {
    /// Forwards the message to its conversation's Room; answers the SSE
    /// response. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<web_sys::Response> {
        match self.claims {
            Some(_) => RoomRequest::ClaimedVisitorMessage(self),
            None => RoomRequest::VisitorMessage(self),
        }
        .call(env)
        .await
    }

    /// [`SendVisitorMessage::apply`] of a message with `claims`, taken only
    /// by a Room that already serves its conversation (bound by a checked
    /// request: this one binds nothing); else 204, nothing stored.
    pub(super) async fn apply_claimed(self, core: Rc<RoomCore>) -> worker::Result<Response> {
        match core.bound_context().await? {
            Some(bound) if bound == self.context && self.claims.is_some() => self.apply(core).await,
            _ => Ok(Response::empty()?.with_status(204)),
        }
    }

    /// Stores the visitor message, then answers an SSE stream: the
    /// responder's chunks and `done` in `ai` mode (produced by a task, so the
    /// stream starts at once), `done` alone in `operator` mode. When the
    /// answer fails the stream ends with an `error` event offering a person;
    /// the visitor message stays stored and a retry answers it again.
    pub(super) async fn apply(self, core: Rc<RoomCore>) -> worker::Result<Response> {
        let db = db::database(&core.env)?;
        let context = self.context;
        // The knowledge-base lookup runs beside the write: the first chunk
        // waits for one D1 round trip, not two. Unused in operator mode, so
        // left out when the Room's newest write found that mode.
        let message = NewMessage {
            author: Author::Visitor,
            content: &self.content,
            client_id: self.client_message_id.as_deref(),
            attachments: &self.attachments,
            page_url: self.page_url.as_deref(),
            lang: self.lang.as_deref(),
            claims: self.claims.as_ref().map(|(site_revision, visitor_id, session_id)| {
                Claims::Visitor(VisitorClaims {
                    site_id: context.visitor_site(),
                    site_revision: *site_revision,
                    visitor_id: *visitor_id,
                    session_id,
                })
            }),
        };
        let lookup = async {
            match core.mode_hint.get() {
                Some(Mode::Operator) => None,
                _ => Some(responder::kb::retrieve(&db, context.visitor_site(), &self.content).await),
            }
        };
        let (written, passages) = futures::join!(core.write_copy(&db, &context, message, None), lookup);
        let Some(Inserted { row: visitor_message, duplicate: replayed, state, lang, .. }) = written? else {
            // Only claims are refused: a checked visitor's conversation that
            // is gone is an error of the write.
            return Ok(Response::empty()?.with_status(204));
        };
        if self.claims.is_some() {
            // The claims held, so the site is as read: its links are current.
            *core.links.borrow_mut() = Some(self.links.clone());
        }
        let (tx, rx) = unbounded();
        let mut meta = DoneMeta {
            conversation_id: context.conversation_id,
            message_id: visitor_message.id,
            seq: visitor_message.seq,
            answer_id: None,
            answer_seq: None,
            mode: state.mode,
            sources: Vec::new(),
            handoff_offered: false,
            replayed,
        };
        if state.mode == Mode::Operator {
            emit(&tx, &StreamEvent::Done { meta });
        } else {
            wasm_bindgen_futures::spawn_local(async move {
                match core.answer(&db, &self, lang.as_deref(), &visitor_message, passages, &mut meta, &tx).await {
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
                        let message = Lang::from_tag(lang.as_deref()).texts().failure.to_string();
                        emit(&tx, &StreamEvent::Error { message, handoff_offered: true });
                    }
                }
            });
        }
        sse_response(rx)
    }
}

impl RoomCore {
    /// Streams the answer to `visitor_message` and stores it before `done`:
    /// the stored answer again for a replayed message, the offer of a person
    /// when the visitor asked for one, else the site's responder's answer;
    /// server texts and the language model follow `lang` (BCP 47).
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        db: &D1Database,
        send: &SendVisitorMessage,
        lang: Option<&str>,
        visitor_message: &MessageRow,
        passages: Option<worker::Result<Vec<Passage>>>,
        meta: &mut DoneMeta,
        tx: &StreamSender,
    ) -> Result<(), AnswerError> {
        // Read before any wait: a handoff or takeover from now on stops the model.
        let handoffs = self.handoffs.get();
        let stored = match meta.replayed {
            true => messages::answer_to(db, visitor_message.id).await?,
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
            let answer = responder::Answer::handoff_offer(Lang::from_tag(lang));
            stream_chunks(tx, &answer.text);
            answer
        } else {
            let passages = match (question == send.content, passages) {
                (true, Some(passages)) => passages?,
                _ => responder::kb::retrieve(db, send.context.visitor_site(), question).await?,
            };
            if send.responder.kind == ResponderKind::Kb {
                let answer = responder::kb::answer(&passages, Lang::from_tag(lang));
                stream_chunks(tx, &answer.text);
                answer
            } else {
                let history =
                    messages::turns_before(db, send.context.conversation_id, visitor_message.seq, prompt::MAX_HISTORY_MESSAGES).await?;
                let visitor_gone = || tx.is_closed() || self.handoffs.get() != handoffs;
                let forward = |content: &str| emit(tx, &StreamEvent::Chunk { content: content.to_string() });
                let question = Question { text: question, lang };
                responder::complete(&self.env, &send.responder, &passages, &history, &question, &visitor_gone, forward).await?
            }
        };
        let _write = self.writes.lock().await;
        // A person may have been asked for while the answer was written (or
        // an operator took over): it is then not stored, and `done` says the
        // conversation is the operators'.
        let now = conversations::state(db, send.context.conversation_id).await?;
        if now.is_none_or(|state| state.mode == Mode::Operator) {
            meta.mode = Mode::Operator;
            return Ok(());
        }
        // The write checks the mode again: a takeover that landed since
        // (it changes D1 outside this lock) stores nothing.
        let stored = messages::insert_answer(db, send.context.conversation_id, visitor_message.id, &answer.text, &answer.sources).await?;
        let Some((row, fresh, event)) = stored else {
            meta.mode = Mode::Operator;
            return Ok(());
        };
        meta.handoff_offered = answer.handoff_offered;
        if fresh {
            self.announce(&send.context, &row, event);
        }
        meta.answer_id = Some(row.id);
        meta.answer_seq = Some(row.seq);
        meta.sources = row.sources();
        Ok(())
    }
}

/// Request: the visitor accepts the offer of a person. Under the Room's
/// write lock the conversation goes to `operator` mode (and reopens), and
/// the visitor's streams and the account's operators get `mode` (and
/// `status`) events, operators a `handoff` event; an answer being written
/// stops and is not stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handoff {
    pub context: RoomContext,
}

impl Handoff {
    /// Answers `false` when the conversation was in `operator` mode already
    /// (nothing changes, nobody is notified). Errors: 404 when it was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<bool> {
        RoomRequest::Handoff(self).call_json(env).await
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let _write = core.writes.lock().await;
        let db = db::database(&core.env)?;
        let context = &self.context;
        let conversation_id = context.conversation_id;
        let before =
            conversations::state(&db, conversation_id).await?.ok_or_else(|| worker::Error::RustError("no such conversation".into()))?;
        if before.mode == Mode::Operator {
            return Response::from_json(&false);
        }
        let change = StateChange { mode: Some(Mode::Operator), status: Some(Status::Open), ..Default::default() };
        conversations::change(&db, conversation_id, Some(context.account_id), change).await?;
        crate::events::spawn_publish(&core.env, conversation_id);
        core.handoffs.set(core.handoffs.get() + 1);
        core.mode_hint.set(Some(Mode::Operator));
        core.broadcast(context, &LiveEvent::Mode { conversation_id, mode: Mode::Operator, author_name: None }, |_| Delivery::Never);
        if before.status != Status::Open {
            core.broadcast(context, &LiveEvent::Status { conversation_id, status: Status::Open }, |_| Delivery::Never);
        }
        core.broadcast(context, &LiveEvent::Handoff { conversation_id, site_id: context.visitor_site() }, |_| Delivery::Never);
        Response::from_json(&true)
    }
}

impl RoomContext {
    /// The visitor accepts the offer of a person ([`Handoff`]); answers
    /// `false` when the conversation was in `operator` mode already.
    pub async fn handoff(&self, env: &Env) -> ApiResult<bool> {
        Handoff { context: *self }.call(env).await
    }
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

//! The event bus (issue 13): the transactional outbox, its publication on
//! the `EVENTS` queue, and the queue consumers.
//!
//! A change and its event are one D1 batch: the handler adds
//! [`Record::statement`] to the batch that makes the change (right after the
//! statement it describes), then calls [`publish`] with the event ids. A
//! crash between the two leaves the row unpublished; the sweep
//! ([`sweep`], on the cron trigger and on each consumer batch) publishes it
//! again, so no event is lost and consumers dedupe by `id`.

// Until the bus is wired in (issue 13), parts are unused.
#![allow(dead_code)]

use edgechat_shared::api::integrations::EventType;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::db::{int, opt_int, opt_text, text};

/// A new event id: `evt_` + 32 random hex digits.
pub fn new_id() -> String {
    format!("evt_{}", crate::auth::random_hex(16))
}

/// Which message an event is about.
#[derive(Debug, Clone, Copy)]
pub enum MessageRef {
    /// None (conversation, rating and contact events).
    None,
    /// Message `id`.
    Id(i64),
    /// The conversation's newest message (`ORDER BY seq DESC`): the one the
    /// preceding `INSERT` of the batch stored.
    Newest,
}

/// One outbox row to write in the batch of the change it describes.
#[derive(Debug, Clone)]
pub struct Record {
    /// Event id ([`new_id`]); pass it to [`publish`] after the batch.
    pub id: String,
    pub kind: EventType,
    /// The conversation the change belongs to: the event's account is its account.
    pub conversation_id: i64,
    pub message: MessageRef,
    /// JSON extras known at write time, merged into the event's `data`.
    pub data: Option<serde_json::Value>,
    /// Write the row only when the batch's preceding statement changed a
    /// row (SQLite `changes() > 0`): an `INSERT … ON CONFLICT DO NOTHING`
    /// that stored nothing, or an `UPDATE` that matched nothing, emits no
    /// event. The statement must directly follow that one in the batch.
    pub only_if_changed: bool,
}

impl Record {
    /// An event about conversation `conversation_id`, with a fresh id.
    pub fn new(kind: EventType, conversation_id: i64) -> Record {
        Record { id: new_id(), kind, conversation_id, message: MessageRef::None, data: None, only_if_changed: false }
    }

    /// The same event about `message`.
    pub fn message(mut self, message: MessageRef) -> Record {
        self.message = message;
        self
    }

    /// The same event with JSON extras `data`.
    pub fn data(mut self, data: serde_json::Value) -> Record {
        self.data = Some(data);
        self
    }

    /// The same event, written only if the preceding statement changed a row.
    pub fn only_if_changed(mut self) -> Record {
        self.only_if_changed = true;
        self
    }

    /// The `INSERT INTO outbox` statement. The account is the
    /// conversation's; nothing is written for a conversation that does not
    /// exist.
    pub fn statement(&self, db: &D1Database) -> worker::Result<D1PreparedStatement> {
        let message = match self.message {
            MessageRef::None => "NULL",
            MessageRef::Id(_) => "?4",
            MessageRef::Newest => "(SELECT id FROM messages WHERE conversation_id = ?3 ORDER BY seq DESC LIMIT 1)",
        };
        let guard = if self.only_if_changed { " AND changes() > 0" } else { "" };
        let message_id = match self.message {
            MessageRef::Id(id) => Some(id),
            _ => None,
        };
        let data = self.data.as_ref().map(serde_json::to_string).transpose()?;
        db.prepare(format!(
            "INSERT INTO outbox (id, account_id, type, conversation_id, message_id, data) \
             SELECT ?1, c.account_id, ?2, c.id, {message}, ?5 FROM conversations c WHERE c.id = ?3{guard}"
        ))
        .bind(&[
            text(&self.id),
            text(self.kind.as_str()),
            int(self.conversation_id),
            opt_int(message_id),
            opt_text(data.as_deref()),
        ])
    }
}

/// Publishes the outbox rows `ids` (those the batch wrote) on the `EVENTS`
/// queue and stamps `published_at`. A failure is logged, not answered: the
/// change is stored and the sweep publishes the event later.
pub async fn publish(env: &Env, ids: &[String]) {
    // Filled in by the event-bus work (issue 13).
    let _ = (env, ids);
}

/// Publishes every outbox row left unprocessed for a while (a crash between
/// a write and its publication, or a lost queue message).
pub async fn sweep(env: &Env) {
    // Filled in by the event-bus work (issue 13).
    let _ = env;
}

/// Queue names (`[[queues.consumers]]` in `wrangler.toml`).
pub const EVENTS_QUEUE: &str = "edgechat-events";
/// Webhook deliveries, one queue message per (event, endpoint).
pub const DELIVERIES_QUEUE: &str = "edgechat-deliveries";
/// Outgoing email (transcripts, notifications).
pub const EMAIL_QUEUE: &str = "edgechat-email";

/// The queue consumer: dispatches a batch by the queue it came from.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: Env) -> worker::Result<()> {
    match batch.queue().as_str() {
        EVENTS_QUEUE => fan_out(batch, &env).await,
        DELIVERIES_QUEUE => crate::webhooks::consume(batch, &env).await,
        EMAIL_QUEUE => crate::email::consume(batch, &env).await,
        other => {
            worker::console_error!("message batch from an unknown queue {other}");
            batch.retry_all();
            Ok(())
        }
    }
}

/// Consumes `EVENTS`: one delivery per (event, subscribed endpoint), then
/// stamps `processed_at`.
async fn fan_out(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    // Filled in by the event-bus work (issue 13).
    let _ = env;
    batch.ack_all();
    Ok(())
}

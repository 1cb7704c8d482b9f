//! D1 access: the one place that turns D1 rows into EdgeChat types, one
//! module per resource. Every query binds its values; none formats them into SQL.

pub mod conversations;
pub mod sites;
pub mod uploads;
pub mod users;
pub mod visitors;

use edgechat_shared::api::stream::Source;
use edgechat_shared::api::{ChatMessage, MessageStatus, Role};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// The D1 binding (`[[d1_databases]] binding = "DB"` in `wrangler.toml`).
pub fn database(env: &Env) -> worker::Result<D1Database> {
    env.d1("DB")
}

/// A D1 integer parameter. D1 takes JavaScript numbers; ids stay far below 2^53.
pub fn int(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// A D1 text parameter.
pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// A nullable D1 text parameter.
pub fn opt_text(value: Option<&str>) -> JsValue {
    value.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// The visitor of `session_id` on `site_id`, created if new; answers its id.
pub async fn ensure_visitor(db: &D1Database, site_id: i64, session_id: &str) -> worker::Result<i64> {
    db.prepare(
        "INSERT INTO visitors (site_id, session_id) VALUES (?1, ?2) \
         ON CONFLICT (site_id, session_id) DO UPDATE SET session_id = excluded.session_id RETURNING id",
    )
    .bind(&[int(site_id), text(session_id)])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("visitor was not created".into()))
}

/// Sets the email and name a verified visitor's site gave (absent ones stay).
pub async fn set_visitor_details(db: &D1Database, visitor_id: i64, email: Option<&str>, name: Option<&str>) -> worker::Result<()> {
    db.prepare("UPDATE visitors SET email = COALESCE(?1, email), name = COALESCE(?2, name) WHERE id = ?3")
        .bind(&[opt_text(email), opt_text(name), int(visitor_id)])?
        .run()
        .await?;
    Ok(())
}

/// Creates a first conversation for the visitor (`visitor_id`, or the one of
/// `session_id`, created if new) unless one exists, and answers the
/// visitor's newest conversation id. Each statement is atomic, so two
/// concurrent first messages still share one conversation.
pub async fn create_conversation(db: &D1Database, site_id: i64, session_id: &str, visitor_id: Option<i64>) -> worker::Result<i64> {
    let visitor_id = match visitor_id {
        Some(id) => id,
        None => ensure_visitor(db, site_id, session_id).await?,
    };
    db.prepare(
        "INSERT INTO conversations (site_id, visitor_id) SELECT ?1, ?2 \
         WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = ?2)",
    )
    .bind(&[int(site_id), int(visitor_id)])?
    .run()
    .await?;
    db.prepare("SELECT id FROM conversations WHERE visitor_id = ?1 ORDER BY id DESC LIMIT 1")
        .bind(&[int(visitor_id)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| worker::Error::RustError("conversation was not created".into()))
}

/// A message row as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageRow {
    pub id: i64,
    pub seq: i64,
    pub role: String,
    pub content: String,
    pub author_name: Option<String>,
    pub sources: String,
    pub status: String,
    pub attachments: String,
    pub created_at: String,
}

/// The columns of [`MessageRow`], for `SELECT`s and `RETURNING`.
pub const MESSAGE_COLUMNS: &str = "id, seq, role, content, author_name, sources, status, attachments, created_at";

impl MessageRow {
    /// The wire form of the message.
    pub fn to_chat_message(&self) -> ChatMessage {
        ChatMessage {
            id: self.id,
            seq: self.seq,
            role: Role::parse(&self.role).unwrap_or(Role::Visitor),
            content: self.content.clone(),
            created_at: self.created_at.clone(),
            author_name: self.author_name.clone(),
            sources: self.sources(),
            status: MessageStatus::parse(&self.status),
            attachments: serde_json::from_str(&self.attachments).unwrap_or_default(),
        }
    }

    /// The knowledge-base sources stored with an AI answer.
    pub fn sources(&self) -> Vec<Source> {
        serde_json::from_str(&self.sources).unwrap_or_default()
    }
}

/// Every message of a conversation, ordered by `seq`.
pub async fn conversation_messages(db: &D1Database, conversation_id: i64) -> worker::Result<Vec<MessageRow>> {
    db.prepare(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY seq"))
        .bind(&[int(conversation_id)])?
        .all()
        .await?
        .results::<MessageRow>()
}

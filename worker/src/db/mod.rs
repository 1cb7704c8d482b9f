//! D1 access: the one place that turns D1 rows into EdgeChat types, one
//! module per resource. Every query binds its values; none formats them into SQL.

pub mod api_keys;
pub mod app_conversations;
pub mod app_sessions;
pub mod articles;
pub mod breakers;
pub mod chat;
pub mod complaints;
pub mod conversations;
pub mod devices;
pub mod edits;
pub mod inbound;
pub mod media;
pub mod messages;
pub mod proactive;
pub mod ratings;
pub mod search;
pub mod sites;
pub mod team;
pub mod tickets;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod visitors;
pub mod webhooks;

pub use messages::MessageRow;

use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// Whether D1 answers a trivial query (`GET /ready`).
pub async fn ping(db: &D1Database) -> bool {
    matches!(db.prepare("SELECT 1 AS one").first::<i64>(Some("one")).await, Ok(Some(1)))
}

/// The D1 binding (`[[d1_databases]] binding = "DB"` in `wrangler.toml`).
pub fn database(env: &Env) -> worker::Result<D1Database> {
    env.d1("DB")
}

/// A D1 integer parameter. D1 takes JavaScript numbers; ids stay far below 2^53.
pub fn int(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// The SQL expression of the next id of `table`, one of the tables whose
/// ids are never reused (`accounts`, `sites`, `users`, `visitors`,
/// `conversations`, `uploads`): its high-water mark + 1, kept by the
/// triggers of migration 0008, which refuse any lower id. Inserts into those
/// tables name their `id` with it, so a deleted row's id never comes back
/// and a Durable Object named by an id never meets a new owner.
pub fn next_id(table: &str) -> String {
    format!("(SELECT last_id + 1 FROM id_sequences WHERE name = '{table}')")
}

/// A nullable D1 integer parameter.
pub fn opt_int(value: Option<i64>) -> JsValue {
    value.map(int).unwrap_or(JsValue::NULL)
}

/// A D1 text parameter.
pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// A nullable D1 text parameter.
pub fn opt_text(value: Option<&str>) -> JsValue {
    value.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

//! D1 access: the one place that turns D1 rows into EdgeChat types, one
//! module per resource. Every query binds its values; none formats them into SQL.

pub mod articles;
pub mod conversations;
pub mod messages;
pub mod proactive;
pub mod ratings;
pub mod sites;
pub mod tokens;
pub mod users;

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

/// The visitor of `session_id` on `site_id`, created if new; answers its id.
pub async fn ensure_visitor(db: &D1Database, site_id: i64, session_id: &str) -> worker::Result<i64> {
    db.prepare(format!(
        "INSERT INTO visitors (id, site_id, session_id) VALUES ({}, ?1, ?2) \
         ON CONFLICT (site_id, session_id) DO UPDATE SET session_id = excluded.session_id RETURNING id",
        next_id("visitors")
    ))
    .bind(&[int(site_id), text(session_id)])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("visitor was not created".into()))
}

/// Makes `session_id` a verified visitor with `user_id`: the user's visitor
/// when it exists (`known`), else this session's visitor (created if new)
/// marked verified. Answers the visitor id.
pub async fn verify_visitor(db: &D1Database, site_id: i64, session_id: &str, user_id: &str, known: Option<i64>) -> worker::Result<i64> {
    if let Some(id) = known {
        return Ok(id);
    }
    db.prepare(format!(
        "INSERT INTO visitors (id, site_id, session_id, user_id, verified) VALUES ({}, ?1, ?2, ?3, 1) \
         ON CONFLICT (site_id, session_id) DO UPDATE SET user_id = excluded.user_id, verified = 1 RETURNING id",
        next_id("visitors")
    ))
    .bind(&[int(site_id), text(session_id), text(user_id)])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("visitor was not verified".into()))
}

/// Sets the email and name a verified visitor's site gave (absent ones stay).
pub async fn set_visitor_details(db: &D1Database, visitor_id: i64, email: Option<&str>, name: Option<&str>) -> worker::Result<()> {
    db.prepare("UPDATE visitors SET email = COALESCE(?1, email), name = COALESCE(?2, name) WHERE id = ?3")
        .bind(&[opt_text(email), opt_text(name), int(visitor_id)])?
        .run()
        .await?;
    Ok(())
}

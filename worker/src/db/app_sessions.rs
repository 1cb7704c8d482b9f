//! App sessions of signed-in users in D1 (`app_sessions`, migration 0021;
//! seed 003, issue 14): a session token's hash, its site and user (the
//! site's verified visitor), and its expiry.

use serde::Deserialize;
use worker::D1Database;

use super::sites::{first_site_with, SiteRow, SITE_COLUMNS};
use super::{int, text};

/// Most sessions one user keeps: signing in again past it ends the oldest
/// (an app signs in on every page load; a leaked JWT cannot pile rows up).
pub const MAX_SESSIONS_PER_USER: i64 = 20;

/// Stores a session of visitor `visitor_id` on `site_id` under the token's
/// `hash`, valid until `expires_at` (RFC 3339 UTC); drops the user's
/// expired sessions and those past [`MAX_SESSIONS_PER_USER`].
pub async fn create(db: &D1Database, site_id: i64, visitor_id: i64, hash: &str, expires_at: &str) -> worker::Result<()> {
    db.batch(vec![
        db.prepare("INSERT INTO app_sessions (token_hash, site_id, visitor_id, expires_at) VALUES (?1, ?2, ?3, ?4)").bind(&[
            text(hash),
            int(site_id),
            int(visitor_id),
            text(expires_at),
        ])?,
        db.prepare(
            "DELETE FROM app_sessions WHERE visitor_id = ?1 AND (expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             OR id NOT IN (SELECT id FROM app_sessions WHERE visitor_id = ?1 ORDER BY id DESC LIMIT ?2))",
        )
        .bind(&[int(visitor_id), int(MAX_SESSIONS_PER_USER)])?,
    ])
    .await?;
    Ok(())
}

/// Who holds a session: its site and user.
#[derive(Debug, Clone)]
pub struct SessionHolder {
    pub site: SiteRow,
    /// The user's visitor id.
    pub visitor_id: i64,
    /// The site's own id of the user.
    pub user_id: String,
    /// When operators blocked the user, if they did.
    pub blocked_at: Option<String>,
}

/// The site and user of the unexpired session whose token hashes to
/// `hash`; `None` for an unknown or expired token.
pub async fn holder(db: &D1Database, hash: &str) -> worker::Result<Option<SessionHolder>> {
    let site_columns: Vec<String> = SITE_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
    db.prepare(format!(
        "SELECT {}, v.id AS visitor_id, v.user_id, v.blocked_at FROM app_sessions a \
         JOIN visitors v ON v.id = a.visitor_id AND v.user_id IS NOT NULL \
         JOIN sites s ON s.id = a.site_id AND s.id = v.site_id \
         WHERE a.token_hash = ?1 AND a.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        site_columns.join(", ")
    ))
    .bind(&[text(hash)])
    .map(first_site_with::<HolderColumns>)?
    .await
    .map(|row| row.map(|(site, h)| SessionHolder { site, visitor_id: h.visitor_id, user_id: h.user_id, blocked_at: h.blocked_at }))
}

/// The columns [`holder`]'s query adds to the site's.
#[derive(Deserialize)]
struct HolderColumns {
    visitor_id: i64,
    user_id: String,
    blocked_at: Option<String>,
}

/// Ends the session of `hash` (sign-out); answers whether there was one.
pub async fn delete(db: &D1Database, hash: &str) -> worker::Result<bool> {
    Ok(db
        .prepare("DELETE FROM app_sessions WHERE token_hash = ?1 RETURNING id")
        .bind(&[text(hash)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

/// Deletes every expired session (the cron sweep); answers how many.
pub async fn sweep(db: &D1Database) -> worker::Result<usize> {
    let result = db.prepare("DELETE FROM app_sessions WHERE expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").run().await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

/// Which of the session token hashes `hashes` still name an unexpired
/// session of a user who is not blocked (live streams check it at each heartbeat).
pub async fn still_valid(db: &D1Database, hashes: &[String]) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        token_hash: String,
    }
    let list = serde_json::to_string(hashes)?;
    let rows: Vec<Row> = db
        .prepare(
            "SELECT a.token_hash FROM app_sessions a JOIN visitors v ON v.id = a.visitor_id \
             WHERE a.token_hash IN (SELECT value FROM json_each(?1)) AND v.blocked_at IS NULL \
             AND a.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(&[text(&list)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.token_hash).collect())
}

//! Inbound webhook endpoints and the `webhook-id`s they stored
//! (`inbound_endpoints`, `inbound_deliveries`; migration 0020).

use serde::Deserialize;
use worker::D1Database;

use super::{int, text};

/// An inbound endpoint as stored. Carries its secret: internal only.
#[derive(Debug, Clone, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub account_id: i64,
    pub name: String,
    /// `whsec_` + base64 (Standard Webhooks).
    pub secret: String,
    pub created_by: i64,
    pub created_at: String,
}

const COLUMNS: &str = "id, account_id, name, secret, created_by, created_at";

/// Stores a new endpoint unless the account has `max` already; `None` then.
pub async fn insert(
    db: &D1Database,
    account_id: i64,
    id: &str,
    name: &str,
    secret: &str,
    created_by: i64,
    max: i64,
) -> worker::Result<Option<EndpointRow>> {
    db.prepare(format!(
        "INSERT INTO inbound_endpoints (id, account_id, name, secret, created_by) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM inbound_endpoints WHERE account_id = ?2) < ?6 RETURNING {COLUMNS}"
    ))
    .bind(&[text(id), int(account_id), text(name), text(secret), int(created_by), int(max)])?
    .first(None)
    .await
}

/// The account's endpoints, oldest first.
pub async fn list(db: &D1Database, account_id: i64) -> worker::Result<Vec<EndpointRow>> {
    db.prepare(format!("SELECT {COLUMNS} FROM inbound_endpoints WHERE account_id = ?1 ORDER BY created_at, id"))
        .bind(&[int(account_id)])?
        .all()
        .await?
        .results()
}

/// Endpoint `id`, any account (the public route knows only the id), while
/// its creator is still an owner or admin of the account: an endpoint posts
/// as any operator, so it lives no longer than the right that made it (a
/// creator demoted to agent, or removed, takes its endpoints down with it).
pub async fn by_id(db: &D1Database, id: &str) -> worker::Result<Option<EndpointRow>> {
    db.prepare(
        "SELECT e.id, e.account_id, e.name, e.secret, e.created_by, e.created_at FROM inbound_endpoints e \
         JOIN users u ON u.id = e.created_by AND u.account_id = e.account_id WHERE e.id = ?1 AND u.role IN ('owner', 'admin')",
    )
    .bind(&[text(id)])?
    .first(None)
    .await
}

/// Deletes the account's endpoint `id` (and its stored `webhook-id`s);
/// `false` when it has none by that id.
pub async fn delete(db: &D1Database, account_id: i64, id: &str) -> worker::Result<bool> {
    let results = db
        .batch(vec![
            db.prepare(
                "DELETE FROM inbound_deliveries WHERE endpoint_id = (SELECT id FROM inbound_endpoints WHERE id = ?1 AND account_id = ?2)",
            )
            .bind(&[text(id), int(account_id)])?,
            db.prepare("DELETE FROM inbound_endpoints WHERE id = ?1 AND account_id = ?2").bind(&[text(id), int(account_id)])?,
        ])
        .await?;
    Ok(results.get(1).and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// The message a delivery with this `webhook-id` stored, if one did.
pub async fn delivered(db: &D1Database, endpoint_id: &str, webhook_id: &str) -> worker::Result<Option<i64>> {
    db.prepare("SELECT message_id FROM inbound_deliveries WHERE endpoint_id = ?1 AND webhook_id = ?2")
        .bind(&[text(endpoint_id), text(webhook_id)])?
        .first(Some("message_id"))
        .await
}

/// Records that `webhook_id` stored `message_id` (a second record of the
/// same id keeps the first).
pub async fn record_delivery(db: &D1Database, endpoint_id: &str, webhook_id: &str, message_id: i64) -> worker::Result<()> {
    db.prepare("INSERT OR IGNORE INTO inbound_deliveries (endpoint_id, webhook_id, message_id) VALUES (?1, ?2, ?3)")
        .bind(&[text(endpoint_id), text(webhook_id), int(message_id)])?
        .run()
        .await?;
    Ok(())
}

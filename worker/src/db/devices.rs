//! Devices, notification settings, push deliveries and diagnostics of
//! signed-in app users (migration 0024). A user is their `visitors` row.

use edgechat_shared::api::devices::{NotificationSettings, Platform, MAX_DEVICES_PER_USER};
use edgechat_shared::api::diagnostics::MAX_DIAGNOSTICS_PER_USER;
use serde::Deserialize;
use worker::D1Database;

use super::{int, text};

/// Registers `token` of `platform` for user `visitor_id` (an upsert: the
/// same token answers the same id) and forgets the user's least recently
/// registered devices beyond [`MAX_DEVICES_PER_USER`]. Answers the device id.
pub async fn register(db: &D1Database, visitor_id: i64, platform: Platform, token: &str) -> worker::Result<i64> {
    let upsert = db
        .prepare(
            "INSERT INTO devices (visitor_id, platform, token) VALUES (?1, ?2, ?3) \
             ON CONFLICT (visitor_id, platform, token) DO UPDATE SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') RETURNING id",
        )
        .bind(&[int(visitor_id), text(platform.as_str()), text(token)])?;
    let cap = db
        .prepare(
            "DELETE FROM devices WHERE visitor_id = ?1 AND id NOT IN \
             (SELECT id FROM devices WHERE visitor_id = ?1 ORDER BY updated_at DESC, id DESC LIMIT ?2)",
        )
        .bind(&[int(visitor_id), int(MAX_DEVICES_PER_USER as i64)])?;
    // A token names one device: registered by this user, it is no longer
    // another's (a shared browser or phone changes hands at sign-in), so
    // their pushes stop reaching it.
    let rebind = db.prepare("DELETE FROM devices WHERE platform = ?1 AND token = ?2 AND visitor_id <> ?3").bind(&[
        text(platform.as_str()),
        text(token),
        int(visitor_id),
    ])?;
    let results = db.batch(vec![upsert, cap, rebind]).await?;
    #[derive(Deserialize)]
    struct Row {
        id: i64,
    }
    let rows: Vec<Row> = results.into_iter().next().ok_or_else(|| worker::Error::RustError("empty batch".into()))?.results()?;
    rows.first().map(|r| r.id).ok_or_else(|| worker::Error::RustError("device upsert returned no id".into()))
}

/// Deletes device `id` of user `visitor_id`; `false` when the user has no such device.
pub async fn delete(db: &D1Database, visitor_id: i64, id: i64) -> worker::Result<bool> {
    let result = db.prepare("DELETE FROM devices WHERE id = ?1 AND visitor_id = ?2").bind(&[int(id), int(visitor_id)])?.run().await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// Whether user `visitor_id` has a device.
pub async fn has_devices(db: &D1Database, visitor_id: i64) -> worker::Result<bool> {
    let found = db
        .prepare("SELECT 1 AS one FROM devices WHERE visitor_id = ?1 LIMIT 1")
        .bind(&[int(visitor_id)])?
        .first::<i64>(Some("one"))
        .await?;
    Ok(found.is_some())
}

#[derive(Deserialize)]
struct SettingsRow {
    chat_messages: i64,
    ticket_updates: i64,
    system_notices: i64,
}

/// User `visitor_id`'s notification settings (all on without a row).
pub async fn settings(db: &D1Database, visitor_id: i64) -> worker::Result<NotificationSettings> {
    let row: Option<SettingsRow> = db
        .prepare("SELECT chat_messages, ticket_updates, system_notices FROM notification_settings WHERE visitor_id = ?1")
        .bind(&[int(visitor_id)])?
        .first(None)
        .await?;
    Ok(row.map_or_else(NotificationSettings::default, |r| NotificationSettings {
        chat_messages: r.chat_messages != 0,
        ticket_updates: r.ticket_updates != 0,
        system_notices: r.system_notices != 0,
    }))
}

/// Stores user `visitor_id`'s notification settings.
pub async fn save_settings(db: &D1Database, visitor_id: i64, s: NotificationSettings) -> worker::Result<()> {
    let flag = |on: bool| int(i64::from(on));
    db.prepare(
        "INSERT INTO notification_settings (visitor_id, chat_messages, ticket_updates, system_notices) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (visitor_id) DO UPDATE SET chat_messages = ?2, ticket_updates = ?3, system_notices = ?4, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(&[int(visitor_id), flag(s.chat_messages), flag(s.ticket_updates), flag(s.system_notices)])?
    .run()
    .await?;
    Ok(())
}

/// Stores one diagnostics report (JSON, already scrubbed) of user
/// `visitor_id` and, in the same batch, deletes the user's reports older
/// than the newest [`MAX_DIAGNOSTICS_PER_USER`].
pub async fn store_diagnostics(db: &D1Database, visitor_id: i64, data: &str) -> worker::Result<()> {
    db.batch(vec![
        db.prepare("INSERT INTO diagnostics (visitor_id, data) VALUES (?1, ?2)").bind(&[int(visitor_id), text(data)])?,
        db.prepare(format!(
            "DELETE FROM diagnostics WHERE visitor_id = ?1 \
             AND id NOT IN (SELECT id FROM diagnostics WHERE visitor_id = ?1 ORDER BY id DESC LIMIT {MAX_DIAGNOSTICS_PER_USER})"
        ))
        .bind(&[int(visitor_id)])?,
    ])
    .await?;
    Ok(())
}

/// Deletes diagnostics older than `days` days.
pub async fn sweep_diagnostics(db: &D1Database, days: i64) -> worker::Result<()> {
    db.prepare("DELETE FROM diagnostics WHERE created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)")
        .bind(&[text(&format!("-{days} days"))])?
        .run()
        .await?;
    Ok(())
}

/// One push to write: the notification every device of the user gets.
pub struct NewPush<'a> {
    pub event_id: &'a str,
    pub visitor_id: i64,
    pub title: &'a str,
    pub body: &'a str,
    /// JSON object of strings.
    pub data: &'a str,
}

/// Writes one delivery of `push` per device of its user (none for a
/// (event, device) pair written before: a re-published event adds
/// nothing). Answers the new deliveries' ids.
pub async fn create_deliveries(db: &D1Database, push: &NewPush<'_>) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
    }
    let rows: Vec<Row> = db
        .prepare(
            "INSERT INTO push_deliveries (event_id, device_id, title, body, data) \
             SELECT ?1, d.id, ?3, ?4, ?5 FROM devices d WHERE d.visitor_id = ?2 \
             ON CONFLICT (event_id, device_id) DO NOTHING RETURNING id",
        )
        .bind(&[text(push.event_id), int(push.visitor_id), text(push.title), text(push.body), text(push.data)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// A claimed delivery: what to send, and where.
#[derive(Debug, Deserialize)]
pub struct Claimed {
    pub device_id: i64,
    pub platform: Platform,
    pub token: String,
    pub title: String,
    pub body: String,
    pub data: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Claims delivery `id` for `lease_seconds`: only when it is not sent, its
/// device still exists, and no other consumer holds it (a duplicate queue
/// message claims nothing).
pub async fn claim(db: &D1Database, id: i64, lease_seconds: i64) -> worker::Result<Option<Claimed>> {
    let claim = db
        .prepare(
            "UPDATE push_deliveries SET attempts = attempts + 1, \
             claimed_until = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2) \
             WHERE id = ?1 AND sent_at IS NULL \
             AND (claimed_until IS NULL OR claimed_until < strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        )
        .bind(&[int(id), text(&format!("+{lease_seconds} seconds"))])?;
    let read = db
        .prepare(
            "SELECT p.device_id, d.platform, d.token, p.title, p.body, p.data, p.attempts FROM push_deliveries p \
             JOIN devices d ON d.id = p.device_id WHERE p.id = ?1 AND changes() > 0",
        )
        .bind(&[int(id)])?;
    let mut results = db.batch(vec![claim, read]).await?;
    let rows: Vec<Claimed> = results.pop().ok_or_else(|| worker::Error::RustError("empty batch".into()))?.results()?;
    Ok(rows.into_iter().next())
}

/// Records the end of an attempt of delivery `id`: sent, or failed with `error` (the lease is released).
pub async fn finish(db: &D1Database, id: i64, error: Option<&str>) -> worker::Result<()> {
    let statement = match error {
        None => db
            .prepare("UPDATE push_deliveries SET sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), claimed_until = NULL, last_error = NULL WHERE id = ?1")
            .bind(&[int(id)])?,
        Some(error) => db
            .prepare("UPDATE push_deliveries SET claimed_until = NULL, last_error = ?2 WHERE id = ?1")
            .bind(&[int(id), text(error)])?,
    };
    statement.run().await?;
    Ok(())
}

/// Deletes device `id` (the push service says it is gone), its deliveries with it.
pub async fn forget_device(db: &D1Database, id: i64) -> worker::Result<()> {
    db.batch(vec![
        db.prepare("DELETE FROM push_deliveries WHERE device_id = ?1").bind(&[int(id)])?,
        db.prepare("DELETE FROM devices WHERE id = ?1").bind(&[int(id)])?,
    ])
    .await?;
    Ok(())
}

/// Deliveries never attempted `stale_seconds` after they were written
/// (their queue message was lost, e.g. with a local queue across a
/// restart), at most 100 of the last day. Each is answered once: it is
/// marked (`last_error`) so that later sweeps leave it to the queue.
pub async fn stale(db: &D1Database, stale_seconds: i64) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
    }
    let rows: Vec<Row> = db
        .prepare(
            "UPDATE push_deliveries SET last_error = 'queue message lost; enqueued again by the sweep' WHERE id IN ( \
             SELECT id FROM push_deliveries WHERE sent_at IS NULL AND last_error IS NULL AND attempts = 0 \
             AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) \
             AND created_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day') LIMIT 100) RETURNING id",
        )
        .bind(&[text(&format!("-{stale_seconds} seconds"))])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

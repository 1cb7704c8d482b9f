//! The AI upstreams' circuit breakers (`ai_breakers`, migration 0023; the
//! rules are in [`crate::responder::breaker`]). Times are ms since the Unix epoch.

use serde::Deserialize;
use worker::D1Database;

use super::{int, text};

/// One upstream's breaker as stored; no row is a closed breaker without failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct BreakerRow {
    /// Consecutive counted failures.
    pub failures: i64,
    /// When it opened (or a half-open probe was let through); `None`: closed.
    pub opened_at: Option<i64>,
}

/// The breaker of `upstream`.
pub async fn get(db: &D1Database, upstream: &str) -> worker::Result<Option<BreakerRow>> {
    db.prepare("SELECT failures, opened_at FROM ai_breakers WHERE upstream = ?1").bind(&[text(upstream)])?.first::<BreakerRow>(None).await
}

/// The breakers of `upstreams` that have a row.
pub async fn get_many(db: &D1Database, upstreams: &[String]) -> worker::Result<Vec<BreakerRow>> {
    db.prepare("SELECT failures, opened_at FROM ai_breakers WHERE upstream IN (SELECT value FROM json_each(?1))")
        .bind(&[text(&serde_json::to_string(upstreams)?)])?
        .all()
        .await?
        .results::<BreakerRow>()
}

/// Lets one half-open probe through: moves `opened_at` from `seen` to
/// `now` (so others wait another cool-down) and answers `true`, unless
/// another request did so first.
pub async fn claim_probe(db: &D1Database, upstream: &str, seen: i64, now: i64) -> worker::Result<bool> {
    Ok(db
        .prepare("UPDATE ai_breakers SET opened_at = ?3 WHERE upstream = ?1 AND opened_at = ?2 RETURNING failures")
        .bind(&[text(upstream), int(seen), int(now)])?
        .first::<i64>(Some("failures"))
        .await?
        .is_some())
}

/// Gives back a probe claimed at `claimed` (its question ended in a way
/// that says nothing about the upstream, e.g. the visitor left): the
/// breaker is half-open again at once, as it was at `seen`, unless
/// something was recorded meanwhile.
pub async fn release_probe(db: &D1Database, upstream: &str, claimed: i64, seen: i64) -> worker::Result<()> {
    db.prepare("UPDATE ai_breakers SET opened_at = ?3 WHERE upstream = ?1 AND opened_at = ?2")
        .bind(&[text(upstream), int(claimed), int(seen)])?
        .run()
        .await?;
    Ok(())
}

/// Counts one failure; the `threshold`-th consecutive one (and any after
/// it, such as a failed probe) opens the breaker at `now`.
pub async fn record_failure(db: &D1Database, upstream: &str, threshold: i64, now: i64) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO ai_breakers (upstream, failures, opened_at) VALUES (?1, 1, CASE WHEN 1 >= ?2 THEN ?3 END) \
         ON CONFLICT (upstream) DO UPDATE SET failures = failures + 1, \
           opened_at = CASE WHEN failures + 1 >= ?2 THEN ?3 ELSE opened_at END",
    )
    .bind(&[text(upstream), int(threshold), int(now)])?
    .run()
    .await?;
    Ok(())
}

/// Closes the breaker: a success clears the failures.
pub async fn record_success(db: &D1Database, upstream: &str) -> worker::Result<()> {
    db.prepare("UPDATE ai_breakers SET failures = 0, opened_at = NULL WHERE upstream = ?1").bind(&[text(upstream)])?.run().await?;
    Ok(())
}

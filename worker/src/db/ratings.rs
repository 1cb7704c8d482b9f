//! CSAT ratings: one per conversation (`ratings`, seed 001's widget rating
//! and seed 003's app CSAT alike) and one per ticket and user
//! (`ticket_ratings`), with an optional comment; the operators' report.

use edgechat_shared::api::integrations::EventType;
use edgechat_shared::api::rating::{Period, RatingComment, RatingsReport, MAX_REPORT_COMMENTS};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::{int, opt_int, opt_text, text};
use crate::events::Record;

#[derive(Deserialize)]
struct Id {
    id: i64,
}

/// Rates conversation `conversation_id` `score` (1–5) with an optional
/// `comment`; answers the new rating's id, or `None` when it was rated
/// already (the first stays). The batch writes its `rating.created` event.
pub async fn insert(db: &D1Database, conversation_id: i64, score: i64, comment: Option<&str>) -> worker::Result<Option<i64>> {
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO ratings (conversation_id, score, comment) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (conversation_id) DO NOTHING RETURNING id",
            )
            .bind(&[int(conversation_id), int(score), opt_text(comment)])?,
            // Its `rating.created` event (none for a second rating).
            Record::new(EventType::RatingCreated, conversation_id).only_if_changed().statement(db)?,
        ])
        .await?;
    Ok(results.first().map(|r| r.results::<Id>()).transpose()?.and_then(|mut rows| rows.pop()).map(|r| r.id))
}

/// What [`insert_ticket`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRated {
    /// Stored with this id.
    Created(i64),
    /// The user had rated this ticket already; nothing changed.
    Duplicate,
    /// No ticket `ticket_id` of this user on this site.
    NotFound,
}

/// Rates ticket `ticket_id` of user `visitor_id` on site `site_id`:
/// `stars` 1–5, optional `comment`; one rating per (ticket, user).
pub async fn insert_ticket(
    db: &D1Database,
    site_id: i64,
    visitor_id: i64,
    ticket_id: i64,
    stars: i64,
    comment: Option<&str>,
) -> worker::Result<TicketRated> {
    let owned = "FROM tickets t WHERE t.id = ?1 AND t.visitor_id = ?2 AND t.site_id = ?3";
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO ticket_ratings (ticket_id, visitor_id, stars, comment) SELECT t.id, ?2, ?4, ?5 {owned} \
                 ON CONFLICT (ticket_id, visitor_id) DO NOTHING RETURNING id"
            ))
            .bind(&[int(ticket_id), int(visitor_id), int(site_id), int(stars), opt_text(comment)])?,
            db.prepare(format!("SELECT t.id {owned}")).bind(&[int(ticket_id), int(visitor_id), int(site_id)])?,
        ])
        .await?;
    let first = |i: usize| -> worker::Result<Option<i64>> {
        Ok(results.get(i).map(|r| r.results::<Id>()).transpose()?.and_then(|mut rows| rows.pop()).map(|r| r.id))
    };
    Ok(match (first(0)?, first(1)?) {
        (Some(id), _) => TicketRated::Created(id),
        (None, Some(_)) => TicketRated::Duplicate,
        (None, None) => TicketRated::NotFound,
    })
}

/// Sets the comment of conversation `conversation_id`'s rating; answers
/// whether there is a rating to comment on.
pub async fn set_comment(db: &D1Database, conversation_id: i64, comment: &str) -> worker::Result<bool> {
    Ok(db
        .prepare("UPDATE ratings SET comment = ?1 WHERE conversation_id = ?2 RETURNING id")
        .bind(&[text(comment), int(conversation_id)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

/// Every rating of account `?1` (conversation and ticket ratings alike) as
/// `(stars, comment, created_at, site_id, conversation_id, ticket_id,
/// ticket_reference)`, filtered by site `?2` and the period `[?3, ?4)` (each
/// `NULL` for no bound).
const ALL_RATINGS: &str = "SELECT * FROM ( \
    SELECT r.score AS stars, r.comment, r.created_at, c.site_id, c.id AS conversation_id, NULL AS ticket_id, NULL AS ticket_reference \
      FROM ratings r JOIN conversations c ON c.id = r.conversation_id WHERE c.account_id = ?1 \
    UNION ALL \
    SELECT tr.stars, tr.comment, tr.created_at, t.site_id, t.conversation_id, t.id, t.reference \
      FROM ticket_ratings tr JOIN tickets t ON t.id = tr.ticket_id WHERE t.account_id = ?1 \
  ) WHERE (?2 IS NULL OR site_id = ?2) AND (?3 IS NULL OR created_at >= ?3) AND (?4 IS NULL OR created_at < ?4)";

/// The CSAT report of account `account_id` (optionally one site's) for `period`.
pub async fn report(db: &D1Database, account_id: i64, site_id: Option<i64>, period: &Period) -> worker::Result<RatingsReport> {
    let params: [JsValue; 4] = [int(account_id), opt_int(site_id), opt_text(period.from.as_deref()), opt_text(period.until.as_deref())];
    let results = db
        .batch(vec![
            db.prepare(format!("SELECT stars, COUNT(*) AS n FROM ({ALL_RATINGS}) GROUP BY stars")).bind(&params)?,
            db.prepare(format!(
                "SELECT * FROM ({ALL_RATINGS}) WHERE comment IS NOT NULL AND comment <> '' ORDER BY created_at DESC LIMIT {MAX_REPORT_COMMENTS}"
            ))
            .bind(&params)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Bucket {
        stars: i64,
        n: u32,
    }
    let buckets = results.first().map(|r| r.results::<Bucket>()).transpose()?.unwrap_or_default();
    let mut distribution = vec![0u32; 5];
    for bucket in buckets {
        if let Some(slot) = usize::try_from(bucket.stars - 1).ok().and_then(|i| distribution.get_mut(i)) {
            *slot += bucket.n;
        }
    }
    let count: u32 = distribution.iter().sum();
    let total: u64 = distribution.iter().zip(1u64..).map(|(n, stars)| u64::from(*n) * stars).sum();
    let average = (count > 0).then(|| total as f64 / f64::from(count));
    let comments = results.get(1).map(|r| r.results::<RatingComment>()).transpose()?.unwrap_or_default();
    Ok(RatingsReport { count, average, distribution, comments })
}

//! CSAT ratings: one per conversation (seed 003), with an optional comment.

use worker::D1Database;

use edgechat_shared::api::integrations::EventType;

use super::{int, text};
use crate::events::Record;

/// Rates conversation `conversation_id` `score` (1–5); answers the new
/// rating's id, or `None` when it was rated already (the first stays).
pub async fn insert(db: &D1Database, conversation_id: i64, score: i64) -> worker::Result<Option<i64>> {
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO ratings (conversation_id, score) VALUES (?1, ?2) ON CONFLICT (conversation_id) DO NOTHING RETURNING id",
            )
            .bind(&[int(conversation_id), int(score)])?,
            // Its `rating.created` event (none for a second rating).
            Record::new(EventType::RatingCreated, conversation_id).only_if_changed().statement(db)?,
        ])
        .await?;
    #[derive(serde::Deserialize)]
    struct Id {
        id: i64,
    }
    Ok(results.first().map(|r| r.results::<Id>()).transpose()?.and_then(|mut rows| rows.pop()).map(|r| r.id))
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

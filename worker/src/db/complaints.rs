//! Complaints (seed 003): filed by a signed-in user, read and marked
//! handled by the operators of the site's account.

use edgechat_shared::api::complaints::{Complaint, ComplaintCategory, ComplaintFilter, ComplaintStatus, ComplaintUser};
use serde::Deserialize;
use worker::D1Database;

use super::{int, opt_int, opt_text, text};

/// A new complaint of user `visitor_id` on site `site_id`.
pub struct NewComplaint<'a> {
    pub site_id: i64,
    pub visitor_id: i64,
    pub category: ComplaintCategory,
    pub description: &'a str,
    /// The conversation it is about (must be the user's: checked by [`insert`]).
    pub conversation_id: Option<i64>,
    /// The ticket it is about (must be the user's: checked by [`insert`]).
    pub ticket_id: Option<i64>,
}

/// What [`insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// Stored with this id.
    Created(i64),
    /// The same user's same open complaint is stored with this id; nothing was written (a retry).
    Duplicate(i64),
    /// The conversation or ticket named is not this user's on this site.
    NotFound,
}

/// Stores `complaint` once its conversation and ticket, when named, are
/// checked to be the user's own on the site (in the same statement).
pub async fn insert(db: &D1Database, complaint: &NewComplaint<'_>) -> worker::Result<Filed> {
    let same = "visitor_id = ?2 AND category = ?3 AND description = ?4 AND COALESCE(conversation_id, 0) = COALESCE(?5, 0) \
                AND COALESCE(ticket_id, 0) = COALESCE(?6, 0) AND status = 'open' AND site_id = ?1";
    let params = [
        int(complaint.site_id),
        int(complaint.visitor_id),
        text(complaint.category.as_str()),
        text(complaint.description),
        opt_int(complaint.conversation_id),
        opt_int(complaint.ticket_id),
    ];
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO complaints (account_id, site_id, visitor_id, category, description, conversation_id, ticket_id) \
                 SELECT s.account_id, s.id, ?2, ?3, ?4, ?5, ?6 FROM sites s WHERE s.id = ?1 \
                   AND (?5 IS NULL OR EXISTS (SELECT 1 FROM conversations c WHERE c.id = ?5 AND c.visitor_id = ?2 AND c.site_id = ?1)) \
                   AND (?6 IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = ?6 AND t.visitor_id = ?2 AND t.site_id = ?1)) \
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(&params)?,
            db.prepare(format!("SELECT id FROM complaints WHERE {same}")).bind(&params)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let first = |i: usize| -> worker::Result<Option<i64>> {
        Ok(results.get(i).map(|r| r.results::<Id>()).transpose()?.and_then(|mut rows| rows.pop()).map(|r| r.id))
    };
    Ok(match (first(0)?, first(1)?) {
        (Some(id), _) => Filed::Created(id),
        (None, Some(id)) => Filed::Duplicate(id),
        (None, None) => Filed::NotFound,
    })
}

#[derive(Debug, Deserialize)]
struct ComplaintRow {
    id: i64,
    site_id: i64,
    category: ComplaintCategory,
    description: String,
    status: ComplaintStatus,
    visitor_id: Option<i64>,
    user_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    conversation_id: Option<i64>,
    ticket_id: Option<i64>,
    ticket_reference: Option<String>,
    note: Option<String>,
    handled_by: Option<i64>,
    handled_by_name: Option<String>,
    handled_at: Option<String>,
    created_at: String,
}

impl From<ComplaintRow> for Complaint {
    fn from(row: ComplaintRow) -> Complaint {
        Complaint {
            id: row.id,
            site_id: row.site_id,
            category: row.category,
            description: row.description,
            status: row.status,
            user: row.visitor_id.map(|id| ComplaintUser { id, user_id: row.user_id, name: row.name, email: row.email }),
            conversation_id: row.conversation_id,
            ticket_id: row.ticket_id,
            ticket_reference: row.ticket_reference,
            note: row.note,
            handled_by: row.handled_by,
            handled_by_name: row.handled_by_name,
            handled_at: row.handled_at,
            created_at: row.created_at,
        }
    }
}

const SELECT: &str = "SELECT k.id, k.site_id, k.category, k.description, k.status, k.visitor_id, v.user_id, v.name, v.email, \
    k.conversation_id, k.ticket_id, t.reference AS ticket_reference, k.note, k.handled_by, k.handled_by_name, k.handled_at, k.created_at \
    FROM complaints k LEFT JOIN visitors v ON v.id = k.visitor_id LEFT JOIN tickets t ON t.id = k.ticket_id";

/// A page of account `account_id`'s complaints matching `filter`, newest
/// first, with ids below `before`; answers up to `limit` and whether more follow.
pub async fn list(
    db: &D1Database,
    account_id: i64,
    filter: &ComplaintFilter,
    before: Option<i64>,
    limit: u32,
) -> worker::Result<(Vec<Complaint>, bool)> {
    let rows = db
        .prepare(format!(
            "{SELECT} WHERE k.account_id = ?1 AND (?2 IS NULL OR k.category = ?2) AND (?3 IS NULL OR k.status = ?3) \
             AND (?4 IS NULL OR k.site_id = ?4) AND (?5 IS NULL OR k.id < ?5) ORDER BY k.id DESC LIMIT ?6"
        ))
        .bind(&[
            int(account_id),
            opt_text(filter.category.map(ComplaintCategory::as_str)),
            opt_text(filter.status.map(ComplaintStatus::as_str)),
            opt_int(filter.site_id),
            opt_int(before),
            int(i64::from(limit) + 1),
        ])?
        .all()
        .await?
        .results::<ComplaintRow>()?;
    let more = rows.len() > limit as usize;
    Ok((rows.into_iter().take(limit as usize).map(Complaint::from).collect(), more))
}

/// Sets complaint `id` of account `account_id` to `status`: `handled`
/// stamps operator `operator_id` (`operator_name`) and now, `open` clears
/// them; `note`, when given, replaces the note (`""` clears it). Answers
/// the complaint after the change, `None` when the account has no such
/// complaint. Reopening is skipped (the answer keeps `handled`) when the
/// same user has the same complaint open again (`complaints_open_once`).
pub async fn change(
    db: &D1Database,
    account_id: i64,
    id: i64,
    status: ComplaintStatus,
    note: Option<&str>,
    operator_id: i64,
    operator_name: &str,
) -> worker::Result<Option<Complaint>> {
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE OR IGNORE complaints SET status = ?3, \
                   note = CASE WHEN ?4 IS NULL THEN note WHEN ?4 = '' THEN NULL ELSE ?4 END, \
                   handled_by = CASE WHEN ?3 = 'handled' THEN ?5 END, \
                   handled_by_name = CASE WHEN ?3 = 'handled' THEN ?6 END, \
                   handled_at = CASE WHEN ?3 = 'handled' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END \
                 WHERE id = ?1 AND account_id = ?2",
            )
            .bind(&[int(id), int(account_id), text(status.as_str()), opt_text(note), int(operator_id), text(operator_name)])?,
            db.prepare(format!("{SELECT} WHERE k.id = ?1 AND k.account_id = ?2")).bind(&[int(id), int(account_id)])?,
        ])
        .await?;
    Ok(results.get(1).map(|r| r.results::<ComplaintRow>()).transpose()?.and_then(|mut rows| rows.pop()).map(Complaint::from))
}

//! Tickets, their timeline and their `ticket.*` events (migration 0022).
//! Every change writes its timeline entries and its outbox row in the
//! batch that makes it.

use edgechat_shared::api::integrations::EventType;
use edgechat_shared::api::tickets::{Actor, ActorKind, AppTicket, Ticket, TicketStatus, TimelineEntry, TimelineKind, REFERENCE_PREFIX};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::{int, opt_int, opt_text, text};

const TICKET_COLUMNS: &str =
    "id, reference, subject, status, site_id, visitor_id, conversation_id, assignee_id, created_by, created_at, updated_at";

/// The first number of an account's references (`EC-1001`).
const FIRST_NUMBER: i64 = 1001;

/// The ticket as JSON, built in SQL from the row `t` (the `ticket` of its events).
const TICKET_JSON: &str = "json_object('id', t.id, 'reference', t.reference, 'subject', t.subject, 'status', t.status, \
    'site_id', t.site_id, 'visitor_id', t.visitor_id, 'conversation_id', t.conversation_id, 'assignee_id', t.assignee_id, \
    'created_by', t.created_by, 'created_at', t.created_at, 'updated_at', t.updated_at)";

/// Who makes a change: an operator (user id) or the ticket's user (visitor id), with their name then.
#[derive(Debug, Clone)]
pub struct ActorRef {
    pub kind: ActorKind,
    pub id: i64,
    pub name: Option<String>,
}

impl ActorRef {
    fn binds(&self) -> [JsValue; 3] {
        let kind = match self.kind {
            ActorKind::Operator => "operator",
            ActorKind::User => "user",
        };
        [text(kind), int(self.id), opt_text(self.name.as_deref())]
    }
}

/// The outbox row of a `ticket.*` event about ticket `ticket` (an SQL
/// expression of its id, using `?1`…), with the ticket as the batch left
/// it and, for `ticket.updated`, `changed` (field names). Put it after the statements it describes.
fn event_statement(
    db: &D1Database,
    kind: EventType,
    ticket: &str,
    binds: &[JsValue],
    changed: &[&str],
) -> worker::Result<(D1PreparedStatement, String)> {
    let id = crate::events::new_id();
    let n = binds.len();
    let updated = kind == EventType::TicketUpdated;
    let changed_json = if updated { format!(", 'changed', json(?{})", n + 3) } else { String::new() };
    let mut values = [binds.to_vec(), vec![text(&id), text(kind.as_str())]].concat();
    if updated {
        values.push(text(&serde_json::to_string(changed)?));
    }
    let statement = db
        .prepare(format!(
            "INSERT INTO outbox (id, account_id, type, conversation_id, data) \
             SELECT ?{a}, t.account_id, ?{b}, t.conversation_id, json_object('ticket', {TICKET_JSON}{changed_json}) \
             FROM tickets t WHERE t.id = {ticket}",
            a = n + 1,
            b = n + 2,
        ))
        .bind(&values)?;
    Ok((statement, id))
}

/// What [`create`] stores.
#[derive(Debug, Clone)]
pub struct NewTicketRow<'a> {
    pub account_id: i64,
    pub site_id: i64,
    pub visitor_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub subject: &'a str,
    /// The operator who makes it.
    pub creator: &'a ActorRef,
}

/// Makes a ticket of `account_id` with the account's next reference, its
/// `created` timeline entry and its `ticket.created` event, in one batch
/// (a transaction: two tickets made at once never share a number).
/// Answers the ticket and the event id; `None` when `site_id` is not a
/// site of the account, or `visitor_id` not a visitor of that site
/// (nothing stored but the counter, whose numbers may skip).
pub async fn create(db: &D1Database, new: &NewTicketRow<'_>) -> worker::Result<Option<(Ticket, String)>> {
    // The ticket this batch made: the account's latest reference.
    let current =
        format!("(SELECT id FROM tickets WHERE account_id = ?1 AND reference = '{REFERENCE_PREFIX}' || (SELECT last_number FROM ticket_counters WHERE account_id = ?1))");
    let account = [int(new.account_id)];
    let (event, event_id) = event_statement(db, EventType::TicketCreated, &current, &account, &[])?;
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO ticket_counters (account_id, last_number) VALUES (?1, ?2) \
                 ON CONFLICT (account_id) DO UPDATE SET last_number = last_number + 1",
            )
            .bind(&[int(new.account_id), int(FIRST_NUMBER)])?,
            db.prepare(format!(
                "INSERT INTO tickets (account_id, site_id, visitor_id, conversation_id, reference, subject, created_by) \
                 SELECT ?1, s.id, ?3, ?4, '{REFERENCE_PREFIX}' || (SELECT last_number FROM ticket_counters WHERE account_id = ?1), ?5, ?6 \
                 FROM sites s WHERE s.id = ?2 AND s.account_id = ?1 \
                 AND (?3 IS NULL OR EXISTS (SELECT 1 FROM visitors v WHERE v.id = ?3 AND v.site_id = s.id)) RETURNING {TICKET_COLUMNS}"
            ))
            .bind(&[
                int(new.account_id),
                int(new.site_id),
                opt_int(new.visitor_id),
                opt_int(new.conversation_id),
                text(new.subject),
                int(new.creator.id),
            ])?,
            db.prepare(format!(
                "INSERT INTO ticket_events (ticket_id, kind, actor_kind, actor_id, actor_name, to_status) \
                 SELECT t.id, 'created', ?2, ?3, ?4, t.status FROM tickets t WHERE t.id = {current}"
            ))
            .bind(&[account.to_vec(), new.creator.binds().to_vec()].concat())?,
            event,
        ])
        .await?;
    let ticket = results.get(1).map(|r| r.results::<Ticket>()).transpose()?.and_then(|mut rows| rows.pop());
    Ok(ticket.map(|t| (t, event_id)))
}

/// A change of a ticket; [`change`] applies it.
#[derive(Debug, Clone, Default)]
pub struct TicketUpdate {
    pub status: Option<TicketStatus>,
    pub note: Option<String>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<i64>>,
}

impl TicketUpdate {
    /// The field names this update changes on `ticket` (`status`,
    /// `assignee_id`, `note`); empty when it changes nothing.
    pub fn changed(&self, ticket: &Ticket) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.status.is_some_and(|s| s != ticket.status) {
            changed.push("status");
        }
        if self.assignee.is_some_and(|a| a != ticket.assignee_id) {
            changed.push("assignee_id");
        }
        if self.note.is_some() {
            changed.push("note");
        }
        changed
    }
}

/// Applies `update` to ticket `ticket` (as read just before, of its
/// account) in one batch: a `status` timeline entry (with the note) when
/// the status changes, an `assigned` one when the assignee changes, a
/// `note` one for a note without a status change, the update itself
/// (`updated_at`), and a `ticket.updated` event. Answers the ticket after
/// and the event id; `None` when nothing changes (nothing is stored).
pub async fn change(db: &D1Database, ticket: &Ticket, actor: &ActorRef, update: &TicketUpdate) -> worker::Result<Option<(Ticket, String)>> {
    let changed = update.changed(ticket);
    if changed.is_empty() {
        return Ok(None);
    }
    let id = int(ticket.id);
    let [kind, actor_id, name] = actor.binds();
    let status = opt_text(update.status.map(TicketStatus::as_str));
    let assignee = opt_int(update.assignee.flatten());
    let note = opt_text(update.note.as_deref());
    // Entries first, so that they read the status before the change.
    // ?1 ticket, ?2..?4 actor, then each statement's own values.
    let entry = |columns: &str, guard: &str, values: Vec<JsValue>| {
        db.prepare(format!(
            "INSERT INTO ticket_events (ticket_id, actor_kind, actor_id, actor_name, kind, from_status, to_status, note, assignee_id) \
             SELECT id, ?2, ?3, ?4, {columns} FROM tickets WHERE id = ?1{guard}"
        ))
        .bind(&[vec![id.clone(), kind.clone(), actor_id.clone(), name.clone()], values].concat())
    };
    let mut batch = Vec::new();
    if changed.contains(&"status") {
        batch.push(entry("'status', status, ?5, ?6, NULL", " AND status IS NOT ?5", vec![status.clone(), note.clone()])?);
    } else if update.note.is_some() {
        batch.push(entry("'note', NULL, status, ?5, NULL", "", vec![note.clone()])?);
    }
    if changed.contains(&"assignee_id") {
        batch.push(entry(
            "'assigned', NULL, COALESCE(?5, status), NULL, ?6",
            " AND assignee_id IS NOT ?6",
            vec![status.clone(), assignee.clone()],
        )?);
    }
    let update_statement = match update.assignee {
        Some(_) => db
            .prepare(format!(
                "UPDATE tickets SET status = COALESCE(?2, status), assignee_id = ?3, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 RETURNING {TICKET_COLUMNS}"
            ))
            .bind(&[id.clone(), status, assignee])?,
        None => db
            .prepare(format!(
                "UPDATE tickets SET status = COALESCE(?2, status), \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 RETURNING {TICKET_COLUMNS}"
            ))
            .bind(&[id.clone(), status])?,
    };
    batch.push(update_statement);
    let updated = batch.len() - 1;
    let (event, event_id) = event_statement(db, EventType::TicketUpdated, "?1", &[id], &changed)?;
    batch.push(event);
    let results = db.batch(batch).await?;
    let after = results.get(updated).map(|r| r.results::<Ticket>()).transpose()?.and_then(|mut rows| rows.pop());
    Ok(after.map(|t| (t, event_id)))
}

/// Seconds until ticket `ticket_id` may be asked about again (one
/// `clarify` per [`CLARIFY_EVERY_SECONDS`]; `None` when it may now), and
/// how many times it was asked: the count names the next ask, so that asks
/// that race past the wait are one message and one timeline entry
/// ([`record_clarify`], the message's client id).
pub async fn clarify_wait(db: &D1Database, ticket_id: i64) -> worker::Result<(Option<i64>, i64)> {
    #[derive(Deserialize)]
    struct Wait {
        wait: Option<i64>,
        asked: i64,
    }
    let row = db
        .prepare(format!(
            "SELECT CASE WHEN MAX(at) > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-{CLARIFY_EVERY_SECONDS} seconds') \
             THEN CAST({CLARIFY_EVERY_SECONDS} - (julianday('now') - julianday(MAX(at))) * 86400 AS INTEGER) + 1 END AS wait, \
             COUNT(*) AS asked FROM ticket_events WHERE ticket_id = ?1 AND kind = 'clarify'"
        ))
        .bind(&[int(ticket_id)])?
        .first::<Wait>(None)
        .await?;
    Ok(row.map_or((None, 0), |w| (w.wait, w.asked)))
}

/// How often a user may ask about one ticket's status (`clarify`), in
/// seconds: every 10 minutes. Each ask is a chat message, a timeline entry,
/// a `ticket.updated` webhook and a live event for the team.
pub const CLARIFY_EVERY_SECONDS: i64 = 600;

/// A `clarify` timeline entry by the ticket's user and its `ticket.updated`
/// event (`changed`: `["clarify"]`), unless the ticket was asked about more
/// than `asked` times by now (a racing ask recorded it: nothing then);
/// answers the event id when recorded.
pub async fn record_clarify(db: &D1Database, ticket_id: i64, actor: &ActorRef, asked: i64) -> worker::Result<Option<String>> {
    // Each statement after the entry's insert acts only when the one before changed a row.
    let (event, event_id) = event_statement(db, EventType::TicketUpdated, "?1 AND changes() > 0", &[int(ticket_id)], &["clarify"])?;
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO ticket_events (ticket_id, kind, actor_kind, actor_id, actor_name, to_status) \
                 SELECT id, 'clarify', ?2, ?3, ?4, status FROM tickets WHERE id = ?1 \
                 AND (SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?1 AND kind = 'clarify') = ?5",
            )
            .bind(&[vec![int(ticket_id)], actor.binds().to_vec(), vec![int(asked)]].concat())?,
            db.prepare("UPDATE tickets SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND changes() > 0")
                .bind(&[int(ticket_id)])?,
            event,
        ])
        .await?;
    let recorded = results.first().and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).is_some_and(|n| n > 0);
    Ok(recorded.then_some(event_id))
}

/// Ticket `id` of `account_id`.
pub async fn by_id(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<Ticket>> {
    db.prepare(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1 AND account_id = ?2"))
        .bind(&[int(id), int(account_id)])?
        .first(None)
        .await
}

/// A page of `account_id`'s tickets, newest first, after ticket id
/// `before` (the cursor): at most `limit` and whether more follow.
/// `assignee` is resolved (`Some(None)` = unassigned).
pub async fn list(
    db: &D1Database,
    account_id: i64,
    status: Option<TicketStatus>,
    assignee: Option<Option<i64>>,
    site_id: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> worker::Result<(Vec<Ticket>, bool)> {
    let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE account_id = ?1");
    let mut binds = vec![int(account_id)];
    let mut param = |sql: &mut String, clause: &str, value: JsValue| {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", binds.len())));
    };
    if let Some(status) = status {
        param(&mut sql, " AND status = ?", text(status.as_str()));
    }
    match assignee {
        Some(Some(id)) => param(&mut sql, " AND assignee_id = ?", int(id)),
        Some(None) => sql.push_str(" AND assignee_id IS NULL"),
        None => {}
    }
    if let Some(site_id) = site_id {
        param(&mut sql, " AND site_id = ?", int(site_id));
    }
    if let Some(before) = before {
        param(&mut sql, " AND id < ?", int(before));
    }
    param(&mut sql, " ORDER BY id DESC LIMIT ?", int(i64::from(limit) + 1));
    let rows: Vec<Ticket> = db.prepare(sql).bind(&binds)?.all().await?.results()?;
    Ok(super::page_of(rows, limit))
}

#[derive(Debug, Deserialize)]
struct EntryRow {
    id: i64,
    at: String,
    kind: TimelineKind,
    actor_kind: ActorKind,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    from_status: Option<TicketStatus>,
    to_status: TicketStatus,
    assignee_id: Option<i64>,
    note: Option<String>,
}

impl EntryRow {
    fn into_entry(self) -> TimelineEntry {
        TimelineEntry {
            id: self.id,
            at: self.at,
            kind: self.kind,
            actor: Actor { kind: self.actor_kind, id: self.actor_id, name: self.actor_name },
            from_status: self.from_status,
            to_status: self.to_status,
            assignee_id: self.assignee_id,
            note: self.note,
        }
    }
}

/// The timeline of ticket `id`, oldest first.
pub async fn timeline(db: &D1Database, id: i64) -> worker::Result<Vec<TimelineEntry>> {
    let rows: Vec<EntryRow> = db
        .prepare(
            "SELECT id, at, kind, actor_kind, actor_id, actor_name, from_status, to_status, assignee_id, note \
             FROM ticket_events WHERE ticket_id = ?1 ORDER BY id",
        )
        .bind(&[int(id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(EntryRow::into_entry).collect())
}

/// A user's ticket row with `rated`.
#[derive(Debug, Deserialize)]
struct AppTicketRow {
    id: i64,
    reference: String,
    subject: String,
    status: TicketStatus,
    conversation_id: Option<i64>,
    created_at: String,
    updated_at: String,
    rated: i64,
}

impl AppTicketRow {
    fn into_ticket(self) -> AppTicket {
        AppTicket {
            id: self.id,
            reference: self.reference,
            subject: self.subject,
            status: self.status,
            conversation_id: self.conversation_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            rated: self.rated != 0,
        }
    }
}

/// `?1` the site, `?2` the user's visitor id.
const APP_SELECT: &str = "SELECT t.id, t.reference, t.subject, t.status, t.conversation_id, t.created_at, t.updated_at, \
    EXISTS (SELECT 1 FROM ticket_ratings r WHERE r.ticket_id = t.id AND r.visitor_id = ?2) AS rated \
    FROM tickets t WHERE t.site_id = ?1 AND t.visitor_id = ?2";

/// The tickets of the user `visitor_id` of `site_id`, newest first, at
/// most `limit`; with `reference`, only those whose reference contains it
/// (any case; the caller bounds it to letters, digits and `-`).
pub async fn of_user(
    db: &D1Database,
    site_id: i64,
    visitor_id: i64,
    reference: Option<&str>,
    limit: u32,
) -> worker::Result<Vec<AppTicket>> {
    let rows: Vec<AppTicketRow> = db
        .prepare(format!("{APP_SELECT} AND (?3 IS NULL OR instr(upper(t.reference), upper(?3)) > 0) ORDER BY t.id DESC LIMIT ?4"))
        .bind(&[int(site_id), int(visitor_id), opt_text(reference), int(i64::from(limit))])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(AppTicketRow::into_ticket).collect())
}

/// Ticket `id` of the user `visitor_id` of `site_id`, as they see it, and
/// its full row; `None` when it is not theirs.
pub async fn of_user_by_id(db: &D1Database, site_id: i64, visitor_id: i64, id: i64) -> worker::Result<Option<(AppTicket, Ticket)>> {
    let results = db
        .batch(vec![
            db.prepare(format!("{APP_SELECT} AND t.id = ?3")).bind(&[int(site_id), int(visitor_id), int(id)])?,
            db.prepare(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1")).bind(&[int(id)])?,
        ])
        .await?;
    let app = results.first().map(|r| r.results::<AppTicketRow>()).transpose()?.and_then(|mut rows| rows.pop());
    let full = results.get(1).map(|r| r.results::<Ticket>()).transpose()?.and_then(|mut rows| rows.pop());
    Ok(app.zip(full).map(|(app, full)| (app.into_ticket(), full)))
}

/// The open (not closed) ticket of `account_id` made from conversation
/// `conversation_id` with `subject`: a retried `POST /v1/tickets` finds it
/// instead of making a second one.
pub async fn open_from_conversation(
    db: &D1Database,
    account_id: i64,
    conversation_id: i64,
    subject: &str,
) -> worker::Result<Option<Ticket>> {
    db.prepare(format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE account_id = ?1 AND conversation_id = ?2 AND subject = ?3 \
         AND status <> 'closed' ORDER BY id DESC LIMIT 1"
    ))
    .bind(&[int(account_id), int(conversation_id), text(subject)])?
    .first(None)
    .await
}

/// Gives ticket `id` a conversation of its user when it has none: a new
/// conversation of the ticket's site and visitor in `operator` mode (the
/// team answers a ticket, not the AI), with its `conversation.created`
/// event, linked in the same batch (two requests at once make one).
/// Answers the ticket's conversation after; `None` when the ticket has no
/// user to talk to.
pub async fn ensure_conversation(db: &D1Database, id: i64) -> worker::Result<Option<i64>> {
    db.batch(vec![
        db.prepare(format!(
            "INSERT INTO conversations (id, account_id, site_id, visitor_id, mode) \
             SELECT {}, t.account_id, t.site_id, t.visitor_id, 'operator' FROM tickets t \
             WHERE t.id = ?1 AND t.conversation_id IS NULL AND t.visitor_id IS NOT NULL",
            super::next_id("conversations")
        ))
        .bind(&[int(id)])?,
        crate::events::created_statement(db)?.0,
        db.prepare(
            "UPDATE tickets SET conversation_id = (SELECT last_id FROM id_sequences WHERE name = 'conversations') \
             WHERE id = ?1 AND conversation_id IS NULL AND visitor_id IS NOT NULL",
        )
        .bind(&[int(id)])?,
    ])
    .await?;
    db.prepare("SELECT conversation_id FROM tickets WHERE id = ?1")
        .bind(&[int(id)])?
        .first::<Option<i64>>(Some("conversation_id"))
        .await
        .map(Option::flatten)
}

//! The event bus (issue 13): the transactional outbox, its publication on
//! the `EVENTS` queue, and the queue consumers.
//!
//! A change and its event are one D1 batch: the handler adds
//! [`Record::statement`] to the batch that makes the change (right after the
//! statement it describes), then calls [`publish`] with the event ids, or
//! [`publish_conversation`] / [`spawn_publish`] (the Room, off its live
//! path) for the unpublished events of the conversation. A crash between
//! the two leaves the row unpublished; the sweep
//! ([`sweep`], on the cron trigger and on each consumer batch) publishes it
//! again, so no event is lost and consumers dedupe by `id`.

use edgechat_shared::api::integrations::{BusEvent, EventType};
use edgechat_shared::api::ChatMessage;
use worker::{D1Database, D1PreparedStatement, Env, MessageExt};

use crate::db::{int, opt_int, opt_text, text};

/// A new event id: `evt_` + 32 random hex digits.
pub fn new_id() -> String {
    format!("evt_{}", crate::auth::random_hex(16))
}

/// Which message an event is about.
#[derive(Debug, Clone, Copy)]
pub enum MessageRef {
    /// None (conversation, rating and contact events).
    None,
    /// Message `id`.
    #[allow(dead_code)]
    Id(i64),
    /// The conversation's newest message (`ORDER BY seq DESC`): the one the
    /// preceding `INSERT` of the batch stored.
    Newest,
}

/// One outbox row to write in the batch of the change it describes.
#[derive(Debug, Clone)]
pub struct Record {
    /// Event id ([`new_id`]); pass it to [`publish`] after the batch.
    pub id: String,
    pub kind: EventType,
    /// The conversation the change belongs to: the event's account is its account.
    pub conversation_id: i64,
    pub message: MessageRef,
    /// JSON extras known at write time, merged into the event's `data`.
    pub data: Option<serde_json::Value>,
    /// Write the row only when the batch's preceding statement changed a
    /// row (SQLite `changes() > 0`): an `INSERT … ON CONFLICT DO NOTHING`
    /// that stored nothing, or an `UPDATE` that matched nothing, emits no
    /// event. The statement must directly follow that one in the batch.
    pub only_if_changed: bool,
}

impl Record {
    /// An event about conversation `conversation_id`, with a fresh id.
    pub fn new(kind: EventType, conversation_id: i64) -> Record {
        Record { id: new_id(), kind, conversation_id, message: MessageRef::None, data: None, only_if_changed: false }
    }

    /// The same event about `message`.
    pub fn message(mut self, message: MessageRef) -> Record {
        self.message = message;
        self
    }

    /// The same event with JSON extras `data`.
    #[allow(dead_code)]
    pub fn data(mut self, data: serde_json::Value) -> Record {
        self.data = Some(data);
        self
    }

    /// The same event, written only if the preceding statement changed a row.
    pub fn only_if_changed(mut self) -> Record {
        self.only_if_changed = true;
        self
    }

    /// The `INSERT INTO outbox` statement. The account is the
    /// conversation's; nothing is written for a conversation that does not
    /// exist.
    pub fn statement(&self, db: &D1Database) -> worker::Result<D1PreparedStatement> {
        let message = match self.message {
            MessageRef::None => "NULL",
            MessageRef::Id(_) => "?4",
            MessageRef::Newest => "(SELECT id FROM messages WHERE conversation_id = ?3 ORDER BY seq DESC LIMIT 1)",
        };
        let guard = if self.only_if_changed { " AND changes() > 0" } else { "" };
        let message_id = match self.message {
            MessageRef::Id(id) => Some(id),
            _ => None,
        };
        let data = self.data.as_ref().map(serde_json::to_string).transpose()?;
        db.prepare(format!(
            "INSERT INTO outbox (id, account_id, type, conversation_id, message_id, data) \
             SELECT ?1, c.account_id, ?2, c.id, {message}, ?5 FROM conversations c WHERE c.id = ?3{guard} \
             RETURNING {WRITTEN_COLUMNS}"
        ))
        .bind(&[
            text(&self.id),
            text(self.kind.as_str()),
            int(self.conversation_id),
            opt_int(message_id),
            opt_text(data.as_deref()),
        ])
    }
}

/// An outbox row as the `RETURNING` of [`Record::statement`] answers it:
/// what a writer that holds the changed row needs to render the event's
/// body itself ([`message_created`]).
#[derive(Debug, Clone)]
pub struct Written {
    pub id: String,
    pub account_id: i64,
    pub created_at: String,
}

const WRITTEN_COLUMNS: &str = "id, account_id, created_at";

impl Written {
    /// The row as D1 answers it (read as JSON: no decoder of its own).
    pub fn from_row(row: &serde_json::Value) -> Option<Written> {
        Some(Written {
            id: row["id"].as_str()?.to_string(),
            account_id: row["account_id"].as_i64()?,
            created_at: row["created_at"].as_str()?.to_string(),
        })
    }
}

/// The `conversation.created` event of the conversation the batch's
/// preceding `INSERT INTO conversations` created (the newest id of
/// `id_sequences`); nothing when that statement inserted no row. Answers
/// the statement and the event id.
pub fn created_statement(db: &D1Database) -> worker::Result<(D1PreparedStatement, String)> {
    let id = new_id();
    let statement = db
        .prepare(
            "INSERT INTO outbox (id, account_id, type, conversation_id) SELECT ?1, c.account_id, 'conversation.created', c.id \
             FROM conversations c WHERE c.id = (SELECT last_id FROM id_sequences WHERE name = 'conversations') AND changes() > 0",
        )
        .bind(&[text(&id)])?;
    Ok((statement, id))
}

/// An outbox row as [`publish`] reads it.
#[derive(Debug, serde::Deserialize)]
struct OutboxRow {
    id: String,
    account_id: i64,
    #[serde(rename = "type")]
    kind: String,
    conversation_id: Option<i64>,
    message_id: Option<i64>,
    data: Option<String>,
    created_at: String,
    body: Option<String>,
}

const OUTBOX_COLUMNS: &str = "id, account_id, type, conversation_id, message_id, data, created_at, body";

/// What an `EVENTS` queue message carries: the event id and its account
/// (the body stays in the outbox row).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Published {
    pub id: String,
    pub account_id: i64,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Publishes the outbox rows `ids` (those the batch wrote) on the `EVENTS`
/// queue and stamps `published_at`. Each event's JSON body ([`BusEvent`]) is
/// rendered from the current rows the first time and kept in the row, so a
/// re-publication and every retry of its deliveries send the same bytes. A
/// failure is logged, not answered: the change is stored and the sweep
/// publishes the event later.
pub async fn publish(env: &Env, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = publish_rows(env, Filter::Ids(ids)).await {
        worker::console_error!("publishing events failed (the sweep publishes them later): {e}");
    }
}

/// Publishes the unpublished outbox rows of conversation `conversation_id`
/// (for writers that do not keep the ids of the events their batch wrote).
pub async fn publish_conversation(env: &Env, conversation_id: i64) {
    if let Err(e) = publish_rows(env, Filter::Conversation(conversation_id)).await {
        worker::console_error!("publishing events failed (the sweep publishes them later): {e}");
    }
}

/// Publishes event `written` with the `body` its writer rendered (the Room,
/// which holds the message it stored: [`message_created`]), without
/// waiting: the body is stamped as [`publish_rows`] stamps it (a body
/// stored before by a concurrent publisher stays, and is what every
/// delivery sends) and the event is sent on `EVENTS`. One D1 write and one
/// queue send, where [`spawn_publish`] reads the outbox, the message and
/// its site again (four D1 reads) on the isolate that serves the live
/// path. A failure is logged: the sweep publishes the row later.
pub fn spawn_publish_rendered(env: &Env, written: Written, body: String) {
    let env = env.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // After a timer turn: the broadcast's frames and the sender's
        // answer leave first, not behind this task's CPU.
        worker::Delay::from(std::time::Duration::ZERO).await;
        let id = written.id.clone();
        if let Err(e) = publish_rows(&env, Filter::Rendered(written, body)).await {
            worker::console_error!("publishing event {id} failed (the sweep publishes it later): {e}");
        }
    });
}

/// The statement that keeps `body` as event `id`'s body unless it has one,
/// and stamps `published_at` unless it was published; `again` (the sweep's
/// re-publication) stamps it now, so that a row waiting in a slow queue is
/// sent again at most once per stale window ([`Filter::Stale`]), not by
/// every consumer batch's sweep.
fn stamp(db: &D1Database, id: &str, body: &str, again: bool) -> worker::Result<D1PreparedStatement> {
    let sql = match again {
        true => "UPDATE outbox SET body = COALESCE(body, ?2), published_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        false => {
            "UPDATE outbox SET body = COALESCE(body, ?2), published_at = COALESCE(published_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) \
             WHERE id = ?1"
        }
    };
    db.prepare(sql).bind(&[text(id), text(body)])
}

/// The JSON body of `message.created` event `written` about `message` of
/// conversation `conversation_id`: the [`BusEvent`] [`render`] makes of
/// the row (`data`: `conversation_id`, `message`), serialized from the
/// message the writer holds instead of read again.
pub fn message_created(written: &Written, conversation_id: i64, message: &ChatMessage) -> serde_json::Result<String> {
    #[derive(serde::Serialize)]
    struct Data<'a> {
        conversation_id: i64,
        message: &'a ChatMessage,
    }
    #[derive(serde::Serialize)]
    struct Body<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        kind: EventType,
        created_at: &'a str,
        account_id: i64,
        data: Data<'a>,
    }
    serde_json::to_string(&Body {
        id: &written.id,
        kind: EventType::MessageCreated,
        created_at: &written.created_at,
        account_id: written.account_id,
        data: Data { conversation_id, message },
    })
}

/// [`publish_conversation`] without waiting for it: the Room's live path
/// answers first (the Durable Object stays alive while it runs; a
/// publication cut short is left to the sweep).
pub fn spawn_publish(env: &Env, conversation_id: i64) {
    let env = env.clone();
    wasm_bindgen_futures::spawn_local(async move { publish_conversation(&env, conversation_id).await });
}

/// Which outbox rows to publish.
enum Filter<'a> {
    Ids(&'a [String]),
    Conversation(i64),
    /// Unprocessed for more than this many seconds, and not published
    /// within them (the sweep's lease).
    Stale(i64),
    /// One `message.created` row its writer rendered: nothing to read.
    Rendered(Written, String),
}

async fn publish_rows(env: &Env, filter: Filter<'_>) -> worker::Result<usize> {
    let db = crate::db::database(env)?;
    let statement = match filter {
        Filter::Rendered(written, body) => {
            let row = OutboxRow {
                id: written.id,
                account_id: written.account_id,
                kind: EventType::MessageCreated.as_str().into(),
                conversation_id: None,
                message_id: None,
                data: None,
                created_at: written.created_at,
                body: Some(body),
            };
            return publish_read(env, &db, vec![row], false).await;
        }
        Filter::Ids(ids) => db
            .prepare(format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY created_at"))
            .bind(&[text(&serde_json::to_string(ids)?)])?,
        Filter::Conversation(id) => db
            .prepare(format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE conversation_id = ?1 AND published_at IS NULL ORDER BY created_at LIMIT 100"
            ))
            .bind(&[int(id)])?,
        // Not published, or not since the window began (a lease: the row
        // may still be waiting in the queue).
        Filter::Stale(seconds) => db
            .prepare(format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE processed_at IS NULL \
                 AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) \
                 AND (published_at IS NULL OR published_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)) ORDER BY created_at LIMIT 100"
            ))
            .bind(&[text(&format!("-{seconds} seconds"))])?,
    };
    let again = matches!(filter, Filter::Stale(_));
    let rows: Vec<OutboxRow> = statement.all().await?.results()?;
    publish_read(env, &db, rows, again).await
}

/// Stamps outbox rows `rows` (rendering the bodies they lack; `again`: see
/// [`stamp`]) and sends them on `EVENTS`; answers how many.
async fn publish_read(env: &Env, db: &D1Database, rows: Vec<OutboxRow>, again: bool) -> worker::Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut stamps = Vec::with_capacity(rows.len());
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        // A row that cannot be rendered is left for the next sweep, not in
        // the way of the rows after it (the sweep takes the oldest first).
        let body = match &row.body {
            Some(body) => body.clone(),
            None => match render(env, db, row).await.and_then(|event| Ok(serde_json::to_string(&event)?)) {
                Ok(body) => body,
                Err(e) => {
                    worker::console_error!("rendering event {} failed (left for the sweep): {e}", row.id);
                    continue;
                }
            },
        };
        // The first rendering stays (COALESCE): a concurrent publisher's
        // body is the one every delivery sends.
        stamps.push(stamp(db, &row.id, &body, again)?);
        messages.push(Published { id: row.id.clone(), account_id: row.account_id, kind: row.kind.clone() });
    }
    if messages.is_empty() {
        return Ok(0);
    }
    let published = messages.len();
    db.batch(stamps).await?;
    env.queue("EVENTS")?.send_batch(messages).await?;
    Ok(published)
}

/// The [`BusEvent`] of outbox row `row`, its `data` built from the current
/// rows (see [`BusEvent`]) merged with the row's own `data`.
async fn render(env: &Env, db: &D1Database, row: &OutboxRow) -> worker::Result<BusEvent> {
    let kind = EventType::parse(&row.kind).ok_or_else(|| worker::Error::RustError(format!("unknown event type {}", row.kind)))?;
    let mut data = serde_json::Map::new();
    data.insert("conversation_id".into(), row.conversation_id.into());
    let conversation = row.conversation_id.unwrap_or_default();
    match kind {
        EventType::MessageCreated | EventType::MessageUpdated => {
            let message = match row.message_id {
                Some(id) => crate::db::edits::by_id(db, id).await?,
                None => None,
            };
            let message = match message {
                Some(message) => {
                    let links = match conversation_site(db, conversation).await? {
                        Some(site) => crate::db::messages::FileLinks::of(&site),
                        None => crate::db::messages::FileLinks::internal(&crate::auth::jwt::secret(env).unwrap_or_default()),
                    };
                    serde_json::to_value(message.to_chat_message(&links))?
                }
                None => serde_json::Value::Null,
            };
            data.insert("message".into(), message);
        }
        EventType::ConversationCreated | EventType::ConversationUpdated => {
            #[derive(serde::Deserialize)]
            struct State {
                status: String,
                mode: String,
                assignee_id: Option<i64>,
            }
            let state: Option<State> = db
                .prepare("SELECT status, mode, assignee_id FROM conversations WHERE id = ?1")
                .bind(&[int(conversation)])?
                .first(None)
                .await?;
            if let Some(state) = state {
                data.insert("status".into(), state.status.into());
                data.insert("mode".into(), state.mode.into());
                data.insert("assignee_id".into(), state.assignee_id.into());
            }
            data.insert("changed".into(), serde_json::Value::Array(Vec::new()));
        }
        EventType::RatingCreated => {
            #[derive(serde::Deserialize)]
            struct Rating {
                score: i64,
                comment: Option<String>,
            }
            let rating: Option<Rating> =
                db.prepare("SELECT score, comment FROM ratings WHERE conversation_id = ?1").bind(&[int(conversation)])?.first(None).await?;
            data.insert("score".into(), rating.as_ref().map(|r| r.score).into());
            data.insert("comment".into(), rating.and_then(|r| r.comment).into());
        }
        // The ticket as the change left it is the row's own `data` (db::tickets).
        EventType::TicketCreated | EventType::TicketUpdated => {}
        EventType::ContactUpdated => {
            #[derive(serde::Deserialize, serde::Serialize)]
            struct Contact {
                #[serde(skip_serializing)]
                visitor_id: i64,
                name: Option<String>,
                email: Option<String>,
                phone: Option<String>,
                user_id: Option<String>,
                verified: bool,
            }
            #[derive(serde::Deserialize)]
            struct ContactRow {
                visitor_id: i64,
                name: Option<String>,
                email: Option<String>,
                phone: Option<String>,
                user_id: Option<String>,
                verified: i64,
            }
            let contact: Option<ContactRow> = db
                .prepare(
                    "SELECT v.id AS visitor_id, v.name, v.email, v.phone, v.user_id, v.verified FROM conversations c \
                     JOIN visitors v ON v.id = c.visitor_id WHERE c.id = ?1",
                )
                .bind(&[int(conversation)])?
                .first(None)
                .await?;
            if let Some(c) = contact {
                let contact = Contact {
                    visitor_id: c.visitor_id,
                    name: c.name,
                    email: c.email,
                    phone: c.phone,
                    user_id: c.user_id,
                    verified: c.verified != 0,
                };
                data.insert("visitor_id".into(), contact.visitor_id.into());
                data.insert("contact".into(), serde_json::to_value(&contact)?);
            }
        }
    }
    if let Some(serde_json::Value::Object(extra)) = row.data.as_deref().map(serde_json::from_str).transpose()? {
        data.extend(extra);
    }
    Ok(BusEvent {
        id: row.id.clone(),
        kind,
        created_at: row.created_at.clone(),
        account_id: row.account_id,
        data: serde_json::Value::Object(data),
    })
}

/// The site of conversation `id` (`None` for internal conversations).
async fn conversation_site(db: &D1Database, id: i64) -> worker::Result<Option<crate::db::sites::SiteRow>> {
    let site_id =
        db.prepare("SELECT site_id FROM conversations WHERE id = ?1").bind(&[int(id)])?.first::<Option<i64>>(Some("site_id")).await?;
    match site_id.flatten() {
        Some(site_id) => crate::db::sites::by_id(db, site_id).await,
        None => Ok(None),
    }
}

/// How long an event or a delivery may wait before the sweep sends it
/// again, in seconds, unless the var `BUS_SWEEP_AFTER_SECONDS` says
/// otherwise (the restart test lowers it).
pub const STALE_SECONDS: i64 = 30;

fn stale_seconds(env: &Env) -> i64 {
    seconds_var(env, "BUS_SWEEP_AFTER_SECONDS", STALE_SECONDS)
}

/// A number of seconds (at least 1) from the worker var `name` (tests set
/// some lower), else `default`.
pub(crate) fn seconds_var(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name).ok().and_then(|v| v.to_string().trim().parse().ok()).unwrap_or(default).max(1)
}

/// Publishes every outbox row left unprocessed for [`STALE_SECONDS`] (a
/// crash between a write and its publication, or a lost queue message) and
/// enqueues again every webhook delivery overdue as long (e.g. a local
/// queue lost across a `wrangler dev` restart) and every email whose queue
/// message was lost ([`crate::email::sweep`]), and deletes expired app
/// sessions and uploads no message holds after a day
/// ([`crate::routes::widget::uploads::sweep_unattached`]). Runs from the cron trigger
/// and after each consumer batch (`wrangler dev` fires no crons by itself).
pub async fn sweep(env: &Env) {
    let stale = stale_seconds(env);
    if let Err(e) = publish_rows(env, Filter::Stale(stale)).await {
        worker::console_error!("sweeping the outbox failed: {e}");
    }
    if let Err(e) = crate::webhooks::sweep(env, stale).await {
        worker::console_error!("sweeping webhook deliveries failed: {e}");
    }
    if let Err(e) = crate::email::sweep(env).await {
        worker::console_error!("sweeping queued emails failed: {e}");
    }
    if let Err(e) = crate::push::sweep(env, stale).await {
        worker::console_error!("sweeping push deliveries and old diagnostics failed: {e}");
    }
    if let Err(e) = crate::routes::widget::uploads::sweep_unattached(env).await {
        worker::console_error!("sweeping unattached uploads failed: {e}");
    }
    let expired_sessions = match crate::db::database(env) {
        Ok(db) => crate::db::app_sessions::sweep(&db).await,
        Err(e) => Err(e),
    };
    if let Err(e) = expired_sessions {
        worker::console_error!("sweeping expired app sessions failed: {e}");
    }
}

/// Queue names (`[[queues.consumers]]` in `wrangler.toml`).
pub const EVENTS_QUEUE: &str = "edgechat-events";
/// Webhook deliveries, one queue message per (event, endpoint).
pub const DELIVERIES_QUEUE: &str = "edgechat-deliveries";
/// Outgoing email (transcripts, notifications).
pub const EMAIL_QUEUE: &str = "edgechat-email";

/// The queue consumer: dispatches a batch by the queue it came from.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: Env) -> worker::Result<()> {
    match batch.queue().as_str() {
        EVENTS_QUEUE => fan_out(batch, &env).await,
        DELIVERIES_QUEUE => crate::webhooks::consume(batch, &env).await,
        EMAIL_QUEUE => crate::email::consume(batch, &env).await,
        crate::push::PUSH_QUEUE => crate::push::consume(batch, &env).await,
        other => {
            worker::console_error!("message batch from an unknown queue {other}");
            batch.retry_all();
            Ok(())
        }
    }
}

/// Consumes `EVENTS`: one delivery per (event, subscribed endpoint),
/// enqueued on `DELIVERIES`, for the whole batch in one D1 statement
/// (`webhook_deliveries` is unique per pair, so a re-published event gets
/// no second delivery; a batch of 59 events one statement each kept the
/// isolate busy 130 ms, issue 16); then each event's push notifications
/// ([`crate::push::fan_out`]), read only for an event that may push; then
/// stamps `processed_at` of every event fanned out, in one D1 statement
/// for the batch, and acknowledges them. When the batch's deliveries fail,
/// every message is retried; a message whose push fails is retried alone;
/// when the stamp fails the whole batch is. A second fan-out adds nothing
/// (deliveries and pushes are unique per event).
async fn fan_out(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    let db = crate::db::database(env)?;
    let max_attempts = crate::webhooks::max_attempts(env);
    let mut events = Vec::new();
    for message in batch.messages()? {
        match serde_json::from_value::<Published>(message.body().clone()) {
            Ok(event) => events.push((event, message)),
            Err(e) => {
                worker::console_error!("dropping a malformed EVENTS message: {e}");
                message.ack();
            }
        }
    }
    let refs: Vec<&str> = events.iter().map(|(event, _)| event.id.as_str()).collect();
    let fanned: worker::Result<_> = async {
        let fanned = crate::db::webhooks::fan_out(&db, &refs, max_attempts).await?;
        crate::webhooks::enqueue(env, &fanned.due).await?;
        Ok(fanned.may_push)
    }
    .await;
    let may_push = match fanned {
        Ok(may_push) => may_push,
        Err(e) => {
            worker::console_error!("fanning out {} events failed: {e}", events.len());
            events.iter().for_each(|(_, message)| message.retry());
            sweep(env).await;
            return Ok(());
        }
    };
    let mut processed = Vec::new();
    for (event, message) in events {
        let done = match event.kind.as_str() == "message.created" && !may_push.contains(&event.id) {
            true => Ok(()),
            false => crate::push::fan_out(env, &db, &event).await,
        };
        match done {
            Ok(()) => processed.push((event.id, message)),
            Err(e) => {
                worker::console_error!("fanning out event {} failed: {e}", event.id);
                message.retry();
            }
        }
    }
    if !processed.is_empty() {
        let ids: Vec<String> = processed.iter().map(|(id, _)| id.clone()).collect();
        let ids = serde_json::to_string(ids.as_slice())?;
        let stamped = db
            .prepare(
                "UPDATE outbox SET processed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 WHERE id IN (SELECT value FROM json_each(?1)) AND processed_at IS NULL",
            )
            .bind(&[text(&ids)])?
            .run()
            .await;
        if let Err(e) = &stamped {
            worker::console_error!("stamping {} events processed failed: {e}", processed.len());
        }
        for (_, message) in processed {
            match &stamped {
                Ok(_) => message.ack(),
                Err(_) => message.retry(),
            }
        }
    }
    sweep(env).await;
    Ok(())
}

//! Outgoing webhook endpoints, their deliveries (one per endpoint and
//! event, `UNIQUE (endpoint_id, event_id)`) and the log of delivery
//! attempts (issue 13, migration 0019).

use edgechat_shared::api::integrations::{DeliveryOutcome, EventType, WebhookDelivery, WebhookEndpoint};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::{int, opt_int, opt_text, text};

/// Most endpoints per account (issue 13).
pub const MAX_ENDPOINTS: i64 = edgechat_shared::api::integrations::MAX_WEBHOOK_ENDPOINTS as i64;

#[derive(Debug, Deserialize)]
struct EndpointRow {
    id: i64,
    url: String,
    events: String,
    description: Option<String>,
    disabled: i64,
    created_at: String,
}

impl EndpointRow {
    fn into_endpoint(self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id,
            url: self.url,
            events: serde_json::from_str::<Vec<String>>(&self.events)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| EventType::parse(s))
                .collect(),
            description: self.description,
            disabled: self.disabled != 0,
            created_at: self.created_at,
            secret: None,
        }
    }
}

const ENDPOINT_COLUMNS: &str = "id, url, events, description, disabled, created_at";

/// The stored form of an event filter: a JSON array of wire names.
fn events_json(events: &[EventType]) -> String {
    let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// A nullable SQLite boolean (0/1).
fn flag(value: Option<bool>) -> JsValue {
    opt_int(value.map(i64::from))
}

/// Adds an endpoint to `account_id` unless it has [`MAX_ENDPOINTS`]
/// already (`None` then). The answer carries no secret.
pub async fn insert(
    db: &D1Database,
    account_id: i64,
    url: &str,
    events: &[EventType],
    description: Option<&str>,
    secret: &str,
) -> worker::Result<Option<WebhookEndpoint>> {
    let row: Option<EndpointRow> = db
        .prepare(format!(
            "INSERT INTO webhook_endpoints (account_id, url, events, description, secret) \
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = ?1) < ?6 \
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&[int(account_id), text(url), text(&events_json(events)), opt_text(description), text(secret), int(MAX_ENDPOINTS)])?
        .first(None)
        .await?;
    Ok(row.map(EndpointRow::into_endpoint))
}

/// Every endpoint of `account_id`, oldest first.
pub async fn list(db: &D1Database, account_id: i64) -> worker::Result<Vec<WebhookEndpoint>> {
    let rows: Vec<EndpointRow> = db
        .prepare(format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE account_id = ?1 ORDER BY id"))
        .bind(&[int(account_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(EndpointRow::into_endpoint).collect())
}

/// Endpoint `id` of `account_id`, if any.
pub async fn get(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<WebhookEndpoint>> {
    let row: Option<EndpointRow> = db
        .prepare(format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1 AND account_id = ?2"))
        .bind(&[int(id), int(account_id)])?
        .first(None)
        .await?;
    Ok(row.map(EndpointRow::into_endpoint))
}

/// Changes the given fields of endpoint `id` of `account_id`; `None` when
/// the account has no such endpoint. Disabling it drops its pending
/// deliveries (events meanwhile are not delivered later).
pub async fn update(
    db: &D1Database,
    account_id: i64,
    id: i64,
    url: Option<&str>,
    events: Option<&[EventType]>,
    description: Option<&str>,
    disabled: Option<bool>,
) -> worker::Result<Option<WebhookEndpoint>> {
    let results = db
        .batch(vec![
            db.prepare(format!(
                "UPDATE webhook_endpoints SET url = COALESCE(?1, url), events = COALESCE(?2, events), \
                 description = COALESCE(?3, description), disabled = COALESCE(?4, disabled) \
                 WHERE id = ?5 AND account_id = ?6 RETURNING {ENDPOINT_COLUMNS}"
            ))
            .bind(&[
                opt_text(url),
                opt_text(events.map(events_json).as_deref()),
                opt_text(description),
                flag(disabled),
                int(id),
                int(account_id),
            ])?,
            db.prepare(
                "UPDATE webhook_deliveries SET state = 'dropped' WHERE state = 'pending' AND endpoint_id = ?1 \
                 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE account_id = ?2 AND disabled = 1)",
            )
            .bind(&[int(id), int(account_id)])?,
        ])
        .await?;
    let row = results.first().map(|r| r.results::<EndpointRow>()).transpose()?.and_then(|mut rows| rows.pop());
    Ok(row.map(EndpointRow::into_endpoint))
}

/// Deletes endpoint `id` of `account_id` with its deliveries and log (so
/// its pending deliveries are dropped); answers whether there was one.
pub async fn delete(db: &D1Database, account_id: i64, id: i64) -> worker::Result<bool> {
    let results = db
        .batch(vec![
            db.prepare(
                "DELETE FROM webhook_attempts WHERE endpoint_id = ?1 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE account_id = ?2)",
            )
            .bind(&[int(id), int(account_id)])?,
            db.prepare(
                "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE account_id = ?2)",
            )
            .bind(&[int(id), int(account_id)])?,
            db.prepare("DELETE FROM webhook_endpoints WHERE id = ?1 AND account_id = ?2").bind(&[int(id), int(account_id)])?,
        ])
        .await?;
    Ok(results.get(2).and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) > 0)
}

#[derive(Debug, Deserialize)]
struct AttemptRow {
    id: i64,
    endpoint_id: i64,
    event_id: String,
    event_type: String,
    attempt: i64,
    outcome: String,
    status_code: Option<i64>,
    latency_ms: Option<i64>,
    error: Option<String>,
    attempted_at: String,
}

impl AttemptRow {
    fn into_delivery(self) -> Option<WebhookDelivery> {
        Some(WebhookDelivery {
            id: self.id,
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            event_type: EventType::parse(&self.event_type)?,
            attempt: u32::try_from(self.attempt).unwrap_or(0),
            outcome: match self.outcome.as_str() {
                "succeeded" => DeliveryOutcome::Succeeded,
                "dead" => DeliveryOutcome::Dead,
                _ => DeliveryOutcome::Failed,
            },
            status_code: self.status_code.and_then(|s| u16::try_from(s).ok()),
            latency_ms: self.latency_ms.and_then(|l| u32::try_from(l).ok()),
            error: self.error,
            attempted_at: self.attempted_at,
        })
    }
}

/// A page of endpoint `endpoint_id`'s delivery log, newest first: at most
/// `limit` attempts with ids below `before` (all when `None`), and whether
/// more follow. The caller checked the endpoint's account.
pub async fn attempts(db: &D1Database, endpoint_id: i64, before: Option<i64>, limit: u32) -> worker::Result<(Vec<WebhookDelivery>, bool)> {
    let rows: Vec<AttemptRow> = db
        .prepare(
            "SELECT a.id, a.endpoint_id, d.event_id, d.event_type, a.attempt, a.outcome, a.status_code, a.latency_ms, a.error, a.attempted_at \
             FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE a.endpoint_id = ?1 AND (?2 IS NULL OR a.id < ?2) ORDER BY a.id DESC LIMIT ?3",
        )
        .bind(&[int(endpoint_id), opt_int(before), int(i64::from(limit) + 1)])?
        .all()
        .await?
        .results()?;
    let (rows, more) = super::page_of(rows, limit);
    Ok((rows.into_iter().filter_map(AttemptRow::into_delivery).collect(), more))
}

/// Sends the delivery of log line `attempt_id` of endpoint `endpoint_id`
/// again: one more attempt, pending now. Answers the delivery id and the
/// number of its next attempt; `None` when the endpoint has no such line.
pub async fn resend(db: &D1Database, endpoint_id: i64, attempt_id: i64) -> worker::Result<Option<(i64, i64)>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        attempts: i64,
    }
    let row: Option<Row> = db
        .prepare(
            "UPDATE webhook_deliveries SET state = 'pending', max_attempts = MAX(max_attempts, attempts + 1), \
             next_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = (SELECT delivery_id FROM webhook_attempts WHERE id = ?1 AND endpoint_id = ?2) RETURNING id, attempts",
        )
        .bind(&[int(attempt_id), int(endpoint_id)])?
        .first(None)
        .await?;
    Ok(row.map(|r| (r.id, r.attempts + 1)))
}

/// A delivery to make: which, and its attempt number (1 for the first).
#[derive(Debug, Clone, Copy, serde::Serialize, Deserialize)]
pub struct Due {
    pub delivery: i64,
    pub attempt: i64,
}

/// The fan-out of a batch of published events, in one D1 round trip
/// whatever the batch's size (up to the `EVENTS` consumer's 100, issue 16):
/// the webhook deliveries it created, and which of its events may push to
/// a device.
#[derive(Debug, Default)]
pub struct FanOut {
    pub due: Vec<Due>,
    /// The `message.created` events whose conversation's visitor has a
    /// device: only those can notify (push), so only they are read again.
    pub may_push: Vec<String>,
}

/// Creates the deliveries of the events of outbox ids `events`: for each event, one per enabled
/// endpoint of its account subscribed to its type, with `max_attempts`
/// tries; none for an event of an internal conversation (staff DMs and
/// groups are for their participants only, not for the account's
/// integrations). Account and type are the outbox row's, not the queue
/// message's. A (endpoint, event) pair made before gets no second
/// delivery; it is answered again while never tried (so a retried batch
/// enqueues what a failed send left out; [`claim`] takes one attempt
/// once). The deliveries are made in the order of `events`. In the same
/// batch (one D1 round trip), finds the events that may push ([`FanOut::may_push`]).
pub async fn fan_out(db: &D1Database, events: &[&str], max_attempts: i64) -> worker::Result<FanOut> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
    }
    #[derive(Deserialize)]
    struct Pushable {
        id: String,
    }
    if events.is_empty() {
        return Ok(FanOut::default());
    }
    let events = serde_json::to_string(events)?;
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, max_attempts) \
                 SELECT e.id, o.id, o.type, ?2 FROM (SELECT key, value AS id FROM json_each(?1)) ev \
                 JOIN outbox o ON o.id = ev.id JOIN webhook_endpoints e ON e.account_id = o.account_id \
                 WHERE e.disabled = 0 \
                 AND (e.events = '[]' OR CASE WHEN json_valid(e.events) \
                   THEN EXISTS (SELECT 1 FROM json_each(e.events) j WHERE j.value = o.type) ELSE 0 END) \
                 AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = o.conversation_id AND c.kind = 'internal') \
                 ORDER BY ev.key, e.id \
                 ON CONFLICT (endpoint_id, event_id) DO UPDATE SET next_at = next_at WHERE state = 'pending' AND attempts = 0 \
                 RETURNING id",
            )
            .bind(&[text(&events), int(max_attempts)])?,
            db.prepare(
                "SELECT o.id FROM outbox o JOIN conversations c ON c.id = o.conversation_id \
                 WHERE o.id IN (SELECT value FROM json_each(?1)) AND o.type = 'message.created' \
                 AND EXISTS (SELECT 1 FROM devices d WHERE d.visitor_id = c.visitor_id)",
            )
            .bind(&[text(&events)])?,
        ])
        .await?;
    let rows = |index: usize| results.get(index).ok_or_else(|| worker::Error::RustError("a statement of the fan-out has no result".into()));
    let mut due: Vec<Due> = rows(0)?.results::<Row>()?.into_iter().map(|r| Due { delivery: r.id, attempt: 1 }).collect();
    due.sort_by_key(|d| d.delivery);
    let may_push = rows(1)?.results::<Pushable>()?.into_iter().map(|p| p.id).collect();
    Ok(FanOut { due, may_push })
}

/// Pending deliveries whose attempt was due more than `stale_seconds` ago
/// (their queue message was lost), at most 100; their `next_at` moves to
/// now so a second sweep does not send them again at once.
pub async fn stale(db: &D1Database, stale_seconds: i64) -> worker::Result<Vec<Due>> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        attempts: i64,
    }
    let rows: Vec<Row> = db
        .prepare(
            "UPDATE webhook_deliveries SET next_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id IN ( \
             SELECT id FROM webhook_deliveries WHERE state = 'pending' \
             AND next_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) \
             AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE disabled = 0) LIMIT 100) RETURNING id, attempts",
        )
        .bind(&[text(&format!("-{stale_seconds} seconds"))])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| Due { delivery: r.id, attempt: r.attempts + 1 }).collect())
}

/// What an attempt needs: where to, the signing secret, the event and its body.
#[derive(Debug, Deserialize)]
pub struct Claimed {
    pub endpoint_id: i64,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub body: Option<String>,
    pub max_attempts: i64,
}

/// Claims attempt `due.attempt` of delivery `due.delivery`: only when the
/// delivery is pending, its endpoint enabled, and that attempt not made yet
/// (a duplicate queue message claims nothing). The claim holds the delivery
/// for `lease_seconds` against the sweep.
pub async fn claim(db: &D1Database, due: Due, lease_seconds: i64) -> worker::Result<Option<Claimed>> {
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE webhook_deliveries SET attempts = ?2, next_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?3) \
                 WHERE id = ?1 AND state = 'pending' AND attempts = ?2 - 1 \
                 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE disabled = 0)",
            )
            .bind(&[int(due.delivery), int(due.attempt), text(&format!("+{lease_seconds} seconds"))])?,
            db.prepare(
                "SELECT e.id AS endpoint_id, e.url, e.secret, d.event_id, o.body, d.max_attempts FROM webhook_deliveries d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id LEFT JOIN outbox o ON o.id = d.event_id \
                 WHERE d.id = ?1 AND changes() > 0",
            )
            .bind(&[int(due.delivery)])?,
        ])
        .await?;
    Ok(results.get(1).map(|r| r.results::<Claimed>()).transpose()?.and_then(|mut rows| rows.pop()))
}

/// One attempt's result, for the log.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub outcome: DeliveryOutcome,
    pub status_code: Option<u16>,
    pub latency_ms: Option<u32>,
    pub error: Option<String>,
}

/// Logs attempt `due.attempt` of delivery `due.delivery` and moves the
/// delivery on: done when succeeded or dead, else due again in
/// `retry_seconds`. A delivery no longer pending (dropped while its
/// attempt was out: the endpoint was disabled) keeps its state, so a
/// failed attempt never brings it back to be sent once re-enabled.
pub async fn record(db: &D1Database, due: Due, endpoint_id: i64, result: &AttemptResult, retry_seconds: i64) -> worker::Result<()> {
    let (outcome, state) = match result.outcome {
        DeliveryOutcome::Succeeded => ("succeeded", "succeeded"),
        DeliveryOutcome::Failed => ("failed", "pending"),
        DeliveryOutcome::Dead => ("dead", "dead"),
    };
    db.batch(vec![
        db.prepare(
            "INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, outcome, status_code, latency_ms, error) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?1)",
        )
        .bind(&[
            int(due.delivery),
            int(endpoint_id),
            int(due.attempt),
            text(outcome),
            opt_int(result.status_code.map(i64::from)),
            opt_int(result.latency_ms.map(i64::from)),
            opt_text(result.error.as_deref()),
        ])?,
        db.prepare(
            "UPDATE webhook_deliveries SET state = ?2, next_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?3) \
             WHERE id = ?1 AND attempts = ?4 AND state = 'pending'",
        )
        .bind(&[int(due.delivery), text(state), text(&format!("+{retry_seconds} seconds")), int(due.attempt)])?,
    ])
    .await?;
    Ok(())
}

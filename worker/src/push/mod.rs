//! Push notifications to signed-in app users who are not watching (issue
//! 14): an operator's reply to one of their conversations
//! (`message.created` of an operator message, setting `chat_messages`) and
//! a change of one of their tickets (`ticket.updated` whose
//! `data.ticket.visitor_id` is the user, setting `ticket_updates`).
//!
//! Through the event bus: the `EVENTS` consumer calls [`fan_out`] for each
//! event, which writes one `push_deliveries` row per (event, device) —
//! unique, so a re-published event pushes nothing twice — and enqueues it
//! on `PUSH`; [`consume`] claims a row, sends it by the device's platform
//! ([`web`] Web Push, [`fcm`] FCM HTTP v1, [`telegram`] the Bot API) and
//! acknowledges. A push service answering 404/410 (the subscription or
//! token is gone) deletes the device; any other failure is retried by the
//! queue with an exponential delay (`PUSH_RETRY_BASE_SECONDS` × 2^(n−1),
//! up to the queue's `max_retries`).
//!
//! "Not watching": the conversation's Room has no open visitor live stream
//! ([`crate::room::Presence`]). The Room is asked at fan-out time because
//! it alone knows its streams (they live in its memory; a stored flag
//! would go stale when an isolate dies without closing them). A user who
//! only polls (`/api/v1/app/conversations/{id}/poll`) has no open stream
//! and is pushed to. It is decided once per event: a stream the client
//! has just closed counts until the Room's side of it ends (when the
//! runtime cancels the response body; in `wrangler dev` that was not seen
//! within seconds), so a reply in that window is not pushed.

pub mod fcm;
pub mod telegram;
pub mod web;

use edgechat_shared::api::devices::Platform;
use futures::future::{select, Either};
use serde::{Deserialize, Serialize};
use worker::{Env, MessageExt, QueueRetryOptionsBuilder};

use crate::db::devices::{self as store, Claimed, NewPush};
use crate::db::{int, text};
use crate::events::Published;
use crate::room::{Presence, RoomContext};

/// The queue of push deliveries (`[[queues.consumers]]` in `wrangler.toml`).
pub const PUSH_QUEUE: &str = "edgechat-push";
/// How long a claimed delivery is held against a duplicate message, in seconds.
const LEASE_SECONDS: i64 = 60;
/// How long a push service may take to answer, per attempt.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The first retry delay in seconds, unless `PUSH_RETRY_BASE_SECONDS` says otherwise.
const DEFAULT_RETRY_BASE_SECONDS: i64 = 30;
/// Longest notification body, in characters (a reply is cut there, with `…`).
const MAX_BODY_CHARS: usize = 200;

/// A `PUSH` queue message: attempt a delivery.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Due {
    pub delivery: i64,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty())
}

/// The worker secret `name` (else the var of that name: local runs), unless blank.
pub fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty()).or_else(|| var(env, name))
}

/// Whether `PUSH_ALLOW_LOCAL = "true"`: Web Push endpoints on `http://127.0.0.1`
/// or `localhost` are accepted (tests only).
pub fn allow_local(env: &Env) -> bool {
    var(env, "PUSH_ALLOW_LOCAL").is_some_and(|v| v == "true")
}

/// The VAPID key (secret `VAPID_PRIVATE_KEY`, var `VAPID_SUBJECT`); `None` when not configured.
pub async fn vapid(env: &Env) -> Option<web::Vapid> {
    let subject = var(env, "VAPID_SUBJECT").unwrap_or_else(|| "mailto:support@example.com".into());
    web::Vapid::new(&secret(env, "VAPID_PRIVATE_KEY")?, &subject).await
}

/// The public VAPID key browsers subscribe with (`applicationServerKey`), if configured.
pub async fn vapid_public_key(env: &Env) -> Option<String> {
    vapid(env).await.map(|v| v.public_key())
}

/// What to notify, and whom.
struct Notice {
    visitor_id: i64,
    conversation: Option<RoomContext>,
    chat: bool,
    title: String,
    body: String,
    data: serde_json::Map<String, serde_json::Value>,
}

/// Writes and enqueues the pushes of bus event `event` (nothing for events
/// that notify nobody, users with the kind turned off or no devices, and
/// users with an open live stream on the conversation). Errors are D1's or
/// the queue's: the `EVENTS` message is retried, and rows already written
/// are not written again.
pub async fn fan_out(env: &Env, db: &worker::D1Database, event: &Published) -> worker::Result<()> {
    let notice = match event.kind.as_str() {
        "message.created" => reply_notice(db, &event.id).await?,
        "ticket.updated" => ticket_notice(db, &event.id, event.account_id).await?,
        _ => None,
    };
    let Some(notice) = notice else { return Ok(()) };
    // Most visitors have no device: that one read ends it for them.
    if !store::has_devices(db, notice.visitor_id).await? {
        return Ok(());
    }
    let settings = store::settings(db, notice.visitor_id).await?;
    if !(if notice.chat { settings.chat_messages } else { settings.ticket_updates }) {
        return Ok(());
    }
    if let Some(context) = notice.conversation {
        match (Presence { context, visitors: 0 }).call(env).await {
            Ok(0) => {}
            Ok(_) => return Ok(()),
            // A deleted conversation: nothing to open, nothing to push.
            Err(e) if e.code == edgechat_shared::error::ErrorCode::NotFound => return Ok(()),
            Err(e) => return Err(worker::Error::RustError(format!("asking the room for presence: {}", e.message))),
        }
    }
    let data = serde_json::to_string(&notice.data)?;
    let push = NewPush { event_id: &event.id, visitor_id: notice.visitor_id, title: &notice.title, body: &notice.body, data: &data };
    let ids = store::create_deliveries(db, &push).await?;
    enqueue(env, &ids).await
}

async fn enqueue(env: &Env, ids: &[i64]) -> worker::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    env.queue("PUSH")?.send_batch(ids.iter().map(|&delivery| Due { delivery }).collect::<Vec<_>>()).await
}

/// The notice of `message.created` event `event_id` when it is an
/// operator's message in a visitor conversation.
async fn reply_notice(db: &worker::D1Database, event_id: &str) -> worker::Result<Option<Notice>> {
    #[derive(Deserialize)]
    struct Row {
        conversation_id: i64,
        site_id: i64,
        account_id: i64,
        visitor_id: i64,
        role: String,
        content: String,
        author_name: Option<String>,
        site_name: Option<String>,
    }
    let row: Option<Row> = db
        .prepare(
            "SELECT c.id AS conversation_id, c.site_id, o.account_id, c.visitor_id, m.role, m.content, m.author_name, s.name AS site_name \
             FROM outbox o JOIN messages m ON m.id = o.message_id JOIN conversations c ON c.id = o.conversation_id \
             JOIN sites s ON s.id = c.site_id WHERE o.id = ?1 AND c.visitor_id IS NOT NULL",
        )
        .bind(&[text(event_id)])?
        .first(None)
        .await?;
    let Some(row) = row.filter(|r| r.role == "operator") else { return Ok(None) };
    let mut data = serde_json::Map::new();
    data.insert("type".into(), "message".into());
    data.insert("conversation_id".into(), row.conversation_id.to_string().into());
    let from = row.author_name.or(row.site_name).unwrap_or_else(|| "Support".into());
    Ok(Some(Notice {
        visitor_id: row.visitor_id,
        conversation: Some(RoomContext { conversation_id: row.conversation_id, site_id: Some(row.site_id), account_id: row.account_id }),
        chat: true,
        title: format!("New reply from {from}"),
        body: shorten(&row.content),
        data,
    }))
}

/// The ticket a `ticket.updated` event carries (`data.ticket`).
#[derive(Deserialize)]
struct TicketData {
    id: i64,
    reference: String,
    #[serde(default)]
    subject: String,
    status: String,
    visitor_id: Option<i64>,
    conversation_id: Option<i64>,
}

/// The notice of `ticket.updated` event `event_id` when the ticket is a user's.
async fn ticket_notice(db: &worker::D1Database, event_id: &str, account_id: i64) -> worker::Result<Option<Notice>> {
    #[derive(Deserialize)]
    struct Row {
        body: Option<String>,
        data: Option<String>,
    }
    let row: Option<Row> = db.prepare("SELECT body, data FROM outbox WHERE id = ?1").bind(&[text(event_id)])?.first(None).await?;
    let Some(row) = row else { return Ok(None) };
    let ticket = row
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .map(|b| b["data"]["ticket"].clone())
        .filter(|t| t.is_object())
        .or_else(|| row.data.as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok()).map(|d| d["ticket"].clone()));
    let Some(ticket) = ticket.and_then(|t| serde_json::from_value::<TicketData>(t).ok()) else { return Ok(None) };
    let Some(visitor_id) = ticket.visitor_id else { return Ok(None) };
    // The visitor must belong to the event's account (the event's data is
    // the writer's; this keeps a wrong id from reaching another account's user).
    let owned = db
        .prepare("SELECT 1 AS one FROM visitors v JOIN sites s ON s.id = v.site_id WHERE v.id = ?1 AND s.account_id = ?2")
        .bind(&[int(visitor_id), int(account_id)])?
        .first::<i64>(Some("one"))
        .await?
        .is_some();
    if !owned {
        return Ok(None);
    }
    let mut data = serde_json::Map::new();
    data.insert("type".into(), "ticket".into());
    data.insert("ticket_id".into(), ticket.id.to_string().into());
    data.insert("reference".into(), ticket.reference.clone().into());
    data.insert("status".into(), ticket.status.clone().into());
    // The linked conversation's Room, named from D1 (the Room refuses a
    // context that differs from its binding in any field).
    let conversation = match ticket.conversation_id {
        Some(id) => db
            .prepare("SELECT site_id FROM conversations WHERE id = ?1 AND visitor_id = ?2")
            .bind(&[int(id), int(visitor_id)])?
            .first::<i64>(Some("site_id"))
            .await?
            .map(|site_id| RoomContext { conversation_id: id, site_id: Some(site_id), account_id }),
        None => None,
    };
    Ok(Some(Notice {
        visitor_id,
        conversation,
        chat: false,
        title: format!("{} is now {}", ticket.reference, ticket.status.replace('_', " ")),
        body: shorten(&ticket.subject),
        data,
    }))
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_BODY_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_BODY_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// How one attempt ended.
enum Sent {
    Delivered,
    /// The push service says the device is gone (404/410): forget it.
    Gone,
    /// Worth another try.
    Failed(String),
    /// Another try gives the same answer (the platform is not configured,
    /// the stored token is malformed): recorded, not retried.
    Refused(String),
}

/// Consumes `PUSH`: one attempt per message.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    let db = crate::db::database(env)?;
    let base = var(env, "PUSH_RETRY_BASE_SECONDS").and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_RETRY_BASE_SECONDS);
    for message in batch.messages()? {
        let Ok(due) = serde_json::from_value::<Due>(message.body().clone()) else {
            worker::console_error!("dropping a malformed PUSH message");
            message.ack();
            continue;
        };
        match attempt(env, &db, due.delivery).await {
            Ok(None) => message.ack(),
            Ok(Some(attempts)) => {
                let delay = crate::webhooks::retry_delay(base, attempts);
                message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(u32::try_from(delay).unwrap_or(0)).build());
            }
            Err(e) => {
                worker::console_error!("push delivery {} failed to run: {e}", due.delivery);
                message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(5).build());
            }
        }
    }
    Ok(())
}

/// Makes one attempt of delivery `id`; answers the attempts so far when it
/// should be tried again.
async fn attempt(env: &Env, db: &worker::D1Database, id: i64) -> worker::Result<Option<i64>> {
    let Some(claimed) = store::claim(db, id, LEASE_SECONDS).await? else { return Ok(None) };
    match send(env, &claimed).await {
        Sent::Delivered => store::finish(db, id, None).await?,
        Sent::Gone => store::forget_device(db, claimed.device_id).await?,
        Sent::Refused(why) => {
            worker::console_error!("push delivery {id} refused for good: {why}");
            store::finish(db, id, Some(&why)).await?;
        }
        Sent::Failed(why) => {
            worker::console_warn!("push delivery {id} attempt {} failed: {why}", claimed.attempts);
            store::finish(db, id, Some(&why)).await?;
            return Ok(Some(claimed.attempts));
        }
    }
    Ok(None)
}

async fn send(env: &Env, claimed: &Claimed) -> Sent {
    let data: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&claimed.data).unwrap_or_default();
    match claimed.platform {
        Platform::Web => send_web(env, claimed, &data).await,
        Platform::Mobile => send_fcm(env, claimed, &data).await,
        Platform::Tma => send_telegram(env, claimed).await,
    }
}

async fn send_web(env: &Env, claimed: &Claimed, data: &serde_json::Map<String, serde_json::Value>) -> Sent {
    let Some(vapid) = vapid(env).await else { return Sent::Refused("Web Push is not configured (VAPID_PRIVATE_KEY)".into()) };
    let subscription = match web::Subscription::parse(&claimed.token, allow_local(env)) {
        Ok(s) => s,
        Err(why) => return Sent::Refused(why),
    };
    let payload = serde_json::json!({"title": claimed.title, "body": claimed.body, "data": data}).to_string();
    let body = match web::encrypt(payload.as_bytes(), &subscription).await {
        Ok(body) => body,
        Err(web::EncryptError::Refused(why)) => return Sent::Refused(why),
        Err(web::EncryptError::Failed(why)) => return Sent::Failed(why),
    };
    // The runtime's ES256 failing is no fault of the device's: tried again.
    let authorization = match vapid.authorization(&subscription.endpoint, crate::auth::now_secs()).await {
        Ok(a) => a,
        Err(why) => return Sent::Failed(format!("VAPID signature: {why}")),
    };
    let headers = [
        ("authorization", authorization),
        ("content-encoding", "aes128gcm".into()),
        ("content-type", "application/octet-stream".into()),
        // RFC 8030 §5.2: how long the push service keeps it for an offline device (seconds).
        ("ttl", "86400".into()),
        ("urgency", "normal".into()),
    ];
    match post(subscription.endpoint.as_str(), &headers, body).await {
        Ok((status, _)) if (200..300).contains(&status) => Sent::Delivered,
        Ok((404 | 410, _)) => Sent::Gone,
        Ok((status, answer)) => Sent::Failed(format!("push service answered HTTP {status}: {}", shorten(&answer))),
        Err(why) => Sent::Failed(why),
    }
}

async fn send_fcm(env: &Env, claimed: &Claimed, data: &serde_json::Map<String, serde_json::Value>) -> Sent {
    let Some(account) = secret(env, "FCM_SERVICE_ACCOUNT") else {
        return Sent::Refused("FCM is not configured (FCM_SERVICE_ACCOUNT)".into());
    };
    let account: fcm::ServiceAccount = match serde_json::from_str(&account) {
        Ok(a) => a,
        Err(e) => return Sent::Refused(format!("FCM_SERVICE_ACCOUNT is not a service account key: {e}")),
    };
    let base = var(env, "FCM_BASE_URL").unwrap_or_else(|| "https://fcm.googleapis.com".into());
    let token_url = var(env, "FCM_TOKEN_URL").unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
    let now = crate::auth::now_secs();
    let access = match fcm::cached(&account, now) {
        Some(token) => token,
        None => {
            let assertion = match fcm::grant_assertion(&account, &token_url, now).await {
                Ok(a) => a,
                Err(why) => return Sent::Refused(why),
            };
            let headers = [("content-type", "application/x-www-form-urlencoded".to_string())];
            match post(&token_url, &headers, fcm::grant_form(&assertion).into_bytes()).await {
                Ok((200, answer)) => match serde_json::from_str::<fcm::AccessToken>(&answer) {
                    Ok(token) => {
                        fcm::remember(&account, &token, now);
                        token.access_token
                    }
                    Err(e) => return Sent::Failed(format!("the token endpoint's answer is not a token: {e}")),
                },
                Ok((status, answer)) => return Sent::Failed(format!("the token endpoint answered HTTP {status}: {}", shorten(&answer))),
                Err(why) => return Sent::Failed(why),
            }
        }
    };
    let url = format!("{}/v1/projects/{}/messages:send", base.trim_end_matches('/'), account.project_id);
    let body = fcm::message(&claimed.token, &claimed.title, &claimed.body, data).to_string();
    let headers = [("authorization", format!("Bearer {access}")), ("content-type", "application/json".into())];
    match post(&url, &headers, body.into_bytes()).await {
        Ok((status, _)) if (200..300).contains(&status) => Sent::Delivered,
        Ok((status, answer)) if fcm::token_gone(status, &answer) => Sent::Gone,
        Ok((401, answer)) => {
            fcm::forget();
            Sent::Failed(format!("FCM refused the access token: {}", shorten(&answer)))
        }
        Ok((status, answer)) => Sent::Failed(format!("FCM answered HTTP {status}: {}", shorten(&answer))),
        Err(why) => Sent::Failed(why),
    }
}

async fn send_telegram(env: &Env, claimed: &Claimed) -> Sent {
    let Some(bot) = secret(env, "TELEGRAM_BOT_TOKEN") else {
        return Sent::Refused("Telegram is not configured (TELEGRAM_BOT_TOKEN)".into());
    };
    let base = var(env, "TELEGRAM_BASE_URL").unwrap_or_else(|| "https://api.telegram.org".into());
    let url = format!("{}/bot{bot}/sendMessage", base.trim_end_matches('/'));
    let body = telegram::send_message(&claimed.token, &claimed.title, &claimed.body).to_string();
    match post(&url, &[("content-type", "application/json".into())], body.into_bytes()).await {
        Ok((status, _)) if (200..300).contains(&status) => Sent::Delivered,
        Ok((status, _)) if telegram::chat_gone(status) => Sent::Gone,
        Ok((status, answer)) => Sent::Failed(format!("Telegram answered HTTP {status}: {}", shorten(&answer))),
        Err(why) => Sent::Failed(why),
    }
}

/// `POST`s `body` to `url`; answers the status and the answer's text (its
/// first [`crate::responder::llm::error_body`] bytes), or the network error
/// or timeout. The whole exchange, the answer's body included, has
/// [`TIMEOUT`]: an endpoint (a Web Push subscription names any HTTPS
/// server) that drips an endless answer costs one timed-out attempt, not
/// the consumer's batch. Redirects are not followed.
async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<(u16, String), String> {
    let set = worker::Headers::new();
    for (name, value) in headers {
        set.set(name, value).map_err(|e| e.to_string())?;
    }
    let body = js_sys::Uint8Array::from(body.as_slice()).into();
    let request = crate::runtime_stream::post_request(url, &set, &body, false).map_err(|e| e.to_string())?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let fetch = worker::Fetch::Request(request);
    let exchange = async {
        let mut response = fetch.send_with_signal(&signal).await.map_err(|e| format!("network error: {e}"))?;
        let text = crate::responder::llm::error_body(&mut response).await.unwrap_or_default();
        Ok((response.status_code(), text))
    };
    let answer = select(Box::pin(exchange), Box::pin(worker::Delay::from(TIMEOUT))).await;
    match answer {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => {
            controller.abort();
            Err(format!("timed out after {} s", TIMEOUT.as_secs()))
        }
    }
}

/// Enqueues again every unsent delivery whose message was lost (due more
/// than `stale_seconds` ago and not held by a consumer), and deletes
/// diagnostics older than their retention. Runs with [`crate::events::sweep`].
pub async fn sweep(env: &Env, stale_seconds: i64) -> worker::Result<()> {
    let db = crate::db::database(env)?;
    let ids = store::stale(&db, stale_seconds).await?;
    enqueue(env, &ids).await?;
    store::sweep_diagnostics(&db, edgechat_shared::api::diagnostics::DIAGNOSTICS_RETENTION_DAYS).await
}

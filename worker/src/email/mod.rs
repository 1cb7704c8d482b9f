//! Outgoing email (issue 13): transcripts, queued on the `EMAIL` queue and
//! sent through the provider's HTTP API ([`resend`]).
//!
//! A route stores the email's row (`emails`, migration 0020) and queues its
//! id; the consumer renders the conversation as it was when asked
//! (messages up to the row's `seq`), sends it with the row's id as the
//! provider's `Idempotency-Key` (a retry after a lost answer sends nothing
//! twice), and tries again with exponential backoff up to [`MAX_TRIES`]
//! times; after the last try the row is `failed` (the dead letter) and the
//! failure is logged.

pub mod render;
mod resend;
pub mod store;

use edgechat_shared::api::transcripts::TRANSCRIPT_MAX_MESSAGES;
use edgechat_shared::api::Role;
use serde::{Deserialize, Serialize};
use worker::{Env, MessageExt, QueueRetryOptionsBuilder};

use crate::auth::now_secs;
use crate::db;
use crate::error::{ApiError, ApiResult};
use render::{Line, Transcript};
use resend::Failure;
pub use resend::Resend;
pub use store::RequestedBy;

/// Provider tries per email before it is marked `failed`.
pub const MAX_TRIES: i64 = 5;

/// The `EMAIL` queue's message: the id of an `emails` row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailJob {
    pub email_id: String,
}

/// A transcript to send.
#[derive(Debug, Clone)]
pub struct TranscriptOrder<'a> {
    pub conversation_id: i64,
    pub to: &'a str,
    pub requested_by: RequestedBy,
    /// The worker's public origin, for attachment links.
    pub base_url: &'a str,
}

/// Stores and queues a transcript email; answers its id (`eml_` + 32 hex).
///
/// Errors: 503 `not_ready` when no provider is configured (`RESEND_API_KEY`,
/// `EMAIL_FROM`), 429 `rate_limited` past a daily number (see
/// [`store::insert_transcript`]).
pub async fn queue_transcript(env: &Env, order: TranscriptOrder<'_>) -> ApiResult<String> {
    if Resend::from_env(env).is_none() {
        return Err(ApiError::not_ready("Email is not configured (RESEND_API_KEY and EMAIL_FROM)"));
    }
    let id = format!("eml_{}", crate::auth::random_hex(16));
    let row = store::NewTranscript {
        id: &id,
        conversation_id: order.conversation_id,
        to: order.to,
        requested_by: order.requested_by,
        base_url: order.base_url,
        now: now_secs(),
    };
    if !store::insert_transcript(&db::database(env)?, &row).await? {
        // The conversation was just resolved, so a daily number was reached.
        return Err(ApiError::rate_limited(24 * 60 * 60));
    }
    env.queue("EMAIL")?.send(EmailJob { email_id: id.clone() }).await?;
    Ok(id)
}

/// How long an email may stay `queued` before [`sweep`] queues it again:
/// well past the consumer's whole backoff (2 + 4 + 8 + 16 s).
const STALE_SECONDS: i64 = 600;

/// Queues again every email whose queue message was lost (see
/// [`store::stale`]); runs with the bus sweep (cron).
pub async fn sweep(env: &Env) -> worker::Result<()> {
    let ids = store::stale(&db::database(env)?, STALE_SECONDS).await?;
    if ids.is_empty() {
        return Ok(());
    }
    env.queue("EMAIL")?.send_batch(ids.into_iter().map(|email_id| EmailJob { email_id }).collect::<Vec<_>>()).await
}

/// Consumes the `EMAIL` queue: one provider request per message.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    let provider = Resend::from_env(env);
    for message in batch.messages()? {
        let job: EmailJob = match serde_json::from_value(message.body().clone()) {
            Ok(job) => job,
            Err(e) => {
                worker::console_error!("email queue: unreadable message {}: {e}", message.body());
                message.ack();
                continue;
            }
        };
        match deliver(env, provider.as_ref(), &job.email_id).await {
            Ok(Outcome::Done) => message.ack(),
            Ok(Outcome::Retry(delay_seconds)) => {
                message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay_seconds).build())
            }
            // D1 failed: the queue tries the message again.
            Err(e) => {
                worker::console_error!("email {}: {}", job.email_id, e.message);
                message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(5).build());
            }
        }
    }
    Ok(())
}

/// What became of one queue message.
enum Outcome {
    /// Sent, dead-lettered, or nothing to do: acknowledge.
    Done,
    /// Try again after this many seconds.
    Retry(u32),
}

/// Renders and sends email `id` once; records the outcome.
async fn deliver(env: &Env, provider: Option<&Resend>, id: &str) -> ApiResult<Outcome> {
    let db = db::database(env)?;
    let Some(email) = store::email(&db, id).await? else { return Ok(Outcome::Done) };
    if email.status != "queued" {
        return Ok(Outcome::Done);
    }
    let tries = store::count_attempt(&db, id).await?;
    let sent = match provider {
        Some(provider) => provider.send(id, &email.to_address, &transcript(env, &db, &email).await?.render()).await,
        None => Err(Failure::Permanent("email is not configured (RESEND_API_KEY, EMAIL_FROM)".into())),
    };
    match sent {
        Ok(provider_id) => {
            store::record(&db, id, "sent", Some(&provider_id), None).await?;
            Ok(Outcome::Done)
        }
        Err(Failure::Transient(why)) if tries < MAX_TRIES => {
            worker::console_warn!("email {id}: try {tries} of {MAX_TRIES} failed ({why}); trying again");
            store::record(&db, id, "queued", None, Some(&why)).await?;
            Ok(Outcome::Retry(1 << tries.clamp(1, 10)))
        }
        Err(failure) => {
            worker::console_error!("email {id}: failed for good after {tries} tries: {}", failure.describe());
            store::record(&db, id, "failed", None, Some(failure.describe())).await?;
            Ok(Outcome::Done)
        }
    }
}

/// The transcript of `email`'s conversation: its newest
/// [`TRANSCRIPT_MAX_MESSAGES`] messages up to the email's `seq`, attachments
/// as absolute signed links issued when the email was asked for (so every
/// try renders the same bytes).
async fn transcript(env: &Env, db: &worker::D1Database, email: &store::EmailRow) -> ApiResult<Transcript> {
    let (rows, total) = store::transcript_messages(db, email.conversation_id, email.up_to_seq, TRANSCRIPT_MAX_MESSAGES).await?;
    let links = crate::routes::operator::media::links_for(env, db, email.site_id).await?;
    let base = email.base_url.trim_end_matches('/');
    let lines = rows
        .iter()
        .map(|row| Line {
            created_at: row.created_at.clone(),
            author: match row.role {
                Role::Visitor => email.visitor_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "Visitor".into()),
                Role::Operator => row.author_name.clone().unwrap_or_else(|| "Support".into()),
                Role::Ai => "AI".into(),
            },
            content: row.content.clone(),
            files: row
                .attachments()
                .into_iter()
                .map(|a| (a.name, format!("{base}{}", links.url_at(a.id, email.links_issued_at))))
                .collect(),
        })
        .collect::<Vec<_>>();
    Ok(Transcript {
        site_name: email.site_name.clone().unwrap_or_else(|| "your team".into()),
        omitted: total.saturating_sub(lines.len()),
        lines,
    })
}

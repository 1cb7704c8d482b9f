//! Outgoing email (issue 13): transcripts and notifications, queued on the
//! `EMAIL` queue and sent through the provider's HTTP API.

use worker::Env;

/// Consumes the `EMAIL` queue: one provider request per message.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    // Filled in by the email work (issue 13).
    let _ = env;
    batch.ack_all();
    Ok(())
}

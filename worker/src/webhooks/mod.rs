//! Outgoing webhooks (issue 13): endpoints per account, Standard Webhooks
//! signatures, deliveries with retries and a dead-letter log.

use worker::Env;

/// Consumes the `DELIVERIES` queue: one HTTP `POST` per message.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    // Filled in by the webhooks work (issue 13).
    let _ = env;
    batch.ack_all();
    Ok(())
}

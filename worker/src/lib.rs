//! `edgechat-worker`: the one Cloudflare worker of EdgeChat.
//!
//! The `#[event(fetch)]` entry point only builds the axum router and hands the
//! request over (`routes`); every message write goes through the
//! conversation's [`room::Room`] Durable Object.

mod assets;
mod auth;
mod custom_css;
mod db;
mod email;
mod error;
mod events;
mod inbox;
mod openapi;
mod phone;
mod push;
mod responder;
mod room;
mod routes;
mod webhooks;

pub use inbox::Inbox;
pub use room::Room;

use tower_service::Service;
use worker::{event, Context, Env, HttpRequest, MessageBatch, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: HttpRequest, env: Env, _ctx: Context) -> worker::Result<axum::http::Response<axum::body::Body>> {
    console_error_panic_hook::set_once();
    Ok(routes::router(env).call(req).await?)
}

/// The queue consumer (`[[queues.consumers]]`): the event bus, webhook
/// deliveries and email (see [`events::consume`]).
#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    console_error_panic_hook::set_once();
    events::consume(batch, env).await
}

/// The cron trigger (`[triggers] crons`): publishes outbox rows a crash left
/// unpublished ([`events::sweep`]).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    console_error_panic_hook::set_once();
    events::sweep(&env).await;
}

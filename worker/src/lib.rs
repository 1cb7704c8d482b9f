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
mod emoji;
mod error;
mod events;
mod inbox;
mod live;
mod openapi;
mod phone;
mod push;
mod responder;
mod room;
mod routes;
mod timezone;
mod webhooks;

pub use inbox::Inbox;
pub use room::Room;

use tower_service::Service;
use worker::{event, Context, Env, HttpRequest, MessageBatch, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: HttpRequest, env: Env, _ctx: Context) -> worker::Result<axum::http::Response<axum::body::Body>> {
    Ok(cached_router(env).call(req).await?)
}

thread_local! {
    /// The router, built by the isolate's first request: building it (every
    /// route into the path tree) cost more than serving `GET /health`.
    static ROUTER: std::cell::RefCell<Option<axum::Router>> = const { std::cell::RefCell::new(None) };
}

/// The isolate's router (see [`ROUTER`]). Its state holds the `env` of the
/// first request: an isolate's bindings are the same for every request it
/// serves (what `import { env } from "cloudflare:workers"` relies on).
fn cached_router(env: Env) -> axum::Router {
    ROUTER.with(|cell| cell.borrow_mut().get_or_insert_with(|| routes::router(env)).clone())
}

/// The queue consumer (`[[queues.consumers]]`): the event bus, webhook
/// deliveries and email (see [`events::consume`]).
#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    events::consume(batch, env).await
}

/// The cron trigger (`[triggers] crons`): publishes outbox rows a crash left
/// unpublished ([`events::sweep`]).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    events::sweep(&env).await;
}

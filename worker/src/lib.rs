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
mod runtime_stream;
mod timezone;
mod webhooks;

pub use inbox::Inbox;
pub use room::Room;

use tower_service::Service;
use worker::{event, Context, Env, HttpRequest, MessageBatch, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    let response = cached_router(env).call(http_request(req)?).await?;
    runtime_stream::into_runtime(response)
}

/// The runtime's request as axum takes it: URL, method, headers and body.
/// workers-rs's own conversion (an `HttpRequest` argument) also reads
/// `request.cf`, which the runtime builds as a JS object on first access,
/// for its HTTP version and the `Cf` extension; nothing here reads either,
/// and in a CPU profile of the live path that read was 13 % of the time
/// spent serving requests. A header the `http` crate refuses is an error
/// (500), never a panic.
fn http_request(req: web_sys::Request) -> worker::Result<HttpRequest> {
    let mut headers = axum::http::HeaderMap::new();
    for entry in req.headers().entries() {
        let pair: js_sys::Array = entry?.into();
        let (name, value) = (pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default());
        headers.append(axum::http::HeaderName::from_bytes(name.as_bytes())?, axum::http::HeaderValue::from_str(&value)?);
    }
    let body = req.body().map(worker::Body::new).unwrap_or_else(worker::Body::empty);
    let mut request = axum::http::Request::builder().uri(req.url()).method(req.method().as_str()).body(body)?;
    *request.headers_mut() = headers;
    Ok(request)
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

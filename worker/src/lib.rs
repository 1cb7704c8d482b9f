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
use worker::{event, Context, Env, MessageBatch, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    let response = cached_router(env).call(http_request(req).await?).await?;
    runtime_stream::into_runtime(response)
}

/// The runtime's request as axum takes it: URL, method, headers and body.
/// workers-rs's own conversion (an `HttpRequest` argument) also reads
/// `request.cf`, which the runtime builds as a JS object on first access,
/// for its HTTP version and the `Cf` extension; nothing here reads either,
/// and in a CPU profile of the live path that read was 13 % of the time
/// spent serving requests. A header the `http` crate refuses is an error
/// (500), never a panic.
async fn http_request(req: web_sys::Request) -> worker::Result<axum::http::Request<axum::body::Body>> {
    let mut headers = axum::http::HeaderMap::new();
    for entry in req.headers().entries() {
        let pair: js_sys::Array = entry?.into();
        let (name, value) = (pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default());
        headers.append(axum::http::HeaderName::from_bytes(name.as_bytes())?, axum::http::HeaderValue::from_str(&value)?);
    }
    // A length beside `Transfer-Encoding` bounds nothing (RFC 9112 §6.3:
    // the body is chunked): such a body streams, and its route's cap holds.
    let declared = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let small = declared.is_some_and(|n| n <= READ_AT_ONCE_BYTES) && !headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    let body = match req.body() {
        None => axum::body::Body::empty(),
        Some(_) if small => match wasm_bindgen_futures::JsFuture::from(req.array_buffer()?).await {
            Ok(bytes) => axum::body::Body::from(js_sys::Uint8Array::new(&bytes).to_vec()),
            // A body that could not be read (the client went away, or sent
            // less than it declared) fails when the route reads it: the
            // route's 400 in the error envelope, as a streamed body's would.
            Err(_) => axum::body::Body::from_stream(futures::stream::once(futures::future::ready(Err::<axum::body::Bytes, _>(
                std::io::Error::other("the request body could not be read"),
            )))),
        },
        Some(stream) => axum::body::Body::new(worker::Body::new(stream)),
    };
    let mut request = axum::http::Request::builder().uri(req.url()).method(req.method().as_str()).body(body)?;
    *request.headers_mut() = headers;
    Ok(request)
}

/// A body that declares at most this many bytes (`Content-Length`; every
/// JSON body the live path carries) is read by the runtime in one call
/// (`arrayBuffer`); a larger one, or one without a length, streams into
/// axum through workers-rs's `Body`, whose every chunk is a promise turn
/// and a crossing (seen in a CPU profile of the live path: a reader, its
/// reads and `releaseLock` for each request). The route's cap
/// (`routes::body_cap`) applies either way.
const READ_AT_ONCE_BYTES: u64 = 64 * 1024;

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

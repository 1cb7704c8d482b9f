//! `edgechat-worker`: the one Cloudflare worker of EdgeChat.
//!
//! The `#[event(fetch)]` entry point only builds the axum router and hands the
//! request over (`routes`); every message write goes through the
//! conversation's [`room::Room`] Durable Object.

mod auth;
mod db;
mod error;
mod inbox;
mod openapi;
mod responder;
mod room;
mod routes;

pub use inbox::Inbox;
pub use room::Room;

use tower_service::Service;
use worker::{event, Context, Env, HttpRequest};

#[event(fetch)]
async fn fetch(req: HttpRequest, env: Env, _ctx: Context) -> worker::Result<axum::http::Response<axum::body::Body>> {
    console_error_panic_hook::set_once();
    Ok(routes::router(env).call(req).await?)
}

//! The operator console's pages, `/app/` (issue 11): a single-page app whose
//! files `cargo xtask build` writes under `public/app/`. Cloudflare serves
//! those files itself (`[assets]` in `wrangler.toml`), so the worker only
//! sees the paths that are no file: the console's own routes, such as the
//! deep link `/app/conversations/42`, which all answer its `index.html`
//! (SPA fallback). These are pages, not API routes: they are not in the
//! OpenAPI document ([`PATHS`]).

use axum::extract::State;
use axum::response::{Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::error::ApiResult;

/// The routes below, as the router names them.
pub const PATHS: [&str; 3] = ["/app", "/app/", "/app/{*path}"];

/// The console's entry page in the static assets.
const INDEX: &str = "/app/index.html";

/// `GET /app` and every `GET /app/…` that is no file.
pub fn router() -> Router<AppState> {
    let [app, root, deep] = PATHS;
    Router::new().route(app, get(get_app)).route(root, get(get_index)).route(deep, get(get_index))
}

/// Handles the `GET /app` route: 308 to `/app/`, where the console's
/// relative links resolve.
async fn get_app() -> Redirect {
    Redirect::permanent("/app/")
}

/// Handles the `GET /app/` and `GET /app/{*path}` routes: 200 with the
/// console's `index.html` from the `ASSETS` binding and `Cache-Control:
/// no-cache` (a new build is seen at once; its hashed files are cached), so
/// the console opens at any of its deep links; 404 `not_found` when the
/// console is not built.
#[worker::send]
async fn get_index(State(state): State<AppState>) -> ApiResult<Response> {
    crate::assets::serve(&state.env, INDEX, "no-cache", "console page").await
}

//! Files of the worker's static assets (`[assets]` in `wrangler.toml`,
//! the `ASSETS` binding), read by the routes that answer with one: the
//! console's entry page and the OpenAPI document.
//!
//! Cloudflare serves a request whose path names an asset file before the
//! worker runs, so these routes are reached only for paths that are no file
//! (the console's deep links) or when the file is missing (not built).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};

/// 200 with the asset at `path` (an absolute path in `public/`, such as
/// `/app/index.html`), its `Content-Type` as the asset server gives it and
/// `Cache-Control: cache_control`; 404 `not_found` naming `what` when the
/// file is not there (the assets are not built: `cargo xtask build`).
pub async fn serve(env: &worker::Env, path: &str, cache_control: &'static str, what: &str) -> ApiResult<Response> {
    let assets = env.assets("ASSETS")?;
    // Any host will do: the binding serves this worker's own assets.
    let file = assets.fetch_request(worker::Request::new(&format!("https://assets.invalid{path}"), worker::Method::Get)?).await?;
    if file.status() != StatusCode::OK {
        return Err(ApiError::not_found(&format!("{what}: it is not built (cargo xtask build)")));
    }
    let content_type = file.headers().get(header::CONTENT_TYPE).cloned();
    let body = axum::body::Body::new(file.into_body());
    let mut response = (StatusCode::OK, [(header::CACHE_CONTROL, HeaderValue::from_static(cache_control))], body).into_response();
    if let Some(content_type) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    }
    Ok(response)
}

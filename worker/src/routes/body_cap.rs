//! The request body size cap of every route (issue 16: "every route has a
//! body size cap"), enforced by [`enforce`] before the handler runs.
//!
//! Each route is registered with its cap (`handler @ BodyCap::Article` in
//! `api_routes!`, [`BodyCap::Default`] when none is named); the OpenAPI
//! document carries the cap as the operation's `x-max-body-bytes` and a 413
//! answer. A body over the cap is refused with 413 `payload_too_large` in
//! the error envelope before any handler reads it, so nothing is stored.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use edgechat_shared::api::{diagnostics, inbound};
use edgechat_shared::upload::{self, DEFAULT_MAX_FILE_MB};

use super::widget::uploads::{max_bytes, read_capped};
use super::AppState;
use crate::error::ApiError;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// The named body caps. Figures in bytes: see [`BodyCap::bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCap {
    /// 128 KiB: every JSON route not named below.
    Default,
    /// 1 MiB: a knowledge-base article (`POST`/`PATCH …/articles`).
    Article,
    /// 2 MiB: a knowledge-base import (NDJSON, `POST …/articles/import`).
    Import,
    /// 64 KiB: a signed inbound webhook (`POST /webhooks/inbound/{id}`,
    /// `api::inbound::MAX_BODY_BYTES`).
    Inbound,
    /// 16 KiB: device diagnostics (`POST /api/v1/app/diagnostics`,
    /// `api::diagnostics::MAX_DIAGNOSTICS_BYTES`).
    Diagnostics,
    /// `MAX_FILE_MB` MiB (default 10) + 64 KiB of multipart overhead
    /// (`upload::max_body_bytes`): the upload routes.
    Upload,
}

impl BodyCap {
    /// The cap in bytes, with the deployment's file cap `max_file_bytes`
    /// (`MAX_FILE_MB` in bytes; only [`BodyCap::Upload`] depends on it).
    pub fn bytes(self, max_file_bytes: u64) -> u64 {
        match self {
            BodyCap::Default => 128 * KIB,
            BodyCap::Article => MIB,
            BodyCap::Import => 2 * MIB,
            BodyCap::Inbound => inbound::MAX_BODY_BYTES as u64,
            BodyCap::Diagnostics => diagnostics::MAX_DIAGNOSTICS_BYTES as u64,
            BodyCap::Upload => upload::max_body_bytes(max_file_bytes),
        }
    }

    /// The cap as documented (`x-max-body-bytes`): with the default
    /// `MAX_FILE_MB` of 10.
    pub fn documented_bytes(self) -> u64 {
        self.bytes(DEFAULT_MAX_FILE_MB * MIB)
    }
}

/// 413 `payload_too_large` for a body over `cap` bytes.
fn too_large(cap: u64) -> ApiError {
    ApiError::payload_too_large(format!("The request body is over this route's cap of {cap} bytes"))
}

/// The middleware of a route with cap `cap`: 413 when `Content-Length`
/// declares more than the cap, or when a body without a length (chunked)
/// passes it while it is read (it is never buffered past the cap); else the
/// handler gets the body, read. `GET` and `HEAD` pass untouched (no handler
/// reads their body).
///
/// Upload routes are only checked by their `Content-Length` here (their cap
/// reads `MAX_FILE_MB` from the [`AppState`] the router puts in the
/// request's extensions): their handlers count the client against the
/// upload rate limit before they read up to 10 MiB, and then read the body
/// as it streams with the same cap (`widget::uploads::read_capped`).
pub async fn enforce(cap: BodyCap, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let max = match (cap, request.extensions().get::<AppState>()) {
        (BodyCap::Upload, Some(state)) => cap.bytes(max_bytes(&state.env)),
        _ => cap.documented_bytes(),
    };
    if cap == BodyCap::Upload {
        // Uploads are read by their handlers (after the upload rate limit)
        // with the same cap; here only a declared length over it is refused.
        let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max) {
            return too_large(max).into_response();
        }
        return next.run(request).await;
    }
    // Read up to the cap (at most `max + 1` bytes held), declared length or
    // not: answering before a slightly-over body is read loses the
    // connection in workerd's dev proxy ("Network connection lost"), and
    // a body far over the cap is still refused after `max + 1` bytes.
    let (parts, body) = request.into_parts();
    match read_capped(body, max, || too_large(max)).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_are_the_documented_figures() {
        assert_eq!(BodyCap::Default.documented_bytes(), 131_072);
        assert_eq!(BodyCap::Article.documented_bytes(), 1_048_576);
        assert_eq!(BodyCap::Import.documented_bytes(), 2_097_152);
        assert_eq!(BodyCap::Inbound.documented_bytes(), 65_536);
        assert_eq!(BodyCap::Diagnostics.documented_bytes(), 16_384);
        assert_eq!(BodyCap::Upload.documented_bytes(), 10 * 1_048_576 + 65_536);
        assert_eq!(BodyCap::Upload.bytes(MIB), MIB + 65_536, "the upload cap follows MAX_FILE_MB");
    }
}

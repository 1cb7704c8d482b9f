//! The public widget API, `/api/v1/chat/*` (seeds 001 and 004): scoped by
//! `site_key` and the visitor's `session_id`, no credentials.

pub mod config;
pub mod history;
pub mod stream;

use edgechat_shared::validate;

use crate::db::{self, Site};
use crate::error::{ApiError, ApiResult};
use worker::D1Database;

/// Validates `site_key` and loads its site: 422 when malformed, 404 when unknown.
pub async fn load_site(database: &D1Database, site_key: &str) -> ApiResult<Site> {
    validate::site_key(site_key)?;
    db::site_by_key(database, site_key).await?.ok_or_else(ApiError::unknown_site_key)
}

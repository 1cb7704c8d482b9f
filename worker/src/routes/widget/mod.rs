//! The public widget API, `/api/v1/chat/*` (seeds 001 and 004): scoped by
//! `site_key` and the visitor's `session_id`, no credentials.

pub mod config;
pub mod events;
pub mod history;
pub mod stream;

use edgechat_shared::error::ErrorCode;
use edgechat_shared::validate;
use worker::D1Database;

use crate::db::conversations::visitor_blocked;
use crate::db::sites::{self, SiteRow};
use crate::error::{ApiError, ApiResult};

/// Validates `site_key` and loads its site: 422 when malformed, 404 when unknown.
pub async fn load_site(database: &D1Database, site_key: &str) -> ApiResult<SiteRow> {
    validate::site_key(site_key)?;
    sites::by_key(database, site_key).await?.ok_or_else(ApiError::unknown_site_key)
}

/// Validates `session_id` and refuses a blocked visitor with 403 `blocked` (seed 002).
pub async fn check_visitor(database: &D1Database, site: &SiteRow, session_id: &str) -> ApiResult<()> {
    validate::session_id(session_id)?;
    if visitor_blocked(database, site.id, session_id).await? {
        return Err(ApiError::new(ErrorCode::Blocked, "This visitor has been blocked by the site's team"));
    }
    Ok(())
}

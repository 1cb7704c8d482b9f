//! The public widget API, `/api/v1/chat/*` (seeds 001 and 004): scoped by
//! `site_key` and the visitor's `session_id`, no credentials.

pub mod config;
pub mod events;
pub mod history;
pub mod stream;

use edgechat_shared::error::ErrorCode;
use edgechat_shared::validate;
use worker::D1Database;

use crate::db::sites::{self, SiteRow};
use crate::db;
use crate::error::{ApiError, ApiResult};

/// Validates `site_key` and loads its site: 422 when malformed, 404 when unknown.
pub async fn load_site(database: &D1Database, site_key: &str) -> ApiResult<SiteRow> {
    validate::site_key(site_key)?;
    sites::by_key(database, site_key).await?.ok_or_else(ApiError::unknown_site_key)
}

/// Validates `session_id` and answers the visitor's newest conversation
/// (`None` before their first message). 422 malformed session, 403 `blocked`
/// for a visitor the operators blocked (seed 002).
pub async fn visitor_conversation(database: &D1Database, site: &SiteRow, session_id: &str) -> ApiResult<Option<i64>> {
    validate::session_id(session_id)?;
    match db::visitor_conversation(database, site.id, session_id).await? {
        Some(visitor) if visitor.blocked_at.is_some() => {
            Err(ApiError::new(ErrorCode::Blocked, "This visitor has been blocked by the site's team"))
        }
        Some(visitor) => Ok(visitor.conversation_id),
        None => Ok(None),
    }
}

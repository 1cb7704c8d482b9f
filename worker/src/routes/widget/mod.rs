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
use crate::error::{ApiError, ApiResult};

/// Validates `site_key` and loads its site: 422 when malformed, 404 when unknown.
pub async fn load_site(database: &D1Database, site_key: &str) -> ApiResult<SiteRow> {
    validate::site_key(site_key)?;
    sites::by_key(database, site_key).await?.ok_or_else(ApiError::unknown_site_key)
}

/// A visitor request's site and the visitor's newest conversation (`None`
/// before their first message).
pub struct Visitor {
    pub site: SiteRow,
    pub conversation_id: Option<i64>,
}

/// Validates `site_key` and `session_id` and loads both in one query.
/// Errors: 422 malformed, 404 unknown site key, 403 `blocked` for a visitor
/// the operators blocked (seed 002).
pub async fn load_visitor(database: &D1Database, site_key: &str, session_id: &str) -> ApiResult<Visitor> {
    validate::site_key(site_key)?;
    validate::session_id(session_id)?;
    let row = sites::by_key_with_visitor(database, site_key, session_id).await?.ok_or_else(ApiError::unknown_site_key)?;
    if row.blocked_at.is_some() {
        return Err(ApiError::new(ErrorCode::Blocked, "This visitor has been blocked by the site's team"));
    }
    Ok(Visitor { site: row.site, conversation_id: row.conversation_id.filter(|_| row.visitor_id.is_some()) })
}

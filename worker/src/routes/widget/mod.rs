//! The public widget API, `/api/v1/chat/*` (seeds 001 and 004): scoped by
//! `site_key` and the visitor's `session_id`, no credentials.

pub mod config;
pub mod cors;
pub mod events;
pub mod feedback;
pub mod history;
pub mod stream;

use axum::http::HeaderMap;
use edgechat_shared::error::ErrorCode;
use edgechat_shared::validate;
use worker::Env;

use crate::db::sites::{self, SiteRow};
use crate::db;
use crate::error::{ApiError, ApiResult};

/// Seconds a rate-limited widget client is told to wait (the limiters' period).
const RETRY_AFTER: u32 = 60;

/// The limiter a widget route counts against, per site key and client IP
/// (seed 004: config 60/min, reads 60/min, writes 20/min; `[[ratelimits]]`
/// in `wrangler.toml`), with the route's name so each route counts apart.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// `CONFIG_LIMITER`, 60 a minute.
    Config,
    /// `READ_LIMITER`, 60 a minute.
    Read(&'static str),
    /// `WRITE_LIMITER`, 20 a minute.
    Write(&'static str),
}

/// The client's IP: `CF-Connecting-IP`, set by Cloudflare's edge.
fn client_ip(headers: &HeaderMap) -> &str {
    headers.get("cf-connecting-ip").and_then(|v| v.to_str().ok()).unwrap_or("unknown")
}

/// Counts the request; 429 `rate_limited` with `Retry-After` past the limit.
async fn rate_limit(env: &Env, headers: &HeaderMap, limit: Limit, site_key: &str) -> ApiResult<()> {
    let (binding, route) = match limit {
        Limit::Config => ("CONFIG_LIMITER", "config"),
        Limit::Read(route) => ("READ_LIMITER", route),
        Limit::Write(route) => ("WRITE_LIMITER", route),
    };
    let key = format!("{route}:{site_key}:{}", client_ip(headers));
    if env.rate_limiter(binding)?.limit(key).await?.success {
        Ok(())
    } else {
        Err(ApiError::rate_limited(RETRY_AFTER))
    }
}

/// Refuses a browser request from an origin the site does not allow (403
/// `origin_not_allowed`). Requests without `Origin` (not from a page) pass.
pub fn check_origin(site: &SiteRow, headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if validate::origin_allowed(&site.allowed_origins(), origin) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("This site does not allow the widget on {origin}")))
    }
}

/// Validates `site_key`, counts the request against `limit`, loads the site
/// and checks the request's origin. Errors: 422 malformed, 429, 404 unknown
/// site key, 403 `origin_not_allowed`.
pub async fn load_site(env: &Env, headers: &HeaderMap, limit: Limit, site_key: &str) -> ApiResult<SiteRow> {
    validate::site_key(site_key)?;
    rate_limit(env, headers, limit, site_key).await?;
    let site = sites::by_key(&db::database(env)?, site_key).await?.ok_or_else(ApiError::unknown_site_key)?;
    check_origin(&site, headers)?;
    Ok(site)
}

/// A visitor request's site and the visitor's newest conversation (`None`
/// before their first message).
pub struct Visitor {
    pub site: SiteRow,
    pub visitor_id: Option<i64>,
    pub conversation_id: Option<i64>,
    /// `true` when operators blocked the visitor (only [`load_visitor_any`] answers those).
    pub blocked: bool,
}

/// Validates `site_key` and `session_id`, counts the request against
/// `limit`, and loads site and visitor in one query. Errors: 422 malformed,
/// 429, 404 unknown site key, 403 `origin_not_allowed`, 403 `blocked` for a
/// visitor the operators blocked (seed 002).
pub async fn load_visitor(env: &Env, headers: &HeaderMap, limit: Limit, site_key: &str, session_id: &str) -> ApiResult<Visitor> {
    let visitor = load_visitor_any(env, headers, limit, site_key, session_id).await?;
    if visitor.blocked {
        return Err(ApiError::new(ErrorCode::Blocked, "This visitor has been blocked by the site's team"));
    }
    Ok(visitor)
}

/// [`load_visitor`] that also answers blocked visitors (for `block-status`).
pub async fn load_visitor_any(env: &Env, headers: &HeaderMap, limit: Limit, site_key: &str, session_id: &str) -> ApiResult<Visitor> {
    validate::site_key(site_key)?;
    validate::session_id(session_id)?;
    rate_limit(env, headers, limit, site_key).await?;
    let row = sites::by_key_with_visitor(&db::database(env)?, site_key, session_id).await?.ok_or_else(ApiError::unknown_site_key)?;
    check_origin(&row.site, headers)?;
    Ok(Visitor {
        site: row.site,
        visitor_id: row.visitor_id,
        conversation_id: row.conversation_id.filter(|_| row.visitor_id.is_some()),
        blocked: row.blocked_at.is_some(),
    })
}

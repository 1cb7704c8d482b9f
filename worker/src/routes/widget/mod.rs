//! The public widget API, `/api/v1/chat/*` (seeds 001 and 004): scoped by
//! `site_key` and the visitor's `session_id`, no credentials.

pub mod block_status;
pub mod close;
pub mod config;
pub mod contact;
pub mod cors;
pub mod events;
pub mod handoff;
pub mod history;
pub mod known;
pub mod proactive;
pub mod rating;
pub mod stream;
pub mod token_conversations;
pub mod transcript;
pub mod uploads;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::FieldError;
use edgechat_shared::validate;
use worker::{D1Database, Env};

use crate::auth::signing::Purpose;
use crate::db;
use crate::db::messages::FileLinks;
use crate::db::sites::{self, SiteRow};
use crate::db::visitors::{self, Plan, VisitorState};
use crate::error::{ApiError, ApiResult};
use crate::room::RoomContext;

/// Seconds a rate-limited widget client is told to wait (the limiters' period).
const RETRY_AFTER: u32 = 60;

/// The limiter a widget route counts against, per site key and client IP
/// (seed 004: config 60/min, reads 60/min, writes 20/min; `[[ratelimits]]`
/// in `wrangler.toml`), with the route's name so each route counts apart.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// `CONFIG_LIMITER`, 60 a minute.
    Config,
    /// `CREATE_LIMITER`, 5 a minute (seed 004, "Create Conversation").
    Create,
    /// `READ_LIMITER`, 60 a minute.
    Read(&'static str),
    /// `WRITE_LIMITER`, 20 a minute.
    Write(&'static str),
}

/// Who calls a widget route: the request's headers (`Origin`,
/// `CF-Connecting-IP`) and the visitor's claimed identity, from the query
/// string of any widget request ([`IdentityQuery`]).
pub struct Caller {
    pub headers: HeaderMap,
    pub identity: IdentityQuery,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let identity = Query::<IdentityQuery>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
        Ok(Caller { headers: parts.headers.clone(), identity })
    }
}

/// The client's IP: `CF-Connecting-IP`, set by Cloudflare's edge.
fn client_ip(headers: &HeaderMap) -> &str {
    headers.get("cf-connecting-ip").and_then(|v| v.to_str().ok()).unwrap_or("unknown")
}

/// A verified identity: `user_hash` is `HMAC-SHA256(site secret, user_id)`
/// in hex ([`Purpose::VisitorIdentity`]), compared in constant time. `None`
/// without a `user_id`; 422 for a `user_id` over 128 characters or shaped
/// like a JWT's signing input ([`edgechat_shared::api::app::looks_like_jwt_input`]); 401
/// `unauthorized` for a missing or wrong hash.
pub fn verify_identity<'a>(site: &SiteRow, identity: &'a IdentityQuery) -> ApiResult<Option<&'a str>> {
    let Some(user_id) = claimed_user_id(identity) else { return Ok(None) };
    if user_id.chars().count() > 128 {
        return Err(FieldError::new("user_id", "user_id must be at most 128 characters").into());
    }
    // A `user_hash` over a JWT-shaped id would be an identity JWT's signature.
    if edgechat_shared::api::app::looks_like_jwt_input(user_id) {
        return Err(FieldError::new("user_id", "user_id must not have the shape of a JWT").into());
    }
    let hash = identity.user_hash.as_deref().unwrap_or_default();
    if Purpose::VisitorIdentity.verify(&site.identity_secret, user_id.as_bytes(), hash) {
        Ok(Some(user_id))
    } else {
        Err(ApiError::unauthorized("user_hash does not match user_id for this site"))
    }
}

/// The `user_id` a request claims (an empty one claims none); `None`: the
/// request acts as its session's anonymous visitor.
pub fn claimed_user_id(identity: &IdentityQuery) -> Option<&str> {
    identity.user_id.as_deref().filter(|u| !u.is_empty())
}

/// Counts the request; 429 `rate_limited` with `Retry-After` past the limit.
pub(crate) async fn rate_limit(env: &Env, headers: &HeaderMap, limit: Limit, site_key: &str) -> ApiResult<()> {
    let (binding, route) = match limit {
        Limit::Config => ("CONFIG_LIMITER", "config"),
        Limit::Create => ("CREATE_LIMITER", "create"),
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
/// `origin_not_allowed`). Requests without `Origin` (not from a page)
/// pass. An `Origin` that is not ASCII (no browser sends one: RFC 6454
/// serializes hosts in their `xn--` form) is checked as written, so a site
/// with allowed origins refuses it; it is never echoed ([`cors`]).
pub fn check_origin(site: &SiteRow, headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let allowed = site.allowed_origins();
    let passes = match origin.is_ascii() {
        true => validate::origin_allowed(&allowed, &origin),
        false => allowed.is_empty(),
    };
    match passes {
        true => Ok(()),
        false => Err(ApiError::origin_not_allowed(&origin)),
    }
}

/// Validates `site_key`, counts the request against `limit`, loads the site
/// and checks the request's origin. Errors: 422 malformed, 429, 404 unknown
/// site key, 403 `origin_not_allowed`.
pub async fn load_site(env: &Env, caller: &Caller, limit: Limit, site_key: &str) -> ApiResult<SiteRow> {
    validate::site_key(site_key)?;
    rate_limit(env, &caller.headers, limit, site_key).await?;
    let site = sites::by_key(&db::database(env)?, site_key).await?.ok_or_else(ApiError::unknown_site_key)?;
    check_origin(&site, &caller.headers)?;
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

impl Visitor {
    /// The visitor's conversation as a Room context: the one loader of "this
    /// visitor's conversation, or 404" (`not_found` before their first message).
    pub fn conversation(&self) -> ApiResult<RoomContext> {
        let conversation_id = self.conversation_id.ok_or_else(|| ApiError::not_found("conversation"))?;
        Ok(RoomContext { conversation_id, site_id: Some(self.site.id), account_id: self.site.account_id })
    }

    /// How the visitor's site signs the links of its files.
    pub fn file_links(&self) -> FileLinks {
        FileLinks::of(&self.site)
    }
}

/// Validates `site_key` and `session_id`, counts the request against
/// `limit`, and loads site and visitor in one query. Errors: 422 malformed,
/// 429, 404 unknown site key, 403 `origin_not_allowed`, 403 `blocked` for a
/// visitor the operators blocked (seed 002).
pub async fn load_visitor(env: &Env, caller: &Caller, limit: Limit, site_key: &str, session_id: &str) -> ApiResult<Visitor> {
    let visitor = load_visitor_any(env, caller, limit, site_key, session_id).await?;
    if visitor.blocked {
        return Err(ApiError::blocked());
    }
    Ok(visitor)
}

/// [`load_visitor`] that also answers blocked visitors (for `block-status`).
///
/// Who the request acts as ([`visitors::SiteVisitors::plan`]): with a
/// verified identity, always that user's own visitor, on any device (an
/// anonymous session's visitor becomes its first verified user's when that
/// user has none yet); without one, the session's anonymous visitor only. A
/// session whose visitor was verified is a fresh anonymous visitor to a
/// request without identity, so whoever holds the browser after the user
/// logs out never sees their conversation; and another verified user on the
/// same browser gets their own visitor and conversation (issue 10, hole 4).
pub async fn load_visitor_any(env: &Env, caller: &Caller, limit: Limit, site_key: &str, session_id: &str) -> ApiResult<Visitor> {
    validate::site_key(site_key)?;
    validate::session_id(session_id)?;
    rate_limit(env, &caller.headers, limit, site_key).await?;
    counted_visitor(env, caller, site_key, session_id).await
}

/// [`load_visitor_any`] of a request already validated and counted against
/// its limit. Errors: 404 unknown site key, 403 `origin_not_allowed`, 401
/// or 422 for a bad identity.
pub async fn counted_visitor(env: &Env, caller: &Caller, site_key: &str, session_id: &str) -> ApiResult<Visitor> {
    let claimed = claimed_user_id(&caller.identity);
    let db = db::database(env)?;
    let row = visitors::site_with_visitors(&db, site_key, session_id, claimed).await?.ok_or_else(ApiError::unknown_site_key)?;
    check_origin(&row.site, &caller.headers)?;
    let verified = verify_identity(&row.site, &caller.identity)?;
    let state = match row.plan(verified) {
        Plan::Visitor(state) => state,
        Plan::Upgrade(session, user_id) if visitors::upgrade_to_verified(&db, session.id, user_id).await? => Some(session),
        Plan::Upgrade(_, user_id) | Plan::Create(user_id) => {
            Some(VisitorState { id: visitors::verified_visitor(&db, row.site.id, user_id).await?, conversation_id: None, blocked: false })
        }
    };
    if let (Some(state), Some(_)) = (state, verified) {
        save_identity_details(&db, state.id, &caller.identity).await?;
    }
    Ok(Visitor {
        site: row.site,
        visitor_id: state.map(|s| s.id),
        conversation_id: state.and_then(|s| s.conversation_id),
        blocked: state.is_some_and(|s| s.blocked),
    })
}

/// Stores the valid `email` and `name` a verified identity carries on its visitor.
async fn save_identity_details(db: &D1Database, visitor_id: i64, identity: &IdentityQuery) -> ApiResult<()> {
    let email = identity.email.as_deref().filter(|e| validate::email(e).is_ok());
    let name = identity.name.as_deref().filter(|n| validate::display_name("name", n).is_ok());
    if email.is_some() || name.is_some() {
        db::visitors::set_visitor_details(db, visitor_id, email, name).await?;
    }
    Ok(())
}

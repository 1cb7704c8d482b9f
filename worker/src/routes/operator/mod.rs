//! The operator API, `/v1/*` (seeds 002, 000, 003): bearer JWT, every query
//! scoped to the caller's account; ids of another account answer 404.

pub mod api_keys;
pub mod chat;
pub mod complaints;
pub mod conversations;
pub mod live;
pub mod media;
pub mod messages;
pub mod proactive;
pub mod ratings;
pub mod sites;
pub mod team;
pub mod tickets;
pub mod transcripts;
pub mod users;
pub mod webhooks;

use edgechat_shared::api::conversations::{DEFAULT_PAGE, MAX_PAGE};
use edgechat_shared::error::FieldError;

use crate::error::ApiResult;

/// A page size: `limit` when 1 to 100, the default 25 when absent; 422 otherwise.
pub fn page_size(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::new("limit", format!("limit must be 1 to {MAX_PAGE}")).into()),
    }
}

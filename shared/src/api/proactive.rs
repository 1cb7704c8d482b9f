//! Proactive messages: `/v1/sites/{id}/proactive` (operators manage rules)
//! and `GET /api/v1/chat/pending-proactive` (seed 001; the loader polls it).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A proactive rule: show `message` on pages matching `url_match` after
/// `delay_seconds` on the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProactiveRule {
    /// Rule id.
    pub id: i64,
    /// The nudge, 1 to 500 characters.
    pub message: String,
    /// Page pattern: empty for every page; `*` matches any text; a pattern
    /// starting with `/` is matched against the path and query, else the full URL.
    pub url_match: String,
    /// Seconds on the page before the nudge, 0 to 86,400.
    pub delay_seconds: i64,
    /// Show it to each visitor once.
    pub once_per_visitor: bool,
    /// Off rules are kept but never shown.
    pub enabled: bool,
}

/// Body of `POST /v1/sites/{id}/proactive` (message required) and `PATCH …/{rule_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProactiveInput {
    /// The nudge, 1 to 500 characters; required on creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Page pattern (as [`ProactiveRule::url_match`]), at most 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_match: Option<String>,
    /// Seconds on the page before the nudge, 0 to 86,400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<i64>,
    /// Show it to each visitor once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub once_per_visitor: Option<bool>,
    /// Off rules are kept but never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

impl ProactiveInput {
    /// Checks every present field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(message) = &self.message {
            if message.trim().is_empty() || message.chars().count() > 500 {
                return Err(FieldError::new("message", "message must be 1 to 500 characters"));
            }
        }
        if self.url_match.as_ref().is_some_and(|u| u.chars().count() > 500) {
            return Err(FieldError::new("url_match", "url_match must be at most 500 characters"));
        }
        if self.delay_seconds.is_some_and(|d| !(0..=86_400).contains(&d)) {
            return Err(FieldError::new("delay_seconds", "delay_seconds must be 0 to 86400"));
        }
        Ok(())
    }
}

/// Answer of `GET /v1/sites/{id}/proactive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProactiveList {
    /// The site's rules, oldest first.
    pub rules: Vec<ProactiveRule>,
}

/// Query of `GET /api/v1/chat/pending-proactive`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PendingQuery {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub site_key: String,
    /// The visitor's session, once they have one (for once-per-visitor rules).
    #[serde(default)]
    pub session_id: Option<String>,
    /// The page's URL.
    #[serde(default)]
    pub url: String,
    /// Seconds the visitor has been on the page.
    #[serde(default)]
    pub seconds_on_page: i64,
}

/// One due nudge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Nudge {
    /// Rule id.
    pub id: i64,
    /// The text to show.
    pub message: String,
}

/// Answer of `GET /api/v1/chat/pending-proactive` (seed 001's shape, plus
/// `next_in`: seconds until the next rule of this page comes due, so the
/// loader can poll then instead of on a timer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingProactive {
    /// Always `true`.
    pub success: bool,
    /// Nudges due now, oldest rule first.
    pub messages: Vec<Nudge>,
    /// Seconds until another rule of this page is due; absent when none.
    #[serde(default)]
    pub next_in: Option<i64>,
}

/// `true` when a page `url` matches `pattern` (see [`ProactiveRule::url_match`]).
pub fn url_matches(pattern: &str, url: &str) -> bool {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return true;
    }
    let subject = if pattern.starts_with('/') {
        match url::Url::parse(url) {
            Ok(parsed) => match parsed.query() {
                Some(query) => format!("{}?{query}", parsed.path()),
                None => parsed.path().to_string(),
            },
            Err(_) => return false,
        }
    } else {
        url.to_string()
    };
    glob(pattern.as_bytes(), subject.as_bytes())
}

/// `*` matches any run of bytes; everything else matches itself.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_patterns_match_paths_or_full_urls_with_wildcards() {
        let url = "https://shop.example.com/pricing?plan=pro";
        assert!(url_matches("", url));
        assert!(url_matches("*", url));
        assert!(url_matches("/pricing*", url));
        assert!(url_matches("/pricing?plan=pro", url));
        assert!(!url_matches("/pricing", url), "patterns are anchored");
        assert!(url_matches("https://shop.example.com/*", url));
        assert!(url_matches("*plan=pro*", url));
        assert!(!url_matches("/checkout*", url));
        assert!(!url_matches("/pricing*", "not a url"));
    }
}

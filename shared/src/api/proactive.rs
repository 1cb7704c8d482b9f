//! Proactive messages: `/v1/sites/{id}/proactive` (operators manage rules)
//! and `GET /api/v1/chat/pending-proactive` (seed 001; the loader polls it).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::limits::MAX_PAGE_URL_CHARS;

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
    /// The page's URL, at most [`MAX_PAGE_URL_CHARS`] characters.
    #[serde(default)]
    pub url: String,
    /// Seconds the visitor has been on the page.
    #[serde(default)]
    pub seconds_on_page: i64,
}

impl PendingQuery {
    /// Checks `url`: at most [`MAX_PAGE_URL_CHARS`] characters (422).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.url.chars().count() > MAX_PAGE_URL_CHARS {
            return Err(FieldError::new("url", format!("url must be at most {MAX_PAGE_URL_CHARS} characters")));
        }
        Ok(())
    }
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
    glob(pattern, &subject)
}

/// `*` matches any run of characters (none included); everything else
/// matches itself; the whole `text` must match.
///
/// Linear in `pattern.len() + text.len()`: the literal runs between stars
/// are found left to right, each at its leftmost place (`str::find`, the
/// Two-Way algorithm), which is enough because a `*` can absorb whatever an
/// earlier place would have left. No backtracking, whatever the number of
/// wildcards (issue 10, hole 5).
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(rest) = text.strip_prefix(first) else { return false };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else { return rest.is_empty() };
    let Some(mut rest) = rest.strip_suffix(last) else { return false };
    for literal in middle {
        match rest.find(literal) {
            Some(at) => rest = &rest[at + literal.len()..],
            None => return false,
        }
    }
    true
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

    #[test]
    fn wildcards_match_any_run_including_none_and_overlapping_ends() {
        assert!(url_matches("*/*/*.pdf", "https://x.test/a/b.pdf"));
        assert!(url_matches("https://x.test/**", "https://x.test/"));
        assert!(url_matches("*a*a*", "https://x.test/aa"));
        assert!(!url_matches("*a*a*a*", "https://x.test/aa"), "each literal is used once");
        assert!(url_matches("https://x.test/aba*aba", "https://x.test/abaaba"));
        assert!(!url_matches("https://x.test/aba*aba", "https://x.test/aba"), "prefix and suffix may not share characters");
        assert!(url_matches("*é*", "https://x.test/café"));
        assert!(!url_matches("*.pdf", "https://x.test/a.pdf?x=1"), "anchored at the end");
    }

    /// The old backtracking matcher took O(n^k) for k wildcards: this pair
    /// did not finish in minutes. Now every match is linear: the fastest of
    /// 20 runs (so a busy machine cannot make it flaky) is far under 5 ms.
    #[test]
    fn ten_wildcards_against_a_2000_character_url_take_well_under_a_millisecond() {
        let url = format!("https://shop.example.com/{}b", "a/".repeat(987));
        assert_eq!(url.chars().count(), 2_000);
        let pattern = "*/*/*/*/*/*/*/*/*/*.pdf";
        assert_eq!(pattern.matches('*').count(), 10);
        let best = (0..20)
            .map(|_| {
                let started = std::time::Instant::now();
                assert!(!url_matches(pattern, &url));
                assert!(url_matches(pattern, &format!("{url}x.pdf")));
                started.elapsed()
            })
            .min()
            .unwrap();
        assert!(best < std::time::Duration::from_millis(5), "two matches took {best:?}");
    }

    #[test]
    fn a_page_url_over_2048_characters_is_refused() {
        let query = |n: usize| PendingQuery { url: format!("https://x.test/{}", "a".repeat(n - 15)), ..Default::default() };
        assert!(query(MAX_PAGE_URL_CHARS).validate().is_ok());
        assert_eq!(query(MAX_PAGE_URL_CHARS + 1).validate().unwrap_err().field, "url");
    }
}

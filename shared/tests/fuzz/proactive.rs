//! The proactive URL matcher: a rule's pattern (operator input) against a
//! page URL (visitor input) on every `GET /api/v1/chat/pending-proactive`.

use edgechat_shared::api::proactive::url_matches;
use proptest::prelude::*;

use crate::run;
use crate::timing::assert_linear;

fn text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(&["*", "/", "a", "b", "?", "=", "https://x.io", "http://", "%", "é", ":", " "][..]);
    prop_oneof![prop::collection::vec(piece, 0..16).prop_map(|p| p.concat()), "\\PC{0,60}"]
}

#[test]
fn patterns_match_as_globs_without_panic() {
    run("proactive_url_matches", (text(), text()), |(pattern, url)| {
        let matched = url_matches(&pattern, &url);
        let trimmed = pattern.trim();
        if trimmed.is_empty() || trimmed.chars().all(|c| c == '*') {
            prop_assert!(matched, "{:?} matches everything", pattern);
        }
        if !trimmed.starts_with('/') && !trimmed.is_empty() {
            // Literal pieces of the URL joined by stars match it.
            let half = url.len() / 2;
            if url.is_char_boundary(half) {
                let glob = format!("{}*{}", &url[..half], &url[half..]);
                if glob.trim() == glob && !glob.starts_with('/') {
                    prop_assert!(url_matches(&glob, &url), "{:?} should match {:?}", glob, url);
                }
            }
            if !trimmed.contains('*') {
                prop_assert_eq!(matched, trimmed == url);
            }
        }
        Ok(())
    });
}

#[test]
fn matching_is_linear_in_pattern_and_url() {
    let url = |n: usize| format!("https://example.com/{}", "a".repeat(n));
    assert_linear(
        "many stars",
        20_000,
        |n| "*a".repeat(n / 2) + "*b",
        |pattern| {
            std::hint::black_box(url_matches(pattern, &url(pattern.len())));
        },
    );
}

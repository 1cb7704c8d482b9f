//! `/v1/chat/messages/*` beyond sending (seed 002): edit, reactions,
//! forward, full-text search and sync; their wire types and input rules.

use serde::{Deserialize, Serialize};

use super::conversations::ConversationSummary;
use super::{ChatMessage, Reaction};
use crate::api::list_cap;
use crate::error::FieldError;
use crate::validate;

/// Largest emoji accepted, in UTF-8 bytes. The longest RGI emoji (UTS #51,
/// Emoji 15.1), a kiss or couple with two skin tones such as
/// `👩🏻‍❤️‍💋‍👨🏼`, is 35 bytes; 64 keeps every one with room for later
/// versions and bounds the stored key.
pub const MAX_EMOJI_BYTES: usize = 64;
/// Messages forwarded by one call, at most.
pub const MAX_FORWARD_MESSAGES: usize = 20;
/// Conversations forwarded to by one call, at most.
pub const MAX_FORWARD_TARGETS: usize = 10;
/// Longest search query, in characters (issue 12).
pub const MAX_QUERY_CHARS: usize = 200;
/// Default number of search results.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Largest `limit` of a search.
pub const MAX_SEARCH_LIMIT: u32 = 50;
/// Conversations one sync names, at most.
pub const MAX_SYNC_CONVERSATIONS: usize = 100;
/// Messages one sync answers per conversation, at most (then `has_more`).
pub const SYNC_PAGE: u32 = 100;
/// Messages one sync answers in all, at most: a sync naming many
/// conversations gets fewer per conversation ([`sync_page`]), never more
/// than this in one response.
pub const MAX_SYNC_MESSAGES: u32 = 1_000;

/// Messages per conversation of a sync naming `conversations`: [`SYNC_PAGE`],
/// or fewer so that all of them stay within [`MAX_SYNC_MESSAGES`]; at least 1.
pub fn sync_page(conversations: usize) -> u32 {
    let n = u32::try_from(conversations.max(1)).unwrap_or(u32::MAX);
    (MAX_SYNC_MESSAGES / n).clamp(1, SYNC_PAGE)
}
/// Conversations a sync reports as new, at most (newest activity first).
pub const MAX_NEW_CONVERSATIONS: u32 = 50;
/// Opens a highlighted stretch of a search `snippet` (U+0002, START OF TEXT).
pub const HIGHLIGHT_START: char = '\u{2}';
/// Closes a highlighted stretch of a search `snippet` (U+0003, END OF TEXT).
pub const HIGHLIGHT_END: char = '\u{3}';

/// Body of `PATCH /v1/chat/messages/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditMessage {
    /// The new text: the rules of a sent message (not blank, at most
    /// [`crate::limits::MAX_MESSAGE_CHARS`] characters).
    #[serde(default)]
    pub content: String,
}

impl EditMessage {
    /// 422 for a blank or over-long `content`.
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::message(&self.content).map_err(|e| FieldError::new("content", e.message.replace("message", "content")))
    }
}

/// One earlier version of an edited message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageEdit {
    /// The text before this edit.
    pub content: String,
    /// When the edit replaced it, RFC 3339 UTC.
    pub edited_at: String,
    /// The operator (user id) who edited it; absent once their user is deleted.
    #[serde(default)]
    pub edited_by: Option<i64>,
}

/// Answer of `GET /v1/chat/messages/{id}/edits`: the earlier versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditList {
    pub edits: Vec<MessageEdit>,
}

/// Body of `POST /v1/chat/messages/{id}/reactions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionToggle {
    /// Exactly one emoji grapheme (see [`emoji`]).
    #[serde(default)]
    pub emoji: String,
}

/// Answer of `POST /v1/chat/messages/{id}/reactions`: the message's reactions after the toggle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionState {
    pub message_id: i64,
    /// One entry per emoji, in the order first given; `mine` for the caller.
    pub reactions: Vec<Reaction>,
}

/// The shape of a reaction emoji: not empty, at most [`MAX_EMOJI_BYTES`]
/// bytes, not plain ASCII (422 `validation_error` on `emoji` otherwise).
///
/// That it is exactly one emoji is the worker's second check
/// (`worker/src/emoji.rs`: one sequence of Unicode's RGI emoji set, UTS
/// #51, as the runtime's regular expressions know it, anchored at both
/// ends), which refuses text, two emojis and anything else; an RGI emoji
/// sequence is one grapheme cluster. So no emoji or grapheme table is
/// compiled into the wasm (`unicode-segmentation`'s grapheme-break
/// tables were 21 KB of the worker's, issue 16).
pub fn emoji(value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new("emoji", "emoji is required"));
    }
    if value.len() > MAX_EMOJI_BYTES {
        return Err(FieldError::new("emoji", format!("emoji must be at most {MAX_EMOJI_BYTES} bytes")));
    }
    // Plain ASCII (`1`, `#`) is text even where Unicode lists a keycap base.
    if value.is_ascii() {
        return Err(emoji_error());
    }
    Ok(())
}

/// Whether `a` and `b` are one reaction: the same emoji with or without
/// presentation selectors (U+FE0F), as `❤` and `❤️` (the worker's
/// reactions store and group them so).
pub fn same_emoji(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.chars().filter(|c| *c != '\u{fe0f}').collect::<Vec<_>>();
    bare(a) == bare(b)
}

/// The 422 of a reaction that has the shape of one emoji but is not one.
pub fn emoji_error() -> FieldError {
    FieldError::new("emoji", "emoji must be one emoji")
}

/// Body of `POST /v1/chat/messages/forward`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForwardRequest {
    /// 1 to [`MAX_FORWARD_MESSAGES`] message ids, copied in this order.
    #[serde(default, deserialize_with = "list_cap::at_most::<20, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub message_ids: Vec<i64>,
    /// 1 to [`MAX_FORWARD_TARGETS`] conversation ids to copy them into.
    #[serde(default, deserialize_with = "list_cap::at_most::<10, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub conversation_ids: Vec<i64>,
}

impl ForwardRequest {
    /// 422 for an empty or over-long list, or an id given twice.
    pub fn validate(&self) -> Result<(), FieldError> {
        bounded("message_ids", &self.message_ids, MAX_FORWARD_MESSAGES)?;
        bounded("conversation_ids", &self.conversation_ids, MAX_FORWARD_TARGETS)
    }
}

fn bounded(field: &'static str, ids: &[i64], max: usize) -> Result<(), FieldError> {
    if ids.is_empty() || ids.len() > max {
        return Err(FieldError::new(field, format!("{field} must list 1 to {max} ids")));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != ids.len() {
        return Err(FieldError::new(field, format!("{field} lists an id twice")));
    }
    Ok(())
}

/// Answer of `POST /v1/chat/messages/forward` (201): the copies, per
/// message in the order given, per target in the order given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForwardedMessages {
    pub messages: Vec<ChatMessage>,
}

/// Query of `GET /v1/chat/messages/search`. Results come newest first
/// (message id descending); `before` is the `next_cursor` of the previous page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct SearchQuery {
    /// Words to find, 1 to 200 characters (see [`search_terms`]).
    #[serde(default)]
    pub q: String,
    /// Only this conversation's messages.
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// Only the messages of this site's conversations.
    #[serde(default)]
    pub site_id: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub before: Option<String>,
    /// Page size, 1 to 50 (default 20).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 50))]
    pub limit: Option<u32>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub conversation_id: i64,
    pub message: ChatMessage,
    /// Plain text around the matches (FTS5 `snippet()`, at most about 16
    /// words, `…` where text was left out). Never HTML: render it as text.
    pub snippet: String,
    /// The matched stretches of `snippet`, as `[start, end)` offsets in
    /// Unicode scalar values (chars): render these highlighted.
    pub highlights: Vec<[usize; 2]>,
}

/// Answer of `GET /v1/chat/messages/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    /// Newest first.
    pub results: Vec<SearchHit>,
    /// Pass as `before` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Punctuation a query may hold besides letters, digits and spaces; every
/// other character (notably FTS5's syntax `"*():^{}-+`) is refused.
pub const QUERY_PUNCTUATION: &[char] = &['.', ',', '\'', '!', '?', '@', '&', '_', '/', '#'];

/// FTS5 operators, refused as words of a query (they would be syntax).
const FTS_OPERATORS: &[&str] = &["AND", "OR", "NOT", "NEAR"];

/// The rule of a search query (issue 12: bad queries are 422, never 500):
/// 1 to [`MAX_QUERY_CHARS`] characters of letters, digits, spaces and
/// [`QUERY_PUNCTUATION`]; no word may be an FTS5 operator spelled in
/// capitals (`AND`, `OR`, `NOT`, `NEAR`); at least one word must hold a
/// letter or digit. Answers the FTS5 expression: each word quoted as an
/// FTS5 string (`"word"`), all of them required (implicit AND), so nothing
/// the caller types is ever FTS syntax.
pub fn search_terms(q: &str) -> Result<String, FieldError> {
    let refuse = |why: &str| Err(FieldError::new("q", format!("q {why}")));
    let q = q.trim();
    if q.is_empty() {
        return refuse("is required");
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return refuse(&format!("must be at most {MAX_QUERY_CHARS} characters"));
    }
    if let Some(c) = q.chars().find(|&c| !(c.is_alphanumeric() || c == ' ' || QUERY_PUNCTUATION.contains(&c))) {
        return refuse(&format!(
            "may hold only letters, digits, spaces and {}; not '{}'",
            QUERY_PUNCTUATION.iter().collect::<String>(),
            c.escape_debug()
        ));
    }
    let words: Vec<&str> = q.split(' ').filter(|w| !w.is_empty()).collect();
    if let Some(op) = words.iter().find(|w| FTS_OPERATORS.contains(w)) {
        return refuse(&format!("must not use the search operator {op}"));
    }
    let terms: Vec<String> = words.iter().filter(|w| w.chars().any(char::is_alphanumeric)).map(|w| format!("\"{w}\"")).collect();
    if terms.is_empty() {
        return refuse("must hold a word");
    }
    Ok(terms.join(" "))
}

/// Splits an FTS5 `snippet()` made with [`HIGHLIGHT_START`] and
/// [`HIGHLIGHT_END`] into its plain text and the highlighted char ranges.
pub fn split_highlights(marked: &str) -> (String, Vec<[usize; 2]>) {
    let mut text = String::with_capacity(marked.len());
    let mut ranges = Vec::new();
    let (mut at, mut open) = (0, None);
    for c in marked.chars() {
        match c {
            HIGHLIGHT_START => open = Some(at),
            HIGHLIGHT_END => {
                if let Some(start) = open.take() {
                    if at > start {
                        ranges.push([start, at]);
                    }
                }
            }
            c => {
                text.push(c);
                at += 1;
            }
        }
    }
    (text, ranges)
}

/// One conversation of a sync request.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncCursor {
    /// Conversation id.
    pub id: i64,
    /// The newest `seq` the client has (0: none).
    #[serde(default)]
    pub last_seq: i64,
}

/// Body of `POST /v1/chat/messages/sync`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncRequest {
    /// 1 to [`MAX_SYNC_CONVERSATIONS`] conversations the client has.
    #[serde(default, deserialize_with = "list_cap::at_most::<100, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub conversations: Vec<SyncCursor>,
    /// RFC 3339 time the client last synced: conversations it did not name
    /// with activity after it come back in `new_conversations`. Absent: none.
    #[serde(default)]
    pub since: Option<String>,
}

impl SyncRequest {
    /// 422 for an empty or over-long list, a conversation named twice, a
    /// negative `last_seq`, or a `since` that is not RFC 3339.
    pub fn validate(&self) -> Result<(), FieldError> {
        let ids: Vec<i64> = self.conversations.iter().map(|c| c.id).collect();
        bounded("conversations", &ids, MAX_SYNC_CONVERSATIONS)?;
        if self.conversations.iter().any(|c| c.last_seq < 0) {
            return Err(FieldError::new("last_seq", "last_seq must not be negative"));
        }
        if let Some(since) = &self.since {
            if crate::validate::rfc3339_stored(since).is_none() {
                return Err(FieldError::new("since", "since must be an RFC 3339 time such as 2026-11-21T10:30:00Z"));
            }
        }
        Ok(())
    }

    /// `since` in UTC with milliseconds, as stored (`2026-11-21T10:30:00.000Z`), comparable as text.
    pub fn since_utc(&self) -> Option<String> {
        crate::validate::rfc3339_stored(self.since.as_deref()?)
    }
}

/// The messages a client missed in one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncedConversation {
    pub id: i64,
    /// The messages after `last_seq`, oldest first, at most [`SYNC_PAGE`].
    pub messages: Vec<ChatMessage>,
    /// `true` when more follow: sync again from the last `seq`.
    pub has_more: bool,
}

/// Answer of `POST /v1/chat/messages/sync`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncResponse {
    /// One per conversation named that the caller may see, in the order named.
    pub conversations: Vec<SyncedConversation>,
    /// Ids named that do not exist or the caller may not see (any more).
    pub gone: Vec<i64>,
    /// Conversations the caller may see, not named, with activity after
    /// `since` (newest first, at most [`MAX_NEW_CONVERSATIONS`]).
    pub new_conversations: Vec<ConversationSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_emoji_has_the_shape() {
        for ok in ["👍", "❤️", "❤", "🎉", "👍🏽", "👨‍👩‍👧", "🇫🇷", "✅", "👩🏻\u{200d}❤️\u{200d}💋\u{200d}👨🏼"]
        {
            assert!(emoji(ok).is_ok(), "{ok:?} should be an emoji");
        }
    }

    #[test]
    fn the_variants_of_one_emoji_are_the_same() {
        assert!(same_emoji("❤", "❤️"));
        assert!(same_emoji("❤\u{fe0f}\u{fe0f}", "❤️"));
        assert!(same_emoji("👍", "👍"));
        assert!(!same_emoji("👍", "👍🏽"));
        assert!(!same_emoji("❤️", "💙"));
    }

    /// Two emojis, or an emoji with text, are the worker's RGI check
    /// (`tests/tests/team/messages.rs`, `anything_but_one_emoji_is_422`).
    #[test]
    fn anything_not_shaped_like_one_emoji_is_refused() {
        // One grapheme (a letter and 40 combining accents) over the 64 bytes.
        let too_long = format!("é{}", "\u{301}".repeat(40));
        for bad in ["", "a", "ok", "1", "<b>", too_long.as_str()] {
            assert!(emoji(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn plain_words_become_quoted_terms() {
        assert_eq!(search_terms("  refund  policy ").unwrap(), r#""refund" "policy""#);
        assert_eq!(search_terms("don't, please!").unwrap(), r#""don't," "please!""#);
        assert_eq!(search_terms("café or not").unwrap(), r#""café" "or" "not""#);
    }

    #[test]
    fn fts_syntax_and_bad_lengths_are_refused() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        for bad in [
            "",
            "   ",
            long.as_str(),
            "\"refund",
            "ref*",
            "NEAR(a b)",
            "a OR b",
            "a AND b",
            "NOT a",
            "(refund",
            "content:refund",
            "^refund",
            "-refund",
            "+refund",
            "{a b}",
            "...",
            "a\tb",
            "<b>",
        ] {
            assert!(search_terms(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(search_terms(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn highlights_are_char_ranges_of_the_plain_snippet() {
        let (text, ranges) = split_highlights("…the \u{2}café\u{3} <b>is\u{2}\u{3} \u{2}open\u{3}");
        assert_eq!(text, "…the café <b>is open");
        assert_eq!(ranges, vec![[5, 9], [16, 20]]);
    }

    #[test]
    fn sync_requests_are_bounded() {
        let cursor = |id, last_seq| SyncCursor { id, last_seq };
        assert!(SyncRequest { conversations: vec![], since: None }.validate().is_err());
        assert!(SyncRequest { conversations: vec![cursor(1, -1)], since: None }.validate().is_err());
        assert!(SyncRequest { conversations: vec![cursor(1, 0), cursor(1, 2)], since: None }.validate().is_err());
        let many = (0..=MAX_SYNC_CONVERSATIONS as i64).map(|id| cursor(id, 0)).collect();
        assert!(SyncRequest { conversations: many, since: None }.validate().is_err());
        assert!(SyncRequest { conversations: vec![cursor(1, 0)], since: Some("yesterday".into()) }.validate().is_err());
        let ok = SyncRequest { conversations: vec![cursor(1, 3)], since: Some("2026-11-21T11:30:00+01:00".into()) };
        assert!(ok.validate().is_ok());
        assert_eq!(ok.since_utc().unwrap(), "2026-11-21T10:30:00.000Z");
    }

    #[test]
    fn forwards_are_bounded() {
        let request =
            |m: usize, c: usize| ForwardRequest { message_ids: (1..=m as i64).collect(), conversation_ids: (1..=c as i64).collect() };
        assert!(request(1, 1).validate().is_ok());
        assert!(request(MAX_FORWARD_MESSAGES, MAX_FORWARD_TARGETS).validate().is_ok());
        assert!(request(0, 1).validate().is_err());
        assert!(request(1, 0).validate().is_err());
        assert!(request(MAX_FORWARD_MESSAGES + 1, 1).validate().is_err());
        assert!(request(1, MAX_FORWARD_TARGETS + 1).validate().is_err());
        assert!(ForwardRequest { message_ids: vec![4, 4], conversation_ids: vec![1] }.validate().is_err());
    }

    #[test]
    fn a_sync_of_many_conversations_stays_within_its_total() {
        assert_eq!(sync_page(1), SYNC_PAGE);
        assert_eq!(sync_page(3), SYNC_PAGE);
        assert_eq!(sync_page(MAX_SYNC_CONVERSATIONS), 10);
        assert!(sync_page(MAX_SYNC_CONVERSATIONS) * MAX_SYNC_CONVERSATIONS as u32 <= MAX_SYNC_MESSAGES);
        assert_eq!(sync_page(0), SYNC_PAGE);
    }
}

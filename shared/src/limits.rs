//! Limits shared by the worker (which enforces them) and the widget (which
//! warns before sending).

/// Longest visitor message, in Unicode scalar values (characters).
/// Source: seed 004, "Initial message (max 10,000 characters)".
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// Shortest accepted `session_id`, in characters. A session id is a client-held
/// secret of at least 128 random bits (ARCHITECTURE.md, security model): 22
/// base64url characters carry 132 bits.
pub const MIN_SESSION_ID_CHARS: usize = 22;

/// Longest accepted `session_id`, in characters.
pub const MAX_SESSION_ID_CHARS: usize = 128;

/// Longest accepted client `message_id`, in characters.
pub const MAX_MESSAGE_ID_CHARS: usize = 64;

/// Longest accepted `lang` tag (BCP 47), in characters.
pub const MAX_LANG_CHARS: usize = 35;

/// Longest knowledge-base article title, in characters.
pub const MAX_ARTICLE_TITLE_CHARS: usize = 500;

/// Longest knowledge-base article body, in characters.
pub const MAX_ARTICLE_BODY_CHARS: usize = 100_000;

/// Longest page URL the loader may send to `GET /api/v1/chat/pending-proactive`
/// (`url`) and the widget with a visitor message (`page_url`), in characters:
/// 2,048, the de-facto URL limit of browsers and CDNs (and of sitemaps,
/// sitemaps.org). Longer is 422.
pub const MAX_PAGE_URL_CHARS: usize = 2_048;

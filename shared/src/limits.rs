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

// Streamed AI answers (issue 16, "no unbounded time or memory"): what the
// worker accepts from a model and the widget from `POST /api/v1/chat/stream`.

/// Longest streamed AI answer, in bytes of UTF-8: 64 KiB. The worker asks a
/// model for at most `AI_MAX_TOKENS` tokens (600 by default, about 2,400
/// characters at OpenAI's rule of thumb of ~4 characters per token), so an
/// honest answer is a few kilobytes; 64 KiB leaves room for an operator's
/// larger `max_tokens` and multi-byte scripts while bounding what a broken or
/// hostile upstream can make the worker buffer and store, and the widget
/// show. Over it, the worker's LLM stream reader fails the answer
/// (`Failure::TooLong`) and the widget's answer-stream reader stops with an
/// error.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Longest time one streamed answer may take from request to its end, in
/// ms: 180,000 (3 minutes). The worker's per-event wait (`AI_TIMEOUT_MS`,
/// 20 s by default) catches a stalled upstream but not one that trickles a
/// byte every few seconds forever; this caps the whole answer. The same
/// figure bounds the widget's wait for `POST /api/v1/chat/stream` to finish.
/// Source: models stream about 20–100 tokens/s (OpenAI and Workers AI
/// dashboards), so the default 600-token answer takes at most ~30 s and a
/// [`MAX_ANSWER_BYTES`] answer (~16,000 tokens) ~160 s at 100 tokens/s;
/// an answer still running after 3 minutes is an upstream gone wrong.
pub const ANSWER_STREAM_TIMEOUT_MS: u64 = 180_000;

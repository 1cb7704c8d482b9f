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

/// Most proactive rules a site has: the widget's every poll loads and
/// matches them all, and writes one "shown" mark per due rule.
pub const MAX_PROACTIVE_RULES_PER_SITE: usize = 50;

/// Most articles a site's knowledge base holds (migration 0029's trigger):
/// every visitor question ranks them all in one index.
pub const MAX_ARTICLES_PER_SITE: usize = 1_000;

/// Most characters of titles and bodies a site's knowledge base holds
/// (4 MiB; migration 0029's trigger counts SQLite `length()`, characters).
pub const MAX_KB_CHARS_PER_SITE: usize = 4 * 1024 * 1024;

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
// ---------------------------------------------------------------- resources
//
// Caps on what one Durable Object or isolate holds in memory for live
// clients, so that no visitor, operator or site can make it grow without
// bound (ARCHITECTURE.md, "Caps"; issue 16). README, "Resource caps".

/// Most live SSE streams of one conversation (`GET /api/v1/chat/events`
/// and `GET /api/v1/app/conversations/{id}/events` together), held by its
/// `Room`. When one more opens, the OLDEST stream ends (after an SSE
/// comment `: replaced by a newer stream`), not the new one: a visitor who
/// keeps opening tabs never locks themselves out, and the Room never holds
/// more than this many. A widget session has exactly one conversation, so
/// this is also the cap per widget visitor.
pub const LIVE_STREAMS_PER_CONVERSATION: usize = 8;

/// Most live events waiting in the Room for one slow SSE stream (sent,
/// not yet read by the response body). A stream that would hold more is
/// dropped: it ends after the events already queued, and its client
/// resumes with `Last-Event-ID` and is replayed the rest from D1 (every
/// event that carries a message is stored before it is broadcast, so
/// nothing is lost). Live events that arrive while a (re)connected stream
/// is replayed wait here too; the replay itself is read from D1 a page at
/// a time as the client reads it. The worker var `LIVE_BUFFER_EVENTS`
/// overrides it for tests only.
pub const LIVE_BUFFER_EVENTS: usize = 32;

/// Most operator WebSockets (`GET /v1/chat/live`) of one operator in their
/// account's `Inbox`: a console open in a few tabs and devices. One more
/// closes that operator's oldest socket with [`LIVE_SOCKET_OVER_CAP_CLOSE`].
pub const OPERATOR_SOCKETS_PER_OPERATOR: usize = 8;

/// Most operator WebSockets of one account's `Inbox` (every event of the
/// account is sent to each, so this bounds the cost of one broadcast).
/// One more closes the oldest socket of the operator holding the most.
pub const OPERATOR_SOCKETS_PER_ACCOUNT: usize = 256;

/// The WebSocket close code of a socket closed because a newer one went
/// over [`OPERATOR_SOCKETS_PER_OPERATOR`] or [`OPERATOR_SOCKETS_PER_ACCOUNT`]
/// (4000–4999: application codes, RFC 6455 §7.4.2; 4029 echoes HTTP 429).
pub const LIVE_SOCKET_OVER_CAP_CLOSE: u16 = 4029;

/// Most bytes of knowledge-base indexes (articles and their search index,
/// estimated by `heap_bytes`) one Worker isolate keeps: 16 MiB, an eighth
/// of the isolate's 128 MB memory limit. Past it the least recently used
/// site's index is evicted and rebuilt from D1 when next asked.
pub const KB_INDEX_CACHE_BYTES: usize = 16 * 1024 * 1024;

//! `edgechat-shared`: the wire types of every EdgeChat route and event, their
//! validation and limits, the SSE framing, and the knowledge-base text rules.
//!
//! No I/O lives here: the crate compiles for the host (unit tests, integration
//! tests, xtask) and for `wasm32-unknown-unknown` (worker, widget).

pub mod api;
pub mod chat_id;
pub mod error;
pub mod handoff;
pub mod kb;
pub mod limits;
pub mod markdown;
pub mod retrieval;
pub mod sse;
pub mod texts;
pub mod theme;
pub mod upload;
pub mod validate;

//! Responders turn a visitor question into an answer: text streamed in
//! chunks plus the sources it came from (ARCHITECTURE.md, "AI responders").

pub mod kb;

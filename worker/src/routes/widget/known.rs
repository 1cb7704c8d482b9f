//! The anonymous visitors the stream route checked last, kept per isolate
//! (issue 16: a visitor's message in one D1 round trip).
//!
//! A Worker isolate serves many requests. What one checked request read for
//! an anonymous session (its site at a `revision`, the session's visitor and
//! that visitor's newest conversation) lets the session's next message go
//! straight to its conversation's Room, whose write checks in its own D1
//! transaction that all of it still holds
//! ([`crate::db::visitors::VisitorClaims`]). It is a
//! memory, not a source of truth: a stale entry costs one refused write and
//! the checked path, never a wrong answer, and nothing here is ever a reason
//! to refuse a request.
//!
//! Bounded: at most [`SITES`] sites (each with its settings, custom CSS
//! included) and [`SESSIONS`] sessions (40 bytes each), in
//! direct-mapped slots: a newer entry replaces the one in its slot.

use std::cell::RefCell;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;

use crate::db::sites::SiteRow;

/// Slots for sites (by site id) one isolate remembers.
pub const SITES: usize = 64;
/// Slots for sessions (by a keyed hash of site key and session id) one
/// isolate remembers.
pub const SESSIONS: usize = 4096;

/// A session as its last checked request found it.
#[derive(Debug, Clone, Copy)]
struct Session {
    /// The keyed hash of its site key and session id (64 bits: two
    /// sessions that share a slot are told apart by it; the write's claims
    /// name the request's own session in any case).
    hash: u64,
    site_id: i64,
    visitor_id: i64,
    conversation_id: i64,
}

/// Direct-mapped tables: a new entry takes its slot from whatever held it.
struct Known {
    /// Random per isolate, hashed before each key (std's `RandomState`
    /// has no random source on wasm32-unknown-unknown).
    salt: [u8; 16],
    sites: Vec<Option<Rc<SiteRow>>>,
    sessions: Vec<Option<Session>>,
}

impl Known {
    /// The keyed hash of a session and its slot.
    fn session_slot(&self, site_key: &str, session_id: &str) -> (u64, usize) {
        let mut hasher = DefaultHasher::new();
        (self.salt, site_key, session_id).hash(&mut hasher);
        let hash = hasher.finish();
        (hash, (hash % SESSIONS as u64) as usize)
    }
}

thread_local! {
    static KNOWN: RefCell<Known> =
        RefCell::new(Known { salt: salt(), sites: vec![None; SITES], sessions: vec![None; SESSIONS] });
}

fn salt() -> [u8; 16] {
    let mut salt = [0; 16];
    getrandom::getrandom(&mut salt).expect("the Workers runtime provides crypto.getRandomValues");
    salt
}

fn site_slot(site_id: i64) -> usize {
    site_id.rem_euclid(SITES as i64) as usize
}

/// What the isolate remembers of an anonymous session: its site as read
/// (at [`SiteRow::revision`]), its visitor and that visitor's newest
/// conversation; a write acts on them only as claims it checks
/// ([`crate::db::visitors::VisitorClaims`]).
pub struct KnownVisitor {
    pub site: Rc<SiteRow>,
    pub visitor_id: i64,
    pub conversation_id: i64,
}

/// The anonymous session `session_id` of `site_key` as the isolate last
/// checked it; `None` when it does not remember it (or its site).
pub fn recall(site_key: &str, session_id: &str) -> Option<KnownVisitor> {
    KNOWN.with(|known| {
        let known = known.borrow();
        let (hash, slot) = known.session_slot(site_key, session_id);
        let session = known.sessions[slot].filter(|s| s.hash == hash)?;
        let site =
            known.sites[site_slot(session.site_id)].as_ref().filter(|site| site.id == session.site_id && site.site_key == site_key)?;
        Some(KnownVisitor { site: Rc::clone(site), visitor_id: session.visitor_id, conversation_id: session.conversation_id })
    })
}

/// Remembers what a checked request found for anonymous session
/// `session_id`: `site`, its visitor `visitor_id` and that visitor's newest
/// conversation `conversation_id`.
pub fn remember(session_id: &str, site: &SiteRow, visitor_id: i64, conversation_id: i64) {
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        let slot = &mut known.sites[site_slot(site.id)];
        if slot.as_ref().is_none_or(|kept| kept.id != site.id || kept.revision != site.revision) {
            *slot = Some(Rc::new(site.clone()));
        }
        let (hash, slot) = known.session_slot(&site.site_key, session_id);
        known.sessions[slot] = Some(Session { hash, site_id: site.id, visitor_id, conversation_id });
    });
}

/// Forgets session `session_id` of `site_key` (its claims no longer held).
pub fn forget(site_key: &str, session_id: &str) {
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        let (hash, slot) = known.session_slot(site_key, session_id);
        if known.sessions[slot].is_some_and(|s| s.hash == hash) {
            known.sessions[slot] = None;
        }
    });
}

//! Visitors of the widget API in D1: who a widget request acts as.
//!
//! A visitor is reached one of two ways, never both (issue 10, hole 4):
//! - an anonymous visitor by its session (`visitors.session_id`, the
//!   client-held secret of the widget), `user_id` NULL;
//! - a verified visitor by its verified `user_id` only. Its `session_id` is
//!   a placeholder ([`detached_session`]) that no client session id can
//!   equal, so a browser's session never leads to a verified user's
//!   conversation, and a verified call never rewrites another user's visitor.
//!
//! An anonymous visitor becomes verified when its session first calls with a
//! verified identity (Intercom-style identify); it is detached from the
//! session then.

use serde::Deserialize;
use worker::D1Database;

use super::sites::{first_site_with, SiteRow, SITE_COLUMNS};
use super::{int, next_id, opt_text, text};
use crate::auth::random_hex;

/// The `session_id` stored on a verified visitor: `verified:` and 128
/// random bits in hex. `:` is not a session id character
/// (`edgechat_shared::validate::session_id`), so no request's session can
/// ever name it.
fn detached_session() -> String {
    format!("verified:{}", random_hex(16))
}

/// What an earlier checked request found for an anonymous visitor: its
/// site as read at `site_revision`, and the visitor of `session_id`. Worth
/// nothing alone: only a write that states [`VisitorClaims::condition`] in
/// its own SQL (checked in the same D1 transaction as it writes) may act on
/// them (issue 16: a visitor's message in one D1 round trip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorClaims<'a> {
    pub site_id: i64,
    /// [`SiteRow::revision`] when the site was read.
    pub site_revision: i64,
    pub visitor_id: i64,
    pub session_id: &'a str,
}

impl VisitorClaims<'_> {
    /// The SQL condition true when the claims still hold, as
    /// [`site_with_visitors`] and [`SiteVisitors::plan`] check an anonymous
    /// request: the site is unchanged since it was read (its `revision`),
    /// the visitor is still the session's anonymous one and not blocked,
    /// and conversation `?{conversation}` is still its newest. Its
    /// parameters `?{first}` to `?{first + 3}` are [`VisitorClaims::params`].
    pub fn condition(conversation: usize, first: usize) -> String {
        let (revision, visitor, session) = (first + 1, first + 2, first + 3);
        format!(
            "EXISTS (SELECT 1 FROM sites s JOIN visitors v ON v.site_id = s.id \
             WHERE s.id = ?{first} AND s.revision = ?{revision} AND v.id = ?{visitor} AND v.session_id = ?{session} \
             AND v.user_id IS NULL AND v.blocked_at IS NULL \
             AND (SELECT c.id FROM conversations c WHERE c.visitor_id = v.id ORDER BY c.id DESC LIMIT 1) = ?{conversation})"
        )
    }

    /// The values of [`VisitorClaims::condition`]'s parameters, in order.
    pub fn params(&self) -> [wasm_bindgen::JsValue; 4] {
        [int(self.site_id), int(self.site_revision), int(self.visitor_id), text(self.session_id)]
    }
}

/// One visitor as a widget request sees it: its newest conversation and
/// whether operators blocked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorState {
    /// Visitor id.
    pub id: i64,
    /// The visitor's newest conversation, `None` before their first message.
    pub conversation_id: Option<i64>,
    /// `true` when the site's operators blocked the visitor.
    pub blocked: bool,
}

/// A site by its public key with the two visitors a widget request may
/// name: the anonymous visitor of its session and the verified visitor of
/// its claimed `user_id` (claimed only: verify the `user_hash` before use).
#[derive(Debug, Clone)]
pub struct SiteVisitors {
    pub site: SiteRow,
    visitors: VisitorColumns,
}

/// What a widget request acts as, decided by [`SiteVisitors::plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan<'a> {
    /// This existing visitor (or none yet, for an anonymous session that has
    /// not written).
    Visitor(Option<VisitorState>),
    /// The session's anonymous visitor becomes the verified user's: its
    /// first verified identity, whose user has no visitor yet.
    Upgrade(VisitorState, &'a str),
    /// A new visitor for the verified user, who has none yet.
    Create(&'a str),
}

impl SiteVisitors {
    /// The anonymous visitor of the request's session, if it has one.
    pub fn session_visitor(&self) -> Option<VisitorState> {
        self.visitors.session_visitor_id.map(|id| VisitorState {
            id,
            conversation_id: self.visitors.session_conversation_id,
            blocked: self.visitors.session_blocked_at.is_some(),
        })
    }

    /// The visitor of the claimed `user_id`, if it has one.
    pub fn user_visitor(&self) -> Option<VisitorState> {
        self.visitors.user_visitor_id.map(|id| VisitorState {
            id,
            conversation_id: self.visitors.user_conversation_id,
            blocked: self.visitors.user_blocked_at.is_some(),
        })
    }

    /// Who the request acts as, given its `verified` user id (`None` for an
    /// anonymous request): a verified request is always the user's own
    /// visitor (found, upgraded from the session's anonymous visitor, or
    /// created); an anonymous request is the session's anonymous visitor.
    pub fn plan<'a>(&self, verified: Option<&'a str>) -> Plan<'a> {
        match (verified, self.user_visitor(), self.session_visitor()) {
            (None, _, session) => Plan::Visitor(session),
            (Some(_), Some(user), _) => Plan::Visitor(Some(user)),
            (Some(user_id), None, Some(session)) => Plan::Upgrade(session, user_id),
            (Some(user_id), None, None) => Plan::Create(user_id),
        }
    }
}

/// The site of `site_key` with the anonymous visitor of `session_id` and
/// the visitor of `user_id` (when given), in one query (the widget API's hot
/// path); `None` for an unknown site key.
pub async fn site_with_visitors(
    db: &D1Database,
    site_key: &str,
    session_id: &str,
    user_id: Option<&str>,
) -> worker::Result<Option<SiteVisitors>> {
    let site_columns: Vec<String> = SITE_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
    db.prepare(format!(
        "SELECT {}, \
         sv.id AS session_visitor_id, sv.blocked_at AS session_blocked_at, \
         (SELECT c.id FROM conversations c WHERE c.visitor_id = sv.id ORDER BY c.id DESC LIMIT 1) AS session_conversation_id, \
         uv.id AS user_visitor_id, uv.blocked_at AS user_blocked_at, \
         (SELECT c.id FROM conversations c WHERE c.visitor_id = uv.id ORDER BY c.id DESC LIMIT 1) AS user_conversation_id \
         FROM sites s \
         LEFT JOIN visitors sv ON sv.site_id = s.id AND sv.session_id = ?2 AND sv.user_id IS NULL \
         LEFT JOIN visitors uv ON uv.site_id = s.id AND uv.user_id = ?3 \
         WHERE s.site_key = ?1",
        site_columns.join(", ")
    ))
    .bind(&[text(site_key), text(session_id), opt_text(user_id)])
    .map(first_site_with::<VisitorColumns>)?
    .await
    .map(|row| row.map(|(site, visitors)| SiteVisitors { site, visitors }))
}

/// The columns [`site_with_visitors`]' query adds to the site's.
#[derive(Debug, Clone, Deserialize)]
struct VisitorColumns {
    session_visitor_id: Option<i64>,
    session_conversation_id: Option<i64>,
    session_blocked_at: Option<String>,
    user_visitor_id: Option<i64>,
    user_conversation_id: Option<i64>,
    user_blocked_at: Option<String>,
}

/// Makes anonymous visitor `visitor_id` the verified visitor of `user_id`
/// and detaches it from its session; `false` when it is no longer
/// anonymous or `user_id` got a visitor meanwhile (nothing changes then).
pub async fn upgrade_to_verified(db: &D1Database, visitor_id: i64, user_id: &str) -> worker::Result<bool> {
    Ok(db
        .prepare(
            "UPDATE OR IGNORE visitors SET user_id = ?1, verified = 1, session_id = ?2 \
             WHERE id = ?3 AND user_id IS NULL RETURNING id",
        )
        .bind(&[text(user_id), text(&detached_session()), int(visitor_id)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

/// The verified visitor of `user_id` on `site_id`, created (detached from
/// any session) when the user has none; answers its id.
pub async fn verified_visitor(db: &D1Database, site_id: i64, user_id: &str) -> worker::Result<i64> {
    db.prepare(format!(
        "INSERT INTO visitors (id, site_id, session_id, user_id, verified) VALUES ({}, ?1, ?2, ?3, 1) \
         ON CONFLICT (site_id, user_id) WHERE user_id IS NOT NULL DO UPDATE SET verified = 1 RETURNING id",
        next_id("visitors")
    ))
    .bind(&[int(site_id), text(&detached_session()), text(user_id)])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("verified visitor was not created".into()))
}

/// The visitor of `session_id` on `site_id`, created if new; answers its id.
pub async fn ensure_visitor(db: &D1Database, site_id: i64, session_id: &str) -> worker::Result<i64> {
    db.prepare(format!(
        "INSERT INTO visitors (id, site_id, session_id) VALUES ({}, ?1, ?2) \
         ON CONFLICT (site_id, session_id) DO UPDATE SET session_id = excluded.session_id RETURNING id",
        next_id("visitors")
    ))
    .bind(&[int(site_id), text(session_id)])?
    .first::<i64>(Some("id"))
    .await?
    .ok_or_else(|| worker::Error::RustError("visitor was not created".into()))
}

/// Sets the email and name a verified visitor's site gave (absent ones
/// stay), with a `contact.updated` event about the visitor's newest
/// conversation when a value changed (none before their first
/// conversation). Answers the conversation to publish events of.
pub async fn set_visitor_details(db: &D1Database, visitor_id: i64, email: Option<&str>, name: Option<&str>) -> worker::Result<Option<i64>> {
    set_contact(db, visitor_id, email, None, name).await
}

/// Sets the contact details a visitor gave (seed 001); absent ones stay.
/// Writes a `contact.updated` event like [`set_visitor_details`].
pub async fn set_contact(
    db: &D1Database,
    visitor_id: i64,
    email: Option<&str>,
    phone: Option<&str>,
    name: Option<&str>,
) -> worker::Result<Option<i64>> {
    let values = [opt_text(email), opt_text(phone), opt_text(name), int(visitor_id)];
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO outbox (id, account_id, type, conversation_id, data) \
                 SELECT ?5, c.account_id, 'contact.updated', c.id, NULL FROM visitors v \
                 JOIN conversations c ON c.id = (SELECT MAX(id) FROM conversations WHERE visitor_id = v.id) \
                 WHERE v.id = ?4 AND (v.email IS NOT COALESCE(?1, v.email) OR v.phone IS NOT COALESCE(?2, v.phone) \
                 OR v.name IS NOT COALESCE(?3, v.name)) RETURNING conversation_id",
            )
            .bind(&[values.to_vec(), vec![text(&crate::events::new_id())]].concat())?,
            db.prepare(
                "UPDATE visitors SET email = COALESCE(?1, email), phone = COALESCE(?2, phone), name = COALESCE(?3, name) WHERE id = ?4",
            )
            .bind(&values)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Conversation {
        conversation_id: i64,
    }
    Ok(results.first().map(|r| r.results::<Conversation>()).transpose()?.and_then(|mut rows| rows.pop()).map(|r| r.conversation_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitors(session: Option<i64>, user: Option<i64>) -> SiteVisitors {
        let site: SiteRow = serde_json::from_value(serde_json::json!({
            "id": 1, "account_id": 1, "site_key": "sk_test", "name": "Shop", "greeting": "Hi", "theme_color": "#000000",
            "allowed_origins": "[]", "identity_secret": "s", "responder": "{}", "request_reasons": "[]", "created_at": "2026-01-01T00:00:00.000Z",
            "title": "", "avatar_url": "", "launcher_position": "right", "launcher_offset_x": 20, "launcher_offset_y": 20,
            "custom_css": "", "greetings": "{}", "revision": 0,
        }))
        .unwrap();
        SiteVisitors {
            site,
            visitors: VisitorColumns {
                session_visitor_id: session,
                session_conversation_id: session.map(|id| id * 10),
                session_blocked_at: None,
                user_visitor_id: user,
                user_conversation_id: user.map(|id| id * 10),
                user_blocked_at: None,
            },
        }
    }

    fn state(id: i64) -> VisitorState {
        VisitorState { id, conversation_id: Some(id * 10), blocked: false }
    }

    #[test]
    fn an_anonymous_request_is_its_sessions_anonymous_visitor_only() {
        assert_eq!(visitors(Some(1), None).plan(None), Plan::Visitor(Some(state(1))));
        assert_eq!(visitors(None, None).plan(None), Plan::Visitor(None), "a new session, or one whose visitor was verified");
    }

    #[test]
    fn a_verified_request_is_always_the_users_own_visitor() {
        assert_eq!(visitors(Some(1), Some(2)).plan(Some("bob")), Plan::Visitor(Some(state(2))), "the user's visitor, not the session's");
        assert_eq!(visitors(None, Some(2)).plan(Some("bob")), Plan::Visitor(Some(state(2))));
        assert_eq!(visitors(None, None).plan(Some("bob")), Plan::Create("bob"));
    }

    #[test]
    fn an_anonymous_session_is_upgraded_to_its_first_verified_user() {
        assert_eq!(visitors(Some(1), None).plan(Some("alice")), Plan::Upgrade(state(1), "alice"));
    }
}

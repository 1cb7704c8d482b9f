//! Tickets (issue 14, seed 003): a request that outlives a chat, with a
//! human `reference` (`EC-1042`, unique per account), a subject, a status
//! and a timeline of every change, linked to the conversation it came from.
//! Operators work them through `/v1/tickets…`; a signed-in user follows
//! their own through `/api/v1/app/tickets…`.

use serde::{Deserialize, Deserializer, Serialize};

use super::ChatMessage;
use crate::error::FieldError;
use crate::limits::MAX_MESSAGE_CHARS;

/// Longest ticket subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest timeline note, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Longest `q` of `GET /api/v1/app/tickets/search`, in characters (a
/// reference is `EC-` and a number).
pub const MAX_SEARCH_CHARS: usize = 32;
/// What every reference starts with; the number after it counts up per
/// account from 1001.
pub const REFERENCE_PREFIX: &str = "EC-";
/// How many of a user's tickets `GET /api/v1/app/tickets` lists (newest first).
pub const MAX_APP_TICKETS: u32 = 100;
/// How many messages of the linked conversation a ticket's detail carries (the newest).
pub const DETAIL_MESSAGES: u32 = 100;

/// A ticket's status (seed 003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Made, nobody works on it yet.
    Submitted,
    /// An operator works on it.
    InProgress,
    /// The team waits for the user's answer.
    WaitingOnCustomer,
    /// Done; a reply of the user reopens it (`in_progress`).
    Resolved,
    /// Finished for good.
    Closed,
}

impl TicketStatus {
    /// Every status, in the order a ticket usually moves through them.
    pub const ALL: [TicketStatus; 5] =
        [TicketStatus::Submitted, TicketStatus::InProgress, TicketStatus::WaitingOnCustomer, TicketStatus::Resolved, TicketStatus::Closed];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Submitted => "submitted",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::WaitingOnCustomer => "waiting_on_customer",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// A label for people ("Waiting on customer").
    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::Submitted => "Submitted",
            TicketStatus::InProgress => "In progress",
            TicketStatus::WaitingOnCustomer => "Waiting on customer",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Closed => "Closed",
        }
    }
}

/// A ticket as operators see it, and the `ticket` of its `ticket.*` bus
/// events and `ticket` live events.
///
/// # Format
/// `{"id":12,"reference":"EC-1042","subject":"Refund not received","status":"in_progress","site_id":1,
///   "visitor_id":9,"conversation_id":7,"assignee_id":3,"created_by":3,"created_at":"…","updated_at":"…"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    /// Ticket id (never reused).
    pub id: i64,
    /// Its human reference, `EC-` and a number counting per account from 1001.
    pub reference: String,
    /// 1 to 200 characters.
    pub subject: String,
    /// Where it stands.
    pub status: TicketStatus,
    /// The site it belongs to.
    pub site_id: i64,
    /// The visitor (signed-in user) it belongs to; taken from the conversation it was made from.
    #[serde(default)]
    pub visitor_id: Option<i64>,
    /// The linked conversation; a user's reply or clarification creates one when absent.
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// The operator working on it.
    #[serde(default)]
    pub assignee_id: Option<i64>,
    /// The operator who made it.
    #[serde(default)]
    pub created_by: Option<i64>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Time of the latest change, RFC 3339 UTC.
    pub updated_at: String,
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The ticket was made (`to_status` is `submitted`).
    Created,
    /// The status changed (`from_status` → `to_status`).
    Status,
    /// It was assigned (`assignee_id`) or unassigned (`assignee_id` null).
    Assigned,
    /// An operator's note alone (operators only).
    Note,
    /// The user asked for the status (`POST /api/v1/app/tickets/{id}/clarify`).
    Clarify,
}

impl TimelineKind {
    /// The wire name (`created`, `status`, `assigned`, `note`, `clarify`).
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Created => "created",
            TimelineKind::Status => "status",
            TimelineKind::Assigned => "assigned",
            TimelineKind::Note => "note",
            TimelineKind::Clarify => "clarify",
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An operator (`id` is their user id).
    Operator,
    /// The ticket's user (`id` is their visitor id).
    User,
}

/// Who made a change, as they were named then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    /// Operator or user.
    pub kind: ActorKind,
    /// Their id (operators' user id, users' visitor id); absent in a user's view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Their display name at the time.
    #[serde(default)]
    pub name: Option<String>,
}

/// One entry of a ticket's timeline.
///
/// # Format
/// `{"id":40,"at":"…","kind":"status","actor":{"kind":"operator","id":3,"name":"Ann"},
///   "from_status":"submitted","to_status":"in_progress","note":"Looking into it"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    /// Entry id, in the order of the changes.
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// What changed.
    pub kind: TimelineKind,
    /// Who changed it.
    pub actor: Actor,
    /// The status before (status changes only).
    #[serde(default)]
    pub from_status: Option<TicketStatus>,
    /// The status after the change.
    pub to_status: TicketStatus,
    /// The operator assigned by an `assigned` entry (null: unassigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    /// The operator's note, at most 2,000 characters (operators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Body of `POST /v1/tickets`: from a conversation (`conversation_id`: the
/// ticket is linked to it and belongs to its visitor and site) or from
/// scratch (`site_id` required; `visitor_id` optional: the site's visitor
/// or signed-in user it is for, whose chat is made on their first reply).
///
/// # Format
/// `{"subject":"Refund not received","conversation_id":7}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTicket {
    /// 1 to 200 characters (trimmed).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub subject: String,
    /// The visitor conversation it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<i64>,
    /// The site of a ticket made from scratch (ignored with `conversation_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    /// The visitor of that site a ticket made from scratch is for (ignored with `conversation_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<i64>,
}

impl NewTicket {
    /// The trimmed subject, or 422: blank or over 200 characters; neither
    /// `conversation_id` nor `site_id`.
    pub fn validate(&self) -> Result<String, FieldError> {
        if self.conversation_id.is_none() && self.site_id.is_none() {
            return Err(FieldError::new("site_id", "site_id is required for a ticket made without a conversation"));
        }
        subject(&self.subject)
    }
}

/// A subject: trimmed, 1 to [`MAX_SUBJECT_CHARS`] characters.
pub fn subject(subject: &str) -> Result<String, FieldError> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err(FieldError::new("subject", "subject is required"));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(FieldError::new("subject", format!("subject must be at most {MAX_SUBJECT_CHARS} characters")));
    }
    Ok(subject.to_string())
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Body of `PATCH /v1/tickets/{id}`: at least one field; every change is a
/// timeline entry (a note alone is one too).
///
/// # Format
/// `{"status":"resolved","note":"Refund sent","assignee_id":3}` (`"assignee_id":null` unassigns)
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketChange {
    /// The new status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    /// A note for the timeline (operators only), 1 to 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// An operator of the account, or `null` to unassign.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub assignee_id: Option<Option<i64>>,
}

impl TicketChange {
    /// The trimmed note, or 422: nothing to change, a blank or over-long note.
    pub fn validate(&self) -> Result<Option<String>, FieldError> {
        if self.status.is_none() && self.note.is_none() && self.assignee_id.is_none() {
            return Err(FieldError::new("status", "status, note or assignee_id is required"));
        }
        let Some(note) = &self.note else { return Ok(None) };
        let note = note.trim();
        if note.is_empty() {
            return Err(FieldError::new("note", "note must not be blank"));
        }
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(FieldError::new("note", format!("note must be at most {MAX_NOTE_CHARS} characters")));
        }
        Ok(Some(note.to_string()))
    }
}

/// Query of `GET /v1/tickets`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct TicketFilter {
    /// Only tickets with this status.
    #[serde(default)]
    pub status: Option<TicketStatus>,
    /// An operator id, `me`, or `none` (unassigned).
    #[serde(default)]
    pub assignee: Option<String>,
    /// Only this site's tickets.
    #[serde(default)]
    pub site_id: Option<i64>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 25).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// Answer of `GET /v1/tickets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketList {
    /// Newest first.
    pub tickets: Vec<Ticket>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Answer of `GET /v1/tickets/{id}`, `POST /v1/tickets` and `PATCH /v1/tickets/{id}`.
///
/// # Format
/// `{…every field of Ticket…,"timeline":[…],"messages":[…]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketDetail {
    /// The ticket.
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Every change, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// The newest messages (up to 100) of the linked conversation, in `seq` order; empty without one.
    pub messages: Vec<ChatMessage>,
}

/// A ticket as its user sees it (`/api/v1/app/tickets…`).
///
/// # Format
/// `{"id":12,"reference":"EC-1042","subject":"Refund not received","status":"resolved",
///   "conversation_id":7,"created_at":"…","updated_at":"…","rated":false}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppTicket {
    /// Ticket id.
    pub id: i64,
    /// Its human reference (`EC-1042`).
    pub reference: String,
    /// What it is about.
    pub subject: String,
    /// Where it stands.
    pub status: TicketStatus,
    /// The linked conversation, once there is one.
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Time of the latest change, RFC 3339 UTC.
    pub updated_at: String,
    /// `true` once the user rated it (`POST /api/v1/app/csat` with `ticket_id`).
    pub rated: bool,
}

/// Answer of `GET /api/v1/app/tickets` and `GET /api/v1/app/tickets/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppTicketList {
    /// Newest first, at most 100.
    pub tickets: Vec<AppTicket>,
}

/// Answer of `GET /api/v1/app/tickets/{id}` and of its `reply` and `clarify`.
///
/// # Format
/// `{…every field of AppTicket…,"messages":[…],"timeline":[…]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppTicketDetail {
    /// The ticket.
    #[serde(flatten)]
    pub ticket: AppTicket,
    /// The newest messages (up to 100) of the linked conversation, in `seq` order.
    pub messages: Vec<ChatMessage>,
    /// The status timeline, oldest first: its creation, status changes and
    /// clarification requests, without operators' notes, assignments or ids.
    pub timeline: Vec<TimelineEntry>,
}

/// Query of `GET /api/v1/app/tickets/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct TicketSearch {
    /// A reference or part of one (`EC-1042`, `1042`), any case; 1 to 32 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub q: String,
}

impl TicketSearch {
    /// The trimmed query, or 422: blank, over 32 characters, or not
    /// letters, digits and `-`.
    pub fn validate(&self) -> Result<String, FieldError> {
        let q = self.q.trim();
        if q.is_empty() {
            return Err(FieldError::new("q", "q is required"));
        }
        if q.chars().count() > MAX_SEARCH_CHARS || !q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(FieldError::new("q", format!("q must be a reference such as EC-1042 (at most {MAX_SEARCH_CHARS} characters)")));
        }
        Ok(q.to_ascii_uppercase())
    }
}

/// Body of `POST /api/v1/app/tickets/{id}/reply`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketReply {
    /// 1 to 10,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub body: String,
    /// Client id of the message, 1 to 64 letters, digits, `_`, `-`, `.` or
    /// `:`, unique in the ticket's chat: a retry with the same id (a lost
    /// answer) stores nothing new.
    #[serde(default, alias = "messageId")]
    pub message_id: Option<String>,
}

impl TicketReply {
    /// 422 for a blank or over-long body, or a malformed `message_id`.
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(id) = &self.message_id {
            crate::validate::message_id(id)?;
        }
        if self.body.trim().is_empty() {
            return Err(FieldError::new("body", "body is required"));
        }
        if self.body.chars().count() > MAX_MESSAGE_CHARS {
            return Err(FieldError::new("body", format!("body is too long (maximum {MAX_MESSAGE_CHARS} characters)")));
        }
        Ok(())
    }
}

/// The message `POST /api/v1/app/tickets/{id}/clarify` writes into the
/// linked conversation in the user's name.
pub fn clarify_message(reference: &str) -> String {
    format!("Could you clarify the status of my request {reference}?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_kinds_name_themselves_as_on_the_wire() {
        use TimelineKind::*;
        for kind in [Created, Status, Assigned, Note, Clarify] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn statuses_round_trip() {
        for status in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(TicketStatus::parse("open"), None);
    }

    #[test]
    fn a_new_ticket_needs_a_subject_and_a_site_or_conversation() {
        let ticket = NewTicket { subject: "  Refund  ".into(), conversation_id: Some(7), ..Default::default() };
        assert_eq!(ticket.validate().unwrap(), "Refund");
        assert_eq!(NewTicket { subject: " ".into(), site_id: Some(1), ..Default::default() }.validate().unwrap_err().field, "subject");
        assert_eq!(NewTicket { subject: "x".into(), ..Default::default() }.validate().unwrap_err().field, "site_id");
        let long = NewTicket { subject: "x".repeat(MAX_SUBJECT_CHARS + 1), site_id: Some(1), ..Default::default() };
        assert_eq!(long.validate().unwrap_err().field, "subject");
    }

    #[test]
    fn a_change_tells_absent_from_null_assignee() {
        let change: TicketChange = serde_json::from_str(r#"{"assignee_id":null}"#).unwrap();
        assert_eq!(change.assignee_id, Some(None));
        let change: TicketChange = serde_json::from_str(r#"{"status":"resolved"}"#).unwrap();
        assert_eq!((change.status, change.assignee_id), (Some(TicketStatus::Resolved), None));
        assert!(TicketChange::default().validate().is_err());
        let blank = TicketChange { note: Some(" ".into()), ..Default::default() };
        assert_eq!(blank.validate().unwrap_err().field, "note");
    }

    #[test]
    fn a_search_is_a_bounded_reference() {
        assert_eq!(TicketSearch { q: " ec-1042 ".into() }.validate().unwrap(), "EC-1042");
        assert!(TicketSearch { q: "".into() }.validate().is_err());
        assert!(TicketSearch { q: "EC%".into() }.validate().is_err());
        assert!(TicketSearch { q: "1".repeat(MAX_SEARCH_CHARS + 1) }.validate().is_err());
    }
}

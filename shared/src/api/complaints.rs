//! Complaints (seed 003, "CSAT & complaints"): a signed-in user's
//! `POST /api/v1/app/complaints`, and the operators' `GET /v1/complaints`
//! and `PATCH /v1/complaints/{id}`.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Fewest characters of a complaint's description (seed 003: "≥10"), after trimming.
pub const MIN_COMPLAINT_CHARS: usize = 10;
/// Most characters of a complaint's description.
pub const MAX_COMPLAINT_CHARS: usize = 5_000;
/// Most characters of an operator's note on a complaint.
pub const MAX_COMPLAINT_NOTE_CHARS: usize = 2_000;

/// What a complaint is about (seed 003: "funds · security · operator · technical · other").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    Funds,
    Security,
    Operator,
    Technical,
    Other,
}

impl ComplaintCategory {
    /// Every category, in seed 003's order.
    pub const ALL: [ComplaintCategory; 5] = [
        ComplaintCategory::Funds,
        ComplaintCategory::Security,
        ComplaintCategory::Operator,
        ComplaintCategory::Technical,
        ComplaintCategory::Other,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintCategory::Funds => "funds",
            ComplaintCategory::Security => "security",
            ComplaintCategory::Operator => "operator",
            ComplaintCategory::Technical => "technical",
            ComplaintCategory::Other => "other",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<ComplaintCategory> {
        ComplaintCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whether operators have dealt with a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    /// Filed, not dealt with yet.
    Open,
    /// An operator marked it handled.
    Handled,
}

impl ComplaintStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplaintStatus::Open => "open",
            ComplaintStatus::Handled => "handled",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<ComplaintStatus> {
        [ComplaintStatus::Open, ComplaintStatus::Handled].into_iter().find(|c| c.as_str() == s)
    }
}

/// Body of `POST /api/v1/app/complaints` (seed 003). Seed 003's camelCase
/// names (`chatId`, `dialogId`) are accepted too.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintRequest {
    /// One of `funds`, `security`, `operator`, `technical`, `other`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub category: String,
    /// What happened: 10 to 5,000 characters after trimming.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub description: String,
    /// The user's conversation it is about (`/api/v1/app/conversations/{id}`).
    #[serde(default, alias = "chatId")]
    pub chat_id: Option<i64>,
    /// The user's ticket it is about (`/api/v1/app/tickets/{id}`).
    #[serde(default, alias = "dialogId")]
    pub dialog_id: Option<i64>,
}

impl ComplaintRequest {
    /// Checks the request; answers the category and the trimmed description.
    ///
    /// Errors (422): an unknown category; a description under
    /// [`MIN_COMPLAINT_CHARS`] or over [`MAX_COMPLAINT_CHARS`] characters.
    pub fn validate(&self) -> Result<(ComplaintCategory, String), FieldError> {
        let category = ComplaintCategory::parse(self.category.trim())
            .ok_or_else(|| FieldError::new("category", "category must be one of funds, security, operator, technical, other"))?;
        let description = self.description.trim();
        let chars = description.chars().count();
        if !(MIN_COMPLAINT_CHARS..=MAX_COMPLAINT_CHARS).contains(&chars) {
            return Err(FieldError::new(
                "description",
                format!("description must be {MIN_COMPLAINT_CHARS} to {MAX_COMPLAINT_CHARS} characters"),
            ));
        }
        Ok((category, description.to_string()))
    }
}

/// Answer of `POST /api/v1/app/complaints`: 201 with `duplicate: false`
/// when stored; 200 with the stored complaint's id and `duplicate: true`
/// when the same user already has the same open complaint (a retried request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintCreated {
    /// The complaint's id.
    pub id: i64,
    /// `true` when this complaint was already stored.
    pub duplicate: bool,
}

/// The user who filed a complaint, as operators see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintUser {
    /// Visitor id.
    pub id: i64,
    /// The site's own user id (`sub` of the app session).
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A complaint as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Complaint {
    pub id: i64,
    pub site_id: i64,
    pub category: ComplaintCategory,
    pub description: String,
    pub status: ComplaintStatus,
    /// Who filed it (`null` once the user was deleted).
    pub user: Option<ComplaintUser>,
    /// The conversation it is about (`/v1/chat/conversations/{id}`).
    pub conversation_id: Option<i64>,
    /// The ticket it is about (`/v1/tickets/{id}`).
    pub ticket_id: Option<i64>,
    /// That ticket's reference, e.g. `EC-1042`.
    pub ticket_reference: Option<String>,
    /// The operator's note.
    pub note: Option<String>,
    /// The operator who marked it handled (`null` while open, or once removed).
    pub handled_by: Option<i64>,
    /// That operator's display name then.
    pub handled_by_name: Option<String>,
    /// When it was marked handled, RFC 3339 UTC.
    pub handled_at: Option<String>,
    /// When it was filed, RFC 3339 UTC.
    pub created_at: String,
}

/// Query of `GET /v1/complaints`: newest first, cursor pagination.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ComplaintFilter {
    /// Only this category.
    #[serde(default)]
    pub category: Option<ComplaintCategory>,
    /// `open` or `handled`.
    #[serde(default)]
    pub status: Option<ComplaintStatus>,
    /// Only this site's complaints.
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

/// Answer of `GET /v1/complaints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintList {
    /// Newest first.
    pub complaints: Vec<Complaint>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Body of `PATCH /v1/complaints/{id}`: `handled` records who and when;
/// `open` clears them. The note, when given, replaces the earlier one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintChange {
    /// `open` or `handled`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub status: String,
    /// At most 2,000 characters; blank clears it.
    #[serde(default)]
    pub note: Option<String>,
}

impl ComplaintChange {
    /// Checks the change; answers the status and the note (`Some("")` clears it).
    ///
    /// Errors (422): a status other than `open`/`handled`; a note over
    /// [`MAX_COMPLAINT_NOTE_CHARS`] characters.
    pub fn validate(&self) -> Result<(ComplaintStatus, Option<String>), FieldError> {
        let status =
            ComplaintStatus::parse(self.status.trim()).ok_or_else(|| FieldError::new("status", "status must be open or handled"))?;
        let note = self.note.as_deref().map(str::trim);
        if note.is_some_and(|n| n.chars().count() > MAX_COMPLAINT_NOTE_CHARS) {
            return Err(FieldError::new("note", format!("note must be at most {MAX_COMPLAINT_NOTE_CHARS} characters")));
        }
        Ok((status, note.map(str::to_string)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaint(category: &str, description: &str) -> ComplaintRequest {
        ComplaintRequest { category: category.into(), description: description.into(), ..Default::default() }
    }

    #[test]
    fn the_five_seed_categories_and_nothing_else() {
        for category in ["funds", "security", "operator", "technical", "other"] {
            assert_eq!(complaint(category, "It went wrong twice").validate().unwrap().0.as_str(), category);
        }
        for category in ["", "Funds", "billing", "fund"] {
            assert_eq!(complaint(category, "It went wrong twice").validate().unwrap_err().field, "category", "{category:?}");
        }
    }

    #[test]
    fn a_description_has_ten_to_five_thousand_characters_after_trimming() {
        assert_eq!(complaint("funds", "  123456789  ").validate().unwrap_err().field, "description");
        assert_eq!(complaint("funds", " 1234567890 ").validate().unwrap().1, "1234567890");
        assert_eq!(complaint("funds", "éééééééééé").validate().unwrap().1.chars().count(), 10, "characters, not bytes");
        assert!(complaint("funds", &"x".repeat(MAX_COMPLAINT_CHARS)).validate().is_ok());
        assert_eq!(complaint("funds", &"x".repeat(MAX_COMPLAINT_CHARS + 1)).validate().unwrap_err().field, "description");
    }

    #[test]
    fn seed_names_are_accepted() {
        let request: ComplaintRequest =
            serde_json::from_str(r#"{"category":"operator","description":"Rude answer","chatId":4,"dialogId":9}"#).unwrap();
        assert_eq!((request.chat_id, request.dialog_id), (Some(4), Some(9)));
    }

    #[test]
    fn a_change_is_open_or_handled_with_a_capped_note() {
        let change = |status: &str, note: Option<&str>| ComplaintChange { status: status.into(), note: note.map(str::to_string) };
        assert_eq!(change("handled", Some(" refunded ")).validate().unwrap(), (ComplaintStatus::Handled, Some("refunded".into())));
        assert_eq!(change("closed", None).validate().unwrap_err().field, "status");
        assert_eq!(change("open", Some(&"n".repeat(MAX_COMPLAINT_NOTE_CHARS + 1))).validate().unwrap_err().field, "note");
    }
}

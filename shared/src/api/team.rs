//! Conversations operators start and share (seed 002, "Conversations" and
//! "Users"): `POST /v1/chat/conversations`, `PATCH`/`DELETE
//! /v1/chat/conversations/{id}`, its participants, and
//! `GET /v1/chat/users/search`. Wire types and their validation; no I/O.

use serde::{Deserialize, Deserializer, Serialize};

use super::auth::OperatorRole;
use super::conversations::{Kind, Visitor};
use crate::api::list_cap;
use crate::error::FieldError;
use crate::validate;

/// Most operators one request names (`participant_ids`, `user_ids`).
pub const MAX_PARTICIPANTS_PER_REQUEST: usize = 50;
/// Longest conversation name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest conversation description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// Longest `q` of `GET /v1/chat/users/search`, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most operators, and most visitors, one user search answers.
pub const MAX_SEARCH_RESULTS: u32 = 20;

/// Body of `POST /v1/chat/conversations`.
///
/// # Format
/// Internal (operators only): `{"kind":"internal","participant_ids":[3],"name":"Refund policy","description":"…"}`;
/// with exactly one other operator and no `name` it is the staff DM of the pair.
/// Outbound follow-up to a visitor: `{"kind":"visitor","site_id":1,"email":"ann@example.com","name":"Ann","content":"…"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewConversation {
    /// `internal` or `visitor`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub kind: Option<Kind>,
    /// Internal: the other operators (1 to 50 ids of the caller's account; the caller always takes part).
    #[serde(default, deserialize_with = "list_cap::at_most::<50, _, _>")]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub participant_ids: Vec<i64>,
    /// Internal: the conversation's name, 1 to 100 characters. Visitor: the visitor's name
    /// (1 to 120 characters), stored on a visitor created for this email.
    #[serde(default)]
    pub name: Option<String>,
    /// The conversation's description, at most 1,000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Visitor: a site of the caller's account.
    #[serde(default)]
    pub site_id: Option<i64>,
    /// Visitor: the site's own id of a signed-in user (the `user_id` of
    /// identity verification, 1 to 128 characters). With it the follow-up
    /// reaches that verified user (made now if they never chatted), who sees
    /// it in the widget the next time it identifies them. Without it the
    /// follow-up goes to a visitor no widget session reaches: a widget's
    /// email is not under `user_hash`, so it never decides who reads a thread.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Visitor: the visitor's email.
    #[serde(default)]
    pub email: Option<String>,
    /// Visitor: a first message from the caller, 1 to 10,000 characters.
    #[serde(default)]
    pub content: Option<String>,
}

/// A [`NewConversation`] once valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationStart {
    /// Between the caller and `participant_ids` (deduplicated, sorted; the caller may be among them).
    Internal { participant_ids: Vec<i64>, name: Option<String>, description: Option<String> },
    /// An outbound follow-up with the visitor of `email` (trimmed) on `site_id`.
    Visitor {
        site_id: i64,
        email: String,
        /// The site's own id of a signed-in user (identity verification).
        user_id: Option<String>,
        name: Option<String>,
        description: Option<String>,
        content: Option<String>,
    },
}

impl NewConversation {
    /// Checks every field for its `kind` (422 on the first failure).
    pub fn validate(self) -> Result<ConversationStart, FieldError> {
        let description = self.description.map(|d| description(&d)).transpose()?.flatten();
        match self.kind {
            None => Err(FieldError::new("kind", "kind must be 'internal' or 'visitor'")),
            Some(Kind::Internal) => {
                for (field, given) in [
                    ("site_id", self.site_id.is_some()),
                    ("email", self.email.is_some()),
                    ("user_id", self.user_id.is_some()),
                    ("content", self.content.is_some()),
                ] {
                    if given {
                        return Err(FieldError::new(field, format!("{field} is for visitor conversations")));
                    }
                }
                Ok(ConversationStart::Internal {
                    participant_ids: user_ids("participant_ids", &self.participant_ids)?,
                    name: self.name.map(|n| name(&n)).transpose()?,
                    description,
                })
            }
            Some(Kind::Visitor) => {
                if !self.participant_ids.is_empty() {
                    return Err(FieldError::new("participant_ids", "participant_ids is for internal conversations"));
                }
                let site_id = self.site_id.ok_or_else(|| FieldError::new("site_id", "site_id is required"))?;
                let email = self.email.as_deref().unwrap_or_default().trim().to_string();
                validate::email(&email)?;
                let visitor_name = self.name.map(|n| n.trim().to_string());
                if let Some(n) = &visitor_name {
                    validate::display_name("name", n)?;
                }
                if let Some(content) = &self.content {
                    validate::message(content).map_err(|e| FieldError::new("content", e.message.replace("message", "content")))?;
                }
                let user_id = self.user_id.map(|u| u.trim().to_string());
                if user_id.as_ref().is_some_and(|u| u.is_empty() || u.chars().count() > MAX_USER_ID_CHARS) {
                    return Err(FieldError::new("user_id", format!("user_id must be 1 to {MAX_USER_ID_CHARS} characters")));
                }
                Ok(ConversationStart::Visitor { site_id, email, user_id, name: visitor_name, description, content: self.content })
            }
        }
    }
}

/// Longest `user_id` of identity verification, in characters (as the widget routes accept).
pub const MAX_USER_ID_CHARS: usize = 128;

/// A conversation name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
pub fn name(value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new("name", format!("name must be 1 to {MAX_NAME_CHARS} characters")));
    }
    Ok(trimmed.to_string())
}

/// A conversation description: trimmed, at most [`MAX_DESCRIPTION_CHARS`]
/// characters; blank is none (`None`).
pub fn description(value: &str) -> Result<Option<String>, FieldError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(FieldError::new("description", format!("description must be at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_string()))
}

/// 1 to [`MAX_PARTICIPANTS_PER_REQUEST`] operator ids, deduplicated and sorted.
fn user_ids(field: &'static str, ids: &[i64]) -> Result<Vec<i64>, FieldError> {
    if ids.is_empty() || ids.len() > MAX_PARTICIPANTS_PER_REQUEST {
        return Err(FieldError::new(field, format!("{field} must hold 1 to {MAX_PARTICIPANTS_PER_REQUEST} operator ids")));
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The key of the staff DM between operators `a` and `b` (their ids):
/// `{lower}|{higher}`. The same pair always gives the same key, whoever
/// starts it. Seed 000 names a DM by its pair's emails
/// (`{emailA}|{emailB}`), and that chat id is resolved to these ids first:
/// a key of ids, which are never reused, cannot be reached by an email that
/// folds to another's (Unicode case, `K` and the Kelvin sign), by one that
/// holds a `|`, or by a removed operator's address given to someone new.
pub fn dm_key(a: i64, b: i64) -> String {
    format!("{}|{}", a.min(b), a.max(b))
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Body of `PATCH /v1/chat/conversations/{id}`: an absent field stays, `null` clears it.
///
/// # Format
/// `{"name":"Refunds","description":null}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationPatch {
    /// 1 to 100 characters; `null` clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub name: Option<Option<String>>,
    /// At most 1,000 characters; `null` (or blank) clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
}

/// A [`ConversationPatch`] once valid: `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPatch {
    /// The new name.
    pub name: Option<Option<String>>,
    /// The new description.
    pub description: Option<Option<String>>,
}

impl ConversationPatch {
    /// Checks the fields (422: nothing to change, a bad name or description).
    pub fn validate(self) -> Result<ValidPatch, FieldError> {
        if self.name.is_none() && self.description.is_none() {
            return Err(FieldError::new("name", "name or description is required"));
        }
        Ok(ValidPatch {
            name: self.name.map(|n| n.map(|n| name(&n)).transpose()).transpose()?,
            description: self.description.map(|d| d.map(|d| description(&d)).transpose().map(Option::flatten)).transpose()?,
        })
    }
}

/// Query of `DELETE /v1/chat/conversations/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DeleteQuery {
    /// `for_me` (default): hidden from the caller's list until new activity;
    /// `for_everyone`: deleted with its messages for good.
    #[serde(default)]
    pub scope: Option<String>,
}

/// How far `DELETE /v1/chat/conversations/{id}` reaches (seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteScope {
    /// Only the caller's view.
    ForMe,
    /// Everyone's: the conversation and its messages are removed.
    ForEveryone,
}

impl DeleteQuery {
    /// The scope (422 for anything but `for_me` and `for_everyone`).
    pub fn scope(&self) -> Result<DeleteScope, FieldError> {
        match self.scope.as_deref() {
            None | Some("for_me") => Ok(DeleteScope::ForMe),
            Some("for_everyone") => Ok(DeleteScope::ForEveryone),
            Some(_) => Err(FieldError::new("scope", "scope must be 'for_me' or 'for_everyone'")),
        }
    }
}

/// An operator taking part in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    /// The operator's user id.
    pub user_id: i64,
    /// Their display name.
    pub display_name: String,
    /// Their login email.
    pub email: String,
    /// Their role in the account.
    pub role: OperatorRole,
    /// When they joined, RFC 3339 UTC.
    pub added_at: String,
    /// Who added them; `null` for the assignee of a conversation from before participants existed.
    #[serde(default)]
    pub added_by: Option<i64>,
}

/// Answer of `GET`/`POST /v1/chat/conversations/{id}/participants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipantList {
    /// Oldest first.
    pub participants: Vec<Participant>,
}

/// Body of `POST /v1/chat/conversations/{id}/participants`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddParticipants {
    /// 1 to 50 operator ids of the caller's account; ids already taking part change nothing.
    #[serde(default, deserialize_with = "list_cap::at_most::<50, _, _>")]
    #[cfg_attr(feature = "openapi", schema(required))]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub user_ids: Vec<i64>,
}

impl AddParticipants {
    /// The ids, deduplicated and sorted (422 for none or more than 50).
    pub fn validate(&self) -> Result<Vec<i64>, FieldError> {
        user_ids("user_ids", &self.user_ids)
    }
}

/// Query of `GET /v1/chat/users/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct UserSearchQuery {
    /// 1 to 100 characters, matched inside names and emails; `+` and digits
    /// (an E.164 prefix) match phone numbers that start with it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(required))]
    pub q: Option<String>,
}

/// What a user search looks for, once valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSearchPattern {
    /// `LIKE … ESCAPE '\'` pattern matching `q` anywhere (names, emails).
    pub contains: String,
    /// `LIKE` pattern of phones starting with `q`, when `q` is an E.164 prefix.
    pub phone_prefix: Option<String>,
}

impl UserSearchQuery {
    /// The patterns of `q` (422 when absent, blank or over 100 characters).
    pub fn validate(&self) -> Result<UserSearchPattern, FieldError> {
        let q = self.q.as_deref().unwrap_or_default().trim();
        if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
            return Err(FieldError::new("q", format!("q must be 1 to {MAX_QUERY_CHARS} characters")));
        }
        let phone = q.strip_prefix('+').filter(|d| !d.is_empty() && d.len() <= 15 && d.bytes().all(|b| b.is_ascii_digit()));
        Ok(UserSearchPattern { contains: format!("%{}%", escape_like(q)), phone_prefix: phone.map(|d| format!("+{d}%")) })
    }
}

/// `text` with the `LIKE` wildcards `%` and `_` and the escape `\` escaped
/// by `\`, for `LIKE ? ESCAPE '\'`: a searched `%` matches only `%`.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// An operator found by `GET /v1/chat/users/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorMatch {
    /// User id.
    pub id: i64,
    /// Display name.
    pub display_name: String,
    /// Login email.
    pub email: String,
    /// Role in the account.
    pub role: OperatorRole,
}

/// A visitor found by `GET /v1/chat/users/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorMatch {
    /// Every field of the visitor.
    #[serde(flatten)]
    pub visitor: Visitor,
    /// The site the visitor belongs to.
    pub site_id: i64,
}

/// Answer of `GET /v1/chat/users/search`: at most 20 of each, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSearch {
    /// Operators of the caller's account.
    pub operators: Vec<OperatorMatch>,
    /// Visitors of the account's sites.
    pub visitors: Vec<VisitorMatch>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal(ids: &[i64]) -> NewConversation {
        NewConversation { kind: Some(Kind::Internal), participant_ids: ids.to_vec(), ..Default::default() }
    }

    #[test]
    fn an_internal_conversation_names_1_to_50_operators() {
        assert!(internal(&[]).validate().is_err());
        assert!(internal(&(1..=51).collect::<Vec<_>>()).validate().is_err());
        match internal(&[5, 3, 5]).validate().unwrap() {
            ConversationStart::Internal { participant_ids, .. } => assert_eq!(participant_ids, [3, 5]),
            other => panic!("{other:?}"),
        }
        assert_eq!(NewConversation::default().validate().unwrap_err().field, "kind");
    }

    #[test]
    fn an_internal_conversation_refuses_visitor_fields_and_bad_names() {
        let with_site = NewConversation { site_id: Some(1), ..internal(&[3]) };
        assert_eq!(with_site.validate().unwrap_err().field, "site_id");
        for bad in ["", "   ", &"n".repeat(101)] {
            let named = NewConversation { name: Some(bad.to_string()), ..internal(&[3]) };
            assert_eq!(named.validate().unwrap_err().field, "name", "{bad:?}");
        }
        let long = NewConversation { description: Some("d".repeat(1_001)), ..internal(&[3]) };
        assert_eq!(long.validate().unwrap_err().field, "description");
        let ok = NewConversation { name: Some(" Refunds ".into()), description: Some("d".repeat(1_000)), ..internal(&[3]) };
        assert!(matches!(ok.validate().unwrap(), ConversationStart::Internal { name: Some(n), .. } if n == "Refunds"));
    }

    #[test]
    fn a_visitor_conversation_needs_a_site_and_a_valid_email() {
        let visitor = |site: Option<i64>, email: Option<&str>| NewConversation {
            kind: Some(Kind::Visitor),
            site_id: site,
            email: email.map(String::from),
            ..Default::default()
        };
        assert_eq!(visitor(None, Some("ann@example.com")).validate().unwrap_err().field, "site_id");
        assert_eq!(visitor(Some(1), None).validate().unwrap_err().field, "email");
        assert_eq!(visitor(Some(1), Some("not an email")).validate().unwrap_err().field, "email");
        let blank = NewConversation { content: Some("  ".into()), ..visitor(Some(1), Some("ann@example.com")) };
        assert_eq!(blank.validate().unwrap_err().field, "content");
        let with_ids = NewConversation { participant_ids: vec![3], ..visitor(Some(1), Some("ann@example.com")) };
        assert_eq!(with_ids.validate().unwrap_err().field, "participant_ids");
        assert!(matches!(
            visitor(Some(1), Some(" ann@example.com ")).validate().unwrap(),
            ConversationStart::Visitor { site_id: 1, email, .. } if email == "ann@example.com"
        ));
    }

    #[test]
    fn the_dm_key_is_the_sorted_pair_of_operator_ids() {
        assert_eq!(dm_key(42, 7), "7|42");
        assert_eq!(dm_key(7, 42), dm_key(42, 7));
        assert_ne!(dm_key(1, 23), dm_key(12, 3), "the separator keeps pairs apart");
    }

    #[test]
    fn a_patch_tells_absent_from_null() {
        let patch: ConversationPatch = serde_json::from_str(r#"{"name":null}"#).unwrap();
        assert_eq!(patch.validate().unwrap(), ValidPatch { name: Some(None), description: None });
        let patch: ConversationPatch = serde_json::from_str(r#"{"description":"  "}"#).unwrap();
        assert_eq!(patch.validate().unwrap(), ValidPatch { name: None, description: Some(None) }, "blank clears");
        let empty: ConversationPatch = serde_json::from_str("{}").unwrap();
        assert!(empty.validate().is_err(), "nothing to change");
        let blank: ConversationPatch = serde_json::from_str(r#"{"name":""}"#).unwrap();
        assert_eq!(blank.validate().unwrap_err().field, "name");
        assert!(serde_json::from_str::<ConversationPatch>(r#"{"name":7}"#).is_err(), "a wrong type");
    }

    #[test]
    fn the_delete_scope_is_for_me_unless_for_everyone() {
        let scope = |s: Option<&str>| DeleteQuery { scope: s.map(String::from) }.scope();
        assert_eq!(scope(None), Ok(DeleteScope::ForMe));
        assert_eq!(scope(Some("for_me")), Ok(DeleteScope::ForMe));
        assert_eq!(scope(Some("for_everyone")), Ok(DeleteScope::ForEveryone));
        assert!(scope(Some("everyone")).is_err());
    }

    #[test]
    fn a_searched_wildcard_matches_only_itself() {
        let pattern = |q: &str| UserSearchQuery { q: Some(q.into()) }.validate();
        assert_eq!(pattern("%").unwrap().contains, r"%\%%");
        assert_eq!(pattern("a_b\\").unwrap().contains, r"%a\_b\\%");
        assert!(pattern("").is_err() && pattern("  ").is_err() && pattern(&"q".repeat(101)).is_err());
        assert!(UserSearchQuery { q: None }.validate().is_err());
    }

    #[test]
    fn an_e164_prefix_matches_phones_by_prefix() {
        let pattern = |q: &str| UserSearchQuery { q: Some(q.into()) }.validate().unwrap().phone_prefix;
        assert_eq!(pattern("+4420"), Some("+4420%".into()));
        assert_eq!(pattern("+"), None);
        assert_eq!(pattern("+44%"), None, "a wildcard is no phone prefix");
        assert_eq!(pattern("4420"), None);
    }
}

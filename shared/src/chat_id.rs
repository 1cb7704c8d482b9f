//! Chat ids: how seed 000's `/chat/*` routes name a conversation.
//!
//! | Form | Meaning (seed 000, "History by chat") |
//! |---|---|
//! | `customer:{email}` | an authenticated (verified or identified) customer's single thread |
//! | `customer:{session_id}:{email}` | a guest customer, scoped by the widget session |
//! | `{emailA}\|{emailB}` | a staff-to-staff DM, the two emails sorted (case-insensitively) |
//! | anything else | an id an integration supplied when it saved a message |
//!
//! [`ChatId::parse`] refuses malformed ids with a [`FieldError`] on
//! `chat_id` (422 `validation_error`); `Display` writes the id back exactly
//! as parsed, so `ChatId::parse(&id.to_string()) == Ok(id)`.

use std::fmt;

use crate::error::FieldError;
use crate::validate;

/// The longest chat id, in characters (an external id; the other forms are
/// bounded by their parts: 254-character emails, 128-character sessions).
pub const MAX_CHAT_ID_CHARS: usize = 200;

/// The prefix of the customer forms.
const CUSTOMER: &str = "customer:";

/// A parsed chat id (see the module docs for the forms).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChatId {
    /// `customer:{email}`: the visitor whose verified `user_id` or email is `email`.
    Customer { email: String },
    /// `customer:{session_id}:{email}`: the visitor of widget session `session_id` who gave `email`.
    Guest { session_id: String, email: String },
    /// `{a}|{b}`: the staff DM between operators `a` and `b`, `a < b` after lower-casing.
    StaffDm { a: String, b: String },
    /// Any other id (1 to [`MAX_CHAT_ID_CHARS`] characters, no control
    /// characters), mapped to one conversation per account when first saved into.
    External(String),
}

fn malformed(message: impl Into<String>) -> FieldError {
    FieldError::new("chat_id", message)
}

fn email_part(email: &str, form: &str) -> Result<String, FieldError> {
    validate::email(email).map_err(|_| malformed(format!("{form}: '{email}' is not an email address")))?;
    Ok(email.to_string())
}

impl ChatId {
    /// Parses a chat id.
    ///
    /// Errors (field `chat_id`): empty; over [`MAX_CHAT_ID_CHARS`]
    /// characters (external ids) or over 254 + 128 + 10 (customer forms);
    /// control characters; `customer:` with a bad or missing email or a bad
    /// session id ([`validate::session_id`]); a `|` form whose halves are not
    /// two emails, or are the same email, or are not sorted.
    pub fn parse(id: &str) -> Result<ChatId, FieldError> {
        if id.is_empty() {
            return Err(malformed("chat_id is required"));
        }
        if id.chars().any(char::is_control) {
            return Err(malformed("chat_id must not contain control characters"));
        }
        if let Some(rest) = id.strip_prefix(CUSTOMER) {
            return match rest.split_once(':') {
                Some((session_id, email)) => {
                    validate::session_id(session_id).map_err(|_| {
                        malformed("customer:{session_id}:{email}: the session id must be 22 to 128 letters, digits, '_' or '-'")
                    })?;
                    Ok(ChatId::Guest { session_id: session_id.to_string(), email: email_part(email, "customer:{session_id}:{email}")? })
                }
                None => Ok(ChatId::Customer { email: email_part(rest, "customer:{email}")? }),
            };
        }
        if let Some((a, b)) = id.split_once('|') {
            let (a, b) = (email_part(a, "{emailA}|{emailB}")?, email_part(b, "{emailA}|{emailB}")?);
            return match a.to_lowercase().cmp(&b.to_lowercase()) {
                std::cmp::Ordering::Less => Ok(ChatId::StaffDm { a, b }),
                std::cmp::Ordering::Equal => Err(malformed("{emailA}|{emailB}: a DM names two different people")),
                std::cmp::Ordering::Greater => Err(malformed("{emailA}|{emailB}: the two emails must be sorted (the smaller first)")),
            };
        }
        if id.chars().count() > MAX_CHAT_ID_CHARS {
            return Err(malformed(format!("chat_id is over {MAX_CHAT_ID_CHARS} characters")));
        }
        Ok(ChatId::External(id.to_string()))
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatId::Customer { email } => write!(f, "{CUSTOMER}{email}"),
            ChatId::Guest { session_id, email } => write!(f, "{CUSTOMER}{session_id}:{email}"),
            ChatId::StaffDm { a, b } => write!(f, "{a}|{b}"),
            ChatId::External(id) => f.write_str(id),
        }
    }
}

impl std::str::FromStr for ChatId {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChatId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "sess_0123456789abcdefghij";

    fn round_trip(id: &str) -> ChatId {
        let parsed = ChatId::parse(id).unwrap_or_else(|e| panic!("{id}: {}", e.message));
        assert_eq!(parsed.to_string(), id, "Display round-trips");
        parsed
    }

    fn refused(id: &str) {
        let err = ChatId::parse(id).expect_err(id);
        assert_eq!(err.field, "chat_id", "{id}");
    }

    #[test]
    fn customer() {
        assert_eq!(round_trip("customer:ann@example.com"), ChatId::Customer { email: "ann@example.com".into() });
    }

    #[test]
    fn guest() {
        assert_eq!(
            round_trip(&format!("customer:{SESSION}:ann@example.com")),
            ChatId::Guest { session_id: SESSION.into(), email: "ann@example.com".into() }
        );
    }

    #[test]
    fn staff_dm_sorted_case_insensitively() {
        assert_eq!(
            round_trip("ann@example.com|bob@example.com"),
            ChatId::StaffDm { a: "ann@example.com".into(), b: "bob@example.com".into() }
        );
        assert!(matches!(round_trip("Ann@example.com|bob@example.com"), ChatId::StaffDm { .. }));
    }

    #[test]
    fn external() {
        assert_eq!(round_trip("crm-ticket-4711"), ChatId::External("crm-ticket-4711".into()));
        assert_eq!(round_trip("hubspot thread #9 ✓"), ChatId::External("hubspot thread #9 ✓".into()));
        round_trip(&"x".repeat(MAX_CHAT_ID_CHARS));
    }

    #[test]
    fn malformed_ids() {
        refused("");
        refused(&"x".repeat(MAX_CHAT_ID_CHARS + 1));
        refused("customer:");
        refused("customer:not-an-email");
        refused("customer:ann@example.com\n");
        refused(&format!("customer:{SESSION}:"));
        refused(&format!("customer:{SESSION}:not-an-email"));
        refused("customer:short:ann@example.com");
        refused("customer::ann@example.com");
        refused(&format!("customer:{}:ann@example.com", "s".repeat(129)));
        refused("customer:bad session id with spaces:ann@example.com");
        refused("bob@example.com|ann@example.com");
        refused("ann@example.com|ann@example.com");
        refused("ann@example.com|ANN@example.com");
        refused("ann@example.com|");
        refused("|bob@example.com");
        refused("ann|bob");
        refused("ann@example.com|bob@example.com|carl@example.com");
        refused("ticket\u{7}42");
        refused("ticket\t42");
    }
}

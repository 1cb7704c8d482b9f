//! Field validation of the public widget API. Each function answers the
//! [`FieldError`] the route turns into 422 `validation_error` (seeds 001, 004).

use crate::error::FieldError;
use crate::limits::*;

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A site key: 1 to 64 ASCII letters, digits or `_`/`-` (e.g. `sk_demo_edgechat`).
pub fn site_key(key: &str) -> Result<(), FieldError> {
    if key.is_empty() {
        return Err(FieldError::new("site_key", "site_key is required"));
    }
    if key.len() > 64 || !key.chars().all(is_token_char) {
        return Err(FieldError::new("site_key", "site_key is malformed"));
    }
    Ok(())
}

/// A session id: 22 to 128 ASCII letters, digits or `_`/`-`, so that it can
/// carry at least 128 random bits (ARCHITECTURE.md, security model).
pub fn session_id(id: &str) -> Result<(), FieldError> {
    if id.is_empty() {
        return Err(FieldError::new("session_id", "session_id is required"));
    }
    let n = id.chars().count();
    if !(MIN_SESSION_ID_CHARS..=MAX_SESSION_ID_CHARS).contains(&n) || !id.chars().all(is_token_char) {
        return Err(FieldError::new(
            "session_id",
            format!(
                "session_id must be {MIN_SESSION_ID_CHARS} to {MAX_SESSION_ID_CHARS} letters, digits, '_' or '-'"
            ),
        ));
    }
    Ok(())
}

/// A visitor message: not blank, at most [`MAX_MESSAGE_CHARS`] characters
/// (seed 004: "Message is too long (maximum 10000 characters)").
pub fn message(text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new("message", "message is required"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(FieldError::new(
            "message",
            format!("Message is too long (maximum {MAX_MESSAGE_CHARS} characters)"),
        ));
    }
    Ok(())
}

/// A client message id: 1 to 64 ASCII letters, digits or `_`/`-`/`.`/`:`.
pub fn message_id(id: &str) -> Result<(), FieldError> {
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_MESSAGE_ID_CHARS
        && id.chars().all(|c| is_token_char(c) || c == '.' || c == ':');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "message_id",
            format!("message_id must be 1 to {MAX_MESSAGE_ID_CHARS} letters, digits, '_', '-', '.' or ':'"),
        ))
    }
}

/// A language tag in the shape of BCP 47 (RFC 5646): subtags of 1 to 8
/// letters or digits joined by `-`, at most 35 characters.
pub fn lang(tag: &str) -> Result<(), FieldError> {
    let ok = !tag.is_empty()
        && tag.len() <= MAX_LANG_CHARS
        && tag.split('-').all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new("lang", "lang must be a language tag such as 'en' or 'pt-BR'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "sess_0123456789abcdefABCDEF";

    #[test]
    fn session_id_needs_128_bits_of_token_characters() {
        assert!(session_id(SESSION).is_ok());
        assert!(session_id("").is_err());
        assert!(session_id("sess_short").is_err());
        assert!(session_id("sess_0123456789abcdef<script>").is_err());
        assert!(session_id(&"a".repeat(129)).is_err());
        assert!(session_id(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn message_must_not_be_blank_or_over_ten_thousand_characters() {
        assert!(message("hello").is_ok());
        assert_eq!(message("   \n").unwrap_err().field, "message");
        assert!(message(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok(), "the limit counts characters, not bytes");
        let err = message(&"a".repeat(MAX_MESSAGE_CHARS + 1)).unwrap_err();
        assert_eq!(err.message, "Message is too long (maximum 10000 characters)");
    }

    #[test]
    fn site_key_and_message_id_are_token_shaped() {
        assert!(site_key("sk_demo_edgechat").is_ok());
        assert!(site_key("").is_err());
        assert!(site_key("sk demo").is_err());
        assert!(message_id("m_abc-1.2:3").is_ok());
        assert!(message_id("").is_err());
        assert!(message_id(&"m".repeat(65)).is_err());
    }

    #[test]
    fn lang_accepts_bcp47_shapes_only() {
        for ok in ["en", "pt-BR", "zh-Hant-TW", "de"] {
            assert!(lang(ok).is_ok(), "{ok}");
        }
        for bad in ["", "en_US", "toolongsubtag", "en--x", "fr!"] {
            assert!(lang(bad).is_err(), "{bad}");
        }
    }
}

//! The visitor's contact details (seed 001): `POST /api/v1/chat/email` and
//! `POST /api/v1/chat/contact`.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validate;

/// Body of `POST /api/v1/chat/email` (seed 001).
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","email":"jane@example.com"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// The visitor's email.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub email: String,
}

/// Body of `POST /api/v1/chat/contact` (seed 001): email and/or phone, optional name.
///
/// # Format
/// `{"site_key":"sk_…","session_id":"sess_…","email":"jane@example.com","phone":"+14155550123","name":"Jane"}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRequest {
    /// The site's public key.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub site_key: String,
    /// The visitor's session id.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub session_id: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number in E.164 (`+` and up to 15 digits, ITU-T E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The visitor's name, 1 to 120 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ContactRequest {
    /// At least one of email or phone; each present field valid (422 otherwise).
    pub fn validate(&self) -> Result<(), FieldError> {
        let email = self.email.as_deref().filter(|e| !e.is_empty());
        let phone = self.phone.as_deref().filter(|p| !p.is_empty());
        if email.is_none() && phone.is_none() {
            return Err(FieldError::new("email", "email or phone is required"));
        }
        if let Some(email) = email {
            validate::email(email)?;
        }
        if let Some(phone) = phone {
            validate::e164_phone(phone)?;
        }
        if let Some(name) = &self.name {
            validate::display_name("name", name)?;
        }
        Ok(())
    }
}

/// The answer of the email and contact routes (seed 001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Saved {
    /// Always `true`.
    pub success: bool,
    /// `"Email saved"` or `"Contact saved"`.
    pub message: String,
}

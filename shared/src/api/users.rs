//! `/v1/users`, `/v1/chat/users`, `/v1/chat/agents` (seed 002, "Users"):
//! the operators of an account.

use serde::{Deserialize, Serialize};

use super::auth::{Operator, OperatorRole};
use crate::error::FieldError;
use crate::validate;

/// Body of `POST /v1/users` (owner or admin): adds an operator with an
/// initial password they change after their first login.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteOperator {
    /// Login email, unique across EdgeChat.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub email: String,
    /// Name shown to visitors.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub display_name: String,
    /// `agent` or `admin` (only an owner may add `owner`s and `admin`s).
    #[serde(default)]
    pub role: OperatorRole,
    /// Initial password, at least 8 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required))]
    pub password: String,
}

impl InviteOperator {
    /// Checks every field (422 on the first failure).
    pub fn validate(&self) -> Result<(), FieldError> {
        validate::email(&self.email)?;
        validate::display_name("display_name", &self.display_name)?;
        validate::password(&self.password)
    }
}

/// Body of `PATCH /v1/users/{id}`: a new role.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleChange {
    /// The new role.
    pub role: OperatorRole,
}

/// Answer of `GET /v1/chat/users` and `GET /v1/chat/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorList {
    /// The account's operators, oldest first.
    pub users: Vec<Operator>,
}

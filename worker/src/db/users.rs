//! Operators and accounts in D1.

use edgechat_shared::api::auth::{Account, Operator, OperatorRole};
use serde::Deserialize;
use worker::D1Database;

use super::{int, next_id, text};

/// An operator row, password hash included.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub avatar_url: Option<String>,
    pub timezone: String,
    pub created_at: String,
}

/// The columns of [`UserRow`].
pub const USER_COLUMNS: &str = "id, account_id, email, display_name, role, password_hash, avatar_url, timezone, created_at";

impl UserRow {
    /// The wire form (no password hash).
    pub fn to_operator(&self) -> Operator {
        Operator {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: OperatorRole::parse(&self.role).unwrap_or(OperatorRole::Agent),
            avatar_url: self.avatar_url.clone(),
            timezone: self.timezone.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

/// An operator by id within `account_id`.
pub async fn user(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<UserRow>> {
    db.prepare(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1 AND account_id = ?2"))
        .bind(&[int(id), int(account_id)])?
        .first(None)
        .await
}

/// An operator by email (case-insensitive), any account.
pub async fn user_by_email(db: &D1Database, email: &str) -> worker::Result<Option<UserRow>> {
    db.prepare(format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1")).bind(&[text(email)])?.first(None).await
}

/// Every operator of `account_id`, oldest first.
pub async fn users(db: &D1Database, account_id: i64) -> worker::Result<Vec<UserRow>> {
    db.prepare(format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = ?1 ORDER BY id"))
        .bind(&[int(account_id)])?
        .all()
        .await?
        .results()
}

/// Inserts an operator; `None` when the email is taken.
pub async fn insert_user(
    db: &D1Database,
    account_id: i64,
    email: &str,
    display_name: &str,
    role: OperatorRole,
    password_hash: &str,
) -> worker::Result<Option<UserRow>> {
    db.prepare(format!(
        "INSERT INTO users (id, account_id, email, display_name, role, password_hash) VALUES ({}, ?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}",
        next_id("users")
    ))
    .bind(&[int(account_id), text(email), text(display_name.trim()), text(role.as_str()), text(password_hash)])?
    .first(None)
    .await
}

/// An account by id.
pub async fn account(db: &D1Database, id: i64) -> worker::Result<Option<Account>> {
    db.prepare("SELECT id, name FROM accounts WHERE id = ?1").bind(&[int(id)])?.first(None).await
}

/// How many owners `account_id` has.
pub async fn owner_count(db: &D1Database, account_id: i64) -> worker::Result<i64> {
    Ok(db
        .prepare("SELECT COUNT(*) AS n FROM users WHERE account_id = ?1 AND role = 'owner'")
        .bind(&[int(account_id)])?
        .first::<i64>(Some("n"))
        .await?
        .unwrap_or(0))
}

/// Creates an account named `name`; answers its id (never one a deleted account had).
pub async fn insert_account(db: &D1Database, name: &str) -> worker::Result<i64> {
    db.prepare(format!("INSERT INTO accounts (id, name) VALUES ({}, ?1) RETURNING id", next_id("accounts")))
        .bind(&[text(name)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| worker::Error::RustError("account was not created".into()))
}

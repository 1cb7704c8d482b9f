//! Operators and accounts in D1 (`users`, `accounts`; migrations 0002, 0009).

use edgechat_shared::api::auth::{Account, Operator, OperatorRole};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{int, next_id, opt_text, text};

/// An operator row, password hash included.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: OperatorRole,
    pub password_hash: String,
    pub avatar_url: Option<String>,
    pub timezone: String,
    pub created_at: String,
    /// The version every valid access token of this operator carries (claim `ver`).
    pub token_version: i64,
}

/// The columns of [`UserRow`].
pub const USER_COLUMNS: &str = "id, account_id, email, display_name, role, password_hash, avatar_url, timezone, created_at, token_version";

/// The condition, on a `users` row of account `?2` that is about to stop
/// being an owner, that the account keeps another owner. One statement
/// checks and writes, so two concurrent demotions or removals of the last two
/// owners cannot both pass (issue 10).
const KEEPS_AN_OWNER: &str = "(role != 'owner' OR (SELECT COUNT(*) FROM users WHERE account_id = ?2 AND role = 'owner') > 1)";

impl UserRow {
    /// The wire form (no password hash).
    pub fn to_operator(&self) -> Operator {
        Operator {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
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

/// An operator by id, any account.
pub async fn user_by_id(db: &D1Database, id: i64) -> worker::Result<Option<UserRow>> {
    db.prepare(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1")).bind(&[int(id)])?.first(None).await
}

/// The operator an access token names: user `id` of `account_id` whose
/// token version is still `token_version`. `None` for a removed operator or
/// a token issued before a password change, logout from everywhere or role change.
pub async fn session_user(db: &D1Database, account_id: i64, id: i64, token_version: i64) -> worker::Result<Option<UserRow>> {
    session_user_statement(db, account_id, id, token_version)?.first(None).await
}

/// An access token's claims, its signature and expiry checked but nothing
/// yet against D1: operator `user_id` of `account_id`, holding token
/// version `token_version`. Worth nothing alone: only a write that states
/// [`SessionClaims::condition`] in its own SQL (checked in the same D1
/// transaction as it writes) may act on them (issue 16: an operator's send
/// in one D1 round trip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims {
    pub user_id: i64,
    pub account_id: i64,
    pub token_version: i64,
}

impl SessionClaims {
    /// The SQL condition true when the claims still hold, as
    /// [`session_user`] checks them (the operator is in the account and
    /// the token's version is theirs: not removed, not logged out
    /// everywhere, no password or role change since), and the operator may
    /// see conversation `?{conversation}` (seed 002 visibility). Its
    /// parameters `?{first}`, `?{first + 1}`, `?{first + 2}` are
    /// [`SessionClaims::params`].
    pub fn condition(conversation: usize, first: usize) -> String {
        let (account, version) = (first + 1, first + 2);
        format!(
            "EXISTS (SELECT 1 FROM users u WHERE u.id = ?{first} AND u.account_id = ?{account} AND u.token_version = ?{version}) \
             AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = ?{conversation} AND {})",
            super::visible(first, account)
        )
    }

    /// The values of [`SessionClaims::condition`]'s parameters, in order.
    pub fn params(&self) -> [wasm_bindgen::JsValue; 3] {
        [int(self.user_id), int(self.account_id), int(self.token_version)]
    }
}

/// The statement of [`session_user`], for a batch.
pub fn session_user_statement(db: &D1Database, account_id: i64, id: i64, token_version: i64) -> worker::Result<D1PreparedStatement> {
    db.prepare(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1 AND account_id = ?2 AND token_version = ?3")).bind(&[
        int(id),
        int(account_id),
        int(token_version),
    ])
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

/// A random first token version, below 2^32: a token of a removed operator
/// then never matches a later operator who got the same id.
fn first_token_version() -> i64 {
    let mut bytes = [0u8; 4];
    getrandom::getrandom(&mut bytes).expect("the Workers runtime provides crypto.getRandomValues");
    i64::from(u32::from_le_bytes(bytes))
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
        "INSERT INTO users (id, account_id, email, display_name, role, password_hash, token_version) \
         VALUES ({}, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}",
        next_id("users")
    ))
    .bind(&[int(account_id), text(email), text(display_name.trim()), text(role.as_str()), text(password_hash), int(first_token_version())])?
    .first(None)
    .await
}

/// Changes the display name, time zone and avatar URL of operator `id`;
/// `None` leaves a field as it is, `Some(None)` removes the avatar. Answers
/// the updated row, `None` when there is no such operator.
pub async fn update_profile(
    db: &D1Database,
    id: i64,
    display_name: Option<&str>,
    timezone: Option<&str>,
    avatar_url: Option<Option<&str>>,
) -> worker::Result<Option<UserRow>> {
    db.prepare(format!(
        "UPDATE users SET display_name = COALESCE(?1, display_name), timezone = COALESCE(?2, timezone), \
         avatar_url = CASE WHEN ?3 = 1 THEN ?4 ELSE avatar_url END WHERE id = ?5 RETURNING {USER_COLUMNS}"
    ))
    .bind(&[opt_text(display_name), opt_text(timezone), int(i64::from(avatar_url.is_some())), opt_text(avatar_url.flatten()), int(id)])?
    .first(None)
    .await
}

/// Sets the password hash of operator `id` and bumps their token version,
/// refusing every access token issued before. Answers the new version,
/// `None` when there is no such operator.
pub async fn set_password(db: &D1Database, id: i64, password_hash: &str) -> worker::Result<Option<i64>> {
    db.prepare("UPDATE users SET password_hash = ?2, token_version = token_version + 1 WHERE id = ?1 RETURNING token_version")
        .bind(&[int(id), text(password_hash)])?
        .first::<i64>(Some("token_version"))
        .await
}

/// Bumps the token version of operator `id`, refusing every access token
/// issued before. Answers the new version, `None` when there is no such operator.
pub async fn bump_token_version(db: &D1Database, id: i64) -> worker::Result<Option<i64>> {
    db.prepare("UPDATE users SET token_version = token_version + 1 WHERE id = ?1 RETURNING token_version")
        .bind(&[int(id)])?
        .first::<i64>(Some("token_version"))
        .await
}

/// Gives operator `id` of `account_id` the role `role`, in one statement
/// that also checks that an owner is only changed when `may_manage_owners`
/// and that the account keeps an owner. A real change bumps the token
/// version (access tokens issued before are refused). Answers the updated
/// row, `None` when nothing was changed (no such operator, or one of the checks failed).
pub async fn change_role(
    db: &D1Database,
    account_id: i64,
    id: i64,
    role: OperatorRole,
    may_manage_owners: bool,
) -> worker::Result<Option<UserRow>> {
    db.prepare(format!(
        "UPDATE users SET role = ?3, token_version = token_version + (role != ?3) \
         WHERE id = ?1 AND account_id = ?2 AND (role != 'owner' OR ?4 = 1) AND (?3 = 'owner' OR {KEEPS_AN_OWNER}) \
         RETURNING {USER_COLUMNS}"
    ))
    .bind(&[int(id), int(account_id), text(role.as_str()), int(i64::from(may_manage_owners))])?
    .first(None)
    .await
}

/// Removes operator `id` of `account_id` with their refresh tokens and read
/// marks, and unassigns their conversations, all in one transaction; the
/// removal itself is one statement that also checks that an owner is only
/// removed when `may_manage_owners` and that the account keeps an owner.
/// Answers `false` when nothing was removed (no such operator, or one of the checks failed).
pub async fn delete_user(db: &D1Database, account_id: i64, id: i64, may_manage_owners: bool) -> worker::Result<bool> {
    let gone = "NOT EXISTS (SELECT 1 FROM users WHERE id = ?1)";
    let results = db
        .batch(vec![
            db.prepare(format!(
                "DELETE FROM users WHERE id = ?1 AND account_id = ?2 AND (role != 'owner' OR ?3 = 1) AND {KEEPS_AN_OWNER} RETURNING id"
            ))
            .bind(&[int(id), int(account_id), int(i64::from(may_manage_owners))])?,
            db.prepare(format!("UPDATE conversations SET assignee_id = NULL WHERE assignee_id = ?1 AND {gone}")).bind(&[int(id)])?,
            db.prepare(format!("DELETE FROM refresh_tokens WHERE user_id = ?1 AND {gone}")).bind(&[int(id)])?,
            db.prepare(format!("DELETE FROM read_marks WHERE user_id = ?1 AND {gone}")).bind(&[int(id)])?,
        ])
        .await?;
    let removed: Vec<serde_json::Value> = match results.first() {
        Some(result) => result.results()?,
        None => Vec::new(),
    };
    Ok(!removed.is_empty())
}

/// Inserts an account named `name`; answers its id (never one a deleted account had).
pub async fn insert_account(db: &D1Database, name: &str) -> worker::Result<i64> {
    db.prepare(format!("INSERT INTO accounts (id, name) VALUES ({}, ?1) RETURNING id", next_id("accounts")))
        .bind(&[text(name)])?
        .first::<i64>(Some("id"))
        .await?
        .ok_or_else(|| worker::Error::RustError("account was not created".into()))
}

/// Deletes account `id` (a signup that lost its email to a concurrent one).
pub async fn delete_account(db: &D1Database, id: i64) -> worker::Result<()> {
    db.prepare("DELETE FROM accounts WHERE id = ?1").bind(&[int(id)])?.run().await?;
    Ok(())
}

/// An account by id.
pub async fn account(db: &D1Database, id: i64) -> worker::Result<Option<Account>> {
    db.prepare("SELECT id, name FROM accounts WHERE id = ?1").bind(&[int(id)])?.first(None).await
}

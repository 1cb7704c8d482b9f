//! Account API keys in D1 (`api_keys`, migration 0016; issue 13).

use edgechat_shared::api::integrations::{ApiKey, ApiKeyScope};
use serde::{Deserialize, Deserializer};
use worker::D1Database;

use super::{int, text};

/// At most this many keys of one account are not revoked (issue 13): 422 over.
pub const MAX_ACTIVE_KEYS: i64 = 25;

/// The stored `scopes` column, a JSON array such as `["read","write"]`.
fn scopes_column<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ApiKeyScope>, D::Error> {
    let json = String::deserialize(deserializer)?;
    serde_json::from_str(&json).map_err(serde::de::Error::custom)
}

/// A key of the account, without its hash.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    #[serde(deserialize_with = "scopes_column")]
    pub scopes: Vec<ApiKeyScope>,
    pub prefix: String,
    pub created_by: i64,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

const KEY_COLUMNS: &str = "id, name, scopes, prefix, created_by, created_at, last_used_at";

impl ApiKeyRow {
    /// The wire form; `key` is the secret, given only in the create answer.
    pub fn to_api_key(&self, key: Option<String>) -> ApiKey {
        ApiKey {
            id: self.id,
            name: self.name.clone(),
            scopes: self.scopes.clone(),
            prefix: self.prefix.clone(),
            created_by: self.created_by,
            created_at: self.created_at.clone(),
            last_used_at: self.last_used_at.clone(),
            key,
        }
    }
}

/// What a presented key grants: the key, its scopes and the operator it acts as.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyHolder {
    /// The key's id.
    pub id: i64,
    pub account_id: i64,
    #[serde(deserialize_with = "scopes_column")]
    pub scopes: Vec<ApiKeyScope>,
    /// The operator who created the key.
    pub user_id: i64,
    pub display_name: String,
    pub token_version: i64,
}

/// Stores a new key of `account_id` created by `user_id` (hash and prefix
/// of its secret) unless the account already has [`MAX_ACTIVE_KEYS`] keys
/// not revoked; the count and the insert are one statement, so concurrent
/// creations cannot pass the cap together. `None` when over the cap.
pub async fn insert(
    db: &D1Database,
    account_id: i64,
    user_id: i64,
    name: &str,
    scopes: &[ApiKeyScope],
    prefix: &str,
    key_hash: &str,
) -> worker::Result<Option<ApiKeyRow>> {
    let scopes = serde_json::to_string(scopes).map_err(|e| worker::Error::RustError(e.to_string()))?;
    db.prepare(format!(
        "INSERT INTO api_keys (account_id, created_by, name, scopes, prefix, key_hash) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
         WHERE (SELECT COUNT(*) FROM api_keys WHERE account_id = ?1 AND revoked_at IS NULL) < ?7 \
         RETURNING {KEY_COLUMNS}"
    ))
    .bind(&[int(account_id), int(user_id), text(name), text(&scopes), text(prefix), text(key_hash), int(MAX_ACTIVE_KEYS)])?
    .first(None)
    .await
}

/// The keys of `account_id` that are not revoked, newest first.
pub async fn keys(db: &D1Database, account_id: i64) -> worker::Result<Vec<ApiKeyRow>> {
    db.prepare(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = ?1 AND revoked_at IS NULL ORDER BY id DESC"))
        .bind(&[int(account_id)])?
        .all()
        .await?
        .results()
}

/// Revokes key `id` of `account_id`; `false` when there is no such key
/// not yet revoked (another account's id, or revoked before).
pub async fn revoke(db: &D1Database, account_id: i64, id: i64) -> worker::Result<bool> {
    let revoked = db
        .prepare(
            "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?1 AND account_id = ?2 AND revoked_at IS NULL RETURNING id",
        )
        .bind(&[int(id), int(account_id)])?
        .first::<i64>(Some("id"))
        .await?;
    Ok(revoked.is_some())
}

/// The key whose secret hashes to `key_hash`, when it may be used: not
/// revoked, and its creator still an operator of its account. Stamps its
/// `last_used_at` in the same statement, so a revocation committed before
/// is always seen and there is no second round trip.
pub async fn authenticate(db: &D1Database, key_hash: &str) -> worker::Result<Option<KeyHolder>> {
    let creator = "FROM users u WHERE u.id = api_keys.created_by AND u.account_id = api_keys.account_id";
    db.prepare(format!(
        "UPDATE api_keys SET last_used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE key_hash = ?1 AND revoked_at IS NULL AND EXISTS (SELECT 1 {creator}) \
         RETURNING id, account_id, scopes, created_by AS user_id, \
         (SELECT u.display_name {creator}) AS display_name, (SELECT u.token_version {creator}) AS token_version"
    ))
    .bind(&[text(key_hash)])?
    .first(None)
    .await
}

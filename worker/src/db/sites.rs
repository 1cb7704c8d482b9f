//! Sites and their knowledge-base articles in D1.

use std::collections::BTreeMap;

use edgechat_shared::api::sites::{theme_limits, LauncherPosition, RequestReason, ResponderSettings, Site, SiteInput};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{int, next_id, opt_int, opt_text, text};
use crate::auth::random_hex;

/// A site row.
#[derive(Debug, Clone, Deserialize)]
pub struct SiteRow {
    pub id: i64,
    pub account_id: i64,
    pub site_key: String,
    pub name: String,
    pub greeting: String,
    pub theme_color: String,
    pub allowed_origins: String,
    pub identity_secret: String,
    pub responder: String,
    pub request_reasons: String,
    pub created_at: String,
    /// `''`: the site's name.
    pub title: String,
    /// `''`: none.
    pub avatar_url: String,
    pub launcher_position: LauncherPosition,
    /// px, 0 to 200.
    pub launcher_offset_x: i64,
    /// px, 0 to 200.
    pub launcher_offset_y: i64,
    pub custom_css: String,
    /// JSON object: language tag → greeting.
    pub greetings: String,
    /// Bumped by every update of the site's settings, never to a value it
    /// had (migration 0026): a write that checks it finds the site as it
    /// was read. An `UPDATE … RETURNING` answers the revision before its
    /// bump (SQLite runs the trigger after `RETURNING` is read): read the
    /// site again to remember it.
    pub revision: i64,
}

/// The columns of [`SiteRow`], for `SELECT`s and `RETURNING`.
pub const SITE_COLUMNS: &str = "id, account_id, site_key, name, greeting, theme_color, allowed_origins, identity_secret, responder, \
     request_reasons, created_at, title, avatar_url, launcher_position, launcher_offset_x, launcher_offset_y, custom_css, greetings, revision";

/// The first row of `statement`'s result, read twice: as a [`SiteRow`] and
/// as `E`, the columns the query adds to the site's; `None` when there is
/// no row. Read apart, as `search::located` reads its rows: a
/// `#[serde(flatten)]` of the site through D1's JavaScript values buffers
/// every column and compiled a second decoder of the site (issue 16: the
/// worker's upload).
pub async fn first_site_with<E: DeserializeOwned>(statement: D1PreparedStatement) -> worker::Result<Option<(SiteRow, E)>> {
    let result = statement.all().await?;
    Ok(result.results::<SiteRow>()?.into_iter().zip(result.results::<E>()?).next())
}

impl SiteRow {
    /// The stored responder settings, API key included (never answer them
    /// as they are: see [`ResponderSettings::redacted`]).
    pub fn responder(&self) -> ResponderSettings {
        serde_json::from_str(&self.responder).unwrap_or_default()
    }

    /// The stored request topics.
    pub fn request_reasons(&self) -> Vec<RequestReason> {
        serde_json::from_str(&self.request_reasons).unwrap_or_default()
    }

    /// The stored allowed origins.
    pub fn allowed_origins(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_origins).unwrap_or_default()
    }

    /// The stored greeting per language.
    pub fn greetings(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.greetings).unwrap_or_default()
    }

    /// The avatar's URL, `None` when the site has none.
    pub fn avatar_url(&self) -> Option<String> {
        Some(self.avatar_url.clone()).filter(|url| !url.is_empty())
    }

    /// The panel header's title: the site's title, or its name when it has none.
    pub fn header_title(&self) -> String {
        if self.title.trim().is_empty() {
            self.name.clone()
        } else {
            self.title.clone()
        }
    }

    /// The launcher's offsets from the side and the bottom, in px (the
    /// default where a stored value is out of range, which the schema forbids).
    pub fn launcher_offsets(&self) -> (u16, u16) {
        let px = |value: i64| u16::try_from(value).unwrap_or(theme_limits::DEFAULT_OFFSET_PX);
        (px(self.launcher_offset_x), px(self.launcher_offset_y))
    }

    /// The wire form. `origin` is the worker's public origin (for the embed
    /// snippet); the identity secret is included only when `show_secret`.
    pub fn to_site(&self, origin: &str, show_secret: bool) -> Site {
        let (launcher_offset_x, launcher_offset_y) = self.launcher_offsets();
        Site {
            id: self.id,
            name: self.name.clone(),
            site_key: self.site_key.clone(),
            allowed_origins: self.allowed_origins(),
            greeting: self.greeting.clone(),
            greetings: self.greetings(),
            theme_color: self.theme_color.clone(),
            title: self.title.clone(),
            avatar_url: self.avatar_url(),
            launcher_position: self.launcher_position,
            launcher_offset_x,
            launcher_offset_y,
            custom_css: self.custom_css.clone(),
            responder: self.responder().redacted(),
            embed_snippet: format!(r#"<script src="{origin}/loader.js" data-site-key="{}" async></script>"#, self.site_key),
            identity_secret: show_secret.then(|| self.identity_secret.clone()),
            identity_token_key: show_secret.then(|| crate::auth::signing::identity_token_key(&self.identity_secret)),
            request_reasons: self.request_reasons(),
            created_at: self.created_at.clone(),
        }
    }
}

/// A site by its public key.
pub async fn by_key(db: &D1Database, site_key: &str) -> worker::Result<Option<SiteRow>> {
    db.prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE site_key = ?1")).bind(&[text(site_key)])?.first(None).await
}

/// A site by id, any account (for signed file URLs).
pub async fn by_id(db: &D1Database, id: i64) -> worker::Result<Option<SiteRow>> {
    db.prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = ?1")).bind(&[int(id)])?.first(None).await
}

/// The read of the site of conversation `conversation_id` of `account_id`
/// (no row for an internal conversation, or no such conversation), for a
/// batch ([`super::conversations::send_target`]).
pub fn of_conversation_statement(db: &D1Database, account_id: i64, conversation_id: i64) -> worker::Result<D1PreparedStatement> {
    db.prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = (SELECT site_id FROM conversations WHERE id = ?1 AND account_id = ?2)"))
        .bind(&[int(conversation_id), int(account_id)])
}

/// A site by id within `account_id`.
pub async fn site(db: &D1Database, account_id: i64, id: i64) -> worker::Result<Option<SiteRow>> {
    db.prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = ?1 AND account_id = ?2"))
        .bind(&[int(id), int(account_id)])?
        .first(None)
        .await
}

/// Every site of `account_id`, oldest first.
pub async fn sites(db: &D1Database, account_id: i64) -> worker::Result<Vec<SiteRow>> {
    db.prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE account_id = ?1 ORDER BY id"))
        .bind(&[int(account_id)])?
        .all()
        .await?
        .results()
}

/// Creates a site named `name` with a fresh site key (`sk_` + 96 random
/// bits) and identity secret (256 bits), then applies `input`.
pub async fn insert_site(db: &D1Database, account_id: i64, name: &str, input: &SiteInput) -> worker::Result<SiteRow> {
    let row: SiteRow = db
        .prepare(format!(
            "INSERT INTO sites (id, account_id, site_key, name, identity_secret) VALUES ({}, ?1, ?2, ?3, ?4) RETURNING {SITE_COLUMNS}",
            next_id("sites")
        ))
        .bind(&[int(account_id), text(&format!("sk_{}", random_hex(12))), text(name.trim()), text(&random_hex(32))])?
        .first(None)
        .await?
        .ok_or_else(|| worker::Error::RustError("site was not created".into()))?;
    Ok(update_site(db, &row, input).await?.unwrap_or(row))
}

/// Applies the present fields of `input` (checked) to `site`; answers the updated row.
pub async fn update_site(db: &D1Database, site: &SiteRow, input: &SiteInput) -> worker::Result<Option<SiteRow>> {
    let responder = input.responder.as_ref().map(|update| site.responder().updated_with(update));
    db.prepare(format!(
        "UPDATE sites SET name = COALESCE(?1, name), greeting = COALESCE(?2, greeting), \
         theme_color = COALESCE(?3, theme_color), allowed_origins = COALESCE(?4, allowed_origins), \
         responder = COALESCE(?5, responder), request_reasons = COALESCE(?7, request_reasons), \
         title = COALESCE(?8, title), avatar_url = COALESCE(?9, avatar_url), launcher_position = COALESCE(?10, launcher_position), \
         launcher_offset_x = COALESCE(?11, launcher_offset_x), launcher_offset_y = COALESCE(?12, launcher_offset_y), \
         custom_css = COALESCE(?13, custom_css), greetings = COALESCE(?14, greetings) WHERE id = ?6 RETURNING {SITE_COLUMNS}"
    ))
    .bind(&[
        opt_text(input.name.as_deref().map(str::trim)),
        opt_text(input.greeting.as_deref()),
        opt_text(input.theme_color.as_deref()),
        opt_text(input.allowed_origins.as_ref().map(|o| serde_json::to_string(o).unwrap_or_default()).as_deref()),
        opt_text(responder.map(|r| serde_json::to_string(&r).unwrap_or_default()).as_deref()),
        int(site.id),
        opt_text(input.request_reasons.as_ref().map(|r| serde_json::to_string(r).unwrap_or_default()).as_deref()),
        opt_text(input.title.as_deref().map(str::trim)),
        opt_text(input.avatar_url.as_deref()),
        opt_text(input.launcher_position.as_deref()),
        opt_int(input.launcher_offset_x),
        opt_int(input.launcher_offset_y),
        opt_text(input.custom_css.as_deref()),
        opt_text(input.greetings.as_ref().map(|g| serde_json::to_string(g).unwrap_or_default()).as_deref()),
    ])?
    .first(None)
    .await
}

/// Replaces the site's identity secret with a fresh one and ends every app
/// session signed in with the old one (a leaked secret could have minted
/// them), in one batch.
pub async fn rotate_secret(db: &D1Database, site_id: i64) -> worker::Result<Option<SiteRow>> {
    let results = db
        .batch(vec![
            db.prepare(format!("UPDATE sites SET identity_secret = ?1 WHERE id = ?2 RETURNING {SITE_COLUMNS}"))
                .bind(&[text(&random_hex(32)), int(site_id)])?,
            db.prepare("DELETE FROM app_sessions WHERE site_id = ?1").bind(&[int(site_id)])?,
        ])
        .await?;
    Ok(results.first().map(|r| r.results::<SiteRow>()).transpose()?.and_then(|mut rows| rows.pop()))
}

/// Deletes a site with its conversations and knowledge base, in one D1
/// batch (a transaction); answers the ids of the conversations deleted, so
/// their Rooms can be closed.
pub async fn delete_site(db: &D1Database, site_id: i64) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Deleted {
        id: i64,
    }
    // D1 enforces foreign keys; delete children first so no row is left dangling.
    let results = db
        .batch(vec![
            db.prepare("DELETE FROM read_marks WHERE conversation_id IN (SELECT id FROM conversations WHERE site_id = ?1)")
                .bind(&[int(site_id)])?,
            db.prepare("DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE site_id = ?1)")
                .bind(&[int(site_id)])?,
            db.prepare("DELETE FROM conversations WHERE site_id = ?1 RETURNING id").bind(&[int(site_id)])?,
            db.prepare("DELETE FROM visitors WHERE site_id = ?1").bind(&[int(site_id)])?,
            db.prepare("DELETE FROM kb_articles WHERE site_id = ?1").bind(&[int(site_id)])?,
            db.prepare("DELETE FROM sites WHERE id = ?1").bind(&[int(site_id)])?,
        ])
        .await?;
    let deleted = results.get(2).map(|r| r.results::<Deleted>()).transpose()?.unwrap_or_default();
    Ok(deleted.into_iter().map(|d| d.id).collect())
}

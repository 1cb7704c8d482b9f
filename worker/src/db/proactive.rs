//! Proactive rules of a site (seed 001, `pending-proactive`) and which
//! visitor sessions were shown a once-per-visitor rule.

use edgechat_shared::api::proactive::{ProactiveInput, ProactiveRule};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::{id_array, int, opt_int, opt_text, text};
use edgechat_shared::limits::MAX_PROACTIVE_RULES_PER_SITE;

#[derive(Debug, Deserialize)]
struct RuleRow {
    id: i64,
    message: String,
    url_match: String,
    delay_seconds: i64,
    once_per_visitor: i64,
    enabled: i64,
}

impl RuleRow {
    fn into_rule(self) -> ProactiveRule {
        ProactiveRule {
            id: self.id,
            message: self.message,
            url_match: self.url_match,
            delay_seconds: self.delay_seconds,
            once_per_visitor: self.once_per_visitor != 0,
            enabled: self.enabled != 0,
        }
    }
}

const RULE_COLUMNS: &str = "id, message, url_match, delay_seconds, once_per_visitor, enabled";

/// A nullable SQLite boolean (0/1).
fn flag(value: Option<bool>) -> JsValue {
    opt_int(value.map(i64::from))
}

async fn select(db: &D1Database, site_id: i64, only_enabled: bool) -> worker::Result<Vec<ProactiveRule>> {
    let filter = if only_enabled { " AND enabled = 1" } else { "" };
    let rows: Vec<RuleRow> = db
        .prepare(format!("SELECT {RULE_COLUMNS} FROM proactive_rules WHERE site_id = ?1{filter} ORDER BY id"))
        .bind(&[int(site_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(RuleRow::into_rule).collect())
}

/// Every rule of `site_id`, oldest first.
pub async fn rules(db: &D1Database, site_id: i64) -> worker::Result<Vec<ProactiveRule>> {
    select(db, site_id, false).await
}

/// The enabled rules of `site_id` (for the widget's poll), oldest first.
pub async fn enabled_rules(db: &D1Database, site_id: i64) -> worker::Result<Vec<ProactiveRule>> {
    select(db, site_id, true).await
}

/// `true` when `site_id` has at least one enabled rule (the widget config's `proactive`).
pub async fn any_enabled(db: &D1Database, site_id: i64) -> worker::Result<bool> {
    let found = db
        .prepare("SELECT EXISTS (SELECT 1 FROM proactive_rules WHERE site_id = ?1 AND enabled = 1) AS found")
        .bind(&[int(site_id)])?
        .first::<i64>(Some("found"))
        .await?;
    Ok(found == Some(1))
}

/// Adds a rule with `message` to `site_id`; absent fields take their defaults
/// (any URL, no delay, once per visitor, enabled). `None`, adding nothing,
/// when the site has [`MAX_PROACTIVE_RULES_PER_SITE`] rules (the count and
/// the insert are one statement).
pub async fn insert(db: &D1Database, site_id: i64, message: &str, input: &ProactiveInput) -> worker::Result<Option<ProactiveRule>> {
    let row: Option<RuleRow> = db
        .prepare(format!(
            "INSERT INTO proactive_rules (site_id, message, url_match, delay_seconds, once_per_visitor, enabled) \
             SELECT ?1, ?2, COALESCE(?3, ''), COALESCE(?4, 0), COALESCE(?5, 1), COALESCE(?6, 1) \
             WHERE (SELECT COUNT(*) FROM proactive_rules WHERE site_id = ?1) < {MAX_PROACTIVE_RULES_PER_SITE} RETURNING {RULE_COLUMNS}"
        ))
        .bind(&[
            int(site_id),
            opt_text(Some(message.trim())),
            opt_text(input.url_match.as_deref()),
            opt_int(input.delay_seconds),
            flag(input.once_per_visitor),
            flag(input.enabled),
        ])?
        .first(None)
        .await?;
    Ok(row.map(RuleRow::into_rule))
}

/// Changes the given fields of rule `rule_id` of `site_id`; `None` when the
/// site has no such rule.
pub async fn update(db: &D1Database, site_id: i64, rule_id: i64, input: &ProactiveInput) -> worker::Result<Option<ProactiveRule>> {
    let row: Option<RuleRow> = db
        .prepare(format!(
            "UPDATE proactive_rules SET message = COALESCE(?1, message), url_match = COALESCE(?2, url_match), \
             delay_seconds = COALESCE(?3, delay_seconds), once_per_visitor = COALESCE(?4, once_per_visitor), \
             enabled = COALESCE(?5, enabled) WHERE id = ?6 AND site_id = ?7 RETURNING {RULE_COLUMNS}"
        ))
        .bind(&[
            opt_text(input.message.as_deref().map(str::trim)),
            opt_text(input.url_match.as_deref()),
            opt_int(input.delay_seconds),
            flag(input.once_per_visitor),
            flag(input.enabled),
            int(rule_id),
            int(site_id),
        ])?
        .first(None)
        .await?;
    Ok(row.map(RuleRow::into_rule))
}

/// Deletes rule `rule_id` of `site_id`; answers whether there was one.
pub async fn delete(db: &D1Database, site_id: i64, rule_id: i64) -> worker::Result<bool> {
    Ok(db
        .prepare("DELETE FROM proactive_rules WHERE id = ?1 AND site_id = ?2 RETURNING id")
        .bind(&[int(rule_id), int(site_id)])?
        .first::<i64>(Some("id"))
        .await?
        .is_some())
}

/// The rules of `site_id` shown to visitor session `session_id` already.
pub async fn shown(db: &D1Database, site_id: i64, session_id: &str) -> worker::Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Shown {
        rule_id: i64,
    }
    let rows = db
        .prepare(
            "SELECT s.rule_id FROM proactive_shown s JOIN proactive_rules r ON r.id = s.rule_id WHERE r.site_id = ?1 AND s.session_id = ?2",
        )
        .bind(&[int(site_id), text(session_id)])?
        .all()
        .await?
        .results::<Shown>()?;
    Ok(rows.into_iter().map(|r| r.rule_id).collect())
}

/// Records that rule `rule_id` was shown to visitor session `session_id`.
pub async fn mark_shown(db: &D1Database, rule_ids: &[i64], session_id: &str) -> worker::Result<()> {
    if rule_ids.is_empty() {
        return Ok(());
    }
    db.prepare("INSERT INTO proactive_shown (rule_id, session_id) SELECT value, ?2 FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING")
        .bind(&[id_array(rule_ids), text(session_id)])?
        .run()
        .await?;
    Ok(())
}

//! Seed data as SQL for the local D1: the demo account and site, test sites,
//! and knowledge-base imports from JSON Lines (`cargo xtask kb-import`).

use std::path::Path;

use edgechat_shared::kb::{parse_jsonl, ImportArticle};

use crate::{root, wrangler, Result, DEMO_SITE_KEY};

/// An SQL string literal (single quotes doubled, SQLite's only escape).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// SQL creating (once) an account named `site_key` and its site `name` with that key.
pub fn site_sql(site_key: &str, name: &str, greeting: &str) -> String {
    let key = quote(site_key);
    format!(
        "INSERT INTO accounts (name) SELECT {key} WHERE NOT EXISTS (SELECT 1 FROM sites WHERE site_key = {key});\n\
         INSERT INTO sites (account_id, site_key, name, greeting) \
         SELECT MAX(id), {key}, {name}, {greeting} FROM accounts WHERE name = {key} \
         ON CONFLICT (site_key) DO NOTHING;\n",
        name = quote(name),
        greeting = quote(greeting),
    )
}

/// SQL upserting `articles` into the knowledge base of `site_key`: an id
/// already imported is replaced, and the FTS5 index follows by trigger.
pub fn kb_import_sql(site_key: &str, articles: &[ImportArticle]) -> String {
    let key = quote(site_key);
    let mut sql = String::new();
    for article in articles {
        sql.push_str(&format!(
            "INSERT INTO kb_articles (site_id, external_id, title, body, url) \
             SELECT id, {}, {}, {}, {} FROM sites WHERE site_key = {key} \
             ON CONFLICT (site_id, external_id) DO UPDATE SET title = excluded.title, body = excluded.body, \
             url = excluded.url, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');\n",
            quote(&article.id),
            quote(&article.title),
            quote(&article.body),
            article.url.as_deref().map(quote).unwrap_or_else(|| "NULL".into()),
        ));
    }
    sql
}

/// Creates a site and imports the JSON Lines knowledge base at `kb_file` into it.
pub fn site_with_kb(persist_dir: &Path, site_key: &str, name: &str, kb_file: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(kb_file).map_err(|e| format!("{}: {e}", kb_file.display()))?;
    let articles = parse_jsonl(&text).map_err(|e| format!("{}: {e}", kb_file.display()))?;
    let sql = site_sql(site_key, name, "Hi there! How can we help?") + &kb_import_sql(site_key, &articles);
    wrangler::execute_sql(persist_dir, &sql)?;
    Ok(articles.len())
}

/// The demo account, its site [`DEMO_SITE_KEY`] and the EdgeChat knowledge
/// base in `xtask/demo/kb.jsonl`.
pub fn demo(persist_dir: &Path) -> Result<usize> {
    site_with_kb(persist_dir, DEMO_SITE_KEY, "EdgeChat Demo", &root().join("xtask/demo/kb.jsonl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_in_sql_literals() {
        assert_eq!(quote("it's"), "'it''s'");
        let sql = kb_import_sql("sk_x", &[ImportArticle { id: "a'1".into(), title: "T".into(), body: "x'); DROP TABLE sites; --".into(), url: None }]);
        assert!(sql.contains("'a''1'"));
        assert!(sql.contains("'x''); DROP TABLE sites; --'"));
    }
}

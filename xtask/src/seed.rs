//! Seed data for a local EdgeChat: the demo account (fixed site key, an
//! owner with a known password) as SQL, and knowledge-base imports through
//! the operator API (`POST /v1/sites/{id}/articles/import`), the same code
//! path site owners use.

use std::io::Read;
use std::path::Path;

use edgechat_shared::api::auth::{LoginRequest, TokenResponse};
use edgechat_shared::api::sites::{ImportResult, SiteList};

use crate::{root, wrangler, Result, DEMO_SITE_KEY};

/// The demo owner's login, printed by `cargo xtask dev`.
pub const DEMO_OPERATOR_EMAIL: &str = "demo@edgechat.dev";
/// The demo owner's password.
pub const DEMO_OPERATOR_PASSWORD: &str = "edgechat-demo";

/// PBKDF2-HMAC-SHA256 iterations: the Workers platform's limit for Web Crypto.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// `n` random bytes from the operating system, as lower-case hex.
pub fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A stored password hash in the worker's format
/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` (see `worker/src/auth/password.rs`).
pub fn password_hash(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut salt)?;
    let mut hash = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, PBKDF2_ITERATIONS, &mut hash);
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    Ok(format!("pbkdf2-sha256${PBKDF2_ITERATIONS}${}${}", hex(&salt), hex(&hash)))
}

/// An SQL string literal (single quotes doubled, SQLite's only escape).
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The SQL expression of the next id of `table` (as `worker/src/db/mod.rs`).
fn next_id(table: &str) -> String {
    format!("(SELECT last_id + 1 FROM id_sequences WHERE name = '{table}')")
}

/// SQL creating, once, the demo account, its owner and its site [`DEMO_SITE_KEY`].
pub fn demo_sql() -> Result<String> {
    let key = quote(DEMO_SITE_KEY);
    let email = quote(DEMO_OPERATOR_EMAIL);
    Ok(format!(
        "INSERT INTO accounts (id, name) SELECT {next_account}, 'EdgeChat Demo' \
         WHERE NOT EXISTS (SELECT 1 FROM sites WHERE site_key = {key});\n\
         INSERT INTO sites (id, account_id, site_key, name, identity_secret) SELECT {next_site}, MAX(id), {key}, 'EdgeChat Demo', {secret} \
         FROM accounts WHERE name = 'EdgeChat Demo' ON CONFLICT (site_key) DO NOTHING;\n\
         INSERT INTO users (id, account_id, email, display_name, role, password_hash) \
         SELECT {next_user}, account_id, {email}, 'Demo Owner', 'owner', {hash} FROM sites WHERE site_key = {key} \
         ON CONFLICT (email) DO NOTHING;\n",
        // Ids never reused (migration 0008): each table's high-water mark + 1.
        next_account = next_id("accounts"),
        next_site = next_id("sites"),
        next_user = next_id("users"),
        secret = quote(&random_hex(32)?),
        hash = quote(&password_hash(DEMO_OPERATOR_PASSWORD)?),
    ))
}

/// Seeds the demo account into the local D1 in `persist_dir` (before `wrangler dev` starts).
pub fn demo_account(persist_dir: &Path) -> Result<()> {
    wrangler::execute_sql(persist_dir, &demo_sql()?)
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(ureq::Agent::config_builder().http_status_as_error(false).build())
}

fn check(response: &mut ureq::http::Response<ureq::Body>, what: &str) -> Result<()> {
    if response.status().is_success() {
        return Ok(());
    }
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Err(format!("{what}: HTTP {} {body}", response.status()).into())
}

/// Logs in through `POST /auth/login` on the server at `url`.
pub fn login(url: &str, email: &str, password: &str) -> Result<TokenResponse> {
    let mut response = agent().post(&format!("{url}/auth/login")).send_json(LoginRequest {
        email: email.into(),
        password: password.into(),
        ..Default::default()
    })?;
    check(&mut response, "login")?;
    Ok(response.body_mut().read_json()?)
}

/// Imports the JSON Lines knowledge base at `kb_file` into the site with
/// `site_key` through `POST /v1/sites/{id}/articles/import`, as `token`'s
/// operator. Answers the number of articles imported.
pub fn import_kb(url: &str, token: &str, site_key: &str, kb_file: &Path) -> Result<usize> {
    let jsonl = std::fs::read_to_string(kb_file).map_err(|e| format!("{}: {e}", kb_file.display()))?;
    let mut response = agent().get(&format!("{url}/v1/sites")).header("authorization", &format!("Bearer {token}")).call()?;
    check(&mut response, "listing sites")?;
    let sites: SiteList = response.body_mut().read_json()?;
    let site = sites.sites.iter().find(|s| s.site_key == site_key).ok_or_else(|| format!("no site {site_key} in this account"))?;
    let mut response = agent()
        .post(&format!("{url}/v1/sites/{}/articles/import", site.id))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/x-ndjson")
        .send(jsonl.as_str())?;
    check(&mut response, "importing articles")?;
    Ok(response.body_mut().read_json::<ImportResult>()?.imported)
}

/// Imports `xtask/demo/kb.jsonl` into the demo site of the server at `url`.
pub fn demo_kb(url: &str) -> Result<usize> {
    let tokens = login(url, DEMO_OPERATOR_EMAIL, DEMO_OPERATOR_PASSWORD)?;
    import_kb(url, &tokens.access_token, DEMO_SITE_KEY, &root().join("xtask/demo/kb.jsonl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_has_the_worker_format_and_a_fresh_salt() {
        let a = password_hash("edgechat-demo").unwrap();
        let b = password_hash("edgechat-demo").unwrap();
        let parts: Vec<&str> = a.split('$').collect();
        assert_eq!(parts[0], "pbkdf2-sha256");
        assert_eq!(parts[1], "100000");
        assert_eq!(parts[2].len(), 32);
        assert_eq!(parts[3].len(), 64);
        assert_ne!(a, b, "each hash has its own salt");
    }

    #[test]
    fn demo_sql_quotes_its_literals() {
        assert_eq!(quote("it's"), "'it''s'");
        assert!(demo_sql().unwrap().contains("'demo@edgechat.dev'"));
    }
}

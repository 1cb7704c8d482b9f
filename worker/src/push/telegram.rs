//! Telegram Bot API: `POST {TELEGRAM_BASE_URL}/bot{TELEGRAM_BOT_TOKEN}/sendMessage`
//! with `{chat_id, text}` (https://core.telegram.org/bots/api#sendmessage),
//! for users of a Telegram Mini App.

/// Longest message text the Bot API takes, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;

/// The `sendMessage` body: the notification's title and body as plain text.
pub fn send_message(chat_id: &str, title: &str, body: &str) -> serde_json::Value {
    let text: String = format!("{title}\n{body}").chars().take(MAX_TEXT_CHARS).collect();
    let chat_id = chat_id.parse::<i64>().map(serde_json::Value::from).unwrap_or_else(|_| chat_id.into());
    serde_json::json!({"chat_id": chat_id, "text": text})
}

/// Whether a Bot API error says the chat is gone for good: 404/410, or 403
/// (the user blocked the bot or deleted the chat).
pub fn chat_gone(status: u16) -> bool {
    matches!(status, 403 | 404 | 410)
}

/// How long a Mini App's `initData` proves its user after its `auth_date`,
/// in seconds: a day (Telegram's docs advise checking `auth_date`; a day is
/// what the Mini Apps' own init-data libraries default to).
pub const INIT_DATA_MAX_AGE_SECONDS: i64 = 24 * 60 * 60;

/// Why a `tma` token is refused (422 on `token`).
pub const NOT_INIT_DATA: &str = "token must be the Mini App's Telegram.WebApp.initData, signed for this deployment's bot";

/// The Telegram user id (the user's private chat with the bot, where their
/// notifications go) that a Mini App's `Telegram.WebApp.initData` proves,
/// checked as Telegram specifies
/// (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
/// every field but `hash`, sorted by name, as `name=value` lines joined by
/// `\n`, HMAC-SHA256'd with the key HMAC-SHA256(key `WebAppData`, the bot
/// token), must give `hash` (compared in constant time); `auth_date` (Unix
/// seconds) must be at most [`INIT_DATA_MAX_AGE_SECONDS`] before `now` and
/// at most a minute after it (clocks differ), and `user` a JSON object with an integer `id`.
///
/// A bare chat id proves nothing: anyone could name another's and have the
/// deployment's one bot write to them. (The crates that do this check pull
/// in Ed25519 or a second SHA-256; this is the one HMAC the worker already
/// links.)
pub fn user_of(init_data: &str, bot_token: &str, now: i64) -> Result<i64, &'static str> {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    let mut fields: Vec<(String, String)> = url::form_urlencoded::parse(init_data.as_bytes()).into_owned().collect();
    let hash = fields.iter().position(|(name, _)| name == "hash").map(|at| fields.swap_remove(at).1).ok_or(NOT_INIT_DATA)?;
    fields.sort();
    let check = fields.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("\n");
    let key = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("HMAC takes any key length").chain_update(bot_token).finalize();
    let mac = Hmac::<Sha256>::new_from_slice(&key.into_bytes()).expect("HMAC takes any key length").chain_update(check);
    mac.verify_slice(&hex::decode(hash).map_err(|_| NOT_INIT_DATA)?).map_err(|_| NOT_INIT_DATA)?;
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, value)| value.as_str());
    let signed_at: i64 = field("auth_date").and_then(|v| v.parse().ok()).ok_or(NOT_INIT_DATA)?;
    if signed_at > now + 60 || now - signed_at > INIT_DATA_MAX_AGE_SECONDS {
        return Err("token is initData older than a day (auth_date): open the Mini App again");
    }
    #[derive(serde::Deserialize)]
    struct User {
        id: i64,
    }
    serde_json::from_str::<User>(field("user").ok_or(NOT_INIT_DATA)?).map(|user| user.id).map_err(|_| NOT_INIT_DATA)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Telegram Mini Apps' published example (docs.telegram-mini-apps.com,
    /// "Init Data"): its bot token and the `initData` Telegram signed with it.
    const BOT_TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
    const INIT_DATA: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";
    const SIGNED_AT: i64 = 1662771648;

    #[test]
    fn telegrams_signed_init_data_proves_its_user() {
        assert_eq!(user_of(INIT_DATA, BOT_TOKEN, SIGNED_AT + 60), Ok(279058397));
        assert_eq!(user_of(INIT_DATA, BOT_TOKEN, SIGNED_AT + INIT_DATA_MAX_AGE_SECONDS), Ok(279058397));
    }

    #[test]
    fn anything_else_proves_nobody() {
        let now = SIGNED_AT + 60;
        assert_eq!(user_of(INIT_DATA, "5768337691:another-bot", now), Err(NOT_INIT_DATA), "another bot's token");
        let other_user = INIT_DATA.replace("279058397", "279058398");
        assert_eq!(user_of(&other_user, BOT_TOKEN, now), Err(NOT_INIT_DATA), "a changed user id");
        let later = INIT_DATA.replace("auth_date=1662771648", "auth_date=1762771648");
        assert_eq!(user_of(&later, BOT_TOKEN, 1762771700), Err(NOT_INIT_DATA), "a changed auth_date");
        for bare in ["279058397", "", "hash=", "user=%7B%22id%22%3A1%7D&hash=zz"] {
            assert_eq!(user_of(bare, BOT_TOKEN, now), Err(NOT_INIT_DATA), "{bare:?}");
        }
        assert!(user_of(INIT_DATA, BOT_TOKEN, SIGNED_AT + INIT_DATA_MAX_AGE_SECONDS + 1).is_err(), "over a day old");
        assert!(user_of(INIT_DATA, BOT_TOKEN, SIGNED_AT - 30).is_ok(), "a clock half a minute behind");
        assert!(user_of(INIT_DATA, BOT_TOKEN, SIGNED_AT - 61).is_err(), "signed over a minute in the future");
    }
}

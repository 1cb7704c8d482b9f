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

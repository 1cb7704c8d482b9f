//! Small pieces every page uses: error notes, times, visitor names.

use edgechat_shared::api::conversations::{ConversationSummary, Visitor};
use leptos::prelude::*;

/// An error for the person, in words (`role="alert"`, so screen readers say it).
#[component]
pub fn ErrorNote(error: RwSignal<Option<String>>) -> impl IntoView {
    move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })
}

/// A success note (`role="status"`).
#[component]
pub fn OkNote(note: RwSignal<Option<String>>) -> impl IntoView {
    move || note.get().map(|message| view! { <p class="ok" role="status">{message}</p> })
}

/// `x` with `places` decimals (0 to 3), e.g. `decimal(0.8251, 2)` is
/// `"0.83"`: integer arithmetic, so the wasm carries no float formatter.
pub fn decimal(x: f64, places: u32) -> String {
    let scale = 10_i64.pow(places.min(3));
    let n = (x * scale as f64).round() as i64;
    let sign = if n < 0 { "-" } else { "" };
    let n = n.abs();
    if places == 0 {
        format!("{sign}{n}")
    } else {
        format!("{sign}{}.{:0width$}", n / scale, n % scale, width = places.min(3) as usize)
    }
}

/// Milliseconds since the epoch of an RFC 3339 time; `None` when unparsable.
pub fn millis(rfc3339: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(rfc3339);
    (!ms.is_nan()).then_some(ms)
}

/// "now", "5 min", "3 h", "2 d": the time since `rfc3339` at `now_ms`.
pub fn since(rfc3339: &str, now_ms: f64) -> String {
    let Some(then) = millis(rfc3339) else { return String::new() };
    let seconds = ((now_ms - then) / 1000.0).max(0.0) as i64;
    match seconds {
        0..60 => "now".into(),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86_400),
    }
}

/// The local time of day of `rfc3339`, e.g. `14:05`, or its date when not today.
pub fn clock(rfc3339: &str) -> String {
    let Some(ms) = millis(rfc3339) else { return String::new() };
    let date = js_sys::Date::new(&ms.into());
    let today = js_sys::Date::new_0();
    if date.to_date_string() == today.to_date_string() {
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    } else {
        format!(
            "{} {:02}:{:02}",
            String::from(date.to_locale_date_string("default", &wasm_bindgen::JsValue::UNDEFINED)),
            date.get_hours(),
            date.get_minutes()
        )
    }
}

/// Provides the clock of [`now`]: called once by the app's root, whose
/// owner lives as long as the page, so the ticking signal is never disposed.
pub fn provide_clock() {
    let (now, set_now) = signal(js_sys::Date::now());
    let tick = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        set_now.try_set(js_sys::Date::now());
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(wasm_bindgen::JsCast::unchecked_ref(tick.as_ref()), 30_000);
    }
    tick.forget();
    provide_context(now);
}

/// A signal of the current time in ms, ticking every 30 s (for "5 min ago").
pub fn now() -> ReadSignal<f64> {
    expect_context::<ReadSignal<f64>>()
}

const ADJECTIVES: [&str; 16] = [
    "Amber", "Blue", "Brave", "Calm", "Coral", "Gentle", "Golden", "Green", "Jolly", "Lucky", "Misty", "Quiet", "Rapid", "Silver", "Sunny",
    "Witty",
];
const ANIMALS: [&str; 16] = [
    "Badger", "Crane", "Dolphin", "Falcon", "Fox", "Hare", "Heron", "Koala", "Lynx", "Otter", "Owl", "Panda", "Puffin", "Robin", "Seal",
    "Wren",
];

/// A stable friendly name for a visitor who gave none, from their id:
/// the same visitor is always the same "Blue Otter" for every operator.
pub fn friendly_name(visitor_id: i64) -> String {
    // A multiplicative hash spreads consecutive ids over the table.
    let h = (visitor_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{} {}", ADJECTIVES[(h >> 60) as usize], ANIMALS[((h >> 56) & 15) as usize])
}

/// The name to show for `visitor`: the one they gave, their email, or a friendly name.
pub fn visitor_name(visitor: &Visitor) -> String {
    visitor.name.clone().filter(|n| !n.trim().is_empty()).or_else(|| visitor.email.clone()).unwrap_or_else(|| friendly_name(visitor.id))
}

/// What a conversation is called in lists and headings: its name when it
/// has one, else its visitor's name, else "Team conversation".
pub fn conversation_title(conversation: &ConversationSummary) -> String {
    match (&conversation.name, &conversation.visitor) {
        (Some(name), _) if !name.trim().is_empty() => name.clone(),
        (_, Some(visitor)) => visitor_name(visitor),
        _ => "Team conversation".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_like_a_formatter() {
        assert_eq!(decimal(0.8251, 2), "0.83");
        assert_eq!(decimal(82.5, 0), "83");
        assert_eq!(decimal(1.05, 1), "1.1");
        assert_eq!(decimal(-0.5, 1), "-0.5");
        assert_eq!(decimal(3.0, 2), "3.00");
    }

    #[test]
    fn friendly_names_are_stable_and_differ_between_neighbours() {
        assert_eq!(friendly_name(42), friendly_name(42));
        let names: std::collections::HashSet<String> = (1..=20).map(friendly_name).collect();
        assert!(names.len() >= 15, "{names:?}");
    }
}

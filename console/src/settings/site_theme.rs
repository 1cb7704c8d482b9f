//! The site form's widget appearance and languages (issue 15): panel title
//! and avatar, launcher side and offsets, custom CSS, and the greeting per
//! language.

use std::collections::BTreeMap;

use edgechat_shared::api::sites::{theme_limits, LauncherPosition, Site, SiteInput};
use leptos::prelude::*;

/// The appearance fields as typed.
#[derive(Clone, Copy)]
pub struct ThemeDraft {
    title: RwSignal<String>,
    avatar_url: RwSignal<String>,
    /// `right` or `left`.
    launcher_position: RwSignal<String>,
    /// px, as typed.
    offset_x: RwSignal<String>,
    /// px, as typed.
    offset_y: RwSignal<String>,
    custom_css: RwSignal<String>,
    /// One language a line: `fr: Bonjour !` ([`greetings_text`]).
    greetings: RwSignal<String>,
}

impl ThemeDraft {
    /// The fields of `site`, or the defaults for a new site.
    pub fn new(site: Option<&Site>) -> ThemeDraft {
        let text = |f: fn(&Site) -> String, default: String| RwSignal::new(site.map(f).unwrap_or(default));
        let default_offset = theme_limits::DEFAULT_OFFSET_PX.to_string();
        ThemeDraft {
            title: text(|s| s.title.clone(), String::new()),
            avatar_url: text(|s| s.avatar_url.clone().unwrap_or_default(), String::new()),
            launcher_position: text(|s| s.launcher_position.as_str().to_string(), LauncherPosition::default().as_str().to_string()),
            offset_x: text(|s| s.launcher_offset_x.to_string(), default_offset.clone()),
            offset_y: text(|s| s.launcher_offset_y.to_string(), default_offset),
            custom_css: text(|s| s.custom_css.clone(), String::new()),
            greetings: text(|s| greetings_text(&s.greetings), String::new()),
        }
    }

    /// Adds the appearance fields to `input`: when `creating`, blank fields
    /// are left to the server's defaults; when editing, every field is sent
    /// as typed (a blank title, avatar or CSS removes it). An offset that is
    /// not a whole number is sent as none (kept).
    pub fn apply(&self, input: &mut SiteInput, creating: bool) {
        let field = |signal: RwSignal<String>| {
            let value = signal.get_untracked().trim().to_string();
            Some(value).filter(|v| !creating || !v.is_empty())
        };
        input.title = field(self.title);
        input.avatar_url = field(self.avatar_url);
        input.launcher_position = Some(self.launcher_position.get_untracked());
        input.launcher_offset_x = self.offset_x.get_untracked().trim().parse().ok();
        input.launcher_offset_y = self.offset_y.get_untracked().trim().parse().ok();
        input.custom_css = Some(self.custom_css.get_untracked()).filter(|css| !creating || !css.trim().is_empty());
        input.greetings = Some(parse_greetings(&self.greetings.get_untracked())).filter(|g| !creating || !g.is_empty());
    }
}

/// The greetings as the form shows them: one a line, `tag: greeting`.
fn greetings_text(greetings: &BTreeMap<String, String>) -> String {
    greetings.iter().map(|(tag, greeting)| format!("{tag}: {greeting}")).collect::<Vec<_>>().join("\n")
}

/// The greetings typed in the form ([`greetings_text`]'s format; tags lower-cased, blank lines skipped).
fn parse_greetings(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (tag, greeting) = line.split_once(':').unwrap_or((line, ""));
            (tag.trim().to_ascii_lowercase(), greeting.trim().to_string())
        })
        .collect()
}

/// The widget's look: header title and avatar, launcher placement, custom
/// CSS, and its greeting per language.
#[component]
pub fn ThemeFields(draft: ThemeDraft) -> impl IntoView {
    let side = move || draft.launcher_position.get();
    let option =
        move |value: &'static str, text: &'static str| view! { <option value=value selected=move || side() == value>{text}</option> };
    view! {
        <fieldset class="widget-theme">
            <legend>"Widget appearance"</legend>
            <label>"Header title" <input type="text" name="title" maxlength="80" placeholder="The site's name" bind:value=draft.title /></label>
            <label>"Avatar URL" <input type="url" name="avatar_url" maxlength="2048" placeholder="https://example.com/avatar.png" bind:value=draft.avatar_url /></label>
            <div class="inline-fields">
                <label>"Launcher side"
                    <select name="launcher_position" bind:value=draft.launcher_position>
                        {option("right", "Bottom right")}
                        {option("left", "Bottom left")}
                    </select>
                </label>
                <label>"From the side (px)" <input type="number" name="launcher_offset_x" min="0" max="200" bind:value=draft.offset_x /></label>
                <label>"From the bottom (px)" <input type="number" name="launcher_offset_y" min="0" max="200" bind:value=draft.offset_y /></label>
            </div>
            <label>"Custom CSS"
                <textarea name="custom_css" rows="5" spellcheck="false" placeholder=".ec-launcher { border-radius: 12px; }" bind:value=draft.custom_css></textarea>
            </label>
            <p class="hint">"Applied inside the widget. CSS only, at most 16 KiB: @media, @supports, @keyframes and @container are the only at-rules, and images must be data:image/ URLs."</p>
            <label>"Greetings by language"
                <textarea name="greetings" rows="3" placeholder="fr: Bonjour ! Comment pouvons-nous vous aider ?" bind:value=draft.greetings></textarea>
            </label>
            <p class="hint">"One a line: a language code such as fr, de or pt-br, a colon, then the greeting. Other languages get the greeting above."</p>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_read_back_as_typed_with_lower_case_tags() {
        let greetings = parse_greetings("FR: Bonjour : bienvenue !\n\n pt-BR : Olá\n");
        assert_eq!(greetings.get("fr").map(String::as_str), Some("Bonjour : bienvenue !"));
        assert_eq!(greetings.get("pt-br").map(String::as_str), Some("Olá"));
        assert_eq!(parse_greetings(&greetings_text(&greetings)), greetings);
    }
}

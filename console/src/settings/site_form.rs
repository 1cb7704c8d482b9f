//! The site form (`data-form="site-create"` / `"site-edit"`): name,
//! greeting, theme colour, the widget's appearance and greetings by language
//! ([`super::site_theme`]), allowed origins, request topics and the AI responder.
//!
//! The responder's API key is write-only: the API answers only whether one
//! is set (`api_key_set`). The form sends a key only when one is typed, `""`
//! when "Remove the stored API key" is ticked, and nothing otherwise, which
//! keeps the stored key, unless the base URL changes (the API then drops it).

use edgechat_shared::api::sites::{RequestReason, ResponderKind, ResponderSettings, Site, SiteInput};
use leptos::prelude::*;

use super::site_theme::{ThemeDraft, ThemeFields};
use super::{focus_when_drawn, non_blank};
use crate::{api, ui};

/// The colour the widget uses when a site has none.
const DEFAULT_COLOUR: &str = "#4f46e5";

/// What the form holds, as typed.
#[derive(Clone, Copy)]
struct SiteDraft {
    name: RwSignal<String>,
    greeting: RwSignal<String>,
    theme_color: RwSignal<String>,
    /// One origin a line.
    origins: RwSignal<String>,
    /// One topic a line: `Main: sub, sub` ([`reasons_text`]).
    reasons: RwSignal<String>,
    /// `kb`, `openai` or `workers-ai`.
    kind: RwSignal<String>,
    model: RwSignal<String>,
    instructions: RwSignal<String>,
    base_url: RwSignal<String>,
    /// A new API key; empty keeps the stored one.
    api_key: RwSignal<String>,
    remove_key: RwSignal<bool>,
    /// The stored responder settings (for `base_url` as it was, and `api_key_set`).
    stored: StoredValue<Option<ResponderSettings>>,
    /// The widget's appearance and greetings by language.
    theme: ThemeDraft,
}

impl SiteDraft {
    fn new(site: Option<&Site>) -> SiteDraft {
        let text = |f: fn(&Site) -> String| RwSignal::new(site.map(f).unwrap_or_default());
        let responder = site.map(|s| s.responder.clone());
        let setting = |f: fn(&ResponderSettings) -> Option<String>| RwSignal::new(responder.as_ref().and_then(f).unwrap_or_default());
        SiteDraft {
            name: text(|s| s.name.clone()),
            greeting: text(|s| s.greeting.clone()),
            theme_color: text(|s| s.theme_color.clone()),
            origins: text(|s| s.allowed_origins.join("\n")),
            reasons: text(|s| reasons_text(&s.request_reasons)),
            kind: RwSignal::new(kind_value(responder.as_ref().map(|r| r.kind).unwrap_or_default()).to_string()),
            model: setting(|r| r.model.clone()),
            instructions: setting(|r| r.instructions.clone()),
            base_url: setting(|r| r.base_url.clone()),
            api_key: RwSignal::new(String::new()),
            remove_key: RwSignal::new(false),
            stored: StoredValue::new(responder),
            theme: ThemeDraft::new(site),
        }
    }

    fn key_set(&self) -> bool {
        self.stored.with_value(|r| r.as_ref().is_some_and(|r| r.api_key_set))
    }

    /// The body of `POST /v1/sites` (`creating`: blank fields are left to the
    /// server's defaults) or `PATCH /v1/sites/{id}` (every field, as typed).
    fn input(&self, creating: bool) -> SiteInput {
        let stored = self.stored.get_value();
        let base_url = self.base_url.get_untracked();
        // Unchanged, it is sent exactly as stored, so the stored key stays.
        let base_url = match &stored {
            Some(r) if r.base_url.as_deref().unwrap_or_default() == base_url.trim() => r.base_url.clone(),
            _ => non_blank(&base_url),
        };
        let api_key = if self.remove_key.get_untracked() { Some(String::new()) } else { non_blank(&self.api_key.get_untracked()) };
        let responder = ResponderSettings {
            kind: kind_of(&self.kind.get_untracked()),
            model: non_blank(&self.model.get_untracked()),
            instructions: non_blank(&self.instructions.get_untracked()),
            base_url,
            api_key,
            api_key_set: false,
        };
        let field = |signal: RwSignal<String>| {
            let value = signal.get_untracked().trim().to_string();
            if creating {
                Some(value).filter(|v| !v.is_empty())
            } else {
                Some(value)
            }
        };
        let mut input = SiteInput {
            name: Some(self.name.get_untracked().trim().to_string()),
            greeting: field(self.greeting),
            theme_color: field(self.theme_color),
            allowed_origins: Some(self.origins.get_untracked().lines().filter_map(non_blank).collect()),
            responder: Some(responder),
            request_reasons: Some(parse_reasons(&self.reasons.get_untracked())),
            ..SiteInput::default()
        };
        self.theme.apply(&mut input, creating);
        input
    }
}

/// A site's request topics as the form shows them: one a line, `Main: sub, sub`.
fn reasons_text(reasons: &[RequestReason]) -> String {
    let line = |r: &RequestReason| if r.subs.is_empty() { r.main.clone() } else { format!("{}: {}", r.main, r.subs.join(", ")) };
    reasons.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// The topics typed in the form ([`reasons_text`]'s format; blank lines skipped).
fn parse_reasons(text: &str) -> Vec<RequestReason> {
    let topic = |line: &str| {
        let (main, subs) = line.split_once(':').unwrap_or((line, ""));
        RequestReason { main: main.trim().to_string(), subs: subs.split(',').filter_map(non_blank).collect() }
    };
    text.lines().filter(|l| !l.trim().is_empty()).map(topic).collect()
}

/// The `<option>` value of a responder kind (its wire name).
fn kind_value(kind: ResponderKind) -> &'static str {
    match kind {
        ResponderKind::Kb => "kb",
        ResponderKind::Openai => "openai",
        ResponderKind::WorkersAi => "workers-ai",
    }
}

fn kind_of(value: &str) -> ResponderKind {
    match value {
        "openai" => ResponderKind::Openai,
        "workers-ai" => ResponderKind::WorkersAi,
        _ => ResponderKind::Kb,
    }
}

/// `#rrggbb`, as `<input type="color">` needs it.
fn is_colour(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Creates a site (`site` `None`) or edits one; `on_done` gets the saved
/// site, or `None` on "Cancel". After an error the form keeps what was typed.
#[component]
pub fn SiteForm(site: Option<Site>, on_done: Callback<Option<Site>>) -> impl IntoView {
    let draft = SiteDraft::new(site.as_ref());
    let first = NodeRef::<leptos::html::Input>::new();
    focus_when_drawn(first);
    let editing = site.as_ref().map(|s| s.id);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = draft.input(editing.is_none());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let saved = match editing {
                Some(id) => api::patch::<Site>(&format!("/v1/sites/{id}"), &input).await,
                None => api::post::<Site>("/v1/sites", &input).await,
            };
            busy.set(false);
            match saved {
                // `try_run`: the page may have been left meanwhile.
                Ok(site) => {
                    on_done.try_run(Some(site));
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let picker = move || draft.theme_color.with(|c| if is_colour(c.trim()) { c.trim().to_lowercase() } else { DEFAULT_COLOUR.to_string() });
    view! {
        <form class="card site-form" data-form=if editing.is_some() { "site-edit" } else { "site-create" } on:submit=submit>
            <h2>{if editing.is_some() { "Edit site" } else { "New site" }}</h2>
            <label>"Name" <input type="text" name="name" required maxlength="120" node_ref=first bind:value=draft.name /></label>
            <label>"Greeting" <textarea name="greeting" rows="2" maxlength="500" bind:value=draft.greeting></textarea></label>
            <p class="hint">"The widget's first message to every visitor."</p>
            <div class="inline-fields">
                <label>"Theme colour"
                    <input type="text" name="theme_color" placeholder=DEFAULT_COLOUR maxlength="7" bind:value=draft.theme_color />
                </label>
                <label>"Pick a theme colour"
                    <input type="color" name="theme_color_picker" prop:value=picker on:input=move |ev| draft.theme_color.set(event_target_value(&ev)) />
                </label>
            </div>
            <ThemeFields draft=draft.theme />
            <label>"Allowed origins"
                <textarea name="allowed_origins" rows="3" placeholder="https://example.com" bind:value=draft.origins></textarea>
            </label>
            <p class="hint">"One a line, such as https://example.com or https://*.example.com. Empty: every page may use the widget."</p>
            <label>"Request topics"
                <textarea name="request_reasons" rows="3" placeholder="Payments: Refund, Card declined" bind:value=draft.reasons></textarea>
            </label>
            <p class="hint">"Signed-in users pick one to start a request. One a line: a topic, then optionally a colon and its sub-topics separated by commas."</p>
            <ResponderFields draft=draft />
            <ui::ErrorNote error=error />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>{if editing.is_some() { "Save site" } else { "Create site" }}</button>
                <button type="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}

/// The AI responder: kind, model, instructions and, for an OpenAI-compatible
/// server, its base URL and the write-only API key.
#[component]
fn ResponderFields(draft: SiteDraft) -> impl IntoView {
    let kind = move || draft.kind.get();
    let key_set = draft.key_set();
    let option =
        move |value: &'static str, text: &'static str| view! { <option value=value selected=move || kind() == value>{text}</option> };
    view! {
        <fieldset class="responder">
            <legend>"AI responder"</legend>
            <label>"Responder"
                <select name="responder_kind" bind:value=draft.kind>
                    {option("kb", "Knowledge base (offline)")}
                    {option("openai", "OpenAI-compatible API")}
                    {option("workers-ai", "Workers AI")}
                </select>
            </label>
            <Show when=move || kind() != "kb">
                <label>"Model" <input type="text" name="model" maxlength="200" placeholder="The deployment's default" bind:value=draft.model /></label>
                <label>"Instructions" <textarea name="instructions" rows="3" maxlength="4000" bind:value=draft.instructions></textarea></label>
            </Show>
            <Show when=move || kind() == "openai">
                <label>"Base URL" <input type="url" name="base_url" placeholder="The deployment's server" bind:value=draft.base_url /></label>
                <p class="api-key-state" data-api-key=if key_set { "set" } else { "not set" }>
                    {if key_set { "API key: set" } else { "API key: not set" }}
                </p>
                <label>{if key_set { "Replace the API key" } else { "API key" }}
                    <input type="password" name="api_key" autocomplete="off" maxlength="500"
                        placeholder=if key_set { "Leave empty to keep the stored key" } else { "" } bind:value=draft.api_key />
                </label>
                {key_set.then(|| view! {
                    <label class="check"><input type="checkbox" name="remove_api_key" bind:checked=draft.remove_key />"Remove the stored API key"</label>
                })}
                <p class="hint">"The key is never shown again. Changing the base URL without typing a new key removes the stored key."</p>
            </Show>
        </fieldset>
    }
}

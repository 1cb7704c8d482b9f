//! Settings → Proactive messages (`/v1/sites/{id}/proactive…`): the nudges
//! a site shows on matching pages after a delay. Owners and admins create,
//! edit, switch on or off and delete rules; agents read them.

use edgechat_shared::api::proactive::{ProactiveInput, ProactiveList, ProactiveRule};
use leptos::prelude::*;

use super::site_picker::{SitePick, SitePicker};
use super::{confirm, focus_when_drawn};
use crate::{api, ui};

/// The longest delay a rule may have, in seconds (a day).
const MAX_DELAY_SECONDS: i64 = 86_400;

/// The picked site's rules.
#[derive(Clone, Copy)]
struct Rules {
    site: Memo<Option<i64>>,
    list: RwSignal<Vec<ProactiveRule>>,
    error: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    /// What the last action did ("Rule created.").
    note: RwSignal<Option<String>>,
    creating: RwSignal<bool>,
}

impl Rules {
    /// The rules of `site`, loaded again whenever it changes.
    fn new(site: Memo<Option<i64>>) -> Rules {
        let rules = Rules {
            site,
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            note: RwSignal::new(None),
            creating: RwSignal::new(false),
        };
        Effect::new(move |_| {
            let Some(id) = site.get() else { return };
            rules.list.set(Vec::new());
            rules.loaded.set(false);
            rules.note.set(None);
            rules.creating.set(false);
            leptos::task::spawn_local(async move {
                let result = api::get::<ProactiveList>(&format!("/v1/sites/{id}/proactive")).await;
                if rules.site.try_get_untracked() != Some(Some(id)) {
                    return;
                }
                match result {
                    Ok(list) => rules.list.set(list.rules),
                    Err(err) => rules.error.set(Some(err.message)),
                }
                rules.loaded.set(true);
            });
        });
        rules
    }

    /// `/v1/sites/{id}/proactive` of the picked site; `None` once the page is gone.
    fn path(&self) -> Option<String> {
        self.site.try_get_untracked().flatten().map(|id| format!("/v1/sites/{id}/proactive"))
    }

    fn put(self, rule: ProactiveRule) {
        self.list.update(|all| match all.iter_mut().find(|r| r.id == rule.id) {
            Some(row) => *row = rule,
            None => all.push(rule),
        });
    }
}

/// The proactive-messages page; `admin` is false for agents (read-only).
#[component]
pub fn Proactive(admin: bool) -> impl IntoView {
    let pick = SitePick::new();
    let rules = Rules::new(pick.site);
    let created = Callback::new(move |rule: Option<ProactiveRule>| {
        rules.creating.set(false);
        if let Some(rule) = rule {
            rules.note.set(Some("Rule created.".into()));
            rules.put(rule);
        }
    });
    view! {
        <div class="settings-page proactive">
            <header class="settings-head">
                <h1>"Proactive messages"</h1>
                <SitePicker pick=pick />
            </header>
            <p class="muted">"A nudge the widget shows on matching pages once the visitor has been there a while."</p>
            <Show when=move || pick.site.get().is_some()>
                {admin.then(|| view! {
                    <button type="button" class="primary" disabled=move || rules.creating.get()
                        on:click=move |_| { rules.note.set(None); rules.creating.set(true); }>"New rule"</button>
                })}
                {(!admin).then(|| view! { <p class="muted read-only">"Only owners and admins can change proactive messages."</p> })}
                <ui::ErrorNote error=rules.error />
                <ui::OkNote note=rules.note />
                <Show when=move || rules.creating.get()>
                    <RuleForm rules=rules rule=None on_done=created />
                </Show>
                <ul class="settings-list">
                    <For each=move || rules.list.get() key=|r| r.id let:rule>
                        <RuleRow rules=rules id=rule.id admin=admin />
                    </For>
                </ul>
                {move || (rules.loaded.get() && rules.error.with(Option::is_none) && rules.list.with(Vec::is_empty))
                    .then(|| view! { <p class="empty">"No proactive message yet."</p> })}
            </Show>
        </div>
    }
}

/// One rule: its message and when it shows; edit, on/off and delete for admins.
#[component]
fn RuleRow(rules: Rules, id: i64, admin: bool) -> impl IntoView {
    let rule = Memo::new(move |_| rules.list.with(|all| all.iter().find(|r| r.id == id).cloned()));
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let enabled = move || rule.with(|r| r.as_ref().is_some_and(|r| r.enabled));
    // Said after each button's text, so that screen readers tell the rows apart.
    let which = move || rule.with(|r| r.as_ref().map(|r| format!(" rule “{}”", r.message.chars().take(40).collect::<String>())));
    let saved = Callback::new(move |saved: Option<ProactiveRule>| {
        editing.set(false);
        if let Some(saved) = saved {
            rules.note.set(Some("Rule saved.".into()));
            rules.put(saved);
        }
    });
    let switch = move |_| {
        let Some(path) = rules.path() else { return };
        let input = ProactiveInput { enabled: Some(!enabled()), ..Default::default() };
        leptos::task::spawn_local(async move {
            match api::patch::<ProactiveRule>(&format!("{path}/{id}"), &input).await {
                Ok(rule) => rules.put(rule),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let delete = move |_| {
        let Some(path) = rules.path() else { return };
        if !confirm("Delete this proactive message? Visitors stop seeing it at once.") {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::delete(&format!("{path}/{id}")).await {
                Ok(()) => {
                    rules.note.set(Some("Rule deleted.".into()));
                    rules.list.update(|all| all.retain(|r| r.id != id));
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <li class="item rule" data-id=id.to_string() data-enabled=move || enabled().to_string()>
            {move || rule.get().map(|rule| view! { <RuleSummary rule=rule /> })}
            <ui::ErrorNote error=error />
            {admin.then(|| view! {
                <div class="row-actions">
                    <button type="button" disabled=move || editing.get() on:click=move |_| editing.set(true)>
                        "Edit" <span class="sr-only">{which}</span>
                    </button>
                    <button type="button" on:click=switch>
                        {move || if enabled() { "Turn off" } else { "Turn on" }} <span class="sr-only">{which}</span>
                    </button>
                    <button type="button" class="danger" on:click=delete>"Delete" <span class="sr-only">{which}</span></button>
                </div>
            })}
            <Show when=move || editing.get()>
                <RuleForm rules=rules rule=rule.get_untracked() on_done=saved />
            </Show>
        </li>
    }
}

/// What a rule says, where, and when.
#[component]
fn RuleSummary(rule: ProactiveRule) -> impl IntoView {
    let pages = if rule.url_match.trim().is_empty() { "Every page".to_string() } else { rule.url_match.clone() };
    view! {
        <p class="message">{rule.message.clone()}</p>
        <dl class="details">
            <dt>"Pages"</dt><dd><code>{pages}</code></dd>
            <dt>"After"</dt><dd>{format!("{} s on the page", rule.delay_seconds)}</dd>
            <dt>"Shown"</dt><dd>{if rule.once_per_visitor { "Once per visitor" } else { "On every visit" }}</dd>
            <dt>"State"</dt><dd><span class="tag" class:on=rule.enabled>{if rule.enabled { "On" } else { "Off" }}</span></dd>
        </dl>
    }
}

/// Creates a rule (`rule` `None`: `data-form="rule-create"`) or edits one
/// (`"rule-edit"`); keeps what was typed after an error.
#[component]
fn RuleForm(rules: Rules, rule: Option<ProactiveRule>, on_done: Callback<Option<ProactiveRule>>) -> impl IntoView {
    let editing = rule.as_ref().map(|r| r.id);
    let first = NodeRef::<leptos::html::Textarea>::new();
    focus_when_drawn(first);
    let message = RwSignal::new(rule.as_ref().map(|r| r.message.clone()).unwrap_or_default());
    let url_match = RwSignal::new(rule.as_ref().map(|r| r.url_match.clone()).unwrap_or_default());
    let delay = RwSignal::new(rule.as_ref().map_or(0, |r| r.delay_seconds).to_string());
    let once = RwSignal::new(rule.as_ref().is_none_or(|r| r.once_per_visitor));
    let enabled = RwSignal::new(rule.as_ref().is_none_or(|r| r.enabled));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(path) = rules.path() else { return };
        let Ok(delay_seconds) = delay.get_untracked().trim().parse::<i64>() else {
            error.set(Some(format!("The delay must be a whole number of seconds, 0 to {MAX_DELAY_SECONDS}.")));
            return;
        };
        let input = ProactiveInput {
            message: Some(message.get_untracked()),
            url_match: Some(url_match.get_untracked().trim().to_string()),
            delay_seconds: Some(delay_seconds),
            once_per_visitor: Some(once.get_untracked()),
            enabled: Some(enabled.get_untracked()),
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let saved = match editing {
                Some(id) => api::patch::<ProactiveRule>(&format!("{path}/{id}"), &input).await,
                None => api::post::<ProactiveRule>(&path, &input).await,
            };
            busy.set(false);
            match saved {
                // `try_run`: the page may have been left meanwhile.
                Ok(rule) => {
                    on_done.try_run(Some(rule));
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <form class="card rule-form" data-form=if editing.is_some() { "rule-edit" } else { "rule-create" } on:submit=submit>
            <h3>{if editing.is_some() { "Edit rule" } else { "New rule" }}</h3>
            <label>"Message" <textarea name="message" rows="2" required maxlength="500" node_ref=first bind:value=message></textarea></label>
            <label>"Pages" <input type="text" name="url_match" maxlength="500" placeholder="Every page" bind:value=url_match /></label>
            <p class="hint">"Empty: every page. * matches any text; a pattern starting with / is matched against the path and query (/pricing*), else against the whole URL."</p>
            <label>"Delay (seconds on the page)"
                <input type="number" name="delay_seconds" min="0" max=MAX_DELAY_SECONDS step="1" required bind:value=delay />
            </label>
            <label class="check"><input type="checkbox" name="once_per_visitor" bind:checked=once />"Show once per visitor"</label>
            <label class="check"><input type="checkbox" name="enabled" bind:checked=enabled />"On"</label>
            <ui::ErrorNote error=error />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>{if editing.is_some() { "Save rule" } else { "Create rule" }}</button>
                <button type="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}

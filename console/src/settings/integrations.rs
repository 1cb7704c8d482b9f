//! Settings → Integrations (issue 13), for owners and admins: the account's
//! API keys (`GET`/`POST /v1/api-keys`, `DELETE /v1/api-keys/{id}`) and its
//! outgoing webhooks ([`super::webhooks`]). A new key's secret is shown once,
//! right after it is created; the API never answers it again.

use edgechat_shared::api::integrations::{ApiKey, ApiKeyScope, NewApiKey};
use leptos::prelude::*;

use super::webhooks::Webhooks;
use super::{confirm, focus_when_drawn, CopyButton};
use crate::{api, ui};

/// The account's API keys.
#[derive(Clone, Copy)]
struct Keys {
    list: RwSignal<Vec<ApiKey>>,
    error: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    /// What the last action did ("“CRM” was revoked.").
    note: RwSignal<Option<String>>,
    /// The secret of the key just created, shown until dismissed.
    secret: RwSignal<Option<ApiKey>>,
}

impl Keys {
    /// Loads `GET /v1/api-keys`.
    fn new() -> Keys {
        let keys = Keys {
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            note: RwSignal::new(None),
            secret: RwSignal::new(None),
        };
        leptos::task::spawn_local(async move {
            match api::get::<Vec<ApiKey>>("/v1/api-keys").await {
                Ok(list) => keys.list.set(list),
                Err(err) => keys.error.set(Some(err.message)),
            }
            keys.loaded.set(true);
        });
        keys
    }
}

/// "read, write".
fn scope_names(scopes: &[ApiKeyScope]) -> String {
    scopes.iter().map(|s| if *s == ApiKeyScope::Read { "read" } else { "write" }).collect::<Vec<_>>().join(", ")
}

/// The Integrations page; `admin` is false for agents, who only read why it is empty.
#[component]
pub fn Integrations(admin: bool) -> impl IntoView {
    if !admin {
        return view! {
            <div class="settings-page integrations">
                <header class="settings-head"><h1>"Integrations"</h1></header>
                <p class="muted read-only">"Only owners and admins manage API keys and webhooks."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="settings-page integrations">
            <header class="settings-head"><h1>"Integrations"</h1></header>
            <ApiKeys />
            <Webhooks />
        </div>
    }
    .into_any()
}

/// The API keys section: the new key's secret, the create form and the list.
#[component]
fn ApiKeys() -> impl IntoView {
    let keys = Keys::new();
    view! {
        <section class="api-keys" aria-labelledby="api-keys-title">
            <h2 id="api-keys-title">"API keys"</h2>
            <p class="muted">
                "A key calls the /v1 API as the person who created it, with an agent's rights: "
                "read lets it read conversations and messages, write also lets it reply and change them. "
                "Send it as Authorization: Bearer <key>."
            </p>
            <ui::ErrorNote error=keys.error />
            <ui::OkNote note=keys.note />
            <NewSecret keys=keys />
            <CreateKey keys=keys />
            <ul class="settings-list">
                <For each=move || keys.list.get() key=|k| (k.id, k.last_used_at.clone()) let:key>
                    <KeyRow keys=keys key=key />
                </For>
            </ul>
            {move || (keys.loaded.get() && keys.error.with(Option::is_none) && keys.list.with(Vec::is_empty))
                .then(|| view! { <p class="empty">"No API key yet."</p> })}
        </section>
    }
}

/// The secret of the key just created, with a copy button, until "Done".
#[component]
fn NewSecret(keys: Keys) -> impl IntoView {
    move || {
        keys.secret.get().map(|created| {
            let value = Signal::derive(move || keys.secret.with(|k| k.as_ref().and_then(|k| k.key.clone()).unwrap_or_default()));
            view! {
                <div class="card secret-box new-secret" role="region" aria-label="New API key" data-form="api-key-secret">
                    <p><strong>{format!("Copy the key “{}” now:", created.name)}</strong>" it is shown only this once."</p>
                    <code class="secret" data-secret="">{value}</code>
                    <CopyButton text=value label="Copy key" />
                    <button type="button" on:click=move |_| keys.secret.set(None)>"Done"</button>
                </div>
            }
        })
    }
}

/// `data-form="api-key-create"`: a name and the scopes.
#[component]
fn CreateKey(keys: Keys) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let read = RwSignal::new(true);
    let write = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let open = RwSignal::new(false);
    let first = NodeRef::<leptos::html::Input>::new();
    focus_when_drawn(first);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let scopes: Vec<ApiKeyScope> = [(read, ApiKeyScope::Read), (write, ApiKeyScope::Write)]
            .into_iter()
            .filter(|(on, _)| on.get_untracked())
            .map(|(_, s)| s)
            .collect();
        let input = NewApiKey { name: name.get_untracked().trim().to_string(), scopes };
        busy.set(true);
        error.set(None);
        keys.note.set(None);
        leptos::task::spawn_local(async move {
            match api::post::<ApiKey>("/v1/api-keys", &input).await {
                Ok(created) => {
                    let mut listed = created.clone();
                    listed.key = None;
                    keys.list.update(|all| all.insert(0, listed));
                    keys.secret.set(Some(created));
                    name.set(String::new());
                    open.set(false);
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button type="button" class="primary" on:click=move |_| open.set(true)>"Create API key"</button>
        }>
            <form class="card" data-form="api-key-create" on:submit=submit>
                <h3>"Create an API key"</h3>
                <label>"Name" <input type="text" name="name" required maxlength="100" autocomplete="off" node_ref=first bind:value=name /></label>
                <fieldset>
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" name="read" bind:checked=read />" read"</label>
                    <label><input type="checkbox" name="write" bind:checked=write />" write"</label>
                </fieldset>
                <ui::ErrorNote error=error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>"Create key"</button>
                    <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
    }
}

/// One key: name, scopes, prefix, created, last used; revoke after a confirm.
#[component]
fn KeyRow(keys: Keys, key: ApiKey) -> impl IntoView {
    let id = key.id;
    let error = RwSignal::new(None::<String>);
    let revoke = {
        let name = key.name.clone();
        move |_| {
            if !confirm(&format!("Revoke the API key “{name}”? Every integration using it stops working at once.")) {
                return;
            }
            let name = name.clone();
            leptos::task::spawn_local(async move {
                match api::delete(&format!("/v1/api-keys/{id}")).await {
                    Ok(()) => {
                        keys.list.update(|all| all.retain(|k| k.id != id));
                        keys.note.set(Some(format!("The API key “{name}” was revoked.")));
                    }
                    Err(err) => error.set(Some(err.message)),
                }
            });
        }
    };
    let last_used = key.last_used_at.as_deref().map(ui::clock).unwrap_or_else(|| "never".into());
    view! {
        <li class="item api-key" data-id=id.to_string()>
            <div class="item-head">
                <strong class="title">{key.name.clone()}</strong>
                <code class="muted">{format!("{}…", key.prefix)}</code>
                <span class="tag">{scope_names(&key.scopes)}</span>
            </div>
            <p class="muted">{format!("Created {} · last used {last_used}", ui::clock(&key.created_at))}</p>
            <div class="form-actions">
                <button type="button" class="danger" on:click=revoke>
                    "Revoke" <span class="sr-only">{format!(" {}", key.name)}</span>
                </button>
            </div>
            <ui::ErrorNote error=error />
        </li>
    }
}

//! Settings → Integrations → Webhooks (issue 13; seed 003): the account's
//! outgoing webhook endpoints (`GET`/`POST /v1/webhooks`, `PATCH`/`DELETE
//! /v1/webhooks/{id}`), each with its delivery log
//! ([`super::webhook_deliveries`]). A new endpoint's signing secret is shown
//! once.

use edgechat_shared::api::integrations::{EventType, NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointChange, WebhookEndpointList};
use leptos::prelude::*;

use super::webhook_deliveries::DeliveryLog;
use super::{confirm, non_blank, CopyButton};
use crate::{api, ui};

/// The account's endpoints.
#[derive(Clone, Copy)]
struct Endpoints {
    list: RwSignal<Vec<WebhookEndpoint>>,
    error: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    note: RwSignal<Option<String>>,
    /// The endpoint just created, with its signing secret, until dismissed.
    secret: RwSignal<Option<WebhookEndpoint>>,
}

impl Endpoints {
    /// Loads `GET /v1/webhooks`.
    fn new() -> Endpoints {
        let endpoints = Endpoints {
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            note: RwSignal::new(None),
            secret: RwSignal::new(None),
        };
        leptos::task::spawn_local(async move {
            match api::get::<WebhookEndpointList>("/v1/webhooks").await {
                Ok(answer) => endpoints.list.set(answer.endpoints),
                Err(err) => endpoints.error.set(Some(err.message)),
            }
            endpoints.loaded.set(true);
        });
        endpoints
    }

    /// Replaces endpoint `endpoint.id`, or adds it first.
    fn put(self, mut endpoint: WebhookEndpoint) {
        endpoint.secret = None;
        self.list.update(|all| match all.iter_mut().find(|e| e.id == endpoint.id) {
            Some(row) => *row = endpoint,
            None => all.insert(0, endpoint),
        });
    }
}

/// "All events", or the chosen types.
fn event_names(events: &[EventType]) -> String {
    if events.is_empty() {
        "All events".into()
    } else {
        events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The webhooks section.
#[component]
pub fn Webhooks() -> impl IntoView {
    let endpoints = Endpoints::new();
    view! {
        <section class="webhooks" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="muted">
                "EdgeChat POSTs each event as JSON to your endpoints, signed with the endpoint's secret "
                "(Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature)."
            </p>
            <ui::ErrorNote error=endpoints.error />
            <ui::OkNote note=endpoints.note />
            <Show when=move || endpoints.loaded.get()>
                <NewSecret endpoints=endpoints />
                <EndpointForm endpoints=endpoints editing=None />
                <ul class="settings-list">
                    <For each=move || endpoints.list.get() key=|e| (e.id, e.url.clone(), e.disabled, e.events.len(), e.description.clone()) let:endpoint>
                        <EndpointRow endpoints=endpoints endpoint=endpoint />
                    </For>
                </ul>
                {move || endpoints.list.with(Vec::is_empty).then(|| view! { <p class="empty">"No webhook endpoint yet."</p> })}
            </Show>
        </section>
    }
}

/// The signing secret of the endpoint just created, until "Done".
#[component]
fn NewSecret(endpoints: Endpoints) -> impl IntoView {
    move || {
        endpoints.secret.get().map(|created| {
            let value = Signal::derive(move || endpoints.secret.with(|e| e.as_ref().and_then(|e| e.secret.clone()).unwrap_or_default()));
            view! {
                <div class="card secret-box new-secret" role="region" aria-label="New webhook signing secret" data-form="webhook-secret">
                    <p><strong>{format!("Copy the signing secret of {} now:", created.url)}</strong>" it is shown only this once."</p>
                    <code class="secret" data-secret="">{value}</code>
                    <CopyButton text=value label="Copy secret" />
                    <button type="button" on:click=move |_| endpoints.secret.set(None)>"Done"</button>
                </div>
            }
        })
    }
}

/// `data-form="webhook-create"` (or `webhook-edit` for `editing`): URL,
/// event checkboxes (none: all events) and a description.
#[component]
fn EndpointForm(endpoints: Endpoints, editing: Option<(WebhookEndpoint, RwSignal<bool>)>) -> impl IntoView {
    let current = editing.as_ref().map(|(e, _)| e.clone());
    let url = RwSignal::new(current.as_ref().map(|e| e.url.clone()).unwrap_or_default());
    let description = RwSignal::new(current.as_ref().and_then(|e| e.description.clone()).unwrap_or_default());
    let chosen: Vec<(EventType, RwSignal<bool>)> =
        EventType::ALL.into_iter().map(|t| (t, RwSignal::new(current.as_ref().is_some_and(|e| e.events.contains(&t))))).collect();
    let open = editing.as_ref().map(|(_, open)| *open).unwrap_or_else(|| RwSignal::new(false));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let id = current.as_ref().map(|e| e.id);
    let boxes = chosen.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let events: Vec<EventType> = chosen.iter().filter(|(_, on)| on.get_untracked()).map(|(t, _)| *t).collect();
        let (target, text) = (url.get_untracked().trim().to_string(), non_blank(&description.get_untracked()));
        busy.set(true);
        error.set(None);
        endpoints.note.set(None);
        leptos::task::spawn_local(async move {
            let answer = match id {
                None => api::post::<WebhookEndpoint>("/v1/webhooks", &NewWebhookEndpoint { url: target, events, description: text }).await,
                Some(id) => {
                    let change = WebhookEndpointChange {
                        url: Some(target),
                        events: Some(events),
                        description: Some(text.unwrap_or_default()),
                        disabled: None,
                    };
                    api::patch::<WebhookEndpoint>(&format!("/v1/webhooks/{id}"), &change).await
                }
            };
            match answer {
                Ok(saved) => {
                    if saved.secret.is_some() {
                        endpoints.secret.set(Some(saved.clone()));
                        url.set(String::new());
                        description.set(String::new());
                    } else {
                        endpoints.note.set(Some(format!("{} was saved.", saved.url)));
                    }
                    endpoints.put(saved);
                    open.set(false);
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let (form, title, save) = if id.is_some() {
        ("webhook-edit", "Edit endpoint", "Save endpoint")
    } else {
        ("webhook-create", "Add a webhook endpoint", "Add endpoint")
    };
    view! {
        <Show when=move || open.get() fallback=move || id.is_none().then(|| view! {
            <button type="button" class="primary" on:click=move |_| open.set(true)>"Add endpoint"</button>
        })>
            <form class="card" data-form=form on:submit=submit.clone()>
                <h3>{title}</h3>
                <label>"URL" <input type="url" name="url" required placeholder="https://example.com/edgechat" bind:value=url /></label>
                <fieldset>
                    <legend>"Events (none checked: all events)"</legend>
                    {boxes.iter().map(|(t, on)| {
                        let on = *on;
                        view! { <label><input type="checkbox" name=t.as_str() bind:checked=on />{format!(" {}", t.as_str())}</label> }
                    }).collect_view()}
                </fieldset>
                <label>"Description" <input type="text" name="description" maxlength="200" bind:value=description /></label>
                <ui::ErrorNote error=error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>{save}</button>
                    <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
    }
}

/// One endpoint: URL, events, state; edit, disable or enable, delete, and its delivery log.
#[component]
fn EndpointRow(endpoints: Endpoints, endpoint: WebhookEndpoint) -> impl IntoView {
    let id = endpoint.id;
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    let log = RwSignal::new(false);
    let disabled = endpoint.disabled;
    let toggle = move |_| {
        leptos::task::spawn_local(async move {
            let change = WebhookEndpointChange { disabled: Some(!disabled), ..Default::default() };
            match api::patch::<WebhookEndpoint>(&format!("/v1/webhooks/{id}"), &change).await {
                Ok(saved) => endpoints.put(saved),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let remove = {
        let target = endpoint.url.clone();
        move |_| {
            if !confirm(&format!("Delete the webhook endpoint {target}? It gets no more events.")) {
                return;
            }
            let target = target.clone();
            leptos::task::spawn_local(async move {
                match api::delete(&format!("/v1/webhooks/{id}")).await {
                    Ok(()) => {
                        endpoints.list.update(|all| all.retain(|e| e.id != id));
                        endpoints.note.set(Some(format!("{target} was deleted.")));
                    }
                    Err(err) => error.set(Some(err.message)),
                }
            });
        }
    };
    view! {
        <li class="item webhook" data-id=id.to_string() data-disabled=disabled.to_string()>
            <div class="item-head">
                <strong class="title">{endpoint.url.clone()}</strong>
                {disabled.then(|| view! { <span class="tag">"Disabled"</span> })}
            </div>
            {endpoint.description.clone().map(|d| view! { <p>{d}</p> })}
            <p class="muted">{format!("{} · created {}", event_names(&endpoint.events), ui::clock(&endpoint.created_at))}</p>
            <div class="form-actions">
                <button type="button" on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                <button type="button" on:click=toggle>{if disabled { "Enable" } else { "Disable" }}</button>
                <button type="button" on:click=move |_| log.update(|l| *l = !*l) aria-expanded=move || log.get().to_string()>"Delivery log"</button>
                <button type="button" class="danger" on:click=remove>"Delete"</button>
            </div>
            <EndpointForm endpoints=endpoints editing=Some((endpoint.clone(), editing)) />
            {move || log.get().then(|| view! { <DeliveryLog endpoint_id=id /> })}
            <ui::ErrorNote error=error />
        </li>
    }
}

//! A webhook endpoint's delivery log (`GET /v1/webhooks/{id}/deliveries`,
//! newest first) with "Send again" per delivery (`POST
//! /v1/webhooks/{id}/deliveries/{delivery_id}/resend`, 202).

use edgechat_shared::api::integrations::{DeliveryOutcome, WebhookDelivery, WebhookDeliveryList};
use leptos::prelude::*;

use crate::{api, ui};

fn outcome_name(outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Succeeded => "Succeeded",
        DeliveryOutcome::Failed => "Failed",
        DeliveryOutcome::Dead => "Gave up",
    }
}

/// The log of endpoint `endpoint_id`, loaded when drawn; "Refresh" loads it again.
#[component]
pub fn DeliveryLog(endpoint_id: i64) -> impl IntoView {
    let list = RwSignal::new(Vec::<WebhookDelivery>::new());
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(false);
    let load = move || {
        leptos::task::spawn_local(async move {
            // The newest page: the log is for a glance, not an archive.
            match api::get::<WebhookDeliveryList>(&format!("/v1/webhooks/{endpoint_id}/deliveries")).await {
                Ok(page) => list.set(page.deliveries),
                Err(err) => error.set(Some(err.message)),
            }
            loaded.set(true);
        });
    };
    load();
    let resend = move |delivery: i64| {
        leptos::task::spawn_local(async move {
            let path = format!("/v1/webhooks/{endpoint_id}/deliveries/{delivery}/resend");
            match api::post_accepted(&path, &api::EMPTY).await {
                Ok(()) => note.set(Some("The event is being sent again; its attempt shows here shortly.".into())),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <div class="delivery-log" data-endpoint=endpoint_id.to_string()>
            <ui::ErrorNote error=error />
            <ui::OkNote note=note />
            <button type="button" on:click=move |_| load()>"Refresh"</button>
            <table>
                <thead><tr>
                    <th scope="col">"Time"</th><th scope="col">"Event"</th><th scope="col">"Outcome"</th>
                    <th scope="col">"Status"</th><th scope="col">"Latency"</th><th scope="col">"Attempt"</th><th scope="col"></th>
                </tr></thead>
                <tbody>
                    <For each=move || list.get() key=|d| d.id let:delivery>
                        <tr data-id=delivery.id.to_string() data-outcome=outcome_name(delivery.outcome)>
                            <td>{ui::clock(&delivery.attempted_at)}</td>
                            <td>{delivery.event_type.as_str()}</td>
                            <td title=delivery.error.clone().unwrap_or_default()>{outcome_name(delivery.outcome)}</td>
                            <td>{delivery.status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td>{delivery.latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
                            <td>{delivery.attempt}</td>
                            <td><button type="button" on:click=move |_| resend(delivery.id)>"Send again"</button></td>
                        </tr>
                    </For>
                </tbody>
            </table>
            {move || (loaded.get() && list.with(Vec::is_empty)).then(|| view! { <p class="empty">"No delivery yet."</p> })}
        </div>
    }
}

//! Team messaging in the console (seed 002): the "New conversation" form
//! (`POST /v1/chat/conversations`: a staff DM, a named group, or an
//! outbound follow-up with a visitor), the participants panel
//! (`GET/POST/DELETE /v1/chat/conversations/{id}/participants`), the
//! forward dialog (`POST /v1/chat/messages/forward`) and the small modal
//! [`Dialog`] they share: it focuses its first field and closes on Esc.

use std::collections::HashSet;

use edgechat_shared::api::conversations::{ConversationSummary, Kind};
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::messages::{ForwardRequest, ForwardedMessages};
use edgechat_shared::api::team::{AddParticipants, NewConversation as NewConversationBody, ParticipantList};
use leptos::html::Div;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::inbox::Inbox;
use crate::session::Session;
use crate::{api, live, ui};

/// A modal dialog titled `title`: focuses its first field when it opens,
/// closes on Esc or a click on the backdrop.
#[component]
pub fn Dialog(title: &'static str, on_close: Callback<()>, children: Children) -> impl IntoView {
    let node = NodeRef::<Div>::new();
    Effect::new(move |_| {
        if let Some(dialog) = node.get() {
            let first = dialog.query_selector("input:not([type=hidden]), select, textarea, button:not(.close)").ok().flatten();
            if let Some(first) = first.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                let _ = first.focus();
            }
        }
    });
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.stop_propagation();
            on_close.run(());
        }
    };
    view! {
        <div class="backdrop" on:click=move |ev| {
            if ev.target() == ev.current_target() {
                on_close.run(());
            }
        }>
            <div class="dialog card" role="dialog" aria-modal="true" aria-label=title node_ref=node on:keydown=keydown>
                <header class="dialog-head">
                    <h2>{title}</h2>
                    <button type="button" class="close link" aria-label="Close" on:click=move |_| on_close.run(())>"×"</button>
                </header>
                {children()}
            </div>
        </div>
    }
}

fn some_text(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The "New conversation" button and its form.
#[component]
pub fn NewConversation() -> impl IntoView {
    let shown = RwSignal::new(false);
    view! {
        <button type="button" class="primary new-conversation" on:click=move |_| shown.set(true)>"New conversation"</button>
        <Show when=move || shown.get()>
            <NewConversationForm on_close=Callback::new(move |_| shown.set(false)) />
        </Show>
    }
}

#[component]
fn NewConversationForm(on_close: Callback<()>) -> impl IntoView {
    let inbox = Inbox::get();
    let me = Session::get().signed().map(|s| s.user.id);
    let navigate = use_navigate();
    let teammate = RwSignal::new(true);
    let picked = RwSignal::new(HashSet::<i64>::new());
    let group_name = RwSignal::new(String::new());
    let site = RwSignal::new(inbox.sites.with_untracked(|s| s.first().map(|s| s.id)));
    let email = RwSignal::new(String::new());
    let visitor_name = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let body = if teammate.get_untracked() {
            let ids: Vec<i64> = picked.get_untracked().into_iter().collect();
            if ids.is_empty() {
                error.set(Some("Pick at least one teammate.".into()));
                return;
            }
            let name = if ids.len() > 1 { some_text(group_name.get_untracked()) } else { None };
            if ids.len() > 1 && name.is_none() {
                error.set(Some("A group needs a name.".into()));
                return;
            }
            NewConversationBody { kind: Some(Kind::Internal), participant_ids: ids, name, ..Default::default() }
        } else {
            let Some(site_id) = site.get_untracked() else {
                error.set(Some("Pick a site.".into()));
                return;
            };
            NewConversationBody {
                kind: Some(Kind::Visitor),
                site_id: Some(site_id),
                email: Some(email.get_untracked().trim().to_string()),
                name: some_text(visitor_name.get_untracked()),
                content: some_text(content.get_untracked()),
                ..Default::default()
            }
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = api::post::<ConversationSummary>("/v1/chat/conversations", &body).await;
            if busy.is_disposed() {
                return;
            }
            busy.set(false);
            match answer {
                Ok(created) => {
                    inbox.reload();
                    on_close.run(());
                    navigate(&format!("/app/conversations/{}", created.id), Default::default());
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let teammates = move || inbox.operators.get().into_iter().filter(|o| Some(o.id) != me).collect::<Vec<_>>();
    view! {
        <Dialog title="New conversation" on_close=on_close>
            <form class="new-conversation-form" data-form="new-conversation" on:submit=submit>
                <fieldset class="choice">
                    <legend class="sr-only">"With whom"</legend>
                    <label class="inline"><input type="radio" name="with" value="teammate" prop:checked=move || teammate.get()
                        on:change=move |_| teammate.set(true) />"Message a teammate"</label>
                    <label class="inline"><input type="radio" name="with" value="visitor" prop:checked=move || !teammate.get()
                        on:change=move |_| teammate.set(false) />"Follow up with a visitor"</label>
                </fieldset>
                <Show when=move || teammate.get() fallback=move || view! {
                    <label>"Site"
                        <select name="site" on:change=move |ev| site.set(event_target_value(&ev).parse().ok())>
                            <For each=move || inbox.sites.get() key=|s| s.id let:s>
                                <option value=s.id.to_string() selected=move || site.get() == Some(s.id)>{s.name.clone()}</option>
                            </For>
                        </select>
                    </label>
                    <label>"Visitor's email" <input type="email" name="email" required bind:value=email /></label>
                    <label>"Visitor's name" <input type="text" name="name" maxlength="100" bind:value=visitor_name /></label>
                    <label>"First message" <textarea name="content" rows="3" bind:value=content></textarea></label>
                }>
                    <fieldset class="operators">
                        <legend>"Teammates"</legend>
                        {move || {
                            let all = teammates();
                            if all.is_empty() {
                                return view! { <p class="muted">"Invite a teammate in Settings → Team first."</p> }.into_any();
                            }
                            all.into_iter().map(|o| {
                                let id = o.id;
                                view! {
                                    <label class="inline" data-operator=id.to_string()>
                                        <input type="checkbox" name="operator" value=id.to_string() prop:checked=move || picked.with(|p| p.contains(&id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                picked.update(|p| { if on { p.insert(id); } else { p.remove(&id); } });
                                            } />
                                        {o.display_name.clone()} <span class="muted">{format!(" {}", o.email)}</span>
                                    </label>
                                }
                            }).collect_view().into_any()
                        }}
                    </fieldset>
                    <Show when=move || picked.with(|p| p.len() > 1)>
                        <label>"Group name" <input type="text" name="group_name" maxlength="100" bind:value=group_name /></label>
                    </Show>
                    <p class="muted">"One teammate: a direct message. Several: a named group."</p>
                </Show>
                <ui::ErrorNote error=error />
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Start conversation"</button>
                </div>
            </form>
        </Dialog>
    }
}

/// The operators taking part in conversation `id`, kept live: add one, remove one, leave.
#[component]
pub fn ParticipantsPanel(id: i64, kind: Kind) -> impl IntoView {
    let inbox = Inbox::get();
    let me = Session::get().signed().map(|s| s.user.id);
    let navigate = use_navigate();
    let list = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<String>);
    let adding = RwSignal::new(None::<i64>);
    let load = move || {
        leptos::task::spawn_local(async move {
            let answer = api::get::<ParticipantList>(&format!("/v1/chat/conversations/{id}/participants")).await;
            if list.is_disposed() {
                return;
            }
            match answer {
                Ok(p) => {
                    list.set(p.participants);
                    error.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let live = live::Live::get();
    Effect::new(move |_| {
        live.epoch.track();
        load();
    });
    live::listen(move |event| {
        if let LiveEvent::Participants { conversation_id, .. } = event {
            if *conversation_id == id {
                load();
            }
        }
    });
    let add = move |_| {
        let Some(user) = adding.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            let answer = api::post::<ParticipantList>(
                &format!("/v1/chat/conversations/{id}/participants"),
                &AddParticipants { user_ids: vec![user] },
            )
            .await;
            if list.is_disposed() {
                return;
            }
            match answer {
                Ok(p) => {
                    list.set(p.participants);
                    adding.set(None);
                    error.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let remove = move |user: i64| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let answer = api::delete(&format!("/v1/chat/conversations/{id}/participants/{user}")).await;
            if list.is_disposed() {
                return;
            }
            match answer {
                Ok(()) if Some(user) == me && kind == Kind::Internal => {
                    // Left: the conversation is no longer ours to see.
                    inbox.conversations.update(|all| all.retain(|c| c.id != id));
                    navigate("/app/", Default::default());
                }
                Ok(()) => list.update(|all| all.retain(|p| p.user_id != user)),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let candidates = move || {
        let taken: HashSet<i64> = list.with(|l| l.iter().map(|p| p.user_id).collect());
        inbox.operators.get().into_iter().filter(|o| !taken.contains(&o.id)).collect::<Vec<_>>()
    };
    view! {
        <section class="participants" aria-label="Participants">
            <h2>"Participants"</h2>
            <ui::ErrorNote error=error />
            <ul>
                <For each=move || list.get() key=|p| p.user_id let:p>
                    {
                        let remove = remove.clone();
                        let user = p.user_id;
                        let mine = Some(user) == me;
                        let label = if mine { "Leave".to_string() } else { "Remove".to_string() };
                        let aria = if mine { "Leave this conversation".to_string() } else { format!("Remove {}", p.display_name) };
                        view! {
                            <li data-participant=user.to_string()>
                                <span class="who">{p.display_name.clone()}{mine.then_some(" (you)")}</span>
                                <button type="button" class="link" aria-label=aria on:click=move |_| remove(user)>{label}</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <div class="add-participant">
                <label>"Add a teammate"
                    <select name="add-participant" on:change=move |ev| adding.set(event_target_value(&ev).parse().ok())
                        prop:value=move || adding.get().map(|a| a.to_string()).unwrap_or_default()>
                        <option value="">"Choose…"</option>
                        {move || candidates().into_iter().map(|o| view! { <option value=o.id.to_string()>{o.display_name}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" disabled=move || adding.get().is_none() on:click=add>"Add"</button>
            </div>
        </section>
    }
}

/// Picks conversations (searching the list by title) and forwards `message_id` to them.
#[component]
pub fn ForwardDialog(message_id: i64, from: i64, on_close: Callback<()>, on_done: Callback<usize>) -> impl IntoView {
    let inbox = Inbox::get();
    let query = RwSignal::new(String::new());
    let picked = RwSignal::new(Vec::<i64>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let matches = move || {
        let q = query.get().to_lowercase();
        inbox.conversations.with(|all| {
            all.iter()
                .filter(|c| c.id != from)
                .map(|c| (c.id, inbox.title(c)))
                .filter(|(_, title)| q.is_empty() || title.to_lowercase().contains(&q))
                .take(30)
                .collect::<Vec<_>>()
        })
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let targets = picked.get_untracked();
        if targets.is_empty() {
            error.set(Some("Pick at least one conversation.".into()));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let count = targets.len();
            let answer = api::post::<ForwardedMessages>(
                "/v1/chat/messages/forward",
                &ForwardRequest { message_ids: vec![message_id], conversation_ids: targets },
            )
            .await;
            if busy.is_disposed() {
                return;
            }
            busy.set(false);
            match answer {
                Ok(_) => on_done.run(count),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <Dialog title="Forward message" on_close=on_close>
            <form class="forward-form" data-form="forward" on:submit=send>
                <label>"Search conversations" <input type="search" name="q" bind:value=query /></label>
                <ul class="pick-list">
                    {move || matches().into_iter().map(|(id, title)| view! {
                        <li><label class="inline" data-conversation=id.to_string()>
                            <input type="checkbox" value=id.to_string() prop:checked=move || picked.with(|p| p.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    picked.update(|p| if on { p.push(id) } else { p.retain(|x| *x != id) });
                                } />
                            {title}
                        </label></li>
                    }).collect_view()}
                </ul>
                <ui::ErrorNote error=error />
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Forward"</button>
                </div>
            </form>
        </Dialog>
    }
}

//! Settings → Team (`GET /v1/chat/users`, `POST /v1/users`,
//! `PATCH`/`DELETE /v1/users/{id}`): the account's operators. Owners and
//! admins invite, change roles and remove; only owners touch owners, and an
//! account keeps at least one owner (the API's 409 is shown as it says it).
//! Agents see the team read-only.

use edgechat_shared::api::auth::{Operator, OperatorRole};
use edgechat_shared::api::users::{InviteOperator, OperatorList, RoleChange};
use leptos::prelude::*;

use super::{carried_note, carry_note, confirm, drop_carried_note};
use crate::inbox::Inbox;
use crate::session::{self, Session};
use crate::{api, ui};

/// The account's operators.
#[derive(Clone, Copy)]
struct Operators {
    list: RwSignal<Vec<Operator>>,
    error: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    /// What the last action did ("Ann was removed.").
    note: RwSignal<Option<String>>,
    /// The signed-in operator's id and role.
    me: Memo<Option<(i64, OperatorRole)>>,
    /// The inbox's copy (the assignee menu), kept in step.
    inbox: Option<Inbox>,
}

impl Operators {
    /// Loads `GET /v1/chat/users`.
    fn new() -> Operators {
        let operators = Operators {
            list: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
            loaded: RwSignal::new(false),
            note: RwSignal::new(carried_note()),
            me: Memo::new(|_| Session::get().signed().map(|s| (s.user.id, s.user.role))),
            inbox: use_context::<Inbox>(),
        };
        leptos::task::spawn_local(async move {
            match api::get::<OperatorList>("/v1/chat/users").await {
                Ok(list) => operators.list.set(list.users),
                Err(err) => operators.error.set(Some(err.message)),
            }
            operators.loaded.set(true);
        });
        operators
    }

    /// The roles the caller may hand out: `owner` only by owners.
    fn grantable(&self) -> Vec<OperatorRole> {
        let owner = self.me.get().is_some_and(|(_, role)| role == OperatorRole::Owner);
        [OperatorRole::Agent, OperatorRole::Admin].into_iter().chain(owner.then_some(OperatorRole::Owner)).collect()
    }

    /// Replaces operator `operator.id`, or adds it at the end.
    fn put(self, operator: Operator) {
        self.list.update(|all| match all.iter_mut().find(|o| o.id == operator.id) {
            Some(row) => *row = operator,
            None => all.push(operator),
        });
        self.sync_inbox();
    }

    fn remove(self, id: i64) {
        self.list.update(|all| all.retain(|o| o.id != id));
        self.sync_inbox();
    }

    fn sync_inbox(self) {
        // The page (and its list) may be gone by the time an answer arrives.
        if let (Some(inbox), Some(list)) = (self.inbox, self.list.try_get_untracked()) {
            inbox.operators.set(list);
        }
    }
}

/// "Agent", "Admin", "Owner".
fn role_name(role: OperatorRole) -> &'static str {
    match role {
        OperatorRole::Agent => "Agent",
        OperatorRole::Admin => "Admin",
        OperatorRole::Owner => "Owner",
    }
}

/// The team page; `admin` is false for agents (read-only).
#[component]
pub fn Team(admin: bool) -> impl IntoView {
    let operators = Operators::new();
    view! {
        <div class="settings-page team">
            <header class="settings-head"><h1>"Team"</h1></header>
            <p class="muted">"Owners and admins manage sites and the team; agents answer conversations. Only an owner manages owners."</p>
            {(!admin).then(|| view! { <p class="muted read-only">"Only owners and admins can change the team."</p> })}
            <ui::ErrorNote error=operators.error />
            <ui::OkNote note=operators.note />
            {admin.then(|| view! { <InviteForm operators=operators /> })}
            <ul class="settings-list">
                <For each=move || operators.list.get() key=|o| (o.id, o.role.as_str()) let:operator>
                    <OperatorRow operators=operators operator=operator admin=admin />
                </For>
            </ul>
            {move || (operators.loaded.get() && operators.error.with(Option::is_none) && operators.list.with(Vec::is_empty))
                .then(|| view! { <p class="empty">"No operator."</p> })}
        </div>
    }
}

/// One operator: name, email, role; for admins, change the role or remove them.
#[component]
fn OperatorRow(operators: Operators, operator: Operator, admin: bool) -> impl IntoView {
    let id = operator.id;
    let me = operators.me.get_untracked().is_some_and(|(mine, _)| mine == id);
    let name = operator.display_name.clone();
    let error = RwSignal::new(None::<String>);
    let role = RwSignal::new(operator.role.as_str().to_string());
    let busy = RwSignal::new(false);
    // An owner's role is only an owner's to change.
    let may_manage =
        move || operators.me.get().is_some_and(|(_, mine)| operator.role != OperatorRole::Owner || mine == OperatorRole::Owner);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(new_role) = OperatorRole::parse(&role.get_untracked()) else { return };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::patch::<Operator>(&format!("/v1/users/{id}"), &RoleChange { role: new_role }).await {
                Ok(changed) => {
                    let note = format!("{} is now {}.", changed.display_name, role_name(changed.role).to_lowercase());
                    operators.put(changed);
                    if !me {
                        operators.note.set(Some(note));
                    } else {
                        // The caller's own role changed: their access token is refused from now on.
                        carry_note(operators.note, note);
                        if session::refresh().await.is_err() {
                            session::signed_out();
                        }
                        drop_carried_note();
                    }
                }
                // The choice stays, beside the API's reason (such as the last owner).
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let remove = {
        let (name, email) = (name.clone(), operator.email.clone());
        move |_| {
            if !confirm(&format!("Remove {name} ({email}) from the team? They are signed out at once and cannot sign in again.")) {
                return;
            }
            let name = name.clone();
            leptos::task::spawn_local(async move {
                match api::delete(&format!("/v1/users/{id}")).await {
                    Ok(()) => {
                        operators.note.set(Some(format!("{name} was removed from the team.")));
                        operators.remove(id);
                    }
                    Err(err) => error.set(Some(err.message)),
                }
            });
        }
    };
    view! {
        <li class="item operator" data-id=id.to_string() data-role=operator.role.as_str()>
            <div class="item-head">
                <strong class="title">{name.clone()}{me.then_some(" (you)")}</strong>
                <span class="muted">{operator.email.clone()}</span>
                <span class="tag role">{role_name(operator.role)}</span>
            </div>
            <Show when=move || admin && may_manage()>
                <form class="inline" data-form="operator-role" on:submit=change>
                    <label>"Role" <span class="sr-only">{format!(" of {}", operator.display_name)}</span>
                        <RoleSelect role=role operators=operators />
                    </label>
                    <button type="submit" disabled=move || busy.get() || role.get() == operator.role.as_str()>
                        "Change role" <span class="sr-only">{format!(" of {}", operator.display_name)}</span>
                    </button>
                    {(!me).then(|| view! {
                        <button type="button" class="danger" on:click=remove.clone()>
                            "Remove" <span class="sr-only">{format!(" {}", operator.display_name)}</span>
                        </button>
                    })}
                </form>
            </Show>
            <ui::ErrorNote error=error />
        </li>
    }
}

/// The `role` select of the row and invite forms, bound to `role`: the roles the caller may grant.
#[component]
fn RoleSelect(role: RwSignal<String>, operators: Operators) -> impl IntoView {
    view! {
        <select name="role" bind:value=role>
            {move || operators.grantable().into_iter().map(|r| view! {
                <option value=r.as_str() selected=move || role.get() == r.as_str()>{role_name(r)}</option>
            }).collect_view()}
        </select>
    }
}

/// `data-form="operator-invite"`: email, name, role and an initial password
/// the new operator changes under Profile.
#[component]
fn InviteForm(operators: Operators) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let role = RwSignal::new(OperatorRole::Agent.as_str().to_string());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let invite = InviteOperator {
            email: email.get_untracked().trim().to_string(),
            display_name: display_name.get_untracked().trim().to_string(),
            role: OperatorRole::parse(&role.get_untracked()).unwrap_or_default(),
            password: password.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        operators.note.set(None);
        leptos::task::spawn_local(async move {
            match api::post::<Operator>("/v1/users", &invite).await {
                Ok(operator) => {
                    operators.note.set(Some(format!(
                        "{} can now sign in as {} with the initial password, and change it under Profile.",
                        operator.display_name, operator.email
                    )));
                    operators.put(operator);
                    for field in [email, display_name, password] {
                        field.set(String::new());
                    }
                    role.set(OperatorRole::Agent.as_str().to_string());
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card invite-form" data-form="operator-invite" on:submit=submit>
            <h2>"Invite an operator"</h2>
            <div class="inline-fields">
                <label>"Email" <input type="email" name="email" required autocomplete="off" bind:value=email /></label>
                <label>"Name" <input type="text" name="display_name" required maxlength="120" autocomplete="off" bind:value=display_name /></label>
                <label>"Role"
                    <RoleSelect role=role operators=operators />
                </label>
                <label>"Initial password"
                    <input type="password" name="password" required minlength="8" autocomplete="new-password" bind:value=password />
                </label>
            </div>
            <p class="hint">"At least 8 characters. Give it to them privately; they change it under Profile after signing in."</p>
            <ui::ErrorNote error=error />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Invite operator"</button>
            </div>
        </form>
    }
}

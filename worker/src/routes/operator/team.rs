//! `POST /v1/chat/conversations`, `PATCH`/`DELETE /v1/chat/conversations/{id}`,
//! `…/participants`, `…/mute`, `…/archive` and `GET /v1/chat/users/search`
//! (seed 002): conversations operators start and share, and each
//! operator's own view of them.
//!
//! Who sees what: every operator of the account sees its visitor
//! conversations; an internal conversation is seen by its participants
//! only, and anyone else gets 404 (never 403, which would tell it exists).
//! Any participant of an internal conversation, and any operator for a
//! visitor conversation, may change its name and its participants;
//! removing yourself is leaving.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::conversations::ConversationSummary;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::team::{
    dm_key, AddParticipants, ConversationPatch, ConversationStart, DeleteQuery, DeleteScope, NewConversation, ParticipantList, UserSearch,
    UserSearchQuery,
};
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::D1Database;

use super::conversations::{load, room_context};
use crate::auth::CurrentOperator;
use crate::db::messages::FileLinks;
use crate::db::team::{self as team_db, Audience, NewInternal, Pref};
use crate::db::{self, sites};
use crate::error::{ApiError, ApiResult};
use crate::inbox;
use crate::room::{Close, SendOperatorMessage};
use crate::routes::{json_object, AppState};

/// 404 naming the first of `wanted` that is not an operator of the caller's account.
async fn check_operators(db: &D1Database, caller: &CurrentOperator, wanted: &[i64]) -> ApiResult<Vec<team_db::OperatorRef>> {
    let found = team_db::operators_among(db, caller.account_id, wanted).await?;
    match wanted.iter().find(|id| !found.iter().any(|o| o.id == **id)) {
        Some(missing) => Err(ApiError::not_found(&format!("operator {missing}"))),
        None => Ok(found),
    }
}

/// Handles the `POST /v1/chat/conversations` route (seed 002): an internal
/// conversation between the caller and `participant_ids`, or an outbound
/// follow-up with a visitor known by email. A staff DM (one other
/// operator, no name) is unique per pair (seed 000's sorted
/// `{emailA}|{emailB}`): starting it again answers it with 200. New
/// conversations answer 201 and are announced live (`conversation`) to
/// those who may see them.
///
/// The visitor of a follow-up is the site's newest verified visitor with
/// that email (identity verification: their widget shows it, as their
/// newest conversation, next time it opens); otherwise a visitor no widget
/// session reaches is made for the email, so an unverified browser that
/// merely claims the address never reads the thread.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations",
    request_body = NewConversation,
    responses(
        (status = 201, description = "Created: in `operator` mode; a follow-up is assigned to the caller, with `content` as its first message", body = ConversationSummary),
        (status = 200, description = "The staff DM of this pair existed: that conversation (the caller takes part in it again)", body = ConversationSummary),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: an operator (named) or the site is not of the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: no `kind`; 0 or over 50 `participant_ids`, none but the caller; a `name` not 1 to 100 characters, a `description` over 1,000; no `site_id`, a bad `email` or `content`; fields of the other kind", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_conversation(
    State(state): State<AppState>,
    caller: CurrentOperator,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ConversationSummary>)> {
    let request: NewConversation = json_object(&body)?;
    let db = db::database(&state.env)?;
    match request.validate()? {
        ConversationStart::Internal { participant_ids, name, description } => {
            start_internal(&state, &db, &caller, participant_ids, name, description).await
        }
        ConversationStart::Visitor { site_id, email, user_id, name, description, content } => {
            let site = sites::site(&db, caller.account_id, site_id).await?.ok_or_else(|| ApiError::not_found("site"))?;
            let visitor_id = match user_id {
                Some(user_id) => {
                    let id = db::visitors::verified_visitor(&db, site.id, &user_id).await?;
                    if let Some(conversation) = db::visitors::set_visitor_details(&db, id, Some(&email), name.as_deref()).await? {
                        crate::events::publish_conversation(&state.env, conversation).await;
                    }
                    id
                }
                None => team_db::outbound_visitor(&db, site.id, &email, name.as_deref()).await?,
            };
            let id = team_db::create_outbound(&db, caller.account_id, site.id, visitor_id, caller.id, description.as_deref()).await?;
            let conversation = load(&db, &caller, id).await?;
            match content {
                // The Room announces a conversation with its first message.
                Some(content) => {
                    SendOperatorMessage {
                        context: room_context(&caller, &conversation),
                        content,
                        author_id: caller.id,
                        author_name: caller.display_name.clone(),
                        client_message_id: None,
                        links: FileLinks::of(&site),
                        attachments: Vec::new(),
                    }
                    .call(&state.env)
                    .await?;
                }
                None => {
                    inbox::publish(&state.env, caller.account_id, &LiveEvent::Conversation { conversation_id: id, site_id: Some(site.id) })
                        .await?;
                }
            }
            Ok((StatusCode::CREATED, Json(load(&db, &caller, id).await?)))
        }
    }
}

/// The internal side of `POST /v1/chat/conversations`.
async fn start_internal(
    state: &AppState,
    db: &D1Database,
    caller: &CurrentOperator,
    participant_ids: Vec<i64>,
    name: Option<String>,
    description: Option<String>,
) -> ApiResult<(StatusCode, Json<ConversationSummary>)> {
    let others: Vec<i64> = participant_ids.into_iter().filter(|&id| id != caller.id).collect();
    if others.is_empty() {
        return Err(FieldError::new("participant_ids", "participant_ids must name another operator than the caller").into());
    }
    let found = check_operators(db, caller, &others).await?;
    let key = match (&found[..], &name) {
        ([other], None) => Some(dm_key(caller.id, other.id)),
        _ => None,
    };
    let mut everyone = others;
    everyone.push(caller.id);
    let new = NewInternal {
        created_by: caller.id,
        participants: &everyone,
        name: name.as_deref(),
        description: description.as_deref(),
        dm_key: key.as_deref(),
    };
    let (id, created) = team_db::create_internal(db, caller.account_id, &new).await?;
    if !created {
        return Ok((StatusCode::OK, Json(load(db, caller, id).await?)));
    }
    crate::events::publish_conversation(&state.env, id).await;
    inbox::publish(&state.env, caller.account_id, &LiveEvent::Conversation { conversation_id: id, site_id: None }).await?;
    Ok((StatusCode::CREATED, Json(load(db, caller, id).await?)))
}

/// Handles the `PATCH /v1/chat/conversations/{id}` route (seed 002): name
/// and description (`null` clears); live `conversation_updated`.
#[utoipa::path(
    patch,
    path = "/v1/chat/conversations/{id}",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = ConversationPatch,
    responses(
        (status = 200, description = "The conversation with its new name and description", body = ConversationSummary),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
        (status = 422, description = "`validation_error`: neither field; a `name` not 1 to 100 characters; a `description` over 1,000", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_conversation(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ConversationSummary>> {
    let patch = json_object::<ConversationPatch>(&body)?.validate()?;
    let db = db::database(&state.env)?;
    load(&db, &caller, id).await?;
    if !team_db::update_details(&db, caller.account_id, id, &patch).await? {
        return Err(ApiError::not_found("conversation"));
    }
    let after = load(&db, &caller, id).await?;
    let event = LiveEvent::ConversationUpdated { conversation_id: id, name: after.name.clone(), description: after.description.clone() };
    inbox::publish(&state.env, caller.account_id, &event).await?;
    Ok(Json(after))
}

/// Handles the `DELETE /v1/chat/conversations/{id}` route (seed 002).
/// `scope=for_me` (default) hides it from the caller's list until its next
/// message (as chat apps do with a deleted chat; `GET …/{id}` still
/// answers it). `scope=for_everyone` (owner, admin, or the operator who
/// started it) deletes it with its messages and files for good: the
/// visitor's streams end, operators who saw it get `conversation_deleted`,
/// and the id answers 404 everywhere after. 204.
#[utoipa::path(
    delete,
    path = "/v1/chat/conversations/{id}",
    params(("id" = i64, Path, description = "Conversation id"), DeleteQuery),
    responses(
        (status = 204, description = "Hidden for the caller, or deleted for everyone"),
        (status = 403, description = "`forbidden`: `for_everyone` needs the owner or admin role, or to have started the conversation", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
        (status = 422, description = "`validation_error`: a `scope` other than `for_me` and `for_everyone`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_conversation(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let scope = query.scope()?;
    let db = db::database(&state.env)?;
    let conversation = load(&db, &caller, id).await?;
    if scope == DeleteScope::ForMe {
        team_db::set_pref(&db, id, caller.id, Pref::Hidden, true).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let creator = team_db::created_by(&db, caller.account_id, id).await?;
    if caller.role() < OperatorRole::Admin && creator != Some(caller.id) {
        return Err(ApiError::forbidden("Deleting a conversation for everyone needs the owner or admin role, or to have started it"));
    }
    let audience = team_db::audience(&db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let files = team_db::delete(&db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    if let Err(err) = (Close { context: room_context(&caller, &conversation) }).call(&state.env).await {
        worker::console_error!("closing the room of deleted conversation {id} failed: {}", err.message);
    }
    if let Err(err) = crate::routes::widget::uploads::delete_files(&state.env, &files).await {
        worker::console_error!("deleting the files of deleted conversation {id} failed: {err}");
    }
    inbox::publish_to(&state.env, caller.account_id, &LiveEvent::ConversationDeleted { conversation_id: id }, &audience).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `GET /v1/chat/conversations/{id}/participants` route (seed 002).
#[utoipa::path(
    get,
    path = "/v1/chat/conversations/{id}/participants",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The operators taking part, oldest first", body = ParticipantList),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_participants(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ParticipantList>> {
    let db = db::database(&state.env)?;
    load(&db, &caller, id).await?;
    Ok(Json(ParticipantList { participants: team_db::participants(&db, id).await? }))
}

/// Handles the `POST /v1/chat/conversations/{id}/participants` route (seed
/// 002): `{"user_ids":[…]}` (1 to 50 operators of the caller's account;
/// those already in change nothing); live `participants` with those added,
/// who from then on get the conversation's events. A staff DM stays
/// between its pair: only they may be added back (409 otherwise).
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/participants",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = AddParticipants,
    responses(
        (status = 200, description = "The participants now, oldest first", body = ParticipantList),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation the caller may see, or an operator (named) not of the caller's account", body = ErrorBody),
        (status = 409, description = "`conflict`: a staff DM takes no third operator", body = ErrorBody),
        (status = 422, description = "`validation_error`: 0 or over 50 `user_ids`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_participants(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ParticipantList>> {
    let user_ids = json_object::<AddParticipants>(&body)?.validate()?;
    let db = db::database(&state.env)?;
    load(&db, &caller, id).await?;
    let found = check_operators(&db, &caller, &user_ids).await?;
    if let Some(pair) = team_db::dm_key_of(&db, caller.account_id, id).await? {
        if found.iter().any(|o| !in_dm(&pair, o.id)) {
            return Err(dm_stays_between_two());
        }
    }
    let added = team_db::add_participants(&db, id, caller.id, &user_ids).await?;
    if !added.is_empty() {
        let event = LiveEvent::Participants { conversation_id: id, added, removed: Vec::new() };
        inbox::publish(&state.env, caller.account_id, &event).await?;
    }
    Ok(Json(ParticipantList { participants: team_db::participants(&db, id).await? }))
}

/// Handles the `DELETE /v1/chat/conversations/{id}/participants/{user_id}`
/// route (seed 002); removing yourself is leaving. Live `participants`
/// with the one removed, to them too; after it, a removed operator gets
/// none of an internal conversation's events and 404 on it. 204.
#[utoipa::path(
    delete,
    path = "/v1/chat/conversations/{id}/participants/{user_id}",
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "The operator to remove")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`not_found`: no such conversation the caller may see, or the operator does not take part in it", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_participant(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((id, user_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let db = db::database(&state.env)?;
    load(&db, &caller, id).await?;
    if !team_db::remove_participant(&db, id, user_id).await? {
        return Err(ApiError::not_found("participant"));
    }
    let audience = match team_db::audience(&db, caller.account_id, id).await? {
        Some(Audience::Participants(mut ids)) => {
            ids.push(user_id);
            Audience::Participants(ids)
        }
        _ => Audience::Everyone,
    };
    let event = LiveEvent::Participants { conversation_id: id, added: Vec::new(), removed: vec![user_id] };
    inbox::publish_to(&state.env, caller.account_id, &event, &audience).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets or clears the caller's `pref` of conversation `id`; answers it.
async fn set_pref(state: &AppState, caller: &CurrentOperator, id: i64, pref: Pref, on: bool) -> ApiResult<Json<ConversationSummary>> {
    let db = db::database(&state.env)?;
    load(&db, caller, id).await?;
    team_db::set_pref(&db, id, caller.id, pref, on).await?;
    Ok(Json(load(&db, caller, id).await?))
}

/// Handles the `POST /v1/chat/conversations/{id}/mute` route (seed 002):
/// muted for the caller: still listed, no notification, left out of their
/// `GET /v1/chat/conversations/unread`.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/mute",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "`muted` is true", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_mute(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    set_pref(&state, &caller, id, Pref::Muted, true).await
}

/// Handles the `DELETE /v1/chat/conversations/{id}/mute` route (seed 002): unmuted.
#[utoipa::path(
    delete,
    path = "/v1/chat/conversations/{id}/mute",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "`muted` is false", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_mute(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    set_pref(&state, &caller, id, Pref::Muted, false).await
}

/// Handles the `POST /v1/chat/conversations/{id}/archive` route (seed 002):
/// archived for the caller: out of their default list and unread counts
/// (listed with `archived=true`) until the other side writes (a visitor
/// message; in an internal conversation, another operator's).
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/archive",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "`archived` is true", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_archive(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    set_pref(&state, &caller, id, Pref::Archived, true).await
}

/// Handles the `DELETE /v1/chat/conversations/{id}/archive` route (seed 002): back in the default list.
#[utoipa::path(
    delete,
    path = "/v1/chat/conversations/{id}/archive",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "`archived` is false", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_archive(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    set_pref(&state, &caller, id, Pref::Archived, false).await
}

/// Handles the `GET /v1/chat/users/search` route (seed 002): operators and
/// visitors of the caller's account whose name or email contains `q`
/// (`%` and `_` match themselves), or whose phone starts with `q` when it
/// is an E.164 prefix (`+44…`); at most 20 of each.
#[utoipa::path(
    get,
    path = "/v1/chat/users/search",
    params(UserSearchQuery),
    responses(
        (status = 200, description = "Matching operators (by name) and visitors (newest first), at most 20 of each", body = UserSearch),
        (status = 422, description = "`validation_error`: `q` absent, blank or over 100 characters", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_user_search(
    State(state): State<AppState>,
    caller: CurrentOperator,
    query: Result<Query<UserSearchQuery>, QueryRejection>,
) -> ApiResult<Json<UserSearch>> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let pattern = query.validate()?;
    let (operators, visitors) = team_db::search_users(&db::database(&state.env)?, caller.account_id, &pattern).await?;
    Ok(Json(UserSearch { operators, visitors }))
}

/// Whether operator `id` is one of the two of a staff DM whose `dm_key` is
/// `pair` ([`dm_key`]: their ids, `a|b`).
pub(super) fn in_dm(pair: &str, id: i64) -> bool {
    pair.split('|').any(|member| member.parse() == Ok(id))
}

/// 409 `conflict`: a staff DM takes no third operator, as a participant or
/// an assignee.
pub(super) fn dm_stays_between_two() -> ApiError {
    ApiError::conflict("A staff DM stays between its two operators: start a new conversation to add someone")
}

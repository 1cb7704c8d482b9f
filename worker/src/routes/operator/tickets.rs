//! `/v1/tickets…` (issue 14, operators' side of seed 003's tickets): make
//! a ticket from a conversation or from scratch, list and filter, read one
//! with its timeline and chat, change its status, assignee or add a note.
//! Every change is a timeline entry, a `ticket` live event to the account's
//! operators and a `ticket.created`/`ticket.updated` event on the bus.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::conversations::Kind;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::tickets::{ActorKind, NewTicket, Ticket, TicketChange, TicketDetail, TicketFilter, TicketList, DETAIL_MESSAGES};
use edgechat_shared::api::ChatMessage;
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::{D1Database, Env};

use super::page_size;
use crate::auth::CurrentOperator;
use crate::db::tickets::{self as store, ActorRef, NewTicketRow, TicketUpdate};
use crate::db::{self, messages, users};
use crate::error::{ApiError, ApiResult};
use crate::inbox;
use crate::routes::{json_object, AppState};

/// The caller's ticket `id`, or 404.
async fn load(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<Ticket> {
    store::by_id(db, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("ticket"))
}

fn operator(caller: &CurrentOperator) -> ActorRef {
    ActorRef { kind: ActorKind::Operator, id: caller.id, name: Some(caller.display_name.clone()) }
}

/// Tells the account's operators (live `ticket` event) and the bus (the
/// event `event_id` the change's batch wrote) about `ticket`. A failed live
/// publication is logged: the change is stored and the bus event stands.
pub(crate) async fn announce(env: &Env, account_id: i64, ticket: &Ticket, event_id: String) {
    crate::events::publish(env, &[event_id]).await;
    if let Err(e) = inbox::publish(env, account_id, &LiveEvent::Ticket { ticket: ticket.clone() }).await {
        worker::console_error!("publishing a ticket live event failed: {e}");
    }
}

/// The newest messages (up to [`DETAIL_MESSAGES`]) of conversation
/// `conversation_id` of site `site_id`, in `seq` order; empty without one.
pub(crate) async fn chat_messages(env: &Env, db: &D1Database, site_id: i64, conversation_id: Option<i64>) -> ApiResult<Vec<ChatMessage>> {
    let Some(conversation_id) = conversation_id else { return Ok(Vec::new()) };
    let links = super::media::links_for(env, db, Some(site_id)).await?;
    let (rows, _) = messages::page(db, conversation_id, None, None, DETAIL_MESSAGES).await?;
    Ok(rows.iter().map(|m| m.to_chat_message(&links)).collect())
}

async fn detail(env: &Env, db: &D1Database, ticket: Ticket) -> ApiResult<TicketDetail> {
    let timeline = store::timeline(db, ticket.id).await?;
    let messages = chat_messages(env, db, ticket.site_id, ticket.conversation_id).await?;
    Ok(TicketDetail { ticket, timeline, messages })
}

/// Handles the `POST /v1/tickets` route: from a visitor conversation of the
/// account (linked, with its site and visitor) or from scratch (`site_id`,
/// and `visitor_id` for a ticket of one of its visitors).
/// 201 with the new ticket (reference `EC-` + the account's next number,
/// status `submitted`, a `created` timeline entry); 200 with the existing
/// one when an open ticket with this subject was already made from this
/// conversation (a retry makes no second ticket).
#[utoipa::path(
    post,
    path = "/v1/tickets",
    request_body = NewTicket,
    responses(
        (status = 201, description = "Made: its `created` entry is on the timeline; a `ticket` live event and a `ticket.created` bus event follow", body = TicketDetail),
        (status = 200, description = "An open ticket with this subject was already made from this conversation: that one, unchanged", body = TicketDetail),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation or site in the caller's account, no such visitor of that site", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank or over-long `subject` (1 to 200 characters), neither `conversation_id` nor `site_id`, an internal conversation", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_ticket(
    State(state): State<AppState>,
    caller: CurrentOperator,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<TicketDetail>)> {
    let new: NewTicket = json_object(&body)?;
    let subject = new.validate()?;
    let db = db::database(&state.env)?;
    let (site_id, visitor_id) = match new.conversation_id {
        Some(id) => {
            let conversation = super::conversations::load(&db, &caller, id).await?;
            if conversation.kind != Kind::Visitor {
                return Err(FieldError::new("conversation_id", "a ticket comes from a visitor conversation, not an internal one").into());
            }
            if let Some(existing) = store::open_from_conversation(&db, caller.account_id, id, &subject).await? {
                return Ok((StatusCode::OK, Json(detail(&state.env, &db, existing).await?)));
            }
            (conversation.site_id.unwrap_or_default(), conversation.visitor.map(|v| v.id))
        }
        None => (new.site_id.unwrap_or_default(), new.visitor_id),
    };
    let creator = operator(&caller);
    let row = NewTicketRow {
        account_id: caller.account_id,
        site_id,
        visitor_id,
        conversation_id: new.conversation_id,
        subject: &subject,
        creator: &creator,
    };
    let (ticket, event_id) = store::create(&db, &row).await?.ok_or_else(|| ApiError::not_found("site or visitor"))?;
    announce(&state.env, caller.account_id, &ticket, event_id).await;
    Ok((StatusCode::CREATED, Json(detail(&state.env, &db, ticket).await?)))
}

/// Handles the `GET /v1/tickets` route: filters `status`, `assignee` (id,
/// `me`, `none`), `site_id`; newest first; cursor pagination (`limit` 1 to
/// 100). 422 for a bad filter or cursor.
#[utoipa::path(
    get,
    path = "/v1/tickets",
    params(TicketFilter),
    responses(
        (status = 200, description = "A page of the account's tickets, newest first", body = TicketList),
        (status = 422, description = "`validation_error`: a bad `status`, `assignee` (an operator id, `me` or `none`), `site_id`, cursor or `limit` (1 to 100)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_tickets(
    State(state): State<AppState>,
    caller: CurrentOperator,
    filter: Result<Query<TicketFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<TicketList>> {
    let Query(filter) = filter.map_err(|e| FieldError::new("query", e.body_text()))?;
    let limit = page_size(filter.limit)?;
    let assignee = match filter.assignee.as_deref() {
        None => None,
        Some("me") => Some(Some(caller.id)),
        Some("none") => Some(None),
        Some(id) => Some(Some(id.parse().map_err(|_| FieldError::new("assignee", "assignee must be an operator id, 'me' or 'none'"))?)),
    };
    let before = match filter.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| FieldError::new("cursor", "cursor is not one this API gave"))?),
    };
    let db = db::database(&state.env)?;
    let (tickets, more) = store::list(&db, caller.account_id, filter.status, assignee, filter.site_id, before, limit).await?;
    let next_cursor = if more { tickets.last().map(|t| t.id.to_string()) } else { None };
    Ok(Json(TicketList { tickets, next_cursor }))
}

/// Handles the `GET /v1/tickets/{id}` route: the ticket, its timeline and
/// the newest messages of its conversation.
#[utoipa::path(
    get,
    path = "/v1/tickets/{id}",
    params(("id" = i64, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket with its timeline (oldest first) and its conversation's newest messages (up to 100)", body = TicketDetail),
        (status = 404, description = "`not_found`: no such ticket in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_ticket(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<Json<TicketDetail>> {
    let db = db::database(&state.env)?;
    let ticket = load(&db, &caller, id).await?;
    Ok(Json(detail(&state.env, &db, ticket).await?))
}

/// Handles the `PATCH /v1/tickets/{id}` route: `{status?, note?,
/// assignee_id?}`. Each change is a timeline entry by the caller (a status
/// change carries the note; a note alone is an entry of its own), then a
/// `ticket` live event and a `ticket.updated` bus event; a change to the
/// same values stores nothing.
#[utoipa::path(
    patch,
    path = "/v1/tickets/{id}",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = TicketChange,
    responses(
        (status = 200, description = "The ticket after the change, with its timeline and messages", body = TicketDetail),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape (an unknown `status`)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such ticket, or no such operator (`assignee_id`), in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: nothing to change, a blank or over-long `note` (1 to 2,000 characters)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn patch_ticket(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<TicketDetail>> {
    let change: TicketChange = json_object(&body)?;
    let note = change.validate()?;
    let db = db::database(&state.env)?;
    let ticket = load(&db, &caller, id).await?;
    if let Some(Some(assignee)) = change.assignee_id {
        users::user(&db, caller.account_id, assignee).await?.ok_or_else(|| ApiError::not_found("operator"))?;
    }
    let update = TicketUpdate { status: change.status, note, assignee: change.assignee_id };
    let ticket = match store::change(&db, &ticket, &operator(&caller), &update).await? {
        Some((after, event_id)) => {
            announce(&state.env, caller.account_id, &after, event_id).await;
            after
        }
        None => ticket,
    };
    Ok(Json(detail(&state.env, &db, ticket).await?))
}

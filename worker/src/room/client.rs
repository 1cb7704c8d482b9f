//! The client side of a Room: which conversation a request is about
//! ([`RoomContext`]), the internal transport, and the binding that ties a
//! Room to the one conversation it serves.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use worker::Env;

use super::{RoomCore, RoomRequest};
use crate::error::{ApiError, ApiResult};

/// Which conversation a Room request is about, and whose it is. A Room
/// serves exactly one: the first request binds it, and a request naming
/// another conversation, site or account is refused (ids are never reused,
/// so this never happens unless something is wrong; it is checked anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomContext {
    pub conversation_id: i64,
    /// The conversation's site; `None` for an internal conversation (operators only).
    pub site_id: Option<i64>,
    pub account_id: i64,
}

impl RoomContext {
    /// The site of a visitor conversation. Visitor requests (messages,
    /// handoffs) come only through a site's widget, so they always have one;
    /// 0, which names no site, otherwise.
    pub fn visitor_site(&self) -> i64 {
        self.site_id.unwrap_or_default()
    }
}

impl RoomRequest {
    /// Sends the request to its conversation's Room (named by the
    /// conversation id) and answers its response. Errors: 404 `not_found`
    /// when the conversation was deleted (its Room is closed), 500 for
    /// anything else the Room refused.
    pub(super) async fn call(&self, env: &Env) -> ApiResult<web_sys::Response> {
        let conversation_id = self.conversation_id();
        let stub = env.durable_object("ROOM")?.id_from_name(&conversation_id.to_string())?.get_stub()?;
        let response = crate::runtime_stream::post(stub, "https://room/", &serde_json::to_string(self)?).await?;
        match response.status() {
            410 => Err(ApiError::not_found("conversation")),
            status if status >= 400 => {
                Err(worker::Error::RustError(format!("room of conversation {conversation_id} answered {status}")).into())
            }
            _ => Ok(response),
        }
    }

    /// [`RoomRequest::call`] for a request that answers JSON.
    pub(super) async fn call_json<T: DeserializeOwned>(&self, env: &Env) -> ApiResult<T> {
        let text = crate::runtime_stream::text(&self.call(env).await?).await?;
        Ok(serde_json::from_str(&text).map_err(worker::Error::from)?)
    }
}

/// What a Room serves, kept in its storage so that it outlives eviction.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) enum Binding {
    /// The conversation it serves.
    Open(RoomContext),
    /// Its conversation was deleted; it serves nothing any more.
    Closed,
}

/// How a request stands against the Room's binding.
pub(super) enum Check {
    /// It is about the Room's conversation.
    Serves,
    /// The Room's conversation was deleted.
    Closed,
    /// It names another conversation (a bug or an attack; refused).
    Other,
}

pub(super) const BINDING_KEY: &str = "binding";

impl RoomCore {
    /// The Room's binding, from memory or its storage; `None` before its
    /// first checked request.
    async fn binding(&self) -> worker::Result<Option<Binding>> {
        let known = *self.binding.borrow();
        if known.is_some() {
            return Ok(known);
        }
        let stored: Option<Binding> = self.state.storage().get(BINDING_KEY).await?;
        if stored.is_some() {
            *self.binding.borrow_mut() = stored;
        }
        Ok(stored)
    }

    /// The conversation the Room serves, when a checked request bound it
    /// and it was not deleted. Binds nothing.
    pub(super) async fn bound_context(&self) -> worker::Result<Option<RoomContext>> {
        Ok(match self.binding().await? {
            Some(Binding::Open(context)) => Some(context),
            _ => None,
        })
    }

    /// Checks `context` against the Room's binding; the first request binds
    /// the Room to its conversation. Only a checked request's context (see
    /// [`RoomRequest::context`]) may come here.
    pub(super) async fn check_binding(&self, context: &RoomContext) -> worker::Result<Check> {
        let binding = match self.binding().await? {
            Some(binding) => binding,
            None => {
                let binding = Binding::Open(*context);
                self.state.storage().put(BINDING_KEY, binding).await?;
                *self.binding.borrow_mut() = Some(binding);
                binding
            }
        };
        Ok(match binding {
            Binding::Open(bound) if bound == *context => Check::Serves,
            Binding::Open(bound) => {
                // Ids by hand: the worker's derived `Debug` names only the type.
                worker::console_error!(
                    "room of conversation {} (account {}) refused a request about conversation {} (account {})",
                    bound.conversation_id,
                    bound.account_id,
                    context.conversation_id,
                    context.account_id
                );
                Check::Other
            }
            Binding::Closed => Check::Closed,
        })
    }

    /// Closes the Room for good: its conversation was deleted.
    pub(super) async fn unbind(&self) -> worker::Result<()> {
        self.state.storage().put(BINDING_KEY, Binding::Closed).await?;
        *self.binding.borrow_mut() = Some(Binding::Closed);
        Ok(())
    }
}

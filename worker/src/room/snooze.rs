//! Snoozes (issue 14): an operator snoozes a conversation until a time; its
//! Room sets a Durable Object alarm for that time and reopens it when the
//! alarm fires. A visitor's message wakes it earlier (in the message write,
//! [`crate::db::messages::insert`]).
//!
//! Why an alarm rather than the cron trigger: the alarm fires at the
//! snooze's time (a cron minute would be up to 60 s late and would scan
//! every snoozed conversation of the deployment each minute), it is stored
//! with the Room so it survives restarts and eviction, and it runs in the
//! Room, the conversation's single writer, which broadcasts the reopening
//! to the visitor's streams and the operators at once.

use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use serde::{Deserialize, Serialize};
use worker::{Env, Response};

use super::client::Binding;
use super::live::Delivery;
use super::{RoomContext, RoomCore, RoomRequest};
use crate::db::conversations::{self, Wake};
use crate::db::{self};
use crate::error::{ApiError, ApiResult};

/// Request: the conversation was snoozed until `until_ms` (Unix
/// milliseconds): the Room sets its alarm then and announces `snoozed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snooze {
    pub context: RoomContext,
    pub until_ms: i64,
}

impl Snooze {
    /// Sets the Room's alarm. Errors: 404 when the conversation was deleted.
    pub async fn call(self, env: &Env) -> ApiResult<()> {
        let response = RoomRequest::Snooze(self).call(env).await?;
        match response.status() {
            204 => Ok(()),
            status => Err(ApiError::from(worker::Error::RustError(format!("room answered {status} to a snooze")))),
        }
    }

    pub(super) async fn apply(self, core: &RoomCore) -> worker::Result<Response> {
        let _write = core.writes.lock().await;
        core.set_alarm_at(self.until_ms).await?;
        let event = LiveEvent::Status { conversation_id: self.context.conversation_id, status: Status::Snoozed };
        core.broadcast(&self.context, &event, |_| Delivery::Never);
        Ok(Response::empty()?.with_status(204))
    }
}

impl RoomCore {
    async fn set_alarm_at(&self, until_ms: i64) -> worker::Result<()> {
        let offset = (until_ms - js_sys::Date::now() as i64).max(0);
        self.state.storage().set_alarm(offset).await
    }

    /// The alarm: reopens the Room's conversation when its snooze is due and
    /// announces it; sets the alarm again when the snooze was moved later.
    pub(super) async fn wake(&self) -> worker::Result<()> {
        let stored: Option<Binding> = self.state.storage().get(super::client::BINDING_KEY).await?;
        let Some(Binding::Open(context)) = stored else { return Ok(()) };
        let _write = self.writes.lock().await;
        match conversations::wake_if_due(&db::database(&self.env)?, context.conversation_id).await? {
            Wake::Woke => {
                let event = LiveEvent::Status { conversation_id: context.conversation_id, status: Status::Open };
                self.broadcast(&context, &event, |_| Delivery::Never);
                crate::events::spawn_publish(&self.env, context.conversation_id);
            }
            Wake::Later(until) => {
                let until_ms = js_sys::Date::parse(&until);
                if until_ms.is_finite() {
                    self.set_alarm_at(until_ms as i64).await?;
                }
            }
            Wake::Nothing => {}
        }
        Ok(())
    }
}

//! A live event encoded once (issue 16: "encode each event once, not once
//! per subscriber"). Its JSON is written where the event happens and
//! travels as it is: to the Room's visitor streams (the SSE `data:` of one
//! frame, shared by every stream) and through the Inbox to every operator
//! socket (one text frame). Neither Durable Object parses it back, so no
//! [`LiveEvent`] is decoded anywhere in the worker: that decoder (an
//! internally tagged enum of 16 variants, buffered through serde's
//! `Content`) was the largest single piece of the worker's wasm.

use edgechat_shared::api::events::{live_frame, LiveEvent};
use edgechat_shared::api::Role;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A [`LiveEvent`] as JSON, with the few facts the Room and the Inbox act on.
///
/// # Format (between the worker and its Durable Objects)
/// `{"name":"read","conversation_id":7,"seq":null,"for_visitor":true,"read":["operator",41],"json":{"type":"read",…}}`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncodedEvent {
    /// The event's `type`, the SSE `event:` name.
    pub name: String,
    /// The conversation it is about; `None` for a ticket's event.
    pub conversation_id: Option<i64>,
    /// The `seq` of a `message` event: its SSE `id:`.
    pub seq: Option<i64>,
    /// Whether visitor streams carry it ([`LiveEvent::for_visitor`]).
    pub for_visitor: bool,
    /// A `read` event's reader and `seq`: the Room marks the other side's
    /// messages up to it `read`.
    pub read: Option<(Role, i64)>,
    /// The event, exactly as every subscriber receives it.
    pub json: Box<RawValue>,
}

impl EncodedEvent {
    /// Encodes `event` (its JSON once).
    pub fn new(event: &LiveEvent) -> EncodedEvent {
        let json = serde_json::value::to_raw_value(event).expect("live events serialize");
        let read = match event {
            LiveEvent::Read { role, seq, .. } => Some((*role, *seq)),
            _ => None,
        };
        EncodedEvent {
            name: event.name().to_string(),
            conversation_id: event.conversation_id(),
            seq: event.seq(),
            for_visitor: event.for_visitor(),
            read,
            json,
        }
    }

    /// The event's SSE frame, as [`LiveEvent::to_frame`] writes it.
    pub fn frame(&self) -> String {
        live_frame(self.seq, &self.name, self.json.get().to_string()).encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat_shared::api::conversations::Status;

    #[test]
    fn the_frame_is_the_one_the_event_itself_writes() {
        let events = [
            LiveEvent::Read { conversation_id: 7, role: Role::Operator, seq: 41 },
            LiveEvent::Status { conversation_id: 7, status: Status::Closed },
            LiveEvent::Typing { conversation_id: 7, role: Role::Visitor, typing: true, author_name: None },
        ];
        for event in events {
            let encoded = EncodedEvent::new(&event);
            assert_eq!(encoded.frame(), event.to_frame().encode());
            assert_eq!(encoded.for_visitor, event.for_visitor());
            assert_eq!(encoded.conversation_id, Some(7));
            // It survives the trip to a Durable Object unchanged.
            let back: EncodedEvent = serde_json::from_str(&serde_json::to_string(&encoded).unwrap()).unwrap();
            assert_eq!(back.json.get(), serde_json::to_string(&event).unwrap());
            assert_eq!(back.frame(), encoded.frame());
        }
        assert_eq!(
            EncodedEvent::new(&LiveEvent::Read { conversation_id: 7, role: Role::Operator, seq: 41 }).read,
            Some((Role::Operator, 41))
        );
    }
}

//! The JSON bodies of every public route: the worker reads each with
//! `routes::json_object` (serde_json into these shared types) and then
//! calls the type's validation. From any bytes, neither may panic; bytes
//! that are not JSON are an error (400 `bad_request` in the envelope), and
//! validation answers a value or a `FieldError` (422). Worker-only bodies
//! (`EditBody`, the console's `KeyInput`) are plain serde structs of
//! strings, read the same way.

use edgechat_shared::api::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use serde_json::{Map, Value};

use crate::run;

/// Field names of the request types, so random objects hit real fields.
const KEYS: &[&str] = &[
    "site_key",
    "session_id",
    "message",
    "content",
    "email",
    "name",
    "phone",
    "score",
    "comment",
    "message_id",
    "attachments",
    "lang",
    "page_url",
    "url",
    "conversation_id",
    "title",
    "body",
    "status",
    "subject",
    "events",
    "token",
    "platform",
    "password",
    "role",
    "ids",
    "until",
    "reason",
    "target",
    "category",
    "description",
    "participants",
    "user_id",
    "emoji",
    "chat_id",
    "sent_at",
    "timestamp",
    "text",
    "secret",
    "enabled",
    "url_match",
    "delay_seconds",
    "operator_id",
    "current_password",
    "new_password",
    "display_name",
    "origins",
    "greeting",
    "theme",
    "since",
    "seq",
    "after",
    "filename",
    "content_type",
    "size",
    "mode",
    "kind",
    "id",
    "typing",
    "q",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof!["\\PC{0,30}", "[a-z0-9_-]{20,40}", "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}", "https?://[a-z.]{1,20}/[a-z]{0,10}"]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..10)
                .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())),
        ]
    })
}

/// Request bodies: random objects, random JSON, random bytes, and JSON cut short.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => (json(), any::<usize>()).prop_map(|(v, cut)| {
            let bytes = serde_json::to_vec(&v).unwrap_or_default();
            bytes[..cut % (bytes.len() + 1)].to_vec()
        }),
    ]
}

/// Reads `bytes` as the worker does and validates what it got, for each
/// request type: `$t` (validate) and `$plain` (no validation method).
macro_rules! every_body {
    ($bytes:expr; validated: $($t:ty),*; plain: $($plain:ty),*) => {{
        let bytes: &[u8] = $bytes;
        let is_json = serde_json::from_slice::<Value>(bytes).is_ok();
        $(
            match serde_json::from_slice::<$t>(bytes) {
                Ok(value) => _ = std::hint::black_box(value.validate()),
                Err(_) => {}
            }
            prop_assert!(is_json || serde_json::from_slice::<$t>(bytes).is_err(), "{} from non-JSON", stringify!($t));
        )*
        $(
            let _ = std::hint::black_box(serde_json::from_slice::<$plain>(bytes));
            prop_assert!(is_json || serde_json::from_slice::<$plain>(bytes).is_err(), "{} from non-JSON", stringify!($plain));
        )*
        if let Ok(save) = serde_json::from_slice::<chat::SaveMessage>(bytes) {
            let _ = std::hint::black_box(save.validate(1_700_000_000_000));
        }
    }};
}

fn every_request_type(bytes: &[u8]) -> TestCaseResult {
    every_body!(bytes;
        validated: sites::SiteInput, conversations::OperatorSend, auth::ProfileUpdate, auth::SignupRequest,
            complaints::ComplaintChange, complaints::ComplaintRequest, contact::ContactRequest,
            token_conversations::CreateConversation, rating::CsatRequest, messages::ForwardRequest, messages::SyncRequest,
            handoff::HandoffRequest, inbound::InboundEvent, inbound::NewInboundEndpoint, users::InviteOperator, chat::LivePost,
            chat::UpdateMessage, team::NewConversation, team::AddParticipants, team::ConversationPatch, tickets::NewTicket,
            tickets::TicketChange, tickets::TicketReply, proactive::ProactiveInput, devices::RegisterDeviceRequest,
            app::ReplyRequest, app::SessionRequest, app::StartRequest, stream::StreamRequest, transcripts::TranscriptRequest;
        plain: sites::ArticleInput, conversations::Assignment, auth::ChangePasswordRequest, auth::LoginRequest,
            contact::EmailRequest, rating::RateCommentRequest, rating::RateRequest, messages::ReactionToggle, users::RoleChange,
            integrations::NewWebhookEndpoint, integrations::WebhookEndpointChange, devices::UpdateNotificationSettings,
            app::SnoozeRequest, transcripts::VisitorTranscriptRequest, events::TypingRequest, events::VisitorRead,
            media::UploadUrlRequest, visitor::VisitorQuery
    );
    Ok(())
}

#[test]
fn every_request_body_parses_or_errs_and_validates_without_panic() {
    run("json_request_bodies", body(), |bytes| every_request_type(&bytes));
}

/// Regression guard: nesting far past serde_json's recursion limit (128)
/// is an error, not a stack overflow, for every type.
#[test]
fn deeply_nested_bodies_are_errors() {
    for deep in ["[".repeat(100_000), "{\"a\":".repeat(100_000), format!("{{\"message\":{}", "[".repeat(100_000))] {
        every_request_type(deep.as_bytes()).unwrap();
        assert!(serde_json::from_slice::<stream::StreamRequest>(deep.as_bytes()).is_err());
    }
}

//! The wire types as the widget reads and writes them: through the
//! browser's own JSON (`Response.json()`, `JSON.parse`, `JSON.stringify`)
//! and property reads, never a Rust JSON or serde deserializer.
//!
//! Why: serde's derived `Deserialize` code, monomorphised per type through
//! `serde-wasm-bindgen`, was ~120 KB of the widget's wasm (twiggy, issue 15);
//! the browser already holds a JSON parser. The shapes are the worker's
//! (`edgechat_shared::api`, seeds 001 and 004); a field the widget does not
//! read is not read. A missing or mistyped field reads as its empty value
//! (`""`, `0`, `None`, `[]`), as `#[serde(default)]` would.

use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::stream::{DoneMeta, StreamEvent};
use edgechat_shared::api::uploads::{Attachment, UploadResponse};
use edgechat_shared::api::{ChatMessage, MessageStatus, Mode, Reaction, Role, Source};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A parsed JSON value (object, array or scalar) with typed field reads.
#[derive(Debug, Clone)]
pub struct Json(pub JsValue);

impl Json {
    /// Parses `text` with the browser's `JSON.parse`; `None` if it is not JSON.
    pub fn parse(text: &str) -> Option<Json> {
        js_sys::JSON::parse(text).ok().map(Json)
    }

    fn field(&self, key: &str) -> JsValue {
        if self.0.is_object() {
            Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        }
    }

    /// The string at `key`, if it is one.
    pub fn opt_str(&self, key: &str) -> Option<String> {
        self.field(key).as_string()
    }

    /// The string at `key`, `""` when absent.
    pub fn str(&self, key: &str) -> String {
        self.opt_str(key).unwrap_or_default()
    }

    /// The integer at `key` (JSON numbers are f64 in JavaScript: ids and seqs
    /// stay below 2^53), if it is a number.
    pub fn opt_int(&self, key: &str) -> Option<i64> {
        self.field(key).as_f64().map(|n| n as i64)
    }

    /// The integer at `key`, `0` when absent.
    pub fn int(&self, key: &str) -> i64 {
        self.opt_int(key).unwrap_or(0)
    }

    /// `true` only when `key` holds `true`.
    pub fn bool(&self, key: &str) -> bool {
        self.field(key).as_bool() == Some(true)
    }

    /// The object at `key`, if it is not `null`/absent.
    pub fn obj(&self, key: &str) -> Option<Json> {
        let value = self.field(key);
        value.is_object().then_some(Json(value))
    }

    /// The elements of the array at `key`, empty when it is not an array.
    pub fn list(&self, key: &str) -> Vec<Json> {
        self.field(key).dyn_into::<Array>().map(|a| a.iter().map(Json).collect()).unwrap_or_default()
    }

    /// The strings of the array at `key`.
    #[cfg(feature = "app")]
    pub fn strings(&self, key: &str) -> Vec<String> {
        self.list(key).into_iter().filter_map(|v| v.0.as_string()).collect()
    }
}

/// A JSON request body, built as a JavaScript object and sent with
/// `JSON.stringify`.
pub struct Body(Object);

impl Body {
    /// `{}`.
    pub fn new() -> Body {
        Body(Object::new())
    }

    /// Sets `key` to `value` (any JavaScript value).
    pub fn set(self, key: &str, value: impl Into<JsValue>) -> Body {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    /// Sets `key` to a string.
    pub fn str(self, key: &str, value: &str) -> Body {
        self.set(key, JsValue::from_str(value))
    }

    /// Sets `key` to an integer.
    pub fn int(self, key: &str, value: i64) -> Body {
        self.set(key, JsValue::from_f64(value as f64))
    }

    /// Sets `key` to `value` when there is one (the key is left out otherwise).
    pub fn opt_str(self, key: &str, value: Option<&str>) -> Body {
        match value {
            Some(value) => self.str(key, value),
            None => self,
        }
    }

    /// The body as a JavaScript object (to nest it in another body).
    #[cfg(feature = "app")]
    pub fn into_js(self) -> JsValue {
        self.0.into()
    }

    /// The body as JSON text.
    pub fn to_json(&self) -> String {
        js_sys::JSON::stringify(&self.0).ok().and_then(|s| s.as_string()).unwrap_or_default()
    }
}

/// Integers as a JSON array.
pub fn int_array(values: &[i64]) -> JsValue {
    values.iter().map(|v| JsValue::from_f64(*v as f64)).collect::<Array>().into()
}

/// A stored message (`ChatMessage`).
pub fn message(json: &Json) -> ChatMessage {
    ChatMessage {
        id: json.int("id"),
        seq: json.int("seq"),
        role: Role::parse(&json.str("role")).unwrap_or(Role::Ai),
        content: json.str("content"),
        created_at: json.str("created_at"),
        author_name: json.opt_str("author_name"),
        sources: json.list("sources").iter().map(source).collect(),
        status: json.opt_str("status").and_then(|s| MessageStatus::parse(&s)),
        attachments: json.list("attachments").iter().map(attachment).collect(),
        author_id: json.opt_int("author_id"),
        edited_at: json.opt_str("edited_at"),
        reactions: json
            .list("reactions")
            .iter()
            .map(|r| Reaction { emoji: r.str("emoji"), count: r.int("count"), mine: r.bool("mine") })
            .collect(),
        forwarded_from: None,
    }
}

/// The messages of the array at `key`.
pub fn messages(json: &Json, key: &str) -> Vec<ChatMessage> {
    json.list(key).iter().map(message).collect()
}

/// A cited knowledge-base article (`Source`).
pub fn source(json: &Json) -> Source {
    Source { id: json.str("id"), title: json.str("title"), url: json.opt_str("url") }
}

/// A file attached to a message (`Attachment`).
pub fn attachment(json: &Json) -> Attachment {
    Attachment {
        id: json.int("id"),
        name: json.str("name"),
        content_type: json.str("content_type"),
        size: json.int("size"),
        url: json.str("url"),
    }
}

/// `POST /api/v1/chat/upload-image`'s answer (`UploadResponse`).
pub fn upload(json: &Json) -> UploadResponse {
    let file = attachment(json);
    UploadResponse {
        success: json.bool("success"),
        id: file.id,
        url: file.url,
        content_type: file.content_type,
        size: file.size,
        name: file.name,
    }
}

/// One SSE event of `POST /api/v1/chat/stream` (`StreamEvent`, tagged by `type`).
pub fn stream_event(json: &Json) -> Option<StreamEvent> {
    Some(match json.str("type").as_str() {
        "chunk" => StreamEvent::Chunk { content: json.str("content") },
        "done" => {
            let meta = json.obj("meta")?;
            StreamEvent::Done {
                meta: DoneMeta {
                    conversation_id: meta.int("conversation_id"),
                    message_id: meta.int("message_id"),
                    seq: meta.int("seq"),
                    answer_id: meta.opt_int("answer_id"),
                    answer_seq: meta.opt_int("answer_seq"),
                    mode: Mode::parse(&meta.str("mode")).unwrap_or(Mode::Ai),
                    sources: meta.list("sources").iter().map(source).collect(),
                    handoff_offered: meta.bool("handoff_offered"),
                    replayed: meta.bool("replayed"),
                },
            }
        }
        "error" => StreamEvent::Error { message: json.str("message"), handoff_offered: json.bool("handoff_offered") },
        _ => return None,
    })
}

/// One event of the visitor's live channel (`LiveEvent`, tagged by `type`):
/// the kinds a visitor is sent; `None` for the others.
pub fn live_event(json: &Json) -> Option<LiveEvent> {
    let conversation_id = json.int("conversation_id");
    let role = || Role::parse(&json.str("role"));
    Some(match json.str("type").as_str() {
        "message" => LiveEvent::Message { conversation_id, message: message(&json.obj("message")?) },
        "message_updated" => LiveEvent::MessageUpdated { conversation_id, message: message(&json.obj("message")?) },
        "reaction" => LiveEvent::Reaction {
            conversation_id,
            message_id: json.int("message_id"),
            emoji: json.str("emoji"),
            role: role()?,
            user_id: json.opt_int("user_id"),
            added: json.bool("added"),
            count: json.int("count"),
        },
        "typing" => {
            LiveEvent::Typing { conversation_id, role: role()?, typing: json.bool("typing"), author_name: json.opt_str("author_name") }
        }
        "mode" => LiveEvent::Mode { conversation_id, mode: Mode::parse(&json.str("mode"))?, author_name: json.opt_str("author_name") },
        "read" => LiveEvent::Read { conversation_id, role: role()?, seq: json.int("seq") },
        "status" => LiveEvent::Status { conversation_id, status: Status::parse(&json.str("status"))? },
        _ => return None,
    })
}

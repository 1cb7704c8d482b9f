//! The bench's reference room in Rust: `bench/baseline/room.js` written
//! with workers-rs, compiled to wasm as EdgeChat's worker is (the same
//! `worker` crate, wasm-bindgen, release profile, small std and `wasm-opt
//! -Oz`: `xtask::build::rust_room`). `cargo xtask bench live` runs it
//! beside the JavaScript room and prints it under each pair: what the
//! language and its runtime glue cost on the same transport, so that the
//! rest of EdgeChat's time is its own work (authentication, D1, the Room's
//! protocol, the Inbox).
//!
//! Routes, as the JavaScript room's, storing nothing and checking nobody:
//! - `GET /health`: a plain request, no Durable Object;
//! - `POST /room/send`: broadcasts the body, answers 201;
//! - `GET /room/events`: an SSE subscription;
//! - `GET /room/ws`: a hibernating WebSocket subscription; a text message broadcasts.
//!
//! And two more, the least a product that authenticates and persists
//! before it broadcasts does, laid out as EdgeChat's operator send is:
//! - `POST /room/send-stored`: the worker reads one D1 row (a session
//!   check's stand-in) before it calls the room, and the room inserts the
//!   body into D1 before it broadcasts it; answers 201;
//! - `POST /room/send-local`: the same D1 read, then the room inserts the
//!   body into its own SQLite storage (Durable Object SQLite, whose output
//!   gate holds the 201 and the WebSocket sends until the write is
//!   durable; the SSE frames, pulled from a stream, are not gated)
//!   instead of D1;
//! - `POST /room/send-durable`: no D1 call at all, the least a room that
//!   authenticates and persists can do: the worker checks the bearer
//!   token's HMAC-SHA256 ([`TOKEN_KEY`], as an access JWT is checked: no
//!   read), and the room writes the body to its own SQLite and waits for
//!   the write to be durable (`storage.sync()`) before it broadcasts, so
//!   that no SSE frame carries a message that could still be lost.

use std::cell::{Cell, RefCell};

use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::StreamExt;
use worker::{
    durable_object, event, Context, D1Database, DurableObject, Env, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

/// The one room (`idFromName("bench")`): its SSE subscribers here, its
/// sockets in the runtime (hibernation API).
#[durable_object]
pub struct Room {
    state: State,
    env: Env,
    streams: RefCell<Vec<UnboundedSender<Vec<u8>>>>,
    /// Whether the room made its own `messages` table (`/room/send-local`).
    local_schema: Cell<bool>,
}

thread_local! {
    /// Whether this isolate made the tables of `/room/send-stored`.
    static SCHEMA: Cell<bool> = const { Cell::new(false) };
}

/// The D1 binding `DB`, its two tables made on the isolate's first use:
/// `sessions` (one row, id 1) and `messages`.
async fn database(env: &Env) -> Result<D1Database> {
    let db = env.d1("DB")?;
    if !SCHEMA.get() {
        db.batch(vec![
            db.prepare("CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY)"),
            db.prepare("INSERT OR IGNORE INTO sessions (id) VALUES (1)"),
            db.prepare("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"),
        ])
        .await?;
        SCHEMA.set(true);
    }
    Ok(db)
}

impl Room {
    /// Sends `text` to every socket and, as one SSE `data:` frame encoded
    /// once, to every stream; a stream whose client left is dropped.
    fn broadcast(&self, text: &str) {
        for ws in self.state.get_websockets() {
            let _ = ws.send_with_str(text);
        }
        let frame = format!("data: {text}\n\n").into_bytes();
        self.streams.borrow_mut().retain(|stream| stream.unbounded_send(frame.clone()).is_ok());
    }
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        Room { state, env, streams: RefCell::new(Vec::new()), local_schema: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        if path == "/room/send" && req.method() == Method::Post {
            self.broadcast(&req.text().await?);
            return json(r#"{"ok":true}"#, 201);
        }
        if path == "/room/send-stored" && req.method() == Method::Post {
            let text = req.text().await?;
            let db = database(&self.env).await?;
            db.prepare("INSERT INTO messages (body) VALUES (?1)").bind(&[text.as_str().into()])?.run().await?;
            self.broadcast(&text);
            return json(r#"{"ok":true}"#, 201);
        }
        if path == "/room/send-local" && req.method() == Method::Post {
            let text = req.text().await?;
            let sql = self.state.storage().sql();
            if !self.local_schema.get() {
                sql.exec("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", None)?;
                self.local_schema.set(true);
            }
            sql.exec("INSERT INTO messages (body) VALUES (?)", vec![text.clone().into()])?;
            self.broadcast(&text);
            return json(r#"{"ok":true}"#, 201);
        }
        if path == "/room/send-durable" && req.method() == Method::Post {
            let text = req.text().await?;
            let storage = self.state.storage();
            let sql = storage.sql();
            if !self.local_schema.get() {
                sql.exec("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", None)?;
                self.local_schema.set(true);
            }
            sql.exec("INSERT INTO messages (body) VALUES (?)", vec![text.clone().into()])?;
            storage.sync().await?;
            self.broadcast(&text);
            return json(r#"{"ok":true}"#, 201);
        }
        if path == "/room/events" {
            let (tx, rx) = unbounded::<Vec<u8>>();
            let _ = tx.unbounded_send(b"data: subscribed\n\n".to_vec());
            self.streams.borrow_mut().push(tx);
            let mut response = Response::from_stream(rx.map(Ok::<Vec<u8>, worker::Error>))?;
            response.headers_mut().set("content-type", "text/event-stream")?;
            response.headers_mut().set("cache-control", "no-cache")?;
            return Ok(response);
        }
        if path == "/room/ws" && req.headers().get("upgrade")?.as_deref() == Some("websocket") {
            let pair = WebSocketPair::new()?;
            self.state.accept_web_socket(&pair.server);
            return Response::from_websocket(pair.client);
        }
        Response::error("not found", 404)
    }

    async fn websocket_message(&self, _ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        match message {
            WebSocketIncomingMessage::String(text) => self.broadcast(&text),
            WebSocketIncomingMessage::Binary(bytes) => self.broadcast(&String::from_utf8_lossy(&bytes)),
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        // Echo the close so the socket completes its closing handshake.
        let code = if code == 1005 || code == 1006 { 1000 } else { code as u16 };
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }

    /// A socket that failed is gone; the room goes on (the default handler panics).
    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

/// A row of `sessions`.
#[derive(serde::Deserialize)]
struct Session {
    #[allow(dead_code)]
    id: i64,
}

/// The key of `/room/send-durable`'s bearer token: the token is
/// `{subject}.{hex HMAC-SHA256(TOKEN_KEY, subject)}`; the bench signs `bench`.
pub const TOKEN_KEY: &[u8] = b"edgechat-bench-rust-room";

/// Whether `token` is `{subject}.{hex signature}` with a good signature (compared in constant time).
fn token_is_valid(token: &str) -> bool {
    use hmac::Mac;
    let Some((subject, signature)) = token.rsplit_once('.') else { return false };
    let Ok(signature) = hex::decode(signature) else { return false };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(TOKEN_KEY).expect("any key length");
    mac.update(subject.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

/// A JSON answer of `body` with `status`.
fn json(body: &str, status: u16) -> Result<Response> {
    let mut response = Response::ok(body)?.with_status(status);
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    if path == "/health" {
        return json(r#"{"status":"ok"}"#, 200);
    }
    if path == "/room/send-stored" || path == "/room/send-local" {
        let db = database(&env).await?;
        if db.prepare("SELECT id FROM sessions WHERE id = ?1").bind(&[1.into()])?.all().await?.results::<Session>()?.is_empty() {
            return Response::error("no session", 401);
        }
    }
    if path == "/room/send-durable" {
        let token = req.headers().get("authorization")?.unwrap_or_default();
        if !token_is_valid(token.strip_prefix("Bearer ").unwrap_or_default()) {
            return Response::error("bad token", 401);
        }
    }
    if path.starts_with("/room/") {
        return env.durable_object("ROOM")?.id_from_name("bench")?.get_stub()?.fetch_with_request(req).await;
    }
    Response::error("not found", 404)
}

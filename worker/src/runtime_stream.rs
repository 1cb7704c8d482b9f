//! Streams the runtime made, handed back to it untouched.
//!
//! A visitor's live stream and the answer to a visitor message are SSE
//! streams a [`crate::room::Room`] writes. The route that asked for one
//! answers it as it is: axum carries an empty body and, beside it, the
//! Room's stream ([`RuntimeStream`]); the worker's entry point
//! ([`into_runtime`]) gives the runtime a response with that stream as its
//! body. Without this, workers-rs reads every frame into wasm (its `Body`)
//! and writes it out again through a second stream: two crossings and a
//! few promise turns per frame and per subscriber, which a CPU profile of
//! the live path with 100 subscribers showed as the largest single cost.

use axum::http::StatusCode;
use worker::send::SendWrapper;

/// The body of a response, a stream the runtime made. `Clone` only because
/// `http`'s extensions require it; a response is built from it once.
#[derive(Clone)]
pub struct RuntimeStream(SendWrapper<web_sys::ReadableStream>);

/// The `Content-Type` of every SSE stream the worker answers.
pub const SSE_CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";
/// The `Cache-Control` of every SSE stream: never stored, never transformed
/// (a proxy that buffers or compresses would hold the events back).
pub const SSE_CACHE_CONTROL: &str = "no-cache, no-transform";

/// A live channel's answer to `method`: the Room's stream that `open`
/// answers, passed through ([`pass_through`]); for `HEAD`, the status and
/// headers of that stream without `open` ever being awaited. The Room is
/// then never asked, so a `HEAD` takes none of the conversation's live
/// stream slots (README, "Resource caps"); axum answers a `GET` handler's
/// `HEAD` with the body dropped, which would have subscribed it. `open` is
/// boxed so that one copy of this serves both channels (a generic one cost
/// 0.8 KiB of the upload's gzip).
pub async fn live_channel(
    method: &axum::http::Method,
    open: futures::future::LocalBoxFuture<'_, crate::error::ApiResult<web_sys::Response>>,
) -> crate::error::ApiResult<axum::response::Response> {
    if method != axum::http::Method::HEAD {
        return Ok(pass_through(open.await?));
    }
    let mut answer = axum::response::Response::new(axum::body::Body::empty());
    let headers = answer.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(SSE_CONTENT_TYPE));
    headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static(SSE_CACHE_CONTROL));
    Ok(answer)
}

/// `response`, a Durable Object's answer, as an axum response with its
/// status and headers whose body passes through untouched (see the module).
/// Middleware still sees and may change the status and headers.
pub fn pass_through(raw: web_sys::Response) -> axum::response::Response {
    let mut answer = axum::response::Response::new(axum::body::Body::empty());
    *answer.status_mut() = StatusCode::from_u16(raw.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *answer.headers_mut() = (&worker::Headers(raw.headers())).into();
    if let Some(stream) = raw.body() {
        answer.extensions_mut().insert(RuntimeStream(SendWrapper::new(stream)));
    }
    answer
}

/// The runtime's response for what the router answered: a
/// [`pass_through`] response gets its stream back as its body; a body that
/// is whole already (every JSON, text or empty answer: axum's `Full`) is
/// handed over as bytes ([`whole`]); any other (a file streamed from R2, a
/// WebSocket upgrade, a response with extensions) is converted by
/// workers-rs, which makes every body a stream the runtime pulls from wasm
/// chunk by chunk (a `ReadableStream` over the body, a promise turn per
/// pull): seen in a CPU profile on every answer of the live path.
pub fn into_runtime(mut response: axum::response::Response) -> worker::Result<web_sys::Response> {
    if let Some(RuntimeStream(stream)) = response.extensions_mut().remove::<RuntimeStream>() {
        // `new Response(stream, init)`: the binding's name says buffer
        // source, but any body the runtime takes passes through it.
        return runtime_response(&response, Some(&stream.0.into()));
    }
    if response.extensions().is_empty() {
        let body = std::mem::take(response.body_mut());
        match whole(body) {
            Ok(bytes) => {
                let bytes = (!bytes.is_empty()).then(|| js_sys::Uint8Array::from(&bytes[..]));
                return runtime_response(&response, bytes.as_ref().map(|b| b.as_ref()));
            }
            Err(body) => *response.body_mut() = body,
        }
    }
    worker::IntoResponse::into_raw(response).map_err(|e| worker::Error::RustError(e.into().to_string()))
}

/// The bytes of `body` when it is whole already: its one frame is ready at
/// the first poll and it ends with it. Else the body as it was (a frame
/// taken by that poll goes back in front of the rest), to be streamed.
fn whole(mut body: axum::body::Body) -> Result<axum::body::Bytes, axum::body::Body> {
    use axum::body::HttpBody;
    use futures::StreamExt;
    if body.is_end_stream() {
        return Ok(axum::body::Bytes::new());
    }
    let waker = futures::task::noop_waker();
    let mut context = std::task::Context::from_waker(&waker);
    // What the poll took goes back in front of the rest: one stream type
    // for both cases (each type costs its own copy of axum's stream body).
    let refill = |first: Result<axum::body::Bytes, axum::Error>, rest: axum::body::Body| {
        axum::body::Body::from_stream(futures::stream::iter([first]).chain(rest.into_data_stream()))
    };
    match std::pin::Pin::new(&mut body).poll_frame(&mut context) {
        std::task::Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
            Ok(first) if body.is_end_stream() => Ok(first),
            Ok(first) => Err(refill(Ok(first), body)),
            // Trailers, which no EdgeChat answer has: nothing to send.
            Err(_) => Ok(axum::body::Bytes::new()),
        },
        std::task::Poll::Ready(None) => Ok(axum::body::Bytes::new()),
        std::task::Poll::Ready(Some(Err(e))) => Err(refill(Err(e), axum::body::Body::empty())),
        std::task::Poll::Pending => Err(body),
    }
}

/// The runtime's response with the status and headers of `response` and
/// `body`. Not `worker::Headers::from(&HeaderMap)`, which panics on a
/// value that is not UTF-8: such a value is an error (500) here. The
/// runtime's constructor refuses a body for a status that has none (an
/// error, not a panic).
fn runtime_response(response: &axum::response::Response, body: Option<&js_sys::Object>) -> worker::Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in response.headers() {
        let value = std::str::from_utf8(value.as_bytes()).map_err(|_| worker::Error::RustError("a header is not UTF-8".into()))?;
        headers.append(name.as_str(), value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status().as_u16());
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_buffer_source_and_init(body, &init)?)
}

/// A Durable Object's stub as the runtime has it, to call its `fetch`
/// without workers-rs's `Request`/`Response` wrappers.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    type ObjectStub;
    #[wasm_bindgen(method, catch)]
    fn fetch(this: &ObjectStub, url: &str, init: &web_sys::RequestInit) -> Result<js_sys::Promise, wasm_bindgen::JsValue>;
}

/// `POST`s `body` to the Durable Object `stub` at `url` (the host is never
/// resolved: the stub routes it) and answers the runtime's response, whose
/// body is read with [`text`] or passed through ([`pass_through`]).
pub async fn post(stub: worker::Stub, url: &str, body: &str) -> worker::Result<web_sys::Response> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    let promise = stub.into_rpc::<ObjectStub>().fetch(url, &init)?;
    Ok(wasm_bindgen::JsCast::dyn_into(wasm_bindgen_futures::JsFuture::from(promise).await?)?)
}

/// A `POST` of `body` to `url` with `headers`, for the runtime's `fetch`
/// (`worker::Fetch::Request`); with `follow_redirects` false a 3xx is the
/// answer (`redirect: "manual"`). Built on web-sys's `RequestInit`:
/// workers-rs's own converts its `cf` properties into an object for every
/// request, 10.7 KB of the worker's upload for options EdgeChat never sets
/// (issue 16). Errors: a URL the runtime's `Request` refuses.
pub fn post_request(
    url: &str,
    headers: &worker::Headers,
    body: &wasm_bindgen::JsValue,
    follow_redirects: bool,
) -> worker::Result<worker::Request> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers.0);
    init.set_body(body);
    if !follow_redirects {
        init.set_redirect(web_sys::RequestRedirect::Manual);
    }
    Ok(web_sys::Request::new_with_str_and_init(url, &init)?.into())
}

/// The body of a runtime response as text, read by the runtime in one call.
/// workers-rs's `Response::text` reads a stream body chunk by chunk through
/// wasm-streams (a reader, a promise turn per chunk, `releaseLock`), which
/// a CPU profile of the live path showed on every Room and Inbox answer.
pub async fn text(response: &web_sys::Response) -> worker::Result<String> {
    let text = wasm_bindgen_futures::JsFuture::from(response.text()?).await?;
    text.as_string().ok_or_else(|| worker::Error::RustError("a response body is not text".into()))
}

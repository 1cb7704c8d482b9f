//! Image upload from the widget (`POST /api/v1/chat/upload-image`, seed 001)
//! with `XMLHttpRequest`, which reports upload progress (fetch does not).

use edgechat_shared::api::uploads::UploadResponse;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

use crate::api::Api;
use crate::wire::{self, Json};

/// Uploads `file` for `session_id`; `on_progress(percent)` while it goes
/// (0 to 99: the bytes sent are not yet the file stored), then `on_done`
/// with the stored upload or the refusal's message.
pub fn upload_image(
    api: &Api,
    session_id: &str,
    file: &File,
    on_progress: impl Fn(u32) + 'static,
    on_done: impl FnOnce(Result<UploadResponse, String>) + 'static,
) -> Result<(), JsValue> {
    let form = FormData::new()?;
    form.append_with_str("site_key", &api.site_key)?;
    form.append_with_str("session_id", session_id)?;
    form.append_with_blob_and_filename("image", file, &file.name())?;
    let xhr = XmlHttpRequest::new()?;
    xhr.open("POST", &api.url("upload-image", &[("site_key", &api.site_key)]))?;
    let progress = Closure::<dyn Fn(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            on_progress(((event.loaded() / event.total() * 100.0) as u32).min(99));
        }
    });
    xhr.upload()?.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    let request = xhr.clone();
    let done = Closure::once(move || {
        let text = request.response_text().ok().flatten().unwrap_or_default();
        let status = request.status().unwrap_or(0);
        let parsed = Json::parse(&text);
        let result = match parsed {
            Some(body) if (200..300).contains(&status) => Ok(wire::upload(&body)),
            // The error envelope's `message`.
            Some(body) if body.opt_str("message").is_some() => Err(body.str("message")),
            _ => Err(["The upload failed (HTTP ", &status.to_string(), ")"].concat()),
        };
        on_done(result);
    });
    xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
    xhr.send_with_opt_form_data(Some(&form))?;
    // Both handlers live until the request ends; leaking them is the wasm-bindgen way.
    progress.forget();
    done.forget();
    Ok(())
}

/// Reads `file` as a `data:` URL for its preview and calls `on_ready` with
/// it: a strict Content-Security-Policy's `img-src <worker> data:` (README)
/// allows `data:` images but not the `blob:` URLs of `URL.createObjectURL`.
/// The image is at most the upload limit (seed 001), so the copy is small.
pub fn preview(file: &File, on_ready: impl FnOnce(String) + 'static) {
    let Ok(reader) = web_sys::FileReader::new() else { return };
    let read = reader.clone();
    let done = Closure::once(move || {
        if let Some(url) = read.result().ok().and_then(|r| r.as_string()) {
            on_ready(url);
        }
    });
    reader.set_onload(Some(done.as_ref().unchecked_ref()));
    if reader.read_as_data_url(file).is_ok() {
        // The handler lives until the read ends.
        done.forget();
    }
}

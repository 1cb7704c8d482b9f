//! `POST /api/v1/chat/upload-image` (seed 001), `POST /api/v1/chat/upload-file`
//! and `GET /api/v1/chat/files/{id}` (seed 003, "Files"): files go to R2
//! under random, owner-tagged keys after the allow-list check by magic bytes
//! (`edgechat_shared::upload`), and come back through the worker with the
//! sniffed `Content-Type`, `X-Content-Type-Options: nosniff`, and a signed,
//! expiring URL for fetchers that send no credentials.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Json;
use edgechat_shared::api::uploads::{Attachment, FileQuery, UploadResponse};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::{ErrorBody, FieldError};
use edgechat_shared::upload::{self, FileKind, Refusal, DEFAULT_MAX_FILES_PER_MSG, DEFAULT_MAX_FILE_MB};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use worker::{Env, FormEntry, HttpMetadata};

use super::{load_visitor, Caller, Limit};
use crate::auth::signing::{file_url, Purpose};
use crate::auth::{now_secs, random_hex};
use crate::db::sites::SiteRow;
use crate::db::uploads::{self as upload_db, NewUpload};
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::openapi::{FileBytes, FileUpload, ImageUpload};
use crate::routes::AppState;

/// The R2 binding (`[[r2_buckets]] binding = "FILES"`).
pub(crate) fn bucket(env: &Env) -> worker::Result<worker::Bucket> {
    env.bucket("FILES")
}

/// Deletes R2 objects `keys` (the `FILES` bucket), 128 keys a call (the
/// binding's `delete_multiple` limit is 1,000).
pub(crate) async fn delete_files(env: &Env, keys: &[String]) -> worker::Result<()> {
    let bucket = bucket(env)?;
    for chunk in keys.chunks(128) {
        bucket.delete_multiple(chunk.to_vec()).await?;
    }
    Ok(())
}

/// How long an upload no message holds is kept, in seconds: a day (the
/// widget and the API attach an upload to the message it was made for
/// within moments), unless the var `UNATTACHED_UPLOAD_SECONDS` says
/// otherwise (tests lower it).
pub const UNATTACHED_UPLOAD_SECONDS: i64 = 24 * 60 * 60;

/// Deletes up to [`db::uploads::SWEEP_BATCH`] uploads that no message holds
/// and that are older than [`UNATTACHED_UPLOAD_SECONDS`]: files uploaded
/// and never sent (anyone may upload through the public widget API; they
/// must not stay in R2 for good at the site owner's cost), and files of
/// messages deleted since. Rows first, then their objects (as a deleted
/// conversation's files go): a failure between the two leaves objects no
/// row names, never a row whose file is gone. Runs with the bus sweep
/// ([`crate::events::sweep`]).
pub async fn sweep_unattached(env: &Env) -> worker::Result<()> {
    let seconds = crate::events::seconds_var(env, "UNATTACHED_UPLOAD_SECONDS", UNATTACHED_UPLOAD_SECONDS);
    let keys = db::uploads::delete_unattached(&db::database(env)?, seconds).await?;
    delete_files(env, &keys).await
}

/// A numeric var of `wrangler.toml` (`[vars]`), or `default`.
fn var_or(env: &Env, name: &str, default: u64) -> u64 {
    env.var(name).ok().and_then(|v| v.to_string().parse().ok()).unwrap_or(default)
}

/// The size cap in bytes (`MAX_FILE_MB`, default 10).
pub(crate) fn max_bytes(env: &Env) -> u64 {
    var_or(env, "MAX_FILE_MB", DEFAULT_MAX_FILE_MB) * 1024 * 1024
}

/// The attachment cap per message (`MAX_FILES_PER_MSG`, default 10).
pub fn max_files(env: &Env) -> usize {
    var_or(env, "MAX_FILES_PER_MSG", DEFAULT_MAX_FILES_PER_MSG as u64) as usize
}

pub(crate) fn refusal(refused: Refusal) -> ApiError {
    match refused {
        Refusal::TooLarge(max) => ApiError::payload_too_large(format!("Files may be at most {} MiB", max / 1024 / 1024)),
        Refusal::Unsupported(message) => ApiError::unsupported_media_type(message),
    }
}

/// [`file_url`] of `site`'s upload `upload_id`, from now.
pub fn signed_url(site: &SiteRow, upload_id: i64) -> String {
    file_url(&site.identity_secret, upload_id, now_secs())
}

pub(crate) fn form_text(form: &worker::FormData, name: &str) -> Option<String> {
    match form.get(name) {
        Some(FormEntry::Field(value)) => Some(value),
        _ => None,
    }
}

/// Reads a request body of at most `cap` bytes as it streams in; 413 as
/// soon as it passes the cap (a chunked body declares no length, so it is
/// never buffered whole first), 400 when it cannot be read.
pub(crate) async fn read_capped(body: Body, cap: u64, too_large: impl FnOnce() -> ApiError) -> ApiResult<Bytes> {
    match Limited::new(body, usize::try_from(cap).unwrap_or(usize::MAX)).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(too_large()),
        Err(err) => Err(ApiError::bad_request(format!("The body could not be read: {err}"))),
    }
}

/// Parses a multipart body already read (with its `Content-Type`, which
/// carries the boundary) with the runtime's `FormData` parser; 400 when it
/// is not `multipart/form-data`.
pub(crate) async fn parse_form(content_type: &str, body: &[u8]) -> ApiResult<worker::FormData> {
    let not_multipart = || ApiError::bad_request("The body is not multipart/form-data");
    let headers = worker::Headers::new();
    headers.set("content-type", content_type).map_err(|_| not_multipart())?;
    let mut request =
        crate::runtime_stream::post_request("https://upload.invalid/", &headers, &js_sys::Uint8Array::from(body).into(), true)?;
    request.form_data().await.map_err(|_| not_multipart())
}

/// Reads the multipart body (capped as it streams), checks the file, stores
/// it; shared by both upload routes.
async fn upload(
    state: &AppState,
    caller: &Caller,
    request: Request,
    field: &str,
    allowed: fn(FileKind) -> bool,
) -> ApiResult<Json<UploadResponse>> {
    // The site key is inside the body: before a body of up to the cap is
    // read, the client address alone is counted (20 a minute, whatever site).
    super::rate_limit(&state.env, &caller.headers, Limit::Write("upload-body"), "*").await?;
    let max = max_bytes(&state.env);
    let cap = upload::max_body_bytes(max);
    let too_large = || refusal(Refusal::TooLarge(max));
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = read_capped(request.into_body(), cap, too_large).await?;
    let form = parse_form(&content_type, &body).await?;
    drop(body);
    let site_key = form_text(&form, "site_key").unwrap_or_default();
    let session_id = form_text(&form, "session_id").unwrap_or_default();
    let visitor = load_visitor(&state.env, caller, Limit::Write("upload"), &site_key, &session_id).await?;
    let Some(FormEntry::File(file)) = form.get(field) else {
        return Err(FieldError::new("file", format!("the multipart field '{field}' with a file is required")).into());
    };
    let bytes = file.bytes().await?;
    let name: String = file.name().chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    let kind = upload::check(&bytes, &name, max, allowed).map_err(refusal)?;
    let db = db::database(&state.env)?;
    let visitor_id = match visitor.visitor_id {
        Some(id) => id,
        None => db::visitors::ensure_visitor(&db, visitor.site.id, &session_id).await?,
    };
    let key = format!("{}/{}/{visitor_id}/{}", visitor.site.account_id, visitor.site.id, random_hex(16));
    let size = bytes.len() as i64;
    let metadata = HttpMetadata { content_type: Some(kind.content_type().into()), ..Default::default() };
    bucket(&state.env)?.put(&key, bytes).http_metadata(metadata).execute().await?;
    let new = NewUpload { site_id: visitor.site.id, visitor_id, r2_key: &key, content_type: kind.content_type(), size, name: &name };
    let id = upload_db::insert_upload(&db, &new).await?;
    Ok(Json(UploadResponse { success: true, id, url: signed_url(&visitor.site, id), content_type: kind.content_type().into(), size, name }))
}

/// Handles the `POST /api/v1/chat/upload-image` route (seed 001): multipart
/// fields `site_key`, `session_id` and the file `image`; JPEG, PNG, GIF or
/// WEBP by magic bytes. 415 other types and renamed or polyglot files, 413
/// over `MAX_FILE_MB`, 422 without a file.
#[utoipa::path(
    post,
    path = "/api/v1/chat/upload-image",
    params(IdentityQuery),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored file: its `id` goes in the next message's `attachments`", body = UploadResponse),
        (status = 400, description = "`bad_request`: the body is not `multipart/form-data`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the file is over `MAX_FILE_MB` MiB (default 10)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the bytes are not an allowed type, or the file is renamed or a polyglot", body = ErrorBody),
        (status = 422, description = "`validation_error`: no file in the field, malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 upload bodies a minute from one client IP (counted before the body is read), or 20 uploads a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_upload_image(State(state): State<AppState>, caller: Caller, request: Request) -> ApiResult<Json<UploadResponse>> {
    upload(&state, &caller, request, "image", FileKind::is_chat_image).await
}

/// Handles the `POST /api/v1/chat/upload-file` route: as `upload-image`,
/// the file in field `file`, allowing also BMP, PDF, MP4 and plain text.
#[utoipa::path(
    post,
    path = "/api/v1/chat/upload-file",
    params(IdentityQuery),
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored file: its `id` goes in the next message's `attachments`", body = UploadResponse),
        (status = 400, description = "`bad_request`: the body is not `multipart/form-data`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the file is over `MAX_FILE_MB` MiB (default 10)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the bytes are not an allowed type, or the file is renamed or a polyglot", body = ErrorBody),
        (status = 422, description = "`validation_error`: no file in the field, malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 upload bodies a minute from one client IP (counted before the body is read), or 20 uploads a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_upload_file(State(state): State<AppState>, caller: Caller, request: Request) -> ApiResult<Json<UploadResponse>> {
    upload(&state, &caller, request, "file", |_| true).await
}

/// The file's bytes from R2 as a response with the sniffed type, `nosniff`
/// and the requested disposition (`inline` or `attachment`).
pub async fn serve(env: &Env, row_id: i64, disposition: &str) -> ApiResult<Response> {
    let db = db::database(env)?;
    let row = upload_db::upload(&db, row_id).await?.ok_or_else(|| ApiError::not_found("file"))?;
    let object = bucket(env)?.get(&row.r2_key).execute().await?.ok_or_else(|| ApiError::not_found("file"))?;
    let bytes = object.body().ok_or_else(|| ApiError::not_found("file"))?.bytes().await?;
    let disposition = if disposition == "attachment" { "attachment" } else { "inline" };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&row.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename=\"{}\"", row.name.replace(['\\', '\r', '\n'], "_"))) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Handles the `GET /api/v1/chat/files/{id}?exp=&t=&disposition=` route:
/// the file, for anyone holding a valid signed URL. 403 `forbidden` for a
/// wrong or expired signature.
#[utoipa::path(
    get,
    path = "/api/v1/chat/files/{id}",
    params(("id" = i64, Path, description = "Upload id"), FileQuery),
    responses(
        (status = 200, description = "The file, with its sniffed `Content-Type`", content_type = "application/octet-stream", body = FileBytes, headers(("Content-Disposition" = String, description = "`inline` or `attachment`, with the file name"), ("X-Content-Type-Options" = String, description = "`nosniff`"))),
        (status = 403, description = "`forbidden`: a wrong or expired signature", body = ErrorBody),
        (status = 404, description = "`not_found`: the file is gone", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn get_file(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    query: Result<Query<FileQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let refused = || ApiError::forbidden("This file link is invalid or has expired");
    // A link whose `exp` or `sig` does not parse is a wrong link: 403.
    let Ok(Query(query)) = query else { return Err(refused()) };
    if query.exp < now_secs() {
        return Err(refused());
    }
    let db = db::database(&state.env)?;
    let row = upload_db::upload(&db, id).await?.ok_or_else(refused)?;
    let payload = upload::signed_payload(id, query.exp);
    let valid = match row.site_id {
        Some(site_id) => {
            let site = db::sites::by_id(&db, site_id).await?.ok_or_else(refused)?;
            Purpose::FileLink.verify(&site.identity_secret, payload.as_bytes(), &query.t)
        }
        // An operator's file of an internal conversation: no site secret.
        None => Purpose::InternalFileLink.verify(&crate::auth::jwt::secret(&state.env)?, payload.as_bytes(), &query.t),
    };
    if !valid {
        return Err(refused());
    }
    serve(&state.env, row.id, query.disposition.as_deref().unwrap_or("inline")).await
}

/// The attachments of a new visitor message: each upload must be the
/// visitor's and not attached yet (422 otherwise), at most `MAX_FILES_PER_MSG`.
pub async fn attachments(env: &Env, site: &SiteRow, visitor_id: Option<i64>, ids: &[i64]) -> ApiResult<Vec<Attachment>> {
    if ids.len() > max_files(env) {
        return Err(FieldError::new("attachments", format!("at most {} attachments per message", max_files(env))).into());
    }
    let db = db::database(env)?;
    let mut out = Vec::new();
    for id in ids {
        let row = upload_db::upload(&db, *id).await?;
        let row = row
            .filter(|r| {
                r.visitor_id.is_some()
                    && r.visitor_id == visitor_id
                    && r.site_id == Some(site.id)
                    && r.message_id.is_none()
                    && !out.iter().any(|a: &Attachment| a.id == r.id)
            })
            .ok_or_else(|| FieldError::new("attachments", format!("upload {id} is not one of this visitor's unattached uploads")))?;
        out.push(Attachment { id: row.id, name: row.name, content_type: row.content_type, size: row.size, url: signed_url(site, row.id) });
    }
    Ok(out)
}

/// Most R2 objects listed and deleted per batch (R2's `list` page limit).
const DELETE_BATCH: u32 = 1000;

/// Most batches [`delete_site_files`] runs in one request (10,000 files):
/// two R2 operations each keep the request within the platform's
/// per-invocation limits.
const MAX_DELETE_BATCHES: usize = 10;

/// Deletes the R2 objects of site `site_id` of account `account_id` (keys
/// under `<account>/<site>/`), in batches of [`DELETE_BATCH`], at most
/// [`MAX_DELETE_BATCHES`]; a site with more files keeps the rest, logged.
/// Call it once the site is gone from D1, so that no new upload lands
/// under the prefix meanwhile.
pub async fn delete_site_files(env: &Env, account_id: i64, site_id: i64) -> worker::Result<()> {
    let bucket = bucket(env)?;
    let prefix = format!("{account_id}/{site_id}/");
    for _ in 0..MAX_DELETE_BATCHES {
        let listed = bucket.list().prefix(prefix.clone()).limit(DELETE_BATCH).execute().await?;
        let keys: Vec<String> = listed.objects().iter().map(|o| o.key()).collect();
        if keys.is_empty() {
            return Ok(());
        }
        bucket.delete_multiple(keys).await?;
        if !listed.truncated() {
            return Ok(());
        }
    }
    worker::console_error!(
        "site {site_id}: more than {} files; the rest stay in R2 under {prefix}",
        MAX_DELETE_BATCHES as u32 * DELETE_BATCH
    );
    Ok(())
}

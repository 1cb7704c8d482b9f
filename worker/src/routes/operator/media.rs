//! `/v1/chat/media…` (seed 002, "Media"): operators' files.
//!
//! The presigned flow for clients that upload large files directly:
//! `POST /v1/chat/media/upload-url` issues a short-lived (`MEDIA_URL_SECONDS`,
//! default 10 minutes), single-use URL; `PUT /v1/chat/media/{id}/upload?token=`
//! takes exactly one body of at most the declared size into R2 (the token is
//! the credential: only its SHA-256 is stored, compared in constant time);
//! `POST /v1/chat/media/{id}/confirm` checks the stored bytes with the same
//! code as visitor uploads (`edgechat_shared::upload::check`: magic bytes, the
//! allow-list, the name's extension) and also against the declared type, then
//! sends them as the caller's message through the conversation's Room.
//! Locally and by default the upload URL is this worker route; a deployment
//! with R2 S3 credentials could hand out an R2 presigned `PUT` URL instead
//! (README, "Operator media").
//!
//! `POST /v1/chat/media` takes a whole file in one multipart request (the
//! console's attach button); its `upload_id` goes in `attachments` of
//! `POST /v1/chat/messages/send`. Files are served by the signed, expiring
//! links of `GET /api/v1/chat/files/{id}`, which visitors' widgets use too.

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use edgechat_shared::api::conversations::ConversationSummary;
use edgechat_shared::api::media::{
    validate_filename, ConfirmMedia, ConfirmedMedia, MediaInfo, UploadUrl, UploadUrlRequest, DEFAULT_MEDIA_URL_SECONDS,
};
use edgechat_shared::api::uploads::{Attachment, FILE_URL_SECONDS};
use edgechat_shared::error::{ErrorBody, FieldError};
use edgechat_shared::upload::{self, FileKind, Refusal};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{D1Database, Env, FormEntry, HttpMetadata};

use crate::auth::{now_secs, random_hex, rfc3339, CurrentOperator};
use crate::db::conversations as conv_db;
use crate::db::media::{self as media_db, MediaRow, NewMedia};
use crate::db::messages::{self, Author, FileLinks};
use crate::db::uploads::{self as upload_db, NewOperatorUpload, UploadRow};
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::openapi::FileBytes;
use crate::room::{RoomContext, SendOperatorMessage};
use crate::routes::widget::uploads::{self as widget_uploads, bucket, max_bytes, refusal};
use crate::routes::{json_object, AppState};

/// Multipart body of `POST /v1/chat/media`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // described in the document, never built
pub struct MediaUpload {
    /// The conversation the file is for (visible to the caller).
    pub conversation_id: i64,
    /// The file: JPEG, PNG, GIF, WEBP, BMP, PDF, MP4 or plain text by its
    /// bytes, at most `MAX_FILE_MB` MiB (default 10); its name 1 to 255
    /// characters without `/`, `\` or control characters.
    pub file: FileBytes,
}

/// Query of `PUT /v1/chat/media/{id}/upload`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadToken {
    /// The single-use token of the upload URL (64 hex characters).
    #[serde(default)]
    #[param(required)]
    pub token: String,
}

/// Life of an upload URL in seconds: `MEDIA_URL_SECONDS` (1 to 3600), default 600.
fn url_seconds(env: &Env) -> i64 {
    env.var("MEDIA_URL_SECONDS")
        .ok()
        .and_then(|v| v.to_string().parse::<i64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .unwrap_or(DEFAULT_MEDIA_URL_SECONDS)
}

/// Lower-case hex SHA-256 of an upload token (what is stored, never the token).
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The caller's conversation `id` (visible to them), or 404.
async fn visible(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<ConversationSummary> {
    conv_db::summary(db, caller.id, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))
}

/// How the files of a conversation of site `site_id` are signed: the
/// site's identity secret ([`FileLinks::of`]), or for a conversation without
/// a site (internal) `JWT_SECRET` under its own label ([`FileLinks::internal`]).
pub async fn links_for(env: &Env, db: &D1Database, site_id: Option<i64>) -> ApiResult<FileLinks> {
    match site_id {
        Some(site_id) => {
            let site = db::sites::by_id(db, site_id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
            Ok(FileLinks::of(&site))
        }
        None => Ok(FileLinks::internal(&crate::auth::jwt::secret(env)?)),
    }
}

/// The R2 key of a new operator file of account `account_id`: under the
/// site's prefix for a visitor conversation (so deleting the site deletes
/// it), `<account>/ops/` for an internal one.
fn operator_key(account_id: i64, site_id: Option<i64>) -> String {
    match site_id {
        Some(site_id) => format!("{account_id}/{site_id}/ops/{}", random_hex(16)),
        None => format!("{account_id}/ops/{}", random_hex(16)),
    }
}

/// The wire form of media `row` stored as `upload`, links signed from now.
fn info(row: &MediaRow, upload: &UploadRow, links: &FileLinks) -> MediaInfo {
    let url = links.url(upload.id);
    MediaInfo {
        id: row.id,
        upload_id: upload.id,
        conversation_id: row.conversation_id,
        content_type: upload.content_type.clone(),
        size: upload.size,
        filename: upload.name.clone(),
        cdn_url: url.clone(),
        thumbnail_url: url,
        expires_at: rfc3339(now_secs() + FILE_URL_SECONDS),
    }
}

/// Handles the `POST /v1/chat/media/upload-url` route (seed 002): a
/// single-use URL to `PUT` one file of at most `size` bytes into the
/// caller's conversation, valid `MEDIA_URL_SECONDS` (default 600).
#[utoipa::path(
    post,
    path = "/v1/chat/media/upload-url",
    request_body = UploadUrlRequest,
    responses(
        (status = 201, description = "The upload URL: `PUT` the bytes to it once, then confirm", body = UploadUrl),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation visible to the caller", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: `size` is over `MAX_FILE_MB` MiB (default 10)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: `content_type` is not one visitors may upload", body = ErrorBody),
        (status = 422, description = "`validation_error`: an empty, over-long (255) or path-like `filename`, a `size` below 1", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_upload_url(
    State(state): State<AppState>,
    caller: CurrentOperator,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<UploadUrl>)> {
    let request: UploadUrlRequest = json_object(&body)?;
    validate_filename(&request.filename)?;
    let Some(kind) = FileKind::from_content_type(&request.content_type) else {
        return Err(ApiError::unsupported_media_type("This type of file is not accepted"));
    };
    if request.size < 1 {
        return Err(FieldError::new("size", "size must be at least 1 byte").into());
    }
    let max = max_bytes(&state.env);
    if request.size as u64 > max {
        return Err(refusal(Refusal::TooLarge(max)));
    }
    let db = db::database(&state.env)?;
    let conversation = visible(&db, &caller, request.conversation_id).await?;
    let token = random_hex(32);
    let key = operator_key(caller.account_id, conversation.site_id);
    let hash = token_hash(&token);
    let new = NewMedia {
        account_id: caller.account_id,
        conversation_id: conversation.id,
        operator_id: caller.id,
        filename: &request.filename,
        content_type: kind.content_type(),
        declared_size: request.size,
        r2_key: &key,
        token_hash: &hash,
        ttl_seconds: url_seconds(&state.env),
    };
    let row = media_db::insert_pending(&db, &new).await?;
    let upload_url = format!("/v1/chat/media/{}/upload?token={token}", row.id);
    let expires_at = row.expires_at.clone();
    Ok((StatusCode::CREATED, Json(UploadUrl { media_id: row.id, upload_url, expires_at })))
}

/// Handles the `PUT /v1/chat/media/{id}/upload?token=` route: the one body
/// of an upload URL, at most its declared size, stored in R2 as it is (the
/// bytes are checked at confirm). No bearer: the token is the credential.
/// A refused body (413) stores nothing and leaves the URL usable until it
/// expires; a stored one uses it up.
#[utoipa::path(
    put,
    path = "/v1/chat/media/{id}/upload",
    params(("id" = i64, Path, description = "Media id"), UploadToken),
    request_body(content = FileBytes, content_type = "application/octet-stream"),
    responses(
        (status = 204, description = "Stored; now confirm it"),
        (status = 400, description = "`bad_request`: the body could not be read", body = ErrorBody),
        (status = 403, description = "`forbidden`: a wrong token or media id, or a URL already used or expired", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the declared `size` (nothing is stored)", body = ErrorBody),
        (status = 422, description = "`validation_error`: an empty body", body = ErrorBody),
    ),
    security(("upload_token" = [])),
)]
#[worker::send]
pub async fn put_upload(
    State(state): State<AppState>,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    query: Result<Query<UploadToken>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> ApiResult<StatusCode> {
    let refused = || ApiError::forbidden("This upload URL is invalid");
    // A media id that is not a number is a wrong one, as the docs say: 403.
    let Ok(Path(id)) = id else { return Err(refused()) };
    let token = query.map(|Query(q)| q.token).unwrap_or_default();
    let db = db::database(&state.env)?;
    let row = media_db::by_id(&db, id).await?.ok_or_else(refused)?;
    let claimed = hex::decode(token_hash(&token)).unwrap_or_default();
    let stored = hex::decode(&row.token_hash).unwrap_or_default();
    if stored.is_empty() || !bool::from(claimed.ct_eq(&stored)) {
        return Err(refused());
    }
    let declared = row.declared_size as u64;
    let too_large = || ApiError::payload_too_large(format!("The body is over the declared size of {declared} bytes"));
    let length = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > declared) {
        return Err(too_large());
    }
    if !media_db::claim(&db, id).await? {
        return Err(ApiError::forbidden("This upload URL was already used or has expired"));
    }
    // Read as it streams and refused as soon as it passes the declared size
    // (never more than that is held, whatever `Content-Length` claims).
    let stored = async {
        let bytes = widget_uploads::read_capped(request.into_body(), declared, too_large).await?;
        if bytes.is_empty() {
            return Err(FieldError::new("body", "the body is empty").into());
        }
        let metadata = HttpMetadata { content_type: Some(row.content_type.clone()), ..Default::default() };
        bucket(&state.env)?.put(&row.r2_key, bytes.to_vec()).http_metadata(metadata).execute().await?;
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(err) = stored {
        media_db::release(&db, id).await?;
        return Err(err);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `POST /v1/chat/media/{id}/confirm` route (seed 002): checks
/// the stored bytes (the allow-list by magic bytes, the name's extension, and
/// the declared type), records the file, and sends it as a new message of
/// the caller with the optional `content`. Only the operator who asked for
/// the URL confirms it. Idempotent: confirming again answers the same file
/// and message (the message's client id is `media-<id>`).
#[utoipa::path(
    post,
    path = "/v1/chat/media/{id}/confirm",
    params(("id" = i64, Path, description = "Media id")),
    request_body(content = Option<ConfirmMedia>, description = "Optional text sent with the file"),
    responses(
        (status = 201, description = "The file and the message carrying it (the same on a repeated confirm)", body = ConfirmedMedia),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such media of the caller, or its conversation is not visible to them", body = ErrorBody),
        (status = 409, description = "`conflict`: nothing was uploaded to the URL yet, or the file was already sent in another message", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the bytes are not an allowed type, not the declared one, or the name claims another; the file and the media are deleted", body = ErrorBody),
        (status = 422, description = "`validation_error`: `content` over 10,000 characters", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_confirm(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ConfirmedMedia>)> {
    let confirm: ConfirmMedia = if body.iter().all(u8::is_ascii_whitespace) { ConfirmMedia::default() } else { json_object(&body)? };
    confirm.validate()?;
    let db = db::database(&state.env)?;
    let not_found = || ApiError::not_found("media");
    let row = media_db::of_account(&db, caller.account_id, id).await?.filter(|r| r.operator_id == caller.id).ok_or_else(not_found)?;
    let conversation = visible(&db, &caller, row.conversation_id).await?;
    let upload = match row.upload_id {
        Some(upload_id) => upload_db::upload(&db, upload_id).await?.ok_or_else(not_found)?,
        None => store_checked(&state.env, &db, &caller, &row, &conversation).await?,
    };
    let links = links_for(&state.env, &db, upload.site_id).await?;
    let client_id = format!("media-{id}");
    let author = Author::Operator { id: caller.id, name: &caller.display_name };
    let message = match upload.message_id {
        // Sent already: by this media's confirmation (answer it again), or
        // attached by the caller to a message of their own.
        Some(message_id) => match messages::by_client_id(&db, row.conversation_id, author, &client_id).await? {
            Some(sent) if sent.id == message_id => sent.to_chat_message(&links),
            _ => return Err(ApiError::conflict("This file was already sent in another message")),
        },
        None => {
            let attachment = Attachment {
                id: upload.id,
                name: upload.name.clone(),
                content_type: upload.content_type.clone(),
                size: upload.size,
                url: links.url(upload.id),
            };
            SendOperatorMessage {
                context: RoomContext { conversation_id: conversation.id, site_id: conversation.site_id, account_id: caller.account_id },
                content: confirm.content.unwrap_or_default(),
                author_id: caller.id,
                author_name: caller.display_name.clone(),
                client_message_id: Some(client_id),
                links: links.clone(),
                attachments: vec![attachment],
            }
            .call(&state.env)
            .await?
            .message
        }
    };
    Ok((StatusCode::CREATED, Json(ConfirmedMedia { media: info(&row, &upload, &links), message })))
}

/// Checks the bytes of pending media `row` and records them as an upload;
/// a refused file is deleted with its media row (415).
async fn store_checked(
    env: &Env,
    db: &D1Database,
    caller: &CurrentOperator,
    row: &MediaRow,
    conversation: &ConversationSummary,
) -> ApiResult<UploadRow> {
    if row.used_at.is_none() {
        return Err(ApiError::conflict("Nothing was uploaded to this media's URL yet"));
    }
    let bucket = bucket(env)?;
    let object = bucket.get(&row.r2_key).execute().await?;
    let Some(body) = object.as_ref().and_then(|o| o.body()) else {
        return Err(ApiError::conflict("Nothing was uploaded to this media's URL yet"));
    };
    let bytes = body.bytes().await?;
    let declared = FileKind::from_content_type(&row.content_type);
    let checked = upload::check(&bytes, &row.filename, max_bytes(env), |_| true).and_then(|kind| {
        if Some(kind) == declared {
            Ok(kind)
        } else {
            Err(Refusal::Unsupported(format!(
                "The file's contents ({}) are not the declared type {}",
                kind.content_type(),
                row.content_type
            )))
        }
    });
    let kind = match checked {
        Ok(kind) => kind,
        Err(refused) => {
            bucket.delete(&row.r2_key).await?;
            media_db::delete(db, row.id).await?;
            return Err(refusal(refused));
        }
    };
    let new = NewOperatorUpload {
        account_id: caller.account_id,
        site_id: conversation.site_id,
        operator_id: caller.id,
        r2_key: &row.r2_key,
        content_type: kind.content_type(),
        size: bytes.len() as i64,
        name: &row.filename,
    };
    let upload_id = upload_db::insert_operator_upload(db, &new).await?;
    media_db::confirm(db, row.id, upload_id).await?;
    upload_db::upload(db, upload_id).await?.ok_or_else(|| ApiError::internal("the recorded upload is gone"))
}

/// Handles the `GET /v1/chat/media/{id}` route (seed 002): a confirmed file
/// with signed, expiring links (`cdn_url`; `thumbnail_url` is the original
/// here). 404 for media of another account, of a conversation the caller
/// does not see, or not confirmed yet.
#[utoipa::path(
    get,
    path = "/v1/chat/media/{id}",
    params(("id" = i64, Path, description = "Media id")),
    responses(
        (status = 200, description = "The file's metadata and links", body = MediaInfo),
        (status = 404, description = "`not_found`: no such confirmed media visible to the caller", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_media(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<Json<MediaInfo>> {
    let db = db::database(&state.env)?;
    let not_found = || ApiError::not_found("media");
    let row = media_db::of_account(&db, caller.account_id, id).await?.ok_or_else(not_found)?;
    conv_db::summary(&db, caller.id, caller.account_id, row.conversation_id).await?.ok_or_else(not_found)?;
    let upload_id = row.upload_id.ok_or_else(not_found)?;
    let upload = upload_db::upload(&db, upload_id).await?.ok_or_else(not_found)?;
    let links = links_for(&state.env, &db, upload.site_id).await?;
    Ok(Json(info(&row, &upload, &links)))
}

/// Handles the `POST /v1/chat/media` route: one whole file in a multipart
/// body (fields `conversation_id` and `file`), checked as visitor uploads
/// are, stored as the caller's; send it with `attachments: [upload_id]` on
/// `POST /v1/chat/messages/send`.
#[utoipa::path(
    post,
    path = "/v1/chat/media",
    request_body(content = MediaUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The stored file", body = MediaInfo),
        (status = 400, description = "`bad_request`: the body is not `multipart/form-data`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation visible to the caller", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the file is over `MAX_FILE_MB` MiB (default 10)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the bytes are not an allowed type, or the name claims another", body = ErrorBody),
        (status = 422, description = "`validation_error`: no file, a missing or malformed `conversation_id`, a bad file name", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_media(
    State(state): State<AppState>,
    caller: CurrentOperator,
    request: Request,
) -> ApiResult<(StatusCode, Json<MediaInfo>)> {
    let max = max_bytes(&state.env);
    let cap = upload::max_body_bytes(max);
    let too_large = || refusal(Refusal::TooLarge(max));
    let length = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = widget_uploads::read_capped(request.into_body(), cap, too_large).await?;
    let form = widget_uploads::parse_form(&content_type, &body).await?;
    drop(body);
    let conversation_id = widget_uploads::form_text(&form, "conversation_id")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .ok_or_else(|| FieldError::new("conversation_id", "conversation_id must be a conversation id"))?;
    let Some(FormEntry::File(file)) = form.get("file") else {
        return Err(FieldError::new("file", "the multipart field 'file' with a file is required").into());
    };
    let name = file.name();
    validate_filename(&name)?;
    let db = db::database(&state.env)?;
    let conversation = visible(&db, &caller, conversation_id).await?;
    let bytes = file.bytes().await?;
    let kind = upload::check(&bytes, &name, max, |_| true).map_err(refusal)?;
    let key = operator_key(caller.account_id, conversation.site_id);
    let size = bytes.len() as i64;
    let metadata = HttpMetadata { content_type: Some(kind.content_type().into()), ..Default::default() };
    bucket(&state.env)?.put(&key, bytes).http_metadata(metadata).execute().await?;
    let new = NewOperatorUpload {
        account_id: caller.account_id,
        site_id: conversation.site_id,
        operator_id: caller.id,
        r2_key: &key,
        content_type: kind.content_type(),
        size,
        name: &name,
    };
    let upload_id = upload_db::insert_operator_upload(&db, &new).await?;
    let media = NewMedia {
        account_id: caller.account_id,
        conversation_id: conversation.id,
        operator_id: caller.id,
        filename: &name,
        content_type: kind.content_type(),
        declared_size: size,
        r2_key: &key,
        token_hash: "",
        ttl_seconds: 0,
    };
    let row = media_db::insert_confirmed(&db, &media, upload_id).await?;
    let upload = upload_db::upload(&db, upload_id).await?.ok_or_else(|| ApiError::internal("the recorded upload is gone"))?;
    let links = links_for(&state.env, &db, conversation.site_id).await?;
    Ok((StatusCode::CREATED, Json(info(&row, &upload, &links))))
}

/// The attachments of an operator message in a conversation of site
/// `site_id` (`None`: an internal conversation): each id an
/// upload the caller made (404 otherwise, so another operator's or
/// account's ids look like unknown ones: a teammate's unsent file of a
/// conversation the caller cannot see stays theirs), made for a conversation of the
/// same site (internal ones: none), not attached to a message yet, listed
/// once; at most `MAX_FILES_PER_MSG` (422 otherwise).
pub async fn operator_attachments(
    env: &Env,
    db: &D1Database,
    caller: &CurrentOperator,
    site_id: Option<i64>,
    links: &FileLinks,
    ids: &[i64],
) -> ApiResult<Vec<Attachment>> {
    let max = widget_uploads::max_files(env);
    if ids.len() > max {
        return Err(FieldError::new("attachments", format!("at most {max} attachments per message")).into());
    }
    let mut out: Vec<Attachment> = Vec::new();
    for id in ids {
        let row = upload_db::operator_upload(db, caller.account_id, caller.id, *id).await?.ok_or_else(|| ApiError::not_found("upload"))?;
        if row.message_id.is_some() || out.iter().any(|a| a.id == row.id) {
            return Err(FieldError::new("attachments", format!("upload {id} is already attached to a message")).into());
        }
        if row.site_id != site_id {
            return Err(FieldError::new("attachments", format!("upload {id} was made for a conversation of another site")).into());
        }
        out.push(Attachment { id: row.id, url: links.url(row.id), name: row.name, content_type: row.content_type, size: row.size });
    }
    Ok(out)
}

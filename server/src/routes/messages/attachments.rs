//! A message's attachments: their encrypted blobs, uploaded by the author after submitting,
//! read by the case's facilitators and the author.

use axum::Json;
use axum::body::Body as RawBody;
use axum::extract::{Path, State};
use ferry_crypto::Role;
use ferry_crypto::seal::AttachmentBlob;
use sqlx::Row;

use super::{load_message, load_readable};
use crate::auth::Caller;
use crate::db::{self, Tx, parsed};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, blobs, now};
use ferry_protocol::{Accepted, MessageState};

/// Uploads an attachment's encrypted blob (the author, after submitting the message).
#[utoipa::path(put, path = "/v1/cases/{case_id}/messages/{message_id}/attachments/{idx}", tag = "messages",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id"),
        ("idx" = u64, Path, description = "Attachment number, from 0")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn upload_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id, idx)): Path<(String, String, u64)>,
    body: RawBody,
) -> ApiResult<Json<Accepted>> {
    let stored = load_message(&app.pool, &case_id, &message_id).await?;
    // The author uploads, or the facilitator who entered it for a person on paper.
    let sender = stored.summary.entered_by.as_ref();
    if sender.unwrap_or(&stored.summary.author) != caller.account_id.as_str() {
        return Err(ApiError::not_found("message"));
    }
    let blob = expected_blob(&app, &message_id, idx).await?;
    blobs::store(&app.config.blob_dir, &message_id, idx, &blob, body).await?;
    let mut tx = db::begin_write(&app.pool).await?;
    let newly = mark_stored(&mut tx, &message_id, idx).await?;
    if newly {
        sqlx::query(
            "UPDATE messages SET attachments_pending = attachments_pending - 1, \
             state = CASE WHEN attachments_pending = 1 THEN 'in_review' ELSE state END, updated_at = $1 \
             WHERE message_id = $2",
        )
        .bind(now())
        .bind(&message_id)
        .execute(&mut *tx)
        .await?;
    }
    let state: MessageState = parsed(
        &sqlx::query("SELECT state FROM messages WHERE message_id = $1")
            .bind(&message_id)
            .fetch_one(&mut *tx)
            .await?,
        0,
    )?;
    if newly && state == MessageState::InReview {
        let kind = crate::mail::Kind::ReviewWaiting;
        crate::mail::outbox::notify_role(
            &mut tx,
            &app.config,
            &case_id,
            Role::Facilitator,
            kind,
            now(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(Accepted {
        event: 0,
        case_state: None,
        id: Some(message_id),
        state: Some(state.to_string()),
        mailed: false,
    }))
}

pub(crate) async fn expected_blob(
    app: &AppState,
    owner: &str,
    idx: u64,
) -> ApiResult<AttachmentBlob> {
    let row = sqlx::query("SELECT sha256, size FROM blobs WHERE owner_id = $1 AND idx = $2")
        .bind(owner)
        .bind(idx as i64)
        .fetch_optional(&app.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let sha: String = row.try_get(0)?;
    Ok(AttachmentBlob {
        sha256: ferry_crypto::Sha256Hash::from_hex(&sha).map_err(ApiError::internal)?,
        size: row.try_get::<i64, _>(1)? as u64,
    })
}

/// Marks a blob stored; true if it was not already.
pub(crate) async fn mark_stored(tx: &mut Tx<'_>, owner: &str, idx: u64) -> ApiResult<bool> {
    Ok(
        sqlx::query("UPDATE blobs SET stored = 1 WHERE owner_id = $1 AND idx = $2 AND stored = 0")
            .bind(owner)
            .bind(idx as i64)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Downloads an attachment's encrypted blob (the case's facilitators and the author).
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages/{message_id}/attachments/{idx}", tag = "messages",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id"),
        ("idx" = u64, Path, description = "Attachment number, from 0")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn download_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id, idx)): Path<(String, String, u64)>,
) -> ApiResult<RawBody> {
    load_readable(&app, &caller, &case_id, &message_id).await?;
    blobs::read(&app.config.blob_dir, &message_id, idx).await
}

//! Deliveries: what facilitators have approved for a person (a forwarded message, or a
//! returned message's note), the recipient's signed read receipt, and forwarded attachments.
//! Nothing is served to a participant unless a facilitator's signed decision released it
//! while the case was active; once delivered it stays readable by its recipient, whatever
//! happens to the case later (a withdrawal, a pause, closing), while anything held stays held.

use axum::Json;
use axum::body::Body as RawBody;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ferry_crypto::actions::ReadReceipt;
use ferry_crypto::forward::Forward;
use ferry_crypto::{AccountId, Role, SignedStatement};
use sqlx::Row;

use crate::auth::Caller;
use crate::db::{self, parsed};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::intake::accept;
use crate::routes::messages::{expected_blob, mark_stored};
use crate::{AppState, blobs, cases, now};
use ferry_protocol::{Accepted, DeliveryDetail, DeliverySummary, StatementRequest};
use ferry_protocol::{DeliveryKind, DeliveryState, ErrorCode};

const SUMMARY_SQL: &str = "SELECT d.delivery_id, d.case_id, d.message_id, d.kind, m.kind, d.state, \
    d.recipient, d.created_at, d.statement, d.ciphertext, m.author, m.envelope \
    FROM deliveries d JOIN messages m ON m.message_id = d.message_id";

fn summary(row: &sqlx::any::AnyRow) -> ApiResult<DeliverySummary> {
    Ok(DeliverySummary {
        delivery_id: row.try_get(0)?,
        case_id: row.try_get(1)?,
        message_id: row.try_get(2)?,
        kind: parsed(row, 3)?,
        message_kind: parsed(row, 4)?,
        state: parsed(row, 5)?,
        recipient: row.try_get(6)?,
        created_at: row.try_get(7)?,
    })
}

/// What was delivered to the caller: released (or read), in any case state.
#[utoipa::path(get, path = "/v1/inbox", tag = "deliveries", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeliverySummary>)))]
pub async fn inbox(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<DeliverySummary>>> {
    let sql = format!(
        "{SUMMARY_SQL} WHERE d.recipient = $1 AND d.state IN ('released', 'read') \
         ORDER BY d.created_at, d.delivery_id"
    );
    let rows = sqlx::query(&sql)
        .bind(caller.account_id.as_str())
        .fetch_all(&app.pool)
        .await?;
    Ok(Json(rows.iter().map(summary).collect::<Result<_, _>>()?))
}

/// Who may fetch a delivery: its recipient once it is released, or a facilitator of the case.
async fn load_readable(
    app: &AppState,
    caller: &Caller,
    delivery_id: &str,
) -> ApiResult<sqlx::any::AnyRow> {
    let sql = format!("{SUMMARY_SQL} WHERE d.delivery_id = $1");
    let row = sqlx::query(&sql)
        .bind(delivery_id)
        .fetch_optional(&app.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let case_id: String = row.try_get(1)?;
    let recipient: String = row.try_get(6)?;
    let state: DeliveryState = parsed(&row, 5)?;
    let member = cases::member(&app.pool, &case_id, &caller.account_id).await?;
    match member {
        Some(m) if m.role == Role::Facilitator => Ok(row),
        Some(_)
            if recipient == caller.account_id.as_str()
                && matches!(state, DeliveryState::Released | DeliveryState::Read) =>
        {
            Ok(row)
        }
        _ => Err(ApiError::not_found("delivery")),
    }
}

/// A delivery with the signed decision, the sealed payload and the key cards needed to verify
/// it.
#[utoipa::path(get, path = "/v1/deliveries/{delivery_id}", tag = "deliveries", security(("bearer" = [])),
    params(("delivery_id" = String, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn get_delivery(
    State(app): State<AppState>,
    caller: Caller,
    Path(delivery_id): Path<String>,
) -> ApiResult<Json<DeliveryDetail>> {
    let row = load_readable(&app, &caller, &delivery_id).await?;
    let statement: Vec<u8> = row.try_get(8)?;
    let statement = SignedStatement::from_json(&statement).map_err(ApiError::internal)?;
    let ciphertext: Vec<u8> = row.try_get(9)?;
    let author: String = row.try_get(10)?;
    let envelope: Vec<u8> = row.try_get(11)?;
    let kind: DeliveryKind = parsed(&row, 3)?;
    let facilitator_card = app
        .key_cards
        .load(&app.pool, &statement.signer)
        .await?
        .ok_or_else(|| ApiError::internal("missing facilitator card"))?;
    // The card that verifies the original letter: its author's, or, for a person on paper,
    // that of the facilitator who entered it. A note returned to its author is the
    // facilitator's own.
    let original = SignedStatement::from_json(&envelope).map_err(ApiError::internal)?;
    let signer = match kind {
        DeliveryKind::Forward => original.signer.clone(),
        DeliveryKind::Return => AccountId::try_from(author).map_err(ApiError::internal)?,
    };
    let author_card = app
        .key_cards
        .load(&app.pool, &signer)
        .await?
        .ok_or_else(|| ApiError::internal("missing author card"))?;
    Ok(Json(DeliveryDetail {
        summary: summary(&row)?,
        statement,
        ciphertext: B64.encode(ciphertext),
        facilitator_card: facilitator_card.statement().clone(),
        author_card: author_card.statement().clone(),
        original_envelope: (kind == DeliveryKind::Forward).then_some(original),
    }))
}

/// The recipient's signed read receipt.
#[utoipa::path(post, path = "/v1/deliveries/{delivery_id}/receipt", tag = "deliveries", security(("bearer" = [])),
    params(("delivery_id" = String, Path, description = "Delivery id")), request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 403, body = ferry_protocol::ErrorBody)))]
pub async fn receipt(
    State(app): State<AppState>,
    caller: Caller,
    Path(delivery_id): Path<String>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let row = load_readable(&app, &caller, &delivery_id).await?;
    let recipient: String = row.try_get(6)?;
    if recipient != caller.account_id.as_str() {
        return Err(ApiError::new(
            ErrorCode::NotAddressee,
            "only the person it was delivered to can sign a receipt",
        ));
    }
    let case_id: String = row.try_get(1)?;
    let message_id: String = row.try_get(2)?;
    let ciphertext: Vec<u8> = row.try_get(9)?;
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    let r: ReadReceipt = accept(&mut tx, &caller, &req.statement).await?;
    if r.case_id.as_str() != case_id
        || r.message_id.as_str() != message_id
        || r.forwarded_sha256 != ferry_crypto::Sha256Hash::of(&ciphertext)
    {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the receipt is signed for something else",
        ));
    }
    let updated = sqlx::query(
        "UPDATE deliveries SET state = 'read', read_at = $1 WHERE delivery_id = $2 AND state = 'released'",
    )
    .bind(now)
    .bind(&delivery_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(ApiError::new(
            ErrorCode::AlreadyRead,
            "a receipt was already recorded for this delivery",
        ));
    }
    super::record(
        tx,
        &case_id,
        &req.statement,
        now,
        Some(delivery_id),
        Some(DeliveryState::Read.to_string()),
    )
    .await
}

/// Uploads a forwarded attachment, re-encrypted to the recipient (the forwarding facilitator).
#[utoipa::path(put, path = "/v1/deliveries/{delivery_id}/attachments/{idx}", tag = "deliveries",
    security(("bearer" = [])),
    params(("delivery_id" = String, Path, description = "Delivery id"), ("idx" = u64, Path, description = "Attachment number")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Accepted), (status = 400, body = ferry_protocol::ErrorBody)))]
pub async fn upload_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path((delivery_id, idx)): Path<(String, u64)>,
    body: RawBody,
) -> ApiResult<Json<Accepted>> {
    let row =
        sqlx::query("SELECT statement, case_id, recipient FROM deliveries WHERE delivery_id = $1")
            .bind(&delivery_id)
            .fetch_optional(&app.pool)
            .await?
            .ok_or_else(|| ApiError::not_found("delivery"))?;
    let statement: Vec<u8> = row.try_get(0)?;
    let statement = SignedStatement::from_json(&statement).map_err(ApiError::internal)?;
    if statement.signer != caller.account_id {
        return Err(ApiError::not_found("delivery"));
    }
    let _: Forward = serde_json::from_slice(&statement.body).map_err(ApiError::internal)?;
    let blob = expected_blob(&app, &delivery_id, idx).await?;
    blobs::store(&app.config.blob_dir, &delivery_id, idx, &blob, body).await?;
    let now = now();
    let mut tx = db::begin_write(&app.pool).await?;
    if mark_stored(&mut tx, &delivery_id, idx).await? {
        sqlx::query("UPDATE deliveries SET attachments_pending = attachments_pending - 1 WHERE delivery_id = $1")
            .bind(&delivery_id)
            .execute(&mut *tx)
            .await?;
    }
    let case_id: String = row.try_get(1)?;
    let recipient: String = row.try_get(2)?;
    let case_state = cases::load(&mut *tx, &case_id).await?.state;
    let next = cases::arriving(&mut *tx, case_state, &case_id, &recipient).await?;
    sqlx::query(
        "UPDATE deliveries SET state = $1, released_at = CASE WHEN $1 = 'released' THEN $2 ELSE NULL END \
         WHERE delivery_id = $3 AND state = 'uploading' AND attachments_pending = 0",
    )
    .bind(next.as_str())
    .bind(now)
    .bind(&delivery_id)
    .execute(&mut *tx)
    .await?;
    let released = sqlx::query(
        "SELECT recipient FROM deliveries WHERE delivery_id = $1 AND state = 'released' AND released_at = $2",
    )
    .bind(&delivery_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = released {
        let recipient: String = row.try_get(0)?;
        let kind = crate::mail::Kind::NewMessage;
        crate::mail::outbox::notify(&mut tx, &app.config, &recipient, kind, &case_id, now).await?;
    }
    let state: String = sqlx::query("SELECT state FROM deliveries WHERE delivery_id = $1")
        .bind(&delivery_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    tx.commit().await?;
    Ok(Json(Accepted {
        event: 0,
        case_state: None,
        id: Some(delivery_id),
        state: Some(state),
        mailed: false,
    }))
}

/// Downloads a forwarded attachment (its recipient, or the case's facilitators).
#[utoipa::path(get, path = "/v1/deliveries/{delivery_id}/attachments/{idx}", tag = "deliveries",
    security(("bearer" = [])),
    params(("delivery_id" = String, Path, description = "Delivery id"), ("idx" = u64, Path, description = "Attachment number")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn download_attachment(
    State(app): State<AppState>,
    caller: Caller,
    Path((delivery_id, idx)): Path<(String, u64)>,
) -> ApiResult<RawBody> {
    load_readable(&app, &caller, &delivery_id).await?;
    blobs::read(&app.config.blob_dir, &delivery_id, idx).await
}

//! Decisions that pass something on: a forward to the message's recipient, a return's note
//! to its author. Each creates a delivery, released at once or held while the case is paused.

use axum::Json;
use axum::extract::{Path, State};
use ferry_crypto::MAX_MESSAGE_BYTES;
use ferry_crypto::actions::Return;
use ferry_crypto::forward::Forward;
use ferry_crypto::seal::{AttachmentBlob, check_ciphertext};
use ferry_crypto::{Id, SignedStatement};
use sqlx::Row;

use super::decisions::{begin_decision, require_undecided, set_message_state};
use super::{decode_b64, insert_blobs};
use crate::auth::Caller;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::{AppState, cases, now};
use ferry_protocol::{
    Accepted, CaseState, Consent, DecisionRequest, DeliveryKind, DeliveryState, ErrorCode,
    MessageState,
};

/// Creates a delivery; it is released now if the case is active, held if it is paused or the
/// recipient asked to hold what reaches them.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    tx: &mut Tx<'_>,
    config: &crate::Config,
    case_id: &str,
    message_id: &str,
    recipient: &str,
    kind: DeliveryKind,
    statement: &SignedStatement,
    ciphertext: Vec<u8>,
    attachments: &[AttachmentBlob],
    now: i64,
) -> ApiResult<(String, DeliveryState)> {
    let case = cases::load(&mut **tx, case_id).await?;
    let state = match (case.state, attachments.is_empty()) {
        (CaseState::Active | CaseState::Paused, true) => {
            cases::arriving(&mut **tx, case.state, case_id, recipient).await?
        }
        (CaseState::Active | CaseState::Paused, false) => DeliveryState::Uploading,
        (other, _) => {
            return Err(ApiError::new(
                ErrorCode::CaseNotActive,
                format!(
                    "nothing is delivered in {} case",
                    ferry_crypto::with_article(other.as_str())
                ),
            ));
        }
    };
    let delivery_id = Id::random().to_string();
    sqlx::query(
        "INSERT INTO deliveries (delivery_id, case_id, message_id, recipient, kind, statement, ciphertext, \
         state, attachments_pending, created_at, released_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&delivery_id)
    .bind(case_id)
    .bind(message_id)
    .bind(recipient)
    .bind(kind.as_str())
    .bind(statement.to_json())
    .bind(ciphertext)
    .bind(state.as_str())
    .bind(attachments.len() as i64)
    .bind(now)
    .bind((state == DeliveryState::Released).then_some(now))
    .execute(&mut **tx)
    .await?;
    insert_blobs(tx, &delivery_id, attachments).await?;
    if state == DeliveryState::Released {
        crate::mail::outbox::notify(
            tx,
            config,
            recipient,
            crate::mail::Kind::NewMessage,
            case_id,
            now,
        )
        .await?;
    }
    Ok((delivery_id, state))
}

/// Forwards a reviewed message to its recipient (facilitators of the case). While the case is
/// paused the forward is held, and released only if the case resumes.
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/forward", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = DecisionRequest,
    responses((status = 200, body = Accepted), (status = 403, body = ferry_protocol::ErrorBody),
        (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn forward(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<DecisionRequest>,
) -> ApiResult<Json<Accepted>> {
    let ciphertext = decode_b64("ciphertext", &req.ciphertext, MAX_MESSAGE_BYTES)?;
    let now = now();
    let (mut tx, fwd, stored): (_, Forward, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    require_undecided(&stored, &[MessageState::Forwarded])?;
    check_ciphertext(&ciphertext, &fwd.forwarded_sha256, fwd.forwarded_size)?;
    let to = cases::member(&mut *tx, &case_id, &fwd.recipient)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WrongRecipient,
                "the recipient is not in this case",
            )
        })?;
    if to.role != stored.summary.recipient_role || fwd.recipient_role != to.role {
        return Err(ApiError::new(
            ErrorCode::WrongRecipient,
            format!(
                "this message is for the {} role",
                stored.summary.recipient_role
            ),
        ));
    }
    if fwd.recipient.as_str() == stored.summary.author {
        return Err(ApiError::new(
            ErrorCode::WrongRecipient,
            "a message is not forwarded to its author",
        ));
    }
    // Someone who never consented gets nothing. After a withdrawal the case is paused, so the
    // forward is held, and released only if they consent again and the case resumes.
    if to.consent == Consent::None {
        return Err(ApiError::new(
            ErrorCode::NoConsent,
            "the recipient has not consented",
        ));
    }
    let already: i64 = sqlx::query(
        "SELECT COUNT(*) FROM deliveries WHERE message_id = $1 AND recipient = $2 AND kind = 'forward' \
         AND state <> 'cancelled'",
    )
    .bind(&message_id)
    .bind(fwd.recipient.as_str())
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    if already > 0 {
        return Err(ApiError::new(
            ErrorCode::AlreadyForwarded,
            "this message was already forwarded to that person",
        ));
    }
    // Every attachment of the original has a decision, and what passes matches them.
    let scan_first = stored.summary.entered_by.is_some();
    fwd.check_decisions(Some(stored.summary.attachments as usize), scan_first)
        .map_err(|e| {
            ApiError::new(ErrorCode::AttachmentMismatch,
                format!(
                    "the forward must say what becomes of each of the message's {} attachment(s): {e}",
                    stored.summary.attachments
                ),
            )
        })?;
    let (id, state) = deliver(
        &mut tx,
        &app.config,
        &case_id,
        &message_id,
        fwd.recipient.as_str(),
        DeliveryKind::Forward,
        &req.statement,
        ciphertext,
        &fwd.attachments,
        now,
    )
    .await?;
    set_message_state(&mut tx, &message_id, MessageState::Forwarded, now).await?;
    let state = Some(state.to_string());
    crate::routes::record(tx, &case_id, &req.statement, now, Some(id), state).await
}

/// Returns a message to its author for changes, with a sealed note (facilitators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/return", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = DecisionRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn return_to_author(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<DecisionRequest>,
) -> ApiResult<Json<Accepted>> {
    let note = decode_b64("note", &req.ciphertext, MAX_MESSAGE_BYTES)?;
    let now = now();
    let (mut tx, ret, stored): (_, Return, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    require_undecided(&stored, &[])?;
    if stored.summary.entered_by.is_some() {
        return Err(ApiError::new(
            ErrorCode::OnPaper,
            "this was entered for a person on paper, who cannot read a note: talk it over with              them, then enter a new version and withhold this one",
        ));
    }
    check_ciphertext(&note, &ret.note_sha256, ret.note_size)?;
    let author = stored.summary.author.clone();
    let (id, state) = deliver(
        &mut tx,
        &app.config,
        &case_id,
        &message_id,
        &author,
        DeliveryKind::Return,
        &req.statement,
        note,
        &[],
        now,
    )
    .await?;
    set_message_state(&mut tx, &message_id, MessageState::Returned, now).await?;
    let state = Some(state.to_string());
    crate::routes::record(tx, &case_id, &req.statement, now, Some(id), state).await
}

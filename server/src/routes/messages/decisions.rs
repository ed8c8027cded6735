//! A facilitator's decisions about a message: what every decision checks, and the two that
//! pass nothing on (withhold, escalate). Forward and return deliver something: `delivery.rs`.

use axum::Json;
use axum::extract::{Path, State};
use ferry_crypto::MAX_MESSAGE_BYTES;
use ferry_crypto::actions::{Escalate, Return, Withhold};
use ferry_crypto::forward::Forward;
use ferry_crypto::{Id, Role, SignedStatement};

use super::{Stored, decode_b64, envelope_of, load_message};
use crate::auth::Caller;
use crate::db::{self, Tx};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::intake::accept;
use crate::{AppState, cases, now};
use ferry_protocol::{Accepted, ErrorCode, MessageState, StatementRequest, WithholdRequest};

/// A facilitator's decision about one message.
pub(crate) trait Decision:
    ferry_crypto::Statement + ferry_crypto::actions::Sequenced
{
    /// The case and message it is about, and the original ciphertext's hash it names.
    fn target(&self) -> (&Id, &Id, &ferry_crypto::Sha256Hash);
}

macro_rules! decision {
    ($($ty:ty),*) => {
        $(impl Decision for $ty {
            fn target(&self) -> (&Id, &Id, &ferry_crypto::Sha256Hash) {
                (&self.case_id, &self.message_id, &self.original_sha256)
            }
        })*
    };
}

decision!(Forward, Return, Withhold, Escalate);

/// Begins a decision: the caller must be a facilitator of the case; the statement must be
/// theirs, correctly signed and in sequence, and about this very message and ciphertext.
pub(super) async fn begin_decision<T: Decision>(
    app: &AppState,
    caller: &Caller,
    case_id: &str,
    message_id: &str,
    statement: &SignedStatement,
) -> ApiResult<(Tx<'static>, T, Stored)> {
    let mut tx = db::begin_write(&app.pool).await?;
    cases::require_member(&mut *tx, case_id, &caller.account_id, &[Role::Facilitator]).await?;
    let decision: T = accept(&mut tx, caller, statement).await?;
    let (signed_case, signed_message, original) = decision.target();
    if signed_case.as_str() != case_id || signed_message.as_str() != message_id {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the decision is signed for another message",
        ));
    }
    let stored = load_message(&mut *tx, case_id, message_id).await?;
    if envelope_of(&stored)?.ciphertext_sha256 != *original {
        return Err(ApiError::new(
            ErrorCode::Mismatch,
            "the decision names a different ciphertext than the message's",
        ));
    }
    Ok((tx, decision, stored))
}

pub(super) fn require_undecided(stored: &Stored, also: &[MessageState]) -> ApiResult<()> {
    let state = stored.summary.state;
    if state == MessageState::InReview || state == MessageState::Escalated || also.contains(&state)
    {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AlreadyDecided,
            format!("this message is {state} and is not waiting for a decision"),
        ))
    }
}

pub(super) async fn set_message_state(
    tx: &mut Tx<'_>,
    message_id: &str,
    state: MessageState,
    now: i64,
) -> ApiResult<()> {
    sqlx::query("UPDATE messages SET state = $1, updated_at = $2 WHERE message_id = $3")
        .bind(state.as_str())
        .bind(now)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Withholds a message, with a reason category and an optional sealed note (facilitators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/withhold", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = WithholdRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn withhold(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<WithholdRequest>,
) -> ApiResult<Json<Accepted>> {
    let note = req
        .note
        .as_deref()
        .map(|n| decode_b64("note", n, MAX_MESSAGE_BYTES))
        .transpose()?;
    let now = now();
    let (mut tx, w, stored): (_, Withhold, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    require_undecided(&stored, &[])?;
    match (&note, &w.note_sha256) {
        (None, None) => {}
        (Some(n), Some(h)) if ferry_crypto::Sha256Hash::of(n) == *h => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::Mismatch,
                "the note does not match the signed note hash",
            ));
        }
    }
    sqlx::query(
        "UPDATE messages SET state = $1, decision_note = $2, updated_at = $3 WHERE message_id = $4",
    )
    .bind(MessageState::Withheld.as_str())
    .bind(note)
    .bind(now)
    .bind(&message_id)
    .execute(&mut *tx)
    .await?;
    crate::routes::record(
        tx,
        &case_id,
        &req.statement,
        now,
        Some(message_id),
        Some(MessageState::Withheld.to_string()),
    )
    .await
}

/// Escalates a message to the coordinator (facilitators).
#[utoipa::path(post, path = "/v1/cases/{case_id}/messages/{message_id}/escalate", tag = "decisions",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    request_body = StatementRequest,
    responses((status = 200, body = Accepted), (status = 409, body = ferry_protocol::ErrorBody)))]
pub async fn escalate(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
    Body(req): Body<StatementRequest>,
) -> ApiResult<Json<Accepted>> {
    let now = now();
    let (mut tx, _, stored): (_, Escalate, _) =
        begin_decision(&app, &caller, &case_id, &message_id, &req.statement).await?;
    if stored.summary.state != MessageState::InReview {
        return Err(ApiError::new(
            ErrorCode::AlreadyDecided,
            "only a message in review can be escalated",
        ));
    }
    set_message_state(&mut tx, &message_id, MessageState::Escalated, now).await?;
    crate::mail::outbox::notify_coordinators(&mut tx, &app.config, &case_id, now).await?;
    crate::routes::record(
        tx,
        &case_id,
        &req.statement,
        now,
        Some(message_id),
        Some(MessageState::Escalated.to_string()),
    )
    .await
}

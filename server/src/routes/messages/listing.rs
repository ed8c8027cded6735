//! Listing messages: a case's messages, the review queue, and one sealed message.

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ferry_crypto::Role;

use super::{SUMMARY_COLUMNS, SUMMARY_FROM, load_readable, summary};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, cases};
use ferry_protocol::{MessageDetail, MessageSummary, StaffRole};

/// Messages of a case, without content: all of them for facilitators, coordinators and
/// auditors; a participant's own for participants.
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id")),
    responses((status = 200, body = Vec<MessageSummary>)))]
pub async fn list_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> ApiResult<Json<Vec<MessageSummary>>> {
    let own_only = if caller.staff_role == Some(StaffRole::Coordinator) {
        cases::load(&app.pool, &case_id).await?;
        false
    } else {
        let m = cases::require_member(&app.pool, &case_id, &caller.account_id, &Role::ALL).await?;
        m.role.is_participant()
    };
    // Participants see only their own messages: the author is then bound as well.
    let author = if own_only { "AND m.author = $2" } else { "" };
    let sql = format!(
        "{SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE m.case_id = $1 {author} \
         ORDER BY m.created_at, m.message_id"
    );
    let mut query = sqlx::query(&sql).bind(&case_id);
    if own_only {
        query = query.bind(caller.account_id.as_str());
    }
    let rows = query.fetch_all(&app.pool).await?;
    Ok(Json(rows.iter().map(summary).collect::<Result<_, _>>()?))
}

/// Messages waiting for review in every case the caller facilitates.
#[utoipa::path(get, path = "/v1/review", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = Vec<MessageSummary>)))]
pub async fn review_queue(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<MessageSummary>>> {
    let sql = format!(
        "{SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE m.state IN ('in_review', 'escalated') AND m.case_id IN \
         (SELECT case_id FROM members WHERE account_id = $1 AND role = 'facilitator') \
         ORDER BY m.created_at, m.message_id"
    );
    let rows = sqlx::query(&sql)
        .bind(caller.account_id.as_str())
        .fetch_all(&app.pool)
        .await?;
    Ok(Json(rows.iter().map(summary).collect::<Result<_, _>>()?))
}

/// A sealed message with its envelope, for the case's facilitators and its author.
#[utoipa::path(get, path = "/v1/cases/{case_id}/messages/{message_id}", tag = "messages",
    security(("bearer" = [])),
    params(("case_id" = String, Path, description = "Case id"), ("message_id" = String, Path, description = "Message id")),
    responses((status = 200, body = MessageDetail), (status = 404, body = ferry_protocol::ErrorBody)))]
pub async fn get_message(
    State(app): State<AppState>,
    caller: Caller,
    Path((case_id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<MessageDetail>> {
    let stored = load_readable(&app, &caller, &case_id, &message_id).await?;
    // Whoever signed the envelope: its author, or the facilitator who entered it.
    let card = app
        .key_cards
        .load(&app.pool, &stored.envelope.signer)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    Ok(Json(MessageDetail {
        ciphertext: B64.encode(&stored.ciphertext),
        envelope: stored.envelope,
        summary: stored.summary,
        author_card: card.statement().clone(),
    }))
}

//! What a participant sent, and what became of it, in words they can act on: with their
//! facilitator, returned to them, passed on (as written or with details removed), or not
//! passed on. Never the facilitator's reasons, and nothing of anyone else's messages.

use axum::Json;
use axum::extract::State;
use ferry_crypto::SignedStatement;
use ferry_crypto::forward::Forward;
use sqlx::Row;

use crate::AppState;
use crate::auth::Caller;
use crate::db::parsed;
use crate::error::{ApiError, ApiResult};
use ferry_protocol::{MessageState, SentMessage, SentState};

/// The caller's own messages in every case, newest last.
#[utoipa::path(get, path = "/v1/sent", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = Vec<SentMessage>)))]
pub async fn sent(
    State(app): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SentMessage>>> {
    let rows = sqlx::query(
        "SELECT m.message_id, m.case_id, m.kind, m.recipient_role, m.in_reply_to, m.created_at, \
         m.state, (SELECT d.statement FROM deliveries d WHERE d.message_id = m.message_id \
         AND d.kind = 'forward' AND d.state <> 'cancelled' ORDER BY d.created_at LIMIT 1) \
         FROM messages m WHERE m.author = $1 ORDER BY m.created_at, m.message_id",
    )
    .bind(caller.account_id.as_str())
    .fetch_all(&app.pool)
    .await?;
    let mut out = vec![];
    for r in rows {
        let forward: Option<Vec<u8>> = r.try_get(7)?;
        out.push(SentMessage {
            message_id: r.try_get(0)?,
            case_id: r.try_get(1)?,
            kind: parsed(&r, 2)?,
            recipient_role: parsed(&r, 3)?,
            in_reply_to: r.try_get(4)?,
            created_at: r.try_get(5)?,
            state: outcome(parsed(&r, 6)?, forward.as_deref())?,
        });
    }
    Ok(Json(out))
}

/// A message's state as its author is told it.
fn outcome(state: MessageState, forward: Option<&[u8]>) -> ApiResult<SentState> {
    Ok(match (state, forward) {
        (MessageState::Uploading, _) => SentState::Uploading,
        (MessageState::InReview | MessageState::Escalated, _) => SentState::WithFacilitator,
        (MessageState::Returned, _) => SentState::Returned,
        (MessageState::Withheld, _) => SentState::NotPassedOn,
        (MessageState::Forwarded, Some(bytes)) => {
            let st = SignedStatement::from_json(bytes).map_err(ApiError::internal)?;
            let fwd: Forward = serde_json::from_slice(&st.body).map_err(ApiError::internal)?;
            if fwd.redacted {
                SentState::PassedOnRedacted
            } else {
                SentState::PassedOn
            }
        }
        (MessageState::Forwarded, None) => SentState::PassedOn,
    })
}

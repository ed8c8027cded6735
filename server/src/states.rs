//! The states the server keeps for a case (its lifecycle state, each person's consent, each
//! message's and delivery's state), read together at one moment for auditors to check
//! against the signed events: a state the events do not explain was written around the API.

use ferry_crypto::actions::Return;
use ferry_crypto::forward::Forward;
use ferry_crypto::{SignedStatement, StatementKind};
use sqlx::Row;

use crate::error::{ApiError, ApiResult};
use crate::wire::{CaseStates, DeliveryState, MemberState, MessageState};

/// Reads the states of `case_ids` in one read transaction (a snapshot: on PostgreSQL
/// REPEATABLE READ, on SQLite a read transaction), so each case's states and the index of its
/// last event agree.
pub async fn read(
    pool: &sqlx::AnyPool,
    backend: crate::db::Backend,
    case_ids: &[String],
    require_key_checks: bool,
) -> ApiResult<Vec<CaseStates>> {
    let mut tx = pool.begin().await?;
    if backend == crate::db::Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *tx)
            .await?;
    }
    let mut out = vec![];
    for case_id in case_ids {
        out.push(read_one(&mut tx, case_id, require_key_checks).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn read_one(
    conn: &mut sqlx::AnyConnection,
    case_id: &str,
    require_key_checks: bool,
) -> ApiResult<CaseStates> {
    let state: String = sqlx::query("SELECT state FROM cases WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::not_found("case"))?
        .try_get(0)?;
    let last_event: Option<i64> = sqlx::query("SELECT MAX(idx) FROM events WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let members = sqlx::query(
        "SELECT account_id, role, consent FROM members WHERE case_id = $1 ORDER BY account_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(MemberState {
            account_id: r.try_get(0)?,
            role: r.try_get(1)?,
            consent: r.try_get(2)?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let messages = sqlx::query(
        "SELECT message_id, state FROM messages WHERE case_id = $1 ORDER BY message_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(MessageState {
            message_id: r.try_get(0)?,
            state: r.try_get(1)?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let rows = sqlx::query(
        "SELECT message_id, kind, recipient, statement, state, attachments_pending \
         FROM deliveries WHERE case_id = $1 ORDER BY delivery_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut deliveries = vec![];
    for r in rows {
        let statement: Vec<u8> = r.try_get(3)?;
        deliveries.push(DeliveryState {
            message_id: r.try_get(0)?,
            kind: r.try_get(1)?,
            recipient: r.try_get(2)?,
            sha256: delivered_hash(&statement)?,
            state: r.try_get(4)?,
            uploading: r.try_get::<i64, _>(5)? > 0,
        });
    }
    Ok(CaseStates {
        case_id: case_id.to_owned(),
        last_event: last_event.map(|i| i as u64),
        state,
        require_key_checks,
        members,
        messages,
        deliveries,
    })
}

/// The hash a delivery's signed statement names for what it delivers.
fn delivered_hash(statement: &[u8]) -> ApiResult<String> {
    let st = SignedStatement::from_json(statement).map_err(ApiError::internal)?;
    let hash = match st.kind {
        StatementKind::Forward => {
            serde_json::from_slice::<Forward>(&st.body)
                .map_err(ApiError::internal)?
                .forwarded_sha256
        }
        _ => {
            serde_json::from_slice::<Return>(&st.body)
                .map_err(ApiError::internal)?
                .note_sha256
        }
    };
    Ok(hash.to_hex())
}

//! The trail: every accepted signed action becomes an event, in the same transaction as the
//! change it causes. Events form one global append-only sequence (`idx`, the future Merkle
//! log's leaf index) and, per case, a hash chain (`seq_in_case`, `prev_hash`).
//!
//! The leaf is the exact bytes that are hashed: `{"v","idx","case_id","seq_in_case",
//! "prev_hash","server_time","statement"}` as JSON, stored as written.

use ferry_crypto::{Sha256Hash, SignedStatement};
use serde::Serialize;
use sqlx::Row;

use crate::db::Tx;

#[derive(Serialize)]
struct Leaf<'a> {
    v: u32,
    idx: u64,
    case_id: Option<&'a str>,
    seq_in_case: Option<u64>,
    prev_hash: Option<String>,
    server_time: i64,
    statement: &'a SignedStatement,
}

/// Appends `statement` to the trail (and to `case_id`'s chain). Returns the event index.
/// The caller's transaction must have been begun with [`crate::db::begin_write`].
pub async fn append(
    tx: &mut Tx,
    case_id: Option<&str>,
    statement: &SignedStatement,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let idx: i64 = sqlx::query("UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size")
        .fetch_one(&mut **tx)
        .await?
        .try_get::<i64, _>(0)?
        - 1;
    let (seq_in_case, prev_hash) = match case_id {
        Some(case) => {
            let last = sqlx::query(
                "SELECT seq_in_case, leaf_hash FROM events WHERE case_id = $1 \
                 ORDER BY seq_in_case DESC LIMIT 1",
            )
            .bind(case)
            .fetch_optional(&mut **tx)
            .await?;
            match last {
                Some(row) => (
                    Some(row.try_get::<i64, _>(0)? as u64 + 1),
                    Some(row.try_get::<String, _>(1)?),
                ),
                None => (Some(0), None),
            }
        }
        None => (None, None),
    };
    let leaf = Leaf {
        v: 1,
        idx: idx as u64,
        case_id,
        seq_in_case,
        prev_hash: prev_hash.clone(),
        server_time: now,
        statement,
    };
    let leaf_bytes = serde_json::to_vec(&leaf).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let leaf_hash = Sha256Hash::of(&leaf_bytes).to_hex();
    sqlx::query(
        "INSERT INTO events (idx, case_id, seq_in_case, prev_hash, actor, kind, statement, leaf, \
         leaf_hash, server_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(idx)
    .bind(case_id)
    .bind(seq_in_case.map(|s| s as i64))
    .bind(prev_hash)
    .bind(statement.signer.as_str())
    .bind(statement.kind.as_str())
    .bind(statement.to_json())
    .bind(leaf_bytes)
    .bind(leaf_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(idx as u64)
}

/// The number of events in the log.
pub async fn size(pool: &sqlx::AnyPool) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query("SELECT size FROM log_head WHERE id = 1")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(size as u64)
}

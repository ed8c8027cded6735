//! The trail: every accepted signed action becomes an event, in the same transaction as the
//! change it causes. Its leaf (`ferry_crypto::trail::Leaf`, stored as the exact bytes hashed)
//! is leaf `idx` of one global RFC 6962 Merkle log, whose interior hashes are stored in
//! `tlog_hashes` so every proof needs O(log n) reads, and a link in its case's hash chain.
//! Checkpoints are signed over committed (fsync'd) entries only, in batches, never per append.

use std::cell::RefCell;
use std::collections::HashMap;

use ferry_crypto::trail::{self as fmt, HashReader, Leaf, TreeHash};
use ferry_crypto::{Sha256Hash, SignedStatement};
use sqlx::Row;

use crate::AppState;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};

/// A hash reader over hashes fetched so far; it notes the ones it was asked for but lacks.
/// tlog's algorithms ask for the same indexes whatever the values, so one pass with this
/// reader learns which hashes to fetch, and a second pass computes with them.
#[derive(Default)]
pub struct Prefetch {
    known: HashMap<u64, TreeHash>,
    missing: RefCell<Vec<u64>>,
}

impl HashReader for Prefetch {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TreeHash>, fmt::TreeError> {
        Ok(indexes
            .iter()
            .map(|i| match self.known.get(i) {
                Some(h) => *h,
                None => {
                    self.missing.borrow_mut().push(*i);
                    TreeHash([0; 32])
                }
            })
            .collect())
    }
}

/// Runs `f` with a reader holding every stored hash it needs, fetched from `db` in one query
/// per pass (at most O(log n) hashes).
pub async fn with_hashes<T>(
    db: &mut sqlx::AnyConnection,
    f: impl Fn(&Prefetch) -> ferry_crypto::Result<T>,
) -> ApiResult<T> {
    let mut reader = Prefetch::default();
    for _ in 0..4 {
        let result = f(&reader);
        let missing = std::mem::take(&mut *reader.missing.borrow_mut());
        if missing.is_empty() {
            return result.map_err(ApiError::from);
        }
        let list = missing
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(&format!(
            "SELECT idx, hash FROM tlog_hashes WHERE idx IN ({list})"
        ))
        .fetch_all(&mut *db)
        .await?;
        for row in rows {
            let idx: i64 = row.try_get(0)?;
            let bytes: Vec<u8> = row.try_get(1)?;
            let hash = <[u8; 32]>::try_from(bytes.as_slice()).map_err(ApiError::internal)?;
            reader.known.insert(idx as u64, TreeHash(hash));
        }
        if missing.iter().any(|i| !reader.known.contains_key(i)) {
            return Err(ApiError::internal("the log's stored hashes are incomplete"));
        }
    }
    Err(ApiError::internal("stored hash reads did not settle"))
}

/// Appends `statement` to the trail (and to `case_id`'s chain). Returns the event index.
/// The caller's transaction must have been begun with [`crate::db::begin_write`].
pub async fn append(
    tx: &mut Tx,
    case_id: Option<&str>,
    statement: &SignedStatement,
    now: i64,
) -> ApiResult<u64> {
    let idx = sqlx::query("UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size")
        .fetch_one(&mut **tx)
        .await?
        .try_get::<i64, _>(0)?
        - 1;
    let idx = idx as u64;
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
                Some(row) => {
                    let prev: String = row.try_get(1)?;
                    (
                        Some(row.try_get::<i64, _>(0)? as u64 + 1),
                        Some(Sha256Hash::from_hex(&prev).map_err(ApiError::internal)?),
                    )
                }
                None => (Some(0), None),
            }
        }
        None => (None, None),
    };
    let leaf = Leaf {
        v: 1,
        idx,
        case_id: case_id.map(str::to_owned),
        seq_in_case,
        prev_hash,
        server_time: now,
        statement: statement.clone(),
    }
    .to_bytes();
    let new_hashes = with_hashes(tx, |r| fmt::stored_hashes(idx, &leaf, r)).await?;
    let first = fmt::stored_index(idx);
    for (i, h) in new_hashes.iter().enumerate() {
        sqlx::query("INSERT INTO tlog_hashes (idx, hash) VALUES ($1, $2)")
            .bind((first + i as u64) as i64)
            .bind(h.0.to_vec())
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO events (idx, case_id, seq_in_case, prev_hash, actor, kind, statement, leaf, \
         leaf_hash, server_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(idx as i64)
    .bind(case_id)
    .bind(seq_in_case.map(|s| s as i64))
    .bind(prev_hash.map(|h| h.to_hex()))
    .bind(statement.signer.as_str())
    .bind(statement.kind.as_str())
    .bind(statement.to_json())
    .bind(&leaf)
    .bind(fmt::event_hash(&leaf).to_hex())
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(ApiError::from)?;
    Ok(idx)
}

/// The number of events in the log (committed).
pub async fn size(pool: &sqlx::AnyPool) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query("SELECT size FROM log_head WHERE id = 1")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(size as u64)
}

/// How often, at most, a client's request for the latest checkpoint makes the server sign
/// a new one (the background signer also signs about once a second while the log grows).
pub const CHECKPOINT_INTERVAL_SECONDS: i64 = 1;

/// A signed checkpoint.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// When it was signed (Unix seconds).
    pub created_at: i64,
    /// Number of leaves.
    pub size: u64,
    /// Root hash.
    pub root: TreeHash,
    /// The signed note.
    pub note: Vec<u8>,
}

/// The latest signed checkpoint, signing a new one first if the log has grown since. Only
/// committed entries are covered: the size and hashes are read outside any write.
pub async fn checkpoint(app: &AppState) -> ApiResult<SignedCheckpoint> {
    signed_within(app, 0).await
}

/// The latest checkpoint, signing a new one only if the log has grown and the latest is at
/// least `seconds` old: however many clients ask, signing stays batched.
pub async fn signed_within(app: &AppState, seconds: i64) -> ApiResult<SignedCheckpoint> {
    let size = size(&app.pool).await?;
    if let Some(latest) = latest_checkpoint(app).await?
        && (latest.size >= size || crate::now() - latest.created_at < seconds)
    {
        return Ok(latest);
    }
    let mut conn = app.pool.acquire().await?;
    let root = with_hashes(&mut conn, |r| fmt::tree_hash(size, r)).await?;
    let note = fmt::sign_checkpoint(&app.server_identity, &app.config.log_origin, size, root)?;
    // Same size, same root, same (deterministic) signature: a second signer's insert is a no-op.
    sqlx::query(
        "INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (size) DO NOTHING",
    )
    .bind(size as i64)
    .bind(root.0.to_vec())
    .bind(&note)
    .bind(crate::now())
    .execute(&mut *conn)
    .await?;
    Ok(SignedCheckpoint {
        created_at: crate::now(),
        size,
        root,
        note,
    })
}

async fn latest_checkpoint(app: &AppState) -> ApiResult<Option<SignedCheckpoint>> {
    let row = sqlx::query(
        "SELECT size, root, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1",
    )
    .fetch_optional(&app.pool)
    .await?;
    match row {
        Some(row) => {
            let root: Vec<u8> = row.try_get(1)?;
            Ok(Some(SignedCheckpoint {
                created_at: row.try_get(3)?,
                size: row.try_get::<i64, _>(0)? as u64,
                root: TreeHash(<[u8; 32]>::try_from(root.as_slice()).map_err(ApiError::internal)?),
                note: row.try_get(2)?,
            }))
        }
        None => Ok(None),
    }
}

/// Signs checkpoints in the background, once a second at most, while the log grows.
pub async fn checkpoint_loop(app: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = checkpoint(&app).await {
            tracing::warn!(error = %e, "could not sign a checkpoint");
        }
    }
}

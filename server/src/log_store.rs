//! The trail: every accepted signed action becomes an event, in the same transaction as the
//! change it causes. Its leaf (`ferry_crypto::log_format::Leaf`, stored as the exact bytes hashed)
//! is leaf `idx` of one global RFC 6962 Merkle log, whose interior hashes are stored in
//! `tlog_hashes` so every proof needs O(log n) reads, and a link in its case's hash chain.
//! Checkpoints are signed over committed (fsync'd) entries only, in batches, never per append.

use std::cell::RefCell;
use std::collections::HashMap;

use ferry_crypto::log_format::{self as fmt, HashReader, LeafHead, TreeHash};
use ferry_crypto::{Sha256Hash, SignedStatement};
use sqlx::{AnyConnection, Row};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::sql::{Value, Writes};

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
    with_hashes_in(db, &mut Prefetch::default(), f).await
}

/// [`with_hashes`] over a reader that may already hold hashes (kept, with those fetched).
async fn with_hashes_in<T>(
    db: &mut sqlx::AnyConnection,
    reader: &mut Prefetch,
    f: impl Fn(&Prefetch) -> ferry_crypto::Result<T>,
) -> ApiResult<T> {
    for _ in 0..4 {
        let result = f(reader);
        let missing = std::mem::take(&mut *reader.missing.borrow_mut());
        if missing.is_empty() {
            return result.map_err(ApiError::from);
        }
        let missing: Vec<i64> = missing.into_iter().map(|i| i as i64).collect();
        let sql = crate::db::in_order(
            db,
            format!(
                "SELECT idx, hash FROM tlog_hashes WHERE idx IN ({})",
                crate::db::marks(1, missing.len())
            ),
        );
        let mut query = sqlx::query(&sql);
        for idx in crate::db::pad(&missing) {
            query = query.bind(idx);
        }
        let rows = query.fetch_all(&mut *db).await?;
        for row in rows {
            let idx: i64 = row.try_get(0)?;
            let bytes: Vec<u8> = row.try_get(1)?;
            let hash = <[u8; 32]>::try_from(bytes.as_slice()).map_err(ApiError::internal)?;
            reader.known.insert(idx as u64, TreeHash(hash));
        }
        if missing
            .iter()
            .any(|&i| !reader.known.contains_key(&(i as u64)))
        {
            return Err(ApiError::internal("the log's stored hashes are incomplete"));
        }
    }
    Err(ApiError::internal("stored hash reads did not settle"))
}

/// Appends `statement` to the trail (and to `case_id`'s chain) and writes it at once.
/// Returns the event index. The caller's transaction must have been begun with
/// [`crate::db::begin_write`].
pub async fn append(
    tx: &mut AnyConnection,
    case_id: Option<&str>,
    statement: &SignedStatement,
    now: i64,
) -> ApiResult<u64> {
    let mut appends = Appends::default();
    let idx = appends.append(tx, case_id, statement, now).await?;
    appends.flush(tx).await?;
    Ok(idx)
}

/// An event computed but not yet written.
struct PendingEvent {
    idx: u64,
    case_id: Option<String>,
    seq_in_case: Option<u64>,
    prev_hash: Option<Sha256Hash>,
    actor: String,
    kind: &'static str,
    statement: Vec<u8>,
    leaf: Vec<u8>,
    leaf_hash: Sha256Hash,
    server_time: i64,
}

/// Events appended inside one write transaction, held in memory and written together by
/// [`Appends::flush`] (one multi-row insert per table) before the transaction commits. The
/// log head, each case's chain head and the tree's right edge are read once per transaction,
/// not once per event. Only valid under the log-head lock ([`crate::db::begin_write`]).
#[derive(Default)]
pub struct Appends {
    /// The log's size, counting pending events; read on first use.
    size: Option<u64>,
    /// Each touched case's last (seq, event hash), counting pending events.
    heads: HashMap<String, Option<(u64, Sha256Hash)>>,
    /// Stored hashes read or computed so far.
    hashes: Prefetch,
    events: Vec<PendingEvent>,
    new_hashes: Vec<(u64, TreeHash)>,
    /// What the previous transaction kept, used once the size is known to still match it.
    kept: Option<Kept>,
}

/// Most chain heads [`Kept`] holds; past that it keeps none.
const MAX_KEPT_HEADS: usize = 10_000;

/// What a batching writer keeps of the trail from one transaction to its next: the log size
/// its last commit left, the stored hashes on that tree's right edge and the chain heads of the
/// cases it touched. Used only while the log still has that size: the log is append-only and
/// every event grows it, so the same size means nobody else appended since, and the tree and
/// every chain are as they were. Stored hashes never change once committed.
#[derive(Default)]
pub struct Kept {
    size: u64,
    edge: Vec<(u64, TreeHash)>,
    heads: HashMap<String, Option<(u64, Sha256Hash)>>,
}

impl Appends {
    /// Appends starting from what `kept` holds if the log is still the size it describes
    /// (then the right edge and those chain heads are not read again). The size is `size`, if
    /// read with the lock, or else learnt later ([`Appends::learn_size`], or read on first use).
    pub fn resume(size: Option<u64>, kept: Kept) -> Self {
        let mut appends = Appends {
            kept: Some(kept),
            ..Appends::default()
        };
        if let Some(size) = size {
            appends.learned(size);
        }
        appends
    }

    /// Tells the log's size as read under the log-head lock by the caller's own query, before
    /// anything is appended, saving the query for it.
    pub fn learn_size(&mut self, size: u64) -> ApiResult<()> {
        match self.size {
            Some(known) if known != size => Err(ApiError::internal(
                "the log's size changed under the log-head lock",
            )),
            Some(_) => Ok(()),
            None => {
                self.learned(size);
                Ok(())
            }
        }
    }

    fn learned(&mut self, size: u64) {
        self.size = Some(size);
        if let Some(kept) = self.kept.take().filter(|k| k.size == size) {
            self.hashes.known.extend(kept.edge);
            self.heads = kept.heads;
        }
    }

    /// Takes what the next transaction may reuse once this one has committed: call when
    /// nothing more will be appended, before [`Appends::flush`] (which needs neither the chain
    /// heads nor the hashes read), and use it only if the commit succeeds.
    pub fn keep(&mut self) -> Kept {
        let Some(size) = self.size else {
            return Kept::default();
        };
        let heads = std::mem::take(&mut self.heads);
        Kept {
            size,
            edge: fmt::right_edge(size)
                .into_iter()
                .filter_map(|i| self.hashes.known.get(&i).map(|h| (i, *h)))
                .collect(),
            heads: if heads.len() <= MAX_KEPT_HEADS {
                heads
            } else {
                HashMap::new()
            },
        }
    }

    /// Reads, in three queries at most, what appending to `cases` will need: the log's size
    /// (unless known), the stored hashes on the tree's right edge and each case's chain head.
    pub async fn prefetch(&mut self, tx: &mut AnyConnection, cases: &[&str]) -> ApiResult<()> {
        let size = self.size(tx).await?;
        let edge = fmt::right_edge(size);
        with_hashes_in(tx, &mut self.hashes, |r| {
            r.read_hashes(&edge)
                .map_err(|e| ferry_crypto::CryptoError::Proof(e.to_string()))
        })
        .await?;
        let wanted: Vec<&str> = cases
            .iter()
            .copied()
            .filter(|c| !self.heads.contains_key(*c))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let sql = crate::db::in_order(
            tx,
            format!(
                "SELECT e.case_id, e.seq_in_case, e.leaf_hash FROM events e JOIN \
                 (SELECT case_id, MAX(seq_in_case) AS last FROM events WHERE case_id IN ({}) \
                 GROUP BY case_id) h ON h.case_id = e.case_id AND h.last = e.seq_in_case",
                crate::db::marks(1, wanted.len())
            ),
        );
        let mut query = sqlx::query(&sql);
        for case in crate::db::pad(&wanted) {
            query = query.bind(case);
        }
        let rows = query.fetch_all(&mut *tx).await?;
        for case in wanted {
            self.heads.insert(case.to_owned(), None);
        }
        for row in rows {
            let hash: String = row.try_get(2)?;
            self.heads.insert(
                row.try_get(0)?,
                Some((
                    row.try_get::<i64, _>(1)? as u64,
                    Sha256Hash::from_hex(&hash).map_err(ApiError::internal)?,
                )),
            );
        }
        Ok(())
    }

    async fn size(&mut self, tx: &mut AnyConnection) -> ApiResult<u64> {
        if let Some(size) = self.size {
            return Ok(size);
        }
        let size = sqlx::query("SELECT size FROM log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)? as u64;
        self.learned(size);
        Ok(size)
    }

    /// Computes the event for `statement` (the next leaf, the next link of `case_id`'s chain)
    /// and holds it for [`Appends::flush`]. Returns the event index.
    pub async fn append(
        &mut self,
        tx: &mut AnyConnection,
        case_id: Option<&str>,
        statement: &SignedStatement,
        now: i64,
    ) -> ApiResult<u64> {
        self.append_json(tx, case_id, statement, statement.to_json(), now)
            .await
    }

    /// [`Appends::append`] for a statement already serialized as `json` (its
    /// [`SignedStatement::to_json`], made before the lock was taken).
    pub async fn append_json(
        &mut self,
        tx: &mut AnyConnection,
        case_id: Option<&str>,
        statement: &SignedStatement,
        json: Vec<u8>,
        now: i64,
    ) -> ApiResult<u64> {
        let idx = self.size(tx).await?;
        let head = match case_id {
            Some(case) => {
                self.prefetch(tx, &[case]).await?;
                Some(self.heads.get(case).copied().flatten())
            }
            None => None,
        };
        let (seq_in_case, prev_hash) = match head {
            Some(Some((seq, hash))) => (Some(seq + 1), Some(hash)),
            Some(None) => (Some(0), None),
            None => (None, None),
        };
        let leaf = LeafHead {
            idx,
            case_id,
            seq_in_case,
            prev_hash: prev_hash.as_ref(),
            server_time: now,
        }
        .bytes_with(&json)?;
        let hashes = &mut self.hashes;
        let computed = with_hashes_in(tx, hashes, |r| fmt::stored_hashes(idx, &leaf, r)).await?;
        let first = fmt::stored_index(idx);
        for (i, h) in computed.into_iter().enumerate() {
            let at = first + i as u64;
            self.hashes.known.insert(at, h);
            self.new_hashes.push((at, h));
        }
        let leaf_hash = fmt::event_hash(&leaf);
        if let (Some(case), Some(seq)) = (case_id, seq_in_case) {
            self.heads.insert(case.to_owned(), Some((seq, leaf_hash)));
        }
        self.size = Some(idx + 1);
        self.events.push(PendingEvent {
            idx,
            case_id: case_id.map(str::to_owned),
            seq_in_case,
            prev_hash,
            actor: statement.signer.to_string(),
            kind: statement.kind.as_str(),
            statement: json,
            leaf,
            leaf_hash,
            server_time: now,
        });
        Ok(idx)
    }

    /// Writes every pending event, its stored hashes and the new log size, in the caller's
    /// transaction: one statement per table for the whole batch (on SQLite, one round trip).
    pub async fn flush(&mut self, tx: &mut AnyConnection) -> ApiResult<()> {
        let mut writes = Writes::default();
        self.flush_into(&mut writes);
        writes.run(tx, None, false).await
    }

    /// [`Appends::flush`] into `writes`, to be sent with them.
    pub fn flush_into(&mut self, writes: &mut Writes) {
        let this = std::mem::take(self);
        let Some(size) = this.size.filter(|_| !this.events.is_empty()) else {
            return;
        };
        let hashes = this
            .new_hashes
            .into_iter()
            .flat_map(|(idx, h)| [Value::from(idx as i64), Value::from(h.0.to_vec())])
            .collect();
        writes.insert("tlog_hashes (idx, hash)", 2, hashes);
        let mut events = Vec::with_capacity(this.events.len() * 10);
        for e in this.events {
            events.extend([
                Value::from(e.idx as i64),
                Value::Text(e.case_id.map(Into::into)),
                Value::from(e.seq_in_case.map(|s| s as i64)),
                Value::Text(e.prev_hash.map(|h| h.to_hex().into())),
                Value::from(e.actor),
                Value::text(e.kind),
                Value::from(e.statement),
                Value::from(e.leaf),
                Value::from(e.leaf_hash.to_hex()),
                Value::from(e.server_time),
            ]);
        }
        writes.insert(
            "events (idx, case_id, seq_in_case, prev_hash, actor, kind, statement, leaf, \
             leaf_hash, server_time)",
            10,
            events,
        );
        writes.push(
            "UPDATE log_head SET size = $1 WHERE id = 1".into(),
            vec![Value::from(size as i64)],
            1,
        );
    }
}

/// The number of events in the log (committed).
pub async fn size(pool: &sqlx::AnyPool) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query("SELECT size FROM log_head WHERE id = 1")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(size as u64)
}

/// Stored leaves, in log order: their bytes end to end, and each one's length.
#[derive(Debug, Default)]
pub struct LeafRun {
    bytes: Vec<u8>,
    lengths: Vec<usize>,
}

impl LeafRun {
    /// Each leaf's bytes, in order.
    pub fn leaves(&self) -> impl Iterator<Item = &[u8]> + Clone {
        self.lengths.iter().scan(0, |at, &len| {
            let leaf = &self.bytes[*at..*at + len];
            *at += len;
            Some(leaf)
        })
    }
}

/// The stored leaves from `start` up to (not including) `end`, in order, stopping after the
/// leaf that brings them to `cap` bytes: whatever rows the table holds there, so a damaged log
/// is served as it is. Two queries of one row each, the leaves' positions and lengths (as
/// [`crate::db::json_rows`]) and then their bytes end to end: sqlx hands SQLite's rows over one at a time, and a page of a few
/// thousand rows cost twice as much in those hand-overs as in reading.
pub async fn leaf_run(
    pool: &sqlx::AnyPool,
    backend: crate::db::Backend,
    start: u64,
    end: u64,
    cap: usize,
) -> Result<LeafRun, ApiError> {
    let mut conn = pool.acquire().await?;
    let sql = crate::db::json_rows(
        &conn,
        "SELECT idx, octet_length(leaf) AS len FROM events WHERE idx >= $1 AND idx < $2 \
         ORDER BY idx",
        &["idx", "len"],
    );
    let listed: String = sqlx::query(&sql)
        .bind(start as i64)
        .bind(end as i64)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let listed: Vec<(u64, usize)> = serde_json::from_str(&listed).map_err(|_| unreadable())?;
    let (mut indexes, mut lengths, mut total) = (vec![], vec![], 0);
    for (idx, len) in listed {
        // The rows come in log order: checked, not assumed.
        if indexes.last().is_some_and(|&last| last >= idx) {
            return Err(unreadable());
        }
        indexes.push(idx);
        lengths.push(len);
        total += len;
        if total >= cap {
            break;
        }
    }
    let Some(&last) = indexes.last() else {
        return Ok(LeafRun::default());
    };
    // The indexes too, to check the bytes come in the same order. SQLite joins rows in the
    // order its subquery gives them (an `ORDER BY` inside its aggregate would first copy every
    // leaf into a sorter); PostgreSQL is told the order.
    let (join, order, blob) = match backend {
        crate::db::Backend::Sqlite => ("group_concat", "", "BLOB"),
        crate::db::Backend::Postgres => ("string_agg", " ORDER BY idx", "BYTEA"),
    };
    let sql = format!(
        "SELECT {join}(CAST(idx AS TEXT), ','{order}), \
                CAST({join}(leaf, CAST('' AS {blob}){order}) AS {blob}) \
         FROM (SELECT idx, leaf FROM events WHERE idx >= $1 AND idx < $2 ORDER BY idx) AS r"
    );
    let row = sqlx::query(&sql)
        .bind(start as i64)
        .bind(last as i64 + 1)
        .fetch_one(&mut *conn)
        .await?;
    let (served, bytes): (Option<String>, Option<Vec<u8>>) = (row.try_get(0)?, row.try_get(1)?);
    // The same rows, in the same order, with the lengths read first.
    let same = served.as_deref().is_some_and(|s| {
        s.split(',')
            .map(str::parse::<u64>)
            .eq(indexes.iter().map(|&i| Ok(i)))
    });
    match bytes {
        Some(bytes) if same && bytes.len() == total => Ok(LeafRun { bytes, lengths }),
        _ => Err(ApiError::internal(
            "the stored leaves changed while they were read",
        )),
    }
}

fn unreadable() -> ApiError {
    ApiError::internal("the stored leaves' positions and lengths did not read back")
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
    // Submissions are committed before they reach the disk and confirmed once they have:
    // what is signed must be on the disk first.
    if let Some(wal) = &app.wal {
        wal.sync_async().await.map_err(ApiError::internal)?;
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

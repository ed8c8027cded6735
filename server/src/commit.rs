//! Group commit: write requests that arrive together share one transaction, so one fsync makes
//! a whole batch durable, and the batch's work is done set-wise (a few statements per batch,
//! not per request). The batch's trail events are held in memory and written together just
//! before the commit; every caller is answered only after the batch is on disk.
//!
//! On SQLite the flush to disk leaves the committer's path: a batch commits without waiting
//! for the disk, and a syncing thread of its own flushes the WAL and only then answers the
//! batch's callers, while the committer decides and writes the next batch (several batches
//! that commit during one flush are answered by that flush). On PostgreSQL a commit returns
//! once the server has flushed it.

use std::future::Future;
use std::sync::Arc;

use sqlx::any::AnyConnectOptions;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Executor};
use tokio::sync::{mpsc, oneshot};

use crate::db::{self, Backend};
use crate::error::{ApiError, ApiResult};
use crate::log_store::{Appends, Kept};
use crate::sql::{self, Value, Writes};
use crate::wal::{Checkpoints, Syncer, Wal};
use ferry_protocol::Accepted;
use ferry_protocol::ErrorCode;

/// Most requests in one batch.
const MAX_BATCH: usize = 64;

/// A batch: its transaction, the trail events it appends and the writes it holds. The
/// transaction is begun with the batch's first statement: on SQLite its `BEGIN IMMEDIATE`
/// (which takes the write lock) travels with the first read, and the held writes travel with
/// the `COMMIT`, so a batch costs two round trips to the database's thread, not one per
/// statement.
pub struct Batch<'c> {
    conn: &'c mut AnyConnection,
    /// The statement that begins the transaction, until it has been sent.
    begin: Option<&'static str>,
    /// Events appended so far, written at the commit.
    pub trail: Appends,
    /// Writes held for the commit (after the batch's other writes, before its events).
    pub writes: Writes,
}

impl Batch<'_> {
    /// Runs `sql` with `values` as a read of the batch, the transaction begun with it if this
    /// is the batch's first statement.
    pub async fn read(&mut self, sql: &str, values: &[Value]) -> ApiResult<Vec<AnyRow>> {
        let Some(begin) = self.begin else {
            return Ok(sql::query(sql, values).fetch_all(&mut *self.conn).await?);
        };
        let together = format!("{begin}; {sql}");
        let rows = sql::query(&together, values)
            .fetch_all(&mut *self.conn)
            .await?;
        self.begin = None;
        Ok(rows)
    }

    /// The batch's connection, in its transaction (begun now if nothing has run yet).
    pub async fn conn(&mut self) -> ApiResult<&mut AnyConnection> {
        Ok(self.begun().await?.0)
    }

    /// The batch's connection, in its transaction (begun now if nothing has run yet), with
    /// its trail.
    pub async fn begun(&mut self) -> ApiResult<(&mut AnyConnection, &mut Appends)> {
        if let Some(begin) = self.begin.take() {
            self.conn.execute(begin).await?;
        }
        Ok((self.conn, &mut self.trail))
    }

    /// The connection, to build statements in its dialect (not to run them: see
    /// [`Batch::read`] and [`Batch::conn`]).
    pub fn connection(&self) -> &AnyConnection {
        self.conn
    }
}

/// Work that can be done for many requests at once.
pub trait Batched: Send + Sized + 'static {
    /// Does the work of `jobs` in `batch`: one result per job, in order. A refused job must
    /// have written nothing; an `Err` fails the whole batch, which is then rolled back.
    fn run_batch<'a>(
        batch: &'a mut Batch<'_>,
        jobs: Vec<Self>,
    ) -> impl Future<Output = ApiResult<Vec<ApiResult<Accepted>>>> + Send + 'a;
}

struct Job<J> {
    job: J,
    reply: oneshot::Sender<ApiResult<Accepted>>,
}

/// A caller and its answer, once the batch is durable.
type Answer = (oneshot::Sender<ApiResult<Accepted>>, ApiResult<Accepted>);

/// Hands jobs of one kind to their batching task.
pub struct Committer<J> {
    jobs: mpsc::Sender<Job<J>>,
}

impl<J> Clone for Committer<J> {
    fn clone(&self) -> Self {
        Self {
            jobs: self.jobs.clone(),
        }
    }
}

impl<J: Batched> Committer<J> {
    /// Starts the batching task on a thread of its own, with its own connection to the
    /// database `options` point to. Its own thread: the batch's many short round trips to the
    /// database then resume at once, instead of waiting behind request handlers for a worker
    /// of the shared runtime. Its own connection, held from batch to batch rather than taken
    /// from a pool: going back to a pool costs a round trip (sqlx checks the connection) on
    /// every batch's critical path. With a SQLite `wal`, batches commit without waiting for
    /// the disk and are answered once `wal` is synced past them. The threads end when the last
    /// handle is dropped.
    pub async fn start(
        options: AnyConnectOptions,
        backend: Backend,
        wal: Option<Arc<Wal>>,
    ) -> anyhow::Result<Self> {
        let (jobs, rx) = mpsc::channel(1024);
        let sync = match wal {
            Some(wal) => Some(Syncer::start(wal)?),
            None => None,
        };
        let (ready, started) = oneshot::channel();
        std::thread::Builder::new()
            .name("ferry-commit".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let deferred = sync.is_some();
                    match connect(&options, backend, deferred).await {
                        Ok(conn) => {
                            let _ = ready.send(Ok(()));
                            run(&options, backend, conn, rx, sync).await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e.into()));
                        }
                    }
                });
            })?;
        started
            .await
            .map_err(|_| anyhow::anyhow!("the committer stopped as it started"))??;
        Ok(Self { jobs })
    }

    /// Runs `job` in the next batch and returns its result once the batch is durable.
    pub async fn run(&self, job: J) -> ApiResult<Accepted> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { job, reply })
            .await
            .map_err(|_| ApiError::internal("the committer has stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the committer dropped a request"))?
    }
}

async fn run<J: Batched>(
    options: &AnyConnectOptions,
    backend: Backend,
    conn: AnyConnection,
    mut rx: mpsc::Receiver<Job<J>>,
    sync: Option<Syncer>,
) {
    let mut kept = Kept::default();
    let mut conn = Some(conn);
    // With a syncing thread, the committer's commits leave the disk to it, and the WAL to
    // the checkpointer.
    let deferred = sync.is_some();
    let checkpoints = deferred.then(|| Checkpoints::start(options.clone(), backend));
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (work, replies): (Vec<J>, Vec<_>) = jobs.into_iter().map(|j| (j.job, j.reply)).unzip();
        if sync.as_ref().is_some_and(Syncer::failed) {
            refuse(replies, storage_failed);
            continue;
        }
        let done = match connection(&mut conn, options, backend, deferred).await {
            Ok(c) => {
                if let Some(checkpoints) = &checkpoints {
                    checkpoints.finish(c).await;
                }
                commit(c, backend, &mut kept, work).await
            }
            Err(e) => Err(e.into()),
        };
        match done {
            Ok(results) => {
                let answers: Vec<Answer> = replies.into_iter().zip(results).collect();
                if let Some(checkpoints) = &checkpoints {
                    checkpoints.committed();
                }
                match &sync {
                    Some(sync) => sync.after_flush(move |durable| {
                        if durable {
                            answer(answers);
                        } else {
                            refuse(answers.into_iter().map(|(reply, _)| reply), not_durable);
                        }
                    }),
                    None => answer(answers),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a batch did not commit");
                // The next batch starts on a fresh connection: whatever went wrong, this one
                // is closed (rolling back anything left of the batch).
                conn = None;
                for reply in replies {
                    let _ = reply.send(Err(ApiError::new(
                        e.code,
                        "the batch did not commit; nothing was changed",
                    )));
                }
            }
        }
    }
    if let Some(conn) = conn {
        let _ = conn.close().await;
    }
}

/// The committer's connection, opened again if the last batch failed.
async fn connection<'c>(
    conn: &'c mut Option<AnyConnection>,
    options: &AnyConnectOptions,
    backend: Backend,
    deferred: bool,
) -> Result<&'c mut AnyConnection, sqlx::Error> {
    match conn {
        Some(open) => Ok(open),
        None => Ok(conn.insert(connect(options, backend, deferred).await?)),
    }
}

/// A connection for the committer; `deferred`, its commits do not wait for the disk (the
/// syncing thread flushes the WAL before anyone is answered) nor copy the WAL into the
/// database (the checkpointer does, beside it).
async fn connect(
    options: &AnyConnectOptions,
    backend: Backend,
    deferred: bool,
) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = db::connect_one(options, backend).await?;
    if deferred {
        conn.execute("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0")
            .await?;
    }
    Ok(conn)
}

fn answer(answers: Vec<Answer>) {
    for (reply, result) in answers {
        let _ = reply.send(result);
    }
}

/// Answers every one of `replies` with the error `error` makes.
fn refuse(
    replies: impl IntoIterator<Item = oneshot::Sender<ApiResult<Accepted>>>,
    error: fn() -> ApiError,
) {
    for reply in replies {
        let _ = reply.send(Err(error()));
    }
}

fn not_durable() -> ApiError {
    ApiError::new(
        ErrorCode::NotDurable,
        "the server could not confirm this reached its disk; it may or may not have been \
         stored, so check before sending it again",
    )
}

fn storage_failed() -> ApiError {
    ApiError::new(
        ErrorCode::StorageFailed,
        "the server's storage failed and it accepts no more messages until it is restarted",
    )
}

/// One batch: begin under the log-head lock, do the work, write the trail, commit. What the
/// last batch `kept` of the trail is used if the log has not grown since, and is replaced by
/// this batch's only once it has committed.
async fn commit<J: Batched>(
    conn: &mut AnyConnection,
    backend: Backend,
    kept: &mut Kept,
    jobs: Vec<J>,
) -> ApiResult<Vec<ApiResult<Accepted>>> {
    let count = jobs.len();
    let (begin, size) = match backend {
        Backend::Sqlite => (Some("BEGIN IMMEDIATE"), None),
        Backend::Postgres => {
            conn.execute("BEGIN").await?;
            (None, Some(db::lock_log(conn).await?))
        }
    };
    let mut batch = Batch {
        conn,
        begin,
        trail: Appends::resume(size, std::mem::take(kept)),
        writes: Writes::default(),
    };
    let results = J::run_batch(&mut batch, jobs).await?;
    if results.len() != count {
        return Err(ApiError::internal(
            "a batch answered the wrong number of jobs",
        ));
    }
    let Batch {
        conn,
        begin,
        mut trail,
        mut writes,
    } = batch;
    let next = trail.keep();
    trail.flush_into(&mut writes);
    writes.run(conn, begin, true).await?;
    *kept = next;
    Ok(results)
}

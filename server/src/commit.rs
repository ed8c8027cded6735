//! Group commit: write requests that arrive together share one transaction, so one fsync makes
//! a whole batch durable, and the batch's work is done set-wise (a few statements per batch,
//! not per request). The batch's trail events are held in memory and written together just
//! before the commit; every caller is answered only after the batch has committed.

use std::future::Future;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::db::{self, Backend, Tx};
use crate::error::{ApiError, ApiResult};
use crate::trail::{Appends, Kept};
use crate::wire::Accepted;

/// Most requests in one batch.
const MAX_BATCH: usize = 64;

/// A batch: its transaction and the trail events it appends.
pub struct Batch<'c> {
    /// The batch's write transaction (under the log-head lock).
    pub tx: Tx<'c>,
    /// Events appended so far, written by the committer before it commits.
    pub trail: Appends,
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
    /// every batch's critical path. The thread ends when the last handle is dropped.
    pub async fn start(options: AnyConnectOptions, backend: Backend) -> anyhow::Result<Self> {
        let (jobs, rx) = mpsc::channel(1024);
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
                    match db::connect_one(&options, backend).await {
                        Ok(conn) => {
                            let _ = ready.send(Ok(()));
                            run(&options, backend, conn, rx).await;
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
) {
    let mut kept = Kept::default();
    let mut conn = Some(conn);
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (work, replies): (Vec<J>, Vec<_>) = jobs.into_iter().map(|j| (j.job, j.reply)).unzip();
        let done = match connection(&mut conn, options, backend).await {
            Ok(c) => commit(c, &mut kept, work).await,
            Err(e) => Err(e.into()),
        };
        match done {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a batch did not commit");
                // The next batch starts on a fresh connection: whatever went wrong, this one
                // is closed (rolling back anything left of the batch).
                conn = None;
                for reply in replies {
                    let _ = reply.send(Err(ApiError::new(
                        e.status,
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
) -> Result<&'c mut AnyConnection, sqlx::Error> {
    match conn {
        Some(open) => Ok(open),
        None => Ok(conn.insert(db::connect_one(options, backend).await?)),
    }
}

/// One batch: begin under the log-head lock, do the work, write the trail, commit. What the
/// last batch `kept` of the trail is used if the log has not grown since, and is replaced by
/// this batch's only once it has committed.
async fn commit<J: Batched>(
    conn: &mut AnyConnection,
    kept: &mut Kept,
    jobs: Vec<J>,
) -> ApiResult<Vec<ApiResult<Accepted>>> {
    let count = jobs.len();
    let mut tx = conn.begin().await?;
    let size = db::lock_log(&mut tx).await?;
    let mut batch = Batch {
        tx,
        trail: Appends::resume(size, std::mem::take(kept)),
    };
    let results = J::run_batch(&mut batch, jobs).await?;
    if results.len() != count {
        return Err(ApiError::internal(
            "a batch answered the wrong number of jobs",
        ));
    }
    let Batch { mut tx, mut trail } = batch;
    let next = trail.keep();
    trail.flush(&mut tx).await?;
    tx.commit().await?;
    *kept = next;
    Ok(results)
}

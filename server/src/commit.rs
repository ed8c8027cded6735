//! Group commit: write requests that arrive together share one transaction, so one fsync makes
//! a whole batch durable. Each request's work runs inside its own savepoint, so a refused
//! request rolls back alone; every caller is answered only after the batch has committed.

use std::future::Future;
use std::pin::Pin;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::db::{self, Tx};
use crate::error::{ApiError, ApiResult};
use crate::wire::Accepted;

/// Most requests in one batch.
const MAX_BATCH: usize = 64;

/// One request's work inside the batch's transaction.
pub type Work = Box<
    dyn for<'a> FnOnce(&'a mut Tx) -> Pin<Box<dyn Future<Output = ApiResult<Accepted>> + Send + 'a>>
        + Send,
>;

struct Job {
    work: Work,
    reply: oneshot::Sender<ApiResult<Accepted>>,
}

/// Hands write work to the batching task.
#[derive(Clone)]
pub struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the batching task on the current runtime.
    pub fn start(pool: AnyPool) -> Self {
        let (jobs, rx) = mpsc::channel(1024);
        tokio::spawn(run(pool, rx));
        Self { jobs }
    }

    /// Runs `work` in the next batch and returns its result once the batch is durable.
    pub async fn run(&self, work: Work) -> ApiResult<Accepted> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { work, reply })
            .await
            .map_err(|_| ApiError::internal("the committer has stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the committer dropped a request"))?
    }
}

async fn run(pool: AnyPool, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut tx = match db::begin_write(&pool).await {
            Ok(tx) => tx,
            Err(e) => {
                let e = ApiError::from(e);
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(ApiError::new(e.status, e.code, e.message.clone())));
                }
                continue;
            }
        };
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            let result = isolated(&mut tx, job.work).await;
            results.push((job.reply, result));
        }
        match tx.commit().await {
            Ok(()) => {
                for (reply, result) in results {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a batch did not commit");
                for (reply, _) in results {
                    let _ = reply.send(Err(ApiError::internal(
                        "the batch did not commit; nothing was changed",
                    )));
                }
            }
        }
    }
}

/// Runs one request's work in a savepoint: kept if it succeeds, undone if it fails.
async fn isolated(tx: &mut Tx, work: Work) -> ApiResult<Accepted> {
    sqlx::query("SAVEPOINT request").execute(&mut **tx).await?;
    let result = work(tx).await;
    if result.is_err() {
        sqlx::query("ROLLBACK TO SAVEPOINT request")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE SAVEPOINT request")
        .execute(&mut **tx)
        .await?;
    result
}

//! SQLite's write-ahead log, made durable on demand and kept small beside the writer. The
//! group committer commits its batches without waiting for the disk (`synchronous = NORMAL`
//! on its own connection) and answers their callers only once [`Syncer`] has flushed the log
//! file past them: the next batch is decided and written while the previous one reaches the
//! disk. Every other connection keeps `synchronous = FULL`, and a flush of the file covers
//! every commit written to it before. [`Checkpoints`] copy the log into the database without
//! stopping the committer for long.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, Executor, Row};
use tokio::sync::Notify;

use crate::db::{self, Backend};

/// The WAL file of a SQLite database, open for syncing.
#[derive(Debug)]
pub struct Wal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Wal {
    /// The WAL of the database `conn` is connected to, if it is a file in WAL mode (an
    /// in-memory database has none, and nothing to make durable).
    pub async fn of(conn: &mut AnyConnection) -> anyhow::Result<Option<Wal>> {
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Ok(None);
        }
        let mut db_file = None;
        for row in sqlx::query("PRAGMA database_list")
            .fetch_all(&mut *conn)
            .await?
        {
            if row.try_get::<String, _>(1)? == "main" {
                db_file = Some(row.try_get::<String, _>(2)?);
            }
        }
        let Some(db_file) = db_file.filter(|f| !f.is_empty()) else {
            return Ok(None);
        };
        let path = PathBuf::from(format!("{db_file}-wal"));
        let file = open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open the WAL {}: {e}", path.display()))?;
        Ok(Some(Wal {
            path,
            file: Mutex::new(file),
        }))
    }

    /// Flushes everything written to the WAL so far to the disk. Should SQLite ever have
    /// replaced the file (it deletes it when its last connection closes), the current one is
    /// opened and flushed.
    pub fn sync(&self) -> io::Result<()> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| io::Error::other("a WAL sync panicked"))?;
        if !same_file(&file, &self.path)? {
            *file = open(&self.path)?;
        }
        file.sync_data()
    }

    /// [`Wal::sync`] off the async runtime's threads.
    pub async fn sync_async(self: &Arc<Self>) -> io::Result<()> {
        let wal = self.clone();
        tokio::task::spawn_blocking(move || wal.sync())
            .await
            .map_err(io::Error::other)?
    }
}

/// Opened for writing, as some systems require of a file to be flushed; never created here
/// (SQLite creates it).
fn open(path: &std::path::Path) -> io::Result<File> {
    File::options().read(true).write(true).open(path)
}

#[cfg(unix)]
fn same_file(file: &File, path: &std::path::Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (open, named) = (file.metadata()?, std::fs::metadata(path)?);
    Ok(open.dev() == named.dev() && open.ino() == named.ino())
}

/// Elsewhere a file that is open cannot be deleted, so it is still the one named.
#[cfg(not(unix))]
fn same_file(_file: &File, _path: &std::path::Path) -> io::Result<bool> {
    Ok(true)
}

/// Least time between two checkpoints of the WAL while batches keep coming.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);

/// Pages in the WAL past which it is started again from its beginning (16 MiB of 4 KiB
/// pages): the file stays about this size.
const RESTART_PAGES: i64 = 4096;

/// Checkpoints of the WAL, in two steps so that batches do not wait for the copy: the
/// checkpointer, beside the committer, copies what the WAL holds into the database and
/// flushes it, every [`CHECKPOINT_PAUSE`] while batches come; once the WAL holds
/// [`RESTART_PAGES`], the committer copies the little written since, between two batches, so
/// that its next batch finds the whole WAL in the database and SQLite starts the WAL again
/// from its beginning (a WAL that is never wholly copied only grows, as writers that never
/// pause make it). Done inside a batch's commit, as SQLite does by default, each copy and its
/// two flushes would hold up every caller waiting for the next batch.
#[derive(Default)]
pub(crate) struct Checkpoints {
    /// Wakes the checkpointer: a batch has committed.
    wake: Notify,
    /// The checkpointer has copied a WAL due to start again: the committer's turn.
    copied: AtomicBool,
}

impl Checkpoints {
    /// Starts the checkpointer, on the current runtime, with a connection of its own to the
    /// database `options` point to.
    pub(crate) fn start(options: AnyConnectOptions, backend: Backend) -> Arc<Self> {
        let checkpoints = Arc::new(Self::default());
        tokio::spawn(checkpointer(options, backend, checkpoints.clone()));
        checkpoints
    }

    /// Tells the checkpointer a batch has committed.
    pub(crate) fn committed(&self) {
        self.wake.notify_one();
    }

    /// The committer's step, if it is due: a passive checkpoint of what the checkpointer left.
    pub(crate) async fn finish(&self, conn: &mut AnyConnection) {
        if self.copied.swap(false, Ordering::SeqCst)
            && let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await
        {
            tracing::warn!(error = %e, "could not checkpoint the WAL");
        }
    }
}

/// The checkpointer's step: once woken, a passive checkpoint (which blocks no writer), at
/// most every [`CHECKPOINT_PAUSE`].
async fn checkpointer(options: AnyConnectOptions, backend: Backend, checkpoints: Arc<Checkpoints>) {
    let mut conn: Option<AnyConnection> = None;
    loop {
        checkpoints.wake.notified().await;
        let c = match conn.as_mut() {
            Some(c) => Ok(c),
            None => db::connect_one(&options, backend)
                .await
                .map(|c| conn.insert(c)),
        };
        // (whether it was blocked, pages in the WAL, pages now in the database)
        let done = match c {
            Ok(c) => sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(c)
                .await
                .map(|(_, pages, _)| pages),
            Err(e) => Err(e),
        };
        match done {
            Ok(pages) if pages >= RESTART_PAGES => checkpoints.copied.store(true, Ordering::SeqCst),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not checkpoint the WAL");
                conn = None;
            }
        }
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
}

/// What to do once the WAL is flushed past a batch: told whether it is known to be on disk.
type Then = Box<dyn FnOnce(bool) + Send>;

/// A thread that flushes the WAL past what is handed to it: one flush for everything handed
/// over while the last one ran.
pub(crate) struct Syncer {
    waiting: mpsc::Sender<Then>,
    failed: Arc<AtomicBool>,
}

impl Syncer {
    /// Starts the thread, flushing `wal`.
    pub(crate) fn start(wal: Arc<Wal>) -> io::Result<Self> {
        let (waiting, rx) = mpsc::channel::<Then>();
        let failed = Arc::new(AtomicBool::new(false));
        let failing = failed.clone();
        std::thread::Builder::new()
            .name("ferry-sync".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    // Everything committed by now is in the file: one flush covers it all.
                    let mut batch = vec![first];
                    batch.extend(rx.try_iter());
                    let durable = !failing.load(Ordering::SeqCst)
                        && match wal.sync() {
                            Ok(()) => true,
                            Err(e) => {
                                // Whether these reached the disk is unknown, and so is all
                                // written after them: nothing more is promised until a
                                // restart, when SQLite recovers what the disk really holds.
                                tracing::error!(
                                    error = %e,
                                    "flushing the database's WAL failed; writes are refused until the server is restarted"
                                );
                                failing.store(true, Ordering::SeqCst);
                                false
                            }
                        };
                    for then in batch {
                        then(durable);
                    }
                }
            })?;
        Ok(Self { waiting, failed })
    }

    /// Calls `then(true)` once everything written to the WAL before this call is on disk, or
    /// `then(false)` if that is not known: a flush failed, and from then on every call gets
    /// `false`.
    pub(crate) fn after_flush(&self, then: impl FnOnce(bool) + Send + 'static) {
        if let Err(mpsc::SendError(then)) = self.waiting.send(Box::new(then)) {
            then(false);
        }
    }

    /// Whether a flush has failed.
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::Wal;

    #[test]
    fn a_replaced_file_is_opened_again() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("db-wal");
        std::fs::write(&path, b"first")?;
        let wal = Wal {
            file: std::sync::Mutex::new(super::open(&path)?),
            path: path.clone(),
        };
        wal.sync()?;
        std::fs::remove_file(&path)?;
        std::fs::write(&path, b"second")?;
        wal.sync()?;
        let file = wal.file.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        assert!(super::same_file(&file, &path)?);
        drop(file);
        std::fs::remove_file(&path)?;
        assert!(wal.sync().is_err(), "a WAL that is gone cannot be synced");
        Ok(())
    }
}

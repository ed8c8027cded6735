//! The whole-log audit's signature checks, on every core while the log is still being read:
//! the in-order pass hands statements over as it goes, in batches, and each worker takes the
//! next batch, so no core waits for a page to be finished.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

use ferry_crypto::statement::verify_batched;
use ferry_crypto::{SignedStatement, StatementKind, VerifyingKey};

/// Statements handed to a worker at a time (one Ed25519 batch).
const BATCH: usize = 64;

/// Batches queued per worker before the in-order pass waits, which bounds memory.
const QUEUED_PER_WORKER: usize = 4;

/// An event whose signature is still to be checked, with its signer's key.
pub(super) struct Unchecked {
    /// The event's position in the log.
    pub idx: u64,
    /// The event's case, if any.
    pub case_id: Option<String>,
    /// The signed statement.
    pub statement: SignedStatement,
    /// The key of the account that signed it, from its key card earlier in the log.
    pub key: VerifyingKey,
}

/// An event whose signature does not verify.
pub(super) struct Failed {
    /// The event's position in the log.
    pub idx: u64,
    /// The event's case, if any.
    pub case_id: Option<String>,
    /// Its statement kind.
    pub kind: StatementKind,
    /// The account it names as signer.
    pub signer: String,
}

/// What the workers found.
pub(super) struct Found {
    /// The events whose signature does not verify, in log order.
    pub failed: Vec<Failed>,
    /// False if a worker died, so some signatures were never checked.
    pub complete: bool,
}

/// Workers checking signatures, one per core, fed batch by batch.
pub(super) struct Checker<'scope> {
    queue: Option<SyncSender<Vec<Unchecked>>>,
    batch: Vec<Unchecked>,
    workers: Vec<ScopedJoinHandle<'scope, Vec<Failed>>>,
    /// Set when the queue was found closed: every worker had died.
    lost: bool,
}

impl<'scope> Checker<'scope> {
    /// Starts one worker per core in `scope`.
    pub fn start<'env>(scope: &'scope Scope<'scope, 'env>) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (queue, batches) = sync_channel(threads * QUEUED_PER_WORKER);
        let batches = Arc::new(Mutex::new(batches));
        let workers = (0..threads)
            .map(|_| {
                let batches = Arc::clone(&batches);
                scope.spawn(move || work(&batches))
            })
            .collect();
        Self {
            queue: Some(queue),
            batch: Vec::with_capacity(BATCH),
            workers,
            lost: false,
        }
    }

    /// Queues one signature to check (waiting while the workers are far behind).
    pub fn check(&mut self, item: Unchecked) {
        self.batch.push(item);
        if self.batch.len() == BATCH {
            self.send();
        }
    }

    /// Checks what is left and waits for every worker.
    pub fn finish(mut self) -> Found {
        if !self.batch.is_empty() {
            self.send();
        }
        // Closing the queue lets each worker stop once it is empty.
        self.queue = None;
        let mut found = Found {
            failed: vec![],
            complete: !self.lost,
        };
        for worker in self.workers {
            match worker.join() {
                Ok(failed) => found.failed.extend(failed),
                Err(_) => found.complete = false,
            }
        }
        found.failed.sort_by_key(|f| f.idx);
        found
    }

    fn send(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(queue) = &self.queue
            && queue.send(batch).is_err()
        {
            self.lost = true;
        }
    }
}

/// A worker: checks batches until the queue is closed and empty.
fn work(batches: &Mutex<Receiver<Vec<Unchecked>>>) -> Vec<Failed> {
    let mut failed = vec![];
    loop {
        // The lock is held only while taking a batch, never while checking one.
        let next = match batches.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return failed,
        };
        let Ok(batch) = next else {
            return failed;
        };
        let items: Vec<_> = batch.iter().map(|u| (&u.statement, &u.key)).collect();
        for i in verify_batched(&items) {
            let u = &batch[i];
            failed.push(Failed {
                idx: u.idx,
                case_id: u.case_id.clone(),
                kind: u.statement.kind,
                signer: u.statement.signer.to_string(),
            });
        }
    }
}

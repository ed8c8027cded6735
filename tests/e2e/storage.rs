//! What SQLite keeps on disk while submissions keep coming. The committer leaves flushing and
//! checkpointing the WAL to threads beside it; the WAL must still be copied into the database
//! and started again (or it only grows), and everything accepted must be there after a
//! restart.

use ferry_crypto::Role;
use ferry_crypto::seal::SealedMessage;

use crate::attacks::{sealed, submit};
use crate::harness::{TestServer, World, on_postgres};

/// Letters per author, and the size of each (near the largest a letter may be): 48 MiB in all,
/// three times the 16 MiB at which the WAL is started again.
const LETTERS: u64 = 128;
const LETTER_BYTES: usize = 192 << 10;

#[test]
fn the_wal_stays_bounded_while_submissions_keep_coming() {
    if on_postgres("the_wal_stays_bounded_while_submissions_keep_coming") {
        return;
    }
    let w = World::new();
    let before = w.server.scalar("SELECT COUNT(*) FROM messages");
    let authors = [
        (w.harmed.account(), Role::Responsible),
        (w.responsible.account(), Role::Harmed),
    ];
    let body = "words of a long letter, ".repeat(LETTER_BYTES / 24);
    let work: Vec<Vec<SealedMessage>> = authors
        .iter()
        .map(|(a, to)| {
            let first = a.next_seq().unwrap();
            (first..first + LETTERS)
                .map(|seq| sealed(a, &w.case, *to, seq, &body))
                .collect()
        })
        .collect();
    // Both authors at once, each letter as soon as the last is answered: batches keep coming.
    let accepted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = authors
            .iter()
            .zip(&work)
            .map(|((a, _), letters)| {
                s.spawn(|| {
                    letters
                        .iter()
                        .filter(|m| submit(a, &w.case, m).is_ok())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(accepted as u64, 2 * LETTERS);
    let wal = std::fs::metadata(w.server.dir.path().join("ferry.db-wal"))
        .unwrap()
        .len();
    let written = 2 * LETTERS * LETTER_BYTES as u64;
    // At most the 16 MiB at which it starts again, and what a few batches add meanwhile.
    assert!(
        wal < 24 << 20,
        "the WAL holds {wal} bytes after {written} were written: it was not started again"
    );

    // Stopped without a clean shutdown and started again: every accepted letter is there.
    let dir = w.server.kill();
    let again = TestServer::start_in(dir);
    again.assert_messages(before + 2 * LETTERS as i64);
}

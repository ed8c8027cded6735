//! What SQLite keeps on disk while submissions keep coming. The committer leaves flushing and
//! checkpointing the WAL to threads beside it; the WAL must still be copied into the database
//! and started again (or it only grows), and everything accepted must be there after a
//! restart.

use ferry_crypto::Role;
use ferry_crypto::seal::SealedMessage;

use crate::attacks::{sealed, submit};
use crate::harness::{Backend, TestServer, World, use_backend};

/// Letters per author, and the size of each (near the largest a letter may be): 48 MiB in all,
/// three times the 16 MiB at which the WAL is started again.
const LETTERS: u64 = 128;
const LETTER_BYTES: usize = 192 << 10;

#[test]
fn the_wal_stays_bounded_while_submissions_keep_coming() {
    use_backend(Backend::Sqlite);
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

/// The mode bits of a file or folder, in octal.
fn mode(path: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// Only the server's own user can open its data: the data folder and attachment folder are
/// 0700, the database, its WAL and shared-memory files and every blob are 0600.
#[test]
fn the_server_keeps_its_files_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = TestServer::start_with(dir, |c| {
        c.data_dir = Some(data.clone());
        c.server_key = ferry_server::Config::default().server_key;
        c.blob_dir = ferry_server::Config::default().blob_dir;
        if c.database_url.starts_with("sqlite:") {
            c.database_url = ferry_server::Config::default().database_url;
        }
        c.apply_data_dir();
    });
    let w = World::on(server);
    let scan = w.harmed.file("scan.jpg", "a scanned page");
    let letter = w.harmed.file("letter.txt", "A letter with a scan");
    w.harmed
        .ok(&["write", "letter", "--file", &letter, "--attach", &scan]);

    assert_eq!(mode(&data), "700", "the data folder");
    assert_eq!(mode(&data.join("blobs")), "700", "the attachment folder");
    assert_eq!(
        mode(&data.join("ferry-server.key")),
        "600",
        "the server key"
    );
    let blobs: Vec<_> = std::fs::read_dir(data.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!blobs.is_empty(), "no blob was stored");
    for blob in blobs {
        assert_eq!(mode(&blob), "600", "{}", blob.display());
    }
    if crate::harness::postgres_url().is_none() {
        for name in ["ferry.db", "ferry.db-wal", "ferry.db-shm"] {
            assert_eq!(mode(&data.join(name)), "600", "{name}");
        }
    }
}

//! Streaming attachments: round-trip, tamper detection, and flat memory on a 1 GiB stream.

use std::io::{self, Read, Write};

use ferry_crypto::attachment::{open_attachment, reseal_attachment, seal_attachment};
use ferry_crypto::{CryptoError, Identity, Sha256Hash};

use crate::common::flipped;

/// An endless, cheap, non-repeating-looking byte source.
struct Pattern {
    remaining: u64,
    state: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.remaining as usize);
        for chunk in buf[..n].chunks_mut(8) {
            self.state = self
                .state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let bytes = self.state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[test]
fn attachments_round_trip_and_reseal_for_a_recipient() {
    let sender = Identity::generate("Sender").unwrap();
    let facilitator = Identity::generate("Facilitator").unwrap();
    let recipient = Identity::generate("Recipient").unwrap();
    let data: Vec<u8> = {
        let mut v = vec![];
        Pattern {
            remaining: 300_000,
            state: 1,
        }
        .read_to_end(&mut v)
        .unwrap();
        v
    };
    let mut blob = vec![];
    let sealed = seal_attachment(
        &sender,
        &[facilitator.recipient()],
        "reply.jpg",
        &data[..],
        &mut blob,
    )
    .unwrap();
    assert_eq!(sealed.plaintext.size, 300_000);
    assert_eq!(sealed.blob.size, blob.len() as u64);

    let mut out = vec![];
    open_attachment(
        &facilitator,
        &sealed.blob,
        &sealed.plaintext,
        &blob[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, data);

    let mut forwarded = vec![];
    let fblob = reseal_attachment(
        &facilitator,
        &sealed.blob,
        &sealed.plaintext,
        &[recipient.recipient()],
        &blob[..],
        &mut forwarded,
    )
    .unwrap();
    let mut out = vec![];
    open_attachment(
        &recipient,
        &fblob,
        &sealed.plaintext,
        &forwarded[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, data);

    // The recipient cannot open the original blob.
    let err = open_attachment(
        &recipient,
        &sealed.blob,
        &sealed.plaintext,
        &blob[..],
        &mut vec![],
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::NotARecipient), "{err:?}");
}

#[test]
fn tampered_or_substituted_attachments_fail() {
    let sender = Identity::generate("Sender").unwrap();
    let fac = Identity::generate("Facilitator").unwrap();
    let mut blob = vec![];
    let sealed = seal_attachment(
        &sender,
        &[fac.recipient()],
        "a.txt",
        &b"the real scan"[..],
        &mut blob,
    )
    .unwrap();
    for i in (0..blob.len()).step_by(7) {
        let err = open_attachment(
            &fac,
            &sealed.blob,
            &sealed.plaintext,
            &flipped(&blob, i)[..],
            io::sink(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                CryptoError::Decrypt(_)
                    | CryptoError::NotARecipient
                    | CryptoError::CiphertextMismatch
            ),
            "byte {i}: {err:?}"
        );
    }
    // Trailing bytes after the stream.
    let mut longer = blob.clone();
    longer.push(0);
    assert!(
        open_attachment(
            &fac,
            &sealed.blob,
            &sealed.plaintext,
            &longer[..],
            io::sink()
        )
        .is_err()
    );
    // A different, validly encrypted file in its place.
    let mut other = vec![];
    let other_sealed = seal_attachment(
        &sender,
        &[fac.recipient()],
        "a.txt",
        &b"a fake scan!!"[..],
        &mut other,
    )
    .unwrap();
    let err = open_attachment(
        &fac,
        &other_sealed.blob,
        &sealed.plaintext,
        &other[..],
        io::sink(),
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::AttachmentMismatch), "{err:?}");
    // Bad names are refused.
    assert!(seal_attachment(&sender, &[], "../etc/passwd", &b""[..], io::sink()).is_err());
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A writer that only counts.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_one_gib_attachment_streams_in_flat_memory() {
    const SIZE: u64 = 1 << 30;
    let sender = Identity::generate("Sender").unwrap();
    let fac = Identity::generate("Facilitator").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.age");
    let before = peak_rss_kib();

    let file = std::fs::File::create(&path).unwrap();
    let sealed = seal_attachment(
        &sender,
        &[fac.recipient()],
        "big.bin",
        Pattern {
            remaining: SIZE,
            state: 7,
        },
        io::BufWriter::new(file),
    )
    .unwrap();
    assert_eq!(sealed.plaintext.size, SIZE);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), sealed.blob.size);

    let mut count = Count(0);
    let file = io::BufReader::new(std::fs::File::open(&path).unwrap());
    let written = open_attachment(&fac, &sealed.blob, &sealed.plaintext, file, &mut count).unwrap();
    assert_eq!((written, count.0), (SIZE, SIZE));

    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        assert!(
            grown_mib < 64,
            "peak memory grew by {grown_mib} MiB while streaming 1 GiB"
        );
    }
}

/// A reader that hands out at most `step` bytes per read.
struct Dribble<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[test]
fn digests_hold_across_hand_over_boundaries_and_odd_reads() {
    const MIB: usize = 1 << 20;
    let sender = Identity::generate("Sender").unwrap();
    let fac = Identity::generate("Facilitator").unwrap();
    let seal = |data: &[u8], step: usize| {
        let mut blob = vec![];
        let sealed = seal_attachment(
            &sender,
            &[fac.recipient()],
            "scan.bin",
            Dribble { bytes: data, step },
            &mut blob,
        )
        .unwrap();
        (sealed, blob)
    };
    // The blob's fixed overhead: its header plus 16 bytes per 64 KiB chunk.
    let (_, empty) = seal(b"", 1);
    let header = empty.len() - 16;
    let chunks = |n: usize| n.div_ceil(64 * 1024).max(1);
    // A plaintext whose blob ends exactly on a 2 MiB boundary.
    let exact = (2 * MIB - header - 16 * 32..2 * MIB)
        .find(|&n| header + n + 16 * chunks(n) == 2 * MIB)
        .unwrap();
    let all: Vec<u8> = {
        let mut v = vec![];
        Pattern {
            remaining: 2 * MIB as u64 + 12_345,
            state: 3,
        }
        .read_to_end(&mut v)
        .unwrap();
        v
    };
    for (size, step) in [
        (0, 1),
        (1, 1),
        (MIB - 1, 4093),
        (MIB, 65_536),
        (MIB + 1, 1 << 20),
        (exact, 777),
        (all.len(), 100_003),
    ] {
        let data = &all[..size];
        let (sealed, blob) = seal(data, step);
        assert_eq!(sealed.blob.size, blob.len() as u64, "size {size}");
        assert_eq!(sealed.plaintext.size, size as u64);
        assert_eq!(sealed.blob.sha256, Sha256Hash::of(&blob), "size {size}");
        assert_eq!(sealed.plaintext.sha256, Sha256Hash::of(data), "size {size}");

        let mut out = vec![];
        let input = Dribble { bytes: &blob, step };
        open_attachment(&fac, &sealed.blob, &sealed.plaintext, input, &mut out).unwrap();
        assert!(out == data, "size {size}: opened bytes differ");

        // One byte more, or one byte less, is not the blob.
        let mut longer = blob.clone();
        longer.push(0);
        let err = open_attachment(
            &fac,
            &sealed.blob,
            &sealed.plaintext,
            &longer[..],
            io::sink(),
        )
        .unwrap_err();
        // (After a short last chunk, the extra byte becomes part of that chunk.)
        assert!(
            matches!(
                err,
                CryptoError::CiphertextMismatch | CryptoError::Decrypt(_)
            ),
            "size {size}: {err:?}"
        );
        let shorter = &blob[..blob.len() - 1];
        assert!(
            open_attachment(&fac, &sealed.blob, &sealed.plaintext, shorter, io::sink()).is_err(),
            "size {size}"
        );
    }
}

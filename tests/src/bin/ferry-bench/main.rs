//! `ferry-bench`: Ferry's speed as ratios against the raw ceiling of the same work, measured
//! in the same run on the same machine (absolute numbers do not compare between runs).
//!
//! Run: `cargo run --release -p ferry-tests --bin ferry-bench -- [--quick]`.

use std::time::{Duration, Instant};

use anyhow::Result;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use clap::Parser;

mod audit;
mod cpu;
mod submissions;
use ferry_crypto::Identity;
use ferry_crypto::attachment::{open_attachment, seal_attachment};
use ferry_crypto::log_format::{self, HashReader, TreeError, TreeHash};

/// Ferry's benchmarks.
#[derive(Parser)]
struct Args {
    /// A shorter run (under two minutes on two cores) for routine use.
    #[arg(long)]
    quick: bool,
    /// Only these figures (1 to 5; repeatable). All of them when not given.
    #[arg(long = "figure", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    figures: Vec<u8>,
    /// Only time sealing FILE as `ferry write --attach` does (best of three), and print the
    /// seconds; the web page's benchmark (`web/bench`) compares the browser against it.
    #[arg(long, value_name = "FILE")]
    seal_file: Option<std::path::PathBuf>,
}

impl Args {
    fn wants(&self, figure: u8) -> bool {
        self.figures.is_empty() || self.figures.contains(&figure)
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(file) = &args.seal_file {
        return seal_file(file);
    }
    println!(
        "Ferry benchmarks{} — each figure against its ceiling, measured in this run",
        if args.quick { " (quick)" } else { "" }
    );
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model()
    );
    println!();
    if args.wants(1) {
        attachments(&args)?;
    }
    if args.wants(2) {
        audit::run(args.quick)?;
    }
    if args.wants(3) {
        submissions::run(args.quick, None)?;
    }
    if args.wants(4) {
        if let Ok(pg) = std::env::var("FERRY_BENCH_POSTGRES_URL") {
            submissions::run(args.quick, Some(&pg))?;
        } else {
            println!(
                "4. (set FERRY_BENCH_POSTGRES_URL to an empty PostgreSQL database to measure it)"
            );
            println!();
        }
    }
    if args.wants(5) {
        proofs(&args)?;
    }
    Ok(())
}

/// Times sealing `path` to a facilitator and the author, as `ferry write --attach` does.
fn seal_file(path: &std::path::Path) -> Result<()> {
    let author = Identity::generate("author")?;
    let facilitator = Identity::generate("facilitator")?.recipient();
    let (took, sealed) = best(3, || -> Result<_> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        Ok(seal_attachment(
            &author,
            std::slice::from_ref(&facilitator),
            "file",
            file,
            std::io::sink(),
        )?)
    });
    let sealed = sealed?;
    println!(
        "sealed {} bytes in {:.3} s",
        sealed.plaintext.size,
        took.as_secs_f64()
    );
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Best of `runs` (at least one) timings of `f`, with its last result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let t = Instant::now();
    let mut out = f();
    let mut best = t.elapsed();
    for _ in 1..runs {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn line(name: &str, rate: f64, unit: &str, ceiling: f64, target: Option<f64>) {
    let ratio = rate / ceiling;
    let verdict = match target {
        Some(t) if ratio >= t => format!("target ≥ {t:.2}: met"),
        Some(t) => format!("target ≥ {t:.2}: NOT MET"),
        None => "no target".into(),
    };
    println!(
        "  {name:<44} {rate:>10.1} {unit:<8} ceiling {ceiling:>10.1} {unit:<8} ratio {ratio:>5.2}  ({verdict})"
    );
}

/// Figure 1: sealing and opening a large attachment against raw ChaCha20-Poly1305 over the
/// same bytes in the same 64 KiB chunks age uses.
fn attachments(args: &Args) -> Result<()> {
    let size: usize = if args.quick { 64 << 20 } else { 512 << 20 };
    println!(
        "1. Attachments ({} MiB): sealing and opening vs raw ChaCha20-Poly1305",
        size >> 20
    );
    let data: Vec<u8> = (0..size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[0])
        .collect();
    let sender = Identity::generate("Sender")?;
    let reader = Identity::generate("Reader")?;

    let cipher = ChaCha20Poly1305::new(Key::from_slice(&[7u8; 32]));
    let mut buf = data.clone();
    let (raw, _) = best(3, || {
        for (i, chunk) in buf.chunks_mut(64 * 1024).enumerate() {
            let mut nonce = [0u8; 12];
            nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let _ = cipher.encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", chunk);
        }
    });
    let mut blob = Vec::with_capacity(size + size / 1000 + 1024);
    let (seal, sealed) = best(3, || {
        blob.clear();
        seal_attachment(
            &sender,
            &[reader.recipient()],
            "scan.bin",
            &data[..],
            &mut blob,
        )
    });
    let sealed = sealed?;
    let (open, opened) = best(3, || {
        open_attachment(
            &reader,
            &sealed.blob,
            &sealed.plaintext,
            &blob[..],
            std::io::sink(),
        )
    });
    anyhow::ensure!(opened? == size as u64, "the attachment did not open whole");
    let age_id: age::x25519::Identity = reader
        .age_secret_key()
        .parse()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (age_only, read) = best(3, || -> Result<u64> {
        let d = age::Decryptor::new_buffered(&blob[..])?;
        let mut r = d.decrypt(std::iter::once(&age_id as &dyn age::Identity))?;
        Ok(std::io::copy(&mut r, &mut std::io::sink())?)
    });
    anyhow::ensure!(read? == size as u64, "age did not decrypt the whole file");
    let (sha, _) = best(3, || ferry_crypto::Sha256Hash::of(&data));
    let mb = |d: Duration| size as f64 / d.as_secs_f64() / 1e6;
    line(
        "(diagnostic) SHA-256 alone, one core",
        mb(sha),
        "MB/s",
        mb(raw),
        None,
    );
    // Sealing and opening do three passes over the bytes (encryption and two digests); on
    // two cores the best any split can do is the work of all three shared by both.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let bound = |encrypt: f64| (cores / (mb(raw) / encrypt + 2.0 * mb(raw) / mb(sha))).min(1.0);
    println!(
        "  (diagnostic) best possible ratio on {cores} cores with both digests: {:.2}; \
         {:.2} at age's own speed",
        bound(mb(raw)),
        bound(mb(age_only)),
    );
    line(
        "(diagnostic) age decryption alone",
        mb(age_only),
        "MB/s",
        mb(raw),
        None,
    );
    line(
        "seal (encrypt + plaintext and blob SHA-256)",
        mb(seal),
        "MB/s",
        mb(raw),
        Some(0.8),
    );
    line(
        "open (decrypt + both SHA-256 checks)",
        mb(open),
        "MB/s",
        mb(raw),
        Some(0.8),
    );
    println!();
    Ok(())
}

/// An in-memory store of a log's stored hashes that counts reads.
struct Memory {
    hashes: Vec<TreeHash>,
    reads: std::cell::Cell<usize>,
}

impl HashReader for Memory {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TreeHash>, TreeError> {
        self.reads.set(self.reads.get() + indexes.len());
        Ok(indexes.iter().map(|&i| self.hashes[i as usize]).collect())
    }
}

/// Figure 5: inclusion and consistency proofs at growing log sizes; time and stored-hash
/// reads must grow logarithmically. The stored hashes are built exactly as the server does.
fn proofs(args: &Args) -> Result<()> {
    let sizes: &[u64] = if args.quick {
        &[10_000, 100_000, 1_000_000]
    } else {
        &[10_000, 1_000_000, 10_000_000]
    };
    let largest = *sizes.last().unwrap_or(&0);
    println!("5. Proofs (stored-hash reads and time per proof; must grow like log n)");
    let mut store = Memory {
        hashes: Vec::with_capacity(2 * largest as usize + 64),
        reads: 0.into(),
    };
    let mut built = 0u64;
    for &n in sizes {
        while built < n {
            let leaf = built.to_le_bytes();
            let new = log_format::stored_hashes(built, &leaf, &store)?;
            store.hashes.extend(new);
            built += 1;
        }
        let root = log_format::tree_hash(n, &store)?;
        let probes: Vec<u64> = (0..200).map(|i| (i * 7_919_993) % n).collect();
        store.reads.set(0);
        let t = Instant::now();
        for &i in &probes {
            let p = log_format::prove_inclusion(n, i, &store)?;
            log_format::check_inclusion(&p, n, root, i, &i.to_le_bytes())?;
        }
        let inclusion = t.elapsed() / probes.len() as u32;
        let inclusion_reads = store.reads.get() / probes.len();
        store.reads.set(0);
        let t = Instant::now();
        for &old in &probes {
            let old = old.max(1);
            let p = log_format::prove_consistency(n, old, &store)?;
            let old_root = log_format::tree_hash(old, &store)?;
            log_format::check_consistency(&p, n, root, old, old_root)?;
        }
        let consistency = t.elapsed() / probes.len() as u32;
        let consistency_reads = store.reads.get() / probes.len();
        println!(
            "  {n:>10} leaves: inclusion {:>6.1} µs, {inclusion_reads:>3} reads; consistency {:>6.1} µs, {consistency_reads:>3} reads (log2 n = {:.1})",
            inclusion.as_secs_f64() * 1e6,
            consistency.as_secs_f64() * 1e6,
            (n as f64).log2()
        );
    }
    println!();
    Ok(())
}

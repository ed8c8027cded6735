//! Figure 2: `ferry audit verify` over a whole log against raw Ed25519 batch verification of
//! the same signatures on every core, measured in the same run.
//!
//! The log is a real one: a server with enrolled people and active cases (made through the
//! API), then message submissions signed by those participants and appended with the server's
//! own append code ([`ferry_server::log_store::Appends`]) in large transactions, which is much
//! quicker than posting a million messages and gives the same events.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use ed25519_dalek::{Signature, VerifyingKey};
use ferry_cli::account::Account;
use ferry_crypto::log_format::Leaf;
use ferry_crypto::seal::Envelope;
use ferry_crypto::statement::signing_input;
use ferry_crypto::{FORMAT_VERSION, Id, Identity, KeyCard, MessageKind, Role, Sha256Hash};
use ferry_crypto::{SignedStatement, StatementKind};
use ferry_server::routes::submit::{MESSAGE_COLUMNS, MESSAGE_ROW, message_row};
use sqlx::Row;

use crate::submissions::{Served, ferry, people, person, serve};

/// Events appended per transaction while building the log.
const PER_TRANSACTION: usize = 10_000;

/// One participant writing the log's messages.
struct Author {
    identity: Identity,
    case: Id,
    to: Role,
    next_seq: u64,
}

/// Runs figure 2 and prints it.
pub fn run(quick: bool) -> Result<()> {
    let events: u64 = if quick { 100_000 } else { 1_000_000 };
    println!(
        "2. `ferry audit verify` over the whole log ({events} events) vs raw Ed25519 batch verification"
    );
    let dir = tempfile::tempdir()?;
    let served = serve(
        format!("sqlite://{}", dir.path().join("ferry.db").display()),
        dir.path(),
    )?;
    let envs = people(&served, dir.path(), 8)?;
    let mut authors = vec![];
    for (env, to) in &envs {
        let account = Account::open(env, None)?;
        authors.push(Author {
            case: account.case(None)?,
            next_seq: account.next_seq()?,
            identity: account.identity,
            to: *to,
        });
    }
    let built = Instant::now();
    fill(&served, &mut authors, events)?;
    served
        .runtime
        .block_on(ferry_server::log_store::checkpoint(&served.state))?;
    println!(
        "    (built the log in {:.0} s)",
        built.elapsed().as_secs_f64()
    );

    // Ceiling: the same signatures over the same bytes, batch-verified on every core, just
    // before the audit and just after it; the mean of the two is the ceiling (this machine's
    // speed drifts from one second to the next).
    let signed = served.runtime.block_on(statements(&served))?;
    let before = ceiling(&signed)?;

    // Ferry: the coordinator's whole-log audit, through the real server.
    let coordinator = person(dir.path(), "coordinator");
    let cpu_before = crate::cpu::used();
    let started = Instant::now();
    let report = ferry(&coordinator, &["audit", "verify"])?;
    let audit = started.elapsed();
    let cpu_after = crate::cpu::used();
    anyhow::ensure!(
        report["clean"] == true && report["log"]["size"].as_u64() == Some(events),
        "the audit did not verify the whole log clean: {}",
        report["log"]["problems"]
    );
    let after = ceiling(&signed)?;
    let verifies = (before + after) / 2.0;
    crate::line(
        "events verified by `ferry audit verify`",
        events as f64 / audit.as_secs_f64(),
        "events/s",
        verifies,
        Some(0.7),
    );
    println!(
        "    audit took {:.1} s: fetch, hash the tree, check chains and rules, and verify {} signatures",
        audit.as_secs_f64(),
        signed.len()
    );
    println!("    ceiling: {before:.0}/s before the audit, {after:.0}/s after it");
    if let (Some((p0, s0)), Some((p1, s1))) = (cpu_before, cpu_after)
        && p1 - p0 > s1 - s0
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let (server, client) = (s1 - s0, (p1 - p0) - (s1 - s0));
        // With the server elsewhere, the client's own CPU time spread over every core.
        let alone = events as f64 / (client / cores) / verifies;
        println!(
            "    CPU in the audit: {client:.1} s the client's, {server:.1} s the server's on the \
             same {cores} cores (with the server on another machine, the client's own work \
             would allow about {alone:.2})"
        );
    }
    println!();
    Ok(())
}

/// Appends message submissions round-robin from `authors` until the log holds `events`.
fn fill(served: &Served, authors: &mut [Author], events: u64) -> Result<()> {
    let now = ferry_server::now();
    loop {
        let size = served
            .runtime
            .block_on(ferry_server::log_store::size(&served.state.pool))?;
        if size >= events {
            return Ok(());
        }
        let count = ((events - size) as usize).min(PER_TRANSACTION);
        let mut envelopes = vec![];
        for i in 0..count {
            let who = i % authors.len();
            let a = &mut authors[who];
            envelopes.push((
                who,
                Envelope {
                    v: FORMAT_VERSION,
                    case_id: a.case.clone(),
                    message_id: Id::random(),
                    kind: MessageKind::Letter,
                    author: a.identity.account_id().clone(),
                    recipient_role: a.to,
                    in_reply_to: None,
                    seq: a.next_seq,
                    created_at: now,
                    ciphertext_sha256: Sha256Hash::of(&a.next_seq.to_le_bytes()),
                    ciphertext_size: 2_000,
                    attachments: vec![],
                    entered_by: None,
                    scan_sha256: None,
                },
            ));
            a.next_seq += 1;
        }
        let signed = sign_all(authors, &envelopes)?;
        // Each message's row too, as a submission stores it: the audit checks the server's
        // states against the events.
        let mut rows = ferry_server::sql::Writes::default();
        let mut values = vec![];
        for ((_, env), st) in envelopes.iter().zip(&signed) {
            values.extend(message_row(env, st.to_json(), vec![0u8; 16], now));
        }
        rows.insert(MESSAGE_COLUMNS, MESSAGE_ROW, values);
        served.runtime.block_on(async {
            let mut tx = ferry_server::db::begin_write(&served.state.pool).await?;
            let mut appends = ferry_server::log_store::Appends::default();
            for ((_, env), st) in envelopes.iter().zip(&signed) {
                appends
                    .append(&mut tx, Some(env.case_id.as_str()), st, now)
                    .await?;
            }
            appends.flush(&mut tx).await?;
            rows.run(&mut tx, None, false).await?;
            tx.commit().await?;
            anyhow::Ok(())
        })?;
    }
}

/// Signs envelopes on every core.
fn sign_all(authors: &[Author], envelopes: &[(usize, Envelope)]) -> Result<Vec<SignedStatement>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = envelopes.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = envelopes
            .chunks(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(a, env)| Ok(authors[*a].identity.sign(env)?))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = vec![];
        for p in parts {
            out.extend(
                p.join()
                    .map_err(|_| anyhow::anyhow!("a signing thread panicked"))??,
            );
        }
        Ok(out)
    })
}

/// Every event's signing input, signature and signer key, read back from the log.
async fn statements(served: &Served) -> Result<Vec<(Vec<u8>, Signature, VerifyingKey)>> {
    let rows = sqlx::query("SELECT leaf FROM events ORDER BY idx")
        .fetch_all(&served.state.pool)
        .await?;
    let leaves: Vec<Leaf> = rows
        .into_iter()
        .map(|r| Ok(Leaf::parse(&r.try_get::<Vec<u8>, _>(0)?)?))
        .collect::<Result<_>>()?;
    let mut keys: HashMap<String, VerifyingKey> = HashMap::from([(
        served.state.server_card.account_id().to_string(),
        *served.state.server_card.verifying_key(),
    )]);
    for leaf in &leaves {
        if leaf.statement.kind == StatementKind::KeyCard {
            let card = KeyCard::verify(leaf.statement.clone())?;
            keys.insert(card.account_id().to_string(), *card.verifying_key());
        }
    }
    leaves
        .into_iter()
        .map(|leaf| {
            let st = leaf.statement;
            let key = *keys
                .get(st.signer.as_str())
                .context("a signer without a key card")?;
            Ok((
                signing_input(st.kind, &st.body),
                Signature::from_bytes(&st.sig),
                key,
            ))
        })
        .collect()
}

/// Raw Ed25519 batch verifications per second on every core (64 per batch).
fn ceiling(signed: &[(Vec<u8>, Signature, VerifyingKey)]) -> Result<f64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = signed.len().div_ceil(threads).max(1);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let parts: Vec<_> = signed
            .chunks(per)
            .map(|part| {
                scope.spawn(move || {
                    part.chunks(64).all(|batch| {
                        let messages: Vec<&[u8]> = batch.iter().map(|(m, _, _)| &m[..]).collect();
                        let sigs: Vec<Signature> = batch.iter().map(|(_, s, _)| *s).collect();
                        let keys: Vec<VerifyingKey> = batch.iter().map(|(_, _, k)| *k).collect();
                        ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok()
                    })
                })
            })
            .collect();
        for p in parts {
            anyhow::ensure!(
                p.join().unwrap_or(false),
                "a signature in the log does not verify"
            );
        }
        Ok(())
    })?;
    Ok(signed.len() as f64 / started.elapsed().as_secs_f64())
}

//! The verifiable trail from outside: audits of a clean record, tampering of every kind
//! detected with a specific message, a rolled-back or forked log stopping clients, process-rule
//! violations written straight into the database, and a log of 100,000 events.

use ferry_crypto::actions::ReadReceipt;
use ferry_crypto::forward::Forward;
use ferry_crypto::log_format::{self, TreeHash};
use ferry_crypto::seal::{self, Letter};
use ferry_crypto::{AccountId, FORMAT_VERSION, Id, MessageKind, Role, Sha256Hash};
use ferry_protocol::{AuditBundle, Proof};

use crate::harness::{TestServer, World, field};

/// A question forwarded and read, an answer returned: a small but complete record.
fn exchange(w: &World) -> String {
    let q = w.question("Why did you pick our house?");
    w.forward(&q, &[]);
    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    w.responsible.ok(&["read", &d]);
    let f = w.responsible.file("a.txt", "I did not pick it.");
    let a = field(
        &w.responsible
            .json(&["write", "answer", "--in-reply-to", &q, "--file", &f]),
        "message_id",
    );
    w.facilitator
        .ok(&["return", &a, "--note", "Please say more."]);
    q
}

/// Runs `ferry audit verify --case` as the auditor; returns what it printed and whether it
/// passed.
fn audit(w: &World) -> (String, bool) {
    let (out, result) = w.auditor.ferry_out(&["audit", "verify", "--case", &w.case]);
    (out, result.is_ok())
}

/// Runs `ferry audit verify` (the whole log, as a service-wide auditor); returns what it
/// printed, with the error if it failed, and whether it passed.
fn audit_log(w: &World) -> (String, bool) {
    let (out, result) = w.auditor.ferry_out(&["audit", "verify"]);
    assert!(
        out.contains("Whole log:") || result.is_err(),
        "not a whole-log audit:\n{out}"
    );
    let clean = result.is_ok();
    let err = result.err().map(|e| format!("{e:#}")).unwrap_or_default();
    (format!("{out}{err}"), clean)
}

fn assert_problem(out: &str, clean: bool, expected: &[&str]) {
    assert!(!clean, "the audit passed:\n{out}");
    for e in expected {
        assert!(out.contains(e), "expected {e:?} in the report:\n{out}");
    }
}

#[test]
fn a_clean_record_audits_clean_online_and_offline() {
    let w = World::new();
    exchange(&w);
    let (out, clean) = audit(&w);
    assert!(clean, "{out}");
    assert!(out.contains("Result: CLEAN"), "{out}");
    for expected in [
        "case-open",
        "allocation",
        "consent",
        "submission",
        "forward",
        "read-receipt",
        "return",
    ] {
        assert!(
            out.contains(expected),
            "{expected} missing from the timeline:\n{out}"
        );
    }
    assert!(
        !out.contains("Why did you pick"),
        "content in an audit report:\n{out}"
    );

    // The auditor sees the record, never the content.
    let auditor = w.auditor.account();
    let q = w.server.first_event(&w.case, "submission");
    let env: ferry_crypto::seal::Envelope = serde_json::from_slice(
        &log_format::Leaf::parse(&w.server.leaf(q.0))
            .unwrap()
            .statement
            .body,
    )
    .unwrap();
    let err = auditor
        .client
        .get::<serde_json::Value>(&format!("/v1/cases/{}/messages/{}", w.case, env.message_id))
        .unwrap_err();
    assert_eq!(crate::harness::code(&err), "not_found");
    // One event and its inclusion proof under a checkpoint, checked by hand.
    let ev: ferry_protocol::EventView = auditor.client.get(&format!("/v1/events/{}", q.0)).unwrap();
    let leaf = ferry_cli::client::b64(&ev.event.leaf).unwrap();
    let proof: Vec<TreeHash> = ev
        .event
        .proof
        .iter()
        .map(|h| log_format::hash_from_hex(h).unwrap())
        .collect();
    let root = log_format::hash_from_hex(&ev.checkpoint.root).unwrap();
    log_format::check_inclusion(&proof, ev.checkpoint.size, root, q.0 as u64, &leaf).unwrap();

    // Every case at once, with a saved checkpoint to continue from next time.
    let saved = w.auditor.env.home.join("last-checkpoint.json");
    let saved = saved.to_str().unwrap();
    w.auditor
        .ok(&["audit", "verify", "--save-checkpoint", saved]);
    exchange_more(&w);
    let out = w
        .auditor
        .ok(&["audit", "verify", "--since-checkpoint", saved]);
    assert!(
        out.contains("including the one you gave") && out.contains("Result: CLEAN"),
        "{out}"
    );

    // The exported bundle verifies offline, and any altered byte of it is caught.
    let bundle_path = w.auditor.env.home.join("bundle.json");
    let bundle_path = bundle_path.to_str().unwrap();
    w.auditor
        .ok(&["audit", "export", "--case", &w.case, "-o", bundle_path]);
    // An auditor elsewhere, given the service's verifier key (as `ferry-server init` prints it).
    let stranger = w.server.person("offline-auditor");
    let vkey = ferry_crypto::log_format::verifier_key(
        &w.server.state.config.log_origin,
        &w.server.state.server_identity.verifying_key(),
    );
    let out = stranger.ok(&["audit", "verify-bundle", bundle_path, "--server-key", &vkey]);
    assert!(
        out.contains("Checked offline against the key given with --server-key")
            && out.contains("Result: CLEAN"),
        "{out}"
    );

    let original = std::fs::read(bundle_path).unwrap();
    let bundle: AuditBundle = serde_json::from_slice(&original).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = vec![];
    // One byte inside an event's leaf (a statement's signature or body).
    let leaf = &bundle.events[3].leaf;
    let at = find(&original, leaf.as_bytes()) + leaf.len() / 2;
    cases.push(("a leaf".into(), flip_base64(&original, at)));
    // One byte of a proof hash.
    let proof = &bundle.events[2].proof[0];
    let at = find(&original, proof.as_bytes()) + 5;
    cases.push(("a proof".into(), replace_hex(&original, at)));
    // One byte of the checkpoint's root line.
    let root_line = bundle.checkpoint.lines().nth(2).unwrap();
    let at = find(&original, root_line.as_bytes()) + 3;
    cases.push(("the checkpoint".into(), flip_base64(&original, at)));
    for (what, altered) in cases {
        let path = w.auditor.env.home.join("altered.json");
        std::fs::write(&path, &altered).unwrap();
        let (out, result) = stranger.ferry_out(&[
            "audit",
            "verify-bundle",
            path.to_str().unwrap(),
            "--server-key",
            &vkey,
        ]);
        assert!(result.is_err(), "altering {what} went unnoticed:\n{out}");
        let message = format!("{out}{:#}", result.unwrap_err());
        assert!(
            message.contains("not included in the signed log")
                || message.contains("signature does not verify")
                || message.contains("not signed by the server's key")
                || message.contains("not valid base64")
                || message.contains("does not parse"),
            "altering {what}: unspecific report:\n{message}"
        );
    }
}

/// The committer reuses its last batch's view of the tree's right edge and of the chain heads
/// only while nobody else has appended since: submissions back to back (reused) and after
/// another writer's event (read again) all chain correctly, and the log hashes to its
/// checkpoint.
#[test]
fn submissions_back_to_back_and_after_other_events_chain_correctly() {
    let w = World::new();
    let first = w.question("First question.");
    w.question("Second question, straight after.");
    w.forward(&first, &[]);
    w.question("Third question, after a forward.");
    w.question("Fourth question.");
    let (out, clean) = audit(&w);
    assert!(clean, "{out}");
    let (out, clean) = audit_log(&w);
    assert!(
        clean && out.contains("hashed again: the root matches"),
        "{out}"
    );
}

fn exchange_more(w: &World) {
    let q = w.question("One more question.");
    w.forward(&q, &[]);
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

/// Changes one base64 character to another valid one.
fn flip_base64(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] = if out[at] == b'A' { b'B' } else { b'A' };
    out
}

fn replace_hex(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] = if out[at] == b'0' { b'1' } else { b'0' };
    out
}

/// A fresh record whose first `kind` event has one base64 character of `field` changed in
/// the database; returns the world and the altered event's index.
fn altered(kind: &str, field: &str, offset: usize) -> (World, i64) {
    let w = World::new();
    exchange(&w);
    let (idx, _) = w.server.first_event(&w.case, kind);
    let leaf = w.server.leaf(idx);
    let at = find(&leaf, format!("\"{field}\":\"").as_bytes()) + offset;
    w.server.set_leaf(idx, &flip_base64(&leaf, at));
    (w, idx)
}

#[test]
fn an_altered_event_body_or_signature_is_detected() {
    // A byte of the statement's body (the submission's signed bytes)…
    let (w, idx) = altered("submission", "body", 20);
    let (out, clean) = audit(&w);
    let expected = format!("event #{idx} (submission) by Harriet: the signature does not verify");
    assert_problem(&out, clean, &[&expected, "not included in the signed log"]);
    let (out, clean) = audit_log(&w);
    assert_problem(
        &out,
        clean,
        &[&expected, "do not hash to the signed checkpoint's root"],
    );
    // …and, on another record, a byte of a signature.
    let (w, idx) = altered("forward", "sig", 12);
    let (out, clean) = audit(&w);
    let expected =
        format!("event #{idx} (forward) by Fiona Facilitator: the signature does not verify");
    assert_problem(&out, clean, &[&expected]);
    let (out, clean) = audit_log(&w);
    assert_problem(&out, clean, &[&expected, "root does NOT match"]);
}

#[test]
fn a_deleted_event_is_detected() {
    let w = World::new();
    exchange(&w);
    let (idx, seq) = w.server.first_event(&w.case, "forward");
    w.server
        .execute(&format!("DELETE FROM events WHERE idx = {idx}"));
    let (out, clean) = audit(&w);
    assert_problem(
        &out,
        clean,
        &[
            &format!("the chain is missing event(s) {seq}..{seq}"),
            &format!("chain is broken at seq {}", seq + 1),
        ],
    );
    // In the whole log, every later event is one place early, and the chain misses one.
    let (out, clean) = audit_log(&w);
    assert_problem(
        &out,
        clean,
        &[
            &format!("the event at position {idx} says it is event #{}", idx + 1),
            &format!("the chain is missing event(s) {seq}..{seq}"),
            "do not hash to the signed checkpoint's root",
        ],
    );
}

#[test]
fn reordered_events_are_detected() {
    let w = World::new();
    exchange(&w);
    let (_, seq) = w.server.first_event(&w.case, "consent");
    let (a, b) = (
        w.server.event_idx(&w.case, seq as u64),
        w.server.event_idx(&w.case, seq as u64 + 1),
    );
    let (la, lb) = (w.server.leaf(a), w.server.leaf(b));
    w.server.set_leaf(a, &lb);
    w.server.set_leaf(b, &la);
    let (out, clean) = audit(&w);
    assert_problem(
        &out,
        clean,
        &[
            "not included in the signed log at that position",
            "appears out of order",
        ],
    );
    let (out, clean) = audit_log(&w);
    assert_problem(
        &out,
        clean,
        &[
            &format!("the event at position {a} says it is event #{b}"),
            &format!("the chain is missing event(s) {seq}..{seq}"),
            &format!("event #{a} has seq {seq} where seq {} was due", seq + 2),
            "do not hash to the signed checkpoint's root",
        ],
    );
}

#[test]
fn an_approval_signed_by_the_server_key_is_detected() {
    let w = World::new();
    let q = w.question("Had you been watching us?");
    // The server forges a facilitator's approval with its own key and logs it properly.
    let fac = w.facilitator.account();
    let detail: ferry_protocol::MessageDetail = fac
        .client
        .get(&format!("/v1/cases/{}/messages/{q}", w.case))
        .unwrap();
    let env: seal::Envelope = serde_json::from_slice(&detail.envelope.body).unwrap();
    let server = &w.server.state.server_identity;
    let forged = server
        .sign(&Forward {
            v: FORMAT_VERSION,
            case_id: env.case_id.clone(),
            message_id: env.message_id.clone(),
            facilitator: server.account_id().clone(),
            recipient: AccountId::try_from(w.responsible.account_id()).unwrap(),
            recipient_role: Role::Responsible,
            original_sha256: env.ciphertext_sha256,
            forwarded_sha256: Sha256Hash::of(b"forged"),
            forwarded_size: 6,
            redacted: false,
            attachments: vec![],
            attachment_decisions: vec![],
            seq: 99,
            created_at: ferry_server::now(),
        })
        .unwrap();
    w.server.append_raw(&w.case, &forged);
    let (out, clean) = audit(&w);
    assert_problem(
        &out,
        clean,
        &["approved by Ferry server, who is not a facilitator allocated to this case"],
    );
    let (out, clean) = audit_log(&w);
    assert_problem(
        &out,
        clean,
        &["approved by Ferry server, who is not a facilitator allocated to this case"],
    );
    // And the same forgery claiming to be the facilitator does not even carry a valid signature.
    let mut claimed = forged.clone();
    claimed.signer = fac.identity.account_id().clone();
    w.server.append_raw(&w.case, &claimed);
    let (out, clean) = audit(&w);
    assert_problem(
        &out,
        clean,
        &["(forward) by Fiona Facilitator: the signature does not verify"],
    );
    let (out, clean) = audit_log(&w);
    assert_problem(
        &out,
        clean,
        &["(forward) by Fiona Facilitator: the signature does not verify"],
    );
}

#[test]
fn process_rule_violations_written_into_the_database_are_reported() {
    let w = World::new();
    let q = exchange(&w);
    let harmed = w.harmed.account();
    let responsible = w.responsible.account();
    let now = ferry_server::now();
    let case = Id::try_from(w.case.as_str()).unwrap();

    // A read receipt by someone the message was never delivered to.
    let fwd_hash = Sha256Hash::of(b"whatever");
    w.server.append_raw(
        &w.case,
        &harmed
            .sign(&ReadReceipt {
                v: FORMAT_VERSION,
                reader: harmed.identity.account_id().clone(),
                case_id: case.clone(),
                message_id: Id::try_from(q.as_str()).unwrap(),
                forwarded_sha256: fwd_hash,
                seq: 90,
                created_at: now,
            })
            .unwrap(),
    );
    // An answer to a question that was never forwarded to its author.
    let letter = Letter {
        v: FORMAT_VERSION,
        case_id: case.clone(),
        message_id: Id::random(),
        kind: MessageKind::Answer,
        author: responsible.identity.account_id().clone(),
        recipient_role: Role::Harmed,
        in_reply_to: Some(Id::try_from("never-forwarded").unwrap()),
        created_at: now,
        body: "x".into(),
        attachments: vec![],
        entered_by: None,
    };
    let fac = w.facilitator.account();
    let sealed = seal::seal(
        &responsible.identity,
        &letter,
        91,
        vec![],
        &[fac.identity.recipient()],
    )
    .unwrap();
    w.server.append_raw(&w.case, &sealed.envelope);

    // A message written while the case is paused.
    w.coordinator.ok(&["case", "pause", &w.case]);
    let paused = Letter {
        message_id: Id::random(),
        kind: MessageKind::Letter,
        in_reply_to: None,
        ..letter
    };
    let sealed = seal::seal(
        &responsible.identity,
        &paused,
        92,
        vec![],
        &[fac.identity.recipient()],
    )
    .unwrap();
    w.server.append_raw(&w.case, &sealed.envelope);
    // Forwarded while paused (held), yet read before any resume: a delivery leaked.
    let leaked = Sha256Hash::of(b"leaked");
    let forward = Forward {
        v: FORMAT_VERSION,
        case_id: case.clone(),
        message_id: paused.message_id.clone(),
        facilitator: fac.identity.account_id().clone(),
        recipient: harmed.identity.account_id().clone(),
        recipient_role: Role::Harmed,
        original_sha256: Sha256Hash::of(&sealed.ciphertext),
        forwarded_sha256: leaked,
        forwarded_size: 6,
        redacted: false,
        attachments: vec![],
        attachment_decisions: vec![],
        seq: 93,
        created_at: now,
    };
    w.server
        .append_raw(&w.case, &fac.identity.sign(&forward).unwrap());
    let receipt = ReadReceipt {
        v: FORMAT_VERSION,
        reader: harmed.identity.account_id().clone(),
        case_id: case.clone(),
        message_id: paused.message_id.clone(),
        forwarded_sha256: leaked,
        seq: 94,
        created_at: now,
    };
    w.server
        .append_raw(&w.case, &harmed.identity.sign(&receipt).unwrap());

    let (case_out, case_clean) = audit(&w);
    let (log_out, log_clean) = audit_log(&w);
    for (out, clean) in [(case_out, case_clean), (log_out, log_clean)] {
        assert_problem(
            &out,
            clean,
            &[
                "read receipt by Harriet",
                "which was not delivered to them",
                "is not a question forwarded to its author",
                "a message was submitted while the case was paused",
                "forwarded",
                "while it was held",
            ],
        );
    }
}

#[test]
fn a_rolled_back_or_forked_log_stops_the_client() {
    // The old copy of the database is taken with SQLite's VACUUM INTO.
    // A backup is taken and restored as SQLite's files.
    crate::harness::use_backend(crate::harness::Backend::Sqlite);
    let w = World::new();
    let backup = w.server.copy_data();
    // The real log grows, and the harmed person's client sees and remembers it.
    let q = w.question("Did you know the children were asleep?");
    w.forward(&q, &[]);
    w.server.checkpoint();
    w.harmed.ok(&["inbox"]);

    // Rolled back: the server is restored from the older copy.
    let rolled = TestServer::start_in(backup);
    let (out, result) = w.harmed.ferry_out(&["--server", &rolled.url, "inbox"]);
    let err = format!("{:#}", result.expect_err("a rolled-back log was accepted"));
    assert!(err.contains("was ROLLED BACK"), "{out}{err}");

    // Forked: the old copy grows differently (the coordinator, who had not seen the newer
    // events, keeps working there) until it is longer than the real log.
    for i in 0..8 {
        w.coordinator.ok(&[
            "--server",
            &rolled.url,
            "case",
            "open",
            "--reference",
            &format!("F-{i}"),
            "--category",
            "theft",
        ]);
    }
    rolled.checkpoint();
    let (out, result) = w.harmed.ferry_out(&["--server", &rolled.url, "inbox"]);
    let err = format!("{:#}", result.expect_err("a forked log was accepted"));
    assert!(err.contains("has FORKED"), "{out}{err}");
    // The coordinator, once holding the fork's checkpoint, is stopped by the real server too.
    w.coordinator.ok(&["--server", &rolled.url, "case", "list"]);
    w.server.checkpoint();
    let (out, result) = w.coordinator.ferry_out(&["case", "list"]);
    let err = format!(
        "{:#}",
        result.expect_err("the real log was accepted after the fork")
    );
    assert!(
        err.contains("FORKED") || err.contains("ROLLED BACK"),
        "{out}{err}"
    );
    // The evidence is kept.
    let kept = std::fs::read_dir(w.harmed.env.home.join("checkpoints"))
        .unwrap()
        .count();
    assert!(kept >= 2, "no evidence kept");
}

/// RFC 6962 Merkle tree hash, computed directly from all leaf hashes: an independent check
/// of the stored-hash implementation.
fn reference_root(leaves: &[TreeHash]) -> TreeHash {
    use sha2_like::node;
    match leaves.len() {
        0 => TreeHash(Sha256Hash::of(b"").0),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node(reference_root(&leaves[..k]), reference_root(&leaves[k..]))
        }
    }
}

mod sha2_like {
    use ferry_crypto::Sha256Hash;
    use ferry_crypto::log_format::TreeHash;

    pub fn node(l: TreeHash, r: TreeHash) -> TreeHash {
        TreeHash(Sha256Hash::of_parts(&[&[1u8], &l.0, &r.0]).0)
    }
}

#[test]
fn a_log_of_100000_events_proves_correctly() {
    // Proof sizes and reads do not depend on the database; one run of 100,000 appends is
    // enough (the benchmarks measure PostgreSQL).
    // A large log is built quickest on SQLite; the proofs are the same SQL on both.
    crate::harness::use_backend(crate::harness::Backend::Sqlite);
    let server = TestServer::start();
    let coordinator = server.person("coordinator");
    coordinator.ok(&[
        "enrol",
        &server.url,
        &server.coordinator_code(),
        "--name",
        "Chris",
    ]);
    let account = coordinator.account();
    let statement = account.identity.key_card(0).unwrap().statement().clone();
    let sizes: [u64; 9] = [1, 2, 3, 7, 1000, 65536, 65537, 99_999, 100_000];
    let start = server.scalar("SELECT size FROM log_head") as u64;
    let mut checkpoints = vec![];
    for &target in &sizes {
        if target > start {
            server.append_many(
                &statement,
                target - server.scalar("SELECT size FROM log_head") as u64,
            );
        }
        if target >= start {
            checkpoints.push(server.checkpoint());
        }
    }
    let leaves: Vec<TreeHash> = server
        .all_leaves()
        .iter()
        .map(|l| log_format::leaf_hash(l))
        .collect();
    assert_eq!(leaves.len(), 100_000);
    // The whole log is served in order and whole, at most 10,000 leaves and 8 MiB of base64 per
    // answer.
    let all = server.all_leaves();
    let reader = coordinator.account();
    let mut start = 0;
    while start < all.len() {
        let page: ferry_protocol::LogLeaves = reader
            .client
            .get(&format!("/v1/log/leaves?start={start}&count=20000"))
            .unwrap();
        assert_eq!(page.start, start as u64);
        let bytes: usize = page.leaves.iter().map(String::len).sum();
        let last = page.leaves.last().map_or(0, String::len);
        assert!(!page.leaves.is_empty() && page.leaves.len() <= 10_000);
        assert!(bytes - last < 8 << 20, "{bytes} bytes in one answer");
        for (i, leaf) in page.leaves.iter().enumerate() {
            assert_eq!(ferry_cli::client::b64(leaf).unwrap(), all[start + i]);
        }
        start += page.leaves.len();
    }
    let card = ferry_cli::pin::server_card(
        &ferry_cli::store::Profiles::load(&coordinator.env)
            .unwrap()
            .select(None)
            .unwrap()
            .1,
    )
    .unwrap();
    let origin = server.state.config.log_origin.clone();
    for (size, note) in &checkpoints {
        let cp = log_format::verify_checkpoint(note, &origin, card.verifying_key()).unwrap();
        assert_eq!(cp.size(), *size);
        assert_eq!(
            *cp.hash(),
            reference_root(&leaves[..*size as usize]),
            "root at {size}"
        );
    }
    let sizes: Vec<u64> = checkpoints.iter().map(|(s, _)| *s).collect();
    let leaf_bytes = server.all_leaves();
    for &size in &sizes {
        let root = reference_root(&leaves[..size as usize]);
        for index in [0, size / 3, size / 2, size - 1] {
            let p: Proof = account
                .client
                .get(&format!("/v1/proofs/inclusion?index={index}&size={size}"))
                .unwrap();
            let hashes: Vec<TreeHash> = p
                .proof
                .iter()
                .map(|h| log_format::hash_from_hex(h).unwrap())
                .collect();
            assert!(
                hashes.len() <= 17,
                "an inclusion proof of {} hashes at {size}",
                hashes.len()
            );
            log_format::check_inclusion(&hashes, size, root, index, &leaf_bytes[index as usize])
                .unwrap();
            // The same proof does not prove another leaf.
            let other = (index + 1) % size;
            if other != index {
                assert!(
                    log_format::check_inclusion(
                        &hashes,
                        size,
                        root,
                        index,
                        &leaf_bytes[other as usize]
                    )
                    .is_err()
                );
            }
        }
        for &old in sizes.iter().filter(|&&o| o <= size) {
            let p: Proof = account
                .client
                .get(&format!("/v1/proofs/consistency?from={old}&to={size}"))
                .unwrap();
            let hashes: Vec<TreeHash> = p
                .proof
                .iter()
                .map(|h| log_format::hash_from_hex(h).unwrap())
                .collect();
            let old_root = reference_root(&leaves[..old as usize]);
            log_format::check_consistency(&hashes, size, root, old, old_root).unwrap();
            if old < size {
                assert!(
                    log_format::check_consistency(&hashes, size, root, old, leaves[0]).is_err()
                        || old == 1
                );
            }
        }
    }
}

#[test]
fn only_coordinators_and_service_wide_auditors_read_the_whole_log() {
    use ferry_protocol::{LEAVES_BINARY, LogLeaves, RawLeaves};
    let w = World::new();
    exchange(&w);
    for who in [&w.facilitator, &w.harmed, &w.responsible] {
        let err = who
            .account()
            .client
            .get::<LogLeaves>("/v1/log/leaves?start=0&count=10")
            .unwrap_err();
        assert_eq!(crate::harness::code(&err), "not_whole_log_auditor");
    }
    // A facilitator's audit without --case covers the cases they can see, one by one.
    let out = w.facilitator.ok(&["audit", "verify"]);
    assert!(
        !out.contains("Whole log:") && out.contains("Result: CLEAN"),
        "{out}"
    );

    // The auditor reads the leaves exactly as stored, at most 10,000 at a time.
    let auditor = w.auditor.account();
    let size = w.server.scalar("SELECT size FROM log_head");
    let page: LogLeaves = auditor
        .client
        .get("/v1/log/leaves?start=1&count=1000000")
        .unwrap();
    assert_eq!(page.start, 1);
    assert_eq!(page.leaves.len() as i64, size - 1);
    for (i, leaf) in page.leaves.iter().enumerate() {
        assert_eq!(
            ferry_cli::client::b64(leaf).unwrap(),
            w.server.leaf(i as i64 + 1)
        );
    }
    // The same leaves in binary form, for `Accept: application/octet-stream`.
    let (kind, body) = auditor
        .client
        .get_bytes("/v1/log/leaves?start=1&count=1000000", LEAVES_BINARY)
        .unwrap();
    assert_eq!(kind, LEAVES_BINARY);
    let raw = RawLeaves::parse(&body).unwrap();
    assert_eq!(raw.start, 1);
    let stored: Vec<Vec<u8>> = (1..size).map(|i| w.server.leaf(i)).collect();
    assert_eq!(raw.leaves, stored);
    let err = w
        .harmed
        .account()
        .client
        .get_bytes("/v1/log/leaves?start=0&count=10", LEAVES_BINARY)
        .unwrap_err();
    assert_eq!(crate::harness::code(&err), "not_whole_log_auditor");
    let end: LogLeaves = auditor
        .client
        .get(&format!("/v1/log/leaves?start={size}&count=5"))
        .unwrap();
    assert!(end.leaves.is_empty());
    let err = auditor
        .client
        .get::<LogLeaves>(&format!("/v1/log/leaves?start={}&count=5", size + 1))
        .unwrap_err();
    assert_eq!(crate::harness::code(&err), "beyond_log");
    let (out, clean) = audit_log(&w);
    assert!(
        clean && out.contains("hashed again: the root matches"),
        "{out}"
    );
}

/// An edit made straight in the database: its SQL, given the world and a message in review.
type Edit = dyn Fn(&World, &str) -> String;

/// State the log does not cover, changed straight in the database: each edit is explained by
/// no event, and both audits (one case, and the whole log) report it.
#[test]
fn states_written_around_the_api_are_reported() {
    let edits: [(&str, &Edit, &str); 7] = [
        (
            "a message hidden from its facilitator's queue",
            &|w, q| {
                format!(
                    "UPDATE messages SET state = 'withheld' WHERE message_id = '{q}' AND case_id = '{}'",
                    w.case
                )
            },
            "is kept as withheld, but its events make it in review",
        ),
        (
            "a message deleted",
            &|_, q| format!("DELETE FROM messages WHERE message_id = '{q}'"),
            "was submitted but the server no longer keeps it",
        ),
        (
            "a consent that was never given",
            &|w, _| {
                format!(
                    "UPDATE members SET consent = 'withdrawn' WHERE case_id = '{}' AND role = 'harmed'",
                    w.case
                )
            },
            "consent is kept as withdrawn, but their events make it given",
        ),
        (
            "deliveries held for someone who never asked",
            &|w, _| {
                format!(
                    "UPDATE members SET holding = 1 WHERE case_id = '{}' AND role = 'responsible'",
                    w.case
                )
            },
            "is kept as holding what is passed on to them, but their events say otherwise",
        ),
        (
            "the case paused without a statement",
            &|w, _| {
                format!(
                    "UPDATE cases SET state = 'paused' WHERE case_id = '{}'",
                    w.case
                )
            },
            "the case is kept as paused, but its events make it active",
        ),
        (
            "a delivery marked read without a receipt",
            &|w, _| {
                format!(
                    "UPDATE deliveries SET state = 'read' WHERE case_id = '{}' AND state = 'released'",
                    w.case
                )
            },
            "is kept as read, but its events make it released",
        ),
        (
            "a delivery made without a forward",
            &|w, q| {
                format!(
                    "INSERT INTO deliveries (delivery_id, case_id, message_id, recipient, kind, statement, \
                 ciphertext, state, attachments_pending, created_at) SELECT 'forged', case_id, '{q}', \
                 recipient, kind, statement, ciphertext, 'released', 0, created_at FROM deliveries \
                 WHERE case_id = '{}' LIMIT 1",
                    w.case
                )
            },
            "no event approved it",
        ),
    ];
    for (what, edit, expected) in edits {
        let w = World::new();
        let forwarded = w.question("Forwarded, not yet read");
        w.forward(&forwarded, &[]);
        let q = w.question("Waiting for review");
        let (out, clean) = audit(&w);
        assert!(clean, "before {what}:\n{out}");
        w.server.execute(&edit(&w, &q));
        let (out, clean) = audit(&w);
        assert_problem(&out, clean, &["the server's states:", expected]);
        let (out, clean) = audit_log(&w);
        assert_problem(&out, clean, &["the server's states:", expected]);
    }
}

/// A whole-log audit reads the server's states in pages of a bounded size; a case bigger
/// than a page comes in parts that add up to the whole.
#[test]
fn states_come_in_pages_that_add_up_to_the_whole() {
    let w = World::new();
    for n in 0..5 {
        let q = w.question(&format!("Question {n}"));
        if n % 2 == 0 {
            w.forward(&q, &[]);
        }
    }
    let state = &w.server.state;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let whole = rt
        .block_on(ferry_server::states::read_case(
            &state.pool,
            state.backend,
            &w.case,
            true,
        ))
        .unwrap();
    assert_eq!(whole.messages.len(), 5);
    let mut parts = vec![];
    let mut cursor = None;
    for _ in 0..100 {
        let page = rt
            .block_on(ferry_server::states::read_page(
                &state.pool,
                state.backend,
                cursor,
                3,
                true,
            ))
            .unwrap();
        let rows: usize = page
            .cases
            .iter()
            .map(|c| c.members.len() + c.messages.len() + c.deliveries.len())
            .sum();
        assert!(rows <= 3, "a page of {rows} rows");
        parts.extend(page.cases.into_iter().filter(|c| c.case_id == w.case));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the pages never ended");
    assert!(parts.len() > 1, "the case fitted one page");
    let (mut members, mut messages, mut deliveries) = (vec![], vec![], vec![]);
    for p in parts {
        assert_eq!(p.last_event, whole.last_event);
        members.extend(p.members.into_iter().map(|m| m.account_id));
        messages.extend(p.messages.into_iter().map(|m| (m.message_id, m.state)));
        deliveries.extend(p.deliveries.into_iter().map(|d| d.delivery_id));
    }
    let ids = |v: &[ferry_protocol::KeptMember]| -> Vec<String> {
        v.iter().map(|m| m.account_id.clone()).collect()
    };
    assert_eq!(members, ids(&whole.members));
    assert_eq!(
        messages,
        whole
            .messages
            .iter()
            .map(|m| (m.message_id.clone(), m.state.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        deliveries,
        whole
            .deliveries
            .iter()
            .map(|d| d.delivery_id.clone())
            .collect::<Vec<_>>()
    );
    let (out, clean) = audit_log(&w);
    assert!(clean, "{out}");
}

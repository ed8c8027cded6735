//! Several `ferry-server` replicas on one PostgreSQL: appends strictly ordered under
//! concurrent load through every replica, a replica killed mid-load losing nothing it had
//! answered, and outbox workers on several replicas sending each mail once. PostgreSQL only
//! (an embedded SQLite file is not shared between machines).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferry_cli::account::Account;
use ferry_cli::client::{Client, api_failure, b64, to_b64};
use ferry_crypto::forward::{self, ForwardRequest};
use ferry_crypto::seal::{self, Expect, Letter};
use ferry_crypto::{FORMAT_VERSION, Id, KeyCard, MessageKind, Role};
use ferry_protocol::{
    Accepted, AuditBundle, DecisionRequest, MessageDetail, MessageSummary, SubmitRequest,
};

use crate::harness::{Backend, Person, TestServer, World, field, use_backend};
use crate::smtp::Smtp;

const PER_AUTHOR: usize = 170;

/// A case with its two authors, on top of the world's first case.
fn more_case(w: &World, n: usize) -> (String, Person, Person) {
    let c = &w.coordinator;
    let url = &w.server.url;
    let case = field(
        &c.json(&[
            "case",
            "open",
            "--reference",
            &format!("L-{n}"),
            "--category",
            "theft",
        ]),
        "case_id",
    );
    c.ok(&["case", "allocate", &case, &w.facilitator.account_id()]);
    c.ok(&["case", "risk", &case, "proceed"]);
    let h = w.server.person(&format!("harmed-{n}"));
    let r = w.server.person(&format!("responsible-{n}"));
    h.enrol_invited(
        url,
        c,
        &["case", "invite", &case, "--role", "harmed"],
        &format!("H{n}"),
    );
    r.enrol_invited(
        url,
        c,
        &["case", "invite", &case, "--role", "responsible"],
        &format!("R{n}"),
    );
    for name in [format!("H{n}"), format!("R{n}")] {
        w.facilitator
            .ok(&["verify-key", &name, "--case", &case, "--yes"]);
    }
    h.ok(&["consent"]);
    let out = r.ok(&["consent"]);
    assert!(out.contains("The case is active."), "{out}");
    (case, h, r)
}

/// The two clients of one person: one per replica, sharing a session.
struct Two {
    account: Account,
    a: Client,
    b: Client,
}

impl Two {
    fn new(p: &Person, a: &str, b: &str) -> Self {
        let account = p.account();
        Self {
            a: account.client.at(a).unwrap(),
            b: account.client.at(b).unwrap(),
            account,
        }
    }

    fn pick(&self, i: usize, killed: &AtomicBool) -> &Client {
        if killed.load(Ordering::SeqCst) || i % 2 == 1 {
            &self.b
        } else {
            &self.a
        }
    }

    fn next_seq(&self) -> u64 {
        self.b.me().unwrap().next_seq
    }
}

/// Writes `PER_AUTHOR` letters; returns the ids the server answered with success.
fn author(
    me: Two,
    case: String,
    to: Role,
    facilitators: Vec<ferry_crypto::Recipient>,
    killed: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
) -> Vec<String> {
    let mut accepted = vec![];
    let mut seq = me.next_seq();
    for i in 0..PER_AUTHOR {
        let letter = Letter {
            v: FORMAT_VERSION,
            case_id: Id::try_from(case.as_str()).unwrap(),
            message_id: Id::random(),
            kind: MessageKind::Letter,
            author: me.account.identity.account_id().clone(),
            recipient_role: to,
            in_reply_to: None,
            created_at: ferry_server::now(),
            body: format!("letter {i}"),
            attachments: vec![],
            entered_by: None,
        };
        let sealed = seal::seal(&me.account.identity, &letter, seq, vec![], &facilitators).unwrap();
        let req = SubmitRequest {
            envelope: sealed.envelope,
            ciphertext: to_b64(&sealed.ciphertext),
        };
        match me
            .pick(i, &killed)
            .post::<_, Accepted>(&format!("/v1/cases/{case}/messages"), &req)
        {
            Ok(_) => {
                accepted.push(letter.message_id.to_string());
                seq += 1;
                done.fetch_add(1, Ordering::SeqCst);
            }
            // No answer (the replica died) or a refusal: ask the survivor where we stand.
            Err(_) => seq = me.next_seq(),
        }
    }
    accepted
}

/// Forwards whatever waits for review until the authors are done and nothing waits.
fn facilitator(
    me: Two,
    cards: HashMap<String, KeyCard>,
    roles: HashMap<String, (String, String)>,
    killed: Arc<AtomicBool>,
    authors_done: Arc<AtomicBool>,
) -> Vec<String> {
    let mut forwarded = vec![];
    let mut seq = me.next_seq();
    let mut i = 0usize;
    loop {
        let finished = authors_done.load(Ordering::SeqCst);
        let queue: Vec<MessageSummary> = match me.pick(i, &killed).get("/v1/review") {
            Ok(q) => q,
            Err(_) => {
                i += 1;
                continue;
            }
        };
        if queue.is_empty() && finished {
            return forwarded;
        }
        for m in queue {
            i += 1;
            let client = me.pick(i, &killed);
            let Ok(detail) = client.get::<MessageDetail>(&format!(
                "/v1/cases/{}/messages/{}",
                m.case_id, m.message_id
            )) else {
                continue;
            };
            let case = Id::try_from(m.case_id.as_str()).unwrap();
            let author = &cards[&m.author];
            let opened = seal::open(
                &me.account.identity,
                &detail.envelope,
                &b64(&detail.ciphertext).unwrap(),
                author,
                &Expect::case(&case),
            )
            .unwrap();
            let wanted = (m.case_id.clone(), m.recipient_role.to_string());
            let recipient = roles
                .iter()
                .find(|(_, r)| **r == wanted)
                .map(|(a, _)| &cards[a])
                .unwrap();
            let fwd = forward::forward(
                &me.account.identity,
                ForwardRequest {
                    original: &opened,
                    recipient: recipient.into(),
                    redacted_body: None,
                    co_facilitators: &[],
                    attachments: vec![],
                    seq,
                    created_at: ferry_server::now(),
                },
            )
            .unwrap();
            let req = DecisionRequest {
                statement: fwd.forward,
                ciphertext: to_b64(&fwd.ciphertext),
            };
            match client.post::<_, Accepted>(
                &format!("/v1/cases/{}/messages/{}/forward", m.case_id, m.message_id),
                &req,
            ) {
                Ok(_) => {
                    forwarded.push(m.message_id.clone());
                    seq += 1;
                }
                Err(e) => {
                    let _ = api_failure(&e);
                    seq = me.next_seq();
                }
            }
        }
    }
}

#[test]
#[cfg_attr(
    ferry_no_postgres,
    ignore = "needs PostgreSQL: set FERRY_TEST_POSTGRES_URL (.ci/run does)"
)]
fn two_replicas_keep_one_ordered_log_under_load_and_a_killed_one_loses_nothing() {
    use_backend(Backend::Postgres);
    let w = World::new();
    let b = w.server.replica();
    let mut cases = vec![(
        w.case.clone(),
        w.server.person("harmed"),
        w.server.person("responsible"),
    )];
    for n in 1..3 {
        cases.push(more_case(&w, n));
    }
    let (a_url, b_url) = (w.server.url.clone(), b.url.clone());
    let killed = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let authors_done = Arc::new(AtomicBool::new(false));

    // Key cards and roles, for sealing and addressing.
    let fac = Two::new(&w.facilitator, &a_url, &b_url);
    let facilitators = vec![fac.account.identity.recipient()];
    let mut cards = HashMap::new();
    let mut roles = HashMap::new();
    for (case, h, r) in &cases {
        for (p, role) in [(h, "harmed"), (r, "responsible")] {
            let id = p.account_id();
            cards.insert(id.clone(), fac.account.card(&id).unwrap());
            roles.insert(id, (case.clone(), role.to_owned()));
        }
    }

    let mut authors = vec![];
    for (case, h, r) in &cases {
        for (p, to) in [(h, Role::Responsible), (r, Role::Harmed)] {
            let me = Two::new(p, &a_url, &b_url);
            let (case, facs, k, d) = (
                case.clone(),
                facilitators.clone(),
                killed.clone(),
                done.clone(),
            );
            authors.push(std::thread::spawn(move || author(me, case, to, facs, k, d)));
        }
    }
    let fac_thread = {
        let (k, ad) = (killed.clone(), authors_done.clone());
        std::thread::spawn(move || facilitator(fac, cards, roles, k, ad))
    };
    // A third of the way in, replica A dies mid-request.
    while done.load(Ordering::SeqCst) < PER_AUTHOR * authors.len() / 3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    killed.store(true, Ordering::SeqCst);
    let World {
        server: a,
        coordinator: _,
        auditor,
        ..
    } = w;
    let a_state = a.state.clone();
    let _homes = a.kill();
    let accepted: Vec<String> = authors
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    authors_done.store(true, Ordering::SeqCst);
    let forwarded = fac_thread.join().unwrap();
    assert!(
        accepted.len() >= PER_AUTHOR * 6 * 9 / 10,
        "{} accepted",
        accepted.len()
    );
    assert!(
        forwarded.len() >= accepted.len() * 9 / 10,
        "{} forwarded",
        forwarded.len()
    );
    drop(a_state);

    // The log: gapless, and every case's record verifies clean through the survivor.
    let size = b.scalar("SELECT size FROM log_head");
    assert_eq!(b.scalar("SELECT COUNT(*) FROM events"), size);
    assert_eq!(b.scalar("SELECT MAX(idx) FROM events") + 1, size);
    let mut seen_submissions: HashMap<String, usize> = HashMap::new();
    let mut seen_forwards: HashMap<String, usize> = HashMap::new();
    for (case, _, _) in &cases {
        let out = auditor.ok(&["--server", &b_url, "audit", "verify", "--case", case]);
        assert!(out.contains("Result: CLEAN"), "{out}");
        let auditor_account = Account::open(&auditor.env.with_server(&b_url), None).unwrap();
        let bundle: AuditBundle = auditor_account
            .client
            .get(&format!("/v1/cases/{case}/audit"))
            .unwrap();
        for e in &bundle.events {
            let leaf = ferry_crypto::log_format::Leaf::parse(&b64(&e.leaf).unwrap()).unwrap();
            let body: serde_json::Value = serde_json::from_slice(&leaf.statement.body).unwrap();
            let id = body["message_id"].as_str().unwrap_or_default().to_owned();
            match leaf.statement.kind.as_str() {
                "submission" => *seen_submissions.entry(id).or_default() += 1,
                "forward" => *seen_forwards.entry(id).or_default() += 1,
                _ => {}
            }
        }
    }
    for id in &accepted {
        assert_eq!(
            seen_submissions.get(id),
            Some(&1),
            "accepted submission {id} is not in the log exactly once"
        );
    }
    for id in &forwarded {
        assert_eq!(
            seen_forwards.get(id),
            Some(&1),
            "accepted forward of {id} is not in the log exactly once"
        );
    }
    assert!(seen_submissions.values().all(|&n| n == 1) && seen_forwards.values().all(|&n| n == 1));
    // One checkpoint per size, whoever signed it.
    assert_eq!(
        b.scalar("SELECT COUNT(DISTINCT size) FROM checkpoints"),
        b.scalar("SELECT COUNT(*) FROM checkpoints")
    );
}

#[test]
#[cfg_attr(
    ferry_no_postgres,
    ignore = "needs PostgreSQL: set FERRY_TEST_POSTGRES_URL (.ci/run does)"
)]
fn outbox_workers_on_two_replicas_send_each_mail_once() {
    use_backend(Backend::Postgres);
    let smtp = Smtp::start();
    let addr = format!("smtp://{}", smtp.addr);
    let a = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.smtp_url = Some(addr);
        c.mail_from = "Ferry <ferry@ferry.test>".into();
        c.mail_poll_ms = 20;
        c.mail_claim_seconds = 2;
    });
    let b = a.replica();
    let coordinator = a.person("coordinator");
    coordinator.ok(&["enrol", &a.url, &a.coordinator_code(), "--name", "Chris"]);
    for i in 0..60 {
        let server = if i % 2 == 0 { &a.url } else { &b.url };
        coordinator.ok(&[
            "--server",
            server,
            "staff",
            "invite",
            "--role",
            "facilitator",
            "--email",
            &format!("f{i}@facilitators.test"),
        ]);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while a.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") < 60 {
        assert!(
            std::time::Instant::now() < deadline,
            "the mails were not all sent"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mails = smtp.mails();
    assert_eq!(mails.len(), 60, "each mail once");
    assert_eq!(crate::smtp::distinct_ids(&mails).len(), 60);
    drop(b);
}

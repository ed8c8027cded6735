//! Attacks, each refused with the right error and nothing stored.

use ferry_cli::account::Account;
use ferry_cli::client::to_b64;
use ferry_crypto::actions::{Invitation, InvitationCode, invitation_hash, new_invitation_code};
use ferry_crypto::forward::{self, ForwardRequest};
use ferry_crypto::seal::{self, Letter, SealedMessage};
use ferry_crypto::{FORMAT_VERSION, Id, Identity, KeyCard, MessageKind, Role};
use ferry_protocol::{Accepted, DecisionRequest, InvitationRequest, KeyCards, SubmitRequest};

use crate::harness::{World, code, field};

pub(crate) fn facilitator_recipients(a: &Account, case: &str) -> Vec<ferry_crypto::Recipient> {
    let cards: KeyCards = a
        .client
        .get(&format!("/v1/cases/{case}/facilitators"))
        .unwrap();
    cards
        .key_cards
        .into_iter()
        .map(|c| KeyCard::verify(c).unwrap().recipient().clone())
        .collect()
}

pub(crate) fn sealed(a: &Account, case: &str, to: Role, seq: u64, body: &str) -> SealedMessage {
    sealed_as(a, case, to, seq, body, Id::random())
}

/// `count` letters by `a`, with the sequence numbers from `first` on.
pub(crate) fn letters(
    a: &Account,
    case: &str,
    to: Role,
    first: u64,
    count: u64,
) -> Vec<SealedMessage> {
    (0..count)
        .map(|i| sealed(a, case, to, first + i, &format!("letter {i}")))
        .collect()
}

fn sealed_as(a: &Account, case: &str, to: Role, seq: u64, body: &str, id: Id) -> SealedMessage {
    seal_draft(a, case, seq, &draft(a, case, to, body, id))
}

/// A letter by `a` to `to`, to adjust (its kind, what it replies to) before sealing.
pub(crate) fn draft(a: &Account, case: &str, to: Role, body: &str, id: Id) -> Letter {
    Letter {
        v: FORMAT_VERSION,
        case_id: Id::try_from(case).unwrap(),
        message_id: id,
        kind: MessageKind::Letter,
        author: a.identity.account_id().clone(),
        recipient_role: to,
        in_reply_to: None,
        created_at: ferry_server::now(),
        body: body.into(),
        attachments: vec![],
        entered_by: None,
    }
}

/// `letter` sealed by `a` for the case's facilitators under sequence number `seq`.
fn seal_draft(a: &Account, case: &str, seq: u64, letter: &Letter) -> SealedMessage {
    seal::seal(
        &a.identity,
        letter,
        seq,
        vec![],
        &facilitator_recipients(a, case),
    )
    .unwrap()
}

pub(crate) fn submit(a: &Account, case: &str, m: &SealedMessage) -> anyhow::Result<Accepted> {
    a.client.post(
        &format!("/v1/cases/{case}/messages"),
        &SubmitRequest {
            envelope: m.envelope.clone(),
            ciphertext: to_b64(&m.ciphertext),
        },
    )
}

/// Runs `attempt`, which must fail with `expected`, and checks nothing changed.
fn refused<T: std::fmt::Debug>(
    w: &World,
    expected: &str,
    attempt: impl FnOnce() -> anyhow::Result<T>,
) {
    let before = (w.server.snapshot(), w.server.states());
    let err = attempt().expect_err("the attack was accepted");
    assert_eq!(code(&err), expected, "{err:#}");
    assert_eq!(
        (w.server.snapshot(), w.server.states()),
        before,
        "a refused request changed the database"
    );
}

#[test]
fn unsigned_or_wrongly_signed_submissions_are_refused() {
    let w = World::new();
    let harmed = w.harmed.account();
    let seq = harmed.next_seq().unwrap();
    let good = sealed(&harmed, &w.case, Role::Responsible, seq, "hello");

    let mut zero_sig = good.clone();
    zero_sig.envelope.sig = [0; 64];
    refused(&w, "bad_signature", || submit(&harmed, &w.case, &zero_sig));

    let mut flipped = good.clone();
    flipped.envelope.body[10] ^= 1;
    refused(&w, "bad_signature", || submit(&harmed, &w.case, &flipped));

    // Signed by another key but claiming to be the harmed person.
    let impostor = Identity::generate("Impostor").unwrap();
    let mut forged = good.clone();
    forged.envelope.sig = impostor
        .sign_bytes(forged.envelope.kind, forged.envelope.body.clone())
        .sig;
    refused(&w, "bad_signature", || submit(&harmed, &w.case, &forged));

    // A statement signed by someone else, sent on the harmed person's session.
    let responsible = w.responsible.account();
    let theirs = sealed(
        &responsible,
        &w.case,
        Role::Harmed,
        responsible.next_seq().unwrap(),
        "x",
    );
    refused(&w, "not_your_statement", || {
        submit(&harmed, &w.case, &theirs)
    });

    // Ciphertext that is not the one the envelope signs.
    let mut swapped = good.clone();
    swapped.ciphertext[40] ^= 1;
    refused(&w, "ciphertext_mismatch", || {
        submit(&harmed, &w.case, &swapped)
    });

    // The genuine one still goes through afterwards.
    submit(&harmed, &w.case, &good).unwrap();
}

#[test]
fn replayed_sequence_numbers_are_refused() {
    let w = World::new();
    let harmed = w.harmed.account();
    let seq = harmed.next_seq().unwrap();
    let first = sealed(&harmed, &w.case, Role::Responsible, seq, "first");
    submit(&harmed, &w.case, &first).unwrap();
    // The same request again, and a new message reusing the number.
    refused(&w, "replayed_sequence", || submit(&harmed, &w.case, &first));
    let reuse = sealed(&harmed, &w.case, Role::Responsible, seq, "second");
    refused(&w, "replayed_sequence", || submit(&harmed, &w.case, &reuse));
    // Skipping ahead is refused too: the sequence has no gaps.
    let skip = sealed(&harmed, &w.case, Role::Responsible, seq + 5, "skip");
    refused(&w, "replayed_sequence", || submit(&harmed, &w.case, &skip));
}

#[test]
fn an_answer_must_answer_a_question_forwarded_to_its_author() {
    let w = World::new();
    let q = w.question("Why our house?");
    let harmed = w.harmed.account();
    let responsible = w.responsible.account();
    let answer = |by: &Account, to: Role, question: &str| {
        let mut a = draft(by, &w.case, to, "Because", Id::random());
        a.kind = MessageKind::Answer;
        a.in_reply_to = Some(Id::try_from(question).unwrap());
        seal_draft(by, &w.case, by.next_seq().unwrap(), &a)
    };
    // Still in review: the responsible person has not been sent it.
    let early = answer(&responsible, Role::Harmed, &q);
    refused(&w, "bad_reply", || submit(&responsible, &w.case, &early));

    w.forward(&q, &[]);
    // Its own author cannot answer it, nor can anyone answer a question that does not exist.
    let own = answer(&harmed, Role::Responsible, &q);
    refused(&w, "bad_reply", || submit(&harmed, &w.case, &own));
    let unknown = answer(&responsible, Role::Harmed, "no-such-question");
    refused(&w, "bad_reply", || submit(&responsible, &w.case, &unknown));
    // A letter cannot reply to a message that is not in the case either.
    let mut stray = draft(&harmed, &w.case, Role::Responsible, "Re:", Id::random());
    stray.in_reply_to = Some(Id::try_from("no-such-message").unwrap());
    let stray = seal_draft(&harmed, &w.case, harmed.next_seq().unwrap(), &stray);
    refused(&w, "bad_reply", || submit(&harmed, &w.case, &stray));

    // Its recipient's answer goes through, under the sequence number nobody consumed.
    let good = answer(&responsible, Role::Harmed, &q);
    submit(&responsible, &w.case, &good).unwrap();
}

#[test]
fn a_participant_cannot_read_what_was_not_forwarded_to_them() {
    let w = World::new();
    let q = w.question("Had you been watching us before that night?");
    let responsible = w.responsible.account();
    refused(&w, "not_found", || {
        responsible
            .client
            .get::<serde_json::Value>(&format!("/v1/cases/{}/messages/{q}", w.case))
    });
    assert!(w.responsible.ferry(&["review", &q]).is_err());
    // Once forwarded to them, the harmed person's own delivery is still not theirs to fetch.
    w.forward(&q, &[]);
    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    let harmed = w.harmed.account();
    refused(&w, "not_found", || {
        harmed
            .client
            .get::<serde_json::Value>(&format!("/v1/deliveries/{d}"))
    });
    // Listing messages shows a participant only their own.
    let listed: Vec<serde_json::Value> = responsible
        .client
        .get(&format!("/v1/cases/{}/messages", w.case))
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[test]
fn the_responsible_person_cannot_address_the_harmed_person_directly() {
    let w = World::new();
    let responsible = w.responsible.account();
    // A message addressed to their own role, or to no participant, is refused.
    let own = sealed(
        &responsible,
        &w.case,
        Role::Responsible,
        responsible.next_seq().unwrap(),
        "to myself",
    );
    refused(&w, "wrong_recipient", || {
        submit(&responsible, &w.case, &own)
    });
    // Writing a "forward" themselves: only a facilitator of the case may.
    let msg = sealed(
        &responsible,
        &w.case,
        Role::Harmed,
        responsible.next_seq().unwrap(),
        "direct",
    );
    submit(&responsible, &w.case, &msg).unwrap();
    let opened = seal::open(
        &responsible.identity,
        &msg.envelope,
        &msg.ciphertext,
        &responsible
            .card(responsible.identity.account_id().as_str())
            .unwrap(),
        &seal::Expect::case(&Id::try_from(w.case.as_str()).unwrap()),
    )
    .unwrap();
    let harmed_card = responsible.card(&w.harmed.account_id()).unwrap();
    let fwd = forward::forward(
        &responsible.identity,
        ForwardRequest {
            original: &opened,
            recipient: (&harmed_card).into(),
            redacted_body: None,
            co_facilitators: &[],
            attachments: vec![],
            seq: responsible.next_seq().unwrap(),
            created_at: ferry_server::now(),
        },
    )
    .unwrap();
    let message_id = opened.letter.message_id.to_string();
    refused(&w, "wrong_role", || {
        responsible.client.post::<_, Accepted>(
            &format!("/v1/cases/{}/messages/{message_id}/forward", w.case),
            &DecisionRequest {
                statement: fwd.forward.clone(),
                ciphertext: to_b64(&fwd.ciphertext),
            },
        )
    });
    assert!(w.delivered(&w.harmed).is_empty());
}

#[test]
fn a_facilitator_of_another_case_can_neither_review_nor_forward() {
    let w = World::new();
    let q = w.question("Did you know the children were upstairs?");
    // A second facilitator, allocated to another case only.
    let other = w.server.person("other-facilitator");
    let code_ = field(
        &w.coordinator
            .json(&["staff", "invite", "--role", "facilitator"]),
        "code",
    );
    other.ok(&["enrol", &w.server.url, &code_, "--name", "Omar Other"]);
    let case2 = field(
        &w.coordinator
            .json(&["case", "open", "--reference", "RJ-2", "--category", "theft"]),
        "case_id",
    );
    w.coordinator
        .ok(&["case", "allocate", &case2, &other.account_id()]);

    let acct = other.account();
    refused(&w, "not_found", || {
        acct.client
            .get::<serde_json::Value>(&format!("/v1/cases/{}/messages/{q}", w.case))
    });
    assert!(other.ferry(&["review", &q, "--case", &w.case]).is_err());
    // Even with a well-formed, correctly signed forward statement of their own.
    let fac = w.facilitator.account();
    let detail: ferry_protocol::MessageDetail = fac
        .client
        .get(&format!("/v1/cases/{}/messages/{q}", w.case))
        .unwrap();
    let env: seal::Envelope = serde_json::from_slice(&detail.envelope.body).unwrap();
    let statement = acct
        .sign(&ferry_crypto::forward::Forward {
            v: FORMAT_VERSION,
            case_id: env.case_id.clone(),
            message_id: env.message_id.clone(),
            facilitator: acct.identity.account_id().clone(),
            recipient: ferry_crypto::AccountId::try_from(w.responsible.account_id()).unwrap(),
            recipient_role: Role::Responsible,
            original_sha256: env.ciphertext_sha256,
            forwarded_sha256: ferry_crypto::Sha256Hash::of(b"x"),
            forwarded_size: 1,
            redacted: true,
            attachments: vec![],
            attachment_decisions: vec![],
            seq: acct.next_seq().unwrap(),
            created_at: ferry_server::now(),
        })
        .unwrap();
    refused(&w, "not_found", || {
        acct.client.post::<_, Accepted>(
            &format!("/v1/cases/{}/messages/{q}/forward", w.case),
            &DecisionRequest {
                statement: statement.clone(),
                ciphertext: to_b64(b"x"),
            },
        )
    });
}

#[test]
fn expired_and_reused_invitation_codes_are_refused() {
    let w = World::new();
    // Reused: the harmed person's code, already spent.
    let stranger = w.server.person("stranger");
    let before = (w.server.snapshot(), w.server.states());
    let err = stranger
        .ferry(&["enrol", &w.server.url, &w.harmed_code, "--name", "Stranger"])
        .unwrap_err();
    assert_eq!(code(&err), "invalid_invitation");
    assert_eq!((w.server.snapshot(), w.server.states()), before);

    // Expired: an invitation signed to expire in a few seconds, tried once it has.
    let coord = w.coordinator.account();
    let code_ = new_invitation_code();
    let inv = Invitation {
        v: FORMAT_VERSION,
        coordinator: coord.identity.account_id().clone(),
        case_id: Some(Id::try_from(w.case.as_str()).unwrap()),
        role: Role::Supporter,
        accreditations: vec![],
        invitation: invitation_hash(&code_),
        // Far enough ahead that a loaded machine still posts it before it expires.
        expires_at: ferry_server::now() + 3,
        seq: coord.next_seq().unwrap(),
        created_at: ferry_server::now(),
    };
    let statement = coord.sign(&inv).unwrap();
    let _: Accepted = coord
        .client
        .post(
            &format!("/v1/cases/{}/invitations", w.case),
            &InvitationRequest {
                statement,
                code: code_.clone(),
                email: None,
            },
        )
        .unwrap();
    // Until the server's clock (whole seconds) is past the expiry.
    while ferry_server::now() <= inv.expires_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let server_key = w.server.state.server_card.fingerprint();
    let handed = InvitationCode::new(&code_, &server_key).to_string();
    let before = (w.server.snapshot(), w.server.states());
    let err = stranger
        .ferry(&["enrol", &w.server.url, &handed, "--name", "Stranger"])
        .unwrap_err();
    assert_eq!(code(&err), "invalid_invitation");
    assert_eq!((w.server.snapshot(), w.server.states()), before);

    // Made up: refused by the server; malformed or cut short: refused before sending anything.
    let made_up = InvitationCode::new("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", &server_key);
    let err = stranger
        .ferry(&[
            "enrol",
            &w.server.url,
            &made_up.to_string(),
            "--name",
            "Stranger",
        ])
        .unwrap_err();
    assert_eq!(code(&err), "invalid_invitation");
    for (bad, says) in [
        ("1234", "not a Ferry invitation code"),
        (code_.as_str(), "missing its last four groups"),
    ] {
        let out = w.refused(
            &stranger,
            &["enrol", &w.server.url, bad, "--name", "Stranger"],
        );
        assert!(out.contains(says), "{out}");
    }
    // Straight to the API, too weak to be a Ferry code.
    for bad in ["1234", "AAAAA"] {
        let err = stranger_enrols(&w, bad).unwrap_err();
        assert_eq!(code(&err), "invalid_invitation");
    }
    // A coordinator cannot register a weak code either.
    let weak = "ABC";
    let inv = Invitation {
        invitation: invitation_hash(weak),
        seq: coord.next_seq().unwrap(),
        expires_at: ferry_server::now() + 3600,
        ..inv
    };
    let statement = coord.sign(&inv).unwrap();
    refused(&w, "weak_or_mismatched_code", || {
        coord.client.post::<_, Accepted>(
            &format!("/v1/cases/{}/invitations", w.case),
            &InvitationRequest {
                statement: statement.clone(),
                code: weak.into(),
                email: None,
            },
        )
    });
}

#[test]
fn oversized_and_malformed_bodies_are_refused() {
    let w = World::new();
    let harmed = w.harmed.account();
    let url = format!("{}/v1/cases/{}/messages", w.server.url, w.case);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Each request on its own connection: a refused request may leave its body unread,
        // and the server then closes that connection.
        .max_idle_connections(0)
        .build()
        .into();
    let token = {
        // Log in through the client, then reuse the session for raw requests.
        let me = harmed.me().unwrap();
        assert!(!me.account_id.is_empty());
        login_token(&w)
    };
    let send = |body: Vec<u8>, content_type: &str| {
        let before = (w.server.snapshot(), w.server.states());
        let mut resp = agent
            .post(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .send(&body[..])
            .unwrap();
        let status = resp.status().as_u16();
        let json: serde_json::Value = resp.body_mut().read_json().unwrap();
        assert_eq!((w.server.snapshot(), w.server.states()), before);
        (
            status,
            json["error"]["code"].as_str().unwrap().to_owned(),
            json["error"]["message"].as_str().unwrap().to_owned(),
        )
    };
    // Just over the limit: the server has then read (nearly) all of it when it refuses, so
    // the refusal is not lost to a connection closed under the client's unsent bytes.
    let limit = ferry_server::Config::default().max_body_bytes;
    let (status, code_, message) = send(vec![b' '; limit + 1024], "application/json");
    assert_eq!((status, code_.as_str()), (413, "too_large"), "{message}");
    let (status, code_, _) = send(b"{\"envelope\": 12".to_vec(), "application/json");
    assert_eq!((status, code_.as_str()), (400, "malformed_body"));
    let (status, code_, _) = send(b"{}".to_vec(), "application/json");
    assert_eq!((status, code_.as_str()), (400, "malformed_body"));
    let (status, code_, _) = send(b"{}".to_vec(), "text/plain");
    assert_eq!((status, code_.as_str()), (415, "unsupported_media_type"));
    let (status, code_, _) = send(
        serde_json::to_vec(&serde_json::json!({"envelope": {"kind": "submission", "signer": "zz", "body": "", "sig": ""}, "ciphertext": ""})).unwrap(),
        "application/json",
    );
    assert_eq!((status, code_.as_str()), (400, "malformed_body"));
    let (status, code_, _) = send(
        serde_json::to_vec(&serde_json::json!({"envelope": {"kind": "submission", "signer": "00000000000000000000000000000000", "body": "", "sig": "AAAA"}, "ciphertext": "!!"})).unwrap(),
        "application/json",
    );
    assert!(status == 400 && !code_.is_empty());
}

/// A session token for the harmed person, obtained the way the client does.
fn login_token(w: &World) -> String {
    let harmed = w.harmed.account();
    let challenge: ferry_protocol::Challenge = harmed
        .client
        .post("/v1/session/challenge", &serde_json::json!({}))
        .unwrap();
    let statement = harmed
        .sign(&ferry_crypto::actions::Session {
            v: FORMAT_VERSION,
            account_id: harmed.identity.account_id().clone(),
            challenge: challenge.challenge.clone(),
            created_at: ferry_server::now(),
        })
        .unwrap();
    let token: ferry_protocol::SessionToken = harmed
        .client
        .post(
            "/v1/session",
            &ferry_protocol::SessionRequest {
                statement: statement.clone(),
            },
        )
        .unwrap();
    // A challenge answers once: replaying the signed login is refused.
    let err = harmed
        .client
        .post::<_, ferry_protocol::SessionToken>(
            "/v1/session",
            &ferry_protocol::SessionRequest { statement },
        )
        .unwrap_err();
    assert_eq!(code(&err), "unauthorized");
    token.token
}

#[test]
fn refused_submissions_in_a_shared_batch_change_nothing_for_the_others() {
    // Many submissions at once are committed together; refused ones (replays here) must roll
    // back alone, and every accepted one must be stored exactly once.
    let w = World::new();
    let before = w.server.scalar("SELECT COUNT(*) FROM messages");
    let harmed = w.harmed.account();
    let responsible = w.responsible.account();
    let first = harmed.next_seq().unwrap();
    let good = letters(&harmed, &w.case, Role::Responsible, first, 20);
    let rseq = responsible.next_seq().unwrap();
    let replays: Vec<SealedMessage> = (0..20)
        .map(|i| {
            sealed(
                &responsible,
                &w.case,
                Role::Harmed,
                rseq,
                &format!("replay {i}"),
            )
        })
        .collect();
    let (accepted, refused) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            good.iter()
                .filter(|m| submit(&harmed, &w.case, m).is_ok())
                .count()
        });
        let handles: Vec<_> = replays
            .iter()
            .map(|m| s.spawn(|| submit(&responsible, &w.case, m).map_err(|e| code(&e))))
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (a.join().unwrap(), results)
    });
    assert_eq!(accepted, 20);
    let ok = refused.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        ok, 1,
        "exactly one of the twenty uses of one sequence number is accepted"
    );
    assert!(
        refused
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|c| c == "replayed_sequence"),
        "{refused:?}"
    );
    w.server.assert_messages(before + 21);
}

#[test]
fn one_message_id_claimed_twice_at_once_is_stored_once() {
    // Both participants submit at the same moment under one message id (often in one batch):
    // one is stored, the other is refused and its author's sequence number is not consumed.
    let w = World::new();
    let harmed = w.harmed.account();
    let responsible = w.responsible.account();
    for round in 0..5 {
        let id = Id::random();
        let (hs, rs) = (harmed.next_seq().unwrap(), responsible.next_seq().unwrap());
        let h = sealed_as(&harmed, &w.case, Role::Responsible, hs, "mine", id.clone());
        let r = sealed_as(
            &responsible,
            &w.case,
            Role::Harmed,
            rs,
            "no, mine",
            id.clone(),
        );
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| submit(&harmed, &w.case, &h).map_err(|e| code(&e)));
            let b = s.spawn(|| submit(&responsible, &w.case, &r).map_err(|e| code(&e)));
            (a.join().unwrap(), b.join().unwrap())
        });
        let outcomes = [&a, &b];
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "round {round}: {a:?} {b:?}"
        );
        assert!(
            outcomes
                .iter()
                .filter_map(|o| o.as_ref().err())
                .all(|c| c == "already_exists"),
            "round {round}: {a:?} {b:?}"
        );
        let consumed = [
            harmed.next_seq().unwrap() - hs,
            responsible.next_seq().unwrap() - rs,
        ];
        assert_eq!(
            consumed,
            [u64::from(a.is_ok()), u64::from(b.is_ok())],
            "only the stored submission consumes its author's sequence number"
        );
        assert_eq!(
            w.server.scalar(&format!(
                "SELECT COUNT(*) FROM messages WHERE message_id = '{id}'"
            )),
            1
        );
    }
    assert_eq!(
        w.server.scalar("SELECT COUNT(*) FROM events"),
        w.server.scalar("SELECT size FROM log_head")
    );
    let (out, result) = w.auditor.ferry_out(&["audit", "verify", "--case", &w.case]);
    assert!(result.is_ok() && out.contains("Result: CLEAN"), "{out}");
}

/// Posts a submission with `authorization` as its header; returns the status and error code.
fn submit_with(base: &str, authorization: &str, case: &str, m: &SealedMessage) -> (u16, String) {
    let body = serde_json::to_vec(&SubmitRequest {
        envelope: m.envelope.clone(),
        ciphertext: to_b64(&m.ciphertext),
    })
    .unwrap();
    post_with(base, authorization, case, &body)
}

/// Posts `body` as a submission with `authorization` as its header.
fn post_with(base: &str, authorization: &str, case: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(format!("{base}/v1/cases/{case}/messages"))
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .send(body)
        .unwrap();
    let status = resp.status().as_u16();
    let answer: serde_json::Value = resp.body_mut().read_json().unwrap();
    (
        status,
        answer["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[test]
fn submissions_need_a_live_session_of_their_signer() {
    // A submission's session is checked with its batch. A well-signed letter with a token that
    // names no live session, or an expired one, is refused with 401 and changes nothing, also
    // when it shares its batch with accepted ones.
    let w = World::new();
    let base = w.server.url.clone();
    let mut harmed = w.harmed.account();
    let responsible = w.responsible.account();
    let seq = harmed.next_seq().unwrap();
    let good = sealed(&harmed, &w.case, Role::Responsible, seq, "mine");
    let mut tampered = good.clone();
    tampered.envelope.body[10] ^= 1;
    let unknown = format!("Bearer {}", "A".repeat(43));
    let unchanged = (w.server.snapshot(), w.server.states());
    for (authorization, m) in [
        (unknown.as_str(), &good),
        ("Bearer nonsense", &good),
        (unknown.as_str(), &tampered),
    ] {
        let (status, code) = submit_with(&base, authorization, &w.case, m);
        assert_eq!(
            (status, code.as_str()),
            (401, "unauthorized"),
            "{authorization}"
        );
    }
    // A body that does not parse, or says nothing, is no different.
    for body in [&b"{not json"[..], b"{}", b""] {
        let (status, code) = post_with(&base, &unknown, &w.case, body);
        assert_eq!(
            (status, code.as_str()),
            (401, "unauthorized"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!((w.server.snapshot(), w.server.states()), unchanged);

    // Forged tokens in the same moment as another author's genuine letters.
    let before = w.server.scalar("SELECT COUNT(*) FROM messages");
    let rseq = responsible.next_seq().unwrap();
    let theirs = letters(&responsible, &w.case, Role::Harmed, rseq, 20);
    let (accepted, forged) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            theirs
                .iter()
                .filter(|m| submit(&responsible, &w.case, m).is_ok())
                .count()
        });
        let forged: Vec<_> = (0..20)
            .map(|_| s.spawn(|| submit_with(&base, &unknown, &w.case, &good)))
            .collect();
        let forged: Vec<_> = forged.into_iter().map(|h| h.join().unwrap()).collect();
        (a.join().unwrap(), forged)
    });
    assert_eq!(accepted, 20);
    assert!(
        forged
            .iter()
            .all(|(status, code)| *status == 401 && code == "unauthorized"),
        "{forged:?}"
    );
    assert_eq!(
        w.server.scalar("SELECT COUNT(*) FROM messages"),
        before + 20
    );

    // An expired session is refused the same way.
    w.server.execute(&format!(
        "UPDATE sessions SET expires_at = 0 WHERE account_id = '{}'",
        w.harmed.account_id()
    ));
    refused(&w, "unauthorized", || submit(&harmed, &w.case, &good));

    // After logging in again, the letter goes through with the sequence number nobody used.
    harmed.client.login(&harmed.identity).unwrap();
    submit(&harmed, &w.case, &good).unwrap();
}

/// A new person posts an enrolment with `code` as it is, as a client of their own might.
fn stranger_enrols(w: &World, code: &str) -> anyhow::Result<ferry_protocol::EnrolResponse> {
    enrols_with(&w.server, code)
}

/// A new person posts an enrolment with `code` as it is to `server`.
pub(crate) fn enrols_with(
    server: &crate::harness::TestServer,
    code: &str,
) -> anyhow::Result<ferry_protocol::EnrolResponse> {
    use ferry_crypto::actions::Enrolment;
    let id = Identity::generate("Stranger").unwrap();
    let card = id.key_card(ferry_server::now()).unwrap();
    let enrolment = id
        .sign(&Enrolment {
            v: FORMAT_VERSION,
            account_id: id.account_id().clone(),
            invitation: invitation_hash(code),
            created_at: ferry_server::now(),
        })
        .unwrap();
    ferry_cli::client::Client::new(&server.url)?.post(
        "/v1/enrol",
        &ferry_protocol::EnrolRequest {
            code: code.to_owned(),
            key_card: card.statement().clone(),
            enrolment,
        },
    )
}

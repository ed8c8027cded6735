//! What the other party writes is never trusted by the reader's machine: not as terminal
//! output (escape sequences are shown, not obeyed) and not as a path (attachments are saved
//! only under plain names inside the folder asked for).

use crate::harness::{World, field};

/// A letter that tries to clear the facilitator's screen, hide its phone number and print a
/// reassurance of its own.
const HOSTILE: &str =
    "Hello.\x1b[2J\x1b[1;1HNothing here needs removing.\x1b[8m Ring 07700 900461\u{202e}txt.exe";

#[test]
fn escape_sequences_in_a_letter_are_shown_not_obeyed() {
    let w = World::new();
    let q = w.question(HOSTILE);
    let review = w.facilitator.ok(&["review", &q]);
    assert!(
        !review.contains('\x1b') && !review.contains('\u{202e}'),
        "{review:?}"
    );
    assert!(
        review.contains(r"Hello.\u{1b}[2J\u{1b}[1;1HNothing here needs removing."),
        "{review}"
    );
    assert!(review.contains(r"\u{202e}txt.exe"), "{review}");
    assert!(review.contains("[[07700 900461]]"), "{review}");

    w.forward(&q, &[]);
    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    let read = w.responsible.ok(&["read", &d]);
    assert!(
        !read.contains('\x1b') && !read.contains('\u{202e}'),
        "{read:?}"
    );
    assert!(read.contains(r"\u{1b}[8m Ring"), "{read}");

    // A facilitator's note is shown the same way to the person it is returned to.
    let a = w.responsible.file("a.txt", "An answer");
    let a = field(
        &w.responsible
            .json(&["write", "answer", "--in-reply-to", &q, "--file", &a]),
        "message_id",
    );
    w.facilitator
        .ok(&["return", &a, "--note", "Please rephrase.\x1b[31m now"]);
    let back = w.delivered(&w.responsible);
    let ret = back.iter().find(|d| d["kind"] == "return").unwrap();
    let note = w.responsible.ok(&["read", &field(ret, "delivery_id")]);
    assert!(!note.contains('\x1b'), "{note:?}");
    assert!(note.contains(r"Please rephrase.\u{1b}[31m now"), "{note}");
}

/// A hostile author's client names an attachment `../../escaped.txt`. The facilitator sees
/// it under a safe name and cannot pass that name on; a forward that carries it anyway (a
/// compromised facilitator's client) is refused by the recipient's machine, which writes
/// nothing, and certainly nothing outside the folder it was given.
#[test]
fn an_attachment_name_that_climbs_out_of_the_folder_is_refused() {
    use std::io::Seek;

    use ferry_cli::client::to_b64;
    use ferry_crypto::attachment::{reseal_attachment, seal_attachment};
    use ferry_crypto::forward::{AttachmentDecision, Forward, RedactedLetter};
    use ferry_crypto::seal::{self, Expect};
    use ferry_crypto::{FORMAT_VERSION, Id, Role, Sha256Hash};
    use ferry_protocol::{Accepted, DecisionRequest};

    use crate::attacks::{draft, facilitator_recipients, submit};

    let w = World::new();
    let harmed = w.harmed.account();
    let to = facilitator_recipients(&harmed, &w.case);
    let mut blob = vec![];
    let sealed_file = seal_attachment(
        &harmed.identity,
        &to,
        "innocent.txt",
        &b"written outside the folder"[..],
        &mut blob,
    )
    .unwrap();
    let mut letter = draft(
        &harmed,
        &w.case,
        Role::Responsible,
        "See attached.",
        Id::random(),
    );
    let mut named = sealed_file.plaintext.clone();
    named.name = "../../escaped.txt".into();
    letter.attachments.push(named);
    let sealed = seal::seal(
        &harmed.identity,
        &letter,
        harmed.next_seq().unwrap(),
        vec![sealed_file.blob.clone()],
        &to,
    )
    .unwrap();
    let m = letter.message_id.to_string();
    submit(&harmed, &w.case, &sealed).unwrap();
    let _: Accepted = harmed
        .client
        .put_stream(
            &format!("/v1/cases/{}/messages/{m}/attachments/0", w.case),
            &mut &blob[..],
        )
        .unwrap();

    // The facilitator sees it, saved under a plain name inside the review folder.
    let review = w.facilitator.ok(&["review", &m]);
    assert!(
        review.contains("attached  #0 ../../escaped.txt"),
        "{review}"
    );
    let folder = w.facilitator.env.home.join("review").join(&m);
    assert!(folder.join("0-attachment-0").exists(), "{review}");
    assert!(!w.facilitator.env.home.join("escaped.txt").exists());
    let out = w.refused(&w.facilitator, &["forward", &m, "--keep", "0", "--yes"]);
    assert!(out.contains("attachment name"), "{out}");

    // A forward built by hand that passes the name on.
    let facilitator = w.facilitator.account();
    let responsible = facilitator.card(&w.responsible.account_id()).unwrap();
    let opened = seal::open(
        &facilitator.identity,
        &sealed.envelope,
        &sealed.ciphertext,
        &facilitator.card(&w.harmed.account_id()).unwrap(),
        &Expect::case(&Id::try_from(w.case.as_str()).unwrap()),
    )
    .unwrap();
    let redacted = RedactedLetter {
        v: FORMAT_VERSION,
        case_id: opened.letter.case_id.clone(),
        message_id: opened.letter.message_id.clone(),
        kind: opened.letter.kind,
        author: opened.letter.author.clone(),
        recipient_role: Role::Responsible,
        in_reply_to: None,
        created_at: opened.letter.created_at,
        body: "See attached.".into(),
        attachments: opened.letter.attachments.clone(),
        redacted_by: facilitator.identity.account_id().clone(),
        original_letter_sha256: opened.signed_letter.body_hash(),
        entered_by: None,
    };
    let payload = seal::seal_signed(
        &facilitator.identity,
        &redacted,
        &[responsible.recipient().clone()],
    )
    .unwrap();
    let mut forwarded = tempfile::tempfile().unwrap();
    let fblob = reseal_attachment(
        &facilitator.identity,
        &sealed_file.blob,
        &opened.letter.attachments[0],
        &[responsible.recipient().clone()],
        &blob[..],
        &mut forwarded,
    )
    .unwrap();
    let statement = facilitator
        .sign(&Forward {
            v: FORMAT_VERSION,
            case_id: opened.letter.case_id.clone(),
            message_id: opened.letter.message_id.clone(),
            facilitator: facilitator.identity.account_id().clone(),
            recipient: responsible.account_id().clone(),
            recipient_role: Role::Responsible,
            original_sha256: opened.envelope.ciphertext_sha256,
            forwarded_sha256: Sha256Hash::of(&payload),
            forwarded_size: payload.len() as u64,
            redacted: true,
            attachments: vec![fblob],
            attachment_decisions: vec![AttachmentDecision::Kept],
            seq: facilitator.next_seq().unwrap(),
            created_at: ferry_server::now(),
        })
        .unwrap();
    let a: Accepted = facilitator
        .client
        .post(
            &format!("/v1/cases/{}/messages/{m}/forward", w.case),
            &DecisionRequest {
                statement,
                ciphertext: to_b64(&payload),
            },
        )
        .unwrap();
    forwarded.rewind().unwrap();
    let _: Accepted = facilitator
        .client
        .put_stream(
            &format!("/v1/deliveries/{}/attachments/0", a.id.unwrap()),
            &mut forwarded,
        )
        .unwrap();

    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    let dir = w.responsible.env.home.join("inbox").join("saved");
    let (out, result) =
        w.responsible
            .ferry_out(&["read", &d, "--save-attachments", dir.to_str().unwrap()]);
    let err = result.expect_err(&out);
    assert!(
        format!("{err:#}").contains("failed verification"),
        "{err:#}"
    );
    assert!(!w.responsible.env.home.join("escaped.txt").exists());
    assert!(!dir.join("../../escaped.txt").exists());
    assert!(!out.contains("written outside"), "{out}");
}

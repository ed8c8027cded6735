//! A forward says what became of every attachment: kept as the author sent it, dropped, or
//! replaced by the facilitator's redacted file; and the recipient's side holds it to that.

use ferry_crypto::attachment::{open_attachment, reseal_attachment, seal_attachment};
use ferry_crypto::forward::{
    self, AttachmentDecision, Forward, ForwardRequest, ForwardedAttachment,
};
use ferry_crypto::seal::{self, AttachmentBlob, OpenedMessage};

use crate::common::{Case, NOW, card};

/// A question with three text attachments, sealed and opened by the facilitator; the blobs.
fn letter_with_attachments(case: &Case, names: &[&str]) -> (OpenedMessage, Vec<Vec<u8>>) {
    let mut letter = case.question("Please read the attached.");
    let mut blobs = vec![];
    let mut digests = vec![];
    for name in names {
        let mut blob = vec![];
        let sealed = seal_attachment(
            &case.harmed,
            &case.facilitator_recipients(),
            "plain.txt",
            format!("contents of {name}").as_bytes(),
            &mut blob,
        )
        .unwrap();
        let mut plaintext = sealed.plaintext;
        // The author's own client chooses the name its letter signs.
        plaintext.name = (*name).to_owned();
        letter.attachments.push(plaintext);
        digests.push(sealed.blob);
        blobs.push(blob);
    }
    let sealed = seal::seal(
        &case.harmed,
        &letter,
        1,
        digests,
        &case.facilitator_recipients(),
    )
    .unwrap();
    (case.open_as_facilitator(&sealed).unwrap(), blobs)
}

fn reseal(
    case: &Case,
    opened: &OpenedMessage,
    blobs: &[Vec<u8>],
    i: usize,
) -> (AttachmentBlob, Vec<u8>) {
    let mut out = vec![];
    let blob = reseal_attachment(
        &case.facilitator,
        &opened.envelope.attachments[i],
        &opened.letter.attachments[i],
        &[case.responsible.recipient()],
        &blobs[i][..],
        &mut out,
    )
    .unwrap();
    (blob, out)
}

fn request<'a>(
    opened: &'a OpenedMessage,
    recipient: &'a ferry_crypto::KeyCard,
    attachments: Vec<ForwardedAttachment>,
) -> ForwardRequest<'a> {
    ForwardRequest {
        original: opened,
        recipient: recipient.into(),
        redacted_body: None,
        attachments,
        co_facilitators: &[],
        seq: 2,
        created_at: NOW + 60,
    }
}

#[test]
fn kept_dropped_and_replaced_attachments_are_recorded_and_delivered() {
    let case = Case::new();
    let (opened, blobs) = letter_with_attachments(&case, &["a.txt", "b.txt", "c.txt"]);
    let recipient = card(&case.responsible);
    let (kept, kept_bytes) = reseal(&case, &opened, &blobs, 0);
    let mut replacement = vec![];
    let replaced = seal_attachment(
        &case.facilitator,
        &[case.responsible.recipient()],
        "c-redacted.txt",
        &b"contents of [removed]"[..],
        &mut replacement,
    )
    .unwrap();
    let fwd = forward::forward(
        &case.facilitator,
        request(
            &opened,
            &recipient,
            vec![
                ForwardedAttachment::Kept(kept),
                ForwardedAttachment::Dropped,
                ForwardedAttachment::Replaced(replaced),
            ],
        ),
    )
    .unwrap();
    let delivered = forward::open_forwarded(
        &case.responsible,
        &fwd.forward,
        &fwd.ciphertext,
        &card(&case.facilitator),
        &card(&case.harmed),
        &case.id,
    )
    .unwrap();
    // Dropping or replacing anything makes the forward redacted, even with the text as written.
    assert!(delivered.redacted);
    assert_eq!(delivered.body, "Please read the attached.");
    assert_eq!(
        delivered.forward.attachment_decisions,
        [
            AttachmentDecision::Kept,
            AttachmentDecision::Dropped,
            AttachmentDecision::Replaced
        ]
    );
    let names: Vec<_> = delivered
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["a.txt", "c-redacted.txt"]);
    let mut out = vec![];
    open_attachment(
        &case.responsible,
        &delivered.forward.attachments[1],
        &delivered.attachments[1],
        &replacement[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, b"contents of [removed]");
    let mut out = vec![];
    open_attachment(
        &case.responsible,
        &delivered.forward.attachments[0],
        &delivered.attachments[0],
        &kept_bytes[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, b"contents of a.txt");

    // Everything kept and the text unchanged: the author's own signed letter is carried.
    let all: Vec<_> = (0..3)
        .map(|i| ForwardedAttachment::Kept(reseal(&case, &opened, &blobs, i).0))
        .collect();
    let fwd = forward::forward(&case.facilitator, request(&opened, &recipient, all)).unwrap();
    let delivered = forward::open_forwarded(
        &case.responsible,
        &fwd.forward,
        &fwd.ciphertext,
        &card(&case.facilitator),
        &card(&case.harmed),
        &case.id,
    )
    .unwrap();
    assert!(!delivered.redacted);
    assert_eq!(delivered.attachments.len(), 3);
}

#[test]
fn every_attachment_needs_a_decision_and_they_must_agree() {
    let case = Case::new();
    let (opened, blobs) = letter_with_attachments(&case, &["a.txt", "b.txt"]);
    let recipient = card(&case.responsible);
    let kept = ForwardedAttachment::Kept(reseal(&case, &opened, &blobs, 0).0);
    let err = forward::forward(
        &case.facilitator,
        request(&opened, &recipient, vec![kept.clone()]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("attachment decisions"), "{err}");

    // A forward statement whose decisions disagree with what it carries is refused.
    let fwd = forward::forward(
        &case.facilitator,
        request(
            &opened,
            &recipient,
            vec![kept, ForwardedAttachment::Dropped],
        ),
    )
    .unwrap();
    let mut lie: Forward = fwd.forward.open(&card(&case.facilitator)).unwrap();
    lie.redacted = false;
    let forged = case.facilitator.sign(&lie).unwrap();
    assert!(lie.check_decisions(Some(2), false).is_err());
    let err = forward::open_forwarded(
        &case.responsible,
        &forged,
        &fwd.ciphertext,
        &card(&case.facilitator),
        &card(&case.harmed),
        &case.id,
    )
    .unwrap_err();
    assert!(err.to_string().contains("redacted"), "{err}");
    let mut short: Forward = fwd.forward.open(&card(&case.facilitator)).unwrap();
    short.attachment_decisions.pop();
    assert!(short.check_decisions(Some(2), false).is_err());
}

#[test]
fn an_attachment_name_that_is_not_a_plain_file_name_is_never_passed_on() {
    let case = Case::new();
    for name in [
        "../../.bashrc",
        "/etc/passwd",
        "..",
        "a\x1b[2Jb.txt",
        "dir\\x.txt",
    ] {
        let (opened, blobs) = letter_with_attachments(&case, &[name]);
        let kept = ForwardedAttachment::Kept(reseal(&case, &opened, &blobs, 0).0);
        let recipient = card(&case.responsible);
        let err = forward::forward(&case.facilitator, request(&opened, &recipient, vec![kept]))
            .unwrap_err();
        assert!(
            err.to_string().contains("attachment name"),
            "{name:?}: {err}"
        );
        // Dropped, the letter goes on without it.
        forward::forward(
            &case.facilitator,
            request(&opened, &recipient, vec![ForwardedAttachment::Dropped]),
        )
        .unwrap();
    }
}

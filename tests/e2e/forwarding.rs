//! No message passes without review: a forward shows its facilitator exactly what will be
//! sent and asks; without a terminal it needs --yes and sends only what `ferry review` showed.
//! An editor that returns without a change is not approval. Every attachment is shown in
//! review and needs its own decision, which the forward records and the recipient sees.

use crate::harness::{World, field};

const QUESTION: &str = "Why us? Write to me at sam.lee@example.com or ring 07700 900461.";

#[test]
fn a_message_nobody_has_reviewed_is_not_forwarded() {
    let w = World::new();
    let q = w.question(QUESTION);
    // Not reviewed: refused with the command that reviews it, with or without --yes.
    for args in [&["forward", &q][..], &["forward", &q, "--yes"]] {
        let out = w.refused(&w.facilitator, args);
        assert!(out.contains(&format!("ferry review {q}")), "{out}");
        assert!(!out.contains("sam.lee"), "{out}");
    }
    assert!(w.delivered(&w.responsible).is_empty());

    // Reviewed, but without --yes and without a terminal: the exact text is shown, not sent.
    w.facilitator.ok(&["review", &q]);
    let out = w.refused(&w.facilitator, &["forward", &q]);
    assert!(
        out.contains("What Rory (responsible person) will receive, exactly:"),
        "{out}"
    );
    assert!(out.contains(&format!("  | {QUESTION}")), "{out}");
    assert!(
        out.contains("Nothing was sent") && out.contains("--yes"),
        "{out}"
    );

    // The redacted version must have been seen too before it goes unattended.
    let out = w.refused(
        &w.facilitator,
        &["forward", &q, "--redact-detected", "--yes"],
    );
    assert!(
        out.contains(&format!("ferry review {q} --redact-detected")),
        "{out}"
    );
    let preview = w.facilitator.ok(&["review", &q, "--redact-detected"]);
    assert!(
        preview.contains("Write to me at [email removed] or ring [phone removed]."),
        "{preview}"
    );
    let out = w
        .facilitator
        .ok(&["forward", &q, "--redact-detected", "--yes"]);
    assert!(
        out.contains("  | Why us? Write to me at [email removed] or ring [phone removed]."),
        "{out}"
    );
    assert!(
        out.contains("[-sam.lee@example.com-]{+[email removed]+}"),
        "{out}"
    );
    assert!(out.contains("redacted: delivered"), "{out}");
    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    let read = w.responsible.ok(&["read", &d]);
    assert!(
        !read.contains("sam.lee") && !read.contains("07700"),
        "{read}"
    );
}

#[test]
fn at_a_terminal_the_facilitator_sees_the_message_and_confirms() {
    let mut w = World::new();
    let q = w.question(QUESTION);
    // Never reviewed: shown in the same command, then asked; "no" sends nothing.
    w.facilitator.answering(&["n"]);
    let out = w.refused(&w.facilitator, &["forward", &q, "--redact-detected"]);
    assert!(
        out.contains("[[sam.lee@example.com]]"),
        "the review comes first:\n{out}"
    );
    assert!(
        out.contains("Send this to Rory (responsible person)? [y/N]"),
        "{out}"
    );
    assert!(out.contains("Nothing was sent."), "{out}");
    w.facilitator.answering(&["y"]);
    let out = w.facilitator.ok(&["forward", &q, "--redact-detected"]);
    assert!(out.contains("redacted: delivered"), "{out}");
    assert_eq!(w.delivered(&w.responsible).len(), 1);
}

#[test]
fn an_editor_that_changes_nothing_is_not_approval() {
    let mut w = World::new();
    let q = w.question("Please ring 07700 900461 after six.");
    w.facilitator.ok(&["review", &q]);
    // An editor that returns at once (`true`, a graphical editor without its wait option),
    // here keeping a copy of the buffer it was given.
    let buffer = w.facilitator.env.home.join("buffer.txt");
    w.facilitator.env.editor = Some(format!("tee {} >/dev/null <", buffer.display()));
    let out = w.refused(&w.facilitator, &["forward", &q, "--edit", "--yes"]);
    assert!(out.contains("closed without any change"), "{out}");
    let given = std::fs::read_to_string(&buffer).unwrap();
    assert!(
        given.contains("Please ring [[07700 900461]] after six."),
        "{given}"
    );
    assert!(
        given.contains("1 identifying detail(s) are marked [[like this]]"),
        "{given}"
    );

    // At a terminal it says so and asks again; declining sends nothing.
    w.facilitator.env.editor = Some("true".into());
    w.facilitator.answering(&["n"]);
    let out = w.refused(&w.facilitator, &["forward", &q, "--edit"]);
    assert!(out.contains("closed without any change"), "{out}");
    assert!(out.contains("Open the editor again? [Y/n]"), "{out}");

    // An edit that leaves the detail marked is not sent either.
    w.facilitator.unattended();
    w.facilitator.env.editor = Some("sed -i s/six/seven/".into());
    let out = w.refused(&w.facilitator, &["forward", &q, "--edit", "--yes"]);
    assert!(out.contains("still marked: 07700 900461"), "{out}");

    // A real redaction goes, without the instructions.
    w.facilitator.env.editor = Some(r"sed -i 's/\[\[07700 900461\]\]/[number removed]/'".into());
    let out = w.facilitator.ok(&["forward", &q, "--edit", "--yes"]);
    assert!(
        out.contains("  | Please ring [number removed] after six."),
        "{out}"
    );
    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    let read = w.responsible.ok(&["read", &d]);
    assert!(
        read.contains("  | Please ring [number removed] after six."),
        "{read}"
    );
    assert!(!read.contains("Ferry:") && !read.contains("---"), "{read}");
}

#[test]
fn every_attachment_is_shown_and_needs_its_own_decision() {
    let w = World::new();
    let notes = w.harmed.file(
        "notes.txt",
        "Our address is 27 Harbour View Road, Poole BH15 4RR.\nMy mobile is 07700 900123.",
    );
    let photo_bytes: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let photo = w.harmed.env.home.join("photo.jpg");
    std::fs::write(&photo, &photo_bytes).unwrap();
    let letter = w
        .harmed
        .file("letter.txt", "Please call me on 07700 900461.");
    let l = field(
        &w.harmed.json(&[
            "write",
            "letter",
            "--file",
            &letter,
            "--attach",
            &notes,
            "--attach",
            photo.to_str().unwrap(),
        ]),
        "message_id",
    );

    // Review shows the text attachment highlighted, and saves the photo privately.
    let review = w.facilitator.ok(&["review", &l, "--redact-detected"]);
    assert!(review.contains("Attachment #0 notes.txt"), "{review}");
    assert!(review.contains("[[27 Harbour View Road]]"), "{review}");
    assert!(review.contains("[[07700 900123]]"), "{review}");
    assert!(
        review.contains("Attachment #1 photo.jpg (5000 bytes) is not text"),
        "{review}"
    );
    let saved = review
        .lines()
        .map(str::trim)
        .find(|l| l.ends_with("1-photo.jpg"))
        .unwrap_or_else(|| panic!("no saved photo named in:\n{review}"));
    assert_eq!(std::fs::read(saved).unwrap(), photo_bytes);
    use std::os::unix::fs::PermissionsExt;
    let folder = std::path::Path::new(saved).parent().unwrap();
    let mode = std::fs::metadata(folder).unwrap().permissions().mode() & 0o777;
    assert_eq!(format!("{mode:o}"), "700");

    // No decision for the photo: nothing is sent, and the photo is named.
    let out = w.refused(
        &w.facilitator,
        &["forward", &l, "--redact-detected", "--yes"],
    );
    assert!(
        out.contains("#1 photo.jpg") && out.contains("--drop N"),
        "{out}"
    );
    let out = w.refused(&w.facilitator, &["forward", &l, "--yes"]);
    assert!(out.contains("#0 notes.txt, #1 photo.jpg"), "{out}");
    let out = w.refused(
        &w.facilitator,
        &["forward", &l, "--keep", "0", "--drop", "0", "--yes"],
    );
    assert!(out.contains("more than one decision"), "{out}");

    // The text attachment redacted like the letter, the photo dropped.
    let out = w
        .facilitator
        .ok(&["forward", &l, "--redact-detected", "--drop", "1", "--yes"]);
    assert!(
        out.contains("Attachment #1 photo.jpg (5000 bytes): NOT passed on"),
        "{out}"
    );
    assert!(out.contains("Attachment #0 notes.txt"), "{out}");
    assert!(
        out.contains("Our address is [street address removed]"),
        "{out}"
    );
    assert!(!folder.exists(), "the review folder outlived the decision");

    let delivered = w.delivered(&w.responsible);
    let d = field(&delivered[0], "delivery_id");
    let dir = w.responsible.env.home.join("saved");
    let read = w
        .responsible
        .ok(&["read", &d, "--save-attachments", dir.to_str().unwrap()]);
    assert!(
        read.contains("the author's attachment #1 was not passed on by your facilitator"),
        "{read}"
    );
    assert!(
        read.contains("attachment #0 notes.txt is your facilitator's edited version"),
        "{read}"
    );
    let notes_read = std::fs::read_to_string(dir.join("notes.txt")).unwrap();
    assert!(
        !notes_read.contains("Harbour") && !notes_read.contains("07700"),
        "{notes_read}"
    );
    assert!(!dir.join("photo.jpg").exists());
    let json = w.responsible.json(&["read", &d, "--no-receipt"]);
    assert_eq!(
        json["attachment_decisions"],
        serde_json::json!(["replaced", "dropped"])
    );

    // The auditor's timeline records the decisions.
    let audit = w.auditor.ok(&["audit", "verify", "--case", &w.case]);
    assert!(
        audit.contains("attachment #0 replaced, #1 dropped"),
        "{audit}"
    );
}

#[test]
fn a_facilitators_own_file_can_replace_an_attachment() {
    let w = World::new();
    let scan = w
        .harmed
        .file("scan.txt", "Signed: Harriet Smith, 14 Acacia Avenue");
    let letter = w.harmed.file("letter.txt", "A letter and my scan.");
    let l = field(
        &w.harmed
            .json(&["write", "letter", "--file", &letter, "--attach", &scan]),
        "message_id",
    );
    w.facilitator.ok(&["review", &l]);
    let mine = w.facilitator.file("scan-redacted.txt", "Signed: Harriet");
    let out = w
        .facilitator
        .ok(&["forward", &l, "--replace", &format!("0={mine}"), "--yes"]);
    assert!(out.contains("replaced by your file"), "{out}");
    assert!(out.contains("The text is as Harriet wrote it"), "{out}");
    let d = field(&w.delivered(&w.responsible)[0], "delivery_id");
    let dir = w.responsible.env.home.join("saved");
    w.responsible
        .ok(&["read", &d, "--save-attachments", dir.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(dir.join("scan-redacted.txt")).unwrap(),
        "Signed: Harriet"
    );
}

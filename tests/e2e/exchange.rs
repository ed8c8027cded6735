//! The whole shuttle exchange through the real server and client, and what the server keeps.

use crate::harness::{World, contains, field};

const QUESTION: &str =
    "Why did you pick our house? Ring me on 07700 900461 if you would rather talk.";
const ANSWER_1: &str = "You should have locked your door, it was your own fault really.";
const NOTE: &str = "This reads as blaming Harriet; please say what you want her to know instead.";
const ANSWER_2: &str =
    "I did not pick your house for any reason. The door was open and I am sorry.";
const LETTER: &str =
    "Since the burglary my son sleeps in our room. I want you to know what one night did.";
const ATTACHMENT_MARKER: &str = "HANDWRITTEN-REPLY-SCAN-0451";

#[test]
fn the_full_exchange_and_no_plaintext_on_the_server() {
    let w = World::new();

    // The facilitator reads out each party's safety number and records that it matched.
    let harmed_number = w.harmed.json(&["whoami"])["safety_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = w
        .facilitator
        .ok(&["verify-key", "Harriet", "--case", &w.case, "--yes"]);
    assert!(
        out.contains(&harmed_number) && out.contains("Recorded: Harriet's key verified."),
        "{out}"
    );
    assert!(
        w.facilitator
            .ferry(&["verify-key", "Nobody", "--case", &w.case, "--yes"])
            .is_err()
    );
    assert!(
        w.facilitator
            .ferry(&["verify-key", "Rory", "--case", &w.case])
            .is_err(),
        "needs --yes without a terminal"
    );

    // A question from the harmed person, reviewed with the phone number highlighted.
    let q = w.question(QUESTION);
    let inbox = w.facilitator.ok(&["inbox"]);
    assert!(
        inbox.contains(&q) && inbox.contains("Harriet (harmed)"),
        "{inbox}"
    );
    let review = w.facilitator.ok(&["review", &q]);
    assert!(review.contains("signature verified"), "{review}");
    assert!(review.contains("[[07700 900461]]"), "{review}");
    assert!(
        review.contains("phone                 07700 900461"),
        "{review}"
    );

    // Nothing reaches the responsible person before the facilitator forwards it.
    assert!(w.delivered(&w.responsible).is_empty());

    // Redacted and forwarded.
    let out = w.forward(&q, &["--redact-detected"]);
    assert!(out.contains("redacted: delivered"), "{out}");
    let delivered = w.delivered(&w.responsible);
    assert_eq!(delivered.len(), 1);
    let d = field(&delivered[0], "delivery_id");
    let read = w.responsible.ok(&["read", &d]);
    assert!(
        read.contains("Why did you pick our house? Ring me on [phone removed]"),
        "{read}"
    );
    assert!(!read.contains("07700"), "{read}");
    assert!(read.contains("approved by Fiona Facilitator"), "{read}");
    assert!(
        read.contains("the facilitator edited this message"),
        "{read}"
    );
    assert!(read.contains("(read receipt signed)"), "{read}");
    // A second reading verifies again but signs no second receipt.
    let again = w.responsible.ok(&["read", &d]);
    assert!(!again.contains("receipt"), "{again}");

    // An answer, returned for rephrasing with a note, then rephrased and forwarded as is.
    let a1_file = w.responsible.file("a1.txt", ANSWER_1);
    let a1 = field(
        &w.responsible
            .json(&["write", "answer", "--in-reply-to", &q, "--file", &a1_file]),
        "message_id",
    );
    let out = w.facilitator.ok(&["return", &a1, "--note", NOTE]);
    assert!(out.contains("Returned"), "{out}");
    assert!(
        w.delivered(&w.harmed).is_empty(),
        "a returned answer must not reach the harmed person"
    );
    let back = w.delivered(&w.responsible);
    let ret = back.iter().find(|d| d["kind"] == "return").unwrap();
    let note = w.responsible.ok(&["read", &field(ret, "delivery_id")]);
    assert!(
        note.contains("returned for changes by Fiona Facilitator") && note.contains(NOTE),
        "{note}"
    );

    let a2_file = w.responsible.file("a2.txt", ANSWER_2);
    let a2 = field(
        &w.responsible
            .json(&["write", "answer", "--in-reply-to", &q, "--file", &a2_file]),
        "message_id",
    );
    let out = w.forward(&a2, &[]);
    assert!(out.contains("as written: delivered"), "{out}");
    let d = field(&w.delivered(&w.harmed)[0], "delivery_id");
    let read = w.harmed.ok(&["read", &d]);
    assert!(read.contains(ANSWER_2), "{read}");
    assert!(read.contains("Rory's own signature verified"), "{read}");
    assert!(read.contains(&format!("in answer to {q}")), "{read}");

    // A letter with an attachment, carried re-encrypted, saved only after verification.
    let scan: Vec<u8> = (0..300_000u32)
        .flat_map(|i| {
            if i % 1000 == 0 {
                ATTACHMENT_MARKER.as_bytes().to_vec()
            } else {
                vec![(i % 251) as u8]
            }
        })
        .collect();
    let scan_path = w.harmed.env.home.join("scan.jpg");
    std::fs::write(&scan_path, &scan).unwrap();
    let letter_file = w.harmed.file("letter.txt", LETTER);
    let l = field(
        &w.harmed.json(&[
            "write",
            "letter",
            "--file",
            &letter_file,
            "--attach",
            scan_path.to_str().unwrap(),
        ]),
        "message_id",
    );
    let review = w.facilitator.ok(&["review", &l]);
    assert!(
        review.contains(&format!("attached  #0 scan.jpg ({} bytes)", scan.len())),
        "{review}"
    );
    w.forward(&l, &["--keep", "0"]);
    let d = w
        .delivered(&w.responsible)
        .iter()
        .find(|d| d["message_id"] == l.as_str())
        .map(|d| field(d, "delivery_id"))
        .unwrap();
    let save = w.responsible.env.home.join("saved");
    let read = w
        .responsible
        .ok(&["read", &d, "--save-attachments", save.to_str().unwrap()]);
    assert!(read.contains("attachment #0 scan.jpg saved"), "{read}");
    assert_eq!(std::fs::read(save.join("scan.jpg")).unwrap(), scan);

    // The coordinator sees metadata only.
    let show = w.coordinator.ok(&["case", "show", &w.case]);
    assert!(show.contains("state        active"), "{show}");
    assert!(show.contains("3 forwarded, 1 returned"), "{show}");
    assert!(!show.contains("house"));

    // Server compromise reveals no content: no plaintext anywhere the server stores data.
    let stored = w.server.stored_bytes();
    if crate::harness::postgres_url().is_none() {
        assert!(
            stored.iter().any(|(f, _)| f.ends_with("ferry.db-wal")),
            "no WAL to search"
        );
    }
    for secret in [
        QUESTION,
        ANSWER_1,
        NOTE,
        ANSWER_2,
        LETTER,
        ATTACHMENT_MARKER,
        "07700 900461",
        "Why did you pick",
        "locked your door",
    ] {
        for (place, bytes) in &stored {
            assert!(
                !contains(bytes, secret.as_bytes()),
                "{secret:?} found in {place}"
            );
        }
    }
}

#[test]
fn the_demo_command_plays_the_whole_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("kept");
    let person = crate::harness::TestServer::start().person("demo-runner");
    let out = person.ok(&["demo", "--keep", keep.to_str().unwrap()]);
    for expected in [
        "Enrolled as a coordinator",
        "Identifying details found (2)",
        "redacted: delivered",
        "(read receipt signed)",
        "returned for changes",
        "own signature verified",
        "messages     2 forwarded, 1 returned",
        "events in the trail",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The inbox step shows the real inbox, and the message read next is the one it lists.
    let inbox = out
        .split("[responsible] $ ferry inbox")
        .nth(1)
        .unwrap_or_else(|| panic!("no inbox step in:\n{out}"));
    let listed = inbox
        .lines()
        .find_map(|l| l.split_whitespace().next().filter(|w| w.len() == 32))
        .unwrap_or_else(|| panic!("no message listed in the inbox:\n{inbox}"));
    assert!(
        inbox.contains(&format!("[responsible] $ ferry read {listed}")),
        "{inbox}"
    );
    assert!(out.contains("[responsible] $ ferry sent"), "{out}");
    assert!(out.contains("returned to you with a note"), "{out}");
    assert!(keep.join("ferry.db").exists() && keep.join("ferry-server.key").exists());
    assert!(keep.join("people/facilitator/keystore.age").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keep.join("people/harmed/keystore.age"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(keep.join("ferry-server.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second run into the same directory is refused rather than mixing two exchanges.
    assert!(
        person
            .ferry(&["demo", "--keep", keep.to_str().unwrap()])
            .is_err()
    );
}

/// A participant sees what became of each thing they wrote, and every command takes the
/// message id `ferry inbox` and `ferry sent` show.
#[test]
fn a_participant_follows_what_they_sent_by_message_id() {
    let w = World::new();
    let passed = w.question("Passed on as written?");
    let redacted = w.question("Call 07700 900461 please.");
    let returned = w.question("Returned?");
    let withheld = w.question("Withheld?");
    let waiting = w.question("Still waiting?");
    w.forward(&passed, &[]);
    w.forward(&redacted, &["--redact-detected"]);
    w.facilitator.ok(&[
        "return",
        &returned,
        "--note",
        "Could you put it another way?",
    ]);
    w.facilitator
        .ok(&["withhold", &withheld, "--reason", "risk_of_harm"]);
    let out = w.harmed.ok(&["sent"]);
    for (id, words) in [
        (&passed, "passed on as you wrote it"),
        (&redacted, "passed on, with some details removed"),
        (&returned, "returned to you with a note"),
        (&withheld, "not passed on"),
        (&waiting, "with your facilitator"),
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(id.as_str()))
            .unwrap_or_else(|| panic!("{id} not listed:\n{out}"));
        assert!(line.contains(words), "{line}");
    }
    assert!(!out.contains("risk_of_harm"), "{out}");
    let json = w.harmed.json(&["sent"]);
    assert_eq!(json.as_array().unwrap().len(), 5);
    // The note of the returned one, read by its message id.
    let note = w.harmed.ok(&["read", &returned]);
    assert!(note.contains("Could you put it another way?"), "{note}");
    // The recipient reads by message id too, as the inbox lists it.
    let inbox = w.responsible.ok(&["inbox"]);
    assert!(
        inbox.contains(&passed) && inbox.contains("ferry read MESSAGE"),
        "{inbox}"
    );
    let read = w.responsible.ok(&["read", &passed]);
    assert!(read.contains("Passed on as written?"), "{read}");
    // And answers it by the same id.
    let f = w.responsible.file("a.txt", "Yes.");
    w.responsible
        .ok(&["write", "answer", "--in-reply-to", &passed, "--file", &f]);
    let err = w.responsible.ferry(&["read", &withheld]).unwrap_err();
    assert!(
        format!("{err:#}").contains("nothing delivered to you"),
        "{err:#}"
    );
}

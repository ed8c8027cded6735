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

    w.facilitator.ok(&["forward", &q]);
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

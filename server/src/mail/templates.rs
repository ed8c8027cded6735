//! The e-mails Ferry sends. Each says only that something is waiting, with the case id: never
//! content, never anyone's name, never the crime, never anyone else's contact details.

use crate::mail::Kind;

/// Subject, plain text and HTML of one e-mail.
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

fn html_of(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .map(|p| {
            if p.starts_with("    ") {
                format!("<pre>{}</pre>", p.trim())
            } else {
                format!("<p>{}</p>", p.replace('\n', "<br>"))
            }
        })
        .collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">{}</body></html>",
        paragraphs.join("")
    )
}

fn finish(subject: &str, text: String) -> Rendered {
    Rendered {
        subject: subject.to_owned(),
        html: html_of(&text),
        text,
    }
}

const FOOTER: &str = "This e-mail was sent by Ferry. It never contains messages themselves: \
open Ferry to read them. If you were not expecting it, you can ignore it.";

/// An invitation carrying a one-time enrolment code.
pub fn invitation(
    role: &str,
    case_id: Option<&str>,
    code: &str,
    server: &str,
    expires: &str,
) -> Rendered {
    let place = match case_id {
        Some(case) => format!("to take part in case {case}"),
        None => format!("to join as {}", ferry_crypto::with_article(role)),
    };
    let text = format!(
        "Hello,\n\nYou have been invited {place} on Ferry, a service that carries written \
         messages safely, read first by a trained facilitator.\n\nYour one-time enrolment code \
         is:\n\n    {code}\n\nTo enrol, install the ferry program and run:\n\n    ferry enrol \
         {server} {code} --name \"Your name\"\n\nThe code works once and stops working on \
         {expires} (UTC). Your keys are made on your own computer; nobody else ever holds \
         them.\n\n{FOOTER}\n"
    );
    finish("Your invitation to Ferry", text)
}

/// A notification of one kind about one case.
pub fn notification(kind: Kind, case_id: &str) -> Rendered {
    let (subject, body) = match kind {
        Kind::NewMessage => (
            "Something new is waiting for you in Ferry",
            format!(
                "There is something new for you in case {case_id}.\n\nTo see it, run:\n\n    ferry inbox"
            ),
        ),
        Kind::ReviewWaiting => (
            "A message waits for your review",
            format!(
                "A message in case {case_id} is waiting for your review.\n\nTo see it, run:\n\n    ferry inbox"
            ),
        ),
        _ => (
            "A case needs your attention",
            format!(
                "Case {case_id} needs your attention.\n\nTo see it, run:\n\n    ferry case show {case_id}"
            ),
        ),
    };
    finish(subject, format!("Hello,\n\n{body}\n\n{FOOTER}\n"))
}

/// The daily digest.
pub fn digest(count: usize) -> Rendered {
    let what = if count == 1 {
        "1 new thing".to_owned()
    } else {
        format!("{count} new things")
    };
    finish(
        "New things are waiting for you in Ferry",
        format!(
            "Hello,\n\nSince your last digest, {what} arrived for you in Ferry.\n\nTo see them, run:\n\n    ferry inbox\n\n{FOOTER}\n"
        ),
    )
}

//! The reviewer's highlighter: finds identifying details a facilitator may want to redact
//! before forwarding — UK postcodes, phone numbers, e-mail addresses, street addresses, dates
//! (of birth), vehicle registrations, National Insurance and prison numbers.

use std::sync::OnceLock;

use regex::Regex;

use crate::output::shown;
use serde::Serialize;

/// One identifying detail found in a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Its kind: postcode, phone, email, street_address, date_of_birth,
    /// vehicle_registration, ni_number, prison_number.
    pub kind: &'static str,
    /// The exact text.
    pub text: String,
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
}

const STREET: &str = "Road|Rd|Street|St|Lane|Avenue|Ave|Way|Close|Drive|Grove|Crescent|Place|Gardens|Terrace|Court|Hill|View|Row|Square|Walk|Mews|Park|Rise|Parade|Green";
const MONTHS: &str = "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec";

fn patterns() -> &'static [(&'static str, Regex)] {
    static PATTERNS: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let specs: Vec<(&'static str, String)> = vec![
            ("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b".into()),
            ("ni_number", r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b".into()),
            ("prison_number", r"\b[A-Z]\d{4}[A-Z]{2}\b".into()),
            ("postcode", r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b".into()),
            ("vehicle_registration", r"\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b".into()),
            (
                "phone",
                r"(?:\+44\s?(?:\(0\)\s?)?|\b0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b".into(),
            ),
            // A bracketed area code: (01632) 960001, (020) 7946 0000.
            (
                "phone",
                r"\(0\d{2,4}\)\s?\d{3,4}(?:[\s-]?\d{3,4})?\b".into(),
            ),
            (
                "date_of_birth",
                format!(
                    r"\b\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)\d{{2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})\s+(?:19|20)\d{{2}}\b"
                ),
            ),
            (
                "street_address",
                format!(r"\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){{1,3}}(?:{STREET})\b"),
            ),
            ("street_address", format!(r"\b(?:[A-Z][a-z]+\s+){{1,2}}(?:{STREET})\b")),
        ];
        specs
            .into_iter()
            .filter_map(|(kind, re)| Regex::new(&re).ok().map(|re| (kind, re)))
            .collect()
    })
}

/// Every identifying detail in `text`, in order, without overlaps (earlier patterns win).
pub fn find(text: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = vec![];
    for (kind, re) in patterns() {
        for m in re.find_iter(text) {
            let overlaps = found.iter().any(|f| m.start() < f.end && f.start < m.end());
            if !overlaps {
                found.push(Finding {
                    kind,
                    text: m.as_str().to_owned(),
                    start: m.start(),
                    end: m.end(),
                });
            }
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// `text`'s lines with each finding (or its part on that line) wrapped in `open`/`close`
/// markers, and the text between them shown safely ([`crate::output::shown`]): the markers
/// may be terminal styling, the text never is.
pub fn highlight_lines(text: &str, findings: &[Finding], open: &str, close: &str) -> Vec<String> {
    let mut lines = vec![];
    let mut start = 0;
    for line in text.split('\n') {
        let end = start + line.len();
        let content = line.strip_suffix('\r').unwrap_or(line);
        let mut out = String::with_capacity(content.len());
        let mut at = start;
        let stop = start + content.len();
        for f in findings.iter().filter(|f| f.start < stop && f.end > start) {
            let (from, to) = (f.start.max(start), f.end.min(stop));
            out.push_str(&shown(&text[at..from]));
            out.push_str(open);
            out.push_str(&shown(&text[from..to]));
            out.push_str(close);
            at = to;
        }
        out.push_str(&shown(&text[at..stop]));
        lines.push(out);
        start = end + 1;
    }
    lines
}

/// `text` with each finding replaced by `[removed <kind>]`.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in findings {
        out.push_str(&text[at..f.start]);
        out.push_str(&format!("[{} removed]", f.kind.replace('_', " ")));
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&'static str, String)> {
        find(text).into_iter().map(|f| (f.kind, f.text)).collect()
    }

    #[test]
    fn finds_each_kind() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "Write to me at 14 Acacia Avenue, Leeds LS6 2AB.",
                "street_address",
                "14 Acacia Avenue",
            ),
            (
                "Write to me at 14 Acacia Avenue, Leeds LS6 2AB.",
                "postcode",
                "LS6 2AB",
            ),
            ("Ring 07700 900123 any time", "phone", "07700 900123"),
            ("or the office on 0113 496 0000", "phone", "0113 496 0000"),
            ("or +44 7700 900987", "phone", "+44 7700 900987"),
            ("my landline (01632) 960001", "phone", "(01632) 960001"),
            ("the shop on (020) 7946 0000.", "phone", "(020) 7946 0000"),
            (
                "mail sam.lee@example.com please",
                "email",
                "sam.lee@example.com",
            ),
            (
                "I was born 02/11/1988 in Hull",
                "date_of_birth",
                "02/11/1988",
            ),
            ("born on 21st June 1975", "date_of_birth", "21st June 1975"),
            (
                "the van, YB07 PLM, was mine",
                "vehicle_registration",
                "YB07 PLM",
            ),
            ("NI number AB 98 76 54 D", "ni_number", "AB 98 76 54 D"),
            ("my number is B1234CD here", "prison_number", "B1234CD"),
            (
                "it was on Station Road by the shop",
                "street_address",
                "Station Road",
            ),
        ];
        for (text, kind, expected) in cases {
            let found = kinds(text);
            assert!(
                found.iter().any(|(k, t)| k == kind && t == expected),
                "{text:?}: expected {kind} {expected:?}, found {found:?}"
            );
        }
    }

    #[test]
    fn plain_sentences_have_no_findings() {
        for text in [
            "Why did you pick our house? Had you been watching us before that night?",
            "I am sorry. I think about your son a lot.",
            "I had not slept for two days and I was panicking about being caught.",
            "We moved the beds around and we still check the back door three times every night.",
        ] {
            assert_eq!(find(text), vec![], "{text}");
        }
    }

    #[test]
    fn redaction_replaces_every_finding() {
        let text = "Ring 07700 900461 or write to 27 Harbour View Road, Poole BH15 4RR.";
        let redacted = redact(text, &find(text));
        assert_eq!(
            redacted,
            "Ring [phone removed] or write to [street address removed], Poole [postcode removed]."
        );
        assert_eq!(
            highlight_lines("call 07700 900461", &find("call 07700 900461"), "[[", "]]"),
            vec!["call [[07700 900461]]"]
        );
        let text = "Dear Sam,\r\nring 07700 900461\nor write to 27 Harbour\nView Road \x1b[2J";
        assert_eq!(
            highlight_lines(text, &find(text), "<", ">"),
            vec![
                "Dear Sam,",
                "ring <07700 900461>",
                "or write to <27 Harbour>",
                "<View Road> \\u{1b}[2J"
            ]
        );
    }
}

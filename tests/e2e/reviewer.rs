//! The reviewer's highlighter against the annotated sample exchanges (`tests/fixtures/samples`,
//! a copy of `../shared/samples` that `.ci/run` keeps current).

use ferry_cli::pii;

#[test]
fn the_highlighter_finds_every_annotated_detail_in_the_samples() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/samples/exchanges.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for case in cases.as_array().unwrap() {
        for m in case["messages"].as_array().unwrap() {
            let body = m["text"].as_str().unwrap();
            let found = pii::find(body);
            let expected: Vec<(String, String)> = m["pii"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["kind"].as_str().unwrap().to_owned(),
                        p["text"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            for (kind, text) in &expected {
                assert!(
                    found.iter().any(|f| f.kind == kind && &f.text == text),
                    "missed {kind} {text:?} in {body:?}; found {found:?}"
                );
                checked += 1;
            }
            // Nothing flagged that the annotators did not flag.
            for f in &found {
                assert!(
                    expected.iter().any(|(k, t)| k == f.kind && t == &f.text),
                    "false alarm {} {:?} in {body:?}",
                    f.kind,
                    f.text
                );
            }
        }
    }
    assert!(checked >= 10);
}

/// A landline with its area code in brackets is highlighted in review, and removed by
/// `--redact-detected`.
#[test]
fn a_bracketed_area_code_is_highlighted_in_review() {
    let w = crate::harness::World::new();
    let q = w.question("Ring my landline on (01632) 960001 after six.");
    let review = w.facilitator.ok(&["review", &q, "--redact-detected"]);
    assert!(review.contains("[[(01632) 960001]]"), "{review}");
    assert!(
        review.contains("Ring my landline on [phone removed] after six."),
        "{review}"
    );
}

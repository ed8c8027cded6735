//! What a person reads, pinned: every command's `--help` (trycmd cases in `tests/cmd/`) and
//! the transcript of `ferry demo`. A change to either is a change to these files, shown in
//! review. `TRYCMD=overwrite` / `SNAPSHOTS=overwrite` rewrite them after a deliberate change.
#![allow(clippy::unwrap_used)]

use snapbox::cmd::{Command, cargo_bin};
use snapbox::{Assert, Redactions, file};

#[test]
fn every_command_explains_itself() {
    trycmd::TestCases::new()
        .env("COLUMNS", "100")
        .case("tests/cmd/*.md");
}

/// The demo's transcript, with what changes from run to run (addresses, ids, codes, keys,
/// times) replaced by placeholders.
#[test]
fn the_demo_tells_the_same_story() {
    let regex = |r: &str| regex::Regex::new(r).unwrap();
    let mut redactions = Redactions::new();
    let patterns = [
        ("[URL]", r"http://127\.0\.0\.1:\d+"),
        ("[DIR]", r"(?<redacted>/\S*/\.tmp\w+)"),
        ("[CODE]", r"\b[0-9A-Z]{5}(?:-[0-9A-Z]{5}){9}\b"),
        // A fingerprint on its own, not the last groups of a code.
        (
            "[KEY]",
            r"(?:^|[^-0-9A-Z])(?<redacted>[0-9A-Z]{5}(?:-[0-9A-Z]{5}){3})(?:$|[^-0-9A-Z])",
        ),
        ("[SAFETY]", r"\b\d{5}(?: \d{5}){5}\b"),
        ("[ACCOUNT]", r"\b[0-9a-f]{32}\b"),
        ("[SHORT]", r"\b[0-9a-f]{12}\b"),
        ("[ROOT]", r"\b[0-9a-f]{16}\b"),
        ("[CASE]", r"\bc-[0-9a-z]{8}\b"),
        ("[TIME]", r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b"),
        ("[SIZE]", r"\b(?<redacted>\d+) bytes\b"),
    ];
    for (placeholder, pattern) in patterns {
        redactions.insert(placeholder, regex(pattern)).unwrap();
    }
    let assert = Assert::new()
        .action_env("SNAPSHOTS")
        .redact_with(redactions);
    Command::new(cargo_bin("ferry"))
        .arg("demo")
        .env_remove("FERRY_SERVER")
        .with_assert(assert)
        .assert()
        .success()
        .stdout_eq(file!["cmd/demo.stdout"]);
}

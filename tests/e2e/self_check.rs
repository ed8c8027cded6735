//! `ferry self-check` runs as a user would run it.

#[test]
fn ferry_self_check_passes_and_prints_a_transcript() {
    let mut out = Vec::new();
    ferry_cli::run(["ferry", "self-check"], &mut out).unwrap();
    let stdout = String::from_utf8(out).unwrap();
    assert!(stdout.contains("safety number"));
    assert!(stdout.contains("refused    Rory cannot open it before review"));
    assert!(stdout.ends_with("self-check passed\n"));
    // The redacted phone number never reaches the recipient's transcript line.
    let read_line = stdout.lines().find(|l| l.starts_with("read")).unwrap();
    assert!(!read_line.contains("07700"));
}

#[test]
fn ferry_self_check_json_is_machine_readable() {
    let mut out = Vec::new();
    ferry_cli::run(["ferry", "self-check", "--json"], &mut out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["ok"], true);
    assert!(json["steps"].as_array().unwrap().len() >= 8);
}

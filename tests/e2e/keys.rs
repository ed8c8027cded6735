//! Keys are checked, not trusted: a bundle verifies only against a server key the auditor
//! trusts, and `ferry enrol` checks the server's key against the fingerprint its invitation
//! carries before it sends anything.

use crate::harness::{TestServer, World, field};

/// The verifier key `ferry-server init` prints for a server.
fn verifier_key(server: &TestServer) -> String {
    ferry_crypto::log_format::verifier_key(
        &server.state.config.log_origin,
        &server.state.server_identity.verifying_key(),
    )
}

/// Exports a case's bundle as `who` into their home; returns its path.
fn export(who: &crate::harness::Person, case: &str) -> String {
    let file = who.env.home.join(format!("{case}.bundle.json"));
    who.ok(&[
        "audit",
        "export",
        "--case",
        case,
        "-o",
        file.to_str().unwrap(),
    ]);
    file.to_str().unwrap().to_owned()
}

#[test]
fn a_bundle_verifies_only_against_a_server_key_the_auditor_trusts() {
    let w = World::new();
    let q = w.question("A question");
    w.forward(&q, &[]);
    let real = export(&w.auditor, &w.case);
    let out = w.auditor.ok(&["audit", "verify-bundle", &real]);
    assert!(
        out.contains("Checked offline against the server key pinned in your profile")
            && out.contains("Result: CLEAN"),
        "{out}"
    );

    // The same case id on another server, with its own key: not this service's record.
    let other = TestServer::start();
    let c = other.person("coordinator");
    c.ok(&[
        "enrol",
        &other.url,
        &other.coordinator_code(),
        "--name",
        "Mallory",
    ]);
    c.ok(&[
        "case",
        "open",
        "--id",
        &w.case,
        "--reference",
        "RJ-1",
        "--category",
        "burglary",
    ]);
    let forged = export(&c, &w.case);
    let (out, result) = w.auditor.ferry_out(&["audit", "verify-bundle", &forged]);
    assert!(result.is_err(), "{out}");
    assert!(
        out.contains("is not the server key pinned in your profile"),
        "{out}"
    );
    assert!(
        !out.contains("Verified offline") && !out.contains("CLEAN"),
        "{out}"
    );

    // Someone with no profile: unverified without a key; checked against the one given.
    let stranger = w.server.person("inspector-elsewhere");
    let (out, result) = stranger.ferry_out(&["audit", "verify-bundle", &real]);
    assert!(result.is_err(), "{out}");
    assert!(out.contains("its origin is unverified"), "{out}");
    assert!(!out.contains("CLEAN"), "{out}");
    let vkey = verifier_key(&w.server);
    let out = stranger.ok(&["audit", "verify-bundle", &real, "--server-key", &vkey]);
    assert!(out.contains("Result: CLEAN"), "{out}");
    let (out, result) =
        stranger.ferry_out(&["audit", "verify-bundle", &forged, "--server-key", &vkey]);
    assert!(result.is_err(), "{out}");
    assert!(
        out.contains("is not the key given with --server-key"),
        "{out}"
    );
    let (_, result) = stranger.ferry_out(&[
        "audit",
        "verify-bundle",
        &real,
        "--server-key",
        &verifier_key(&other),
    ]);
    assert!(result.is_err());
}

#[test]
fn an_altered_event_in_a_bundle_is_called_altered_not_deleted() {
    let w = World::new();
    let file = export(&w.auditor, &w.case);
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let leaf = String::from_utf8(
        ferry_cli::client::b64(bundle["events"][5]["leaf"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    for altered in [
        leaf.replacen('{', "[", 1),
        leaf.replacen("\"seq_in_case\":5", "\"seq_in_case\":6", 1),
        leaf.replacen("\"server_time\":", "\"server_time\":1", 1),
    ] {
        bundle["events"][5]["leaf"] = ferry_cli::client::to_b64(altered.as_bytes()).into();
        std::fs::write(&file, serde_json::to_vec(&bundle).unwrap()).unwrap();
        let (out, result) = w.auditor.ferry_out(&["audit", "verify-bundle", &file]);
        assert!(result.is_err(), "{out}");
        assert!(out.contains("altered"), "{out}");
        assert!(!out.contains("deleted"), "{out}");
        assert!(!out.contains("Verified") && !out.contains("CLEAN"), "{out}");
    }
}

#[test]
fn enrol_checks_the_server_key_the_invitation_names() {
    let w = World::new();
    let other = TestServer::start();
    let code = field(
        &w.coordinator
            .json(&["case", "invite", &w.case, "--role", "supporter"]),
        "code",
    );
    // The fingerprint in the code is the one `ferry-server init` prints and `whoami` shows.
    let key = w.server.state.server_card.fingerprint().key_code();
    assert!(code.ends_with(&key), "{code} does not end with {key}");
    let whoami = w.coordinator.ok(&["whoami"]);
    assert!(
        whoami.contains(&format!("server key     {key}")),
        "{whoami}"
    );

    // Sent to another server (a lookalike address, a man in the middle): refused before the
    // code leaves this machine.
    let sam = w.server.person("sam");
    let before = other.snapshot();
    let (out, result) = sam.ferry_out(&["enrol", &other.url, &code, "--name", "Sam"]);
    let err = format!("{:#}", result.unwrap_err());
    assert!(
        err.contains("SECURITY WARNING") && err.contains(&key),
        "{out}{err}"
    );
    assert_eq!(other.snapshot(), before);
    assert!(!sam.env.home.join("profiles.json").exists());
    // A client that sends the whole code to the wrong server is refused there too.
    let err = crate::attacks::enrols_with(&other, &code).unwrap_err();
    assert_eq!(crate::harness::code(&err), "wrong_server");

    // To the right server, as a link: enrolled, and told the key matched.
    let out = sam.ok(&[
        "enrol",
        &format!("{}/join#{code}", w.server.url),
        "--name",
        "Sam",
    ]);
    assert!(
        out.contains(&format!(
            "The server's key fingerprint {key} matches your invitation"
        )),
        "{out}"
    );
}

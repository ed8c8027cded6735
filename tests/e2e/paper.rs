//! The prison path: a person with no device takes part through their facilitator. A
//! coordinator adds them on paper; the facilitator records their signed consent form, types up
//! their handwritten answers with the scan of the page, and prints what is passed on to them;
//! anyone holding a printed letter checks its code. Everything runs on the real server, driven
//! by the real client.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_cli::printed;
use ferry_crypto::paper::LetterCode;
use ferry_crypto::{MessageKind, Role};
use serde_json::Value;

use crate::harness::{Person, TestServer, code, contains, field};

/// A case whose responsible person, Rory, takes part on paper (and, with `harmed_on_paper`,
/// so does Harriet), with Fiona as its facilitator; and a second case, with Gary as its
/// facilitator.
struct PaperWorld {
    server: TestServer,
    auditor: Person,
    fiona: Person,
    gary: Person,
    harriet: Person,
    case: String,
    other_case: String,
    rory: String,
}

impl PaperWorld {
    fn new(harmed_on_paper: bool) -> Self {
        let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
            c.service_name = "Northshire Restorative Justice Service".into();
        });
        let url = server.url.clone();
        let coordinator = server.person("coordinator");
        let auditor = server.person("auditor");
        let fiona = server.person("fiona");
        let gary = server.person("gary");
        let harriet = server.person("harriet");
        coordinator.ok(&["enrol", &url, &server.coordinator_code(), "--name", "Chris"]);
        for (who, role, name) in [
            (&auditor, "auditor", "Ines Inspector"),
            (&fiona, "facilitator", "Fiona Facilitator"),
            (&gary, "facilitator", "Gary Facilitator"),
        ] {
            who.enrol_invited(
                &url,
                &coordinator,
                &["staff", "invite", "--role", role],
                name,
            );
        }
        let open = |reference: &str| {
            field(
                &coordinator.json(&[
                    "case",
                    "open",
                    "--reference",
                    reference,
                    "--category",
                    "burglary",
                ]),
                "case_id",
            )
        };
        let (case, other_case) = (open("RJ-7"), open("RJ-8"));
        coordinator.ok(&["case", "allocate", &case, &fiona.account_id()]);
        coordinator.ok(&["case", "allocate", &other_case, &gary.account_id()]);
        coordinator.ok(&["case", "risk", &case, "proceed"]);
        let added = coordinator.json(&[
            "paper",
            "add",
            &case,
            "--name",
            "Rory",
            "--role",
            "responsible",
        ]);
        let rory = field(&added, "account_id");
        if harmed_on_paper {
            coordinator.ok(&[
                "paper", "add", &case, "--name", "Harriet", "--role", "harmed",
            ]);
        } else {
            harriet.enrol_invited(
                &url,
                &coordinator,
                &["case", "invite", &case, "--role", "harmed"],
                "Harriet",
            );
            fiona.ok(&["verify-key", "Harriet", "--case", &case, "--yes"]);
            harriet.ok(&["consent"]);
        }
        Self {
            server,
            auditor,
            fiona,
            gary,
            harriet,
            case,
            other_case,
            rory,
        }
    }

    /// A file in Fiona's home with `bytes`.
    fn scan(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::create_dir_all(&self.fiona.env.home).unwrap();
        let path = self.fiona.env.home.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    /// Fiona records `who`'s signed consent form.
    fn paper_consent(&self, who: &str) -> Value {
        let scan = self.scan(&format!("consent-{who}.png"), &fake_scan(who));
        self.fiona.json(&[
            "paper",
            "consent",
            "--for",
            who,
            "--scan",
            &scan,
            "--place",
            "prison visit, HMP Northshire",
            "--signed-on",
            "2026-12-01",
            "--case",
            &self.case,
        ])
    }

    /// Harriet (with keys) writes a question; returns its id.
    fn harriet_asks(&self, question: &str) -> String {
        let file = self.harriet.file("q.txt", question);
        field(
            &self.harriet.json(&["write", "question", "--file", &file]),
            "message_id",
        )
    }

    /// Fiona types up what `who` wrote by hand; returns the new message's id.
    fn enter(&self, who: &str, kind: &str, text: &str, reply_to: Option<&str>) -> String {
        let scan = self.scan(&format!("{kind}-{}.png", text.len()), &fake_scan(text));
        let file = self.fiona.file("typed.txt", text);
        let mut args = vec![
            "paper", "enter", kind, "--for", who, "--scan", &scan, "--file", &file, "--case",
            &self.case,
        ];
        if let Some(q) = reply_to {
            args.extend(["--in-reply-to", q]);
        }
        field(&self.fiona.json(&args), "message_id")
    }

    /// Fiona reviews a message and forwards it with `args`.
    fn forward(&self, message: &str, args: &[&str]) -> Value {
        self.fiona.ok(&["review", message, "--case", &self.case]);
        let mut forward = vec!["forward", message, "--yes", "--case", &self.case];
        forward.extend_from_slice(args);
        self.fiona.json(&forward)
    }

    /// Fiona prints a letter passed on to someone on paper; returns the PDF's path and code.
    fn print(&self, message: &str) -> (PathBuf, String) {
        let pdf = self.fiona.env.home.join(format!("letter-{message}.pdf"));
        let printed = self.fiona.json(&[
            "paper",
            "print",
            message,
            "--out",
            pdf.to_str().unwrap(),
            "--case",
            &self.case,
        ]);
        (pdf, field(&printed, "code"))
    }

    /// Anyone with no account (prison staff, say) checks a letter.
    fn verify(&self, code: &str, pdf: Option<&Path>) -> (String, anyhow::Result<()>) {
        let stranger = self.server.person("prison-staff");
        let mut args = vec!["--server", &self.server.url, "verify-letter", code];
        let path;
        if let Some(p) = pdf {
            path = p.display().to_string();
            args.extend(["--pdf", &path]);
        }
        stranger.ferry_out(&args)
    }
}

/// Bytes standing for a scanned page.
fn fake_scan(seed: &str) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(seed.bytes().cycle().take(4096));
    bytes
}

/// The text of a PDF as Debian's poppler reads it.
fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run pdftotext (Debian package poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_person_on_paper_takes_part_through_their_facilitator() {
    let w = PaperWorld::new(false);
    let show = w.fiona.ok(&["case", "show", &w.case]);
    assert!(
        show.contains("consent from the responsible person"),
        "{show}"
    );
    // Their consent form, signed on a prison visit, makes the case active.
    let consent = w.paper_consent("Rory");
    assert_eq!(field(&consent, "case_state"), "active");
    // The scan of the form is kept for the case's facilitators, checked against its record.
    let forms = w.fiona.env.home.join("forms");
    let saved = w.fiona.json(&[
        "paper",
        "forms",
        "--for",
        "Rory",
        "--out",
        forms.to_str().unwrap(),
        "--case",
        &w.case,
    ]);
    let file = saved[0]["file"].as_str().unwrap();
    assert_eq!(std::fs::read(file).unwrap(), fake_scan("Rory"));
    assert!(file.ends_with(".png"), "{file}");
    let listed = w.fiona.ok(&[
        "paper",
        "forms",
        "--out",
        forms.to_str().unwrap(),
        "--case",
        &w.case,
    ]);
    assert!(
        listed.contains("consent of Rory, paper 1 December 2026, at prison visit, HMP Northshire"),
        "{listed}"
    );
    // Nobody else gets them.
    let (_, result) = w
        .harriet
        .ferry_out(&["paper", "forms", "--out", "x", "--case", &w.case]);
    assert_eq!(code(&result.unwrap_err()), "wrong_role");

    // Two questions from Harriet, each printed for Rory and answered by hand.
    let mut letters = vec![];
    let mut answers = vec![];
    let asked = [
        "Why did you choose our house?",
        "Do you think about what happened to us?",
    ];
    let replies = [
        "I did not choose it. I was told it would be empty. I am sorry.",
        "Every day. I have started a course here so it never happens again.",
    ];
    for (n, (question, reply)) in asked.iter().zip(replies).enumerate() {
        let q = w.harriet_asks(question);
        let sent = w.forward(&q, &[]);
        assert_eq!(field(&sent, "state"), "released");
        let listed = w.fiona.ok(&["paper", "letters", "--case", &w.case]);
        assert!(
            listed.contains(&format!("{q}  question for Rory")),
            "{listed}"
        );
        assert!(listed.contains("ready to print"), "{listed}");
        let (pdf, code) = w.print(&q);
        let (out, result) = w.verify(&code, Some(&pdf));
        result.unwrap();
        assert!(
            out.contains("A facilitator of this service approved this question"),
            "{out}"
        );
        assert!(
            out.contains("is the text that was approved and printed"),
            "{out}"
        );
        assert!(!out.contains(question), "the check shows content: {out}");
        letters.push((pdf, code, question.to_string()));

        // Rory writes back by hand; Fiona types it up with the scan of the page.
        let a = w.enter("Rory", "answer", reply, Some(&q));
        // The first scan stays with Fiona; the second goes to Harriet too.
        let scan_choice = if n == 0 { "--drop" } else { "--keep" };
        let sent = w.forward(&a, &[scan_choice, "0"]);
        assert_eq!(sent["redacted"], false, "{sent}");
        answers.push(a);
    }
    let listed = w.fiona.ok(&["paper", "letters", "--case", &w.case]);
    assert_eq!(listed.matches("printed 1 time").count(), 2, "{listed}");

    // Harriet reads Rory's answers: typed up by Fiona from his handwriting, and says so.
    let first = w.harriet.ok(&["read", &answers[0]]);
    assert!(first.contains(replies[0]), "{first}");
    assert!(
        first.contains("written by hand by Rory and typed up by Fiona Facilitator"),
        "{first}"
    );
    assert!(
        first.contains("the handwritten page stays with the facilitator"),
        "{first}"
    );
    let saved = w.harriet.env.home.join("saved");
    let second = w.harriet.ok(&[
        "read",
        &answers[1],
        "--save-attachments",
        saved.to_str().unwrap(),
    ]);
    assert!(
        second.contains("attachment #0 is the scan of the handwritten page"),
        "{second}"
    );
    let scan_name = format!("answer-{}.png", replies[1].len());
    assert_eq!(
        std::fs::read(saved.join(&scan_name)).unwrap(),
        fake_scan(replies[1]),
        "the scan Harriet saved is not the page Fiona scanned"
    );
    let json = w.harriet.json(&["read", &answers[0], "--no-receipt"]);
    assert_eq!(json["author_name"], "Rory");
    assert_eq!(json["entered_by"], w.fiona.account_id());

    // Nothing of the scans, the answers or the letters is stored in the clear.
    let stored = w.server.stored_bytes();
    for (what, bytes) in &stored {
        for secret in replies.iter().chain(&asked) {
            assert!(
                !contains(bytes, secret.as_bytes()),
                "{secret:?} stored in {what}"
            );
        }
        assert!(
            !contains(bytes, &fake_scan(replies[0])[8..200]),
            "a scan stored in {what}"
        );
    }

    // The auditor sees a clean record, and who acted for whom.
    let audit = w.auditor.ok(&["audit", "verify", "--case", &w.case]);
    assert!(audit.contains("CLEAN"), "{audit}");
    for line in [
        "added Rory as a responsible person who takes part on paper",
        "consent given by Rory on paper, recorded for them by Fiona Facilitator (prison visit, HMP Northshire",
        "written by hand by Rory and entered by Fiona Facilitator",
        "printed question",
    ] {
        assert!(audit.contains(line), "no {line:?} in\n{audit}");
    }
    assert_eq!(
        audit.matches("written by hand by Rory").count(),
        2,
        "{audit}"
    );
    assert_eq!(audit.matches("printed question").count(), 2, "{audit}");
}

#[test]
#[cfg_attr(
    ferry_no_poppler,
    ignore = "needs pdftotext and pdftoppm (Debian package poppler-utils; .ci/run installs it)"
)]
fn a_printed_letter_is_real_text_on_a4_with_its_code() {
    let w = PaperWorld::new(false);
    w.paper_consent("Rory");
    let question =
        "Dear Rory,\n\nWhy did you choose our house? I’d like to know — honestly.\n\nHarriet";
    let q = w.harriet_asks(question);
    w.forward(&q, &[]);
    let (pdf, code) = w.print(&q);
    let text = pdftotext(&pdf);
    for expected in [
        "Northshire Restorative Justice Service",
        "For Rory.",
        "A question from the person who was harmed",
        "Passed on to you by Fiona Facilitator, your facilitator",
        "Why did you choose our house? I’d like to know — honestly.",
        &code,
        &format!("{}/verify", w.server.url),
    ] {
        assert!(text.contains(expected), "no {expected:?} in\n{text}");
    }
    assert!(
        !text.contains("Harriet Harmed"),
        "the other party is named:\n{text}"
    );
    // A4, fonts embedded.
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(
        fonts.contains("DejaVuSans") && fonts.contains(" yes yes yes "),
        "{fonts}"
    );
    // A picture of page 1, kept for a person to look at.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paper");
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(dir.join("letter-page-1"))
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read(dir.join("letter-page-1.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    println!(
        "page 1 of the printed letter: {}",
        dir.join("letter-page-1.png").display()
    );
}

#[test]
fn both_people_on_paper_exchange_printed_letters_each_way() {
    let w = PaperWorld::new(true);
    w.paper_consent("Rory");
    let consent = w.paper_consent("Harriet");
    assert_eq!(field(&consent, "case_state"), "active");
    // Harriet's handwritten question is typed up, passed on and printed for Rory.
    let q = w.enter(
        "Harriet",
        "question",
        "What were you thinking that night?",
        None,
    );
    w.forward(&q, &["--drop", "0"]);
    let (to_rory, rory_code) = w.print(&q);
    // Rory's handwritten answer is typed up, passed on and printed for Harriet.
    let a = w.enter(
        "Rory",
        "answer",
        "I was not thinking of you at all. Now I do.",
        Some(&q),
    );
    w.forward(&a, &["--drop", "0"]);
    let (to_harriet, harriet_code) = w.print(&a);
    for (pdf, code, kind) in [
        (&to_rory, &rory_code, "question"),
        (&to_harriet, &harriet_code, "answer"),
    ] {
        let (out, result) = w.verify(code, Some(pdf));
        result.unwrap();
        assert!(out.contains(&format!("approved this {kind}")), "{out}");
    }
    let text = printed::read_text(&std::fs::read(&to_harriet).unwrap()).unwrap();
    assert!(
        text.contains("An answer from the person responsible for the harm"),
        "{text}"
    );
    assert!(text.contains("For Harriet."), "{text}");
    let audit = w.auditor.ok(&["audit", "verify", "--case", &w.case]);
    assert!(audit.contains("CLEAN"), "{audit}");
    assert!(
        audit.contains("written by hand by Harriet and entered by Fiona"),
        "{audit}"
    );
    assert!(audit.contains("printed answer"), "{audit}");
}

#[test]
fn only_a_facilitator_of_the_case_acts_for_a_person_on_paper() {
    let w = PaperWorld::new(false);
    let before = (w.server.snapshot(), w.server.states());
    let scan = w.scan("form.png", &fake_scan("form"));
    let consent = |who: &Person| {
        who.ferry_out(&[
            "paper", "consent", "--for", &w.rory, "--scan", &scan, "--place", "visit", "--case",
            &w.case,
        ])
    };
    // Gary facilitates another case; Harriet is a participant; neither may act for Rory.
    for who in [&w.gary, &w.harriet] {
        let (_, result) = consent(who);
        let err = result.unwrap_err();
        assert!(
            ["not_found", "wrong_role"].contains(&code(&err).as_str()),
            "{err:#}"
        );
    }
    // Nor may anything be entered for Rory before his consent on paper.
    let file = w.fiona.file("a.txt", "hello");
    let (_, result) = w.fiona.ferry_out(&[
        "paper", "enter", "letter", "--for", "Rory", "--scan", &scan, "--file", &file, "--case",
        &w.case,
    ]);
    assert_eq!(code(&result.unwrap_err()), "no_consent");
    assert_eq!(
        (w.server.snapshot(), w.server.states()),
        before,
        "a refusal changed something"
    );

    // Gary cannot even see the case to find Rory; his own case has no one on paper.
    let (_, result) = w.gary.ferry_out(&["paper", "letters", "--case", &w.case]);
    assert_eq!(code(&result.unwrap_err()), "not_found");
    let (_, result) = w
        .gary
        .ferry_out(&["paper", "letters", "--case", &w.other_case]);
    result.unwrap();

    // Harriet has keys: no one types up messages for her, or records her consent for her.
    w.paper_consent("Rory");
    let (_, result) = w.fiona.ferry_out(&[
        "paper", "consent", "--for", "Harriet", "--scan", &scan, "--place", "visit", "--case",
        &w.case,
    ]);
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("takes part on paper")
    );
    // The API refuses it too, whatever a client sends.
    let account = w.fiona.account();
    let statement = telephone_withdrawal(&account, &w.case, &w.harriet.account_id());
    let err = account
        .client
        .post::<_, ferry_protocol::Accepted>(
            &format!("/v1/cases/{}/paper-consent", w.case),
            &ferry_protocol::PaperConsentRequest {
                statement,
                scan: None,
            },
        )
        .unwrap_err();
    assert_eq!(code(&err), "not_on_paper");

    // Harriet cannot pass a message off as Rory's: not as a submission of hers naming him as
    // its author and herself as its typist, nor as an entry.
    let harriet = w.harriet.account();
    let forged = forged_entry(&harriet, &w.case, &w.rory);
    let before = (w.server.snapshot(), w.server.states());
    for path in ["messages", "entries"] {
        let err = harriet
            .client
            .post::<_, ferry_protocol::Accepted>(&format!("/v1/cases/{}/{path}", w.case), &forged)
            .unwrap_err();
        let code = code(&err);
        assert!(
            ["not_your_statement", "wrong_role"].contains(&code.as_str()),
            "{path}: {err:#}"
        );
    }
    // Nor can Gary, a facilitator of another case, enter one for Rory.
    let gary = w.gary.account();
    let entry = forged_entry(&gary, &w.case, &w.rory);
    let err = gary
        .client
        .post::<_, ferry_protocol::Accepted>(&format!("/v1/cases/{}/entries", w.case), &entry)
        .unwrap_err();
    assert_eq!(code(&err), "not_found");
    assert_eq!(
        (w.server.snapshot(), w.server.states()),
        before,
        "a forgery changed something"
    );

    // A withdrawal by telephone takes effect at once: the case pauses.
    let withdrawn = w.fiona.json(&[
        "paper",
        "withdraw",
        "--for",
        "Rory",
        "--by-telephone",
        "--place",
        "telephone call from the prison",
        "--case",
        &w.case,
    ]);
    assert_eq!(field(&withdrawn, "case_state"), "paused");
    let audit = w.auditor.ok(&["audit", "verify", "--case", &w.case]);
    assert!(audit.contains("CLEAN"), "{audit}");
    assert!(
        audit.contains("consent withdrawn (the case pauses) by Rory on telephone"),
        "{audit}"
    );
}

/// A withdrawal by telephone for `person`, signed by `facilitator` with their next number.
fn telephone_withdrawal(
    facilitator: &ferry_cli::account::Account,
    case: &str,
    person: &str,
) -> ferry_crypto::SignedStatement {
    facilitator
        .sign(&ferry_crypto::paper::PaperConsent {
            v: 1,
            facilitator: facilitator.identity.account_id().clone(),
            case_id: ferry_crypto::Id::try_from(case).unwrap(),
            participant: ferry_crypto::AccountId::try_from(person.to_owned()).unwrap(),
            given: false,
            medium: ferry_crypto::paper::Medium::Telephone,
            given_at: ferry_protocol::now(),
            place: "telephone".into(),
            scan: None,
            seq: facilitator.me().unwrap().next_seq,
            created_at: ferry_protocol::now(),
        })
        .unwrap()
}

/// A message typed up "for" `person` by `typist`, sealed to the typist alone, as a request.
fn forged_entry(
    typist: &ferry_cli::account::Account,
    case: &str,
    person: &str,
) -> ferry_protocol::SubmitRequest {
    let me = typist.identity.account_id().clone();
    let mut sealed_scan = vec![];
    let scan = ferry_crypto::attachment::seal_attachment(
        &typist.identity,
        &[],
        "page.png",
        &fake_scan("forged")[..],
        &mut sealed_scan,
    )
    .unwrap();
    let letter = ferry_crypto::seal::Letter {
        v: 1,
        case_id: ferry_crypto::Id::try_from(case).unwrap(),
        message_id: ferry_crypto::Id::random(),
        kind: MessageKind::Letter,
        author: ferry_crypto::AccountId::try_from(person.to_owned()).unwrap(),
        recipient_role: Role::Harmed,
        in_reply_to: None,
        created_at: ferry_protocol::now(),
        body: "I take it all back.".into(),
        attachments: vec![scan.plaintext],
        entered_by: Some(me),
    };
    let seq = typist.me().unwrap().next_seq;
    let sealed =
        ferry_crypto::seal::seal(&typist.identity, &letter, seq, vec![scan.blob], &[]).unwrap();
    ferry_protocol::SubmitRequest {
        envelope: sealed.envelope,
        ciphertext: ferry_cli::client::to_b64(&sealed.ciphertext),
    }
}

#[test]
fn the_audit_catches_someone_acting_for_a_person_on_paper_who_may_not() {
    let w = PaperWorld::new(false);
    w.paper_consent("Rory");
    // Gary signs a paper consent for Rory, in Fiona's case, and it is put straight into the
    // log (as a compromised server could).
    let statement = telephone_withdrawal(&w.gary.account(), &w.case, &w.rory);
    w.server.append_raw(&w.case, &statement);
    let (out, result) = w.auditor.ferry_out(&["audit", "verify", "--case", &w.case]);
    assert!(result.is_err(), "{out}");
    assert!(
        out.contains(
            "Gary Facilitator recorded a withdrawal for Rory but is not a facilitator of this case"
        ),
        "{out}"
    );
}

#[test]
fn a_printed_letter_is_checked_by_its_code_and_text() {
    let w = PaperWorld::new(false);
    w.paper_consent("Rory");
    let question = "Did you know our children were asleep upstairs?";
    let q = w.harriet_asks(question);
    w.forward(&q, &[]);
    let (pdf, code) = w.print(&q);

    // A letter whose text was changed after printing, with the same code, fails the check.
    let parsed = LetterCode::parse(&code).unwrap();
    let forged = printed::print(&printed::Letter {
        service: "Northshire Restorative Justice Service",
        recipient: "Rory",
        kind: MessageKind::Question,
        from: Role::Harmed,
        facilitator: "Fiona Facilitator",
        approved_at: ferry_protocol::now(),
        printed_at: ferry_protocol::now(),
        redacted: false,
        body: "Did you know our children were away that night?",
        code: &parsed,
        verify_url: &format!("{}/verify", w.server.url),
    })
    .unwrap();
    let forged_path = w.fiona.env.home.join("forged.pdf");
    std::fs::write(&forged_path, &forged.pdf).unwrap();
    let (out, result) = w.verify(&code, Some(&forged_path));
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .contains("is NOT the text that was approved"),
        "{out}\n{err:#}"
    );
    // The real one passes.
    w.verify(&code, Some(&pdf)).1.unwrap();

    // A mistyped code is caught as a typo, before anything is asked of the server.
    let mut typo: Vec<char> = code.chars().collect();
    typo[3] = if typo[3] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let (_, result) = w.verify(&typo, None);
    assert!(result.unwrap_err().to_string().contains("mistyped"));
    // A code no letter has says so.
    let unknown = LetterCode::generate().to_string();
    let (_, result) = w.verify(&unknown, None);
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("no letter printed by this service")
    );
    let (_, result) = w.verify("not a code", None);
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("not a letter's code")
    );

    // The server's check answers the same to everyone, with no content, and only a few times
    // a minute from one address.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let check = |code: &str| {
        let mut r = agent
            .post(format!("{}/v1/letters/check", w.server.url))
            .send_json(serde_json::json!({ "code": code }))
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let (status, first) = check(&code);
    assert_eq!(status, 200, "{first}");
    assert!(
        !first.contains(question) && !first.contains("children"),
        "{first}"
    );
    let (_, again) = check(&code.to_lowercase().replace('-', " "));
    assert_eq!(first, again, "the same code got two answers");
    let (status, body) = check(&unknown);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, field(&body["error"], "code")),
        (404, "no_such_letter".into())
    );
    let mut statuses = vec![];
    for _ in 0..12 {
        statuses.push(check(&unknown).0);
    }
    assert!(statuses.contains(&429), "never rate-limited: {statuses:?}");
    let (status, body) = check(&code);
    assert_eq!(status, 429, "{body}");
    assert!(
        body.contains("too_many_checks") && body.contains("wait a minute"),
        "{body}"
    );
}

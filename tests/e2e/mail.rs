//! E-mail against a real SMTP server on loopback: invitations that enrol, one content-free
//! notification per forward, one review notice per letter however letters are batched, a
//! mail server that was down, mails that keep failing, and notification preferences.

use ferry_crypto::Role;

use crate::attacks::{letters, submit};
use crate::harness::{TestServer, World, field};
use crate::smtp::{Smtp, distinct_ids};

/// The Ferry invitation code (ten dash-separated groups of five: the one-time code and the
/// server key's fingerprint) in a mail's text.
fn code_in(text: &str) -> String {
    text.split(|c: char| c.is_whitespace())
        .find(|w| {
            let groups: Vec<&str> = w.split('-').collect();
            groups.len() == 10
                && groups.iter().all(|g| {
                    g.len() == 5
                        && g.chars()
                            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                })
        })
        .map(str::to_owned)
        .expect("no enrolment code in the mail")
}

#[test]
fn an_invitation_arrives_and_its_code_enrols() {
    let smtp = Smtp::start();
    let server = TestServer::with_mail(&smtp.addr);
    let coordinator = server.person("coordinator");
    coordinator.ok(&[
        "enrol",
        &server.url,
        &server.coordinator_code(),
        "--name",
        "Chris",
    ]);
    let out = coordinator.ok(&[
        "staff",
        "invite",
        "--role",
        "facilitator",
        "--email",
        "fiona@facilitators.test",
    ]);
    assert!(
        out.contains("on its way by e-mail to fiona@facilitators.test"),
        "{out}"
    );
    server.send_mail();
    let mails = smtp.to("fiona@facilitators.test");
    assert_eq!(mails.len(), 1);
    let text = mails[0].text();
    assert!(text.contains("Your invitation to Ferry"), "{text}");
    assert!(text.contains("ferry enrol https://ferry.test"), "{text}");
    assert!(
        text.contains("Content-Type: text/plain") && text.contains("Content-Type: text/html"),
        "{text}"
    );
    let code = code_in(&text);
    // The code enrols the person it was sent to.
    let fiona = server.person("fiona");
    let out = fiona.ok(&["enrol", &server.url, &code, "--name", "Fiona"]);
    assert!(out.contains("Enrolled as a facilitator"), "{out}");
    // Once sent, the code is no longer kept anywhere on the server.
    for (place, bytes) in server.stored_bytes() {
        assert!(
            !crate::harness::contains(&bytes, code.as_bytes()),
            "the code is still in {place}"
        );
    }
    // Her invitation address is now where her notifications go.
    let me = fiona.json(&["notifications"]);
    assert_eq!(me["email"], "fiona@facilitators.test");
    assert_eq!(me["notifications"], "immediate");
}

#[test]
fn a_forward_sends_exactly_one_notification_that_reveals_nothing() {
    let smtp = Smtp::start();
    let w = World::on(TestServer::with_mail(&smtp.addr));
    w.server.send_mail();
    let secret = "I still hear the glass breaking at 3am. Were you alone that night?";
    let q = w.question(secret);
    w.server.send_mail();
    // The facilitator hears that a message waits for review; nobody else hears anything yet.
    let review = smtp.to("fiona@facilitators.test");
    assert_eq!(
        review
            .iter()
            .filter(|m| m.text().contains("waiting for your review"))
            .count(),
        1
    );
    assert!(
        smtp.to("rory@prison.test")
            .iter()
            .all(|m| m.text().contains("Your invitation"))
    );

    w.forward(&q, &[]);
    w.server.send_mail();
    w.server.send_mail();
    let to_rory: Vec<_> = smtp
        .to("rory@prison.test")
        .into_iter()
        .filter(|m| !m.text().contains("Your invitation"))
        .collect();
    assert_eq!(to_rory.len(), 1, "one forward, one notification");
    let text = to_rory[0].text();
    assert!(
        text.contains("Something new is waiting for you in Ferry"),
        "{text}"
    );
    assert!(
        text.contains(&w.case),
        "the case reference is given: {text}"
    );
    for leak in [
        "glass", "3am", "alone", "Harriet", "harriet@", "burglary", "Fiona",
    ] {
        assert!(
            !text.contains(leak),
            "{leak:?} in the notification:\n{text}"
        );
    }
}

#[test]
fn letters_committed_together_each_tell_the_facilitator_once() {
    let smtp = Smtp::start();
    let w = World::on(TestServer::with_mail(&smtp.addr));
    w.server.send_mail();
    let harmed = w.harmed.account();
    let responsible = w.responsible.account();
    let hs = harmed.next_seq().unwrap();
    let mine = letters(&harmed, &w.case, Role::Responsible, hs, 2);
    let theirs = letters(
        &responsible,
        &w.case,
        Role::Harmed,
        responsible.next_seq().unwrap(),
        1,
    );
    // Another writer holds the log's lock: the first letter's batch waits for it, and the
    // next two letters of the same case queue up behind it, to be committed together.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (options, backend) =
        ferry_server::db::options(&w.server.state.config.database_url).unwrap();
    let mut conn = rt
        .block_on(ferry_server::db::connect_one(&options, backend))
        .unwrap();
    let mut lock = rt.block_on(sqlx::Connection::begin(&mut conn)).unwrap();
    rt.block_on(ferry_server::db::lock_log(&mut lock)).unwrap();
    let pause = std::time::Duration::from_millis(400);
    std::thread::scope(|s| {
        let case = &w.case;
        let first = s.spawn(|| submit(&harmed, case, &mine[0]));
        std::thread::sleep(pause);
        let together = [
            s.spawn(|| submit(&harmed, case, &mine[1])),
            s.spawn(|| submit(&responsible, case, &theirs[0])),
        ];
        std::thread::sleep(pause);
        rt.block_on(lock.rollback()).unwrap();
        first.join().unwrap().unwrap();
        for t in together {
            t.join().unwrap().unwrap();
        }
    });
    while w.server.send_mail() > 0 {}
    let review: Vec<_> = smtp
        .to("fiona@facilitators.test")
        .into_iter()
        .filter(|m| m.text().contains("waiting for your review"))
        .collect();
    assert_eq!(review.len(), 3, "one notice per letter");
    assert!(
        review.iter().all(|m| m.text().contains(&w.case)),
        "each names the case"
    );
    assert_eq!(
        distinct_ids(&review).len(),
        3,
        "each notice is its own mail"
    );
    // The participants hear nothing of letters still in review.
    for who in ["harriet@home.test", "rory@prison.test"] {
        assert!(
            smtp.to(who)
                .iter()
                .all(|m| m.text().contains("Your invitation")),
            "{who} heard of a letter in review"
        );
    }
}

#[test]
fn a_mail_server_that_was_down_gets_the_mail_once_after_a_retry() {
    let addr = Smtp::reserve();
    let w = World::on(TestServer::with_mail(&addr));
    let q = w.question("Did you know we were home?");
    w.forward(&q, &[]);
    // Down: every attempt fails, nothing is lost.
    w.server.send_mail();
    let pending = w
        .coordinator
        .json(&["admin", "outbox", "--state", "pending"]);
    let waiting = pending.as_array().unwrap();
    assert!(
        waiting
            .iter()
            .any(|m| m["kind"] == "new_message" && m["attempts"] == 1),
        "{pending}"
    );
    assert!(
        waiting.iter().all(|m| !m["last_error"].is_null()),
        "{pending}"
    );
    // Up again: after the back-off, each mail arrives once.
    let smtp = Smtp::start_at(&addr);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    w.server.send_mail();
    w.server.send_mail();
    let to_rory: Vec<_> = smtp
        .to("rory@prison.test")
        .into_iter()
        .filter(|m| m.text().contains("Something new"))
        .collect();
    assert_eq!(to_rory.len(), 1);
    let mails = smtp.mails();
    let ids = distinct_ids(&mails);
    assert_eq!(ids.len(), mails.len(), "a mail was sent twice: {ids:?}");
    assert!(ids.iter().all(|id| id.ends_with("@ferry.test>")), "{ids:?}");
}

#[test]
fn a_mail_that_keeps_failing_is_marked_failed_for_the_coordinator() {
    let smtp = Smtp::refusing(&["rory@"]);
    let w = World::on(TestServer::with_mail(&smtp.addr));
    for _ in 0..4 {
        w.server.send_mail();
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    w.server.send_mail();
    let failed = w
        .coordinator
        .json(&["admin", "outbox", "--state", "failed"]);
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["kind"], "invitation");
    assert_eq!(failed[0]["to"], "r***@prison.test");
    assert_eq!(failed[0]["attempts"], 3);
    let table = w.coordinator.ok(&["admin", "outbox"]);
    assert!(
        table.contains("failed") && table.contains("sent"),
        "{table}"
    );
    assert!(smtp.to("rory@prison.test").is_empty());
}

#[test]
fn notification_preferences_are_kept() {
    let smtp = Smtp::start();
    let w = World::on(TestServer::with_mail(&smtp.addr));
    w.server.send_mail();
    let count = |who: &str| {
        smtp.to(who)
            .iter()
            .filter(|m| !m.text().contains("Your invitation"))
            .count()
    };

    // None: nothing at all.
    w.responsible.ok(&["notifications", "none"]);
    let q = w.question("First");
    w.forward(&q, &[]);
    w.server.send_mail();
    assert_eq!(count("rory@prison.test"), 0);

    // Daily: one digest for everything waiting.
    let out = w.responsible.ok(&["notifications", "daily"]);
    assert!(out.contains("one e-mail a day"), "{out}");
    for text in ["Second", "Third"] {
        let q = w.question(text);
        w.forward(&q, &[]);
    }
    w.server.send_mail();
    w.server.send_mail();
    let digests: Vec<_> = smtp.to("rory@prison.test");
    assert_eq!(
        digests
            .iter()
            .filter(|m| !m.text().contains("Your invitation"))
            .count(),
        1
    );
    assert!(
        digests.iter().any(|m| m.text().contains("2 new things")),
        "{digests:?}"
    );
    // The next ones wait for the next day's digest.
    let q = w.question("Fourth");
    w.forward(&q, &[]);
    w.server.send_mail();
    assert_eq!(count("rory@prison.test"), 1);

    // A bad address or preference is refused.
    assert!(
        w.responsible
            .ferry(&["notifications", "immediate", "--email", "not an address"])
            .is_err()
    );
}

#[test]
fn no_mail_of_a_whole_exchange_carries_content_or_the_other_partys_name() {
    let smtp = Smtp::start();
    let w = World::on(TestServer::with_mail(&smtp.addr));
    let texts = [
        "You took the car keys from the hall table. Did you know the children were asleep?",
        "I did not know. I am sorry.",
        "Please rephrase the second sentence.",
    ];
    let q = w.question(texts[0]);
    w.forward(&q, &["--redact-detected"]);
    let f = w.responsible.file("a.txt", texts[1]);
    let a = field(
        &w.responsible
            .json(&["write", "answer", "--in-reply-to", &q, "--file", &f]),
        "message_id",
    );
    w.facilitator.ok(&["return", &a, "--note", texts[2]]);
    let a2 = field(
        &w.responsible
            .json(&["write", "answer", "--in-reply-to", &q, "--file", &f]),
        "message_id",
    );
    w.facilitator.ok(&["escalate", &a2, "--reason", "other"]);
    w.forward(&a2, &[]);
    w.responsible.ok(&["withdraw", "--yes"]);
    w.server.send_mail();
    w.server.send_mail();
    let mails = smtp.mails();
    assert!(mails.len() >= 10, "{} mails", mails.len());
    assert!(
        mails
            .iter()
            .any(|m| m.text().contains("needs your attention")),
        "no attention mail"
    );
    for m in &mails {
        assert_eq!(m.to.len(), 1, "one recipient per mail");
        let text = m.text();
        for t in texts {
            assert!(
                !text.contains(t) && !text.contains(&t[..20]),
                "content in a mail to {:?}",
                m.to
            );
        }
        for other in ["Harriet", "Rory", "Fiona", "Ines", "Chris", "burglary"] {
            assert!(
                !text.contains(other),
                "{other:?} in a mail to {:?}:\n{text}",
                m.to
            );
        }
        let to = &m.to[0];
        for address in [
            "harriet@home.test",
            "rory@prison.test",
            "fiona@facilitators.test",
            "chris@coordinators.test",
        ] {
            if !to.contains(address) {
                assert!(
                    !text.contains(address),
                    "another person's address in a mail to {to}"
                );
            }
        }
    }
}

//! `ferry demo`: starts a real server in this process on a temporary SQLite database and plays
//! a whole exchange through the same commands people use, printing a readable transcript.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ferry_crypto::{MessageKind, Role, SecretString};
use ferry_server::{AppState, Config};
use serde_json::Value;

use crate::env::Env;
use crate::output::Out;

/// The keystore passphrase every demo person uses.
pub const DEMO_PASSPHRASE: &str = "ferry demo passphrase";

/// `ferry demo [--keep DIR] [--serve]`
#[derive(clap::Args)]
pub struct Cmd {
    /// Keep the database, keystores and server key in DIR for inspection.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// After the exchange, keep the server running with a fresh case and print join links,
    /// so you can take part from your own browser (Ctrl-C stops it).
    #[arg(long)]
    serve: bool,
}

/// A person in the demo: their own FERRY_HOME.
struct Person {
    label: &'static str,
    env: Env,
}

impl Person {
    fn new(dir: &Path, label: &'static str) -> Self {
        Self {
            label,
            env: Env {
                home: dir.join("people").join(label),
                passphrase: Some(SecretString::from(DEMO_PASSPHRASE.to_owned())),
                work_factor: 12,
                interactive: false,
                color: false,
                editor: None,
                profile: None,
                server: None,
                answers: None,
            },
        }
    }

    fn file(&self, name: &str, text: &str) -> Result<String> {
        std::fs::create_dir_all(&self.env.home)?;
        let path = self.env.home.join(name);
        std::fs::write(&path, text)?;
        Ok(path.display().to_string())
    }
}

/// Runs a command as `who`, printing it and its output.
fn show(out: &mut Out<'_>, who: &Person, args: &[&str]) -> Result<String> {
    let mut buf = Vec::new();
    let mut argv = vec!["ferry"];
    argv.extend_from_slice(args);
    crate::run_with(&who.env, &argv, &mut buf).with_context(|| {
        format!(
            "demo step `ferry {}` as the {} failed",
            args.join(" "),
            who.label
        )
    })?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    out.line("")?;
    out.line(format!("[{}] $ ferry {}", who.label, shell_words(args)))?;
    for line in text.lines() {
        out.line(format!("    {line}"))?;
    }
    Ok(text)
}

/// Runs a command as `who` with `--json` and returns the parsed answer (printing a summary).
fn quiet(out: &mut Out<'_>, who: &Person, args: &[&str], say: &str) -> Result<Value> {
    let mut buf = Vec::new();
    let mut argv = vec!["ferry", "--json"];
    argv.extend_from_slice(args);
    crate::run_with(&who.env, &argv, &mut buf).with_context(|| {
        format!(
            "demo step `ferry {}` as the {} failed",
            args.join(" "),
            who.label
        )
    })?;
    out.line("")?;
    out.line(format!("[{}] $ ferry {}", who.label, shell_words(args)))?;
    out.line(format!("    {say}"))?;
    Ok(serde_json::from_slice(&buf)?)
}

/// Arguments as a person would type them (quoted where they hold spaces).
fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.contains(' ') {
                format!("'{a}'")
            } else {
                (*a).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn field(v: &Value, path: &[&str]) -> Result<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p).with_context(|| format!("demo: no {p} in {v}"))?;
    }
    cur.as_str()
        .map(str::to_owned)
        .with_context(|| format!("demo: {path:?} is not text"))
}

/// The coordinator opens a burglary case, allocates the facilitator `fid` and assesses it.
fn open_case(
    out: &mut Out<'_>,
    coordinator: &Person,
    fid: &str,
    reference: &str,
    say: &str,
) -> Result<String> {
    let v = quiet(
        out,
        coordinator,
        &[
            "case",
            "open",
            "--reference",
            reference,
            "--category",
            "burglary",
        ],
        say,
    )?;
    let case = field(&v, &["case_id"])?;
    show(out, coordinator, &["case", "allocate", &case, fid])?;
    show(out, coordinator, &["case", "risk", &case, "proceed"])?;
    Ok(case)
}

/// Opens a fresh case with the demo's staff and prints what a newcomer needs to take part
/// from their own browser, with the facilitator driven from the printed CLI commands.
fn serve_fresh_case(out: &mut Out<'_>, dir: &Path, url: &str) -> Result<()> {
    let coordinator = Person::new(dir, Role::Coordinator.as_str());
    let facilitator = Person::new(dir, Role::Facilitator.as_str());
    let me = quiet(out, &facilitator, &["whoami"], "(Fiona's account id)")?;
    let fid = field(&me, &["me", "account_id"])?;
    let case = open_case(
        out,
        &coordinator,
        &fid,
        "RJ-2026-0143",
        "Opened a fresh case for you.",
    )?;
    let mut links = vec![];
    for role in [Role::Harmed, Role::Responsible] {
        let v = quiet(
            out,
            &coordinator,
            &["case", "invite", &case, "--role", role.as_str()],
            &format!("(an invitation for the {})", role.person()),
        )?;
        links.push((role, format!("{url}/join#{}", field(&v, &["code"])?)));
    }
    let ferry = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "ferry".to_owned());
    let home = facilitator.env.home.display().to_string();
    let lines = [
        String::new(),
        format!("The server keeps running at {url}. Ctrl-C stops it."),
        String::new(),
        "Take part from your own browser. Each person needs their own browser profile (open the"
            .to_owned(),
        "second link in a private window or another browser):".to_owned(),
        format!("  the harmed person:      {}", links[0].1),
        format!("  the responsible person: {}", links[1].1),
        String::new(),
        "Then be Fiona, the facilitator, in another terminal:".to_owned(),
        format!("  export FERRY_HOME='{home}' FERRY_PASSPHRASE='{DEMO_PASSPHRASE}'"),
        format!(
            "  {ferry} verify-key NAME --case {case}   # check each safety number, once both joined"
        ),
        format!("  {ferry} inbox                     # what waits for review"),
        format!("  {ferry} review MESSAGE --redact-detected"),
        format!("  {ferry} forward MESSAGE --yes     # or: return MESSAGE --note '...'"),
        format!("  {ferry} audit verify --case {case}"),
    ];
    for line in lines {
        out.line(line)?;
    }
    Ok(())
}

impl Cmd {
    /// Plays the exchange.
    pub fn run(self, out: &mut Out<'_>) -> Result<()> {
        let tmp;
        let dir = match &self.keep {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                anyhow::ensure!(
                    std::fs::read_dir(d)?.next().is_none(),
                    "{} is not empty; give an empty or new directory",
                    d.display()
                );
                d.canonicalize()?
            }
            None => {
                tmp = tempfile::tempdir()?;
                tmp.path().to_owned()
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let config = Config {
            database_url: format!("sqlite://{}", dir.join("ferry.db").display()),
            server_key: dir.join("ferry-server.key"),
            blob_dir: dir.join("blobs"),
            ..Config::default()
        };
        let (state, listener) = runtime.block_on(async {
            let state = AppState::open(config).await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            anyhow::Ok((state, listener))
        })?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = runtime.spawn(ferry_server::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        let code = runtime.block_on(ferry_server::init::invite_coordinator(&state))?;

        let mut result = self.play(out, &dir, &url, &code);
        if self.serve && result.is_ok() {
            result = serve_fresh_case(out, &dir, &url).and_then(|()| {
                runtime.block_on(tokio::signal::ctrl_c())?;
                out.line("Stopping the server.")?;
                Ok(())
            });
        }
        let _ = stop.send(());
        let _ = runtime.block_on(server);
        let events = runtime.block_on(ferry_server::log_store::size(&state.pool))?;
        runtime.block_on(state.pool.close());
        result?;
        out.line("")?;
        out.line(format!(
            "Done. Every step above is a signed statement by the person who took it: {events} events in the trail."
        ))?;
        out.json(&serde_json::json!({"ok": true, "events": events, "dir": self.keep}))?;
        if let Some(keep) = &self.keep {
            out.line(format!("Kept in {}:", keep.display()))?;
            out.line("  ferry.db            the server's SQLite database (ciphertext and signed events only)")?;
            out.line("  ferry-server.key    the server's key")?;
            out.line(
                "  people/<role>/      each person's FERRY_HOME: profiles.json and keystore.age",
            )?;
            out.line(format!("  keystore passphrase: {DEMO_PASSPHRASE:?}"))?;
        }
        Ok(())
    }

    fn play(&self, out: &mut Out<'_>, dir: &Path, url: &str, code: &str) -> Result<()> {
        let coordinator = Person::new(dir, Role::Coordinator.as_str());
        let facilitator = Person::new(dir, Role::Facilitator.as_str());
        let harmed = Person::new(dir, Role::Harmed.as_str());
        let responsible = Person::new(dir, Role::Responsible.as_str());
        let auditor = Person::new(dir, Role::Auditor.as_str());
        out.line(format!(
            "Ferry demo: a server on {url}, data in {}",
            dir.display()
        ))?;
        out.line(
            "A burglary. Harriet (harmed) has questions for Rory (responsible), who is in prison.",
        )?;
        out.line("Fiona, a facilitator, carries every message and reads it first.")?;

        show(
            out,
            &coordinator,
            &["enrol", url, code, "--name", "Chris Coordinator"],
        )?;
        let v = quiet(
            out,
            &coordinator,
            &["staff", "invite", "--role", Role::Facilitator.as_str()],
            "(invitation code for the facilitator, handed over in person)",
        )?;
        let fcode = field(&v, &["code"])?;
        show(
            out,
            &facilitator,
            &["enrol", url, &fcode, "--name", "Fiona Facilitator"],
        )?;
        let v = quiet(
            out,
            &coordinator,
            &["staff", "invite", "--role", Role::Auditor.as_str()],
            "(invitation code for an inspectorate's auditor)",
        )?;
        let acode = field(&v, &["code"])?;
        show(
            out,
            &auditor,
            &["enrol", url, &acode, "--name", "Ines Inspector"],
        )?;
        let me = quiet(
            out,
            &facilitator,
            &["whoami"],
            "(Fiona tells the coordinator her account id)",
        )?;
        let fid = field(&me, &["me", "account_id"])?;

        let case = open_case(
            out,
            &coordinator,
            &fid,
            "RJ-2026-0142",
            "Opened a case from the referral.",
        )?;
        let v = quiet(
            out,
            &coordinator,
            &["case", "invite", &case, "--role", Role::Harmed.as_str()],
            "(one-time code for Harriet)",
        )?;
        let hcode = field(&v, &["code"])?;
        let v = quiet(
            out,
            &coordinator,
            &[
                "case",
                "invite",
                &case,
                "--role",
                Role::Responsible.as_str(),
            ],
            "(one-time code for Rory, taken into the prison by Fiona)",
        )?;
        let rcode = field(&v, &["code"])?;
        show(out, &harmed, &["enrol", url, &hcode, "--name", "Harriet"])?;
        show(out, &responsible, &["enrol", url, &rcode, "--name", "Rory"])?;

        for (person, name) in [(&harmed, "Harriet"), (&responsible, "Rory")] {
            show(out, person, &["whoami"])?;
            show(
                out,
                &facilitator,
                &["verify-key", name, "--case", &case, "--yes"],
            )?;
        }
        show(out, &harmed, &["consent"])?;
        show(out, &responsible, &["consent"])?;

        let q = harmed.file(
            "question.txt",
            "You took the car keys from the hall table and drove off in our Fiesta, reg WR18 KXT. \
             Did you know our children were asleep upstairs? You can ring me on 07700 900461 if it is easier.",
        )?;
        let v = quiet(
            out,
            &harmed,
            &["write", MessageKind::Question.as_str(), "--file", &q],
            "Harriet's question is sealed to Fiona and waiting for review.",
        )?;
        let qid = field(&v, &["message_id"])?;
        show(out, &facilitator, &["inbox"])?;
        show(out, &facilitator, &["review", &qid, "--redact-detected"])?;
        show(
            out,
            &facilitator,
            &["forward", &qid, "--redact-detected", "--yes"],
        )?;

        show(out, &responsible, &["inbox"])?;
        show(out, &responsible, &["read", &qid])?;

        let a1 = responsible.file(
            "answer.txt",
            "I did not know anyone was upstairs. If you had kids in the house you should have locked the door.",
        )?;
        let v = quiet(
            out,
            &responsible,
            &[
                "write",
                MessageKind::Answer.as_str(),
                "--in-reply-to",
                &qid,
                "--file",
                &a1,
            ],
            "Rory's answer is sealed to Fiona and waiting for review.",
        )?;
        let aid = field(&v, &["message_id"])?;
        show(out, &facilitator, &["review", &aid])?;
        show(
            out,
            &facilitator,
            &[
                "return",
                &aid,
                "--note",
                "The part about locking the door reads as blaming Harriet. Could you say what you want her to know instead?",
            ],
        )?;
        show(out, &responsible, &["sent"])?;
        show(out, &responsible, &["read", &aid])?;

        let a2 = responsible.file(
            "answer2.txt",
            "I did not know anyone was upstairs. If I had known there were kids in the house I would have walked away. \
             I am sorry for what that night did to your family.",
        )?;
        let v = quiet(
            out,
            &responsible,
            &[
                "write",
                MessageKind::Answer.as_str(),
                "--in-reply-to",
                &qid,
                "--file",
                &a2,
            ],
            "Rory's rephrased answer is waiting for review.",
        )?;
        let aid2 = field(&v, &["message_id"])?;
        show(out, &facilitator, &["review", &aid2])?;
        show(out, &facilitator, &["forward", &aid2, "--yes"])?;
        show(out, &harmed, &["inbox"])?;
        show(out, &harmed, &["read", &aid2])?;
        show(out, &coordinator, &["case", "show", &case])?;

        out.line("")?;
        out.line("An auditor checks the record without seeing any content:")?;
        show(out, &auditor, &["audit", "verify", "--case", &case])?;
        let bundle = dir.join(format!("audit-{case}.json"));
        let bundle = bundle.to_string_lossy();
        show(
            out,
            &auditor,
            &["audit", "export", "--case", &case, "-o", &bundle],
        )?;
        show(out, &auditor, &["audit", "verify-bundle", &bundle])?;
        let staff = Staff {
            coordinator: &coordinator,
            facilitator: &facilitator,
            auditor: &auditor,
            fid: &fid,
        };
        play_paper(out, dir, url, &staff)
    }
}

/// The demo's staff, for a second case.
struct Staff<'a> {
    coordinator: &'a Person,
    facilitator: &'a Person,
    auditor: &'a Person,
    fid: &'a str,
}

/// A second case, on paper: Dan is in prison with no device, so Fiona acts for him openly.
fn play_paper(out: &mut Out<'_>, dir: &Path, url: &str, staff: &Staff<'_>) -> Result<()> {
    let (coordinator, facilitator) = (staff.coordinator, staff.facilitator);
    let maya = Person::new(dir, "harmed-2");
    let prison = Person::new(dir, "prison-staff");
    out.line("")?;
    out.line("A second case. Maya (harmed) has a question for Dan (responsible), who is in")?;
    out.line("prison with no device: he takes part on paper, and Fiona acts for him openly.")?;
    let case = open_case(
        out,
        coordinator,
        staff.fid,
        "RJ-2026-0150",
        "Opened a second case.",
    )?;
    show(
        out,
        coordinator,
        &[
            "paper",
            "add",
            &case,
            "--name",
            "Dan",
            "--role",
            "responsible",
        ],
    )?;
    let v = quiet(
        out,
        coordinator,
        &["case", "invite", &case, "--role", Role::Harmed.as_str()],
        "(one-time code for Maya)",
    )?;
    show(
        out,
        &maya,
        &["enrol", url, &field(&v, &["code"])?, "--name", "Maya"],
    )?;
    show(
        out,
        facilitator,
        &["verify-key", "Maya", "--case", &case, "--yes"],
    )?;
    show(out, &maya, &["consent"])?;
    let form = facilitator.file(
        "dan-consent-form-scan.txt",
        "(the scan of the consent form Dan signed on the visit would be here)",
    )?;
    show(
        out,
        facilitator,
        &[
            "paper",
            "consent",
            "--for",
            "Dan",
            "--scan",
            &form,
            "--place",
            "prison visit, HMP Northshire",
            "--case",
            &case,
        ],
    )?;
    let q = maya.file(
        "question.txt",
        "Dan, I still check the locks three times every night. Did you ever think about who lived there?",
    )?;
    let v = quiet(
        out,
        &maya,
        &["write", MessageKind::Question.as_str(), "--file", &q],
        "Maya's question is sealed to Fiona and waiting for review.",
    )?;
    let qid = field(&v, &["message_id"])?;
    show(out, facilitator, &["review", &qid, "--case", &case])?;
    show(
        out,
        facilitator,
        &["forward", &qid, "--yes", "--case", &case],
    )?;
    let pdf = dir.join("letter-for-dan.pdf").display().to_string();
    let v = quiet(
        out,
        facilitator,
        &["paper", "print", &qid, "--out", &pdf, "--case", &case],
        "Fiona prints Maya's question for Dan; it goes in by post.",
    )?;
    let code = field(&v, &["code"])?;
    out.line(format!("    The letter is {pdf}; its code is {code}."))?;
    out.line("")?;
    out.line("The prison's post room checks the letter, with no account:")?;
    show(
        out,
        &prison,
        &["--server", url, "verify-letter", &code, "--pdf", &pdf],
    )?;
    let scan = facilitator.file(
        "dan-answer-scan.txt",
        "(the scan of Dan's handwritten answer would be here)",
    )?;
    let typed = facilitator.file(
        "dan-answer.txt",
        "I didn't think about anyone. I do now. I am sorry you still check the locks.",
    )?;
    let v = quiet(
        out,
        facilitator,
        &[
            "paper",
            "enter",
            MessageKind::Answer.as_str(),
            "--for",
            "Dan",
            "--in-reply-to",
            &qid,
            "--scan",
            &scan,
            "--file",
            &typed,
            "--case",
            &case,
        ],
        "Dan answered by hand; Fiona typed it up, with the scan of his page.",
    )?;
    let aid = field(&v, &["message_id"])?;
    show(out, facilitator, &["review", &aid, "--case", &case])?;
    show(
        out,
        facilitator,
        &["forward", &aid, "--drop", "0", "--yes", "--case", &case],
    )?;
    show(out, &maya, &["read", &aid])?;
    show(out, staff.auditor, &["audit", "verify", "--case", &case])?;
    Ok(())
}

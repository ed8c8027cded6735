//! Taking part on paper: a coordinator adds a person who has no device; a facilitator records
//! their signed paper consent, types up their handwritten replies with the scan of the page,
//! and prints what is passed on to them (anyone holding one checks it: `verify_letter`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ferry_crypto::attachment::{open_attachment, seal_attachment};
use ferry_crypto::forward::{DeliveredMessage, Forward, read_forwarded};
use ferry_crypto::paper::{LetterCode, Medium, PaperConsent, PaperMember, Printing, Scan};
use ferry_crypto::seal::{self, AttachmentRef, Letter};
use ferry_crypto::{AccountId, FORMAT_VERSION, Id, KeyCard, MessageKind, Role};
use ferry_protocol::{
    Accepted, CaseView, DeliveryDetail, DeliveryState, MemberView, PaperConsentRequest, PaperForm,
    PaperLetter, ServerInfo, SubmitRequest,
};

use super::members;
use super::sealing::{self, SealedFiles};
use crate::account::Account;
use crate::client::{b64, now, to_b64};
use crate::env::Env;
use crate::output::{Out, time};
use crate::printed;

/// `ferry paper …`
#[derive(clap::Subcommand)]
pub enum PaperCmd {
    /// Coordinators: adds a person who takes part on paper (no device); the case's
    /// facilitators act for them.
    Add {
        /// The case.
        case: String,
        /// The name the case knows them by.
        #[arg(long)]
        name: String,
        /// harmed, responsible or supporter.
        #[arg(long)]
        role: Role,
    },
    /// Facilitators: records the consent a person on paper signed, with the scan of the form.
    Consent {
        /// Who: their name in the case, or their account id.
        #[arg(long = "for")]
        person: String,
        /// The scan of the signed consent form.
        #[arg(long)]
        scan: PathBuf,
        /// Where they signed it, e.g. "prison visit, HMP Northshire" (no addresses).
        #[arg(long)]
        place: String,
        /// The day they signed it, YYYY-MM-DD (default: today).
        #[arg(long)]
        signed_on: Option<String>,
        /// The case (your only case if omitted).
        #[arg(long)]
        case: Option<String>,
    },
    /// Facilitators: records that a person on paper withdrew, on paper (with the scan) or by
    /// telephone. The case pauses at once.
    Withdraw {
        /// Who: their name in the case, or their account id.
        #[arg(long = "for")]
        person: String,
        /// The scan of their signed withdrawal.
        #[arg(
            long,
            conflicts_with = "by_telephone",
            required_unless_present = "by_telephone"
        )]
        scan: Option<PathBuf>,
        /// They told you by telephone.
        #[arg(long)]
        by_telephone: bool,
        /// Where they were, or how they reached you, e.g. "telephone call from the prison".
        #[arg(long)]
        place: String,
        /// The day they withdrew, YYYY-MM-DD (default: today).
        #[arg(long)]
        on: Option<String>,
        /// The case (your only case if omitted).
        #[arg(long)]
        case: Option<String>,
    },
    /// Facilitators: saves the scans of the consent and withdrawal forms recorded in a case,
    /// each checked against its signed record.
    Forms {
        /// Only theirs: their name in the case, or their account id.
        #[arg(long = "for")]
        person: Option<String>,
        /// The folder to save the scans in.
        #[arg(long)]
        out: PathBuf,
        /// The case (your only case if omitted).
        #[arg(long)]
        case: Option<String>,
    },
    /// Facilitators: types up a handwritten question, letter or answer for a person on
    /// paper, with the scan of their page. It then waits for review like any message.
    Enter {
        /// question, letter or answer.
        kind: MessageKind,
        /// Who wrote it: their name in the case, or their account id.
        #[arg(long = "for")]
        person: String,
        /// The scan of the handwritten page (or pages, in one file).
        #[arg(long)]
        scan: PathBuf,
        /// The typed-up text, from this file (otherwise your editor opens).
        #[arg(long)]
        file: Option<PathBuf>,
        /// For an answer: the question it answers.
        #[arg(long)]
        in_reply_to: Option<String>,
        /// Who it is for: harmed, responsible or supporter (default: the other party).
        #[arg(long)]
        to: Option<Role>,
        /// The case (your only case if omitted).
        #[arg(long)]
        case: Option<String>,
    },
    /// Facilitators: lists what was passed on to the people on paper of a case, and how often
    /// each was printed.
    Letters {
        /// The case (your only case if omitted).
        #[arg(long)]
        case: Option<String>,
    },
    /// Facilitators: prints a letter passed on to a person on paper as an A4 PDF, with a
    /// verification code that anyone holding the letter can check.
    Print {
        /// The message passed on to them (as `ferry paper letters` shows it).
        message: String,
        /// Where to write the PDF.
        #[arg(long)]
        out: PathBuf,
        /// The case (your only case if omitted).
        #[arg(long)]
        case: Option<String>,
    },
}

impl PaperCmd {
    /// Runs the command.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        match self {
            PaperCmd::Add { case, name, role } => add(&account, out, &case, name, role),
            PaperCmd::Consent {
                person,
                scan,
                place,
                signed_on,
                case,
            } => {
                let given_at = day(signed_on.as_deref())?;
                let on = Recorded {
                    given: true,
                    medium: Medium::Paper,
                    scan: Some(scan),
                    place,
                    given_at,
                };
                record(&account, out, case.as_deref(), &person, on)
            }
            PaperCmd::Withdraw {
                person,
                scan,
                by_telephone,
                place,
                on,
                case,
            } => {
                let medium = match by_telephone {
                    true => Medium::Telephone,
                    false => Medium::Paper,
                };
                let given_at = day(on.as_deref())?;
                let on = Recorded {
                    given: false,
                    medium,
                    scan,
                    place,
                    given_at,
                };
                record(&account, out, case.as_deref(), &person, on)
            }
            PaperCmd::Enter {
                kind,
                person,
                scan,
                file,
                in_reply_to,
                to,
                case,
            } => {
                let entry = Entry {
                    kind,
                    scan,
                    file,
                    in_reply_to,
                    to,
                };
                enter(env, &account, out, case.as_deref(), &person, entry)
            }
            PaperCmd::Forms {
                person,
                out: dir,
                case,
            } => forms(&account, out, case.as_deref(), person.as_deref(), &dir),
            PaperCmd::Letters { case } => letters(&account, out, case.as_deref()),
            PaperCmd::Print {
                message,
                out: pdf,
                case,
            } => print(&account, out, case.as_deref(), &message, &pdf),
        }
    }
}

/// A day given as YYYY-MM-DD, or now.
fn day(given: Option<&str>) -> Result<i64> {
    match given {
        None => Ok(now()),
        Some(text) => ferry_protocol::parse_date(text)
            .with_context(|| format!("{text:?} is not a day: write it as YYYY-MM-DD")),
    }
}

fn add(account: &Account, out: &mut Out<'_>, case: &str, name: String, role: Role) -> Result<()> {
    let case = Id::try_from(case).map_err(|e| anyhow::anyhow!("{case:?} is not a case id: {e}"))?;
    let person = AccountId::on_paper();
    let accepted = account.post_signed(
        &format!("/v1/cases/{case}/paper-members"),
        &PaperMember {
            v: FORMAT_VERSION,
            coordinator: account.identity.account_id().clone(),
            case_id: case.clone(),
            person: person.clone(),
            display_name: name.clone(),
            role,
            seq: account.next_seq()?,
            created_at: now(),
        },
    )?;
    out.json(&serde_json::json!({"account_id": person, "case_id": case, "role": role, "event": accepted.event}))?;
    out.line(format!(
        "{name} takes part in case {case} on paper, as {}. The case's facilitators act for them: \
         they record {name}'s signed consent form with `ferry paper consent`, type up what they \
         write with `ferry paper enter`, and print what is passed on with `ferry paper print`.",
        role.a_person()
    ))?;
    Ok(())
}

/// The person on paper `who` names in the case (by name or account id).
fn on_paper<'v>(view: &'v CaseView, who: &str) -> Result<&'v MemberView> {
    let found: Vec<&MemberView> = view
        .members
        .iter()
        .filter(|m| m.on_paper && (m.account_id == who || m.display_name == who))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "no one in case {} takes part on paper as {who:?}; `ferry case show {}` lists who does",
            view.case_id,
            view.case_id
        ),
        _ => bail!("several people on paper are called {who:?}: use their account id"),
    }
}

/// A consent or withdrawal to record for a person on paper.
struct Recorded {
    given: bool,
    medium: Medium,
    scan: Option<PathBuf>,
    place: String,
    given_at: i64,
}

fn record(
    account: &Account,
    out: &mut Out<'_>,
    case: Option<&str>,
    who: &str,
    r: Recorded,
) -> Result<()> {
    let case = account.case(case)?;
    let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
    let person = on_paper(&view, who)?;
    let (scan, sealed) = match &r.scan {
        Some(path) => {
            let (scan, sealed) = seal_scan(account, &case, path)?;
            (Some(scan), Some(to_b64(&sealed)))
        }
        None => (None, None),
    };
    let statement = account.sign(&PaperConsent {
        v: FORMAT_VERSION,
        facilitator: account.identity.account_id().clone(),
        case_id: case.clone(),
        participant: AccountId::try_from(person.account_id.clone())?,
        given: r.given,
        medium: r.medium,
        given_at: r.given_at,
        place: r.place,
        scan: scan.clone(),
        seq: account.next_seq()?,
        created_at: now(),
    })?;
    let accepted: Accepted = account.client.post(
        &format!("/v1/cases/{case}/paper-consent"),
        &PaperConsentRequest {
            statement,
            scan: sealed,
        },
    )?;
    let state = accepted
        .case_state
        .map(|s| s.to_string())
        .unwrap_or_default();
    out.json(&serde_json::json!({
        "case_id": case, "participant": person.account_id, "given": r.given,
        "medium": r.medium.as_str(), "case_state": state, "event": accepted.event,
        "scan_sha256": scan.map(|s| s.sha256),
    }))?;
    let name = &person.display_name;
    out.line(if r.given {
        format!(
            "{name}'s consent on paper is recorded, with the scan of the form, as signed by you \
             for them. The case is {state}."
        )
    } else {
        format!(
            "{name}'s withdrawal ({}) is recorded. The case is {state}: nothing new is passed on \
             unless they consent again and the coordinator resumes it.",
            r.medium.as_str()
        )
    })?;
    Ok(())
}

/// Seals a scanned form to the case's facilitators, in memory.
fn seal_scan(account: &Account, case: &Id, path: &Path) -> Result<(Scan, Vec<u8>)> {
    let facilitators = sealing::facilitators(account, case)?;
    let recipients: Vec<_> = facilitators.iter().map(|c| c.recipient().clone()).collect();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("the scan needs a plain file name")?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut sealed = vec![];
    let s = seal_attachment(
        &account.identity,
        &recipients,
        name,
        std::io::BufReader::new(file),
        &mut sealed,
    )?;
    Ok((
        Scan {
            sha256: s.plaintext.sha256,
            size: s.plaintext.size,
            sealed: s.blob,
        },
        sealed,
    ))
}

fn forms(
    account: &Account,
    out: &mut Out<'_>,
    case: Option<&str>,
    who: Option<&str>,
    dir: &Path,
) -> Result<()> {
    let case = account.case(case)?;
    let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
    let only = who.map(|w| on_paper(&view, w)).transpose()?;
    let forms: Vec<PaperForm> = account
        .client
        .get(&format!("/v1/cases/{case}/paper-consent"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut saved = vec![];
    for form in forms {
        let signer = form.statement.signer.as_str();
        anyhow::ensure!(
            members::is_facilitator(&view, signer),
            "event #{} was recorded by someone who is not a facilitator of the case",
            form.event
        );
        let card = account.card(signer)?;
        let pc: PaperConsent = form
            .statement
            .open(&card)
            .with_context(|| format!("the signature on event #{} does not verify", form.event))?;
        if only.is_some_and(|m| m.account_id != pc.participant.as_str()) {
            continue;
        }
        let name = view
            .members
            .iter()
            .find(|m| m.account_id == pc.participant.as_str())
            .map_or_else(|| pc.participant.to_string(), |m| m.display_name.clone());
        let what = if pc.given { "consent" } else { "withdrawal" };
        let file = match (&pc.scan, &form.scan) {
            (Some(scan), Some(sealed)) => {
                let mut plain = vec![];
                let expected = AttachmentRef {
                    name: "scan".into(),
                    size: scan.size,
                    sha256: scan.sha256,
                };
                open_attachment(
                    &account.identity,
                    &scan.sealed,
                    &expected,
                    &b64(sealed)?[..],
                    &mut plain,
                )
                .with_context(|| {
                    format!("the scan of event #{} is not the one recorded", form.event)
                })?;
                // Named by the event, never by anything a person wrote.
                let path = dir.join(format!("{what}-event-{}.{}", form.event, extension(&plain)));
                crate::store::write_private(&path, &plain)?;
                Some(path)
            }
            (Some(_), None) => bail!("the service did not send the scan of event #{}", form.event),
            (None, _) => None,
        };
        out.line(format!(
            "#{}  {what} of {name}, {} {}, at {} — recorded by {} (signature verified){}",
            form.event,
            pc.medium.as_str(),
            ferry_protocol::format_date(pc.given_at),
            pc.place,
            card.display_name(),
            file.as_ref()
                .map(|p| format!("; scan saved as {}", p.display()))
                .unwrap_or_default()
        ))?;
        saved.push(serde_json::json!({
            "event": form.event, "participant": pc.participant, "given": pc.given,
            "medium": pc.medium.as_str(), "file": file,
        }));
    }
    out.json(&saved)?;
    if saved.is_empty() {
        out.line("No consent or withdrawal on paper is recorded for them in this case.")?;
    }
    Ok(())
}

/// A file extension for a scan, from its first bytes.
fn extension(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"%PDF") {
        "pdf"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "jpg"
    } else if bytes.starts_with(b"\x89PNG") {
        "png"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "tif"
    } else {
        "scan"
    }
}

/// A handwritten message to enter.
struct Entry {
    kind: MessageKind,
    scan: PathBuf,
    file: Option<PathBuf>,
    in_reply_to: Option<String>,
    to: Option<Role>,
}

fn enter(
    env: &Env,
    account: &Account,
    out: &mut Out<'_>,
    case: Option<&str>,
    who: &str,
    e: Entry,
) -> Result<()> {
    let case = account.case(case)?;
    let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
    let person = on_paper(&view, who)?;
    let (to, body) = sealing::draft(
        env,
        e.kind,
        e.in_reply_to.as_deref(),
        e.to,
        person.role,
        e.file.as_deref(),
    )?;
    let facilitators = sealing::facilitators(account, &case)?;
    let recipients: Vec<_> = facilitators.iter().map(|c| c.recipient().clone()).collect();
    let files = SealedFiles::seal(
        env,
        &account.identity,
        &recipients,
        std::slice::from_ref(&e.scan),
    )?;
    let message_id = Id::random();
    let letter = Letter {
        v: FORMAT_VERSION,
        case_id: case.clone(),
        message_id: message_id.clone(),
        kind: e.kind,
        author: AccountId::try_from(person.account_id.clone())?,
        recipient_role: to,
        in_reply_to: e.in_reply_to.as_deref().map(Id::try_from).transpose()?,
        created_at: now(),
        body,
        attachments: files.refs.clone(),
        entered_by: Some(account.identity.account_id().clone()),
    };
    let blobs = files.blobs.clone();
    let seq = account.next_seq()?;
    let sealed = seal::seal(&account.identity, &letter, seq, blobs, &recipients)?;
    let mut accepted: Accepted = account.client.post(
        &format!("/v1/cases/{case}/entries"),
        &SubmitRequest {
            envelope: sealed.envelope,
            ciphertext: to_b64(&sealed.ciphertext),
        },
    )?;
    let scan_sha256 = letter.attachments[0].sha256;
    if let Some(last) = files.upload(env, account, &case, &message_id)? {
        accepted = last;
    }
    out.json(&serde_json::json!({
        "message_id": message_id, "case_id": case, "state": accepted.state,
        "author": person.account_id, "scan_sha256": scan_sha256,
    }))?;
    out.line(format!(
        "{}'s {} ({message_id}) is entered, with the scan of their page, and waits for review. \
         Everyone who reads it is told it was written by hand and typed up by you; when you \
         forward it, you choose whether the scan goes too (drop attachment #0 to keep it back).",
        person.display_name, e.kind
    ))?;
    Ok(())
}

fn letters(account: &Account, out: &mut Out<'_>, case: Option<&str>) -> Result<()> {
    let case = account.case(case)?;
    let letters: Vec<PaperLetter> = account
        .client
        .get(&format!("/v1/cases/{case}/paper-letters"))?;
    out.json(&letters)?;
    if letters.is_empty() {
        out.line("Nothing was passed on to anyone on paper in this case yet.")?;
    }
    for l in &letters {
        let state = match (l.state, l.printed) {
            (DeliveryState::Held, _) => "held: print it once it is let through".to_owned(),
            (_, 0) => "ready to print".to_owned(),
            (_, n) => format!("printed {n} time{}", if n == 1 { "" } else { "s" }),
        };
        out.line(format!(
            "{}  {} for {}, passed on {} UTC — {state}",
            l.message_id,
            l.kind,
            l.recipient_name,
            time(l.passed_on_at)
        ))?;
    }
    Ok(())
}

fn print(
    account: &Account,
    out: &mut Out<'_>,
    case: Option<&str>,
    message: &str,
    pdf: &Path,
) -> Result<()> {
    let case = account.case(case)?;
    let letters: Vec<PaperLetter> = account
        .client
        .get(&format!("/v1/cases/{case}/paper-letters"))?;
    let letter = letters
        .iter()
        .find(|l| l.message_id == message)
        .with_context(|| {
            format!("{message} was not passed on to anyone on paper in case {case} (see `ferry paper letters`)")
        })?;
    if letter.state == DeliveryState::Held {
        bail!("{message} is held (the case is paused); print it once it is let through");
    }
    let view: CaseView = account.client.get(&format!("/v1/cases/{case}"))?;
    let detail: DeliveryDetail = account
        .client
        .get(&format!("/v1/deliveries/{}", letter.delivery_id))?;
    let delivered = open_for_print(account, &view, &case, &detail)?;
    let facilitator = KeyCard::verify(detail.facilitator_card.clone())?;
    let from = view
        .members
        .iter()
        .find(|m| m.account_id == delivered.author.as_str())
        .map(|m| m.role)
        .context("the author is not in this case")?;
    let info: ServerInfo = account.client.get("/v1/server")?;
    let base = info
        .public_url
        .as_deref()
        .unwrap_or(account.client.base())
        .trim_end_matches('/')
        .to_owned();
    let verify_url = format!("{base}/verify");
    let code = LetterCode::generate();
    let printed_at = now();
    let printed = printed::print(&printed::Letter {
        service: &info.service_name,
        recipient: &letter.recipient_name,
        kind: delivered.kind,
        from,
        facilitator: facilitator.display_name(),
        approved_at: delivered.forward.created_at,
        printed_at,
        redacted: delivered.redacted,
        body: &delivered.body,
        code: &code,
        verify_url: &verify_url,
    })?;
    let accepted = account.post_signed(
        &format!("/v1/cases/{case}/printings"),
        &Printing {
            v: FORMAT_VERSION,
            facilitator: account.identity.account_id().clone(),
            case_id: case.clone(),
            message_id: delivered.forward.message_id.clone(),
            kind: delivered.kind,
            recipient: delivered.forward.recipient.clone(),
            forward: detail.statement.body_hash(),
            code: code.lookup(),
            text_sha256: code.text_hash(&printed.text),
            seq: account.next_seq()?,
            created_at: printed_at,
        },
    )?;
    crate::store::write_private(pdf, &printed.pdf)?;
    out.json(&serde_json::json!({
        "message_id": message, "pdf": pdf, "pages": printed.pages, "code": code.to_string(),
        "verify_url": verify_url, "event": accepted.event,
        "attachments": delivered.attachments.len(),
    }))?;
    out.line(format!(
        "Printed {} {message} for {}: {} ({} page{}). Its code is {code}; anyone holding the \
         letter can check it at {verify_url} or with `ferry verify-letter`.",
        delivered.kind,
        letter.recipient_name,
        pdf.display(),
        printed.pages,
        if printed.pages == 1 { "" } else { "s" }
    ))?;
    if !delivered.attachments.is_empty() {
        out.line(format!(
            "It also carries {} attachment(s), not printed: read them with `ferry review` and \
             hand over what may go on paper yourself.",
            delivered.attachments.len()
        ))?;
    }
    Ok(())
}

/// Opens a forward to a person on paper as one of the facilitators it was sealed to, after
/// checking that it was approved (and, if typed up, entered) by facilitators of the case.
fn open_for_print(
    account: &Account,
    view: &CaseView,
    case: &Id,
    detail: &DeliveryDetail,
) -> Result<DeliveredMessage> {
    let facilitator = KeyCard::verify(detail.facilitator_card.clone())?;
    let author = KeyCard::verify(detail.author_card.clone())?;
    anyhow::ensure!(
        facilitator.account_id() == &detail.statement.signer
            && members::is_facilitator(view, facilitator.account_id().as_str()),
        "this was approved by someone who is not a facilitator of the case; it is not printed"
    );
    let ciphertext = b64(&detail.ciphertext)?;
    let delivered = read_forwarded(
        &account.identity,
        &detail.statement,
        &ciphertext,
        &facilitator,
        &author,
        case,
    )
    .context("this letter failed verification and is not printed")?;
    if let Some(by) = &delivered.entered_by {
        anyhow::ensure!(
            members::may_type_up_for(view, by.as_str(), delivered.author.as_str()),
            "this was typed up by someone who may not act for its author; it is not printed"
        );
    }
    let fwd: Forward = serde_json::from_slice(&detail.statement.body)?;
    anyhow::ensure!(
        members::is_on_paper(view, fwd.recipient.as_str()),
        "this letter is not for a person on paper"
    );
    Ok(delivered)
}

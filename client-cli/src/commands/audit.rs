//! `ferry audit`: verify a case's record against the signed log, export it as a bundle, and
//! verify a bundle offline.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ferry_protocol::{AuditBundle, CASE_BUNDLE, CaseView, PARTICIPANT_RECORD, StaffRole};

use crate::account::Account;
use crate::audit::{LogReport, Report, TrustedKey, verify_bundle, verify_log};
use crate::env::Env;
use crate::output::{Out, time};
use crate::pin::{self, Pinned};

/// `ferry audit …`
#[derive(Subcommand)]
pub enum AuditCmd {
    /// Verifies cases against the signed log: signatures, key cards, chain, inclusion,
    /// consistency with what you verified before, and the process rules.
    Verify {
        /// Only this case (default: every case you can see).
        #[arg(long)]
        case: Option<String>,
        /// A checkpoint saved by an earlier audit: the log must extend it.
        #[arg(long)]
        since_checkpoint: Option<PathBuf>,
        /// Save the checkpoint this audit verified against, for the next audit.
        #[arg(long)]
        save_checkpoint: Option<PathBuf>,
    },
    /// Writes a case's self-contained audit bundle (no content) to a file.
    Export {
        /// The case.
        #[arg(long)]
        case: String,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Verifies a bundle file fully offline, against the server key you trust: the one pinned
    /// when you enrolled, or one given with --server-key.
    VerifyBundle {
        /// The bundle.
        file: PathBuf,
        /// The service's verifier key, as `ferry-server init` prints it
        /// (`<origin>+<key id>+<key>`), when you are not enrolled with that service.
        #[arg(long)]
        server_key: Option<String>,
    },
}

impl AuditCmd {
    /// Runs the audit command.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        match self {
            AuditCmd::Verify {
                case,
                since_checkpoint,
                save_checkpoint,
            } => {
                let account = Account::open(env, profile)?;
                if let Some(file) = &since_checkpoint {
                    let earlier: Pinned = read_checkpoint(&account, file)?;
                    pin::check_extends(&account.client, &earlier, &account.pinned)?;
                }
                let header = |latest: &Pinned| {
                    format!(
                        "Log {} at {} events (root {}), signed by the server's key and consistent with \
                         every checkpoint you verified before{}.",
                        latest.origin,
                        latest.size,
                        &latest.root[..16],
                        if since_checkpoint.is_some() {
                            ", including the one you gave"
                        } else {
                            ""
                        }
                    )
                };
                let whole_log = case.is_none()
                    && matches!(
                        account.me()?.staff_role,
                        Some(StaffRole::Coordinator | StaffRole::Auditor)
                    );
                if whole_log {
                    let report = verify_log(
                        &account.client,
                        &pin::server_card(&account.profile)?,
                        &account.pinned,
                    )?;
                    if let Some(file) = &save_checkpoint {
                        crate::store::write_private(
                            file,
                            &serde_json::to_vec_pretty(&account.pinned)?,
                        )?;
                    }
                    return finish_log(out, &report, &header(&account.pinned));
                }
                let cases: Vec<String> = match case {
                    Some(c) => vec![c],
                    None => account
                        .client
                        .get::<Vec<CaseView>>("/v1/cases")?
                        .into_iter()
                        .map(|c| c.case_id)
                        .collect(),
                };
                let me = account.me()?;
                let mut reports = vec![];
                let mut latest = account.pinned.clone();
                for c in &cases {
                    let (bundle, pinned) = fetch_bundle(&account, &latest, c)?;
                    let participant = me.staff_role.is_none()
                        && me
                            .cases
                            .iter()
                            .any(|m| &m.case_id == c && m.role.is_participant());
                    let expected = if participant {
                        PARTICIPANT_RECORD
                    } else {
                        CASE_BUNDLE
                    };
                    if bundle.format != expected {
                        bail!(
                            "the server sent a {:?} for case {c} where a {expected:?} was due; \
                             nothing was verified",
                            bundle.format
                        );
                    }
                    latest = pinned;
                    reports.push(verify_bundle(
                        &bundle,
                        Some(&pinned_key(&account, &latest)?),
                    )?);
                }
                if let Some(file) = &save_checkpoint {
                    crate::store::write_private(file, &serde_json::to_vec_pretty(&latest)?)?;
                }
                finish(out, &reports, &header(&latest))
            }
            AuditCmd::Export { case, output } => {
                let account = Account::open(env, profile)?;
                let (bundle, _) = fetch_bundle(&account, &account.pinned, &case)?;
                let report = verify_bundle(&bundle, Some(&pinned_key(&account, &account.pinned)?))?;
                crate::store::write_private(&output, &serde_json::to_vec_pretty(&bundle)?)?;
                out.json(&serde_json::json!({"file": output, "events": report.events, "clean": report.clean()}))?;
                out.line(format!(
                    "Wrote {} ({} events of case {case}, {} related events, checkpoint at {} events).",
                    output.display(),
                    bundle.events.len(),
                    bundle.context.len(),
                    report.checkpoint_size
                ))?;
                if !report.clean() {
                    out.line(format!("Note: verifying it found {} problem(s); run `ferry audit verify-bundle` to see them.", report.problems.len()))?;
                }
                Ok(())
            }
            AuditCmd::VerifyBundle { file, server_key } => {
                let bytes = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let bundle: AuditBundle = serde_json::from_slice(&bytes).map_err(|e| {
                    anyhow::anyhow!(
                        "{} is not a readable audit bundle (it may be damaged): {e}",
                        file.display()
                    )
                })?;
                let trusted = match server_key {
                    Some(vkey) => {
                        let (origin, key) = ferry_crypto::log_format::parse_verifier_key(&vkey)
                            .map_err(|e| anyhow::anyhow!("--server-key: {e}"))?;
                        Some(TrustedKey {
                            key,
                            origin: Some(origin),
                            from: "the key given with --server-key".into(),
                        })
                    }
                    None => offline_pinned_key(env, profile)?,
                };
                let report = verify_bundle(&bundle, trusted.as_ref())?;
                let card = ferry_crypto::KeyCard::verify(bundle.server_key_card.clone())?;
                let header = match &trusted {
                    Some(t) if t.key == *card.verifying_key() => format!(
                        "Checked offline against {}: server key fingerprint {}.",
                        t.from,
                        card.fingerprint().key_code()
                    ),
                    Some(t) => format!("Checked offline against {}.", t.from),
                    None => "Checked offline, with no server key to check it against.".to_owned(),
                };
                finish(out, &[report], &header)
            }
        }
    }
}

/// The server key pinned in a logged-in account's profile, with the log's origin.
fn pinned_key(account: &Account, pinned: &Pinned) -> Result<TrustedKey> {
    Ok(TrustedKey {
        key: *pin::server_card(&account.profile)?.verifying_key(),
        origin: Some(pinned.origin.clone()),
        from: format!(
            "the server key pinned in your profile {:?}",
            account.profile_name
        ),
    })
}

/// The server key pinned in the selected profile, read without going online; none when this
/// machine has no profile.
fn offline_pinned_key(env: &Env, profile: Option<&str>) -> Result<Option<TrustedKey>> {
    let profiles = crate::store::Profiles::load(env)?;
    if profiles.profiles.is_empty() {
        return Ok(None);
    }
    let (name, p) = profiles.select(profile.or(env.profile.as_deref()))?;
    Ok(Some(TrustedKey {
        key: *pin::server_card(&p)?.verifying_key(),
        origin: pin::load(env, &name)?.map(|c| c.origin),
        from: format!("the server key pinned in your profile {name:?}"),
    }))
}

/// Fetches a case's bundle and checks its checkpoint extends what was verified before.
fn fetch_bundle(account: &Account, pinned: &Pinned, case: &str) -> Result<(AuditBundle, Pinned)> {
    let bundle: AuditBundle = account.client.get(&format!("/v1/cases/{case}/audit"))?;
    if bundle.origin != pinned.origin {
        bail!(
            "the bundle is for log {:?}, not {:?}",
            bundle.origin,
            pinned.origin
        );
    }
    let checkpoint = pin::verify_note(&account.profile, &pinned.origin, &bundle.checkpoint)?;
    let theirs = Pinned {
        origin: pinned.origin.clone(),
        size: checkpoint.size(),
        root: ferry_crypto::log_format::hash_hex(checkpoint.hash()),
        note: bundle.checkpoint.clone(),
    };
    pin::check_extends(&account.client, pinned, &theirs)?;
    Ok((bundle, theirs))
}

fn read_checkpoint(account: &Account, file: &PathBuf) -> Result<Pinned> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let saved: Pinned =
        serde_json::from_slice(&bytes).context("not a checkpoint saved by `ferry audit verify`")?;
    let checkpoint = pin::verify_note(&account.profile, &saved.origin, &saved.note)?;
    anyhow::ensure!(
        checkpoint.size() == saved.size
            && ferry_crypto::log_format::hash_hex(checkpoint.hash()) == saved.root,
        "the saved checkpoint's size or root does not match its signed note"
    );
    Ok(saved)
}

fn finish(out: &mut Out<'_>, reports: &[Report], header: &str) -> Result<()> {
    let problems: usize = reports.iter().map(|r| r.problems.len()).sum();
    let own = !reports.is_empty() && reports.iter().all(|r| r.own_record);
    if out.json {
        out.json(&serde_json::json!({"clean": problems == 0, "reports": reports}))?;
    } else {
        out.line(header)?;
        for r in reports {
            print_report(out, r)?;
        }
    }
    if own && problems == 0 && !out.json {
        out.line("")?;
        out.line(
            "Result: VERIFIED. Every event in your record is signed by the person who took it and is \
             in the signed log. Your record leaves out what does not concern you, so it cannot show \
             that the whole case record is complete: auditors check that.",
        )?;
        return Ok(());
    }
    result(out, problems)
}

/// The verdict line (in text mode), and failure when anything is wrong.
fn result(out: &mut Out<'_>, problems: usize) -> Result<()> {
    if !out.json {
        out.line("")?;
        out.line(if problems == 0 {
            "Result: CLEAN. Every event is signed by its author, included in the signed log, chained in order, and the process was followed.".to_owned()
        } else {
            format!("Result: {problems} PROBLEM(S) FOUND.")
        })?;
    }
    if problems > 0 {
        bail!("the audit found {problems} problem(s)");
    }
    Ok(())
}

/// Prints a whole-log audit: the log's own problems, then one entry per case.
fn finish_log(out: &mut Out<'_>, report: &LogReport, header: &str) -> Result<()> {
    let problems = report.problem_count();
    if out.json {
        out.json(&serde_json::json!({"clean": problems == 0, "log": report}))?;
    } else {
        out.line(header)?;
        out.line(format!(
            "Whole log: {} events in {} case(s), hashed again: the root {} the signed checkpoint's.",
            report.size,
            report.cases.len(),
            if report.root_matches {
                "matches"
            } else {
                "does NOT match"
            }
        ))?;
        for p in &report.problems {
            out.line(format!("! {p}"))?;
        }
        for n in &report.notes {
            out.line(format!("Note: {n}"))?;
        }
        for r in &report.cases {
            print_report(out, r)?;
        }
    }
    result(out, problems)
}

fn print_report(out: &mut Out<'_>, r: &Report) -> Result<()> {
    out.line("")?;
    out.line(format!(
        "{} {}: {} events{} (checkpoint {} at {} events)",
        if r.own_record {
            "Your own record in case"
        } else {
            "Case"
        },
        r.case_id,
        r.events,
        if r.own_record {
            " that concern you"
        } else {
            ""
        },
        &r.checkpoint_root[..16],
        r.checkpoint_size
    ))?;
    for t in &r.timeline {
        out.line(format!(
            "  {:>3}  {}  {:<22} {:<12} {:<16} {}",
            t.seq,
            time(t.time),
            t.actor_name.chars().take(22).collect::<String>(),
            t.role,
            t.kind,
            t.summary
        ))?;
    }
    for n in &r.notes {
        out.line(format!("  note: {n}"))?;
    }
    if r.problems.is_empty() {
        out.line("  No problems.")?;
    } else {
        out.line(format!("  {} problem(s):", r.problems.len()))?;
        for p in &r.problems {
            out.line(format!("  ! {p}"))?;
        }
    }
    Ok(())
}

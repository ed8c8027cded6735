//! `ferry verify-letter`: anyone holding a printed letter (prison staff who vet post, the
//! person it is for, an auditor) asks the service about its code, with no account; the
//! facilitator's signature on the printing is checked here, and with `--pdf` the printed text.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use ferry_crypto::KeyCard;
use ferry_crypto::paper::{LetterCode, LetterCodeError, Printing};
use ferry_protocol::{LetterCheck, LetterCheckRequest};

use crate::client::Client;
use crate::env::Env;
use crate::output::{Out, short, time};
use crate::printed;

/// `ferry verify-letter CODE [--pdf FILE]`
#[derive(clap::Args)]
pub struct VerifyLetter {
    /// The code printed at the foot of each page of the letter.
    code: String,
    /// Also check that the text of this PDF is the text that was approved and printed.
    #[arg(long)]
    pdf: Option<PathBuf>,
}

impl VerifyLetter {
    /// Asks the service about the code, checks the facilitator's signature on the printing,
    /// and, with `--pdf`, the printed text.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let code = LetterCode::parse(&self.code).map_err(|e| match e {
            LetterCodeError::Malformed => anyhow::anyhow!(
                "that is not a letter's code: it is twenty letters and digits in four groups of \
                 five, printed at the foot of each page"
            ),
            LetterCodeError::Mistyped => anyhow::anyhow!(
                "one of the letters or digits of that code is mistyped (its last one checks the \
                 others): compare it with the letter again"
            ),
        })?;
        let server = match &env.server {
            Some(url) => url.clone(),
            None => {
                let profiles = crate::store::Profiles::load(env)?;
                let (_, profile) = profiles
                    .select(profile.or(env.profile.as_deref()))
                    .context("say which service printed the letter with --server URL")?;
                profile.server.clone()
            }
        };
        let client = Client::new(&server)?;
        let check: LetterCheck = client
            .post(
                "/v1/letters/check",
                &LetterCheckRequest {
                    code: code.to_string(),
                },
            )
            .map_err(|e| match crate::client::api_failure(&e) {
                Some(f) if f.status == 404 => anyhow::anyhow!(
                    "no letter printed by this service has that code: the letter may not come \
                     from it, or the code was changed; ask the service"
                ),
                _ => e,
            })?;
        let card = KeyCard::verify(check.facilitator_card.clone())
            .context("the facilitator's key card does not verify")?;
        let printing: Printing = check
            .printing
            .open(&card)
            .context("the printing's signature does not verify")?;
        anyhow::ensure!(
            printing.code == code.lookup() && printing.text_sha256.to_hex() == check.text_sha256,
            "the service answered about another letter than this code's"
        );
        let pdf_matches = match &self.pdf {
            None => None,
            Some(path) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let text = printed::read_text(&bytes)?;
                Some(code.text_hash(&text) == printing.text_sha256)
            }
        };
        out.json(&serde_json::json!({
            "code": code.to_string(), "kind": check.kind, "approved_at": check.approved_at,
            "printed_at": check.printed_at, "fingerprint": check.text_sha256,
            "event": check.event, "pdf_matches": pdf_matches,
        }))?;
        out.line(format!(
            "A facilitator of this service approved this {} on {} UTC and printed it on {} UTC \
             (log event #{}, signature verified).",
            check.kind,
            time(check.approved_at),
            time(check.printed_at),
            check.event
        ))?;
        out.line(format!(
            "The letter's fingerprint is {}. This check says nothing of what the letter says.",
            short(&check.text_sha256)
        ))?;
        match (&self.pdf, pdf_matches) {
            (Some(path), Some(true)) => out.line(format!(
                "The text of {} is the text that was approved and printed.",
                path.display()
            ))?,
            (Some(path), _) => bail!(
                "the text of {} is NOT the text that was approved and printed with this code: do \
                 not rely on it, and tell the service",
                path.display()
            ),
            (None, _) => {}
        }
        Ok(())
    }
}

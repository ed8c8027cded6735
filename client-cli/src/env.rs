//! Where the client keeps its files and how it gets the keystore passphrase. Built from the
//! process environment by the binary; built directly by tests and `ferry demo`, which run
//! several people side by side in one process.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use ferry_crypto::SecretString;
use ferry_crypto::keystore::DEFAULT_WORK_FACTOR;

/// Answers typed in advance, one per question, in order: how tests and `ferry demo` answer
/// the prompts a person answers at the terminal.
pub type Answers = Arc<Mutex<VecDeque<String>>>;

/// The client's surroundings.
pub struct Env {
    /// Configuration and keystore directory (`FERRY_HOME`, default: the platform config
    /// directory + `/ferry`).
    pub home: PathBuf,
    /// The keystore passphrase, if given (`FERRY_PASSPHRASE`); otherwise it is asked for.
    pub passphrase: Option<SecretString>,
    /// scrypt work factor for a new keystore (`FERRY_KEYSTORE_WORK_FACTOR`).
    pub work_factor: u8,
    /// Whether a person is at a terminal to answer prompts.
    pub interactive: bool,
    /// Whether output goes to a terminal (highlights and progress bars are drawn).
    pub color: bool,
    /// The editor for `--edit` and for writing without `--file` (`VISUAL`/`EDITOR`).
    pub editor: Option<String>,
    /// The profile to use (`FERRY_PROFILE`).
    pub profile: Option<String>,
    /// Another address for the profile's server (`--server`, `FERRY_SERVER`).
    pub server: Option<String>,
    /// Answers to prompts given in advance; `None` reads them from the terminal.
    pub answers: Option<Answers>,
}

impl Env {
    /// From the process environment.
    pub fn from_process() -> Result<Self> {
        use std::io::IsTerminal;
        let home = match std::env::var_os("FERRY_HOME") {
            Some(h) => PathBuf::from(h),
            None => dirs::config_dir()
                .context("cannot find a configuration directory; set FERRY_HOME")?
                .join("ferry"),
        };
        let work_factor = match std::env::var("FERRY_KEYSTORE_WORK_FACTOR") {
            Ok(v) => v
                .parse()
                .ok()
                .filter(|n| (10..=22).contains(n))
                .context("FERRY_KEYSTORE_WORK_FACTOR must be a number from 10 to 22")?,
            Err(_) => DEFAULT_WORK_FACTOR,
        };
        Ok(Self {
            home,
            passphrase: std::env::var("FERRY_PASSPHRASE")
                .ok()
                .map(SecretString::from),
            work_factor,
            interactive: std::io::stdin().is_terminal(),
            color: std::io::stdout().is_terminal(),
            editor: std::env::var("VISUAL")
                .or_else(|_| std::env::var("EDITOR"))
                .ok(),
            profile: std::env::var("FERRY_PROFILE").ok(),
            server: None,
            answers: None,
        })
    }

    /// The same surroundings, reaching the server at another address.
    pub fn with_server(&self, url: &str) -> Self {
        Self {
            home: self.home.clone(),
            passphrase: self.passphrase.clone(),
            work_factor: self.work_factor,
            interactive: self.interactive,
            color: self.color,
            editor: self.editor.clone(),
            profile: self.profile.clone(),
            server: Some(url.to_owned()),
            answers: self.answers.clone(),
        }
    }

    /// Whether a person can answer questions: at a terminal, or with answers given in advance.
    pub fn can_ask(&self) -> bool {
        self.interactive || self.answers.is_some()
    }

    /// Asks `question` (written to `out`) and returns the answer, trimmed.
    pub fn ask(&self, out: &mut crate::output::Out<'_>, question: &str) -> Result<String> {
        anyhow::ensure!(
            self.can_ask(),
            "this needs an answer, but nobody is at a terminal"
        );
        out.line(question)?;
        if let Some(answers) = &self.answers {
            let mut answers = answers
                .lock()
                .map_err(|_| anyhow::anyhow!("the prepared answers are unusable"))?;
            return answers
                .pop_front()
                .context("no answer was prepared for this question");
        }
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(answer.trim().to_owned())
    }

    /// Asks a yes-or-no question; only "y" or "yes" is yes, and no answer is `default`.
    pub fn confirm(
        &self,
        out: &mut crate::output::Out<'_>,
        question: &str,
        default: bool,
    ) -> Result<bool> {
        let hint = if default { "[Y/n]" } else { "[y/N]" };
        let answer = self.ask(out, &format!("{question} {hint}"))?.to_lowercase();
        Ok(match answer.trim() {
            "" => default,
            a => a == "y" || a == "yes",
        })
    }

    /// The keystore passphrase: given, or asked for at the terminal.
    pub fn passphrase(&self, prompt: &str) -> Result<SecretString> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        anyhow::ensure!(
            self.interactive,
            "the keystore passphrase is needed: set FERRY_PASSPHRASE or run ferry in a terminal"
        );
        Ok(SecretString::from(rpassword::prompt_password(prompt)?))
    }
}

//! `ferry`, the command-line client, as a library: [`run`] takes the arguments and the
//! output stream, so the end-to-end tests and `ferry demo` drive the very code the binary
//! runs.
#![forbid(unsafe_code)]

pub mod account;
pub mod audit;
pub mod client;
mod commands;
mod editor;
pub mod env;
pub mod output;
pub mod pii;
pub mod pin;
pub mod printed;
pub mod reviewed;
pub mod store;
mod transfer;

use std::io::Write;

use clap::{Parser, Subcommand};

pub use env::Env;

/// Ferry: a secure relay for written questions, answers and letters between a person harmed
/// by a crime and the person responsible, carried by a facilitator who reads every message
/// before passing it on.
///
/// Everything you send is encrypted on this machine to your case's facilitators; everything
/// you do is a signed statement in the case's record. Start with `ferry enrol`.
#[derive(Parser)]
#[command(name = "ferry", version, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Print JSON instead of tables and sentences.
    #[arg(long, global = true)]
    json: bool,
    /// Use this profile (server and account) instead of the default.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Reach the profile's server at this address instead (its key stays pinned).
    #[arg(long, global = true, env = "FERRY_SERVER", hide_env_values = true)]
    server: Option<String>,
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
Environment:
  FERRY_HOME                  where profiles and the keystore live [default: config dir/ferry]
  FERRY_PASSPHRASE            keystore passphrase (otherwise asked for)
  FERRY_PROFILE               profile to use
  FERRY_KEYSTORE_WORK_FACTOR  scrypt work factor for a new keystore [default: 18]
  EDITOR / VISUAL             editor for writing and redacting

Roles and their commands:
  coordinator   case open|allocate|invite|risk|pause|resume|close|show|list, staff invite|list,
                paper add, admin outbox
  facilitator   inbox, review, forward, return, withhold, escalate, verify-key,
                paper consent|withdraw|forms|enter|letters|print
  participant   consent, withdraw, hold, write, inbox, read, sent
  auditor       audit verify, audit export, audit verify-bundle
  anyone        enrol, import-keys, whoami, notifications, verify-letter, demo, self-check";

#[derive(Subcommand)]
enum Command {
    /// Enrol with an invitation code: makes your keys on this machine and registers them.
    Enrol(commands::enrol::Cmd),
    /// Keeps a saved copy of your keys from the web page on this machine, as a new profile.
    ImportKeys(commands::enrol::ImportKeys),
    /// Shows who you are on the server, your roles and your safety number.
    Whoami(commands::enrol::Whoami),
    /// Case management (coordinators); `case show` and `case list` for everyone.
    #[command(subcommand)]
    Case(commands::case::CaseCmd),
    /// Invites staff: coordinators, facilitators (with accreditations) and auditors.
    #[command(subcommand)]
    Staff(commands::case::StaffCmd),
    /// What is waiting for you: messages to review (facilitators) or delivered to you.
    Inbox(commands::review::Inbox),
    /// Facilitators: opens a message, verifies it and highlights identifying details.
    Review(commands::review::Review),
    /// Facilitators: forwards a reviewed message, as it is or redacted.
    Forward(commands::forward::Forward),
    /// Facilitators: returns a message to its author for changes, with a note.
    Return(commands::review::ReturnCmd),
    /// Facilitators: withholds a message, with a reason.
    Withhold(commands::review::WithholdCmd),
    /// Facilitators: escalates a message to the coordinator.
    Escalate(commands::review::EscalateCmd),
    /// Facilitators: reads out a person's safety number and records that it matched.
    VerifyKey(commands::review::VerifyKey),
    /// Participants: records your consent to take part.
    Consent(commands::participant::ConsentCmd),
    /// Participants: withdraws your consent; the case pauses at once.
    Withdraw(commands::participant::WithdrawCmd),
    /// Participants: holds anything new for you until you say (`--off` lets it through).
    Hold(commands::participant::HoldCmd),
    /// Participants: writes a question, letter or answer, sealed to the facilitators.
    Write(commands::participant::Write),
    /// Reads something delivered to you, verifying every signature.
    Read(commands::participant::Read),
    /// Participants: what you wrote, and what became of each message.
    Sent(commands::participant::Sent),
    /// People on paper (no device): added by a coordinator; their facilitators record their
    /// consent, type up what they write and print what is passed on to them.
    #[command(subcommand)]
    Paper(commands::paper::PaperCmd),
    /// Anyone: checks a printed letter's code (and, with --pdf, its text) with the service.
    VerifyLetter(commands::verify_letter::VerifyLetter),
    /// Shows or sets how you are told (by e-mail) that something is waiting.
    Notifications(commands::notify::Notifications),
    /// Coordinators: the e-mail outbox.
    #[command(subcommand)]
    Admin(commands::notify::AdminCmd),
    /// Auditors: verify cases against the signed log, export and verify bundles.
    #[command(subcommand)]
    Audit(commands::audit::AuditCmd),
    /// Plays a whole exchange on a temporary server and prints the transcript.
    #[cfg(feature = "demo")]
    Demo(commands::demo::Cmd),
    /// Checks this machine's cryptography end to end with generated keys.
    SelfCheck(commands::self_check::Cmd),
}

/// Parses `args` (including the program name) and runs the command with `env`, writing its
/// output to `out`. Argument errors, `--help` and `--version` come back as clap errors.
pub fn run_with<I, T>(env: &Env, args: I, out: &mut dyn Write) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    let mut out = output::Out::new(out, cli.json);
    let relocated;
    let env = match &cli.server {
        Some(url) => {
            relocated = env.with_server(url);
            &relocated
        }
        None => env,
    };
    let profile = cli.profile.as_deref();
    match cli.command {
        Command::Enrol(cmd) => cmd.run(env, profile, &mut out),
        Command::ImportKeys(cmd) => cmd.run(env, profile, &mut out),
        Command::Whoami(cmd) => cmd.run(env, profile, &mut out),
        Command::Case(cmd) => cmd.run(env, profile, &mut out),
        Command::Staff(cmd) => cmd.run(env, profile, &mut out),
        Command::Inbox(cmd) => cmd.run(env, profile, &mut out),
        Command::Review(cmd) => cmd.run(env, profile, &mut out),
        Command::Forward(cmd) => cmd.run(env, profile, &mut out),
        Command::Return(cmd) => cmd.run(env, profile, &mut out),
        Command::Withhold(cmd) => cmd.run(env, profile, &mut out),
        Command::Escalate(cmd) => cmd.run(env, profile, &mut out),
        Command::VerifyKey(cmd) => cmd.run(env, profile, &mut out),
        Command::Consent(cmd) => cmd.run(env, profile, &mut out, true),
        Command::Withdraw(cmd) => cmd.run(env, profile, &mut out),
        Command::Hold(cmd) => cmd.run(env, profile, &mut out),
        Command::Write(cmd) => cmd.run(env, profile, &mut out),
        Command::Read(cmd) => cmd.run(env, profile, &mut out),
        Command::Sent(cmd) => cmd.run(env, profile, &mut out),
        Command::Paper(cmd) => cmd.run(env, profile, &mut out),
        Command::VerifyLetter(cmd) => cmd.run(env, profile, &mut out),
        Command::Audit(cmd) => cmd.run(env, profile, &mut out),
        Command::Notifications(cmd) => cmd.run(env, profile, &mut out),
        Command::Admin(cmd) => cmd.run(env, profile, &mut out),
        #[cfg(feature = "demo")]
        Command::Demo(cmd) => cmd.run(&mut out),
        Command::SelfCheck(cmd) => cmd.run(&mut out),
    }
}

/// [`run_with`] with the process environment.
pub fn run<I, T>(args: I, out: &mut dyn Write) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    run_with(&Env::from_process()?, args, out)
}

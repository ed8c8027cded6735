//! `ferry`, the command-line client, as a library: [`run`] takes the arguments and the
//! output stream, so the end-to-end tests drive the very same code the binary runs.
#![forbid(unsafe_code)]

mod commands;

use std::io::Write;

use clap::{Parser, Subcommand};

/// Ferry: a secure relay for shuttle communication between a harmed person and the person
/// responsible, carried and reviewed by a facilitator.
#[derive(Parser)]
#[command(name = "ferry", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Checks this machine's cryptography end to end: makes keys, seals a question, opens it as
    /// the facilitator, forwards a redacted version and opens it as the recipient.
    SelfCheck(commands::self_check::Cmd),
}

/// Parses `args` (including the program name) and runs the command, writing its output to
/// `out`. Argument errors, `--help` and `--version` are returned as clap errors for the
/// caller to print.
pub fn run<I, T>(args: I, out: &mut dyn Write) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    match cli.command {
        Command::SelfCheck(cmd) => cmd.run(out),
    }
}

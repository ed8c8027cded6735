//! The `ferry` binary: see the library for the commands.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match ferry_cli::run(std::env::args_os(), &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<clap::Error>() {
            Some(clap_err) => {
                let _ = clap_err.print();
                ExitCode::from(clap_err.exit_code().clamp(0, 255) as u8)
            }
            None => {
                for line in format!("ferry: {e:#}").lines() {
                    eprintln!("{}", ferry_cli::output::shown(line));
                }
                ExitCode::FAILURE
            }
        },
    }
}

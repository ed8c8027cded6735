//! `ferry-server`: serves Ferry's API. `ferry-server init` creates the server key and prints a
//! one-time enrolment code for the first coordinator.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ferry_server::{AppState, Config, config};

/// Ferry's relay server. With no set-up it serves on 127.0.0.1:8080 with SQLite in ./ferry.db.
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "\
TOML keys are the settings' long names with _ for -, e.g. listen = \"0.0.0.0:8443\".
FERRY_LOG sets what the server logs, e.g. info or debug [default: info]."
)]
struct Args {
    /// A TOML configuration file.
    #[arg(
        long,
        env = "FERRY_CONFIG",
        value_name = "FILE",
        global = true,
        hide_env_values = true
    )]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: config::Overrides,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Create the database and server key if needed, and print a one-time enrolment code for
    /// a coordinator (run it again for another).
    Init,
    /// Print the OpenAPI document.
    Openapi,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferry-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if let Some(Command::Openapi) = args.command {
        println!(
            "{}",
            serde_json::to_string_pretty(&ferry_server::routes::openapi())?
        );
        return Ok(());
    }
    let config = Config::load(args.config.as_deref(), args.settings)?;
    tracing::info!(?config, "starting");
    let state = AppState::open(config.clone()).await?;
    match args.command {
        Some(Command::Init) => {
            let code = ferry_server::init::invite_coordinator(&state).await?;
            println!("Server key: {}", config.server_key.display());
            println!(
                "Server key fingerprint: {}",
                state.server_card.fingerprint().key_code()
            );
            println!(
                "Server verifier key (for auditors' --server-key): {}",
                ferry_crypto::log_format::verifier_key(
                    &state.config.log_origin,
                    state.server_card.verifying_key()
                )
            );
            println!();
            println!("One-time enrolment code for the first coordinator (valid 7 days):");
            println!();
            println!("    {code}");
            println!();
            println!(
                "They enrol with:  ferry enrol {} {code} --name \"Their Name\"",
                config.public_address()
            );
            if config.public_url.is_none() {
                println!();
                println!(
                    "That is the address the server listens on (FERRY_LISTEN). If people reach it \
                     at another address (a domain name, a reverse proxy), set FERRY_PUBLIC_URL to \
                     that address and give them that one instead."
                );
            }
            Ok(())
        }
        _ => {
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            tracing::info!(address = %listener.local_addr()?, "ferry-server listening");
            ferry_server::serve(listener, state, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            Ok(())
        }
    }
}

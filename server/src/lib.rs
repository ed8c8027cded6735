//! Ferry's server: the JSON API under `/v1`, storage, and the trail of signed events.
//!
//! The entry point takes a bound listener and a shutdown future, so tests and `ferry demo`
//! run the real server on `127.0.0.1:0` and stop it cleanly.
#![forbid(unsafe_code)]

pub mod auth;
pub mod blobs;
pub mod cases;
pub mod commit;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod files;
pub mod init;
pub mod intake;
pub mod log_store;
pub mod mail;
pub mod rate;
pub mod routes;
pub mod sql;
pub mod states;
pub mod visibility;
pub mod wal;

use std::future::Future;
use std::sync::Arc;

use ferry_crypto::{Identity, KeyCard};
use sqlx::AnyPool;
use tokio::net::TcpListener;

pub use config::Config;
pub use ferry_protocol::{format_time, now};

/// Shared state of a running server.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub pool: AnyPool,
    /// SQLite or PostgreSQL.
    pub backend: db::Backend,
    /// Configuration.
    pub config: Arc<Config>,
    /// The server's own identity (signs bootstrap invitations; later, checkpoints).
    pub server_identity: Arc<Identity>,
    /// The server's key card.
    pub server_card: Arc<KeyCard>,
    /// Verified key cards, kept in memory.
    pub key_cards: Arc<intake::KeyCards>,
    /// Batches concurrent submissions into shared transactions.
    pub submissions: commit::Committer<routes::submit::Submission>,
    /// SQLite's write-ahead log, which the committer's batches reach the disk through.
    pub wal: Option<Arc<wal::Wal>>,
    /// How often anyone may check a printed letter's code.
    pub letter_checks: Arc<rate::RateLimit>,
}

impl AppState {
    /// Opens the database (creating and migrating it) and the server key (creating it and
    /// registering its key card on first start).
    pub async fn open(mut config: Config) -> anyhow::Result<Self> {
        if let Some(dir) = &config.data_dir {
            files::private_dir(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
        let (options, backend) = db::options(&config.database_url)?;
        let pool = db::migrated(&options, backend).await?;
        let wal = match backend {
            db::Backend::Sqlite => wal::Wal::of(&mut *pool.acquire().await?)
                .await?
                .map(Arc::new),
            db::Backend::Postgres => None,
        };
        let submissions = commit::Committer::start(options, backend, wal.clone()).await?;
        let identity = init::load_or_create_key(&config.server_key)?;
        let card = init::register_server(&pool, &identity).await?;
        if config.log_origin.is_empty() {
            config.log_origin = format!("ferry/{}", card.account_id());
        }
        anyhow::ensure!(
            !config
                .log_origin
                .chars()
                .any(|c| c.is_whitespace() || c == '+'),
            "FERRY_LOG_ORIGIN must not contain spaces or '+'"
        );
        files::private_dir(&config.blob_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the attachment directory {}: {e}",
                config.blob_dir.display()
            )
        })?;
        Ok(Self {
            submissions,
            wal,
            pool,
            backend,
            config: Arc::new(config),
            server_identity: Arc::new(identity),
            server_card: Arc::new(card),
            key_cards: Arc::default(),
            letter_checks: Arc::new(rate::RateLimit::per_minute(
                LETTER_CHECKS_PER_ADDRESS,
                LETTER_CHECKS_IN_ALL,
            )),
        })
    }
}

/// Checks of printed letters' codes one address may make a minute.
pub const LETTER_CHECKS_PER_ADDRESS: u32 = 10;

/// Checks of printed letters' codes everyone together may make a minute.
pub const LETTER_CHECKS_IN_ALL: u32 = 600;

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let signer = tokio::spawn(log_store::checkpoint_loop(state.clone()));
    let mailer = match mail::Mailer::from_config(&state.config) {
        Ok(Some(mailer)) => Some(tokio::spawn(mail::outbox::run(state.clone(), mailer))),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "e-mail is not working");
            None
        }
    };
    let app = routes::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    signer.abort();
    if let Some(m) = mailer {
        m.abort();
    }
    result
}

/// 256 random bits as hex, for challenges, tokens and ids.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

//! Server configuration, in layers: defaults that let the server start with no set-up at all,
//! then a TOML file if one is given, then the command line and environment (read by clap).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the server can be told.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on (`FERRY_LISTEN`).
    pub listen: String,
    /// A directory holding the database, key and attachments (`FERRY_DATA_DIR`): sets the
    /// defaults of the three settings below to `DIR/ferry.db`, `DIR/ferry-server.key` and
    /// `DIR/blobs`.
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` (`FERRY_DATABASE_URL`).
    pub database_url: String,
    /// The server's own key file (`FERRY_SERVER_KEY`).
    pub server_key: PathBuf,
    /// Where encrypted attachments are stored (`FERRY_BLOB_DIR`).
    pub blob_dir: PathBuf,
    /// Largest encrypted attachment accepted, in bytes (`FERRY_MAX_ATTACHMENT_BYTES`).
    pub max_attachment_bytes: u64,
    /// Largest JSON request body, in bytes (`FERRY_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Lifetime of a session token in seconds (`FERRY_SESSION_SECONDS`).
    pub session_seconds: i64,
    /// Lifetime of the bootstrap coordinator invitation in seconds.
    pub bootstrap_invitation_seconds: i64,
    /// The log's origin line in checkpoints and key name in their signatures
    /// (`FERRY_LOG_ORIGIN`; default `ferry/<server account id>`).
    pub log_origin: String,
    /// The address people use to reach this server, for invitation e-mails
    /// (`FERRY_PUBLIC_URL`; default `http://<listen>`).
    pub public_url: Option<String>,
    /// SMTP server for e-mail (`FERRY_SMTP_URL`): `smtp://host:port` (add `?tls=required` for
    /// STARTTLS) or `smtps://user:password@host`. Without it no e-mail is sent.
    pub smtp_url: Option<String>,
    /// Sender of e-mails (`FERRY_MAIL_FROM`).
    pub mail_from: String,
    /// How often the outbox worker looks for mail to send, in milliseconds.
    pub mail_poll_ms: u64,
    /// How long a worker's claim on a mail lasts before another worker may take it over (the
    /// first worker having died), in seconds.
    pub mail_claim_seconds: i64,
    /// First retry delay after a failed send, in seconds; it doubles with every attempt.
    pub mail_retry_seconds: i64,
    /// Attempts before a mail is marked failed (and shown in `ferry admin outbox`).
    pub mail_max_attempts: i64,
    /// Interval of the digest for people who chose daily notifications, in seconds.
    pub digest_seconds: i64,
    /// Whether a case becomes active only once a facilitator has checked every participant's
    /// key (their safety number, read out at a preparation meeting) (`FERRY_REQUIRE_KEY_CHECKS`).
    pub require_key_checks: bool,
    /// The service's name, as printed at the head of letters for people on paper
    /// (`FERRY_SERVICE_NAME`).
    pub service_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: None,
            database_url: "sqlite://ferry.db".into(),
            server_key: "ferry-server.key".into(),
            blob_dir: "ferry-blobs".into(),
            max_attachment_bytes: 4 << 30,
            max_body_bytes: 4 << 20,
            session_seconds: 15 * 60,
            bootstrap_invitation_seconds: 7 * 24 * 3600,
            log_origin: String::new(),
            public_url: None,
            smtp_url: None,
            mail_from: "Ferry <ferry@localhost>".into(),
            mail_poll_ms: 1000,
            mail_claim_seconds: 120,
            mail_retry_seconds: 30,
            mail_max_attempts: 8,
            digest_seconds: 24 * 3600,
            require_key_checks: true,
            service_name: "Restorative justice service".into(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("server_key", &self.server_key)
            .field("blob_dir", &self.blob_dir)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .finish_non_exhaustive()
    }
}

/// The settings that can be given on the command line or in the environment (`FERRY_…`),
/// each overriding the configuration file, which overrides the defaults. Clap reads and checks
/// them, and lists them in `ferry-server --help`.
#[derive(clap::Args, Default, Debug)]
#[command(next_help_heading = "Settings (each overrides the --config file)")]
pub struct Overrides {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(
        long,
        env = "FERRY_LISTEN",
        value_name = "ADDR",
        global = true,
        hide_env_values = true
    )]
    pub listen: Option<String>,
    /// Keep the database, server key and attachments in this directory [default: the current
    /// directory]
    #[arg(
        long,
        env = "FERRY_DATA_DIR",
        value_name = "DIR",
        global = true,
        hide_env_values = true
    )]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: sqlite://ferry.db]
    #[arg(
        long,
        env = "FERRY_DATABASE_URL",
        value_name = "URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The server's key file, kept 0600 [default: ferry-server.key]
    #[arg(
        long,
        env = "FERRY_SERVER_KEY",
        value_name = "FILE",
        global = true,
        hide_env_values = true
    )]
    pub server_key: Option<PathBuf>,
    /// Where encrypted attachments are kept [default: ferry-blobs]
    #[arg(
        long,
        env = "FERRY_BLOB_DIR",
        value_name = "DIR",
        global = true,
        hide_env_values = true
    )]
    pub blob_dir: Option<PathBuf>,
    /// Largest encrypted attachment accepted [default: 4294967296]
    #[arg(
        long,
        env = "FERRY_MAX_ATTACHMENT_BYTES",
        value_name = "BYTES",
        global = true,
        hide_env_values = true
    )]
    pub max_attachment_bytes: Option<u64>,
    /// Largest JSON request body [default: 4194304]
    #[arg(
        long,
        env = "FERRY_MAX_BODY_BYTES",
        value_name = "BYTES",
        global = true,
        hide_env_values = true
    )]
    pub max_body_bytes: Option<usize>,
    /// Lifetime of a session token [default: 900]
    #[arg(
        long,
        env = "FERRY_SESSION_SECONDS",
        value_name = "SECONDS",
        global = true,
        hide_env_values = true
    )]
    pub session_seconds: Option<i64>,
    /// The log's name in its checkpoints [default: ferry/<server account id>]
    #[arg(
        long,
        env = "FERRY_LOG_ORIGIN",
        value_name = "NAME",
        global = true,
        hide_env_values = true
    )]
    pub log_origin: Option<String>,
    /// The address people reach this server at, for e-mails and join links [default:
    /// http://<listen>]
    #[arg(
        long,
        env = "FERRY_PUBLIC_URL",
        value_name = "URL",
        global = true,
        hide_env_values = true
    )]
    pub public_url: Option<String>,
    /// smtp://host:port[?tls=required] or smtps://user:password@host; without it no e-mail is
    /// sent and codes are handed over in person
    #[arg(
        long,
        env = "FERRY_SMTP_URL",
        value_name = "URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender of e-mails [default: Ferry <ferry@localhost>]
    #[arg(
        long,
        env = "FERRY_MAIL_FROM",
        value_name = "ADDRESS",
        global = true,
        hide_env_values = true
    )]
    pub mail_from: Option<String>,
    /// First retry delay after a failed send, doubling each time [default: 30]
    #[arg(
        long,
        env = "FERRY_MAIL_RETRY_SECONDS",
        value_name = "SECONDS",
        global = true,
        hide_env_values = true
    )]
    pub mail_retry_seconds: Option<i64>,
    /// Attempts before a mail is marked failed [default: 8]
    #[arg(
        long,
        env = "FERRY_MAIL_MAX_ATTEMPTS",
        value_name = "N",
        global = true,
        hide_env_values = true
    )]
    pub mail_max_attempts: Option<i64>,
    /// Whether a case becomes active only once every participant's key was checked
    /// [default: true]
    #[arg(long, env = "FERRY_REQUIRE_KEY_CHECKS", value_name = "BOOL", global = true, hide_env_values = true,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub require_key_checks: Option<bool>,
    /// The service's name, printed at the head of letters for people on paper [default:
    /// Restorative justice service]
    #[arg(
        long,
        env = "FERRY_SERVICE_NAME",
        value_name = "NAME",
        global = true,
        hide_env_values = true
    )]
    pub service_name: Option<String>,
}

impl Overrides {
    /// Sets each setting given.
    fn apply(self, c: &mut Config) {
        fn set<T>(field: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *field = v;
            }
        }
        set(&mut c.listen, self.listen);
        set(&mut c.data_dir, self.data_dir.map(Some));
        set(&mut c.database_url, self.database_url);
        set(&mut c.server_key, self.server_key);
        set(&mut c.blob_dir, self.blob_dir);
        set(&mut c.max_attachment_bytes, self.max_attachment_bytes);
        set(&mut c.max_body_bytes, self.max_body_bytes);
        set(&mut c.session_seconds, self.session_seconds);
        set(&mut c.log_origin, self.log_origin);
        set(&mut c.public_url, self.public_url.map(Some));
        // An empty address turns e-mail off, whatever the file says.
        set(
            &mut c.smtp_url,
            self.smtp_url.map(|v| Some(v).filter(|v| !v.is_empty())),
        );
        set(&mut c.mail_from, self.mail_from);
        set(&mut c.mail_retry_seconds, self.mail_retry_seconds);
        set(&mut c.mail_max_attempts, self.mail_max_attempts);
        set(&mut c.require_key_checks, self.require_key_checks);
        set(&mut c.service_name, self.service_name);
    }
}

impl Config {
    /// Defaults, then the TOML file if given, then `overrides` (the command line and the
    /// environment).
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("{} is not valid configuration: {e}", path.display())
                })?
            }
            None => Config::default(),
        };
        overrides.apply(&mut config);
        config.apply_data_dir();
        Ok(config)
    }

    /// Rebases the database, key and attachment paths that were left at their defaults
    /// into `data_dir`, if one is set.
    pub fn apply_data_dir(&mut self) {
        let Some(dir) = self.data_dir.clone() else {
            return;
        };
        let defaults = Config::default();
        if self.database_url == defaults.database_url {
            self.database_url = format!("sqlite://{}", dir.join("ferry.db").display());
        }
        if self.server_key == defaults.server_key {
            self.server_key = dir.join("ferry-server.key");
        }
        if self.blob_dir == defaults.blob_dir {
            self.blob_dir = dir.join("blobs");
        }
    }

    /// The address people use to reach this server: `FERRY_PUBLIC_URL`, or else `http://`
    /// and the listening address.
    pub fn public_address(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

/// A database URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, Overrides, redact_url};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Overrides,
    }

    #[test]
    fn the_command_line_overrides_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ferry.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 1000\nsmtp_url = \"smtp://h:25\"\n",
        )
        .unwrap();
        let cli =
            Cli::try_parse_from(["ferry-server", "--listen", "127.0.0.1:7", "--smtp-url", ""])
                .unwrap();
        let config = Config::load(Some(&file), cli.settings).unwrap();
        assert_eq!(config.listen, "127.0.0.1:7");
        assert_eq!(config.max_body_bytes, 1000);
        assert_eq!(config.smtp_url, None, "an empty address turns e-mail off");
        assert_eq!(config.session_seconds, Config::default().session_seconds);

        std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load(Some(&file), Overrides::default()).unwrap_err();
        assert!(
            err.to_string().contains("is not valid configuration"),
            "{err}"
        );
        let bad = Cli::try_parse_from(["ferry-server", "--require-key-checks", "perhaps"]);
        assert!(bad.is_err());
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact_url("postgres://ferry:s3cret@db:5432/ferry"),
            "postgres://ferry:***@db:5432/ferry"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite://ferry.db"), "sqlite://ferry.db");
        let config = super::Config {
            database_url: "postgres://u:hunter2@h/d".into(),
            ..Default::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}

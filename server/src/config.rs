//! Server configuration: environment variables, optionally a TOML file, defaults that let the
//! server start with no set-up at all.

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

/// The environment variables the server reads, with what each sets.
pub const ENV_HELP: &str = "\
Configuration (environment variables override the --config TOML file, which overrides defaults):
  FERRY_LISTEN                address to listen on              [default: 127.0.0.1:8080]
  FERRY_DATA_DIR              keep database, key and blobs here [default: the current directory]
  FERRY_DATABASE_URL          sqlite://PATH or postgres://...   [default: sqlite://ferry.db]
  FERRY_SERVER_KEY            the server's key file (0600)      [default: ferry-server.key]
  FERRY_BLOB_DIR              encrypted attachments directory   [default: ferry-blobs]
  FERRY_MAX_ATTACHMENT_BYTES  largest attachment accepted       [default: 4294967296]
  FERRY_MAX_BODY_BYTES        largest JSON request body         [default: 4194304]
  FERRY_SESSION_SECONDS       session token lifetime            [default: 900]
  FERRY_LOG_ORIGIN            the log's name in its checkpoints [default: ferry/<server id>]
  FERRY_PUBLIC_URL            this server's address, for e-mails [default: http://<listen>]
  FERRY_SMTP_URL              smtp://host:port[?tls=required] or smtps://user:pass@host
                              (no e-mail without it; codes are then handed over in person)
  FERRY_MAIL_FROM             sender of e-mails                 [default: Ferry <ferry@localhost>]
  FERRY_MAIL_RETRY_SECONDS    first retry delay, doubling       [default: 30]
  FERRY_MAIL_MAX_ATTEMPTS     attempts before a mail is failed  [default: 8]
  FERRY_REQUIRE_KEY_CHECKS    a case is active only once every  [default: true]
                              participant's key was checked
  FERRY_LOG                   log filter, e.g. info or debug    [default: info]
TOML keys are the same names in lower case without the FERRY_ prefix.";

impl Config {
    /// Defaults, then the TOML file if given, then environment variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
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
        config.apply_env(|name| std::env::var(name).ok())?;
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

    /// Overrides fields from environment variables (through `get`, for tests).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn num<T: std::str::FromStr>(name: &str, value: String) -> anyhow::Result<T> {
            value
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be a number, not {value:?}"))
        }
        if let Some(v) = get("FERRY_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("FERRY_DATA_DIR") {
            self.data_dir = Some(v.into());
        }
        if let Some(v) = get("FERRY_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("FERRY_SERVER_KEY") {
            self.server_key = v.into();
        }
        if let Some(v) = get("FERRY_BLOB_DIR") {
            self.blob_dir = v.into();
        }
        if let Some(v) = get("FERRY_MAX_ATTACHMENT_BYTES") {
            self.max_attachment_bytes = num("FERRY_MAX_ATTACHMENT_BYTES", v)?;
        }
        if let Some(v) = get("FERRY_MAX_BODY_BYTES") {
            self.max_body_bytes = num("FERRY_MAX_BODY_BYTES", v)?;
        }
        if let Some(v) = get("FERRY_LOG_ORIGIN") {
            self.log_origin = v;
        }
        if let Some(v) = get("FERRY_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("FERRY_SMTP_URL") {
            self.smtp_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("FERRY_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = get("FERRY_MAIL_RETRY_SECONDS") {
            self.mail_retry_seconds = num("FERRY_MAIL_RETRY_SECONDS", v)?;
        }
        if let Some(v) = get("FERRY_MAIL_MAX_ATTEMPTS") {
            self.mail_max_attempts = num("FERRY_MAIL_MAX_ATTEMPTS", v)?;
        }
        if let Some(v) = get("FERRY_REQUIRE_KEY_CHECKS") {
            self.require_key_checks = match v.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => anyhow::bail!("FERRY_REQUIRE_KEY_CHECKS must be true or false, not {v:?}"),
            };
        }
        if let Some(v) = get("FERRY_SESSION_SECONDS") {
            self.session_seconds = num("FERRY_SESSION_SECONDS", v)?;
        }
        Ok(())
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
    use super::redact_url;

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

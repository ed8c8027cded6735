//! `ferry notifications` (everyone) and `ferry admin outbox` (coordinators).

use anyhow::Result;
use clap::Subcommand;
use ferry_protocol::{Me, NotificationsRequest, OutboxEntry};

use crate::account::Account;
use crate::env::Env;
use crate::output::{Out, time};

/// `ferry notifications [immediate|daily|none] [--email ADDR]`
#[derive(clap::Args)]
pub struct Notifications {
    /// immediate (an e-mail each time), daily (one digest a day) or none; shows the current
    /// setting if omitted.
    #[arg(value_parser = ["immediate", "daily", "none"])]
    preference: Option<String>,
    /// The address to notify.
    #[arg(long)]
    email: Option<String>,
}

impl Notifications {
    /// Shows or changes how the caller is told that something is waiting.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let me: Me = match (self.preference, self.email) {
            (None, None) => account.me()?,
            (preference, email) => {
                let preference = preference.unwrap_or_else(|| "immediate".into());
                account.client.put(
                    "/v1/me/notifications",
                    &NotificationsRequest { preference, email },
                )?
            }
        };
        out.json(&serde_json::json!({"notifications": me.notifications, "email": me.email}))?;
        let how = match me.notifications.as_str() {
            "immediate" => "an e-mail each time something is waiting",
            "daily" => "one e-mail a day at most, when something is waiting",
            _ => "no e-mail",
        };
        out.line(format!(
            "Notifications: {how}{}. E-mails never contain messages or names.",
            me.email.map(|e| format!(", to {e}")).unwrap_or_default()
        ))
    }
}

/// `ferry admin …`
#[derive(Subcommand)]
pub enum AdminCmd {
    /// The e-mail outbox: what was sent, what waits for a retry, what failed.
    Outbox {
        /// Only pending, sending, sent or failed mails.
        #[arg(long)]
        state: Option<String>,
    },
}

impl AdminCmd {
    /// Runs the admin command.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let AdminCmd::Outbox { state } = self;
        let account = Account::open(env, profile)?;
        let path = match &state {
            Some(s) => format!("/v1/admin/outbox?state={s}"),
            None => "/v1/admin/outbox".to_owned(),
        };
        let mails: Vec<OutboxEntry> = account.client.get(&path)?;
        let rows = mails
            .iter()
            .map(|m| {
                vec![
                    m.id.chars().take(12).collect(),
                    m.kind.clone(),
                    m.case_id.clone().unwrap_or_default(),
                    m.to.clone(),
                    m.state.clone(),
                    m.attempts.to_string(),
                    time(m.created_at),
                    m.last_error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        out.table(
            &mails,
            &[
                "mail",
                "kind",
                "case",
                "to",
                "state",
                "tries",
                "queued",
                "last error",
            ],
            rows,
        )
    }
}

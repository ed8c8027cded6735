//! `ferry notifications` (everyone) and `ferry admin outbox` (coordinators).

use anyhow::Result;
use clap::Subcommand;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use ferry_protocol::{Me, Notifications as Preference, NotificationsRequest, OutboxEntry};

use crate::account::Account;
use crate::env::Env;
use crate::output::{Out, time};

/// `ferry notifications [immediate|daily|none] [--email ADDR]`
#[derive(clap::Args)]
pub struct Notifications {
    /// immediate (an e-mail each time), daily (one digest a day) or none; shows the current
    /// setting if omitted.
    #[arg(value_parser = preference_choices())]
    preference: Option<Preference>,
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
                let preference = preference.unwrap_or(Preference::Immediate);
                let request = NotificationsRequest {
                    preference: preference.to_string(),
                    email,
                };
                account.client.put("/v1/me/notifications", &request)?
            }
        };
        out.json(&serde_json::json!({"notifications": me.notifications, "email": me.email}))?;
        let how = match me.notifications {
            Preference::Immediate => "an e-mail each time something is waiting",
            Preference::Daily => "one e-mail a day at most, when something is waiting",
            Preference::None => "no e-mail",
        };
        out.line(format!(
            "Notifications: {how}{}. E-mails never contain messages or names.",
            me.email.map(|e| format!(", to {e}")).unwrap_or_default()
        ))
    }
}

/// The notification preferences, as the command line takes them.
fn preference_choices() -> impl TypedValueParser<Value = Preference> {
    PossibleValuesParser::new(Preference::ALL.iter().map(|p| p.as_str()))
        .try_map(|p| p.parse::<Preference>())
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
                    m.kind.to_string(),
                    m.case_id.clone().unwrap_or_default(),
                    m.to.clone(),
                    m.state.to_string(),
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

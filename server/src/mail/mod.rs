//! E-mail: invitations and content-free notifications, through a durable outbox. A mail row
//! is written in the same transaction as the event that causes it; a background worker (safe
//! on several replicas at once) sends it with retries and back-off; a stable Message-ID per
//! row lets receiving servers drop the rare duplicate after a crash between send and record.

pub mod outbox;
mod templates;

use std::str::FromStr;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// What a mail is about.
pub use ferry_protocol::MailKind as Kind;

/// Checks an e-mail address.
pub fn valid_address(address: &str) -> bool {
    address.len() <= 254 && lettre::Address::from_str(address).is_ok()
}

/// Sends outbox rows over SMTP.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
}

impl Mailer {
    /// A mailer for `FERRY_SMTP_URL`, or `None` when e-mail is not configured.
    pub fn from_config(config: &crate::Config) -> anyhow::Result<Option<Self>> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("FERRY_SMTP_URL is not usable: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("FERRY_MAIL_FROM is not an address: {e}"))?;
        let domain = from.email.domain().to_owned();
        Ok(Some(Self {
            transport,
            from,
            domain,
        }))
    }

    /// Sends one mail. The error says why, without the mail's text.
    pub async fn send(&self, mail: &outbox::Mail) -> Result<(), String> {
        let to: Mailbox = mail
            .email
            .parse()
            .map_err(|_| "invalid recipient address".to_owned())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{}>", mail.id, self.domain)))
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| format!("could not build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

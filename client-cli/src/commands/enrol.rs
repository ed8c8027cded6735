//! `ferry enrol` and `ferry whoami`.

use anyhow::{Context, Result, bail};
use ferry_crypto::actions::{
    Enrolment, InvitationCode, InvitationCodeError, invitation_hash, parse_key_code,
};
use ferry_crypto::keystore::{Keystore, MAX_WORK_FACTOR};
use ferry_crypto::{FORMAT_VERSION, Identity, KeyCard};
use ferry_protocol::{EnrolRequest, EnrolResponse, ServerInfo};

use crate::account::Account;
use crate::client::{Client, now};
use crate::env::Env;
use crate::output::Out;
use crate::store::{self, Profile, Profiles};

/// `ferry enrol <server> <code> --name NAME`, or `ferry enrol <invitation link>`
#[derive(clap::Args)]
pub struct Cmd {
    /// The server's address, e.g. https://ferry.example.org (or the whole invitation link,
    /// https://ferry.example.org/join#CODE).
    server: String,
    /// The invitation code you were given: ten groups of five letters and digits.
    code: Option<String>,
    /// Your name as others in the case will see it.
    #[arg(long)]
    name: Option<String>,
}

/// The server address and the invitation, from the two arguments or from one link.
fn invitation(server: &str, code: Option<&str>) -> Result<(String, InvitationCode)> {
    let (server, code) = match (code, server.split_once('#')) {
        (Some(code), _) => (server.to_owned(), code.to_owned()),
        (None, Some((link, code))) => (
            link.trim_end_matches('/')
                .trim_end_matches("/join")
                .to_owned(),
            code.to_owned(),
        ),
        (None, None) => bail!(
            "give the server's address and your invitation code: ferry enrol ADDRESS CODE --name \"Your Name\""
        ),
    };
    let code = InvitationCode::parse(&code).map_err(|e| match e {
        InvitationCodeError::NoServerKey => anyhow::anyhow!(
            "this code is missing its last four groups, which check that you are talking to the \
             right server. Ask the person who invited you for the whole code (ten groups). \
             Nothing was sent."
        ),
        InvitationCodeError::Malformed => anyhow::anyhow!(
            "that is not a Ferry invitation code: it should be ten groups of five letters and \
             digits, like ABCDE-FGHJK-... Check it and try again. Nothing was sent."
        ),
    })?;
    Ok((server, code))
}

impl Cmd {
    /// Generates keys (or reuses this profile's), registers the key card with the code, once
    /// the server's key is the one the invitation names.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let (server, invitation) = invitation(&self.server, self.code.as_deref())?;
        let mut client = Client::new(&server)?;
        let info: ServerInfo = client.get("/v1/server")?;
        let server_card =
            KeyCard::verify(info.key_card).context("the server's key card does not verify")?;
        let server_key = server_card.fingerprint().key_code();
        if server_key != invitation.server_key {
            bail!(
                "SECURITY WARNING: the server at {server} is not the one your invitation is for. \
                 Its key fingerprint is {server_key}; your invitation says {}. Nothing was sent. \
                 Check the address with the person who invited you.",
                invitation.server_key
            );
        }
        let mut profiles = Profiles::load(env)?;
        let name = profiles.name_for(profile.or(env.profile.as_deref()));
        let mut keystore = store::open_keystore(env)?;
        let reuse = profiles.profiles.get(&name).cloned();
        let identity = match &reuse {
            Some(p) => {
                if p.server != client.base() {
                    bail!(
                        "profile {name:?} is for another server ({}); choose another with --profile",
                        p.server
                    );
                }
                store::identity(&mut keystore, &name)?
            }
            None => {
                let display = self.name.as_deref().context(
                    "give your name with --name (it is what others in the case will see)",
                )?;
                Identity::generate(display)?
            }
        };
        let card = identity.key_card(now())?;
        let enrolment = identity.sign(&Enrolment {
            v: FORMAT_VERSION,
            account_id: identity.account_id().clone(),
            invitation: invitation_hash(&invitation.code),
            created_at: now(),
        })?;
        let resp: EnrolResponse = client.post(
            "/v1/enrol",
            &EnrolRequest {
                code: invitation.code.clone(),
                key_card: card.statement().clone(),
                enrolment,
            },
        )?;
        let safety = card.fingerprint().safety_number();
        keystore.insert(&name, identity)?;
        store::save_keystore(env, &keystore)?;
        let kept = Profile::new(client.base(), resp.account_id.clone(), &server_card);
        profiles.keep(env, &name, kept)?;
        // Check the new session works before saying so.
        let mut keystore = store::open_keystore(env)?;
        client.login(&store::identity(&mut keystore, &name)?)?;
        let profile = profiles
            .profiles
            .get(&name)
            .cloned()
            .context("the profile was not saved")?;
        crate::pin::sync(env, &name, &profile, &client)?;
        out.json(&serde_json::json!({
            "profile": name, "account_id": resp.account_id, "role": resp.role,
            "case_id": resp.case_id, "safety_number": safety,
        }))?;
        let place = match &resp.case_id {
            Some(c) => format!(" in case {c}"),
            None => String::new(),
        };
        out.line(format!(
            "Enrolled as {}{place}. Profile: {name}.",
            resp.role.a_person()
        ))?;
        out.line(format!(
            "The server's key fingerprint {server_key} matches your invitation."
        ))?;
        out.line(format!("Your safety number: {safety}"))?;
        if resp.case_id.is_some() {
            out.line(
                "In your preparation meeting your facilitator will ask you to read it aloud.",
            )?;
        }
        Ok(())
    }
}

/// `ferry import-keys FILE SERVER --server-key CODE`
#[derive(clap::Args)]
pub struct ImportKeys {
    /// The saved copy of your keys (`ferry-keys.age` from the web page).
    file: std::path::PathBuf,
    /// The server's address, e.g. https://ferry.example.org.
    server: String,
    /// The last four groups of your invitation code: they check that this is your server.
    #[arg(long, value_name = "CODE")]
    server_key: String,
}

impl ImportKeys {
    /// Opens the saved keys with their passphrase (FERRY_IMPORT_PASSPHRASE, or asked for),
    /// checks the server's key against the invitation's last four groups, logs in, and keeps
    /// the keys in this machine's keystore as a new profile.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        let passphrase = match std::env::var("FERRY_IMPORT_PASSPHRASE") {
            Ok(p) => ferry_crypto::SecretString::from(p),
            Err(_) if env.can_ask() => ferry_crypto::SecretString::from(
                rpassword::prompt_password("Passphrase of the saved keys: ")?,
            ),
            Err(_) => bail!(
                "the saved keys' passphrase is needed: set FERRY_IMPORT_PASSPHRASE or run ferry in a terminal"
            ),
        };
        let mut saved = Keystore::read_encrypted(&bytes[..], &passphrase, MAX_WORK_FACTOR)
            .map_err(|e| anyhow::anyhow!("cannot open the saved keys: {e}"))?;
        let label = saved
            .list()
            .next()
            .map(|(label, _)| label.to_owned())
            .context("the saved keys hold no identity")?;
        let identity = store::identity(&mut saved, &label)?;
        let mut client = Client::new(&self.server)?;
        let info: ServerInfo = client.get("/v1/server")?;
        let server_card =
            KeyCard::verify(info.key_card).context("the server's key card does not verify")?;
        let server_key = server_card.fingerprint().key_code();
        let given = parse_key_code(&self.server_key).context(
            "--server-key is the last four groups of your invitation, like ABCDE-FGHJK-MNPQR-STVWX",
        )?;
        if server_key != given {
            bail!(
                "SECURITY WARNING: the server at {} is not the one your invitation is for. Its key \
                 fingerprint is {server_key}; you gave {given}. Nothing was kept.",
                self.server
            );
        }
        client
            .login(&identity)
            .context("this server does not know these keys; nothing was kept")?;
        let mut profiles = Profiles::load(env)?;
        let name = profiles.name_for(profile.or(env.profile.as_deref()));
        if profiles.profiles.contains_key(&name) {
            bail!("there is already a profile called {name:?}; choose another with --profile");
        }
        let account_id = identity.account_id().to_string();
        let mut keystore = store::open_keystore(env)?;
        keystore.insert(&name, identity)?;
        store::save_keystore(env, &keystore)?;
        let profile = Profile::new(client.base(), account_id.clone(), &server_card);
        profiles.keep(env, &name, profile.clone())?;
        crate::pin::sync(env, &name, &profile, &client)?;
        out.json(&serde_json::json!({"profile": name, "account_id": account_id}))?;
        out.line(format!(
            "Your keys are kept on this machine as profile {name}. The server's key fingerprint \
             {server_key} matches your invitation."
        ))?;
        Ok(())
    }
}

/// `ferry whoami`
#[derive(clap::Args)]
pub struct Whoami {}

impl Whoami {
    /// Shows the account, roles and safety number.
    pub fn run(self, env: &Env, profile: Option<&str>, out: &mut Out<'_>) -> Result<()> {
        let account = Account::open(env, profile)?;
        let me = account.me()?;
        let safety = account
            .identity
            .key_card(now())?
            .fingerprint()
            .safety_number();
        out.json(&serde_json::json!({"me": me, "safety_number": safety, "server": account.profile.server}))?;
        out.line(format!("{} ({})", me.display_name, me.account_id))?;
        out.line(format!("server         {}", account.profile.server))?;
        out.line(format!(
            "server key     {} (the server key fingerprint)",
            crate::pin::server_card(&account.profile)?
                .fingerprint()
                .key_code()
        ))?;
        if let Some(role) = &me.staff_role {
            out.line(format!("role           {role}"))?;
        }
        if !me.accreditations.is_empty() {
            out.line(format!("accreditations {}", me.accreditations.join(", ")))?;
        }
        for m in &me.cases {
            out.line(format!(
                "case           {} as {}",
                m.case_id,
                m.role.a_person()
            ))?;
        }
        out.line(format!("safety number  {safety}"))?;
        Ok(())
    }
}

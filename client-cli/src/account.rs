//! A logged-in person: their profile, identity from the keystore, and a client with a session.

use anyhow::{Context, Result, bail};
use ferry_crypto::{Id, Identity, KeyCard, SignedStatement, Statement};
use ferry_protocol::{Accepted, Me, StatementRequest};

use crate::client::Client;
use crate::env::Env;
use crate::store::{self, Profile, Profiles};

/// A person logged in to their server.
pub struct Account {
    /// Profile name.
    pub profile_name: String,
    /// Profile.
    pub profile: Profile,
    /// Their keys.
    pub identity: Identity,
    /// Logged-in client.
    pub client: Client,
    /// The checkpoint verified (and remembered) when logging in.
    pub pinned: crate::pin::Pinned,
}

impl Account {
    /// Opens the selected profile's keys and logs in.
    pub fn open(env: &Env, profile: Option<&str>) -> Result<Self> {
        let profiles = Profiles::load(env)?;
        let (profile_name, profile) = profiles.select(profile.or(env.profile.as_deref()))?;
        let mut keystore = store::open_keystore(env)?;
        let identity = store::identity(&mut keystore, &profile_name)?;
        let mut client = Client::new(env.server.as_deref().unwrap_or(&profile.server))?;
        client
            .login(&identity)
            .context("could not log in to the server")?;
        let pinned = crate::pin::sync(env, &profile_name, &profile, &client)?;
        Ok(Self {
            pinned,
            profile_name,
            profile,
            identity,
            client,
        })
    }

    /// The caller's account as the server sees it.
    pub fn me(&self) -> Result<Me> {
        self.client.me()
    }

    /// The next sequence number to sign with.
    pub fn next_seq(&self) -> Result<u64> {
        Ok(self.me()?.next_seq)
    }

    /// Signs `body` and posts it to `path` as a [`StatementRequest`].
    pub fn post_signed<T: Statement>(&self, path: &str, body: &T) -> Result<Accepted> {
        let statement = self.identity.sign(body)?;
        self.client.post(path, &StatementRequest { statement })
    }

    /// Signs `body`.
    pub fn sign<T: Statement>(&self, body: &T) -> Result<SignedStatement> {
        Ok(self.identity.sign(body)?)
    }

    /// The case to act in: the one given, or the caller's only case.
    pub fn case(&self, given: Option<&str>) -> Result<Id> {
        if let Some(c) = given {
            return Id::try_from(c).map_err(|e| anyhow::anyhow!("{c:?} is not a case id: {e}"));
        }
        let me = self.me()?;
        match me.cases.as_slice() {
            [one] => Ok(Id::try_from(one.case_id.as_str())?),
            [] => bail!("you are not in any case yet"),
            _ => bail!("you are in several cases: say which with --case"),
        }
    }

    /// A verified key card, with the account id it must belong to checked.
    pub fn card(&self, account: &str) -> Result<KeyCard> {
        let card = self.client.key_card(account)?;
        anyhow::ensure!(
            card.account_id().as_str() == account,
            "the server sent the key card of another account"
        );
        Ok(card)
    }
}

//! The HTTP client: JSON requests, the API's error format turned into plain sentences,
//! automatic login by signing the server's challenge, and streaming transfers.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use ferry_crypto::actions::Session;
use ferry_crypto::{FORMAT_VERSION, Identity, KeyCard, SignedStatement};
use ferry_protocol::{Challenge, ErrorBody, ErrorCode, Me, SessionRequest, SessionToken};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest JSON response read.
const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// An error the server answered with.
#[derive(Debug)]
pub struct ApiFailure {
    /// HTTP status.
    pub status: u16,
    /// The stable code.
    pub code: String,
    /// The server's sentence.
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiFailure {}

/// A connection to one server, logged in or not.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    ferry_protocol::now()
}

impl Client {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("the server address must start with http:// or https://");
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .build()
            .into();
        Ok(Self {
            base,
            agent,
            token: None,
        })
    }

    /// The same session at another address of the same service (another replica).
    pub fn at(&self, base: &str) -> Result<Self> {
        let mut other = Client::new(base)?;
        other.token = self.token.clone();
        Ok(other)
    }

    /// The session's bearer token, once logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Logs in as `identity` by signing a fresh challenge.
    pub fn login(&mut self, identity: &Identity) -> Result<()> {
        let challenge: Challenge = self.post("/v1/session/challenge", &serde_json::json!({}))?;
        let statement = identity.sign(&Session {
            v: FORMAT_VERSION,
            account_id: identity.account_id().clone(),
            challenge: challenge.challenge,
            created_at: now(),
        })?;
        let token: SessionToken = self.post("/v1/session", &SessionRequest { statement })?;
        self.token = Some(token.token);
        Ok(())
    }

    /// The caller's account (and next sequence number).
    pub fn me(&self) -> Result<Me> {
        self.get("/v1/me")
    }

    /// A verified key card of another person.
    pub fn key_card(&self, account: &str) -> Result<KeyCard> {
        let r: ferry_protocol::KeyCardResponse =
            self.get(&format!("/v1/accounts/{account}/key-card"))?;
        KeyCard::verify(r.key_card).context("the server sent a key card that does not verify")
    }

    /// GET a JSON resource.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.read(self.fetch(path, "application/json")?)
    }

    /// POST JSON, read JSON.
    pub fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let req = self.authed(self.agent.post(format!("{}{path}", self.base)));
        self.read(req.send_json(body).map_err(|e| self.unreachable(e))?)
    }

    /// PUT JSON, read JSON.
    pub fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let req = self.authed(self.agent.put(format!("{}{path}", self.base)));
        self.read(req.send_json(body).map_err(|e| self.unreachable(e))?)
    }

    /// PUT a stream (an encrypted attachment).
    pub fn put_stream<T: DeserializeOwned>(&self, path: &str, body: &mut dyn Read) -> Result<T> {
        let req = self.authed(
            self.agent
                .put(format!("{}{path}", self.base))
                .header("Content-Type", "application/octet-stream"),
        );
        let resp = req
            .send(ureq::SendBody::from_reader(body))
            .map_err(|e| self.unreachable(e))?;
        self.read(resp)
    }

    /// GET a resource in the media type `accept`, whole: its type as the server labelled it,
    /// and its bytes.
    pub fn get_bytes(&self, path: &str, accept: &str) -> Result<(String, Vec<u8>)> {
        let resp = self.fetch(path, accept)?;
        let kind = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((kind, whole(resp)?))
    }

    /// GET a stream (an encrypted attachment) and its length, if the server said.
    pub fn get_stream(
        &self,
        path: &str,
    ) -> Result<(Box<dyn Read + Send + Sync + 'static>, Option<u64>)> {
        let resp = self.fetch(path, "application/octet-stream")?;
        let len = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        Ok((Box::new(reader), len))
    }

    /// GETs `path` as `accept`; a refusal becomes its API failure.
    fn fetch(&self, path: &str, accept: &str) -> Result<ureq::http::Response<ureq::Body>> {
        let req = self.authed(
            self.agent
                .get(format!("{}{path}", self.base))
                .header("Accept", accept),
        );
        let resp = req.call().map_err(|e| self.unreachable(e))?;
        if !resp.status().is_success() {
            return Err(self.failure(resp));
        }
        Ok(resp)
    }

    /// `req` with this session's bearer token, when logged in.
    fn authed<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", format!("Bearer {t}")),
            None => req,
        }
    }

    fn read<T: DeserializeOwned>(&self, resp: ureq::http::Response<ureq::Body>) -> Result<T> {
        if !resp.status().is_success() {
            return Err(self.failure(resp));
        }
        // Read whole, then parse: parsing straight from the stream reads byte by byte.
        serde_json::from_slice(&whole(resp)?)
            .context("the server's answer was not what Ferry expects")
    }

    fn failure(&self, resp: ureq::http::Response<ureq::Body>) -> anyhow::Error {
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        match body.with_config().limit(1 << 20).read_json::<ErrorBody>() {
            Ok(e) => anyhow!(ApiFailure {
                status,
                code: e.error.code,
                message: e.error.message,
            }),
            Err(_) => anyhow!(ApiFailure {
                status,
                code: ErrorCode::HttpError.as_str().to_owned(),
                message: format!("the server answered with HTTP status {status}"),
            }),
        }
    }

    fn unreachable(&self, err: ureq::Error) -> anyhow::Error {
        anyhow!("cannot reach the Ferry server at {}: {err}", self.base)
    }
}

/// A whole answer's body, up to the size any answer may have.
fn whole(resp: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>> {
    resp.into_body()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .context("the server's answer could not be read")
}

/// The API failure inside an error, if that is what it is.
pub fn api_failure(err: &anyhow::Error) -> Option<&ApiFailure> {
    err.downcast_ref::<ApiFailure>()
}

/// Decodes base64 from the server.
pub fn b64(text: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("the server sent data that is not valid base64")
}

/// Encodes base64 for the server.
pub fn to_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Parses a signed statement received as JSON value.
pub fn statement_from(value: &serde_json::Value) -> Result<SignedStatement> {
    serde_json::from_value(value.clone()).context("the server sent a malformed statement")
}

//! A real SMTP server on loopback for the e-mail tests (mailin, not lettre), recording what
//! it receives. It can refuse chosen recipients, and can be started late on a port reserved
//! earlier (to play a mail server that was down).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use mailin_embedded::{Handler, Response, Server, response};

/// One received mail.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: String,
}

impl Received {
    /// The message with quoted-printable soft breaks and escapes undone, for searching.
    pub fn text(&self) -> String {
        let joined = self.raw.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.raw
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            })
            .map(|l| l[name.len() + 1..].trim().to_owned())
    }
}

/// The distinct Message-IDs among `mails` (as many as `mails` when none was sent twice).
pub fn distinct_ids(mails: &[Received]) -> std::collections::BTreeSet<String> {
    mails
        .iter()
        .map(|m| m.header("Message-ID").expect("a mail without a Message-ID"))
        .collect()
}

#[derive(Clone)]
struct Sink {
    mails: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<Vec<String>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn rcpt(&mut self, to: &str) -> Response {
        if self.refuse.iter().any(|r| to.contains(r.as_str())) {
            return response::NO_MAILBOX;
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.mails.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            raw: String::from_utf8_lossy(&self.data).into_owned(),
        });
        response::OK
    }
}

/// A running SMTP server.
pub struct Smtp {
    pub addr: String,
    mails: Arc<Mutex<Vec<Received>>>,
}

impl Smtp {
    /// Starts one on a fresh loopback port.
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), &[])
    }

    /// Starts one that refuses recipients containing any of `refuse`.
    pub fn refusing(refuse: &[&str]) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), refuse)
    }

    /// A free loopback address where nothing listens yet.
    pub fn reserve() -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    }

    /// Starts one at an address from [`Smtp::reserve`].
    pub fn start_at(addr: &str) -> Self {
        Self::start_on(TcpListener::bind(addr).unwrap(), &[])
    }

    fn start_on(listener: TcpListener, refuse: &[&str]) -> Self {
        let addr = listener.local_addr().unwrap().to_string();
        let mails = Arc::new(Mutex::new(vec![]));
        let sink = Sink {
            mails: mails.clone(),
            refuse: Arc::new(refuse.iter().map(|s| s.to_string()).collect()),
            to: vec![],
            data: vec![],
        };
        let mut server = Server::new(sink);
        server.with_name("smtp.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { addr, mails }
    }

    /// Everything received so far.
    pub fn mails(&self) -> Vec<Received> {
        self.mails.lock().unwrap().clone()
    }

    /// Mails to an address.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.contains(address)))
            .collect()
    }
}

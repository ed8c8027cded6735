//! The test world: a real server on an ephemeral port over a temporary SQLite database, and
//! people, each with their own FERRY_HOME, driving it through the `ferry` client library.

use std::path::{Path, PathBuf};

use ferry_cli::Env;
use ferry_cli::account::Account;
use ferry_crypto::SecretString;
use ferry_server::{AppState, Config};
use serde_json::Value;
use sqlx::Row;

/// A running server.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub state: AppState,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let config = Config {
            database_url: format!("sqlite://{}", dir.path().join("ferry.db").display()),
            server_key: dir.path().join("ferry-server.key"),
            blob_dir: dir.path().join("blobs"),
            ..Config::default()
        };
        let (state, listener) = runtime.block_on(async {
            let state = AppState::open(config).await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            (state, listener)
        });
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(ferry_server::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            url,
            dir,
            state,
            runtime,
            stop: Some(stop),
        }
    }

    /// A one-time code for a coordinator (as `ferry-server init` prints).
    pub fn coordinator_code(&self) -> String {
        self.runtime
            .block_on(ferry_server::init::invite_coordinator(&self.state))
            .unwrap()
    }

    pub fn person(&self, label: &str) -> Person {
        Person {
            env: Env {
                home: self.dir.path().join("people").join(label),
                passphrase: Some(SecretString::from(format!("passphrase of {label}"))),
                work_factor: 10,
                interactive: false,
                color: false,
                editor: None,
                profile: None,
                server: None,
            },
        }
    }

    /// Runs a query returning one integer.
    pub fn scalar(&self, sql: &str) -> i64 {
        self.runtime.block_on(async {
            sqlx::query(sql)
                .fetch_one(&self.state.pool)
                .await
                .unwrap()
                .try_get::<i64, _>(0)
                .unwrap()
        })
    }

    /// Everything that a refused request must leave unchanged.
    pub fn snapshot(&self) -> Vec<(&'static str, i64)> {
        [
            ("accounts", "SELECT COUNT(*) FROM accounts"),
            (
                "sequence numbers",
                "SELECT COALESCE(SUM(last_seq), 0) FROM accounts",
            ),
            ("invitations", "SELECT COUNT(*) FROM invitations"),
            (
                "used invitations",
                "SELECT COUNT(*) FROM invitations WHERE used_at IS NOT NULL",
            ),
            ("cases", "SELECT COUNT(*) FROM cases"),
            ("members", "SELECT COUNT(*) FROM members"),
            ("messages", "SELECT COUNT(*) FROM messages"),
            ("deliveries", "SELECT COUNT(*) FROM deliveries"),
            ("events", "SELECT COUNT(*) FROM events"),
            ("log size", "SELECT size FROM log_head"),
        ]
        .into_iter()
        .map(|(name, sql)| (name, self.scalar(sql)))
        .collect()
    }

    /// A state summary that changes whenever any case, message or delivery changes state.
    pub fn states(&self) -> String {
        self.runtime.block_on(async {
            let mut out = String::new();
            for sql in [
                "SELECT case_id || ':' || state || ':' || COALESCE(risk_outcome, '') FROM cases ORDER BY case_id",
                "SELECT message_id || ':' || state FROM messages ORDER BY message_id",
                "SELECT delivery_id || ':' || state FROM deliveries ORDER BY delivery_id",
                "SELECT case_id || ':' || account_id || ':' || consent FROM members ORDER BY case_id, account_id",
            ] {
                for row in sqlx::query(sql).fetch_all(&self.state.pool).await.unwrap() {
                    out.push_str(&row.try_get::<String, _>(0).unwrap());
                    out.push('\n');
                }
            }
            out
        })
    }

    /// The database files on disk (main file, WAL, shared memory) and every stored blob.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        let mut files = vec![];
        for name in ["ferry.db", "ferry.db-wal", "ferry.db-shm"] {
            let p = self.dir.path().join(name);
            if p.exists() {
                files.push(p);
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.dir.path().join("blobs")) {
            files.extend(entries.map(|e| e.unwrap().path()));
        }
        files
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A person with their own FERRY_HOME.
pub struct Person {
    pub env: Env,
}

impl Person {
    /// Runs `ferry <args>` and returns what it printed.
    pub fn ferry(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut out = Vec::new();
        let mut argv = vec!["ferry"];
        argv.extend_from_slice(args);
        ferry_cli::run_with(&self.env, &argv, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// Runs `ferry <args>`, which must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ferry(args)
            .unwrap_or_else(|e| panic!("ferry {}: {e:#}", args.join(" ")))
    }

    /// Runs `ferry --json <args>`, which must succeed, and parses its answer.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        serde_json::from_str(&self.ok(&full)).unwrap()
    }

    /// This person logged in, for requests the CLI would never make.
    pub fn account(&self) -> Account {
        Account::open(&self.env, None).unwrap()
    }

    /// Writes a file in this person's home and returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        std::fs::create_dir_all(&self.env.home).unwrap();
        let path = self.env.home.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    pub fn account_id(&self) -> String {
        self.json(&["whoami"])["me"]["account_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The API error code inside a client error.
pub fn code(err: &anyhow::Error) -> String {
    match ferry_cli::client::api_failure(err) {
        Some(f) => f.code.clone(),
        None => format!("not an API error: {err:#}"),
    }
}

/// A case with a coordinator, a facilitator, and both parties enrolled, verified and
/// consenting: active and ready for messages.
pub struct World {
    pub server: TestServer,
    pub coordinator: Person,
    pub facilitator: Person,
    pub harmed: Person,
    pub responsible: Person,
    pub case: String,
    pub harmed_code: String,
}

impl World {
    pub fn new() -> Self {
        let server = TestServer::start();
        let coordinator = server.person("coordinator");
        let facilitator = server.person("facilitator");
        let harmed = server.person("harmed");
        let responsible = server.person("responsible");
        let url = server.url.clone();
        coordinator.ok(&[
            "enrol",
            &url,
            &server.coordinator_code(),
            "--name",
            "Chris Coordinator",
        ]);
        let code = field(
            &coordinator.json(&["staff", "invite", "--role", "facilitator"]),
            "code",
        );
        facilitator.ok(&["enrol", &url, &code, "--name", "Fiona Facilitator"]);
        let case = field(
            &coordinator.json(&[
                "case",
                "open",
                "--reference",
                "RJ-1",
                "--category",
                "burglary",
            ]),
            "case_id",
        );
        coordinator.ok(&["case", "allocate", &case, &facilitator.account_id()]);
        coordinator.ok(&["case", "risk", &case, "proceed"]);
        let harmed_code = field(
            &coordinator.json(&["case", "invite", &case, "--role", "harmed"]),
            "code",
        );
        let rcode = field(
            &coordinator.json(&["case", "invite", &case, "--role", "responsible"]),
            "code",
        );
        harmed.ok(&["enrol", &url, &harmed_code, "--name", "Harriet"]);
        responsible.ok(&["enrol", &url, &rcode, "--name", "Rory"]);
        harmed.ok(&["consent"]);
        let out = responsible.ok(&["consent"]);
        assert!(out.contains("The case is active."), "{out}");
        Self {
            server,
            coordinator,
            facilitator,
            harmed,
            responsible,
            case,
            harmed_code,
        }
    }

    /// The harmed person writes a question; returns its message id.
    pub fn question(&self, text: &str) -> String {
        let path = self.harmed.file("q.txt", text);
        field(
            &self.harmed.json(&["write", "question", "--file", &path]),
            "message_id",
        )
    }

    /// The first (or only) thing in a person's inbox.
    pub fn delivered(&self, who: &Person) -> Vec<Value> {
        who.json(&["inbox"])["delivered"]
            .as_array()
            .unwrap()
            .clone()
    }
}

pub fn field(v: &Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

/// Whether `needle` occurs anywhere in the file.
pub fn file_contains(path: &Path, needle: &[u8]) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle)
}

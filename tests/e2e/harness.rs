//! The test world: a real server on an ephemeral port over a temporary SQLite database, and
//! people, each with their own FERRY_HOME, driving it through the `ferry` client library.

use std::path::PathBuf;

use ferry_cli::Env;
use ferry_cli::account::Account;
use ferry_crypto::SecretString;
use ferry_server::{AppState, Config};
use serde_json::Value;
use sqlx::Row;

std::thread_local! {
    /// The database this test's servers use whatever run it is in, when the test is about one.
    static FORCED: std::cell::Cell<Option<Backend>> = const { std::cell::Cell::new(None) };
}

/// A database the servers of a test can be made to use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Makes every server this test starts use `backend`, in the SQLite run and the PostgreSQL
/// run alike: for tests of one database's own behaviour. PostgreSQL needs
/// `FERRY_TEST_POSTGRES_URL` (such tests are ignored when it was not set at build time).
pub fn use_backend(backend: Backend) {
    if backend == Backend::Postgres {
        assert!(
            std::env::var_os("FERRY_TEST_POSTGRES_URL").is_some(),
            "this test needs PostgreSQL: set FERRY_TEST_POSTGRES_URL"
        );
    }
    FORCED.with(|f| f.set(Some(backend)));
}

/// The PostgreSQL server the end-to-end tests run on, if they do: when the test asked for it,
/// or when the suite was started again by `postgres::the_whole_suite_runs_on_postgresql`
/// (`FERRY_TEST_BACKEND=postgres`). Otherwise SQLite.
pub fn postgres_url() -> Option<String> {
    let postgres = match FORCED.with(|f| f.get()) {
        Some(backend) => backend == Backend::Postgres,
        None => std::env::var("FERRY_TEST_BACKEND").as_deref() == Ok("postgres"),
    };
    if postgres {
        std::env::var("FERRY_TEST_POSTGRES_URL").ok()
    } else {
        None
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').map_or(base.len(), |i| i + 1);
    let mut out = format!("{}{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A PostgreSQL database made for one test, dropped when the last server using it is.
pub struct PgDatabase {
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(mut conn) =
                <sqlx::AnyConnection as sqlx::Connection>::connect(&self.admin).await
            {
                let _ = sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut conn)
                .await;
            }
        });
    }
}

/// A running server.
pub struct TestServer {
    /// The PostgreSQL database made for this server (shared with its replicas).
    pg_database: Option<std::sync::Arc<PgDatabase>>,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub state: AppState,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_in(tempfile::tempdir().unwrap())
    }

    /// A server over the data in `dir` (a copy made by [`TestServer::copy_data`], say).
    pub fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_with(dir, |_| {})
    }

    /// A server that sends e-mail to `smtp` (an address on loopback). Its outbox worker is left
    /// idle: tests run it with [`TestServer::send_mail`], so what is sent when is certain.
    pub fn with_mail(smtp: &str) -> Self {
        let smtp = format!("smtp://{smtp}");
        Self::start_with(tempfile::tempdir().unwrap(), move |c| {
            c.smtp_url = Some(smtp);
            c.mail_from = "Ferry <ferry@ferry.test>".into();
            c.public_url = Some("https://ferry.test".into());
            c.mail_poll_ms = 3_600_000;
            c.mail_retry_seconds = 1;
            c.mail_max_attempts = 3;
        })
    }

    /// A server over `dir` with `configure` applied to its configuration.
    pub fn start_with(dir: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let pg_database = postgres_url().map(|admin| {
            let name = format!("ferry_test_{}", &ferry_server::random_token()[..16]);
            runtime.block_on(async {
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            });
            std::sync::Arc::new(PgDatabase { admin, name })
        });
        let database_url = match &pg_database {
            Some(db) => with_database(&db.admin, &db.name),
            None => format!("sqlite://{}", dir.path().join("ferry.db").display()),
        };
        let mut config = Config {
            database_url,
            server_key: dir.path().join("ferry-server.key"),
            blob_dir: dir.path().join("blobs"),
            ..Config::default()
        };
        configure(&mut config);
        Self::launch(runtime, dir, config, pg_database)
    }

    fn launch(
        runtime: tokio::runtime::Runtime,
        dir: tempfile::TempDir,
        config: Config,
        pg_database: Option<std::sync::Arc<PgDatabase>>,
    ) -> Self {
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
            pg_database,
            url,
            dir,
            state,
            runtime: Some(runtime),
            stop: Some(stop),
        }
    }

    /// A one-time code for a coordinator (as `ferry-server init` prints).
    pub fn coordinator_code(&self) -> String {
        self.rt()
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
                answers: None,
            },
        }
    }

    /// Runs a query returning one integer.
    pub fn scalar(&self, sql: &str) -> i64 {
        self.rt().block_on(async {
            sqlx::query(sql)
                .fetch_one(&self.state.pool)
                .await
                .unwrap()
                .try_get::<i64, _>(0)
                .unwrap()
        })
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("the server was killed")
    }

    /// Another replica of this server: same database, key and attachment store, its own port
    /// and workers (as a second process behind a load balancer would be).
    pub fn replica(&self) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let config = (*self.state.config).clone();
        Self::launch(
            runtime,
            tempfile::tempdir().unwrap(),
            config,
            self.pg_database.clone(),
        )
    }

    /// Stops this server at once, mid-request, as a killed process would: in-flight requests
    /// get no answer and their uncommitted transactions roll back. Returns its directory (which
    /// holds the test people's homes) so they outlive it.
    pub fn kill(mut self) -> tempfile::TempDir {
        self.stop = None;
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Runs the outbox worker once: folds digests, sends what is due. Returns how many mails
    /// it tried.
    pub fn send_mail(&self) -> usize {
        let mailer = ferry_server::mail::Mailer::from_config(&self.state.config)
            .unwrap()
            .unwrap();
        self.rt()
            .block_on(ferry_server::mail::outbox::work_once(&self.state, &mailer))
            .unwrap()
    }

    /// A consistent copy of the server's data (database, key, attachments), as a backup or a
    /// hostile operator would take it.
    pub fn copy_data(&self) -> tempfile::TempDir {
        let copy = tempfile::tempdir().unwrap();
        let target = copy.path().join("ferry.db");
        self.rt().block_on(async {
            sqlx::query(&format!("VACUUM INTO '{}'", target.display()))
                .execute(&self.state.pool)
                .await
                .unwrap()
        });
        std::fs::copy(
            self.dir.path().join("ferry-server.key"),
            copy.path().join("ferry-server.key"),
        )
        .unwrap();
        copy
    }

    /// Appends a statement to the trail directly, skipping every check the API makes: what a
    /// compromised server, or someone with write access to the database, could do.
    pub fn append_raw(&self, case: &str, statement: &ferry_crypto::SignedStatement) {
        self.rt().block_on(async {
            let mut tx = ferry_server::db::begin_write(&self.state.pool)
                .await
                .unwrap();
            ferry_server::log_store::append(&mut tx, Some(case), statement, ferry_server::now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
        });
    }

    /// Appends `count` global events carrying `statement` (for a large log), in batches.
    pub fn append_many(&self, statement: &ferry_crypto::SignedStatement, count: u64) {
        let mut left = count;
        while left > 0 {
            let batch = left.min(5000);
            self.rt().block_on(async {
                let mut tx = ferry_server::db::begin_write(&self.state.pool)
                    .await
                    .unwrap();
                for _ in 0..batch {
                    ferry_server::log_store::append(&mut tx, None, statement, 0)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            });
            left -= batch;
        }
    }

    /// Signs (or fetches) the checkpoint at the current size: (size, note).
    pub fn checkpoint(&self) -> (u64, Vec<u8>) {
        let c = self
            .rt()
            .block_on(ferry_server::log_store::checkpoint(&self.state))
            .unwrap();
        (c.size, c.note)
    }

    /// Every leaf, in log order.
    pub fn all_leaves(&self) -> Vec<Vec<u8>> {
        self.rt().block_on(async {
            sqlx::query("SELECT leaf FROM events ORDER BY idx")
                .fetch_all(&self.state.pool)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.try_get(0).unwrap())
                .collect()
        })
    }

    /// The log index and chain position of a case's first event of `kind`.
    pub fn first_event(&self, case: &str, kind: &str) -> (i64, i64) {
        let where_ = format!(
            "FROM events WHERE case_id = '{case}' AND kind = '{kind}' ORDER BY idx LIMIT 1"
        );
        (
            self.scalar(&format!("SELECT idx {where_}")),
            self.scalar(&format!("SELECT seq_in_case {where_}")),
        )
    }

    /// The log index of a case's event at `seq`.
    pub fn event_idx(&self, case: &str, seq: u64) -> i64 {
        self.scalar(&format!(
            "SELECT idx FROM events WHERE case_id = '{case}' AND seq_in_case = {seq}"
        ))
    }

    /// An event's leaf bytes.
    pub fn leaf(&self, idx: i64) -> Vec<u8> {
        self.rt().block_on(async {
            sqlx::query("SELECT leaf FROM events WHERE idx = $1")
                .bind(idx)
                .fetch_one(&self.state.pool)
                .await
                .unwrap()
                .try_get(0)
                .unwrap()
        })
    }

    /// Overwrites an event's leaf bytes in the database.
    pub fn set_leaf(&self, idx: i64, leaf: &[u8]) {
        self.rt().block_on(async {
            sqlx::query("UPDATE events SET leaf = $1 WHERE idx = $2")
                .bind(leaf.to_vec())
                .bind(idx)
                .execute(&self.state.pool)
                .await
                .unwrap()
        });
    }

    /// Checks that `messages` messages are stored and that every event is in the log.
    pub fn assert_messages(&self, messages: i64) {
        assert_eq!(self.scalar("SELECT COUNT(*) FROM messages"), messages);
        assert_eq!(
            self.scalar("SELECT COUNT(*) FROM events"),
            self.scalar("SELECT size FROM log_head"),
            "an event is outside the log"
        );
    }

    /// Runs a statement against the database.
    pub fn execute(&self, sql: &str) {
        self.rt()
            .block_on(async { sqlx::query(sql).execute(&self.state.pool).await.unwrap() });
    }

    /// Everything that a refused request must leave unchanged.
    pub fn snapshot(&self) -> Vec<(&'static str, i64)> {
        [
            ("accounts", "SELECT COUNT(*) FROM accounts"),
            (
                "sequence numbers",
                "SELECT CAST(COALESCE(SUM(last_seq), 0) AS BIGINT) FROM accounts",
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
        self.rt().block_on(async {
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

    /// Every byte the server keeps, by where it is: on SQLite the database files (main, WAL,
    /// shared memory); on PostgreSQL every row of every table as text (byte columns in hex);
    /// and every stored attachment blob.
    pub fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![];
        if self.pg_database.is_some() {
            for table in [
                "accounts",
                "invitations",
                "challenges",
                "sessions",
                "cases",
                "members",
                "messages",
                "deliveries",
                "blobs",
                "events",
                "log_head",
                "tlog_hashes",
                "checkpoints",
                "contacts",
                "outbox",
            ] {
                let rows: Vec<String> = self.rt().block_on(async {
                    sqlx::query(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                        .fetch_all(&self.state.pool)
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|r| r.try_get(0).unwrap())
                        .collect()
                });
                out.push((format!("table {table}"), rows.join("\n").into_bytes()));
            }
        }
        for f in self.stored_files() {
            out.push((f.display().to_string(), std::fs::read(&f).unwrap()));
        }
        out
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
        if self.pg_database.is_some()
            && let Some(rt) = &self.runtime
        {
            rt.block_on(self.state.pool.close());
        }
    }
}

/// A person with their own FERRY_HOME.
pub struct Person {
    pub env: Env,
}

impl Person {
    /// Answers this person's next questions with `answers`, in order, as someone at a terminal
    /// would type them.
    pub fn answering(&mut self, answers: &[&str]) {
        let answers = answers.iter().map(|a| (*a).to_owned()).collect();
        self.env.answers = Some(std::sync::Arc::new(std::sync::Mutex::new(answers)));
    }

    /// Stops answering questions (as when no one is at a terminal).
    pub fn unattended(&mut self) {
        self.env.answers = None;
    }

    /// Runs `ferry <args>` and returns what it printed.
    pub fn ferry(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut out = Vec::new();
        let mut argv = vec!["ferry"];
        argv.extend_from_slice(args);
        ferry_cli::run_with(&self.env, &argv, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// Runs `ferry <args>` and returns what it printed, whether or not it succeeded.
    pub fn ferry_out(&self, args: &[&str]) -> (String, anyhow::Result<()>) {
        let mut out = Vec::new();
        let mut argv = vec!["ferry"];
        argv.extend_from_slice(args);
        let result = ferry_cli::run_with(&self.env, &argv, &mut out);
        (String::from_utf8(out).unwrap(), result)
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

    /// Enrols with a code the coordinator makes with `invite` (a `staff invite` or
    /// `case invite` command); returns the code.
    pub fn enrol_invited(
        &self,
        url: &str,
        coordinator: &Person,
        invite: &[&str],
        name: &str,
    ) -> String {
        let code = field(&coordinator.json(invite), "code");
        self.ok(&["enrol", url, &code, "--name", name]);
        code
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
    pub auditor: Person,
    pub facilitator: Person,
    pub harmed: Person,
    pub responsible: Person,
    pub case: String,
    pub harmed_code: String,
}

impl World {
    pub fn new() -> Self {
        Self::on(TestServer::start())
    }

    /// The same world on a given server. Everyone has an e-mail address: the coordinator sets
    /// theirs, the others are invited at theirs.
    pub fn on(server: TestServer) -> Self {
        let coordinator = server.person("coordinator");
        let facilitator = server.person("facilitator");
        let harmed = server.person("harmed");
        let responsible = server.person("responsible");
        let auditor = server.person("auditor");
        let url = server.url.clone();
        coordinator.ok(&[
            "enrol",
            &url,
            &server.coordinator_code(),
            "--name",
            "Chris Coordinator",
        ]);
        coordinator.ok(&[
            "notifications",
            "immediate",
            "--email",
            "chris@coordinators.test",
        ]);
        auditor.enrol_invited(
            &url,
            &coordinator,
            &[
                "staff",
                "invite",
                "--role",
                "auditor",
                "--email",
                "ines@inspectorate.test",
            ],
            "Ines Inspector",
        );
        facilitator.enrol_invited(
            &url,
            &coordinator,
            &[
                "staff",
                "invite",
                "--role",
                "facilitator",
                "--email",
                "fiona@facilitators.test",
            ],
            "Fiona Facilitator",
        );
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
        let harmed_code = harmed.enrol_invited(
            &url,
            &coordinator,
            &[
                "case",
                "invite",
                &case,
                "--role",
                "harmed",
                "--email",
                "harriet@home.test",
            ],
            "Harriet",
        );
        responsible.enrol_invited(
            &url,
            &coordinator,
            &[
                "case",
                "invite",
                &case,
                "--role",
                "responsible",
                "--email",
                "rory@prison.test",
            ],
            "Rory",
        );
        for name in ["Harriet", "Rory"] {
            facilitator.ok(&["verify-key", name, "--case", &case, "--yes"]);
        }
        harmed.ok(&["consent"]);
        let out = responsible.ok(&["consent"]);
        assert!(out.contains("The case is active."), "{out}");
        Self {
            server,
            coordinator,
            auditor,
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

    /// The facilitator reads a message in `ferry review` (with `--redact-detected` when the
    /// forward redacts that way), then forwards it with `args` and `--yes`; returns what the
    /// forward printed.
    pub fn forward(&self, message: &str, args: &[&str]) -> String {
        let mut review = vec!["review", message];
        if args.contains(&"--redact-detected") {
            review.push("--redact-detected");
        }
        self.facilitator.ok(&review);
        let mut forward = vec!["forward", message, "--yes"];
        forward.extend_from_slice(args);
        self.facilitator.ok(&forward)
    }

    /// Runs `ferry <args>` as `who`, which must fail and change nothing on the server;
    /// returns what it printed followed by its error.
    pub fn refused(&self, who: &Person, args: &[&str]) -> String {
        let before = (self.server.snapshot(), self.server.states());
        let (out, result) = who.ferry_out(args);
        let err = result.expect_err(&format!("ferry {} was not refused:\n{out}", args.join(" ")));
        assert_eq!(
            (self.server.snapshot(), self.server.states()),
            before,
            "the refused `ferry {}` changed the database",
            args.join(" ")
        );
        format!("{out}\n{err:#}")
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

/// Whether `needle` occurs in `bytes`, as it is or hex-encoded (as PostgreSQL shows bytes).
pub fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    let hex: Vec<u8> = needle
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    bytes.windows(needle.len()).any(|w| w == needle)
        || bytes.windows(hex.len()).any(|w| w == hex.as_slice())
}

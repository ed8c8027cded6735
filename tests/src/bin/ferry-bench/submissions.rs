//! Figures 3 and 4: durable message submissions through the real HTTP API with concurrent
//! clients, against the slowest of three ceilings measured in the same run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ferry_cli::Env;
use ferry_cli::account::Account;
use ferry_cli::client::to_b64;
use ferry_crypto::seal::{self, Letter, SealedMessage};
use ferry_crypto::{FORMAT_VERSION, Id, KeyCard, MessageKind, Role, SecretString};
use ferry_protocol::{KeyCards, SubmitRequest};
use ferry_server::{AppState, Config};

/// A server running in this process.
pub(crate) struct Served {
    pub url: String,
    pub state: AppState,
    pub runtime: tokio::runtime::Runtime,
}

pub(crate) fn serve(database_url: String, dir: &std::path::Path) -> Result<Served> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("ferry-server")
        .enable_all()
        .build()?;
    let config = Config {
        database_url,
        server_key: dir.join("ferry-server.key"),
        blob_dir: dir.join("blobs"),
        ..Config::default()
    };
    let (state, listener) = runtime.block_on(async {
        let state = AppState::open(config).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        anyhow::Ok((state, listener))
    })?;
    let url = format!("http://{}", listener.local_addr()?);
    runtime.spawn(ferry_server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    Ok(Served {
        url,
        state,
        runtime,
    })
}

pub(crate) fn person(dir: &std::path::Path, label: &str) -> Env {
    Env {
        home: dir.join("people").join(label),
        passphrase: Some(SecretString::from("bench".to_owned())),
        work_factor: 10,
        interactive: false,
        color: false,
        editor: None,
        profile: None,
        server: None,
        answers: None,
    }
}

pub(crate) fn ferry(env: &Env, args: &[&str]) -> Result<serde_json::Value> {
    let mut out = Vec::new();
    let mut argv = vec!["ferry", "--json"];
    argv.extend_from_slice(args);
    ferry_cli::run_with(env, &argv, &mut out)
        .with_context(|| format!("ferry {}", args.join(" ")))?;
    Ok(serde_json::from_slice(&out).unwrap_or_default())
}

fn text(v: &serde_json::Value, key: &str) -> Result<String> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {key} in {v}"))
}

/// Enrols a coordinator and a facilitator, opens `cases` active cases with two participants
/// each, and returns every participant's environment and the role they write to.
pub(crate) fn people(s: &Served, dir: &std::path::Path, cases: usize) -> Result<Vec<(Env, Role)>> {
    let code = s
        .runtime
        .block_on(ferry_server::init::invite_coordinator(&s.state))?;
    let coordinator = person(dir, "coordinator");
    ferry(&coordinator, &["enrol", &s.url, &code, "--name", "Chris"])?;
    let facilitator = person(dir, "facilitator");
    let fcode = text(
        &ferry(&coordinator, &["staff", "invite", "--role", "facilitator"])?,
        "code",
    )?;
    ferry(&facilitator, &["enrol", &s.url, &fcode, "--name", "Fiona"])?;
    let fid = text(&ferry(&facilitator, &["whoami"])?["me"], "account_id")?;
    let mut out = vec![];
    for n in 0..cases {
        let case = text(
            &ferry(
                &coordinator,
                &[
                    "case",
                    "open",
                    "--reference",
                    &format!("B-{n}"),
                    "--category",
                    "theft",
                ],
            )?,
            "case_id",
        )?;
        ferry(&coordinator, &["case", "allocate", &case, &fid])?;
        ferry(&coordinator, &["case", "risk", &case, "proceed"])?;
        for (role, to) in [("harmed", Role::Responsible), ("responsible", Role::Harmed)] {
            let env = person(dir, &format!("{role}-{n}"));
            let c = text(
                &ferry(&coordinator, &["case", "invite", &case, "--role", role])?,
                "code",
            )?;
            ferry(
                &env,
                &["enrol", &s.url, &c, "--name", &format!("{role} {n}")],
            )?;
            out.push((env, to));
        }
        for name in ["harmed", "responsible"] {
            let name = format!("{name} {n}");
            ferry(
                &facilitator,
                &["verify-key", &name, "--case", &case, "--yes"],
            )?;
        }
        for (env, _) in &out[out.len() - 2..] {
            ferry(env, &["consent"])?;
        }
    }
    Ok(out)
}

/// Request paths and bodies, in order.
type Requests = Vec<(String, Vec<u8>)>;

/// One author's precomputed submissions (path and body), and the sealed messages.
fn prepare(env: &Env, to: Role, count: usize) -> Result<(Account, Requests, Vec<SealedMessage>)> {
    let account = Account::open(env, None)?;
    let case = account.case(None)?;
    let cards: KeyCards = account
        .client
        .get(&format!("/v1/cases/{case}/facilitators"))?;
    let recipients: Vec<_> = cards
        .key_cards
        .into_iter()
        .map(|c| KeyCard::verify(c).map(|c| c.recipient().clone()))
        .collect::<Result<_, _>>()?;
    let first = account.next_seq()?;
    let mut bodies = vec![];
    let mut sealed_all = vec![];
    for (i, seq) in (first..).take(count).enumerate() {
        let letter = Letter {
            v: FORMAT_VERSION,
            case_id: case.clone(),
            message_id: Id::random(),
            kind: MessageKind::Letter,
            author: account.identity.account_id().clone(),
            recipient_role: to,
            in_reply_to: None,
            created_at: ferry_server::now(),
            body: format!("benchmark letter {i}: {}", "words of a letter ".repeat(40)),
            attachments: vec![],
            entered_by: None,
        };
        let sealed = seal::seal(&account.identity, &letter, seq, vec![], &recipients)?;
        let body = serde_json::to_vec(&SubmitRequest {
            envelope: sealed.envelope.clone(),
            ciphertext: to_b64(&sealed.ciphertext),
        })?;
        bodies.push((format!("/v1/cases/{case}/messages"), body));
        sealed_all.push(sealed);
    }
    Ok((account, bodies, sealed_all))
}

/// Posts every author's bodies concurrently (one thread each, in order); returns the rate
/// and the sorted latencies.
fn drive(
    base: &str,
    token_of: &[Option<String>],
    work: &[Vec<(String, Vec<u8>)>],
) -> Result<(f64, Vec<Duration>)> {
    let start = Instant::now();
    let results: Vec<Result<Vec<Duration>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .iter()
            .zip(token_of)
            .map(|(bodies, token)| {
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let mut lat = vec![];
                    for (path, body) in bodies {
                        let t = Instant::now();
                        let mut req = agent
                            .post(format!("{base}{path}"))
                            .header("Content-Type", "application/json");
                        if let Some(tok) = token {
                            req = req.header("Authorization", format!("Bearer {tok}"));
                        }
                        let mut resp = req.send(&body[..])?;
                        let status = resp.status();
                        let _ = resp.body_mut().read_to_vec();
                        anyhow::ensure!(status.is_success(), "a submission was refused: {status}");
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a client thread panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut lat = vec![];
    for r in results {
        lat.extend(r?);
    }
    lat.sort();
    Ok((lat.len() as f64 / elapsed.as_secs_f64(), lat))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p) as usize)
        .copied()
        .unwrap_or_default()
}

/// Runs figure 3 (or 4, with a PostgreSQL URL) and prints it.
pub fn run(quick: bool, postgres: Option<&str>) -> Result<()> {
    let (authors, per_author) = if quick { (64, 75) } else { (64, 150) };
    let dir = tempfile::tempdir()?;
    let (title, url) = match postgres {
        Some(pg) => (
            "4. Durable submissions through the HTTP API on PostgreSQL",
            pg.to_owned(),
        ),
        None => (
            "3. Durable submissions through the HTTP API on SQLite",
            format!("sqlite://{}", dir.path().join("ferry.db").display()),
        ),
    };
    println!("{title} ({authors} concurrent clients × {per_author})");
    let served = serve(url, dir.path())?;
    let envs = people(&served, dir.path(), authors / 2)?;
    let mut work = vec![];
    let mut tokens = vec![];
    let mut sealed = vec![];
    let mut keys = HashMap::new();
    for (env, to) in &envs {
        let (account, bodies, s) = prepare(env, *to, per_author)?;
        keys.insert(
            account.identity.account_id().to_string(),
            account.identity.verifying_key(),
        );
        tokens.push(account.client.token().map(str::to_owned));
        work.push(bodies);
        sealed.extend(s);
    }
    let (rate, lat) = drive(&served.url, &tokens, &work)?;

    // Ceiling (a): the same rows, inserted durably in batches straight into the database;
    // twice, into fresh tables each time, and the mean taken (this machine's disk is shared,
    // and its speed drifts from one second to the next).
    let inserts_run = |run| {
        served
            .runtime
            .block_on(raw_inserts(&served, dir.path(), run, sealed.len()))
    };
    let (first, second) = (inserts_run(1)?, inserts_run(2)?);
    let inserts = (first + second) / 2.0;
    // Ceiling (b): Ed25519 verifications per second on all cores.
    let verifies = verifications(&sealed, &keys)?;
    // Ceiling (c): an empty axum handler taking the same bodies.
    let empty = served.runtime.block_on(empty_server())?;
    let (empty_rate, _) = drive(&empty, &vec![None; work.len()], &work)?;
    let ceiling = inserts.min(verifies).min(empty_rate);
    let unit = "req/s";
    crate::line(
        "submissions, durable, through the API",
        rate,
        unit,
        ceiling,
        if postgres.is_none() { Some(0.5) } else { None },
    );
    println!(
        "    latency p50 {:.1} ms, p99 {:.1} ms; ceilings: inserts {inserts:.0}/s ({first:.0} and {second:.0}), Ed25519 {verifies:.0}/s, empty handler {empty_rate:.0}/s",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    println!();
    Ok(())
}

/// A column's value, as the ceiling copies it.
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

/// The tables a submission writes to, each column with its type: `i`, `t` or `b`.
const TABLES: &[(&str, &[(&str, char)])] = &[
    (
        "messages",
        &[
            ("message_id", 't'),
            ("case_id", 't'),
            ("author", 't'),
            ("kind", 't'),
            ("recipient_role", 't'),
            ("in_reply_to", 't'),
            ("state", 't'),
            ("envelope", 'b'),
            ("decision_note", 'b'),
            ("ciphertext", 'b'),
            ("attachments_pending", 'i'),
            ("created_at", 'i'),
            ("updated_at", 'i'),
        ],
    ),
    (
        "events",
        &[
            ("idx", 'i'),
            ("case_id", 't'),
            ("seq_in_case", 'i'),
            ("prev_hash", 't'),
            ("actor", 't'),
            ("kind", 't'),
            ("statement", 'b'),
            ("leaf", 'b'),
            ("leaf_hash", 't'),
            ("server_time", 'i'),
        ],
    ),
    ("tlog_hashes", &[("idx", 'i'), ("hash", 'b')]),
];

/// Ceiling (a): the rows the submissions wrote (messages, events, stored tree hashes), read
/// back from the server's database and inserted durably, batch by batch, into tables of the
/// same schema and indexes: one transaction and one multi-row insert per table per batch.
async fn raw_inserts(
    served: &Served,
    dir: &std::path::Path,
    run: usize,
    submissions: usize,
) -> Result<f64> {
    use sqlx::{Executor, Row};
    let pool = &served.state.pool;
    let first: i64 = sqlx::query("SELECT MIN(idx) FROM events WHERE kind = 'submission'")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    let first_hash = ferry_crypto::log_format::stored_index(first as u64) as i64;
    let filters = [
        "1 = 1".to_owned(),
        "kind = 'submission'".to_owned(),
        format!("idx >= {first_hash}"),
    ];
    let mut rows: Vec<Vec<Vec<Value>>> = vec![];
    for ((table, columns), filter) in TABLES.iter().zip(&filters) {
        let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let sql = format!("SELECT {} FROM {table} WHERE {filter}", names.join(", "));
        let mut out = vec![];
        for row in sqlx::query(&sql).fetch_all(pool).await? {
            let mut values = vec![];
            for (i, (_, kind)) in columns.iter().enumerate() {
                values.push(match kind {
                    'i' => Value::Int(row.try_get(i)?),
                    't' => Value::Text(row.try_get(i)?),
                    _ => Value::Blob(row.try_get(i)?),
                });
            }
            out.push(values);
        }
        rows.push(out);
    }
    anyhow::ensure!(
        rows[0].len() == submissions && rows[1].len() == submissions,
        "the server stored {} messages and {} events for {submissions} submissions",
        rows[0].len(),
        rows[1].len()
    );
    // Same schema and indexes; on PostgreSQL beside the server's tables, on SQLite in a new
    // database file (its foreign keys, which the copied rows' parents would need, off).
    let (target, prefix) = match served.state.backend {
        ferry_server::db::Backend::Sqlite => {
            let url = format!(
                "sqlite://{}",
                dir.join(format!("ceiling-{run}.db")).display()
            );
            (ferry_server::db::connect(&url).await?.0, String::new())
        }
        ferry_server::db::Backend::Postgres => {
            for (table, _) in TABLES {
                pool.execute(
                    format!("CREATE TABLE ceiling{run}_{table} (LIKE {table} INCLUDING ALL)")
                        .as_str(),
                )
                .await?;
            }
            (pool.clone(), format!("ceiling{run}_"))
        }
    };
    let mut conn = target.acquire().await?;
    if prefix.is_empty() {
        conn.execute("PRAGMA foreign_keys = OFF").await?;
    }
    const BATCH: usize = 64;
    let hashes_per = rows[2].len().div_ceil(submissions.max(1));
    let start = Instant::now();
    for b in 0..submissions.div_ceil(BATCH) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for (t, (table, columns)) in TABLES.iter().enumerate() {
            let per = if t == 2 { hashes_per } else { 1 };
            let end = ((b + 1) * BATCH * per).min(rows[t].len());
            let part = &rows[t][(b * BATCH * per).min(end)..end];
            if part.is_empty() {
                continue;
            }
            let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
            let sql = ferry_server::db::insert_sql(
                &tx,
                &format!("{prefix}{table} ({})", names.join(", ")),
                columns.len(),
                part.len(),
            );
            let mut q = sqlx::query(&sql);
            for row in part {
                for v in row {
                    q = match v {
                        Value::Int(v) => q.bind(*v),
                        Value::Text(v) => q.bind(v.as_deref()),
                        Value::Blob(v) => q.bind(v.as_deref()),
                    };
                }
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(submissions as f64 / start.elapsed().as_secs_f64())
}

/// Ed25519 verifications per second on all cores, of the same envelope signatures, each with
/// its author's key (as the server verifies them).
fn verifications(
    sealed: &[SealedMessage],
    keys: &HashMap<String, ed25519_dalek::VerifyingKey>,
) -> Result<f64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    sealed
                        .iter()
                        .filter(|s| {
                            keys.get(s.envelope.signer.as_str())
                                .is_some_and(|k| s.envelope.verify_signature(k).is_ok())
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    anyhow::ensure!(
        total == sealed.len() * threads,
        "a signature did not verify"
    );
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

async fn empty_server() -> Result<String> {
    let app = axum::Router::new().route(
        "/v1/cases/{case}/messages",
        axum::routing::post(|_body: axum::body::Bytes| async { "{}" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

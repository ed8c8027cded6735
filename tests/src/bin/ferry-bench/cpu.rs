//! CPU time of this process and of its server threads, from Linux's `/proc`: figure 2's
//! server runs in this process, on the same cores as the audit it serves, and this shows how
//! much of the audit's time went to it.

/// Clock ticks per second in `/proc`'s times (USER_HZ, 100 on every Linux architecture).
const TICKS: f64 = 100.0;

/// Names (as the kernel shows them, at most 15 bytes) of the in-process server's threads: the
/// runtime's workers, sqlx's SQLite workers, the committer and the WAL syncer.
const SERVER_THREADS: [&str; 4] = [
    "ferry-server",
    "sqlx-sqlite-wor",
    "ferry-commit",
    "ferry-sync",
];

/// CPU seconds used so far: by the whole process (threads that have ended included), and by
/// the server's threads. `None` where `/proc` cannot tell.
pub fn used() -> Option<(f64, f64)> {
    let process = ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?.1;
    let mut server = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        // A thread that has just ended has no stat to read: it is not the server's.
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, t)) = ticks(&stat)
            && SERVER_THREADS.iter().any(|s| name.starts_with(s))
        {
            server += t;
        }
    }
    Some((process as f64 / TICKS, server as f64 / TICKS))
}

/// A `stat` line's name and its user plus system ticks.
fn ticks(stat: &str) -> Option<(&str, u64)> {
    // The name is in parentheses and may itself hold spaces or parentheses.
    let (_, rest) = stat.split_once(" (")?;
    let (name, fields) = rest.rsplit_once(") ")?;
    let mut fields = fields.split(' ').skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((name, user + system))
}

//! What an operator reads in `ferry-server --help`, pinned (trycmd cases in `tests/cmd/`).
//! `TRYCMD=overwrite` rewrites them after a deliberate change.

#[test]
fn every_command_explains_itself() {
    trycmd::TestCases::new()
        .env("COLUMNS", "100")
        .case("tests/cmd/*.md");
}

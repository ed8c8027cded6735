//! The web page's API types come from `web/openapi.json`: it must be the document this server
//! serves, so a change to the API is a change to that file, seen in review (and the types
//! made from it are checked by the web tests).
#![allow(clippy::unwrap_used)]

#[test]
fn the_web_page_has_the_current_openapi_document() {
    let current = serde_json::to_string_pretty(&ferry_server::routes::openapi()).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/openapi.json");
    if std::env::var_os("FERRY_WRITE_OPENAPI").is_some() {
        std::fs::write(path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "web/openapi.json is not the document the server serves: run \
         `FERRY_WRITE_OPENAPI=1 cargo test -p ferry-server --test openapi_file`, then \
         `npm run api --prefix web`, and review the change"
    );
}

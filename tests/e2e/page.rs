//! The participant page as the server hands it out: same origin, a strict policy on every
//! answer, and every script and style sheet pinned by its integrity digest.

use sha2::{Digest, Sha384};

use crate::harness::TestServer;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

#[test]
fn the_page_is_served_with_a_strict_policy_and_pinned_assets() {
    let server = TestServer::start();
    let agent = agent();
    for path in ["/", "/join"] {
        let mut resp = agent.get(format!("{}{path}", server.url)).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let headers = resp.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp}"
            );
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("cache-control"), "no-store");
        let html = resp.body_mut().read_to_string().unwrap();
        assert!(!html.contains("<script>"), "no inline script");
        assert!(!html.contains(" style="), "no inline style");
        // Every script and style sheet is on this origin and carries its digest, and the
        // digest is the asset's.
        let mut assets = 0;
        for tag in html
            .split('<')
            .filter(|t| t.starts_with("script") || t.starts_with("link"))
        {
            let attr = |name: &str| {
                tag.split(&format!("{name}=\"")[..])
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .map(str::to_owned)
            };
            let Some(src) = attr("src").or_else(|| attr("href")) else {
                continue;
            };
            assert!(src.starts_with("/assets/"), "{src} is not on this origin");
            let integrity = attr("integrity").unwrap_or_else(|| panic!("{src} has no integrity"));
            let mut asset = agent.get(format!("{}{src}", server.url)).call().unwrap();
            assert_eq!(asset.status().as_u16(), 200, "{src}");
            let bytes = asset.body_mut().read_to_vec().unwrap();
            let digest = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                Sha384::digest(&bytes),
            );
            assert_eq!(integrity, format!("sha384-{digest}"), "{src}");
            assets += 1;
        }
        assert_eq!(assets, 2, "one script and one style sheet");
    }
    // The API's answers carry the same headers; unknown assets are plain 404s.
    let resp = agent
        .get(format!("{}/v1/health", server.url))
        .call()
        .unwrap();
    assert!(resp.headers().contains_key("content-security-policy"));
    let resp = agent
        .get(format!("{}/assets/nothing.js", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let resp = agent
        .get(format!("{}/assets/..%2FCargo.toml", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}

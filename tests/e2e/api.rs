//! The API surface: every endpoint in the OpenAPI document is served; errors have one shape.

use crate::harness::TestServer;

#[test]
fn the_openapi_document_lists_every_served_endpoint() {
    let server = TestServer::start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Each request on its own connection: a refused request may leave its body unread,
        // and the server then closes that connection.
        .max_idle_connections(0)
        .build()
        .into();
    let mut resp = agent
        .get(format!("{}/v1/openapi.json", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let doc: serde_json::Value = resp.body_mut().read_json().unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    let mut undocumented = vec![];
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let url = format!("{}{}", server.url, path.replace('{', "x").replace('}', ""));
            let mut resp = match method.as_str() {
                "get" => agent.get(&url).call().unwrap(),
                "post" => agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .send("{}")
                    .unwrap(),
                "put" => agent.put(&url).send(&b""[..]).unwrap(),
                other => panic!("unexpected method {other} for {path}"),
            };
            let body: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
            // Every listed operation is routed: it never falls through to "no such endpoint".
            assert_ne!(
                body["error"]["message"], "no such endpoint",
                "{method} {path}"
            );
            let status = resp.status().as_u16();
            if status >= 400 {
                assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
            }
            // What a caller without a token (and with an empty body) gets is documented.
            if item[method]["responses"].get(status.to_string()).is_none() {
                undocumented.push(format!("{method} {path} answered {status}"));
            }
        }
    }
    // The operations the client uses, all present.
    for (method, path) in [
        ("post", "/v1/enrol"),
        ("post", "/v1/session/challenge"),
        ("post", "/v1/session"),
        ("get", "/v1/me"),
        ("post", "/v1/cases"),
        ("post", "/v1/cases/{case_id}/messages"),
        ("post", "/v1/cases/{case_id}/messages/{message_id}/forward"),
        ("post", "/v1/deliveries/{delivery_id}/receipt"),
        ("get", "/v1/openapi.json"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(operations >= 33, "{operations} operations");
    assert!(
        undocumented.is_empty(),
        "answers the documentation does not list: {undocumented:#?}"
    );
    // And an unknown path answers in the API's error format.
    let mut resp = agent
        .get(format!("{}/v1/nothing-here", server.url))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let body: serde_json::Value = resp.body_mut().read_json().unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[test]
fn requests_without_a_valid_session_are_refused() {
    let server = TestServer::start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Each request on its own connection: a refused request may leave its body unread,
        // and the server then closes that connection.
        .max_idle_connections(0)
        .build()
        .into();
    for token in [None, Some("Bearer nonsense"), Some("Basic abc")] {
        let mut req = agent.get(format!("{}/v1/me", server.url));
        if let Some(t) = token {
            req = req.header("Authorization", t);
        }
        let mut resp = req.call().unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let body: serde_json::Value = resp.body_mut().read_json().unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[test]
fn ferry_self_check_passes() {
    let server = TestServer::start();
    let out = server.person("anyone").ok(&["self-check"]);
    assert!(
        out.contains("refused    Rory cannot open it before review"),
        "{out}"
    );
    assert!(out.ends_with("self-check passed\n"), "{out}");
}

/// A login challenge whose (ignored) body arrives after its headers leaves the connection
/// usable: the next request on it is answered. (An unread body made the server close the
/// connection after answering, and a client reusing it saw "peer disconnected".)
#[test]
fn a_connection_stays_usable_after_a_challenge_with_a_late_body() {
    use std::io::{BufRead, BufReader, Read, Write};
    let server = TestServer::start();
    let addr = server.url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    // Reads one response; returns its status line and body.
    let mut response = || {
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" || header.is_empty() {
                break;
            }
            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (status, String::from_utf8(body).unwrap())
    };
    conn.write_all(
        b"POST /v1/session/challenge HTTP/1.1\r\nHost: ferry\r\n\
          Content-Type: application/json\r\nContent-Length: 2\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    conn.write_all(b"{}").unwrap();
    let (status, body) = response();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(body.contains("\"challenge\""), "{body}");
    conn.write_all(b"GET /v1/health HTTP/1.1\r\nHost: ferry\r\n\r\n")
        .unwrap();
    let (status, _) = response();
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "the connection was closed: {status:?}"
    );
}

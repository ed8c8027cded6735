//! The participant page, served on the API's own origin: `/`, `/join` and `/verify` (checking
//! a printed letter) answer the page (an invitation or letter code travels in the fragment,
//! which never reaches the server), and `/assets/…` its hashed script and style sheet. Every answer of the server carries the
//! security headers: a strict Content-Security-Policy (no inline script, no eval, nothing
//! from another origin, no framing), no referrer, no sniffing.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::ApiError;

/// The built page's files (`web/dist`), embedded by the build script.
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/page_files.rs"));

/// The policy for every answer: the page's own script and style (each also pinned by its
/// Subresource Integrity digest), its own API, blobs it decrypted for saving, and nothing else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; connect-src 'self'; img-src 'self' blob:; form-action 'none'; \
    base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'";

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/join", get(page))
        .route("/verify", get(page))
        .route("/assets/{file}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

fn file(name: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}

/// The page itself; never cached, so a new release is picked up at once.
async fn page() -> Response {
    let Some(bytes) = file("index.html") else {
        return ApiError::not_found("page").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// A hashed asset: its name changes with its content, so it may be cached for good.
async fn asset(Path(name): Path<String>) -> Response {
    let kind = if name.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        return ApiError::not_found("file").into_response();
    };
    match file(&format!("assets/{name}")) {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response(),
        None => ApiError::not_found("file").into_response(),
    }
}

/// Adds the security headers to an answer.
pub async fn security_headers(mut response: Response) -> Response {
    let headers: &mut HeaderMap = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if response.status() == StatusCode::OK
        && !response.headers().contains_key(header::CACHE_CONTROL)
    {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

//! Health and server identity.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use ferry_protocol::ServerInfo;

/// What `GET /v1/health` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `"ok"` when the server and its database answer.
    pub status: &'static str,
}

/// Liveness and database check.
#[utoipa::path(get, path = "/v1/health", tag = "meta", responses((status = 200, body = Health)))]
pub async fn health(State(app): State<AppState>) -> crate::error::ApiResult<Json<Health>> {
    sqlx::query("SELECT 1").execute(&app.pool).await?;
    Ok(Json(Health { status: "ok" }))
}

/// The server's version and key card.
#[utoipa::path(get, path = "/v1/server", tag = "meta", responses((status = 200, body = ServerInfo)))]
pub async fn server_info(State(app): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        key_card: app.server_card.statement().clone(),
        require_key_checks: app.config.require_key_checks,
        service_name: app.config.service_name.clone(),
        public_url: app.config.public_url.clone(),
    })
}

/// This document: the OpenAPI description of every endpoint.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(super::openapi).clone())
}

//! One error type for the API. Its code comes from the one table, `ferry_protocol::ErrorCode`,
//! which gives its HTTP status; its sentence is the code's own or a more specific one.
//! Internal errors are logged and reported as `internal` without details; nothing here ever
//! carries plaintext.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ferry_crypto::CryptoError;
use ferry_protocol::{ErrorBody, ErrorCode, ErrorDetail};

/// An API error: a code from the table, and a sentence.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The code (its status comes with it).
    pub code: ErrorCode,
    /// Plain-language sentence.
    pub message: String,
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a sentence more specific than its code's own.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An error with its code's own sentence.
    pub fn of(code: ErrorCode) -> Self {
        Self::new(code, code.sentence())
    }

    /// The HTTP status, from the table.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 401: no valid session.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 404: nothing there (or nothing the caller may see).
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no such {what}"))
    }

    /// 500: logged, not explained.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::of(ErrorCode::Internal)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return Self::of(ErrorCode::AlreadyExists);
        }
        Self::internal(err)
    }
}

impl From<CryptoError> for ApiError {
    fn from(err: CryptoError) -> Self {
        match ErrorCode::from(&err) {
            ErrorCode::Internal => Self::internal(err),
            code => Self::new(code, err.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_owned(),
                message: self.message,
            },
        };
        (status, Json(body)).into_response()
    }
}

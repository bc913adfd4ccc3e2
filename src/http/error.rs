//! The one error type of the HTTP API and its mapping to status codes.
//!
//! Every handler returns `Result<_, ApiError>`; [`ApiError::status_code`] is the only place
//! where an error becomes a status. The body is always
//! `{"error": code, "message": Vietnamese text, "details": [{"path", "message"}]}`.
//! The cause of a 5xx is logged (tracing) and never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::covenant::InputErrors;
use crate::sign::SignError;
use crate::store::StoreError;

/// One problem at a JSON path of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// JSON path, e.g. `units[6].signer.full_name`; empty for the whole body.
    pub path: String,
    /// What is wrong, in Vietnamese.
    pub message: String,
}

impl Detail {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Detail {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// A common error type for every handler of the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request itself is malformed (a bad hash in the path, an unreadable body).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no token, or a token that is unknown or revoked.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a valid token that does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(String),
    /// 409: the resource is in the wrong state, or changed meanwhile (`code` = `stale`).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: the body is larger than `limit` bytes.
    #[error("nội dung gửi lên vượt quá giới hạn {limit} byte")]
    PayloadTooLarge { limit: usize },
    /// 422: well-formed but invalid data, with every problem at its path.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        details: Vec<Detail>,
    },
    /// 500: our fault; the cause is logged, not sent.
    #[error("internal: {0}")]
    Internal(String),
    /// 503: a service giaouoc depends on (an external time-stamping authority) failed;
    /// nothing was stored, the request may be repeated.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The status of each variant: the single place where errors map to statuses.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Invalid { code, .. }
            | ApiError::Unavailable { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(message.into())
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// A 422 with one problem at `path`.
    pub fn invalid(code: &'static str, path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Invalid {
            code,
            details: vec![Detail::new(path, message.clone())],
            message,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
    details: &'a [Detail],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let (message, details): (String, &[Detail]) = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(cause = %cause, "internal error");
                ("lỗi máy chủ; vui lòng thử lại sau".to_owned(), &[])
            }
            ApiError::Invalid { details, .. } => (self.to_string(), details),
            other => (other.to_string(), &[]),
        };
        let body = Body {
            error: self.code(),
            message,
            details,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"giaouoc\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // A blob the database refers to is gone: that is our problem, not the client's.
            StoreError::NotFound { what: "blob", id } => {
                ApiError::Internal(format!("missing blob {id}"))
            }
            StoreError::NotFound { what, id } => {
                ApiError::NotFound(format!("không tìm thấy {} \"{id}\"", what_vi(what)))
            }
            e @ StoreError::Stale { .. } => ApiError::Conflict {
                code: "stale",
                message: format!(
                    "tài liệu đã có phiên bản mới (có người ký trước); hãy chuẩn bị lại chữ ký ({e})"
                ),
            },
            StoreError::WrongState { covenant, wrong } => ApiError::Conflict {
                code: "wrong_state",
                message: wrong.message_vi(&covenant),
            },
            StoreError::Conflict(reason) => ApiError::Conflict {
                code: "conflict",
                message: format!("không thực hiện được ở trạng thái hiện tại: {reason}"),
            },
            StoreError::Invalid(reason) => {
                ApiError::invalid("invalid", "", format!("dữ liệu không hợp lệ: {reason}"))
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<InputErrors> for ApiError {
    fn from(e: InputErrors) -> Self {
        ApiError::Invalid {
            code: "invalid_covenant",
            message: format!("dữ liệu giao ước không hợp lệ ({} lỗi)", e.problems.len()),
            details: e
                .problems
                .into_iter()
                .map(|p| Detail::new(p.path, p.message))
                .collect(),
        }
    }
}

impl From<SignError> for ApiError {
    fn from(e: SignError) -> Self {
        let message = e.to_string();
        match e {
            SignError::StaleBase => ApiError::conflict("stale", message),
            SignError::AlreadySigned(_) => ApiError::conflict("already_signed", message),
            SignError::WrongUnit { .. } => {
                ApiError::invalid("wrong_unit", "certificate_pem", message)
            }
            SignError::KeyMismatch => ApiError::invalid("bad_signature", "signature", message),
            SignError::Certificate(_) => {
                ApiError::invalid("invalid_certificate", "certificate_pem", message)
            }
            SignError::NoSuchField(_) => ApiError::invalid("no_such_field", "", message),
            _ => ApiError::Internal(message),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("background task failed: {e}"))
    }
}

/// The Vietnamese name of what the store could not find.
fn what_vi(what: &str) -> &str {
    match what {
        "covenant" => "giao ước",
        "bloc" => "khối thi đua",
        "unit" => "đơn vị",
        "registration" => "bản đăng ký",
        "revision of covenant" => "phiên bản tài liệu của giao ước",
        "enrolment" => "yêu cầu cấp chứng thư",
        "certificate" => "chứng thư số",
        "token" => "token",
        "archive entry" => "bản lưu trữ",
        other => other,
    }
}

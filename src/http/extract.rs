//! Reading request bodies: a size limit that answers 413, and JSON that answers 422 with the
//! path of the bad field.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::{ApiError, ApiResult, Detail};

/// Largest JSON body (a covenant is at most [`crate::covenant::MAX_INPUT_BYTES`]).
pub const JSON_LIMIT: usize = crate::covenant::MAX_INPUT_BYTES;

/// Reads a whole body, refusing more than `limit` bytes (413) — early when
/// `Content-Length` already says so.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::PayloadTooLarge { limit })
        }
        Err(e) => Err(ApiError::bad_request(
            "unreadable_body",
            format!("không đọc được nội dung yêu cầu: {e}"),
        )),
    }
}

/// Parses JSON into `T`; a syntax error or a field of the wrong shape is a 422 naming the
/// path (`units[6].signer.full_name`). An empty body reads as `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| json_error_at(String::new(), &e))?;
    Ok(value)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    json_error_at(path, e.inner())
}

fn json_error_at(mut path: String, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::Invalid {
            code: "invalid_json",
            message: "JSON không hợp lệ".into(),
            details: vec![Detail::new(
                "",
                format!(
                    "JSON không hợp lệ tại dòng {}, cột {}: {e}",
                    e.line(),
                    e.column()
                ),
            )],
        },
        Category::Data => {
            let text = e.to_string();
            // "missing field `x` at line …": the problem is at the missing field's path.
            let message = if let Some(field) = text
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(field);
                "thiếu trường bắt buộc".to_owned()
            } else {
                let reason = text.split(" at line ").next().unwrap_or(&text);
                format!("giá trị không hợp lệ: {reason}")
            };
            ApiError::Invalid {
                code: "invalid_field",
                message: "dữ liệu gửi lên không hợp lệ".into(),
                details: vec![Detail::new(path, message)],
            }
        }
    }
}

/// A JSON body (at most [`JSON_LIMIT`] bytes) parsed into `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &AppState) -> ApiResult<Self> {
        let (parts, body) = req.into_parts();
        let bytes = read_body(&parts.headers, body, JSON_LIMIT).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A raw body of at most [`JSON_LIMIT`] bytes.
#[derive(Debug)]
pub struct RawJson(pub Bytes);

impl FromRequest<AppState> for RawJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &AppState) -> ApiResult<Self> {
        let (parts, body) = req.into_parts();
        read_body(&parts.headers, body, JSON_LIMIT)
            .await
            .map(RawJson)
    }
}

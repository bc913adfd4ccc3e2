//! One-time links for desktop signing tools that fetch and return the file themselves (the
//! government CA's VGCA Sign Service in whole-file mode, vSignPDF-like tools): the tool carries
//! no cookie or token, so the unit's leader asks for a pair of URLs that carry a random secret:
//!
//! - `POST /covenants/{id}/signatures/{unit}/desktop-links` (the unit's leader): a download URL
//!   and an upload URL for the current revision, valid [`LINK_TTL`];
//! - `GET /desktop/{secret}/document.pdf`: that revision's PDF (until the upload or expiry);
//! - `POST /desktop/{secret}/upload`: the signed PDF as multipart field `uploadfile` (the first
//!   file is taken), answered as the tool expects, `{Status, Message, FileName, FileServer}`.
//!   The link is used up by the first upload, accepted or not; a used or expired link is
//!   refused. The file is judged as any upload ([`super::uploads::accept_signed_file`]).
//!
//! Links live in the database, so any instance serves a link another one made; only the
//! secret's SHA-256 is kept.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::Caller;
use super::covenants::{load, rfc3339};
use super::documents;
use super::error::{ApiError, ApiResult};
use super::{AppState, Routes, hex};
use crate::store::{Blobs, DesktopLink};
use crate::workflow::Action;

/// How long a pair of links stays usable.
pub const LINK_TTL: time::Duration = time::Duration::minutes(15);

/// Links per field kept at once (older ones are dropped).
const MAX_LINKS_PER_UNIT: u32 = 4;

pub(super) fn routes(r: Routes) -> Routes {
    r.post(
        "/covenants/{id}/signatures/{unit}/desktop-links",
        create_links,
    )
    .get("/desktop/{secret}/document.pdf", download)
    .post("/desktop/{secret}/upload", upload)
}

/// The stored name of a link: the SHA-256 (hex) of its secret, for a well-formed secret.
fn key_of(secret: &str) -> Option<String> {
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex(&Sha256::digest(secret.to_ascii_lowercase().as_bytes())))
}

/// Creates a pair of links for the unit's leader (or the admin) on the current revision.
pub(crate) async fn desktop_links(
    state: &AppState,
    caller: &Caller,
    id: &str,
    unit: &str,
) -> ApiResult<Value> {
    let covenant = load(state, id).await?;
    caller.require_signer(&covenant.bloc_id, unit)?;
    covenant.seat(unit)?;
    super::require_action(Action::Sign, &covenant)?;
    let doc = documents::current(state, id).await?;
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = hex(&bytes);
    let now = state.now();
    let key = key_of(&secret).ok_or_else(|| ApiError::internal("link secret"))?;
    state
        .store
        .put_desktop_link(
            &DesktopLink {
                secret_sha256: key,
                covenant_id: id.to_owned(),
                field: unit.to_owned(),
                base_sha256: doc.pdf_sha256.clone(),
                created_at: now,
            },
            LINK_TTL,
            MAX_LINKS_PER_UNIT,
        )
        .await?;
    Ok(json!({
        "download_url": format!("/desktop/{secret}/document.pdf"),
        "upload_url": format!("/desktop/{secret}/upload"),
        "upload_field": "uploadfile",
        "base_revision_index": doc.index,
        "base_revision_sha256": doc.pdf_sha256,
        "expires_at": rfc3339(now + LINK_TTL),
    }))
}

async fn create_links(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let links = desktop_links(&state, &caller, &id, &unit).await?;
    Ok((StatusCode::CREATED, Json(links)))
}

fn gone() -> ApiError {
    ApiError::not_found(
        "liên kết ký đã hết hạn hoặc đã được dùng; hãy tạo liên kết mới trên trang ký",
    )
}

async fn download(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> ApiResult<Response> {
    let key = key_of(&secret).ok_or_else(gone)?;
    let link = state
        .store
        .desktop_link(&key, state.now() - LINK_TTL)
        .await?
        .ok_or_else(gone)?;
    let pdf = state.blobs.get(&link.base_sha256).await?;
    Ok((
        [
            (header::CONTENT_TYPE, documents::PDF_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-{}.pdf\"",
                    link.covenant_id, link.field
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Bytes::from(pdf),
    )
        .into_response())
}

/// The answer a desktop signing tool reads.
fn tool_answer(status: StatusCode, ok: bool, message: &str, file: &str, server: &str) -> Response {
    (
        status,
        Json(json!({"Status": ok, "Message": message, "FileName": file, "FileServer": server})),
    )
        .into_response()
}

async fn upload(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    req: Request,
) -> Response {
    let not_before = state.now() - LINK_TTL;
    let link = match key_of(&secret) {
        Some(key) => state.store.take_desktop_link(&key, not_before).await,
        None => Ok(None),
    };
    let link = match link {
        Ok(Some(link)) => link,
        Ok(None) => return tool_answer(StatusCode::NOT_FOUND, false, &gone().to_string(), "", ""),
        Err(e) => {
            let e = ApiError::from(e);
            return tool_answer(e.status_code(), false, &e.to_string(), "", "");
        }
    };
    let (name, pdf) = match super::verification::first_file(req, &state).await {
        Ok(f) => f,
        Err(e) => return tool_answer(e.status_code(), false, &e.to_string(), "", ""),
    };
    let current_sha = documents::current(&state, &link.covenant_id)
        .await
        .map(|d| d.pdf_sha256.clone());
    if current_sha.as_deref().ok() != Some(link.base_sha256.as_str()) {
        let e = ApiError::conflict(
            "stale",
            "tài liệu đã có phiên bản mới (có đơn vị khác ký trước); hãy tạo liên kết mới và ký lại",
        );
        return tool_answer(StatusCode::CONFLICT, false, &e.to_string(), &name, "");
    }
    let actor = format!("{}/desktop-link", link.field);
    match super::uploads::accept_signed_file(
        &state,
        &actor,
        &link.covenant_id,
        &link.field,
        pdf,
        "one_time_url",
    )
    .await
    {
        Ok(answer) => {
            let server = answer
                .get("sha256")
                .and_then(Value::as_str)
                .map(|sha| format!("/covenants/{}/revisions/{sha}", link.covenant_id))
                .unwrap_or_default();
            tool_answer(
                StatusCode::OK,
                true,
                &format!("Đã nhận chữ ký của {}", link.field),
                &name,
                &server,
            )
        }
        Err(e) => {
            let head = e.to_string();
            let mut message = head.clone();
            if let ApiError::Invalid { details, .. } = &e {
                for d in details.iter().filter(|d| d.message != head) {
                    message.push_str("; ");
                    message.push_str(&d.message);
                }
            }
            tool_answer(e.status_code(), false, &message, &name, "")
        }
    }
}

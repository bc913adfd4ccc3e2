//! Downloads of the current revision's PDF and the DOCX, and the list of revisions.
//!
//! The current documents of each covenant are kept in memory ([`DocCache`]), so a download is
//! a map lookup: `ETag` is the quoted SHA-256 of the file, `If-None-Match` answers 304, and
//! `Content-Disposition` carries an ASCII fallback and the Vietnamese name
//! (`filename*=UTF-8''B%E1%BA%A3n%20giao…`, RFC 6266 and RFC 5987).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::auth::Caller;
use super::covenants::rfc3339;
use super::error::{ApiError, ApiResult};
use super::{AppState, Routes};
use crate::store::{Blobs, CovenantRow, RevisionRow, StoreError};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/covenants/{id}/document.pdf", |s, c, p, h, u| {
        file("pdf", s, c, p, h, u)
    })
    .get("/covenants/{id}/document.docx", |s, c, p, h, u| {
        file("docx", s, c, p, h, u)
    })
    .get("/covenants/{id}/revisions", revisions)
}

pub const PDF_TYPE: &str = "application/pdf";
pub const DOCX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Covenants whose documents are kept in memory at most; past it the cache starts over.
const CACHE_MAX: usize = 256;

/// A covenant's current documents.
pub(crate) struct CurrentDoc {
    pub(crate) bloc_id: String,
    pub(crate) year: i32,
    pub(crate) index: i64,
    pub(crate) pdf_sha256: String,
    pub(crate) pdf: Bytes,
    pub(crate) docx: Option<(String, Bytes)>,
}

/// The current documents by covenant id. Only a newer revision replaces an entry, so a slow
/// reader can never put an older revision back after a signature.
#[derive(Default)]
pub(crate) struct DocCache {
    map: RwLock<HashMap<String, Arc<CurrentDoc>>>,
}

impl DocCache {
    fn get(&self, id: &str) -> Option<Arc<CurrentDoc>> {
        self.map.read().ok()?.get(id).cloned()
    }

    /// Offers the documents of `revision`; kept if newer than what is cached (the DOCX of an
    /// older entry carries over: it does not change after freeze).
    pub(crate) fn offer(
        &self,
        covenant: &CovenantRow,
        revision: &RevisionRow,
        pdf: Bytes,
        docx: Option<(String, Bytes)>,
    ) -> Arc<CurrentDoc> {
        let mut doc = CurrentDoc {
            bloc_id: covenant.bloc_id.clone(),
            year: covenant.year,
            index: revision.index,
            pdf_sha256: revision.pdf_sha256.clone(),
            pdf,
            docx,
        };
        let Ok(mut map) = self.map.write() else {
            return Arc::new(doc);
        };
        if let Some(old) = map.get(&covenant.id) {
            let newer = doc.index > old.index || (doc.index == old.index && old.docx.is_none());
            if !newer {
                return Arc::clone(old);
            }
            if doc.docx.is_none() {
                doc.docx.clone_from(&old.docx);
            }
        }
        if map.len() >= CACHE_MAX && !map.contains_key(&covenant.id) {
            map.clear();
        }
        let doc = Arc::new(doc);
        map.insert(covenant.id.clone(), Arc::clone(&doc));
        doc
    }
}

/// The current documents of a covenant: from memory, or loaded (PDF and DOCX) and cached.
pub(crate) async fn current(state: &AppState, id: &str) -> ApiResult<Arc<CurrentDoc>> {
    // The store says which revision is current (another process, `giaouoc archive renew`,
    // may have appended one); the cache only saves reading its bytes again.
    let revision = match state.store.current_revision(id).await {
        Ok(r) => r,
        Err(StoreError::NotFound { .. }) => {
            let covenant = state.store.get_covenant(id).await?;
            return Err(ApiError::not_found(format!(
                "giao ước \"{id}\" chưa được khóa nên chưa có tài liệu (trạng thái {})",
                covenant.state
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(doc) = state.shared.docs.get(id)
        && doc.pdf_sha256 == revision.pdf_sha256
    {
        return Ok(doc);
    }
    let covenant = state.store.get_covenant(id).await?;
    let pdf = state.blobs.get(&revision.pdf_sha256).await?;
    let docx = match &covenant.docx_sha256 {
        Some(sha) => Some((sha.clone(), Bytes::from(state.blobs.get(sha).await?))),
        None => None,
    };
    Ok(state
        .shared
        .docs
        .offer(&covenant, &revision, pdf.into(), docx))
}

/// `GET /covenants/{id}/document.<ext>`: the current PDF or the DOCX. `?xem=1` on the PDF
/// serves it inline and frameable by this site's pages (the signing page shows it in the
/// browser's PDF viewer); otherwise it is an attachment that no page may frame.
async fn file(
    ext: &'static str,
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let mut response = current_file(&state, &caller, &id, &headers, ext).await?;
    let view = ext == "pdf"
        && uri
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "xem=1"));
    if view {
        let h = response.headers_mut();
        if let Some(v) = h
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| HeaderValue::from_str(&v.replacen("attachment", "inline", 1)).ok())
        {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'self'"),
        );
    }
    Ok(response)
}

/// The current PDF (`ext` = `pdf`, with its revision) or the DOCX of covenant `id`.
async fn current_file(
    state: &AppState,
    caller: &Caller,
    id: &str,
    headers: &HeaderMap,
    ext: &str,
) -> ApiResult<Response> {
    let doc = current(state, id).await?;
    caller.require_bloc(&doc.bloc_id)?;
    let (sha, bytes, content_type, revision) = if ext == "pdf" {
        (&doc.pdf_sha256, &doc.pdf, PDF_TYPE, Some(doc.index))
    } else {
        let Some((sha, bytes)) = &doc.docx else {
            return Err(ApiError::internal(format!("covenant {id} has no DOCX")));
        };
        (sha, bytes, DOCX_TYPE, None)
    };
    Ok(download(
        headers,
        sha,
        bytes.clone(),
        content_type,
        doc.year,
        ext,
        revision,
    ))
}

/// A file response with `ETag`, `Content-Disposition` and 304 on a matching `If-None-Match`.
pub(crate) fn download(
    headers: &HeaderMap,
    sha256: &str,
    bytes: Bytes,
    content_type: &'static str,
    year: i32,
    ext: &str,
    revision: Option<i64>,
) -> Response {
    let etag = format!("\"{sha256}\"");
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(index) = revision {
        out.insert("x-revision", HeaderValue::from(index));
    }
    if etag_matches(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(year, ext)) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    (StatusCode::OK, out, Body::from(bytes)).into_response()
}

/// Whether `If-None-Match` lists `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`.
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// `attachment; filename="ban-giao-uoc-2021.pdf"; filename*=UTF-8''B%E1%BA%A3n%20giao…`.
pub fn content_disposition(year: i32, ext: &str) -> String {
    let name = format!("Bản giao ước thi đua năm {year}.{ext}");
    format!(
        "attachment; filename=\"ban-giao-uoc-{year}.{ext}\"; filename*=UTF-8''{}",
        percent_encode_attr(&name)
    )
}

/// RFC 5987 `value-chars`: attr-chars as they are, every other byte of the UTF-8 as `%XX`.
fn percent_encode_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn revisions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    super::covenants::visible(&state, &caller, &id).await?;
    let revisions = state.store.revisions(&id).await?;
    let list: Vec<Value> = revisions
        .iter()
        .map(|r| {
            json!({
                "index": r.index, "sha256": r.pdf_sha256, "unit_id": r.unit_id,
                "kind": r.kind, "created_at": rfc3339(r.created_at),
                "signed_units": r.signed_units,
            })
        })
        .collect();
    Ok(Json(json!({ "covenant_id": id, "revisions": list })))
}

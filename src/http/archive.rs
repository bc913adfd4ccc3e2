//! The archive: a completed covenant's final PDF with the verification report made when it
//! was archived. Lookups by SHA-256 are public ("is this exact file one we archived?").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::Caller;
use super::covenants::rfc3339;
use super::documents::{self, PDF_TYPE};
use super::error::{ApiError, ApiResult};
use super::{AppState, Routes, at, blocking};
use crate::store::{ArchiveRow, Blobs, Stamp, is_sha256};
use crate::verify::{self, Verdict};
use crate::workflow::Action;

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/covenants/{id}/archive", archive)
        .get("/archive", list)
        .get("/archive/{sha256}", lookup)
        .get("/archive/{sha256}/document.pdf", download)
}

async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let row = archive_covenant(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&row, true))))
}

/// Verifies the completed covenant's current PDF with its bloc CA and archives it with the
/// report (admin or the leader unit).
pub(crate) async fn archive_covenant(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<ArchiveRow> {
    let covenant = super::covenants::load_for(state, caller, id, Action::Archive).await?;
    // PAdES B-LT and B-LTA if completion could not add them (the TSA was down, a restart).
    let last = state.store.revisions(id).await?.pop();
    if last.is_some_and(|r| r.kind != crate::store::RevisionKind::DocumentTimestamp) {
        super::tsa::make_long_term(state, id, "archive").await?;
    }
    let doc = documents::current(state, id).await?;
    let pdf = doc.pdf.clone();
    let opts = super::signatures::verify_options(state, &covenant.bloc_id).await?;
    let report = blocking(move || {
        verify::verify_pdf(&pdf, &opts)
            .map_err(|e| ApiError::internal(format!("verifying the final PDF: {e}")))
    })
    .await?;
    if report.verdict != Verdict::Valid || !report.unsigned_fields.is_empty() {
        return Err(ApiError::Invalid {
            code: "not_valid",
            message: format!(
                "tài liệu cuối cùng không hợp lệ ({:?}), không thể lưu trữ",
                report.verdict
            ),
            details: report
                .problems
                .iter()
                .map(|p| super::error::Detail::new("", p.vi.clone()))
                .collect(),
        });
    }
    let report = serde_json::to_value(&report).map_err(ApiError::internal)?;
    let actor = caller.actor();
    Ok(state
        .store
        .archive(
            &Stamp::new(&actor, state.now()),
            id,
            &doc.pdf_sha256,
            &report,
        )
        .await?)
}

fn view(row: &ArchiveRow, with_report: bool) -> Value {
    let mut v = json!({
        "pdf_sha256": row.pdf_sha256, "covenant_id": row.covenant_id,
        "archived_at": rfc3339(row.archived_at),
        "verdict": at(&row.report, "/verdict"),
        "level": level_of(&row.report),
        "document": format!("/archive/{}/document.pdf", row.pdf_sha256),
    });
    if with_report && let Some(obj) = v.as_object_mut() {
        obj.insert("report".into(), row.report.clone());
    }
    v
}

/// The PAdES level every signature of an archived report reaches (the lowest), if any.
fn level_of(report: &Value) -> Value {
    let levels: Vec<verify::PadesLevel> = report
        .get("signatures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| serde_json::from_value(s.get("level")?.clone()).ok())
        .collect();
    match levels.iter().min() {
        Some(l) => json!(l.as_str()),
        None => Value::Null,
    }
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let rows = archive_of(&state, &caller).await?;
    Ok(Json(json!({
        "archive": rows.iter().map(|r| view(r, false)).collect::<Vec<_>>(),
    })))
}

/// The archive entries the caller may list: all for the admin, its own bloc's for a unit.
/// (Looking one file up by its SHA-256 stays public.)
pub(crate) async fn archive_of(state: &AppState, caller: &Caller) -> ApiResult<Vec<ArchiveRow>> {
    let rows = state.store.list_archive().await?;
    let Caller::Unit { bloc_id, .. } = caller else {
        return Ok(rows);
    };
    let mut mine = Vec::with_capacity(rows.len());
    for row in rows {
        if &state.store.get_covenant(&row.covenant_id).await?.bloc_id == bloc_id {
            mine.push(row);
        }
    }
    Ok(mine)
}

/// A SHA-256 from the path: 64 hex digits (either case), else 400.
fn parse_sha(s: &str) -> ApiResult<String> {
    let lower = s.to_ascii_lowercase();
    if is_sha256(&lower) {
        Ok(lower)
    } else {
        Err(ApiError::bad_request(
            "bad_sha256",
            "mã băm phải gồm đúng 64 chữ số hệ 16 (SHA-256)",
        ))
    }
}

async fn found(state: &AppState, sha: &str) -> ApiResult<ArchiveRow> {
    state.store.archived(sha).await?.ok_or_else(|| {
        ApiError::not_found(format!("tệp có SHA-256 {sha} không có trong kho lưu trữ"))
    })
}

async fn lookup(State(state): State<AppState>, Path(sha): Path<String>) -> ApiResult<Json<Value>> {
    let sha = parse_sha(&sha)?;
    let row = found(&state, &sha).await?;
    Ok(Json(view(&row, true)))
}

async fn download(
    State(state): State<AppState>,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let sha = parse_sha(&sha)?;
    let row = found(&state, &sha).await?;
    let covenant = state.store.get_covenant(&row.covenant_id).await?;
    let bytes = state.blobs.get(&sha).await?;
    Ok(documents::download(
        &headers,
        &sha,
        bytes.into(),
        PDF_TYPE,
        covenant.year,
        "pdf",
        None,
    ))
}

//! The year after the signing over HTTP: evidence files, each unit's results at mid-year and
//! year end and their review, the bloc's consolidated results (achieved against target, in
//! Vietnamese numbers), scores and the ranking, the year-end conference, and next year's
//! covenant made from this one. The rules are [`crate::year`]'s and the store's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::covenants::{Loaded, load, load_for, rfc3339, visible};
use super::error::{ApiError, ApiResult, Detail};
use super::extract::{ApiJson, RawJson, parse_json};
use super::registrations::Review;
use super::{AppState, Routes};
use crate::covenant::{self, InputErrors, Scoring};
use crate::store::{Blobs as _, RegistrationStatus, ResultsRow, ScoreKind, Stamp, StoreError};
use crate::workflow::{Action, Seat};
use crate::year::{self, Period, YearDocument};

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/covenants/{id}/evidence/{unit}", upload_evidence)
        .get(
            "/covenants/{id}/evidence/{unit}/{sha256}",
            download_evidence,
        )
        .delete("/covenants/{id}/evidence/{unit}/{sha256}", remove_evidence)
        .get("/covenants/{id}/results/{period}", consolidated)
        .get("/covenants/{id}/results/{period}/{unit}", get_results)
        .put("/covenants/{id}/results/{period}/{unit}", put_results)
        .post(
            "/covenants/{id}/results/{period}/{unit}/review",
            review_results,
        )
        .get("/covenants/{id}/scores", scores)
        .put("/covenants/{id}/scores/{unit}", put_own_score)
        .put("/covenants/{id}/scores/{unit}/agreed", put_agreed_score)
        .get("/covenants/{id}/conference", get_conference)
        .put("/covenants/{id}/conference", put_conference)
        .post("/covenants/{id}/next-year", next_year)
        .get("/covenants/{id}/year-documents", list_year_documents)
        .get("/covenants/{id}/year-documents/{file}", year_document)
        .post("/covenants/{id}/year-documents/{file}", issue_year_document)
}

/// `InputErrors` as a 422 with `code`, every problem at its path.
fn invalid(code: &'static str, what: &str, errors: InputErrors) -> ApiError {
    let details: Vec<Detail> = errors
        .problems
        .into_iter()
        .map(|p| Detail::new(p.path, p.message))
        .collect();
    ApiError::Invalid {
        code,
        message: format!("{what} không hợp lệ ({} lỗi)", details.len()),
        details,
    }
}

fn period_of(s: &str) -> ApiResult<Period> {
    Period::parse(s).ok_or_else(|| {
        ApiError::not_found(format!(
            "kỳ báo cáo \"{s}\" không có (mid_year hoặc year_end)"
        ))
    })
}

/// The covenant, once `caller` may act for `unit` and the covenant is signed (results,
/// scores and the rest come after the signing): 403 before 409.
async fn for_unit(state: &AppState, caller: &Caller, id: &str, unit: &str) -> ApiResult<Loaded> {
    let row = load(state, id).await?;
    caller.require_unit(&row.bloc_id, unit)?;
    super::require_action(Action::ReportResults, &row)?;
    row.unit(unit)?;
    Ok(row)
}

fn scoring_of(row: &Loaded) -> ApiResult<&Scoring> {
    row.covenant.covenant.scoring.as_ref().ok_or_else(|| {
        ApiError::conflict(
            "no_scoring_table",
            format!(
                "giao ước \"{}\" không có khung tiêu chí chấm điểm (covenant.scoring)",
                row.id
            ),
        )
    })
}

#[derive(Deserialize)]
struct EvidenceQuery {
    name: Option<String>,
}

async fn upload_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    Query(q): Query<EvidenceQuery>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    for_unit(&state, &caller, &id, &unit).await?;
    if body.len() > year::MAX_EVIDENCE_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: year::MAX_EVIDENCE_BYTES,
        });
    }
    let content_type = year::evidence_type(&body).ok_or_else(|| {
        ApiError::invalid(
            "invalid_evidence",
            "",
            "tệp minh chứng phải là PDF, PNG hoặc JPEG",
        )
    })?;
    let name = q
        .name
        .map(|n| covenant::nfc(n.trim()))
        .filter(|n| !n.is_empty() && n.chars().count() <= 200 && !n.chars().any(char::is_control));
    let sha = state.blobs.put(&body).await?;
    let actor = caller.actor();
    let saved = state
        .store
        .add_evidence(
            &Stamp::new(&actor, state.now()),
            &id,
            &unit,
            &sha,
            content_type,
            i64::try_from(body.len()).unwrap_or(i64::MAX),
            name.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "sha256": saved.sha256, "content_type": saved.content_type, "size": saved.size,
            "file_name": saved.file_name, "uploaded_at": rfc3339(saved.uploaded_at),
            "url": format!("/covenants/{id}/evidence/{unit}/{}", saved.sha256),
        })),
    ))
}

async fn download_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit, sha)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    visible(&state, &caller, &id).await?;
    let file = state
        .store
        .evidence(&id, Some(&unit))
        .await?
        .into_iter()
        .find(|e| e.sha256 == sha)
        .ok_or_else(|| ApiError::not_found(format!("không có tệp minh chứng {sha}")))?;
    let bytes = state.blobs.get(&file.sha256).await?;
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `DELETE /covenants/{id}/evidence/{unit}/{sha256}` (the unit): a file uploaded by mistake
/// leaves the unit's list; 409 `evidence_in_use` while a report (draft or not) attaches it.
async fn remove_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit, sha)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    for_unit(&state, &caller, &id, &unit).await?;
    let actor = caller.actor();
    match state
        .store
        .remove_evidence(&Stamp::new(&actor, state.now()), &id, &unit, &sha)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound { .. }) => Err(ApiError::not_found(format!(
            "đơn vị \"{unit}\" không có tệp minh chứng {sha}"
        ))),
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(
            "evidence_in_use",
            "tệp minh chứng đang được đính kèm trong báo cáo kết quả; hãy bỏ đính kèm và lưu báo cáo trước khi xóa tệp",
        )),
        Err(e) => Err(e.into()),
    }
}

fn results_view(r: &ResultsRow) -> Value {
    json!({
        "covenant_id": r.covenant_id, "period": r.period, "unit_id": r.unit_id,
        "status": r.status, "version": r.version, "comment": r.comment, "data": r.data,
        "updated_at": rfc3339(r.updated_at),
    })
}

async fn get_results(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period, unit)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let period = period_of(&period)?;
    let row = Loaded::from_row(visible(&state, &caller, &id).await?)?;
    row.unit(&unit)?;
    match state.store.get_results(&id, period, &unit).await {
        Ok(r) => Ok(Json(results_view(&r))),
        Err(StoreError::NotFound { .. }) => Ok(Json(json!({
            "covenant_id": id, "period": period, "unit_id": unit, "status": "not_started",
            "version": 0, "comment": null, "data": null,
        }))),
        Err(e) => Err(e.into()),
    }
}

async fn put_results(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period, unit)): Path<(String, String, String)>,
    RawJson(body): RawJson,
) -> ApiResult<Json<Value>> {
    let period = period_of(&period)?;
    let row = for_unit(&state, &caller, &id, &unit).await?;
    let signed = super::covenants::signed_covenant(&state, &row).await?;
    let registration = &signed
        .unit(&unit)
        .ok_or_else(|| ApiError::not_found(format!("không có đơn vị \"{unit}\"")))?
        .registration;
    let (data, submit) = super::registrations::submission(parse_json(&body)?, "báo cáo kết quả")?;
    let results = year::results_from_value(&data, registration)
        .map_err(|e| invalid("invalid_results", "báo cáo kết quả", e))?;
    let files = state.store.evidence(&id, Some(&unit)).await?;
    results
        .check_evidence(&files.iter().map(|f| f.sha256.as_str()).collect())
        .map_err(|e| invalid("invalid_results", "báo cáo kết quả", e))?;
    let evidence: Vec<&str> = results.evidence_shas().into_iter().collect();
    let status = if submit {
        RegistrationStatus::Submitted
    } else {
        RegistrationStatus::Draft
    };
    let normalised = serde_json::to_value(&results).map_err(ApiError::internal)?;
    let actor = caller.actor();
    let saved = state
        .store
        .save_results(
            &Stamp::new(&actor, state.now()),
            &id,
            period,
            &unit,
            &normalised,
            &evidence,
            status,
        )
        .await?;
    Ok(Json(results_view(&saved)))
}

async fn review_results(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period, unit)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Review>,
) -> ApiResult<Json<Value>> {
    let period = period_of(&period)?;
    load_for(&state, &caller, &id, Action::ReviewResults).await?;
    let comment = body.comment("báo cáo kết quả")?;
    let actor = caller.actor();
    let saved = state
        .store
        .review_results(
            &Stamp::new(&actor, state.now()),
            &id,
            period,
            &unit,
            body.accept,
            comment.as_deref(),
        )
        .await?;
    Ok(Json(results_view(&saved)))
}

/// Every unit of the roster with its results for the period: per pledge the target, what
/// was achieved and the share of the target ("104,5%"); a unit without pledges or without
/// results is said to be so.
async fn consolidated(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let period = period_of(&period)?;
    let row = Loaded::from_row(visible(&state, &caller, &id).await?)?;
    super::require_action(Action::ReportResults, &row)?;
    consolidated_view(&state, &row, period).await.map(Json)
}

pub(crate) async fn consolidated_view(
    state: &AppState,
    row: &Loaded,
    period: Period,
) -> ApiResult<Value> {
    let id = &row.id;
    let signed = super::covenants::signed_covenant(state, row).await?;
    let stored = state.store.list_results(id, period).await?;
    let mut units = Vec::new();
    for unit in &signed.units {
        let found = stored.iter().find(|r| r.unit_id == unit.id);
        let results =
            found.and_then(|r| year::results_from_value(&r.data, &unit.registration).ok());
        let pledges: Vec<Value> = unit
            .registration
            .pledges
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let got = results.as_ref().and_then(|r| r.pledges.get(i));
                let achieved = got.and_then(|g| g.achieved);
                let percent = achieved.and_then(|a| year::percent_of_target(a, p.target));
                json!({
                    "text": p.text, "target": p.target, "unit": p.unit,
                    "target_text": p.target.map(|t| crate::template::target_text(t, p.unit.as_deref())),
                    "achieved": achieved,
                    "achieved_text": achieved.map(|a| crate::template::target_text(a, p.unit.as_deref())),
                    "percent": percent.map(|x| (x * 10.0).round() / 10.0),
                    "percent_text": percent.map(year::format_percent),
                    "text_result": got.and_then(|g| g.text.clone()),
                })
            })
            .collect();
        let note = match (unit.registration.pledges.is_empty(), found) {
            (_, None) => "Chưa báo cáo kết quả",
            (true, Some(_)) => "Đơn vị không đăng ký chỉ tiêu cụ thể; kết quả chung ở phần tóm tắt",
            (false, Some(_)) => "",
        };
        units.push(json!({
            "unit_id": unit.id, "name": unit.name,
            "status": found.map_or("not_started", |r| r.status.as_str()),
            "no_pledges": unit.registration.pledges.is_empty(),
            "reported": found.is_some(),
            "note": note,
            "summary": results.as_ref().and_then(|r| r.summary.clone()),
            "pledges": pledges,
        }));
    }
    let reported = units.iter().filter(|u| u["reported"] == true).count();
    Ok(json!({
        "covenant_id": id, "period": period, "period_label": period.label_vi(),
        "reported": reported, "units_total": units.len(), "units": units,
    }))
}

async fn put_own_score(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    RawJson(body): RawJson,
) -> ApiResult<Json<Value>> {
    let row = for_unit(&state, &caller, &id, &unit).await?;
    save_score(&state, &caller, &row, &unit, ScoreKind::Own, &body).await
}

async fn put_agreed_score(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    RawJson(body): RawJson,
) -> ApiResult<Json<Value>> {
    let row = load_for(&state, &caller, &id, Action::ReviewResults).await?;
    save_score(&state, &caller, &row, &unit, ScoreKind::Agreed, &body).await
}

async fn save_score(
    state: &AppState,
    caller: &Caller,
    row: &Loaded,
    unit: &str,
    kind: ScoreKind,
    body: &Bytes,
) -> ApiResult<Json<Value>> {
    row.unit(unit)?;
    let scoring = scoring_of(row)?;
    let sheet = year::score_sheet_from_value(&parse_json(body)?, scoring)
        .map_err(|e| invalid("invalid_scores", "bảng điểm", e))?;
    let total = sheet.total(scoring);
    let data = serde_json::to_value(&sheet).map_err(ApiError::internal)?;
    let actor = caller.actor();
    let saved = state
        .store
        .save_score(
            &Stamp::new(&actor, state.now()),
            &row.id,
            unit,
            kind,
            &data,
            total,
        )
        .await?;
    Ok(Json(json!({
        "unit_id": saved.unit_id, "kind": saved.kind, "total": saved.total,
        "total_text": crate::template::format_number(saved.total), "data": saved.data,
        "updated_at": rfc3339(saved.updated_at),
    })))
}

/// Each unit's own and agreed totals, and the ranking by the agreed ones: equal totals share
/// a rank and are marked; units without an agreed score are listed as such.
async fn scores(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = Loaded::from_row(visible(&state, &caller, &id).await?)?;
    scores_view(&state, &row).await.map(Json)
}

pub(crate) async fn scores_view(state: &AppState, row: &Loaded) -> ApiResult<Value> {
    let id = &row.id;
    let scoring = scoring_of(row)?;
    let stored = state.store.list_scores(id).await?;
    let total_of = |unit: &str, kind: ScoreKind| {
        stored
            .iter()
            .find(|s| s.unit_id == unit && s.kind == kind)
            .map(|s| s.total)
    };
    let agreed: Vec<(String, f64)> = row
        .covenant
        .units
        .iter()
        .filter_map(|u| total_of(&u.id, ScoreKind::Agreed).map(|t| (u.id.clone(), t)))
        .collect();
    let places = year::rank(&agreed);
    let name = |id: &str| {
        row.covenant
            .unit(id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let ranking: Vec<Value> = places
        .iter()
        .map(|p| {
            json!({
                "rank": p.rank, "tied": p.tied, "unit_id": p.unit_id, "name": name(&p.unit_id),
                "total": p.total, "total_text": crate::template::format_number(p.total),
                "own_total": total_of(&p.unit_id, ScoreKind::Own),
                "rank_text": if p.tied { format!("Đồng hạng {}", p.rank) } else { format!("Hạng {}", p.rank) },
            })
        })
        .collect();
    let unscored: Vec<Value> = row
        .covenant
        .units
        .iter()
        .filter(|u| total_of(&u.id, ScoreKind::Agreed).is_none())
        .map(|u| {
            json!({"unit_id": u.id, "name": u.name, "own_total": total_of(&u.id, ScoreKind::Own),
                        "note": "Chưa có điểm khối thống nhất"})
        })
        .collect();
    let ties = places.iter().filter(|p| p.tied).count();
    Ok(json!({
        "covenant_id": id, "scale": scoring.scale, "ranking": ranking, "unscored": unscored,
        "note": if ties > 0 {
            format!("Có {ties} đơn vị đồng hạng (bằng điểm); thứ hạng không phân định thêm")
        } else {
            String::new()
        },
    }))
}

#[derive(Deserialize)]
struct DocumentQuery {
    /// The document's date (YYYY-MM-DD); the conference's for the minutes, else today.
    date: Option<String>,
}

/// `GET /covenants/{id}/year-documents/{name}.pdf|.docx`: a draft of the mid-year report,
/// the year-end conference's minutes or the consolidated score table, rendered from the
/// year's records as they are now (the issued, signed one is
/// `POST /covenants/{id}/year-documents/{name}`'s).
async fn year_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<DocumentQuery>,
) -> ApiResult<Response> {
    let (stem, pdf) = match (file.strip_suffix(".pdf"), file.strip_suffix(".docx")) {
        (Some(stem), _) => (stem, true),
        (_, Some(stem)) => (stem, false),
        _ => return Err(ApiError::not_found(format!("không có tài liệu \"{file}\""))),
    };
    let kind = year_document_kind(stem)?;
    let row = Loaded::from_row(visible(&state, &caller, &id).await?)?;
    super::require_action(Action::ReportResults, &row)?;
    let (doc, _) = year_document_content(&state, &row, kind, q.date.as_deref()).await?;
    let bytes = super::blocking(move || {
        if pdf {
            crate::render_pdf::render_pdf(&doc, &crate::render_pdf::PdfOptions::default())
                .map(|r| r.bytes)
                .map_err(|e| ApiError::internal(format!("rendering the PDF: {e}")))
        } else {
            crate::render_docx::render_docx(&doc, &crate::render_docx::DocxOptions::default())
                .map_err(|e| ApiError::internal(format!("rendering the DOCX: {e}")))
        }
    })
    .await?;
    let content_type = if pdf {
        "application/pdf"
    } else {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn year_document_kind(name: &str) -> ApiResult<YearDocument> {
    YearDocument::parse(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "không có văn bản \"{name}\" (so-ket-6-thang, bien-ban-tong-ket hoặc bang-tong-hop-diem)"
        ))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    /// The document's date (YYYY-MM-DD); the conference's for the minutes, else today.
    #[serde(default)]
    date: Option<String>,
}

/// `POST /covenants/{id}/year-documents/{name}` (the leader unit): renders the document from
/// the year's records once, as a covenant is frozen, and issues it for signing: 201 with the
/// document (`/covenants/{document id}`: its PDF, DOCX, revisions, signatures, verification
/// and archive are a covenant's). Its fields: the head of the bloc's leader for the report and
/// the score table; the conference's chair (its unit's leader field) and secretary
/// (`{unit}-thu-ky`) for the minutes. Once per document (409 `already_issued`).
async fn issue_year_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<IssueRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let kind = year_document_kind(&name)?;
    let doc = issue(&state, &caller, &id, kind, body.date.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(super::covenants::covenant_view(&state, &doc).await?),
    ))
}

/// Issues `kind` of covenant `id` for signing (see [`issue_year_document`]); the document.
pub(crate) async fn issue(
    state: &AppState,
    caller: &Caller,
    id: &str,
    kind: YearDocument,
    date: Option<&str>,
) -> ApiResult<Loaded> {
    let row = load_for(state, caller, id, Action::IssueYearDocument).await?;
    if let Some(existing) = state
        .store
        .year_documents(id)
        .await?
        .into_iter()
        .find(|d| d.kind == Some(kind))
    {
        return Err(already_issued(kind, &existing.id));
    }
    let (doc, signers) = year_document_content(state, &row, kind, date).await?;
    let (pdf, docx) = super::blocking(move || {
        let pdf = crate::render_pdf::render_pdf(&doc, &crate::render_pdf::PdfOptions::default())
            .map_err(|e| ApiError::internal(format!("rendering the PDF: {e}")))?;
        let docx =
            crate::render_docx::render_docx(&doc, &crate::render_docx::DocxOptions::default())
                .map_err(|e| ApiError::internal(format!("rendering the DOCX: {e}")))?;
        Ok((pdf.bytes, docx))
    })
    .await?;
    let pdf_sha = state.blobs.put(&pdf).await?;
    let docx_sha = state.blobs.put(&docx).await?;
    let actor = caller.actor();
    let revision = state
        .store
        .issue_year_document(
            &Stamp::new(&actor, state.now()),
            id,
            kind,
            (&pdf_sha, &docx_sha),
            &signers,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => already_issued(kind, &kind.id_for(id)),
            e => e.into(),
        })?;
    let issued = load(state, &kind.id_for(id)).await?;
    state.shared.docs.offer(
        &issued,
        &revision,
        pdf.into(),
        Some((docx_sha, docx.into())),
    );
    tracing::info!(covenant = id, document = issued.id, "year document issued");
    Ok(issued)
}

fn already_issued(kind: YearDocument, doc_id: &str) -> ApiError {
    ApiError::conflict(
        "already_issued",
        format!(
            "{} đã được phát hành để ký (\"{doc_id}\"); văn bản đã phát hành không tạo lại",
            kind.label_vi()
        ),
    )
}

/// The document `kind` of covenant `row` from the year's records, and the fields to sign.
async fn year_document_content(
    state: &AppState,
    row: &Loaded,
    kind: YearDocument,
    date: Option<&str>,
) -> ApiResult<(crate::document::Document, Vec<String>)> {
    let id = row.id.as_str();
    let signed = super::covenants::signed_covenant(state, row).await?;
    let head_unit = signed
        .units
        .iter()
        .find(|u| u.role == covenant::Role::Leader)
        .ok_or_else(|| ApiError::internal("a signed covenant has its leader unit"))?;
    let head =
        json!({"id": head_unit.id, "unit": head_unit.name, "name": head_unit.signer.full_name});
    let mut signers = vec![Seat::Leader.field(&head_unit.id)];
    let mut context = match kind {
        YearDocument::MidYearReport => consolidated_view(state, row, Period::MidYear).await?,
        YearDocument::Scores => {
            let view = scores_view(state, row).await?;
            let own = |v: &Value| {
                v.as_f64()
                    .map_or("-".to_owned(), crate::template::format_number)
            };
            let rows: Vec<Value> = super::at(&view, "/ranking")
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    json!({"rank_text": r["rank_text"], "name": r["name"],
                                "own_text": own(&r["own_total"]), "agreed_text": r["total_text"]})
                })
                .collect();
            let unscored: Vec<Value> = super::at(&view, "/unscored")
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| json!({"name": r["name"], "own_text": own(&r["own_total"])}))
                .collect();
            json!({"scale": super::at(&view, "/scale"), "rows": rows, "unscored": unscored,
                   "note": super::at(&view, "/note")})
        }
        YearDocument::Minutes => {
            let data = state.store.conference(id).await?.ok_or_else(|| {
                ApiError::conflict(
                    "no_conference",
                    format!("giao ước \"{id}\" chưa có kết quả hội nghị tổng kết để lập biên bản"),
                )
            })?;
            let c: year::Conference = serde_json::from_value(data).map_err(ApiError::internal)?;
            signers = vec![
                Seat::Leader.field(&c.chair.unit),
                Seat::Secretary.field(&c.secretary.unit),
            ];
            let name = |u: &str| {
                signed
                    .unit(u)
                    .map_or_else(|| u.to_owned(), |x| x.name.clone())
            };
            let mut votes: Vec<(&String, &u32)> = c.flag_votes.iter().collect();
            votes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            json!({"conference": {
                "date": c.date, "place": c.place, "chair": c.chair, "secretary": c.secretary,
                "chair_unit": name(&c.chair.unit), "secretary_unit": name(&c.secretary.unit),
                "chair_field": Seat::Leader.field(&c.chair.unit),
                "secretary_field": Seat::Secretary.field(&c.secretary.unit),
                "attending_names": c.attending.iter().map(|u| name(u)).collect::<Vec<_>>(),
                "absent_names": signed.units.iter().filter(|u| !c.attending.contains(&u.id)).map(|u| u.name.clone()).collect::<Vec<_>>(),
                "units_total": signed.units.len(),
                "flag_votes": votes.iter().map(|(u, v)| json!({"name": name(u), "votes": v})).collect::<Vec<_>>(),
                "flag_name": c.flag_unit().map(name),
                "election": {"head_name": name(&c.election.head), "head_votes": c.election.head_votes,
                             "deputy_name": name(&c.election.deputy), "deputy_votes": c.election.deputy_votes},
            }})
        }
    };
    let date = match (date, kind) {
        (Some(d), _) => covenant::parse_iso_date(d).ok_or_else(|| {
            ApiError::invalid(
                "invalid_field",
                "date",
                format!("ngày không hợp lệ \"{d}\" (YYYY-MM-DD)"),
            )
        })?,
        (None, YearDocument::Minutes) => super::at(&context, "/conference/date")
            .as_str()
            .and_then(covenant::parse_iso_date)
            .ok_or_else(|| ApiError::internal("the conference's date"))?,
        (None, _) => state.now().to_offset(time::macros::offset!(+7)).date(),
    };
    if let Some(o) = context.as_object_mut() {
        o.insert(
            "bloc".into(),
            serde_json::to_value(&signed.bloc).map_err(ApiError::internal)?,
        );
        o.insert("year".into(), json!(signed.covenant.year));
        o.insert("recipients".into(), json!(signed.covenant.recipients));
        o.insert("head".into(), head);
        o.insert(
            "doc".into(),
            json!({"number": format!("    /{}-KTĐ", kind.symbol()), "date": covenant::format_iso_date(date)}),
        );
    }
    let st = state.clone();
    let doc = super::blocking(move || {
        st.shared
            .template
            .fill_year(kind.template(), &context, date)
            .map_err(|e| ApiError::internal(format!("the year's document: {e}")))
    })
    .await?;
    Ok((doc, signers))
}

/// `GET /covenants/{id}/year-documents`: the year's documents issued from the covenant.
async fn list_year_documents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, &id).await?;
    let mut out = Vec::new();
    for d in state.store.year_documents(&id).await? {
        let current = state.store.current_revision(&d.id).await?;
        out.push(json!({
            "id": d.id, "kind": d.kind, "state": d.state,
            "signed_fields": current.signed_fields, "unsigned_fields": current.unsigned_fields,
            "url": format!("/covenants/{}", d.id),
            "pdf": format!("/covenants/{}/document.pdf", d.id),
            "docx": format!("/covenants/{}/document.docx", d.id),
        }));
    }
    Ok(Json(json!({"covenant_id": id, "documents": out})))
}

async fn get_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, &id).await?;
    let conference = state.store.conference(&id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "giao ước \"{id}\" chưa có kết quả hội nghị tổng kết"
        ))
    })?;
    Ok(Json(conference_view(&conference)))
}

fn conference_view(data: &Value) -> Value {
    let flag = serde_json::from_value::<year::Conference>(data.clone())
        .ok()
        .and_then(|c| c.flag_unit().map(str::to_owned));
    json!({"conference": data, "flag_unit": flag})
}

async fn put_conference(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    RawJson(body): RawJson,
) -> ApiResult<Json<Value>> {
    let row = load_for(&state, &caller, &id, Action::ReviewResults).await?;
    let conference = year::conference_from_value(&parse_json(&body)?, &row.covenant)
        .map_err(|e| invalid("invalid_conference", "biên bản hội nghị", e))?;
    let data = serde_json::to_value(&conference).map_err(ApiError::internal)?;
    let actor = caller.actor();
    state
        .store
        .save_conference(&Stamp::new(&actor, state.now()), &id, &data)
        .await?;
    Ok(Json(conference_view(&data)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NextYear {
    /// Next year's head and deputy; the conference's election when absent.
    head: Option<String>,
    deputy: Option<String>,
    #[serde(default)]
    remove_units: Vec<String>,
    #[serde(default)]
    add_units: Vec<Value>,
}

/// Next year's covenant from this one, in one action: created and opened for registration.
async fn next_year(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NextYear>,
) -> ApiResult<impl IntoResponse> {
    let row = load_for(&state, &caller, &id, Action::CreateNextYear).await?;
    if let Some(next) = state.store.successor(&id).await? {
        return Err(ApiError::conflict(
            "exists",
            format!("giao ước năm sau của \"{id}\" đã được tạo: \"{next}\""),
        ));
    }
    let election = state
        .store
        .conference(&id)
        .await?
        .and_then(|c| serde_json::from_value::<year::Conference>(c).ok())
        .map(|c| c.election);
    let head = body
        .head
        .or_else(|| election.as_ref().map(|e| e.head.clone()));
    let deputy = body
        .deputy
        .or_else(|| election.as_ref().map(|e| e.deputy.clone()));
    let (Some(head), Some(deputy)) = (head, deputy) else {
        return Err(ApiError::invalid(
            "invalid_field",
            "head",
            "chưa có kết quả bầu trưởng khối, phó trưởng khối: ghi kết quả hội nghị tổng kết trước, hoặc nêu \"head\" và \"deputy\"",
        ));
    };
    let (input, _) = year::next_year_input(
        &row.input,
        &head,
        &deputy,
        &body.remove_units,
        &body.add_units,
        false,
    )
    .map_err(|e| invalid("invalid_covenant", "giao ước năm sau", e))?;
    let bytes = Bytes::from(serde_json::to_vec(&input).map_err(ApiError::internal)?);
    let created = super::covenants::record_covenant(&state, &caller, bytes).await?;
    let actor = caller.actor();
    state
        .store
        .link_successor(&Stamp::new(&actor, state.now()), &id, &created.id)
        .await?;
    // Opened here rather than through the leader-unit check: the roster just made the
    // elected head the bloc's leader unit, whoever asked.
    state
        .store
        .transition(
            &Stamp::new(&actor, state.now()),
            &created.id,
            crate::workflow::State::Draft,
            crate::workflow::State::Registration,
        )
        .await?;
    let opened = load(&state, &created.id).await?;
    let view = super::covenants::covenant_view(&state, &opened).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/covenants/{}", opened.id))],
        Json(view),
    ))
}

//! `POST /covenants/{id}/signatures/{unit}/upload` (the unit's leader): a covenant signed
//! elsewhere (vSignPDF, the government CA's sign service, Acrobat, Foxit, pyHanko), as the raw
//! body or the first file of a multipart form.
//!
//! Accepted only when the file is the current revision byte for byte followed by incremental
//! updates (ISO 32000-2 §7.5.6) that add exactly one signature, in this unit's field, which is
//! intact, valid, trusted and bound to the unit (a bloc certificate of the unit, or the
//! certificate the unit enrolled), every earlier signature still valid and nothing else changed
//! but the maintenance the verifier allows. A file based on an older revision is a 409 `stale`
//! naming the current one; anything else a 422 with the reasons in Vietnamese; nothing is
//! stored unless it is accepted. The audit event records the path and the signing tool the
//! signature dictionary names (`/Prop_Build /App`, ISO 32000-2 §12.8.1 and the PDF Signature
//! Build Dictionary Specification).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::Caller;
use super::covenants::load;
use super::documents;
use super::error::{ApiError, ApiResult, Detail};
use super::ops::incr;
use super::signatures::{completion_answer, stale, verify_options};
use super::{AppState, Routes, blocking, hex};
use crate::pdf::{Limits, Object, PdfFile};
use crate::store::{Blobs, Stamp};
use crate::verify::{self, BindingRule, Verdict};
use crate::workflow::Action;

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/covenants/{id}/signatures/{unit}/upload", upload)
}

async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Json<Value>> {
    let pdf = super::verification::uploaded_pdf(req, &state).await?;
    let actor = caller.actor();
    let covenant = load(&state, &id).await?;
    caller.require_signer(&covenant.bloc_id, &unit)?;
    accept_signed_file(&state, &actor, &id, &unit, pdf, "upload")
        .await
        .map(Json)
}

/// Checks a file signed elsewhere for `unit` (see the module documentation) and appends it as
/// the next revision. `path` names how it arrived (`upload`, `one_time_url`) in the audit.
pub(crate) async fn accept_signed_file(
    state: &AppState,
    actor: &str,
    id: &str,
    unit: &str,
    pdf: Bytes,
    path: &str,
) -> ApiResult<Value> {
    let covenant = load(state, id).await?;
    covenant.seat(unit)?;
    super::require_action(Action::Sign, &covenant)?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(ApiError::invalid(
            "not_a_pdf",
            "file",
            "tệp tải lên không phải là PDF",
        ));
    }
    let doc = documents::current(state, id).await?;
    if pdf == doc.pdf {
        return Err(ApiError::invalid(
            "no_new_signature",
            "file",
            "tệp tải lên chính là bản hiện tại, chưa có chữ ký mới nào",
        ));
    }
    if !pdf.starts_with(&doc.pdf) {
        let revisions = state.store.revisions(id).await?;
        let older: Vec<&str> = revisions
            .iter()
            .filter(|r| r.pdf_sha256 != doc.pdf_sha256)
            .map(|r| r.pdf_sha256.as_str())
            .collect();
        let prefixes = revision_prefix_hashes(&pdf);
        if prefixes.iter().any(|h| older.contains(&h.as_str())) {
            incr(&state.shared.metrics.stale_completions);
            return Err(stale(&doc.pdf_sha256, doc.index));
        }
        let message = format!(
            "tệp tải lên không bắt đầu bằng bản hiện tại của giao ước (phiên bản {}); chỉ được thêm chữ ký bằng cập nhật gia tăng, không được sửa hay lưu lại toàn bộ tệp",
            doc.index
        );
        return Err(ApiError::invalid("not_this_revision", "file", message));
    }
    let opts = verify_options(state, &covenant.bloc_id).await?;
    let base_len = doc.pdf.len();
    let field = unit.to_owned();
    let bytes = pdf.clone();
    let tool = blocking(move || {
        let report = verify::verify_pdf(&bytes, &opts).map_err(|e| {
            ApiError::invalid("not_a_pdf", "file", format!("không đọc được tệp PDF: {e}"))
        })?;
        judge(&report, base_len, &field)?;
        let stamped = report
            .signatures
            .iter()
            .find(|s| s.field == field)
            .is_some_and(|s| s.level.is_some_and(|l| l > verify::PadesLevel::BB));
        Ok((signing_tool(&bytes, &field), stamped))
    })
    .await?;
    let (tool, stamped) = tool;
    let new_sha = state.blobs.put(&pdf).await?;
    let note = json!({"path": path, "tool": tool});
    let revision = state
        .store
        .append_revision_noted(
            &Stamp::new(actor, state.now()),
            id,
            &doc.pdf_sha256,
            &new_sha,
            unit,
            &note,
        )
        .await?;
    let covenant = load(state, id).await?;
    state
        .shared
        .docs
        .offer(&covenant, &revision, pdf.clone(), None);
    incr(&state.shared.metrics.signatures_completed);
    tracing::info!(
        covenant = id,
        unit,
        index = revision.index,
        path,
        "signed file accepted"
    );
    // A signature without a trusted time-stamp gets a document time-stamp at once (B-T).
    let mut stamp_index = None;
    if !stamped {
        match super::tsa::add_document_timestamp(
            state,
            id,
            pdf,
            &revision.pdf_sha256,
            json!({"reason": "signature_without_time_stamp", "unit": unit}),
        )
        .await
        {
            Ok((r, _)) => stamp_index = Some(r.index),
            Err(e) => {
                tracing::warn!(covenant = id, unit, error = %e, "document time-stamp not added");
            }
        }
    }
    let long_term = super::signatures::after_last_signature(state, id, &revision).await;
    let covenant = load(state, id).await?;
    let mut answer = completion_answer(&covenant, &revision, unit);
    if let Some(a) = answer.as_object_mut() {
        a.insert("tool".into(), json!(tool));
        if let Some(i) = stamp_index {
            a.insert("document_timestamp_index".into(), json!(i));
        }
        if let Some(i) = long_term {
            a.insert("long_term_index".into(), json!(i));
        }
    }
    Ok(answer)
}

/// SHA-256 of the file up to the end of each of its revisions (after `%%EOF` and its end of
/// line), to recognise a file built on an older revision of the covenant.
fn revision_prefix_hashes(pdf: &[u8]) -> Vec<String> {
    let Ok(file) = PdfFile::parse(pdf, &Limits::default()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rev in file.revisions() {
        if let Some(end) = rev.end_offset {
            for cut in [end.saturating_sub(1), end] {
                if let Some(prefix) = pdf.get(..cut) {
                    out.push(hex(&Sha256::digest(prefix)));
                }
            }
        }
    }
    out
}

/// The rules of the module documentation, on the verifier's report of the uploaded file whose
/// first `base_len` bytes are the current revision.
fn judge(report: &verify::VerificationReport, base_len: usize, unit: &str) -> ApiResult<()> {
    let base = u64::try_from(base_len).unwrap_or(u64::MAX);
    let new: Vec<&verify::SignatureReport> = report
        .signatures
        .iter()
        .filter(|s| {
            s.byte_range
                .is_none_or(|r| r[2].saturating_add(r[3]) > base)
        })
        .collect();
    let refuse = |code: &'static str, message: String, s: Option<&verify::SignatureReport>| {
        let mut details: Vec<Detail> = report
            .problems
            .iter()
            .map(|m| Detail::new("file", m.vi.clone()))
            .collect();
        if let Some(s) = s {
            details.extend(s.problems.iter().map(|m| Detail::new("file", m.vi.clone())));
            details.extend(
                s.changes_after
                    .iter()
                    .filter(|c| !c.allowed)
                    .map(|c| Detail::new("file", c.description_vi.clone())),
            );
        }
        if details.is_empty() {
            details.push(Detail::new("file", message.clone()));
        }
        Err(ApiError::Invalid {
            code,
            message,
            details,
        })
    };
    let sig = match new.as_slice() {
        [] => {
            return refuse(
                "no_new_signature",
                "tệp tải lên không có chữ ký mới nào".into(),
                None,
            );
        }
        [one] => *one,
        more => {
            return refuse(
                "several_new_signatures",
                format!(
                    "tệp tải lên thêm {} chữ ký (ô {}); mỗi lần chỉ được thêm đúng một chữ ký của đơn vị \"{unit}\"",
                    more.len(),
                    more.iter()
                        .map(|s| s.field.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            );
        }
    };
    if sig.field != unit {
        return refuse(
            "wrong_field",
            format!(
                "chữ ký mới nằm ở ô \"{}\", không phải ô của đơn vị \"{unit}\"",
                sig.field
            ),
            Some(sig),
        );
    }
    if !(sig.intact && sig.valid) {
        return refuse(
            "invalid_signature",
            "chữ ký mới không hợp lệ (tài liệu bị thay đổi hoặc chữ ký không khớp)".into(),
            Some(sig),
        );
    }
    if !sig.trusted {
        return refuse(
            "untrusted_certificate",
            "chứng thư số của chữ ký mới không dẫn tới một CA gốc được tin cậy".into(),
            Some(sig),
        );
    }
    if !matches!(
        sig.binding.rule,
        BindingRule::UnitIdInCertificate | BindingRule::EnrolledCertificate
    ) || !sig.field_matches_certificate
    {
        return refuse(
            "unenrolled_certificate",
            format!(
                "chứng thư số của chữ ký mới không phải của đơn vị \"{unit}\" (không do CA của khối cấp cho đơn vị, cũng chưa được đơn vị đăng ký)"
            ),
            Some(sig),
        );
    }
    if report.verdict != Verdict::Valid {
        let bad = report
            .signatures
            .iter()
            .find(|s| !s.problems.is_empty() || s.changes_after.iter().any(|c| !c.allowed));
        return refuse(
            "document_changed",
            "tệp tải lên không hợp lệ: ngoài chữ ký mới còn có thay đổi không được phép, hoặc một chữ ký trước không còn hợp lệ".into(),
            bad,
        );
    }
    Ok(())
}

/// The signing application the new signature's dictionary names (`/Prop_Build /App /Name` and
/// `/REx`), else the document's `/Producer`.
fn signing_tool(pdf: &[u8], field: &str) -> Option<String> {
    let file = PdfFile::parse(pdf, &Limits::default()).ok()?;
    let last = file.last_revision();
    let mut budget = crate::pdf::walk::Budget::new(crate::pdf::walk::MAX_WORK);
    let scan = crate::pdf::walk::scan_fields(&file, last, &mut budget);
    let text = |o: &Object| match o {
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        Object::String(s) => Some(crate::pdf::decode_text_string(&s.bytes)),
        _ => None,
    };
    let resolve = |o: &Object| match o {
        Object::Reference(r) => file.resolve(*r, last).ok(),
        other => Some(other.clone()),
    };
    let from_build = scan
        .fields
        .iter()
        .find(|f| f.is_signature && f.name == field)
        .and_then(|f| f.obj)
        .and_then(|r| file.resolve(r, last).ok())
        .and_then(|f| f.as_dict().and_then(|d| d.get(b"V")).and_then(resolve))
        .and_then(|v| {
            v.as_dict()
                .and_then(|d| d.get(b"Prop_Build"))
                .and_then(resolve)
        })
        .and_then(|b| b.as_dict().and_then(|d| d.get(b"App")).and_then(resolve))
        .and_then(|app| {
            let d = app.as_dict()?;
            let name = d.get(b"Name").and_then(text)?;
            Some(match d.get(b"REx").and_then(text) {
                Some(v) => format!("{name} {v}"),
                None => name,
            })
        });
    let tool = from_build.or_else(|| {
        let info = file.trailer()?.get(b"Info").and_then(resolve)?;
        info.as_dict()?.get(b"Producer").and_then(text)
    })?;
    let tool: String = tool.chars().filter(|c| !c.is_control()).take(120).collect();
    (!tool.trim().is_empty()).then(|| tool.trim().to_owned())
}

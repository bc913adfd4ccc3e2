//! `POST /verify` (public): a PDF as the raw body or as the first file of a multipart form;
//! the answer is the verifier's report (`giaouoc.verification/2`) with the bloc CAs as trust
//! roots. Bodies over the configured limit get 413.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;

use super::error::{ApiError, ApiResult};
use super::extract::read_body;
use super::ops::incr;
use super::{AppState, Routes, blocking};
use crate::verify::{self, VerificationReport, VerifyOptions};

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/verify", verify_upload)
}

async fn verify_upload(
    State(state): State<AppState>,
    req: Request,
) -> ApiResult<Json<VerificationReport>> {
    let pdf = uploaded_pdf(req, &state).await?;
    let report = verify_bytes(&state, pdf).await?;
    Ok(Json(report))
}

/// An uploaded file: the raw body, or the first file of a multipart form; over `max_upload`
/// a 413.
pub(crate) async fn uploaded_pdf(req: Request, state: &AppState) -> ApiResult<Bytes> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, state.max_upload).await?;
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
    if multipart {
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        Ok(first_file(req, state).await?.1)
    } else {
        Ok(bytes)
    }
}

/// The first part of a multipart form that has a body, with its file name: a part over
/// `max_upload` is a 413, a form without a file a 422 `no_file`.
pub(crate) async fn first_file(req: Request, state: &AppState) -> ApiResult<(String, Bytes)> {
    let too_large = || ApiError::PayloadTooLarge {
        limit: state.max_upload,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request("bad_multipart", format!("biểu mẫu multipart lỗi: {e}"))
        }
    };
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::bad_request("bad_multipart", e.body_text()))?;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.file_name().unwrap_or("tệp").to_owned();
        let data = field.bytes().await.map_err(bad)?;
        if data.len() > state.max_upload {
            return Err(too_large());
        }
        if !data.is_empty() {
            return Ok((name, data));
        }
    }
    Err(ApiError::invalid(
        "no_file",
        "",
        "biểu mẫu không có tệp PDF nào",
    ))
}

/// Recent verification reports by (file SHA-256, trust roots). A report is a pure function of
/// the bytes and the trust roots (chains are checked at the claimed signing time, not now), so
/// the same archived covenant checked again and again is verified once. Bounded; the oldest
/// entry goes first.
#[derive(Default)]
pub(crate) struct ReportCache {
    inner: std::sync::Mutex<std::collections::VecDeque<([u8; 32], Arc<VerificationReport>)>>,
}

impl ReportCache {
    const CAPACITY: usize = 64;

    fn get(&self, key: &[u8; 32]) -> Option<Arc<VerificationReport>> {
        let guard = self.inner.lock().ok()?;
        guard
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| Arc::clone(r))
    }

    fn put(&self, key: [u8; 32], report: Arc<VerificationReport>) {
        if let Ok(mut guard) = self.inner.lock() {
            if guard.iter().any(|(k, _)| *k == key) {
                return;
            }
            if guard.len() >= Self::CAPACITY {
                guard.pop_front();
            }
            guard.push_back((key, report));
        }
    }
}

/// Verifies `pdf` with every bloc CA as trust root.
pub(crate) async fn verify_bytes(state: &AppState, pdf: Bytes) -> ApiResult<VerificationReport> {
    use sha2::{Digest, Sha256};
    let roots = state.trust_roots().await?;
    // A signature without a time-stamp is judged at the time of verification: a report is
    // reused within the minute only.
    let now = state.now();
    let key: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(now.unix_timestamp().div_euclid(60).to_be_bytes());
        for root in &roots {
            if let Ok(der) = crate::pki::certificate_to_der(root) {
                h.update(Sha256::digest(&der));
            }
        }
        h.update(Sha256::digest(&pdf));
        h.finalize().into()
    };
    if let Some(report) = state.shared.reports.get(&key) {
        incr(&state.shared.metrics.verifications);
        return Ok((*report).clone());
    }
    let report = blocking(move || {
        verify::verify_pdf(
            &pdf,
            &VerifyOptions {
                trust_roots: roots,
                at: Some(now),
                ..VerifyOptions::default()
            },
        )
        .map_err(|e| ApiError::invalid("unreadable_pdf", "", e.to_string()))
    })
    .await?;
    incr(&state.shared.metrics.verifications);
    state.shared.reports.put(key, Arc::new(report.clone()));
    Ok(report)
}

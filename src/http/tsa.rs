//! Time-stamps and long-term validation in the service.
//!
//! - `POST /tsa`: the built-in RFC 3161 TSA (§3.4: `application/timestamp-query` in,
//!   `application/timestamp-reply` out), for blocs that have none. Its root is a trust root of
//!   every verification and is written next to the bloc CA in the demo keys folder.
//! - `GET /tsa/ca.pem`, `GET /tsa/ca.crl`: its root and the CRL of its certificate.
//! - [`stamp_signature`]: every completed signature gets a signature time-stamp from the
//!   configured source (the built-in TSA, or `--tsa-url` whose tokens are checked first):
//!   PAdES B-T.
//! - [`add_document_timestamp`]: a document time-stamp revision (an upload without a signature
//!   time-stamp; the last step of long-term validation).
//! - [`make_long_term`]: once every unit signed, one `/DSS` revision with the certificates and
//!   CRLs that validate every signature and time-stamp (B-LT), then a document time-stamp
//!   (B-LTA).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand_core::{OsRng, RngCore};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;

use super::error::{ApiError, ApiResult};
use super::{AppState, Routes, blocking, documents};
use crate::ca::BlocCa;
use crate::pki::{self, alg::HashAlg};
use crate::sign::{self, ltv};
use crate::store::{Blobs, RevisionKind, RevisionRow, Stamp};
use crate::tsp::{self, Authority, MessageImprint, Stamper, TokenTrust};

/// Largest time-stamp request accepted.
const MAX_REQUEST: usize = 16 * 1024;
/// The built-in TSA's CRL is valid this long.
const CRL_DAYS: i64 = 7;

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/tsa", time_stamp)
        .get("/tsa/ca.pem", root_pem)
        .get("/tsa/ca.crl", root_crl)
}

/// The service's time-stamping: the built-in TSA (always there: its root is trusted and its
/// CRL published) and where signatures get their time-stamps from.
pub(crate) struct TimeStamping {
    /// The built-in TSA.
    pub(crate) authority: Arc<Authority>,
    /// Its issuing CA.
    root: BlocCa,
    /// Where time-stamps come from.
    pub(crate) stamper: Stamper,
}

impl TimeStamping {
    /// The built-in TSA under `<data_dir>/tsa/`, created on first use, and the stamper
    /// (`remote`, else the built-in TSA).
    pub(crate) fn open(
        data_dir: &std::path::Path,
        policy: der::asn1::ObjectIdentifier,
        remote: Option<tsp::RemoteTsa>,
        now: OffsetDateTime,
        master: Option<&crate::secrets::MasterKey>,
    ) -> Result<TimeStamping, crate::ca::CaError> {
        let (authority, root) = Authority::open_or_create_with_root(
            &data_dir.join("tsa"),
            "CA dấu thời gian giaouoc",
            policy,
            now,
            &mut OsRng,
            master,
        )?;
        let authority = Arc::new(authority);
        let stamper = match remote {
            Some(r) => Stamper::Remote(r),
            None => Stamper::BuiltIn(Arc::clone(&authority)),
        };
        Ok(TimeStamping {
            authority,
            root,
            stamper,
        })
    }

    /// [`TimeStamping::open`]; with a shared database, the TSA's folder comes from it (the
    /// first instance to start publishes the one it created, the others take it).
    pub(crate) async fn open_shared(
        data_dir: &std::path::Path,
        shared: Option<&crate::store::Store>,
        policy: der::asn1::ObjectIdentifier,
        remote: Option<tsp::RemoteTsa>,
        now: OffsetDateTime,
        master: Option<&crate::secrets::MasterKey>,
    ) -> Result<TimeStamping, ApiError> {
        let failed =
            |e: &dyn std::fmt::Display| ApiError::internal(format!("the built-in TSA: {e}"));
        let Some(store) = shared else {
            return Self::open(data_dir, policy, remote, now, master).map_err(|e| failed(&e));
        };
        let stored = store.service_keys("tsa/").await?;
        crate::secrets::write_key_files(data_dir, &stored).map_err(|e| failed(&e))?;
        // Opens the folder (creating the TSA if it is empty), then publishes it.
        Self::open(data_dir, policy, remote.clone(), now, master).map_err(|e| failed(&e))?;
        let local = crate::secrets::read_key_files(data_dir, "tsa").map_err(|e| failed(&e))?;
        let winners = store.put_service_keys_if_absent(&local, now).await?;
        if winners != local {
            // Another instance published its TSA first: take it.
            let _ = std::fs::remove_dir_all(data_dir.join("tsa"));
            crate::secrets::write_key_files(data_dir, &winners).map_err(|e| failed(&e))?;
        }
        Self::open(data_dir, policy, remote, now, master).map_err(|e| failed(&e))
    }

    /// The built-in TSA's root certificate.
    pub(crate) fn root(&self) -> &Certificate {
        &self.root.cert
    }

    /// The CRL of the built-in TSA's certificate (nothing revoked), issued at the start of the
    /// hour of `now`.
    fn crl(&self, now: OffsetDateTime) -> ApiResult<Vec<u8>> {
        let hour = now.unix_timestamp().div_euclid(3600);
        let this_update = OffsetDateTime::from_unix_timestamp(hour.saturating_mul(3600))
            .map_err(ApiError::internal)?;
        self.root
            .crl(
                &[],
                this_update,
                this_update + Duration::days(CRL_DAYS),
                u64::try_from(hour).unwrap_or(0),
            )
            .map_err(ApiError::internal)
    }
}

async fn time_stamp(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .trim()
        .eq_ignore_ascii_case("application/timestamp-query")
    {
        return ApiError::bad_request(
            "bad_content_type",
            "yêu cầu dấu thời gian phải có Content-Type: application/timestamp-query (RFC 3161)",
        )
        .into_response();
    }
    if body.len() > MAX_REQUEST {
        return ApiError::PayloadTooLarge { limit: MAX_REQUEST }.into_response();
    }
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    let reply = state
        .shared
        .tsa
        .authority
        .respond(&body, &serial, state.now());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/timestamp-reply")],
        reply,
    )
        .into_response()
}

async fn root_pem(State(state): State<AppState>) -> ApiResult<Response> {
    let pem = pki::certificate_to_pem(state.shared.tsa.root()).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response())
}

async fn root_crl(State(state): State<AppState>) -> ApiResult<Response> {
    let der = state.shared.tsa.crl(state.now())?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response())
}

/// What a time-stamp needs from the service, taken out of the state for a blocking task.
#[derive(Clone)]
pub(crate) struct StampKit {
    stamper: Stamper,
    roots: Vec<Certificate>,
    now: OffsetDateTime,
}

impl StampKit {
    pub(crate) async fn of(state: &AppState) -> ApiResult<StampKit> {
        Ok(StampKit {
            stamper: state.shared.tsa.stamper.clone(),
            roots: state.trust_roots().await?,
            now: state.now(),
        })
    }

    /// A token over `imprint` (blocking: an external TSA is asked over HTTP).
    ///
    /// # Errors
    /// 503 `tsa_unavailable` when the TSA fails or its token does not pass the checks.
    pub(crate) fn stamp(&self, imprint: &MessageImprint) -> ApiResult<Vec<u8>> {
        let mut serial = [0u8; 16];
        OsRng.fill_bytes(&mut serial);
        let mut nonce = [0u8; 8];
        OsRng.fill_bytes(&mut nonce);
        let checks = pki::SignatureChecks::default();
        let trust = TokenTrust {
            roots: &self.roots,
            certificates: &[],
            crls: &[],
            ocsps: &[],
            checks: &checks,
        };
        self.stamper
            .stamp(imprint, &nonce, &serial, self.now, &trust)
            .map_err(|e| {
                tracing::warn!(tsa = %self.stamper.describe(), error = %e, "time-stamp failed");
                ApiError::Unavailable {
                    code: "tsa_unavailable",
                    message: format!(
                        "không lấy được dấu thời gian từ {}: {e}; chưa lưu gì, hãy thử lại",
                        self.stamper.describe()
                    ),
                }
            })
    }
}

/// `cms` with a signature time-stamp over its signature value (PAdES B-T).
///
/// # Errors
/// A CMS that cannot be read, or a TSA failure (see [`StampKit::stamp`]).
pub(crate) fn stamp_signature(kit: &StampKit, cms: &[u8]) -> ApiResult<Vec<u8>> {
    let value = sign::signature_value(cms)?;
    let token = kit.stamp(&MessageImprint::of(HashAlg::Sha256, &value))?;
    Ok(sign::add_signature_timestamp(cms, &token)?)
}

/// Appends a document time-stamp revision to the covenant's current file (`pdf`, whose
/// SHA-256 is `base_sha256`), recorded with `note`.
///
/// # Errors
/// A TSA failure, or someone appended a revision meanwhile (409 `stale`).
pub(crate) async fn add_document_timestamp(
    state: &AppState,
    covenant_id: &str,
    pdf: Bytes,
    base_sha256: &str,
    note: serde_json::Value,
) -> ApiResult<(RevisionRow, Bytes)> {
    let kit = StampKit::of(state).await?;
    let base = pdf.clone();
    let stamped = blocking(move || {
        let prepared = ltv::prepare_document_timestamp(&base)?;
        let token = kit.stamp(&prepared.imprint())?;
        Ok(prepared.embed(&base, &token)?)
    })
    .await?;
    append(
        state,
        covenant_id,
        base_sha256,
        stamped,
        RevisionKind::DocumentTimestamp,
        note,
    )
    .await
}

async fn append(
    state: &AppState,
    covenant_id: &str,
    base_sha256: &str,
    pdf: Vec<u8>,
    kind: RevisionKind,
    note: serde_json::Value,
) -> ApiResult<(RevisionRow, Bytes)> {
    let sha = state.blobs.put(&pdf).await?;
    let revision = state
        .store
        .append_maintenance(
            &Stamp::new("service/long-term", state.now()),
            covenant_id,
            base_sha256,
            &sha,
            kind,
            &note,
        )
        .await?;
    let pdf = Bytes::from(pdf);
    let covenant = super::covenants::load(state, covenant_id).await?;
    state
        .shared
        .docs
        .offer(&covenant, &revision, pdf.clone(), None);
    Ok((revision, pdf))
}

/// PAdES B-LT then B-LTA for the covenant's current file: one revision adding to `/DSS` every
/// certificate of its signatures and time-stamps with the CRLs of their issuers (the bloc CA's,
/// the built-in TSA's, another CA's when its distribution point answers), then a document
/// time-stamp over it. `reason` goes into the audit (`completed`, `renewal`).
///
/// # Errors
/// A TSA failure, or someone appended a revision meanwhile.
pub(crate) async fn make_long_term(
    state: &AppState,
    covenant_id: &str,
    reason: &str,
) -> ApiResult<RevisionRow> {
    let covenant = super::covenants::load(state, covenant_id).await?;
    let doc = documents::current(state, covenant_id).await?;
    let mut crls: Vec<Vec<u8>> = vec![state.shared.tsa.crl(state.now())?];
    if let Ok(ca) = state.shared.cas.require(&covenant.bloc_id).await {
        let certificates = state.store.list_certificates(&covenant.bloc_id).await?;
        crls.push(super::blocs::crl_of(state, &ca, &certificates)?);
    }
    let extra: Vec<Certificate> = state.trust_roots().await?;
    let pdf = doc.pdf.clone();
    let data = blocking(move || {
        let mut data = ltv::validation_data_of(&pdf, &extra);
        data.crls.extend(crls);
        let (crls, ocsps) = ltv::fetch_revocation(&data.certificates, &data.crls);
        data.crls.extend(crls);
        data.ocsps.extend(ocsps);
        Ok(data)
    })
    .await?;
    let counts = json!({
        "reason": reason,
        "certificates": data.certificates.len(),
        "crls": data.crls.len(),
    });
    let base = doc.pdf.clone();
    let with_dss = blocking(move || Ok(ltv::add_validation_data(&base, &data)?)).await?;
    let (revision, pdf) = append(
        state,
        covenant_id,
        &doc.pdf_sha256,
        with_dss,
        RevisionKind::ValidationData,
        counts,
    )
    .await?;
    let (revision, _) = add_document_timestamp(
        state,
        covenant_id,
        pdf,
        &revision.pdf_sha256,
        json!({ "reason": reason, "tsa": state.shared.tsa.stamper.describe() }),
    )
    .await?;
    tracing::info!(
        covenant = covenant_id,
        reason,
        index = revision.index,
        "long-term validation data added"
    );
    Ok(revision)
}

/// One archived covenant renewal: what [`renew_archive`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Renewal {
    /// The covenant.
    pub covenant_id: String,
    /// Its newest document time-stamp's TSA certificate ended then (RFC 3339), if it had one.
    pub timestamp_until: Option<String>,
    /// The revision index after renewal, or `None` when it still had time.
    pub renewed_to: Option<i64>,
}

/// Renews every archived covenant whose newest document time-stamp's TSA certificate ends
/// within `margin` (or that has none): fresh validation data and a new document time-stamp
/// (ETSI EN 319 142-1 §5.5: the B-LTA chain is extended before its last time-stamp weakens).
/// Earlier revisions stay as they are; each renewal is audited (`revision.maintain`, reason
/// `renewal`).
///
/// # Errors
/// A store failure. A covenant that cannot be renewed now (the TSA is down) is logged and
/// left for the next run.
pub(crate) async fn renew_archive(state: &AppState, margin: Duration) -> ApiResult<Vec<Renewal>> {
    let mut ids: Vec<String> = state
        .store
        .list_archive()
        .await?
        .into_iter()
        .map(|r| r.covenant_id)
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let covenant = super::covenants::load(state, &id).await?;
        let doc = documents::current(state, &id).await?;
        let opts = super::signatures::verify_options(state, &covenant.bloc_id).await?;
        let pdf = doc.pdf.clone();
        let report = blocking(move || {
            crate::verify::verify_pdf(&pdf, &opts)
                .map_err(|e| ApiError::internal(format!("verifying {e}")))
        })
        .await?;
        let until = report
            .document_timestamps
            .iter()
            .filter(|t| t.valid)
            .max_by_key(|t| t.revision)
            .and_then(|t| t.tsa_not_after.clone());
        let ends = until.as_deref().and_then(|u| {
            OffsetDateTime::parse(u, &time::format_description::well_known::Rfc3339).ok()
        });
        let due = ends.is_none_or(|e| e <= state.now() + margin);
        let mut renewal = Renewal {
            covenant_id: id.clone(),
            timestamp_until: until,
            renewed_to: None,
        };
        if due {
            match make_long_term(state, &id, "renewal").await {
                Ok(r) => renewal.renewed_to = Some(r.index),
                Err(e) => tracing::warn!(covenant = id, error = %e, "archive renewal failed"),
            }
        }
        out.push(renewal);
    }
    Ok(out)
}

impl AppState {
    /// Renews the long-term validation of the archive (see [`renew_archive`]).
    ///
    /// # Errors
    /// A store failure.
    pub async fn renew_archive(&self, margin: Duration) -> ApiResult<Vec<Renewal>> {
        renew_archive(self, margin).await
    }
}

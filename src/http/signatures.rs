//! Two-step signing: the leader's key never reaches the service.
//!
//! 1. `POST /covenants/{id}/signatures/{unit}/prepare` (the unit's leader token):
//!    [`sign::prepare`] on the current revision; the prepared state (the PDF with the reserved
//!    `/Contents`, the signed attributes, the certificate) is kept as one blob and recorded
//!    with [`Store::save_prepare`](crate::store::Store::save_prepare). The answer carries
//!    `to_sign` (the DER signed attributes, base64), the `signature_algorithm` to use and, for
//!    RSA and ECDSA, `hash_to_sign`: the hash of `to_sign` that a hash-signing service (a
//!    remote signing service confirmed in a phone app, a token driver, the government CA's
//!    sign service in hash mode) signs.
//! 2. The leader signs on their side: the key is a bloc certificate's (Ed25519 or ECDSA
//!    P-256), or an enrolled certificate of a licensed CA (RSA, ECDSA).
//! 3. `POST …/complete` `{prepare_id, signature}` within the preparation's lifetime
//!    ([`Options::prepare_ttl`](super::Options::prepare_ttl)): `signature` is the raw value
//!    (RSA PKCS#1 v1.5, ECDSA `r‖s` or DER, Ed25519) or a CMS SignedData whose one signer
//!    signed the same hash without signed attributes (its certificates are taken as the
//!    chain). If the current revision is no longer the one prepared against (someone signed
//!    first), 409 `stale` and the client prepares again; else the service assembles the CMS,
//!    embeds it, verifies the result with the bloc CAs, the operator's trust anchors and the
//!    enrolled certificates, and appends it as the next revision with a compare-and-swap on
//!    the base.
//!
//! The prepared state is kept as one JSON blob ([`StoredPrepare`]): the serialised
//! [`PreparedSignature`] with the preparation's id and the signer's certificate.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::Certificate;

use super::auth::Caller;
use super::covenants::{Loaded, load, rfc3339};
use super::documents;
use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use super::ops::incr;
use super::{AppState, Routes, blocking, hex};
use crate::ca::BlocCa;
use crate::pki;
use crate::sign::{self, PreparedSignature, SignOptions};
use crate::store::{Blobs, PrepareRow, Stamp};
use crate::verify::{self, Verdict, VerifyOptions};
use crate::workflow::{Action, Seat};

pub(super) fn routes(r: Routes) -> Routes {
    r.post("/covenants/{id}/signatures/{unit}/prepare", prepare)
        .post("/covenants/{id}/signatures/{unit}/complete", complete)
}

/// What a completion needs besides the current revision, kept as one blob between prepare and
/// complete.
#[derive(Serialize, Deserialize)]
struct StoredPrepare {
    /// Makes every prepared blob unique, so removing it after use touches nothing else.
    prepare_id: String,
    /// The signer's certificate, then the intermediates to embed.
    certificate_pem: String,
    /// The prepared revision and what to sign.
    prepared: PreparedSignature,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepareRequest {
    /// The signer's certificate (a bloc certificate of this unit, or the unit's enrolled
    /// certificate, optionally followed by its intermediates); the unit's newest certificate if
    /// absent.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// The signing time to claim (`/M`); now if absent.
    #[serde(default)]
    pub time: Option<String>,
}

/// The answer of prepare.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    pub prepare_id: String,
    pub base_revision_sha256: String,
    pub base_revision_index: i64,
    /// The DER signed attributes to sign, base64.
    pub to_sign: String,
    /// How to sign: `ed25519`, `rsa-pkcs1v15-sha256`, `ecdsa-p256-sha256`,
    /// `ecdsa-p384-sha384`.
    pub signature_algorithm: String,
    /// `SHA-256` or `SHA-384`: the hash a hash-signing service applies; absent for Ed25519.
    pub hash_algorithm: Option<String>,
    /// That hash of `to_sign`, base64 (what a remote signing service or a token signs).
    pub hash_to_sign: Option<String>,
    /// The signer's certificate's SHA-256 fingerprint (lowercase hex).
    pub certificate_sha256: String,
    pub field: String,
    pub signing_time: String,
    /// Complete before this time.
    pub expires_at: String,
}

/// The name of a signing scheme in the API.
fn scheme_name(scheme: pki::alg::Scheme, key: pki::alg::KeyKind) -> String {
    use pki::alg::{HashAlg, KeyKind, Scheme};
    let hash = |h: HashAlg| h.name().to_ascii_lowercase().replace('-', "");
    match (scheme, key) {
        (Scheme::Ed25519, _) => "ed25519".to_owned(),
        (Scheme::RsaPkcs1v15 { hash: h }, _) => format!("rsa-pkcs1v15-{}", hash(h)),
        (Scheme::RsaPss { hash: h, .. }, _) => format!("rsa-pss-{}", hash(h)),
        (Scheme::Ecdsa { hash: h }, KeyKind::P384) => format!("ecdsa-p384-{}", hash(h)),
        (Scheme::Ecdsa { hash: h }, _) => format!("ecdsa-p256-{}", hash(h)),
    }
}

async fn prepare(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, unit)): Path<(String, String)>,
    ApiJson(body): ApiJson<PrepareRequest>,
) -> ApiResult<Json<Prepared>> {
    prepare_signature(&state, &caller, &id, &unit, body)
        .await
        .map(Json)
}

/// Prepares `unit`'s signature on the current revision of covenant `id`.
pub async fn prepare_signature(
    state: &AppState,
    caller: &Caller,
    id: &str,
    unit: &str,
    body: PrepareRequest,
) -> ApiResult<Prepared> {
    let covenant = load(state, id).await?;
    caller.require_signer(&covenant.bloc_id, unit)?;
    let (unit_id, seat) = covenant.seat(unit)?;
    let unit_id = unit_id.id.clone();
    super::require_action(Action::Sign, &covenant)?;
    let fields = state.store.current_revision(id).await?;
    if !fields
        .signed_fields
        .iter()
        .chain(&fields.unsigned_fields)
        .any(|f| f == unit)
    {
        return Err(ApiError::not_found(format!(
            "\"{id}\" không có trường chữ ký \"{unit}\" ({} ký: {})",
            covenant.title(),
            fields
                .signed_fields
                .iter()
                .chain(&fields.unsigned_fields)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if seat == Seat::Seal {
        require_leader_signed(state, &covenant, &unit_id).await?;
    }
    let ca = state.shared.cas.require(&covenant.bloc_id).await?;
    let cert_pem = match body.certificate_pem {
        Some(pem) => pem,
        None => seat_certificate(state, &covenant, &unit_id, seat)
            .await?
            .map(|c| c.cert_pem)
            .ok_or_else(|| {
                ApiError::invalid(
                    "no_certificate",
                    "certificate_pem",
                    format!("đơn vị \"{unit_id}\" chưa có chứng thư số cho {}; hãy gửi certificate_pem hoặc đăng ký chứng thư", seat.label_vi()),
                )
            })?,
    };
    let time = match body.time.as_deref() {
        Some(t) => OffsetDateTime::parse(t, &Rfc3339).map_err(|_| {
            ApiError::invalid(
                "invalid_field",
                "time",
                "thời gian ký phải theo RFC 3339, ví dụ 2021-01-22T15:30:00+07:00",
            )
        })?,
        None => vietnam_time(state.now()),
    };
    let signer = signer_certificate(state, &ca, &covenant.bloc_id, unit, &cert_pem, time).await?;
    let cert = signer.leaf.clone();
    let key = pki::alg::key_kind(&cert.tbs_certificate.subject_public_key_info).map_err(|e| {
        ApiError::invalid("unsupported_algorithm", "certificate_pem", e.to_string())
    })?;
    let scheme = crate::cms::scheme_for(&cert).map_err(|e| {
        ApiError::invalid("unsupported_algorithm", "certificate_pem", e.to_string())
    })?;
    let doc = documents::current(state, id).await?;
    let base_sha = doc.pdf_sha256.clone();
    let base_index = doc.index;
    let seal = match seat {
        Seat::Seal => unit_seal(state, &covenant.bloc_id, &unit_id).await?,
        Seat::Leader | Seat::Secretary => None,
    };
    let opts = SignOptions {
        field: unit.to_owned(),
        time,
        reason: Some(match (covenant.kind, seat) {
            (Some(doc), _) => doc.reason_vi(covenant.year),
            (None, Seat::Seal) => format!("Đóng dấu giao ước thi đua năm {}", covenant.year),
            (None, _) => format!("Ký giao ước thi đua năm {}", covenant.year),
        }),
        location: Some(covenant.covenant.bloc.place_name.clone()),
        image: None,
        seal,
    };
    let base = doc.pdf.clone();
    let cert2 = cert.clone();
    let prepared = blocking(move || Ok(sign::prepare(&base, &cert2, &opts)?)).await?;
    let mut id_bytes = [0_u8; 16];
    OsRng.fill_bytes(&mut id_bytes);
    let prepare_id = hex(&id_bytes);
    let to_sign = B64.encode(&prepared.signed_attributes);
    let hash_to_sign = scheme
        .prehash()
        .map(|h| B64.encode(h.digest(&prepared.signed_attributes)));
    let stored = StoredPrepare {
        prepare_id: prepare_id.clone(),
        certificate_pem: signer.bundle_pem(),
        prepared,
    };
    let blob = serde_json::to_vec(&stored).map_err(ApiError::internal)?;
    let prepared_sha = state.blobs.put(&blob).await?;
    let evicted = state
        .store
        .save_prepare(&PrepareRow {
            id: prepare_id.clone(),
            covenant_id: id.to_owned(),
            unit_id: unit.to_owned(),
            base_sha256: base_sha.clone(),
            prepared_sha256: prepared_sha,
            created_at: state.now(),
        })
        .await?;
    for sha in &evicted {
        if let Err(e) = state.blobs.remove(sha).await {
            tracing::warn!(error = %e, sha, "removing a superseded prepared blob");
        }
    }
    incr(&state.shared.metrics.signatures_prepared);
    Ok(Prepared {
        prepare_id,
        base_revision_sha256: base_sha,
        base_revision_index: base_index,
        to_sign,
        signature_algorithm: scheme_name(scheme, key),
        hash_algorithm: scheme.prehash().map(|h| h.name().to_owned()),
        hash_to_sign,
        certificate_sha256: hex(&<sha2::Sha256 as sha2::Digest>::digest(&signer.leaf_der)),
        field: unit.to_owned(),
        signing_time: rfc3339(time),
        expires_at: rfc3339(state.now() + state.shared.prepare_ttl),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    pub prepare_id: String,
    /// The signature over `to_sign` (see the module documentation), base64.
    pub signature: String,
}

async fn complete(
    State(state): State<AppState>,
    Path((id, unit)): Path<(String, String)>,
    ApiJson(body): ApiJson<CompleteRequest>,
) -> ApiResult<Json<Value>> {
    complete_signature(&state, &id, &unit, body).await.map(Json)
}

/// Completes a prepared signature (see the module documentation).
pub async fn complete_signature(
    state: &AppState,
    id: &str,
    unit: &str,
    body: CompleteRequest,
) -> ApiResult<Value> {
    let signature: Vec<u8> = B64
        .decode(body.signature.trim())
        .ok()
        .filter(|v| v.len() >= 64 && v.len() <= sign::CONTENTS_RESERVE)
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_field",
                "signature",
                "chữ ký phải được mã hóa base64 (từ 64 byte: Ed25519, ECDSA, RSA hoặc CMS)",
            )
        })?;
    let prepare_id = body.prepare_id.trim();
    if prepare_id.is_empty()
        || prepare_id.len() > 64
        || !prepare_id.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(ApiError::invalid(
            "invalid_field",
            "prepare_id",
            "prepare_id không hợp lệ",
        ));
    }
    let covenant = load(state, id).await?;
    state.shared.cas.require(&covenant.bloc_id).await?;
    let prepare = state
        .store
        .take_prepare(prepare_id)
        .await?
        .filter(|p| p.covenant_id == id && p.unit_id == unit)
        .filter(|p| p.created_at + state.shared.prepare_ttl > state.now())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "không có chữ ký đang chuẩn bị \"{prepare_id}\" cho đơn vị \"{unit}\" (đã dùng hoặc hết hạn); hãy chuẩn bị lại"
            ))
        })?;
    // The preparation is consumed: its blob is read once and removed, whatever happens next.
    let blob = state.blobs.get(&prepare.prepared_sha256).await;
    if let Err(e) = state.blobs.remove(&prepare.prepared_sha256).await {
        tracing::warn!(error = %e, "removing a used prepared blob");
    }
    let blob = blob?;
    let doc = documents::current(state, id).await?;
    if doc.pdf_sha256 != prepare.base_sha256 {
        incr(&state.shared.metrics.stale_completions);
        return Err(stale(&doc.pdf_sha256, doc.index));
    }
    let (prepared, cert, mut chain) = decode_prepared(&blob)?;
    let (signature, from_cms) = signature_value(&signature, &cert)?;
    chain.extend(from_cms);
    let base = doc.pdf.clone();
    let opts = verify_options(state, &covenant.bloc_id).await?;
    let field = unit.to_owned();
    let kit = super::tsa::StampKit::of(state).await?;
    let signed = blocking(move || {
        // PAdES B-T: the signature's time-stamp is added before embedding.
        let cms = prepared.signed_data(&signature, &cert, &chain)?;
        let cms = super::tsa::stamp_signature(&kit, &cms)?;
        let signed = prepared.embed_cms(&base, &cms)?;
        let report = verify::verify_pdf(&signed, &opts)
            .map_err(|e| ApiError::internal(format!("verifying our own signed PDF: {e}")))?;
        check_report(&report, &field)?;
        Ok(signed)
    })
    .await?;
    let new_sha = state.blobs.put(&signed).await?;
    let actor = format!("{unit}/signature");
    let revision = state
        .store
        .append_revision(
            &Stamp::new(&actor, state.now()),
            id,
            &prepare.base_sha256,
            &new_sha,
            unit,
        )
        .await
        .map_err(|e| {
            let e = ApiError::from(e);
            if e.code() == "stale" {
                incr(&state.shared.metrics.stale_completions);
            }
            e
        })?;
    let covenant = refresh(state, &covenant).await?;
    state
        .shared
        .docs
        .offer(&covenant, &revision, signed.into(), None);
    incr(&state.shared.metrics.signatures_completed);
    tracing::info!(
        covenant = id,
        unit,
        index = revision.index,
        "signature completed"
    );
    let long_term = after_last_signature(state, id, &revision).await;
    let covenant = refresh(state, &covenant).await?;
    let mut answer = completion_answer(&covenant, &revision, unit);
    if let (Some(a), Some(index)) = (answer.as_object_mut(), long_term) {
        a.insert("long_term_index".into(), json!(index));
    }
    Ok(answer)
}

/// Once every unit signed: validation data and a document time-stamp (PAdES B-LT, B-LTA).
/// A failure (the TSA is down) is logged and leaves the covenant at B-T; archiving and
/// `giaouoc archive renew` add them later. Returns the new current index.
pub(crate) async fn after_last_signature(
    state: &AppState,
    id: &str,
    revision: &crate::store::RevisionRow,
) -> Option<i64> {
    if !revision.unsigned_units.is_empty() {
        return None;
    }
    match super::tsa::make_long_term(state, id, "completed").await {
        Ok(r) => Some(r.index),
        Err(e) => {
            tracing::warn!(covenant = id, error = %e, "long-term validation data not added");
            None
        }
    }
}

/// The answer to a signature that became a revision.
pub(crate) fn completion_answer(
    covenant: &Loaded,
    revision: &crate::store::RevisionRow,
    unit: &str,
) -> Value {
    let signers = if covenant.kind.is_some() {
        revision.signed_fields.len() + revision.unsigned_fields.len()
    } else {
        covenant.covenant.units.len()
    };
    let signed = if covenant.kind.is_some() {
        revision.signed_fields.len()
    } else {
        revision.signed_units.len()
    };
    json!({
        "index": revision.index,
        "sha256": revision.pdf_sha256,
        "unit_id": unit,
        "signed": format!("{signed}/{signers}"),
        "signed_units": revision.signed_units,
        "unsigned_units": revision.unsigned_units,
        "state": covenant.state,
    })
}

async fn refresh(state: &AppState, covenant: &Loaded) -> ApiResult<Loaded> {
    load(state, &covenant.id).await
}

pub(crate) fn stale(current_sha: &str, index: i64) -> ApiError {
    ApiError::conflict(
        "stale",
        format!(
            "tài liệu đã có phiên bản mới ({index}, {current_sha}) vì có đơn vị khác ký trước; hãy chuẩn bị lại chữ ký"
        ),
    )
}

/// The signed file must verify with the bloc CA: intact, valid, trusted, this unit's field.
fn check_report(report: &verify::VerificationReport, field: &str) -> ApiResult<()> {
    let ours = report.signatures.iter().find(|s| s.field == field);
    let trusted = ours.is_some_and(|s| s.trusted);
    if report.verdict == Verdict::Valid && ours.is_some() {
        return Ok(());
    }
    let mut problems: Vec<String> = report.problems.iter().map(|m| m.vi.clone()).collect();
    if let Some(s) = ours {
        problems.extend(s.problems.iter().map(|m| m.vi.clone()));
    }
    let (code, message) = if ours.is_some() && !trusted {
        (
            "untrusted_certificate",
            "chứng thư số không do CA của khối thi đua cấp (hoặc không còn hiệu lực); chữ ký bị từ chối",
        )
    } else {
        (
            "invalid_signature",
            "tài liệu sau khi ký không hợp lệ; chữ ký bị từ chối",
        )
    };
    Err(ApiError::Invalid {
        code,
        message: message.to_owned(),
        details: problems
            .into_iter()
            .map(|p| super::error::Detail::new("", p))
            .collect(),
    })
}

/// The certificate must chain to the bloc CA at the signing time (checked before anything
/// is prepared, and again by the verifier at completion).
fn check_trusted(
    cert: &Certificate,
    ca: &Arc<BlocCa>,
    bloc_id: &str,
    at: OffsetDateTime,
) -> ApiResult<()> {
    let status = pki::validate_chain(cert, &[], std::slice::from_ref(&ca.cert), at, &[]);
    if status.trusted {
        return Ok(());
    }
    Err(ApiError::Invalid {
        code: "untrusted_certificate",
        message: format!(
            "chứng thư số không do CA của khối thi đua \"{bloc_id}\" cấp, hoặc không có hiệu lực vào thời điểm ký"
        ),
        details: status
            .problems
            .iter()
            .map(|p| super::error::Detail::new("certificate_pem", format!("{p:?}")))
            .collect(),
    })
}

/// A certificate the admin revoked in the store is refused.
async fn check_not_revoked(state: &AppState, bloc_id: &str, cert: &Certificate) -> ApiResult<()> {
    let serial = pki::cert_info(cert).serial_hex;
    let serial = serial.trim_start_matches('0');
    let revoked = state
        .store
        .list_certificates(bloc_id)
        .await?
        .into_iter()
        .any(|c| c.serial.trim_start_matches('0') == serial && c.revoked_at.is_some());
    if revoked {
        return Err(ApiError::invalid(
            "revoked_certificate",
            "certificate_pem",
            format!("chứng thư số {serial} đã bị thu hồi"),
        ));
    }
    Ok(())
}

/// The prepared signature, the signer's certificate and the intermediates to embed, from a
/// stored blob. A blob that does not read (written by an older version) counts as an expired
/// preparation.
fn decode_prepared(blob: &[u8]) -> ApiResult<(PreparedSignature, Certificate, Vec<Certificate>)> {
    let stored: StoredPrepare = serde_json::from_slice(blob).map_err(|_| {
        ApiError::not_found(
            "chữ ký đang chuẩn bị không còn dùng được (đã hết hạn); hãy chuẩn bị lại",
        )
    })?;
    let (leaf, certs) = pki::leaf_and_chain(stored.certificate_pem.as_bytes())
        .map_err(|e| ApiError::internal(format!("stored signer certificate: {e}")))?;
    Ok((stored.prepared, leaf, certs))
}

/// The signature value a completion carries, and the certificates that came with it: a raw
/// value as is, or the one signer's value of a CMS SignedData (RFC 5652 §5.3) that signed
/// `to_sign`'s hash directly (no signed attributes of its own), for the signer's certificate.
fn signature_value(bytes: &[u8], cert: &Certificate) -> ApiResult<(Vec<u8>, Vec<Certificate>)> {
    let Ok(cms) = crate::cms::read_signed_data(bytes) else {
        return Ok((bytes.to_vec(), Vec::new()));
    };
    let bad = |why: &str| {
        ApiError::invalid(
            "invalid_field",
            "signature",
            format!("CMS SignedData không dùng được: {why}"),
        )
    };
    let [signer] = cms.signer_infos.as_slice() else {
        return Err(bad("cần đúng một người ký"));
    };
    if signer.signed_attrs_der.is_some() {
        return Err(bad(
            "người ký có thuộc tính ký riêng (signedAttrs); hãy gửi chữ ký thô trên hash_to_sign",
        ));
    }
    let cert_der = der::Encode::to_der(cert).map_err(ApiError::internal)?;
    if !cms.certificate_ders.is_empty() && !cms.certificate_ders.contains(&cert_der) {
        return Err(bad("không chứa chứng thư số đã dùng khi chuẩn bị"));
    }
    let others = cms
        .certificates
        .into_iter()
        .zip(cms.certificate_ders)
        .filter(|(_, d)| *d != cert_der)
        .map(|(c, _)| c)
        .collect();
    Ok((signer.signature.clone(), others))
}

/// A signer's certificate as checked before preparing.
pub(crate) struct SignerCertificate {
    pub(crate) leaf: Certificate,
    pub(crate) leaf_der: Vec<u8>,
    /// Intermediates given with it.
    pub(crate) intermediates: Vec<Certificate>,
}

impl SignerCertificate {
    /// The leaf, then the intermediates, as PEM.
    fn bundle_pem(&self) -> String {
        std::iter::once(&self.leaf)
            .chain(&self.intermediates)
            .filter_map(|c| pki::certificate_to_pem(c).ok())
            .collect()
    }
}

/// The certificate that may sign `field` (a unit's leader's, or its seal `U05-dau`): a bloc
/// certificate (it names its unit; checked by [`sign::prepare`]) of the seat's holder (a
/// person for the leader, the organisation for the seal), valid at `at` and not revoked, or a
/// certificate of another CA that the unit enrolled for that seat, still enrolled and chaining
/// to a trust anchor.
pub(crate) async fn signer_certificate(
    state: &AppState,
    ca: &Arc<BlocCa>,
    bloc_id: &str,
    field: &str,
    pem: &str,
    at: OffsetDateTime,
) -> ApiResult<SignerCertificate> {
    let (unit, seat) = Seat::of_field(field);
    let holder = holder_of_seat(seat);
    let (leaf, intermediates) = pki::leaf_and_chain(pem.as_bytes()).map_err(|_| {
        ApiError::invalid(
            "invalid_certificate",
            "certificate_pem",
            "không đọc được chứng thư số (PEM)",
        )
    })?;
    let leaf_der = der::Encode::to_der(&leaf).map_err(ApiError::internal)?;
    if pki::cert_info(&leaf).unit_id.is_some() {
        check_holder(&leaf, seat)?;
        check_trusted(&leaf, ca, bloc_id, at)?;
        check_not_revoked(state, bloc_id, &leaf).await?;
        // A bloc certificate's chain is the bloc CA, whatever came with it.
        return Ok(SignerCertificate {
            leaf,
            leaf_der,
            intermediates: vec![ca.cert.clone()],
        });
    }
    // The enrolled bundle: the same leaf, and the intermediates enrolled with it.
    let enrolled = state
        .store
        .list_certificates(bloc_id)
        .await?
        .into_iter()
        .filter(|c| c.unit_id == unit && c.revoked_at.is_none() && c.holder == holder)
        .find_map(|c| {
            let (enrolled, chain) = pki::leaf_and_chain(c.cert_pem.as_bytes()).ok()?;
            (der::Encode::to_der(&enrolled).ok()? == leaf_der).then_some(chain)
        });
    let Some(enrolled_intermediates) = enrolled else {
        return Err(ApiError::invalid(
            "unenrolled_certificate",
            "certificate_pem",
            format!(
                "chứng thư số này chưa được đăng ký cho {} của đơn vị \"{unit}\"; hãy đăng ký chứng thư (và chờ duyệt) trước khi ký",
                seat.label_vi()
            ),
        ));
    };
    let intermediates = if intermediates.is_empty() {
        enrolled_intermediates
    } else {
        intermediates
    };
    require_anchored(
        state,
        &leaf,
        &intermediates,
        at,
        "chứng thư số không dẫn tới một CA gốc được tin cậy, hoặc không có hiệu lực vào thời điểm ký".into(),
    ).await?;
    Ok(SignerCertificate {
        leaf,
        leaf_der,
        intermediates,
    })
}

/// A seal follows its unit's leader's signature: 409 `leader_not_signed` before it.
pub(crate) async fn require_leader_signed(
    state: &AppState,
    covenant: &Loaded,
    unit: &str,
) -> ApiResult<()> {
    let current = state.store.current_revision(&covenant.id).await?;
    if current.signed_fields.iter().any(|f| f == unit) {
        return Ok(());
    }
    Err(ApiError::conflict(
        "leader_not_signed",
        format!(
            "lãnh đạo đơn vị \"{unit}\" chưa ký; văn thư chỉ đóng dấu (ký số của cơ quan) sau chữ ký của lãnh đạo"
        ),
    ))
}

/// The unit's seal image, decoded, if it uploaded one.
pub(crate) async fn unit_seal(
    state: &AppState,
    bloc_id: &str,
    unit: &str,
) -> ApiResult<Option<sign::SealImage>> {
    let Some(row) = state.store.seal_for_unit(bloc_id, unit).await? else {
        return Ok(None);
    };
    let png = state.blobs.get(&row.png_sha256).await?;
    sign::SealImage::from_png(&png, Some(row.diameter_mm as f32))
        .map(Some)
        .map_err(|e| ApiError::internal(format!("stored seal image: {e}")))
}

/// Who holds the certificate of a seat: the leader or the secretary (a person), or the unit
/// (its seal).
pub(crate) const fn holder_of_seat(seat: Seat) -> pki::Holder {
    match seat {
        Seat::Leader | Seat::Secretary => pki::Holder::Person,
        Seat::Seal => pki::Holder::Organisation,
    }
}

/// The certificate a seat signs with when the signer names none: among the unit's unrevoked
/// certificates of the seat's holder, the newest whose subject is the person printed in the
/// field (the leader the covenant names; the chair and the secretary the year-end
/// conference recorded, in its minutes);
/// for a leader, else the unit's newest personal certificate; for a seal, the unit's newest
/// organisation certificate. A secretary gets none unless one names them.
pub(crate) async fn seat_certificate(
    state: &AppState,
    covenant: &Loaded,
    unit_id: &str,
    seat: Seat,
) -> ApiResult<Option<crate::store::CertificateRow>> {
    let holder = holder_of_seat(seat);
    let mut candidates: Vec<crate::store::CertificateRow> = state
        .store
        .list_certificates(&covenant.bloc_id)
        .await?
        .into_iter()
        .filter(|c| c.unit_id == unit_id && c.holder == holder && c.revoked_at.is_none())
        .collect();
    candidates.reverse();
    let person = match seat {
        Seat::Seal => return Ok(candidates.into_iter().next()),
        Seat::Leader | Seat::Secretary => {
            let conference = match (&covenant.parent_id, covenant.kind) {
                (Some(parent), Some(crate::year::YearDocument::Minutes)) => state
                    .store
                    .conference(parent)
                    .await?
                    .and_then(|c| serde_json::from_value::<crate::year::Conference>(c).ok()),
                _ => None,
            };
            match (seat, conference) {
                (Seat::Secretary, c) => c.map(|c| c.secretary.name),
                (_, Some(c)) => Some(c.chair.name),
                (_, None) => covenant
                    .covenant
                    .unit(unit_id)
                    .map(|u| u.signer.full_name.clone()),
            }
        }
    };
    let names = |c: &crate::store::CertificateRow| {
        let Some(name) = &person else { return false };
        pki::leaf_and_chain(c.cert_pem.as_bytes())
            .ok()
            .and_then(|(leaf, _)| pki::cert_info(&leaf).subject_cn)
            .is_some_and(|cn| crate::verify::same_person(&cn, name))
    };
    let named = candidates.iter().position(names);
    Ok(match (named, seat) {
        (Some(i), _) => Some(candidates.swap_remove(i)),
        (None, Seat::Leader) => candidates.into_iter().next(),
        (None, _) => None,
    })
}

/// A bloc certificate must be of the seat's holder: an organisation certificate in a seal
/// field, a person's in a leader's field (422 `personal_certificate` /
/// `organisation_certificate`).
fn check_holder(leaf: &Certificate, seat: Seat) -> ApiResult<()> {
    match (seat, pki::holder_of(leaf)) {
        (Seat::Seal, pki::Holder::Person) => Err(ApiError::invalid(
            "personal_certificate",
            "certificate_pem",
            "trường dấu cần chứng thư số của cơ quan, tổ chức; đây là chứng thư số cá nhân",
        )),
        (Seat::Leader | Seat::Secretary, pki::Holder::Organisation) => Err(ApiError::invalid(
            "organisation_certificate",
            "certificate_pem",
            "trường chữ ký của lãnh đạo cần chứng thư số cá nhân; đây là chứng thư số của cơ quan (dùng cho trường dấu)",
        )),
        _ => Ok(()),
    }
}

/// `leaf` must chain through `intermediates` to one of the service's trust anchors at `at`
/// (RFC 5280 path validation, keyUsage): else 422 `untrusted_certificate` with `message` and
/// each path problem at `certificate_pem`.
pub(crate) async fn require_anchored(
    state: &AppState,
    leaf: &Certificate,
    intermediates: &[Certificate],
    at: OffsetDateTime,
    message: String,
) -> ApiResult<()> {
    let status = pki::validate_chain(leaf, intermediates, &state.trust_roots().await?, at, &[]);
    if status.trusted {
        return Ok(());
    }
    Err(ApiError::Invalid {
        code: "untrusted_certificate",
        message,
        details: status
            .problems
            .iter()
            .map(|p| super::error::Detail::new("certificate_pem", format!("{p:?}")))
            .collect(),
    })
}

/// How the service verifies a covenant of `bloc_id`: the bloc CAs and the operator's trust
/// anchors, and every certificate of another CA a unit enrolled (bound by enrolment).
pub(crate) async fn verify_options(state: &AppState, bloc_id: &str) -> ApiResult<VerifyOptions> {
    use sha2::Digest;
    let certificates = state.store.list_certificates(bloc_id).await?;
    let mut enrolled: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in &certificates {
        let Ok((leaf, _)) = pki::leaf_and_chain(c.cert_pem.as_bytes()) else {
            continue;
        };
        if pki::cert_info(&leaf).unit_id.is_some() {
            continue;
        }
        if let Ok(der) = der::Encode::to_der(&leaf) {
            let fingerprint = hex(&sha2::Sha256::digest(der));
            // A person enrolled for a unit may take its leader's seat or, in a meeting's
            // minutes, its secretary's.
            let seats: &[Seat] = match c.holder {
                pki::Holder::Person => &[Seat::Leader, Seat::Secretary],
                pki::Holder::Organisation => &[Seat::Seal],
            };
            for seat in seats {
                enrolled
                    .entry(seat.field(&c.unit_id))
                    .or_default()
                    .push(fingerprint.clone());
            }
        }
    }
    // The bloc CA's own CRL, so revocations made over HTTP count at once.
    let crls = state
        .shared
        .cas
        .require(bloc_id)
        .await
        .and_then(|ca| super::blocs::crl_of(state, &ca, &certificates))
        .ok()
        .and_then(|der| pki::parse_crl(&der).ok())
        .into_iter()
        .collect();
    Ok(VerifyOptions {
        trust_roots: state.trust_roots().await?,
        enrolled,
        crls,
        at: Some(state.now()),
        ..VerifyOptions::default()
    })
}

/// A time shown in Vietnam's offset (UTC+7), for the signature appearance.
pub fn vietnam_time(t: OffsetDateTime) -> OffsetDateTime {
    match time::UtcOffset::from_hms(7, 0, 0) {
        Ok(offset) => t.to_offset(offset),
        Err(_) => t,
    }
}

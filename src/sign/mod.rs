//! Signing the covenant PDF: PAdES B-B with Ed25519 (ISO 32000-2 §12.8, ETSI EN 319 142-1,
//! RFC 8419, ISO/TS 32002), one incremental update (§7.5.6) per signer.
//!
//! Signing happens in two steps so that the private key can stay with the leader:
//! [`prepare`] appends the revision that fills the unit's field, with a zero-filled
//! `/Contents`, and returns the DER signed attributes to sign; [`PreparedSignature::embed`]
//! takes the 64-byte Ed25519 signature, builds the CMS `SignedData` and writes it into the
//! reserved bytes. A preparation made against another revision of the file is refused.

mod appearance;
pub mod ltv;
pub mod token;

use crate::cms;

pub use appearance::{SealImage, SignatureImage};

use ed25519_dalek::{Signer as _, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::pdf::{Dict, IncrementalUpdate, Limits, Object, PdfError, PdfFile, PdfString};
use crate::pki;

/// Bytes reserved for the CMS in `/Contents` (hex-encoded: twice as many characters).
/// Ours with its time-stamp token is about 3 KiB; a licensed CA's RSA leaf with two
/// intermediates (about 4.5 KiB) plus an external TSA's token with its chain (3 to 5 KiB) can
/// pass 8 KiB, so 16 KiB are kept.
pub const CONTENTS_RESERVE: usize = 16 * 1024;

/// Why a PDF could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The input is not a PDF we can update.
    #[error("không đọc được PDF: {0}")]
    Pdf(#[from] PdfError),
    /// The document has no signature field of that name.
    #[error("không có trường chữ ký \"{0}\" trong tài liệu")]
    NoSuchField(String),
    /// The field is already signed.
    #[error("trường chữ ký \"{0}\" đã được ký")]
    AlreadySigned(String),
    /// The certificate names another unit than the field.
    #[error(
        "chứng thư số cấp cho đơn vị \"{cert_unit}\", không phải đơn vị của trường \"{field}\""
    )]
    WrongUnit {
        /// The field.
        field: String,
        /// The unit id in the certificate (empty if none).
        cert_unit: String,
    },
    /// The private key is not the certificate's.
    #[error("khóa bí mật không khớp với chứng thư số")]
    KeyMismatch,
    /// The file changed since the signature was prepared.
    #[error("tài liệu đã thay đổi (có người ký trước) kể từ khi chuẩn bị chữ ký; hãy chuẩn bị lại")]
    StaleBase,
    /// The CMS did not fit or could not be built.
    #[error("không tạo được chữ ký CMS: {0}")]
    Cms(String),
    /// The certificate could not be read.
    #[error("chứng thư số không hợp lệ: {0}")]
    Certificate(String),
    /// The appearance could not be drawn.
    #[error("không tạo được hình thức hiển thị chữ ký: {0}")]
    Appearance(String),
}

/// What to sign and how.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// The signature field (the unit id).
    pub field: String,
    /// Signing time written to `/M` and shown in the appearance.
    pub time: OffsetDateTime,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// The signer's handwritten signature, shown in the appearance.
    pub image: Option<SignatureImage>,
    /// The organisation's seal, drawn at real size when the field is a seal field
    /// (`U05-dau`); without it a seal field shows the signing tool's text box.
    pub seal: Option<SealImage>,
}

/// A prepared signature: the new revision with a zeroed `/Contents`, and what to sign.
/// It serialises (bytes as base64), so a service can keep it while the signer signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedSignature {
    /// The field being signed.
    pub field: String,
    /// Length of the file the revision was appended to (its first `base_len` bytes).
    pub base_len: usize,
    /// The file with the new revision, `/Contents` still zero.
    #[serde(with = "base64_bytes")]
    pub pdf: Vec<u8>,
    /// `/ByteRange` of the new signature.
    pub byte_range: [usize; 4],
    /// The digest of the bytes the byte range covers, with the signer key's hash
    /// ([`pki::alg::Scheme::digest`]: SHA-512 for Ed25519, SHA-256 for RSA and P-256).
    #[serde(with = "base64_bytes")]
    pub message_digest: Vec<u8>,
    /// The DER signed attributes (a SET, tag 0x31): the bytes to sign.
    #[serde(with = "base64_bytes")]
    pub signed_attributes: Vec<u8>,
}

/// Bytes as a base64 string in serialised forms.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Prepares the signature of `opts.field` by the holder of `signer_cert`.
///
/// # Errors
/// Unreadable PDF, no such field, field already signed, certificate for another unit.
pub fn prepare(
    base: &[u8],
    signer_cert: &Certificate,
    opts: &SignOptions,
) -> Result<PreparedSignature, SignError> {
    let file = PdfFile::parse(base, &Limits::default())?;
    let last = file.last_revision();
    let info = pki::cert_info(signer_cert);
    // A bloc certificate names its unit and must be this field's; another CA's certificate
    // names none and is bound to the field by enrolment or the printed leader's name (the
    // verifier's binding rules; the service checks enrolment before preparing).
    let (field_unit, seat) = crate::workflow::Seat::of_field(&opts.field);
    if let Some(cert_unit) = &info.unit_id
        && cert_unit != field_unit
    {
        return Err(SignError::WrongUnit {
            field: opts.field.clone(),
            cert_unit: cert_unit.clone(),
        });
    }
    let scheme = cms::scheme_for(signer_cert).map_err(|e| SignError::Certificate(e.to_string()))?;
    let root_ref = file
        .trailer()
        .and_then(|t| t.get(b"Root"))
        .and_then(Object::as_reference)
        .ok_or_else(|| SignError::NoSuchField(opts.field.clone()))?;
    let root = file.resolve(root_ref, last)?;
    let root = root
        .as_dict()
        .ok_or_else(|| SignError::NoSuchField(opts.field.clone()))?
        .clone();
    // AcroForm: direct in the catalog (as we write it) or indirect.
    let (acro_ref, acro) = match root.get(b"AcroForm") {
        Some(Object::Reference(r)) => (Some(*r), file.resolve(*r, last)?),
        Some(o) => (None, o.clone()),
        None => return Err(SignError::NoSuchField(opts.field.clone())),
    };
    let acro = acro
        .as_dict()
        .ok_or_else(|| SignError::NoSuchField(opts.field.clone()))?
        .clone();
    // The field, found by the same walk as the verifier's (`/Kids` included, bounded).
    let mut budget = crate::pdf::walk::Budget::new(crate::pdf::walk::MAX_WORK);
    let scan = crate::pdf::walk::scan_fields(&file, last, &mut budget);
    let mut found = None;
    if let Some(node) = scan
        .fields
        .iter()
        .find(|f| f.is_signature && f.name == opts.field)
        && let Some(r) = node.obj
        && let Object::Dictionary(d) = file.resolve(r, last)?
    {
        found = Some((r, d));
    }
    let (field_ref, mut field) = found.ok_or_else(|| SignError::NoSuchField(opts.field.clone()))?;
    if field.get(b"V").is_some() {
        return Err(SignError::AlreadySigned(opts.field.clone()));
    }
    let rect = rect_of(&field);

    let mut up = IncrementalUpdate::new(&file)?;

    // Appearance in the field's rectangle.
    let lines = vec![
        format!("Ký bởi: {}", info.subject_cn.clone().unwrap_or_default()),
        format!("Cơ quan: {}", info.unit_name.clone().unwrap_or_default()),
        // No-break spaces keep the time on one line when the box wraps.
        format!(
            "Thời gian ký: {}",
            display_time(opts.time).replace(' ', "\u{a0}")
        ),
    ];
    // A leader whose seal follows signs in the Decree 30 form, a seal is drawn at real size.
    let seal_follows = seat == crate::workflow::Seat::Leader
        && scan
            .fields
            .iter()
            .any(|f| f.is_signature && f.name == crate::workflow::Seat::Seal.field(field_unit));
    let look = match (seat, &opts.seal) {
        (crate::workflow::Seat::Seal, Some(seal)) => appearance::Look::Seal(seal),
        _ if seal_follows => appearance::Look::UnderSeal(opts.image.as_ref()),
        _ => appearance::Look::Boxed(opts.image.as_ref()),
    };
    let ap = appearance::write(&mut up, rect.2 - rect.0, rect.3 - rect.1, &lines, look)?;

    // The signature dictionary, with fixed-width placeholders (ISO 32000-2 §12.8.1).
    let sig_ref = up.allocate();
    up.put_raw(sig_ref, signature_dict_body(opts, &info))?;

    // The field gets its value and appearance; nothing else in it changes.
    field.set("V", Object::Reference(sig_ref));
    field.set(
        "AP",
        Object::Dictionary(Dict::new().with("N", Object::Reference(ap))),
    );
    up.put(field_ref, Object::Dictionary(field))?;

    // Catalog: SigFlags 3 (§12.7.3) and the ISO/TS 32002 extension, once.
    let sig_flags_ok = acro.get(b"SigFlags").and_then(Object::as_i64) == Some(3);
    let has_ext = root.get(b"Extensions").is_some();
    if !sig_flags_ok || !has_ext {
        let mut acro2 = acro.clone();
        acro2.set("SigFlags", Object::Integer(3));
        let mut root2 = root.clone();
        match acro_ref {
            Some(r) => up.put(r, Object::Dictionary(acro2))?,
            None => root2.set("AcroForm", Object::Dictionary(acro2)),
        }
        root2.set("Version", Object::name("2.0"));
        root2.set("Extensions", iso_32002_extension());
        up.put(root_ref, Object::Dictionary(root2))?;
    }

    let out = up.finish(base)?;
    let (pdf, byte_range) = fill_byte_range(out, sig_ref)?;

    let digest = digest_ranges(
        scheme.digest(),
        pdf.get(..byte_range[1]).unwrap_or(&[]),
        pdf.get(byte_range[2]..).unwrap_or(&[]),
    );
    let signed_attributes = cms::signed_attributes_der(&digest, signer_cert)
        .map_err(|e| SignError::Cms(e.to_string()))?;
    Ok(PreparedSignature {
        field: opts.field.clone(),
        base_len: base.len(),
        pdf,
        byte_range,
        message_digest: digest,
        signed_attributes,
    })
}

/// The digest of two byte ranges with `hash`, without joining them.
fn digest_ranges(hash: pki::alg::HashAlg, a: &[u8], b: &[u8]) -> Vec<u8> {
    fn run<D: Digest>(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut h = D::new();
        h.update(a);
        h.update(b);
        h.finalize().to_vec()
    }
    match hash {
        pki::alg::HashAlg::Sha256 => run::<Sha256>(a, b),
        pki::alg::HashAlg::Sha384 => run::<sha2::Sha384>(a, b),
        pki::alg::HashAlg::Sha512 => run::<Sha512>(a, b),
    }
}

impl PreparedSignature {
    /// SHA-256 of the file the revision was appended to (`base_revision_sha256` of the API).
    pub fn base_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.pdf.get(..self.base_len).unwrap_or(&[])).into()
    }

    /// Embeds `signature` over [`Self::signed_attributes`] (Ed25519; RSA PKCS#1 v1.5; ECDSA as
    /// DER or `r‖s`) and returns the signed file. `current_base` must be the file the
    /// preparation was made against, byte for byte.
    ///
    /// # Errors
    /// The file changed since preparation, the signature does not verify with the
    /// certificate's key, or the CMS does not fit.
    pub fn embed(
        self,
        current_base: &[u8],
        signature: &[u8],
        signer_cert: &Certificate,
        chain: &[Certificate],
    ) -> Result<Vec<u8>, SignError> {
        let cms = self.signed_data(signature, signer_cert, chain)?;
        self.embed_cms(current_base, &cms)
    }

    /// The CMS SignedData around `signature` (see [`PreparedSignature::embed`]), to embed with
    /// [`PreparedSignature::embed_cms`] once unsigned attributes (a signature time-stamp) are
    /// added.
    ///
    /// # Errors
    /// The signature does not verify with the certificate's key.
    pub fn signed_data(
        &self,
        signature: &[u8],
        signer_cert: &Certificate,
        chain: &[Certificate],
    ) -> Result<Vec<u8>, SignError> {
        cms::build_signed_data(&self.signed_attributes, signature, signer_cert, chain).map_err(
            |e| match e {
                cms::CmsError::SignatureMismatch => SignError::KeyMismatch,
                cms::CmsError::Algorithm(why) => SignError::Certificate(why),
                other => SignError::Cms(other.to_string()),
            },
        )
    }

    /// Writes `cms` into the reserved `/Contents` and returns the signed file. `current_base`
    /// must be the file the preparation was made against, byte for byte.
    ///
    /// # Errors
    /// The file changed since preparation, or the CMS does not fit.
    pub fn embed_cms(self, current_base: &[u8], cms: &[u8]) -> Result<Vec<u8>, SignError> {
        if current_base.len() != self.base_len || !self.pdf.starts_with(current_base) {
            return Err(SignError::StaleBase);
        }
        let mut pdf = self.pdf;
        write_contents(&mut pdf, self.byte_range, cms)?;
        Ok(pdf)
    }
}

/// `cms` with `token` added as its signature time-stamp (the unsigned attribute
/// id-aa-signatureTimeStampToken, RFC 3161 Appendix A): PAdES B-T (ETSI EN 319 142-1 §6.3).
///
/// # Errors
/// `cms` is not a SignedData with one signer.
pub fn add_signature_timestamp(cms: &[u8], token: &[u8]) -> Result<Vec<u8>, SignError> {
    cms::add_unsigned_attribute(cms, crate::tsp::ID_AA_SIGNATURE_TIME_STAMP, token)
        .map_err(|e| SignError::Cms(e.to_string()))
}

/// The signature value of a CMS SignedData: what a signature time-stamp's imprint covers.
///
/// # Errors
/// `cms` is not a SignedData with one signer.
pub fn signature_value(cms: &[u8]) -> Result<Vec<u8>, SignError> {
    cms::parse_signed_data(cms)
        .map(|p| p.signature)
        .map_err(|e| SignError::Cms(e.to_string()))
}

/// Signs in one call with a key held locally (the CLI and tests).
///
/// # Errors
/// As [`prepare`] and [`PreparedSignature::embed`]; [`SignError::KeyMismatch`] if `key` is not
/// the certificate's.
pub fn sign_with_key(
    base: &[u8],
    key: &SigningKey,
    signer_cert: &Certificate,
    chain: &[Certificate],
    opts: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    let cert_key = pki::certificate_verifying_key(signer_cert)
        .map_err(|e| SignError::Certificate(e.to_string()))?;
    if cert_key != key.verifying_key() {
        return Err(SignError::KeyMismatch);
    }
    let prepared = prepare(base, signer_cert, opts)?;
    let signature = key.sign(&prepared.signed_attributes).to_bytes();
    prepared.embed(base, &signature, signer_cert, chain)
}

const BYTE_RANGE_WIDTH: usize = 48;

/// Writes the `/ByteRange` of the signature dictionary `sig_ref` of a finished update: the whole
/// file but the `/Contents` hex string (ISO 32000-2 §12.8.1).
pub(crate) fn fill_byte_range(
    out: crate::pdf::UpdateOutput,
    sig_ref: crate::pdf::ObjRef,
) -> Result<(Vec<u8>, [usize; 4]), SignError> {
    let contents_at = out
        .find_in_object(sig_ref, b"/Contents <")
        .ok_or_else(|| SignError::Cms("placeholder not found".into()))?
        + b"/Contents ".len();
    let contents_end = contents_at + 2 + 2 * CONTENTS_RESERVE;
    let byte_range = [
        0,
        contents_at,
        contents_end,
        out.bytes.len().saturating_sub(contents_end),
    ];
    let br_at = out
        .find_in_object(sig_ref, b"/ByteRange [")
        .ok_or_else(|| SignError::Cms("byte range placeholder not found".into()))?
        + b"/ByteRange [".len();
    let mut pdf = out.bytes;
    let text = format!(
        "{} {} {} {}",
        byte_range[0], byte_range[1], byte_range[2], byte_range[3]
    );
    let slot = pdf
        .get_mut(br_at..br_at + BYTE_RANGE_WIDTH)
        .ok_or_else(|| SignError::Cms("byte range placeholder".into()))?;
    if text.len() > slot.len() {
        return Err(SignError::Cms("file too large for the byte range".into()));
    }
    slot.fill(b' ');
    if let Some(dst) = slot.get_mut(..text.len()) {
        dst.copy_from_slice(text.as_bytes());
    }
    Ok((pdf, byte_range))
}

/// Writes `der` as hex into the reserved `/Contents` of `byte_range`.
pub(crate) fn write_contents(
    pdf: &mut [u8],
    byte_range: [usize; 4],
    der: &[u8],
) -> Result<(), SignError> {
    if der.len() > CONTENTS_RESERVE {
        return Err(SignError::Cms(format!(
            "CMS {} byte, vượt chỗ dành sẵn {CONTENTS_RESERVE}",
            der.len()
        )));
    }
    let start = byte_range[1] + 1;
    let slot = pdf
        .get_mut(start..start + 2 * der.len())
        .ok_or_else(|| SignError::Cms("placeholder".into()))?;
    for (i, b) in der.iter().enumerate() {
        let hex = format!("{b:02x}");
        if let Some(dst) = slot.get_mut(2 * i..2 * i + 2) {
            dst.copy_from_slice(hex.as_bytes());
        }
    }
    Ok(())
}

fn signature_dict_body(opts: &SignOptions, info: &pki::CertInfo) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(
        b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [",
    );
    d.extend(std::iter::repeat_n(b' ', BYTE_RANGE_WIDTH));
    d.extend_from_slice(b"] /Contents <");
    d.extend(std::iter::repeat_n(b'0', 2 * CONTENTS_RESERVE));
    d.extend_from_slice(b">");
    let mut rest = Dict::new().with(
        "M",
        Object::String(PdfString::literal(crate::pdf::format_date(opts.time))),
    );
    if let Some(n) = &info.subject_cn {
        rest.set("Name", text_string(n));
    }
    if let Some(r) = &opts.reason {
        rest.set("Reason", text_string(r));
    }
    if let Some(l) = &opts.location {
        rest.set("Location", text_string(l));
    }
    let mut tail = Vec::new();
    crate::pdf::serialize_object(&Object::Dictionary(rest), &mut tail);
    // `tail` is "<<...>>": splice its entries into our dictionary.
    let inner = tail
        .get(2..tail.len().saturating_sub(2))
        .unwrap_or(&[])
        .to_vec();
    d.push(b' ');
    d.extend_from_slice(&inner);
    d.extend_from_slice(b" >>");
    d
}

/// The catalog's `/Extensions` declaring ISO/TS 32002 (Ed25519 in PDF), as signers write it.
pub(crate) fn iso_32002_extension() -> Object {
    let ext = Dict::new()
        .with("Type", Object::name("DeveloperExtensions"))
        .with("BaseVersion", Object::name("2.0"))
        .with("ExtensionLevel", Object::Integer(32002))
        .with(
            "URL",
            Object::String(PdfString::literal(
                "https://www.iso.org/standard/45875.html",
            )),
        )
        .with(
            "ExtensionRevision",
            Object::String(PdfString::literal(":2022")),
        );
    Object::Dictionary(Dict::new().with("ISO_", Object::Array(vec![Object::Dictionary(ext)])))
}

/// PDF text string (ISO 32000-2 §7.9.2.2) as an object of our writer.
pub(crate) fn text_string(s: &str) -> Object {
    match crate::pdf::encode_text_string(s) {
        (bytes, false) => Object::String(PdfString::literal(bytes)),
        (bytes, true) => Object::String(PdfString::hex(bytes)),
    }
}

fn rect_of(field: &Dict) -> (f32, f32, f32, f32) {
    let nums: Vec<f32> = field
        .get(b"Rect")
        .and_then(Object::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(|o| match o {
            Object::Integer(i) => Some(*i as f32),
            Object::Real(r) => Some(*r as f32),
            _ => None,
        })
        .collect();
    match nums.as_slice() {
        [a, b, c, d] => (a.min(*c), b.min(*d), a.max(*c), b.max(*d)),
        _ => (0.0, 0.0, 200.0, 60.0),
    }
}

/// "22.01.2021 15:30:45 +07:00", the time format of Vietnamese signing tools.
pub fn display_time(t: OffsetDateTime) -> String {
    let (h, m, _) = t.offset().as_hms();
    let sign = if t.offset().is_negative() { '-' } else { '+' };
    format!(
        "{:02}.{:02}.{} {:02}:{:02}:{:02} {sign}{:02}:{:02}",
        t.day(),
        u8::from(t.month()),
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

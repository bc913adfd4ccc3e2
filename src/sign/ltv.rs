//! Long-term validation of a signed covenant (ETSI EN 319 142-1 §5.4, §6.3): one revision adding
//! validation data to the document security store (`/DSS`, ISO 32000-2 §12.8.4.3: PAdES B-LT),
//! and one revision adding a document time-stamp over everything before it (§12.8.5: B-LTA).
//! Both are the maintenance the verifier allows by name after signatures.
//!
//! A document time-stamp is made in two steps like a signature: [`prepare_document_timestamp`]
//! appends the revision with a zeroed `/Contents` and gives the imprint to time-stamp;
//! [`PreparedTimestamp::embed`] writes the token.

use sha2::{Digest, Sha256};

use super::{SignError, fill_byte_range, write_contents};
use crate::pdf::walk::{Budget, MAX_WORK, catalog, deref};
use crate::pdf::{Dict, IncrementalUpdate, Limits, ObjRef, Object, PdfFile, PdfString};
use crate::tsp::MessageImprint;

/// Validation data to add to the document security store, each item DER.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationData {
    /// Certificates (signers', intermediates, TSAs').
    pub certificates: Vec<Vec<u8>>,
    /// CRLs.
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses (RFC 6960 `OCSPResponse`).
    pub ocsps: Vec<Vec<u8>>,
}

/// Appends one revision whose catalog points at a new `/DSS` holding everything the file's
/// store held plus `data` (each item once; a new item becomes a stream).
///
/// # Errors
/// A file that cannot be read or updated.
pub fn add_validation_data(pdf: &[u8], data: &ValidationData) -> Result<Vec<u8>, SignError> {
    let file = PdfFile::parse(pdf, &Limits::default())?;
    let last = file.last_revision();
    let mut budget = Budget::new(MAX_WORK);
    let (root_ref, mut root) = root_of(&file)?;
    let mut up = IncrementalUpdate::new(&file)?;
    let old = catalog(&file, last, &mut budget)
        .and_then(|c| c.get(b"DSS").cloned())
        .and_then(|d| deref(&file, &d, last, &mut budget))
        .and_then(|d| d.as_dict().cloned())
        .unwrap_or_default();
    let mut dss = Dict::new().with("Type", Object::name("DSS"));
    for (key, items) in [
        ("Certs", &data.certificates),
        ("CRLs", &data.crls),
        ("OCSPs", &data.ocsps),
    ] {
        let mut refs: Vec<Object> = Vec::new();
        let mut known: Vec<Vec<u8>> = Vec::new();
        if let Some(Object::Array(existing)) = old
            .get(key.as_bytes())
            .and_then(|v| deref(&file, v, last, &mut budget))
        {
            for item in existing {
                if let Some(Object::Stream(st)) = deref(&file, &item, last, &mut budget)
                    && let Ok(bytes) = file.decoded_stream(&st)
                {
                    known.push(bytes);
                }
                refs.push(item);
            }
        }
        for der in items {
            if known.contains(der) {
                continue;
            }
            let r = up.allocate();
            up.put_stream(r, Dict::new(), der)?;
            refs.push(Object::Reference(r));
            known.push(der.clone());
        }
        if !refs.is_empty() {
            dss.set(key, Object::Array(refs));
        }
    }
    if let Some(vri) = old.get(b"VRI") {
        dss.set("VRI", vri.clone());
    }
    let dss_ref = up.allocate();
    up.put(dss_ref, Object::Dictionary(dss))?;
    root.set("DSS", Object::Reference(dss_ref));
    up.put(root_ref, Object::Dictionary(root))?;
    Ok(up.finish(pdf)?.bytes)
}

/// A document time-stamp revision waiting for its token.
#[derive(Debug, Clone)]
pub struct PreparedTimestamp {
    /// The new field's name.
    pub field: String,
    base_len: usize,
    pdf: Vec<u8>,
    byte_range: [usize; 4],
}

impl PreparedTimestamp {
    /// The imprint to time-stamp: SHA-256 of the bytes the `/ByteRange` covers.
    pub fn imprint(&self) -> MessageImprint {
        let mut h = Sha256::new();
        h.update(self.pdf.get(..self.byte_range[1]).unwrap_or_default());
        h.update(self.pdf.get(self.byte_range[2]..).unwrap_or_default());
        MessageImprint {
            hash_oid: crate::pki::alg::HashAlg::Sha256.oid(),
            digest: h.finalize().to_vec(),
        }
    }

    /// The file with `token` written into the reserved `/Contents`. `current_base` must be the
    /// file the preparation was made against.
    ///
    /// # Errors
    /// The file changed since preparation, or the token does not fit.
    pub fn embed(self, current_base: &[u8], token: &[u8]) -> Result<Vec<u8>, SignError> {
        if current_base.len() != self.base_len || !self.pdf.starts_with(current_base) {
            return Err(SignError::StaleBase);
        }
        let mut pdf = self.pdf;
        write_contents(&mut pdf, self.byte_range, token)?;
        Ok(pdf)
    }
}

/// Appends a revision with a new invisible signature field (`DocTS1`, `DocTS2`, …: the first
/// name not in the form) whose value is a `/DocTimeStamp` dictionary (`/SubFilter
/// /ETSI.RFC3161`) with a zeroed `/Contents`; its widget goes on the first page.
///
/// # Errors
/// A file that cannot be read or updated, or without a form or pages.
pub fn prepare_document_timestamp(pdf: &[u8]) -> Result<PreparedTimestamp, SignError> {
    let file = PdfFile::parse(pdf, &Limits::default())?;
    let last = file.last_revision();
    let mut budget = Budget::new(MAX_WORK);
    let (root_ref, mut root) = root_of(&file)?;
    let no_form = || SignError::NoSuchField("AcroForm".into());
    let (acro_ref, mut acro) = match root.get(b"AcroForm") {
        Some(Object::Reference(r)) => (Some(*r), file.resolve(*r, last)?),
        Some(o) => (None, o.clone()),
        None => return Err(no_form()),
    };
    let acro = match &mut acro {
        Object::Dictionary(d) => d,
        _ => return Err(no_form()),
    };
    let scan = crate::pdf::walk::scan_fields(&file, last, &mut budget);
    let name = (1..)
        .map(|i| format!("DocTS{i}"))
        .find(|n| !scan.fields.iter().any(|f| f.name == *n))
        .unwrap_or_else(|| "DocTS".into());
    let page_ref = first_page(&file, &root, last, &mut budget)?;

    let mut up = IncrementalUpdate::new(&file)?;
    let sig_ref = up.allocate();
    let mut body = Vec::new();
    body.extend_from_slice(
        b"<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange [",
    );
    body.extend(std::iter::repeat_n(b' ', super::BYTE_RANGE_WIDTH));
    body.extend_from_slice(b"] /Contents <");
    body.extend(std::iter::repeat_n(b'0', 2 * super::CONTENTS_RESERVE));
    body.extend_from_slice(b"> >>");
    up.put_raw(sig_ref, body)?;

    let field_ref = up.allocate();
    let zero = || Object::Integer(0);
    up.put(
        field_ref,
        Object::Dictionary(
            Dict::new()
                .with("FT", Object::name("Sig"))
                .with("T", Object::String(PdfString::literal(name.clone())))
                .with("V", Object::Reference(sig_ref))
                .with("Type", Object::name("Annot"))
                .with("Subtype", Object::name("Widget"))
                .with("Rect", Object::Array(vec![zero(), zero(), zero(), zero()]))
                .with("F", Object::Integer(132))
                .with("P", Object::Reference(page_ref)),
        ),
    )?;

    // The form lists the field; the first page lists its widget.
    let mut fields = match acro.get(b"Fields") {
        Some(Object::Reference(r)) => file.resolve(*r, last)?,
        Some(o) => o.clone(),
        None => Object::Array(Vec::new()),
    };
    if let Object::Array(items) = &mut fields {
        items.push(Object::Reference(field_ref));
    }
    match acro.get(b"Fields") {
        Some(Object::Reference(r)) => up.put(*r, fields)?,
        _ => acro.set("Fields", fields),
    }
    let acro = Object::Dictionary(acro.clone());
    match acro_ref {
        Some(r) => up.put(r, acro)?,
        None => {
            root.set("AcroForm", acro);
            up.put(root_ref, Object::Dictionary(root))?;
        }
    }
    let mut page = match file.resolve(page_ref, last)? {
        Object::Dictionary(d) => d,
        _ => return Err(SignError::Cms("the first page is not a dictionary".into())),
    };
    match page.get(b"Annots").cloned() {
        Some(Object::Reference(r)) => {
            let mut annots = file.resolve(r, last)?;
            if let Object::Array(items) = &mut annots {
                items.push(Object::Reference(field_ref));
            }
            up.put(r, annots)?;
        }
        Some(Object::Array(mut items)) => {
            items.push(Object::Reference(field_ref));
            page.set("Annots", Object::Array(items));
            up.put(page_ref, Object::Dictionary(page))?;
        }
        _ => {
            page.set("Annots", Object::Array(vec![Object::Reference(field_ref)]));
            up.put(page_ref, Object::Dictionary(page))?;
        }
    }
    let out = up.finish(pdf)?;
    let (pdf_out, byte_range) = fill_byte_range(out, sig_ref)?;
    Ok(PreparedTimestamp {
        field: name,
        base_len: pdf.len(),
        pdf: pdf_out,
        byte_range,
    })
}

/// The catalog's reference and dictionary.
fn root_of(file: &PdfFile) -> Result<(ObjRef, Dict), SignError> {
    let last = file.last_revision();
    let no_root = || SignError::Cms("the file has no catalog".into());
    let root_ref = file
        .trailer()
        .and_then(|t| t.get(b"Root"))
        .and_then(Object::as_reference)
        .ok_or_else(no_root)?;
    match file.resolve(root_ref, last)? {
        Object::Dictionary(d) => Ok((root_ref, d)),
        _ => Err(no_root()),
    }
}

/// The first page's reference: down the first kids of the page tree (bounded depth).
fn first_page(
    file: &PdfFile,
    root: &Dict,
    rev: usize,
    budget: &mut Budget,
) -> Result<ObjRef, SignError> {
    let no_page = || SignError::Cms("the file has no page".into());
    let mut node = root
        .get(b"Pages")
        .and_then(Object::as_reference)
        .ok_or_else(no_page)?;
    for _ in 0..crate::pdf::walk::MAX_WALK_DEPTH {
        let Some(Object::Dictionary(d)) = deref(file, &Object::Reference(node), rev, budget) else {
            return Err(no_page());
        };
        if d.is_type(b"Page") {
            return Ok(node);
        }
        let kids = d.get(b"Kids").and_then(|k| deref(file, k, rev, budget));
        node = match kids
            .as_ref()
            .and_then(Object::as_array)
            .and_then(|k| k.first())
        {
            Some(Object::Reference(r)) => *r,
            _ => return Err(no_page()),
        };
    }
    Err(no_page())
}

/// Most CRL distribution points fetched for one file.
const MAX_FETCHES: usize = 16;
/// Largest CRL fetched.
const MAX_CRL: u64 = 4 * 1024 * 1024;

/// The validation data a file needs: every certificate its signatures and time-stamps carry
/// (the CMS certificates and those of the time-stamp tokens in them and in document
/// time-stamps), and each certificate of `anchors` that issued one of them (the roots).
pub fn validation_data_of(pdf: &[u8], anchors: &[x509_cert::Certificate]) -> ValidationData {
    let mut certs: Vec<x509_cert::Certificate> = Vec::new();
    if let Ok(file) = PdfFile::parse(pdf, &Limits::default()) {
        let last = file.last_revision();
        let mut budget = Budget::new(MAX_WORK);
        let scan = crate::pdf::walk::scan_fields(&file, last, &mut budget);
        for f in scan.fields.iter().filter(|f| f.is_signature) {
            let Some(Object::Dictionary(sig)) = f
                .value
                .as_ref()
                .and_then(|v| deref(&file, v, last, &mut budget))
            else {
                continue;
            };
            let Some(Object::String(contents)) = sig.get(b"Contents") else {
                continue;
            };
            collect_cms_certificates(&contents.bytes, &mut certs, 0);
        }
    }
    // The anchors that issued a collected certificate, up their own chains.
    loop {
        let before = certs.len();
        let issuers: Vec<x509_cert::Certificate> = anchors
            .iter()
            .filter(|a| !certs.contains(a))
            .filter(|a| {
                certs.iter().any(|c| {
                    crate::pki::name::same_name(
                        &c.tbs_certificate.issuer,
                        &a.tbs_certificate.subject,
                    )
                })
            })
            .cloned()
            .collect();
        certs.extend(issuers);
        if certs.len() == before {
            break;
        }
    }
    ValidationData {
        certificates: certs
            .iter()
            .filter_map(|c| crate::pki::certificate_to_der(c).ok())
            .collect(),
        crls: Vec::new(),
        ocsps: Vec::new(),
    }
}

/// The certificates of a CMS and of the time-stamp tokens in its unsigned attributes.
fn collect_cms_certificates(cms: &[u8], out: &mut Vec<x509_cert::Certificate>, depth: u8) {
    let Ok(parsed) = crate::cms::trim_der_padding(cms).and_then(crate::cms::parse_signed_data)
    else {
        return;
    };
    for c in parsed.certificates {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if depth > 0 {
        return;
    }
    for token in parsed
        .unsigned_attrs
        .iter()
        .filter(|a| a.oid == crate::tsp::ID_AA_SIGNATURE_TIME_STAMP)
        .flat_map(|a| a.values.iter())
    {
        collect_cms_certificates(token, out, depth + 1);
    }
}

/// Revocation data fetched for `certs` whose issuer has no CRL in `have` (what the signer
/// embedded stays the evidence when nothing answers): an OCSP response from the certificate's
/// `http://` responder (RFC 5280 §4.2.2.1, RFC 6960 Appendix A.1) when it gives the
/// certificate's status signed for its issuer, else a CRL from its `http://` distribution
/// point (§4.2.1.13) that verifies with the issuer. The issuer must be among `certs`.
pub fn fetch_revocation(certs: &[Vec<u8>], have: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    use der::Decode;
    let parsed: Vec<x509_cert::Certificate> = certs
        .iter()
        .filter_map(|d| x509_cert::Certificate::from_der(d).ok())
        .collect();
    let known: Vec<crate::pki::Crl> = have
        .iter()
        .filter_map(|d| crate::pki::parse_crl(d).ok())
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(5)))
        .build()
        .into();
    let mut crls: Vec<Vec<u8>> = Vec::new();
    let mut ocsps: Vec<Vec<u8>> = Vec::new();
    let mut tried: Vec<String> = Vec::new();
    let mut fetch = |url: &str, body: Option<&[u8]>| -> Option<Vec<u8>> {
        if tried.len() >= MAX_FETCHES
            || !url.starts_with("http://")
            || tried.iter().any(|t| t == url)
        {
            return None;
        }
        tried.push(url.to_owned());
        let mut resp = match body {
            Some(b) => agent
                .post(url)
                .header("Content-Type", "application/ocsp-request")
                .send(b)
                .ok()?,
            None => agent.get(url).call().ok()?,
        };
        if resp.status().as_u16() != 200 {
            return None;
        }
        resp.body_mut()
            .with_config()
            .limit(MAX_CRL)
            .read_to_vec()
            .ok()
    };
    for cert in &parsed {
        let issuer_name = &cert.tbs_certificate.issuer;
        let covers = |c: &crate::pki::Crl| {
            crate::pki::name::same_name(&c.issuer, issuer_name) && c.covers(cert)
        };
        let fetched = crls.iter().filter_map(|d| crate::pki::parse_crl(d).ok());
        if known.iter().any(covers) || fetched.into_iter().any(|c| covers(&c)) {
            continue;
        }
        let Some(issuer) = parsed.iter().find(|i| {
            crate::pki::name::same_name(&i.tbs_certificate.subject, issuer_name) && *i != cert
        }) else {
            continue;
        };
        let request = crate::pki::ocsp::request_for(cert, issuer).ok();
        let answered = crate::pki::ocsp_urls(cert).iter().any(|url| {
            let Some(der) = request.as_deref().and_then(|r| fetch(url, Some(r))) else {
                return false;
            };
            let good = crate::pki::ocsp::parse_response(&der)
                .is_ok_and(|o| o.status_of(cert, issuer).is_some());
            if good {
                ocsps.push(der);
            }
            good
        });
        if answered {
            continue;
        }
        for url in crate::pki::crl_urls(cert) {
            if let Some(body) = fetch(&url, None)
                && crate::pki::parse_crl(&body).is_ok_and(|crl| crl.verify(issuer))
            {
                crls.push(body);
                break;
            }
        }
    }
    (crls, ocsps)
}

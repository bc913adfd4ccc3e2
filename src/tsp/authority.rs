//! The built-in time-stamping authority (RFC 3161 §2), for blocs that have none: an ECDSA
//! P-256 key whose certificate carries the critical extended key usage timeStamping alone
//! (§2.3), issued by the service's time-stamping CA. Tokens have `genTime` in whole seconds,
//! echo the request's nonce, carry the TSA's certificate and its issuer, and sign
//! signing-certificate-v2 (RFC 5816 §2.2.1).
//!
//! Its folder (`<data_dir>/tsa/`) holds `root/` (the issuing CA, a [`BlocCa`] folder:
//! `ca.key`, `ca.crt`), `tsa.key` (PKCS#8 PEM, 0600) and `tsa.crt`. The clock, serial numbers
//! and randomness are the caller's.

use std::path::Path;

use der::asn1::ObjectIdentifier;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;

use super::{
    FailInfo, ID_CT_TST_INFO, MessageImprint, TimeStampRequest, TspError, TstInfo,
    response_granted, response_rejected,
};
use crate::ca::{BlocCa, CaError, CaKeyKind, write_secret};
use crate::cms;
use crate::pki::{self, IssuerKey, ServicePurpose};

/// The TSA unit's certificate is valid this long; the CA's for [`ROOT_YEARS`].
const TSA_YEARS: i64 = 6;
/// The time-stamping CA's validity.
const ROOT_YEARS: i64 = 20;
/// The key file of the TSA unit in its folder.
pub const KEY_FILE: &str = "tsa.key";
/// The certificate file of the TSA unit in its folder.
pub const CERT_FILE: &str = "tsa.crt";
/// The issuing CA's folder inside the TSA folder.
pub const ROOT_DIR: &str = "root";

/// A time-stamping unit: its key, its certificate and the certificates above it.
pub struct Authority {
    key: IssuerKey,
    cert: Certificate,
    chain: Vec<Certificate>,
    policy: ObjectIdentifier,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("subject", &pki::cert_info(&self.cert).subject_cn)
            .field("policy", &self.policy.to_string())
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// A time-stamping unit with `key`, whose certificate is `cert` (issued by the first of
    /// `chain`), stamping under `policy`.
    ///
    /// # Errors
    /// [`TspError::Setup`] when the key is not the certificate's or the certificate lacks the
    /// sole critical EKU timeStamping (RFC 3161 §2.3).
    pub fn new(
        key: IssuerKey,
        cert: Certificate,
        chain: Vec<Certificate>,
        policy: ObjectIdentifier,
    ) -> Result<Authority, TspError> {
        let spki = key.spki().map_err(|e| TspError::Setup(e.to_string()))?;
        if cert.tbs_certificate.subject_public_key_info != spki {
            return Err(TspError::Setup("the key is not the certificate's".into()));
        }
        if !pki::has_sole_critical_purpose(&cert, ServicePurpose::TimeStamping) {
            return Err(TspError::Setup(
                "the certificate lacks the critical extended key usage timeStamping".into(),
            ));
        }
        Ok(Authority {
            key,
            cert,
            chain,
            policy,
        })
    }

    /// The TSA unit's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The certificates above the TSA unit's, up to its root.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The root a verifier trusts for this TSA's tokens.
    pub fn root(&self) -> &Certificate {
        self.chain.last().unwrap_or(&self.cert)
    }

    /// The policy the tokens name.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// A token over `imprint` at `at` (whole seconds) with `serial` (RFC 3161 §2.4.2): a
    /// CMS SignedData v3 whose eContent is the DER TSTInfo.
    ///
    /// # Errors
    /// An unsupported hash (`badAlg`), a wrong digest length (`badDataFormat`) or another
    /// policy than ours (`unacceptedPolicy`), as the [`FailInfo`] of the refusal.
    pub fn stamp(
        &self,
        req: &TimeStampRequest,
        serial: &[u8],
        at: OffsetDateTime,
    ) -> Result<Vec<u8>, (FailInfo, &'static str)> {
        let Some(hash) = req.imprint.hash() else {
            return Err((FailInfo::BadAlg, "unsupported hash algorithm"));
        };
        if req.imprint.digest.len() != hash.output_len() {
            return Err((FailInfo::BadDataFormat, "the imprint has the wrong length"));
        }
        if req.policy.is_some_and(|p| p != self.policy) {
            return Err((FailInfo::UnacceptedPolicy, "policy not supported"));
        }
        self.token(&req.imprint, req.nonce.clone(), serial, at)
            .map_err(|_| (FailInfo::SystemFailure, "the token could not be made"))
    }

    fn token(
        &self,
        imprint: &MessageImprint,
        nonce: Option<Vec<u8>>,
        serial: &[u8],
        at: OffsetDateTime,
    ) -> Result<Vec<u8>, TspError> {
        let whole = at
            .replace_nanosecond(0)
            .map_err(|_| TspError::Time)?
            .to_offset(time::UtcOffset::UTC);
        let info = TstInfo {
            policy: self.policy,
            imprint: imprint.clone(),
            serial: serial.to_vec(),
            gen_time: whole,
            accuracy_micros: None,
            nonce,
        }
        .to_der()?;
        let scheme = cms::scheme_for(&self.cert)?;
        let attrs = cms::signed_attributes_der_for(
            ID_CT_TST_INFO,
            &scheme.digest().digest(&info),
            &self.cert,
        )?;
        let signature = self.key.sign(&attrs);
        Ok(cms::build_signed_data_with(
            cms::Content::Encapsulated(ID_CT_TST_INFO, &info),
            &attrs,
            &signature,
            &self.cert,
            &self.chain,
        )?)
    }

    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp` (RFC 3161 §2.4.2): a token, or a
    /// rejection naming why.
    pub fn respond(&self, request: &[u8], serial: &[u8], at: OffsetDateTime) -> Vec<u8> {
        let req = match TimeStampRequest::from_der(request) {
            Ok(r) => r,
            Err(_) => return response_rejected(FailInfo::BadDataFormat, "not a TimeStampReq"),
        };
        match self.stamp(&req, serial, at) {
            Ok(token) => response_granted(&token),
            Err((fail, text)) => response_rejected(fail, text),
        }
    }

    /// The built-in TSA kept in `dir`, created on first use: a P-256 time-stamping CA named
    /// `root_name` valid for 20 years, and a TSA unit key and certificate valid for 6.
    ///
    /// # Errors
    /// Unreadable or unwritable files, a key that is not its certificate's.
    pub fn open_or_create(
        dir: &Path,
        root_name: &str,
        policy: ObjectIdentifier,
        now: OffsetDateTime,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<Authority, CaError> {
        Self::open_or_create_with_root(dir, root_name, policy, now, rng, None).map(|(tsa, _)| tsa)
    }

    /// [`Authority::open_or_create`], also giving the issuing CA (it signs the CRL of the
    /// TSA's certificate); both keys sealed under `master` when given.
    ///
    /// # Errors
    /// As [`Authority::open_or_create`]; a sealed key without its master key.
    pub fn open_or_create_with_root(
        dir: &Path,
        root_name: &str,
        policy: ObjectIdentifier,
        now: OffsetDateTime,
        rng: &mut impl rand_core::CryptoRngCore,
        master: Option<&crate::secrets::MasterKey>,
    ) -> Result<(Authority, BlocCa), CaError> {
        let root_dir = dir.join(ROOT_DIR);
        let root = if root_dir.join(crate::ca::KEY_FILE).exists() {
            BlocCa::open_with(&root_dir, master)?
        } else {
            let ca = BlocCa::create(
                CaKeyKind::P256.generate(rng),
                root_name,
                now - Duration::days(1),
                now + Duration::days(365 * ROOT_YEARS),
            )?;
            ca.write_new_with(&root_dir, master)?;
            ca
        };
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| CaError::Io { path, source }
        };
        if !key_path.exists() {
            let key = IssuerKey::generate_p256(rng);
            let mut serial = [0u8; 8];
            rng.fill_bytes(&mut serial);
            let cert = root.issue_service(
                &key.spki()?,
                "Đơn vị cấp dấu thời gian giaouoc",
                ServicePurpose::TimeStamping,
                u64::from_be_bytes(serial) >> 1,
                now - Duration::hours(1),
                now + Duration::days(365 * TSA_YEARS),
            )?;
            let _ = std::fs::remove_file(&cert_path);
            write_secret(&cert_path, pki::certificate_to_pem(&cert)?.as_bytes())
                .map_err(io(&cert_path))?;
            crate::secrets::write_key(&key_path, key.to_pem()?.as_bytes(), master)?;
        }
        let key_pem = crate::secrets::read_key(&key_path, master)?;
        let key = IssuerKey::from_pem(&key_pem)?;
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        let cert = pki::certificates_from_pem_or_der(cert_pem.as_bytes())?
            .into_iter()
            .next()
            .ok_or(CaError::NoCertificate)?;
        let tsa = Authority::new(key, cert, vec![root.cert.clone()], policy)
            .map_err(|_| CaError::KeyMismatch)?;
        Ok((tsa, root))
    }
}

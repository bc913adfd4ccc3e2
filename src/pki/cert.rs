//! CA and leader certificates (RFC 5280 §4, RFC 8410), inspection and loading.

use der::asn1::OctetString;
use der::pem::LineEnding;
use der::{Decode, DecodePem, Encode, EncodePem};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::time::Validity;
use x509_cert::{Certificate, ext::Extensions};

use super::PkiError;
use super::keys::IssuerKey;
use super::name::{
    NameFields, OID_CN, OID_O, OID_OU, OID_TITLE, build_name, check_value, name_attr,
};
use super::util::{
    ed25519_spki, extension, from_x509_time, hex_lower, serial_from_u64, serial_hex, time_text,
    to_x509_time,
};

/// Subject of the bloc's CA certificate: a single CN (RFC 5280 §4.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaSubject {
    /// CA name, e.g. "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội".
    pub name: String,
}

/// Subject of a unit leader's certificate. Encoded as O = unit_name,
/// OU = unit_id, title = title, CN = full_name, all UTF8String (RFC 5280 §4.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderSubject {
    /// Leader's full name (CN, 2.5.4.3).
    pub full_name: String,
    /// Position, e.g. "Giám đốc" (title, 2.5.4.12).
    pub title: String,
    /// Unit name (O, 2.5.4.10).
    pub unit_name: String,
    /// Unit identifier, e.g. "U07" (OU, 2.5.4.11).
    pub unit_id: String,
}

impl LeaderSubject {
    /// Distinguished name for this subject (RFC 5280 §4.1.2.6).
    pub(crate) fn to_name(&self) -> Result<Name, PkiError> {
        check_value("full_name", &self.full_name)?;
        check_value("title", &self.title)?;
        check_value("unit_name", &self.unit_name)?;
        check_value("unit_id", &self.unit_id)?;
        build_name(&[
            (OID_O, &self.unit_name),
            (OID_OU, &self.unit_id),
            (OID_TITLE, &self.title),
            (OID_CN, &self.full_name),
        ])
    }

    /// Rebuild from DN fields, if all four are present.
    pub(crate) fn from_fields(f: &NameFields) -> Option<Self> {
        Some(Self {
            full_name: f.common_name.clone()?,
            title: f.title.clone()?,
            unit_name: f.organization.clone()?,
            unit_id: f.organizational_unit.clone()?,
        })
    }
}

fn validity(not_before: OffsetDateTime, not_after: OffsetDateTime) -> Result<Validity, PkiError> {
    if not_before >= not_after {
        return Err(PkiError::Validity(
            "not_before must be earlier than not_after".into(),
        ));
    }
    Ok(Validity {
        not_before: to_x509_time(not_before)?,
        not_after: to_x509_time(not_after)?,
    })
}

fn sign_tbs(key: &IssuerKey, tbs: TbsCertificate) -> Result<Certificate, PkiError> {
    let tbs_der = tbs.to_der()?;
    let signature = der::asn1::BitString::from_bytes(&key.sign(&tbs_der))?;
    Ok(Certificate {
        tbs_certificate: tbs,
        signature_algorithm: key.algorithm(),
        signature,
    })
}

/// Key identifier of a SubjectPublicKeyInfo: leftmost 160 bits of SHA-256 of the
/// subjectPublicKey bits (RFC 7093 §2 method 1), as [`key_identifier`] for Ed25519.
fn spki_key_identifier(spki: &spki::SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha256::digest(spki.subject_public_key.raw_bytes())
        .iter()
        .take(20)
        .copied()
        .collect()
}

fn aki(key_id: Vec<u8>) -> Result<AuthorityKeyIdentifier, PkiError> {
    Ok(AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(key_id)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    })
}

/// Create the self-signed CA certificate: X.509 v3, Ed25519 (RFC 8410 §3),
/// basicConstraints cA=TRUE critical (RFC 5280 §4.2.1.9), keyUsage
/// keyCertSign|cRLSign critical (§4.2.1.3), SKI (§4.2.1.2) and AKI = SKI (§4.2.1.1).
pub fn create_ca_certificate(
    key: &SigningKey,
    subject: &CaSubject,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    create_ca_certificate_with(
        &IssuerKey::Ed25519(key.clone()),
        subject,
        serial,
        not_before,
        not_after,
    )
}

/// [`create_ca_certificate`] for a key of either kind (Ed25519, ECDSA P-256 with SHA-256).
pub fn create_ca_certificate_with(
    key: &IssuerKey,
    subject: &CaSubject,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    check_value("ca name", &subject.name)?;
    let name = build_name(&[(OID_CN, &subject.name)])?;
    let spki = key.spki()?;
    let key_id = spki_key_identifier(&spki);
    let extensions: Extensions = vec![
        extension(
            const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: None,
            },
        )?,
        extension(
            const_oid::db::rfc5280::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        )?,
        extension(
            const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(OctetString::new(key_id.clone())?),
        )?,
        extension(
            const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &aki(key_id)?,
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_from_u64(serial)?,
        signature: key.algorithm(),
        issuer: name.clone(),
        validity: validity(not_before, not_after)?,
        subject: name,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    sign_tbs(key, tbs)
}

/// Check that `ca_cert` may issue certificates/CRLs and that `ca_key` is its key
/// (RFC 5280 §4.2.1.9, §4.2.1.3).
pub(crate) fn check_issuer(
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    usage: KeyUsages,
) -> Result<(), PkiError> {
    let tbs = &ca_cert.tbs_certificate;
    let is_ca = matches!(tbs.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    if !is_ca {
        return Err(PkiError::NotACa("basicConstraints cA is not TRUE"));
    }
    match tbs.get::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.0.contains(usage) => {}
        Ok(None) => {}
        _ => {
            return Err(PkiError::NotACa(
                "keyUsage lacks keyCertSign or cRLSign for this operation",
            ));
        }
    }
    if ca_cert.tbs_certificate.subject_public_key_info != ca_key.spki()? {
        return Err(PkiError::KeyMismatch);
    }
    Ok(())
}

/// Key identifier of an issuer: its SKI extension, else computed from its key
/// (RFC 5280 §4.2.1.1).
pub(crate) fn issuer_key_id(ca_cert: &Certificate) -> Result<Vec<u8>, PkiError> {
    match ca_cert.tbs_certificate.get::<SubjectKeyIdentifier>() {
        Ok(Some((_, ski))) => Ok(ski.0.as_bytes().to_vec()),
        _ => Ok(spki_key_identifier(
            &ca_cert.tbs_certificate.subject_public_key_info,
        )),
    }
}

/// Issue a leader certificate signed by the CA (RFC 5280 §4.1): issuer is the
/// CA subject byte for byte, keyUsage digitalSignature|nonRepudiation
/// critical, basicConstraints cA=FALSE, SKI, AKI = CA SKI, no extendedKeyUsage.
/// The validity must lie within the CA's validity.
pub fn issue_leader_certificate(
    ca_key: &SigningKey,
    ca_cert: &Certificate,
    subject_key: &VerifyingKey,
    subject: &LeaderSubject,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    issue_leader_certificate_with(
        &IssuerKey::Ed25519(ca_key.clone()),
        ca_cert,
        &ed25519_spki(subject_key)?,
        subject,
        serial,
        not_before,
        not_after,
    )
}

/// [`issue_leader_certificate`] by a CA key of either kind, for a subject key of either kind
/// (its SubjectPublicKeyInfo: Ed25519 or ECDSA P-256).
pub fn issue_leader_certificate_with(
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    subject_spki: &spki::SubjectPublicKeyInfoOwned,
    subject: &LeaderSubject,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    issue_leader_certificate_pointing(
        ca_key,
        ca_cert,
        subject_spki,
        subject,
        serial,
        (not_before, not_after),
        None,
    )
}

/// Certificate policy (RFC 5280 §4.2.1.4) the bloc CA writes into an organisation's
/// certificate: "the holder is an organisation, not a person" (giaouoc's arc, as the TSA
/// policy [`crate::tsp::DEFAULT_POLICY`]).
pub const ORGANISATION_POLICY: &str = "2.25.3161.2";

/// ETSI EN 319 411-2 §5.3 policies for legal persons (QCP-l, QCP-l-qscd) and natural persons
/// (QCP-n, QCP-n-qscd): a CA's own statement of who holds the certificate.
const ETSI_LEGAL_PERSON: [&str; 2] = ["0.4.0.194112.1.1", "0.4.0.194112.1.3"];
const ETSI_NATURAL_PERSON: [&str; 2] = ["0.4.0.194112.1.0", "0.4.0.194112.1.2"];

/// userID (0.9.2342.19200300.100.1.1): Vietnamese CAs write the holder's identifier there,
/// `MST:`/`MNS:` (tax or budget code) for an organisation, `CMND:`/`CCCD:`/`HC:` for a person.
const OID_UID: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");

/// Who holds a certificate: a person (a leader signs with it) or an organisation (its seal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// A natural person.
    Person,
    /// An organisation (chứng thư số của cơ quan, tổ chức).
    Organisation,
}

impl Holder {
    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Holder::Person => "person",
            Holder::Organisation => "organisation",
        }
    }
}

/// What a certificate says of its holder: [`ORGANISATION_POLICY`], an ETSI legal-person
/// policy or a `MST:`/`MNS:` userID make it an organisation's; an ETSI natural-person policy,
/// a title or a personal identifier (`CMND:`, `CCCD:`, `HC:`) a person's; without either, a
/// subject whose CN is its O is an organisation's.
pub fn holder_of(cert: &Certificate) -> Holder {
    let tbs = &cert.tbs_certificate;
    if let Ok(Some((_, policies))) = tbs.get::<x509_cert::ext::pkix::CertificatePolicies>() {
        let has = |oids: &[&str]| {
            policies
                .0
                .iter()
                .any(|p| oids.iter().any(|o| p.policy_identifier.to_string() == *o))
        };
        if has(&[ORGANISATION_POLICY]) || has(&ETSI_LEGAL_PERSON) {
            return Holder::Organisation;
        }
        if has(&ETSI_NATURAL_PERSON) {
            return Holder::Person;
        }
    }
    let fields = NameFields::from_name(&tbs.subject);
    if fields.title.is_some() {
        return Holder::Person;
    }
    if let Some(uid) = name_attr(&tbs.subject, OID_UID) {
        let uid = uid.trim().to_ascii_uppercase();
        if ["MST:", "MNS:", "MQHNS:"]
            .iter()
            .any(|p| uid.starts_with(p))
        {
            return Holder::Organisation;
        }
        if ["CMND:", "CCCD:", "HC:", "CMT:"]
            .iter()
            .any(|p| uid.starts_with(p))
        {
            return Holder::Person;
        }
    }
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    match (&fields.common_name, &fields.organization) {
        (Some(cn), Some(o)) if fold(cn) == fold(o) => Holder::Organisation,
        _ => Holder::Person,
    }
}

/// Subject of a unit's organisation certificate (its seal): O = CN = the unit's name, OU = its
/// id, no personal name and no title; the certificate carries [`ORGANISATION_POLICY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationSubject {
    /// Unit name (O and CN).
    pub unit_name: String,
    /// Unit identifier, e.g. "U07" (OU).
    pub unit_id: String,
}

/// Issues a unit's organisation certificate (see [`OrganisationSubject`]): as a leader's
/// (RFC 5280 §4.1; keyUsage digitalSignature|nonRepudiation, revocation pointers when `urls`)
/// plus certificatePolicies (§4.2.1.4, non-critical) with [`ORGANISATION_POLICY`].
///
/// # Errors
/// A key kind other than Ed25519 or P-256, a name the profile refuses, a period outside the CA's.
pub fn issue_organisation_certificate(
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    subject_spki: &spki::SubjectPublicKeyInfoOwned,
    subject: &OrganisationSubject,
    serial: u64,
    period: (OffsetDateTime, OffsetDateTime),
    urls: Option<&RevocationUrls>,
) -> Result<Certificate, PkiError> {
    check_value("unit_name", &subject.unit_name)?;
    check_value("unit_id", &subject.unit_id)?;
    let name = build_name(&[
        (OID_O, &subject.unit_name),
        (OID_OU, &subject.unit_id),
        (OID_CN, &subject.unit_name),
    ])?;
    let mut extra = vec![extension(
        const_oid::db::rfc5280::ID_CE_CERTIFICATE_POLICIES,
        false,
        &x509_cert::ext::pkix::CertificatePolicies(vec![
            x509_cert::ext::pkix::certpolicy::PolicyInformation {
                policy_identifier: der::asn1::ObjectIdentifier::new_unwrap(ORGANISATION_POLICY),
                policy_qualifiers: None,
            },
        ]),
    )?];
    if let Some(urls) = urls {
        extra.extend(revocation_extensions(urls)?);
    }
    issue_certified_key(ca_key, ca_cert, subject_spki, name, serial, period, extra)
}

/// An end-entity certificate for a signing key (Ed25519 or P-256) with keyUsage
/// digitalSignature|nonRepudiation.
fn issue_certified_key(
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    subject_spki: &spki::SubjectPublicKeyInfoOwned,
    subject: Name,
    serial: u64,
    period: (OffsetDateTime, OffsetDateTime),
    extra: Vec<x509_cert::ext::Extension>,
) -> Result<Certificate, PkiError> {
    let subject_kind = super::alg::key_kind(subject_spki)
        .map_err(|e| PkiError::NotEd25519PublicKey(e.to_string()))?;
    if !matches!(
        subject_kind,
        super::alg::KeyKind::Ed25519 | super::alg::KeyKind::P256
    ) {
        return Err(PkiError::NotEd25519PublicKey(
            "the bloc CA certifies Ed25519 and ECDSA P-256 keys".into(),
        ));
    }
    issue_end_entity(
        (ca_key, ca_cert),
        subject_spki,
        subject,
        serial,
        period,
        KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        extra,
    )
}

/// Where a CA publishes revocation: its CRL (RFC 5280 §4.2.1.13) and its OCSP responder
/// (RFC 5280 §4.2.2.1, RFC 6960).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationUrls {
    /// The CRL's stable URL.
    pub crl: String,
    /// The OCSP responder's URL.
    pub ocsp: String,
}

/// [`issue_leader_certificate_with`], the certificate naming where its revocation is published
/// (cRLDistributionPoints and authorityInfoAccess id-ad-ocsp, both non-critical) when `urls`.
///
/// # Errors
/// As [`issue_leader_certificate_with`]; a URL that is not IA5.
pub fn issue_leader_certificate_pointing(
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    subject_spki: &spki::SubjectPublicKeyInfoOwned,
    subject: &LeaderSubject,
    serial: u64,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    urls: Option<&RevocationUrls>,
) -> Result<Certificate, PkiError> {
    let extra = match urls {
        Some(urls) => revocation_extensions(urls)?,
        None => Vec::new(),
    };
    issue_certified_key(
        ca_key,
        ca_cert,
        subject_spki,
        subject.to_name()?,
        serial,
        (not_before, not_after),
        extra,
    )
}

/// An end-entity certificate signed by the CA (RFC 5280 §4.1): issuer the CA subject byte for
/// byte, validity within the CA's, basicConstraints cA=FALSE and `usage` (both critical), SKI,
/// AKI = the CA's key id, then `extra`.
fn issue_end_entity(
    (ca_key, ca_cert): (&IssuerKey, &Certificate),
    subject_spki: &spki::SubjectPublicKeyInfoOwned,
    subject: Name,
    serial: u64,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    usage: KeyUsage,
    extra: Vec<x509_cert::ext::Extension>,
) -> Result<Certificate, PkiError> {
    check_issuer(ca_key, ca_cert, KeyUsages::KeyCertSign)?;
    let ca_validity = &ca_cert.tbs_certificate.validity;
    let (Some(ca_nb), Some(ca_na)) = (
        from_x509_time(&ca_validity.not_before),
        from_x509_time(&ca_validity.not_after),
    ) else {
        return Err(PkiError::Validity("CA validity is unreadable".into()));
    };
    if not_before < ca_nb || not_after > ca_na {
        return Err(PkiError::Validity(
            "the validity must lie within the CA certificate's validity".into(),
        ));
    }
    let mut extensions: Extensions = vec![
        extension(
            const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        )?,
        extension(const_oid::db::rfc5280::ID_CE_KEY_USAGE, true, &usage)?,
        extension(
            const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(OctetString::new(spki_key_identifier(subject_spki))?),
        )?,
        extension(
            const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &aki(issuer_key_id(ca_cert)?)?,
        )?,
    ];
    extensions.extend(extra);
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_from_u64(serial)?,
        signature: ca_key.algorithm(),
        issuer: ca_cert.tbs_certificate.subject.clone(),
        validity: validity(not_before, not_after)?,
        subject,
        subject_public_key_info: subject_spki.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    sign_tbs(ca_key, tbs)
}

/// What a service certificate is for: the one extended key usage it carries, critical
/// (RFC 3161 §2.3 requires it of a time-stamping unit; RFC 6960 §4.2.2.2 names OCSP signing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePurpose {
    /// `id-kp-timeStamping` (RFC 3161 §2.3).
    TimeStamping,
    /// `id-kp-OCSPSigning` (RFC 6960 §4.2.2.2).
    OcspSigning,
}

impl ServicePurpose {
    /// The extended key usage OID.
    pub fn oid(self) -> der::asn1::ObjectIdentifier {
        match self {
            ServicePurpose::TimeStamping => const_oid::db::rfc5280::ID_KP_TIME_STAMPING,
            ServicePurpose::OcspSigning => const_oid::db::rfc5280::ID_KP_OCSP_SIGNING,
        }
    }
}

/// Issues a certificate for one of the service's own units (a time-stamping unit, an OCSP
/// responder): subject CN `name` and O `organisation`, keyUsage digitalSignature critical,
/// the purpose's extendedKeyUsage alone and critical, cA=FALSE. The validity must lie within
/// the issuer's.
///
/// # Errors
/// An issuer that cannot issue, a name or period the profile refuses.
#[allow(clippy::too_many_arguments)]
pub fn issue_service_certificate(
    ca_key: &IssuerKey,
    ca_cert: &Certificate,
    subject_spki: &spki::SubjectPublicKeyInfoOwned,
    name: &str,
    organisation: &str,
    purpose: ServicePurpose,
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<Certificate, PkiError> {
    check_value("service name", name)?;
    check_value("organisation", organisation)?;
    issue_end_entity(
        (ca_key, ca_cert),
        subject_spki,
        build_name(&[(OID_O, organisation), (OID_CN, name)])?,
        serial,
        (not_before, not_after),
        KeyUsage(KeyUsages::DigitalSignature.into()),
        vec![extension(
            const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE,
            true,
            &x509_cert::ext::pkix::ExtendedKeyUsage(vec![purpose.oid()]),
        )?],
    )
}

/// Whether `cert` carries the extended key usage `purpose` in a critical extension that lists
/// nothing else (RFC 3161 §2.3 for time-stamping).
pub fn has_sole_critical_purpose(cert: &Certificate, purpose: ServicePurpose) -> bool {
    matches!(
        cert.tbs_certificate.get::<x509_cert::ext::pkix::ExtendedKeyUsage>(),
        Ok(Some((true, eku))) if eku.0 == [purpose.oid()]
    )
}

/// cRLDistributionPoints and authorityInfoAccess (id-ad-ocsp) naming `urls`.
fn revocation_extensions(
    urls: &RevocationUrls,
) -> Result<Vec<x509_cert::ext::Extension>, PkiError> {
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    use x509_cert::ext::pkix::{
        AccessDescription, AuthorityInfoAccessSyntax, CrlDistributionPoints,
        crl::dp::DistributionPoint,
    };
    let uri = |u: &str| -> Result<GeneralName, PkiError> {
        Ok(GeneralName::UniformResourceIdentifier(
            der::asn1::Ia5String::new(u)?,
        ))
    };
    Ok(vec![
        extension(
            const_oid::db::rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS,
            false,
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(&urls.crl)?])),
                reasons: None,
                crl_issuer: None,
            }]),
        )?,
        extension(
            const_oid::db::rfc5280::ID_PE_AUTHORITY_INFO_ACCESS,
            false,
            &AuthorityInfoAccessSyntax(vec![AccessDescription {
                access_method: const_oid::db::rfc5280::ID_AD_OCSP,
                access_location: uri(&urls.ocsp)?,
            }]),
        )?,
    ])
}

/// The URIs of `cert`'s OCSP responders (authorityInfoAccess id-ad-ocsp, RFC 5280 §4.2.2.1).
pub fn ocsp_urls(cert: &Certificate) -> Vec<String> {
    use x509_cert::ext::pkix::AuthorityInfoAccessSyntax;
    use x509_cert::ext::pkix::name::GeneralName;
    let Ok(Some((_, aia))) = cert.tbs_certificate.get::<AuthorityInfoAccessSyntax>() else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|a| a.access_method == const_oid::db::rfc5280::ID_AD_OCSP)
        .filter_map(|a| match &a.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

/// The URIs of `cert`'s CRL distribution points (RFC 5280 §4.2.1.13), full names only.
pub fn crl_urls(cert: &Certificate) -> Vec<String> {
    use x509_cert::ext::pkix::CrlDistributionPoints;
    use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
    let Ok(Some((_, points))) = cert.tbs_certificate.get::<CrlDistributionPoints>() else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter_map(|p| p.distribution_point.as_ref())
        .flat_map(|name| match name {
            DistributionPointName::FullName(names) => names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            DistributionPointName::NameRelativeToCRLIssuer(_) => Vec::new(),
        })
        .collect()
}

/// Plain, serialisable summary of a certificate for display and storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// Subject CN.
    pub subject_cn: Option<String>,
    /// Subject title (2.5.4.12).
    pub title: Option<String>,
    /// Subject O (unit name).
    pub unit_name: Option<String>,
    /// Subject OU (unit id).
    pub unit_id: Option<String>,
    /// Issuer CN.
    pub issuer_cn: Option<String>,
    /// Serial, lowercase hex without leading zero octets.
    pub serial_hex: String,
    /// notBefore, RFC 3339.
    pub not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// basicConstraints cA (RFC 5280 §4.2.1.9).
    pub is_ca: bool,
    /// SHA-256 over the certificate DER, lowercase hex.
    pub sha256_fingerprint: String,
}

/// Summarise a certificate. Never panics on hostile input: unreadable
/// fields become `None`.
pub fn cert_info(cert: &Certificate) -> CertInfo {
    let tbs = &cert.tbs_certificate;
    let fields = NameFields::from_name(&tbs.subject);
    let is_ca = matches!(tbs.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    let fingerprint = cert
        .to_der()
        .map(|d| hex_lower(&Sha256::digest(d)))
        .unwrap_or_default();
    CertInfo {
        subject_cn: fields.common_name,
        title: fields.title,
        unit_name: fields.organization,
        unit_id: fields.organizational_unit,
        issuer_cn: name_attr(&tbs.issuer, OID_CN),
        serial_hex: serial_hex(&tbs.serial_number),
        not_before: time_text(&tbs.validity.not_before),
        not_after: time_text(&tbs.validity.not_after),
        is_ca,
        sha256_fingerprint: fingerprint,
    }
}

/// DER of a certificate (RFC 5280 §4.1).
pub fn certificate_to_der(cert: &Certificate) -> Result<Vec<u8>, PkiError> {
    Ok(cert.to_der()?)
}

/// PEM (`CERTIFICATE`) of a certificate (RFC 7468 §5).
pub fn certificate_to_pem(cert: &Certificate) -> Result<String, PkiError> {
    Ok(cert.to_pem(LineEnding::LF)?)
}

const MAX_CERTS: usize = 64;
const BEGIN_CERT: &str = "-----BEGIN CERTIFICATE-----";
const END_CERT: &str = "-----END CERTIFICATE-----";

/// The trust anchors at `path`: a certificate file (PEM bundle or DER), or a folder whose
/// `*.pem`, `*.crt`, `*.cer` and `*.der` files are read in name order. Nothing else in the
/// folder is read; a file that holds no certificate is an error naming it.
///
/// # Errors
/// An unreadable path or file, or a file without a certificate.
pub fn trust_anchors_from(path: &std::path::Path) -> Result<Vec<Certificate>, PkiError> {
    let read = |p: &std::path::Path| -> Result<Vec<Certificate>, PkiError> {
        let bytes = std::fs::read(p).map_err(|e| PkiError::Pem(format!("{}: {e}", p.display())))?;
        certificates_from_pem_or_der(&bytes)
            .map_err(|e| PkiError::Pem(format!("{}: {e}", p.display())))
    };
    if !path.is_dir() {
        return read(path);
    }
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)
        .map_err(|e| PkiError::Pem(format!("{}: {e}", path.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["pem", "crt", "cer", "der"].contains(&e.to_ascii_lowercase().as_str())
                })
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        out.extend(read(&f)?);
    }
    Ok(out)
}

/// A certificate bundle as signers hand it out and the service stores it: the leaf first, then
/// its intermediates (PEM or one DER certificate).
///
/// # Errors
/// Unreadable input, or no certificate in it.
pub fn leaf_and_chain(input: &[u8]) -> Result<(Certificate, Vec<Certificate>), PkiError> {
    let mut certs = certificates_from_pem_or_der(input)?;
    if certs.is_empty() {
        return Err(PkiError::Pem("no certificate".into()));
    }
    let leaf = certs.remove(0);
    Ok((leaf, certs))
}

/// Load one DER certificate, or every `CERTIFICATE` block of a PEM bundle
/// (RFC 7468 §5); other PEM blocks and text between blocks are ignored.
pub fn certificates_from_pem_or_der(input: &[u8]) -> Result<Vec<Certificate>, PkiError> {
    if input.first() == Some(&0x30) {
        return Ok(vec![Certificate::from_der(input)?]);
    }
    let text = core::str::from_utf8(input)
        .map_err(|_| PkiError::Pem("input is neither DER nor UTF-8 PEM".into()))?;
    let mut certs = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN_CERT) {
        let from_begin = rest.get(start..).unwrap_or_default();
        let end = from_begin
            .find(END_CERT)
            .ok_or_else(|| PkiError::Pem("unterminated CERTIFICATE block".into()))?;
        let block_end = end.saturating_add(END_CERT.len());
        let block = from_begin.get(..block_end).unwrap_or_default();
        certs.push(Certificate::from_pem(block.as_bytes())?);
        if certs.len() > MAX_CERTS {
            return Err(PkiError::Pem("too many certificates".into()));
        }
        rest = from_begin.get(block_end..).unwrap_or_default();
    }
    if certs.is_empty() {
        return Err(PkiError::NoCertificate);
    }
    Ok(certs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
pub(crate) mod tests {
    use super::*;
    use crate::pki::util::{ed25519_algorithm, first_inner_tlv, verify_ed25519};
    use time::macros::datetime;

    /// A P-256 CA issues a P-256 leader certificate and a CRL that the chain validation and
    /// the CRL check accept (ecdsa-with-SHA256, RFC 5758 §3.2), and an Ed25519 leader too.
    #[test]
    fn an_ecdsa_p256_ca_issues_certificates_and_a_crl_that_verify() {
        let mut rng = rand_core::OsRng;
        let ca_key = IssuerKey::generate_p256(&mut rng);
        let t0 = datetime!(2021-01-01 00:00 UTC);
        let t1 = datetime!(2031-01-01 00:00 UTC);
        let ca = create_ca_certificate_with(
            &ca_key,
            &CaSubject {
                name: "Khối thi đua thử (P-256)".into(),
            },
            1,
            t0,
            t1,
        )
        .unwrap();
        assert_eq!(
            ca.signature_algorithm.oid,
            const_oid::db::rfc5912::ECDSA_WITH_SHA_256
        );
        let leader_key = IssuerKey::generate_p256(&mut rng);
        let subject = LeaderSubject {
            full_name: "Âu Thị Hải Yến".into(),
            title: "Phó Giám đốc".into(),
            unit_name: "Trung tâm Văn hóa tỉnh Quảng Ninh".into(),
            unit_id: "U07".into(),
        };
        let at = datetime!(2021-01-22 08:00 UTC);
        for key in [
            leader_key.spki().unwrap(),
            ed25519_spki(&SigningKey::from_bytes(&[9; 32]).verifying_key()).unwrap(),
        ] {
            let leaf = issue_leader_certificate_with(
                &ca_key,
                &ca,
                &key,
                &subject,
                77,
                t0,
                datetime!(2023-01-01 00:00 UTC),
            )
            .unwrap();
            let status = crate::pki::validate_chain(&leaf, &[], std::slice::from_ref(&ca), at, &[]);
            assert!(status.trusted, "{:?}", status.problems);
            assert_eq!(cert_info(&leaf).unit_id.as_deref(), Some("U07"));
        }
        let crl = crate::pki::create_crl_with(&ca_key, &ca, &[(77, at)], at, t1, 1).unwrap();
        let crl = crate::pki::parse_crl(&crl).unwrap();
        assert!(crl.verify(&ca));
        // The CSR of a P-256 key proves possession, and another key's signature does not.
        let csr = crate::pki::create_csr_with(&leader_key, &subject).unwrap();
        let (spki, fields) = crate::pki::verify_csr_any(&csr).unwrap();
        assert_eq!(spki, leader_key.spki().unwrap());
        assert_eq!(fields.organizational_unit.as_deref(), Some("U07"));
        let mut forged = csr.clone();
        let last = forged.len() - 3;
        forged[last] ^= 1;
        assert!(crate::pki::verify_csr_any(&forged).is_err());
        // A key is refused as the issuer of another CA's certificate.
        assert!(
            issue_leader_certificate_with(
                &IssuerKey::generate_p256(&mut rng),
                &ca,
                &leader_key.spki().unwrap(),
                &subject,
                78,
                t0,
                t1
            )
            .is_err()
        );
        // PEM round trip.
        let pem = ca_key.to_pem().unwrap();
        assert_eq!(
            IssuerKey::from_pem(&pem).unwrap().spki().unwrap(),
            ca_key.spki().unwrap()
        );
    }

    pub(crate) const BLOC: &str = "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội";

    pub(crate) fn ca_key() -> SigningKey {
        SigningKey::from_bytes(&[1u8; 32])
    }

    pub(crate) fn leader_key() -> SigningKey {
        SigningKey::from_bytes(&[2u8; 32])
    }

    pub(crate) fn ca_cert() -> Certificate {
        create_ca_certificate(
            &ca_key(),
            &CaSubject { name: BLOC.into() },
            1,
            datetime!(2025-01-01 00:00:00 UTC),
            datetime!(2035-01-01 00:00:00 UTC),
        )
        .unwrap()
    }

    pub(crate) fn leader_subject() -> LeaderSubject {
        LeaderSubject {
            full_name: "Nguyễn Thị Hồng Nhung".into(),
            title: "Giám đốc".into(),
            unit_name: "Sở Văn hóa, Thể thao và Du lịch".into(),
            unit_id: "U07".into(),
        }
    }

    pub(crate) fn leader_subject_other() -> LeaderSubject {
        LeaderSubject {
            full_name: "Trần Văn Bình".into(),
            title: "Phó Giám đốc".into(),
            unit_name: "Sở Y tế".into(),
            unit_id: "U12".into(),
        }
    }

    pub(crate) fn leader_cert() -> Certificate {
        issue_leader_certificate(
            &ca_key(),
            &ca_cert(),
            &leader_key().verifying_key(),
            &leader_subject(),
            0x8000_0000_0000_0001,
            datetime!(2025-06-01 00:00:00 UTC),
            datetime!(2027-06-01 00:00:00 UTC),
        )
        .unwrap()
    }

    fn utf8_values(name: &Name) -> Vec<(String, String)> {
        name.0
            .iter()
            .flat_map(|r| r.0.iter())
            .map(|atv| {
                assert_eq!(der::Tagged::tag(&atv.value), der::Tag::Utf8String);
                (
                    atv.oid.to_string(),
                    String::from_utf8(atv.value.value().to_vec()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn ca_certificate_is_self_signed_ed25519_ca_with_vietnamese_name() {
        let ca = ca_cert();
        let tbs = &ca.tbs_certificate;
        assert_eq!(tbs.version, Version::V3);
        assert_eq!(tbs.issuer, tbs.subject);
        assert_eq!(
            utf8_values(&tbs.subject),
            vec![("2.5.4.3".to_string(), BLOC.to_string())]
        );
        // RFC 8410 §3: parameters absent, in both places.
        assert_eq!(ca.signature_algorithm, ed25519_algorithm());
        assert_eq!(tbs.signature, ed25519_algorithm());
        let der = ca.to_der().unwrap();
        // 06 03 2b 65 70 not followed by 05 00 (NULL).
        let pos = der
            .windows(5)
            .position(|w| w == [6, 3, 0x2b, 0x65, 0x70])
            .unwrap();
        assert_ne!(der.get(pos + 5), Some(&0x05));
        let (crit, bc) = tbs.get::<BasicConstraints>().unwrap().unwrap();
        assert!(crit && bc.ca);
        let (crit, ku) = tbs.get::<KeyUsage>().unwrap().unwrap();
        assert!(crit && ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
        let (_, ski) = tbs.get::<SubjectKeyIdentifier>().unwrap().unwrap();
        let (_, aki) = tbs.get::<AuthorityKeyIdentifier>().unwrap().unwrap();
        assert_eq!(ski.0.as_bytes().len(), 20);
        assert_eq!(aki.key_identifier.unwrap(), ski.0);
        // Self-signature verifies over the original TBS bytes.
        let tbs_der = first_inner_tlv(&der).unwrap();
        assert!(verify_ed25519(
            &ca_key().verifying_key(),
            tbs_der,
            &ca.signature
        ));
    }

    #[test]
    fn leader_certificate_carries_unit_id_and_vietnamese_names() {
        let cert = leader_cert();
        let tbs = &cert.tbs_certificate;
        assert_eq!(
            utf8_values(&tbs.subject),
            vec![
                ("2.5.4.10".into(), "Sở Văn hóa, Thể thao và Du lịch".into()),
                ("2.5.4.11".into(), "U07".into()),
                ("2.5.4.12".into(), "Giám đốc".into()),
                ("2.5.4.3".into(), "Nguyễn Thị Hồng Nhung".into()),
            ]
        );
        let (crit, ku) = tbs.get::<KeyUsage>().unwrap().unwrap();
        assert!(crit && ku.digital_signature() && ku.non_repudiation() && !ku.key_cert_sign());
        let (_, bc) = tbs.get::<BasicConstraints>().unwrap().unwrap();
        assert!(!bc.ca);
        assert!(
            tbs.extensions
                .as_ref()
                .unwrap()
                .iter()
                .all(|e| e.extn_id != const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        );
        let (_, aki) = tbs.get::<AuthorityKeyIdentifier>().unwrap().unwrap();
        let ca = ca_cert();
        let (_, ca_ski) = ca
            .tbs_certificate
            .get::<SubjectKeyIdentifier>()
            .unwrap()
            .unwrap();
        assert_eq!(aki.key_identifier.unwrap(), ca_ski.0);
        let der = cert.to_der().unwrap();
        let tbs_der = first_inner_tlv(&der).unwrap();
        assert!(verify_ed25519(
            &ca_key().verifying_key(),
            tbs_der,
            &cert.signature
        ));
    }

    #[test]
    fn leader_issuer_is_byte_identical_to_ca_subject() {
        let ca = ca_cert();
        let cert = leader_cert();
        assert_eq!(
            cert.tbs_certificate.issuer.to_der().unwrap(),
            ca.tbs_certificate.subject.to_der().unwrap()
        );
    }

    #[test]
    fn high_bit_serial_is_a_positive_der_integer() {
        let cert = leader_cert();
        let der = cert.tbs_certificate.serial_number.to_der().unwrap();
        assert_eq!(der, [2, 9, 0, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(cert_info(&cert).serial_hex, "8000000000000001");
    }

    #[test]
    fn issuing_requires_matching_ca_key_and_a_ca_certificate() {
        let ca = ca_cert();
        let nb = datetime!(2025-06-01 00:00:00 UTC);
        let na = datetime!(2026-06-01 00:00:00 UTC);
        let vk = leader_key().verifying_key();
        let s = leader_subject();
        let err = issue_leader_certificate(&leader_key(), &ca, &vk, &s, 2, nb, na).unwrap_err();
        assert!(matches!(err, PkiError::KeyMismatch));
        let leader = leader_cert();
        let err = issue_leader_certificate(&leader_key(), &leader, &vk, &s, 2, nb, na).unwrap_err();
        assert!(matches!(err, PkiError::NotACa(_)));
        let err = issue_leader_certificate(&ca_key(), &ca, &vk, &s, 0, nb, na).unwrap_err();
        assert!(matches!(err, PkiError::Serial(_)));
        let late = datetime!(2040-01-01 00:00:00 UTC);
        let err = issue_leader_certificate(&ca_key(), &ca, &vk, &s, 2, nb, late).unwrap_err();
        assert!(matches!(err, PkiError::Validity(_)));
        let err = issue_leader_certificate(&ca_key(), &ca, &vk, &s, 2, na, nb).unwrap_err();
        assert!(matches!(err, PkiError::Validity(_)));
        let mut empty = leader_subject();
        empty.unit_id = " ".into();
        let err = issue_leader_certificate(&ca_key(), &ca, &vk, &empty, 2, nb, na).unwrap_err();
        assert!(matches!(
            err,
            PkiError::Name {
                field: "unit_id",
                ..
            }
        ));
    }

    #[test]
    fn cert_info_reports_subject_issuer_and_fingerprint() {
        let info = cert_info(&leader_cert());
        assert_eq!(info.subject_cn.as_deref(), Some("Nguyễn Thị Hồng Nhung"));
        assert_eq!(info.title.as_deref(), Some("Giám đốc"));
        assert_eq!(info.unit_id.as_deref(), Some("U07"));
        assert_eq!(info.issuer_cn.as_deref(), Some(BLOC));
        assert_eq!(info.not_before, "2025-06-01T00:00:00Z");
        assert_eq!(info.not_after, "2027-06-01T00:00:00Z");
        assert!(!info.is_ca);
        assert_eq!(info.sha256_fingerprint.len(), 64);
        assert!(cert_info(&ca_cert()).is_ca);
        let json = serde_json::to_string(&info).unwrap();
        let back: CertInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
    }

    #[test]
    fn cert_info_reads_printable_and_bmp_strings() {
        use der::asn1::SetOfVec;
        use x509_cert::attr::AttributeTypeAndValue;
        use x509_cert::name::RelativeDistinguishedName;
        let mut cert = leader_cert();
        let bmp: Vec<u8> = "Hồng".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let atvs = [
            (OID_CN, der::Tag::BmpString, bmp),
            (OID_OU, der::Tag::PrintableString, b"U09".to_vec()),
            (OID_O, der::Tag::OctetString, b"x".to_vec()),
        ];
        cert.tbs_certificate.subject = x509_cert::name::RdnSequence(
            atvs.into_iter()
                .map(|(oid, tag, v)| {
                    RelativeDistinguishedName(
                        SetOfVec::try_from(vec![AttributeTypeAndValue {
                            oid,
                            value: der::Any::new(tag, v).unwrap(),
                        }])
                        .unwrap(),
                    )
                })
                .collect(),
        );
        let info = cert_info(&cert);
        assert_eq!(info.subject_cn.as_deref(), Some("Hồng"));
        assert_eq!(info.unit_id.as_deref(), Some("U09"));
        assert_eq!(info.unit_name, None);
    }

    #[test]
    fn mutated_certificates_never_panic() {
        let der = leader_cert().to_der().unwrap();
        let roots = [ca_cert()];
        for i in 0..der.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut m = der.clone();
                m[i] ^= x;
                let _ = certificates_from_pem_or_der(&m);
                let Ok(c) = Certificate::from_der(&m) else {
                    continue;
                };
                let _ = cert_info(&c);
                // Ed25519 is slow unoptimised: validate a sample only.
                if i % 4 == 0 {
                    let _ = crate::pki::validate_chain(
                        &c,
                        &[],
                        &roots,
                        datetime!(2026-01-01 00:00:00 UTC),
                        &[],
                    );
                }
            }
            let _ = certificates_from_pem_or_der(&der[..i]);
        }
    }

    #[test]
    fn pem_bundle_with_several_certificates_loads() {
        let bundle = format!(
            "Bag Attributes: ignored\n{}\n{}{}",
            certificate_to_pem(&leader_cert()).unwrap(),
            crate::pki::verifying_key_to_pem(&leader_key().verifying_key()).unwrap(),
            certificate_to_pem(&ca_cert()).unwrap()
        );
        let certs = certificates_from_pem_or_der(bundle.as_bytes()).unwrap();
        assert_eq!(certs, vec![leader_cert(), ca_cert()]);
        let der = certificate_to_der(&ca_cert()).unwrap();
        assert_eq!(certificates_from_pem_or_der(&der).unwrap(), vec![ca_cert()]);
        assert!(matches!(
            certificates_from_pem_or_der(b"nothing here"),
            Err(PkiError::NoCertificate)
        ));
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(certificates_from_pem_or_der(&trailing).is_err());
    }
}

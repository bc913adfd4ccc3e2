//! Building our own CMS `SignedData` (RFC 5652 §5): the signed attributes to sign, then the
//! structure around the signature. PAdES B-B (ETSI EN 319 142-1 §6.3): no signing-time (PAdES
//! uses `/M`), ESS signing-certificate-v2 (RFC 5035); the algorithms are the signer key's
//! [`signing_scheme`] (RSA PKCS#1 v1.5 SHA-256, ECDSA P-256 SHA-256 / P-384 SHA-384, Ed25519
//! with SHA-512 as RFC 8419 §3 says).

use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

use super::{
    CmsError, EssCertIdV2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA,
    ID_SIGNING_CERTIFICATE_V2, IssuerSerial, SigningCertificateV2,
};
use crate::pki::alg::{self, HashAlg, Scheme, signing_scheme};

/// A digest algorithm identifier, parameters absent (RFC 5754 §2).
fn digest_algorithm(hash: HashAlg) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: hash.oid(),
        parameters: None,
    }
}

/// The scheme `signer_cert`'s key signs with.
///
/// # Errors
/// [`CmsError::Algorithm`] for a key giaouoc cannot sign with.
pub fn scheme_for(signer_cert: &Certificate) -> Result<Scheme, CmsError> {
    let key = alg::key_kind(&signer_cert.tbs_certificate.subject_public_key_info)
        .map_err(|e| CmsError::Algorithm(e.to_string()))?;
    signing_scheme(key).map_err(|e| CmsError::Algorithm(e.to_string()))
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// DER `SET OF Attribute` to be signed (RFC 5652 §5.4): content-type = id-data
/// (§11.1), message-digest = the digest of the signed bytes with the signer's
/// [`Scheme::digest`] (§11.2) and
/// signing-certificate-v2 with SHA-256 (default, omitted), certHash and
/// issuerSerial (RFC 5035 §3). No signing-time (PAdES uses /M). The SET is
/// sorted by encoding as DER requires.
pub fn signed_attributes_der(
    message_digest: &[u8],
    signer_cert: &Certificate,
) -> Result<Vec<u8>, CmsError> {
    signed_attributes_der_for(ID_DATA, message_digest, signer_cert)
}

/// [`signed_attributes_der`] for content of type `content_type` (a time-stamp token's
/// `id-ct-TSTInfo`, RFC 3161 §2.4.2).
pub fn signed_attributes_der_for(
    content_type: ObjectIdentifier,
    message_digest: &[u8],
    signer_cert: &Certificate,
) -> Result<Vec<u8>, CmsError> {
    let cert_hash = Sha256::digest(signer_cert.to_der()?);
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(cert_hash.to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer_cert.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer_cert.tbs_certificate.serial_number.clone(),
            }),
        }],
        policies: None,
    };
    let attrs: SignedAttributes = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&content_type)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest.to_vec())?)?,
        )?,
        attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    Ok(attrs.to_der()?)
}

/// DER `ContentInfo` holding detached SignedData v1 (RFC 5652 §5.1): the
/// scheme's digest algorithm, params absent (RFC 5754 §2, RFC 8419 §3.1);
/// certificates = signer + chain (deduplicated, DER-sorted); one SignerInfo v1
/// with issuerAndSerialNumber, signedAttrs `[0] IMPLICIT` (same content as the
/// SET that was signed), the scheme's [`Scheme::identifier`].
/// `signature` is the value a signer returned (ECDSA as DER or `r‖s`, see
/// [`alg::signature_for_cms`]); it is checked against the signer certificate
/// before wrapping.
pub fn build_signed_data(
    signed_attrs_der: &[u8],
    signature: &[u8],
    signer_cert: &Certificate,
    chain: &[Certificate],
) -> Result<Vec<u8>, CmsError> {
    build_signed_data_with(
        Content::Detached,
        signed_attrs_der,
        signature,
        signer_cert,
        chain,
    )
}

/// What a SignedData carries (RFC 5652 §5.2).
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// Nothing: a detached signature over `id-data` (PAdES).
    Detached,
    /// `eContent` of the given type: a time-stamp token's DER `TSTInfo` (RFC 3161 §2.4.2).
    Encapsulated(ObjectIdentifier, &'a [u8]),
}

/// [`build_signed_data`] with the content given (SignedData v3 when it is not `id-data`,
/// RFC 5652 §5.1).
pub fn build_signed_data_with(
    content: Content<'_>,
    signed_attrs_der: &[u8],
    signature: &[u8],
    signer_cert: &Certificate,
    chain: &[Certificate],
) -> Result<Vec<u8>, CmsError> {
    let attrs = SignedAttributes::from_der(signed_attrs_der)
        .map_err(|_| CmsError::SignedAttributesNotDer)?;
    if attrs.to_der()? != signed_attrs_der {
        return Err(CmsError::SignedAttributesNotDer);
    }
    let spki = &signer_cert.tbs_certificate.subject_public_key_info;
    let scheme = scheme_for(signer_cert)?;
    let identifier = scheme
        .identifier()
        .map_err(|e| CmsError::Algorithm(e.to_string()))?;
    let key = alg::key_kind(spki).map_err(|e| CmsError::Algorithm(e.to_string()))?;
    let signature =
        alg::signature_for_cms(key, signature).map_err(|_| CmsError::SignatureMismatch)?;
    alg::verify(
        spki,
        &identifier,
        Some(scheme.digest()),
        signed_attrs_der,
        &signature,
    )
    .map_err(|_| CmsError::SignatureMismatch)?;

    let mut certs: Vec<CertificateChoices> = Vec::with_capacity(chain.len().saturating_add(1));
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for cert in core::iter::once(signer_cert).chain(chain.iter()) {
        let der = cert.to_der()?;
        if !seen.contains(&der) {
            seen.push(der);
            certs.push(CertificateChoices::Certificate(cert.clone()));
        }
    }

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer_cert.tbs_certificate.issuer.clone(),
            serial_number: signer_cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: digest_algorithm(scheme.digest()),
        signed_attrs: Some(attrs),
        signature_algorithm: identifier,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let (version, econtent_type, econtent) = match content {
        Content::Detached => (CmsVersion::V1, ID_DATA, None),
        Content::Encapsulated(t, bytes) => (
            CmsVersion::V3,
            t,
            Some(Any::encode_from(&OctetString::new(bytes)?)?),
        ),
    };
    let signed_data = SignedData {
        version,
        digest_algorithms: SetOfVec::try_from(vec![digest_algorithm(scheme.digest())])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type,
            econtent,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?)
}

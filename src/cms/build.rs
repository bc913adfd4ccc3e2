//! Building our own CMS `SignedData` (RFC 5652 §5): the signed attributes to sign, then the
//! structure around the signature. PAdES B-B with Ed25519 (RFC 8419 §3): SHA-512, no
//! signing-time (PAdES uses `/M`), ESS signing-certificate-v2 (RFC 5035).

use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use ed25519_dalek::Signature;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

use super::{
    CmsError, EssCertIdV2, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SHA512, ID_SIGNED_DATA,
    ID_SIGNING_CERTIFICATE_V2, IssuerSerial, SigningCertificateV2,
};
use crate::pki::util::{certificate_verifying_key, ed25519_algorithm};

pub(crate) fn sha512_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA512,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// DER `SET OF Attribute` to be signed (RFC 5652 §5.4): content-type = id-data
/// (§11.1), message-digest = the SHA-512 digest (§11.2) and
/// signing-certificate-v2 with SHA-256 (default, omitted), certHash and
/// issuerSerial (RFC 5035 §3). No signing-time (PAdES uses /M). The SET is
/// sorted by encoding as DER requires.
pub fn signed_attributes_der(
    message_digest: &[u8; 64],
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
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest.to_vec())?)?,
        )?,
        attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?;
    Ok(attrs.to_der()?)
}

/// DER `ContentInfo` holding detached SignedData v1 (RFC 5652 §5.1): SHA-512
/// digest algorithm, params absent (RFC 8419 §3.1, RFC 5754 §2); certificates
/// = signer + chain (deduplicated, DER-sorted); one SignerInfo v1 with
/// issuerAndSerialNumber, signedAttrs `[0] IMPLICIT` (same content as the SET
/// that was signed), id-Ed25519 without parameters (RFC 8419 §2.3).
/// The signature is checked against the signer certificate before wrapping.
pub fn build_signed_data(
    signed_attrs_der: &[u8],
    signature: &[u8; 64],
    signer_cert: &Certificate,
    chain: &[Certificate],
) -> Result<Vec<u8>, CmsError> {
    let attrs = SignedAttributes::from_der(signed_attrs_der)
        .map_err(|_| CmsError::SignedAttributesNotDer)?;
    if attrs.to_der()? != signed_attrs_der {
        return Err(CmsError::SignedAttributesNotDer);
    }
    let key = certificate_verifying_key(signer_cert)?;
    if key
        .verify_strict(signed_attrs_der, &Signature::from_bytes(signature))
        .is_err()
    {
        return Err(CmsError::SignatureMismatch);
    }

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
        digest_alg: sha512_algorithm(),
        signed_attrs: Some(attrs),
        signature_algorithm: ed25519_algorithm(),
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha512_algorithm()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
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

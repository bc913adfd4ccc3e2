//! Checking a time-stamp token (RFC 3161 §2.4.2; ETSI EN 319 102-1 §5.4 for its use as proof
//! of existence): one SignedData signer over an encapsulated `TSTInfo`, the message-digest
//! attribute equal to the hash of the eContent, the ESS signing-certificate(-v2) naming the
//! TSA certificate (RFC 5816), the imprint over the expected data, the TSA certificate's sole
//! critical EKU timeStamping (RFC 3161 §2.3) and its chain to a trust root at `genTime`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::{ID_CT_TST_INFO, TstInfo};
use crate::cms::{self, CmsProblem, Profile};
use crate::pki::alg::HashAlg;
use crate::pki::{self, ChainProblem, ChainStatus, Crl, ServicePurpose, SignatureChecks};

/// What a token may chain to, and the material to build the chain with.
#[derive(Debug, Clone, Copy)]
pub struct TokenTrust<'a> {
    /// Trust anchors.
    pub roots: &'a [Certificate],
    /// Certificates besides the token's own (a file's `/DSS`).
    pub certificates: &'a [Certificate],
    /// CRLs to check the TSA's certificate with.
    pub crls: &'a [Crl],
    /// OCSP responses to check it with.
    pub ocsps: &'a [pki::ocsp::OcspEvidence],
    /// Signature checks shared with the other chains of the run.
    pub checks: &'a SignatureChecks,
}

/// Why a token does not prove its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenProblem {
    /// Not a CMS SignedData with one signer.
    Unreadable {
        /// Why.
        error: String,
    },
    /// The content is not an encapsulated `TSTInfo` (RFC 3161 §2.4.2).
    NotTstInfo,
    /// The `TSTInfo` cannot be read.
    TstInfoUnreadable {
        /// Why.
        error: String,
    },
    /// The CMS signer info fails (signature, attributes, ESS signing certificate).
    Cms {
        /// The CMS finding.
        problem: CmsProblem,
    },
    /// The message-digest attribute is not the hash of the `TSTInfo` (RFC 5652 §11.2).
    ContentDigestMismatch,
    /// The imprint's hash algorithm is not one giaouoc computes.
    UnsupportedImprintHash {
        /// Its OID.
        oid: String,
    },
    /// The imprint is not the hash of the data the token should cover.
    ImprintMismatch,
    /// The TSA certificate lacks the sole critical EKU timeStamping (RFC 3161 §2.3).
    NotTimeStampingCertificate {
        /// The certificate's subject CN.
        subject: String,
    },
    /// The TSA certificate does not chain to a trust root at `genTime`.
    Untrusted {
        /// The chain's fatal problems.
        problems: Vec<ChainProblem>,
    },
}

/// The outcome of [`check_token`]: a report, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCheck {
    /// The token's `TSTInfo`, if it could be read.
    pub info: Option<TstInfo>,
    /// The TSA's certificate, if the token carries it.
    pub tsa: Option<Certificate>,
    /// The TSA certificate's chain, if it was built.
    pub chain: Option<ChainStatus>,
    /// Everything that makes the token unusable; empty when it proves `info.gen_time`.
    pub problems: Vec<TokenProblem>,
}

impl TokenCheck {
    /// The time the token proves, when it has no problem.
    pub fn proven_time(&self) -> Option<OffsetDateTime> {
        if self.problems.is_empty() {
            self.info.as_ref().map(|i| i.gen_time)
        } else {
            None
        }
    }

    /// The TSA's subject CN, if known.
    pub fn tsa_name(&self) -> Option<String> {
        self.tsa.as_ref().and_then(|c| pki::cert_info(c).subject_cn)
    }
}

/// Checks `token` (a DER ContentInfo) as proof that the data whose hash `digest_of` gives
/// (for the imprint's algorithm) existed at its `genTime`.
pub fn check_token(
    token: &[u8],
    digest_of: impl Fn(HashAlg) -> Option<Vec<u8>>,
    trust: &TokenTrust<'_>,
) -> TokenCheck {
    let mut out = TokenCheck {
        info: None,
        tsa: None,
        chain: None,
        problems: Vec::new(),
    };
    let parsed = match cms::trim_der_padding(token).and_then(cms::parse_signed_data) {
        Ok(p) => p,
        Err(e) => {
            out.problems.push(TokenProblem::Unreadable {
                error: e.to_string(),
            });
            return out;
        }
    };
    out.tsa = parsed.signer_certificate.clone();
    let Some(econtent) = parsed
        .econtent
        .as_deref()
        .filter(|_| parsed.encap_content_type == ID_CT_TST_INFO)
    else {
        out.problems.push(TokenProblem::NotTstInfo);
        return out;
    };
    let check = cms::verify_signer_info(
        &parsed,
        Profile {
            pades: true,
            encapsulated: Some(ID_CT_TST_INFO),
        },
    );
    out.problems.extend(
        check
            .problems
            .iter()
            .cloned()
            .map(|problem| TokenProblem::Cms { problem }),
    );
    if let Some(alg) = parsed.digest()
        && alg.digest(econtent) != parsed.message_digest
    {
        out.problems.push(TokenProblem::ContentDigestMismatch);
    }
    let info = match TstInfo::from_der(econtent) {
        Ok(i) => i,
        Err(e) => {
            out.problems.push(TokenProblem::TstInfoUnreadable {
                error: e.to_string(),
            });
            return out;
        }
    };
    match info.imprint.hash() {
        None => out.problems.push(TokenProblem::UnsupportedImprintHash {
            oid: info.imprint.hash_oid.to_string(),
        }),
        Some(h) => {
            if digest_of(h).as_deref() != Some(info.imprint.digest.as_slice()) {
                out.problems.push(TokenProblem::ImprintMismatch);
            }
        }
    }
    if let Some(tsa) = &parsed.signer_certificate {
        if !pki::has_sole_critical_purpose(tsa, ServicePurpose::TimeStamping) {
            out.problems.push(TokenProblem::NotTimeStampingCertificate {
                subject: pki::cert_info(tsa).subject_cn.unwrap_or_default(),
            });
        }
        let others: Vec<Certificate> = parsed
            .certificates
            .iter()
            .chain(trust.certificates)
            .filter(|c| *c != tsa)
            .cloned()
            .collect();
        let mut crls: Vec<Crl> = trust.crls.to_vec();
        crls.extend(parsed.crls.iter().filter_map(|d| pki::parse_crl(d).ok()));
        let status = pki::validate_chain_with(
            tsa,
            &others,
            trust.roots,
            info.gen_time,
            &pki::RevocationInfo {
                crls: &crls,
                ocsps: trust.ocsps,
            },
            trust.checks,
        );
        if !status.trusted {
            out.problems.push(TokenProblem::Untrusted {
                problems: status
                    .problems
                    .iter()
                    .filter(|p| p.is_fatal())
                    .cloned()
                    .collect(),
            });
        }
        out.chain = Some(status);
    }
    out.info = Some(info);
    out
}

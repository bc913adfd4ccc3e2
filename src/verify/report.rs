//! The verification report: a value with independent facts per signature,
//! serialised as the stable JSON format `giaouoc.verification/2`.

use serde::{Deserialize, Serialize};

use super::finding::{Finding, Lang, Message};
use crate::pki::alg::Algorithm;
use crate::pki::{CertInfo, ChainProblem};

/// Value of [`VerificationReport::format`]. Version 2: problems and notes are typed
/// findings with their texts ([`Message`]), changes carry their finding.
pub const REPORT_FORMAT: &str = "giaouoc.verification/2";

/// What [`verify_pdf`](super::verify_pdf) found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// SHA-256 of the whole file, lowercase hex.
    pub file_sha256: String,
    /// File length in bytes.
    pub file_size: u64,
    /// Number of revisions (the original file plus each incremental update).
    pub revisions: usize,
    /// One entry per filled signature field, in revision order.
    pub signatures: Vec<SignatureReport>,
    /// Fully qualified names of signature fields (`/FT /Sig`) that have no `/V` yet.
    pub unsigned_fields: Vec<String>,
    /// Bytes after the newest revision's `%%EOF` (and its end-of-line).
    pub trailing_bytes: usize,
    /// The bottom line.
    pub verdict: Verdict,
    /// Document-level problems; any of them prevents [`Verdict::Valid`].
    pub problems: Vec<Message>,
    /// Document-level observations that do not affect the verdict.
    pub notes: Vec<Message>,
    /// The document time-stamps (ISO 32000-2 §12.8.5), in revision order.
    #[serde(default)]
    pub document_timestamps: Vec<DocumentTimestampReport>,
    /// One card per unit: its leader's signature and, when the covenant asks for seals, its
    /// organisation's (Decree 30/2020 Appendix I), paired by field name (`U05`, `U05-dau`).
    #[serde(default)]
    pub units: Vec<UnitCard>,
}

/// A unit's signatures, paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCard {
    /// The unit id (the leader's field name).
    pub unit: String,
    /// Index in [`VerificationReport::signatures`] of the leader's signature, if signed.
    pub leader: Option<usize>,
    /// The seal field, if the document has one for this unit.
    pub seal_field: Option<String>,
    /// Index in [`VerificationReport::signatures`] of the seal, if applied.
    pub seal: Option<usize>,
    /// Every field of the unit is signed, each signature valid and bound to its field, the seal
    /// after the leader.
    pub complete: bool,
}

impl UnitCard {
    /// The card's state in a sentence.
    pub fn text(&self, lang: crate::verify::Lang) -> String {
        let vi = matches!(lang, crate::verify::Lang::Vi);
        let state = match (self.complete, self.leader, &self.seal_field, self.seal) {
            (true, _, Some(_), _) if vi => "đủ chữ ký của lãnh đạo và dấu của cơ quan",
            (true, _, Some(_), _) => "signed by its leader and sealed by the organisation",
            (true, _, None, _) if vi => "lãnh đạo đã ký",
            (true, _, None, _) => "signed by its leader",
            (false, None, _, _) if vi => "lãnh đạo chưa ký",
            (false, None, _, _) => "its leader has not signed",
            (false, Some(_), Some(_), None) if vi => "lãnh đạo đã ký, chưa đóng dấu",
            (false, Some(_), Some(_), None) => "signed by its leader, not sealed yet",
            _ if vi => "chữ ký hoặc dấu không đạt (xem từng chữ ký)",
            _ => "a signature or the seal fails (see each signature)",
        };
        if vi {
            format!("Đơn vị {}: {state}", self.unit)
        } else {
            format!("Unit {}: {state}", self.unit)
        }
    }
}

/// The PAdES baseline level a signature reaches (ETSI EN 319 142-1 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PadesLevel {
    /// B-B: the signature alone; its time is the signer's claim.
    #[serde(rename = "B-B")]
    BB,
    /// B-T: a trusted time-stamp (on the signature or on the document after it) proves the
    /// signature existed at that time.
    #[serde(rename = "B-T")]
    BT,
    /// B-LT: B-T, and the file's /DSS holds the revocation data of the signer's certificate.
    #[serde(rename = "B-LT")]
    BLT,
    /// B-LTA: B-LT, and a document time-stamp covers that validation data.
    #[serde(rename = "B-LTA")]
    BLTA,
}

impl PadesLevel {
    /// As written in reports: `B-B`, `B-T`, `B-LT`, `B-LTA`.
    pub fn as_str(self) -> &'static str {
        match self {
            PadesLevel::BB => "B-B",
            PadesLevel::BT => "B-T",
            PadesLevel::BLT => "B-LT",
            PadesLevel::BLTA => "B-LTA",
        }
    }
}

/// What the time a certificate was checked at rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The signature's own time-stamp (the unsigned attribute, RFC 3161 Appendix A).
    SignatureTimestamp,
    /// A document time-stamp added after the signature.
    DocumentTimestamp,
    /// Nothing: the time of verification.
    VerificationTime,
}

/// The time a signature's certificate was checked at, and its evidence: the earliest trusted
/// time-stamp covering the signature (past-signature validation, ETSI EN 319 102-1 §5.6.2.4),
/// else the time of verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedAt {
    /// RFC 3339.
    pub time: String,
    /// What proves it.
    pub source: TimeSource,
    /// The time-stamping authority's name, for a time-stamp.
    pub tsa: Option<String>,
    /// The document time-stamp's field, for a document time-stamp.
    pub field: Option<String>,
}

/// A document time-stamp (`/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentTimestampReport {
    /// The field.
    pub field: String,
    /// 1-based revision its byte range reaches (the revision it time-stamps).
    pub revision: Option<usize>,
    /// `genTime`, RFC 3339, if the token could be read.
    pub time: Option<String>,
    /// The TSA's name, if its certificate is in the token.
    pub tsa: Option<String>,
    /// The TSA certificate's notAfter, RFC 3339 (when the time-stamp needs renewing).
    pub tsa_not_after: Option<String>,
    /// The token is intact, over this file's bytes, signed by a time-stamping certificate.
    pub valid: bool,
    /// The TSA chains to a trust root at `time`.
    pub trusted: bool,
    /// Why it is not valid (empty when it is).
    pub problems: Vec<Message>,
}

/// The bottom line of a [`VerificationReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// At least one signature; every signature intact, valid, trusted, in
    /// its own unit's field, followed only by later signatures; no
    /// document-level problem.
    Valid,
    /// Some signature is broken, misplaced or followed by a disallowed
    /// change, or the document has a structural problem.
    Invalid,
    /// No filled signature field (and no hidden signature).
    NoSignatures,
    /// Everything is intact and valid, but some certificate does not chain
    /// to a trust root at the claimed signing time (or is revoked).
    Untrusted,
    /// Nothing is wrong, but some signature cannot be judged: its algorithm is not
    /// supported.
    Indeterminate,
}

/// How a signature field is bound to the person who may sign it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingRule {
    /// The certificate names the unit (bloc CA certificates: subject OU = the field).
    UnitIdInCertificate,
    /// The unit enrolled this certificate with the service.
    EnrolledCertificate,
    /// The certificate's subject CN is the leader's name printed under the field (NFC,
    /// case and spaces folded).
    PrintedName,
    /// The field is not a unit's field (a PDF that is not a covenant).
    NotApplicable,
    /// A unit's field, but no rule binds the certificate to it.
    Unbound,
}

/// The binding of a signature to its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The rule that decided.
    pub rule: BindingRule,
    /// The leader's name printed under the field, if the document says it (`/TU`).
    pub printed_name: Option<String>,
}

impl Default for Binding {
    fn default() -> Self {
        Binding {
            rule: BindingRule::NotApplicable,
            printed_name: None,
        }
    }
}

/// Whether revocation was checked for the signer's certificate, and with what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// A verified CRL of the signer's issuer was consulted.
    pub checked: bool,
    /// Where the CRLs came from (`given`: the caller's; `dss`: the file's /DSS; `cms`: the
    /// signature's own).
    pub sources: Vec<String>,
}

/// How the file changed after a signature's revision (deny by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModificationLevel {
    /// Nothing follows the signed revision: the signature covers the whole file.
    None,
    /// Only later signatures, each filling its own empty signature field.
    LaterSignaturesOnly,
    /// Later signatures and the maintenance other signers write (metadata, validation data,
    /// document time-stamps), each allowed by a named rule.
    AllowedUpdates,
    /// Something else changed: see [`SignatureReport::changes_after`].
    Illegal,
}

/// What kind of change a [`Change`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// A later signature filled an empty signature field (allowed).
    SignatureAdded,
    /// The catalog's `/Version`, `/Extensions` or `/AcroForm /SigFlags` changed (allowed).
    CatalogUpdated,
    /// The document information dictionary changed (allowed, noted).
    InfoUpdated,
    /// The XMP metadata stream was updated (allowed, noted).
    MetadataUpdated,
    /// Validation data was added to the document security store (allowed).
    ValidationDataAdded,
    /// A document time-stamp was added in a new invisible field (allowed).
    TimestampAdded,
    /// A page's content changed.
    PageContentChanged,
    /// A page's resources changed.
    PageResourcesChanged,
    /// Another entry of a page dictionary changed.
    PageChanged,
    /// The page tree changed (pages added, removed or reordered).
    PageTreeChanged,
    /// An annotation was added to a page.
    AnnotationAdded,
    /// An annotation was removed from a page.
    AnnotationRemoved,
    /// An existing annotation changed.
    AnnotationChanged,
    /// A new form field.
    FormFieldAdded,
    /// An existing form field changed (other than being signed).
    FormFieldChanged,
    /// An existing signature dictionary changed.
    SignatureChanged,
    /// The catalog changed in a way that is not allowed.
    CatalogChanged,
    /// A new object that no allowed change accounts for.
    ObjectAdded,
    /// Another existing object changed.
    ObjectChanged,
    /// An object was freed (deleted).
    ObjectFreed,
    /// An object was pointed at bytes outside its revision.
    ObjectRedirected,
    /// A trailer entry changed.
    TrailerChanged,
    /// A revision that fills no signature field.
    RevisionWithoutSignature,
    /// A revision whose file structure is broken or unusual.
    MalformedRevision,
    /// Bytes inside a revision that belong to no object and no cross-reference section.
    UnaccountedBytes,
    /// Bytes after the last `%%EOF`, outside any revision.
    TrailingBytes,
    /// The change could not be analysed (unreadable object, work limit reached).
    AnalysisIncomplete,
}

/// One change made after a signature's revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// 1-based revision that makes the change; `None` for bytes after the last revision.
    pub revision: Option<usize>,
    /// Object number concerned, if any.
    pub object: Option<u32>,
    /// Kind of change.
    pub kind: ChangeKind,
    /// Allowed by a rule (a later signature, an allowed catalog or `/Info` update).
    pub allowed: bool,
    /// What changed, as a typed finding.
    pub finding: Finding,
    /// What changed, in English (names object, page, key or field).
    pub description: String,
    /// What changed, in Vietnamese.
    pub description_vi: String,
}

/// The `/M` entry of a signature dictionary: the time the signer claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningTime {
    /// The string as written in the file (e.g. `D:20260315093000+07'00'`).
    pub as_given: String,
    /// The same time in RFC 3339, if it parses as a PDF date (ISO 32000-2 7.9.4).
    pub rfc3339: Option<String>,
}

/// Verification of one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureReport {
    /// Fully qualified field name (`/T`), e.g. `U07`.
    pub field: String,
    /// Object number of the signature dictionary, if `/V` is a reference.
    pub signature_object: Option<u32>,
    /// The signer certificate's unit id (subject OU), if the certificate was found.
    pub unit_id: Option<String>,
    /// The signer certificate (name, title, unit, serial, issuer), if found.
    pub signer: Option<CertInfo>,
    /// `/M`: the claimed signing time (no time-stamp authority in PAdES B-B).
    pub signing_time: Option<SigningTime>,
    /// `/SubFilter` as written.
    pub sub_filter: Option<String>,
    /// 1-based revision whose end the signed range reaches; `None` if it ends elsewhere.
    pub revision: Option<usize>,
    /// The signed range reaches the end of the file.
    pub covers_whole_file: bool,
    /// `/ByteRange` `[0 a b c]`, if it is four non-negative integers.
    pub byte_range: Option<[u64; 4]>,
    /// The CMS message-digest equals SHA-512 of the bytes the `/ByteRange` names.
    pub intact: bool,
    /// The Ed25519 signature over the signed attributes verifies with the
    /// certificate's key, the CMS follows the profile, and the signature
    /// dictionary and `/ByteRange` are well formed.
    pub valid: bool,
    /// The certificate chains to a trust root at the claimed signing time.
    pub trusted: bool,
    /// Findings of chain validation (some are not fatal, see [`ChainProblem::is_fatal`]).
    pub chain_problems: Vec<ChainProblem>,
    /// The signer may sign this field (see `binding`): the unit signed its own field, or the
    /// field belongs to no unit.
    pub field_matches_certificate: bool,
    /// How the field is bound to the signer.
    #[serde(default)]
    pub binding: Binding,
    /// The signature algorithm that verified.
    #[serde(default)]
    pub algorithm: Option<Algorithm>,
    /// The signature cannot be judged: an algorithm is not supported.
    #[serde(default)]
    pub indeterminate: bool,
    /// Revocation checking of the signer's certificate.
    #[serde(default)]
    pub revocation: Revocation,
    /// How the file changed after this signature.
    pub modifications: ModificationLevel,
    /// Every change after this signature's revision, allowed or not.
    pub changes_after: Vec<Change>,
    /// Why this signature is not acceptable (empty when it is).
    pub problems: Vec<Message>,
    /// Observations that do not make the signature unacceptable.
    pub notes: Vec<Message>,
    /// For the certification signature (named by the catalog's `/Perms
    /// /DocMDP`, ISO 32000-2 12.8.2.2): its `/P`, what it permits after it
    /// (1: no change; 2: filling in forms and signing; 3: also annotations).
    /// A change it does not permit makes `modifications` illegal.
    #[serde(default)]
    pub certification: Option<u8>,
    /// The PAdES level reached.
    #[serde(default)]
    pub level: Option<PadesLevel>,
    /// The time the certificate was checked at and what proves it.
    #[serde(default)]
    pub checked_at: Option<CheckedAt>,
}

impl SignatureReport {
    /// Intact, valid, trusted, in its own field and followed only by later signatures.
    pub fn is_acceptable(&self) -> bool {
        self.intact
            && !self.indeterminate
            && self.valid
            && self.trusted
            && self.field_matches_certificate
            && self.modifications != ModificationLevel::Illegal
    }
}

impl Change {
    /// A change, allowed by a rule or not, at a revision (1-based) and object.
    pub(crate) fn new(
        allowed: bool,
        (revision, object): (Option<usize>, Option<u32>),
        kind: ChangeKind,
        finding: Finding,
    ) -> Self {
        Self {
            revision,
            object,
            kind,
            allowed,
            description: finding.text(Lang::En),
            description_vi: finding.text(Lang::Vi),
            finding,
        }
    }

    /// A change that no rule allows.
    pub(crate) fn illegal(
        revision: Option<usize>,
        object: Option<u32>,
        kind: ChangeKind,
        finding: Finding,
    ) -> Self {
        Self::new(false, (revision, object), kind, finding)
    }

    /// The change's text in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.description_vi,
            Lang::En => &self.description,
        }
    }

    /// The same change, now not allowed because a certification forbids it.
    pub(crate) fn forbid_by_certification(&mut self) {
        let inner = std::mem::replace(&mut self.finding, Finding::ChangedAfterSignature);
        *self = Self::illegal(
            self.revision,
            self.object,
            self.kind,
            Finding::NotPermittedByCertification {
                change: Box::new(inner),
            },
        );
    }
}

//! The values the store reads and writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// A unit-less enum stored as lowercase text: `as_str`, `parse` and `Display`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The stored (and JSON) spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The inverse of [`Self::as_str`].
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub use crate::pki::Holder;
pub use crate::workflow::{Seat, State};

text_enum! {
    /// A unit's role in its bloc.
    UnitRole { Leader = "leader", Deputy = "deputy", Member = "member" }
}

text_enum! {
    /// A unit token's holder: the unit's officer (registrations), its leader (signing) or its
    /// clerk (văn thư: the organisation's seal after the leader signed).
    UnitKind { Officer = "officer", Leader = "leader", Clerk = "clerk" }
}

text_enum! {
    /// A registration's status; units save `Draft` or `Submitted`, the review sets the others.
    RegistrationStatus {
        Draft = "draft",
        Submitted = "submitted",
        Accepted = "accepted",
        /// Sent back with a comment; the unit edits and submits again.
        Returned = "returned",
    }
}

text_enum! {
    /// A certificate enrolment's status.
    EnrolmentStatus { Pending = "pending", Approved = "approved", Rejected = "rejected" }
}

/// Who did it and when, recorded in the audit event of every write. The store never reads
/// the clock.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub actor: &'a str,
    pub at: OffsetDateTime,
}

impl<'a> Stamp<'a> {
    pub fn new(actor: &'a str, at: OffsetDateTime) -> Self {
        Stamp { actor, at }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlocRow {
    pub id: String,
    pub name: String,
    pub ca_cert_pem: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A unit of a bloc (also the input of [`super::Store::upsert_units`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub role: UnitRole,
}

/// What a token allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum TokenRole {
    Admin,
    Unit {
        bloc_id: String,
        unit_id: String,
        kind: UnitKind,
    },
}

/// A token just created: `secret` is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewToken {
    /// Public id, for revocation and logs.
    pub id: String,
    /// 64 lowercase hex characters (32 random bytes).
    pub secret: String,
}

/// The holder of a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub token_id: String,
    pub role: TokenRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CovenantRow {
    /// Given by the caller, e.g. `KTD-VHXH-QN-2021`.
    pub id: String,
    pub bloc_id: String,
    pub year: i32,
    pub state: State,
    /// The covenant as created (`giaouoc.covenant/1`).
    pub input: Value,
    /// The DOCX rendered at freeze.
    pub docx_sha256: Option<String>,
    /// `None` for a covenant; for one of its year's documents, which (its `input` is then
    /// its covenant's, and `parent_id` names the covenant).
    #[serde(default)]
    pub kind: Option<crate::year::YearDocument>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationRow {
    pub covenant_id: String,
    pub unit_id: String,
    pub status: RegistrationStatus,
    pub data: Value,
    /// The reviewer's last comment.
    pub comment: Option<String>,
    /// 1 after the first save, +1 on each save.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What made a revision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKind {
    /// Revision 0: the covenant as rendered at freeze.
    Rendered,
    /// A unit's signature.
    #[default]
    Signature,
    /// Validation data in the document security store (PAdES B-LT).
    ValidationData,
    /// A document time-stamp (PAdES B-LTA, or B-T for an upload without a signature time-stamp).
    DocumentTimestamp,
}

impl RevisionKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Rendered => "rendered",
            RevisionKind::Signature => "signature",
            RevisionKind::ValidationData => "validation_data",
            RevisionKind::DocumentTimestamp => "document_timestamp",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<RevisionKind> {
        [
            RevisionKind::Rendered,
            RevisionKind::Signature,
            RevisionKind::ValidationData,
            RevisionKind::DocumentTimestamp,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One revision of a covenant's PDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub covenant_id: String,
    /// 0 = as rendered at freeze, n = after the n-th signature.
    pub index: i64,
    pub pdf_sha256: String,
    /// The unit whose signature made this revision (`None` for the others).
    pub unit_id: Option<String>,
    /// Which of the unit's seats signed: its leader or its organisation (seal).
    #[serde(default)]
    pub seat: Option<Seat>,
    /// What made the revision.
    #[serde(default)]
    pub kind: RevisionKind,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Units whose every seat has signed up to and including this revision, in the order
    /// they became complete.
    pub signed_units: Vec<String>,
    /// Units with a seat not yet signed at this revision, by unit id.
    pub unsigned_units: Vec<String>,
    /// Fields signed up to and including this revision, in signing order (`U05`, `U05-dau`).
    #[serde(default)]
    pub signed_fields: Vec<String>,
    /// Fields not yet signed at this revision.
    #[serde(default)]
    pub unsigned_fields: Vec<String>,
}

/// A signature between prepare and complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepareRow {
    pub id: String,
    pub covenant_id: String,
    /// The field being signed: the unit id (its leader) or the unit's seal field.
    pub unit_id: String,
    /// The revision the signature was prepared against.
    pub base_sha256: String,
    /// Blob holding the prepared state (e.g. the PDF with the reserved signature).
    pub prepared_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The key material of an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "pem", rename_all = "snake_case")]
pub enum EnrolmentKey {
    /// A public key for the bloc CA to certify.
    PublicKey(String),
    /// A certificate request for the bloc CA.
    Csr(String),
    /// A certificate the leader already holds from another CA: the leaf, then its
    /// intermediates (PEM). Approving it records it as the unit's certificate as is.
    Certificate(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentRow {
    pub id: i64,
    pub bloc_id: String,
    pub unit_id: String,
    pub key: EnrolmentKey,
    /// The requested subject (name, title, unit...), as given.
    pub subject: Value,
    pub status: EnrolmentStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRow {
    pub bloc_id: String,
    /// Lowercase hex.
    pub serial: String,
    pub unit_id: String,
    pub cert_pem: String,
    pub enrolment_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Whose certificate: the unit's leader's or the unit's own (its seal).
    pub holder: Holder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveRow {
    pub pdf_sha256: String,
    pub covenant_id: String,
    /// The verification report stored with the file.
    pub report: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub archived_at: OffsetDateTime,
}

/// A unit's seal image (the PNG is a blob).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealRow {
    pub bloc_id: String,
    pub unit_id: String,
    pub png_sha256: String,
    /// The seal's size across, in millimetres.
    pub diameter_mm: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

text_enum! {
    /// Whose score: the unit's own (tự chấm) or the bloc's agreed one (khối thống nhất).
    ScoreKind {
        #[serde(rename = "self")]
        Own = "self",
        Agreed = "agreed",
    }
}

/// An evidence file a unit attached to its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub covenant_id: String,
    pub unit_id: String,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

/// A unit's results for one period; its status follows a registration's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsRow {
    pub covenant_id: String,
    pub period: crate::year::Period,
    pub unit_id: String,
    pub status: RegistrationStatus,
    pub data: Value,
    pub comment: Option<String>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A unit's score sheet of one kind, with its total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    pub covenant_id: String,
    pub unit_id: String,
    pub kind: ScoreKind,
    pub data: Value,
    pub total: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

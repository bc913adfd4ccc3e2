//! What the verifier says, as typed values: a [`Finding`] is a code with its data; its text in
//! Vietnamese and English is made in one place, [`Finding::text`], for the command line, the web
//! pages and the JSON report alike. A report carries each finding as a [`Message`]: the code,
//! the data and both texts.
//!
//! Certificate-path findings ([`ChainProblem`]) and CMS findings ([`CmsProblem`]) are typed by
//! their own modules and translated here too.

use serde::{Deserialize, Serialize};

use super::report::{
    CheckedAt, ModificationLevel, PadesLevel, SignatureReport, TimeSource, Verdict,
    VerificationReport,
};
use crate::cms::{CmsNote, CmsProblem};
use crate::pki::ChainProblem;
use crate::tsp::TokenProblem;

/// The language of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Vietnamese (the default everywhere).
    Vi,
    /// English.
    En,
}

/// The role an object had before a change, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ObjectRole {
    /// The document catalog.
    Catalog,
    /// A page dictionary.
    Page {
        /// 1-based page number.
        page: usize,
    },
    /// A content stream of a page.
    PageContent {
        /// 1-based page number.
        page: usize,
    },
    /// An annotation on a page.
    Annotation {
        /// 1-based page number.
        page: usize,
    },
    /// A form field.
    Field {
        /// Fully qualified name.
        name: String,
    },
    /// The signature dictionary of a field.
    Signature {
        /// Fully qualified name of the field.
        field: String,
    },
}

/// One thing the verifier found: a code (`code` in JSON, snake_case) and its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    // --- The file ---------------------------------------------------------------------------
    /// The file does not start with `%PDF-` (a note).
    NoPdfHeader,
    /// The file is encrypted.
    Encrypted,
    /// An annotation holds a signature the form does not list.
    HiddenSignature {
        /// The annotation's object number.
        annotation: u32,
        /// 1-based page.
        page: usize,
    },
    /// Bytes after the last `%%EOF` (a document problem).
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// Bytes after the last `%%EOF` (as a change after a signature).
    TrailingBytesChange {
        /// How many.
        count: usize,
    },
    /// The end of the file does not read as a revision.
    UnreadableTail {
        /// Why the newest section does not read.
        error: String,
        /// The `startxref` the file was read from instead.
        startxref_at: usize,
        /// First byte that belongs to no revision.
        from: usize,
        /// How many bytes belong to no revision.
        count: usize,
    },
    /// The verifier's work limit was reached.
    WorkLimit {
        /// Objects the verifier may read.
        max: usize,
    },
    /// A revision starts before the one before it ends.
    RevisionOutOfOrder {
        /// 1-based revision.
        revision: usize,
    },
    /// A revision has no `%%EOF`.
    RevisionWithoutEof {
        /// 1-based revision.
        revision: usize,
    },
    /// A revision's `startxref` does not point at its section.
    StartxrefMismatch {
        /// 1-based revision.
        revision: usize,
        /// The offset found, if any.
        found: Option<usize>,
    },
    /// A revision lists an object twice.
    DuplicateXrefEntry {
        /// 1-based revision.
        revision: usize,
        /// The object.
        object: u32,
    },
    /// A revision's `startxref` points at white space before its section (a note).
    XrefOffsetImprecise {
        /// 1-based revision.
        revision: usize,
    },
    /// The form has more field nodes than the verifier reads.
    TooManyFieldNodes {
        /// The bound.
        max: usize,
    },
    /// A form field is nested too deep.
    FieldTooDeep {
        /// The field.
        field: String,
        /// The bound.
        max: usize,
    },
    /// A form field object is reached twice (a loop).
    FieldReachedTwice {
        /// The object.
        object: u32,
    },
    /// The work limit was reached while reading the form.
    FieldsWorkLimit,
    /// The page tree is larger or deeper than the verifier reads.
    PageTreeTooLarge {
        /// Most nodes.
        max_nodes: usize,
        /// Deepest level.
        max_depth: usize,
    },
    /// A page tree object is reached twice (a loop).
    PageTreeLoop {
        /// The object.
        object: u32,
    },
    /// The work limit was reached while reading the page tree.
    PagesWorkLimit,

    // --- One signature ----------------------------------------------------------------------
    /// The field's `/V` is not a reference.
    ValueNotReference,
    /// The signature dictionary does not exist.
    SignatureDictionaryMissing {
        /// Its object number.
        object: u32,
    },
    /// The object is not a dictionary.
    NotSignatureDictionary {
        /// Its object number.
        object: u32,
    },
    /// The signature dictionary cannot be read.
    SignatureDictionaryUnreadable {
        /// Its object number.
        object: u32,
        /// Why.
        error: String,
    },
    /// The signature dictionary is inside an object stream.
    SignatureDictionaryNotPlain {
        /// Its object number.
        object: u32,
    },
    /// `/Type` is not `/Sig`.
    TypeNotSig,
    /// `/Filter` is another handler.
    FilterNotPpkLite {
        /// The name found.
        filter: String,
    },
    /// `/Filter` is missing.
    FilterMissing,
    /// `/SubFilter /adbe.pkcs7.detached` (a note).
    SubFilterPkcs7Detached,
    /// `/SubFilter` is not supported.
    SubFilterUnsupported {
        /// The name found.
        sub_filter: String,
    },
    /// `/SubFilter` is missing.
    SubFilterMissing,
    /// `/ByteRange` is not four non-negative integers.
    ByteRangeMalformed,
    /// `/ByteRange` does not start at 0.
    ByteRangeNotFromStart,
    /// `/ByteRange` gap empty or out of order.
    ByteRangeGapBad,
    /// `/ByteRange` ends after the end of the file.
    ByteRangePastEnd {
        /// Where it ends, if computable.
        end: Option<u64>,
        /// The file length.
        len: usize,
    },
    /// The signature dictionary is defined after the revision it signs.
    SignatureDictionaryAfterSignedRevision {
        /// Its object number.
        object: u32,
        /// 1-based revision that defines it.
        revision: usize,
    },
    /// The signed range does not end at the end of a revision.
    SignedRangeNotRevisionEnd {
        /// Where it ends.
        end: usize,
    },
    /// The signature dictionary lies outside the signed range.
    SignatureDictionaryOutsideRange,
    /// `/Contents` is a literal string.
    ContentsNotHex,
    /// The unsigned gap is not this dictionary's `/Contents`.
    GapNotContents {
        /// Gap start.
        a: usize,
        /// Gap end.
        b: usize,
        /// `/Contents` start.
        contents_from: usize,
        /// `/Contents` end.
        contents_to: usize,
    },
    /// `/Contents` missing or not a string.
    ContentsMissing,
    /// `/Contents` is not one CMS SignedData.
    NotSignedData {
        /// The parser's reason.
        error: String,
    },
    /// The digest of the signed bytes differs from the CMS message digest.
    DigestMismatch,
    /// The signed bytes cannot be read.
    SignedBytesUnreadable,
    /// A CMS finding.
    Cms(CmsProblem),
    /// A CMS observation (a note).
    CmsNote(CmsNote),
    /// The algorithm is not among those Circular 15/2025 lists for signing in Vietnam (a note).
    AlgorithmNotListedInVietnam {
        /// The algorithm, e.g. `Ed25519`.
        algorithm: String,
    },
    /// The field takes the certificates its unit enrolled, and this is not one of them.
    NotEnrolled {
        /// The field.
        field: String,
    },
    /// The certificate's name is not the leader's printed under the field.
    NotThePrintedLeader {
        /// The field.
        field: String,
        /// The name printed under it.
        printed: String,
        /// The certificate's subject CN.
        certificate: String,
    },
    /// The certificate's CN matches the printed leader's name only without Vietnamese
    /// diacritics (CAs often issue names in ASCII): bound, and said so.
    PrintedNameWithoutDiacritics {
        /// The field.
        field: String,
        /// The name printed under it.
        printed: String,
        /// The certificate's subject CN.
        certificate: String,
    },
    /// A unit's seal field (`U05-dau`) is signed with a person's certificate: the seal is the
    /// organisation's signature (Decree 30/2020 Appendix I, ô 8).
    PersonalCertificateInSealField {
        /// The field.
        field: String,
    },
    /// A leader's field is signed with an organisation's certificate.
    OrganisationCertificateInLeaderField {
        /// The field.
        field: String,
    },
    /// A unit's seal without its leader's signature before it (the organisation signs after
    /// the competent person, Decree 30/2020 Appendix I).
    SealWithoutLeader {
        /// The seal field.
        field: String,
        /// The leader's field.
        leader_field: String,
    },
    /// The field is signed with a certificate of another unit.
    WrongUnit {
        /// The field.
        field: String,
        /// The certificate's unit id, if any.
        certificate_unit: Option<String>,
    },
    /// The certificate does not chain to a trust root at the signing time.
    NotTrusted,
    /// A certificate-path finding.
    Chain(ChainProblem),
    /// No readable `/M`.
    NoSigningTime,
    /// One signature dictionary is the value of several fields.
    SharedSignatureDictionary {
        /// Its object number.
        object: u32,
    },
    /// `/M` is earlier than the signature before it (a note).
    TimeBeforePrevious,
    /// Something changed after this signature.
    ChangedAfterSignature,

    // --- Certification (DocMDP) -------------------------------------------------------------
    /// The catalog's `/Perms` is not a dictionary.
    PermsNotDictionary,
    /// `/Perms /DocMDP` is not a reference.
    PermsDocMdpNotReference,
    /// `/Perms /DocMDP` names no signature.
    PermsNamesNoSignature {
        /// The object it names.
        object: u32,
    },
    /// `/Perms /DocMDP` names this signature but it has no transform.
    DocMdpWithoutTransform,
    /// This signature claims a certification the catalog does not name.
    DocMdpNotNamed,
    /// `/Reference` is not an array.
    ReferenceNotArray,
    /// Two DocMDP transforms.
    ReferenceTwoDocMdp,
    /// `/P` is not 1, 2 or 3.
    DocMdpPermissionBad,
    /// `/TransformParams` is not a dictionary.
    DocMdpParamsNotDictionary,
    /// The certification signature with its permission (a note).
    Certification {
        /// DocMDP `/P`.
        p: u8,
    },
    /// A certification signature is not the first signature.
    CertificationNotFirst,
    /// A change the certification does not permit was made.
    CertificationBroken {
        /// DocMDP `/P`.
        p: u8,
    },

    // --- Changes after a signature ----------------------------------------------------------
    /// An object kept its number but changed generation.
    GenerationChanged {
        /// The object.
        object: u32,
    },
    /// An object was freed.
    ObjectFreed {
        /// The object.
        object: u32,
        /// What it was.
        was: Option<ObjectRole>,
    },
    /// A new object that no rule accounts for.
    ObjectAdded {
        /// The object.
        object: u32,
        /// Its type, e.g. `dictionary /Type /Annot`.
        hint: String,
    },
    /// A revision that fills no signature field.
    RevisionWithoutSignature {
        /// 1-based revision.
        revision: usize,
    },
    /// More illegal changes than listed.
    MoreChangesNotListed {
        /// How many more.
        count: usize,
    },
    /// The modification analysis ran out of work.
    ChangesNotFullyAnalysed,
    /// An object of an update cannot be read.
    ObjectUnreadable {
        /// The object.
        object: u32,
        /// 1-based revision.
        revision: usize,
    },
    /// An empty signature field replaced by a non-dictionary.
    SignatureFieldReplaced {
        /// The field.
        field: String,
    },
    /// An empty signature field changed beyond `/V` and `/AP`.
    SignatureFieldChanged {
        /// The field.
        field: String,
        /// The keys, e.g. `/Rect, /F`.
        keys: String,
    },
    /// An empty signature field got an appearance but no signature.
    AppearanceWithoutSignature {
        /// The field.
        field: String,
    },
    /// A signature filled its field (allowed).
    SignatureAdded {
        /// The field.
        field: String,
        /// The new signature dictionary.
        signature_object: u32,
    },
    /// An empty field's `/V` is not a new signature dictionary.
    ValueNotNewSignature {
        /// The field.
        field: String,
    },
    /// `/Info` changed (allowed).
    InfoChanged {
        /// The keys.
        keys: String,
    },
    /// `/Info` changed into more than text.
    InfoNotText {
        /// The object.
        object: u32,
        /// The keys.
        keys: String,
    },
    /// The page tree changed.
    PageTreeChanged {
        /// The object.
        object: u32,
        /// The keys.
        keys: String,
    },
    /// A page's content stream changed.
    ContentStreamChanged {
        /// 1-based page.
        page: usize,
        /// The stream.
        object: u32,
    },
    /// An annotation changed.
    AnnotationChanged {
        /// The annotation.
        object: u32,
        /// 1-based page.
        page: usize,
        /// The keys.
        keys: String,
    },
    /// A signed field changed.
    SignedFieldChanged {
        /// The field.
        field: String,
        /// The keys.
        keys: String,
    },
    /// A form field changed.
    FormFieldChanged {
        /// The field.
        field: String,
        /// The keys.
        keys: String,
    },
    /// A field's widget changed.
    WidgetChanged {
        /// The widget.
        object: u32,
        /// 1-based page, if known.
        page: Option<usize>,
        /// The field.
        field: String,
        /// The keys.
        keys: String,
    },
    /// A signature dictionary changed.
    SignatureDictionaryChanged {
        /// The field.
        field: String,
        /// The keys.
        keys: String,
    },
    /// Another object changed.
    ObjectChanged {
        /// The object.
        object: u32,
        /// Its type.
        hint: String,
    },
    /// `/Version` or `/Extensions` updated (allowed).
    CatalogUpdated {
        /// The key.
        key: String,
    },
    /// `/AcroForm` added to the catalog.
    AcroFormAdded,
    /// `/AcroForm` replaced or removed.
    AcroFormReplaced,
    /// Another catalog entry changed.
    CatalogChanged {
        /// The key.
        key: String,
    },
    /// `/AcroForm /SigFlags` updated (allowed).
    SigFlagsUpdated,
    /// Another `/AcroForm` entry changed.
    AcroFormChanged {
        /// The key.
        key: String,
    },
    /// A field added to `/AcroForm /Fields`.
    FieldAdded {
        /// Its name.
        name: String,
        /// Its object.
        object: Option<u32>,
    },
    /// A field removed from `/AcroForm /Fields`.
    FieldRemoved {
        /// Its object.
        object: Option<u32>,
    },
    /// `/AcroForm /Fields` reordered or replaced.
    FieldsReordered,
    /// A page's `/Contents` replaced.
    PageContentReplaced {
        /// 1-based page.
        page: usize,
        /// New streams, e.g. `81, 82`.
        new_streams: String,
    },
    /// A page's resources changed.
    PageResourcesChanged {
        /// 1-based page.
        page: usize,
    },
    /// Another page entry changed.
    PageChanged {
        /// 1-based page.
        page: usize,
        /// The key.
        key: String,
    },
    /// A new form field's widget on a page.
    FieldWidgetAdded {
        /// The field name.
        name: String,
        /// 1-based page.
        page: usize,
        /// The widget object.
        object: Option<u32>,
        /// Its `/Subtype`.
        subtype: String,
    },
    /// An annotation added to a page.
    AnnotationAdded {
        /// 1-based page.
        page: usize,
        /// The annotation.
        object: Option<u32>,
        /// Its `/Subtype`.
        subtype: String,
    },
    /// An annotation removed from a page.
    AnnotationRemoved {
        /// 1-based page.
        page: usize,
        /// The annotation.
        object: Option<u32>,
    },
    /// A page's annotations reordered or replaced.
    AnnotationsReordered {
        /// 1-based page.
        page: usize,
    },
    /// The trailer's `/Root` points elsewhere.
    CatalogReplaced,
    /// `/Info` replaced by a new text dictionary (allowed).
    InfoReplaced,
    /// `/Info` points at an existing or non-text object.
    InfoPointsAtExisting,
    /// Another trailer entry changed.
    TrailerChanged {
        /// The key.
        key: String,
    },
    /// A revision without `%%EOF`.
    UpdateWithoutEof {
        /// 1-based revision.
        revision: usize,
    },
    /// A revision overlapping the one before.
    UpdateOverlaps {
        /// 1-based revision.
        revision: usize,
    },
    /// A revision with an empty cross-reference section.
    UpdateEmptyXref {
        /// 1-based revision.
        revision: usize,
    },
    /// An object pointing at bytes outside its revision.
    ObjectOutsideRevision {
        /// The object.
        object: u32,
        /// Where it points.
        offset: usize,
        /// 1-based revision.
        revision: usize,
    },
    /// An object in an object stream that the revision does not define.
    ObjectInForeignStream {
        /// The object.
        object: u32,
        /// The object stream.
        stream: u32,
        /// 1-based revision.
        revision: usize,
    },
    /// Objects of a revision overlap.
    ObjectsOverlap {
        /// 1-based revision.
        revision: usize,
        /// Where.
        at: usize,
    },
    /// Bytes of a revision that belong to no object.
    UnaccountedBytes {
        /// 1-based revision.
        revision: usize,
        /// From where.
        at: usize,
        /// How many.
        count: usize,
    },
    /// The XMP metadata stream was updated (allowed).
    MetadataUpdated {
        /// The stream.
        object: u32,
    },
    /// `/Metadata` was removed from the catalog (allowed).
    MetadataRemoved,
    /// What `/Metadata` holds is not XMP.
    MetadataNotXmp {
        /// The object.
        object: u32,
        /// Why.
        reason: String,
    },
    /// Validation data was added to the document security store (allowed).
    DssUpdated,
    /// The document security store holds something it may not.
    DssMalformed {
        /// What.
        reason: String,
    },
    /// `/Perms` changed without touching `/DocMDP` (allowed).
    PermsUpdated,
    /// `/Perms /DocMDP` added, removed or changed after signing.
    CertificationChangedAfterSigning,
    /// Resources were added to the form's `/DR` (allowed).
    FormResourcesAdded,
    /// The form's `/NeedAppearances`, `/DA` or `/Q` changed (allowed).
    FormDefaultsChanged {
        /// The key.
        key: String,
    },
    /// The signature's time-stamp token (RFC 3161 Appendix A) does not prove its time.
    SignatureTimestampInvalid {
        /// Why.
        problem: TokenProblem,
    },
    /// The signature's time-stamp comes from a TSA that is not trusted: its time is not used.
    SignatureTimestampUntrusted {
        /// The TSA's name.
        tsa: String,
    },
    /// A document time-stamp (ISO 32000-2 §12.8.5) does not prove its time.
    DocumentTimestampInvalid {
        /// The field.
        field: String,
        /// Why.
        problem: TokenProblem,
    },
    /// A document time-stamp's dictionary or byte range is broken.
    DocumentTimestampMalformed {
        /// The field.
        field: String,
        /// What is wrong, as the signature finding would say it.
        finding: Box<Finding>,
    },
    /// A document time-stamp from a TSA that is not trusted: its time is not used.
    DocumentTimestampUntrusted {
        /// The field.
        field: String,
        /// The TSA's name.
        tsa: String,
    },
    /// No trusted time-stamp covers the signature: the certificate was checked at the time
    /// of verification (PAdES B-B, ETSI EN 319 102-1 §5.6.2).
    CheckedAtVerificationTime {
        /// That time, RFC 3339.
        at: String,
    },
    /// A document time-stamp was added in a new invisible field (allowed).
    DocumentTimestampAdded {
        /// The field.
        field: String,
    },
    /// A change the general rules allow but a DocMDP `/P 1` certification does not.
    NotPermittedByCertification {
        /// The change.
        change: Box<Finding>,
    },
}

/// A [`Finding`] with its texts: what a report carries (`code`, the data, `en`, `vi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// Its text in English.
    pub en: String,
    /// Its text in Vietnamese.
    pub vi: String,
}

impl From<Finding> for Message {
    fn from(finding: Finding) -> Self {
        Message {
            en: finding.text(Lang::En),
            vi: finding.text(Lang::Vi),
            finding,
        }
    }
}

impl Message {
    /// The text in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// ` (object 12)` / ` (đối tượng 12)` when known.
fn obj_suffix(object: Option<u32>, vi: bool) -> String {
    match (object, vi) {
        (Some(n), false) => format!(" (object {n})"),
        (Some(n), true) => format!(" (đối tượng {n})"),
        (None, _) => String::new(),
    }
}

impl Finding {
    /// The finding as a sentence in `lang`. The single place where findings become text.
    pub fn text(&self, lang: Lang) -> String {
        let (en, vi) = self.texts();
        pick(lang, en, vi)
    }

    /// Both texts, English first.
    #[allow(clippy::too_many_lines)]
    fn texts(&self) -> (String, String) {
        use Finding as F;
        match self {
            F::NoPdfHeader => (
                "the file does not start with a %PDF- header".into(),
                "Tệp không bắt đầu bằng phần đầu %PDF-".into(),
            ),
            F::Encrypted => (
                "the file is encrypted; encrypted documents are not supported, so its signatures \
                 cannot be relied on"
                    .into(),
                "Tệp được mã hóa; chưa hỗ trợ tài liệu mã hóa nên không thể dựa vào các chữ ký \
                 của nó"
                    .into(),
            ),
            F::HiddenSignature { annotation, page } => (
                format!(
                    "annotation {annotation} on page {page} holds a signature but is not a field \
                     of /AcroForm"
                ),
                format!(
                    "Chú thích {annotation} trên trang {page} chứa chữ ký nhưng không thuộc biểu \
                     mẫu /AcroForm (chữ ký ẩn)"
                ),
            ),
            F::TrailingBytes { count } => (
                format!("{count} bytes after the last %%EOF belong to no revision"),
                format!("{count} byte sau %%EOF cuối cùng không thuộc phiên bản nào"),
            ),
            F::TrailingBytesChange { count } => (
                format!("{count} bytes after the last %%EOF, outside any revision"),
                format!("{count} byte nằm sau %%EOF cuối cùng, ngoài mọi phiên bản"),
            ),
            F::UnreadableTail {
                error,
                startxref_at,
                from,
                count,
            } => (
                format!(
                    "the end of the file cannot be read as a revision ({error}); the file was \
                     read from the startxref at byte {startxref_at} instead, so the {count} \
                     bytes from byte {from} belong to no revision and no signature covers them"
                ),
                format!(
                    "Phần cuối tệp không đọc được thành một phiên bản ({error}); {count} byte từ \
                     byte {from} không thuộc phiên bản nào và không được chữ ký nào bảo vệ"
                ),
            ),
            F::WorkLimit { max } => (
                format!("work limit reached ({max} objects read); the analysis is incomplete"),
                format!(
                    "Vượt giới hạn xử lý (đã đọc {max} đối tượng); việc phân tích chưa trọn vẹn"
                ),
            ),
            F::RevisionOutOfOrder { revision } => (
                format!("revision {revision} starts before the previous revision ends"),
                format!("Phiên bản {revision} bắt đầu trước khi phiên bản trước kết thúc"),
            ),
            F::RevisionWithoutEof { revision } => (
                format!("revision {revision} has no %%EOF"),
                format!("Phiên bản {revision} không có dấu kết thúc %%EOF"),
            ),
            F::StartxrefMismatch { revision, found } => {
                let f = found.map_or_else(|| "missing".to_owned(), |f| f.to_string());
                let fv = found.map_or_else(|| "không có".to_owned(), |f| f.to_string());
                (
                    format!(
                        "revision {revision} has a startxref ({f}) that does not point at its \
                         section"
                    ),
                    format!(
                        "Phiên bản {revision} có startxref ({fv}) không trỏ tới bảng tham chiếu \
                         chéo của nó"
                    ),
                )
            }
            F::DuplicateXrefEntry { revision, object } => (
                format!(
                    "revision {revision} lists object {object} twice in its cross-reference section"
                ),
                format!(
                    "Phiên bản {revision} liệt kê đối tượng {object} hai lần trong bảng tham chiếu \
                     chéo"
                ),
            ),
            F::XrefOffsetImprecise { revision } => (
                format!("revision {revision}: startxref points at white space before the section"),
                format!(
                    "Phiên bản {revision}: startxref trỏ vào khoảng trắng trước bảng tham chiếu \
                     chéo"
                ),
            ),
            F::TooManyFieldNodes { max } => (
                format!("form has more than {max} field nodes; the rest was not read"),
                format!("Biểu mẫu có hơn {max} nút trường; phần còn lại không được đọc"),
            ),
            F::FieldTooDeep { field, max } => (
                format!("form field {field} is nested deeper than {max} levels"),
                format!("Trường biểu mẫu {field} lồng sâu quá {max} cấp"),
            ),
            F::FieldReachedTwice { object } => (
                format!("form field object {object} is reached twice"),
                format!("Đối tượng trường biểu mẫu {object} bị gặp hai lần (vòng lặp)"),
            ),
            F::FieldsWorkLimit => (
                "work limit reached while reading the form fields".into(),
                "Vượt giới hạn xử lý khi đọc các trường biểu mẫu".into(),
            ),
            F::PageTreeTooLarge {
                max_nodes,
                max_depth,
            } => (
                format!("page tree larger than {max_nodes} nodes or deeper than {max_depth}"),
                format!("Cây trang lớn hơn {max_nodes} nút hoặc sâu hơn {max_depth} cấp"),
            ),
            F::PageTreeLoop { object } => (
                format!("page tree object {object} is reached twice"),
                format!("Đối tượng {object} của cây trang bị gặp hai lần (vòng lặp)"),
            ),
            F::PagesWorkLimit => (
                "work limit reached while reading the page tree".into(),
                "Vượt giới hạn xử lý khi đọc cây trang".into(),
            ),
            F::ValueNotReference => (
                "the field's /V is not an indirect reference to a signature dictionary".into(),
                "Giá trị /V của ô không phải tham chiếu tới một từ điển chữ ký".into(),
            ),
            F::SignatureDictionaryMissing { object } => (
                format!("signature dictionary {object} does not exist"),
                format!("Từ điển chữ ký {object} không tồn tại"),
            ),
            F::NotSignatureDictionary { object } => (
                format!("object {object} is not a signature dictionary"),
                format!("Đối tượng {object} không phải từ điển chữ ký"),
            ),
            F::SignatureDictionaryUnreadable { object, error } => (
                format!("signature dictionary {object} cannot be read: {error}"),
                format!("Không đọc được từ điển chữ ký {object}: {error}"),
            ),
            F::SignatureDictionaryNotPlain { object } => (
                format!(
                    "signature dictionary {object} is not stored as a plain object (e.g. it is \
                     inside an object stream), so its /Contents cannot be located in the file"
                ),
                format!(
                    "Từ điển chữ ký {object} không được lưu như một đối tượng thường (ví dụ nằm \
                     trong luồng đối tượng) nên không xác định được vị trí /Contents trong tệp"
                ),
            ),
            F::TypeNotSig => (
                "signature dictionary /Type is not /Sig".into(),
                "Từ điển chữ ký có /Type khác /Sig".into(),
            ),
            F::FilterNotPpkLite { filter } => (
                format!("/Filter is {filter}, not /Adobe.PPKLite"),
                format!("/Filter là {filter}, không phải /Adobe.PPKLite"),
            ),
            F::FilterMissing => ("/Filter is missing".into(), "Thiếu /Filter".into()),
            F::SubFilterPkcs7Detached => (
                "/SubFilter is /adbe.pkcs7.detached (accepted; PAdES uses /ETSI.CAdES.detached)"
                    .into(),
                "/SubFilter là /adbe.pkcs7.detached (được chấp nhận; PAdES dùng \
                 /ETSI.CAdES.detached)"
                    .into(),
            ),
            F::SubFilterUnsupported { sub_filter } => (
                format!("/SubFilter {sub_filter} is not supported"),
                format!("Chưa hỗ trợ /SubFilter {sub_filter}"),
            ),
            F::SubFilterMissing => ("/SubFilter is missing".into(), "Thiếu /SubFilter".into()),
            F::ByteRangeMalformed => (
                "/ByteRange is not an array of four non-negative integers".into(),
                "/ByteRange không phải mảng bốn số nguyên không âm".into(),
            ),
            F::ByteRangeNotFromStart => (
                "/ByteRange does not start at byte 0".into(),
                "/ByteRange không bắt đầu từ byte 0".into(),
            ),
            F::ByteRangeGapBad => (
                "/ByteRange gap is empty or its ranges are out of order".into(),
                "Khoảng trống của /ByteRange rỗng hoặc các đoạn sai thứ tự".into(),
            ),
            F::ByteRangePastEnd { end, len } => {
                let e = end.map_or_else(|| "?".to_owned(), |e| e.to_string());
                (
                    format!("/ByteRange ends at byte {e}, after the end of the file ({len} bytes)"),
                    format!("/ByteRange kết thúc ở byte {e}, sau cuối tệp ({len} byte)"),
                )
            }
            F::SignatureDictionaryAfterSignedRevision { object, revision } => (
                format!(
                    "signature dictionary {object} is defined in revision {revision}, after the \
                     revision it signs"
                ),
                format!(
                    "Từ điển chữ ký {object} được định nghĩa ở phiên bản {revision}, sau phiên bản \
                     mà nó ký"
                ),
            ),
            F::SignedRangeNotRevisionEnd { end } => (
                format!("the signed range ends at byte {end}, which is not the end of a revision"),
                format!("Phạm vi được ký kết thúc ở byte {end}, không phải cuối một phiên bản"),
            ),
            F::SignatureDictionaryOutsideRange => (
                "the signature dictionary lies outside the signed range".into(),
                "Từ điển chữ ký nằm ngoài phạm vi được ký".into(),
            ),
            F::ContentsNotHex => (
                "/Contents is not a hexadecimal string".into(),
                "/Contents không phải chuỗi thập lục phân".into(),
            ),
            F::GapNotContents {
                a,
                b,
                contents_from,
                contents_to,
            } => (
                format!(
                    "the unsigned gap [{a}, {b}) is not exactly this signature's /Contents \
                     string (at [{contents_from}, {contents_to}))"
                ),
                format!(
                    "Khoảng không được ký [{a}, {b}) không đúng là chuỗi /Contents của chữ ký này \
                     (ở [{contents_from}, {contents_to}))"
                ),
            ),
            F::ContentsMissing => (
                "/Contents is missing or not a string".into(),
                "Thiếu /Contents hoặc /Contents không phải chuỗi".into(),
            ),
            F::NotSignedData { error } => (
                format!("/Contents is not one CMS SignedData: {error}"),
                format!("/Contents không phải một cấu trúc CMS SignedData: {error}"),
            ),
            F::DigestMismatch => (
                "the signed bytes do not match the message digest: the document was altered".into(),
                "Dữ liệu được ký không khớp với giá trị băm trong chữ ký: tài liệu đã bị sửa"
                    .into(),
            ),
            F::SignedBytesUnreadable => (
                "the signed bytes cannot be read, so the digest was not checked".into(),
                "Không đọc được dữ liệu được ký nên chưa kiểm tra được giá trị băm".into(),
            ),
            F::Cms(p) => cms_texts(p),
            F::CmsNote(n) => match n {
                CmsNote::SigningCertificateV1 => (
                    "CMS: the signer is identified by the older signing-certificate attribute \
                     (SHA-1, RFC 2634)"
                        .into(),
                    "CMS: người ký được xác định bằng thuộc tính signing-certificate cũ (SHA-1, \
                     RFC 2634)"
                        .into(),
                ),
                CmsNote::SigningTimeAttribute { time } => (
                    format!("CMS: the signer's software claims the signing time {time}"),
                    format!("CMS: phần mềm ký khai thời gian ký {time}"),
                ),
            },
            F::AlgorithmNotListedInVietnam { algorithm } => (
                format!(
                    "the algorithm {algorithm} is not among those Circular 15/2025 lists for \
                     signing (RSA from 2048 bits, ECDSA from 256 bits, SHA-256 or stronger)"
                ),
                format!(
                    "Thuật toán {algorithm} không nằm trong danh sách Thông tư 15/2025 quy định \
                     cho chữ ký số (RSA từ 2048 bit, ECDSA từ 256 bit, SHA-256 trở lên)"
                ),
            ),
            F::NotEnrolled { field } => (
                format!("field {field} is signed with a certificate its unit has not enrolled"),
                format!("Ô {field} được ký bằng chứng thư số mà đơn vị chưa đăng ký với hệ thống"),
            ),
            F::PrintedNameWithoutDiacritics {
                field,
                printed,
                certificate,
            } => (
                format!(
                    "field {field}: the certificate's name \"{certificate}\" matches the leader \
                     printed under it (\"{printed}\") only without diacritics"
                ),
                format!(
                    "Ô {field}: tên trên chứng thư số \"{certificate}\" chỉ khớp với lãnh đạo ghi \
                     dưới ô ký (\"{printed}\") khi bỏ dấu tiếng Việt"
                ),
            ),
            F::NotThePrintedLeader {
                field,
                printed,
                certificate,
            } => (
                format!(
                    "field {field} is signed by \"{certificate}\", not by the leader printed \
                     under it (\"{printed}\")"
                ),
                format!(
                    "Ô {field} được ký bởi \"{certificate}\", người không phải lãnh đạo ghi dưới \
                     ô ký (\"{printed}\")"
                ),
            ),
            F::PersonalCertificateInSealField { field } => (
                format!(
                    "seal field {field} is signed with a person's certificate, not the \
                     organisation's"
                ),
                format!(
                    "Ô dấu {field} được ký bằng chứng thư số cá nhân, không phải chứng thư số của \
                     cơ quan, tổ chức"
                ),
            ),
            F::OrganisationCertificateInLeaderField { field } => (
                format!("leader's field {field} is signed with an organisation's certificate"),
                format!("Ô chữ ký lãnh đạo {field} được ký bằng chứng thư số của cơ quan, tổ chức"),
            ),
            F::SealWithoutLeader {
                field,
                leader_field,
            } => (
                format!(
                    "the seal in {field} has no signature of the leader in {leader_field} before it"
                ),
                format!("Dấu ở ô {field} không có chữ ký của lãnh đạo (ô {leader_field}) trước nó"),
            ),
            F::WrongUnit {
                field,
                certificate_unit,
            } => {
                let u = certificate_unit.as_deref().unwrap_or("(none)");
                let uv = certificate_unit.as_deref().unwrap_or("(không có)");
                (
                    format!("field {field} is signed with a certificate of unit {u}"),
                    format!("Ô {field} được ký bằng chứng thư số của đơn vị {uv}"),
                )
            }
            F::NotTrusted => (
                "the certificate does not chain to a trusted root at the signing time (see \
                 chain_problems)"
                    .into(),
                "Chứng thư số không dẫn tới chứng thư gốc tin cậy tại thời điểm ký".into(),
            ),
            F::Chain(p) => chain_texts(p),
            F::NoSigningTime => (
                "no readable signing time /M, so the certificate chain was not validated".into(),
                "Không đọc được thời gian ký /M nên chưa kiểm tra được chuỗi chứng thư".into(),
            ),
            F::SharedSignatureDictionary { object } => (
                format!("signature dictionary {object} is the value of more than one field"),
                format!("Từ điển chữ ký {object} là giá trị của nhiều ô chữ ký"),
            ),
            F::TimeBeforePrevious => (
                "the claimed signing time /M is earlier than the previous signature's".into(),
                "Thời gian ký /M người ký khai sớm hơn thời gian của chữ ký trước".into(),
            ),
            F::ChangedAfterSignature => (
                "the document was changed after this signature".into(),
                "Tài liệu bị thay đổi sau chữ ký này".into(),
            ),
            F::PermsNotDictionary => (
                "the catalog's /Perms is not a dictionary".into(),
                "/Perms của danh mục gốc không phải từ điển".into(),
            ),
            F::PermsDocMdpNotReference => (
                "the catalog's /Perms /DocMDP is not a reference to a signature dictionary".into(),
                "/Perms /DocMDP của danh mục gốc không tham chiếu tới một từ điển chữ ký".into(),
            ),
            F::PermsNamesNoSignature { object } => (
                format!(
                    "the catalog's /Perms /DocMDP points at object {object}, which is not the value \
                     of a signature field"
                ),
                format!(
                    "/Perms /DocMDP của danh mục gốc trỏ tới đối tượng {object}, không phải giá \
                     trị của ô chữ ký nào"
                ),
            ),
            F::DocMdpWithoutTransform => (
                "the catalog's /Perms /DocMDP names this signature, but its dictionary has no \
                 DocMDP transform (/Reference)"
                    .into(),
                "/Perms /DocMDP của danh mục gốc chỉ tới chữ ký này nhưng từ điển chữ ký không \
                 có phép biến đổi DocMDP (/Reference)"
                    .into(),
            ),
            F::DocMdpNotNamed => (
                "the signature claims a DocMDP certification (/Reference) that the catalog's \
                 /Perms /DocMDP does not name"
                    .into(),
                "Chữ ký tự nhận là chữ ký chứng nhận DocMDP (/Reference) nhưng /Perms /DocMDP \
                 của danh mục gốc không chỉ tới nó"
                    .into(),
            ),
            F::ReferenceNotArray => (
                "certification signature: /Reference is not an array".into(),
                "Chữ ký chứng nhận: /Reference không phải mảng".into(),
            ),
            F::ReferenceTwoDocMdp => (
                "certification signature: /Reference holds more than one DocMDP transform".into(),
                "Chữ ký chứng nhận: /Reference có hơn một phép biến đổi DocMDP".into(),
            ),
            F::DocMdpPermissionBad => (
                "certification signature: DocMDP /TransformParams /P is not 1, 2 or 3".into(),
                "Chữ ký chứng nhận: DocMDP /TransformParams /P không phải 1, 2 hay 3".into(),
            ),
            F::DocMdpParamsNotDictionary => (
                "certification signature: DocMDP /TransformParams is not a dictionary".into(),
                "Chữ ký chứng nhận: DocMDP /TransformParams không phải từ điển".into(),
            ),
            F::Certification { p } => {
                let (en, vi) = permission_texts(*p);
                (
                    format!("certification signature (DocMDP /P {p}): {en}"),
                    format!("Chữ ký chứng nhận (DocMDP /P {p}): {vi}"),
                )
            }
            F::CertificationNotFirst => (
                "a certification signature (DocMDP) must be the first signature of the document"
                    .into(),
                "Chữ ký chứng nhận (DocMDP) phải là chữ ký đầu tiên của tài liệu".into(),
            ),
            F::CertificationBroken { p } => {
                let (en, vi) = permission_texts(*p);
                (
                    format!(
                        "the certification (DocMDP /P {p}) is broken: the document was changed \
                         after it in a way it does not permit ({en})"
                    ),
                    format!(
                        "Chữ ký chứng nhận (DocMDP /P {p}) bị vi phạm: tài liệu bị thay đổi sau \
                         đó theo cách không được phép ({vi})"
                    ),
                )
            }
            F::GenerationChanged { object } => (
                format!("object {object} replaced by an object with another generation number"),
                format!("Đối tượng {object} bị thay bằng đối tượng có số thế hệ khác"),
            ),
            F::ObjectFreed { object, was } => {
                let (en, vi) = role_texts(was.as_ref());
                (
                    format!("object {object}{en} deleted"),
                    format!("Đối tượng {object}{vi} bị xoá"),
                )
            }
            F::ObjectAdded { object, hint } => (
                format!("new object {object} ({hint}) that no signature accounts for"),
                format!("Thêm đối tượng mới {object} ({hint}) không thuộc chữ ký nào"),
            ),
            F::RevisionWithoutSignature { revision } => (
                format!("revision {revision} fills no signature field"),
                format!("Phiên bản {revision} không thêm chữ ký nào"),
            ),
            F::MoreChangesNotListed { count } => (
                format!("{count} more illegal changes not listed"),
                format!("Còn {count} thay đổi không hợp lệ khác không được liệt kê"),
            ),
            F::ChangesNotFullyAnalysed => (
                "work limit reached: the changes were not fully analysed".into(),
                "Vượt giới hạn xử lý: chưa phân tích hết các thay đổi".into(),
            ),
            F::ObjectUnreadable { object, revision } => (
                format!("object {object} in revision {revision} cannot be read"),
                format!("Không đọc được đối tượng {object} trong phiên bản {revision}"),
            ),
            F::SignatureFieldReplaced { field } => (
                format!("signature field {field} replaced by a non-dictionary"),
                format!("Ô chữ ký {field} bị thay bằng đối tượng không phải từ điển"),
            ),
            F::SignatureFieldChanged { field, keys } => (
                format!("signature field {field} changed: {keys}"),
                format!("Ô chữ ký {field} bị thay đổi: {keys}"),
            ),
            F::AppearanceWithoutSignature { field } => (
                format!("signature field {field} changed without being signed: /AP"),
                format!("Ô chữ ký {field} bị đổi hình hiển thị mà không được ký"),
            ),
            F::SignatureAdded {
                field,
                signature_object,
            } => (
                format!(
                    "signature added to field {field} (signature dictionary {signature_object})"
                ),
                format!("Thêm chữ ký vào ô {field} (từ điển chữ ký {signature_object})"),
            ),
            F::ValueNotNewSignature { field } => (
                format!("signature field {field}: /V is not a new signature dictionary"),
                format!("Ô chữ ký {field}: /V không phải từ điển chữ ký mới"),
            ),
            F::InfoChanged { keys } => (
                format!("document information (/Info) changed: {keys}"),
                format!("Thông tin tài liệu (/Info) thay đổi: {keys}"),
            ),
            F::InfoNotText { object, keys } => (
                format!(
                    "object {object}, the document information (/Info), changed into more than \
                     text: {keys}"
                ),
                format!(
                    "Đối tượng {object} (thông tin tài liệu /Info) bị đổi thành nội dung khác văn \
                     bản: {keys}"
                ),
            ),
            F::PageTreeChanged { object, keys } => (
                format!("page tree changed (object {object}): {keys}"),
                format!("Cây trang bị thay đổi (đối tượng {object}): {keys}"),
            ),
            F::ContentStreamChanged { page, object } => (
                format!("page content changed (page {page}, content stream {object})"),
                format!("Nội dung trang {page} bị thay đổi (luồng nội dung {object})"),
            ),
            F::AnnotationChanged { object, page, keys } => (
                format!("annotation {object} on page {page} changed: {keys}"),
                format!("Chú thích {object} trên trang {page} bị thay đổi: {keys}"),
            ),
            F::SignedFieldChanged { field, keys } => (
                format!("signed field {field} changed: {keys}"),
                format!("Ô chữ ký đã ký {field} bị thay đổi: {keys}"),
            ),
            F::FormFieldChanged { field, keys } => (
                format!("form field {field} changed: {keys}"),
                format!("Trường biểu mẫu {field} bị thay đổi: {keys}"),
            ),
            F::WidgetChanged {
                object,
                page,
                field,
                keys,
            } => {
                let p = page.map(|p| format!(" on page {p}")).unwrap_or_default();
                let pv = page.map(|p| format!(" trên trang {p}")).unwrap_or_default();
                (
                    format!("widget {object}{p} of field {field} changed: {keys}"),
                    format!("Vùng hiển thị {object}{pv} của trường {field} bị thay đổi: {keys}"),
                )
            }
            F::SignatureDictionaryChanged { field, keys } => (
                format!("signature dictionary of field {field} changed: {keys}"),
                format!("Từ điển chữ ký của ô {field} bị thay đổi: {keys}"),
            ),
            F::ObjectChanged { object, hint } => (
                format!("object {object} ({hint}) changed"),
                format!("Đối tượng {object} ({hint}) bị thay đổi"),
            ),
            F::CatalogUpdated { key } => (
                format!("catalog updated: {key}"),
                format!("Danh mục gốc (catalog) được cập nhật: {key}"),
            ),
            F::AcroFormAdded => (
                "catalog changed: /AcroForm added (a new interactive form)".into(),
                "Danh mục gốc bị thay đổi: thêm biểu mẫu tương tác /AcroForm".into(),
            ),
            F::AcroFormReplaced => (
                "catalog changed: /AcroForm replaced or removed".into(),
                "Danh mục gốc bị thay đổi: /AcroForm bị thay hoặc bị xoá".into(),
            ),
            F::CatalogChanged { key } => (
                format!("catalog changed: {key}"),
                format!("Danh mục gốc (catalog) bị thay đổi: {key}"),
            ),
            F::SigFlagsUpdated => (
                "catalog updated: /AcroForm /SigFlags".into(),
                "Danh mục gốc được cập nhật: /AcroForm /SigFlags".into(),
            ),
            F::AcroFormChanged { key } => (
                format!("catalog changed: /AcroForm {key}"),
                format!("Danh mục gốc bị thay đổi: /AcroForm {key}"),
            ),
            F::FieldAdded { name, object } => (
                format!(
                    "new form field '{name}'{} in /AcroForm /Fields",
                    obj_suffix(*object, false)
                ),
                format!(
                    "Thêm trường biểu mẫu mới '{name}'{}",
                    obj_suffix(*object, true)
                ),
            ),
            F::FieldRemoved { object } => (
                format!(
                    "form field{} removed from /AcroForm /Fields",
                    obj_suffix(*object, false)
                ),
                format!(
                    "Trường biểu mẫu{} bị xoá khỏi /AcroForm /Fields",
                    obj_suffix(*object, true)
                ),
            ),
            F::FieldsReordered => (
                "/AcroForm /Fields changed (reordered or replaced)".into(),
                "Danh sách trường biểu mẫu /AcroForm /Fields bị thay đổi".into(),
            ),
            F::PageContentReplaced { page, new_streams } => {
                let (en, vi) = if new_streams.is_empty() {
                    (String::new(), String::new())
                } else {
                    (
                        format!(", new stream {new_streams}"),
                        format!(", luồng mới {new_streams}"),
                    )
                };
                (
                    format!("page content changed (page {page}: /Contents replaced{en})"),
                    format!("Nội dung trang {page} bị thay đổi (/Contents bị thay{vi})"),
                )
            }
            F::PageResourcesChanged { page } => (
                format!("page resources changed (page {page})"),
                format!("Tài nguyên (phông chữ, hình ảnh) của trang {page} bị thay đổi"),
            ),
            F::PageChanged { page, key } => (
                format!("page {page} changed: {key}"),
                format!("Trang {page} bị thay đổi: {key}"),
            ),
            F::FieldWidgetAdded {
                name,
                page,
                object,
                subtype,
            } => {
                let at = object.map(|n| format!("object {n}, ")).unwrap_or_default();
                let atv = object
                    .map(|n| format!("đối tượng {n}, "))
                    .unwrap_or_default();
                (
                    format!("new form field '{name}' on page {page} ({at}widget {subtype})"),
                    format!("Thêm trường biểu mẫu mới '{name}' trên trang {page} ({atv}{subtype})"),
                )
            }
            F::AnnotationAdded {
                page,
                object,
                subtype,
            } => {
                let at = object.map(|n| format!("object {n}, ")).unwrap_or_default();
                let atv = object
                    .map(|n| format!("đối tượng {n}, "))
                    .unwrap_or_default();
                (
                    format!("annotation added to page {page} ({at}{subtype})"),
                    format!("Thêm chú thích vào trang {page} ({atv}{subtype})"),
                )
            }
            F::AnnotationRemoved { page, object } => (
                format!(
                    "annotation removed from page {page}{}",
                    obj_suffix(*object, false)
                ),
                format!(
                    "Xoá chú thích khỏi trang {page}{}",
                    obj_suffix(*object, true)
                ),
            ),
            F::AnnotationsReordered { page } => (
                format!("annotations of page {page} reordered or replaced"),
                format!("Danh sách chú thích của trang {page} bị thay đổi"),
            ),
            F::CatalogReplaced => (
                "catalog replaced: the trailer's /Root points at another object".into(),
                "Danh mục gốc (catalog) bị thay bằng đối tượng khác".into(),
            ),
            F::InfoReplaced => (
                "document information (/Info) replaced".into(),
                "Thông tin tài liệu (/Info) được thay".into(),
            ),
            F::InfoPointsAtExisting => (
                "trailer /Info points at an existing or non-text object".into(),
                "Trailer /Info trỏ tới đối tượng có sẵn hoặc không phải văn bản".into(),
            ),
            F::TrailerChanged { key } => (
                format!("trailer changed: {key}"),
                format!("Phần trailer bị thay đổi: {key}"),
            ),
            F::UpdateWithoutEof { revision } => (
                format!("revision {revision} has no %%EOF"),
                format!("Phiên bản {revision} không có dấu kết thúc %%EOF"),
            ),
            F::UpdateOverlaps { revision } => (
                format!("revision {revision} overlaps the revision before it"),
                format!("Phiên bản {revision} chồng lên phiên bản trước"),
            ),
            F::UpdateEmptyXref { revision } => (
                format!("revision {revision} has an empty cross-reference section"),
                format!("Phiên bản {revision} có bảng tham chiếu chéo rỗng"),
            ),
            F::ObjectOutsideRevision {
                object,
                offset,
                revision,
            } => (
                format!("object {object} points at byte {offset}, outside revision {revision}"),
                format!("Đối tượng {object} trỏ tới byte {offset}, nằm ngoài phiên bản {revision}"),
            ),
            F::ObjectInForeignStream {
                object,
                stream,
                revision,
            } => (
                format!(
                    "object {object} is stored in object stream {stream}, which revision \
                     {revision} does not define"
                ),
                format!(
                    "Đối tượng {object} nằm trong luồng đối tượng {stream} không thuộc phiên bản \
                     {revision}"
                ),
            ),
            F::ObjectsOverlap { revision, at } => (
                format!("objects of revision {revision} overlap at byte {at}"),
                format!("Các đối tượng của phiên bản {revision} chồng lên nhau tại byte {at}"),
            ),
            F::UnaccountedBytes {
                revision,
                at,
                count,
            } => (
                format!("{count} bytes in revision {revision} from byte {at} belong to no object"),
                format!(
                    "{count} byte trong phiên bản {revision} (từ byte {at}) không thuộc đối tượng \
                     nào"
                ),
            ),
            F::MetadataUpdated { object } => (
                format!("the XMP metadata (object {object}) was updated"),
                format!("Siêu dữ liệu XMP (đối tượng {object}) được cập nhật"),
            ),
            F::MetadataRemoved => (
                "the XMP metadata was removed from the catalog".into(),
                "Siêu dữ liệu XMP bị gỡ khỏi danh mục gốc".into(),
            ),
            F::MetadataNotXmp { object, reason } => (
                format!("object {object}, the catalog's /Metadata, is not XMP metadata: {reason}"),
                format!(
                    "Đối tượng {object} (/Metadata của danh mục gốc) không phải siêu dữ liệu XMP: \
                     {reason}"
                ),
            ),
            F::DssUpdated => (
                "validation data (certificates, CRLs, OCSP responses) was added to the document \
                 security store /DSS"
                    .into(),
                "Dữ liệu kiểm tra (chứng thư, CRL, OCSP) được thêm vào kho bảo mật /DSS".into(),
            ),
            F::DssMalformed { reason } => (
                format!(
                    "the document security store /DSS was changed in a way it may not be: {reason}"
                ),
                format!("Kho bảo mật /DSS bị thay đổi không đúng quy định: {reason}"),
            ),
            F::PermsUpdated => (
                "catalog updated: /Perms (the certification is unchanged)".into(),
                "Danh mục gốc được cập nhật: /Perms (chữ ký chứng nhận không đổi)".into(),
            ),
            F::CertificationChangedAfterSigning => (
                "catalog changed: /Perms /DocMDP was added, removed or changed after signing"
                    .into(),
                "Danh mục gốc bị thay đổi: /Perms /DocMDP bị thêm, xoá hoặc sửa sau khi ký".into(),
            ),
            F::FormResourcesAdded => (
                "resources were added to the form's default resources (/AcroForm /DR)".into(),
                "Thêm tài nguyên mặc định cho biểu mẫu (/AcroForm /DR)".into(),
            ),
            F::FormDefaultsChanged { key } => (
                format!("the form's {key} changed"),
                format!("Thuộc tính {key} của biểu mẫu thay đổi"),
            ),
            F::SignatureTimestampInvalid { problem } => {
                let (en, vi) = token_texts(problem);
                (
                    format!("the signature's time-stamp is not valid: {en}"),
                    format!("Dấu thời gian của chữ ký không hợp lệ: {vi}"),
                )
            }
            F::SignatureTimestampUntrusted { tsa } => (
                format!(
                    "the signature's time-stamp comes from \"{tsa}\", which is not trusted: its \
                     time is not used"
                ),
                format!(
                    "Dấu thời gian của chữ ký do \"{tsa}\" cấp, chưa được tin cậy: không dùng \
                     thời điểm này"
                ),
            ),
            F::DocumentTimestampInvalid { field, problem } => {
                let (en, vi) = token_texts(problem);
                (
                    format!("the document time-stamp in field '{field}' is not valid: {en}"),
                    format!("Dấu thời gian tài liệu ở ô '{field}' không hợp lệ: {vi}"),
                )
            }
            F::DocumentTimestampMalformed { field, finding } => {
                let (en, vi) = finding.texts();
                (
                    format!("the document time-stamp in field '{field}': {en}"),
                    format!("Dấu thời gian tài liệu ở ô '{field}': {vi}"),
                )
            }
            F::DocumentTimestampUntrusted { field, tsa } => (
                format!(
                    "the document time-stamp in field '{field}' comes from \"{tsa}\", which is \
                     not trusted: its time is not used"
                ),
                format!(
                    "Dấu thời gian tài liệu ở ô '{field}' do \"{tsa}\" cấp, chưa được tin cậy: \
                     không dùng thời điểm này"
                ),
            ),
            F::CheckedAtVerificationTime { at } => (
                format!(
                    "no trusted time-stamp covers this signature: its certificate was checked at \
                     the time of verification ({at})"
                ),
                format!(
                    "Chữ ký không có dấu thời gian tin cậy: chứng thư số được kiểm tra tại thời \
                     điểm xác minh ({at})"
                ),
            ),
            F::DocumentTimestampAdded { field } => (
                format!("a document time-stamp was added (field '{field}')"),
                format!("Thêm dấu thời gian cho tài liệu (ô '{field}')"),
            ),
            F::NotPermittedByCertification { change } => {
                let (en, vi) = change.texts();
                (
                    format!(
                        "{en}, which the certification (DocMDP /P 1) does not permit: it permits \
                         no change"
                    ),
                    format!(
                        "{vi}, điều mà chữ ký chứng nhận (DocMDP /P 1) không cho phép: không được \
                         thay đổi gì"
                    ),
                )
            }
        }
    }
}

// --- The sentences of a report ------------------------------------------------------------

impl SignatureReport {
    fn signer_label(&self) -> String {
        let name = self.signer.as_ref().and_then(|s| s.subject_cn.clone());
        let unit = self.signer.as_ref().and_then(|s| s.unit_name.clone());
        match (name, unit) {
            (Some(n), Some(u)) => format!("{n} ({u})"),
            (Some(n), None) => n,
            (None, Some(u)) => u,
            (None, None) => String::from("?"),
        }
    }

    /// One sentence in `lang`: the main finding for this signature.
    pub fn message(&self, lang: Lang) -> String {
        let who = self.signer_label();
        let field = &self.field;
        let unit = self.unit_id.as_deref().unwrap_or("?");
        let (en, vi) = if self.indeterminate {
            (
                format!(
                    "Field {field}: the signature uses an algorithm that is not supported; it \
                     cannot be judged (signer: {who})."
                ),
                format!(
                    "Ô {field}: Chữ ký dùng thuật toán chưa được hỗ trợ nên chưa kết luận được \
                     (người ký: {who})."
                ),
            )
        } else if !self.valid {
            (
                format!("Field {field}: the signature is not valid."),
                format!("Ô {field}: Chữ ký không hợp lệ."),
            )
        } else if !self.intact || self.modifications == ModificationLevel::Illegal {
            (
                format!("Field {field}: the document was changed after signing (signer: {who})."),
                format!("Ô {field}: Tài liệu bị thay đổi sau khi ký (người ký: {who})."),
            )
        } else if !self.field_matches_certificate && self.unit_id.is_none() {
            let printed = self.binding.printed_name.as_deref().unwrap_or("?");
            (
                format!(
                    "Field {field}: signed by {who}, who is not the leader printed under the \
                     field ({printed})."
                ),
                format!(
                    "Ô {field}: Ký bởi người không phải lãnh đạo ghi dưới ô ký (người ký: {who}; \
                     lãnh đạo ghi dưới ô ký: {printed})."
                ),
            )
        } else if !self.field_matches_certificate {
            (
                format!(
                    "Field {field}: signed by another unit (certificate of unit {unit}, signer: \
                     {who})."
                ),
                format!(
                    "Ô {field}: Chữ ký không đúng đơn vị (chứng thư của đơn vị {unit}, người ký: \
                     {who})."
                ),
            )
        } else if !self.trusted {
            (
                format!("Field {field}: the certificate is not trusted (signer: {who})."),
                format!("Ô {field}: Chứng thư không được tin cậy (người ký: {who})."),
            )
        } else {
            (
                format!("Field {field}: valid signature by {who}."),
                format!("Ô {field}: Chữ ký hợp lệ của {who}."),
            )
        };
        pick(lang, en, vi)
    }

    /// [`Self::message`] in Vietnamese.
    pub fn message_vi(&self) -> String {
        self.message(Lang::Vi)
    }

    /// [`Self::message`] in English.
    pub fn message_en(&self) -> String {
        self.message(Lang::En)
    }
}

impl PadesLevel {
    /// What the level means, in `lang`.
    pub fn text(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (PadesLevel::BB, Lang::Vi) => {
                "chưa có dấu thời gian: thời điểm ký chỉ do người ký khai"
            }
            (PadesLevel::BB, Lang::En) => {
                "no time-stamp: the signing time is only the signer's claim"
            }
            (PadesLevel::BT, Lang::Vi) => "có dấu thời gian tin cậy chứng minh thời điểm ký",
            (PadesLevel::BT, Lang::En) => "a trusted time-stamp proves when it was signed",
            (PadesLevel::BLT, Lang::Vi) => {
                "có dấu thời gian và dữ liệu kiểm tra thu hồi lưu trong tệp"
            }
            (PadesLevel::BLT, Lang::En) => "time-stamped, with the revocation data in the file",
            (PadesLevel::BLTA, Lang::Vi) => {
                "lưu trữ dài hạn: dữ liệu kiểm tra được đóng dấu thời gian tài liệu"
            }
            (PadesLevel::BLTA, Lang::En) => {
                "long-term archive: the validation data is under a document time-stamp"
            }
        }
    }
}

impl CheckedAt {
    /// What the time rests on, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let tsa = self.tsa.clone().unwrap_or_default();
        let field = self.field.clone().unwrap_or_default();
        match (self.source, lang) {
            (TimeSource::SignatureTimestamp, Lang::Vi) => {
                format!("dấu thời gian của chữ ký, do {tsa} cấp")
            }
            (TimeSource::SignatureTimestamp, Lang::En) => {
                format!("the signature's time-stamp, by {tsa}")
            }
            (TimeSource::DocumentTimestamp, Lang::Vi) => {
                format!("dấu thời gian tài liệu ở ô {field}, do {tsa} cấp")
            }
            (TimeSource::DocumentTimestamp, Lang::En) => {
                format!("the document time-stamp in field {field}, by {tsa}")
            }
            (TimeSource::VerificationTime, Lang::Vi) => {
                "thời điểm xác minh, vì không có dấu thời gian".into()
            }
            (TimeSource::VerificationTime, Lang::En) => {
                "the time of verification: no time-stamp".into()
            }
        }
    }
}

impl Verdict {
    /// The verdict as a sentence in `lang`.
    pub fn message(self, lang: Lang) -> &'static str {
        let (en, vi) = match self {
            Verdict::Valid => (
                "All signatures are valid and trusted, and the document was not changed after \
                 signing.",
                "Tất cả chữ ký hợp lệ, được tin cậy và tài liệu không bị thay đổi sau khi ký.",
            ),
            Verdict::Invalid => (
                "The document is not valid: a signature is wrong or the document was changed \
                 after signing.",
                "Tài liệu không hợp lệ: có chữ ký sai hoặc tài liệu bị thay đổi sau khi ký.",
            ),
            Verdict::NoSignatures => (
                "The document has no digital signature.",
                "Tài liệu chưa có chữ ký số.",
            ),
            Verdict::Untrusted => (
                "The signatures are intact but a certificate is not trusted (or was revoked).",
                "Chữ ký nguyên vẹn nhưng chứng thư không được tin cậy (hoặc đã bị thu hồi).",
            ),
            Verdict::Indeterminate => (
                "Nothing is wrong, but a signature uses an algorithm this verifier does not \
                 support, so it cannot be judged.",
                "Không phát hiện sai sót, nhưng có chữ ký dùng thuật toán chưa được hỗ trợ nên \
                 chưa kết luận được.",
            ),
        };
        pick(lang, en, vi)
    }

    /// [`Self::message`] in Vietnamese.
    pub fn message_vi(self) -> &'static str {
        self.message(Lang::Vi)
    }

    /// [`Self::message`] in English.
    pub fn message_en(self) -> &'static str {
        self.message(Lang::En)
    }
}

impl VerificationReport {
    /// The verdict, the signature count and the empty fields, in `lang`.
    pub fn summary(&self, lang: Lang) -> String {
        let ok = self.signatures.iter().filter(|s| s.is_acceptable()).count();
        let (n, empty) = (self.signatures.len(), self.unsigned_fields.len());
        let verdict = self.verdict.message(lang);
        pick(
            lang,
            format!(
                "{verdict} {ok}/{n} signatures acceptable; {empty} signature fields still empty."
            ),
            format!("{verdict} {ok}/{n} chữ ký đạt yêu cầu; {empty} ô chữ ký còn trống."),
        )
    }

    /// [`Self::summary`] in Vietnamese.
    pub fn summary_vi(&self) -> String {
        self.summary(Lang::Vi)
    }

    /// [`Self::summary`] in English.
    pub fn summary_en(&self) -> String {
        self.summary(Lang::En)
    }
}

/// The text of `lang` among two.
fn pick<T>(lang: Lang, en: T, vi: T) -> T {
    match lang {
        Lang::En => en,
        Lang::Vi => vi,
    }
}

fn role_texts(role: Option<&ObjectRole>) -> (String, String) {
    match role {
        Some(ObjectRole::Catalog) => (" (the catalog)".into(), " (danh mục gốc)".into()),
        Some(ObjectRole::Page { page }) => (format!(" (page {page})"), format!(" (trang {page})")),
        Some(ObjectRole::PageContent { page }) => (
            format!(" (content of page {page})"),
            format!(" (nội dung trang {page})"),
        ),
        Some(ObjectRole::Annotation { page }) => (
            format!(" (annotation on page {page})"),
            format!(" (chú thích trên trang {page})"),
        ),
        Some(ObjectRole::Field { name }) => {
            (format!(" (field {name})"), format!(" (trường {name})"))
        }
        Some(ObjectRole::Signature { field }) => (
            format!(" (signature of field {field})"),
            format!(" (chữ ký của ô {field})"),
        ),
        None => (String::new(), String::new()),
    }
}

fn permission_texts(p: u8) -> (&'static str, &'static str) {
    match p {
        1 => (
            "no change is permitted after it",
            "không được thay đổi gì sau chữ ký này",
        ),
        2 => (
            "only filling in forms and signing are permitted after it",
            "sau chữ ký này chỉ được điền biểu mẫu và ký",
        ),
        _ => (
            "filling in forms, signing and annotations are permitted after it; this verifier \
             still treats any annotation change as illegal",
            "sau chữ ký này được điền biểu mẫu, ký và thêm chú thích; trình kiểm tra này vẫn coi \
             mọi thay đổi chú thích là không hợp lệ",
        ),
    }
}

/// The texts of a time-stamp token finding (RFC 3161).
fn token_texts(p: &TokenProblem) -> (String, String) {
    match p {
        TokenProblem::Unreadable { error } => (
            format!("the token cannot be read ({error})"),
            format!("không đọc được mã dấu thời gian ({error})"),
        ),
        TokenProblem::NotTstInfo => (
            "the token does not hold a TSTInfo".into(),
            "mã dấu thời gian không chứa TSTInfo".into(),
        ),
        TokenProblem::TstInfoUnreadable { error } => (
            format!("its TSTInfo cannot be read ({error})"),
            format!("không đọc được TSTInfo ({error})"),
        ),
        TokenProblem::Cms { problem } => {
            let (en, vi) = cms_texts(problem);
            (
                format!("the token's {en}"),
                format!("mã dấu thời gian: {vi}"),
            )
        }
        TokenProblem::ContentDigestMismatch => (
            "the token was altered (its TSTInfo does not match its signed digest)".into(),
            "mã dấu thời gian đã bị sửa (TSTInfo không khớp với giá trị băm đã ký)".into(),
        ),
        TokenProblem::UnsupportedImprintHash { oid } => (
            format!("the imprint's hash algorithm {oid} is not supported"),
            format!("thuật toán băm {oid} của dấu thời gian chưa được hỗ trợ"),
        ),
        TokenProblem::ImprintMismatch => (
            "it was issued for other data than this signature".into(),
            "dấu thời gian được cấp cho dữ liệu khác, không phải chữ ký này".into(),
        ),
        TokenProblem::NotTimeStampingCertificate { subject } => (
            format!(
                "the certificate \"{subject}\" that signed it is not a time-stamping \
                 certificate (no critical extended key usage timeStamping)"
            ),
            format!(
                "chứng thư \"{subject}\" ký dấu thời gian không phải chứng thư cấp dấu thời gian \
                 (thiếu mục đích sử dụng timeStamping bắt buộc)"
            ),
        ),
        TokenProblem::Untrusted { problems } => {
            let (en, vi): (Vec<String>, Vec<String>) = problems.iter().map(chain_texts).unzip();
            (
                format!("the TSA is not trusted ({})", en.join("; ")),
                format!(
                    "đơn vị cấp dấu thời gian chưa được tin cậy ({})",
                    vi.join("; ")
                ),
            )
        }
    }
}

/// The texts of a CMS finding.
fn cms_texts(p: &CmsProblem) -> (String, String) {
    match p {
        CmsProblem::SignerCertificateMissing => (
            "CMS: the signer's certificate is not included".into(),
            "CMS: không kèm chứng thư số của người ký".into(),
        ),
        CmsProblem::UnsupportedAlgorithm { what } => (
            format!("unsupported algorithm {what}: the signature cannot be judged"),
            format!("Chưa hỗ trợ thuật toán {what}: không kết luận được về chữ ký"),
        ),
        CmsProblem::UnsupportedDigestAlgorithm { oid } => (
            format!("unsupported digest algorithm {oid}: the signature cannot be judged"),
            format!("Chưa hỗ trợ thuật toán băm {oid}: không kết luận được về chữ ký"),
        ),
        CmsProblem::MessageDigestLength => (
            "CMS: the message digest does not have the digest algorithm's length".into(),
            "CMS: giá trị băm không đúng độ dài của thuật toán băm".into(),
        ),
        CmsProblem::BadKey { reason } => (
            format!("CMS: the signer's key cannot be used: {reason}"),
            format!("CMS: không dùng được khóa của người ký: {reason}"),
        ),
        CmsProblem::BadSignature => (
            "CMS: the signature does not verify with the certificate's key".into(),
            "CMS: chữ ký không khớp với khóa công khai trong chứng thư số".into(),
        ),
        CmsProblem::Ed25519NeedsSha512 => (
            "CMS: an Ed25519 signature must use SHA-512 (RFC 8419)".into(),
            "CMS: chữ ký Ed25519 phải dùng SHA-512 (RFC 8419)".into(),
        ),
        CmsProblem::ContentTypeMismatch => (
            "CMS: content-type attribute differs from the content type".into(),
            "CMS: thuộc tính content-type khác kiểu nội dung".into(),
        ),
        CmsProblem::NotDetachedData => (
            "CMS: not a detached signature over id-data".into(),
            "CMS: không phải chữ ký tách rời trên id-data".into(),
        ),
        CmsProblem::SignedAttributesNotDer => (
            "CMS: signed attributes are not DER-encoded".into(),
            "CMS: các thuộc tính được ký không mã hóa theo DER".into(),
        ),
        CmsProblem::SigningCertificateAttributeMissing => (
            "CMS: signing-certificate-v2 attribute is missing".into(),
            "CMS: thiếu thuộc tính signing-certificate-v2".into(),
        ),
        CmsProblem::UnsupportedEssHashAlgorithm { oid } => (
            format!("CMS: signing-certificate-v2 uses unsupported hash {oid}"),
            format!("CMS: signing-certificate-v2 dùng thuật toán băm chưa hỗ trợ {oid}"),
        ),
        CmsProblem::SigningCertificateMismatch => (
            "CMS: signing-certificate-v2 names another certificate than the signer's".into(),
            "CMS: signing-certificate-v2 chỉ tới chứng thư khác chứng thư của người ký".into(),
        ),
    }
}

/// The texts of a certificate-path finding.
fn chain_texts(p: &ChainProblem) -> (String, String) {
    match p {
        ChainProblem::UnknownIssuer { subject, issuer } => (
            format!("certificate \"{subject}\": its issuer \"{issuer}\" is not known"),
            format!("Chứng thư \"{subject}\": không tìm thấy tổ chức cấp \"{issuer}\""),
        ),
        ChainProblem::BadSignature { subject } => (
            format!("certificate \"{subject}\": its issuer's signature does not verify"),
            format!("Chứng thư \"{subject}\": chữ ký của tổ chức cấp không hợp lệ"),
        ),
        ChainProblem::NotYetValid {
            subject,
            not_before,
        } => (
            format!("certificate \"{subject}\" is not valid before {not_before}"),
            format!("Chứng thư \"{subject}\" chưa có hiệu lực (từ {not_before})"),
        ),
        ChainProblem::Expired { subject, not_after } => (
            format!("certificate \"{subject}\" expired at {not_after}"),
            format!("Chứng thư \"{subject}\" đã hết hạn lúc {not_after}"),
        ),
        ChainProblem::NotACa { subject } => (
            format!("certificate \"{subject}\" issues certificates but is not a CA"),
            format!("Chứng thư \"{subject}\" cấp chứng thư khác nhưng không phải chứng thư CA"),
        ),
        ChainProblem::PathLenExceeded { subject } => (
            format!("certificate \"{subject}\": its path length constraint is exceeded"),
            format!("Chứng thư \"{subject}\": vượt giới hạn độ dài chuỗi (pathLen)"),
        ),
        ChainProblem::PathTooLong => (
            "the certificate path is too long".into(),
            "Chuỗi chứng thư quá dài".into(),
        ),
        ChainProblem::Revoked { serial_hex, at } => (
            format!("certificate {serial_hex} was revoked at {at}"),
            format!("Chứng thư số {serial_hex} đã bị thu hồi lúc {at}"),
        ),
        ChainProblem::RevokedLater { serial_hex, at } => (
            format!("certificate {serial_hex} was revoked at {at}, after the signing time"),
            format!("Chứng thư số {serial_hex} bị thu hồi lúc {at}, sau thời điểm ký"),
        ),
        ChainProblem::UnsupportedAlgorithm { subject, oid } => (
            format!("certificate \"{subject}\": algorithm {oid} is not supported"),
            format!("Chứng thư \"{subject}\": chưa hỗ trợ thuật toán {oid}"),
        ),
        ChainProblem::KeyUsageMissing { subject } => (
            format!(
                "certificate \"{subject}\" may not sign documents (keyUsage lacks \
                 digitalSignature and nonRepudiation)"
            ),
            format!(
                "Chứng thư \"{subject}\" không được dùng để ký tài liệu (keyUsage thiếu \
                 digitalSignature và nonRepudiation)"
            ),
        ),
        ChainProblem::UnsupportedCriticalExtension { subject, oid } => (
            format!(
                "certificate \"{subject}\" has a critical extension {oid} that is not supported"
            ),
            format!("Chứng thư \"{subject}\" có phần mở rộng bắt buộc {oid} chưa được hỗ trợ"),
        ),
        ChainProblem::CrlNotVerified { issuer } => (
            format!("a CRL of \"{issuer}\" was ignored: its signature does not verify"),
            format!("Bỏ qua một CRL của \"{issuer}\": chữ ký của nó không hợp lệ"),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every variant name serde knows for `T` (tagged by `tag`), read from its "unknown variant"
    /// error, so a new variant shows up here without anyone listing it.
    pub(crate) fn variant_names<T: serde::de::DeserializeOwned + std::fmt::Debug>(
        tag: &str,
    ) -> BTreeSet<String> {
        let err = serde_json::from_str::<T>(&format!("{{\"{tag}\": \"no_such_code\"}}"))
            .unwrap_err()
            .to_string();
        // "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
        let list = err
            .split("expected ")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected serde error: {err}"));
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    fn code_of<T: Serialize>(value: &T, tag: &str) -> String {
        serde_json::to_value(value).unwrap()[tag]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn cms_examples() -> Vec<CmsProblem> {
        let oid = || "1.2.3".to_owned();
        vec![
            CmsProblem::SignerCertificateMissing,
            CmsProblem::UnsupportedAlgorithm { what: oid() },
            CmsProblem::UnsupportedDigestAlgorithm { oid: oid() },
            CmsProblem::MessageDigestLength,
            CmsProblem::BadKey { reason: oid() },
            CmsProblem::BadSignature,
            CmsProblem::Ed25519NeedsSha512,
            CmsProblem::ContentTypeMismatch,
            CmsProblem::NotDetachedData,
            CmsProblem::SignedAttributesNotDer,
            CmsProblem::SigningCertificateAttributeMissing,
            CmsProblem::UnsupportedEssHashAlgorithm { oid: oid() },
            CmsProblem::SigningCertificateMismatch,
        ]
    }

    fn cms_notes() -> Vec<CmsNote> {
        vec![
            CmsNote::SigningCertificateV1,
            CmsNote::SigningTimeAttribute {
                time: "2026-01-01T00:00:00Z".into(),
            },
        ]
    }

    fn chain_examples() -> Vec<ChainProblem> {
        let s = || "Nguyễn Văn A".to_owned();
        let t = || "2021-01-22T15:30:00+07:00".to_owned();
        vec![
            ChainProblem::UnknownIssuer {
                subject: s(),
                issuer: s(),
            },
            ChainProblem::BadSignature { subject: s() },
            ChainProblem::NotYetValid {
                subject: s(),
                not_before: t(),
            },
            ChainProblem::Expired {
                subject: s(),
                not_after: t(),
            },
            ChainProblem::NotACa { subject: s() },
            ChainProblem::PathLenExceeded { subject: s() },
            ChainProblem::PathTooLong,
            ChainProblem::Revoked {
                serial_hex: "0a".into(),
                at: t(),
            },
            ChainProblem::RevokedLater {
                serial_hex: "0a".into(),
                at: t(),
            },
            ChainProblem::UnsupportedAlgorithm {
                subject: s(),
                oid: "1.2.3".into(),
            },
            ChainProblem::KeyUsageMissing { subject: s() },
            ChainProblem::UnsupportedCriticalExtension {
                subject: s(),
                oid: "1.2.3".into(),
            },
            ChainProblem::CrlNotVerified { issuer: s() },
        ]
    }

    /// One finding of every code, with plausible data.
    fn examples() -> Vec<Finding> {
        use Finding as F;
        let f = || "U07".to_owned();
        let k = || "/Rect, /F".to_owned();
        let mut all = vec![
            F::NoPdfHeader,
            F::Encrypted,
            F::HiddenSignature {
                annotation: 9,
                page: 2,
            },
            F::TrailingBytes { count: 3 },
            F::TrailingBytesChange { count: 3 },
            F::UnreadableTail {
                error: "bad xref".into(),
                startxref_at: 100,
                from: 200,
                count: 5,
            },
            F::WorkLimit { max: 5 },
            F::RevisionOutOfOrder { revision: 2 },
            F::RevisionWithoutEof { revision: 2 },
            F::StartxrefMismatch {
                revision: 2,
                found: None,
            },
            F::DuplicateXrefEntry {
                revision: 2,
                object: 4,
            },
            F::XrefOffsetImprecise { revision: 2 },
            F::TooManyFieldNodes { max: 10 },
            F::FieldTooDeep { field: f(), max: 3 },
            F::FieldReachedTwice { object: 4 },
            F::FieldsWorkLimit,
            F::PageTreeTooLarge {
                max_nodes: 1,
                max_depth: 2,
            },
            F::PageTreeLoop { object: 4 },
            F::PagesWorkLimit,
            F::ValueNotReference,
            F::SignatureDictionaryMissing { object: 4 },
            F::NotSignatureDictionary { object: 4 },
            F::SignatureDictionaryUnreadable {
                object: 4,
                error: "x".into(),
            },
            F::SignatureDictionaryNotPlain { object: 4 },
            F::TypeNotSig,
            F::FilterNotPpkLite {
                filter: "/X".into(),
            },
            F::FilterMissing,
            F::SubFilterPkcs7Detached,
            F::SubFilterUnsupported {
                sub_filter: "/X".into(),
            },
            F::SubFilterMissing,
            F::ByteRangeMalformed,
            F::ByteRangeNotFromStart,
            F::ByteRangeGapBad,
            F::ByteRangePastEnd {
                end: Some(9),
                len: 8,
            },
            F::SignatureDictionaryAfterSignedRevision {
                object: 4,
                revision: 3,
            },
            F::SignedRangeNotRevisionEnd { end: 7 },
            F::SignatureDictionaryOutsideRange,
            F::ContentsNotHex,
            F::GapNotContents {
                a: 1,
                b: 2,
                contents_from: 3,
                contents_to: 4,
            },
            F::ContentsMissing,
            F::NotSignedData { error: "x".into() },
            F::DigestMismatch,
            F::SignedBytesUnreadable,
            F::WrongUnit {
                field: f(),
                certificate_unit: None,
            },
            F::NotTrusted,
            F::NoSigningTime,
            F::SharedSignatureDictionary { object: 4 },
            F::TimeBeforePrevious,
            F::ChangedAfterSignature,
            F::PermsNotDictionary,
            F::PermsDocMdpNotReference,
            F::PermsNamesNoSignature { object: 4 },
            F::DocMdpWithoutTransform,
            F::DocMdpNotNamed,
            F::ReferenceNotArray,
            F::ReferenceTwoDocMdp,
            F::DocMdpPermissionBad,
            F::DocMdpParamsNotDictionary,
            F::Certification { p: 2 },
            F::CertificationNotFirst,
            F::CertificationBroken { p: 1 },
            F::GenerationChanged { object: 4 },
            F::ObjectFreed {
                object: 4,
                was: Some(ObjectRole::Page { page: 1 }),
            },
            F::ObjectAdded {
                object: 4,
                hint: "stream".into(),
            },
            F::RevisionWithoutSignature { revision: 3 },
            F::MoreChangesNotListed { count: 9 },
            F::ChangesNotFullyAnalysed,
            F::ObjectUnreadable {
                object: 4,
                revision: 3,
            },
            F::SignatureFieldReplaced { field: f() },
            F::SignatureFieldChanged {
                field: f(),
                keys: k(),
            },
            F::AppearanceWithoutSignature { field: f() },
            F::SignatureAdded {
                field: f(),
                signature_object: 4,
            },
            F::ValueNotNewSignature { field: f() },
            F::InfoChanged { keys: k() },
            F::InfoNotText {
                object: 4,
                keys: k(),
            },
            F::PageTreeChanged {
                object: 4,
                keys: k(),
            },
            F::ContentStreamChanged { page: 1, object: 4 },
            F::AnnotationChanged {
                object: 4,
                page: 1,
                keys: k(),
            },
            F::SignedFieldChanged {
                field: f(),
                keys: k(),
            },
            F::FormFieldChanged {
                field: f(),
                keys: k(),
            },
            F::WidgetChanged {
                object: 4,
                page: Some(1),
                field: f(),
                keys: k(),
            },
            F::SignatureDictionaryChanged {
                field: f(),
                keys: k(),
            },
            F::ObjectChanged {
                object: 4,
                hint: "array".into(),
            },
            F::CatalogUpdated {
                key: "/Version".into(),
            },
            F::AcroFormAdded,
            F::AcroFormReplaced,
            F::CatalogChanged {
                key: "/OpenAction".into(),
            },
            F::SigFlagsUpdated,
            F::AcroFormChanged { key: "/DA".into() },
            F::FieldAdded {
                name: "X".into(),
                object: Some(4),
            },
            F::FieldRemoved { object: None },
            F::FieldsReordered,
            F::PageContentReplaced {
                page: 1,
                new_streams: "81".into(),
            },
            F::PageResourcesChanged { page: 1 },
            F::PageChanged {
                page: 1,
                key: "/Rotate".into(),
            },
            F::FieldWidgetAdded {
                name: "X".into(),
                page: 1,
                object: Some(4),
                subtype: "/Widget".into(),
            },
            F::AnnotationAdded {
                page: 1,
                object: Some(4),
                subtype: "/FreeText".into(),
            },
            F::AnnotationRemoved {
                page: 1,
                object: Some(4),
            },
            F::AnnotationsReordered { page: 1 },
            F::CatalogReplaced,
            F::InfoReplaced,
            F::InfoPointsAtExisting,
            F::TrailerChanged {
                key: "/Encrypt".into(),
            },
            F::UpdateWithoutEof { revision: 3 },
            F::UpdateOverlaps { revision: 3 },
            F::UpdateEmptyXref { revision: 3 },
            F::ObjectOutsideRevision {
                object: 4,
                offset: 10,
                revision: 3,
            },
            F::ObjectInForeignStream {
                object: 4,
                stream: 5,
                revision: 3,
            },
            F::ObjectsOverlap {
                revision: 3,
                at: 10,
            },
            F::UnaccountedBytes {
                revision: 3,
                at: 10,
                count: 2,
            },
            F::NotPermittedByCertification {
                change: Box::new(F::InfoReplaced),
            },
            F::MetadataUpdated { object: 4 },
            F::MetadataRemoved,
            F::MetadataNotXmp {
                object: 4,
                reason: "x".into(),
            },
            F::DssUpdated,
            F::DssMalformed { reason: "x".into() },
            F::PermsUpdated,
            F::CertificationChangedAfterSigning,
            F::FormResourcesAdded,
            F::FormDefaultsChanged {
                key: "/NeedAppearances".into(),
            },
            F::DocumentTimestampAdded { field: f() },
            F::SignatureTimestampInvalid {
                problem: TokenProblem::ImprintMismatch,
            },
            F::SignatureTimestampUntrusted { tsa: "TSA".into() },
            F::DocumentTimestampInvalid {
                field: f(),
                problem: TokenProblem::ImprintMismatch,
            },
            F::DocumentTimestampMalformed {
                field: f(),
                finding: Box::new(F::ContentsMissing),
            },
            F::DocumentTimestampUntrusted {
                field: f(),
                tsa: "TSA".into(),
            },
            F::CheckedAtVerificationTime {
                at: "2026-12-04T09:00:00Z".into(),
            },
        ];
        all.extend(cms_examples().into_iter().map(F::Cms));
        all.extend(cms_notes().into_iter().map(F::CmsNote));
        all.extend([
            F::AlgorithmNotListedInVietnam {
                algorithm: "Ed25519".into(),
            },
            F::NotEnrolled { field: f() },
            F::NotThePrintedLeader {
                field: f(),
                printed: "Âu Thị Hải Yến".into(),
                certificate: "Người Khác".into(),
            },
            F::PrintedNameWithoutDiacritics {
                field: f(),
                printed: "Âu Thị Hải Yến".into(),
                certificate: "AU THI HAI YEN".into(),
            },
            F::PersonalCertificateInSealField { field: f() },
            F::OrganisationCertificateInLeaderField { field: f() },
            F::SealWithoutLeader {
                field: f(),
                leader_field: f(),
            },
        ]);
        all.extend(chain_examples().into_iter().map(F::Chain));
        all
    }

    fn assert_translated(what: &str, en: &str, vi: &str) {
        assert!(!en.trim().is_empty(), "{what}: no English text");
        assert!(!vi.trim().is_empty(), "{what}: no Vietnamese text");
        assert_ne!(en, vi, "{what}: the Vietnamese text is the English one");
    }

    #[test]
    fn every_finding_code_has_a_text_in_both_languages() {
        let examples = examples();
        let covered: BTreeSet<String> = examples.iter().map(|f| code_of(f, "code")).collect();
        assert_eq!(
            covered,
            variant_names::<Finding>("code"),
            "a finding code has no example here: add one (and its texts in Finding::texts)"
        );
        let cms: BTreeSet<String> = cms_examples().iter().map(|p| code_of(p, "kind")).collect();
        assert_eq!(cms, variant_names::<CmsProblem>("kind"));
        let notes: BTreeSet<String> = cms_notes().iter().map(|p| code_of(p, "kind")).collect();
        assert_eq!(notes, variant_names::<CmsNote>("kind"));
        let chain: BTreeSet<String> = chain_examples()
            .iter()
            .map(|p| code_of(p, "kind"))
            .collect();
        assert_eq!(chain, variant_names::<ChainProblem>("kind"));
        let mut seen_vi = BTreeSet::new();
        for f in &examples {
            let m = Message::from(f.clone());
            let what = serde_json::to_string(&m.finding).unwrap();
            assert_translated(&what, &m.en, &m.vi);
            assert!(
                seen_vi.insert(m.vi.clone()),
                "two codes say the same: {}",
                m.vi
            );
            // The JSON carries the code, the data and both texts, and reads back.
            let json = serde_json::to_value(&m).unwrap();
            assert!(json["code"].is_string() && json["en"] == m.en && json["vi"] == m.vi);
            let back: Message = serde_json::from_value(json).unwrap();
            assert_eq!(back, m);
        }
    }
}

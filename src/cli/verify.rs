//! `giaouoc verify`: a report per signature, in Vietnamese (default) or English, or JSON.
//!
//! Exit codes: 0 every signature valid and nothing illegal followed; 1 readable but not valid
//! (or no signature); 2 unreadable file or bad arguments.

use std::path::PathBuf;

use anyhow::anyhow;

use giaouoc::pki;
use giaouoc::verify::{
    ChangeKind, Lang as VLang, ModificationLevel, SignatureReport, Verdict, VerificationReport,
    VerifyOptions, verify_pdf,
};

use super::{CliError, CliResult, Failure, exit};

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Lang {
    Vi,
    En,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The signed PDF.
    file: PathBuf,
    /// Trust anchors: a certificate file (PEM or DER; the bloc CA, a national root) or a folder
    /// of them (*.pem, *.crt, *.cer, *.der). Repeatable.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Certificate revocation list(s) of the CA.
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// Print the report as JSON (format giaouoc.verification/2).
    #[arg(long)]
    json: bool,
    /// Language of the text report.
    #[arg(long, value_enum, default_value = "vi")]
    lang: Lang,
    /// Verify as of this time (RFC 3339), e.g. to see a signature without a time-stamp
    /// judged after a revocation [default: now].
    #[arg(long)]
    at: Option<String>,
}

pub(crate) fn run(a: Args) -> CliResult {
    let mut opts = options(&a.trust, &a.crl).map_err(|e| CliError::input(anyhow!(e)))?;
    if let Some(at) = &a.at {
        opts.at = Some(
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    CliError::input(anyhow!(
                        "--at phải theo RFC 3339, ví dụ 2027-01-01T00:00:00Z: {e}"
                    ))
                })?,
        );
    }
    let bytes = std::fs::read(&a.file)
        .map_err(|e| CliError::input(anyhow!("không đọc được {}: {e}", a.file.display())))?;
    let report = verify_pdf(&bytes, &opts)
        .map_err(|e| CliError::input(anyhow!("{}: {e}", a.file.display())))?;
    if a.json {
        let s = serde_json::to_string_pretty(&report).or_failure()?;
        println!("{s}");
    } else {
        print!("{}", text(&report, a.lang));
    }
    Ok(if report.verdict == Verdict::Valid {
        exit::OK
    } else {
        exit::NOT_VALID
    })
}

/// Reads trust roots and CRLs.
pub(crate) fn options(trust: &[PathBuf], crls: &[PathBuf]) -> Result<VerifyOptions, String> {
    let mut opts = VerifyOptions::default();
    for t in trust {
        let certs = pki::trust_anchors_from(t).map_err(|e| format!("--trust: {e}"))?;
        opts.trust_roots.extend(certs);
    }
    for c in crls {
        let bytes = std::fs::read(c).map_err(|e| format!("không đọc được {}: {e}", c.display()))?;
        opts.crls
            .push(pki::parse_crl(&bytes).map_err(|e| format!("{}: {e}", c.display()))?);
    }
    Ok(opts)
}

/// The labels of the text report, per language.
struct Labels {
    signature: &'static str,
    field: &'static str,
    signer: &'static str,
    certificate: &'static str,
    issued_by: &'static str,
    time: &'static str,
    intact: &'static str,
    valid: &'static str,
    trusted: &'static str,
    own_field: &'static str,
    algorithm: &'static str,
    binding: &'static str,
    revocation: &'static str,
    covers: &'static str,
    whole_file: &'static str,
    changes: &'static str,
    level: &'static str,
    checked_at: &'static str,
}

const VI: Labels = Labels {
    signature: "Chữ ký",
    field: "ô",
    signer: "Người ký:",
    certificate: "Chứng thư số: số hiệu",
    issued_by: "cấp bởi",
    time: "Thời gian ký (người ký khai):",
    intact: "Nguyên vẹn:",
    valid: "Hợp lệ:",
    trusted: "Tin cậy:",
    own_field: "Đúng đơn vị:",
    algorithm: "Thuật toán:",
    binding: "Gắn với ô ký:",
    revocation: "Kiểm tra thu hồi:",
    covers: "Phạm vi: phiên bản",
    whole_file: "toàn bộ tệp:",
    changes: "Thay đổi sau khi ký:",
    level: "Mức chữ ký (PAdES):",
    checked_at: "Chứng thư được kiểm tra tại:",
};

const EN: Labels = Labels {
    signature: "Signature",
    field: "field",
    signer: "Signer:",
    certificate: "Certificate: serial",
    issued_by: "issued by",
    time: "Signing time (claimed):",
    intact: "Intact:",
    valid: "Valid:",
    trusted: "Trusted:",
    own_field: "Own unit's field:",
    algorithm: "Algorithm:",
    binding: "Bound to the field:",
    revocation: "Revocation checked:",
    covers: "Covers: revision",
    whole_file: "whole file:",
    changes: "Changes after signing:",
    level: "Level (PAdES):",
    checked_at: "Certificate checked at:",
};

/// Which rule bound the signature to its field, in words.
fn binding_text(s: &SignatureReport, lang: Lang) -> String {
    use giaouoc::verify::BindingRule as R;
    let vi = matches!(lang, Lang::Vi);
    let printed = s.binding.printed_name.clone().unwrap_or_default();
    match (s.binding.rule, vi) {
        (R::UnitIdInCertificate, true) => "mã đơn vị trong chứng thư".into(),
        (R::UnitIdInCertificate, false) => "unit id in the certificate".into(),
        (R::EnrolledCertificate, true) => "chứng thư đơn vị đã đăng ký".into(),
        (R::EnrolledCertificate, false) => "certificate the unit enrolled".into(),
        (R::PrintedName, true) => format!("tên lãnh đạo ghi dưới ô ký ({printed})"),
        (R::PrintedName, false) => format!("leader's name printed under the field ({printed})"),
        (R::NotApplicable, true) => "không áp dụng (không phải ô của đơn vị)".into(),
        (R::NotApplicable, false) => "not applicable (not a unit's field)".into(),
        (R::Unbound, true) => "KHÔNG".into(),
        (R::Unbound, false) => "NO".into(),
    }
}

fn yes(b: bool, lang: Lang) -> &'static str {
    match (b, lang) {
        (true, Lang::Vi) => "có",
        (false, Lang::Vi) => "KHÔNG",
        (true, Lang::En) => "yes",
        (false, Lang::En) => "NO",
    }
}

fn signature_text(i: usize, n: usize, s: &SignatureReport, lang: Lang, out: &mut String) {
    use std::fmt::Write;
    let vi = matches!(lang, Lang::Vi);
    let signer = s.signer.as_ref();
    let name = signer
        .and_then(|c| c.subject_cn.clone())
        .unwrap_or_default();
    let title = signer.and_then(|c| c.title.clone()).unwrap_or_default();
    let unit = signer.and_then(|c| c.unit_name.clone()).unwrap_or_default();
    let serial = signer.map(|c| c.serial_hex.clone()).unwrap_or_default();
    let issuer = signer.and_then(|c| c.issuer_cn.clone()).unwrap_or_default();
    let time = s
        .signing_time
        .as_ref()
        .map(|t| t.rfc3339.clone().unwrap_or_else(|| t.as_given.clone()))
        .unwrap_or_default();
    let revision = s
        .revision
        .map(|r| r.to_string())
        .unwrap_or_else(|| "?".into());
    let mods = match (s.modifications, vi) {
        (ModificationLevel::None, true) => "không có",
        (ModificationLevel::AllowedUpdates, true) => {
            "chỉ có các chữ ký sau và các cập nhật được phép (siêu dữ liệu, dữ liệu kiểm tra, dấu thời gian)"
        }
        (ModificationLevel::AllowedUpdates, false) => {
            "only later signatures and allowed updates (metadata, validation data, time-stamps)"
        }
        (ModificationLevel::LaterSignaturesOnly, true) => {
            "chỉ có các chữ ký sau, mỗi chữ ký vào ô của mình"
        }
        (ModificationLevel::Illegal, true) => "CÓ THAY ĐỔI KHÔNG ĐƯỢC PHÉP",
        (ModificationLevel::None, false) => "none",
        (ModificationLevel::LaterSignaturesOnly, false) => {
            "only later signatures, each in its own field"
        }
        (ModificationLevel::Illegal, false) => "ILLEGAL CHANGES",
    };
    let l = if vi { &VI } else { &EN };
    let checks = format!(
        "{} {} · {} {} · {} {} · {} {}",
        l.intact,
        yes(s.intact, lang),
        l.valid,
        yes(s.valid, lang),
        l.trusted,
        yes(s.trusted, lang),
        l.own_field,
        yes(s.field_matches_certificate, lang)
    );
    let _ = writeln!(
        out,
        "{} {}/{n} — {} {}",
        l.signature,
        i + 1,
        l.field,
        s.field
    );
    let who: Vec<&str> = [name.as_str(), title.as_str(), unit.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    let _ = writeln!(out, "  {} {}", l.signer, who.join(", "));
    let algorithm = s
        .algorithm
        .map(|a| a.to_string())
        .unwrap_or_else(|| "?".into());
    let _ = writeln!(
        out,
        "  {} {algorithm} · {} {}",
        l.algorithm,
        l.binding,
        binding_text(s, lang)
    );
    let revocation = match (s.revocation.checked, vi) {
        (true, _) => format!("{} ({})", yes(true, lang), s.revocation.sources.join(", ")),
        (false, true) => "không (không có CRL của nơi cấp)".to_owned(),
        (false, false) => "no (no CRL of the issuer)".to_owned(),
    };
    let _ = writeln!(out, "  {} {revocation}", l.revocation);
    let _ = writeln!(
        out,
        "  {} {serial}, {} {issuer}",
        l.certificate, l.issued_by
    );
    let _ = writeln!(out, "  {} {time}", l.time);
    let lang_of = if vi { VLang::Vi } else { VLang::En };
    let level = s.level.map(|v| v.as_str()).unwrap_or("?");
    let meaning = s.level.map(|v| v.text(lang_of)).unwrap_or("?");
    let _ = writeln!(out, "  {} {level} — {meaning}", l.level);
    if let Some(c) = &s.checked_at {
        let _ = writeln!(out, "  {} {} ({})", l.checked_at, c.time, c.text(lang_of));
    }
    let _ = writeln!(out, "  {checks}");
    let _ = writeln!(
        out,
        "  {} {revision}; {} {}",
        l.covers,
        l.whole_file,
        yes(s.covers_whole_file, lang)
    );
    let _ = writeln!(out, "  {} {mods}", l.changes);
    for c in s.changes_after.iter().filter(|c| !c.allowed) {
        let _ = writeln!(out, "    - {}", c.text(lang_of));
    }
    // Allowed updates besides signatures (metadata, validation data, time-stamps): said.
    for c in s.changes_after.iter().filter(|c| {
        c.allowed
            && !matches!(
                c.kind,
                ChangeKind::SignatureAdded | ChangeKind::CatalogUpdated | ChangeKind::InfoUpdated
            )
    }) {
        let at = c.revision.map(|r| format!(" ({r})")).unwrap_or_default();
        let _ = writeln!(out, "    + {}{at}", c.text(lang_of));
    }
    for p in &s.problems {
        let _ = writeln!(out, "    ! {}", p.text(lang_of));
    }
    for n in &s.notes {
        let _ = writeln!(out, "    · {}", n.text(lang_of));
    }
    let _ = writeln!(
        out,
        "  => {}",
        if vi { s.message_vi() } else { s.message_en() }
    );
}

fn text(r: &VerificationReport, lang: Lang) -> String {
    use std::fmt::Write;
    let vi = matches!(lang, Lang::Vi);
    let mut out = String::new();
    let _ = if vi {
        writeln!(
            out,
            "Tệp: SHA-256 {}, {} byte, {} phiên bản, {} chữ ký",
            r.file_sha256,
            r.file_size,
            r.revisions,
            r.signatures.len()
        )
    } else {
        writeln!(
            out,
            "File: SHA-256 {}, {} bytes, {} revisions, {} signatures",
            r.file_sha256,
            r.file_size,
            r.revisions,
            r.signatures.len()
        )
    };
    let n = r.signatures.len();
    for (i, s) in r.signatures.iter().enumerate() {
        signature_text(i, n, s, lang, &mut out);
    }
    // With seals, each unit's pair of signatures (Decree 30/2020 Appendix I).
    if r.units.iter().any(|u| u.seal_field.is_some()) {
        let lang_of = if vi { VLang::Vi } else { VLang::En };
        for u in &r.units {
            let mark = if u.complete { "✓" } else { "✗" };
            let _ = writeln!(out, "{mark} {}", u.text(lang_of));
        }
    }
    for t in &r.document_timestamps {
        let time = t.time.clone().unwrap_or_else(|| "?".into());
        let tsa = t.tsa.clone().unwrap_or_default();
        let until = t.tsa_not_after.clone().unwrap_or_else(|| "?".into());
        let _ = if vi {
            writeln!(
                out,
                "Dấu thời gian tài liệu — ô {}: {time}, do {tsa} cấp (chứng thư hết hạn {until}); hợp lệ: {}, tin cậy: {}",
                t.field,
                yes(t.valid, lang),
                yes(t.trusted, lang)
            )
        } else {
            writeln!(
                out,
                "Document time-stamp — field {}: {time}, by {tsa} (certificate until {until}); valid: {}, trusted: {}",
                t.field,
                yes(t.valid, lang),
                yes(t.trusted, lang)
            )
        };
    }
    if !r.unsigned_fields.is_empty() {
        let _ = writeln!(
            out,
            "{}: {}",
            if vi {
                "Ô chữ ký còn trống"
            } else {
                "Empty signature fields"
            },
            r.unsigned_fields.join(", ")
        );
    }
    let lang_of = if vi { VLang::Vi } else { VLang::En };
    for p in &r.problems {
        let label = if vi { "Vấn đề" } else { "Problem" };
        let _ = writeln!(out, "! {label}: {}", p.text(lang_of));
    }
    for n in &r.notes {
        let label = if vi { "Ghi chú" } else { "Note" };
        let _ = writeln!(out, "· {label}: {}", n.text(lang_of));
    }
    let _ = writeln!(
        out,
        "{}: {}",
        if vi { "KẾT LUẬN" } else { "VERDICT" },
        if vi { r.summary_vi() } else { r.summary_en() }
    );
    out
}

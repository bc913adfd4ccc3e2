//! `giaouoc sign`: fill one unit's signature field with a key held on this machine.

use std::path::PathBuf;

use anyhow::{Context, Result};
use time::OffsetDateTime;

use giaouoc::pki;
use giaouoc::sign::{self, SignOptions};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The covenant PDF to sign.
    #[arg(long = "in")]
    input: PathBuf,
    /// The signature field (unit id), e.g. U07.
    #[arg(long)]
    field: String,
    /// The leader's private key (PKCS#8 PEM from `giaouoc keygen`).
    #[arg(long)]
    key: PathBuf,
    /// The leader's certificate.
    #[arg(long)]
    cert: PathBuf,
    /// The bloc CA's certificate (embedded so verifiers can build the chain).
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Output PDF.
    #[arg(long)]
    out: PathBuf,
    /// Signing time, RFC 3339 (default: now, Vietnam time).
    #[arg(long)]
    time: Option<String>,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// The signer's handwritten signature as a PNG (blue, transparent background).
    #[arg(long)]
    image: Option<PathBuf>,
}

pub(crate) fn run(a: Args) -> Result<()> {
    let pdf =
        std::fs::read(&a.input).with_context(|| format!("không đọc được {}", a.input.display()))?;
    let key = pki::signing_key_from_pem(&std::fs::read_to_string(&a.key)?)?;
    let cert = pki::certificates_from_pem_or_der(&std::fs::read(&a.cert)?)?
        .into_iter()
        .next()
        .context("tệp chứng thư trống")?;
    let chain = match &a.chain {
        Some(p) => pki::certificates_from_pem_or_der(&std::fs::read(p)?)?,
        None => Vec::new(),
    };
    let vn = time::UtcOffset::from_hms(7, 0, 0)?;
    let time = match &a.time {
        Some(t) => OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .context("--time phải theo RFC 3339, ví dụ 2021-01-22T15:30:45+07:00")?,
        None => OffsetDateTime::now_utc().to_offset(vn),
    };
    let image = match &a.image {
        Some(p) => Some(sign::SignatureImage::from_png(
            &std::fs::read(p).with_context(|| format!("không đọc được {}", p.display()))?,
        )?),
        None => None,
    };
    let opts = SignOptions {
        image,
        field: a.field.clone(),
        time,
        reason: a.reason.map(|r| giaouoc::covenant::nfc(&r)),
        location: a.location.map(|l| giaouoc::covenant::nfc(&l)),
    };
    // Refuse to add a revision to a file whose existing signatures do not hold: signing it
    // would lend it credibility.
    let check = giaouoc::verify::VerifyOptions {
        trust_roots: chain.clone(),
        ..Default::default()
    };
    match giaouoc::verify::verify_pdf(&pdf, &check) {
        Ok(report) => {
            let broken: Vec<String> = report
                .signatures
                .iter()
                .filter(|s| {
                    !s.intact
                        || !s.valid
                        || !s.field_matches_certificate
                        || s.modifications == giaouoc::verify::ModificationLevel::Illegal
                })
                .map(|s| s.message_vi())
                .collect();
            if !broken.is_empty() || !report.problems.is_empty() {
                anyhow::bail!(
                    "tài liệu có chữ ký không hợp lệ hoặc đã bị sửa; không ký thêm:\n  {}",
                    broken
                        .into_iter()
                        .chain(report.problems.into_iter().map(|m| m.vi))
                        .collect::<Vec<_>>()
                        .join("\n  ")
                );
            }
        }
        Err(e) => anyhow::bail!("không đọc được {}: {e}", a.input.display()),
    }
    let signed = sign::sign_with_key(&pdf, &key, &cert, &chain, &opts)?;
    super::write_atomic(&[(a.out.as_path(), signed.as_slice())]).map_err(anyhow::Error::msg)?;
    println!("Đã ký trường {} → {}", a.field, a.out.display());
    Ok(())
}

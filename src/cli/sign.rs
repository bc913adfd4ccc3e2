//! `giaouoc sign`: fill one unit's signature field with a key held on this machine (a key file
//! or a PKCS#11 token).

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
    #[command(flatten)]
    signer: super::signer::SignerArgs,
    /// The leader's certificate (default with --pkcs11: the token's certificate of the key).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// The issuing CA's certificates (the bloc CA, or another CA's intermediates), embedded so
    /// verifiers can build the chain; also trusted for the check of earlier signatures.
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
    /// For a seal field (`U05-dau`): the organisation's seal as a PNG (red, transparent
    /// background), drawn at real size over the leader's signature (Decree 30/2020, ô 8).
    #[arg(long)]
    seal_image: Option<PathBuf>,
    /// The seal's size across in millimetres, when the PNG does not say it (`pHYs`).
    #[arg(long)]
    seal_mm: Option<f32>,
    /// An RFC 3161 time-stamping authority (`http(s)://[user:password@]host/path`): the
    /// signature gets its time-stamp (PAdES B-T).
    #[arg(long, env = "GIAOUOC_TSA_URL")]
    tsa_url: Option<String>,
    /// The TSA's root certificate(s), to check its token with (repeatable; without it the
    /// token is checked but its TSA is not).
    #[arg(long)]
    tsa_trust: Vec<PathBuf>,
}

pub(crate) fn run(a: Args) -> Result<()> {
    let pdf =
        std::fs::read(&a.input).with_context(|| format!("không đọc được {}", a.input.display()))?;
    let signer = super::signer::LocalSigner::open(&a.signer)?;
    let cert = match (&a.cert, signer.token_certificate()) {
        (Some(p), _) => pki::certificates_from_pem_or_der(&std::fs::read(p)?)?
            .into_iter()
            .next()
            .context("tệp chứng thư trống")?,
        (None, Some(c)) => c.clone(),
        (None, None) => anyhow::bail!("cần --cert (chứng thư số của người ký)"),
    };
    signer.check_matches(&cert)?;
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
    let seal = match &a.seal_image {
        Some(p) => Some(sign::SealImage::from_png(
            &std::fs::read(p).with_context(|| format!("không đọc được {}", p.display()))?,
            a.seal_mm,
        )?),
        None => None,
    };
    let opts = SignOptions {
        image,
        seal,
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
    let prepared = sign::prepare(&pdf, &cert, &opts)?;
    let signature = signer.sign(&cert, &prepared.signed_attributes)?;
    let mut cms = prepared.signed_data(&signature, &cert, &chain)?;
    if let Some(url) = &a.tsa_url {
        cms = time_stamp(url, &a.tsa_trust, &cms)?;
    }
    let signed = prepared.embed_cms(&pdf, &cms)?;
    super::write_atomic(&[(a.out.as_path(), signed.as_slice())]).map_err(anyhow::Error::msg)?;
    println!("Đã ký trường {} → {}", a.field, a.out.display());
    Ok(())
}

/// `cms` with a signature time-stamp from the TSA at `url`, its token checked against `roots`.
fn time_stamp(url: &str, roots: &[PathBuf], cms: &[u8]) -> Result<Vec<u8>> {
    use rand_core::RngCore;
    let mut trusted = Vec::new();
    for p in roots {
        trusted.extend(
            pki::certificates_from_pem_or_der(
                &std::fs::read(p).with_context(|| format!("không đọc được {}", p.display()))?,
            )
            .with_context(|| format!("{} không chứa chứng thư", p.display()))?,
        );
    }
    let mut tsa = giaouoc::tsp::RemoteTsa::new(url);
    if trusted.is_empty() {
        tsa.require_trusted = false;
        eprintln!(
            "Lưu ý: không có --tsa-trust nên chưa kiểm tra được đơn vị cấp dấu thời gian có đáng tin cậy không"
        );
    }
    let mut nonce = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut nonce);
    let checks = pki::SignatureChecks::default();
    let trust = giaouoc::tsp::TokenTrust {
        roots: &trusted,
        certificates: &[],
        crls: &[],
        ocsps: &[],
        checks: &checks,
    };
    let value = sign::signature_value(cms)?;
    let token = tsa
        .stamp(pki::alg::HashAlg::Sha256, &value, &nonce, &trust)
        .context("không lấy được dấu thời gian")?;
    Ok(sign::add_signature_timestamp(cms, &token)?)
}

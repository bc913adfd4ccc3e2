//! `giaouoc ca init|issue|revoke` and `giaouoc keygen`: the bloc's CA and the leaders' keys.
//!
//! The CA folder holds `ca.key` (PKCS#8 PEM, mode 0600), `ca.crt`, `state.json` (next serial,
//! revocations) and `ca.crl`. A leader's key is made on the leader's machine; only the public
//! key or a CSR goes to the CA.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use giaouoc::ca::BlocCa;
use giaouoc::pki;

/// The kind of a new key.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    /// Ed25519 (RFC 8032).
    #[default]
    Ed25519,
    /// ECDSA on P-256 with SHA-256: the curve Acrobat and Circular 15/2025 list.
    P256,
}

impl From<KeyAlg> for giaouoc::ca::CaKeyKind {
    fn from(alg: KeyAlg) -> Self {
        match alg {
            KeyAlg::Ed25519 => giaouoc::ca::CaKeyKind::Ed25519,
            KeyAlg::P256 => giaouoc::ca::CaKeyKind::P256,
        }
    }
}

fn new_key(alg: KeyAlg) -> pki::IssuerKey {
    giaouoc::ca::CaKeyKind::from(alg).generate(&mut rand_core::OsRng)
}

/// A public key file (`PUBLIC KEY` PEM, RFC 7468 §13) of either kind.
fn public_key_from_pem(text: &str) -> Result<spki::SubjectPublicKeyInfoOwned> {
    use der::DecodePem;
    spki::SubjectPublicKeyInfoOwned::from_pem(text.trim())
        .context("tệp khóa công khai không hợp lệ (cần PEM \"PUBLIC KEY\")")
}

#[derive(clap::Subcommand)]
pub(crate) enum CaCommand {
    /// Create the bloc's CA: a key (Ed25519, or ECDSA P-256 with --alg p256) and a self-signed
    /// certificate.
    Init {
        /// Folder for the CA files (created; must not already hold a CA).
        #[arg(long)]
        dir: PathBuf,
        /// The CA's key: ed25519, or p256 for certificates Acrobat and other tools check.
        #[arg(long, value_enum, default_value_t = KeyAlg::Ed25519)]
        alg: KeyAlg,
        /// The bloc's name (the CA's CN), e.g. "Khối thi đua ...".
        #[arg(long)]
        name: String,
        /// Validity in days.
        #[arg(long, default_value_t = 3650)]
        days: i64,
    },
    /// Issue a leader's certificate for a public key or a CSR.
    Issue {
        #[arg(long)]
        dir: PathBuf,
        /// The leader's public key (PREFIX.pub from `giaouoc keygen`).
        #[arg(long, conflicts_with = "csr", required_unless_present = "csr")]
        r#pub: Option<PathBuf>,
        /// A certificate request (proof of possession of the key).
        #[arg(long)]
        csr: Option<PathBuf>,
        /// Full name, e.g. "Âu Thị Hải Yến".
        #[arg(long)]
        name: String,
        /// Position, e.g. "Phó Giám đốc".
        #[arg(long)]
        title: String,
        /// Unit name.
        #[arg(long)]
        unit: String,
        /// Unit id (the signature field it may sign), e.g. U07.
        #[arg(long)]
        unit_id: String,
        /// Output certificate (PEM).
        #[arg(long)]
        out: PathBuf,
        /// Validity in days.
        #[arg(long, default_value_t = 730)]
        days: i64,
    },
    /// Revoke a certificate by serial (hex) and write a new CRL (ca.crl).
    Revoke {
        #[arg(long)]
        dir: PathBuf,
        /// Serial number, hex as shown by `giaouoc verify`.
        #[arg(long)]
        serial: String,
    },
}

#[derive(clap::Args)]
pub(crate) struct KeygenArgs {
    /// Writes PREFIX.key (private, 0600) and PREFIX.pub.
    #[arg(long)]
    out: PathBuf,
    /// The key: ed25519, or p256 (ECDSA P-256).
    #[arg(long, value_enum, default_value_t = KeyAlg::Ed25519)]
    alg: KeyAlg,
    /// Also write PREFIX.csr with this full name (needs --title, --unit, --unit-id).
    #[arg(long, requires_all = ["title", "unit", "unit_id"])]
    name: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    unit: Option<String>,
    #[arg(long)]
    unit_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CaState {
    next_serial: u64,
    crl_number: u64,
    revoked: Vec<(u64, String)>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn write_secret(path: &Path, text: &str) -> Result<()> {
    giaouoc::ca::write_secret(path, text.as_bytes())
        .with_context(|| format!("không tạo được {} (tệp đã tồn tại?)", path.display()))
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    super::write_atomic(&[(path, text.as_bytes())]).map_err(anyhow::Error::msg)
}

fn load_ca(dir: &Path) -> Result<(BlocCa, CaState)> {
    let ca = BlocCa::open_with(dir, giaouoc::secrets::MasterKey::from_env()?.as_ref())?;
    let state: CaState = serde_json::from_slice(&std::fs::read(dir.join("state.json"))?)?;
    Ok((ca, state))
}

fn save_state(dir: &Path, state: &CaState) -> Result<()> {
    write_new(
        &dir.join("state.json"),
        &serde_json::to_string_pretty(state)?,
    )
}

pub(crate) fn ca(cmd: CaCommand) -> Result<()> {
    match cmd {
        CaCommand::Init {
            dir,
            alg,
            name,
            days,
        } => {
            let key = new_key(alg);
            let start = now();
            let ca = BlocCa::create(key, &name, start, start + time::Duration::days(days))?;
            ca.write_new_with(&dir, giaouoc::secrets::MasterKey::from_env()?.as_ref())?;
            save_state(
                &dir,
                &CaState {
                    next_serial: 2,
                    crl_number: 0,
                    revoked: Vec::new(),
                },
            )?;
            println!("Đã tạo CA: {}/ca.crt", dir.display());
            Ok(())
        }
        CaCommand::Issue {
            dir,
            r#pub,
            csr,
            name,
            title,
            unit,
            unit_id,
            out,
            days,
        } => {
            let (ca, mut state) = load_ca(&dir)?;
            let public_key = match (&r#pub, &csr) {
                (Some(p), _) => public_key_from_pem(&std::fs::read_to_string(p)?)?,
                (None, Some(c)) => {
                    let text = std::fs::read_to_string(c)?;
                    let der = pki::csr_pem_to_der(&text)?;
                    pki::verify_csr_any(&der)?.0
                }
                (None, None) => bail!("cần --pub hoặc --csr"),
            };
            if !giaouoc::covenant::valid_unit_id(&unit_id) {
                bail!("mã đơn vị \"{unit_id}\" không hợp lệ");
            }
            let subject = pki::LeaderSubject {
                full_name: giaouoc::covenant::nfc(&name),
                title: giaouoc::covenant::nfc(&title),
                unit_name: giaouoc::covenant::nfc(&unit),
                unit_id,
            };
            let start = now();
            let serial = state.next_serial;
            let cert = ca.issue_spki(
                &public_key,
                &subject,
                serial,
                start,
                start + time::Duration::days(days),
            )?;
            write_new(&out, &pki::certificate_to_pem(&cert)?)?;
            state.next_serial += 1;
            save_state(&dir, &state)?;
            println!(
                "Đã cấp chứng thư số {} cho {} ({}): {}",
                pki::cert_info(&cert).serial_hex,
                subject.full_name,
                subject.unit_id,
                out.display()
            );
            Ok(())
        }
        CaCommand::Revoke { dir, serial } => {
            let (ca, mut state) = load_ca(&dir)?;
            let serial = u64::from_str_radix(serial.trim_start_matches("0x"), 16)
                .context("số hiệu chứng thư phải là hệ 16")?;
            let at = now();
            if !state.revoked.iter().any(|(s, _)| *s == serial) {
                state.revoked.push((
                    serial,
                    at.format(&time::format_description::well_known::Rfc3339)?,
                ));
            }
            let mut list = Vec::new();
            for (s, t) in &state.revoked {
                list.push((
                    *s,
                    OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)?,
                ));
            }
            state.crl_number += 1;
            let crl = ca.crl(&list, at, at + time::Duration::days(30), state.crl_number)?;
            write_new(&dir.join("ca.crl"), &pki::crl_der_to_pem(&crl)?)?;
            save_state(&dir, &state)?;
            println!("Đã thu hồi {serial:x}; CRL: {}/ca.crl", dir.display());
            Ok(())
        }
    }
}

pub(crate) fn keygen(a: KeygenArgs) -> Result<()> {
    let key_path = with_ext(&a.out, "key");
    let pub_path = with_ext(&a.out, "pub");
    if key_path.exists() {
        bail!("{} đã tồn tại; không ghi đè khóa", key_path.display());
    }
    let key = new_key(a.alg);
    write_secret(&key_path, &key.to_pem()?)?;
    {
        use der::EncodePem;
        write_new(&pub_path, &key.spki()?.to_pem(der::pem::LineEnding::LF)?)?;
    }
    if let (Some(name), Some(title), Some(unit), Some(unit_id)) =
        (a.name, a.title, a.unit, a.unit_id)
    {
        let subject = pki::LeaderSubject {
            full_name: giaouoc::covenant::nfc(&name),
            title: giaouoc::covenant::nfc(&title),
            unit_name: giaouoc::covenant::nfc(&unit),
            unit_id,
        };
        let csr = pki::create_csr_with(&key, &subject)?;
        write_new(&with_ext(&a.out, "csr"), &pki::csr_der_to_pem(&csr)?)?;
    }
    println!(
        "Đã tạo khóa: {} (giữ bí mật) và {}",
        key_path.display(),
        pub_path.display()
    );
    Ok(())
}

fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

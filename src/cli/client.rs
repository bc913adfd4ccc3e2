//! `giaouoc client`: a leader without a browser signs against the service from the command
//! line. The private key stays here: the service prepares the revision and returns the DER
//! signed attributes; this command signs them and sends back only the 64-byte signature.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use giaouoc::pki;

use super::{CliError, CliResult, Failure};

/// `bail!` for [`CliResult`]: a refusal or bad input (exit 2).
macro_rules! bail {
    ($($t:tt)*) => {
        return Err(CliError::input(anyhow::anyhow!($($t)*)))
    };
}

#[derive(clap::Subcommand)]
pub(crate) enum ClientCommand {
    /// Sign a unit's field on the server: prepare, sign here, complete; prepares again when
    /// someone else signed first (HTTP 409).
    Sign {
        /// Service URL, e.g. http://127.0.0.1:8080
        #[arg(long, env = "GIAOUOC_SERVER")]
        server: String,
        /// Covenant id, e.g. KTD-VHXH-QN-2021.
        #[arg(long)]
        covenant: String,
        /// The signature field: the unit (its leader), e.g. U07, or its seal, U07-dau.
        #[arg(long)]
        unit: String,
        #[command(flatten)]
        signer: super::signer::SignerArgs,
        /// The leader's certificate, then any intermediates (default: the token's certificate
        /// with --pkcs11, else the unit's certificate on the server).
        #[arg(long)]
        cert: Option<PathBuf>,
        /// The unit's access token.
        #[arg(long, env = "GIAOUOC_TOKEN")]
        token: Option<String>,
    },
    /// Send a covenant signed with another tool (vSignPDF, Acrobat, Foxit...) for the unit:
    /// accepted when it adds exactly one valid signature of the unit to the current revision.
    Upload {
        /// Service URL, e.g. http://127.0.0.1:8080
        #[arg(long, env = "GIAOUOC_SERVER")]
        server: String,
        /// Covenant id, e.g. KTD-VHXH-QN-2021.
        #[arg(long)]
        covenant: String,
        /// The signature field: the unit (its leader), e.g. U07, or its seal, U07-dau.
        #[arg(long)]
        unit: String,
        /// The signed PDF.
        #[arg(long)]
        file: PathBuf,
        /// The unit leader's access token.
        #[arg(long, env = "GIAOUOC_TOKEN")]
        token: Option<String>,
    },
    Download {
        #[arg(long, env = "GIAOUOC_SERVER")]
        server: String,
        #[arg(long)]
        covenant: String,
        /// pdf or docx.
        #[arg(long, default_value = "pdf")]
        format: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, env = "GIAOUOC_TOKEN")]
        token: Option<String>,
    },
}

#[derive(Deserialize)]
struct Prepared {
    prepare_id: String,
    base_revision_sha256: String,
    to_sign: String,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim_end_matches('/'))
}

fn auth(token: &Option<String>) -> Option<String> {
    token.as_ref().map(|t| format!("Bearer {t}"))
}

fn error_text(status: u16, body: &str) -> String {
    match serde_json::from_str::<ApiErrorBody>(body) {
        Ok(e) if !e.message.is_empty() => format!("HTTP {status} ({}): {}", e.error, e.message),
        _ => format!(
            "HTTP {status}: {}",
            body.chars().take(300).collect::<String>()
        ),
    }
}

pub(crate) fn run(cmd: ClientCommand) -> CliResult<()> {
    match cmd {
        ClientCommand::Sign {
            server,
            covenant,
            unit,
            signer,
            cert,
            token,
        } => sign(&server, &covenant, &unit, &signer, cert.as_ref(), &token),
        ClientCommand::Upload {
            server,
            covenant,
            unit,
            file,
            token,
        } => upload(&server, &covenant, &unit, &file, &token),
        ClientCommand::Download {
            server,
            covenant,
            format,
            out,
            token,
        } => {
            if format != "pdf" && format != "docx" {
                bail!("--format phải là pdf hoặc docx");
            }
            let agent = agent();
            let mut req = agent.get(url(
                &server,
                &format!("/covenants/{covenant}/document.{format}"),
            ));
            if let Some(a) = auth(&token) {
                req = req.header("Authorization", a);
            }
            let mut resp = req
                .call()
                .context("không kết nối được máy chủ")
                .or_failure()?;
            let status = resp.status().as_u16();
            let body = resp
                .body_mut()
                .with_config()
                .limit(256 * 1024 * 1024)
                .read_to_vec()
                .or_failure()?;
            if status != 200 {
                bail!("{}", error_text(status, &String::from_utf8_lossy(&body)));
            }
            super::write_atomic(&[(out.as_path(), body.as_slice())])
                .map_err(anyhow::Error::msg)
                .or_failure()?;
            println!("Đã tải {} ({} byte)", out.display(), body.len());
            Ok(())
        }
    }
}

/// POSTs `body` as JSON with the token; the status and the answer's text.
fn post_json(
    agent: &ureq::Agent,
    url: &str,
    token: &Option<String>,
    body: &serde_json::Value,
) -> CliResult<(u16, String)> {
    let mut req = agent.post(url);
    if let Some(a) = auth(token) {
        req = req.header("Authorization", a);
    }
    let mut resp = req
        .send_json(body)
        .context("không kết nối được máy chủ")
        .or_failure()?;
    let status = resp.status().as_u16();
    Ok((status, resp.body_mut().read_to_string().or_failure()?))
}

fn sign(
    server: &str,
    covenant: &str,
    unit: &str,
    signer_args: &super::signer::SignerArgs,
    cert_path: Option<&PathBuf>,
    token: &Option<String>,
) -> CliResult<()> {
    let signer = super::signer::LocalSigner::open(signer_args).or_failure()?;
    // The certificate (and intermediates) sent to the server, and the one to sign for.
    let (cert_pem, cert) = match (cert_path, signer.token_certificate()) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)?;
            let cert = pki::certificates_from_pem_or_der(text.as_bytes())?
                .into_iter()
                .next()
                .context("tệp chứng thư trống")?;
            (Some(text), Some(cert))
        }
        (None, Some(c)) => (Some(pki::certificate_to_pem(c)?), Some(c.clone())),
        (None, None) => (None, None),
    };
    if let Some(c) = &cert {
        signer.check_matches(c).map_err(CliError::input)?;
    }
    let agent = agent();
    let base = format!("/covenants/{covenant}/signatures/{unit}");
    for attempt in 1..=20u32 {
        let body = serde_json::json!({ "certificate_pem": cert_pem });
        let (status, text) = post_json(
            &agent,
            &url(server, &format!("{base}/prepare")),
            token,
            &body,
        )?;
        if status != 200 && status != 201 {
            bail!("chuẩn bị chữ ký thất bại: {}", error_text(status, &text));
        }
        let prepared: Prepared = serde_json::from_str(&text).context("phản hồi không hợp lệ")?;
        let to_sign = B64.decode(prepared.to_sign.as_bytes())?;
        let signer_cert = match &cert {
            Some(c) => c.clone(),
            None => unit_certificate(&agent, server, covenant, unit, token)?,
        };
        let signature = signer
            .sign(&signer_cert, &to_sign)
            .map_err(CliError::input)?;
        let body = serde_json::json!({
            "prepare_id": prepared.prepare_id,
            "signature": B64.encode(signature),
        });
        let (status, text) = post_json(
            &agent,
            &url(server, &format!("{base}/complete")),
            token,
            &body,
        )?;
        match status {
            200 | 201 => {
                println!(
                    "Đã ký ô {unit} (trên phiên bản {}): {}",
                    prepared
                        .base_revision_sha256
                        .chars()
                        .take(12)
                        .collect::<String>(),
                    text
                );
                return Ok(());
            }
            409 => {
                eprintln!("Có đơn vị khác vừa ký trước (lần {attempt}); chuẩn bị lại...");
                std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
            }
            _ => bail!("hoàn tất chữ ký thất bại: {}", error_text(status, &text)),
        }
    }
    bail!("không ký được sau 20 lần thử: tài liệu liên tục thay đổi")
}

/// The unit's current certificate as the server publishes it (`GET
/// /blocs/{bloc}/certificates/{unit}`, the bloc read from the covenant).
fn unit_certificate(
    agent: &ureq::Agent,
    server: &str,
    covenant: &str,
    unit: &str,
    token: &Option<String>,
) -> CliResult<x509_cert::Certificate> {
    let get = |path: String, token: &Option<String>| -> CliResult<serde_json::Value> {
        let mut req = agent.get(url(server, &path));
        if let Some(a) = auth(token) {
            req = req.header("Authorization", a);
        }
        let mut resp = req
            .call()
            .context("không kết nối được máy chủ")
            .or_failure()?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().or_failure()?;
        if status != 200 {
            bail!(
                "không lấy được chứng thư số của đơn vị: {}",
                error_text(status, &text)
            );
        }
        Ok(serde_json::from_str(&text).context("phản hồi không hợp lệ")?)
    };
    let c = get(format!("/covenants/{covenant}"), token)?;
    let bloc = c
        .get("bloc_id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let v = get(format!("/blocs/{bloc}/certificates/{unit}"), &None)?;
    let pem = v
        .get("certificate_pem")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    Ok(pki::certificates_from_pem_or_der(pem.as_bytes())?
        .into_iter()
        .next()
        .context("máy chủ không gửi chứng thư số")?)
}

/// `POST …/upload` with the file; prints the answer.
fn upload(
    server: &str,
    covenant: &str,
    unit: &str,
    file: &PathBuf,
    token: &Option<String>,
) -> CliResult<()> {
    let pdf = std::fs::read(file)
        .with_context(|| format!("không đọc được {}", file.display()))
        .map_err(CliError::input)?;
    let mut req = agent()
        .post(url(
            server,
            &format!("/covenants/{covenant}/signatures/{unit}/upload"),
        ))
        .header("Content-Type", "application/pdf");
    if let Some(a) = auth(token) {
        req = req.header("Authorization", a);
    }
    let mut resp = req
        .send(&pdf[..])
        .context("không kết nối được máy chủ")
        .or_failure()?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().or_failure()?;
    if status != 200 {
        bail!(
            "máy chủ không nhận bản đã ký: {}",
            error_text(status, &text)
        );
    }
    println!("Đã nhận bản đã ký của {unit}: {text}");
    Ok(())
}

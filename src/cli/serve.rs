//! `giaouoc serve`: the HTTP service. Settings come from flags, the environment
//! (`GIAOUOC_ADDR`, `GIAOUOC_DATA_DIR`, `GIAOUOC_DEMO`, `GIAOUOC_MAX_UPLOAD_MB`,
//! `GIAOUOC_ADMIN_TOKEN`, `GIAOUOC_TRUST_DIR`, `GIAOUOC_PREPARE_TTL_MINUTES`, `GIAOUOC_CA_ALG`,
//! `GIAOUOC_TSA_URL`, `GIAOUOC_TSA_POLICY`, `GIAOUOC_DATABASE_URL`, `GIAOUOC_BLOB_STORE`,
//! `GIAOUOC_S3_*`) or a TOML file (`--config`, `GIAOUOC_CONFIG`) with the same keys (`addr`,
//! `data_dir`, `demo`, `max_upload_mb`, `trust_dir`, `prepare_ttl_minutes`, `ca_alg`,
//! `tsa_url`, `tsa_policy`, `database_url`, `blob_store`), in that order
//! of precedence; logs go to stderr (`RUST_LOG`, default `info`).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{CliError, CliResult, Failure};
use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use giaouoc::http::{self, AppState, Options};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// A TOML settings file (keys: addr, data_dir, demo, max_upload_mb, trust_dir,
    /// prepare_ttl_minutes).
    #[arg(long, env = "GIAOUOC_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GIAOUOC_ADDR")]
    addr: Option<SocketAddr>,
    /// Folder of the database, the documents and the bloc CAs, created if needed
    /// [default: ./data].
    #[arg(long, env = "GIAOUOC_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// On an empty store: load the reference covenant (Quảng Ninh 2021) ready to sign, with
    /// 16 demo leaders' keys under <data-dir>/demo-keys/.
    #[arg(long, env = "GIAOUOC_DEMO")]
    demo: bool,
    /// Largest upload accepted by POST /verify, in MB [default: 50].
    #[arg(long, env = "GIAOUOC_MAX_UPLOAD_MB")]
    max_upload_mb: Option<usize>,
    /// Admin token to accept (else one is generated on the first start and printed once).
    #[arg(long, env = "GIAOUOC_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Trust anchors besides the bloc CAs: a folder of root certificates (*.pem, *.crt, *.cer,
    /// *.der), e.g. the national root CA and the government CA's roots.
    #[arg(long, env = "GIAOUOC_TRUST_DIR")]
    trust_dir: Option<PathBuf>,
    /// How long a prepared signature can be completed, in minutes (a remote signing service
    /// waits for the leader's confirmation in a phone app) [default: 60].
    #[arg(long, env = "GIAOUOC_PREPARE_TTL_MINUTES", value_parser = clap::value_parser!(u32).range(1..=1440))]
    prepare_ttl_minutes: Option<u32>,
    /// The key of a new bloc's CA and the certificates it signs: ed25519, or p256 (ECDSA
    /// P-256, which Acrobat and Circular 15/2025 accept) [default: ed25519].
    #[arg(long, env = "GIAOUOC_CA_ALG", value_enum)]
    ca_alg: Option<super::keys::KeyAlg>,
    /// An external RFC 3161 time-stamping authority for the signatures' time-stamps
    /// (`http(s)://[user:password@]host/path`, e.g. a licensed provider's); its root must be
    /// among the trust anchors (--trust-dir). Default: the built-in TSA (`POST /tsa`).
    #[arg(long, env = "GIAOUOC_TSA_URL")]
    tsa_url: Option<String>,
    /// The built-in TSA's policy OID [default: 2.25.3161.1, no published policy].
    #[arg(long, env = "GIAOUOC_TSA_POLICY")]
    tsa_policy: Option<String>,
    /// The address users and verifiers reach the service at; new certificates name the
    /// bloc's CRL (<url>/blocs/<bloc>/ca.crl) and OCSP responder (<url>/blocs/<bloc>/ocsp)
    /// under it [default: http://<addr>].
    #[arg(long, env = "GIAOUOC_PUBLIC_URL")]
    public_url: Option<String>,
    /// Once a day, renew the long-term validation of archived covenants whose newest
    /// time-stamp's certificate ends within this many days (as `giaouoc archive renew`)
    /// [default: 365].
    #[arg(long, env = "GIAOUOC_RENEW_MARGIN_DAYS")]
    renew_margin_days: Option<u32>,
    #[command(flatten)]
    storage: super::storage::StorageArgs,
}

/// The settings file.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    addr: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    demo: Option<bool>,
    max_upload_mb: Option<usize>,
    trust_dir: Option<PathBuf>,
    prepare_ttl_minutes: Option<u32>,
    ca_alg: Option<giaouoc::ca::CaKeyKind>,
    tsa_url: Option<String>,
    tsa_policy: Option<String>,
    public_url: Option<String>,
    renew_margin_days: Option<u32>,
    database_url: Option<String>,
    blob_store: Option<String>,
}

/// Settings after flags, environment, file and defaults.
struct Settings {
    addr: SocketAddr,
    data_dir: PathBuf,
    demo: bool,
    max_upload_mb: usize,
    admin_token: Option<String>,
    trust_dir: Option<PathBuf>,
    prepare_ttl_minutes: u32,
    ca_alg: giaouoc::ca::CaKeyKind,
    tsa_url: Option<String>,
    tsa_policy: der::asn1::ObjectIdentifier,
    public_url: Option<String>,
    renew_margin_days: u32,
    database: giaouoc::store::DatabaseLocation,
    blob_store: giaouoc::store::BlobLocation,
}

fn settings(a: Args) -> Result<Settings> {
    let file = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("không đọc được tệp cấu hình {}", p.display()))?;
            toml::from_str::<FileSettings>(&text)
                .with_context(|| format!("tệp cấu hình {} không hợp lệ", p.display()))?
        }
        None => FileSettings::default(),
    };
    Ok(Settings {
        addr: a
            .addr
            .or(file.addr)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
        data_dir: a
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data")),
        demo: a.demo || file.demo.unwrap_or(false),
        max_upload_mb: a.max_upload_mb.or(file.max_upload_mb).unwrap_or(50),
        admin_token: a.admin_token,
        trust_dir: a.trust_dir.or(file.trust_dir),
        prepare_ttl_minutes: a
            .prepare_ttl_minutes
            .or(file.prepare_ttl_minutes)
            .unwrap_or(60)
            .clamp(1, 1440),
        ca_alg: a.ca_alg.map(Into::into).or(file.ca_alg).unwrap_or_default(),
        tsa_url: a.tsa_url.or(file.tsa_url).filter(|u| !u.trim().is_empty()),
        tsa_policy: match a.tsa_policy.or(file.tsa_policy) {
            Some(p) => der::asn1::ObjectIdentifier::new(p.trim())
                .map_err(|e| anyhow::anyhow!("--tsa-policy {p:?} không phải OID: {e}"))?,
            None => giaouoc::tsp::DEFAULT_POLICY,
        },
        public_url: a.public_url.or(file.public_url),
        renew_margin_days: a
            .renew_margin_days
            .or(file.renew_margin_days)
            .unwrap_or(365),
        database: a.storage.database(file.database_url)?,
        blob_store: a.storage.blobs(file.blob_store)?,
    })
}

pub(crate) fn run(a: Args) -> CliResult<()> {
    let a = settings(a).map_err(CliError::input)?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("không khởi động được tokio")
        .or_failure()?;
    runtime.block_on(serve(a)).or_failure()
}

async fn serve(a: Settings) -> Result<()> {
    let trust_anchors = match &a.trust_dir {
        Some(dir) => giaouoc::pki::trust_anchors_from(dir)
            .map_err(|e| anyhow::anyhow!("--trust-dir: {e}"))?,
        None => Vec::new(),
    };
    if !trust_anchors.is_empty() {
        tracing::info!(count = trust_anchors.len(), "trust anchors loaded");
    }
    let listener = TcpListener::bind(a.addr)
        .await
        .with_context(|| format!("không mở được địa chỉ {}", a.addr))?;
    let url = format!("http://{}", listener.local_addr()?);
    let options = Options {
        max_upload: a.max_upload_mb.saturating_mul(1024 * 1024),
        admin_token: a.admin_token.clone().filter(|t| !t.is_empty()),
        trust_anchors,
        prepare_ttl: time::Duration::minutes(i64::from(a.prepare_ttl_minutes)),
        ca_key: a.ca_alg,
        tsa: a.tsa_url.as_deref().map(giaouoc::tsp::RemoteTsa::new),
        tsa_policy: a.tsa_policy,
        public_url: Some(a.public_url.clone().unwrap_or_else(|| url.clone())),
        blob_store: a.blob_store.clone(),
        database: a.database.clone(),
        master_key: super::storage::master_key()?,
        ..Options::default()
    };
    let state = AppState::open(&a.data_dir, options).await?;
    let mut new_admin = None;
    if a.admin_token.is_none()
        && let Some(token) = state.bootstrap_admin().await?
    {
        new_admin = Some(token.secret);
    }
    // The archive's daily renewal (the first run a minute after the start).
    let renewer = state.clone();
    let margin = time::Duration::days(i64::from(a.renew_margin_days));
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let mut daily = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            daily.tick().await;
            // One instance renews; the others find the lease taken.
            if !renewer
                .lease("archive-renewal", time::Duration::hours(23))
                .await
            {
                continue;
            }
            match renewer.renew_archive(margin).await {
                Ok(done) => {
                    let renewed = done.iter().filter(|r| r.renewed_to.is_some()).count();
                    tracing::info!(archived = done.len(), renewed, "archive renewal");
                }
                Err(e) => tracing::warn!(error = %e, "archive renewal failed"),
            }
        }
    });
    let demo = if a.demo {
        http::demo::seed(&state, new_admin.as_deref()).await?
    } else {
        None
    };
    println!(
        "giaouoc đang chạy tại {url} (dữ liệu: {})",
        a.data_dir.display()
    );
    println!("  Giao diện web: {url}/  (kiểm tra chữ ký: {url}/kiem-tra)");
    println!("  API: {url}/openapi.json");
    if let Some(secret) = &new_admin {
        println!("  Token quản trị (chỉ hiện một lần, hãy lưu lại): {secret}");
    }
    if let Some(d) = &demo {
        println!(
            "  Giao ước mẫu (API cần token, ví dụ token quản trị hoặc của đơn vị):\n    curl -H 'Authorization: Bearer <token>' {url}/covenants/{}",
            d.covenant_id
        );
        println!(
            "  Tài liệu PDF: {url}/covenants/{}/document.pdf",
            d.covenant_id
        );
        println!(
            "  Khóa và chứng thư của 16 lãnh đạo (mẫu): {}/Uxx.key, Uxx.crt; chứng thư gốc để kiểm tra: ca.pem (CA của khối), tsa-ca.pem (dấu thời gian)",
            d.keys_dir.display()
        );
        println!(
            "  Mã truy cập của các đơn vị (officer: đăng ký, leader: ký số), dùng để đăng nhập giao diện web: {}",
            d.tokens_file.display()
        );
    } else if a.demo {
        println!("  --demo: kho dữ liệu đã có dữ liệu, không tạo dữ liệu mẫu");
    }
    http::serve_on(state, listener, http::shutdown_signal()).await?;
    println!("giaouoc đã dừng");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(config: Option<PathBuf>, addr: Option<&str>) -> Args {
        Args {
            config,
            addr: addr.map(|a| a.parse().unwrap()),
            data_dir: None,
            demo: false,
            max_upload_mb: None,
            admin_token: None,
            trust_dir: None,
            prepare_ttl_minutes: None,
            ca_alg: None,
            tsa_url: None,
            tsa_policy: None,
            public_url: None,
            renew_margin_days: None,
            storage: super::super::storage::StorageArgs::default(),
        }
    }

    #[test]
    fn the_blob_store_is_a_directory_or_an_s3_bucket_with_its_flags() {
        use giaouoc::store::{BlobLocation, S3Location};
        assert_eq!(
            settings(args(None, None)).unwrap().blob_store,
            BlobLocation::Default
        );
        let mut a = args(None, None);
        a.storage.blob_store = Some("s3://giaouoc-docs/khoi/vhxh/".into());
        a.storage.s3.s3_endpoint = Some("http://127.0.0.1:9000".into());
        a.storage.s3.s3_allow_http = true;
        a.storage.s3.s3_checksum = true;
        assert_eq!(
            settings(a).unwrap().blob_store,
            BlobLocation::S3(S3Location {
                bucket: "giaouoc-docs".into(),
                prefix: "khoi/vhxh".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                allow_http: Some(true),
                checksum: true,
                ..S3Location::default()
            })
        );
        let mut a = args(None, None);
        a.storage.blob_store = Some("file:///srv/giaouoc/blobs".into());
        assert_eq!(
            settings(a).unwrap().blob_store,
            BlobLocation::Files("/srv/giaouoc/blobs".into())
        );
        for bad in ["s3://A_B", "ftp://x", "file://", "s3://"] {
            let mut a = args(None, None);
            a.storage.blob_store = Some(bad.into());
            let err = settings(a).err().unwrap();
            assert!(
                format!("{err:#}").contains("--blob-store"),
                "{bad}: {err:#}"
            );
        }
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("giaouoc-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("g.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:9000\"\nmax_upload_mb = 5\ndemo = true\nprepare_ttl_minutes = 240\n",
        )
        .unwrap();
        let s = settings(args(Some(file.clone()), None)).unwrap();
        assert_eq!(s.addr.port(), 9000);
        assert_eq!(s.max_upload_mb, 5);
        assert!(s.demo);
        assert_eq!(s.prepare_ttl_minutes, 240);
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        let s = settings(args(Some(file.clone()), Some("127.0.0.1:9100"))).unwrap();
        assert_eq!(s.addr.port(), 9100);
        let s = settings(args(None, None)).unwrap();
        assert_eq!((s.addr.port(), s.max_upload_mb, s.demo), (8080, 50, false));
        assert_eq!(s.prepare_ttl_minutes, 60);
        std::fs::write(&file, "adr = 1\n").unwrap();
        let err = settings(args(Some(file), None)).err().unwrap();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! `giaouoc serve`: the HTTP service. Settings come from flags or the environment
//! (`GIAOUOC_ADDR`, `GIAOUOC_DATA_DIR`, `GIAOUOC_DEMO`, `GIAOUOC_MAX_UPLOAD_MB`,
//! `GIAOUOC_ADMIN_TOKEN`); logs go to stderr (`RUST_LOG`, default `info`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use giaouoc::http::{self, AppState, Options};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, env = "GIAOUOC_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder of the database, the documents and the bloc CAs (created if needed).
    #[arg(long, env = "GIAOUOC_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// On an empty store: load the reference covenant (Quảng Ninh 2021) ready to sign, with
    /// 16 demo leaders' keys under <data-dir>/demo-keys/.
    #[arg(long, env = "GIAOUOC_DEMO")]
    demo: bool,
    /// Largest upload accepted by POST /verify, in MB.
    #[arg(long, env = "GIAOUOC_MAX_UPLOAD_MB", default_value_t = 50)]
    max_upload_mb: usize,
    /// Admin token to accept (else one is generated on the first start and printed once).
    #[arg(long, env = "GIAOUOC_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

pub(crate) fn run(a: Args) -> Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("không khởi động được tokio")?;
    runtime.block_on(serve(a))
}

async fn serve(a: Args) -> Result<()> {
    let options = Options {
        max_upload: a.max_upload_mb.saturating_mul(1024 * 1024),
        admin_token: a.admin_token.clone().filter(|t| !t.is_empty()),
        ..Options::default()
    };
    let state = AppState::open(&a.data_dir, options).await?;
    let mut new_admin = None;
    if a.admin_token.is_none()
        && let Some(token) = state.bootstrap_admin().await?
    {
        new_admin = Some(token.secret);
    }
    let listener = TcpListener::bind(a.addr)
        .await
        .with_context(|| format!("không mở được địa chỉ {}", a.addr))?;
    let url = format!("http://{}", listener.local_addr()?);
    let demo = if a.demo {
        http::demo::seed(&state, new_admin.as_deref()).await?
    } else {
        None
    };
    println!(
        "giaouoc đang chạy tại {url} (dữ liệu: {})",
        a.data_dir.display()
    );
    println!("  API: {url}/openapi.json");
    if let Some(secret) = &new_admin {
        println!("  Token quản trị (chỉ hiện một lần, hãy lưu lại): {secret}");
    }
    if let Some(d) = &demo {
        println!("  Giao ước mẫu: {url}/covenants/{}", d.covenant_id);
        println!(
            "  Tài liệu PDF: {url}/covenants/{}/document.pdf",
            d.covenant_id
        );
        println!(
            "  Khóa và chứng thư của 16 lãnh đạo (mẫu): {}/Uxx.key, Uxx.crt, ca.pem",
            d.keys_dir.display()
        );
        println!(
            "  Token của các đơn vị (officer, leader): {}",
            d.tokens_file.display()
        );
    } else if a.demo {
        println!("  --demo: kho dữ liệu đã có dữ liệu, không tạo dữ liệu mẫu");
    }
    http::serve_on(state, listener, http::shutdown_signal()).await?;
    println!("giaouoc đã dừng");
    Ok(())
}

//! `giaouoc archive renew`: keeps archived covenants verifiable for years (PAdES B-LTA, ETSI EN
//! 319 142-1 §5.5): every archived covenant whose newest document time-stamp's TSA certificate
//! ends within the margin gets fresh validation data and a new document time-stamp, as new
//! revisions; earlier versions stay. The service does the same once a day.

use std::path::PathBuf;

use anyhow::Context;

use giaouoc::http::{AppState, Options};

use super::{CliResult, Failure, exit};

#[derive(clap::Subcommand)]
pub(crate) enum ArchiveCommand {
    /// Renew the long-term validation of every archived covenant that needs it.
    Renew(RenewArgs),
}

#[derive(clap::Args)]
pub(crate) struct RenewArgs {
    /// The service's data folder [default: ./data].
    #[arg(long, env = "GIAOUOC_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Renew when the newest time-stamp's certificate ends within this many days.
    #[arg(long, default_value_t = 365)]
    margin_days: u32,
    /// An external RFC 3161 TSA instead of the built-in one (as `serve --tsa-url`).
    #[arg(long, env = "GIAOUOC_TSA_URL")]
    tsa_url: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    storage: super::storage::StorageArgs,
}

pub(crate) fn run(cmd: ArchiveCommand) -> CliResult {
    let ArchiveCommand::Renew(a) = cmd;
    if !a.data_dir.is_dir() {
        return Err(super::CliError::input(anyhow::anyhow!(
            "không có thư mục dữ liệu {}",
            a.data_dir.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("không khởi động được tokio")
        .or_failure()?;
    let renewals = runtime
        .block_on(async {
            let options = Options {
                tsa: a.tsa_url.as_deref().map(giaouoc::tsp::RemoteTsa::new),
                database: a.storage.database(None)?,
                blob_store: a.storage.blobs(None)?,
                master_key: super::storage::master_key()?,
                ..Options::default()
            };
            let state = AppState::open(&a.data_dir, options).await?;
            state
                .renew_archive(time::Duration::days(i64::from(a.margin_days)))
                .await
                .map_err(anyhow::Error::from)
        })
        .or_failure()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&renewals).or_failure()?);
    } else {
        for r in &renewals {
            let until = r.timestamp_until.as_deref().unwrap_or("không có");
            match r.renewed_to {
                Some(index) => println!(
                    "{}: đã gia hạn (dấu thời gian cũ hết hạn {until}) → phiên bản {index}",
                    r.covenant_id
                ),
                None => println!(
                    "{}: chưa cần gia hạn (dấu thời gian hết hạn {until})",
                    r.covenant_id
                ),
            }
        }
        println!(
            "{} giao ước đã lưu trữ, {} được gia hạn",
            renewals.len(),
            renewals.iter().filter(|r| r.renewed_to.is_some()).count()
        );
    }
    Ok(exit::OK)
}

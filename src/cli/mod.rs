//! Command-line interface: parses arguments and calls the library; no logic of its own.

mod render;

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// giaouoc — bản giao ước thi đua: điền mẫu, xuất PDF/DOCX, ký số, xác minh, lưu trữ.
#[derive(Parser)]
#[command(name = "giaouoc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a covenant (giaouoc.covenant/1 JSON) to PDF and/or DOCX.
    Render(render::Args),
}

/// Exit code for bad input (invalid data, unreadable file).
pub(crate) const EXIT_INPUT: u8 = 2;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Render(a) => render::run(a),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename.
/// Nothing is left behind on failure.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

//! Command-line interface: parses arguments and calls the library; no logic of its own.

mod audit;
mod client;
mod keys;
mod render;
mod serve;
mod sign;
mod verify;

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
    /// The bloc's certificate authority.
    #[command(subcommand)]
    Ca(keys::CaCommand),
    /// Make a leader's key pair (and optionally a CSR) on this machine.
    Keygen(keys::KeygenArgs),
    /// Sign one unit's field of a covenant PDF.
    Sign(sign::Args),
    /// Verify every signature of a PDF: who, when, intact, trusted, what changed after.
    Verify(verify::Args),
    /// Talk to a running giaouoc service (sign with a local key, download).
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Run the HTTP service (the covenant's year: registrations, signing, archive, audit).
    Serve(serve::Args),
    /// Check an audit trail exported by the service.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Exit code for bad input (invalid data, unreadable file).
pub(crate) const EXIT_INPUT: u8 = 2;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(a) => return render::run(a),
        Command::Verify(a) => return verify::run(a),
        Command::Ca(c) => keys::ca(c),
        Command::Keygen(a) => keys::keygen(a),
        Command::Sign(a) => sign::run(a),
        Command::Client(c) => client::run(c),
        Command::Serve(a) => serve::run(a),
        Command::Audit(c) => return audit::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// Writes every (path, bytes) pair atomically: all go to temporary files in their folders
/// first (written and fsynced), then each is renamed into place. If any write fails, no
/// output is touched and no temporary file is left behind.
pub(crate) fn write_atomic(outputs: &[(&Path, &[u8])]) -> Result<(), String> {
    let mut temps = Vec::new();
    for (path, bytes) in outputs {
        match write_temp(path, bytes) {
            Ok(tmp) => temps.push((tmp, *path)),
            Err(e) => {
                for (tmp, _) in &temps {
                    let _ = std::fs::remove_file(tmp);
                }
                return Err(format!("không ghi được {}: {e}", path.display()));
            }
        }
    }
    for (tmp, path) in &temps {
        if let Err(e) = std::fs::rename(tmp, path) {
            for (tmp, _) in &temps {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(format!("không ghi được {}: {e}", path.display()));
        }
    }
    Ok(())
}

fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<std::path::PathBuf> {
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
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

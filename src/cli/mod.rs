//! Command-line interface: parses arguments and calls the library; no logic of its own.

mod archive;
mod audit;
mod client;
mod keys;
mod render;
mod serve;
mod sign;
mod signer;
mod storage;
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
    /// Keep the service's archive verifiable (renew its long-term validation).
    #[command(subcommand)]
    Archive(archive::ArchiveCommand),
    /// Move the service's state between databases and blob stores.
    #[command(subcommand)]
    Store(storage::StoreCommand),
}

/// The exit codes of every command.
pub(crate) mod exit {
    /// Done; for `verify` and `audit verify`: valid.
    pub const OK: u8 = 0;
    /// Checked, and not valid (`verify`, `audit verify`): a result, not an error.
    pub const NOT_VALID: u8 = 1;
    /// Bad input: invalid data, an unreadable or missing file, wrong arguments.
    pub const INPUT: u8 = 2;
    /// The environment failed: an address that cannot be bound, a service that does not
    /// answer, a file that cannot be written, an internal error.
    pub const FAILURE: u8 = 3;
}

/// Why a command failed, with the exit code it ends with. Every command returns it to
/// [`run`], the one place that prints errors and picks exit codes.
#[derive(Debug)]
pub(crate) struct CliError {
    code: u8,
    error: anyhow::Error,
}

impl CliError {
    /// Bad input (exit 2).
    pub(crate) fn input(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: exit::INPUT,
            error: error.into(),
        }
    }

    /// The environment failed (exit 3).
    pub(crate) fn failure(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: exit::FAILURE,
            error: error.into(),
        }
    }
}

/// Errors without a kind are bad input: most commands fail on what they are given.
impl<E: Into<anyhow::Error>> From<E> for CliError {
    fn from(error: E) -> Self {
        CliError::input(error)
    }
}

/// A command's outcome: its exit code, or why it failed.
pub(crate) type CliResult<T = u8> = Result<T, CliError>;

/// Marks errors of a step as failures of the environment (exit 3).
pub(crate) trait Failure<T> {
    fn or_failure(self) -> CliResult<T>;
}

impl<T, E: Into<anyhow::Error>> Failure<T> for Result<T, E> {
    fn or_failure(self) -> CliResult<T> {
        self.map_err(CliError::failure)
    }
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result: CliResult = match cli.command {
        Command::Render(a) => render::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Ca(c) => keys::ca(c).map(|()| exit::OK).map_err(CliError::from),
        Command::Keygen(a) => keys::keygen(a).map(|()| exit::OK).map_err(CliError::from),
        Command::Sign(a) => sign::run(a).map(|()| exit::OK).map_err(CliError::from),
        Command::Client(c) => client::run(c).map(|()| exit::OK),
        Command::Serve(a) => serve::run(a).map(|()| exit::OK),
        Command::Audit(c) => audit::run(c),
        Command::Archive(c) => archive::run(c),
        Command::Store(c) => storage::run(c),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("lỗi: {:#}", e.error);
            ExitCode::from(e.code)
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

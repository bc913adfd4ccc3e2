//! `giaouoc audit verify FILE.json`: checks an audit trail exported by the service
//! (`GET /covenants/{id}/audit`, or a bare array of events): every hash recomputed, every
//! link to the previous event checked.

use std::path::PathBuf;

use giaouoc::store::{AuditEvent, verify_exported_chain};

use super::{CliError, CliResult, exit};

#[derive(clap::Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the hash chain of an exported audit trail (exit 0 intact, 1 broken, 2 unreadable).
    Verify {
        /// The export (JSON).
        file: PathBuf,
    },
}

pub(crate) fn run(cmd: AuditCommand) -> CliResult {
    let AuditCommand::Verify { file } = cmd;
    let events =
        read(&file).map_err(|e| CliError::input(anyhow::anyhow!("{}: {e}", file.display())))?;
    let check = verify_exported_chain(&events);
    if check.ok {
        let head = events.last().map_or("-", |e| e.hash.as_str());
        println!(
            "{}: chuỗi nhật ký nguyên vẹn ({} sự kiện), băm cuối {head}",
            file.display(),
            check.events
        );
        Ok(exit::OK)
    } else {
        println!(
            "{}: chuỗi nhật ký bị sửa đổi tại sự kiện seq {}: {}",
            file.display(),
            check
                .first_bad_seq
                .map_or_else(|| "?".to_owned(), |s| s.to_string()),
            check.reason.unwrap_or_default()
        );
        Ok(exit::NOT_VALID)
    }
}

fn read(file: &PathBuf) -> Result<Vec<AuditEvent>, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let events = match value {
        serde_json::Value::Array(_) => value,
        serde_json::Value::Object(mut map) => {
            map.remove("events").ok_or("không có trường \"events\"")?
        }
        _ => return Err("cần một mảng sự kiện hoặc một đối tượng có \"events\"".into()),
    };
    serde_json::from_value(events).map_err(|e| format!("sự kiện không hợp lệ: {e}"))
}

//! `giaouoc render`.

use std::path::PathBuf;

use anyhow::anyhow;
use giaouoc::render::{self, PipelineError};
use giaouoc::render_pdf::PdfOptions;
use giaouoc::template::Template;

use super::{CliError, CliResult, Failure, exit, write_atomic};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The covenant, giaouoc.covenant/1 JSON.
    #[arg(long)]
    input: PathBuf,
    /// A template folder (with covenant.xml.j2) instead of the built-in template.
    #[arg(long)]
    template: Option<PathBuf>,
    /// Write the PDF here.
    #[arg(long)]
    pdf: Option<PathBuf>,
    /// Write the DOCX here.
    #[arg(long)]
    docx: Option<PathBuf>,
    /// Print the signature fields' placement as JSON on stdout.
    #[arg(long)]
    fields: bool,
}

pub(crate) fn run(a: Args) -> CliResult {
    if a.pdf.is_none() && a.docx.is_none() && !a.fields {
        return Err(CliError::input(anyhow!(
            "cần ít nhất một trong --pdf, --docx, --fields"
        )));
    }
    let json = std::fs::read(&a.input)
        .map_err(|e| CliError::input(anyhow!("không đọc được {}: {e}", a.input.display())))?;
    let template = match &a.template {
        Some(dir) => Template::from_dir(dir).map_err(CliError::input)?,
        None => Template::builtin(),
    };
    // Render everything in memory first: nothing is written unless all outputs succeed.
    let result = (|| -> Result<_, PipelineError> {
        let (_covenant, doc) = render::prepare(&json, &template)?;
        let pdf = render::pdf(&doc, &PdfOptions::default())?;
        let docx = match a.docx {
            Some(_) => Some(render::docx(&doc, &Default::default())?),
            None => None,
        };
        Ok((pdf, docx))
    })();
    let (pdf, docx) = match result {
        Ok(r) => r,
        Err(PipelineError::Input(errs)) => {
            let text = errs.to_string();
            return Err(CliError::input(anyhow!(
                "{}: {}",
                a.input.display(),
                text.trim_end()
            )));
        }
        Err(e @ PipelineError::Template(_)) => return Err(CliError::input(e)),
        Err(e) => return Err(CliError::failure(e)),
    };
    let mut outputs: Vec<(&std::path::Path, &[u8])> = Vec::new();
    if let Some(path) = &a.pdf {
        outputs.push((path, &pdf.bytes));
    }
    if let (Some(path), Some(bytes)) = (&a.docx, &docx) {
        outputs.push((path, bytes));
    }
    write_atomic(&outputs).map_err(|e| CliError::failure(anyhow!(e)))?;
    if a.fields {
        let s = serde_json::to_string_pretty(&pdf.fields).or_failure()?;
        println!("{s}");
    }
    Ok(exit::OK)
}

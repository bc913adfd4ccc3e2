//! `giaouoc render`.

use std::path::PathBuf;
use std::process::ExitCode;

use giaouoc::render::{self, PipelineError};
use giaouoc::render_pdf::PdfOptions;
use giaouoc::template::Template;

use super::{EXIT_INPUT, write_atomic};

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

pub(crate) fn run(a: Args) -> ExitCode {
    if a.pdf.is_none() && a.docx.is_none() && !a.fields {
        eprintln!("lỗi: cần ít nhất một trong --pdf, --docx, --fields");
        return ExitCode::from(EXIT_INPUT);
    }
    let json = match std::fs::read(&a.input) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("lỗi: không đọc được {}: {e}", a.input.display());
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let template = match &a.template {
        Some(dir) => match Template::from_dir(dir) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("lỗi: {e}");
                return ExitCode::from(EXIT_INPUT);
            }
        },
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
            eprint!("{}: {errs}", a.input.display());
            return ExitCode::from(EXIT_INPUT);
        }
        Err(PipelineError::Template(e)) => {
            eprintln!("lỗi: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
        Err(e) => {
            eprintln!("lỗi: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut outputs: Vec<(&std::path::Path, &[u8])> = Vec::new();
    if let Some(path) = &a.pdf {
        outputs.push((path, &pdf.bytes));
    }
    if let (Some(path), Some(bytes)) = (&a.docx, &docx) {
        outputs.push((path, bytes));
    }
    if let Err(e) = write_atomic(&outputs) {
        eprintln!("lỗi: {e}");
        return ExitCode::FAILURE;
    }
    if a.fields {
        match serde_json::to_string_pretty(&pdf.fields) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("lỗi: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

//! Support for the tests (unit and integration): the external programs they call, found one
//! way, with one policy. A missing program fails the test with a panic that says how to
//! install it; no test passes silently because its tool is absent.
//!
//! Not part of the library's API.

use std::path::{Path, PathBuf};

/// An external program a test needs.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// File names to look for on `PATH`, in order.
    pub names: &'static [&'static str],
    /// An environment variable that may name the program's path instead.
    pub env: &'static str,
    /// Where it comes from (what `.ci/setup` installs).
    pub package: &'static str,
}

/// `pdftotext`, `pdffonts`, `pdftoppm` come with it.
pub const PDFTOTEXT: Tool = Tool {
    names: &["pdftotext"],
    env: "PDFTOTEXT",
    package: "Debian package poppler-utils",
};
/// The fonts of a PDF (poppler).
pub const PDFFONTS: Tool = Tool {
    names: &["pdffonts"],
    env: "PDFFONTS",
    package: "Debian package poppler-utils",
};
/// The images of a PDF (poppler).
pub const PDFIMAGES: Tool = Tool {
    names: &["pdfimages"],
    env: "PDFIMAGES",
    package: "Debian package poppler-utils",
};
/// PDF pages to PNG (poppler).
pub const PDFTOPPM: Tool = Tool {
    names: &["pdftoppm"],
    env: "PDFTOPPM",
    package: "Debian package poppler-utils",
};
/// poppler's signature checker.
pub const PDFSIG: Tool = Tool {
    names: &["pdfsig"],
    env: "PDFSIG",
    package: "Debian package poppler-utils",
};
/// PDF structure checks.
pub const QPDF: Tool = Tool {
    names: &["qpdf"],
    env: "QPDF",
    package: "Debian package qpdf",
};
/// LibreOffice (needs the font package fonts-liberation2 for Times New Roman metrics).
pub const SOFFICE: Tool = Tool {
    names: &["soffice", "libreoffice"],
    env: "SOFFICE",
    package: "Debian packages libreoffice-writer-nogui and fonts-liberation2",
};
/// Headless Chromium for the browser tests.
pub const CHROMIUM: Tool = Tool {
    names: &["chromium", "chromium-browser"],
    env: "CHROMIUM",
    package: "Debian package chromium",
};
/// The WebDriver server of Chromium.
pub const CHROMEDRIVER: Tool = Tool {
    names: &["chromedriver"],
    env: "CHROMEDRIVER",
    package: "Debian package chromium-driver",
};
/// pyHanko, the independent PDF signature validator (PyPI, in `.venv-pyhanko/`).
pub const PYHANKO: Tool = Tool {
    names: &["pyhanko"],
    env: "PYHANKO",
    package: "PyPI packages pyhanko and pyhanko-cli, in .venv-pyhanko/",
};
/// OpenSSL's command line (test PKIs of other CAs).
pub const OPENSSL: Tool = Tool {
    names: &["openssl"],
    env: "OPENSSL",
    package: "Debian package openssl",
};

/// The tool of that program name (`pdftotext`, `qpdf`, `soffice`, `pyhanko`, ...).
///
/// # Panics
/// For a program the tests do not know: add it here with its package.
pub fn named(name: &str) -> Tool {
    let known = [
        PDFTOTEXT,
        PDFFONTS,
        PDFIMAGES,
        PDFTOPPM,
        PDFSIG,
        QPDF,
        SOFFICE,
        CHROMIUM,
        CHROMEDRIVER,
        PYHANKO,
        OPENSSL,
    ];
    known
        .into_iter()
        .find(|t| t.names.contains(&name))
        .unwrap_or_else(|| panic!("test_support does not know the program {name}"))
}

/// The path of `tool`: `$ENV`, then the project's virtual environments, then `PATH`.
///
/// # Panics
/// When the program is not found, with the install hint: that is the policy.
pub fn require(tool: Tool) -> PathBuf {
    find(tool).unwrap_or_else(|| {
        panic!(
            "{} is missing, and this test needs it: run `.ci/setup` (installs the {}), or set {} \
             to its path",
            tool.names.first().copied().unwrap_or("a program"),
            tool.package,
            tool.env
        )
    })
}

/// The path of `tool`, if it is installed.
pub fn find(tool: Tool) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(tool.env).map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venvs = [".venv-pyhanko/bin"].map(|v| root.join(v));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = venvs
        .into_iter()
        .chain(std::env::split_paths(&path))
        .collect();
    tool.names
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

//! Support for the tests (unit and integration): the external programs they call, found one
//! way, with one policy. A missing program fails the test with a panic that says how to
//! install it; no test passes silently because its tool is absent.
//!
//! Not part of the library's API.

use std::path::{Path, PathBuf};

/// An external program a test needs.
#[derive(Debug, Clone, Copy)]
struct Tool {
    /// File names to look for, in order.
    names: &'static [&'static str],
    /// An environment variable that may name the program's path instead.
    env: &'static str,
    /// Where it comes from (what `.ci/setup` installs).
    package: &'static str,
}

const POPPLER: &str = "Debian package poppler-utils";

const fn tool(names: &'static [&'static str], env: &'static str, package: &'static str) -> Tool {
    Tool {
        names,
        env,
        package,
    }
}

/// Every program the tests call.
const TOOLS: [Tool; 11] = [
    tool(&["pdftotext"], "PDFTOTEXT", POPPLER),
    tool(&["pdffonts"], "PDFFONTS", POPPLER),
    tool(&["pdfimages"], "PDFIMAGES", POPPLER),
    tool(&["pdftoppm"], "PDFTOPPM", POPPLER),
    tool(&["pdfsig"], "PDFSIG", POPPLER),
    tool(&["qpdf"], "QPDF", "Debian package qpdf"),
    tool(
        &["soffice", "libreoffice"],
        "SOFFICE",
        "Debian packages libreoffice-writer-nogui and fonts-liberation2",
    ),
    tool(
        &["chromium", "chromium-browser"],
        "CHROMIUM",
        "Debian package chromium",
    ),
    tool(
        &["chromedriver"],
        "CHROMEDRIVER",
        "Debian package chromium-driver",
    ),
    tool(
        &["pyhanko"],
        "PYHANKO",
        "PyPI pyhanko and pyhanko-cli, in .venv-pyhanko/",
    ),
    tool(&["openssl"], "OPENSSL", "Debian package openssl"),
];

/// The path of the program `name` (`pdftotext`, `qpdf`, `soffice`, `pyhanko`, ...):
/// `$ENV`, then the project's virtual environment, then `PATH`.
///
/// # Panics
/// When the program is not found, with the install hint: that is the policy. Also for a
/// program the tests do not know (add it to the table with its package).
pub fn require(name: &str) -> PathBuf {
    let tool = TOOLS
        .into_iter()
        .find(|t| t.names.contains(&name))
        .unwrap_or_else(|| panic!("test_support does not know the program {name}"));
    find(tool).unwrap_or_else(|| {
        panic!(
            "{name} is missing, and this test needs it: run `.ci/setup` (installs the {}), or \
             set {} to its path",
            tool.package, tool.env
        )
    })
}

fn find(tool: Tool) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(tool.env).map(PathBuf::from)
        && p.is_file()
    {
        return Some(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-pyhanko/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::iter::once(venv)
        .chain(std::env::split_paths(&path))
        .collect();
    tool.names
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// The pages' text (`pdftotext` output split at form feeds) joined without the page-number
/// line that starts each page from page 2 (Decree 30 puts it in the top margin), so a
/// paragraph that a page break splits still reads as one.
pub fn text_without_page_numbers(pdftotext_output: &str) -> String {
    let mut all = String::new();
    for (i, page) in pdftotext_output.split('\u{c}').enumerate() {
        let number = (i + 1).to_string();
        let mut lines = page.lines().peekable();
        if i > 0 && lines.peek().map(|l| l.trim()) == Some(number.as_str()) {
            lines.next();
        }
        for line in lines {
            all.push_str(line);
            all.push('\n');
        }
    }
    all
}

/// A deterministic bloc for tests and benchmarks: a CA (key seed 200) named after the
/// covenant's bloc, valid 2020-12-01..2050-12-01, and one leader per unit (key seed i + 1,
/// serial 100 + i, valid 2021-01-01..2045-01-01).
pub struct TestBloc {
    /// The CA's key.
    pub ca_key: ed25519_dalek::SigningKey,
    /// The CA certificate.
    pub ca: x509_cert::Certificate,
    /// Unit id, leader key and certificate, in roster order.
    pub leaders: Vec<(String, ed25519_dalek::SigningKey, x509_cert::Certificate)>,
}

/// The [`TestBloc`] of a covenant.
///
/// # Panics
/// When a certificate cannot be made (a broken covenant).
#[allow(clippy::expect_used)]
pub fn test_bloc(covenant: &crate::covenant::Covenant) -> TestBloc {
    use crate::pki;
    use time::macros::datetime;
    let key = |seed: u8| ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let ca_key = key(200);
    let ca = pki::create_ca_certificate(
        &ca_key,
        &pki::CaSubject {
            name: covenant.bloc.name.clone(),
        },
        1,
        datetime!(2020-12-01 00:00 +07:00),
        datetime!(2050-12-01 00:00 +07:00),
    )
    .expect("test CA");
    let leaders = (0u8..)
        .zip(&covenant.units)
        .map(|(i, u)| {
            let k = key(i + 1);
            let subject = pki::LeaderSubject {
                full_name: u.signer.full_name.clone(),
                title: u.signer.position.clone(),
                unit_name: u.name.clone(),
                unit_id: u.id.clone(),
            };
            let cert = pki::issue_leader_certificate(
                &ca_key,
                &ca,
                &k.verifying_key(),
                &subject,
                100 + u64::from(i),
                datetime!(2021-01-01 00:00 +07:00),
                datetime!(2045-01-01 00:00 +07:00),
            )
            .expect("test leader certificate");
            (u.id.clone(), k, cert)
        })
        .collect();
    TestBloc {
        ca_key,
        ca,
        leaders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_dropped_only_where_they_start_a_page() {
        let text = "UBND\nmột đoạn văn bị\n\u{c}2\nngắt trang ở giữa\n\u{c}Mục 2 vẫn còn\n";
        assert_eq!(
            text_without_page_numbers(text),
            "UBND\nmột đoạn văn bị\nngắt trang ở giữa\nMục 2 vẫn còn\n"
        );
    }
}

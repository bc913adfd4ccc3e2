//! Support for the tests (unit and integration): the external programs they call, found one
//! way, with one policy. A missing program fails the test with a panic that says how to
//! install it; no test passes silently because its tool is absent. Also small PDF edits
//! several test suites make.
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
const TOOLS: [Tool; 15] = [
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
    tool(
        &["certomancer"],
        "CERTOMANCER",
        "PyPI certomancer[web-api-async], in .venv-pyhanko/",
    ),
    tool(
        &["moto_server"],
        "MOTO_SERVER",
        "PyPI moto[server], in .venv-pyhanko/",
    ),
    tool(
        &["softhsm2-util"],
        "SOFTHSM2_UTIL",
        "Debian package softhsm2",
    ),
    tool(&["pkcs11-tool"], "PKCS11_TOOL", "Debian package opensc"),
];

/// `pyhanko sign validate` with every root in `roots` as a trust anchor: asserts it exits 0 and
/// returns its report.
///
/// # Panics
/// When pyHanko is missing or the validation fails.
pub fn pyhanko_validate_with(roots: &[&Path], pdf: &Path) -> String {
    pyhanko_checked(&["sign", "validate"], roots, pdf)
}

/// `pyhanko sign adesverify --validation-time <at>` (the AdES long-term levels: past
/// validation with the file's /DSS and document time-stamps) with `roots` as the trust
/// anchors: asserts it exits 0 and returns its report.
///
/// # Panics
/// When pyHanko is missing or the validation fails.
pub fn pyhanko_adesverify(roots: &[&Path], pdf: &Path, at: &str) -> String {
    pyhanko_checked(&["sign", "adesverify", "--validation-time", at], roots, pdf)
}

/// Runs pyHanko's `command` on `pdf` with `roots` as the only trust anchors; it must exit 0.
fn pyhanko_checked(command: &[&str], roots: &[&Path], pdf: &Path) -> String {
    let mut cmd = std::process::Command::new(require("pyhanko"));
    cmd.args(command);
    for root in roots {
        cmd.arg("--trust").arg(root);
    }
    let out = cmd
        .arg("--trust-replace")
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("pyhanko: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pyHanko {}: {text}{}",
        command.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// SoftHSM2's PKCS#11 module: `$GIAOUOC_TEST_PKCS11_MODULE`, else where Debian's softhsm2
/// puts it.
///
/// # Panics
/// When it is missing, with the install hint (the policy of [`require`]).
pub fn softhsm2_module() -> PathBuf {
    let path = std::env::var_os("GIAOUOC_TEST_PKCS11_MODULE").map_or_else(
        || PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "{} is missing, and this test needs it: run `.ci/setup` (installs the Debian package \
         softhsm2), or set GIAOUOC_TEST_PKCS11_MODULE to a PKCS#11 module",
        path.display()
    );
    path
}

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

/// A second certificate authority made with OpenSSL for tests: a root and an intermediate
/// (RSA), and leader certificates of other CAs' profile (UTF-8 names, no unit id, keyUsage
/// digitalSignature and nonRepudiation), with keys of any algorithm the verifier supports.
pub mod foreign {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The key of a leaf certificate.
    #[derive(Debug, Clone, Copy)]
    pub enum Key {
        /// RSA of this many bits.
        Rsa(u32),
        /// ECDSA P-256.
        P256,
        /// ECDSA P-384.
        P384,
        /// Ed25519.
        Ed25519,
    }

    /// A leaf: its key and certificate (PEM files).
    #[derive(Debug, Clone)]
    pub struct Leaf {
        /// The private key, PKCS#8 PEM.
        pub key: PathBuf,
        /// The certificate, PEM.
        pub cert: PathBuf,
    }

    /// The CA's files.
    #[derive(Debug, Clone)]
    pub struct Pki {
        /// Its folder.
        pub dir: PathBuf,
        /// The root certificate (the trust anchor), PEM.
        pub root: PathBuf,
        /// The intermediate certificate (the leaves' issuer), PEM.
        pub intermediate: PathBuf,
    }

    const CONFIG: &str = "\
[ req ]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no
[ dn ]
CN = placeholder
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_intermediate ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = 2.5.29.32.0
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = 2.5.29.32.0
[ v3_plain_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
";

    fn run(cmd: &mut Command) {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn openssl() -> Command {
        let mut c = Command::new(super::require("openssl"));
        c.env("LC_ALL", "C.UTF-8");
        c
    }

    fn genkey(path: &Path, key: Key) {
        let mut c = openssl();
        c.args(["genpkey", "-quiet"]);
        match key {
            Key::Rsa(bits) => {
                c.args(["-algorithm", "RSA", "-pkeyopt"]);
                c.arg(format!("rsa_keygen_bits:{bits}"));
            }
            Key::P256 | Key::P384 => {
                let curve = if matches!(key, Key::P256) {
                    "P-256"
                } else {
                    "P-384"
                };
                c.args(["-algorithm", "EC", "-pkeyopt"]);
                c.arg(format!("ec_paramgen_curve:{curve}"));
                c.args(["-pkeyopt", "ec_param_enc:named_curve"]);
            }
            Key::Ed25519 => {
                c.args(["-algorithm", "ED25519"]);
            }
        }
        run(c.arg("-out").arg(path));
    }

    impl Pki {
        /// A new CA in `dir`: an RSA-3072 root ("Test VN Root CA G2") and an RSA-2048
        /// intermediate ("Test VN Public CA G2"), both valid for twenty years from now.
        ///
        /// # Panics
        /// When OpenSSL is missing or fails.
        pub fn create(dir: &Path) -> Pki {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let cnf = dir.join("ca.cnf");
            std::fs::write(&cnf, CONFIG).unwrap_or_else(|e| panic!("{}: {e}", cnf.display()));
            let root_key = dir.join("root.key");
            genkey(&root_key, Key::Rsa(3072));
            let root = dir.join("root.pem");
            run(openssl()
                .args(["req", "-x509", "-new", "-utf8", "-sha256", "-days", "7300"])
                .arg("-config")
                .arg(&cnf)
                .args(["-extensions", "v3_root", "-set_serial", "4096"])
                .args([
                    "-subj",
                    "/C=VN/O=Công ty Cổ phần Chứng thực số Thử nghiệm/CN=Test VN Root CA G2",
                ])
                .arg("-key")
                .arg(&root_key)
                .arg("-out")
                .arg(&root));
            let pki = Pki {
                dir: dir.to_path_buf(),
                root: root.clone(),
                intermediate: dir.join("intermediate.pem"),
            };
            pki.issue(
                "intermediate",
                "/C=VN/O=Công ty Cổ phần Chứng thực số Thử nghiệm/OU=Dịch vụ chứng thực chữ ký \
                 số công cộng/CN=Test VN Public CA G2",
                Key::Rsa(2048),
                (&root, &root_key),
                "v3_intermediate",
                8192,
            );
            pki
        }

        /// A leader's certificate: subject `C=VN, O=unit, CN=name`, issued by the
        /// intermediate, valid for ten years from now; `serial` must be unique.
        ///
        /// # Panics
        /// When OpenSSL fails.
        pub fn leaf(&self, stem: &str, name: &str, unit: &str, key: Key, serial: u32) -> Leaf {
            self.leaf_with(stem, name, unit, key, serial, "v3_leaf")
        }

        /// A leader's certificate for a public key held elsewhere (a token's: `public_key` is
        /// its SubjectPublicKeyInfo, DER or PEM), issued by the intermediate. `subject` is ASCII
        /// (`openssl x509 -new` reads it as Latin-1).
        ///
        /// # Panics
        /// When OpenSSL fails.
        pub fn certify(
            &self,
            stem: &str,
            subject: &str,
            public_key: &Path,
            serial: u32,
        ) -> PathBuf {
            let pem = self.dir.join(format!("{stem}.pub.pem"));
            let is_pem = std::fs::read(public_key)
                .unwrap_or_else(|e| panic!("{}: {e}", public_key.display()))
                .starts_with(b"-----BEGIN");
            run(openssl()
                .args([
                    "pkey",
                    "-pubin",
                    "-inform",
                    if is_pem { "PEM" } else { "DER" },
                ])
                .arg("-in")
                .arg(public_key)
                .arg("-out")
                .arg(&pem));
            let cert = self.dir.join(format!("{stem}.pem"));
            run(openssl()
                .args(["x509", "-new", "-sha256", "-days", "3650", "-subj", subject])
                .arg("-force_pubkey")
                .arg(&pem)
                .arg("-CA")
                .arg(&self.intermediate)
                .arg("-CAkey")
                .arg(self.dir.join("intermediate.key"))
                .arg("-set_serial")
                .arg(serial.to_string())
                .arg("-extfile")
                .arg(self.dir.join("ca.cnf"))
                .args(["-extensions", "v3_leaf", "-out"])
                .arg(&cert));
            cert
        }

        /// A certificate that may not sign (keyUsage keyEncipherment only).
        ///
        /// # Panics
        /// When OpenSSL fails.
        pub fn leaf_not_for_signing(&self, stem: &str, name: &str, serial: u32) -> Leaf {
            self.leaf_with(stem, name, "Đơn vị thử", Key::P256, serial, "v3_plain_leaf")
        }

        fn leaf_with(
            &self,
            stem: &str,
            name: &str,
            unit: &str,
            key: Key,
            serial: u32,
            ext: &str,
        ) -> Leaf {
            let issuer_key = self.dir.join("intermediate.key");
            let cert = self.issue(
                stem,
                &format!("/C=VN/ST=Quảng Ninh/O={unit}/CN={name}"),
                key,
                (&self.intermediate, &issuer_key),
                ext,
                serial,
            );
            Leaf {
                key: self.dir.join(format!("{stem}.key")),
                cert,
            }
        }

        fn issue(
            &self,
            stem: &str,
            subject: &str,
            key: Key,
            (issuer, issuer_key): (&Path, &Path),
            ext: &str,
            serial: u32,
        ) -> PathBuf {
            let key_path = self.dir.join(format!("{stem}.key"));
            genkey(&key_path, key);
            let csr = self.dir.join(format!("{stem}.csr"));
            let cnf = self.dir.join("ca.cnf");
            run(openssl()
                .args(["req", "-new", "-utf8", "-config"])
                .arg(&cnf)
                .args(["-subj", subject, "-key"])
                .arg(&key_path)
                .arg("-out")
                .arg(&csr));
            let cert = self.dir.join(format!("{stem}.pem"));
            run(openssl()
                .args(["x509", "-req", "-sha256", "-days", "3650", "-in"])
                .arg(&csr)
                .arg("-CA")
                .arg(issuer)
                .arg("-CAkey")
                .arg(issuer_key)
                .arg("-set_serial")
                .arg(serial.to_string())
                .arg("-extfile")
                .arg(&cnf)
                .args(["-extensions", ext, "-out"])
                .arg(&cert));
            cert
        }
    }

    /// `pyhanko sign addsig --field FIELD [extra] pemder --key --cert --chain`: signs `input`
    /// into `output` with `leaf` (its chain: `chain`).
    ///
    /// # Panics
    /// When pyHanko is missing or refuses.
    pub fn pyhanko_sign(
        input: &Path,
        output: &Path,
        field: &str,
        leaf: &Leaf,
        chain: &Path,
        extra: &[&str],
    ) {
        run(Command::new(super::require("pyhanko"))
            .args(["sign", "addsig", "--field", field])
            .args(extra)
            .args(["pemder", "--key"])
            .arg(&leaf.key)
            .arg("--cert")
            .arg(&leaf.cert)
            .arg("--chain")
            .arg(chain)
            .arg("--no-pass")
            .arg(input)
            .arg(output));
    }
}

/// Puts into `update` the newest document information dictionary of `file` with `/ModDate`
/// set to `date` (a PDF date string), as a viewer saving the document's properties does.
///
/// # Panics
/// When `file` has no `/Info` dictionary.
#[allow(clippy::expect_used)]
pub fn set_info_mod_date(
    file: &crate::pdf::PdfFile,
    update: &mut crate::pdf::IncrementalUpdate,
    date: &str,
) {
    use crate::pdf::{Object, PdfString};
    let info = file
        .trailer()
        .and_then(|t| t.get(b"Info"))
        .and_then(Object::as_reference)
        .expect("the file has an /Info dictionary");
    let mut dict = file
        .resolve_current(info)
        .ok()
        .and_then(|o| o.as_dict().cloned())
        .expect("/Info is a dictionary");
    dict.set("ModDate", Object::String(PdfString::literal(date)));
    update
        .put(info, Object::Dictionary(dict))
        .expect("the update takes the dictionary");
}

/// The test PKI of `tests/fixtures/test-pki/` served by certomancer on a free 127.0.0.1 port:
/// a root and an intermediate CA with CRLs and an OCSP responder, a TSA (RSA, critical EKU
/// timeStamping), signers with RSA, ECDSA P-256 and Ed25519 keys and one revoked signer. Stopped
/// when dropped.
pub struct TestPki {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The certificates (`root/{root,interm,tsa}.cert.pem`, `interm/<signer>.cert.pem`).
    pub certs: PathBuf,
    /// The keys (`<name>.key.pem`).
    pub keys: PathBuf,
}

impl TestPki {
    /// Starts certomancer for the fixture, writes its certificates under `dir` and waits until
    /// it answers.
    ///
    /// # Panics
    /// When certomancer is missing or does not start within 30 seconds.
    pub fn start(dir: &Path) -> TestPki {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test-pki");
        let config = fixture.join("certomancer.yml");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let certs = dir.join("test-pki");
        let _ = std::fs::remove_dir_all(&certs);
        let bin = require("certomancer");
        let summon = std::process::Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .args([
                "--service-url-prefix",
                &url,
                "mass-summon",
                "--no-pfx",
                "kt",
            ])
            .arg(&certs)
            .output()
            .unwrap_or_else(|e| panic!("certomancer: {e}"));
        assert!(
            summon.status.success(),
            "certomancer mass-summon: {}",
            String::from_utf8_lossy(&summon.stderr)
        );
        let child = std::process::Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .args([
                "--service-url-prefix",
                &url,
                "animate",
                "--aiohttp",
                "--no-web-ui",
            ])
            .args(["--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("certomancer animate: {e}"));
        let pki = TestPki {
            child,
            url,
            certs,
            keys: fixture.join("keys"),
        };
        let crl = format!("{}/kt/crls/root/latest.crl", pki.url);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while ureq::get(&crl).call().is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "certomancer did not answer at {crl}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        pki
    }

    /// The TSA's URL.
    pub fn tsa_url(&self) -> String {
        format!("{}/kt/tsa/tsa", self.url)
    }

    /// The root certificate's file.
    pub fn root(&self) -> PathBuf {
        self.certs.join("root/root.cert.pem")
    }

    /// A signer's certificate file (`signer-rsa`, `signer-ecdsa`, `signer-ed25519`, `revoked`).
    pub fn cert(&self, name: &str) -> PathBuf {
        self.certs.join(format!("interm/{name}.cert.pem"))
    }

    /// A key file.
    pub fn key(&self, name: &str) -> PathBuf {
        self.keys.join(format!("{name}.key.pem"))
    }

    /// The intermediate CA's certificate file.
    pub fn intermediate(&self) -> PathBuf {
        self.certs.join("root/interm.cert.pem")
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An S3-protocol server for tests: `moto_server` (PyPI moto[server]) on a free 127.0.0.1
/// port, with one empty bucket. It accepts any credentials. Stopped when dropped.
pub struct TestS3 {
    /// The server this value owns (stopped on drop); `None` for the process's shared one.
    child: Option<std::process::Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bucket created at the start.
    pub bucket: String,
}

impl TestS3 {
    /// Starts moto_server, waits until it answers and creates `bucket`.
    ///
    /// # Panics
    /// When moto_server is missing or does not start within 30 seconds.
    pub fn start(bucket: &str) -> TestS3 {
        let (child, url) = Self::spawn(None);
        let s3 = TestS3 {
            child: Some(child),
            url,
            bucket: bucket.to_owned(),
        };
        s3.create_bucket(bucket);
        s3
    }

    /// One moto_server for the whole test process (stopped by a watchdog when the process
    /// ends), with a bucket per `key` (the same key, the same bucket).
    pub fn shared_bucket(key: &str) -> crate::store::BlobLocation {
        use sha2::Digest as _;
        static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let url = SERVER.get_or_init(|| {
            let (child, url) = Self::spawn(Some(std::process::id()));
            std::mem::forget(child);
            url
        });
        let digest = sha2::Sha256::digest(key.as_bytes());
        let s3 = TestS3 {
            child: None,
            url: url.clone(),
            bucket: std::iter::once("t-".to_owned())
                .chain(digest.iter().take(10).map(|b| format!("{b:02x}")))
                .collect(),
        };
        s3.create_bucket(&s3.bucket);
        s3.location("")
    }

    /// Starts moto_server on a free port: as a child (killed on drop), or under a shell that
    /// stops it once process `watch` is gone.
    fn spawn(watch: Option<u32>) -> (std::process::Child, String) {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let moto = require("moto_server");
        let mut command = match watch {
            None => {
                let mut c = std::process::Command::new(moto);
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                c
            }
            Some(pid) => {
                let mut c = std::process::Command::new("sh");
                c.args([
                    "-c",
                    &format!(
                        "'{}' -H 127.0.0.1 -p {port} & m=$!; \
                         while kill -0 {pid} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; \
                         kill $m",
                        moto.display()
                    ),
                ]);
                c
            }
        };
        let child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("moto_server: {e}"));
        (child, url)
    }

    fn create_bucket(&self, bucket: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        // Any HTTP answer means the server is up (an existing bucket is answered too).
        while matches!(
            ureq::put(format!("{}/{bucket}", self.url)).send_empty(),
            Err(e) if !matches!(e, ureq::Error::StatusCode(_))
        ) {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not answer at {}",
                self.url
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// The service's settings for this bucket under `prefix`.
    pub fn location(&self, prefix: &str) -> crate::store::BlobLocation {
        crate::store::BlobLocation::S3(crate::store::S3Location {
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            endpoint: Some(self.url.clone()),
            region: Some("us-east-1".into()),
            virtual_hosted: false,
            allow_http: Some(true),
            checksum: true,
            access_key_id: Some("giaouoc-test".into()),
            secret_access_key: Some("giaouoc-test-secret".into()),
        })
    }

    /// The keys in the bucket under `prefix` (ListObjectsV2, unsigned).
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut resp = ureq::get(format!(
            "{}/{}?list-type=2&prefix={prefix}&max-keys=1000",
            self.url, self.bucket
        ))
        .call()
        .unwrap_or_else(|e| panic!("listing the bucket: {e}"));
        let xml = resp.body_mut().read_to_string().unwrap_or_default();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// Overwrites an object directly, as damage outside the service would.
    ///
    /// # Panics
    /// When the server refuses.
    pub async fn overwrite(&self, key: &str, bytes: &[u8]) {
        use object_store::ObjectStore as _;
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_endpoint(&self.url)
            .with_region("us-east-1")
            .with_allow_http(true)
            .with_access_key_id("giaouoc-test")
            .with_secret_access_key("giaouoc-test-secret")
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let path = object_store::path::Path::parse(key).unwrap_or_else(|e| panic!("{e}"));
        store
            .put(&path, bytes.to_vec().into())
            .await
            .unwrap_or_else(|e| panic!("overwriting {key}: {e}"));
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TCP port on 127.0.0.1 that is free now (the OS picks it).
///
/// # Panics
/// When the OS has none.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// A throwaway PostgreSQL cluster for the tests of this process, started on first use as
/// user `postgres` (`initdb` refuses root) in a temporary directory, listening on 127.0.0.1
/// only, and stopped and removed by a watchdog when the process ends.
#[derive(Debug)]
pub struct TestPostgres {
    port: u16,
    dir: PathBuf,
    /// Outlives this process on purpose (the value is never dropped).
    _watchdog: std::process::Child,
}

impl TestPostgres {
    /// The process's cluster.
    ///
    /// # Panics
    /// When PostgreSQL is not installed (`.ci/setup` installs the Debian package `postgresql`)
    /// or the cluster does not start.
    pub fn shared() -> &'static TestPostgres {
        static CLUSTER: std::sync::OnceLock<TestPostgres> = std::sync::OnceLock::new();
        CLUSTER.get_or_init(TestPostgres::start)
    }

    fn bin(name: &str) -> PathBuf {
        if let Some(dir) = std::env::var_os("GIAOUOC_TEST_PG_BIN") {
            return PathBuf::from(dir).join(name);
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.is_file())
            .collect();
        found.sort_by_key(|p| {
            p.iter()
                .nth(4)
                .and_then(|v| v.to_str()?.parse::<u32>().ok())
                .unwrap_or(0)
        });
        found.pop().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's {name} is missing, and this test needs it: run `.ci/setup` \
                 (installs the Debian package postgresql), or set GIAOUOC_TEST_PG_BIN to the \
                 folder holding initdb and pg_ctl"
            )
        })
    }

    /// `program args…`, as user postgres when this process is root.
    fn as_postgres(program: &Path) -> std::process::Command {
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        }
    }

    fn start() -> TestPostgres {
        let initdb = Self::bin("initdb");
        let pg_ctl = Self::bin("pg_ctl");
        let dir = std::env::temp_dir().join(format!(
            "giaouoc-pg-{}-{}",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let _ = std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let data = dir.join("data");
        let out = Self::as_postgres(&initdb)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .unwrap_or_else(|e| panic!("initdb: {e}"));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let server_options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=400 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.display()
        );
        let out = Self::as_postgres(&pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &server_options, "start"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("pg_ctl: {e}"));
        assert!(
            out.status.success(),
            "PostgreSQL did not start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        // The watchdog: stops the cluster and removes its folder once this process is gone.
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {runuser}'{pg_ctl}' -D '{data}' -m immediate stop; rm -rf '{dir}'",
            pid = std::process::id(),
            runuser = if Self::as_postgres(&pg_ctl).get_program() == "runuser" {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl = pg_ctl.display(),
            data = data.display(),
            dir = dir.display(),
        );
        let watchdog = std::process::Command::new("sh")
            .args(["-c", &stop])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("the cluster's watchdog: {e}"));
        TestPostgres {
            port,
            dir,
            _watchdog: watchdog,
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/NAME`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn psql(&self, sql: &str) -> std::process::Output {
        std::process::Command::new(Self::bin("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .output()
            .unwrap_or_else(|e| panic!("psql: {e}"))
    }

    /// The database for `key` (any text: a test's name, a temporary folder), created empty on
    /// first use; the same key gives the same database, so a store can be reopened.
    pub fn database(&self, key: &str) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(key.as_bytes());
        let name: String = std::iter::once("t_".to_owned())
            .chain(digest.iter().take(10).map(|b| format!("{b:02x}")))
            .collect();
        let out = self.psql(&format!("CREATE DATABASE {name}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("already exists"),
            "CREATE DATABASE {name}: {stderr}"
        );
        self.url(&name)
    }

    /// A new empty database, never handed out before in this process.
    pub fn fresh_database(&self, label: &str) -> String {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.database(&format!("{label}-{n}-{}", std::process::id()))
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

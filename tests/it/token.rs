//! Leaders whose keys live on a PKCS#11 token (SoftHSM2 here, keys generated on the token):
//! `giaouoc client sign --pkcs11` (RSA-2048 and Ed25519, through the service) and the offline
//! `giaouoc sign --pkcs11` (ECDSA P-256) followed by `giaouoc client upload`. pyHanko and pdfsig judge
//! the result; the PIN appears in no log (trace level), no output and no command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use giaouoc::test_support::foreign::Pki;
use giaouoc::test_support::{require, softhsm2_module};

use crate::crash::{ADMIN, Server, agent};
use crate::helpers::temp_dir;

const COVENANT: &str = "KTD-VHXH-QN-2021";
const BLOC: &str = "KTD-VHXH-QN";
pub(crate) const PIN: &str = "97531864";
pub(crate) const TOKEN_LABEL: &str = "giaouoc-test";

/// A SoftHSM2 token in `dir`: its configuration file.
pub(crate) fn init_token(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    run(Command::new(require("softhsm2-util"))
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", TOKEN_LABEL])
        .args(["--so-pin", "0000", "--pin", PIN]));
    conf
}

fn pkcs11_tool(conf: &Path) -> Command {
    let mut c = Command::new(require("pkcs11-tool"));
    c.env("SOFTHSM2_CONF", conf)
        .arg("--module")
        .arg(softhsm2_module());
    c
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Generates a key pair on the token (it never leaves it), has the test CA certify its public
/// key and stores the certificate next to it; the certificate's path.
pub(crate) fn token_key(
    conf: &Path,
    ca: &Pki,
    id: &str,
    key_type: &str,
    subject: &str,
    serial: u32,
) -> PathBuf {
    let label = format!("u{id}");
    run(pkcs11_tool(conf)
        .args([
            "--login",
            "--pin",
            PIN,
            "--keypairgen",
            "--key-type",
            key_type,
        ])
        .args(["--id", id, "--label", &label]));
    let public = ca.dir.join(format!("{label}.pub.der"));
    run(pkcs11_tool(conf)
        .args(["--read-object", "--type", "pubkey", "--id", id, "-o"])
        .arg(&public));
    let cert = ca.certify(&label, subject, &public, serial);
    let der = ca.dir.join(format!("{label}.der"));
    run(Command::new(require("openssl"))
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&cert)
        .arg("-out")
        .arg(&der));
    run(pkcs11_tool(conf)
        .args(["--login", "--pin", PIN, "--write-object"])
        .arg(&der)
        .args(["--type", "cert", "--id", id, "--label", &label]));
    cert
}

pub(crate) fn giaouoc(conf: &Path, args: &[&str], pin: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_giaouoc"))
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .env("GIAOUOC_PKCS11_PIN", pin)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap()
}

/// Asserts the command succeeded; its output and errors as one text (to look for secrets in).
pub(crate) fn succeeded(out: &Output, what: &str) -> String {
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{what}: {text}");
    text
}

pub(crate) fn post(server: &Server, path: &str, token: &str, body: Value) -> Value {
    let mut r = agent()
        .post(format!("{}{path}", server.url))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(&body)
        .unwrap();
    let status = r.status().as_u16();
    let v: Value = r.body_mut().read_json().unwrap();
    assert!(status < 300, "{path}: {status} {v}");
    v
}

#[test]
fn leaders_sign_with_keys_on_a_pkcs11_token_through_the_service_and_offline() {
    let dir = temp_dir("pkcs11");
    let conf = init_token(&dir.join("hsm"));
    let ca = Pki::create(&dir.join("pki"));
    let rsa = token_key(
        &conf,
        &ca,
        "03",
        "rsa:2048",
        "/C=VN/O=U03/CN=Mac Dinh Toan",
        403,
    );
    let ec = token_key(
        &conf,
        &ca,
        "05",
        "EC:prime256v1",
        "/C=VN/O=U05/CN=Cao Van Luc",
        405,
    );
    let ed = token_key(
        &conf,
        &ca,
        "07",
        "EC:edwards25519",
        "/C=VN/O=U07/CN=Au Thi Hai Yen",
        407,
    );
    let trust = dir.join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::copy(&ca.root, trust.join("root.pem")).unwrap();
    let log = dir.join("server.log");
    let server = Server::start_with(
        &dir.join("data"),
        &log,
        "trace",
        &["--trust-dir", trust.to_str().unwrap()],
    );
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(dir.join("data/demo-keys/tokens.json")).unwrap())
            .unwrap();
    let leader = |u: &str| tokens[u]["leader"].as_str().unwrap().to_owned();
    let intermediate = std::fs::read_to_string(&ca.intermediate).unwrap();
    for (unit, cert) in [("U03", &rsa), ("U05", &ec), ("U07", &ed)] {
        let pem = std::fs::read_to_string(cert).unwrap() + &intermediate;
        let e = post(
            &server,
            &format!("/blocs/{BLOC}/enrolments"),
            &leader(unit),
            json!({"unit": unit, "certificate_pem": pem, "title": "Giám đốc"}),
        );
        post(
            &server,
            &format!("/enrolments/{}/approve", e["id"]),
            &leader("U01"),
            json!({}),
        );
    }
    let module = softhsm2_module();
    let module = module.to_str().unwrap();

    // A wrong PIN: refused, and neither PIN is shown.
    let wrong = giaouoc(
        &conf,
        &[
            "client",
            "sign",
            "--server",
            &server.url,
            "--covenant",
            COVENANT,
            "--unit",
            "U03",
            "--pkcs11",
            module,
            "--token",
            &leader("U03"),
        ],
        "11112222",
    );
    assert!(!wrong.status.success());
    let text = String::from_utf8_lossy(&wrong.stderr).to_string()
        + &String::from_utf8_lossy(&wrong.stdout);
    assert!(text.contains("PIN"), "{text}");
    assert!(!text.contains("11112222") && !text.contains(PIN), "{text}");

    // Through the service: prepare, the token signs, complete.
    let args = [
        "client",
        "sign",
        "--server",
        &server.url,
        "--covenant",
        COVENANT,
        "--unit",
        "U03",
        "--pkcs11",
        module,
        "--token-label",
        TOKEN_LABEL,
        "--key-label",
        "u03",
        "--token",
        &leader("U03"),
    ];
    assert!(!args.contains(&PIN), "the PIN is not on the command line");
    let out = giaouoc(&conf, &args, PIN);
    let text = succeeded(&out, "giaouoc");
    assert!(!text.contains(PIN), "{text}");

    // Ed25519 on the token (CKM_EDDSA), through the service.
    let out = giaouoc(
        &conf,
        &[
            "client",
            "sign",
            "--server",
            &server.url,
            "--covenant",
            COVENANT,
            "--unit",
            "U07",
            "--pkcs11",
            module,
            "--key-label",
            "u07",
            "--token",
            &leader("U07"),
        ],
        PIN,
    );
    succeeded(&out, "giaouoc");

    // Offline with the token's ECDSA key and a time-stamp from the service's TSA (RFC 3161
    // over HTTP, its token checked against the TSA root), then uploaded.
    let (_, current) = server.get(&format!("/covenants/{COVENANT}/document.pdf"));
    let base = dir.join("base.pdf");
    let signed = dir.join("u05.pdf");
    std::fs::write(&base, &current).unwrap();
    let tsa_url = format!("{}/tsa", server.url);
    let tsa_root = dir.join("data/tsa/root/ca.crt");
    let out = giaouoc(
        &conf,
        &[
            "sign",
            "--in",
            base.to_str().unwrap(),
            "--field",
            "U05",
            "--pkcs11",
            module,
            "--key-label",
            "u05",
            "--chain",
            ca.intermediate.to_str().unwrap(),
            "--out",
            signed.to_str().unwrap(),
            "--tsa-url",
            &tsa_url,
            "--tsa-trust",
            tsa_root.to_str().unwrap(),
        ],
        PIN,
    );
    let text = succeeded(&out, "giaouoc");
    assert!(!text.contains(PIN), "{text}");
    let out = giaouoc(
        &conf,
        &[
            "client",
            "upload",
            "--server",
            &server.url,
            "--covenant",
            COVENANT,
            "--unit",
            "U05",
            "--file",
            signed.to_str().unwrap(),
            "--token",
            &leader("U05"),
        ],
        PIN,
    );
    succeeded(&out, "giaouoc");

    let (_, pdf) = server.get(&format!("/covenants/{COVENANT}/document.pdf"));
    let file = dir.join("signed.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let bloc_ca = dir.join("bloc-ca.pem");
    let (_, ca_pem) = server.get(&format!("/blocs/{BLOC}/ca.pem"));
    std::fs::write(&bloc_ca, ca_pem).unwrap();
    let tsa_ca = dir.join("data/tsa/root/ca.crt");
    let text = giaouoc::test_support::pyhanko_validate_with(&[&bloc_ca, &ca.root, &tsa_ca], &file);
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 3, "{text}");
    assert_eq!(
        text.matches("TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(),
        3,
        "{text}"
    );
    let sig = Command::new(require("pdfsig")).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&sig.stdout);
    assert_eq!(text.matches("Signature is Valid.").count(), 2, "{text}");
    for name in ["Mac Dinh Toan", "Cao Van Luc"] {
        assert!(text.contains(&format!("Common Name: {name}")), "{text}");
    }

    // The seal from a token: the demo's 2022 covenant asks for seals. Every unit registers, the
    // leader unit freezes it, U09's leader signs with its key file, then U09's clerk applies
    // the seal with the organisation's key on the token (CN = O: an organisation certificate
    // of the second CA, enrolled by the clerk).
    let y2022 = "KTD-VHXH-QN-2022";
    let officer = |u: &str| tokens[u]["officer"].as_str().unwrap().to_owned();
    let clerk = tokens["U09"]["clerk"].as_str().unwrap().to_owned();
    let fixture: Value = serde_json::from_slice(&crate::helpers::reference_json()).unwrap();
    for u in fixture["units"].as_array().unwrap() {
        let unit = u["id"].as_str().unwrap();
        let mut data = u["registration"].clone();
        data["submit"] = json!(true);
        let r = crate::crash::agent()
            .put(format!(
                "{}/covenants/{y2022}/registrations/{unit}",
                server.url
            ))
            .header("Authorization", format!("Bearer {}", officer(unit)))
            .send_json(&data)
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{unit}");
        post(
            &server,
            &format!("/covenants/{y2022}/registrations/{unit}/review"),
            &officer("U01"),
            json!({"accept": true}),
        );
    }
    post(
        &server,
        &format!("/covenants/{y2022}/freeze"),
        &officer("U01"),
        json!({}),
    );
    let org = token_key(
        &conf,
        &ca,
        "09",
        "rsa:2048",
        "/C=VN/O=Trung tam Huan luyen va Thi dau the duc the thao/CN=Trung tam Huan luyen va Thi dau the duc the thao",
        409,
    );
    let e = post(
        &server,
        &format!("/blocs/{BLOC}/enrolments"),
        &clerk,
        json!({"unit": "U09", "holder": "organisation",
               "certificate_pem": std::fs::read_to_string(&org).unwrap() + &intermediate}),
    );
    post(
        &server,
        &format!("/enrolments/{}/approve", e["id"]),
        &leader("U01"),
        json!({}),
    );
    let key = dir.join("data/demo-keys/U09.key");
    let out = giaouoc(
        &conf,
        &[
            "client",
            "sign",
            "--server",
            &server.url,
            "--covenant",
            y2022,
            "--unit",
            "U09",
            "--key",
            key.to_str().unwrap(),
            "--token",
            &leader("U09"),
        ],
        PIN,
    );
    succeeded(&out, "giaouoc client sign U09");
    let out = giaouoc(
        &conf,
        &[
            "client",
            "sign",
            "--server",
            &server.url,
            "--covenant",
            y2022,
            "--unit",
            "U09-dau",
            "--pkcs11",
            module,
            "--key-label",
            "u09",
            "--token",
            &clerk,
        ],
        PIN,
    );
    succeeded(&out, "giaouoc client sign U09-dau");
    let shown = server.json(&format!("/covenants/{y2022}"));
    assert_eq!(shown["units"][8]["seal_signed"], true, "{shown}");
    assert_eq!(shown["signed_count"], 1);
    let (_, pdf) = server.get(&format!("/covenants/{y2022}/document.pdf"));
    let sealed = dir.join("sealed-2022.pdf");
    std::fs::write(&sealed, &pdf).unwrap();
    let text =
        giaouoc::test_support::pyhanko_validate_with(&[&bloc_ca, &ca.root, &tsa_ca], &sealed);
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 2, "{text}");

    let server_log = std::fs::read_to_string(&log).unwrap();
    assert!(!server_log.is_empty(), "the server logged at trace level");
    assert!(
        !server_log.contains(PIN),
        "the PIN reached the server's log"
    );
    let _ = ADMIN;
}

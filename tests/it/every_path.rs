//! One covenant, sixteen signatures, every signing path on the same file: Ed25519 key files
//! through `giaouoc client sign`; RSA-2048 and ECDSA P-256 keys on a PKCS#11 token (SoftHSM2);
//! hash signing as a remote service does it (SHA-256 in, raw PKCS#1 v1.5 out); ECDSA P-256 and
//! RSA from `.p12` files in Chromium; files signed by pyHanko with a second CA's certificates and
//! uploaded. pyHanko (both roots) says INTACT:TRUSTED sixteen times, pdfsig validates every
//! RSA/ECDSA signature, and `giaouoc verify` says valid.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use giaouoc::test_support::foreign::{Key, Leaf, Pki, pyhanko_sign};
use giaouoc::test_support::{require, softhsm2_module};

use crate::crash::Server;
use crate::helpers::temp_dir;
use crate::token::{PIN, giaouoc, init_token, post, succeeded, token_key};
use crate::webdriver::Browser;

const COVENANT: &str = "KTD-VHXH-QN-2021";
const BLOC: &str = "KTD-VHXH-QN";

fn ok(out: std::process::Output, what: &str) {
    succeeded(&out, what);
}

fn enrol(server: &Server, leader: &dyn Fn(&str) -> String, unit: &str, pem: String) {
    let e = post(
        server,
        &format!("/blocs/{BLOC}/enrolments"),
        &leader(unit),
        json!({"unit": unit, "certificate_pem": pem, "title": "Giám đốc"}),
    );
    post(
        server,
        &format!("/enrolments/{}/approve", e["id"]),
        &leader("U01"),
        json!({}),
    );
}

fn p12(leaf: &Leaf, out: &Path) {
    ok(
        Command::new(require("openssl"))
            .args(["pkcs12", "-export", "-passout", "pass:2021", "-inkey"])
            .arg(&leaf.key)
            .arg("-in")
            .arg(&leaf.cert)
            .arg("-out")
            .arg(out)
            .output()
            .unwrap(),
        "openssl pkcs12",
    );
}

#[test]
fn one_covenant_signed_through_every_path_is_valid_for_pyhanko_pdfsig_and_giaouoc() {
    let dir = temp_dir("every-path");
    let conf = init_token(&dir.join("hsm"));
    let ca = Pki::create(&dir.join("pki"));
    let trust = dir.join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::copy(&ca.root, trust.join("root.pem")).unwrap();
    let server = Server::start_with(
        &dir.join("data"),
        &dir.join("server.log"),
        "warn",
        &["--trust-dir", trust.to_str().unwrap()],
    );
    let keys = dir.join("data/demo-keys");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(keys.join("tokens.json")).unwrap()).unwrap();
    let leader = |u: &str| tokens[u]["leader"].as_str().unwrap().to_owned();
    let intermediate = std::fs::read_to_string(&ca.intermediate).unwrap();
    let bundle = |cert: &Path| std::fs::read_to_string(cert).unwrap() + &intermediate;
    let units = crate::http_support::units();
    let printed = |unit: &str| {
        units
            .iter()
            .find(|u| u["id"] == unit)
            .and_then(|u| u["signer"]["full_name"].as_str())
            .unwrap()
            .to_owned()
    };

    // Certificates of the second CA: on the token, in files, in a remote service's hands.
    let u03 = token_key(
        &conf,
        &ca,
        "03",
        "rsa:2048",
        "/C=VN/O=U03/CN=Mac Dinh Toan",
        603,
    );
    let u04 = token_key(
        &conf,
        &ca,
        "04",
        "EC:prime256v1",
        "/C=VN/O=U04/CN=Ha Thi Minh Chau",
        604,
    );
    let mut leaves = std::collections::BTreeMap::new();
    for (unit, key, serial) in [
        ("U05", Key::Rsa(2048), 605),
        ("U06", Key::P256, 606),
        ("U07", Key::Rsa(2048), 607),
        ("U08", Key::Rsa(3072), 608),
        ("U09", Key::P384, 609),
    ] {
        let leaf = ca.leaf(&unit.to_lowercase(), &printed(unit), unit, key, serial);
        enrol(&server, &leader, unit, bundle(&leaf.cert));
        leaves.insert(unit, leaf);
    }
    enrol(&server, &leader, "U03", bundle(&u03));
    enrol(&server, &leader, "U04", bundle(&u04));

    let module = softhsm2_module();
    let module = module.to_str().unwrap();
    let cli_key = |unit: &str| {
        ok(
            giaouoc(
                &conf,
                &[
                    "client",
                    "sign",
                    "--server",
                    &server.url,
                    "--covenant",
                    COVENANT,
                    "--unit",
                    unit,
                    "--key",
                    keys.join(format!("{unit}.key")).to_str().unwrap(),
                    "--token",
                    &leader(unit),
                ],
                "",
            ),
            unit,
        );
    };
    let b = Browser::start(1280, 900, &dir.join("shots"));
    for n in 1..=16 {
        let unit = format!("U{n:02}");
        match unit.as_str() {
            "U03" | "U04" => ok(
                giaouoc(
                    &conf,
                    &[
                        "client",
                        "sign",
                        "--server",
                        &server.url,
                        "--covenant",
                        COVENANT,
                        "--unit",
                        &unit,
                        "--pkcs11",
                        module,
                        "--key-label",
                        &format!("u{}", &unit[1..]),
                        "--token",
                        &leader(&unit),
                    ],
                    PIN,
                ),
                &unit,
            ),
            "U05" => {
                // A remote signing service: SHA-256 in, raw PKCS#1 v1.5 out.
                let base = format!("/covenants/{COVENANT}/signatures/U05");
                let p = post(
                    &server,
                    &format!("{base}/prepare"),
                    &leader("U05"),
                    json!({}),
                );
                let hash = B64.decode(p["hash_to_sign"].as_str().unwrap()).unwrap();
                let input = dir.join("hash.bin");
                std::fs::write(&input, hash).unwrap();
                let out = Command::new(require("openssl"))
                    .args(["pkeyutl", "-sign", "-pkeyopt", "digest:sha256", "-inkey"])
                    .arg(&leaves["U05"].key)
                    .arg("-in")
                    .arg(&input)
                    .output()
                    .unwrap();
                assert!(out.status.success());
                post(
                    &server,
                    &format!("{base}/complete"),
                    &leader("U05"),
                    json!({"prepare_id": p["prepare_id"], "signature": B64.encode(&out.stdout)}),
                );
            }
            "U06" | "U07" => {
                let file = dir.join(format!("{unit}.p12"));
                p12(&leaves[unit.as_str()], &file);
                b.goto(&format!("{}/dang-nhap", server.url));
                b.type_into("#ma", &leader(&unit));
                b.click("form.form button[type=submit]");
                b.wait_text("header .who", &unit);
                b.goto(&format!("{}/giao-uoc/{COVENANT}/ky/{unit}", server.url));
                b.type_into("#tep-khoa", file.to_str().unwrap());
                b.type_into("#mat-khau-khoa", "2021");
                b.click("#nut-ky");
                b.wait_text("#ket-qua", "Đã ký thành công");
                b.click("form[action='/dang-xuat'] button");
                b.wait_text("header .account", "Đăng nhập");
            }
            "U08" | "U09" => {
                let (_, current) = server.get(&format!("/covenants/{COVENANT}/document.pdf"));
                let input = dir.join("upload-in.pdf");
                let signed = dir.join(format!("{unit}.pdf"));
                std::fs::write(&input, current).unwrap();
                pyhanko_sign(
                    &input,
                    &signed,
                    &unit,
                    &leaves[unit.as_str()],
                    &ca.intermediate,
                    &[],
                );
                ok(
                    giaouoc(
                        &conf,
                        &[
                            "client",
                            "upload",
                            "--server",
                            &server.url,
                            "--covenant",
                            COVENANT,
                            "--unit",
                            &unit,
                            "--file",
                            signed.to_str().unwrap(),
                            "--token",
                            &leader(&unit),
                        ],
                        "",
                    ),
                    &unit,
                );
            }
            _ => cli_key(&unit),
        }
    }

    let (_, pdf) = server.get(&format!("/covenants/{COVENANT}/document.pdf"));
    let file = dir.join("signed.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = giaouoc::test_support::pyhanko_validate_with(
        &[&keys.join("ca.pem"), &ca.root, &keys.join("tsa-ca.pem")],
        &file,
    );
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 16, "{text}");
    let sig = Command::new(require("pdfsig")).arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&sig.stdout);
    // 16 signatures, then the service's document time-stamps: after each upload without a
    // signature time-stamp, and over the long-term validation data at the end.
    let blocks: Vec<&str> = text.split("Signature #").skip(1).collect();
    let stamps = blocks
        .iter()
        .filter(|b| b.contains("Signature Field Name: DocTS"))
        .count();
    assert_eq!(blocks.len() - stamps, 16, "{text}");
    let blocks: Vec<&str> = blocks
        .into_iter()
        .filter(|b| !b.contains("Signature Field Name: DocTS"))
        .collect();
    for n in [3, 4, 5, 6, 7, 8, 9] {
        assert!(
            blocks[n - 1].contains("Signature Validation: Signature is Valid."),
            "signature {n}: {}",
            blocks[n - 1]
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_giaouoc"))
        .args(["verify", file.to_str().unwrap(), "--trust"])
        .arg(keys.join("ca.pem"))
        .arg("--trust")
        .arg(&ca.root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("16/16 chữ ký đạt yêu cầu"), "{text}");
}

//! The reference bloc with seals (Decree 30/2020 Appendix I, ô 8): each unit's leader signs,
//! then its clerk (văn thư) applies the unit's seal with the organisation's certificate. 32
//! signatures over HTTP: leaders with Ed25519 keys; seals with bloc organisation certificates
//! (Ed25519 and ECDSA P-256, signed by prepare/complete), with RSA organisation certificates of
//! another CA (hash signing as a remote service does it) and through pyHanko and the upload.
//! pyHanko says INTACT:TRUSTED 32 times, `giaouoc verify` valid with 16 unit cards; every
//! refusal leaves the file as it was.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use giaouoc::http::Options;
use giaouoc::pki;
use giaouoc::test_support::foreign::{Key, Leaf, Pki, pyhanko_sign};

use crate::helpers::{giaouoc, reference_json, temp_dir};
use crate::http_support::*;

/// The reference covenant asking for seals.
fn sealed_input() -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&reference_json()).unwrap();
    v["covenant"]["seal_signatures"] = json!(true);
    serde_json::to_vec(&v).unwrap()
}

/// How each unit's organisation signs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SealPath {
    /// A bloc organisation certificate for an Ed25519 key; prepare, sign, complete.
    BlocEd25519,
    /// A bloc organisation certificate for an ECDSA P-256 key; prepare, sign, complete.
    BlocP256,
    /// Another CA's RSA organisation certificate, the hash signed as a remote service does.
    ForeignRemote,
    /// Another CA's RSA organisation certificate, the field signed by pyHanko and uploaded.
    ForeignUpload,
}

fn seal_path(i: usize) -> SealPath {
    match i {
        0..=5 => SealPath::BlocEd25519,
        6..=10 => SealPath::BlocP256,
        11..=13 => SealPath::ForeignRemote,
        _ => SealPath::ForeignUpload,
    }
}

/// An organisation key of the bloc CA's kinds.
enum OrgKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl OrgKey {
    fn public_pem(&self) -> String {
        use p256::pkcs8::EncodePublicKey;
        match self {
            OrgKey::Ed25519(k) => pki::verifying_key_to_pem(&k.verifying_key()).unwrap(),
            OrgKey::P256(k) => k
                .verifying_key()
                .to_public_key_pem(p256::pkcs8::LineEnding::LF)
                .unwrap(),
        }
    }

    fn sign(&self, to_sign: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            OrgKey::Ed25519(k) => k.sign(to_sign).to_bytes().to_vec(),
            OrgKey::P256(k) => {
                let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, to_sign);
                s.to_der().as_bytes().to_vec()
            }
        }
    }
}

struct Bloc {
    app: TestApp,
    tokens: Tokens,
    clerks: std::collections::BTreeMap<String, String>,
    dir: std::path::PathBuf,
}

impl Bloc {
    fn clerk(&self, unit: &str) -> &str {
        &self.clerks[unit]
    }

    async fn current(&self) -> Value {
        self.app
            .get(&format!("/covenants/{COVENANT}"), Some(&self.app.admin))
            .await
            .expect(StatusCode::OK)
            .json()
    }

    async fn prepare(&self, field: &str, token: &str, body: Value) -> Reply {
        self.app
            .post(
                &format!("/covenants/{COVENANT}/signatures/{field}/prepare"),
                Some(token),
                body,
            )
            .await
    }

    async fn complete(&self, field: &str, prepared: &Value, signature: &[u8]) -> Value {
        self.app
            .post(
                &format!("/covenants/{COVENANT}/signatures/{field}/complete"),
                None,
                json!({"prepare_id": prepared["prepare_id"], "signature": B64.encode(signature)}),
            )
            .await
            .expect(StatusCode::OK)
            .json()
    }

    async fn pdf(&self) -> Vec<u8> {
        self.app
            .get(
                &format!("/covenants/{COVENANT}/document.pdf"),
                Some(&self.app.admin),
            )
            .await
            .expect(StatusCode::OK)
            .body
            .to_vec()
    }
}

/// Created, registered, frozen with seals; leaders enrolled; each unit has a clerk token.
async fn sealed_bloc(name: &str, anchors: Vec<x509_cert::Certificate>) -> Bloc {
    let dir = temp_dir(name);
    let app = TestApp::open(
        &dir.join("service"),
        Options {
            trust_anchors: anchors,
            ..Options::default()
        },
    )
    .await;
    let created = post_json_bytes(&app, "/covenants", &sealed_input()).await;
    assert_eq!(created["id"], COVENANT);
    let tokens = unit_tokens(&app).await;
    let mut clerks = std::collections::BTreeMap::new();
    for unit in tokens.keys() {
        clerks.insert(unit.clone(), unit_token(&app, unit, "clerk").await);
    }
    register_all(&app, &tokens).await;
    let frozen = freeze(&app, &tokens).await;
    assert_eq!(frozen["seal_signatures"], true);
    enrol_all(&app, &tokens).await;
    Bloc {
        app,
        tokens,
        clerks,
        dir,
    }
}

async fn post_json_bytes(app: &TestApp, uri: &str, body: &[u8]) -> Value {
    use axum::body::Body;
    use axum::http::{Request, header};
    app.send(
        Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.admin))
            .body(Body::from(body.to_vec()))
            .unwrap(),
    )
    .await
    .expect(StatusCode::CREATED)
    .json()
}

/// The unit's organisation certificate from the bloc CA (enrolled by its clerk, approved by
/// the admin).
async fn enrol_organisation(b: &Bloc, unit: &str, key: &OrgKey) -> Value {
    let e = b
        .app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(b.clerk(unit)),
            json!({"unit": unit, "public_key_pem": key.public_pem(), "holder": "organisation"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let cert = b
        .app
        .post(
            &format!("/enrolments/{}/approve", e["id"]),
            Some(&b.app.admin),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(cert["holder"], "organisation", "{cert}");
    cert
}

/// Another CA's organisation certificate (CN = O = the unit's name), enrolled for the seal.
async fn enrol_foreign_organisation(b: &Bloc, pki: &Pki, unit: &str, name: &str, i: usize) -> Leaf {
    let leaf = pki.leaf(
        &format!("{unit}-dau"),
        name,
        name,
        Key::Rsa(2048),
        3000 + i as u32,
    );
    let pem = std::fs::read_to_string(&leaf.cert).unwrap()
        + &std::fs::read_to_string(&pki.intermediate).unwrap();
    let e = b
        .app
        .post(
            &format!("/blocs/{BLOC}/enrolments"),
            Some(b.clerk(unit)),
            json!({"unit": unit, "certificate_pem": pem, "holder": "organisation"}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    b.app
        .post(
            &format!("/enrolments/{}/approve", e["id"]),
            Some(&b.app.admin),
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    leaf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_leaders_and_sixteen_seals_are_valid_for_pyhanko_and_giaouoc() {
    let dir = temp_dir("seal-pki");
    let foreign = Pki::create(&dir.join("pki"));
    let root = pki::certificates_from_pem_or_der(&std::fs::read(&foreign.root).unwrap())
        .unwrap()
        .remove(0);
    let b = sealed_bloc("seal-32", vec![root]).await;
    let units = units();

    // Each unit's seal image (red, transparent, 36 mm) and organisation certificate.
    let mut org_keys = Vec::new();
    let mut foreign_leaves = Vec::new();
    for (i, u) in units.iter().enumerate() {
        let unit = u["id"].as_str().unwrap();
        let png = giaouoc::sign::SealImage::sample_png(36.0, i as u32);
        let saved = b
            .app
            .send(
                axum::http::Request::put(format!("/blocs/{BLOC}/units/{unit}/seal"))
                    .header("authorization", format!("Bearer {}", b.clerk(unit)))
                    .header("content-type", "image/png")
                    .body(axum::body::Body::from(png))
                    .unwrap(),
            )
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(saved["diameter_mm"], 36.0);
        match seal_path(i) {
            SealPath::BlocEd25519 => {
                let key = OrgKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                    &[u8::try_from(100 + i).unwrap(); 32],
                ));
                let cert = enrol_organisation(&b, unit, &key).await;
                assert_eq!(cert["info"]["unit_id"], unit);
                assert!(cert["info"]["title"].is_null(), "no personal title: {cert}");
                org_keys.push(Some(key));
                foreign_leaves.push(None);
            }
            SealPath::BlocP256 => {
                let key = OrgKey::P256(
                    p256::ecdsa::SigningKey::from_slice(&[u8::try_from(100 + i).unwrap(); 32])
                        .unwrap(),
                );
                enrol_organisation(&b, unit, &key).await;
                org_keys.push(Some(key));
                foreign_leaves.push(None);
            }
            SealPath::ForeignRemote | SealPath::ForeignUpload => {
                let name = u["name"].as_str().unwrap();
                let leaf = enrol_foreign_organisation(&b, &foreign, unit, name, i).await;
                org_keys.push(None);
                foreign_leaves.push(Some(leaf));
            }
        }
    }

    let index = |v: &Value| v["revision"]["index"].as_i64().unwrap();
    // A clerk only seals: not the leader unit's work (U01's clerk archiving), not a
    // registration.
    let r = b
        .app
        .post(
            &format!("/covenants/{COVENANT}/archive"),
            Some(b.clerk("U01")),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json());
    let r = b
        .app
        .put(
            &format!("/covenants/{COVENANT}/registrations/U02"),
            Some(b.clerk("U02")),
            json!({"pledges": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json());
    // Refusals before anything is signed: the seal before the leader, nothing stored.
    let before = index(&b.current().await);
    let r = b.prepare("U03-dau", b.clerk("U03"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json());
    assert_eq!(r.json()["error"], "leader_not_signed");

    for (i, u) in units.iter().enumerate() {
        let unit = u["id"].as_str().unwrap();
        // The leader signs.
        let done = sign_once(&b.app, &b.tokens, i)
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(done["state"], "signing", "{done}");
        if i == 1 {
            // The refusals, each with its status, and the file as it was.
            let at = index(&b.current().await);
            let seal = format!("{unit}-dau");
            // The clerk in the leader's field, the leader in the seal field.
            let r = b.prepare("U03", b.clerk("U03"), json!({})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json());
            let r = b.prepare(&seal, leader(&b.tokens, unit), json!({})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json());
            // Another unit's clerk on this seal.
            let r = b.prepare(&seal, b.clerk("U04"), json!({})).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json());
            // The leader's personal certificate in the seal field.
            let personal = b
                .app
                .get(&format!("/blocs/{BLOC}/certificates/{unit}"), None)
                .await
                .expect(StatusCode::OK)
                .json();
            let r = b
                .prepare(
                    &seal,
                    b.clerk(unit),
                    json!({"certificate_pem": personal["certificate_pem"]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json());
            assert_eq!(r.json()["error"], "personal_certificate");
            // The unit's organisation certificate in the leader's field of another unit is
            // no one's: refused too.
            assert_eq!(index(&b.current().await), at, "a refusal stored nothing");
        }
        // Its clerk applies the seal.
        let field = format!("{unit}-dau");
        let done = match seal_path(i) {
            SealPath::BlocEd25519 | SealPath::BlocP256 => {
                let prepared = b
                    .prepare(&field, b.clerk(unit), json!({}))
                    .await
                    .expect(StatusCode::OK)
                    .json();
                let to_sign = B64.decode(prepared["to_sign"].as_str().unwrap()).unwrap();
                let key = org_keys[i].as_ref().unwrap();
                b.complete(&field, &prepared, &key.sign(&to_sign)).await
            }
            SealPath::ForeignRemote => {
                let leaf = foreign_leaves[i].as_ref().unwrap();
                let pem = std::fs::read_to_string(&leaf.cert).unwrap();
                let prepared = b
                    .prepare(&field, b.clerk(unit), json!({"certificate_pem": pem}))
                    .await
                    .expect(StatusCode::OK)
                    .json();
                assert_eq!(prepared["hash_algorithm"], "SHA-256");
                let hash = B64
                    .decode(prepared["hash_to_sign"].as_str().unwrap())
                    .unwrap();
                let sig = crate::signing_paths::sign_hash(&leaf.key, &hash, &b.dir);
                b.complete(&field, &prepared, &sig).await
            }
            SealPath::ForeignUpload => {
                let leaf = foreign_leaves[i].as_ref().unwrap();
                let input = b.dir.join(format!("{unit}-in.pdf"));
                let output = b.dir.join(format!("{unit}-out.pdf"));
                std::fs::write(&input, b.pdf().await).unwrap();
                pyhanko_sign(&input, &output, &field, leaf, &foreign.intermediate, &[]);
                post_pdf(
                    &b.app,
                    &format!("/covenants/{COVENANT}/signatures/{field}/upload"),
                    Some(b.clerk(unit)),
                    std::fs::read(&output).unwrap(),
                )
                .await
                .expect(StatusCode::OK)
                .json()
            }
        };
        let want = if i == 15 { "completed" } else { "signing" };
        assert_eq!(done["state"], want, "{unit}: {done}");
        let shown = b.current().await;
        assert_eq!(shown["units"][i]["seal_signed"], true);
        assert_eq!(shown["units"][i]["signed"], true);
        assert_eq!(shown["signed_count"], i as i64 + 1);
    }

    // The file: 32 signatures, each unit's seal after its leader.
    let pdf = b.pdf().await;
    let path = b.dir.join("sealed.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let ca_pem = b
        .app
        .get(&format!("/blocs/{BLOC}/ca.pem"), None)
        .await
        .expect(StatusCode::OK)
        .body;
    let tsa_pem = b
        .app
        .get("/tsa/ca.pem", None)
        .await
        .expect(StatusCode::OK)
        .body;
    std::fs::write(b.dir.join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(b.dir.join("tsa.pem"), &tsa_pem).unwrap();
    let roots = [
        b.dir.join("ca.pem"),
        b.dir.join("tsa.pem"),
        foreign.root.clone(),
    ];
    let roots: Vec<&std::path::Path> = roots.iter().map(|p| p.as_path()).collect();
    let text = giaouoc::test_support::pyhanko_validate_with(&roots, &path);
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 32, "{text}");
    assert!(!text.contains("ILLEGAL"), "{text}");

    // `giaouoc verify`: valid, one card per unit with both signatures.
    let verify_args = [
        "verify".to_owned(),
        path.display().to_string(),
        "--trust".to_owned(),
        b.dir.join("ca.pem").display().to_string(),
        "--trust".to_owned(),
        b.dir.join("tsa.pem").display().to_string(),
        "--trust".to_owned(),
        foreign.root.display().to_string(),
    ];
    let args: Vec<&str> = verify_args.iter().map(String::as_str).collect();
    let out = giaouoc(&[args.as_slice(), &["--json"]].concat());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(report["signatures"].as_array().unwrap().len(), 32);
    let cards = report["units"].as_array().unwrap();
    assert_eq!(cards.len(), 16);
    for (i, c) in cards.iter().enumerate() {
        let unit = format!("U{:02}", i + 1);
        assert_eq!(c["unit"], unit.as_str());
        assert_eq!(c["seal_field"], format!("{unit}-dau"));
        assert_eq!(c["complete"], true, "{c}");
        let leader = &report["signatures"][c["leader"].as_u64().unwrap() as usize];
        let seal = &report["signatures"][c["seal"].as_u64().unwrap() as usize];
        assert_eq!(leader["field"], unit.as_str());
        assert_eq!(seal["field"], format!("{unit}-dau"));
        assert!(leader["revision"].as_u64() < seal["revision"].as_u64());
    }
    // The same in words.
    let out = giaouoc(&args);
    let words = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        words.matches("đủ chữ ký của lãnh đạo và dấu").count(),
        16,
        "{words}"
    );
    let _ = before;
}

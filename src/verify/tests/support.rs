//! Test fixtures: the reference covenant rendered with its 16 empty
//! signature fields, a small PKI, and a minimal test-only PAdES signer
//! (incremental update, placeholder `/Contents`, SHA-512, Ed25519, CMS).

use std::sync::OnceLock;

use ed25519_dalek::{Signer as _, SigningKey};
use sha2::{Digest, Sha512};
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::Certificate;

use crate::cms::{build_signed_data, signed_attributes_der};
use crate::pdf::{Dict, IncrementalUpdate, Limits, ObjRef, Object, PdfFile};
use crate::pki::{
    CaSubject, Crl, LeaderSubject, create_ca_certificate, create_crl, issue_leader_certificate,
    parse_crl,
};
use crate::render_pdf::PdfOptions;
use crate::template::Template;

use super::super::VerifyOptions;
use crate::pdf::walk::scan_fields;
use crate::pdf::walk::{Budget, MAX_WORK};

pub const BLOC: &str = "Khối thi đua các đơn vị thuộc Sở, ngành Văn hóa - Xã hội tỉnh Quảng Ninh";

/// Bytes reserved for the CMS in `/Contents`.
const RESERVED: usize = 8192;

/// A key with its certificate and the chain to embed.
pub struct Identity {
    pub key: SigningKey,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
}

/// The unsigned covenant, the bloc PKI and the covenant signed by U01, U02, U03 in turn.
pub struct Fixture {
    pub ca_key: SigningKey,
    pub ca: Certificate,
    /// Leaders of U01..U05 (index 0 is U01).
    pub leaders: Vec<Identity>,
    pub unsigned: Vec<u8>,
    /// `signed[k]` holds k + 1 signatures.
    pub signed: Vec<Vec<u8>>,
    /// With [`Signer::PyHanko`]: the second CA's leaves, one per leader.
    pub pyhanko: Option<PyHankoKit>,
}

/// Who signs the fixtures of the current thread (see [`with_signer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// This crate's signer, Ed25519 keys of the test bloc CA (certificates with unit ids).
    Ours,
    /// pyHanko, with RSA and ECDSA keys of a second CA (made with OpenSSL; certificates
    /// named after the leaders printed under the fields).
    PyHanko,
}

thread_local! {
    static SIGNER: std::cell::Cell<Signer> = const { std::cell::Cell::new(Signer::Ours) };
}

/// Whether this thread's fixtures are signed by pyHanko. (Asked without touching the
/// fixtures: the fixtures' own signing asks it while they are being made.)
fn pyhanko_run() -> bool {
    SIGNER.with(std::cell::Cell::get) == Signer::PyHanko
}

/// Runs `f` with the fixtures signed by `signer` on this thread.
pub fn with_signer<T>(signer: Signer, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SIGNER.with(|s| s.set(Signer::Ours));
        }
    }
    SIGNER.with(|s| s.set(signer));
    let _reset = Reset;
    f()
}

/// The second CA's leaves for [`Signer::PyHanko`].
pub struct PyHankoKit {
    pub intermediate: std::path::PathBuf,
    pub leaves: Vec<crate::test_support::foreign::Leaf>,
    /// pyHanko options per leader (PAdES or not, PSS).
    pub options: Vec<&'static [&'static str]>,
    pub dir: std::path::PathBuf,
}

/// A fixture signature pyHanko cannot make (a custom signature dictionary, a key of the
/// bloc CA): the case is skipped in [`Signer::PyHanko`] runs.
#[derive(Debug)]
pub struct NotWithPyHanko;

pub fn ca_identity(seed: u8) -> (SigningKey, Certificate) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let cert = create_ca_certificate(
        &key,
        &CaSubject { name: BLOC.into() },
        1,
        datetime!(2025-01-01 00:00:00 UTC),
        datetime!(2035-01-01 00:00:00 UTC),
    )
    .unwrap();
    (key, cert)
}

const LEADERS: [(&str, &str, &str); 5] = [
    ("Nguyễn Văn Hùng", "Giám đốc", "Sở Văn hóa và Thể thao"),
    ("Trần Thị Thu Hà", "Giám đốc", "Sở Y tế"),
    ("Lê Minh Đức", "Giám đốc", "Sở Giáo dục và Đào tạo"),
    (
        "Phạm Thị Hồng Nhung",
        "Giám đốc",
        "Sở Lao động - Thương binh và Xã hội",
    ),
    ("Vũ Quốc Khánh", "Trưởng ban", "Ban Dân tộc"),
];

/// A leader of unit `U0{index+1}`, issued by the given CA.
pub fn leader(ca_key: &SigningKey, ca: &Certificate, index: usize, key_seed: u8) -> Identity {
    let (name, title, unit) = LEADERS[index];
    let key = SigningKey::from_bytes(&[key_seed; 32]);
    let cert = issue_leader_certificate(
        ca_key,
        ca,
        &key.verifying_key(),
        &LeaderSubject {
            full_name: name.into(),
            title: title.into(),
            unit_name: unit.into(),
            unit_id: format!("U{:02}", index + 1),
        },
        0x1000 + index as u64,
        datetime!(2025-06-01 00:00:00 UTC),
        datetime!(2027-06-01 00:00:00 UTC),
    )
    .unwrap();
    Identity {
        key,
        cert,
        chain: vec![ca.clone()],
    }
}

/// A leader of a unit the fixture does not have (e.g. `U17`), issued by the bloc CA.
pub fn unit_identity(unit_id: &str, key_seed: u8, serial: u64) -> Identity {
    if pyhanko_run() {
        std::panic::panic_any(NotWithPyHanko);
    }
    let f = fixture();
    let key = SigningKey::from_bytes(&[key_seed; 32]);
    let cert = issue_leader_certificate(
        &f.ca_key,
        &f.ca,
        &key.verifying_key(),
        &LeaderSubject {
            full_name: "Đỗ Văn Mạo".into(),
            title: "Giám đốc".into(),
            unit_name: "Đơn vị không có trong giao ước".into(),
            unit_id: unit_id.into(),
        },
        serial,
        datetime!(2025-06-01 00:00:00 UTC),
        datetime!(2027-06-01 00:00:00 UTC),
    )
    .unwrap();
    Identity {
        key,
        cert,
        chain: vec![f.ca.clone()],
    }
}

/// The reference covenant as rendered by the crate (16 empty fields U01..U16).
pub fn render_unsigned() -> Vec<u8> {
    let json = include_bytes!("../../../tests/fixtures/covenant-2021-quang-ninh.json");
    let (_, doc) = crate::render::prepare(json, &Template::builtin()).unwrap();
    crate::render::pdf(&doc, &PdfOptions::default())
        .unwrap()
        .bytes
}

/// Signing times of the three fixture signatures (claimed, `/M`).
pub const TIMES: [&str; 3] = [
    "D:20260315093000+07'00'",
    "D:20260316100000+07'00'",
    "D:20260317143000+07'00'",
];

pub fn fixture() -> &'static Fixture {
    match SIGNER.with(std::cell::Cell::get) {
        Signer::Ours => our_fixture(),
        Signer::PyHanko => pyhanko_fixture(),
    }
}

/// The fixture signed by pyHanko with a second CA's RSA and ECDSA certificates.
fn pyhanko_fixture() -> &'static Fixture {
    use crate::test_support::foreign::{Key, Pki};
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("giaouoc-pyhanko-fixture-{}", std::process::id()));
        let pki = Pki::create(&dir.join("pki"));
        let json: serde_json::Value = serde_json::from_slice(include_bytes!(
            "../../../tests/fixtures/covenant-2021-quang-ninh.json"
        ))
        .unwrap();
        let keys = [
            Key::Rsa(2048),
            Key::P256,
            Key::Rsa(3072),
            Key::P384,
            Key::Rsa(2048),
        ];
        let options: Vec<&'static [&'static str]> = vec![
            &[],
            &["--use-pades"],
            &["--prefer-pss", "--use-pades"],
            &[],
            &["--use-pades"],
        ];
        let read = |p: &std::path::Path| {
            crate::pki::certificates_from_pem_or_der(&std::fs::read(p).unwrap())
                .unwrap()
                .remove(0)
        };
        let intermediate = read(&pki.intermediate);
        let mut leaves = Vec::new();
        let mut leaders = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            let u = &json["units"][i];
            let leaf = pki.leaf(
                &format!("u{:02}", i + 1),
                u["signer"]["full_name"].as_str().unwrap(),
                u["name"].as_str().unwrap(),
                key,
                200 + i as u32,
            );
            leaders.push(Identity {
                key: SigningKey::from_bytes(&[0x70 + i as u8; 32]),
                cert: read(&leaf.cert),
                chain: vec![intermediate.clone()],
            });
            leaves.push(leaf);
        }
        let (ca_key, _) = ca_identity(0x12);
        let mut f = Fixture {
            ca_key,
            ca: read(&pki.root),
            leaders,
            unsigned: render_unsigned(),
            signed: Vec::new(),
            pyhanko: Some(PyHankoKit {
                intermediate: pki.intermediate.clone(),
                leaves,
                options,
                dir,
            }),
        };
        let mut current = f.unsigned.clone();
        for i in 0..TIMES.len() {
            current = pyhanko_sign(&f, &current, &format!("U{:02}", i + 1), i, false);
            f.signed.push(current.clone());
        }
        f
    })
}

/// `bytes` with `field` signed by pyHanko as leader `index` (memoised: the attack table asks
/// for the same signatures many times).
fn pyhanko_sign(f: &Fixture, bytes: &[u8], field: &str, index: usize, certify: bool) -> Vec<u8> {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    type Key = (Vec<u8>, String, usize, bool);
    static MEMO: Mutex<BTreeMap<Key, Vec<u8>>> = Mutex::new(BTreeMap::new());
    let key = (
        sha2::Sha256::digest(bytes).to_vec(),
        field.to_owned(),
        index,
        certify,
    );
    if let Some(hit) = MEMO.lock().unwrap().get(&key) {
        return hit.clone();
    }
    let kit = f.pyhanko.as_ref().unwrap();
    let n = MEMO.lock().unwrap().len();
    let input = kit.dir.join(format!("in-{n}.pdf"));
    let output = kit.dir.join(format!("out-{n}.pdf"));
    std::fs::write(&input, bytes).unwrap();
    let mut options: Vec<&str> = kit.options[index].to_vec();
    if certify {
        options.push("--certify");
    }
    crate::test_support::foreign::pyhanko_sign(
        &input,
        &output,
        field,
        &kit.leaves[index],
        &kit.intermediate,
        &options,
    );
    let out = std::fs::read(&output).unwrap();
    MEMO.lock().unwrap().insert(key, out.clone());
    out
}

/// The index of `who` among the fixture's leaders, in a pyHanko run.
fn pyhanko_leader(who: &Identity) -> Option<usize> {
    let f = fixture();
    f.pyhanko.as_ref()?;
    f.leaders.iter().position(|l| l.cert == who.cert)
}

fn our_fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (ca_key, ca) = ca_identity(0x11);
        let leaders: Vec<Identity> = (0..5)
            .map(|i| leader(&ca_key, &ca, i, 0x21 + i as u8))
            .collect();
        let unsigned = render_unsigned();
        let mut signed = Vec::new();
        let mut current = unsigned.clone();
        for (i, time) in TIMES.iter().enumerate() {
            current = sign_field(&current, &format!("U{:02}", i + 1), &leaders[i], time);
            signed.push(current.clone());
        }
        Fixture {
            ca_key,
            ca,
            leaders,
            unsigned,
            signed,
            pyhanko: None,
        }
    })
}

/// Options trusting the bloc CA of the fixture.
pub fn opts() -> VerifyOptions {
    VerifyOptions {
        trust_roots: vec![fixture().ca.clone()],
        ..VerifyOptions::default()
    }
}

/// A CRL of the fixture CA revoking `serials` at `when`.
pub fn crl(serials: &[u64], when: OffsetDateTime) -> Crl {
    let f = fixture();
    let revoked: Vec<(u64, OffsetDateTime)> = serials.iter().map(|s| (*s, when)).collect();
    let der = create_crl(
        &f.ca_key,
        &f.ca,
        &revoked,
        datetime!(2026-01-01 00:00:00 UTC),
        datetime!(2026-12-31 00:00:00 UTC),
        1,
    )
    .unwrap();
    parse_crl(&der).unwrap()
}

/// The object of field `name` as of the newest revision.
pub fn field_ref(file: &PdfFile, name: &str) -> ObjRef {
    let mut budget = Budget::new(MAX_WORK);
    let scan = scan_fields(file, file.last_revision(), &mut budget);
    scan.fields
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| f.obj)
        .unwrap_or_else(|| panic!("no field {name}"))
}

pub fn dict_of(file: &PdfFile, r: ObjRef) -> Dict {
    file.resolve_current(r).unwrap().as_dict().unwrap().clone()
}

pub fn root_of(file: &PdfFile) -> ObjRef {
    file.trailer()
        .unwrap()
        .get(b"Root")
        .unwrap()
        .as_reference()
        .unwrap()
}

/// Page object `n` (1-based) as of the newest revision.
pub fn page_ref(file: &PdfFile, n: usize) -> ObjRef {
    let mut budget = Budget::new(MAX_WORK);
    let idx = crate::pdf::walk::index_pages(file, file.last_revision(), &mut budget);
    let (&num, _) = idx.page_no.iter().find(|(_, p)| **p == n).unwrap();
    ObjRef::new(num, 0)
}

/// Appends an incremental update built by `edit`.
pub fn append(bytes: &[u8], edit: impl FnOnce(&PdfFile, &mut IncrementalUpdate)) -> Vec<u8> {
    let file = PdfFile::parse(bytes, &Limits::default()).unwrap();
    let mut upd = IncrementalUpdate::new(&file).unwrap();
    edit(&file, &mut upd);
    upd.finish(bytes).unwrap().bytes
}

/// Signs field `field` as a new revision: with the real signer (`crate::sign`) when the
/// certificate is the field's unit's, else (the wrong-unit attack, which the real signer
/// refuses) with the small signer below.
pub fn sign_field(bytes: &[u8], field: &str, who: &Identity, time: &str) -> Vec<u8> {
    if pyhanko_run() {
        let Some(i) = pyhanko_leader(who) else {
            std::panic::panic_any(NotWithPyHanko);
        };
        return pyhanko_sign(fixture(), bytes, field, i, false);
    }
    let unit = crate::pki::cert_info(&who.cert).unit_id;
    if unit.as_deref() == Some(field) {
        let opts = crate::sign::SignOptions {
            field: field.to_owned(),
            time: crate::pdf::parse_date(time).unwrap(),
            reason: None,
            location: None,
            image: None,
            seal: None,
        };
        return crate::sign::sign_with_key(bytes, &who.key, &who.cert, &who.chain, &opts).unwrap();
    }
    sign_field_with(bytes, field, who, time, |_, _| {})
}

/// Signs field `field`; `extra` may add more to the signature's revision.
pub fn sign_field_with(
    bytes: &[u8],
    field: &str,
    who: &Identity,
    time: &str,
    extra: impl FnOnce(&PdfFile, &mut IncrementalUpdate),
) -> Vec<u8> {
    sign_field_spec(bytes, field, who, time, SigSpec::default(), extra)
}

/// How [`sign_field_spec`] writes the signature dictionary.
#[derive(Debug, Clone, Copy, Default)]
pub struct SigSpec {
    /// `/Contents` before `/ByteRange` (as some signers write it), and the
    /// signature dictionary as the revision's last object.
    pub contents_first: bool,
    /// A DocMDP transform with this `/P` in `/Reference` (a certification signature).
    pub docmdp: Option<u8>,
    /// The catalog's `/Perms /DocMDP` names the signature dictionary.
    pub perms: bool,
}

/// [`sign_field_with`] with a [`SigSpec`].
pub fn sign_field_spec(
    bytes: &[u8],
    field: &str,
    who: &Identity,
    time: &str,
    spec: SigSpec,
    extra: impl FnOnce(&PdfFile, &mut IncrementalUpdate),
) -> Vec<u8> {
    if pyhanko_run() {
        // pyHanko certifies with DocMDP /P 2, and only as the first signature; nothing else
        // custom can be asked of it.
        let first = !bytes.windows(10).any(|w| w == b"/ByteRange");
        let plain = !spec.contents_first && spec.docmdp == Some(2) && spec.perms && first;
        match pyhanko_leader(who) {
            Some(i) if plain => return pyhanko_sign(fixture(), bytes, field, i, true),
            _ => std::panic::panic_any(NotWithPyHanko),
        }
    }
    let file = PdfFile::parse(bytes, &Limits::default()).unwrap();
    let fref = field_ref(&file, field);
    let mut upd = IncrementalUpdate::new(&file).unwrap();
    let (sig_ref, ap_ref) = if spec.contents_first {
        let ap = upd.allocate();
        (upd.allocate(), ap)
    } else {
        let sig = upd.allocate();
        (sig, upd.allocate())
    };

    // Signature dictionary with placeholders (ISO 32000-2 12.8.1).
    let zeros = "0".repeat(RESERVED * 2);
    let range = format!("/ByteRange [0 {0:>10} {0:>10} {0:>10}]", 0);
    let contents = format!("/Contents <{zeros}>");
    let (first, second) = if spec.contents_first {
        (contents, range)
    } else {
        (range, contents)
    };
    let reference = spec.docmdp.map_or_else(String::new, |p| {
        format!(
            " /Reference [<</Type /SigRef /TransformMethod /DocMDP \
             /TransformParams <</Type /TransformParams /P {p} /V /1.2>>>>]"
        )
    });
    let sig_body = format!(
        "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
         {first} {second} /M ({time}){reference}>>"
    );
    upd.put_raw(sig_ref, sig_body.into_bytes()).unwrap();

    // A plain appearance: a tinted box the size of the widget.
    let mut fd = dict_of(&file, fref);
    let rect: Vec<f64> = fd
        .get(b"Rect")
        .and_then(Object::as_array)
        .unwrap()
        .iter()
        .map(|o| match o {
            Object::Real(r) => *r,
            Object::Integer(i) => *i as f64,
            _ => 0.0,
        })
        .collect();
    let (w, h) = ((rect[2] - rect[0]).abs(), (rect[3] - rect[1]).abs());
    let ap = Dict::new()
        .with("Type", Object::name("XObject"))
        .with("Subtype", Object::name("Form"))
        .with(
            "BBox",
            Object::Array(vec![
                Object::Integer(0),
                Object::Integer(0),
                Object::Real(w),
                Object::Real(h),
            ]),
        )
        .with("Resources", Object::Dictionary(Dict::new()));
    let content = format!(
        "q 0.85 0.1 0.1 RG 2 w 1 1 {:.2} {:.2} re S Q",
        w - 2.0,
        h - 2.0
    );
    upd.put_stream(ap_ref, ap, content.as_bytes()).unwrap();

    // The field gets /V and /AP; nothing else changes.
    fd.set("V", Object::Reference(sig_ref));
    fd.set(
        "AP",
        Object::Dictionary(Dict::new().with("N", Object::Reference(ap_ref))),
    );
    upd.put(fref, Object::Dictionary(fd)).unwrap();

    // Catalog: /AcroForm /SigFlags 3, PDF 2.0 with the ISO 32002 extension.
    let root = root_of(&file);
    let mut cat = dict_of(&file, root);
    let mut acro = cat
        .get(b"AcroForm")
        .and_then(Object::as_dict)
        .cloned()
        .unwrap();
    acro.set("SigFlags", Object::Integer(3));
    cat.set("AcroForm", Object::Dictionary(acro));
    cat.set("Version", Object::name("2.0"));
    cat.set("Extensions", crate::sign::iso_32002_extension());
    if spec.perms {
        cat.set(
            "Perms",
            Object::Dictionary(Dict::new().with("DocMDP", Object::Reference(sig_ref))),
        );
    }
    upd.put(root, Object::Dictionary(cat)).unwrap();

    extra(&file, &mut upd);
    let out = upd.finish(bytes).unwrap();
    let mut pdf = out.bytes.clone();

    // ByteRange: everything but the /Contents hex string, to the end of the file.
    let a = out.find_in_object(sig_ref, b"/Contents <").unwrap() + b"/Contents ".len();
    let b = a + RESERVED * 2 + 2;
    let c = pdf.len() - b;
    let br_at = out.find_in_object(sig_ref, b"/ByteRange [0 ").unwrap() + b"/ByteRange [0 ".len();
    let numbers = format!("{a:>10} {b:>10} {c:>10}");
    pdf[br_at..br_at + numbers.len()].copy_from_slice(numbers.as_bytes());

    // Digest, signed attributes, Ed25519, CMS, hex into the placeholder.
    let mut h = Sha512::new();
    h.update(&pdf[..a]);
    h.update(&pdf[b..]);
    let digest: [u8; 64] = h.finalize().into();
    let attrs = signed_attributes_der(&digest, &who.cert).unwrap();
    let sig = who.key.sign(&attrs).to_bytes();
    let cms = build_signed_data(&attrs, &sig, &who.cert, &who.chain).unwrap();
    assert!(cms.len() <= RESERVED);
    let hex: String = cms.iter().map(|b| format!("{b:02X}")).collect();
    pdf[a + 1..a + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    pdf
}

/// The `/ByteRange` gap `(a, b)` of the newest signature in `bytes`.
pub fn last_gap(bytes: &[u8]) -> (usize, usize) {
    let at = bytes
        .windows(b"/ByteRange [0 ".len())
        .rposition(|w| w == b"/ByteRange [0 ")
        .unwrap()
        + b"/ByteRange [0 ".len();
    let text = std::str::from_utf8(&bytes[at..at + 32]).unwrap();
    let mut nums = text.split_whitespace().map(|n| n.parse::<usize>().unwrap());
    (nums.next().unwrap(), nums.next().unwrap())
}

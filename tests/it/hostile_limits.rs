//! Resource bounds: a decompression bomb, a million objects, deep nesting and reference
//! cycles appended to a signed covenant, and uploads at and over the 50 MB limit: each gets a
//! verdict or a clear error (never a crash, a hang or unbounded memory). The files are also
//! written to `target/hostile/` so their time and memory can be measured with the CLI
//! (`/usr/bin/time -v giaouoc verify FILE --trust ca.pem`); the benchmarks time them.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use axum::http::StatusCode;
use flate2::Compression;
use flate2::write::ZlibEncoder;

use giaouoc::http::DEFAULT_MAX_UPLOAD;
use giaouoc::pdf::{Dict, IncrementalUpdate, Limits, ObjRef, Object, PdfFile};
use giaouoc::verify::{Verdict, VerifyOptions, verify_pdf};

use crate::http_support::TestApp;
use crate::sign::{bloc, signed_by};

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/hostile");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn resolve_dict(file: &PdfFile, obj: &Object) -> Dict {
    match obj {
        Object::Reference(r) => file.resolve_current(*r).unwrap().as_dict().unwrap().clone(),
        other => other.as_dict().unwrap().clone(),
    }
}

/// The catalog, the page tree root and the first page (references).
fn structure(file: &PdfFile) -> (ObjRef, ObjRef, ObjRef) {
    let root = file
        .trailer()
        .unwrap()
        .get(b"Root")
        .unwrap()
        .as_reference()
        .unwrap();
    let catalog = resolve_dict(file, &Object::Reference(root));
    let pages = catalog.get(b"Pages").unwrap().as_reference().unwrap();
    let tree = resolve_dict(file, &Object::Reference(pages));
    let page = tree.get(b"Kids").unwrap().as_array().unwrap()[0]
        .as_reference()
        .unwrap();
    (root, pages, page)
}

fn update(base: &[u8], edit: impl FnOnce(&PdfFile, &mut IncrementalUpdate)) -> Vec<u8> {
    let file = PdfFile::parse(base, &Limits::default()).unwrap();
    let mut up = IncrementalUpdate::new(&file).unwrap();
    edit(&file, &mut up);
    up.finish(base).unwrap().bytes
}

/// Verifies with the bloc CA; the file must not be valid, and whatever the outcome it must
/// say why. Returns a one-line summary.
fn judged(name: &str, bytes: &[u8], trust: &x509_cert::Certificate) -> String {
    std::fs::write(out_dir().join(format!("{name}.pdf")), bytes).unwrap();
    let start = Instant::now();
    let outcome = verify_pdf(
        bytes,
        &VerifyOptions {
            trust_roots: vec![trust.clone()],
            ..VerifyOptions::default()
        },
    );
    let took = start.elapsed();
    let summary = match outcome {
        Ok(report) => {
            assert_ne!(report.verdict, Verdict::Valid, "{name}: {report:#?}");
            let reasons: Vec<String> = report
                .problems
                .iter()
                .map(|m| m.en.clone())
                .chain(report.signatures.iter().flat_map(|s| {
                    s.changes_after
                        .iter()
                        .filter(|c| !c.allowed)
                        .map(|c| c.description.clone())
                        .chain(s.problems.iter().map(|m| m.en.clone()))
                }))
                .collect();
            assert!(!reasons.is_empty(), "{name}: invalid without a reason");
            format!("{name}: {:?} ({})", report.verdict, reasons[0])
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            format!("{name}: error ({e})")
        }
    };
    eprintln!("{summary} in {took:?}");
    summary
}

#[test]
fn hostile_updates_to_a_signed_covenant_get_a_verdict_within_the_limits() {
    let bloc = bloc();
    let signed = signed_by(&bloc, 2);
    let file = PdfFile::parse(&signed, &Limits::default()).unwrap();
    let (root, pages, page) = structure(&file);

    // A decompression bomb as the page's new content: 64 MB of zeros in 64 KB, twice deflated.
    let mut zeros = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0_u8; 1 << 20];
    for _ in 0..64 {
        zeros.write_all(&chunk).unwrap();
    }
    let once = zeros.finish().unwrap();
    let mut twice = ZlibEncoder::new(Vec::new(), Compression::best());
    twice.write_all(&once).unwrap();
    let twice = twice.finish().unwrap();
    let bomb = update(&signed, |f, up| {
        let mut p = resolve_dict(f, &Object::Reference(page));
        let s = up.allocate();
        let filters = Object::Array(vec![
            Object::name("FlateDecode"),
            Object::name("FlateDecode"),
        ]);
        up.put_stream(s, Dict::new().with("Filter", filters), &twice)
            .unwrap();
        p.set("Contents", Object::Reference(s));
        up.put(page, Object::Dictionary(p)).unwrap();
    });
    let s = judged("bomb", &bomb, &bloc.ca);
    assert!(s.contains("Invalid"), "{s}");

    // Deep nesting: 100 000 nested arrays in a new object the catalog points at.
    let deep = update(&signed, |f, up| {
        let d = up.allocate();
        let mut body = vec![b'['; 100_000];
        body.extend(std::iter::repeat_n(b']', 100_000));
        up.put_raw(d, body).unwrap();
        let mut cat = resolve_dict(f, &Object::Reference(root));
        cat.set("Deep", Object::Reference(d));
        up.put(root, Object::Dictionary(cat)).unwrap();
    });
    judged("deep-nesting", &deep, &bloc.ca);

    // Reference cycles: the page tree's /Kids holds itself, the page is its own parent, and
    // two new objects point at each other.
    let cycles = update(&signed, |f, up| {
        let (a, b) = (up.allocate(), up.allocate());
        up.put(
            a,
            Object::Dictionary(Dict::new().with("Next", Object::Reference(b))),
        )
        .unwrap();
        up.put(
            b,
            Object::Dictionary(Dict::new().with("Next", Object::Reference(a))),
        )
        .unwrap();
        let mut tree = resolve_dict(f, &Object::Reference(pages));
        tree.set(
            "Kids",
            Object::Array(vec![Object::Reference(page), Object::Reference(pages)]),
        );
        tree.set("Loop", Object::Reference(a));
        up.put(pages, Object::Dictionary(tree)).unwrap();
        let mut p = resolve_dict(f, &Object::Reference(page));
        p.set("Parent", Object::Reference(page));
        up.put(page, Object::Dictionary(p)).unwrap();
    });
    let s = judged("reference-cycles", &cycles, &bloc.ca);
    assert!(s.contains("Invalid"), "{s}");

    // A million objects: a cross-reference section of 1 000 001 entries (20 MB).
    let tail = String::from_utf8_lossy(&signed[signed.len() - 64..]).to_string();
    let prev: usize = tail
        .split("startxref")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut million = signed.clone();
    let xref_at = million.len() + 1;
    million.extend_from_slice(b"\nxref\n0 1000001\n0000000000 65535 f \n");
    for _ in 0..1_000_000 {
        million.extend_from_slice(b"0000000010 00000 n \n");
    }
    million.extend_from_slice(
        format!(
            "trailer\n<< /Size 1000001 /Root {} {} R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n",
            root.num, root.generation
        )
        .as_bytes(),
    );
    judged("million-objects", &million, &bloc.ca);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_up_to_fifty_megabytes_are_judged_and_larger_ones_refused() {
    let app = TestApp::new("http-fifty-mb").await;
    let mut junk = b"%PDF-1.7\n".to_vec();
    junk.resize(DEFAULT_MAX_UPLOAD, b' ');
    let start = Instant::now();
    let r = app
        .send(
            axum::http::Request::post("/verify")
                .header("content-type", "application/pdf")
                .body(axum::body::Body::from(junk.clone()))
                .unwrap(),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    eprintln!("50 MB of junk judged in {:?}", start.elapsed());
    assert_eq!(r.json()["error"], "unreadable_pdf");
    junk.push(b' ');
    let r = app
        .send(
            axum::http::Request::post("/verify")
                .header("content-type", "application/pdf")
                .body(axum::body::Body::from(junk))
                .unwrap(),
        )
        .await
        .expect(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"], "payload_too_large");
}

//! `giaouoc client sign` and `client download` against a running service: the key stays in
//! the command, a wrong unit is refused, the downloaded PDF verifies.

use crate::helpers::*;
use crate::http_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_signs_from_the_command_line_and_downloads_the_result() {
    let app = TestApp::new("http-client").await;
    let tokens = ready_to_sign(&app).await;
    let (addr, stop, server) = spawn_server(app.state.clone()).await;
    let dir = temp_dir("client");
    let key = dir.join("u07.key");
    std::fs::write(
        &key,
        &*giaouoc::pki::signing_key_to_pem(&leader_key(6)).unwrap(),
    )
    .unwrap();
    let server_url = format!("http://{addr}");
    let token = leader(&tokens, "U07").to_string();
    let cov = COVENANT.to_string();
    let key_s = key.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking({
        let (server_url, token, cov, key_s) = (
            server_url.clone(),
            token.clone(),
            cov.clone(),
            key_s.clone(),
        );
        move || {
            giaouoc(&[
                "client",
                "sign",
                "--server",
                &server_url,
                "--covenant",
                &cov,
                "--unit",
                "U07",
                "--key",
                &key_s,
                "--token",
                &token,
            ])
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"signed\":\"1/16\""));
    // The preparation was used up: no prepared blob is left in the store (files only: the
    // S3 pass has no folder to look in).
    let mut prepared_left = 0;
    let folders = if crate::http_support::shared_backends() {
        Vec::new()
    } else {
        std::fs::read_dir(app.dir.join("blobs")).unwrap().collect()
    };
    for dir in folders {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            if !bytes.starts_with(b"%PDF") && !bytes.starts_with(b"PK") {
                prepared_left += 1;
            }
        }
    }
    assert_eq!(prepared_left, 0);

    // The same key and token for another unit's field: refused by the service.
    let out = tokio::task::spawn_blocking({
        let (server_url, token, cov, key_s) = (
            server_url.clone(),
            token.clone(),
            cov.clone(),
            key_s.clone(),
        );
        move || {
            giaouoc(&[
                "client",
                "sign",
                "--server",
                &server_url,
                "--covenant",
                &cov,
                "--unit",
                "U08",
                "--key",
                &key_s,
                "--token",
                &token,
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("403"));

    let pdf = dir.join("dl.pdf");
    let pdf_s = pdf.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || {
        giaouoc(&[
            "client",
            "download",
            "--server",
            &server_url,
            "--covenant",
            &cov,
            "--out",
            &pdf_s,
            "--token",
            &token,
        ])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    let ca = app.state.bloc_ca("KTD-VHXH-QN").unwrap().cert.clone();
    let report = giaouoc::verify::verify_pdf(
        &bytes,
        &giaouoc::verify::VerifyOptions {
            trust_roots: vec![ca],
            at: Some(app.state.now()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.verdict, giaouoc::verify::Verdict::Valid);
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(report.signatures[0].field, "U07");
    let _ = stop.send(());
    server.await.unwrap();
}

//! The web interface in a real headless Chromium, on the demo data of `giaouoc serve --demo`:
//! an officer fills and submits a registration, the leader unit returns it and then accepts
//! it; a leader signs in the browser with a key file (once losing a race to another signer)
//! and the PDF passes pyHanko; the verify page shows the signed file valid and a tampered
//! copy unmistakably invalid. Every page is saved as a screenshot under
//! `target/ui-screenshots/` (look at them).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::temp_dir;
use crate::webdriver::{Browser, free_port};

const Y2021: &str = "KTD-VHXH-QN-2021";
const Y2022: &str = "KTD-VHXH-QN-2022";
const ADMIN: &str = "browser-test-admin-token-0123456789";

/// `giaouoc serve --demo` on a fresh data dir and a free port, stopped on drop.
struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
    agent: ureq::Agent,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts with `extra` arguments after `serve --demo` (the trust folder).
    fn start_with(extra: &[&str]) -> Server {
        let dir = temp_dir("browser");
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_giaouoc"))
            .args(["serve", "--demo", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(extra)
            .env("GIAOUOC_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("server.log")).unwrap())
            .spawn()
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while agent
            .get(format!("{url}/healthz"))
            .call()
            .map_or(true, |r| r.status() != 200)
        {
            assert!(Instant::now() < deadline, "the demo server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server {
            child,
            url,
            dir,
            agent,
        }
    }

    fn keys(&self) -> PathBuf {
        self.dir.join("data/demo-keys")
    }

    fn token(&self, unit: &str, kind: &str) -> String {
        let tokens: Value =
            serde_json::from_slice(&std::fs::read(self.keys().join("tokens.json")).unwrap())
                .unwrap();
        tokens[unit][kind].as_str().unwrap().to_owned()
    }

    /// The unit's leader signs the 2021 covenant with `giaouoc client sign`.
    fn cli_sign(&self, unit: &str) {
        let cli = Command::new(env!("CARGO_BIN_EXE_giaouoc"))
            .args(["client", "sign", "--server", &self.url, "--covenant", Y2021])
            .args(["--unit", unit, "--key"])
            .arg(self.keys().join(format!("{unit}.key")))
            .args(["--token", &self.token(unit, "leader")])
            .output()
            .unwrap();
        assert!(cli.status.success(), "{unit}: {cli:?}");
    }

    fn get_json(&self, path: &str) -> Value {
        self.agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    }

    fn get_bytes(&self, path: &str) -> Vec<u8> {
        let mut resp = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .call()
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        resp.body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots")
}

fn login(b: &Browser, s: &Server, unit: &str, kind: &str) {
    b.goto(&format!("{}/dang-nhap", s.url));
    b.type_into("#ma", &s.token(unit, kind));
    b.click("form.form button[type=submit]");
    b.wait_text("header .who", unit);
}

fn logout(b: &Browser) {
    b.click("form[action='/dang-xuat'] button");
    b.wait_text("header .account", "Đăng nhập");
}

#[test]
fn web_interface_registration_review_signing_and_verification_in_chromium() {
    let s = Server::start();
    let b = Browser::start(1280, 1000, &shots_dir());

    // Home, anonymous: an invitation to sign in and to verify.
    b.goto(&s.url);
    b.wait_text("main", "Đăng nhập bằng mã truy cập");
    b.screenshot("01-trang-chu-chua-dang-nhap");

    // A wrong access code gets a sentence, not a crash.
    b.goto(&format!("{}/dang-nhap", s.url));
    b.type_into("#ma", "khong-phai-ma-that");
    b.click("form.form button[type=submit]");
    b.wait_text(".notice.bad", "Mã truy cập không đúng");
    b.screenshot("02-dang-nhap-sai-ma");

    // --- The officer of U03 registers for 2022.
    login(&b, &s, "U03", "officer");
    let home = b.wait_text("main", "Năm 2022");
    assert!(home.contains("Năm 2021"), "{home}");
    assert!(home.contains("0/16 đơn vị đã ký"), "{home}");
    assert!(home.contains("Đang đăng ký"), "{home}");
    b.screenshot("03-trang-chu-can-bo");

    b.goto(&format!("{}/giao-uoc/{Y2022}", s.url));
    b.wait_text("#don-vi-U03", "Chưa đăng ký");
    b.screenshot("04-giao-uoc-2022");
    b.click("#don-vi-U03 a");
    b.wait_url("/dang-ky/U03");
    b.find("[data-path='pledges[0].text']");
    b.screenshot("05-dang-ky-ban-dau");

    // Edit: a count, a new pledge (first left empty: the server's validator answers at the
    // field), a bad number caught before sending, reorder, remove a row.
    b.type_into("[data-path='individual_titles[0].count']", "5");
    b.click("[data-add='pledges']");
    b.type_into("[data-path='pledges[4].target']", "mười hai");
    b.click("[data-save='submit']");
    b.wait_text("#thong-bao", "lỗi cần sửa");
    assert_eq!(
        b.attribute("[data-path='pledges[4].target']", "aria-invalid")
            .as_deref(),
        Some("true")
    );
    b.wait_text("#loi-f-pledges-4-target", "Mục tiêu phải là một số");
    b.type_into("[data-path='pledges[4].target']", "12");
    b.click("[data-save='submit']");
    b.wait_text("#thong-bao", "Hãy sửa các ô được đánh dấu đỏ");
    assert_eq!(
        b.attribute("[data-path='pledges[4].text']", "aria-invalid")
            .as_deref(),
        Some("true")
    );
    let message = b.text("#loi-f-pledges-4-text");
    assert!(
        !message.is_empty(),
        "the server's message shows next to the field"
    );
    b.screenshot("06-dang-ky-loi-kiem-tra");
    b.type_into(
        "[data-path='pledges[4].text']",
        "Tổ chức 12 lớp tập huấn kỹ năng tìm việc cho thanh niên nông thôn.",
    );
    b.type_into("[data-path='pledges[4].unit']", "lớp");
    b.click("button[aria-label='Chuyển chỉ tiêu 5 lên']");
    b.click("button[aria-label='Xóa danh hiệu 2']");
    b.click("[data-save='draft']");
    b.wait_text("#thong-bao", "Đã lưu nháp");
    b.click("[data-save='submit']");
    b.wait_text("#thong-bao", "Đã gửi bản đăng ký");
    b.wait_text("#trang-thai-dang-ky", "Đã gửi, chờ duyệt");
    b.screenshot("07-dang-ky-da-gui");
    let saved = s.get_json(&format!("/covenants/{Y2022}/registrations/U03"));
    assert_eq!(saved["status"], "submitted");
    assert_eq!(
        saved["data"]["individual_titles"].as_array().unwrap().len(),
        1
    );
    assert_eq!(saved["data"]["individual_titles"][0]["count"], 5);
    assert_eq!(
        saved["data"]["pledges"][3]["text"],
        "Tổ chức 12 lớp tập huấn kỹ năng tìm việc cho thanh niên nông thôn."
    );
    assert_eq!(saved["data"]["pledges"][3]["target"], 12.0);
    assert_eq!(saved["data"]["pledges"].as_array().unwrap().len(), 5);

    // An expired session: the next save says so in Vietnamese, with a way back in.
    b.delete_cookie("giaouoc_phien");
    b.click("[data-save='draft']");
    b.wait_text("#thong-bao", "Phiên đăng nhập đã hết hạn");
    b.screenshot("08-het-phien");
    login(&b, &s, "U03", "officer");
    logout(&b);

    // --- The leader unit (U01) returns it with a comment, the officer resubmits, U01 accepts.
    login(&b, &s, "U01", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2022}/dang-ky/U03", s.url));
    b.click("[data-review='return']");
    b.wait_text("#loi-comment", "Hãy ghi nhận xét");
    b.type_into(
        "#nhan-xet",
        "Đề nghị bổ sung chỉ tiêu về chuyển đổi số trong giải quyết hồ sơ.",
    );
    b.screenshot("09-xem-xet");
    b.click("[data-review='return']");
    b.wait_text("#trang-thai-dang-ky", "Bị trả lại");
    logout(&b);

    login(&b, &s, "U03", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2022}/dang-ky/U03", s.url));
    b.wait_text(".notice.warn", "chuyển đổi số");
    b.screenshot("10-dang-ky-bi-tra-lai");
    b.click("[data-add='pledges']");
    b.type_into(
        "[data-path='pledges[5].text']",
        "100% hồ sơ hưởng trợ cấp thất nghiệp được tiếp nhận qua dịch vụ công trực tuyến.",
    );
    b.type_into("[data-path='pledges[5].target']", "100");
    b.type_into("[data-path='pledges[5].unit']", "%");
    b.click("[data-save='submit']");
    b.wait_text("#trang-thai-dang-ky", "Đã gửi, chờ duyệt");
    logout(&b);

    login(&b, &s, "U01", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2022}/dang-ky/U03", s.url));
    b.click("[data-review='accept']");
    b.wait_text("#trang-thai-dang-ky", "Đã chấp nhận");
    b.screenshot("11-dang-ky-da-chap-nhan");
    let accepted = s.get_json(&format!("/covenants/{Y2022}/registrations/U03"));
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["data"]["pledges"].as_array().unwrap().len(), 6);
    b.goto(&format!("{}/giao-uoc/{Y2022}", s.url));
    let audit = b.wait_text("table.audit", "Chấp nhận bản đăng ký của đơn vị U03");
    assert!(
        audit.contains("Trả lại bản đăng ký của đơn vị U03"),
        "{audit}"
    );
    assert!(b.text("main").contains("Chuỗi nhật ký nguyên vẹn"));
    b.screenshot("12-giao-uoc-nhat-ky");
    logout(&b);

    // --- The leader of U05 signs 2021 in the browser.
    login(&b, &s, "U05", "leader");
    b.goto(&format!("{}/giao-uoc/{Y2021}", s.url));
    b.click("#don-vi-U05 a.button");
    b.wait_url("/ky/U05");
    b.screenshot("13-ky-so");

    // The wrong key is refused before anything is sent.
    let wrong = s.keys().join("U06.key");
    b.type_into("#tep-khoa", wrong.to_str().unwrap());
    b.click("#nut-ky");
    b.wait_text("#loi-ky", "không khớp với chứng thư số của đơn vị U05");
    assert_eq!(
        s.get_json(&format!("/covenants/{Y2021}"))["signed_count"],
        0
    );
    b.screenshot("14-ky-so-sai-khoa");

    // The right key, losing one race: U07 signs (CLI) between our prepare and complete; the
    // page prepares again by itself. The test holds the page's first /complete until then.
    b.run(
        r#"window.__hold = true;
           const real = window.fetch.bind(window);
           window.fetch = async (url, opts) => {
             if (String(url).endsWith('/complete') && window.__hold) {
               window.__waiting = true;
               while (window.__hold) { await new Promise((r) => setTimeout(r, 50)); }
             }
             return real(url, opts);
           };"#,
        json!([]),
    );
    let key = s.keys().join("U05.key");
    b.type_into("#tep-khoa", key.to_str().unwrap());
    b.click("#nut-ky");
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.run("return window.__waiting === true", json!([])) != json!(true) {
        assert!(Instant::now() < deadline, "the page never reached complete");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.cli_sign("U07");
    b.run("window.__hold = false", json!([]));
    let done = b.wait_text("#ket-qua", "Đã ký thành công");
    assert!(done.contains("2/16 đơn vị đã ký"), "{done}");
    // The page head's progress follows without a reload.
    b.wait_text("#tien-do-ky", "2/16");
    b.screenshot("15-ky-so-thanh-cong");
    let covenant = s.get_json(&format!("/covenants/{Y2021}"));
    assert_eq!(covenant["signed_count"], 2);
    assert_eq!(covenant["state"], "signing");

    // pyHanko, the third-party judge, on the PDF the browser signed.
    let pdf = s.get_bytes(&format!("/covenants/{Y2021}/document.pdf"));
    let dir = temp_dir("browser-pyhanko");
    std::fs::write(dir.join("signed.pdf"), &pdf).unwrap();
    let text = giaouoc::test_support::pyhanko_validate_with(
        &[&s.keys().join("ca.pem"), &s.keys().join("tsa-ca.pem")],
        &dir.join("signed.pdf"),
    );
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 2, "{text}");
    assert_eq!(
        text.matches("TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(),
        2,
        "{text}"
    );
    logout(&b);

    // --- Verify (public): the signed file is valid, a tampered copy is red.
    b.goto(&format!("{}/kiem-tra", s.url));
    b.screenshot("16-kiem-tra");
    b.type_into("#tep-pdf", dir.join("signed.pdf").to_str().unwrap());
    let verdict = b.wait_text("#ket-luan", "HỢP LỆ");
    assert!(!verdict.contains("KHÔNG"), "{verdict}");
    let cards = b.text(".sig-cards");
    assert!(cards.contains("Nguyên vẹn"), "{cards}");
    // Each signature got its time-stamp from the service's TSA (B-T), said in Vietnamese.
    assert!(
        cards.contains("B-T — có dấu thời gian tin cậy chứng minh thời điểm ký"),
        "{cards}"
    );
    assert!(
        cards.contains("dấu thời gian của chữ ký, do Đơn vị cấp dấu thời gian giaouoc cấp"),
        "{cards}"
    );
    assert_eq!(b.count(".sig-card.sig-ok"), 2);
    b.screenshot("17-kiem-tra-hop-le");

    let mut tampered = pdf.clone();
    // One byte inside the first page's content stream (covered by every signature).
    let at = find(&tampered, b"stream\n").unwrap() + 40;
    tampered[at] ^= 0x01;
    std::fs::write(dir.join("tampered.pdf"), &tampered).unwrap();
    b.goto(&format!("{}/kiem-tra", s.url));
    b.type_into("#tep-pdf", dir.join("tampered.pdf").to_str().unwrap());
    let verdict = b.wait_text("#ket-luan", "KHÔNG HỢP LỆ");
    assert!(verdict.contains("không hợp lệ"), "{verdict}");
    assert!(b.count(".sig-card.sig-bad") >= 1);
    let cards = b.text(".sig-cards");
    assert!(cards.contains("Không"), "{cards}");
    // Every signature's problems, in Vietnamese.
    assert!(
        cards.contains("Vấn đề của chữ ký này")
            && cards.contains("Dữ liệu được ký không khớp với giá trị băm trong chữ ký"),
        "{cards}"
    );
    assert!(!cards.contains("message digest"), "{cards}");
    let class = b.attribute("#ket-luan", "class").unwrap();
    assert!(class.contains("verdict-invalid"), "{class}");
    b.screenshot("18-kiem-tra-bi-sua");

    // Not a PDF: a sentence saying so.
    std::fs::write(dir.join("ghi-chu.pdf"), "đây không phải PDF").unwrap();
    b.goto(&format!("{}/kiem-tra", s.url));
    b.type_into("#tep-pdf", dir.join("ghi-chu.pdf").to_str().unwrap());
    b.wait_text("#loi-tep", "không phải là tệp PDF đọc được");
    b.screenshot("19-kiem-tra-khong-phai-pdf");

    // Archive (anonymous: the lookup form); an unknown hash is a clear 404 page.
    b.goto(&format!("{}/luu-tru", s.url));
    b.wait_text("main", "Tra cứu theo mã SHA-256");
    b.screenshot("19b-luu-tru-khach");
    b.type_into("#sha256", "abc");
    b.click("form.inline-form button");
    b.wait_text("#loi-sha", "64 chữ số");
    b.type_into("#sha256", &"0".repeat(64));
    b.click("form.inline-form button");
    b.wait_text("main", "Không tìm thấy");
    b.screenshot("19c-luu-tru-khong-thay");

    // The other 14 leaders sign (CLI); the leader unit archives from the covenant page; the
    // archive shows the entry with its report.
    for i in 1..=16 {
        let unit = format!("U{i:02}");
        if unit == "U05" || unit == "U07" {
            continue;
        }
        s.cli_sign(&unit);
    }
    login(&b, &s, "U01", "leader");
    b.goto(&format!("{}/giao-uoc/{Y2021}", s.url));
    b.wait_text("#tien-do", "16/16 đơn vị đã ký");
    b.click("[data-action='archive']");
    b.wait_text("#trang-thai", "Đã lưu trữ");
    b.screenshot("20-giao-uoc-da-luu-tru");
    b.click("a[href^='/luu-tru/']");
    b.wait_text("#ket-luan", "HỢP LỆ");
    assert_eq!(b.count(".sig-card.sig-ok"), 16);
    b.screenshot("21-ban-luu-tru");
    b.goto(&format!("{}/luu-tru", s.url));
    b.wait_text("main table", Y2021);
    b.screenshot("22-luu-tru-danh-sach");
    logout(&b);

    // On a phone: the covenant page still reads.
    login(&b, &s, "U05", "officer");
    b.set_window(390, 844);
    b.goto(&format!("{}/giao-uoc/{Y2021}", s.url));
    b.wait_text("#don-vi-U05", "Đã ký");
    b.wait_text("#trang-thai", "Đã lưu trữ");
    let overflow = b.run(
        "return document.documentElement.scrollWidth > window.innerWidth + 1",
        json!([]),
    );
    assert_eq!(
        overflow,
        json!(false),
        "the page scrolls sideways on a phone"
    );
    b.screenshot("23-dien-thoai-giao-uoc");
    b.goto(&format!("{}/giao-uoc/{Y2022}/dang-ky/U05", s.url));
    b.find("[data-path='pledges[0].text']");
    b.screenshot("24-dien-thoai-dang-ky");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The unit's leader enrols `pem` (leaf and intermediate); the leader unit U01 approves.
fn enrol(s: &Server, unit: &str, pem: &str) {
    let post = |path: &str, token: &str, body: Value| {
        let mut r = s
            .agent
            .post(format!("{}{path}", s.url))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(&body)
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.body_mut().read_json().unwrap();
        assert!(status < 300, "{path}: {status} {v}");
        v
    };
    let e = post(
        "/blocs/KTD-VHXH-QN/enrolments",
        &s.token(unit, "leader"),
        json!({"unit": unit, "certificate_pem": pem, "title": "Giám đốc"}),
    );
    post(
        &format!("/enrolments/{}/approve", e["id"]),
        &s.token("U01", "leader"),
        json!({}),
    );
}

#[test]
fn leaders_sign_with_ecdsa_and_rsa_keys_in_chromium_and_upload_a_file_signed_elsewhere() {
    use giaouoc::test_support::foreign::{Key, Pki, pyhanko_sign};
    let work = temp_dir("browser-foreign");
    let ca = Pki::create(&work.join("pki"));
    let trust = work.join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::copy(&ca.root, trust.join("root.pem")).unwrap();
    let s = Server::start_with(&["--trust-dir", trust.to_str().unwrap()]);
    let units: Value = s.get_json(&format!("/covenants/{Y2021}"));
    // The leader printed under the unit's signature: the certificates name that person, so
    // the signing page offers them by default.
    let printed = |unit: &str| {
        units["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == unit)
            .and_then(|u| u["signer"].as_str())
            .unwrap_or_else(|| panic!("{unit} has no printed signer in {units}"))
            .to_owned()
    };
    let intermediate = std::fs::read_to_string(&ca.intermediate).unwrap();
    let mut leaves = Vec::new();
    for (i, (unit, key)) in [
        ("U03", Key::P256),
        ("U04", Key::Rsa(2048)),
        ("U06", Key::Rsa(2048)),
    ]
    .into_iter()
    .enumerate()
    {
        let leaf = ca.leaf(
            &unit.to_lowercase(),
            &printed(unit),
            unit,
            key,
            700 + i as u32,
        );
        enrol(
            &s,
            unit,
            &(std::fs::read_to_string(&leaf.cert).unwrap() + &intermediate),
        );
        leaves.push(leaf);
    }
    // The keys as certificates are handed out: PKCS#12 files with a password (OpenSSL 3's
    // defaults: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).
    let p12 = |leaf: &giaouoc::test_support::foreign::Leaf, name: &str| {
        let out = work.join(format!("{name}.p12"));
        let r = Command::new(giaouoc::test_support::require("openssl"))
            .args([
                "pkcs12",
                "-export",
                "-passout",
                "pass:Mat-khau 2021",
                "-inkey",
            ])
            .arg(&leaf.key)
            .arg("-in")
            .arg(&leaf.cert)
            .arg("-out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(r.status.success(), "{r:?}");
        out
    };
    let b = Browser::start(1280, 900, &shots_dir());
    for (unit, leaf, label) in [
        ("U03", &leaves[0], "ECDSA P-256"),
        ("U04", &leaves[1], "RSA"),
    ] {
        let file = p12(leaf, unit);
        login(&b, &s, unit, "leader");
        b.goto(&format!("{}/giao-uoc/{Y2021}/ky/{unit}", s.url));
        b.wait_text("#cac-buoc", label);
        assert_eq!(b.count("iframe.pdf-view"), 1, "the page shows the document");
        b.type_into("#tep-khoa", file.to_str().unwrap());
        b.type_into("#mat-khau-khoa", "sai mat khau");
        b.click("#nut-ky");
        b.wait_text("#loi-ky", "Mật khẩu của tệp .p12 không đúng");
        b.run(
            "document.querySelector('#mat-khau-khoa').value = ''",
            json!([]),
        );
        b.type_into("#mat-khau-khoa", "Mat-khau 2021");
        b.click("#nut-ky");
        b.wait_text("#ket-qua", "Đã ký thành công");
        b.screenshot(&format!("30-ky-so-{}", unit.to_lowercase()));
        logout(&b);
    }

    // U06 signed with another tool, uploaded from the signing page.
    let before = s.get_bytes(&format!("/covenants/{Y2021}/document.pdf"));
    let input = work.join("u06-in.pdf");
    let signed = work.join("u06-signed.pdf");
    std::fs::write(&input, &before).unwrap();
    pyhanko_sign(&input, &signed, "U06", &leaves[2], &ca.intermediate, &[]);
    login(&b, &s, "U06", "leader");
    b.goto(&format!("{}/giao-uoc/{Y2021}/ky/U06", s.url));
    b.type_into("#tep-da-ky", input.to_str().unwrap());
    b.click("#nut-tai-len");
    b.wait_text("#loi-tai-len", "chưa có chữ ký mới");
    b.type_into("#tep-da-ky", signed.to_str().unwrap());
    b.click("#nut-tai-len");
    let done = b.wait_text("#ket-qua-tai-len", "Đã nhận bản đã ký");
    assert!(done.contains("pyHanko"), "{done}");
    b.screenshot("31-tai-len-ban-da-ky");
    b.click("#nut-lien-ket");
    let links = b.wait_text("#lien-ket", "/desktop/");
    assert!(links.contains("uploadfile"), "{links}");
    logout(&b);

    let pdf = s.get_bytes(&format!("/covenants/{Y2021}/document.pdf"));
    std::fs::write(work.join("signed.pdf"), &pdf).unwrap();
    let out = Command::new(giaouoc::test_support::require("pyhanko"))
        .args(["sign", "validate", "--trust"])
        .arg(s.keys().join("ca.pem"))
        .arg("--trust")
        .arg(&ca.root)
        .arg("--trust")
        .arg(s.keys().join("tsa-ca.pem"))
        .arg("--trust-replace")
        .arg(work.join("signed.pdf"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 3, "{text}");
}

impl Server {
    /// `method path` with `token`'s bearer and a JSON body; the answer (any status) as JSON.
    fn call_json(&self, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let auth = format!("Bearer {token}");
        let mut r = match method {
            "PUT" => self
                .agent
                .put(url)
                .header("Authorization", auth)
                .send_json(&body),
            _ => self
                .agent
                .post(url)
                .header("Authorization", auth)
                .send_json(&body),
        }
        .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_json().unwrap_or(Value::Null))
    }

    /// `giaouoc client sign` of `field` on `covenant` with the demo's key of that field.
    fn cli_sign_field(&self, covenant: &str, field: &str, kind: &str) {
        let unit = field.trim_end_matches("-dau");
        let cli = Command::new(env!("CARGO_BIN_EXE_giaouoc"))
            .args([
                "client",
                "sign",
                "--server",
                &self.url,
                "--covenant",
                covenant,
            ])
            .args(["--unit", field, "--key"])
            .arg(self.keys().join(format!("{field}.key")))
            .args(["--token", &self.token(unit, kind)])
            .output()
            .unwrap();
        assert!(cli.status.success(), "{field}: {cli:?}");
    }
}

#[test]
fn a_clerk_applies_the_units_seal_from_the_page_after_its_leader_signed() {
    let s = Server::start();
    // The demo's 2022 covenant asks for seals; every unit registers, the leader unit accepts
    // and freezes it (over the API).
    let base = format!("/covenants/{Y2022}");
    let covenant = s.get_json(&base);
    assert_eq!(covenant["seal_signatures"], true);
    let fixture: Value = serde_json::from_slice(&crate::helpers::reference_json()).unwrap();
    for u in fixture["units"].as_array().unwrap() {
        let unit = u["id"].as_str().unwrap();
        let mut data = u["registration"].clone();
        data["submit"] = json!(true);
        let (status, v) = s.call_json(
            "PUT",
            &format!("{base}/registrations/{unit}"),
            &s.token(unit, "officer"),
            data,
        );
        assert_eq!(status, 200, "{v}");
        let (status, v) = s.call_json(
            "POST",
            &format!("{base}/registrations/{unit}/review"),
            &s.token("U01", "officer"),
            json!({"accept": true}),
        );
        assert_eq!(status, 200, "{v}");
    }
    let (status, v) = s.call_json(
        "POST",
        &format!("{base}/freeze"),
        &s.token("U01", "officer"),
        json!({}),
    );
    assert_eq!(status, 200, "{v}");
    // A clerk may not sign for the leader.
    let (status, _) = s.call_json(
        "POST",
        &format!("{base}/signatures/U05/prepare"),
        &s.token("U05", "clerk"),
        json!({}),
    );
    assert_eq!(status, 403);

    let b = Browser::start(1280, 1000, &shots_dir());
    // Before the leader signs, the clerk is told to wait.
    login(&b, &s, "U05", "clerk");
    b.goto(&format!("{}/giao-uoc/{Y2022}/ky/U05-dau", s.url));
    b.wait_text("#cho-lanh-dao", "chưa ký");
    assert_eq!(b.count("#nut-ky"), 0);
    b.screenshot("20-dong-dau-cho-lanh-dao");

    // The leader signs (CLI); the covenant page offers the clerk the seal.
    s.cli_sign_field(Y2022, "U05", "leader");
    b.goto(&format!("{}/giao-uoc/{Y2022}", s.url));
    let row = b.wait_text("#don-vi-U05", "Lãnh đạo đã ký");
    assert!(row.contains("Chưa đóng dấu"), "{row}");
    b.screenshot("21-giao-uoc-cho-dong-dau");
    b.click("#don-vi-U05 a[href$='/ky/U05-dau']");
    b.wait_url("/ky/U05-dau");
    b.wait_text("h1", "Đóng dấu");
    assert_eq!(b.count("img.seal-preview"), 1);
    b.screenshot("22-dong-dau");
    let key = s.keys().join("U05-dau.key");
    b.type_into("#tep-khoa", key.to_str().unwrap());
    b.click("#nut-ky");
    let done = b.wait_text("#ket-qua", "Đã đóng dấu thành công");
    assert!(done.contains("1/16 đơn vị đã ký và đóng dấu"), "{done}");
    b.screenshot("23-dong-dau-thanh-cong");
    b.goto(&format!("{}/giao-uoc/{Y2022}", s.url));
    b.wait_text("#don-vi-U05", "Đã đóng dấu");
    b.screenshot("24-giao-uoc-da-dong-dau");
    logout(&b);

    // Another unit's clerk through the CLI, after its leader.
    s.cli_sign_field(Y2022, "U06", "leader");
    s.cli_sign_field(Y2022, "U06-dau", "clerk");
    let covenant = s.get_json(&base);
    assert_eq!(covenant["units"][4]["seal_signed"], true);
    assert_eq!(covenant["units"][5]["seal_signed"], true);
    assert_eq!(covenant["signed_count"], 2);

    // The file: U05's and U06's cards are complete; pyHanko says INTACT:TRUSTED four times.
    let pdf = s.get_bytes(&format!("{base}/document.pdf"));
    let dir = temp_dir("browser-seal");
    std::fs::write(dir.join("sealed.pdf"), &pdf).unwrap();
    let roots = [s.keys().join("ca.pem"), s.keys().join("tsa-ca.pem")];
    let roots: Vec<&Path> = roots.iter().map(|p| p.as_path()).collect();
    let text = giaouoc::test_support::pyhanko_validate_with(&roots, &dir.join("sealed.pdf"));
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 4, "{text}");
    let out = crate::helpers::giaouoc(&[
        "verify",
        dir.join("sealed.pdf").to_str().unwrap(),
        "--trust",
        roots[0].to_str().unwrap(),
        "--trust",
        roots[1].to_str().unwrap(),
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cards = report["units"].as_array().unwrap();
    assert_eq!(cards.len(), 16);
    assert_eq!(cards[4]["complete"], true, "{report:#}");
    assert_eq!(cards[5]["complete"], true);
    assert_eq!(cards[6]["complete"], false);

    // The public verify page shows one card per unit.
    b.goto(&format!("{}/kiem-tra", s.url));
    b.type_into("#tep-pdf", dir.join("sealed.pdf").to_str().unwrap());
    b.wait_text("#the-U05", "đủ chữ ký của lãnh đạo và dấu của cơ quan");
    assert_eq!(b.count(".unit-card"), 16);
    b.screenshot("25-kiem-tra-don-vi");
}

/// After the signing: U03's officer reports its mid-year results in the page (a bad number
/// caught before sending, Vietnamese numbers accepted), the leader unit returns them with a
/// comment, U03 corrects them, the leader unit accepts; the period's page shows the share of
/// each target. Screenshots `40-…` to `44-…`.
#[test]
fn a_unit_reports_its_mid_year_results_and_the_leader_unit_reviews_them_in_chromium() {
    let s = Server::start();
    for i in 1..=16 {
        s.cli_sign(&format!("U{i:02}"));
    }
    assert_eq!(
        s.get_json(&format!("/covenants/{Y2021}"))["state"],
        "completed"
    );
    let b = Browser::start(1280, 1000, &shots_dir());
    login(&b, &s, "U03", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2021}", s.url));
    b.click("a[href$='/ket-qua/so-ket']");
    b.wait_text("#so-don-vi-bao-cao", "0/16 đơn vị đã báo cáo");
    b.screenshot("40-ket-qua-so-ket-ban-dau");
    b.click("#ket-qua-U03 a");
    b.wait_url("/ket-qua/so-ket/U03");
    b.type_into("#ket-qua-0", "năm nghìn");
    b.type_into("#ket-qua-1", "30");
    b.type_into("#ket-qua-2", "100");
    b.type_into("#ket-qua-3", "2,5");
    b.click("[data-save='submit']");
    b.wait_text("#thong-bao", "Còn 1 chỗ cần sửa");
    assert_eq!(
        b.attribute("#ket-qua-0", "aria-invalid").as_deref(),
        Some("true")
    );
    b.wait_text("#loi-ket-qua-0", "Hãy nhập kết quả bằng số");
    b.screenshot("41-ket-qua-loi-so");
    b.type_into("#ket-qua-0", "5.400");
    b.type_into("#tom-tat", "Hoàn thành đúng tiến độ 6 tháng đầu năm.");
    // An evidence file: uploaded, listed and ticked; a text file is refused in Vietnamese.
    let evidence_dir = temp_dir("evidence");
    let minutes = evidence_dir.join("bien-ban-kiem-tra-cheo.pdf");
    std::fs::write(&minutes, b"%PDF-1.7\n% bien ban kiem tra cheo\n%%EOF\n").unwrap();
    let junk = evidence_dir.join("ghi-chu.txt");
    std::fs::write(&junk, b"khong phai PDF").unwrap();
    b.type_into("#tai-minh-chung", junk.to_str().unwrap());
    b.wait_text("#loi-evidence", "PDF, PNG hoặc JPEG");
    // A file chosen by mistake is removed from the list (and from the unit's files).
    let wrong_file = evidence_dir.join("nham.pdf");
    std::fs::write(&wrong_file, b"%PDF-1.7\n% chon nham\n%%EOF\n").unwrap();
    b.type_into("#tai-minh-chung", wrong_file.to_str().unwrap());
    b.wait_text("#minh-chung", "nham.pdf");
    b.click("#minh-chung li button");
    b.wait_text("#thong-bao", "Đã xóa tệp nham.pdf");
    assert!(!b.text("#minh-chung").contains("nham.pdf"));
    b.type_into("#tai-minh-chung", minutes.to_str().unwrap());
    b.wait_text("#minh-chung", "bien-ban-kiem-tra-cheo.pdf");
    assert_eq!(
        b.run(
            "return document.querySelector('#minh-chung-0').checked",
            json!([])
        ),
        json!(true)
    );
    b.click("[data-save='submit']");
    b.wait_text("#thong-bao", "Đã gửi báo cáo kết quả");
    b.wait_text("#trang-thai-ket-qua", "Đã gửi, chờ duyệt");
    b.screenshot("42-ket-qua-da-gui");
    logout(&b);

    // The leader unit returns it, then accepts the corrected one.
    login(&b, &s, "U01", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2021}/ket-qua/so-ket/U03", s.url));
    b.wait_text("#bao-cao", "5400");
    b.click("[data-review='return']");
    b.wait_text("#loi-comment", "Hãy ghi nhận xét");
    b.type_into("#nhan-xet", "Đề nghị bổ sung số liệu chỉ tiêu thứ tư.");
    b.click("[data-review='return']");
    b.wait_text("#trang-thai-ket-qua", "Bị trả lại");
    logout(&b);
    login(&b, &s, "U03", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2021}/ket-qua/so-ket/U03", s.url));
    b.wait_text(".notice.warn", "bổ sung số liệu chỉ tiêu thứ tư");
    assert_eq!(
        b.run(
            "return document.querySelector('#ket-qua-0').value",
            json!([])
        ),
        json!("5400")
    );
    b.type_into("#ket-qua-3", "3");
    b.click("[data-save='submit']");
    b.wait_text("#thong-bao", "Đã gửi báo cáo kết quả");
    logout(&b);
    login(&b, &s, "U01", "officer");
    b.goto(&format!("{}/giao-uoc/{Y2021}/ket-qua/so-ket/U03", s.url));
    b.screenshot("43-truong-khoi-xem-xet");
    b.click("[data-review='accept']");
    b.wait_text("#trang-thai-ket-qua", "Đã chấp nhận");
    b.goto(&format!("{}/giao-uoc/{Y2021}/ket-qua/so-ket", s.url));
    let row = b.wait_text("#ket-qua-U03", "Đã chấp nhận");
    assert!(row.contains("60%") && row.contains("75%"), "{row}");
    assert!(b.text("#ket-qua-U04").contains("Chưa báo cáo kết quả"));
    b.wait_text("#so-don-vi-bao-cao", "1/16 đơn vị đã báo cáo");
    b.screenshot("44-ket-qua-so-ket-tong-hop");

    // The leader unit issues the mid-year report for signing from the same page; its
    // leader signs it in the browser like the covenant, and pyHanko accepts the result.
    let report = format!("{Y2021}-so-ket-6-thang");
    b.click("[data-issue='so-ket-6-thang']");
    b.wait_url(&format!("/giao-uoc/{report}"));
    b.wait_text("#trang-thai", "Đã chốt, chờ ký");
    b.wait_text("#tien-do", "0/1 người ký đã ký");
    b.screenshot("47-bao-cao-so-ket-phat-hanh");
    logout(&b);
    login(&b, &s, "U01", "leader");
    b.goto(&format!("{}/giao-uoc/{report}", s.url));
    b.click("#don-vi-U01 a.button");
    b.wait_url(&format!("/giao-uoc/{report}/ky/U01"));
    b.wait_text("h1", "báo cáo sơ kết 6 tháng năm 2021");
    let key = s.keys().join("U01.key");
    b.type_into("#tep-khoa", key.to_str().unwrap());
    b.click("#nut-ky");
    b.wait_text("#ket-qua", "Đã ký thành công");
    b.wait_text("#tien-do-ky", "1/1");
    b.screenshot("48-bao-cao-so-ket-da-ky");
    assert_eq!(
        s.get_json(&format!("/covenants/{report}"))["state"],
        "completed"
    );
    let pdf = s.get_bytes(&format!("/covenants/{report}/document.pdf"));
    let dir = temp_dir("browser-year-report");
    std::fs::write(dir.join("report.pdf"), &pdf).unwrap();
    let text = giaouoc::test_support::pyhanko_validate_with(
        &[&s.keys().join("ca.pem"), &s.keys().join("tsa-ca.pem")],
        &dir.join("report.pdf"),
    );
    assert_eq!(text.matches(":INTACT:TRUSTED").count(), 1, "{text}");
    logout(&b);
    login(&b, &s, "U01", "officer");
    let stored = s.get_json(&format!("/covenants/{Y2021}/results/mid_year/U03"));
    assert_eq!(stored["data"]["evidence"].as_array().unwrap().len(), 1);
    assert_eq!(stored["data"]["pledges"][0]["achieved"], 5400.0);
    assert_eq!(stored["data"]["pledges"][3]["achieved"], 3.0);
    assert_eq!(stored["version"], 2);

    // Scores: the leader unit gives U03 its agreed score (a criterion over its maximum is
    // answered at its field), the ranking shows it.
    b.goto(&format!("{}/giao-uoc/{Y2021}/cham-diem", s.url));
    b.wait_text("#xep-hang", "Chưa chấm");
    b.run(
        "document.querySelector('#don-vi-cham').value = 'U03'; \
         document.querySelector('#don-vi-cham').dispatchEvent(new Event('change'));",
        json!([]),
    );
    let maxima = ["30", "20", "10", "10", "10", "10", "10"];
    for (i, m) in maxima.iter().enumerate() {
        b.type_into(&format!("#diem-{i}"), m);
    }
    b.type_into("#diem-0", "31");
    b.type_into("#diem-7", "2,5");
    b.click("#luu-diem");
    b.wait_text("#thong-bao", "không hợp lệ");
    assert_eq!(
        b.attribute("#diem-0", "aria-invalid").as_deref(),
        Some("true")
    );
    b.type_into("#diem-0", "29,5");
    b.wait_text("#tong-diem", "102");
    b.click("#luu-diem");
    b.wait_text("#thong-bao", "102 điểm");
    b.goto(&format!("{}/giao-uoc/{Y2021}/cham-diem", s.url));
    b.wait_text("#hang-U03", "Hạng 1");
    b.screenshot("45-cham-diem");

    // The year-end conference, recorded in the page; next year's covenant already exists in
    // the demo, and the page says so.
    b.goto(&format!("{}/giao-uoc/{Y2021}/hoi-nghi", s.url));
    b.wait_text("#ket-qua-hoi-nghi", "Chưa ghi kết quả");
    b.run(
        "document.querySelector('#ngay').value = '2021-12-20';",
        json!([]),
    );
    b.type_into("#dia-diem", "Thành phố Hạ Long");
    b.type_into("#chair-name", "Nguyễn Văn Thành");
    b.type_into("#chair-position", "Giám đốc");
    b.type_into("#secretary-name", "Trần Thị Hoa");
    b.type_into("#secretary-position", "Chuyên viên");
    b.type_into("#phieu-U03", "12");
    b.type_into("#phieu-U04", "4");
    b.run(
        "document.querySelector('#truong-khoi').value = 'U02'; \
         document.querySelector('#pho-truong-khoi').value = 'U05';",
        json!([]),
    );
    b.type_into("#phieu-truong-khoi", "15");
    b.type_into("#phieu-pho-truong-khoi", "17");
    b.click("#luu-hoi-nghi");
    b.wait_text("#thong-bao", "không hợp lệ");
    assert_eq!(
        b.attribute("#phieu-pho-truong-khoi", "aria-invalid")
            .as_deref(),
        Some("true")
    );
    b.wait_text("#loi-phieu-pho-truong-khoi", "17 phiếu");
    b.type_into("#phieu-pho-truong-khoi", "14");
    b.click("#luu-hoi-nghi");
    b.wait_text("#ket-qua-hoi-nghi", "Trung tâm Dịch vụ việc làm Quảng Ninh");
    b.screenshot("46-hoi-nghi-tong-ket");
    b.click("#tao-nam-sau");
    b.wait_text("#thong-bao", "đã tồn tại");
    let minutes = s.get_bytes(&format!(
        "/covenants/{Y2021}/year-documents/bien-ban-tong-ket.pdf"
    ));
    assert!(minutes.starts_with(b"%PDF-"));
}

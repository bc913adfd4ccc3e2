//! Secrets are never logged: with every log level on, signing in, calling the API with
//! tokens and a session, and signing leave no token, session secret, anti-CSRF token or
//! private key in the server's log.

use serde_json::Value;

use crate::crash::{ADMIN, Server, agent};
use crate::helpers::temp_dir;
use crate::http_support::csrf_of;

#[test]
fn no_secret_reaches_the_log_even_at_trace_level() {
    let dir = temp_dir("logs");
    let data = dir.join("data");
    let log = dir.join("server.log");
    let server = Server::start_logging(&data, &log, "trace");
    let keys = data.join("demo-keys");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(keys.join("tokens.json")).unwrap()).unwrap();
    let officer = tokens["U03"]["officer"].as_str().unwrap();
    let leader = tokens["U03"]["leader"].as_str().unwrap();
    let a = agent();

    // Sign in through the form; keep the session cookie and the page's anti-CSRF token.
    let r = a
        .post(format!("{}/dang-nhap", server.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .config()
        .max_redirects(0)
        .build()
        .send(format!("ma={officer}&tiep=/"))
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session_secret = cookie.split('=').nth(1).unwrap().to_owned();
    let home = a
        .get(format!("{}/", server.url))
        .header("Cookie", &cookie)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let csrf = csrf_of(&home).unwrap();
    let registration = format!(
        "{}/covenants/KTD-VHXH-QN-2022/registrations/U03",
        server.url
    );
    let r = a
        .put(&registration)
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .send_json(serde_json::json!({"pledges": [{"text": "Hoàn thành 100% kế hoạch."}]}))
        .unwrap();
    assert_eq!(r.status(), 200);
    // Bearer calls, a wrong token, and a signature with the leader's key.
    for t in [ADMIN, officer, "sai-token-khong-ton-tai"] {
        let _ = a
            .get(format!("{}/covenants/KTD-VHXH-QN-2021", server.url))
            .header("Authorization", format!("Bearer {t}"))
            .call()
            .unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_giaouoc"))
        .args(["client", "sign", "--server", &server.url])
        .args(["--covenant", "KTD-VHXH-QN-2021", "--unit", "U03", "--key"])
        .arg(keys.join("U03.key"))
        .args(["--token", leader])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    drop(server);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 20, "trace logging is on: {text}");
    let key_body = std::fs::read_to_string(keys.join("U03.key")).unwrap();
    let key_line = key_body.lines().nth(1).unwrap();
    for (what, secret) in [
        ("admin token", ADMIN),
        ("officer token", officer),
        ("leader token", leader),
        ("session secret", session_secret.as_str()),
        ("anti-CSRF token", csrf.as_str()),
        ("private key", key_line),
    ] {
        assert!(!text.contains(secret), "the {what} is in the log");
    }
}

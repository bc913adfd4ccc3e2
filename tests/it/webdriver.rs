//! A minimal W3C WebDriver client (the dozen commands the browser tests use) over ureq, and
//! the headless Chromium it drives through `chromedriver`.
//!
//! Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`; `.ci/run`
//! installs them). `$CHROMEDRIVER` and `$CHROMIUM` override the paths.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A headless Chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    shots: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with the given window size; screenshots
    /// go to `shots`.
    pub fn start(width: u32, height: u32, shots: &Path) -> Browser {
        let driver_path = giaouoc::test_support::require("chromedriver");
        let chromium = giaouoc::test_support::require("chromium");
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver_path.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = agent
                .get(format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-dev-shm-usage",
                         "--lang=vi-VN", format!("--window-size={width},{height}")],
            },
        }}});
        let mut resp = agent
            .post(format!("{base}/session"))
            .send_json(&caps)
            .unwrap();
        let v: Value = resp.body_mut().read_json().unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_owned();
        std::fs::create_dir_all(shots).unwrap();
        Browser {
            driver,
            base,
            session,
            agent,
            shots: shots.to_path_buf(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = self.url(path);
        let mut resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = resp.status().as_u16();
        let v: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
        assert!(status < 400, "WebDriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn try_send(&self, path: &str, body: Value) -> Option<Value> {
        let mut resp = self.agent.post(self.url(path)).send_json(body).ok()?;
        if resp.status().as_u16() >= 400 {
            return None;
        }
        let v: Value = resp.body_mut().read_json().ok()?;
        Some(v["value"].clone())
    }

    pub fn goto(&self, url: &str) {
        self.send("POST", "/url", Some(json!({"url": url})));
    }

    pub fn current_url(&self) -> String {
        self.send("GET", "/url", None).as_str().unwrap().to_owned()
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) =
                self.try_send("/element", json!({"using": "css selector", "value": css}))
            {
                return v[ELEMENT].as_str().unwrap().to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {}",
                self.current_url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn count(&self, css: &str) -> usize {
        self.send(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.send("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    /// Clears a field and types `text` into it (for a file input: the file's path).
    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        let is_file = self
            .send("GET", &format!("/element/{el}/attribute/type"), None)
            .as_str()
            == Some("file");
        if !is_file {
            self.send("POST", &format!("/element/{el}/clear"), Some(json!({})));
        }
        self.send(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        );
    }

    pub fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.send("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let el = self.find(css);
        self.send("GET", &format!("/element/{el}/attribute/{name}"), None)
            .as_str()
            .map(str::to_owned)
    }

    /// Runs a script in the page and returns its value.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits up to 15 s until the text of `css` contains `needle`; returns that text.
    pub fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = self
                .try_send("/element", json!({"using": "css selector", "value": css}))
                .and_then(|v| v[ELEMENT].as_str().map(str::to_owned))
                .and_then(|el| {
                    self.try_get(&format!("/element/{el}/text"))
                        .and_then(|v| v.as_str().map(str::to_owned))
                })
                .unwrap_or_default();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {needle:?} on {} (last: {text:?})",
                self.current_url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn try_get(&self, path: &str) -> Option<Value> {
        let mut resp = self.agent.get(self.url(path)).call().ok()?;
        if resp.status().as_u16() >= 400 {
            return None;
        }
        let v: Value = resp.body_mut().read_json().ok()?;
        Some(v["value"].clone())
    }

    /// Waits until the page at a URL containing `needle` has loaded.
    pub fn wait_url(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.current_url().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "never reached {needle} (at {})",
                self.current_url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.run("return document.readyState", json!([]));
    }

    pub fn delete_cookie(&self, name: &str) {
        self.send("DELETE", &format!("/cookie/{name}"), None);
    }

    pub fn set_window(&self, width: u32, height: u32) {
        self.send(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Saves a full-page screenshot as `<shots>/<name>.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        // Chromium's viewport screenshot: grow the window to the page's height first.
        let height = self
            .run(
                "return Math.ceil(document.documentElement.scrollHeight)",
                json!([]),
            )
            .as_u64()
            .unwrap_or(1000);
        let width = self
            .run("return window.outerWidth", json!([]))
            .as_u64()
            .unwrap_or(1280);
        let rect = self.send("GET", "/window/rect", None);
        self.run("window.scrollTo(0, 0)", json!([]));
        self.set_window(
            u32::try_from(width).unwrap(),
            u32::try_from(height.clamp(600, 6000) + 100).unwrap(),
        );
        let png = self.send("GET", "/screenshot", None);
        let bytes = B64.decode(png.as_str().unwrap()).unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        self.set_window(
            u32::try_from(rect["width"].as_u64().unwrap_or(1280)).unwrap(),
            u32::try_from(rect["height"].as_u64().unwrap_or(1000)).unwrap(),
        );
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

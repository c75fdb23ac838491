//! A real browser for the tests: headless Chromium driven by chromedriver, spoken to with a
//! few WebDriver requests over std's `TcpStream` (plain HTTP/1.1 on 127.0.0.1, one request
//! per connection), so the tests need no async runtime. Chromium and chromedriver come from
//! Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them a test
//! fails and says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

/// How long chromedriver may take to start, and any one request to be answered.
const DEADLINE: Duration = Duration::from_secs(60);

/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser at a time: the machine has two cores and other tests grade meanwhile.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `name` on PATH, or a failure that says how to install it.
fn installed(name: &str) -> PathBuf {
    which::which(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not installed: the HTML report is tested in a real browser; \
             install Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`, \
             as .ci/run does)"
        )
    })
}

/// The flags every Chromium of these tests runs with: headless, no sandbox (tests run as
/// root), nothing fetched from the network, and a fresh profile in `profile`.
fn chromium_flags(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ]
    .into_iter()
    .map(String::from)
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// chromedriver on a free port of 127.0.0.1, with one Chromium session; both end on drop.
pub struct Browser {
    chromedriver: Child,
    port: u16,
    session: String,
    profile: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// An element of the page, as WebDriver names it.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver, waits for it to say it listens (or the deadline), and opens a
    /// headless Chromium.
    pub fn start() -> Browser {
        let chromium = installed("chromium");
        let chromedriver = installed("chromedriver");
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let port = portpicker::pick_unused_port().expect("a free port");
        // Listens on localhost only, and lets only local clients in.
        let mut child = Command::new(chromedriver)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let (ready_tx, ready) = mpsc::channel();
        let stdout = child.stdout.take().expect("chromedriver's stdout");
        // Reads chromedriver's output to its end, so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("started successfully") {
                    let _ = ready_tx.send(());
                }
            }
        });
        if ready.recv_timeout(DEADLINE).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromedriver did not start within {DEADLINE:?}");
        }
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut browser = Browser {
            chromedriver: child,
            port,
            session: String::new(),
            profile,
            _turn: turn,
        };
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": chromium_flags(browser.profile.path()),
            },
        }}});
        let session = browser.request("POST", "/session", Some(&capabilities));
        browser.session = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {session}"))
            .to_string();
        browser
    }

    /// One request; the answer's `value`. A WebDriver error fails the test with its
    /// message.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, answer) = self.try_request(method, path, body);
        assert!(status == 200, "{method} {path}: {status} {answer}");
        answer["value"].clone()
    }

    /// One request: the HTTP status and the JSON answer; a broken exchange fails the test.
    fn try_request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.exchange(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// One request over a connection of its own: the HTTP status and the JSON answer.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("cannot reach chromedriver: {e}"))?;
        stream
            .set_read_timeout(Some(DEADLINE))
            .map_err(|e| e.to_string())?;
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .map_err(|e| format!("cannot send to chromedriver: {e}"))?;
        // chromedriver keeps the connection open: read the head, then Content-Length bytes.
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => return Err(format!("the answer ended in its head: {head:?}")),
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push(line.trim_end().to_string()),
                Err(e) => return Err(format!("no answer from chromedriver: {e}")),
            }
        }
        let status = head
            .first()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status in {head:?}"))?;
        let length: usize = head
            .iter()
            .find_map(|h| {
                let (name, value) = h.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
        let mut body = vec![0; length];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("the answer was cut short: {e}"))?;
        let json = String::from_utf8_lossy(&body);
        let json = serde_json::from_str(&json).map_err(|e| format!("{e} in {json}"))?;
        Ok((status, json))
    }

    fn session_path(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.request("POST", &self.session_path(path), Some(&body))
    }

    fn get(&self, path: &str) -> Value {
        self.request("GET", &self.session_path(path), None)
    }

    /// Opens a file from disk, as a person would.
    pub fn open(&self, file: &Path) {
        let url = format!(
            "file://{}",
            file.canonicalize().expect("the page").display()
        );
        self.post("/url", json!({"url": url}));
    }

    /// Runs `script` (a function body) in the page with `args`; what it returns.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// Every element matching the CSS `selector`, in document order.
    pub fn find_all(&self, selector: &str) -> Vec<Element> {
        elements(self.post(
            "/elements",
            json!({"using": "css selector", "value": selector}),
        ))
    }

    /// The one element matching `selector`.
    pub fn find(&self, selector: &str) -> Element {
        let mut found = self.find_all(selector);
        assert_eq!(found.len(), 1, "{selector} should match one element");
        found.remove(0)
    }

    /// Elements matching `selector` inside `within`.
    pub fn find_in(&self, within: &Element, selector: &str) -> Vec<Element> {
        elements(self.post(
            &format!("/element/{}/elements", within.0),
            json!({"using": "css selector", "value": selector}),
        ))
    }

    /// Clicks the element as a person would (WebDriver refuses what is hidden or covered).
    pub fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), json!({}));
    }

    /// The element's text as rendered (what is hidden is left out).
    pub fn text(&self, element: &Element) -> String {
        self.get(&format!("/element/{}/text", element.0))
            .as_str()
            .expect("text")
            .to_string()
    }

    pub fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", element.0))
            .as_str()
            .map(String::from)
    }

    /// Whether a person can see the element.
    pub fn displayed(&self, element: &Element) -> bool {
        self.get(&format!("/element/{}/displayed", element.0))
            .as_bool()
            .expect("displayed")
    }

    /// The element's rendered height in CSS pixels.
    pub fn height(&self, element: &Element) -> f64 {
        self.get(&format!("/element/{}/rect", element.0))["height"]
            .as_f64()
            .expect("height")
    }

    /// The text of an open alert, if a script opened one.
    pub fn alert(&self) -> Option<String> {
        let (status, answer) = self.try_request("GET", &self.session_path("/alert/text"), None);
        (status == 200).then(|| answer["value"].as_str().unwrap_or("").to_string())
    }

    /// A Chrome DevTools command, e.g. emulating dark mode or a phone.
    pub fn devtools(&self, command: &str, params: Value) -> Value {
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": command, "params": params}),
        )
    }

    /// Emulates the reader's colour scheme (`light` or `dark`) and medium (`screen` or
    /// `print`).
    pub fn emulate(&self, scheme: &str, media: &str) {
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({"media": media, "features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        );
    }

    /// Sets the viewport to `width` × `height` CSS pixels, as a phone when `mobile`.
    pub fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// A PNG of the viewport, written to `file`.
    pub fn screenshot(&self, file: &Path) {
        use base64::Engine as _;
        let png = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("a PNG");
        std::fs::write(file, png).expect("write the screenshot");
    }
}

/// The elements of a WebDriver answer to a search.
fn elements(found: Value) -> Vec<Element> {
    found
        .as_array()
        .expect("a list of elements")
        .iter()
        .map(|e| Element(e[ELEMENT].as_str().expect("an element").to_string()))
        .collect()
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends Chromium (chromedriver would leave it behind), even after a failed test.
        if !self.session.is_empty() {
            let _ = self.exchange("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

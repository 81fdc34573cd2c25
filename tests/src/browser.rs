//! A real headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`, which tests/run.sh installs): `chromedriver` on a free loopback
//! port, one browser session with a profile in a temp dir, both ended when the
//! [`Browser`] is dropped. The calls are blocking (the session's own Tokio runtime runs
//! them), so a test drives the browser as it drives the daemon.
//!
//! The browser's console is read through chromedriver's log endpoint
//! (`POST /session/{id}/se/log`); [`Browser::assert_no_console_errors`] fails on any
//! SEVERE entry (a script error, a resource that failed to load, a CSP violation).

use crate::{free_port, require, wait_until, Guard};
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// chromedriver's legacy `se/log` command: the log entries of one type since the last
/// read (`browser`: the console).
#[derive(Debug)]
struct ReadLog(&'static str);

impl WebDriverCompatibleCommand for ReadLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

/// One console entry: its level (`SEVERE`, `WARNING`, `INFO`, ...) and message.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub level: String,
    pub message: String,
}

/// A headless Chromium session and the chromedriver serving it.
pub struct Browser {
    // field order is drop order: the session ends before its runtime, chromedriver
    // (which kills its browser) before the profile directory is removed
    client: Option<Client>,
    rt: tokio::runtime::Runtime,
    driver: Guard,
    _profile: TempDir,
    /// Console errors noted so far, with the page they were logged on.
    errors: std::cell::RefCell<Vec<(String, LogEntry)>>,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; fails with the package to install
    /// when either is missing (never skips).
    pub fn start() -> Browser {
        let driver = require("/usr/bin/chromedriver", "chromium-driver");
        let chromium = require("/usr/bin/chromium", "chromium");
        let profile = tempfile::Builder::new()
            .prefix("chromium")
            .tempdir()
            .unwrap();
        let port = free_port();
        let log = profile.path().join("chromedriver.log");
        // its own process group, which the browser it starts joins: all killed at drop
        let child = Guard::spawn(
            Command::new(&driver)
                .process_group(0)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let up = wait_until(20.0, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            up,
            "chromedriver did not listen on port {port}: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let data = profile.path().join("profile");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", data.display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let client = rt
            .block_on(
                ClientBuilder::native()
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "no browser session from chromedriver: {e}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Browser {
            client: Some(client),
            rt,
            driver: child,
            _profile: profile,
            errors: Default::default(),
        }
    }

    /// The WebDriver client, for what the helpers here do not cover (with
    /// [`Browser::block_on`]).
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("session open")
    }

    /// Runs a future of the client to its end.
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// Opens `url` and waits until it is loaded.
    pub fn goto(&self, url: &str) {
        self.block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("GET {url} in the browser: {e}"));
    }

    /// The URL shown now.
    pub fn url(&self) -> String {
        self.block_on(self.client().current_url())
            .map(|u| u.to_string())
            .unwrap_or_else(|e| panic!("current URL: {e}"))
    }

    /// The page's source as the browser holds it now.
    pub fn source(&self) -> String {
        self.block_on(self.client().source())
            .unwrap_or_else(|e| panic!("page source: {e}"))
    }

    /// Every element matching the CSS selector `css`.
    pub fn all(&self, css: &str) -> Vec<Element> {
        self.block_on(self.client().find_all(Locator::Css(css)))
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.all(css).len()
    }

    /// The one element matching `css` (fails with the page's source if none).
    pub fn one(&self, css: &str) -> Element {
        let mut all = self.all(css);
        assert!(
            !all.is_empty(),
            "nothing matches {css} on {}:\n{}",
            self.url(),
            self.source()
        );
        all.swap_remove(0)
    }

    /// The rendered text of an element.
    pub fn text(&self, e: &Element) -> String {
        self.block_on(e.text())
            .unwrap_or_else(|err| panic!("text of {e:?}: {err}"))
    }

    /// The text content of an element (hidden parts too, as the DOM holds it).
    pub fn text_content(&self, e: &Element) -> String {
        self.block_on(e.prop("textContent"))
            .unwrap_or_else(|err| panic!("textContent of {e:?}: {err}"))
            .unwrap_or_default()
    }

    /// An attribute of an element.
    pub fn attr(&self, e: &Element, name: &str) -> Option<String> {
        self.block_on(e.attr(name))
            .unwrap_or_else(|err| panic!("attribute {name} of {e:?}: {err}"))
    }

    /// The texts of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.all(css).iter().map(|e| self.text(e)).collect()
    }

    /// Runs a script in the page (`arguments[i]` are `args`); what it returns.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.block_on(self.client().execute(script, args))
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Types `value` into the field named `name` of the form matching `form`
    /// (replacing what it held).
    pub fn fill(&self, form: &str, name: &str, value: &str) {
        let field = self.one(&format!("{form} [name=\"{name}\"]"));
        self.block_on(async {
            field.clear().await?;
            field.send_keys(value).await
        })
        .unwrap_or_else(|e| panic!("type into {form} {name}: {e}"));
    }

    /// Submits the form matching `form` with its submit button (as a user clicks it)
    /// and waits until the next page is loaded.
    pub fn submit(&self, form: &str) {
        let button = self.one(&format!(
            "{form} button[type=submit], {form} input[type=submit], {form} button:not([type])"
        ));
        let before = self.js("return document.documentElement;", vec![]);
        self.block_on(button.click())
            .unwrap_or_else(|e| panic!("submit {form}: {e}"));
        // the old document goes stale once the answer is loaded
        let loaded = self.poll(10.0, || {
            let now = self.js(
                "return document.readyState === 'complete' ? document.documentElement : null;",
                vec![],
            );
            !now.is_null() && now != before
        });
        assert!(loaded, "submitting {form} loaded no new page");
    }

    /// Polls `f` every 50 ms until it is true or `secs` pass.
    pub fn poll(&self, secs: f64, mut f: impl FnMut() -> bool) -> bool {
        wait_until(secs, &mut f)
    }

    /// Opens `url` again every half second until `css` matches something or `secs`
    /// pass; whether it did.
    pub fn reload_until(&self, url: &str, css: &str, secs: f64) -> bool {
        let end = std::time::Instant::now() + Duration::from_secs_f64(secs);
        loop {
            self.goto(url);
            if self.count(css) > 0 {
                return true;
            }
            if std::time::Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The text of an alert, confirm or prompt dialog open now.
    pub fn dialog(&self) -> Option<String> {
        self.block_on(self.client().get_alert_text()).ok()
    }

    /// Saves a PNG of the viewport at `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self
            .block_on(self.client().screenshot())
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// The console entries logged since the last read.
    pub fn console(&self) -> Vec<LogEntry> {
        let v = self
            .block_on(self.client().issue_cmd(ReadLog("browser")))
            .unwrap_or_else(|e| panic!("reading the browser's console log: {e}"));
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| LogEntry {
                        level: e["level"].as_str().unwrap_or("").to_string(),
                        message: e["message"].as_str().unwrap_or("").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Notes the console errors (SEVERE entries) logged since the last read as those of
    /// `page`, for [`Browser::assert_no_console_errors`]: a test can check what a page
    /// shows first and fail on its console errors at the end.
    pub fn note_console_errors(&self, page: &str) {
        self.note_console_errors_but(page, None);
    }

    /// [`Browser::note_console_errors`] but for the errors whose message contains
    /// `expected` (a deliberate failure's own status line).
    pub fn note_console_errors_but(&self, page: &str, expected: Option<&str>) {
        let severe = self
            .console()
            .into_iter()
            .filter(|e| e.level == "SEVERE")
            .filter(|e| expected.is_none_or(|x| !e.message.contains(x)))
            .map(|e| (page.to_string(), e));
        self.errors.borrow_mut().extend(severe);
    }

    /// Fails, naming the pages, if the console logged an error on `page` (since the
    /// last read) or on a page noted before.
    pub fn assert_no_console_errors(&self, page: &str) {
        self.note_console_errors(page);
        let errors = self.errors.borrow();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), c.close()).await });
        }
        // a browser the session did not end goes with its driver's group
        // SAFETY: signals the process group of our own child.
        unsafe { libc::kill(-(self.driver.pid() as i32), libc::SIGKILL) };
    }
}

//! The web UI in a real headless Chromium against the real daemon: the overview lists a
//! problem, the service page draws its graph with the warning and critical levels, the
//! availability page shows the split of a history with a known answer (a nagios.log
//! imported), an anonymous visitor sees no actions and cannot act, a signed-in user
//! acknowledges through the form (the session cookie alone, without the form's CSRF
//! token or from another site, acts on nothing), hostile plugin output stays text, and
//! no page logs a console error.

use hcoop_tests::browser::Browser;
use hcoop_tests::daemon::{command_service, host, Daemon};
use hcoop_tests::rawhttp::raw;
use hcoop_tests::scenario::{daemon_with_out, every_second};
use hcoop_tests::wait_until;
use std::path::{Path, PathBuf};

/// The daemon's web address.
fn base(d: &Daemon) -> String {
    format!("http://{}", d.api())
}

/// Replaces the plugin script `path` (atomically) by one printing `text` verbatim (a
/// quoted here-document: no shell expansion) and exiting `code`.
fn write_plugin(path: &Path, code: i32, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(
        &tmp,
        format!("cat <<'END_OF_OUTPUT'\n{text}\nEND_OF_OUTPUT\nexit {code}\n"),
    )
    .unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// A service of host `web` running the plugin script `script` with `/bin/sh`.
fn script_service(name: &str, script: &Path) -> String {
    command_service("web", name, &format!("/bin/sh {}", script.display()), "")
}

/// A daemon checking host `web` (always up) with the services `(name, code, output)`
/// scripted, every second; problems hard at the first attempt.
fn web_daemon(services: &[(&str, i32, &str)]) -> (Daemon, PathBuf) {
    let (mut d, dir, _out) = daemon_with_out();
    let mut config = every_second(1);
    config.push_str(&host("web", None));
    for (name, code, text) in services {
        let script = dir.join(format!("{name}.sh"));
        write_plugin(&script, *code, text);
        config.push_str(&script_service(name, &script));
    }
    d.restart_with(&config);
    for (name, code, _) in services {
        let want = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][*code as usize];
        d.wait_service(&format!("web/{name}"), 15.0, |v| {
            v["state"] == want && v["state_type"] == "HARD"
        });
    }
    (d, dir)
}

/// The points of an SVG path's `d` (one per M or L command).
fn path_points(d: &str) -> usize {
    d.chars().filter(|c| matches!(c, 'M' | 'L')).count()
}

const DISK: &str = "DISK CRITICAL - / 93% used | used=93%;80;90;0;100";

#[test]
fn console_errors_are_seen() {
    // the harness itself: a page logging an error is caught, a clean one is not
    let b = Browser::start();
    b.goto("data:text/html,<p>quiet</p>");
    b.assert_no_console_errors("a quiet page");
    b.goto("data:text/html,<script>console.error('boom')</script>");
    let log = b.console();
    assert!(
        log.iter()
            .any(|e| e.level == "SEVERE" && e.message.contains("boom")),
        "{log:?}"
    );
}

#[test]
fn overview_lists_the_problem_first() {
    let (d, _dir) = web_daemon(&[("disk", 2, DISK), ("www", 0, "HTTP OK - 200")]);
    let b = Browser::start();
    b.goto(&format!("{}/", base(&d)));
    let problem = b.one("#objects tr[data-object=\"web/disk\"][data-state=CRITICAL]");
    assert_eq!(b.attr(&problem, "data-handled").as_deref(), Some("0"));
    assert!(
        b.text(&problem).contains("DISK CRITICAL - / 93% used"),
        "{}",
        b.text(&problem)
    );
    b.one("#objects tr[data-object=\"web/www\"][data-state=OK]");
    // problems first: the unhandled CRITICAL row comes before every OK row
    let order: Vec<String> = b
        .all("#objects tr[data-object]")
        .iter()
        .map(|r| b.attr(r, "data-state").unwrap_or_default())
        .collect();
    assert_eq!(
        order.first().map(String::as_str),
        Some("CRITICAL"),
        "{order:?}"
    );
    let counts = b.one("#counts .count[data-state=CRITICAL]");
    assert_eq!(b.text(&counts).trim(), "1");
    // the state filter keeps only the problem
    b.goto(&format!("{}/?state=CRITICAL", base(&d)));
    let objects: Vec<String> = b
        .all("#objects tr[data-object]")
        .iter()
        .map(|r| b.attr(r, "data-object").unwrap_or_default())
        .collect();
    assert_eq!(objects, ["web/disk"]);
    b.assert_no_console_errors("the overview");
}

#[test]
fn service_page_draws_the_graph_with_levels() {
    let (d, dir) = web_daemon(&[("disk", 2, DISK)]);
    let script = dir.join("disk.sh");
    let b = Browser::start();
    let url = format!("{}/service/web/disk", base(&d));
    // the values move so that the line is not flat; a 1-minute archive has a second
    // point once a minute boundary is crossed (or sooner if raw samples are drawn)
    let mut n = 0;
    let drawn = wait_until(75.0, || {
        n += 1;
        let used = 91 + n % 8;
        write_plugin(
            &script,
            2,
            &format!("DISK CRITICAL - / {used}% used | used={used}%;80;90;0;100"),
        );
        b.goto(&url);
        b.all("figure.graph[data-metric=used] svg path.series")
            .first()
            .and_then(|p| b.attr(p, "d"))
            .is_some_and(|d| path_points(&d) >= 2)
    });
    let page = b.source();
    assert!(drawn, "no graph of at least 2 points at {url}:\n{page}");
    assert_eq!(
        b.attr(&b.one("#state"), "data-state").as_deref(),
        Some("CRITICAL")
    );
    assert!(b.text(&b.one("h1")).contains("disk"), "{page}");
    let path = b.one("figure.graph[data-metric=used] svg path.series.avg");
    let dpath = b.attr(&path, "d").unwrap();
    assert!(dpath.trim_start().starts_with('M'), "{dpath}");
    // the levels the plugin gave: 80 warning, 90 critical
    b.one("figure.graph[data-metric=used] svg line.warn");
    b.one("figure.graph[data-metric=used] svg line.crit");
    // the range links
    for range in ["4h", "25h", "1w", "1m", "1y"] {
        assert_eq!(
            b.count(&format!("a[href$=\"range={range}\"]")),
            1,
            "range link {range}: {page}"
        );
    }
    // a wider range still draws the graph
    b.goto(&format!("{url}?range=25h"));
    b.one("figure.graph[data-metric=used] svg path.series");
    b.goto(&url);
    b.one("svg#timeline rect[data-state=CRITICAL]");
    b.one("table#events tr[data-kind=state]");
    b.assert_no_console_errors("the service page");
}

/// The unix time now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Fills the (stopped) daemon's store with a day of `web/disk`: a use growing towards
/// 93 % with a 6-hour wave, sampled every minute with the levels 80 and 90, and its state
/// changes, as a daemon running through that day would have written them. The use now.
fn a_day_of_disk(d: &Daemon) -> u64 {
    use hcoop_monitor::history::store::{History, HistorySettings};
    use hcoop_monitor::history::{Event, Kind};
    let settings = HistorySettings {
        path: d.dir.path().join("history.db"),
        ..HistorySettings::default()
    };
    let minutes = 26 * 60;
    let begin = now() - minutes * 60;
    let store = History::open(&settings, begin).expect("open the store");
    let mut events = vec![Event::new(Kind::Start, begin - 60, None, None)];
    let mut last = "";
    let mut used = 0;
    for i in 0..=minutes {
        let at = begin + i * 60;
        let x = i as f64 / minutes as f64;
        used =
            (60.0 + 33.0 * x + 4.0 * (x * 26.0 / 6.0 * std::f64::consts::TAU).sin()).round() as u64;
        let state = match used {
            91.. => "CRITICAL",
            81.. => "WARNING",
            _ => "OK",
        };
        let perf = format!("used={used}%;80;90;0;100");
        let items: Vec<_> = hcoop_plugins::plugin::perfdata::parse_perfdata(&perf)
            .into_iter()
            .map(|p| p.expect("perfdata"))
            .collect();
        store.perfdata("web", Some("disk"), at, &items);
        if state != last {
            let mut e = Event::new(Kind::State, at, Some("web"), Some("disk"));
            e.state = Some(state.into());
            e.hard = Some(true);
            e.attempt = Some(1);
            e.output = Some(format!("DISK {state} - / {used}% used"));
            events.push(e);
            last = state;
        }
    }
    store.import(events).expect("import the day's events");
    store.close("the day is written");
    used
}

#[test]
fn service_page_with_a_day_of_history() {
    // the README's picture: a day of a disk filling up, at the 25-hour range
    let (mut d, dir, _out) = daemon_with_out();
    d.kill9();
    let used = a_day_of_disk(&d);
    let script = dir.join("disk.sh");
    write_plugin(
        &script,
        2,
        &format!("DISK CRITICAL - / {used}% used | used={used}%;80;90;0;100"),
    );
    let mut config = every_second(1);
    config.push_str(&host("web", None));
    config.push_str(&script_service("disk", &script));
    d.write_config(&config);
    d.spawn();
    d.wait_service("web/disk", 15.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    let b = Browser::start();
    b.goto(&format!("{}/service/web/disk?range=25h", base(&d)));
    let path = b.one("figure.graph[data-metric=used] svg path.series.avg");
    let points = path_points(&b.attr(&path, "d").unwrap_or_default());
    assert!(
        points >= 100,
        "{points} points for a day of samples: {}",
        b.source()
    );
    b.one("figure.graph[data-metric=used] svg line.warn");
    b.one("figure.graph[data-metric=used] svg line.crit");
    // the timeline shows the day's three states, each as a visible stretch
    for state in ["OK", "WARNING", "CRITICAL"] {
        let width = b.js(
            "return Math.max(0, ...Array.from(document.querySelectorAll(\
             'svg#timeline rect[data-state=' + arguments[0] + ']'), r => r.getBoundingClientRect().width));",
            vec![state.into()],
        );
        assert!(
            width.as_f64().unwrap_or(0.0) >= 1.0,
            "{state}: {width}: {}",
            b.source()
        );
    }
    b.block_on(b.client().set_window_size(1280, 1200))
        .expect("window size");
    let shot = hcoop_tests::target_dir().join("service-page.png");
    b.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    b.assert_no_console_errors("the service page with a day of history");
}

#[test]
fn plugin_output_is_shown_without_its_perfdata() {
    // as Nagios' CGIs show a plugin's output: the perfdata has its own table and graphs
    let (d, _dir) = web_daemon(&[("disk", 2, DISK)]);
    let b = Browser::start();
    for page in ["/", "/service/web/disk", "/host/web", "/events?host=web"] {
        b.goto(&format!("{}{page}", base(&d)));
        let text = b.text_content(&b.one("main"));
        assert!(
            text.contains("DISK CRITICAL - / 93% used"),
            "{page}: {text}"
        );
        assert!(
            !text.contains("| used=93%"),
            "{page} shows the perfdata in the output: {text}"
        );
        b.note_console_errors(page);
    }
    b.assert_no_console_errors("the pages");
}

#[test]
fn anonymous_visitors_see_no_actions_and_cannot_act() {
    let (d, _dir) = web_daemon(&[("disk", 2, DISK)]);
    let b = Browser::start();
    for page in [
        "/",
        "/service/web/disk",
        "/host/web",
        "/events",
        "/availability",
    ] {
        b.goto(&format!("{}{page}", base(&d)));
        b.one("main");
        b.one("a#login[href=\"/login\"]");
        assert_eq!(b.count("#user"), 0, "{page}");
        assert_eq!(b.count("form.action"), 0, "{page}: {}", b.source());
        b.note_console_errors(page);
    }
    // a form post without a session is refused and acknowledges nothing
    for action in ["ack", "downtime", "recheck", "unack", "cancel"] {
        let body = "host=web&service=disk&comment=from+nowhere&duration=1h&sticky=1";
        let (code, answer) = raw(
            &d.api(),
            &format!(
                "POST /action/{action} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                d.api(),
                body.len()
            ),
        );
        assert!(
            (400..500).contains(&code),
            "/action/{action}: {code} {answer}"
        );
    }
    let v = d.service("web/disk");
    assert_eq!(v["acknowledged"], false, "{v}");
    assert_eq!(v["downtimes"], serde_json::json!([]), "{v}");
    // the same with a forged session cookie
    let body = "host=web&service=disk&comment=forged";
    let (code, answer) = raw(
        &d.api(),
        &format!(
            "POST /action/ack HTTP/1.0\r\nHost: {}\r\nCookie: hcoop_session=0123456789abcdef\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            d.api(),
            body.len()
        ),
    );
    assert!((400..500).contains(&code), "forged cookie: {code} {answer}");
    assert_eq!(d.service("web/disk")["acknowledged"], false);
    b.assert_no_console_errors("the pages seen anonymously");
}

#[test]
fn signed_in_user_acknowledges_through_the_form() {
    let (d, _dir) = web_daemon(&[("disk", 2, DISK)]);
    let b = Browser::start();
    b.goto(&format!("{}/login", base(&d)));
    b.note_console_errors("the sign-in page");
    // a wrong token is refused
    let field = "main form input[name=token], main form input[type=password]";
    type_into(&b, field, "not-a-token");
    b.submit("main form");
    // the refusal's own status is the one console entry expected here
    b.note_console_errors_but(
        "the refused sign-in",
        Some("/login - Failed to load resource"),
    );
    assert_eq!(
        b.count("#user"),
        0,
        "signed in with a wrong token: {}",
        b.source()
    );
    b.goto(&format!("{}/login", base(&d)));
    type_into(&b, field, &d.token);
    b.submit("main form");
    assert_eq!(b.text(&b.one("#user")).trim(), "tester");
    assert_eq!(b.count("a#login"), 0);
    let url = format!("{}/service/web/disk", base(&d));
    b.goto(&url);
    for action in ["ack", "downtime", "recheck"] {
        b.one(&format!("form.action[data-action={action}]"));
    }
    assert_eq!(b.count("form.action[data-action=unack]"), 0);
    // the session cookie is out of scripts' and other sites' reach
    let cookies = b
        .block_on(b.client().get_all_cookies())
        .expect("the browser's cookies");
    let session = cookies
        .iter()
        .find(|c| c.name() == "hcoop_session")
        .unwrap_or_else(|| panic!("no hcoop_session cookie: {cookies:?}"));
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    assert_eq!(
        session.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict"),
        "{session:?}"
    );
    assert_eq!(session.path(), Some("/"), "{session:?}");
    // the session alone does not act: a post without the form's CSRF token, or with it
    // from another site, is refused and acknowledges nothing
    let csrf = b
        .attr(&b.one("form.action[data-action=ack] [name=csrf]"), "value")
        .expect("the form's CSRF token");
    let cookie = format!("hcoop_session={}", session.value());
    for (why, fields, origin) in [
        ("no CSRF token", String::new(), base(&d)),
        ("a wrong CSRF token", "&csrf=0000".to_string(), base(&d)),
        (
            "another site",
            format!("&csrf={csrf}"),
            "http://evil.example".to_string(),
        ),
    ] {
        let body = format!("host=web&service=disk&comment=forged&sticky=1{fields}");
        let (code, answer) = raw(
            &d.api(),
            &format!(
                "POST /action/ack HTTP/1.0\r\nHost: {}\r\nCookie: {cookie}\r\nOrigin: {origin}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                d.api(),
                body.len()
            ),
        );
        assert!((400..500).contains(&code), "{why}: {code} {answer}");
        assert_eq!(d.service("web/disk")["acknowledged"], false, "{why}");
    }
    let form = "form.action[data-action=ack]";
    if b.count(&format!("{form} [name=comment]")) > 0 {
        b.fill(form, "comment", "disk full, cleaning up");
    }
    b.submit(form);
    b.note_console_errors("the acknowledgement");
    let v = d.wait_service("web/disk", 5.0, |v| v["acknowledged"] == true);
    assert_eq!(v["ack"]["author"], "tester", "{v}");
    // the page shows it, by its author, and now offers to remove it
    assert!(b.reload_until(&url, "form.action[data-action=unack]", 5.0));
    let acked = b.reload_until(&url, "table#events tr[data-kind=ack]", 5.0);
    assert!(acked, "no ack event on the page: {}", b.source());
    let row = b.text(&b.one("table#events tr[data-kind=ack]"));
    assert!(row.contains("tester"), "{row}");
    if v["ack"]["comment"] == "disk full, cleaning up" {
        assert!(row.contains("disk full, cleaning up"), "{row}");
    }
    // the overview counts it handled
    b.goto(&format!("{}/", base(&d)));
    let r = b.one("#objects tr[data-object=\"web/disk\"]");
    assert_eq!(b.attr(&r, "data-handled").as_deref(), Some("1"));
    b.assert_no_console_errors("the pages after the acknowledgement");
    // the very requests refused above act with the session, its token and our origin
    // (so they were refused for what they lacked): here, removing the acknowledgement
    let body = format!("host=web&service=disk&csrf={csrf}");
    let (code, answer) = raw(
        &d.api(),
        &format!(
            "POST /action/unack HTTP/1.0\r\nHost: {}\r\nCookie: {cookie}\r\nOrigin: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            d.api(),
            base(&d),
            body.len()
        ),
    );
    assert!((200..400).contains(&code), "{code} {answer}");
    d.wait_service("web/disk", 5.0, |v| v["acknowledged"] == false);
}

/// Types `value` into the first field matching `css`.
fn type_into(b: &Browser, css: &str, value: &str) {
    let field = b.one(css);
    b.block_on(async {
        field.clear().await?;
        field.send_keys(value).await
    })
    .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

#[test]
fn hostile_plugin_output_is_shown_as_text() {
    let summary = "<script>alert(1)</script> CRITICAL - \"quoted\" & <b>bold</b>";
    let long = "<img src=x onerror=alert(2)>\n</pre><svg onload=alert(3)>";
    let (d, _dir) = web_daemon(&[("evil", 2, &format!("{summary}\n{long}"))]);
    let b = Browser::start();
    for page in ["/", "/service/web/evil", "/host/web", "/events?host=web"] {
        b.goto(&format!("{}{page}", base(&d)));
        assert_eq!(b.dialog(), None, "{page}: a dialog opened");
        let text = b.text_content(&b.one("main"));
        assert!(text.contains(summary), "{page}: {text}");
        let injected = b.js(
            "return document.querySelectorAll('script:not([src]), img[src=x], [onerror], [onload], main b').length;",
            vec![],
        );
        assert_eq!(injected, 0, "{page}: {}", b.source());
        b.note_console_errors(page);
    }
    b.goto(&format!("{}/service/web/evil", base(&d)));
    let pre = b.text_content(&b.one("pre#long-output"));
    assert!(pre.contains(long), "{pre}");
    assert_eq!(b.dialog(), None);
    b.assert_no_console_errors("the service page");
}

/// A nagios.log with a known answer: `web/disk` OK from before `t0`, CRITICAL from
/// 6 h to 12 h into the day after `t0` with a downtime from 8 h to 10 h, Nagios running
/// throughout.
fn known_history(t0: u64) -> String {
    let h = 3600;
    [
        (t0 - 600, "Nagios 4.4.6 starting... (PID=4242)".to_string()),
        (t0 - 600, "INITIAL HOST STATE: web;UP;HARD;1;PING OK".into()),
        (t0 - 600, "INITIAL SERVICE STATE: web;disk;OK;HARD;1;DISK OK".into()),
        (t0 + 6 * h, "SERVICE ALERT: web;disk;CRITICAL;HARD;1;DISK CRITICAL - / 99% used".into()),
        (t0 + 8 * h, "SERVICE DOWNTIME ALERT: web;disk;STARTED; Service has entered a period of scheduled downtime".into()),
        (t0 + 10 * h, "SERVICE DOWNTIME ALERT: web;disk;STOPPED; Service has exited from a period of scheduled downtime".into()),
        (t0 + 12 * h, "SERVICE ALERT: web;disk;OK;HARD;1;DISK OK".into()),
        (t0 + 25 * h, "Caught SIGTERM, shutting down...".into()),
    ]
    .iter()
    .map(|(at, line)| format!("[{at}] {line}\n"))
    .collect()
}

#[test]
fn availability_page_shows_a_known_split() {
    let (d, dir) = web_daemon(&[("disk", 0, "DISK OK")]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // a day two days ago, on an hour
    let t0 = (now - 3 * 86400) / 3600 * 3600;
    let log = dir.join("nagios.log");
    std::fs::write(&log, known_history(t0)).unwrap();
    let r = d.cli(&["import", "nagios-log", log.to_str().unwrap()]);
    assert_eq!(r.code, 0, "import: {r:?}");
    let query = format!("host=web&service=disk&from={t0}&to={}", t0 + 86400);
    let api = d.try_get(&format!("/api/availability?{query}"));
    let b = Browser::start();
    b.goto(&format!("{}/availability?{query}", base(&d)));
    let row = "table#availability tr[data-object=\"web/disk\"]";
    b.one(row);
    let cell = |state: &str| {
        b.text(&b.one(&format!("{row} td[data-state={state}]")))
            .trim()
            .to_string()
    };
    let got: Vec<(String, String)> = [
        "OK",
        "WARNING",
        "UNKNOWN",
        "CRITICAL",
        "SCHEDULED",
        "UNDETERMINED",
    ]
    .iter()
    .map(|s| (s.to_string(), cell(s)))
    .collect();
    let want: Vec<(String, String)> = [
        ("OK", "75.000%"),
        ("WARNING", "0.000%"),
        ("UNKNOWN", "0.000%"),
        ("CRITICAL", "25.000%"),
        ("SCHEDULED", "8.333%"),
        ("UNDETERMINED", "0.000%"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want, "the API says: {api:?}");
    // the API's figures: 6 h CRITICAL of which 2 h in downtime, 18 h OK, all known
    let api = api.unwrap_or_else(|e| panic!("/api/availability: {e}"));
    let row = &api["rows"][0];
    assert_eq!(
        (&row["host"], &row["service"]),
        (&"web".into(), &"disk".into()),
        "{api:#}"
    );
    let states: Vec<(String, u64, u64, u64, f64)> = row["states"]
        .as_array()
        .unwrap_or_else(|| panic!("no states: {api:#}"))
        .iter()
        .map(|s| {
            (
                s["state"].as_str().unwrap_or("").to_string(),
                s["unscheduled"].as_u64().unwrap_or(u64::MAX),
                s["scheduled"].as_u64().unwrap_or(u64::MAX),
                s["total"].as_u64().unwrap_or(u64::MAX),
                s["percent"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect();
    let h = 3600;
    let state = |name: &str, unscheduled, scheduled, percent| {
        (
            name.to_string(),
            unscheduled,
            scheduled,
            unscheduled + scheduled,
            percent,
        )
    };
    assert_eq!(
        states,
        [
            state("OK", 18 * h, 0, 75.0),
            state("WARNING", 0, 0, 0.0),
            state("UNKNOWN", 0, 0, 0.0),
            state("CRITICAL", 4 * h, 2 * h, 25.0),
        ],
        "{api:#}"
    );
    assert_eq!(
        (
            &row["undetermined_not_running"],
            &row["undetermined_no_data"]
        ),
        (&0.into(), &0.into()),
        "{api:#}"
    );
    // links to the same report as CSV and JSON
    assert!(b.count("a[href*=\"format=csv\"]") >= 1, "{}", b.source());
    assert!(b.count("a[href*=\"format=json\"]") >= 1, "{}", b.source());
    b.assert_no_console_errors("the availability page");
}

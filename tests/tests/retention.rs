//! End-to-end tests of the daemon's state files: what the API confirmed survives a
//! SIGKILL right after (and a hundred SIGKILLs at random moments while acks, downtimes
//! and state changes are written); a corrupt state file, a full state file system, a
//! state directory others may write and symlinks planted in it never stop monitoring,
//! and each is reported by the `hcoop-monitor/retention` self-check service.

use hcoop_tests::daemon::Daemon;
use hcoop_tests::wait_until;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A problem to acknowledge, and a service to put in downtime (plugins run as nobody).
const CONFIG: &str = concat!("plugin_user = \"nobody\"\n", hcoop_tests::db_checks!());

const RETENTION: &str = "hcoop-monitor/retention";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn downtime_ids(v: &Value) -> BTreeSet<u64> {
    v["downtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect()
}

/// Waits up to `secs` for the retention service to turn CRITICAL: its view and output.
fn retention_critical(d: &Daemon, secs: f64) -> (Value, String) {
    let v = d.wait_service(RETENTION, secs, |v| v["state"] == "CRITICAL");
    let out = v["output"].as_str().unwrap().to_string();
    (v, out)
}

#[test]
fn confirmed_ack_and_downtimes_survive_kill9_right_after() {
    let t = Instant::now();
    let mut d = Daemon::start(CONFIG);
    // the state file exists as soon as the daemon answers, mode 0600
    let state = d.state_file();
    assert!(
        state.exists(),
        "no state file {:?} after start",
        t.elapsed()
    );
    assert_eq!(mode(&state), 0o600);
    println!(
        "state file there {} ms after start",
        t.elapsed().as_millis()
    );
    let ok = d.wait_service(RETENTION, 5.0, |v| v["state"] == "OK");
    assert_eq!(ok["checked"], true);
    d.wait_service("db/bad", 10.0, |v| {
        v["state"] == "CRITICAL" && v["state_type"] == "HARD"
    });
    let before = d.service("db/bad");

    d.ack("db/bad", "known", true).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    d.kill9();
    d.spawn();
    let after = d.service("db/bad");
    assert_eq!(after["acknowledged"], true, "{after}");
    assert_eq!(after["last_state_change"], before["last_state_change"]);

    let id = d.downtime("db/good", "2h", "upgrade").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    d.kill9();
    d.spawn();
    let good = d.service("db/good");
    assert_eq!(downtime_ids(&good), BTreeSet::from([id]), "{good}");
    assert_eq!(good["in_downtime"], true);

    // a new downtime after the restart gets a new id
    let id2 = d.downtime("db/good", "2h", "second").unwrap();
    assert!(id2 > id);
    d.delete(&format!("/api/downtime/{id}")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    d.kill9();
    d.spawn();
    let good = d.service("db/good");
    assert_eq!(downtime_ids(&good), BTreeSet::from([id2]), "{good}");
    assert_eq!(mode(&state), 0o600);

    // a reload keeps journaling (and keeps the self-check)
    let reloads = d.log().matches("reloaded").count();
    d.hup();
    assert!(
        wait_until(5.0, || d.log().matches("reloaded").count() > reloads),
        "{}",
        d.log()
    );
    assert_eq!(d.service(RETENTION)["state"], "OK");
    let id3 = d.downtime("db/good", "2h", "after reload").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    d.kill9();
    d.spawn();
    let good = d.service("db/good");
    assert_eq!(downtime_ids(&good), BTreeSet::from([id2, id3]), "{good}");
    let journal = state.with_extension("json.journal");
    if journal.exists() {
        assert_eq!(mode(&journal), 0o600);
    }
    assert_eq!(d.service(RETENTION)["state"], "OK");
}

/// What the API confirmed while the daemon was being killed.
#[derive(Default)]
struct Confirmed {
    /// Downtimes whose creation was answered and whose cancel was not sent.
    live: BTreeSet<u64>,
    /// Downtimes whose cancel was answered.
    cancelled: BTreeSet<u64>,
    /// An acknowledgement was answered.
    acked: bool,
    /// Answers received this round.
    answers: usize,
}

/// A small pseudo-random source (xorshift), seeded from the clock.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn nothing_confirmed_is_lost_across_100_random_kills() {
    // big outputs flipping every 100 ms: the journal outgrows its compaction bound
    // every fraction of a second, so kills land in appends, group commits and
    // compactions alike
    let mut d = Daemon::start(CONFIG);
    let dir = d.dir.path().to_path_buf();
    std::fs::write(
        dir.join("flip.sh"),
        "n=$(date +%s%N)\nif [ $(( n / 100000000 % 2 )) -eq 0 ]; then s=OK; c=0; else s=CRITICAL; c=2; fi\n\
         printf 'FLIP %s - %04000d\\n' $s 0\nexit $c\n",
    )
    .unwrap();
    let mut config = CONFIG.to_string();
    for i in 0..4 {
        config.push_str(&format!(
            "\n[[service]]\nhost = \"db\"\nname = \"flip{i}\"\ncommand = \"/bin/sh {}/flip.sh\"\ncheck_interval = \"100ms\"\nretry_interval = \"100ms\"\n",
            dir.display()
        ));
    }
    d.restart_with(&config);
    d.wait_service("db/bad", 10.0, |v| v["state"] == "CRITICAL");

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("seed {seed}");
    let mut rng = Rng(seed | 1);
    let confirmed = Arc::new(Mutex::new(Confirmed::default()));
    let (mut restarts, mut checked, mut posted) = (Vec::new(), 0usize, 0usize);
    let (mut compactions, mut mid_compaction) = (0.0, 0);
    let mut resets = Vec::new();
    let rounds = 100;
    let t0 = Instant::now();
    for round in 0..rounds {
        // writes go on in a thread until the daemon dies under them
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let poster = {
            let (confirmed, stop) = (confirmed.clone(), stop.clone());
            let api = d.endpoint();
            std::thread::spawn(move || {
                let post = |path: &str, body: Value| {
                    api.request("POST", path, Some(body.to_string()))
                        .map_err(|e| e.to_string())
                };
                let mut k = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    k += 1;
                    let r = post(
                        "/api/downtime",
                        json!({"target": "db/good", "duration": "2h", "author": "t",
                               "comment": format!("round {round} #{k}")}),
                    );
                    let Ok(v) = r else { break };
                    let mut c = confirmed.lock().unwrap();
                    c.live.insert(v["id"].as_u64().unwrap());
                    c.answers += 1;
                    let oldest = (c.live.len() > 4).then(|| *c.live.iter().next().unwrap());
                    drop(c);
                    if let Some(id) = oldest {
                        confirmed.lock().unwrap().live.remove(&id);
                        if api
                            .request("DELETE", &format!("/api/downtime/{id}"), None)
                            .is_err()
                        {
                            break;
                        }
                        let mut c = confirmed.lock().unwrap();
                        c.cancelled.insert(id);
                        c.answers += 1;
                    }
                    if k % 3 == 0 {
                        let r = post(
                            "/api/ack",
                            json!({"target": "db/bad", "author": "t", "sticky": true,
                                   "comment": format!("round {round}")}),
                        );
                        if r.is_err() {
                            break;
                        }
                        let mut c = confirmed.lock().unwrap();
                        c.acked = true;
                        c.answers += 1;
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        compactions += d.metric("hcoop_retention_compactions_total").unwrap_or(0.0);
        d.kill9();
        if d.state_file().with_extension("json.journal.old").exists() {
            mid_compaction += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        poster.join().unwrap();

        let t = Instant::now();
        d.spawn();
        // (a connection reset by the daemon just started happens about once in 150
        // restarts: counted, and retried within the 2 s)
        let services = loop {
            match d.try_get("/api/services") {
                Ok(v) => break v,
                Err(e) => {
                    resets.push(format!("round {round} after {:?}: {e}", t.elapsed()));
                    assert!(t.elapsed() < Duration::from_secs(2), "{resets:?}");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        let up = t.elapsed();
        restarts.push(up);
        assert!(
            up < Duration::from_secs(2),
            "round {round}: the API answered after {up:?}"
        );
        let find = |name: &str| {
            services
                .as_array()
                .unwrap()
                .iter()
                .find(|v| {
                    format!(
                        "{}/{}",
                        v["host"].as_str().unwrap(),
                        v["service"].as_str().unwrap()
                    ) == name
                })
                .unwrap_or_else(|| panic!("no {name} in {services}"))
                .clone()
        };
        let good = find("db/good");
        let present = downtime_ids(&good);
        let mut c = confirmed.lock().unwrap();
        let missing: Vec<_> = c.live.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "round {round}: confirmed downtimes {missing:?} lost: {good}\n{}",
            d.log()
        );
        let back: Vec<_> = c.cancelled.intersection(&present).collect();
        assert!(
            back.is_empty(),
            "round {round}: cancelled downtimes {back:?} came back: {good}"
        );
        if c.acked {
            let bad = find("db/bad");
            assert_eq!(bad["acknowledged"], true, "round {round}: ack lost: {bad}");
        }
        checked += c.live.len() + usize::from(c.acked);
        posted += c.answers;
        c.answers = 0;
        // a downtime whose answer was cut off by the kill is there or not: adopt it
        c.live = present;
        drop(c);
        let retention = find(RETENTION);
        assert_eq!(
            retention["state"],
            "OK",
            "round {round}: {retention}\n{}",
            d.log()
        );
    }
    assert!(!d.log().contains("was corrupt"), "{}", d.log());
    restarts.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{rounds} SIGKILLs in {:.1} s: API up after restart p50 {:.0} ms, max {:.0} ms; \
         {posted} confirmed actions (downtimes added and cancelled, acks); after the \
         restarts {checked} live downtimes and acks and {} cancelled downtimes checked; \
         {compactions} compactions before the kills, {mid_compaction} kills between a \
         journal rotation and its snapshot; first API request reset: {resets:?}",
        t0.elapsed().as_secs_f64(),
        ms(restarts[restarts.len() / 2]),
        ms(*restarts.last().unwrap()),
        confirmed.lock().unwrap().cancelled.len(),
    );
}

#[test]
fn corrupt_state_file_is_moved_aside_and_reported() {
    let mut d = Daemon::start(CONFIG);
    d.wait_service("db/good", 10.0, |v| v["checked"] == true);
    d.kill9();
    let state = d.state_file();
    let journal = state.with_extension("json.journal");
    for (round, bytes) in [
        b"{".to_vec(),
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect(),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(&state, &bytes).unwrap();
        std::fs::write(&journal, b"{\"seq\": garbage\n{\"seq\":1}\n").unwrap();
        // validate warns and still succeeds (it runs before the daemon under systemd)
        let v = d.cli(&["validate"]);
        assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
        assert!(
            v.stderr.contains(&format!(
                "warning: state file {} was corrupt (",
                state.display()
            )) && v.stderr.contains("`run` will move it aside"),
            "{}",
            v.stderr
        );
        assert!(v.stderr.contains("state journal"), "{}", v.stderr);
        assert_eq!(std::fs::read(&state).unwrap(), bytes);

        d.spawn();
        let (v, out) = retention_critical(&d, 5.0);
        assert!(
            out.starts_with(&format!(
                "RETENTION CRITICAL - state file {} was corrupt (",
                state.display()
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!("): moved to {}.corrupt-", state.display()))
                && out.contains(", started with empty state"),
            "{out}"
        );
        assert_eq!(v["checked"], true);
        assert_eq!(v["state_type"], "HARD");
        // everything sees it
        let problems = d.get("/api/problems");
        assert!(
            problems["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["host"] == "hcoop-monitor" && p["service"] == "retention"),
            "{problems}"
        );
        assert_eq!(
            d.metric(
                "hcoop_service_state{host=\"hcoop-monitor\",service=\"retention\",hard=\"1\"}"
            ),
            Some(2.0)
        );
        assert!(d.log().contains("ERROR"), "{}", d.log());
        let aside: Vec<_> = std::fs::read_dir(d.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("state.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), round + 1, "{aside:?}");
        assert!(std::fs::read_dir(d.dir.path()).unwrap().flatten().any(|e| e
            .file_name()
            .to_string_lossy()
            .starts_with("state.json.journal.corrupt-")));
        // monitoring goes on, with a fresh state file
        d.wait_service("db/good", 10.0, |v| v["checked"] == true);
        assert_eq!(mode(&state), 0o600);
        // the alert stays until acknowledged, then goes back to OK
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(d.service(RETENTION)["state"], "CRITICAL");
        d.ack(RETENTION, "seen", true).unwrap();
        d.wait_service(RETENTION, 5.0, |v| {
            v["state"] == "OK" && v["acknowledged"] == false
        });
        d.kill9();
    }
}

/// A small tmpfs the test mounts, unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .expect("mount (util-linux)")
            .success();
        assert!(ok, "mount -t tmpfs failed (the test needs root)");
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn full_state_file_system_is_reported_and_recovers() {
    let mut d = Daemon::start(CONFIG);
    let dir = d.dir.path().to_path_buf();
    let fs = Tmpfs::mount(&dir.join("small"), "256k");
    std::fs::write(
        dir.join("flip.sh"),
        "n=$(date +%s%N)\nif [ $(( n / 100000000 % 2 )) -eq 0 ]; then s=OK; c=0; else s=CRITICAL; c=2; fi\n\
         printf 'FLIP %s - %04000d\\n' $s 0\nexit $c\n",
    )
    .unwrap();
    // the history store stays on the temp dir's file system: only the state files fill
    d.write_config(&format!(
        "{CONFIG}\n[history]\npath = \"{}/history.db\"\n\n\
         [[service]]\nhost = \"db\"\nname = \"flip\"\ncommand = \"/bin/sh {}/flip.sh\"\ncheck_interval = \"100ms\"\nretry_interval = \"100ms\"\n",
        dir.display(),
        dir.display()
    ));
    d.set_state_file(&fs.0.join("state.json"));
    d.kill9();
    d.spawn();
    d.wait_service(RETENTION, 5.0, |v| v["state"] == "OK");
    assert!(fs.0.join("state.json").exists());
    d.wait_service("db/bad", 10.0, |v| v["state"] == "CRITICAL");
    let failures = |d: &Daemon| d.metric("hcoop_retention_failures_total").unwrap();
    assert_eq!(failures(&d), 0.0);

    // fill the file system
    let filler = fs.0.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let (_, out) = retention_critical(&d, 10.0);
    assert!(
        out.starts_with("RETENTION CRITICAL - cannot write state: ")
            && out.contains("No space left on device"),
        "{out}"
    );
    assert!(failures(&d) > 0.0);
    assert!(d.metric("hcoop_retention_journal_bytes").is_some());
    // an admin action that cannot be saved says so
    let e = d.ack("db/bad", "disk full", true).unwrap_err();
    assert!(e.contains("not saved"), "{e}");
    // monitoring goes on
    let checks = d.metric("hcoop_checks_total").unwrap();
    assert!(wait_until(5.0, || d.metric("hcoop_checks_total").unwrap() > checks));

    // room again: OK at the next successful write, and what is confirmed is kept
    std::fs::remove_file(&filler).unwrap();
    d.wait_service(RETENTION, 10.0, |v| v["state"] == "OK");
    let id = d.downtime("db/good", "2h", "after").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    d.kill9();
    d.spawn();
    assert!(downtime_ids(&d.service("db/good")).contains(&id));
    assert_eq!(d.service(RETENTION)["state"], "OK");
    d.kill9();
}

#[test]
fn symlinks_in_the_state_directory_are_not_followed() {
    let mut d = Daemon::start(CONFIG);
    d.wait_service("db/good", 10.0, |v| v["checked"] == true);
    d.kill9();
    let dir = d.dir.path().to_path_buf();
    let outside = tempfile::tempdir().unwrap();
    let targets: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            let p = outside.path().join(n);
            std::fs::write(&p, format!("precious {n}")).unwrap();
            p
        })
        .collect();
    let state = d.state_file();
    std::fs::remove_file(&state).unwrap();
    let _ = std::fs::remove_file(state.with_extension("json.journal"));
    std::os::unix::fs::symlink(&targets[0], &state).unwrap();
    std::os::unix::fs::symlink(&targets[1], dir.join(".state.json.tmp")).unwrap();
    std::os::unix::fs::symlink(&targets[2], state.with_extension("json.journal")).unwrap();
    d.spawn();
    let (v, out) = retention_critical(&d, 5.0);
    assert!(out.contains("is a symbolic link"), "{v}");
    let _ = d.downtime("db/good", "2h", "written").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    for (n, p) in ["a", "b", "c"].iter().zip(&targets) {
        assert_eq!(std::fs::read_to_string(p).unwrap(), format!("precious {n}"));
    }
    for p in [state.clone(), state.with_extension("json.journal")] {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        assert!(meta.file_type().is_file(), "{}", p.display());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    d.kill9();
}

#[test]
fn state_directory_writable_by_others_is_refused_and_monitoring_goes_on() {
    let mut d = Daemon::start(CONFIG);
    let open = d.dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    d.set_state_file(&open.join("state.json"));
    d.kill9();
    d.spawn();
    let (_, out) = retention_critical(&d, 5.0);
    let refused = format!(
        "cannot write state: state directory {} is writable by group or others (mode 0777)",
        open.display()
    );
    assert!(out.contains(&refused), "{out}");
    d.wait_service("db/bad", 10.0, |v| v["state"] == "CRITICAL");
    let e = d.ack("db/bad", "x", true).unwrap_err();
    assert!(e.contains("not saved"), "{e}");
    assert!(!open.join("state.json").exists());
    d.kill9();
}

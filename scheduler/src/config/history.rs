//! The `[history]` section as written, checked at its file and line, and resolved into
//! [`HistorySettings`] (the store's path defaults to `history.db` beside the state
//! file, known only once every file is read).

use crate::history::perf::{check_archives, Archive};
use crate::history::store::{HistorySettings, DEFAULT_KEEP_EVENTS};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// `[history]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub enabled: Option<bool>,
    pub path: Option<Spanned<String>>,
    pub perfdata: Option<bool>,
    pub archives: Option<Spanned<Vec<Spanned<String>>>>,
    pub keep_events: Option<Spanned<String>>,
}

/// A `[history]` section checked: everything but the default path resolved.
#[derive(Debug, Clone)]
pub struct Checked {
    settings: HistorySettings,
    path: Option<PathBuf>,
}

/// The file name of the store beside the state file.
pub const DEFAULT_NAME: &str = "history.db";

/// The longest `keep_events` taken (a century) and the shortest (a day).
const KEEP_MAX: u64 = 100 * 31_557_600;
const KEEP_MIN: u64 = 86_400;

impl Section {
    /// Checks the section; problems go to `errors` at `at(span)` (`FILE:LINE`).
    pub fn check(self, at: &dyn Fn(Range<usize>) -> String, errors: &mut Vec<String>) -> Checked {
        let mut settings = HistorySettings::default();
        if let Some(e) = self.enabled {
            settings.enabled = e;
        }
        if let Some(p) = self.perfdata {
            settings.perfdata = p;
        }
        let mut path = None;
        if let Some(p) = self.path {
            let place = at(p.span());
            let p = PathBuf::from(p.into_inner());
            let named = p.file_name().and_then(|n| n.to_str()).is_some();
            if !named || p.as_os_str().to_string_lossy().ends_with('/') {
                errors.push(format!(
                    "{place}: [history] path '{}': not a file name",
                    p.display()
                ));
            } else {
                path = Some(p);
            }
        }
        if let Some(list) = self.archives {
            let place = at(list.span());
            let mut archives = Vec::new();
            let mut ok = true;
            for a in list.into_inner() {
                let place = at(a.span());
                match a.get_ref().parse::<Archive>() {
                    Ok(x) => archives.push(x),
                    Err(e) => {
                        ok = false;
                        errors.push(format!("{place}: [history] archives: {e}"));
                    }
                }
            }
            if ok {
                match check_archives(&archives) {
                    Ok(()) => settings.archives = archives,
                    Err(e) => errors.push(format!("{place}: [history] archives: {e}")),
                }
            }
        }
        if let Some(k) = self.keep_events {
            let place = at(k.span());
            match humantime::parse_duration(k.get_ref()) {
                Ok(d) if (KEEP_MIN..=KEEP_MAX).contains(&d.as_secs()) => settings.keep_events = d,
                Ok(_) => errors.push(format!(
                    "{place}: [history] keep_events '{}': must be between 1d and 100y",
                    k.get_ref()
                )),
                Err(e) => errors.push(format!(
                    "{place}: [history] keep_events '{}': {e}",
                    k.get_ref()
                )),
            }
        }
        Checked { settings, path }
    }
}

/// The settings of the last `[history]` section read (or the defaults), the path
/// defaulting to `history.db` beside `state_file`; a store path that is the state
/// file's (or its journal's) is refused.
pub fn resolve(
    checked: Option<Checked>,
    state_file: &Path,
    errors: &mut Vec<String>,
) -> HistorySettings {
    let Checked { mut settings, path } = checked.unwrap_or(Checked {
        settings: HistorySettings {
            keep_events: DEFAULT_KEEP_EVENTS,
            ..HistorySettings::default()
        },
        path: None,
    });
    settings.path = path.unwrap_or_else(|| match state_file.parent() {
        Some(dir) => dir.join(DEFAULT_NAME),
        None => PathBuf::from(DEFAULT_NAME),
    });
    let journal = format!("{}.journal", state_file.display());
    if settings.path == state_file || settings.path.as_os_str() == journal.as_str() {
        errors.push(format!(
            "[history] path '{}': the daemon's state file is there",
            settings.path.display()
        ));
    }
    settings
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, HistorySettings};
    use std::path::PathBuf;
    use std::time::Duration;

    const HOST: &str = "[[host]]\nname = \"a\"\naddress = \"127.0.0.1\"\n";

    fn load(text: &str) -> anyhow::Result<Config> {
        Config::from_files(vec![(
            Some("/etc/m/h.toml".into()),
            format!("{HOST}{text}"),
        )])
    }

    fn error(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    #[test]
    fn the_store_defaults_to_beside_the_state_file() {
        let c = load("[daemon]\nstate_file = \"/srv/mon/state.json\"\n").unwrap();
        assert_eq!(
            c.history,
            HistorySettings {
                path: PathBuf::from("/srv/mon/history.db"),
                ..HistorySettings::default()
            }
        );
        let e = Config::embedded().unwrap();
        assert!(e.history.enabled && e.history.perfdata);
        assert_eq!(
            e.history.path,
            PathBuf::from("/var/lib/hcoop-monitor/history.db")
        );
        assert_eq!(e.history.archives.len(), 4);
        // the [history] section may come before [daemon], or in another file
        let c = Config::from_files(vec![
            (
                Some("/etc/m/1.toml".into()),
                "[history]\nperfdata = false\n".into(),
            ),
            (
                Some("/etc/m/2.toml".into()),
                format!("{HOST}[daemon]\nstate_file = \"/x/s.json\"\n"),
            ),
        ])
        .unwrap();
        assert_eq!(c.history.path, PathBuf::from("/x/history.db"));
        assert!(!c.history.perfdata);
    }

    #[test]
    fn every_key_is_read() {
        let c = load(
            "[history]\nenabled = false\npath = \"/data/h.db\"\nperfdata = false\n\
             archives = [\"10s:1h\", \"1m:1d\"]\nkeep_events = \"90d\"\n",
        )
        .unwrap();
        assert_eq!(
            c.history
                .archives
                .iter()
                .map(|a| (a.step, a.span))
                .collect::<Vec<_>>(),
            [(10, 3600), (60, 86_400)]
        );
        assert_eq!(
            c.history,
            HistorySettings {
                enabled: false,
                path: "/data/h.db".into(),
                perfdata: false,
                archives: c.history.archives.clone(),
                keep_events: Duration::from_secs(90 * 86_400),
            }
        );
    }

    #[test]
    fn bad_values_are_refused_at_their_line() {
        // each configuration, and what its error must say
        let cases: &[(&str, &[&str])] = &[
            (
                "[history]\narchives = [\"1m:48h\",\n  \"5x:10d\"]\n",
                &["/etc/m/h.toml:line 6: [history] archives: ", "5x"],
            ),
            (
                "[history]\narchives = [\"5m:10d\", \"1m:48h\"]\n",
                &[
                    "/etc/m/h.toml:line 5: [history] archives: ",
                    "multiple of the previous",
                ],
            ),
            (
                "[history]\narchives = []\n",
                &["/etc/m/h.toml:line 5: [history] archives: at least one"],
            ),
            (
                "[history]\n\nkeep_events = \"forever\"\n",
                &["/etc/m/h.toml:line 6: [history] keep_events 'forever'"],
            ),
            (
                "[history]\nkeep_events = \"1h\"\n",
                &["/etc/m/h.toml:line 5: [history] keep_events '1h': must be between"],
            ),
            (
                "[history]\npath = \"/data/\"\n",
                &["/etc/m/h.toml:line 5: [history] path '/data/': not a file name"],
            ),
            (
                "[history]\npath = \"/var/lib/hcoop-monitor/state.json\"\n",
                &["the daemon's state file is there"],
            ),
            ("[history]\nkeep = \"1d\"\n", &["unknown field `keep`"]),
            ("[history]\nenabled = \"yes\"\n", &["/etc/m/h.toml"]),
        ];
        for (text, wanted) in cases {
            let e = error(text);
            for w in wanted.iter() {
                assert!(e.contains(w), "{text:?}: {w:?} not in {e}");
            }
        }
    }
}

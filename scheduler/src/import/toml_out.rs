//! Writing the imported sections as TOML text: a header saying where they came from,
//! then tables and arrays of tables, keys in the order given, values quoted by the
//! toml crate.

use std::time::Duration;

/// How every file written starts.
pub const HEADER: &str = "# Imported from the Nagios configuration";

/// One TOML file being written.
pub struct Toml {
    text: String,
    entries: usize,
}

impl Toml {
    /// A file whose header names the Nagios configuration and what the file holds.
    pub fn new(source: &str, what: &str) -> Toml {
        let mut text = String::new();
        for line in [
            format!("{HEADER} {source}"),
            format!("# by `hcoop-monitor import nagios`: {what}."),
            "# What could not be carried over is listed in import-report.txt.".to_string(),
        ] {
            // a path is the one thing here a user chose: one line, whatever it holds
            text.push_str(&line.replace(['\n', '\r'], " "));
            text.push('\n');
        }
        Toml { text, entries: 0 }
    }

    /// Starts a `[[section]]` entry.
    pub fn entry(&mut self, section: &str) {
        self.text.push_str(&format!("\n[[{section}]]\n"));
    }

    /// Starts a `[section]` table.
    pub fn table(&mut self, section: &str) {
        self.text.push_str(&format!("\n[{section}]\n"));
    }

    /// A comment line (one line, whatever `text` holds).
    pub fn comment(&mut self, text: &str) {
        self.text.push_str("# ");
        self.text.push_str(&text.replace(['\n', '\r'], " "));
        self.text.push('\n');
    }

    fn key(&mut self, key: &str, value: toml::Value) {
        self.text.push_str(&format!("{key} = {value}\n"));
    }

    pub fn string(&mut self, key: &str, value: &str) {
        self.key(key, toml::Value::String(value.to_string()));
    }

    pub fn strings(&mut self, key: &str, values: &[String]) {
        let list = values.iter().cloned().map(toml::Value::String).collect();
        self.key(key, toml::Value::Array(list));
    }

    pub fn boolean(&mut self, key: &str, value: bool) {
        self.key(key, toml::Value::Boolean(value));
    }

    pub fn integer(&mut self, key: &str, value: u64) {
        self.key(
            key,
            toml::Value::Integer(i64::try_from(value).unwrap_or(i64::MAX)),
        );
    }

    pub fn float(&mut self, key: &str, value: f64) {
        self.key(key, toml::Value::Float(value));
    }

    /// A duration as humantime text (`"5m"`, `"1h 30m"`, `"0s"`).
    pub fn duration(&mut self, key: &str, value: Duration) {
        let text = if value.is_zero() {
            "0s".to_string()
        } else {
            humantime::format_duration(value).to_string()
        };
        self.string(key, &text);
    }

    /// The count of entries written, for the caller to raise.
    pub fn count(&mut self) -> &mut usize {
        &mut self.entries
    }

    pub fn entries(&self) -> usize {
        self.entries
    }

    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_read_back() {
        let mut t = Toml::new("/etc/nagios4/nagios.cfg", "hosts");
        t.entry("host");
        t.comment("alias: a\nb");
        t.string("name", "we\"b\\1");
        t.strings("parents", &["a".into(), "b c".into()]);
        t.duration("check_interval", Duration::from_secs(5400));
        t.duration("first_notification_delay", Duration::ZERO);
        t.boolean("notifications_enabled", false);
        t.integer("max_check_attempts", 3);
        let text = t.finish();
        assert!(
            text.starts_with("# Imported from the Nagios configuration /etc/nagios4/nagios.cfg\n")
        );
        assert!(text.contains("\n[[host]]\n# alias: a b\n"), "{text}");
        let v: toml::Table = text.parse().unwrap();
        let host = &v["host"].as_array().unwrap()[0];
        assert_eq!(host["name"].as_str(), Some("we\"b\\1"));
        assert_eq!(host["check_interval"].as_str(), Some("1h 30m"));
        assert_eq!(host["first_notification_delay"].as_str(), Some("0s"));
        assert_eq!(host["parents"].as_array().unwrap().len(), 2);
        assert_eq!(host["notifications_enabled"].as_bool(), Some(false));
        assert_eq!(host["max_check_attempts"].as_integer(), Some(3));
    }
}

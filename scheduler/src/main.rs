use anyhow::Result;
use clap::Parser;
use hcoop_monitor::cli::{Cli, Command};
use hcoop_monitor::{checkall, client, config::Config, scheduler};
use std::path::PathBuf;

/// The daemon keeps one small object per service (its prepared check, record, output)
/// among the many short-lived ones of parsing and checking: with the C library's
/// allocator, the holes these leave made building 100,000 distinct checks several
/// times slower and kept freed memory resident; mimalloc's size-segregated pages do
/// neither.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load(path: &Option<PathBuf>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p),
        None => Config::embedded(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn main() {
    // a panic is one line naming it (a caught one, in validating a check's arguments,
    // is reported as an error besides)
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "hcoop-monitor: internal error: {}{place}",
            hcoop_plugins::plugin::runner::panic_message(info.payload())
        );
    }));
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hcoop-monitor: {e:#}");
            3
        }
    };
    std::process::exit(code)
}

fn run(cli: Cli) -> Result<i32> {
    if let Some(Command::Nrpe(args)) = &cli.command {
        return hcoop_monitor::nrpe::main(cli.config.as_deref(), args);
    }
    if let Some(Command::Import { from }) = &cli.command {
        return import(from, &cli.config);
    }
    let command = cli.command.unwrap_or(Command::Run);
    let config = if command.talks_to_daemon() {
        // a command for the running daemon needs only where it is: a configuration
        // being edited (and refused by `reload`) must not keep the admin out
        load(&cli.config).unwrap_or_else(|_| Config::for_client(cli.config.as_deref()))
    } else {
        load(&cli.config)?
    };
    match command {
        Command::Run => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .init();
            // as root: bind what needs root, then give root up, before any thread starts
            let prepared = hcoop_monitor::startup::prepare_and_drop(&config)?;
            runtime()?.block_on(scheduler::run_with_signals(
                cli.config.clone(),
                config,
                prepared.socket,
            ))?;
            Ok(0)
        }
        Command::Status {
            problems,
            hostgroup,
            servicegroup,
            api,
        } => {
            let groups = hcoop_monitor::groups::GroupFilter {
                hostgroup,
                servicegroup,
            };
            let (table, code) = client::status(&api.endpoint(&config)?, problems, &groups)?;
            print!("{table}");
            Ok(code)
        }
        Command::Ack {
            which,
            comment,
            sticky,
            expire,
            api,
        } => {
            let req = hcoop_monitor::http::AckRequest {
                on: which.objects(),
                comment,
                sticky,
                expire,
            };
            let done = client::ack(&api.endpoint(&config)?, &req)?;
            println!("acknowledged {}", client::listed(&done));
            Ok(0)
        }
        Command::Unack { target, api } => {
            client::unack(&api.endpoint(&config)?, &target)?;
            println!("acknowledgement of {target} removed");
            Ok(0)
        }
        Command::Downtime {
            which,
            duration,
            start,
            comment,
            api,
        } => {
            let now = hcoop_monitor::clock::unix_now();
            let start = start.map(|s| client::parse_start(&s, now)).transpose()?;
            let req = hcoop_monitor::http::DowntimeRequest {
                on: which.objects(),
                start,
                duration,
                comment,
            };
            for line in client::downtime(&api.endpoint(&config)?, &req)? {
                println!("{line}");
            }
            Ok(0)
        }
        Command::Recheck { which, api } => {
            let (asked, without) = client::recheck(&api.endpoint(&config)?, &which.objects())?;
            println!("checks asked for now: {}", client::listed(&asked));
            if !without.is_empty() {
                println!("without an active check: {}", client::listed(&without));
            }
            Ok(0)
        }
        Command::Enable { what, which, api } => switch(&api.endpoint(&config)?, what, &which, true),
        Command::Disable { what, which, api } => {
            switch(&api.endpoint(&config)?, what, &which, false)
        }
        Command::Downtimes { api } => {
            print!("{}", client::downtimes(&api.endpoint(&config)?)?);
            Ok(0)
        }
        Command::CancelDowntime { id, api } => {
            api.endpoint(&config)?
                .request("DELETE", &format!("/api/downtime/{id}"), None)?;
            println!("downtime {id} cancelled");
            Ok(0)
        }
        Command::Comment {
            target,
            comment,
            api,
        } => {
            let req = hcoop_monitor::http::CommentRequest {
                target: target.clone(),
                comment,
            };
            let id = client::comment(&api.endpoint(&config)?, &req)?;
            println!("comment {id} on {target}");
            Ok(0)
        }
        Command::Comments { api } => {
            print!("{}", client::comments(&api.endpoint(&config)?)?);
            Ok(0)
        }
        Command::DeleteComment { id, api } => {
            api.endpoint(&config)?
                .request("DELETE", &format!("/api/comment/{id}"), None)?;
            println!("comment {id} deleted");
            Ok(0)
        }
        Command::Submit {
            target,
            state,
            output,
            api,
        } => {
            let req = hcoop_monitor::passive::SubmitRequest {
                target: target.clone(),
                state,
                output,
            };
            client::submit(&api.endpoint(&config)?, &req)?;
            println!("result submitted for {target}");
            Ok(0)
        }
        Command::Report {
            report: hcoop_monitor::cli::ReportKind::Availability(args),
        } => {
            let format = match (args.csv, args.json) {
                (true, _) => client::ReportFormat::Csv,
                (_, true) => client::ReportFormat::Json,
                _ => client::ReportFormat::Table,
            };
            let endpoint = args.api.endpoint(&config)?;
            print!(
                "{}",
                client::availability(&endpoint, &args.params(), format)?
            );
            Ok(0)
        }
        Command::History {
            target,
            since,
            json,
            api,
        } => {
            let endpoint = api.endpoint(&config)?;
            print!("{}", client::history(&endpoint, &target, &since, json)?);
            Ok(0)
        }
        Command::Reload { api } => {
            let endpoint = api.endpoint(&config)?;
            match endpoint.request("POST", "/api/reload", None) {
                Ok(v) => {
                    println!(
                        "reloaded: {}",
                        v.get("message").and_then(|m| m.as_str()).unwrap_or("")
                    );
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("hcoop-monitor: reload refused: {e:#}");
                    Ok(3)
                }
            }
        }
        Command::Token { name, file } => {
            let Some(path) = file.or_else(|| config.daemon.credentials_file.clone()) else {
                anyhow::bail!("no credentials file: set [daemon] credentials_file or give --file");
            };
            let token = hcoop_monitor::auth::add_token(&path, &name)?;
            eprintln!(
                "token for {name} added to {} (reload the daemon to use it); it is shown only once:",
                path.display()
            );
            println!("{token}");
            Ok(0)
        }
        Command::CheckAll { concurrency } => {
            let rows = runtime()?.block_on(checkall::run_all(&config, concurrency));
            print!("{}", checkall::render_table(&rows));
            Ok(checkall::worst(&rows).exit_code())
        }
        Command::Check { name } => {
            let (host, svc) = match name.split_once('/') {
                Some((h, s)) => (Some(h), s),
                None => (None, name.as_str()),
            };
            let matches: Vec<_> = config
                .services
                .iter()
                .filter(|s| s.name == svc && host.is_none_or(|h| h == s.host))
                .cloned()
                .collect();
            let service = match matches.as_slice() {
                [one] => one.clone(),
                [] => anyhow::bail!("no service named '{name}'"),
                _ => anyhow::bail!("'{name}' is on several hosts: give HOST/SERVICE"),
            };
            if *service.check == hcoop_monitor::config::CheckSpec::Passive {
                anyhow::bail!("'{name}' takes passive results only: it has no check to run");
            }
            let one = Config {
                services: vec![service],
                ..config.clone()
            };
            let rows = runtime()?.block_on(checkall::run_all(&one, 1));
            let row = &rows[0];
            print!("{}", row.outcome.text());
            Ok(row.outcome.state().exit_code())
        }
        Command::Nrpe(_) => unreachable!("handled before the configuration is loaded"),
        Command::Import { .. } => unreachable!("handled before the configuration is loaded"),
        Command::Validate => {
            // the plugin user, when the daemon would need one
            hcoop_monitor::exec::Limits::from_config(&config).map_err(anyhow::Error::msg)?;
            println!(
                "configuration OK: {} hosts, {} services",
                config.hosts.len(),
                config.services.len()
            );
            // damaged state files are warnings: `run` moves them aside and starts
            // SAFETY: geteuid has no preconditions.
            let euid = match (&config.daemon.user, unsafe { libc::geteuid() }) {
                (Some(user), 0) => {
                    hcoop_monitor::privileges::lookup(user, None).map_or(0, |a| a.uid)
                }
                (_, euid) => euid,
            };
            for w in hcoop_monitor::retention::check_files(&config.daemon.state_file, euid) {
                eprintln!("hcoop-monitor: warning: {w}");
            }
            Ok(0)
        }
    }
}

/// `enable`/`disable checks|notifications`: switched, and what was.
fn switch(
    api: &client::Endpoint,
    what: hcoop_monitor::cli::Switch,
    which: &hcoop_monitor::cli::Which,
    enabled: bool,
) -> Result<i32> {
    let (path, name) = match what {
        hcoop_monitor::cli::Switch::Checks => ("/api/checks", "active checks"),
        hcoop_monitor::cli::Switch::Notifications => ("/api/notifications", "notifications"),
    };
    let done = client::switch(api, path, &which.objects(), enabled)?;
    let state = if enabled { "enabled" } else { "disabled" };
    println!("{name} {state}: {}", client::listed(&done));
    Ok(0)
}

/// `import nagios`: the TOML on stdout or into a directory, the report on stderr.
/// `import nagios-log`: into the history store of the configuration at `config_path`.
fn import(from: &hcoop_monitor::cli::ImportFrom, config_path: &Option<PathBuf>) -> Result<i32> {
    let (config, out) = match from {
        hcoop_monitor::cli::ImportFrom::Nagios { config, out } => (config, out),
        hcoop_monitor::cli::ImportFrom::NagiosLog { files } => {
            let settings = load(config_path)?.history;
            let (summary, added) =
                hcoop_monitor::history::nagioslog::import_files(&settings, files)
                    .map_err(anyhow::Error::msg)?;
            for line in &summary.problems {
                eprintln!("hcoop-monitor: {line}");
            }
            let said = hcoop_monitor::history::nagioslog::said(&summary, added, &settings.path);
            println!("{said}");
            return Ok(0);
        }
    };
    let imported = hcoop_monitor::import::import(config).map_err(anyhow::Error::msg)?;
    match out {
        Some(dir) => {
            hcoop_monitor::import::write(dir, config, &imported).map_err(anyhow::Error::msg)?;
        }
        None => print!("{}", hcoop_monitor::import::document(&imported)),
    }
    for line in &imported.report {
        eprintln!("{line}");
    }
    let counts: Vec<String> = imported
        .counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    eprintln!(
        "hcoop-monitor: imported {}{}; {} items not carried over{}",
        counts.join(", "),
        out.as_ref()
            .map_or(String::new(), |d| format!(" into {}", d.display())),
        imported.report.len(),
        out.as_ref().map_or(String::new(), |_| format!(
            " (listed above and in {})",
            hcoop_monitor::import::REPORT
        )),
    );
    Ok(0)
}

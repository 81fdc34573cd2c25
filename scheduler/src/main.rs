use anyhow::Result;
use clap::Parser;
use hcoop_monitor::cli::{Cli, Command};
use hcoop_monitor::{checkall, client, config::Config, daemon};
use std::path::PathBuf;

/// Who asks, for acknowledgements and downtimes.
fn author() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "hcoop-monitor".into())
}

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
    let config = load(&cli.config)?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info".into()),
                )
                .init();
            runtime()?.block_on(daemon::run(daemon::Options {
                config_path: cli.config.clone(),
                config,
            }))?;
            Ok(0)
        }
        Command::Status { problems, api } => {
            let (table, code) = client::status(&api.address(&config), problems)?;
            print!("{table}");
            Ok(code)
        }
        Command::Ack {
            target,
            comment,
            sticky,
            api,
        } => {
            let req = hcoop_monitor::http::AckRequest {
                target: target.clone(),
                author: author(),
                comment,
                sticky,
            };
            client::ack(&api.address(&config), &req)?;
            println!("acknowledged {target}");
            Ok(0)
        }
        Command::Downtime {
            target,
            duration,
            comment,
            api,
        } => {
            let req = hcoop_monitor::http::DowntimeRequest {
                target: target.clone(),
                start: None,
                duration: duration.clone(),
                author: author(),
                comment,
            };
            let id = client::downtime(&api.address(&config), &req)?;
            println!("downtime {id} for {target}, {duration}");
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
            let one = Config {
                services: vec![service],
                ..config.clone()
            };
            let rows = runtime()?.block_on(checkall::run_all(&one, 1));
            let row = &rows[0];
            print!("{}", row.outcome.output);
            Ok(row.outcome.state.exit_code())
        }
        Command::Nrpe(_) => unreachable!("handled before the configuration is loaded"),
        Command::Validate => {
            // the plugin user, when the daemon would need one
            hcoop_monitor::exec::Limits::from_config(&config).map_err(anyhow::Error::msg)?;
            println!(
                "configuration OK: {} hosts, {} services",
                config.hosts.len(),
                config.services.len()
            );
            Ok(0)
        }
    }
}

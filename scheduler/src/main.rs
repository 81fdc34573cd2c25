use anyhow::Result;
use clap::{Parser, Subcommand};
use hcoop_monitor::{checkall, config::Config};
use std::path::PathBuf;

/// hcoop-monitor: Nagios-compatible checks and scheduler for the hcoop servers.
#[derive(Parser, Debug)]
#[command(name = "hcoop-monitor", version)]
struct Cli {
    /// Configuration file or directory of *.toml files (default: the embedded
    /// configuration, which checks the local machine)
    #[arg(short = 'c', long = "config", global = true)]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every configured check once, concurrently, and print a table
    CheckAll {
        /// How many checks may run at once
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Run one service now and print its plugin output (HOST/SERVICE or SERVICE)
    Check { name: String },
    /// Check the configuration and report every error
    Validate,
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
    let config = load(&cli.config)?;
    match cli.command.unwrap_or(Command::CheckAll { concurrency: 32 }) {
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
                hosts: config.hosts.clone(),
                services: vec![service],
            };
            let rows = runtime()?.block_on(checkall::run_all(&one, 1));
            let row = &rows[0];
            print!("{}", row.outcome.output);
            Ok(row.outcome.state.exit_code())
        }
        Command::Validate => {
            println!(
                "configuration OK: {} hosts, {} services",
                config.hosts.len(),
                config.services.len()
            );
            Ok(0)
        }
    }
}

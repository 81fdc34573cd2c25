//! Writes the files generated from the binaries' command line definitions:
//!
//! - `gen-dist text`: the committed Nagios and Icinga 2 command definitions under
//!   `dist/` (the `dist` test fails when they are stale);
//! - `gen-dist docs OUT`: man pages in `OUT/man` and shell completions in
//!   `OUT/completions/{bash,zsh,fish}` (at package time, not committed);
//! - `gen-dist plugins`: the names of the check binaries, one a line.

use hcoop_tests::dist;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["text"] => write_text(),
        ["docs", out] => dist::docs::write_all(std::path::Path::new(out))
            .map(|n| println!("wrote {n} files under {out}"))
            .map_err(|e| format!("{out}: {e}")),
        ["plugins"] => {
            for b in hcoop_plugins::checks::BUILTINS {
                println!("{}", b.name);
            }
            Ok(())
        }
        _ => Err("usage: gen-dist text | gen-dist docs OUT_DIR | gen-dist plugins".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-dist: {e}");
            ExitCode::from(2)
        }
    }
}

fn write_text() -> Result<(), String> {
    let root = dist::workspace_root();
    for (path, text) in dist::text_files() {
        let full = root.join(&path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&full, text).map_err(|e| format!("{}: {e}", full.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

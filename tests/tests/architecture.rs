//! The layering of the source, read from its `use` lines and paths, so that it stays
//! true: checks stand on the contract (`plugin`), protocol clients (`proto`) and local
//! facts (`host`), never on each other; `proto` and `host` never reach up into checks;
//! the plugins crate never depends on the scheduler; and the scheduler's modules form no
//! import loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The source without comments (doc links name modules without importing them) and
/// without string literals.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        // drop string literals (a crude scan: enough for paths in this tree)
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The names that follow `prefix::` in `code`, including each name of a
/// `prefix::{a, b::c}` group.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let pat = format!("{prefix}::");
    let mut rest = code;
    while let Some(i) = rest.find(&pat) {
        let before = rest[..i].chars().last();
        rest = &rest[i + pat.len()..];
        // `super::super::x` is seen at its first `super::` only by the caller
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                let first = first.split_whitespace().next().unwrap_or("");
                if !first.is_empty() && first != "self" {
                    names.insert(first.to_string());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// The module of the plugins crate a file belongs to: `checks/http.rs` → (checks, http),
/// `checks/afs/rx.rs` → (checks, afs), `proto/tls.rs` → (proto, tls).
fn plugin_module(path: &Path) -> (String, String) {
    let rel = path
        .strip_prefix(root().join("plugins/src"))
        .unwrap()
        .to_string_lossy()
        .to_string();
    let mut parts = rel.split('/');
    let layer = parts.next().unwrap().trim_end_matches(".rs").to_string();
    let module = parts
        .next()
        .map(|m| m.trim_end_matches(".rs").to_string())
        .unwrap_or_default();
    (layer, module)
}

#[test]
fn checks_import_only_the_contract_protocols_and_host_facts() {
    let checks_dir = root().join("plugins/src/checks");
    let mut faults = Vec::new();
    for file in rust_files(&checks_dir) {
        let (_, this) = plugin_module(&file);
        if this == "mod" {
            continue; // the registry of checks names them all
        }
        let code = code_of(&file);
        let top_level = file.parent() == Some(checks_dir.as_path())
            || file.file_name().is_some_and(|n| n == "mod.rs");
        let mut others: BTreeSet<String> = names_after(&code, "crate::checks");
        // `super::x` from checks/x.rs (or checks/x/mod.rs) names a sibling check
        if top_level {
            others.extend(names_after(&code, "super"));
        } else {
            others.extend(
                names_after(&code, "super::super")
                    .into_iter()
                    .filter(|n| n != "super"),
            );
        }
        for other in others {
            if other != this && other != "super" {
                faults.push(format!(
                    "{} imports the check `{other}`",
                    file.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        faults.is_empty(),
        "checks must stand on plugin/, proto/ and host/ only:\n{}",
        faults.join("\n")
    );
}

#[test]
fn protocols_and_host_facts_never_reach_up() {
    let mut faults = Vec::new();
    for layer in ["proto", "host", "plugin"] {
        for file in rust_files(&root().join("plugins/src").join(layer)) {
            let code = code_of(&file);
            let mut up: Vec<&str> = Vec::new();
            if !names_after(&code, "crate::checks").is_empty() {
                up.push("checks");
            }
            if layer == "plugin" {
                if !names_after(&code, "crate::proto").is_empty() {
                    up.push("proto");
                }
                if !names_after(&code, "crate::host").is_empty() {
                    up.push("host");
                }
            }
            if code.contains("hcoop_monitor") {
                up.push("the scheduler");
            }
            for u in up {
                faults.push(format!(
                    "{} ({layer}) imports {u}",
                    file.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn the_plugins_crate_does_not_depend_on_the_scheduler() {
    let manifest = std::fs::read_to_string(root().join("plugins/Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("hcoop-monitor"),
        "plugins/Cargo.toml depends on the scheduler"
    );
    let mut faults = Vec::new();
    for file in rust_files(&root().join("plugins/src")) {
        if code_of(&file).contains("hcoop_monitor") {
            faults.push(file.strip_prefix(root()).unwrap().display().to_string());
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// The scheduler's module graph: module → the modules it names through `crate::`.
fn scheduler_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("scheduler/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let code = code_of(&file);
        let deps = graph.entry(module.clone()).or_default();
        for name in names_after(&code, "crate") {
            if name != module {
                deps.insert(name);
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    graph
}

/// A cycle in `graph`, if there is one, as the list of modules around it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::Open);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let at = path.iter().position(|p| p == next).unwrap();
                    let mut cycle = path[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_scheduler_modules_form_no_import_loop() {
    let graph = scheduler_graph();
    assert!(graph.len() > 10, "the scheduler's modules were not found");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the scheduler's modules import each other in a loop: {}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_scanner_reads_groups_and_skips_comments_and_strings() {
    // the scanner itself: groups, nested paths, comments and strings
    let sample = "use crate::{a, b::c, self};\nlet x = crate::d::e();\n// crate::f\nlet s = \"crate::g\";\nmod_crate::h();\n";
    let tmp = std::env::temp_dir().join(format!("arch-scan-{}.rs", std::process::id()));
    std::fs::write(&tmp, sample).unwrap();
    let names = names_after(&code_of(&tmp), "crate");
    let _ = std::fs::remove_file(&tmp);
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        vec!["a".to_string(), "b".to_string(), "d".to_string()]
    );
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string()].into()),
        ("b".to_string(), ["c".to_string()].into()),
        ("c".to_string(), ["a".to_string()].into()),
    ]
    .into();
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
    let dag: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string(), "c".to_string()].into()),
        ("b".to_string(), ["c".to_string()].into()),
        ("c".to_string(), BTreeSet::new()),
    ]
    .into();
    assert!(find_cycle(&dag).is_none());
}

#[test]
fn every_check_has_the_shape_of_the_contract() {
    let checks_dir = root().join("plugins/src/checks");
    let mut faults = Vec::new();
    let mut checks = 0;
    for file in rust_files(&checks_dir) {
        let code = code_of(&file);
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        // the body of each `impl Check for X {` (or `impl<P> plugin::Check for X<P>`), up
        // to its closing brace at column 0
        let starts = code
            .match_indices("\nimpl")
            .map(|(i, _)| i + 1)
            .filter(|&i| {
                let head = code[i..].lines().next().unwrap_or("");
                head.split_whitespace()
                    .any(|w| w == "Check" || w.ends_with("::Check"))
                    && head.contains(" for ")
            });
        for start in starts.collect::<Vec<_>>() {
            checks += 1;
            let body = &code[start..];
            let body = &body[..body.find("\n}").unwrap_or(body.len())];
            match body
                .lines()
                .find(|l| l.trim_start().starts_with("type Facts"))
            {
                Some(l) if l.contains("CheckResult") => faults.push(format!(
                    "{name}: its facts are a finished result, not what it observed: {}",
                    l.trim()
                )),
                Some(_) => {}
                None => faults.push(format!("{name}: no `type Facts`")),
            }
            if body.contains("fn run(") {
                faults.push(format!(
                    "{name}: overrides `run` instead of fetch + evaluate"
                ));
            }
        }
    }
    assert!(
        checks >= 20,
        "found only {checks} checks: the scan is broken"
    );
    assert!(
        faults.is_empty(),
        "every check fetches facts and evaluates them (plugin::runner::Check):\n{}",
        faults.join("\n")
    );
}

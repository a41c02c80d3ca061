//! The architecture holds: no module of a crate imports another that imports it
//! back (directly or round a longer loop), and the core crate depends on nothing
//! that can reach a file, the network, a database or the clock.
//!
//! A module's imports are the `crate::…` and `super::…` paths in its source (tests
//! and comments left out), resolved to the longest module they name. A module
//! using its own ancestors' items, or its own children, is how Rust nests modules
//! and is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file of `src` as its module path (`ledger/mod.rs` → `["ledger"]`),
/// unit-test files left out.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|p| p.to_string_lossy().into()).collect();
            if path.extension().is_none_or(|e| e != "rs") || module.last().unwrap() == "tests" {
                continue;
            }
            if matches!(module.last().unwrap().as_str(), "mod" | "lib" | "main") {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    found
}

/// The code of a file without its `#[cfg(test)] mod tests` and its comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    text.lines()
        .map(|line| line.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::a::b` and `super::c` paths of `code`, as their segments.
fn paths(code: &str) -> Vec<Vec<&str>> {
    let in_path = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut found = Vec::new();
    for (start, _) in code.char_indices() {
        let rest = &code[start..];
        let starts_path = rest.starts_with("crate::") || rest.starts_with("super::");
        if !starts_path || code[..start].chars().next_back().is_some_and(in_path) {
            continue;
        }
        let path = rest.split(|c: char| !in_path(c)).next().unwrap();
        found.push(path.split("::").filter(|s| !s.is_empty()).collect());
    }
    found
}

/// Each module's imports of modules other than itself, its ancestors and its
/// descendants.
fn imports(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let all = modules(src);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, path) in &all {
        for segments in paths(&code(path)) {
            let (mut target, rest): (Module, &[&str]) = match segments[0] {
                "crate" => (Vec::new(), &segments[1..]),
                _ => {
                    let supers = segments.iter().take_while(|s| **s == "super").count();
                    let keep = module.len().saturating_sub(supers);
                    (module[..keep].to_vec(), &segments[supers..])
                }
            };
            for segment in rest {
                target.push(segment.to_string());
                if !all.contains_key(&target) {
                    target.pop();
                    break;
                }
            }
            let related = target.starts_with(module) || module.starts_with(&target);
            if !related {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

/// A loop of imports, if there is one.
fn find_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        done: &mut BTreeSet<Module>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = stack.iter().position(|m| m == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut done, &mut Vec::new()))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for src in ["src", "crates/core/src", "crates/vobiz/src"] {
        let edges = imports(&root().join(src));
        assert!(edges.len() > 2, "{src}: the scan found the imports");
        if let Some(cycle) = find_cycle(&edges) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!("{src}: import cycle {}", names.join(" → "));
        }
    }
}

#[test]
fn the_scan_sees_a_cycle_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ledger")).unwrap();
    std::fs::write(
        dir.path().join("lib.rs"),
        "pub mod ledger;\npub mod render;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ledger/mod.rs"), "mod plan;\n").unwrap();
    std::fs::write(
        dir.path().join("ledger/plan.rs"),
        "use super::Book;\nuse crate::render::csv::Summary;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("render.rs"),
        "use crate::ledger::plan::Plan;\n",
    )
    .unwrap();
    let cycle = find_cycle(&imports(dir.path())).expect("a cycle");
    let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
    assert_eq!(names, ["ledger::plan", "render", "ledger::plan"]);
}

#[test]
fn the_core_crate_depends_on_no_io() {
    let manifest = std::fs::read_to_string(root().join("crates/core/Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().unwrap();
    let deps: BTreeSet<&str> = manifest["dependencies"]
        .as_table()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let allowed = BTreeSet::from(["chrono", "chrono-tz", "rust_decimal", "serde", "thiserror"]);
    assert!(
        deps.is_subset(&allowed),
        "didbill-core depends on {:?}",
        deps.difference(&allowed).collect::<Vec<_>>()
    );
    assert!(manifest.get("build-dependencies").is_none());
}

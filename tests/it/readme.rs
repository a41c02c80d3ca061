//! The README is read by someone with nothing but a clone: its links stay inside the
//! repository (or go to a project's homepage), it says how to get `didbill` on the
//! PATH, its walkthroughs share one build, and a fetch-then-replay walkthrough lists
//! the numbers the same way on both sides.

use crate::common::repo;

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// The lines of every ```sh block, one Vec per block.
fn shell_blocks(text: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), l) => block.push(l.to_owned()),
            (None, _) => {}
        }
    }
    // Continued lines (`\` at the end) joined, so a command's flags are on its line.
    blocks
        .into_iter()
        .map(|block| {
            let mut joined: Vec<String> = Vec::new();
            let mut continued = false;
            for line in block {
                match (continued, joined.last_mut()) {
                    (true, Some(last)) => last.push_str(&line),
                    _ => joined.push(line.clone()),
                }
                continued = line.trim_end().ends_with('\\');
            }
            joined
        })
        .collect()
}

#[test]
fn links_stay_in_the_repository_or_go_to_a_homepage() {
    let text = readme();
    let mut rest = text.as_str();
    let mut links = 0;
    while let Some(at) = rest.find("](") {
        let target = &rest[at + 2..rest[at..].find(')').map_or(rest.len(), |e| at + e)];
        links += 1;
        if let Some(site) = target.strip_prefix("https://") {
            assert!(
                !site.trim_end_matches('/').contains('/'),
                "{target}: only a project's homepage is linked, not a page inside a site"
            );
        } else if let Some(anchor) = target.strip_prefix('#') {
            // GitHub's heading anchors: lower case, spaces as `-`, punctuation dropped.
            let slugs: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix('#'))
                .map(|h| {
                    h.trim_start_matches('#')
                        .trim()
                        .to_lowercase()
                        .chars()
                        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                        .map(|c| if c == ' ' { '-' } else { c })
                        .collect()
                })
                .collect();
            assert!(
                slugs.iter().any(|s| s == anchor),
                "{target} names no heading of the README"
            );
        } else {
            assert!(
                !target.starts_with('/') && !target.contains(".."),
                "{target} points outside the repository"
            );
            assert!(
                repo().join(target).exists(),
                "{target} is not in the repository"
            );
        }
        rest = &rest[at + 2..];
    }
    assert!(links > 0);
    for outside in ["../", "/work/", "SPEC"] {
        assert!(!text.contains(outside), "the README refers to {outside:?}");
    }
}

#[test]
fn didbill_is_put_on_the_path_and_every_walkthrough_uses_the_release_build() {
    let text = readme();
    assert!(text.contains("cargo install --path . --locked"));
    assert!(text.contains("export PATH=\"$PWD/target/release:$PATH\""));
    let commands: Vec<String> = shell_blocks(&text).into_iter().flatten().collect();
    let cargo_runs: Vec<&String> = commands
        .iter()
        .filter(|l| l.contains("cargo run"))
        .collect();
    assert!(cargo_runs.len() >= 2);
    for line in cargo_runs {
        assert!(
            line.contains("cargo run --release"),
            "a second build profile: {line}"
        );
    }
    assert!(commands.iter().any(|l| l.starts_with("didbill ")));
}

#[test]
fn fetch_and_replay_walkthroughs_list_the_numbers_the_same_way() {
    let mode = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .find(|w| w[0] == "--fetch")
            .map_or("per-customer", |w| w[1])
            .to_owned()
    };
    let mut walkthroughs = 0;
    for block in shell_blocks(&readme()) {
        let fetches: Vec<&String> = block
            .iter()
            .filter(|l| l.starts_with("didbill fetch"))
            .collect();
        let api_runs: Vec<&String> = block
            .iter()
            .filter(|l| l.starts_with("didbill run --source api"))
            .collect();
        if fetches.is_empty() || api_runs.is_empty() {
            continue;
        }
        walkthroughs += 1;
        for fetch in &fetches {
            assert!(
                fetch.contains("--period"),
                "no call records to replay: {fetch}"
            );
            for run in &api_runs {
                assert_eq!(mode(fetch), mode(run), "{fetch}\n{run}");
            }
        }
        let replays: Vec<&String> = block
            .iter()
            .filter(|l| l.starts_with("didbill run --source") && !api_runs.contains(l))
            .collect();
        assert!(!replays.is_empty(), "a fetch without its replay");
        for replay in replays.iter().chain(&api_runs) {
            assert!(
                replay.contains("--as-of"),
                "the lapse rule needs one as-of: {replay}"
            );
        }
    }
    assert_eq!(walkthroughs, 2);
}

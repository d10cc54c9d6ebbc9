//! Every cargo invocation of the workspace resolves the same features for each dependency,
//! which is what the `mcfpipe-workspace-hack` crate is for (workspace-hack/Cargo.toml): then
//! `cargo xtask` (`cargo run -p xtask`), the deployer's nested builds
//! (`cargo build -p mcfparse-lambda --bin mcfparse`, `cargo build -p mcfscrape --bin mcfscrape`)
//! and `cargo test --workspace` share one set of compiled dependencies instead of each building
//! its own variant of hyper, tokio and the AWS SDK. A dependency added or changed with other
//! features makes this test fail, naming what to add to the hack crate.

use std::collections::{BTreeMap, BTreeSet};

use mcfpipe_e2e::repo_root;

/// Each third-party package of `cargo tree ARGS` with the feature sets it is built with (one
/// per side, target or build-time, when they differ).
fn features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let out = xtask::artifacts::cargo_command()
        .args(["tree", "--locked", "--prefix", "none", "--format", "{p}|{f}"])
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        // The workspace's own packages (`name v0.1.0 (/path)`) have no features to unify.
        if package.contains(" (/") {
            continue;
        }
        map.entry(package.to_string()).or_default().insert(features.to_string());
    }
    map
}

#[test]
fn every_invocation_resolves_the_workspace_features() {
    // `cargo test --workspace`: every member, dev-dependencies included.
    let all = features(&["--workspace", "--edges", "normal,build,dev"]);
    assert!(all.len() > 100, "cargo tree listed {} packages", all.len());
    let ws = xtask::artifacts::Workspace::from_cargo(&repo_root()).expect("cargo metadata");
    assert!(ws.packages.contains_key("mcfpipe-workspace-hack"));
    let mut differ = Vec::new();
    for member in ws.packages.keys() {
        for (invocation, edges) in [
            ("cargo build -p", "normal,build"),
            ("cargo test -p", "normal,build,dev"),
        ] {
            for (package, sets) in features(&["--package", member, "--edges", edges]) {
                let whole = all.get(&package).cloned().unwrap_or_default();
                if sets != whole {
                    differ.push(format!(
                        "{invocation} {member}: {package} with {sets:?}; cargo test --workspace: {whole:?}"
                    ));
                }
            }
        }
    }
    assert!(
        differ.is_empty(),
        "these invocations resolve other features than `cargo test --workspace`, so they compile \
         a second variant of the package and of everything built on it. Add the package to \
         workspace-hack/Cargo.toml with the workspace's features ([dependencies]; \
         [build-dependencies] for a crate only build scripts and proc-macros use):\n{}",
        differ.join("\n")
    );
}

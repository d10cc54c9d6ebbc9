//! The embedded local AWS: `deploy --env local` with no endpoint starts moto itself, later
//! commands reuse it, `local stop` stops it by its PID.

use mcfpipe_e2e::{Moto, Project};

/// Stops whatever emulator the project started, even when an assertion fails.
struct StopOnDrop<'a>(&'a Project);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = xtask::local::stop(self.0.root());
    }
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn the_deployer_starts_reuses_and_stops_its_own_emulator() {
    let p = Project::data_layers();
    let _guard = StopOnDrop(&p);
    p.xtask_own_endpoint(&["local", "status"]).ok().contains("not running");

    p.xtask_own_endpoint(&["deploy", "networking", "--env", "local"])
        .ok()
        .contains("started the local AWS emulator (moto) at http://127.0.0.1:")
        .contains("networking: created");
    let state: serde_json::Value =
        serde_json::from_str(&p.read("target/mcfpipe/local/moto.json")).expect("the emulator's port and PID are kept");
    let pid = state["pid"].as_u64().unwrap() as u32;
    assert!(pid_alive(pid));

    // A second command reuses it: no new start, and the stack it made is still there.
    let run = p.xtask_own_endpoint(&["deploy", "networking", "--env", "local"]);
    run.ok().contains("networking: unchanged");
    assert!(!run.output.contains("started the local AWS emulator"), "{}", run.output);
    p.xtask_own_endpoint(&["local", "status"])
        .ok()
        .contains(&format!("(pid {pid},"));

    p.xtask_own_endpoint(&["local", "stop"])
        .ok()
        .contains(&format!("stopped the local emulator (pid {pid}"));
    let t = std::time::Instant::now();
    while pid_alive(pid) && t.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!pid_alive(pid), "the emulator's process is gone");
    p.xtask_own_endpoint(&["local", "status"]).ok().contains("not running");
}

#[test]
fn a_local_only_environment_is_never_sent_to_another_endpoint() {
    let p = Project::data_layers();
    // An endpoint outside 127.0.0.1 for the local environment is refused before any request.
    let remote = "https://cloudformation.ap-southeast-1.amazonaws.com";
    let cli = [
        "cargo xtask",
        "--root",
        p.root().to_str().unwrap(),
        "--endpoint-url",
        remote,
        "deploy",
        "--env",
        "local",
    ];
    let cli = <xtask::cli::Cli as clap::Parser>::try_parse_from(cli).unwrap();
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let code = xtask::cli::run(cli, xtask::ui::Ui::captured(xtask::ui::Format::Text, buffer.clone()));
    let out = buffer.lock().unwrap().clone();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("environment local is local-only (endpoint: local)"),
        "{out}"
    );
}

#[test]
fn no_execute_leaves_a_change_set_and_a_later_deploy_recovers_the_stack() {
    let moto = Moto::start();
    let p = Project::data_layers();
    p.xtask(&moto, &["deploy", "networking", "--env", "local", "--no-execute"])
        .ok()
        .contains("change set left for review: ")
        .contains("networking: change set created");
    // A never-executed create leaves the stack in REVIEW_IN_PROGRESS (as on AWS).
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("REVIEW_IN_PROGRESS");
    // Deploying now deletes that empty stack and creates it: the same path that recovers a
    // stack left in ROLLBACK_COMPLETE, which moto cannot produce.
    p.xtask(&moto, &["deploy", "networking", "--env", "local"])
        .ok()
        .contains("is REVIEW_IN_PROGRESS (a create that failed or was never executed): deleting it to create it again")
        .contains("networking: created");
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("CREATE_COMPLETE");
}

//! The `mcfscrape` binary as a user or the Fargate task runs it: flags and environment, the
//! JSON summary line on stdout, and the exit codes (0 ok, also with a quarantined post; 1 error,
//! 2 bad flags, 3 blocked).

use std::process::{Command, Output};

use mcffixture::{Fault, FaultKind, FixtureServer, Route, Scenario};

fn profiles_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("profiles.json");
    let profiles = r#"[{"name": "all", "track": "any"}]"#;
    std::fs::write(&path, profiles).unwrap();
    path.display().to_string()
}

fn scrape(server: &FixtureServer, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcfscrape"));
    command
        .args(["--store", "memory", "--profiles", &profiles_file(&dir), "--quiet"])
        .env("MCFSCRAPE_MCF_URL", server.url())
        .env("MCFSCRAPE_RATE", "0")
        .args(extra);
    command.output().expect("mcfscrape runs")
}

fn summary(output: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("no JSON summary line ({e}) in:\n{stdout}"))
}

#[test]
fn a_run_prints_one_json_summary_line_and_exits_0() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let output = scrape(&server, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    let summary = summary(&output);
    assert_eq!(summary["outcome"], "completed");
    assert_eq!(summary["fetched"], 100);
    assert_eq!(summary["enqueued"], 100);
    assert!(summary["timing"]["mcf_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(server.count(Route::Detail), 100);
}

#[test]
fn blocked_exits_3() {
    // Every detail from the second on answers 403: the probe (the first post again) too.
    let server = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::from(Route::Detail, 2, Fault::status(403))],
    )
    .unwrap();
    let output = scrape(&server, &[]);
    assert_eq!(output.status.code(), Some(3));
    let line = summary(&output);
    assert_eq!(line["outcome"], "blocked");
    assert_eq!(line["blocked"], true);
    assert_eq!(line["probes"], 1);
    assert_eq!(server.count(Route::Detail), 3);

    // A site-wide verification page from the 4th request on: the post that gets it and the
    // probe are the only requests after it appeared.
    let server = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::from(Route::Any, 4, FaultKind::VerificationPage)],
    )
    .unwrap();
    let output = scrape(&server, &[]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(summary(&output)["outcome"], "blocked");
    assert_eq!(server.count(Route::Any), 5);
}

#[test]
fn one_odd_post_exits_0_and_is_listed_in_the_summary_line() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let odd = server.uuids()[2].clone();
    server.set_faults(vec![Fault::post(&odd, FaultKind::VerificationPage)]);
    let output = scrape(&server, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = summary(&output);
    assert_eq!(summary["outcome"], "completed");
    assert_eq!(
        (summary["fetched"].as_u64(), summary["quarantined"].as_u64()),
        (Some(99), Some(1))
    );
    assert_eq!(summary["quarantine"][0]["uuid"], odd.as_str());
}

#[test]
fn errors_exit_1_with_a_message_and_bad_flags_exit_2() {
    let server = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::from(Route::Search, 1, Fault::status(500))],
    )
    .unwrap();
    let output = scrape(&server, &["--max-attempts", "2"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(summary(&output)["outcome"], "failed");

    let output = Command::new(env!("CARGO_BIN_EXE_mcfscrape"))
        .args(["--env", "local"])
        .env_remove("MCFSCRAPE_BUCKET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--bucket"), "{stderr}");

    let output = Command::new(env!("CARGO_BIN_EXE_mcfscrape"))
        .args(["--rate", "fast"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn off_a_terminal_every_line_is_a_log_line_of_the_one_format() {
    use mcfcore::log::{Level, LogLine};

    // As the Fargate task runs it: stderr and stdout are pipes to the `awslogs` driver.
    let dir = tempfile::tempdir().unwrap();
    let server = FixtureServer::default_on_free_port().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_mcfscrape"))
        .args(["--store", "memory", "--profiles", &profiles_file(&dir)])
        .env("MCFSCRAPE_MCF_URL", server.url())
        .env("MCFSCRAPE_RATE", "0")
        .output()
        .expect("mcfscrape runs");
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let progress: Vec<LogLine> = stderr
        .lines()
        .map(|l| LogLine::parse(l).unwrap_or_else(|| panic!("not a log line: {l}")))
        .collect();
    assert_eq!(progress.len(), 2, "started, the profile paged: {stderr}");
    assert!(
        progress
            .iter()
            .all(|l| l.component == "mcfscrape" && l.level == Level::Info)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = LogLine::parse(stdout.trim()).unwrap_or_else(|| panic!("the summary is a log line: {stdout}"));
    assert_eq!(
        (last.level, &last.fields["outcome"]),
        (Level::Info, &"completed".into())
    );

    // An error before any run is one too.
    let output = Command::new(env!("CARGO_BIN_EXE_mcfscrape"))
        .args(["--env", "local"])
        .env_remove("MCFSCRAPE_BUCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = LogLine::parse(stderr.trim()).unwrap_or_else(|| panic!("not a log line: {stderr}"));
    assert_eq!(line.level, Level::Error);
    assert!(line.message.contains("--bucket"), "{stderr}");
}

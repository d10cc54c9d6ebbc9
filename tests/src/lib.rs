//! Test harness for the end-to-end tests: a real moto server on a free 127.0.0.1 port (stopped
//! by its PID when the test ends), a throw-away copy of the project to edit, the deployer run
//! in-process with its output captured, and AWS SDK clients pointed at the emulator so the
//! tests check what exists through the AWS APIs, not through the deployer's own state. Tests
//! that need a Docker engine get it from [`docker_engine`], and everything they leave in it
//! (containers, images of a test's registry) is removed when they end.

pub mod openapi;
pub mod workflows;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use bollard::Docker;
use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptions};
use clap::Parser;
use xtask::cli::Cli;
use xtask::ui::Ui;

/// The permissions boundary ci/github-oidc-role.yaml creates (the workload roles' ceiling on
/// AWS), instantiated for `env` and the stack `d`: what the permission checks hold a role to.
pub fn boundary(env: &str, d: &xtask::iam::Deployed) -> Vec<xtask::iam::Statement> {
    let text = std::fs::read_to_string(repo_root().join("ci/github-oidc-role.yaml")).expect("the CI role template");
    let template: serde_json::Value = serde_norway::from_str(&text).expect("YAML");
    let (id, policy) = template["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::IAM::ManagedPolicy")
        .expect("a managed policy: the workload roles' boundary");
    let ci = xtask::iam::Deployed {
        stack: format!("mcfpipe-github-{env}"),
        parameters: BTreeMap::from([
            ("Project".to_string(), "mcfpipe".to_string()),
            ("Environment".to_string(), env.to_string()),
        ]),
        ..d.clone()
    };
    xtask::iam::policy_statements(&template, id, &policy["Properties"]["PolicyDocument"], &ci)
}

/// Every item of `table` as text, by `pk|sk`, whatever the order of the SDK's maps: equal
/// snapshots mean no write happened.
pub fn snapshot(ddb: &aws_sdk_dynamodb::Client, table: &str) -> BTreeMap<String, String> {
    runtime().block_on(async {
        let mut out = BTreeMap::new();
        let mut start = None;
        loop {
            let page = ddb
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap_or_else(|e| panic!("scan {table}: {e:?}"));
            for item in page.items() {
                let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let sorted: BTreeMap<_, _> = item.iter().map(|(k, v)| (k.clone(), stable(v))).collect();
                out.insert(format!("{}|{}", s("pk"), s("sk")), format!("{sorted:?}"));
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return out;
            }
        }
    })
}

/// A value as text whatever the order of its maps' keys (the SDK's maps are HashMaps).
fn stable(v: &aws_sdk_dynamodb::types::AttributeValue) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    match v {
        AttributeValue::M(m) => {
            let sorted: BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), stable(v))).collect();
            format!("M{sorted:?}")
        }
        AttributeValue::L(l) => format!("L{:?}", l.iter().map(stable).collect::<Vec<_>>()),
        other => format!("{other:?}"),
    }
}

/// Which keys differ between two [`snapshot`]s (short, unlike the snapshots).
pub fn changed(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| a.get(k) != b.get(k)).collect()
}

/// The repository this test was built from.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A moto server of this test's own.
pub struct Moto {
    pub url: String,
    pub port: u16,
    child: Child,
    _log_dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        let log_dir = tempfile::tempdir().expect("tempdir");
        let ui = Ui::new(xtask::ui::Format::Text);
        let moto = xtask::local::moto_command(&repo_root(), &ui).expect("moto_server (pip install 'moto[server]')");
        let (child, port) = xtask::local::spawn(&moto, &log_dir.path().join("moto.log"), false).expect("moto starts");
        Moto {
            url: format!("http://127.0.0.1:{port}"),
            port,
            child,
            _log_dir: log_dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An SDK config for checking the emulator's state.
    pub fn sdk(&self) -> SdkConfig {
        runtime().block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new("ap-southeast-1"))
                .endpoint_url(&self.url)
                .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"))
                .http_client(
                    aws_smithy_http_client::Builder::new()
                        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                        ))
                        .build_https(),
                )
                .load(),
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        xtask::local::terminate(self.child.id());
        let _ = self.child.wait();
    }
}

/// A single-threaded runtime for the checks (the deployer runs its own).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A copy of the project's config, stacks and templates that a test may change.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn copy() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["config", "stacks", "templates"] {
            copy_dir(&repo_root().join(sub), &dir.path().join(sub));
        }
        Project { dir }
    }

    /// A copy holding only the named stacks: the data layers exercise the deployer's mechanics
    /// without building runtime artifacts.
    pub fn with_stacks(names: &[&str]) -> Project {
        let p = Project::copy();
        for entry in std::fs::read_dir(p.root().join("stacks")).expect("stacks") {
            let path = entry.expect("entry").path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if !names.contains(&stem.as_str()) {
                std::fs::remove_file(&path).expect("remove manifest");
            }
        }
        p
    }

    /// networking + database.
    pub fn data_layers() -> Project {
        Project::with_stacks(&["networking", "database"])
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).expect("read project file")
    }

    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.root().join(rel), text).expect("write project file");
    }

    /// Appends YAML to an environment's config file.
    pub fn append_config(&self, env: &str, yaml: &str) {
        let rel = format!("config/{env}.yaml");
        let text = self.read(&rel) + "\n" + yaml;
        self.write(&rel, &text);
    }

    /// Runs `cargo xtask ARGS` against `moto`, output captured.
    /// A deployer session on this copy's `local` environment against `moto`, its output
    /// captured and dropped: for tests that call the deployer's library directly.
    pub fn session(&self, moto: &Moto) -> xtask::session::Session {
        let ui = Ui::captured(xtask::ui::Format::Text, Arc::new(Mutex::new(String::new())));
        xtask::session::Session::open(
            xtask::session::Project::new(Some(self.root().to_path_buf())),
            "local",
            ui,
            Some(moto.url.clone()),
        )
        .expect("a session on the project's copy")
    }

    pub fn xtask(&self, moto: &Moto, args: &[&str]) -> Run {
        self.run(Some(moto), args)
    }

    /// Runs `cargo xtask ARGS` with the endpoint the config names (`local`: the embedded
    /// emulator, started by the deployer itself), output captured.
    pub fn xtask_own_endpoint(&self, args: &[&str]) -> Run {
        self.run(None, args)
    }

    /// Runs `cargo xtask ARGS` against the endpoint `url` (a proxy in front of moto).
    pub fn xtask_at(&self, url: &str, args: &[&str]) -> Run {
        self.run_at(Some(url), args)
    }

    fn run(&self, moto: Option<&Moto>, args: &[&str]) -> Run {
        self.run_at(moto.map(|m| m.url.as_str()), args)
    }

    fn run_at(&self, url: Option<&str>, args: &[&str]) -> Run {
        let mut argv: Vec<String> = vec!["cargo xtask".into(), "--root".into(), self.root().display().to_string()];
        if let Some(url) = url {
            argv.extend(["--endpoint-url".to_string(), url.to_string()]);
        }
        argv.extend(args.iter().map(|a| a.to_string()));
        let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("bad arguments {argv:?}: {e}"));
        let buffer = Arc::new(Mutex::new(String::new()));
        let ui = Ui::captured(cli.output, buffer.clone());
        let code = xtask::cli::run(cli, ui);
        let output = buffer.lock().map(|b| b.clone()).unwrap_or_default();
        Run {
            code,
            output,
            args: args.join(" "),
        }
    }
}

impl Drop for Project {
    /// A deploy of `compute` starts a registry for this copy: stop it by its PID, and remove the
    /// images pushed to it from the engine (their references name a port that is gone).
    fn drop(&mut self) {
        let record = xtask::local::state_dir(self.root()).join("registry.json");
        let registry = std::fs::read_to_string(record)
            .ok()
            .and_then(|t| serde_json::from_str::<xtask::local::Registry>(&t).ok());
        xtask::local::stop_registry(self.root());
        if let Some(registry) = registry {
            clean_engine(&[], Some(&registry.addr));
        }
    }
}

/// The Docker engine for a test that needs one (`DOCKER_HOST`, else `/var/run/docker.sock`).
/// Without one the test is skipped, and says so on stderr (not captured), unless
/// `MCFPIPE_REQUIRE_DOCKER=1` (CI), where it fails.
pub async fn docker_engine(test: &str) -> Option<Docker> {
    match xtask::artifacts::image::engine().await {
        Ok(docker) => Some(docker),
        Err(reason) if std::env::var("MCFPIPE_REQUIRE_DOCKER").is_ok_and(|v| v == "1") => {
            panic!("{test}: MCFPIPE_REQUIRE_DOCKER=1 but {reason}")
        }
        Err(reason) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED: no Docker engine ({reason}): {test}");
            None
        }
    }
}

/// Removes `containers` (forced) and every image reference into `registry` (`127.0.0.1:PORT`)
/// from the engine, if one answers. Best effort: errors are ignored. Does nothing when called
/// from inside a runtime (it needs one of its own).
pub fn clean_engine(containers: &[String], registry: Option<&str>) {
    if tokio::runtime::Handle::try_current().is_ok() {
        return;
    }
    runtime().block_on(async {
        // A connection of its own: the test's may belong to a runtime nobody drives any more.
        let Ok(docker) = xtask::artifacts::image::engine().await else {
            return;
        };
        for name in containers {
            let force = RemoveContainerOptionsBuilder::new().force(true).build();
            let _ = docker.remove_container(name, Some(force)).await;
        }
        let Some(registry) = registry else { return };
        let prefix = format!("{registry}/");
        let filters = HashMap::from([("reference", vec![format!("{prefix}*")])]);
        let listed = ListImagesOptionsBuilder::new().filters(&filters).build();
        for image in docker.list_images(Some(listed)).await.unwrap_or_default() {
            for reference in image.repo_tags.iter().chain(&image.repo_digests) {
                if reference.starts_with(&prefix) {
                    let _ = docker.remove_image(reference, None::<RemoveImageOptions>, None).await;
                }
            }
        }
    });
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// What one deployer command did.
#[derive(Debug)]
pub struct Run {
    pub code: u8,
    pub output: String,
    pub args: String,
}

impl Run {
    /// Panics with the whole output unless the exit code is `code`.
    pub fn expect_code(&self, code: u8) -> &Run {
        assert_eq!(
            self.code, code,
            "`{}` exited {} (wanted {code}); output:\n{}",
            self.args, self.code, self.output
        );
        self
    }

    pub fn ok(&self) -> &Run {
        self.expect_code(0)
    }

    pub fn contains(&self, needle: &str) -> &Run {
        assert!(
            self.output.contains(needle),
            "`{}`: no `{needle}` in output:\n{}",
            self.args,
            self.output
        );
        self
    }

    pub fn not_contains(&self, needle: &str) -> &Run {
        assert!(
            !self.output.contains(needle),
            "`{}`: `{needle}` in output:\n{}",
            self.args,
            self.output
        );
        self
    }

    /// JSON lines of `--output json` (non-JSON lines are skipped).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.output
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The AWS CLI against moto, JSON out.
pub fn aws_cli(moto: &Moto, args: &[&str]) -> serde_json::Value {
    let out = Command::new("aws")
        .args(args)
        .args([
            "--endpoint-url",
            &moto.url,
            "--region",
            "ap-southeast-1",
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI (pip install awscli)");
    assert!(
        out.status.success(),
        "aws {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the AWS CLI")
}

/// One plain-HTTP GET (HTTP/1.0: no chunking, the server closes): status, headers with
/// lower-case names, body.
pub fn http_get(addr: &str, path: &str, accept: &str) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: {accept}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

/// Whether EventBridge would deliver `event` (JSON) to a rule with `pattern` (JSON). moto
/// stores event patterns but does not evaluate `$or`, `anything-but` or input transformers,
/// and its `TestEventPattern` answers an empty body; this asks LocalStack's rule engine
/// (`localstack-core` on PyPI, which LocalStack tests against AWS) instead, in a virtualenv of
/// its own: `MCFPIPE_EVENTRULES_PYTHON` (`.ci/run` makes one), else one made here once under
/// `target/mcfpipe/eventrules-venv`.
pub fn eventbridge_matches(pattern: &str, event: &str) -> bool {
    let python = eventrules_python();
    let script = "import json, sys\n\
from localstack.services.events.event_rule_engine import EventPatternCompiler, EventRuleEngine\n\
pattern = EventPatternCompiler().compile_event_pattern(json.loads(sys.argv[1]))\n\
print(json.dumps(EventRuleEngine().evaluate_pattern_on_event(pattern, json.loads(sys.argv[2]))))\n";
    let out = Command::new(&python)
        .args(["-c", script, pattern, event])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(
        out.status.success(),
        "the EventBridge rule engine failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match String::from_utf8_lossy(&out.stdout).trim() {
        "true" => true,
        "false" => false,
        other => panic!("the EventBridge rule engine answered {other:?}"),
    }
}

fn eventrules_python() -> PathBuf {
    if let Some(p) = std::env::var_os("MCFPIPE_EVENTRULES_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo_root().join("target/mcfpipe/eventrules-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".ready");
    if ready.exists() {
        return python;
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv");
    assert!(status.success(), "cannot create {}", venv.display());
    // localstack-core imports these at the rule engine's import time without declaring them.
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args(["localstack-core", "boto3", "rolo", "jsonpatch"])
        .status()
        .expect("pip");
    assert!(
        status.success(),
        "cannot install LocalStack's rule engine into {}",
        venv.display()
    );
    std::fs::write(&ready, "").expect("mark the venv ready");
    python
}

/// An HTTP proxy in front of moto that holds back the answers to one AWS action (`Action=` in
/// a query-protocol body, as CloudFormation's calls are) for `delay`, and records when each such
/// request arrived. moto finishes a stack operation within the call, so whether two operations
/// were in progress at once cannot be seen from its answers; with the answers held back, two
/// requests that arrive before either answer was sent were in flight together.
pub struct SlowProxy {
    pub url: String,
    /// (arrival, the request's `StackName`) of each held-back request.
    pub arrivals: Arc<Mutex<Vec<(std::time::Instant, String)>>>,
}

impl SlowProxy {
    pub fn start(moto: &Moto, action: &str, delay: Duration) -> SlowProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a proxy port");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let upstream = format!("127.0.0.1:{}", moto.port);
        let arrivals: Arc<Mutex<Vec<(std::time::Instant, String)>>> = Arc::default();
        let marker = format!("Action={action}");
        let log = arrivals.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, marker, log) = (upstream.clone(), marker.clone(), log.clone());
                std::thread::spawn(move || proxy_connection(client, &upstream, &marker, &log, delay));
            }
        });
        SlowProxy { url, arrivals }
    }
}

/// Serves one request of a client connection over a fresh connection to moto, answering with
/// moto's `Connection: close`, so the client opens a new connection for its next request.
fn proxy_connection(
    mut client: TcpStream,
    upstream: &str,
    marker: &str,
    log: &Mutex<Vec<(std::time::Instant, String)>>,
    delay: Duration,
) {
    let mut buf: Vec<u8> = Vec::new();
    {
        // The request: headers, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match client.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match client.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let request: Vec<u8> = buf.drain(..head_end + length).collect();
        let body = String::from_utf8_lossy(&request[head_end..]).to_string();
        let held = body.contains(marker);
        if held {
            let stack = body
                .split('&')
                .find_map(|kv| kv.strip_prefix("StackName="))
                .unwrap_or_default()
                .to_string();
            if let Ok(mut l) = log.lock() {
                l.push((std::time::Instant::now(), stack));
            }
        }
        // Forward with Connection: close, so moto's answer ends where its connection does.
        let head = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\r\n");
        let Ok(mut up) = TcpStream::connect(upstream) else {
            return;
        };
        let forwarded = [
            format!("{head}\r\nConnection: close\r\n\r\n").into_bytes(),
            request[head_end..].to_vec(),
        ]
        .concat();
        if up.write_all(&forwarded).is_err() {
            return;
        }
        let mut answer = Vec::new();
        if up.read_to_end(&mut answer).is_err() {
            return;
        }
        if held {
            std::thread::sleep(delay);
        }
        let _ = client.write_all(&answer);
    }
}

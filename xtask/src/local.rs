//! The embedded local AWS: a moto server on a free 127.0.0.1 port, started on demand and
//! reused by later commands (its port and PID are kept under `target/mcfpipe/local/`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::ui::Ui;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Emulator {
    pub pid: u32,
    pub port: u16,
    pub url: String,
    pub started: String,
    pub command: String,
}

pub fn state_dir(root: &Path) -> PathBuf {
    root.join("target/mcfpipe/local")
}

fn state_file(root: &Path) -> PathBuf {
    state_dir(root).join("moto.json")
}

/// The running emulator recorded for this checkout, if it still answers.
pub fn running(root: &Path) -> Option<Emulator> {
    let text = std::fs::read_to_string(state_file(root)).ok()?;
    let emu: Emulator = serde_json::from_str(&text).ok()?;
    (alive(emu.pid) && answers(emu.port)).then_some(emu)
}

fn alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("moto"))
        .unwrap_or(false)
}

/// Whether moto's own API answers on the port.
pub fn answers(port: u16) -> bool {
    http(port, "GET", "/moto-api/").is_ok_and(|s| s.starts_with("HTTP/1.") && !s.contains(" 5"))
}

/// A tiny HTTP/1.0 client for moto's control API: no second HTTP stack for two calls.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    s.take(4096).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).to_string();
    Ok(text.lines().next().unwrap_or_default().to_string())
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free port on 127.0.0.1")?;
    Ok(l.local_addr()?.port())
}

fn on_path(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(cmd)).find(|p| p.is_file())
}

/// `moto_server` from PATH, else from a virtualenv under `target/` (created on first use).
pub fn moto_command(root: &Path, ui: &Ui) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("MCFPIPE_MOTO_SERVER") {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = on_path("moto_server") {
        // pyenv shims exist for every installed version; make sure this one runs.
        if Command::new(&p)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Ok(p);
        }
    }
    let venv = root.join("target/mcfpipe/venv");
    let bin = venv.join("bin/moto_server");
    if bin.is_file() {
        return Ok(bin);
    }
    ui.info(&format!(
        "moto_server not found: installing moto[server] into {} (once)",
        venv.display()
    ));
    let python = ["python3", "python"].into_iter().find_map(on_path).context(
        "the local emulator needs Python 3 (python3 on PATH) to install moto; install it, or set endpoint to a running emulator",
    )?;
    run(
        Command::new(&python).args(["-m", "venv"]).arg(&venv),
        "create a virtualenv for moto",
    )?;
    run(
        Command::new(venv.join("bin/pip")).args(["install", "--quiet", "moto[server]>=5.1,<6"]),
        "pip install moto[server]",
    )?;
    Ok(bin)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("cannot {what}"))?;
    if !out.status.success() {
        bail!("cannot {what}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The running emulator, started if needed.
pub fn ensure(root: &Path, ui: &Ui) -> Result<Emulator> {
    if let Some(emu) = running(root) {
        return Ok(emu);
    }
    let moto = moto_command(root, ui)?;
    let dir = state_dir(root);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let log_path = dir.join("moto.log");
    let (child, port) = spawn(&moto, &log_path, true)?;
    let emu = Emulator {
        pid: child.id(),
        port,
        url: format!("http://127.0.0.1:{port}"),
        started: now_rfc3339(),
        command: moto.display().to_string(),
    };
    std::fs::write(state_file(root), serde_json::to_string_pretty(&emu)?)?;
    ui.info(&format!(
        "started the local AWS emulator (moto) at {} (pid {}, log {})",
        emu.url,
        emu.pid,
        log_path.display()
    ));
    Ok(emu)
}

/// Starts `moto` on a free 127.0.0.1 port and waits until it answers. `detach` puts it in a
/// process group of its own, so that a Ctrl-C of the command that started it does not stop it.
pub fn spawn(moto: &Path, log_path: &Path, detach: bool) -> Result<(std::process::Child, u16)> {
    let port = free_port()?;
    let log = std::fs::File::create(log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut cmd = Command::new(moto);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        // moto runs Lambda code in Docker when it finds an engine (DOCKER_HOST, else the default
        // socket), pulling a runtime image per invocation. Offline that stalls every SendMessage
        // to a queue with an event source mapping past the SDK's timeout. Locally the parser runs
        // in-process (docs/LOCAL.md), so moto gets no engine, even when the images use one.
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/mcfpipe-moto-runs-no-containers.sock",
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if detach {
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", moto.display()))?;
    let started = Instant::now();
    while !answers(port) {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            bail!(
                "the local emulator exited ({status}) before answering; its log ({}):\n{}",
                log_path.display(),
                tail(&log, 20)
            );
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the local emulator did not answer on port {port} within 60 s; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((child, port))
}

/// Stops the recorded emulator by its PID. `Ok(None)` when none was running.
pub fn stop(root: &Path) -> Result<Option<Emulator>> {
    let file = state_file(root);
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    let _ = std::fs::remove_file(&file);
    let Ok(emu) = serde_json::from_str::<Emulator>(&text) else {
        return Ok(None);
    };
    if !alive(emu.pid) {
        return Ok(None);
    }
    terminate(emu.pid);
    Ok(Some(emu))
}

/// SIGTERM, then SIGKILL if it lingers.
pub fn terminate(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).stderr(Stdio::null()).status();
    let t = Instant::now();
    while pid_alive(pid) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    if pid_alive(pid) {
        let _ = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// Clears all emulator state (every stack, table and bucket).
pub fn reset(port: u16) -> Result<()> {
    let status = http(port, "POST", "/moto-api/reset").context("cannot reach the local emulator")?;
    if !status.contains(" 200") {
        bail!("the local emulator refused the reset: {status}");
    }
    Ok(())
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    aws_smithy_types::DateTime::from_secs(secs as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// The local container registry (`docker-registry` from Debian's package of the same name),
/// standing in for ECR's data plane, which moto does not serve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registry {
    pub pid: u32,
    pub port: u16,
    /// `127.0.0.1:PORT`, the registry part of image references.
    pub addr: String,
}

fn registry_file(root: &Path) -> PathBuf {
    state_dir(root).join("registry.json")
}

/// The running local registry, started if needed; `Err` says why there is none.
pub fn ensure_registry(root: &Path) -> std::result::Result<Registry, String> {
    if let Some(reg) = std::fs::read_to_string(registry_file(root))
        .ok()
        .and_then(|t| serde_json::from_str::<Registry>(&t).ok())
        .filter(|r| pid_alive(r.pid) && http(r.port, "GET", "/v2/").is_ok_and(|s| s.contains(" 200")))
    {
        return Ok(reg);
    }
    let bin = ["docker-registry", "registry"]
        .into_iter()
        .find_map(on_path)
        .ok_or("no local container registry: `apt-get install docker-registry`")?;
    let dir = state_dir(root);
    let store = dir.join("registry-data");
    std::fs::create_dir_all(&store).map_err(|e| format!("cannot create {}: {e}", store.display()))?;
    let port = free_port().map_err(|e| e.to_string())?;
    let config = dir.join("registry.yml");
    let yaml = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        store.display()
    );
    std::fs::write(&config, yaml).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let log = std::fs::File::create(dir.join("registry.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(&bin)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let started = Instant::now();
    while !http(port, "GET", "/v2/").is_ok_and(|s| s.contains(" 200")) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the local registry exited ({status}); see {}",
                dir.join("registry.log").display()
            ));
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the local registry did not answer within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let reg = Registry {
        pid: child.id(),
        port,
        addr: format!("127.0.0.1:{port}"),
    };
    if let Ok(text) = serde_json::to_string_pretty(&reg) {
        let _ = std::fs::write(registry_file(root), text);
    }
    Ok(reg)
}

/// Stops the local registry by its PID. `Some` when one was running.
pub fn stop_registry(root: &Path) -> Option<Registry> {
    let text = std::fs::read_to_string(registry_file(root)).ok()?;
    let _ = std::fs::remove_file(registry_file(root));
    let reg: Registry = serde_json::from_str(&text).ok()?;
    if !pid_alive(reg.pid) {
        return None;
    }
    terminate(reg.pid);
    Some(reg)
}

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

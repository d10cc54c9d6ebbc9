//! A stand-in for the Lambda Runtime API, enough to run the parser's real `bootstrap` (the
//! `mcfparse` binary with `lambda_runtime`) on one event and read its memory from /proc:
//! `GET /2018-06-01/runtime/invocation/next` hands out the event once, and the function's
//! second `next` (it has answered and waits for more work) ends the probe. HTTP/1.1 with one
//! request per connection (`Connection: close`), on 127.0.0.1. It also times the function's
//! initialisation (spawn to its first `next`) and its answer (event handed out to response).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const REQUEST_ID: &str = "bench-0001";

/// What one invocation cost the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// VmRSS when the function first asked for work (initialised, before the event).
    pub baseline_kb: u64,
    /// VmHWM once it had answered: the process's peak resident set, start to end.
    pub peak_kb: u64,
    /// The function's answer (the partial batch response).
    pub response: String,
    /// What it printed (one JSON line per record).
    pub stdout: String,
    /// From the spawn to its first `GET …/invocation/next`: the function's initialisation.
    pub init: Duration,
    /// From handing out the event to its answer.
    pub handled: Duration,
}

/// Runs `binary` with only `env` (plus the Lambda variables) against a runtime API serving
/// `event` once; stops it by PID when it asks for the next event, or after `timeout`. Its
/// output goes to files under `logs`.
pub fn invoke_once(
    binary: &Path,
    env: &[(&str, String)],
    event: &str,
    timeout: Duration,
    logs: &Path,
) -> Result<Probe> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
    listener.set_nonblocking(true)?;
    let api = listener.local_addr()?.to_string();
    let (out_path, err_path) = (logs.join("lambda.stdout"), logs.join("lambda.stderr"));
    let spawned = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "mcfpipe-bench-parse")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/mcfpipe-bench-parse")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let pid = child.id();
    let result = serve(&listener, pid, event, timeout, spawned, || {
        child.try_wait().ok().flatten()
    });
    crate::local::terminate(pid);
    let _ = child.wait();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let served = result.with_context(|| format!("{} (stdout: {stdout}; stderr: {stderr})", binary.display()))?;
    Ok(Probe {
        baseline_kb: served.baseline_kb,
        peak_kb: served.peak_kb,
        response: served.response,
        stdout,
        init: served.init,
        handled: served.handled,
    })
}

/// What the stand-in API saw of one invocation.
struct Served {
    baseline_kb: u64,
    peak_kb: u64,
    response: String,
    init: Duration,
    handled: Duration,
}

fn serve(
    listener: &TcpListener,
    pid: u32,
    event: &str,
    timeout: Duration,
    spawned: Instant,
    exited: impl FnMut() -> Option<std::process::ExitStatus>,
) -> Result<Served> {
    let mut exited = exited;
    let started = Instant::now();
    let mut baseline = None;
    let mut response: Option<String> = None;
    // (initialised, event handed out, answered)
    let (mut init, mut handed, mut handled) = (Duration::ZERO, Instant::now(), Duration::ZERO);
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = exited() {
                    bail!("the function exited ({status}) before answering");
                }
                if started.elapsed() > timeout {
                    bail!("no answer within {} s", timeout.as_secs());
                }
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            Err(e) => return Err(e).context("accept"),
        };
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut stream = stream;
        let (method, path, body) = read_request(&mut stream)?;
        match (method.as_str(), path.as_str()) {
            ("GET", p) if p.ends_with("/runtime/invocation/next") => match (baseline, &response) {
                (None, _) => {
                    init = spawned.elapsed();
                    baseline = Some(status_kb(pid, "VmRSS")?);
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)?
                        .as_millis()
                        + 900_000;
                    write_response(
                        &mut stream,
                        "200 OK",
                        &[
                            ("Lambda-Runtime-Aws-Request-Id", REQUEST_ID.to_string()),
                            ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                            (
                                "Lambda-Runtime-Invoked-Function-Arn",
                                "arn:aws:lambda:ap-southeast-1:123456789012:function:mcfpipe-bench-parse".into(),
                            ),
                            (
                                "Lambda-Runtime-Trace-Id",
                                "Root=1-00000000-000000000000000000000000".into(),
                            ),
                        ],
                        event.as_bytes(),
                    )?;
                    handed = Instant::now();
                }
                (Some(b), Some(answer)) => {
                    // Done and waiting for more work: read the peak, leave this request hanging.
                    return Ok(Served {
                        baseline_kb: b,
                        peak_kb: status_kb(pid, "VmHWM")?,
                        response: answer.clone(),
                        init,
                        handled,
                    });
                }
                (Some(_), None) => bail!("the function asked for another event without answering the first"),
            },
            ("POST", p) if p.ends_with(&format!("/runtime/invocation/{REQUEST_ID}/response")) => {
                handled = handed.elapsed();
                response = Some(String::from_utf8_lossy(&body).into_owned());
                write_response(&mut stream, "202 Accepted", &[], br#"{"status":"OK"}"#)?;
            }
            ("POST", p) if p.ends_with("/error") => {
                let _ = write_response(&mut stream, "202 Accepted", &[], br#"{"status":"OK"}"#);
                bail!(
                    "the function reported an error on {p}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            _ => {
                write_response(&mut stream, "404 Not Found", &[], b"{}")?;
            }
        }
    }
}

/// (method, path, body) of one HTTP/1.1 request; bodies by Content-Length or chunked.
pub(crate) fn read_request(stream: &mut impl Read) -> Result<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => (m.to_string(), p.to_string()),
        _ => bail!("not an HTTP request: {line:?}"),
    };
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse().context("Content-Length")?;
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).context("chunk size")?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok((method, path, body))
}

fn write_response(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    Ok(())
}

/// A `kB` field of /proc/PID/status (VmRSS, VmHWM).
pub(crate) fn status_kb(pid: u32, field: &str) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status (Linux only)"))?;
    parse_status_kb(&text, field).with_context(|| format!("no {field} in /proc/{pid}/status"))
}

fn parse_status_kb(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_with_length_or_chunks() {
        let plain =
            b"POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello";
        let (m, p, b) = read_request(&mut &plain[..]).unwrap();
        assert_eq!(
            (m.as_str(), p.as_str(), b.as_slice()),
            ("POST", "/2018-06-01/runtime/invocation/x/response", &b"hello"[..])
        );
        let chunked = b"POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(read_request(&mut &chunked[..]).unwrap().2, b"abcde");
        let get = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n";
        assert_eq!(read_request(&mut &get[..]).unwrap().2, b"");
    }

    #[test]
    fn reads_memory_fields_of_proc_status() {
        let text = "Name:\tbootstrap\nVmHWM:\t   20480 kB\nVmRSS:\t   12000 kB\n";
        assert_eq!(parse_status_kb(text, "VmHWM"), Some(20480));
        assert_eq!(parse_status_kb(text, "VmRSS"), Some(12000));
        assert_eq!(parse_status_kb(text, "VmSwap"), None);
        assert!(status_kb(std::process::id(), "VmHWM").unwrap() > 0);
    }
}

//! The `mcffixture` binary: prints its URL first, serves the captures with the faults given
//! as flags, and stops when killed by its PID.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// One HTTP/1.1 request over a plain socket; returns the status line and the body.
fn request(base: &str, method: &str, path: &str, body: &str) -> (String, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or_default().to_string();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn the_binary_serves_pages_details_and_flag_faults_until_killed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcffixture"))
        .args(["--fault", "detail:1:500", "--extra", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mcffixture starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let (status, body) = request(
        &url,
        "POST",
        "/v2/search?limit=40&page=2",
        r#"{"search": "", "categories": []}"#,
    );
    assert!(status.contains("200"), "{status}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total"], 102);
    assert_eq!(page["results"].as_array().unwrap().len(), 22);
    assert!(page["_links"].get("next").is_none());

    let uuid = page["results"][0]["uuid"].as_str().unwrap().to_string();
    let (status, _) = request(&url, "GET", &format!("/v2/jobs/{uuid}"), "");
    assert!(
        status.contains("500"),
        "the first detail request is the injected fault: {status}"
    );
    let (status, body) = request(&url, "GET", &format!("/v2/jobs/{uuid}"), "");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("Synthesised by mcffixture"));
    let (status, _) = request(&url, "GET", "/v2/jobs/00000000000000000000000000000000", "");
    assert!(status.contains("404"), "{status}");
    let (status, _) = request(&url, "POST", "/v2/search?limit=100&page=100", "{}");
    assert!(status.contains("418"), "{status}");

    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        TcpStream::connect(url.trim_start_matches("http://")).is_err(),
        "still serving after the kill"
    );
}

#[test]
fn flags_poison_one_post_or_the_whole_site_with_a_verification_page() {
    let odd = "76d3310ae51348c561935cb2472f2883";
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcffixture"))
        .args([
            "--fault",
            &format!("detail/{odd}:1+:verify"),
            "--fault",
            "any:5+:verify",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mcffixture starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().to_string();
    let search = |url: &str| {
        request(
            url,
            "POST",
            "/v2/search?limit=1&page=0",
            r#"{"search": "", "categories": []}"#,
        )
    };

    // Request 1: the poisoned post answers 200 with a page, not JSON.
    let (status, body) = request(&url, "GET", &format!("/v2/jobs/{odd}"), "");
    assert!(status.contains("200"), "{status}");
    assert!(body.trim_start().starts_with("<!DOCTYPE html>"), "{body}");
    // Requests 2 and 3: the search and another post answer JSON.
    let (status, body) = search(&url);
    assert!(status.contains("200"), "{status}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let other = page["results"][0]["uuid"].as_str().unwrap().to_string();
    let (_, body) = request(&url, "GET", &format!("/v2/jobs/{other}"), "");
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "{body}");
    // Request 4: the poisoned post again, every time.
    let (_, body) = request(&url, "GET", &format!("/v2/jobs/{odd}"), "");
    assert!(body.contains("verification page"), "{body}");
    // From request 5 on, every route answers the page.
    let (status, body) = search(&url);
    assert!(
        status.contains("200") && body.contains("verification page"),
        "{status} {body}"
    );
    let (_, body) = request(&url, "GET", &format!("/v2/jobs/{other}"), "");
    assert!(body.contains("verification page"), "{body}");

    child.kill().unwrap();
    child.wait().unwrap();
}

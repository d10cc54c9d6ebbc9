//! Copying a container image between registries by digest, over the registry HTTP API (the
//! OCI distribution spec, which ECR and the local `docker-registry` both serve): no Docker
//! engine, no pull into a local store, no rebuild. `promote` uses it to put exactly the image
//! the source environment runs into the target's repository.
//!
//! The copy is content-addressed end to end: the manifest's bytes must hash to the digest
//! asked for, each blob is checked against its digest when it passes through this host, and
//! the target registry must answer with the same digest when the manifest is put. Blobs the
//! target already has are not sent; within one registry they are mounted from the source
//! repository instead of uploaded.

use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde_json::Value;

use crate::artifacts::sha256_hex;

/// Manifest media types we ask for and understand.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// `HOST/REPOSITORY@sha256:HEX`, the way the templates receive an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub host: String,
    pub repository: String,
    pub digest: String,
}

impl ImageRef {
    pub fn parse(reference: &str) -> Result<ImageRef> {
        let (name, digest) = reference
            .split_once('@')
            .ok_or_else(|| anyhow!("image {reference:?} is not pinned by digest (NAME@sha256:…)"))?;
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| anyhow!("image {reference:?}: the digest is not sha256:…"))?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("image {reference:?}: the digest is not 64 hex digits");
        }
        let (host, repository) = name
            .split_once('/')
            .ok_or_else(|| anyhow!("image {reference:?} names no registry host"))?;
        Ok(ImageRef {
            host: host.to_string(),
            repository: repository.to_string(),
            digest: digest.to_string(),
        })
    }

    pub fn text(&self) -> String {
        format!("{}/{}@{}", self.host, self.repository, self.digest)
    }
}

/// A registry and how to log in to it.
#[derive(Debug, Clone)]
pub struct Registry {
    /// `HOST[:PORT]` as in image references.
    pub host: String,
    /// `Authorization` header value (ECR: `Basic <token from GetAuthorizationToken>`).
    pub auth: Option<String>,
}

impl Registry {
    pub fn new(host: &str, auth: Option<String>) -> Registry {
        Registry {
            host: host.to_string(),
            auth,
        }
    }

    /// Plain HTTP for a registry on this host's loopback (the local registry), HTTPS otherwise.
    fn base(&self) -> String {
        let loopback = self.host.starts_with("127.") || self.host.starts_with("localhost");
        format!("{}://{}", if loopback { "http" } else { "https" }, self.host)
    }

    fn request(&self, client: &reqwest::Client, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let r = client.request(method, url);
        match &self.auth {
            Some(a) => r.header(AUTHORIZATION, a),
            None => r,
        }
    }
}

/// What a copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyStats {
    pub manifests: usize,
    /// Blobs the target already held.
    pub blobs_present: usize,
    /// Blobs mounted from the source repository (same registry: no bytes moved).
    pub blobs_mounted: usize,
    /// Blobs sent through this host.
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
}

pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .context("cannot make an HTTP client")
}

/// Copies the image `digest` from `src`/`src_repo` to `dst`/`dst_repo`, and tags it `tag` in
/// the target. Index manifests are copied with every manifest they list.
pub async fn copy(
    src: &Registry,
    src_repo: &str,
    dst: &Registry,
    dst_repo: &str,
    digest: &str,
    tag: &str,
) -> Result<CopyStats> {
    let http = client()?;
    let mut stats = CopyStats::default();
    let same_registry = src.host == dst.host;
    // Depth-first: children before the index that lists them.
    let (bytes, media_type) = get_manifest(&http, src, src_repo, digest).await?;
    let doc: Value = serde_json::from_slice(&bytes).with_context(|| format!("manifest {digest} is not JSON"))?;
    if let Some(children) = doc.get("manifests").and_then(Value::as_array) {
        for child in children {
            let d = child
                .get("digest")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("index {digest} lists a manifest without a digest"))?;
            let (child_bytes, child_type) = get_manifest(&http, src, src_repo, d).await?;
            let child_doc: Value = serde_json::from_slice(&child_bytes)?;
            copy_blobs(
                &http,
                src,
                src_repo,
                dst,
                dst_repo,
                &child_doc,
                same_registry,
                &mut stats,
            )
            .await?;
            put_manifest(&http, dst, dst_repo, d, &child_bytes, &child_type).await?;
            stats.manifests += 1;
        }
    } else {
        copy_blobs(&http, src, src_repo, dst, dst_repo, &doc, same_registry, &mut stats).await?;
    }
    put_manifest(&http, dst, dst_repo, tag, &bytes, &media_type)
        .await
        .and_then(|got| {
            if got.as_deref().is_some_and(|g| g != digest) {
                bail!(
                    "{}/{dst_repo}:{tag}: the registry stored the manifest as {} instead of {digest}",
                    dst.host,
                    got.unwrap_or_default()
                );
            }
            Ok(())
        })?;
    stats.manifests += 1;
    Ok(stats)
}

/// Whether `repo` in `r` holds the manifest `digest` (`HEAD /v2/<repo>/manifests/<digest>`).
pub async fn has_manifest(r: &Registry, repo: &str, digest: &str) -> Result<bool> {
    let http = client()?;
    let url = format!("{}/v2/{repo}/manifests/{digest}", r.base());
    let res = r
        .request(&http, reqwest::Method::HEAD, &url)
        .header(ACCEPT, MANIFEST_TYPES)
        .send()
        .await
        .with_context(|| format!("HEAD {url}"))?;
    match res.status() {
        s if s.is_success() => Ok(true),
        StatusCode::NOT_FOUND => Ok(false),
        s => bail!("HEAD {url}: {s}"),
    }
}

/// The manifest's bytes (checked against `digest`) and media type.
async fn get_manifest(http: &reqwest::Client, r: &Registry, repo: &str, digest: &str) -> Result<(Vec<u8>, String)> {
    let url = format!("{}/v2/{repo}/manifests/{digest}", r.base());
    let res = r
        .request(http, reqwest::Method::GET, &url)
        .header(ACCEPT, MANIFEST_TYPES)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    if !res.status().is_success() {
        bail!(
            "GET {url}: {} {}",
            res.status(),
            res.text().await.unwrap_or_default().trim()
        );
    }
    let media_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/vnd.docker.distribution.manifest.v2+json")
        .to_string();
    let bytes = res.bytes().await.with_context(|| format!("GET {url}"))?.to_vec();
    check_digest(&bytes, digest, &url)?;
    Ok((bytes, media_type))
}

fn check_digest(bytes: &[u8], digest: &str, what: &str) -> Result<()> {
    let got = format!("sha256:{}", sha256_hex(bytes));
    if got != digest {
        bail!("{what}: the content hashes to {got}, not {digest}");
    }
    Ok(())
}

/// The config blob and every layer of a single-platform manifest.
fn blobs_of(manifest: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = manifest.pointer("/config/digest").and_then(Value::as_str) {
        out.push(d.to_string());
    }
    for layer in manifest.get("layers").and_then(Value::as_array).into_iter().flatten() {
        if let Some(d) = layer.get("digest").and_then(Value::as_str) {
            out.push(d.to_string());
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn copy_blobs(
    http: &reqwest::Client,
    src: &Registry,
    src_repo: &str,
    dst: &Registry,
    dst_repo: &str,
    manifest: &Value,
    same_registry: bool,
    stats: &mut CopyStats,
) -> Result<()> {
    for digest in blobs_of(manifest) {
        let head = format!("{}/v2/{dst_repo}/blobs/{digest}", dst.base());
        let res = dst
            .request(http, reqwest::Method::HEAD, &head)
            .send()
            .await
            .with_context(|| format!("HEAD {head}"))?;
        if res.status().is_success() {
            stats.blobs_present += 1;
            continue;
        }
        // Start an upload; within one registry, ask for a mount from the source repository.
        let mut start = format!("{}/v2/{dst_repo}/blobs/uploads/", dst.base());
        if same_registry {
            start.push_str(&format!("?mount={digest}&from={src_repo}"));
        }
        let res = dst
            .request(http, reqwest::Method::POST, &start)
            .send()
            .await
            .with_context(|| format!("POST {start}"))?;
        if res.status() == StatusCode::CREATED {
            stats.blobs_mounted += 1;
            continue;
        }
        if res.status() != StatusCode::ACCEPTED {
            bail!(
                "POST {start}: {} {}",
                res.status(),
                res.text().await.unwrap_or_default().trim()
            );
        }
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow!("POST {start}: no Location for the upload"))?
            .to_string();
        let url = format!("{}/v2/{src_repo}/blobs/{digest}", src.base());
        let got = src
            .request(http, reqwest::Method::GET, &url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !got.status().is_success() {
            bail!("GET {url}: {}", got.status());
        }
        let bytes = got.bytes().await.with_context(|| format!("GET {url}"))?;
        check_digest(&bytes, &digest, &url)?;
        let upload = absolute(&dst.base(), &location);
        let sep = if upload.contains('?') { '&' } else { '?' };
        let put = format!("{upload}{sep}digest={digest}");
        let size = bytes.len() as u64;
        let res = dst
            .request(http, reqwest::Method::PUT, &put)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("PUT {upload}"))?;
        if res.status() != StatusCode::CREATED {
            bail!(
                "uploading {digest} to {}/{dst_repo}: {} {}",
                dst.host,
                res.status(),
                res.text().await.unwrap_or_default().trim()
            );
        }
        stats.blobs_uploaded += 1;
        stats.bytes_uploaded += size;
    }
    Ok(())
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else {
        format!("{base}{location}")
    }
}

/// Puts a manifest under `reference` (a tag or its digest); returns the digest the registry
/// reports.
async fn put_manifest(
    http: &reqwest::Client,
    r: &Registry,
    repo: &str,
    reference: &str,
    bytes: &[u8],
    media_type: &str,
) -> Result<Option<String>> {
    let url = format!("{}/v2/{repo}/manifests/{reference}", r.base());
    let res = r
        .request(http, reqwest::Method::PUT, &url)
        .header(CONTENT_TYPE, media_type)
        .body(bytes.to_vec())
        .send()
        .await
        .with_context(|| format!("PUT {url}"))?;
    if res.status() != StatusCode::CREATED {
        bail!(
            "PUT {url}: {} {}",
            res.status(),
            res.text().await.unwrap_or_default().trim()
        );
    }
    Ok(res
        .headers()
        .get("Docker-Content-Digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_pinned_by_digest_parse_and_others_are_refused() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("127.0.0.1:5000/mcfpipe-dev-mcfscrape@{d}")).unwrap();
        assert_eq!(r.host, "127.0.0.1:5000");
        assert_eq!(r.repository, "mcfpipe-dev-mcfscrape");
        assert_eq!(r.digest, d);
        assert_eq!(r.text(), format!("127.0.0.1:5000/mcfpipe-dev-mcfscrape@{d}"));
        let ecr = ImageRef::parse(&format!(
            "123456789012.dkr.ecr.ap-southeast-1.amazonaws.com/mcfpipe-prod-mcfscrape@{d}"
        ))
        .unwrap();
        assert_eq!(ecr.host, "123456789012.dkr.ecr.ap-southeast-1.amazonaws.com");
        for bad in [
            "mcfpipe-local-mcfscrape:unbuilt",
            "127.0.0.1:5000/x:latest",
            "127.0.0.1:5000/x@sha256:abc",
            "x@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blobs_are_the_config_and_the_layers() {
        let m: Value = serde_json::json!({
            "schemaVersion": 2,
            "config": {"digest": "sha256:c"},
            "layers": [{"digest": "sha256:l1"}, {"digest": "sha256:l2"}]
        });
        assert_eq!(blobs_of(&m), ["sha256:c", "sha256:l1", "sha256:l2"]);
        assert_eq!(
            absolute("http://h", "/v2/r/blobs/uploads/u?x=1"),
            "http://h/v2/r/blobs/uploads/u?x=1"
        );
        assert_eq!(absolute("http://h", "https://o/u"), "https://o/u");
    }
}

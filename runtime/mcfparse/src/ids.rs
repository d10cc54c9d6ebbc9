//! MCF identifiers: the uuid is `md5(jobPostId)` in lower-case hex, and job page URLs end with it.

use md5::{Digest, Md5};

/// `md5(jobPostId)` as MCF computes the post uuid (e.g. MCF-2026-0521403 → 5624187c…).
pub fn uuid_from_job_post_id(job_post_id: &str) -> String {
    Md5::digest(job_post_id.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks that a uuid is 32 hex digits and returns it in lower case.
pub(crate) fn checked_uuid(uuid: &str) -> Result<String, String> {
    if uuid.len() == 32 && uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(uuid.to_ascii_lowercase())
    } else {
        Err(format!("`{uuid}` is not 32 hexadecimal digits"))
    }
}

/// The uuid at the end of an MCF job URL (`…/job/<slug>-<uuid>`, maybe with `?query`).
pub(crate) fn uuid_from_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/');
    let tail = path.rsplit(['/', '-']).next()?;
    checked_uuid(tail).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_md5_of_the_job_post_id() {
        assert_eq!(
            uuid_from_job_post_id("MCF-2026-0521403"),
            "5624187c437fddd00296eecc783ed4cd"
        );
    }

    #[test]
    fn uuid_comes_from_the_end_of_a_job_url() {
        let url = "https://www.mycareersfuture.gov.sg/job/building-construction/engineer-ldrm-enterprises-5624187c437fddd00296eecc783ed4cd?source=MCF";
        assert_eq!(uuid_from_url(url).as_deref(), Some("5624187c437fddd00296eecc783ed4cd"));
        assert_eq!(uuid_from_url("https://www.mycareersfuture.gov.sg"), None);
        assert_eq!(uuid_from_url("https://x/job/a-é"), None);
    }
}

//! The advisory lock that keeps two deploys (or a deploy and a teardown) of one environment
//! from running at once: an object `locks/<env>.json` in the environment's artifact bucket,
//! created only if absent (`PutObject` with `If-None-Match: *`, atomic in S3), naming who holds
//! it, for what, and since when. It is released when the command ends, failed or not; a lock
//! left by a killed process expires after the deploy timeout plus a margin, and
//! `cargo xtask unlock` removes one by hand.
//!
//! Before the artifacts stack exists (the very first deploy creates it) there is no bucket to
//! lock in: that one bootstrap step runs unlocked, and says so.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow, bail};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};

use crate::aws::{Aws, error_code, error_text};
use crate::session::Session;

/// Who holds a lock, and until when it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// `user@host (pid N)`, or `MCFPIPE_LOCK_OWNER` (CI sets it to the pipeline run).
    pub owner: String,
    /// The command holding it (`deploy all`, `teardown all`, `promote`).
    pub command: String,
    pub env: String,
    /// RFC 3339.
    pub since: String,
    pub since_unix: u64,
    /// After this the lock is stale and may be taken over.
    pub expires_unix: u64,
    /// Tells this holder's lock from another's, so a release never deletes someone else's.
    pub token: String,
}

impl Holder {
    pub fn describe(&self) -> String {
        format!(
            "{} ({}) since {} (expires {} s after that)",
            self.owner,
            self.command,
            self.since,
            self.expires_unix.saturating_sub(self.since_unix)
        )
    }
}

/// A held lock; [`Lock::release`] gives it back.
#[derive(Debug)]
pub struct Lock {
    s3: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    pub holder: Holder,
    /// The expired lock this one replaced.
    pub took_over: Option<Holder>,
}

pub fn key(env: &str) -> String {
    format!("locks/{env}.json")
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The owner string for this process.
pub fn owner() -> String {
    if let Some(o) = std::env::var("MCFPIPE_LOCK_OWNER")
        .ok()
        .filter(|o| !o.trim().is_empty())
    {
        return o;
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{user}@{host} (pid {})", std::process::id())
}

/// The bucket the lock lives in, if the artifacts stack is deployed.
pub async fn bucket(s: &Session, aws: &Aws) -> Result<Option<String>> {
    let Some(stack) = s.plan.get("artifacts") else {
        return Ok(None);
    };
    let info = s.cfn(aws).describe(&s.full_name(stack)).await?;
    Ok(info.and_then(|i| i.user_outputs().get("ArtifactBucketName").cloned()))
}

/// Takes the environment's lock for `command`, or fails naming the holder. `None` when there
/// is no artifact bucket yet (bootstrap).
pub async fn acquire(s: &Session, aws: &Aws, command: &str) -> Result<Option<Lock>> {
    let Some(bucket) = bucket(s, aws).await? else {
        s.ui.info(&format!(
            "no artifact bucket in {} yet: this first deploy runs without the deploy lock",
            s.env
        ));
        return Ok(None);
    };
    let ttl = Duration::from_secs(u64::from(s.config.deploy.timeout_minutes) * 60 + 600);
    let lock = take(aws.s3(), &bucket, &s.env, command, &owner(), ttl).await?;
    if let Some(h) = &lock.took_over {
        s.ui.warn(&format!("took over the expired lock of {}", h.describe()));
    }
    s.ui.step(
        "lock",
        &format!("s3://{bucket}/{} held by {}", lock.key, lock.holder.owner),
    );
    Ok(Some(lock))
}

/// Takes `locks/<env>.json` in `bucket`, taking over a stale one.
pub async fn take(
    s3: aws_sdk_s3::Client,
    bucket: &str,
    env: &str,
    command: &str,
    owner: &str,
    ttl: Duration,
) -> Result<Lock> {
    let key = key(env);
    let now = now_unix();
    let holder = Holder {
        owner: owner.to_string(),
        command: command.to_string(),
        env: env.to_string(),
        since: crate::local::now_rfc3339(),
        since_unix: now,
        expires_unix: now + ttl.as_secs(),
        token: format!(
            "{:x}-{:x}",
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
            std::process::id()
        ),
    };
    let body = serde_json::to_vec_pretty(&holder)?;
    let mut took_over = None;
    for attempt in 0..2 {
        let put = s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body.clone()))
            .send()
            .await;
        match put {
            Ok(_) => {
                return Ok(Lock {
                    s3,
                    bucket: bucket.to_string(),
                    key,
                    holder,
                    took_over,
                });
            }
            Err(e)
                if matches!(
                    error_code(&e).as_deref(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) =>
            {
                let current = read(&s3, bucket, &key).await?;
                match current {
                    Some(h) if h.expires_unix > now_unix() => bail!(
                        "environment {env} is locked by {}: another deploy or teardown is running. \
                         Wait for it; if it died, `cargo xtask unlock --env {env}` removes the lock (s3://{bucket}/{key})",
                        h.describe()
                    ),
                    Some(h) if attempt == 0 => {
                        delete(&s3, bucket, &key).await?;
                        took_over = Some(h);
                    }
                    None if attempt == 0 => {} // released in between: try again
                    _ => bail!("cannot take the lock s3://{bucket}/{key}: it keeps changing hands"),
                }
            }
            Err(e) => bail!("cannot take the lock s3://{bucket}/{key}: {}", error_text(&e)),
        }
    }
    bail!("cannot take the lock s3://{bucket}/{key}")
}

/// The current holder of `key`, if any.
pub async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<Holder>> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => {
            let bytes = o
                .body
                .collect()
                .await
                .map_err(|e| anyhow!("reading s3://{bucket}/{key}: {e}"))?
                .into_bytes();
            Ok(Some(serde_json::from_slice(&bytes).map_err(|e| {
                anyhow!("s3://{bucket}/{key} is not a lock document ({e}); remove it with `cargo xtask unlock`")
            })?))
        }
        // The bucket itself goes when a teardown deletes the artifacts stack.
        Err(e)
            if matches!(
                error_code(&e).as_deref(),
                Some("NoSuchKey" | "NotFound" | "NoSuchBucket")
            ) =>
        {
            Ok(None)
        }
        Err(e) => bail!("cannot read the lock s3://{bucket}/{key}: {}", error_text(&e)),
    }
}

async fn delete(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<()> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!("cannot remove the lock s3://{bucket}/{key}: {}", error_text(&e)))?;
    Ok(())
}

impl Lock {
    /// Gives the lock back, if it is still ours.
    pub async fn release(self) -> Result<()> {
        match read(&self.s3, &self.bucket, &self.key).await? {
            Some(h) if h.token == self.holder.token => delete(&self.s3, &self.bucket, &self.key).await,
            Some(h) => bail!(
                "the lock s3://{}/{} is now held by {}: left alone",
                self.bucket,
                self.key,
                h.describe()
            ),
            None => Ok(()),
        }
    }
}

/// Removes the environment's lock whoever holds it; returns who did.
pub async fn force_unlock(s: &Session, aws: &Aws) -> Result<Option<Holder>> {
    let Some(bucket) = bucket(s, aws).await? else {
        return Ok(None);
    };
    let s3 = aws.s3();
    let key = key(&s.env);
    let held = read(&s3, &bucket, &key).await?;
    if held.is_some() {
        delete(&s3, &bucket, &key).await?;
    }
    Ok(held)
}

/// Runs `work` holding the environment's lock, and releases it whatever `work` returns.
pub async fn with_lock<T>(
    s: &Session,
    aws: &Aws,
    command: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let lock = acquire(s, aws, command).await?;
    let result = work.await;
    if let Some(lock) = lock {
        if let Err(e) = lock.release().await {
            s.ui.warn(&format!("{e:#}"));
        }
    }
    result
}

//! Bearer tokens: one per user, only its SHA-256 (hex) stored, as the SSM SecureString
//! `<token path><user>` (`/mcfpipe/dev/crm/tokens/me`). `cargo xtask crm token` makes one and
//! prints it once. A request's token is hashed and compared with every stored hash in constant
//! time; the token is never logged, and neither is its hash.
//!
//! The hashes are read once per execution environment and read again (at most once a minute)
//! when a token matches none of them, so a rotation takes effect without a redeploy.

use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Prefix of every token: tells a leaked one apart in a secret scanner.
pub const TOKEN_PREFIX: &str = "mcfcrm_";

/// How often an unknown token may cause the hashes to be read again.
const RELOAD_EVERY: Duration = Duration::from_secs(60);

/// `/<project>/<env>/crm/tokens/`.
pub fn token_path(project: &str, env: &str) -> String {
    format!("/{project}/{env}/crm/tokens/")
}

/// The parameter holding `user`'s hash.
pub fn parameter_name(token_path: &str, user: &str) -> String {
    format!("{}/{user}", token_path.trim_end_matches('/'))
}

/// A new token: 32 random bytes from the system's generator, base64url, with [`TOKEN_PREFIX`].
pub fn new_token() -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system's random generator failed".to_string())?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The stored form of a token: its SHA-256, lower-case hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a user name may name a parameter: letters, digits, `-`, `_`, `.`, 1 to 64.
pub fn valid_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Equal in time that depends on the length only.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the compiler from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// The user whose stored hash `token` matches, comparing with every hash (no early exit).
pub fn who<'a>(users: &'a [(String, [u8; 32])], token: &str) -> Option<&'a str> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let mut found = None;
    for (user, hash) in users {
        if same(hash, &digest) && found.is_none() {
            found = Some(user.as_str());
        }
    }
    found
}

/// The token of an `Authorization` header; why not, when there is none.
pub fn bearer(header: Option<&str>) -> Result<&str, &'static str> {
    let value = header.ok_or("no Authorization header: send `Authorization: Bearer <token>`")?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or("the Authorization header is not `Bearer <token>`")?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err("the Authorization header is not `Bearer <token>`");
    }
    Ok(token.trim())
}

/// The stored hashes, read from SSM.
pub struct Tokens {
    ssm: aws_sdk_ssm::Client,
    path: String,
    state: Mutex<State>,
}

struct State {
    users: Vec<(String, [u8; 32])>,
    loaded: Option<Instant>,
}

impl Tokens {
    pub fn new(ssm: aws_sdk_ssm::Client, path: impl Into<String>) -> Tokens {
        Tokens {
            ssm,
            path: path.into(),
            state: Mutex::new(State {
                users: Vec::new(),
                loaded: None,
            }),
        }
    }

    /// The user of `token`, reading the hashes when they were never read, or when the token
    /// matches none and they were read over a minute ago. `Err`: SSM could not be read.
    pub async fn user(&self, token: &str) -> Result<Option<String>, String> {
        let mut state = self.state.lock().await;
        if state.loaded.is_some()
            && let Some(user) = who(&state.users, token)
        {
            return Ok(Some(user.to_string()));
        }
        if state.loaded.is_some_and(|at| at.elapsed() < RELOAD_EVERY) {
            return Ok(None);
        }
        state.users = self.load().await?;
        state.loaded = Some(Instant::now());
        Ok(who(&state.users, token).map(str::to_string))
    }

    async fn load(&self) -> Result<Vec<(String, [u8; 32])>, String> {
        let mut users = Vec::new();
        let mut next = None;
        loop {
            let page = self
                .ssm
                .get_parameters_by_path()
                .path(self.path.trim_end_matches('/'))
                .with_decryption(true)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| format!("reading the tokens under {}: {}", self.path, mcfstore::error_text(&e)))?;
            for p in page.parameters() {
                let (Some(name), Some(value)) = (p.name(), p.value()) else {
                    continue;
                };
                let user = name.rsplit('/').next().unwrap_or(name).to_string();
                let mut hash = [0u8; 32];
                // A value that is not a SHA-256 matches nothing.
                if hex::decode_to_slice(value.trim(), &mut hash).is_ok() {
                    users.push((user, hash));
                }
            }
            next = page.next_token;
            if next.is_none() {
                return Ok(users);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_user_only() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43 && a != b);
        let stored = |t: &str| {
            let mut h = [0u8; 32];
            hex::decode_to_slice(token_hash(t), &mut h).unwrap();
            h
        };
        let users = vec![("me".to_string(), stored(&a)), ("you".to_string(), stored(&b))];
        assert_eq!(who(&users, &a), Some("me"));
        assert_eq!(who(&users, &b), Some("you"));
        assert_eq!(who(&users, "mcfcrm_guess"), None);
        assert_eq!(who(&users, &token_hash(&a)), None, "the hash is not a token");
    }

    #[test]
    fn only_bearer_headers_carry_a_token() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Ok("abc"));
        assert!(bearer(None).unwrap_err().contains("no Authorization header"));
        assert!(bearer(Some("Basic abc")).is_err());
        assert!(bearer(Some("Bearer ")).is_err());
        assert!(bearer(Some("abc")).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(token_path("mcfpipe", "dev"), "/mcfpipe/dev/crm/tokens/");
        assert_eq!(
            parameter_name("/mcfpipe/dev/crm/tokens/", "me"),
            "/mcfpipe/dev/crm/tokens/me"
        );
        assert!(valid_user("me") && valid_user("a.b-c_1"));
        assert!(!valid_user("") && !valid_user("a/b") && !valid_user(&"x".repeat(65)));
    }
}

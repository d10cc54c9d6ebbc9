//! The Google service-account key (the JSON file Google's console downloads) and the JWT it
//! signs for the OAuth token endpoint (RFC 7523, RS256, `ring`).
//!
//! The key is a secret: [`ServiceAccountKey`]'s `Debug` shows the account, never the private
//! key, and no error message quotes it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Deserialize;
use serde_json::json;

/// What the sync may do with the workbook: read it.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";
/// Google's token endpoint, when a key names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// How long an assertion is valid (Google accepts at most an hour).
pub const LIFETIME_SECONDS: u64 = 3600;

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// A parsed key, ready to sign.
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key_id: Option<String>,
    pub token_uri: String,
    pair: RsaKeyPair,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"(hidden)")
            .finish()
    }
}

/// Why a key cannot be used. The messages never quote the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Google service-account key {0}")]
pub struct KeyError(pub String);

impl ServiceAccountKey {
    /// The key of a service-account JSON file.
    pub fn parse(json: &str) -> Result<ServiceAccountKey, KeyError> {
        let file: KeyFile = serde_json::from_str(json).map_err(|e| {
            KeyError(format!(
                "is not a JSON object of a service-account key (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if let Some(kind) = file.kind.as_deref().filter(|k| *k != "service_account") {
            return Err(KeyError(format!(
                "is of type `{kind}`, not `service_account`: create a key for a service account (IAM & Admin → Service accounts → Keys → Add key → JSON)"
            )));
        }
        let client_email = file
            .client_email
            .filter(|e| e.contains('@'))
            .ok_or_else(|| KeyError("has no client_email".into()))?;
        let pem = file
            .private_key
            .ok_or_else(|| KeyError(format!("of {client_email} has no private_key")))?;
        let der = pem_body(&pem, "PRIVATE KEY").ok_or_else(|| {
            KeyError(format!(
                "of {client_email}: private_key is not a PEM `BEGIN PRIVATE KEY` block"
            ))
        })?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|e| {
            KeyError(format!(
                "of {client_email}: private_key is not an RSA key in PKCS#8 ({e})"
            ))
        })?;
        Ok(ServiceAccountKey {
            client_email,
            private_key_id: file.private_key_id,
            token_uri: file.token_uri.unwrap_or_else(|| DEFAULT_TOKEN_URI.into()),
            pair,
        })
    }

    /// The signed JWT asking `audience` (the token endpoint) for a token of [`SCOPE`], issued
    /// at `now` (seconds since the epoch).
    pub fn assertion(&self, audience: &str, now: u64) -> Result<String, KeyError> {
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = json!(kid);
        }
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": audience,
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError(format!("of {} cannot sign", self.client_email)))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The public key (PKCS#1 `RSAPublicKey` DER), for a verifier.
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        self.pair.public_key().as_ref().to_vec()
    }
}

/// The DER inside a PEM block labelled `label`; `\n` written as the two characters `\n` (as
/// some tools copy the JSON string) read as newlines.
pub fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let pem = pem.replace("\\n", "\n");
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok()
}

/// Seconds since the epoch.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    const TEST_KEY: &str = include_str!("../../../../tests/fixtures/google/TEST-ONLY-service-account-key.pem");

    fn key_json() -> String {
        json!({
            "type": "service_account",
            "client_email": "sync@test.iam.gserviceaccount.com",
            "private_key_id": "k1",
            "private_key": TEST_KEY,
            "token_uri": "http://127.0.0.1:1/token",
        })
        .to_string()
    }

    #[test]
    fn a_key_signs_a_jwt_its_public_half_verifies() {
        let key = ServiceAccountKey::parse(&key_json()).unwrap();
        assert!(!format!("{key:?}").contains("PRIVATE"), "Debug hides the key");
        let jwt = key.assertion("http://127.0.0.1:1/token", 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "sync@test.iam.gserviceaccount.com");
        assert_eq!(claims["scope"], SCOPE);
        assert_eq!(claims["exp"], 1_700_003_600u64);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}));
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key_der());
        let signed = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
            .unwrap();
        assert!(
            public
                .verify(b"other", &URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
                .is_err()
        );
    }

    #[test]
    fn bad_keys_are_named_without_quoting_them() {
        let bad = |v: serde_json::Value| ServiceAccountKey::parse(&v.to_string()).unwrap_err().to_string();
        assert!(
            ServiceAccountKey::parse("nope")
                .unwrap_err()
                .to_string()
                .contains("not a JSON object")
        );
        assert!(bad(json!({"type": "authorized_user"})).contains("not `service_account`"));
        assert!(bad(json!({"private_key": "x"})).contains("no client_email"));
        let e = bad(
            json!({"client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
        );
        assert!(e.contains("not an RSA key in PKCS#8") && !e.contains("AAAA"), "{e}");
        let escaped = key_json().replace("\\n", "\\\\n");
        assert!(ServiceAccountKey::parse(&escaped).is_ok(), "literal \\n in the PEM");
    }
}

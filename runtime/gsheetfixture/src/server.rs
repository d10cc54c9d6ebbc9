//! The HTTP side: hyper 1 (http1), one task per connection; the token endpoint and the two
//! Sheets API reads.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::{Fault, Shared, lock};

pub(crate) async fn serve(
    listener: TcpListener,
    state: Shared,
    base: String,
    public: Vec<u8>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let public = Arc::new(public);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let (state, base, public) = (state.clone(), base.clone(), public.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let (state, base, public) = (state.clone(), base.clone(), public.clone());
                async move { Ok::<_, Infallible>(handle(req, &state, &base, &public).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

/// Google's API error shape.
fn api_error(code: u16, status: &str, message: &str) -> Response<Full<Bytes>> {
    answer(
        code,
        json!({"error": {"code": code, "message": message, "status": status}}).to_string(),
    )
}

async fn handle(req: Request<Incoming>, state: &Shared, base: &str, public: &[u8]) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if method == Method::POST && path == "/token" {
        return token(state, &format!("{base}/token"), public, &body);
    }
    let Some(rest) = path.strip_prefix("/v4/spreadsheets/") else {
        return api_error(404, "NOT_FOUND", "Requested entity was not found.");
    };
    sheets(state, &method, rest, &query, &auth)
}

/// The JWT-bearer grant.
fn token(state: &Shared, audience: &str, public: &[u8], body: &[u8]) -> Response<Full<Bytes>> {
    let form = form(body);
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut state = lock(state);
    state.token_requests += 1;
    let refuse = |state: &mut crate::State, why: String| {
        state.last_refusal = Some(why.clone());
        answer(
            400,
            json!({"error": "invalid_grant", "error_description": why}).to_string(),
        )
    };
    if get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        let why = format!("unsupported grant_type `{}`", get("grant_type"));
        state.last_refusal = Some(why.clone());
        return answer(
            400,
            json!({"error": "unsupported_grant_type", "error_description": why}).to_string(),
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let email = match verify(&get("assertion"), public, audience, now) {
        Ok(email) => email,
        Err(why) => return refuse(&mut state, why),
    };
    let known = state.workbooks.values().any(|w| w.shared_with.contains(&email)) || email == crate::CLIENT_EMAIL;
    if !known {
        return refuse(&mut state, "Invalid email or User ID".into());
    }
    let token = format!("ya29.fake-{}", state.token_requests);
    state.tokens.insert(token.clone(), email);
    answer(
        200,
        json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}).to_string(),
    )
}

/// Checks an RS256 assertion as Google's token endpoint does; its `iss` when it passes.
pub fn verify(jwt: &str, public: &[u8], audience: &str, now: u64) -> Result<String, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("Invalid JWT: not three dot-separated parts".into());
    };
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "Invalid JWT: not base64url".to_string())
    };
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| "Invalid JWT header".to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("Invalid JWT: alg {} is not RS256", header["alg"]));
    }
    let signed = &jwt[..jwt.rfind('.').unwrap_or(0)];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
        .verify(signed.as_bytes(), &decode(signature)?)
        .map_err(|_| "Invalid JWT Signature.".to_string())?;
    let claims: Value = serde_json::from_slice(&decode(claims)?).map_err(|_| "Invalid JWT claims".to_string())?;
    if claims["aud"] != audience {
        return Err(format!("Invalid JWT: aud {} is not {audience}", claims["aud"]));
    }
    let scope = claims["scope"].as_str().unwrap_or_default();
    if !scope
        .split(' ')
        .any(|s| s.starts_with("https://www.googleapis.com/auth/spreadsheets"))
    {
        return Err(format!("Invalid JWT: scope `{scope}` grants no Sheets access"));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_u64(), claims["exp"].as_u64()) else {
        return Err("Invalid JWT: iat and exp must be numbers".into());
    };
    if exp <= now || iat > now + 300 || exp < iat || exp - iat > 3600 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    claims["iss"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "Invalid JWT: no iss".to_string())
}

fn sheets(state: &Shared, method: &Method, rest: &str, query: &str, auth: &str) -> Response<Full<Bytes>> {
    let mut state = lock(state);
    state.sheets_requests += 1;
    match state.fault {
        Some(Fault::Unauthenticated) => {
            return api_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            );
        }
        Some(Fault::Forbidden) => return api_error(403, "PERMISSION_DENIED", "The caller does not have permission"),
        Some(Fault::NotFound) => return api_error(404, "NOT_FOUND", "Requested entity was not found."),
        Some(Fault::RateLimited { times, retry_after }) if times > 0 => {
            state.fault = Some(Fault::RateLimited {
                times: times - 1,
                retry_after,
            });
            let mut r = api_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user'",
            );
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
            return r;
        }
        Some(Fault::ServerError { times }) if times > 0 => {
            state.fault = Some(Fault::ServerError {
                times: times.saturating_sub(if times == u32::MAX { 0 } else { 1 }),
            });
            return api_error(500, "INTERNAL", "Internal error encountered.");
        }
        Some(Fault::Malformed) => return answer(200, "<html><body>Service Unavailable</body></html>".into()),
        _ => {}
    }
    if method != Method::GET {
        return api_error(405, "INVALID_ARGUMENT", "method not allowed");
    }
    let Some(account) = auth.strip_prefix("Bearer ").and_then(|t| state.tokens.get(t)).cloned() else {
        return api_error(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
        );
    };
    let (id, values) = match rest.split_once('/') {
        Some((id, "values:batchGet")) => (id, true),
        Some(_) => return api_error(404, "NOT_FOUND", "Requested entity was not found."),
        None => (rest, false),
    };
    let Some(workbook) = state.workbooks.get(id) else {
        return api_error(404, "NOT_FOUND", "Requested entity was not found.");
    };
    if !workbook.shared_with.contains(&account) {
        return api_error(403, "PERMISSION_DENIED", "The caller does not have permission");
    }
    if !values {
        let sheets: Vec<Value> = workbook
            .tabs
            .iter()
            .enumerate()
            .map(|(i, (title, tab))| {
                let mut s = json!({"properties": {"sheetId": i, "title": title, "index": i}});
                if !tab.merges.is_empty() {
                    s["merges"] = tab
                        .merges
                        .iter()
                        .map(|(r0, r1, c0, c1)| {
                            json!({"sheetId": i, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0, "endColumnIndex": c1})
                        })
                        .collect();
                }
                s
            })
            .collect();
        return answer(200, json!({"sheets": sheets}).to_string());
    }
    let mut ranges = Vec::new();
    for (k, v) in form(query.as_bytes()) {
        if k != "ranges" {
            continue;
        }
        let title = v
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .map_or(v.clone(), |t| t.replace("''", "'"));
        let Some((_, tab)) = workbook.tabs.iter().find(|(n, _)| *n == title) else {
            return api_error(400, "INVALID_ARGUMENT", &format!("Unable to parse range: {v}"));
        };
        let mut values = tab.values.clone();
        for row in &mut values {
            while row.last().is_some_and(|c| c.is_null() || c == "") {
                row.pop();
            }
        }
        while values.last().is_some_and(Vec::is_empty) {
            values.pop();
        }
        let width = values.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut range = json!({
            "range": format!("{}!A1:{}{}", quoted(&title), column(width - 1), values.len().max(1)),
            "majorDimension": "ROWS",
        });
        if !values.is_empty() {
            range["values"] = json!(values);
        }
        ranges.push(range);
    }
    answer(200, json!({"spreadsheetId": id, "valueRanges": ranges}).to_string())
}

fn quoted(tab: &str) -> String {
    if tab.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        tab.to_string()
    } else {
        format!("'{}'", tab.replace('\'', "''"))
    }
}

fn column(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `application/x-www-form-urlencoded` pairs (a body or a query string).
fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    fn sign(claims: Value) -> String {
        let b64: String = crate::TEST_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    #[test]
    fn assertions_are_verified_by_signature_and_claims() {
        let public = crate::public_key_der();
        let aud = "http://127.0.0.1:1/token";
        let claims = |aud: &str, scope: &str, iat: u64, exp: u64| json!({"iss": "a@b", "aud": aud, "scope": scope, "iat": iat, "exp": exp});
        let scope = "https://www.googleapis.com/auth/spreadsheets.readonly";
        let good = sign(claims(aud, scope, 1000, 4600));
        assert_eq!(verify(&good, &public, aud, 2000), Ok("a@b".into()));
        // Another claim under the same signature.
        let parts: Vec<&str> = good.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims(aud, scope, 1000, 9_999_999).to_string()),
            parts[2]
        );
        assert_eq!(
            verify(&forged, &public, aud, 2000),
            Err("Invalid JWT Signature.".into())
        );
        assert!(
            verify(&good, &public, "http://other/token", 2000)
                .unwrap_err()
                .contains("aud")
        );
        assert!(verify(&good, &public, aud, 5000).unwrap_err().contains("short-lived"));
        let long = sign(claims(aud, scope, 1000, 9000));
        assert!(verify(&long, &public, aud, 2000).unwrap_err().contains("short-lived"));
        let drive = sign(claims(aud, "https://www.googleapis.com/auth/drive", 1000, 4600));
        assert!(verify(&drive, &public, aud, 2000).unwrap_err().contains("scope"));
        assert!(verify("a.b", &public, aud, 2000).is_err());
    }

    #[test]
    fn forms_decode() {
        assert_eq!(
            form(b"grant_type=urn%3Aietf%3Aparams&ranges=%27my+tab%27&x"),
            [
                ("grant_type".to_string(), "urn:ietf:params".to_string()),
                ("ranges".into(), "'my tab'".into()),
                ("x".into(), "".into())
            ]
        );
        assert_eq!(decode("100%"), "100%");
        assert_eq!(column(26), "AA");
    }
}

//! The local server of `cargo xtask crm serve`: the same [`App::handle`] on 127.0.0.1 over
//! HTTP/1.1 (hyper), for the emulator, whose API Gateway runs no Lambda code.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::App;
use crate::http::{Request, Response};
use crate::types::MAX_BODY_BYTES;

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, app: Arc<App>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<Incoming>| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&app, req).await) }
            });
            // A client that goes away mid-request is its own business.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(app: &App, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let mut request = Request::new(parts.method.as_str(), parts.uri.path());
    if let Some(q) = parts.uri.query() {
        request = request.with_query_string(q);
    }
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            request
                .headers
                .insert(name.as_str().to_ascii_lowercase(), v.to_string());
        }
    }
    // Read one byte past the limit, so that an oversize body is refused by the same check
    // as in Lambda rather than cut.
    let response = match Limited::new(body, MAX_BODY_BYTES + 1).collect().await {
        Ok(b) => {
            request.body = b.to_bytes().to_vec();
            app.handle(request).await
        }
        Err(_) => Response::error(
            400,
            "bad_request",
            Some("body"),
            format!("the body is over the limit of {MAX_BODY_BYTES} bytes"),
        ),
    };
    let mut out = hyper::Response::builder().status(response.status);
    for (k, v) in &response.headers {
        out = out.header(k, v);
    }
    out.body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

//! Endpoints passed through to vLLM with the model name mapped: `/v1/completions`
//! (autocomplete, streaming preserved), `/v1/embeddings`, `/tokenize`, `/detokenize`,
//! `/version`. Success bodies stream through untouched; errors are rewritten to the
//! OpenAI shape.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use serde_json::Value;

use super::log::RequestLog;
use super::reply::error_response;
use super::{App, read_json};
use crate::openai::{ApiError, completion_id};

/// Where a pass-through route goes upstream.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// Under the `/v1` base.
    V1(&'static str),
    /// Under the server root (vLLM's own endpoints).
    Root(&'static str),
}

pub(crate) async fn forward(app: Arc<App>, target: Target, request: Request) -> Response {
    let endpoint = match target {
        Target::V1(p) | Target::Root(p) => p,
    };
    let mut log = RequestLog::new(completion_id(), endpoint);
    match send(&app, target, request, &mut log).await {
        Ok(response) => {
            log.status = response.status().as_u16();
            log.finish();
            response
        }
        Err(e) => {
            log.set_error(&e);
            log.finish();
            error_response(&e)
        }
    }
}

async fn send(
    app: &App,
    target: Target,
    request: Request,
    log: &mut RequestLog,
) -> Result<Response, ApiError> {
    let method = request.method().clone();
    let body = if method == Method::POST { Some(read_json(request, app.max_body).await?) } else { None };
    let requested = body.as_ref().and_then(|b| b.get("model")).and_then(Value::as_str);
    let upstream = app.route(requested).await?;
    let mut body = body;
    if let Some(body) = &mut body
        && body.contains_key("model")
    {
        let id = upstream.model_id().await?;
        id.as_ref().clone_into(&mut log.model);
        body.insert("model".into(), Value::String(id.to_string()));
    }
    log.stream = body.as_ref().and_then(|b| b.get("stream")).and_then(Value::as_bool).unwrap_or(false);
    let url = match target {
        Target::V1(path) => format!("{}{path}", upstream.base),
        Target::Root(path) => format!("{}{path}", upstream.root),
    };
    let mut builder = upstream
        .request(if method == Method::POST { reqwest::Method::POST } else { reqwest::Method::GET }, &url);
    if let Some(body) = &body {
        builder = builder.json(body);
    }
    let waited = Instant::now();
    let response = builder.send().await.map_err(|e| upstream.unreachable(&e))?;
    log.upstream += waited.elapsed();
    let status = response.status().as_u16();
    if !response.status().is_success() {
        let bytes = response.bytes().await.unwrap_or_default();
        return Err(upstream.error(status, &bytes));
    }
    let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).cloned();
    // Cut off when the shutdown grace is over, so the connection to vLLM closes.
    let body = response.bytes_stream().take_until(app.closing.clone().cancelled_owned());
    let mut out = Response::new(Body::from_stream(body));
    *out.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(ct) = content_type.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(out)
}

//! Endpoints passed through to vLLM with the model name mapped: `/v1/completions`
//! (autocomplete, streaming preserved), `/v1/embeddings`, `/tokenize`, `/detokenize`,
//! `/version`. They are routed, retried and failed over like chat. Success bodies stream
//! through untouched; errors are rewritten to the OpenAI shape.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use serde_json::Value;

use super::app::{App, read_json};
use super::log::RequestLog;
use super::reply::error_response;
use super::router::Model;
use super::router::dispatch::{self, Answer, Mode, Payload, Target};
use crate::openai::{ApiError, ErrorKind, completion_id};

pub(crate) async fn forward(app: Arc<App>, target: Target, request: Request) -> Response {
    let endpoint = match target {
        Target::V1(p) | Target::Root(p) => p,
        Target::Chat => "chat",
    };
    let mut log = RequestLog::new(&app, completion_id(), endpoint);
    match send(&app, target, request, &mut log).await {
        Ok(answer) => {
            log.status = answer.status;
            respond(&app, answer, log)
        }
        Err(e) => {
            log.set_error(&e);
            log.finish();
            error_response(&e)
        }
    }
}

async fn send(app: &App, target: Target, request: Request, log: &mut RequestLog) -> Result<Answer, ApiError> {
    let method = request.method().clone();
    let body = if method == Method::POST { Some(read_json(app, request).await?) } else { None };
    let requested = match body.as_ref().and_then(|b| b.get("model")) {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.as_str()),
        Some(_) => {
            return Err(ApiError::new(ErrorKind::BadRequest, "`model` must be a string").param("model"));
        }
    };
    let table = app.table();
    let model = table.resolve(requested).await?;
    model.label.clone_into(&mut log.model);
    log.stream = body.as_ref().and_then(|b| b.get("stream")).and_then(Value::as_bool).unwrap_or(false);
    let mut make = |id: &str, _: &Model| -> Result<Bytes, ApiError> {
        let mut body = body.clone().unwrap_or_default();
        body.insert("model".into(), Value::String(id.to_owned()));
        serde_json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot encode the request: {e}")))
    };
    let payload = match &body {
        None => Payload::None,
        Some(map) if map.contains_key("model") => Payload::PerModel(&mut make),
        Some(map) => Payload::Fixed(Bytes::from(serde_json::to_vec(map).unwrap_or_default())),
    };
    let mode = if log.stream { Mode::Stream { peek: app.keepalive } } else { Mode::Whole };
    let answer = dispatch::Request {
        table: &table,
        chain: table.chain(&model),
        affinity: None,
        target,
        method: if method == Method::POST { reqwest::Method::POST } else { reqwest::Method::GET },
        mode,
        payload,
        closing: &app.closing,
        metrics: &app.metrics,
        gate: app.gate.as_deref(),
        loading: None,
    }
    .send()
    .await
    .inspect_err(|_| log.upstream = log.elapsed())?;
    log.upstream += answer.waited;
    log.replica = Some(answer.replica().name.clone());
    answer.model.label.clone_into(&mut log.model);
    Ok(answer)
}

/// The upstream's answer as it came, cut off when the shutdown grace is over (so the
/// connection to vLLM closes). The log line is written when the body ends or is dropped.
fn respond(app: &App, answer: Answer, mut log: RequestLog) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let content_type = answer.content_type.as_ref().and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
    let served = HeaderValue::from_str(&answer.model.label).ok();
    let guard = answer.guard;
    let body = match answer.body {
        dispatch::Body::Whole(bytes) => {
            log.finish();
            drop(guard);
            Body::from(bytes)
        }
        dispatch::Body::Stream { first, rest } => {
            let stream = futures_util::stream::iter(first.map(Ok))
                .chain(rest)
                .take_until(app.closing.clone().cancelled_owned());
            // The replica's in-flight count and the log line live until the body ends;
            // dropped early (the client went away), the line says cancelled.
            let state = (Box::pin(stream), Some(log), guard);
            Body::from_stream(futures_util::stream::unfold(
                state,
                |(mut stream, mut log, guard)| async move {
                    match stream.next().await {
                        Some(Ok(bytes)) => Some((Ok(bytes), (stream, log, guard))),
                        Some(Err(e)) => {
                            if let Some(mut log) = log.take() {
                                log.set_error(&ApiError::new(
                                    ErrorKind::BadGateway,
                                    format!("upstream stream failed: {e}"),
                                ));
                                log.finish();
                            }
                            Some((Err(e), (stream, log, guard)))
                        }
                        None => {
                            if let Some(mut log) = log.take() {
                                log.finish();
                            }
                            None
                        }
                    }
                },
            ))
        }
    };
    let mut out = Response::new(body);
    *out.status_mut() = status;
    if let Some(ct) = content_type {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some(served) = served {
        out.headers_mut().insert("x-podctl-model", served);
    }
    out
}

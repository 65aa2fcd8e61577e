//! The HTTP endpoints of vLLM 0.32's OpenAI-compatible server that the stand-in serves.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Shared;
use super::answer::{Api, Ask, json_response, respond};
use super::validate::{self, ChatRequest, CompletionRequest, Rejection};

/// vLLM's `max_model_len` as reported by `/v1/models` and `/tokenize`.
pub(crate) const MAX_MODEL_LEN: u32 = 32768;
/// Length of every embedding vector.
pub(crate) const EMBEDDING_DIM: usize = 8;

/// Decode a JSON request body, or vLLM's 400. Like FastAPI, a body is read as JSON only
/// without a `Content-Type` or with a JSON one (`application/json`, `…+json`).
fn decode<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, Rejection> {
    let media = headers.get(header::CONTENT_TYPE).map(|v| {
        let v = v.to_str().unwrap_or_default();
        v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
    });
    if media.is_some_and(|m| m != "application/json" && !m.ends_with("+json")) {
        return Err((
            400,
            "body: Input should be a valid dictionary or object to extract fields from".to_owned(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| (400, format!("JSON decode error: {e}")))
}

/// `None` (absent) means the served model, as in vLLM.
fn check_model(shared: &Shared, model: Option<&str>) -> Result<(), Rejection> {
    match model {
        Some(name) if name != shared.config.model => {
            Err((404, format!("The model `{name}` does not exist.")))
        }
        _ => Ok(()),
    }
}

pub(crate) async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if shared.sleeping.load(Ordering::Relaxed) {
        return shared.error(503, "model is sleeping; POST /wake_up first");
    }
    match check_chat(&shared, &headers, &body) {
        Ok(ask) => respond(Arc::clone(&shared), ask, shared.next_reply()).await,
        Err((status, message)) => shared.error(status, &message),
    }
}

fn check_chat(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Ask, Rejection> {
    let req: ChatRequest = decode(headers, body)?;
    let stream = req.stream == Some(true);
    validate::stream_options(stream, req.stream_options.as_ref())?;
    validate::tool_choice_schema(&req)?;
    check_model(shared, req.model.as_deref())?;
    if !shared.config.tool_parser {
        validate::tool_choice_without_parser(&req)?;
    }
    validate::history(&req.messages)?;
    let n = validate::sampling(&req.sampling, body.len())?;
    let include_usage = req.stream_options.and_then(|o| o.include_usage) == Some(true);
    Ok(Ask { api: Api::Chat, stream, include_usage, n })
}

pub(crate) async fn completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match check_completion(&shared, &headers, &body) {
        Ok(ask) => respond(Arc::clone(&shared), ask, shared.next_reply()).await,
        Err((status, message)) => shared.error(status, &message),
    }
}

fn check_completion(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Ask, Rejection> {
    let req: CompletionRequest = decode(headers, body)?;
    let stream = req.stream == Some(true);
    validate::stream_options(stream, req.stream_options.as_ref())?;
    check_model(shared, req.model.as_deref())?;
    let n = validate::sampling(&req.sampling, body.len())?;
    let include_usage = req.stream_options.and_then(|o| o.include_usage) == Some(true);
    Ok(Ask { api: Api::Completion, stream, include_usage, n })
}

/// A JSON body whose `model`, when given, is the served one.
fn decode_for_model(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Value, Rejection> {
    let req: Value = decode(headers, body)?;
    check_model(shared, req.get("model").and_then(Value::as_str))?;
    Ok(req)
}

pub(crate) async fn models(State(shared): State<Arc<Shared>>) -> Response {
    tokio::time::sleep(shared.config.models_delay).await;
    let model = &shared.config.model;
    let permission = json!({"id": "modelperm-0123456789abcdef0123456789abcdef", "object": "model_permission",
        "created": shared.created, "allow_create_engine": false, "allow_sampling": true,
        "allow_logprobs": true, "allow_search_indices": false, "allow_view": true,
        "allow_fine_tuning": false, "organization": "*", "group": null, "is_blocking": false});
    let card = json!({"id": model, "object": "model", "created": shared.created, "owned_by": "vllm",
        "root": model, "parent": null, "max_model_len": MAX_MODEL_LEN, "permission": [permission]});
    json_response(StatusCode::OK, &json!({"object": "list", "data": [card]}))
}

/// Deterministic fake embeddings: one vector per input, derived from the input's bytes.
pub(crate) async fn embeddings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match decode_for_model(&shared, &headers, &body) {
        Ok(req) => req,
        Err((status, message)) => return shared.error(status, &message),
    };
    let inputs: Vec<String> = match &req["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::to_string).collect(),
        _ => return shared.error(400, "Field required: input"),
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| json!({"index": i, "object": "embedding", "embedding": embed(input)}))
        .collect();
    let tokens: usize = inputs.iter().map(String::len).sum();
    let id = format!("embd-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    json_response(
        StatusCode::OK,
        &json!({"id": id, "object": "list", "created": shared.created, "model": shared.config.model,
            "data": data, "usage": {"prompt_tokens": tokens, "total_tokens": tokens,
            "completion_tokens": 0, "prompt_tokens_details": null}}),
    )
}

fn embed(input: &str) -> [f64; EMBEDDING_DIM] {
    // FNV-1a; each of its bytes gives one value in [-0.5, 0.5).
    let hash = input
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    hash.to_le_bytes().map(|b| f64::from(b) / 256.0 - 0.5)
}

/// Byte-level tokens of `prompt` (or of the messages' JSON, then the tools' when given).
pub(crate) async fn tokenize(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match decode_for_model(&shared, &headers, &body) {
        Ok(req) => req,
        Err((status, message)) => return shared.error(status, &message),
    };
    let text = match (&req["prompt"], &req["messages"]) {
        (Value::String(prompt), _) => prompt.clone(),
        // vLLM renders the chat template with the tools, so they count too.
        (_, messages @ Value::Array(_)) => match &req["tools"] {
            tools @ Value::Array(_) => format!("{messages}{tools}"),
            _ => messages.to_string(),
        },
        _ => return shared.error(400, "Field required: prompt or messages"),
    };
    let tokens: Vec<u8> = text.into_bytes();
    json_response(
        StatusCode::OK,
        &json!({"count": tokens.len(), "max_model_len": MAX_MODEL_LEN, "tokens": tokens, "token_strs": null}),
    )
}

/// The inverse of [`tokenize`]: token ids are bytes.
pub(crate) async fn detokenize(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match decode_for_model(&shared, &headers, &body) {
        Ok(req) => req,
        Err((status, message)) => return shared.error(status, &message),
    };
    let Some(ids) = req["tokens"].as_array() else { return shared.error(400, "Field required: tokens") };
    let mut bytes = Vec::with_capacity(ids.len());
    for id in ids {
        match id.as_u64().and_then(|t| u8::try_from(t).ok()) {
            Some(b) => bytes.push(b),
            None => return shared.error(400, &format!("Token id {id} is out of vocabulary")),
        }
    }
    json_response(StatusCode::OK, &json!({"prompt": String::from_utf8_lossy(&bytes)}))
}

pub(crate) async fn version() -> Response {
    json_response(StatusCode::OK, &json!({"version": "0.32.0"}))
}

/// Empty body with the status set by `StandIn::set_health`.
pub(crate) async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let status = StatusCode::from_u16(shared.health.load(Ordering::Relaxed)).unwrap_or(StatusCode::OK);
    status.into_response()
}

/// vLLM's `POST /sleep?level=N` (only with sleep mode and dev mode on, else 404).
pub(crate) async fn sleep(State(shared): State<Arc<Shared>>) -> Response {
    if shared.config.sleep_mode.is_none() {
        return not_found().await;
    }
    shared.sleeping.store(true, Ordering::Relaxed);
    StatusCode::OK.into_response()
}

/// vLLM's `POST /wake_up`: the weights come back after the configured delay.
pub(crate) async fn wake_up(State(shared): State<Arc<Shared>>) -> Response {
    let Some(delay) = shared.config.sleep_mode else { return not_found().await };
    tokio::time::sleep(delay).await;
    shared.sleeping.store(false, Ordering::Relaxed);
    StatusCode::OK.into_response()
}

/// vLLM's `GET /is_sleeping`.
pub(crate) async fn is_sleeping(State(shared): State<Arc<Shared>>) -> Response {
    if shared.config.sleep_mode.is_none() {
        return not_found().await;
    }
    json_response(StatusCode::OK, &json!({"is_sleeping": shared.sleeping.load(Ordering::Relaxed)}))
}

/// FastAPI's answer to an unknown path.
pub(crate) async fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"}))
}

/// FastAPI's answer to a known path with the wrong method.
pub(crate) async fn method_not_allowed() -> Response {
    json_response(StatusCode::METHOD_NOT_ALLOWED, &json!({"detail": "Method Not Allowed"}))
}

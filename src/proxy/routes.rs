//! The route table, `/v1/models` and the health endpoints.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::passthrough::{Target, forward};
use super::reply::{error_response, json_response};
use super::{App, auth, chat};
use crate::openai::{ApiError, ErrorKind, unix_now};

pub(crate) fn router(app: Arc<App>) -> Router {
    let pass = |target: Target| move |State(app): State<Arc<App>>, req: Request| forward(app, target, req);
    let api = Router::new()
        .route("/v1/chat/completions", post(chat::chat))
        .route("/v1/completions", post(pass(Target::V1("/completions"))))
        .route("/v1/embeddings", post(pass(Target::V1("/embeddings"))))
        .route("/tokenize", post(pass(Target::Root("/tokenize"))))
        .route("/detokenize", post(pass(Target::Root("/detokenize"))))
        .route("/version", get(pass(Target::Root("/version"))))
        .route("/v1/models", get(models))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), auth::require_key));
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .method_not_allowed_fallback(method_not_allowed)
        .merge(api)
        .with_state(app)
}

async fn health() -> Response {
    json_response(200, &json!({"status": "ok"}))
}

/// 200 only when every upstream answers its `/health`; else 503 saying why.
async fn ready(State(app): State<Arc<App>>) -> Response {
    let mut problems = Vec::new();
    for model in &app.models {
        let url = format!("{}/health", model.root);
        let result = model.request(reqwest::Method::GET, &url).timeout(Duration::from_secs(3)).send().await;
        match result {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => problems.push(format!(
                "upstream {url} answered HTTP {}{}",
                r.status().as_u16(),
                if r.status().as_u16() == 503 { " (vLLM is still starting)" } else { "" }
            )),
            Err(e) => problems.push(model.unreachable(&e).message),
        }
    }
    if problems.is_empty() {
        let upstreams: Vec<&str> = app.models.iter().map(|m| m.base.as_str()).collect();
        json_response(200, &json!({"status": "ready", "upstreams": upstreams}))
    } else {
        error_response(&ApiError::new(ErrorKind::Unavailable, format!("not ready: {}", problems.join("; "))))
    }
}

/// The served names in OpenAI list shape: each alias, then each upstream id.
async fn models(State(app): State<Arc<App>>) -> Response {
    let mut data: Vec<Value> = Vec::new();
    let mut failure = None;
    for model in &app.models {
        if let Err(e) = model.model_id().await {
            failure = Some(e);
        }
        let entry = model.model_entry();
        let base = entry.clone().unwrap_or_else(|| json!({"object": "model", "created": unix_now()}));
        if let Some(alias) = &model.alias {
            let mut alias_entry = base.clone();
            alias_entry["id"] = json!(alias);
            alias_entry["owned_by"] = json!("podctl");
            data.push(alias_entry);
        }
        if let Some(entry) = entry
            && model.alias.as_deref() != entry.get("id").and_then(Value::as_str)
        {
            data.push(entry);
        }
    }
    match failure {
        // Nothing to list because vLLM cannot be asked: say so instead of an empty list.
        Some(error) if data.is_empty() => error_response(&error),
        _ => json_response(200, &json!({"object": "list", "data": data})),
    }
}

async fn not_found(request: Request) -> Response {
    error_response(&ApiError::new(
        ErrorKind::NotFound,
        format!("no route for {} {}", request.method(), request.uri().path()),
    ))
}

async fn method_not_allowed(request: Request) -> Response {
    let mut error = ApiError::new(
        ErrorKind::BadRequest,
        format!("{} is not allowed on {}", request.method(), request.uri().path()),
    );
    error.status = 405;
    error_response(&error)
}

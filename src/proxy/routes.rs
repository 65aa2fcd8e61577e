//! The route table, `/v1/models` and the health endpoints.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use axum::http::{HeaderValue, header};

use super::app::App;
use super::auth;
use super::metrics::{self, ReplicaGauge};
use super::passthrough::forward;
use super::reply::{error_response, json_response};
use super::router::dispatch::Target;
use super::router::{self, Outcome};
use super::serve::serve;
use super::wire::chat::ChatApi;
use super::wire::messages::{MessagesApi, count::count_tokens};
use super::wire::responses::ResponsesApi;
use crate::openai::{ApiError, ErrorKind, unix_now};

pub(crate) fn router(app: Arc<App>) -> Router {
    let pass = |target: Target| move |State(app): State<Arc<App>>, req: Request| forward(app, target, req);
    let api = Router::new()
        .route("/v1/chat/completions", post(|state, request| serve(&ChatApi, state, request)))
        .route("/v1/messages", post(|state, request| serve(&MessagesApi, state, request)))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/responses", post(|state, request| serve(&ResponsesApi, state, request)))
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
        .route("/metrics", get(metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .merge(api)
        .with_state(app)
}

async fn health() -> Response {
    json_response(200, &json!({"status": "ok"}))
}

/// 200 when every model has a replica whose `/health` answers now; else 503 saying why.
async fn ready(State(app): State<Arc<App>>) -> Response {
    let table = app.table();
    let mut problems = Vec::new();
    let mut upstreams = Vec::new();
    for model in &table.models {
        let probes = model
            .replicas
            .iter()
            .map(|r| async move { (r, router::probe::probe(r, Duration::from_secs(3)).await) });
        let results = futures_util::future::join_all(probes).await;
        let mut why = Vec::new();
        for (replica, outcome) in results {
            match outcome {
                Outcome::Ok => upstreams.push(replica.base.clone()),
                Outcome::Starting => {
                    why.push(format!("{} answered HTTP 503 (vLLM is still starting)", replica.base));
                }
                Outcome::Unreachable(e) | Outcome::Failed(e) => why.push(format!(
                    "upstream {} {e}. Is vLLM running? Check with `podctl status`",
                    replica.base
                )),
            }
        }
        if !model.replicas.iter().any(|r| upstreams.contains(&r.base)) {
            problems.push(format!("model `{}`: {}", model.label, why.join("; ")));
        }
    }
    if problems.is_empty() {
        json_response(200, &json!({"status": "ready", "upstreams": upstreams}))
    } else {
        error_response(&ApiError::new(ErrorKind::Unavailable, format!("not ready: {}", problems.join("; "))))
    }
}

/// Prometheus metrics (behind the key unless `metrics_public`).
async fn metrics(State(app): State<Arc<App>>, request: Request) -> Response {
    let table = app.table();
    if !table.metrics_public
        && let Err(refused) = auth::check(&table.keys, request.headers(), request.uri().path())
    {
        return *refused;
    }
    let now = std::time::Instant::now();
    let gauges: Vec<ReplicaGauge> = table
        .models
        .iter()
        .flat_map(|m| {
            m.replicas.iter().map(move |r| ReplicaGauge {
                model: m.label.clone(),
                replica: r.name.clone(),
                in_flight: u64::from(r.in_flight()),
                state: r.state(now),
                cooldown_remaining: r.cooldown_left(now),
            })
        })
        .collect();
    let mut text = app.metrics.render(&gauges);
    if let Some(gate) = &app.gate {
        text.push_str(&gate.metrics());
    }
    let mut response = Response::new(axum::body::Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
    response
}

/// The served names in OpenAI list shape: each name and alias, then each upstream id.
async fn models(State(app): State<Arc<App>>) -> Response {
    let table = app.table();
    let mut data: Vec<Value> = Vec::new();
    let mut failure = None;
    let states = app.gate.as_ref().map(|g| g.states()).unwrap_or_default();
    for model in &table.models {
        // A model started on demand is listed with its load state; only a ready one is asked.
        let state = states.iter().find(|s| s.name == model.label);
        if state.is_none_or(|s| s.state == "ready")
            && let Err(e) = model.model_id().await
        {
            failure = Some(e);
        }
        let entry = model.model_entry().map(|mut e| {
            if let Some(s) = state {
                super::gate::annotate(&mut e, s);
            }
            e
        });
        let base = entry.clone().unwrap_or_else(|| {
            let mut e = json!({"object": "model", "created": unix_now()});
            if let Some(s) = state {
                super::gate::annotate(&mut e, s);
            }
            e
        });
        for name in model.listed_names() {
            let mut alias_entry = base.clone();
            alias_entry["id"] = json!(name);
            alias_entry["owned_by"] = json!("podctl");
            data.push(alias_entry);
        }
        if let Some(entry) = entry
            && !entry.get("id").and_then(Value::as_str).is_some_and(|id| model.answers_to(id))
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
    super::wire::for_path(request.uri().path()).error_response(&ApiError::new(
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
    super::wire::for_path(request.uri().path()).error_response(&error)
}

//! `POST /v1/messages/count_tokens`: the request converted exactly as for generating, then
//! vLLM's `/tokenize` on its messages and tools (the chat template applied, as for the
//! prompt), answered as `{input_tokens: N}`. Routed and failed over like any request.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::convert::{Purpose, to_chat};
use super::{Api as _, MessagesApi, error, invalid, request};
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::app::{App, read_body};
use crate::proxy::log::RequestLog;
use crate::proxy::reply::bytes_response;
use crate::proxy::router::Model;
use crate::proxy::router::dispatch::{self, Body, Mode, Payload, Target};
use crate::proxy::wire::to_chat::{MessageOut, ToolsJson};

/// vLLM's `/tokenize` request for a chat.
#[derive(Serialize)]
struct Tokenize<'a> {
    model: &'a str,
    messages: &'a [MessageOut<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a ToolsJson>,
    add_generation_prompt: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_template_kwargs: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Tokenized {
    count: u64,
}

/// Answers one `count_tokens` request.
pub(crate) async fn count_tokens(State(app): State<Arc<App>>, request: Request) -> Response {
    let mut log = RequestLog::new(&app, MessagesApi.response_id(), "count_tokens");
    match count(&app, request, &mut log).await {
        Ok(n) => {
            log.status = 200;
            log.finish();
            bytes_response(200, format!("{{\"input_tokens\":{n}}}").into_bytes())
        }
        Err(e) => {
            log.set_error(&e);
            log.finish();
            error::response(&e)
        }
    }
}

async fn count(app: &App, request: Request, log: &mut RequestLog) -> Result<u64, ApiError> {
    let bytes = read_body(app, request).await?;
    let parsed = request::parse(&bytes).map_err(|e| ApiError::new(ErrorKind::BadRequest, invalid(&e)))?;
    let chat = to_chat(parsed, Purpose::Count)?;
    let table = app.table();
    let model = table.resolve(chat.model.as_deref()).await?;
    model.label.clone_into(&mut log.model);
    let kwargs = chat.extras.get("chat_template_kwargs");
    let mut make = |id: &str, _: &Model| -> Result<Bytes, ApiError> {
        let body = Tokenize {
            model: id,
            messages: &chat.messages,
            tools: chat.tools.as_ref(),
            add_generation_prompt: true,
            chat_template_kwargs: kwargs,
        };
        serde_json::to_vec(&body).map(Bytes::from).map_err(|e| {
            ApiError::new(ErrorKind::Internal, format!("cannot write the tokenize request: {e}"))
        })
    };
    let answer = dispatch::Request {
        table: &table,
        chain: table.chain(&model),
        affinity: None,
        target: Target::Root("/tokenize"),
        method: reqwest::Method::POST,
        mode: Mode::Whole,
        payload: Payload::PerModel(&mut make),
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
    let Body::Whole(body) = &answer.body else {
        return Err(ApiError::new(ErrorKind::Internal, "expected a whole answer from /tokenize"));
    };
    serde_json::from_slice::<Tokenized>(body).map(|t| t.count).map_err(|e| {
        ApiError::new(ErrorKind::BadGateway, format!("upstream /tokenize answered without a `count` ({e})"))
    })
}
